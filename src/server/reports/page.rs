//! The report as one self-contained HTML file: what a manager opens on a phone from a mail.
//!
//! Everything is inline (one `<style>`, SVG charts, no script, no font, no image, no link out),
//! so the file reads the same offline, printed, or forwarded. maud escapes every value; ticket
//! titles and handler names are the submitters' and handlers' own words and may hold markup.
//! Wide tables scroll inside their own box, so the page itself never scrolls sideways on a
//! phone. Labels are Chinese, with English in small type where a reader may want it.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::charts::{self, Bar, Series};
use crate::display;
use crate::domain::report::figures::{Count, Spread};
use crate::domain::report::sheet::{Recurring, SessionEffect, TrendPoint};
use crate::domain::report::{Period, Report};
use crate::domain::ticket::Category;

/// The page's whole style sheet. Public so a route serving the page under a
/// Content-Security-Policy can allow exactly this (`style-src 'sha256-…'`); the page uses no
/// `style` attribute.
pub const STYLE: &str = r#"
:root { color-scheme: light; --ink: #111827; --muted: #4b5563; --line: #d1d5db; --soft: #f3f4f6; --accent: #1d4ed8; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: #fff; color: var(--ink); line-height: 1.6; font-size: 15px;
  font-family: -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
    "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 16px 14px 40px; overflow-wrap: break-word; }
header.top { border-bottom: 3px solid var(--ink); padding-bottom: 10px; }
.eyebrow { margin: 0; color: var(--muted); font-size: .85rem; }
h1 { font-size: 1.5rem; line-height: 1.3; margin: .2em 0 .3em; }
h2 { font-size: 1.2rem; line-height: 1.35; margin: 2.2em 0 .7em; padding-bottom: .2em; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 1.4em 0 .5em; }
.en { font-weight: normal; color: var(--muted); font-size: .75em; }
.muted, .note { color: var(--muted); }
.note { font-size: .85rem; }
.meta { margin: 0; font-size: .9rem; }
.empty { border: 2px solid var(--ink); border-radius: 8px; padding: 14px 16px; margin: 1.5em 0; font-size: 1.1rem; font-weight: bold; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin: 0; }
.figure { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: var(--soft); }
.figure dt { font-size: .85rem; color: var(--muted); }
.figure dd { margin: 0; }
.figure .value { font-size: 1.6rem; font-weight: bold; line-height: 1.25; font-variant-numeric: tabular-nums; }
.figure .sub { font-size: .8rem; color: var(--muted); }
.up, .down { font-weight: bold; white-space: nowrap; }
dl.terms dt { font-weight: bold; margin-top: .6em; }
dl.terms dd { margin: .1em 0 0; }
.charts { display: grid; gap: 8px 28px; }
figure.chart { margin: 0 0 12px; }
figure.chart svg { display: block; width: 100%; height: auto; max-width: 520px; }
figure.chart figcaption { font-size: .85rem; color: var(--muted); margin-top: 4px; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 0 0 12px; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
thead th { border-bottom: 2px solid var(--ink); white-space: nowrap; font-size: .85rem; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.wide { min-width: 9em; }
td.tags { min-width: 5.5em; }
.tag { display: inline-block; border: 1px solid var(--ink); border-radius: 4px; padding: 0 5px; font-size: .8rem; line-height: 1.5; }
.session + .session { border-top: 1px solid var(--line); margin-top: 1.5em; }
ul.periods { padding-left: 1.2em; }
ul.periods li { margin: .3em 0; }
a { color: var(--accent); }
footer { margin-top: 3em; font-size: .8rem; color: var(--muted); border-top: 1px solid var(--line); padding-top: 8px; }
td.period { white-space: nowrap; }
@media (max-width: 480px) {
  table { font-size: .85rem; }
  th, td { padding: 6px 5px; }
}
@media (min-width: 760px) {
  body { font-size: 16px; }
  main { padding: 28px 24px 48px; }
  h1 { font-size: 1.9rem; }
  .charts { grid-template-columns: 1fr 1fr; }
  .charts > .full { grid-column: 1 / -1; }
}
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  .scroll { overflow: visible; }
  h2, h3 { break-after: avoid; }
  figure.chart, .figure, tr, .session { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// The configured systems' Chinese names, for the keys the report carries.
struct Names<'a>(&'a [(String, String)]);

impl Names<'_> {
    /// The system's Chinese name, or its key when it is not configured (any more).
    fn system<'k>(&'k self, key: &'k str) -> &'k str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or(key, |(_, name)| name.as_str())
    }

    fn systems(&self, keys: &[String]) -> String {
        let names: Vec<&str> = keys.iter().map(|k| self.system(k)).collect();
        names.join("、")
    }
}

/// The whole report as one HTML file. `systems` are the configured (key, Chinese name) pairs.
///
/// An empty period says so at the top and leaves out what the period's tickets would have
/// filled (figures, volume, days, recurring problems, workload); what does not come from them
/// (the trend when it has a non-zero point, an open backlog, help-center use, sessions,
/// topics, notes) is still shown.
pub fn render(report: &Report, systems: &[(String, String)]) -> Markup {
    let names = Names(systems);
    let title = format!("服务中心{} {}", report.kind.zh(), report.period);
    let figures = !report.empty;
    let trend = figures || report.trend.iter().any(|p| p.tickets > 0);
    let backlog = figures || report.backlog.open > 0;
    let h = &report.help_center;
    let help = figures || h.viewed + h.deflected + h.submitted > 0;
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="format-detection" content="telephone=no";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main {
                    (header(report, &title))
                    @if report.empty { (empty_notice()) }
                    @if figures {
                        (key_figures(report))
                        (definitions(report))
                        (volume(report, &names))
                    }
                    @if trend { (trend_section(report)) }
                    @if figures { (daily(report)) }
                    @if backlog { (backlog_section(report)) }
                    @if figures {
                        (recurring(&report.recurring, &names))
                        (workload(report))
                    }
                    @if help { (help_center(report)) }
                    (sessions(&report.sessions, &names))
                    (topics(report, &names))
                    (construction(&report.construction))
                    (notes(&report.notes))
                    footer { "opsdesk 服务中心报告 · " (report.kind.as_str()) " " (report.period) }
                }
            }
        }
    }
}

