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

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::config::{ElasticsearchAuth, ElasticsearchConfig, check_name};
use super::line::{FieldNames, LogLine, parse_time};
use super::query::LogQuery;
use super::{Found, Minute, Searched, SourceError, Total};

/// Elasticsearch's own bound on `size` (and `index.max_result_window`'s default).
pub const MAX_PAGE_SIZE: usize = 10_000;
/// The most of one answer that is read: a full page of large documents fits; a proxy that
/// streams without end does not eat the server's memory.
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 64 << 20;
/// How long a point in time is kept between two pages; each page renews it.
const PIT_KEEP_ALIVE: &str = "1m";
/// The most of a cluster's reason quoted in a message.
const MAX_REASON_CHARS: usize = 300;

/// The index (or pattern, or comma-separated list) as one path segment: `*` and `,` are
/// Elasticsearch's own syntax there and stay as they are.
const INDEX_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'*')
    .remove(b',')
    .remove(b':');

type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

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

/// How the source logs in: the header it sends, and what must never show in a message.
#[derive(Clone)]
struct Auth {
    kind: &'static str,
    header: HeaderValue,
    secrets: Vec<String>,
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

    /// The query every page asks: the window, the customer, the level, the text.
    fn bool_query(&self, query: &LogQuery) -> Result<Value, SourceError> {
        let names = &self.fields;
        let millis = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut filter = vec![json!({"range": {names.timestamp.as_str(): {
            "gte": millis(query.from),
            "lte": millis(query.to),
            "format": "strict_date_optional_time",
        }}})];
        if !query.identifiers.is_empty() {
            let fields: Vec<&str> = names
                .user
                .iter()
                .chain(Some(&names.trace))
                .map(String::as_str)
                .filter(|f| !f.is_empty())
                .collect();
            if fields.is_empty() {
                return Err(self.error(
                    "the query names a customer, but no user or trace field is configured \
                     (logs.sources.fields)",
                ));
            }
            let should: Vec<Value> = query
                .identifiers
                .iter()
                .flat_map(|id| {
                    let id = id.trim();
                    fields.iter().map(move |f| json!({"term": {*f: id}}))
                })
                .collect();
            filter.push(json!({"bool": {"should": should, "minimum_should_match": 1}}));
        }
        if let Some(level) = query.level.as_ref().filter(|l| !l.trim().is_empty()) {
            // Logs write `ERROR`, `error` or `Error`; a keyword field keeps them apart.
            let mut spellings = vec![level.clone()];
            for other in [level.to_uppercase(), level.to_lowercase()] {
                if !spellings.contains(&other) {
                    spellings.push(other);
                }
            }
            let should: Vec<Value> = spellings
                .iter()
                .map(|l| json!({"term": {names.level.as_str(): l}}))
                .collect();
            filter.push(json!({"bool": {"should": should, "minimum_should_match": 1}}));
        }
        let must: Vec<Value> = query
            .text
            .iter()
            .filter(|t| !t.trim().is_empty())
            .map(|t| json!({"match_phrase": {names.message.as_str(): t}}))
            .collect();
        Ok(json!({"bool": {"filter": filter, "must": must}}))
    }

    /// One search request's body.
    fn page_body(
        &self,
        wanted: &Value,
        size: usize,
        first: bool,
        after: Option<&[Value]>,
        pit: Option<&Pit>,
    ) -> Value {
        let ts = self.fields.timestamp.as_str();
        let mut body = json!({
            "size": size,
            "sort": [{ts: {"order": "desc"}}],
            // Counted once: later pages would only count the same hits again.
            "track_total_hits": first,
            "query": wanted,
            "_source": true,
        });
        if first {
            body["aggs"] = json!({"per_minute": {"date_histogram": {
                "field": ts,
                "fixed_interval": "1m",
                "min_doc_count": 1,
            }}});
        }
        if let Some(after) = after {
            body["search_after"] = Value::from(after.to_vec());
        }
        if let Some(pit) = pit {
            body["pit"] = json!({"id": pit.id, "keep_alive": PIT_KEEP_ALIVE});
        }
        body
    }

