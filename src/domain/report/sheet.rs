//! A whole report as the service center reads it, whatever it is rendered as (a terminal
//! table, JSON, CSV, the HTML file mailed to a manager, the Stats pane): the period's
//! [`Figures`], the trend of the periods before, the backlog, the recurring problems, the
//! help center's deflections and the knowledge sessions against the consultation trend.
//!
//! Assembled by the server (`service::reports`) from the rollup and the period's facts; the
//! renderings only read it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::figures::Figures;
use super::period::Period;
use super::session::KnowledgeSession;

/// Weekly (an ISO week) or monthly (a calendar month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    Weekly,
    Monthly,
}

impl ReportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Weekly => "weekly",
            ReportKind::Monthly => "monthly",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            ReportKind::Weekly => "周报",
            ReportKind::Monthly => "月报",
        }
    }

    /// The period of this kind that `at` falls in, read in `zone`.
    pub fn period_at(self, at: DateTime<Utc>, zone: chrono_tz::Tz) -> Period {
        match self {
            ReportKind::Weekly => Period::week_of(at, zone),
            ReportKind::Monthly => Period::month_of(at, zone),
        }
    }

    /// Whether `period` is this kind's: a week for a weekly report, a month for a monthly one.
    pub fn fits(self, period: Period) -> bool {
        matches!(
            (self, period),
            (ReportKind::Weekly, Period::Week { .. }) | (ReportKind::Monthly, Period::Month { .. })
        )
    }
}

/// A term the report uses, defined in the report itself so no reader has to guess.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Definition {
    /// `resolution_rate`, `timely_resolution_rate`, …
    pub term: String,
    /// The term as the report's Chinese labels write it.
    pub zh: String,
    pub text: String,
}

/// One period of the trend, from the rollup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TrendPoint {
    /// `2026-W47` or `2026-11`.
    pub period: String,
    pub tickets: u64,
    pub consultation: u64,
    pub data: u64,
    pub program: u64,
    pub resolved: u64,
    pub resolved_in_time: u64,
}

/// The tickets created on one local day of the period (the sparkline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DayCount {
    pub day: NaiveDate,
    pub tickets: u64,
}

/// How many open tickets are this old.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AgeBand {
    /// `<1d`, `1-3d`, `3-7d`, `7-30d`, `>30d`.
    pub label: String,
    pub tickets: u64,
}

/// The tickets not yet resolved at `as_of` (the report's end, or now for a period still
/// running), and how long they have been open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Backlog {
    pub as_of: Option<DateTime<Utc>>,
    pub open: u64,
    /// category → open tickets.
    pub by_category: std::collections::BTreeMap<String, u64>,
    pub by_age: Vec<AgeBand>,
    /// Days the oldest open ticket has waited.
    pub oldest_days: Option<i64>,
}

/// A problem that came back within the period: tickets linked to one knowledge-base article,
/// or (without one) with titles the desk's similarity matching puts together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Recurring {
    /// The article's title, or the group's most common ticket title.
    pub title: String,
    pub kb_article: Option<i64>,
    pub category: String,
    /// Systems the tickets are about, most frequent first.
    pub systems: Vec<String>,
    pub tickets: u64,
    /// A few of the tickets, newest first (for a drill-down).
    pub examples: Vec<i64>,
    /// What the group suggests: `help_article` (consultation without an article),
    /// `training` (consultation with one: people do not find it), `monitor` (data or program).
    pub suggests: String,
}

/// What submitters did with the help center's suggestions in the period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Deflections {
    pub viewed: u64,
    pub deflected: u64,
    pub submitted: u64,
}

/// One week's consultation tickets for a session's systems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WeekConsultation {
    pub week: String,
    pub consultation: u64,
    pub tickets: u64,
}

/// A knowledge session against the consultation trend of the systems it was about: the four
/// weeks before the session's week, that week, and up to four after (as far as the report
/// reaches).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionEffect {
    pub session: KnowledgeSession,
    pub weeks: Vec<WeekConsultation>,
    /// Consultations a week, on average, before and after the session's week.
    pub before_per_week: Option<f64>,
    pub after_per_week: Option<f64>,
}

/// A topic proposed for the next knowledge session: a recurring consultation question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Topic {
    pub title: String,
    pub tickets: u64,
    pub kb_article: Option<i64>,
    pub systems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Report {
    pub kind: ReportKind,
    /// `2026-W47` or `2026-11`.
    pub period: String,
    /// `[starts_at, ends_at)`: local midnight to local midnight in `time_zone`.
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The business time zone the period is read in (`Asia/Shanghai`).
    pub time_zone: String,
    pub generated_at: DateTime<Utc>,
    /// The period had no ticket; the report says so instead of showing zeros as findings.
    pub empty: bool,
    pub figures: Figures,
    pub definitions: Vec<Definition>,
    /// The last twelve periods, oldest first, ending with this one.
    pub trend: Vec<TrendPoint>,
    pub daily: Vec<DayCount>,
    pub backlog: Backlog,
    /// Most tickets first, at most ten.
    pub recurring: Vec<Recurring>,
    pub help_center: Deflections,
    /// Knowledge sessions held within the trend's reach, newest first.
    pub sessions: Vec<SessionEffect>,
    /// Proposed topics for the next session.
    pub topics: Vec<Topic>,
    /// What the report cannot show, and why, in words.
    pub notes: Vec<String>,
    /// UAT account construction in the period: runs by outcome, day and environment, why
    /// runs stopped, per-person use, mean duration per recipe.
    #[serde(default)]
    pub construction: crate::domain::construct::run::ConstructStats,
}

impl Report {
    /// The MSS share of the period's tickets, in percent (MSS adoption).
    pub fn mss_share(&self) -> Option<f64> {
        let total = self.figures.total.now;
        let mss = self.figures.by_channel.get("mss").map_or(0, |c| c.now);
        (total > 0).then(|| mss as f64 * 100.0 / total as f64)
    }
}
