//! Attachments: upload to a ticket, download by id.
//!
//! Downloads are served with `nosniff`, a sandboxing CSP and, for anything but a plain image,
//! as a download, so an uploaded HTML or SVG file can never run in the server's origin.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use percent_encoding::utf8_percent_encode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::idempotency;
use crate::domain::message::Attachment;
use crate::domain::ticket::TicketId;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Path, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The file's name as shown to people; paths and control characters are dropped.
    pub filename: String,
}

/// The upload route, which has its own (larger) body limit.
pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tickets/{id}/attachments", post(upload))
        .route("/api/v1/kb/images", post(super::kb::add_image))
}

/// Upload a file as the raw request body.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/attachments", operation_id = "upload_attachment", params(("id" = i64, Path, description = "The ticket's number"), UploadQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "makes a retried upload safe")), tag = "attachments",
    request_body(content = FileBytes, content_type = "application/octet-stream"),
    responses((status = 201, body = Attachment),
        (status = 200, description = "the first answer to this `Idempotency-Key`, replayed; nothing new was stored", body = Attachment),
        (status = 409, description = "`idempotency_key_reused` with another body", body = ErrorBody),
        (status = 413, description = "a file over `server.max_upload_bytes`", body = ErrorBody),
        (status = 422, description = "an empty file, or a picture that cannot be decoded within the limits (a fake, a bomb, over `max_image_pixels`)", body = ErrorBody)))]
pub async fn upload(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<TicketId>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    let idem = idempotency(
        &headers,
        &format!("POST /api/v1/tickets/{id}/attachments"),
        &body,
    )?;
    let created = s
        .desk
        .add_attachment(&user, id, &q.filename, body, idem)
        .await?;
    let status = super::created_status(&created);
    Ok((status, axum::Json(created.value)))
}

/// Download an attachment's bytes.
/// An attachment's bytes, as the description names them (`format: binary`).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);

#[utoipa::path(get, path = "/api/v1/attachments/{id}", operation_id = "download_attachment", params(("id" = i64, Path, description = "The attachment's number")), tag = "attachments",
    responses((status = 200, description = "The file's bytes", content_type = "application/octet-stream", body = FileBytes), (status = 404, body = ErrorBody)))]
pub async fn download(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let (a, path) = s.desk.attachment(&user, id).await?;
    serve_file(&a, &path).await
}

/// Streams a stored file with headers that keep it inert: its decided type, `nosniff`, a
/// sandboxing CSP, and `attachment` disposition for anything but an image.
pub async fn serve_file(a: &Attachment, path: &std::path::Path) -> ApiResult<Response> {
    serve_stored(
        &format!("attachment {}", a.id),
        &a.filename,
        &a.content_type,
        path,
    )
    .await
}

/// [`serve_file`] for any stored file: `what` it is (for the log and a 404 when its bytes
/// are gone), its name as shown, its decided type, its path.
pub async fn serve_stored(
    what: &str,
    filename: &str,
    content_type: &str,
    path: &std::path::Path,
) -> ApiResult<Response> {
    let missing = |e: std::io::Error| {
        tracing::error!(error = %e, what, "stored file missing");
        ApiError::not_found(format!("{what} has no stored file"))
    };
    let file = tokio::fs::File::open(path).await.map_err(missing)?;
    let size = file.metadata().await.map_err(missing)?.len();
    let inline = content_type.starts_with("image/");
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        utf8_percent_encode(filename, crate::server::FILENAME_ENCODE)
    );
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
