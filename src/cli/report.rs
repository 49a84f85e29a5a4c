//! `opsdesk report weekly|monthly` the service center's report as a terminal table, JSON,
//! CSV (one figure a row, for a spreadsheet) or the self-contained HTML file the server
//! renders; `opsdesk report export` every ticket's facts for a data warehouse.

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand, ValueEnum};

use crate::client::ApiClient;
use crate::display::{duration, table};
use crate::domain::report::figures::{Count, Spread};
use crate::domain::report::{Period, Report, ReportKind};

/// The widest a column of a printed table grows.
const MAX_COLUMN: usize = 48;
/// Subcategories a table shows, most tickets first (CSV and JSON carry them all).
const MAX_SUBCATEGORIES: usize = 15;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// A week's report (an ISO week in the business time zone).
    Weekly(ReportArgs),
    /// A month's report.
    Monthly(ReportArgs),
    /// Every ticket's report facts changed since a moment, for a data warehouse.
    Export(ExportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Html,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// `2026-W47` (weekly) or `2026-11` (monthly); default: the last complete period.
    #[arg(long)]
    pub period: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Tickets changed at or after this moment (RFC 3339, `2026-11-01T00:00:00+08:00`, or a
    /// day `2026-11-01`, read as its midnight in the business time zone).
    #[arg(long)]
    pub since: String,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
}

/// The period a report command names (checked here, so a typo never reaches the server),
/// or the last complete one.
fn period_arg(
    kind: ReportKind,
    period: Option<&str>,
    zone: chrono_tz::Tz,
) -> anyhow::Result<String> {
    let Some(text) = period else {
        let current = kind.period_at(chrono::Utc::now(), zone);
        return Ok(current.previous().to_string());
    };
    let p = Period::parse(text)?;
    if kind.fits(p) {
        return Ok(p.to_string());
    }
    match kind {
        ReportKind::Weekly => bail!("'{p}' is a month: `opsdesk report monthly --period {p}`"),
        ReportKind::Monthly => bail!("'{p}' is a week: `opsdesk report weekly --period {p}`"),
    }
}

pub async fn report(
    client: &ApiClient,
    kind: ReportKind,
    args: ReportArgs,
    zone: chrono_tz::Tz,
) -> anyhow::Result<ExitCode> {
    let period = period_arg(kind, args.period.as_deref(), zone)?;
    let mut out = std::io::stdout().lock();
    if args.format == Format::Html {
        let html = client.report_html(kind, Some(&period)).await?;
        out.write_all(html.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let report = client.report(kind, Some(&period)).await?;
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Csv => write_csv(&mut out, &report)?,
        Format::Table | Format::Html => {
            for line in text(&report) {
                writeln!(out, "{line}")?;
            }
        }
    }
    if report.empty {
        eprintln!("no tickets were created in {period}");
    }
    Ok(ExitCode::SUCCESS)
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.1}%"))
}

fn change(c: &Count) -> String {
    match c.change_percent() {
        Some(p) if p >= 0.0 => format!("▲{p:.0}%"),
        Some(p) => format!("▼{:.0}%", -p),
        None if c.now > 0 => "new".into(),
        None => String::new(),
    }
}

fn secs(v: Option<i64>) -> String {
    v.map_or_else(|| "—".into(), duration)
}

fn cells(row: &[String]) -> Vec<Option<String>> {
    row.iter().map(|c| Some(c.clone())).collect()
}

/// A titled table.
fn section(out: &mut Vec<String>, title: &str, columns: &[&str], rows: &[Vec<String>]) {
    out.push(String::new());
    out.push(title.to_string());
    let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let rows: Vec<Vec<Option<String>>> = rows.iter().map(|r| cells(r)).collect();
    out.extend(
        table(&columns, &rows, MAX_COLUMN)
            .into_iter()
            .map(|l| format!("  {l}")),
    );
}

fn counts(map: &std::collections::BTreeMap<String, Count>) -> Vec<Vec<String>> {
    let mut rows: Vec<(&String, &Count)> = map.iter().collect();
    rows.sort_by(|a, b| b.1.now.cmp(&a.1.now).then(a.0.cmp(b.0)));
    rows.into_iter()
        .map(|(k, c)| {
            vec![
                k.clone(),
                c.now.to_string(),
                c.before.to_string(),
                change(c),
            ]
        })
        .collect()
}

/// The report as lines for a terminal.
pub fn text(r: &Report) -> Vec<String> {
    let f = &r.figures;
    let zone: chrono_tz::Tz = r.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let day = |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&zone).format("%Y-%m-%d");
    // The period's end is exclusive: its last day is the one before.
    let running = r.generated_at < r.ends_at;
    let mut out = vec![format!(
        "服务中心{} {}  {} – {} ({}){}",
        r.kind.zh(),
        r.period,
        day(r.starts_at),
        day(r.ends_at - chrono::Duration::seconds(1)),
        r.time_zone,
        if running {
            "  进行中: the period is still running, its change is against a whole period"
        } else {
            ""
        }
    )];
    if r.empty {
        out.push("本期没有事件 (no tickets were created in this period)".into());
    }
    let spread = |s: &Spread| format!("{} / {}", secs(s.median_secs), secs(s.p90_secs));
    let key = vec![
        vec![
            "事件 tickets".into(),
            f.total.now.to_string(),
            f.total.before.to_string(),
            change(&f.total),
        ],
        vec![
            "咨询类占比 consultation share".into(),
            percent(f.consultation_share),
            percent(f.consultation_share_before),
            String::new(),
        ],
        vec![
            "解决率 resolution rate".into(),
            percent(f.resolution_rate),
            String::new(),
            format!("{}/{}", f.resolved, f.total.now),
        ],
        vec![
            "及时解决率 timely-resolution rate".into(),
            percent(f.timely_resolution_rate),
            String::new(),
            format!("{}/{}", f.resolved_in_time, f.resolved),
        ],
        vec![
            "首次响应 first response (median / p90)".into(),
            spread(&f.first_response),
            String::new(),
            String::new(),
        ],
        vec![
            "解决用时 resolution (median / p90)".into(),
            spread(&f.resolution),
            String::new(),
            String::new(),
        ],
        vec![
            "MSS 占比 MSS adoption".into(),
            percent(r.mss_share()),
            String::new(),
            String::new(),
        ],
        vec![
            "积压 backlog".into(),
            r.backlog.open.to_string(),
            String::new(),
            r.backlog
                .oldest_days
                .map(|d| format!("oldest {d}d"))
                .unwrap_or_default(),
        ],
    ];
    section(
        &mut out,
        "概览 Key figures",
        &["", "本期", "上期", "变化"],
        &key,
    );
    let mut by_category = counts(&f.by_category);
    for row in &mut by_category {
        if let Ok(c) = row[0].parse::<crate::domain::ticket::Category>() {
            row[0] = format!("{} {}", c.label_zh(), row[0]);
        }
    }
    section(
        &mut out,
        "按类别 By category",
        &["", "本期", "上期", "变化"],
        &by_category,
    );
    let mut by_subcategory = counts(&f.by_subcategory);
    if by_subcategory.len() > MAX_SUBCATEGORIES {
        let more = by_subcategory.len() - MAX_SUBCATEGORIES;
        by_subcategory.truncate(MAX_SUBCATEGORIES);
        by_subcategory.push(vec![
            format!("… {more} more (--format csv lists them all)"),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    section(
        &mut out,
        "按子类 By subcategory",
        &["", "本期", "上期", "变化"],
        &by_subcategory,
    );
    for (title, map) in [
        ("按系统 By system", &f.by_system),
        ("按渠道 By channel", &f.by_channel),
    ] {
        section(&mut out, title, &["", "本期", "上期", "变化"], &counts(map));
    }
    let trend: Vec<Vec<String>> = r
        .trend
        .iter()
        .map(|t| {
            let share = (t.tickets > 0).then(|| t.consultation as f64 * 100.0 / t.tickets as f64);
            let rate = (t.tickets > 0).then(|| t.resolved as f64 * 100.0 / t.tickets as f64);
            vec![
                t.period.clone(),
                t.tickets.to_string(),
                t.consultation.to_string(),
                percent(share),
                percent(rate),
            ]
        })
        .collect();
    section(
        &mut out,
        "趋势 Trend",
        &["期间", "事件", "咨询", "咨询占比", "解决率"],
        &trend,
    );
    let backlog: Vec<Vec<String>> = r
        .backlog
        .by_age
        .iter()
        .map(|a| vec![a.label.clone(), a.tickets.to_string()])
        .collect();
    section(
        &mut out,
        "积压 Backlog by age",
        &["已等待", "事件"],
        &backlog,
    );
    let recurring: Vec<Vec<String>> = r
        .recurring
        .iter()
        .map(|p| {
            vec![
                p.tickets.to_string(),
                p.title.clone(),
                p.kb_article
                    .map(|id| format!("KB-{id}"))
                    .unwrap_or_default(),
                p.systems.join(","),
                p.suggests.clone(),
            ]
        })
        .collect();
    section(
        &mut out,
        "反复出现的问题 Recurring problems",
        &["事件", "问题", "文章", "系统", "建议"],
        &recurring,
    );
    let workload: Vec<Vec<String>> = f
        .workload
        .iter()
        .map(|w| {
            vec![
                w.handler.clone(),
                w.assigned.to_string(),
                w.resolved.to_string(),
            ]
        })
        .collect();
    section(
        &mut out,
        "工作量 Workload",
        &["处理人", "分配", "已解决"],
        &workload,
    );
    let h = &r.help_center;
    section(
        &mut out,
        "帮助中心 Help center",
        &["查看 viewed", "自助解决 deflected", "仍提交 submitted"],
        &[vec![
            h.viewed.to_string(),
            h.deflected.to_string(),
            h.submitted.to_string(),
        ]],
    );
    let sessions: Vec<Vec<String>> = r
        .sessions
        .iter()
        .map(|e| {
            let s = &e.session;
            let per_week = |v: Option<f64>| v.map_or_else(|| "—".into(), |v| format!("{v:.1}"));
            vec![
                s.held_on.to_string(),
                s.topic.clone(),
                s.systems.join(","),
                s.live_viewers.map_or_else(String::new, |v| v.to_string()),
                s.total_views.map_or_else(String::new, |v| v.to_string()),
                format!(
                    "{} → {}",
                    per_week(e.before_per_week),
                    per_week(e.after_per_week)
                ),
            ]
        })
        .collect();
    section(
        &mut out,
        "知识分享 Knowledge sessions (consultations a week before → after)",
        &["日期", "主题", "系统", "直播", "总观看", "咨询/周"],
        &sessions,
    );
    let topics: Vec<Vec<String>> = r
        .topics
        .iter()
        .map(|t| vec![t.tickets.to_string(), t.title.clone(), t.systems.join(",")])
        .collect();
    section(
        &mut out,
        "下次分享的候选主题 Proposed topics",
        &["事件", "问题", "系统"],
        &topics,
    );
    let c = &r.construction;
    let mut built: Vec<Vec<String>> = c
        .by_environment
        .iter()
        .map(|e| {
            vec![
                e.name.clone(),
                e.outcomes.runs.to_string(),
                e.outcomes.succeeded.to_string(),
                e.outcomes.failed.to_string(),
                e.outcomes.in_progress.to_string(),
            ]
        })
        .collect();
    built.extend(c.reasons.iter().take(5).map(|why| {
        vec![
            format!("{} {}", why.reason.zh(), why.step.as_deref().unwrap_or("")),
            why.runs.to_string(),
            String::new(),
            String::new(),
            String::new(),
        ]
    }));
    section(
        &mut out,
        "账户构造 Account construction (by environment, then why runs stopped)",
        &["环境/原因", "次数", "成功", "失败", "进行中"],
        &built,
    );
    out.push(String::new());
    out.push("定义 Definitions".into());
    for d in &r.definitions {
        out.push(format!("  {}: {}", d.zh, d.text));
    }
    for n in &r.notes {
        out.push(format!("  * {n}"));
    }
    out
}

/// One figure a row: `section,key,now,before`, so a spreadsheet can pivot it.
fn write_csv(out: &mut impl Write, r: &Report) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["period", "section", "key", "now", "before"])?;
    figure_rows(r, |section, key, now, before| {
        w.write_record([r.period.as_str(), section, key, &now, &before])
    })?;
    w.flush()?;
    Ok(())
}

/// Each figure of the report as (section, key, now, before).
fn figure_rows(
    r: &Report,
    mut row: impl FnMut(&str, &str, String, String) -> csv::Result<()>,
) -> csv::Result<()> {
    let f = &r.figures;
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.2}"));
    let opt_i = |v: Option<i64>| v.map_or_else(String::new, |v| v.to_string());
    row(
        "total",
        "tickets",
        f.total.now.to_string(),
        f.total.before.to_string(),
    )?;
    row(
        "rate",
        "consultation_share",
        opt(f.consultation_share),
        opt(f.consultation_share_before),
    )?;
    row(
        "rate",
        "resolution_rate",
        opt(f.resolution_rate),
        String::new(),
    )?;
    row(
        "rate",
        "timely_resolution_rate",
        opt(f.timely_resolution_rate),
        String::new(),
    )?;
    row("rate", "mss_share", opt(r.mss_share()), String::new())?;
    row(
        "time",
        "first_response_median_secs",
        opt_i(f.first_response.median_secs),
        String::new(),
    )?;
    row(
        "time",
        "first_response_p90_secs",
        opt_i(f.first_response.p90_secs),
        String::new(),
    )?;
    row(
        "time",
        "resolution_median_secs",
        opt_i(f.resolution.median_secs),
        String::new(),
    )?;
    row(
        "time",
        "resolution_p90_secs",
        opt_i(f.resolution.p90_secs),
        String::new(),
    )?;
    for (section, map) in [
        ("category", &f.by_category),
        ("subcategory", &f.by_subcategory),
        ("system", &f.by_system),
        ("channel", &f.by_channel),
    ] {
        for (k, c) in map {
            row(section, k, c.now.to_string(), c.before.to_string())?;
        }
    }
    for t in &r.trend {
        row(
            "trend_tickets",
            &t.period,
            t.tickets.to_string(),
            String::new(),
        )?;
        row(
            "trend_consultation",
            &t.period,
            t.consultation.to_string(),
            String::new(),
        )?;
        row(
            "trend_resolved",
            &t.period,
            t.resolved.to_string(),
            String::new(),
        )?;
        row(
            "trend_resolved_in_time",
            &t.period,
            t.resolved_in_time.to_string(),
            String::new(),
        )?;
    }
    row("backlog", "open", r.backlog.open.to_string(), String::new())?;
    for a in &r.backlog.by_age {
        row(
            "backlog_age",
            &a.label,
            a.tickets.to_string(),
            String::new(),
        )?;
    }
    for wl in &f.workload {
        row(
            "workload_assigned",
            &wl.handler,
            wl.assigned.to_string(),
            String::new(),
        )?;
        row(
            "workload_resolved",
            &wl.handler,
            wl.resolved.to_string(),
            String::new(),
        )?;
    }
    for p in &r.recurring {
        row("recurring", &p.title, p.tickets.to_string(), String::new())?;
    }
    let h = &r.help_center;
    row("help_center", "viewed", h.viewed.to_string(), String::new())?;
    row(
        "help_center",
        "deflected",
        h.deflected.to_string(),
        String::new(),
    )?;
    row(
        "help_center",
        "submitted",
        h.submitted.to_string(),
        String::new(),
    )?;
    for e in &r.sessions {
        let key = format!("{} {}", e.session.held_on, e.session.topic);
        row(
            "session_consultation_per_week",
            &key,
            opt(e.after_per_week),
            opt(e.before_per_week),
        )?;
    }
    Ok(())
}

