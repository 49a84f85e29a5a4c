//! Knowledge-base articles and their revisions.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, ts};
use crate::domain::kb::{self, Article};

/// An article as stored: its number (for URLs), its version (for edits) and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub id: i64,
    pub version: i64,
    pub article: Article,
}

/// What saving an article did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Created { id: i64 },
    Updated { id: i64, version: i64 },
    Unchanged { id: i64 },
}

fn read(
    id: i64,
    version: i64,
    views: i64,
    helpful: i64,
    content: &str,
) -> Result<Stored, StoreError> {
    let mut article = kb::parse_file(content)
        .map_err(|e| StoreError::Corrupt(format!("knowledge-base article {id}: {e}")))?;
    // The counters move on their own; the columns hold them.
    article.views = views.max(0) as u64;
    article.helpful = helpful.max(0) as u64;
    Ok(Stored {
        id,
        version,
        article,
    })
}

const COLUMNS: &str = "id, version, views, helpful, content";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, i64, i64, i64, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Stored>, StoreError> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM kb_articles WHERE id = ?1"))?
        .query_row([id], row)
        .optional()?
        .map(|(id, v, views, helpful, c)| read(id, v, views, helpful, &c))
        .transpose()
}

/// Every article, in id order (a knowledge base is thousands, read whole to be searched).
pub fn all(conn: &Connection) -> Result<Vec<Stored>, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM kb_articles ORDER BY id"))?;
    let rows = stmt.query_map([], row)?;
    rows.map(|r| {
        let (id, v, views, helpful, c) = r?;
        read(id, v, views, helpful, &c)
    })
    .collect()
}

/// The article saved under `slug`, if any.
pub fn by_slug(conn: &Connection, slug: &str) -> Result<Option<Stored>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM kb_articles WHERE slug = ?1"
    ))?
    .query_row([slug], row)
    .optional()?
    .map(|(id, v, views, helpful, c)| read(id, v, views, helpful, &c))
    .transpose()
}

/// A slug no article has, for a new article of `system`: the system's key and the next
/// number (`trading-151`).
pub fn next_slug(conn: &Connection, system: &str) -> Result<String, StoreError> {
    let stem: String = system
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let stem = if stem.trim_matches('-').is_empty() {
        "article".to_string()
    } else {
        stem
    };
    let mut n: i64 = conn.query_row(
        "SELECT coalesce(max(id), 0) + 1 FROM kb_articles",
        [],
        |r| r.get(0),
    )?;
    loop {
        let slug = format!("{stem}-{n}");
        let taken: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM kb_articles WHERE slug = ?1)")?
            .query_row([&slug], |r| r.get(0))?;
        if !taken {
            return Ok(slug);
        }
        n += 1;
    }
}

/// The articles saved after save number `since` (0 for all), in the order they were saved,
/// with the last save number among them (`since` when there is none).
pub fn saved_since(conn: &Connection, since: i64) -> Result<(Vec<Stored>, i64), StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, saved_seq FROM kb_articles WHERE saved_seq > ?1 ORDER BY saved_seq"
    ))?;
    let mut last = since;
    let mut out = Vec::new();
    let mut rows = stmt.query([since])?;
    while let Some(r) = rows.next()? {
        let (id, v, views, helpful, c) = row(r)?;
        out.push(read(id, v, views, helpful, &c)?);
        last = r.get(5)?;
    }
    Ok((out, last))
}

