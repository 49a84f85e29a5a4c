//! `/api/v1/events` (Server-Sent Events) and `/api/v1/changes` (batch catch-up).
//!
//! Each SSE event's `id:` is the change sequence number, so a client that reconnects with
//! `Last-Event-ID` (or `?since=`) gets exactly what it missed, read from the change table, and
//! then the live feed. A subscriber that falls behind the in-memory buffer catches up from the
//! table the same way; nothing is skipped. Comments every `sse_heartbeat_secs` keep proxies and
//! jump hosts from closing an idle stream.
//!
//! A stream outlives the request that checked its token, so it checks the token again whenever
//! the store's credentials epoch moves ([`Store::credentials`]) and ends when the token was
//! revoked, its user disabled or no longer a handler or admin. That is at once for a change made
//! by this server process, and within a second for one made by another process on the same data
//! dir (`opsdesk admin user token`), which the store notices by polling `data_version`; a change
//! committed after the revocation is never sent, since the store publishes it only after
//! noticing the revocation.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures::Stream;
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, broadcast, watch};
use utoipa::IntoParams;

use crate::api::changes::RESET_EVENT;
use crate::api::{ChangePage, ResetNotice};
use crate::server::AppState;
use crate::server::auth::{Caller, bearer};
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::Query;
use crate::server::metrics::Metrics;
use crate::store::{Change, Store, changes, users};

/// Changes read from the table per catch-up query.
const CATCH_UP_PAGE: usize = 500;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/events", get(events))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Resume after this sequence number (same as the `Last-Event-ID` header, which wins).
    pub since: Option<i64>,
}

/// The change stream: `event:` is the change kind, `data:` the change as JSON.
#[utoipa::path(get, path = "/api/v1/events", operation_id = "stream_events", params(EventsQuery), tag = "changes",
    params(("Last-Event-ID" = Option<i64>, Header, description = "resume after this sequence number")),
    responses((status = 200, content_type = "text/event-stream", body = Change), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn events(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.handler()?;
    let token = bearer(&headers)?;
    let resume = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::bad_request("Last-Event-ID must be a change sequence number")
                })?,
        ),
        None => q.since,
    };
    if resume.is_some_and(|n| n < 0) {
        return Err(ApiError::bad_request(
            "since (or Last-Event-ID) must be a change sequence number, 0 or more",
        ));
    }
    let permit = s
        .streams
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::unavailable("too many open event streams; retry shortly"))?;
    // Subscribe before reading the position, so nothing committed in between is missed.
    let live = s.desk.store.subscribe();
    let latest = s.desk.store.read(changes::latest).await?;
    if let Some(since) = resume
        && since > latest
    {
        // The client knows changes this server never made (its database was restored from
        // a backup, or it is another server behind the same URL): resuming would skip every
        // change up to that number, so it is told to start over instead.
        return Ok(reset(since, latest).into_response());
    }
    let last = resume.unwrap_or(latest);
    let heartbeat = Duration::from_secs(s.desk.settings.server.sse_heartbeat_secs.max(1));
    let feed = Feed {
        store: s.desk.store.clone(),
        live,
        last,
        backlog: VecDeque::new(),
        catching_up: true,
        stopping: s.stopping.clone(),
        access: Access::new(&s, token, user),
        _permit: StreamGuard::new(permit, s.metrics.clone()),
    };
    Ok(Sse::new(feed.into_stream())
        .keep_alive(KeepAlive::new().interval(heartbeat).text("heartbeat"))
        .into_response())
}

/// The whole answer to a resume past the newest change: one `reset` event, then the end.
fn reset(since: i64, latest: i64) -> impl IntoResponse {
    let notice = ResetNotice {
        since,
        latest,
        message: format!(
            "change {since} is past this server's newest ({latest}): resync from GET /api/v1/changes?since=0"
        ),
    };
    let event = Event::default()
        .event(RESET_EVENT)
        .json_data(&notice)
        .unwrap_or_else(|_| Event::default().event(RESET_EVENT));
    Sse::new(futures::stream::once(
        async move { Ok::<_, Infallible>(event) },
    ))
}

