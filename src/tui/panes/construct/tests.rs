//! The Construct pane with no terminal and no network: what each key asks the server for,
//! how the runs follow the progress stream, and the pane drawn on ratatui's TestBackend
//! (insta snapshots at 80×24 and 120×40): the recipes, the form with an input refused, a run
//! ticking, a failed run with its failing step in view, and a succeeded run with its result.

use chrono::{DateTime, Duration as TimeDelta, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

use super::*;
use crate::api::construct::{FormInput, FormStage};
use crate::api::construct::{InputCheck, InputProblem, RunEvent};
use crate::domain::construct::run::{
    FailureKind, Outcomes, ReasonCount, RunDetail, RunStatus, StepRecord, StepStatus,
};
use crate::tui::app::{App, Event, LinkState};
use crate::tui::desk::Request;
use crate::tui::keymap::Keymap;
use crate::tui::theme::{Theme, ThemeEnv};

/// The demo's plain account: 35 calls in the account system.
const PLAIN_STEPS: &[&str] = &[
    "create-customer",
    "verify-identity",
    "upload-id-front",
    "upload-id-back",
    "face-compare",
    "set-contact",
    "set-profile",
    "declare-tax-residency",
    "declare-beneficial-owner",
    "declare-actual-controller",
    "credit-check",
    "aml-screening",
    "get-risk-questionnaire",
    "submit-risk-assessment",
    "confirm-risk-level",
    "set-investment-experience",
    "confirm-suitability",
    "sign-account-agreement",
    "sign-risk-disclosure",
    "open-fund-account",
    "set-trading-password",
    "set-fund-password",
    "open-sh-card",
    "open-sz-card",
    "designate-sh-trading",
    "video-witness",
    "review",
    "return-visit",
    "set-commission-template",
    "assign-customer-manager",
    "activate",
    "get-customer",
    "get-fund-account",
    "get-shareholder-cards",
    "archive",
];

/// 2026-12-08 10:30 in Shanghai.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 8, 2, 30, 0).unwrap()
}

fn summaries() -> Vec<RecipeSummary> {
    vec![
        RecipeSummary {
            name: "plain-account".into(),
            title: "普通账户（开户、身份核验、适当性、资金账户、股东卡）".into(),
            description: "A plain brokerage account.".into(),
            origin: "demo".into(),
            stages: vec!["account".into()],
            steps: 35,
            problems: Vec::new(),
        },
        RecipeSummary {
            name: "trading-account".into(),
            title: "交易账户（资金、风险等级、三方存管、交易协议）".into(),
            description: "A plain account plus funds and a depository bank.".into(),
            origin: "demo".into(),
            stages: vec!["account".into(), "depository".into(), "trading".into()],
            steps: 44,
            problems: Vec::new(),
        },
        RecipeSummary {
            name: "margin-account".into(),
            title: "两融账户".into(),
            description: String::new(),
            origin: "recipes/margin-account.toml".into(),
            stages: Vec::new(),
            steps: 0,
            problems: vec![
                "recipes/margin-account.toml:14: step open-credit: no system 'credit' in sandbox"
                    .into(),
            ],
        },
    ]
}

fn input(name: &str, label: &str, generate: Option<&str>, secret: bool) -> FormInput {
    FormInput {
        name: name.into(),
        label: Some(label.into()),
        kind: "string".into(),
        default: None,
        generate: generate.map(str::to_string),
        choices: Vec::new(),
        required: true,
        secret,
    }
}

fn plain_form() -> RecipeForm {
    let mut risk = input("risk_level", "风险等级", None, false);
    risk.default = Some(json!("C3"));
    risk.choices = ["C1", "C2", "C3", "C4", "C5"].map(String::from).to_vec();
    let mut years = input("experience_years", "投资经验（年）", None, false);
    years.kind = "integer".into();
    years.default = Some(json!(3));
    RecipeForm {
        name: "plain-account".into(),
        title: summaries()[0].title.clone(),
        description: String::new(),
        inputs: vec![
            input("name", "客户姓名", Some("Name"), false),
            input("id_number", "身份证号码", Some("IdNumber"), false),
            input("phone", "手机号码", Some("Phone"), false),
            risk,
            years,
            input("trading_password", "交易密码", Some("Password"), true),
            input("fund_password", "资金密码", Some("Password"), true),
        ],
        stages: vec![FormStage {
            name: "account".into(),
            title: Some("帐户体系".into()),
            steps: PLAIN_STEPS.iter().map(|s| s.to_string()).collect(),
        }],
        systems: vec!["account".into()],
    }
}

