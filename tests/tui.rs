//! The workstation without a terminal or a server: `App` behaviour driven by keys and changes,
//! and every pane and overlay rendered on ratatui's TestBackend at 80×24 and 120×40, in the
//! default and mono themes, with a fixed clock and Chinese text.

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdesk::config::{Settings, default_systems};
use opsdesk::domain::mask::{AccountNo, CustomerName, Phone};
use opsdesk::domain::message::Message;
use opsdesk::domain::people::Role;
use opsdesk::domain::ticket::{Category, Channel, Customer, Priority, Ticket};
use opsdesk::domain::validate::NewTicket;
use opsdesk::domain::view::{Change, SlaContext, TicketView, ticket_view};
use opsdesk::tui::action::Action;
use opsdesk::tui::app::{App, Call, Event, LinkState};
use opsdesk::tui::desk::PendingWrite;
use opsdesk::tui::effect::Effect;
use opsdesk::tui::keymap::Keymap;
use opsdesk::tui::overlay::Overlay;
use opsdesk::tui::panes::PaneId;
use opsdesk::tui::panes::kb::{FetchArticle, Fetched, FoundKb, KbPane, SearchKb, write};
use opsdesk::tui::panes::queue::Queue;
use opsdesk::tui::panes::ticket::{Detail, Loaded, TicketJob, TicketPane};
use opsdesk::tui::theme::{Theme, ThemeEnv};
use opsdesk::tui::view;
use opsdesk::tui::work::{self, AttachmentJob};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

/// 2026-11-24 10:00 in Shanghai, a Tuesday inside working hours.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap()
}

fn ticket(id: i64, title: &str, system: &str, priority: Priority, minutes_ago: i64) -> TicketView {
    let settings = Settings::default();
    let new = NewTicket {
        title: title.into(),
        description: format!(
            "客户 310012345678 在 APP 上操作时提示“{title}”，已重试三次仍然失败，请协助排查。"
        ),
        system: system.into(),
        customer: Customer {
            name: Some(CustomerName::new("王小明")),
            account: Some(AccountNo::new("310012345678")),
            phone: Some(Phone::new("13812341234")),
            id_number: None,
        },
        category: Some(Category::Consultation),
        priority: Some(priority),
        ..Default::default()
    };
    let mut t = Ticket::open(
        new,
        Channel::Mss,
        "cm_wang".into(),
        now() - chrono::Duration::minutes(minutes_ago),
    );
    t.id = id;
    let sla = SlaContext {
        policy: &settings.sla,
        calendar: &settings.calendar,
    };
    ticket_view(&t, Vec::new(), &sla, now())
}

/// A workstation with a shipped keymap and nothing loaded.
fn bare_app(preset: &str) -> App {
    let (keymap, warnings) = Keymap::load(preset, None).unwrap();
    assert!(warnings.is_empty(), "{preset}: {warnings:?}");
    App::new(
        keymap,
        default_systems(),
        chrono_tz::Asia::Shanghai,
        "http://127.0.0.1:7878".into(),
        true,
        now(),
    )
}

fn app() -> App {
    let mut app = bare_app("default");
    app.update(Event::SignedIn {
        me: Some("h_chen".into()),
        last_seq: 0,
    });
    app.update(Event::Link(LinkState::Live));
    app.on_tickets(vec![
        ticket(101, "委托下单提示资金不足", "trading", Priority::P2, 50),
        ticket(
            102,
            "开户视频见证一直排队",
            "account_opening",
            Priority::P3,
            240,
        ),
        ticket(103, "三方存管银行卡绑定失败", "depository", Priority::P1, 5),
        ticket(
            104,
            "行情刷新延迟三秒以上，客户反映看盘卡顿严重，希望尽快处理",
            "market_data",
            Priority::P4,
            1000,
        ),
        ticket(105, "融资融券担保比例显示异常", "margin", Priority::P3, 30),
    ]);
    app
}

fn queue(a: &App) -> &Queue {
    a.pane::<Queue>().expect("the queue pane")
}

fn detail(a: &App) -> Option<&Detail> {
    a.pane::<TicketPane>()
        .expect("the ticket pane")
        .detail
        .as_ref()
}

/// A result of the ticket pane's work arrives.
fn loaded(a: &mut App, loaded: Loaded) {
    a.update(Event::Loaded {
        pane: PaneId::TICKET,
        loaded: Box::new(loaded),
    });
}

fn similar_to(a: &App, id: i64) -> Vec<(String, String)> {
    let server = a.pane::<TicketPane>().and_then(|t| t.similar());
    work::similar_to(&a.desk, id, server)
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn with_ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
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

fn screen(app: &mut App, theme: &Theme, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| view::draw(f, app, theme)).unwrap();
    terminal
}

fn text(terminal: &Terminal<TestBackend>) -> String {
    terminal.backend().to_string()
}

#[test]
fn the_queue_sorts_by_sla_and_opens_a_ticket() {
    let mut a = app();
    assert_eq!(queue(&a).rows.len(), 5);
    // The P2 already past its 30-minute response target leads; the P1 due in 10 minutes follows.
    assert_eq!(&queue(&a).rows[..2], &[101, 103]);
    a.on_key(key('j'));
    assert_eq!(queue(&a).selected_id(), Some(queue(&a).rows[1]));
    let chosen = queue(&a).selected_id().unwrap();
    let effects = a.on_key(special(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::run(Some(PaneId::TICKET), TicketJob::Load(chosen))]
    );
    assert_eq!(a.focus(), PaneId::TICKET);
    a.on_key(special(KeyCode::Esc));
    assert_eq!(a.focus(), PaneId::QUEUE);
}

#[test]
fn keys_sort_filter_mark_and_jump() {
    let mut a = app();
    a.on_key(key('G'));
    assert_eq!(queue(&a).selected, 4);
    a.on_key(key('g'));
    a.on_key(key('g'));
    assert_eq!(queue(&a).selected, 0, "g g goes to the top");
    let selected = queue(&a).selected_id().unwrap();
    a.on_key(key('s'));
    assert_eq!(queue(&a).sort.label(), "priority");
    assert_eq!(queue(&a).rows[0], 103);
    assert_eq!(
        queue(&a).selected_id(),
        Some(selected),
        "the selection stays on its ticket"
    );
    a.on_key(key(' '));
    assert!(queue(&a).marks.contains(&selected));
    a.on_key(key('/'));
    for c in "存管".chars() {
        a.on_key(key(c));
    }
    assert_eq!(queue(&a).rows, vec![103]);
    a.on_key(special(KeyCode::Esc));
    assert_eq!(queue(&a).rows.len(), 5, "cancel restores the filter");
    a.on_key(key('/'));
    a.on_key(key('1'));
    a.on_key(key('0'));
    a.on_key(key('4'));
    a.on_key(special(KeyCode::Enter));
    assert_eq!(queue(&a).rows, vec![104], "a kept filter");
    assert!(a.overlay.is_none());
    a.on_key(key('3'));
    assert_eq!(a.focus(), PaneId::LOGS);
}

#[test]
fn a_new_ticket_on_the_stream_appears_without_a_key_press() {
    let mut a = app();
    let t = ticket(200, "登录验证码收不到", "app", Priority::P3, 0);
    let change = Change {
        seq: 9,
        at: now(),
        kind: "ticket.created".into(),
        ticket_id: Some(200),
        actor: "cm_li".into(),
        data: serde_json::to_value(&t).unwrap(),
    };
    a.on_change(&change);
    assert!(queue(&a).rows.contains(&200));
    assert_eq!(a.last_seq, 9);
    assert!(a.toasts.iter().any(|t| t.text.contains("登录验证码收不到")));

    // A resolved ticket leaves the queue.
    let mut done = t.clone();
    done.status = opsdesk::domain::ticket::Status::Resolved;
    done.version = 2;
    a.on_change(&Change {
        seq: 10,
        kind: "ticket.updated".into(),
        data: serde_json::to_value(&done).unwrap(),
        ..change
    });
    assert!(!queue(&a).rows.contains(&200));
}

#[test]
fn messages_arrive_for_the_open_ticket() {
    let mut a = app();
    a.on_key(special(KeyCode::Enter));
    let id = detail(&a).unwrap().id;
    loaded(&mut a, Loaded::Messages(id, Ok(vec![])));
    let m = Message {
        id: 1,
        ticket_id: id,
        author: "cm_wang".into(),
        author_role: Role::Submitter,
        internal: false,
        body: "客户说重启后还是不行".into(),
        created_at: now(),
    };
    let change = Change {
        seq: 3,
        at: now(),
        kind: "message.created".into(),
        ticket_id: Some(id),
        actor: "cm_wang".into(),
        data: serde_json::to_value(&m).unwrap(),
    };
    a.on_change(&change);
    a.on_change(&change);
    assert_eq!(
        detail(&a).unwrap().messages.as_ref().unwrap().len(),
        1,
        "once, even if delivered twice"
    );
}

#[test]
fn the_palette_runs_an_action_by_name() {
    let mut a = app();
    a.on_key(key(':'));
    assert!(matches!(a.overlay, Some(Overlay::Palette { .. })));
    for c in "pane_kb".chars() {
        a.on_key(key(c));
    }
    a.on_key(special(KeyCode::Enter));
    assert_eq!(a.focus(), PaneId::KB);
    assert!(a.overlay.is_none());
}

