//! The Stats pane on ratatui's TestBackend: the sample weekly report (with hostile text in a
//! title and a handler's name) fed to the pane as its fetch would deliver it, at 80×24 and
//! 120×40, in the default and mono themes and under NO_COLOR; the empty period, a refusal
//! that keeps the last good report, the page scrolled; and a drill-down reaching the queue.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdesk::config::default_systems;
use opsdesk::domain::report::Report;
use opsdesk::domain::report::figures::Count;
use opsdesk::tui::app::{App, Event, LinkState};
use opsdesk::tui::keymap::Keymap;
use opsdesk::tui::panes::PaneId;
use opsdesk::tui::panes::queue::{Found, Queue, Search};
use opsdesk::tui::panes::stats::{FetchReport, ReportLoaded, StatsPane};
use opsdesk::tui::theme::{Theme, ThemeEnv};
use opsdesk::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

/// 2026-11-24 10:00 in Shanghai, the Tuesday after the sample's week.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap()
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn special(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn theme(name: &str, no_color: bool) -> Theme {
    let env = ThemeEnv {
        no_color,
        truecolor: false,
    };
    Theme::load(Some(name), None, &env).unwrap().0
}

fn app() -> App {
    let (keymap, warnings) = Keymap::load("default", None).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let mut app = App::new(
        keymap,
        default_systems(),
        chrono_tz::Asia::Shanghai,
        "http://127.0.0.1:7878".into(),
        true,
        now(),
    );
    app.update(Event::SignedIn {
        me: Some("h_chen".into()),
        last_seq: 0,
    });
    app.update(Event::Link(LinkState::Live));
    app
}

/// The number of the fetch the pane just asked for.
fn asked(effects: &[opsdesk::tui::effect::Effect]) -> u64 {
    effects
        .iter()
        .find_map(|e| e.job::<FetchReport>())
        .map(|f| f.asked)
        .expect("a fetch")
}

/// The workstation on the Stats pane with `report` loaded, as its fetch would bring it.
fn with(report: Report) -> App {
    let mut a = app();
    let effects = a.on_key(key('6'));
    let asked = asked(&effects);
    a.update(Event::Loaded {
        pane: PaneId::STATS,
        loaded: Box::new(ReportLoaded {
            asked,
            result: Ok(report),
        }),
    });
    a
}

fn screen(a: &mut App, t: &Theme, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| view::draw(f, a, t)).unwrap();
    terminal
}

fn text(a: &mut App, t: &Theme, w: u16, h: u16) -> String {
    screen(a, t, w, h).backend().to_string()
}

/// The sample's week with nothing in it.
fn empty_week() -> Report {
    let mut r = common::report::sample_report();
    r.empty = true;
    let f = &mut r.figures;
    f.total = Count {
        now: 0,
        before: 154,
    };
    f.by_category.clear();
    f.by_subcategory.clear();
    f.by_system.clear();
    f.by_channel.clear();
    f.consultation_share = None;
    f.resolved = 0;
    f.resolved_in_time = 0;
    f.resolution_rate = None;
    f.timely_resolution_rate = None;
    f.workload.clear();
    r.daily.iter_mut().for_each(|d| d.tickets = 0);
    r.recurring.clear();
    if let Some(last) = r.trend.last_mut() {
        *last = Default::default();
        last.period = "2026-W47".into();
    }
    r
}

#[test]
fn the_sample_week_at_80x24_and_120x40() {
    for (name, w, h) in [("80x24", 80, 24), ("120x40", 120, 40)] {
        for theme_name in ["default", "mono"] {
            let t = theme(theme_name, false);
            let mut a = with(common::report::sample_report());
            let shown = text(&mut a, &t, w, h);
            insta::assert_snapshot!(format!("stats_{name}_{theme_name}"), shown);
            // The foot of the page: sessions, topics, definitions and notes.
            a.on_key(key('G'));
            let bottom = text(&mut a, &t, w, h);
            insta::assert_snapshot!(format!("stats_bottom_{name}_{theme_name}"), bottom);
        }
    }
}

#[test]
fn the_cursor_walks_the_bars_and_problems_and_the_page_follows() {
    let t = theme("default", false);
    let mut a = with(common::report::sample_report());
    // Past the categories and systems: the first recurring problem, in view.
    for _ in 0..9 {
        a.on_key(key('j'));
    }
    let shown = text(&mut a, &t, 80, 24);
    assert!(shown.contains("› "), "{shown}");
    insta::assert_snapshot!("stats_recurring_80x24_default", shown);
    // The hostile title is there, as text.
    for _ in 0..3 {
        a.on_key(key('j'));
    }
    let shown = text(&mut a, &t, 80, 24);
    assert!(shown.contains("<script>alert(1)</script>"), "{shown}");
    // Up again to the top: the figures are back.
    a.on_key(key('g'));
    a.on_key(key('g'));
    assert!(text(&mut a, &t, 80, 24).contains("总量 tickets"));
}

