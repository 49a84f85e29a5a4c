//! The workstation's local copy of one server: the open queue, conversations and the position
//! in the change log, so start-up paints at once and a dropped link leaves everything readable;
//! and the outbox of writes made while the server could not be reached, sent again in order
//! when it can.
//!
//! One SQLite file per server, named by a hash of its URL, so two servers never mix. A cache
//! file is input like the network: every text read back is made terminal-safe again.
//! rusqlite blocks: the workstation drives a [`Cache`] through a [`CacheThread`], never on its
//! async workers. May touch: the file, `client::inert`, `domain` types.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::inert;
use super::outbox::{Unreadable, Write};
use super::row::{QueueRow, RowClock};
use crate::domain::message::Message;
use crate::domain::sanitize::terminal_safe;
use crate::domain::ticket::TicketId;
use crate::domain::view::{Change, TicketView};

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cache file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the cache {path} was written by a newer opsdesk (schema {found}; this one knows {known})"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("cannot encode for the cache: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("the cache thread has stopped")]
    Stopped,
}

/// Numbered in code and tracked in `PRAGMA user_version`; append, never edit.
const MIGRATIONS: &[&str] = &[
    // 1: the first cache.
    r#"
    CREATE TABLE tickets (
        id          INTEGER PRIMARY KEY,
        version     INTEGER NOT NULL,
        status      TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        json        TEXT NOT NULL
    );
    CREATE INDEX tickets_by_status ON tickets (status);
    CREATE TABLE messages (
        id          INTEGER PRIMARY KEY,
        ticket_id   INTEGER NOT NULL,
        json        TEXT NOT NULL
    );
    CREATE INDEX messages_by_ticket ON messages (ticket_id, id);
    -- Tickets whose whole conversation is here (fetched, or followed since the ticket was
    -- created): a partial one is never shown as if it were all.
    CREATE TABLE conversations (
        ticket_id   INTEGER PRIMARY KEY
    );
    CREATE TABLE meta (
        key         TEXT PRIMARY KEY,
        value       TEXT NOT NULL
    );
    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        idempotency_key TEXT NOT NULL UNIQUE,
        call            TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT
    );
    "#,
    // 2: entries this build cannot read are set aside (with why) instead of being retried:
    // they no longer count as waiting, and the handler is shown their text.
    r#"
    ALTER TABLE outbox ADD COLUMN unreadable TEXT;
    "#,
    // 3: what a handler wrote and left unsent, per ticket and purpose (`12/reply`).
    r#"
    CREATE TABLE drafts (
        key         TEXT PRIMARY KEY,
        text        TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    "#,
    // 4: the open tickets as queue rows (`client::row`), in a narrow table of their own, so
    // a start reads 100,000 of them without decoding (or even paging past) any ticket's JSON.
    // Tickets cached before get theirs from their JSON right after (`fill_rows`). Times are
    // milliseconds since the epoch.
    r#"
    CREATE TABLE queue_rows (
        id            INTEGER PRIMARY KEY,
        version       INTEGER NOT NULL,
        status        TEXT NOT NULL,
        priority      TEXT NOT NULL,
        category      TEXT NOT NULL,
        system        TEXT NOT NULL,
        submitter     TEXT NOT NULL,
        assignee      TEXT,
        title         TEXT NOT NULL,
        created_ms    INTEGER NOT NULL,
        clock_state   TEXT NOT NULL,
        clock_due_ms  INTEGER NOT NULL
    );
    "#,
    // 5: a copy of the knowledge base, whole articles, for searching and reading offline;
    // `meta.kb_until` is where the next read of the server's changes starts.
    r#"
    CREATE TABLE kb_articles (
        id    INTEGER PRIMARY KEY,
        json  TEXT NOT NULL
    );
    "#,
];

/// The migration that added the queue rows.
const QUEUE_ROWS_ADDED: i64 = 4;

/// The columns of `queue_rows`, in `row_from` order.
const ROW_COLUMNS: &str = "id, version, status, priority, category, system, submitter, \
    assignee, title, created_ms, clock_state, clock_due_ms";

/// What became of a damaged cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovered {
    /// Where the damaged file was moved (kept byte for byte).
    pub aside: PathBuf,
    /// Queued writes and drafts read back from it into the new cache.
    pub writes: usize,
    pub drafts: usize,
    /// Why nothing (or not everything) could be read back, when so.
    pub note: Option<String>,
}

impl CacheError {
    /// A file SQLite cannot read as a database, or a damaged one: to be rebuilt. A busy or
    /// locked cache (another workstation on it) is an error to report, never a file to move.
    pub fn is_damage(&self) -> bool {
        matches!(self, CacheError::Sqlite(e) if matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
        ))
    }
}

/// One entry of the outbox.
#[derive(Clone, Debug, PartialEq)]
pub struct Queued {
    /// Its place in the outbox; replays go in this order.
    pub id: i64,
    /// The write, or its stored text when this build cannot read it.
    pub write: Result<Write, Unreadable>,
    /// Times the server answered with an error worth retrying (not counting an absent server).
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// An entry set aside because it could not be read: kept, with its text, for the handler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetAside {
    pub id: i64,
    pub created_at: String,
    pub text: String,
    pub reason: String,
}

