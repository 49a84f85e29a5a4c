//! A period's figures, from the facts of the tickets created in it (and in the period
//! before, for the change): volume by category, subcategory, system and channel; the
//! consultation share; the resolution and timely-resolution rates; time to first response and
//! to resolution; each handler's load.
//!
//! The definitions, as the report states them:
//! - **resolution rate**: of the tickets created in the period, the share resolved by the
//!   report's time;
//! - **timely-resolution rate**: of those resolved, the share resolved within their SLA (see
//!   [`super::facts`]: the priority's clock, business calendar and pauses honoured).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::facts::TicketFacts;
use super::period::Period;
use crate::domain::ticket::Category;

/// A count now and in the period before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Count {
    pub now: u64,
    pub before: u64,
}

impl Count {
    /// The change against the period before, in percent (`None` from nothing).
    pub fn change_percent(&self) -> Option<f64> {
        (self.before > 0)
            .then(|| (self.now as f64 - self.before as f64) * 100.0 / self.before as f64)
    }
}

/// Median and 90th percentile of a duration, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Spread {
    pub median_secs: Option<i64>,
    pub p90_secs: Option<i64>,
}

impl Spread {
    /// The nearest-rank median and p90 of `values` (sorted here).
    pub fn of(mut values: Vec<i64>) -> Spread {
        values.sort_unstable();
        let rank = |p: f64| -> Option<i64> {
            let n = values.len();
            (n > 0).then(|| values[((p * n as f64).ceil() as usize).clamp(1, n) - 1])
        };
        Spread {
            median_secs: rank(0.5),
            p90_secs: rank(0.9),
        }
    }
}

/// One handler's share of the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Workload {
    pub handler: String,
    pub assigned: u64,
    pub resolved: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Figures {
    pub period: String,
    pub total: Count,
    pub by_category: BTreeMap<String, Count>,
    /// `category/subcategory` → count (tickets without one under `category/—`).
    pub by_subcategory: BTreeMap<String, Count>,
    pub by_system: BTreeMap<String, Count>,
    pub by_channel: BTreeMap<String, Count>,
    /// Consultations over all tickets, in percent, now and before.
    pub consultation_share: Option<f64>,
    pub consultation_share_before: Option<f64>,
    pub resolved: u64,
    pub resolved_in_time: u64,
    /// Percent; `None` for a period without tickets (or without resolutions).
    pub resolution_rate: Option<f64>,
    pub timely_resolution_rate: Option<f64>,
    pub first_response: Spread,
    pub resolution: Spread,
    /// Most assigned first.
    pub workload: Vec<Workload>,
}

/// A period's ticket counts by category, `category/subcategory`, system and channel: what a
/// report shows of the period before (read from the rollup, not from every ticket).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeriodCounts {
    pub total: u64,
    pub by_category: BTreeMap<String, u64>,
    pub by_subcategory: BTreeMap<String, u64>,
    pub by_system: BTreeMap<String, u64>,
    pub by_channel: BTreeMap<String, u64>,
}

/// The key tickets without a subcategory are counted under, `consultation/—`.
fn subcategory_key(category: &str, subcategory: Option<&str>) -> String {
    format!("{category}/{}", subcategory.unwrap_or("—"))
}

impl PeriodCounts {
    pub fn add(
        &mut self,
        category: &str,
        subcategory: Option<&str>,
        system: &str,
        channel: &str,
        n: u64,
    ) {
        self.total += n;
        *self.by_category.entry(category.to_string()).or_default() += n;
        *self
            .by_subcategory
            .entry(subcategory_key(category, subcategory))
            .or_default() += n;
        *self.by_system.entry(system.to_string()).or_default() += n;
        *self.by_channel.entry(channel.to_string()).or_default() += n;
    }

    pub fn of(facts: &[TicketFacts]) -> PeriodCounts {
        let mut counts = PeriodCounts::default();
        for f in facts {
            counts.add(
                f.category.as_str(),
                f.subcategory.as_deref(),
                &f.system,
                f.channel.as_str(),
                1,
            );
        }
        counts
    }
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

impl Figures {
    /// The figures of `period` from the facts of its tickets (`now`) and of the period
    /// before's (`before`).
    pub fn of(period: Period, now: &[TicketFacts], before: &PeriodCounts) -> Figures {
        let counts = PeriodCounts::of(now);
        let pair = |now: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>| {
            let mut out: BTreeMap<String, Count> = BTreeMap::new();
            for (k, n) in now {
                out.entry(k.clone()).or_default().now = *n;
            }
            for (k, n) in before {
                out.entry(k.clone()).or_default().before = *n;
            }
            out
        };
        let by_category = pair(&counts.by_category, &before.by_category);
        let by_subcategory = pair(&counts.by_subcategory, &before.by_subcategory);
        let by_system = pair(&counts.by_system, &before.by_system);
        let by_channel = pair(&counts.by_channel, &before.by_channel);
        let consultation = Category::Consultation.as_str();
        let consultations =
            |c: &PeriodCounts| c.by_category.get(consultation).copied().unwrap_or(0);
        let resolved = now.iter().filter(|f| f.resolved_at.is_some()).count() as u64;
        let resolved_in_time = now
            .iter()
            .filter(|f| f.resolved_in_time == Some(true))
            .count() as u64;
        let mut workload: BTreeMap<&str, Workload> = BTreeMap::new();
        for f in now {
            if let Some(handler) = &f.assignee {
                let w = workload.entry(handler).or_insert_with(|| Workload {
                    handler: handler.clone(),
                    ..Default::default()
                });
                w.assigned += 1;
                w.resolved += u64::from(f.resolved_at.is_some());
            }
        }
        let mut workload: Vec<Workload> = workload.into_values().collect();
        workload.sort_by(|a, b| b.assigned.cmp(&a.assigned).then(a.handler.cmp(&b.handler)));
        Figures {
            period: period.to_string(),
            total: Count {
                now: now.len() as u64,
                before: before.total,
            },
            by_category,
            by_subcategory,
            by_system,
            by_channel,
            consultation_share: percent(consultations(&counts), counts.total),
            consultation_share_before: percent(consultations(before), before.total),
            resolved,
            resolved_in_time,
            resolution_rate: percent(resolved, now.len() as u64),
            timely_resolution_rate: percent(resolved_in_time, resolved),
            first_response: Spread::of(now.iter().filter_map(|f| f.first_response_secs).collect()),
            resolution: Spread::of(now.iter().filter_map(|f| f.resolution_secs).collect()),
            workload,
        }
    }

