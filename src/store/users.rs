//! Users, their passwords (argon2) and API tokens (stored as SHA-256 hashes).
//!
//! A token is 32 random bytes, shown once when issued. Being random, it needs no slow hash:
//! SHA-256 makes the stored column useless to a reader of the database while keeping the
//! per-request lookup an index probe.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rusqlite::{Connection, OptionalExtension, params};

use super::{Rejected, StoreError, random_hex, secret_hash, ts};
pub use crate::domain::people::User;
use crate::domain::people::{Role, valid_username};

const TOKEN_PREFIX: &str = "odt_";

/// A user from a row whose first five columns are id, username, display_name, role, city.
pub(super) fn from_row(r: &rusqlite::Row<'_>) -> Result<User, StoreError> {
    let role: String = r.get(3)?;
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role '{role}'")))?,
        city: r.get(4)?,
    })
}

pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let hash: Result<PasswordHash, _> = Argon2::default().hash_password(password.as_bytes());
    hash.map(|h| h.to_string())
        .map_err(|e| StoreError::Corrupt(format!("password hashing failed: {e}")))
}

/// Creates a user; refuses a malformed or taken username.
pub fn insert(
    conn: &Connection,
    username: &str,
    display_name: &str,
    role: Role,
    city: Option<&str>,
    password_hash: Option<&str>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<User, StoreError> {
    if !valid_username(username) {
        return Err(Rejected::Invalid(format!(
            "username '{username}' must be 3–32 characters of a-z, 0-9, '_', '.', '-', starting with a letter"
        ))
        .into());
    }
    if by_username(conn, username)?.is_some() {
        return Err(Rejected::Conflict(format!("user '{username}' already exists")).into());
    }
    conn.prepare_cached(
        "INSERT INTO users (username, display_name, role, city, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![username, display_name, role.as_str(), city, password_hash, ts(at)])?;
    Ok(User {
        id: conn.last_insert_rowid(),
        username: username.into(),
        display_name: display_name.into(),
        role,
        city: city.map(Into::into),
    })
}

pub fn by_username(conn: &Connection, username: &str) -> Result<Option<User>, StoreError> {
    conn.prepare_cached("SELECT id, username, display_name, role, city FROM users WHERE username = ?1 AND disabled = 0")?
        .query_row([username], |r| Ok(from_row(r)))
        .optional()?
        .transpose()
}

pub fn all(conn: &Connection) -> Result<Vec<User>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT id, username, display_name, role, city FROM users WHERE disabled = 0 ORDER BY username")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(r)?);
    }
    Ok(out)
}

/// Issues a new token for `user`, revoking earlier ones with the same label; returns the token,
/// which is never stored and cannot be shown again.
pub fn issue_token(
    conn: &Connection,
    user: &User,
    label: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<String, StoreError> {
    let token = format!("{TOKEN_PREFIX}{}", random_hex(32)?);
    conn.prepare_cached("UPDATE api_tokens SET revoked_at = ?3 WHERE user_id = ?1 AND label = ?2 AND revoked_at IS NULL")?
        .execute(params![user.id, label, ts(at)])?;
    conn.prepare_cached(
        "INSERT INTO api_tokens (user_id, token_hash, label, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![user.id, secret_hash(&token), label, ts(at)])?;
    Ok(token)
}

/// The user a bearer token belongs to, if it is well-formed, known and not revoked.
pub fn by_token(conn: &Connection, token: &str) -> Result<Option<User>, StoreError> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() != TOKEN_PREFIX.len() + 64 {
        return Ok(None);
    }
    conn.prepare_cached(
        "SELECT u.id, u.username, u.display_name, u.role, u.city FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND u.disabled = 0",
    )?
    .query_row([secret_hash(token)], |r| Ok(from_row(r)))
    .optional()?
    .transpose()
}

/// Checks a password; unknown users and users without a password fail the same way.
pub fn verify_password(
    conn: &Connection,
    username: &str,
    password: &str,
) -> Result<Option<User>, StoreError> {
    let row: Option<(Option<String>, i64)> = conn
        .prepare_cached("SELECT password_hash, id FROM users WHERE username = ?1 AND disabled = 0")?
        .query_row([username], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((Some(stored), _)) = row else {
        // Hash anyway, so an unknown name takes as long as a wrong password and the timing
        // does not tell which usernames exist.
        let _ = Argon2::default().hash_password(password.as_bytes());
        return Ok(None);
    };
    let Ok(parsed) = PasswordHash::new(&stored) else {
        return Ok(None);
    };
    if Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
    {
        by_username(conn, username)
    } else {
        Ok(None)
    }
}

pub fn count(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// Sets (or with None clears) a user's e-mail address; refuses an unknown user.
pub fn set_email(conn: &Connection, username: &str, email: Option<&str>) -> Result<(), StoreError> {
    let n = conn
        .prepare_cached("UPDATE users SET email = ?2 WHERE username = ?1")?
        .execute(params![username, email])?;
    if n == 0 {
        return Err(Rejected::NotFound(format!("user '{username}'")).into());
    }
    Ok(())
}

/// The e-mail address of an enabled user, if they have one.
pub fn email_of(conn: &Connection, username: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT email FROM users WHERE username = ?1 AND disabled = 0")?
        .query_row([username], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// Replaces a user's password hash and ends their page sessions, so an old session does not
/// outlive a reset; refuses an unknown user.
pub fn set_password(conn: &Connection, username: &str, hash: &str) -> Result<(), StoreError> {
    let n = conn
        .prepare_cached("UPDATE users SET password_hash = ?2 WHERE username = ?1")?
        .execute(params![username, hash])?;
    if n == 0 {
        return Err(Rejected::NotFound(format!("user '{username}'")).into());
    }
    conn.prepare_cached(
        "DELETE FROM web_sessions WHERE user_id = (SELECT id FROM users WHERE username = ?1)",
    )?
    .execute([username])?;
    Ok(())
}

/// Sets (or with None clears) a user's WeCom user id; refuses an unknown user.
pub fn set_wecom(conn: &Connection, username: &str, id: Option<&str>) -> Result<(), StoreError> {
    let n = conn
        .prepare_cached("UPDATE users SET wecom_userid = ?2 WHERE username = ?1")?
        .execute(params![username, id])?;
    if n == 0 {
        return Err(Rejected::NotFound(format!("user '{username}'")).into());
    }
    Ok(())
}

/// The WeCom user id of an enabled user, if they have one.
pub fn wecom_of(conn: &Connection, username: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT wecom_userid FROM users WHERE username = ?1 AND disabled = 0")?
        .query_row([username], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}
