//! Lookups through the real server: the demo's sample logs found from a demo ticket, streamed
//! as JSON lines, audited, refused when they cannot work; and `opsdesk logs search` over the
//! server and in-process.

mod common;

use std::sync::Arc;

use common::{TestServer, binary, error_code};
use opsdesk::api::{Found, LookupRequest};
use opsdesk::client::{ApiClient, Connection};
use opsdesk::config::Settings;
use opsdesk::lookups::sources::{Lookups, Source};
use opsdesk::service::{Desk, demo_logs};
use opsdesk::store::Store;
use serde_json::{Value, json};

/// The demo data and its sample logs, served with the demo's log source.
async fn demo_with_logs() -> (TestServer, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    {
        let store = Store::open(tmp.path()).unwrap();
        let desk = Desk::new(store.clone(), Arc::new(Settings::default()));
        desk.seed_demo().await.unwrap();
        desk.write_demo_logs(tmp.path()).await.unwrap();
        store.shutdown();
    }
    let mut settings = Settings::default();
    let source = demo_logs::source(tmp.path(), settings.calendar.tz());
    settings.lookups = Lookups::new(vec![Source::Files(source)]);
    (TestServer::start_in(tmp.path(), settings).await, tmp)
}

/// A demo ticket by title: its number and its customer's account.
async fn demo_ticket(s: &TestServer, title: &str) -> (i64, String) {
    let page: Value = common::json_of(
        s.handler()
            .get(s.url("/api/v1/tickets"))
            .query(&[("q", title), ("limit", "1")]),
    )
    .await;
    let id = page["tickets"][0]["id"].as_i64().expect("the demo ticket");
    let customer: Value = common::json_of(
        s.handler()
            .get(s.url(&format!("/api/v1/tickets/{id}/customer"))),
    )
    .await;
    (id, customer["account"].as_str().unwrap().to_string())
}