    /// Whether the period had no ticket at all (the report says so).
    pub fn is_empty(&self) -> bool {
        self.total.now == 0
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::domain::ticket::{Channel, Priority};

    fn facts(
        id: i64,
        category: Category,
        system: &str,
        channel: Channel,
        resolved: Option<(i64, bool)>,
        assignee: Option<&str>,
    ) -> TicketFacts {
        let created: DateTime<Utc> = "2026-11-16T02:00:00Z".parse().unwrap();
        TicketFacts {
            id,
            created_at: created,
            category,
            subcategory: None,
            title: format!("问题 {id}"),
            system: system.into(),
            channel,
            priority: Priority::P3,
            assignee: assignee.map(str::to_string),
            resolved_at: resolved.map(|(secs, _)| created + chrono::Duration::seconds(secs)),
            first_response_secs: Some(id * 60),
            resolution_secs: resolved.map(|(secs, _)| secs),
            resolved_in_time: resolved.map(|(_, in_time)| in_time),
            kb_article: None,
        }
    }

    #[test]
    fn rates_shares_and_changes_as_counted_by_hand() {
        use Category::{Consultation, Data, Program};
        let week = Period::parse("2026-W47").unwrap();
        let now = [
            facts(
                1,
                Consultation,
                "trading",
                Channel::Mss,
                Some((600, true)),
                Some("h_chen"),
            ),
            facts(
                2,
                Consultation,
                "trading",
                Channel::Mss,
                Some((7200, true)),
                Some("h_chen"),
            ),
            facts(
                3,
                Consultation,
                "app",
                Channel::Itsm,
                Some((90_000, false)),
                Some("h_lin"),
            ),
            facts(4, Data, "clearing", Channel::Itsm, None, Some("h_chen")),
            facts(5, Program, "app", Channel::Mss, None, None),
        ];
        let before = [
            facts(11, Consultation, "trading", Channel::Mss, None, None),
            facts(12, Data, "trading", Channel::Itsm, None, None),
        ];
        let f = Figures::of(week, &now, &PeriodCounts::of(&before));
        assert_eq!(f.period, "2026-W47");
        assert_eq!(f.total, Count { now: 5, before: 2 });
        assert_eq!(f.total.change_percent(), Some(150.0));
        assert_eq!(f.by_category["consultation"], Count { now: 3, before: 1 });
        assert_eq!(f.by_category["program"], Count { now: 1, before: 0 });
        assert_eq!(f.by_category["program"].change_percent(), None);
        assert_eq!(f.by_system["trading"], Count { now: 2, before: 2 });
        assert_eq!(f.by_channel["mss"], Count { now: 3, before: 1 });
        assert_eq!(f.by_subcategory["consultation/—"].now, 3);
        assert_eq!(f.consultation_share, Some(60.0));
        assert_eq!(f.consultation_share_before, Some(50.0));
        // 3 of 5 resolved; 2 of those 3 in time.
        assert_eq!((f.resolved, f.resolved_in_time), (3, 2));
        assert_eq!(f.resolution_rate, Some(60.0));
        let timely = f.timely_resolution_rate.unwrap();
        assert!((timely - 200.0 / 3.0).abs() < 1e-9, "{timely}");
        // Resolution times 600, 7200, 90000: median 7200, p90 the largest.
        assert_eq!(
            f.resolution,
            Spread {
                median_secs: Some(7200),
                p90_secs: Some(90_000)
            }
        );
        assert_eq!(f.first_response.median_secs, Some(180));
        assert_eq!(
            f.workload,
            [
                Workload {
                    handler: "h_chen".into(),
                    assigned: 3,
                    resolved: 2
                },
                Workload {
                    handler: "h_lin".into(),
                    assigned: 1,
                    resolved: 1
                },
            ]
        );
    }

    #[test]
    fn a_period_without_tickets_says_so_rather_than_dividing_by_nothing() {
        let f = Figures::of(
            Period::parse("2026-11").unwrap(),
            &[],
            &PeriodCounts::default(),
        );
        assert!(f.is_empty());
        assert_eq!(f.resolution_rate, None);
        assert_eq!(f.timely_resolution_rate, None);
        assert_eq!(f.consultation_share, None);
        assert_eq!(f.resolution, Spread::default());
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(
            Spread::of((1..=10).collect()),
            Spread {
                median_secs: Some(5),
                p90_secs: Some(9)
            }
        );
        assert_eq!(
            Spread::of(vec![7]),
            Spread {
                median_secs: Some(7),
                p90_secs: Some(7)
            }
        );
    }
}
