//! Durable ticket creation in process, and the pure per-ticket work every list and event does.
//!
//! `store/create_ticket/64` creates 64 tickets concurrently per iteration through the same use
//! case the API calls (validation, insert, audit, change log, view), each acknowledged only
//! after its group commit is fsynced (`synchronous=FULL`). `cargo bench --bench create`.

use std::sync::Arc;

use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opsdesk::config::Settings;
use opsdesk::domain::people::Role;
use opsdesk::domain::validate::NewTicket;
use opsdesk::domain::view::{SlaContext, ticket_view};
use opsdesk::service::Desk;
use opsdesk::store::{Store, users};

fn new_ticket(i: usize) -> NewTicket {
    serde_json::from_value(serde_json::json!({
        "title": format!("委托下单提示资金不足 {i}"),
        "description": "客户 310012345678 今天 10:05 在 APP 买入 600519 提示“可用资金不足”，实际可用资金 5 万元，已重新登录仍然失败",
        "system": "trading",
        "customer": {"name": "张三", "account": "310012345678", "phone": "13812341234"}
    }))
    .expect("valid ticket")
}

fn create(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let tmp = tempfile::tempdir().expect("temp dir");
    let store = Store::open(tmp.path()).expect("store");
    let desk = Desk::new(store, Arc::new(Settings::default()));
    let user = rt
        .block_on(desk.store.write(|ctx| {
            users::insert(
                ctx.conn,
                "cm_bench",
                "bench",
                Role::Submitter,
                None,
                None,
                ctx.now,
            )
        }))
        .expect("user");

    const BATCH: usize = 64;
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("create_ticket/64", |b| {
        b.to_async(&rt).iter(|| {
            let (desk, user) = (desk.clone(), user.clone());
            async move {
                let creates = (0..BATCH).map(|i| {
                    let (desk, user) = (desk.clone(), user.clone());
                    tokio::spawn(
                        async move { desk.create_ticket(&user, new_ticket(i), None).await },
                    )
                });
                for c in futures::future::join_all(creates).await {
                    c.expect("task").expect("created");
                }
            }
        })
    });
    group.finish();

    // The view every list row and every change event renders: masking plus two SLA readings.
    let view = rt
        .block_on(desk.create_ticket(&user, new_ticket(0), None))
        .expect("created")
        .value;
    let ticket = rt
        .block_on(
            desk.store
                .read(move |conn| opsdesk::store::tickets::get(conn, view.id)),
        )
        .expect("read")
        .expect("exists");
    let settings = Settings::default();
    let sla = SlaContext {
        policy: &settings.sla,
        calendar: &settings.calendar,
    };
    c.bench_function("domain/ticket_view", |b| {
        b.iter(|| ticket_view(&ticket, Vec::new(), &sla, Utc::now()))
    });
    desk.store.shutdown();
}

criterion_group!(benches, create);
criterion_main!(benches);
