//! The companion server: `/api/v1` for handlers, scripts and ITSM, the SSE change stream,
//! `/healthz`, `/metrics` and the OpenAPI description.
//!
//! Served through hyper-util rather than `axum::serve` because only that arms a header-read
//! timeout against slow clients. Every request is bounded: body size, time, the rate its body
//! arrives at, and concurrency (beyond the limit the server sheds load with 503 rather than
//! queueing without bound). The pages anyone may call before logging in have their own small
//! concurrency budget, so a flood of them cannot take the API's slots or `/healthz`.
//! Event streams are long-lived, so they sit outside the timeout and the concurrency limit
//! and have their own cap. Background jobs (`jobs/`: the notify worker) run beside the
//! requests and stop with the server.

pub mod api;
pub mod auth;
pub mod body_rate;
pub mod error;
pub mod extract;
pub mod jobs;
pub mod metrics;
pub mod mss;
pub mod ready;
pub mod reports;
pub mod sandbox;
pub mod throttle;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::service::Desk;
use error::ApiError;
use metrics::Metrics;

/// How long in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct AppState {
    pub desk: Desk,
    pub metrics: Arc<Metrics>,
    /// Permits for requests in flight (all but event streams and the public pages).
    pub requests: Arc<Semaphore>,
    /// Permits for the pages anyone may call before logging in (`max_concurrent_public`).
    pub public_requests: Arc<Semaphore>,
    /// Permits for open event streams.
    pub streams: Arc<Semaphore>,
    /// Flips to true when the server shuts down, so event streams end and let it.
    pub stopping: watch::Receiver<bool>,
    /// Wrong MSS passwords per client address.
    pub login_throttle: Arc<throttle::LoginThrottle>,
    /// The cached write probe behind `/readyz`.
    pub readiness: Arc<ready::Readiness>,
}

impl AppState {
    pub fn new(desk: Desk, stopping: watch::Receiver<bool>) -> Self {
        let server = &desk.settings.server;
        let requests = Arc::new(Semaphore::new(server.max_concurrent_requests.max(1)));
        let public_requests = Arc::new(Semaphore::new(server.max_concurrent_public.max(1)));
        let streams = Arc::new(Semaphore::new(server.max_event_streams));
        let mss = &desk.settings.mss;
        let login_throttle = Arc::new(throttle::LoginThrottle::new(
            mss.login_usernames_per_address,
            mss.login_window,
            mss.lockout_after,
            mss.lockout,
        ));
        Self {
            desk,
            metrics: Arc::new(Metrics::default()),
            requests,
            public_requests,
            streams,
            stopping,
            login_throttle,
            readiness: Arc::default(),
        }
    }
}

/// The whole HTTP surface with its limits; tests may drive it with `oneshot`.
pub fn router(state: AppState) -> Router {
    let cfg = &state.desk.settings.server;
    let timeout = TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        Duration::from_secs(cfg.request_timeout_secs),
    );
    let uploads =
        api::attachments::upload_routes().layer(RequestBodyLimitLayer::new(cfg.max_upload_bytes));
    // The concurrency limit is a middleware over one shared semaphore: `Router::layer` applies
    // a layer to each route separately, which would give every route its own limit.
    let requests = api::routes()
        .layer(RequestBodyLimitLayer::new(cfg.max_body_bytes))
        .merge(uploads)
        .layer(timeout)
        .layer(middleware::from_fn_with_state(state.clone(), shed_load));
    let streams = api::events::routes()
        .merge(api::construct::stream_routes())
        .layer(RequestBodyLimitLayer::new(0));
    let (public_pages, pages) = mss::routes(&state.desk.settings);
    let public_pages = public_pages.layer(middleware::from_fn_with_state(
        state.clone(),
        shed_public_load,
    ));
    let pages = pages
        .merge(
            reports::routes::routes().layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(cfg.request_timeout_secs),
            )),
        )
        .layer(middleware::from_fn_with_state(state.clone(), shed_load));

    let mut app = Router::new()
        .merge(requests)
        .merge(streams)
        .merge(pages)
        .merge(public_pages);
    // The demo's sandbox brokerage, with its own limits and answer envelope.
    if state.desk.settings.construct.sandbox {
        app = app.merge(sandbox::routes(&state));
    }
    app
        // Every route group sets its own body limit above; axum's built-in 2 MB default for
        // extractors would otherwise cut uploads (a phone photo is 3–10 MB) short of it.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .fallback(|uri: axum::http::Uri| async move {
            if mss::is_page(uri.path()) {
                mss::layer_error(StatusCode::NOT_FOUND)
            } else {
                ApiError::not_found("no such endpoint").into_response()
            }
        })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            body_rate::min_body_rate,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            errors_as_json,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; see the server log",
            )
            .into_response()
        }))
        .with_state(state)
}

/// Refuses a request with 503 when `max_concurrent_requests` are already in flight, instead of
/// queueing without bound; the permit is held until the handler has answered.
async fn shed_load(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let budget = state.requests.clone();
    within(budget, &state, req, next).await
}

/// [`shed_load`] over the public pages' own, smaller budget: what anyone can send before
/// logging in (a flood of slow login posts) uses up only this, never the API's slots.
async fn shed_public_load(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let budget = state.public_requests.clone();
    within(budget, &state, req, next).await
}

async fn within(budget: Arc<Semaphore>, state: &AppState, req: Request, next: Next) -> Response {
    let Ok(_permit) = budget.try_acquire_owned() else {
        state.metrics.shed.fetch_add(1, Ordering::Relaxed);
        return ApiError::unavailable("the server is at its request limit; retry shortly")
            .retry_after(1)
            .into_response();
    };
    next.run(req).await
}

