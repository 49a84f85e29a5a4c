//! Alerts and evaluations as recorded: what each evaluation of a monitor found, and the
//! alert it raised, with its lifecycle firing → acknowledged → resolved.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ticket::{TicketId, UnknownWord, word_enum};

word_enum!(
    /// How an evaluation ended.
    Outcome {
        Ok = "ok",
        Firing = "firing",
        Error = "error",
    }
);

word_enum!(
    /// Where an alert is in its life: firing → acknowledged → resolved.
    AlertState {
        Firing = "firing",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
    }
);

/// One evaluation of a monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationRecord {
    pub id: i64,
    pub monitor: String,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub outcome: Outcome,
    /// The measured value (absent on error).
    pub value: Option<f64>,
    /// What was found, or why it failed.
    pub summary: String,
    /// The alert it raised or kept firing.
    pub alert_id: Option<i64>,
}

/// An alert: one per monitor while it is not resolved; a monitor that keeps firing updates
/// it rather than raising another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Alert {
    pub id: i64,
    /// Bumped by every change; an action names the version it saw.
    pub version: i64,
    pub monitor: String,
    pub title: String,
    pub state: AlertState,
    /// The latest evaluation's finding, customer numbers masked.
    pub summary: String,
    pub value: Option<f64>,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// Evaluations that found it firing.
    pub evaluations: i64,
    /// Anomalous rows kept for drill-down.
    pub rows: usize,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who resolved it; absent when the monitor found it cleared.
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// No notifications go out for it (or its monitor's next alerts) until then.
    pub silenced_until: Option<DateTime<Utc>>,
    pub silenced_by: Option<String>,
    /// The parent incident it opened.
    pub ticket_id: Option<TicketId>,
}
