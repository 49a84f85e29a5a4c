//! What the queue lists and in which order: the handler's filter, the typed text matched the
//! way a 100,000-row queue can afford on every key, and the sort keys.

use memchr::memmem::Finder;

use super::SortKey;
use crate::client::row::QueueRow;
use crate::domain::ticket::{Category, Status};

/// What the handler narrowed the queue to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueFilter {
    /// Typed text: matches title, id, system, submitter or assignee (case-insensitive).
    pub text: String,
    pub status: Option<Status>,
    pub system: Option<String>,
    pub category: Option<Category>,
    /// `Some(None)`: unassigned only.
    pub assignee: Option<Option<String>>,
    pub mine: bool,
}

impl QueueFilter {
    /// Whether every ticket this filter admits is admitted by `wider` too: the same but for
    /// typed text that contains `wider`'s (the handler typed on), so the list narrows in place.
    pub fn narrows(&self, wider: &QueueFilter) -> bool {
        self.text.contains(&wider.text)
            && QueueFilter {
                text: wider.text.clone(),
                ..self.clone()
            } == *wider
    }

    /// Whether `t` belongs in the list, by everything but its status (open tickets, or what a
    /// search found, is the queue's to say).
    pub fn admits(&self, t: &QueueRow, needle: &Needle, me: Option<&str>) -> bool {
        if self.status.is_some_and(|s| s != t.status)
            || self.system.as_deref().is_some_and(|s| s != &*t.system)
            || self.category.is_some_and(|c| c != t.category)
        {
            return false;
        }
        if let Some(wanted) = &self.assignee
            && wanted.as_deref() != t.assignee.as_deref()
        {
            return false;
        }
        if self.mine && t.assignee.as_deref() != me {
            return false;
        }
        needle.matches(t)
    }
}

/// The typed text, prepared once per refresh: lowercased, with a substring finder built for
/// it (plain `str::contains` prepares its search again for every title, which at 100,000
/// titles times five fields is most of a key's cost).
pub struct Needle {
    finder: Option<Finder<'static>>,
    /// Whether case can matter: the text has letters with case (most queries are Chinese).
    cased: bool,
    /// Whether the text can be part of a ticket number.
    digits: bool,
}

impl Needle {
    pub fn new(text: &str) -> Needle {
        let lower = text.to_lowercase();
        Needle {
            cased: lower.chars().any(|c| c.is_lowercase() || c.is_uppercase()),
            digits: !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_digit()),
            finder: (!lower.is_empty()).then(|| Finder::new(lower.as_bytes()).into_owned()),
        }
    }

    pub fn matches(&self, t: &QueueRow) -> bool {
        let Some(finder) = &self.finder else {
            return true;
        };
        let found = |hay: &str| finder.find(hay.as_bytes()).is_some();
        // Usernames and system keys are lowercase by construction; only the title needs
        // folding, and only when the text has letters with case and the title capitals.
        let title = found(&t.title)
            || (self.cased
                && t.title.chars().any(char::is_uppercase)
                && found(&t.title.to_lowercase()));
        title
            || (self.digits && found(itoa::Buffer::new().format(t.id)))
            || found(&t.system)
            || found(&t.submitter)
            || t.assignee.as_deref().is_some_and(found)
    }
}

