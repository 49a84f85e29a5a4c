//! Counters for `/metrics` in the Prometheus text format. A handful of atomics is all the
//! server needs; a metrics framework would be more code than this.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

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
        out
    }
}
