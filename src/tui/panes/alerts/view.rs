//! The Alerts pane on screen. The alerts: one row each (state in its colour and mark, number,
//! monitor, how long it has fired, evaluations, anomalous rows, incident, a silence), and the
//! selected one close up, to the right from 110 columns, else under the list. The monitors:
//! one row each (latest outcome, name, rule, schedule, next run, open alert; a refused file
//! with why), and the selected one with its evaluations.
//!
//! The close-up goes beside the list only on a very wide terminal: its anomalous rows are a
//! table of five or so columns that needs the whole width of a 120-column screen, which has
//! the height to stack the two instead.
//!
//! Colour never carries meaning alone: every state has its mark (● ◐ ✓ ✗) and its word. Every
//! text from the server is terminal-safe already (the client scrubs it); cells are cut to
//! their column so a long one never pushes the rest off the row.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

use super::{AlertsPane, Detail, View};
use crate::api::monitors::LinkedTicket;
use crate::api::monitors::{
    Alert, AlertDetail, AlertState, EvaluationRecord, MonitorInfo, Outcome,
};
use crate::display::{fit, wrap_text};
use crate::tui::panes::Ctx;
use crate::tui::theme::Theme;
use crate::tui::view::fit_spans;

/// From this width the close-up stands beside the list (see the module doc).
const SIDE_BY_SIDE: usize = 160;

/// Draws the pane; the rows a page of its list is, and how far the close-up in view scrolls.
pub fn render(
    pane: &AlertsPane,
    area: Rect,
    buf: &mut Buffer,
    ctx: &Ctx<'_>,
    focused: bool,
) -> (usize, Option<u16>) {
    let theme = ctx.theme;
    let title = match pane.view {
        View::Alerts => {
            let acked = pane
                .alerts
                .iter()
                .filter(|a| a.state == AlertState::Acknowledged)
                .count();
            format!(
                " 告警 Alerts · {} 告警中 firing · {acked} 已确认 acknowledged ",
                pane.firing()
            )
        }
        View::Monitors => format!(" 告警 Alerts · 监控 monitors ({}) ", pane.monitors().len()),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(
            cut(&title, area.width.saturating_sub(2) as usize),
            theme.title(),
        ));
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.width < 10 || inner.height < 3 {
        return (1, None);
    }
    let (list, close, rule) = split(pane, inner);
    if let Some(rule) = rule {
        draw_rule(rule, buf, theme);
    }
    match pane.view {
        View::Alerts => {
            let page = alerts_list(pane, list, buf, ctx);
            let selected = pane.selected();
            let detail = selected.and_then(|a| pane.detail.as_ref().filter(|d| d.id == a.id));
            let last = selected.and_then(|a| close_up(a, detail, pane.reading, close, buf, ctx));
            (page, last)
        }
        View::Monitors => {
            let page = monitors_list(pane, list, buf, ctx);
            if let Some(m) = pane.selected_monitor() {
                let history = pane.history.as_ref().filter(|h| h.name == m.name);
                monitor_close_up(m, history, close, buf, ctx);
            }
            (page, None)
        }
    }
}

/// The list's area, the close-up's, and the rule between them.
fn split(pane: &AlertsPane, area: Rect) -> (Rect, Rect, Option<Rect>) {
    let nothing = match pane.view {
        View::Alerts => pane.alerts.is_empty(),
        View::Monitors => pane.monitors().is_empty(),
    };
    if nothing {
        // Loading, refused or empty: the list says so on the whole pane.
        return (area, Rect::default(), None);
    }
    if area.width as usize >= SIDE_BY_SIDE {
        let [left, rule, right] = Layout::horizontal([
            Constraint::Percentage(50),
            Constraint::Length(1),
            Constraint::Min(10),
        ])
        .areas(area);
        return (left, right, Some(rule));
    }
    let rows = match pane.view {
        View::Alerts => pane.alerts.len(),
        View::Monitors => pane.monitors().len(),
    };
    // The heading, the rows; reading a close-up, the list gives it the room.
    let wanted = (rows.max(1) + 1) as u16;
    let most = if pane.reading && pane.view == View::Alerts && area.height < 30 {
        4
    } else {
        (area.height * 2 / 5).max(4)
    };
    let list = wanted.min(most).min(area.height.saturating_sub(3));
    let [top, rule, bottom] = Layout::vertical([
        Constraint::Length(list),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    (top, bottom, Some(rule))
}

fn draw_rule(area: Rect, buf: &mut Buffer, theme: &Theme) {
    let glyph = if area.width == 1 { "│" } else { "─" };
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            buf[(x, y)].set_symbol(glyph).set_style(theme.border(false));
        }
    }
}

