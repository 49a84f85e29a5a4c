//! The Elasticsearch lookup source against real loopback servers that answer as
//! Elasticsearch 7 and 8 and OpenSearch 2 do: the same JSON shapes, the same error bodies, and
//! a small in-memory index that really filters by the request's range, terms, phrase,
//! `search_after` and size, so paging is paging; and that counts (`_count`, a `terms`
//! aggregation) what a simple `query_string` and the range select, for monitors.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use opsdesk::lookups::config::{ElasticsearchAuth, ElasticsearchConfig};
use opsdesk::lookups::elasticsearch::{
    ElasticsearchSource, MAX_FIELD_CHARS, MAX_GROUPS, OTHER_GROUP,
};
use opsdesk::lookups::{FieldNames, Found, LogQuery, Minute, Searched, SourceError, Total};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

const ACCOUNT: &str = "310001234567";
const PASSWORD: &str = "s3cr3t-Pa55word";
const API_KEY: &str = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.sig";
const SECRETS: [&str; 3] = [PASSWORD, API_KEY, TOKEN];
const INDEX: &str = "app-logs-*";
const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

// --- the pretend cluster ---

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// Hits carry `_type`; `hits.total` is an object.
    Es7,
    Es8,
    /// No `_pit`; its point in time is `_search/point_in_time`, sorted without a tiebreaker.
    OpenSearch,
    /// `hits.total` as a bare number (6.x, or `rest_total_hits_as_int`).
    TotalAsNumber,
}

#[derive(Debug, Clone)]
struct Doc {
    index: String,
    id: String,
    /// Epoch milliseconds of its timestamp.
    ts: i64,
    source: Value,
}

/// One request as the cluster saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    auth: Option<String>,
    content_type: Option<String>,
    body: Value,
}

struct Cluster {
    flavor: Flavor,
    docs: Vec<Doc>,
    /// Every request gets this answer: (status, content type, body).
    canned: Option<(u16, &'static str, String)>,
    shards_total: u64,
    failed_shard: bool,
    relation_gte: bool,
    seen: Mutex<Vec<Seen>>,
    pit: Mutex<Option<String>>,
    pits_made: AtomicUsize,
}

impl Cluster {
    fn new(flavor: Flavor, docs: Vec<Doc>) -> Cluster {
        Cluster {
            flavor,
            docs,
            canned: None,
            shards_total: 3,
            failed_shard: false,
            relation_gte: false,
            seen: Mutex::new(Vec::new()),
            pit: Mutex::new(None),
            pits_made: AtomicUsize::new(0),
        }
    }

    fn canned(status: u16, content_type: &'static str, body: impl Into<String>) -> Cluster {
        Cluster {
            canned: Some((status, content_type, body.into())),
            ..Cluster::new(Flavor::Es8, Vec::new())
        }
    }

    /// Serves on a loopback port; the URL to reach it.
    async fn start(self) -> (Arc<Cluster>, String) {
        let cluster = Arc::new(self);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&cluster));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (cluster, url)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn searches(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path.ends_with("/_search"))
            .collect()
    }

    fn next_pit(&self, prefix: &str) -> String {
        let id = format!(
            "{prefix}-{}",
            self.pits_made.fetch_add(1, Ordering::SeqCst) + 1
        );
        *self.pit.lock().unwrap() = Some(id.clone());
        id
    }

    fn route(&self, seen: &Seen) -> Response {
        let os = self.flavor == Flavor::OpenSearch;
        match (seen.method.as_str(), seen.path.as_str()) {
            ("POST", p) if p.ends_with("/_pit") && !os => {
                json_answer(200, json!({"id": self.next_pit("es-pit")}))
            }
            ("POST", p) if p.ends_with("/_pit") => json_answer(
                400,
                json!({"error": format!("no handler found for uri [{p}?{}] and method [POST]", seen.query.clone().unwrap_or_default())}),
            ),
            ("POST", p) if p.ends_with("/_search/point_in_time") && os => json_answer(
                200,
                json!({
                    "pit_id": self.next_pit("os-pit"),
                    "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                    "creation_time": 1_796_610_725_000_i64,
                }),
            ),
            ("DELETE", "/_pit") if !os => {
                json_answer(200, json!({"succeeded": true, "num_freed": 1}))
            }
            ("DELETE", "/_search/point_in_time") if os => json_answer(
                200,
                json!({"pits": [{"successful": true, "pit_id": seen.body["pit_id"][0]}]}),
            ),
            ("POST", p) if p.ends_with("/_search") => self.search(seen),
            ("POST", p) if p.ends_with("/_count") => self.count(seen),
            (m, p) => json_answer(
                405,
                json!({"error": format!("Incorrect HTTP method for uri [{p}] and method [{m}]"), "status": 405}),
            ),
        }
    }

    fn search(&self, seen: &Seen) -> Response {
        let body = &seen.body;
        let on_pit = seen.path == "/_search";
        if on_pit {
            let current = self.pit.lock().unwrap().clone();
            if current.is_none() || body["pit"]["id"].as_str() != current.as_deref() {
                return json_answer(
                    404,
                    json!({"error": {"root_cause": [{"type": "search_context_missing_exception", "reason": "No search context found for id [1]"}], "type": "search_phase_execution_exception", "reason": "all shards failed"}, "status": 404}),
                );
            }
        }
        let mut matched = Vec::new();
        for (pos, doc) in self.docs.iter().enumerate() {
            match matches(&body["query"], doc) {
                Ok(true) => matched.push((pos, doc)),
                Ok(false) => {}
                Err(e) => return refused_query(&e),
            }
        }
        matched.sort_by(|a, b| b.1.ts.cmp(&a.1.ts).then(a.0.cmp(&b.0)));
        let total = matched.len();
        // Elasticsearch's point in time sorts with its own tiebreaker (`_shard_doc`).
        let tiebreak = on_pit && self.flavor != Flavor::OpenSearch;
        if let Some(after) = body["search_after"].as_array() {
            let ts = after[0].as_i64().unwrap();
            let shard_doc = after.get(1).and_then(Value::as_i64);
            matched.retain(|(pos, d)| match shard_doc {
                Some(p) => d.ts < ts || (d.ts == ts && *pos as i64 > p),
                None => d.ts < ts,
            });
        }
        let size = body["size"].as_u64().unwrap_or(10) as usize;
        let hits: Vec<Value> = matched
            .iter()
            .take(size)
            .map(|(pos, d)| {
                let mut hit = json!({
                    "_index": d.index,
                    "_id": d.id,
                    "_score": null,
                    "_source": d.source,
                    "sort": if tiebreak { json!([d.ts, pos]) } else { json!([d.ts]) },
                });
                if self.flavor == Flavor::Es7 {
                    hit["_type"] = json!("_doc");
                }
                hit
            })
            .collect();
        let shards = self.shards();
        let mut hits_part = json!({"max_score": null, "hits": hits});
        if body["track_total_hits"] != json!(false) {
            hits_part["total"] = match self.flavor {
                Flavor::TotalAsNumber => json!(total),
                _ if self.relation_gte => json!({"value": total, "relation": "gte"}),
                _ => json!({"value": total, "relation": "eq"}),
            };
        }
        let mut answer =
            json!({"took": 3, "timed_out": false, "_shards": shards, "hits": hits_part});
        if let Some(histogram) = body["aggs"]["per_minute"]["date_histogram"].as_object() {
            assert_eq!(histogram["fixed_interval"], "1m");
            let mut buckets: Vec<(i64, u64)> = Vec::new();
            for (_, d) in &matched_all(self, body) {
                let minute = d.ts - d.ts.rem_euclid(60_000);
                match buckets.iter_mut().find(|(m, _)| *m == minute) {
                    Some((_, n)) => *n += 1,
                    None => buckets.push((minute, 1)),
                }
            }
            buckets.sort();
            let buckets: Vec<Value> = buckets
                .into_iter()
                .map(|(key, n)| {
                    let at = DateTime::from_timestamp_millis(key).unwrap();
                    json!({"key_as_string": at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(), "key": key, "doc_count": n})
                })
                .collect();
            answer["aggregations"] = json!({"per_minute": {"buckets": buckets}});
        }
        for (name, agg) in body["aggs"].as_object().into_iter().flatten() {
            if let Some(terms) = agg.get("terms") {
                let docs: Vec<&Doc> = matched_all(self, body)
                    .into_iter()
                    .map(|(_, d)| d)
                    .collect();
                answer["aggregations"][name] = terms_buckets(terms, &docs);
            }
        }
        if on_pit {
            let prefix = if self.flavor == Flavor::OpenSearch {
                "os-pit"
            } else {
                "es-pit"
            };
            answer["pit_id"] = json!(self.next_pit(prefix));
        }
        json_answer(200, answer)
    }
}

impl Cluster {
    /// `_shards` as every answer carries it, with a failure when the cluster is set to fail.
    fn shards(&self) -> Value {
        let failed = u64::from(self.failed_shard);
        let mut shards = json!({
            "total": self.shards_total,
            "successful": self.shards_total - failed,
            "skipped": 0,
            "failed": failed,
        });
        if self.failed_shard {
            shards["failures"] = json!([{
                "shard": 1,
                "index": "app-logs-2026.12.06",
                "node": "q1Vn3GRwTe-2bR8Qw1d0yA",
                "reason": {"type": "query_shard_exception", "reason": "failed to create query: For input string: \"abc\"", "index_uuid": "Zr4d9WQXQfG1lQd1dMx8Ew", "index": "app-logs-2026.12.06"},
            }]);
        }
        shards
    }

    /// `POST /{index}/_count`: `{"count", "_shards"}` (the same in Elasticsearch 7, 8 and
    /// OpenSearch).
    fn count(&self, seen: &Seen) -> Response {
        let query = &seen.body["query"];
        let mut count = 0_u64;
        for doc in &self.docs {
            match matches(query, doc) {
                Ok(hit) => count += u64::from(hit),
                Err(e) => return refused_query(&e),
            }
        }
        json_answer(200, json!({"count": count, "_shards": self.shards()}))
    }
}

