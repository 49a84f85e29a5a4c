//! The workstation's state and the only place it changes.
//!
//! [`App::update`] takes every input the loop has — keys, pasted text, the clock, changes from
//! the server, the link, the results of work — changes the state and returns [`Effect`]s; it
//! does no IO, so every behaviour here is testable without a terminal or a server. The loop in
//! `tui::run` executes the effects and feeds their results back as [`Event`]s.
//!
//! The app owns what every pane shares: focus, the shared overlays (help, palette, pickers,
//! prompts, editors, previews), toasts, the link and outbox state, and the [`Desk`]. Everything
//! else is the panes' (`tui/panes/`), reached through the [`Pane`] trait only.

use std::any::Any;
use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Context};
use super::desk::{Desk, Request};
use super::effect::Effect;
use super::keymap::{Key, Keymap, Lookup};
use super::overlay::{Outcome, Overlay};
use super::panes::{self, Command, Edit, Msg, Pane, PaneId};
use crate::api::{Change, Message, TicketView};
use crate::config::SystemDef;
use crate::domain::people::Role;
use crate::domain::ticket::{Status, TicketId};

pub use super::work::Call;

/// What reaches the app from the loop.
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    /// Bracketed paste: the text as one event.
    Paste(String),
    /// The terminal changed size: everything is drawn again.
    Resize,
    /// The clock moved (1 Hz): countdowns change, toasts expire.
    Tick(DateTime<Utc>),
    /// A change from the server's stream.
    Change(Box<Change>),
    Link(LinkState),
    /// Tickets as the server or the cache has them in full (opened, fetched, loaded).
    Tickets(Vec<TicketView>),
    /// Open tickets as queue rows (read from the cache at start-up, or a fresh snapshot from
    /// the server); `replace` drops the ones known before.
    Rows {
        rows: Vec<crate::client::row::QueueRow>,
        replace: bool,
    },
    /// Who the workstation works for, and where in the server's change log it stands.
    SignedIn {
        me: Option<String>,
        last_seq: i64,
    },
    /// Who tickets can be assigned to, from the server.
    Handlers(Vec<String>),
    /// Drafts kept from an earlier session (key, text).
    Drafts(Vec<(String, String)>),
    /// A text the server refused, kept as a draft so it is not lost (key, text).
    KeepDraft(String, String),
    /// The handler's own canned replies (`canned.toml`), over the shipped ones.
    CannedReplies(Vec<crate::domain::canned::Canned>),
    /// Open tickets with submitters' messages not read yet (the server keeps the markers).
    Unread(Vec<TicketId>),
    /// The writes waiting in the outbox, oldest first.
    Outbox(Vec<super::desk::PendingWrite>),
    Toast(String, bool),
    /// Something the handler must not miss, kept on the status line for a minute.
    Notice(String),
    Overlay(Box<Overlay>),
    /// A call's outcome: what to say, and the ticket as the server now has it.
    Done(String, Result<Option<Box<TicketView>>, String>),
    /// What a pane's job yielded, for that pane.
    Loaded {
        pane: PaneId,
        loaded: Box<dyn Any + Send>,
    },
}

/// A transient message in the corner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    pub until: DateTime<Utc>,
}

/// How the workstation is connected, for the status line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Live,
    Reconnecting {
        attempt: u32,
        reason: String,
    },
    /// The server could not be reached at start-up: the cached queue is shown, writes queue.
    Offline {
        attempt: u32,
        reason: String,
    },
    /// The server refused the token: what is cached stays readable, writes queue, and the
    /// handler is told how to get a new token.
    Refused {
        reason: String,
    },
}

impl LinkState {
    pub fn is_live(&self) -> bool {
        *self == LinkState::Live
    }
}

/// What the app itself offers in every pane.
pub const GLOBAL_COMMANDS: &[Command] = &[
    Command::hint(Action::Help),
    Command::hint(Action::Quit),
    Command::new(Action::Palette),
    Command::new(Action::Refresh),
    Command::new(Action::NextPane),
    Command::new(Action::PrevPane),
    Command::new(Action::PaneQueue),
    Command::new(Action::PaneTicket),
    Command::new(Action::PaneLogs),
    Command::new(Action::PaneKb),
    Command::new(Action::PaneConstruct),
    Command::new(Action::PaneStats),
    Command::new(Action::PaneAlerts),
    Command::new(Action::Back),
    Command::new(Action::Outbox),
    Command::new(Action::Goto),
    Command::new(Action::Messages),
];

