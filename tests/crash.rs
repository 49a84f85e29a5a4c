//! Kill the server with SIGKILL while a client creates tickets, several times: every ticket
//! acknowledged with a 2xx is there afterwards, and none exists twice.

mod common;

use std::collections::{HashMap, HashSet};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{binary, free_port, good_ticket, wait_healthy};
use serde_json::Value;

const ROUNDS: usize = 4;
/// Acknowledged creates per round before the kill.
const CREATES_BEFORE_KILL: usize = 150;
const CLIENTS: usize = 8;

fn start(data: &std::path::Path, port: u16) -> Child {
    binary()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start opsdesk serve")
}

fn handler_token(data: &std::path::Path) -> String {
    let out = binary()
        .args([
            "admin", "user", "add", "h_crash", "--role", "handler", "--data",
        ])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string()
}

#[derive(Default)]
struct Ledger {
    /// title → acknowledged ticket id
    acknowledged: HashMap<String, i64>,
    /// titles whose request failed (in doubt): retried after the restart with the same key
    in_doubt: HashSet<String>,
}

async fn create(client: &reqwest::Client, base: &str, title: &str) -> Option<i64> {
    let r = client
        .post(format!("{base}/api/v1/tickets"))
        // Header values are ASCII; the title's number is.
        .header(
            "Idempotency-Key",
            format!("crash-{}", title.rsplit(' ').next().unwrap_or(title)),
        )
        .json(&good_ticket(title))
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json::<Value>().await.ok()?["id"].as_i64()
}

#[tokio::test]
async fn acknowledged_tickets_survive_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let token = handler_token(data);
    let client = reqwest::Client::builder()
        .default_headers(
            [(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {token}").parse().unwrap(),
            )]
            .into_iter()
            .collect(),
        )
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut next = 0usize;

    for round in 0..ROUNDS {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut child = start(data, port);
        wait_healthy(&base).await;

        // Requests that failed when the previous server died: retry them with their key.
        let doubts: Vec<String> = ledger.lock().unwrap().in_doubt.drain().collect();
        for title in doubts {
            match create(&client, &base, &title).await {
                Some(id) => {
                    ledger.lock().unwrap().acknowledged.insert(title, id);
                }
                None => panic!("retry of {title} failed on a healthy server"),
            }
        }

        let mut tasks = Vec::new();
        for _ in 0..CLIENTS {
            let (client, base, ledger) = (client.clone(), base.clone(), ledger.clone());
            let start = next;
            next += 10_000;
            tasks.push(tokio::spawn(async move {
                for i in start.. {
                    let title = format!("崩溃测试工单 {round}-{i}");
                    match create(&client, &base, &title).await {
                        Some(id) => {
                            ledger.lock().unwrap().acknowledged.insert(title, id);
                        }
                        None => {
                            ledger.lock().unwrap().in_doubt.insert(title);
                            return;
                        }
                    }
                }
            }));
        }
        let target = ledger.lock().unwrap().acknowledged.len() + CREATES_BEFORE_KILL;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while ledger.lock().unwrap().acknowledged.len() < target {
            assert!(
                tasks.iter().any(|t| !t.is_finished()),
                "every client stopped before the kill"
            );
            assert!(tokio::time::Instant::now() < deadline, "creates stalled");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        for t in tasks {
            t.await.unwrap();
        }
    }

    // A last, clean start to check what the data dir holds.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = start(data, port);
    wait_healthy(&base).await;
    let doubts: Vec<String> = ledger.lock().unwrap().in_doubt.drain().collect();
    for title in doubts {
        let id = create(&client, &base, &title)
            .await
            .expect("retry on a healthy server");
        ledger.lock().unwrap().acknowledged.insert(title, id);
    }
    let mut stored: HashMap<String, Vec<i64>> = HashMap::new();
    let mut offset = 0;
    loop {
        let page: Value = client
            .get(format!("{base}/api/v1/tickets?limit=1000&offset={offset}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let tickets = page["tickets"].as_array().unwrap();
        for t in tickets {
            stored
                .entry(t["title"].as_str().unwrap().to_string())
                .or_default()
                .push(t["id"].as_i64().unwrap());
        }
        offset += tickets.len();
        if tickets.is_empty() {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let ledger = ledger.lock().unwrap();
    assert!(ledger.acknowledged.len() >= ROUNDS * CREATES_BEFORE_KILL);
    for (title, id) in &ledger.acknowledged {
        assert_eq!(
            stored.get(title),
            Some(&vec![*id]),
            "acknowledged {title} (#{id}) is stored exactly once"
        );
    }
    for (title, ids) in &stored {
        assert_eq!(ids.len(), 1, "{title} stored twice: {ids:?}");
    }
}