/// A `terms` aggregation over the matched documents, as the clusters write it: the `size`
/// largest groups (ties by key), numbers as numbers, booleans as 1/0 with `key_as_string`,
/// and the documents of the other groups in `sum_other_doc_count`.
fn terms_buckets(terms: &Value, docs: &[&Doc]) -> Value {
    let field = terms["field"].as_str().unwrap();
    let size = terms["size"].as_u64().unwrap_or(10) as usize;
    let mut groups: Vec<(Value, u64)> = Vec::new();
    for doc in docs {
        let Some(key) = lookup(&doc.source, field) else {
            continue;
        };
        match groups.iter_mut().find(|(k, _)| k == key) {
            Some((_, n)) => *n += 1,
            None => groups.push((key.clone(), 1)),
        }
    }
    let by_key = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => a.to_string().cmp(&b.to_string()),
    };
    groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| by_key(&a.0, &b.0)));
    let other: u64 = groups.iter().skip(size).map(|(_, n)| n).sum();
    let buckets: Vec<Value> = groups
        .into_iter()
        .take(size)
        .map(|(key, n)| match key {
            Value::Bool(b) => {
                json!({"key": u8::from(b), "key_as_string": b.to_string(), "doc_count": n})
            }
            key => json!({"key": key, "doc_count": n}),
        })
        .collect();
    json!({"doc_count_error_upper_bound": 0, "sum_other_doc_count": other, "buckets": buckets})
}

/// A query the cluster cannot run, answered as it answers: a query string that does not
/// parse fails on every shard (Lucene's words nested in the shard failure), anything else is
/// a `parsing_exception`.
fn refused_query(reason: &str) -> Response {
    let Some(query) = reason
        .strip_prefix("Failed to parse query [")
        .and_then(|r| r.strip_suffix(']'))
    else {
        return json_answer(
            400,
            json!({"error": {"root_cause": [{"type": "parsing_exception", "reason": reason}], "type": "parsing_exception", "reason": reason}, "status": 400}),
        );
    };
    let column = query.chars().count() + 1;
    let lucene = format!(
        "Cannot parse '{query}': Encountered \"<EOF>\" at line 1, column {column}.\nWas expecting one of:\n    <NOT> ...\n    \"+\" ...\n    \"-\" ..."
    );
    let shard = json!({"type": "query_shard_exception", "reason": reason, "index_uuid": "Zr4d9WQXQfG1lQd1dMx8Ew", "index": "app-logs-2026.12.07"});
    let mut failed = shard.clone();
    failed["caused_by"] = json!({"type": "parse_exception", "reason": lucene, "caused_by": {"type": "parse_exception", "reason": format!("Encountered \"<EOF>\" at line 1, column {column}.")}});
    json_answer(
        400,
        json!({"error": {
            "root_cause": [shard],
            "type": "search_phase_execution_exception",
            "reason": "all shards failed",
            "phase": "query",
            "grouped": true,
            "failed_shards": [{"shard": 0, "index": "app-logs-2026.12.07", "node": "q1Vn3GRwTe-2bR8Qw1d0yA", "reason": failed}],
        }, "status": 400}),
    )
}

/// The docs the query matches, whatever the page.
fn matched_all<'a>(cluster: &'a Cluster, body: &Value) -> Vec<(usize, &'a Doc)> {
    cluster
        .docs
        .iter()
        .enumerate()
        .filter(|(_, d)| matches(&body["query"], d).unwrap_or(false))
        .collect()
}

async fn answer(
    State(cluster): State<Arc<Cluster>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let seen = Seen {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        auth: header(AUTHORIZATION),
        content_type: header(CONTENT_TYPE),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    cluster.seen.lock().unwrap().push(seen.clone());
    if let Some((status, content_type, text)) = &cluster.canned {
        return (
            StatusCode::from_u16(*status).unwrap(),
            [(CONTENT_TYPE, *content_type)],
            text.clone(),
        )
            .into_response();
    }
    cluster.route(&seen)
}

fn json_answer(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(CONTENT_TYPE, "application/json; charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

/// The query DSL this source sends, evaluated on one document.
fn matches(query: &Value, doc: &Doc) -> Result<bool, String> {
    let Some((kind, clause)) = query.as_object().and_then(|o| o.iter().next()) else {
        return Err(format!("not a query: {query}"));
    };
    let single = |clause: &Value| -> Result<(String, Value), String> {
        let o = clause.as_object().ok_or("not an object")?;
        let (k, v) = o.iter().next().ok_or("empty")?;
        Ok((k.clone(), v.clone()))
    };
    match kind.as_str() {
        "bool" => {
            let all = |key: &str| -> Result<bool, String> {
                for q in clause[key].as_array().into_iter().flatten() {
                    if !matches(q, doc)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            };
            if !all("filter")? || !all("must")? {
                return Ok(false);
            }
            let should = clause["should"].as_array().cloned().unwrap_or_default();
            if should.is_empty() {
                return Ok(true);
            }
            let least = clause["minimum_should_match"].as_u64().unwrap_or(1) as usize;
            let mut hits = 0;
            for q in &should {
                hits += usize::from(matches(q, doc)?);
            }
            Ok(hits >= least)
        }
        "range" => {
            let (_, bounds) = single(clause)?;
            let ms = |key: &str| {
                bounds[key]
                    .as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.timestamp_millis())
            };
            assert_eq!(bounds["format"], "strict_date_optional_time");
            Ok(ms("gte").is_none_or(|g| doc.ts >= g)
                && ms("gt").is_none_or(|g| doc.ts > g)
                && ms("lte").is_none_or(|l| doc.ts <= l)
                && ms("lt").is_none_or(|l| doc.ts < l))
        }
        "query_string" => query_string(clause, doc),
        "term" => {
            let (field, want) = single(clause)?;
            Ok(match lookup(&doc.source, &field) {
                Some(Value::Array(items)) => items.contains(&want),
                Some(v) => *v == want,
                None => false,
            })
        }
        "match_phrase" => {
            let (field, phrase) = single(clause)?;
            let phrase = phrase.as_str().ok_or("phrase not a string")?.to_lowercase();
            Ok(lookup(&doc.source, &field)
                .and_then(Value::as_str)
                .is_some_and(|s| s.to_lowercase().contains(&phrase)))
        }
        other => Err(format!("unknown query [{other}]")),
    }
}

/// A field written nested or with dots in its name.
fn lookup<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    if let Some(found) = v.get(name) {
        return Some(found);
    }
    name.match_indices('.')
        .find_map(|(at, _)| lookup(v.get(&name[..at])?, &name[at + 1..]))
}

/// A query string as `query_string` reads the little of Lucene's syntax the tests use:
/// `field:value`, `field:"a phrase"`, bare words (any field), a trailing `*`, AND, OR, NOT,
/// `-`, parentheses; words side by side joined by `default_operator` (OR unless told).
fn query_string(clause: &Value, doc: &Doc) -> Result<bool, String> {
    let text = clause["query"]
        .as_str()
        .ok_or("[query_string] query must be a string")?;
    let and = clause["default_operator"]
        .as_str()
        .is_some_and(|op| op.eq_ignore_ascii_case("and"));
    let failed = || format!("Failed to parse query [{text}]");
    let tokens = tokenize(text).ok_or_else(failed)?;
    let mut parser = Parser { tokens, at: 0, and };
    let q = parser.any().ok_or_else(failed)?;
    if parser.at != parser.tokens.len() {
        return Err(failed());
    }
    Ok(q.matches(doc))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Term(Term),
}

#[derive(Debug, Clone, PartialEq)]
struct Term {
    field: Option<String>,
    value: String,
    phrase: bool,
}

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let mut chars = text.chars().peekable();
    let mut tokens = Vec::new();
    let quoted = |chars: &mut std::iter::Peekable<std::str::Chars>| -> Option<String> {
        chars.next();
        let mut phrase = String::new();
        loop {
            match chars.next()? {
                '"' => return Some(phrase),
                '\\' => phrase.push(chars.next()?),
                c => phrase.push(c),
            }
        }
    };
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' => {
                chars.next();
                tokens.push(if c == '(' { Token::Open } else { Token::Close });
            }
            '-' => {
                chars.next();
                tokens.push(Token::Not);
            }
            '"' => tokens.push(Token::Term(Term {
                field: None,
                value: quoted(&mut chars)?,
                phrase: true,
            })),
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '"') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(match word.as_str() {
                    "AND" | "&&" => Token::And,
                    "OR" | "||" => Token::Or,
                    "NOT" => Token::Not,
                    _ => match word.split_once(':') {
                        Some((field, "")) if chars.peek() == Some(&'"') => Token::Term(Term {
                            field: Some(field.to_string()),
                            value: quoted(&mut chars)?,
                            phrase: true,
                        }),
                        Some((_, "")) => return None,
                        Some((field, value)) => Token::Term(Term {
                            field: Some(field.to_string()),
                            value: value.to_string(),
                            phrase: false,
                        }),
                        None => Token::Term(Term {
                            field: None,
                            value: word,
                            phrase: false,
                        }),
                    },
                });
            }
        }
    }
    Some(tokens)
}

enum Query {
    Term(Term),
    All(Vec<Query>),
    Any(Vec<Query>),
    Not(Box<Query>),
}

impl Query {
    fn matches(&self, doc: &Doc) -> bool {
        match self {
            Query::Term(term) => match &term.field {
                Some(field) => lookup(&doc.source, field).is_some_and(|v| term.matches(v)),
                None => doc
                    .source
                    .as_object()
                    .into_iter()
                    .flatten()
                    .any(|(_, v)| term.matches(v)),
            },
            Query::All(all) => all.iter().all(|q| q.matches(doc)),
            Query::Any(any) => any.iter().any(|q| q.matches(doc)),
            Query::Not(q) => !q.matches(doc),
        }
    }
}

impl Term {
    /// As an analysed text field or a keyword: the whole value or one of its words, any case.
    fn matches(&self, v: &Value) -> bool {
        let want = self.value.to_lowercase();
        match v {
            Value::String(s) => {
                let s = s.to_lowercase();
                let mut words = s.split(|c: char| !c.is_alphanumeric());
                if self.phrase {
                    s.contains(&want)
                } else if let Some(prefix) = want.strip_suffix('*') {
                    words.any(|w| w.starts_with(prefix))
                } else {
                    s == want || words.any(|w| w == want)
                }
            }
            Value::Array(items) => items.iter().any(|i| self.matches(i)),
            Value::Number(n) => n.as_f64().is_some_and(|n| want.parse() == Ok(n)),
            Value::Bool(b) => want.parse() == Ok(*b),
            _ => false,
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// Whether words side by side are joined by AND (else OR).
    and: bool,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn starts_operand(&self) -> bool {
        matches!(self.peek(), Some(Token::Open | Token::Not | Token::Term(_)))
    }

    fn any(&mut self) -> Option<Query> {
        let mut parts = vec![self.all()?];
        loop {
            if self.peek() == Some(&Token::Or) {
                self.at += 1;
            } else if self.and || !self.starts_operand() {
                break;
            }
            parts.push(self.all()?);
        }
        Some(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::Any(parts)
        })
    }

    fn all(&mut self) -> Option<Query> {
        let mut parts = vec![self.unary()?];
        loop {
            if self.peek() == Some(&Token::And) {
                self.at += 1;
            } else if !self.and || !self.starts_operand() {
                break;
            }
            parts.push(self.unary()?);
        }
        Some(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::All(parts)
        })
    }

