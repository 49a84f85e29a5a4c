//! The Stats pane on screen: the report's period in the title, then one page scrolled by the
//! cursor. The page is laid out once per report, width and theme (text rows, the trend chart,
//! the daily sparkline) and each frame copies the rows in view. Nothing is told by colour
//! alone: changes carry ▲ and ▼, bars tell now from before by their pattern (█ ▓ ░), the two
//! trend lines by their marks, and the cursor by `›` as well as the selection style.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph, Sparkline, Widget, Wrap,
};

use super::StatsPane;
use super::prepared::{Bar, Prepared, percent};
use crate::display::{fit, wrap_text};
use crate::tui::panes::Ctx;
use crate::tui::theme::Theme;

/// Rows of the trend chart, and of the daily sparkline.
const TREND_ROWS: u16 = 9;
const DAILY_ROWS: u16 = 2;
/// Columns of a bar's label, and of the counts after it.
const BAR_LABEL: usize = 20;
const BAR_TAIL: usize = 22;

/// Where an item of the report sits on the page: its section's heading row, its first row and
/// how many rows it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spot {
    pub heading: u16,
    pub top: u16,
    pub height: u16,
}

/// A stretch of the page.
#[derive(Debug)]
enum Part {
    Lines(Vec<Line<'static>>),
    Trend,
    /// The daily counts, each repeated to be wide enough to read, and the day labels.
    Daily {
        bars: Vec<u64>,
        labels: String,
    },
}

/// The page laid out for one width and theme.
#[derive(Debug)]
pub struct Laid {
    width: u16,
    theme: String,
    parts: Vec<(u16, u16, Part)>,
    spots: Vec<Spot>,
    height: u16,
}

/// Builds the page top to bottom.
struct Page<'t> {
    width: usize,
    theme: &'t Theme,
    parts: Vec<(u16, u16, Part)>,
    spots: Vec<Spot>,
    lines: Vec<Line<'static>>,
    /// The first row of `lines`.
    start: u16,
}

impl<'t> Page<'t> {
    fn new(width: u16, theme: &'t Theme) -> Page<'t> {
        Page {
            width: usize::from(width),
            theme,
            parts: Vec::new(),
            spots: Vec::new(),
            lines: Vec::new(),
            start: 0,
        }
    }

    /// The row the next line goes on.
    fn row(&self) -> u16 {
        self.start + self.lines.len() as u16
    }

    fn line(&mut self, line: Line<'static>) {
        self.lines.push(line);
    }

    fn text(&mut self, text: impl Into<String>, style: Style) {
        let text = fit(&text.into(), self.width).trim_end().to_string();
        self.line(Line::from(Span::styled(text, style)));
    }

    /// A section's heading, and its row (where the page stops when the cursor comes up to
    /// the section's first item).
    fn heading(&mut self, title: &str, more: &str) -> u16 {
        if self.row() > 0 {
            self.line(Line::from(""));
        }
        let row = self.row();
        let room = self
            .width
            .saturating_sub(unicode_width::UnicodeWidthStr::width(title));
        let mut spans = vec![Span::styled(title.to_string(), self.theme.header())];
        if !more.is_empty() && room > 4 {
            spans.push(Span::styled(
                fit(&format!("  {more}"), room).trim_end().to_string(),
                self.theme.muted(),
            ));
        }
        self.line(Line::from(spans));
        row
    }

    /// Text broken into rows of the page's width, each row after the first indented.
    fn wrapped(&mut self, text: &str, indent: usize, style: Style) {
        let room = self.width.saturating_sub(indent).max(8);
        for (i, row) in wrap_text(text, room).into_iter().enumerate() {
            let pad = if i == 0 { 2 } else { indent };
            self.line(Line::from(Span::styled(
                format!("{}{row}", " ".repeat(pad)),
                style,
            )));
        }
    }

    /// Lines the cursor can rest on, in the section headed at `heading`.
    fn item(&mut self, heading: u16, lines: Vec<Line<'static>>) {
        let top = self.row();
        self.spots.push(Spot {
            heading,
            top,
            height: lines.len() as u16,
        });
        self.lines.extend(lines);
    }

    fn flush(&mut self) {
        if !self.lines.is_empty() {
            let lines = std::mem::take(&mut self.lines);
            let height = lines.len() as u16;
            self.parts.push((self.start, height, Part::Lines(lines)));
            self.start += height;
        }
    }

    fn part(&mut self, part: Part, height: u16) {
        self.flush();
        self.parts.push((self.start, height, part));
        self.start += height;
    }

    fn finish(mut self) -> (Vec<(u16, u16, Part)>, Vec<Spot>, u16) {
        self.flush();
        (self.parts, self.spots, self.start)
    }
}

/// `text` right-aligned in `width` columns (CJK counted as two).
fn right(text: &str, width: usize) -> String {
    let used = unicode_width::UnicodeWidthStr::width(text);
    format!("{}{text}", " ".repeat(width.saturating_sub(used)))
}

/// `█` for now up to the period before, then `▓` for what now has more or `░` for what the
/// period before had more: readable without colour.
fn bar_line(bar: &Bar, max: u64, width: usize, theme: &Theme) -> Line<'static> {
    let room = width
        .saturating_sub(2 + BAR_LABEL + 1 + 1 + BAR_TAIL)
        .max(4);
    let cells = |v: u64| -> usize {
        if v == 0 || max == 0 {
            0
        } else {
            ((v as f64 * room as f64 / max as f64).round() as usize).clamp(1, room)
        }
    };
    let (now, before) = (cells(bar.now), cells(bar.before));
    let common = now.min(before);
    let (extra, extra_style) = if now >= before {
        ("▓".repeat(now - common), theme.text())
    } else {
        ("░".repeat(before - common), theme.muted())
    };
    let pad = " ".repeat(room - common - extra.chars().count());
    let count = crate::domain::report::figures::Count {
        now: bar.now,
        before: bar.before,
    };
    let tail = format!(
        "{:>4} 上期 {:>4} {}",
        bar.now,
        bar.before,
        super::prepared::change(&count)
    );
    Line::from(vec![
        Span::styled(format!("  {} ", fit(&bar.label, BAR_LABEL)), theme.text()),
        Span::styled("█".repeat(common), theme.text()),
        Span::styled(extra, extra_style),
        Span::raw(pad),
        Span::styled(format!(" {}", fit(&tail, BAR_TAIL)), theme.text()),
    ])
}

