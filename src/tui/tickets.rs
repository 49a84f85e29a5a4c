//! The tickets the desk knows: a compact row for every one (what the queue sorts, narrows and
//! draws), and the full view of those opened, changed or found lately (what the ticket pane
//! shows and ticket work reads). A desk of 100,000 open tickets holds 100,000 rows and a
//! bounded number of full views; a full view not held is read from the cache, or the server,
//! when a ticket is opened or selected (`fetch`).

use std::collections::{HashMap, VecDeque};

use crate::api::TicketView;
use crate::client::row::QueueRow;
use crate::domain::ticket::TicketId;

/// How many full views are kept besides the pinned one; the least lately used go first.
/// A full view is about ten times a row, so this bounds them to a few MiB.
pub const VIEWS_KEPT: usize = 2_000;

#[derive(Debug, Default)]
pub struct Tickets {
    rows: HashMap<TicketId, QueueRow>,
    views: HashMap<TicketId, Held>,
    /// The ticket open in the ticket pane: its view is never let go.
    pinned: Option<TicketId>,
    /// Counts uses, to tell the least lately used view.
    uses: u64,
    /// Counts row changes: a list sorted from the rows at one count catches up with the rows
    /// changed since (`changed_since`) instead of sorting them all again.
    count: u64,
    /// The latest row changes, (count, ticket), oldest first; at most `LOG_KEPT`.
    log: VecDeque<(u64, TicketId)>,
    /// The count before which the log no longer reaches (everything was replaced then).
    log_from: u64,
}

/// Row changes remembered for lists catching up; beyond this they sort afresh.
const LOG_KEPT: usize = 1_024;

#[derive(Debug)]
struct Held {
    view: TicketView,
    used: u64,
}

impl Tickets {
    pub fn row(&self, id: TicketId) -> Option<&QueueRow> {
        self.rows.get(&id)
    }

    pub fn rows(&self) -> impl Iterator<Item = &QueueRow> {
        self.rows.values()
    }

    /// The full view, when held.
    pub fn view(&self, id: TicketId) -> Option<&TicketView> {
        self.views.get(&id).map(|h| &h.view)
    }

    /// The full views held.
    pub fn views(&self) -> impl Iterator<Item = &TicketView> {
        self.views.values().map(|h| &h.view)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Keeps `t`, row and full view, unless a newer version is already known; true when it
    /// was taken.
    pub fn upsert(&mut self, t: TicketView) -> bool {
        if !self.upsert_row(QueueRow::of(&t)) {
            return false;
        }
        self.uses += 1;
        self.views.insert(
            t.id,
            Held {
                view: t,
                used: self.uses,
            },
        );
        self.let_go();
        true
    }

    /// Keeps a row unless a newer version is already known; a full view older than it is let
    /// go (it would show a ticket as it no longer is). True when it was taken.
    pub fn upsert_row(&mut self, row: QueueRow) -> bool {
        let id = row.id;
        let taken = self.take_row(row);
        if taken {
            self.logged(id);
        }
        taken
    }

    /// [`Tickets::upsert_row`] without the log.
    fn take_row(&mut self, row: QueueRow) -> bool {
        if self
            .rows
            .get(&row.id)
            .is_some_and(|old| old.version > row.version)
        {
            return false;
        }
        if self
            .views
            .get(&row.id)
            .is_some_and(|h| h.view.version < row.version)
        {
            self.views.remove(&row.id);
        }
        self.rows.insert(row.id, row);
        true
    }

    /// Takes many rows at once (a start from the cache), sized for them up front. Logged as
    /// one change of everything, so lists build afresh rather than replay 100,000 entries.
    pub fn upsert_rows(&mut self, rows: Vec<QueueRow>) {
        self.rows.reserve(rows.len());
        for row in rows {
            self.take_row(row);
        }
        self.forget_log();
    }

    /// Every list built before now is built afresh.
    fn forget_log(&mut self) {
        self.count += 1;
        self.log.clear();
        self.log_from = self.count;
    }

    /// Where the row changes stand now.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The tickets whose rows changed after `count` (a ticket may be named twice); `None`
    /// when the log no longer reaches back that far, so a list must be built afresh.
    pub fn changed_since(&self, count: u64) -> Option<impl Iterator<Item = TicketId> + '_> {
        (count >= self.log_from).then(|| {
            self.log
                .iter()
                .skip_while(move |(c, _)| *c <= count)
                .map(|(_, id)| *id)
        })
    }