    fn unary(&mut self) -> Option<Query> {
        let token = self.peek()?.clone();
        self.at += 1;
        match token {
            Token::Not => Some(Query::Not(Box::new(self.unary()?))),
            Token::Open => {
                let inner = self.any()?;
                (self.peek() == Some(&Token::Close)).then(|| self.at += 1)?;
                Some(inner)
            }
            Token::Term(term) => Some(Query::Term(term)),
            Token::Close | Token::And | Token::Or => None,
        }
    }
}

fn ms(time: &str) -> i64 {
    DateTime::parse_from_rfc3339(time)
        .unwrap()
        .timestamp_millis()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A JSON log line as an app ships it, in Shanghai time.
fn doc(n: usize, time: &str, level: &str, message: &str, account: &str) -> Doc {
    Doc {
        index: "app-logs-2026.12.07".into(),
        id: format!("d{n:02}"),
        ts: ms(time),
        source: json!({
            "@timestamp": time,
            "level": level,
            "message": message,
            "account": account,
            "trace_id": format!("t-{n}"),
            "service": "order",
        }),
    }
}

/// `count` lines of the customer (at most 50, to stay in the window), one a minute back from
/// 10:20 Shanghai, newest first.
fn minutes_of_lines(count: usize) -> Vec<Doc> {
    (0..count)
        .map(|i| {
            let (hour, minute) = if i <= 20 { (10, 20 - i) } else { (9, 80 - i) };
            let time = format!("2026-12-07T{hour:02}:{minute:02}:00.000+08:00");
            doc(i, &time, "INFO", &format!("line {i}"), ACCOUNT)
        })
        .collect()
}

// --- the source under test ---

fn basic() -> ElasticsearchAuth {
    ElasticsearchAuth {
        username: Some("elastic".into()),
        password: Some(PASSWORD.into()),
        ..ElasticsearchAuth::default()
    }
}

fn config(urls: Vec<String>) -> ElasticsearchConfig {
    ElasticsearchConfig {
        name: "app-es".into(),
        urls,
        index: INDEX.into(),
        auth: Some(basic()),
        ca_file: None,
        insecure: false,
        timeout: "5s".into(),
        fields: FieldNames::default(),
        point_in_time: false,
        page_size: 500,
    }
}

fn source(cfg: &ElasticsearchConfig) -> ElasticsearchSource {
    ElasticsearchSource::new(cfg, SHANGHAI).unwrap()
}

/// The customer's lines around 10:00 Shanghai (02:00Z), half an hour each side.
fn query() -> LogQuery {
    LogQuery::around(at("2026-12-07T02:00:00Z"), vec![ACCOUNT.into()])
}

/// Everything a search sends, and how it ended.
async fn run(
    source: &ElasticsearchSource,
    query: &LogQuery,
) -> (Vec<Found>, Result<Searched, SourceError>) {
    let (tx, mut rx) = mpsc::channel(8);
    let collect = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(found) = rx.recv().await {
            all.push(found);
        }
        all
    });
    let result = source.search(query, &tx).await;
    drop(tx);
    (collect.await.unwrap(), result)
}

fn messages(found: &[Found]) -> Vec<String> {
    found
        .iter()
        .filter_map(|f| match f {
            Found::Line(l) => Some(l.message.clone()),
            _ => None,
        })
        .collect()
}

/// A failure that names the source and holds no secret.
fn assert_clean_failure(e: &SourceError, wanted: &str, source: &ElasticsearchSource) {
    assert_eq!(e.source_name, "app-es", "{e}");
    assert!(e.to_string().starts_with("app-es: "), "{e}");
    assert!(e.message.contains(wanted), "wanted '{wanted}' in: {e}");
    for secret in SECRETS {
        assert!(!e.to_string().contains(secret), "a secret leaked: {e}");
        assert!(!format!("{e:?}").contains(secret), "a secret leaked: {e:?}");
        assert!(!format!("{source:?}").contains(secret), "{source:?}");
    }
}

/// A port nothing listens on.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

// --- the tests ---

#[tokio::test]
async fn a_search_is_one_bool_query_sent_with_each_kind_of_credentials() {
    let docs = vec![
        doc(
            1,
            "2026-12-07T10:02:00.000+08:00",
            "ERROR",
            "下单失败 资金不足",
            ACCOUNT,
        ),
        doc(
            2,
            "2026-12-07T10:01:00.000+08:00",
            "INFO",
            "下单成功",
            ACCOUNT,
        ),
        doc(
            3,
            "2026-12-07T10:01:30.000+08:00",
            "ERROR",
            "下单失败",
            "310009999999",
        ),
        doc(
            4,
            "2026-12-07T11:45:00.000+08:00",
            "ERROR",
            "下单失败 窗口之外",
            ACCOUNT,
        ),
    ];
    let (cluster, url) = Cluster::new(Flavor::Es8, docs).start().await;
    let auths = [
        (
            ElasticsearchAuth {
                api_key: Some(API_KEY.into()),
                ..ElasticsearchAuth::default()
            },
            format!("ApiKey {API_KEY}"),
        ),
        (
            basic(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("elastic:{PASSWORD}"))
            ),
        ),
        (
            ElasticsearchAuth {
                bearer: Some(TOKEN.into()),
                ..ElasticsearchAuth::default()
            },
            format!("Bearer {TOKEN}"),
        ),
    ];
    let q = LogQuery {
        level: Some("Error".into()),
        text: Some("下单失败".into()),
        limit: 20,
        ..query()
    };
    for (i, (auth, header)) in auths.into_iter().enumerate() {
        let cfg = ElasticsearchConfig {
            auth: Some(auth),
            index: "app-logs-*,audit-*".into(),
            ..config(vec![url.clone()])
        };
        let s = source(&cfg);
        for secret in SECRETS {
            assert!(!format!("{s:?}").contains(secret), "{s:?}");
        }
        let (found, done) = run(&s, &q).await;
        let done = done.unwrap();
        assert_eq!(messages(&found), ["下单失败 资金不足"]);
        assert_eq!(done.lines, 1);
        assert_eq!(done.read, 1);
        assert_eq!(
            done.total,
            Some(Total {
                value: 1,
                at_least: false
            })
        );

        let seen = &cluster.seen()[i];
        assert_eq!(seen.method, "POST");
        assert_eq!(seen.path, "/app-logs-*,audit-*/_search");
        assert_eq!(seen.auth.as_deref(), Some(header.as_str()));
        assert_eq!(seen.content_type.as_deref(), Some("application/json"));
        let body = &seen.body;
        assert_eq!(body["size"], 20);
        assert_eq!(body["sort"], json!([{"@timestamp": {"order": "desc"}}]));
        assert_eq!(body["track_total_hits"], true);
        assert_eq!(body["_source"], true);
        let filter = &body["query"]["bool"]["filter"];
        assert_eq!(
            filter[0],
            json!({"range": {"@timestamp": {
                "gte": "2026-12-07T01:30:00.000Z",
                "lte": "2026-12-07T02:30:00.000Z",
                "format": "strict_date_optional_time",
            }}})
        );
        let terms: Vec<Value> = ["user_id", "account", "phone", "trace_id"]
            .iter()
            .map(|f| json!({"term": {*f: ACCOUNT}}))
            .collect();
        assert_eq!(
            filter[1],
            json!({"bool": {"should": terms, "minimum_should_match": 1}})
        );
        assert_eq!(
            filter[2],
            json!({"bool": {"should": [
                {"term": {"level": "Error"}},
                {"term": {"level": "ERROR"}},
                {"term": {"level": "error"}},
            ], "minimum_should_match": 1}})
        );
        assert_eq!(
            body["query"]["bool"]["must"],
            json!([{"match_phrase": {"message": "下单失败"}}])
        );
        assert_eq!(
            body["aggs"],
            json!({"per_minute": {"date_histogram": {
                "field": "@timestamp", "fixed_interval": "1m", "min_doc_count": 1,
            }}})
        );
        assert!(body.get("search_after").is_none() && body.get("pit").is_none());
    }
}

#[tokio::test]
async fn pages_follow_search_after_newest_first_and_stop_at_the_limit() {
    let mut docs = minutes_of_lines(11);
    // Two lines of one millisecond, split by the first page's end.
    docs[3].ts = docs[2].ts;
    docs[3].source["@timestamp"] = docs[2].source["@timestamp"].clone();
    docs.push(doc(
        40,
        "2026-12-07T10:05:00.000+08:00",
        "INFO",
        "someone else",
        "310009999999",
    ));
    let (cluster, url) = Cluster::new(Flavor::Es8, docs.clone()).start().await;
    let cfg = ElasticsearchConfig {
        page_size: 3,
        ..config(vec![url])
    };
    let q = LogQuery {
        limit: 8,
        ..query()
    };
    let (found, done) = run(&source(&cfg), &q).await;
    let done = done.unwrap();

    let wanted: Vec<String> = (0..8).map(|i| format!("line {i}")).collect();
    assert_eq!(messages(&found), wanted, "newest first, none lost at a tie");
    assert_eq!(done.lines, 8);
    assert_eq!(
        done.total,
        Some(Total {
            value: 11,
            at_least: false
        })
    );
    let Found::Minutes { source, minutes } = &found[0] else {
        panic!("the histogram comes first: {:?}", found[0]);
    };
    assert_eq!(source, "app-es");
    assert_eq!(minutes.len(), 10, "two lines share a minute: {minutes:?}");
    assert_eq!(
        minutes[0],
        Minute {
            at: at("2026-12-07T02:10:00Z"),
            count: 1
        }
    );
    assert!(minutes.iter().any(|m| m.count == 2), "{minutes:?}");

    let searches = cluster.searches();
    assert!(searches.len() >= 3, "{searches:?}");
    assert_eq!(done.read, searches.len());
    assert!(searches[0].body.get("search_after").is_none());
    assert!(searches[0].body.get("aggs").is_some());
    for later in &searches[1..] {
        assert!(later.body.get("aggs").is_none(), "aggs only on page 1");
        assert_eq!(later.body["track_total_hits"], false);
        assert!(later.body["search_after"].is_array(), "{:?}", later.body);
        assert!(later.body["size"].as_u64().unwrap() <= 3);
    }
    // The page after a tie starts at the tied millisecond again.
    assert_eq!(searches[1].body["search_after"], json!([docs[2].ts + 1]));
    let asked: Vec<u64> = searches
        .iter()
        .map(|s| s.body["size"].as_u64().unwrap())
        .collect();
    assert_eq!(asked[0], 3);
    assert_eq!(
        *asked.last().unwrap(),
        2,
        "the last page asks only what is left: {asked:?}"
    );
}

