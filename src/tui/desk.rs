//! What the panes share: the tickets as this workstation knows them, who is signed in, the
//! clock, the unread badges, and a way to ask the app for what only it may do (focus,
//! overlays, toasts). Panes read it freely and change it only through its methods.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::overlay::Overlay;
use super::panes::PaneId;
use super::tickets::Tickets;
use crate::api::TicketView;
use crate::config::SystemDef;
use crate::domain::ticket::TicketId;

/// What a pane asks of the app while it updates; the app carries it out right after.
#[derive(Debug)]
pub enum Request {
    Focus(PaneId),
    /// Show an overlay that answers to the pane that asked.
    Overlay(Overlay),
    Toast {
        text: String,
        error: bool,
    },
    /// Open a ticket in the ticket pane.
    OpenTicket(TicketId),
    /// The shared tickets changed (a pane loaded some): every pane hears of it.
    TicketsChanged,
}

/// Ticket work waiting for the ticket's full view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deferred {
    pub pane: PaneId,
    pub action: crate::tui::action::Action,
    pub ticket: TicketId,
}

/// A write waiting in the outbox, as the panes show it in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingWrite {
    pub ticket: TicketId,
    /// What it is: "#12 回复 reply", "#12 → 已解决".
    pub label: String,
    /// The text it carries (a reply, a note, a resolution, a hand-off), when it has one.
    pub text: Option<String>,
}

pub struct Desk {
    /// Every ticket known as a queue row; the full views of those opened, changed or found.
    pub tickets: Tickets,
    /// Ticket work asked for before the ticket's full view was in hand: done when it arrives,
    /// if the same ticket is still in the same pane's hand.
    pub deferred: Option<Deferred>,
    /// Whether the open queue has arrived (from the cache or the server): until then an empty
    /// queue is loading, not empty.
    pub loaded: bool,
    pub systems: Vec<SystemDef>,
    pub tz: chrono_tz::Tz,
    pub now: DateTime<Utc>,
    pub me: Option<String>,
    /// Who tickets can be assigned to (from `/api/v1/users`); assignees seen on tickets are
    /// offered too.
    pub handlers: Vec<String>,
    /// Tickets with a submitter's follow-up the handler has not opened since.
    pub unread: HashSet<TicketId>,
    /// The focused pane (a pane reading a conversation marks it read only while focused).
    pub focus: PaneId,
    /// Whether pictures may be drawn in colour (not under NO_COLOR or the mono theme).
    pub colour: bool,
    /// Text written and left unsent, by draft key (`12/reply`), until sent or discarded.
    pub drafts: HashMap<String, String>,
    /// Writes waiting in the outbox, oldest first.
    pub pending: Vec<PendingWrite>,
    /// The canned replies: the shipped ones, then the handler's own (`canned.toml`).
    pub canned: Vec<crate::domain::canned::Canned>,
    requests: Vec<Request>,
}

impl Desk {
    pub fn new(systems: Vec<SystemDef>, tz: chrono_tz::Tz, now: DateTime<Utc>) -> Desk {
        Desk {
            tickets: Tickets::default(),
            loaded: false,
            deferred: None,
            systems,
            tz,
            now,
            me: None,
            handlers: Vec::new(),
            unread: HashSet::new(),
            focus: PaneId::QUEUE,
            colour: true,
            drafts: HashMap::new(),
            pending: Vec::new(),
            canned: crate::domain::canned::parse(
                "fixtures/canned/replies.toml",
                include_str!("../../fixtures/canned/replies.toml"),
            )
            .unwrap_or_default(),
            requests: Vec::new(),
        }
    }

    pub fn request(&mut self, request: Request) {
        self.requests.push(request);
    }

    pub fn toast(&mut self, text: impl Into<String>, error: bool) {
        self.request(Request::Toast {
            text: text.into(),
            error,
        });
    }

    pub fn overlay(&mut self, overlay: Overlay) {
        self.request(Request::Overlay(overlay));
    }

    pub(super) fn take_requests(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.requests)
    }

    /// Keeps `t` unless a newer version is already known; true when it was taken.
    pub fn upsert(&mut self, t: TicketView) -> bool {
        self.tickets.upsert(t)
    }

    /// The writes waiting for one ticket.
    pub fn pending_for(&self, id: TicketId) -> impl Iterator<Item = &PendingWrite> {
        self.pending.iter().filter(move |p| p.ticket == id)
    }

    /// A system's name for display; the key when it is not configured here.
    pub fn system_name(&self, key: &str) -> String {
        self.systems
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| key.to_string())
    }

    /// Handlers from the server, then anyone seen assigned, then me; each once.
    pub fn assignable(&self) -> Vec<String> {
        // A set first: a desk of 100,000 tickets has a few dozen assignees.
        let seen: std::collections::BTreeSet<&str> = self
            .tickets
            .rows()
            .filter_map(|t| t.assignee.as_deref())
            .collect();
        let mut unique: Vec<String> = Vec::new();
        for h in self
            .handlers
            .iter()
            .cloned()
            .chain(seen.into_iter().map(str::to_string))
            .chain(self.me.clone())
        {
            if !unique.contains(&h) {
                unique.push(h);
            }
        }
        unique
    }
}
