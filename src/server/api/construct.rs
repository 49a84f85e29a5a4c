//! Account construction: `/api/v1/recipes`, `/api/v1/environments` and
//! `/api/v1/constructions` (runs: start, follow, resume, cancel, count). Handlers only. The
//! runs' progress streams on `/api/v1/constructions/events`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use chrono::NaiveDate;
use serde::Deserialize;
use tokio::sync::{broadcast, watch};
use utoipa::IntoParams;

use super::events::{Access, StreamGuard};
use super::idempotency;
use crate::api::construct::{
    CheckInputs, EnvironmentView, InputCheck, LAGGED_EVENT, RecipeForm, RecipeSummary, ResumeRun,
    RunEvent, StartConstruction,
};
use crate::domain::construct::run::{ConstructStats, Run, RunDetail, RunStatus};
use crate::server::AppState;
use crate::server::auth::{Caller, bearer};
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Json, Path, Query};
use crate::server::no_store;
use crate::store::construct::RunFilter;

pub fn stream_routes() -> Router<AppState> {
    Router::new().route("/api/v1/constructions/events", get(events))
}

/// The recipes this server offers, each with what is wrong with it, if anything.
#[utoipa::path(get, path = "/api/v1/recipes", operation_id = "list_recipes", tag = "construction",
    responses((status = 200, body = Vec<RecipeSummary>),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody)))]
pub async fn recipes(State(s): State<AppState>, caller: Caller) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok(([no_store()], axum::Json(s.desk.recipe_list(&user).await?)))
}

/// A recipe's form: its inputs (defaults, generators, choices), stages and systems.
#[utoipa::path(get, path = "/api/v1/recipes/{name}", operation_id = "get_recipe", tag = "construction",
    params(("name" = String, Path, description = "The recipe's name (`plain-account`)")),
    responses((status = 200, body = RecipeForm),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such recipe", body = ErrorBody),
        (status = 422, description = "the recipe has mistakes (each with its file and line)", body = ErrorBody)))]
pub async fn recipe(
    State(s): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok((
        [no_store()],
        axum::Json(s.desk.recipe_form(&user, &name).await?),
    ))
}

/// Fills a recipe's inputs as a run would, without running: the values (generated ones
/// included), or what is wrong with each. For a form's live check; changes nothing.
#[utoipa::path(post, path = "/api/v1/recipes/{name}/check", operation_id = "check_recipe_inputs", tag = "construction",
    params(("name" = String, Path, description = "The recipe's name")), request_body = CheckInputs,
    responses((status = 200, body = InputCheck),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such recipe", body = ErrorBody),
        (status = 422, description = "the recipe has mistakes, or `set` names more than 64 inputs or a value over 1,000 characters", body = ErrorBody)))]
pub async fn check(
    State(s): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<CheckInputs>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let checked = s
        .desk
        .check_inputs(&user, &name, body.set, body.seed)
        .await?;
    Ok(([no_store()], axum::Json(checked)))
}

/// The UAT environments recipes run against, with their systems.
#[utoipa::path(get, path = "/api/v1/environments", operation_id = "list_environments", tag = "construction",
    responses((status = 200, body = Vec<EnvironmentView>),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody)))]
pub async fn environments(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok(([no_store()], axum::Json(s.desk.environments(&user)?)))
}

/// Builds one account, or a batch (`count`), in an environment: the runs are queued and
/// start as the environment's concurrency allows; follow them on
/// `/api/v1/constructions/events` or by polling. Accepts an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/constructions", operation_id = "start_construction", tag = "construction",
    request_body = StartConstruction,
    responses((status = 201, body = Vec<Run>),
        (status = 200, description = "a retry with the same Idempotency-Key: the first answer, nothing started again", body = Vec<Run>),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 409, description = "`conflict`: an ID number an earlier run already built an account with", body = ErrorBody),
        (status = 422, description = "an unknown recipe or environment, a recipe with mistakes or a system the environment lacks, an input that fails its checks, a count outside 1–200", body = ErrorBody)))]