#[test]
fn screens_at_80x24_and_120x40() {
    for (name, w, h) in [("80x24", 80, 24), ("120x40", 120, 40)] {
        for theme_name in ["default", "mono"] {
            let t = theme(theme_name);
            let mut a = app();
            insta::assert_snapshot!(
                format!("queue_{name}_{theme_name}"),
                text(&screen(&mut a, &t, w, h))
            );

            a.on_key(special(KeyCode::Enter));
            let id = detail(&a).unwrap().id;
            loaded(
                &mut a,
                Loaded::Messages(
                    id,
                    Ok(vec![Message {
                        id: 1,
                        ticket_id: id,
                        author: "h_chen".into(),
                        author_role: Role::Handler,
                        internal: true,
                        body: "ELK 查到 10:05 委托请求超时".into(),
                        created_at: now(),
                    }]),
                ),
            );
            insta::assert_snapshot!(
                format!("ticket_{name}_{theme_name}"),
                text(&screen(&mut a, &t, w, h))
            );

            a.on_key(key('?'));
            insta::assert_snapshot!(
                format!("help_{name}_{theme_name}"),
                text(&screen(&mut a, &t, w, h))
            );
            a.on_key(special(KeyCode::Esc));

            a.on_key(key(':'));
            insta::assert_snapshot!(
                format!("palette_{name}_{theme_name}"),
                text(&screen(&mut a, &t, w, h))
            );
            a.on_key(special(KeyCode::Esc));

            a.on_key(key('4'));
            a.update(Event::Link(LinkState::Reconnecting {
                attempt: 2,
                reason: "connection refused".into(),
            }));
            insta::assert_snapshot!(
                format!("kb_reconnecting_{name}_{theme_name}"),
                text(&screen(&mut a, &t, w, h))
            );
        }
    }
}

/// The overlays of ticket work and the other placeholder panes, at both sizes and in both
/// themes: the reply editor with Chinese text, the transfer picker, the link prompt, the
/// queue filter being typed, a screenshot preview, and offline with writes waiting.
#[test]
fn overlays_and_placeholders() {
    let mut png = Vec::new();
    image::RgbImage::from_fn(60, 40, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 6) as u8, 120])
    })
    .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
    .unwrap();
    let picture = opsdesk::tui::preview::Preview::decode(&png).unwrap();
    for (name, w, h) in [("80x24", 80, 24), ("120x40", 120, 40)] {
        for theme_name in ["default", "mono"] {
            let t = theme(theme_name);
            let shot = |a: &mut App, what: &str| {
                insta::assert_snapshot!(
                    format!("{what}_{name}_{theme_name}"),
                    text(&screen(a, &t, w, h))
                );
            };
            let mut a = app();
            a.desk.colour = theme_name != "mono";
            a.on_key(key('/'));
            for c in "存管".chars() {
                a.on_key(key(c));
            }
            shot(&mut a, "filter_typing");
            a.on_key(special(KeyCode::Esc));
            a.on_key(special(KeyCode::Enter));
            a.on_key(key('r'));
            for c in "您好，请客户重新登录后再试。".chars() {
                a.on_key(key(c));
            }
            a.on_key(special(KeyCode::Enter));
            for c in "如仍失败请截图".chars() {
                a.on_key(key(c));
            }
            shot(&mut a, "reply_editor");
            a.on_key(special(KeyCode::Esc));
            a.on_key(key('x'));
            shot(&mut a, "transfer_picker");
            a.on_key(special(KeyCode::Esc));
            a.on_key(key('P'));
            a.on_key(key('1'));
            shot(&mut a, "link_prompt");
            a.on_key(special(KeyCode::Esc));
            a.update(Event::Overlay(Box::new(Overlay::Preview {
                title: "#101 截图.png".into(),
                image: Box::new(picture.clone()),
            })));
            shot(&mut a, "screenshot_preview");
            a.on_key(special(KeyCode::Esc));
            a.update(Event::Link(LinkState::Offline {
                attempt: 1,
                reason: "connection refused".into(),
            }));
            a.update(Event::Outbox(vec![
                PendingWrite {
                    ticket: 101,
                    label: "#101 回复 reply".into(),
                    text: Some("已为客户重置密码".into()),
                };
                2
            ]));
            for pane in ['3', '5', '6', '7'] {
                a.on_key(key(pane));
                shot(&mut a, &format!("pane_{pane}_offline"));
            }
        }
    }
}

#[test]
fn mono_draws_without_colour_and_default_sets_no_background() {
    for (theme_name, allow_fg) in [("mono", false), ("default", true)] {
        let t = theme(theme_name);
        let mut a = app();
        let term = screen(&mut a, &t, 120, 40);
        for cell in term.backend().buffer().content() {
            assert!(
                matches!(cell.bg, Color::Reset),
                "{theme_name} set a background"
            );
            if !allow_fg {
                assert!(
                    matches!(cell.fg, Color::Reset),
                    "{theme_name} used a colour"
                );
            }
        }
    }
}

fn pick(a: &mut App, label_part: &str) -> Vec<Effect> {
    let Some(Overlay::Picker { options, .. }) = &a.overlay else {
        panic!("no picker: {:?}", a.overlay)
    };
    let index = options
        .iter()
        .position(|(label, _)| label.contains(label_part))
        .unwrap_or_else(|| panic!("{label_part} not in {options:?}"));
    for _ in 0..index {
        a.on_key(special(KeyCode::Down));
    }
    a.on_key(special(KeyCode::Enter))
}

#[test]
fn filters_by_status_system_and_assignee_from_pickers() {
    let mut a = app();
    a.on_key(key('f'));
    a.on_key(key('y'));
    pick(&mut a, "融资融券");
    assert_eq!(queue(&a).rows, vec![105]);
    assert!(queue(&a).summary(&a.desk.unread).contains("system: margin"));
    a.on_key(key('f'));
    a.on_key(key('x'));
    assert_eq!(queue(&a).rows.len(), 5, "f x clears every filter");
    a.on_key(key('f'));
    a.on_key(key('a'));
    pick(&mut a, "未指派");
    assert_eq!(queue(&a).rows.len(), 5, "all unassigned");

    // One taken by a colleague and recategorised: the assignee and category pickers narrow
    // the list to what they name.
    let mut t = a.desk.tickets.view(103).unwrap().clone();
    t.version += 1;
    t.assignee = Some("h_li".into());
    t.category = Category::Data;
    a.on_tickets(vec![t]);
    assert_eq!(queue(&a).rows.len(), 4, "unassigned leaves out h_li's");
    assert!(!queue(&a).rows.contains(&103));
    a.on_key(key('f'));
    a.on_key(key('a'));
    pick(&mut a, "h_li");
    assert_eq!(queue(&a).rows, vec![103]);
    a.on_key(key('f'));
    a.on_key(key('x'));
    a.on_key(key('f'));
    a.on_key(key('c'));
    pick(&mut a, "data");
    assert_eq!(queue(&a).rows, vec![103]);
    assert!(queue(&a).summary(&a.desk.unread).contains("category: data"));
}

#[test]
fn assign_and_priority_become_versioned_patches() {
    let mut a = app();
    a.on_key(special(KeyCode::Enter));
    let id = detail(&a).unwrap().id;
    a.on_key(key('a'));
    assert!(matches!(a.overlay, Some(Overlay::Picker { .. })));
    a.on_key(special(KeyCode::Esc));
    a.on_key(key('p'));
    a.on_key(special(KeyCode::Down));
    let effects = a.on_key(special(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Call(Call::Patch {
            id,
            body: serde_json::json!({"version": 1, "priority": "P2"})
        })]
    );
}

#[test]
fn similar_reports_are_offered_and_bulk_work_previews_the_marked() {
    let mut a = app();
    a.on_tickets(vec![ticket(
        106,
        "行情刷新延迟严重",
        "market_data",
        Priority::P3,
        20,
    )]);
    let options = similar_to(&a, 104);
    assert!(options.iter().any(|(_, v)| v == "106"), "{options:?}");

    a.on_key(key(' '));
    a.on_key(key(' '));
    a.on_key(key('B'));
    let Some(Overlay::Picker { options, .. }) = &a.overlay else {
        panic!("no bulk menu")
    };
    assert!(
        options[0].0.contains('#'),
        "the marked tickets are named: {options:?}"
    );
    let effects = a.on_key(special(KeyCode::Enter));
    assert_eq!(effects.len(), 2);
    assert!(
        effects.iter().all(
            |e| matches!(e, Effect::Call(Call::Take { me, start: true, .. }) if me == "h_chen")
        )
    );
    assert!(queue(&a).marks.is_empty());
}

