//! The workstation's state and the only place it changes.
//!
//! `on_key`, `on_change`, `on_loaded` and `tick` update the state and return [`Effect`]s; they
//! do no IO, so every behaviour here is testable without a terminal or a server. The loop in
//! `tui::run` executes the effects and feeds their results back.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Context};
use super::keymap::{Key, Keymap, Lookup};
use super::panes::PaneId;
use super::panes::queue::Queue;
use super::panes::ticket::Detail;
use crate::api::TransitionBody;
use crate::client::sync::Link;
use crate::config::SystemDef;
use crate::domain::lifecycle::allowed_from;
use crate::domain::message::Message;
use crate::domain::ticket::{
    Category, Customer, LinkKind, Priority, Status, TicketId, TransferTarget,
};
use crate::domain::view::{Change, TicketView};

/// Work for the loop: everything that touches the network or the terminal.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Fetch a ticket's conversation.
    LoadMessages(TicketId),
    /// The open ticket's conversation was read up to `message`.
    MarkRead {
        ticket: TicketId,
        message: i64,
    },
    /// Change something on the server.
    Call(Call),
    /// Save an attachment to a file.
    Save {
        ticket: TicketId,
        attachment: i64,
        filename: String,
    },
    /// Show an image attachment in the terminal.
    Preview {
        ticket: TicketId,
        attachment: i64,
        filename: String,
    },
    /// Restart the sync from the last known change.
    Resync,
    Quit,
}

/// A change the handler asked the server for; `version` is the one they saw, so a ticket
/// someone else changed meanwhile answers with a conflict instead of being overwritten.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Call {
    /// Assign to me and, if still new, start triage.
    Take {
        id: TicketId,
        version: i64,
        me: String,
        start: bool,
    },
    Transition {
        id: TicketId,
        body: TransitionBody,
    },
    Message {
        id: TicketId,
        body: String,
        internal: bool,
        key: String,
    },
    Patch {
        id: TicketId,
        body: serde_json::Value,
    },
    Link {
        id: TicketId,
        kind: LinkKind,
        target: Option<TicketId>,
        version: i64,
    },
    ApproveScript {
        id: TicketId,
        version: i64,
    },
    Reveal(TicketId),
}

/// What an editor's text is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Compose {
    Reply(TicketId),
    Note(TicketId),
    Resolve {
        id: TicketId,
        version: i64,
    },
    Handoff {
        id: TicketId,
        version: i64,
        to: TransferTarget,
    },
    /// One hand-off note for every marked ticket.
    BulkHandoff {
        to: TransferTarget,
    },
}

impl Compose {
    pub fn title(&self) -> String {
        match self {
            Compose::Reply(id) => format!("回复提交人 reply to the submitter · #{id}"),
            Compose::Note(id) => format!("内部备注 internal note · #{id}"),
            Compose::Resolve { id, .. } => format!("解决方案 resolution · #{id}"),
            Compose::Handoff { id, to, .. } => format!("转{} hand-off · #{id}", to.label_zh()),
            Compose::BulkHandoff { to } => {
                format!("批量转{} hand-off for the marked tickets", to.label_zh())
            }
        }
    }
}

/// What a one-line prompt asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prompt {
    Link {
        id: TicketId,
        version: i64,
        kind: LinkKind,
    },
    /// The parent incident for every marked ticket.
    BulkParent,
    /// The free subcategory under a chosen category (empty clears it).
    Subcategory {
        id: TicketId,
        version: i64,
        category: Category,
    },
}

impl Prompt {
    pub fn title(&self) -> String {
        match self {
            Prompt::Link {
                id,
                kind: LinkKind::DuplicateOf,
                ..
            } => format!("#{id} 重复于工单号 duplicate of #"),
            Prompt::Link {
                id,
                kind: LinkKind::Parent,
                ..
            } => format!("#{id} 父事件工单号 parent incident #"),
            Prompt::BulkParent => "批量关联父事件工单号 parent incident #".to_string(),
            Prompt::Subcategory { id, category, .. } => {
                format!("#{id} {} 小类 subcategory: ", category.label_zh())
            }
        }
    }
}

/// What a picker chooses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pick {
    Status {
        id: TicketId,
        version: i64,
    },
    TransferTarget {
        id: TicketId,
        version: i64,
    },
    Priority {
        id: TicketId,
        version: i64,
    },
    Category {
        id: TicketId,
        version: i64,
    },
    System {
        id: TicketId,
        version: i64,
    },
    Assignee {
        id: TicketId,
        version: i64,
    },
    /// Open one of the tickets that look like the same problem.
    Similar,
    FilterStatus,
    FilterSystem,
    FilterCategory,
    FilterAssignee,
    /// What to do with the marked tickets.
    Bulk,
    BulkAssign,
    BulkTransfer,
    /// An attachment of the ticket, to save.
    Attachment {
        id: TicketId,
        /// Enter saves (else it shows images and saves other files).
        save: bool,
    },
}

impl Pick {
    pub fn title(&self) -> &'static str {
        match self {
            Pick::Status { .. } => "状态 status",
            Pick::TransferTarget { .. } => "转交给 transfer to",
            Pick::Priority { .. } => "优先级 priority",
            Pick::Category { .. } => "分类 category",
            Pick::System { .. } => "系统 system",
            Pick::Assignee { .. } => "处理人 assignee",
            Pick::Similar => "相似工单 similar open tickets",
            Pick::FilterStatus => "按状态筛选 status",
            Pick::FilterSystem => "按系统筛选 system",
            Pick::FilterCategory => "按分类筛选 category",
            Pick::FilterAssignee => "按处理人筛选 assignee",
            Pick::Bulk => "批量操作 bulk",
            Pick::BulkAssign => "批量指派给 assign the marked to",
            Pick::BulkTransfer => "批量转交给 transfer the marked to",
            Pick::Attachment { save: true, .. } => "附件：回车保存 attachments: enter saves",
            Pick::Attachment { save: false, .. } => "附件：回车查看 attachments: enter shows",
        }
    }
}

