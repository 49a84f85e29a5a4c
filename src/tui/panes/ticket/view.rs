//! Drawing the open ticket: facts and clocks first, then the customer, the texts, the
//! attachments, the conversation and the timeline, wrapped for Chinese and scrolled.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::{Ctx, Detail};
use crate::display::countdown;
use crate::domain::ticket::{MaskedCustomer, TransferTarget};
use crate::domain::view::{ClockView, TicketView};

/// The pane before any ticket was opened.
pub(super) fn render_empty(area: Rect, buf: &mut Buffer, ctx: &Ctx<'_>, focused: bool) {
    let theme = ctx.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused));
    Paragraph::new(Span::styled(
        "在队列中选择一个工单并按 Enter 打开 · open a ticket from the queue, or # and its number",
        theme.muted(),
    ))
    .wrap(Wrap { trim: true })
    .block(block)
    .render(area, buf);
}

impl Detail {
    pub fn render(&mut self, area: Rect, buf: &mut Buffer, ctx: &Ctx<'_>, focused: bool) {
        let theme = ctx.theme;
        let Some(t) = ctx.tickets.view(self.id) else {
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(focused));
            // Only its queue row is held until the full view arrives (from the cache at once,
            // else from the server).
            let what = match ctx.tickets.row(self.id) {
                Some(row) => format!("工单 #{} {} 载入中 · loading", self.id, row.title),
                None => format!("工单 #{} 载入中 · loading", self.id),
            };
            Paragraph::new(Span::styled(what, theme.muted()))
                .block(block)
                .render(area, buf);
            return;
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused))
            .title(Span::styled(
                // A long title is cut with `…`, a column short of the corner.
                title_fit(&format!(" #{} {} ", t.id, t.title), area.width),
                theme.title(),
            ));
        let lines = self.lines(t, ctx, area.width.saturating_sub(2) as usize);
        self.page = area.height.saturating_sub(2);
        let max_scroll = (lines.len() as u16).saturating_sub(self.page);
        self.scroll = self.scroll.min(max_scroll);
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((self.scroll, 0))
            .block(block)
            .render(area, buf);
    }

    /// The pane's rows; free text is wrapped here, to `width`, so Chinese breaks where a
    /// reader expects and the scroll range counts the rows really drawn.
    fn lines<'a>(&self, t: &'a TicketView, ctx: &Ctx<'_>, width: usize) -> Vec<Line<'a>> {
        let wrapped = |text: &str, indent: &'static str| -> Vec<String> {
            crate::display::wrap_text(text, width.saturating_sub(indent.len()))
                .into_iter()
                .map(|row| format!("{indent}{row}"))
                .collect()
        };
        let theme = ctx.theme;
        let label = |s: &'static str| Span::styled(s, theme.muted());
        let mut out = vec![
            Line::from(vec![
                label("状态 "),
                Span::styled(t.status.label_zh(), theme.status(t.status.as_str())),
                Span::raw(
                    t.transfer_to
                        .map(|x| format!(" → {}", x.label_zh()))
                        .unwrap_or_default(),
                ),
                label("  优先级 "),
                Span::styled(t.priority.as_str(), theme.priority(t.priority.as_str())),
                label("  分类 "),
                Span::raw(format!(
                    "{}{}",
                    t.category.label_zh(),
                    t.subcategory
                        .as_deref()
                        .map(|s| format!("/{s}"))
                        .unwrap_or_default()
                )),
            ]),
            Line::from(vec![
                label("系统 "),
                Span::raw(ctx.system_name(&t.system)),
                label("  渠道 "),
                Span::raw(t.channel.as_str()),
                label("  提交人 "),
                Span::raw(t.submitter.as_str()),
                label("  处理人 "),
                Span::raw(t.assignee.as_deref().unwrap_or("-")),
            ]),
            clock_line("响应", &t.sla.first_response, ctx.now, ctx),
            clock_line("解决", &t.sla.resolve, ctx.now, ctx),
        ];
        let c = match &self.revealed {
            Some(full) => MaskedCustomer {
                name: full.name.as_ref().map(|v| v.expose().to_string()),
                account: full.account.as_ref().map(|v| v.expose().to_string()),
                phone: full.phone.as_ref().map(|v| v.expose().to_string()),
                id_number: full.id_number.as_ref().map(|v| v.expose().to_string()),
            },
            None => t.customer.clone(),
        };
        let field = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        out.push(Line::from(vec![
            label("客户 "),
            Span::raw(field(&c.name)),
            label("  账号 "),
            Span::raw(field(&c.account)),
            label("  手机 "),
            Span::raw(field(&c.phone)),
            label("  证件 "),
            Span::raw(field(&c.id_number)),
        ]));
        // Links and an ops script's approval: what the server holds, said here.
        let mut links = Vec::new();
        if let Some(original) = t.links.duplicate_of {
            links.push(format!("重复于 duplicate of #{original}"));
        }
        if let Some(parent) = t.links.parent {
            links.push(format!("父事件 parent #{parent}"));
        }
        if !links.is_empty() {
            out.push(Line::from(vec![
                label("关联 links "),
                Span::styled(links.join("  "), theme.key_hint()),
                label("  (enter 打开 opens)"),
            ]));
        }
        if t.transfer_to == Some(TransferTarget::Ops) {
            let approval = match (&t.script_approved_by, t.script_approved_at) {
                (Some(who), Some(at)) => format!(
                    "已由 {who} 审批 approved by {who} at {}",
                    at.with_timezone(&ctx.tz).format("%Y-%m-%d %H:%M")
                ),
                (Some(who), None) => format!("已由 {who} 审批 approved by {who}"),
                _ => "待第二位处理人审批 awaiting a second handler's approval (Y)".to_string(),
            };
            out.push(Line::from(vec![label("脚本 script "), Span::raw(approval)]));
        }
        let similar = match &self.similar {
            Some(ids) => ids.clone(),
            None => crate::domain::similar::similar(t, ctx.tickets.views()),
        };
        if !similar.is_empty() {
            let ids: Vec<String> = similar.iter().take(5).map(|id| format!("#{id}")).collect();
            out.push(Line::from(vec![
                label("相似 similar "),
                Span::styled(ids.join(" "), theme.key_hint()),
            ]));
        }
        // What was written up from this ticket, then what the knowledge base has on the
        // problem; the KB pane (4) starts from the ticket's title and opens them.
        // One row an article: a title longer than the pane is cut, not wrapped under the label.
        let title_width = width.saturating_sub(14).max(8);
        for a in &self.written_up {
            out.push(Line::from(vec![
                label("写成 written  "),
                Span::styled(
                    crate::display::fit(&format!("#{} {}", a.id, a.title), title_width)
                        .trim_end()
                        .to_string(),
                    theme.text(),
                ),
            ]));
        }
        let related = self
            .related
            .iter()
            .filter(|a| !self.written_up.iter().any(|w| w.id == a.id));
        for (i, a) in related.enumerate() {
            // Later titles line up under the first (the label is 14 columns wide).
            let head = if i == 0 {
                "文章 articles "
            } else {
                "              "
            };
            out.push(Line::from(vec![
                label(head),
                Span::styled(
                    crate::display::fit(&a.title, title_width)
                        .trim_end()
                        .to_string(),
                    theme.text(),
                ),
            ]));
        }
        out.push(Line::from(""));
        out.extend(
            wrapped(&t.description, "")
                .into_iter()
                .map(|l| Line::from(Span::styled(l, theme.text()))),
        );
        if let Some(note) = &t.transfer_note {
            out.push(Line::from(""));
            out.push(Line::from(label("转交说明 hand-off")));
            out.extend(wrapped(note, "").into_iter().map(Line::from));
        }
        if let Some(r) = &t.resolution {
            out.push(Line::from(""));
            out.push(Line::from(label("解决方案 resolution")));
            out.extend(wrapped(r, "").into_iter().map(Line::from));
        }
        if !t.attachments.is_empty() {
            out.push(Line::from(""));
            out.push(Line::from(label("附件 attachments")));
            for a in &t.attachments {
                out.push(Line::from(format!(
                    "  [{}] {} ({} KB, {})",
                    a.id,
                    a.filename,
                    (a.size + 1023) / 1024,
                    a.content_type
                )));
            }
        }
        out.push(Line::from(""));
        out.push(Line::from(label("对话 conversation")));
        match &self.messages {
            None => out.push(Line::from(Span::styled(
                "  加载中 · loading…",
                theme.muted(),
            ))),
            Some(list) if list.is_empty() => out.push(Line::from(Span::styled(
                "  暂无消息 · no messages yet",
                theme.muted(),
            ))),
            Some(list) => {
                for m in list {
                    let when = m
                        .created_at
                        .with_timezone(&ctx.tz)
                        .format("%m-%d %H:%M")
                        .to_string();
                    let who = if m.internal {
                        format!("{} [内部备注 internal]", m.author)
                    } else {
                        m.author.clone()
                    };
                    let style = if m.internal {
                        theme.muted()
                    } else {
                        theme.header()
                    };
                    out.push(Line::from(vec![
                        Span::styled(format!("  {when} "), theme.muted()),
                        Span::styled(who, style),
                    ]));
                    out.extend(wrapped(&m.body, "    ").into_iter().map(Line::from));
                }
            }
        }
        // Writes made here that wait in the outbox, in place, marked as not sent yet.
        for p in ctx.pending_for(t.id) {
            out.push(Line::from(vec![
                Span::styled("  ↑ 待发送 waiting to be sent ", theme.alert("warn")),
                Span::styled(p.label.clone(), theme.muted()),
            ]));
            if let Some(text) = &p.text {
                out.extend(
                    wrapped(text, "    ")
                        .into_iter()
                        .map(|l| Line::from(Span::styled(l, theme.muted()))),
                );
            }
        }
        if let Some(entries) = &self.timeline {
            out.push(Line::from(""));
            out.push(Line::from(label("时间线 timeline")));
            for e in entries {
                let when = chrono::DateTime::parse_from_rfc3339(&e.at)
                    .map(|t| t.with_timezone(&ctx.tz).format("%m-%d %H:%M").to_string())
                    .unwrap_or_else(|_| e.at.clone());
                let what = match (e.detail.get("from"), e.detail.get("to")) {
                    (Some(from), Some(to)) if e.action == "ticket.transitioned" => {
                        format!(
                            "{} → {}",
                            from.as_str().unwrap_or("-"),
                            to.as_str().unwrap_or("-")
                        )
                    }
                    _ => String::new(),
                };
                out.push(Line::from(vec![
                    Span::styled(format!("  {when} "), theme.muted()),
                    Span::raw(format!("{} {} {what}", e.actor, e.action)),
                ]));
            }
        }
        out
    }
}

fn clock_line<'a>(
    name: &'static str,
    clock: &ClockView,
    now: DateTime<Utc>,
    ctx: &Ctx<'_>,
) -> Line<'a> {
    let (left, state) = countdown(&clock.state, clock.due, now);
    let due = clock
        .due
        .with_timezone(&ctx.tz)
        .format("%m-%d %H:%M")
        .to_string();
    let why = clock
        .paused_reason_zh
        .as_deref()
        .map(|r| format!("（{r}）"))
        .unwrap_or_default();
    Line::from(vec![
        Span::styled(format!("{name} "), ctx.theme.muted()),
        Span::styled(left, ctx.theme.sla(state)),
        Span::styled(format!("  截止 {due}{why}"), Style::default()),
    ])
}

/// A border title cut to fit between the corners, with `…` where it was cut.
pub(crate) fn title_fit(title: &str, width: u16) -> String {
    let room = usize::from(width.saturating_sub(4));
    if unicode_width::UnicodeWidthStr::width(title) <= room {
        return title.to_string();
    }
    format!(
        "{} ",
        crate::display::fit(title, room.saturating_sub(1)).trim_end()
    )
}
