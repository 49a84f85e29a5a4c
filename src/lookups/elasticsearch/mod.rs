//! The `elasticsearch` source: a customer's log lines from Elasticsearch 7/8 or OpenSearch 1/2,
//! through the `_search` REST API (the one both speak alike).
//!
//! A query becomes one `bool` query: the time window, the identifiers as `term`s on the
//! configured user and trace fields, the level, the text as a `match_phrase` on the message.
//! Hits come sorted newest first and are paged with `search_after`, on a point in time when
//! the source says so; the first page also asks for the hits a minute. The query's regex is
//! applied here, to each hit's message. Each hit is handed over as soon as its page is read.
//!
//! The configured URLs are nodes of one cluster: a node that cannot be reached (or answers
//! 5xx) hands the request to the next. Every failure is put in words that name the source and
//! never carry its credentials.
//!
//! Here: the source, its configuration checks and the search. Beside it: `request` (what a
//! page asks), `pit` (points in time), `paging` (the loop over pages), `answer` (search
//! responses read), `refusal` (error answers in words), `http` (the nodes, failover, the
//! byte cap), `tls` and `auth`.

mod answer;
mod auth;
mod count;
mod http;
mod paging;
mod pit;
mod refusal;
mod request;
mod tls;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use tokio::sync::mpsc;

use super::config::{ElasticsearchConfig, check_name};
use super::line::FieldNames;
use super::query::LogQuery;
use super::{Found, Searched, SourceError};
use auth::{Auth, check_auth};
/// For monitors: the bounds of `count_by` and the name of its rest-of-the-documents group.
pub use count::{MAX_FIELD_CHARS, MAX_GROUPS, OTHER_GROUP};
use http::{HttpClient, check_url, http_client};
/// The same client and TLS set-up for construction's calls to UAT systems.
pub(crate) use http::{
    HttpClient as SharedHttpClient, http_client as shared_http_client, innermost,
};
use request::check_index;
pub(crate) use tls::tls_config as shared_tls_config;
use tls::{read_ca_file, tls_config};

/// Elasticsearch's own bound on `size` (and `index.max_result_window`'s default).
pub const MAX_PAGE_SIZE: usize = 10_000;

/// The most of one answer that is read: a full page of large documents fits; a proxy that
/// streams without end does not eat the server's memory.
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 64 << 20;

/// A configured cluster, ready to search. Cheap to clone: the settings and the connection
/// pool are shared.
#[derive(Clone)]
pub struct ElasticsearchSource {
    cluster: Arc<Cluster>,
}

/// What the source knows of its cluster, and how it talks to it.
#[derive(Clone)]
struct Cluster {
    name: String,
    /// Base URLs without a trailing `/`.
    urls: Vec<String>,
    index: String,
    /// `index` percent-encoded as a path segment.
    index_path: String,
    auth: Option<Auth>,
    timeout: Duration,
    fields: FieldNames,
    point_in_time: bool,
    page_size: usize,
    /// Where times written without a zone are read.
    zone: chrono_tz::Tz,
    max_answer_bytes: usize,
    /// The URL that answered last: requests start there, so a dead first node costs one
    /// failed attempt, not one per request.
    healthy: Arc<AtomicUsize>,
    client: HttpClient,
}

// By hand: a derived form would print the Authorization header.
impl fmt::Debug for ElasticsearchSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.cluster;
        f.debug_struct("ElasticsearchSource")
            .field("name", &c.name)
            .field("urls", &c.urls)
            .field("index", &c.index)
            .field("auth", &c.auth.as_ref().map(|a| a.kind))
            .field("timeout", &c.timeout)
            .field("point_in_time", &c.point_in_time)
            .field("page_size", &c.page_size)
            .finish_non_exhaustive()
    }
}

