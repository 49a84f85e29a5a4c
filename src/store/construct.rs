//! Construction runs and their steps (see `domain::construct::run`). A run row holds the
//! values a resume needs (`inputs`, `vars`) in full; lists and records read the masked copies.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;

use super::{StoreError, parse_opt_ts, parse_ts, ts};
use crate::domain::construct::run::{
    ConstructStats, DayOutcomes, FailureKind, Named, Outcomes, ReasonCount, RecipeUse, Run,
    RunDetail, RunStatus, StepRecord, StepStatus,
};

const COLUMNS: &str = "id, version, recipe, environment, batch, batch_index, started_by, status, \
                       reason, message, failed_step, calls, steps_done, duration_ms, created_at, \
                       started_at, finished_at";

/// A run about to be queued.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub recipe: String,
    pub recipe_digest: String,
    pub environment: String,
    pub batch: Option<String>,
    pub batch_index: i64,
    pub started_by: String,
    /// The inputs in full, for the calls and a resume.
    pub inputs: Value,
    /// The inputs as records show them.
    pub shown_inputs: Value,
    /// The identity the run builds, so a later batch draws another.
    pub id_number: Option<String>,
}

/// What a run needs to go on: its inputs, what its finished steps extracted, which steps
/// finished and which may have taken effect unseen.
#[derive(Debug, Clone)]
pub struct Resumable {
    pub run: Run,
    pub recipe_digest: String,
    pub inputs: Value,
    pub vars: Value,
    pub done: HashSet<String>,
    pub unknown: Vec<String>,
}

fn text(v: &Value) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn json(id: i64, what: &str, s: &str) -> Result<Value, StoreError> {
    serde_json::from_str(s)
        .map_err(|_| StoreError::Corrupt(format!("construction run {id}: {what}")))
}

type RawRun = (Run, [Option<String>; 6]);

fn from_row(r: &Row<'_>) -> rusqlite::Result<RawRun> {
    Ok((
        Run {
            id: r.get(0)?,
            version: r.get(1)?,
            recipe: r.get(2)?,
            environment: r.get(3)?,
            batch: r.get(4)?,
            batch_index: r.get(5)?,
            started_by: r.get(6)?,
            status: RunStatus::Queued,
            reason: None,
            message: r.get(9)?,
            failed_step: r.get(10)?,
            calls: r.get(11)?,
            steps_done: r.get(12)?,
            duration_ms: r.get(13)?,
            created_at: DateTime::<Utc>::MIN_UTC,
            started_at: None,
            finished_at: None,
        },
        [
            Some(r.get(7)?),
            r.get(8)?,
            Some(r.get(14)?),
            r.get(15)?,
            r.get(16)?,
            None,
        ],
    ))
}

fn finish_row(
    (mut run, [status, reason, created, started, finished, _]): RawRun,
) -> Result<Run, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("construction run {}: {what}", run.id));
    run.status = status
        .as_deref()
        .and_then(RunStatus::parse)
        .ok_or_else(|| corrupt("status"))?;
    run.reason = match reason {
        Some(r) => Some(FailureKind::parse(&r).ok_or_else(|| corrupt("reason"))?),
        None => None,
    };
    run.created_at = parse_ts(created.as_deref().unwrap_or_default())?;
    run.started_at = parse_opt_ts(started)?;
    run.finished_at = parse_opt_ts(finished)?;
    Ok(run)
}

pub fn insert(conn: &Connection, new: &NewRun, at: DateTime<Utc>) -> Result<Run, StoreError> {
    conn.prepare_cached(
        "INSERT INTO construct_runs (version, recipe, recipe_digest, environment, batch, \
         batch_index, started_by, status, id_number, inputs, shown_inputs, vars, created_at) \
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8, ?9, '{}', ?10)",
    )?
    .execute(params![
        new.recipe,
        new.recipe_digest,
        new.environment,
        new.batch,
        new.batch_index,
        new.started_by,
        new.id_number,
        text(&new.inputs)?,
        text(&new.shown_inputs)?,
        ts(at)
    ])?;
    get(conn, conn.last_insert_rowid())?
        .ok_or_else(|| StoreError::Corrupt("a run just inserted is gone".into()))
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Run>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM construct_runs WHERE id = ?1"
    ))?
    .query_row([id], from_row)
    .optional()?
    .map(finish_row)
    .transpose()
}

