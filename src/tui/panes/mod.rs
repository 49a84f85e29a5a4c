//! One file per pane. Each renders itself from the shared [`Ctx`] and handles its own actions.

pub mod placeholder;
pub mod queue;
pub mod ticket;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::action::Context;
use super::theme::Theme;
use crate::config::SystemDef;
use crate::domain::ticket::TicketId;
use crate::domain::view::TicketView;

/// What every pane reads while rendering.
pub struct Ctx<'a> {
    pub tickets: &'a HashMap<TicketId, TicketView>,
    pub systems: &'a [SystemDef],
    pub now: DateTime<Utc>,
    /// The business time zone, for every time shown.
    pub tz: chrono_tz::Tz,
    pub theme: &'a Theme,
}

impl Ctx<'_> {
    /// A system's name for display; the key when it is not configured here.
    pub fn system_name(&self, key: &str) -> String {
        self.systems
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| key.to_string())
    }
}

/// The panes, in tab order; `1`–`7` go to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaneId {
    Queue,
    Ticket,
    Logs,
    Kb,
    Construct,
    Stats,
    Alerts,
}

impl PaneId {
    pub const ALL: [PaneId; 7] = [
        PaneId::Queue,
        PaneId::Ticket,
        PaneId::Logs,
        PaneId::Kb,
        PaneId::Construct,
        PaneId::Stats,
        PaneId::Alerts,
    ];

    pub fn title(self) -> &'static str {
        match self {
            PaneId::Queue => "队列 Queue",
            PaneId::Ticket => "工单 Ticket",
            PaneId::Logs => "日志 Logs",
            PaneId::Kb => "知识库 KB",
            PaneId::Construct => "构造 Construct",
            PaneId::Stats => "统计 Stats",
            PaneId::Alerts => "告警 Alerts",
        }
    }

    /// The keymap section of the pane.
    pub fn context(self) -> Context {
        match self {
            PaneId::Queue => Context::Queue,
            PaneId::Ticket => Context::Ticket,
            PaneId::Logs => Context::Logs,
            PaneId::Kb => Context::Kb,
            PaneId::Construct => Context::Construct,
            PaneId::Stats => Context::Stats,
            PaneId::Alerts => Context::Alerts,
        }
    }

    pub fn next(self) -> PaneId {
        let i = PaneId::ALL.iter().position(|p| *p == self).unwrap_or(0);
        PaneId::ALL[(i + 1) % PaneId::ALL.len()]
    }

    pub fn prev(self) -> PaneId {
        let i = PaneId::ALL.iter().position(|p| *p == self).unwrap_or(0);
        PaneId::ALL[(i + PaneId::ALL.len() - 1) % PaneId::ALL.len()]
    }
}
