//! The service center's reports over 1,000,000 tickets: `cargo bench --bench reports`.
//!
//! Targets (issue "Service center"): a weekly report ≤ 50 ms; a 52-week trend ≤ 200 ms, read
//! from the rollup kept as tickets change; the Stats pane's first frame ≤ 100 ms after the
//! report arrives (measured in `benches/tui.rs`' style below, on ratatui's test backend).
//!
//! The data: 1,000,000 tickets spread evenly over the 52 weeks before the measured week
//! (~19,200 a week, a hundred times the seed team's volume, so a week's slice is what the
//! issue's reference figures assume), written through the store's own ticket insert and
//! report-facts upkeep, so the rollup is exactly what a live desk would have. Generated once
//! into `target/bench-data/reports-1m-v3/` (a few minutes) and reused.
//!
//! Criterion times each; then 30 interleaved runs give medians, printed last with the
//! process's peak memory.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::Criterion;
use opsdesk::config::Settings;
use opsdesk::domain::people::Role;
use opsdesk::domain::report::{Period, ReportKind, TicketFacts};
use opsdesk::domain::ticket::{Category, Channel, Priority, Status, Ticket};
use opsdesk::domain::validate::NewTicket;
use opsdesk::service::Desk;
use opsdesk::store::{Store, reports, tickets, users};

const TICKETS: usize = 1_000_000;
const WEEKS: i64 = 52;
const RUNS: usize = 30;
/// Tickets a write transaction.
const BATCH: usize = 20_000;

const SYSTEMS: [&str; 6] = ["trading", "app", "account", "margin", "clearing", "fund"];
const TITLES: [&str; 8] = [
    "委托提示可用资金不足",
    "手机App行情刷新卡顿",
    "两融担保比例显示与柜台不一致",
    "登录提示密码错误但密码正确",
    "银证转账到账慢",
    "开户视频见证失败",
    "新股申购额度查询不到",
    "App 升级后闪退",
];

/// The week measured: the one after the data's last.
fn measured_week() -> Period {
    Period::parse("2026-W48").expect("a week")
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/reports-1m-v3")
}

/// A ticket of the generated desk: deterministic in `i`.
fn ticket(i: usize, start: DateTime<Utc>, span_secs: i64) -> Ticket {
    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let created = start + chrono::Duration::seconds((i as i64 * span_secs) / TICKETS as i64);
    let category = match h % 10 {
        0 => Category::Data,
        1 => Category::Program,
        _ => Category::Consultation,
    };
    let new = NewTicket {
        title: TITLES[(h >> 8) as usize % TITLES.len()].into(),
        description: "客户反映的问题描述足够长，包含发生时间、现象和已经尝试过的处理办法".into(),
        system: SYSTEMS[(h >> 16) as usize % SYSTEMS.len()].into(),
        customer: serde_json::from_value(serde_json::json!({"account": "310012345678"}))
            .expect("a customer"),
        category: Some(category),
        subcategory: None,
        priority: Some(if h.is_multiple_of(7) {
            Priority::P2
        } else {
            Priority::P3
        }),
        channel: None,
        external_ref: None,
    };
    let channel = if h.is_multiple_of(3) {
        Channel::Itsm
    } else {
        Channel::Mss
    };
    let mut t = Ticket::open(new, channel, "cm_bench".into(), created);
    t.assignee = Some(format!("h_{}", (h >> 24) % 8));
    t.first_responded_at = Some(created + chrono::Duration::minutes(5 + (h >> 32) as i64 % 55));
    // All but the last week's few percent are resolved, mostly within hours.
    if i < TICKETS - 2_000 || !h.is_multiple_of(4) {
        t.status = Status::Resolved;
        t.resolved_at = Some(created + chrono::Duration::minutes(30 + (h >> 40) as i64 % 2_000));
    }
    t
}

/// Opens the generated desk, generating it first if it is not there yet.
fn desk(rt: &tokio::runtime::Runtime) -> Desk {
    let dir = data_dir();
    let done = dir.join("complete");
    let settings = Arc::new(Settings::default());
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).expect("a data dir");
        let zone = settings.calendar.tz();
        let (start, _) = measured_week().bounds(zone);
        let start = start - chrono::Duration::weeks(WEEKS);
        let span = WEEKS * 7 * 86_400;
        let began = Instant::now();
        for first in (0..TICKETS).step_by(BATCH) {
            let settings = settings.clone();
            rt.block_on(store.write(move |ctx| {
                for i in first..(first + BATCH).min(TICKETS) {
                    let mut t = ticket(i, start, span);
                    t.id = tickets::insert(ctx.conn, &t)?;
                    let f = TicketFacts::of(&t, &settings.sla, &settings.calendar);
                    reports::record(ctx.conn, &f, zone)?;
                }
                Ok::<_, opsdesk::store::StoreError>(())
            }))
            .expect("a batch");
            eprint!("\rgenerated {} tickets", (first + BATCH).min(TICKETS));
        }
        eprintln!(" in {:.0?}", began.elapsed());
        rt.block_on(store.write(|ctx| {
            ctx.conn.execute_batch("ANALYZE")?;
            Ok::<_, opsdesk::store::StoreError>(())
        }))
        .expect("analyze");
        store.shutdown();
        std::fs::write(&done, "").expect("mark the data complete");
    }
    let store = Store::open(&dir).expect("the generated data dir");
    Desk::new(store, settings)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Where a weekly report's time goes: each read it makes, and the assembly.