/// The run with its masked inputs, its steps in the order they ran and its result.
pub fn detail(conn: &Connection, id: i64) -> Result<Option<RunDetail>, StoreError> {
    let Some(run) = get(conn, id)? else {
        return Ok(None);
    };
    let (shown, result): (String, Option<String>) = conn
        .prepare_cached("SELECT shown_inputs, result FROM construct_runs WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Some(RunDetail {
        inputs: json(id, "shown_inputs", &shown)?,
        result: result.map(|r| json(id, "result", &r)).transpose()?,
        steps: steps(conn, id)?,
        run,
    }))
}

pub fn steps(conn: &Connection, run_id: i64) -> Result<Vec<StepRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, stage, step, status, attempts, started_at, duration_ms, request, response, \
         message FROM construct_steps WHERE run_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([run_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, i64>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, Option<String>>(8)?,
            r.get::<_, Option<String>>(9)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (key, stage, step, status, attempts, started, ms, request, response, message) = row?;
        out.push(StepRecord {
            status: StepStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("run {run_id} step {key}: status")))?,
            request: request.map(|s| json(run_id, "request", &s)).transpose()?,
            response: response.map(|s| json(run_id, "response", &s)).transpose()?,
            key,
            stage,
            step,
            attempts,
            started_at: parse_ts(&started)?,
            duration_ms: ms,
            message,
        });
    }
    Ok(out)
}

/// What a resume (or the first start) of run `id` goes on from.
pub fn resumable(conn: &Connection, id: i64) -> Result<Option<Resumable>, StoreError> {
    let Some(run) = get(conn, id)? else {
        return Ok(None);
    };
    let (digest, inputs, vars): (String, String, String) = conn
        .prepare_cached("SELECT recipe_digest, inputs, vars FROM construct_runs WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let mut done = HashSet::new();
    let mut unknown = Vec::new();
    let mut stmt = conn
        .prepare_cached("SELECT key, status FROM construct_steps WHERE run_id = ?1 ORDER BY seq")?;
    for row in stmt.query_map([id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })? {
        let (key, status) = row?;
        match StepStatus::parse(&status) {
            Some(StepStatus::Succeeded) => {
                done.insert(key);
            }
            Some(StepStatus::Running | StepStatus::Unknown) => unknown.push(key),
            _ => {}
        }
    }
    Ok(Some(Resumable {
        recipe_digest: digest,
        inputs: json(id, "inputs", &inputs)?,
        vars: json(id, "vars", &vars)?,
        done,
        unknown,
        run,
    }))
}

/// Marks run `id` running (again), a version up; refuses when it is not in `from`.
pub fn start(
    conn: &Connection,
    id: i64,
    from: &[RunStatus],
    at: DateTime<Utc>,
) -> Result<Option<Run>, StoreError> {
    let Some(run) = get(conn, id)? else {
        return Ok(None);
    };
    if !from.contains(&run.status) {
        return Ok(None);
    }
    conn.prepare_cached(
        "UPDATE construct_runs SET status = 'running', version = version + 1, reason = NULL, \
         message = NULL, failed_step = NULL, started_at = COALESCE(started_at, ?2), \
         finished_at = NULL WHERE id = ?1",
    )?
    .execute(params![id, ts(at)])?;
    get(conn, id)
}

/// Puts a run back in the queue for a resume.
pub fn requeue(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE construct_runs SET status = 'queued', version = version + 1, reason = NULL, \
         message = NULL, finished_at = NULL WHERE id = ?1",
    )?
    .execute([id])?;
    Ok(())
}

