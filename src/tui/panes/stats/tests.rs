//! The pane's update logic, with no terminal and no network: which fetch a key asks for, what
//! the queue is asked to list, and what the session form sends.

use chrono::{TimeZone, Utc};

use super::session::{Form, SaveSession, SessionText};
use super::*;
use crate::domain::ticket::Category;
use crate::tui::overlay::Overlay;
use crate::tui::panes::Purpose;

fn sample() -> Report {
    serde_json::from_str(include_str!(
        "../../../../tests/fixtures/report_2026-W47.json"
    ))
    .expect("the sample report")
}

/// Tuesday 24 November 2026 in Shanghai: week 48 is running.
fn desk() -> Desk {
    Desk::new(
        crate::config::default_systems(),
        chrono_tz::Asia::Shanghai,
        Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap(),
    )
}

fn fetches(effects: &[Effect]) -> Vec<FetchReport> {
    effects
        .iter()
        .filter_map(|e| e.job::<FetchReport>().cloned())
        .collect()
}

fn fetch(kind: ReportKind, period: Option<&str>, asked: u64) -> FetchReport {
    FetchReport {
        kind,
        period: period.map(str::to_string),
        asked,
    }
}

fn act(pane: &mut StatsPane, action: Action, desk: &mut Desk) -> Vec<Effect> {
    pane.update(Msg::Action(action), desk).expect("handled")
}

/// The pane shown, with the sample report loaded as its fetch would bring it.
fn loaded(desk: &mut Desk) -> StatsPane {
    let mut pane = StatsPane::default();
    let effects = pane
        .update(Msg::Shown { in_hand: None }, desk)
        .expect("handled");
    assert_eq!(
        fetches(&effects),
        [fetch(ReportKind::Weekly, None, 1)],
        "the first visit asks for the week now running"
    );
    pane.update(
        Msg::Loaded(Box::new(ReportLoaded {
            asked: 1,
            result: Ok(sample()),
        })),
        desk,
    );
    assert_eq!(pane.report().map(|r| r.period.as_str()), Some("2026-W47"));
    pane
}

#[test]
fn period_keys_ask_for_the_period_before_after_and_the_other_kind() {
    let mut desk = desk();
    let mut pane = loaded(&mut desk);
    // A second visit asks nothing: the report is there.
    let again = pane.update(Msg::Shown { in_hand: None }, &mut desk);
    assert_eq!(again.map(|e| e.len()), Some(0));

    // The desk's clock says week 48 is running (the server's answer came from week 47).
    let prev = act(&mut pane, Action::PrevPeriod, &mut desk);
    assert_eq!(
        fetches(&prev),
        [fetch(ReportKind::Weekly, Some("2026-W47"), 2)]
    );
    assert!(pane.is_loading());
    let prev = act(&mut pane, Action::PrevPeriod, &mut desk);
    assert_eq!(
        fetches(&prev),
        [fetch(ReportKind::Weekly, Some("2026-W46"), 3)]
    );
    let next = act(&mut pane, Action::NextPeriod, &mut desk);
    assert_eq!(
        fetches(&next),
        [fetch(ReportKind::Weekly, Some("2026-W47"), 4)]
    );
    // Week 48 is the one running: asked for as "now".
    let now = act(&mut pane, Action::NextPeriod, &mut desk);
    assert_eq!(fetches(&now), [fetch(ReportKind::Weekly, None, 5)]);
    // Nothing after it.
    let none = act(&mut pane, Action::NextPeriod, &mut desk);
    assert!(fetches(&none).is_empty());
    assert!(
        desk.take_requests()
            .iter()
            .any(|r| matches!(r, Request::Toast { error: true, .. })),
        "and it says so"
    );

    // Back to an October week, then monthly: the month holding the week's Thursday.
    for _ in 0..8 {
        act(&mut pane, Action::PrevPeriod, &mut desk);
    }
    assert_eq!(
        pane.period.map(|p| p.to_string()).as_deref(),
        Some("2026-W40")
    );
    let monthly = act(&mut pane, Action::SwitchReport, &mut desk);
    assert_eq!(
        fetches(&monthly),
        [fetch(ReportKind::Monthly, Some("2026-10"), 14)]
    );
    // And back: the month's last week.
    let weekly = act(&mut pane, Action::SwitchReport, &mut desk);
    assert_eq!(
        fetches(&weekly),
        [fetch(ReportKind::Weekly, Some("2026-W44"), 15)]
    );
    let this = act(&mut pane, Action::ThisPeriod, &mut desk);
    assert_eq!(fetches(&this), [fetch(ReportKind::Weekly, None, 16)]);
    let reload = act(&mut pane, Action::ReloadReport, &mut desk);
    assert_eq!(fetches(&reload), [fetch(ReportKind::Weekly, None, 17)]);
}

