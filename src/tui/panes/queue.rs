//! The live queue: every open ticket, sorted by SLA due, priority or age, narrowed by typed
//! text, status, system and "mine", with marks for bulk work.

use std::collections::{HashMap, HashSet};

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table, TableState, Widget};

use super::super::action::Action;
use super::Ctx;
use crate::display::{countdown, fit, relevant_clock};
use crate::domain::ticket::{Category, Status, TicketId};
use crate::domain::view::TicketView;

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

#[derive(Debug)]
pub struct Queue {
    /// The visible ticket ids, in display order.
    pub rows: Vec<TicketId>,
    pub selected: usize,
    pub sort: SortKey,
    pub filter: QueueFilter,
    pub marks: HashSet<TicketId>,
    /// Tickets with a submitter's follow-up the handler has not opened since.
    pub unread: HashSet<TicketId>,
    /// Rows that fit on screen at the last render, for paging.
    pub page: usize,
    /// The first visible row: only the rows on screen are built each frame, so a queue of
    /// thousands costs what a page costs.
    pub offset: usize,
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            rows: Vec::new(),
            selected: 0,
            sort: SortKey::SlaDue,
            filter: QueueFilter::default(),
            marks: HashSet::new(),
            unread: HashSet::new(),
            page: 10,
            offset: 0,
        }
    }
}

/// Whether `t` belongs in the filtered queue; `needle` is the typed filter, lowercased once
/// per refresh rather than once per ticket.
fn matches(t: &TicketView, f: &QueueFilter, needle: &str, me: Option<&str>) -> bool {
    if !t.status.is_open() {
        return false;
    }
    if f.status.is_some_and(|s| s != t.status) || f.system.as_ref().is_some_and(|s| *s != t.system)
    {
        return false;
    }
    if f.mine && t.assignee.as_deref() != me {
        return false;
    }
    if needle.is_empty() {
        return true;
    }
    // Usernames and system keys are lowercase by construction; only the title needs folding,
    // and a title without capitals (most are Chinese) is compared as it is.
    let title_matches = if t.title.chars().any(char::is_uppercase) {
        t.title.to_lowercase().contains(needle)
    } else {
        t.title.contains(needle)
    };
    title_matches
        || t.id.to_string().contains(needle)
        || t.system.contains(needle)
        || t.submitter.contains(needle)
        || t.assignee.as_deref().is_some_and(|a| a.contains(needle))
}

impl Queue {
    pub fn selected_id(&self) -> Option<TicketId> {
        self.rows.get(self.selected).copied()
    }

    /// Rebuilds the visible rows, keeping the selection on the same ticket when it is still there.
    pub fn refresh(&mut self, tickets: &HashMap<TicketId, TicketView>, me: Option<&str>) {
        let keep = self.selected_id();
        let needle = self.filter.text.to_lowercase();
        let mut rows: Vec<&TicketView> = tickets
            .values()
            .filter(|t| matches(t, &self.filter, &needle, me))
            .collect();
        match self.sort {
            SortKey::SlaDue => rows.sort_by_key(|t| (relevant_clock(t).due, t.id)),
            SortKey::Priority => rows.sort_by_key(|t| (t.priority, relevant_clock(t).due, t.id)),
            SortKey::Age => rows.sort_by_key(|t| (t.created_at, t.id)),
        }
        self.rows = rows.iter().map(|t| t.id).collect();
        self.selected = keep
            .and_then(|id| self.rows.iter().position(|r| *r == id))
            .unwrap_or(0);
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        self.marks
            .retain(|id| tickets.get(id).is_some_and(|t| t.status.is_open()));
    }