/// Records a step (replacing its earlier record, from before a resume) and, when it
/// succeeded, the values it extracted into the run's `vars`.
pub fn record_step(
    conn: &Connection,
    run_id: i64,
    record: &StepRecord,
    extracted: Option<&serde_json::Map<String, Value>>,
    calls: i64,
) -> Result<(), StoreError> {
    let seq: i64 = conn
        .prepare_cached(
            "SELECT COALESCE((SELECT seq FROM construct_steps WHERE run_id = ?1 AND key = ?2), \
             (SELECT COALESCE(MAX(seq), 0) + 1 FROM construct_steps WHERE run_id = ?1))",
        )?
        .query_row(params![run_id, record.key], |r| r.get(0))?;
    let opt = |v: &Option<Value>| v.as_ref().map(text).transpose();
    conn.prepare_cached(
        "INSERT OR REPLACE INTO construct_steps (run_id, key, seq, stage, step, status, attempts, \
         started_at, duration_ms, request, response, message) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        run_id,
        record.key,
        seq,
        record.stage,
        record.step,
        record.status.as_str(),
        record.attempts,
        ts(record.started_at),
        record.duration_ms,
        opt(&record.request)?,
        opt(&record.response)?,
        record.message,
    ])?;
    if let Some(extracted) = extracted {
        let vars: String = conn
            .prepare_cached("SELECT vars FROM construct_runs WHERE id = ?1")?
            .query_row([run_id], |r| r.get(0))?;
        let mut vars = match json(run_id, "vars", &vars)? {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        for (k, v) in extracted {
            vars.insert(k.clone(), v.clone());
        }
        conn.prepare_cached("UPDATE construct_runs SET vars = ?2 WHERE id = ?1")?
            .execute(params![run_id, text(&Value::Object(vars))?])?;
    }
    conn.prepare_cached(
        "UPDATE construct_runs SET calls = calls + ?2, \
         steps_done = (SELECT COUNT(*) FROM construct_steps WHERE run_id = ?1 AND status = 'succeeded') \
         WHERE id = ?1",
    )?
    .execute(params![run_id, calls])?;
    Ok(())
}

/// How a run ended (this time).
#[derive(Debug, Clone)]
pub struct Ending {
    pub status: RunStatus,
    pub reason: Option<FailureKind>,
    pub message: Option<String>,
    pub failed_step: Option<String>,
    pub result: Option<Value>,
    pub ran_ms: i64,
}

pub fn end(conn: &Connection, id: i64, e: &Ending, at: DateTime<Utc>) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE construct_runs SET status = ?2, version = version + 1, reason = ?3, message = ?4, \
         failed_step = ?5, result = COALESCE(?6, result), duration_ms = duration_ms + ?7, \
         finished_at = ?8 WHERE id = ?1",
    )?
    .execute(params![
        id,
        e.status.as_str(),
        e.reason.map(FailureKind::as_str),
        e.message,
        e.failed_step,
        e.result.as_ref().map(text).transpose()?,
        e.ran_ms,
        ts(at)
    ])?;
    if let Some(reason) = e.reason {
        conn.prepare_cached(
            "INSERT INTO construct_stops (run_id, at, reason, step, message) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![id, ts(at), reason.as_str(), e.failed_step, e.message])?;
    }
    Ok(())
}

/// At start: runs the last server left queued or running are interrupted, and the steps it
/// left mid-call (not idempotent) have an unknown outcome. The runs' ids.
/// `ours` says which runs this process is running itself: those are left alone.
pub fn interrupt_unfinished(
    conn: &Connection,
    at: DateTime<Utc>,
    ours: impl Fn(i64) -> bool,
) -> Result<Vec<i64>, StoreError> {
    let ids: Vec<i64> = conn
        .prepare_cached("SELECT id FROM construct_runs WHERE status IN ('queued', 'running')")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<i64>, _>>()?
        .into_iter()
        .filter(|id| !ours(*id))
        .collect();
    for id in &ids {
        conn.prepare_cached(
            "UPDATE construct_steps SET status = 'unknown', \
             message = '服务重启时调用未完成，结果未知 the server stopped during this call; its outcome is unknown' \
             WHERE run_id = ?1 AND status = 'running'",
        )?
        .execute([id])?;
        end(
            conn,
            *id,
            &Ending {
                status: RunStatus::Interrupted,
                reason: Some(FailureKind::Interrupted),
                message: Some("the server stopped while this run was going; resume it".into()),
                failed_step: None,
                result: None,
                ran_ms: 0,
            },
            at,
        )?;
    }
    Ok(ids)
}

/// Which runs a list shows.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub started_by: Option<String>,
    pub status: Option<RunStatus>,
    pub environment: Option<String>,
    pub batch: Option<String>,
    /// Runs with a smaller id than this (the next page).
    pub before: Option<i64>,
    pub limit: usize,
}

/// Runs, newest first.
pub fn list(conn: &Connection, f: &RunFilter) -> Result<Vec<Run>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM construct_runs WHERE (?1 IS NULL OR started_by = ?1) \
         AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR environment = ?3) \
         AND (?4 IS NULL OR batch = ?4) AND (?5 IS NULL OR id < ?5) ORDER BY id DESC LIMIT ?6"
    ))?;
    let rows = stmt.query_map(
        params![
            f.started_by,
            f.status.map(RunStatus::as_str),
            f.environment,
            f.batch,
            f.before,
            f.limit as i64
        ],
        from_row,
    )?;
    rows.map(|r| finish_row(r?)).collect()
}