/// The consultation share of each period as one row of small bars, lowest to highest.
/// A period without tickets has no share: a gap.
fn share_bars(shares: &[Option<f64>]) -> String {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let known = || shares.iter().flatten().copied();
    let low = known().fold(f64::INFINITY, f64::min);
    let high = known().fold(f64::NEG_INFINITY, f64::max);
    shares
        .iter()
        .map(|s| match s {
            None => ' ',
            Some(_) if high - low < 0.05 => LEVELS[4],
            Some(s) => LEVELS[(((s - low) / (high - low) * 7.0).round() as usize).min(7)],
        })
        .collect()
}

/// The daily counts at a readable width: each day `k` columns, and its day of the month
/// under the first column of its group where there is room.
fn daily(p: &Prepared, width: usize) -> Part {
    let room = width.saturating_sub(2).max(1);
    let n = p.daily.len().max(1);
    let k = (room / n).clamp(1, 6);
    let bars: Vec<u64> = p
        .daily
        .iter()
        .flat_map(|v| std::iter::repeat_n(*v, k))
        .collect();
    let mut labels = String::from("  ");
    let mut used = 0;
    for (i, day) in p.days.iter().enumerate() {
        let at = i * k;
        let text = day.to_string();
        if at >= used && at + text.len() <= room {
            labels.push_str(&" ".repeat(at - used));
            labels.push_str(&text);
            used = at + text.len() + 1;
            labels.push(' ');
        }
    }
    Part::Daily { bars, labels }
}

fn figures(page: &mut Page<'_>, p: &Prepared) {
    let theme = page.theme;
    let width = page.width;
    let columns = if width >= 117 {
        3
    } else if width >= 78 {
        2
    } else {
        1
    };
    let cell = width / columns;
    for row in p.figures.chunks(columns) {
        let mut spans = Vec::new();
        for (label, value) in row {
            // A column between cells, so a long value never runs into the next label.
            spans.push(Span::styled(fit(label, 16), theme.muted()));
            spans.push(Span::styled(
                format!(" {} ", fit(value, cell.saturating_sub(18))),
                theme.text(),
            ));
        }
        page.line(Line::from(spans));
    }
}

