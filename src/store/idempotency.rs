//! Remembered answers to creating requests that carried an `Idempotency-Key`.
//!
//! The lookup and the record happen inside the same write job as the creation, so a retry
//! racing the first attempt is serialised by the writer and can never create twice.

use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, ts};

/// The first answer given for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    pub route: String,
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

pub fn lookup(
    conn: &Connection,
    user_id: i64,
    key: &str,
) -> Result<Option<Remembered>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT route, request_hash, status, body FROM idempotency WHERE user_id = ?1 AND key = ?2")?
        .query_row(params![user_id, key], |r| {
            Ok(Remembered { route: r.get(0)?, request_hash: r.get(1)?, status: r.get(2)?, body: r.get(3)? })
        })
        .optional()?)
}

pub fn record(
    conn: &Connection,
    user_id: i64,
    key: &str,
    answer: &Remembered,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO idempotency (user_id, key, route, request_hash, status, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![user_id, key, answer.route, answer.request_hash, answer.status, answer.body, ts(at)])?;
    Ok(())
}
