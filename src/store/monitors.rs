//! Monitor evaluations and the alerts they raise (see `api::monitors`). An alert's rows are
//! stored in full, with each column's kind of customer data; readers mask them.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{StoreError, parse_opt_ts, parse_ts, ts};
use crate::domain::mask::MaskAs;
use crate::domain::monitor::alert::{Alert, AlertState, EvaluationRecord, Outcome};
use crate::domain::ticket::TicketId;

const ALERT_COLUMNS: &str = "id, version, monitor, title, state, summary, value, row_count, \
     first_at, last_at, evaluations, acknowledged_by, acknowledged_at, resolved_by, resolved_at, \
     silenced_until, silenced_by, ticket_id";

const EVALUATION_COLUMNS: &str =
    "id, monitor, started_at, duration_ms, outcome, value, summary, alert_id";

/// An alert's drill-down rows as stored: in full, with each column's masking.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    pub masks: Vec<Option<MaskAs>>,
}

/// What an evaluation found, to be recorded.
#[derive(Debug, Clone)]
pub struct Finding<'a> {
    pub monitor: &'a str,
    pub title: &'a str,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub outcome: Outcome,
    pub value: Option<f64>,
    pub summary: &'a str,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn word<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, StoreError> {
    s.parse().map_err(|_| corrupt(&format!("{what} '{s}'")))
}

type RawAlert = (Alert, [Option<String>; 3], String, String, String);

