//! Pictures in knowledge-base articles (`kb_images`) and which articles show them.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{StoreError, parse_ts, ts};
use crate::domain::kb_images;

/// A picture as stored: its bytes are `stored_name` in the attachments dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KbImage {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
    pub stored_name: String,
    pub uploaded_by: String,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, filename, content_type, size, width, height, sha256, stored_name, uploaded_by, created_at";

fn from_row(r: &Row<'_>) -> Result<KbImage, StoreError> {
    Ok(KbImage {
        id: r.get(0)?,
        filename: r.get(1)?,
        content_type: r.get(2)?,
        size: r.get(3)?,
        width: r.get(4)?,
        height: r.get(5)?,
        sha256: r.get(6)?,
        stored_name: r.get(7)?,
        uploaded_by: r.get(8)?,
        created_at: parse_ts(&r.get::<_, String>(9)?)?,
    })
}

fn one(
    conn: &Connection,
    filter: &str,
    key: &dyn rusqlite::ToSql,
) -> Result<Option<KbImage>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM kb_images WHERE {filter} = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([key])?;
    rows.next()?.map(from_row).transpose()
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<KbImage>, StoreError> {
    one(conn, "id", &id)
}

/// The picture whose stored bytes hash to `sha256`, if one is kept.
pub fn by_sha(conn: &Connection, sha256: &str) -> Result<Option<KbImage>, StoreError> {
    one(conn, "sha256", &sha256)
}

/// Keeps a picture's row (its file already written); the picture with the same bytes when
/// one is kept already, and then the new file is not needed.
pub fn insert(conn: &Connection, image: &KbImage) -> Result<(KbImage, bool), StoreError> {
    if let Some(kept) = by_sha(conn, &image.sha256)? {
        return Ok((kept, false));
    }
    conn.prepare_cached(
        "INSERT INTO kb_images (filename, content_type, size, width, height, sha256, stored_name, uploaded_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        image.filename,
        image.content_type,
        image.size,
        image.width,
        image.height,
        image.sha256,
        image.stored_name,
        image.uploaded_by,
        ts(image.created_at)
    ])?;
    let id = conn.last_insert_rowid();
    Ok((
        KbImage {
            id,
            ..image.clone()
        },
        true,
    ))
}

/// Which of `ids` no picture has.
pub fn missing(conn: &Connection, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM kb_images WHERE id = ?1")?;
    let mut out = Vec::new();
    for &id in ids {
        if stmt.query_row([id], |_| Ok(())).optional()?.is_none() {
            out.push(id);
        }
    }
    Ok(out)
}

/// Records that article `article` shows the pictures its steps name, and no others.
pub fn link(conn: &Connection, article: i64, steps: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM kb_article_images WHERE article_id = ?1")?
        .execute([article])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO kb_article_images (article_id, image_id) SELECT ?1, id FROM kb_images WHERE id = ?2",
    )?;
    for image in kb_images::stored_ids(steps) {
        insert.execute([article, image])?;
    }
    Ok(())
}

/// Whether an article meant for submitters shows picture `id`.
pub fn shown_to_submitters(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM kb_article_images l JOIN kb_articles a ON a.id = l.article_id
             WHERE l.image_id = ?1 AND a.audience = 'submitters' LIMIT 1",
        )?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}