fn filled() -> serde_json::Value {
    json!({
        "experience_years": 3, "fund_password": "505695", "id_number": "310101197801315827",
        "name": "周轩", "phone": "15353604007", "risk_level": "C3", "trading_password": "170393"
    })
}

fn environments() -> Vec<EnvironmentView> {
    vec![
        EnvironmentView {
            name: "uat1".into(),
            title: Some("UAT 一号环境".into()),
            concurrency: 2,
            systems: vec!["account".into()],
        },
        EnvironmentView {
            name: "sandbox".into(),
            title: Some("UAT 沙箱 sandbox brokerage (demo, not a real system)".into()),
            concurrency: 8,
            systems: vec!["account".into(), "depository".into(), "trading".into()],
        },
    ]
}

fn stats() -> ConstructStats {
    ConstructStats {
        total: Outcomes {
            runs: 12,
            succeeded: 9,
            failed: 2,
            in_progress: 1,
        },
        reasons: vec![
            ReasonCount {
                reason: FailureKind::Unavailable,
                step: Some("account/verify-identity".into()),
                message: Some("系统部署中，请稍后再试".into()),
                runs: 2,
            },
            ReasonCount {
                reason: FailureKind::Business,
                step: Some("depository/bind-bank".into()),
                message: None,
                runs: 1,
            },
        ],
        ..ConstructStats::default()
    }
}

fn run(id: i64, status: RunStatus, steps_done: i64, by: &str) -> Run {
    let created = now() - TimeDelta::minutes(30 - id);
    Run {
        id,
        version: 1,
        recipe: "plain-account".into(),
        environment: "sandbox".into(),
        batch: None,
        batch_index: 0,
        started_by: by.into(),
        status,
        reason: None,
        message: None,
        failed_step: None,
        calls: steps_done,
        steps_done,
        created_at: created,
        started_at: Some(created),
        finished_at: (!status.in_progress()).then_some(created + TimeDelta::milliseconds(221)),
        duration_ms: if status.in_progress() { 0 } else { 221 },
    }
}

fn step(i: usize, status: StepStatus) -> StepRecord {
    let name = PLAIN_STEPS[i];
    StepRecord {
        key: format!("account/{name}"),
        stage: "account".into(),
        step: name.into(),
        status,
        attempts: 1,
        started_at: now() - TimeDelta::minutes(5) + TimeDelta::milliseconds(i as i64 * 10),
        duration_ms: 3 + (i as i64 % 4),
        request: Some(
            json!({"method": "POST", "path": format!("/customers/8000000012/{name}"), "body": {}}),
        ),
        response: Some(
            json!({"status": 200, "body": {"code": "0", "message": "成功", "data": {}}}),
        ),
        message: None,
    }
}

/// A run stopped at verify-identity: the account system was being deployed.
fn failed() -> RunDetail {
    let mut r = run(11, RunStatus::Failed, 1, "h_chen");
    r.reason = Some(FailureKind::Unavailable);
    r.failed_step = Some("account/verify-identity".into());
    r.message = Some(
        "verify-identity: account answered 503: 系统部署中，请稍后再试 (after 4 calls)".into(),
    );
    r.calls = 5;
    let mut stopped = step(1, StepStatus::Failed);
    stopped.attempts = 4;
    stopped.duration_ms = 2854;
    stopped.message = Some("account answered 503: 系统部署中，请稍后再试 (after 4 calls)".into());
    stopped.request = Some(json!({
        "method": "POST", "path": "/customers/8000000011/identity/verify",
        "body": {"id_number": "370***********3101", "name": "李**"}
    }));
    stopped.response = Some(json!({
        "status": 503, "body": {"code": "DEPLOYING", "message": "系统部署中，请稍后再试"}
    }));
    RunDetail {
        run: r,
        inputs: json!({"name": "李**", "phone": "183****7275", "trading_password": "******"}),
        steps: vec![step(0, StepStatus::Succeeded), stopped],
        result: None,
    }
}