fn alert_row(r: &Row<'_>) -> rusqlite::Result<RawAlert> {
    Ok((
        Alert {
            id: r.get(0)?,
            version: r.get(1)?,
            monitor: r.get(2)?,
            title: r.get(3)?,
            state: AlertState::Firing,
            summary: r.get(5)?,
            value: r.get(6)?,
            rows: r.get::<_, i64>(7)?.try_into().unwrap_or(0),
            first_at: DateTime::<Utc>::MIN_UTC,
            last_at: DateTime::<Utc>::MIN_UTC,
            evaluations: r.get(10)?,
            acknowledged_by: r.get(11)?,
            acknowledged_at: None,
            resolved_by: r.get(13)?,
            resolved_at: None,
            silenced_until: None,
            silenced_by: r.get(16)?,
            ticket_id: r.get(17)?,
        },
        [r.get(12)?, r.get(14)?, r.get(15)?],
        r.get(4)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn finish_alert((mut a, times, state, first, last): RawAlert) -> Result<Alert, StoreError> {
    let [acknowledged, resolved, silenced] = times;
    a.state = word(&state, "alert state")?;
    a.first_at = parse_ts(&first)?;
    a.last_at = parse_ts(&last)?;
    a.acknowledged_at = parse_opt_ts(acknowledged)?;
    a.resolved_at = parse_opt_ts(resolved)?;
    a.silenced_until = parse_opt_ts(silenced)?;
    Ok(a)
}

fn alerts_where(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<Alert>, StoreError> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts {filter}");
    let raw = conn
        .prepare_cached(&sql)?
        .query_map(args, alert_row)?
        .collect::<Result<Vec<_>, _>>()?;
    raw.into_iter().map(finish_alert).collect()
}

pub fn alert(conn: &Connection, id: i64) -> Result<Option<Alert>, StoreError> {
    Ok(alerts_where(conn, "WHERE id = ?1", [id])?.pop())
}

/// The monitor's alert that is not resolved.
pub fn open_alert(conn: &Connection, monitor: &str) -> Result<Option<Alert>, StoreError> {
    Ok(alerts_where(
        conn,
        "WHERE monitor = ?1 AND state <> 'resolved'",
        [monitor],
    )?
    .pop())
}

/// Alerts not resolved, then the latest resolved ones, newest first, at most `limit`.
pub fn recent_alerts(conn: &Connection, limit: usize) -> Result<Vec<Alert>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    alerts_where(
        conn,
        "ORDER BY state = 'resolved', id DESC LIMIT ?1",
        [limit],
    )
}

/// The open alerts whose parent incident is open, for linking new tickets.
pub fn open_with_ticket(conn: &Connection) -> Result<Vec<Alert>, StoreError> {
    alerts_where(
        conn,
        "WHERE state <> 'resolved' AND ticket_id IS NOT NULL ORDER BY id",
        [],
    )
}

/// The alerts whose parent incident is `ticket`.
pub fn by_ticket(conn: &Connection, ticket: TicketId) -> Result<Vec<Alert>, StoreError> {
    alerts_where(conn, "WHERE ticket_id = ?1 ORDER BY id", [ticket])
}

/// How many alerts are open, by state.
pub fn open_counts(conn: &Connection) -> Result<(i64, i64), StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FILTER (WHERE state = 'firing'),
                count(*) FILTER (WHERE state = 'acknowledged')
         FROM alerts WHERE state <> 'resolved'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// The latest silence of `monitor`'s alerts still in force at `now`.
pub fn silenced_until(
    conn: &Connection,
    monitor: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let until: Option<String> = conn
        .query_row(
            "SELECT max(silenced_until) FROM alerts WHERE monitor = ?1 AND silenced_until > ?2",
            params![monitor, ts(now)],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    parse_opt_ts(until)
}

pub fn rows(conn: &Connection, id: i64) -> Result<AlertRows, StoreError> {
    let (columns, rows, masks): (String, String, String) = conn
        .query_row(
            "SELECT columns, rows, masks FROM alerts WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(|| corrupt(&format!("alert {id} has no rows")))?;
    let bad = |what: &str| corrupt(&format!("alert {id}: {what}"));
    Ok(AlertRows {
        columns: serde_json::from_str(&columns).map_err(|_| bad("columns"))?,
        rows: serde_json::from_str(&rows).map_err(|_| bad("rows"))?,
        masks: serde_json::from_str(&masks).map_err(|_| bad("masks"))?,
    })
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Raises a new alert for `f` (the monitor has none open).
pub fn raise(
    conn: &Connection,
    f: &Finding<'_>,
    rows: &AlertRows,
    silenced: Option<DateTime<Utc>>,
) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO alerts (version, monitor, title, state, summary, value, columns, rows, masks,
                             row_count, first_at, last_at, evaluations, silenced_until)
         VALUES (1, ?1, ?2, 'firing', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, 1, ?10)",
    )?
    .execute(params![
        f.monitor,
        f.title,
        f.summary,
        f.value,
        json(&rows.columns)?,
        json(&rows.rows)?,
        json(&rows.masks)?,
        i64::try_from(rows.rows.len()).unwrap_or(i64::MAX),
        ts(f.started_at),
        silenced.map(ts),
    ])?;
    Ok(conn.last_insert_rowid())
}

/// The open alert `id` fired again: its latest finding and rows replace the earlier ones.
pub fn refire(
    conn: &Connection,
    id: i64,
    f: &Finding<'_>,
    rows: &AlertRows,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE alerts SET version = version + 1, title = ?2, summary = ?3, value = ?4,
                columns = ?5, rows = ?6, masks = ?7, row_count = ?8, last_at = ?9,
                evaluations = evaluations + 1
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        f.title,
        f.summary,
        f.value,
        json(&rows.columns)?,
        json(&rows.rows)?,
        json(&rows.masks)?,
        i64::try_from(rows.rows.len()).unwrap_or(i64::MAX),
        ts(f.started_at),
    ])?;
    Ok(())
}

/// Sets `set` (SQL assignments from `?2` on) on alert `id` as its next version.
fn change(
    conn: &Connection,
    id: i64,
    set: &str,
    values: &[&dyn rusqlite::ToSql],
) -> Result<(), StoreError> {
    let sql = format!("UPDATE alerts SET version = version + 1, {set} WHERE id = ?1");
    let mut bound: Vec<&dyn rusqlite::ToSql> = vec![&id];
    bound.extend_from_slice(values);
    conn.prepare_cached(&sql)?.execute(bound.as_slice())?;
    Ok(())
}

pub fn acknowledge(
    conn: &Connection,
    id: i64,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let set = "state = 'acknowledged', acknowledged_by = ?2, acknowledged_at = ?3";
    change(conn, id, set, &[&by, &ts(at)])
}

/// Resolves `id`: by a handler (`by`), or by its monitor finding it cleared (`None`).
pub fn resolve(
    conn: &Connection,
    id: i64,
    by: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let set = "state = 'resolved', resolved_by = ?2, resolved_at = ?3";
    change(conn, id, set, &[&by, &ts(at)])
}

/// Silences `id` until then (`None`: the silence ends).
pub fn silence(
    conn: &Connection,
    id: i64,
    until: Option<DateTime<Utc>>,
    by: &str,
) -> Result<(), StoreError> {
    let set = "silenced_until = ?2, silenced_by = ?3";
    change(conn, id, set, &[&until.map(ts), &until.map(|_| by)])
}

pub fn set_ticket(conn: &Connection, id: i64, ticket: TicketId) -> Result<(), StoreError> {
    change(conn, id, "ticket_id = ?2", &[&ticket])
}

/// Records an evaluation.
pub fn record(
    conn: &Connection,
    f: &Finding<'_>,
    alert: Option<i64>,
) -> Result<EvaluationRecord, StoreError> {
    conn.prepare_cached(
        "INSERT INTO monitor_evaluations (monitor, started_at, duration_ms, outcome, value,
                                          summary, alert_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        f.monitor,
        ts(f.started_at),
        f.duration_ms,
        f.outcome.as_str(),
        f.value,
        f.summary,
        alert,
    ])?;
    Ok(EvaluationRecord {
        id: conn.last_insert_rowid(),
        monitor: f.monitor.to_string(),
        started_at: f.started_at,
        duration_ms: f.duration_ms,
        outcome: f.outcome,
        value: f.value,
        summary: f.summary.to_string(),
        alert_id: alert,
    })
}

