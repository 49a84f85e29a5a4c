//! Drawing the queue: a table of the rows on screen, with the count, sort and filters in the
//! title, marks and unread badges in the first column, and the SLA countdown coloured.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table, TableState, Widget};

use super::{Ctx, Queue, QueueFilter};
use crate::display::{countdown, fit};
use crate::domain::ticket::TicketId;
use std::collections::HashSet;

impl Queue {
    /// A one-line summary of the view: count, sort and active filters.
    pub fn summary(&self, unread: &HashSet<TicketId>) -> String {
        // Where the selection stands, k9s-style, then what the list is.
        let position = if self.rows.is_empty() {
            "0/0".to_string()
        } else {
            format!("{}/{}", self.selected + 1, self.rows.len())
        };
        let what = match &self.found {
            Some((query, ids, total)) if *total as usize > ids.len() => format!(
                "搜索 search {} · first {} of {total}, esc back",
                query.describe(),
                ids.len()
            ),
            Some((query, ids, _)) => {
                format!(
                    "搜索 search {} · {} found, esc back",
                    query.describe(),
                    ids.len()
                )
            }
            None => format!("{} open", self.rows.len()),
        };
        let mut parts = vec![position, what, format!("sort: {}", self.sort.label())];
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
        if !unread.is_empty() {
            parts.push(format!("{} unread", unread.len()));
        }
        parts.join(" · ")
    }

    pub(super) fn render_into(
        &mut self,
        area: Rect,
        buf: &mut Buffer,
        ctx: &Ctx<'_>,
        focused: bool,
    ) {
        let (tickets, theme, now) = (&ctx.tickets, ctx.theme, ctx.now);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused))
            .title(Line::from(vec![
                Span::styled(" 队列 Queue ", theme.title()),
                // The summary stops short of the corner, cut with `…` when the list says more.
                Span::styled(
                    crate::tui::panes::ticket::title_fit(
                        &format!("{} ", self.summary(&ctx.unread)),
                        area.width.saturating_sub(12),
                    ),
                    theme.muted(),
                ),
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
        let rows = visible.iter().filter_map(|id| tickets.row(*id)).map(|t| {
            let (label, state) = countdown(t.clock.state, t.clock.due, now);
            // `*` marked for bulk work, then `↑` a write of ours waiting to be sent, then `●`
            // an unread follow-up.
            let mark = if self.marks.contains(&t.id) {
                "*"
            } else if ctx.pending_for(t.id).next().is_some() {
                "↑"
            } else if ctx.unread.contains(&t.id) {
                "●"
            } else {
                " "
            };
            Row::new(vec![
                // A blank marker is drawn plain: an underlined space on every row is noise
                // under NO_COLOR, where the mark is an underline.
                Cell::from(if mark == " " {
                    Span::raw(mark)
                } else {
                    Span::styled(mark, theme.marked())
                }),
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
        // Wide enough for the longest number on screen: #100000 is not cut to 10000.
        let id_width = visible
            .iter()
            .map(|id| id.to_string().len() as u16)
            .max()
            .unwrap_or(0)
            .max(5);
        let widths = [
            Constraint::Length(1),
            Constraint::Length(id_width),
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
            let msg = if !ctx.loaded {
                "正在载入队列 · loading the open queue…"
            } else if self.filter == QueueFilter::default() {
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
