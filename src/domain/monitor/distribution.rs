//! A category mix against its usual shares: which channel accounts were opened through, which
//! counter orders came from. A total can look normal while the mix underneath has moved (the
//! app broke and the branches picked up its customers), so each category's share of today is
//! set against its share of the same weekday over past weeks, pooled, and the largest move in
//! percentage points is what fires.

use std::collections::HashMap;

use serde::Deserialize;

use super::{Verdict, columns, one_place, show};

fn default_weeks() -> u32 {
    4
}

fn default_min_total() -> f64 {
    20.0
}

/// Today's shares by category against the pooled shares of the same weekday in past weeks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    /// Weeks of history (same weekday), 1–12.
    #[serde(default = "default_weeks")]
    pub weeks: u32,
    /// Largest move of any category's share, in percentage points, still normal (> 0, ≤ 100),
    /// e.g. 15.
    pub max_shift: f64,
    /// Fewer than this many in total today: too few to judge, quiet and said so.
    #[serde(default = "default_min_total")]
    pub min_total: f64,
}

/// One category's counts and shares, in percent.
struct Category {
    name: String,
    today: f64,
    past: f64,
    today_share: Option<f64>,
    baseline_share: Option<f64>,
}

impl Category {
    fn shift(&self) -> Option<f64> {
        Some(self.today_share? - self.baseline_share?)
    }
}

/// A count as the rule reads it: negative, NaN or infinite counts are bad input, read as 0.
fn count(n: f64) -> f64 {
    if n.is_finite() && n > 0.0 { n } else { 0.0 }
}

/// A shift in points for the summary, signed, with a real minus sign.
fn signed(points: f64) -> String {
    let s = one_place(points);
    match s.strip_prefix('-') {
        Some(rest) => format!("−{rest}"),
        None if s == "0.0" => s,
        None => format!("+{s}"),
    }
}

