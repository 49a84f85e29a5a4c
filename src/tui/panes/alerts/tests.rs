//! The Alerts pane with no terminal and no network: what each key asks the server for, how
//! the list follows the change stream, and the pane drawn on ratatui's TestBackend (insta
//! snapshots at 80×24 and 120×40): the alerts firing, acknowledged and resolved; one close up
//! with its masked rows and its incident's tickets; no alerts; the monitors with a refused one.

use chrono::{DateTime, Duration as TimeDelta, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

use super::*;
use crate::api::monitors::LinkedTicket;
use crate::domain::ticket::Status;
use crate::tui::app::{App, Event, LinkState};
use crate::tui::keymap::Keymap;
use crate::tui::theme::{Theme, ThemeEnv};

/// 2026-12-08 10:30 in Shanghai.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 8, 2, 30, 0).unwrap()
}

fn alert(id: i64, monitor: &str, state: AlertState) -> Alert {
    Alert {
        id,
        version: 1,
        monitor: monitor.into(),
        title: format!("{monitor} 的告警"),
        state,
        summary: String::new(),
        value: None,
        first_at: now() - TimeDelta::minutes(30 + id),
        last_at: now() - TimeDelta::minutes(3),
        evaluations: 1,
        rows: 0,
        acknowledged_by: None,
        acknowledged_at: None,
        resolved_by: None,
        resolved_at: None,
        silenced_until: None,
        silenced_by: None,
        ticket_id: None,
    }
}

/// The demo's consistency alert: five cards disagree, its incident #230 open.
fn cards() -> Alert {
    Alert {
        version: 4,
        title: "股东卡状态核对：账户系统 vs 交易系统".into(),
        summary: "demo-accounts 与 demo-trading 不一致 5 条：字段不同 3，仅demo-accounts有 1，仅demo-trading有 1 · 5 mismatches in 1 fields (status) of 412 / 412 rows".into(),
        value: Some(5.0),
        evaluations: 4,
        rows: 5,
        ticket_id: Some(230),
        first_at: now() - TimeDelta::minutes(25),
        ..alert(3, "card-consistency", AlertState::Firing)
    }
}

fn volume() -> Alert {
    Alert {
        version: 7,
        title: "开户量低于基线 opening volume below baseline".into(),
        summary: "今日开户 41，低于同期基线 118 的 50% · 41 openings today, under half the baseline of 118".into(),
        value: Some(41.0),
        evaluations: 6,
        acknowledged_by: Some("h_wang".into()),
        acknowledged_at: Some(now() - TimeDelta::minutes(20)),
        silenced_until: Some(now() + TimeDelta::hours(2)),
        silenced_by: Some("h_wang".into()),
        ..alert(2, "opening-volume", AlertState::Acknowledged)
    }
}

fn channels() -> Alert {
    Alert {
        version: 9,
        summary: "渠道分布恢复 · the channel mix is back to normal".into(),
        evaluations: 3,
        resolved_at: Some(now() - TimeDelta::hours(1)),
        first_at: now() - TimeDelta::hours(3),
        ..alert(1, "opening-channels", AlertState::Resolved)
    }
}

/// Listed in the server's order (open ones newest first, then resolved).
fn listed() -> Vec<Alert> {
    vec![cards(), volume(), channels()]
}

fn linked(id: i64, title: &str, status: Status, matched: Option<&str>) -> LinkedTicket {
    LinkedTicket {
        id,
        title: title.into(),
        status,
        submitter: "cm_li".into(),
        matched: matched.map(str::to_string),
    }
}

