//! The change log as clients read it: pages of `/changes` and a ticket's timeline.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::domain::view::Change;

/// One page of `/changes`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangePage {
    pub changes: Vec<Change>,
    /// The newest sequence number in the store.
    pub latest: i64,
    /// More changes follow the last one in this page.
    pub more: bool,
}

/// The event `/api/v1/events` sends, alone, to a client resuming past its newest change.
pub const RESET_EVENT: &str = "reset";

/// The data of the `reset` event `/events` sends, alone, to a client resuming past the
/// server's newest change: its position means nothing here, so it resyncs from `since=0`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResetNotice {
    /// The position the client asked to resume after.
    pub since: i64,
    /// The newest sequence number the server has.
    pub latest: i64,
    pub message: String,
}

/// One line of a ticket's timeline: who did what, when (from `GET /tickets/{id}/audit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: String,
    pub actor: String,
    pub action: String,
    #[serde(default)]
    pub detail: serde_json::Value,
}
