//! The reports' facts: one row a ticket ([`TicketFacts`], a column each, with its week and month),
//! replaced with every write of the ticket, and the counts by period, category, system and
//! channel kept in step in the same transaction, so a report never reads every ticket.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use std::str::FromStr;

use crate::domain::report::facts::ExportedFacts;
use crate::domain::report::figures::PeriodCounts;
use crate::domain::report::sheet::{TrendPoint, WeekConsultation};
use crate::domain::report::{Period, TicketFacts};
use crate::domain::ticket::Category;

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

/// The rollup's subcategory key: none is the empty text (part of the primary key).
fn subcategory_key(f: &TicketFacts) -> &str {
    f.subcategory.as_deref().unwrap_or("")
}

fn add(
    conn: &Connection,
    f: &TicketFacts,
    zone: chrono_tz::Tz,
    sign: i64,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO report_rollup (period, category, subcategory, system, channel, tickets, \
           resolved, in_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (period, category, subcategory, system, channel) DO UPDATE SET \
           tickets = tickets + excluded.tickets, resolved = resolved + excluded.resolved, \
           in_time = in_time + excluded.in_time",
    )?;
    for (period, resolved, in_time) in buckets(f, zone) {
        stmt.execute(params![
            period,
            f.category.as_str(),
            subcategory_key(f),
            f.system,
            f.channel.as_str(),
            sign,
            sign * resolved,
            sign * in_time
        ])?;
    }
    Ok(())
}

const FACT_COLUMNS: &str = "ticket_id, created_at, category, subcategory, title, system, channel, \
     priority, assignee, resolved_at, first_response_secs, resolution_secs, resolved_in_time, \
     kb_article";

fn unreadable(i: usize, why: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, why.into())
}

/// A stored word, read in place (a week's report reads twenty thousand rows).
fn word<T: FromStr>(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<T> {
    let text = r.get_ref(i)?.as_str()?;
    text.parse()
        .map_err(|_| unreadable(i, format!("'{text}' is not a known word here")))
}

fn time(
    r: &rusqlite::Row<'_>,
    i: usize,
) -> rusqlite::Result<Option<chrono::DateTime<chrono::Utc>>> {
    r.get_ref(i)?
        .as_str_or_null()?
        .map(|t| super::parse_ts(t).map_err(|e| unreadable(i, e.to_string())))
        .transpose()
}

/// Reads [`FACT_COLUMNS`] from the row's first columns.
fn fact_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TicketFacts> {
    Ok(TicketFacts {
        id: r.get(0)?,
        created_at: time(r, 1)?.unwrap_or_default(),
        category: word(r, 2)?,
        subcategory: r.get(3)?,
        title: r.get(4)?,
        system: r.get(5)?,
        channel: word(r, 6)?,
        priority: word(r, 7)?,
        assignee: r.get(8)?,
        resolved_at: time(r, 9)?,
        first_response_secs: r.get(10)?,
        resolution_secs: r.get(11)?,
        resolved_in_time: r.get(12)?,
        kb_article: r.get(13)?,
    })
}

/// Keeps `f` as its ticket's facts, moving the counts from what was kept before.
pub fn record(conn: &Connection, f: &TicketFacts, zone: chrono_tz::Tz) -> Result<(), StoreError> {
    let before = conn
        .prepare_cached(&format!(
            "SELECT {FACT_COLUMNS} FROM report_facts WHERE ticket_id = ?1"
        ))?
        .query_row([f.id], fact_row)
        .optional()?;
    if let Some(before) = before {
        if before == *f {
            return Ok(());
        }
        add(conn, &before, zone, -1)?;
    }
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO report_facts (week, month, {FACT_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    ))?
    .execute(params![
        Period::week_of(f.created_at, zone).to_string(),
        Period::month_of(f.created_at, zone).to_string(),
        f.id,
        super::ts(f.created_at),
        f.category.as_str(),
        f.subcategory,
        f.title,
        f.system,
        f.channel.as_str(),
        f.priority.as_str(),
        f.assignee,
        f.resolved_at.map(super::ts),
        f.first_response_secs,
        f.resolution_secs,
        f.resolved_in_time,
        f.kb_article
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
        "SELECT {FACT_COLUMNS} FROM report_facts WHERE {column} = ?1"
    ))?;
    let rows = stmt.query_map([period.to_string()], fact_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A period's counts by category, subcategory, system and channel, from the rollup: what a
/// report needs of the period before.
pub fn counts_of(conn: &Connection, period: Period) -> Result<PeriodCounts, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT category, subcategory, system, channel, tickets FROM report_rollup \
         WHERE period = ?1 AND tickets > 0",
    )?;
    let rows = stmt.query_map([period.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?.max(0) as u64,
        ))
    })?;
    let mut counts = PeriodCounts::default();
    for row in rows {
        let (category, subcategory, system, channel, n) = row?;
        let sub = if subcategory.is_empty() {
            None
        } else {
            Some(subcategory.as_str())
        };
        counts.add(&category, sub, &system, &channel, n);
    }
    Ok(counts)
}