impl ElasticsearchSource {
    /// The source `cfg` describes; times written without a zone are read in `zone`. Refuses
    /// what cannot work, the message starting with the key at fault.
    pub fn new(
        cfg: &ElasticsearchConfig,
        zone: chrono_tz::Tz,
    ) -> Result<ElasticsearchSource, String> {
        check_name(&cfg.name)?;
        let refuse = |key: &str, message: String| {
            format!("logs.sources.{key}: {message} (source '{}')", cfg.name)
        };
        if cfg.urls.is_empty() {
            return Err(refuse("urls", "no URL given".into()));
        }
        let urls = cfg
            .urls
            .iter()
            .map(|u| check_url(u))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| refuse("urls", e))?;
        let index_path = check_index(&cfg.index).map_err(|e| refuse("index", e))?;
        let auth = cfg
            .auth
            .as_ref()
            .map(check_auth)
            .transpose()
            .map_err(|e| refuse("auth", e))?;
        let timeout = crate::config::parse_duration(&cfg.timeout)
            .and_then(|s| u64::try_from(s).ok())
            .map(Duration::from_secs)
            .ok_or_else(|| {
                refuse(
                    "timeout",
                    format!("'{}' is not a duration (10s, 1m)", cfg.timeout),
                )
            })?;
        if !(1..=MAX_PAGE_SIZE).contains(&cfg.page_size) {
            return Err(refuse(
                "page_size",
                format!("{} must be 1 to {MAX_PAGE_SIZE}", cfg.page_size),
            ));
        }
        let extra_roots = cfg
            .ca_file
            .as_deref()
            .map(read_ca_file)
            .transpose()
            .map_err(|e| refuse("ca_file", e))?;
        let tls = tls_config(&urls, extra_roots, cfg.insecure).map_err(|e| {
            let key = if cfg.ca_file.is_some() {
                "ca_file"
            } else {
                "urls"
            };
            refuse(key, e)
        })?;
        let cluster = Cluster {
            name: cfg.name.clone(),
            urls,
            index: cfg.index.clone(),
            index_path,
            auth,
            timeout,
            fields: cfg.fields.clone(),
            point_in_time: cfg.point_in_time,
            page_size: cfg.page_size,
            zone,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
            healthy: Arc::new(AtomicUsize::new(0)),
            client: http_client(tls, timeout),
        };
        Ok(ElasticsearchSource {
            cluster: Arc::new(cluster),
        })
    }

    /// The same source reading at most `bytes` of any one answer
    /// ([`DEFAULT_MAX_ANSWER_BYTES`] unless told).
    pub fn with_max_answer_bytes(mut self, bytes: usize) -> ElasticsearchSource {
        Arc::make_mut(&mut self.cluster).max_answer_bytes = bytes;
        self
    }

    pub fn name(&self) -> &str {
        &self.cluster.name
    }

    /// Sends `tx` the hits a minute (from the first page) and the lines that answer `query`,
    /// newest first, until `query.limit`, the last hit, or `tx` has no receiver (a client
    /// that went away: the search ends at once, without error).
    pub async fn search(
        &self,
        query: &LogQuery,
        tx: &mpsc::Sender<Found>,
    ) -> Result<Searched, SourceError> {
        let cluster = &self.cluster;
        query.check().map_err(|e| cluster.error(e.to_string()))?;
        // Client-side: Elasticsearch's `regexp` query matches single terms of an analysed
        // field, never a whole line, so the same regex would mean something else there.
        let regex = query
            .regex
            .as_deref()
            .map(regex::Regex::new)
            .transpose()
            .map_err(|e| cluster.error(e.to_string()))?;
        let wanted = cluster.bool_query(query)?;
        if !cluster.point_in_time {
            return cluster
                .pages(query, &wanted, regex.as_ref(), tx, None)
                .await;
        }
        let mut pit = cluster.open_pit().await?;
        let searched = cluster
            .pages(query, &wanted, regex.as_ref(), tx, Some(&mut pit))
            .await;
        if tx.is_closed() {
            // The client went away: it should not wait for the goodbye to the cluster.
            let cluster = Arc::clone(cluster);
            tokio::spawn(async move { cluster.close_pit(&pit).await });
        } else {
            cluster.close_pit(&pit).await;
        }
        searched
    }
}

impl Cluster {
    fn error(&self, message: impl Into<String>) -> SourceError {
        let mut message = message.into();
        // A cluster or proxy may echo what it was sent; what it was sent never goes further.
        for secret in self.auth.iter().flat_map(|a| &a.secrets) {
            if !secret.is_empty() {
                message = message.replace(secret.as_str(), "***");
            }
        }
        SourceError {
            source_name: self.name.clone(),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_built_outside_any_runtime() {
        let cfg: super::super::config::LogsConfig = toml::from_str(
            r#"
            [[sources]]
            kind = "elasticsearch"
            name = "app-es"
            urls = ["http://127.0.0.1:9200"]
            index = "app-logs-*"
            auth = { api_key = "a2V5" }
            "#,
        )
        .unwrap();
        let super::super::config::SourceConfig::Elasticsearch(es) = &cfg.sources[0] else {
            panic!("an elasticsearch source");
        };
        let source = ElasticsearchSource::new(es, chrono_tz::Asia::Shanghai).unwrap();
        assert_eq!(source.name(), "app-es");
        assert!(!format!("{source:?}").contains("a2V5"), "{source:?}");
    }
}
