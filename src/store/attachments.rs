//! The `attachments` table and the files it describes.
//!
//! Bytes live under `<data>/attachments/` with generated names (never the client's name), so
//! nothing a client sends decides a path. A file is written and fsynced before its row is
//! committed; a crash in between leaves an orphan file, never a row without its file.

use std::io::Write;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Row, params};
use sha2::{Digest, Sha256};

use super::{StoreError, parse_ts, ts};
use crate::domain::message::Attachment;
use crate::domain::ticket::TicketId;

const COLUMNS: &str = "id, ticket_id, message_id, filename, content_type, size, sha256, stored_name, uploaded_by, created_at";

fn from_row(r: &Row<'_>) -> Result<Attachment, StoreError> {
    Ok(Attachment {
        id: r.get(0)?,
        ticket_id: r.get(1)?,
        message_id: r.get(2)?,
        filename: r.get(3)?,
        content_type: r.get(4)?,
        size: r.get(5)?,
        sha256: r.get(6)?,
        stored_name: r.get(7)?,
        uploaded_by: r.get(8)?,
        created_at: parse_ts(&r.get::<_, String>(9)?)?,
    })
}

/// A file written to the attachments dir, not yet described by a row.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub stored_name: String,
    pub size: i64,
    pub sha256: String,
}

/// Writes `bytes` durably under a fresh random name in `dir`. The bytes go to a `.part` name
/// first and are renamed only once complete and fsynced, so a full disk or an error midway
/// leaves nothing behind: the partial file is removed on every failure path.
pub fn write_file(dir: &Path, bytes: &[u8]) -> Result<StoredFile, StoreError> {
    let stored_name = super::random_hex(16)?;
    let path = dir.join(&stored_name);
    let part = dir.join(format!("{stored_name}.part"));
    let mut partial = PartialFile(Some(part.clone()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&part)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&part, &path)?;
    partial.0 = None;
    // The new name must be durable too, or a power loss could keep the row and lose the file.
    if let Err(e) = std::fs::File::open(dir).and_then(|d| d.sync_all()) {
        let _ = std::fs::remove_file(&path);
        return Err(e.into());
    }
    Ok(StoredFile {
        stored_name,
        size: bytes.len() as i64,
        sha256: hex::encode(Sha256::digest(bytes)),
    })
}

/// A file being written; removed when dropped unless its path was taken once complete.
struct PartialFile(Option<std::path::PathBuf>);

impl Drop for PartialFile {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

pub fn insert(conn: &Connection, a: &Attachment) -> Result<Attachment, StoreError> {
    conn.prepare_cached(
        "INSERT INTO attachments (ticket_id, message_id, filename, content_type, size, sha256, stored_name, uploaded_by, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        a.ticket_id,
        a.message_id,
        a.filename,
        a.content_type,
        a.size,
        a.sha256,
        a.stored_name,
        a.uploaded_by,
        ts(a.created_at)
    ])?;
    Ok(Attachment {
        id: conn.last_insert_rowid(),
        ..a.clone()
    })
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Attachment>, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM attachments WHERE id = ?1"))?;
    stmt.query_row([id], |r| Ok(from_row(r)))
        .optional()?
        .transpose()
}

pub fn for_ticket(conn: &Connection, ticket: TicketId) -> Result<Vec<Attachment>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM attachments WHERE ticket_id = ?1 ORDER BY id"
    ))?;
    let mut rows = stmt.query([ticket])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(r)?);
    }
    Ok(out)
}

/// Whether a stored file already belongs to an attachment, or is a knowledge-base picture
/// (kept in the same dir): either way, not an abandoned upload.
pub fn is_attached(conn: &Connection, stored_name: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM attachments WHERE stored_name = ?1
             UNION ALL SELECT 1 FROM kb_images WHERE stored_name = ?1",
        )?
        .query_row([stored_name], |_| Ok(()))
        .optional()?
        .is_some())
}
