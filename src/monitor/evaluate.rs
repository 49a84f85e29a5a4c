//! One evaluation of a monitor: read its source(s), apply its rule, say what was found.
//!
//! Reads are bounded: a threshold reads one row, a distribution at most
//! [`MAX_CATEGORIES`] rows, and only a consistency check streams whole tables, through a
//! bounded channel into the merge (`domain::monitor::consistency`), so its memory does not
//! grow with the tables.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Request;
use hyper::header::{ACCEPT, USER_AGENT};
use serde_json::Value;
use tokio::sync::mpsc;

use super::config::{HttpQuery, Monitor, Query, Rule, SqlQuery};
use crate::domain::monitor::Verdict;
use crate::domain::monitor::consistency::{self, Comparison, Mismatch, Record};
use crate::lookups::elasticsearch::{SharedHttpClient, shared_http_client, shared_tls_config};
use crate::lookups::sql::{Collect, MaskAs, RowSink};

/// Groups a distribution may have; a query answering more is refused as not a distribution.
pub const MAX_CATEGORIES: usize = 1000;
/// The most of a JSON document a monitor reads.
const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;
/// How long past its timeout an evaluation is given up on.
const GRACE: Duration = Duration::from_secs(3);
/// How long connecting to a JSON endpoint may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Rows in flight between a consistency side and the merge.
const CHANNEL_ROWS: usize = 4096;

/// What an evaluation found, and how its rows are masked where customers' data must not
/// show (the column's kind of customer data, by the source's `mask`).
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub verdict: Verdict,
    pub masks: Vec<Option<MaskAs>>,
}

/// When an evaluation runs, in the business zone.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

impl Clock {
    fn local(&self) -> NaiveDateTime {
        self.now.with_timezone(&self.tz).naive_local()
    }

    /// The value of each named parameter when measuring `day`.
    fn parameters(&self, day: NaiveDate) -> impl Fn(&str) -> String + use<> {
        let local = self.local();
        move |name: &str| match name {
            "today" => local.date().format("%Y-%m-%d").to_string(),
            "day" => day.format("%Y-%m-%d").to_string(),
            "until" => day
                .and_time(local.time())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            _ => local.format("%Y-%m-%d %H:%M:%S").to_string(),
        }
    }

    /// The instants counted: the last `window` up to now, or `day` from its local midnight
    /// to its time of day now.
    fn span(
        &self,
        window: Option<Duration>,
        day: NaiveDate,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
        if let Some(w) = window {
            let w = chrono::Duration::from_std(w).map_err(|e| e.to_string())?;
            return Ok((self.now - w, self.now));
        }
        let at = |t: NaiveDateTime| {
            self.tz
                .from_local_datetime(&t)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| format!("{t} does not exist in {}", self.tz))
        };
        Ok((
            at(day.and_time(chrono::NaiveTime::MIN))?,
            at(day.and_time(self.local().time()))?,
        ))
    }

    /// Today and the same weekday of each of the last `weeks` weeks, newest first.
    fn weeks_back(&self, weeks: u32) -> Vec<NaiveDate> {
        let today = self.local().date();
        (1..=u64::from(weeks))
            .filter_map(|k| today.checked_sub_days(Days::new(7 * k)))
            .collect()
    }
}

/// Evaluates `monitor` at `clock`, within its timeout.
pub async fn evaluate(monitor: &Monitor, clock: Clock) -> Result<Evaluation, String> {
    // Each read is cancelled by its database at the timeout and says so; this is the
    // backstop for a source that does not answer at all.
    let limit = monitor.timeout + GRACE;
    match tokio::time::timeout(limit, run_rule(monitor, clock)).await {
        Ok(found) => found,
        Err(_) => Err(format!(
            "no result within {} s: the evaluation was given up",
            limit.as_secs()
        )),
    }
}