fn bars_section(page: &mut Page<'_>, title: &str, more: &str, bars: &[Bar]) {
    let heading = page.heading(title, more);
    let max = bars.iter().map(|b| b.now.max(b.before)).max().unwrap_or(0);
    for bar in bars {
        let line = bar_line(bar, max, page.width, page.theme);
        page.item(heading, vec![line]);
    }
}

fn trend(page: &mut Page<'_>, p: &Prepared) {
    let n = p.report.trend.len();
    page.heading(
        &format!("趋势 trend · 近 {n} 期"),
        "⣿ 总量 tickets · • 咨询 consultation",
    );
    if n == 0 {
        page.text("  还没有数据 no trend yet", page.theme.muted());
        return;
    }
    page.part(Part::Trend, TREND_ROWS);
    let theme = page.theme;
    let last = p
        .shares
        .last()
        .copied()
        .flatten()
        .map_or_else(|| "—".into(), percent);
    page.line(Line::from(vec![
        Span::styled("咨询占比 share ", theme.muted()),
        Span::styled(share_bars(&p.shares), theme.text()),
        Span::styled(format!(" {last}"), theme.text()),
    ]));
    page.text(format!("  {}", p.share_caption), theme.muted());
}

fn recurring(page: &mut Page<'_>, p: &Prepared) {
    let theme = page.theme;
    let heading = page.heading(
        "反复出现的问题 recurring",
        "enter 列出工单 lists the tickets",
    );
    if p.report.recurring.is_empty() {
        page.text("  没有 none", theme.muted());
    }
    for r in &p.report.recurring {
        let category = r
            .category
            .parse::<crate::domain::ticket::Category>()
            .map_or(r.category.as_str(), |c| c.label_zh());
        let suggests = match r.suggests.as_str() {
            "help_article" => "建议 写帮助文章 help article",
            "training" => "建议 培训 training",
            "monitor" => "建议 监控 monitor",
            other => other,
        };
        let mut about = vec![category.to_string(), r.systems.join(",")];
        if let Some(kb) = r.kb_article {
            about.push(format!("KB#{kb}"));
        }
        about.push(suggests.to_string());
        let text = format!("  {:>3} {} · {}", r.tickets, r.title, about.join(" · "));
        page.item(
            heading,
            vec![Line::from(Span::styled(
                fit(&text, page.width).trim_end().to_string(),
                theme.text(),
            ))],
        );
    }
}

fn backlog_and_load(page: &mut Page<'_>, p: &Prepared) {
    let theme = page.theme;
    let b = &p.report.backlog;
    let oldest = b
        .oldest_days
        .map(|d| format!(" · 最久 oldest {d} 天"))
        .unwrap_or_default();
    page.heading(&format!("积压 backlog {} 未解决 open{oldest}", b.open), "");
    if !b.by_age.is_empty() {
        let ages: Vec<String> = b
            .by_age
            .iter()
            .map(|a| format!("{} {}", a.label, a.tickets))
            .collect();
        page.wrapped(&format!("已开 age: {}", ages.join(" · ")), 4, theme.text());
    }
    if !b.by_category.is_empty() {
        let cats: Vec<String> = b
            .by_category
            .iter()
            .map(|(k, v)| {
                let name = k
                    .parse::<crate::domain::ticket::Category>()
                    .map_or(k.as_str(), |c| c.label_zh());
                format!("{name} {v}")
            })
            .collect();
        page.wrapped(
            &format!("按分类 by category: {}", cats.join(" · ")),
            4,
            theme.text(),
        );
    }
    let load = &p.report.figures.workload;
    if !load.is_empty() {
        page.heading("工作量 workload", "");
        let row = |who: &str, assigned: &str, resolved: &str| {
            format!(
                "  {} {} {}",
                fit(who, 20),
                right(assigned, 14),
                right(resolved, 14)
            )
        };
        page.text(
            row("处理人 handler", "分派 assigned", "解决 resolved"),
            theme.muted(),
        );
        for w in load {
            let line = row(&w.handler, &w.assigned.to_string(), &w.resolved.to_string());
            page.text(line, theme.text());
        }
    }
    let h = &p.report.help_center;
    page.heading("帮助中心 help center", "");
    let rate = if h.viewed > 0 {
        format!(
            " ({})",
            percent(h.deflected as f64 * 100.0 / h.viewed as f64)
        )
    } else {
        String::new()
    };
    page.wrapped(
        &format!(
            "看过建议 viewed {} · 看后未提交 deflected {}{rate} · 仍提交 submitted {}",
            h.viewed, h.deflected, h.submitted
        ),
        4,
        theme.text(),
    );
}

