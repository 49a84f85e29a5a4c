//! The Elasticsearch lookup source's overhead (issue target: at most 5 ms over the raw HTTP
//! round trip for a 500-hit page): `cargo bench --bench lookups_es`.
//!
//! A loopback server answers every request with the same realistic Elasticsearch 8 body: 500
//! hits of JSON log lines (mixed Chinese and English messages, nested and flat fields) and a
//! per-minute histogram. Measured, on one multi-threaded runtime:
//! - `raw_round_trip`: a plain hyper POST of the request the source sends, reading the whole
//!   answer and nothing more;
//! - `search_500_hits`: `ElasticsearchSource::search` with limit 500, turning the page into
//!   500 `Found::Line`s on a channel that is drained as they come.
//!
//! Criterion times both; then 200 runs of each, interleaved, give the medians and their
//! difference, printed last.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use chrono::{DateTime, Utc};
use criterion::Criterion;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opsdesk::lookups::config::{ElasticsearchAuth, ElasticsearchConfig};
use opsdesk::lookups::elasticsearch::ElasticsearchSource;
use opsdesk::lookups::{FieldNames, Found, LogQuery};
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

const HITS: usize = 500;
const ACCOUNT: &str = "310001234567";
const RUNS: usize = 200;
const LEVELS: [&str; 3] = ["INFO", "WARN", "ERROR"];

