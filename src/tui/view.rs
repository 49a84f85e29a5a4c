//! Drawing the whole screen from the [`App`]: the tab bar, the focused pane, the status line
//! with the link state and key hints, toasts, and any overlay. Works from 80×24 up.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Clear, List, ListItem, ListState, Paragraph, StatefulWidget, Widget, Wrap,
};

use super::action::{Action, Context};
use super::app::{App, LinkState, Overlay};
use super::keymap::Lookup;
use super::panes::{Ctx, PaneId, placeholder};
use super::theme::Theme;

pub fn draw(frame: &mut Frame<'_>, app: &mut App, theme: &Theme) {
    render(frame.area(), frame.buffer_mut(), app, theme);
}

/// Renders into a buffer; `draw` and the snapshot tests share it.
pub fn render(area: Rect, buf: &mut Buffer, app: &mut App, theme: &Theme) {
    let [tabs, main, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    render_tabs(tabs, buf, app, theme);
    let ctx = Ctx {
        tickets: &app.tickets,
        systems: &app.systems,
        now: app.now,
        tz: app.tz,
        theme,
    };
    let focused = app.overlay.is_none();
    match app.focus {
        PaneId::Queue => app.queue.render(main, buf, &ctx, focused),
        PaneId::Ticket => match app.detail.as_mut() {
            Some(d) => d.render(main, buf, &ctx, focused),
            None => {
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.border(focused));
                Paragraph::new(Span::styled(
                    "在队列中选择一个工单并按 Enter 打开 · open a ticket from the queue",
                    theme.muted(),
                ))
                .block(block)
                .render(main, buf);
            }
        },
        other => placeholder::render(other, main, buf, theme, focused),
    }
    render_status(status, buf, app, theme);
    render_toasts(main, buf, app, theme);
    match app.overlay.clone() {
        Some(Overlay::Help { scroll }) => render_help(main, buf, app, theme, scroll),
        Some(Overlay::Palette { input, selected }) => {
            render_palette(main, buf, app, theme, &input, selected)
        }
        Some(Overlay::Editor { purpose, text }) => {
            render_editor(main, buf, app, theme, &purpose.title(), &text)
        }
        Some(Overlay::Picker {
            purpose,
            options,
            selected,
        }) => {
            let rect = centered(main, 48, options.len() as u16 + 2);
            Clear.render(rect, buf);
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(true))
                .title(Span::styled(
                    format!(" {} ", purpose.title()),
                    theme.title(),
                ));
            let items: Vec<ListItem<'_>> = options
                .iter()
                .map(|(label, _)| ListItem::new(Span::styled(label.clone(), theme.text())))
                .collect();
            render_list(items, block, selected, rect, buf, theme);
        }
        Some(Overlay::Preview { title, image }) => {
            let rect = centered(
                main,
                main.width.saturating_sub(4),
                main.height.saturating_sub(2),
            );
            Clear.render(rect, buf);
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(true))
                .title(Span::styled(format!(" {title} (esc) "), theme.title()));
            let inner = block.inner(rect);
            block.render(rect, buf);
            image.render(inner, buf, app.colour);
        }
        Some(Overlay::Prompt { purpose, input }) => {
            let line = Line::from(vec![
                Span::styled(purpose.title(), theme.key_hint()),
                Span::styled(input, theme.text()),
                Span::styled("▏", theme.muted()),
            ]);
            Clear.render(status, buf);
            line.render(status, buf);
        }
        Some(Overlay::Filter { input, .. }) => {
            let line = Line::from(vec![
                Span::styled("/", theme.key_hint()),
                Span::styled(input, theme.text()),
                Span::styled("▏", theme.muted()),
            ]);
            Clear.render(status, buf);
            line.render(status, buf);
        }
        None => {}
    }
}

