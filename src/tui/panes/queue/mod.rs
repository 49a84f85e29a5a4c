//! The live queue: every open ticket, sorted by SLA due, priority or age, narrowed by typed
//! text, status, system, category, assignee and "mine", with marks for bulk work. The selected
//! row is the ticket in hand, so ticket work runs on it from the palette.

mod bulk;
mod filter;
mod search;
mod view;

pub use filter::QueueFilter;
use filter::{Needle, sort_key};
pub use search::{Found, Query, Search, Window};

use std::collections::HashSet;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::{Command, Ctx, Handled, Input, Msg, Pane, PaneId, Purpose};
use crate::client::row::QueueRow;
use crate::domain::ticket::{Category, Status, TicketId};
use crate::tui::action::{Action, Context};
use crate::tui::desk::{Desk, Request};
use crate::tui::effect::Effect;
use crate::tui::fetch::Fetch;
use crate::tui::overlay::Overlay;
use crate::tui::tickets::Tickets;
use crate::tui::work;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    SlaDue,
    Priority,
    Age,
}

impl SortKey {
    fn next(self) -> SortKey {
        match self {
            SortKey::SlaDue => SortKey::Priority,
            SortKey::Priority => SortKey::Age,
            SortKey::Age => SortKey::SlaDue,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::SlaDue => "SLA due",
            SortKey::Priority => "priority",
            SortKey::Age => "age",
        }
    }
}

#[derive(Debug)]
pub struct Queue {
    /// The visible ticket ids, in display order.
    pub rows: Vec<TicketId>,
    pub selected: usize,
    pub sort: SortKey,
    pub filter: QueueFilter,
    pub marks: HashSet<TicketId>,
    /// While the filter is being typed: the filter before, restored on cancel.
    typing: Option<String>,
    /// A search of every ticket on the server and what it found, shown instead of the open
    /// queue until the handler goes back.
    pub found: Option<(Query, Vec<TicketId>, u64)>,
    /// Rows that fit on screen at the last render, for paging.
    pub page: usize,
    /// The first visible row: only the rows on screen are built each frame, so a queue of
    /// thousands costs what a page costs.
    pub offset: usize,
    /// The ticket whose full view was last asked for, so it is asked once.
    fetching: Option<TicketId>,
    /// What the rows were last built from, and where the desk's row changes stood then.
    built: Option<(Basis, u64)>,
}

/// What decides the rows besides the tickets themselves.
#[derive(Debug, Clone, PartialEq)]
struct Basis {
    sort: SortKey,
    filter: QueueFilter,
    /// A search's tickets, shown instead of the open queue.
    found: Option<Vec<TicketId>>,
    me: Option<String>,
}

impl Basis {
    /// The same list but for typed text that grew: every row it admits, `wider` admitted.
    fn narrows(&self, wider: &Basis) -> bool {
        self.sort == wider.sort
            && self.found == wider.found
            && self.me == wider.me
            && self.filter != wider.filter
            && self.filter.narrows(&wider.filter)
    }
}

/// Whether a ticket is the list's to show: an open one, or one a search found.
fn listed(t: &QueueRow, found: &Option<Vec<TicketId>>) -> bool {
    match found {
        Some(ids) => ids.contains(&t.id),
        None => t.status.is_open(),
    }
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            rows: Vec::new(),
            selected: 0,
            sort: SortKey::SlaDue,
            filter: QueueFilter::default(),
            marks: HashSet::new(),
            typing: None,
            found: None,
            page: 10,
            offset: 0,
            fetching: None,
            built: None,
        }
    }
}

/// The search prompt.
#[derive(Debug)]
struct SearchFor;

/// The queue's own pickers.
#[derive(Debug)]
enum QueuePick {
    Status,
    System,
    Category,
    Assignee,
}

