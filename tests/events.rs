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

/// Opens a stream with `token`, which must be accepted.
async fn subscribe_as(s: &TestServer, token: &str) -> SseReader {
    let r = s
        .client(token)
        .get(s.url("/api/v1/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    SseReader::new(r)
}

/// Runs `opsdesk admin user token NAME` on the server's data dir, as an admin would from a
/// shell beside the running server, and returns the new token.
async fn cli_token(s: &TestServer, name: &str) -> String {
    let (dir, name) = (s.dir.clone(), name.to_string());
    let out = tokio::task::spawn_blocking(move || {
        common::binary()
            .args(["admin", "user", "token", &name, "--data"])
            .arg(&dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout.lines().last().unwrap().trim().to_string()
}

/// The stream ends (the client sees the end of the body) without sending another change.
async fn assert_ends_with_nothing_more(stream: SseReader) {
    let rest = stream
        .rest_until_end(WAIT)
        .await
        .expect("the stream ends once its access is revoked");
    assert!(
        !rest.contains("data:"),
        "nothing is sent after the revocation: {rest}"
    );
}

#[tokio::test]
async fn a_token_reissued_by_the_admin_command_ends_its_open_stream() {
    let s = TestServer::start().await;
    let first = cli_token(&s, "h_other").await;
    let mut stream = subscribe_as(&s, &first).await;
    s.new_ticket("before the revocation").await;
    let ev = stream.next(WAIT).await.expect("a change while allowed");
    assert_eq!(ev.event.as_deref(), Some("ticket.created"));

    // Another process revokes the token; a change made after that is never delivered.
    let second = cli_token(&s, "h_other").await;
    s.new_ticket("after the revocation").await;
    assert_ends_with_nothing_more(stream).await;
    // The old token is refused; the new one streams.
    let r = s
        .client(&first)
        .get(s.url("/api/v1/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let mut renewed = subscribe_as(&s, &second).await;
    s.new_ticket("for the new token").await;
    assert!(renewed.next(WAIT).await.is_some());
}

#[tokio::test]
async fn a_revocation_by_this_server_process_ends_the_stream_before_later_changes() {
    let s = TestServer::start().await;
    let stream = subscribe(&s, None).await;
    let mut bystander = subscribe_as(&s, &s.handler2_token).await;
    // Reissuing the `test` token revokes the one the stream was opened with.
    s.store
        .write(|ctx| {
            let user = opsdesk::store::users::by_username(ctx.conn, "h_test")?.unwrap();
            opsdesk::store::users::issue_token(ctx.conn, &user, "test", ctx.now)?;
            ctx.credentials_changed();
            Ok::<_, opsdesk::store::StoreError>(())
        })
        .await
        .unwrap();
    s.new_ticket("after the revocation").await;
    assert_ends_with_nothing_more(stream).await;
    // Other users' streams go on.
    let ev = bystander
        .next(WAIT)
        .await
        .expect("the bystander still follows");
    assert_eq!(ev.event.as_deref(), Some("ticket.created"));
}

#[tokio::test]
async fn a_user_disabled_or_made_a_submitter_by_another_writer_loses_the_stream() {
    let s = TestServer::start().await;
    let db = s.dir.join(opsdesk::store::DB_FILE);
    let handler = subscribe(&s, None).await;
    let other = subscribe_as(&s, &s.handler2_token).await;
    // Another connection on the same file, as a second process or an admin's shell would be.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.busy_timeout(WAIT).unwrap();
    conn.execute(
        "UPDATE users SET role = 'submitter' WHERE username = 'h_test'",
        [],
    )
    .unwrap();
    conn.execute(
        "UPDATE users SET disabled = 1 WHERE username = 'h_other'",
        [],
    )
    .unwrap();
    drop(conn);
    s.new_ticket("after the change of access").await;
    assert_ends_with_nothing_more(handler).await;
    assert_ends_with_nothing_more(other).await;
}

#[tokio::test]
async fn resuming_past_the_newest_change_is_told_to_reset_not_skipped() {
    let s = TestServer::start().await;
    s.new_ticket("the one ticket").await;
    let latest = s.latest_seq().await;
    let ahead = (latest + 50).to_string();
    let r = s
        .handler()
        .get(s.url("/api/v1/events"))
        .header("Last-Event-ID", &ahead)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = SseReader::new(r)
        .rest_until_end(WAIT)
        .await
        .expect("the reset is the whole answer");
    assert!(body.contains("event: reset"), "{body}");
    let data: Value = serde_json::from_str(
        body.lines()
            .find_map(|l| l.strip_prefix("data:"))
            .expect("reset data")
            .trim(),
    )
    .unwrap();
    assert_eq!(data["latest"], latest);
    assert_eq!(data["since"].to_string(), ahead);
    assert!(
        !body.contains("id:"),
        "no position is given with a reset: {body}"
    );

    // The batch catch-up says the same with 409; a position it has is fine, negatives are not.
    let changes = |q: String| {
        s.handler()
            .get(s.url(&format!("/api/v1/changes?{q}")))
            .send()
    };
    let r = changes(format!("since={ahead}")).await.unwrap();
    assert_eq!(common::error_code(r, 409).await, "since_ahead");
    let r = changes(format!("since={latest}")).await.unwrap();
    assert_eq!(r.status(), 200);
    for bad in [
        "since=-1",
        "since=99999999999999999999",
        "limit=0",
        "limit=18446744073709551616",
    ] {
        let r = changes(bad.to_string()).await.unwrap();
        assert_eq!(common::error_code(r, 400).await, "bad_request", "{bad}");
    }
    let r = s
        .handler()
        .get(s.url("/api/v1/events?since=-3"))
        .send()
        .await
        .unwrap();
    assert_eq!(common::error_code(r, 400).await, "bad_request");
}

#[tokio::test]
async fn the_workstation_sync_resyncs_from_the_start_when_the_server_is_behind_it() {
    use opsdesk::client::sync::{SyncEvent, follow};
    use opsdesk::client::{ApiClient, Connection};

    let s = TestServer::start().await;
    s.new_ticket("first").await;
    s.new_ticket("second").await;
    let latest = s.latest_seq().await;
    let client = ApiClient::new(Connection {
        base: s.base.clone(),
        token: s.handler_token.clone(),
    })
    .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    // A desk that had followed a server with a longer history (before a restore) to 1000.
    let task = tokio::spawn(follow(client, latest + 1000, tx));
    let mut reset = false;
    let mut seqs = Vec::new();
    while seqs.last() != Some(&latest) {
        match tokio::time::timeout(WAIT, rx.recv())
            .await
            .expect("sync goes on")
        {
            Some(SyncEvent::Reset) => reset = true,
            Some(SyncEvent::Change(c)) => seqs.push(c.seq),
            Some(SyncEvent::Link(_)) => {}
            None => panic!("the sync stopped"),
        }
    }
    assert!(reset, "the workstation was told its position restarted");
    assert_eq!(
        seqs,
        (1..=latest).collect::<Vec<_>>(),
        "every change replayed, none skipped"
    );
    // And it follows on live from there.
    s.new_ticket("third").await;
    loop {
        match tokio::time::timeout(WAIT, rx.recv()).await.expect("live") {
            Some(SyncEvent::Change(c)) => {
                assert_eq!(c.seq, latest + 1);
                break;
            }
            Some(_) => {}
            None => panic!("the sync stopped"),
        }
    }
    task.abort();
}
