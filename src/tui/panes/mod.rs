//! The panes of the workstation, one folder each, and the seam they all stand on.
//!
//! A pane is a [`Pane`]: it owns its state, turns messages (actions, typed text, changes from
//! the server, the results of its own jobs, answers from the shared overlays) into state and
//! [`Effect`]s without doing any IO, names its keymap section and the [`Command`]s it offers
//! (the status-line hints, `?` help and the `:` palette are built from them), and renders
//! itself. Its jobs are its own types implementing [`Job`]; the loop runs them and routes
//! whatever they yield back to the pane, so nothing central lists a pane's calls.
//!
//! Adding a pane: a folder here, and one line in [`built_in`].

pub mod alerts;
pub mod construct;
pub mod kb;
pub mod logs;
pub mod queue;
pub mod stats;
pub mod ticket;

use std::any::Any;
use std::fmt;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::action::{Action, Context};
use super::desk::Desk;
use super::effect::Effect;
use super::theme::Theme;
use crate::api::Change;
use crate::domain::ticket::TicketId;

/// The panes every workstation has, in tab order (`1`–`7` go to them). One line a pane.
pub fn built_in() -> Vec<Box<dyn Pane>> {
    vec![
        Box::new(queue::Queue::default()),
        Box::new(ticket::TicketPane::default()),
        Box::new(logs::LogsPane::default()),
        Box::new(kb::KbPane::default()),
        Box::new(construct::ConstructPane::default()),
        Box::new(stats::StatsPane::default()),
        Box::new(alerts::AlertsPane::default()),
    ]
}

/// A pane's identity: the short English name it is known by (tabs, logs, palette actions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PaneId(pub &'static str);

impl PaneId {
    pub const QUEUE: PaneId = PaneId("queue");
    pub const TICKET: PaneId = PaneId("ticket");
    pub const LOGS: PaneId = PaneId("logs");
    pub const KB: PaneId = PaneId("kb");
    pub const CONSTRUCT: PaneId = PaneId("construct");
    pub const STATS: PaneId = PaneId("stats");
    pub const ALERTS: PaneId = PaneId("alerts");
    /// Not a pane: the app itself, as the owner of its own prompts (goto).
    pub const APP: PaneId = PaneId("app");
}

impl fmt::Display for PaneId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Something a pane offers: an action, and whether it is worth a place in the status line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    pub action: Action,
    /// Shown in the status line (the few keys a handler needs right now).
    pub hint: bool,
}

impl Command {
    pub const fn new(action: Action) -> Command {
        Command {
            action,
            hint: false,
        }
    }

    pub const fn hint(action: Action) -> Command {
        Command { action, hint: true }
    }
}

/// A line of text being typed into a pane (a search box, the queue's filter), drawn on the
/// status line while it has the keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input<'a> {
    pub prompt: &'a str,
    pub text: &'a str,
}

/// An edit of a pane's typed text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    Insert(char),
    Backspace,
    /// The word before the cursor (and the spaces after it), as `ctrl-w` does in a shell.
    DeleteWordBack,
    /// Everything before the cursor: on one line, the whole text typed (`ctrl-u`).
    KillToLineStart,
}

impl Edit {
    /// The edit an action makes in a line of typed text, if it is one.
    pub fn of(action: crate::tui::action::Action) -> Option<Edit> {
        use crate::tui::action::Action;
        match action {
            Action::DeleteWordBack => Some(Edit::DeleteWordBack),
            Action::KillToLineStart => Some(Edit::KillToLineStart),
            _ => None,
        }
    }
}

/// What an overlay opened by a pane was for, handed back to the pane with the answer. Each
/// pane takes back its own purpose types with [`Purpose::take`].
pub struct Purpose(Box<dyn Any + Send>);

impl Purpose {
    pub fn new<T: Any + Send>(purpose: T) -> Purpose {
        Purpose(Box::new(purpose))
    }

    pub fn is<T: Any>(&self) -> bool {
        self.0.is::<T>()
    }

