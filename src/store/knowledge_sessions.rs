//! Knowledge sessions as the team recorded them (see `domain::report::session`).

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{StoreError, parse_ts, ts};
use crate::domain::report::{KnowledgeSession, NewSession};

const COLUMNS: &str = "id, version, held_on, topic, systems, kb_articles, live_viewers, \
                       total_views, recorded_by, created_at, updated_at";

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<(KnowledgeSession, [String; 5])> {
    let count = |i: usize| -> rusqlite::Result<Option<u64>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(|v| v.max(0) as u64))
    };
    Ok((
        KnowledgeSession {
            id: r.get(0)?,
            version: r.get(1)?,
            held_on: NaiveDate::MIN,
            topic: r.get(3)?,
            systems: Vec::new(),
            kb_articles: Vec::new(),
            live_viewers: count(6)?,
            total_views: count(7)?,
            recorded_by: r.get(8)?,
            created_at: DateTime::<Utc>::MIN_UTC,
            updated_at: DateTime::<Utc>::MIN_UTC,
        },
        [r.get(2)?, r.get(4)?, r.get(5)?, r.get(9)?, r.get(10)?],
    ))
}

/// The columns that need more than a plain read, read and checked.
fn finish(
    (mut s, [held_on, systems, articles, created, updated]): (KnowledgeSession, [String; 5]),
) -> Result<KnowledgeSession, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("knowledge session {}: {what}", s.id));
    s.held_on = held_on.parse().map_err(|_| corrupt("held_on"))?;
    s.systems = serde_json::from_str(&systems).map_err(|_| corrupt("systems"))?;
    s.kb_articles = serde_json::from_str(&articles).map_err(|_| corrupt("kb_articles"))?;
    s.created_at = parse_ts(&created)?;
    s.updated_at = parse_ts(&updated)?;
    Ok(s)
}

pub fn insert(
    conn: &Connection,
    new: &NewSession,
    recorded_by: &str,
    at: DateTime<Utc>,
) -> Result<KnowledgeSession, StoreError> {
    conn.prepare_cached(
        "INSERT INTO knowledge_sessions (version, held_on, topic, systems, kb_articles, \
         live_viewers, total_views, recorded_by, created_at, updated_at) \
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    )?
    .execute(params![
        new.held_on.to_string(),
        new.topic,
        json(&new.systems)?,
        json(&new.kb_articles)?,
        new.live_viewers,
        new.total_views,
        recorded_by,
        ts(at)
    ])?;
    get(conn, conn.last_insert_rowid())?
        .ok_or_else(|| StoreError::Corrupt("a session just inserted is gone".into()))
}

/// Replaces session `id`'s fields with `new`, a version up.
pub fn update(
    conn: &Connection,
    id: i64,
    new: &NewSession,
    at: DateTime<Utc>,
) -> Result<KnowledgeSession, StoreError> {
    conn.prepare_cached(
        "UPDATE knowledge_sessions SET version = version + 1, held_on = ?2, topic = ?3, \
         systems = ?4, kb_articles = ?5, live_viewers = ?6, total_views = ?7, updated_at = ?8 \
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        new.held_on.to_string(),
        new.topic,
        json(&new.systems)?,
        json(&new.kb_articles)?,
        new.live_viewers,
        new.total_views,
        ts(at)
    ])?;
    get(conn, id)?.ok_or_else(|| StoreError::Corrupt(format!("session {id} vanished")))
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<KnowledgeSession>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM knowledge_sessions WHERE id = ?1"
    ))?
    .query_row([id], from_row)
    .optional()?
    .map(finish)
    .transpose()
}

/// The sessions held on `[from, to]`, newest first, at most `limit`.
pub fn held_between(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
    limit: usize,
) -> Result<Vec<KnowledgeSession>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM knowledge_sessions WHERE held_on >= ?1 AND held_on <= ?2 \
         ORDER BY held_on DESC, id DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(
        params![from.to_string(), to.to_string(), limit as i64],
        from_row,
    )?;
    rows.map(|r| finish(r?)).collect()
}