type RawEvaluation = (EvaluationRecord, String, String);

fn evaluation_row(r: &Row<'_>) -> rusqlite::Result<RawEvaluation> {
    Ok((
        EvaluationRecord {
            id: r.get(0)?,
            monitor: r.get(1)?,
            started_at: DateTime::<Utc>::MIN_UTC,
            duration_ms: r.get(3)?,
            outcome: Outcome::Ok,
            value: r.get(5)?,
            summary: r.get(6)?,
            alert_id: r.get(7)?,
        },
        r.get(2)?,
        r.get(4)?,
    ))
}

fn finish_evaluation(
    (mut e, started, outcome): RawEvaluation,
) -> Result<EvaluationRecord, StoreError> {
    e.started_at = parse_ts(&started)?;
    e.outcome = word(&outcome, "evaluation outcome")?;
    Ok(e)
}

/// `monitor`'s evaluations, newest first, at most `limit`, before id `before` when given.
pub fn history(
    conn: &Connection,
    monitor: &str,
    limit: usize,
    before: Option<i64>,
) -> Result<Vec<EvaluationRecord>, StoreError> {
    let sql = format!(
        "SELECT {EVALUATION_COLUMNS} FROM monitor_evaluations
         WHERE monitor = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3"
    );
    let raw = conn
        .prepare_cached(&sql)?
        .query_map(
            params![
                monitor,
                before.unwrap_or(i64::MAX),
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            evaluation_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    raw.into_iter().map(finish_evaluation).collect()
}

/// Each monitor's latest evaluation.
pub fn latest(conn: &Connection) -> Result<Vec<EvaluationRecord>, StoreError> {
    let sql = format!(
        "SELECT {EVALUATION_COLUMNS} FROM monitor_evaluations
         WHERE id IN (SELECT max(id) FROM monitor_evaluations GROUP BY monitor)"
    );
    let raw = conn
        .prepare_cached(&sql)?
        .query_map([], evaluation_row)?
        .collect::<Result<Vec<_>, _>>()?;
    raw.into_iter().map(finish_evaluation).collect()
}

/// Drops evaluations older than `before` that raised no alert; returns how many.
pub fn prune(conn: &Connection, before: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM monitor_evaluations WHERE started_at < ?1 AND alert_id IS NULL",
        [ts(before)],
    )?)
}
