//! Points in time: opened before the first page (Elasticsearch's `_pit`, else OpenSearch's
//! `_search/point_in_time`), their id carried from page to page, closed after the last.

use bytes::Bytes;
use hyper::Method;
use serde_json::{Value, json};

use super::Cluster;
use super::http::{Answer, json_bytes};
use super::refusal::lacks_route;
use crate::lookups::SourceError;

/// How long a point in time is kept between two pages; each page renews it.
pub(super) const PIT_KEEP_ALIVE: &str = "1m";

impl Cluster {
    /// Opens a point in time: Elasticsearch's `_pit`, else OpenSearch's
    /// `_search/point_in_time` (Elasticsearch answers 4xx to the one it lacks, and so does
    /// OpenSearch).
    pub(super) async fn open_pit(&self) -> Result<Pit, SourceError> {
        let keep = format!("keep_alive={PIT_KEEP_ALIVE}");
        let es_path = format!("/{}/_pit?{keep}", self.index_path);
        let es = self.exchange(Method::POST, &es_path, Bytes::new()).await?;
        if es.status.is_success() {
            return self.pit_opened(&es, PitFlavor::Elasticsearch);
        }
        if !lacks_route(&es) {
            return Err(self.refusal(&es));
        }
        let os_path = format!("/{}/_search/point_in_time?{keep}", self.index_path);
        let os = self.exchange(Method::POST, &os_path, Bytes::new()).await?;
        if os.status.is_success() {
            return self.pit_opened(&os, PitFlavor::OpenSearch);
        }
        if lacks_route(&os) {
            return Err(self.error(format!(
                "the cluster opens no point in time (Elasticsearch's _pit answered {}, \
                 OpenSearch's _search/point_in_time answered {}): set point_in_time = false",
                es.status.as_u16(),
                os.status.as_u16()
            )));
        }
        Err(self.refusal(&os))
    }

    fn pit_opened(&self, answer: &Answer, flavor: PitFlavor) -> Result<Pit, SourceError> {
        let opened: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        let id = opened
            .get("id")
            .or_else(|| opened.get("pit_id"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                self.error(
                    "the answer to opening a point in time holds no id (\"id\" or \"pit_id\")",
                )
            })?;
        Ok(Pit {
            id: id.to_string(),
            flavor,
        })
    }

    /// Lets the cluster free a point in time now rather than at its keep-alive; a failure
    /// changes nothing the caller could act on, so it is only logged.
    pub(super) async fn close_pit(&self, pit: &Pit) {
        let (path, body) = match pit.flavor {
            PitFlavor::Elasticsearch => ("/_pit", json!({"id": pit.id})),
            PitFlavor::OpenSearch => ("/_search/point_in_time", json!({"pit_id": [pit.id]})),
        };
        match self.exchange(Method::DELETE, path, json_bytes(&body)).await {
            Ok(answer) if answer.status.is_success() => {}
            Ok(answer) => {
                tracing::debug!(source = %self.name, status = %answer.status, "closing a point in time failed")
            }
            Err(e) => {
                tracing::debug!(source = %self.name, error = %e, "closing a point in time failed")
            }
        }
    }
}

/// A point in time being paged through.
#[derive(Debug)]
pub(super) struct Pit {
    /// The newest id the cluster gave (it may change from page to page).
    pub(super) id: String,
    flavor: PitFlavor,
}

#[derive(Debug, Clone, Copy)]
enum PitFlavor {
    Elasticsearch,
    OpenSearch,
}
