//! The server's SQLite store: one writer thread that group-commits, a small pool of readers.
//!
//! Durability: WAL with `synchronous=FULL`, so a 2xx (sent only after COMMIT returns) survives
//! a process crash and a power loss. Throughput: an fsync costs ~0.3 ms, so one transaction per
//! request would cap creates near 3k/s; the writer drains every job queued behind the current
//! one into the same transaction (each job in its own SAVEPOINT, so one job's failure never
//! undoes another's) and fsyncs once for the lot.
//!
//! Callers hand closures to [`Store::write`] and [`Store::read`]; the aggregate modules hold
//! the SQL. rusqlite is blocking, so none of it ever runs on an async worker.

pub mod attachments;
pub mod audit;
pub mod changes;
pub mod construct;
pub mod help;
pub mod idempotency;
pub mod kb;
pub mod kb_images;
pub mod knowledge_sessions;
pub mod messages;
pub mod monitors;
pub mod notifications;
pub mod read_markers;
pub mod reports;
pub mod sandbox;
mod schema;
pub mod sessions;
pub mod tickets;
pub mod users;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{broadcast, oneshot, watch};

pub use changes::Change;

/// The database file inside a data dir.
pub const DB_FILE: &str = "opsdesk.sqlite3";
/// Jobs collected into one transaction at most; bounds the latency of the first job in a
/// batch when the queue is deep.
const MAX_BATCH: usize = 512;
/// Buffered change notifications per subscriber before it must catch up from the table.
const CHANGE_BUFFER: usize = 4096;
/// How often the writer looks for commits made by other processes.
const FOREIGN_POLL: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the store is shut down")]
    Closed,
    #[error("the data dir {0} was written by a newer opsdesk (schema {1}); refusing to open it")]
    TooNew(PathBuf, i64),
    #[error(
        "the data dir {0} cannot be written ({1}); opsdesk must be able to write there: check the mount, the permissions and the free space"
    )]
    NotWritable(PathBuf, String),
    /// A domain-level refusal raised inside a write job; carries its own meaning to the caller.
    #[error(transparent)]
    Rejected(#[from] Rejected),
}

/// Why a write cannot be done now, though nothing is wrong with the request: clients should
/// try again later (the disk gets space, the lock is released, the file system is remounted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteTrouble {
    /// No space left on the data dir's file system (or the quota is used up).
    DiskFull,
    /// Another process holds the database's write lock past the busy timeout.
    Busy,
    /// The data dir or the database file cannot be written.
    ReadOnly,
}

impl WriteTrouble {
    /// The word used in error codes and `/readyz`.
    pub fn code(self) -> &'static str {
        match self {
            WriteTrouble::DiskFull => "disk_full",
            WriteTrouble::Busy => "busy",
            WriteTrouble::ReadOnly => "read_only",
        }
    }
}

