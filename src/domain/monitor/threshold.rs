//! The plainest monitor rule: one value read from business data (today's account openings,
//! orders rejected in the last hour) against a floor, a ceiling or both. A value that is not a
//! number fires: a monitor that cannot read its figure must not look healthy.

use serde::Deserialize;

use super::{Verdict, columns, show};

/// `below`/`above`: fires when the value is under `below` or over `above` (at least one set).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// The floor: a value under it fires.
    pub below: Option<f64>,
    /// The ceiling: a value over it fires.
    pub above: Option<f64>,
}

impl Threshold {
    /// Refuses a rule that can never fire (neither bound) or can never be quiet (below > above),
    /// or non-finite bounds; the message names the key.
    pub fn check(&self) -> Result<(), String> {
        for (key, bound) in [("below", self.below), ("above", self.above)] {
            if let Some(b) = bound.filter(|b| !b.is_finite()) {
                return Err(format!("`{key}` must be a finite number, not {b}"));
            }
        }
        match (self.below, self.above) {
            (None, None) => Err(
                "a threshold needs `below`, `above` or both: with neither it can never fire"
                    .to_string(),
            ),
            (Some(b), Some(a)) if b > a => Err(format!(
                "`below` ({}) is greater than `above` ({}): every value would fire",
                show(b),
                show(a)
            )),
            _ => Ok(()),
        }
    }

    /// Judges `value`, named in the summary by `label_zh` and `label_en` (e.g. "今日开户" and
    /// "opened today"). Fires when it is under `below`, over `above`, or not a finite number.
    /// Rows: columns `value`, `below`, `above`, one row.
    pub fn judge(&self, value: f64, label_zh: &str, label_en: &str) -> Verdict {
        let v = show(value);
        let (firing, zh, en) = if !value.is_finite() {
            (
                true,
                "不是有限数值".to_string(),
                "not a finite number".to_string(),
            )
        } else if let Some(b) = self.below.filter(|b| value < *b) {
            let b = show(b);
            (true, format!("低于下限 {b}"), format!("below {b}"))
        } else if let Some(a) = self.above.filter(|a| value > *a) {
            let a = show(a);
            (true, format!("高于上限 {a}"), format!("above {a}"))
        } else {
            let (zh, en) = match (self.below.map(show), self.above.map(show)) {
                (Some(b), Some(a)) => (
                    format!("在 {b} 到 {a} 之间"),
                    format!("between {b} and {a}"),
                ),
                (Some(b), None) => (format!("不低于下限 {b}"), format!("not below {b}")),
                (None, Some(a)) => (format!("不高于上限 {a}"), format!("not above {a}")),
                (None, None) => ("未设上下限".to_string(), "no bounds set".to_string()),
            };
            (false, zh, en)
        };
        Verdict {
            firing,
            value,
            summary: format!("{label_zh} {v}，{zh} · {v} {label_en}, {en}"),
            columns: columns(&["value", "below", "above"]),
            rows: vec![vec![Some(v), self.below.map(show), self.above.map(show)]],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(below: Option<f64>, above: Option<f64>) -> Threshold {
        Threshold { below, above }
    }

    #[test]
    fn check_refuses_rules_that_cannot_fire_or_cannot_be_quiet() {
        assert!(t(Some(50.0), None).check().is_ok());
        assert!(t(None, Some(5.0)).check().is_ok());
        assert!(t(Some(10.0), Some(10.0)).check().is_ok());
        let e = t(None, None).check().unwrap_err();
        assert!(e.contains("`below`") && e.contains("`above`"), "{e}");
        let e = t(Some(100.0), Some(10.0)).check().unwrap_err();
        assert!(
            e.contains("`below` (100)") && e.contains("`above` (10)"),
            "{e}"
        );
        let e = t(Some(f64::NAN), Some(10.0)).check().unwrap_err();
        assert!(e.starts_with("`below`"), "{e}");
        let e = t(None, Some(f64::INFINITY)).check().unwrap_err();
        assert!(e.starts_with("`above`"), "{e}");
    }

    #[test]
    fn fires_under_the_floor_and_over_the_ceiling_only() {
        let rule = t(Some(50.0), Some(500.0));
        let cases = [
            (12.0, true),
            (49.99, true),
            (50.0, false),
            (300.0, false),
            (500.0, false),
            (500.5, true),
        ];
        for (value, firing) in cases {
            let v = rule.judge(value, "今日开户", "opened today");
            assert_eq!(v.firing, firing, "{value}: {}", v.summary);
            assert_eq!(v.value, value);
        }
    }

    #[test]
    fn the_summary_says_which_bound_chinese_first() {
        let rule = t(Some(50.0), None);
        let v = rule.judge(12.0, "今日开户", "opened today");
        assert_eq!(
            v.summary,
            "今日开户 12，低于下限 50 · 12 opened today, below 50"
        );
        assert_eq!(v.columns, ["value", "below", "above"]);
        assert_eq!(
            v.rows,
            vec![vec![Some("12".into()), Some("50".into()), None]]
        );

        let v = t(None, Some(3.0)).judge(7.0, "拒单", "orders rejected");
        assert_eq!(v.summary, "拒单 7，高于上限 3 · 7 orders rejected, above 3");

        let v = t(Some(50.0), Some(500.0)).judge(80.0, "今日开户", "opened today");
        assert!(!v.firing);
        assert_eq!(
            v.summary,
            "今日开户 80，在 50 到 500 之间 · 80 opened today, between 50 and 500"
        );
    }

    #[test]
    fn a_value_that_is_not_a_number_fires_and_unchecked_rules_do_not_panic() {
        let v = t(Some(50.0), None).judge(f64::NAN, "今日开户", "opened today");
        assert!(v.firing);
        assert!(v.summary.contains("NaN") && v.summary.contains("not a finite number"));
        let v = t(None, Some(5.0)).judge(f64::NEG_INFINITY, "x", "x");
        assert!(v.firing);
        let v = t(None, None).judge(1.0, "x", "x");
        assert!(!v.firing && v.summary.contains("no bounds set"));
    }

    #[test]
    fn reads_from_config_and_refuses_unknown_keys() {
        let rule: Threshold = toml::from_str("below = 50").unwrap();
        assert_eq!(rule, t(Some(50.0), None));
        assert!(toml::from_str::<Threshold>("below = 50\nbelo = 3").is_err());
    }
}
