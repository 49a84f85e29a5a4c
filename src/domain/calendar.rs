//! The business calendar: when the production-incident team is at work, so that SLA clocks on
//! business time count only working seconds, and the TUI can say why a clock is standing still.
//!
//! A calendar is a time zone (Asia/Shanghai in production), the working hours of a day (one or
//! more ranges, e.g. with a lunch break), Saturday and Sunday off, and the Chinese public
//! holidays and 调休 make-up working days the State Council publishes once a year. Those come as
//! small TOML calendar files: one per year ships compiled in (`fixtures/calendar/cn-YYYY.toml`),
//! and the config may add more, applied later so that they win date by date.
//!
//! Pure: no IO and no clock. Instants come in and go out as UTC; only this module turns them into
//! local wall-clock time. Every local-time conversion goes through [`local_to_utc`], which copes
//! with DST gaps and folds, so the same code is right for zones other than Shanghai.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{
    DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone,
    Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::Deserialize;

/// The calendar files shipped with opsdesk, oldest first. `china_default` applies them in this
/// order; a test parses every one of them.
const SHIPPED_FILES: &[&str] = &[
    include_str!("../../fixtures/calendar/cn-2026.toml"),
    include_str!("../../fixtures/calendar/cn-2027.toml"),
];

/// How far ahead the calendar files should reach: the server warns (log and `/metrics`) when
/// the days from today through this many days on are not all covered. The State Council
/// publishes a year's arrangement around November or December; sixty days before New Year gives
/// that notice time to arrive and be written into a file before the old year runs out.
pub const COVERAGE_HORIZON_DAYS: u32 = 60;

/// How far `add_business_seconds` searches for the instant it answers: ten years (with leap
/// days). An SLA target never reaches that far, so the cap only bounds the work done for absurd
/// inputs (a corrupt target, a calendar whose config lists every day as a holiday); the cap
/// instant itself is returned then.
const SEARCH_HORIZON_DAYS: i64 = 3_653;

/// The longest span `business_seconds` counts: a hundred years. Beyond that only the first hundred
/// years count. No ticket lives that long; the cap bounds the day-by-day walk (about 36,500
/// steps) when a corrupt timestamp lands in year -200000.
const MAX_SPAN_DAYS: i64 = 36_525;

const DEFAULT_OPEN: NaiveTime = hm(8, 30);
const DEFAULT_CLOSE: NaiveTime = hm(17, 30);

/// A time of day known at compile time; an invalid one fails the build, not a run.
const fn hm(hour: u32, min: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, min, 0) {
        Some(t) => t,
        None => panic!("invalid constant time of day"),
    }
}

/// One range of working time within a day, `[start, end)` in local wall-clock time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkingHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", ClockTime(self.start), ClockTime(self.end))
    }
}

/// A time of day as people write working hours: `09:00`, with seconds only when there are some.
struct ClockTime(NaiveTime);

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.second() == 0 && self.0.nanosecond() == 0 {
            write!(f, "{}", self.0.format("%H:%M"))
        } else {
            write!(f, "{}", self.0.format("%H:%M:%S"))
        }
    }
}

/// What kind of day a local date is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DayKind {
    /// Monday to Friday with nothing listed.
    Workday,
    /// Listed as a working day by a calendar file (调休上班), with the file's name for it.
    /// Usually a Saturday or Sunday; on a weekday it only matters when it overrides a holiday
    /// listed by an earlier file.
    MakeupWorkday(String),
    /// Saturday or Sunday with nothing listed.
    Weekend,
    /// Listed as a public holiday by a calendar file, with the holiday's name.
    Holiday(String),
}

/// Why the team is not at work at some instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClosedReason {
    /// A working day, but before opening, after closing or in a break.
    OutsideHours,
    Weekend,
    /// A public holiday, with its name from the calendar file.
    Holiday(String),
}

impl ClosedReason {
    pub fn describe_zh(&self) -> String {
        match self {
            ClosedReason::OutsideHours => "非工作时间".to_string(),
            ClosedReason::Weekend => "周末".to_string(),
            ClosedReason::Holiday(name) => format!("法定节假日：{name}"),
        }
    }

    pub fn describe_en(&self) -> String {
        match self {
            ClosedReason::OutsideHours => "outside working hours".to_string(),
            ClosedReason::Weekend => "weekend".to_string(),
            ClosedReason::Holiday(name) => format!("public holiday: {name}"),
        }
    }
}

/// One year's holiday arrangement as a calendar file holds it (see `fixtures/calendar/`).
///
/// Dates may be written quoted (`"2026-10-01"`) or as bare TOML dates (`2026-10-01`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarFile {
    pub year: i32,
    #[serde(default)]
    pub holiday: Vec<HolidayEntry>,
    #[serde(default)]
    pub workday: Vec<WorkdayEntry>,
}

/// Days off for one holiday, including the weekend days it absorbs (so those show the
/// holiday's name rather than "weekend").
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayEntry {
    pub name: String,
    #[serde(deserialize_with = "toml_date::dates")]
    pub dates: Vec<NaiveDate>,
}

/// One make-up working day (调休上班), usually a Saturday or Sunday.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkdayEntry {
    pub name: String,
    #[serde(deserialize_with = "toml_date::date")]
    pub date: NaiveDate,
}

#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// Syntax or shape; toml's message carries the line and column.
    #[error("invalid calendar file: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("no working hours given")]
    NoHours,
    #[error("working hours {0} are empty")]
    EmptyHours(WorkingHours),
    #[error("working hours {0} end before they start")]
    InvertedHours(WorkingHours),
    #[error("working hours {0} and {1} overlap")]
    OverlappingHours(WorkingHours, WorkingHours),
    #[error("{date} ({name}) is outside the calendar file's year {year}")]
    DateOutsideYear {
        year: i32,
        date: NaiveDate,
        name: String,
    },
    #[error("{date} is listed both as a holiday ({holiday}) and as a working day ({workday})")]
    HolidayAndWorkday {
        date: NaiveDate,
        holiday: String,
        workday: String,
    },
    #[error("{date} is listed twice in one calendar file ({first}; {second})")]
    DuplicateDate {
        date: NaiveDate,
        first: String,
        second: String,
    },
}