impl Shift {
    /// Refuses `weeks` outside 1–12, a `max_shift` outside (0, 100] points and a negative or
    /// non-finite `min_total`; the message names the key.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=12).contains(&self.weeks) {
            return Err(format!("`weeks` must be 1 to 12, not {}", self.weeks));
        }
        if !(self.max_shift > 0.0 && self.max_shift <= 100.0) {
            return Err(format!(
                "`max_shift` must be above 0 and at most 100 percentage points, not {}",
                self.max_shift
            ));
        }
        if !(self.min_total.is_finite() && self.min_total >= 0.0) {
            return Err(format!(
                "`min_total` must be 0 or more, not {}",
                self.min_total
            ));
        }
        Ok(())
    }

    /// Judges `today` — (category, count) — against `history`, one list per past week that had
    /// data, newest first (only the newest `weeks` are used). A category's baseline share is its
    /// count over those weeks divided by their total count (pooled); a category on either side
    /// only counts 0 on the other, and a category listed twice is added up. Negative, NaN or
    /// infinite counts are read as 0. Fires when any |today share − baseline share| is more than
    /// `max_shift` points; quiet, and saying why, with no history or fewer than `min_total` today.
    /// `label_zh`/`label_en` name the categories, e.g. "开户渠道"/"channel".
    ///
    /// Rows: columns `category`, `today`, `today_share`, `baseline_share`, `shift` (shares and
    /// points to one place), one per category, the largest move first.
    pub fn judge(
        &self,
        today: &[(String, f64)],
        history: &[Vec<(String, f64)>],
        label_zh: &str,
        label_en: &str,
    ) -> Verdict {
        let window = &history[..history.len().min(self.weeks as usize)];
        let mut cats = tally(today, window);
        let today_total: f64 = cats.iter().map(|c| c.today).sum();
        let past_total: f64 = cats.iter().map(|c| c.past).sum();
        let share =
            |n: f64, total: f64| (total > 0.0 && total.is_finite()).then(|| n / total * 100.0);
        for c in &mut cats {
            c.today_share = share(c.today, today_total);
            c.baseline_share = share(c.past, past_total);
        }
        // Stable: categories that moved alike keep the order they were listed in.
        cats.sort_by(|a, b| {
            let key = |c: &Category| c.shift().map_or(-1.0, f64::abs);
            key(b).total_cmp(&key(a))
        });
        let largest = cats.first().and_then(Category::shift).map_or(0.0, f64::abs);

        let (firing, zh, en) = if !(past_total > 0.0 && past_total.is_finite()) {
            (
                false,
                format!("{label_zh}占比：尚无基线，近 {} 周同日没有数据", self.weeks),
                format!(
                    "{label_en} mix: no baseline yet, no data on this weekday in the last {} weeks",
                    self.weeks
                ),
            )
        } else if !(today_total >= self.min_total && today_total > 0.0 && today_total.is_finite()) {
            let (t, min) = (show(today_total), show(self.min_total));
            (
                false,
                format!("{label_zh}占比：今日合计 {t}，少于 {min}，样本太少不作判断"),
                format!("{label_en} mix: {t} in total today, under {min}, too few to judge"),
            )
        } else {
            self.describe(&cats[0], largest, label_zh, label_en)
        };

        Verdict {
            firing,
            value: largest,
            summary: format!("{zh} · {en}"),
            columns: columns(&[
                "category",
                "today",
                "today_share",
                "baseline_share",
                "shift",
            ]),
            rows: cats
                .iter()
                .map(|c| {
                    vec![
                        Some(c.name.clone()),
                        Some(show(c.today)),
                        c.today_share.map(one_place),
                        c.baseline_share.map(one_place),
                        c.shift().map(one_place),
                    ]
                })
                .collect(),
        }
    }

    /// The category that moved most, against the limit: (firing, Chinese, English).
    fn describe(&self, top: &Category, largest: f64, zh: &str, en: &str) -> (bool, String, String) {
        let from = one_place(top.baseline_share.unwrap_or(0.0));
        let to = one_place(top.today_share.unwrap_or(0.0));
        let points = signed(top.shift().unwrap_or(0.0));
        let name = &top.name;
        let max = show(self.max_shift);
        if largest > self.max_shift {
            (
                true,
                format!(
                    "{zh}占比变化：{name} {from}% → {to}%（{points} 个百分点），超过 {max} 个百分点"
                ),
                format!("{en} mix: {name} {from}% → {to}% ({points} points), more than {max}"),
            )
        } else {
            (
                false,
                format!(
                    "{zh}占比平稳：变化最大的是 {name} {from}% → {to}%（{points} 个百分点），未超过 {max} 个百分点"
                ),
                format!(
                    "{en} mix steady: the largest move is {name} {from}% → {to}% ({points} points), within {max}"
                ),
            )
        }
    }
}

