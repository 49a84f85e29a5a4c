//! What the pane draws, worked out once when a report arrives: the figures as label and value,
//! the bars sorted with their labels, the trend's points and the daily counts. Drawing then
//! only lays these out for the width at hand (and caches that too), so a frame costs what
//! copying a screenful costs.

use chrono::{Datelike, Duration};

use crate::domain::report::figures::{Count, Spread};
use crate::domain::report::{Report, ReportKind};
use crate::domain::ticket::Category;
use crate::tui::desk::Desk;

/// One bar: the count now and in the period before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// The wire word or system key the bar stands for (what a drill-down asks for).
    pub key: String,
    pub label: String,
    pub now: u64,
    pub before: u64,
}

/// Something the cursor can rest on, in screen order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Category(usize),
    System(usize),
    Recurring(usize),
    Session(usize),
}

#[derive(Debug)]
pub struct Prepared {
    pub report: Report,
    /// "周报 2026-W47 · 11-16 – 11-22".
    pub heading: String,
    /// The key figures, label and value.
    pub figures: Vec<(String, String)>,
    pub categories: Vec<Bar>,
    pub systems: Vec<Bar>,
    /// The trend's tickets and consultations as chart points (x = the period's place).
    pub tickets: Vec<(f64, f64)>,
    pub consultation: Vec<(f64, f64)>,
    /// The chart's value axis: from a little under the lowest value to a little over the
    /// highest, in tens, so the shape of twelve similar weeks can be seen (the axis says
    /// where it starts).
    pub trend_bounds: (f64, f64),
    /// The first and last period of the trend, short ("W36", "11月").
    pub trend_ends: (String, String),
    /// The consultation share of each period of the trend, in percent (none for a period
    /// without tickets).
    pub shares: Vec<Option<f64>>,
    /// The share line under the chart.
    pub share_caption: String,
    /// Tickets a day, and the day of the month of each.
    pub daily: Vec<u64>,
    pub days: Vec<u32>,
    pub daily_caption: String,
    pub items: Vec<Item>,
}

/// `12.3%`.
pub fn percent(p: f64) -> String {
    format!("{p:.1}%")
}

/// `▲9.1%`, `▼8.4%`, `=`; `新 new` when there was nothing before.
pub fn change(c: &Count) -> String {
    match c.change_percent() {
        Some(p) if p.abs() < 0.05 => "= 持平".into(),
        Some(p) if p > 0.0 => format!("▲{p:.1}%"),
        Some(p) => format!("▼{:.1}%", -p),
        None if c.now > 0 => "▲新 new".into(),
        None => "=".into(),
    }
}

/// A period's name without its year, as the trend's axis reads it.
fn short(period: &str) -> String {
    match period.split_once('-') {
        Some((_, w)) if w.starts_with('W') => w.to_string(),
        Some((_, m)) => format!("{}月", m.trim_start_matches('0')),
        None => period.to_string(),
    }
}

fn spread(s: &Spread) -> String {
    let d = |v: Option<i64>| v.map_or_else(|| "—".to_string(), crate::display::duration);
    format!("中位 {} · p90 {}", d(s.median_secs), d(s.p90_secs))
}

/// How a system reads: its configured name and key, or the key alone.
fn system_label(desk: &Desk, key: &str) -> String {
    let name = desk.system_name(key);
    if name.eq_ignore_ascii_case(key) {
        key.to_string()
    } else {
        format!("{name} {key}")
    }
}

fn category_label(key: &str) -> String {
    match key.parse::<Category>() {
        Ok(c) => format!("{} {key}", c.label_zh()),
        Err(_) => key.to_string(),
    }
}

fn bars<'a>(
    counts: impl Iterator<Item = (&'a String, &'a Count)>,
    label: impl Fn(&str) -> String,
) -> Vec<Bar> {
    let mut bars: Vec<Bar> = counts
        .filter(|(_, c)| c.now > 0 || c.before > 0)
        .map(|(key, c)| Bar {
            key: key.clone(),
            label: label(key),
            now: c.now,
            before: c.before,
        })
        .collect();
    bars.sort_by(|a, b| b.now.cmp(&a.now).then(a.key.cmp(&b.key)));
    bars
}

