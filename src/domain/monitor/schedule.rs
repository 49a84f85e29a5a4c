//! When a monitor runs: a cron expression read in the business time zone (Asia/Shanghai for
//! the desk), so "30 18 * * 1-5" means half past six in the evening on weekdays there, whatever
//! zone the server's clock keeps. The calendar walk, daylight-saving gaps and repeated hours
//! included, is croner's; this wraps it with the desk's rules: 5 fields (minutes) or 6 (with
//! seconds) or an alias such as `@hourly`, no year field, and an expression that can never
//! fire (the 30th of February) refused when it is written, not discovered when it is due.

use std::fmt;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// A monitor's schedule: a cron expression read in the business time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    expr: String,
    cron: Cron,
}

impl Schedule {
    /// Parses `expr`: five fields (minute hour day-of-month month day-of-week), six with
    /// seconds first, or an alias (`@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`). The
    /// error names the expression and says what is wrong, in croner's words.
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        let expr = expr.trim();
        let parser = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build();
        let cron = parser
            .parse(expr)
            .map_err(|e| format!("cron expression '{expr}': {e}"))?;
        // croner looks no further than the year 5000: an expression with no firing from 2000
        // to then (no year field, so the calendar has repeated many times over) has none.
        let start = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single();
        let fires = start.is_some_and(|s| cron.find_next_occurrence(&s, true).is_ok());
        if !fires {
            return Err(format!(
                "cron expression '{expr}': it never fires (no date matches it)"
            ));
        }
        Ok(Schedule {
            expr: expr.to_string(),
            cron,
        })
    }

    /// The expression as written (trimmed).
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The first firing strictly after `after`, read in `tz`, returned in UTC. None if there
    /// is none: croner looks from the year 1 to the year 5000 and no further. Daylight saving
    /// as croner does it: a fixed time the clock skips (a spring-forward gap) fires at the
    /// first instant after the gap; a fixed time the clock passes twice fires once, on the
    /// first pass; an interval (`0 * * * *`) fires on both passes of a repeated hour.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        // Outside croner's years the local time may not even be representable (chrono panics
        // on a local time past its range), and there is nothing to find there anyway.
        if !(1..5000).contains(&after.year()) {
            return None;
        }
        let local = after.with_timezone(&tz);
        let next = self.cron.find_next_occurrence(&local, false).ok()?;
        Some(next.with_timezone(&Utc))
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;
    const NEW_YORK: Tz = chrono_tz::America::New_York;

    fn at(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, mo, d, h, mi, s)
            .earliest()
            .expect("a real local time")
            .with_timezone(&Utc)
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn next(expr: &str, after: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        Schedule::parse(expr)
            .unwrap()
            .next_after(after, tz)
            .unwrap()
    }

    #[test]
    fn bad_expressions_are_refused_with_the_expression_named() {
        for bad in [
            "61 * * * *",
            "* 24 * * *",
            "0 0 32 * *",
            "every day",
            "",
            "   ",
            "* * * *",
            "0 0 0 1 1 * 2030",
            "* * * * * * * *",
            "*/0 * * * *",
            "5-1x * * * *",
            "@",
            "@reboot",
            "开盘 * * * *",
            "0 0 30 2 *",
            "0 0 31 4,6,9,11 *",
        ] {
            let e = Schedule::parse(bad).expect_err(bad);
            assert!(
                e.starts_with(&format!("cron expression '{}'", bad.trim())),
                "{e}"
            );
        }
        let e = Schedule::parse("0 0 30 2 *").unwrap_err();
        assert!(e.contains("never fires"), "{e}");
    }

    #[test]
    fn five_and_six_fields_and_aliases_are_read() {
        for good in [
            "30 18 * * 1-5",
            "*/15 9-15 * * MON-FRI",
            "0 30 18 * * 1-5",
            "@hourly",
            "@daily",
            "0 0 29 2 *",
        ] {
            let s = Schedule::parse(good).expect(good);
            assert_eq!(s.expr(), good);
            assert_eq!(s.to_string(), good);
        }
        assert_eq!(Schedule::parse("  @weekly ").unwrap().expr(), "@weekly");
        // Six fields: seconds come first.
        let after = at(SHANGHAI, 2026, 12, 7, 9, 0, 0);
        assert_eq!(
            next("*/20 * * * * *", after, SHANGHAI),
            after + chrono::Duration::seconds(20)
        );
        assert_eq!(
            next("* * * * *", after, SHANGHAI),
            after + chrono::Duration::minutes(1)
        );
        assert_eq!(
            next("@hourly", after, SHANGHAI),
            at(SHANGHAI, 2026, 12, 7, 10, 0, 0)
        );
    }

    #[test]
    fn after_a_friday_evening_in_shanghai_comes_monday_at_half_past_six() {
        let friday = at(SHANGHAI, 2026, 12, 4, 19, 0, 0);
        assert_eq!(friday.with_timezone(&SHANGHAI).weekday(), Weekday::Fri);
        let n = next("30 18 * * 1-5", friday, SHANGHAI);
        assert_eq!(n, utc(2026, 12, 7, 10, 30, 0));
        assert_eq!(n.with_timezone(&SHANGHAI).weekday(), Weekday::Mon);
        // Read in UTC the same expression still fires that Friday: 19:00 in Shanghai is only
        // 11:00 UTC.
        assert_eq!(
            next("30 18 * * 1-5", friday, chrono_tz::UTC),
            utc(2026, 12, 4, 18, 30, 0)
        );
    }

    #[test]
    fn next_is_strictly_after() {
        let s = Schedule::parse("30 18 * * *").unwrap();
        let firing = at(SHANGHAI, 2026, 12, 7, 18, 30, 0);
        assert_eq!(
            s.next_after(firing, SHANGHAI),
            Some(at(SHANGHAI, 2026, 12, 8, 18, 30, 0))
        );
        let just_before = firing - chrono::Duration::milliseconds(500);
        assert_eq!(s.next_after(just_before, SHANGHAI), Some(firing));
        let just_after = firing + chrono::Duration::milliseconds(500);
        assert_eq!(
            s.next_after(just_after, SHANGHAI),
            Some(at(SHANGHAI, 2026, 12, 8, 18, 30, 0))
        );
    }

    #[test]
    fn daylight_saving_in_new_york_is_walked_as_croner_does() {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 does not happen that day; the
        // job runs at the first instant after the gap.
        let n = next("30 2 * * *", at(NEW_YORK, 2026, 3, 8, 0, 0, 0), NEW_YORK);
        assert_eq!(n, utc(2026, 3, 8, 7, 0, 0));
        // 2026-11-01: 01:30 happens twice (EDT, then EST); a daily job runs on the first only.
        let n = next("30 1 * * *", at(NEW_YORK, 2026, 11, 1, 0, 0, 0), NEW_YORK);
        assert_eq!(n, utc(2026, 11, 1, 5, 30, 0));
        let n = next("30 1 * * *", n, NEW_YORK);
        assert_eq!(n, utc(2026, 11, 2, 6, 30, 0));
        // Hourly through the repeated hour: both passes of 01:00 run.
        let start = utc(2026, 11, 1, 4, 30, 0); // 00:30 EDT
        let first = next("0 * * * *", start, NEW_YORK);
        let second = next("0 * * * *", first, NEW_YORK);
        assert_eq!(
            (first, second),
            (utc(2026, 11, 1, 5, 0, 0), utc(2026, 11, 1, 6, 0, 0))
        );
    }

    #[test]
    fn a_rare_expression_is_found_and_there_is_an_end() {
        let n = next("0 0 29 2 *", at(SHANGHAI, 2026, 12, 7, 0, 0, 0), SHANGHAI);
        assert_eq!(n, at(SHANGHAI, 2028, 2, 29, 0, 0, 0));
        let s = Schedule::parse("0 0 1 1 *").unwrap();
        assert_eq!(s.next_after(DateTime::<Utc>::MAX_UTC, SHANGHAI), None);
        assert_eq!(s.next_after(DateTime::<Utc>::MIN_UTC, NEW_YORK), None);
        assert_eq!(s.next_after(utc(4999, 12, 31, 23, 0, 0), SHANGHAI), None);
    }
}