/// The list of reports to open, linked relative to where it is served (`/reports/`).
pub fn index(weeks: &[String], months: &[String]) -> Markup {
    let list = |kind: &str, periods: &[String]| {
        html! {
            @if periods.is_empty() {
                p.muted { "暂无" }
            } @else {
                ul.periods {
                    @for p in periods {
                        li { a href=(format!("{kind}/{}", segment(p))) { (p) } }
                    }
                }
            }
        }
    };
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "服务中心报告" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main {
                    header.top {
                        p.eyebrow { "opsdesk · Service center reports" }
                        h1 { "服务中心报告" }
                    }
                    h2 { "周报 " span.en { "Weekly" } }
                    (list("weekly", weeks))
                    h2 { "月报 " span.en { "Monthly" } }
                    (list("monthly", months))
                }
            }
        }
    }
}

/// A period as one URL path segment: only unreserved characters stay as they are.
fn segment(period: &str) -> String {
    percent_encoding::utf8_percent_encode(period, crate::server::FILENAME_ENCODE).to_string()
}

/// The report's business time zone; UTC when it does not name one chrono-tz knows.
fn zone(report: &Report) -> Tz {
    report.time_zone.parse::<Tz>().unwrap_or(Tz::UTC)
}

/// The first and the last local day the report covers (`ends_at` is the midnight after).
fn days(report: &Report) -> (NaiveDate, NaiveDate) {
    let tz = zone(report);
    let first = report.starts_at.with_timezone(&tz).date_naive();
    let last = (report.ends_at - Duration::days(1))
        .with_timezone(&tz)
        .date_naive();
    (first, last.max(first))
}

