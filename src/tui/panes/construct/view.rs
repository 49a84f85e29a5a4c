//! The Construct pane on screen. The first view: the last 30 days' figures, the environment,
//! the recipes, then the runs newest first (status in its colour, recipe, environment, who,
//! steps done, time). The form: each input on its row with where its value comes from and,
//! under it, what is wrong. A run: where it stands, what it built, its stages and steps
//! ticking, and the step in view with its request and answer.
//!
//! Colour never carries meaning alone: every status has its mark (✓ ✗ ? … ·) and its word.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

use super::detail::{self, Detail, Row};
use super::form::{Form, Source, label_of};
use super::{ConstructPane, Feed, Spot};
use crate::display::{fit, wrap_text};
use crate::domain::construct::run::{Run, RunStatus, StepRecord, StepStatus};
use crate::tui::panes::Ctx;
use crate::tui::theme::Theme;
use crate::tui::view::fit_spans;

/// From this width the run's steps and the step in view stand side by side.
const SIDE_BY_SIDE: usize = 110;

/// Draws the pane; the rows a page of its list (or of the step in view) is.
pub fn render(
    pane: &ConstructPane,
    area: Rect,
    buf: &mut Buffer,
    ctx: &Ctx<'_>,
    focused: bool,
) -> usize {
    let theme = ctx.theme;
    let title = match (&pane.detail, &pane.form) {
        (Some(d), _) => {
            let recipe = d.run.as_ref().map(|r| r.recipe.as_str()).unwrap_or("");
            format!(" 构造 Construct · #{} {recipe} ", d.id)
        }
        (None, Some(f)) => format!(" 构造 Construct · 表单 form · {} ", f.name),
        (None, None) => " 构造 Construct ".to_string(),
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
    if inner.width < 10 || inner.height < 3 {
        return 1;
    }
    match (&pane.detail, &pane.form) {
        (Some(d), _) => run_view(pane, d, inner, buf, ctx),
        (None, Some(f)) => {
            form_view(pane, f, inner, buf, ctx);
            inner.height as usize
        }
        (None, None) => home(pane, inner, buf, ctx, theme),
    }
}

// ----- pieces shared by the views

pub fn status_style(status: RunStatus, theme: &Theme) -> Style {
    // Runs have no roles of their own: a success reads as an SLA met, a failure as an error
    // alert, a run still going as information, one stopped short as a warning.
    match status {
        RunStatus::Succeeded => theme.sla("met"),
        RunStatus::Failed => theme.alert("error"),
        RunStatus::Queued | RunStatus::Running => theme.alert("info"),
        RunStatus::Cancelled | RunStatus::Interrupted => theme.alert("warn"),
    }
}

pub fn status_mark(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Queued => "·",
        RunStatus::Running => "…",
        RunStatus::Succeeded => "✓",
        RunStatus::Failed => "✗",
        RunStatus::Cancelled => "-",
        RunStatus::Interrupted => "!",
    }
}

fn step_look(step: Option<&StepRecord>, theme: &Theme) -> (&'static str, Style) {
    match step.map(|s| s.status) {
        None => ("·", theme.muted()),
        Some(StepStatus::Running) => ("…", theme.alert("info")),
        Some(StepStatus::Succeeded) => ("✓", theme.sla("met")),
        Some(StepStatus::Failed) => ("✗", theme.alert("error")),
        Some(StepStatus::Unknown) => ("?", theme.alert("warn")),
    }
}

/// `221ms`, `4.5s`, `3m`.
pub fn took(ms: i64) -> String {
    match ms {
        ms if ms < 1000 => format!("{ms}ms"),
        ms if ms < 60_000 => format!("{:.1}s", ms as f64 / 1000.0),
        ms => crate::display::duration(ms / 1000),
    }
}

/// Steps done of the recipe's; a loop's calls count one each, so the done can pass it.
fn steps_done(run: &Run, total: Option<usize>) -> String {
    match total {
        Some(t) => format!("{}/{}", run.steps_done, (t as i64).max(run.steps_done)),
        None => run.steps_done.to_string(),
    }
}

/// Time spent running: while it runs, counted on by the desk's clock.
fn spent(run: &Run, now: DateTime<Utc>) -> i64 {
    match run.started_at {
        Some(at) if run.status == RunStatus::Running => {
            run.duration_ms.max((now - at).num_milliseconds())
        }
        _ => run.duration_ms,
    }
}

