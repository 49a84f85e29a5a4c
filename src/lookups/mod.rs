//! Lookups: a customer's log lines and data, looked up from the ticket in hand. One engine,
//! pure of HTTP-server and terminal types: the companion server runs it for the workstation
//! (the sources' credentials and the audit of who looked stay there), the CLI runs it
//! in-process with `--local`.
//!
//! A [`LogQuery`] is the same for every source: the customer's identifiers, a time window,
//! a level, free text, a regex. A source answers with [`LogLine`]s, newest first, handed to
//! the caller as they are found so a long search shows its first lines at once.

pub mod config;
pub mod elasticsearch;
pub mod files;
pub mod line;
pub mod query;
pub mod sources;
pub mod sql;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// How many lines answer the query in all, when the source can count them (an
    /// Elasticsearch search can; files are not read past the limit).
    pub total: Option<Total>,
    /// What was skipped and why (a line too long to hold, a file that could not be read),
    /// for the caller to show beside the lines.
    pub warnings: Vec<String>,
}

/// A count of hits, exact or a floor (Elasticsearch stops counting at a bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Total {
    pub value: u64,
    /// `true` when there are at least `value`.
    pub at_least: bool,
}

/// Lines in one minute, for the per-minute histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Minute {
    pub at: DateTime<Utc>,
    pub count: u64,
}

/// What a lookup hands over as it goes, in order: a source's lines (and its per-minute
/// counts when it has them), then that source's `done` or `failed`. These are the JSON lines
/// of `POST /api/v1/lookups`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Found {
    Line(LogLine),
    /// Hits a minute over the whole window (not only the lines handed over).
    Minutes {
        source: String,
        minutes: Vec<Minute>,
    },
    /// Something skipped; the search went on.
    Warning {
        source: String,
        message: String,
    },
    /// The source could not answer; the others go on.
    Failed {
        source: String,
        message: String,
    },
    Done {
        source: String,
        lines: usize,
        read: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        total: Option<Total>,
    },
}