fn local_time(report: &Report, t: DateTime<Utc>) -> String {
    t.with_timezone(&zone(report))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn header(report: &Report, title: &str) -> Markup {
    let (first, last) = days(report);
    html! {
        header.top {
            p.eyebrow { "opsdesk · Service center " (report.kind.as_str()) " report" }
            h1 { (title) }
            p.meta {
                "统计期间 " strong { (first) " 至 " (last) }
                " " span.muted { "（" (report.time_zone) "）" }
            }
            p.meta.muted { "生成于 " (local_time(report, report.generated_at)) }
        }
    }
}

fn empty_notice() -> Markup {
    html! {
        p.empty { "本期没有事件 " span.en { "(no tickets in this period)" } }
    }
}

/// A section heading: Chinese, then the English in small type.
fn heading(zh: &str, en: &str) -> Markup {
    html! { h2 { (zh) " " span.en { (en) } } }
}

/// `v` with one decimal, halves rounded away from zero (92.25 → 92.3), as readers round.
fn decimal(v: f64) -> String {
    format!("{:.1}", (v * 10.0).round() / 10.0)
}

/// A percentage with one decimal, or `—` where there is nothing to divide.
fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{}%", decimal(v)))
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// `▲ 8.4%`, `▼ 8.4%` or `持平` against the period before; `—` from nothing.
fn change(v: Option<f64>) -> Markup {
    match v {
        None => html! { span.muted { "—" } },
        Some(v) if v.abs() < 0.05 => html! { span { "持平" } },
        Some(v) if v > 0.0 => html! { span.up { "▲ " (decimal(v)) "%" } },
        Some(v) => html! { span.down { "▼ " (decimal(-v)) "%" } },
    }
}

/// A change in percentage points (shares against shares).
fn points(now: Option<f64>, before: Option<f64>) -> Markup {
    match (now, before) {
        (Some(a), Some(b)) if (a - b).abs() >= 0.05 => {
            let (mark, d) = if a > b {
                ("▲", a - b)
            } else {
                ("▼", b - a)
            };
            html! { span class=(if a > b { "up" } else { "down" }) { (mark) " " (decimal(d)) " 个百分点" } }
        }
        (Some(_), Some(_)) => html! { span { "持平" } },
        _ => html! { span.muted { "—" } },
    }
}

/// A duration in seconds as the TUI shows it (`2h06m`, `1d0h`), or `—`.
fn duration(secs: Option<i64>) -> String {
    secs.map_or_else(|| "—".into(), display::duration)
}

/// A category key (`consultation`) in Chinese (`咨询类`).
fn category(key: &str) -> String {
    key.parse::<Category>()
        .map_or_else(|_| key.to_string(), |c| c.label_zh().to_string())
}

fn channel(key: &str) -> &str {
    match key {
        "mss" => "MSS 自助提交",
        "itsm" => "ITSM",
        "api" => "API",
        "monitor" => "监控告警",
        other => other,
    }
}

fn suggestion(key: &str) -> &str {
    match key {
        "help_article" => "写帮助中心文章",
        "training" => "纳入知识分享",
        "monitor" => "考虑加监控",
        other => other,
    }
}

fn kb(id: Option<i64>) -> String {
    id.map_or_else(|| "—".into(), |id| format!("KB-{id}"))
}

/// One key figure: its name, its value, and a line under it.
fn figure(name: &str, value: &str, sub: Markup) -> Markup {
    html! {
        div.figure {
            dt { (name) }
            dd.value { (value) }
            dd.sub { (sub) }
        }
    }
}

fn p90(s: Spread) -> String {
    format!("90 分位 {}", duration(s.p90_secs))
}

fn key_figures(report: &Report) -> Markup {
    let f = &report.figures;
    let b = &report.backlog;
    html! {
        section {
            (heading("核心指标", "Key figures"))
            dl.figures {
                (figure("事件总数", &f.total.now.to_string(), html! {
                    (change(f.total.change_percent())) " 上期 " (f.total.before)
                }))
                (figure("咨询占比", &percent(f.consultation_share), html! {
                    (points(f.consultation_share, f.consultation_share_before))
                    " 上期 " (percent(f.consultation_share_before))
                }))
                (figure("解决率", &percent(f.resolution_rate), html! {
                    "已解决 " (f.resolved) " / " (f.total.now)
                }))
                (figure("及时解决率", &percent(f.timely_resolution_rate), html! {
                    "SLA 内 " (f.resolved_in_time) " / " (f.resolved)
                }))
                (figure("首次响应（中位）", &duration(f.first_response.median_secs), html! { (p90(f.first_response)) }))
                (figure("解决时长（中位）", &duration(f.resolution.median_secs), html! { (p90(f.resolution)) }))
                (figure("积压未解决", &b.open.to_string(), html! {
                    @if let Some(d) = b.oldest_days { "最久 " (d) " 天" } @else { "—" }
                }))
            }
            p.note { "时长：h = 小时，m = 分钟，d = 天；90 分位即九成事件在此时长之内。" }
        }
    }
}

fn definitions(report: &Report) -> Markup {
    html! {
        section {
            (heading("指标定义", "Definitions"))
            dl.terms {
                @for d in &report.definitions {
                    dt { (d.zh) " " span.en { (d.term) } }
                    dd { (d.text) }
                }
            }
        }
    }
}

/// Bars of `counts`, most now first, labelled by `label`.
fn count_bars<'a>(
    counts: impl Iterator<Item = (&'a String, &'a Count)>,
    label: impl Fn(&str) -> String,
) -> Vec<Bar> {
    let mut bars: Vec<Bar> = counts
        .map(|(k, c)| Bar {
            label: label(k),
            value: c.now,
            previous: Some(c.before),
        })
        .collect();
    bars.sort_by(|a, b| b.value.cmp(&a.value).then(a.label.cmp(&b.label)));
    bars
}

