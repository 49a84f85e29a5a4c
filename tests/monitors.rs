//! Proactive monitors end to end: a real server over the demo's SQLite business databases
//! (and a real PostgreSQL), mail to a loopback SMTP receiver, webhooks to a loopback HTTP
//! receiver. What a handler sees: the consistency monitor fires on the seeded mismatches,
//! mails them masked, opens a parent incident, links the submitters' tickets and, resolved,
//! tells each submitter.

mod common;

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use common::postgres::PgCluster;
use common::receivers::{HttpReceiver, SmtpReceiver, eventually};
use common::{TestServer, free_port, good_ticket, json_of};
use opsdesk::config::{Config, Settings};
use opsdesk::lookups::sources::{Lookups, Source};
use opsdesk::monitor::config::Book;
use opsdesk::monitor::demo::SEEDED_MISMATCHES;
use opsdesk::monitor::evaluate::{Clock, evaluate};
use serde_json::{Value, json};

/// Settings with `notify` (TOML) and the demo's business databases and monitors in `dir`,
/// as `serve --demo` has them.
fn demo_settings(dir: &Path, notify: &str) -> Settings {
    let path = Path::new("monitors-test.toml");
    let settings = Config::parse(notify, path)
        .and_then(|c| c.settings(path))
        .expect("test settings");
    let sources = opsdesk::monitor::demo_data_sources(dir, Utc::now(), settings.calendar.tz())
        .expect("the demo databases");
    let lookups = Lookups::new(sources.into_iter().map(Source::Sql).collect());
    let monitors = opsdesk::monitor::demo_monitors(&lookups, &settings.system_keys());
    assert!(monitors.broken.is_empty(), "{:?}", monitors.broken);
    Settings {
        lookups,
        monitors,
        ..settings
    }
}

fn smtp(port: u16) -> String {
    format!(
        r#"
        [notify]
        timeout = "2s"
        retry_base = "1s"
        retry_max = "1s"
        [notify.smtp]
        host = "127.0.0.1"
        port = {port}
        tls = "none"
        from = "opsdesk@broker.example"
        to = ["oncall@broker.example"]
        "#
    )
}

async fn run(s: &TestServer, monitor: &str) -> Value {
    json_of(
        s.handler()
            .post(s.url(&format!("/api/v1/monitors/{monitor}/run"))),
    )
    .await
}

async fn alert(s: &TestServer, id: i64) -> Value {
    json_of(s.handler().get(s.url(&format!("/api/v1/alerts/{id}")))).await
}

