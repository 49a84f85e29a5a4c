//! SLA clocks: how much of a ticket's first-response and resolve targets is used up, when each is
//! due, and why a clock is standing still.
//!
//! A clock counts either wall-clock time (`Continuous`, P1 by default) or working time on the
//! business calendar (`Business`), minus the time the ticket waited on its submitter. Those
//! pauses are stored as wall-clock intervals, not as counted seconds, so a priority change —
//! which can change the target and the clock kind — keeps every pause exactly, even one still
//! open.
//!
//! Pure: no IO and no clock. `now` is a parameter; the TUI ticks it once a second, the server
//! passes the request time. Every function accepts any input without panicking: unsorted or
//! overlapping pauses, pauses before the start, a stop before the start.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::{BusinessCalendar, ClosedReason};
use super::ticket::Priority;

/// What an SLA clock counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Working time on the business calendar.
    Business,
    /// Wall-clock time, 24×7.
    Continuous,
}

/// The targets of one priority, in counted seconds of its clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTarget {
    pub first_response_secs: i64,
    pub resolve_secs: i64,
    pub clock: ClockKind,
}

/// The SLA targets of every priority, and when a clock counts as due soon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaPolicy {
    /// Indexed by `slot(priority)`; an array so every priority always has a target.
    targets: [SlaTarget; 4],
    due_soon_percent: u8,
}

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;

impl Default for SlaPolicy {
    fn default() -> Self {
        let target = |first_response_secs, resolve_secs, clock| SlaTarget {
            first_response_secs,
            resolve_secs,
            clock,
        };
        Self {
            targets: [
                target(15 * MINUTE, 4 * HOUR, ClockKind::Continuous),
                target(30 * MINUTE, 8 * HOUR, ClockKind::Business),
                target(2 * HOUR, 24 * HOUR, ClockKind::Business),
                target(4 * HOUR, 40 * HOUR, ClockKind::Business),
            ],
            due_soon_percent: 25,
        }
    }
}

impl SlaPolicy {
    pub fn target(&self, p: Priority) -> SlaTarget {
        self.targets[slot(p)]
    }

    pub fn set_target(&mut self, p: Priority, t: SlaTarget) {
        self.targets[slot(p)] = t;
    }

    /// A running clock is due soon when less than this share (in percent) of its target is left.
    pub fn due_soon_percent(&self) -> u8 {
        self.due_soon_percent
    }

    /// Values over 100 are taken as 100 (always due soon): more than the whole target cannot
    /// be left.
    pub fn set_due_soon_percent(&mut self, v: u8) {
        self.due_soon_percent = v.min(100);
    }
}

fn slot(p: Priority) -> usize {
    match p {
        Priority::P1 => 0,
        Priority::P2 => 1,
        Priority::P3 => 2,
        Priority::P4 => 3,
    }
}

/// A stretch of wall-clock time in which a ticket waited on its submitter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPause {
    pub from: DateTime<Utc>,
    /// `None` while still waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

/// Why a clock is not counting right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PauseReason {
    WaitingSubmitter,
    /// A business clock while the calendar is closed.
    Closed(ClosedReason),
}

impl PauseReason {
    pub fn describe_zh(&self) -> String {
        match self {
            PauseReason::WaitingSubmitter => "等待提交人补充信息".to_string(),
            PauseReason::Closed(reason) => reason.describe_zh(),
        }
    }