#[test]
fn linking_offers_the_likeliest_original_and_attachments_can_be_saved() {
    let mut a = app();
    a.on_tickets(vec![ticket(
        106,
        "行情刷新延迟严重",
        "market_data",
        Priority::P3,
        20,
    )]);
    while queue(&a).selected_id() != Some(106) {
        a.on_key(key('j'));
    }
    a.on_key(special(KeyCode::Enter));
    a.on_key(key('d'));
    let Some(Overlay::Prompt { input, .. }) = &a.overlay else {
        panic!("no prompt: {:?}", a.overlay)
    };
    assert!(!input.is_empty(), "a similar ticket is offered");
    for _ in 0..input.chars().count() {
        a.on_key(special(KeyCode::Backspace));
    }
    for c in "#104".chars() {
        a.on_key(key(c));
    }
    let effects = a.on_key(special(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Call(Call::Link {
            id: 106,
            kind: opsdesk::domain::ticket::LinkKind::DuplicateOf,
            target: Some(104),
            version: 1
        })]
    );
    a.on_key(key('P'));
    for c in "abc".chars() {
        a.on_key(key(c));
    }
    assert!(
        a.on_key(special(KeyCode::Enter)).is_empty(),
        "not a ticket number"
    );
    assert!(a.toasts.iter().any(|t| t.error && t.text.contains("abc")));

    // Attachments: none yet, then one to save.
    a.on_key(key('A'));
    assert!(a.overlay.is_none());
    let mut t = a.desk.tickets.view(106).unwrap().clone();
    t.version = 2;
    t.attachments.push(opsdesk::domain::message::Attachment {
        id: 7,
        ticket_id: 106,
        message_id: None,
        filename: "截图.png".into(),
        content_type: "image/png".into(),
        size: 2048,
        sha256: String::new(),
        stored_name: String::new(),
        uploaded_by: "cm_wang".into(),
        created_at: now(),
    });
    a.on_tickets(vec![t]);
    a.on_key(key('A'));
    let effects = a.on_key(special(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::run(
            None,
            AttachmentJob::Preview {
                ticket: 106,
                attachment: 7,
                filename: "截图.png".into()
            }
        )]
    );
    a.on_key(key('w'));
    let effects = a.on_key(special(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::run(
            None,
            AttachmentJob::Save {
                ticket: 106,
                attachment: 7,
                filename: "截图.png".into()
            }
        )]
    );
}

#[test]
fn a_second_handler_approves_an_ops_script_from_the_ticket() {
    let mut a = app();
    a.on_key(special(KeyCode::Enter));
    let id = detail(&a).unwrap().id;
    let effects = a.on_key(key('Y'));
    assert_eq!(
        effects,
        vec![Effect::Call(Call::ApproveScript { id, version: 1 })]
    );
}

#[test]
fn a_long_queue_scrolls_to_keep_the_selection_on_screen() {
    let mut a = app();
    a.on_tickets(
        (1000..1300)
            .map(|i| {
                ticket(
                    i,
                    &format!("批量测试工单第{i}号"),
                    "trading",
                    Priority::P4,
                    600,
                )
            })
            .collect(),
    );
    let t = theme("default");
    a.on_key(key('G'));
    let last = *queue(&a).rows.last().unwrap();
    let shown = text(&screen(&mut a, &t, 80, 24));
    assert!(shown.contains(&format!("第{last}号")), "{shown}");
    a.on_key(key('g'));
    a.on_key(key('g'));
    let first = queue(&a).rows[0].to_string();
    let shown = text(&screen(&mut a, &t, 80, 24));
    assert!(shown.contains(&format!("│  {first}")), "{shown}");
}

#[test]
fn system_and_category_with_subcategory_are_set_from_the_keyboard() {
    let mut a = app();
    a.on_key(special(KeyCode::Enter));
    let id = detail(&a).unwrap().id;
    a.on_key(key('y'));
    let effects = pick(&mut a, "清算");
    assert_eq!(
        effects,
        vec![Effect::Call(Call::Patch {
            id,
            body: serde_json::json!({"version": 1, "system": "clearing"})
        })]
    );
    a.on_key(key('c'));
    pick(&mut a, "数据类");
    let Some(Overlay::Prompt { .. }) = &a.overlay else {
        panic!("no subcategory prompt: {:?}", a.overlay)
    };
    for c in "资金".chars() {
        a.on_key(key(c));
    }
    let effects = a.on_key(special(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Call(Call::Patch {
            id,
            body: serde_json::json!({"version": 1, "category": "data", "subcategory": "资金"})
        })]
    );
}

#[test]
fn bulk_assign_transfer_and_parent_act_on_every_marked_ticket() {
    let mut a = app();
    let marked = |a: &mut App| {
        a.on_key(key('g'));
        a.on_key(key('g'));
        a.on_key(key(' '));
        a.on_key(key(' '));
        a.on_key(key('B'));
    };
    marked(&mut a);
    pick(&mut a, "assign");
    let effects = pick(&mut a, "h_chen");
    assert_eq!(effects.len(), 2);
    assert!(effects.iter().all(
        |e| matches!(e, Effect::Call(Call::Patch { body, .. }) if body["assignee"] == "h_chen")
    ));

    marked(&mut a);
    pick(&mut a, "link to a parent");
    for c in "#104".chars() {
        a.on_key(key(c));
    }
    let effects = a.on_key(special(KeyCode::Enter));
    assert!(effects.iter().all(|e| matches!(
        e,
        Effect::Call(Call::Link {
            target: Some(104),
            ..
        })
    )));
    assert!(!effects.is_empty());

    // New tickets cannot be transferred before triage: each is skipped with a line saying so.
    marked(&mut a);
    pick(&mut a, "transfer");
    pick(&mut a, "研发");
    a.on_key(key('x'));
    let effects = a.on_key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
    assert!(effects.is_empty());
    assert!(
        a.toasts
            .iter()
            .filter(|t| t.text.contains("不能转交"))
            .count()
            >= 2
    );
    assert_eq!(
        queue(&a).marks.len(),
        2,
        "the skipped stay marked, to be seen to"
    );
}

#[test]
fn taking_a_colleagues_ticket_asks_first_and_the_bulk_preview_names_them() {
    let mut a = app();
    let mut theirs = a.desk.tickets.view(103).unwrap().clone();
    theirs.assignee = Some("h_lin".into());
    theirs.version = 2;
    a.on_tickets(vec![theirs]);
    while queue(&a).selected_id() != Some(103) {
        a.on_key(key('j'));
    }
    // From the list, on the selected row: a question, not a reassignment.
    assert!(a.on_key(key('t')).is_empty());
    let Some(Overlay::Confirm { question, .. }) = &a.overlay else {
        panic!("no question: {:?}", a.overlay)
    };
    assert!(question.contains("h_lin"), "{question}");
    assert!(a.on_key(key('n')).is_empty(), "no: nothing is sent");
    assert!(a.overlay.is_none());
    a.on_key(key('t'));
    let effects = a.on_key(key('y'));
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::Call(Call::Take {
                id: 103,
                version: 2,
                ..
            })]
        ),
        "{effects:?}"
    );

    // An unassigned ticket is simply taken.
    a.on_key(key('g'));
    a.on_key(key('g'));
    let first = queue(&a).selected_id().unwrap();
    assert!(matches!(
        a.on_key(key('t')).as_slice(),
        [Effect::Call(Call::Take { id, .. })] if *id == first
    ));

    // The bulk preview names whose tickets a take would reassign.
    a.on_key(key('*'));
    a.on_key(key('B'));
    let Some(Overlay::Picker { options, .. }) = &a.overlay else {
        panic!("no bulk menu")
    };
    assert!(options[0].0.contains("#103 h_lin"), "{:?}", options[0]);
    assert!(
        options.iter().any(|(l, _)| l.contains("P1"))
            && options.iter().any(|(l, _)| l.contains("P4")),
        "every priority is offered"
    );
}

#[test]
fn the_ticket_shows_its_timeline() {
    let mut a = app();
    a.on_key(special(KeyCode::Enter));
    let id = detail(&a).unwrap().id;
    let entry = |action: &str, detail: serde_json::Value| opsdesk::api::TimelineEntry {
        at: "2026-11-24T01:30:00.000Z".into(),
        actor: "h_chen".into(),
        action: action.into(),
        detail,
    };
    loaded(
        &mut a,
        Loaded::Timeline(
            id,
            vec![
                entry("ticket.created", serde_json::json!({})),
                entry(
                    "ticket.transitioned",
                    serde_json::json!({"from": "new", "to": "triaging"}),
                ),
            ],
        ),
    );
    a.on_key(key('G'));
    let shown = text(&screen(&mut a, &theme("default"), 100, 40));
    assert!(
        shown.contains("时间线")
            && shown.contains("11-24 09:30")
            && shown.contains("new → triaging"),
        "{shown}"
    );
}

#[test]
fn a_resize_to_200x60_and_back_to_80x24_redraws() {
    let mut a = app();
    let t = theme("default");
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| view::draw(f, &mut a, &t)).unwrap();
    terminal.backend_mut().resize(200, 60);
    terminal.autoresize().unwrap();
    terminal.draw(|f| view::draw(f, &mut a, &t)).unwrap();
    let wide = text(&terminal);
    assert!(
        wide.contains("7 告警 Alerts") && wide.contains("委托下单提示资金不足"),
        "{wide}"
    );
    terminal.backend_mut().resize(80, 24);
    terminal.autoresize().unwrap();
    terminal.draw(|f| view::draw(f, &mut a, &t)).unwrap();
    assert_eq!(text(&terminal), text(&screen(&mut a, &t, 80, 24)));
}

#[test]
fn the_typed_filter_ignores_case_in_titles_and_matches_people_and_systems() {
    let mut a = app();
    a.on_tickets(vec![ticket(
        106,
        "APP 登录收不到验证码",
        "app",
        Priority::P3,
        10,
    )]);
    let typed = |a: &mut App, text: &str| {
        a.on_key(key('/'));
        for c in text.chars() {
            a.on_key(key(c));
        }
        let rows = queue(a).rows.clone();
        a.on_key(special(KeyCode::Esc));
        rows
    };
    assert_eq!(typed(&mut a, "app 登录"), vec![106]);
    assert_eq!(typed(&mut a, "App"), vec![106], "the typed text folds too");
    assert_eq!(typed(&mut a, "margin"), vec![105], "by system key");
    assert!(typed(&mut a, "zzz").is_empty());
}

