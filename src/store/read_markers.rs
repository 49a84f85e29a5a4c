//! How far each user has read each ticket's conversation, for unread badges.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, ts};
use crate::domain::ticket::TicketId;

/// The last message `user_id` has read on `ticket`, 0 when none.
pub fn get(conn: &Connection, user_id: i64, ticket: TicketId) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT message_id FROM read_markers WHERE user_id = ?1 AND ticket_id = ?2",
        )?
        .query_row(params![user_id, ticket], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Moves the marker forward to `message_id`; never backwards, so an old tab cannot un-read.
pub fn advance(
    conn: &Connection,
    user_id: i64,
    ticket: TicketId,
    message_id: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO read_markers (user_id, ticket_id, message_id, read_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (user_id, ticket_id) DO UPDATE SET message_id = max(message_id, ?3), read_at = ?4",
    )?
    .execute(params![user_id, ticket, message_id, ts(at)])?;
    Ok(())
}

/// Messages on `ticket` after the user's marker that someone else wrote and the user may see
/// (`with_internal` for handlers).
pub fn unread(
    conn: &Connection,
    user_id: i64,
    username: &str,
    ticket: TicketId,
    with_internal: bool,
) -> Result<u32, StoreError> {
    let marker = get(conn, user_id, ticket)?;
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM messages WHERE ticket_id = ?1 AND id > ?2 AND author <> ?3 AND (?4 OR internal = 0)",
        )?
        .query_row(params![ticket, marker, username, with_internal], |r| r.get(0))?)
}
