//! How the pages refuse: an HTML page in Chinese with the right status, or a redirect to the
//! login page. Never JSON, never a stack trace.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::views;
use crate::domain::lifecycle::TransitionError;
use crate::service::DeskError;

#[derive(Debug)]
pub enum PageError {
    /// No session, or one that expired: back to the login page, then to `next`.
    LoginRequired {
        expired: bool,
        next: String,
    },
    /// The form's CSRF token is missing or wrong.
    Csrf,
    NotFound,
    /// The request was understood and refused; the message says why.
    Refused(StatusCode, String),
    /// Refused for a passing reason (disk full, busy): try again after the seconds given.
    RetryLater(StatusCode, String, u64),
    Internal,
}

pub type PageResult<T> = Result<T, PageError>;

/// Transition refusals in the submitter's words.
fn transition_zh(e: &TransitionError) -> String {
    match e {
        TransitionError::AlreadyThere(s) => format!("事件已经是“{}”状态", s.label_zh()),
        _ => "事件当前的状态不能进行这个操作，请刷新页面查看最新进度".into(),
    }
}

impl From<DeskError> for PageError {
    fn from(e: DeskError) -> Self {
        match e {
            DeskError::NotFound(_) => PageError::NotFound,
            DeskError::Forbidden(m) => PageError::Refused(StatusCode::FORBIDDEN, m),
            DeskError::Validation(v) => PageError::Refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                v.0.iter()
                    .map(|f| f.zh.as_str())
                    .collect::<Vec<_>>()
                    .join("；"),
            ),
            DeskError::Conflicting(v) => PageError::Refused(
                StatusCode::CONFLICT,
                v.0.iter()
                    .map(|f| f.zh.as_str())
                    .collect::<Vec<_>>()
                    .join("；"),
            ),
            DeskError::Transition(t) => PageError::Refused(StatusCode::CONFLICT, transition_zh(&t)),
            DeskError::StaleVersion { .. } | DeskError::Conflict(_) | DeskError::Approval(_) => {
                PageError::Refused(
                    StatusCode::CONFLICT,
                    "事件刚被处理人更新，请刷新页面后再试".into(),
                )
            }
            // The pages run no lookups; said plainly should one ever reach them.
            DeskError::Upstream(_) => PageError::Refused(
                StatusCode::BAD_GATEWAY,
                "后台系统暂时无法应答，请稍后再试".into(),
            ),
            DeskError::StaleArticle { .. } => PageError::Refused(
                StatusCode::CONFLICT,
                "文章刚被更新，请刷新页面后再试".into(),
            ),
            DeskError::TicketClosed(id) => PageError::Refused(
                StatusCode::CONFLICT,
                format!(
                    "事件 #{id} 已关闭，不能再追加消息。问题又出现或有新问题，请提交新事件（可以在事件页点“提交新事件”，会注明接续 #{id}）。"
                ),
            ),
            DeskError::IdempotencyMismatch => PageError::Refused(
                StatusCode::CONFLICT,
                "这份表单已经提交过了，请到“我的事件”查看".into(),
            ),
            DeskError::Store(crate::store::StoreError::Closed) => PageError::Refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "服务正在重启，请稍后再试".into(),
            ),
            DeskError::Busy { retry_after, .. } => PageError::RetryLater(
                StatusCode::SERVICE_UNAVAILABLE,
                "服务繁忙，请稍后再试；已填写的内容保存在本机。".into(),
                retry_after,
            ),
            DeskError::Store(err) if err.trouble().is_some() => {
                tracing::warn!(error = %err, "a write from an MSS page was refused by the storage");
                let trouble = err.trouble().unwrap_or(crate::store::WriteTrouble::Busy);
                PageError::RetryLater(
                    crate::server::error::storage_status(trouble),
                    "服务暂时无法保存，请稍后再试；已填写的内容保存在本机。".into(),
                    crate::server::error::STORAGE_RETRY_AFTER_SECS,
                )
            }
            DeskError::Store(err) => {
                tracing::error!(error = %err, "store failure on an MSS page");
                PageError::Internal
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            PageError::LoginRequired { expired, next } => {
                let mut to = format!("/mss/login?next={}", views::query_escape(&next));
                if expired {
                    to.push_str("&expired=1");
                }
                return Redirect::to(&to).into_response();
            }
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                "页面已过期或表单来源不明（CSRF 校验失败）。请返回上一页刷新后重新提交，已填写的内容会保留在本机。".to_string(),
            ),
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "找不到这个页面或事件。".to_string(),
            ),
            PageError::Refused(status, message) => (status, message),
            PageError::RetryLater(status, message, secs) => {
                let mut r = error_page(status, &message);
                r.headers_mut().insert(header::RETRY_AFTER, secs.into());
                return r;
            }
            PageError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务出错了，请稍后再试；问题已记录。".to_string(),
            ),
        };
        error_page(status, &message)
    }
}

/// The page for any refusal, also used for errors raised by layers (413, 408, 405).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let mut r = (status, views::error(status, message)).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}
