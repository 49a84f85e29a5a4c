//! The KB pane on screen: the search line, the best articles with the match highlighted, and
//! the selected article beside them (below them when the terminal is narrow).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use super::KbPane;
use crate::api::KbSummary;
use crate::display::{fit, tail, wrap_text};
use crate::tui::panes::Ctx;
use crate::tui::theme::Theme;

/// Draws the pane; the number of rows shown (what a page is), and while reading, the last
/// row the article can be scrolled to.
pub fn render(
    pane: &KbPane,
    area: Rect,
    buf: &mut Buffer,
    ctx: &Ctx<'_>,
    focused: bool,
) -> (usize, Option<u16>) {
    let theme = ctx.theme;
    if let Some(scroll) = pane.reading {
        let (shown, total) = article(pane, area, buf, theme, Some(scroll), focused);
        return (shown, Some(total.saturating_sub(shown) as u16));
    }
    let wide = area.width >= 100;
    let parts = Layout::default()
        .direction(if wide {
            Direction::Horizontal
        } else {
            Direction::Vertical
        })
        .constraints(if wide {
            [Constraint::Percentage(45), Constraint::Percentage(55)]
        } else {
            [Constraint::Percentage(50), Constraint::Percentage(50)]
        })
        .split(area);
    let rows = list(pane, parts[0], buf, ctx, focused);
    article(pane, parts[1], buf, theme, None, false);
    (rows, None)
}

fn list(pane: &KbPane, area: Rect, buf: &mut Buffer, ctx: &Ctx<'_>, focused: bool) -> usize {
    let theme = ctx.theme;
    let title = match (&pane.shown_for, pane.total) {
        (Some(q), n) if pane.related => format!(" 知识库 KB · 与 '{q}' 相关 related {n} 篇 "),
        (Some(q), n) if !q.is_empty() => format!(" 知识库 KB · '{q}' {n} 篇 "),
        (Some(_), n) => format!(" 知识库 KB · {n} 篇 (热门在前 hot first) "),
        (None, _) => " 知识库 KB ".to_string(),
    };
    // Said first, where it cannot be missed: these are the local copy's answers.
    let title = if pane.offline {
        format!(
            " 离线·本地副本 offline copy ·{}",
            title.trim_start_matches(" 知识库 KB ·")
        )
    } else {
        title
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
    let mut lines: Vec<Line> = Vec::new();
    // The search line: what is being typed, or how to start.
    let search = if pane.typing.is_some() {
        Line::from(vec![
            Span::styled("搜索 ", theme.muted()),
            // The end being typed stays in sight as the query outgrows the box.
            Span::styled(
                format!(
                    "{}▏",
                    tail(&pane.query, usize::from(inner.width).saturating_sub(6))
                ),
                theme.text(),
            ),
        ])
    } else if pane.query.is_empty() {
        Line::from(Span::styled(
            "/ 搜索：汉字、拼音（khsb）、英文（容错） search: characters, pinyin, words",
            theme.muted(),
        ))
    } else {
        Line::from(vec![
            Span::styled("搜索 ", theme.muted()),
            Span::styled(pane.query.clone(), theme.text()),
        ])
    };
    lines.push(search);
    if let Some(problem) = &pane.problem {
        lines.push(Line::from(Span::styled(
            format!("未能搜索 could not search: {problem}"),
            theme.toast(true),
        )));
    } else if pane.shown_for.is_some() && pane.results.is_empty() {
        lines.push(Line::from(Span::styled(
            "没有匹配的文章 no article matches",
            theme.muted(),
        )));
    }
    let room = (inner.height as usize).saturating_sub(lines.len());
    // Keep the selection in view.
    let first = pane.selected.saturating_sub(room.saturating_sub(1));
    for (i, a) in pane.results.iter().enumerate().skip(first).take(room) {
        lines.push(row(a, i == pane.selected, inner.width as usize, theme));
    }
    Paragraph::new(lines).render(inner, buf);
    room
}

/// One article: hot mark, title with the matched characters picked out, system.
fn row(a: &KbSummary, selected: bool, width: usize, theme: &Theme) -> Line<'static> {
    let base = if selected {
        theme.selection()
    } else {
        theme.text()
    };
    let hit = base.add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    let mut spans = vec![Span::styled(
        if a.hot { "🔥" } else { "  " }.to_string(),
        base,
    )];
    let title = fit(&a.title, width.saturating_sub(2 + 2 + a.system.len() + 1));
    let mut run = String::new();
    let mut in_hit = false;
    for (i, c) in title.chars().enumerate() {
        let h = a.highlights.iter().any(|&[s, e]| (s..e).contains(&i));
        if h != in_hit && !run.is_empty() {
            spans.push(Span::styled(
                std::mem::take(&mut run),
                if in_hit { hit } else { base },
            ));
        }
        in_hit = h;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, if in_hit { hit } else { base }));
    }
    spans.push(Span::styled(format!("  {}", a.system), theme.muted()));
    Line::from(spans)
}