#[tokio::test]
async fn totals_come_as_an_object_or_a_bare_number() {
    for (flavor, gte, wanted) in [
        (
            Flavor::Es7,
            true,
            Total {
                value: 4,
                at_least: true,
            },
        ),
        (
            Flavor::OpenSearch,
            false,
            Total {
                value: 4,
                at_least: false,
            },
        ),
        (
            Flavor::TotalAsNumber,
            false,
            Total {
                value: 4,
                at_least: false,
            },
        ),
    ] {
        let mut cluster = Cluster::new(flavor, minutes_of_lines(4));
        cluster.relation_gte = gte;
        let (_cluster, url) = cluster.start().await;
        let (found, done) = run(&source(&config(vec![url])), &query()).await;
        let done = done.unwrap();
        assert_eq!(done.total, Some(wanted), "{flavor:?}");
        assert_eq!(messages(&found).len(), 4, "{flavor:?}");
        assert!(done.warnings.is_empty(), "{done:?}");
    }
}

#[tokio::test]
async fn hits_become_lines_from_nested_or_flat_fields() {
    let docs = vec![
        Doc {
            index: "app-logs-2026.12.07".into(),
            id: "n1".into(),
            ts: ms("2026-12-07T10:03:00.000+08:00"),
            source: json!({
                "@timestamp": "2026-12-07 10:03:00.250",
                "log": {"level": "WARN"},
                "user": {"id": ACCOUNT},
                "trace": {"id": "t-nested"},
                "msg": "撤单 nested",
            }),
        },
        Doc {
            index: "app-logs-2026.12.07".into(),
            id: "f1".into(),
            ts: ms("2026-12-07T10:02:00.000+08:00"),
            source: json!({
                "@timestamp": ms("2026-12-07T10:02:00.000+08:00"),
                "log.level": "ERROR",
                "user.id": ACCOUNT,
                "trace.id": "t-flat",
                "msg": "撤单 flat",
            }),
        },
        Doc {
            index: "app-logs-2026.12.07".into(),
            id: "x1".into(),
            ts: ms("2026-12-07T10:01:00.000+08:00"),
            // No time of its own and no message: the sort value and the whole document.
            source: json!({"user.id": ACCOUNT, "event": "login"}),
        },
    ];
    let (_cluster, url) = Cluster::new(Flavor::Es8, docs).start().await;
    let cfg = ElasticsearchConfig {
        fields: FieldNames {
            level: "log.level".into(),
            message: "msg".into(),
            user: vec!["user.id".into()],
            trace: "trace.id".into(),
            ..FieldNames::default()
        },
        ..config(vec![url])
    };
    let (found, done) = run(&source(&cfg), &query()).await;
    done.unwrap();
    let lines: Vec<_> = found
        .into_iter()
        .filter_map(|f| match f {
            Found::Line(l) => Some(l),
            _ => None,
        })
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0].message, "撤单 nested");
    assert_eq!(lines[0].level.as_deref(), Some("WARN"));
    assert_eq!(lines[0].trace.as_deref(), Some("t-nested"));
    assert_eq!(
        lines[0].at,
        at("2026-12-07T02:03:00.250Z"),
        "a zoneless time is Shanghai's"
    );
    assert_eq!(lines[0].origin, "app-logs-2026.12.07/n1");
    assert_eq!(lines[0].source, "app-es");
    assert_eq!(lines[0].fields["user"]["id"], ACCOUNT);
    assert_eq!(lines[1].message, "撤单 flat");
    assert_eq!(lines[1].level.as_deref(), Some("ERROR"));
    assert_eq!(lines[1].trace.as_deref(), Some("t-flat"));
    assert_eq!(
        lines[1].at,
        at("2026-12-07T02:02:00Z"),
        "epoch milliseconds"
    );
    assert_eq!(
        lines[2].at,
        at("2026-12-07T02:01:00Z"),
        "from the sort value"
    );
    let whole: Map<String, Value> = serde_json::from_str(&lines[2].message).unwrap();
    assert_eq!(whole["event"], "login");
}

#[tokio::test]
async fn the_regex_is_applied_to_each_message_and_paging_goes_on() {
    let mut docs = minutes_of_lines(9);
    for (i, d) in docs.iter_mut().enumerate() {
        let message = if i % 4 == 3 {
            format!("order {i} rejected: code=E{i}1")
        } else {
            format!("heartbeat {i}")
        };
        d.source["message"] = json!(message);
    }
    let (cluster, url) = Cluster::new(Flavor::Es8, docs).start().await;
    let cfg = ElasticsearchConfig {
        page_size: 3,
        ..config(vec![url])
    };
    let q = LogQuery {
        regex: Some(r"rejected: code=E\d1$".into()),
        limit: 5,
        ..query()
    };
    let (found, done) = run(&source(&cfg), &q).await;
    let done = done.unwrap();
    assert_eq!(
        messages(&found),
        ["order 3 rejected: code=E31", "order 7 rejected: code=E71"]
    );
    assert_eq!(done.lines, 2);
    let searches = cluster.searches();
    assert!(searches.len() >= 4, "paged to the end: {searches:?}");
    assert!(
        searches.iter().all(|s| s.body["size"] == 3),
        "whole pages when lines are dropped here"
    );
    assert!(
        searches[0].body["query"]
            .to_string()
            .find("regexp")
            .is_none(),
        "the regex is not sent"
    );
}

#[tokio::test]
async fn a_point_in_time_on_elasticsearch_is_opened_followed_and_closed() {
    let mut docs = minutes_of_lines(5);
    docs[2].ts = docs[1].ts;
    let (cluster, url) = Cluster::new(Flavor::Es8, docs).start().await;
    let cfg = ElasticsearchConfig {
        point_in_time: true,
        page_size: 2,
        ..config(vec![url])
    };
    let (found, done) = run(&source(&cfg), &query()).await;
    let done = done.unwrap();
    assert_eq!(
        messages(&found),
        ["line 0", "line 1", "line 2", "line 3", "line 4"]
    );
    assert_eq!(done.total.map(|t| t.value), Some(5));

    let seen = cluster.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/app-logs-*/_pit");
    assert_eq!(seen[0].query.as_deref(), Some("keep_alive=1m"));
    let searches = &seen[1..seen.len() - 1];
    assert_eq!(searches.len(), 3, "{seen:?}");
    for (i, s) in searches.iter().enumerate() {
        assert_eq!(s.path, "/_search", "no index beside a point in time");
        assert_eq!(
            s.body["pit"],
            json!({"id": format!("es-pit-{}", i + 1), "keep_alive": "1m"}),
            "the newest id"
        );
        assert!(s.auth.as_deref().is_some_and(|a| a.starts_with("Basic ")));
    }
    assert_eq!(
        searches[1].body["search_after"].as_array().map(Vec::len),
        Some(2),
        "Elasticsearch's tiebreaker is passed back as it is"
    );
    let close = seen.last().unwrap();
    assert_eq!(
        (close.method.as_str(), close.path.as_str()),
        ("DELETE", "/_pit")
    );
    assert_eq!(close.body, json!({"id": "es-pit-4"}));
}

#[tokio::test]
async fn a_point_in_time_on_opensearch_uses_its_own_endpoints() {
    let (cluster, url) = Cluster::new(Flavor::OpenSearch, minutes_of_lines(5))
        .start()
        .await;
    let cfg = ElasticsearchConfig {
        point_in_time: true,
        page_size: 2,
        ..config(vec![url])
    };
    let (found, done) = run(&source(&cfg), &query()).await;
    done.unwrap();
    assert_eq!(messages(&found).len(), 5);

    let seen = cluster.seen();
    assert_eq!(
        seen[0].path, "/app-logs-*/_pit",
        "Elasticsearch's is tried first"
    );
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].path, "/app-logs-*/_search/point_in_time");
    assert_eq!(seen[1].query.as_deref(), Some("keep_alive=1m"));
    assert_eq!(seen[2].path, "/_search");
    assert_eq!(seen[2].body["pit"]["id"], "os-pit-1");
    assert_eq!(seen[3].body["pit"]["id"], "os-pit-2");
    let close = seen.last().unwrap();
    assert_eq!(
        (close.method.as_str(), close.path.as_str()),
        ("DELETE", "/_search/point_in_time")
    );
    let newest = format!("os-pit-{}", cluster.pits_made.load(Ordering::SeqCst));
    assert_eq!(close.body, json!({"pit_id": [newest]}));
}

#[tokio::test]
async fn a_dead_or_failing_node_hands_over_to_the_next() {
    let (good, good_url) = Cluster::new(Flavor::Es8, minutes_of_lines(3)).start().await;
    let dead = closed_port().await;
    let (found, done) = run(
        &source(&config(vec![dead.clone(), good_url.clone()])),
        &query(),
    )
    .await;
    done.unwrap();
    assert_eq!(messages(&found).len(), 3);
    assert_eq!(good.searches().len(), 1);

    let (busy, busy_url) = Cluster::canned(
        503,
        "application/json",
        json!({"error": {"root_cause": [], "type": "search_phase_execution_exception", "reason": "all shards failed", "phase": "query", "grouped": true, "failed_shards": []}, "status": 503}).to_string(),
    )
    .start()
    .await;
    let (found, done) = run(
        &source(&config(vec![busy_url.clone(), good_url.clone()])),
        &query(),
    )
    .await;
    done.unwrap();
    assert_eq!(messages(&found).len(), 3);
    assert_eq!(busy.seen().len(), 1);
    assert_eq!(good.searches().len(), 2);

    let s = source(&config(vec![dead.clone(), busy_url.clone()]));
    let e = run(&s, &query()).await.1.unwrap_err();
    assert_clean_failure(
        &e,
        &format!("{busy_url} answered 503 search_phase_execution_exception: all shards failed"),
        &s,
    );

    let other_dead = closed_port().await;
    let s = source(&config(vec![dead.clone(), other_dead.clone()]));
    let e = run(&s, &query()).await.1.unwrap_err();
    assert_clean_failure(&e, &format!("cannot reach {dead}, {other_dead}: "), &s);
    assert!(e.message.to_lowercase().contains("refused"), "{e}");
}