/// A transient message in the corner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    pub until: DateTime<Utc>,
}

/// What sits on top of the panes and takes the keys first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    /// Typing the queue's filter; `before` is restored on cancel.
    Filter {
        input: String,
        before: String,
    },
    /// The command palette: every action by name.
    Palette {
        input: String,
        selected: usize,
    },
    /// A screenshot drawn in the terminal.
    Preview {
        title: String,
        image: Box<super::preview::Preview>,
    },
    /// Multi-line text for a reply, a note, a resolution or a hand-off.
    Editor {
        purpose: Compose,
        text: String,
    },
    /// A ticket number to link to (empty removes the link).
    Prompt {
        purpose: Prompt,
        input: String,
    },
    /// One choice among a few (`options` are (label, value) pairs).
    Picker {
        purpose: Pick,
        options: Vec<(String, String)>,
        selected: usize,
    },
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
}

pub struct App {
    pub keymap: Keymap,
    pub systems: Vec<SystemDef>,
    pub tz: chrono_tz::Tz,
    pub tickets: HashMap<TicketId, TicketView>,
    pub queue: Queue,
    pub detail: Option<Detail>,
    pub focus: PaneId,
    pub overlay: Option<Overlay>,
    pub link: LinkState,
    /// Where the server is, and whether this process runs it.
    pub server: String,
    pub embedded: bool,
    pub me: Option<String>,
    /// Who tickets can be assigned to (from `/api/v1/users`); assignees seen on tickets are
    /// offered too.
    pub handlers: Vec<String>,
    pub toasts: VecDeque<Toast>,
    /// Keys typed so far of a multi-key binding.
    pub pending: Vec<Key>,
    pub now: DateTime<Utc>,
    pub last_seq: i64,
    /// Writes waiting in the offline outbox.
    pub outbox: usize,
    /// Whether pictures may be drawn in colour (not under NO_COLOR or the mono theme).
    pub colour: bool,
    /// Set when something visible changed; the loop renders only then.
    pub dirty: bool,
    pub quit: bool,
}

