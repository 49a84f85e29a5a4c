//! `/api/v1/kb/articles`: search the knowledge base, read an article, say it helped.

use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::{KbArticle, KbPage};
use crate::domain::matcher::query::MAX_QUERY_CHARS;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Path, Query};
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
    let text = q.q.as_deref().unwrap_or("");
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(format!(
            "q is at most {MAX_QUERY_CHARS} characters"
        )));
    }
    let page = s
        .desk
        .kb_page(&user, text, q.system.as_deref(), limit)
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