/// The ID numbers runs were given, so generated ones differ from accounts already built.
pub fn id_numbers_used(conn: &Connection, limit: usize) -> Result<HashSet<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id_number FROM construct_runs WHERE id_number IS NOT NULL ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether an ID number was used by a run (older than the window `id_numbers_used` reads).
pub fn id_number_used(conn: &Connection, id_number: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM construct_runs WHERE id_number = ?1 LIMIT 1")?
        .query_row([id_number], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Runs created in `[from, to)`, counted by day (in `zone`) and environment, environment,
/// person and recipe, with the failures' reasons grouped.
pub fn stats(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    zone: Tz,
) -> Result<ConstructStats, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT created_at, environment, started_by, recipe, status, duration_ms \
         FROM construct_runs WHERE created_at >= ?1 AND created_at < ?2",
    )?;
    let mut by_day: BTreeMap<(chrono::NaiveDate, String), Outcomes> = BTreeMap::new();
    let mut by_env: BTreeMap<String, Outcomes> = BTreeMap::new();
    let mut by_person: BTreeMap<String, Outcomes> = BTreeMap::new();
    let mut by_recipe: BTreeMap<String, (Outcomes, i64)> = BTreeMap::new();
    let mut reasons: BTreeMap<(FailureKind, Option<String>, Option<String>), i64> = BTreeMap::new();
    let mut total = Outcomes::default();
    let rows = stmt.query_map(params![ts(from), ts(to)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    for row in rows {
        let (created, env, who, recipe, status, ms) = row?;
        let status = RunStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("a run's status '{status}'")))?;
        let day = parse_ts(&created)?.with_timezone(&zone).date_naive();
        total.add(status);
        by_day.entry((day, env.clone())).or_default().add(status);
        by_env.entry(env).or_default().add(status);
        by_person.entry(who).or_default().add(status);
        let r = by_recipe.entry(recipe).or_default();
        r.0.add(status);
        if status == RunStatus::Succeeded {
            r.1 += ms;
        }
    }
    let mut stops = conn.prepare_cached(
        "SELECT reason, step, message FROM construct_stops WHERE at >= ?1 AND at < ?2",
    )?;
    let rows = stops.query_map(params![ts(from), ts(to)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    for row in rows {
        let (reason, step, message) = row?;
        let Some(kind) = FailureKind::parse(&reason) else {
            continue;
        };
        // A loop's calls are one step to the reader: `trading/sign[1]` counts with `[0]`.
        let step = step.map(|s| s.split('[').next().unwrap_or_default().to_string());
        // The call count at the end differs run to run; the reason is the rest.
        let message = message.map(|m| match m.rfind(" (after ") {
            Some(i) if m.ends_with(" calls)") => m[..i].to_string(),
            _ => m,
        });
        *reasons.entry((kind, step, message)).or_default() += 1;
    }
    let named = |m: BTreeMap<String, Outcomes>| {
        let mut v: Vec<Named> = m
            .into_iter()
            .map(|(name, outcomes)| Named { name, outcomes })
            .collect();
        v.sort_by(|a, b| {
            b.outcomes
                .runs
                .cmp(&a.outcomes.runs)
                .then(a.name.cmp(&b.name))
        });
        v
    };
    let mut reasons: Vec<ReasonCount> = reasons
        .into_iter()
        .map(|((reason, step, message), runs)| ReasonCount {
            reason,
            step,
            message,
            runs,
        })
        .collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.runs));
    reasons.truncate(20);
    Ok(ConstructStats {
        from: None,
        to: None,
        total,
        by_day: by_day
            .into_iter()
            .map(|((day, environment), outcomes)| DayOutcomes {
                day,
                environment,
                outcomes,
            })
            .collect(),
        by_environment: named(by_env),
        by_person: named(by_person),
        by_recipe: by_recipe
            .into_iter()
            .map(|(recipe, (outcomes, ms))| RecipeUse {
                recipe,
                mean_ms: (outcomes.succeeded > 0).then(|| ms / outcomes.succeeded),
                outcomes,
            })
            .collect(),
        reasons,
    })
}