// ----- pieces

pub fn state_zh(state: AlertState) -> &'static str {
    match state {
        AlertState::Firing => "告警中",
        AlertState::Acknowledged => "已确认",
        AlertState::Resolved => "已解决",
    }
}

pub fn state_mark(state: AlertState) -> &'static str {
    match state {
        AlertState::Firing => "●",
        AlertState::Acknowledged => "◐",
        AlertState::Resolved => "✓",
    }
}

/// Firing reads as an error, acknowledged as a warning, resolved dim.
pub fn state_style(state: AlertState, theme: &Theme) -> Style {
    match state {
        AlertState::Firing => theme.alert("error"),
        AlertState::Acknowledged => theme.alert("warn"),
        AlertState::Resolved => theme.muted(),
    }
}

fn outcome_look(outcome: Outcome, theme: &Theme) -> (&'static str, &'static str, Style) {
    match outcome {
        Outcome::Ok => ("✓", "正常 ok", theme.sla("met")),
        Outcome::Firing => ("●", "告警 firing", theme.alert("error")),
        Outcome::Error => ("✗", "出错 error", theme.alert("warn")),
    }
}

/// `3m ago`.
fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds().max(0);
    format!("{} ago", crate::display::duration(secs))
}

fn local(at: DateTime<Utc>, zone: chrono_tz::Tz, format: &str) -> String {
    at.with_timezone(&zone).format(format).to_string()
}

/// The time alone on the day of `now`, else with the date.
fn same_day(at: DateTime<Utc>, now: DateTime<Utc>, zone: chrono_tz::Tz) -> &'static str {
    if at.with_timezone(&zone).date_naive() == now.with_timezone(&zone).date_naive() {
        "%H:%M"
    } else {
        "%m-%d %H:%M"
    }
}

fn value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn width_of(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// `text` as it is when it fits in `width` columns, else cut with `…` (not padded).
fn cut(text: &str, width: usize) -> String {
    if width_of(text) <= width {
        text.to_string()
    } else {
        fit(text, width).trim_end().to_string()
    }
}

/// `text` wrapped to `width`, at most `rows` rows (the last cut with `…` when more remains).
fn said(text: &str, width: usize, rows: usize, style: Style) -> Vec<Line<'static>> {
    let mut all = wrap_text(text, width);
    if all.len() > rows {
        all.truncate(rows);
        if let Some(last) = all.last_mut() {
            *last = fit(&format!("{last}…"), width);
        }
    }
    all.into_iter()
        .map(|row| Line::from(Span::styled(row, style)))
        .collect()
}

fn heading(text: String, width: usize, theme: &Theme) -> Line<'static> {
    fit_spans(vec![Span::styled(text, theme.header())], width)
}

/// The first row of a list of `count` rows in `room` rows that keeps row `at` in sight.
fn first_row(at: usize, count: usize, room: usize) -> usize {
    at.saturating_sub(room.saturating_sub(1))
        .min(count.saturating_sub(room))
}

// ----- the alerts

/// Column widths of an alert row at `width`: the monitor takes what the rest leaves, up to a
/// point; the title what is left after it.
struct Columns {
    monitor: usize,
    title: usize,
}

impl Columns {
    /// mark+state, number, age, evaluations, rows, incident, silence: the fixed columns.
    const FIXED: usize = 9 + 6 + 10 + 5 + 5 + 7 + 5;