    /// Pages through the hits, handing over each line that passes the regex.
    ///
    /// Ties at a page boundary: `search_after` skips every hit whose sort values equal the
    /// ones given, so hits of the same millisecond split across two pages would be lost.
    /// When the sort values are the time alone (a plain search, or a point in time without a
    /// tiebreaker), the next page starts one millisecond later instead (`search_after` of
    /// time + 1, which takes in the boundary's millisecond again) and the hits of that
    /// millisecond already handed over are skipped by index and id. Only when one
    /// millisecond holds more hits than a page does the search move past it, with a warning.
    /// Elasticsearch's point in time adds its own tiebreaker (`_shard_doc`); its sort values
    /// are passed back as they are.
    async fn pages(
        &self,
        query: &LogQuery,
        wanted: &Value,
        regex: Option<&regex::Regex>,
        tx: &mpsc::Sender<Found>,
        mut pit: Option<&mut Pit>,
    ) -> Result<Searched, SourceError> {
        let mut done = Searched::default();
        let mut after: Option<Vec<Value>> = None;
        let mut boundary = Boundary::default();
        loop {
            if tx.is_closed() {
                return Ok(done);
            }
            let first = done.read == 0;
            let left = query.limit - done.lines;
            // With a regex an unknown share of the hits is dropped here: whole pages then,
            // or a rare match would cost a round trip per line.
            let want = if regex.is_some() {
                self.page_size
            } else {
                left.min(self.page_size)
            };
            let size = (want + boundary.seen.len()).min(self.page_size);
            let body = self.page_body(wanted, size, first, after.as_deref(), pit.as_deref());
            let page = self.page(&body, pit.is_some()).await?;
            done.read += 1;
            if let (Some(pit), Some(id)) = (pit.as_deref_mut(), &page.pit_id) {
                pit.id.clone_from(id);
            }
            self.note_warnings(&page, first, &mut done);
            if first {
                done.total = page.hits.total.map(HitsTotal::total);
                if let Some(minutes) = page.minutes() {
                    let found = Found::Minutes {
                        source: self.name.clone(),
                        minutes,
                    };
                    if tx.send(found).await.is_err() {
                        return Ok(done);
                    }
                }
            }
            let hits = page.hits.hits;
            let full = hits.len() >= size;
            let Some(last_sort) = hits.last().map(|h| h.sort.clone()) else {
                break;
            };
            let next = boundary.after(&hits);
            let fresh = match self
                .hand_over(hits, &boundary, regex, tx, query.limit, &mut done)
                .await
            {
                HandedOver::Some { fresh } => fresh,
                HandedOver::Enough => return Ok(done),
            };
            if !full {
                break;
            }
            boundary = next;
            after = Some(match boundary.time {
                Some(t) if fresh => vec![Value::from(t.saturating_add(1))],
                Some(t) => {
                    let at = DateTime::from_timestamp_millis(t)
                        .map_or_else(|| t.to_string(), |at| at.to_rfc3339());
                    warn_once(
                        &mut done,
                        format!(
                            "more than {size} hits share the time {at}; some of them were skipped"
                        ),
                    );
                    boundary = Boundary::default();
                    vec![Value::from(t)]
                }
                None => last_sort,
            });
        }
        Ok(done)
    }

    /// Hands over a page's lines not handed over before (`boundary`) that pass the regex.
    async fn hand_over(
        &self,
        hits: Vec<Hit>,
        boundary: &Boundary,
        regex: Option<&regex::Regex>,
        tx: &mpsc::Sender<Found>,
        limit: usize,
        done: &mut Searched,
    ) -> HandedOver {
        let mut fresh = false;
        for hit in hits {
            if boundary.holds(&hit) {
                continue;
            }
            fresh = true;
            let Some(line) = self.line(hit, done) else {
                continue;
            };
            if regex.is_some_and(|r| !r.is_match(&line.message)) {
                continue;
            }
            if tx.send(Found::Line(line)).await.is_err() {
                return HandedOver::Enough;
            }
            done.lines += 1;
            if done.lines == limit {
                return HandedOver::Enough;
            }
        }
        HandedOver::Some { fresh }
    }

    /// Reads one page; anything but a search response is a failure in words.
    async fn page(&self, body: &Value, on_pit: bool) -> Result<SearchAnswer, SourceError> {
        // On a point in time the index is the point's, and naming it again is refused.
        let path = if on_pit {
            "/_search".to_string()
        } else {
            format!("/{}/_search", self.index_path)
        };
        let answer = self.exchange(Method::POST, &path, json_bytes(body)).await?;
        if !answer.status.is_success() {
            return Err(self.refusal(&answer));
        }
        serde_json::from_slice(&answer.body).map_err(|e| {
            self.error(format!(
                "the answer is not an Elasticsearch search response: {}",
                short(&e.to_string())
            ))
        })
    }

