//! SQLite, through the project's rusqlite (a second SQLite in the build cannot link): the
//! file opened read-only and never created, `query_only` on, on the blocking pool. A query
//! over its time is interrupted from the async side.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, InterruptHandle, OpenFlags};

use super::cells::hex_bytes;
use super::{Failure, Lookup, RowSink};

/// What the blocking side needs of a lookup, owned.
struct Owned {
    path: PathBuf,
    sql: String,
    values: Vec<String>,
    timeout: Duration,
}

pub(super) async fn fetch<S: RowSink>(
    path: &Path,
    lookup: &Lookup<'_>,
    sink: S,
) -> Result<S, Failure> {
    let owned = Owned {
        path: path.to_path_buf(),
        sql: lookup.sql.to_string(),
        values: lookup.values.clone(),
        timeout: lookup.timeout,
    };
    let stop = Stop::default();
    let reader = stop.clone();
    let mut task = tokio::task::spawn_blocking(move || read_only(&owned, &reader, sink));
    // Interrupts the statement however this future ends: at the timeout, or dropped by a
    // caller that went away (a client gone, a server stopping). A statement left running
    // would hold a blocking thread, and a stopping runtime waits for it.
    let _interrupt = stop.on_drop();
    let joined = match tokio::time::timeout(lookup.timeout, &mut task).await {
        Ok(joined) => joined,
        Err(_) => {
            // The running statement stops with SQLITE_INTERRUPT, read as a timeout below.
            stop.interrupt();
            match tokio::time::timeout(lookup.backstop() - lookup.timeout, task).await {
                Ok(joined) => joined,
                Err(_) => return Err(Failure::TimedOut),
            }
        }
    };
    joined.unwrap_or_else(|e| Err(Failure::Lost(format!("the lookup stopped: {e}"))))
}

/// The way to stop a read on the blocking pool from the async side, whichever comes first:
/// the read opening its connection, or the stop.
#[derive(Clone, Default)]
struct Stop(Arc<Mutex<StopState>>);

#[derive(Default)]
struct StopState {
    stopped: bool,
    handle: Option<InterruptHandle>,
}

/// Stops the read when dropped.
struct InterruptOnDrop(Stop);

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        self.0.interrupt();
    }
}

impl Stop {
    fn on_drop(&self) -> InterruptOnDrop {
        InterruptOnDrop(self.clone())
    }

    /// Interrupts the running statement, or the read before it starts one.
    fn interrupt(&self) {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        state.stopped = true;
        if let Some(handle) = &state.handle {
            handle.interrupt();
        }
    }

    /// Hands over the connection's interrupt; `false` when the read was stopped already.
    fn started(&self, handle: InterruptHandle) -> bool {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        state.handle = Some(handle);
        !state.stopped
    }
}

fn read_only<S: RowSink>(lookup: &Owned, stop: &Stop, mut sink: S) -> Result<S, Failure> {
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
    if !stop.started(conn.get_interrupt_handle()) {
        return Err(Failure::TimedOut);
    }
    conn.pragma_update(None, "query_only", true)
        .map_err(failure)?;
    conn.busy_timeout(lookup.timeout).map_err(failure)?;
    let mut statement = conn.prepare(&lookup.sql).map_err(failure)?;
    // SQLite reads `:name`, `@name` and `$name` as parameters too; one the lookup does not
    // bind would silently be NULL.
    if statement.parameter_count() != lookup.values.len() {
        return Err(Failure::Refused(format!(
            "the query has {} parameters where {} are bound: write values only as the \
             named parameters offered (:account, :phone, :id_number; a monitor's :today, \
             :day, :until)",
            statement.parameter_count(),
            lookup.values.len()
        )));
    }
    for (i, value) in lookup.values.iter().enumerate() {
        statement
            .raw_bind_parameter(i + 1, value.as_str())
            .map_err(failure)?;
    }
    let columns: Vec<String> = statement.column_names().map(String::from).collect();
    let width = columns.len();
    sink.columns(columns);
    let mut found = statement.raw_query();
    while let Some(row) = found.next().map_err(failure)? {
        let row = (0..width)
            .map(|i| row.get_ref(i).ok().and_then(cell))
            .collect();
        // On the blocking pool: waiting here is what holds a fast database to the pace of
        // a slow reader, not a growing buffer.
        if !futures::executor::block_on(sink.row(row)) {
            break;
        }
    }
    Ok(sink)
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