    fn at(width: usize) -> Columns {
        let monitor = width.saturating_sub(Self::FIXED).clamp(8, 24);
        let title = width.saturating_sub(Self::FIXED + monitor);
        Columns {
            monitor,
            title: if title >= 12 { title } else { 0 },
        }
    }
}

fn alerts_list(pane: &AlertsPane, area: Rect, buf: &mut Buffer, ctx: &Ctx<'_>) -> usize {
    let theme = ctx.theme;
    let width = area.width as usize;
    let cols = Columns::at(width);
    let mut lines = Vec::new();
    if !pane.loaded {
        lines.push(match &pane.problem {
            Some(why) => fit_spans(
                vec![Span::styled(
                    format!("未能载入告警 could not load the alerts: {why} · R 重试 retry"),
                    theme.toast(true),
                )],
                width,
            ),
            None => Line::from(Span::styled("载入中 loading…", theme.muted())),
        });
        Paragraph::new(lines).render(area, buf);
        return 1;
    }
    if pane.alerts.is_empty() {
        let mut lines = vec![
            Line::from(Span::styled("没有告警 no alerts", theme.title())),
            Line::from(""),
        ];
        lines.extend(said(
            "监控在服务器上按计划运行，发现异常即在此告警。m 查看监控列表与最近的评估；命令行 opsdesk monitor list · the monitors run on the server's schedule and raise alerts here: m shows them and their evaluations (or opsdesk monitor list)",
            width,
            4,
            theme.muted(),
        ));
        if let Some(why) = &pane.problem {
            lines.extend(said(
                &format!("未能刷新 could not refresh: {why}"),
                width,
                2,
                theme.toast(true),
            ));
        }
        Paragraph::new(lines).render(area, buf);
        return 1;
    }
    lines.push(fit_spans(
        vec![Span::styled(
            format!(
                "{}{}{}{}{}{}{}{}",
                fit("状态", 9),
                fit("#", 6),
                fit("监控 monitor", cols.monitor),
                fit(" 持续 age", 10),
                fit(" 次 n", 5),
                fit(" 行", 5),
                fit("事件单", 7),
                if cols.title > 0 {
                    "     标题 title"
                } else {
                    ""
                },
            ),
            theme.header(),
        )],
        width,
    ));
    let room = (area.height as usize).saturating_sub(1).max(1);
    let first = first_row(pane.at, pane.alerts.len(), room);
    for (i, a) in pane.alerts.iter().enumerate().skip(first).take(room) {
        lines.push(alert_row(a, i == pane.at, &cols, width, ctx.now, theme));
    }
    Paragraph::new(lines).render(area, buf);
    room
}

fn alert_row(
    a: &Alert,
    selected: bool,
    cols: &Columns,
    width: usize,
    now: DateTime<Utc>,
    theme: &Theme,
) -> Line<'static> {
    let base = if selected {
        theme.selection()
    } else {
        theme.text()
    };
    let muted = if selected { base } else { theme.muted() };
    let state = if selected {
        base
    } else {
        state_style(a.state, theme)
    };
    let incident = a.ticket_id.map(|t| format!("#{t}")).unwrap_or_default();
    let silenced = a.silenced_until.is_some_and(|until| until > now);
    let mut spans = vec![
        Span::styled(
            format!("{} {} ", state_mark(a.state), fit(state_zh(a.state), 6)),
            state,
        ),
        Span::styled(fit(&format!("#{}", a.id), 6), base),
        Span::styled(fit(&a.monitor, cols.monitor), base),
        Span::styled(format!("{:>9} ", ago(a.first_at, now)), muted),
        Span::styled(fit(&format!("×{}", a.evaluations), 5), base),
        Span::styled(fit(&format!("{}行", a.rows), 5), muted),
        Span::styled(fit(&incident, 7), base),
        Span::styled(
            fit(if silenced { "静默" } else { "" }, 5),
            if selected { base } else { theme.alert("warn") },
        ),
    ];
    if cols.title > 0 {
        spans.push(Span::styled(fit(&a.title, cols.title), muted));
    }
    let line = fit_spans(spans, width);
    if selected {
        // The whole row reads as selected, to the edge.
        let used = line.width();
        let mut spans = line.spans;
        spans.push(Span::styled(" ".repeat(width.saturating_sub(used)), base));
        return Line::from(spans);
    }
    line
}