/// The local copy of one server.
pub struct Cache {
    conn: Connection,
    path: PathBuf,
}

impl Cache {
    /// The cache file for `server` in the platform cache dir.
    pub fn default_path(server: &str) -> Option<PathBuf> {
        let dirs = crate::config::project_dirs()?;
        Some(dirs.cache_dir().join(file_name(server)))
    }

    /// Opens (or creates) the cache at `path` for `server`. A file that holds another server's
    /// copy is emptied first, outbox included: its ticket numbers mean other tickets here.
    /// The cache file for `server`: `OPSDESK_CACHE` names it (`off`: none); else one per server
    /// in the platform cache dir.
    pub fn chosen_path(server: &str) -> Option<PathBuf> {
        match std::env::var_os("OPSDESK_CACHE") {
            Some(v) if v == "off" => None,
            Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
            _ => Cache::default_path(server),
        }
    }

    pub fn open(path: &Path, server: &str) -> Result<Cache, CacheError> {
        let io = |source| CacheError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        keep_private(path).map_err(io)?;
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL, not FULL: everything here but the outbox can be fetched again, and in WAL
        // mode NORMAL never corrupts the file; it can only lose the last commits to a power
        // cut (a killed process loses nothing). The outbox, the one thing only this file
        // holds, is written with FULL (see `enqueue`).
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        migrate(&mut conn, path)?;
        let mut cache = Cache {
            conn,
            path: path.to_path_buf(),
        };
        let server = normalise(server);
        match cache.meta("server")? {
            Some(s) if s == server => {}
            other => {
                if let Some(previous) = other {
                    let dropped = cache.forget_history()?;
                    tracing::warn!(
                        path = %path.display(),
                        %previous,
                        dropped,
                        "the cache held another server's copy; emptied it"
                    );
                }
                cache.set_meta("server", &server)?;
            }
        }
        Ok(cache)
    }

    /// Opens the cache like [`Cache::open`]; a file SQLite cannot read (damaged, or not a
    /// database at all) is rebuilt ([`Cache::rebuild`]). A cache written by a newer opsdesk is
    /// never touched.
    pub fn open_recovering(
        path: &Path,
        server: &str,
    ) -> Result<(Cache, Option<Recovered>), CacheError> {
        match Cache::open(path, server) {
            Ok(cache) => Ok((cache, None)),
            Err(e) if e.is_damage() => {
                tracing::warn!(error = %e, path = %path.display(), "the cache cannot be read");
                let (cache, recovered) = Cache::rebuild(path, server)?;
                Ok((cache, Some(recovered)))
            }
            Err(e) => Err(e),
        }
    }

