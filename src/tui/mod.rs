//! The handler's terminal workstation: ratatui over crossterm, talking to the companion server
//! through `client` (HTTP + the SSE change stream), never to its database.
//!
//! One `select!` merges key presses, the change stream, a 1 Hz tick (SLA countdowns) and the
//! results of effects; `App` changes state, this loop does the IO and redraws only when
//! something changed, at most every ~16 ms.
//!
//! The local cache (`client::cache`) lets start-up paint the queue before the network answers
//! and keeps the workstation readable offline; writes the server cannot take then wait in its
//! outbox and are replayed, in order, when the link is live again.

pub mod action;
pub mod app;
mod calls;
mod connect;
pub mod keymap;
mod outbox;
pub mod panes;
pub mod preview;
pub mod terminal;
pub mod theme;
pub mod view;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::api::TransitionBody;
use crate::client::cache::{Cache, CacheError, CacheThread, Outgoing, origin_of};
use crate::client::sync::{self, Link, SyncEvent};
use crate::client::{ApiClient, ClientError};
use crate::config::Settings;
use crate::domain::message::Message;
use crate::domain::people::User;
use crate::domain::ticket::{Customer, Status, TicketId};
use crate::domain::view::{Change, TicketView};
use app::{App, Call, Effect, LinkState};
use keymap::Keymap;
use theme::{Theme, ThemeEnv};

use calls::*;
use connect::*;
use outbox::*;
pub use outbox::{Replay, Replayed, replay_outbox};

/// Results of effects and background work, fed back into the app.
enum Loaded {
    Messages(TicketId, Result<Vec<Message>, String>),
    Timeline(TicketId, Vec<crate::api::TimelineEntry>),
    /// The server's similar tickets for an open ticket.
    Similar(TicketId, Vec<TicketId>),
    /// A call's outcome: what to say, and the ticket as the server now has it.
    Done(String, Result<Option<Box<TicketView>>, String>),
    Revealed(TicketId, Customer),
    /// A call (named by `label`) waits in the outbox; `offline`: because the server could not
    /// be reached (else it queued behind earlier writes).
    Queued {
        label: String,
        offline: bool,
    },
    Toast(String, bool),
    /// A screenshot decoded for showing.
    Preview(String, Box<preview::Preview>),
    /// Start-up reached the server.
    Connected(Box<Connected>),
    /// Start-up cannot reach the server yet; it keeps trying.
    Offline {
        attempt: u32,
        reason: String,
    },
    /// The server turned this workstation away: quit with this.
    Refused(String),
    /// An outbox replay finished.
    Replayed(Result<Replay, CacheError>),
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
///
/// With a cache of this server, the cached queue is painted before any network call and the
/// server is reached in the background (the workstation starts offline if it cannot be); with
/// none, the server must answer before the terminal is taken over.
pub async fn run(launch: Launch) -> anyhow::Result<()> {
    let (keymap, theme, warnings) = load_look(&launch.settings)?;
    for w in &warnings {
        eprintln!("opsdesk: {w}");
    }
    let client = launch.client;
    let (cache, cached, cache_note) = match open_cache(client.base()).await {
        Ok(Some((cache, cached))) => (Some(cache), cached, None),
        Ok(None) => (None, Cached::default(), None),
        Err(e) => {
            tracing::warn!(error = %e, "running without the local cache");
            let path = cache_path(client.base()).unwrap_or_default();
            let note = format!("本地缓存不可用 · no local cache ({}): {e}", path.display());
            (None, Cached::default(), Some(note))
        }
    };

    let settings = launch.settings;
    let mut app = App::new(
        keymap,
        settings.systems.clone(),
        settings.calendar.tz(),
        client.base().to_string(),
        launch.embedded,
        chrono::Utc::now(),
    );
    app.colour = !ThemeEnv::from_env().no_color && theme.name() != "mono";
    let (sync_tx, mut sync_rx) = mpsc::channel::<SyncEvent>(1024);
    let (loaded_tx, mut loaded_rx) = mpsc::channel::<Loaded>(64);
    let mut work = Work::new(client, cache, sync_tx, loaded_tx);
    work.queued = cached.queued;
    if cached.last_seq > 0 {
        app.me = cached.username;
        app.last_seq = cached.last_seq;
        app.on_tickets(cached.tickets);
        work.known = Some(Known {
            last_seq: cached.last_seq,
            origin: cached.origin,
        });
        work.start_connecting();
    } else {
        let connected = reach(&work.client, work.cache.as_ref(), None)
            .await
            .with_context(|| format!("connecting to {}", work.client.base()))?;
        work.connected(&mut app, connected);
    }
    for w in warnings {
        app.toast(w, true);
    }
    if let Some(note) = cache_note {
        app.toast(note, true);
    }
    if work.queued > 0 {
        app.toast(
            format!(
                "{} 条离线待发 · queued offline: {}",
                work.queued, work.queued
            ),
            false,
        );
    }
    if let Some(g) = launch.greeting {
        app.toast(g, false);
    }

    let mut guard = terminal::TerminalGuard::new()?;
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let frame_gap = Duration::from_millis(16);
    let mut last_draw = tokio::time::Instant::now() - frame_gap;
    let stop = crate::signals::shutdown();
    tokio::pin!(stop);

    loop {
        if app.outbox != work.queued {
            app.outbox = work.queued;
            app.dirty = true;
        }
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
            Some(event) = sync_rx.recv() => work.on_sync(&mut app, event, &mut sync_rx),
            Some(loaded) = loaded_rx.recv() => work.on_loaded(&mut app, loaded)?,
            _ = tick.tick() => {
                app.tick(chrono::Utc::now());
                work.on_tick(&app);
                Vec::new()
            }
            _ = tokio::time::sleep(redraw_in), if app.dirty => Vec::new(),
            () = &mut stop => vec![Effect::Quit],
        };
        for effect in effects {
            if work.execute(&mut app, effect) {
                work.stop().await;
                return Ok(());
            }
        }
    }
}