/// The app's own prompt: a ticket number to open.
#[derive(Debug)]
struct GotoTicket;

/// The texts of the canned replies offered, by the picker's index.
#[derive(Debug)]
struct CannedPick(Vec<String>);

pub struct App {
    pub keymap: Keymap,
    pub desk: Desk,
    panes: Vec<Box<dyn Pane>>,
    pub overlay: Option<Overlay>,
    pub link: LinkState,
    /// Where the server is, and whether this process runs it.
    pub server: String,
    pub embedded: bool,
    pub toasts: VecDeque<Toast>,
    /// A notice on the status line, until when.
    pub notice: Option<(String, DateTime<Utc>)>,
    /// Everything said in toasts this session, oldest first, for `:messages`.
    pub log: VecDeque<(DateTime<Utc>, String, bool)>,
    /// Keys typed so far of a multi-key binding.
    pub pending: Vec<Key>,
    pub last_seq: i64,
    /// Writes waiting in the offline outbox.
    pub outbox: usize,
    /// The ticket the handler last had in hand, in whichever pane.
    in_hand: Option<TicketId>,
    /// An editor waiting while a canned reply is picked for it.
    parked: Option<Overlay>,
    /// Set when something visible changed; the loop renders only then.
    pub dirty: bool,
    pub quit: bool,
}

const TOAST_SECS: i64 = 5;
const ERROR_TOAST_SECS: i64 = 12;
const MAX_TOASTS: usize = 4;
/// Messages kept for `:messages`.
const MAX_LOG: usize = 500;
/// How long a notice stays on the status line.
const NOTICE_FOR: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

impl App {
    pub fn new(
        keymap: Keymap,
        systems: Vec<SystemDef>,
        tz: chrono_tz::Tz,
        server: String,
        embedded: bool,
        now: DateTime<Utc>,
    ) -> App {
        App {
            keymap,
            desk: Desk::new(systems, tz, now),
            panes: panes::built_in(),
            overlay: None,
            link: LinkState::Connecting,
            server,
            embedded,
            toasts: VecDeque::new(),
            notice: None,
            log: VecDeque::new(),
            pending: Vec::new(),
            last_seq: 0,
            outbox: 0,
            in_hand: None,
            parked: None,
            dirty: true,
            quit: false,
        }
    }

    /// Adds a pane after the built-in ones (its tab comes last).
    pub fn register(&mut self, pane: Box<dyn Pane>) {
        self.panes.push(pane);
        self.dirty = true;
    }

    pub fn panes(&self) -> impl Iterator<Item = &dyn Pane> {
        self.panes.iter().map(|p| &**p)
    }

    /// A pane as its own type.
    pub fn pane<T: Pane>(&self) -> Option<&T> {
        self.panes.iter().find_map(|p| p.downcast_ref::<T>())
    }

    pub fn pane_mut<T: Pane>(&mut self) -> Option<&mut T> {
        self.panes.iter_mut().find_map(|p| p.downcast_mut::<T>())
    }

    pub fn focus(&self) -> PaneId {
        self.desk.focus
    }

    pub fn focused(&self) -> &dyn Pane {
        let i = self.index(self.desk.focus).unwrap_or(0);
        &*self.panes[i]
    }

    /// A pane with the desk it reads while drawing.
    pub fn pane_with_desk(&mut self, id: PaneId) -> Option<(&mut dyn Pane, &Desk)> {
        let i = self.index(id)?;
        Some((&mut *self.panes[i], &self.desk))
    }

    fn index(&self, id: PaneId) -> Option<usize> {
        self.panes.iter().position(|p| p.id() == id)
    }

