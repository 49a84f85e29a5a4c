//! The Logs pane on screen: what is being looked up, how each source is doing, the hits a
//! minute, and the lines newest first (time, level in its colour, source, the message with
//! the customer's identifiers and the searched words picked out); or one line read whole.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use super::{DataState, LogsPane, SourceState};
use crate::api::LogLine;
use crate::display::{fit, tail, wrap_text};
use crate::tui::panes::Ctx;
use crate::tui::theme::Theme;
use crate::tui::view::fit_spans;

/// Up to this many rows of a data lookup are shown as records, one column a line.
const RECORDS: usize = 3;
/// Eight heights of a bar, for the hits a minute.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Draws the pane; the rows a page is, and while reading, the last row to scroll to.
pub fn render(
    pane: &LogsPane,
    area: Rect,
    buf: &mut Buffer,
    ctx: &Ctx<'_>,
    focused: bool,
) -> (usize, Option<u16>) {
    let theme = ctx.theme;
    let title = match pane.ticket.and_then(|id| ctx.tickets.row(id)) {
        Some(row) => format!(" 日志 Logs · #{} {} ", row.id, row.title),
        None => " 日志 Logs ".to_string(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(
            fit(&title, area.width.saturating_sub(2) as usize),
            theme.title(),
        ));
    let inner = block.inner(area);
    block.render(area, buf);
    let width = inner.width as usize;
    if let Some(scroll) = pane.reading
        && let Some(line) = pane.selected_line()
    {
        let lines = detail(pane, line, width, ctx.tz, theme);
        let total = lines.len();
        Paragraph::new(lines)
            .scroll((scroll.min(total as u16), 0))
            .render(inner, buf);
        let shown = inner.height as usize;
        return (shown, Some(total.saturating_sub(shown) as u16));
    }
    if let Some(data) = &pane.data {
        let lines = data_lines(data, width, theme);
        let shown = inner.height as usize;
        Paragraph::new(lines).render(inner, buf);
        return (shown, None);
    }
    let mut head: Vec<Line> = vec![asked(pane, width, ctx.tz, theme)];
    if !pane.states.is_empty() {
        head.push(states(pane, width, theme));
    }
    if !pane.minutes.is_empty() {
        head.push(histogram(pane, width, theme));
    }
    if let Some(problem) = &pane.problem {
        for row in wrap_text(problem, width) {
            head.push(Line::from(Span::styled(row, theme.toast(true))));
        }
    }
    for w in pane.warnings.iter().take(2) {
        head.push(Line::from(Span::styled(
            fit(&format!("⚠ {w}"), width),
            theme.alert("warn"),
        )));
    }
    if pane.asked.is_some() && pane.lines.is_empty() && pane.problem.is_none() {
        let done =
            !pane.states.is_empty() && pane.states.values().all(|s| *s != SourceState::Running);
        head.push(Line::from(Span::styled(
            if done {
                "没有找到日志 no line found · w 扩大时间窗口 widen the window"
            } else {
                "查询中 looking…"
            },
            theme.muted(),
        )));
    }
    let room = (inner.height as usize).saturating_sub(head.len());
    let first = pane.selected.saturating_sub(room.saturating_sub(1));
    let marks = marks(pane);
    let mut lines = head;
    for (i, l) in pane.lines.iter().enumerate().skip(first).take(room) {
        let marked = pane.marked.contains(&LogsPane::key(l));
        lines.push(row(
            l,
            i == pane.selected,
            marked,
            &marks,
            width,
            ctx.tz,
            theme,
        ));
    }
    Paragraph::new(lines).render(inner, buf);
    (room, None)
}

/// A data lookup: what was asked, then its rows as a table (or why there are none).
fn data_lines(data: &DataState, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let hint = "i 记入备注 note it · esc 返回日志 back to the lines";
    let mut out = Vec::new();
    match data {
        DataState::Asking(title) => {
            out.push(Line::from(Span::styled(
                fit(&format!("数据 data · {title}"), width),
                theme.header(),
            )));
            out.push(Line::from(Span::styled("查询中 looking…", theme.muted())));
        }
        DataState::Failed(why) => {
            out.push(Line::from(Span::styled("数据 data", theme.header())));
            for row in wrap_text(why, width) {
                out.push(Line::from(Span::styled(row, theme.toast(true))));
            }
        }
        DataState::Rows(rows) => {
            out.push(Line::from(Span::styled(
                fit(
                    &format!(
                        "数据 data · {} ({}) · {} 行 rows{}",
                        rows.query,
                        rows.source,
                        rows.rows.len(),
                        if rows.truncated { "+" } else { "" }
                    ),
                    width,
                ),
                theme.header(),
            )));
            if rows.rows.is_empty() {
                out.push(Line::from(Span::styled(
                    "没有这位客户的记录 no row for this customer",
                    theme.muted(),
                )));
            }
            if rows.rows.len() <= RECORDS {
                // A record or three read down the page, column by column, as `psql \x` does:
                // a profile's dozen columns would not fit across 80.
                let label = rows
                    .columns
                    .iter()
                    .map(|c| unicode_width::UnicodeWidthStr::width(c.as_str()))
                    .max()
                    .unwrap_or(0)
                    .min(16);
                for (n, row) in rows.rows.iter().enumerate() {
                    if rows.rows.len() > 1 {
                        out.push(Line::from(Span::styled(
                            format!("── {} ──", n + 1),
                            theme.muted(),
                        )));
                    }
                    for (column, value) in rows.columns.iter().zip(row) {
                        out.push(Line::from(vec![
                            Span::styled(format!("{} ", fit(column, label)), theme.muted()),
                            Span::styled(
                                fit(
                                    value.as_deref().unwrap_or("NULL"),
                                    width.saturating_sub(label + 1),
                                ),
                                theme.text(),
                            ),
                        ]));
                    }
                }
            } else {
                for (i, line) in crate::display::table(&rows.columns, &rows.rows, 30)
                    .into_iter()
                    .enumerate()
                {
                    let style = if i == 0 { theme.title() } else { theme.text() };
                    out.push(Line::from(Span::styled(fit(&line, width), style)));
                }
            }
        }
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled(hint, theme.muted())));
    out
}

