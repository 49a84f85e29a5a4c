//! Puts a [`Report`] together from what the store read for it: the period's facts and the
//! period before's, the rollup's trend, the tickets open at the report's moment, the help
//! center's outcomes and the knowledge sessions with their weeks. Pure: the time is a
//! parameter.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::facts::TicketFacts;
use super::figures::{Figures, PeriodCounts};
use super::period::Period;
use super::recurring;
use super::session::KnowledgeSession;
use super::sheet::{
    AgeBand, Backlog, DayCount, Definition, Deflections, Report, ReportKind, SessionEffect,
    TrendPoint, WeekConsultation,
};
use crate::domain::ticket::Category;

/// Periods in the trend.
pub const TREND_PERIODS: usize = 12;
/// Weeks either side of a knowledge session's week that its effect is read over.
pub const SESSION_WEEKS: usize = 4;
/// Recurring problems and proposed topics a report lists.
const RECURRING: usize = 10;
const TOPICS: usize = 5;

/// What the store read for one report.
pub struct Gathered {
    pub kind: ReportKind,
    pub period: Period,
    pub zone: chrono_tz::Tz,
    pub now: DateTime<Utc>,
    pub facts: Vec<TicketFacts>,
    /// The period before's counts, from the rollup.
    pub before: PeriodCounts,
    /// [`TREND_PERIODS`] periods, oldest first, ending with `period`.
    pub trend: Vec<TrendPoint>,
    /// When each ticket open at [`as_of`] was created, and its category.
    pub open: Vec<(DateTime<Utc>, Category)>,
    pub kb_titles: HashMap<i64, String>,
    /// Help-center outcomes in the period: `viewed`, `deflected`, `submitted` → count.
    pub outcomes: Vec<(String, u64)>,
    /// Each session with the weeks [`session_weeks`] named for it.
    pub sessions: Vec<(KnowledgeSession, Vec<WeekConsultation>)>,
    /// Account construction in the period.
    pub construction: crate::domain::construct::run::ConstructStats,
}

/// The moment a report reads the backlog at: its end, or now for a period still running.
pub fn as_of(period: Period, zone: chrono_tz::Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    period.bounds(zone).1.min(now)
}

/// The local days of the trend's reach: sessions held in them are shown.
pub fn sessions_reach(period: Period) -> (NaiveDate, NaiveDate) {
    let first = period.last(TREND_PERIODS)[0];
    (first.days().0, period.days().1 - Duration::days(1))
}

/// The weeks a session's effect is read over: up to [`SESSION_WEEKS`] before its week, its
/// week, and up to [`SESSION_WEEKS`] after, none past the report's last week.
pub fn session_weeks(held_on: NaiveDate, period: Period) -> Vec<Period> {
    let week = Period::week_of_day(held_on);
    let last = Period::week_of_day(period.days().1 - Duration::days(1));
    let mut weeks = week.last(SESSION_WEEKS + 1);
    let mut next = week;
    for _ in 0..SESSION_WEEKS {
        let (_, after) = next.days();
        next = Period::week_of_day(after);
        if next > last {
            break;
        }
        weeks.push(next);
    }
    weeks
}

pub fn definitions() -> Vec<Definition> {
    let d = |term: &str, zh: &str, text: &str| Definition {
        term: term.into(),
        zh: zh.into(),
        text: text.into(),
    };
    vec![
        d(
            "resolution_rate",
            "解决率",
            "本期创建的事件中，截至报告生成时已解决（含已关闭）的比例。Of the tickets created in the period, the share resolved by the time of the report.",
        ),
        d(
            "timely_resolution_rate",
            "及时解决率",
            "已解决的事件中，在其优先级的 SLA 时限内解决的比例：P1 按自然时间计，其余按业务日历的工作时间计；等待提交人回复的时间不计。Of those resolved, the share resolved within their priority's SLA: P1 around the clock, the others in business hours on the business calendar; time waiting on the submitter does not count.",
        ),
        d(
            "consultation_share",
            "咨询类占比",
            "本期事件中咨询类的比例。The share of the period's tickets that are consultations.",
        ),
        d(
            "backlog",
            "积压",
            "报告时点（期末，或进行中的本期为当前时刻）尚未解决的事件，按已等待时长分段。Tickets not yet resolved at the report's moment (the period's end, or now for a period still running), by how long they have waited.",
        ),
        d(
            "deflection",
            "自助解决",
            "提交人在帮助中心看了推荐文章后未提交事件。A submitter who read a suggested help-center article and did not submit.",
        ),
    ]
}