fn render_tabs(area: Rect, buf: &mut Buffer, app: &App, theme: &Theme) {
    // At 80 columns the bilingual titles do not fit: keep the Chinese words.
    let short = area.width < 110;
    let mut spans = Vec::new();
    for (i, pane) in PaneId::ALL.iter().enumerate() {
        let style = if *pane == app.focus {
            theme.selection()
        } else {
            theme.muted()
        };
        let title = if short {
            pane.title().split(' ').next().unwrap_or_default()
        } else {
            pane.title()
        };
        spans.push(Span::styled(format!(" {} {} ", i + 1, title), style));
    }
    Line::from(spans).render(area, buf);
}

fn render_status(area: Rect, buf: &mut Buffer, app: &App, theme: &Theme) {
    let (link, style) = match &app.link {
        LinkState::Connecting => ("连接中 connecting".to_string(), theme.alert("warn")),
        LinkState::Live => ("● 在线 live".to_string(), theme.sla("ok")),
        LinkState::Reconnecting { attempt, .. } => (
            format!("○ 重连 reconnecting ({attempt})"),
            theme.alert("error"),
        ),
        LinkState::Offline { .. } => ("○ 离线 offline".to_string(), theme.alert("error")),
    };
    let mut spans = vec![
        Span::styled(link, style),
        Span::styled(format!(" {}", app.server), theme.muted()),
    ];
    if app.embedded {
        spans.push(Span::styled(" (embedded)", theme.muted()));
    }
    if let Some(me) = &app.me {
        spans.push(Span::styled(format!("  {me}"), theme.text()));
    }
    if app.outbox > 0 {
        spans.push(Span::styled(
            format!("  待发 {} queued", app.outbox),
            theme.alert("warn"),
        ));
    }
    let hint = if app.pending.is_empty() {
        key_hints(app)
    } else {
        match app.keymap.lookup(&app.contexts(), &app.pending) {
            Lookup::Pending(next) => next
                .iter()
                .map(|(k, what)| format!("{k} {what}"))
                .collect::<Vec<_>>()
                .join("  "),
            _ => String::new(),
        }
    };
    spans.push(Span::styled(format!("  {hint}"), theme.key_hint()));
    Line::from(spans).render(area, buf);
}

/// The few keys a handler needs right now, read from the active keymap.
fn key_hints(app: &App) -> String {
    let wanted: &[(Context, Action)] = match app.focus {
        PaneId::Queue => &[
            (Context::Queue, Action::Open),
            (Context::Queue, Action::Filter),
            (Context::Queue, Action::SortNext),
        ],
        PaneId::Ticket => &[(Context::Global, Action::Back)],
        _ => &[],
    };
    let mut hints: Vec<String> = wanted
        .iter()
        .chain(
            [
                (Context::Global, Action::Help),
                (Context::Global, Action::Quit),
            ]
            .iter(),
        )
        .filter_map(|(ctx, action)| {
            let keys = app.keymap.keys_for(*ctx, *action);
            let keys = if keys.is_empty() && *ctx != Context::Global {
                app.keymap.keys_for(Context::Global, *action)
            } else {
                keys
            };
            keys.first().map(|k| format!("{k} {}", action.name()))
        })
        .collect();
    hints.dedup();
    hints.join("  ")
}