/// Moving comes last in the help: the list's own commands and ticket work first.
const MOVING: &[Command] = &[
    Command::new(Action::Up),
    Command::new(Action::Down),
    Command::new(Action::PageUp),
    Command::new(Action::PageDown),
    Command::new(Action::Top),
    Command::new(Action::Bottom),
];

const COMMANDS: &[Command] = &[
    Command::hint(Action::Open),
    Command::hint(Action::Filter),
    Command::new(Action::NextMatch),
    Command::new(Action::PrevMatch),
    Command::new(Action::ClearFilter),
    Command::hint(Action::SortNext),
    Command::new(Action::ToggleMine),
    Command::new(Action::FilterStatus),
    Command::new(Action::FilterSystem),
    Command::new(Action::FilterCategory),
    Command::new(Action::FilterAssignee),
    Command::new(Action::Mark),
    Command::new(Action::MarkAll),
    Command::new(Action::ClearMarks),
    Command::new(Action::Bulk),
    Command::new(Action::Search),
];

impl Queue {
    pub fn selected_id(&self) -> Option<TicketId> {
        self.rows.get(self.selected).copied()
    }

    /// Brings the visible rows up to date, keeping the selection on the same ticket when it
    /// is still there. When only some tickets changed since the last refresh (a live change),
    /// just those are put in their places; when the typed text only grew, the list narrows
    /// in place; else it is built and sorted afresh.
    pub fn refresh(&mut self, tickets: &Tickets, me: Option<&str>) {
        let keep = self.selected_id();
        let basis = Basis {
            sort: self.sort,
            filter: self.filter.clone(),
            found: self.found.as_ref().map(|(_, ids, _)| ids.clone()),
            me: me.map(str::to_string),
        };
        let needle = Needle::new(&self.filter.text);
        let since = self.built.take().and_then(|(old, count)| {
            let changed: Vec<TicketId> = tickets.changed_since(count)?.collect();
            let narrowed = basis.narrows(&old);
            (narrowed || basis == old).then_some((changed, narrowed))
        });
        match since {
            Some((changed, narrowed)) => {
                if narrowed {
                    let (filter, found) = (&basis.filter, &basis.found);
                    self.rows.retain(|id| {
                        tickets
                            .row(*id)
                            .is_some_and(|t| listed(t, found) && filter.admits(t, &needle, me))
                    });
                }
                self.catch_up(changed, tickets, &basis, &needle);
            }
            None => self.rebuild(tickets, &basis, &needle),
        }
        self.built = Some((basis, tickets.count()));
        self.selected = keep
            .and_then(|id| self.rows.iter().position(|r| *r == id))
            .unwrap_or(0);
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        let found = &self.found;
        self.marks.retain(|id| {
            let listed = found.as_ref().is_some_and(|(_, ids, _)| ids.contains(id));
            tickets
                .row(*id)
                .is_some_and(|t| t.status.is_open() || listed)
        });
    }

    /// Every row that belongs, sorted.
    fn rebuild(&mut self, tickets: &Tickets, basis: &Basis, needle: &Needle) {
        let me = basis.me.as_deref();
        let admitted = |t: &&QueueRow| basis.filter.admits(t, needle, me);
        let rows: Vec<&QueueRow> = match &basis.found {
            // A search shows what it found, whatever their status.
            Some(ids) => ids
                .iter()
                .filter_map(|id| tickets.row(*id))
                .filter(admitted)
                .collect(),
            None => tickets
                .rows()
                .filter(|t| t.status.is_open())
                .filter(admitted)
                .collect(),
        };
        // Each key computed once, not once per comparison; the id in it makes keys unique,
        // so an unstable sort orders as a stable one would.
        let mut keyed: Vec<((i64, i64, i64), TicketId)> = rows
            .iter()
            .map(|t| (sort_key(basis.sort, t), t.id))
            .collect();
        keyed.sort_unstable();
        self.rows = keyed.into_iter().map(|(_, id)| id).collect();
    }

