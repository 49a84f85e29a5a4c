//! Drawing the whole screen from the [`App`]: the tab bar, the focused pane, the status line
//! with the link state and the pane's key hints, toasts, and any overlay. Works from 80×24 up.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use super::action::{Action, Context};
use super::app::{App, GLOBAL_COMMANDS, LinkState};
use super::keymap::Lookup;
use super::overlay::{self, Look};
use super::panes::{Command, Ctx};
use super::theme::Theme;

/// From this many columns, panes that pair up (the queue and the ticket) are drawn side by side.
pub const SIDE_BY_SIDE: u16 = 120;

pub fn draw(frame: &mut Frame<'_>, app: &mut App, theme: &Theme) {
    // The terminal's own cursor stands where typed text goes; hidden everywhere else.
    if let Some(at) = render(frame.area(), frame.buffer_mut(), app, theme) {
        frame.set_cursor_position(at);
    }
}

/// Renders into a buffer; `draw` and the snapshot tests share it. Returns where the terminal
/// cursor belongs while text is edited.
pub fn render(area: Rect, buf: &mut Buffer, app: &mut App, theme: &Theme) -> Option<Position> {
    let [tabs, main, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    render_tabs(tabs, buf, app, theme);
    let focused = app.overlay.is_none();
    // Wide enough, the list and the ticket stand side by side; the focused one has the bright
    // border.
    let pair = app
        .focused()
        .beside()
        .filter(|_| main.width >= SIDE_BY_SIDE);
    match pair {
        Some((left, right)) => {
            let [l, r] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(main);
            let focus = app.focus();
            for (id, area) in [(left, l), (right, r)] {
                if let Some((pane, desk)) = app.pane_with_desk(id) {
                    let ctx = Ctx { desk, theme };
                    pane.render(area, buf, &ctx, focused && id == focus);
                }
            }
        }
        None => {
            // The pane renders with the shared desk; both live in the app.
            if let Some((pane, desk)) = app.pane_with_desk(app.focus()) {
                let ctx = Ctx { desk, theme };
                pane.render(main, buf, &ctx, focused);
            }
        }
    }
    render_status(status, buf, app, theme);
    render_toasts(main, buf, app, theme);
    if let Some(input) = app.focused().input().filter(|_| app.overlay.is_none()) {
        overlay::prompt_line(input.prompt, input.text, status, buf, theme);
    }
    app.overlay.as_ref()?;
    let pane_commands = app.focused().commands();
    let pane_context = app.focused().context();
    let palette = match &app.overlay {
        Some(overlay::Overlay::Palette { input, .. }) => app.palette_matches(input),
        _ => Vec::new(),
    };
    let App {
        overlay,
        keymap,
        desk,
        ..
    } = app;
    let o = overlay.as_mut()?;
    let look = Look {
        keymap,
        theme,
        pane_context,
        pane_commands: &pane_commands,
        global_commands: GLOBAL_COMMANDS,
        palette: &palette,
        colour: desk.colour,
    };
    overlay::render(o, main, status, buf, &look)
}

fn render_tabs(area: Rect, buf: &mut Buffer, app: &App, theme: &Theme) {
    // At 80 columns the bilingual titles do not fit: keep the Chinese words.
    let short = area.width < 110;
    let mut spans = Vec::new();
    for (i, pane) in app.panes().enumerate() {
        let style = if pane.id() == app.focus() {
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
        LinkState::Refused { .. } => (
            "✗ 令牌被拒绝 token refused: opsdesk admin user token <name>".to_string(),
            theme.alert("error"),
        ),
    };
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
    // What matters most first: the link, waiting writes, the keys; who and where only when
    // they fit (at 80 columns the keys, `? help` among them, win over the server's address).
    let width = |s: &str| unicode_width::UnicodeWidthStr::width(s);
    let mut spans = vec![Span::styled(link.clone(), style)];
    let mut used = width(&link);
    if app.outbox > 0 {
        let queued = format!("  待发 {} queued", app.outbox);
        used += width(&queued);
        spans.push(Span::styled(queued, theme.alert("warn")));
    }
    if let Some((notice, _)) = &app.notice {
        let notice = format!("  {notice}");
        used += width(&notice);
        spans.push(Span::styled(notice, theme.alert("error")));
    }
    let hint = format!("  {hint}");
    used += width(&hint);
    let me = app
        .desk
        .me
        .as_ref()
        .map(|me| format!("  {me}"))
        .unwrap_or_default();
    let server = format!(
        "  {}{}",
        app.server,
        if app.embedded { " (embedded)" } else { "" }
    );
    let room = area.width as usize;
    let show_me = used + width(&me) <= room;
    let show_server = show_me && used + width(&me) + width(&server) <= room;
    if show_server {
        spans.push(Span::styled(server, theme.muted()));
    }
    if show_me {
        spans.push(Span::styled(me, theme.text()));
    }
    spans.push(Span::styled(hint, theme.key_hint()));
    Line::from(spans).render(area, buf);
}

/// The few keys a handler needs right now: the focused pane's hinted commands, then help and
/// quit, each with its handiest key that really does it here in the active keymap.
fn key_hints(app: &App) -> String {
    let pane = app.focused();
    let stack = [pane.context(), Context::Global];
    let wanted: Vec<(Context, Command)> = pane
        .commands()
        .into_iter()
        .map(|c| (pane.context(), c))
        .chain(GLOBAL_COMMANDS.iter().map(|c| (Context::Global, *c)))
        .filter(|(_, c)| c.hint)
        .collect();
    let mut hints: Vec<String> = wanted
        .iter()
        .filter_map(|(ctx, c)| {
            let action: Action = c.action;
            let keys = app.keymap.effective_keys(&stack, *ctx, action);
            let keys = if keys.is_empty() && *ctx != Context::Global {
                app.keymap.effective_keys(&stack, Context::Global, action)
            } else {
                keys
            };
            keys.first().map(|k| format!("{k} {}", action.name()))
        })
        .collect();
    hints.dedup();
    hints.join("  ")
}

/// Toasts stack at the bottom right, newest lowest, over the rows a sorted list puts last (the
/// most urgent rows are at the top). An error keeps up to three rows, so a refusal (a version
/// conflict, say) is read whole even at 80 columns; other toasts keep one. Everything said is
/// also in the message log (`:messages`).
fn render_toasts(area: Rect, buf: &mut Buffer, app: &App, theme: &Theme) {
    let mut rows_out: Vec<(String, bool, u16)> = Vec::new();
    for toast in app.toasts.iter().rev() {
        let long = toast.error && unicode_width::UnicodeWidthStr::width(toast.text.as_str()) > 60;
        let (cap, rows) = if long { (76, 3) } else { (60, 1) };
        let width = area.width.saturating_sub(4).min(cap);
        if width < 10 {
            break;
        }
        let wrapped = crate::display::wrap(&toast.text, width as usize, rows);
        for row in wrapped.into_iter().rev() {
            rows_out.push((row, toast.error, width));
        }
    }
    // From the bottom border up; never onto the pane's title or header rows.
    let mut y = area.bottom().saturating_sub(2);
    for (row, error, width) in rows_out {
        if y < area.y + 3 {
            return;
        }
        let rect = Rect {
            x: area.right().saturating_sub(width + 2),
            y,
            width,
            height: 1,
        };
        Clear.render(rect, buf);
        overlay::clear_wide_edges(rect, buf);
        Line::from(Span::styled(row, theme.toast(error))).render(rect, buf);
        y -= 1;
    }
}

/// Spans cut to `width` columns, the last one cut with `…`: one line of a pane's table.
pub fn fit_spans(spans: Vec<Span<'static>>, width: usize) -> Line<'static> {
    let mut left = width;
    let mut out = Vec::new();
    for s in spans {
        if left == 0 {
            break;
        }
        let wide = unicode_width::UnicodeWidthStr::width(s.content.as_ref());
        let text = if wide > left {
            crate::display::fit(&s.content, left)
        } else {
            s.content.to_string()
        };
        left = left.saturating_sub(wide.min(left));
        out.push(Span::styled(text, s.style));
    }
    Line::from(out)
}
