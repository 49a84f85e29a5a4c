//! The server's protections against slow, greedy or stuck clients, and graceful shutdown.
//! Waits here only bound a hang; nothing asserts how fast anything is.

mod common;

use std::time::Duration;

use common::{TestServer, good_ticket};
use opsdesk::config::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(15);

async fn server_with(tune: impl FnOnce(&mut Settings)) -> (TestServer, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    tune(&mut settings);
    (TestServer::start_in(tmp.path(), settings).await, tmp)
}

fn addr(s: &TestServer) -> String {
    s.base.trim_start_matches("http://").to_string()
}

/// Starts a ticket POST whose body is sent only in part, so the request stays in flight.
async fn half_sent_post(s: &TestServer) -> (TcpStream, Vec<u8>) {
    let body = good_ticket("慢速客户端提交的工单").to_string().into_bytes();
    let mut conn = TcpStream::connect(addr(s)).await.unwrap();
    let head = format!(
        "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        s.submitter_token,
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body[..10]).await.unwrap();
    conn.flush().await.unwrap();
    (conn, body[10..].to_vec())
}

async fn read_response(conn: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout(WAIT, conn.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf);
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let length = text[..head_end].lines().find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                    });
                    if length.is_some_and(|n| buf.len() >= head_end + 4 + n) {
                        break;
                    }
                }
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test]
async fn over_the_concurrency_limit_the_server_sheds_with_503() {
    let (s, _tmp) = server_with(|c| c.server.max_concurrent_requests = 1).await;
    let (mut slow, rest) = half_sent_post(&s).await;
    let mut shed = None;
    for _ in 0..200 {
        let r = reqwest::get(s.url("/healthz")).await.unwrap();
        if r.status() == 503 {
            shed = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let shed = shed.expect("a request beyond the limit is refused, not queued");
    assert_eq!(common::error_code(shed, 503).await, "unavailable");
    // The request holding the slot still completes, and then the server serves again.
    slow.write_all(&rest).await.unwrap();
    let answer = read_response(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert_eq!(reqwest::get(s.url("/healthz")).await.unwrap().status(), 200);
    let metrics = s
        .handler()
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!metrics.contains("opsdesk_http_shed_total 0"), "{metrics}");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_dropped() {
    let (s, _tmp) = server_with(|c| c.server.header_read_timeout_secs = 1).await;
    let mut conn = TcpStream::connect(addr(&s)).await.unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(WAIT, conn.read(&mut buf))
        .await
        .expect("the server closes the connection");
    match read {
        Ok(0) | Err(_) => {}
        Ok(n) => {
            // hyper may answer 408 before closing; either way the connection ends.
            let text = String::from_utf8_lossy(&buf[..n]);
            assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        }
    }
}

#[tokio::test]
async fn a_request_that_takes_too_long_gets_408_and_writes_nothing() {
    let (s, _tmp) = server_with(|c| c.server.request_timeout_secs = 1).await;
    let before = s.latest_seq().await;
    let (mut slow, _rest) = half_sent_post(&s).await;
    let answer = read_response(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"timeout\""), "{answer}");
    assert_eq!(s.latest_seq().await, before);
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish_and_checkpoints() {
    let s = TestServer::start().await;
    let (mut slow, rest) = half_sent_post(&s).await;
    let dir = s.dir.clone();
    let stopping = tokio::spawn(s.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    slow.write_all(&rest).await.unwrap();
    let answer = read_response(&mut slow).await;
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the in-flight create completes: {answer}"
    );
    let tmp = tokio::time::timeout(WAIT, stopping)
        .await
        .expect("shutdown finishes")
        .unwrap();
    let wal = dir.join("opsdesk.sqlite3-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_len, 0, "the WAL was checkpointed into the database");
    drop(tmp);
}

/// Opens a POST whose body promises `length` bytes and sends one, then a byte a second for
/// `seconds` (or until the server answers); returns the status line it got, `closed` when the
/// server closed (or reset) the connection first, None when it still waited.
async fn trickle(addr: String, head: String, seconds: u64) -> Option<String> {
    let closed = Some("closed".to_string());
    let Ok(mut conn) = TcpStream::connect(&addr).await else {
        return closed;
    };
    if conn.write_all(head.as_bytes()).await.is_err() {
        return closed;
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 2048];
    for _ in 0..=seconds {
        if conn.write_all(b"u").await.is_err() {
            return closed;
        }
        match tokio::time::timeout(Duration::from_secs(1), conn.read(&mut buf)).await {
            // An answer already sent can be lost to the reset our next byte provokes.
            Ok(Ok(0)) | Ok(Err(_)) => return closed,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => {}
        }
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    text.lines().next().map(str::to_string)
}

fn login_head(length: usize) -> String {
    format!(
        "POST /mss/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n"
    )
}

#[tokio::test]
async fn a_flood_of_slow_login_bodies_leaves_the_api_and_health_served() {
    // The default limits: 256 API slots, 32 for the public pages, 1 KiB/s after 2 s.
    let (s, _tmp) = server_with(|_| {}).await;
    // Half promise 100 000 bytes (over what a login form may be), half 4 000 (within it).
    let flood: Vec<_> = (0..300)
        .map(|i| {
            let length = if i % 2 == 0 { 100_000 } else { 4_000 };
            tokio::spawn(trickle(addr(&s), login_head(length), 5))
        })
        .collect();
    // Let the flood take every slot it can.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let handler = s.handler();
    for round in 0..10 {
        let health = reqwest::get(s.url("/healthz")).await.unwrap();
        assert_eq!(health.status(), 200, "healthz in round {round}");
        let list = handler.get(s.url("/api/v1/tickets")).send().await.unwrap();
        assert_eq!(list.status(), 200, "the API in round {round}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let created = s.new_ticket("洪泛期间提交的工单").await;
    assert!(created["id"].as_i64().is_some());
    let mut answers = std::collections::BTreeMap::new();
    for f in flood {
        let line = f.await.unwrap().unwrap_or_else(|| "still waiting".into());
        *answers.entry(line).or_insert(0) += 1;
    }
    // Every trickling login was refused for its size, turned away at once (the public
    // budget full) or cut for slowness, and its connection closed; none was left waiting.
    for line in answers.keys() {
        assert!(
            ["HTTP/1.1 413", "HTTP/1.1 503", "HTTP/1.1 408", "closed"]
                .iter()
                .any(|s| line.starts_with(s)),
            "{answers:?}"
        );
    }
    for status in ["HTTP/1.1 413", "HTTP/1.1 408"] {
        assert!(answers.keys().any(|l| l.starts_with(status)), "{answers:?}");
    }
}

#[tokio::test]
async fn a_trickled_api_body_is_cut_with_408_and_writes_nothing() {
    let (s, _tmp) = server_with(|_| {}).await;
    let before = s.latest_seq().await;
    let head = format!(
        "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n",
        s.submitter_token
    );
    let line = trickle(addr(&s), head, 10).await;
    assert_eq!(line.as_deref(), Some("HTTP/1.1 408 Request Timeout"));
    assert_eq!(s.latest_seq().await, before);
}

#[tokio::test]
async fn a_login_form_bigger_than_a_login_needs_is_refused() {
    let (s, _tmp) = server_with(|_| {}).await;
    let padding = "x".repeat(20_000);
    let r = reqwest::Client::new()
        .post(s.url("/mss/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=cm_test&password={padding}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // An ordinary login form is still read (and refused only for its wrong password).
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(s.url("/mss/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=cm_test&password=wrong-password")
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 413);
    assert!(
        r.status().is_client_error() || r.status().is_success(),
        "{}",
        r.status()
    );
}