async fn run_rule(monitor: &Monitor, clock: Clock) -> Result<Evaluation, String> {
    let (zh, en) = (monitor.title.as_str(), monitor.title_en.as_str());
    let today = clock.local().date();
    let plain = |verdict: Verdict| {
        let masks = vec![None; verdict.columns.len()];
        Evaluation { verdict, masks }
    };
    match &monitor.rule {
        Rule::Threshold { query, threshold } => {
            let value = number(query, clock, today, monitor.timeout).await?;
            Ok(plain(threshold.judge(value, zh, en)))
        }
        Rule::Baseline { query, baseline } => {
            let value = number(query, clock, today, monitor.timeout).await?;
            let mut history = Vec::new();
            for day in clock.weeks_back(baseline.weeks) {
                let v = number(query, clock, day, monitor.timeout).await?;
                history.push((day.format("%Y-%m-%d").to_string(), v));
            }
            let today_label = today.format("%Y-%m-%d").to_string();
            Ok(plain(baseline.judge(value, &today_label, &history, zh, en)))
        }
        Rule::Distribution { query, shift } => {
            let now = counts(query, clock, today, monitor.timeout).await?;
            let mut history = Vec::new();
            for day in clock.weeks_back(shift.weeks) {
                history.push(counts(query, clock, day, monitor.timeout).await?);
            }
            Ok(plain(shift.judge(&now, &history, zh, en)))
        }
        Rule::Consistency {
            left,
            right,
            fields,
            listed,
            key_mask,
        } => {
            let mut found =
                consistency_check(left, right, fields, *listed, clock, monitor.timeout).await?;
            if key_mask.is_some() {
                found.masks[0] = *key_mask;
            }
            Ok(found)
        }
    }
}

/// The number a threshold or baseline reads: the first value of the first row, or the
/// number at the document's pointer.
async fn number(
    query: &Query,
    clock: Clock,
    day: NaiveDate,
    timeout: Duration,
) -> Result<f64, String> {
    match query {
        Query::Sql(q) => {
            let fetched = q
                .source
                .scan(
                    &q.statement,
                    clock.parameters(day),
                    timeout,
                    Collect::new(1),
                )
                .await
                .map_err(|e| e.to_string())?
                .into_fetched();
            let first = fetched.rows.first().and_then(|r| r.first()).cloned();
            match first {
                None => Err(
                    "the query answered no row; a threshold reads the first value of the first row"
                        .into(),
                ),
                // SUM over no rows is NULL: nothing counted.
                Some(None) => Ok(0.0),
                Some(Some(text)) => parse_number(&text),
            }
        }
        Query::Es(q) => {
            let (from, to) = clock.span(q.window, day)?;
            let n = q
                .source
                .count(&q.query, from, to)
                .await
                .map_err(|e| e.to_string())?;
            Ok(n as f64)
        }
        Query::Http(q) => {
            let doc = document(q).await?;
            match doc.pointer(&q.pointer) {
                Some(Value::Number(n)) => n
                    .as_f64()
                    .ok_or_else(|| format!("{} at '{}' is not a number", n, q.pointer)),
                Some(Value::String(s)) => parse_number(s),
                Some(other) => Err(format!(
                    "the value at '{}' is {}, not a number",
                    q.pointer,
                    kind_of(other)
                )),
                None => Err(format!("the document has nothing at '{}'", q.pointer)),
            }
        }
    }
}