    /// Puts each changed ticket where it now belongs: out of the list, then back in by
    /// binary search when it still belongs. Its key is unique, so the order is the one a
    /// rebuild would give.
    fn catch_up(
        &mut self,
        mut changed: Vec<TicketId>,
        tickets: &Tickets,
        basis: &Basis,
        needle: &Needle,
    ) {
        changed.sort_unstable();
        changed.dedup();
        for id in changed {
            if let Some(at) = self.rows.iter().position(|r| *r == id) {
                self.rows.remove(at);
            }
            let Some(t) = tickets.row(id) else {
                continue;
            };
            if !(listed(t, &basis.found) && basis.filter.admits(t, needle, basis.me.as_deref())) {
                continue;
            }
            let key = sort_key(basis.sort, t);
            let at = self.rows.partition_point(|other| {
                tickets
                    .row(*other)
                    .is_some_and(|o| sort_key(basis.sort, o) < key)
            });
            self.rows.insert(at, id);
        }
    }

    fn refresh_from(&mut self, desk: &Desk) {
        self.refresh(&desk.tickets, desk.me.as_deref());
    }

    /// Moving, sorting, narrowing and marking; false for actions that are not these.
    fn navigate(&mut self, action: Action, desk: &Desk) -> bool {
        let last = self.rows.len().saturating_sub(1);
        match action {
            Action::Down | Action::NextMatch => self.selected = (self.selected + 1).min(last),
            Action::Up | Action::PrevMatch => self.selected = self.selected.saturating_sub(1),
            Action::PageDown => self.selected = (self.selected + self.page.max(1)).min(last),
            Action::PageUp => self.selected = self.selected.saturating_sub(self.page.max(1)),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = last,
            Action::SortNext => {
                self.sort = self.sort.next();
                self.refresh_from(desk);
            }
            Action::ToggleMine => {
                self.filter.mine = !self.filter.mine;
                self.refresh_from(desk);
            }
            Action::ClearFilter => {
                self.filter = QueueFilter::default();
                self.found = None;
                self.refresh_from(desk);
            }
            Action::Mark => {
                if let Some(id) = self.selected_id()
                    && !self.marks.remove(&id)
                {
                    self.marks.insert(id);
                }
                self.selected = (self.selected + 1).min(last);
            }
            Action::MarkAll => self.marks.extend(self.rows.iter().copied()),
            Action::ClearMarks => self.marks.clear(),
            _ => return false,
        }
        true
    }

    /// Keys while the filter is typed: enter keeps it, esc restores the one before; nothing
    /// else acts until then.
    fn while_typing(&mut self, action: Action, before: String, desk: &Desk) {
        match action {
            Action::Back | Action::Cancel => {
                self.filter.text = before;
                self.refresh_from(desk);
            }
            Action::Open | Action::Submit => {}
            _ => self.typing = Some(before),
        }
    }

    fn filter_picker(&self, action: Action, desk: &Desk) -> Overlay {
        let any = ("全部 any".to_string(), String::new());
        let (purpose, title, rest): (QueuePick, &str, Vec<(String, String)>) = match action {
            Action::FilterStatus => (
                QueuePick::Status,
                "按状态筛选 status (已解决、已关闭从服务器查 resolved and closed are searched)",
                Status::ALL
                    .iter()
                    .map(|s| work::labelled(s.label_zh(), s.as_str()))
                    .collect(),
            ),
            Action::FilterSystem => (
                QueuePick::System,
                "按系统筛选 system",
                desk.systems
                    .iter()
                    .map(|s| (format!("{} {}", s.name, s.key), s.key.clone()))
                    .collect(),
            ),
            Action::FilterCategory => (
                QueuePick::Category,
                "按分类筛选 category",
                Category::ALL
                    .iter()
                    .map(|c| work::labelled(c.label_zh(), c.as_str()))
                    .collect(),
            ),
            _ => {
                let mut options = vec![("未指派 unassigned".to_string(), "-".to_string())];
                options.extend(desk.assignable().into_iter().map(|h| (h.clone(), h)));
                (QueuePick::Assignee, "按处理人筛选 assignee", options)
            }
        };
        Overlay::picker(
            PaneId::QUEUE,
            purpose,
            title,
            std::iter::once(any).chain(rest),
        )
    }