#[test]
fn a_long_refusal_is_read_whole_at_80_columns() {
    let mut a = app();
    a.toast(
        "#101 → 已解决 未发送：the ticket was changed by someone else (now version 7); reopen it and try again",
        true,
    );
    let t = theme("default");
    let shown = text(&screen(&mut a, &t, 80, 24));
    assert!(shown.contains("now version 7"), "{shown}");
    assert!(shown.contains("try again"), "{shown}");
}

#[test]
fn unread_badges_from_the_server_skip_the_ticket_being_read() {
    let mut a = app();
    a.on_key(special(KeyCode::Enter));
    let open = detail(&a).map(|d| d.id).expect("a ticket is open");
    a.update(Event::Unread(vec![open, 104]));
    assert!(a.desk.unread.contains(&104));
    assert!(!a.desk.unread.contains(&open));
}

#[test]
fn numbers_in_a_title_are_masked_in_the_queue_and_shown_in_the_ticket() {
    let mut a = app();
    a.on_tickets(vec![ticket(
        107,
        "客户 310012345678 无法登录",
        "account",
        Priority::P1,
        1,
    )]);
    let t = theme("default");
    let listed = text(&screen(&mut a, &t, 100, 40));
    assert!(!listed.contains("310012345678"), "{listed}");
    assert!(listed.contains("无法登录"));
    while queue(&a).selected_id() != Some(107) {
        a.on_key(key('j'));
    }
    a.on_key(special(KeyCode::Enter));
    let detail = text(&screen(&mut a, &t, 100, 40));
    assert!(
        detail.contains("310012345678"),
        "the detail view shows it: {detail}"
    );
}

#[test]
fn the_servers_similar_tickets_replace_the_local_guess() {
    let mut a = app();
    a.on_key(special(KeyCode::Enter));
    let open = detail(&a).map(|d| d.id).expect("a ticket is open");
    let other = if open == 105 { 104 } else { 105 };
    loaded(&mut a, Loaded::Similar(open, vec![other]));
    let offered: Vec<String> = similar_to(&a, open).into_iter().map(|(_, id)| id).collect();
    assert_eq!(offered, vec![other.to_string()]);
    loaded(&mut a, Loaded::Similar(open, Vec::new()));
    assert!(
        similar_to(&a, open).is_empty(),
        "the server found none: none is offered"
    );
}

#[test]
fn an_open_ticket_names_the_knowledge_base_articles_about_it() {
    let mut a = app();
    let t = theme("default");
    a.on_key(special(KeyCode::Enter));
    let open = detail(&a).map(|d| d.id).expect("a ticket is open");
    let before = text_of(&mut a, &t);
    assert!(!before.contains("文章 articles"), "{before}");
    loaded(
        &mut a,
        Loaded::Related(
            open,
            vec![
                kb_summary(1, "开户失败：视频见证时提示“网络异常”", true, vec![]),
                kb_summary(2, "开户申请提交后怎么查进度", false, vec![]),
            ],
        ),
    );
    let shown = text_of(&mut a, &t);
    assert!(
        shown.contains("文章 articles 开户失败：视频见证时提示“网络异常”"),
        "{shown}"
    );
    assert!(
        shown.contains("              开户申请提交后怎么查进度"),
        "{shown}"
    );
    // What was written up from it comes first, and is not named twice.
    loaded(
        &mut a,
        Loaded::WrittenUp(
            open,
            vec![kb_summary(2, "开户申请提交后怎么查进度", false, vec![])],
        ),
    );
    let shown = text_of(&mut a, &t);
    assert!(
        shown.contains("写成 written  #2 开户申请提交后怎么查进度"),
        "{shown}"
    );
    assert_eq!(
        shown.matches("开户申请提交后怎么查进度").count(),
        1,
        "{shown}"
    );
    // An answer for a ticket no longer open changes nothing.
    loaded(
        &mut a,
        Loaded::Related(
            open + 1000,
            vec![kb_summary(3, "别的工单的文章", false, vec![])],
        ),
    );
    assert!(!text_of(&mut a, &t).contains("别的工单的文章"));
}

#[test]
fn a_toast_over_chinese_text_keeps_its_first_character() {
    let mut a = app();
    let t = theme("default");
    // At 120 columns the toast starts where the queue's wide characters stand.
    for text in ["本地缓存已损坏，已移到别处并从服务器重建", "本地缓存不可用"]
    {
        a.toast(text, true);
        let shown = text_of(&mut a, &t);
        assert!(shown.contains(text), "{shown}");
    }
}

fn text_of(a: &mut App, t: &Theme) -> String {
    let mut terminal = Terminal::new(TestBackend::new(121, 40)).unwrap();
    terminal.draw(|f| view::draw(f, a, t)).unwrap();
    // Each row as a terminal shows it: a wide character covers the cell after it.
    let mut out = String::new();
    for row in terminal.backend().buffer().content().chunks(121) {
        let mut covered = 0;
        for cell in row {
            if covered > 0 {
                covered -= 1;
                continue;
            }
            let symbol = cell.symbol();
            covered = unicode_width::UnicodeWidthStr::width(symbol).saturating_sub(1);
            out.push_str(symbol);
        }
        out.push('\n');
    }
    out
}

#[test]
fn the_ticket_pane_shows_links_approvals_waiting_writes_and_a_fresh_timeline() {
    let mut a = app();
    a.on_key(special(KeyCode::Enter));
    let id = detail(&a).unwrap().id;
    let mut t = a.desk.tickets.view(id).unwrap().clone();
    t.version = 5;
    t.status = opsdesk::domain::ticket::Status::Transferred;
    t.transfer_to = Some(opsdesk::domain::ticket::TransferTarget::Ops);
    t.links.duplicate_of = Some(168);
    t.links.parent = Some(186);
    t.script_approved_by = Some("h_lin".into());
    t.script_approved_at = Some(now());
    let effects = a.on_change(&Change {
        seq: 40,
        at: now(),
        kind: "ticket.updated".into(),
        ticket_id: Some(id),
        actor: "h_chen".into(),
        data: serde_json::to_value(&t).unwrap(),
    });
    assert!(
        effects.contains(&Effect::run(Some(PaneId::TICKET), TicketJob::Timeline(id))),
        "the timeline is read again: {effects:?}"
    );
    a.update(Event::Outbox(vec![PendingWrite {
        ticket: id,
        label: format!("#{id} 回复 reply"),
        text: Some("您好，数据已修复".into()),
    }]));
    let shown = text(&screen(&mut a, &theme("default"), 100, 40));
    for part in [
        "重复于 duplicate of #168",
        "父事件 parent #186",
        "已由 h_lin 审批",
        "待发送 waiting to be sent",
        "您好，数据已修复",
    ] {
        assert!(shown.contains(part), "{part}:\n{shown}");
    }
    // Enter follows the link to the original.
    a.on_key(special(KeyCode::Enter));
    assert_eq!(detail(&a).unwrap().id, 168);
    a.on_key(key('1'));
    let listed = text(&screen(&mut a, &theme("default"), 100, 40));
    assert!(listed.contains(&format!("↑ {id}")), "{listed}");
}

#[test]
fn help_and_the_palette_teach_at_80x24() {
    let mut a = app();
    let t = theme("default");
    // The status line names help at 80 columns.
    let shown = text(&screen(&mut a, &t, 80, 24));
    assert!(shown.contains("? help"), "{shown}");

    // The ticket's help starts with ticket work, not navigation, and stops at its end.
    a.on_key(special(KeyCode::Enter));
    a.on_key(key('?'));
    let first = text(&screen(&mut a, &t, 80, 24));
    assert!(first.contains("take") && first.contains("受理"), "{first}");
    a.on_key(key('G'));
    let end = text(&screen(&mut a, &t, 80, 24));
    a.on_key(special(KeyCode::PageDown));
    a.on_key(key('j'));
    assert_eq!(
        text(&screen(&mut a, &t, 80, 24)),
        end,
        "no scrolling past the end"
    );
    assert!(
        end.contains("messages"),
        "the last lines are the global keys: {end}"
    );
    a.on_key(special(KeyCode::Esc));

    // `:` then enter does not quit; typing Chinese finds the action.
    a.on_key(key(':'));
    assert_ne!(a.palette_matches("")[0], Action::Quit);
    let effects = a.on_key(special(KeyCode::Enter));
    assert!(!a.quit && !effects.contains(&Effect::Quit));
    a.on_key(special(KeyCode::Esc));
    a.on_key(key(':'));
    for c in "回复".chars() {
        a.on_key(key(c));
    }
    assert_eq!(a.palette_matches("回复").first(), Some(&Action::Reply));
    let palette = text(&screen(&mut a, &t, 80, 24));
    assert!(
        palette.contains("reply") && palette.contains(" r "),
        "keys shown: {palette}"
    );
    a.on_key(special(KeyCode::Enter));
    assert!(
        matches!(a.overlay, Some(Overlay::Editor { .. })),
        "reply opened from the palette"
    );
}

