//! The change log: one row per committed change, its `seq` strictly increasing. It feeds the
//! SSE stream (`id:` = seq), batch catch-up (`/changes?since=`) and client sync.

use rusqlite::{Connection, params};

use super::{StoreError, WriteCtx, parse_ts, ts};
use crate::domain::ticket::TicketId;
pub use crate::domain::view::Change;

/// Appends a change inside the current write; subscribers see it once the batch commits.
pub fn append(
    ctx: &mut WriteCtx<'_>,
    kind: &str,
    ticket_id: Option<TicketId>,
    actor: &str,
    data: serde_json::Value,
) -> Result<i64, StoreError> {
    ctx.conn
        .prepare_cached(
            "INSERT INTO changes (at, kind, ticket_id, actor, data) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            ts(ctx.now),
            kind,
            ticket_id,
            actor,
            data.to_string()
        ])?;
    let seq = ctx.conn.last_insert_rowid();
    ctx.published(Change {
        seq,
        at: ctx.now,
        kind: kind.to_string(),
        ticket_id,
        actor: actor.to_string(),
        data,
    });
    Ok(seq)
}

/// Changes after `since`, oldest first, at most `limit`.
pub fn since(conn: &Connection, since: i64, limit: usize) -> Result<Vec<Change>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, kind, ticket_id, actor, data FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![since, limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(Change {
            seq: r.get(0)?,
            at: parse_ts(&r.get::<_, String>(1)?)?,
            kind: r.get(2)?,
            ticket_id: r.get(3)?,
            actor: r.get(4)?,
            data: serde_json::from_str(&r.get::<_, String>(5)?)
                .map_err(|e| StoreError::Corrupt(format!("change data: {e}")))?,
        });
    }
    Ok(out)
}

/// The newest sequence number, 0 when nothing happened yet.
pub fn latest(conn: &Connection) -> Result<i64, StoreError> {
    Ok(
        conn.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
            r.get(0)
        })?,
    )
}