/// The selected alert close up: what the list knows at once, the rows and tickets once
/// fetched (`enter`).
fn close_up(
    a: &Alert,
    detail: Option<&Detail>,
    reading: bool,
    area: Rect,
    buf: &mut Buffer,
    ctx: &Ctx<'_>,
) -> Option<u16> {
    let theme = ctx.theme;
    let width = area.width as usize;
    let (zone, now) = (ctx.tz, ctx.now);
    let mut lines = vec![fit_spans(
        vec![
            Span::styled(format!("#{} ", a.id), theme.title()),
            Span::styled(
                format!(
                    "{} {} {} ",
                    state_mark(a.state),
                    state_zh(a.state),
                    a.state.as_str()
                ),
                state_style(a.state, theme),
            ),
            Span::styled(format!("· {} · ", a.monitor), theme.muted()),
            Span::styled(a.title.clone(), theme.text()),
        ],
        width,
    )];
    lines.extend(said(&a.summary, width, 3, theme.text()));
    let mut facts = vec![Span::styled(
        format!(
            "首次 first {} ({}) · 最近 last {} ({}) · 评估 ×{}",
            local(a.first_at, zone, same_day(a.first_at, now, zone)),
            ago(a.first_at, now),
            local(a.last_at, zone, "%H:%M"),
            ago(a.last_at, now),
            a.evaluations,
        ),
        theme.muted(),
    )];
    if let Some(v) = a.value {
        facts.push(Span::styled(
            format!(" · 值 value {}", value(v)),
            theme.muted(),
        ));
    }
    lines.push(fit_spans(facts, width));
    let mut who = Vec::new();
    if let (Some(by), Some(at)) = (&a.acknowledged_by, a.acknowledged_at) {
        who.push(Span::styled(
            format!("已确认 acked {by} {} ", local(at, zone, "%H:%M")),
            theme.alert("warn"),
        ));
    }
    if let Some(until) = a.silenced_until.filter(|u| *u > now) {
        let by = a.silenced_by.as_deref().unwrap_or("-");
        who.push(Span::styled(
            format!(
                "静默至 silenced until {} ({by}) ",
                local(until, zone, "%m-%d %H:%M")
            ),
            theme.alert("warn"),
        ));
    }
    if let Some(at) = a.resolved_at {
        let by = a
            .resolved_by
            .as_deref()
            .unwrap_or("监控恢复 the monitor found it cleared");
        who.push(Span::styled(
            format!("已解决 resolved {by} {} ", local(at, zone, "%m-%d %H:%M")),
            theme.muted(),
        ));
    }
    if !who.is_empty() {
        lines.push(fit_spans(who, width));
    }
    lines.push(match a.ticket_id {
        Some(t) => fit_spans(
            vec![
                Span::styled("事件单 incident ", theme.muted()),
                Span::styled(format!("#{t}"), theme.title()),
                Span::styled(" · o 打开 open", theme.muted()),
            ],
            width,
        ),
        None => fit_spans(
            vec![Span::styled(
                "事件单 incident: 无 none · t 开事件单 open one",
                theme.muted(),
            )],
            width,
        ),
    });
    let fixed = lines.len();
    let body = match detail {
        Some(d) => detail_body(a, d, width, theme),
        None => vec![fit_spans(
            vec![Span::styled(
                "enter 载入异常行与关联工单 · load the rows and the tickets",
                theme.key_hint(),
            )],
            width,
        )],
    };
    // The facts stay; the rows and tickets scroll under them.
    let room = (area.height as usize).saturating_sub(fixed);
    let last = body.len().saturating_sub(room);
    let scroll = detail.map_or(0, |d| d.scroll as usize).min(last);
    lines.extend(body.into_iter().skip(scroll).take(room));
    if scroll < last
        && reading
        && let Some(row) = lines.last_mut()
    {
        *row = Line::from(Span::styled(
            fit("… j 下移 more below", width),
            theme.muted(),
        ));
    }
    Paragraph::new(lines).render(area, buf);
    detail.map(|_| last.min(u16::MAX as usize) as u16)
}

