//! The MSS pages on loopback, as a submitter's phone meets them: a real server in process,
//! a logged-in page client, and a webhook receiver standing in for the handlers' robot.
//! Printed: median and p99 of
//!  - a text-only submission (GET the form + multipart POST, 303 back),
//!  - page submission sent → its `ticket.created` webhook received (the handlers' push),
//!  - a submission with one 12-megapixel phone photo (decode, re-encode, thumbnail),
//!  - the "my tickets" page with 200 tickets,
//!
//! and the process's peak memory after the photos.
//! `cargo bench --bench mss` (OPSDESK_BENCH_N sets the text submissions, default 300).

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use common::TestServer;
use common::mss::{MssClient, file, good_fields, user_with_password};
use opsdesk::config::Config;
use opsdesk::domain::people::Role;
use serde_json::Value;

type Arrivals = Arc<Mutex<HashMap<i64, Instant>>>;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{what:<44} n={:<4} median {:>8.2?}  p99 {:>8.2?}",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.99)
    );
}

async fn hook(State(arrivals): State<Arrivals>, Json(body): Json<Value>) -> &'static str {
    if body["event"] == "ticket.created"
        && let Some(id) = body["ticket"]["id"].as_i64()
    {
        arrivals.lock().unwrap().insert(id, Instant::now());
    }
    "ok"
}

/// A phone-sized photo: smooth gradients with fine detail, which JPEG does not squash to
/// nothing (a few MB at quality 85, like a real 12 MP camera shot).
fn phone_photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(4032, 3024, |x, y| {
        let n = (x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)) % 10;
        image::Rgb([
            ((x / 16) as u8).wrapping_add(n as u8),
            ((y / 12) as u8).wrapping_add(n as u8),
            ((x + y) / 28) as u8,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    img.write_with_encoder(encoder).expect("encode the photo");
    out.into_inner()
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn submit(c: &mut MssClient, i: usize, photo: Option<&[u8]>) -> (i64, Instant, Duration) {
    let form = c.get("/mss/new").await;
    let mut parts = good_fields(&form.csrf(), &form.hidden("form_id"));
    // A different customer each time, so no submission is held back as a repeat.
    parts[3] = common::mss::text("customer_account", format!("31{i:010}"));
    parts[4] = common::mss::text("customer_phone", format!("139{i:08}"));
    if let Some(p) = photo {
        parts.push(file(
            "screenshots",
            "IMG_0001.jpg",
            "image/jpeg",
            p.to_vec(),
        ));
    }
    let started = Instant::now();
    let r = c.post_multipart("/mss/new", &parts).await;
    let took = started.elapsed();
    assert_eq!(r.status, 303, "{}", r.body);
    let id = r.location().unwrap()["/mss/tickets/".len()..]
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (id, started, took)
}

fn main() {
    let n: usize = std::env::var("OPSDESK_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let arrivals: Arrivals = Arc::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/hook", post(hook))
            .with_state(arrivals.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });

        let toml = format!("[[notify.webhooks]]\nurl = \"{hook_url}\"\n");
        let path = Path::new("bench.toml");
        let settings = Config::parse(&toml, path).unwrap().settings(path).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let s = TestServer::start_in(dir.path(), settings).await;
        user_with_password(&s, "cm_bench", Role::Submitter).await;
        let mut c = MssClient::logged_in(&s, "cm_bench").await;

        let mut posts = Vec::with_capacity(n);
        let mut sent = Vec::with_capacity(n);
        for i in 0..n {
            let (id, started, took) = submit(&mut c, i, None).await;
            posts.push(took);
            sent.push((id, started));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let got = arrivals.lock().unwrap().clone();
        let pushes: Vec<Duration> = sent
            .iter()
            .filter_map(|(id, at)| got.get(id).map(|r| r.saturating_duration_since(*at)))
            .collect();
        println!("opsdesk MSS pages on loopback ({} text submissions)", n);
        report("text-only submission (POST → 303)", posts);
        report("submission sent → webhook received", pushes);

        let photo = phone_photo();
        let before = peak_rss_mib();
        let mut photos = Vec::new();
        for i in 0..8 {
            photos.push(submit(&mut c, n + i, Some(&photo)).await.2);
        }
        report(
            &format!(
                "with a 12 MP photo ({:.1} MB JPEG)",
                photo.len() as f64 / 1e6
            ),
            photos,
        );

        let mut lists = Vec::new();
        for _ in 0..50 {
            let started = Instant::now();
            let r = c.get("/mss/").await;
            lists.push(started.elapsed());
            assert_eq!(r.status, 200);
        }
        report("my tickets page (200 tickets)", lists);
        println!(
            "peak RSS of the whole process: {before:.0} MiB before the photos, {:.0} MiB after",
            peak_rss_mib()
        );
        drop(s);
    });
}
