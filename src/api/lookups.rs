//! Lookup bodies: what a handler asks of the log sources, and what comes back (the JSON lines
//! of [`Found`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::lookups::sources::SourceInfo;
pub use crate::lookups::sql::{DataRows, QueryInfo};
pub use crate::lookups::{Found, LogLine, Minute, Total};

/// `POST /api/v1/lookups`: a customer's log lines, from the ticket in hand or by identifiers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    /// The ticket the lookup is for: its customer's account and phone are the identifiers
    /// when none are given, its reported time the middle of the window when none is given,
    /// and the audit log files the lookup under it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::whole::whole_or_null"
    )]
    #[schema(minimum = 1)]
    pub ticket: Option<i64>,
    /// The sources to search by name (`GET /api/v1/lookups/sources`); empty: all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// A line must hold one of these (user id, account, phone, trace id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 16, value_type = Vec<String>)]
    pub identifiers: Vec<String>,
    /// Window start (default: an hour before `to` when only that is given, else 30 minutes
    /// before the ticket was reported, or an hour ago).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Window end (default: now when only `from` is given, an hour after it at least; else 30
    /// minutes after the ticket was reported, or now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// Only lines of this level (`ERROR`, `warn`; any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub level: Option<String>,
    /// Words a line must hold (any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub text: Option<String>,
    /// A regular expression a line must match (Rust `regex` syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub regex: Option<String>,
    /// At most this many lines a source, newest first (1–10000, default 500).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::whole::whole_or_null"
    )]
    #[schema(minimum = 1, maximum = 10000)]
    pub limit: Option<i64>,
}

/// `POST /api/v1/lookups/data`: one named query of a data source, for a customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataLookupRequest {
    /// The query's name (`GET /api/v1/lookups/queries`).
    pub query: String,
    /// The data source holding it, when two hold a query of that name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The ticket whose customer it is for: the query's identifier is taken from it when not
    /// given, and the audit log files the lookup under it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::whole::whole_or_null"
    )]
    #[schema(minimum = 1)]
    pub ticket: Option<i64>,
    /// The customer's identifier, the kind the query looks up by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
}
