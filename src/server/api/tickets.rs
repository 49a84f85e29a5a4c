//! `/api/v1/tickets`: list, create, get, patch, transitions, assignment, links, reveal.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::idempotency;
use crate::api::{ApproveBody, AssignBody, LinkBody, TicketPage, TicketPatch, TransitionBody};
use crate::domain::ticket::{Category, Customer, Status, TicketId};
use crate::domain::validate::NewTicket;
use crate::domain::view::TicketView;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Json, Path, Query};
use crate::server::no_store;
use crate::store::audit::AuditEntry;
use crate::store::tickets::TicketFilter;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// Filters of the ticket list. Lists are comma-separated.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Comma-separated statuses, e.g. `new,triaging`.
    pub status: Option<String>,
    pub system: Option<String>,
    /// Comma-separated categories, e.g. `data,program`.
    pub category: Option<String>,
    /// A username, `me`, or `none` for unassigned.
    pub assignee: Option<String>,
    /// RFC 3339; tickets updated at or after it.
    pub updated_since: Option<DateTime<Utc>>,
    /// RFC 3339; tickets created at or after it (a report period's start).
    pub created_from: Option<DateTime<Utc>>,
    /// RFC 3339; tickets created before it (a report period's end).
    pub created_to: Option<DateTime<Utc>>,
    /// Only tickets not yet resolved or closed.
    pub open: Option<bool>,
    /// Search, up to 100 characters: every word in the texts, or a ticket number, or a
    /// customer's full account, phone, ID number or name, or an ITSM reference.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// 0 to 2^63−1, default 0.
    pub offset: Option<usize>,
}

/// A comma-separated list of wire words, each exactly as the description lists it (an empty
/// item or a padded one is refused, not skipped: the description's `enum` does not hold it).
/// An empty value is refused too: the description asks for at least one word, so a client
/// that means "any" leaves the parameter out.
fn words<T: std::str::FromStr<Err = crate::domain::ticket::UnknownWord>>(
    list: &Option<String>,
) -> ApiResult<Vec<T>> {
    list.iter()
        .flat_map(|s| s.split(','))
        .map(|s| {
            s.parse::<T>()
                .map_err(|e| ApiError::bad_request(e.to_string()))
        })
        .collect()
}

impl ListQuery {
    fn filter(&self, me: &str) -> ApiResult<TicketFilter> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_request(format!(
                "limit must be 1 to {MAX_LIMIT}"
            )));
        }
        let offset = self.offset.unwrap_or(0);
        // The database counts in i64; a larger offset would wrap to a negative one, which
        // SQLite reads as none, and answer the first page.
        if i64::try_from(offset).is_err() {
            return Err(ApiError::bad_request(format!(
                "offset must be 0 to {}",
                i64::MAX
            )));
        }
        if self.q.as_deref().is_some_and(|q| q.chars().count() > 100) {
            return Err(ApiError::bad_request("q is at most 100 characters"));
        }
        Ok(TicketFilter {
            text: self.q.clone(),
            statuses: words::<Status>(&self.status)?,
            systems: self
                .system
                .iter()
                .flat_map(|s| s.split(','))
                .map(|s| s.trim().to_string())
                .collect(),
            categories: words::<Category>(&self.category)?,
            assignee: match self.assignee.as_deref() {
                None => None,
                Some("none") => Some(None),
                Some("me") => Some(Some(me.to_string())),
                Some(name) => Some(Some(name.to_string())),
            },
            submitter: None,
            updated_since: self.updated_since,
            created_from: self.created_from,
            created_to: self.created_to,
            open_only: self.open.unwrap_or(false),
            limit,
            offset,
        })
    }
}

