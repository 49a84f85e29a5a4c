//! A report's period: an ISO week (`2026-W47`) or a calendar month (`2026-11`), both in the
//! business time zone, so a ticket created at 23:59 on a Sunday in Asia/Shanghai belongs to
//! that week whatever zone the server runs in.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};

/// A week or a month of reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// An ISO 8601 week: its ISO year (which may differ from the calendar year at the edges)
    /// and number (1–52 or 53).
    Week {
        year: i32,
        week: u32,
    },
    Month {
        year: i32,
        month: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("'{0}' is not a period: write a week as 2026-W47 or a month as 2026-11")]
    Shape(String),
    #[error("{year} has no ISO week {week} (it has {weeks})")]
    NoSuchWeek { year: i32, week: u32, weeks: u32 },
    #[error("there is no month {0}: months are 01 to 12")]
    NoSuchMonth(u32),
    #[error("the year {0} is outside 1970–9999")]
    Year(i32),
}

impl Period {
    /// Reads `2026-W47` (also `2026W47`, `2026-w47`) or `2026-11`.
    pub fn parse(text: &str) -> Result<Period, PeriodError> {
        let shape = || PeriodError::Shape(text.chars().take(40).collect());
        let t = text.trim();
        let (year, rest) = t.split_at_checked(4).ok_or_else(shape)?;
        let year: i32 = digits(year).ok_or_else(shape)?;
        if !(1970..=9999).contains(&year) {
            return Err(PeriodError::Year(year));
        }
        let rest = rest.strip_prefix('-').unwrap_or(rest);
        if let Some(week) = rest.strip_prefix(['W', 'w']) {
            let week: u32 = digits(week).ok_or_else(shape)?;
            let weeks = weeks_in(year);
            if !(1..=weeks).contains(&week) {
                return Err(PeriodError::NoSuchWeek { year, week, weeks });
            }
            return Ok(Period::Week { year, week });
        }
        let month: u32 = digits(rest).ok_or_else(shape)?;
        if !(1..=12).contains(&month) {
            return Err(PeriodError::NoSuchMonth(month));
        }
        Ok(Period::Month { year, month })
    }

    /// The week `at` falls in, in `zone`.
    pub fn week_of(at: DateTime<Utc>, zone: chrono_tz::Tz) -> Period {
        let week = at.with_timezone(&zone).date_naive().iso_week();
        Period::Week {
            year: week.year(),
            week: week.week(),
        }
    }

    /// The month `at` falls in, in `zone`.
    pub fn month_of(at: DateTime<Utc>, zone: chrono_tz::Tz) -> Period {
        let day = at.with_timezone(&zone).date_naive();
        Period::Month {
            year: day.year(),
            month: day.month(),
        }
    }

    /// The week a local day falls in.
    pub fn week_of_day(day: NaiveDate) -> Period {
        let week = day.iso_week();
        Period::Week {
            year: week.year(),
            week: week.week(),
        }
    }

    /// The first and the day after the last local day of the period.
    pub fn days(self) -> (NaiveDate, NaiveDate) {
        match self {
            Period::Week { year, week } => {
                let monday = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
                    .expect("a parsed week exists");
                (monday, monday + Duration::days(7))
            }
            Period::Month { year, month } => {
                let first = NaiveDate::from_ymd_opt(year, month, 1).expect("a parsed month exists");
                let next = if month == 12 {
                    NaiveDate::from_ymd_opt(year + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(year, month + 1, 1)
                }
                .expect("the month after exists");
                (first, next)
            }
        }
    }

    /// `[start, end)` in UTC: local midnight of the first day to local midnight after the last.
    pub fn bounds(self, zone: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let (first, after) = self.days();
        (midnight(first, zone), midnight(after, zone))
    }

    /// Whether `at` falls in the period, read in `zone`.
    pub fn contains(self, at: DateTime<Utc>, zone: chrono_tz::Tz) -> bool {
        let (start, end) = self.bounds(zone);
        start <= at && at < end
    }

    /// The period before, of the same kind.
    pub fn previous(self) -> Period {
        match self {
            Period::Week { .. } => {
                let (monday, _) = self.days();
                let week = (monday - Duration::days(7)).iso_week();
                Period::Week {
                    year: week.year(),
                    week: week.week(),
                }
            }
            Period::Month { year, month: 1 } => Period::Month {
                year: year - 1,
                month: 12,
            },
            Period::Month { year, month } => Period::Month {
                year,
                month: month - 1,
            },
        }
    }

    /// The period after, of the same kind.
    pub fn next(self) -> Period {
        match self {
            Period::Week { .. } => {
                let (_, after) = self.days();
                let week = after.iso_week();
                Period::Week {
                    year: week.year(),
                    week: week.week(),
                }
            }
            Period::Month { year, month: 12 } => Period::Month {
                year: year + 1,
                month: 1,
            },
            Period::Month { year, month } => Period::Month {
                year,
                month: month + 1,
            },
        }
    }

    /// This period and the `n - 1` before it, oldest first (a trend's periods).
    pub fn last(self, n: usize) -> Vec<Period> {
        let mut out = vec![self];
        while out.len() < n {
            let before = out[out.len() - 1].previous();
            out.push(before);
        }
        out.reverse();
        out
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Week { year, week } => write!(f, "{year}-W{week:02}"),
            Period::Month { year, month } => write!(f, "{year}-{month:02}"),
        }
    }
}