/// What is looked up: for whom, over which window, with which filters.
fn asked(pane: &LogsPane, width: usize, zone: chrono_tz::Tz, theme: &Theme) -> Line<'static> {
    if pane.typing.is_some() {
        return Line::from(vec![
            Span::styled("包含文字 text ", theme.muted()),
            Span::styled(
                format!("{}▏", tail(&pane.text, width.saturating_sub(16))),
                theme.text(),
            ),
            Span::styled("  enter 查询 look up", theme.muted()),
        ]);
    }
    let Some(req) = &pane.asked else {
        return Line::from(Span::styled(
            "在队列或工单中选中工单后按 3：查看该客户报障时间前后的日志 · u 输入标识 type identifiers",
            theme.muted(),
        ));
    };
    let who = if req.identifiers.is_empty() {
        "工单客户 the ticket's customer".to_string()
    } else {
        req.identifiers.join(" ")
    };
    let when = |t: Option<DateTime<Utc>>, or: &str| {
        t.map(|t| t.with_timezone(&zone).format("%m-%d %H:%M").to_string())
            .unwrap_or_else(|| or.to_string())
    };
    let mut text = format!(
        "{who} · {}–{}",
        when(req.from, "…"),
        when(req.to, "现在 now")
    );
    if let Some(level) = &req.level {
        text.push_str(&format!(" · {level}"));
    }
    if let Some(t) = &req.text {
        text.push_str(&format!(" · “{t}”"));
    }
    if !req.sources.is_empty() {
        text.push_str(&format!(" · {}", req.sources.join(",")));
    }
    if pane.follow {
        text.push_str(" · 跟随 following");
    }
    if !pane.marked.is_empty() {
        text.push_str(&format!(" · 已标记 {} marked", pane.marked.len()));
    }
    Line::from(Span::styled(fit(&text, width), theme.header()))
}