    pub fn describe_en(&self) -> String {
        match self {
            PauseReason::WaitingSubmitter => "waiting on the submitter".to_string(),
            PauseReason::Closed(reason) => reason.describe_en(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// Counting (or only held by a closed calendar), more than the due-soon share left.
    Running,
    /// Counting, less than the due-soon share of the target left.
    DueSoon,
    /// Waiting on the submitter, not yet breached.
    Paused,
    /// Not stopped and the target is used up. A pause never hides a breach.
    Breached,
    /// Stopped in time.
    Met,
    /// Stopped late.
    Missed,
}

/// One clock as the TUI shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaReading {
    pub state: SlaState,
    /// When the target is or was due; while paused, projected as if the clock resumed now.
    pub due: DateTime<Utc>,
    /// Counted seconds left (negative once breached); for Met/Missed, what was left at the stop.
    pub remaining_secs: i64,
    /// Why the clock is not counting right now: waiting on the submitter, or the calendar is
    /// closed (a business clock at night is `Running` with `Closed(OutsideHours)` here). `None`
    /// once stopped.
    pub paused: Option<PauseReason>,
}

/// Starts waiting on the submitter at `at`; does nothing while a pause is already open.
pub fn pause(pauses: &mut Vec<SlaPause>, at: DateTime<Utc>) {
    if !is_paused(pauses) {
        pauses.push(SlaPause {
            from: at,
            until: None,
        });
    }
}

/// Ends the open pause at `at`; does nothing when none is open. A resume timed before its pause
/// began (clock skew between machines) closes it empty rather than inverted.
pub fn resume(pauses: &mut [SlaPause], at: DateTime<Utc>) {
    // Every open pause, not just the last: stored data with two open ones must not stay paused
    // forever.
    for p in pauses.iter_mut().filter(|p| p.until.is_none()) {
        p.until = Some(at.max(p.from));
    }
}

pub fn is_paused(pauses: &[SlaPause]) -> bool {
    pauses.iter().any(|p| p.until.is_none())
}

/// Counted seconds between `started_at` and `min(now, stopped_at)`, minus counted seconds inside
/// pauses. Time before `started_at` never counts, overlapping pauses count once, and a stop
/// before the start gives 0.
pub fn elapsed(
    kind: ClockKind,
    started_at: DateTime<Utc>,
    stopped_at: Option<DateTime<Utc>>,
    pauses: &[SlaPause],
    now: DateTime<Utc>,
    cal: &BusinessCalendar,
) -> i64 {
    let end = stopped_at.map_or(now, |stop| stop.min(now));
    running_spans(started_at, end, pauses)
        .into_iter()
        .map(|(a, b)| counted(kind, cal, a, b))
        .fold(TimeDelta::zero(), add_saturating)
        .num_seconds()
}

/// Reads one clock (first response or resolve) of a ticket at `now`.
// Each argument is a separate stored field of the ticket or the policy; a struct for them
// would only be unpacked again here.
#[allow(clippy::too_many_arguments)]
pub fn read(
    target_secs: i64,
    kind: ClockKind,
    due_soon_percent: u8,
    started_at: DateTime<Utc>,
    stopped_at: Option<DateTime<Utc>>,
    pauses: &[SlaPause],
    now: DateTime<Utc>,
    cal: &BusinessCalendar,
) -> SlaReading {
    // A stop in the future (a reading of the past) is not a stop yet.
    let stopped = stopped_at.filter(|stop| *stop <= now);
    let end = stopped.unwrap_or(now);
    let used = elapsed(kind, started_at, stopped, pauses, now, cal);
    let remaining_secs = target_secs.saturating_sub(used);
    let due = due_at(target_secs, kind, started_at, pauses, end, cal);

    if stopped.is_some() {
        let state = if remaining_secs >= 0 {
            SlaState::Met
        } else {
            SlaState::Missed
        };
        return SlaReading {
            state,
            due,
            remaining_secs,
            paused: None,
        };
    }

    let waiting = waiting_at(pauses, now);
    let paused = if waiting {
        Some(PauseReason::WaitingSubmitter)
    } else if kind == ClockKind::Business {
        cal.closed_reason(now).map(PauseReason::Closed)
    } else {
        None
    };
    let state = if remaining_secs <= 0 {
        SlaState::Breached
    } else if waiting {
        SlaState::Paused
    } else if is_due_soon(remaining_secs, target_secs, due_soon_percent) {
        SlaState::DueSoon
    } else {
        SlaState::Running
    };
    SlaReading {
        state,
        due,
        remaining_secs,
        paused,
    }
}

fn is_due_soon(remaining_secs: i64, target_secs: i64, percent: u8) -> bool {
    // i128: both products of an i64 and 100 fit.
    i128::from(remaining_secs) * 100 < i128::from(target_secs) * i128::from(percent)
}

/// Whether the ticket is waiting on its submitter at `now`. Also true inside a closed pause, so a
/// reading of the past says what it said then.
fn waiting_at(pauses: &[SlaPause], now: DateTime<Utc>) -> bool {
    pauses
        .iter()
        .any(|p| p.from <= now && p.until.is_none_or(|until| now < until))
}

/// When the clock reaches its target: walk the running spans from the start, pauses ending no
/// later than `end` (an open one ends there, as if the clock resumed at `end`), and after the
/// last pause the clock runs on unpaused.
fn due_at(
    target_secs: i64,
    kind: ClockKind,
    started_at: DateTime<Utc>,
    pauses: &[SlaPause],
    end: DateTime<Utc>,
    cal: &BusinessCalendar,
) -> DateTime<Utc> {
    let mut need = TimeDelta::try_seconds(target_secs).unwrap_or(TimeDelta::MAX);
    if need <= TimeDelta::zero() {
        return started_at;
    }
    let mut cursor = started_at;
    for (pause_from, pause_until) in paused_spans(started_at, end, pauses) {
        let available = counted(kind, cal, cursor, pause_from);
        if need <= available {
            return advance(kind, cal, cursor, need);
        }
        need -= available;
        cursor = pause_until;
    }
    advance(kind, cal, cursor, need)
}

/// The instant `need` counted time after `from`, with no pauses in between.
fn advance(
    kind: ClockKind,
    cal: &BusinessCalendar,
    from: DateTime<Utc>,
    need: TimeDelta,
) -> DateTime<Utc> {
    match kind {
        ClockKind::Continuous => from
            .checked_add_signed(need)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
        // Rounded up to the whole second, so that the clock has surely run out at `due`.
        ClockKind::Business => {
            let secs = need.num_seconds() + i64::from(need.subsec_nanos() > 0);
            cal.add_business_seconds(from, secs)
        }
    }
}

fn counted(
    kind: ClockKind,
    cal: &BusinessCalendar,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> TimeDelta {
    if to <= from {
        return TimeDelta::zero();
    }
    match kind {
        ClockKind::Continuous => to - from,
        ClockKind::Business => cal.business_time(from, to),
    }
}

fn add_saturating(a: TimeDelta, b: TimeDelta) -> TimeDelta {
    a.checked_add(&b).unwrap_or(TimeDelta::MAX)
}

/// The pauses inside `[start, end]`, clipped to it, sorted and merged, so that overlapping or
/// repeated pauses count once. An open pause runs to `end`.
fn paused_spans(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    pauses: &[SlaPause],
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut spans: Vec<_> = pauses
        .iter()
        .filter_map(|p| {
            let from = p.from.max(start);
            let until = p.until.unwrap_or(end).min(end);
            (from < until).then_some((from, until))
        })
        .collect();
    spans.sort();
    let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::with_capacity(spans.len());
    for (from, until) in spans {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(until),
            _ => merged.push((from, until)),
        }
    }
    merged
}

/// `[start, end]` less the pauses: where the clock ran.
fn running_spans(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    pauses: &[SlaPause],
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut spans = Vec::new();
    let mut cursor = start;
    for (from, until) in paused_spans(start, end, pauses) {
        if cursor < from {
            spans.push((cursor, from));
        }
        cursor = until;
    }
    if cursor < end {
        spans.push((cursor, end));
    }
    spans
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// A Shanghai wall-clock time as a UTC instant.
    fn sh(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn paused(from: DateTime<Utc>, until: Option<DateTime<Utc>>) -> SlaPause {
        SlaPause { from, until }
    }

    const DAY: i64 = 9 * HOUR; // 08:30–17:30

    #[test]
    fn default_policy() {
        let policy = SlaPolicy::default();
        let cases = [
            (Priority::P1, 15 * MINUTE, 4 * HOUR, ClockKind::Continuous),
            (Priority::P2, 30 * MINUTE, 8 * HOUR, ClockKind::Business),
            (Priority::P3, 2 * HOUR, 24 * HOUR, ClockKind::Business),
            (Priority::P4, 4 * HOUR, 40 * HOUR, ClockKind::Business),
        ];
        for (p, first, resolve, clock) in cases {
            let t = policy.target(p);
            assert_eq!(
                (t.first_response_secs, t.resolve_secs, t.clock),
                (first, resolve, clock),
                "{p:?}"
            );
        }
        assert_eq!(policy.due_soon_percent(), 25);
    }

    #[test]
    fn policy_setters() {
        let mut policy = SlaPolicy::default();
        let t = SlaTarget {
            first_response_secs: 60,
            resolve_secs: 600,
            clock: ClockKind::Continuous,
        };
        policy.set_target(Priority::P3, t);
        assert_eq!(policy.target(Priority::P3), t);
        assert_eq!(
            policy.target(Priority::P2),
            SlaPolicy::default().target(Priority::P2)
        );
        policy.set_due_soon_percent(40);
        assert_eq!(policy.due_soon_percent(), 40);
        policy.set_due_soon_percent(250);
        assert_eq!(policy.due_soon_percent(), 100);
    }

    #[test]
    fn pause_and_resume_bookkeeping() {
        let mut pauses = Vec::new();
        assert!(!is_paused(&pauses));
        resume(&mut pauses, sh(2026, 3, 10, 9, 0));
        assert!(pauses.is_empty(), "resume without a pause does nothing");
        pause(&mut pauses, sh(2026, 3, 10, 10, 0));
        pause(&mut pauses, sh(2026, 3, 10, 10, 30));
        assert_eq!(
            pauses,
            [paused(sh(2026, 3, 10, 10, 0), None)],
            "second pause is a no-op"
        );
        assert!(is_paused(&pauses));
        resume(&mut pauses, sh(2026, 3, 10, 11, 0));
        assert!(!is_paused(&pauses));
        resume(&mut pauses, sh(2026, 3, 10, 12, 0));
        assert_eq!(
            pauses,
            [paused(sh(2026, 3, 10, 10, 0), Some(sh(2026, 3, 10, 11, 0)))]
        );
        // A resume stamped before its pause closes it empty.
        pause(&mut pauses, sh(2026, 3, 10, 14, 0));
        resume(&mut pauses, sh(2026, 3, 10, 13, 0));
        assert_eq!(
            pauses[1],
            paused(sh(2026, 3, 10, 14, 0), Some(sh(2026, 3, 10, 14, 0)))
        );
    }

    #[test]
    fn pause_serde_leaves_out_an_open_end() {
        let open = paused(sh(2026, 3, 10, 10, 0), None);
        let json = serde_json::to_string(&open).unwrap();
        assert_eq!(json, r#"{"from":"2026-03-10T02:00:00Z"}"#);
        assert_eq!(serde_json::from_str::<SlaPause>(&json).unwrap(), open);
        let closed = paused(sh(2026, 3, 10, 10, 0), Some(sh(2026, 3, 10, 11, 0)));
        let json = serde_json::to_string(&closed).unwrap();
        assert_eq!(serde_json::from_str::<SlaPause>(&json).unwrap(), closed);
        assert_eq!(
            serde_json::to_string(&SlaState::DueSoon).unwrap(),
            "\"due_soon\""
        );
        assert_eq!(
            serde_json::to_string(&ClockKind::Continuous).unwrap(),
            "\"continuous\""
        );
    }

    #[test]
    fn elapsed_table() {
        let cal = BusinessCalendar::china_default();
        let tue9 = sh(2026, 3, 10, 9, 0);
        let cases = [
            (
                "pause and resume across days",
                ClockKind::Business,
                tue9,
                None,
                vec![paused(
                    sh(2026, 3, 10, 16, 30),
                    Some(sh(2026, 3, 12, 10, 0)),
                )],
                sh(2026, 3, 12, 11, 0),
                // 09:00–16:30 on Tuesday, 10:00–11:00 on Thursday.
                7 * HOUR + 1_800 + HOUR,
            ),
            (
                "same without the pause",
                ClockKind::Business,
                tue9,
                None,
                vec![],
                sh(2026, 3, 12, 11, 0),
                8 * HOUR + 1_800 + DAY + 2 * HOUR + 1_800,
            ),
            (
                "continuous ignores the calendar",
                ClockKind::Continuous,
                tue9,
                None,
                vec![paused(sh(2026, 3, 10, 10, 0), Some(sh(2026, 3, 10, 12, 0)))],
                sh(2026, 3, 11, 9, 0),
                22 * HOUR,
            ),
            (
                "open pause runs to now",
                ClockKind::Continuous,
                tue9,
                None,
                vec![paused(sh(2026, 3, 10, 10, 0), None)],
                sh(2026, 3, 10, 15, 0),
                HOUR,
            ),
            (
                "overlapping and unsorted pauses count once",
                ClockKind::Continuous,
                tue9,
                None,
                vec![
                    paused(sh(2026, 3, 10, 11, 0), Some(sh(2026, 3, 10, 13, 0))),
                    paused(sh(2026, 3, 10, 10, 0), Some(sh(2026, 3, 10, 12, 0))),
                    paused(sh(2026, 3, 10, 10, 30), Some(sh(2026, 3, 10, 10, 45))),
                    paused(sh(2026, 3, 10, 12, 30), None),
                ],
                sh(2026, 3, 10, 14, 0),
                HOUR,
            ),
            (
                "pauses before the start are clipped",
                ClockKind::Continuous,
                tue9,
                None,
                vec![paused(sh(2026, 3, 10, 7, 0), Some(sh(2026, 3, 10, 10, 0)))],
                sh(2026, 3, 10, 12, 0),
                2 * HOUR,
            ),
            (
                "an inverted pause is ignored",
                ClockKind::Continuous,
                tue9,
                None,
                vec![paused(sh(2026, 3, 10, 11, 0), Some(sh(2026, 3, 10, 10, 0)))],
                sh(2026, 3, 10, 12, 0),
                3 * HOUR,
            ),
            (
                "stops at the stop",
                ClockKind::Continuous,
                tue9,
                Some(sh(2026, 3, 10, 10, 0)),
                vec![],
                sh(2026, 3, 11, 12, 0),
                HOUR,
            ),
            (
                "stopped before started",
                ClockKind::Business,
                tue9,
                Some(sh(2026, 3, 10, 8, 0)),
                vec![],
                sh(2026, 3, 11, 12, 0),
                0,
            ),
            (
                "now before started",
                ClockKind::Continuous,
                tue9,
                None,
                vec![],
                sh(2026, 3, 10, 8, 0),
                0,
            ),
            (
                // Thursday 12 Feb 09:00 start, waiting from Friday 10:00 over the 调休
                // Saturday and 春节 until Tuesday 24 Feb 09:00.
                "pause across a holiday and a 调休 Saturday",
                ClockKind::Business,
                sh(2026, 2, 12, 9, 0),
                None,
                vec![paused(sh(2026, 2, 13, 10, 0), Some(sh(2026, 2, 24, 9, 0)))],
                sh(2026, 2, 24, 10, 0),
                8 * HOUR + 1_800 + HOUR + 1_800 + HOUR,
            ),
            (
                "same without the pause: the 调休 Saturday counts, 春节 does not",
                ClockKind::Business,
                sh(2026, 2, 12, 9, 0),
                None,
                vec![],
                sh(2026, 2, 24, 10, 0),
                8 * HOUR + 1_800 + DAY + DAY + HOUR + 1_800,
            ),
        ];
        for (what, kind, start, stop, pauses, now, want) in cases {
            assert_eq!(
                elapsed(kind, start, stop, &pauses, now, &cal),
                want,
                "{what}"
            );
        }
    }

    #[test]
    fn a_priority_change_mid_pause_keeps_the_pause() {
        // P2 (business) from Tuesday 09:00, waiting 11:00–13:00; raised to P1 (continuous) at
        // 12:00, in the middle of the pause. The stored pause is wall-clock time, so the P1
        // clock leaves out exactly the same two hours.
        let cal = BusinessCalendar::china_default();
        let policy = SlaPolicy::default();
        let start = sh(2026, 3, 10, 9, 0);
        let mut pauses = Vec::new();
        pause(&mut pauses, sh(2026, 3, 10, 11, 0));
        let at_change = sh(2026, 3, 10, 12, 0);
        let p2 = policy.target(Priority::P2);
        let before = read(
            p2.resolve_secs,
            p2.clock,
            25,
            start,
            None,
            &pauses,
            at_change,
            &cal,
        );
        assert_eq!(before.state, SlaState::Paused);
        assert_eq!(before.remaining_secs, 8 * HOUR - 2 * HOUR);

        let p1 = policy.target(Priority::P1);
        let after = read(
            p1.resolve_secs,
            p1.clock,
            25,
            start,
            None,
            &pauses,
            at_change,
            &cal,
        );
        assert_eq!(after.state, SlaState::Paused);
        assert_eq!(after.remaining_secs, 4 * HOUR - 2 * HOUR);
        assert_eq!(
            after.due,
            at_change + TimeDelta::hours(2),
            "projected from now"
        );

        resume(&mut pauses, sh(2026, 3, 10, 13, 0));
        let now = sh(2026, 3, 10, 14, 0);
        assert_eq!(elapsed(p1.clock, start, None, &pauses, now, &cal), 3 * HOUR);
        let later = read(
            p1.resolve_secs,
            p1.clock,
            25,
            start,
            None,
            &pauses,
            now,
            &cal,
        );
        assert_eq!(later.remaining_secs, HOUR);
        assert_eq!(later.due, sh(2026, 3, 10, 15, 0));
        assert_eq!(later.state, SlaState::Running);
    }

    #[test]
    fn due_is_projected_while_paused() {
        // P2 resolve (8 business hours) from Tuesday 09:00, waiting since 11:00: six hours are
        // left. Read on Wednesday at 15:00, still waiting: if the clock resumed now it would
        // use 15:00–17:30 and then 08:30–12:00 on Thursday.
        let cal = BusinessCalendar::china_default();
        let pauses = [paused(sh(2026, 3, 10, 11, 0), None)];
        let r = read(
            8 * HOUR,
            ClockKind::Business,
            25,
            sh(2026, 3, 10, 9, 0),
            None,
            &pauses,
            sh(2026, 3, 11, 15, 0),
            &cal,
        );
        assert_eq!(
            r,
            SlaReading {
                state: SlaState::Paused,
                due: sh(2026, 3, 12, 12, 0),
                remaining_secs: 6 * HOUR,
                paused: Some(PauseReason::WaitingSubmitter),
            }
        );
        assert_eq!(
            r.paused.as_ref().unwrap().describe_zh(),
            "等待提交人补充信息"
        );
        assert_eq!(
            r.paused.as_ref().unwrap().describe_en(),
            "waiting on the submitter"
        );
    }

    #[test]
    fn running_due_soon_breached() {
        // P1 resolve: four continuous hours from 10:00, due soon under one hour left.
        let cal = BusinessCalendar::china_default();
        let start = sh(2026, 3, 10, 10, 0);
        let due = sh(2026, 3, 10, 14, 0);
        let cases = [
            (sh(2026, 3, 10, 10, 0), SlaState::Running, 4 * HOUR),
            (sh(2026, 3, 10, 13, 0), SlaState::Running, HOUR),
            (
                sh(2026, 3, 10, 13, 0) + TimeDelta::seconds(1),
                SlaState::DueSoon,
                HOUR - 1,
            ),
            (sh(2026, 3, 10, 13, 59), SlaState::DueSoon, 60),
            (sh(2026, 3, 10, 14, 0), SlaState::Breached, 0),
            (sh(2026, 3, 10, 15, 0), SlaState::Breached, -HOUR),
        ];
        for (now, state, remaining) in cases {
            let r = read(
                4 * HOUR,
                ClockKind::Continuous,
                25,
                start,
                None,
                &[],
                now,
                &cal,
            );
            assert_eq!(
                (r.state, r.remaining_secs, r.due),
                (state, remaining, due),
                "{now}"
            );
            assert_eq!(
                r.paused, None,
                "a continuous clock is never held by the calendar"
            );
        }
    }

    #[test]
    fn business_breach_is_dated_when_it_happened() {
        // P2: eight business hours from Tuesday 09:00 run out at 17:00. On Wednesday 10:00 two
        // business hours past that.
        let cal = BusinessCalendar::china_default();
        let r = read(
            8 * HOUR,
            ClockKind::Business,
            25,
            sh(2026, 3, 10, 9, 0),
            None,
            &[],
            sh(2026, 3, 11, 10, 0),
            &cal,
        );
        assert_eq!(r.state, SlaState::Breached);
        assert_eq!(r.due, sh(2026, 3, 10, 17, 0));
        assert_eq!(r.remaining_secs, -2 * HOUR);
    }

    #[test]
    fn a_pause_does_not_hide_a_breach() {
        let cal = BusinessCalendar::china_default();
        let pauses = [paused(sh(2026, 3, 10, 15, 0), None)];
        let r = read(
            4 * HOUR,
            ClockKind::Continuous,
            25,
            sh(2026, 3, 10, 10, 0),
            None,
            &pauses,
            sh(2026, 3, 10, 16, 0),
            &cal,
        );
        assert_eq!(r.state, SlaState::Breached);
        assert_eq!(r.remaining_secs, -HOUR);
        assert_eq!(r.paused, Some(PauseReason::WaitingSubmitter));
        assert_eq!(r.due, sh(2026, 3, 10, 14, 0));
    }

    #[test]
    fn met_and_missed() {
        let cal = BusinessCalendar::china_default();
        let start = sh(2026, 3, 10, 10, 0);
        let now = sh(2026, 3, 12, 9, 0);
        let waiting = [paused(sh(2026, 3, 10, 12, 0), None)];
        let cases: [(_, &[SlaPause], _, _); 5] = [
            (sh(2026, 3, 10, 13, 0), &[], SlaState::Met, HOUR),
            (sh(2026, 3, 10, 14, 0), &[], SlaState::Met, 0),
            (sh(2026, 3, 10, 14, 30), &[], SlaState::Missed, -1_800),
            // Resolved while still waiting: the open pause ends at the stop.
            (sh(2026, 3, 10, 18, 0), &waiting, SlaState::Met, 2 * HOUR),
            // A stop later than `now` has not happened yet.
            (
                sh(2026, 3, 13, 9, 0),
                &[],
                SlaState::Breached,
                4 * HOUR - 47 * HOUR,
            ),
        ];
        for (stop, pauses, state, remaining) in cases {
            let r = read(
                4 * HOUR,
                ClockKind::Continuous,
                25,
                start,
                Some(stop),
                pauses,
                now,
                &cal,
            );
            assert_eq!(
                (r.state, r.remaining_secs),
                (state, remaining),
                "stopped {stop}"
            );
            assert_eq!(
                r.due,
                sh(2026, 3, 10, 14, 0)
                    + if pauses.is_empty() {
                        TimeDelta::zero()
                    } else {
                        TimeDelta::hours(6)
                    }
            );
            if matches!(state, SlaState::Met | SlaState::Missed) {
                assert_eq!(r.paused, None);
            }
        }
    }

    #[test]
    fn paused_reason_follows_the_calendar() {
        let cal = BusinessCalendar::china_default();
        // P4 (40 business hours) started Tuesday 10 March 09:00 reads far from due.
        let start = sh(2026, 3, 10, 9, 0);
        let cases = [
            (sh(2026, 3, 10, 12, 0), None),
            (sh(2026, 3, 10, 20, 0), Some(ClosedReason::OutsideHours)),
            (sh(2026, 3, 14, 12, 0), Some(ClosedReason::Weekend)),
            (
                sh(2026, 4, 6, 12, 0),
                Some(ClosedReason::Holiday("清明节".into())),
            ),
        ];
        for (now, closed) in cases {
            let r = read(
                400 * HOUR,
                ClockKind::Business,
                25,
                start,
                None,
                &[],
                now,
                &cal,
            );
            assert_eq!(r.state, SlaState::Running, "{now}");
            assert_eq!(r.paused, closed.map(PauseReason::Closed), "{now}");
        }
        let holiday = PauseReason::Closed(ClosedReason::Holiday("国庆节".into()));
        assert_eq!(holiday.describe_zh(), "法定节假日：国庆节");
        assert_eq!(holiday.describe_en(), "public holiday: 国庆节");
        // Waiting on the submitter wins over a closed calendar.
        let pauses = [paused(sh(2026, 3, 10, 10, 0), None)];
        let r = read(
            400 * HOUR,
            ClockKind::Business,
            25,
            start,
            None,
            &pauses,
            sh(2026, 3, 14, 12, 0),
            &cal,
        );
        assert_eq!(
            (r.state, r.paused),
            (SlaState::Paused, Some(PauseReason::WaitingSubmitter))
        );
        // Reading the past inside a closed pause says it was waiting then.
        let closed = [paused(sh(2026, 3, 10, 10, 0), Some(sh(2026, 3, 10, 11, 0)))];
        let r = read(
            400 * HOUR,
            ClockKind::Business,
            25,
            start,
            None,
            &closed,
            sh(2026, 3, 10, 10, 30),
            &cal,
        );
        assert_eq!(r.state, SlaState::Paused);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let cal = BusinessCalendar::china_default();
        let min = DateTime::<Utc>::MIN_UTC;
        let max = DateTime::<Utc>::MAX_UTC;
        let mid = sh(2026, 3, 10, 9, 0);
        let pause_sets = [
            vec![],
            vec![
                paused(max, None),
                paused(min, Some(max)),
                paused(mid, Some(min)),
                paused(mid, None),
            ],
        ];
        for kind in [ClockKind::Business, ClockKind::Continuous] {
            for target in [i64::MIN, 0, i64::MAX] {
                for start in [min, mid, max] {
                    for stop in [None, Some(min), Some(max)] {
                        for now in [min, mid, max] {
                            for pauses in &pause_sets {
                                read(target, kind, 25, start, stop, pauses, now, &cal);
                            }
                        }
                    }
                }
            }
            for pct in [0, 100, 255] {
                read(4 * HOUR, kind, pct, mid, None, &[], mid, &cal);
            }
        }
        let r = read(0, ClockKind::Business, 25, mid, None, &[], mid, &cal);
        assert_eq!(
            (r.state, r.due, r.remaining_secs),
            (SlaState::Breached, mid, 0)
        );
    }
}
