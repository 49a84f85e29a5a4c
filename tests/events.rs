//! The change stream: live delivery, resume after a reconnect, catch-up in batches.

mod common;

use std::time::Duration;

use common::{SseReader, TestServer};
use serde_json::{Value, json};

/// Generous: these bound a hang, they do not measure speed.
const WAIT: Duration = Duration::from_secs(10);

async fn subscribe(s: &TestServer, last_event_id: Option<&str>) -> SseReader {
    let mut req = s.handler().get(s.url("/api/v1/events"));
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    SseReader::new(r)
}

#[tokio::test]
async fn a_change_arrives_live_and_a_reconnect_resumes_where_it_left_off() {
    let s = TestServer::start().await;
    let mut stream = subscribe(&s, None).await;

    let t = s.new_ticket("开户视频见证失败").await;
    let id = t["id"].as_i64().unwrap();
    let ev = stream.next(WAIT).await.expect("the create arrives");
    assert_eq!(ev.event.as_deref(), Some("ticket.created"));
    let change: Value = serde_json::from_str(&ev.data).unwrap();
    assert_eq!(change["ticket_id"], id);
    assert_eq!(change["data"]["title"], "开户视频见证失败");
    assert_eq!(
        change["data"]["customer"]["phone"], "138****1234",
        "masked on the stream"
    );
    let first_id = ev.id.clone().unwrap();
    assert_eq!(first_id, change["seq"].to_string());

    let h = s.handler();
    h.patch(s.url(&format!("/api/v1/tickets/{id}")))
        .json(&json!({"version": 1, "priority": "P2"}))
        .send()
        .await
        .unwrap();
    let ev = stream.next(WAIT).await.expect("the patch arrives");
    assert_eq!(ev.event.as_deref(), Some("ticket.updated"));
    drop(stream);

    // Changes made while disconnected are delivered on resume, in order, then live ones.
    h.post(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .json(&json!({"body": "请提供截图"}))
        .send()
        .await
        .unwrap();
    h.post(s.url(&format!("/api/v1/tickets/{id}/transitions")))
        .json(&json!({"to": "triaging"}))
        .send()
        .await
        .unwrap();
    let mut resumed = subscribe(&s, Some(&first_id)).await;
    let mut kinds = Vec::new();
    let mut seqs = Vec::new();
    for _ in 0..4 {
        let ev = resumed.next(WAIT).await.expect("a missed change");
        kinds.push(ev.event.unwrap());
        seqs.push(ev.id.unwrap().parse::<i64>().unwrap());
    }
    assert_eq!(
        kinds,
        [
            "ticket.updated",
            "message.created",
            "ticket.updated",
            "ticket.updated"
        ]
    );
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "no gaps, no repeats: {seqs:?}"
    );
    assert_eq!(seqs[0], first_id.parse::<i64>().unwrap() + 1);

    s.new_ticket("行情延迟").await;
    let ev = resumed.next(WAIT).await.expect("live after catch-up");
    assert_eq!(ev.event.as_deref(), Some("ticket.created"));
    assert_eq!(ev.id.unwrap().parse::<i64>().unwrap(), seqs[3] + 1);
}

#[tokio::test]
async fn since_query_and_batch_catch_up() {
    let s = TestServer::start().await;
    for i in 0..5 {
        s.new_ticket(&format!("批量工单 {i} 号")).await;
    }
    let h = s.handler();
    let page: Value = h
        .get(s.url("/api/v1/changes?since=0&limit=3"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["changes"].as_array().unwrap().len(), 3);
    assert_eq!(page["more"], true);
    let last = page["changes"][2]["seq"].as_i64().unwrap();
    let rest: Value = h
        .get(s.url(&format!("/api/v1/changes?since={last}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["changes"].as_array().unwrap().len(), 2);
    assert_eq!(rest["more"], false);
    assert_eq!(rest["latest"], rest["changes"][1]["seq"]);

    let mut stream = SseReader::new(h.get(s.url("/api/v1/events?since=2")).send().await.unwrap());
    let ev = stream.next(WAIT).await.unwrap();
    assert_eq!(ev.id.as_deref(), Some("3"));
}

#[tokio::test]
async fn heartbeats_keep_an_idle_stream_open() {
    let mut settings = opsdesk::config::Settings::default();
    settings.server.sse_heartbeat_secs = 1;
    let tmp = tempfile::tempdir().unwrap();
    let s = TestServer::start_in(tmp.path(), settings).await;
    let mut r = s
        .handler()
        .get(s.url("/api/v1/events"))
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    while !seen.contains(":heartbeat") && !seen.contains(": heartbeat") {
        let chunk = tokio::time::timeout(WAIT, r.chunk())
            .await
            .expect("a heartbeat within the wait")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn shutdown_ends_open_streams_and_finishes() {
    let s = TestServer::start().await;
    let mut stream = subscribe(&s, None).await;
    s.stop().await;
    assert!(
        stream.next(WAIT).await.is_none(),
        "the stream ended with the server"
    );
}

#[tokio::test]
async fn writes_by_another_process_reach_subscribers() {
    let s = TestServer::start().await;
    let mut stream = subscribe(&s, None).await;
    let dir = s.dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        common::binary()
            .args([
                "ticket",
                "import",
                "tests/fixtures/itsm/sample.csv",
                "--data",
            ])
            .arg(&dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("imported"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ev = stream
        .next(WAIT)
        .await
        .expect("the import's changes are published without a local write");
    assert_eq!(ev.event.as_deref(), Some("ticket.created"));
    let change: Value = serde_json::from_str(&ev.data).unwrap();
    assert_eq!(change["data"]["channel"], "itsm");
}
