//! Monitors and alerts through the server. Every text is made terminal-safe ([`safe`]): a
//! monitor's summary and rows quote what business databases hold.

use super::construct::path_part;
use super::{ApiClient, ClientError};
use crate::api::monitors::{Alert, AlertDetail, EvaluationRecord, MonitorInfo};
use crate::domain::ticket::TicketId;

impl ApiClient {
    pub async fn monitors(&self) -> Result<Vec<MonitorInfo>, ClientError> {
        self.get_safe("/api/v1/monitors", &[]).await
    }

    /// Evaluates `name` now on the server, and records it.
    pub async fn run_monitor(&self, name: &str) -> Result<EvaluationRecord, ClientError> {
        self.post_safe(
            &format!("/api/v1/monitors/{}/run", path_part(name)),
            &serde_json::json!({}),
        )
        .await
    }

    pub async fn monitor_history(
        &self,
        name: &str,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Vec<EvaluationRecord>, ClientError> {
        let mut query = vec![("limit", limit.to_string())];
        if let Some(b) = before {
            query.push(("before", b.to_string()));
        }
        self.get_safe(
            &format!("/api/v1/monitors/{}/history", path_part(name)),
            &query,
        )
        .await
    }

    pub async fn alerts(&self, limit: usize) -> Result<Vec<Alert>, ClientError> {
        self.get_safe("/api/v1/alerts", &[("limit", limit.to_string())])
            .await
    }

    /// An alert with its rows: masked, or in full when `reveal` (audited).
    pub async fn alert(&self, id: i64, reveal: bool) -> Result<AlertDetail, ClientError> {
        self.get_safe(
            &format!("/api/v1/alerts/{id}"),
            &[("reveal", reveal.to_string())],
        )
        .await
    }

    pub async fn acknowledge_alert(&self, id: i64, version: i64) -> Result<Alert, ClientError> {
        let body = serde_json::json!({ "version": version });
        self.post_safe(&format!("/api/v1/alerts/{id}/acknowledge"), &body)
            .await
    }

    pub async fn resolve_alert(
        &self,
        id: i64,
        version: i64,
        note: Option<&str>,
    ) -> Result<Alert, ClientError> {
        let body = serde_json::json!({ "version": version, "note": note });
        self.post_safe(&format!("/api/v1/alerts/{id}/resolve"), &body)
            .await
    }

    /// Silences for `duration` (`2h`, `1d`; `off` ends it).
    pub async fn silence_alert(
        &self,
        id: i64,
        version: i64,
        duration: &str,
    ) -> Result<Alert, ClientError> {
        let body = serde_json::json!({ "version": version, "for": duration });
        self.post_safe(&format!("/api/v1/alerts/{id}/silence"), &body)
            .await
    }

    /// Opens the alert's parent incident.
    pub async fn open_alert_ticket(&self, id: i64, version: i64) -> Result<Alert, ClientError> {
        let body = serde_json::json!({ "version": version });
        self.post_safe(&format!("/api/v1/alerts/{id}/ticket"), &body)
            .await
    }

    pub async fn link_to_alert(
        &self,
        id: i64,
        ticket: TicketId,
    ) -> Result<AlertDetail, ClientError> {
        let body = serde_json::json!({ "ticket_id": ticket });
        self.post_safe(&format!("/api/v1/alerts/{id}/links"), &body)
            .await
    }
}
