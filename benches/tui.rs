//! The workstation's benchmarks (issues 5 and 10): `cargo bench --bench tui`.
//!
//! Timed by criterion:
//! - `render/queue_*`: one frame of the queue (`view::render` into a reset `Buffer`) with
//!   10,000 open tickets at 120×40 and 80×24, and with 40 and 1,000 for the scaling.
//! - `queue_refresh/*`: re-sorting and re-filtering 10,000 and 100,000 open tickets, which
//!   every live change and every key typed into the filter triggers.
//! - `live/*`: a `ticket.updated` applied to the `App` (10k and 100k open), alone and followed
//!   by a draw through ratatui's diffing `Terminal` over a crossterm backend that writes into a
//!   byte counter; a clock tick followed by a draw.
//! - `cold_start/100k_open_rows/*`: 100,000 open tickets' queue rows read from a real cache
//!   file, taken by a new `App` and drawn once; and the reading alone. In process, so warm.
//!
//! Printed first when run by `cargo bench` (`--bench` on the command line):
//! - the bytes each kind of live update writes to the terminal, against a full paint;
//! - cold start to the first frame and resident memory with 100,000 cached tickets (10,000 and
//!   100,000 of them open), each run in a fresh child process (this binary again, with
//!   `OPSDESK_TUI_BENCH_CHILD` set) reading a `client::cache` file as `tui::run` would, and
//!   reporting phase times and VmRSS / VmHWM from /proc/self/status.
//!
//! The tickets are deterministic and varied: CJK titles of many lengths, all four priorities,
//! every configured system, every open status (paused clocks included), read at a fixed clock.

use std::cell::Cell;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{Criterion, SamplingMode};
use opsdesk::client::cache::Cache;
use opsdesk::client::row::QueueRow;
use opsdesk::config::{Settings, default_systems};
use opsdesk::domain::mask::{AccountNo, CustomerName, Phone};
use opsdesk::domain::sla::SlaPause;
use opsdesk::domain::ticket::{
    Category, Channel, Customer, Priority, Status, Ticket, TicketId, TransferTarget,
};
use opsdesk::domain::validate::NewTicket;
use opsdesk::domain::view::{Change, SlaContext, TicketView, ticket_view};
use opsdesk::tui::app::{App, Event, LinkState};
use opsdesk::tui::keymap::Keymap;
use opsdesk::tui::panes::queue::{Queue, SortKey};
use opsdesk::tui::theme::{Theme, ThemeEnv};
use opsdesk::tui::view;
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

const ME: &str = "h_chen";
const OPEN: usize = 10_000;
const CACHED: usize = 100_000;
const CHILD_ENV: &str = "OPSDESK_TUI_BENCH_CHILD";
const SIZES: [(u16, u16); 2] = [(120, 40), (80, 24)];

/// 2026-11-24 10:00 in Shanghai, a Tuesday inside working hours (as in tests/tui.rs).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Tickets: deterministic, varied (CJK titles of many lengths, every priority, all systems,
// every open status, some paused clocks), built through the same `ticket_view` the server uses.
// ---------------------------------------------------------------------------------------------

const SUBJECTS: &[&str] = &[
    "委托下单提示资金不足",
    "开户视频见证一直排队",
    "三方存管银行卡绑定失败",
    "行情刷新延迟",
    "融资融券担保比例显示异常",
    "登录验证码收不到",
    "APP 闪退",
    "银证转账失败",
    "理财产品赎回资金未到账",
    "清算对账差异",
    "港股通额度查询报错",
    "条件单未触发",
    "新股申购配号缺失",
    "密码重置短信超时",
    "ETF 申购失败",
    "撤单无响应",
];

const DETAILS: &[&str] = &[
    "",
    "",
    "，客户反映看盘卡顿严重",
    "（600519）",
    "，已重试三次仍然失败",
    "，多名客户同时反映",
    " 错误码 E10023",
    "，营业部经理催办，希望尽快处理",
    "，iOS 17.2",
    "，仅限上午开盘后",
];

