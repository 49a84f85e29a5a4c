//! `/api/v1/kb/articles`: search the knowledge base, read an article, say it helped.

use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::IntoParams;

use super::attachments::FileBytes;
use crate::api::{KbArticle, KbArticleBody, KbChanges, KbImage, KbPage, KbRevision};
use crate::domain::matcher::query::MAX_QUERY_CHARS;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Json, Path, Query};
use crate::server::no_store;

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

/// A search of the knowledge base.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// What to look for: characters, full pinyin or initials (`khsb` finds 开户失败), words
    /// (near spellings too), `"exact phrases"`, `sys:交易` and `tag:…` filters. Empty or
    /// absent: every article, hot ones first.
    #[param(max_length = 1000)]
    pub q: Option<String>,
    /// Only articles of this system key.
    pub system: Option<String>,
    /// Only articles written from this ticket.
    #[param(minimum = 1)]
    pub ticket: Option<i64>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
}

/// Search the articles the caller may read (submitters: those meant for them), best first.
#[utoipa::path(get, path = "/api/v1/kb/articles", operation_id = "search_kb", params(SearchQuery), tag = "kb",
    responses((status = 200, body = KbPage), (status = 400, body = ErrorBody)))]
pub async fn search(
    State(s): State<AppState>,
    Caller(user): Caller,
    Query(q): Query<SearchQuery>,
) -> ApiResult<impl IntoResponse> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_LIMIT}"
        )));
    }
    if q.ticket.is_some_and(|t| t < 1) {
        return Err(ApiError::bad_request(
            "ticket is a ticket's number (1 or more)",
        ));
    }
    let text = q.q.as_deref().unwrap_or("");
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(format!(
            "q is at most {MAX_QUERY_CHARS} characters"
        )));
    }
    let page = s
        .desk
        .kb_page(&user, text, q.system.as_deref(), q.ticket, limit)
        .await?;
    Ok(([no_store()], axum::Json(page)))
}

/// One article, counted as read (views feed the help center's hot issues). An article meant
/// for handlers is not found for a submitter.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}", operation_id = "get_kb_article", params(("id" = i64, Path, description = "The article's number")), tag = "kb",
    responses((status = 200, body = KbArticle), (status = 404, body = ErrorBody),
        (status = 507, description = "`disk_full`: the read could not be counted; nothing was written", body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok((
        [no_store()],
        axum::Json(s.desk.kb_article(&user, id).await?),
    ))
}

/// Say the article helped; the article with its new count.
#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/helpful", operation_id = "mark_kb_helpful", params(("id" = i64, Path, description = "The article's number")), tag = "kb",
    responses((status = 200, body = KbArticle), (status = 404, body = ErrorBody)))]
pub async fn helpful(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok((
        [no_store()],
        axum::Json(s.desk.kb_helpful(&user, id).await?),
    ))
}

/// An article's past versions, newest first: each as its file, with who replaced it and when
/// (handlers).
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/revisions", operation_id = "kb_revisions", params(("id" = i64, Path, description = "The article's number")), tag = "kb",
    responses((status = 200, body = Vec<KbRevision>), (status = 403, description = "a submitter's token: handlers only", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revisions(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok((
        [no_store()],
        axum::Json(s.desk.kb_revisions(&user, id).await?),
    ))
}

/// Where a copy of the knowledge base starts reading changes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// The `until` of the previous answer; absent or 0 for every article.
    #[param(minimum = 0)]
    pub since: Option<i64>,
}

/// The articles saved since `since`, whole (a workstation's copy for searching offline).
#[utoipa::path(get, path = "/api/v1/kb/changes", operation_id = "kb_changes", params(ChangesQuery), tag = "kb",
    responses((status = 200, body = KbChanges)))]