fn succeeded() -> RunDetail {
    RunDetail {
        run: run(10, RunStatus::Succeeded, 35, "h_chen"),
        inputs: json!({}),
        steps: (0..35).map(|i| step(i, StepStatus::Succeeded)).collect(),
        result: Some(json!({
            "customer_no": "8000000010", "fund_account": "318800000010",
            "fund_password": "728324", "sh_card": "A800000010", "sz_card": "0800000010",
            "trading_password": "628506"
        })),
    }
}

fn running() -> RunDetail {
    let mut steps: Vec<StepRecord> = (0..12).map(|i| step(i, StepStatus::Succeeded)).collect();
    let mut going = step(12, StepStatus::Running);
    going.response = None;
    steps.push(going);
    RunDetail {
        run: run(12, RunStatus::Running, 12, "h_chen"),
        inputs: json!({}),
        steps,
        result: None,
    }
}

fn listed() -> Vec<Run> {
    let mut trading = run(9, RunStatus::Succeeded, 45, "h_chen");
    trading.recipe = "trading-account".into();
    vec![
        running().run,
        failed().run,
        succeeded().run,
        trading,
        run(8, RunStatus::Cancelled, 7, "h_chen"),
    ]
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

fn app() -> App {
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
    a.update(Event::SignedIn {
        me: Some("h_chen".into()),
        last_seq: 0,
    });
    a.update(Event::Link(LinkState::Live));
    a
}

fn loaded(a: &mut App, what: impl std::any::Any + Send) -> Vec<Effect> {
    a.update(Event::Loaded {
        pane: PaneId::CONSTRUCT,
        loaded: Box::new(what),
    })
}

fn jobs<T: crate::tui::effect::Job>(effects: &[Effect]) -> Vec<&T> {
    effects.iter().filter_map(|e| e.job::<T>()).collect()
}

fn pane(a: &App) -> &ConstructPane {
    a.pane::<ConstructPane>().expect("the construct pane")
}

/// The workstation on pane 5 with the recipes, environments, my runs and the figures in.
fn on_pane() -> App {
    let mut a = app();
    let effects = a.on_key(key('5'));
    assert_eq!(a.focus(), PaneId::CONSTRUCT);
    assert_eq!(jobs::<LoadSetup>(&effects).len(), 1);
    assert_eq!(jobs::<FetchStats>(&effects).len(), 1);
    assert_eq!(jobs::<FollowRuns>(&effects).len(), 1);
    let list = jobs::<ListRuns>(&effects);
    assert_eq!(list.len(), 1);
    assert!(!list[0].team, "my runs first");
    let asked = list[0].asked;
    loaded(
        &mut a,
        SetupLoaded {
            recipes: Ok(summaries()),
            environments: Ok(environments()),
        },
    );
    loaded(&mut a, FeedLink::Up);
    loaded(
        &mut a,
        RunsListed {
            asked: asked + 1,
            result: Ok(listed()),
        },
    );
    loaded(&mut a, StatsLoaded(Ok(stats())));
    a
}

fn text(a: &mut App, t: &Theme, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| crate::tui::view::draw(f, a, t)).unwrap();
    terminal.backend().to_string()
}

/// The form of plain-account, its values filled by the check.
fn on_form() -> App {
    let mut a = on_pane();
    let effects = a.on_key(special(KeyCode::Enter));
    assert_eq!(
        jobs::<FetchRecipe>(&effects),
        [&FetchRecipe {
            name: "plain-account".into()
        }]
    );
    let effects = loaded(
        &mut a,
        RecipeLoaded {
            name: "plain-account".into(),
            result: Ok(plain_form()),
        },
    );
    let check = jobs::<CheckInputs>(&effects)[0];
    assert!(check.set.is_empty() && check.wait.is_zero());
    let asked = check.asked;
    loaded(
        &mut a,
        Checked {
            asked,
            result: Ok(InputCheck {
                values: filled(),
                errors: Vec::new(),
            }),
        },
    );
    a
}