    fn note_warnings(&self, page: &SearchAnswer, first: bool, done: &mut Searched) {
        if let Some(shards) = &page.shards {
            if shards.failed > 0 || !shards.failures.is_empty() {
                let why = shards
                    .failures
                    .first()
                    .map(|f| EsError::from_cause(f).best_reason())
                    .unwrap_or_default();
                warn_once(
                    done,
                    self.error(format!(
                        "{} of {} shards failed, the lines may be incomplete: {why}",
                        shards.failed.max(1),
                        shards.total.unwrap_or(0)
                    ))
                    .message,
                );
            }
            if first && shards.total == Some(0) && page.hits.hits.is_empty() {
                warn_once(
                    done,
                    format!("index pattern '{}' matches no index", self.index),
                );
            }
        }
        if page.timed_out {
            warn_once(
                done,
                "the cluster ran out of time on some shards; the lines may be incomplete".into(),
            );
        }
    }

    /// A hit as a log line; `None` (with a warning, once) when it has no time to place it.
    fn line(&self, hit: Hit, done: &mut Searched) -> Option<LogLine> {
        let names = &self.fields;
        let fields = hit.source.unwrap_or_default();
        let at = field(&fields, &names.timestamp)
            .and_then(|v| self.time_of(v))
            .or_else(|| {
                hit.sort
                    .first()
                    .and_then(Value::as_i64)
                    .and_then(DateTime::from_timestamp_millis)
            });
        let Some(at) = at else {
            let said = format!("hits without a readable '{}' were skipped", names.timestamp);
            if !done.warnings.iter().any(|w| w.starts_with(&said)) {
                let first = format!("{said} (the first: {}/{})", hit.index, hit.id);
                done.warnings.push(first);
            }
            return None;
        };
        let text = |name: &str| field(&fields, name).and_then(as_text);
        let message = text(&names.message)
            .unwrap_or_else(|| serde_json::to_string(&fields).unwrap_or_default());
        Some(LogLine {
            at,
            level: text(&names.level),
            source: self.name.clone(),
            message,
            origin: format!("{}/{}", hit.index, hit.id),
            trace: text(&names.trace),
            fields,
        })
    }

    /// A time as Elasticsearch stores it: a date string, or epoch milliseconds (as a number
    /// or a string of digits, both of which `epoch_millis` accepts).
    fn time_of(&self, v: &Value) -> Option<DateTime<Utc>> {
        match v {
            Value::String(s) => parse_time(s, self.zone).or_else(|| {
                s.trim()
                    .parse::<i64>()
                    .ok()
                    .and_then(DateTime::from_timestamp_millis)
            }),
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .and_then(DateTime::from_timestamp_millis),
            Value::Array(items) => items.first().and_then(|v| self.time_of(v)),
            _ => None,
        }
    }

