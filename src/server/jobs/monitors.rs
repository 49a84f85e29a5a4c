//! The monitor scheduler: evaluates each enabled monitor when its cron expression comes due,
//! read in the business time zone.
//!
//! Each evaluation is its own task, within its monitor's timeout, at most
//! `monitors.concurrency` at once: a monitor that fails records its error, one that panics or
//! hangs ends as an error at its timeout, and neither holds up the others' turns. A turn
//! missed while the server was down is not made up: the next one comes as scheduled. A
//! monitor still running when its next turn comes skips that turn.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::service::{Desk, DeskError};

/// Evaluations older than this that raised nothing are pruned.
const KEEP_EVALUATIONS: chrono::Duration = chrono::Duration::days(30);
const PRUNE_EVERY: chrono::Duration = chrono::Duration::hours(1);

pub fn spawn(desk: Desk, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let tz = desk.settings.calendar.tz();
        let monitors: Vec<_> = desk
            .settings
            .monitors
            .monitors
            .iter()
            .filter(|m| m.enabled)
            .cloned()
            .collect();
        let slots = Arc::new(Semaphore::new(desk.settings.monitor_concurrency.max(1)));
        // (when, index): the next turn of each monitor.
        let mut due: BTreeSet<(DateTime<Utc>, usize)> = BTreeSet::new();
        let now = Utc::now();
        for (i, m) in monitors.iter().enumerate() {
            if let Some(at) = m.schedule.next_after(now, tz) {
                due.insert((at, i));
            }
        }
        if !monitors.is_empty() {
            tracing::info!(monitors = monitors.len(), "monitor scheduler started");
        }
        let mut pruned_at = now;
        loop {
            let wait = due.first().map_or(Duration::from_secs(3600), |(at, _)| {
                (*at - Utc::now()).to_std().unwrap_or(Duration::ZERO)
            });
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
            let now = Utc::now();
            while let Some(&(at, i)) = due.first() {
                if at > now {
                    break;
                }
                due.remove(&(at, i));
                let m = &monitors[i];
                // From the turn's own time, so a slow round does not drift the schedule;
                // turns that passed meanwhile are skipped, not run in a burst.
                let mut next = m.schedule.next_after(at, tz);
                while let Some(n) = next.filter(|n| *n <= now) {
                    next = m.schedule.next_after(n, tz);
                }
                if let Some(n) = next {
                    due.insert((n, i));
                }
                let (desk, slots, name) = (desk.clone(), Arc::clone(&slots), m.name.clone());
                tokio::spawn(async move {
                    let Ok(_slot) = slots.acquire_owned().await else {
                        return;
                    };
                    match desk.run_monitor(&name).await {
                        Ok(_) => {}
                        Err(DeskError::Busy { .. }) => {
                            tracing::warn!(monitor = %name, "still running from its last turn; this turn skipped");
                        }
                        Err(e) => {
                            tracing::error!(monitor = %name, error = %e, "recording a monitor's evaluation failed")
                        }
                    }
                });
            }
            if now - pruned_at >= PRUNE_EVERY {
                pruned_at = now;
                match desk.prune_evaluations(now - KEEP_EVALUATIONS).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(evaluations = n, "pruned old monitor evaluations"),
                    Err(e) => tracing::warn!(error = %e, "pruning monitor evaluations failed"),
                }
            }
        }
    })
}
