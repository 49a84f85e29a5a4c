//! Counters for `/metrics` in the Prometheus text format. A handful of atomics is all the
//! server needs; a metrics framework would be more code than this.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::domain::calendar::{BusinessCalendar, COVERAGE_HORIZON_DAYS};
use crate::store::notifications::Counts;

#[derive(Default)]
pub struct Metrics {
    /// Responses by status class: 1xx … 5xx.
    responses: [AtomicU64; 5],
    pub shed: AtomicU64,
    pub event_streams: AtomicI64,
    /// Notifications delivered by the notify worker since start.
    pub notify_sent: AtomicU64,
    /// Failed delivery attempts since start (each retry that fails counts again).
    pub notify_failures: AtomicU64,
    /// MSS logins by outcome: ok, wrong, locked, throttled (see [`LoginOutcome`]).
    mss_logins: [AtomicU64; 4],
    /// Tickets submitted from the MSS form.
    pub mss_submissions: AtomicU64,
}

/// How far the holiday calendar files reach from today: read at start-up (a warning in the log)
/// and for each scrape (two gauges), so a missing year shows before its first holiday.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CalendarCoverage {
    /// Days from today on, today included, covered without a gap.
    pub covered_days: u64,
    /// The first day within the horizon that no calendar file covers.
    pub uncovered: Option<NaiveDate>,
}

impl CalendarCoverage {
    pub fn read(calendar: &BusinessCalendar, now: DateTime<Utc>) -> Self {
        let today = calendar.local_date(now);
        Self {
            covered_days: calendar.covered_days(today),
            uncovered: calendar.uncovered_from(today, COVERAGE_HORIZON_DAYS),
        }
    }

    /// Logs a warning naming the uncovered day and the file to add, if there is one.
    pub fn warn(&self) {
        let Some(date) = self.uncovered else { return };
        let year = date.year();
        tracing::warn!(
            uncovered = %date,
            file = %format!("cn-{year}.toml"),
            "the business calendar has no holiday file for {year}: from {date} business-time SLA \
             clocks count public holidays as working days. Write cn-{year}.toml from the State \
             Council's notice (the format of fixtures/calendar/cn-2027.toml) and list it in \
             business.calendar_files in opsdesk.toml"
        );
    }
}

/// What became of an MSS login attempt.
#[derive(Clone, Copy, Debug)]
pub enum LoginOutcome {
    Ok = 0,
    /// A wrong password (or unknown name).
    Wrong = 1,
    /// The username is locked after repeated wrong passwords.
    Locked = 2,
    /// The client address used up its window.
    Throttled = 3,
}

const LOGIN_OUTCOMES: [&str; 4] = ["ok", "wrong", "locked", "throttled"];