    /// Opens a point in time: Elasticsearch's `_pit`, else OpenSearch's
    /// `_search/point_in_time` (Elasticsearch answers 4xx to the one it lacks, and so does
    /// OpenSearch).
    async fn open_pit(&self) -> Result<Pit, SourceError> {
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
    async fn close_pit(&self, pit: &Pit) {
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

    /// Sends one request to the first node that answers it, starting with the one that
    /// answered last. A 5xx from every node is returned as the last node's answer.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Answer, SourceError> {
        let count = self.urls.len();
        let start = self.healthy.load(Ordering::Relaxed) % count;
        let mut unreachable: Vec<&str> = Vec::new();
        let mut last: Option<Result<Answer, String>> = None;
        for step in 0..count {
            let at = (start + step) % count;
            match self.attempt(at, method.clone(), path, body.clone()).await {
                Ok(answer) if answer.status.is_server_error() => last = Some(Ok(answer)),
                Ok(answer) => {
                    self.healthy.store(at, Ordering::Relaxed);
                    return Ok(answer);
                }
                Err(Attempt::Unanswered(reason)) => {
                    unreachable.push(&self.urls[at]);
                    last = Some(Err(reason));
                }
                Err(Attempt::Refused(reason)) => return Err(self.error(reason)),
            }
        }
        match last {
            Some(Ok(answer)) => Ok(answer),
            Some(Err(reason)) => {
                Err(self.error(format!("cannot reach {}: {reason}", unreachable.join(", "))))
            }
            None => Err(self.error("no URL to ask")),
        }
    }

    /// One request to one node, answer read whole, within the timeout.
    async fn attempt(
        &self,
        at: usize,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Answer, Attempt> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.urls[at]))
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, concat!("opsdesk/", env!("CARGO_PKG_VERSION")));
        if let Some(auth) = &self.auth {
            request = request.header(AUTHORIZATION, auth.header.clone());
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| Attempt::Refused(format!("cannot build the request: {e}")))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| Attempt::Unanswered(innermost(&e)))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), self.max_answer_bytes)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<LengthLimitError>() {
                        Attempt::Refused(format!(
                            "the answer is larger than {}; it was not read (a smaller page_size may help)",
                            shown_bytes(self.max_answer_bytes)
                        ))
                    } else {
                        Attempt::Unanswered(format!("the answer broke off: {}", innermost(e.as_ref())))
                    }
                })?
                .to_bytes();
            Ok(Answer {
                status,
                body,
                url: at,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                Attempt::Unanswered(format!("timed out after {}s", self.timeout.as_secs()))
            })?
    }

    /// A cluster's "no" in words.
    fn refusal(&self, answer: &Answer) -> SourceError {
        let error = EsError::read(&answer.body);
        let status = answer.status.as_u16();
        let because = error.because();
        let message = match status {
            401 if self.auth.is_none() => format!(
                "the cluster wants credentials (401) and this source has none (set auth){because}"
            ),
            401 => format!("the cluster refused the credentials (401){because}"),
            403 => format!("not allowed to read {} (403){because}", self.index),
            404 if error.has_type("index_not_found_exception") => {
                format!("no index matches '{}'", self.index)
            }
            400 if error.is_about_mapping() => self.mapping_trouble(&error),
            500..=599 => format!(
                "{} answered {}",
                self.urls[answer.url],
                error.describe(answer.status)
            ),
            _ => error.describe(answer.status),
        };
        self.error(message)
    }

    /// A query that failed on a field's mapping: which configured field, and what it should be.
    fn mapping_trouble(&self, error: &EsError) -> String {
        let names = &self.fields;
        let reason = error
            .reasons()
            .find(|r| mentions_mapping(r))
            .unwrap_or_else(|| error.best_reason());
        let named = bracketed(&reason);
        let roles = [
            ("timestamp", names.timestamp.as_str(), "a date"),
            ("level", names.level.as_str(), "a keyword"),
            ("trace", names.trace.as_str(), "a keyword"),
            ("message", names.message.as_str(), "text"),
        ];
        let user = names
            .user
            .iter()
            .find(|u| named.contains(&u.as_str()))
            .map(|u| ("user", u.as_str(), "a keyword"));
        let (role, field, kind) = roles
            .into_iter()
            .find(|(_, f, _)| named.contains(f))
            .or(user)
            // Sorting, the window and the histogram are all on the timestamp: the likely one.
            .unwrap_or(roles[0]);
        format!(
            "the {role} field '{field}' is not mapped as {kind} in {}: {}",
            self.index,
            short(&reason)
        )
    }
}

/// A point in time being paged through.
#[derive(Debug)]
struct Pit {
    /// The newest id the cluster gave (it may change from page to page).
    id: String,
    flavor: PitFlavor,
}

#[derive(Debug, Clone, Copy)]
enum PitFlavor {
    Elasticsearch,
    OpenSearch,
}

/// What became of a page.
enum HandedOver {
    /// Its lines went out; `fresh` when any was new (not one of the boundary's).
    Some { fresh: bool },
    /// The limit is reached, or the receiver has gone.
    Enough,
}

/// The hits of the last page's last millisecond, already handed over (see `pages`).
#[derive(Debug, Default)]
struct Boundary {
    /// The sort value (epoch milliseconds), when the sort values are the time alone.
    time: Option<i64>,
    seen: HashSet<(String, String)>,
}

impl Boundary {
    fn holds(&self, hit: &Hit) -> bool {
        self.time.is_some()
            && sole_time(hit) == self.time
            && self.seen.contains(&(hit.index.clone(), hit.id.clone()))
    }