    /// Handles a queue action; returns false when it is not one.
    pub fn handle(
        &mut self,
        action: Action,
        tickets: &HashMap<TicketId, TicketView>,
        me: Option<&str>,
    ) -> bool {
        let last = self.rows.len().saturating_sub(1);
        match action {
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::PageDown => self.selected = (self.selected + self.page.max(1)).min(last),
            Action::PageUp => self.selected = self.selected.saturating_sub(self.page.max(1)),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = last,
            Action::SortNext => {
                self.sort = self.sort.next();
                self.refresh(tickets, me);
            }
            Action::ToggleMine => {
                self.filter.mine = !self.filter.mine;
                self.refresh(tickets, me);
            }
            Action::ClearFilter => {
                self.filter = QueueFilter::default();
                self.refresh(tickets, me);
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

    /// A one-line summary of the view: count, sort and active filters.
    pub fn summary(&self) -> String {
        let mut parts = vec![
            format!("{} open", self.rows.len()),
            format!("sort: {}", self.sort.label()),
        ];
        if self.filter.mine {
            parts.push("mine".into());
        }
        if let Some(s) = self.filter.status {
            parts.push(format!("status: {s}"));
        }
        if let Some(s) = &self.filter.system {
            parts.push(format!("system: {s}"));
        }
        if let Some(c) = self.filter.category {
            parts.push(format!("category: {c}"));
        }
        match &self.filter.assignee {
            Some(Some(a)) => parts.push(format!("assignee: {a}")),
            Some(None) => parts.push("unassigned".into()),
            None => {}
        }
        if !self.filter.text.is_empty() {
            parts.push(format!("/{}", self.filter.text));
        }
        if !self.marks.is_empty() {
            parts.push(format!("{} marked", self.marks.len()));
        }
        if !self.unread.is_empty() {
            parts.push(format!("{} unread", self.unread.len()));
        }
        parts.join(" · ")
    }

    pub fn render(&mut self, area: Rect, buf: &mut Buffer, ctx: &Ctx<'_>, focused: bool) {
        let (tickets, theme, now) = (ctx.tickets, ctx.theme, ctx.now);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused))
            .title(Line::from(vec![
                Span::styled(" 队列 Queue ", theme.title()),
                Span::styled(format!("{} ", self.summary()), theme.muted()),
            ]));
        let inner_height = area.height.saturating_sub(3) as usize;
        self.page = inner_height.max(1);
        // Keep the selection on screen, scrolling as little as possible.
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + self.page {
            self.offset = self.selected + 1 - self.page;
        }
        self.offset = self.offset.min(self.rows.len().saturating_sub(self.page));
        let visible = &self.rows[self.offset..(self.offset + self.page).min(self.rows.len())];
        let header =
            Row::new(["", "#", "P", "状态", "SLA", "系统", "处理人", "标题"]).style(theme.header());
        let rows = visible.iter().filter_map(|id| tickets.get(id)).map(|t| {
            let clock = relevant_clock(t);
            let (label, state) = countdown(clock, now);
            // `*` marked for bulk work wins over `●` an unread follow-up.
            let mark = if self.marks.contains(&t.id) {
                "*"
            } else if self.unread.contains(&t.id) {
                "●"
            } else {
                " "
            };
            Row::new(vec![
                Cell::from(Span::styled(mark, theme.marked())),
                Cell::from(t.id.to_string()),
                Cell::from(Span::styled(
                    t.priority.as_str(),
                    theme.priority(t.priority.as_str()),
                )),
                Cell::from(Span::styled(
                    t.status.label_zh(),
                    theme.status(t.status.as_str()),
                )),
                Cell::from(Span::styled(label, theme.sla(state))),
                Cell::from(fit(&ctx.system_name(&t.system), 8)),
                Cell::from(fit(t.assignee.as_deref().unwrap_or("-"), 8)),
                // A list is not the detail view: account or phone numbers typed into a title
                // are masked here and shown in full only in the ticket pane.
                Cell::from(crate::domain::mask::mask_long_numbers(&t.title)),
            ])
            .style(theme.text())
        });
        let widths = [
            Constraint::Length(1),
            Constraint::Length(5),
            Constraint::Length(2),
            Constraint::Length(10),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Min(10),
        ];
        let table = Table::new(rows, widths)
            .header(header)
            .block(block)
            .row_highlight_style(theme.selection())
            .column_spacing(1);
        let mut state = TableState::default()
            .with_selected((!self.rows.is_empty()).then_some(self.selected - self.offset));
        ratatui::widgets::StatefulWidget::render(table, area, buf, &mut state);
        if self.rows.is_empty() {
            let msg = if self.filter == QueueFilter::default() {
                "没有待处理的工单 · no open tickets"
            } else {
                "没有匹配的工单 · nothing matches the filter"
            };
            let y = area.y + 2;
            if y < area.bottom().saturating_sub(1) {
                Line::from(Span::styled(msg, theme.muted())).render(
                    Rect {
                        x: area.x + 2,
                        y,
                        width: area.width.saturating_sub(4),
                        height: 1,
                    },
                    buf,
                );
            }
        }
    }
}
