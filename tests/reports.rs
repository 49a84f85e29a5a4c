//! The reports' facts and counts kept in step with every ticket write, through the desk's own
//! use cases on a real SQLite store, and filled in for a data dir from before the reports.

mod common;

use std::sync::Arc;

use opsdesk::api::{TicketPatch, TransitionBody};
use opsdesk::config::Settings;
use opsdesk::domain::people::Role;
use opsdesk::domain::report::{Figures, Period};
use opsdesk::domain::ticket::{Category, Status};
use opsdesk::service::Desk;
use opsdesk::store::{Store, reports, users};
use serde_json::json;

async fn user(store: &Store, name: &'static str, role: Role) -> users::User {
    store
        .write(move |ctx| users::insert(ctx.conn, name, name, role, None, None, ctx.now))
        .await
        .unwrap()
}

fn new_ticket(title: &str, system: &str) -> opsdesk::domain::validate::NewTicket {
    serde_json::from_value(json!({
        "title": title,
        "description": "客户反映的问题描述足够长，包含发生时间、现象和已经尝试过的处理办法",
        "system": system,
        "customer": {"account": "310012345678"},
    }))
    .unwrap()
}

#[tokio::test]
async fn every_write_keeps_the_facts_and_the_counts_in_step() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let settings = Arc::new(Settings::default());
    let desk = Desk::new(store.clone(), settings.clone());
    let submitter = user(&store, "cm_a", Role::Submitter).await;
    let handler = user(&store, "h_a", Role::Handler).await;
    let mut ids = Vec::new();
    for (title, system) in [
        ("下单提示可用资金不足", "trading"),
        ("开户视频见证排队太久", "account_opening"),
        ("APP自选股打开闪退", "app"),
    ] {
        let created = desk
            .create_ticket(&submitter, new_ticket(title, system), None)
            .await
            .unwrap();
        ids.push(created.value.id);
    }
    // One becomes a data ticket; one is resolved at once.
    let t = desk
        .patch_ticket(
            &handler,
            ids[1],
            serde_json::from_value::<TicketPatch>(json!({"version": 1, "category": "data"}))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(t.category, Category::Data);
    let move_to = |to: Status, resolution: Option<&str>| TransitionBody {
        to,
        transfer_to: None,
        note: None,
        resolution: resolution.map(str::to_string),
        version: None,
    };
    desk.transition(&handler, ids[0], move_to(Status::Triaging, None))
        .await
        .unwrap();
    desk.transition(
        &handler,
        ids[0],
        move_to(
            Status::Resolved,
            Some("新股申购冻结了资金，解冻后可正常下单"),
        ),
    )
    .await
    .unwrap();

    let zone = settings.calendar.tz();
    let week = Period::week_of(chrono::Utc::now(), zone);
    let (facts, trend) = store
        .read(move |conn| {
            Ok((
                reports::facts_in(conn, week)?,
                reports::trend(conn, &[week])?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(facts.len(), 3);
    let figures = Figures::of(week, &facts, &Default::default());
    assert_eq!(figures.by_category["consultation"].now, 2);
    assert_eq!(figures.by_category["data"].now, 1);
    assert_eq!(figures.resolved, 1);
    assert_eq!(figures.resolved_in_time, 1, "resolved at once: in time");
    // The rollup says the same as the facts, after the category moved.
    let counts = &trend[0];
    assert_eq!(
        (counts.tickets, counts.consultation, counts.data),
        (3, 2, 1)
    );
    assert_eq!((counts.resolved, counts.resolved_in_time), (1, 1));

    // A data dir from before the reports: its facts and counts are filled in at start.
    store
        .write(|ctx| {
            ctx.conn
                .execute_batch("DELETE FROM report_facts; DELETE FROM report_rollup;")?;
            Ok::<_, opsdesk::store::StoreError>(())
        })
        .await
        .unwrap();
    assert_eq!(desk.adopt_reports().await.unwrap(), 3);
    assert_eq!(desk.adopt_reports().await.unwrap(), 0, "once");
    let trend = store
        .read(move |conn| reports::trend(conn, &[week]))
        .await
        .unwrap();
    assert_eq!((trend[0].consultation, trend[0].data), (2, 1));
    assert_eq!((trend[0].resolved, trend[0].resolved_in_time), (1, 1));
    let month = Period::month_of(chrono::Utc::now(), zone);
    let by_month = store
        .read(move |conn| reports::trend(conn, &[month]))
        .await
        .unwrap();
    assert_eq!(by_month[0].consultation, 2);
    store.shutdown();
}

#[test]
fn the_sample_report_reads() {
    let r = common::report::sample_report();
    assert_eq!(r.trend.len(), 12);
    assert_eq!(r.sessions.len(), 1);
}

/// The business calendar the hand counts below assume: 09:00–17:00 Shanghai on working days.
fn nine_to_five() -> Settings {
    let mut settings = Settings::default();
    let hours = opsdesk::domain::calendar::WorkingHours {
        start: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        end: chrono::NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
    };
    settings.calendar =
        opsdesk::domain::calendar::BusinessCalendar::new(chrono_tz::Asia::Shanghai, vec![hours])
            .unwrap();
    settings
}

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

/// A ticket of the fixture: created at `created`, with what the report reads of it.
fn fixture_ticket(
    id: i64,
    created: &str,
    category: Category,
    system: &str,
    channel: opsdesk::domain::ticket::Channel,
    priority: opsdesk::domain::ticket::Priority,
) -> opsdesk::domain::ticket::Ticket {
    let mut new = new_ticket("下单提示可用资金不足", system);
    new.category = Some(category);
    new.priority = Some(priority);
    let mut t = opsdesk::domain::ticket::Ticket::open(new, channel, "cm_a".into(), at(created));
    t.id = id;
    t
}

#[tokio::test]
async fn a_week_counted_by_hand_across_the_shanghai_midnights_the_calendar_and_a_pause() {
    use opsdesk::domain::sla::SlaPause;
    use opsdesk::domain::ticket::{Channel, Priority};
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let settings = nine_to_five();
    // W47 of 2026 runs from Monday 2026-11-16 00:00 to Sunday 24:00 in Shanghai: from
    // 2026-11-15T16:00Z to 2026-11-22T16:00Z.
    let mut tickets = Vec::new();
    // Sunday 23:59:59 Shanghai of W46: the week before.
    let mut t = fixture_ticket(
        1,
        "2026-11-15T15:59:59Z",
        Category::Consultation,
        "trading",
        Channel::Mss,
        Priority::P3,
    );
    t.resolved_at = Some(at("2026-11-16T02:00:00Z"));
    tickets.push(t);
    // Monday 00:00 Shanghai: W47. P3 (3 business days here), resolved Monday 10:00: in time.
    let mut t = fixture_ticket(
        2,
        "2026-11-15T16:00:00Z",
        Category::Consultation,
        "trading",
        Channel::Mss,
        Priority::P3,
    );
    t.first_responded_at = Some(at("2026-11-16T01:10:00Z"));
    t.resolved_at = Some(at("2026-11-16T02:00:00Z"));
    tickets.push(t);
    // Sunday 23:59 Shanghai: still W47 (the issue's own example), open.
    tickets.push(fixture_ticket(
        3,
        "2026-11-22T15:59:00Z",
        Category::Program,
        "app",
        Channel::Itsm,
        Priority::P3,
    ));
    // P2 (8 business hours): Monday 16:00 to Tuesday 16:30 counts 1 h + 7.5 h = 8.5 h, but an
    // hour waiting on the submitter on Tuesday morning leaves 7.5 h: in time.
    let mut t = fixture_ticket(
        4,
        "2026-11-16T08:00:00Z",
        Category::Data,
        "clearing",
        Channel::Mss,
        Priority::P2,
    );
    t.first_responded_at = Some(at("2026-11-16T08:20:00Z"));
    t.resolved_at = Some(at("2026-11-17T08:30:00Z"));
    t.sla_pauses = vec![SlaPause {
        from: at("2026-11-17T01:00:00Z"),
        until: Some(at("2026-11-17T02:00:00Z")),
    }];
    tickets.push(t);
    // The same without the pause: 8.5 h, late.
    let mut t = fixture_ticket(
        5,
        "2026-11-16T08:00:00Z",
        Category::Consultation,
        "trading",
        Channel::Api,
        Priority::P2,
    );
    t.first_responded_at = Some(at("2026-11-16T09:00:00Z"));
    t.resolved_at = Some(at("2026-11-17T08:30:00Z"));
    tickets.push(t);
    // Monday 00:00 Shanghai of W48: the week after.
    tickets.push(fixture_ticket(
        6,
        "2026-11-22T16:00:00Z",
        Category::Consultation,
        "trading",
        Channel::Mss,
        Priority::P3,
    ));
    let zone = settings.calendar.tz();
    let (sla, calendar) = (settings.sla.clone(), settings.calendar.clone());
    store
        .write(move |ctx| {
            for t in &mut tickets {
                // Resolved tickets are marked so, for the backlog.
                if t.resolved_at.is_some() {
                    t.status = Status::Resolved;
                }
                t.id = opsdesk::store::tickets::insert(ctx.conn, t)?;
                let f = opsdesk::domain::report::TicketFacts::of(t, &sla, &calendar);
                reports::record(ctx.conn, &f, zone)?;
            }
            Ok::<_, opsdesk::store::StoreError>(())
        })
        .await
        .unwrap();
    let desk = Desk::new(store.clone(), Arc::new(settings));
    let handler = user(&store, "h_chen", Role::Handler).await;
    let week = Period::parse("2026-W47").unwrap();
    let r = desk
        .report(
            &handler,
            opsdesk::domain::report::ReportKind::Weekly,
            Some(week),
            at("2026-12-07T00:00:00Z"),
        )
        .await
        .unwrap();
    let f = &r.figures;
    assert_eq!((f.total.now, f.total.before), (4, 1));
    assert_eq!(f.by_category["consultation"].now, 2);
    assert_eq!(f.by_category["program"].now, 1);
    assert_eq!(f.by_category["data"].now, 1);
    assert_eq!(f.by_channel["mss"].now, 2);
    assert_eq!(f.consultation_share, Some(50.0));
    assert_eq!(f.consultation_share_before, Some(100.0));
    // Resolved: 2, 4, 5 of 4; in time: 2 and 4 (the pause honoured), not 5.
    assert_eq!((f.resolved, f.resolved_in_time), (3, 2));
    assert_eq!(f.resolution_rate, Some(75.0));
    assert!((f.timely_resolution_rate.unwrap() - 200.0 / 3.0).abs() < 1e-9);
    // First responses (wall clock): 9 h 10 min (midnight to 09:10), 20 min, 60 min → median
    // 60 min, p90 the longest.
    assert_eq!(f.first_response.median_secs, Some(3600));
    assert_eq!(f.first_response.p90_secs, Some(33_000));
    // The days: Monday holds 2, 4 and 5; Sunday holds 3.
    let days: Vec<u64> = r.daily.iter().map(|d| d.tickets).collect();
    assert_eq!(days, [3, 0, 0, 0, 0, 0, 1]);
    // The trend ends with this week, from the rollup, and holds the weeks either side.
    assert_eq!(r.trend.len(), 12);
    let last = &r.trend[11];
    assert_eq!(
        (
            last.period.as_str(),
            last.tickets,
            last.resolved,
            last.resolved_in_time
        ),
        ("2026-W47", 4, 3, 2)
    );
    assert_eq!(r.trend[10].tickets, 1);
    // Every ticket shares a title: one recurring problem, a consultation's, with no article.
    assert_eq!(r.recurring.len(), 1);
    assert_eq!(r.recurring[0].tickets, 4);
    assert!(
        r.definitions
            .iter()
            .any(|d| d.term == "timely_resolution_rate" && d.text.contains("SLA"))
    );
    // Open at the week's end: ticket 3, created 1 minute before it.
    assert_eq!(r.backlog.open, 1);
    assert_eq!(r.backlog.by_age[0].tickets, 1);
    // The week after has one ticket; a week long ago has none and says so.
    let old = desk
        .report(
            &handler,
            opsdesk::domain::report::ReportKind::Weekly,
            Some(Period::parse("2020-W10").unwrap()),
            at("2026-12-07T00:00:00Z"),
        )
        .await
        .unwrap();
    assert!(old.empty);
    assert_eq!(old.figures.resolution_rate, None);
    store.shutdown();
}

/// Runs the CLI against `s` as its handler; (exit code, stdout, stderr).
fn cli(s: &common::TestServer, args: &[&str]) -> (i32, String, String) {
    let out = common::binary()
        .args(["--server", &s.base, "--token", &s.handler_token])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_and_knowledge_sessions_through_the_api_the_pages_and_the_cli() {
    let s = common::TestServer::start().await;
    s.new_ticket("委托提示可用资金不足，请协助查询").await;
    s.new_ticket("委托提示可用资金不足，请协助查询").await;
    let h = s.handler();

    // The week now running, as JSON.
    let now: serde_json::Value = common::json_of(h.get(s.url("/api/v1/reports/weekly"))).await;
    assert_eq!(now["figures"]["total"]["now"], 2);
    assert_eq!(now["recurring"][0]["tickets"], 2);
    assert_eq!(
        now["topics"][0]["tickets"], 2,
        "a recurring consultation is a topic"
    );
    // Bad periods and kinds are refused in words, changing nothing.
    for (path, status) in [
        ("/api/v1/reports/weekly?period=2026-W54", 400),
        ("/api/v1/reports/monthly?period=2026-13", 400),
        ("/api/v1/reports/weekly?period=2026-11", 400),
        ("/api/v1/reports/daily", 404),
        ("/api/v1/reports/weekly?period=%3Cscript%3E", 400),
        ("/api/v1/reports/weekly?period=2026w47", 400),
        ("/api/v1/reports/weekly?period=2025-W53", 400),
    ] {
        let code = common::error_code(h.get(s.url(path)).send().await.unwrap(), status).await;
        let expected = if status == 404 {
            "not_found"
        } else {
            "bad_request"
        };
        assert_eq!(code, expected, "{path}");
    }
    // Handlers only.
    let refused = s
        .submitter()
        .get(s.url("/api/v1/reports/weekly"))
        .send()
        .await
        .unwrap();
    assert_eq!(common::error_code(refused, 403).await, "forbidden");

    // Knowledge sessions: recorded once per key, refused field by field, changed with care.
    let session = json!({"held_on": "2026-11-19", "topic": "如何正确报障", "systems": ["trading"],
                         "live_viewers": 120, "total_views": 300});
    let post = |body: serde_json::Value, key: &str| {
        h.post(s.url("/api/v1/knowledge-sessions"))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = post(session.clone(), "k1").await.unwrap();
    assert_eq!(first.status(), 201);
    let first: serde_json::Value = first.json().await.unwrap();
    let again = post(session.clone(), "k1").await.unwrap();
    assert_eq!(again.status(), 200, "a retry gets the first answer");
    for (bad, field) in [
        (json!({"held_on": "2026-11-19", "topic": "x"}), "topic"),
        (
            json!({"held_on": "2026-11-19", "topic": "如何报障", "systems": ["<b>nope</b>"]}),
            "systems",
        ),
        (
            json!({"held_on": "2026-11-19", "topic": "如何报障", "live_viewers": -10}),
            "live_viewers",
        ),
    ] {
        let r = post(bad, "k-bad").await.unwrap();
        assert_eq!(r.status(), 422);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"]["fields"][0]["field"], field, "{v}");
    }
    let r = post(
        json!({"held_on": "2026-11-19", "topic": "如何报障", "kb_articles": [999]}),
        "k-kb",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 409);
    let r = post(
        json!({"held_on": "19/11/2026", "topic": "如何报障"}),
        "k-date",
    )
    .await
    .unwrap();
    assert!(r.status().is_client_error());
    let listed: Vec<serde_json::Value> =
        common::json_of(h.get(s.url("/api/v1/knowledge-sessions"))).await;
    assert_eq!(
        listed.len(),
        1,
        "the refusals and the retry recorded nothing"
    );
    let id = first["id"].as_i64().unwrap();
    let patch = |body: serde_json::Value| {
        h.patch(s.url(&format!("/api/v1/knowledge-sessions/{id}")))
            .json(&body)
            .send()
    };
    let changed: serde_json::Value = patch(json!({"total_views": 520, "version": 1}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (changed["total_views"].as_i64(), changed["version"].as_i64()),
        (Some(520), Some(2))
    );
    assert_eq!(
        patch(json!({"total_views": 600, "version": 1}))
            .await
            .unwrap()
            .status(),
        409
    );
    assert_eq!(
        patch(json!({"total_views": -5})).await.unwrap().status(),
        422,
        "below zero"
    );
    let r = s
        .submitter()
        .post(s.url("/api/v1/knowledge-sessions"))
        .json(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // The page: a handler's bearer, a strict policy, hostile text inert.
    let page = h.get(s.url("/reports/weekly")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(page.text().await.unwrap().contains("资金不足"));
    let anonymous = reqwest::get(s.url("/reports/weekly")).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        s.submitter()
            .get(s.url("/reports/"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        h.get(s.url("/reports/weekly/2026-W54"))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );

    // The CLI: table, JSON, CSV, HTML; bad input exits 2.
    let week = now["period"].as_str().unwrap().to_string();
    let (code, out, _) = cli(&s, &["report", "weekly", "--period", &week]);
    assert_eq!(code, 0);
    assert!(
        out.contains("解决率") && out.contains("及时解决率"),
        "{out}"
    );
    let (code, out, _) = cli(
        &s,
        &["report", "weekly", "--period", &week, "--format", "json"],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["figures"]["total"]["now"], 2);
    let (code, out, _) = cli(
        &s,
        &["report", "weekly", "--period", &week, "--format", "csv"],
    );
    assert_eq!(code, 0);
    assert!(out.starts_with("period,section,key,now,before\n"), "{out}");
    assert!(out.contains(&format!("{week},total,tickets,2,")), "{out}");
    let (code, out, _) = cli(
        &s,
        &["report", "weekly", "--period", &week, "--format", "html"],
    );
    assert_eq!(code, 0);
    assert!(
        out.starts_with("<!DOCTYPE html>"),
        "{}",
        &out[..out.len().min(80)]
    );
    for bad in [
        vec!["report", "weekly", "--period", "2026-W54"],
        vec!["report", "monthly", "--period", "2026-13"],
        vec!["report", "weekly", "--format", "xml"],
        vec!["report", "weekly", "--period", "2026-11"],
    ] {
        let (code, _, err) = cli(&s, &bad);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(!err.trim().is_empty());
    }
    let (code, out, err) = cli(&s, &["report", "weekly", "--period", "2020-W10"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("本期没有事件") && err.contains("no tickets"),
        "{out}{err}"
    );

    // Sessions from the CLI.
    let (code, out, err) = cli(
        &s,
        &[
            "session",
            "add",
            "--date",
            "2026-11-26",
            "--topic",
            "登录与委托常见问题",
            "--system",
            "trading",
            "--live",
            "90",
            "--views",
            "200",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let added: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(added[0]["recorded_by"], "h_test");
    let (code, _, err) = cli(
        &s,
        &["session", "add", "--date", "2026-11-26", "--topic", "x"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("topic"), "{err}");
    let (code, out, _) = cli(&s, &["session", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("登录与委托常见问题") && out.contains("如何正确报障"),
        "{out}"
    );

    // The export: every ticket's facts, in pages, CSV or JSON lines.
    let (code, out, _) = cli(
        &s,
        &[
            "report",
            "export",
            "--since",
            "2020-01-01",
            "--format",
            "jsonl",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 2);
    let (code, out, _) = cli(&s, &["report", "export", "--since", "2020-01-01"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("id,created_at,week,month,category"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 3);
    let (code, _, err) = cli(&s, &["report", "export", "--since", "last tuesday"]);
    assert_eq!(code, 2);
    assert!(err.contains("--since"), "{err}");
    let page: serde_json::Value =
        common::json_of(h.get(s.url("/api/v1/reports/facts?since=2020-01-01T00:00:00Z&limit=1")))
            .await;
    let (after, after_id) = (
        page["next"]["after"].as_str().unwrap(),
        page["next"]["after_id"].to_string(),
    );
    let rest: serde_json::Value = common::json_of(h.get(s.url("/api/v1/reports/facts")).query(&[
        ("since", "2020-01-01T00:00:00Z"),
        ("after", after),
        ("after_id", &after_id),
        ("limit", "1"),
    ]))
    .await;
    assert_ne!(page["facts"][0]["id"], rest["facts"][0]["id"]);
    s.stop().await;
}