    fn logged(&mut self, id: TicketId) {
        self.count += 1;
        self.log.push_back((self.count, id));
        if self.log.len() > LOG_KEPT {
            let (gone, _) = self.log.pop_front().unwrap_or_default();
            self.log_from = gone;
        }
    }

    /// Marks a view as just used, so it is kept over others.
    pub fn touch(&mut self, id: TicketId) {
        self.uses += 1;
        if let Some(h) = self.views.get_mut(&id) {
            h.used = self.uses;
        }
    }

    /// The ticket whose view is kept whatever else comes (the one open in the ticket pane).
    pub fn pin(&mut self, id: Option<TicketId>) {
        self.pinned = id;
        if let Some(id) = id {
            self.touch(id);
        }
    }

    /// Forgets every ticket but the pinned one (a fresh snapshot replaces them; the open
    /// ticket stays drawn even when the snapshot, being of open tickets, lacks it).
    pub fn clear(&mut self) {
        let pinned = self.pinned;
        self.rows.retain(|id, _| Some(*id) == pinned);
        self.views.retain(|id, _| Some(*id) == pinned);
        self.forget_log();
    }

    /// Lets the least lately used views go once there are a quarter more than kept, so the
    /// sort this takes is paid once per few hundred views.
    fn let_go(&mut self) {
        if self.views.len() <= VIEWS_KEPT + VIEWS_KEPT / 4 {
            return;
        }
        let mut uses: Vec<u64> = self
            .views
            .iter()
            .filter(|(id, _)| Some(**id) != self.pinned)
            .map(|(_, h)| h.used)
            .collect();
        uses.sort_unstable_by(|a, b| b.cmp(a));
        let Some(&oldest_kept) = uses.get(VIEWS_KEPT.saturating_sub(1)) else {
            return;
        };
        let pinned = self.pinned;
        self.views
            .retain(|id, h| h.used >= oldest_kept || Some(*id) == pinned);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::domain::ticket::{Channel, Ticket};
    use crate::domain::validate::NewTicket;
    use crate::domain::view::{SlaContext, ticket_view};

    fn view(id: TicketId, version: i64) -> TicketView {
        let settings = Settings::default();
        let new = NewTicket {
            title: format!("工单 {id}"),
            description: "委托失败".into(),
            system: "trading".into(),
            ..Default::default()
        };
        let now = chrono::Utc::now();
        let mut t = Ticket::open(new, Channel::Mss, "cm_wang".into(), now);
        t.id = id;
        t.version = version;
        let sla = SlaContext {
            policy: &settings.sla,
            calendar: &settings.calendar,
        };
        ticket_view(&t, Vec::new(), &sla, now)
    }

    #[test]
    fn a_newer_row_lets_an_older_view_go_and_an_older_row_is_refused() {
        let mut tickets = Tickets::default();
        assert!(tickets.upsert(view(1, 2)));
        assert!(!tickets.upsert(view(1, 1)), "an older version is refused");
        assert_eq!(tickets.view(1).map(|t| t.version), Some(2));
        let mut row = QueueRow::of(&view(1, 3));
        row.title = "changed".into();
        assert!(tickets.upsert_row(row));
        assert_eq!(tickets.row(1).map(|r| &*r.title), Some("changed"));
        assert!(tickets.view(1).is_none(), "the view of version 2 is stale");
    }

    #[test]
    fn views_are_bounded_but_rows_are_not_and_the_pinned_view_stays() {
        let mut tickets = Tickets::default();
        tickets.upsert(view(1, 1));
        tickets.pin(Some(1));
        let many = VIEWS_KEPT as i64 * 2;
        for id in 2..=many {
            tickets.upsert(view(id, 1));
        }
        assert_eq!(tickets.len(), many as usize);
        let held = tickets.views().count();
        assert!(held <= VIEWS_KEPT + VIEWS_KEPT / 4 + 1, "{held} views held");
        assert!(tickets.view(1).is_some(), "the pinned view is kept");
        assert!(tickets.view(many).is_some(), "the latest view is kept");
        assert!(tickets.view(2).is_none(), "the least lately used went");
    }
}
