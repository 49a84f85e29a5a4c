//! The `/api/v1` routes, one file per resource.

pub mod attachments;
pub mod construct;
pub mod description;
pub mod events;
pub mod kb;
pub mod lookups;
pub mod messages;
pub mod meta;
pub mod monitors;
pub mod reports;
pub mod tickets;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};

use super::AppState;
use super::error::{ApiError, ApiResult};
pub use super::extract::parse_json;
use crate::service::Idempotency;

/// Every bounded route (everything but the event stream and uploads).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(meta::healthz))
        .route("/readyz", get(meta::readyz))
        .route("/metrics", get(meta::metrics))
        .route("/api/v1/openapi.json", get(meta::openapi))
        .route("/api/v1/systems", get(meta::systems))
        .route("/api/v1/me", get(meta::me))
        .route("/api/v1/users", get(meta::users))
        .route("/api/v1/tickets", get(tickets::list).post(tickets::create))
        .route(
            "/api/v1/tickets/{id}",
            get(tickets::get).patch(tickets::patch),
        )
        .route(
            "/api/v1/tickets/{id}/transitions",
            post(tickets::transition),
        )
        .route("/api/v1/tickets/{id}/assign", post(tickets::assign))
        .route("/api/v1/tickets/{id}/links", post(tickets::link))
        .route(
            "/api/v1/tickets/{id}/approve-script",
            post(tickets::approve_script),
        )
        .route("/api/v1/tickets/{id}/customer", get(tickets::customer))
        .route("/api/v1/tickets/{id}/audit", get(tickets::audit))
        .route("/api/v1/tickets/{id}/similar", get(tickets::similar))
        .route(
            "/api/v1/tickets/{id}/messages",
            get(messages::list).post(messages::create),
        )
        .route(
            "/api/v1/tickets/{id}/read-marker",
            get(messages::read_marker).put(messages::mark_read),
        )
        .route("/api/v1/unread", get(messages::unread))
        .route("/api/v1/attachments/{id}", get(attachments::download))
        .route("/api/v1/changes", get(events::list))
        .route("/api/v1/kb/articles", get(kb::search).post(kb::create))
        .route("/api/v1/kb/articles/{id}", get(kb::get).put(kb::update))
        .route("/api/v1/kb/articles/{id}/helpful", post(kb::helpful))
        .route("/api/v1/kb/changes", get(kb::changes))
        .route("/api/v1/kb/articles/{id}/revisions", get(kb::revisions))
        .route("/api/v1/kb/images/{id}", get(kb::image))
        .route("/api/v1/lookups", post(lookups::run))
        .route("/api/v1/lookups/sources", get(lookups::list_sources))
        .route("/api/v1/lookups/queries", get(lookups::list_queries))
        .route("/api/v1/lookups/data", post(lookups::run_data))
        .route("/api/v1/reports/facts", get(reports::export))
        .route("/api/v1/reports/weekly", get(reports::weekly))
        .route("/api/v1/reports/monthly", get(reports::monthly))
        .route(
            "/api/v1/knowledge-sessions",
            get(reports::list).post(reports::record),
        )
        .route(
            "/api/v1/knowledge-sessions/{id}",
            axum::routing::patch(reports::change),
        )
        .route("/api/v1/recipes", get(construct::recipes))
        .route("/api/v1/recipes/{name}", get(construct::recipe))
        .route("/api/v1/recipes/{name}/check", post(construct::check))
        .route("/api/v1/environments", get(construct::environments))
        .route(
            "/api/v1/constructions",
            get(construct::list).post(construct::start),
        )
        .route("/api/v1/constructions/stats", get(construct::stats))
        .route("/api/v1/constructions/{id}", get(construct::get_one))
        .route("/api/v1/constructions/{id}/resume", post(construct::resume))
        .route("/api/v1/constructions/{id}/cancel", post(construct::cancel))
        .route("/api/v1/monitors", get(monitors::list))
        .route("/api/v1/monitors/{name}/run", post(monitors::run))
        .route("/api/v1/monitors/{name}/history", get(monitors::history))
        .route("/api/v1/alerts", get(monitors::alerts))
        .route("/api/v1/alerts/{id}", get(monitors::get_one))
        .route(
            "/api/v1/alerts/{id}/acknowledge",
            post(monitors::acknowledge),
        )
        .route("/api/v1/alerts/{id}/resolve", post(monitors::resolve))
        .route("/api/v1/alerts/{id}/silence", post(monitors::silence))
        .route("/api/v1/alerts/{id}/ticket", post(monitors::open_ticket))
        .route("/api/v1/alerts/{id}/links", post(monitors::link))
}

/// 201 for what a request created, 200 for the remembered answer to a retry of it.
pub fn created_status<T>(created: &crate::service::Created<T>) -> axum::http::StatusCode {
    if created.replayed {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::CREATED
    }
}

/// The `Idempotency-Key` of a creating request, bound to its route and body.
pub fn idempotency(
    headers: &HeaderMap,
    route: &str,
    body: &[u8],
) -> ApiResult<Option<Idempotency>> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let key = v
                .to_str()
                .map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))?;
            Ok(Some(Idempotency::new(key, route, body)?))
        }
    }
}
