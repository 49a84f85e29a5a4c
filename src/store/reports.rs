//! The reports' facts: one row a ticket ([`TicketFacts`] as JSON, with its week and month),
//! replaced with every write of the ticket, and the counts by period, category, system and
//! channel kept in step in the same transaction, so a report never reads every ticket.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use crate::domain::report::{Period, TicketFacts};

/// What one ticket adds to its periods' counts.
fn buckets(f: &TicketFacts, zone: chrono_tz::Tz) -> [(String, i64, i64); 2] {
    let resolved = i64::from(f.resolved_at.is_some());
    let in_time = i64::from(f.resolved_in_time == Some(true));
    [
        (
            Period::week_of(f.created_at, zone).to_string(),
            resolved,
            in_time,
        ),
        (
            Period::month_of(f.created_at, zone).to_string(),
            resolved,
            in_time,
        ),
    ]
}

fn add(
    conn: &Connection,
    f: &TicketFacts,
    zone: chrono_tz::Tz,
    sign: i64,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO report_rollup (period, category, system, channel, tickets, resolved, in_time) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (period, category, system, channel) DO UPDATE SET \
           tickets = tickets + excluded.tickets, resolved = resolved + excluded.resolved, \
           in_time = in_time + excluded.in_time",
    )?;
    for (period, resolved, in_time) in buckets(f, zone) {
        stmt.execute(params![
            period,
            f.category.as_str(),
            f.system,
            f.channel.as_str(),
            sign,
            sign * resolved,
            sign * in_time
        ])?;
    }
    Ok(())
}

/// Keeps `f` as its ticket's facts, moving the counts from what was kept before.
pub fn record(conn: &Connection, f: &TicketFacts, zone: chrono_tz::Tz) -> Result<(), StoreError> {
    let before: Option<String> = conn
        .prepare_cached("SELECT facts FROM report_facts WHERE ticket_id = ?1")?
        .query_row([f.id], |r| r.get(0))
        .optional()?;
    if let Some(before) = before
        && let Ok(before) = serde_json::from_str::<TicketFacts>(&before)
    {
        if before == *f {
            return Ok(());
        }
        add(conn, &before, zone, -1)?;
    }
    let json = serde_json::to_string(f).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO report_facts (ticket_id, week, month, facts) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (ticket_id) DO UPDATE SET week = excluded.week, month = excluded.month, \
           facts = excluded.facts",
    )?
    .execute(params![
        f.id,
        Period::week_of(f.created_at, zone).to_string(),
        Period::month_of(f.created_at, zone).to_string(),
        json
    ])?;
    add(conn, f, zone, 1)
}

/// The facts of the tickets created in `period`.
pub fn facts_in(conn: &Connection, period: Period) -> Result<Vec<TicketFacts>, StoreError> {
    let column = match period {
        Period::Week { .. } => "week",
        Period::Month { .. } => "month",
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT facts FROM report_facts WHERE {column} = ?1"
    ))?;
    let rows = stmt.query_map([period.to_string()], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for json in rows {
        let json = json?;
        out.push(serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))?);
    }
    Ok(out)
}

/// One period's counts by category (tickets, resolved, resolved in time).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PeriodCounts {
    pub period: String,
    /// category → (tickets, resolved, resolved in time)
    pub by_category: std::collections::BTreeMap<String, (i64, i64, i64)>,
}

/// The counts of each of `periods`, in their order, from the rollup.
pub fn trend(conn: &Connection, periods: &[Period]) -> Result<Vec<PeriodCounts>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT category, sum(tickets), sum(resolved), sum(in_time) FROM report_rollup \
         WHERE period = ?1 GROUP BY category",
    )?;
    let mut out = Vec::with_capacity(periods.len());
    for p in periods {
        let mut counts = PeriodCounts {
            period: p.to_string(),
            ..Default::default()
        };
        let rows = stmt.query_map([p.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
        })?;
        for row in rows {
            let (category, n) = row?;
            counts.by_category.insert(category, n);
        }
        out.push(counts);
    }
    Ok(out)
}

/// Whether every ticket's facts are kept: two counts, so a start-up on a data dir that needs
/// nothing reads no ticket.
pub fn all_kept(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT count(*) FROM tickets) = (SELECT count(*) FROM report_facts)",
        )?
        .query_row([], |r| r.get(0))?)
}

/// Tickets whose facts are not kept yet (a data dir from before the reports), at most `limit`.
pub fn missing(conn: &Connection, limit: usize) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id FROM tickets t LEFT JOIN report_facts f ON f.ticket_id = t.id \
         WHERE f.ticket_id IS NULL ORDER BY t.id LIMIT ?1",
    )?;
    let ids = stmt.query_map([limit as i64], |r| r.get(0))?;
    Ok(ids.collect::<Result<_, _>>()?)
}
