//! `/api/v1/reports/{kind}` the service center's weekly and monthly reports, and
//! `/api/v1/knowledge-sessions` the knowledge sessions they set against the consultation
//! trend. Handlers only.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::idempotency;
use crate::api::{ExportCursor, ExportPage};
use crate::domain::report::{
    KnowledgeSession, NewSession, Period, Report, ReportKind, SessionChange,
};
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Json, Path, Query};
use crate::server::no_store;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WeekQuery {
    /// An ISO week in the business time zone, `2026-W47` (a year 1970–9999, a week 01–53;
    /// week 53 only in the years that have one, else 400); absent: the week now running.
    #[param(
        pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-W(0[1-9]|[1-4][0-9]|5[0-3])$",
        format = "iso-week"
    )]
    pub period: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MonthQuery {
    /// A month in the business time zone, `2026-11` (a year 1970–9999); absent: the month
    /// now running.
    #[param(pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$")]
    pub period: Option<String>,
}

/// The period a request names, of the shape its report takes, written as the description
/// states it (`2026-W07`, not `2026w7`: the CLI writes it so).
pub fn period_of(kind: ReportKind, text: Option<&str>) -> Result<Option<Period>, ApiError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let p = Period::parse(text).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !kind.fits(p) {
        let (is, takes) = match kind {
            ReportKind::Weekly => ("a month", "a week such as 2026-W47"),
            ReportKind::Monthly => ("a week", "a month such as 2026-11"),
        };
        return Err(ApiError::bad_request(format!(
            "'{p}' is {is}; a {} report takes {takes}",
            kind.as_str()
        )));
    }
    if p.to_string() != text {
        return Err(ApiError::bad_request(format!("write the period as {p}")));
    }
    Ok(Some(p))
}

async fn answer(
    s: &AppState,
    caller: Caller,
    kind: ReportKind,
    period: Option<&str>,
) -> ApiResult<axum::response::Response> {
    let user = caller.handler()?;
    let period = period_of(kind, period)?;
    let report = s
        .desk
        .report(&user, kind, period, chrono::Utc::now())
        .await?;
    Ok(([no_store()], axum::Json(report)).into_response())
}

/// A week's report (handlers only): volumes by category, system and channel against the
/// week before, the consultation share, the resolution and timely-resolution rates (defined
/// in the report's `definitions`), response and resolution times, the backlog, recurring
/// problems, workload, help-center deflections and knowledge sessions.
#[utoipa::path(get, path = "/api/v1/reports/weekly", operation_id = "weekly_report", tag = "reports",
    params(WeekQuery),
    responses((status = 200, body = Report),
        (status = 400, description = "a week that does not exist (`2026-W54`, a week 53 in a year without one)", body = ErrorBody),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody)))]
pub async fn weekly(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<WeekQuery>,
) -> ApiResult<axum::response::Response> {
    answer(&s, caller, ReportKind::Weekly, q.period.as_deref()).await
}

/// A month's report (handlers only): the weekly report's figures over a calendar month.
#[utoipa::path(get, path = "/api/v1/reports/monthly", operation_id = "monthly_report", tag = "reports",
    params(MonthQuery),
    responses((status = 200, body = Report),
        (status = 400, description = "a month that does not exist (`2026-13`)", body = ErrorBody),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody)))]
pub async fn monthly(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<MonthQuery>,
) -> ApiResult<axum::response::Response> {
    answer(&s, caller, ReportKind::Monthly, q.period.as_deref()).await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SessionsQuery {
    /// Held on or after this local day (`2026-11-01`).
    pub from: Option<NaiveDate>,
    /// Held on or before this local day.
    pub to: Option<NaiveDate>,
}

/// The knowledge sessions held in a span of days, newest first (handlers only).
#[utoipa::path(get, path = "/api/v1/knowledge-sessions", operation_id = "list_knowledge_sessions", tag = "reports",
    params(SessionsQuery),
    responses((status = 200, body = Vec<KnowledgeSession>),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<SessionsQuery>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let sessions = s.desk.knowledge_sessions(&user, q.from, q.to).await?;
    Ok(([no_store()], axum::Json(sessions)))
}

/// Record a knowledge session (handlers only). Without `systems`, the session covers its
/// articles' systems. Accepts an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/knowledge-sessions", operation_id = "record_knowledge_session", tag = "reports",
    request_body = NewSession,
    responses((status = 201, body = KnowledgeSession), (status = 200, description = "a retry with the same Idempotency-Key: the first answer", body = KnowledgeSession),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 409, description = "`conflict`: a knowledge-base article that does not exist", body = ErrorBody),
        (status = 422, description = "a topic too short or long, an unknown system, a day out of reach, a negative count", body = ErrorBody)))]
pub async fn record(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let Json(new) = super::parse_json::<NewSession>(&headers, &body)?;
    let idem = idempotency(&headers, "POST /api/v1/knowledge-sessions", &body)?;
    let created = s.desk.record_session(&user, new, idem).await?;
    let status = super::created_status(&created);
    Ok((status, [no_store()], axum::Json(created.value)))
}

/// Change a knowledge session (handlers only): the views keep growing with the replays.
/// With `version`, a session changed since is refused.
#[utoipa::path(patch, path = "/api/v1/knowledge-sessions/{id}", operation_id = "change_knowledge_session", tag = "reports",
    params(("id" = i64, Path, description = "The session's number")), request_body = SessionChange,
    responses((status = 200, body = KnowledgeSession),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such session", body = ErrorBody),
        (status = 409, description = "`conflict`: changed since `version`, or an article that does not exist", body = ErrorBody),
        (status = 422, description = "a field the checks refuse", body = ErrorBody)))]
pub async fn change(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(change): Json<SessionChange>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let session = s.desk.change_session(&user, id, change).await?;
    Ok(([no_store()], axum::Json(session)))
}

const DEFAULT_EXPORT: usize = 1000;
const MAX_EXPORT: usize = 5000;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// RFC 3339: tickets changed at or after it.
    pub since: DateTime<Utc>,
    /// With `after_id`, the `next` of the page before: where this page goes on.
    pub after: Option<DateTime<Utc>>,
    pub after_id: Option<i64>,
    /// 1–5000, default 1000.
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<usize>,
}

/// Every ticket's report facts changed since a moment, oldest change first, in pages
/// (handlers only): for a data warehouse, which loads what changed since its last run.
/// Customer numbers in titles are masked.
#[utoipa::path(get, path = "/api/v1/reports/facts", operation_id = "export_report_facts", tag = "reports",
    params(ExportQuery),
    responses((status = 200, body = ExportPage),
        (status = 400, description = "a `since` that is not RFC 3339, a limit out of range", body = ErrorBody),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody)))]
pub async fn export(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ExportQuery>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let limit = q.limit.unwrap_or(DEFAULT_EXPORT);
    if !(1..=MAX_EXPORT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_EXPORT}"
        )));
    }
    // From just before `since`, so a ticket changed exactly then is in; a page's `next` goes
    // on after the last change it held.
    let after = match (q.after, q.after_id) {
        (Some(at), id) => (at, id.unwrap_or(i64::MAX)),
        (None, Some(id)) => (q.since, id),
        (None, None) => (q.since - chrono::Duration::microseconds(1), i64::MAX),
    };
    let facts = s.desk.export_facts(&user, after, limit).await?;
    let next = (facts.len() == limit)
        .then(|| {
            facts.last().map(|f| ExportCursor {
                after: f.updated_at,
                after_id: f.facts.id,
            })
        })
        .flatten();
    Ok(([no_store()], axum::Json(ExportPage { facts, next })))
}