/// `--since`: RFC 3339, or a day read as its midnight in the business time zone.
fn since_arg(text: &str, zone: chrono_tz::Tz) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    let Ok(day) = text.trim().parse::<chrono::NaiveDate>() else {
        bail!(
            "--since '{text}': write a moment as 2026-11-01T00:00:00+08:00 or a day as 2026-11-01"
        );
    };
    use chrono::TimeZone;
    zone.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|at| at.with_timezone(&chrono::Utc))
        .ok_or_else(|| anyhow::anyhow!("{day} has no midnight in {zone}"))
}

const EXPORT_COLUMNS: [&str; 17] = [
    "id",
    "created_at",
    "week",
    "month",
    "category",
    "subcategory",
    "title",
    "system",
    "channel",
    "priority",
    "assignee",
    "resolved_at",
    "first_response_secs",
    "resolution_secs",
    "resolved_in_time",
    "kb_article",
    "updated_at",
];

fn export_row(e: &crate::domain::report::facts::ExportedFacts) -> [String; 17] {
    let f = &e.facts;
    let opt = |v: Option<String>| v.unwrap_or_default();
    [
        f.id.to_string(),
        f.created_at.to_rfc3339(),
        e.week.clone(),
        e.month.clone(),
        f.category.as_str().into(),
        opt(f.subcategory.clone()),
        f.title.clone(),
        f.system.clone(),
        f.channel.as_str().into(),
        f.priority.as_str().into(),
        opt(f.assignee.clone()),
        opt(f.resolved_at.map(|t| t.to_rfc3339())),
        opt(f.first_response_secs.map(|v| v.to_string())),
        opt(f.resolution_secs.map(|v| v.to_string())),
        opt(f.resolved_in_time.map(|v| v.to_string())),
        opt(f.kb_article.map(|v| v.to_string())),
        e.updated_at.to_rfc3339(),
    ]
}