impl StoreError {
    /// The storage condition behind this error, when it is one that passes.
    pub fn trouble(&self) -> Option<WriteTrouble> {
        use rusqlite::ErrorCode;
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => match e.code {
                ErrorCode::DiskFull => Some(WriteTrouble::DiskFull),
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Some(WriteTrouble::Busy),
                ErrorCode::ReadOnly | ErrorCode::CannotOpen => Some(WriteTrouble::ReadOnly),
                _ => None,
            },
            StoreError::Io(e) => match e.kind() {
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                    Some(WriteTrouble::DiskFull)
                }
                std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied => {
                    Some(WriteTrouble::ReadOnly)
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// Refusals that a write job decides after reading current state, so the caller can answer
/// with the right status and nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
}

/// A queued write: `run` executes the caller's closure inside a savepoint and keeps its result;
/// `finish` answers the caller once the batch's fate is known (None = committed).
struct Job {
    run: Box<dyn FnOnce(&mut WriteCtx<'_>) -> bool + Send>,
    finish: Box<dyn FnOnce(Option<StoreError>) + Send>,
}

/// What a write job sees: the connection inside its savepoint, the job's clock, and the
/// change log it appends to (published to subscribers after the commit).
pub struct WriteCtx<'c> {
    pub conn: &'c Connection,
    pub now: DateTime<Utc>,
    changes: Vec<Change>,
    credentials: bool,
}

impl WriteCtx<'_> {
    pub(crate) fn published(&mut self, change: Change) {
        self.changes.push(change);
    }

    /// Marks this job as one that revokes or narrows someone's access (a token reissued, a
    /// password set, a role changed, a user disabled): once it commits, open event streams
    /// check their token again at once.
    pub fn credentials_changed(&mut self) {
        self.credentials = true;
    }
}

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db_path: PathBuf,
    data_dir: PathBuf,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    /// The writer thread; it answers whether its last checkpoint succeeded.
    writer: Mutex<Option<thread::JoinHandle<bool>>>,
    idle_readers: Mutex<Vec<Connection>>,
    changes: broadcast::Sender<Arc<Change>>,
    credentials: watch::Receiver<u64>,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`, migrating the schema.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir)?;
        std::fs::create_dir_all(data_dir.join("attachments"))?;
        let db_path = data_dir.join(DB_FILE);
        let not_writable = |e: &dyn std::fmt::Display| {
            StoreError::NotWritable(data_dir.to_path_buf(), e.to_string())
        };
        // A server that cannot write would answer every write with an error and never
        // recover; it is better not to start. SQLite quietly opens a file it cannot write
        // read-only, so both the dir and the connection are checked.
        probe_dir(data_dir).map_err(|e| not_writable(&e))?;
        probe_dir(&data_dir.join("attachments")).map_err(|e| not_writable(&e))?;
        let mut conn = open_conn(&db_path, false).map_err(|e| match e.trouble() {
            Some(_) => not_writable(&e),
            None => e,
        })?;
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            return Err(not_writable(&"the database file is read-only"));
        }
        schema::migrate(&mut conn, &db_path)?;
        touch_database(&conn)
            .and_then(|()| {
                conn.execute_batch("BEGIN IMMEDIATE; COMMIT;")
                    .map_err(Into::into)
            })
            .map_err(|e| not_writable(&e))?;

        let (tx, rx) = mpsc::channel::<Job>();
        let (changes, _) = broadcast::channel(CHANGE_BUFFER);
        let (credentials_tx, credentials) = watch::channel(0);
        let publisher = Publisher {
            tx: changes.clone(),
            credentials: credentials_tx,
            last_seq: changes::latest(&conn)?,
            data_version: conn.pragma_query_value(None, "data_version", |r| r.get(0))?,
        };
        let writer = thread::Builder::new()
            .name("opsdesk-writer".into())
            .spawn(move || writer_loop(conn, rx, publisher))?;
        Ok(Store {
            inner: Arc::new(Inner {
                db_path,
                data_dir: data_dir.to_path_buf(),
                jobs: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(writer)),
                idle_readers: Mutex::new(Vec::new()),
                changes,
                credentials,
            }),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    pub fn attachments_dir(&self) -> PathBuf {
        self.inner.data_dir.join("attachments")
    }

    /// Runs `f` in the writer's next transaction; resolves only after the COMMIT is durable.
    /// When `f` fails, its savepoint is rolled back and nothing it did is kept; `E` lets
    /// callers carry their own refusals through.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T, E> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let slot = Arc::new(Mutex::new(None::<Result<T, E>>));
        let kept = slot.clone();
        let job = Job {
            run: Box::new(move |ctx| {
                let result = f(ctx);
                let ok = result.is_ok();
                if let Ok(mut s) = kept.lock() {
                    *s = Some(result);
                }
                ok
            }),
            finish: Box::new(move |failure| {
                let result = slot.lock().ok().and_then(|mut s| s.take());
                let _ = tx.send(match (failure, result) {
                    (None, Some(result)) => result,
                    (Some(e), _) => Err(E::from(e)),
                    (None, None) => {
                        Err(E::from(StoreError::Corrupt("a write job panicked".into())))
                    }
                });
            }),
        };
        {
            let jobs = self
                .inner
                .jobs
                .lock()
                .map_err(|_| E::from(StoreError::Closed))?;
            let sender = jobs.as_ref().ok_or(E::from(StoreError::Closed))?;
            sender.send(job).map_err(|_| E::from(StoreError::Closed))?;
        }
        rx.await.map_err(|_| E::from(StoreError::Closed))?
    }

    /// Runs `f` on a read-only connection off the async workers.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.read_blocking(f))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    /// The blocking form of [`Store::read`], for the CLI and for code already off the runtime.
    pub fn read_blocking<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self
            .inner
            .idle_readers
            .lock()
            .ok()
            .and_then(|mut idle| idle.pop());
        let conn = match pooled {
            Some(c) => c,
            None => open_conn(&self.inner.db_path, true)?,
        };
        let result = f(&conn);
        if let Ok(mut idle) = self.inner.idle_readers.lock()
            && idle.len() < 16
        {
            idle.push(conn);
        }
        result
    }

    /// Proves that a write can succeed now: a small file in the data dir written and fsynced,
    /// and a commit that really writes the database (SQLite would commit an empty
    /// transaction without touching the disk).
    pub async fn probe_write(&self) -> Result<(), StoreError> {
        let dir = self.inner.data_dir.clone();
        tokio::task::spawn_blocking(move || probe_dir(&dir))
            .await
            .map_err(|_| StoreError::Closed)??;
        self.write(|ctx| touch_database(ctx.conn)).await
    }

    /// Every committed change, in sequence order, from now on.
    /// The credentials epoch: it moves after a local write that changed someone's access and
    /// after any commit by another process (within `FOREIGN_POLL`, one second), which may
    /// have been `opsdesk admin user token` or `password`. Holders of a long-lived request
    /// check their caller's token again when it moves.
    pub fn credentials(&self) -> watch::Receiver<u64> {
        self.inner.credentials.clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.inner.changes.subscribe()
    }

    /// Stops the writer after the queued jobs, then checkpoints the WAL into the main file;
    /// says whether that checkpoint succeeded (a later call has nothing left to do: true).
    /// Idempotent; later writes answer `Closed`.
    pub fn shutdown(&self) -> bool {
        if let Ok(mut jobs) = self.inner.jobs.lock() {
            jobs.take();
        }
        let handle = self.inner.writer.lock().ok().and_then(|mut w| w.take());
        let checkpointed = handle.is_none_or(|h| h.join().unwrap_or(false));
        if let Ok(mut idle) = self.inner.idle_readers.lock() {
            idle.clear();
        }
        checkpointed
    }
}

/// Online backup of the store in `data_dir` to `dest` through SQLite's backup API: consistent
/// with the WAL's contents, safe while a server writes. It opens the database read-only and
/// runs no migration, so it never changes the store it copies.
pub fn backup(data_dir: &Path, dest: &Path) -> Result<(), StoreError> {
    let conn = open_conn(&data_dir.join(DB_FILE), true)?;
    conn.backup(
        rusqlite::MAIN_DB,
        dest,
        None::<fn(rusqlite::backup::Progress)>,
    )?;
    Ok(())
}

fn open_conn(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    // Pragmas belong to the connection, not to a migration.
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a committed transaction survives a power loss, not only a process crash.
        conn.pragma_update(None, "synchronous", "FULL")?;
    }
    Ok(conn)
}

/// Publishes committed changes to subscribers, in sequence order, each once.
struct Publisher {
    tx: broadcast::Sender<Arc<Change>>,
    /// The credentials epoch (see [`Store::credentials`]).
    credentials: watch::Sender<u64>,
    /// The newest sequence number published.
    last_seq: i64,
    /// `PRAGMA data_version` when last looked: it moves only on other connections' commits.
    data_version: i64,
}

impl Publisher {
    fn publish(&mut self, change: Change) {
        self.last_seq = self.last_seq.max(change.seq);
        // No subscribers is fine: the change is in the table for catch-up.
        let _ = self.tx.send(Arc::new(change));
    }

    fn credentials_changed(&self) {
        self.credentials
            .send_modify(|epoch| *epoch = epoch.wrapping_add(1));
    }

    /// Other processes (the CLI's import and admin commands) write to the same file; their
    /// changes are published once seen, so subscribers never wait for the next local write.
    fn publish_foreign(&mut self, conn: &Connection) {
        let version: i64 = match conn.pragma_query_value(None, "data_version", |r| r.get(0)) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read data_version");
                return;
            }
        };
        if version == self.data_version {
            return;
        }
        self.data_version = version;
        // Which tables another process wrote is not known; any of its commits may have
        // revoked a token, so streams look again (one indexed read each).
        self.credentials_changed();
        loop {
            match changes::since(conn, self.last_seq, 500) {
                Ok(page) if page.is_empty() => return,
                Ok(page) => page.into_iter().for_each(|c| self.publish(c)),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read other processes' changes");
                    return;
                }
            }
        }
    }
}

/// Writes, fsyncs and removes a small file in `dir`: what any upload or the database's WAL
/// growth needs, so a full or read-only file system shows here first.
fn probe_dir(dir: &Path) -> Result<(), StoreError> {
    use std::io::Write;
    let path = dir.join(".write-probe");
    let result = (|| {
        let mut f = std::fs::File::create(&path)?;
        f.write_all(&[0u8; 4096])?;
        f.sync_all()
    })();
    let _ = std::fs::remove_file(&path);
    result.map_err(StoreError::from)
}

/// Rewrites the schema version with its own value: a change to the database's first page,
/// so the commit that follows writes and fsyncs the WAL like any real write.
fn touch_database(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    conn.pragma_update(None, "user_version", version)?;
    Ok(())
}

/// Returns whether the WAL was checkpointed into the main file at the end.
fn writer_loop(conn: Connection, jobs: mpsc::Receiver<Job>, mut publisher: Publisher) -> bool {
    loop {
        match jobs.recv_timeout(FOREIGN_POLL) {
            Ok(first) => {
                // Another process's commits are published (and its revocations take effect)
                // before this batch's, so a stream never sees a later local change first.
                publisher.publish_foreign(&conn);
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match jobs.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                run_batch(&conn, batch, &mut publisher);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => publisher.publish_foreign(&conn),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    // Channel closed: fold the WAL back so the data dir is one self-contained file.
    match conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);") {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "checkpoint at shutdown failed");
            false
        }
    }
}

fn run_batch(conn: &Connection, batch: Vec<Job>, publisher: &mut Publisher) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!(error = %e, "cannot begin a write transaction");
        for job in batch {
            (job.finish)(Some(batch_failure(&e)));
        }
        return;
    }
    let changes_before = conn.total_changes();
    let mut finishers = Vec::with_capacity(batch.len());
    let mut published = Vec::new();
    let mut credentials = false;
    for job in batch {
        let mut ctx = WriteCtx {
            conn,
            now: Utc::now(),
            changes: Vec::new(),
            credentials: false,
        };
        let ok = match conn.execute_batch("SAVEPOINT job") {
            // A panicking job must not take the writer (and so every later write) down with it.
            Ok(()) => catch_unwind(AssertUnwindSafe(|| (job.run)(&mut ctx))).unwrap_or_else(|_| {
                tracing::error!("a write job panicked; its savepoint is rolled back");
                false
            }),
            Err(e) => {
                tracing::error!(error = %e, "savepoint failed");
                false
            }
        };
        let end = if ok {
            "RELEASE job"
        } else {
            "ROLLBACK TO job; RELEASE job"
        };
        if let Err(e) = conn.execute_batch(end) {
            tracing::error!(error = %e, "ending a savepoint failed");
        }
        if ok {
            published.append(&mut ctx.changes);
            credentials |= ctx.credentials;
        }
        finishers.push(job.finish);
    }
    // A batch that changed no row (a PATCH that changes nothing) would commit without
    // touching the disk and answer 2xx from a database that cannot be written; writing the
    // first page makes its commit as honest as any other.
    if conn.total_changes() == changes_before
        && let Err(e) = touch_database(conn)
    {
        tracing::error!(error = %e, "cannot write the database; the batch is rolled back");
        let _ = conn.execute_batch("ROLLBACK");
        for finish in finishers {
            finish(Some(match &e {
                StoreError::Sqlite(s) => batch_failure(s),
                other => StoreError::Corrupt(other.to_string()),
            }));
        }
        return;
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => {
            for finish in finishers {
                finish(None);
            }
            for change in published {
                publisher.publish(change);
            }
            if credentials {
                publisher.credentials_changed();
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "commit failed; the whole batch is rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            for finish in finishers {
                finish(Some(batch_failure(&e)));
            }
        }
    }
}

/// rusqlite errors are not Clone; a batch failure is reported to every job in it.
fn batch_failure(e: &rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(code, msg) => {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(*code, msg.clone()))
        }
        other => StoreError::Corrupt(other.to_string()),
    }
}

/// Times are stored as RFC 3339 UTC with milliseconds, which sorts as text.
/// `n` random bytes from the OS, hex-encoded: tokens, session ids, stored file names.
pub fn random_hex(n: usize) -> Result<String, StoreError> {
    let mut raw = vec![0u8; n];
    getrandom::fill(&mut raw).map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?;
    Ok(hex::encode(raw))
}

/// How a random secret (token, session id) is stored: being random it needs no slow hash, and
/// SHA-256 makes the stored column useless to a reader of the database.
pub fn secret_hash(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn parse_ts(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("bad timestamp '{s}': {e}")))
}

pub fn parse_opt_ts(s: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    s.as_deref().map(parse_ts).transpose()
}