/// How long a live link waits before trying the outbox again after it could not all be sent.
const OUTBOX_RETRY: Duration = Duration::from_secs(30);
/// Changes taken from the channel into one cache transaction, at most.
const BATCH: usize = 512;

/// The loop's side of the work: the connection, the cache, and the tasks running for the app.
struct Work {
    client: ApiClient,
    cache: Option<CacheThread>,
    sync_tx: mpsc::Sender<SyncEvent>,
    loaded_tx: mpsc::Sender<Loaded>,
    /// What the cache held at start-up, until the server is reached.
    known: Option<Known>,
    /// Reaches the server at start-up, retrying while it cannot.
    connector: Option<JoinHandle<()>>,
    /// Follows the server once reached.
    follower: Option<JoinHandle<()>>,
    /// Writes waiting in the outbox, as far as this process knows.
    queued: usize,
    replaying: bool,
    /// When to try the outbox again while the link stays live.
    retry_at: Option<tokio::time::Instant>,
}

impl Work {
    fn new(
        client: ApiClient,
        cache: Option<CacheThread>,
        sync_tx: mpsc::Sender<SyncEvent>,
        loaded_tx: mpsc::Sender<Loaded>,
    ) -> Work {
        Work {
            client,
            cache,
            sync_tx,
            loaded_tx,
            known: None,
            connector: None,
            follower: None,
            queued: 0,
            replaying: false,
            retry_at: None,
        }
    }

    /// Reaches the server in the background, while the cached queue is on screen.
    fn start_connecting(&mut self) {
        if let Some(task) = self.connector.take() {
            task.abort();
        }
        let (client, cache, tx) = (
            self.client.clone(),
            self.cache.clone(),
            self.loaded_tx.clone(),
        );
        let known = self.known.clone();
        self.connector = Some(tokio::spawn(async move {
            let mut attempt = 0u32;
            loop {
                let loaded = match reach(&client, cache.as_ref(), known.clone()).await {
                    Ok(c) => Loaded::Connected(Box::new(c)),
                    Err(
                        e @ ClientError::Api {
                            status: 401 | 403, ..
                        },
                    ) => Loaded::Refused(format!("{}: {e}", client.base())),
                    Err(e) => {
                        attempt += 1;
                        Loaded::Offline {
                            attempt,
                            reason: e.to_string(),
                        }
                    }
                };
                let again = matches!(loaded, Loaded::Offline { .. });
                if tx.send(loaded).await.is_err() || !again {
                    return;
                }
                tokio::time::sleep(backoff(attempt)).await;
            }
        }));
    }

