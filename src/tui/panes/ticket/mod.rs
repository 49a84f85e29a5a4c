//! One ticket: its facts, SLA clocks, customer block (masked until an audited reveal),
//! description, hand-off and resolution, attachments, the conversation with internal notes
//! marked, and the timeline. The open ticket is the ticket in hand for ticket work.

mod jobs;
mod view;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

pub use jobs::{Loaded, TicketJob};
pub(crate) use view::title_fit;

use super::{Command, Ctx, Handled, Msg, Pane, PaneId};
use crate::api::{Message, TimelineEntry};
use crate::domain::people::Role;
use crate::domain::ticket::{Customer, TicketId};
use crate::tui::action::{Action, Context};
use crate::tui::desk::{Desk, Request};
use crate::tui::effect::Effect;
use crate::tui::work;

/// The open ticket and what was loaded for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub id: TicketId,
    /// None until the conversation has been fetched.
    pub messages: Option<Vec<Message>>,
    pub scroll: u16,
    /// Lines that fit at the last render, for paging.
    pub page: u16,
    /// The full customer block, after an explicit (audited) reveal.
    pub revealed: Option<Customer>,
    /// Who did what on the ticket, when loaded.
    pub timeline: Option<Vec<TimelineEntry>>,
    /// The server's similar tickets (matched on full customer values), when loaded; until
    /// then the workstation's own guess from masked values stands in.
    pub similar: Option<Vec<TicketId>>,
    /// Knowledge-base articles about the ticket, once the server has answered.
    pub related: Vec<crate::api::KbSummary>,
    /// The articles written up from it.
    pub written_up: Vec<crate::api::KbSummary>,
}

impl Detail {
    pub fn new(id: TicketId) -> Detail {
        Detail {
            id,
            messages: None,
            scroll: 0,
            page: 10,
            revealed: None,
            timeline: None,
            similar: None,
            related: Vec::new(),
            written_up: Vec::new(),
        }
    }

    /// Scrolling; returns false for actions that are not the pane's.
    pub fn handle(&mut self, action: Action) -> bool {
        match action {
            Action::Down => self.scroll = self.scroll.saturating_add(1),
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::PageDown => self.scroll = self.scroll.saturating_add(self.page.max(1)),
            Action::PageUp => self.scroll = self.scroll.saturating_sub(self.page.max(1)),
            Action::Top => self.scroll = 0,
            Action::Bottom => self.scroll = u16::MAX / 2,
            _ => return false,
        }
        true
    }
}

#[derive(Debug, Default)]
pub struct TicketPane {
    pub detail: Option<Detail>,
}

/// The pane's own commands, after ticket work; moving comes last in the help.
const COMMANDS: &[Command] = &[
    Command::new(Action::Reveal),
    Command::new(Action::Open),
    Command::hint(Action::Back),
];

const MOVING: &[Command] = &[
    Command::new(Action::Up),
    Command::new(Action::Down),
    Command::new(Action::PageUp),
    Command::new(Action::PageDown),
    Command::new(Action::Top),
    Command::new(Action::Bottom),
];

impl TicketPane {
    fn open(&mut self, id: TicketId, desk: &mut Desk) -> Vec<Effect> {
        desk.unread.remove(&id);
        if self.detail.as_ref().is_some_and(|d| d.id == id) {
            return Vec::new();
        }
        self.detail = Some(Detail::new(id));
        desk.tickets.pin(Some(id));
        vec![Effect::run(Some(PaneId::TICKET), TicketJob::Load(id))]
    }

    /// The server's similar tickets for the open ticket, once loaded.
    pub fn similar(&self) -> Option<&[TicketId]> {
        self.detail.as_ref()?.similar.as_deref()
    }

    fn on_action(&mut self, action: Action, desk: &mut Desk) -> Handled {
        let id = self.detail.as_ref().map(|d| d.id);
        match action {
            Action::Back => desk.request(Request::Focus(PaneId::QUEUE)),
            Action::Reveal => {
                if let Some(id) = id {
                    return Some(vec![Effect::run(
                        Some(PaneId::TICKET),
                        TicketJob::Reveal(id),
                    )]);
                }
                desk.toast("没有选中的工单 · no ticket selected", true);
            }
            // Enter follows the ticket's link: to the original of a duplicate, else the parent.
            Action::Open => {
                let linked = id
                    .and_then(|id| desk.tickets.view(id))
                    .and_then(|t| t.links.duplicate_of.or(t.links.parent));
                match linked {
                    Some(other) => desk.request(Request::OpenTicket(other)),
                    None => desk.toast("没有关联的工单 · no linked ticket", false),
                }
            }
            other => {
                if let Some(d) = self.detail.as_mut()
                    && d.handle(other)
                {
                    return Some(Vec::new());
                }
                let similar = self.similar().map(<[TicketId]>::to_vec);
                return work::act(PaneId::TICKET, other, id, similar.as_deref(), desk);
            }
        }
        Some(Vec::new())
    }