fn chart(svg: Markup, caption: &str) -> Markup {
    html! {
        figure.chart {
            (svg)
            @if !caption.is_empty() { figcaption { (caption) } }
        }
    }
}

fn volume(report: &Report, names: &Names<'_>) -> Markup {
    let f = &report.figures;
    let by_category = count_bars(f.by_category.iter(), category);
    let by_system = count_bars(f.by_system.iter(), |k| names.system(k).to_string());
    html! {
        section {
            (heading("事件量", "Volume"))
            div.charts {
                div {
                    h3 { "按分类" }
                    (chart(charts::bars("按分类的事件量", &by_category), ""))
                }
                div {
                    h3 { "按系统" }
                    (chart(charts::bars("按系统的事件量", &by_system), ""))
                }
            }
            h3 { "按子类" }
            (subcategories(report))
            h3 { "按渠道" }
            (channels(report))
        }
    }
}

fn subcategories(report: &Report) -> Markup {
    let mut rows: Vec<(&String, &Count)> = report.figures.by_subcategory.iter().collect();
    rows.sort_by(|a, b| b.1.now.cmp(&a.1.now).then(a.0.cmp(b.0)));
    html! {
        div.scroll {
            table {
                thead { tr { th { "分类" } th { "子类" } th.num { "本期" } th.num { "上期" } th.num { "变化" } } }
                tbody {
                    @for (key, c) in rows {
                        @let (cat, sub) = key.split_once('/').unwrap_or((key.as_str(), "—"));
                        tr {
                            td { (category(cat)) }
                            td { (sub) }
                            td.num { (c.now) }
                            td.num { (c.before) }
                            td.num { (change(c.change_percent())) }
                        }
                    }
                }
            }
        }
    }
}

fn channels(report: &Report) -> Markup {
    let f = &report.figures;
    let mut rows: Vec<(&String, &Count)> = f.by_channel.iter().collect();
    rows.sort_by(|a, b| b.1.now.cmp(&a.1.now).then(a.0.cmp(b.0)));
    html! {
        p {
            "MSS 自助提交占比 " span.en { "MSS adoption" } " "
            strong { (percent(report.mss_share())) }
        }
        div.scroll {
            table {
                thead { tr { th { "渠道" } th.num { "本期" } th.num { "占比" } th.num { "上期" } th.num { "变化" } } }
                tbody {
                    @for (key, c) in rows {
                        tr {
                            td { (channel(key)) }
                            td.num { (c.now) }
                            td.num { (percent(ratio(c.now, f.total.now))) }
                            td.num { (c.before) }
                            td.num { (change(c.change_percent())) }
                        }
                    }
                }
            }
        }
    }
}

/// `W36` for `2026-W36`, `11月` for `2026-11`: a period as the trend's axis names it.
fn short_period(period: &str) -> String {
    match period.split_once('-') {
        Some((_, week)) if week.starts_with('W') => week.to_string(),
        Some((_, month)) => format!("{}月", month.trim_start_matches('0')),
        None => period.to_string(),
    }
}

