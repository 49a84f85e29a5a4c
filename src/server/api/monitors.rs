//! Proactive monitors: `/api/v1/monitors` (the monitors, a run now, the history) and
//! `/api/v1/alerts` (the alerts, their rows, and what a handler does with them). Handlers
//! only. Alert changes stream on the change stream (`/api/v1/events`, kinds `alert.*`).

use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::monitors::{
    Alert, AlertAction, AlertDetail, EvaluationRecord, LinkToAlert, MonitorInfo, SilenceAlert,
};
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Json, Path, Query};
use crate::server::no_store;

/// Every monitor: its rule, schedule, sources, latest evaluation, open alert, or why its file
/// was refused.
#[utoipa::path(get, path = "/api/v1/monitors", operation_id = "list_monitors", tag = "monitors",
    responses((status = 200, body = Vec<MonitorInfo>),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody)))]
pub async fn list(State(s): State<AppState>, caller: Caller) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok(([no_store()], axum::Json(s.desk.monitor_list(&user).await?)))
}

/// Evaluates a monitor now, as its schedule would, and records it: an alert raised or kept,
/// its mail and webhooks queued.
#[utoipa::path(post, path = "/api/v1/monitors/{name}/run", operation_id = "run_monitor", tag = "monitors",
    params(("name" = String, Path, description = "The monitor's name (its file name)")),
    responses((status = 200, description = "the evaluation (an evaluation that failed is recorded as `error` and answered here too)", body = EvaluationRecord),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such monitor", body = ErrorBody),
        (status = 409, description = "`conflict`: the monitor's file was refused at load", body = ErrorBody),
        (status = 503, description = "the monitor is being evaluated now; try again after `Retry-After`", body = ErrorBody)))]
pub async fn run(
    State(s): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    tracing::info!(monitor = %name, by = %user.username, "monitor run on request");
    Ok(([no_store()], axum::Json(s.desk.run_monitor(&name).await?)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Evaluations numbered below this (the next page).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// 1–500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// A monitor's evaluations, newest first: when, how long, the value, ok / firing / error.
#[utoipa::path(get, path = "/api/v1/monitors/{name}/history", operation_id = "monitor_history", tag = "monitors",
    params(("name" = String, Path, description = "The monitor's name"), HistoryQuery),
    responses((status = 200, body = Vec<EvaluationRecord>),
        (status = 400, description = "a limit outside 1–500, `before` below 1", body = ErrorBody),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such monitor", body = ErrorBody)))]
pub async fn history(
    State(s): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let limit = page_limit(q.limit, 50, q.before)?;
    Ok((
        [no_store()],
        axum::Json(
            s.desk
                .monitor_history(&user, &name, limit, q.before)
                .await?,
        ),
    ))
}

fn page_limit(limit: Option<usize>, default: usize, before: Option<i64>) -> ApiResult<usize> {
    if before.is_some_and(|b| b < 1) {
        return Err(ApiError::bad_request("before must be 1 or more"));
    }
    let limit = limit.unwrap_or(default);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("limit must be 1 to 500"));
    }
    Ok(limit)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// Alerts not resolved (firing, acknowledged), then the latest resolved, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", operation_id = "list_alerts", tag = "monitors",
    params(AlertsQuery),
    responses((status = 200, body = Vec<Alert>),
        (status = 400, description = "a limit outside 1–500", body = ErrorBody),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody)))]
pub async fn alerts(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<AlertsQuery>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let limit = page_limit(q.limit, 100, None)?;
    Ok(([no_store()], axum::Json(s.desk.alerts(&user, limit).await?)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    /// Show the rows' customer data in full (audited).
    pub reveal: Option<bool>,
}

/// An alert with its anomalous rows (customer data masked unless `reveal`), its parent
/// incident's linked tickets and the open tickets that look like the same problem.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", operation_id = "get_alert", tag = "monitors",
    params(("id" = i64, Path, description = "The alert's number"), AlertQuery),
    responses((status = 200, body = AlertDetail),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such alert", body = ErrorBody)))]
pub async fn get_one(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<AlertQuery>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let reveal = q.reveal.unwrap_or(false);
    Ok((
        [no_store()],
        axum::Json(s.desk.alert_detail(&user, id, reveal).await?),
    ))
}

/// Acknowledges a firing alert: someone is on it. It stays open until resolved.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", operation_id = "acknowledge_alert", tag = "monitors",
    params(("id" = i64, Path, description = "The alert's number")), request_body = AlertAction,
    responses((status = 200, body = Alert),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such alert", body = ErrorBody),
        (status = 409, description = "`conflict`: not firing, or changed since `version`", body = ErrorBody)))]
pub async fn acknowledge(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<AlertAction>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok((
        [no_store()],
        axum::Json(s.desk.acknowledge_alert(&user, id, body).await?),
    ))
}

/// Resolves an alert by hand; its monitor raises a new one if it fires again.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/resolve", operation_id = "resolve_alert", tag = "monitors",
    params(("id" = i64, Path, description = "The alert's number")), request_body = AlertAction,
    responses((status = 200, body = Alert),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such alert", body = ErrorBody),
        (status = 409, description = "`conflict`: already resolved, or changed since `version`", body = ErrorBody)))]
pub async fn resolve(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<AlertAction>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok((
        [no_store()],
        axum::Json(s.desk.resolve_alert(&user, id, body).await?),
    ))
}

/// Silences an alert, and its monitor's next alerts, for a while (`for`: `30m`, `2h`, `1d`,
/// at most 7 days; `off` ends it): they are still recorded, but nothing is sent.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/silence", operation_id = "silence_alert", tag = "monitors",
    params(("id" = i64, Path, description = "The alert's number")), request_body = SilenceAlert,
    responses((status = 200, body = Alert),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such alert", body = ErrorBody),
        (status = 409, description = "`conflict`: not a silence's length, or changed since `version`", body = ErrorBody)))]
pub async fn silence(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<SilenceAlert>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok((
        [no_store()],
        axum::Json(s.desk.silence_alert(&user, id, body).await?),
    ))
}

/// Opens the alert's parent incident: a ticket of channel `monitor` later tickets about the
/// same problem are linked to; resolving it resolves them and tells their submitters.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/ticket", operation_id = "open_alert_ticket", tag = "monitors",
    params(("id" = i64, Path, description = "The alert's number")), request_body = AlertAction,
    responses((status = 200, body = Alert),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such alert", body = ErrorBody),
        (status = 409, description = "`conflict`: it has its incident already, its monitor names no `alert.system`, or it changed since `version`", body = ErrorBody)))]
pub async fn open_ticket(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<AlertAction>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok((
        [no_store()],
        axum::Json(s.desk.open_alert_ticket(&user, id, body).await?),
    ))
}

/// Links a ticket to the alert's parent incident.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/links", operation_id = "link_to_alert", tag = "monitors",
    params(("id" = i64, Path, description = "The alert's number")), request_body = LinkToAlert,
    responses((status = 200, body = AlertDetail),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such alert or ticket", body = ErrorBody),
        (status = 409, description = "`conflict`: the alert has no incident yet, or the link would form a cycle", body = ErrorBody)))]
pub async fn link(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<LinkToAlert>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok((
        [no_store()],
        axum::Json(s.desk.link_to_alert(&user, id, body).await?),
    ))
}
