//! Proactive monitors on the wire: the monitors and their evaluations, the alerts they raise
//! with their anomalous rows, and what a handler does with an alert. Alerts and evaluations
//! themselves are `domain::monitor::alert`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::domain::monitor::alert::{Alert, AlertState, EvaluationRecord, Outcome};
use crate::domain::ticket::{Status, TicketId};

/// A monitor as `monitor list` and the Alerts pane show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MonitorInfo {
    pub name: String,
    pub title: String,
    /// `threshold`, `baseline`, `distribution` or `consistency`; empty when refused.
    pub kind: String,
    /// The cron expression, read in the business time zone.
    pub schedule: String,
    /// The sources it reads.
    pub sources: Vec<String>,
    pub enabled: bool,
    /// Why its file was refused at load (then it never runs).
    pub error: Option<String>,
    /// Its next scheduled evaluation.
    pub next_at: Option<DateTime<Utc>>,
    /// Its latest evaluation.
    pub last: Option<EvaluationRecord>,
    /// Its alert that is not resolved, if any.
    pub open_alert: Option<i64>,
}

/// A ticket linked to an alert's parent incident, or offered for linking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LinkedTicket {
    pub id: TicketId,
    pub title: String,
    pub status: Status,
    pub submitter: String,
    /// Why it matches the alert (`account`, `keyword`).
    pub matched: Option<String>,
}

/// An alert with its rows, its parent incident's linked tickets and the tickets offered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertDetail {
    pub alert: Alert,
    pub columns: Vec<String>,
    /// Customer data masked unless the handler asked to see it (`reveal`), which is audited.
    pub rows: Vec<Vec<Option<String>>>,
    pub revealed: bool,
    /// Tickets linked to the parent incident.
    pub linked: Vec<LinkedTicket>,
    /// Open tickets that look like the same problem and are not linked yet.
    pub candidates: Vec<LinkedTicket>,
}

/// Acknowledge, resolve or open a ticket: the version the handler saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertAction {
    #[serde(deserialize_with = "crate::domain::whole::whole")]
    pub version: i64,
    /// A resolve's note (kept in the audit).
    #[serde(default)]
    pub note: Option<String>,
}

/// Silence an alert (and its monitor's next alerts) for a while.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SilenceAlert {
    #[serde(deserialize_with = "crate::domain::whole::whole")]
    pub version: i64,
    /// How long: `30m`, `2h`, `1d` (at most 7 days); `0s`… is refused, `"off"` ends it.
    #[serde(rename = "for")]
    pub duration: String,
}

/// Link a ticket to the alert's parent incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkToAlert {
    #[serde(deserialize_with = "crate::domain::whole::whole")]
    pub ticket_id: TicketId,
}

/// What the alerts stream sends: the alert as it now is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertEvent {
    /// `alert.fired`, `alert.updated`, `alert.resolved`.
    pub kind: String,
    pub alert: Alert,
}