    /// The server answered at last (or at once): follow it from where the cache stops.
    fn connected(&mut self, app: &mut App, c: Connected) {
        self.connector = None;
        self.known = None;
        app.me = Some(c.me.username.clone());
        app.handlers = c.handlers;
        let username = c.me.username.clone();
        self.submit("remember the user", move |cache| {
            cache.set_username(&username)
        });
        if let Some(tickets) = c.snapshot {
            app.tickets.clear();
            app.on_tickets(tickets);
        }
        app.on_unread(c.unread);
        if c.dropped > 0 {
            self.queued = 0;
            app.toast(
                format!(
                    "服务器数据已更换，丢弃 {n} 条离线待发 · the server's data changed; {n} queued writes dropped",
                    n = c.dropped
                ),
                true,
            );
        }
        app.last_seq = c.since;
        self.follow(c.since);
    }

    fn follow(&mut self, since: i64) {
        if let Some(task) = self.follower.take() {
            task.abort();
        }
        self.follower = Some(tokio::spawn(sync::follow(
            self.client.clone(),
            since,
            self.sync_tx.clone(),
        )));
    }

    /// A cache write that nobody waits for; a failure is logged (the server still has it).
    fn submit(
        &self,
        what: &'static str,
        job: impl FnOnce(&mut Cache) -> Result<(), CacheError> + Send + 'static,
    ) {
        if let Some(cache) = &self.cache {
            cache.submit(move |c| {
                if let Err(e) = job(c) {
                    tracing::warn!(error = %e, "cache: could not {what}");
                }
            });
        }
    }

    /// Whatever the stream has queued is handled at once and written in one transaction.
    fn on_sync(
        &mut self,
        app: &mut App,
        first: SyncEvent,
        rx: &mut mpsc::Receiver<SyncEvent>,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        let mut batch: Vec<Change> = Vec::new();
        let mut next = Some(first);
        while let Some(event) = next.take() {
            match event {
                SyncEvent::Link(link) => self.on_link(app, link),
                SyncEvent::Change(change) => {
                    effects.extend(app.on_change(&change));
                    batch.push(*change);
                }
            }
            if batch.len() < BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            self.submit("apply changes", move |cache| cache.apply(&batch));
        }
        effects
    }

    fn on_link(&mut self, app: &mut App, link: Link) {
        let back = link == Link::Live && app.link != LinkState::Live;
        app.set_link(link);
        if back {
            self.replay();
        }
    }

    /// Tries the outbox again when the link stayed live but something could not be sent.
    fn on_tick(&mut self, app: &App) {
        if app.link == LinkState::Live
            && !self.replaying
            && self
                .retry_at
                .is_some_and(|at| at <= tokio::time::Instant::now())
        {
            self.retry_at = None;
            self.replay();
        }
    }

    fn replay(&mut self) {
        let Some(cache) = self.cache.clone() else {
            return;
        };
        if self.replaying {
            return;
        }
        self.replaying = true;
        let (client, tx) = (self.client.clone(), self.loaded_tx.clone());
        tokio::spawn(async move {
            let result = replay_outbox(&client, &cache).await;
            let _ = tx.send(Loaded::Replayed(result)).await;
        });
    }

