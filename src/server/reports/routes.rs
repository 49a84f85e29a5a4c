//! `/reports/`: the service center's reports as pages, for handlers only. A handler's API
//! token as a bearer (`curl -H 'Authorization: Bearer …'`, `opsdesk report weekly --format
//! html`); a submitter's token, or none, is refused. The pages run no script and load nothing:
//! a strict Content-Security-Policy says so to the browser too.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::Markup;

use super::page;
use crate::domain::people::User;
use crate::domain::report::{Period, ReportKind};
use crate::server::AppState;
use crate::server::api::reports::period_of;
use crate::server::auth::Caller;
use crate::server::error::ApiError;
use crate::server::extract::Path;
use crate::server::no_store;

/// Reports the index lists of each kind.
const LISTED: usize = 12;

pub fn routes() -> Router<AppState> {
    Router::new()
        // The index's links are relative: it lives at `/reports/`.
        .route(
            "/reports",
            get(|| async { axum::response::Redirect::permanent("/reports/") }),
        )
        .route("/reports/", get(index))
        .route("/reports/{kind}", get(current))
        .route("/reports/{kind}/{period}", get(report))
}

/// The page's headers: never cached (figures change), nothing loaded or run.
fn page_response(markup: Markup) -> Response {
    (
        [
            no_store(),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                ),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        ],
        markup,
    )
        .into_response()
}

async fn handler(s: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    Caller::from_headers(s, headers).await?.handler()
}

fn systems(s: &AppState) -> Vec<(String, String)> {
    s.desk
        .settings
        .systems
        .iter()
        .map(|d| (d.key.clone(), d.name.clone()))
        .collect()
}

async fn index(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    handler(&s, &headers).await?;
    let now = chrono::Utc::now();
    let listed = |kind| -> Vec<String> {
        s.desk
            .current_period(kind, now)
            .last(LISTED)
            .iter()
            .rev()
            .map(Period::to_string)
            .collect()
    };
    Ok(page_response(page::index(
        &listed(ReportKind::Weekly),
        &listed(ReportKind::Monthly),
    )))
}

async fn render(
    s: &AppState,
    headers: &HeaderMap,
    kind: ReportKind,
    period: Option<&str>,
) -> Result<Response, ApiError> {
    let user = handler(s, headers).await?;
    let period = period_of(kind, period)?;
    let report = s
        .desk
        .report(&user, kind, period, chrono::Utc::now())
        .await?;
    Ok(page_response(page::render(&report, &systems(s))))
}

async fn current(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(kind): Path<ReportKind>,
) -> Result<Response, ApiError> {
    render(&s, &headers, kind, None).await
}

async fn report(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((kind, period)): Path<(ReportKind, String)>,
) -> Result<Response, ApiError> {
    render(&s, &headers, kind, Some(&period)).await
}
