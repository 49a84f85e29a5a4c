//! Help-center articles and what submitters did with the ones suggested to them.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{StoreError, ts};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpArticle {
    pub id: i64,
    pub system: Option<String>,
    pub title: String,
    pub body: String,
}

/// What a submitter did after a suggested article was shown: opened it (`viewed`), left
/// without submitting (`deflected`: the article answered the question), or submitted anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Viewed,
    Deflected,
    Submitted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Viewed => "viewed",
            Outcome::Deflected => "deflected",
            Outcome::Submitted => "submitted",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "viewed" => Some(Outcome::Viewed),
            "deflected" => Some(Outcome::Deflected),
            "submitted" => Some(Outcome::Submitted),
            _ => None,
        }
    }
}

pub fn insert(
    conn: &Connection,
    system: Option<&str>,
    title: &str,
    body: &str,
    at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO help_articles (system, title, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![system, title, body, ts(at)])?;
    Ok(conn.last_insert_rowid())
}

pub fn count(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row("SELECT count(*) FROM help_articles", [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<HelpArticle>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id, system, title, body FROM help_articles WHERE id = ?1")?
        .query_row([id], |r| {
            Ok(HelpArticle {
                id: r.get(0)?,
                system: r.get(1)?,
                title: r.get(2)?,
                body: r.get(3)?,
            })
        })
        .optional()?)
}

/// Every article's id and title, in id order (the help center is hundreds, not millions).
pub fn titles(conn: &Connection) -> Result<Vec<(i64, String)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, title FROM help_articles ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn record_outcome(
    conn: &Connection,
    submitter: &str,
    article_id: i64,
    outcome: Outcome,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO help_deflections (submitter, article_id, outcome, at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![submitter, article_id, outcome.as_str(), ts(at)])?;
    Ok(())
}

/// How often each outcome was recorded since `since` (for the service center's reports).
pub fn outcome_counts(
    conn: &Connection,
    since: DateTime<Utc>,
) -> Result<Vec<(String, u64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT outcome, count(*) FROM help_deflections WHERE at >= ?1 GROUP BY outcome ORDER BY outcome",
    )?;
    let rows = stmt.query_map([ts(since)], |r| {
        Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