/// Every category on either side, in the order first listed, with today's count and the
/// history's pooled count.
fn tally(today: &[(String, f64)], history: &[Vec<(String, f64)>]) -> Vec<Category> {
    let mut cats: Vec<Category> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut add = |name: &str, today: f64, past: f64| {
        let i = *index.entry(name.to_string()).or_insert_with(|| {
            cats.push(Category {
                name: name.to_string(),
                today: 0.0,
                past: 0.0,
                today_share: None,
                baseline_share: None,
            });
            cats.len() - 1
        });
        cats[i].today += today;
        cats[i].past += past;
    };
    for (name, n) in today {
        add(name, count(*n), 0.0);
    }
    for (name, n) in history.iter().flatten() {
        add(name, 0.0, count(*n));
    }
    cats
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(max_shift: f64) -> Shift {
        Shift {
            weeks: 4,
            max_shift,
            min_total: 20.0,
        }
    }

    fn mix(items: &[(&str, f64)]) -> Vec<(String, f64)> {
        items.iter().map(|(c, n)| (c.to_string(), *n)).collect()
    }

    fn column(v: &Verdict, i: usize) -> Vec<String> {
        v.rows
            .iter()
            .map(|r| r[i].clone().unwrap_or_default())
            .collect()
    }

    fn usual() -> Vec<Vec<(String, f64)>> {
        vec![
            mix(&[("手机App", 62.0), ("网上营业厅", 28.0), ("营业部", 10.0)]),
            mix(&[("手机App", 124.0), ("网上营业厅", 56.0), ("营业部", 20.0)]),
        ]
    }

    #[test]
    fn check_bounds_weeks_max_shift_and_min_total() {
        assert!(rule(15.0).check().is_ok());
        assert!(rule(100.0).check().is_ok());
        for (bad, key) in [
            (
                Shift {
                    weeks: 0,
                    ..rule(15.0)
                },
                "`weeks`",
            ),
            (
                Shift {
                    weeks: 13,
                    ..rule(15.0)
                },
                "`weeks`",
            ),
            (rule(0.0), "`max_shift`"),
            (rule(100.5), "`max_shift`"),
            (rule(f64::NAN), "`max_shift`"),
            (
                Shift {
                    min_total: -1.0,
                    ..rule(15.0)
                },
                "`min_total`",
            ),
            (
                Shift {
                    min_total: f64::INFINITY,
                    ..rule(15.0)
                },
                "`min_total`",
            ),
        ] {
            let e = bad.check().unwrap_err();
            assert!(e.starts_with(key), "{e}");
        }
        let s: Shift = toml::from_str("max_shift = 15").unwrap();
        assert_eq!(s, rule(15.0));
        assert!(toml::from_str::<Shift>("max_shift = 15\nmin = 3").is_err());
    }

    #[test]
    fn a_big_move_fires_and_names_the_category_that_moved_most() {
        let today = mix(&[("手机App", 20.0), ("网上营业厅", 50.0), ("营业部", 30.0)]);
        let v = rule(15.0).judge(&today, &usual(), "开户渠道", "channel");
        assert!(v.firing);
        assert!((v.value - 42.0).abs() < 1e-9, "{}", v.value);
        assert_eq!(
            v.summary,
            "开户渠道占比变化：手机App 62.0% → 20.0%（−42.0 个百分点），超过 15 个百分点 · channel mix: 手机App 62.0% → 20.0% (−42.0 points), more than 15"
        );
        assert_eq!(
            v.columns,
            [
                "category",
                "today",
                "today_share",
                "baseline_share",
                "shift"
            ]
        );
        assert_eq!(column(&v, 0), ["手机App", "网上营业厅", "营业部"]);
        assert_eq!(
            v.rows[0],
            ["手机App", "20", "20.0", "62.0", "-42.0"].map(|s| Some(s.to_string()))
        );
        assert_eq!(column(&v, 4), ["-42.0", "22.0", "20.0"]);
    }

    #[test]
    fn a_small_move_is_quiet_and_shares_sum_to_a_hundred() {
        let today = mix(&[("手机App", 40.0), ("网上营业厅", 19.0), ("营业部", 7.0)]);
        let v = rule(15.0).judge(&today, &usual(), "开户渠道", "channel");
        assert!(!v.firing, "{}", v.summary);
        assert!(
            v.summary.contains("开户渠道占比平稳") && v.summary.contains("within 15"),
            "{}",
            v.summary
        );
        for i in [2, 3] {
            let sum: f64 = column(&v, i)
                .iter()
                .map(|s| s.parse::<f64>().unwrap())
                .sum();
            assert!((sum - 100.0).abs() < 0.2, "column {i} sums to {sum}");
        }
        let shifts: f64 = column(&v, 4)
            .iter()
            .map(|s| s.parse::<f64>().unwrap())
            .sum();
        assert!(shifts.abs() < 0.2, "shifts net to {shifts}");
    }

    #[test]
    fn a_category_gone_today_or_new_today_counts_against_zero() {
        // 营业部 had 10% of the usual mix and none today; 视频见证 is new.
        let today = mix(&[("手机App", 62.0), ("网上营业厅", 28.0), ("视频见证", 10.0)]);
        let v = rule(5.0).judge(&today, &usual(), "开户渠道", "channel");
        assert!(v.firing);
        let row = |name: &str| {
            v.rows
                .iter()
                .find(|r| r[0].as_deref() == Some(name))
                .unwrap()
                .clone()
        };
        assert_eq!(
            row("营业部")[1..],
            [
                Some("0".into()),
                Some("0.0".into()),
                Some("10.0".into()),
                Some("-10.0".into())
            ]
        );
        assert_eq!(
            row("视频见证")[3..],
            [Some("0.0".into()), Some("10.0".into())]
        );
        assert!((v.value - 10.0).abs() < 1e-9);
    }

    #[test]
    fn no_history_is_quiet_and_says_there_is_no_baseline_yet() {
        let today = mix(&[("手机App", 62.0), ("营业部", 38.0)]);
        for history in [vec![], vec![mix(&[("手机App", 0.0)])]] {
            let v = rule(15.0).judge(&today, &history, "开户渠道", "channel");
            assert!(!v.firing);
            assert!(
                v.summary.contains("尚无基线") && v.summary.contains("no baseline yet"),
                "{}",
                v.summary
            );
            assert_eq!(v.value, 0.0);
            assert_eq!(column(&v, 2), ["62.0", "38.0"]);
            assert!(v.rows.iter().all(|r| r[3].is_none() && r[4].is_none()));
        }
    }

    #[test]
    fn too_few_today_is_quiet_and_says_so() {
        let today = mix(&[("手机App", 1.0), ("营业部", 9.0)]);
        let v = rule(15.0).judge(&today, &usual(), "开户渠道", "channel");
        assert!(!v.firing);
        assert!(
            v.summary.contains("样本太少") && v.summary.contains("10 in total today, under 20"),
            "{}",
            v.summary
        );
        let v = Shift {
            min_total: 0.0,
            ..rule(15.0)
        }
        .judge(&[], &usual(), "x", "x");
        assert!(!v.firing && v.summary.contains("too few"), "{}", v.summary);
    }

    #[test]
    fn bad_counts_read_as_zero_and_duplicates_add_up() {
        let today = mix(&[
            ("手机App", 31.0),
            ("手机App", 31.0),
            ("网上营业厅", 28.0),
            ("营业部", 10.0),
            ("营业部", f64::NAN),
            ("柜台", -5.0),
            ("柜台", f64::INFINITY),
        ]);
        let mut history = usual();
        history.push(mix(&[("营业部", f64::NEG_INFINITY)]));
        let v = rule(1.0).judge(&today, &history, "x", "x");
        assert!(!v.firing, "{}", v.summary);
        assert!(v.value.abs() < 1e-9, "{}", v.value);
        assert_eq!(v.rows.len(), 4);
        assert_eq!(v.rows[3][1].as_deref(), Some("0"));
    }

    #[test]
    fn only_the_newest_weeks_count() {
        let today = mix(&[("手机App", 62.0), ("网上营业厅", 28.0), ("营业部", 10.0)]);
        let mut history = vec![mix(&[
            ("手机App", 62.0),
            ("网上营业厅", 28.0),
            ("营业部", 10.0),
        ])];
        history.push(mix(&[("营业部", 1000.0)]));
        let v = Shift {
            weeks: 1,
            ..rule(5.0)
        }
        .judge(&today, &history, "x", "x");
        assert!(!v.firing, "{}", v.summary);
        assert!(
            Shift {
                weeks: 2,
                ..rule(5.0)
            }
            .judge(&today, &history, "x", "x")
            .firing
        );
    }
}