/// Error answers as the clusters write them, and what the source makes of each.
fn refusals() -> Vec<(u16, &'static str, String, String)> {
    let json = "application/json; charset=UTF-8";
    let www = json!({"WWW-Authenticate": ["Basic realm=\"security\" charset=\"UTF-8\"", "Bearer realm=\"security\"", "ApiKey"]});
    vec![
        (
            401,
            json,
            json!({"error": {"root_cause": [{"type": "security_exception", "reason": "unable to authenticate user [elastic] for REST request [/app-logs-*/_search]", "header": www}], "type": "security_exception", "reason": "unable to authenticate user [elastic] for REST request [/app-logs-*/_search]", "header": www}, "status": 401}).to_string(),
            "the cluster refused the credentials (401): unable to authenticate user [elastic]".into(),
        ),
        (
            401,
            "text/plain; charset=UTF-8",
            "Unauthorized".into(),
            "the cluster refused the credentials (401): Unauthorized".into(),
        ),
        (
            403,
            json,
            json!({"error": {"root_cause": [{"type": "security_exception", "reason": "action [indices:data/read/search] is unauthorized for user [reader] with effective roles [viewer] on indices [app-logs-2026.12.07], this action is granted by the index privileges [read,all]"}], "type": "security_exception", "reason": "action [indices:data/read/search] is unauthorized for user [reader] with effective roles [viewer] on indices [app-logs-2026.12.07], this action is granted by the index privileges [read,all]"}, "status": 403}).to_string(),
            format!("not allowed to read {INDEX} (403): action [indices:data/read/search] is unauthorized"),
        ),
        (
            404,
            json,
            json!({"error": {"root_cause": [{"type": "index_not_found_exception", "reason": "no such index [app-logs-x]", "index": "app-logs-x", "resource.type": "index_or_alias", "resource.id": "app-logs-x", "index_uuid": "_na_"}], "type": "index_not_found_exception", "reason": "no such index [app-logs-x]", "index": "app-logs-x", "resource.type": "index_or_alias", "resource.id": "app-logs-x", "index_uuid": "_na_"}, "status": 404}).to_string(),
            format!("no index matches '{INDEX}'"),
        ),
        (
            400,
            json,
            json!({"error": {"root_cause": [{"type": "query_shard_exception", "reason": "No mapping found for [@timestamp] in order to sort on", "index_uuid": "Zr4d9WQXQfG1lQd1dMx8Ew", "index": "app-logs-2026.12.07"}], "type": "search_phase_execution_exception", "reason": "all shards failed", "phase": "query", "grouped": true, "failed_shards": [{"shard": 0, "index": "app-logs-2026.12.07", "node": "q1Vn3GRwTe-2bR8Qw1d0yA", "reason": {"type": "query_shard_exception", "reason": "No mapping found for [@timestamp] in order to sort on", "index_uuid": "Zr4d9WQXQfG1lQd1dMx8Ew", "index": "app-logs-2026.12.07"}}]}, "status": 400}).to_string(),
            format!("the timestamp field '@timestamp' is not mapped as a date in {INDEX}: No mapping found for [@timestamp] in order to sort on"),
        ),
        (
            400,
            json,
            json!({"error": {"root_cause": [{"type": "illegal_argument_exception", "reason": "Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [@timestamp] in order to load field data by uninverting the inverted index. Note that this can use significant memory."}], "type": "search_phase_execution_exception", "reason": "all shards failed", "phase": "query", "grouped": true, "failed_shards": [], "caused_by": {"type": "illegal_argument_exception", "reason": "Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [@timestamp] in order to load field data by uninverting the inverted index. Note that this can use significant memory."}}, "status": 400}).to_string(),
            "the timestamp field '@timestamp' is not mapped as a date".into(),
        ),
        (
            400,
            json,
            json!({"error": {"root_cause": [{"type": "parsing_exception", "reason": "[match_phrase] unknown token [START_ARRAY] after [message]", "line": 1, "col": 212}], "type": "parsing_exception", "reason": "[match_phrase] unknown token [START_ARRAY]", "line": 1, "col": 212}, "status": 400}).to_string(),
            "400 parsing_exception: [match_phrase] unknown token [START_ARRAY] after [message]".into(),
        ),
        (
            429,
            json,
            json!({"error": {"root_cause": [{"type": "es_rejected_execution_exception", "reason": "rejected execution of coordinating operation"}], "type": "es_rejected_execution_exception", "reason": "rejected execution of coordinating operation"}, "status": 429}).to_string(),
            "429 es_rejected_execution_exception: rejected execution of coordinating operation".into(),
        ),
        (
            502,
            "text/html",
            "<html><body><h1>502 Bad Gateway</h1></body></html>".into(),
            "answered 502: <html><body><h1>502 Bad Gateway</h1></body></html>".into(),
        ),
        (
            200,
            "text/html",
            "<html><body>Kibana is loading…</body></html>".into(),
            "the answer is not an Elasticsearch search response: expected value".into(),
        ),
        (
            200,
            json,
            json!({"acknowledged": true}).to_string(),
            "the answer is not an Elasticsearch search response: missing field `hits`".into(),
        ),
    ]
}

#[tokio::test]
async fn each_refusal_is_told_in_its_own_words_without_the_credentials() {
    for (status, content_type, body, wanted) in refusals() {
        let (_cluster, url) = Cluster::canned(status, content_type, body).start().await;
        for auth in [
            basic(),
            ElasticsearchAuth {
                api_key: Some(API_KEY.into()),
                ..ElasticsearchAuth::default()
            },
            ElasticsearchAuth {
                bearer: Some(TOKEN.into()),
                ..ElasticsearchAuth::default()
            },
        ] {
            let s = source(&ElasticsearchConfig {
                auth: Some(auth),
                ..config(vec![url.clone()])
            });
            let (found, done) = run(&s, &query()).await;
            let e = done.unwrap_err();
            assert_clean_failure(&e, &wanted, &s);
            assert!(found.is_empty());
        }
    }
    // A cluster that echoes what it was sent: the source's own secret is blanked out.
    for (auth, secret) in [
        (basic(), PASSWORD),
        (
            ElasticsearchAuth {
                api_key: Some(API_KEY.into()),
                ..ElasticsearchAuth::default()
            },
            API_KEY,
        ),
        (
            ElasticsearchAuth {
                bearer: Some(TOKEN.into()),
                ..ElasticsearchAuth::default()
            },
            TOKEN,
        ),
    ] {
        let echo = format!("failed to parse [{secret}]");
        let body = json!({"error": {"root_cause": [{"type": "parsing_exception", "reason": echo}], "type": "parsing_exception", "reason": echo}, "status": 400});
        let (_cluster, url) = Cluster::canned(400, "application/json", body.to_string())
            .start()
            .await;
        let s = source(&ElasticsearchConfig {
            auth: Some(auth),
            ..config(vec![url])
        });
        let e = run(&s, &query()).await.1.unwrap_err();
        assert_clean_failure(&e, "400 parsing_exception: failed to parse [***]", &s);
    }
    let (_cluster, url) = Cluster::canned(401, "text/plain", "Unauthorized")
        .start()
        .await;
    let s = source(&ElasticsearchConfig {
        auth: None,
        ..config(vec![url])
    });
    let e = run(&s, &query()).await.1.unwrap_err();
    assert!(
        e.message.contains("(401)") && e.message.contains("set auth"),
        "{e}"
    );
}

#[tokio::test]
async fn shard_failures_and_an_empty_pattern_are_warnings() {
    let mut cluster = Cluster::new(Flavor::Es8, minutes_of_lines(2));
    cluster.failed_shard = true;
    let (_cluster, url) = cluster.start().await;
    let (found, done) = run(&source(&config(vec![url])), &query()).await;
    let done = done.unwrap();
    assert_eq!(messages(&found).len(), 2);
    assert_eq!(done.warnings.len(), 1, "{done:?}");
    assert!(
        done.warnings[0].contains("1 of 3 shards failed")
            && done.warnings[0].contains("failed to create query"),
        "{done:?}"
    );

    let mut nothing = Cluster::new(Flavor::Es8, Vec::new());
    nothing.shards_total = 0;
    let (_cluster, url) = nothing.start().await;
    let (found, done) = run(&source(&config(vec![url])), &query()).await;
    let done = done.unwrap();
    assert_eq!(messages(&found).len(), 0);
    assert_eq!(
        done.warnings,
        [format!("index pattern '{INDEX}' matches no index")]
    );
}

#[tokio::test]
async fn an_answer_past_the_cap_is_not_read() {
    let (_cluster, url) = Cluster::new(Flavor::Es8, minutes_of_lines(20))
        .start()
        .await;
    let s = source(&config(vec![url])).with_max_answer_bytes(2048);
    let e = run(&s, &query()).await.1.unwrap_err();
    assert_clean_failure(&e, "the answer is larger than 2048 bytes", &s);
}

#[tokio::test]
async fn a_node_that_never_answers_times_out() {
    // Takes connections and the request, then says nothing.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let s = source(&ElasticsearchConfig {
        timeout: "1s".into(),
        ..config(vec![url.clone()])
    });
    let started = Instant::now();
    let e = run(&s, &query()).await.1.unwrap_err();
    assert_clean_failure(&e, &format!("cannot reach {url}: timed out after 1s"), &s);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_client_that_goes_away_stops_the_search() {
    for point_in_time in [false, true] {
        let (cluster, url) = Cluster::new(Flavor::Es8, minutes_of_lines(40))
            .start()
            .await;
        let s = source(&ElasticsearchConfig {
            page_size: 10,
            point_in_time,
            ..config(vec![url])
        });
        let (tx, mut rx) = mpsc::channel(1);
        let search = tokio::spawn(async move { s.search(&query(), &tx).await });
        while let Some(found) = rx.recv().await {
            if matches!(found, Found::Line(_)) {
                break;
            }
        }
        drop(rx);
        let done = tokio::time::timeout(Duration::from_secs(2), search)
            .await
            .expect("the search ends promptly")
            .unwrap()
            .unwrap();
        assert!(done.lines <= 3, "{done:?}");
        assert_eq!(cluster.searches().len(), 1, "no page after the first");
    }
}