/// Each source: looking, its count (of how many), or why it failed.
fn states(pane: &LogsPane, width: usize, theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for (name, state) in &pane.states {
        let (text, style) = match state {
            SourceState::Running => (format!("{name} …"), theme.muted()),
            SourceState::Done { lines, total } => {
                let of = match total {
                    Some(t) if t.value as usize > *lines => {
                        format!("/{}{}", if t.at_least { "≥" } else { "" }, t.value)
                    }
                    _ => String::new(),
                };
                (format!("{name} ✓ {lines}{of}"), theme.text())
            }
            SourceState::Failed(why) => (format!("{name} ✗ {why}"), theme.alert("error")),
        };
        if !spans.is_empty() {
            spans.push(Span::styled("  ", theme.muted()));
        }
        spans.push(Span::styled(text, style));
    }
    fit_spans(spans, width)
}

/// Hits a minute across the window, squeezed to the width: where the trouble bunches up.
fn histogram(pane: &LogsPane, width: usize, theme: &Theme) -> Line<'static> {
    let (Some(first), Some(last)) = (
        pane.minutes.keys().next().copied(),
        pane.minutes.keys().next_back().copied(),
    ) else {
        return Line::from("");
    };
    let (from, to) = match &pane.asked {
        Some(req) => (
            req.from.unwrap_or(first).min(first),
            req.to.unwrap_or(last).max(last),
        ),
        None => (first, last),
    };
    let span_minutes = ((to - from).num_minutes() + 1).max(1) as usize;
    let most_a_minute = pane.minutes.values().copied().max().unwrap_or(0);
    let label = format!("每分钟 ≤{most_a_minute} ");
    let columns = width
        .saturating_sub(unicode_width::UnicodeWidthStr::width(label.as_str()))
        .clamp(1, span_minutes);
    let mut counts = vec![0u64; columns];
    for (at, n) in &pane.minutes {
        let minute = ((*at - from).num_minutes().max(0) as usize).min(span_minutes - 1);
        counts[minute * columns / span_minutes] += n;
    }
    let most = counts.iter().copied().max().unwrap_or(0).max(1);
    let bars: String = counts
        .iter()
        .map(|&n| {
            if n == 0 {
                ' '
            } else {
                BARS[((n * 7).div_ceil(most)) as usize]
            }
        })
        .collect();
    Line::from(vec![
        Span::styled(label, theme.muted()),
        Span::styled(bars, theme.alert("info")),
    ])
}

/// What to pick out in a message: the identifiers and the searched words.
fn marks(pane: &LogsPane) -> Vec<String> {
    let Some(req) = &pane.asked else {
        return Vec::new();
    };
    req.identifiers
        .iter()
        .chain(req.text.iter())
        .filter(|m| !m.is_empty())
        .cloned()
        .collect()
}

fn level_style(level: Option<&str>, theme: &Theme) -> Style {
    match level.map(str::to_ascii_uppercase).as_deref() {
        Some("ERROR" | "FATAL") => theme.alert("error"),
        Some("WARN" | "WARNING") => theme.alert("warn"),
        Some("INFO") => theme.alert("info"),
        _ => theme.muted(),
    }
}

