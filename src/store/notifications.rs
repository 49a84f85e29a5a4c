//! The notification queue. Rows are written by the service in the same transaction as the
//! change they tell about (so a committed change always has its notifications and a rolled
//! back one never does) and worked off later by the server's notify worker, which reads due
//! rows and writes back each attempt's outcome. Delivered rows are pruned after a while;
//! given-up rows are kept with their last error.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::{StoreError, parse_ts, ts};
use crate::domain::notify::ChannelKind;
use crate::domain::ticket::TicketId;

/// Longest `last_error` kept, in characters.
const MAX_ERROR_CHARS: usize = 500;

/// A notification to queue.
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub channel: ChannelKind,
    /// Which configured endpoint of the channel (see the service's `notify` module).
    pub target: &'a str,
    /// What happened, as the webhook names it (`ticket.created`, `monitor.alert`).
    pub event: &'a str,
    pub ticket_id: Option<TicketId>,
    /// The rendered message, exactly as it will be sent.
    pub payload: &'a serde_json::Value,
}

/// Queues `n`, due at once.
pub fn enqueue(
    conn: &Connection,
    n: &NewNotification<'_>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO notifications (channel, target, event, ticket_id, payload, created_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![
        n.channel.as_str(),
        n.target,
        n.event,
        n.ticket_id,
        n.payload.to_string(),
        ts(now),
    ])?;
    Ok(conn.last_insert_rowid())
}

/// A queued notification that is due.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub id: i64,
    pub channel: String,
    pub target: String,
    pub event: String,
    pub ticket_id: Option<TicketId>,
    pub payload: String,
    pub created_at: DateTime<Utc>,
    /// Attempts made so far.
    pub attempts: u32,
}

/// Unsent notifications due at `now`, the longest-waiting first, at most `limit`.
pub fn due(
    conn: &Connection,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<Pending>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, channel, target, event, ticket_id, payload, created_at, attempts
         FROM notifications
         WHERE sent_at IS NULL AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?1
         ORDER BY next_attempt_at, id LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![ts(now), limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(Pending {
            id: r.get(0)?,
            channel: r.get(1)?,
            target: r.get(2)?,
            event: r.get(3)?,
            ticket_id: r.get(4)?,
            payload: r.get(5)?,
            created_at: parse_ts(&r.get::<_, String>(6)?)?,
            attempts: r.get::<_, i64>(7)?.clamp(0, i64::from(u32::MAX)) as u32,
        });
    }
    Ok(out)
}

/// Records a delivery.
pub fn mark_sent(conn: &Connection, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE notifications SET sent_at = ?2, attempts = attempts + 1, next_attempt_at = NULL
         WHERE id = ?1 AND sent_at IS NULL",
    )?
    .execute(params![id, ts(at)])?;
    Ok(())
}

/// Records a failed attempt: the next one at `next`, or given up when None.
pub fn mark_failed(
    conn: &Connection,
    id: i64,
    error: &str,
    next: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
    conn.prepare_cached(
        "UPDATE notifications SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
         WHERE id = ?1 AND sent_at IS NULL",
    )?
    .execute(params![id, error, next.map(ts)])?;
    Ok(())
}

/// Unsent notifications by state, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Queued, not tried yet.
    pub pending: u64,
    /// Tried and failed, to be tried again.
    pub retrying: u64,
    /// Given up.
    pub failed: u64,
}

pub fn counts(conn: &Connection) -> Result<Counts, StoreError> {
    let (pending, retrying, failed): (i64, i64, i64) = conn.query_row(
        "SELECT coalesce(sum(next_attempt_at IS NOT NULL AND attempts = 0), 0),
                coalesce(sum(next_attempt_at IS NOT NULL AND attempts > 0), 0),
                coalesce(sum(next_attempt_at IS NULL), 0)
         FROM notifications WHERE sent_at IS NULL",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let n = |v: i64| v.max(0) as u64;
    Ok(Counts {
        pending: n(pending),
        retrying: n(retrying),
        failed: n(failed),
    })
}

/// Deletes delivered notifications sent before `before`; returns how many.
pub fn prune_sent(conn: &Connection, before: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM notifications WHERE sent_at IS NOT NULL AND sent_at < ?1")?
        .execute([ts(before)])?)
}

/// One stored notification, as tests and diagnostics read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: i64,
    pub channel: String,
    pub event: String,
    pub ticket_id: Option<TicketId>,
    pub payload: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Every stored notification, oldest first.
pub fn all(conn: &Connection) -> Result<Vec<Row>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, channel, event, ticket_id, payload, attempts, last_error, sent_at, next_attempt_at
         FROM notifications ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(Row {
            id: r.get(0)?,
            channel: r.get(1)?,
            event: r.get(2)?,
            ticket_id: r.get(3)?,
            payload: r.get(4)?,
            attempts: r.get::<_, i64>(5)?.clamp(0, i64::from(u32::MAX)) as u32,
            last_error: r.get(6)?,
            sent_at: super::parse_opt_ts(r.get(7)?)?,
            next_attempt_at: super::parse_opt_ts(r.get(8)?)?,
        });
    }
    Ok(out)
}