impl Metrics {
    pub fn count_login(&self, outcome: LoginOutcome) {
        self.mss_logins[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_response(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.responses[class].fetch_add(1, Ordering::Relaxed);
    }

    /// Renders the counters plus the store figures read for this scrape.
    pub fn render(
        &self,
        tickets_by_status: &[(String, u64)],
        latest_seq: i64,
        notifications: &Counts,
        calendar: &CalendarCoverage,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP opsdesk_http_responses_total HTTP responses by status class."
        );
        let _ = writeln!(out, "# TYPE opsdesk_http_responses_total counter");
        for (i, n) in self.responses.iter().enumerate() {
            let _ = writeln!(
                out,
                "opsdesk_http_responses_total{{class=\"{}xx\"}} {}",
                i + 1,
                n.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP opsdesk_http_shed_total Requests refused with 503 because the server was at its concurrency limit."
        );
        let _ = writeln!(out, "# TYPE opsdesk_http_shed_total counter");
        let _ = writeln!(
            out,
            "opsdesk_http_shed_total {}",
            self.shed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP opsdesk_event_streams Open /api/v1/events streams."
        );
        let _ = writeln!(out, "# TYPE opsdesk_event_streams gauge");
        let _ = writeln!(
            out,
            "opsdesk_event_streams {}",
            self.event_streams.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "# HELP opsdesk_tickets Tickets by status.");
        let _ = writeln!(out, "# TYPE opsdesk_tickets gauge");
        for (status, n) in tickets_by_status {
            let _ = writeln!(out, "opsdesk_tickets{{status=\"{status}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP opsdesk_change_seq The newest change sequence number."
        );
        let _ = writeln!(out, "# TYPE opsdesk_change_seq gauge");
        let _ = writeln!(out, "opsdesk_change_seq {latest_seq}");
        let _ = writeln!(
            out,
            "# HELP opsdesk_notifications Undelivered notifications: pending (not tried yet), retrying (failed, will be tried again), failed (given up)."
        );
        let _ = writeln!(out, "# TYPE opsdesk_notifications gauge");
        for (state, n) in [
            ("pending", notifications.pending),
            ("retrying", notifications.retrying),
            ("failed", notifications.failed),
        ] {
            let _ = writeln!(out, "opsdesk_notifications{{state=\"{state}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP opsdesk_notifications_sent_total Notifications delivered since start."
        );
        let _ = writeln!(out, "# TYPE opsdesk_notifications_sent_total counter");
        let _ = writeln!(
            out,
            "opsdesk_notifications_sent_total {}",
            self.notify_sent.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP opsdesk_notification_failures_total Failed notification delivery attempts since start."
        );
        let _ = writeln!(out, "# TYPE opsdesk_notification_failures_total counter");
        let _ = writeln!(
            out,
            "opsdesk_notification_failures_total {}",
            self.notify_failures.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP opsdesk_mss_logins_total MSS login attempts since start, by outcome."
        );
        let _ = writeln!(out, "# TYPE opsdesk_mss_logins_total counter");
        for (name, n) in LOGIN_OUTCOMES.iter().zip(&self.mss_logins) {
            let _ = writeln!(
                out,
                "opsdesk_mss_logins_total{{result=\"{name}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP opsdesk_mss_submissions_total Tickets submitted from the MSS form since start."
        );
        let _ = writeln!(out, "# TYPE opsdesk_mss_submissions_total counter");
        let _ = writeln!(
            out,
            "opsdesk_mss_submissions_total {}",
            self.mss_submissions.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP opsdesk_calendar_covered_days Days from today on (today included) that holiday calendar files cover without a gap; after them business-time SLA clocks count public holidays as working days."
        );
        let _ = writeln!(out, "# TYPE opsdesk_calendar_covered_days gauge");
        let _ = writeln!(
            out,
            "opsdesk_calendar_covered_days {}",
            calendar.covered_days
        );
        let _ = writeln!(
            out,
            "# HELP opsdesk_calendar_coverage_ok 1 when holiday calendar files cover today and the next {COVERAGE_HORIZON_DAYS} days, 0 when next year's file is due (business.calendar_files)."
        );
        let _ = writeln!(out, "# TYPE opsdesk_calendar_coverage_ok gauge");
        let _ = writeln!(
            out,
            "opsdesk_calendar_coverage_ok {}",
            u8::from(calendar.uncovered.is_none())
        );
        out
    }
}

/// The monitors' lines: evaluations recorded since the server started, by outcome, and the
/// alerts open now by state (`(firing, acknowledged)`).
pub fn render_monitors(
    out: &mut String,
    evaluations: &[(crate::api::monitors::Outcome, u64)],
    (firing, acknowledged): (i64, i64),
) {
    let _ = writeln!(
        out,
        "# HELP opsdesk_monitor_evaluations_total Monitor evaluations recorded by outcome (ok, firing, error)."
    );
    let _ = writeln!(out, "# TYPE opsdesk_monitor_evaluations_total counter");
    for (outcome, n) in evaluations {
        let _ = writeln!(
            out,
            "opsdesk_monitor_evaluations_total{{outcome=\"{outcome}\"}} {n}"
        );
    }
    let _ = writeln!(out, "# HELP opsdesk_alerts Alerts not resolved, by state.");
    let _ = writeln!(out, "# TYPE opsdesk_alerts gauge");
    let _ = writeln!(out, "opsdesk_alerts{{state=\"firing\"}} {firing}");
    let _ = writeln!(
        out,
        "opsdesk_alerts{{state=\"acknowledged\"}} {acknowledged}"
    );
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn calendar_coverage_is_read_in_the_calendars_zone_and_rendered() {
        let cal = BusinessCalendar::china_default();
        // 2027-11-01 16:00 UTC is already 2 November in Shanghai: a day short of the horizon.
        let now = Utc.with_ymd_and_hms(2027, 11, 1, 16, 0, 0).unwrap();
        let short = CalendarCoverage::read(&cal, now);
        assert_eq!(
            short,
            CalendarCoverage {
                covered_days: 60,
                uncovered: NaiveDate::from_ymd_opt(2028, 1, 1),
            }
        );
        let text = Metrics::default().render(&[], 0, &Counts::default(), &short);
        assert!(
            text.contains("\nopsdesk_calendar_covered_days 60\n"),
            "{text}"
        );
        assert!(
            text.contains("\nopsdesk_calendar_coverage_ok 0\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE opsdesk_calendar_coverage_ok gauge"),
            "{text}"
        );

        let earlier = Utc.with_ymd_and_hms(2027, 10, 31, 16, 0, 0).unwrap();
        let fine = CalendarCoverage::read(&cal, earlier);
        assert_eq!(fine.uncovered, None);
        let text = Metrics::default().render(&[], 0, &Counts::default(), &fine);
        assert!(
            text.contains("\nopsdesk_calendar_covered_days 61\n"),
            "{text}"
        );
        assert!(
            text.contains("\nopsdesk_calendar_coverage_ok 1\n"),
            "{text}"
        );
    }
}