fn local(at: DateTime<Utc>, zone: chrono_tz::Tz, format: &str) -> String {
    at.with_timezone(&zone).format(format).to_string()
}

fn width_of(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

fn said(text: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    wrap_text(text, width)
        .into_iter()
        .map(|row| Line::from(Span::styled(row, style)))
        .collect()
}

// ----- the first view

fn home(pane: &ConstructPane, area: Rect, buf: &mut Buffer, ctx: &Ctx<'_>, theme: &Theme) -> usize {
    let width = area.width as usize;
    let mut lines = figures(pane, width, theme);
    lines.push(environment(pane, width, theme));
    let spot = pane.spot();
    // The recipes: a few, each one row; the selected one's problems under it.
    lines.push(Line::from(Span::styled("配方 recipes", theme.header())));
    match &pane.recipes {
        None => lines.push(Line::from(Span::styled("载入中 loading…", theme.muted()))),
        Some(Err(why)) => lines.extend(said(
            &format!("未能载入配方 could not load the recipes: {why}"),
            width,
            theme.toast(true),
        )),
        Some(Ok(list)) if list.is_empty() => lines.push(Line::from(Span::styled(
            "服务器没有配方 the server has no recipes (construct.recipes_dir)",
            theme.muted(),
        ))),
        Some(Ok(list)) => {
            for (i, r) in list.iter().enumerate() {
                let selected = spot == Spot::Recipe(i);
                lines.push(recipe_row(r, selected, width, theme));
                if selected {
                    for p in r.problems.iter().take(3) {
                        lines.push(Line::from(Span::styled(
                            fit(&format!("    ✗ {p}"), width),
                            theme.alert("error"),
                        )));
                    }
                }
            }
        }
    }
    // The runs: the rest of the pane, scrolled to keep the cursor in sight.
    lines.push(runs_heading(pane, width, theme));
    let room = (area.height as usize).saturating_sub(lines.len()).max(1);
    if let Some(why) = &pane.runs_problem {
        lines.extend(said(
            &format!("未能列出构造 could not list the runs: {why}"),
            width,
            theme.toast(true),
        ));
    }
    if !pane.runs_loaded && pane.runs_problem.is_none() {
        lines.push(Line::from(Span::styled("载入中 loading…", theme.muted())));
    } else if pane.runs_loaded && pane.runs.is_empty() {
        lines.push(Line::from(Span::styled(
            "还没有构造 no runs yet · 选一个配方按 enter pick a recipe and press enter",
            theme.muted(),
        )));
    }
    let at = match spot {
        Spot::Run(i) => i,
        _ => 0,
    };
    let first = at.saturating_sub(room.saturating_sub(1));
    let totals: BTreeMap<&str, usize> = pane
        .recipes()
        .iter()
        .map(|r| (r.name.as_str(), r.steps))
        .collect();
    for (i, run) in pane.runs.iter().enumerate().skip(first).take(room) {
        let total = totals.get(run.recipe.as_str()).copied();
        lines.push(run_row(
            run,
            total,
            spot == Spot::Run(i),
            width,
            (ctx.tz, ctx.now),
            theme,
        ));
    }
    Paragraph::new(lines).render(area, buf);
    room
}

/// The last 30 days: how many runs ended how, and why the failed ones stopped.
fn figures(pane: &ConstructPane, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let Some(s) = &pane.stats else {
        return match &pane.stats_problem {
            Some(why) => vec![fit_spans(
                vec![Span::styled(
                    format!("未能载入统计 could not load the figures: {why}"),
                    theme.toast(true),
                )],
                width,
            )],
            None => vec![Line::from(Span::styled(
                "近30天统计载入中 loading the last 30 days…",
                theme.muted(),
            ))],
        };
    };
    let t = &s.total;
    let rate = t
        .success_rate()
        .map_or("-".to_string(), |r| format!("{r:.1}%"));
    let first = vec![
        Span::styled("近30天 30 days: ", theme.muted()),
        Span::styled(format!("{} runs", t.runs), theme.text()),
        Span::styled(" · ", theme.muted()),
        Span::styled(format!("✓ {} 成功", t.succeeded), theme.sla("met")),
        Span::styled(" · ", theme.muted()),
        Span::styled(format!("✗ {} 失败", t.failed), theme.alert("error")),
        Span::styled(" · ", theme.muted()),
        Span::styled(format!("… {} 进行中", t.in_progress), theme.alert("info")),
        Span::styled(" · 成功率 ", theme.muted()),
        Span::styled(rate, theme.title()),
    ];
    let mut second = vec![Span::styled("常见失败 top failures: ", theme.muted())];
    if s.reasons.is_empty() {
        second.push(Span::styled("无 none", theme.muted()));
    }
    for (i, r) in s.reasons.iter().take(3).enumerate() {
        if i > 0 {
            second.push(Span::styled(" · ", theme.muted()));
        }
        let at = r
            .step
            .as_deref()
            .map(|s| format!(" {s}"))
            .unwrap_or_default();
        second.push(Span::styled(
            format!("{}{at} ×{}", r.reason.zh(), r.runs),
            theme.alert("warn"),
        ));
    }
    vec![fit_spans(first, width), fit_spans(second, width)]
}

fn environment(pane: &ConstructPane, width: usize, theme: &Theme) -> Line<'static> {
    let label = Span::styled("环境 env: ", theme.muted());
    match &pane.environments {
        None => Line::from(vec![label, Span::styled("载入中 loading…", theme.muted())]),
        Some(Err(why)) => fit_spans(
            vec![
                label,
                Span::styled(
                    format!("未能载入 could not load the environments: {why}"),
                    theme.toast(true),
                ),
            ],
            width,
        ),
        Some(Ok(list)) if list.is_empty() => fit_spans(
            vec![
                label,
                Span::styled(
                    "服务器没有构造环境 the server has no construction environment ([[construct.environment]] in its opsdesk.toml)",
                    theme.alert("error"),
                ),
            ],
            width,
        ),
        Some(Ok(list)) => {
            let chosen = pane
                .environment
                .as_deref()
                .and_then(|name| list.iter().find(|e| e.name == name));
            let mut spans = vec![label];
            if let Some(e) = chosen {
                spans.push(Span::styled(e.name.clone(), theme.title()));
                spans.push(Span::styled(
                    format!(
                        " · {} · {}{}",
                        e.systems.join(","),
                        e.title.as_deref().unwrap_or(""),
                        if list.len() > 1 {
                            format!(" (共 {} 个 of {})", list.len(), list.len())
                        } else {
                            String::new()
                        }
                    ),
                    theme.muted(),
                ));
            }
            fit_spans(spans, width)
        }
    }
}

