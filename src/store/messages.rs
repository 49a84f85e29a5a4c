//! The `messages` table.

use rusqlite::{Connection, Row, params};

use super::{StoreError, parse_ts, ts};
use crate::domain::message::Message;
use crate::domain::people::Role;
use crate::domain::ticket::TicketId;

fn from_row(r: &Row<'_>) -> Result<Message, StoreError> {
    let role: String = r.get(3)?;
    Ok(Message {
        id: r.get(0)?,
        ticket_id: r.get(1)?,
        author: r.get(2)?,
        author_role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("role '{role}'")))?,
        internal: r.get(4)?,
        body: r.get(5)?,
        created_at: parse_ts(&r.get::<_, String>(6)?)?,
    })
}

/// Inserts `m` (its `id` is ignored) and returns it with its id.
pub fn insert(conn: &Connection, m: &Message) -> Result<Message, StoreError> {
    conn.prepare_cached(
        "INSERT INTO messages (ticket_id, author, author_role, internal, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![m.ticket_id, m.author, m.author_role.as_str(), m.internal, m.body, ts(m.created_at)])?;
    Ok(Message {
        id: conn.last_insert_rowid(),
        ..m.clone()
    })
}

/// The messages of a ticket in order; internal notes only when `with_internal`.
pub fn for_ticket(
    conn: &Connection,
    ticket: TicketId,
    with_internal: bool,
) -> Result<Vec<Message>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, ticket_id, author, author_role, internal, body, created_at FROM messages \
         WHERE ticket_id = ?1 AND (?2 OR internal = 0) ORDER BY id",
    )?;
    let mut rows = stmt.query(params![ticket, with_internal])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(r)?);
    }
    Ok(out)
}

/// How many messages a ticket has (internal notes only when `with_internal`).
pub fn count(conn: &Connection, ticket: TicketId, with_internal: bool) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM messages WHERE ticket_id = ?1 AND (?2 OR internal = 0)",
        )?
        .query_row(params![ticket, with_internal], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}