/// Toasts stack at the top right, newest first. An error keeps up to three rows, so a refusal
/// (a version conflict, say) is read whole even at 80 columns; other toasts keep one.
fn render_toasts(area: Rect, buf: &mut Buffer, app: &App, theme: &Theme) {
    let mut y = area.y + 1;
    for toast in app.toasts.iter().rev() {
        let long = toast.error && unicode_width::UnicodeWidthStr::width(toast.text.as_str()) > 60;
        let (cap, rows) = if long { (76, 3) } else { (60, 1) };
        let width = area.width.saturating_sub(4).min(cap);
        if width < 10 {
            break;
        }
        for row in crate::display::wrap(&toast.text, width as usize, rows) {
            if y + 1 >= area.bottom() {
                return;
            }
            let rect = Rect {
                x: area.right().saturating_sub(width + 2),
                y,
                width,
                height: 1,
            };
            Clear.render(rect, buf);
            Line::from(Span::styled(row, theme.toast(toast.error))).render(rect, buf);
            y += 1;
        }
    }
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn render_help(area: Rect, buf: &mut Buffer, app: &App, theme: &Theme, scroll: u16) {
    let rect = centered(area, 72, area.height.saturating_sub(2));
    Clear.render(rect, buf);
    let mut lines = Vec::new();
    for ctx in [app.focus.context(), Context::Global] {
        lines.push(Line::from(Span::styled(
            format!("[{}]", ctx.name()),
            theme.header(),
        )));
        for (keys, action) in app.keymap.bindings(ctx) {
            if action == Action::Noop {
                continue;
            }
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {}", crate::display::fit(&keys, 12)),
                    theme.key_hint(),
                ),
                Span::styled(format!("{:<16}", action.name()), theme.text()),
                Span::styled(action.about(), theme.muted()),
            ]));
        }
        lines.push(Line::from(""));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(" 按键 Keys (esc to close) ", theme.title()));
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0))
        .block(block)
        .render(rect, buf);
}

/// The multi-line editor: the text as typed (CJK from the terminal's input method arrives as
/// characters), a cursor at the end, and how to send or discard.
fn render_editor(area: Rect, buf: &mut Buffer, app: &App, theme: &Theme, title: &str, text: &str) {
    let height = (area.height * 2 / 3).max(8);
    let rect = Rect {
        x: area.x + 1,
        y: area.bottom().saturating_sub(height),
        width: area.width.saturating_sub(2),
        height: height.min(area.height),
    };
    Clear.render(rect, buf);
    let keys = |a: Action| {
        app.keymap
            .keys_for(Context::Editor, a)
            .first()
            .cloned()
            .unwrap_or_else(|| "-".into())
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(format!(" {title} "), theme.title()))
        .title_bottom(Line::from(Span::styled(
            format!(
                " {} 发送 send · {} 放弃 cancel · {} 常用回复 canned ",
                keys(Action::Submit),
                keys(Action::Cancel),
                keys(Action::CannedReply)
            ),
            theme.key_hint(),
        )));
    let mut lines: Vec<Line<'_>> = text
        .split('\n')
        .map(|l| Line::from(Span::styled(l.to_string(), theme.text())))
        .collect();
    if let Some(last) = lines.last_mut() {
        last.push_span(Span::styled("▏", theme.muted()));
    }
    // Keep the end of the text, where the cursor is, in view.
    let inner = rect.height.saturating_sub(2) as usize;
    let skip = lines.len().saturating_sub(inner) as u16;
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((skip, 0))
        .block(block)
        .render(rect, buf);
}

fn render_palette(
    area: Rect,
    buf: &mut Buffer,
    app: &App,
    theme: &Theme,
    input: &str,
    selected: usize,
) {
    let rect = centered(area, 64, 14);
    Clear.render(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(format!(" : {input}▏"), theme.title()));
    let items: Vec<ListItem<'_>> = app
        .palette_matches(input)
        .into_iter()
        .map(|a| {
            ListItem::new(Line::from(vec![
                Span::styled(format!("{:<18}", a.name()), theme.text()),
                Span::styled(a.about(), theme.muted()),
            ]))
        })
        .collect();
    render_list(items, block, selected, rect, buf, theme);
}

/// A list in a box with its selected row highlighted (pickers and the palette).
fn render_list(
    items: Vec<ListItem<'_>>,
    block: Block<'_>,
    selected: usize,
    rect: Rect,
    buf: &mut Buffer,
    theme: &Theme,
) {
    let mut state = ListState::default().with_selected(Some(selected));
    StatefulWidget::render(
        List::new(items)
            .block(block)
            .highlight_style(theme.selection()),
        rect,
        buf,
        &mut state,
    );
}
