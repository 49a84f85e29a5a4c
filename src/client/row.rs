//! A ticket as the queue keeps it: the few fields a list sorts, narrows and draws, a tenth of
//! a full view's size. The workstation holds one per open ticket (100,000 fit in a few tens of
//! MiB) and the full view only for tickets opened, changed or found; the cache stores these
//! fields as columns, so a start reads them without decoding any JSON.

use chrono::{DateTime, Utc};

use crate::display::relevant_clock;
use crate::domain::sanitize::terminal_safe;
use crate::domain::ticket::{Category, Priority, Status, TicketId};
use crate::domain::view::TicketView;

/// The SLA clock that matters now, as a list shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowClock {
    /// running · due_soon · paused · breached · met · missed (as the server said).
    pub state: &'static str,
    pub due: DateTime<Utc>,
}

/// The clock states the server sends; anything else is read as running.
const CLOCK_STATES: [&str; 6] = ["running", "due_soon", "paused", "breached", "met", "missed"];

impl RowClock {
    pub fn new(state: &str, due: DateTime<Utc>) -> RowClock {
        let state = CLOCK_STATES
            .iter()
            .find(|s| **s == state)
            .copied()
            .unwrap_or("running");
        RowClock { state, due }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueRow {
    pub id: TicketId,
    pub version: i64,
    pub status: Status,
    pub priority: Priority,
    pub category: Category,
    /// The system's key.
    pub system: Box<str>,
    pub submitter: Box<str>,
    pub assignee: Option<Box<str>>,
    pub title: Box<str>,
    pub created_at: DateTime<Utc>,
    /// The first response until there was one, then resolution.
    pub clock: RowClock,
}

impl QueueRow {
    /// The row of a full view (whose texts are terminal-safe already).
    pub fn of(t: &TicketView) -> QueueRow {
        let clock = relevant_clock(t);
        QueueRow {
            id: t.id,
            version: t.version,
            status: t.status,
            priority: t.priority,
            category: t.category,
            system: t.system.as_str().into(),
            submitter: t.submitter.as_str().into(),
            assignee: t.assignee.as_deref().map(Box::from),
            title: t.title.as_str().into(),
            created_at: t.created_at,
            clock: RowClock::new(&clock.state, clock.due),
        }
    }

    /// Texts read back from a file are made terminal-safe again, as full views are.
    pub fn inert(&mut self) {
        let clean = |s: &mut Box<str>| {
            if let std::borrow::Cow::Owned(safe) = terminal_safe(s) {
                *s = safe.into_boxed_str();
            }
        };
        clean(&mut self.system);
        clean(&mut self.submitter);
        clean(&mut self.title);
        if let Some(a) = self.assignee.as_mut() {
            clean(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_clock_states_read_as_running_and_known_ones_keep_their_word() {
        let due = Utc::now();
        assert_eq!(RowClock::new("paused", due).state, "paused");
        assert_eq!(RowClock::new("due_soon", due).state, "due_soon");
        assert_eq!(RowClock::new("\u{1b}[2J", due).state, "running");
    }
}