impl Prepared {
    pub fn of(report: Report, desk: &Desk) -> Prepared {
        let tz: chrono_tz::Tz = report.time_zone.parse().unwrap_or(desk.tz);
        let first = report.starts_at.with_timezone(&tz);
        let last = (report.ends_at - Duration::seconds(1)).with_timezone(&tz);
        let heading = format!(
            "{} {} · {} – {}",
            report.kind.zh(),
            report.period,
            first.format("%m-%d"),
            last.format("%m-%d")
        );
        let f = &report.figures;
        let rate = |r: Option<f64>, part: u64, whole: u64| match r {
            Some(r) => format!("{} ({part}/{whole})", percent(r)),
            None => "—".to_string(),
        };
        let share = match (f.consultation_share, f.consultation_share_before) {
            (Some(now), Some(before)) => {
                let arrow = if now > before + 0.05 {
                    "▲"
                } else if now < before - 0.05 {
                    "▼"
                } else {
                    "="
                };
                format!("{} {arrow} 上期 {}", percent(now), percent(before))
            }
            (Some(now), None) => percent(now),
            (None, _) => "—".into(),
        };
        let backlog = match report.backlog.oldest_days {
            Some(days) => format!("{} 件 · 最久 {days} 天", report.backlog.open),
            None => format!("{} 件", report.backlog.open),
        };
        let figures = vec![
            (
                "总量 tickets".to_string(),
                format!(
                    "{} {} 上期 {}",
                    f.total.now,
                    change(&f.total),
                    f.total.before
                ),
            ),
            ("咨询占比 consult".into(), share),
            (
                "解决率 resolved".into(),
                rate(f.resolution_rate, f.resolved, f.total.now),
            ),
            (
                "及时解决 timely".into(),
                rate(f.timely_resolution_rate, f.resolved_in_time, f.resolved),
            ),
            ("首响 1st reply".into(), spread(&f.first_response)),
            ("解决用时 resolve".into(), spread(&f.resolution)),
            ("积压 backlog".into(), backlog),
            (
                "MSS 占比 via MSS".into(),
                report.mss_share().map_or_else(|| "—".into(), percent),
            ),
        ];
        let categories = bars(f.by_category.iter(), category_label);
        let systems = bars(f.by_system.iter(), |k| system_label(desk, k));
        let point = |i: usize, v: u64| (i as f64, v as f64);
        let tickets: Vec<(f64, f64)> = report
            .trend
            .iter()
            .enumerate()
            .map(|(i, p)| point(i, p.tickets))
            .collect();
        let consultation: Vec<(f64, f64)> = report
            .trend
            .iter()
            .enumerate()
            .map(|(i, p)| point(i, p.consultation))
            .collect();
        let values = report
            .trend
            .iter()
            .flat_map(|p| [p.tickets, p.consultation]);
        let low = values.clone().min().unwrap_or(0) as f64;
        let high = values.max().unwrap_or(0) as f64;
        let trend_bounds = (
            (low * 0.85 / 10.0).floor() * 10.0,
            ((high * 1.05 / 10.0).ceil() * 10.0).max(10.0),
        );
        let trend_ends = (
            report.trend.first().map(|p| short(&p.period)),
            report.trend.last().map(|p| short(&p.period)),
        );
        let trend_ends = (
            trend_ends.0.unwrap_or_default(),
            trend_ends.1.unwrap_or_default(),
        );
        let shares: Vec<Option<f64>> = report
            .trend
            .iter()
            .map(|p| (p.tickets > 0).then(|| p.consultation as f64 * 100.0 / p.tickets as f64))
            .collect();
        let share_caption = share_caption(&report, &shares);
        let daily: Vec<u64> = report.daily.iter().map(|d| d.tickets).collect();
        let days: Vec<u32> = report.daily.iter().map(|d| d.day.day()).collect();
        let daily_caption = match report.daily.iter().max_by_key(|d| d.tickets) {
            Some(top) if top.tickets > 0 => format!(
                "每日量 daily · 共 {} · 最多 max {} ({})",
                daily.iter().sum::<u64>(),
                top.tickets,
                top.day.format("%m-%d")
            ),
            _ => "每日量 daily · 无 none".into(),
        };
        let mut items: Vec<Item> = Vec::new();
        if !report.empty {
            items.extend((0..categories.len()).map(Item::Category));
            items.extend((0..systems.len()).map(Item::System));
        }
        items.extend((0..report.recurring.len()).map(Item::Recurring));
        items.extend((0..report.sessions.len()).map(Item::Session));
        Prepared {
            heading,
            figures,
            categories,
            systems,
            tickets,
            consultation,
            trend_bounds,
            trend_ends,
            shares,
            share_caption,
            daily,
            days,
            daily_caption,
            items,
            report,
        }
    }

    pub fn kind(&self) -> ReportKind {
        self.report.kind
    }
}

/// "咨询占比 share W36 83.5% → W47 83.7% · 低 low 76.7% W45 · 高 high 85.7% W38".
fn share_caption(report: &Report, shares: &[Option<f64>]) -> String {
    let named: Vec<(String, f64)> = report
        .trend
        .iter()
        .zip(shares)
        .filter_map(|(p, s)| Some((short(&p.period), (*s)?)))
        .collect();
    let (Some(first), Some(last)) = (named.first(), named.last()) else {
        return "咨询占比 share —".into();
    };
    let low = named
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or(first);
    let high = named
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or(first);
    format!(
        "{} {} → {} {} · 低 low {} {} · 高 high {} {}",
        first.0,
        percent(first.1),
        last.0,
        percent(last.1),
        percent(low.1),
        low.0,
        percent(high.1),
        high.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_with_arrows_not_colour() {
        let c = |now, before| change(&Count { now, before });
        assert_eq!(c(141, 154), "▼8.4%");
        assert_eq!(c(14, 12), "▲16.7%");
        assert_eq!(c(5, 5), "= 持平");
        assert_eq!(c(3, 0), "▲新 new");
        assert_eq!(c(0, 0), "=");
        assert_eq!(short("2026-W47"), "W47");
        assert_eq!(short("2026-03"), "3月");
    }
}