    /// The keymap sections that apply now, most specific first.
    pub fn contexts(&self) -> Vec<Context> {
        let mut out = Vec::with_capacity(3);
        match &self.overlay {
            Some(o) => out.push(o.context()),
            None if self.focused().input().is_some() => out.push(Context::Palette),
            None => {}
        }
        out.push(self.focused().context());
        out.push(Context::Global);
        out
    }

    pub fn toast(&mut self, text: impl Into<String>, error: bool) {
        let text = text.into();
        // Errors stay longer: they say what did not happen.
        let secs = if error { ERROR_TOAST_SECS } else { TOAST_SECS };
        self.log.push_back((self.desk.now, text.clone(), error));
        while self.log.len() > MAX_LOG {
            self.log.pop_front();
        }
        self.toasts.push_back(Toast {
            text,
            error,
            until: self.desk.now + chrono::Duration::seconds(secs),
        });
        while self.toasts.len() > MAX_TOASTS {
            self.toasts.pop_front();
        }
        self.dirty = true;
    }

    /// The one entry for everything that happens to the workstation.
    pub fn update(&mut self, event: Event) -> Vec<Effect> {
        self.dirty = true;
        let mut effects = match event {
            Event::Key(key) => self.on_key(key),
            Event::Paste(text) => self.on_paste(&text),
            Event::Resize => Vec::new(),
            Event::Tick(now) => {
                self.desk.now = now;
                self.toasts.retain(|t| t.until > now);
                if self.notice.as_ref().is_some_and(|(_, until)| *until <= now) {
                    self.notice = None;
                }
                Vec::new()
            }
            Event::Change(change) => self.on_change(&change),
            Event::Link(link) => {
                self.link = link;
                Vec::new()
            }
            Event::Tickets(tickets) => {
                for t in tickets {
                    self.desk.upsert(t);
                }
                self.desk.loaded = true;
                self.broadcast(|_| Msg::Tickets)
            }
            Event::Rows { rows, replace } => {
                if replace {
                    self.desk.tickets.clear();
                }
                self.desk.tickets.upsert_rows(rows);
                self.desk.loaded = true;
                self.broadcast(|_| Msg::Tickets)
            }
            Event::SignedIn { me, last_seq } => {
                self.desk.me = me;
                self.last_seq = last_seq;
                self.broadcast(|_| Msg::Tickets)
            }
            Event::Handlers(handlers) => {
                self.desk.handlers = handlers;
                Vec::new()
            }
            Event::Drafts(drafts) => {
                self.desk.drafts.extend(drafts);
                Vec::new()
            }
            Event::CannedReplies(mine) => {
                self.desk.canned.extend(mine);
                Vec::new()
            }
            Event::KeepDraft(key, text) => {
                self.toast(
                    "未发送的文字已存为草稿，再次打开编辑器即可找回 · the unsent text is kept as a draft",
                    false,
                );
                self.keep_draft(Some(key), Some(text))
            }
            Event::Unread(ids) => {
                let reading = self.focused().reading();
                self.desk
                    .unread
                    .extend(ids.into_iter().filter(|id| Some(*id) != reading));
                Vec::new()
            }
            Event::Outbox(pending) => {
                self.outbox = pending.len();
                self.desk.pending = pending;
                Vec::new()
            }
            Event::Toast(text, error) => {
                self.toast(text, error);
                Vec::new()
            }
            Event::Notice(text) => {
                self.notice = Some((text, self.desk.now + NOTICE_FOR));
                Vec::new()
            }
            Event::Overlay(overlay) => {
                self.overlay = Some(*overlay);
                Vec::new()
            }
            Event::Done(what, result) => self.on_done(&what, result),
            Event::Loaded { pane, loaded } => {
                self.send(pane, Msg::Loaded(loaded)).unwrap_or_default()
            }
        };
        effects.extend(self.settle());
        effects.extend(self.resume_deferred());
        if let Some(id) = self.focused().ticket_in_hand() {
            self.in_hand = Some(id);
        }
        effects
    }

    /// The screen shows the state as it is now (the loop drew it).
    pub fn drawn(&mut self) {
        self.dirty = false;
    }

