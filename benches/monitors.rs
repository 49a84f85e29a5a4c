//! Proactive monitors: `cargo bench --bench monitors`.
//!
//! Targets (issue "Proactive monitors"): a consistency check of two 1,000,000-row tables
//! ≤ 5 s in bounded memory (peak RSS reported); a threshold rule's overhead ≤ 1 ms beyond its
//! query; 100 monitors on a one-minute schedule ≤ 5 % of one core.
//!
//! The two tables are SQLite files built once into `target/bench-data/` (a million shareholder
//! cards each, keys in order, 100 status differences and a card missing on each side); the
//! check reads them through the monitor's own path (the `sql` source, read-only, streamed
//! through the merge). The threshold's overhead is `evaluate` of a monitor against the bare
//! `SqlSource::scan` of the same statement, interleaved. The scheduler runs 100 threshold
//! monitors due every minute in a desk on a fresh data dir for two minutes; the process's CPU
//! time over that window, less an idle window of the same length, is the cost.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use opsdesk::config::Settings;
use opsdesk::lookups::sources::{Lookups, Source};
use opsdesk::lookups::sql::{Collect, SqlSource};
use opsdesk::monitor::config::{Book, Query, Rule};
use opsdesk::monitor::evaluate::{Clock, evaluate};
use opsdesk::service::Desk;
use opsdesk::store::Store;
use tokio::runtime::Runtime;

const ROWS: u64 = 1_000_000;
const THRESHOLD_RUNS: usize = 200;
const SCHEDULED: usize = 100;
const WINDOW: Duration = Duration::from_secs(120);

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn bench_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).expect("bench data dir");
    dir
}