pub async fn start(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let Json(start) = super::parse_json::<StartConstruction>(&headers, &body)?;
    let idem = idempotency(&headers, "POST /api/v1/constructions", &body)?;
    let created = s.desk.start_construction(&user, start, idem).await?;
    let status = super::created_status(&created);
    Ok((status, [no_store()], axum::Json(created.value)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// Only the runs this user started (`me` for the caller).
    pub started_by: Option<String>,
    #[param(inline)]
    pub status: Option<RunStatus>,
    pub environment: Option<String>,
    /// The runs of one batch.
    pub batch: Option<String>,
    /// Runs numbered below this (the next page).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// Construction runs, newest first.
#[utoipa::path(get, path = "/api/v1/constructions", operation_id = "list_constructions", tag = "construction",
    params(RunsQuery),
    responses((status = 200, body = Vec<Run>),
        (status = 400, description = "a limit outside 1–500, `before` below 1", body = ErrorBody),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<RunsQuery>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    if q.before.is_some_and(|b| b < 1) {
        return Err(ApiError::bad_request("before must be 1 or more"));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("limit must be 1 to 500"));
    }
    let started_by = q
        .started_by
        .map(|w| if w == "me" { user.username.clone() } else { w });
    let filter = RunFilter {
        started_by,
        status: q.status,
        environment: q.environment,
        batch: q.batch,
        before: q.before,
        limit,
    };
    Ok((
        [no_store()],
        axum::Json(s.desk.constructions(&user, filter).await?),
    ))
}

/// A run with its inputs (customer data masked), every step's request and answer, and what
/// it built.
#[utoipa::path(get, path = "/api/v1/constructions/{id}", operation_id = "get_construction", tag = "construction",
    params(("id" = i64, Path, description = "The run's number")),
    responses((status = 200, body = RunDetail),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such run", body = ErrorBody)))]
pub async fn get_one(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok((
        [no_store()],
        axum::Json(s.desk.construction(&user, id).await?),
    ))
}

/// Goes on with a failed, cancelled or interrupted run from the step it stopped at; the
/// steps that finished are not called again.
#[utoipa::path(post, path = "/api/v1/constructions/{id}/resume", operation_id = "resume_construction", tag = "construction",
    params(("id" = i64, Path, description = "The run's number")), request_body = ResumeRun,
    responses((status = 200, body = Run),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such run", body = ErrorBody),
        (status = 409, description = "`conflict`: the run is not stopped, or a step's outcome is unknown and `retry_unknown` is not set", body = ErrorBody),
        (status = 422, description = "its environment or recipe is gone or no longer fits", body = ErrorBody)))]
pub async fn resume(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ResumeRun>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let run = s
        .desk
        .resume_construction(&user, id, body.retry_unknown)
        .await?;
    Ok(([no_store()], axum::Json(run)))
}

/// Stops a queued or running run after the call in flight; it can be resumed later.
#[utoipa::path(post, path = "/api/v1/constructions/{id}/cancel", operation_id = "cancel_construction", tag = "construction",
    params(("id" = i64, Path, description = "The run's number")),
    responses((status = 200, body = Run),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such run", body = ErrorBody),
        (status = 409, description = "`conflict`: the run has already stopped", body = ErrorBody)))]
pub async fn cancel(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok((
        [no_store()],
        axum::Json(s.desk.cancel_construction(&user, id).await?),
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// The first local day (default: 29 days before `to`).
    pub from: Option<NaiveDate>,
    /// The last local day (default: today).
    pub to: Option<NaiveDate>,
}

/// Construction counted: success, failure and in progress per day and environment, failure
/// reasons grouped, per-person use, mean duration per recipe. `from` after `to` counts no day.
#[utoipa::path(get, path = "/api/v1/constructions/stats", operation_id = "construction_stats", tag = "construction",
    params(StatsQuery),
    responses((status = 200, body = ConstructStats),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
))]
pub async fn stats(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<StatsQuery>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let today = chrono::Utc::now()
        .with_timezone(&s.desk.settings.calendar.tz())
        .date_naive();
    let to = q.to.unwrap_or(today);
    let from = q.from.unwrap_or(to - chrono::Duration::days(29));
    Ok((
        [no_store()],
        axum::Json(s.desk.construct_stats(&user, from, to).await?),
    ))
}

/// Every run's progress as it happens: `event: run`, `data:` the run and the step that
/// moved it. A subscriber that falls behind gets `event: lagged` and should refetch.
#[utoipa::path(get, path = "/api/v1/constructions/events", operation_id = "stream_constructions", tag = "construction",
    responses((status = 200, content_type = "text/event-stream", body = RunEvent),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 503, description = "too many open event streams", body = ErrorBody)))]
pub async fn events(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let token = bearer(&headers)?;
    let permit = s
        .streams
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::unavailable("too many open event streams; retry shortly"))?;
    let feed = Progress {
        live: s.desk.constructions.subscribe(),
        stopping: s.stopping.clone(),
        access: Access::new(&s, token, user),
        _permit: StreamGuard::new(permit, s.metrics.clone()),
    };
    let heartbeat = Duration::from_secs(s.desk.settings.server.sse_heartbeat_secs.max(1));
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok::<_, Infallible>(event), feed))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(heartbeat).text("heartbeat"))
        .into_response())
}

struct Progress {
    live: broadcast::Receiver<Arc<RunEvent>>,
    stopping: watch::Receiver<bool>,
    access: Access,
    _permit: StreamGuard,
}

impl Progress {
    /// The next event, or None when the stream ends (the server stops, the token is revoked).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if *self.stopping.borrow() {
                return None;
            }
            if self.access.to_check() && !self.access.still_granted().await {
                return None;
            }
            tokio::select! {
                biased;
                _ = self.stopping.changed() => return None,
                moved = self.access.epoch.changed() => {
                    if moved.is_err() || !self.access.still_granted().await {
                        return None;
                    }
                }
                received = self.live.recv() => return match received {
                    Ok(e) => Some(Event::default().event("run").json_data(&*e)
                        .unwrap_or_else(|_| Event::default().comment("unencodable event"))),
                    Err(broadcast::error::RecvError::Lagged(n)) => Some(
                        Event::default().event(LAGGED_EVENT).data(format!("{n} events missed; refetch the runs")),
                    ),
                    Err(broadcast::error::RecvError::Closed) => None,
                },
            }
        }
    }
}