/// Every find of a lookup, read as the server streams them.
async fn finds(s: &TestServer, body: Value) -> Vec<Found> {
    let r = s
        .handler()
        .post(s.url("/api/v1/lookups"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let text = r.text().await.unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each line is a find"))
        .collect()
}

fn lines(found: &[Found]) -> Vec<&opsdesk::api::LogLine> {
    found
        .iter()
        .filter_map(|f| match f {
            Found::Line(l) => Some(l),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_demo_tickets_customer_lines_around_its_time_and_the_lookup_is_audited() {
    let (s, _tmp) = demo_with_logs().await;
    let (id, account) = demo_ticket(&s, "账户有钱但下单提示可用资金不足").await;
    let found = finds(&s, json!({ "ticket": id })).await;
    let got = lines(&found);
    assert!(got.len() >= 5, "{found:?}");
    assert!(
        got.iter()
            .all(|l| l.message.contains(&account) || l.fields["user_id"] == account.as_str()),
        "only this customer's lines: {got:?}"
    );
    assert!(got.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
    assert!(
        got.iter()
            .any(|l| l.level.as_deref() == Some("ERROR") && l.message.contains("可用资金不足"))
    );
    assert_eq!(got[0].source, demo_logs::SOURCE);
    assert!(
        matches!(found.last(), Some(Found::Done { lines, .. }) if *lines == got.len()),
        "{:?}",
        found.last()
    );
    assert!(found.iter().any(|f| matches!(f, Found::Minutes { .. })));

    // Only errors, and text.
    let errors = finds(&s, json!({ "ticket": id, "level": "error" })).await;
    assert!(
        lines(&errors)
            .iter()
            .all(|l| l.level.as_deref() == Some("ERROR"))
    );
    let worded = finds(&s, json!({ "ticket": id, "text": "冻结" })).await;
    assert_eq!(lines(&worded).len(), 1, "{worded:?}");

    // Who looked, at which ticket, for which customer, on which source, and how many lines.
    let audit: Vec<Value> = common::json_of(
        s.handler()
            .get(s.url(&format!("/api/v1/tickets/{id}/audit"))),
    )
    .await;
    let ran = audit
        .iter()
        .find(|e| e["action"] == "lookup.ran")
        .expect("the lookup is audited");
    assert_eq!(ran["actor"], "h_test");
    assert!(
        ran["detail"]["identifiers"]
            .as_array()
            .unwrap()
            .contains(&json!(account))
    );
    assert_eq!(ran["detail"]["sources"], json!([demo_logs::SOURCE]));
    let answered = audit
        .iter()
        .find(|e| e["action"] == "lookup.answered")
        .expect("what it answered is audited");
    assert_eq!(answered["detail"]["lines"][demo_logs::SOURCE], got.len());
    assert_eq!(answered["detail"]["finished"], true);
}

#[tokio::test]
async fn lookups_that_cannot_work_are_refused_and_change_nothing() {
    let (s, _tmp) = demo_with_logs().await;
    let (id, _) = demo_ticket(&s, "账户有钱但下单提示可用资金不足").await;
    let post = |token: &str, body: Value| {
        s.client(token)
            .post(s.url("/api/v1/lookups"))
            .json(&body)
            .send()
    };
    let r = post(&s.submitter_token, json!({ "ticket": id }))
        .await
        .unwrap();
    assert_eq!(error_code(r, 403).await, "forbidden");
    for (body, status) in [
        (json!({ "sources": ["nope"] }), 422),
        (json!({ "regex": "(" }), 422),
        (json!({ "limit": 0 }), 422),
        (json!({ "limit": 10001 }), 422),
        (
            json!({ "from": "2026-12-07T10:00:00Z", "to": "2026-12-07T09:00:00Z" }),
            422,
        ),
        (json!({ "identifiers": [" "] }), 422),
        (json!({ "ticket": 999_999 }), 404),
        (json!({ "unknown": 1 }), 422),
    ] {
        let r = post(&s.handler_token, body.clone()).await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{body}");
    }
    let sources: Value = common::json_of(s.handler().get(s.url("/api/v1/lookups/sources"))).await;
    assert_eq!(
        sources,
        json!([{ "name": demo_logs::SOURCE, "kind": "files" }])
    );
    let r = s
        .submitter()
        .get(s.url("/api/v1/lookups/sources"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // A server with no sources says so.
    let bare = TestServer::start().await;
    let r = bare
        .handler()
        .post(bare.url("/api/v1/lookups"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, 409).await, "conflict");
}

#[tokio::test]
async fn the_client_reads_finds_as_they_come_and_makes_them_terminal_safe() {
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now();
    let line = json!({
        "@timestamp": now.to_rfc3339(),
        "level": "ERROR",
        "message": "\u{1b}]52;c;ZXZpbA==\u{7}委托失败 \u{1b}[2J account=310001234567",
        "account": "310001234567",
        "note": "\u{1b}[31mred",
    });
    std::fs::write(dir.path().join("app.log"), format!("{line}\n")).unwrap();
    let cfg: opsdesk::lookups::config::LogsConfig = toml::from_str(&format!(
        "[[sources]]\nname = \"app\"\nkind = \"files\"\npaths = [\"{}/app.log*\"]\n",
        dir.path().display()
    ))
    .unwrap();
    let mut settings = Settings::default();
    settings.lookups = Lookups::from_config(&cfg, settings.calendar.tz()).unwrap();
    let s = TestServer::start_in(dir.path(), settings).await;
    let client = ApiClient::new(Connection {
        base: s.base.clone(),
        token: s.handler_token.clone(),
    })
    .unwrap();
    let mut finds = client
        .lookup(&LookupRequest {
            identifiers: vec!["310001234567".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let Some(Ok(Found::Line(l))) = finds.next().await else {
        panic!("a line first");
    };
    assert!(
        !l.message.contains('\u{1b}') && !l.message.contains('\u{7}'),
        "{:?}",
        l.message
    );
    assert!(l.message.contains("委托失败"));
    assert!(!l.fields["note"].as_str().unwrap().contains('\u{1b}'));
    let mut rest = Vec::new();
    while let Some(found) = finds.next().await {
        rest.push(found.unwrap());
    }
    assert!(
        matches!(rest.last(), Some(Found::Done { lines: 1, .. })),
        "{rest:?}"
    );

    let refused = client
        .lookup(&LookupRequest {
            regex: Some("(".into()),
            ..Default::default()
        })
        .await;
    assert!(
        matches!(
            &refused,
            Err(opsdesk::client::ClientError::Api { status: 422, .. })
        ),
        "{:?}",
        refused.err()
    );
}

// The binary runs while this test waits on it: the server needs threads of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_search_is_scriptable_like_grep_through_the_server_and_in_process() {
    let (s, tmp) = demo_with_logs().await;
    let (id, account) = demo_ticket(&s, "账户有钱但下单提示可用资金不足").await;
    let run = |args: &[&str]| {
        let mut cmd = binary();
        cmd.args(args);
        cmd.output().unwrap()
    };
    let server = [
        "--server",
        s.base.as_str(),
        "--token",
        s.handler_token.as_str(),
    ];
    let ticket = id.to_string();
    let out = run(&[&server[..], &["logs", "search", "--ticket", &ticket]].concat());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() >= 5, "{text}");
    assert!(
        text.contains("ERROR") && text.contains("[demo-app]"),
        "{text}"
    );

    let out = run(&[
        &server[..],
        &[
            "logs", "search", "--ticket", &ticket, "--json", "--level", "error",
        ],
    ]
    .concat());
    assert_eq!(out.status.code(), Some(0));
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["level"], "ERROR");
    }

    let out = run(&[
        &server[..],
        &["logs", "search", "--ticket", &ticket, "没有这种话"],
    ]
    .concat());
    assert_eq!(out.status.code(), Some(1), "nothing found");
    let out = run(&[&server[..], &["logs", "search", "--regex", "("]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("regex"));
    let out = run(&[&server[..], &["logs", "search", "--from", "yesterday-ish"]].concat());
    assert_eq!(out.status.code(), Some(2));

    // In-process, from this host's own config: no server needed.
    let config = tmp.path().join("opsdesk.toml");
    std::fs::write(
        &config,
        format!(
            "[[logs.sources]]\nname = \"local-app\"\nkind = \"files\"\npaths = [\"{}/demo-logs/app.log*\"]\n",
            tmp.path().display()
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let out = run(&[
        "--config", &config, "logs", "search", "--user", &account, "--from", "24h", "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() >= 5);
    assert!(text.lines().all(|l| l.contains("local-app")));
    let out = run(&["--config", &config, "logs", "sources"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "local-app                files"
    );

    // A config whose source cannot work is refused with the key.
    std::fs::write(
        tmp.path().join("bad.toml"),
        "[[logs.sources]]\nname = \"x\"\nkind = \"files\"\npaths = []\n",
    )
    .unwrap();
    let bad = tmp.path().join("bad.toml").display().to_string();
    let out = run(&["--config", &bad, "logs", "sources"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("logs.sources.paths"));
}