/// Run `d` open in the pane, as its fetch brings it.
fn on_run(d: RunDetail) -> App {
    let mut a = on_pane();
    let at = listed()
        .iter()
        .position(|r| r.id == d.run.id)
        .expect("listed");
    // Past the three recipes, down to the run.
    for _ in 0..3 + at {
        a.on_key(key('j'));
    }
    let effects = a.on_key(special(KeyCode::Enter));
    assert_eq!(jobs::<FetchRun>(&effects), [&FetchRun { id: d.run.id }]);
    assert_eq!(jobs::<FetchRecipe>(&effects).len(), 1);
    loaded(
        &mut a,
        RecipeLoaded {
            name: "plain-account".into(),
            result: Ok(plain_form()),
        },
    );
    loaded(
        &mut a,
        RunLoaded {
            id: d.run.id,
            result: Ok(d),
        },
    );
    a
}

const SIZES: [(&str, u16, u16); 2] = [("80x24", 80, 24), ("120x40", 120, 40)];

// ----- drawn

#[test]
fn the_recipes_runs_and_figures() {
    let t = theme("default");
    for (name, w, h) in SIZES {
        let mut a = on_pane();
        let shown = text(&mut a, &t, w, h);
        for want in [
            "plain-account",
            "无法运行 cannot run",
            "环境 env: sandbox",
            "✓ 9 成功",
            "成功率 81.8%",
            "环境不可用 account/verify-identity ×2",
            "我的构造 my runs",
            "● 实时 live",
            "#12",
            "12/35",
        ] {
            assert!(shown.contains(want), "{want} missing at {name}:\n{shown}");
        }
        insta::assert_snapshot!(format!("construct_recipes_{name}"), shown);
    }
    // The broken recipe shows why, and does not open.
    let mut a = on_pane();
    a.on_key(key('j'));
    a.on_key(key('j'));
    let shown = text(&mut a, &t, 80, 24);
    assert!(shown.contains("no system 'credit'"), "{shown}");
    let effects = a.on_key(special(KeyCode::Enter));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(pane(&a).form().is_none());
}

#[test]
fn the_form_with_an_input_refused() {
    let t = theme("default");
    for (name, w, h) in SIZES {
        let mut a = on_form();
        // Down to the phone, typed over with three digits.
        a.on_key(key('j'));
        a.on_key(key('j'));
        a.on_key(special(KeyCode::Enter));
        a.act(Action::KillToLineStart);
        let mut effects = Vec::new();
        for c in "123".chars() {
            effects.extend(a.on_key(key(c)));
        }
        let checks = jobs::<CheckInputs>(&effects);
        let last = checks.last().expect("checked as typed");
        assert_eq!(last.set.get("phone").map(String::as_str), Some("123"));
        assert_eq!(last.wait, form::CHECK_PAUSE);
        let asked = last.asked;
        loaded(
            &mut a,
            Checked {
                asked,
                result: Ok(InputCheck {
                    values: json!({}),
                    errors: vec![InputProblem {
                        input: "phone".into(),
                        message: "not an 11-digit mainland mobile number".into(),
                    }],
                }),
            },
        );
        let shown = text(&mut a, &t, w, h);
        for want in [
            "✗ not an 11-digit mainland mobile number",
            "123▏",
            "周轩",
            "生成 generated",
            "●●●●●●",
            "种子 seed",
        ] {
            assert!(shown.contains(want), "{want} missing at {name}:\n{shown}");
        }
        for secret in ["170393", "505695"] {
            assert!(
                !shown.contains(secret),
                "a secret on screen at {name}:\n{shown}"
            );
        }
        insta::assert_snapshot!(format!("construct_form_error_{name}"), shown);
    }
}

#[test]
fn a_run_ticking() {
    let t = theme("default");
    for (name, w, h) in SIZES {
        let mut a = on_run(running());
        // The stream brings the next step, then the one after starts.
        let mut r = running().run;
        r.version = 2;
        r.steps_done = 13;
        let mut done = step(12, StepStatus::Succeeded);
        done.duration_ms = 4;
        let mut next = step(13, StepStatus::Running);
        next.response = None;
        let effects = loaded(
            &mut a,
            FeedNews {
                events: vec![
                    RunEvent {
                        run: r.clone(),
                        step: Some(done),
                    },
                    RunEvent {
                        run: r,
                        step: Some(next),
                    },
                ],
                lagged: false,
            },
        );
        assert!(effects.is_empty(), "{effects:?}");
        let shown = text(&mut a, &t, w, h);
        for want in [
            "… 进行中",
            "13/35",
            "✓ get-risk-questionnaire",
            "… submit-risk-assessment",
            "· confirm-risk-level",
        ] {
            assert!(shown.contains(want), "{want} missing at {name}:\n{shown}");
        }
        insta::assert_snapshot!(format!("construct_running_{name}"), shown);
    }
}