#[tokio::test]
async fn a_configuration_that_cannot_work_is_refused_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.txt");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let ok = config(vec!["http://127.0.0.1:9200".into()]);
    let auth = |api_key: Option<&str>,
                user: Option<&str>,
                password: Option<&str>,
                bearer: Option<&str>| {
        Some(ElasticsearchAuth {
            api_key: api_key.map(Into::into),
            username: user.map(Into::into),
            password: password.map(Into::into),
            bearer: bearer.map(Into::into),
        })
    };
    let cases: Vec<(ElasticsearchConfig, &str)> = vec![
        (
            ElasticsearchConfig {
                name: "app es".into(),
                ..ok.clone()
            },
            "logs.sources.name: ",
        ),
        (
            ElasticsearchConfig {
                urls: vec![],
                ..ok.clone()
            },
            "logs.sources.urls: no URL given",
        ),
        (
            ElasticsearchConfig {
                urls: vec!["ftp://es:9200".into()],
                ..ok.clone()
            },
            "logs.sources.urls: 'ftp://es:9200' must start with http",
        ),
        (
            ElasticsearchConfig {
                urls: vec!["es.example:9200".into()],
                ..ok.clone()
            },
            "logs.sources.urls: 'es.example:9200' must start with http",
        ),
        (
            ElasticsearchConfig {
                urls: vec![format!("https://elastic:{PASSWORD}@es.example:9200")],
                ..ok.clone()
            },
            "logs.sources.urls: 'https://***@es.example:9200' holds credentials: put credentials in auth",
        ),
        (
            ElasticsearchConfig {
                urls: vec!["http://".into()],
                ..ok.clone()
            },
            "logs.sources.urls: ",
        ),
        (
            ElasticsearchConfig {
                index: String::new(),
                ..ok.clone()
            },
            "logs.sources.index: empty",
        ),
        (
            ElasticsearchConfig {
                index: "app logs".into(),
                ..ok.clone()
            },
            "logs.sources.index: 'app logs' must not hold",
        ),
        (
            ElasticsearchConfig {
                index: "app/logs".into(),
                ..ok.clone()
            },
            "logs.sources.index: ",
        ),
        (
            ElasticsearchConfig {
                index: "app?logs".into(),
                ..ok.clone()
            },
            "logs.sources.index: ",
        ),
        (
            ElasticsearchConfig {
                index: "app#logs".into(),
                ..ok.clone()
            },
            "logs.sources.index: ",
        ),
        (
            ElasticsearchConfig {
                auth: auth(None, None, None, None),
                ..ok.clone()
            },
            "logs.sources.auth: give exactly one",
        ),
        (
            ElasticsearchConfig {
                auth: auth(Some(API_KEY), None, None, Some(TOKEN)),
                ..ok.clone()
            },
            "logs.sources.auth: give exactly one",
        ),
        (
            ElasticsearchConfig {
                auth: auth(Some(API_KEY), Some("elastic"), Some(PASSWORD), None),
                ..ok.clone()
            },
            "logs.sources.auth: give exactly one",
        ),
        (
            ElasticsearchConfig {
                auth: auth(None, Some("elastic"), None, None),
                ..ok.clone()
            },
            "logs.sources.auth: username and password go together",
        ),
        (
            ElasticsearchConfig {
                auth: auth(None, None, Some(PASSWORD), None),
                ..ok.clone()
            },
            "logs.sources.auth: username and password go together",
        ),
        (
            ElasticsearchConfig {
                ca_file: Some(dir.path().join("missing.pem")),
                ..ok.clone()
            },
            "logs.sources.ca_file: cannot read",
        ),
        (
            ElasticsearchConfig {
                ca_file: Some(not_pem),
                ..ok.clone()
            },
            "logs.sources.ca_file: ",
        ),
        (
            ElasticsearchConfig {
                timeout: "soon".into(),
                ..ok.clone()
            },
            "logs.sources.timeout: 'soon' is not a duration",
        ),
        (
            ElasticsearchConfig {
                timeout: "0s".into(),
                ..ok.clone()
            },
            "logs.sources.timeout: ",
        ),
        (
            ElasticsearchConfig {
                page_size: 0,
                ..ok.clone()
            },
            "logs.sources.page_size: 0 must be 1 to 10000",
        ),
        (
            ElasticsearchConfig {
                page_size: 10_001,
                ..ok.clone()
            },
            "logs.sources.page_size: 10001 must be 1 to 10000",
        ),
    ];
    for (cfg, wanted) in cases {
        let e = ElasticsearchSource::new(&cfg, SHANGHAI).unwrap_err();
        assert!(e.starts_with(wanted), "wanted '{wanted}…', got: {e}");
        for secret in SECRETS {
            assert!(!e.contains(secret), "a secret leaked: {e}");
        }
    }
    let fine = ElasticsearchConfig {
        urls: vec![
            "http://127.0.0.1:9200/".into(),
            "https://es-2.example:9200/proxy".into(),
        ],
        index: "app-logs-*,audit-*".into(),
        timeout: "1m30s".into(),
        page_size: 10_000,
        auth: None,
        ..ok
    };
    let s = ElasticsearchSource::new(&fine, SHANGHAI).unwrap();
    assert_eq!(s.name(), "app-es");
}

// --- counts for monitors ---

/// The monitors' window: 10:00 to 11:00 Shanghai, the end left out.
fn window() -> (DateTime<Utc>, DateTime<Utc>) {
    (at("2026-12-07T02:00:00Z"), at("2026-12-07T03:00:00Z"))
}

/// Nine lines around the window: seven in it (the first at its very start, the last a
/// millisecond before its end), one at its end and one a millisecond before its start.
fn monitored() -> Vec<Doc> {
    let lines = [
        ("10:00:00.000", "ERROR", "下单失败 资金不足", "order", 500),
        ("10:10:00.000", "ERROR", "下单失败", "order", 500),
        ("10:20:00.000", "WARN", "撤单超时", "cancel", 504),
        ("10:30:00.000", "ERROR", "行情延迟", "quote", 503),
        ("10:40:00.000", "INFO", "下单成功", "order", 200),
        ("10:50:00.000", "ERROR", "撤单失败", "cancel", 500),
        ("10:59:59.999", "ERROR", "下单失败 超时", "order", 500),
        ("11:00:00.000", "ERROR", "下单失败 窗口之外", "order", 500),
        ("09:59:59.999", "ERROR", "下单失败 窗口之前", "order", 500),
    ];
    lines
        .iter()
        .enumerate()
        .map(|(i, (time, level, message, service, code))| {
            let mut d = doc(
                i,
                &format!("2026-12-07T{time}+08:00"),
                level,
                message,
                ACCOUNT,
            );
            d.source["service"] = json!(service);
            d.source["http"] = json!({"status": code});
            d.source["retried"] = json!(i % 2 == 0);
            d
        })
        .collect()
}

/// The `_count` body the source sends for `query` in [`window`].
fn count_body(query: Option<&str>) -> Value {
    let mut filter = vec![json!({"range": {"@timestamp": {
        "gte": "2026-12-07T02:00:00.000Z",
        "lt": "2026-12-07T03:00:00.000Z",
        "format": "strict_date_optional_time",
    }}})];
    if let Some(query) = query {
        filter.push(json!({"query_string": {
            "query": query,
            "default_operator": "AND",
            "analyze_wildcard": true,
            "time_zone": "Asia/Shanghai",
        }}));
    }
    json!({"bool": {"filter": filter}})
}

#[tokio::test]
async fn counts_in_a_window_for_each_flavor() {
    let (from, to) = window();
    for flavor in [Flavor::Es7, Flavor::Es8, Flavor::OpenSearch] {
        let (cluster, url) = Cluster::new(flavor, monitored()).start().await;
        let s = source(&config(vec![url]));
        for (query, wanted) in [
            ("", 7),
            ("   ", 7),
            ("level:ERROR", 5),
            ("level:ERROR service:order", 3),
            ("level:ERROR AND service:order", 3),
            ("level:ERROR AND NOT service:order", 2),
            ("level:ERROR -service:order", 2),
            ("(level:ERROR OR level:WARN) AND service:cancel", 2),
            ("message:\"下单失败\"", 3),
            ("下单失败", 3),
            ("http.status:500", 4),
            ("serv* AND service:quo*", 0),
            ("service:quo*", 1),
        ] {
            let counted = s.count(query, from, to).await;
            assert_eq!(counted, Ok(wanted), "{flavor:?} '{query}'");
        }
        let seen = cluster.seen();
        assert_eq!(seen.len(), 13, "one request a count");
        for request in &seen {
            assert_eq!(
                (request.method.as_str(), request.path.as_str()),
                ("POST", "/app-logs-*/_count")
            );
            assert!(
                request
                    .auth
                    .as_deref()
                    .is_some_and(|a| a.starts_with("Basic "))
            );
            assert_eq!(request.content_type.as_deref(), Some("application/json"));
        }
        assert_eq!(
            seen[0].body,
            json!({"query": count_body(None)}),
            "blank: every document"
        );
        assert_eq!(seen[1].body, json!({"query": count_body(None)}));
        assert_eq!(
            seen[3].body,
            json!({"query": count_body(Some("level:ERROR service:order"))}),
            "the query string as a JSON value, words joined by AND"
        );
    }
}

#[tokio::test]
async fn a_query_that_matches_nothing_counts_zero() {
    let (from, to) = window();
    let (cluster, url) = Cluster::new(Flavor::Es8, monitored()).start().await;
    let s = source(&config(vec![url]));
    assert_eq!(s.count("service:settlement", from, to).await, Ok(0));
    assert_eq!(s.count("level:FATAL OR level:PANIC", from, to).await, Ok(0));
    // Quotes, backslashes and braces travel as a JSON string, never as JSON text.
    let tricky = r#"message:"\"}]}}, {\"match_all\": {}}""#;
    assert_eq!(s.count(tricky, from, to).await, Ok(0));
    assert_eq!(
        cluster.seen()[2].body["query"]["bool"]["filter"][1]["query_string"]["query"],
        tricky
    );
    // A window before every document.
    let early = at("2026-12-01T00:00:00Z");
    assert_eq!(
        s.count("", early, from - chrono::Duration::days(1)).await,
        Ok(0)
    );
    assert_eq!(
        s.count_by("service", "service:settlement", from, to, 10)
            .await,
        Ok(Vec::new())
    );
}