    fn search(&mut self, query: Query, desk: &mut Desk) -> Vec<Effect> {
        desk.toast(format!("正在搜索 searching {}", query.describe()), false);
        vec![Effect::run(Some(PaneId::QUEUE), Search(query))]
    }

    fn on_found(&mut self, found: Found, desk: &mut Desk) {
        match found.result {
            Ok((tickets, total)) => {
                let ids: Vec<TicketId> = tickets.iter().map(|t| t.id).collect();
                for t in tickets {
                    desk.upsert(t);
                }
                if found.query.is_exact() {
                    self.filter = QueueFilter::default();
                }
                self.found = Some((found.query, ids, total));
                self.selected = 0;
                desk.request(Request::TicketsChanged);
            }
            Err(e) => desk.toast(format!("搜索失败 search failed: {e}"), true),
        }
    }

    fn on_action(&mut self, action: Action, desk: &mut Desk) -> Handled {
        if let Some(before) = self.typing.take() {
            self.while_typing(action, before, desk);
            return Some(Vec::new());
        }
        match action {
            // Back from a search is the open queue again: a level up, before anything quits.
            Action::Back if self.found.is_some() => {
                self.found = None;
                self.refresh_from(desk);
            }
            Action::Search => desk.overlay(Overlay::prompt(
                PaneId::QUEUE,
                SearchFor,
                "搜索全部工单（文字、工单号、客户账号/手机/证件）search every ticket: ",
                "",
            )),
            Action::Filter => self.typing = Some(self.filter.text.clone()),
            Action::Open => {
                if let Some(id) = self.selected_id() {
                    desk.request(Request::OpenTicket(id));
                }
            }
            Action::FilterStatus
            | Action::FilterSystem
            | Action::FilterCategory
            | Action::FilterAssignee => {
                let picker = self.filter_picker(action, desk);
                desk.overlay(picker);
            }
            Action::Bulk => self.bulk_menu(desk),
            other if self.navigate(other, desk) => {}
            other => return work::act(PaneId::QUEUE, other, self.selected_id(), None, desk),
        }
        Some(Vec::new())
    }

    fn on_picked(
        &mut self,
        purpose: Purpose,
        index: usize,
        value: String,
        desk: &mut Desk,
    ) -> Vec<Effect> {
        let purpose = match purpose.take::<QueuePick>() {
            Ok(pick) => {
                match pick {
                    QueuePick::Status => match value.parse::<Status>() {
                        // Resolved and closed tickets live on the server: search them there.
                        Ok(status) if !status.is_open() => {
                            return self.search(
                                Query {
                                    status: Some(status),
                                    ..Query::default()
                                },
                                desk,
                            );
                        }
                        parsed => self.filter.status = parsed.ok(),
                    },
                    QueuePick::System => self.filter.system = (!value.is_empty()).then_some(value),
                    QueuePick::Category => self.filter.category = value.parse().ok(),
                    QueuePick::Assignee => {
                        self.filter.assignee = match value.as_str() {
                            "" => None,
                            "-" => Some(None),
                            name => Some(Some(name.to_string())),
                        }
                    }
                }
                self.refresh_from(desk);
                return Vec::new();
            }
            Err(purpose) => purpose,
        };
        match self.bulk_picked(purpose, index, value.clone(), desk) {
            Ok(effects) => effects,
            Err(purpose) => {
                let effects = work::picked(PaneId::QUEUE, purpose, value, desk).unwrap_or_default();
                self.refresh_from(desk);
                effects
            }
        }
    }
}