/// What a calendar file said about one date; the last file to mention a date wins.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Listed {
    Holiday(String),
    Workday(String),
}

#[derive(Clone, Debug)]
pub struct BusinessCalendar {
    tz: Tz,
    /// Sorted by start, non-empty, non-overlapping (checked by `new`).
    hours: Vec<WorkingHours>,
    listed: BTreeMap<NaiveDate, Listed>,
    /// Years for which some calendar file was applied.
    years: BTreeSet<i32>,
}

impl BusinessCalendar {
    /// A calendar with the given working hours, weekends off and no holidays yet.
    pub fn new(tz: Tz, mut hours: Vec<WorkingHours>) -> Result<Self, CalendarError> {
        if hours.is_empty() {
            return Err(CalendarError::NoHours);
        }
        for h in &hours {
            if h.start == h.end {
                return Err(CalendarError::EmptyHours(*h));
            }
            if h.start > h.end {
                return Err(CalendarError::InvertedHours(*h));
            }
        }
        hours.sort_by_key(|h| h.start);
        if let Some(pair) = hours.windows(2).find(|pair| pair[1].start < pair[0].end) {
            return Err(CalendarError::OverlappingHours(pair[0], pair[1]));
        }
        Ok(Self {
            tz,
            hours,
            listed: BTreeMap::new(),
            years: BTreeSet::new(),
        })
    }

    /// Parses and checks a calendar file, so a bad config file is reported when it is loaded
    /// rather than when it is applied.
    pub fn parse_file(text: &str) -> Result<CalendarFile, CalendarError> {
        let file: CalendarFile = toml::from_str(text)?;
        validate(&file)?;
        Ok(file)
    }

    /// Applies a calendar file on top of what is there: for a date both mention, this file wins.
    /// A file that fails its checks changes nothing.
    pub fn add_file(&mut self, file: &CalendarFile) -> Result<(), CalendarError> {
        // Checked again because the fields are public: a file need not come from `parse_file`.
        validate(file)?;
        for entry in &file.holiday {
            for date in &entry.dates {
                self.listed
                    .insert(*date, Listed::Holiday(entry.name.clone()));
            }
        }
        for entry in &file.workday {
            self.listed
                .insert(entry.date, Listed::Workday(entry.name.clone()));
        }
        self.years.insert(file.year);
        Ok(())
    }

    /// The text of every calendar file compiled into opsdesk, oldest year first.
    pub fn shipped_files() -> &'static [&'static str] {
        SHIPPED_FILES
    }

    /// Asia/Shanghai, 08:30–17:30, with every shipped calendar file applied.
    pub fn china_default() -> Self {
        let mut cal = Self::new(chrono_tz::Asia::Shanghai, Self::default_hours())
            .expect("the default working hours are one valid range");
        for text in SHIPPED_FILES {
            // The shipped files are fixed at build time and a test parses each one, so a failure
            // here is a build defect, not something a user can cause.
            let file = Self::parse_file(text).expect("a shipped calendar file is valid");
            cal.add_file(&file)
                .expect("a parsed calendar file applies cleanly");
        }
        cal
    }

    pub fn default_hours() -> Vec<WorkingHours> {
        vec![WorkingHours {
            start: DEFAULT_OPEN,
            end: DEFAULT_CLOSE,
        }]
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    pub fn hours(&self) -> &[WorkingHours] {
        &self.hours
    }

    /// What kind of day `date` (a local date in the calendar's zone) is.
    pub fn day_kind(&self, date: NaiveDate) -> DayKind {
        match self.listed.get(&date) {
            Some(Listed::Holiday(name)) => DayKind::Holiday(name.clone()),
            Some(Listed::Workday(name)) => DayKind::MakeupWorkday(name.clone()),
            None if is_weekend(date) => DayKind::Weekend,
            None => DayKind::Workday,
        }
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.listed.get(&date) {
            Some(Listed::Holiday(_)) => false,
            Some(Listed::Workday(_)) => true,
            None => !is_weekend(date),
        }
    }

    /// Why the team is not at work at `at`, or `None` when `at` is inside working hours.
    pub fn closed_reason(&self, at: DateTime<Utc>) -> Option<ClosedReason> {
        let date = self.local_date(at);
        // The neighbouring days are looked at too, and through the same walk as the counting
        // functions, so "open" here means exactly "counted" there, folds and gaps included.
        let open = self
            .openings(
                date.pred_opt().unwrap_or(date),
                date.succ_opt().unwrap_or(date),
            )
            .take_while(|&(start, _)| start <= at)
            .any(|(start, end)| start <= at && at < end);
        if open {
            return None;
        }
        Some(match self.day_kind(date) {
            DayKind::Holiday(name) => ClosedReason::Holiday(name),
            DayKind::Weekend => ClosedReason::Weekend,
            DayKind::Workday | DayKind::MakeupWorkday(_) => ClosedReason::OutsideHours,
        })
    }

    /// Working seconds in `[from, to)`, 0 when `to <= from`. Spans over a hundred years count
    /// their first hundred years only (see `MAX_SPAN_DAYS`).
    pub fn business_seconds(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        self.business_time(from, to).num_seconds()
    }

    /// `business_seconds` before rounding to whole seconds, so that callers summing several
    /// spans round once.
    pub(super) fn business_time(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        if to <= from {
            return TimeDelta::zero();
        }
        let to = match from.checked_add_signed(TimeDelta::days(MAX_SPAN_DAYS)) {
            Some(cap) => to.min(cap),
            None => to,
        };
        let (first, last) = self.date_bounds(from, to);
        let mut total = TimeDelta::zero();
        for (start, end) in self.openings(first, last) {
            if start >= to {
                break;
            }
            let (start, end) = (start.max(from), end.min(to));
            if start < end {
                total += end - start;
            }
        }
        total
    }

    /// The instant at which `secs` working seconds have passed since `from`; `from` itself when
    /// `secs <= 0`. From outside working hours counting starts at the next opening; a count that
    /// ends exactly at a closing answers the closing, not the next opening.
    ///
    /// The search stops ten years after `from` (see `SEARCH_HORIZON_DAYS`) and answers that
    /// instant when the count has not been reached by then.
    pub fn add_business_seconds(&self, from: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
        if secs <= 0 {
            return from;
        }
        let horizon = TimeDelta::days(SEARCH_HORIZON_DAYS);
        let cap = from
            .checked_add_signed(horizon)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        // Ten years hold fewer working seconds than ten years of seconds, so clamping there
        // changes no answer and keeps the count inside TimeDelta's range.
        let mut left = TimeDelta::try_seconds(secs).unwrap_or(horizon).min(horizon);
        let (first, last) = self.date_bounds(from, cap);
        for (start, end) in self.openings(first, last) {
            if end <= from {
                continue;
            }
            let start = start.max(from);
            if start >= cap {
                return cap;
            }
            let available = end - start;
            if left <= available {
                return start.checked_add_signed(left).unwrap_or(end).min(cap);
            }
            left -= available;
        }
        cap
    }

    /// Whether a calendar file for `year` was applied; without one, that year's holidays are
    /// unknown and only weekends are off.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The first date from `today` through `today + horizon_days` whose year no calendar file
    /// covers, or None when every one of those days is covered. From that date on, business-time
    /// SLA clocks would count public holidays as working days (and make-up days as weekends).
    /// `today` is a local date in the calendar's zone (see [`Self::local_date`]).
    pub fn uncovered_from(&self, today: NaiveDate, horizon_days: u32) -> Option<NaiveDate> {
        let last = today
            .checked_add_days(Days::new(u64::from(horizon_days)))
            .unwrap_or(NaiveDate::MAX);
        self.first_uncovered(today).filter(|d| *d <= last)
    }

    /// How many days from `today` on, `today` included, calendar files cover without a gap:
    /// 0 when there is none for today's year.
    pub fn covered_days(&self, today: NaiveDate) -> u64 {
        let end = self.first_uncovered(today).unwrap_or(NaiveDate::MAX);
        (end - today).num_days().max(0).unsigned_abs()
    }

    /// The first date on or after `from` in a year without a calendar file (None only past
    /// chrono's last year).
    fn first_uncovered(&self, from: NaiveDate) -> Option<NaiveDate> {
        let mut year = from.year();
        while self.covers(year) {
            year += 1;
        }
        if year == from.year() {
            Some(from)
        } else {
            NaiveDate::from_ymd_opt(year, 1, 1)
        }
    }

    /// The local date of an instant in the calendar's zone. Not
    /// `with_timezone(..).date_naive()`: that panics when the offset pushes an instant at the
    /// edge of chrono's range past it, and instants come from stored data. There the UTC date is
    /// close enough.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        let utc = at.naive_utc();
        let offset = self.tz.offset_from_utc_datetime(&utc).fix();
        utc.checked_add_offset(offset).unwrap_or(utc).date()
    }

    /// The local dates whose working hours can touch `[from, to)`. One day of margin on each
    /// side, because a zone whose offset changes around midnight can move a neighbouring day's
    /// hours into the span.
    fn date_bounds(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
        let first = self.local_date(from);
        let last = self.local_date(to);
        (
            first.pred_opt().unwrap_or(first),
            last.succ_opt().unwrap_or(last),
        )
    }

    /// The working intervals of the dates `first..=last`, in order, as UTC instants.
    fn openings(&self, first: NaiveDate, last: NaiveDate) -> Openings<'_> {
        Openings {
            cal: self,
            date: Some(first),
            last,
            next_range: 0,
            floor: None,
        }
    }
}