#[tokio::test]
async fn groups_by_a_field_most_first_with_the_rest_as_other() {
    let (from, to) = window();
    for flavor in [Flavor::Es7, Flavor::Es8, Flavor::OpenSearch] {
        let (cluster, url) = Cluster::new(flavor, monitored()).start().await;
        let s = source(&config(vec![url]));
        let groups = s
            .count_by("service", "level:ERROR", from, to, 2)
            .await
            .unwrap();
        assert_eq!(
            groups,
            [
                ("order".to_string(), 3),
                ("cancel".to_string(), 1),
                (OTHER_GROUP.to_string(), 1),
            ],
            "{flavor:?}"
        );
        assert_eq!(OTHER_GROUP, "(其他 other)");

        let search = &cluster.searches()[0];
        assert_eq!(search.path, "/app-logs-*/_search");
        assert_eq!(search.body["size"], 0);
        assert_eq!(search.body["query"], count_body(Some("level:ERROR")));
        assert_eq!(
            search.body["aggs"],
            json!({"groups": {"terms": {"field": "service", "size": 2}}})
        );

        // Numbers as text; nothing left out, no other group.
        let groups = s.count_by("http.status", "", from, to, 1000).await.unwrap();
        let wanted = [("500", 4), ("200", 1), ("503", 1), ("504", 1)];
        let wanted: Vec<(String, u64)> = wanted.iter().map(|(k, n)| (k.to_string(), *n)).collect();
        assert_eq!(groups, wanted, "{flavor:?}");

        // Booleans by the text the cluster gives them.
        let groups = s.count_by(" retried ", "", from, to, 1).await.unwrap();
        assert_eq!(
            groups,
            [("true".to_string(), 4), (OTHER_GROUP.to_string(), 3)],
            "{flavor:?}"
        );
        assert_eq!(
            cluster.searches()[2].body["aggs"]["groups"]["terms"]["field"],
            "retried",
            "the field trimmed"
        );
    }
}

#[tokio::test]
async fn a_refused_query_is_told_in_the_clusters_words() {
    let (from, to) = window();
    let (_cluster, url) = Cluster::new(Flavor::Es8, monitored()).start().await;
    let s = source(&config(vec![url]));
    let bad = "level:ERROR AND (service:order";
    let e = s.count(bad, from, to).await.unwrap_err();
    assert_clean_failure(
        &e,
        &format!(
            "the cluster cannot parse the query '{bad}' (400): Cannot parse '{bad}': \
             Encountered \"<EOF>\" at line 1, column 31."
        ),
        &s,
    );
    assert!(!e.message.contains("Was expecting"), "{e}");
    let e = s.count_by("service", bad, from, to, 5).await.unwrap_err();
    assert_clean_failure(
        &e,
        &format!("the cluster cannot parse the query '{bad}' (400)"),
        &s,
    );

    // Any other 400 names the query and gives the cluster's reason.
    let (_cluster, url) = Cluster::canned(
        400,
        "application/json",
        json!({"error": {"root_cause": [{"type": "illegal_argument_exception", "reason": "field expansion matches too many fields, limit: 1024, got: 1500"}], "type": "search_phase_execution_exception", "reason": "all shards failed"}, "status": 400}).to_string(),
    )
    .start()
    .await;
    let s = source(&config(vec![url]));
    let e = s.count("timeout", from, to).await.unwrap_err();
    assert_clean_failure(
        &e,
        "the cluster refused the query 'timeout': 400 illegal_argument_exception: field expansion matches too many fields",
        &s,
    );
    let e = s.count("", from, to).await.unwrap_err();
    assert_clean_failure(
        &e,
        "the cluster refused the count: 400 illegal_argument_exception",
        &s,
    );

    // A text field cannot be grouped: the field is named, with the way out.
    let fielddata = "Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [message] in order to load field data by uninverting the inverted index. Note that this can use significant memory.";
    let (_cluster, url) = Cluster::canned(
        400,
        "application/json",
        json!({"error": {"root_cause": [{"type": "illegal_argument_exception", "reason": fielddata}], "type": "search_phase_execution_exception", "reason": "all shards failed", "phase": "query", "grouped": true, "failed_shards": [], "caused_by": {"type": "illegal_argument_exception", "reason": fielddata}}, "status": 400}).to_string(),
    )
    .start()
    .await;
    let s = source(&config(vec![url]));
    let e = s.count_by("message", "", from, to, 10).await.unwrap_err();
    assert_clean_failure(
        &e,
        &format!(
            "the field 'message' cannot be grouped by in {INDEX} (a text field: group by its keyword, such as 'message.keyword'): Text fields are not optimised"
        ),
        &s,
    );
}

#[tokio::test]
async fn an_unreachable_or_silent_cluster_cannot_count() {
    let (from, to) = window();
    let dead = closed_port().await;
    let other_dead = closed_port().await;
    let s = source(&config(vec![dead.clone(), other_dead.clone()]));
    let e = s.count("level:ERROR", from, to).await.unwrap_err();
    assert_clean_failure(&e, &format!("cannot reach {dead}, {other_dead}: "), &s);
    assert!(e.message.to_lowercase().contains("refused"), "{e}");
    let e = s.count_by("service", "", from, to, 10).await.unwrap_err();
    assert_clean_failure(&e, &format!("cannot reach {dead}, {other_dead}: "), &s);

    // A dead node hands the count to the next.
    let (good, good_url) = Cluster::new(Flavor::OpenSearch, monitored()).start().await;
    let s = source(&config(vec![dead.clone(), good_url]));
    assert_eq!(s.count("", from, to).await, Ok(7));
    assert_eq!(good.seen().len(), 1);

    // Takes connections and the request, then says nothing.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let s = source(&ElasticsearchConfig {
        timeout: "1s".into(),
        ..config(vec![silent.clone()])
    });
    let e = s.count("", from, to).await.unwrap_err();
    assert_clean_failure(
        &e,
        &format!("cannot reach {silent}: timed out after 1s"),
        &s,
    );
}

#[tokio::test]
async fn counts_never_show_the_credentials() {
    let (from, to) = window();
    let auths = || {
        [
            (basic(), PASSWORD),
            (
                ElasticsearchAuth {
                    api_key: Some(API_KEY.into()),
                    ..ElasticsearchAuth::default()
                },
                API_KEY,
            ),
            (
                ElasticsearchAuth {
                    bearer: Some(TOKEN.into()),
                    ..ElasticsearchAuth::default()
                },
                TOKEN,
            ),
        ]
    };
    let json = "application/json; charset=UTF-8";
    let refused = |reason: &str| {
        json!({"error": {"root_cause": [{"type": "security_exception", "reason": reason}], "type": "security_exception", "reason": reason}, "status": 401}).to_string()
    };
    for (status, body, wanted) in [
        (
            401,
            refused("unable to authenticate user [elastic] for REST request [/app-logs-*/_count]"),
            "the cluster refused the credentials (401): unable to authenticate user [elastic]",
        ),
        (
            403,
            refused("action [indices:data/read/search] is unauthorized for user [reader]"),
            "not allowed to read app-logs-* (403): action [indices:data/read/search] is unauthorized",
        ),
    ] {
        let (_cluster, url) = Cluster::canned(status, json, body).start().await;
        for (auth, _) in auths() {
            let s = source(&ElasticsearchConfig {
                auth: Some(auth),
                ..config(vec![url.clone()])
            });
            let e = s.count("level:ERROR", from, to).await.unwrap_err();
            assert_clean_failure(&e, wanted, &s);
            let e = s.count_by("service", "", from, to, 5).await.unwrap_err();
            assert_clean_failure(&e, wanted, &s);
        }
    }
    // A cluster that echoes what it was sent, in an error or in a malformed answer.
    for (auth, secret) in auths() {
        let echo = format!("failed to parse [{secret}]");
        for (status, body, wanted) in [
            (
                400,
                json!({"error": {"root_cause": [{"type": "parsing_exception", "reason": echo}], "type": "parsing_exception", "reason": echo}, "status": 400}).to_string(),
                "400 parsing_exception: failed to parse [***]",
            ),
            (
                200,
                json!({"count": secret, "_shards": {"total": 1, "successful": 1, "failed": 0}}).to_string(),
                "the answer's \"count\" is not a number: \"***\"",
            ),
        ] {
            let (_cluster, url) = Cluster::canned(status, json, body).start().await;
            let s = source(&ElasticsearchConfig {
                auth: Some(auth.clone()),
                ..config(vec![url])
            });
            let e = s.count(secret, from, to).await.unwrap_err();
            assert_clean_failure(&e, wanted, &s);
        }
    }
}

#[tokio::test]
async fn a_bad_field_size_or_window_is_refused_without_a_request() {
    let (from, to) = window();
    let (cluster, url) = Cluster::new(Flavor::Es8, monitored()).start().await;
    let s = source(&config(vec![url]));
    let long = "f".repeat(MAX_FIELD_CHARS + 1);
    for (field, size, wanted) in [
        ("", 10, "name a field to group by"),
        ("  \t", 10, "name a field to group by"),
        (long.as_str(), 10, "longer than 256 characters"),
        ("service", 0, "0 groups asked: ask 1 to 1000"),
        (
            "service",
            MAX_GROUPS + 1,
            "1001 groups asked: ask 1 to 1000",
        ),
    ] {
        let e = s.count_by(field, "", from, to, size).await.unwrap_err();
        assert_clean_failure(&e, wanted, &s);
    }
    let e = s.count("", to, from).await.unwrap_err();
    assert_clean_failure(
        &e,
        "the window ends (2026-12-07T02:00:00.000Z) at or before it starts",
        &s,
    );
    let e = s.count_by("service", "", to, to, 10).await.unwrap_err();
    assert_clean_failure(&e, "at or before it starts", &s);
    assert!(cluster.seen().is_empty(), "{:?}", cluster.seen());

    // The bounds themselves are taken.
    let widest = "f".repeat(MAX_FIELD_CHARS);
    assert_eq!(
        s.count_by(&widest, "", from, to, MAX_GROUPS).await,
        Ok(Vec::new())
    );
    assert_eq!(cluster.seen().len(), 1);
}