#[test]
fn canned_replies_are_a_library_picked_by_typing() {
    let mut a = app();
    a.on_key(special(KeyCode::Enter));
    let id = detail(&a).unwrap().id;
    let system = a.desk.tickets.view(id).unwrap().system.clone();
    a.on_key(key('r'));
    for c in "您好，".chars() {
        a.on_key(key(c));
    }
    let ctrl_t = KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL);
    a.on_key(ctrl_t);
    let Some(Overlay::Picker { options, .. }) = &a.overlay else {
        panic!("no canned picker: {:?}", a.overlay)
    };
    assert!(options.len() > 3, "{options:?}");
    // Esc goes back to the editor, its text intact.
    a.on_key(special(KeyCode::Esc));
    assert!(matches!(a.overlay, Some(Overlay::Editor { .. })));
    a.on_key(ctrl_t);
    for c in "截图".chars() {
        a.on_key(key(c));
    }
    a.on_key(special(KeyCode::Enter));
    let Some(Overlay::Editor { editor, .. }) = &a.overlay else {
        panic!("back in the editor: {:?}", a.overlay)
    };
    let text = editor.text();
    assert!(text.starts_with("您好，您好，为尽快定位"), "{text}");
    assert!(
        text.contains("王**"),
        "the customer's masked name is filled: {text}"
    );
    assert_eq!(system, "trading");
}

#[test]
fn emacs_keys_leave_the_palette_and_edit_in_place() {
    let mut a = bare_app("emacs");
    a.on_tickets(vec![ticket(
        101,
        "委托下单提示资金不足",
        "trading",
        Priority::P2,
        50,
    )]);
    let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    let alt = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT);
    a.on_key(alt('x'));
    assert!(matches!(a.overlay, Some(Overlay::Palette { .. })));
    a.on_key(ctrl('g'));
    assert!(a.overlay.is_none(), "ctrl-g leaves the palette");

    a.on_key(special(KeyCode::Enter));
    a.on_key(key('r'));
    for c in "客户已处理".chars() {
        a.on_key(key(c));
    }
    a.on_key(ctrl('a'));
    a.on_key(ctrl('f'));
    a.on_key(ctrl('f'));
    a.on_key(ctrl('k'));
    a.on_key(ctrl('e'));
    a.on_key(ctrl('y'));
    let Some(Overlay::Editor { editor, .. }) = &a.overlay else {
        panic!("no editor")
    };
    assert_eq!(editor.text(), "客户已处理");
    a.on_key(ctrl('g'));
    assert!(
        a.overlay.is_none(),
        "ctrl-g leaves the editor, keeping the draft"
    );
    assert_eq!(
        a.desk.drafts.get("101/reply").map(String::as_str),
        Some("客户已处理")
    );
}

#[test]
fn long_titles_are_cut_with_an_ellipsis_and_blank_marks_are_plain() {
    let mut a = app();
    a.on_tickets(vec![ticket(
        108,
        "客户反映在交易时段内多次尝试撤销委托均提示系统繁忙请稍后再试并且页面长时间无响应",
        "trading",
        Priority::P1,
        1,
    )]);
    while queue(&a).selected_id() != Some(108) {
        a.on_key(key('j'));
    }
    a.on_key(special(KeyCode::Enter));
    let t = theme("mono");
    let term = screen(&mut a, &t, 80, 24);
    let top: String = text_of_row(&term, 1);
    assert!(top.contains('…') && top.ends_with('┐'), "{top}");
    a.on_key(key('1'));
    let term = screen(&mut a, &t, 80, 24);
    let buf = term.backend().buffer();
    for y in 3..10 {
        let cell = &buf[(1, y)];
        if cell.symbol() == " " {
            assert!(
                !cell.modifier.contains(ratatui::style::Modifier::UNDERLINED),
                "row {y}: a blank marker is underlined"
            );
        }
    }
}

fn text_of_row(term: &Terminal<TestBackend>, y: u16) -> String {
    let buf = term.backend().buffer();
    let mut out = String::new();
    let mut covered = 0;
    for x in 0..buf.area.width {
        if covered > 0 {
            covered -= 1;
            continue;
        }
        let s = buf[(x, y)].symbol();
        covered = unicode_width::UnicodeWidthStr::width(s).saturating_sub(1);
        out.push_str(s);
    }
    out
}

#[test]
fn at_120_columns_the_list_and_the_ticket_stand_side_by_side() {
    let mut a = app();
    let t = theme("default");
    a.on_key(special(KeyCode::Enter));
    let wide = text(&screen(&mut a, &t, 120, 40));
    let header = wide.lines().nth(1).unwrap_or_default();
    assert!(
        header.contains("队列 Queue") && header.contains("#101"),
        "both on one row: {header}"
    );
    let narrow = text(&screen(&mut a, &t, 100, 40));
    assert!(
        !narrow
            .lines()
            .nth(1)
            .unwrap_or_default()
            .contains("队列 Queue")
    );
}

#[test]
fn a_desk_started_from_queue_rows_fetches_full_views_as_they_are_needed() {
    use opsdesk::client::row::QueueRow;
    use opsdesk::tui::fetch::Fetch;
    let t = theme("default");
    let full = [
        ticket(101, "委托下单提示资金不足", "trading", Priority::P2, 50),
        ticket(103, "三方存管银行卡绑定失败", "depository", Priority::P1, 5),
    ];
    let mut a = bare_app("default");
    a.update(Event::SignedIn {
        me: Some("h_chen".into()),
        last_seq: 7,
    });
    // Before the queue arrives it is loading, not empty.
    assert!(text_of(&mut a, &t).contains("正在载入队列"));
    // As a start from the cache: rows only, no full view.
    let effects = a.update(Event::Rows {
        rows: full.iter().map(QueueRow::of).collect(),
        replace: false,
    });
    assert_eq!(
        queue(&a).rows,
        vec![101, 103],
        "sorted by SLA due from the rows"
    );
    assert!(a.desk.tickets.view(101).is_none());
    // The selected ticket's full view is asked for at once, and once.
    let fetch = Fetch {
        id: 101,
        version: 1,
    };
    assert!(
        effects.iter().any(|e| e.job::<Fetch>() == Some(&fetch)),
        "{effects:?}"
    );
    let again = a.update(Event::Tick(now()));
    assert!(again.iter().all(|e| e.job::<Fetch>().is_none()));
    let screen = text_of(&mut a, &t);
    assert!(
        screen.contains("三方存管银行卡") && screen.contains("P1"),
        "{screen}"
    );

    // Work the row holds enough for goes ahead: a take, at the row's version.
    let effects = a.on_key(key('t'));
    assert!(
        matches!(
            &effects[..],
            [Effect::Call(Call::Take {
                id: 101,
                version: 1,
                ..
            })]
        ),
        "{effects:?}"
    );
    // Work that reads more of the ticket waits for it: asked for again, done when it comes.
    let effects = a.on_key(key('c'));
    assert!(a.overlay.is_none());
    assert!(effects.iter().any(|e| e.job::<Fetch>() == Some(&fetch)));
    a.update(Event::Tickets(vec![full[0].clone()]));
    assert!(
        matches!(&a.overlay, Some(Overlay::Picker { title, .. }) if title.contains("分类")),
        "the category picker opens once the ticket is in hand: {:?}",
        a.overlay
    );
    a.on_key(special(KeyCode::Esc));
    // Waiting work is dropped when the selection moved on before the view came.
    a.update(Event::Rows {
        rows: vec![QueueRow::of(&ticket(
            106,
            "港股通额度查询报错",
            "trading",
            Priority::P1,
            60,
        ))],
        replace: false,
    });
    let first = queue(&a).rows[0];
    assert_eq!(first, 106);
    a.on_key(key('g'));
    a.on_key(key('g'));
    a.on_key(key('c'));
    a.on_key(key('j'));
    a.update(Event::Tickets(vec![ticket(
        106,
        "港股通额度查询报错",
        "trading",
        Priority::P1,
        60,
    )]));
    assert!(a.overlay.is_none(), "{:?}", a.overlay);

    // Opened before the view arrives: the pane says it is loading, with the row's title.
    while queue(&a).selected_id() != Some(103) {
        a.on_key(key('j'));
    }
    assert!(a.desk.tickets.view(103).is_none());
    let effects = a.on_key(special(KeyCode::Enter));
    assert!(effects.contains(&Effect::run(Some(PaneId::TICKET), TicketJob::Load(103))));
    assert!(text_of(&mut a, &t).contains("#103 三方存管银行卡绑定失败 载入中"));
    // It arrives (from the cache or the server): the whole ticket is drawn.
    a.update(Event::Tickets(vec![full[1].clone()]));
    let screen = text_of(&mut a, &t);
    assert!(!screen.contains("绑定失败 载入中"), "{screen}");
    assert!(screen.contains("已重试三次仍然失败"), "{screen}");
}

#[test]
fn six_digit_ticket_numbers_are_shown_whole_in_the_queue() {
    let mut a = app();
    a.on_tickets(vec![ticket(
        123456,
        "委托下单提示资金不足",
        "trading",
        Priority::P1,
        1,
    )]);
    let t = theme("mono");
    let term = screen(&mut a, &t, 80, 24);
    let rows: Vec<String> = (3..10).map(|y| text_of_row(&term, y)).collect();
    assert!(rows.iter().any(|r| r.contains(" 123456 ")), "{rows:#?}");
    assert!(rows.iter().any(|r| r.contains(" 101 ")), "{rows:#?}");
}

