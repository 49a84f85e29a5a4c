//! The handler's terminal workstation: ratatui over crossterm, talking to the companion server
//! through `client` (HTTP + the SSE change stream), never to its database.
//!
//! One `select!` merges key presses, the change stream, a 1 Hz tick (SLA countdowns) and the
//! results of effects; `App` changes state, this loop does the IO and redraws only when
//! something changed, at most every ~16 ms.

pub mod action;
pub mod app;
pub mod keymap;
pub mod panes;
pub mod terminal;
pub mod theme;
pub mod view;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::client::ApiClient;
use crate::client::sync::{self, SyncEvent};
use crate::config::Settings;
use crate::domain::message::Message;
use crate::domain::ticket::{Customer, TicketId};
use crate::domain::view::TicketView;
use app::{App, Call, Effect};
use keymap::Keymap;
use theme::{Theme, ThemeEnv};

/// Results of effects, fed back into the app.
enum Loaded {
    Messages(TicketId, Result<Vec<Message>, String>),
    Done(String, Result<Option<Box<TicketView>>, String>),
    Revealed(TicketId, Customer),
}

/// How the workstation was started.
pub struct Launch {
    pub client: ApiClient,
    pub settings: Arc<Settings>,
    /// This process runs the server (the embedded default).
    pub embedded: bool,
    /// Shown once as a toast (e.g. the demo credentials of the embedded server).
    pub greeting: Option<String>,
}

/// The user's keymap and theme files in the config dir, if present.
fn user_file(name: &str) -> Option<(PathBuf, String)> {
    let path = crate::config::project_dirs()?.config_dir().join(name);
    std::fs::read_to_string(&path).ok().map(|text| (path, text))
}

/// Loads keymap and theme, reporting every problem before the terminal is taken over.
pub fn load_look(settings: &Settings) -> anyhow::Result<(Keymap, Theme, Vec<String>)> {
    let keys = user_file("keymap.toml");
    let preset = settings.tui.keymap.as_deref().unwrap_or("default");
    let (keymap, key_warnings) = Keymap::load(
        preset,
        keys.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
    )?;
    let theme_file = user_file("theme.toml");
    let (theme, theme_warnings) = Theme::load(
        settings.tui.theme.as_deref(),
        theme_file.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
        &ThemeEnv::from_env(),
    )?;
    let warnings = key_warnings
        .iter()
        .map(ToString::to_string)
        .chain(theme_warnings.iter().map(ToString::to_string))
        .collect();
    Ok((keymap, theme, warnings))
}