fn backlog(open: &[(DateTime<Utc>, Category)], as_of: DateTime<Utc>) -> Backlog {
    const BANDS: [(&str, i64); 5] = [
        ("<1d", 1),
        ("1-3d", 3),
        ("3-7d", 7),
        ("7-30d", 30),
        (">30d", i64::MAX),
    ];
    let mut by_age: Vec<AgeBand> = BANDS
        .iter()
        .map(|(label, _)| AgeBand {
            label: label.to_string(),
            tickets: 0,
        })
        .collect();
    let mut by_category: BTreeMap<String, u64> = BTreeMap::new();
    let mut oldest: Option<Duration> = None;
    for (created, category) in open {
        let age = as_of - *created;
        let days = age.num_seconds().max(0) as f64 / 86_400.0;
        let band = BANDS
            .iter()
            .position(|(_, upto)| days < *upto as f64)
            .unwrap_or(BANDS.len() - 1);
        by_age[band].tickets += 1;
        *by_category
            .entry(category.as_str().to_string())
            .or_default() += 1;
        oldest = Some(oldest.map_or(age, |o| o.max(age)));
    }
    Backlog {
        as_of: Some(as_of),
        open: open.len() as u64,
        by_category,
        by_age,
        oldest_days: oldest.map(|o| o.num_days().max(0)),
    }
}

fn daily(period: Period, zone: chrono_tz::Tz, facts: &[TicketFacts]) -> Vec<DayCount> {
    let (first, after) = period.days();
    let mut counts: BTreeMap<NaiveDate, u64> = first
        .iter_days()
        .take_while(|d| *d < after)
        .map(|d| (d, 0))
        .collect();
    for f in facts {
        if let Some(n) = counts.get_mut(&f.created_at.with_timezone(&zone).date_naive()) {
            *n += 1;
        }
    }
    counts
        .into_iter()
        .map(|(day, tickets)| DayCount { day, tickets })
        .collect()
}

fn effect(session: KnowledgeSession, weeks: Vec<WeekConsultation>) -> SessionEffect {
    let held = Period::week_of_day(session.held_on).to_string();
    let at = weeks.iter().position(|w| w.week == held);
    let per_week = |ws: &[WeekConsultation]| {
        (!ws.is_empty())
            .then(|| ws.iter().map(|w| w.consultation).sum::<u64>() as f64 / ws.len() as f64)
    };
    let (before, after) = match at {
        Some(i) => (per_week(&weeks[..i]), per_week(&weeks[i + 1..])),
        None => (None, None),
    };
    SessionEffect {
        session,
        weeks,
        before_per_week: before,
        after_per_week: after,
    }
}

fn deflections(outcomes: &[(String, u64)]) -> Deflections {
    let count = |name: &str| {
        outcomes
            .iter()
            .filter(|(o, _)| o == name)
            .map(|(_, n)| *n)
            .sum()
    };
    Deflections {
        viewed: count("viewed"),
        deflected: count("deflected"),
        submitted: count("submitted"),
    }
}