    fn on_loaded(&mut self, app: &mut App, loaded: Loaded) -> anyhow::Result<Vec<Effect>> {
        match loaded {
            Loaded::Messages(id, Ok(list)) => app.on_messages(id, list),
            Loaded::Messages(id, Err(e)) => app.toast(format!("#{id}: {e}"), true),
            Loaded::Done(what, result) => app.on_done(&what, result),
            Loaded::Revealed(id, customer) => app.on_revealed(id, customer),
            Loaded::Toast(text, error) => app.toast(text, error),
            Loaded::Timeline(id, entries) => app.on_timeline(id, entries),
            Loaded::Similar(id, ids) => app.on_similar(id, ids),
            Loaded::Preview(title, image) => app.on_preview(title, *image),
            Loaded::Queued { label, offline } => {
                self.queued += 1;
                if offline {
                    app.toast(
                        format!("{label}：已离线保存，恢复后自动发送 · queued offline"),
                        false,
                    );
                }
                if app.link == LinkState::Live {
                    // The link looks live: send it from the outbox soon, not on a reconnect.
                    let wait = if offline {
                        OUTBOX_RETRY / 3
                    } else {
                        Duration::ZERO
                    };
                    self.retry_at = Some(tokio::time::Instant::now() + wait);
                }
            }
            Loaded::Connected(c) => self.connected(app, *c),
            Loaded::Offline { attempt, reason } => {
                if attempt == 1 {
                    app.toast(
                        "离线 offline · 显示缓存的工单，写入将排队 showing the cached queue; writes are queued",
                        true,
                    );
                }
                app.set_offline(attempt, reason);
            }
            Loaded::Refused(why) => anyhow::bail!(why),
            Loaded::Replayed(result) => {
                self.replaying = false;
                match result {
                    Ok(replay) => {
                        self.queued = replay.left;
                        if replay.left > 0 {
                            self.retry_at = Some(tokio::time::Instant::now() + OUTBOX_RETRY);
                        }
                        for r in replay.results {
                            show_replayed(app, r);
                        }
                    }
                    Err(e) => app.toast(
                        format!("离线待发无法读取 · cannot read the outbox: {e}"),
                        true,
                    ),
                }
            }
        }
        Ok(Vec::new())
    }

    /// Runs one effect; true when the workstation should quit.
    fn execute(&mut self, app: &mut App, effect: Effect) -> bool {
        match effect {
            Effect::Quit => return true,
            Effect::LoadMessages(id) => self.load_messages(id),
            Effect::MarkRead { ticket, message } => {
                mark_read_in_background(self.client.clone(), ticket, message)
            }
            Effect::Call(call) => self.call(app, call),
            Effect::Preview {
                ticket,
                attachment,
                filename,
            } => {
                let (client, tx) = (self.client.clone(), self.loaded_tx.clone());
                tokio::spawn(async move {
                    let decoded = match client.download(attachment).await {
                        Ok(bytes) => {
                            tokio::task::spawn_blocking(move || preview::Preview::decode(&bytes))
                                .await
                                .unwrap_or_else(|e| Err(e.to_string()))
                        }
                        Err(e) => Err(e.to_string()),
                    };
                    let said = match decoded {
                        Ok(image) => {
                            Loaded::Preview(format!("#{ticket} {filename}"), Box::new(image))
                        }
                        Err(e) => Loaded::Toast(format!("#{ticket} {filename}: {e}"), true),
                    };
                    let _ = tx.send(said).await;
                });
            }
            Effect::Save {
                ticket,
                attachment,
                filename,
            } => {
                let (client, tx) = (self.client.clone(), self.loaded_tx.clone());
                tokio::spawn(async move {
                    let said = match save_attachment(&client, ticket, attachment, &filename).await {
                        Ok(path) => {
                            Loaded::Toast(format!("已保存 saved: {}", path.display()), false)
                        }
                        Err(e) => Loaded::Toast(format!("#{ticket} {filename}: {e}"), true),
                    };
                    let _ = tx.send(said).await;
                });
            }
            Effect::Resync => {
                if self.connector.is_some() {
                    // Still reaching the server: try now instead of after the pause.
                    self.start_connecting();
                    app.toast("正在连接 · connecting", false);
                } else {
                    self.follow(app.last_seq);
                    app.toast("正在同步 · syncing", false);
                }
            }
        }
        false
    }