/// List tickets, most recently updated first. Submitters see only their own.
#[utoipa::path(get, path = "/api/v1/tickets", operation_id = "list_tickets", params(ListQuery), tag = "tickets",
    responses((status = 200, body = TicketPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(user): Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let filter = q.filter(&user.username)?;
    Ok((
        [no_store()],
        axum::Json(s.desk.tickets(&user, filter).await?),
    ))
}

/// Create a ticket. With `Idempotency-Key`, a retry returns the first answer.
#[utoipa::path(post, path = "/api/v1/tickets", operation_id = "create_ticket", request_body = NewTicket, tag = "tickets",
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retried create safe")),
    responses((status = 201, body = TicketView), (status = 200, description = "the first answer to this `Idempotency-Key`, replayed; nothing new was created", body = TicketView),
        (status = 409, description = "`conflict`: a ticket of this channel already carries this `external_ref`; or `idempotency_key_reused` with another body", body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(user): Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    let Json(new) = super::parse_json::<NewTicket>(&headers, &body)?;
    let idem = idempotency(&headers, "POST /api/v1/tickets", &body)?;
    let created = s.desk.create_ticket(&user, new, idem).await?;
    let status = super::created_status(&created);
    Ok((status, [no_store()], axum::Json(created.value)))
}

/// One ticket (customer data masked).
#[utoipa::path(get, path = "/api/v1/tickets/{id}", operation_id = "get_ticket", params(("id" = i64, Path, description = "The ticket's number")), tag = "tickets",
    responses((status = 200, body = TicketView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<TicketId>,
) -> ApiResult<impl IntoResponse> {
    Ok(([no_store()], axum::Json(s.desk.ticket(&user, id).await?)))
}

/// Change fields; `version` must be the one last seen (409 with the current ticket if not).
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", operation_id = "patch_ticket", params(("id" = i64, Path, description = "The ticket's number")), request_body = TicketPatch, tag = "tickets",
    responses((status = 200, body = TicketView), (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 409, description = "`version_conflict` (with `current`), or `conflict`: the assignee is not a handler", body = ErrorBody)))]
pub async fn patch(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<TicketId>,
    Json(p): Json<TicketPatch>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok(axum::Json(s.desk.patch_ticket(&user, id, p).await?))
}

/// Move a ticket through its lifecycle (409 with the allowed moves when refused).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/transitions", operation_id = "transition_ticket", params(("id" = i64, Path, description = "The ticket's number")), request_body = TransitionBody, tag = "tickets",
    responses((status = 200, body = TicketView), (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 409, description = "`invalid_transition`: the ticket's status does not allow the move (the message names the allowed ones), or `version_conflict`", body = ErrorBody),
        (status = 422, description = "`invalid_transition`: the body lacks what the move needs (a transfer's target and hand-off note, a resolution), or another rule of the body", body = ErrorBody)))]
pub async fn transition(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<TicketId>,
    Json(b): Json<TransitionBody>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok(axum::Json(s.desk.transition(&user, id, b).await?))
}

/// Assign to a handler, or unassign with null.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/assign", operation_id = "assign_ticket", params(("id" = i64, Path, description = "The ticket's number")), request_body = AssignBody, tag = "tickets",
    responses((status = 200, body = TicketView), (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 409, description = "`conflict`: the assignee is not a handler; or `version_conflict`", body = ErrorBody)))]
pub async fn assign(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<TicketId>,
    Json(b): Json<AssignBody>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok(axum::Json(s.desk.assign(&user, id, b).await?))
}

/// Link as a duplicate of another ticket or to a parent incident (null target removes it).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/links", operation_id = "link_ticket", params(("id" = i64, Path, description = "The ticket's number")), request_body = LinkBody, tag = "tickets",
    responses((status = 200, body = TicketView), (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 409, description = "`conflict`: the target does not exist, is the ticket itself or would close a cycle; or `version_conflict`", body = ErrorBody)))]
pub async fn link(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<TicketId>,
    Json(b): Json<LinkBody>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok(axum::Json(s.desk.link(&user, id, b).await?))
}

/// A second handler approves the data-fix script of an ops transfer (409 for the script's
/// author, a non-ops ticket, or a second approval).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/approve-script", operation_id = "approve_script", params(("id" = i64, Path, description = "The ticket's number")), request_body = ApproveBody, tag = "tickets",
    responses((status = 200, body = TicketView), (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 409, description = "`approval_refused`: not an ops transfer, the script's own author, or approved already; or `version_conflict`", body = ErrorBody)))]
pub async fn approve_script(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<TicketId>,
    Json(b): Json<ApproveBody>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok(axum::Json(
        s.desk.approve_script(&user, id, b.version).await?,
    ))
}

/// The full customer block for the handler's detail view. Every call is audited.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/customer", operation_id = "reveal_customer", params(("id" = i64, Path, description = "The ticket's number")), tag = "tickets",
    responses((status = 200, body = Customer), (status = 403, description = "a submitter's token: handlers only", body = ErrorBody)))]
pub async fn customer(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<TicketId>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok((
        [no_store()],
        axum::Json(s.desk.reveal_customer(&user, id).await?),
    ))
}

/// Who changed or revealed what on a ticket.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/audit", operation_id = "ticket_audit", params(("id" = i64, Path, description = "The ticket's number")), tag = "tickets",
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, description = "a submitter's token: handlers only", body = ErrorBody)))]
pub async fn audit(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<TicketId>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok(axum::Json(s.desk.audit_trail(&user, id).await?))
}

/// Open tickets that are probably the same problem, most alike first, at most 10 (handlers
/// only): the same customer by account or phone, or a similar title and description (the same
/// system counting a little more).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/similar", operation_id = "similar_tickets", params(("id" = i64, Path, description = "The ticket's number")), tag = "tickets",
    responses((status = 200, body = Vec<i64>), (status = 403, description = "a submitter's token: handlers only", body = ErrorBody)))]
pub async fn similar(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<TicketId>,
) -> ApiResult<impl IntoResponse> {
    Ok(([no_store()], axum::Json(s.desk.similar(&user, id).await?)))
}