pub fn assemble(g: Gathered) -> Report {
    let (starts_at, ends_at) = g.period.bounds(g.zone);
    let figures = Figures::of(g.period, &g.facts, &g.before);
    let recurring = recurring::recurring(&g.facts, &g.kb_titles, RECURRING);
    let topics = recurring::topics(&recurring, TOPICS);
    Report {
        kind: g.kind,
        period: g.period.to_string(),
        starts_at,
        ends_at,
        time_zone: g.zone.name().to_string(),
        generated_at: g.now,
        empty: figures.is_empty(),
        definitions: definitions(),
        trend: g.trend,
        daily: daily(g.period, g.zone, &g.facts),
        backlog: backlog(&g.open, as_of(g.period, g.zone, g.now)),
        recurring,
        help_center: deflections(&g.outcomes),
        sessions: g
            .sessions
            .into_iter()
            .map(|(s, weeks)| effect(s, weeks))
            .collect(),
        topics,
        notes: Vec::new(),
        construction: g.construction,
        figures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_backlog_is_read_at_the_period_end_and_banded_by_age() {
        let week = Period::parse("2026-W47").unwrap();
        // The week ends Sunday 2026-11-22 24:00 Shanghai = 16:00 UTC.
        let end = as_of(week, SHANGHAI, at("2026-12-07T00:00:00Z"));
        assert_eq!(end, at("2026-11-22T16:00:00Z"));
        assert_eq!(
            as_of(week, SHANGHAI, at("2026-11-20T00:00:00Z")),
            at("2026-11-20T00:00:00Z")
        );
        let open = [
            (at("2026-11-22T10:00:00Z"), Category::Consultation), // 6 h
            (at("2026-11-20T16:00:00Z"), Category::Data),         // exactly 2 d
            (at("2026-11-15T15:00:00Z"), Category::Data),         // 7 d 1 h
            (at("2026-10-01T00:00:00Z"), Category::Program),      // 52 d
        ];
        let b = backlog(&open, end);
        let bands: Vec<u64> = b.by_age.iter().map(|a| a.tickets).collect();
        assert_eq!(bands, [1, 1, 0, 1, 1]);
        assert_eq!(b.open, 4);
        assert_eq!(b.by_category["data"], 2);
        assert_eq!(b.oldest_days, Some(52));
    }

    #[test]
    fn a_sessions_weeks_stop_at_the_report() {
        let week = Period::parse("2026-W47").unwrap();
        // Held Thursday of W45: W41–W44 before, W45, then W46 and W47 only.
        let held: NaiveDate = "2026-11-05".parse().unwrap();
        let weeks: Vec<String> = session_weeks(held, week)
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            weeks,
            [
                "2026-W41", "2026-W42", "2026-W43", "2026-W44", "2026-W45", "2026-W46", "2026-W47"
            ]
        );
        let counts: Vec<WeekConsultation> = weeks
            .iter()
            .zip([90, 94, 88, 92, 80, 66, 70])
            .map(|(w, c)| WeekConsultation {
                week: w.clone(),
                consultation: c,
                tickets: c + 10,
            })
            .collect();
        let session = KnowledgeSession {
            id: 1,
            version: 1,
            held_on: held,
            topic: "如何正确报障".into(),
            systems: vec!["trading".into()],
            kb_articles: vec![],
            live_viewers: Some(180),
            total_views: Some(700),
            recorded_by: "h_chen".into(),
            created_at: at("2026-11-05T10:00:00Z"),
            updated_at: at("2026-11-05T10:00:00Z"),
        };
        let e = effect(session, counts);
        assert_eq!(e.before_per_week, Some(91.0));
        assert_eq!(e.after_per_week, Some(68.0));
    }

    #[test]
    fn every_day_of_the_period_has_its_count_in_the_business_zone() {
        let week = Period::parse("2026-W47").unwrap();
        let mut f: TicketFacts = serde_json::from_value(serde_json::json!({
            "id": 1, "created_at": "2026-11-22T15:59:00Z", "category": "consultation",
            "subcategory": null, "title": "t", "system": "trading", "channel": "mss",
            "priority": "P3", "assignee": null, "resolved_at": null,
            "first_response_secs": null, "resolution_secs": null,
            "resolved_in_time": null, "kb_article": null
        }))
        .unwrap();
        let sunday_late = f.clone();
        f.created_at = at("2026-11-15T16:00:00Z"); // Monday 00:00 Shanghai
        let days = daily(week, SHANGHAI, &[sunday_late, f]);
        assert_eq!(days.len(), 7);
        assert_eq!(days[0].day.to_string(), "2026-11-16");
        assert_eq!(days[0].tickets, 1);
        assert_eq!(days[6].day.to_string(), "2026-11-22");
        assert_eq!(days[6].tickets, 1);
    }
}
