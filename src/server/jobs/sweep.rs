//! Removes screenshots that were uploaded with a form that was then abandoned: processed and
//! stored (so the form could be shown again without a second upload) but never attached.
//! They are kept a day, which covers any realistic return to a half-finished form.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::service::Desk;

const EVERY: Duration = Duration::from_secs(3600);
const KEEP: Duration = Duration::from_secs(24 * 3600);

pub fn spawn(desk: Desk, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match desk.sweep_staged(KEEP).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(files = n, "removed abandoned uploads"),
                Err(e) => tracing::warn!(error = %e, "sweeping abandoned uploads failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = stop.changed() => return,
            }
        }
    })
}