pub fn count(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row("SELECT count(*) FROM kb_articles", [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// Saves `article` under its slug: a new article, a new version of an existing one (its
/// previous file kept as a revision by `editor`), or nothing when the content is the same;
/// either way, the pictures its steps show are linked to it.
pub fn save(
    conn: &Connection,
    article: &Article,
    editor: &str,
    at: DateTime<Utc>,
) -> Result<Saved, StoreError> {
    let saved = save_content(conn, article, editor, at)?;
    let (Saved::Created { id } | Saved::Updated { id, .. } | Saved::Unchanged { id }) = saved;
    super::kb_images::link(conn, id, &article.steps)?;
    Ok(saved)
}

fn save_content(
    conn: &Connection,
    article: &Article,
    editor: &str,
    at: DateTime<Utc>,
) -> Result<Saved, StoreError> {
    let content = kb::render_file(&Article {
        views: 0,
        helpful: 0,
        ..article.clone()
    });
    let existing: Option<(i64, i64, String)> = conn
        .prepare_cached("SELECT id, version, content FROM kb_articles WHERE slug = ?1")?
        .query_row([&article.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let counters = (article.views as i64, article.helpful as i64);
    match existing {
        None => {
            conn.prepare_cached(
                "INSERT INTO kb_articles (slug, version, system, audience, hot, views, helpful, content, created_at, updated_at, saved_seq)
                 VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, (SELECT coalesce(max(saved_seq), 0) + 1 FROM kb_articles))",
            )?
            .execute(params![
                article.id,
                article.system,
                article.audience.as_str(),
                article.hot,
                counters.0,
                counters.1,
                content,
                ts(at)
            ])?;
            Ok(Saved::Created {
                id: conn.last_insert_rowid(),
            })
        }
        Some((id, _, old)) if old == content => {
            conn.prepare_cached("UPDATE kb_articles SET views = max(views, ?2), helpful = max(helpful, ?3) WHERE id = ?1")?
                .execute(params![id, counters.0, counters.1])?;
            Ok(Saved::Unchanged { id })
        }
        Some((id, version, old)) => {
            conn.prepare_cached(
                "INSERT INTO kb_revisions (article_id, version, editor, at, content) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![id, version, editor, ts(at), old])?;
            conn.prepare_cached(
                "UPDATE kb_articles SET version = ?2, system = ?3, audience = ?4, hot = ?5, content = ?6,
                 views = max(views, ?7), helpful = max(helpful, ?8), updated_at = ?9,
                 saved_seq = (SELECT coalesce(max(saved_seq), 0) + 1 FROM kb_articles) WHERE id = ?1",
            )?
            .execute(params![
                id,
                version + 1,
                article.system,
                article.audience.as_str(),
                article.hot,
                content,
                counters.0,
                counters.1,
                ts(at)
            ])?;
            Ok(Saved::Updated {
                id,
                version: version + 1,
            })
        }
    }
}

/// A past version of an article: its file, and who replaced it when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub version: i64,
    pub replaced_by: String,
    pub replaced_at: String,
    pub content: String,
}

/// Article `id`'s past versions, newest first.
pub fn revisions(conn: &Connection, id: i64) -> Result<Vec<Revision>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT version, editor, at, content FROM kb_revisions WHERE article_id = ?1 ORDER BY version DESC",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Revision {
            version: r.get(0)?,
            replaced_by: r.get(1)?,
            replaced_at: r.get(2)?,
            content: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Counts one reading of article `id` (for "hot issues"); whether it exists.
pub fn count_view(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("UPDATE kb_articles SET views = views + 1 WHERE id = ?1")?
        .execute([id])?
        == 1)
}

/// Keeps `username`'s answer to "did this help?" on article `id` (the last one given) and
/// moves the article's helpful count with it; the answer given before, if any.
pub fn vote(
    conn: &Connection,
    id: i64,
    username: &str,
    helpful: bool,
    at: DateTime<Utc>,
) -> Result<Option<bool>, StoreError> {
    let before: Option<bool> = conn
        .prepare_cached("SELECT helpful FROM kb_votes WHERE article_id = ?1 AND username = ?2")?
        .query_row(params![id, username], |r| r.get(0))
        .optional()?;
    conn.prepare_cached(
        "INSERT INTO kb_votes (article_id, username, helpful, at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (article_id, username) DO UPDATE SET helpful = ?3, at = ?4",
    )?
    .execute(params![id, username, helpful, ts(at)])?;
    let delta = i64::from(helpful) - i64::from(before.unwrap_or(false));
    if delta != 0 {
        conn.prepare_cached("UPDATE kb_articles SET helpful = max(helpful + ?2, 0) WHERE id = ?1")?
            .execute(params![id, delta])?;
    }
    Ok(before)
}