/// One line: time, level, source, the message with the marks picked out.
fn row(
    line: &LogLine,
    selected: bool,
    marked: bool,
    marks: &[String],
    width: usize,
    zone: chrono_tz::Tz,
    theme: &Theme,
) -> Line<'static> {
    let base = if selected {
        theme.selection()
    } else {
        theme.text()
    };
    let level = line.level.as_deref().unwrap_or("-");
    let mut spans = vec![
        Span::styled(if marked { "●" } else { " " }, theme.marked()),
        Span::styled(
            line.at
                .with_timezone(&zone)
                .format("%m-%d %H:%M:%S ")
                .to_string(),
            if selected { base } else { theme.muted() },
        ),
        Span::styled(
            format!("{:<5} ", fit(level, 5)),
            level_style(line.level.as_deref(), theme),
        ),
        Span::styled(format!("{} ", fit(&line.source, 10)), theme.muted()),
    ];
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let message = fit(
        &line.message.replace(['\n', '\r'], " "),
        width.saturating_sub(used),
    );
    spans.extend(picked_out(&message, marks, base));
    Line::from(spans)
}

/// `text` in spans, the parts that are one of `marks` (any case) bold and underlined.
fn picked_out(text: &str, marks: &[String], base: Style) -> Vec<Span<'static>> {
    let hit = base.add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    let lower = text.to_lowercase();
    // Lower-casing can change byte lengths outside ASCII: pick out only when it did not.
    if lower.len() != text.len() || marks.is_empty() {
        return vec![Span::styled(text.to_string(), base)];
    }
    let mut hits: Vec<(usize, usize)> = Vec::new();
    for m in marks {
        let m = m.to_lowercase();
        let mut from = 0;
        while let Some(at) = lower[from..].find(&m) {
            hits.push((from + at, from + at + m.len()));
            from += at + m.len().max(1);
        }
    }
    hits.sort_unstable();
    let mut spans = Vec::new();
    let mut at = 0;
    for (start, end) in hits {
        if start < at {
            continue;
        }
        if start > at {
            spans.push(Span::styled(text[at..start].to_string(), base));
        }
        spans.push(Span::styled(text[start..end].to_string(), hit));
        at = end;
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), base));
    }
    spans
}

/// One line whole: what it says, where it was read, its fields, and the lines of the same
/// request (trace id) among those found.
fn detail(
    pane: &LogsPane,
    line: &LogLine,
    width: usize,
    zone: chrono_tz::Tz,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let heading = Style::default().add_modifier(Modifier::BOLD);
    let mut out = Vec::new();
    let para = |out: &mut Vec<Line<'static>>, text: &str, style: Style| {
        for row in wrap_text(text, width) {
            out.push(Line::from(Span::styled(row, style)));
        }
    };
    para(
        &mut out,
        &format!(
            "{} · {} · {}",
            line.at.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S%.3f"),
            line.level.as_deref().unwrap_or("-"),
            line.source
        ),
        theme.header(),
    );
    para(
        &mut out,
        &format!("来自 from {}", line.origin),
        theme.muted(),
    );
    out.push(Line::from(""));
    para(&mut out, &line.message, theme.text());
    if !line.fields.is_empty() {
        out.push(Line::from(""));
        out.push(Line::from(Span::styled("字段 fields", heading)));
        let pretty = serde_json::to_string_pretty(&line.fields).unwrap_or_default();
        for row in pretty.lines() {
            para(&mut out, row, theme.text());
        }
    }
    if let Some(trace) = &line.trace {
        out.push(Line::from(""));
        out.push(Line::from(Span::styled(
            format!("同一链路 same trace {trace} · t 查整条链路 look the whole trace up"),
            heading,
        )));
        for other in pane
            .lines
            .iter()
            .rev()
            .filter(|l| l.trace.as_ref() == Some(trace))
        {
            let me = std::ptr::eq(other, line);
            para(
                &mut out,
                &format!(
                    "{}{} {} {}",
                    if me { "▶ " } else { "  " },
                    other.at.with_timezone(&zone).format("%H:%M:%S%.3f"),
                    other.level.as_deref().unwrap_or("-"),
                    other.message
                ),
                if me { theme.selection() } else { theme.text() },
            );
        }
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled(
        "j/k 滚动 scroll · i 记入备注 note it · esc 返回 back",
        theme.muted(),
    )));
    out
}
