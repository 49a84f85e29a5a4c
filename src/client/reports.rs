//! The service center through the server: a period's report, its HTML file, and the knowledge
//! sessions. Every text (titles, topics, subcategories, names) is made terminal-safe here,
//! map keys included ([`scrub`]), since a subcategory is whatever a handler typed.

use super::{ApiClient, ClientError, safe};
use crate::domain::report::{KnowledgeSession, NewSession, Report, ReportKind, SessionChange};

impl ApiClient {
    /// The report of `period` (`2026-W47`, `2026-11`), or of the period now running.
    pub async fn report(
        &self,
        kind: ReportKind,
        period: Option<&str>,
    ) -> Result<Report, ClientError> {
        let mut req = self
            .http
            .get(self.url(&format!("/api/v1/reports/{}", kind.as_str())));
        if let Some(p) = period {
            req = req.query(&[("period", p)]);
        }
        let value: serde_json::Value = self.send(req).await?;
        safe(value)
    }

    /// The report as the self-contained HTML file the server renders (`/reports/…`).
    pub async fn report_html(
        &self,
        kind: ReportKind,
        period: Option<&str>,
    ) -> Result<String, ClientError> {
        let path = match period {
            Some(p) => format!("/reports/{}/{p}", kind.as_str()),
            None => format!("/reports/{}", kind.as_str()),
        };
        let bytes = self
            .dispatch(self.http.get(self.url(&path)))
            .await?
            .bytes()
            .await
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        String::from_utf8(bytes.to_vec()).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// A page of every ticket's report facts changed since `since` (`after`: the `next` of
    /// the page before).
    pub async fn export_facts(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        after: Option<&crate::api::ExportCursor>,
    ) -> Result<crate::api::ExportPage, ClientError> {
        let mut query = vec![("since", since.to_rfc3339())];
        if let Some(after) = after {
            query.push(("after", after.after.to_rfc3339()));
            query.push(("after_id", after.after_id.to_string()));
        }
        let value: serde_json::Value = self
            .send(
                self.http
                    .get(self.url("/api/v1/reports/facts"))
                    .query(&query),
            )
            .await?;
        safe(value)
    }

    /// Knowledge sessions held on `[from, to]` (local days), newest first.
    pub async fn knowledge_sessions(
        &self,
        from: Option<chrono::NaiveDate>,
        to: Option<chrono::NaiveDate>,
    ) -> Result<Vec<KnowledgeSession>, ClientError> {
        let mut query = Vec::new();
        if let Some(from) = from {
            query.push(("from", from.to_string()));
        }
        if let Some(to) = to {
            query.push(("to", to.to_string()));
        }
        let value: serde_json::Value = self
            .send(
                self.http
                    .get(self.url("/api/v1/knowledge-sessions"))
                    .query(&query),
            )
            .await?;
        safe(value)
    }

    pub async fn record_session(
        &self,
        session: &NewSession,
        idempotency_key: Option<&str>,
    ) -> Result<KnowledgeSession, ClientError> {
        let mut req = self
            .http
            .post(self.url("/api/v1/knowledge-sessions"))
            .json(session);
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        let value: serde_json::Value = self.send(req).await?;
        safe(value)
    }

    pub async fn change_session(
        &self,
        id: i64,
        change: &SessionChange,
    ) -> Result<KnowledgeSession, ClientError> {
        let value: serde_json::Value = self
            .send(
                self.http
                    .patch(self.url(&format!("/api/v1/knowledge-sessions/{id}")))
                    .json(change),
            )
            .await?;
        safe(value)
    }
}