/// The (category, count) pairs a distribution reads: two columns a row, or an Elasticsearch
/// source's documents grouped by a field.
async fn counts(
    query: &Query,
    clock: Clock,
    day: NaiveDate,
    timeout: Duration,
) -> Result<Vec<(String, f64)>, String> {
    match query {
        Query::Sql(q) => {
            let fetched = q
                .source
                .scan(
                    &q.statement,
                    clock.parameters(day),
                    timeout,
                    Collect::new(MAX_CATEGORIES),
                )
                .await
                .map_err(|e| e.to_string())?
                .into_fetched();
            if fetched.truncated {
                return Err(format!(
                    "the query answered over {MAX_CATEGORIES} rows; a distribution reads one row a category (GROUP BY it)"
                ));
            }
            if fetched.columns.len() != 2 {
                return Err(format!(
                    "the query answers {} columns; a distribution reads two: the category and its count",
                    fetched.columns.len()
                ));
            }
            fetched
                .rows
                .into_iter()
                .map(|row| {
                    let category = row[0].clone().unwrap_or_else(|| "(空 none)".into());
                    let count = row[1].as_deref().map_or(Ok(0.0), parse_number)?;
                    Ok((category, count))
                })
                .collect()
        }
        Query::Es(q) => {
            let (from, to) = clock.span(q.window, day)?;
            let field = q.group_by.as_deref().unwrap_or_default();
            let groups = q
                .source
                .count_by(field, &q.query, from, to, MAX_CATEGORIES)
                .await
                .map_err(|e| e.to_string())?;
            Ok(groups.into_iter().map(|(k, n)| (k, n as f64)).collect())
        }
        // Refused at load: a distribution compares days, which a document cannot.
        Query::Http(_) => Err("a distribution reads sql or an Elasticsearch source".into()),
    }
}

fn parse_number(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| {
            let shown: String = text.chars().take(40).collect();
            format!("'{shown}' is not a number")
        })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// GETs the JSON document of `q`, read up to [`MAX_DOCUMENT_BYTES`].
