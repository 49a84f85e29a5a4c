//! What a report counts of one ticket, worked out once from the ticket, the SLA policy and the
//! business calendar: when it came and was answered and resolved, how long each took on its
//! clock, and whether it was resolved in time.
//!
//! **Resolved in time** (the timely-resolution rate): the resolve clock, read at the moment
//! the ticket was resolved, had time left. That clock counts the priority's own way (business
//! hours on the business calendar, or around the clock) and stops while the ticket waits on
//! its submitter, exactly as the queue's SLA column counts it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::calendar::BusinessCalendar;
use crate::domain::sla::{self, SlaPolicy, SlaState};
use crate::domain::ticket::{Category, Channel, Priority, Ticket, TicketId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketFacts {
    pub id: TicketId,
    pub created_at: DateTime<Utc>,
    pub category: Category,
    pub subcategory: Option<String>,
    /// What the submitter called the problem (recurring problems group by it).
    #[serde(default)]
    pub title: String,
    pub system: String,
    pub channel: Channel,
    pub priority: Priority,
    pub assignee: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Wall-clock seconds from creation to the first response, and to resolution.
    pub first_response_secs: Option<i64>,
    pub resolution_secs: Option<i64>,
    /// Resolved with the resolve clock's time left; `None` while unresolved.
    pub resolved_in_time: Option<bool>,
    /// The ticket's knowledge-base article, for grouping recurring problems.
    pub kb_article: Option<i64>,
}

impl TicketFacts {
    pub fn of(t: &Ticket, policy: &SlaPolicy, cal: &BusinessCalendar) -> TicketFacts {
        let resolved_in_time = t.resolved_at.map(|at| {
            let target = policy.target(t.priority);
            let reading = sla::read(
                target.resolve_secs,
                target.clock,
                policy.due_soon_percent(),
                t.created_at,
                Some(at),
                &t.sla_pauses,
                at,
                cal,
            );
            reading.state == SlaState::Met
        });
        let since_created = |at: DateTime<Utc>| (at - t.created_at).num_seconds().max(0);
        TicketFacts {
            id: t.id,
            created_at: t.created_at,
            category: t.category,
            subcategory: t.subcategory.clone(),
            title: t.title.clone(),
            system: t.system.clone(),
            channel: t.channel,
            priority: t.priority,
            assignee: t.assignee.clone(),
            resolved_at: t.resolved_at,
            first_response_secs: t.first_responded_at.map(since_created),
            resolution_secs: t.resolved_at.map(since_created),
            resolved_in_time,
            kb_article: t.kb_article,
        }
    }
}

/// One ticket's facts as a data warehouse takes them: when it last changed, and its periods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExportedFacts {
    #[serde(flatten)]
    pub facts: TicketFacts,
    pub week: String,
    pub month: String,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::calendar::WorkingHours;
    use crate::domain::sla::SlaPause;
    use crate::domain::validate::NewTicket;

    const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn calendar() -> BusinessCalendar {
        let hours = WorkingHours {
            start: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            end: chrono::NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        };
        BusinessCalendar::new(SHANGHAI, vec![hours]).unwrap()
    }

    fn ticket(priority: Priority, created: &str) -> Ticket {
        let new: NewTicket = serde_json::from_value(serde_json::json!({
            "title": "下单提示可用资金不足",
            "description": "客户今天上午买入时提示可用资金不足，实际资金充足，已重新登录仍然失败",
            "system": "trading",
            "priority": priority,
            "customer": {"account": "310012345678"},
        }))
        .unwrap();
        Ticket::open(new, Channel::Mss, "cm_test".into(), at(created))
    }

    #[test]
    fn in_time_counts_business_hours_and_not_the_wait_on_the_submitter() {
        let cal = calendar();
        let policy = SlaPolicy::default();
        // P2: 8 business hours to resolve. Created Monday 16:00 Shanghai (08:00 UTC).
        let mut t = ticket(Priority::P2, "2026-11-16T08:00:00Z");
        // Resolved Tuesday 16:30: 1 h Monday + 7.5 h Tuesday = 8.5 h counted: late.
        t.resolved_at = Some(at("2026-11-17T08:30:00Z"));
        t.first_responded_at = Some(at("2026-11-16T08:20:00Z"));
        let late = TicketFacts::of(&t, &policy, &cal);
        assert_eq!(late.resolved_in_time, Some(false));
        assert_eq!(late.first_response_secs, Some(20 * 60));
        assert_eq!(late.resolution_secs, Some(24 * 3600 + 30 * 60));

        // The same, but an hour waiting on the submitter on Tuesday morning: 7.5 h counted.
        t.sla_pauses = vec![SlaPause {
            from: at("2026-11-17T01:00:00Z"),
            until: Some(at("2026-11-17T02:00:00Z")),
        }];
        assert_eq!(
            TicketFacts::of(&t, &policy, &cal).resolved_in_time,
            Some(true)
        );

        // P1 counts around the clock: 4 h, so a night in between makes it late.
        let mut p1 = ticket(Priority::P1, "2026-11-16T08:00:00Z");
        p1.resolved_at = Some(p1.created_at + Duration::hours(3) + Duration::minutes(59));
        assert_eq!(
            TicketFacts::of(&p1, &policy, &cal).resolved_in_time,
            Some(true)
        );
        p1.resolved_at = Some(p1.created_at + Duration::hours(4) + Duration::minutes(1));
        assert_eq!(
            TicketFacts::of(&p1, &policy, &cal).resolved_in_time,
            Some(false)
        );
        let open = ticket(Priority::P3, "2026-11-16T08:00:00Z");
        assert_eq!(TicketFacts::of(&open, &policy, &cal).resolved_in_time, None);
    }
}