#[test]
fn a_late_answer_is_dropped_and_a_refusal_keeps_the_last_good_report() {
    let mut desk = desk();
    let mut pane = loaded(&mut desk);
    act(&mut pane, Action::PrevPeriod, &mut desk);
    act(&mut pane, Action::PrevPeriod, &mut desk);
    // The answer to the first of the two comes after the second was asked: dropped.
    let mut stale = sample();
    stale.period = "2026-W46".into();
    pane.update(
        Msg::Loaded(Box::new(ReportLoaded {
            asked: 2,
            result: Ok(stale),
        })),
        &mut desk,
    );
    assert_eq!(pane.report().map(|r| r.period.as_str()), Some("2026-W47"));
    assert!(pane.is_loading());
    pane.update(
        Msg::Loaded(Box::new(ReportLoaded {
            asked: 3,
            result: Err("no such period (422 invalid_period)".into()),
        })),
        &mut desk,
    );
    assert!(!pane.is_loading());
    assert_eq!(pane.report().map(|r| r.period.as_str()), Some("2026-W47"));
    let problem = pane.problem().unwrap_or_default();
    assert!(
        problem.contains("2026-W46") && problem.contains("invalid_period"),
        "{problem}"
    );
}

#[test]
fn enter_lists_the_tickets_behind_a_bar_or_a_problem_in_the_queue() {
    let mut desk = desk();
    let mut pane = loaded(&mut desk);
    let report = sample();
    let window = Window {
        from: report.starts_at,
        to: report.ends_at,
        label: "2026-W47".into(),
    };
    // The first bar: consultation, the most tickets.
    assert_eq!(pane.selected(), Some(Item::Category(0)));
    desk.take_requests();
    let effects = act(&mut pane, Action::Open, &mut desk);
    let expected = Query {
        category: Some(Category::Consultation),
        created: Some(window.clone()),
        ..Query::default()
    };
    assert_eq!(
        effects,
        [Effect::run(Some(PaneId::QUEUE), Search(expected.clone()))]
    );
    assert_eq!(expected.describe(), "咨询类 · 2026-W47");
    assert!(
        desk.take_requests()
            .iter()
            .any(|r| matches!(r, Request::Focus(PaneId::QUEUE))),
        "the queue comes forward"
    );

    // Three down: the first system, trading.
    for _ in 0..3 {
        act(&mut pane, Action::Down, &mut desk);
    }
    assert_eq!(pane.selected(), Some(Item::System(0)));
    let effects = act(&mut pane, Action::Open, &mut desk);
    assert_eq!(
        effects[0].job::<Search>(),
        Some(&Search(Query {
            system: Some("trading".into()),
            created: Some(window),
            ..Query::default()
        }))
    );

    // Past the six systems: the first recurring problem, listed by its examples.
    for _ in 0..6 {
        act(&mut pane, Action::Down, &mut desk);
    }
    assert_eq!(pane.selected(), Some(Item::Recurring(0)));
    let effects = act(&mut pane, Action::Open, &mut desk);
    let Some(Search(query)) = effects[0].job::<Search>() else {
        panic!("no search: {effects:?}")
    };
    assert_eq!(query.ids, [1402, 1388, 1371]);
    assert!(
        query.describe().contains("委托提示可用资金不足"),
        "{query:?}"
    );
}