fn detail_body(a: &Alert, d: &Detail, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(why) = &d.problem {
        lines.extend(said(
            &format!("未能载入 could not load alert #{}: {why}", d.id),
            width,
            3,
            theme.toast(true),
        ));
    }
    let Some(data) = &d.data else {
        if d.loading {
            lines.push(Line::from(Span::styled("载入中 loading…", theme.muted())));
        }
        return lines;
    };
    lines.extend(rows_table(data, width, theme));
    if a.ticket_id.is_some() {
        lines.push(heading(
            format!("关联工单 linked tickets ({})", data.linked.len()),
            width,
            theme,
        ));
        if data.linked.is_empty() {
            lines.push(Line::from(Span::styled("  无 none", theme.muted())));
        }
        for t in &data.linked {
            lines.push(ticket_row(t, width, theme));
        }
        lines.push(heading(
            format!(
                "可关联 candidates ({}) · l 关联 link",
                data.candidates.len()
            ),
            width,
            theme,
        ));
        if data.candidates.is_empty() {
            lines.push(Line::from(Span::styled("  无 none", theme.muted())));
        }
        for t in &data.candidates {
            lines.push(ticket_row(t, width, theme));
        }
    }
    // Without an incident there is nothing to link to: the line above says `t` opens one.
    lines
}

/// The anomalous rows as a table, cut to the width; masked unless revealed.
fn rows_table(data: &AlertDetail, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let (how, style) = if data.revealed {
        ("完整显示 in full (已审计 audited)", theme.alert("warn"))
    } else {
        ("已遮蔽 masked · v 查看完整 reveal", theme.muted())
    };
    let mut lines = vec![fit_spans(
        vec![
            Span::styled(
                format!("异常行 anomalous rows ({}) ", data.rows.len()),
                theme.header(),
            ),
            Span::styled(how, style),
        ],
        width,
    )];
    if data.rows.is_empty() {
        lines.push(Line::from(Span::styled("  无 none", theme.muted())));
        return lines;
    }
    for (i, row) in table(&data.columns, &data.rows, width)
        .into_iter()
        .enumerate()
    {
        let look = if i == 0 { theme.muted() } else { theme.text() };
        lines.push(Line::from(Span::styled(row, look)));
    }
    lines
}

/// Rows of cells as aligned lines in `width` columns, the header first: each column as wide
/// as its widest cell, the widest ones narrowed (cells cut with `…`) until the row fits.
fn table(columns: &[String], rows: &[Vec<Option<String>>], width: usize) -> Vec<String> {
    const NARROWEST: usize = 6;
    const GAP: usize = 2;
    let cell = |v: Option<&Option<String>>| match v {
        Some(Some(text)) => text.clone(),
        _ => "NULL".to_string(),
    };
    let mut widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            rows.iter()
                .map(|r| width_of(&cell(r.get(i))))
                .chain([width_of(name)])
                .max()
                .unwrap_or(0)
                .min(40)
        })
        .collect();
    let total = |w: &[usize]| w.iter().sum::<usize>() + GAP * w.len().saturating_sub(1);
    while total(&widths) > width {
        let Some(widest) = widths
            .iter_mut()
            .filter(|w| **w > NARROWEST)
            .max_by_key(|w| **w)
        else {
            break;
        };
        *widest -= 1;
    }
    let line = |cells: Vec<String>| {
        let joined = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| fit(c, *w))
            .collect::<Vec<_>>()
            .join(&" ".repeat(GAP));
        cut(joined.trim_end(), width)
    };
    std::iter::once(line(columns.to_vec()))
        .chain(
            rows.iter()
                .map(|r| line((0..columns.len()).map(|i| cell(r.get(i))).collect())),
        )
        .collect()
}