fn cell(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// The consistency alert close up, masked as the server sends it.
fn cards_detail(revealed: bool) -> AlertDetail {
    let key = |full: &str, masked: &str| cell(if revealed { full } else { masked });
    AlertDetail {
        alert: cards(),
        columns: ["key", "problem", "field", "demo-accounts", "demo-trading"]
            .map(String::from)
            .to_vec(),
        rows: vec![
            vec![
                key("310124778410-北交所", "3101****8410-北交所"),
                cell("仅demo-accounts有 only in demo-accounts"),
                None,
                cell("正常"),
                None,
            ],
            vec![
                key("320191156407-沪A", "3201****6407-沪A"),
                cell("仅demo-trading有 only in demo-trading"),
                None,
                None,
                cell("正常"),
            ],
            vec![
                key("330121523196-沪A", "3301****3196-沪A"),
                cell("不一致 differs"),
                cell("status"),
                cell("正常"),
                cell("未指定"),
            ],
            vec![
                key("337183750323-沪A", "3371****0323-沪A"),
                cell("不一致 differs"),
                cell("status"),
                cell("正常"),
                cell("冻结"),
            ],
            vec![
                key("341145944631-北交所", "3411****4631-北交所"),
                cell("不一致 differs"),
                cell("status"),
                cell("正常"),
                cell("挂失"),
            ],
        ],
        revealed,
        linked: vec![linked(
            188,
            "股东卡状态显示冻结，无法交易",
            Status::Triaging,
            Some("account"),
        )],
        candidates: vec![
            linked(
                140,
                "沪A股东卡显示未指定，无法买入",
                Status::New,
                Some("account"),
            ),
            linked(
                141,
                "<b>股东账户状态</b>异常：客户反映北交所股东卡在交易端查不到，柜台显示正常，请尽快核实处理",
                Status::New,
                Some("keyword"),
            ),
        ],
    }
}

fn monitor(name: &str, kind: &str, outcome: Option<Outcome>) -> MonitorInfo {
    MonitorInfo {
        name: name.into(),
        title: format!("{name} title"),
        kind: kind.into(),
        schedule: "*/10 * * * *".into(),
        sources: vec!["demo-accounts".into(), "demo-trading".into()],
        enabled: true,
        error: None,
        next_at: Some(now() + TimeDelta::minutes(10)),
        last: outcome.map(|outcome| EvaluationRecord {
            id: 40,
            monitor: name.into(),
            started_at: now() - TimeDelta::minutes(3),
            duration_ms: 41,
            outcome,
            value: Some(5.0),
            summary: "5 mismatches".into(),
            alert_id: (outcome == Outcome::Firing).then_some(3),
        }),
        open_alert: (outcome == Some(Outcome::Firing)).then_some(3),
    }
}

fn monitor_list() -> Vec<MonitorInfo> {
    let mut refused = monitor("margin-ratio", "", None);
    refused.error =
        Some("monitors/margin-ratio.toml:7: source 'margin' is not a configured sql source".into());
    refused.next_at = None;
    vec![
        monitor("card-consistency", "consistency", Some(Outcome::Firing)),
        refused,
        monitor("opening-volume", "baseline", Some(Outcome::Ok)),
        monitor("opening-channels", "distribution", Some(Outcome::Error)),
    ]
}

fn history() -> Vec<EvaluationRecord> {
    (0..4)
        .map(|i| EvaluationRecord {
            id: 40 - i,
            monitor: "card-consistency".into(),
            started_at: now() - TimeDelta::minutes(3 + 10 * i),
            duration_ms: 38 + i,
            outcome: Outcome::Firing,
            value: Some(5.0),
            summary: "demo-accounts 与 demo-trading 不一致 5 条 · 5 mismatches".into(),
            alert_id: Some(3),
        })
        .collect()
}

// ----- the app around the pane

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn special(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn theme(name: &str) -> Theme {
    let env = ThemeEnv {
        no_color: false,
        truecolor: false,
    };
    Theme::load(Some(name), None, &env).unwrap().0
}

fn jobs<T: crate::tui::effect::Job>(effects: &[Effect]) -> Vec<&T> {
    effects.iter().filter_map(|e| e.job::<T>()).collect()
}

/// Signed in: the alerts are asked for at once, before the pane is visited.
fn signed_in() -> (App, u64) {
    let (keymap, warnings) = Keymap::load("default", None).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let mut a = App::new(
        keymap,
        crate::config::default_systems(),
        chrono_tz::Asia::Shanghai,
        "http://127.0.0.1:7878".into(),
        true,
        now(),
    );
    let effects = a.update(Event::SignedIn {
        me: Some("h_chen".into()),
        last_seq: 0,
    });
    a.update(Event::Link(LinkState::Live));
    let list = jobs::<ListAlerts>(&effects);
    assert_eq!(list.len(), 1, "{effects:?}");
    (a, list[0].asked)
}

fn loaded(a: &mut App, what: impl std::any::Any + Send) -> Vec<Effect> {
    a.update(Event::Loaded {
        pane: PaneId::ALERTS,
        loaded: Box::new(what),
    })
}

fn pane(a: &App) -> &AlertsPane {
    a.pane::<AlertsPane>().expect("the alerts pane")
}

/// The workstation on pane 7 with `alerts` listed.
fn with(alerts: Vec<Alert>) -> App {
    let (mut a, asked) = signed_in();
    let effects = a.on_key(key('7'));
    assert_eq!(a.focus(), PaneId::ALERTS);
    assert!(
        jobs::<ListAlerts>(&effects).is_empty(),
        "listed once: {effects:?}"
    );
    loaded(
        &mut a,
        AlertsListed {
            asked,
            result: Ok(alerts),
        },
    );
    a
}

fn on_pane() -> App {
    with(listed())
}

/// The consistency alert open close up, as its fetch brings it.
fn reading() -> App {
    let mut a = on_pane();
    let effects = a.on_key(special(KeyCode::Enter));
    let fetch = jobs::<FetchAlert>(&effects);
    assert_eq!(fetch.len(), 1, "{effects:?}");
    assert_eq!((fetch[0].id, fetch[0].reveal), (3, false));
    let asked = fetch[0].asked;
    loaded(
        &mut a,
        AlertLoaded {
            id: 3,
            asked,
            result: Ok(cards_detail(false)),
        },
    );
    a
}

fn text(a: &mut App, t: &Theme, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| crate::tui::view::draw(f, a, t)).unwrap();
    terminal.backend().to_string()
}

fn toasts(a: &App) -> String {
    a.toasts
        .iter()
        .map(|t| t.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

fn change(seq: i64, kind: &str, alert: &Alert) -> Event {
    Event::Change(Box::new(Change {
        seq,
        at: now(),
        kind: kind.into(),
        ticket_id: None,
        actor: "monitor".into(),
        data: serde_json::to_value(alert).unwrap(),
    }))
}

const SIZES: [(&str, u16, u16); 2] = [("80x24", 80, 24), ("120x40", 120, 40)];

// ----- drawn

#[test]
fn the_alerts_firing_acknowledged_and_resolved() {
    let t = theme("default");
    for (name, w, h) in SIZES {
        let mut a = on_pane();
        let shown = text(&mut a, &t, w, h);
        for want in [
            "告警(1)",
            "● 告警中 #3",
            "◐ 已确认 #2",
            "✓ 已解决 #1",
            "card-consistency",
            "25m ago",
            "×4",
            "5行",
            "#230",
            "静默",
            "1 告警中 firing",
            "事件单 incident #230",
            "enter 载入异常行",
        ] {
            assert!(shown.contains(want), "{want} missing at {name}:\n{shown}");
        }
        // Firing, then acknowledged, then resolved.
        let at = |s: &str| shown.find(s).unwrap();
        assert!(at("#3 ") < at("#2 ") && at("#2 ") < at("#1 "), "{shown}");
        insta::assert_snapshot!(format!("alerts_list_{name}"), shown);
    }
    // Mono: the marks and words carry it without colour.
    let mut a = on_pane();
    let shown = text(&mut a, &theme("mono"), 80, 24);
    assert!(
        shown.contains("● 告警中") && shown.contains("◐ 已确认"),
        "{shown}"
    );
}

#[test]
fn an_alert_close_up_with_masked_rows_and_its_incident_tickets() {
    let t = theme("default");
    for (name, w, h) in SIZES {
        let mut a = reading();
        let shown = text(&mut a, &t, w, h);
        for want in [
            "异常行 anomalous rows (5)",
            "已遮蔽 masked",
            "3101****8410-北交所",
            "demo-trading",
            "未指定",
        ] {
            assert!(shown.contains(want), "{want} missing at {name}:\n{shown}");
        }
        assert!(!shown.contains("310124778410"), "a full account:\n{shown}");
        if h >= 40 {
            for want in [
                "关联工单 linked tickets (1)",
                "#188 [处理中] 股东卡状态显示冻结",
                "可关联 candidates (2)",
                "#140",
                "匹配 account",
            ] {
                assert!(shown.contains(want), "{want} missing at {name}:\n{shown}");
            }
        }
        insta::assert_snapshot!(format!("alerts_detail_{name}"), shown);
    }
    // At 80×24 the tickets are below: j scrolls down to them.
    let mut a = reading();
    for _ in 0..10 {
        a.on_key(key('j'));
    }
    let shown = text(&mut a, &t, 80, 24);
    assert!(shown.contains("可关联 candidates (2)"), "{shown}");
    // Scrolled past the end, it stops at the last page: k moves up at once.
    let end = pane(&a).detail().map(|d| d.scroll).unwrap();
    assert!(end < 10, "{end}");
    a.on_key(key('k'));
    assert_eq!(pane(&a).detail().map(|d| d.scroll), Some(end - 1));
    // The long title is cut to the row, its markup inert text.
    assert!(
        shown.contains("#141 [待受理] <b>股东账户状态</b>"),
        "{shown}"
    );
    assert!(
        shown
            .lines()
            .all(|l| l.chars().filter(|c| *c == '│').count() <= 2)
    );
    // esc: back to the list, where j moves the cursor again.
    a.on_key(special(KeyCode::Esc));
    assert!(!pane(&a).reading());
    a.on_key(key('j'));
    assert_eq!(pane(&a).selected().map(|s| s.id), Some(2));
}

#[test]
fn no_alerts_says_so_and_where_to_look() {
    let t = theme("default");
    for (name, w, h) in SIZES {
        let mut a = with(Vec::new());
        let shown = text(&mut a, &t, w, h);
        for want in [
            "没有告警 no alerts",
            "opsdesk monitor list",
            "m 查看监控列表",
        ] {
            assert!(shown.contains(want), "{want} missing at {name}:\n{shown}");
        }
        insta::assert_snapshot!(format!("alerts_empty_{name}"), shown);
    }
    // Keys that act on an alert say there is none.
    let mut a = with(Vec::new());
    let effects = a.on_key(key('a'));
    assert!(effects.is_empty());
    assert!(toasts(&a).contains("没有选中的告警"), "{}", toasts(&a));
}

#[test]
fn the_monitors_with_a_refused_one_and_the_history() {
    let t = theme("default");
    for (name, w, h) in SIZES {
        let mut a = on_pane();
        let effects = a.on_key(key('m'));
        assert_eq!(jobs::<ListMonitors>(&effects).len(), 1);
        assert_eq!(pane(&a).view(), View::Monitors);
        loaded(&mut a, MonitorsListed(Ok(monitor_list())));
        let effects = a.on_key(special(KeyCode::Enter));
        assert_eq!(
            jobs::<FetchHistory>(&effects),
            [&FetchHistory {
                name: "card-consistency".into()
            }]
        );
        loaded(
            &mut a,
            HistoryLoaded {
                name: "card-consistency".into(),
                result: Ok(history()),
            },
        );
        let shown = text(&mut a, &t, w, h);
        for want in [
            "监控 monitors (4)",
            "● card-consistency",
            "consistency",
            "*/10 * * * *",
            "✗ margin-ratio",
            "被拒绝 refused: monitors/margin-ratio.toml:7",
            "✓ opening-volume",
            "最近评估 evaluations",
            "#3",
        ] {
            assert!(shown.contains(want), "{want} missing at {name}:\n{shown}");
        }
        insta::assert_snapshot!(format!("alerts_monitors_{name}"), shown);
    }
    // The refused one shows why in full, and does not run.
    let mut a = on_pane();
    a.on_key(key('m'));
    loaded(&mut a, MonitorsListed(Ok(monitor_list())));
    a.on_key(key('j'));
    let shown = text(&mut a, &t, 120, 40);
    assert!(shown.contains("不会运行 · refused, never runs"), "{shown}");
    let effects = a.on_key(key('r'));
    assert!(jobs::<RunMonitor>(&effects).is_empty());
    // A good one runs, once at a time; m goes back to the alerts.
    a.on_key(key('j'));
    let effects = a.on_key(key('r'));
    assert_eq!(
        jobs::<RunMonitor>(&effects),
        [&RunMonitor {
            name: "opening-volume".into()
        }]
    );
    assert!(jobs::<RunMonitor>(&a.on_key(key('r'))).is_empty());
    let effects = loaded(
        &mut a,
        MonitorRan {
            name: "opening-volume".into(),
            result: Ok(history()[0].clone()),
        },
    );
    assert_eq!(jobs::<ListMonitors>(&effects).len(), 1);
    assert!(toasts(&a).contains("监控 opening-volume 已运行 ran: firing #3"));
    a.on_key(key('m'));
    assert_eq!(pane(&a).view(), View::Alerts);
}

// ----- live

#[test]
fn a_change_updates_the_list_in_place_and_keeps_the_selection() {
    let mut a = on_pane();
    // On the acknowledged one.
    a.on_key(key('j'));
    assert_eq!(pane(&a).selected().map(|s| s.id), Some(2));
    // A new alert fires: on top, announced, counted in the tab; the cursor stays on #2.
    let mut fresh = alert(4, "cards-not-normal", AlertState::Firing);
    fresh.first_at = now() - TimeDelta::minutes(1);
    a.update(change(10, "alert.fired", &fresh));
    let ids: Vec<i64> = pane(&a).alerts().iter().map(|x| x.id).collect();
    assert_eq!(ids, [4, 3, 2, 1]);
    assert_eq!(pane(&a).selected().map(|s| s.id), Some(2));
    assert!(toasts(&a).contains("新告警 new alert #4 cards-not-normal"));
    assert_eq!(a.focused().title(), "告警(2) Alerts");
    // Another evaluation of #3: replaced in place.
    let mut again = cards();
    again.version = 5;
    again.evaluations = 5;
    a.update(change(11, "alert.updated", &again));
    assert_eq!(pane(&a).alerts()[1].evaluations, 5);
    assert_eq!(pane(&a).alerts().len(), 4);
    // An older version arriving late changes nothing.
    a.update(change(12, "alert.updated", &cards()));
    assert_eq!(pane(&a).alerts()[1].evaluations, 5);
    // #2 resolved: it goes below the open ones, the cursor with it.
    let mut done = volume();
    done.version = 8;
    done.state = AlertState::Resolved;
    done.resolved_at = Some(now());
    a.update(change(13, "alert.resolved", &done));
    let ids: Vec<i64> = pane(&a).alerts().iter().map(|x| x.id).collect();
    assert_eq!(ids, [4, 3, 2, 1]);
    assert_eq!(pane(&a).selected().map(|s| s.id), Some(2));
    let shown = text(&mut a, &theme("default"), 80, 24);
    assert!(shown.contains("✓ 已解决 #2"), "{shown}");
    // Other kinds of change are not the pane's.
    let before = pane(&a).alerts().len();
    a.update(Event::Change(Box::new(Change {
        seq: 14,
        at: now(),
        kind: "message.created".into(),
        ticket_id: Some(1),
        actor: "cm_li".into(),
        data: json!({"nonsense": true}),
    })));
    assert_eq!(pane(&a).alerts().len(), before);
}

#[test]
fn the_alert_close_up_is_fetched_again_when_it_changes() {
    let mut a = reading();
    let mut again = cards();
    again.version = 5;
    again.evaluations = 5;
    let effects = a.update(change(20, "alert.updated", &again));
    let fetch = jobs::<FetchAlert>(&effects);
    assert_eq!(fetch.len(), 1, "{effects:?}");
    assert_eq!((fetch[0].id, fetch[0].reveal), (3, false));
    // Another alert changing leaves it be.
    let mut other = volume();
    other.version = 20;
    let effects = a.update(change(21, "alert.updated", &other));
    assert!(jobs::<FetchAlert>(&effects).is_empty());
    // A list arriving after a change keeps the newer state.
    let effects = a.on_key(key('R'));
    assert!(effects.contains(&Effect::Resync));
    let asked = jobs::<ListAlerts>(&effects)[0].asked;
    loaded(
        &mut a,
        AlertsListed {
            asked,
            result: Ok(listed()),
        },
    );
    assert_eq!(pane(&a).alerts()[0].evaluations, 5);
    assert_eq!(pane(&a).alerts()[1].version, 20);
}

#[test]
fn a_stale_version_reloads_the_alert_and_says_so() {
    let mut a = on_pane();
    let effects = a.on_key(key('a'));
    assert_eq!(
        jobs::<ActOnAlert>(&effects),
        [&ActOnAlert {
            id: 3,
            version: 4,
            act: Act::Acknowledge
        }]
    );
    let effects = loaded(
        &mut a,
        AlertActed {
            id: 3,
            act: Act::Acknowledge,
            result: Err(Refused::Stale("alert 3 changed since version 4".into())),
        },
    );
    let fetch = jobs::<FetchAlert>(&effects);
    assert_eq!(fetch.len(), 1, "{effects:?}");
    assert_eq!(fetch[0].id, 3);
    assert!(
        a.toasts
            .iter()
            .any(|t| t.error && t.text.contains("已变化，已重新载入")),
        "{}",
        toasts(&a)
    );
    // The fresh alert comes back and takes the list's place.
    let mut fresh = cards_detail(false);
    fresh.alert.version = 6;
    fresh.alert.evaluations = 6;
    let asked = fetch[0].asked;
    loaded(
        &mut a,
        AlertLoaded {
            id: 3,
            asked,
            result: Ok(fresh),
        },
    );
    assert_eq!(pane(&a).selected().map(|s| s.version), Some(6));
    // Pressed again: at the new version.
    let effects = a.on_key(key('a'));
    assert_eq!(jobs::<ActOnAlert>(&effects)[0].version, 6);
    // Acknowledged: said, and the list shows it.
    let mut acked = cards();
    acked.version = 7;
    acked.state = AlertState::Acknowledged;
    acked.acknowledged_by = Some("h_chen".into());
    acked.acknowledged_at = Some(now());
    loaded(
        &mut a,
        AlertActed {
            id: 3,
            act: Act::Acknowledge,
            result: Ok(acked),
        },
    );
    assert!(toasts(&a).contains("已确认告警 #3"));
    assert_eq!(
        pane(&a).selected().map(|s| s.state),
        Some(AlertState::Acknowledged)
    );
    // Another refusal is said as it is.
    loaded(
        &mut a,
        AlertActed {
            id: 3,
            act: Act::Resolve,
            result: Err(Refused::Other("服务器错误 (500 internal)".into())),
        },
    );
    assert!(toasts(&a).contains("解除 resolve失败 #3 · failed: 服务器错误"));
}

// ----- keys

#[test]
fn silence_resolve_and_reveal_ask_first() {
    let mut a = on_pane();
    // s: a picker of lengths; 2 h chosen.
    a.on_key(key('s'));
    let Some(Overlay::Picker { options, .. }) = &a.overlay else {
        panic!("no picker: {:?}", a.overlay)
    };
    let values: Vec<&str> = options.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(values, ["30m", "2h", "1d", "off"]);
    a.on_key(special(KeyCode::Down));
    let effects = a.on_key(special(KeyCode::Enter));
    assert_eq!(
        jobs::<ActOnAlert>(&effects),
        [&ActOnAlert {
            id: 3,
            version: 4,
            act: Act::Silence("2h".into())
        }]
    );
    // x: resolved only after a yes.
    a.on_key(key('x'));
    assert!(matches!(a.overlay, Some(Overlay::Confirm { .. })));
    let effects = a.on_key(key('n'));
    assert!(jobs::<ActOnAlert>(&effects).is_empty());
    a.on_key(key('x'));
    let effects = a.on_key(key('y'));
    assert_eq!(jobs::<ActOnAlert>(&effects)[0].act, Act::Resolve);
    // v: the rows in full only after a yes; the close-up opens on them.
    a.on_key(key('v'));
    assert!(jobs::<FetchAlert>(&a.on_key(key('n'))).is_empty());
    a.on_key(key('v'));
    let effects = a.on_key(key('y'));
    let fetch = jobs::<FetchAlert>(&effects);
    assert_eq!((fetch[0].id, fetch[0].reveal), (3, true));
    let asked = fetch[0].asked;
    loaded(
        &mut a,
        AlertLoaded {
            id: 3,
            asked,
            result: Ok(cards_detail(true)),
        },
    );
    let shown = text(&mut a, &theme("default"), 120, 40);
    assert!(shown.contains("310124778410-北交所"), "{shown}");
    assert!(shown.contains("完整显示 in full"), "{shown}");
    // A resolved alert is neither silenced nor resolved again.
    a.on_key(special(KeyCode::Esc));
    a.on_key(key('G'));
    assert!(a.on_key(key('s')).is_empty() && a.overlay.is_none());
    assert!(a.on_key(key('x')).is_empty() && a.overlay.is_none());
    assert!(a.on_key(key('a')).is_empty());
}

#[test]
fn the_incident_opens_shows_and_takes_links() {
    // o: the incident in the ticket pane.
    let mut a = on_pane();
    a.on_key(key('o'));
    assert_eq!(a.focus(), PaneId::TICKET);

    // t on an alert that has its incident: said; on one that has none: opened.
    let mut a = on_pane();
    assert!(a.on_key(key('t')).is_empty());
    assert!(toasts(&a).contains("已有事件单 #230"));
    a.on_key(key('j'));
    let effects = a.on_key(key('t'));
    assert_eq!(
        jobs::<ActOnAlert>(&effects),
        [&ActOnAlert {
            id: 2,
            version: 7,
            act: Act::OpenIncident
        }]
    );
    a.on_key(key('o'));
    assert_eq!(a.focus(), PaneId::ALERTS);
    assert!(toasts(&a).contains("还没有事件单"));

    // l before the close-up is in: fetched, then the picker of candidates.
    let mut a = on_pane();
    let effects = a.on_key(key('l'));
    let fetch = jobs::<FetchAlert>(&effects);
    assert_eq!(fetch.len(), 1);
    let asked = fetch[0].asked;
    loaded(
        &mut a,
        AlertLoaded {
            id: 3,
            asked,
            result: Ok(cards_detail(false)),
        },
    );
    let Some(Overlay::Picker { options, .. }) = &a.overlay else {
        panic!("no picker: {:?}", a.overlay)
    };
    assert_eq!(options.len(), 2);
    assert!(options[0].0.contains("#140") && options[0].0.contains("匹配 account"));
    a.on_key(special(KeyCode::Down));
    let effects = a.on_key(special(KeyCode::Enter));
    assert_eq!(
        jobs::<LinkToAlert>(&effects),
        [&LinkToAlert { id: 3, ticket: 141 }]
    );
    let mut after = cards_detail(false);
    after.alert.version = 5;
    after.linked.push(after.candidates.remove(1));
    loaded(
        &mut a,
        Linked {
            id: 3,
            ticket: 141,
            result: Ok(after),
        },
    );
    assert!(toasts(&a).contains("工单 #141 已关联"));
    let d = pane(&a).detail().and_then(|d| d.data.as_ref()).unwrap();
    assert_eq!(d.linked.len(), 2);
    // Pressed again with the close-up in: the picker at once.
    a.on_key(special(KeyCode::Esc));
    let effects = a.on_key(key('l'));
    assert!(jobs::<FetchAlert>(&effects).is_empty());
    assert!(matches!(a.overlay, Some(Overlay::Picker { .. })));
}

#[test]
fn every_command_has_a_key_and_a_line_in_help() {
    let mut a = on_pane();
    for view in [View::Alerts, View::Monitors] {
        if view == View::Monitors {
            a.on_key(key('m'));
        }
        for c in a.focused().commands() {
            let keys = a.keymap.keys_for(Context::Alerts, c.action);
            let global = a.keymap.keys_for(Context::Global, c.action);
            assert!(
                !keys.is_empty() || !global.is_empty(),
                "{} has no key",
                c.action
            );
        }
    }
    a.on_key(key('m'));
    a.on_key(key('?'));
    let shown = text(&mut a, &theme("default"), 120, 40);
    for want in ["acknowledge", "silence", "resolve_alert", "monitors"] {
        assert!(shown.contains(want), "{want} missing from help:\n{shown}");
    }
    a.on_key(special(KeyCode::Esc));
    // The palette finds them by name or in Chinese.
    assert_eq!(a.palette_matches("静默").first(), Some(&Action::Silence));
    assert_eq!(
        a.palette_matches("run_mon").first(),
        Some(&Action::RunMonitor)
    );
}

#[test]
fn a_failed_list_is_said_in_the_pane_and_asked_again_on_the_next_visit() {
    let (mut a, asked) = signed_in();
    loaded(
        &mut a,
        AlertsListed {
            asked,
            result: Err(
                "cannot reach the server at http://127.0.0.1:7878: connection refused".into(),
            ),
        },
    );
    let effects = a.on_key(key('7'));
    assert_eq!(jobs::<ListAlerts>(&effects).len(), 1);
    let shown = text(&mut a, &theme("default"), 80, 24);
    assert!(
        shown.contains("未能载入告警 could not load the alerts"),
        "{shown}"
    );
}