fn trend_section(report: &Report) -> Markup {
    let t = &report.trend;
    let labels: Vec<String> = t.iter().map(|p| short_period(&p.period)).collect();
    let series = |name: &str, value: fn(&TrendPoint) -> u64| Series {
        name: name.into(),
        values: t.iter().map(|p| Some(value(p) as f64)).collect(),
    };
    let counts = [
        series("事件总数", |p| p.tickets),
        series("咨询类", |p| p.consultation),
    ];
    let share = Series {
        name: "咨询占比 %".into(),
        values: t.iter().map(|p| ratio(p.consultation, p.tickets)).collect(),
    };
    let reach = match (t.first(), t.last()) {
        (Some(a), Some(b)) => format!("{} 至 {}，共 {} 期。", a.period, b.period, t.len()),
        _ => String::new(),
    };
    html! {
        section {
            (heading("趋势", "Trend"))
            (chart(charts::trend("近期事件量与咨询占比", &labels, &counts, Some(&share)), &reach))
            div.scroll {
                table {
                    thead { tr {
                        th { "期间" } th.num { "事件" } th.num { "咨询占比" }
                        th.num { "解决率" } th.num { "及时解决率" }
                    } }
                    tbody {
                        @for p in t.iter().rev() {
                            tr {
                                td.period { (p.period) }
                                td.num { (p.tickets) }
                                td.num { (percent(ratio(p.consultation, p.tickets))) }
                                td.num { (percent(ratio(p.resolved, p.tickets))) }
                                td.num { (percent(ratio(p.resolved_in_time, p.resolved))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn daily(report: &Report) -> Markup {
    let d = &report.daily;
    let points: Vec<(String, u64)> = d
        .iter()
        .map(|p| (p.day.format("%m-%d").to_string(), p.tickets))
        .collect();
    let total: u64 = d.iter().map(|p| p.tickets).sum();
    let peak = d
        .iter()
        .max_by_key(|p| (p.tickets, std::cmp::Reverse(p.day)));
    html! {
        section {
            (heading("每日事件", "Daily volume"))
            @if d.is_empty() {
                p.muted { "没有按日统计。" }
            } @else {
                (chart(charts::sparkline("每日新建事件数", &points), "每日新建事件数（本地日期）。"))
                p {
                    "日均 " strong { (decimal(total as f64 / d.len() as f64)) } " 件"
                    @if let Some(p) = peak {
                        "；最多 " strong { (p.day.format("%m-%d")) " " (weekday(p.day)) } " " (p.tickets) " 件"
                    }
                }
            }
        }
    }
}

fn weekday(day: NaiveDate) -> &'static str {
    ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
        [day.weekday().num_days_from_monday() as usize]
}

fn backlog_section(report: &Report) -> Markup {
    let b = &report.backlog;
    let mut by_category: Vec<Bar> = b
        .by_category
        .iter()
        .map(|(k, v)| Bar {
            label: category(k),
            value: *v,
            previous: None,
        })
        .collect();
    by_category.sort_by_key(|b| std::cmp::Reverse(b.value));
    let by_age: Vec<Bar> = b
        .by_age
        .iter()
        .map(|a| Bar {
            label: age(&a.label),
            value: a.tickets,
            previous: None,
        })
        .collect();
    html! {
        section {
            (heading("积压", "Backlog"))
            p {
                "未解决 " strong { (b.open) } " 件"
                @if let Some(at) = b.as_of { "（截至 " (local_time(report, at)) "）" }
                @if let Some(d) = b.oldest_days { "；最久的已等待 " strong { (d) } " 天" }
            }
            @if b.open > 0 {
                div.charts {
                    div { h3 { "按分类" } (chart(charts::bars("积压按分类", &by_category), "")) }
                    div { h3 { "按已等待时长" } (chart(charts::bars("积压按已等待时长", &by_age), "")) }
                }
            }
        }
    }
}

/// An age band (`1-3d`) in Chinese (`1–3 天`).
fn age(label: &str) -> String {
    match label {
        "<1d" => "不足 1 天".into(),
        ">30d" => "超过 30 天".into(),
        other => match other.strip_suffix('d').and_then(|r| r.split_once('-')) {
            Some((a, b)) => format!("{a}–{b} 天"),
            None => other.to_string(),
        },
    }
}

fn recurring(items: &[Recurring], names: &Names<'_>) -> Markup {
    html! {
        section {
            (heading("重复出现的问题", "Recurring problems"))
            @if items.is_empty() {
                p.muted { "本期没有重复出现的问题。" }
            } @else {
                div.scroll {
                    table {
                        thead { tr {
                            th { "问题" } th.num { "事件数" } th { "知识库" } th { "建议" }
                        } }
                        tbody {
                            @for r in items {
                                tr {
                                    td.wide {
                                        (r.title) br;
                                        span.note { (category(&r.category)) " · " (names.systems(&r.systems)) }
                                    }
                                    td.num { (r.tickets) }
                                    td { (kb(r.kb_article)) }
                                    td.tags { span.tag { (suggestion(&r.suggests)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn workload(report: &Report) -> Markup {
    let w = &report.figures.workload;
    html! {
        section {
            (heading("处理人工作量", "Workload"))
            @if w.is_empty() {
                p.muted { "本期没有分派给处理人的事件。" }
            } @else {
                div.scroll {
                    table {
                        thead { tr { th { "处理人" } th.num { "分派" } th.num { "已解决" } th.num { "解决率" } } }
                        tbody {
                            @for h in w {
                                tr {
                                    td { (h.handler) }
                                    td.num { (h.assigned) }
                                    td.num { (h.resolved) }
                                    td.num { (percent(ratio(h.resolved, h.assigned))) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn help_center(report: &Report) -> Markup {
    let h = report.help_center;
    let deflection = ratio(h.deflected, h.deflected + h.submitted);
    html! {
        section {
            (heading("帮助中心", "Help center"))
            dl.figures {
                (figure("看了建议文章", &h.viewed.to_string(), html! { "viewed" }))
                (figure("看后未再提交", &h.deflected.to_string(), html! { "deflected" }))
                (figure("看后仍提交", &h.submitted.to_string(), html! { "submitted" }))
                @if deflection.is_some() {
                    (figure("分流率", &percent(deflection), html! { (h.deflected) " ÷ (" (h.deflected) " + " (h.submitted) ")" }))
                }
            }
            p.note { "分流率：看过帮助中心建议的人里，没有再提交事件的比例。" }
        }
    }
}

/// The ISO week a day falls in, spelled as the report's weeks are (`2026-W43`).
fn week_of(day: NaiveDate) -> String {
    let w = day.iso_week();
    Period::Week {
        year: w.year(),
        week: w.week(),
    }
    .to_string()
}

fn sessions(items: &[SessionEffect], names: &Names<'_>) -> Markup {
    html! {
        section {
            (heading("知识分享", "Knowledge sessions"))
            @if items.is_empty() {
                p.muted { "趋势范围内没有知识分享会记录。" }
            }
            @for s in items { (session(s, names)) }
        }
    }
}

fn session(effect: &SessionEffect, names: &Names<'_>) -> Markup {
    let s = &effect.session;
    let week = week_of(s.held_on);
    let marked = effect.weeks.iter().position(|w| w.week == week);
    let bars: Vec<(String, u64)> = effect
        .weeks
        .iter()
        .map(|w| (short_period(&w.week), w.consultation))
        .collect();
    let count = |v: Option<u64>| v.map_or_else(|| "—".into(), |v| v.to_string());
    html! {
        article.session {
            h3 { (s.held_on) " " (weekday(s.held_on)) "　" (s.topic) }
            p.meta {
                "直播观看 " strong { (count(s.live_viewers)) } " 人 · 总观看 " strong { (count(s.total_views)) } " 次"
                @if !s.systems.is_empty() { " · 系统：" (names.systems(&s.systems)) }
                @if !s.kb_articles.is_empty() {
                    " · 文章："
                    (s.kb_articles.iter().map(|id| kb(Some(*id))).collect::<Vec<_>>().join("、"))
                }
            }
            @if !effect.weeks.is_empty() {
                (chart(
                    charts::before_after("分享会前后每周咨询量", &bars, marked, effect.before_per_week, effect.after_per_week),
                    "所涉系统每周的咨询类事件数。",
                ))
            }
            p { (before_after_words(effect)) }
        }
    }
}

fn before_after_words(effect: &SessionEffect) -> Markup {
    let fmt = |v: Option<f64>| v.map_or_else(|| "—".into(), decimal);
    let change = match (effect.before_per_week, effect.after_per_week) {
        (Some(b), Some(a)) if b > 0.0 => Some((a - b) * 100.0 / b),
        _ => None,
    };
    html! {
        "分享前平均每周 " strong { (fmt(effect.before_per_week)) } " 件咨询，分享后 "
        strong { (fmt(effect.after_per_week)) } " 件"
        @if change.is_some() { "（" (self::change(change)) "）" }
        "。"
        span.note { "同期的其他变化也会影响咨询量，仅供参考。" }
    }
}

fn topics(report: &Report, names: &Names<'_>) -> Markup {
    html! {
        section {
            (heading("下期分享建议", "Proposed topics"))
            @if report.topics.is_empty() {
                p.muted { "暂无建议主题。" }
            } @else {
                div.scroll {
                    table {
                        thead { tr { th { "主题" } th.num { "事件数" } th { "知识库" } } }
                        tbody {
                            @for t in &report.topics {
                                tr {
                                    td.wide { (t.title) br; span.note { (names.systems(&t.systems)) } }
                                    td.num { (t.tickets) }
                                    td { (kb(t.kb_article)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// UAT account construction in the period: outcomes by environment and person, and why runs
/// stopped.
fn construction(c: &crate::domain::construct::run::ConstructStats) -> Markup {
    let rate = |o: &crate::domain::construct::run::Outcomes| {
        o.success_rate()
            .map_or("—".to_string(), |r| format!("{r:.1}%"))
    };
    html! {
        section {
            (heading("账户构造", "Account construction"))
            @if c.total.runs == 0 {
                p.note { "本期没有构造账户。No account was built in the period." }
            } @else {
                p { "共 " (c.total.runs) " 次，成功 " (c.total.succeeded) "，失败 " (c.total.failed)
                    "，进行中 " (c.total.in_progress) "，成功率 " (rate(&c.total)) }
                div.scroll {
                    table {
                        thead { tr { th { "环境 / 人" } th.num { "次数" } th.num { "成功" } th.num { "失败" } th.num { "成功率" } } }
                        tbody {
                            @for n in c.by_environment.iter().chain(&c.by_person) {
                                tr {
                                    td { (n.name) }
                                    td.num { (n.outcomes.runs) }
                                    td.num { (n.outcomes.succeeded) }
                                    td.num { (n.outcomes.failed) }
                                    td.num { (rate(&n.outcomes)) }
                                }
                            }
                        }
                    }
                }
                @if !c.reasons.is_empty() {
                    ul {
                        @for why in &c.reasons {
                            li { (why.reason.zh()) " · " (why.step.as_deref().unwrap_or("")) " · "
                                 (why.message.as_deref().unwrap_or("")) " ×" (why.runs) }
                        }
                    }
                }
            }
        }
    }
}

fn notes(notes: &[String]) -> Markup {
    html! {
        @if !notes.is_empty() {
            section {
                (heading("备注", "Notes"))
                ul { @for n in notes { li { (n) } } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_bands_read_in_chinese() {
        assert_eq!(short_period("2026-W07"), "W07");
        assert_eq!(short_period("2026-03"), "3月");
        assert_eq!(age("1-3d"), "1–3 天");
        assert_eq!(age("<1d"), "不足 1 天");
        assert_eq!(
            week_of(NaiveDate::from_ymd_opt(2026, 10, 22).unwrap()),
            "2026-W43"
        );
        assert_eq!(category("data"), "数据类");
        assert_eq!(category("other"), "other");
    }

    #[test]
    fn changes_say_which_way() {
        let c = |v| change(v).into_string();
        assert!(c(Some(12.34)).contains("▲ 12.3%"));
        assert!(c(Some(-8.44)).contains("▼ 8.4%"));
        assert!(c(Some(0.01)).contains("持平"));
        assert!(c(None).contains("—"));
    }

    #[test]
    fn index_links_are_relative() {
        let page = index(&["2026-W47".into()], &["2026-11".into()]).into_string();
        assert!(page.contains(r#"href="weekly/2026-W47""#), "{page}");
        assert!(page.contains(r#"href="monthly/2026-11""#), "{page}");
    }
}