fn ticket_row(t: &LinkedTicket, width: usize, theme: &Theme) -> Line<'static> {
    let mut spans = vec![
        Span::styled(format!("  #{} ", t.id), theme.title()),
        Span::styled(
            format!("[{}] ", t.status.label_zh()),
            theme.status(t.status.as_str()),
        ),
        Span::styled(format!("{} ", t.title), theme.text()),
        Span::styled(t.submitter.clone(), theme.muted()),
    ];
    if let Some(m) = &t.matched {
        spans.push(Span::styled(format!(" · 匹配 {m}"), theme.muted()));
    }
    fit_spans(spans, width)
}

// ----- the monitors

fn monitors_list(pane: &AlertsPane, area: Rect, buf: &mut Buffer, ctx: &Ctx<'_>) -> usize {
    let theme = ctx.theme;
    let width = area.width as usize;
    let list = match &pane.monitors {
        None => {
            Paragraph::new(Line::from(Span::styled("载入中 loading…", theme.muted())))
                .render(area, buf);
            return 1;
        }
        Some(Err(why)) => {
            Paragraph::new(said(
                &format!("未能列出监控 could not list the monitors: {why} · R 重试 retry"),
                width,
                3,
                theme.toast(true),
            ))
            .render(area, buf);
            return 1;
        }
        Some(Ok(list)) => list,
    };
    if list.is_empty() {
        Paragraph::new(said(
            "没有监控 no monitors: 服务器的 monitors_dir 里放监控文件 · put monitor files in the server's monitors_dir (opsdesk monitor check)",
            width,
            3,
            theme.muted(),
        ))
        .render(area, buf);
        return 1;
    }
    let name_width = width.saturating_sub(2 + 13 + 13 + 12 + 14 + 6).clamp(8, 24);
    let mut lines = vec![fit_spans(
        vec![Span::styled(
            format!(
                "  {}{}{}{}{}{}",
                fit("监控 monitor", name_width),
                fit(" 规则 kind", 13),
                fit(" 计划 cron", 13),
                fit(" 下次 next", 12),
                fit(" 最近 last", 14),
                " 告警"
            ),
            theme.header(),
        )],
        width,
    )];
    let room = (area.height as usize).saturating_sub(1).max(1);
    let first = first_row(pane.monitor_at, list.len(), room);
    for (i, m) in list.iter().enumerate().skip(first).take(room) {
        lines.push(monitor_row(m, i == pane.monitor_at, name_width, width, ctx));
    }
    Paragraph::new(lines).render(area, buf);
    room
}

fn monitor_row(
    m: &MonitorInfo,
    selected: bool,
    name_width: usize,
    width: usize,
    ctx: &Ctx<'_>,
) -> Line<'static> {
    let theme = ctx.theme;
    let base = if selected {
        theme.selection()
    } else {
        theme.text()
    };
    let muted = if selected { base } else { theme.muted() };
    let mut spans = Vec::new();
    if let Some(why) = &m.error {
        spans.push(Span::styled(
            "✗ ",
            if selected { base } else { theme.alert("error") },
        ));
        spans.push(Span::styled(fit(&m.name, name_width), base));
        spans.push(Span::styled(
            format!(" 被拒绝 refused: {why}"),
            if selected { base } else { theme.alert("error") },
        ));
    } else {
        let (mark, word, style) = match &m.last {
            Some(e) => outcome_look(e.outcome, theme),
            None => ("·", "未运行 never", theme.muted()),
        };
        let look = if selected { base } else { style };
        spans.push(Span::styled(format!("{mark} "), look));
        spans.push(Span::styled(fit(&m.name, name_width), base));
        spans.push(Span::styled(format!(" {}", fit(&m.kind, 12)), muted));
        spans.push(Span::styled(format!(" {}", fit(&m.schedule, 12)), muted));
        let next = match (m.enabled, m.next_at) {
            (false, _) => "停用 off".to_string(),
            (true, Some(at)) => local(at, ctx.tz, "%m-%d %H:%M"),
            (true, None) => "-".to_string(),
        };
        spans.push(Span::styled(format!(" {}", fit(&next, 11)), muted));
        spans.push(Span::styled(format!(" {}", fit(word, 13)), look));
        if let Some(id) = m.open_alert {
            spans.push(Span::styled(format!(" #{id}"), base));
        }
    }
    let line = fit_spans(spans, width);
    if selected {
        let used = line.width();
        let mut spans = line.spans;
        spans.push(Span::styled(" ".repeat(width.saturating_sub(used)), base));
        return Line::from(spans);
    }
    line
}

