//! A request body must keep arriving: after a short grace it must average at least
//! `min_body_bytes_per_sec`, or it is cut and the request answered 408. Without this, a
//! client sending `Content-Length: 100000` at a byte a second holds a request slot for the
//! whole request timeout, and a few hundred of them take every slot.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::AppState;

/// Time a body gets before the rate counts: connection set-up, a phone waking its radio.
const GRACE: Duration = Duration::from_secs(2);

/// Wraps the request body in the rate check; a body cut for slowness turns the answer,
/// whatever the handler made of the broken body, into 408.
pub async fn min_body_rate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let has_body = !req.body().is_end_stream();
    if !has_body {
        return next.run(req).await;
    }
    let rate = state.desk.settings.server.min_body_bytes_per_sec.max(1);
    let cut = Arc::new(AtomicBool::new(false));
    let req = req.map(|body| Body::new(RateBody::new(body, rate, cut.clone())));
    let response = next.run(req).await;
    if cut.load(Ordering::Relaxed) {
        tracing::debug!("a request body arrived too slowly and was cut");
        // Bare: the error layer gives it the API's JSON shape or, on the pages, a page.
        return StatusCode::REQUEST_TIMEOUT.into_response();
    }
    response
}

struct RateBody {
    inner: Body,
    start: Instant,
    received: u64,
    rate: u64,
    /// Fires when the bytes received so far fall behind the rate.
    behind: Pin<Box<Sleep>>,
    cut: Arc<AtomicBool>,
}

impl RateBody {
    fn new(inner: Body, rate: u64, cut: Arc<AtomicBool>) -> Self {
        let start = Instant::now();
        Self {
            inner,
            start,
            received: 0,
            rate,
            behind: Box::pin(tokio::time::sleep_until(start + GRACE)),
            cut,
        }
    }

    /// The moment `received` bytes stop being enough: start + grace + received / rate.
    fn falls_behind_at(&self) -> Instant {
        let micros = self.received.saturating_mul(1_000_000) / self.rate;
        self.start + GRACE + Duration::from_micros(micros)
    }
}

impl HttpBody for RateBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    let at = this.falls_behind_at();
                    this.behind.as_mut().reset(at);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => match this.behind.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.cut.store(true, Ordering::Relaxed);
                    Poll::Ready(Some(Err(axum::Error::new(
                        "the request body arrived too slowly",
                    ))))
                }
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