fn breakdown(rt: &tokio::runtime::Runtime, desk: &Desk, week: Period, now: DateTime<Utc>) {
    use opsdesk::domain::report::assemble;
    let zone = desk.settings.calendar.tz();
    let timed = |name: &str, f: &dyn Fn()| {
        let began = Instant::now();
        f();
        eprintln!("  {name:<24} {:>8.1?}", began.elapsed());
    };
    eprintln!("one weekly report, step by step:");
    let facts = rt
        .block_on(desk.store.read(move |conn| reports::facts_in(conn, week)))
        .expect("facts");
    timed("facts of the week", &|| {
        rt.block_on(desk.store.read(move |conn| reports::facts_in(conn, week)))
            .expect("facts");
    });
    timed("counts of the week before", &|| {
        rt.block_on(
            desk.store
                .read(move |conn| reports::counts_of(conn, week.previous())),
        )
        .expect("counts");
    });
    timed("open at the end", &|| {
        rt.block_on(
            desk.store
                .read(move |conn| reports::open_at(conn, assemble::as_of(week, zone, now), now)),
        )
        .expect("open");
    });
    timed("recurring problems", &|| {
        opsdesk::domain::report::recurring::recurring(&facts, &Default::default(), 10);
    });
    timed("figures", &|| {
        opsdesk::domain::report::Figures::of(week, &facts, &Default::default());
    });
}

/// The workstation on the Stats pane, waiting for the report it asked for: (app, the ask).
fn stats_waiting(now: DateTime<Utc>) -> (opsdesk::tui::app::App, u64) {
    use opsdesk::tui::app::{App, Event, LinkState};
    let (keymap, _) = opsdesk::tui::keymap::Keymap::load("default", None).expect("the keymap");
    let mut app = App::new(
        keymap,
        opsdesk::config::default_systems(),
        chrono_tz::Asia::Shanghai,
        "http://127.0.0.1:7878".into(),
        true,
        now,
    );
    app.update(Event::SignedIn {
        me: Some("h_bench".into()),
        last_seq: 0,
    });
    app.update(Event::Link(LinkState::Live));
    let effects = app.on_key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('6'),
        crossterm::event::KeyModifiers::NONE,
    ));
    let asked = effects
        .iter()
        .find_map(|e| e.job::<opsdesk::tui::panes::stats::FetchReport>())
        .map(|f| f.asked)
        .expect("the pane asks for its report");
    (app, asked)
}

/// From the report's arrival to the Stats pane's first frame drawn at 120×40: its median
/// over `RUNS` fresh workstations.
fn stats_first_frame(report: &opsdesk::domain::report::Report, now: DateTime<Utc>) -> Duration {
    use opsdesk::tui::app::Event;
    use opsdesk::tui::panes::PaneId;
    use opsdesk::tui::panes::stats::ReportLoaded;
    let env = opsdesk::tui::theme::ThemeEnv {
        no_color: false,
        truecolor: false,
    };
    let theme = opsdesk::tui::theme::Theme::load(Some("default"), None, &env)
        .expect("a theme")
        .0;
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let (mut app, asked) = stats_waiting(now);
        let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40))
            .expect("a terminal");
        let report = report.clone();
        let began = Instant::now();
        app.update(Event::Loaded {
            pane: PaneId::STATS,
            loaded: Box::new(ReportLoaded {
                asked,
                result: Ok(report),
            }),
        });
        terminal
            .draw(|f| opsdesk::tui::view::draw(f, &mut app, &theme))
            .expect("a frame");
        times.push(began.elapsed());
    }
    median(times)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let desk = desk(&rt);
    let handler = rt
        .block_on(
            desk.store
                .write(|ctx| match users::by_username(ctx.conn, "h_bench")? {
                    Some(u) => Ok(u),
                    None => users::insert(
                        ctx.conn,
                        "h_bench",
                        "h_bench",
                        Role::Handler,
                        None,
                        None,
                        ctx.now,
                    ),
                }),
        )
        .expect("a handler");
    let now: DateTime<Utc> = "2026-11-30T04:00:00Z".parse().expect("a time");
    let last_full = measured_week().previous();
    let weekly = || desk.report(&handler, ReportKind::Weekly, Some(last_full), now);
    let year = last_full.last(52);
    let trend = || {
        let year = year.clone();
        desk.store.read(move |conn| reports::trend(conn, &year))
    };
    let report = rt.block_on(weekly()).expect("a weekly report");
    eprintln!(
        "{}: {} tickets, {} the week before, {} open at its end",
        report.period, report.figures.total.now, report.figures.total.before, report.backlog.open
    );

    breakdown(&rt, &desk, last_full, now);

    let mut c = Criterion::default().configure_from_args().sample_size(20);
    let mut group = c.benchmark_group("reports");
    group.bench_function("weekly_report_1m", |b| b.to_async(&rt).iter(weekly));
    group.bench_function("trend_52_weeks_1m", |b| b.to_async(&rt).iter(trend));
    group.finish();
    c.final_summary();

    let (mut w, mut t) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let began = Instant::now();
        rt.block_on(weekly()).expect("a weekly report");
        w.push(began.elapsed());
        let began = Instant::now();
        rt.block_on(trend()).expect("a trend");
        t.push(began.elapsed());
    }
    println!("median over {RUNS} interleaved runs on {TICKETS} tickets:");
    println!("  weekly report     {:>8.1?}  (target ≤ 50 ms)", median(w));
    println!("  52-week trend     {:>8.1?}  (target ≤ 200 ms)", median(t));
    println!(
        "  Stats first frame {:>8.1?}  (target ≤ 100 ms; from the report's arrival, 120×40)",
        stats_first_frame(&report, now)
    );
    if let Some(mib) = common::peak_rss_mib() {
        println!("  peak memory       {mib:>8.1} MiB (the whole bench process)");
    }
    desk.store.shutdown();
}
