//! The MSS pages (`/mss/`): customer managers log in on their phones, submit tickets with
//! screenshots, follow progress and talk with handlers until the answer is clear.
//!
//! Server-rendered (maud), mobile first, Chinese. Every asset is served from here; the
//! Content-Security-Policy allows nothing else, so no script or style can be injected or
//! fetched from elsewhere. Pages are `no-store`: they carry customer data.

pub mod error;
pub mod form;
pub mod markdown;
pub mod pages;
pub mod session;
pub mod views;

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use super::AppState;
use crate::config::Settings;

const CSS: &str = include_str!("assets/mss.css");
const JS: &str = include_str!("assets/mss.js");

const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; \
    connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A login form is a username, a password, a CSRF token and a `next` path: a few hundred
/// bytes. Forms anyone can post before logging in are held to this.
const PUBLIC_FORM_LIMIT: usize = 8 * 1024;

/// The pages with their forms, as (public, for submitters): the public ones (login, assets)
/// are what anyone can call and get their own concurrency budget and a small body limit.
/// Multipart posts (screenshots) get a body limit sized for `max_screenshots` images and more
/// time, since phones upload slowly.
pub fn routes(settings: &Settings) -> (Router<AppState>, Router<AppState>) {
    let uploads_limit = settings.mss.max_screenshots.max(1) * settings.server.max_upload_bytes
        + settings.server.max_body_bytes;
    let upload_time = Duration::from_secs(settings.server.request_timeout_secs * 4);
    let uploads = Router::new()
        .route("/mss/new", get(pages::new_page).post(pages::new_submit))
        .route("/mss/tickets/{id}/reply", post(pages::reply))
        .layer(RequestBodyLimitLayer::new(uploads_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            upload_time,
        ));
    let request_time = Duration::from_secs(settings.server.request_timeout_secs);
    let public = Router::new()
        .route("/mss", get(pages::root))
        .route("/mss/login", get(pages::login_page).post(pages::login))
        .route("/mss/static/mss.css", get(css))
        .route("/mss/static/mss.js", get(js))
        .route("/mss/help", get(pages::short_address))
        .route("/help", get(pages::short_address))
        .route("/help/", get(pages::short_address))
        .route("/help/{*rest}", get(pages::short_address))
        .layer(RequestBodyLimitLayer::new(PUBLIC_FORM_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_time,
        ))
        .layer(middleware::from_fn(page_headers));
    let pages = Router::new()
        .route("/mss/", get(pages::list))
        .route("/mss/logout", post(pages::logout))
        .route("/mss/tickets/{id}", get(pages::ticket))
        .route("/mss/tickets/{id}/state", get(pages::ticket_state))
        .route("/mss/tickets/{id}/confirm", post(pages::confirm))
        .route("/mss/tickets/{id}/reopen", post(pages::reopen))
        .route("/mss/attachments/{id}", get(pages::attachment))
        .route("/mss/help/", get(pages::help_center))
        .route("/mss/help/suggest", get(pages::suggest))
        .route("/mss/help/{id}", get(pages::help_article))
        .route("/mss/help/images/{id}", get(pages::help_image))
        .route("/mss/help/{id}/vote", post(pages::help_vote))
        .route("/mss/help/{id}/outcome", post(pages::help_outcome))
        .layer(RequestBodyLimitLayer::new(settings.server.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_time,
        ));
    let pages = pages
        .merge(uploads)
        .layer(middleware::from_fn(page_headers));
    (public, pages)
}

async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// Security headers on every page answer; a handler's own (an attachment's sandbox CSP,
/// an asset's caching) win.
async fn page_headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    harden(&mut r);
    r
}

/// Adds the pages' security headers where the answer has not set its own.
fn harden(r: &mut Response) {
    let h = r.headers_mut();
    let defaults = [
        (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
}

/// Whether a request path belongs to the pages (their errors are pages too, not JSON).
pub fn is_page(path: &str) -> bool {
    path == "/mss" || path.starts_with("/mss/") || path == "/help" || path.starts_with("/help/")
}

/// The Chinese words for an error a layer produced before any page handler ran.
pub fn layer_error(status: StatusCode) -> Response {
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            "上传的内容太大：每张截图不超过 10 MB，一次最多 5 张。已填写的文字保存在本机，返回后可重新选择截图。"
        }
        StatusCode::REQUEST_TIMEOUT => "网络太慢，请求超时。请返回重试，已填写的内容保存在本机。",
        StatusCode::METHOD_NOT_ALLOWED => "不支持这样访问这个页面。",
        StatusCode::NOT_FOUND => "找不到这个页面或事件。",
        StatusCode::SERVICE_UNAVAILABLE => "服务繁忙，请稍后再试。",
        s if s.is_server_error() => "服务出错了，请稍后再试；问题已记录。",
        _ => "请求没有被接受，请返回重试。",
    };
    let mut r = error::error_page(status, message);
    harden(&mut r);
    r
}
