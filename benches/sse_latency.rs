//! Latency from a ticket POST to its event reaching a subscribed SSE client, on loopback.
//!
//! A real server (in process, on 127.0.0.1:0) and a handler subscribed to `/api/v1/events`;
//! posters create tickets over HTTP, each stamped with its send time in the title; the
//! subscriber notes when each `ticket.created` event arrives. Printed: percentiles of
//! send → event, with 1 poster (idle) and with 16 concurrent posters (loaded).
//! `cargo bench --bench sse_latency` (OPSDESK_BENCH_N sets the tickets per run, default 2000).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use opsdesk::config::Settings;
use opsdesk::domain::people::Role;
use opsdesk::service::Desk;
use opsdesk::store::{Store, users};
use serde_json::{Value, json};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn run(base: &str, token: &str, n: usize, posters: usize) -> Vec<Duration> {
    let client = reqwest::Client::new();
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let response = client
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(token)
        .send()
        .await
        .expect("subscribe");
    let sent_r = sent.clone();
    let reader = tokio::spawn(async move {
        let mut latencies = Vec::with_capacity(n);
        let mut stream = response.bytes_stream();
        let mut buffer = String::new();
        while latencies.len() < n {
            let Some(Ok(chunk)) = stream.next().await else {
                break;
            };
            let arrived = Instant::now();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                if !block.contains("event: ticket.created") {
                    continue;
                }
                let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else {
                    continue;
                };
                let change: Value = serde_json::from_str(data).expect("event JSON");
                let title = change["data"]["title"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if let Some(t0) = sent_r.lock().expect("lock").remove(&title) {
                    latencies.push(arrived - t0);
                }
            }
        }
        latencies
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let per_poster = n / posters;
    let mut tasks = Vec::new();
    for p in 0..posters {
        let (client, base, token, sent) = (
            client.clone(),
            base.to_string(),
            token.to_string(),
            sent.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0..per_poster {
                let title = format!("时延测试 {posters}-{p}-{i}");
                let body = json!({
                    "title": title,
                    "description": "客户 310012345678 今天 10:05 在 APP 买入 600519 提示“可用资金不足”，实际可用资金 5 万元",
                    "system": "trading",
                    "customer": {"account": "310012345678"}
                });
                sent.lock().expect("lock").insert(title, Instant::now());
                let r = client.post(format!("{base}/api/v1/tickets")).bearer_auth(&token).json(&body).send().await.expect("post");
                assert_eq!(r.status(), 201);
            }
        }));
    }
    for t in tasks {
        t.await.expect("poster");
    }
    let mut latencies = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("all events")
        .expect("reader");
    latencies.sort();
    latencies
}

fn main() {
    let n: usize = std::env::var("OPSDESK_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let tmp = tempfile::tempdir().expect("temp dir");
        let store = Store::open(tmp.path()).expect("store");
        let token = store
            .write(|ctx| {
                let u = users::insert(
                    ctx.conn,
                    "h_bench",
                    "bench",
                    Role::Handler,
                    None,
                    None,
                    ctx.now,
                )?;
                users::issue_token(ctx.conn, &u, "bench", ctx.now)
            })
            .await
            .expect("token");
        let desk = Desk::new(store, Arc::new(Settings::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(opsdesk::server::launch(listener, desk, async {
            let _ = stopped.await;
        }));
        println!(
            "POST → SSE event latency on loopback, {n} tickets per run (durable: synchronous=FULL)"
        );
        println!(
            "{:<22} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "run", "p50 ms", "p90 ms", "p99 ms", "max ms", "events/s"
        );
        for posters in [1, 16] {
            let t0 = Instant::now();
            let l = run(&base, &token, n - n % posters, posters).await;
            let rate = l.len() as f64 / t0.elapsed().as_secs_f64();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "{:<22} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.0}",
                format!("{posters} poster(s)"),
                ms(percentile(&l, 0.5)),
                ms(percentile(&l, 0.9)),
                ms(percentile(&l, 0.99)),
                ms(*l.last().expect("latencies")),
                rate
            );
        }
        let _ = stop.send(());
        let _ = server.await;
    });
}
