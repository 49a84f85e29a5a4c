//! Today against the same weekday of the last few weeks: account openings on a Monday are
//! judged against past Mondays, not against a Sunday. The baseline is the mean of those days;
//! today fires when it strays from it by more than a tolerance in percent. A baseline too small
//! to take a percentage of (a new product, a quiet channel) is not judged, and says so, rather
//! than firing on 1 against 0.

use serde::Deserialize;

use super::{Verdict, columns, show};

fn default_weeks() -> u32 {
    4
}

fn default_min_baseline() -> f64 {
    1.0
}

/// Today against the mean of the same weekday over the last `weeks` weeks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Weeks of history (same weekday), 1–12.
    #[serde(default = "default_weeks")]
    pub weeks: u32,
    /// Percent either side of the baseline's mean that is still normal (> 0), e.g. 30.
    pub tolerance: f64,
    /// A baseline mean under this is too small to judge: the verdict is quiet and says so.
    #[serde(default = "default_min_baseline")]
    pub min_baseline: f64,
}

impl Baseline {
    /// Refuses `weeks` outside 1–12, a `tolerance` that is not above 0, and a negative or
    /// non-finite `min_baseline`; the message names the key.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=12).contains(&self.weeks) {
            return Err(format!("`weeks` must be 1 to 12, not {}", self.weeks));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(format!(
                "`tolerance` must be a percentage above 0, not {}",
                self.tolerance
            ));
        }
        if !(self.min_baseline.is_finite() && self.min_baseline >= 0.0) {
            return Err(format!(
                "`min_baseline` must be 0 or more, not {}",
                self.min_baseline
            ));
        }
        Ok(())
    }

    /// Judges `today` (shown in the rows as `today_label`, e.g. "today" or "2026-12-07")
    /// against `history`: (day label, value) for each past week that had data, newest first;
    /// only the newest `weeks` are used, and a value that is not a finite number is listed but
    /// left out of the mean. Fires when |today − mean| / |mean| × 100 > `tolerance`, or when
    /// today is not a finite number. Quiet, and saying why, with no history or a mean under
    /// `min_baseline`.
    ///
    /// Rows: columns `day`, `value`: today, each history day, then `baseline` and the mean.
    pub fn judge(
        &self,
        today: f64,
        today_label: &str,
        history: &[(String, f64)],
        label_zh: &str,
        label_en: &str,
    ) -> Verdict {
        let window = &history[..history.len().min(self.weeks as usize)];
        let used: Vec<f64> = window
            .iter()
            .map(|(_, v)| *v)
            .filter(|v| v.is_finite())
            .collect();
        let n = used.len();
        let mean = (n > 0).then(|| used.iter().sum::<f64>() / n as f64);

        let mut rows = vec![vec![Some(today_label.to_string()), Some(show(today))]];
        rows.extend(
            window
                .iter()
                .map(|(day, v)| vec![Some(day.clone()), v.is_finite().then(|| show(*v))]),
        );
        rows.push(vec![Some("baseline".to_string()), mean.map(show)]);

        let t = show(today);
        let (firing, zh, en) = match mean {
            _ if !today.is_finite() => (
                true,
                "不是有限数值".to_string(),
                "not a finite number".to_string(),
            ),
            None => (
                false,
                format!("尚无基线：近 {} 周同日没有数据", self.weeks),
                format!(
                    "no baseline yet: no data on this weekday in the last {} weeks",
                    self.weeks
                ),
            ),
            Some(m) if m == 0.0 || m.abs() < self.min_baseline => {
                let (m, min) = (show(m), show(self.min_baseline));
                (
                    false,
                    format!("近 {n} 周同日均值 {m}，基数太小（下限 {min}），不作判断"),
                    format!("the {n}-week mean of {m} is too small to judge (minimum {min})"),
                )
            }
            Some(m) => self.compare(today, m, n),
        };
        Verdict {
            firing,
            value: today,
            summary: format!("{label_zh} {t}，{zh} · {t} {label_en}, {en}"),
            columns: columns(&["day", "value"]),
            rows,
        }
    }

    /// Today against a mean worth a percentage: (firing, Chinese, English).
    fn compare(&self, today: f64, mean: f64, n: usize) -> (bool, String, String) {
        let change = (today - mean) / mean.abs() * 100.0;
        // Rounded before printing, so "30.04%" against a tolerance of 30 still reads as over.
        let p = show((change.abs() * 10.0).round() / 10.0);
        let m = show(mean);
        let (zh_move, en_move) = if change < 0.0 {
            (format!("下降 {p}%"), format!("{p}% below"))
        } else if change > 0.0 {
            (format!("上升 {p}%"), format!("{p}% above"))
        } else {
            ("持平".to_string(), "level with".to_string())
        };
        let firing = change.abs() > self.tolerance;
        let tol = show(self.tolerance);
        let (zh_verdict, en_verdict) = if firing {
            (format!("超出 ±{tol}%"), format!("beyond ±{tol}%"))
        } else {
            (format!("在 ±{tol}% 以内"), format!("within ±{tol}%"))
        };
        (
            firing,
            format!("较近 {n} 周同日均值 {m} {zh_move}，{zh_verdict}"),
            format!("{en_move} the {n}-week mean of {m}, {en_verdict}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(tolerance: f64) -> Baseline {
        Baseline {
            weeks: 4,
            tolerance,
            min_baseline: 1.0,
        }
    }

    fn days(values: &[f64]) -> Vec<(String, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("2026-11-{:02}", 30 - 7 * i), *v))
            .collect()
    }

    #[test]
    fn check_bounds_weeks_tolerance_and_min_baseline() {
        assert!(rule(30.0).check().is_ok());
        for (bad, key) in [
            (
                Baseline {
                    weeks: 0,
                    ..rule(30.0)
                },
                "`weeks`",
            ),
            (
                Baseline {
                    weeks: 13,
                    ..rule(30.0)
                },
                "`weeks`",
            ),
            (rule(0.0), "`tolerance`"),
            (rule(-5.0), "`tolerance`"),
            (rule(f64::NAN), "`tolerance`"),
            (
                Baseline {
                    min_baseline: -1.0,
                    ..rule(30.0)
                },
                "`min_baseline`",
            ),
        ] {
            let e = bad.check().unwrap_err();
            assert!(e.starts_with(key), "{e}");
        }
        let b: Baseline = toml::from_str("tolerance = 30").unwrap();
        assert_eq!(b, rule(30.0));
        assert!(toml::from_str::<Baseline>("tolerance = 30\nweek = 2").is_err());
    }

    #[test]
    fn a_drop_beyond_the_tolerance_fires_and_says_by_how_much() {
        let v = rule(30.0).judge(
            12.0,
            "today",
            &days(&[70.0, 90.0, 80.0, 80.0]),
            "今日开户",
            "opened today",
        );
        assert!(v.firing);
        assert_eq!(v.value, 12.0);
        assert_eq!(
            v.summary,
            "今日开户 12，较近 4 周同日均值 80 下降 85%，超出 ±30% · 12 opened today, 85% below the 4-week mean of 80, beyond ±30%"
        );
        assert_eq!(v.columns, ["day", "value"]);
        let rows: Vec<_> = v
            .rows
            .iter()
            .map(|r| (r[0].clone().unwrap(), r[1].clone()))
            .collect();
        assert_eq!(rows[0], ("today".into(), Some("12".into())));
        assert_eq!(rows[1], ("2026-11-30".into(), Some("70".into())));
        assert_eq!(rows[5], ("baseline".into(), Some("80".into())));
        assert_eq!(rows.len(), 6);
    }

    #[test]
    fn within_the_tolerance_either_way_is_quiet_and_a_rise_fires_too() {
        let history = days(&[100.0, 100.0]);
        for (today, firing) in [
            (70.0, false),
            (130.0, false),
            (69.0, true),
            (131.0, true),
            (100.0, false),
        ] {
            let v = rule(30.0).judge(today, "today", &history, "成交笔数", "trades");
            assert_eq!(v.firing, firing, "{today}: {}", v.summary);
        }
        let v = rule(30.0).judge(250.0, "today", &history, "成交笔数", "trades");
        assert!(
            v.summary.contains("上升 150%")
                && v.summary.contains("150% above the 2-week mean of 100"),
            "{}",
            v.summary
        );
        let v = rule(30.0).judge(100.0, "today", &history, "成交笔数", "trades");
        assert!(
            v.summary.contains("持平") && v.summary.contains("within ±30%"),
            "{}",
            v.summary
        );
    }

    #[test]
    fn no_history_is_quiet_and_says_there_is_no_baseline_yet() {
        let v = rule(30.0).judge(0.0, "2026-12-07", &[], "今日开户", "opened today");
        assert!(!v.firing);
        assert!(
            v.summary.contains("尚无基线") && v.summary.contains("no baseline yet"),
            "{}",
            v.summary
        );
        assert_eq!(v.rows.len(), 2);
        assert_eq!(v.rows[0][0].as_deref(), Some("2026-12-07"));
        assert_eq!(v.rows[1], vec![Some("baseline".into()), None]);
    }

    #[test]
    fn a_zero_or_tiny_baseline_is_not_judged() {
        let v = rule(30.0).judge(
            5.0,
            "today",
            &days(&[0.0, 0.0, 0.0]),
            "新渠道开户",
            "opened via the new channel",
        );
        assert!(!v.firing);
        assert!(v.summary.contains("too small to judge"), "{}", v.summary);
        let v = rule(30.0).judge(5.0, "today", &days(&[1.0, 0.0]), "x", "x");
        assert!(!v.firing, "mean 0.5 is under the default minimum of 1");
        // With no minimum at all, a zero mean still cannot be divided by.
        let none = Baseline {
            min_baseline: 0.0,
            ..rule(30.0)
        };
        let v = none.judge(5.0, "today", &days(&[0.0]), "x", "x");
        assert!(
            !v.firing && v.summary.contains("too small"),
            "{}",
            v.summary
        );
        assert!(none.judge(5.0, "today", &days(&[0.5]), "x", "x").firing);
    }

    #[test]
    fn only_the_newest_weeks_count_and_unreadable_days_are_left_out() {
        let b = Baseline {
            weeks: 2,
            ..rule(30.0)
        };
        let v = b.judge(100.0, "today", &days(&[100.0, 100.0, 0.0, 0.0]), "x", "x");
        assert!(!v.firing, "{}", v.summary);
        assert_eq!(v.rows.len(), 4);
        let v = rule(30.0).judge(100.0, "today", &days(&[100.0, f64::NAN]), "x", "x");
        assert!(
            !v.firing && v.summary.contains("1-week mean of 100"),
            "{}",
            v.summary
        );
        assert_eq!(v.rows[2][1], None);
    }

    #[test]
    fn a_today_that_is_not_a_number_fires() {
        let v = rule(30.0).judge(
            f64::NAN,
            "today",
            &days(&[100.0]),
            "今日开户",
            "opened today",
        );
        assert!(
            v.firing && v.summary.contains("not a finite number"),
            "{}",
            v.summary
        );
        let v = rule(30.0).judge(f64::INFINITY, "today", &[], "x", "x");
        assert!(v.firing);
    }
}