async fn document(q: &HttpQuery) -> Result<Value, String> {
    // One client for every monitor: its pool keeps connections to the endpoints polled each
    // minute. The evaluation's own timeout bounds each request.
    static CLIENT: OnceLock<Result<SharedHttpClient, String>> = OnceLock::new();
    let client = CLIENT
        .get_or_init(|| {
            shared_tls_config(&["https://".to_string()], None, false)
                .map(|tls| shared_http_client(tls, CONNECT_TIMEOUT))
                .map_err(|e| format!("HTTPS is not available: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)?;
    let request = Request::get(q.url.as_str())
        .header(ACCEPT, "application/json")
        .header(USER_AGENT, concat!("opsdesk/", env!("CARGO_PKG_VERSION")))
        .body(Full::new(Bytes::new()))
        .map_err(|e| format!("{}: {e}", q.url))?;
    let answer = client.request(request).await.map_err(|e| {
        format!(
            "cannot reach {}: {}",
            q.url,
            crate::lookups::elasticsearch::innermost(&e)
        )
    })?;
    let status = answer.status();
    let body = Limited::new(answer.into_body(), MAX_DOCUMENT_BYTES)
        .collect()
        .await
        .map_err(|e| format!("reading {}: {e}", q.url))?
        .to_bytes();
    if !status.is_success() {
        return Err(format!("{} answered {status}", q.url));
    }
    serde_json::from_slice(&body).map_err(|e| format!("{} is not JSON: {e}", q.url))
}

/// Sends each row of a consistency side to the merge as a [`Record`]: the first column is
/// the key, the rest the compared fields.
struct ToMerge {
    tx: mpsc::Sender<Result<Record, String>>,
    columns: Vec<String>,
    rows: u64,
}

impl RowSink for ToMerge {
    fn columns(&mut self, columns: Vec<String>) {
        self.columns = columns;
    }

    async fn row(&mut self, row: Vec<Option<String>>) -> bool {
        self.rows += 1;
        let mut cells = row.into_iter();
        let record = match cells.next() {
            Some(Some(key)) => Ok(Record {
                key,
                values: cells.collect(),
            }),
            _ => Err(format!(
                "row {} has no key (its first column is NULL)",
                self.rows
            )),
        };
        // A merge that stopped (it found the sides unusable) drops its end: stop reading.
        self.tx.send(record).await.is_ok()
    }
}

/// A side's rows as the merge reads them, on the blocking pool.
struct Received(mpsc::Receiver<Result<Record, String>>);

impl Iterator for Received {
    type Item = Result<Record, String>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.blocking_recv()
    }
}

async fn consistency_check(
    left: &SqlQuery,
    right: &SqlQuery,
    fields: &[String],
    listed: usize,
    clock: Clock,
    timeout: Duration,
) -> Result<Evaluation, String> {
    let today = clock.local().date();
    let (ltx, lrx) = mpsc::channel(CHANNEL_ROWS);
    let (rtx, rrx) = mpsc::channel(CHANNEL_ROWS);
    let side = |q: &SqlQuery, tx| {
        let q = q.clone();
        let params = clock.parameters(today);
        async move {
            let sink = ToMerge {
                tx,
                columns: Vec::new(),
                rows: 0,
            };
            // The sink comes back when the read ends; dropping it here (its sender with
            // it) is what tells the merge this side is done.
            let read = q.source.scan(&q.statement, params, timeout, sink).await;
            read.map(|sink| sink.columns)
        }
    };
    let names = fields.to_vec();
    let merge = tokio::task::spawn_blocking(move || {
        consistency::compare(Received(lrx), Received(rrx), &names, listed)
    });
    let (l, r, merged) = tokio::join!(side(left, ltx), side(right, rtx), merge);
    // A side that failed ended its stream early: its error, never a comparison of half a
    // table, is the answer.
    let l = l.map_err(|e| format!("left: {e}"))?;
    let _ = r.map_err(|e| format!("right: {e}"))?;
    let comparison = merged
        .map_err(|e| format!("the comparison stopped: {e}"))?
        .map_err(|e| e.to_string())?;
    let key_mask = l.first().and_then(|c| left.source.mask_of(c));
    Ok(consistency_verdict(
        &comparison,
        fields,
        left.source.name(),
        right.source.name(),
        key_mask,
    ))
}

/// The verdict of a comparison: one row a mismatched field (or missing record).
fn consistency_verdict(
    c: &Comparison,
    fields: &[String],
    left: &str,
    right: &str,
    key_mask: Option<MaskAs>,
) -> Evaluation {
    let (mut missing_left, mut missing_right, mut differs) = (0, 0, 0);
    let mut rows = Vec::new();
    for m in &c.mismatches {
        let key = Some(m.key().to_string());
        match m {
            Mismatch::MissingLeft { .. } => {
                missing_left += 1;
                rows.push(vec![
                    key,
                    Some(format!("仅{right}有 only in {right}")),
                    None,
                    None,
                    None,
                ]);
            }
            Mismatch::MissingRight { .. } => {
                missing_right += 1;
                rows.push(vec![
                    key,
                    Some(format!("仅{left}有 only in {left}")),
                    None,
                    None,
                    None,
                ]);
            }
            Mismatch::Differs { fields: diff, .. } => {
                differs += 1;
                for (field, l, r) in diff {
                    rows.push(vec![
                        key.clone(),
                        Some("不一致 differs".into()),
                        Some(field.clone()),
                        l.clone(),
                        r.clone(),
                    ]);
                }
            }
        }
    }
    let unlisted = c.unlisted();
    let more = if unlisted > 0 {
        format!("（另有 {unlisted} 条未列出） (and {unlisted} more not listed)")
    } else {
        String::new()
    };
    let summary = if c.consistent() {
        format!(
            "{left} 与 {right} 一致（{} / {} 条） · {left} and {right} agree on {} and {} rows",
            c.left_rows, c.right_rows, c.left_rows, c.right_rows
        )
    } else {
        format!(
            "{left} 与 {right} 不一致 {} 条：字段不同 {differs}，仅{left}有 {missing_right}，仅{right}有 {missing_left}{more} · {} mismatches in {} fields ({}) of {} / {} rows",
            c.total,
            c.total,
            fields.len(),
            fields.join(", "),
            c.left_rows,
            c.right_rows
        )
    };
    let columns = ["key", "problem", "field", left, right]
        .map(String::from)
        .to_vec();
    Evaluation {
        verdict: Verdict {
            firing: !c.consistent(),
            value: c.total as f64,
            summary,
            columns,
            rows,
        },
        masks: vec![key_mask, None, None, None, None],
    }
}
