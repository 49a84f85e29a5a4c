//! Lookups: a customer's log lines and data, looked up from the ticket in hand. One engine,
//! pure of HTTP-server and terminal types: the companion server runs it for the workstation
//! (the sources' credentials and the audit of who looked stay there), the CLI runs it
//! in-process with `--local`.
//!
//! A [`LogQuery`] is the same for every source: the customer's identifiers, a time window,
//! a level, free text, a regex. A source answers with [`LogLine`]s, newest first, handed to
//! the caller as they are found so a long search shows its first lines at once.

pub mod files;
pub mod line;
pub mod query;

pub use line::{FieldNames, LineFormat, LogLine};
pub use query::{LogQuery, QueryError};

/// Why a source could not answer: always naming the source, never its credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct SourceError {
    pub source_name: String,
    pub message: String,
}

/// How a search went, besides the lines it gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Searched {
    /// Lines handed over.
    pub lines: usize,
    /// Files (or pages) read.
    pub read: usize,
    /// What was skipped and why (a line too long to hold, a file that could not be read),
    /// for the caller to show beside the lines.
    pub warnings: Vec<String>,
}