/// The counts of each of `periods`, in their order, from the rollup (a few hundred rows,
/// however many tickets there are).
pub fn trend(conn: &Connection, periods: &[Period]) -> Result<Vec<TrendPoint>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT category, sum(tickets), sum(resolved), sum(in_time) FROM report_rollup \
         WHERE period = ?1 GROUP BY category",
    )?;
    let mut out = Vec::with_capacity(periods.len());
    for p in periods {
        let mut point = TrendPoint {
            period: p.to_string(),
            ..Default::default()
        };
        let rows = stmt.query_map([p.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                [r.get::<_, i64>(1)?, r.get(2)?, r.get(3)?].map(|n| n.max(0) as u64),
            ))
        })?;
        for row in rows {
            let (category, [tickets, resolved, in_time]) = row?;
            point.tickets += tickets;
            point.resolved += resolved;
            point.resolved_in_time += in_time;
            match Category::from_str(&category) {
                Ok(Category::Consultation) => point.consultation += tickets,
                Ok(Category::Data) => point.data += tickets,
                Ok(Category::Program) => point.program += tickets,
                Err(_) => {}
            }
        }
        out.push(point);
    }
    Ok(out)
}

/// Each of `weeks`' consultation tickets and all tickets about `systems`, from the rollup.
pub fn consultation_of(
    conn: &Connection,
    weeks: &[Period],
    systems: &[String],
) -> Result<Vec<WeekConsultation>, StoreError> {
    let marks = vec!["?"; systems.len()].join(", ");
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT coalesce(sum(CASE WHEN category = 'consultation' THEN tickets END), 0), \
                coalesce(sum(tickets), 0) \
         FROM report_rollup WHERE period = ? AND system IN ({marks})"
    ))?;
    let mut out = Vec::with_capacity(weeks.len());
    for week in weeks {
        let mut args = vec![week.to_string()];
        args.extend(systems.iter().cloned());
        let (consultation, tickets) = stmt
            .query_row(rusqlite::params_from_iter(args.iter()), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            })?;
        out.push(WeekConsultation {
            week: week.to_string(),
            consultation: consultation.max(0) as u64,
            tickets: tickets.max(0) as u64,
        });
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

/// When each ticket open at `as_of` was created, with its category: the ones open now, and
/// (for a moment past) the ones done since. Two index range reads, not a scan.
pub fn open_at(
    conn: &Connection,
    as_of: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(chrono::DateTime<chrono::Utc>, Category)>, StoreError> {
    let mut out = Vec::new();
    let mut read = |sql: &str, args: &[String]| -> Result<(), StoreError> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (created, category) = row?;
            let category = Category::from_str(&category)
                .map_err(|e| StoreError::Corrupt(format!("a ticket's category: {e}")))?;
            out.push((super::parse_ts(&created)?, category));
        }
        Ok(())
    };
    read(
        "SELECT created_at, category FROM tickets \
         WHERE status NOT IN ('resolved', 'closed') AND created_at < ?1",
        &[super::ts(as_of)],
    )?;
    if as_of < now {
        read(
            "SELECT created_at, category FROM tickets \
             WHERE status IN ('resolved', 'closed') AND coalesce(resolved_at, closed_at) >= ?1 \
               AND created_at < ?1",
            &[super::ts(as_of)],
        )?;
    }
    Ok(out)
}

/// The facts of tickets changed after `(updated_at, id)`, in that order, at most `limit`.
pub fn changed_after(
    conn: &Connection,
    after: (chrono::DateTime<chrono::Utc>, i64),
    limit: usize,
) -> Result<Vec<ExportedFacts>, StoreError> {
    let columns = FACT_COLUMNS
        .split(',')
        .map(|c| format!("f.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {columns}, f.week, f.month, t.updated_at FROM tickets t \
         JOIN report_facts f ON f.ticket_id = t.id \
         WHERE (t.updated_at, t.id) > (?1, ?2) ORDER BY t.updated_at, t.id LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![super::ts(after.0), after.1, limit as i64], |r| {
        Ok((
            fact_row(r)?,
            r.get::<_, String>(14)?,
            r.get::<_, String>(15)?,
            time(r, 16)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut facts, week, month, updated) = row?;
        // A warehouse is beyond the desk: a customer's number typed into a title stays masked.
        facts.title = crate::domain::mask::mask_long_numbers(&facts.title);
        out.push(ExportedFacts {
            facts,
            week,
            month,
            updated_at: updated.unwrap_or_default(),
        });
    }
    Ok(out)
}
