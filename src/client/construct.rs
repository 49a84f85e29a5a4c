//! Account construction through the server: recipes, environments, runs and their progress.
//! Every text is made terminal-safe ([`safe`]): a business system's answer is recorded as it
//! came, and a recipe's titles are whatever its author wrote.

use std::collections::BTreeMap;

use eventsource_stream::Eventsource;
use futures::{Stream, StreamExt};

use super::{ApiClient, ClientError, safe};
use crate::api::construct::{
    EnvironmentView, InputCheck, LAGGED_EVENT, RecipeForm, RecipeSummary, RunEvent,
    StartConstruction,
};
use crate::domain::construct::run::{ConstructStats, Run, RunDetail, RunStatus};

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    /// `me`, or a username.
    pub started_by: Option<String>,
    pub status: Option<RunStatus>,
    pub environment: Option<String>,
    pub batch: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<usize>,
}

impl ApiClient {
    pub(crate) async fn get_safe<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ClientError> {
        let value: serde_json::Value = self
            .send(self.http.get(self.url(path)).query(query))
            .await?;
        safe(value)
    }

    /// POSTs `body` as JSON; the answer made terminal-safe.
    pub(crate) async fn post_safe<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, ClientError> {
        let value: serde_json::Value = self.send(self.http.post(self.url(path)).json(body)).await?;
        safe(value)
    }

    pub async fn recipes(&self) -> Result<Vec<RecipeSummary>, ClientError> {
        self.get_safe("/api/v1/recipes", &[]).await
    }

    pub async fn recipe(&self, name: &str) -> Result<RecipeForm, ClientError> {
        self.get_safe(&format!("/api/v1/recipes/{}", path_part(name)), &[])
            .await
    }

    /// The recipe's inputs filled as a run would fill them (or what is wrong), changing
    /// nothing.
    pub async fn check_inputs(
        &self,
        name: &str,
        set: &BTreeMap<String, String>,
        seed: Option<i64>,
    ) -> Result<InputCheck, ClientError> {
        let body = serde_json::json!({ "set": set, "seed": seed });
        let path = format!("/api/v1/recipes/{}/check", path_part(name));
        self.post_safe(&path, &body).await
    }

    pub async fn environments(&self) -> Result<Vec<EnvironmentView>, ClientError> {
        self.get_safe("/api/v1/environments", &[]).await
    }

    pub async fn start_construction(
        &self,
        start: &StartConstruction,
        idempotency_key: Option<&str>,
    ) -> Result<Vec<Run>, ClientError> {
        let mut req = self
            .http
            .post(self.url("/api/v1/constructions"))
            .json(start);
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        let value: serde_json::Value = self.send(req).await?;
        safe(value)
    }

    pub async fn constructions(&self, q: &RunQuery) -> Result<Vec<Run>, ClientError> {
        let mut query = Vec::new();
        let mut add = |k: &'static str, v: Option<String>| {
            if let Some(v) = v {
                query.push((k, v));
            }
        };
        add("started_by", q.started_by.clone());
        add("status", q.status.map(|s| s.as_str().to_string()));
        add("environment", q.environment.clone());
        add("batch", q.batch.clone());
        add("before", q.before.map(|b| b.to_string()));
        add("limit", q.limit.map(|l| l.to_string()));
        self.get_safe("/api/v1/constructions", &query).await
    }

    pub async fn construction(&self, id: i64) -> Result<RunDetail, ClientError> {
        self.get_safe(&format!("/api/v1/constructions/{id}"), &[])
            .await
    }

    pub async fn resume_construction(
        &self,
        id: i64,
        retry_unknown: bool,
    ) -> Result<Run, ClientError> {
        let body = serde_json::json!({ "retry_unknown": retry_unknown });
        self.post_safe(&format!("/api/v1/constructions/{id}/resume"), &body)
            .await
    }

    pub async fn cancel_construction(&self, id: i64) -> Result<Run, ClientError> {
        let value: serde_json::Value = self
            .send(
                self.http
                    .post(self.url(&format!("/api/v1/constructions/{id}/cancel"))),
            )
            .await?;
        safe(value)
    }

    pub async fn construct_stats(
        &self,
        from: Option<chrono::NaiveDate>,
        to: Option<chrono::NaiveDate>,
    ) -> Result<ConstructStats, ClientError> {
        let mut query = Vec::new();
        if let Some(f) = from {
            query.push(("from", f.to_string()));
        }
        if let Some(t) = to {
            query.push(("to", t.to_string()));
        }
        self.get_safe("/api/v1/constructions/stats", &query).await
    }

    /// The runs' progress as it happens, each event made terminal-safe. Open it before
    /// starting runs, so none of their events is missed.
    pub async fn construction_feed(
        &self,
    ) -> Result<impl Stream<Item = Result<Progress, ClientError>> + Send + Unpin + use<>, ClientError>
    {
        let response = self
            .dispatch(
                self.stream_http
                    .get(self.url("/api/v1/constructions/events")),
            )
            .await?;
        Ok(Box::pin(response.bytes_stream().eventsource().filter_map(
            |event| async move {
                match event {
                    Err(e) => Some(Err(ClientError::Protocol(e.to_string()))),
                    Ok(e) if e.event == LAGGED_EVENT => Some(Ok(Progress::Lagged)),
                    Ok(e) if e.event == "run" => Some(
                        serde_json::from_str::<serde_json::Value>(&e.data)
                            .map_err(|e| ClientError::Protocol(e.to_string()))
                            .and_then(safe::<RunEvent>)
                            .map(|e| Progress::Run(Box::new(e))),
                    ),
                    Ok(_) => None,
                }
            },
        )))
    }
}

/// What the progress stream says.
#[derive(Debug, Clone)]
pub enum Progress {
    Run(Box<RunEvent>),
    /// Events were missed: refetch what is shown.
    Lagged,
}

/// A name as one path segment: anything but a-z, 0-9, `-` and `_` escaped.
pub(crate) fn path_part(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2D", "-")
        .replace("%5F", "_")
}