fn monitor_close_up(
    m: &MonitorInfo,
    history: Option<&super::History>,
    area: Rect,
    buf: &mut Buffer,
    ctx: &Ctx<'_>,
) {
    let theme = ctx.theme;
    let width = area.width as usize;
    let mut lines = vec![fit_spans(
        vec![
            Span::styled(format!("{} ", m.name), theme.title()),
            Span::styled(m.title.clone(), theme.text()),
        ],
        width,
    )];
    if let Some(why) = &m.error {
        lines.extend(said(
            &format!("✗ 文件被拒绝，不会运行 · refused, never runs: {why}"),
            width,
            4,
            theme.alert("error"),
        ));
    } else {
        lines.push(fit_spans(
            vec![Span::styled(
                format!(
                    "{} · {} · 数据源 sources {}{}",
                    m.kind,
                    m.schedule,
                    m.sources.join(", "),
                    if m.enabled { "" } else { " · 停用 disabled" }
                ),
                theme.muted(),
            )],
            width,
        ));
        if let Some(e) = &m.last {
            let (mark, word, style) = outcome_look(e.outcome, theme);
            lines.push(fit_spans(
                vec![
                    Span::styled(format!("{mark} {word} "), style),
                    Span::styled(
                        format!("{} · ", local(e.started_at, ctx.tz, "%m-%d %H:%M")),
                        theme.muted(),
                    ),
                    Span::styled(e.summary.clone(), theme.text()),
                ],
                width,
            ));
        }
    }
    match history {
        None => lines.push(fit_spans(
            vec![Span::styled(
                "enter 载入评估历史 · load its evaluations · r 立即运行 run it now",
                theme.key_hint(),
            )],
            width,
        )),
        Some(h) => {
            lines.push(heading("最近评估 evaluations".to_string(), width, theme));
            match &h.result {
                None => lines.push(Line::from(Span::styled("载入中 loading…", theme.muted()))),
                Some(Err(why)) => lines.extend(said(why, width, 3, theme.toast(true))),
                Some(Ok(list)) if list.is_empty() => {
                    lines.push(Line::from(Span::styled("  还没有 none yet", theme.muted())))
                }
                Some(Ok(list)) => {
                    for e in list {
                        lines.push(evaluation_row(e, width, ctx));
                    }
                }
            }
        }
    }
    Paragraph::new(lines).render(area, buf);
}

fn evaluation_row(e: &EvaluationRecord, width: usize, ctx: &Ctx<'_>) -> Line<'static> {
    let theme = ctx.theme;
    let (mark, _, style) = outcome_look(e.outcome, theme);
    let mut spans = vec![
        Span::styled(format!("{mark} "), style),
        Span::styled(
            format!("{} ", local(e.started_at, ctx.tz, "%m-%d %H:%M:%S")),
            theme.muted(),
        ),
        Span::styled(format!("{:>6}ms ", e.duration_ms), theme.muted()),
    ];
    if let Some(v) = e.value {
        spans.push(Span::styled(format!("{} ", value(v)), theme.text()));
    }
    if let Some(a) = e.alert_id {
        spans.push(Span::styled(format!("#{a} "), theme.title()));
    }
    spans.push(Span::styled(e.summary.clone(), theme.text()));
    fit_spans(spans, width)
}