#[test]
fn a_notice_stays_on_the_status_line_for_a_minute() {
    let mut a = app();
    let t = theme("default");
    a.update(Event::Notice("缓存已重建，M 查看 · cache rebuilt".into()));
    let status = |a: &mut App| {
        let term = screen(a, &t, 120, 40);
        text_of_row(&term, 39)
    };
    assert!(status(&mut a).contains("缓存已重建"), "{}", status(&mut a));
    a.update(Event::Tick(now() + chrono::Duration::seconds(30)));
    assert!(status(&mut a).contains("缓存已重建"));
    a.update(Event::Tick(now() + chrono::Duration::seconds(61)));
    assert!(!status(&mut a).contains("缓存已重建"));
}

fn kb_summary(
    id: i64,
    title: &str,
    hot: bool,
    highlights: Vec<[usize; 2]>,
) -> opsdesk::api::KbSummary {
    opsdesk::api::KbSummary {
        id,
        version: 1,
        slug: format!("article-{id}"),
        title: title.into(),
        system: "account_opening".into(),
        category: Category::Consultation,
        tags: vec!["开户失败".into(), "open account".into()],
        audience: opsdesk::domain::kb::Audience::Submitters,
        hot,
        symptoms: vec!["视频见证页面提示“网络异常，请稍后重试”".into()],
        views: 12,
        helpful: 3,
        updated_at: now(),
        highlights,
    }
}

#[test]
fn the_kb_pane_searches_as_typed_starting_from_the_ticket_in_hand() {
    let t = theme("default");
    let mut a = app();
    let in_hand = queue(&a).selected_id().expect("a selected ticket");
    let title = a.desk.tickets.view(in_hand).unwrap().title.clone();

    // Coming to the KB with a ticket in hand asks about its title.
    let effects = a.update(Event::Key(key('4')));
    assert_eq!(
        effects.iter().find_map(|e| e.job::<SearchKb>()),
        Some(&SearchKb(title.clone()))
    );

    // Typing searches on every keystroke; an answer to an older query is dropped. ctrl-w
    // cuts the last word typed and ctrl-u the whole line, as in a shell or fzf.
    a.update(Event::Key(key('/')));
    for c in " kh".chars() {
        a.update(Event::Key(key(c)));
    }
    let effects = a.update(Event::Key(with_ctrl('w')));
    assert_eq!(
        effects.iter().find_map(|e| e.job::<SearchKb>()),
        Some(&SearchKb(format!("{title} ")))
    );
    let effects = a.update(Event::Key(with_ctrl('u')));
    assert_eq!(
        effects.iter().find_map(|e| e.job::<SearchKb>()),
        Some(&SearchKb(String::new()))
    );
    // A paste is one search, of the whole text on one line and inert, not one a character.
    let effects = a.update(Event::Paste("开户\n失败\u{1b}[2J".repeat(300)));
    let searches: Vec<&SearchKb> = effects.iter().filter_map(|e| e.job::<SearchKb>()).collect();
    assert_eq!(searches, [&SearchKb("开户 失败".repeat(300))]);
    a.update(Event::Key(with_ctrl('u')));
    let mut sent = Vec::new();
    for c in "khsb".chars() {
        let effects = a.update(Event::Key(key(c)));
        sent.extend(
            effects
                .iter()
                .filter_map(|e| e.job::<SearchKb>())
                .map(|s| s.0.clone()),
        );
    }
    assert_eq!(sent, ["k", "kh", "khs", "khsb"]);
    let stale = a.update(Event::Loaded {
        pane: PaneId::KB,
        loaded: Box::new(FoundKb {
            query: "khs".into(),
            result: Ok(opsdesk::api::KbPage {
                articles: vec![kb_summary(9, "不该出现的旧结果", false, vec![])],
                total: 1,
                related: false,
            }),
            offline: false,
        }),
    });
    assert!(stale.is_empty());
    let effects = a.update(Event::Loaded {
        pane: PaneId::KB,
        loaded: Box::new(FoundKb {
            query: "khsb".into(),
            result: Ok(opsdesk::api::KbPage {
                articles: vec![
                    kb_summary(
                        1,
                        "开户失败：视频见证时提示“网络异常，请稍后重试”",
                        true,
                        vec![[0, 4]],
                    ),
                    kb_summary(2, "客户开户失败，身份证识别不通过", false, vec![[2, 6]]),
                ],
                total: 2,
                related: false,
            }),
            offline: false,
        }),
    });
    // The best article is fetched whole as it is selected.
    assert_eq!(
        effects.iter().find_map(|e| e.job::<FetchArticle>()),
        Some(&FetchArticle {
            id: 1,
            helpful: false
        })
    );
    a.update(Event::Key(special(KeyCode::Enter)));
    let article = opsdesk::api::KbArticle {
        id: 1,
        version: 1,
        slug: "article-1".into(),
        title: "开户失败：视频见证时提示“网络异常，请稍后重试”".into(),
        system: "account_opening".into(),
        category: Category::Consultation,
        tags: vec!["开户失败".into()],
        audience: opsdesk::domain::kb::Audience::Submitters,
        hot: true,
        symptoms: vec!["视频见证页面提示“网络异常，请稍后重试”".into()],
        cause: "视频见证走实时音视频通道，网络抖动时会断开。".into(),
        steps: "1. 请客户切换到稳定的 Wi-Fi 或 4G/5G 网络。\n2. 重新进入视频见证排队。".into(),
        source_tickets: vec![],
        author: "h_chen".into(),
        views: 13,
        helpful: 3,
        updated_at: now(),
    };
    a.update(Event::Loaded {
        pane: PaneId::KB,
        loaded: Box::new(Fetched(Ok(article))),
    });
    let shown = text(&screen(&mut a, &t, 120, 40));
    assert!(!shown.contains("不该出现的旧结果"), "{shown}");
    assert!(shown.contains("重新进入视频见证排队"), "{shown}");
    insta::assert_snapshot!("kb_found_120x40_default", shown);
    insta::assert_snapshot!("kb_found_80x24_default", text(&screen(&mut a, &t, 80, 24)));

    // "r" puts the steps into a reply to the ticket in hand, to be read over and sent.
    a.on_key(key('r'));
    let Some(Overlay::Editor { editor, .. }) = &a.overlay else {
        panic!("no reply editor: {:?}", a.overlay)
    };
    let reply = editor.text();
    assert!(reply.contains("重新进入视频见证排队"), "{reply}");
    assert!(!reply.contains("**"), "markdown marks dropped: {reply}");
    let effects = a.update(Event::Key(KeyEvent::new(
        KeyCode::Char('d'),
        KeyModifiers::CONTROL,
    )));
    let sent = effects.iter().find_map(|e| match e {
        Effect::Call(opsdesk::tui::work::Call::Message {
            id, body, internal, ..
        }) => Some((*id, body.clone(), *internal)),
        _ => None,
    });
    assert_eq!(sent, Some((in_hand, reply, false)));

    // "+" says it helped; moving on fetches the next article.
    let effects = a.update(Event::Key(key('+')));
    assert_eq!(
        effects.iter().find_map(|e| e.job::<FetchArticle>()),
        Some(&FetchArticle {
            id: 1,
            helpful: true
        })
    );
    let effects = a.update(Event::Key(key('j')));
    assert_eq!(
        effects.iter().find_map(|e| e.job::<FetchArticle>()),
        Some(&FetchArticle {
            id: 2,
            helpful: false
        })
    );
    assert!(a.pane::<KbPane>().is_some());
}

fn ctrl_d() -> KeyEvent {
    KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)
}

/// The text in the open editor, and its title.
fn editor_text(a: &App) -> (String, String) {
    let Some(Overlay::Editor { editor, title, .. }) = &a.overlay else {
        panic!("no editor: {:?}", a.overlay)
    };
    (editor.text(), title.clone())
}

fn saved(a: &mut App, saved: write::Saved) -> Vec<Effect> {
    a.update(Event::Loaded {
        pane: PaneId::KB,
        loaded: Box::new(saved),
    })
}