fn recipe_row(
    r: &crate::api::construct::RecipeSummary,
    selected: bool,
    width: usize,
    theme: &Theme,
) -> Line<'static> {
    let base = if selected {
        theme.selection()
    } else {
        theme.text()
    };
    let mut spans = vec![
        Span::styled(if selected { "› " } else { "  " }, base),
        Span::styled(format!("{} ", fit(&r.name, 18)), base),
    ];
    if r.problems.is_empty() {
        spans.push(Span::styled(
            format!(
                "{:>3} 步 steps · {:<24} ",
                r.steps,
                fit(&r.stages.join(" "), 24)
            ),
            if selected { base } else { theme.muted() },
        ));
        spans.push(Span::styled(r.title.clone(), base));
    } else {
        spans.push(Span::styled(
            format!(
                "✗ 无法运行 cannot run: {} 处问题 problems",
                r.problems.len()
            ),
            theme.alert("error"),
        ));
    }
    fit_spans(spans, width)
}

fn runs_heading(pane: &ConstructPane, width: usize, theme: &Theme) -> Line<'static> {
    let whose = if pane.team {
        "团队的构造 the team's runs"
    } else {
        "我的构造 my runs"
    };
    let (link, style) = match &pane.feed {
        Feed::Live => ("● 实时 live".to_string(), theme.sla("ok")),
        Feed::Connecting => ("○ 连接中 connecting".to_string(), theme.alert("warn")),
        Feed::Off => (String::new(), theme.muted()),
        Feed::Down(why) => (
            format!("○ 进度流断开 feed down: {why}"),
            theme.alert("error"),
        ),
    };
    fit_spans(
        vec![
            Span::styled(format!("{whose} "), theme.header()),
            Span::styled(format!("({}) ", pane.runs.len()), theme.muted()),
            Span::styled(link, style),
        ],
        width,
    )
}