const TOAST_SECS: i64 = 5;
const MAX_TOASTS: usize = 4;

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
            systems,
            tz,
            tickets: HashMap::new(),
            queue: Queue::default(),
            detail: None,
            focus: PaneId::Queue,
            overlay: None,
            link: LinkState::Connecting,
            server,
            embedded,
            me: None,
            handlers: Vec::new(),
            toasts: VecDeque::new(),
            pending: Vec::new(),
            now,
            last_seq: 0,
            outbox: 0,
            colour: true,
            dirty: true,
            quit: false,
        }
    }

    /// The keymap sections that apply now, most specific first.
    pub fn contexts(&self) -> Vec<Context> {
        let mut out = Vec::with_capacity(3);
        match &self.overlay {
            Some(Overlay::Help { .. }) | Some(Overlay::Preview { .. }) => out.push(Context::Help),
            Some(Overlay::Filter { .. })
            | Some(Overlay::Palette { .. })
            | Some(Overlay::Prompt { .. }) => out.push(Context::Palette),
            Some(Overlay::Editor { .. }) => out.push(Context::Editor),
            Some(Overlay::Picker { .. }) => out.push(Context::Picker),
            None => {}
        }
        out.push(self.focus.context());
        out.push(Context::Global);
        out
    }

    pub fn toast(&mut self, text: impl Into<String>, error: bool) {
        self.toasts.push_back(Toast {
            text: text.into(),
            error,
            until: self.now + chrono::Duration::seconds(TOAST_SECS),
        });
        while self.toasts.len() > MAX_TOASTS {
            self.toasts.pop_front();
        }
        self.dirty = true;
    }

    /// The clock moved: countdowns change, toasts expire.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        self.now = now;
        self.toasts.retain(|t| t.until > now);
        self.dirty = true;
    }

    pub fn set_link(&mut self, link: Link) {
        self.link = match link {
            Link::Live => LinkState::Live,
            Link::Reconnecting { attempt, reason } => LinkState::Reconnecting { attempt, reason },
        };
        self.dirty = true;
    }

    /// The server cannot be reached: work from the cache.
    pub fn set_offline(&mut self, attempt: u32, reason: String) {
        self.link = LinkState::Offline { attempt, reason };
        self.dirty = true;
    }

    fn refresh_queue(&mut self) {
        let me = self.me.clone();
        self.queue.refresh(&self.tickets, me.as_deref());
    }

    /// Tickets loaded in bulk (start-up).
    pub fn on_tickets(&mut self, tickets: Vec<TicketView>) {
        for t in tickets {
            self.upsert(t);
        }
        self.refresh_queue();
        self.dirty = true;
    }

    fn upsert(&mut self, t: TicketView) {
        let newer = self
            .tickets
            .get(&t.id)
            .is_none_or(|old| old.version <= t.version);
        if newer {
            self.tickets.insert(t.id, t);
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
                self.upsert(t);
                self.refresh_queue();
            }
        } else if change.kind == "message.created"
            && let Ok(m) = serde_json::from_value::<Message>(change.data.clone())
        {
            if let Some(d) = self.detail.as_mut().filter(|d| d.id == m.ticket_id) {
                match d.messages.as_mut() {
                    Some(list) if !list.iter().any(|x| x.id == m.id) => list.push(m.clone()),
                    Some(_) => {}
                    None => effects.push(Effect::LoadMessages(m.ticket_id)),
                }
            }
            let open_here = self.focus == PaneId::Ticket
                && self.detail.as_ref().is_some_and(|d| d.id == m.ticket_id);
            if m.author_role == crate::domain::people::Role::Submitter {
                if open_here {
                    effects.push(Effect::MarkRead {
                        ticket: m.ticket_id,
                        message: m.id,
                    });
                } else {
                    self.queue.unread.insert(m.ticket_id);
                }
            }
            if self.me.as_deref() != Some(m.author.as_str()) && !m.internal {
                let about = self
                    .tickets
                    .get(&m.ticket_id)
                    .map(|t| t.title.clone())
                    .unwrap_or_default();
                self.toast(
                    format!("#{} 新消息 {}: {}", m.ticket_id, m.author, about),
                    false,
                );
            }
        }
        self.dirty = true;
        effects
    }

    /// A conversation arrived.
    /// Open tickets the server says have unread submitter messages (at connect).
    pub fn on_unread(&mut self, ids: Vec<TicketId>) {
        let open = (self.focus == PaneId::Ticket)
            .then(|| self.detail.as_ref().map(|d| d.id))
            .flatten();
        self.queue
            .unread
            .extend(ids.into_iter().filter(|id| Some(*id) != open));
    }

    pub fn on_messages(&mut self, id: TicketId, messages: Vec<Message>) {
        if let Some(d) = self.detail.as_mut().filter(|d| d.id == id) {
            d.messages = Some(messages);
            self.dirty = true;
        }
    }

    /// A key press (releases and repeats are filtered out before).
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        self.dirty = true;
        if self.type_into_overlay(&key) {
            return Vec::new();
        }
        self.pending.push(Key::from_event(&key));
        match self.keymap.lookup(&self.contexts(), &self.pending) {
            Lookup::Action(action) => {
                self.pending.clear();
                self.update(action)
            }
            Lookup::Pending(_) => Vec::new(),
            Lookup::None if self.pending.len() > 1 => {
                // A started sequence led nowhere: the last key may still mean something alone.
                self.pending.clear();
                self.on_key(key)
            }
            Lookup::None => {
                self.pending.clear();
                Vec::new()
            }
        }
    }

    /// Text typed into the filter or the palette; true when the key was taken as text.
    fn type_into_overlay(&mut self, key: &KeyEvent) -> bool {
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        let (input, multiline) = match self.overlay.as_mut() {
            Some(Overlay::Filter { input, .. })
            | Some(Overlay::Palette { input, .. })
            | Some(Overlay::Prompt { input, .. }) => (input, false),
            Some(Overlay::Editor { text, .. }) => (text, true),
            _ => return false,
        };
        match key.code {
            KeyCode::Char(c) if plain => input.push(c),
            KeyCode::Enter if plain && multiline => input.push('\n'),
            KeyCode::Backspace => {
                input.pop();
            }
            _ => return false,
        }
        if let Some(Overlay::Palette { selected, .. }) = self.overlay.as_mut() {
            *selected = 0;
        }
        self.live_filter();
        true
    }

    /// The queue follows the filter as it is typed.
    fn live_filter(&mut self) {
        if let Some(Overlay::Filter { input, .. }) = &self.overlay {
            self.queue.filter.text = input.clone();
            self.refresh_queue();
        }
    }

    /// Actions the palette offers for what was typed, best first.
    pub fn palette_matches(&self, input: &str) -> Vec<Action> {
        let needle = input.to_lowercase();
        Action::ALL
            .iter()
            .copied()
            .filter(|a| *a != Action::Noop)
            .filter(|a| {
                needle.is_empty()
                    || a.name().contains(&needle)
                    || a.about().to_lowercase().contains(&needle)
            })
            .collect()
    }

    /// The one place state changes in answer to an action.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        self.dirty = true;
        if let Some(overlay) = self.overlay.clone() {
            return self.update_overlay(overlay, action);
        }
        match action {
            Action::Quit => {
                self.quit = true;
                return vec![Effect::Quit];
            }
            Action::Help => self.overlay = Some(Overlay::Help { scroll: 0 }),
            Action::Palette => {
                self.overlay = Some(Overlay::Palette {
                    input: String::new(),
                    selected: 0,
                })
            }
            Action::Refresh => return vec![Effect::Resync],
            Action::NextPane => return self.go(self.focus.next()),
            Action::PrevPane => return self.go(self.focus.prev()),
            Action::PaneQueue => return self.go(PaneId::Queue),
            Action::PaneTicket => return self.go(PaneId::Ticket),
            Action::PaneLogs => return self.go(PaneId::Logs),
            Action::PaneKb => return self.go(PaneId::Kb),
            Action::PaneConstruct => return self.go(PaneId::Construct),
            Action::PaneStats => return self.go(PaneId::Stats),
            Action::PaneAlerts => return self.go(PaneId::Alerts),
            Action::Back if self.focus == PaneId::Ticket => self.focus = PaneId::Queue,
            Action::Filter if self.focus == PaneId::Queue => {
                let before = self.queue.filter.text.clone();
                self.overlay = Some(Overlay::Filter {
                    input: before.clone(),
                    before,
                });
            }
            Action::Open if self.focus == PaneId::Queue => {
                if let Some(id) = self.queue.selected_id() {
                    return self.open(id);
                }
            }
            Action::FilterStatus
            | Action::FilterSystem
            | Action::FilterCategory
            | Action::FilterAssignee
                if self.focus == PaneId::Queue =>
            {
                self.overlay = Some(self.filter_picker(action));
            }
            Action::Bulk if self.focus == PaneId::Queue => self.bulk_picker(),
            Action::Similar | Action::Assign
                if matches!(self.focus, PaneId::Ticket | PaneId::Queue) =>
            {
                if let Some(overlay) =
                    self.target()
                        .map(|t| (t.id, t.version))
                        .map(|(id, version)| {
                            if action == Action::Assign {
                                let mut options =
                                    vec![("不指派 unassign".to_string(), String::new())];
                                options
                                    .extend(self.assignable().into_iter().map(|h| (h.clone(), h)));
                                Overlay::Picker {
                                    purpose: Pick::Assignee { id, version },
                                    options,
                                    selected: 0,
                                }
                            } else {
                                let options = self.similar_to(id);
                                Overlay::Picker {
                                    purpose: Pick::Similar,
                                    options,
                                    selected: 0,
                                }
                            }
                        })
                {
                    if matches!(&overlay, Overlay::Picker { options, .. } if options.is_empty()) {
                        self.toast("没有相似的未结工单 · no similar open tickets", false);
                    } else {
                        self.overlay = Some(overlay);
                    }
                }
            }
            Action::Take
            | Action::Reply
            | Action::Note
            | Action::Transition
            | Action::Transfer
            | Action::Resolve
            | Action::Close
            | Action::Reopen
            | Action::SetPriority
            | Action::SetCategory
            | Action::SetSystem
            | Action::Reveal
            | Action::LinkDuplicate
            | Action::LinkParent
            | Action::ApproveScript
            | Action::Attachments
            | Action::SaveAttachment
                if matches!(self.focus, PaneId::Ticket | PaneId::Queue) =>
            {
                return self.ticket_action(action);
            }
            Action::NextMatch | Action::PrevMatch if self.focus == PaneId::Queue => {
                let down = action == Action::NextMatch;
                self.queue.handle(
                    if down { Action::Down } else { Action::Up },
                    &self.tickets,
                    self.me.as_deref(),
                );
            }
            other => {
                let me = self.me.clone();
                match self.focus {
                    PaneId::Queue => {
                        self.queue.handle(other, &self.tickets, me.as_deref());
                    }
                    PaneId::Ticket => {
                        if let Some(d) = self.detail.as_mut() {
                            d.handle(other);
                        }
                    }
                    _ => {}
                }
            }
        }
        Vec::new()
    }

    fn update_overlay(&mut self, overlay: Overlay, action: Action) -> Vec<Effect> {
        match (overlay, action) {
            (Overlay::Help { .. }, Action::Back | Action::Help | Action::Quit) => {
                self.overlay = None
            }
            (Overlay::Help { scroll }, Action::Down) => {
                self.overlay = Some(Overlay::Help {
                    scroll: scroll.saturating_add(1),
                })
            }
            (Overlay::Help { scroll }, Action::Up) => {
                self.overlay = Some(Overlay::Help {
                    scroll: scroll.saturating_sub(1),
                })
            }
            (Overlay::Filter { before, .. }, Action::Back | Action::Cancel) => {
                self.overlay = None;
                self.queue.filter.text = before;
                self.refresh_queue();
            }
            (Overlay::Filter { .. }, Action::Open | Action::Submit) => self.overlay = None,
            (Overlay::Palette { .. }, Action::Back | Action::Cancel) => self.overlay = None,
            (Overlay::Prompt { .. }, Action::Back | Action::Cancel) => self.overlay = None,
            (
                Overlay::Preview { .. },
                Action::Back | Action::Cancel | Action::Open | Action::Quit,
            ) => self.overlay = None,
            (
                Overlay::Prompt {
                    purpose: Prompt::Link { id, version, kind },
                    input,
                },
                Action::Open | Action::Submit,
            ) => {
                self.overlay = None;
                let wanted = input.trim().trim_start_matches('#');
                let target = if wanted.is_empty() {
                    None
                } else {
                    wanted.parse::<TicketId>().ok()
                };
                if !wanted.is_empty() && target.is_none() {
                    self.toast(format!("'{wanted}' 不是工单号 · not a ticket number"), true);
                    return Vec::new();
                }
                return vec![Effect::Call(Call::Link {
                    id,
                    kind,
                    target,
                    version,
                })];
            }
            (
                Overlay::Prompt {
                    purpose: Prompt::BulkParent,
                    input,
                },
                Action::Open | Action::Submit,
            ) => {
                self.overlay = None;
                let wanted = input.trim().trim_start_matches('#');
                if wanted.parse::<TicketId>().is_err() {
                    self.toast(format!("'{wanted}' 不是工单号 · not a ticket number"), true);
                    return Vec::new();
                }
                return self.bulk(&format!("parent:{wanted}"));
            }
            (
                Overlay::Prompt {
                    purpose:
                        Prompt::Subcategory {
                            id,
                            version,
                            category,
                        },
                    input,
                },
                Action::Open | Action::Submit,
            ) => {
                self.overlay = None;
                let sub = input.trim();
                let sub = (!sub.is_empty()).then_some(sub);
                return vec![Effect::Call(Call::Patch {
                    id,
                    body: serde_json::json!({"version": version, "category": category, "subcategory": sub}),
                })];
            }
            (Overlay::Palette { input, selected }, Action::Down) => {
                let n = self.palette_matches(&input).len();
                self.overlay = Some(Overlay::Palette {
                    selected: (selected + 1).min(n.saturating_sub(1)),
                    input,
                });
            }
            (Overlay::Palette { input, selected }, Action::Up) => {
                self.overlay = Some(Overlay::Palette {
                    selected: selected.saturating_sub(1),
                    input,
                });
            }
            (Overlay::Editor { .. }, Action::Cancel | Action::Back) => self.overlay = None,
            (Overlay::Editor { purpose, text }, Action::Submit) => {
                return self.submit(purpose, text);
            }
            (Overlay::Editor { purpose, mut text }, Action::CannedReply) => {
                text.push_str(&self.canned(&purpose));
                self.overlay = Some(Overlay::Editor { purpose, text });
            }
            (Overlay::Picker { .. }, Action::Back | Action::Cancel) => self.overlay = None,
            (
                Overlay::Picker {
                    purpose,
                    options,
                    selected,
                },
                Action::Down,
            ) => {
                let selected = (selected + 1).min(options.len().saturating_sub(1));
                self.overlay = Some(Overlay::Picker {
                    purpose,
                    options,
                    selected,
                });
            }
            (
                Overlay::Picker {
                    purpose,
                    options,
                    selected,
                },
                Action::Up,
            ) => {
                self.overlay = Some(Overlay::Picker {
                    purpose,
                    options,
                    selected: selected.saturating_sub(1),
                });
            }
            (
                Overlay::Picker {
                    purpose,
                    options,
                    selected,
                },
                Action::Open | Action::Submit,
            ) => {
                self.overlay = None;
                if let Some((_, value)) = options.get(selected) {
                    return self.picked(purpose, value.clone());
                }
            }
            (Overlay::Palette { input, selected }, Action::Open | Action::Submit) => {
                self.overlay = None;
                if let Some(chosen) = self.palette_matches(&input).get(selected).copied() {
                    return self.update(chosen);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn go(&mut self, pane: PaneId) -> Vec<Effect> {
        self.focus = pane;
        if pane == PaneId::Ticket
            && self.detail.is_none()
            && let Some(id) = self.queue.selected_id()
        {
            return self.open(id);
        }
        Vec::new()
    }

    fn open(&mut self, id: TicketId) -> Vec<Effect> {
        self.focus = PaneId::Ticket;
        self.queue.unread.remove(&id);
        if self.detail.as_ref().is_some_and(|d| d.id == id) {
            return Vec::new();
        }
        self.detail = Some(Detail::new(id));
        vec![Effect::LoadMessages(id)]
    }

    fn filter_picker(&self, action: Action) -> Overlay {
        let any = ("全部 any".to_string(), String::new());
        let (purpose, rest): (Pick, Vec<(String, String)>) = match action {
            Action::FilterStatus => (
                Pick::FilterStatus,
                Status::ALL
                    .iter()
                    .filter(|s| s.is_open())
                    .map(|s| {
                        (
                            format!("{} {}", s.label_zh(), s.as_str()),
                            s.as_str().to_string(),
                        )
                    })
                    .collect(),
            ),
            Action::FilterSystem => (
                Pick::FilterSystem,
                self.systems
                    .iter()
                    .map(|s| (format!("{} {}", s.name, s.key), s.key.clone()))
                    .collect(),
            ),
            Action::FilterCategory => (
                Pick::FilterCategory,
                Category::ALL
                    .iter()
                    .map(|c| {
                        (
                            format!("{} {}", c.label_zh(), c.as_str()),
                            c.as_str().to_string(),
                        )
                    })
                    .collect(),
            ),
            _ => {
                let mut options = vec![("未指派 unassigned".to_string(), "-".to_string())];
                options.extend(self.assignable().into_iter().map(|h| (h.clone(), h)));
                (Pick::FilterAssignee, options)
            }
        };
        Overlay::Picker {
            purpose,
            options: std::iter::once(any).chain(rest).collect(),
            selected: 0,
        }
    }

    /// Handlers from the server, then anyone seen assigned, then me; each once.
    fn assignable(&self) -> Vec<String> {
        let mut seen: Vec<String> = self
            .tickets
            .values()
            .filter_map(|t| t.assignee.clone())
            .collect();
        seen.sort();
        let mut unique: Vec<String> = Vec::new();
        for h in self
            .handlers
            .iter()
            .cloned()
            .chain(seen)
            .chain(self.me.clone())
        {
            if !unique.contains(&h) {
                unique.push(h);
            }
        }
        unique
    }

    /// Open tickets that look like the same problem as `id`, as picker options.
    pub fn similar_to(&self, id: TicketId) -> Vec<(String, String)> {
        let Some(t) = self.tickets.get(&id) else {
            return Vec::new();
        };
        let from_server = self
            .detail
            .as_ref()
            .filter(|d| d.id == id)
            .and_then(|d| d.similar.clone());
        from_server
            .unwrap_or_else(|| crate::domain::similar::similar(t, self.tickets.values()))
            .into_iter()
            .take(8)
            .filter_map(|other| self.tickets.get(&other))
            .map(|o| {
                (
                    format!("#{} {} {}", o.id, o.status.label_zh(), o.title),
                    o.id.to_string(),
                )
            })
            .collect()
    }

    /// The bulk menu; its options name the marked tickets, so the change is previewed.
    fn bulk_picker(&mut self) {
        if self.queue.marks.is_empty() {
            self.toast("先用空格标记工单 · mark tickets first (space)", true);
            return;
        }
        let mut ids: Vec<TicketId> = self.queue.marks.iter().copied().collect();
        ids.sort_unstable();
        let list = ids
            .iter()
            .map(|id| format!("#{id}"))
            .collect::<Vec<_>>()
            .join(" ");
        let n = ids.len();
        let options = vec![
            (
                format!("受理（指派给我）take {n}: {list}"),
                "take".to_string(),
            ),
            (
                format!("设为 P2 priority {n}: {list}"),
                "priority:P2".to_string(),
            ),
            (
                format!("设为 P3 priority {n}: {list}"),
                "priority:P3".to_string(),
            ),
            (format!("指派给… assign {n}: {list}"), "assign".to_string()),
            (
                format!("转交… transfer {n}: {list}"),
                "transfer".to_string(),
            ),
            (
                format!("关联父事件… link to a parent {n}: {list}"),
                "parent".to_string(),
            ),
            (
                format!("关闭已解决的 close {n}: {list}"),
                "close".to_string(),
            ),
        ];
        self.overlay = Some(Overlay::Picker {
            purpose: Pick::Bulk,
            options,
            selected: 0,
        });
    }

    /// One call per marked ticket; each answers with its own result line.
    fn bulk(&mut self, what: &str) -> Vec<Effect> {
        let mut ids: Vec<TicketId> = self.queue.marks.iter().copied().collect();
        ids.sort_unstable();
        let mut effects = Vec::new();
        for id in ids {
            let Some(t) = self.tickets.get(&id) else {
                continue;
            };
            let (version, status) = (t.version, t.status);
            let call = match what {
                "take" => self.me.clone().map(|me| Call::Take {
                    id,
                    version,
                    me,
                    start: status == Status::New,
                }),
                "close" if allowed_from(status).contains(&Status::Closed) => {
                    Some(Call::Transition {
                        id,
                        body: transition(Status::Closed, Some(version)),
                    })
                }
                "close" => {
                    self.toast(
                        format!("#{id} {}，不能关闭 · skipped", status.label_zh()),
                        true,
                    );
                    None
                }
                p if p.starts_with("assign:") => Some(Call::Patch {
                    id,
                    body: serde_json::json!({"version": version, "assignee": p.trim_start_matches("assign:")}),
                }),
                p if p.starts_with("parent:") => p
                    .trim_start_matches("parent:")
                    .parse::<TicketId>()
                    .ok()
                    .filter(|parent| *parent != id)
                    .map(|parent| Call::Link {
                        id,
                        kind: LinkKind::Parent,
                        target: Some(parent),
                        version,
                    }),
                p if p.starts_with("transfer:") => {
                    let (to, note) = p
                        .trim_start_matches("transfer:")
                        .split_once('\n')
                        .unwrap_or_default();
                    match to.parse::<TransferTarget>() {
                        Ok(to) if allowed_from(status).contains(&Status::Transferred) => {
                            Some(Call::Transition {
                                id,
                                body: TransitionBody {
                                    transfer_to: Some(to),
                                    note: Some(note.to_string()),
                                    ..transition(Status::Transferred, Some(version))
                                },
                            })
                        }
                        _ => {
                            self.toast(
                                format!("#{id} {}，不能转交 · skipped", status.label_zh()),
                                true,
                            );
                            None
                        }
                    }
                }
                p => p.strip_prefix("priority:").map(|priority| Call::Patch {
                    id,
                    body: serde_json::json!({"version": version, "priority": priority}),
                }),
            };
            effects.extend(call.map(Effect::Call));
        }
        self.queue.marks.clear();
        effects
    }

    /// The ticket an action applies to: the open one in the ticket pane, the selected one in
    /// the queue.
    fn target(&self) -> Option<&TicketView> {
        let id = match self.focus {
            PaneId::Ticket => self.detail.as_ref().map(|d| d.id),
            _ => self.queue.selected_id(),
        }?;
        self.tickets.get(&id)
    }

    fn ticket_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(t) = self.target() else {
            self.toast("没有选中的工单 · no ticket selected", true);
            return Vec::new();
        };
        let (id, version, status) = (t.id, t.version, t.status);
        let move_to = |to: Status| {
            Effect::Call(Call::Transition {
                id,
                body: transition(to, Some(version)),
            })
        };
        match action {
            Action::Take => match self.me.clone() {
                Some(me) => {
                    return vec![Effect::Call(Call::Take {
                        id,
                        version,
                        me,
                        start: status == Status::New,
                    })];
                }
                None => self.toast("未登录 · not signed in", true),
            },
            Action::Reply => {
                self.overlay = Some(Overlay::Editor {
                    purpose: Compose::Reply(id),
                    text: String::new(),
                })
            }
            Action::Note => {
                self.overlay = Some(Overlay::Editor {
                    purpose: Compose::Note(id),
                    text: String::new(),
                })
            }
            Action::Resolve => {
                return self.compose_if_allowed(
                    status,
                    Status::Resolved,
                    Compose::Resolve { id, version },
                );
            }
            Action::Transfer if allowed_from(status).contains(&Status::Transferred) => {
                self.overlay = Some(picker(
                    Pick::TransferTarget { id, version },
                    TransferTarget::ALL.iter().map(|t| {
                        (
                            format!("{} {}", t.label_zh(), t.as_str()),
                            t.as_str().to_string(),
                        )
                    }),
                ));
            }
            Action::Close | Action::Reopen => {
                let to = if action == Action::Close {
                    Status::Closed
                } else {
                    Status::Triaging
                };
                let reopen_ok =
                    action == Action::Close || matches!(status, Status::Resolved | Status::Closed);
                if reopen_ok && allowed_from(status).contains(&to) {
                    return vec![move_to(to)];
                }
                self.refuse(status, to);
            }
            Action::Transition => {
                let options = allowed_from(status).iter().map(|s| {
                    (
                        format!("{} {}", s.label_zh(), s.as_str()),
                        s.as_str().to_string(),
                    )
                });
                self.overlay = Some(picker(Pick::Status { id, version }, options));
            }
            Action::SetPriority => {
                self.overlay = Some(picker(
                    Pick::Priority { id, version },
                    Priority::ALL
                        .iter()
                        .map(|p| (p.as_str().to_string(), p.as_str().to_string())),
                ));
            }
            Action::SetCategory => {
                self.overlay = Some(picker(
                    Pick::Category { id, version },
                    Category::ALL.iter().map(|c| {
                        (
                            format!("{} {}", c.label_zh(), c.as_str()),
                            c.as_str().to_string(),
                        )
                    }),
                ));
            }
            Action::SetSystem => {
                let options = self
                    .systems
                    .iter()
                    .map(|s| (format!("{} {}", s.name, s.key), s.key.clone()));
                self.overlay = Some(picker(Pick::System { id, version }, options));
            }
            Action::Reveal => return vec![Effect::Call(Call::Reveal(id))],
            Action::ApproveScript => {
                return vec![Effect::Call(Call::ApproveScript { id, version })];
            }
            Action::LinkDuplicate | Action::LinkParent => {
                let kind = if action == Action::LinkDuplicate {
                    LinkKind::DuplicateOf
                } else {
                    LinkKind::Parent
                };
                // The likeliest original is offered: the most similar open ticket.
                let input = if kind == LinkKind::DuplicateOf {
                    self.similar_to(id)
                        .first()
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                self.overlay = Some(Overlay::Prompt {
                    purpose: Prompt::Link { id, version, kind },
                    input,
                });
            }
            Action::Attachments | Action::SaveAttachment => {
                let options: Vec<(String, String)> = self
                    .tickets
                    .get(&id)
                    .map(|t| {
                        t.attachments
                            .iter()
                            .map(|a| {
                                (
                                    format!(
                                        "{} ({} KB, {})",
                                        a.filename,
                                        (a.size + 1023) / 1024,
                                        a.content_type
                                    ),
                                    a.id.to_string(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                if options.is_empty() {
                    self.toast("没有附件 · no attachments", false);
                } else {
                    self.overlay = Some(Overlay::Picker {
                        purpose: Pick::Attachment {
                            id,
                            save: action == Action::SaveAttachment,
                        },
                        options,
                        selected: 0,
                    });
                }
            }
            Action::Transfer => self.refuse(status, Status::Transferred),
            _ => {}
        }
        Vec::new()
    }

    fn refuse(&mut self, from: Status, to: Status) {
        let allowed: Vec<&str> = allowed_from(from).iter().map(|s| s.label_zh()).collect();
        self.toast(
            format!(
                "{}的工单不能改为{}；可改为：{}",
                from.label_zh(),
                to.label_zh(),
                allowed.join("、")
            ),
            true,
        );
    }

    fn compose_if_allowed(&mut self, from: Status, to: Status, purpose: Compose) -> Vec<Effect> {
        if allowed_from(from).contains(&to) {
            self.overlay = Some(Overlay::Editor {
                purpose,
                text: String::new(),
            });
        } else {
            self.refuse(from, to);
        }
        Vec::new()
    }

    fn picked(&mut self, purpose: Pick, value: String) -> Vec<Effect> {
        match purpose {
            Pick::Status { id, version } => {
                let Ok(to) = value.parse::<Status>() else {
                    return Vec::new();
                };
                match to {
                    Status::Resolved => {
                        self.overlay = Some(Overlay::Editor {
                            purpose: Compose::Resolve { id, version },
                            text: String::new(),
                        })
                    }
                    Status::Transferred => {
                        let options = TransferTarget::ALL.iter().map(|t| {
                            (
                                format!("{} {}", t.label_zh(), t.as_str()),
                                t.as_str().to_string(),
                            )
                        });
                        self.overlay = Some(picker(Pick::TransferTarget { id, version }, options));
                    }
                    to => {
                        return vec![Effect::Call(Call::Transition {
                            id,
                            body: transition(to, Some(version)),
                        })];
                    }
                }
            }
            Pick::TransferTarget { id, version } => {
                if let Ok(to) = value.parse::<TransferTarget>() {
                    self.overlay = Some(Overlay::Editor {
                        purpose: Compose::Handoff { id, version, to },
                        text: handoff_template(to),
                    });
                }
            }
            Pick::Priority { id, version } => {
                return vec![Effect::Call(Call::Patch {
                    id,
                    body: serde_json::json!({"version": version, "priority": value}),
                })];
            }
            Pick::Category { id, version } => {
                if let Ok(category) = value.parse::<Category>() {
                    // The subcategory is free text: offer the current one to keep or change.
                    let input = self
                        .tickets
                        .get(&id)
                        .and_then(|t| t.subcategory.clone())
                        .unwrap_or_default();
                    self.overlay = Some(Overlay::Prompt {
                        purpose: Prompt::Subcategory {
                            id,
                            version,
                            category,
                        },
                        input,
                    });
                }
            }
            Pick::System { id, version } => {
                return vec![Effect::Call(Call::Patch {
                    id,
                    body: serde_json::json!({"version": version, "system": value}),
                })];
            }
            Pick::Assignee { id, version } => {
                let assignee = (!value.is_empty()).then_some(value);
                return vec![Effect::Call(Call::Patch {
                    id,
                    body: serde_json::json!({"version": version, "assignee": assignee}),
                })];
            }
            Pick::Similar => {
                if let Ok(id) = value.parse::<TicketId>() {
                    return self.open(id);
                }
            }
            Pick::FilterStatus => self.queue.filter.status = value.parse().ok(),
            Pick::FilterSystem => self.queue.filter.system = (!value.is_empty()).then_some(value),
            Pick::FilterCategory => self.queue.filter.category = value.parse().ok(),
            Pick::FilterAssignee => {
                self.queue.filter.assignee = match value.as_str() {
                    "" => None,
                    "-" => Some(None),
                    name => Some(Some(name.to_string())),
                }
            }
            Pick::Bulk => match value.as_str() {
                "assign" => {
                    let options = self.assignable().into_iter().map(|h| (h.clone(), h));
                    self.overlay = Some(picker(Pick::BulkAssign, options));
                }
                "transfer" => {
                    let options = TransferTarget::ALL.iter().map(|t| {
                        (
                            format!("{} {}", t.label_zh(), t.as_str()),
                            t.as_str().to_string(),
                        )
                    });
                    self.overlay = Some(picker(Pick::BulkTransfer, options));
                }
                "parent" => {
                    self.overlay = Some(Overlay::Prompt {
                        purpose: Prompt::BulkParent,
                        input: String::new(),
                    })
                }
                _ => return self.bulk(&value),
            },
            Pick::BulkAssign => return self.bulk(&format!("assign:{value}")),
            Pick::BulkTransfer => {
                if let Ok(to) = value.parse::<TransferTarget>() {
                    self.overlay = Some(Overlay::Editor {
                        purpose: Compose::BulkHandoff { to },
                        text: handoff_template(to),
                    });
                }
            }
            Pick::Attachment { id, save } => {
                let chosen = value.parse::<i64>().ok().and_then(|aid| {
                    self.tickets
                        .get(&id)?
                        .attachments
                        .iter()
                        .find(|a| a.id == aid)
                        .map(|a| {
                            (
                                aid,
                                a.filename.clone(),
                                a.content_type.starts_with("image/"),
                            )
                        })
                });
                if let Some((attachment, filename, image)) = chosen {
                    let effect = if image && !save {
                        Effect::Preview {
                            ticket: id,
                            attachment,
                            filename,
                        }
                    } else {
                        Effect::Save {
                            ticket: id,
                            attachment,
                            filename,
                        }
                    };
                    return vec![effect];
                }
            }
        }
        self.refresh_queue();
        Vec::new()
    }

    fn submit(&mut self, purpose: Compose, text: String) -> Vec<Effect> {
        if text.trim().is_empty() {
            self.toast("内容为空 · nothing written", true);
            self.overlay = Some(Overlay::Editor { purpose, text });
            return Vec::new();
        }
        self.overlay = None;
        let key = format!("tui-{}-{}", self.now.timestamp_micros(), text.len());
        let call = match purpose {
            Compose::BulkHandoff { to } => return self.bulk(&format!("transfer:{to}\n{text}")),
            Compose::Reply(id) => Call::Message {
                id,
                body: text,
                internal: false,
                key,
            },
            Compose::Note(id) => Call::Message {
                id,
                body: text,
                internal: true,
                key,
            },
            Compose::Resolve { id, version } => Call::Transition {
                id,
                body: TransitionBody {
                    resolution: Some(text),
                    ..transition(Status::Resolved, Some(version))
                },
            },
            Compose::Handoff { id, version, to } => Call::Transition {
                id,
                body: TransitionBody {
                    transfer_to: Some(to),
                    note: Some(text),
                    ..transition(Status::Transferred, Some(version))
                },
            },
        };
        vec![Effect::Call(call)]
    }

    /// A canned reply with its slots filled: `{客户}` the customer's masked name, `{工单号}`.
    fn canned(&self, purpose: &Compose) -> String {
        let id = match purpose {
            Compose::Reply(id) | Compose::Note(id) => Some(*id),
            Compose::Resolve { id, .. } | Compose::Handoff { id, .. } => Some(*id),
            Compose::BulkHandoff { .. } => None,
        };
        let customer = id
            .and_then(|id| self.tickets.get(&id))
            .and_then(|t| t.customer.name.clone())
            .unwrap_or_else(|| "客户".into());
        let number = id
            .map(|id| id.to_string())
            .unwrap_or_else(|| "（见各工单）".into());
        CANNED
            .replace("{客户}", &customer)
            .replace("{工单号}", &number)
    }

    /// The server answered a call.
    pub fn on_done(&mut self, what: &str, result: Result<Option<Box<TicketView>>, String>) {
        match result {
            Ok(updated) => {
                if let Some(t) = updated {
                    self.upsert(*t);
                    self.refresh_queue();
                }
                self.toast(what.to_string(), false);
            }
            Err(e) => self.toast(format!("{what}失败：{e}"), true),
        }
    }

    /// The open ticket's timeline arrived.
    /// The server's similar tickets for the open ticket.
    pub fn on_similar(&mut self, id: TicketId, ids: Vec<TicketId>) {
        if let Some(d) = self.detail.as_mut().filter(|d| d.id == id) {
            d.similar = Some(ids);
            self.dirty = true;
        }
    }

    pub fn on_timeline(&mut self, id: TicketId, entries: Vec<crate::api::TimelineEntry>) {
        if let Some(d) = self.detail.as_mut().filter(|d| d.id == id) {
            d.timeline = Some(entries);
            self.dirty = true;
        }
    }

    /// A screenshot was decoded for showing.
    pub fn on_preview(&mut self, title: String, image: super::preview::Preview) {
        self.overlay = Some(Overlay::Preview {
            title,
            image: Box::new(image),
        });
        self.dirty = true;
    }

    /// The full customer block arrived for the open ticket.
    pub fn on_revealed(&mut self, id: TicketId, customer: Customer) {
        if let Some(d) = self.detail.as_mut().filter(|d| d.id == id) {
            d.revealed = Some(customer);
            self.dirty = true;
        }
    }
}

/// The canned reply offered in the editor (`{客户}` and `{工单号}` are filled in).
const CANNED: &str = "您好，关于{客户}的问题（工单 {工单号}），我们已经定位到原因，处理结果如下：";

fn transition(to: Status, version: Option<i64>) -> TransitionBody {
    TransitionBody {
        to,
        transfer_to: None,
        note: None,
        resolution: None,
        version,
    }
}

fn picker(purpose: Pick, options: impl Iterator<Item = (String, String)>) -> Overlay {
    Overlay::Picker {
        purpose,
        options: options.collect(),
        selected: 0,
    }
}

/// What each receiving team needs, as a form to fill in.
fn handoff_template(to: TransferTarget) -> String {
    match to {
        TransferTarget::Test => "复现步骤：\n环境（版本/机型）：\n",
        TransferTarget::Dev => "疑似组件：\n证据（日志/埋点）：\n",
        TransferTarget::Ops => "数据修复脚本（待审核）：\n影响范围：\n回滚方式：\n",
        TransferTarget::Product => "需要修改的配置：\n期望值：\n",
    }
    .to_string()
}