    /// A key press (releases and repeats are filtered out before). While the link is down,
    /// any key also tries the server again at once.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let mut effects = self.key(key);
        if !self.link.is_live() && self.link != LinkState::Connecting {
            effects.push(Effect::Reconnect);
        }
        effects
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        self.dirty = true;
        if let Some(effects) = self.type_text(&key) {
            return effects;
        }
        self.pending.push(Key::from_event(&key));
        match self.keymap.lookup(&self.contexts(), &self.pending) {
            Lookup::Action(action) => {
                self.pending.clear();
                self.act(action)
            }
            Lookup::Pending(_) => Vec::new(),
            Lookup::None if self.pending.len() > 1 => {
                // A started sequence led nowhere: the last key may still mean something alone.
                self.pending.clear();
                self.key(key)
            }
            Lookup::None => {
                self.pending.clear();
                Vec::new()
            }
        }
    }

    /// Text typed into an overlay or a pane's input; `None` when the key is not text.
    fn type_text(&mut self, key: &KeyEvent) -> Option<Vec<Effect>> {
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        // A question takes its answer as a letter: y, or n.
        if let (Some(Overlay::Confirm { .. }), KeyCode::Char(c)) = (&self.overlay, key.code)
            && plain
        {
            return Some(match c {
                'y' | 'Y' => self.act(Action::Submit),
                'n' | 'N' => self.act(Action::Back),
                _ => Vec::new(),
            });
        }
        let pane_input = self.focused().input().is_some();
        let multiline = match &self.overlay {
            Some(o) => o.takes_text()?,
            None if pane_input => false,
            None => return None,
        };
        let edit = match key.code {
            KeyCode::Char(c) if plain => Edit::Insert(c),
            KeyCode::Enter if plain && multiline => Edit::Insert('\n'),
            KeyCode::Backspace if !key.modifiers.contains(KeyModifiers::ALT) => Edit::Backspace,
            _ => return None,
        };
        Some(self.edit_text(edit))
    }

    /// `edit` made in the text being typed: the overlay's, else the focused pane's input.
    fn edit_text(&mut self, edit: Edit) -> Vec<Effect> {
        match self.overlay.as_mut() {
            Some(o) => {
                o.edit(edit);
                Vec::new()
            }
            None => {
                let focus = self.desk.focus;
                self.send(focus, Msg::Edit(edit)).unwrap_or_default()
            }
        }
    }

    /// Whether a line of text is being typed (a search box, a prompt, a picker's filter).
    fn typing_a_line(&self) -> bool {
        match &self.overlay {
            Some(o) => o.takes_text() == Some(false),
            None => self.focused().input().is_some(),
        }
    }

    /// A paste (bracketed: the terminal marks it, so it is never read as key presses): made
    /// inert, then given verbatim to the editor, or on one line to a text box. Anywhere else it
    /// is refused, so pasted text can never press keys.
    fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let text = crate::domain::sanitize::terminal_safe(&text).into_owned();
        if let Some(o) = self.overlay.as_mut().filter(|o| o.takes_text().is_some()) {
            o.paste(&text);
            return Vec::new();
        }
        if self.overlay.is_none() && self.focused().input().is_some() {
            let focus = self.desk.focus;
            let line: String = text.chars().map(super::overlay::one_line).collect();
            if let Some(effects) = self.send(focus, Msg::Pasted(&line)) {
                return effects;
            }
            // A pane that takes no paste whole gets it a character at a time, as typed.
            let mut effects = Vec::new();
            for c in line.chars() {
                effects.extend(
                    self.send(focus, Msg::Edit(Edit::Insert(c)))
                        .unwrap_or_default(),
                );
            }
            return effects;
        }
        self.toast(
            "粘贴只进入输入框，不会当作按键 · a paste goes into a text box only, never read as keys",
            false,
        );
        Vec::new()
    }

    /// The commands the palette offers for what was typed, best first: the focused pane's own
    /// (in the order it lists them), then the global ones, quit last so that `:` and enter
    /// never quits. Typed text matches the name, the description, or the Chinese name.
    pub fn palette_matches(&self, input: &str) -> Vec<Action> {
        let needle = input.trim().to_lowercase();
        let mut listed: Vec<Action> = Vec::new();
        let globals = GLOBAL_COMMANDS
            .iter()
            .filter(|c| c.action != Action::Quit)
            .chain(GLOBAL_COMMANDS.iter().filter(|c| c.action == Action::Quit));
        for c in self.focused().commands().iter().chain(globals) {
            if c.action != Action::Noop && !listed.contains(&c.action) {
                listed.push(c.action);
            }
        }
        if needle.is_empty() {
            return listed;
        }
        // Names before descriptions: `open` finds the action called open before the one
        // whose description mentions opening something.
        let rank = |a: &Action| match a.name() {
            n if n == needle => Some(0),
            n if n.starts_with(&needle) => Some(1),
            n if n.contains(&needle) => Some(2),
            _ if a.zh().contains(input.trim()) => Some(3),
            _ if a.about().to_lowercase().contains(&needle) => Some(4),
            _ => None,
        };
        let mut ranked: Vec<(usize, usize, Action)> = listed
            .into_iter()
            .enumerate()
            .filter_map(|(i, a)| rank(&a).map(|r| (r, i, a)))
            .collect();
        ranked.sort();
        ranked.into_iter().map(|(_, _, a)| a).collect()
    }

    /// An action, as a key or the palette chose it: the overlay first, then the focused pane,
    /// then the app's own.
    pub fn act(&mut self, action: Action) -> Vec<Effect> {
        self.dirty = true;
        // ctrl-u and ctrl-w cut typed text in a line, as in a shell or fzf.
        if let Some(edit) = Edit::of(action)
            && self.typing_a_line()
        {
            return self.edit_text(edit);
        }
        if let Some(overlay) = self.overlay.take() {
            let palette = match &overlay {
                Overlay::Palette { input, .. } => self.palette_matches(input),
                _ => Vec::new(),
            };
            let (stays, outcome) = overlay.act(action, &palette);
            self.overlay = stays;
            let mut effects = match outcome {
                Outcome::None => Vec::new(),
                Outcome::Run(chosen) => return self.act(chosen),
                Outcome::Blank => {
                    self.toast("内容为空 · nothing written", true);
                    Vec::new()
                }
                Outcome::Picked {
                    owner,
                    purpose,
                    index,
                    ..
                } if owner == PaneId::APP => {
                    if let (Ok(CannedPick(texts)), Some(mut editor)) =
                        (purpose.take::<CannedPick>(), self.parked.take())
                        && let Some(text) = texts.get(index)
                    {
                        editor.paste(text);
                        self.overlay = Some(editor);
                    }
                    Vec::new()
                }
                Outcome::Picked {
                    owner,
                    purpose,
                    index,
                    value,
                } => self
                    .send(
                        owner,
                        Msg::Picked {
                            purpose,
                            index,
                            value,
                        },
                    )
                    .unwrap_or_default(),
                Outcome::ChooseCanned { editor, options } => {
                    self.parked = Some(*editor);
                    self.overlay = Some(Overlay::picker(
                        PaneId::APP,
                        CannedPick(options.iter().map(|(_, text)| text.clone()).collect()),
                        "常用回复 canned replies (输入以筛选 type to narrow)",
                        options.into_iter().map(|(title, _)| (title.clone(), title)),
                    ));
                    Vec::new()
                }
                Outcome::Prompted { owner, input, .. } if owner == PaneId::APP => {
                    if let Some(id) = super::work::ticket_number(&input, &mut self.desk) {
                        self.desk.request(Request::OpenTicket(id));
                    }
                    Vec::new()
                }
                Outcome::Prompted {
                    owner,
                    purpose,
                    input,
                } => self
                    .send(owner, Msg::Prompted { purpose, input })
                    .unwrap_or_default(),
                Outcome::Written {
                    owner,
                    purpose,
                    text,
                    draft,
                } => {
                    let mut effects = self.keep_draft(draft, None);
                    effects.extend(
                        self.send(owner, Msg::Written { purpose, text })
                            .unwrap_or_default(),
                    );
                    effects
                }
                Outcome::Kept { draft, text } => {
                    self.toast("草稿已保留，再次打开即可继续 · draft kept", false);
                    self.keep_draft(Some(draft), Some(text))
                }
                Outcome::Discarded { draft } => self.keep_draft(draft, None),
                Outcome::Confirmed { owner, purpose } => self
                    .send(owner, Msg::Confirmed { purpose })
                    .unwrap_or_default(),
            };
            // A canned-reply picker closed without a choice: back to the editor it came from.
            if self.overlay.is_none()
                && let Some(editor) = self.parked.take()
            {
                self.overlay = Some(editor);
            }
            effects.extend(self.settle());
            return effects;
        }
        let focus = self.desk.focus;
        let mut effects = match self.send(focus, Msg::Action(action)) {
            Some(effects) => effects,
            None => self.global(action),
        };
        effects.extend(self.settle());
        effects
    }

    /// Keeps (or, with no text, forgets) a draft here and in the local cache.
    fn keep_draft(&mut self, key: Option<String>, text: Option<String>) -> Vec<Effect> {
        let Some(key) = key else {
            return Vec::new();
        };
        let changed = match &text {
            Some(t) => self.desk.drafts.insert(key.clone(), t.clone()).as_ref() != Some(t),
            None => self.desk.drafts.remove(&key).is_some(),
        };
        if !changed {
            return Vec::new();
        }
        vec![Effect::run(None, super::drafts::StoreDraft { key, text })]
    }

    fn global(&mut self, action: Action) -> Vec<Effect> {
        let pane = match action {
            Action::Quit => {
                self.quit = true;
                return vec![Effect::Quit];
            }
            Action::Help => {
                self.overlay = Some(Overlay::Help { scroll: 0 });
                return Vec::new();
            }
            Action::Palette => {
                self.overlay = Some(Overlay::Palette {
                    input: String::new(),
                    selected: 0,
                });
                return Vec::new();
            }
            Action::Refresh => return vec![Effect::Resync],
            Action::Outbox => return vec![Effect::run(None, super::outbox::ShowOutbox)],
            Action::Messages => {
                let text = if self.log.is_empty() {
                    "还没有消息 · nothing said yet".to_string()
                } else {
                    self.log
                        .iter()
                        .map(|(at, text, error)| {
                            let when = at.with_timezone(&self.desk.tz).format("%H:%M:%S");
                            let mark = if *error { "!" } else { " " };
                            format!("{when} {mark} {text}")
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                // The newest at the bottom, in view.
                let scroll = self.log.len().saturating_sub(10) as u16;
                self.overlay = Some(Overlay::Text {
                    title: "消息 messages".into(),
                    text,
                    scroll,
                });
                return Vec::new();
            }
            Action::Goto => {
                self.overlay = Some(Overlay::prompt(
                    PaneId::APP,
                    GotoTicket,
                    "打开工单 open ticket #",
                    "",
                ));
                return Vec::new();
            }
            Action::NextPane | Action::PrevPane => {
                let n = self.panes.len();
                let i = self.index(self.desk.focus).unwrap_or(0);
                let j = if action == Action::NextPane {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.panes[j].id()
            }
            Action::PaneQueue => PaneId::QUEUE,
            Action::PaneTicket => PaneId::TICKET,
            Action::PaneLogs => PaneId::LOGS,
            Action::PaneKb => PaneId::KB,
            Action::PaneConstruct => PaneId::CONSTRUCT,
            Action::PaneStats => PaneId::STATS,
            Action::PaneAlerts => PaneId::ALERTS,
            _ => return Vec::new(),
        };
        self.go(pane)
    }

    fn go(&mut self, pane: PaneId) -> Vec<Effect> {
        if self.index(pane).is_none() {
            return Vec::new();
        }
        self.desk.focus = pane;
        let in_hand = self.in_hand;
        self.send(pane, Msg::Shown { in_hand }).unwrap_or_default()
    }

    /// Hands a message to one pane.
    fn send(&mut self, to: PaneId, msg: Msg<'_>) -> Option<Vec<Effect>> {
        let i = self.index(to)?;
        self.panes[i].update(msg, &mut self.desk)
    }

    /// Ticket work that waited for a full view is done once the view is in hand, if the
    /// same ticket is still in the same pane's hand and nothing else took the screen since.
    fn resume_deferred(&mut self) -> Vec<Effect> {
        let Some(d) = self.desk.deferred else {
            return Vec::new();
        };
        if self.desk.tickets.view(d.ticket).is_none() {
            return Vec::new();
        }
        self.desk.deferred = None;
        let in_hand = self
            .index(d.pane)
            .and_then(|i| self.panes[i].ticket_in_hand());
        if in_hand != Some(d.ticket) || self.overlay.is_some() {
            return Vec::new();
        }
        let mut effects = self.send(d.pane, Msg::Action(d.action)).unwrap_or_default();
        effects.extend(self.settle());
        effects
    }

    /// Hands a message to every pane, in tab order.
    fn broadcast<'m>(&mut self, msg: impl Fn(PaneId) -> Msg<'m>) -> Vec<Effect> {
        let mut effects = Vec::new();
        for pane in &mut self.panes {
            let id = pane.id();
            effects.extend(pane.update(msg(id), &mut self.desk).unwrap_or_default());
        }
        effects
    }

    /// Carries out what the panes asked of the app, until nothing more is asked.
    fn settle(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        loop {
            let requests = self.desk.take_requests();
            if requests.is_empty() {
                return effects;
            }
            for request in requests {
                match request {
                    Request::Focus(pane) => {
                        if self.index(pane).is_some() {
                            self.desk.focus = pane;
                        }
                    }
                    Request::Overlay(overlay) => self.overlay = Some(overlay),
                    Request::Toast { text, error } => self.toast(text, error),
                    Request::TicketsChanged => effects.extend(self.broadcast(|_| Msg::Tickets)),
                    Request::OpenTicket(id) => {
                        self.desk.focus = PaneId::TICKET;
                        effects.extend(
                            self.send(PaneId::TICKET, Msg::OpenTicket(id))
                                .unwrap_or_default(),
                        );
                    }
                }
            }
        }
    }

    /// A change from the server's stream.
    pub fn on_change(&mut self, change: &Change) -> Vec<Effect> {
        self.last_seq = self.last_seq.max(change.seq);
        let mut effects = Vec::new();
        if change.kind.starts_with("ticket.") {
            if let Ok(t) = serde_json::from_value::<TicketView>(change.data.clone()) {
                if change.kind == "ticket.created" && t.status == Status::New {
                    self.toast(format!("新工单 #{} {}", t.id, t.title), false);
                }
                self.desk.upsert(t);
                effects.extend(self.broadcast(|_| Msg::Tickets));
            }
        } else if change.kind == "message.created"
            && let Ok(m) = serde_json::from_value::<Message>(change.data.clone())
        {
            let reading = self.focused().reading() == Some(m.ticket_id);
            if m.author_role == Role::Submitter && !reading {
                self.desk.unread.insert(m.ticket_id);
            }
            if self.desk.me.as_deref() != Some(m.author.as_str()) && !m.internal {
                let about = self
                    .desk
                    .tickets
                    .row(m.ticket_id)
                    .map(|t| t.title.to_string())
                    .unwrap_or_default();
                self.toast(
                    format!("#{} 新消息 {}: {}", m.ticket_id, m.author, about),
                    false,
                );
            }
        }
        effects.extend(self.broadcast(|_| Msg::Change(change)));
        self.dirty = true;
        effects
    }

    /// Tickets loaded in bulk (start-up).
    pub fn on_tickets(&mut self, tickets: Vec<TicketView>) {
        self.update(Event::Tickets(tickets));
    }

    /// The server answered a call.
    fn on_done(
        &mut self,
        what: &str,
        result: Result<Option<Box<TicketView>>, String>,
    ) -> Vec<Effect> {
        match result {
            Ok(updated) => {
                self.toast(what.to_string(), false);
                if let Some(t) = updated {
                    self.desk.upsert(*t);
                    return self.broadcast(|_| Msg::Tickets);
                }
            }
            Err(e) => self.toast(format!("{what}失败：{e}"), true),
        }
        Vec::new()
    }
}
