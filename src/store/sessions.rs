//! Browser sessions of the MSS pages, and the wrong-password record behind the login backoff.
//!
//! A session id is 32 random bytes in the cookie and only its SHA-256 here, like API tokens.
//! Each session carries its own CSRF token (synchronizer pattern) for every form it posts.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::users::{self, User};
use super::{StoreError, parse_ts, random_hex, secret_hash, ts};

/// A live session as a page request sees it.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// A new session's secrets: the cookie value (never stored) and its CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub csrf_token: String,
}

/// Opens a session for `user`. The id is new at every login, so a session id planted before
/// login (fixation) is worthless.
pub fn create(conn: &Connection, user: &User, at: DateTime<Utc>) -> Result<NewSession, StoreError> {
    let new = NewSession {
        id: random_hex(32)?,
        csrf_token: random_hex(24)?,
    };
    conn.prepare_cached(
        "INSERT INTO web_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![secret_hash(&new.id), user.id, new.csrf_token, ts(at)])?;
    Ok(new)
}

/// The session behind a cookie value, if it exists and its user is still enabled.
pub fn get(conn: &Connection, id: &str) -> Result<Option<Session>, StoreError> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    // The user's columns come first, in the order `users::from_row` reads them.
    let row = conn
        .prepare_cached(
            "SELECT u.id, u.username, u.display_name, u.role, u.city, s.csrf_token, s.created_at, s.last_seen_at \
             FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?1 AND u.disabled = 0",
        )?
        .query_row([secret_hash(id)], |r| {
            Ok((
                users::from_row(r),
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
            ))
        })
        .optional()?;
    let Some((user, csrf_token, created, seen)) = row else {
        return Ok(None);
    };
    Ok(Some(Session {
        user: user?,
        csrf_token,
        created_at: parse_ts(&created)?,
        last_seen_at: parse_ts(&seen)?,
    }))
}

/// Records activity, which keeps the session from idling out.
pub fn touch(conn: &Connection, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE web_sessions SET last_seen_at = ?2 WHERE id_hash = ?1")?
        .execute(params![secret_hash(id), ts(at)])?;
    Ok(())
}

/// Ends a session (logout); an unknown id is already ended.
pub fn delete(conn: &Connection, id: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM web_sessions WHERE id_hash = ?1")?
        .execute([secret_hash(id)])?;
    Ok(())
}

/// Drops sessions idle since `idle_before` or opened before `opened_before`.
pub fn delete_expired(
    conn: &Connection,
    idle_before: DateTime<Utc>,
    opened_before: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM web_sessions WHERE last_seen_at < ?1 OR created_at < ?2")?
        .execute(params![ts(idle_before), ts(opened_before)])?)
}

/// Wrong passwords given for one username since the last successful login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

pub fn failures(conn: &Connection, username: &str) -> Result<Option<Failures>, StoreError> {
    let row: Option<(u32, Option<String>)> = conn
        .prepare_cached("SELECT failures, locked_until FROM login_failures WHERE username = ?1")?
        .query_row([username], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(count, locked)| {
        Ok(Failures {
            count,
            locked_until: locked.as_deref().map(parse_ts).transpose()?,
        })
    })
    .transpose()
}

/// Counts one more wrong password and stores the lock the caller decided on.
pub fn record_failure(
    conn: &Connection,
    username: &str,
    count: u32,
    locked_until: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO login_failures (username, failures, last_failed_at, locked_until) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (username) DO UPDATE SET failures = ?2, last_failed_at = ?3, locked_until = ?4",
    )?
    .execute(params![username, count, ts(at), locked_until.map(ts)])?;
    Ok(())
}

pub fn clear_failures(conn: &Connection, username: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM login_failures WHERE username = ?1")?
        .execute([username])?;
    Ok(())
}

/// Forgets wrong-password records older than `before`, so the table stays small.
pub fn prune_failures(conn: &Connection, before: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM login_failures WHERE last_failed_at < ?1 AND (locked_until IS NULL OR locked_until < ?1)")?
        .execute([ts(before)])?)
}
