//! `/api/v1/lookups`: a customer's log lines from the configured sources, streamed as JSON
//! lines while the sources answer. A client that goes away cancels its lookup.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::api::{DataLookupRequest, DataRows, Found, LookupRequest, QueryInfo, SourceInfo};
use crate::lookups::sources;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiResult, ErrorBody};
use crate::server::extract::Json;
use crate::server::no_store;

/// Finds waiting for a slow reader before the sources pause.
const IN_FLIGHT: usize = 256;

/// The log sources a lookup can search: names and kinds only (handlers only).
#[utoipa::path(get, path = "/api/v1/lookups/sources", operation_id = "lookup_sources", tag = "lookups",
    responses((status = 200, body = Vec<SourceInfo>), (status = 403, description = "a submitter's token: handlers only", body = ErrorBody)))]
pub async fn list_sources(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<impl IntoResponse> {
    caller.handler()?;
    Ok(axum::Json(s.desk.settings.lookups.infos()))
}

/// Search the log sources for a customer's lines (handlers only). The answer is JSON lines
/// (`application/x-ndjson`), one [`Found`] each as it is found: a source's lines newest
/// first and its per-minute counts, then its `done` or `failed`. Every lookup is in the audit
/// log: who ran it, for which ticket and identifiers, on which sources, and how many lines
/// each gave.
#[utoipa::path(post, path = "/api/v1/lookups", operation_id = "run_lookup", request_body = LookupRequest, tag = "lookups",
    responses((status = 200, content_type = "application/x-ndjson", body = Found),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such ticket", body = ErrorBody),
        (status = 409, description = "`conflict`: no log sources are configured", body = ErrorBody),
        (status = 422, description = "a window that ends before it starts, a regex that does not compile, a limit out of range, an unknown source", body = ErrorBody)))]
pub async fn run(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<LookupRequest>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let lookup = s.desk.begin_lookup(&user, req).await?;
    let (found_tx, found_rx) = mpsc::channel::<Found>(IN_FLIGHT);
    let (out_tx, out_rx) = mpsc::channel::<Found>(IN_FLIGHT);
    let desk = s.desk.clone();
    tokio::spawn(async move {
        let search = tokio::spawn(sources::search(lookup.sources, lookup.query, found_tx));
        // Count what reaches the client for the audit, and stop the sources when it leaves.
        let mut lines: BTreeMap<String, usize> = BTreeMap::new();
        let mut found_rx = found_rx;
        let mut finished = true;
        while let Some(found) = found_rx.recv().await {
            let source = match &found {
                Found::Line(l) => Some(l.source.clone()),
                _ => None,
            };
            if out_tx.send(found).await.is_err() {
                finished = false;
                break;
            }
            if let Some(source) = source {
                *lines.entry(source).or_default() += 1;
            }
        }
        drop(found_rx);
        let _ = search.await;
        if let Err(e) = desk
            .finish_lookup(&user, lookup.ticket, lines, finished)
            .await
        {
            tracing::warn!(error = %e, "recording a lookup's answer in the audit log");
        }
    });
    let body = ReceiverStream::new(out_rx).map(|found| {
        let mut line = serde_json::to_vec(&found).unwrap_or_default();
        line.push(b'\n');
        Ok::<_, std::convert::Infallible>(line)
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        [no_store()],
        Body::from_stream(body),
    ))
}

/// The named queries of the data sources (business databases): what `POST
/// /api/v1/lookups/data` can run (handlers only).
#[utoipa::path(get, path = "/api/v1/lookups/queries", operation_id = "lookup_queries", tag = "lookups",
    responses((status = 200, body = Vec<QueryInfo>), (status = 403, description = "a submitter's token: handlers only", body = ErrorBody)))]
pub async fn list_queries(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<impl IntoResponse> {
    caller.handler()?;
    Ok(axum::Json(s.desk.settings.lookups.queries()))
}

/// Run a data source's named query for a customer (handlers only), read-only in the
/// database, rows capped, customer columns masked. The identifier is the one given, else the
/// ticket's customer's; the lookup is in the audit log with the identifier and the row count.
#[utoipa::path(post, path = "/api/v1/lookups/data", operation_id = "run_data_lookup", request_body = DataLookupRequest, tag = "lookups",
    responses((status = 200, body = DataRows),
        (status = 403, description = "a submitter's token: handlers only", body = ErrorBody),
        (status = 404, description = "no such ticket", body = ErrorBody),
        (status = 409, description = "`conflict`: no data source is configured; or `conflicting`: the ticket's customer has no identifier of the kind the query looks up by", body = ErrorBody),
        (status = 422, description = "an unknown query, no identifier of the kind the query looks up by and no ticket, or one that is blank or over 64 characters", body = ErrorBody),
        (status = 502, description = "`source_failed`: the database could not answer (unreachable, the query timed out, a write refused); the message says which and why", body = ErrorBody)))]
pub async fn run_data(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<DataLookupRequest>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    Ok((
        [no_store()],
        axum::Json(s.desk.data_lookup(&user, req).await?),
    ))
}
