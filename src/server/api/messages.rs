//! `/api/v1/tickets/{id}/messages`: the conversation and internal notes.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;

use super::idempotency;
use crate::api::{NewMessage, ReadMarker, ReadMarkerBody, Unread};
use crate::domain::message::Message;
use crate::domain::ticket::TicketId;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiResult, ErrorBody};
use crate::server::extract::Path;
use crate::server::no_store;

/// The conversation in order; internal notes only for handlers.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/messages", operation_id = "list_messages", params(("id" = i64, Path, description = "The ticket's number")), tag = "messages",
    responses((status = 200, body = Vec<Message>)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<TicketId>,
) -> ApiResult<impl IntoResponse> {
    Ok(([no_store()], axum::Json(s.desk.messages(&user, id).await?)))
}

/// Reply to the submitter, or add an internal note (`internal: true`, handlers only). A
/// submitter's message reopens their resolved ticket; on a closed one it is refused.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/messages", operation_id = "create_message", request_body = NewMessage, tag = "messages",
    params(("id" = i64, Path, description = "The ticket's number"), ("Idempotency-Key" = Option<String>, Header, description = "makes a retried post safe")),
    responses((status = 201, body = Message),
        (status = 200, description = "the first answer to this `Idempotency-Key`, replayed; nothing new was posted", body = Message),
        (status = 403, description = "an internal note from a submitter", body = ErrorBody),
        (status = 409, description = "`ticket_closed`: a submitter's message on a closed ticket; or `idempotency_key_reused` with another body", body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<TicketId>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    let crate::server::extract::Json(new) = super::parse_json::<NewMessage>(&headers, &body)?;
    let idem = idempotency(
        &headers,
        &format!("POST /api/v1/tickets/{id}/messages"),
        &body,
    )?;
    let created = s.desk.add_message(&user, id, new, idem).await?;
    let status = super::created_status(&created);
    Ok((status, axum::Json(created.value)))
}

/// The caller's read marker on the ticket and its unread count.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/read-marker", operation_id = "get_read_marker", params(("id" = i64, Path, description = "The ticket's number")), tag = "messages",
    responses((status = 200, body = ReadMarker)))]
pub async fn read_marker(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<TicketId>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(s.desk.read_marker(&user, id).await?))
}

/// Marks the conversation read up to `message_id` (never backwards).
#[utoipa::path(put, path = "/api/v1/tickets/{id}/read-marker", operation_id = "mark_read", params(("id" = i64, Path, description = "The ticket's number")), request_body = ReadMarkerBody, tag = "messages",
    responses((status = 200, body = ReadMarker)))]
pub async fn mark_read(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<TicketId>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    let crate::server::extract::Json(b) = super::parse_json::<ReadMarkerBody>(&headers, &body)?;
    if b.message_id < 0 {
        return Err(crate::server::error::ApiError::bad_request(
            "message_id must not be negative",
        ));
    }
    s.desk.mark_read(&user, id, b.message_id).await?;
    Ok(axum::Json(s.desk.read_marker(&user, id).await?))
}

/// Open tickets with messages the caller has not read (a submitter's for handlers, the
/// handlers' public answers for a submitter), for unread badges that outlive a session.
#[utoipa::path(get, path = "/api/v1/unread", operation_id = "list_unread", tag = "messages",
    responses((status = 200, body = Vec<Unread>)))]
pub async fn unread(
    State(s): State<AppState>,
    Caller(user): Caller,
) -> ApiResult<impl IntoResponse> {
    Ok(([no_store()], axum::Json(s.desk.unread_open(&user).await?)))
}