fn run_row(
    run: &Run,
    total: Option<usize>,
    selected: bool,
    width: usize,
    (zone, now): (chrono_tz::Tz, DateTime<Utc>),
    theme: &Theme,
) -> Line<'static> {
    let base = if selected {
        theme.selection()
    } else {
        theme.text()
    };
    let muted = if selected { base } else { theme.muted() };
    let status = if selected {
        base
    } else {
        status_style(run.status, theme)
    };
    let wide = width >= SIDE_BY_SIDE;
    let done = steps_done(run, total);
    let mut spans = vec![
        Span::styled(
            format!("{} {} ", status_mark(run.status), fit(run.status.zh(), 6)),
            status,
        ),
        Span::styled(format!("{} ", fit(&format!("#{}", run.id), 6)), base),
        Span::styled(
            format!("{} ", fit(&run.recipe, if wide { 20 } else { 16 })),
            base,
        ),
        Span::styled(format!("{} ", fit(&run.environment, 8)), muted),
        Span::styled(format!("{} ", fit(&run.started_by, 8)), muted),
        Span::styled(format!("{done:>5} "), base),
        Span::styled(format!("{:>6} ", took(spent(run, now))), muted),
        Span::styled(local(run.created_at, zone, "%m-%d %H:%M"), muted),
    ];
    if wide && let Some(m) = &run.message {
        spans.push(Span::styled(format!("  {m}"), status));
    }
    fit_spans(spans, width)
}

// ----- the form