    /// The cached conversation at once (when the cache holds all of it), then the server's.
    fn load_messages(&self, id: TicketId) {
        let (client, cache, tx) = (
            self.client.clone(),
            self.cache.clone(),
            self.loaded_tx.clone(),
        );
        tokio::spawn(async move {
            let mut shown = false;
            if let Some(cache) = &cache
                && let Ok(Ok(Some(list))) = cache.ask(move |c| c.messages(id)).await
            {
                shown = true;
                let _ = tx.send(Loaded::Messages(id, Ok(list))).await;
            }
            let loaded = match client.messages(id).await {
                Ok(list) => {
                    // Opened and read: the server's marker moves, so the badge stays gone on
                    // the handler's next start and on their other terminals.
                    if let Some(last) = list.last() {
                        mark_read_in_background(client.clone(), id, last.id);
                    }
                    if let Some(cache) = &cache {
                        let stored = list.clone();
                        cache.submit(move |c| {
                            if let Err(e) = c.put_messages(id, &stored) {
                                tracing::warn!(error = %e, "cache: could not store a conversation");
                            }
                        });
                    }
                    Loaded::Messages(id, Ok(list))
                }
                Err(ClientError::Unreachable { .. }) if shown => Loaded::Toast(
                    format!("#{id} 离线：显示缓存的对话 · offline: the cached conversation"),
                    false,
                ),
                Err(ClientError::Unreachable { .. }) => Loaded::Messages(
                    id,
                    Err("离线，对话未缓存 · offline; this conversation is not cached".into()),
                ),
                Err(e) => Loaded::Messages(id, Err(e.to_string())),
            };
            let _ = tx.send(loaded).await;
            // The timeline is read live only; offline the pane says it is not loaded.
            if let Ok(entries) = client.timeline(id).await {
                let _ = tx.send(Loaded::Timeline(id, entries)).await;
            }
            if let Ok(ids) = client.similar(id).await {
                let _ = tx.send(Loaded::Similar(id, ids)).await;
            }
        });
    }

    /// Sends a call; one the server cannot take now goes to the outbox. While writes wait
    /// there, a new one queues behind them so the server sees them in the handler's order.
    fn call(&mut self, app: &App, call: Call) {
        let (client, cache, tx) = (
            self.client.clone(),
            self.cache.clone(),
            self.loaded_tx.clone(),
        );
        if (self.queued > 0 || self.replaying)
            && is_write(&call)
            && let Some(cache) = cache.clone()
        {
            let (label, offline) = (label(&call), app.link != LinkState::Live);
            tokio::spawn(async move {
                let loaded = queue(&cache, call, label, offline).await;
                let _ = tx.send(loaded).await;
            });
            return;
        }
        tokio::spawn(async move {
            let (label, done) = (label(&call), success(&call));
            let loaded = match perform(&client, call).await {
                Ok(Performed::Ticket(t)) => Loaded::Done(done, Ok(t)),
                Ok(Performed::Replied(t, _)) => Loaded::Done(done, Ok(Some(t))),
                Ok(Performed::Revealed(id, customer)) => Loaded::Revealed(id, customer),
                Err(NotDone {
                    error: error @ ClientError::Unreachable { .. },
                    rest: Some(rest),
                }) => match &cache {
                    Some(cache) => queue(cache, rest, label, true).await,
                    None => Loaded::Done(label, Err(explain(&error))),
                },
                Err(NotDone { error, .. }) => Loaded::Done(label, Err(explain(&error))),
            };
            let _ = tx.send(loaded).await;
        });
    }

    /// Stops the background work and lets the cache finish what it was given.
    async fn stop(&mut self) {
        for task in [self.connector.take(), self.follower.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        if let Some(cache) = &self.cache {
            let _ = tokio::time::timeout(Duration::from_secs(2), cache.flush()).await;
        }
    }
}

/// Moves the server's read marker without waiting: a missed mark only leaves a badge on.
fn mark_read_in_background(client: ApiClient, ticket: TicketId, message: i64) {
    tokio::spawn(async move {
        if let Err(e) = client.mark_read(ticket, message).await {
            tracing::debug!(error = %e, "could not move the read marker");
        }
    });
}