#[tokio::test]
async fn a_malformed_or_partial_count_is_an_error() {
    let (from, to) = window();
    let shards = json!({"total": 3, "successful": 3, "skipped": 0, "failed": 0});
    let count_cases = [
        (
            json!({"_shards": shards}).to_string(),
            "the answer is not an Elasticsearch count response: it holds no \"count\"",
        ),
        (
            json!({"count": -1, "_shards": shards}).to_string(),
            "the answer's \"count\" is not a count of documents: -1",
        ),
        (
            "<html><body>Kibana is loading…</body></html>".to_string(),
            "the answer is not an Elasticsearch count response: expected value",
        ),
        (
            "[1, 2]".to_string(),
            "the answer is not an Elasticsearch count response: [1,2]",
        ),
        (
            json!({"count": 0, "_shards": {"total": 0, "successful": 0, "skipped": 0, "failed": 0}}).to_string(),
            "index pattern 'app-logs-*' matches no index",
        ),
    ];
    for (body, wanted) in count_cases {
        let (_cluster, url) = Cluster::canned(200, "application/json", body).start().await;
        let s = source(&config(vec![url]));
        let e = s.count("", from, to).await.unwrap_err();
        assert_clean_failure(&e, wanted, &s);
    }
    let answer = |aggregations: Value| {
        json!({"took": 1, "timed_out": false, "_shards": shards, "hits": {"max_score": null, "hits": []}, "aggregations": aggregations}).to_string()
    };
    let group_cases = [
        (
            answer(json!({"groups": {"buckets": {"order": {"doc_count": 3}}}})),
            "the answer is not an Elasticsearch aggregation response: aggregations.groups.buckets is not a list",
        ),
        (
            answer(json!({"groups": {"sum_other_doc_count": 0}})),
            "the answer is not an Elasticsearch aggregation response: it holds no aggregations.groups.buckets",
        ),
        (
            answer(json!({"elsewhere": {"buckets": []}})),
            "the answer is not an Elasticsearch aggregation response: it holds no aggregations.groups",
        ),
        (
            answer(json!({"groups": {"buckets": [{"key": "order"}]}})),
            "the answer is not an Elasticsearch aggregation response: a group is not {key, doc_count}",
        ),
        (
            answer(json!({"groups": {"buckets": [{"key": "order", "doc_count": 2}], "sum_other_doc_count": "many"}})),
            "sum_other_doc_count is not a count",
        ),
        (
            json!({"took": 1, "timed_out": true, "_shards": shards, "hits": {"hits": []}, "aggregations": {"groups": {"buckets": []}}}).to_string(),
            "the cluster ran out of time on some shards; the count would be incomplete",
        ),
    ];
    for (body, wanted) in group_cases {
        let (_cluster, url) = Cluster::canned(200, "application/json", body).start().await;
        let s = source(&config(vec![url]));
        let e = s.count_by("service", "", from, to, 10).await.unwrap_err();
        assert_clean_failure(&e, wanted, &s);
    }

    // A shard that failed: the count would be short, so there is none.
    let mut failing = Cluster::new(Flavor::Es8, monitored());
    failing.failed_shard = true;
    let (_cluster, url) = failing.start().await;
    let s = source(&config(vec![url]));
    for e in [
        s.count("", from, to).await.unwrap_err(),
        s.count_by("service", "", from, to, 10).await.unwrap_err(),
    ] {
        assert_clean_failure(
            &e,
            "1 of 3 shards failed, the count would be incomplete: failed to create query",
            &s,
        );
    }
}

// --- TLS: a cluster behind a certificate from its own authority ---

const CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBnDCCAUGgAwIBAgIUfeEFuY+bZS4lQwUa1bcdRbmuTBMwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPb3BzZGVzayB0ZXN0IENBMCAXDTI2MTIwNzIwNDUwMVoYDzIx
MjYxMTEzMjA0NTAxWjAaMRgwFgYDVQQDDA9vcHNkZXNrIHRlc3QgQ0EwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAARmH2xvYOAbKva8CDYEYvICtPRHk9I6wC3gUDg1
dU3O8FxRRDGKOeRTdBU90nPMxcYtsYeRK6G5qYYkw2dutg3yo2MwYTAdBgNVHQ4E
FgQUPMKREkFFMFvcVH0W8uByCdGdX3swHwYDVR0jBBgwFoAUPMKREkFFMFvcVH0W
8uByCdGdX3swDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZI
zj0EAwIDSQAwRgIhAJtsRaR2mbpEiyRK7lv8xV2VnqxVw1O8361BQGabapkBAiEA
gECMCtEwsvQKspO0PgafhGY0mWYK9CkR9LC6EoNNruM=
-----END CERTIFICATE-----
";

/// For 127.0.0.1 and localhost, signed by `CA_PEM`, valid until 2126.
const NODE_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBwjCCAWigAwIBAgIUcNI3PllCbRewtt0G8cCFLFjiaX0wCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPb3BzZGVzayB0ZXN0IENBMCAXDTI2MTIwNzIwNDUwMVoYDzIx
MjYxMTEzMjA0NTAxWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAAR/mIC1XuTC0Q/dwait7/rNgXA8VpCCBGZXz58sm40HKIlq
xWduroqqZhC9U5J9eVwHN2Hd0lXB8oY7DHPWomseo4GPMIGMMAkGA1UdEwQCMAAw
DgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUFBwMBMBoGA1UdEQQTMBGH
BH8AAAGCCWxvY2FsaG9zdDAdBgNVHQ4EFgQUT1+2RqprJ7WRg1UBTbzI+oqY0aww
HwYDVR0jBBgwFoAUPMKREkFFMFvcVH0W8uByCdGdX3swCgYIKoZIzj0EAwIDSAAw
RQIhALfrnPE+MxTlsgieJ1RRKsPxtjySTMLM1fq5BM2rNWoiAiBxtBqtuoF4bjh1
7V+4I6i6xZ8hJvKhXqeyh8GSwVUevQ==
-----END CERTIFICATE-----
";

const NODE_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgr5G0prX3ZOkxxBRq
TOpQkaTapMJ8EpXwOsThKJImL3ChRANCAAR/mIC1XuTC0Q/dwait7/rNgXA8VpCC
BGZXz58sm40HKIlqxWduroqqZhC9U5J9eVwHN2Hd0lXB8oY7DHPWomse
-----END PRIVATE KEY-----
";

/// An HTTPS node answering every request with one hit, on its own threads (rustls's blocking
/// stream: no async TLS server is in the tree).
fn tls_node() -> String {
    use rustls_pki_types::pem::PemObject;
    let cert = rustls_pki_types::CertificateDer::from_pem_slice(NODE_PEM.as_bytes()).unwrap();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(NODE_KEY.as_bytes()).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                if answer_once(&mut tls).is_ok() {
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
            });
        }
    });
    url
}

fn answer_once<S: Read + Write>(stream: &mut S) -> std::io::Result<()> {
    let mut reader = BufReader::new(&mut *stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let answer = json!({
        "took": 1, "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": 1, "relation": "eq"}, "max_score": null, "hits": [{
            "_index": "app-logs-2026.12.07", "_id": "tls1", "_score": null,
            "_source": {"@timestamp": "2026-12-07T10:00:00+08:00", "message": "over TLS", "account": ACCOUNT},
            "sort": [ms("2026-12-07T10:00:00+08:00")],
        }]},
    })
    .to_string();
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    )?;
    stream.flush()
}

#[tokio::test]
async fn https_with_the_clusters_own_authority_or_insecure() {
    let url = tls_node();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, CA_PEM).unwrap();
    let trusted = ElasticsearchConfig {
        ca_file: Some(ca),
        ..config(vec![url.clone()])
    };
    let (found, done) = run(&source(&trusted), &query()).await;
    done.unwrap();
    assert_eq!(messages(&found), ["over TLS"]);

    let insecure = ElasticsearchConfig {
        insecure: true,
        ..config(vec![url.clone()])
    };
    let (found, done) = run(&source(&insecure), &query()).await;
    done.unwrap();
    assert_eq!(messages(&found), ["over TLS"]);

    // Neither: the system's authorities do not know this one (or there are none at all).
    match ElasticsearchSource::new(&config(vec![url.clone()]), SHANGHAI) {
        Ok(s) => {
            let e = run(&s, &query()).await.1.unwrap_err();
            assert_clean_failure(&e, &format!("cannot reach {url}: "), &s);
            assert!(e.message.contains("certificate"), "{e}");
        }
        Err(e) => assert!(e.starts_with("logs.sources.urls: cannot set up TLS"), "{e}"),
    }
}

/// A monitor's file over this source, evaluated at 11:00 Shanghai on the monitored day.
async fn monitor_over(
    s: &ElasticsearchSource,
    body: &str,
) -> Result<opsdesk::monitor::evaluate::Evaluation, String> {
    use opsdesk::lookups::sources::{Lookups, Source};
    let lookups = Lookups::new(vec![Source::Elasticsearch(s.clone())]);
    let text = format!("title = \"下单失败\"\nschedule = \"*/5 * * * *\"\n{body}");
    let book = opsdesk::monitor::config::Book::from_texts(&[("orders", &text)], &lookups, &[]);
    assert!(book.broken.is_empty(), "{:?}", book.broken);
    let clock = opsdesk::monitor::evaluate::Clock {
        now: at("2026-12-07T03:00:00Z"),
        tz: SHANGHAI,
    };
    opsdesk::monitor::evaluate::evaluate(&book.monitors[0], clock).await
}

#[tokio::test]
async fn a_monitor_counts_and_groups_the_clusters_documents() {
    let (_cluster, url) = Cluster::new(Flavor::Es8, monitored()).start().await;
    let s = source(&config(vec![url]));
    // The last hour's errors, over a threshold.
    let found = monitor_over(
        &s,
        "[query]\nsource = \"app-es\"\ncount = \"level:ERROR\"\nwindow = \"1h\"\n[threshold]\nabove = 3\n",
    )
    .await
    .expect("counted");
    assert!(found.verdict.firing, "{}", found.verdict.summary);
    assert_eq!(found.verdict.value, 5.0);
    // The day so far grouped by service: today's shares, no past weeks to compare with.
    let found = monitor_over(
        &s,
        "[query]\nsource = \"app-es\"\ncount = \"\"\ngroup_by = \"service\"\n[distribution]\nmax_shift = 10\nmin_total = 1\n",
    )
    .await
    .expect("grouped");
    assert!(!found.verdict.firing, "{}", found.verdict.summary);
    let categories: Vec<&str> = found
        .verdict
        .rows
        .iter()
        .filter_map(|r| r[0].as_deref())
        .collect();
    assert!(categories.contains(&"order"), "{categories:?}");
    // A query the cluster cannot parse is the monitor's error, in the cluster's words.
    let e = monitor_over(
        &s,
        "[query]\nsource = \"app-es\"\ncount = \"level:(ERROR\"\nwindow = \"1h\"\n[threshold]\nabove = 3\n",
    )
    .await
    .expect_err("refused");
    assert!(e.contains("cannot parse"), "{e}");
}