#[test]
fn a_ticket_is_written_up_as_an_article_and_a_refusal_reopens_the_editor() {
    let mut a = app();
    let id = queue(&a).selected_id().expect("a selected ticket");
    let title = a.desk.tickets.view(id).unwrap().title.clone();

    // W on a ticket opens the article file, prefilled from the ticket.
    a.on_key(key('W'));
    let (text, heading) = editor_text(&a);
    assert!(heading.contains("写成文章"), "{heading}");
    assert!(text.starts_with("+++\n"), "{text}");
    assert!(text.contains(&format!("title = \"{title}\"")), "{text}");
    assert!(text.contains(&format!("source_tickets = [{id}]")), "{text}");

    // Sending it asks the server to create it from the file's fields.
    let effects = a.on_key(ctrl_d());
    let save = effects
        .iter()
        .find_map(|e| e.job::<write::SaveArticle>())
        .expect("a save");
    assert_eq!(save.writing, write::Writing::WriteUp { ticket: id });
    assert_eq!(save.body.title, title);
    assert_eq!(save.body.source_tickets, [id]);
    assert_eq!(save.body.version, None);
    assert_eq!(save.body.slug, None, "the server names a new article");
    let sent_text = save.text.clone();

    // Refused: the editor comes back with the text and the reasons in it.
    assert!(a.overlay.is_none());
    saved(
        &mut a,
        write::Saved {
            writing: write::Writing::WriteUp { ticket: id },
            text: sent_text.clone(),
            result: Err(write::Refusal::Invalid(vec![
                "steps: 处理步骤需 1–20000 个字".into(),
            ])),
        },
    );
    let (text, _) = editor_text(&a);
    assert!(
        text.contains("# 未保存 not saved: steps: 处理步骤需"),
        "{text}"
    );
    assert!(
        text.contains(&format!("title = \"{title}\"")),
        "the text is kept: {text}"
    );

    // A file that is not an article is refused at once, without a call.
    a.on_key(special(KeyCode::Esc));
    a.on_key(key('W'));
    let (text, _) = editor_text(&a);
    assert!(text.contains("# 未保存"), "the draft was kept: {text}");
    for _ in 0..4 {
        a.on_key(KeyEvent::new(KeyCode::Home, KeyModifiers::CONTROL));
        a.on_key(KeyEvent::new(KeyCode::Char('k'), KeyModifiers::CONTROL));
    }
    let effects = a.on_key(ctrl_d());
    assert!(
        effects
            .iter()
            .all(|e| e.job::<write::SaveArticle>().is_none())
    );
    let (text, _) = editor_text(&a);
    assert!(text.contains("# 未保存"), "{text}");

    // Offline: kept as a draft, said so.
    a.on_key(special(KeyCode::Esc));
    a.desk.drafts.clear();
    a.on_key(key('W'));
    let effects = a.on_key(ctrl_d());
    let save = effects
        .iter()
        .find_map(|e| e.job::<write::SaveArticle>())
        .unwrap()
        .clone();
    let effects = saved(
        &mut a,
        write::Saved {
            writing: save.writing,
            text: save.text.clone(),
            result: Err(write::Refusal::Later("offline".into())),
        },
    );
    assert!(
        effects
            .iter()
            .any(|e| e.job::<opsdesk::tui::drafts::StoreDraft>().is_some())
    );
    assert_eq!(
        a.desk.drafts.get(&format!("kb-ticket-{id}")),
        Some(&save.text)
    );
    assert!(effects.iter().all(|e| e.job::<TicketJob>().is_none()));

    // Saved: the ticket is loaded again, to name its article.
    let effects = saved(
        &mut a,
        write::Saved {
            writing: save.writing,
            text: save.text.clone(),
            result: Ok(opsdesk::api::KbArticle {
                source_tickets: vec![id],
                author: "h_chen".into(),
                views: 0,
                ..trading_article(9, &title, "1. 查冻结资金。")
            }),
        },
    );
    assert_eq!(
        effects.iter().find_map(|e| e.job::<TicketJob>()),
        Some(&TicketJob::Load(id))
    );
}

#[test]
fn an_article_is_edited_over_the_version_read_and_a_conflict_is_said() {
    let mut a = app();
    a.update(Event::Key(key('4')));
    a.update(Event::Loaded {
        pane: PaneId::KB,
        loaded: Box::new(FoundKb {
            query: a
                .pane::<KbPane>()
                .map(|_| String::new())
                .unwrap_or_default(),
            result: Ok(opsdesk::api::KbPage {
                articles: vec![],
                total: 0,
                related: false,
            }),
            offline: false,
        }),
    });
    // Nothing selected: nothing to edit.
    a.on_key(key('e'));
    assert!(a.overlay.is_none());

    // c starts a new article on the in-hand ticket's system.
    a.on_key(key('c'));
    let (text, heading) = editor_text(&a);
    assert!(heading.contains("新文章"), "{heading}");
    assert!(text.contains("system = \""), "{text}");
    a.on_key(special(KeyCode::Esc));

    let article = opsdesk::api::KbArticle {
        version: 3,
        symptoms: vec!["提示“可用资金不足”".into()],
        ..trading_article(7, "委托下单提示资金不足", "1. 查冻结资金。")
    };
    open_article(&mut a, &article);
    a.on_key(key('e'));
    let (text, _) = editor_text(&a);
    assert!(text.contains("id = \"trading-7\""), "{text}");
    let effects = a.on_key(ctrl_d());
    let save = effects
        .iter()
        .find_map(|e| e.job::<write::SaveArticle>())
        .unwrap()
        .clone();
    assert_eq!(save.writing, write::Writing::Edit { id: 7, version: 3 });
    assert_eq!(save.body.version, Some(3));
    assert_eq!(save.body.slug.as_deref(), Some("trading-7"));

    // Someone saved first: the editor comes back saying so, over their version now.
    saved(
        &mut a,
        write::Saved {
            writing: save.writing,
            text: save.text.clone(),
            result: Err(write::Refusal::Changed { current: 4 }),
        },
    );
    let (text, _) = editor_text(&a);
    assert!(text.contains("第 4 版"), "{text}");
    let effects = a.on_key(ctrl_d());
    let again = effects
        .iter()
        .find_map(|e| e.job::<write::SaveArticle>())
        .unwrap();
    assert_eq!(again.writing, write::Writing::Edit { id: 7, version: 4 });
    assert!(
        !again.text.contains("未保存"),
        "the comments are not sent: {}",
        again.text
    );

    // Saved: said, and the results asked again.
    let effects = saved(
        &mut a,
        write::Saved {
            writing: again.writing,
            text: again.text.clone(),
            result: Ok(opsdesk::api::KbArticle {
                version: 5,
                ..article.clone()
            }),
        },
    );
    assert!(effects.iter().any(|e| e.job::<SearchKb>().is_some()));
    let shown = text_of(&mut a, &theme("default"));
    assert!(shown.contains("文章已保存"), "{shown}");
    assert!(
        effects.iter().all(|e| e.job::<TicketJob>().is_none()),
        "an edit reloads no ticket"
    );
}

/// A handlers' article on trading, by h_zhao, read once: what the writing tests start from.
fn trading_article(id: i64, title: &str, steps: &str) -> opsdesk::api::KbArticle {
    opsdesk::api::KbArticle {
        id,
        version: 1,
        slug: format!("trading-{id}"),
        title: title.into(),
        system: "trading".into(),
        category: Category::Consultation,
        tags: vec![],
        audience: opsdesk::domain::kb::Audience::Handlers,
        hot: false,
        symptoms: vec![],
        cause: String::new(),
        steps: steps.into(),
        source_tickets: vec![],
        author: "h_zhao".into(),
        views: 1,
        helpful: 0,
        updated_at: now(),
    }
}

/// Shows `article` as the KB pane's only, selected, fetched result.
fn open_article(a: &mut App, article: &opsdesk::api::KbArticle) {
    a.on_key(key('f'));
    a.on_key(key('x'));
    a.on_key(key('/'));
    a.on_key(key('z'));
    a.update(Event::Loaded {
        pane: PaneId::KB,
        loaded: Box::new(FoundKb {
            query: "z".into(),
            result: Ok(opsdesk::api::KbPage {
                articles: vec![kb_summary(article.id, &article.title, false, vec![])],
                total: 1,
                related: false,
            }),
            offline: false,
        }),
    });
    a.on_key(special(KeyCode::Enter));
    a.update(Event::Loaded {
        pane: PaneId::KB,
        loaded: Box::new(Fetched(Ok(article.clone()))),
    });
}

#[test]
fn a_long_article_is_read_through_on_the_whole_pane() {
    let mut a = app();
    let t = theme("default");
    a.update(Event::Key(key('4')));
    let steps: Vec<String> = (1..=40)
        .map(|n| format!("{n}. 第 {n} 步：核对委托流水"))
        .collect();
    let article = trading_article(8, "委托状态长时间显示“已报”", &steps.join("\n"));
    open_article(&mut a, &article);
    let beside = text_of(&mut a, &t);
    assert!(beside.contains("enter 全屏"), "{beside}");
    assert!(
        !beside.contains("第 40 步"),
        "a long article is cut beside the list"
    );

    a.on_key(special(KeyCode::Enter));
    let whole = text_of(&mut a, &t);
    assert!(whole.contains("esc 返回 back"), "{whole}");
    assert!(whole.contains("1. 第 1 步"), "{whole}");
    // To the end and one row back: the last step is on screen, the first is not.
    a.on_key(key('G'));
    text_of(&mut a, &t);
    a.on_key(key('k'));
    let end = text_of(&mut a, &t);
    assert!(end.contains("第 39 步"), "{end}");
    assert!(!end.contains("1. 第 1 步"), "{end}");
    a.on_key(key('g'));
    a.on_key(key('g'));
    assert!(text_of(&mut a, &t).contains("1. 第 1 步"));
    // esc goes back to the list, not further.
    a.on_key(special(KeyCode::Esc));
    let back = text_of(&mut a, &t);
    assert!(back.contains("enter 全屏"), "{back}");
    assert!(back.contains("知识库 KB"), "{back}");
}

fn log_line(minutes_ago: i64, level: &str, message: &str, trace: &str) -> opsdesk::api::LogLine {
    let mut fields = serde_json::Map::new();
    fields.insert("service".into(), "order".into());
    fields.insert("account".into(), "320159494599".into());
    opsdesk::api::LogLine {
        at: now() - chrono::Duration::minutes(minutes_ago),
        level: Some(level.into()),
        source: "demo-app".into(),
        message: message.into(),
        origin: format!("/data/demo-logs/app.log@{}", minutes_ago * 230),
        trace: Some(trace.into()),
        fields,
    }
}