    /// The purpose as `T`, or itself back when it is another pane's.
    pub fn take<T: Any>(self) -> Result<T, Purpose> {
        self.0.downcast::<T>().map(|b| *b).map_err(Purpose)
    }
}

impl fmt::Debug for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Purpose(..)")
    }
}

/// What reaches a pane.
#[derive(Debug)]
pub enum Msg<'a> {
    /// A key's action (the pane's section, then global, as the keymap found it).
    Action(Action),
    /// Typed text, while the pane has an [`Input`].
    Edit(Edit),
    /// Text pasted into the pane's [`Input`], on one line already and made inert: one edit,
    /// so a search runs once for the whole paste, not once a character. A pane that answers
    /// `None` gets it as [`Msg::Edit`]s instead, a character each.
    Pasted(&'a str),
    /// A change from the server's stream, after the shared tickets took it.
    Change(&'a Change),
    /// The shared tickets changed (loaded, updated by a call, or by the stream).
    Tickets,
    /// The pane came into focus; `in_hand` is the ticket the handler last had in hand.
    Shown { in_hand: Option<TicketId> },
    /// Open this ticket (from a picker, a link, another pane).
    OpenTicket(TicketId),
    /// What one of the pane's jobs yielded.
    Loaded(Box<dyn Any + Send>),
    /// A picker the pane opened: the option chosen (index and value).
    Picked {
        purpose: Purpose,
        index: usize,
        value: String,
    },
    /// A one-line prompt the pane opened was answered.
    Prompted { purpose: Purpose, input: String },
    /// An editor the pane opened was sent (never empty).
    Written { purpose: Purpose, text: String },
    /// A question the pane asked was answered yes.
    Confirmed { purpose: Purpose },
}

/// A pane's answer to a message: `None` when it is not the pane's to handle (the app then
/// tries its global actions).
pub type Handled = Option<Vec<Effect>>;

/// One pane of the workstation.
pub trait Pane: Any + Send {
    fn id(&self) -> PaneId;

    /// The tab title, Chinese then English ("队列 Queue"); at 80 columns only the first word.
    fn title(&self) -> &'static str;

    /// The keymap section of the pane.
    fn context(&self) -> Context;

    /// What the pane offers now, in the order the help lists them.
    fn commands(&self) -> Vec<Command>;

    /// The text being typed into the pane, while it takes the keys as text.
    fn input(&self) -> Option<Input<'_>> {
        None
    }

    /// The ticket the handler has in hand here (the open one, the selected row).
    fn ticket_in_hand(&self) -> Option<TicketId> {
        None
    }

    /// The ticket whose conversation is on screen here (a submitter's message to it is read
    /// as it arrives while the pane is focused, so it gets no unread badge).
    fn reading(&self) -> Option<TicketId> {
        None
    }

    /// Two panes shown side by side when the terminal is wide (≥ 120 columns), left and right,
    /// this one among them: the list beside the ticket, lazygit-style.
    fn beside(&self) -> Option<(PaneId, PaneId)> {
        None
    }

    /// The one place the pane's state changes. No IO: work for the loop is returned.
    fn update(&mut self, msg: Msg<'_>, desk: &mut Desk) -> Handled;

    fn render(&mut self, area: Rect, buf: &mut Buffer, ctx: &Ctx<'_>, focused: bool);
}

impl dyn Pane {
    /// The pane as its own type (tests, benchmarks, and a pane reading its own state).
    pub fn downcast_ref<T: Pane>(&self) -> Option<&T> {
        (self as &dyn Any).downcast_ref()
    }

    pub fn downcast_mut<T: Pane>(&mut self) -> Option<&mut T> {
        (self as &mut dyn Any).downcast_mut()
    }
}

/// What every pane reads while rendering: the shared desk (through `Deref`) and the theme.
pub struct Ctx<'a> {
    pub desk: &'a Desk,
    pub theme: &'a Theme,
}

impl std::ops::Deref for Ctx<'_> {
    type Target = Desk;

    fn deref(&self) -> &Desk {
        self.desk
    }
}