    /// A change from the stream: a message on the open ticket joins its conversation, and is
    /// marked read at once when the handler is reading it.
    fn on_change(&mut self, change: &crate::api::Change, desk: &mut Desk) -> Vec<Effect> {
        let mut effects = Vec::new();
        // The open ticket changed: its timeline says who did what, so it is read again.
        if change.kind.starts_with("ticket.")
            && let Some(d) = self
                .detail
                .as_ref()
                .filter(|d| Some(d.id) == change.ticket_id)
        {
            effects.push(Effect::run(Some(PaneId::TICKET), TicketJob::Timeline(d.id)));
        }
        if change.kind != "message.created" {
            return effects;
        }
        let Ok(m) = serde_json::from_value::<Message>(change.data.clone()) else {
            return effects;
        };
        let Some(d) = self.detail.as_mut().filter(|d| d.id == m.ticket_id) else {
            return effects;
        };
        match d.messages.as_mut() {
            Some(list) if !list.iter().any(|x| x.id == m.id) => list.push(m.clone()),
            Some(_) => {}
            None => effects.push(Effect::run(
                Some(PaneId::TICKET),
                TicketJob::Load(m.ticket_id),
            )),
        }
        if desk.focus == PaneId::TICKET && m.author_role == Role::Submitter {
            effects.push(Effect::run(
                Some(PaneId::TICKET),
                TicketJob::MarkRead {
                    ticket: m.ticket_id,
                    message: m.id,
                },
            ));
        }
        effects
    }

    fn on_loaded(&mut self, loaded: Loaded, desk: &mut Desk) {
        let id = loaded.ticket();
        match loaded {
            Loaded::Ticket(_, Ok(t)) => {
                if desk.upsert(*t) {
                    desk.request(Request::TicketsChanged);
                }
                return;
            }
            Loaded::Ticket(_, Err(e)) => {
                desk.toast(e, true);
                // A copy already in hand (followed live) still stands.
                if self.detail.as_ref().is_some_and(|d| d.id == id)
                    && desk.tickets.view(id).is_none()
                {
                    self.detail = None;
                    desk.tickets.pin(None);
                    desk.request(Request::Focus(PaneId::QUEUE));
                }
                return;
            }
            _ => {}
        }
        if let Loaded::Messages(id, Err(e)) = &loaded {
            desk.toast(format!("#{id}: {e}"), true);
            return;
        }
        let Some(d) = self.detail.as_mut().filter(|d| d.id == id) else {
            return;
        };
        match loaded {
            Loaded::Messages(_, Ok(list)) => d.messages = Some(list),
            Loaded::Messages(_, Err(_)) => {}
            Loaded::Timeline(_, entries) => d.timeline = Some(entries),
            Loaded::Similar(_, ids) => d.similar = Some(ids),
            Loaded::Related(_, articles) => d.related = articles,
            Loaded::WrittenUp(_, articles) => d.written_up = articles,
            Loaded::Revealed(_, customer) => d.revealed = Some(customer),
            Loaded::Ticket(..) => {}
        }
    }
}

impl Pane for TicketPane {
    fn id(&self) -> PaneId {
        PaneId::TICKET
    }

    fn title(&self) -> &'static str {
        "工单 Ticket"
    }

    fn context(&self) -> Context {
        Context::Ticket
    }

    fn commands(&self) -> Vec<Command> {
        work::COMMANDS
            .iter()
            .chain(COMMANDS)
            .chain(MOVING)
            .copied()
            .collect()
    }

    fn ticket_in_hand(&self) -> Option<TicketId> {
        self.detail.as_ref().map(|d| d.id)
    }

    fn reading(&self) -> Option<TicketId> {
        self.ticket_in_hand()
    }

    fn beside(&self) -> Option<(PaneId, PaneId)> {
        Some((PaneId::QUEUE, PaneId::TICKET))
    }

    fn update(&mut self, msg: Msg<'_>, desk: &mut Desk) -> Handled {
        match msg {
            Msg::Action(action) => self.on_action(action, desk),
            Msg::OpenTicket(id) => Some(self.open(id, desk)),
            Msg::Shown { in_hand } => Some(match (self.detail.is_none(), in_hand) {
                (true, Some(id)) => self.open(id, desk),
                _ => Vec::new(),
            }),
            Msg::Change(change) => Some(self.on_change(change, desk)),
            Msg::Loaded(any) => {
                if let Ok(loaded) = any.downcast::<Loaded>() {
                    self.on_loaded(*loaded, desk);
                }
                Some(Vec::new())
            }
            Msg::Picked { purpose, value, .. } => {
                Some(work::picked(PaneId::TICKET, purpose, value, desk).unwrap_or_default())
            }
            Msg::Prompted { purpose, input } => {
                Some(work::prompted(purpose, input, desk).unwrap_or_default())
            }
            Msg::Written { purpose, text } => {
                Some(work::written(purpose, text, desk).unwrap_or_default())
            }
            Msg::Confirmed { purpose } => Some(work::confirmed(purpose).unwrap_or_default()),
            Msg::Edit(_) | Msg::Pasted(_) | Msg::Tickets => None,
        }
    }

    fn render(&mut self, area: Rect, buf: &mut Buffer, ctx: &Ctx<'_>, focused: bool) {
        match self.detail.as_mut() {
            Some(d) => d.render(area, buf, ctx, focused),
            None => view::render_empty(area, buf, ctx, focused),
        }
    }
}