const SENTENCES: &[&str] = &[
    "客户 310012345678 今天 10:05 在 APP 买入 600519 提示“可用资金不足”。",
    "实际可用资金 5 万元，已重新登录仍然失败。",
    "客户来电说忘记了自己的资金账号，APP 也登不上，问怎么找回。",
    "营业部反映同一时段有多名客户遇到相同问题，截图已附在工单里。",
    "客户情绪比较激动，要求今天内给出答复，否则要投诉到监管。",
    "已请客户清除缓存并升级到最新版本，问题依旧。",
    "后台查询委托流水未见该笔委托，怀疑请求没有到达柜台。",
    "【客服热线转入 KF20261001503】请协助排查。",
];

const HANDLERS: &[&str] = &["h_chen", "h_huang", "h_li", "h_zhou", "h_wu", "h_zhao"];
const NAMES: &[&str] = &["王小明", "何明辉", "李娜", "欧阳建国", "张三"];

fn mix(mut x: u64) -> u64 {
    // splitmix64
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

struct Fixtures {
    settings: Settings,
    systems: Vec<String>,
}

impl Fixtures {
    fn new() -> Fixtures {
        Fixtures {
            settings: Settings::default(),
            systems: default_systems().into_iter().map(|s| s.key).collect(),
        }
    }

    /// Ticket `id`, open or (resolved/closed) done, read at `now()`.
    fn ticket(&self, id: TicketId, open: bool) -> TicketView {
        let h = mix(id as u64);
        let h2 = mix(h);
        let pick = |n: usize, shift: u32| ((h >> shift) as usize) % n;
        let pick2 = |n: usize, shift: u32| ((h2 >> shift) as usize) % n;
        let subject = SUBJECTS[pick(SUBJECTS.len(), 10)];
        let d1 = DETAILS[pick(DETAILS.len(), 16)];
        let d2 = if pick(3, 22) == 0 {
            DETAILS[pick(DETAILS.len(), 26)]
        } else {
            ""
        };
        let title: String = format!("{subject}{d1}{d2}").chars().take(64).collect();
        let sentences = 1 + pick2(5, 0);
        let first = pick2(SENTENCES.len(), 8);
        let description: String = (0..sentences)
            .map(|k| SENTENCES[(first + k) % SENTENCES.len()])
            .collect();
        let name = NAMES[pick2(NAMES.len(), 16)];
        let new = NewTicket {
            title,
            description,
            system: self.systems[pick(self.systems.len(), 4)].clone(),
            customer: Customer {
                name: Some(CustomerName::new(name)),
                account: Some(AccountNo::new(format!("3100{:08}", h % 100_000_000))),
                phone: Some(Phone::new(format!("138{:08}", h2 % 100_000_000))),
                id_number: None,
            },
            category: Some(Category::ALL[pick(Category::ALL.len(), 30)]),
            priority: Some(Priority::ALL[pick(4, 0)]),
            ..Default::default()
        };
        // Open tickets are up to 20 hours old (so countdowns on screen count in minutes); done
        // ones up to two years.
        let secs_ago = if open {
            (pick2(1_200, 20) * 60 + pick2(60, 36)) as i64
        } else {
            (pick2(1_000_000, 20) * 60 + pick2(60, 36)) as i64
        };
        let created = now() - chrono::Duration::seconds(secs_ago);
        let mut t = Ticket::open(new, Channel::Mss, "cm_wang".into(), created);
        t.id = id;
        t.version = 1 + pick2(6, 44) as i64;
        let after = |secs: i64| created + chrono::Duration::seconds(secs.min(secs_ago));
        t.status = if open {
            match pick2(20, 48) {
                0..=4 => Status::New,
                5..=12 => Status::Triaging,
                13..=15 => Status::WaitingSubmitter,
                _ => Status::Transferred,
            }
        } else if pick2(10, 48) < 3 {
            Status::Resolved
        } else {
            Status::Closed
        };
        if t.status != Status::New {
            t.assignee = Some(HANDLERS[pick2(HANDLERS.len(), 52)].to_string());
            t.first_responded_at = Some(after(600 + pick2(3_000, 54) as i64));
            t.updated_at = after(3_600);
        }
        match t.status {
            Status::WaitingSubmitter => t.sla_pauses.push(SlaPause {
                from: after(3_600),
                until: None,
            }),
            Status::Transferred => {
                t.transfer_to = Some(TransferTarget::ALL[pick2(TransferTarget::ALL.len(), 58)]);
                t.transfer_note = Some("疑似组件：柜台网关\n证据：ELK 10:05 委托请求超时".into());
            }
            Status::Resolved | Status::Closed => {
                t.resolved_at = Some(after(7_200 + pick2(80_000, 30) as i64));
                t.resolution = Some(
                    "忘记资金账号：APP 登录页“找回资金账号”通过证件号+预留手机验证码找回，\
                     或由客户经理提交身份信息代查。"
                        .into(),
                );
                if t.status == Status::Closed {
                    t.closed_at = Some(after(300_000));
                }
            }
            _ => {}
        }
        let sla = SlaContext {
            policy: &self.settings.sla,
            calendar: &self.settings.calendar,
        };
        ticket_view(&t, Vec::new(), &sla, now())
    }

    fn open_tickets(&self, n: usize) -> Vec<TicketView> {
        (1..=n as TicketId)
            .map(|id| self.ticket(id, true))
            .collect()
    }

    /// One in ten cached tickets is open.
    fn cached(&self, id: TicketId) -> TicketView {
        self.ticket(id, id % 10 == 0)
    }
}

fn theme() -> Theme {
    let env = ThemeEnv {
        no_color: false,
        truecolor: false,
    };
    Theme::load(Some("default"), None, &env).expect("theme").0
}

fn new_app() -> App {
    let (keymap, warnings) = Keymap::load("default", None).expect("keymap");
    assert!(warnings.is_empty());
    let mut app = App::new(
        keymap,
        default_systems(),
        chrono_tz::Asia::Shanghai,
        "http://127.0.0.1:7878".into(),
        true,
        now(),
    );
    app.update(Event::SignedIn {
        me: Some(ME.into()),
        last_seq: 0,
    });
    app.update(Event::Link(LinkState::Live));
    app
}

fn app_with(tickets: Vec<TicketView>) -> App {
    let mut app = new_app();
    app.on_tickets(tickets);
    app
}

// ---------------------------------------------------------------------------------------------
// A terminal that counts what ratatui writes to it.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Counter(Rc<Cell<u64>>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.set(self.0.get() + buf.len() as u64);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

type CountingTerminal = Terminal<CrosstermBackend<Counter>>;

fn counting_terminal(w: u16, h: u16) -> (CountingTerminal, Counter) {
    let counter = Counter::default();
    let terminal = Terminal::with_options(
        CrosstermBackend::new(counter.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
        },
    )
    .expect("terminal");
    (terminal, counter)
}

/// Draws like the real loop and returns the bytes written.
fn draw(terminal: &mut CountingTerminal, counter: &Counter, app: &mut App, theme: &Theme) -> u64 {
    let before = counter.0.get();
    terminal.draw(|f| view::draw(f, app, theme)).expect("draw");
    counter.0.get() - before
}

fn change(kind: &str, seq: i64, t: &TicketView) -> Change {
    Change {
        seq,
        at: now(),
        kind: kind.into(),
        ticket_id: Some(t.id),
        actor: "h_huang".into(),
        data: serde_json::to_value(t).expect("json"),
    }
}

/// The earliest due on screen, to place a ticket before it.
/// The clock moves (the 1 Hz tick).
fn tick(app: &mut App, now: DateTime<Utc>) {
    app.update(Event::Tick(now));
}

/// The queue pane of the app.
fn rows_of(app: &App) -> &Queue {
    app.pane::<Queue>().expect("the queue pane")
}

fn first_due(app: &App) -> DateTime<Utc> {
    app.desk
        .tickets
        .row(rows_of(app).rows[0])
        .expect("row")
        .clock
        .due
}

/// The full view of the ticket at `place` in the queue, from the fixtures (the desk keeps a
/// bounded number of full views; ids are 1-based places in `open`).
fn view_at(app: &App, open: &[TicketView], place: usize) -> TicketView {
    let id = rows_of(app).rows[place];
    open[id as usize - 1].clone()
}

fn set_due(t: &mut TicketView, due: DateTime<Utc>) {
    let clock = if t.first_responded_at.is_none() {
        &mut t.sla.first_response
    } else {
        &mut t.sla.resolve
    };
    clock.due = due;
    clock.remaining_secs = (due - now()).num_seconds();
    clock.state = if clock.remaining_secs <= 0 {
        "breached"
    } else {
        "running"
    }
    .into();
}

/// Bytes each kind of live update writes after a full first paint, at one screen size.
fn update_bytes(fx: &Fixtures, open: &[TicketView], w: u16, h: u16) -> Vec<(String, u64)> {
    let theme = theme();
    let page = usize::from(h) - 5;
    type Step<'a> = Box<dyn Fn(&mut App) + 'a>;
    let new_id = (OPEN + 1) as TicketId;
    let steps: Vec<(String, Step<'_>)> = vec![
        (
            "full first paint (reference)".into(),
            Box::new(|_: &mut App| {}),
        ),
        (
            "ticket.updated: a visible ticket's priority (row keeps its place)".into(),
            Box::new(|app: &mut App| {
                let mut t = view_at(app, open, 2);
                t.priority = if t.priority == Priority::P1 {
                    Priority::P3
                } else {
                    Priority::P1
                };
                t.version += 1;
                app.on_change(&change("ticket.updated", 1, &t));
                assert_eq!(rows_of(app).rows[2], t.id);
            }),
        ),
        (
            "ticket.updated: priority raised, SLA now first (row moves up 10 places)".into(),
            Box::new(|app: &mut App| {
                let due = first_due(app) - chrono::Duration::seconds(60);
                let mut t = view_at(app, open, 10);
                t.priority = Priority::P1;
                t.version += 1;
                set_due(&mut t, due);
                app.on_change(&change("ticket.updated", 1, &t));
                assert_eq!(rows_of(app).rows[0], t.id);
            }),
        ),
        (
            "ticket.created below the visible page (count and toast change)".into(),
            Box::new(move |app: &mut App| {
                let mut t = fx.ticket(new_id, true);
                t.status = Status::New;
                let last = rows_of(app).rows[OPEN - 1];
                let last_due = app.desk.tickets.row(last).expect("row").clock.due;
                set_due(&mut t, last_due + chrono::Duration::hours(1));
                app.on_change(&change("ticket.created", 1, &t));
                let at = rows_of(app).rows.iter().position(|id| *id == new_id);
                assert!(at.is_some_and(|at| at > page));
            }),
        ),
        (
            "ticket.created at the top (every visible row shifts, toast)".into(),
            Box::new(move |app: &mut App| {
                let due = first_due(app) - chrono::Duration::seconds(60);
                let mut t = fx.ticket(new_id, true);
                t.status = Status::New;
                set_due(&mut t, due);
                app.on_change(&change("ticket.created", 1, &t));
                assert_eq!(rows_of(app).rows[0], new_id);
            }),
        ),
        (
            "ticket.updated of a ticket not on screen".into(),
            Box::new(move |app: &mut App| {
                let mut t = view_at(app, open, OPEN / 2);
                t.priority = if t.priority == Priority::P4 {
                    Priority::P3
                } else {
                    Priority::P4
                };
                t.version += 1;
                app.on_change(&change("ticket.updated", 1, &t));
            }),
        ),
        (
            "tick +1 s (countdowns only)".into(),
            Box::new(|app: &mut App| tick(app, now() + chrono::Duration::seconds(1))),
        ),
        (
            "tick +60 s (the minute turns on every running countdown)".into(),
            Box::new(|app: &mut App| tick(app, now() + chrono::Duration::seconds(60))),
        ),
    ];
    let mut out = Vec::new();
    for (i, (label, step)) in steps.iter().enumerate() {
        let mut app = app_with(open.to_vec());
        let (mut terminal, counter) = counting_terminal(w, h);
        let first = draw(&mut terminal, &counter, &mut app, &theme);
        if i == 0 {
            out.push((label.clone(), first));
            continue;
        }
        step(&mut app);
        out.push((
            label.clone(),
            draw(&mut terminal, &counter, &mut app, &theme),
        ));
    }
    // Nothing changed at all: what a redundant redraw costs.
    let mut app = app_with(open.to_vec());
    let (mut terminal, counter) = counting_terminal(w, h);
    draw(&mut terminal, &counter, &mut app, &theme);
    out.push((
        "redraw with nothing changed".into(),
        draw(&mut terminal, &counter, &mut app, &theme),
    ));
    out
}

fn report_bytes(fx: &Fixtures, open: &[TicketView]) {
    let per_size: Vec<Vec<(String, u64)>> = SIZES
        .iter()
        .map(|&(w, h)| update_bytes(fx, open, w, h))
        .collect();
    println!("\n## Bytes written to the terminal per update ({OPEN} open tickets, queue pane)\n");
    println!("| update | 120×40 | 80×24 |");
    println!("|---|---:|---:|");
    for (i, (label, bytes)) in per_size[0].iter().enumerate() {
        println!("| {label} | {bytes} B | {} B |", per_size[1][i].1);
    }
    println!();
}

// ---------------------------------------------------------------------------------------------
// Cold start and memory, in a fresh child process per run.
// ---------------------------------------------------------------------------------------------

/// VmRSS and VmHWM of this process, in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

const SERVER: &str = "http://127.0.0.1:7878";

/// The workstation's cache (`client::cache`) holding `tickets`, stored as a queue snapshot.
fn write_real_cache(path: &Path, tickets: &[TicketView]) {
    let mut cache = Cache::open(path, SERVER).expect("cache");
    cache.put_tickets(tickets, 1).expect("put tickets");
}

/// What one cold start measured, printed as one line of `key=value` for the parent.
struct Figures {
    start: Instant,
    rss_start: u64,
    /// VmRSS with the rows loaded, before the first frame is built.
    rss_loaded: u64,
    /// Opening the cache and reading every open ticket's queue row.
    read: Duration,
    /// `Event::Rows`: the desk takes the rows and the queue sorts them.
    load: Duration,
    paint: Duration,
    paint_bytes: u64,
    /// The first full view read back (the selected ticket's, as the queue fetches it).
    first_view: Duration,
    tickets: usize,
}

impl Figures {
    fn finish(self) -> ! {
        let (rss, hwm) = rss_kib();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "mode=cache total_ms={:.1} read_ms={:.1} load_ms={:.1} paint_ms={:.1} \
             first_view_ms={:.2} tickets={} paint_bytes={} rss_start_kib={} rss_loaded_kib={} \
             rss_kib={rss} hwm_kib={hwm}",
            ms(self.start.elapsed() - self.first_view),
            ms(self.read),
            ms(self.load),
            ms(self.paint),
            ms(self.first_view),
            self.tickets,
            self.paint_bytes,
            self.rss_start,
            self.rss_loaded,
        );
        let _ = io::stdout().flush();
        // Exit without dropping the tickets: a real start keeps them.
        std::process::exit(0)
    }
}

