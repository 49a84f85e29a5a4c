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

/// The demo data, its sample logs and its account system, served with the demo's sources.
async fn demo_with_logs() -> (TestServer, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    {
        let store = Store::open(tmp.path()).unwrap();
        let desk = Desk::new(store.clone(), Arc::new(Settings::default()));
        desk.seed_demo().await.unwrap();
        desk.write_demo_logs(tmp.path()).await.unwrap();
        store.shutdown();
    }
    opsdesk::lookups::sql::demo::demo_database(tmp.path()).unwrap();
    let mut settings = Settings::default();
    let source = demo_logs::source(tmp.path(), settings.calendar.tz());
    let accounts = opsdesk::lookups::sql::demo::demo_source(tmp.path());
    settings.lookups = Lookups::new(vec![Source::Files(source), Source::Sql(accounts)]);
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

/// The command line's answer to `args`.
fn opsdesk(args: &[&str]) -> std::process::Output {
    binary().args(args).output().unwrap()
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
        json!([
            { "name": demo_logs::SOURCE, "kind": "files" },
            { "name": "demo-accounts", "kind": "sql" },
        ])
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
    settings.lookups = Lookups::from_config(&cfg, settings.calendar.tz(), None).unwrap();
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
    let run = opsdesk;
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

#[tokio::test]
async fn a_data_lookup_beside_the_logs_is_masked_read_only_and_audited() {
    let (s, _tmp) = demo_with_logs().await;
    let (id, account) = demo_ticket(&s, "账户有钱但下单提示可用资金不足").await;
    let queries: Vec<Value> =
        common::json_of(s.handler().get(s.url("/api/v1/lookups/queries"))).await;
    assert!(
        queries
            .iter()
            .any(|q| q["name"] == "customer-profile" && q["by"] == "account")
    );
    // A data source holds no log lines: a log lookup over every source leaves it out.
    let sources: Value = common::json_of(s.handler().get(s.url("/api/v1/lookups/sources"))).await;
    assert!(
        sources
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "sql")
    );
    let found = finds(&s, json!({ "ticket": id })).await;
    assert!(
        !found.iter().any(|f| matches!(f, Found::Failed { .. })),
        "{found:?}"
    );

    let post = |body: Value| {
        s.handler()
            .post(s.url("/api/v1/lookups/data"))
            .json(&body)
            .send()
    };
    let r = post(json!({ "query": "customer-profile", "ticket": id }))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rows: Value = r.json().await.unwrap();
    let columns: Vec<&str> = rows["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let row = &rows["rows"][0];
    let at = |name: &str| {
        row[columns.iter().position(|c| *c == name).unwrap()]
            .as_str()
            .unwrap_or("NULL")
            .to_string()
    };
    assert_eq!(at("冻结原因"), "新股申购冻结", "{rows}");
    assert_ne!(
        at("资金账号"),
        account,
        "customer columns are masked: {rows}"
    );
    assert!(at("手机号").contains("****"), "{rows}");

    // By an identifier given; then what cannot work.
    let r = post(json!({ "query": "shareholder-cards", "account": account }))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for (body, status) in [
        (json!({ "query": "nope", "ticket": id }), 422),
        (json!({ "query": "customer-profile" }), 422),
        (json!({ "query": "customer-profile", "account": " " }), 422),
        (
            json!({ "query": "customer-profile", "account": "x".repeat(65) }),
            422,
        ),
        (
            json!({ "query": "customer-profile", "ticket": 999_999 }),
            404,
        ),
    ] {
        let r = post(body.clone()).await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{body}");
    }
    let r = s
        .submitter()
        .post(s.url("/api/v1/lookups/data"))
        .json(&json!({ "query": "customer-profile", "ticket": id }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let audit: Vec<Value> = common::json_of(
        s.handler()
            .get(s.url(&format!("/api/v1/tickets/{id}/audit"))),
    )
    .await;
    let ran = audit
        .iter()
        .find(|e| e["action"] == "lookup.ran" && e["detail"]["query"] == "customer-profile")
        .expect("the data lookup is audited");
    assert_eq!(ran["detail"]["identifiers"], json!([account]));
    assert!(audit.iter().any(|e| e["action"] == "lookup.answered"
        && e["detail"]["lines"]["demo-accounts"] == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_run_prints_a_table_through_the_server_and_in_process() {
    let (s, tmp) = demo_with_logs().await;
    let (id, account) = demo_ticket(&s, "账户有钱但下单提示可用资金不足").await;
    let run = opsdesk;
    let ticket = id.to_string();
    let server = [
        "--server",
        s.base.as_str(),
        "--token",
        s.handler_token.as_str(),
    ];
    let out = run(&[
        &server[..],
        &["lookup", "run", "customer-profile", "--ticket", &ticket],
    ]
    .concat());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().next().unwrap().starts_with("姓名"), "{text}");
    assert!(text.contains("新股申购冻结"), "{text}");
    assert!(!text.contains(&account), "masked: {text}");
    let out = run(&[
        &server[..],
        &[
            "lookup",
            "run",
            "customer-profile",
            "--account",
            "319999999999",
        ],
    ]
    .concat());
    assert_eq!(out.status.code(), Some(1), "no rows");
    let out = run(&[
        &server[..],
        &["lookup", "run", "no-such-query", "--account", &account],
    ]
    .concat());
    assert_eq!(out.status.code(), Some(2));
    let out = run(&[&server[..], &["lookup", "list"]].concat());
    assert!(String::from_utf8_lossy(&out.stdout).contains("depository"));

    // In-process from a host's own config: the same database, no server.
    let config = tmp.path().join("data.toml");
    std::fs::write(
        &config,
        format!(
            "[[logs.sources]]\nname = \"accounts\"\nkind = \"sql\"\nurl = \"sqlite://{}/demo-accounts.db\"\n\n[[logs.sources.query]]\nname = \"cards\"\nsql = \"SELECT market, counter_status FROM shareholder_card WHERE account = :account\"\n",
            tmp.path().display()
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let out = run(&[
        "--config",
        &config,
        "lookup",
        "run",
        "cards",
        "--account",
        &account,
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows["columns"], json!(["market", "counter_status"]));
    assert_eq!(rows["rows"].as_array().unwrap().len(), 2);
    let out = run(&[
        "--config",
        &config,
        "lookup",
        "run",
        "cards",
        "--phone",
        "13800000000",
    ]);
    assert_eq!(out.status.code(), Some(2), "cards looks up by account");
}