pub async fn changes(
    State(s): State<AppState>,
    Caller(user): Caller,
    Query(q): Query<ChangesQuery>,
) -> ApiResult<impl IntoResponse> {
    let since = q.since.unwrap_or(0);
    if since < 0 {
        return Err(ApiError::bad_request(
            "since is the `until` of an earlier answer (0 or more)",
        ));
    }
    Ok((
        [no_store()],
        axum::Json(s.desk.kb_changes(&user, since).await?),
    ))
}

/// Write a new article (handlers). The author is the caller.
#[utoipa::path(post, path = "/api/v1/kb/articles", operation_id = "create_kb_article", request_body = KbArticleBody, tag = "kb",
    responses((status = 201, body = KbArticle), (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 409, description = "`conflict`: the slug is another article's, a source ticket does not exist, or a picture (`/kb/images/{id}`) is not kept", body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<KbArticleBody>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let article = s.desk.kb_create(&user, body).await?;
    let location = format!("/api/v1/kb/articles/{}", article.id);
    Ok((
        axum::http::StatusCode::CREATED,
        [
            no_store(),
            (
                axum::http::header::LOCATION,
                location.parse().expect("a path is a header value"),
            ),
        ],
        axum::Json(article),
    ))
}

/// Replace an article (handlers); `version` must be the one last read. The previous text is
/// kept as a revision.
#[utoipa::path(put, path = "/api/v1/kb/articles/{id}", operation_id = "update_kb_article", params(("id" = i64, Path, description = "The article's number")), request_body = KbArticleBody, tag = "kb",
    responses((status = 200, body = KbArticle), (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 409, description = "`version_conflict`: changed since it was read; or `conflict`: another slug, a source ticket that does not exist, or a picture (`/kb/images/{id}`) that is not kept", body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<KbArticleBody>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok((
        [no_store()],
        axum::Json(s.desk.kb_update(&user, id, body).await?),
    ))
}

/// A picture's name as uploaded.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImageQuery {
    /// The picture's file name, its alt text in `markdown`; paths and control characters are
    /// dropped.
    #[param(min_length = 1, max_length = 255)]
    pub filename: String,
}

/// Keep a picture for articles' steps (handlers): the raw PNG, JPEG or WebP bytes. It is
/// decoded within the upload limits and re-encoded (EXIF dropped); the same bytes are kept
/// once. Show it in an article with the answer's `markdown`.
#[utoipa::path(post, path = "/api/v1/kb/images", operation_id = "add_kb_image", params(ImageQuery), tag = "kb",
    request_body(content = FileBytes, content_type = "image/*", description = "a PNG, JPEG or WebP picture's bytes (the type is read from them, not from `Content-Type`)"),
    responses((status = 201, body = KbImage), (status = 200, description = "these bytes were kept already: that picture", body = KbImage),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 413, description = "a file over `server.max_upload_bytes`", body = ErrorBody),
        (status = 422, description = "not a picture, or one that cannot be decoded within the limits", body = ErrorBody)))]
pub async fn add_image(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ImageQuery>,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let (image, new) = s.desk.kb_add_image(&user, &q.filename, body).await?;
    let status = if new {
        axum::http::StatusCode::CREATED
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, [no_store()], axum::Json(image)))
}

/// A picture's bytes: handlers any, submitters one an article meant for them shows.
#[utoipa::path(get, path = "/api/v1/kb/images/{id}", operation_id = "get_kb_image", params(("id" = i64, Path, description = "The picture's number")), tag = "kb",
    responses((status = 200, description = "The picture", content_type = "image/png", body = FileBytes), (status = 404, body = ErrorBody)))]
pub async fn image(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::response::Response> {
    let (kept, path) = s.desk.kb_image(&user, id).await?;
    serve_picture(&kept, &path).await
}

/// A kept picture's bytes, with the headers that keep an attachment inert.
pub async fn serve_picture(
    kept: &crate::store::kb_images::KbImage,
    path: &std::path::Path,
) -> ApiResult<axum::response::Response> {
    let what = format!("picture {}", kept.id);
    super::attachments::serve_stored(&what, &kept.filename, &kept.content_type, path).await
}