/// One cold start in a fresh process (`cache:path` in `OPSDESK_TUI_BENCH_CHILD`), as
/// `tui::run` does it: the cache's open rows → `Event::Rows` → the first frame through the
/// diffing terminal; then the selected ticket's full view read from the cache, as the queue's
/// fetch does right after.
fn child(path: &str) -> ! {
    let start = Instant::now();
    let (rss_start, _) = rss_kib();
    let theme = theme();
    let mut app = new_app();
    let s = Instant::now();
    let cache = Cache::open(Path::new(path), SERVER).expect("cache");
    let rows = cache.load_open_rows().expect("load");
    let read = s.elapsed();
    let tickets = rows.len();
    let s = Instant::now();
    app.update(Event::Rows {
        rows,
        replace: false,
    });
    let load = s.elapsed();
    let rss_loaded = rss_kib().0;
    let (w, h) = SIZES[0];
    let (mut terminal, counter) = counting_terminal(w, h);
    let s = Instant::now();
    let paint_bytes = draw(&mut terminal, &counter, &mut app, &theme);
    let paint = s.elapsed();
    let s = Instant::now();
    let selected = rows_of(&app).rows[0];
    let view = cache.ticket(selected).expect("read").expect("cached");
    app.update(Event::Tickets(vec![view]));
    let first_view = s.elapsed();
    // The workstation keeps both open.
    std::hint::black_box((&app, &cache));
    Figures {
        start,
        rss_start,
        rss_loaded,
        read,
        load,
        paint,
        paint_bytes,
        first_view,
        tickets,
    }
    .finish()
}