    /// The boundary once `page` is handed over: its last millisecond's hits (with those of
    /// this boundary when the page never left it).
    fn after(&self, page: &[Hit]) -> Boundary {
        let time = page.last().and_then(sole_time);
        if time.is_none() {
            return Boundary::default();
        }
        let mut seen = if time == self.time {
            self.seen.clone()
        } else {
            HashSet::new()
        };
        let tail = page.iter().rev().take_while(|h| sole_time(h) == time);
        seen.extend(tail.map(|h| (h.index.clone(), h.id.clone())));
        Boundary { time, seen }
    }
}

/// The hit's sort value when it is the time alone (no tiebreaker).
fn sole_time(hit: &Hit) -> Option<i64> {
    match hit.sort.as_slice() {
        [only] => only.as_i64(),
        _ => None,
    }
}

/// A whole HTTP answer.
struct Answer {
    status: StatusCode,
    body: Bytes,
    /// Which URL gave it.
    url: usize,
}

enum Attempt {
    /// The node gave no answer (refused, unknown, timed out, broke off): the next may.
    Unanswered(String),
    /// No node would do better.
    Refused(String),
}

// --- the answers, as Elasticsearch 7/8 and OpenSearch 1/2 write them ---

#[derive(Debug, Deserialize)]
struct SearchAnswer {
    #[serde(default)]
    timed_out: bool,
    #[serde(rename = "_shards", default)]
    shards: Option<Shards>,
    hits: Hits,
    #[serde(default)]
    aggregations: Option<Aggregations>,
    /// On a point in time, the id to page on with.
    #[serde(default)]
    pit_id: Option<String>,
}

impl SearchAnswer {
    fn minutes(&self) -> Option<Vec<Minute>> {
        let buckets = &self.aggregations.as_ref()?.per_minute.as_ref()?.buckets;
        Some(
            buckets
                .iter()
                .filter_map(|b| {
                    let at = b
                        .key
                        .as_i64()
                        .or_else(|| b.key.as_f64().map(|f| f as i64))?;
                    Some(Minute {
                        at: DateTime::from_timestamp_millis(at)?,
                        count: b.doc_count,
                    })
                })
                .collect(),
        )
    }
}

#[derive(Debug, Deserialize)]
struct Shards {
    #[serde(default)]
    total: Option<u64>,
    #[serde(default)]
    failed: u64,
    #[serde(default)]
    failures: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct Hits {
    /// Absent when not counted (every page after the first).
    #[serde(default)]
    total: Option<HitsTotal>,
    #[serde(default)]
    hits: Vec<Hit>,
}

/// `{"value": n, "relation": "eq" | "gte"}` (7+), or a bare number (6, or
/// `rest_total_hits_as_int`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
enum HitsTotal {
    Number(u64),
    Counted {
        value: u64,
        #[serde(default)]
        relation: Relation,
    },
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Relation {
    #[default]
    Eq,
    Gte,
}

impl HitsTotal {
    fn total(self) -> Total {
        match self {
            HitsTotal::Number(value) => Total {
                value,
                at_least: false,
            },
            HitsTotal::Counted { value, relation } => Total {
                value,
                at_least: matches!(relation, Relation::Gte),
            },
        }
    }
}

#[derive(Debug, Deserialize)]
struct Hit {
    #[serde(rename = "_index", default)]
    index: String,
    #[serde(rename = "_id", default)]
    id: String,
    #[serde(rename = "_source", default)]
    source: Option<Map<String, Value>>,
    #[serde(default)]
    sort: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct Aggregations {
    #[serde(default)]
    per_minute: Option<Histogram>,
}

#[derive(Debug, Deserialize)]
struct Histogram {
    #[serde(default)]
    buckets: Vec<Bucket>,
}

#[derive(Debug, Deserialize)]
struct Bucket {
    key: serde_json::Number,
    doc_count: u64,
}

/// An error answer: `{"error": {"type", "reason", "root_cause": […], "caused_by", …},
/// "status"}`, an older `{"error": "text"}`, or no JSON at all (a proxy's page, OpenSearch's
/// security plugin answering `Unauthorized`).
#[derive(Debug, Default)]
struct EsError {
    kind: Option<String>,
    reason: Option<String>,
    /// Root causes, causes and shard failures, most specific first: (type, reason).
    causes: Vec<(String, String)>,
    /// The body, when it is not JSON.
    text: Option<String>,
}

impl EsError {
    fn read(body: &[u8]) -> EsError {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(answer)) => match answer.get("error") {
                Some(Value::String(text)) => EsError {
                    reason: Some(text.clone()),
                    ..EsError::default()
                },
                Some(error @ Value::Object(_)) => EsError::from_cause(error),
                _ => EsError {
                    text: Some(short(&Value::Object(answer).to_string())),
                    ..EsError::default()
                },
            },
            _ => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                EsError {
                    text: (!text.is_empty()).then(|| short(text)),
                    ..EsError::default()
                }
            }
        }
    }