    /// Moves a damaged cache aside to `<name>.damaged-<time>.sqlite3` (kept byte for byte,
    /// with its journal files), starts a new one in its place, and copies into it what can
    /// still be read of the damaged one's outbox and drafts: the writes and texts only this
    /// file held. They are copied only when the damaged file still says it is this server's
    /// (a write sent to another server would be worse than one set aside). The tickets are
    /// not copied; the server has them.
    pub fn rebuild(path: &Path, server: &str) -> Result<(Cache, Recovered), CacheError> {
        let stamp = Utc::now().format("%Y%m%d%H%M%S");
        let aside = path.with_extension(format!("damaged-{stamp}.sqlite3"));
        tracing::warn!(path = %path.display(), aside = %aside.display(),
            "moving a damaged cache aside and starting a new one");
        let io = |source| CacheError::Io {
            path: path.to_path_buf(),
            source,
        };
        std::fs::rename(path, &aside).map_err(io)?;
        // The journal files belong to the damaged database, not to the new one; beside it
        // they are still read when its outbox is salvaged.
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            let side = PathBuf::from(side);
            if side.exists() {
                let mut moved = aside.as_os_str().to_owned();
                moved.push(suffix);
                let _ = std::fs::rename(&side, PathBuf::from(moved));
            }
        }
        let mut cache = Cache::open(path, server)?;
        let salvaged = salvage(&aside, &normalise(server));
        let (writes, drafts) = (salvaged.writes.len(), salvaged.drafts.len());
        cache.durably(|conn| {
            for w in &salvaged.writes {
                conn.execute(
                    "INSERT INTO outbox (idempotency_key, call, created_at, attempts, last_error,
                         unreadable)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (idempotency_key) DO NOTHING",
                    params![
                        w.key,
                        w.call,
                        w.created_at,
                        w.attempts,
                        w.last_error,
                        w.unreadable
                    ],
                )?;
            }
            for (key, text) in &salvaged.drafts {
                conn.execute(
                    "INSERT OR REPLACE INTO drafts (key, text, updated_at) VALUES (?1, ?2, ?3)",
                    params![key, text, Utc::now().to_rfc3339()],
                )?;
            }
            Ok(())
        })?;
        tracing::warn!(writes, drafts, "salvaged from the damaged cache");
        Ok((
            cache,
            Recovered {
                aside,
                writes,
                drafts,
                note: salvaged.note,
            },
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached open tickets as the queue keeps them, made terminal-safe again; read from
    /// their narrow table, without touching any ticket's JSON.
    pub fn load_open_rows(&self) -> Result<Vec<QueueRow>, CacheError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {ROW_COLUMNS} FROM queue_rows ORDER BY id"))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            match row_from(r) {
                Ok(mut row) if row.status.is_open() => {
                    row.inert();
                    out.push(row);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "skipping an unreadable cached ticket"),
            }
        }
        out.shrink_to_fit();
        Ok(out)
    }

    /// One cached ticket in full, made terminal-safe again; `None` when it is not cached (or
    /// cannot be read).
    pub fn ticket(&self, id: TicketId) -> Result<Option<TicketView>, CacheError> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT json FROM tickets WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        Ok(json.and_then(|json| match decode::<TicketView>(&json) {
            Ok(mut t) => {
                inert(&mut t);
                Some(t)
            }
            Err(e) => {
                tracing::warn!(id, error = %e, "an unreadable cached ticket");
                None
            }
        }))
    }

    /// The newest change applied; 0 for an empty cache.
    pub fn last_seq(&self) -> Result<i64, CacheError> {
        Ok(self
            .meta("last_seq")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Applies changes from the server in one transaction. A ticket is kept at its highest
    /// version, so changes applied twice or out of order end in the same state.
    pub fn apply(&mut self, changes: &[Change]) -> Result<(), CacheError> {
        let tx = self.conn.transaction()?;
        let mut top = meta_in(&tx, "last_seq")?
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        // Followed from the very start (an empty server at the first load): the first change
        // is the log's origin.
        if top == 0
            && meta_in(&tx, "origin")?.is_none()
            && let Some(first) = changes.iter().min_by_key(|c| c.seq)
        {
            set_meta_in(&tx, "origin", &origin_of(first))?;
        }
        for change in changes {
            top = top.max(change.seq);
            if change.kind.starts_with("ticket.") {
                match serde_json::from_value::<TicketView>(change.data.clone()) {
                    Ok(t) => {
                        upsert_ticket(&tx, &t)?;
                        if change.kind == "ticket.created" {
                            // Followed from its birth: its whole conversation will be here.
                            tx.execute(
                                "INSERT OR IGNORE INTO conversations (ticket_id) VALUES (?1)",
                                [t.id],
                            )?;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(seq = change.seq, error = %e, "unreadable ticket change")
                    }
                }
            } else if change.kind == "message.created" {
                match serde_json::from_value::<Message>(change.data.clone()) {
                    Ok(m) => insert_message(&tx, &m)?,
                    Err(e) => {
                        tracing::warn!(seq = change.seq, error = %e, "unreadable message change")
                    }
                }
            }
        }
        set_meta_in(&tx, "last_seq", &top.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// A snapshot of the open queue as of change `seq` replaces what was cached, in one
    /// transaction. The outbox stays.
    pub fn put_tickets(&mut self, tickets: &[TicketView], seq: i64) -> Result<(), CacheError> {
        let tx = self.conn.transaction()?;
        begin_snapshot(&tx)?;
        for t in tickets {
            upsert_ticket(&tx, t)?;
        }
        set_meta_in(&tx, "last_seq", &seq.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// Starts replacing the cached queue with a snapshot that arrives in pages (the initial
    /// load, or a server whose change log no longer continues ours): the tickets go, and until
    /// [`Cache::finish_snapshot`] the cache says it follows nothing, so a load cut short is
    /// loaded again on the next start instead of being continued. The outbox stays.
    pub fn begin_snapshot(&mut self) -> Result<(), CacheError> {
        let tx = self.conn.transaction()?;
        begin_snapshot(&tx)?;
        set_meta_in(&tx, "last_seq", "0")?;
        tx.commit()?;
        Ok(())
    }

    /// One page of a snapshot begun with [`Cache::begin_snapshot`].
    pub fn put_page(&mut self, tickets: &[TicketView]) -> Result<(), CacheError> {
        let tx = self.conn.transaction()?;
        for t in tickets {
            upsert_ticket(&tx, t)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The snapshot is whole as of change `seq`: following the change log resumes there.
    pub fn finish_snapshot(&mut self, seq: i64) -> Result<(), CacheError> {
        self.set_meta("last_seq", &seq.to_string())
    }

    /// A ticket's whole conversation, terminal-safe; `None` when the cache does not hold all of
    /// it (never fetched while online).
    pub fn messages(&self, ticket: TicketId) -> Result<Option<Vec<Message>>, CacheError> {
        let whole: Option<i64> = self
            .conn
            .query_row(
                "SELECT ticket_id FROM conversations WHERE ticket_id = ?1",
                [ticket],
                |r| r.get(0),
            )
            .optional()?;
        if whole.is_none() {
            return Ok(None);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT json FROM messages WHERE ticket_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([ticket], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            match decode::<Message>(&json?) {
                Ok(m) if m.ticket_id == ticket => out.push(m),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "skipping an unreadable cached message"),
            }
        }
        Ok(Some(out))
    }

    /// Stores a ticket's whole conversation as the server sent it.
    pub fn put_messages(&mut self, ticket: TicketId, list: &[Message]) -> Result<(), CacheError> {
        let tx = self.conn.transaction()?;
        for m in list.iter().filter(|m| m.ticket_id == ticket) {
            insert_message(&tx, m)?;
        }
        tx.execute(
            "INSERT OR IGNORE INTO conversations (ticket_id) VALUES (?1)",
            [ticket],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Where the next read of the knowledge base's changes starts (0: from the start).
    pub fn kb_until(&self) -> Result<i64, CacheError> {
        Ok(self
            .meta("kb_until")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Keeps the articles of `changes` (an article again replaces its copy) and where the
    /// next read starts, in one transaction.
    pub fn put_kb(&mut self, changes: &crate::api::KbChanges) -> Result<(), CacheError> {
        let tx = self.conn.transaction()?;
        for a in &changes.articles {
            tx.execute(
                "INSERT INTO kb_articles (id, json) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET json = excluded.json",
                params![a.id, serde_json::to_string(a)?],
            )?;
        }
        set_meta_in(&tx, "kb_until", &changes.until.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// The copy of the knowledge base, in article order (texts made terminal-safe).
    pub fn kb_articles(&self) -> Result<Vec<crate::api::KbArticle>, CacheError> {
        let mut stmt = self
            .conn
            .prepare("SELECT json FROM kb_articles ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            match decode::<crate::api::KbArticle>(&json?) {
                Ok(mut a) => {
                    super::inert_article(&mut a);
                    out.push(a)
                }
                Err(e) => tracing::warn!(error = %e, "skipping an unreadable cached article"),
            }
        }
        Ok(out)
    }

    /// Who used this cache last (the queue's "mine" works offline too).
    pub fn username(&self) -> Result<Option<String>, CacheError> {
        Ok(self
            .meta("username")?
            .map(|u| terminal_safe(&u).into_owned()))
    }

    pub fn set_username(&mut self, username: &str) -> Result<(), CacheError> {
        self.set_meta("username", username)
    }

    /// What identifies the server's change log (see [`origin_of`]), so a server that was
    /// replaced by another with the same URL is noticed.
    pub fn origin(&self) -> Result<Option<String>, CacheError> {
        self.meta("origin")
    }

    pub fn set_origin(&mut self, origin: &str) -> Result<(), CacheError> {
        self.set_meta("origin", origin)
    }

    /// Drops everything but the server's URL, outbox included; returns how many queued writes
    /// were dropped. For a file that held another server's copy.
    pub fn forget_history(&mut self) -> Result<usize, CacheError> {
        let tx = self.conn.transaction()?;
        let dropped: i64 = tx.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
        tx.execute_batch(
            "DELETE FROM tickets; DELETE FROM queue_rows; DELETE FROM messages;
             DELETE FROM conversations; DELETE FROM outbox; DELETE FROM drafts;
             DELETE FROM kb_articles; DELETE FROM meta WHERE key <> 'server';",
        )?;
        tx.commit()?;
        Ok(usize::try_from(dropped).unwrap_or(0))
    }

    /// Queues a write; false when the same write (by its key) is already queued.
    pub fn enqueue(&mut self, write: &Write) -> Result<bool, CacheError> {
        let json = write.encode()?;
        let key = write
            .idempotency_key()
            .unwrap_or_else(|| content_key(&json));
        self.durably(|conn| {
            let added = conn.execute(
                "INSERT INTO outbox (idempotency_key, call, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (idempotency_key) DO NOTHING",
                params![key, json, Utc::now().to_rfc3339()],
            )?;
            Ok(added == 1)
        })
    }

    /// The waiting writes, oldest first, each read in whichever format it was stored (an
    /// entry that cannot be read comes back with its text; see [`Cache::set_aside`]).
    pub fn outbox(&self) -> Result<Vec<Queued>, CacheError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, call, attempts, last_error FROM outbox
             WHERE unreadable IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, json, attempts, last_error) = row?;
            out.push(Queued {
                id,
                write: Write::decode(&json).map_err(|mut e| {
                    e.text = terminal_safe(&e.text).into_owned();
                    e
                }),
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                last_error: last_error.map(|e| terminal_safe(&e).into_owned()),
            });
        }
        Ok(out)
    }

    /// How many writes wait (entries set aside do not).
    pub fn outbox_len(&self) -> Result<usize, CacheError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM outbox WHERE unreadable IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// An entry that cannot be read stops being retried; it stays, with why, until the
    /// handler has taken its text and discards it.
    pub fn set_aside(&mut self, id: i64, reason: &str) -> Result<(), CacheError> {
        self.durably(|conn| {
            conn.execute(
                "UPDATE outbox SET unreadable = ?2 WHERE id = ?1",
                params![id, reason],
            )
        })?;
        Ok(())
    }

    /// The entries set aside, oldest first, their text made terminal-safe.
    pub fn set_aside_entries(&self) -> Result<Vec<SetAside>, CacheError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, created_at, call, unreadable FROM outbox
             WHERE unreadable IS NOT NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SetAside {
                id: r.get(0)?,
                created_at: r.get(1)?,
                text: r.get(2)?,
                reason: r.get(3)?,
            })
        })?;
        let mut out = Vec::new();
        for row in rows {
            let mut e = row?;
            for text in [&mut e.text, &mut e.reason, &mut e.created_at] {
                *text = terminal_safe(text).into_owned();
            }
            out.push(e);
        }
        Ok(out)
    }

    /// The write went through (or was refused for good): it leaves the outbox.
    pub fn done(&mut self, id: i64) -> Result<(), CacheError> {
        self.durably(|conn| conn.execute("DELETE FROM outbox WHERE id = ?1", [id]))?;
        Ok(())
    }

    /// The server answered with an error worth retrying later.
    pub fn failed(&mut self, id: i64, error: &str) -> Result<(), CacheError> {
        self.durably(|conn| {
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                params![id, error],
            )
        })?;
        Ok(())
    }

    /// Part of a write went through; what is left takes its place in the queue (and its
    /// order). If that very write is already queued, this entry just leaves.
    pub fn replace(&mut self, id: i64, write: &Write) -> Result<(), CacheError> {
        let json = write.encode()?;
        let key = write
            .idempotency_key()
            .unwrap_or_else(|| content_key(&json));
        self.durably(|conn| {
            let changed = conn.execute(
                "UPDATE OR IGNORE outbox SET call = ?2, idempotency_key = ?3 WHERE id = ?1",
                params![id, json, key],
            )?;
            if changed == 0 {
                conn.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
            }
            Ok(())
        })
    }

    /// Keeps a draft (written with FULL, like the outbox: it exists nowhere else).
    pub fn put_draft(&mut self, key: &str, text: &str) -> Result<(), CacheError> {
        self.durably(|conn| {
            conn.execute(
                "INSERT INTO drafts (key, text, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET text = excluded.text,
                     updated_at = excluded.updated_at",
                params![key, text, Utc::now().to_rfc3339()],
            )
        })?;
        Ok(())
    }

    pub fn drop_draft(&mut self, key: &str) -> Result<(), CacheError> {
        self.durably(|conn| conn.execute("DELETE FROM drafts WHERE key = ?1", [key]))?;
        Ok(())
    }

    /// Every kept draft, its text made terminal-safe (newlines and tabs stay).
    pub fn drafts(&self) -> Result<Vec<(String, String)>, CacheError> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, text FROM drafts ORDER BY key")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (key, text) = row?;
            out.push((
                terminal_safe(&key).into_owned(),
                terminal_safe(&text).into_owned(),
            ));
        }
        Ok(out)
    }

    /// Runs an outbox write with `synchronous=FULL`: a queued reply is the only copy of what
    /// the handler wrote, so it must survive a power cut, not only a crash.
    fn durably<T>(
        &mut self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, CacheError> {
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let result = write(&self.conn);
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(result?)
    }

    fn meta(&self, key: &str) -> Result<Option<String>, CacheError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), CacheError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

/// An outbox row read back from a damaged cache, as stored.
struct SalvagedWrite {
    key: String,
    call: String,
    created_at: String,
    attempts: i64,
    last_error: Option<String>,
    unreadable: Option<String>,
}

#[derive(Default)]
struct Salvaged {
    writes: Vec<SalvagedWrite>,
    drafts: Vec<(String, String)>,
    note: Option<String>,
}

/// Reads what it can of a damaged cache's outbox and drafts, read-only, row by row: a damaged
/// page ends a table's reading, and what was read before it is kept.
fn salvage(aside: &Path, server: &str) -> Salvaged {
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = match Connection::open_with_flags(aside, flags) {
        Ok(conn) => conn,
        Err(e) => {
            return Salvaged {
                note: Some(format!("unreadable: {e}")),
                ..Salvaged::default()
            };
        }
    };
    let owner: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'server'", [], |r| {
            r.get(0)
        })
        .ok();
    if owner.as_deref() != Some(server) {
        let note = match owner {
            Some(other) => format!("it held another server's copy ({other})"),
            None => "it no longer says which server it is for".to_string(),
        };
        return Salvaged {
            note: Some(note),
            ..Salvaged::default()
        };
    }
    let mut out = Salvaged::default();
    // Files from before migration 2 have no `unreadable` column.
    let with_reason = "SELECT idempotency_key, call, created_at, attempts, last_error, unreadable
                       FROM outbox ORDER BY id";
    let without = "SELECT idempotency_key, call, created_at, attempts, last_error, NULL
                   FROM outbox ORDER BY id";
    if let Ok(mut stmt) = conn.prepare(with_reason).or_else(|_| conn.prepare(without))
        && let Ok(mut rows) = stmt.query([])
    {
        loop {
            match rows.next() {
                Ok(Some(r)) => {
                    let write = (|| -> rusqlite::Result<SalvagedWrite> {
                        Ok(SalvagedWrite {
                            key: r.get(0)?,
                            call: r.get(1)?,
                            created_at: r.get(2)?,
                            attempts: r.get(3)?,
                            last_error: r.get(4)?,
                            unreadable: r.get(5)?,
                        })
                    })();
                    match write {
                        Ok(w) => out.writes.push(w),
                        Err(e) => tracing::warn!(error = %e, "an outbox row could not be salvaged"),
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    out.note = Some(format!("the outbox was read up to a damaged page: {e}"));
                    break;
                }
            }
        }
    }
    if let Ok(mut stmt) = conn.prepare("SELECT key, text FROM drafts")
        && let Ok(mut rows) = stmt.query([])
    {
        while let Ok(Some(r)) = rows.next() {
            if let (Ok(key), Ok(text)) = (r.get(0), r.get(1)) {
                out.drafts.push((key, text));
            }
        }
    }
    out
}

/// What identifies a server's change log: its first change (a replaced server's log starts at
/// another instant).
pub fn origin_of(first: &Change) -> String {
    format!("{}@{}", first.seq, first.at.to_rfc3339())
}

/// Reads a cached JSON text with every string in it made terminal-safe, whichever field it
/// is in (so a field added later is covered too).
fn decode<T: DeserializeOwned>(json: &str) -> serde_json::Result<T> {
    if plainly_safe(json) {
        return serde_json::from_str(json);
    }
    let mut value: serde_json::Value = serde_json::from_str(json)?;
    super::scrub(&mut value);
    serde_json::from_value(value)
}

/// True when decoding `json` cannot yield anything unsafe: no unsafe character as such, and
/// no escape but the harmless ones (`\n`, `\t`, `\"`, `\\`, `\/`) — the usual case, which
/// then skips the slower scrubbing path.
fn plainly_safe(json: &str) -> bool {
    let mut chars = json.chars();
    while let Some(c) = chars.next() {
        if c == '\\' && !matches!(chars.next(), Some('n' | 't' | '"' | '\\' | '/')) {
            return false;
        }
    }
    matches!(terminal_safe(json), Cow::Borrowed(_))
}

fn meta_in(tx: &Transaction<'_>, key: &str) -> rusqlite::Result<Option<String>> {
    tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

fn set_meta_in(tx: &Transaction<'_>, key: &str, value: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Empties what a snapshot replaces.
fn begin_snapshot(tx: &Transaction<'_>) -> Result<(), CacheError> {
    tx.execute_batch(
        "DELETE FROM tickets; DELETE FROM queue_rows; DELETE FROM messages;
         DELETE FROM conversations;",
    )?;
    Ok(())
}

/// Stores `t` unless a newer version is already there.
fn upsert_ticket(tx: &Transaction<'_>, t: &TicketView) -> Result<(), CacheError> {
    let json = serde_json::to_string(t)?;
    let stored = tx.prepare_cached(
        "INSERT INTO tickets (id, version, status, updated_at, json) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, status = excluded.status,
             updated_at = excluded.updated_at, json = excluded.json
         WHERE excluded.version >= tickets.version",
    )?
    .execute(params![
        t.id,
        t.version,
        t.status.as_str(),
        t.updated_at.to_rfc3339(),
        json
    ])?;
    // An older version refused above must not reach the rows either (a closed ticket has
    // no row to guard it).
    if stored == 0 {
        return Ok(());
    }
    put_row(tx, &QueueRow::of(t))
}

/// Keeps the queue row of an open ticket, and drops that of one no longer open; unless a
/// newer version is already there.
fn put_row(tx: &Transaction<'_>, r: &QueueRow) -> Result<(), CacheError> {
    if !r.status.is_open() {
        tx.prepare_cached("DELETE FROM queue_rows WHERE id = ?1 AND version <= ?2")?
            .execute(params![r.id, r.version])?;
        return Ok(());
    }
    tx.prepare_cached(&format!(
        "INSERT INTO queue_rows ({ROW_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, status = excluded.status,
             priority = excluded.priority, category = excluded.category,
             system = excluded.system, submitter = excluded.submitter,
             assignee = excluded.assignee, title = excluded.title,
             created_ms = excluded.created_ms, clock_state = excluded.clock_state,
             clock_due_ms = excluded.clock_due_ms
         WHERE excluded.version >= queue_rows.version"
    ))?
    .execute(params![
        r.id,
        r.version,
        r.status.as_str(),
        r.priority.as_str(),
        r.category.as_str(),
        &*r.system,
        &*r.submitter,
        r.assignee.as_deref(),
        &*r.title,
        r.created_at.timestamp_millis(),
        r.clock.state,
        r.clock.due.timestamp_millis(),
    ])?;
    Ok(())
}

/// A queue row from the columns named in [`ROW_COLUMNS`].
fn row_from(r: &rusqlite::Row<'_>) -> Result<QueueRow, String> {
    let text = |i: usize| -> Result<&str, String> {
        r.get_ref(i)
            .map_err(|e| e.to_string())?
            .as_str()
            .map_err(|e| format!("column {i}: {e}"))
    };
    let word = |i: usize| -> Result<String, String> { text(i).map(str::to_string) };
    let int = |i: usize| -> Result<i64, String> { r.get::<_, i64>(i).map_err(|e| e.to_string()) };
    let time = |i: usize| -> Result<chrono::DateTime<Utc>, String> {
        chrono::DateTime::from_timestamp_millis(int(i)?)
            .ok_or_else(|| format!("column {i}: not a time"))
    };
    let id = int(0)?;
    let parse_err = |e: crate::domain::ticket::UnknownWord| format!("ticket {id}: {e}");
    Ok(QueueRow {
        id,
        version: int(1)?,
        status: word(2)?.parse().map_err(parse_err)?,
        priority: word(3)?.parse().map_err(parse_err)?,
        category: word(4)?.parse().map_err(parse_err)?,
        system: text(5)?.into(),
        submitter: text(6)?.into(),
        assignee: r
            .get_ref(7)
            .map_err(|e| e.to_string())?
            .as_str_or_null()
            .map_err(|e| e.to_string())?
            .map(Box::from),
        title: text(8)?.into(),
        created_at: time(9)?,
        clock: RowClock::new(text(10)?, time(11)?),
    })
}

/// Writes the queue rows of the open tickets cached before the rows existed (migration 4),
/// from their JSON, in one transaction; a ticket whose JSON cannot be read is left for the
/// next snapshot to replace.
fn fill_rows(conn: &mut Connection) -> Result<(), CacheError> {
    let tx = conn.transaction()?;
    let cached: Vec<(i64, String)> = {
        let mut stmt = tx.prepare("SELECT id, json FROM tickets")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    for (id, json) in cached {
        match decode::<TicketView>(&json) {
            Ok(t) => put_row(&tx, &QueueRow::of(&t))?,
            Err(e) => tracing::warn!(id, error = %e, "an unreadable cached ticket"),
        }
    }
    tx.commit()?;
    Ok(())
}

fn insert_message(tx: &Transaction<'_>, m: &Message) -> Result<(), CacheError> {
    let json = serde_json::to_string(m)?;
    tx.prepare_cached("INSERT OR REPLACE INTO messages (id, ticket_id, json) VALUES (?1, ?2, ?3)")?
        .execute(params![m.id, m.ticket_id, json])?;
    Ok(())
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), CacheError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(CacheError::TooNew {
            path: path.to_path_buf(),
            found: current,
            known,
        });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(current).unwrap_or(0))
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    // Tickets cached before the queue rows existed get theirs once, as the table arrives.
    if current < QUEUE_ROWS_ADDED {
        fill_rows(conn)?;
    }
    Ok(())
}

/// The same server written with or without a trailing slash is one server.
fn normalise(server: &str) -> String {
    server.trim().trim_end_matches('/').to_string()
}

fn file_name(server: &str) -> String {
    let digest = Sha256::digest(normalise(server).as_bytes());
    format!("server-{}.sqlite3", hex::encode(&digest[..8]))
}

fn content_key(json: &str) -> String {
    format!("content-{}", hex::encode(Sha256::digest(json.as_bytes())))
}

/// The cache holds internal notes and masked customer data: readable by its owner only, from
/// the moment the file exists (SQLite gives its `-wal` and `-shm` files the same mode).
#[cfg(unix)]
fn keep_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn keep_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

type Job = Box<dyn FnOnce(&mut Cache) + Send>;

/// A [`Cache`] on its own thread: jobs run one at a time in the order they were sent, so the
/// async loop never waits on the disk.
#[derive(Clone)]
pub struct CacheThread {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl CacheThread {
    /// Moves `cache` to a new thread, which ends when the last handle is dropped.
    pub fn start(cache: Cache) -> Result<CacheThread, CacheError> {
        let path = cache.path.clone();
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("opsdesk-cache".into())
            .spawn(move || {
                let mut cache = cache;
                while let Ok(job) = queue.recv() {
                    job(&mut cache);
                }
            })
            .map_err(|source| CacheError::Io { path, source })?;
        Ok(CacheThread { jobs })
    }

    /// Runs `job` after everything sent before it, without waiting for it.
    pub fn submit(&self, job: impl FnOnce(&mut Cache) + Send + 'static) {
        if self.jobs.send(Box::new(job)).is_err() {
            tracing::warn!("the cache thread has stopped; a cache write was dropped");
        }
    }

    /// Runs `job` after everything sent before it and returns its answer.
    pub async fn ask<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Cache) -> R + Send + 'static,
    ) -> Result<R, CacheError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |cache: &mut Cache| {
                let _ = tx.send(job(cache));
            }))
            .map_err(|_| CacheError::Stopped)?;
        rx.await.map_err(|_| CacheError::Stopped)
    }

    /// Waits until everything sent so far is written.
    pub async fn flush(&self) -> Result<(), CacheError> {
        self.ask(|_| ()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A note with a key (`Some`), or a patch whose content is its key (`None`); `text` tells
    /// them apart in the outbox.
    fn note(text: &str, key: Option<&str>) -> Write {
        match key {
            Some(k) => Write::message(1, text, true, k),
            None => Write::patch(1, &serde_json::json!({"version": 1, "title": text})),
        }
    }

    fn texts(cache: &Cache) -> Vec<String> {
        cache
            .outbox()
            .unwrap()
            .into_iter()
            .map(|q| {
                let body = &q.write.unwrap().requests[0].body;
                body.get("body")
                    .or(body.get("title"))
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn only_harmless_escapes_take_the_direct_path() {
        assert!(plainly_safe(r#"{"a":"一\n二\t\"三\" \\u001b \/"}"#));
        for hostile in [
            r#"{"a":"\u001b[6n"}"#,
            r#"{"a":"\r"}"#,
            r#"{"a":"\b"}"#,
            r#"{"a":"\f"}"#,
            "{\"a\":\"\u{202e}\"}",
        ] {
            assert!(!plainly_safe(hostile), "{hostile}");
        }
        let t: serde_json::Value = decode(r#"{"a":["x\u001b]52;c;eA==\u0007y"]}"#).unwrap();
        assert_eq!(t["a"][0], "xy");
    }

    #[test]
    fn a_file_per_server_url() {
        assert_eq!(file_name("http://a:1"), file_name("http://a:1/"));
        assert_ne!(file_name("http://a:1"), file_name("http://a:2"));
        assert!(file_name("http://a:1").ends_with(".sqlite3"));
    }

    #[test]
    fn migrations_apply_once_and_refuse_newer_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite3");
        drop(Cache::open(&path, "http://x").unwrap());
        let cache = Cache::open(&path, "http://x").unwrap();
        let v: i64 = cache
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        cache.conn.pragma_update(None, "user_version", 999).unwrap();
        drop(cache);
        assert!(matches!(
            Cache::open(&path, "http://x"),
            Err(CacheError::TooNew { found: 999, .. })
        ));
    }

    #[test]
    fn the_same_write_is_queued_once_and_by_content_when_it_has_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(&dir.path().join("c.sqlite3"), "http://x").unwrap();
        assert!(cache.enqueue(&note("a", Some("k1"))).unwrap());
        assert!(!cache.enqueue(&note("a", Some("k1"))).unwrap());
        assert!(cache.enqueue(&note("b", None)).unwrap());
        assert!(!cache.enqueue(&note("b", None)).unwrap());
        assert!(cache.enqueue(&note("c", None)).unwrap());
        assert_eq!(texts(&cache), ["a", "b", "c"]);
    }

    #[test]
    fn replace_keeps_the_place_and_folds_into_an_identical_write() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(&dir.path().join("c.sqlite3"), "http://x").unwrap();
        cache.enqueue(&note("a", None)).unwrap();
        cache.enqueue(&note("b", None)).unwrap();
        let first = cache.outbox().unwrap()[0].id;
        cache.replace(first, &note("a2", None)).unwrap();
        assert_eq!(texts(&cache), ["a2", "b"]);
        cache.replace(first, &note("b", None)).unwrap();
        assert_eq!(cache.outbox_len().unwrap(), 1);
    }

    #[test]
    fn unreadable_outbox_rows_are_given_back_with_their_text_and_set_aside_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(&dir.path().join("c.sqlite3"), "http://x").unwrap();
        cache
            .conn
            .execute(
                "INSERT INTO outbox (idempotency_key, call, created_at) VALUES ('x', '{\"format\": 9}', 'now')",
                [],
            )
            .unwrap();
        cache.enqueue(&note("a", None)).unwrap();
        let queued = cache.outbox().unwrap();
        assert_eq!(queued.len(), 2);
        let bad = queued[0].write.as_ref().unwrap_err();
        assert_eq!(bad.text, r#"{"format": 9}"#);
        assert_eq!(cache.outbox_len().unwrap(), 2);
        cache.set_aside(queued[0].id, &bad.reason).unwrap();
        assert_eq!(
            cache.outbox_len().unwrap(),
            1,
            "set aside: no longer waiting"
        );
        assert_eq!(texts(&cache), ["a"]);
        let aside = cache.set_aside_entries().unwrap();
        assert_eq!(aside.len(), 1);
        assert!(aside[0].reason.contains("newer"), "{aside:?}");
    }

    #[tokio::test]
    async fn the_thread_runs_jobs_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.sqlite3"), "http://x").unwrap();
        let thread = CacheThread::start(cache).unwrap();
        for text in ["a", "b", "c"] {
            thread.submit(move |c| {
                c.enqueue(&note(text, None)).unwrap();
            });
        }
        let texts = thread.ask(|c| texts(c)).await.unwrap();
        assert_eq!(texts, ["a", "b", "c"]);
    }
}
