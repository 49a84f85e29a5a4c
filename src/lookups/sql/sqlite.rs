//! SQLite, through the project's rusqlite (a second SQLite in the build cannot link): the
//! file opened read-only and never created, `query_only` on, on the blocking pool. A query
//! over its time is interrupted from the async side.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, InterruptHandle, OpenFlags};
use tokio::sync::oneshot;

use super::cells::hex_bytes;
use super::{Failure, Fetched, Lookup};

/// What the blocking side needs of a lookup, owned.
struct Owned {
    path: PathBuf,
    sql: String,
    value: String,
    binds: usize,
    max_rows: usize,
    timeout: Duration,
}

pub(super) async fn fetch(path: &Path, lookup: &Lookup<'_>) -> Result<Fetched, Failure> {
    let owned = Owned {
        path: path.to_path_buf(),
        sql: lookup.sql.to_string(),
        value: lookup.value.to_string(),
        binds: lookup.binds,
        max_rows: lookup.max_rows,
        timeout: lookup.timeout,
    };
    let (handle_tx, mut handle_rx) = oneshot::channel();
    let mut task = tokio::task::spawn_blocking(move || read_only(&owned, handle_tx));
    let joined = match tokio::time::timeout(lookup.timeout, &mut task).await {
        Ok(joined) => joined,
        Err(_) => {
            // The running statement stops with SQLITE_INTERRUPT, read as a timeout below.
            if let Ok(handle) = handle_rx.try_recv() {
                handle.interrupt();
            }
            match tokio::time::timeout(lookup.backstop() - lookup.timeout, task).await {
                Ok(joined) => joined,
                Err(_) => return Err(Failure::TimedOut),
            }
        }
    };
    joined.unwrap_or_else(|e| Err(Failure::Lost(format!("the lookup stopped: {e}"))))
}

fn read_only(
    lookup: &Owned,
    handle_tx: oneshot::Sender<InterruptHandle>,
) -> Result<Fetched, Failure> {
    // Opening read-only never creates a file; this says so in words rather than in
    // SQLite's "unable to open database file".
    if !lookup.path.is_file() {
        return Err(Failure::Unreachable(format!(
            "no database file at {}",
            lookup.path.display()
        )));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&lookup.path, flags)
        .map_err(|e| Failure::Unreachable(e.to_string()))?;
    let _ = handle_tx.send(conn.get_interrupt_handle());
    conn.pragma_update(None, "query_only", true)
        .map_err(failure)?;
    conn.busy_timeout(lookup.timeout).map_err(failure)?;
    let mut statement = conn.prepare(&lookup.sql).map_err(failure)?;
    // SQLite reads `:name`, `@name` and `$name` as parameters too; one the lookup does not
    // bind would silently be NULL.
    if statement.parameter_count() != lookup.binds {
        return Err(Failure::Refused(format!(
            "the query has {} parameters where {} are bound: write the value only as \
             :account, :phone or :id_number",
            statement.parameter_count(),
            lookup.binds
        )));
    }
    for i in 1..=lookup.binds {
        statement
            .raw_bind_parameter(i, lookup.value.as_str())
            .map_err(failure)?;
    }
    let columns: Vec<String> = statement.column_names().map(String::from).collect();
    let width = columns.len();
    let mut found = statement.raw_query();
    let mut rows = Vec::new();
    let mut truncated = false;
    while let Some(row) = found.next().map_err(failure)? {
        if rows.len() == lookup.max_rows {
            truncated = true;
            break;
        }
        rows.push(
            (0..width)
                .map(|i| row.get_ref(i).ok().and_then(cell))
                .collect(),
        );
    }
    Ok(Fetched {
        columns,
        rows,
        truncated,
    })
}

fn failure(e: rusqlite::Error) -> Failure {
    match e.sqlite_error_code() {
        Some(ErrorCode::OperationInterrupted) => Failure::TimedOut,
        Some(_) => Failure::Refused(e.to_string()),
        None => Failure::Lost(e.to_string()),
    }
}

fn cell(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        // Debug keeps the point of a whole real (`2.0`), as SQLite's own shell shows it.
        ValueRef::Real(f) => Some(format!("{f:?}")),
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Some(hex_bytes(b)),
    }
}
