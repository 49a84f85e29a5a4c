//! Readiness: whether a write can succeed now. `/healthz` only proves the database can be
//! read, which stays true on a full disk, a read-only mount or a lock held by another
//! process; `/readyz` proves a write, with a tiny probe (a 4 KiB file and a one-page commit)
//! run at most once a second however often it is asked.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::store::{Store, WriteTrouble};

/// How long a probe's answer is reused.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// A probe stuck behind a held lock (SQLite waits 5 s for it) answers "busy" after this.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The outcome of the last write probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Ready,
    /// `write` is the `WriteTrouble` code, or `error` for anything else; `detail` is for the log.
    NotReady {
        write: &'static str,
        detail: String,
    },
}

#[derive(Default)]
pub struct Readiness {
    /// Held while probing, so concurrent askers wait for one probe rather than start many.
    last: Mutex<Option<(Instant, Probe)>>,
}

impl Readiness {
    /// The last probe's outcome if it is fresh, else a new probe's.
    pub async fn check(&self, store: &Store) -> Probe {
        let mut last = self.last.lock().await;
        if let Some((at, probe)) = &*last
            && at.elapsed() < FRESH_FOR
        {
            return probe.clone();
        }
        let probe = match tokio::time::timeout(PROBE_TIMEOUT, store.probe_write()).await {
            Ok(Ok(())) => Probe::Ready,
            Ok(Err(e)) => Probe::NotReady {
                write: e.trouble().map_or("error", WriteTrouble::code),
                detail: e.to_string(),
            },
            Err(_) => Probe::NotReady {
                write: WriteTrouble::Busy.code(),
                detail: format!("the write probe did not finish within {PROBE_TIMEOUT:?}"),
            },
        };
        if let Probe::NotReady { write, detail } = &probe {
            tracing::warn!(write, detail, "not ready: a write cannot succeed now");
        }
        *last = Some((Instant::now(), probe.clone()));
        probe
    }
}