/// Writes every page of the export as it arrives, so memory stays one page however many
/// tickets there are.
pub async fn export(
    client: &ApiClient,
    args: ExportArgs,
    zone: chrono_tz::Tz,
) -> anyhow::Result<ExitCode> {
    let since = since_arg(&args.since, zone)?;
    let stdout = std::io::stdout();
    let mut csv =
        (args.format == ExportFormat::Csv).then(|| csv::Writer::from_writer(stdout.lock()));
    if let Some(w) = csv.as_mut() {
        w.write_record(EXPORT_COLUMNS)?;
    }
    let mut after: Option<crate::api::ExportCursor> = None;
    let mut total = 0usize;
    loop {
        let page = client.export_facts(since, after.as_ref()).await?;
        total += page.facts.len();
        for e in &page.facts {
            match csv.as_mut() {
                Some(w) => w.write_record(export_row(e))?,
                None => {
                    let mut out = stdout.lock();
                    serde_json::to_writer(&mut out, e)?;
                    writeln!(out)?;
                }
            }
        }
        if let Some(w) = csv.as_mut() {
            w.flush()?;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    eprintln!("{total} tickets changed since {}", since.to_rfc3339());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_of_the_other_kind_or_none_at_all_is_refused_before_asking() {
        let zone = chrono_tz::Asia::Shanghai;
        assert_eq!(
            period_arg(ReportKind::Weekly, Some("2026-w47"), zone).unwrap(),
            "2026-W47"
        );
        let e = period_arg(ReportKind::Weekly, Some("2026-11"), zone)
            .unwrap_err()
            .to_string();
        assert!(e.contains("opsdesk report monthly"), "{e}");
        let e = period_arg(ReportKind::Weekly, Some("2026-W54"), zone)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no ISO week 54"), "{e}");
        let e = period_arg(ReportKind::Monthly, Some("2026-13"), zone)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no month 13"), "{e}");
        assert!(
            since_arg("2026-11-01", zone)
                .unwrap()
                .to_rfc3339()
                .starts_with("2026-10-31T16:00:00")
        );
        assert!(since_arg("yesterday", zone).is_err());
        // The default is the last complete period.
        let last = period_arg(ReportKind::Weekly, None, zone).unwrap();
        let now = Period::week_of(chrono::Utc::now(), zone);
        assert_eq!(last, now.previous().to_string());
    }
}