/// The answer a cluster gives to the first page of a customer's lines.
fn page_of_hits() -> Bytes {
    let newest = DateTime::parse_from_rfc3339("2026-12-07T10:29:59.900+08:00")
        .expect("a time")
        .timestamp_millis();
    let messages = [
        "委托下单失败: 可用资金不足 order_id=ORD20261207",
        "GET /api/v2/positions 200 12ms",
        "行情订阅断开, 正在重连 (attempt 3)",
        "risk check passed for order, limit price 1735.20 qty 100",
        "登录成功 device=iPhone15,3 app=6.12.0",
    ];
    let hits: Vec<Value> = (0..HITS)
        .map(|i| {
            let ts = newest - i as i64 * 3_217;
            let at = DateTime::<Utc>::from_timestamp_millis(ts).expect("a time");
            json!({
                "_index": "app-logs-2026.12.07",
                "_id": format!("Vb3kq5ABc{i:06}xZ1d"),
                "_score": null,
                "_source": {
                    "@timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "level": LEVELS[i % LEVELS.len()],
                    "message": format!("{} seq={i}", messages[i % messages.len()]),
                    "account": ACCOUNT,
                    "trace_id": format!("4bf92f3577b34da6a3ce929d0e0e{i:04}"),
                    "service": {"name": "order-gateway", "version": "2.31.4"},
                    "host.name": format!("trade-app-{:02}", i % 12),
                    "thread": format!("http-nio-8080-exec-{}", i % 64),
                    "logger": "com.example.trade.order.OrderController",
                    "labels": {"env": "prod", "zone": "sh-a"},
                },
                "sort": [ts],
            })
        })
        .collect();
    let buckets: Vec<Value> = (0..30)
        .map(|m| {
            let key = newest - newest.rem_euclid(60_000) - (29 - m) * 60_000;
            json!({"key_as_string": key.to_string(), "key": key, "doc_count": 17})
        })
        .collect();
    let body = json!({
        "took": 14,
        "timed_out": false,
        "_shards": {"total": 6, "successful": 6, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": 2_431, "relation": "eq"}, "max_score": null, "hits": hits},
        "aggregations": {"per_minute": {"buckets": buckets}},
    });
    Bytes::from(serde_json::to_vec(&body).expect("JSON"))
}

/// Serves `page` to every request on a loopback port.
async fn cluster(page: Bytes) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let app = Router::new().fallback(move |_request: Bytes| {
        let page = page.clone();
        async move { ([(CONTENT_TYPE, "application/json")], page) }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn query() -> LogQuery {
    let at = DateTime::parse_from_rfc3339("2026-12-07T10:00:00+08:00")
        .expect("a time")
        .with_timezone(&Utc);
    LogQuery {
        limit: HITS,
        ..LogQuery::around(at, vec![ACCOUNT.into()])
    }
}

fn source(url: &str) -> ElasticsearchSource {
    let cfg = ElasticsearchConfig {
        name: "app-es".into(),
        urls: vec![url.to_string()],
        index: "app-logs-*".into(),
        auth: Some(ElasticsearchAuth {
            api_key: Some("VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==".into()),
            ..ElasticsearchAuth::default()
        }),
        ca_file: None,
        insecure: false,
        timeout: "10s".into(),
        fields: FieldNames::default(),
        point_in_time: false,
        page_size: HITS,
    };
    ElasticsearchSource::new(&cfg, chrono_tz::Asia::Shanghai).expect("a source")
}

/// The same request as the source's first page, sent and answered with nothing else done.
struct Raw {
    client: Client<HttpConnector, Full<Bytes>>,
    uri: String,
    body: Bytes,
}

impl Raw {
    fn new(url: &str) -> Raw {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        let body = json!({
            "size": HITS,
            "sort": [{"@timestamp": {"order": "desc"}}],
            "track_total_hits": true,
            "query": {"bool": {"filter": [
                {"range": {"@timestamp": {"gte": "2026-12-07T01:30:00.000Z", "lte": "2026-12-07T02:30:00.000Z", "format": "strict_date_optional_time"}}},
                {"bool": {"should": [
                    {"term": {"user_id": ACCOUNT}}, {"term": {"account": ACCOUNT}},
                    {"term": {"phone": ACCOUNT}}, {"term": {"trace_id": ACCOUNT}},
                ], "minimum_should_match": 1}},
            ], "must": []}},
            "_source": true,
            "aggs": {"per_minute": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1m", "min_doc_count": 1}}},
        });
        Raw {
            client: Client::builder(TokioExecutor::new()).build(http),
            uri: format!("{url}/app-logs-*/_search"),
            body: Bytes::from(serde_json::to_vec(&body).expect("JSON")),
        }
    }

    async fn round_trip(&self) -> usize {
        let request = hyper::Request::post(&self.uri)
            .header(CONTENT_TYPE, "application/json")
            .header("authorization", "ApiKey x")
            .body(Full::new(self.body.clone()))
            .expect("a request");
        let response = self.client.request(request).await.expect("an answer");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        body.len()
    }
}

/// One search of 500 lines, drained as they come.
async fn search(source: &ElasticsearchSource, query: &LogQuery) -> usize {
    let (tx, mut rx) = mpsc::channel(64);
    let drain = async move {
        let mut lines = 0;
        while let Some(found) = rx.recv().await {
            if let Found::Line(line) = found {
                std::hint::black_box(&line);
                lines += 1;
            }
        }
        lines
    };
    let searching = async move {
        let done = source.search(query, &tx).await.expect("a search");
        drop(tx);
        done
    };
    let (done, lines) = tokio::join!(searching, drain);
    assert_eq!((done.lines, lines), (HITS, HITS));
    lines
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn summary(rt: &Runtime, raw: &Raw, source: &ElasticsearchSource, query: &LogQuery) {
    let (mut raw_times, mut search_times) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let start = Instant::now();
        rt.block_on(raw.round_trip());
        raw_times.push(start.elapsed());
        let start = Instant::now();
        rt.block_on(search(source, query));
        search_times.push(start.elapsed());
    }
    let raw_median = median(&mut raw_times);
    let search_median = median(&mut search_times);
    println!(
        "\nlookups_es, {RUNS} runs each, {HITS} hits a page ({} KiB):",
        page_of_hits().len() / 1024
    );
    println!("  raw HTTP round trip         median {raw_median:?}");
    println!("  ElasticsearchSource::search median {search_median:?}");
    println!(
        "  added by the source          {:?} (target: at most 5 ms)",
        search_median.saturating_sub(raw_median)
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let url = rt.block_on(cluster(page_of_hits()));
    let raw = Raw::new(&url);
    let source = source(&url);
    let query = query();
    // Warm both connection pools.
    rt.block_on(raw.round_trip());
    rt.block_on(search(&source, &query));

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("lookups_es");
    group.bench_function("raw_round_trip", |b| {
        b.to_async(&rt).iter(|| raw.round_trip())
    });
    group.bench_function("search_500_hits", |b| {
        b.to_async(&rt).iter(|| search(&source, &query))
    });
    group.finish();
    c.final_summary();

    summary(&rt, &raw, &source, &query);
}
