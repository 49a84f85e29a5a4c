//! One error type for every API answer: `{"error": {"code", "message"}}` with the right status.
//! Internal detail goes to the log, never to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::validate::FieldError;
use crate::domain::view::TicketView;
use crate::service::DeskError;
use crate::store::WriteTrouble;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<FieldError>,
    pub current: Option<Box<TicketView>>,
    /// Seconds for a `Retry-After` header: the refusal passes, the client should try again.
    pub retry_after: Option<u64>,
}

/// How long a client is told to wait after a storage refusal (disk full, busy, read-only).
pub const STORAGE_RETRY_AFTER_SECS: u64 = 5;

/// The status of a write the storage's state refused, for the API and the pages alike: 507
/// for a full disk, 503 for a held lock or a read-only data dir.
pub fn storage_status(trouble: WriteTrouble) -> StatusCode {
    match trouble {
        WriteTrouble::DiskFull => StatusCode::INSUFFICIENT_STORAGE,
        WriteTrouble::Busy | WriteTrouble::ReadOnly => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    /// Field-level problems of a refused input, in Chinese and English.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// On a version conflict: the ticket as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Box<TicketView>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
            current: None,
            retry_after: None,
        }
    }

    /// This error with a `Retry-After` of `secs`.
    pub fn retry_after(self, secs: u64) -> Self {
        Self {
            retry_after: Some(secs),
            ..self
        }
    }

    /// A write refused by the storage's state rather than the request: 507 for a full disk,
    /// 503 for a held lock or a read-only data dir; both say when to try again.
    pub fn storage(trouble: WriteTrouble) -> Self {
        let message = match trouble {
            WriteTrouble::DiskFull => "the server's disk is full; nothing was written, retry later",
            WriteTrouble::Busy => {
                "the database is locked by another process; nothing was written, retry shortly"
            }
            WriteTrouble::ReadOnly => {
                "the server's data cannot be written at the moment; nothing was written, retry later"
            }
        };
        Self::new(storage_status(trouble), trouble.code(), message)
            .retry_after(STORAGE_RETRY_AFTER_SECS)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}

impl From<DeskError> for ApiError {
    fn from(e: DeskError) -> Self {
        let message = e.to_string();
        match e {
            DeskError::NotFound(_) => ApiError::not_found(message),
            DeskError::Forbidden(_) => ApiError::forbidden(message),
            DeskError::Validation(v) => ApiError {
                fields: v.0,
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    message,
                )
            },
            // A move the ticket's status does not allow conflicts with its state; a body that
            // lacks what the move needs (a hand-off note, a resolution) is invalid whatever
            // the state, as the description's `oneOf` says.
            DeskError::Transition(t) => {
                let status = if t.depends_on_status() {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                ApiError::new(status, "invalid_transition", message)
            }
            DeskError::Approval(_) => {
                ApiError::new(StatusCode::CONFLICT, "approval_refused", message)
            }
            DeskError::StaleVersion { current } => ApiError {
                current: Some(current),
                ..ApiError::new(StatusCode::CONFLICT, "version_conflict", message)
            },
            DeskError::StaleArticle { .. } => {
                ApiError::new(StatusCode::CONFLICT, "version_conflict", message)
            }
            DeskError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            DeskError::Conflicting(v) => ApiError {
                fields: v.0,
                ..ApiError::new(StatusCode::CONFLICT, "conflict", message)
            },
            DeskError::TicketClosed(_) => {
                ApiError::new(StatusCode::CONFLICT, "ticket_closed", message)
            }
            // The key's history, not the request, refuses it: 409, like every refusal by state.
            DeskError::IdempotencyMismatch => {
                ApiError::new(StatusCode::CONFLICT, "idempotency_key_reused", message)
            }
            DeskError::Store(crate::store::StoreError::Closed) => {
                ApiError::unavailable("the server is shutting down")
            }
            DeskError::Upstream(_) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "source_failed", message)
            }
            DeskError::Busy { retry_after, .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
                    .retry_after(retry_after)
            }
            DeskError::Store(err) if err.trouble().is_some() => {
                let trouble = err.trouble().unwrap_or(WriteTrouble::ReadOnly);
                tracing::warn!(error = %err, "a write was refused by the storage");
                ApiError::storage(trouble)
            }
            DeskError::Store(err) => {
                tracing::error!(error = %err, "store failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; see the server log",
                )
            }
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        DeskError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                fields: self.fields,
                current: self.current,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