#[test]
fn a_failed_run_with_its_failing_step_in_view() {
    let t = theme("default");
    for (name, w, h) in SIZES {
        let mut a = on_run(failed());
        let shown = text(&mut a, &t, w, h);
        for want in [
            "✗ 失败",
            "停在 stopped at account/verify-identity: [环境不可用]",
            "✗ verify-identity",
            "×4",
            "请求 request  POST /customers/8000000011/identity/verify",
            "\"name\": \"李**\"",
            "应答 response  503",
            "\"code\": \"DEPLOYING\"",
            "r resume_run",
        ] {
            assert!(shown.contains(want), "{want} missing at {name}:\n{shown}");
        }
        insta::assert_snapshot!(format!("construct_failed_{name}"), shown);
    }
}

#[test]
fn a_succeeded_run_with_its_result() {
    let t = theme("default");
    for (name, w, h) in SIZES {
        let mut a = on_run(succeeded());
        let shown = text(&mut a, &t, w, h);
        for want in [
            "✓ 成功",
            "结果 result",
            "fund_account     318800000010",
            "trading_password 628506",
            "── 帐户体系 account",
            "✓ create-customer",
        ] {
            assert!(shown.contains(want), "{want} missing at {name}:\n{shown}");
        }
        insta::assert_snapshot!(format!("construct_succeeded_{name}"), shown);
    }
    // Mono: the marks and words carry it without colour.
    let mut a = on_run(failed());
    let shown = text(&mut a, &theme("mono"), 80, 24);
    assert!(
        shown.contains("✗ 失败") && shown.contains("✗ verify-identity"),
        "{shown}"
    );
}

#[test]
fn no_environment_and_a_server_error_are_said_in_the_pane() {
    let t = theme("default");
    let mut a = app();
    let effects = a.on_key(key('5'));
    let asked = jobs::<ListRuns>(&effects)[0].asked;
    loaded(
        &mut a,
        SetupLoaded {
            recipes: Ok(summaries()),
            environments: Ok(Vec::new()),
        },
    );
    loaded(
        &mut a,
        RunsListed {
            asked,
            result: Err(
                "cannot reach the server at http://127.0.0.1:7878: connection refused".into(),
            ),
        },
    );
    loaded(&mut a, StatsLoaded(Err("服务器错误 (500 internal)".into())));
    let shown = text(&mut a, &t, 80, 24);
    for want in [
        "服务器没有构造环境",
        "未能列出构造 could not list the runs",
        "未能载入统计",
    ] {
        assert!(shown.contains(want), "{want} missing:\n{shown}");
    }
    assert_eq!(pane(&a).environment(), None);
    // A form can be filled, but nothing starts without an environment.
    a.on_key(special(KeyCode::Enter));
    loaded(
        &mut a,
        RecipeLoaded {
            name: "plain-account".into(),
            result: Ok(plain_form()),
        },
    );
    let effects = a.on_key(key('R'));
    assert!(jobs::<StartRuns>(&effects).is_empty(), "{effects:?}");
    // The next visit asks again for what failed.
    a.on_key(key('1'));
    let effects = a.on_key(key('5'));
    assert_eq!(jobs::<ListRuns>(&effects).len(), 1);
    assert_eq!(jobs::<FetchStats>(&effects).len(), 1);
}

// ----- behaviour