/// ASCII digits only (no sign, no spaces), as a number.
fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// 52 or 53: a year has a week 53 when its 28 December falls in one.
fn weeks_in(year: i32) -> u32 {
    NaiveDate::from_ymd_opt(year, 12, 28).map_or(52, |d| d.iso_week().week())
}

/// Local midnight of `day` in `zone` as UTC (the earliest, should a zone skip or repeat it).
fn midnight(day: NaiveDate, zone: chrono_tz::Tz) -> DateTime<Utc> {
    let local = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    zone.from_local_datetime(&local)
        .earliest()
        .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn weeks_and_months_are_read_and_written_back() {
        for (text, period) in [
            (
                "2026-W47",
                Period::Week {
                    year: 2026,
                    week: 47,
                },
            ),
            (
                "2026w03",
                Period::Week {
                    year: 2026,
                    week: 3,
                },
            ),
            (
                "2026-11",
                Period::Month {
                    year: 2026,
                    month: 11,
                },
            ),
            (
                "2026-W53",
                Period::Week {
                    year: 2026,
                    week: 53,
                },
            ),
        ] {
            assert_eq!(Period::parse(text), Ok(period), "{text}");
        }
        assert_eq!(Period::parse("2026-W47").unwrap().to_string(), "2026-W47");
        assert_eq!(Period::parse("2026-1").unwrap().to_string(), "2026-01");
    }

    #[test]
    fn periods_that_do_not_exist_are_refused_in_words() {
        assert_eq!(
            Period::parse("2027-W53"),
            Err(PeriodError::NoSuchWeek {
                year: 2027,
                week: 53,
                weeks: 52
            })
        );
        assert!(matches!(
            Period::parse("2026-W54"),
            Err(PeriodError::NoSuchWeek { .. })
        ));
        assert_eq!(Period::parse("2026-13"), Err(PeriodError::NoSuchMonth(13)));
        assert_eq!(Period::parse("2026-00"), Err(PeriodError::NoSuchMonth(0)));
        for bad in [
            "",
            "W47",
            "2026-W",
            "2026-W4a",
            "二〇二六-11",
            "2026--11",
            "+026-11",
        ] {
            assert!(
                matches!(Period::parse(bad), Err(PeriodError::Shape(_))),
                "{bad:?}"
            );
        }
        assert_eq!(Period::parse("1969-01"), Err(PeriodError::Year(1969)));
    }

    #[test]
    fn a_week_is_monday_to_sunday_midnight_in_the_business_zone() {
        let w47 = Period::parse("2026-W47").unwrap();
        // Monday 16 November 2026 00:00 in Shanghai is 15 November 16:00 UTC.
        assert_eq!(
            w47.bounds(SHANGHAI),
            (at("2026-11-15T16:00:00Z"), at("2026-11-22T16:00:00Z"))
        );
        // 23:59 on Sunday in Shanghai is still that week, whatever the server's zone.
        let sunday_night = at("2026-11-22T15:59:00Z");
        assert!(w47.contains(sunday_night, SHANGHAI));
        assert_eq!(Period::week_of(sunday_night, SHANGHAI), w47);
        assert!(!w47.contains(at("2026-11-22T16:00:00Z"), SHANGHAI));
        // The same instant is Sunday afternoon in UTC: the zone decides.
        assert_eq!(
            Period::week_of(at("2026-11-15T16:30:00Z"), SHANGHAI),
            w47,
            "Monday 00:30 in Shanghai"
        );
        assert_eq!(
            Period::week_of(at("2026-11-15T16:30:00Z"), chrono_tz::UTC),
            Period::parse("2026-W46").unwrap()
        );
    }

    #[test]
    fn the_period_before_crosses_year_edges() {
        assert_eq!(
            Period::parse("2026-W01").unwrap().previous(),
            Period::parse("2025-W52").unwrap()
        );
        assert_eq!(
            Period::parse("2027-W01").unwrap().previous(),
            Period::parse("2026-W53").unwrap()
        );
        assert_eq!(
            Period::parse("2026-01").unwrap().previous(),
            Period::parse("2025-12").unwrap()
        );
        // The period after undoes the period before, across the same edges.
        for text in [
            "2025-W52", "2026-W53", "2026-W47", "2025-12", "2026-01", "2026-11",
        ] {
            let p = Period::parse(text).unwrap();
            assert_eq!(p.previous().next(), p, "{text}");
            assert_eq!(p.next().previous(), p, "{text}");
        }
        assert_eq!(
            Period::parse("2026-W53").unwrap().next(),
            Period::parse("2027-W01").unwrap()
        );
        assert_eq!(
            Period::parse("2026-12").unwrap().next(),
            Period::parse("2027-01").unwrap()
        );
        let twelve = Period::parse("2026-W02").unwrap().last(3);
        assert_eq!(
            twelve.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["2025-W52", "2026-W01", "2026-W02"]
        );
        // ISO 2026-W01 starts on Monday 29 December 2025.
        assert_eq!(
            Period::parse("2026-W01").unwrap().bounds(SHANGHAI).0,
            at("2025-12-28T16:00:00Z")
        );
        assert_eq!(
            Period::parse("2026-12").unwrap().bounds(SHANGHAI),
            (at("2026-11-30T16:00:00Z"), at("2026-12-31T16:00:00Z"))
        );
    }
}