fn sessions(page: &mut Page<'_>, p: &Prepared) {
    let theme = page.theme;
    let heading = page.heading("知识分享 knowledge sessions", "n 记录 record · e 修改 edit");
    if p.report.sessions.is_empty() {
        page.text(
            "  还没有记录 none recorded yet · n 记录一次 record one",
            theme.muted(),
        );
    }
    let views = |v: Option<u64>| v.map_or_else(|| "—".to_string(), |v| v.to_string());
    for e in &p.report.sessions {
        let s = &e.session;
        let first = format!("  {} {}", s.held_on, s.topic);
        let effect = match (e.before_per_week, e.after_per_week) {
            (Some(b), Some(a)) if b > 0.0 => {
                let change = (a - b) * 100.0 / b;
                let arrow = if change < 0.0 { "▼" } else { "▲" };
                format!(
                    " · 每周咨询 per week {b:.1} → {a:.1} {arrow}{:.1}%",
                    change.abs()
                )
            }
            (Some(b), Some(a)) => format!(" · 每周咨询 per week {b:.1} → {a:.1}"),
            (Some(b), None) => format!(" · 每周咨询 per week {b:.1} → 待观察 too early"),
            _ => String::new(),
        };
        let second = format!(
            "     直播 live {} · 总观看 views {}{effect}",
            views(s.live_viewers),
            views(s.total_views)
        );
        page.item(
            heading,
            vec![
                Line::from(Span::styled(
                    fit(&first, page.width).trim_end().to_string(),
                    theme.text(),
                )),
                Line::from(Span::styled(
                    fit(&second, page.width).trim_end().to_string(),
                    theme.muted(),
                )),
            ],
        );
    }
}

fn closing(page: &mut Page<'_>, p: &Prepared) {
    let theme = page.theme;
    page.heading("建议分享主题 proposed topics", "");
    if p.report.topics.is_empty() {
        page.text("  没有 none", theme.muted());
    }
    for t in &p.report.topics {
        let mut about = vec![t.systems.join(",")];
        if let Some(kb) = t.kb_article {
            about.push(format!("KB#{kb}"));
        }
        page.text(
            format!("  {:>3} {} · {}", t.tickets, t.title, about.join(" · ")),
            theme.text(),
        );
    }
    let c = &p.report.construction;
    page.heading("账户构造 construction", "");
    if c.total.runs == 0 {
        page.text("  没有 none", theme.muted());
    } else {
        let rate = c
            .total
            .success_rate()
            .map_or("—".to_string(), |r| format!("{r:.1}%"));
        page.text(
            format!(
                "  {} 次 · 成功 {} · 失败 {} · 进行中 {} · 成功率 {rate}",
                c.total.runs, c.total.succeeded, c.total.failed, c.total.in_progress
            ),
            theme.text(),
        );
        for why in c.reasons.iter().take(3) {
            page.text(
                format!(
                    "  {:>3} {} {}",
                    why.runs,
                    why.reason.zh(),
                    why.step.as_deref().unwrap_or("")
                ),
                theme.muted(),
            );
        }
    }
    if !p.report.definitions.is_empty() {
        page.heading("口径 definitions", "");
        for d in &p.report.definitions {
            page.wrapped(&format!("{} {}：{}", d.zh, d.term, d.text), 4, theme.text());
        }
    }
    if !p.report.notes.is_empty() {
        page.heading("说明 notes", "");
        for n in &p.report.notes {
            page.wrapped(&format!("· {n}"), 4, theme.muted());
        }
    }
}