#[test]
fn the_environment_defaults_to_sandbox_else_the_first() {
    let mut desk = Desk::new(
        crate::config::default_systems(),
        chrono_tz::Asia::Shanghai,
        now(),
    );
    let mut p = ConstructPane::default();
    p.update(
        Msg::Loaded(Box::new(SetupLoaded {
            recipes: Ok(summaries()),
            environments: Ok(environments()),
        })),
        &mut desk,
    );
    assert_eq!(p.environment(), Some("sandbox"));
    let mut p = ConstructPane::default();
    p.update(
        Msg::Loaded(Box::new(SetupLoaded {
            recipes: Ok(summaries()),
            environments: Ok(environments()[..1].to_vec()),
        })),
        &mut desk,
    );
    assert_eq!(p.environment(), Some("uat1"));
    // Picked by hand: kept across a reload.
    p.update(
        Msg::Picked {
            purpose: crate::tui::panes::Purpose::new(Ask::Environment),
            index: 0,
            value: "uat1".into(),
        },
        &mut desk,
    );
    p.update(
        Msg::Loaded(Box::new(SetupLoaded {
            recipes: Ok(summaries()),
            environments: Ok(environments()),
        })),
        &mut desk,
    );
    assert_eq!(p.environment(), Some("uat1"));
}

#[test]
fn r_starts_the_form_once_with_its_seed_count_and_a_fresh_key() {
    let mut a = on_form();
    // Three accounts, a typed name, new generated values.
    a.on_key(key('n'));
    a.act(Action::KillToLineStart);
    a.on_key(key('3'));
    a.on_key(special(KeyCode::Enter));
    a.on_key(special(KeyCode::Enter));
    a.act(Action::KillToLineStart);
    for c in "张三".chars() {
        a.on_key(key(c));
    }
    a.on_key(special(KeyCode::Enter));
    let seed = pane(&a).form().map(|f| f.seed);
    let effects = a.on_key(key('s'));
    let check = jobs::<CheckInputs>(&effects)[0];
    assert_ne!(Some(check.seed), seed, "a new seed");
    let seed = check.seed;
    let asked = check.asked;
    loaded(
        &mut a,
        Checked {
            asked,
            result: Ok(InputCheck {
                values: filled(),
                errors: Vec::new(),
            }),
        },
    );
    let effects = a.on_key(key('R'));
    let start = jobs::<StartRuns>(&effects);
    assert_eq!(start.len(), 1, "{effects:?}");
    let StartRuns { start, key: idem } = start[0];
    assert_eq!(start.recipe, "plain-account");
    assert_eq!(start.environment, "sandbox");
    assert_eq!(start.count, Some(3));
    assert_eq!(start.seed, Some(seed as i64));
    assert_eq!(start.set.get("name").map(String::as_str), Some("张三"));
    assert_eq!(start.set.len(), 1, "only what was typed: {:?}", start.set);
    assert!(idem.starts_with("tui-construct-"), "{idem}");
    // Pressed again while it is on its way: nothing more is sent.
    let first_key = idem.clone();
    assert!(jobs::<StartRuns>(&a.on_key(key('R'))).is_empty());
    // Refused by field: the reason goes beside its input.
    loaded(
        &mut a,
        Started(Err(Refused::Inputs(vec![(
            "name".into(),
            "姓名须为 2–20 个汉字".into(),
        )]))),
    );
    let form = pane(&a).form().expect("the form stays");
    assert_eq!(
        form.errors.get("name").map(String::as_str),
        Some("姓名须为 2–20 个汉字")
    );
    // Corrected and started again: a new key.
    a.on_key(special(KeyCode::Enter));
    a.on_key(key('x'));
    a.on_key(special(KeyCode::Enter));
    let effects = a.on_key(key('R'));
    let again = jobs::<StartRuns>(&effects);
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].key, first_key);
}

