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
/// Reading what was already read writes nothing (every page view marks).
pub fn advance(
    conn: &Connection,
    user_id: i64,
    ticket: TicketId,
    message_id: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO read_markers (user_id, ticket_id, message_id, read_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (user_id, ticket_id) DO UPDATE SET message_id = ?3, read_at = ?4 \
         WHERE ?3 > message_id",
    )?
    .execute(params![user_id, ticket, message_id, ts(at)])?;
    Ok(())
}

/// Whose messages count as unread for a reader: handlers follow what submitters write (their
/// colleagues' replies are not news to act on); a submitter follows the handlers' public
/// answers.
const FROM_THE_OTHER_SIDE: &str = "CASE WHEN ?3 THEN m.author_role = 'submitter' \
     ELSE m.author <> ?2 AND m.internal = 0 END";

/// Messages on `ticket` after the user's marker that came from the other side (see above).
pub fn unread(
    conn: &Connection,
    user_id: i64,
    username: &str,
    ticket: TicketId,
    works_tickets: bool,
) -> Result<u32, StoreError> {
    let marker = get(conn, user_id, ticket)?;
    Ok(conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM messages m WHERE m.ticket_id = ?1 AND m.id > ?4 AND {FROM_THE_OTHER_SIDE}"
        ))?
        .query_row(params![ticket, username, works_tickets, marker], |r| r.get(0))?)
}

/// Which tickets' unread messages count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnreadScope {
    /// Open tickets only (not resolved, not closed): what handlers still work on.
    Open,
    /// Every ticket but the closed ones: an answered ticket still asks for its submitter's
    /// word, a closed one asks nothing more.
    NotClosed,
}

/// Every ticket the reader may see with unread messages, and how many: handlers see all
/// tickets, a submitter their own, within `scope`.
pub fn unread_by_ticket(
    conn: &Connection,
    user_id: i64,
    username: &str,
    works_tickets: bool,
    scope: UnreadScope,
) -> Result<Vec<(TicketId, u32)>, StoreError> {
    let left_out = match scope {
        UnreadScope::Open => "('resolved', 'closed')",
        UnreadScope::NotClosed => "('closed')",
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT m.ticket_id, count(*) FROM messages m \
         JOIN tickets t ON t.id = m.ticket_id \
         LEFT JOIN read_markers r ON r.user_id = ?1 AND r.ticket_id = m.ticket_id \
         WHERE t.status NOT IN {left_out} AND (?3 OR t.submitter = ?2) \
         AND m.id > coalesce(r.message_id, 0) AND {FROM_THE_OTHER_SIDE} \
         GROUP BY m.ticket_id ORDER BY m.ticket_id"
    ))?;
    let rows = stmt.query_map(params![user_id, username, works_tickets], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