fn run_child(path: &Path) -> Vec<(String, f64)> {
    let exe = std::env::current_exe().expect("exe");
    let out = Command::new(exe)
        .env(CHILD_ENV, format!("cache:{}", path.display()))
        .output()
        .expect("child");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("mode="))
        .expect("child report");
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| v.parse().ok().map(|v| (k.to_string(), v)))
        .collect()
}

/// The cache files the cold starts read.
struct ColdFiles {
    /// 100k cached, 1 in 10 open.
    mixed: PathBuf,
    /// 100k cached, all open.
    all_open: PathBuf,
}

fn report_cold_start(files: &ColdFiles) {
    const RUNS: usize = 5;
    println!(
        "\n## Cold start to the first frame and resident memory, {CACHED} cached tickets, \
         a fresh process per run, median of {RUNS}\n"
    );
    println!(
        "| cache | open tickets | start → first frame | cache open + read rows | desk + sort | \
         first frame | then the selected ticket's full view | VmRSS at start | VmRSS loaded | \
         VmRSS after | peak (VmHWM) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let variants: [(&Path, &str); 2] = [
        (&files.mixed, "100k cached, 10k open"),
        (&files.all_open, "100k cached, all open"),
    ];
    for (path, about) in variants {
        let runs: Vec<Vec<(String, f64)>> = (0..RUNS).map(|_| run_child(path)).collect();
        let median = |key: &str| {
            let mut v: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.iter().find(|(k, _)| k == key).map(|(_, v)| *v))
                .collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let ms = |key: &str| format!("{:.0} ms", median(key));
        let mib = |key: &str| median(key) / 1024.0;
        println!(
            "| {about} | {} | {} | {} | {} | {} | {:.2} ms | {:.1} MiB | {:.0} MiB | {:.0} MiB | \
             {:.0} MiB |",
            median("tickets"),
            ms("total_ms"),
            ms("read_ms"),
            ms("load_ms"),
            ms("paint_ms"),
            median("first_view_ms"),
            mib("rss_start_kib"),
            mib("rss_loaded_kib"),
            mib("rss_kib"),
            mib("hwm_kib"),
        );
    }
    let size = |p: &Path| {
        let wal = p.with_extension("sqlite3-wal");
        [p, wal.as_path()]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum::<u64>() as f64
            / 1_048_576.0
    };
    println!(
        "\nsize_of::<QueueRow>() = {} B, size_of::<TicketView>() = {} B. Cache files: mixed \
         {:.0} MiB, all open {:.0} MiB.\n",
        std::mem::size_of::<QueueRow>(),
        std::mem::size_of::<TicketView>(),
        size(&files.mixed),
        size(&files.all_open),
    );
}

