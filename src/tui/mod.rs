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
pub mod desk;
pub mod drafts;
pub mod editor;
pub mod effect;
pub mod fetch;
pub mod keymap;
mod outbox;
pub mod overlay;
pub mod panes;
pub mod preview;
pub mod terminal;
pub mod theme;
pub mod tickets;
pub mod view;
pub mod work;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::api::{Change, TicketView};
use crate::client::cache::{Cache, CacheError, CacheThread, origin_of};
use crate::client::sync::{self, Link, SyncEvent};
use crate::client::{ApiClient, ClientError};
use crate::config::Settings;
use crate::domain::people::User;
use crate::domain::ticket::TicketId;
use app::{App, Event, LinkState};
use effect::{Effect, Io, Job};
use keymap::Keymap;
use overlay::Overlay;
use theme::{Theme, ThemeEnv};
use work::Call;

use calls::*;
use connect::*;
use outbox::*;
pub use outbox::{Replay, Replayed, replay_outbox};

/// What the loop's own background work reports back.
enum Loaded {
    /// For the app.
    App(Event),
    /// A write (named by `label`) waits in the outbox; `offline`: because the server could not
    /// be reached (else it queued behind earlier writes).
    Queued { label: String, offline: bool },
    /// Start-up reached the server.
    Connected(Box<Connected>),
    /// Start-up cannot reach the server yet; it keeps trying.
    Offline { attempt: u32, reason: String },
    /// The server turned this workstation away: quit with this.
    Refused(String),
    /// A call the server refused for good; its text, if it carried one, is kept as a draft.
    Declined {
        label: String,
        error: String,
        kept: Option<(String, String)>,
    },
    /// The server refused the token at start-up: the cache stays on screen, writes queue.
    TokenRefused(String),
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
/// none, the server must know the user as a handler before the terminal is taken over, and
/// the queue loads behind the first frame.
pub async fn run(launch: Launch) -> anyhow::Result<()> {
    let (keymap, theme, warnings) = load_look(&launch.settings)?;
    for w in &warnings {
        eprintln!("opsdesk: {w}");
    }
    let client = launch.client;
    let (cache, cached, cache_notes) = open_cache(client.base()).await;

    let settings = launch.settings;
    let mut app = App::new(
        keymap,
        settings.systems.clone(),
        settings.calendar.tz(),
        client.base().to_string(),
        launch.embedded,
        chrono::Utc::now(),
    );
    app.desk.colour = !ThemeEnv::from_env().no_color && theme.name() != "mono";
    let (sync_tx, mut sync_rx) = mpsc::channel::<SyncEvent>(1024);
    let (loaded_tx, mut loaded_rx) = mpsc::channel::<Loaded>(64);
    let (events_tx, mut events_rx) = mpsc::channel::<Event>(256);
    let mut work = Work::new(client, cache, sync_tx, loaded_tx, events_tx);
    work.queued = cached.pending.len();
    let mut effects = app.update(Event::Drafts(cached.drafts));
    effects.extend(app.update(Event::Outbox(cached.pending)));
    let mut notes: Vec<(String, bool)> = warnings.into_iter().map(|w| (w, true)).collect();
    // The handler's own canned replies; a mistake is said with its line, the shipped ones stay.
    if let Some((path, text)) = user_file("canned.toml") {
        match crate::domain::canned::parse(&path.display().to_string(), &text) {
            Ok(mine) => effects.extend(app.update(Event::CannedReplies(mine))),
            Err(e) => notes.push((format!("常用回复文件有误 canned replies: {e}"), true)),
        }
    }
    if cached.last_seq > 0 {
        effects.extend(app.update(Event::SignedIn {
            me: cached.username,
            last_seq: cached.last_seq,
        }));
        effects.extend(app.update(Event::Rows {
            rows: cached.rows,
            replace: false,
        }));
        work.known = Some(Known {
            last_seq: cached.last_seq,
            origin: cached.origin,
        });
        work.start_connecting();
    } else {
        // Nothing cached: the server must know us as a handler before the terminal is taken
        // over; the open queue (100,000 tickets take seconds) then loads behind the first
        // frame, which says it is loading.
        let me = match work
            .client
            .me()
            .await
            .and_then(|me| check_role(&me).map(|()| me))
        {
            Ok(me) => me,
            Err(e) => {
                // Not started: what became of the cache is said here, or never.
                for (text, _) in &cache_notes {
                    eprintln!("opsdesk: {text}");
                }
                return Err(e).with_context(|| format!("connecting to {}", work.client.base()));
            }
        };
        effects.extend(app.update(Event::SignedIn {
            me: Some(me.username),
            last_seq: 0,
        }));
        work.start_connecting();
    }
    notes.extend(cache_notes);
    if work.queued > 0 {
        notes.push((
            format!("{n} 条离线待发 · queued offline: {n}", n = work.queued),
            false,
        ));
    }
    if cached.set_aside > 0 {
        notes.push((
            format!(
                "{n} 条离线待发无法读取，已搁置，按 :outbox 查看 · {n} queued writes set aside; see :outbox",
                n = cached.set_aside
            ),
            true,
        ));
    }
    if cached.rebuilt.is_some() {
        effects.extend(app.update(Event::Notice(
            "缓存已重建，M 查看 · cache rebuilt, M for details".into(),
        )));
    }
    notes.extend(launch.greeting.map(|g| (g, false)));
    for (text, error) in notes {
        effects.extend(app.update(Event::Toast(text, error)));
    }

    let mut guard = terminal::TerminalGuard::new()?;
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let frame_gap = Duration::from_millis(16);
    let mut last_draw = tokio::time::Instant::now() - frame_gap;
    let stop = crate::signals::shutdown();
    tokio::pin!(stop);

    loop {
        for effect in effects.drain(..) {
            if work.execute(&app, effect) {
                work.stop().await;
                return Ok(());
            }
        }
        if app.dirty && last_draw.elapsed() >= frame_gap {
            guard.terminal().draw(|f| view::draw(f, &mut app, &theme))?;
            app.drawn();
            last_draw = tokio::time::Instant::now();
        }
        let redraw_in = frame_gap.saturating_sub(last_draw.elapsed());
        effects = tokio::select! {
            event = keys.next() => match event {
                Some(Ok(TermEvent::Key(key))) if key.kind == KeyEventKind::Press => {
                    app.update(Event::Key(key))
                }
                Some(Ok(TermEvent::Resize(_, _))) => app.update(Event::Resize),
                Some(Ok(TermEvent::Paste(text))) => app.update(Event::Paste(text)),
                Some(Ok(_)) => Vec::new(),
                // The terminal is gone (a dropped SSH session): quit like a normal exit.
                Some(Err(_)) | None => vec![Effect::Quit],
            },
            Some(event) = sync_rx.recv() => work.on_sync(&mut app, event, &mut sync_rx),
            Some(loaded) = loaded_rx.recv() => work.on_loaded(&mut app, loaded)?,
            Some(event) = events_rx.recv() => app.update(event),
            _ = tick.tick() => {
                work.on_tick(&app);
                app.update(Event::Tick(chrono::Utc::now()))
            }
            _ = tokio::time::sleep(redraw_in), if app.dirty => Vec::new(),
            () = &mut stop => vec![Effect::Quit],
        };
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
    /// Where jobs send what they yield for the app.
    events_tx: mpsc::Sender<Event>,
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
    /// When a key last asked for a fresh attempt to reach the server.
    last_reconnect: Option<tokio::time::Instant>,
}

impl Work {
    fn new(
        client: ApiClient,
        cache: Option<CacheThread>,
        sync_tx: mpsc::Sender<SyncEvent>,
        loaded_tx: mpsc::Sender<Loaded>,
        events_tx: mpsc::Sender<Event>,
    ) -> Work {
        Work {
            client,
            cache,
            sync_tx,
            loaded_tx,
            events_tx,
            known: None,
            connector: None,
            follower: None,
            queued: 0,
            replaying: false,
            retry_at: None,
            last_reconnect: None,
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
                let (loaded, pause) = match reach(&client, cache.as_ref(), known.clone()).await {
                    Ok(c) => (Loaded::Connected(Box::new(c)), None),
                    // Not a handler at all: the workstation is not for this user.
                    Err(e @ ClientError::Api { status: 403, .. }) => {
                        (Loaded::Refused(format!("{}: {e}", client.base())), None)
                    }
                    // A refused token: a new one fixes it; meanwhile the cache is there.
                    Err(e @ ClientError::Api { status: 401, .. }) => (
                        Loaded::TokenRefused(e.to_string()),
                        Some(sync::REFUSED_RETRY),
                    ),
                    Err(e) => {
                        attempt += 1;
                        let offline = Loaded::Offline {
                            attempt,
                            reason: e.to_string(),
                        };
                        (offline, Some(backoff(attempt)))
                    }
                };
                let Some(pause) = pause else {
                    let _ = tx.send(loaded).await;
                    return;
                };
                if tx.send(loaded).await.is_err() {
                    return;
                }
                tokio::time::sleep(pause).await;
            }
        }));
    }

    /// The server answered at last (or at once): follow it from where the cache stops.
    fn connected(&mut self, app: &mut App, c: Connected) -> Vec<Effect> {
        self.connector = None;
        self.known = None;
        let username = c.me.username.clone();
        self.submit("remember the user", move |cache| {
            cache.set_username(&username)
        });
        let mut effects = app.update(Event::SignedIn {
            me: Some(c.me.username.clone()),
            last_seq: c.since,
        });
        effects.extend(app.update(Event::Handlers(c.handlers)));
        if let Some(rows) = c.snapshot {
            effects.extend(app.update(Event::Rows {
                rows,
                replace: true,
            }));
        }
        effects.extend(app.update(Event::Unread(c.unread)));
        if c.dropped > 0 {
            self.queued = 0;
            effects.extend(app.update(Event::Toast(
                format!(
                    "服务器数据已更换，丢弃 {n} 条离线待发 · the server's data changed; {n} queued writes dropped",
                    n = c.dropped
                ),
                true,
            )));
        }
        self.follow(c.since);
        effects
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
                SyncEvent::Link(link) => effects.extend(self.on_link(app, link)),
                SyncEvent::Reset => app.last_seq = 0,
                SyncEvent::Change(change) => {
                    batch.push((*change).clone());
                    effects.extend(app.update(Event::Change(change)));
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

    fn on_link(&mut self, app: &mut App, link: Link) -> Vec<Effect> {
        let back = link == Link::Live && app.link != LinkState::Live;
        let mut effects = Vec::new();
        if matches!(link, Link::Refused { .. }) && !matches!(app.link, LinkState::Refused { .. }) {
            effects.extend(app.update(Event::Toast(token_advice(app), true)));
        }
        let state = match link {
            Link::Live => LinkState::Live,
            Link::Reconnecting { attempt, reason } => LinkState::Reconnecting { attempt, reason },
            Link::Refused { reason } => LinkState::Refused { reason },
        };
        effects.extend(app.update(Event::Link(state)));
        if back {
            self.replay();
        }
        effects
    }

    /// Reads what waits in the outbox, for the panes to show in place.
    fn show_outbox(&self) {
        let (Some(cache), tx) = (self.cache.clone(), self.events_tx.clone()) else {
            return;
        };
        tokio::spawn(async move {
            match cache.ask(|c| c.outbox()).await.and_then(|r| r) {
                Ok(queued) => {
                    let pending = queued
                        .into_iter()
                        .filter_map(|q| q.write.ok())
                        .map(|w| pending_of(&w))
                        .collect();
                    let _ = tx.send(Event::Outbox(pending)).await;
                }
                Err(e) => tracing::warn!(error = %e, "could not read the outbox"),
            }
        });
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
        let mut effects = Vec::new();
        match loaded {
            Loaded::App(event) => effects.extend(app.update(event)),
            Loaded::Queued { label, offline } => {
                self.queued += 1;
                self.show_outbox();
                if offline {
                    effects.extend(app.update(Event::Toast(
                        format!("{label}：已离线保存，恢复后自动发送 · queued offline"),
                        false,
                    )));
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
            Loaded::Connected(c) => effects.extend(self.connected(app, *c)),
            Loaded::Offline { attempt, reason } => {
                if attempt == 1 {
                    effects.extend(app.update(Event::Toast(
                        "离线 offline · 显示缓存的工单，写入将排队 showing the cached queue; writes are queued".into(),
                        true,
                    )));
                }
                effects.extend(app.update(Event::Link(LinkState::Offline { attempt, reason })));
            }
            Loaded::Refused(why) => anyhow::bail!(why),
            Loaded::TokenRefused(reason) => {
                if app.link
                    != (LinkState::Refused {
                        reason: reason.clone(),
                    })
                {
                    effects.extend(app.update(Event::Toast(token_advice(app), true)));
                }
                effects.extend(app.update(Event::Link(LinkState::Refused { reason })));
            }
            Loaded::Declined { label, error, kept } => {
                effects.extend(app.update(Event::Done(label, Err(error))));
                if let Some((key, text)) = kept {
                    effects.extend(app.update(Event::KeepDraft(key, text)));
                }
            }
            Loaded::Replayed(result) => {
                self.replaying = false;
                match result {
                    Ok(replay) => {
                        self.queued = replay.left;
                        self.show_outbox();
                        if replay.left > 0 {
                            self.retry_at = Some(tokio::time::Instant::now() + OUTBOX_RETRY);
                        }
                        for event in replay.results.into_iter().flat_map(told) {
                            effects.extend(app.update(event));
                        }
                    }
                    Err(e) => effects.extend(app.update(Event::Toast(
                        format!("离线待发无法读取 · cannot read the outbox: {e}"),
                        true,
                    ))),
                }
            }
        }
        Ok(effects)
    }

    /// Runs one effect; true when the workstation should quit.
    fn execute(&mut self, app: &App, effect: Effect) -> bool {
        match effect {
            Effect::Quit => return true,
            Effect::Call(call) => self.call(app, &call),
            Effect::Run(task) => {
                let io = Io::new(
                    self.client.clone(),
                    self.cache.clone(),
                    task.owner,
                    self.events_tx.clone(),
                );
                tokio::spawn(task.job.run(io));
            }
            Effect::Reconnect => {
                // At most one fresh attempt a second, however fast the keys come.
                let now = tokio::time::Instant::now();
                if self
                    .last_reconnect
                    .is_none_or(|at| now - at >= Duration::from_secs(1))
                {
                    self.last_reconnect = Some(now);
                    if self.connector.is_some() {
                        self.start_connecting();
                    } else {
                        self.follow(app.last_seq);
                    }
                }
            }
            Effect::Resync => {
                let said = if self.connector.is_some() {
                    // Still reaching the server: try now instead of after the pause.
                    self.start_connecting();
                    "正在连接 · connecting"
                } else {
                    self.follow(app.last_seq);
                    "正在同步 · syncing"
                };
                let _ = self
                    .events_tx
                    .try_send(Event::Toast(said.to_string(), false));
            }
        }
        false
    }

    /// Sends a call; one the server cannot take now goes to the outbox. While writes wait
    /// there, a new one queues behind them so the server sees them in the handler's order.
    fn call(&mut self, app: &App, call: &Call) {
        let write = write_of(call);
        let (client, cache, tx) = (
            self.client.clone(),
            self.cache.clone(),
            self.loaded_tx.clone(),
        );
        if (self.queued > 0 || self.replaying)
            && let Some(cache) = cache.clone()
        {
            let offline = app.link != LinkState::Live;
            tokio::spawn(async move {
                let loaded = queue(&cache, write, offline).await;
                let _ = tx.send(loaded).await;
            });
            return;
        }
        tokio::spawn(async move {
            let loaded = perform(&client, cache.as_ref(), write).await;
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

/// What to do about a refused token, in words: who, which command, where the token goes.
fn token_advice(app: &App) -> String {
    let who = app.desk.me.as_deref().unwrap_or("<name>");
    format!(
        "服务器拒绝了令牌：请管理员运行 opsdesk admin user token {who}，再用 --token 或 OPSDESK_TOKEN 重启 · \
         the server refused the token: have an admin run `opsdesk admin user token {who}`, then restart \
         with --token or OPSDESK_TOKEN. Nothing you wrote is lost: writes wait in the outbox."
    )
}

/// A queued write as the panes show it: its ticket, what it is, and the text it carries.
fn pending_of(write: &crate::client::outbox::Write) -> desk::PendingWrite {
    desk::PendingWrite {
        ticket: write.ticket,
        label: write.label.clone(),
        text: write.text().map(str::to_string),
    }
}