    /// From one error object (or a shard failure, whose `reason` is an error object).
    fn from_cause(error: &Value) -> EsError {
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        let mut out = EsError {
            kind: text(error, "type"),
            reason: text(error, "reason"),
            ..EsError::default()
        };
        if let Some(Value::Object(_)) = error.get("reason") {
            // A shard failure: {"shard", "index", "reason": {"type", "reason"}}.
            let inner = EsError::from_cause(&error["reason"]);
            out.kind = inner.kind.clone();
            out.reason = inner.reason.clone();
            out.causes = inner.causes;
        }
        let mut note = |v: &Value| {
            if let (Some(kind), Some(reason)) = (text(v, "type"), text(v, "reason")) {
                out.causes.push((kind, reason));
            }
        };
        for cause in error
            .get("root_cause")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            note(cause);
        }
        let mut caused_by = error.get("caused_by");
        while let Some(cause) = caused_by {
            note(cause);
            caused_by = cause.get("caused_by");
        }
        for failed in error
            .get("failed_shards")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(reason) = failed.get("reason") {
                note(reason);
                if let Some(cause) = reason.get("caused_by") {
                    note(cause);
                }
            }
        }
        out
    }

    fn has_type(&self, kind: &str) -> bool {
        self.kind.as_deref() == Some(kind) || self.causes.iter().any(|(k, _)| k == kind)
    }

    fn reasons(&self) -> impl Iterator<Item = String> + '_ {
        self.causes
            .iter()
            .map(|(_, r)| r.clone())
            .chain(self.reason.clone())
    }

    /// The most specific reason: a root cause says more than "all shards failed".
    fn best_reason(&self) -> String {
        self.causes
            .first()
            .map(|(_, r)| r.clone())
            .or_else(|| self.reason.clone())
            .or_else(|| self.text.clone())
            .unwrap_or_default()
    }

    /// `: <reason>`, or nothing when there is none.
    fn because(&self) -> String {
        let reason = self.best_reason();
        if reason.is_empty() {
            String::new()
        } else {
            format!(": {}", short(&reason))
        }
    }

    fn is_about_mapping(&self) -> bool {
        let kinds = [
            "search_phase_execution_exception",
            "query_shard_exception",
            "illegal_argument_exception",
        ];
        kinds.iter().any(|k| self.has_type(k)) && self.reasons().any(|r| mentions_mapping(&r))
    }

    /// `<status> <type>: <reason>`.
    fn describe(&self, status: StatusCode) -> String {
        let kind = self
            .causes
            .first()
            .map(|(k, _)| k.as_str())
            .or(self.kind.as_deref());
        let reason = self.best_reason();
        match (kind, reason.is_empty()) {
            (Some(kind), false) => format!("{} {kind}: {}", status.as_u16(), short(&reason)),
            (Some(kind), true) => format!("{} {kind}", status.as_u16()),
            (None, false) => format!("{}: {}", status.as_u16(), short(&reason)),
            (None, true) => status.to_string(),
        }
    }
}

fn mentions_mapping(reason: &str) -> bool {
    let reason = reason.to_lowercase();
    ["mapping", "fielddata", "not supported for aggregation"]
        .iter()
        .any(|w| reason.contains(w))
}

/// The names in `[…]` in a reason (`No mapping found for [@timestamp] in order to sort on`).
fn bracketed(reason: &str) -> Vec<&str> {
    reason
        .split('[')
        .skip(1)
        .filter_map(|s| s.split(']').next())
        .collect()
}

/// A 4xx that means "no such endpoint here" rather than "no such index".
fn lacks_route(answer: &Answer) -> bool {
    matches!(answer.status.as_u16(), 400 | 404 | 405)
        && !EsError::read(&answer.body).has_type("index_not_found_exception")
}

