//! What submitters did with the knowledge-base articles suggested to them, and the help
//! center's articles from before the knowledge base (read once, to be adopted into it).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::{StoreError, ts};

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

/// Records what `submitter` did with knowledge-base article `article_id`.
pub fn record_outcome(
    conn: &Connection,
    submitter: &str,
    article_id: i64,
    outcome: Outcome,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO help_outcomes (submitter, article_id, outcome, at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![submitter, article_id, outcome.as_str(), ts(at)])?;
    Ok(())
}

/// How often each outcome was recorded in `[from, to)` (for the service center's reports).
pub fn outcome_counts(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(String, u64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT outcome, count(*) FROM help_outcomes WHERE at >= ?1 AND at < ?2 \
         GROUP BY outcome ORDER BY outcome",
    )?;
    let rows = stmt.query_map([ts(from), ts(to)], |r| {
        Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A help-center article from before the knowledge base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldArticle {
    pub id: i64,
    pub system: Option<String>,
    pub title: String,
    pub body: String,
    pub created_at: String,
}

/// The help center's articles from before the knowledge base, in id order.
pub fn old_articles(conn: &Connection) -> Result<Vec<OldArticle>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, system, title, body, created_at FROM help_articles ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(OldArticle {
            id: r.get(0)?,
            system: r.get(1)?,
            title: r.get(2)?,
            body: r.get(3)?,
            created_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Moves what was done with old article `old` onto knowledge-base article `article_id`, and
/// removes the old article.
pub fn adopt_old_article(conn: &Connection, old: i64, article_id: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO help_outcomes (submitter, article_id, outcome, at)
         SELECT submitter, ?2, outcome, at FROM help_deflections WHERE article_id = ?1 ORDER BY id",
    )?
    .execute(params![old, article_id])?;
    conn.prepare_cached("DELETE FROM help_deflections WHERE article_id = ?1")?
        .execute([old])?;
    conn.prepare_cached("DELETE FROM help_articles WHERE id = ?1")?
        .execute([old])?;
    Ok(())
}