#[test]
fn a_run_started_opens_and_follows_the_stream_to_its_result() {
    let mut a = on_form();
    a.on_key(key('R'));
    let started = run(13, RunStatus::Queued, 0, "h_chen");
    let effects = loaded(&mut a, Started(Ok(vec![started.clone()])));
    assert_eq!(jobs::<FetchRun>(&effects), [&FetchRun { id: 13 }]);
    assert_eq!(pane(&a).detail().map(|d| d.id), Some(13));
    assert_eq!(pane(&a).runs()[0].id, 13, "newest first");
    // It runs and ends: what it built is fetched, and the figures again.
    let mut done = started.clone();
    done.status = RunStatus::Succeeded;
    done.version = 5;
    done.steps_done = 35;
    let effects = loaded(
        &mut a,
        FeedNews {
            events: vec![RunEvent {
                run: done,
                step: Some(step(34, StepStatus::Succeeded)),
            }],
            lagged: false,
        },
    );
    assert_eq!(jobs::<FetchRun>(&effects), [&FetchRun { id: 13 }]);
    assert_eq!(jobs::<FetchStats>(&effects).len(), 1);
    assert_eq!(pane(&a).runs()[0].status, RunStatus::Succeeded);
    // esc: back to the form; esc again: the list.
    a.on_key(special(KeyCode::Esc));
    assert!(pane(&a).detail().is_none() && pane(&a).form().is_some());
    a.on_key(special(KeyCode::Esc));
    assert!(pane(&a).form().is_none());
}

#[test]
fn the_list_is_live_and_listed_again_when_events_were_missed() {
    let mut a = on_pane();
    // Someone else's run stays out of my list; a new one of mine goes on top.
    let theirs = run(20, RunStatus::Running, 1, "h_wang");
    let mine = run(21, RunStatus::Running, 1, "h_chen");
    let effects = loaded(
        &mut a,
        FeedNews {
            events: vec![
                RunEvent {
                    run: theirs,
                    step: None,
                },
                RunEvent {
                    run: mine,
                    step: None,
                },
            ],
            lagged: false,
        },
    );
    assert!(effects.is_empty());
    let ids: Vec<i64> = pane(&a).runs().iter().map(|r| r.id).collect();
    assert_eq!(ids, [21, 12, 11, 10, 9, 8]);
    // Missed events, or the stream back after a drop: listed again.
    let effects = loaded(
        &mut a,
        FeedNews {
            events: Vec::new(),
            lagged: true,
        },
    );
    assert_eq!(jobs::<ListRuns>(&effects).len(), 1);
    loaded(&mut a, FeedLink::Down("connection reset".into()));
    assert_eq!(pane(&a).feed(), &Feed::Down("connection reset".into()));
    let shown = text(&mut a, &theme("default"), 80, 24);
    assert!(shown.contains("进度流断开 feed down"), "{shown}");
    let effects = loaded(&mut a, FeedLink::Up);
    assert_eq!(jobs::<ListRuns>(&effects).len(), 1);
    // The team's runs.
    let effects = a.on_key(key('m'));
    assert!(jobs::<ListRuns>(&effects)[0].team);
}

#[test]
fn resume_cancel_and_retry_unknown_ask_first_where_it_matters() {
    // A failed run resumes at once; with retry-unknown only after a yes.
    let mut a = on_run(failed());
    let effects = a.on_key(key('r'));
    assert_eq!(
        jobs::<ChangeRun>(&effects),
        [&ChangeRun {
            id: 11,
            change: Change::Resume {
                retry_unknown: false
            }
        }]
    );
    let effects = a.on_key(key('U'));
    assert!(jobs::<ChangeRun>(&effects).is_empty());
    assert!(matches!(a.overlay, Some(Overlay::Confirm { .. })));
    let effects = a.on_key(key('y'));
    assert_eq!(
        jobs::<ChangeRun>(&effects),
        [&ChangeRun {
            id: 11,
            change: Change::Resume {
                retry_unknown: true
            }
        }]
    );
    // Cancelling a failed run makes no sense: said, nothing asked.
    let effects = a.on_key(key('X'));
    assert!(effects.is_empty() && a.overlay.is_none());

    // A running one is cancelled after a yes; n leaves it running.
    let mut a = on_run(running());
    a.on_key(key('X'));
    let effects = a.on_key(key('n'));
    assert!(jobs::<ChangeRun>(&effects).is_empty());
    a.on_key(key('X'));
    let effects = a.on_key(key('y'));
    assert_eq!(
        jobs::<ChangeRun>(&effects),
        [&ChangeRun {
            id: 12,
            change: Change::Cancel
        }]
    );
    let mut cancelled = running().run;
    cancelled.status = RunStatus::Cancelled;
    cancelled.version = 9;
    let effects = loaded(
        &mut a,
        RunChanged {
            id: 12,
            change: Change::Cancel,
            result: Ok(cancelled),
        },
    );
    assert_eq!(jobs::<FetchRun>(&effects).len(), 1);
    assert_eq!(
        pane(&a)
            .detail()
            .and_then(|d| d.run.as_ref())
            .map(|r| r.status),
        Some(RunStatus::Cancelled)
    );
}