/// Runs the workstation until the handler quits or the terminal goes away.
pub async fn run(launch: Launch) -> anyhow::Result<()> {
    let (keymap, theme, warnings) = load_look(&launch.settings)?;
    for w in &warnings {
        eprintln!("opsdesk: {w}");
    }
    let client = launch.client;
    let me = client
        .me()
        .await
        .with_context(|| format!("connecting to {}", client.base()))?;
    if !me.role.works_tickets() {
        anyhow::bail!(
            "'{}' is a {}; the workstation is for handlers",
            me.username,
            me.role.as_str()
        );
    }
    let since = client.changes(0, 1).await?.latest;
    let mut tickets = Vec::new();
    let mut offset = 0;
    loop {
        let page = client
            .tickets(&[
                ("open", "true".to_string()),
                ("limit", "1000".to_string()),
                ("offset", offset.to_string()),
            ])
            .await?;
        offset += page.tickets.len();
        let done = page.tickets.is_empty() || offset as u64 >= page.total;
        tickets.extend(page.tickets);
        if done {
            break;
        }
    }

    let settings = launch.settings;
    let mut app = App::new(
        keymap,
        settings.systems.clone(),
        settings.calendar.tz(),
        client.base().to_string(),
        launch.embedded,
        chrono::Utc::now(),
    );
    app.me = Some(me.username.clone());
    app.last_seq = since;
    app.on_tickets(tickets);
    for w in warnings {
        app.toast(w, true);
    }
    if let Some(g) = launch.greeting {
        app.toast(g, false);
    }

    let mut guard = terminal::TerminalGuard::new()?;
    let (sync_tx, mut sync_rx) = mpsc::channel::<SyncEvent>(1024);
    let mut follower = tokio::spawn(sync::follow(client.clone(), since, sync_tx.clone()));
    let (loaded_tx, mut loaded_rx) = mpsc::channel::<Loaded>(64);
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let frame_gap = Duration::from_millis(16);
    let mut last_draw = tokio::time::Instant::now() - frame_gap;
    let stop = crate::server::shutdown_signal();
    tokio::pin!(stop);

    loop {
        if app.dirty && last_draw.elapsed() >= frame_gap {
            guard.terminal().draw(|f| view::draw(f, &mut app, &theme))?;
            app.dirty = false;
            last_draw = tokio::time::Instant::now();
        }
        let redraw_in = frame_gap.saturating_sub(last_draw.elapsed());
        let effects = tokio::select! {
            event = keys.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => app.on_key(key),
                Some(Ok(Event::Resize(_, _))) => { app.dirty = true; Vec::new() }
                Some(Ok(Event::Paste(text))) => {
                    for c in crate::domain::sanitize::terminal_safe(&text).chars().filter(|c| *c != '\n') {
                        app.on_key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c)));
                    }
                    Vec::new()
                }
                Some(Ok(_)) => Vec::new(),
                // The terminal is gone (a dropped SSH session): quit like a normal exit.
                Some(Err(_)) | None => vec![Effect::Quit],
            },
            Some(event) = sync_rx.recv() => match event {
                SyncEvent::Link(link) => { app.set_link(link); Vec::new() }
                SyncEvent::Change(change) => app.on_change(&change),
            },
            Some(loaded) = loaded_rx.recv() => {
                match loaded {
                    Loaded::Messages(id, Ok(list)) => app.on_messages(id, list),
                    Loaded::Messages(id, Err(e)) => app.toast(format!("#{id}: {e}"), true),
                    Loaded::Done(what, result) => app.on_done(&what, result),
                    Loaded::Revealed(id, customer) => app.on_revealed(id, customer),
                }
                Vec::new()
            }
            _ = tick.tick() => { app.tick(chrono::Utc::now()); Vec::new() }
            _ = tokio::time::sleep(redraw_in), if app.dirty => Vec::new(),
            () = &mut stop => vec![Effect::Quit],
        };
        for effect in effects {
            match effect {
                Effect::Quit => {
                    follower.abort();
                    return Ok(());
                }
                Effect::LoadMessages(id) => {
                    let (client, tx) = (client.clone(), loaded_tx.clone());
                    tokio::spawn(async move {
                        let result = client.messages(id).await.map_err(|e| e.to_string());
                        let _ = tx.send(Loaded::Messages(id, result)).await;
                    });
                }
                Effect::Call(call) => {
                    let (client, tx) = (client.clone(), loaded_tx.clone());
                    tokio::spawn(async move {
                        let loaded = perform(&client, call).await;
                        let _ = tx.send(loaded).await;
                    });
                }
                Effect::Resync => {
                    follower.abort();
                    follower =
                        tokio::spawn(sync::follow(client.clone(), app.last_seq, sync_tx.clone()));
                    app.toast("正在同步 · syncing", false);
                }
            }
        }
    }
}

/// Carries out a call; the ticket as the server now has it comes back with the outcome.
async fn perform(client: &ApiClient, call: Call) -> Loaded {
    let said = |e: crate::client::ClientError| e.to_string();
    match call {
        Call::Take {
            id,
            version,
            me,
            start,
        } => {
            let result = async {
                let t = client
                    .assign(id, Some(&me), Some(version))
                    .await
                    .map_err(said)?;
                if !start {
                    return Ok(Some(Box::new(t)));
                }
                let body = crate::service::tickets::TransitionBody {
                    to: crate::domain::ticket::Status::Triaging,
                    transfer_to: None,
                    note: None,
                    resolution: None,
                    version: Some(t.version),
                };
                client
                    .transition(id, &body)
                    .await
                    .map(|t| Some(Box::new(t)))
                    .map_err(said)
            }
            .await;
            Loaded::Done(format!("#{id} 已受理 taken"), result)
        }
        Call::Transition { id, body } => {
            let what = format!("#{id} → {}", body.to.label_zh());
            Loaded::Done(
                what,
                client
                    .transition(id, &body)
                    .await
                    .map(|t| Some(Box::new(t)))
                    .map_err(said),
            )
        }
        Call::Message {
            id,
            body,
            internal,
            key,
        } => {
            let what = if internal {
                format!("#{id} 备注已保存 note saved")
            } else {
                format!("#{id} 回复已发送 reply sent")
            };
            Loaded::Done(
                what,
                client
                    .post_message(id, &body, internal, &key)
                    .await
                    .map(|()| None)
                    .map_err(said),
            )
        }
        Call::Patch { id, body } => Loaded::Done(
            format!("#{id} 已更新 updated"),
            client
                .patch(id, &body)
                .await
                .map(|t| Some(Box::new(t)))
                .map_err(said),
        ),
        Call::Reveal(id) => match client.reveal_customer(id).await {
            Ok(customer) => Loaded::Revealed(id, customer),
            Err(e) => Loaded::Done(format!("#{id} 客户信息 customer"), Err(said(e))),
        },
    }
}
