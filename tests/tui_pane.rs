//! The pane seam: a pane defined and registered only here — with its own state, keys,
//! commands, typed text, job and rendering — works in the workstation without a line changed
//! in `tui/app.rs`, `tui/mod.rs` or `tui/view.rs`.

use std::any::Any;

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use futures::FutureExt;
use futures::future::BoxFuture;
use opsdesk::config::default_systems;
use opsdesk::tui::action::{Action, Context};
use opsdesk::tui::app::{App, Event};
use opsdesk::tui::desk::Desk;
use opsdesk::tui::effect::{Effect, Io, Job};
use opsdesk::tui::keymap::Keymap;
use opsdesk::tui::overlay::Overlay;
use opsdesk::tui::panes::{Command, Ctx, Edit, Handled, Input, Msg, Pane, PaneId};
use opsdesk::tui::theme::{Theme, ThemeEnv};
use opsdesk::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

const NOTES: PaneId = PaneId("notes");

/// A handler's scratch notes: enter starts a note, typed text goes into it, enter again
/// files it through a job, and the job's answer is listed.
#[derive(Default)]
struct Notes {
    typing: Option<String>,
    filed: Vec<String>,
}

/// The pane's own job type: the loop runs it without knowing what it is.
#[derive(Debug, PartialEq)]
struct File(String);

/// What the job brings back.
struct Filed(String);

impl Job for File {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move { io.reply(Filed(self.0)).await }.boxed()
    }
}

impl Pane for Notes {
    fn id(&self) -> PaneId {
        NOTES
    }

    fn title(&self) -> &'static str {
        "笔记 Notes"
    }

    fn context(&self) -> Context {
        Context::Stats
    }

    fn commands(&self) -> Vec<Command> {
        vec![Command::hint(Action::Open), Command::new(Action::Down)]
    }

    fn input(&self) -> Option<Input<'_>> {
        self.typing.as_deref().map(|text| Input {
            prompt: "note: ",
            text,
        })
    }

    fn update(&mut self, msg: Msg<'_>, desk: &mut Desk) -> Handled {
        match msg {
            Msg::Action(Action::Open) => match self.typing.take() {
                None => {
                    self.typing = Some(String::new());
                    Some(Vec::new())
                }
                Some(text) => {
                    desk.toast(format!("filing {text}"), false);
                    Some(vec![Effect::run(Some(NOTES), File(text))])
                }
            },
            Msg::Action(Action::Back) if self.typing.is_some() => {
                self.typing = None;
                Some(Vec::new())
            }
            Msg::Edit(Edit::Insert(c)) => {
                self.typing.get_or_insert_default().push(c);
                Some(Vec::new())
            }
            Msg::Edit(Edit::Backspace) => {
                self.typing.get_or_insert_default().pop();
                Some(Vec::new())
            }
            Msg::Loaded(loaded) => {
                let loaded: Box<dyn Any + Send> = loaded;
                if let Ok(filed) = loaded.downcast::<Filed>() {
                    self.filed.push(filed.0);
                }
                Some(Vec::new())
            }
            _ => None,
        }
    }

    fn render(&mut self, area: Rect, buf: &mut Buffer, ctx: &Ctx<'_>, focused: bool) {
        let text = if self.filed.is_empty() {
            "no notes yet".to_string()
        } else {
            self.filed.join(" | ")
        };
        Paragraph::new(text)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(ctx.theme.border(focused))
                    .title(" 笔记 Notes "),
            )
            .render(area, buf);
    }
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn screen(app: &mut App, theme: &Theme) -> String {
    let mut terminal = Terminal::new(TestBackend::new(120, 24)).unwrap();
    terminal.draw(|f| view::draw(f, app, theme)).unwrap();
    terminal.backend().to_string()
}

#[test]
fn a_pane_registered_from_outside_works_like_a_built_in_one() {
    let (keymap, _) = Keymap::load("default", None).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap();
    let mut app = App::new(
        keymap,
        default_systems(),
        chrono_tz::Asia::Shanghai,
        "http://127.0.0.1:7878".into(),
        true,
        now,
    );
    app.register(Box::new(Notes::default()));
    let env = ThemeEnv {
        no_color: false,
        truecolor: false,
    };
    let theme = Theme::load(Some("default"), None, &env).unwrap().0;

    // Its tab is there, and back-tab from the queue wraps round to it.
    assert!(screen(&mut app, &theme).contains("8 笔记 Notes"));
    app.update(Event::Key(key(KeyCode::BackTab)));
    assert_eq!(app.focus(), NOTES);

    // Its commands make the status-line hints and the help, with the keymap's keys.
    let shown = screen(&mut app, &theme);
    assert!(shown.contains("no notes yet"), "{shown}");
    assert!(
        shown.contains("enter open"),
        "the hint comes from the pane: {shown}"
    );
    app.update(Event::Key(key(KeyCode::Char('?'))));
    let help = screen(&mut app, &theme);
    assert!(
        help.contains("[stats]") && help.contains("open the selected item"),
        "{help}"
    );
    app.update(Event::Key(key(KeyCode::Esc)));
    assert!(app.overlay.is_none());

    // Typed text reaches the pane's own input, shown on the status line; `q` is text now.
    app.update(Event::Key(key(KeyCode::Enter)));
    for c in "客户回电q".chars() {
        app.update(Event::Key(key(KeyCode::Char(c))));
    }
    app.update(Event::Key(key(KeyCode::Backspace)));
    assert!(!app.quit);
    assert!(screen(&mut app, &theme).contains("note: 客户回电"));
    app.update(Event::Paste("已处理".into()));

    // Enter files it: the pane's own job comes out of the app, typed, for the loop to run.
    let effects = app.update(Event::Key(key(KeyCode::Enter)));
    assert_eq!(effects.len(), 1);
    assert_eq!(
        effects[0].job::<File>(),
        Some(&File("客户回电已处理".into()))
    );
    assert!(app.toasts.iter().any(|t| t.text.contains("filing")));

    // What the job yields goes back to this pane and nowhere else.
    app.update(Event::Loaded {
        pane: NOTES,
        loaded: Box::new(Filed("客户回电已处理".into())),
    });
    assert!(screen(&mut app, &theme).contains("客户回电已处理"));

    // The palette offers the pane's commands and runs them.
    app.update(Event::Key(key(KeyCode::Char(':'))));
    let Some(Overlay::Palette { .. }) = &app.overlay else {
        panic!("no palette: {:?}", app.overlay)
    };
    assert!(app.palette_matches("").contains(&Action::Open));
    assert!(
        !app.palette_matches("").contains(&Action::Take),
        "not this pane's"
    );
    for c in "open".chars() {
        app.update(Event::Key(key(KeyCode::Char(c))));
    }
    app.update(Event::Key(key(KeyCode::Enter)));
    assert!(app.focused().input().is_some(), "open ran in the pane");
}