/// The text of the editor the pane opened.
fn form_text(desk: &mut Desk) -> String {
    for request in desk.take_requests() {
        if let Request::Overlay(Overlay::Editor { editor, .. }) = request {
            return editor.text();
        }
    }
    panic!("no form opened")
}

#[test]
fn the_session_form_sends_the_session_and_a_change_names_its_version() {
    let mut desk = desk();
    let mut pane = loaded(&mut desk);
    desk.take_requests();
    act(&mut pane, Action::RecordSession, &mut desk);
    let text = form_text(&mut desk);
    // Today, on the first proposed topic, its systems and article.
    assert!(text.contains("held_on = \"2026-11-24\""), "{text}");
    assert!(text.contains("topic = \"委托提示可用资金不足\""), "{text}");
    let filled = text
        .replace("live_viewers = \"\"", "live_viewers = 150")
        .replace("total_views = \"\"", "total_views = 420");
    let effects = pane
        .update(
            Msg::Written {
                purpose: Purpose::new(SessionText(Form::New)),
                text: filled.clone(),
            },
            &mut desk,
        )
        .expect("handled");
    let expected = NewSession {
        held_on: "2026-11-24".parse().unwrap(),
        topic: "委托提示可用资金不足".into(),
        systems: vec!["trading".into()],
        kb_articles: vec![3],
        live_viewers: Some(150),
        total_views: Some(420),
    };
    assert_eq!(
        effects[0].job::<SaveSession>(),
        Some(&SaveSession {
            form: Form::New,
            key: session::idempotency_key(&expected),
            session: expected,
            text: filled,
        })
    );

    // A session is changed over the version the report showed.
    act(&mut pane, Action::Bottom, &mut desk);
    assert_eq!(pane.selected(), Some(Item::Session(0)));
    act(&mut pane, Action::EditSession, &mut desk);
    let text = form_text(&mut desk).replace("total_views = 742", "total_views = 900");
    let effects = pane
        .update(
            Msg::Written {
                purpose: Purpose::new(SessionText(Form::Edit { id: 1, version: 2 })),
                text,
            },
            &mut desk,
        )
        .expect("handled");
    let save = effects[0].job::<SaveSession>().expect("a save");
    assert_eq!(save.form, Form::Edit { id: 1, version: 2 });
    assert_eq!(save.session.total_views, Some(900));
    assert_eq!(save.session.live_viewers, Some(186));
    assert_eq!(session::change_of(&save.session, 2).version, Some(2));

    // Saved: the report is asked again.
    let saved = session::SessionSaved {
        form: Form::Edit { id: 1, version: 2 },
        text: String::new(),
        result: Ok(sample().sessions[0].session.clone()),
    };
    let effects = pane
        .update(Msg::Loaded(Box::new(saved)), &mut desk)
        .expect("handled");
    assert_eq!(fetches(&effects).len(), 1);
}

#[test]
fn a_refused_form_comes_back_with_the_reasons_above_their_fields() {
    let mut desk = desk();
    let mut pane = loaded(&mut desk);
    desk.take_requests();
    let refused = session::SessionSaved {
        form: Form::New,
        text: session::template(&session::blank("2026-11-24".parse().unwrap(), None), &[]),
        result: Err(session::Refusal::Invalid(vec![
            "topic: 主题需 2–120 个字".into(),
        ])),
    };
    let effects = pane
        .update(Msg::Loaded(Box::new(refused)), &mut desk)
        .expect("handled");
    assert!(fetches(&effects).is_empty());
    let text = form_text(&mut desk);
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("topic =")).unwrap();
    assert_eq!(lines[at - 1], "# ✗ topic: 主题需 2–120 个字");
    assert!(
        desk.drafts.contains_key("stats/session-new"),
        "kept meanwhile"
    );
}