async fn post(s: &TestServer, token: &str, path: &str, body: Value) -> Value {
    let r = s
        .client(token)
        .post(s.url(path))
        .json(&body)
        .send()
        .await
        .expect("sent");
    let status = r.status();
    let answer: Value = r.json().await.expect("json");
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

/// The account of a seeded key (`330180414122-沪A`) and how lists mask it.
fn account_of(key: &str) -> (&str, String) {
    let account = key.split('-').next().expect("an account");
    let masked = format!("{}****{}", &account[..4], &account[account.len() - 4..]);
    (account, masked)
}

async fn set_email(s: &TestServer, user: &'static str, email: &'static str) {
    s.store
        .write(move |ctx| opsdesk::store::users::set_email(ctx.conn, user, Some(email)))
        .await
        .expect("set the email");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mismatch_is_mailed_opens_an_incident_and_its_resolution_reaches_every_submitter() {
    let mail = SmtpReceiver::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let s = TestServer::start_in(dir.path(), demo_settings(dir.path(), &smtp(mail.port))).await;
    set_email(&s, "cm_test", "cm_test@broker.example").await;
    set_email(&s, "cm_other", "cm_other@broker.example").await;

    // The consistency monitor fires on the seeded cards.
    let e = run(&s, "card-consistency").await;
    assert_eq!(e["outcome"], "firing", "{e}");
    let id = e["alert_id"].as_i64().expect("an alert");
    let detail = alert(&s, id).await;
    assert_eq!(detail["alert"]["rows"], SEEDED_MISMATCHES.len(), "{detail}");
    let keys: Vec<String> = detail["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r[0].as_str().expect("a key").to_string())
        .collect();
    for key in SEEDED_MISMATCHES {
        let (account, masked) = account_of(key);
        assert!(
            keys.iter().any(|k| k.starts_with(&masked)),
            "{masked} in {keys:?}"
        );
        assert!(
            !detail.to_string().contains(account),
            "{account} shown in full"
        );
    }

    // The mail lists every mismatched account, masked.
    let sent = eventually("the alert's mail", async || {
        mail.mails()
            .into_iter()
            .find(|m| m.rcpt.iter().any(|r| r.contains("oncall@")) && m.text().contains("异常记录"))
    })
    .await;
    let text = sent.text();
    for key in SEEDED_MISMATCHES {
        let (account, masked) = account_of(key);
        assert!(text.contains(&masked), "{masked} not in the mail:\n{text}");
        assert!(!text.contains(account), "{account} in full in the mail");
    }

    // The alert opened its parent incident, of channel monitor.
    let parent = detail["alert"]["ticket_id"].as_i64().expect("an incident");
    let incident: Value =
        json_of(s.handler().get(s.url(&format!("/api/v1/tickets/{parent}")))).await;
    assert_eq!(incident["channel"], "monitor");

    // Two submitters write about two of the mismatched accounts: both join the incident.
    let mut children = Vec::new();
    for (token, key) in [
        (&s.submitter_token, SEEDED_MISMATCHES[0]),
        (&s.other_submitter_token, SEEDED_MISMATCHES[1]),
    ] {
        let (account, _) = account_of(key);
        let mut body = good_ticket("股东卡状态不对，无法下单");
        body["customer"] = json!({"name": "张三", "account": account});
        body["description"] = json!("客户反映今日股东卡状态显示冻结，但柜台显示正常，无法买入。");
        let t = post(&s, token, "/api/v1/tickets", body).await;
        assert_eq!(t["links"]["parent"], parent, "{t}");
        children.push(t["id"].as_i64().expect("id"));
    }
    let detail = alert(&s, id).await;
    let linked: Vec<i64> = detail["linked"]
        .as_array()
        .expect("linked")
        .iter()
        .map(|t| t["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(linked, children);

    // Resolving the parent resolves both and tells each submitter, with its resolution.
    let path = format!("/api/v1/tickets/{parent}/transitions");
    post(&s, &s.handler_token, &path, json!({"to": "triaging"})).await;
    let resolution = "清算文件重新导入，股东卡状态已与中登一致";
    post(
        &s,
        &s.handler_token,
        &path,
        json!({"to": "resolved", "resolution": resolution}),
    )
    .await;
    for child in &children {
        let t: Value = json_of(s.handler().get(s.url(&format!("/api/v1/tickets/{child}")))).await;
        assert_eq!(t["status"], "resolved", "{t}");
    }
    for who in ["cm_test@broker.example", "cm_other@broker.example"] {
        let sent = eventually("the submitter's resolution mail", async || {
            mail.mails()
                .into_iter()
                .find(|m| m.rcpt.iter().any(|r| r.contains(who)))
        })
        .await;
        assert!(sent.text().contains(resolution), "{}", sent.text());
    }
    assert_eq!(alert(&s, id).await["alert"]["state"], "resolved");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_is_deduplicated_acknowledged_silenced_and_resolved() {
    let hooks_port = free_port();
    let hooks = HttpReceiver::start_on(hooks_port, 0).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let notify = format!(
        "[notify]\nretry_base = \"1s\"\n[notify.wecom]\nurl = \"{}\"\n[[notify.webhooks]]\nurl = \"{}\"\n",
        hooks.url("/wecom"),
        hooks.url("/hook")
    );
    let s = TestServer::start_in(dir.path(), demo_settings(dir.path(), &notify)).await;
    let fired = |n: usize| {
        let hooks = &hooks;
        async move {
            eventually("the webhooks", async || {
                let got: Vec<Value> = hooks
                    .bodies("/hook")
                    .into_iter()
                    .filter(|b| b["event"] == "monitor.alert")
                    .collect();
                (got.len() >= n).then_some(got)
            })
            .await
        }
    };

    // Firing twice is one alert, evaluated twice, sent once.
    let first = run(&s, "cards-not-normal").await;
    let again = run(&s, "cards-not-normal").await;
    assert_eq!(first["alert_id"], again["alert_id"]);
    let id = first["alert_id"].as_i64().expect("an alert");
    let a = alert(&s, id).await["alert"].clone();
    assert_eq!(
        (a["evaluations"].as_i64(), a["state"].as_str()),
        (Some(2), Some("firing"))
    );
    let hook = &fired(1).await[0];
    assert_eq!(hook["alert"]["id"], id);
    assert_eq!(hook["alert"]["monitor"], "cards-not-normal");
    // The WeCom robot gets the same news as markdown, the title made inert.
    let robot = eventually("the WeCom message", async || hooks.bodies("/wecom").pop()).await;
    let content = robot["markdown"]["content"].as_str().expect("markdown");
    assert!(
        content.contains("监控告警") && content.contains("交易系统异常状态股东卡"),
        "{content}"
    );

    // A stale version is refused; the current one acknowledges.
    let path = format!("/api/v1/alerts/{id}/acknowledge");
    let stale = s
        .handler()
        .post(s.url(&path))
        .json(&json!({"version": 0}))
        .send()
        .await
        .expect("sent");
    assert_eq!(stale.status(), 409);
    let acked = post(
        &s,
        &s.handler_token,
        &path,
        json!({"version": a["version"]}),
    )
    .await;
    assert_eq!(acked["state"], "acknowledged");
    assert_eq!(acked["acknowledged_by"], "h_test");
    // Still firing: acknowledged, not a new alert.
    assert_eq!(run(&s, "cards-not-normal").await["alert_id"], id);

    // Silenced, then resolved by hand: the next alert is raised but nothing is sent.
    let a = alert(&s, id).await["alert"].clone();
    let silenced = post(
        &s,
        &s.handler_token,
        &format!("/api/v1/alerts/{id}/silence"),
        json!({"version": a["version"], "for": "1h"}),
    )
    .await;
    assert!(silenced["silenced_until"].is_string(), "{silenced}");
    post(
        &s,
        &s.handler_token,
        &format!("/api/v1/alerts/{id}/resolve"),
        json!({"version": silenced["version"], "note": "清算文件已重导"}),
    )
    .await;
    let next = run(&s, "cards-not-normal").await;
    let next_id = next["alert_id"].as_i64().expect("a new alert");
    assert_ne!(next_id, id);
    assert!(alert(&s, next_id).await["alert"]["silenced_until"].is_string());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fired(1).await.len(), 1, "a silenced alert sends nothing");

    // A bad silence changes nothing.
    let v = alert(&s, next_id).await["alert"]["version"].clone();
    let bad = s
        .handler()
        .post(s.url(&format!("/api/v1/alerts/{next_id}/silence")))
        .json(&json!({"version": v, "for": "forever"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(bad.status(), 409);
    assert_eq!(alert(&s, next_id).await["alert"]["version"], v);

    // Submitters see none of it.
    let r = s
        .submitter()
        .get(s.url("/api/v1/alerts"))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 403);

    // The history and the metrics say what happened.
    let history: Vec<Value> = json_of(
        s.handler()
            .get(s.url("/api/v1/monitors/cards-not-normal/history")),
    )
    .await;
    assert_eq!(history.len(), 4);
    assert!(history.iter().all(|e| e["outcome"] == "firing"));
    let metrics = s
        .handler()
        .get(s.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("opsdesk_monitor_evaluations_total{outcome=\"firing\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("opsdesk_alerts{state=\"firing\"} 1"),
        "{metrics}"
    );
    s.stop().await;
}

/// Monitor files of this test, written into `dir/monitors`, over the demo's sources.
fn with_monitors(dir: &Path, settings: Settings, files: &[(&str, String)]) -> Settings {
    let monitors = dir.join("monitors");
    std::fs::create_dir_all(&monitors).expect("monitors dir");
    for (name, text) in files {
        std::fs::write(monitors.join(format!("{name}.toml")), text).expect("write a monitor");
    }
    let book = Book::load(&monitors, &settings.lookups, &settings.system_keys());
    Settings {
        monitors: book,
        ..settings
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_or_hanging_monitor_is_recorded_and_the_others_keep_their_turns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = demo_settings(dir.path(), "");
    // A database that is not there.
    let gone = dir.path().join("gone.db");
    let lookups = base.lookups.with(vec![Source::Sql(
        opsdesk::lookups::sql::SqlSource::new(
            &toml::from_str(&format!(
                "name = \"gone\"\nurl = \"sqlite://{}\"\n[[query]]\nname = \"q\"\nsql = \"SELECT 1 WHERE 1 = :account\"\n",
                gone.display()
            ))
            .expect("a source config"),
            None,
        )
        .expect("a source"),
    )]);
    let base = Settings { lookups, ..base };
    let every_second = "schedule = \"* * * * * *\"";
    let files = [
        (
            "steady",
            format!("title = \"steady\"\n{every_second}\n[query]\nsource = \"demo-trading\"\nsql = \"SELECT count(*) FROM trading_card\"\n[threshold]\nabove = 1000000\n"),
        ),
        (
            // Counts to a billion: over its one-second timeout, every time.
            "hanging",
            format!("title = \"hanging\"\n{every_second}\ntimeout = \"1s\"\n[query]\nsource = \"demo-trading\"\nsql = \"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) SELECT count(*) FROM n\"\n[threshold]\nabove = 1\n"),
        ),
        (
            "unreachable",
            format!("title = \"unreachable\"\n{every_second}\n[query]\nsource = \"gone\"\nsql = \"SELECT count(*) FROM t\"\n[threshold]\nabove = 1\n"),
        ),
        (
            "no_table",
            format!("title = \"no table\"\n{every_second}\n[query]\nsource = \"demo-trading\"\nsql = \"SELECT count(*) FROM no_such_table\"\n[threshold]\nabove = 1\n"),
        ),
        (
            // A million rows: the threshold reads the first value and no more.
            "million",
            format!("title = \"million\"\n{every_second}\n[query]\nsource = \"demo-trading\"\nsql = \"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) SELECT i FROM n\"\n[threshold]\nabove = 5\n"),
        ),
        (
            // A million groups is not a distribution: refused, summarised.
            "groups",
            format!("title = \"groups\"\n{every_second}\n[query]\nsource = \"demo-trading\"\nsql = \"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) SELECT i, 1 FROM n WHERE :day = :day\"\n[distribution]\nmax_shift = 10\n"),
        ),
        (
            "badcron",
            "title = \"bad\"\nschedule = \"61 * * * *\"\n[query]\nsource = \"demo-trading\"\nsql = \"SELECT 1\"\n[threshold]\nabove = 1\n".to_string(),
        ),
    ];
    let s = TestServer::start_in(dir.path(), with_monitors(dir.path(), base, &files)).await;

    let list: Vec<Value> = json_of(s.handler().get(s.url("/api/v1/monitors"))).await;
    let bad = list
        .iter()
        .find(|m| m["name"] == "badcron")
        .expect("listed");
    let error = bad["error"].as_str().expect("its error");
    assert!(
        error.contains("badcron.toml:2:") && error.contains("schedule"),
        "{error}"
    );

    // The scheduler keeps giving the steady monitor its turns while the others fail.
    let history = |name: &'static str| {
        let s = &s;
        async move {
            json_of::<Vec<Value>>(
                s.handler()
                    .get(s.url(&format!("/api/v1/monitors/{name}/history"))),
            )
            .await
        }
    };
    eventually("the steady monitor's turns", async || {
        (history("steady").await.len() >= 4).then_some(())
    })
    .await;
    let hung = eventually("the hanging monitor's timeout", async || {
        history("hanging").await.pop()
    })
    .await;
    assert_eq!(hung["outcome"], "error", "{hung}");
    assert!(
        hung["summary"]
            .as_str()
            .expect("why")
            .contains("ran over 1s"),
        "{hung}"
    );
    let lost = eventually("the unreachable monitor's error", async || {
        history("unreachable").await.pop()
    })
    .await;
    assert_eq!(lost["outcome"], "error");
    assert!(
        lost["summary"]
            .as_str()
            .expect("why")
            .contains("no database file"),
        "{lost}"
    );
    assert!(history("steady").await.iter().all(|e| e["outcome"] == "ok"));
    let said = |name: &'static str, words: &'static str| {
        let history = &history;
        async move {
            let e = eventually(name, async || history(name).await.pop()).await;
            let summary = e["summary"].as_str().unwrap_or_default().to_string();
            assert!(summary.contains(words), "{name}: {e}");
            e
        }
    };
    assert_eq!(said("no_table", "no such table").await["outcome"], "error");
    let million = said("million", "").await;
    assert_eq!(
        (million["outcome"].as_str(), million["value"].as_f64()),
        (Some("ok"), Some(1.0))
    );
    assert_eq!(said("groups", "over 1000 rows").await["outcome"], "error");
    // A refused monitor never runs, and says why when asked to.
    let r = s
        .handler()
        .post(s.url("/api/v1/monitors/badcron/run"))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 409);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_raised_while_smtp_is_down_is_mailed_when_it_returns() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let s = TestServer::start_in(dir.path(), demo_settings(dir.path(), &smtp(port))).await;
    assert_eq!(run(&s, "card-consistency").await["outcome"], "firing");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mail = SmtpReceiver::start_on(port).await;
    let sent = eventually("the mail after SMTP returns", async || mail.mails().pop()).await;
    assert!(sent.text().contains("股东卡"), "{}", sent.text());
    s.stop().await;
}

/// A PostgreSQL source over the shared cluster's `crm` database.
fn pg_lookups(cluster: &PgCluster) -> Lookups {
    let cfg = format!(
        "name = \"pg-accounts\"\nurl = \"{}\"\n[[query]]\nname = \"q\"\nsql = \"SELECT 1 WHERE '1' = :account\"\n",
        cluster.url("lookup_reader")
    );
    let source =
        opsdesk::lookups::sql::SqlSource::new(&toml::from_str(&cfg).expect("config"), None)
            .expect("a source");
    Lookups::new(vec![Source::Sql(source)])
}

async fn evaluate_file(
    lookups: &Lookups,
    text: &str,
) -> Result<opsdesk::monitor::evaluate::Evaluation, String> {
    let book = Book::from_texts(&[("pg", text)], lookups, &["account"]);
    assert!(book.broken.is_empty(), "{:?}", book.broken);
    let clock = Clock {
        now: Utc::now(),
        tz: chrono_tz::Asia::Shanghai,
    };
    evaluate(&book.monitors[0], clock).await
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_is_compared_read_only_and_in_bytes_order() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    cluster.psql(
        "crm",
        "CREATE TABLE IF NOT EXISTS counter_cards (key text PRIMARY KEY, status text NOT NULL);
         CREATE TABLE IF NOT EXISTS trading_cards (key text PRIMARY KEY, status text NOT NULL);
         TRUNCATE counter_cards, trading_cards;
         INSERT INTO counter_cards SELECT 'acct' || lpad(n::text, 7, '0'), '正常' FROM generate_series(1, 20000) n;
         INSERT INTO trading_cards SELECT key, CASE WHEN key = 'acct0000007' THEN '冻结' ELSE status END FROM counter_cards WHERE key <> 'acct0000009';
         INSERT INTO trading_cards VALUES ('acct9999999', '正常');
         GRANT SELECT ON counter_cards, trading_cards TO lookup_reader;",
    );
    let lookups = pg_lookups(&cluster);
    let check = r#"
title = "pg cards"
schedule = "0 30 18 * * 1-5"
[consistency]
fields = ["status"]
left = { source = "pg-accounts", sql = 'SELECT key, status FROM counter_cards ORDER BY key COLLATE "C"' }
right = { source = "pg-accounts", sql = 'SELECT key, status FROM trading_cards ORDER BY key COLLATE "C"' }
"#;
    let found = evaluate_file(&lookups, check).await.expect("compared");
    let v = &found.verdict;
    assert!(v.firing);
    assert_eq!(v.value, 3.0, "{}", v.summary);
    let keys: Vec<&str> = v.rows.iter().filter_map(|r| r[0].as_deref()).collect();
    assert_eq!(keys, ["acct0000007", "acct0000009", "acct9999999"]);

    // A query that would write is refused by the read-only transaction, not by our reading
    // of its text (it starts with WITH).
    let writes = r#"
title = "writes"
schedule = "*/5 * * * *"
[query]
source = "pg-accounts"
sql = "WITH gone AS (DELETE FROM trading_cards RETURNING 1) SELECT count(*) FROM gone"
[threshold]
above = 1
"#;
    let e = evaluate_file(&lookups, writes).await.expect_err("refused");
    assert!(e.contains("read-only transaction"), "{e}");
    assert_eq!(
        cluster.psql("crm", "SELECT count(*) FROM trading_cards"),
        "20000"
    );

    // A baseline: the parameters arrive as text, cast where the column wants a time.
    cluster.psql(
        "crm",
        "CREATE TABLE IF NOT EXISTS openings (opened_at timestamp NOT NULL, channel text NOT NULL);
         TRUNCATE openings;
         INSERT INTO openings
           SELECT (now() AT TIME ZONE 'Asia/Shanghai') - interval '1 minute', 'app' FROM generate_series(1, 10);
         INSERT INTO openings
           SELECT (now() AT TIME ZONE 'Asia/Shanghai') - (w * interval '7 days') - interval '1 minute',
                  CASE WHEN n % 2 = 0 THEN 'app' ELSE 'h5' END
           FROM generate_series(1, 4) w, generate_series(1, 40) n;
         GRANT SELECT ON openings TO lookup_reader;",
    );
    let baseline = r#"
title = "openings"
schedule = "*/5 * * * *"
[query]
source = "pg-accounts"
sql = "SELECT count(*) FROM openings WHERE opened_at >= :day::date AND opened_at < :until::timestamp"
[baseline]
tolerance = 30
"#;
    let found = evaluate_file(&lookups, baseline).await.expect("measured");
    assert!(found.verdict.firing, "{}", found.verdict.summary);
    assert!(found.verdict.value <= 10.0, "{}", found.verdict.summary);
    let mix = r#"
title = "channels"
schedule = "*/5 * * * *"
[query]
source = "pg-accounts"
sql = "SELECT channel, count(*) FROM openings WHERE opened_at >= :day::date AND opened_at < :until::timestamp GROUP BY channel"
[distribution]
max_shift = 15
min_total = 5
"#;
    let found = evaluate_file(&lookups, mix).await.expect("measured");
    assert!(found.verdict.firing, "{}", found.verdict.summary);
}

/// A loopback endpoint answering `body` as JSON at `/count.json`.
async fn json_endpoint(body: Value) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().route(
        "/count.json",
        axum::routing::get(move || {
            let body = body.clone();
            async move { axum::Json(body) }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/count.json")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_json_document_is_read_at_its_pointer() {
    let url = json_endpoint(json!({"data": {"count": 7, "label": "seven"}})).await;
    let lookups = Lookups::default();
    let file = |pointer: &str| {
        format!(
            "title = \"json\"\nschedule = \"*/5 * * * *\"\n[query]\nurl = \"{url}\"\npointer = \"{pointer}\"\n[threshold]\nbelow = 10\n"
        )
    };
    let found = evaluate_file(&lookups, &file("/data/count"))
        .await
        .expect("read");
    assert!(found.verdict.firing);
    assert_eq!(found.verdict.value, 7.0);
    let e = evaluate_file(&lookups, &file("/data/label"))
        .await
        .expect_err("not a number");
    assert!(e.contains("'seven' is not a number"), "{e}");
    let e = evaluate_file(&lookups, &file("/data/none"))
        .await
        .expect_err("nothing there");
    assert!(e.contains("nothing at '/data/none'"), "{e}");
    // A URL that does not answer is the monitor's error, said.
    let gone = format!(
        "title = \"json\"\nschedule = \"*/5 * * * *\"\n[query]\nurl = \"http://127.0.0.1:{}/x\"\n[threshold]\nbelow = 10\n",
        free_port()
    );
    let e = evaluate_file(&lookups, &gone)
        .await
        .expect_err("unreachable");
    assert!(e.contains("cannot reach"), "{e}");
}