// ---------------------------------------------------------------------------------------------
// Criterion timings.
// ---------------------------------------------------------------------------------------------

fn render(c: &mut Criterion, open: &[TicketView]) {
    let theme = theme();
    let mut group = c.benchmark_group("render");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    for n in [40, 1_000, OPEN] {
        let mut app = app_with(open[..n].to_vec());
        for (w, h) in SIZES {
            if n != OPEN && w != 120 {
                continue;
            }
            let area = Rect::new(0, 0, w, h);
            let mut buf = Buffer::empty(area);
            group.bench_function(format!("queue_{n}/{w}x{h}"), |b| {
                b.iter(|| {
                    buf.reset();
                    view::render(area, &mut buf, &mut app, &theme);
                })
            });
        }
    }
    group.finish();
}

fn queue_refresh(c: &mut Criterion, sizes: &[(&str, &App)]) {
    let mut group = c.benchmark_group("queue_refresh");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let built = |app: &App, sort: SortKey, text: &str| {
        let mut queue = Queue::default();
        queue.sort = sort;
        queue.filter.text = text.into();
        queue.refresh(&app.desk.tickets, Some(ME));
        queue
    };
    for (size, app) in sizes {
        // Built afresh: a new sort, a filter picked, a key that widens the typed text.
        for (name, sort, text) in [
            ("sla_due", SortKey::SlaDue, ""),
            ("priority", SortKey::Priority, ""),
            ("age", SortKey::Age, ""),
            ("filter_text", SortKey::SlaDue, "行情"),
        ] {
            group.bench_function(format!("{name}/{size}"), |b| {
                b.iter_with_large_drop(|| built(app, sort, text))
            });
        }
        // A key that narrows the typed text: the list filters itself in place.
        group.bench_function(format!("filter_text_typed_on/{size}"), |b| {
            b.iter_batched(
                || built(app, SortKey::SlaDue, "行"),
                |mut queue| {
                    queue.filter.text.push('情');
                    queue.refresh(&app.desk.tickets, Some(ME));
                    queue
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn live(c: &mut Criterion, sizes: Vec<(&str, App, &[TicketView])>) {
    let theme = theme();
    let mut group = c.benchmark_group("live");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    for (size, mut app, open) in sizes {
        let mut t = view_at(&app, open, 2);
        t.version += 1;
        let changes: Vec<Change> = [Priority::P1, Priority::P2]
            .iter()
            .map(|p| {
                t.priority = *p;
                change("ticket.updated", 1, &t)
            })
            .collect();
        let mut i = 0usize;
        group.bench_function(format!("on_change/{size}"), |b| {
            b.iter(|| {
                i += 1;
                app.on_change(&changes[i % 2])
            })
        });
        let (w, h) = SIZES[0];
        let (mut terminal, counter) = counting_terminal(w, h);
        draw(&mut terminal, &counter, &mut app, &theme);
        group.bench_function(format!("on_change_and_draw/{size}/{w}x{h}"), |b| {
            b.iter(|| {
                i += 1;
                app.on_change(&changes[i % 2]);
                draw(&mut terminal, &counter, &mut app, &theme)
            })
        });
        group.bench_function(format!("tick_and_draw/{size}/{w}x{h}"), |b| {
            b.iter(|| {
                i += 1;
                tick(&mut app, now() + chrono::Duration::seconds(i as i64 % 120));
                draw(&mut terminal, &counter, &mut app, &theme)
            })
        });
    }
    group.finish();
}

/// In process (so warm): 100,000 open rows read from the cache, taken by a new `App` and
/// drawn once.
fn cold_start(c: &mut Criterion, all_open: &Path) {
    let theme = theme();
    let mut group = c.benchmark_group("cold_start");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(7));
    let (w, h) = SIZES[0];
    let area = Rect::new(0, 0, w, h);
    group.bench_function("100k_open_rows/read_load_first_frame", |b| {
        b.iter_with_large_drop(|| {
            let cache = Cache::open(all_open, SERVER).expect("cache");
            let mut app = new_app();
            app.update(Event::Rows {
                rows: cache.load_open_rows().expect("rows"),
                replace: false,
            });
            let mut buf = Buffer::empty(area);
            view::render(area, &mut buf, &mut app, &theme);
            (app, buf)
        })
    });
    group.bench_function("100k_open_rows/read_only", |b| {
        b.iter_with_large_drop(|| {
            Cache::open(all_open, SERVER)
                .expect("cache")
                .load_open_rows()
                .expect("rows")
        })
    });
    group.finish();
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        let (_, path) = spec.split_once(':').expect("mode:path");
        child(path);
    }
    let benching = std::env::args().any(|a| a == "--bench");
    let fx = Fixtures::new();
    let open = fx.open_tickets(OPEN);
    let dir = tempfile::tempdir().expect("temp dir");
    let files = ColdFiles {
        mixed: dir.path().join("mixed.sqlite3"),
        all_open: dir.path().join("all_open.sqlite3"),
    };
    let all_open = fx.open_tickets(CACHED);
    write_real_cache(&files.all_open, &all_open);
    if benching {
        let mixed: Vec<TicketView> = (1..=CACHED as TicketId).map(|id| fx.cached(id)).collect();
        write_real_cache(&files.mixed, &mixed);
        drop(mixed);
        report_bytes(&fx, &open);
        report_cold_start(&files);
    }
    let mut c = Criterion::default()
        .nresamples(20_000)
        .configure_from_args();
    render(&mut c, &open);
    let (small, large) = (app_with(open.clone()), app_with(all_open.clone()));
    queue_refresh(&mut c, &[("10k", &small), ("100k", &large)]);
    live(
        &mut c,
        vec![("10k", small, &open), ("100k", large, &all_open)],
    );
    cold_start(&mut c, &files.all_open);
    c.final_summary();
}