/// Keeps the stream's permit and the open-streams gauge for as long as the stream lives.
pub(super) struct StreamGuard {
    _permit: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl StreamGuard {
    pub(super) fn new(permit: OwnedSemaphorePermit, metrics: Arc<Metrics>) -> Self {
        metrics.event_streams.fetch_add(1, Ordering::Relaxed);
        Self {
            _permit: permit,
            metrics,
        }
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.metrics.event_streams.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Feed {
    store: Store,
    live: broadcast::Receiver<Arc<Change>>,
    /// The newest sequence number sent (or skipped as already known).
    last: i64,
    backlog: VecDeque<Change>,
    catching_up: bool,
    stopping: watch::Receiver<bool>,
    access: Access,
    _permit: StreamGuard,
}

/// Who opened a stream, checked again whenever the store's credentials epoch moves.
pub(super) struct Access {
    store: Store,
    token: String,
    user_id: i64,
    username: String,
    pub(super) epoch: watch::Receiver<u64>,
}

impl Access {
    /// Access for a stream just opened with `token`, checked as `user`.
    pub(super) fn new(s: &AppState, token: String, user: crate::domain::people::User) -> Access {
        let mut epoch = s.desk.store.credentials();
        // The token was checked before the stream's subscription; a revocation in between
        // must not slip through, so the first step checks it once more.
        epoch.mark_changed();
        Access {
            store: s.desk.store.clone(),
            token,
            user_id: user.id,
            username: user.username,
            epoch,
        }
    }

    /// Whether the epoch moved since the last look (or the store is gone, which ends the
    /// stream too).
    pub(super) fn to_check(&self) -> bool {
        self.epoch.has_changed().unwrap_or(true)
    }

    /// Whether the token still belongs to the same enabled user, who still works tickets.
    pub(super) async fn still_granted(&mut self) -> bool {
        self.epoch.borrow_and_update();
        let token = self.token.clone();
        let granted = match self
            .store
            .read(move |conn| users::by_token(conn, &token))
            .await
        {
            Ok(Some(u)) => u.id == self.user_id && u.role.works_tickets(),
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "cannot check an event stream's token; ending it");
                false
            }
        };
        if !granted {
            tracing::info!(username = %self.username, "event stream ended: its access was revoked");
        }
        granted
    }
}

fn event(change: &Change) -> Event {
    Event::default()
        .id(change.seq.to_string())
        .event(change.kind.clone())
        .json_data(change)
        .unwrap_or_else(|_| Event::default().comment("unencodable change"))
}

impl Feed {
    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        futures::stream::unfold(self, |mut feed| async move {
            let change = feed.next_change().await?;
            Some((Ok(event(&change)), feed))
        })
    }

    /// The next change to send, or None when the stream should end.
    async fn next_change(&mut self) -> Option<Change> {
        loop {
            if *self.stopping.borrow() {
                return None;
            }
            if self.access.to_check() && !self.access.still_granted().await {
                return None;
            }
            if let Some(c) = self.backlog.pop_front() {
                self.last = c.seq;
                return Some(c);
            }
            if self.catching_up {
                let since = self.last;
                match self
                    .store
                    .read(move |conn| changes::since(conn, since, CATCH_UP_PAGE))
                    .await
                {
                    Ok(page) if page.is_empty() => self.catching_up = false,
                    Ok(page) => self.backlog.extend(page),
                    Err(e) => {
                        tracing::warn!(error = %e, "event stream catch-up failed");
                        return None;
                    }
                }
                continue;
            }
            tokio::select! {
                // A revocation is looked at before any change that arrived with it.
                biased;
                _ = self.stopping.changed() => return None,
                moved = self.access.epoch.changed() => {
                    if moved.is_err() || !self.access.still_granted().await {
                        return None;
                    }
                }
                received = self.live.recv() => match received {
                    Ok(c) if c.seq <= self.last => continue,
                    Ok(c) if c.seq == self.last + 1 => {
                        self.last = c.seq;
                        return Some((*c).clone());
                    }
                    // A gap (a job's rolled-back sequence, or a change that raced our position
                    // read): let the table say what is really there.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => self.catching_up = true,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// Changes after this sequence number (0 for all); past the newest change is 409.
    #[param(minimum = 0)]
    pub since: Option<i64>,
    /// 1–1000, default 500.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// Batch catch-up: the changes after `since`, oldest first.
#[utoipa::path(get, path = "/api/v1/changes", operation_id = "list_changes", params(ChangesQuery), tag = "changes",
    responses((status = 200, body = ChangePage), (status = 403, description = "a submitter's token: handlers and admins only", body = ErrorBody),
        (status = 409, description = "`since_ahead`: `since` is past this server's newest change (a server restored from a backup): resync from `since=0`", body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ChangesQuery>,
) -> ApiResult<impl IntoResponse> {
    caller.handler()?;
    let since = q.since.unwrap_or(0);
    if since < 0 {
        return Err(ApiError::bad_request("since must be 0 or more"));
    }
    let limit = q.limit.unwrap_or(CATCH_UP_PAGE);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be 1 to 1000"));
    }
    let (page, latest) = s
        .desk
        .store
        .read(move |conn| Ok((changes::since(conn, since, limit)?, changes::latest(conn)?)))
        .await?;
    if since > latest {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "since_ahead",
            format!(
                "since {since} is past this server's newest change ({latest}): resync from since=0"
            ),
        ));
    }
    let more = page.last().is_some_and(|c| c.seq < latest);
    Ok(axum::Json(ChangePage {
        changes: page,
        latest,
        more,
    }))
}