#[test]
fn the_result_goes_into_a_ticket_note_through_the_shared_editor() {
    // No ticket in hand: which one is asked, then the note editor opens on the result.
    let mut a = on_run(succeeded());
    a.on_key(key('i'));
    assert!(
        matches!(a.overlay, Some(Overlay::Prompt { .. })),
        "{:?}",
        a.overlay
    );
    for c in "#188".chars() {
        a.on_key(key(c));
    }
    a.on_key(special(KeyCode::Enter));
    let Some(Overlay::Editor { title, editor, .. }) = &a.overlay else {
        panic!("no editor: {:?}", a.overlay)
    };
    assert!(title.contains("#188"), "{title}");
    let note = editor.text();
    assert!(note.contains("fund_account      318800000010"), "{note}");
    assert!(note.contains("run #10"), "{note}");
    assert!(note.ends_with("opsdesk construct show 10"), "{note}");
    // Sent: it is ticket work, an internal note on #188.
    let effects = a.act(Action::Submit);
    assert!(
        effects.iter().any(|e| matches!(
            e,
            Effect::Call(crate::tui::work::Call::Message {
                id: 188,
                internal: true,
                ..
            })
        )),
        "{effects:?}"
    );

    // A run with nothing built: said, nothing opened.
    let mut a = on_run(failed());
    a.on_key(key('i'));
    assert!(a.overlay.is_none());
}

#[test]
fn a_result_is_noted_into_the_ticket_in_hand() {
    let mut desk = Desk::new(
        crate::config::default_systems(),
        chrono_tz::Asia::Shanghai,
        now(),
    );
    let mut p = ConstructPane::default();
    p.update(Msg::Shown { in_hand: Some(101) }, &mut desk);
    p.open_run(10, None);
    let d = succeeded();
    p.update(
        Msg::Loaded(Box::new(RunLoaded {
            id: 10,
            result: Ok(d),
        })),
        &mut desk,
    );
    desk.take_requests();
    p.update(Msg::Action(Action::Note), &mut desk);
    let opened = desk.take_requests().into_iter().any(
        |r| matches!(r, Request::Overlay(Overlay::Editor { title, .. }) if title.contains("#101")),
    );
    assert!(opened, "the note editor on #101");
}

#[test]
fn steps_lay_out_by_the_recipe_and_keep_the_newest_news() {
    let d = running();
    let mut detail = Detail::new(12, Some(d.run.clone()));
    detail.loaded(d);
    let recipe = plain_form();
    let rows = detail.rows(Some(&recipe));
    assert_eq!(rows.len(), 36, "the stage and its 35 steps");
    assert!(
        matches!(&rows[13], detail::Row::Step(k, Some(s)) if k == "account/get-risk-questionnaire" && s.status == StepStatus::Running)
    );
    assert!(matches!(&rows[14], detail::Row::Step(_, None)));
    // The running step is in view; an older answer does not undo a newer one.
    assert_eq!(
        detail.in_view().as_deref(),
        Some("account/get-risk-questionnaire")
    );
    let mut stale = running();
    stale.steps.truncate(5);
    stale.steps[4].status = StepStatus::Running;
    stale.run.version = 0;
    detail.loaded(stale);
    assert_eq!(detail.steps[4].status, StepStatus::Succeeded);
    assert_eq!(detail.run.as_ref().map(|r| r.steps_done), Some(12));
    // A loop's calls sit under their step, in order.
    let mut looped = Detail::new(1, None);
    for i in [1, 0] {
        let mut s = step(0, StepStatus::Succeeded);
        s.key = format!("account/create-customer[{i}]");
        looped.upsert(s);
    }
    let rows = looped.rows(Some(&recipe));
    assert!(matches!(&rows[1], detail::Row::Step(k, _) if k == "account/create-customer[0]"));
    assert!(matches!(&rows[2], detail::Row::Step(k, _) if k == "account/create-customer[1]"));
}