/// Markdown read as text: emphasis and code marks dropped (the terminal shows no bold in
/// a paragraph worth the noise), a quote as a quote.
pub fn plain(line: &str) -> (String, bool) {
    let quote = line.trim_start().starts_with('>');
    let text = line.trim_start().trim_start_matches('>').trim_start();
    let text = if quote { text } else { line };
    (text.replace("**", "").replace('`', ""), quote)
}

/// Draws the selected article: beside the list, or on the whole pane scrolled to `scroll`.
/// The rows shown and the rows it has.
fn article(
    pane: &KbPane,
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
    scroll: Option<u16>,
    focused: bool,
) -> (usize, usize) {
    let title = match scroll {
        Some(_) => " 文章 article · j/k 滚动 scroll · esc 返回 back ",
        None => " 文章 article · enter 全屏 full screen ",
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(
            // Cut to the border when narrow; the space before the rule kept.
            format!(
                "{} ",
                fit(title, area.width.saturating_sub(3) as usize).trim_end()
            ),
            theme.title(),
        ));
    let shown = block.inner(area).height as usize;
    let width = block.inner(area).width as usize;
    let mut lines: Vec<Line> = Vec::new();
    let heading = Style::default().add_modifier(Modifier::BOLD);
    // Chinese has no spaces to break at: rows are cut by columns, not by words.
    let para = |lines: &mut Vec<Line>, text: &str, style: Style| {
        for row in wrap_text(text, width) {
            lines.push(Line::from(Span::styled(row, style)));
        }
    };
    match (pane.selected(), &pane.article) {
        (None, _) => lines.push(Line::from(Span::styled("—", theme.muted()))),
        (Some(summary), full) => {
            para(&mut lines, &summary.title, theme.title());
            let audience = match summary.audience {
                crate::domain::kb::Audience::Submitters => "提交人可见 submitters too",
                crate::domain::kb::Audience::Handlers => "仅处理人 handlers only",
            };
            let facts = format!(
                "{} · {} · {} · 👍 {} · 阅读 {} · {}",
                summary.system,
                summary.category.label_zh(),
                audience,
                summary.helpful,
                summary.views,
                summary.tags.join(" / ")
            );
            para(&mut lines, &facts, theme.muted());
            lines.push(Line::from(""));
            if !summary.symptoms.is_empty() {
                lines.push(Line::from(Span::styled("现象 symptoms", heading)));
                for s in &summary.symptoms {
                    para(&mut lines, &format!("• {s}"), theme.text());
                }
                lines.push(Line::from(""));
            }
            match full {
                Some(a) => {
                    if !a.cause.trim().is_empty() {
                        lines.push(Line::from(Span::styled("原因 cause", heading)));
                        para(&mut lines, a.cause.trim(), theme.text());
                        lines.push(Line::from(""));
                    }
                    lines.push(Line::from(Span::styled("处理步骤 steps", heading)));
                    for line in a.steps.lines() {
                        let (text, quote) = plain(line);
                        para(
                            &mut lines,
                            &text,
                            if quote { theme.muted() } else { theme.text() },
                        );
                    }
                }
                None => lines.push(Line::from(Span::styled("载入中 loading…", theme.muted()))),
            }
        }
    }
    let total = lines.len();
    Paragraph::new(lines)
        .block(block)
        .scroll((scroll.unwrap_or(0).min(total as u16), 0))
        .render(area, buf);
    (shown, total)
}