/// A row's place under a sort: SLA due, priority then due, or age; the id breaks ties, so
/// no two rows share a key and a row can be put in its place by binary search.
pub fn sort_key(sort: SortKey, t: &QueueRow) -> (i64, i64, i64) {
    let due = t.clock.due.timestamp_millis();
    match sort {
        SortKey::SlaDue => (0, due, t.id),
        SortKey::Priority => (t.priority as i64, due, t.id),
        SortKey::Age => (0, t.created_at.timestamp_millis(), t.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_on_narrows_and_anything_else_does_not() {
        let wide = QueueFilter {
            text: "行".into(),
            mine: true,
            ..Default::default()
        };
        let typed_on = QueueFilter {
            text: "行情".into(),
            ..wide.clone()
        };
        assert!(typed_on.narrows(&wide));
        assert!(wide.narrows(&wide));
        assert!(!wide.narrows(&typed_on), "deleting a character widens");
        let other = QueueFilter {
            mine: false,
            ..typed_on.clone()
        };
        assert!(!other.narrows(&wide));
    }
}

/// The queue caught up change by change orders exactly as one built afresh.
#[cfg(test)]
mod catching_up {
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    use super::super::{Queue, SortKey};
    use crate::client::row::{QueueRow, RowClock};
    use crate::domain::ticket::{Category, Priority, Status};
    use crate::tui::tickets::Tickets;

    const TITLES: [&str; 4] = ["委托失败", "行情延迟", "APP 闪退", "行情 ETF 申购"];

    fn row(id: i64, version: i64, seed: u32) -> QueueRow {
        let pick = |n: u32, shift: u32| ((seed >> shift) % n) as usize;
        QueueRow {
            id,
            version,
            status: [Status::New, Status::Triaging, Status::Resolved][pick(3, 0)],
            priority: Priority::ALL[pick(4, 2)],
            category: Category::ALL[pick(Category::ALL.len() as u32, 4)],
            system: ["trading", "margin"][pick(2, 7)].into(),
            submitter: "cm_wang".into(),
            assignee: [None, Some("h_chen".into()), Some("h_li".into())][pick(3, 8)].clone(),
            title: TITLES[pick(4, 10)].into(),
            created_at: Utc
                .timestamp_opt(1_700_000_000 + i64::from(seed % 97), 0)
                .unwrap(),
            // Few distinct dues, so ties fall to the id.
            clock: RowClock::new(
                "running",
                Utc.timestamp_opt(1_800_000_000 + i64::from(seed % 7), 0)
                    .unwrap(),
            ),
        }
    }

    #[derive(Debug, Clone)]
    enum Step {
        Change { id: i64, seed: u32 },
        Type(char),
        Erase,
        Sort,
        Mine,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (1i64..60, any::<u32>()).prop_map(|(id, seed)| Step::Change { id, seed }),
            1 => prop::sample::select(vec!['行', '情', 'a', 'e', '1']).prop_map(Step::Type),
            1 => Just(Step::Erase),
            1 => Just(Step::Sort),
            1 => Just(Step::Mine),
        ]
    }

    proptest! {
        #[test]
        fn caught_up_equals_built_afresh(
            seeds in prop::collection::vec(any::<u32>(), 1..40),
            steps in prop::collection::vec(step(), 1..60),
        ) {
            let mut tickets = Tickets::default();
            for (i, seed) in seeds.iter().enumerate() {
                tickets.upsert_row(row(i as i64 + 1, 1, *seed));
            }
            let mut queue = Queue::default();
            queue.refresh(&tickets, Some("h_chen"));
            let mut version = 1;
            for step in steps {
                match step {
                    Step::Change { id, seed } => {
                        version += 1;
                        tickets.upsert_row(row(id, version, seed));
                    }
                    Step::Type(c) => queue.filter.text.push(c),
                    Step::Erase => { queue.filter.text.pop(); }
                    Step::Sort => queue.sort = match queue.sort {
                        SortKey::SlaDue => SortKey::Priority,
                        SortKey::Priority => SortKey::Age,
                        SortKey::Age => SortKey::SlaDue,
                    },
                    Step::Mine => queue.filter.mine = !queue.filter.mine,
                }
                queue.refresh(&tickets, Some("h_chen"));
                let mut fresh = Queue {
                    sort: queue.sort,
                    filter: queue.filter.clone(),
                    ..Queue::default()
                };
                fresh.refresh(&tickets, Some("h_chen"));
                prop_assert_eq!(&queue.rows, &fresh.rows);
            }
        }
    }
}