/// Counts every answer and gives error answers produced by layers (413 from the body limit,
/// 405, 408 from the timeout) the API's JSON shape, or on the MSS pages a page.
async fn errors_as_json(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let page = mss::is_page(req.uri().path());
    let mut response = next.run(req).await;
    // No answer is to be read as anything but its declared type: a JSON body that echoes
    // a ticket's text must never be sniffed into HTML by a browser.
    response
        .headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    let status = response.status();
    state.metrics.count_response(status.as_u16());
    let content_type = response.headers().get(header::CONTENT_TYPE);
    let is_json = content_type.is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let is_html = content_type.is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_json || is_html {
        return response;
    }
    if page {
        return mss::layer_error(status);
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "the request body is too large"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this endpoint does not accept that method",
        ),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "unsupported content type")
        }
        s if s.is_server_error() => ("internal", "internal error; see the server log"),
        _ => ("bad_request", "the request was refused"),
    };
    let mut answer = ApiError::new(status, code, message).into_response();
    answer.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(allow) = response.headers().get(header::ALLOW) {
        answer.headers_mut().insert(header::ALLOW, allow.clone());
    }
    answer
}

/// Serves `desk` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish, ends event streams, stops the background jobs and checkpoints the database.
pub async fn launch(
    listener: TcpListener,
    desk: Desk,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    metrics::CalendarCoverage::read(&desk.settings.calendar, chrono::Utc::now()).warn();
    // Runs the last server left going stopped with it; they are marked so, to be resumed.
    // Beside the requests, not before them: a connection waiting to be accepted is served.
    let recovery = desk.clone();
    tokio::spawn(async move {
        if let Err(e) = recovery.interrupt_constructions().await {
            tracing::error!(error = %e, "marking interrupted construction runs");
        }
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let state = AppState::new(desk.clone(), stop_rx.clone());
    let notifier = jobs::notify::spawn(
        desk.store.clone(),
        desk.settings.notify.clone(),
        state.metrics.clone(),
        stop_rx.clone(),
    );
    let scheduler = jobs::monitors::spawn(desk.clone(), stop_rx.clone());
    let sweeper = jobs::sweep::spawn(desk.clone(), stop_rx);
    let app = router(state);

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(
            desk.settings.server.header_read_timeout_secs,
        ));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
                    let app = app.clone();
                    req.extensions_mut().insert(throttle::ClientAddr(peer));
                    async move { tower::ServiceExt::oneshot(app, req.map(Body::new)).await }
                });
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    let _ = stop_tx.send(true);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within the grace period");
    }
    // The worker records the outcomes it has before it stops, so it ends before the store.
    if tokio::time::timeout(SHUTDOWN_GRACE, notifier)
        .await
        .is_err()
    {
        tracing::warn!("the notify worker did not stop within the grace period");
    }
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, sweeper).await;
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, scheduler).await;
    let store = desk.store.clone();
    match tokio::task::spawn_blocking(move || store.shutdown()).await {
        Ok(true) => tracing::info!("database checkpointed; bye"),
        // The writer logged why; the WAL is kept and replayed on the next start.
        _ => tracing::warn!("stopped without a checkpoint; the next start replays the WAL"),
    }
    Ok(())
}

/// `Cache-Control: no-store` for answers that carry customer data.
pub fn no_store() -> (header::HeaderName, HeaderValue) {
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

/// What a file name keeps in a `Content-Disposition` `filename*=UTF-8''…` value (RFC 5987):
/// ASCII letters, digits and `-._~` (RFC 3986's unreserved characters, all of them RFC 5987
/// `attr-char`s). Everything else, every byte of a Chinese name included, is percent-encoded.
pub const FILENAME_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What a query value keeps: the same unreserved characters plus `/`, which a query may carry
/// as it is (RFC 3986 §3.4), so a `next=/mss/tickets/3` stays readable.
pub const QUERY_VALUE_ENCODE: &AsciiSet = &FILENAME_ENCODE.remove(b'/');

#[cfg(test)]
mod tests {
    use percent_encoding::utf8_percent_encode;

    use super::*;

    /// The ASCII bytes a set leaves as they are.
    fn kept(set: &'static AsciiSet) -> Vec<u8> {
        (0u8..0x80)
            .filter(|&b| {
                let s = [b];
                let text = std::str::from_utf8(&s).expect("ASCII");
                utf8_percent_encode(text, set).to_string() == text
            })
            .collect()
    }

    #[test]
    fn file_names_keep_only_the_unreserved_characters() {
        let mut expected: Vec<u8> = (b'0'..=b'9')
            .chain(b'A'..=b'Z')
            .chain(b'a'..=b'z')
            .collect();
        expected.extend(b"-._~");
        expected.sort_unstable();
        assert_eq!(kept(FILENAME_ENCODE), expected);
        let cases = [
            ("screen-shot_1.png", "screen-shot_1.png"),
            ("截图 1.png", "%E6%88%AA%E5%9B%BE%201.png"),
            ("a\"b;c=d.txt", "a%22b%3Bc%3Dd.txt"),
            ("../etc/passwd", "..%2Fetc%2Fpasswd"),
            ("100%.log", "100%25.log"),
        ];
        for (name, encoded) in cases {
            assert_eq!(
                utf8_percent_encode(name, FILENAME_ENCODE).to_string(),
                encoded,
                "{name}"
            );
        }
    }

    #[test]
    fn query_values_also_keep_slashes() {
        let mut expected = kept(FILENAME_ENCODE);
        expected.push(b'/');
        expected.sort_unstable();
        assert_eq!(kept(QUERY_VALUE_ENCODE), expected);
        assert_eq!(
            utf8_percent_encode("/mss/?show=open&x=1", QUERY_VALUE_ENCODE).to_string(),
            "/mss/%3Fshow%3Dopen%26x%3D1"
        );
    }
}
