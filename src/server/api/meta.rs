//! Health, metrics, the OpenAPI description, the configured systems and the caller.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::Exposure;
use crate::config::SystemDef;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::metrics::CalendarCoverage;
use crate::store::users::User;
use crate::store::{changes, notifications, tickets};
use axum::http::HeaderMap;

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub latest_seq: i64,
    pub tickets: u64,
}

/// Liveness and readiness: answers only when the database can be read.
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "meta", responses((status = 200, body = Health), (status = 503)))]
pub async fn healthz(State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    let (latest_seq, tickets) = s
        .desk
        .store
        .read(|conn| Ok((changes::latest(conn)?, tickets::count(conn)?)))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "health check cannot read the store");
            ApiError::unavailable("the database cannot be read")
        })?;
    Ok(axum::Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        latest_seq,
        tickets,
    }))
}

/// Readiness to write, from a write probe cached for a second.
#[derive(Serialize, ToSchema)]
pub struct Ready {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// `ok`, or why a write cannot succeed: `disk_full`, `read_only`, `busy`, `error`.
    pub write: &'static str,
}

/// Whether a write can succeed now (503 with `Retry-After` when not): for load balancers and
/// monitoring, since `/healthz` stays ok on a full disk or a read-only data dir.
#[utoipa::path(get, path = "/readyz", operation_id = "readyz", tag = "meta", responses((status = 200, body = Ready), (status = 503, body = Ready)))]
pub async fn readyz(State(s): State<AppState>) -> axum::response::Response {
    use crate::server::ready::Probe;
    match s.readiness.check(&s.desk.store).await {
        Probe::Ready => axum::Json(Ready {
            status: "ready",
            write: "ok",
        })
        .into_response(),
        Probe::NotReady { write, .. } => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            [(
                header::RETRY_AFTER,
                HeaderValue::from(crate::server::error::STORAGE_RETRY_AFTER_SECS),
            )],
            axum::Json(Ready {
                status: "not_ready",
                write,
            }),
        )
            .into_response(),
    }
}

/// Prometheus text format.
pub async fn metrics(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    if s.desk.settings.server.metrics == Exposure::Token {
        Caller::from_headers(&s, &headers).await?.handler()?;
    }
    let (by_status, latest, notifications, alerts) = s
        .desk
        .store
        .read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT status, count(*) FROM tickets GROUP BY status ORDER BY status",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
            })?;
            let by_status = rows.collect::<Result<Vec<_>, _>>()?;
            Ok((
                by_status,
                changes::latest(conn)?,
                notifications::counts(conn)?,
                crate::store::monitors::open_counts(conn)?,
            ))
        })
        .await?;
    let calendar = CalendarCoverage::read(&s.desk.settings.calendar, chrono::Utc::now());
    let mut text = s
        .metrics
        .render(&by_status, latest, &notifications, &calendar);
    let evaluations = s.desk.monitors.recorded();
    crate::server::metrics::render_monitors(&mut text, &evaluations, alerts);
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    ))
}

/// The configured systems; a ticket's `system` holds a key.
#[utoipa::path(get, path = "/api/v1/systems", operation_id = "list_systems", tag = "meta", responses((status = 200, body = Vec<SystemDef>)))]
pub async fn systems(State(s): State<AppState>, _caller: Caller) -> impl IntoResponse {
    axum::Json(s.desk.settings.systems.clone())
}

/// The people tickets can be assigned to: handlers and admins (for handlers only).
#[utoipa::path(get, path = "/api/v1/users", operation_id = "list_users", tag = "meta", responses((status = 200, body = Vec<User>), (status = 403)))]
pub async fn users(State(s): State<AppState>, caller: Caller) -> ApiResult<impl IntoResponse> {
    caller.handler()?;
    let all = s.desk.store.read(crate::store::users::all).await?;
    Ok(axum::Json(
        all.into_iter()
            .filter(|u| u.role.works_tickets())
            .collect::<Vec<_>>(),
    ))
}

/// The user the token belongs to.
#[utoipa::path(get, path = "/api/v1/me", operation_id = "get_me", tag = "meta", responses((status = 200, body = User)))]
pub async fn me(Caller(user): Caller) -> impl IntoResponse {
    axum::Json(user)
}

/// The OpenAPI description (see [`super::description`]).
pub async fn openapi(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    if s.desk.settings.server.openapi == Exposure::Token {
        Caller::from_headers(&s, &headers).await?;
    }
    let settings = &s.desk.settings;
    let recipes = crate::construct::recipes::Recipes::new(&settings.construct).names();
    let environments: Vec<&str> = settings
        .construct
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    Ok(axum::Json(super::description::description(
        super::description::Offered {
            systems: &settings.system_keys(),
            log_sources: &settings.lookups.log_names(),
            data_queries: &settings.lookups.queries(),
            recipes: &recipes,
            environments: &environments,
        },
    )))
}