fn form_view(pane: &ConstructPane, f: &Form, area: Rect, buf: &mut Buffer, ctx: &Ctx<'_>) {
    let theme = ctx.theme;
    let width = area.width as usize;
    let mut lines = vec![fit_spans(
        vec![Span::styled(f.title.clone(), theme.title())],
        width,
    )];
    let env = pane.environment.as_deref().unwrap_or("—");
    let mut about = vec![
        Span::styled("环境 env: ", theme.muted()),
        Span::styled(env.to_string(), theme.text()),
        Span::styled(" · 数量 count: ", theme.muted()),
        Span::styled(f.count.to_string(), theme.text()),
        Span::styled(" · 种子 seed: ", theme.muted()),
        Span::styled(f.seed.to_string(), theme.text()),
    ];
    if f.starting {
        about.push(Span::styled(" · 正在开始 starting…", theme.alert("info")));
    } else if f.checking {
        about.push(Span::styled(" · 校验中 checking…", theme.muted()));
    }
    lines.push(fit_spans(about, width));
    // The environment lacks a system the recipe calls: the server would refuse the run.
    if let (Some(recipe), Some(e)) = (
        &f.recipe,
        pane.environments()
            .iter()
            .find(|e| Some(e.name.as_str()) == pane.environment.as_deref()),
    ) {
        let missing: Vec<&str> = recipe
            .systems
            .iter()
            .filter(|s| !e.systems.contains(s))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            lines.extend(said(
                &format!(
                    "⚠ 环境 {} 没有系统 lacks the system(s): {}",
                    e.name,
                    missing.join(", ")
                ),
                width,
                theme.alert("warn"),
            ));
        }
    }
    if let Some(why) = &f.problem {
        lines.extend(said(why, width, theme.toast(true)));
    }
    let Some(recipe) = &f.recipe else {
        if f.problem.is_none() {
            lines.push(Line::from(Span::styled(
                "载入中 loading the form…",
                theme.muted(),
            )));
        }
        Paragraph::new(lines).render(area, buf);
        return;
    };
    lines.push(Line::from(""));
    let label_width = recipe
        .inputs
        .iter()
        .map(|i| width_of(label_of(i)))
        .max()
        .unwrap_or(0)
        .clamp(4, 16);
    // As wide as the widest value (or the line being typed), within reason.
    let widest = recipe
        .inputs
        .iter()
        .map(|i| width_of(&f.shown(i).0))
        .chain(f.editing.as_ref().map(|e| width_of(&e.shown) + 1))
        .max()
        .unwrap_or(0);
    let value_width = (widest + 2)
        .max(14)
        .min(width.saturating_sub(label_width + 3 + 16).clamp(8, 40));
    // The rows of each input, the cursor's kept in sight.
    let mut rows: Vec<Vec<Line<'static>>> = Vec::new();
    for (i, input) in recipe.inputs.iter().enumerate() {
        let selected = i == f.selected;
        let editing = selected.then_some(f.editing.as_ref()).flatten();
        let base = if selected && editing.is_none() {
            theme.selection()
        } else {
            theme.text()
        };
        let (value, source) = match editing {
            Some(e) => (
                format!("{}▏", crate::display::tail(&e.shown, value_width - 1)),
                Source::Typed,
            ),
            None => f.shown(input),
        };
        let value = if value.is_empty() {
            if input.required {
                "（必填 required）".to_string()
            } else {
                "（空 empty）".to_string()
            }
        } else {
            value
        };
        let error = f.errors.get(&input.name);
        let mut spans = vec![
            Span::styled(if selected { "› " } else { "  " }, base),
            Span::styled(format!("{} ", fit(label_of(input), label_width)), base),
            Span::styled(
                format!("{} ", fit(&value, value_width)),
                match (editing.is_some(), error.is_some()) {
                    (true, _) => theme.key_hint(),
                    (false, true) => theme.alert("error"),
                    _ => base,
                },
            ),
            Span::styled(source.label().to_string(), theme.muted()),
        ];
        if input.secret {
            spans.push(Span::styled(" 保密 secret", theme.muted()));
        }
        if !input.choices.is_empty() {
            spans.push(Span::styled(
                format!(" ({})", input.choices.join("/")),
                theme.muted(),
            ));
        }
        if width >= SIDE_BY_SIDE {
            spans.push(Span::styled(format!("  {}", input.name), theme.muted()));
        }
        let mut block = vec![fit_spans(spans, width)];
        if let Some(why) = error {
            let indent = " ".repeat(label_width + 3);
            for row in wrap_text(&format!("✗ {why}"), width.saturating_sub(indent.len())) {
                block.push(Line::from(vec![
                    Span::raw(indent.clone()),
                    Span::styled(row, theme.alert("error")),
                ]));
            }
        }
        rows.push(block);
    }
    // Errors not about one input (the server names them otherwise).
    let known: Vec<&str> = recipe.inputs.iter().map(|i| i.name.as_str()).collect();
    for (input, why) in f
        .errors
        .iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
    {
        rows.push(said(
            &format!("✗ {input}: {why}"),
            width,
            theme.alert("error"),
        ));
    }
    let stages: Vec<String> = recipe
        .stages
        .iter()
        .map(|s| {
            format!(
                "{} {} ({})",
                s.title.as_deref().unwrap_or(""),
                s.name,
                s.steps.len()
            )
        })
        .collect();
    let foot = vec![
        Line::from(""),
        fit_spans(
            vec![
                Span::styled("阶段 stages: ", theme.muted()),
                Span::styled(stages.join(" → "), theme.muted()),
            ],
            width,
        ),
    ];
    let room = (area.height as usize).saturating_sub(lines.len() + foot.len());
    // From the input at the cursor back, as many as fit; then on down.
    let mut first = f.selected.min(rows.len().saturating_sub(1));
    let mut used = rows.get(first).map_or(0, Vec::len);
    while first > 0 && used + rows[first - 1].len() <= room {
        first -= 1;
        used += rows[first].len();
    }
    let mut shown = 0;
    for block in rows.iter().skip(first) {
        if shown + block.len() > room {
            break;
        }
        shown += block.len();
        lines.extend(block.iter().cloned());
    }
    lines.extend(foot);
    Paragraph::new(lines).render(area, buf);
}

// ----- one run