/// The whole page for `width`.
fn lay_out(p: &Prepared, width: u16, theme: &Theme) -> Laid {
    let mut page = Page::new(width, theme);
    if p.report.empty {
        page.text("本期没有事件 no tickets in this period", theme.title());
        let before = p.report.figures.total.before;
        page.text(
            format!("  上期 the period before: {before} 件 tickets"),
            theme.muted(),
        );
    } else {
        figures(&mut page, p);
        bars_section(
            &mut page,
            "按分类 by category",
            "█ 本期 now  ▓ 比上期多 more  ░ 比上期少 less",
            &p.categories,
        );
        bars_section(
            &mut page,
            "按系统 by system",
            "enter 列出工单 lists the tickets",
            &p.systems,
        );
    }
    trend(&mut page, p);
    if !p.report.empty {
        page.heading(&p.daily_caption, "");
        let part = daily(p, page.width);
        page.part(part, DAILY_ROWS + 1);
    }
    recurring(&mut page, p);
    backlog_and_load(&mut page, p);
    sessions(&mut page, p);
    closing(&mut page, p);
    let (parts, spots, height) = page.finish();
    Laid {
        width,
        theme: theme.name().to_string(),
        parts,
        spots,
        height,
    }
}

fn draw_trend(p: &Prepared, area: Rect, buf: &mut Buffer, theme: &Theme) {
    let n = p.tickets.len();
    let (low, high) = p.trend_bounds;
    let datasets = vec![
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.text())
            .data(&p.tickets),
        Dataset::default()
            .marker(Marker::Dot)
            .graph_type(GraphType::Line)
            .style(theme.alert("info"))
            .data(&p.consultation),
    ];
    let (first, last) = &p.trend_ends;
    Chart::new(datasets)
        .legend_position(None)
        .x_axis(
            Axis::default()
                .bounds([0.0, n.saturating_sub(1).max(1) as f64])
                .labels([first.clone(), last.clone()])
                .style(theme.muted()),
        )
        .y_axis(
            Axis::default()
                .bounds([low, high])
                .labels([format!("{low}"), format!("{high}")])
                .style(theme.muted()),
        )
        .render(area, buf);
}

fn draw_daily(bars: &[u64], labels: &str, area: Rect, buf: &mut Buffer, theme: &Theme) {
    let spark = Rect {
        x: area.x + 2,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(1),
        ..area
    };
    Sparkline::default()
        .data(bars)
        .style(theme.text())
        .render(spark, buf);
    let under = Rect {
        y: area.bottom().saturating_sub(1),
        height: 1,
        ..area
    };
    Line::from(Span::styled(labels.to_string(), theme.muted())).render(under, buf);
}

/// Draws a part whose rows are `[top, top + height)` of the page into the rows of `view`
/// that show it (the page scrolled by `scroll`); one cut by the edge is drawn whole aside and
/// its rows in view copied over.
fn draw_part(
    view: Rect,
    scroll: u16,
    (top, height): (u16, u16),
    buf: &mut Buffer,
    draw: impl FnOnce(Rect, &mut Buffer),
) {
    let end = top + height;
    let (first, past) = (scroll, scroll.saturating_add(view.height));
    if end <= first || top >= past {
        return;
    }
    if top >= first && end <= past {
        draw(
            Rect {
                y: view.y + (top - scroll),
                height,
                ..view
            },
            buf,
        );
        return;
    }
    let mut aside = Buffer::empty(Rect::new(0, 0, view.width, height));
    draw(aside.area, &mut aside);
    for row in top.max(first)..end.min(past) {
        for x in 0..view.width {
            if let (Some(from), Some(to)) = (
                aside.cell((x, row - top)),
                buf.cell_mut((view.x + x, view.y + (row - scroll))),
            ) {
                *to = from.clone();
            }
        }
    }
}

/// The status of the fetch, for the title's right end.
fn status(pane: &StatsPane, ctx: &Ctx<'_>) -> String {
    if pane.loading {
        let what = pane
            .period
            .map(|p| p.to_string())
            .unwrap_or_else(|| "本期 current".into());
        return format!(" 载入中 loading {} {what}… ", pane.kind.zh());
    }
    match &pane.shown {
        Some(p) => format!(
            " 生成于 made {} ",
            p.report
                .generated_at
                .with_timezone(&ctx.tz)
                .format("%m-%d %H:%M")
        ),
        None => String::new(),
    }
}

