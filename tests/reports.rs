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
    let figures = Figures::of(week, &facts, &[]);
    assert_eq!(figures.by_category["consultation"].now, 2);
    assert_eq!(figures.by_category["data"].now, 1);
    assert_eq!(figures.resolved, 1);
    assert_eq!(figures.resolved_in_time, 1, "resolved at once: in time");
    // The rollup says the same as the facts, after the category moved.
    let counts = &trend[0].by_category;
    assert_eq!(counts["consultation"], (2, 1, 1));
    assert_eq!(counts["data"], (1, 0, 0));

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
    assert_eq!(trend[0].by_category["consultation"], (2, 1, 1));
    assert_eq!(trend[0].by_category["data"], (1, 0, 0));
    let month = Period::month_of(chrono::Utc::now(), zone);
    let by_month = store
        .read(move |conn| reports::trend(conn, &[month]))
        .await
        .unwrap();
    assert_eq!(by_month[0].by_category["consultation"].0, 2);
    store.shutdown();
}

#[test]
fn the_sample_report_reads() {
    let r = common::report::sample_report();
    assert_eq!(r.trend.len(), 12);
    assert_eq!(r.sessions.len(), 1);
}