fn run_view(
    pane: &ConstructPane,
    d: &Detail,
    area: Rect,
    buf: &mut Buffer,
    ctx: &Ctx<'_>,
) -> usize {
    let theme = ctx.theme;
    let width = area.width as usize;
    let mut head = Vec::new();
    match &d.run {
        Some(run) => {
            let total = pane
                .recipes()
                .iter()
                .find(|r| r.name == run.recipe)
                .map(|r| r.steps);
            head.push(fit_spans(
                vec![
                    Span::styled(format!("#{} ", run.id), theme.title()),
                    Span::styled(
                        format!("{} {} ", status_mark(run.status), run.status.zh()),
                        status_style(run.status, theme),
                    ),
                    Span::styled(
                        format!("{} @ {}", run.recipe, run.environment),
                        theme.text(),
                    ),
                    Span::styled(
                        format!(
                            " · {} · {} 步 steps · {} · {} 次调用 calls · {}",
                            run.started_by,
                            steps_done(run, total),
                            took(spent(run, ctx.now)),
                            run.calls,
                            local(run.created_at, ctx.tz, "%m-%d %H:%M")
                        ),
                        theme.muted(),
                    ),
                ],
                width,
            ));
            if let Some(m) = &run.message
                && run.status != RunStatus::Succeeded
            {
                let reason = run
                    .reason
                    .map(|r| format!("[{}] ", r.zh()))
                    .unwrap_or_default();
                let at = run.failed_step.as_deref().unwrap_or("-");
                let mut rows = wrap_text(&format!("停在 stopped at {at}: {reason}{m}"), width);
                rows.truncate(2);
                for row in rows {
                    head.push(Line::from(Span::styled(
                        row,
                        status_style(run.status, theme),
                    )));
                }
            }
        }
        None => head.push(Line::from(Span::styled(
            format!("#{}", d.id),
            theme.title(),
        ))),
    }
    if let Some(why) = &d.problem {
        head.extend(said(why, width, theme.toast(true)));
    } else if d.loading && d.steps.is_empty() {
        head.push(Line::from(Span::styled("载入中 loading…", theme.muted())));
    }
    if let Some(serde_json::Value::Object(result)) = &d.result
        && !d.reading
    {
        let into = match pane.in_hand {
            Some(id) => format!(" · i 记入 #{id} 的备注 note it into #{id}"),
            None => " · i 记入工单备注 note it into a ticket".to_string(),
        };
        // Looking through the steps on a short screen, the result folds to one line.
        if d.chosen.is_some() && area.height < 30 && width < SIDE_BY_SIDE {
            let values: Vec<String> = result
                .iter()
                .map(|(k, v)| format!("{k} {}", super::form::text_of(v)))
                .collect();
            head.push(fit_spans(
                vec![
                    Span::styled("结果 result ", theme.header()),
                    Span::styled(values.join(" · "), theme.text()),
                ],
                width,
            ));
        } else {
            head.push(fit_spans(
                vec![
                    Span::styled("结果 result", theme.header()),
                    Span::styled(format!(" · 可复制 for copying{into}"), theme.muted()),
                ],
                width,
            ));
            let key_width = result
                .keys()
                .map(|k| width_of(k))
                .max()
                .unwrap_or(0)
                .min(20);
            for (k, v) in result {
                head.push(fit_spans(
                    vec![
                        Span::styled(format!("  {} ", fit(k, key_width)), theme.muted()),
                        Span::styled(super::form::text_of(v), theme.text()),
                    ],
                    width,
                ));
            }
        }
    }
    let head_height = (head.len() as u16).min(area.height.saturating_sub(2));
    let [top, body] =
        Layout::vertical([Constraint::Length(head_height), Constraint::Min(1)]).areas(area);
    Paragraph::new(head).render(top, buf);

    let recipe = d
        .run
        .as_ref()
        .and_then(|r| pane.recipe_forms.get(&r.recipe));
    let rows = d.rows(recipe);
    let in_view = d.in_view();
    if d.reading {
        return exchange_view(d, in_view.as_deref(), body, buf, theme);
    }
    let failed = d
        .run
        .as_ref()
        .is_some_and(|r| r.status != RunStatus::Succeeded && !r.status.in_progress());
    let side_by_side = width >= SIDE_BY_SIDE;
    if side_by_side {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                .areas(body);
        steps_view(&rows, in_view.as_deref(), left, buf, theme);
        return exchange_view(d, in_view.as_deref(), right, buf, theme);
    }
    if failed || d.chosen.is_some() {
        let list = (body.height * 2 / 5).max(3).min(body.height);
        let [upper, lower] =
            Layout::vertical([Constraint::Length(list), Constraint::Min(1)]).areas(body);
        steps_view(&rows, in_view.as_deref(), upper, buf, theme);
        return exchange_view(d, in_view.as_deref(), lower, buf, theme);
    }
    steps_view(&rows, in_view.as_deref(), body, buf, theme);
    body.height as usize
}