#[test]
fn an_empty_period_says_so_plainly() {
    for (name, w, h) in [("80x24", 80, 24), ("120x40", 120, 40)] {
        let t = theme("default", false);
        let mut a = with(empty_week());
        let shown = text(&mut a, &t, w, h);
        assert!(
            shown.contains("本期没有事件 no tickets in this period"),
            "{shown}"
        );
        insta::assert_snapshot!(format!("stats_empty_{name}_default"), shown);
    }
}

#[test]
fn loading_and_a_refusal_keep_the_last_good_report() {
    let t = theme("default", false);
    let mut a = app();
    a.on_key(key('6'));
    let loading = text(&mut a, &t, 80, 24);
    assert!(loading.contains("载入中 loading"), "{loading}");
    insta::assert_snapshot!("stats_loading_80x24_default", loading);

    let mut a = with(common::report::sample_report());
    let effects = a.on_key(key(']'));
    assert!(
        effects.is_empty(),
        "nothing after the week now running: {effects:?}"
    );
    a.on_key(key('['));
    let effects = a.on_key(key('['));
    let asked = asked(&effects);
    assert!(text(&mut a, &t, 80, 24).contains("载入中 loading 周报 2026-W46"));
    a.update(Event::Loaded {
        pane: PaneId::STATS,
        loaded: Box::new(ReportLoaded {
            asked,
            result: Err("服务器没有这一期 no such period (422 invalid_period)".into()),
        }),
    });
    let refused = text(&mut a, &t, 80, 24);
    assert!(refused.contains("未能载入"), "{refused}");
    assert!(
        refused.contains("总量 tickets"),
        "the last report stays: {refused}"
    );
    insta::assert_snapshot!("stats_refused_80x24_default", refused);
    let pane = a.pane::<StatsPane>().expect("the stats pane");
    assert!(pane.problem().is_some());
}

#[test]
fn no_colour_carries_meaning_under_no_color_and_mono() {
    for (t, label) in [
        (theme("default", true), "NO_COLOR"),
        (theme("mono", false), "mono"),
    ] {
        let mut a = with(common::report::sample_report());
        let term = screen(&mut a, &t, 120, 40);
        for cell in term.backend().buffer().content() {
            assert!(matches!(cell.fg, Color::Reset), "{label} used a colour");
            assert!(matches!(cell.bg, Color::Reset), "{label} set a background");
        }
        let shown = term.backend().to_string();
        for mark in ["▼", "█", "›"] {
            assert!(shown.contains(mark), "{label} lacks {mark}: {shown}");
        }
    }
}

#[test]
fn enter_on_a_bar_lists_its_tickets_in_the_queue() {
    let t = theme("default", false);
    let mut a = with(common::report::sample_report());
    let effects = a.on_key(special(KeyCode::Enter));
    assert_eq!(a.focus(), PaneId::QUEUE);
    let Some(Search(query)) = effects.iter().find_map(|e| e.job::<Search>()) else {
        panic!("no search: {effects:?}")
    };
    assert_eq!(query.describe(), "咨询类 · 2026-W47");
    // The queue's own job answers the queue: its title says what it lists.
    a.update(Event::Loaded {
        pane: PaneId::QUEUE,
        loaded: Box::new(Found {
            query: query.clone(),
            result: Ok((Vec::new(), 0)),
        }),
    });
    let queue = a.pane::<Queue>().expect("the queue");
    assert_eq!(queue.found.as_ref().map(|f| &f.0), Some(query));
    let shown = text(&mut a, &t, 80, 24);
    assert!(shown.contains("咨询类 · 2026-W47"), "{shown}");
}

#[test]
fn n_opens_the_session_form_in_the_shared_editor() {
    let t = theme("default", false);
    let mut a = with(common::report::sample_report());
    a.on_key(key('n'));
    let shown = text(&mut a, &t, 80, 24);
    assert!(shown.contains("记录知识分享"), "{shown}");
    assert!(shown.contains("held_on = \"2026-11-24\""), "{shown}");
    insta::assert_snapshot!("stats_session_form_80x24_default", shown);
}