/// Walks the working intervals of a run of local dates. Each interval starts no earlier than the
/// previous one ended: in a DST fold a later range can map to instants before an earlier one,
/// and clipping there keeps any instant from being counted twice.
struct Openings<'a> {
    cal: &'a BusinessCalendar,
    date: Option<NaiveDate>,
    last: NaiveDate,
    next_range: usize,
    floor: Option<DateTime<Utc>>,
}

impl Iterator for Openings<'_> {
    type Item = (DateTime<Utc>, DateTime<Utc>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let date = self.date.filter(|d| *d <= self.last)?;
            let range = self.cal.hours.get(self.next_range).copied();
            let Some(range) = range.filter(|_| self.cal.is_working_day(date)) else {
                self.date = date.succ_opt();
                self.next_range = 0;
                continue;
            };
            self.next_range += 1;
            let tz = self.cal.tz;
            let (Some(start), Some(end)) = (
                local_to_utc(tz, date.and_time(range.start)),
                local_to_utc(tz, date.and_time(range.end)),
            ) else {
                continue;
            };
            let start = self.floor.map_or(start, |floor| start.max(floor));
            if start < end {
                self.floor = Some(end);
                return Some((start, end));
            }
        }
    }
}

/// The instant a local wall-clock time stands for, `None` only at the edges of chrono's range.
///
/// In a fold (the same wall time twice) the earlier instant is taken. In a gap (a wall time that
/// never happens because clocks jumped forward) the time is read with the offset in force before
/// the jump, which lands as far past the jump as the time was past its start — where a clock
/// that had not been moved forward would have shown it.
fn local_to_utc(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    if let Some(at) = tz.from_local_datetime(&local).earliest() {
        return Some(at.with_timezone(&Utc));
    }
    let before = local.checked_sub_signed(TimeDelta::days(1))?;
    let offset = tz.offset_from_local_datetime(&before).earliest()?.fix();
    let utc = local.checked_sub_offset(offset)?;
    Some(Utc.from_utc_datetime(&utc))
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The checks a calendar file must pass before it may change a calendar.
fn validate(file: &CalendarFile) -> Result<(), CalendarError> {
    // Holidays first, so a clash is always reported as (holiday, workday).
    let holidays = file.holiday.iter().flat_map(|entry| {
        entry
            .dates
            .iter()
            .map(move |date| (*date, true, entry.name.as_str()))
    });
    let workdays = file
        .workday
        .iter()
        .map(|entry| (entry.date, false, entry.name.as_str()));
    let mut seen: BTreeMap<NaiveDate, (bool, &str)> = BTreeMap::new();
    for (date, is_holiday, name) in holidays.chain(workdays) {
        if date.year() != file.year {
            return Err(CalendarError::DateOutsideYear {
                year: file.year,
                date,
                name: name.to_string(),
            });
        }
        if let Some((was_holiday, earlier)) = seen.insert(date, (is_holiday, name)) {
            return Err(match (was_holiday, is_holiday) {
                (true, false) => CalendarError::HolidayAndWorkday {
                    date,
                    holiday: earlier.to_string(),
                    workday: name.to_string(),
                },
                (false, true) => CalendarError::HolidayAndWorkday {
                    date,
                    holiday: name.to_string(),
                    workday: earlier.to_string(),
                },
                _ => CalendarError::DuplicateDate {
                    date,
                    first: earlier.to_string(),
                    second: name.to_string(),
                },
            });
        }
    }
    Ok(())
}

/// Dates in calendar files, quoted or as bare TOML dates: people editing TOML write both.
mod toml_date {
    use std::fmt;

    use chrono::NaiveDate;
    use serde::de::value::MapAccessDeserializer;
    use serde::de::{self, MapAccess, Visitor};
    use serde::{Deserialize, Deserializer};

    struct DateVisitor;

    impl<'de> Visitor<'de> for DateVisitor {
        type Value = NaiveDate;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a date such as \"2026-10-01\"")
        }

        fn visit_str<E: de::Error>(self, s: &str) -> Result<NaiveDate, E> {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|err| {
                E::custom(format!("invalid date \"{s}\" ({err}); expected YYYY-MM-DD"))
            })
        }

        /// A bare TOML date reaches serde as toml's datetime, which is a map on the wire.
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<NaiveDate, A::Error> {
            let value = toml::value::Datetime::deserialize(MapAccessDeserializer::new(map))?;
            match value {
                toml::value::Datetime {
                    date: Some(d),
                    time: None,
                    offset: None,
                } => {
                    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                        .ok_or_else(|| de::Error::custom(format!("invalid date {d}")))
                }
                other => Err(de::Error::custom(format!(
                    "expected a date without a time of day, found {other}"
                ))),
            }
        }
    }

    struct Date(NaiveDate);

    impl<'de> Deserialize<'de> for Date {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(DateVisitor).map(Date)
        }
    }

    pub(super) fn date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        Date::deserialize(deserializer).map(|d| d.0)
    }

    pub(super) fn dates<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<NaiveDate>, D::Error> {
        let dates = Vec::<Date>::deserialize(deserializer)?;
        Ok(dates.into_iter().map(|d| d.0).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn wh(start: (u32, u32), end: (u32, u32)) -> WorkingHours {
        WorkingHours {
            start: time(start.0, start.1),
            end: time(end.0, end.1),
        }
    }

    /// A Shanghai wall-clock time as a UTC instant.
    fn sh(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    const HOUR: i64 = 3_600;
    const DAY: i64 = 9 * HOUR; // 08:30–17:30

    #[test]
    fn business_seconds_table() {
        let cal = BusinessCalendar::china_default();
        let cases = [
            (
                "a normal Tuesday morning",
                sh(2026, 3, 10, 9, 0),
                sh(2026, 3, 10, 11, 0),
                2 * HOUR,
            ),
            (
                "from before opening",
                sh(2026, 3, 10, 7, 0),
                sh(2026, 3, 10, 9, 0),
                HOUR / 2,
            ),
            (
                "until after closing",
                sh(2026, 3, 10, 17, 0),
                sh(2026, 3, 10, 23, 0),
                HOUR / 2,
            ),
            (
                "a whole weekday",
                sh(2026, 3, 10, 0, 0),
                sh(2026, 3, 11, 0, 0),
                DAY,
            ),
            (
                "across a night",
                sh(2026, 3, 10, 17, 0),
                sh(2026, 3, 11, 9, 0),
                HOUR,
            ),
            (
                "across a weekend",
                sh(2026, 3, 13, 17, 0),
                sh(2026, 3, 16, 9, 0),
                HOUR,
            ),
            (
                "a plain Saturday",
                sh(2026, 3, 14, 0, 0),
                sh(2026, 3, 15, 0, 0),
                0,
            ),
            // Thursday 1 October to Wednesday 7 October are 国庆 days off.
            (
                "国庆 to Thursday 8 Oct",
                sh(2026, 9, 30, 17, 0),
                sh(2026, 10, 8, 9, 0),
                HOUR,
            ),
            (
                "国庆 to Friday 9 Oct",
                sh(2026, 9, 30, 17, 0),
                sh(2026, 10, 9, 17, 30),
                HOUR / 2 + 2 * DAY,
            ),
            // Saturday 10 October is a make-up working day.
            (
                "国庆 through 调休 Sat",
                sh(2026, 9, 30, 17, 0),
                sh(2026, 10, 12, 8, 30),
                HOUR / 2 + 3 * DAY,
            ),
            (
                "调休 Sunday 20 Sep",
                sh(2026, 9, 19, 0, 0),
                sh(2026, 9, 21, 0, 0),
                DAY,
            ),
            (
                "调休 Saturday 14 Feb",
                sh(2026, 2, 14, 10, 0),
                sh(2026, 2, 14, 11, 0),
                HOUR,
            ),
            (
                "春节 Monday 16 Feb",
                sh(2026, 2, 16, 0, 0),
                sh(2026, 2, 17, 0, 0),
                0,
            ),
            (
                "a whole 春节",
                sh(2026, 2, 13, 17, 30),
                sh(2026, 2, 24, 8, 30),
                DAY,
            ),
            (
                "2027 春节 (provisional)",
                sh(2027, 2, 4, 17, 30),
                sh(2027, 2, 15, 8, 30),
                0,
            ),
            (
                "empty span",
                sh(2026, 3, 10, 9, 0),
                sh(2026, 3, 10, 9, 0),
                0,
            ),
            (
                "reversed span",
                sh(2026, 3, 10, 11, 0),
                sh(2026, 3, 10, 9, 0),
                0,
            ),
        ];
        for (what, from, to, want) in cases {
            assert_eq!(cal.business_seconds(from, to), want, "{what}");
        }
    }

    #[test]
    fn a_whole_year_counts_every_working_day() {
        // 2026: 261 weekdays, 19 of them holidays, 6 make-up weekend days → 248 working days.
        let cal = BusinessCalendar::china_default();
        let year = cal.business_seconds(sh(2026, 1, 1, 0, 0), sh(2027, 1, 1, 0, 0));
        assert_eq!(year, 248 * DAY);
    }

    #[test]
    fn counts_sub_second_spans_exactly() {
        let cal = BusinessCalendar::china_default();
        let from = sh(2026, 3, 10, 9, 0) + TimeDelta::milliseconds(250);
        let to = sh(2026, 3, 10, 9, 0) + TimeDelta::milliseconds(2_750);
        assert_eq!(cal.business_time(from, to), TimeDelta::milliseconds(2_500));
        assert_eq!(cal.business_seconds(from, to), 2);
    }

    #[test]
    fn add_business_seconds_table() {
        let cal = BusinessCalendar::china_default();
        let cases = [
            ("zero", sh(2026, 3, 10, 9, 0), 0, sh(2026, 3, 10, 9, 0)),
            ("negative", sh(2026, 3, 10, 9, 0), -5, sh(2026, 3, 10, 9, 0)),
            (
                "same day",
                sh(2026, 3, 10, 9, 0),
                2 * HOUR,
                sh(2026, 3, 10, 11, 0),
            ),
            (
                "ends at closing",
                sh(2026, 3, 10, 9, 0),
                8 * HOUR + 1_800,
                sh(2026, 3, 10, 17, 30),
            ),
            (
                "one second more",
                sh(2026, 3, 10, 9, 0),
                8 * HOUR + 1_801,
                sh(2026, 3, 11, 8, 30) + TimeDelta::seconds(1),
            ),
            (
                "from the night",
                sh(2026, 3, 10, 22, 0),
                HOUR,
                sh(2026, 3, 11, 9, 30),
            ),
            (
                "over a weekend",
                sh(2026, 3, 13, 17, 0),
                HOUR,
                sh(2026, 3, 16, 9, 0),
            ),
            (
                "over 国庆",
                sh(2026, 9, 30, 17, 0),
                HOUR,
                sh(2026, 10, 8, 9, 0),
            ),
            (
                "onto 调休 Saturday",
                sh(2026, 10, 9, 17, 0),
                HOUR,
                sh(2026, 10, 10, 9, 0),
            ),
            (
                "from a holiday",
                sh(2026, 10, 3, 12, 0),
                1,
                sh(2026, 10, 8, 8, 30) + TimeDelta::seconds(1),
            ),
        ];
        for (what, from, secs, want) in cases {
            assert_eq!(cal.add_business_seconds(from, secs), want, "{what}");
        }
    }

    #[test]
    fn add_business_seconds_inverts_business_seconds() {
        let cal = BusinessCalendar::china_default();
        let amounts = [
            1,
            59,
            1_800,
            HOUR,
            DAY - 1,
            DAY,
            DAY + 1,
            5 * DAY,
            40 * HOUR,
            300 * DAY,
        ];
        let mut from = sh(2025, 12, 20, 0, 0);
        let step = TimeDelta::minutes(7 * 60 + 37);
        while from < sh(2028, 1, 10, 0, 0) {
            for secs in amounts {
                let due = cal.add_business_seconds(from, secs);
                assert_eq!(cal.business_seconds(from, due), secs, "{from} + {secs}");
                // The answer is the earliest such instant: one second less falls short.
                let earlier = due - TimeDelta::seconds(1);
                assert!(
                    cal.business_seconds(from, earlier) < secs,
                    "{from} + {secs}"
                );
            }
            from += step;
        }
    }

    #[test]
    fn add_business_seconds_stops_at_the_horizon() {
        let cal = BusinessCalendar::china_default();
        let from = sh(2026, 3, 10, 9, 0);
        let cap = from + TimeDelta::days(SEARCH_HORIZON_DAYS);
        assert_eq!(cal.add_business_seconds(from, i64::MAX), cap);
        assert_eq!(cal.add_business_seconds(from, 10 * 366 * 86_400), cap);
        // A calendar with no opening at all (every range falls on holidays) still ends.
        let mut closed = BusinessCalendar::new(chrono_tz::UTC, vec![wh((9, 0), (10, 0))]).unwrap();
        for year in 2026..2040 {
            let mut days = Vec::new();
            let mut d = date(year, 1, 1);
            while d.year() == year {
                days.push(d);
                d = d.succ_opt().unwrap();
            }
            let file = CalendarFile {
                year,
                holiday: vec![HolidayEntry {
                    name: "closed".into(),
                    dates: days,
                }],
                workday: vec![],
            };
            closed.add_file(&file).unwrap();
        }
        assert_eq!(closed.add_business_seconds(from, 1), cap);
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let cal = BusinessCalendar::china_default();
        let edges = [
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MIN_UTC + TimeDelta::hours(13),
            sh(2026, 3, 10, 9, 0),
            DateTime::<Utc>::MAX_UTC - TimeDelta::hours(13),
            DateTime::<Utc>::MAX_UTC,
        ];
        for a in edges {
            cal.closed_reason(a);
            cal.add_business_seconds(a, 1);
            cal.add_business_seconds(a, i64::MAX);
            for b in edges {
                cal.business_seconds(a, b);
            }
        }
        // Spans past the cap count their first hundred years only.
        let from = sh(2026, 1, 1, 0, 0);
        let whole = cal.business_seconds(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
        assert!(whole > 0);
        assert_eq!(
            cal.business_seconds(from, DateTime::<Utc>::MAX_UTC),
            cal.business_seconds(from, from + TimeDelta::days(MAX_SPAN_DAYS)),
        );
    }

    #[test]
    fn lunch_break_with_two_ranges() {
        // Given out of order: `new` sorts them.
        let cal = BusinessCalendar::new(
            chrono_tz::Asia::Shanghai,
            vec![wh((13, 0), (17, 30)), wh((8, 30), (12, 0))],
        )
        .unwrap();
        assert_eq!(cal.hours(), &[wh((8, 30), (12, 0)), wh((13, 0), (17, 30))]);
        let cases = [
            (sh(2026, 3, 10, 11, 0), sh(2026, 3, 10, 14, 0), 2 * HOUR),
            (sh(2026, 3, 10, 12, 10), sh(2026, 3, 10, 12, 50), 0),
            (sh(2026, 3, 10, 0, 0), sh(2026, 3, 11, 0, 0), 8 * HOUR),
        ];
        for (from, to, want) in cases {
            assert_eq!(cal.business_seconds(from, to), want, "{from} → {to}");
        }
        assert_eq!(
            cal.add_business_seconds(sh(2026, 3, 10, 11, 30), HOUR),
            sh(2026, 3, 10, 13, 30)
        );
        assert_eq!(
            cal.closed_reason(sh(2026, 3, 10, 12, 30)),
            Some(ClosedReason::OutsideHours)
        );
        assert_eq!(cal.closed_reason(sh(2026, 3, 10, 13, 0)), None);
        assert_eq!(
            cal.closed_reason(sh(2026, 3, 10, 12, 0)),
            Some(ClosedReason::OutsideHours),
            "the end of a range is already closed"
        );
    }

    #[test]
    fn day_kinds() {
        let cal = BusinessCalendar::china_default();
        let cases = [
            (date(2026, 3, 10), DayKind::Workday),
            (date(2026, 3, 14), DayKind::Weekend),
            (date(2026, 2, 14), DayKind::MakeupWorkday("春节调休".into())),
            (
                date(2026, 10, 10),
                DayKind::MakeupWorkday("国庆节调休".into()),
            ),
            (date(2026, 10, 1), DayKind::Holiday("国庆节".into())),
            // A holiday on a weekend is named as the holiday.
            (date(2026, 10, 3), DayKind::Holiday("国庆节".into())),
            (date(2026, 1, 1), DayKind::Holiday("元旦".into())),
            (date(2025, 10, 1), DayKind::Workday),
        ];
        for (d, want) in cases {
            assert_eq!(cal.day_kind(d), want, "{d}");
            let working = matches!(want, DayKind::Workday | DayKind::MakeupWorkday(_));
            assert_eq!(cal.is_working_day(d), working, "{d}");
        }
    }

    #[test]
    fn closed_reasons_and_their_words() {
        let cal = BusinessCalendar::china_default();
        let cases = [
            (sh(2026, 3, 10, 9, 0), None),
            (sh(2026, 3, 10, 8, 30), None),
            (sh(2026, 3, 10, 8, 29), Some(ClosedReason::OutsideHours)),
            (sh(2026, 3, 10, 17, 30), Some(ClosedReason::OutsideHours)),
            (sh(2026, 3, 14, 10, 0), Some(ClosedReason::Weekend)),
            (sh(2026, 2, 14, 10, 0), None),
            (
                sh(2026, 10, 1, 10, 0),
                Some(ClosedReason::Holiday("国庆节".into())),
            ),
        ];
        for (at, want) in cases {
            assert_eq!(cal.closed_reason(at), want, "{at}");
        }
        let words = [
            (
                ClosedReason::OutsideHours,
                "非工作时间",
                "outside working hours",
            ),
            (ClosedReason::Weekend, "周末", "weekend"),
            (
                ClosedReason::Holiday("国庆节".into()),
                "法定节假日：国庆节",
                "public holiday: 国庆节",
            ),
        ];
        for (reason, zh, en) in words {
            assert_eq!(reason.describe_zh(), zh);
            assert_eq!(reason.describe_en(), en);
        }
    }

    #[test]
    fn shipped_files_parse_and_cover_their_years() {
        assert_eq!(BusinessCalendar::shipped_files().len(), 2);
        let years: Vec<i32> = BusinessCalendar::shipped_files()
            .iter()
            .map(|text| BusinessCalendar::parse_file(text).unwrap().year)
            .collect();
        assert_eq!(years, [2026, 2027]);
        let cal = BusinessCalendar::china_default();
        assert!(cal.covers(2026));
        assert!(cal.covers(2027));
        assert!(!cal.covers(2025));
        assert!(!cal.covers(2028));
        assert_eq!(cal.tz(), chrono_tz::Asia::Shanghai);
        assert_eq!(cal.hours(), BusinessCalendar::default_hours().as_slice());
    }

    /// A calendar with an empty file applied for each of `years`.
    fn covering(years: &[i32]) -> BusinessCalendar {
        let mut cal =
            BusinessCalendar::new(chrono_tz::Asia::Shanghai, BusinessCalendar::default_hours())
                .unwrap();
        for &year in years {
            cal.add_file(&CalendarFile {
                year,
                holiday: Vec::new(),
                workday: Vec::new(),
            })
            .unwrap();
        }
        cal
    }

    #[test]
    fn coverage_looks_ahead_from_an_injected_today() {
        let shipped = BusinessCalendar::china_default();
        let gap = covering(&[2026, 2027, 2029]);
        let h = COVERAGE_HORIZON_DAYS;
        // (what, calendar, today, horizon, first uncovered day within it, covered days)
        let cases = [
            ("well covered", &shipped, date(2026, 3, 1), h, None, 671),
            // 2027-11-01 + 60 days = 2027-12-31, the last covered day.
            ("just covered", &shipped, date(2027, 11, 1), h, None, 61),
            (
                "a day short",
                &shipped,
                date(2027, 11, 2),
                h,
                Some(date(2028, 1, 1)),
                60,
            ),
            (
                "the last covered day",
                &shipped,
                date(2027, 12, 31),
                h,
                Some(date(2028, 1, 1)),
                1,
            ),
            (
                "today itself uncovered",
                &shipped,
                date(2028, 3, 1),
                h,
                Some(date(2028, 3, 1)),
                0,
            ),
            (
                "before the first file",
                &shipped,
                date(2025, 12, 1),
                h,
                Some(date(2025, 12, 1)),
                0,
            ),
            ("a zero horizon", &shipped, date(2027, 12, 31), 0, None, 1),
            // A file for a later year does not hide the missing one between.
            (
                "a gap year in the middle",
                &gap,
                date(2027, 12, 1),
                h,
                Some(date(2028, 1, 1)),
                31,
            ),
            ("a gap year far ahead", &gap, date(2026, 6, 1), h, None, 579),
            ("past the gap", &gap, date(2029, 6, 1), h, None, 214),
        ];
        for (what, cal, today, horizon, uncovered, days) in cases {
            assert_eq!(cal.uncovered_from(today, horizon), uncovered, "{what}");
            assert_eq!(cal.covered_days(today), days, "{what}");
        }
    }

    #[test]
    fn coverage_reads_today_in_the_calendars_zone() {
        // 2027-12-31 16:30 UTC is already New Year's Day 2028 in Shanghai.
        let cal = BusinessCalendar::china_default();
        let now = Utc.with_ymd_and_hms(2027, 12, 31, 16, 30, 0).unwrap();
        let today = cal.local_date(now);
        assert_eq!(today, date(2028, 1, 1));
        assert_eq!(cal.uncovered_from(today, 0), Some(today));
    }

    #[test]
    fn shipped_2026_matches_the_state_council_notice() {
        let file = BusinessCalendar::parse_file(BusinessCalendar::shipped_files()[0]).unwrap();
        let holidays: Vec<(&str, usize)> = file
            .holiday
            .iter()
            .map(|h| (h.name.as_str(), h.dates.len()))
            .collect();
        assert_eq!(
            holidays,
            [
                ("元旦", 3),
                ("春节", 9),
                ("清明节", 3),
                ("劳动节", 5),
                ("端午节", 3),
                ("中秋节", 3),
                ("国庆节", 7),
            ]
        );
        let mut workdays: Vec<NaiveDate> = file.workday.iter().map(|w| w.date).collect();
        workdays.sort();
        assert_eq!(
            workdays,
            [
                date(2026, 1, 4),
                date(2026, 2, 14),
                date(2026, 2, 28),
                date(2026, 5, 9),
                date(2026, 9, 20),
                date(2026, 10, 10),
            ]
        );
        // Every make-up day is a weekend day, and every listed holiday range is contiguous.
        assert!(workdays.iter().all(|d| is_weekend(*d)));
        for h in &file.holiday {
            for pair in h.dates.windows(2) {
                assert_eq!(pair[0].succ_opt(), Some(pair[1]), "{}", h.name);
            }
        }
    }

    #[test]
    fn later_files_override_earlier_ones() {
        let mut cal = BusinessCalendar::china_default();
        let config = BusinessCalendar::parse_file(
            r#"
            year = 2026
            [[holiday]]
            name = "公司假日"
            dates = [2026-10-10]          # was a 调休 Saturday in the shipped file
            [[workday]]
            name = "值班"
            date = "2026-10-05"           # was 国庆节
            "#,
        )
        .unwrap();
        cal.add_file(&config).unwrap();
        assert_eq!(
            cal.day_kind(date(2026, 10, 10)),
            DayKind::Holiday("公司假日".into())
        );
        assert_eq!(
            cal.day_kind(date(2026, 10, 5)),
            DayKind::MakeupWorkday("值班".into())
        );
        assert_eq!(
            cal.day_kind(date(2026, 10, 6)),
            DayKind::Holiday("国庆节".into())
        );
    }

    #[test]
    fn bare_and_quoted_dates_parse_alike() {
        let bare = BusinessCalendar::parse_file(
            "year = 2026\n[[holiday]]\nname = \"x\"\ndates = [2026-10-01, 2026-10-02]\n",
        )
        .unwrap();
        let quoted = BusinessCalendar::parse_file(
            "year = 2026\n[[holiday]]\nname = \"x\"\ndates = [\"2026-10-01\", \"2026-10-02\"]\n",
        )
        .unwrap();
        assert_eq!(bare, quoted);
        let empty = BusinessCalendar::parse_file("year = 2030\n").unwrap();
        assert!(empty.holiday.is_empty() && empty.workday.is_empty());
    }

    #[test]
    fn parse_errors_say_what_and_where() {
        let cases = [
            (
                "bad TOML",
                "year = 2026\n[[holiday]]\nname = \"元旦\"\ndates = [\"2026-01-01\"\n",
                &["line 4"][..],
            ),
            (
                "unknown field",
                "year = 2026\nyaer = 2027\n",
                &["line 2", "yaer"][..],
            ),
            (
                "unknown entry field",
                "year = 2026\n[[workday]]\nname = \"x\"\ndate = \"2026-01-04\"\nwhen = 1\n",
                &["line 5", "when"][..],
            ),
            (
                "malformed date",
                "year = 2026\n[[workday]]\nname = \"x\"\ndate = \"2026-02-30\"\n",
                &["line 4", "2026-02-30", "YYYY-MM-DD"][..],
            ),
            (
                "date with a time",
                "year = 2026\n[[workday]]\nname = \"x\"\ndate = 2026-01-04T09:00:00\n",
                &["line 4", "without a time of day"][..],
            ),
            (
                "date outside the year",
                "year = 2026\n[[holiday]]\nname = \"元旦\"\ndates = [\"2027-01-01\"]\n",
                &["2027-01-01", "元旦", "year 2026"][..],
            ),
            (
                "holiday and workday",
                "year = 2026\n[[holiday]]\nname = \"春节\"\ndates = [\"2026-02-14\"]\n\
                 [[workday]]\nname = \"春节调休\"\ndate = \"2026-02-14\"\n",
                &["2026-02-14", "both", "春节", "春节调休"][..],
            ),
            (
                "listed twice",
                "year = 2026\n[[holiday]]\nname = \"中秋节\"\ndates = [\"2026-10-01\"]\n\
                 [[holiday]]\nname = \"国庆节\"\ndates = [\"2026-10-01\"]\n",
                &["2026-10-01", "twice", "中秋节", "国庆节"][..],
            ),
        ];
        for (what, text, needles) in cases {
            let err = BusinessCalendar::parse_file(text).unwrap_err().to_string();
            for needle in needles {
                assert!(err.contains(needle), "{what}: {needle:?} not in {err:?}");
            }
        }
    }

    #[test]
    fn a_rejected_file_changes_nothing() {
        let mut cal = BusinessCalendar::china_default();
        let bad = CalendarFile {
            year: 2026,
            holiday: vec![HolidayEntry {
                name: "x".into(),
                dates: vec![date(2026, 3, 10), date(2027, 3, 10)],
            }],
            workday: vec![],
        };
        assert!(matches!(
            cal.add_file(&bad),
            Err(CalendarError::DateOutsideYear { year: 2026, .. })
        ));
        assert_eq!(cal.day_kind(date(2026, 3, 10)), DayKind::Workday);
    }

    #[test]
    fn working_hours_are_checked() {
        let tz = chrono_tz::Asia::Shanghai;
        let cases = [
            (vec![], "no working hours given"),
            (
                vec![wh((18, 0), (9, 0))],
                "working hours 18:00–09:00 end before they start",
            ),
            (
                vec![wh((9, 0), (9, 0))],
                "working hours 09:00–09:00 are empty",
            ),
            (
                vec![wh((11, 0), (17, 30)), wh((8, 30), (12, 0))],
                "working hours 08:30–12:00 and 11:00–17:30 overlap",
            ),
        ];
        for (hours, want) in cases {
            let err = BusinessCalendar::new(tz, hours).unwrap_err();
            assert_eq!(err.to_string(), want);
        }
        let with_seconds = WorkingHours {
            start: NaiveTime::from_hms_opt(9, 0, 30).unwrap(),
            end: time(9, 0),
        };
        assert_eq!(
            BusinessCalendar::new(tz, vec![with_seconds])
                .unwrap_err()
                .to_string(),
            "working hours 09:00:30–09:00 end before they start"
        );
        // Ranges that only touch are fine.
        assert!(BusinessCalendar::new(tz, vec![wh((8, 0), (12, 0)), wh((12, 0), (13, 0))]).is_ok());
    }

    /// Berlin's 2026 changes fall on Sundays; a make-up file turns those into working days with
    /// hours 01:00–04:00 so the jump and the fold happen during work.
    fn berlin_night_shift() -> BusinessCalendar {
        let mut cal =
            BusinessCalendar::new(chrono_tz::Europe::Berlin, vec![wh((1, 0), (4, 0))]).unwrap();
        let file = BusinessCalendar::parse_file(
            "year = 2026\n[[workday]]\nname = \"DST\"\ndate = 2026-03-29\n\
             [[workday]]\nname = \"DST\"\ndate = 2026-10-25\n",
        )
        .unwrap();
        cal.add_file(&file).unwrap();
        cal
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap()
    }

    #[test]
    fn dst_gap_and_fold_count_real_seconds() {
        let cal = berlin_night_shift();
        // 29 March: 02:00 CET jumps to 03:00 CEST, so 01:00–04:00 lasts two hours
        // (00:00–02:00 UTC).
        let spring = cal.business_seconds(utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 12, 0));
        assert_eq!(spring, 2 * HOUR);
        assert_eq!(cal.closed_reason(utc(2026, 3, 29, 1, 30)), None);
        assert_eq!(
            cal.closed_reason(utc(2026, 3, 29, 2, 0)),
            Some(ClosedReason::OutsideHours)
        );
        // 25 October: 03:00 CEST falls back to 02:00 CET, so 01:00–04:00 lasts four hours
        // (23:00–03:00 UTC).
        let autumn = cal.business_seconds(utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 12, 0));
        assert_eq!(autumn, 4 * HOUR);
        assert_eq!(
            cal.add_business_seconds(utc(2026, 10, 24, 12, 0), 3 * HOUR + 1_800),
            utc(2026, 10, 25, 2, 30)
        );
        // A range starting inside the gap begins where the jump lands.
        let gap =
            BusinessCalendar::new(chrono_tz::Europe::Berlin, vec![wh((2, 30), (5, 0))]).unwrap();
        let mut gap = gap;
        gap.add_file(
            &BusinessCalendar::parse_file(
                "year = 2026\n[[workday]]\nname = \"DST\"\ndate = 2026-03-29\n",
            )
            .unwrap(),
        )
        .unwrap();
        // 02:30 does not exist; read with CET it is 01:30 UTC (03:30 CEST), and 05:00 CEST is
        // 03:00 UTC.
        let worked = gap.business_seconds(utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 12, 0));
        assert_eq!(worked, HOUR + 1_800);
    }

    #[test]
    fn local_to_utc_handles_single_fold_and_gap() {
        let berlin = chrono_tz::Europe::Berlin;
        let at = |d: NaiveDate, h, m| local_to_utc(berlin, d.and_time(time(h, m))).unwrap();
        assert_eq!(at(date(2026, 7, 1), 12, 0), utc(2026, 7, 1, 10, 0));
        assert_eq!(
            at(date(2026, 10, 25), 2, 30),
            utc(2026, 10, 25, 0, 30),
            "earlier of a fold"
        );
        assert_eq!(
            at(date(2026, 3, 29), 2, 30),
            utc(2026, 3, 29, 1, 30),
            "past the gap"
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// Instants from late 2025 to early 2028, so spans cross both shipped years, 春节 and
        /// 国庆, at one-second resolution.
        fn instant() -> impl Strategy<Value = DateTime<Utc>> {
            let start = sh(2025, 12, 1, 0, 0).timestamp();
            let end = sh(2028, 2, 1, 0, 0).timestamp();
            (start..end).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn business_seconds_add_up(a in instant(), b in instant(), c in instant()) {
                let cal = BusinessCalendar::china_default();
                let mut v = [a, b, c];
                v.sort();
                let [a, b, c] = v;
                prop_assert_eq!(
                    cal.business_seconds(a, c),
                    cal.business_seconds(a, b) + cal.business_seconds(b, c)
                );
                let reached = cal.add_business_seconds(a, cal.business_seconds(a, b));
                prop_assert!(reached <= b);
                prop_assert_eq!(cal.business_seconds(a, reached), cal.business_seconds(a, b));
            }
        }
    }
}