pub fn render(pane: &mut StatsPane, area: Rect, buf: &mut Buffer, ctx: &Ctx<'_>, focused: bool) {
    let theme = ctx.theme;
    let title = match &pane.shown {
        Some(p) => format!(" 统计 Stats · {} ", p.heading),
        None => format!(" 统计 Stats · {} ", pane.kind.zh()),
    };
    let status = status(pane, ctx);
    let room = usize::from(area.width.saturating_sub(4));
    let status_w = unicode_width::UnicodeWidthStr::width(status.as_str());
    let title_room = room.saturating_sub(status_w + 1);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(
            fit(&title, title_room).trim_end().to_string() + " ",
            theme.title(),
        ));
    if !status.is_empty() && status_w < room {
        block = block.title(Line::from(Span::styled(status, theme.muted())).right_aligned());
    }
    let mut inner = block.inner(area);
    if let Some(problem) = &pane.problem {
        let still = match &pane.shown {
            Some(p) => format!(" · 仍显示 still showing {}", p.report.period),
            None => String::new(),
        };
        let text = format!("✗ {problem}{still}");
        let rows = crate::display::wrap(&text, usize::from(inner.width.max(1)), 2);
        let height = (rows.len() as u16).min(inner.height);
        let lines: Vec<Line<'_>> = rows
            .into_iter()
            .map(|r| Line::from(Span::styled(r, theme.toast(true))))
            .collect();
        Paragraph::new(lines).render(Rect { height, ..inner }, buf);
        inner.y += height;
        inner.height -= height;
    }
    let Some(prepared) = pane.shown.as_ref() else {
        block.render(area, buf);
        let text = if pane.loading {
            "载入中 loading the report…"
        } else if pane.problem.is_some() {
            "r 重新载入 reload · [ ] 换一期 another period · m 周报/月报 weekly or monthly"
        } else {
            "r 载入报告 load the report"
        };
        Paragraph::new(Span::styled(text, theme.muted()))
            .wrap(Wrap { trim: true })
            .render(inner, buf);
        return;
    };
    let stale = pane
        .laid
        .as_ref()
        .is_none_or(|l| l.width != inner.width || l.theme != theme.name());
    if stale {
        let laid = lay_out(prepared, inner.width, theme);
        pane.spots = laid.spots.clone();
        pane.laid = Some(laid);
    }
    let Some(laid) = pane.laid.as_ref() else {
        return;
    };
    let view = inner;
    pane.page = view.height;
    let last = laid.height.saturating_sub(view.height);
    pane.last_scroll = last;
    if pane.follow
        && let Some(spot) = laid.spots.get(pane.cursor)
    {
        if spot.top < pane.scroll {
            pane.scroll = spot.heading;
        } else if spot.top + spot.height > pane.scroll + view.height {
            pane.scroll = (spot.top + spot.height).saturating_sub(view.height);
        }
    }
    pane.scroll = pane.scroll.min(last);
    let scroll = pane.scroll;
    if scroll < last {
        block = block.title_bottom(
            Line::from(Span::styled(
                format!(" ↓ 更多 more {}/{} ", scroll + view.height, laid.height),
                theme.muted(),
            ))
            .right_aligned(),
        );
    }
    block.render(area, buf);
    for (top, height, part) in &laid.parts {
        match part {
            // Text rows are drawn one by one, only those in view.
            Part::Lines(lines) => {
                for (i, line) in lines.iter().enumerate() {
                    let row = top + i as u16;
                    if row < scroll || row >= scroll + view.height {
                        continue;
                    }
                    let rect = Rect {
                        y: view.y + (row - scroll),
                        height: 1,
                        ..view
                    };
                    line.render(rect, buf);
                }
            }
            Part::Trend => draw_part(view, scroll, (*top, *height), buf, |rect, buf| {
                draw_trend(prepared, rect, buf, theme)
            }),
            Part::Daily { bars, labels } => {
                draw_part(view, scroll, (*top, *height), buf, |rect, buf| {
                    draw_daily(bars, labels, rect, buf, theme)
                })
            }
        }
    }
    if let Some(spot) = laid.spots.get(pane.cursor) {
        for row in spot.top..spot.top + spot.height {
            if row < scroll || row >= scroll + view.height {
                continue;
            }
            let y = view.y + (row - scroll);
            buf.set_style(
                Rect {
                    y,
                    height: 1,
                    ..view
                },
                theme.selection(),
            );
            if row == spot.top
                && let Some(cell) = buf.cell_mut((view.x, y))
            {
                cell.set_symbol("›");
            }
        }
    }
}