/// A side of a million cards, built once: `right` differs in 100 statuses and one card each way.
fn cards(dir: &Path, side: &str) -> PathBuf {
    let path = dir.join(format!("monitor-cards-{side}.db"));
    if path.is_file() {
        return path;
    }
    let tmp = dir.join(format!("monitor-cards-{side}.db.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let mut conn = rusqlite::Connection::open(&tmp).expect("open");
    conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; CREATE TABLE card (key TEXT PRIMARY KEY, status TEXT NOT NULL) WITHOUT ROWID;")
        .expect("schema");
    let tx = conn.transaction().expect("tx");
    {
        let mut insert = tx
            .prepare("INSERT INTO card VALUES (?1, ?2)")
            .expect("insert");
        for n in 0..ROWS {
            let right = side == "right";
            if (right && n == 500_000) || (!right && n == 700_000) {
                continue;
            }
            let status = if right && n % 10_000 == 1 {
                "冻结"
            } else {
                "正常"
            };
            insert
                .execute(rusqlite::params![
                    format!("{:012}-沪A", 310_000_000_000 + n),
                    status
                ])
                .expect("a row");
        }
    }
    tx.commit().expect("commit");
    drop(conn);
    std::fs::rename(&tmp, &path).expect("in place");
    path
}

fn source(name: &str, path: &Path) -> SqlSource {
    let cfg = format!(
        "name = \"{name}\"\nurl = \"sqlite://{}\"\ntimeout = \"60s\"\n[[query]]\nname = \"q\"\nsql = \"SELECT 1 WHERE '1' = :account\"\n",
        path.display()
    );
    SqlSource::new(&toml::from_str(&cfg).expect("a source config"), None).expect("a source")
}

fn book(lookups: &Lookups, texts: &[(&str, &str)]) -> Book {
    let book = Book::from_texts(texts, lookups, &["account"]);
    assert!(book.broken.is_empty(), "{:?}", book.broken);
    book
}

fn clock() -> Clock {
    Clock {
        now: Utc::now(),
        tz: chrono_tz::Asia::Shanghai,
    }
}

fn consistency(rt: &Runtime, dir: &Path) {
    let lookups = Lookups::new(vec![
        Source::Sql(source("left", &cards(dir, "left"))),
        Source::Sql(source("right", &cards(dir, "right"))),
    ]);
    let text = r#"
title = "cards"
schedule = "0 30 18 * * 1-5"
timeout = "5m"
[consistency]
fields = ["status"]
left = { source = "left", sql = "SELECT key, status FROM card ORDER BY key" }
right = { source = "right", sql = "SELECT key, status FROM card ORDER BY key" }
"#;
    let book = book(&lookups, &[("cards", text)]);
    let before = common::peak_rss_mib().unwrap_or(0.0);
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let found = rt
            .block_on(evaluate(&book.monitors[0], clock()))
            .expect("compared");
        times.push(start.elapsed().as_secs_f64());
        assert_eq!(found.verdict.value, 102.0, "{}", found.verdict.summary);
    }
    println!(
        "consistency, 2 × {ROWS} rows (SQLite, streamed, merged): median {:.2} s of 5 (min {:.2} s); peak RSS {:.1} MiB (before the checks {:.1} MiB)",
        median(times.clone()),
        times.iter().copied().fold(f64::MAX, f64::min),
        common::peak_rss_mib().unwrap_or(0.0),
        before,
    );
}

fn threshold(rt: &Runtime, dir: &Path) {
    let path = cards(dir, "left");
    let lookups = Lookups::new(vec![Source::Sql(source("cards", &path))]);
    let text = r#"
title = "frozen cards"
schedule = "* * * * *"
[query]
source = "cards"
sql = "SELECT count(*) FROM card WHERE key = '310000000001-沪A' AND status <> :today"
[threshold]
above = 5
"#;
    let book = book(&lookups, &[("frozen", text)]);
    let m = &book.monitors[0];
    let Rule::Threshold {
        query: Query::Sql(q),
        ..
    } = &m.rule
    else {
        panic!("a threshold over sql");
    };
    let today = Utc::now().format("%Y-%m-%d").to_string();
    let (mut whole, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..THRESHOLD_RUNS {
        let start = Instant::now();
        rt.block_on(evaluate(m, clock())).expect("evaluated");
        whole.push(start.elapsed().as_secs_f64() * 1000.0);
        let start = Instant::now();
        rt.block_on(q.source.scan(
            &q.statement,
            |_| today.clone(),
            Duration::from_secs(5),
            Collect::new(1),
        ))
        .expect("scanned");
        bare.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let (w, b) = (median(whole), median(bare));
    println!(
        "threshold, {THRESHOLD_RUNS} interleaved: evaluate {w:.3} ms, the bare query {b:.3} ms → overhead {:.3} ms",
        w - b
    );
}

fn scheduler(rt: &Runtime, dir: &Path) {
    let path = cards(dir, "left");
    let lookups = Lookups::new(vec![Source::Sql(source("cards", &path))]);
    let text = r#"
title = "a card"
schedule = "* * * * *"
[query]
source = "cards"
sql = "SELECT count(*) FROM card WHERE key = '310000000001-沪A'"
[threshold]
above = 5
"#;
    let names: Vec<String> = (0..SCHEDULED).map(|i| format!("m{i:03}")).collect();
    let texts: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), text)).collect();
    let monitors = book(&lookups, &texts);
    let data = tempfile::tempdir().expect("data dir");
    let store = Store::open(data.path()).expect("store");
    let settings = Settings {
        lookups,
        monitors,
        ..Settings::default()
    };
    let desk = Desk::new(store.clone(), Arc::new(settings));

    let idle_start = common::cpu_seconds().unwrap_or(0.0);
    std::thread::sleep(WINDOW / 4);
    let idle = (common::cpu_seconds().unwrap_or(0.0) - idle_start) * 4.0;

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let job = {
        let _runtime = rt.enter();
        opsdesk::server::jobs::monitors::spawn(desk.clone(), stop_rx)
    };
    let start = common::cpu_seconds().unwrap_or(0.0);
    std::thread::sleep(WINDOW);
    let busy = common::cpu_seconds().unwrap_or(0.0) - start;
    let _ = stop_tx.send(true);
    let _ = rt.block_on(job);
    let evaluations: i64 = rt
        .block_on(store.read(|conn| {
            Ok(conn.query_row("SELECT count(*) FROM monitor_evaluations", [], |r| r.get(0))?)
        }))
        .expect("counted");
    store.shutdown();
    let share = (busy - idle).max(0.0) / WINDOW.as_secs_f64() * 100.0;
    println!(
        "scheduler, {SCHEDULED} monitors every minute for {} s: {evaluations} evaluations recorded, CPU {busy:.2} s (idle {idle:.2} s) → {share:.2} % of one core",
        WINDOW.as_secs()
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = bench_dir();
    let only = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let wanted = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
    if wanted("consistency") {
        consistency(&rt, &dir);
    }
    if wanted("threshold") {
        threshold(&rt, &dir);
    }
    if wanted("scheduler") {
        scheduler(&rt, &dir);
    }
}