impl Pane for Queue {
    fn id(&self) -> PaneId {
        PaneId::QUEUE
    }

    fn title(&self) -> &'static str {
        "队列 Queue"
    }

    fn context(&self) -> Context {
        Context::Queue
    }

    fn commands(&self) -> Vec<Command> {
        COMMANDS
            .iter()
            .chain(work::COMMANDS)
            .chain(MOVING)
            .copied()
            .collect()
    }

    fn input(&self) -> Option<Input<'_>> {
        self.typing.as_ref().map(|_| Input {
            prompt: "/",
            text: &self.filter.text,
        })
    }

    fn ticket_in_hand(&self) -> Option<TicketId> {
        self.selected_id()
    }

    fn beside(&self) -> Option<(PaneId, PaneId)> {
        Some((PaneId::QUEUE, PaneId::TICKET))
    }

    fn update(&mut self, msg: Msg<'_>, desk: &mut Desk) -> Handled {
        let mut handled = self.on_msg(msg, desk);
        if let Some(fetch) = self.prefetch(desk) {
            handled.get_or_insert_with(Vec::new).push(fetch);
        }
        handled
    }

    fn render(&mut self, area: Rect, buf: &mut Buffer, ctx: &Ctx<'_>, focused: bool) {
        self.render_into(area, buf, ctx, focused);
    }
}

impl Queue {
    /// The selected ticket's full view is fetched as the selection lands on it, so ticket
    /// work on it (and opening it) finds the whole ticket in hand.
    fn prefetch(&mut self, desk: &Desk) -> Option<Effect> {
        let id = self.selected_id()?;
        // Asked once per landing: a fetch that fails (offline, not cached) is not repeated
        // on every change while the selection stays.
        if desk.tickets.view(id).is_some() || self.fetching == Some(id) {
            return None;
        }
        self.fetching = Some(id);
        let row = desk.tickets.row(id)?;
        Some(Effect::run(Some(PaneId::QUEUE), Fetch::of(row)))
    }

    fn on_msg(&mut self, msg: Msg<'_>, desk: &mut Desk) -> Handled {
        match msg {
            Msg::Action(action) => self.on_action(action, desk),
            Msg::Edit(edit) => {
                // The queue follows the filter as it is typed.
                crate::tui::overlay::edit_line(&mut self.filter.text, edit);
                self.refresh_from(desk);
                Some(Vec::new())
            }
            Msg::Pasted(text) => {
                self.filter.text.push_str(text);
                self.refresh_from(desk);
                Some(Vec::new())
            }
            Msg::Tickets => {
                self.refresh_from(desk);
                Some(Vec::new())
            }
            Msg::Picked {
                purpose,
                index,
                value,
            } => Some(self.on_picked(purpose, index, value, desk)),
            Msg::Loaded(loaded) => {
                if let Ok(found) = loaded.downcast::<Found>() {
                    self.on_found(*found, desk);
                }
                Some(Vec::new())
            }
            Msg::Prompted { purpose, input } if purpose.is::<SearchFor>() => {
                let text = input.trim().to_string();
                Some(if text.is_empty() {
                    Vec::new()
                } else {
                    self.search(
                        Query {
                            text: Some(text),
                            ..Query::default()
                        },
                        desk,
                    )
                })
            }
            Msg::Prompted { purpose, input } => {
                Some(match self.bulk_prompted(purpose, &input, desk) {
                    Ok(effects) => effects,
                    Err(purpose) => work::prompted(purpose, input, desk).unwrap_or_default(),
                })
            }
            Msg::Written { purpose, text } => Some(match self.bulk_written(purpose, &text, desk) {
                Ok(effects) => effects,
                Err(purpose) => work::written(purpose, text, desk).unwrap_or_default(),
            }),
            Msg::Confirmed { purpose } => Some(work::confirmed(purpose).unwrap_or_default()),
            _ => None,
        }
    }
}