fn warn_once(done: &mut Searched, message: String) {
    if !done.warnings.contains(&message) {
        done.warnings.push(message);
    }
}

/// A field of a document, written nested (`{"user": {"id": …}}`), flat (`{"user.id": …}`),
/// or partly each.
fn field<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if name.is_empty() {
        return None;
    }
    if let Some(v) = fields.get(name) {
        return Some(v);
    }
    name.match_indices('.')
        .find_map(|(at, _)| match fields.get(&name[..at]) {
            Some(Value::Object(inner)) => field(inner, &name[at + 1..]),
            _ => None,
        })
}

/// A field's value as text: strings as they are, the first of an array, other values as JSON.
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(as_text),
        other => Some(other.to_string()),
    }
}

fn json_bytes(body: &Value) -> Bytes {
    // A `Value` always serialises.
    Bytes::from(serde_json::to_vec(body).unwrap_or_default())
}

/// At most [`MAX_REASON_CHARS`] of a reason.
fn short(s: &str) -> String {
    match s.char_indices().nth(MAX_REASON_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

fn shown_bytes(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// The deepest cause of a transport error: "Connection refused (os error 111)" says more
/// than hyper's "client error (Connect)", and carries no URL.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = e;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    deepest.to_string()
}

// --- configuration checks ---

/// A URL as shown in a message: any `user:password@` left out.
fn shown_url(raw: &str) -> String {
    let raw = raw.trim();
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => raw.to_string(),
    }
}

/// A node's base URL, without a trailing `/`.
fn check_url(raw: &str) -> Result<String, String> {
    let shown = shown_url(raw);
    let uri: hyper::Uri = raw
        .trim()
        .parse()
        .map_err(|e| format!("'{shown}' is not a URL: {e}"))?;
    let scheme = match uri.scheme_str() {
        Some(s @ ("http" | "https")) => s,
        _ => return Err(format!("'{shown}' must start with http:// or https://")),
    };
    let authority = uri
        .authority()
        .ok_or_else(|| format!("'{shown}' names no host"))?;
    if authority.as_str().contains('@') {
        return Err(format!(
            "'{shown}' holds credentials: put credentials in auth, not in the URL"
        ));
    }
    if authority.host().is_empty() {
        return Err(format!("'{shown}' names no host"));
    }
    if uri.query().is_some() {
        return Err(format!("'{shown}' must not carry a query (?…)"));
    }
    Ok(format!(
        "{scheme}://{authority}{}",
        uri.path().trim_end_matches('/')
    ))
}

/// The index as a path segment.
fn check_index(index: &str) -> Result<String, String> {
    if index.is_empty() {
        return Err("empty: name an index or a pattern (app-logs-*)".into());
    }
    if index.contains(['/', '?', '#']) || index.contains(char::is_whitespace) {
        return Err(format!("'{index}' must not hold '/', '?', '#' or a space"));
    }
    Ok(utf8_percent_encode(index, INDEX_SEGMENT).to_string())
}

fn check_auth(auth: &ElasticsearchAuth) -> Result<Auth, String> {
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().filter(|s| !s.is_empty())
    }
    let (api_key, username, password, bearer) = (
        given(&auth.api_key),
        given(&auth.username),
        given(&auth.password),
        given(&auth.bearer),
    );
    let kinds = [
        api_key.is_some(),
        username.is_some() || password.is_some(),
        bearer.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err("give exactly one of api_key, username and password, or bearer".into());
    }
    let (kind, value, secrets) = match (api_key, username, password, bearer) {
        (Some(key), ..) => ("api_key", format!("ApiKey {key}"), vec![key.to_string()]),
        (_, Some(user), Some(password), _) => {
            if user.contains(':') {
                return Err("a username cannot hold ':' (HTTP Basic authentication)".into());
            }
            let encoded = base64(format!("{user}:{password}").as_bytes());
            (
                "basic",
                format!("Basic {encoded}"),
                vec![password.to_string(), encoded],
            )
        }
        (_, Some(_), None, _) | (_, None, Some(_), _) => {
            return Err("username and password go together".into());
        }
        (.., Some(token)) => ("bearer", format!("Bearer {token}"), vec![token.to_string()]),
        _ => return Err("give exactly one of api_key, username and password, or bearer".into()),
    };
    let mut header = HeaderValue::from_str(&value)
        .map_err(|_| format!("the {kind} holds characters an HTTP header cannot carry"))?;
    header.set_sensitive(true);
    Ok(Auth {
        kind,
        header,
        secrets,
    })
}

fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|e| format!("cannot read '{shown}': {e}"))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("'{shown}' is not PEM: {e}"))?;
    if certs.is_empty() {
        return Err(format!("'{shown}' holds no PEM certificate"));
    }
    Ok(certs)
}

fn tls_config(
    urls: &[String],
    extra_roots: Option<Vec<CertificateDer<'static>>>,
    insecure: bool,
) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
    } else if urls.iter().any(|u| u.starts_with("https://")) {
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
            extra_roots.unwrap_or_default(),
            provider,
        )
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
    } else {
        // Plain http only: no certificate is ever checked, so the system's are not loaded.
        builder.with_root_certificates(rustls::RootCertStore::empty())
    };
    Ok(config.with_no_client_auth())
}

fn http_client(tls: rustls::ClientConfig, timeout: Duration) -> HttpClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(timeout));
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        // Without a timer the idle bound is never applied.
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(https)
}

/// `insecure = true`, for a test cluster: any certificate is taken for the cluster's. The
/// handshake's signatures are still checked, so the peer at least holds that certificate's key.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Standard base64 with padding, for HTTP Basic authentication (RFC 7617).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_rfc_4648_writes_it() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("elastic:changeme", "ZWxhc3RpYzpjaGFuZ2VtZQ=="),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }

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

    #[test]
    fn fields_are_found_nested_flat_or_both() {
        let doc: Map<String, Value> = serde_json::from_str(
            r#"{"user":{"id":"u-1","account.no":"310"},"trace.id":"t-1","log":{"level":["ERROR"]}}"#,
        )
        .unwrap();
        let text = |name| field(&doc, name).and_then(as_text);
        assert_eq!(text("user.id").as_deref(), Some("u-1"));
        assert_eq!(text("user.account.no").as_deref(), Some("310"));
        assert_eq!(text("trace.id").as_deref(), Some("t-1"));
        assert_eq!(text("log.level").as_deref(), Some("ERROR"));
        assert_eq!(text("user.name"), None);
        assert_eq!(text(""), None);
    }

    #[test]
    fn urls_are_shown_without_their_credentials() {
        assert_eq!(
            shown_url("https://elastic:s3cret@es.example:9200/x"),
            "https://***@es.example:9200/x"
        );
        assert_eq!(shown_url("http://es:9200"), "http://es:9200");
        assert_eq!(check_url("http://es:9200/").unwrap(), "http://es:9200");
        assert_eq!(
            check_url("https://gw.example/es/").unwrap(),
            "https://gw.example/es"
        );
        let e = check_url("https://elastic:s3cret@es.example:9200").unwrap_err();
        assert!(
            e.contains("put credentials in auth") && !e.contains("s3cret"),
            "{e}"
        );
    }

    #[test]
    fn an_index_pattern_keeps_its_stars_and_commas() {
        assert_eq!(check_index("app-logs-*,audit").unwrap(), "app-logs-*,audit");
        assert_eq!(check_index("日志").unwrap(), "%E6%97%A5%E5%BF%97");
        assert!(check_index("a b").is_err());
        assert!(check_index("a/b").is_err());
    }

    #[test]
    fn error_answers_give_their_most_specific_reason() {
        let e = EsError::read(
            br#"{"error":{"root_cause":[{"type":"query_shard_exception","reason":"No mapping found for [@timestamp] in order to sort on","index":"a"}],"type":"search_phase_execution_exception","reason":"all shards failed","phase":"query","grouped":true,"failed_shards":[]},"status":400}"#,
        );
        assert!(e.is_about_mapping());
        assert_eq!(
            e.best_reason(),
            "No mapping found for [@timestamp] in order to sort on"
        );
        assert_eq!(bracketed(&e.best_reason()), ["@timestamp"]);
        let plain = EsError::read(b"Unauthorized");
        assert_eq!(plain.best_reason(), "Unauthorized");
        let old =
            EsError::read(br#"{"error":"no handler found for uri [/x/_pit] and method [POST]"}"#);
        assert!(old.best_reason().starts_with("no handler"));
    }
}