/// The lookup the Logs pane asked for last.
fn lookup(effects: &[Effect]) -> Option<&opsdesk::tui::panes::logs::LookUp> {
    effects
        .iter()
        .find_map(|e| e.job::<opsdesk::tui::panes::logs::LookUp>())
}

#[test]
fn the_logs_pane_looks_the_ticket_in_hand_up_and_notes_a_line_into_it() {
    use opsdesk::api::Found;
    use opsdesk::tui::panes::logs::Finds;
    let mut a = app();
    // The queue's first row is in hand: one key shows its customer's lines.
    let in_hand = queue(&a).selected_id().expect("a row in hand");
    let effects = a.on_key(key('3'));
    let first = lookup(&effects).expect("a lookup starts");
    assert_eq!(first.req.ticket, Some(in_hand));
    let reported = a.desk.tickets.row(in_hand).unwrap().created_at;
    assert_eq!(
        first.req.from,
        Some(reported - chrono::Duration::minutes(30))
    );
    assert_eq!(first.req.to, Some(reported + chrono::Duration::minutes(30)));
    let generation = first.generation;

    let finds = vec![
        Found::Line(log_line(
            7,
            "INFO",
            "登录成功 user=320159494599 channel=app",
            "t-1",
        )),
        Found::Line(log_line(
            3,
            "ERROR",
            "委托失败 account=320159494599 code=-150906 msg=可用资金不足",
            "t-2",
        )),
        Found::Line(log_line(
            4,
            "WARN",
            "柜台冻结检查 account=320159494599 frozen_by=新股申购",
            "t-2",
        )),
        Found::Minutes {
            source: "demo-app".into(),
            minutes: vec![opsdesk::api::lookups::Minute {
                at: now() - chrono::Duration::minutes(4),
                count: 2,
            }],
        },
        Found::Done {
            source: "demo-app".into(),
            lines: 3,
            read: 1,
            total: None,
        },
        Found::Failed {
            source: "elk".into(),
            message: "cannot reach http://127.0.0.1:9200: connection refused".into(),
        },
    ];
    a.update(Event::Loaded {
        pane: PaneId::LOGS,
        loaded: Box::new(Finds {
            generation,
            finds,
            end: true,
            problem: None,
        }),
    });
    for (name, w, h) in [("80x24", 80, 24), ("120x40", 120, 40)] {
        let t = theme("default");
        insta::assert_snapshot!(format!("logs_{name}"), text(&screen(&mut a, &t, w, h)));
    }
    // Newest first: the error is on top; enter reads it whole with its request's lines.
    a.on_key(special(KeyCode::Enter));
    insta::assert_snapshot!(
        "logs_detail_80x24",
        text(&screen(&mut a, &theme("default"), 80, 24))
    );
    a.on_key(special(KeyCode::Esc));

    // Mark two lines and note them: one internal note with the query to run again.
    a.on_key(key(' '));
    a.on_key(key(' '));
    let effects = a.on_key(key('i'));
    let note = effects.iter().find_map(|e| match e {
        Effect::Call(Call::Message {
            id,
            body,
            internal: true,
            ..
        }) => Some((*id, body.clone())),
        _ => None,
    });
    let (id, body) = note.expect("an internal note");
    assert_eq!(id, in_hand);
    assert!(
        body.contains("柜台冻结检查") && body.contains("委托失败"),
        "{body}"
    );
    assert!(
        body.find("柜台冻结检查") < body.find("委托失败"),
        "oldest first, as they happened: {body}"
    );
    assert!(
        body.contains(&format!("opsdesk logs search --ticket {in_hand}")),
        "{body}"
    );

    // Typing a word and enter asks again; the old lookup's late finds are dropped.
    a.on_key(key('/'));
    for c in "冻结".chars() {
        a.on_key(key(c));
    }
    let effects = a.on_key(special(KeyCode::Enter));
    let second = lookup(&effects).expect("a new lookup");
    assert_eq!(second.req.text.as_deref(), Some("冻结"));
    assert!(second.generation > generation);
    a.update(Event::Loaded {
        pane: PaneId::LOGS,
        loaded: Box::new(Finds {
            generation,
            finds: vec![Found::Line(log_line(1, "INFO", "不该出现的旧结果", "t-9"))],
            end: true,
            problem: None,
        }),
    });
    let shown = text(&screen(&mut a, &theme("default"), 120, 40));
    assert!(!shown.contains("不该出现"), "{shown}");

    // t looks the selected line's whole request up; w widens the window.
    a.update(Event::Loaded {
        pane: PaneId::LOGS,
        loaded: Box::new(Finds {
            generation: second.generation,
            finds: vec![Found::Line(log_line(
                4,
                "WARN",
                "柜台冻结检查 account=320159494599",
                "t-2",
            ))],
            end: true,
            problem: None,
        }),
    });
    let effects = a.on_key(key('t'));
    assert_eq!(lookup(&effects).unwrap().req.identifiers, ["t-2"]);
    let effects = a.on_key(key('w'));
    assert_eq!(
        lookup(&effects).unwrap().req.from,
        Some(reported - chrono::Duration::minutes(120))
    );
}

#[test]
fn a_lookup_kept_under_a_name_runs_again_on_another_ticket() {
    let mut a = app();
    a.on_key(key('3'));
    a.on_key(key('/'));
    for c in "冻结".chars() {
        a.on_key(key(c));
    }
    a.on_key(special(KeyCode::Enter));
    a.on_key(key('w'));
    // S keeps the filters under a name, in the local cache too.
    a.on_key(key('S'));
    for c in "资金冻结".chars() {
        a.on_key(key(c));
    }
    let effects = a.on_key(special(KeyCode::Enter));
    let stored = effects
        .iter()
        .find_map(|e| e.job::<opsdesk::tui::drafts::StoreDraft>())
        .expect("kept in the cache");
    assert_eq!(stored.key, "logs/saved/资金冻结");

    // On another ticket, L runs it there.
    a.update(Event::Key(key('1')));
    a.update(Event::Key(key('j')));
    let other = queue(&a).selected_id().unwrap();
    let effects = a.update(Event::Key(key('3')));
    let fresh = lookup(&effects).expect("a lookup of the new ticket");
    assert_eq!(
        fresh.req.text, None,
        "a new ticket starts from its customer alone"
    );
    a.on_key(key('L'));
    let effects = pick(&mut a, "资金冻结");
    let again = lookup(&effects).expect("the kept lookup runs");
    assert_eq!(again.req.ticket, Some(other));
    assert_eq!(again.req.text.as_deref(), Some("冻结"));
    let reported = a.desk.tickets.row(other).unwrap().created_at;
    assert_eq!(
        again.req.from,
        Some(reported - chrono::Duration::minutes(120))
    );
}

#[test]
fn a_data_lookup_shows_beside_the_lines_and_notes_into_the_ticket() {
    use opsdesk::api::{DataRows, QueryInfo, SourceInfo};
    use opsdesk::tui::panes::logs::{DataFound, Offered, RunData};
    let mut a = app();
    let in_hand = queue(&a).selected_id().unwrap();
    a.on_key(key('3'));
    a.update(Event::Loaded {
        pane: PaneId::LOGS,
        loaded: Box::new(Offered(Ok((
            vec![SourceInfo {
                name: "demo-app".into(),
                kind: "files".into(),
            }],
            vec![QueryInfo {
                source: "demo-accounts".into(),
                name: "customer-profile".into(),
                title: Some("客户资料".into()),
                by: "account".into(),
            }],
        )))),
    });
    a.on_key(key('d'));
    let effects = pick(&mut a, "客户资料");
    let run = effects
        .iter()
        .find_map(|e| e.job::<RunData>())
        .expect("the query runs");
    assert_eq!(run.0.query, "customer-profile");
    assert_eq!(run.0.ticket, Some(in_hand));
    let rows = DataRows {
        source: "demo-accounts".into(),
        query: "customer-profile".into(),
        columns: vec![
            "姓名".into(),
            "资金账号".into(),
            "可用资金".into(),
            "冻结原因".into(),
        ],
        rows: vec![vec![
            Some("陈*敏".into()),
            Some("3201****4599".into()),
            Some("2380.16".into()),
            Some("新股申购冻结".into()),
        ]],
        truncated: false,
    };
    a.update(Event::Loaded {
        pane: PaneId::LOGS,
        loaded: Box::new(DataFound(Ok(rows))),
    });
    insta::assert_snapshot!(
        "logs_data_80x24",
        text(&screen(&mut a, &theme("default"), 80, 24))
    );
    let effects = a.on_key(key('i'));
    let note = effects.iter().find_map(|e| match e {
        Effect::Call(Call::Message {
            body,
            internal: true,
            ..
        }) => Some(body.clone()),
        _ => None,
    });
    let note = note.expect("an internal note");
    assert!(note.contains("新股申购冻结"), "{note}");
    assert!(
        note.contains(&format!(
            "opsdesk lookup run customer-profile --source demo-accounts --ticket {in_hand}"
        )),
        "{note}"
    );
    // esc is the lines again.
    a.on_key(special(KeyCode::Esc));
    let shown = text(&screen(&mut a, &theme("default"), 80, 24));
    assert!(!shown.contains("新股申购冻结"), "{shown}");
}