/// The stages and steps, the one in view kept in sight.
fn steps_view(
    rows: &[Row<'_>],
    in_view: Option<&str>,
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
) {
    let width = area.width as usize;
    let height = area.height as usize;
    let at = rows
        .iter()
        .position(|r| matches!(r, Row::Step(k, _) if Some(k.as_str()) == in_view))
        .unwrap_or(0);
    // The step in view a third of the way down, so what comes next shows too.
    let first = at
        .saturating_sub(height / 3)
        .min(rows.len().saturating_sub(height));
    let name_width = width.saturating_sub(2 + 14).clamp(8, 36);
    let mut lines = Vec::new();
    for row in rows.iter().skip(first).take(height) {
        match row {
            Row::Stage(name, title) => {
                let text = format!("── {} {name} ", title.as_deref().unwrap_or(""));
                lines.push(Line::from(Span::styled(fit(&text, width), theme.header())));
            }
            Row::Step(key, record) => {
                let (mark, style) = step_look(*record, theme);
                let selected = Some(key.as_str()) == in_view;
                let base = if selected {
                    theme.selection()
                } else {
                    theme.text()
                };
                let name = key.split_once('/').map_or(key.as_str(), |(_, s)| s);
                let mut spans = vec![
                    Span::styled(format!("{mark} "), if selected { base } else { style }),
                    Span::styled(fit(name, name_width), base),
                ];
                if let Some(s) = record {
                    spans.push(Span::styled(
                        format!(" {:>7}", took(s.duration_ms)),
                        if selected { base } else { theme.muted() },
                    ));
                    if s.attempts > 1 {
                        spans.push(Span::styled(
                            format!(" ×{}", s.attempts),
                            theme.alert("warn"),
                        ));
                    }
                    if let Some(m) = &s.message {
                        spans.push(Span::styled(format!(" {m}"), style));
                    }
                }
                lines.push(fit_spans(spans, width));
            }
        }
    }
    Paragraph::new(lines).render(area, buf);
}

/// The step in view: its key, why it failed, then its request and answer, scrolled.
fn exchange_view(
    d: &Detail,
    in_view: Option<&str>,
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
) -> usize {
    let width = area.width as usize;
    let record = d.record();
    let Some(key) = in_view else {
        return area.height as usize;
    };
    let (mark, style) = step_look(record, theme);
    let name = format!("─ {mark} {key} ");
    let about = record
        .map(|s| format!("· {} · {} 次 calls ", took(s.duration_ms), s.attempts))
        .unwrap_or_default();
    let rule = width.saturating_sub(width_of(&name) + width_of(&about));
    let mut lines = vec![fit_spans(
        vec![
            Span::styled(name, style),
            Span::styled(about, theme.muted()),
            Span::styled("─".repeat(rule), theme.border(false)),
        ],
        width,
    )];
    let mut body: Vec<Line<'static>> = Vec::new();
    match record {
        None => body.push(Line::from(Span::styled(
            "还没有调用 not called yet",
            theme.muted(),
        ))),
        Some(s) => {
            if let Some(m) = &s.message {
                body.extend(said(&format!("✗ {m}"), width, style));
            }
            for text in detail::exchange(s) {
                let heading = text.starts_with("请求 ") || text.starts_with("应答 ");
                let look = if heading {
                    theme.header()
                } else {
                    theme.text()
                };
                body.extend(said(&text, width, look));
            }
        }
    }
    let room = (area.height as usize).saturating_sub(1);
    let last = body.len().saturating_sub(room);
    let scroll = (d.scroll as usize).min(last);
    lines.extend(body.into_iter().skip(scroll).take(room));
    if scroll < last {
        // More below: say so on the last row.
        if let Some(row) = lines.last_mut() {
            *row = Line::from(Span::styled(
                fit("… ctrl-d 下翻 more below", width),
                theme.muted(),
            ));
        }
    }
    Paragraph::new(lines).render(area, buf);
    room.max(1)
}

/// The internal note that hands a run's result on: what was built where, the values one per
/// line (to copy from the ticket), and the command that shows the run again.
pub fn note(
    run: &Run,
    result: &serde_json::Map<String, serde_json::Value>,
    zone: chrono_tz::Tz,
) -> String {
    let mut out = format!(
        "UAT 测试账户 test account · {} @ {} · 构造 run #{} ({}, {})\n",
        run.recipe,
        run.environment,
        run.id,
        run.started_by,
        local(
            run.finished_at.unwrap_or(run.created_at),
            zone,
            "%Y-%m-%d %H:%M"
        )
    );
    let key_width = result.keys().map(|k| width_of(k)).max().unwrap_or(0);
    for (k, v) in result {
        out.push_str(&format!("{k:key_width$}  {}\n", super::form::text_of(v)));
    }
    out.push_str(&format!("查看 show: opsdesk construct show {}", run.id));
    out
}
