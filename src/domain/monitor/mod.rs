//! Proactive monitors, pure: the rules that decide whether business data is anomalous. The
//! first is the consistency check between two systems (account against trading); then a value
//! against fixed bounds (`threshold`), today against the same weekday of past weeks
//! (`baseline`), a category mix against its usual shares (`distribution`), and when a monitor
//! runs (`schedule`). The sources, alerts and their notifications build on these; nothing here
//! reads data, a clock or the network: values, history and "now" are parameters.

pub mod alert;
pub mod baseline;
pub mod consistency;
pub mod distribution;
pub mod schedule;
pub mod threshold;

use serde::{Deserialize, Deserializer, Serialize};

/// What one evaluation of a rule found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub firing: bool,
    /// The measured value: threshold and baseline: the value read; distribution: the largest
    /// share shift in percentage points; consistency: mismatches found.
    ///
    /// A value read as NaN or infinite is kept as it was read (and the rule fires on it); JSON
    /// writes such a number as `null`, so `null` reads back as NaN rather than failing.
    #[serde(deserialize_with = "number_or_null")]
    pub value: f64,
    /// One line saying what was found, Chinese first then English, e.g.
    /// "今日开户 12，低于下限 50 · 12 opened today, below 50".
    pub summary: String,
    /// The anomalous (or explaining) rows for drill-down: column names and rows as text.
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

fn number_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Column names as the verdicts carry them.
fn columns(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// A number as summaries and rows print it: as read when it is short (`12`, `0.0012`, `99.5`),
/// otherwise rounded so a derived number (a mean of three days) stays readable: two places from
/// 1 up, three significant digits below.
fn show(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string(); // and never "-0"
    }
    let exact = v.to_string();
    match exact.split_once('.') {
        Some((_, fraction)) if fraction.len() > 2 && v.is_finite() => {
            let places = if v.abs() >= 1.0 {
                2
            } else {
                (2 - v.abs().log10().floor() as i64).clamp(2, 12) as usize
            };
            let rounded = format!("{v:.places$}");
            let trimmed = rounded.trim_end_matches('0').trim_end_matches('.');
            if trimmed == "-0" {
                "0".to_string()
            } else {
                trimmed.to_string()
            }
        }
        _ => exact,
    }
}

/// A share or a shift in percentage points, one place, never "-0.0".
fn one_place(v: f64) -> String {
    let s = format!("{v:.1}");
    if s == "-0.0" { "0.0".to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_read_or_rounded_when_long() {
        for (v, want) in [
            (12.0, "12"),
            (-0.0, "0"),
            (99.5, "99.5"),
            (0.0012, "0.0012"),
            (80.0 / 3.0, "26.67"),
            (0.123456, "0.123"),
            (-2.0 / 3.0, "-0.667"),
            (1e-7, "0.0000001"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(show(v), want, "{v}");
        }
        assert_eq!(one_place(-0.04), "0.0");
        assert_eq!(one_place(38.46), "38.5");
        assert_eq!(one_place(-42.0), "-42.0");
    }

    #[test]
    fn a_verdict_with_a_nan_value_round_trips_through_json() {
        let v = Verdict {
            firing: true,
            value: f64::NAN,
            summary: "x".into(),
            columns: columns(&["value"]),
            rows: vec![vec![None]],
        };
        let json = serde_json::to_string(&v).unwrap();
        assert!(json.contains("\"value\":null"), "{json}");
        let back: Verdict = serde_json::from_str(&json).unwrap();
        assert!(back.value.is_nan());
        let ok = Verdict { value: 12.5, ..v };
        let back: Verdict = serde_json::from_str(&serde_json::to_string(&ok).unwrap()).unwrap();
        assert_eq!(back, ok);
    }
}
