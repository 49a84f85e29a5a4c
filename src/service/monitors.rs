//! Proactive monitors at the desk: each evaluation recorded, the alert it raises or keeps
//! firing (one open alert a monitor), its notifications queued in the same write, the parent
//! incident it opens, the tickets linked to that incident, and what handlers do with alerts.
//!
//! Alert changes go out on the change stream (`alert.fired`, `alert.updated`,
//! `alert.resolved`, data: the alert), which only handlers and admins read: the Alerts pane
//! follows it live, and a client that was away catches up as it does for tickets.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration as Span, Utc};

use super::tickets::{create_in, link_in, require_handler, transition_in};
use super::{Desk, DeskError};
use crate::api::monitors::{
    Alert, AlertAction, AlertDetail, AlertState, EvaluationRecord, LinkToAlert, LinkedTicket,
    MonitorInfo, Outcome, SilenceAlert,
};
use crate::api::{LinkBody, TransitionBody};
use crate::config::Settings;
use crate::domain::mask::{mask_long_numbers, mask_long_numbers_as};
use crate::domain::notify::ChannelKind;
use crate::domain::people::Role;
use crate::domain::ticket::{Category, Channel, LinkKind, Status, Ticket, TicketId};
use crate::domain::validate::NewTicket;
use crate::lookups::sql::MaskAs;
use crate::monitor::config::{LinkPolicy, Monitor};
use crate::monitor::evaluate::{Clock, Evaluation, evaluate};
use crate::monitor::notice::{self, AlertNotice, News};
use crate::store::monitors::{self as store, AlertRows, Finding};
use crate::store::notifications::{self, NewNotification};
use crate::store::users::{self, User};
use crate::store::{StoreError, WriteCtx, audit, changes, tickets};

/// The user that owns the parent incidents alerts open.
pub const MONITOR_USER: &str = "monitor";
/// The longest silence.
const MAX_SILENCE_SECS: i64 = 7 * 24 * 3600;
/// Rows of an alert a parent incident's description lists.
const DESCRIBED_ROWS: usize = 20;
/// Open tickets looked at for candidates.
const CANDIDATE_SCAN: i64 = 500;
/// Evaluations a history page holds at most.
pub const MAX_HISTORY: usize = 500;

/// The monitors being evaluated now: a monitor still running when its next turn comes is
/// not started twice.
#[derive(Default)]
pub struct Monitors {
    running: Mutex<HashSet<String>>,
    /// Evaluations recorded since the server started: ok, firing, error (for `/metrics`).
    recorded: [AtomicU64; 3],
}

/// Holds a monitor's turn; dropping it frees the monitor.
struct Turn<'a> {
    monitors: &'a Monitors,
    name: String,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if let Ok(mut running) = self.monitors.running.lock() {
            running.remove(&self.name);
        }
    }
}

impl Monitors {
    fn claim(&self, name: &str) -> Option<Turn<'_>> {
        let mut running = self.running.lock().ok()?;
        running.insert(name.to_string()).then(|| Turn {
            monitors: self,
            name: name.to_string(),
        })
    }

    /// Evaluations recorded since the server started, by outcome.
    pub fn recorded(&self) -> [(Outcome, u64); 3] {
        [Outcome::Ok, Outcome::Firing, Outcome::Error]
            .map(|o| (o, self.recorded[o as usize].load(Ordering::Relaxed)))
    }

    /// Whether `name` is being evaluated now.
    pub fn is_running(&self, name: &str) -> bool {
        self.running
            .lock()
            .map(|r| r.contains(name))
            .unwrap_or(false)
    }
}

/// `rows` as they may be shown outside a handler's detail view: names masked as names,
/// every long number (accounts, phones, ID numbers) masked as tickets mask them.
pub fn masked_rows(rows: &AlertRows) -> Vec<Vec<Option<String>>> {
    rows.rows
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, cell)| {
                    cell.as_deref()
                        .map(|v| match rows.masks.get(i).copied().flatten() {
                            Some(MaskAs::Name) => MaskAs::Name.apply(v),
                            // A key like `330180414122-沪A`: its number masked as its kind is.
                            Some(kind) => mask_long_numbers_as(v, |run| kind.apply(run)),
                            None => mask_long_numbers(v),
                        })
                })
                .collect()
        })
        .collect()
}

impl Desk {
    fn monitor(&self, name: &str) -> Result<Arc<Monitor>, DeskError> {
        self.settings.monitors.get(name).cloned().ok_or_else(|| {
            let refused = self
                .settings
                .monitors
                .broken
                .iter()
                .find(|b| b.name == name);
            match refused {
                Some(b) => DeskError::Conflict(format!(
                    "the monitor '{name}' was refused at load: {}",
                    b.error
                )),
                None => DeskError::NotFound(format!("monitor '{name}'")),
            }
        })
    }

    /// Evaluates the monitor `name` now and records what it found: the scheduler's turn, and
    /// `monitor run-once`. A monitor already being evaluated is not started again.
    pub async fn run_monitor(&self, name: &str) -> Result<EvaluationRecord, DeskError> {
        let monitor = self.monitor(name)?;
        let Some(_turn) = self.monitors.claim(name) else {
            return Err(DeskError::Busy {
                message: format!("the monitor '{name}' is being evaluated now"),
                retry_after: 5,
            });
        };
        let clock = Clock {
            now: Utc::now(),
            tz: self.settings.calendar.tz(),
        };
        let started = Instant::now();
        // Its own task: a rule that panics ends its evaluation as an error, not the caller.
        let m = Arc::clone(&monitor);
        let evaluated = match tokio::spawn(async move { evaluate(&m, clock).await }).await {
            Ok(found) => found,
            Err(e) if e.is_panic() => Err("the evaluation failed unexpectedly (a panic)".into()),
            Err(e) => Err(format!("the evaluation stopped: {e}")),
        };
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let settings = Arc::clone(&self.settings);
        let record = self
            .write(move |ctx| {
                record_in(ctx, &settings, &monitor, clock.now, duration_ms, evaluated)
            })
            .await?;
        self.monitors.recorded[record.outcome as usize].fetch_add(1, Ordering::Relaxed);
        Ok(record)
    }

    /// Drops evaluations before `before` that raised no alert.
    pub async fn prune_evaluations(&self, before: DateTime<Utc>) -> Result<usize, DeskError> {
        self.write(move |ctx| Ok(store::prune(ctx.conn, before)?))
            .await
    }

    /// Every monitor with its latest evaluation and open alert, and the files refused.
    pub async fn monitor_list(&self, actor: &User) -> Result<Vec<MonitorInfo>, DeskError> {
        require_handler(actor)?;
        let (latest, open) = self
            .store
            .read(|conn| Ok((store::latest(conn)?, store::recent_alerts(conn, 1000)?)))
            .await?;
        let now = Utc::now();
        let tz = self.settings.calendar.tz();
        let book = &self.settings.monitors;
        let mut infos: Vec<MonitorInfo> = book
            .monitors
            .iter()
            .map(|m| MonitorInfo {
                name: m.name.clone(),
                title: m.title.clone(),
                kind: m.rule.kind().into(),
                schedule: m.schedule.expr().into(),
                sources: m.rule.sources(),
                enabled: m.enabled,
                error: None,
                next_at: m.enabled.then(|| m.schedule.next_after(now, tz)).flatten(),
                last: latest.iter().find(|e| e.monitor == m.name).cloned(),
                open_alert: open
                    .iter()
                    .find(|a| a.monitor == m.name && a.state != AlertState::Resolved)
                    .map(|a| a.id),
            })
            .collect();
        infos.extend(book.broken.iter().map(|b| MonitorInfo {
            name: b.name.clone(),
            title: String::new(),
            kind: String::new(),
            schedule: String::new(),
            sources: Vec::new(),
            enabled: false,
            error: Some(b.error.clone()),
            next_at: None,
            last: None,
            open_alert: None,
        }));
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(infos)
    }

    /// `name`'s evaluations, newest first.
    pub async fn monitor_history(
        &self,
        actor: &User,
        name: &str,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Vec<EvaluationRecord>, DeskError> {
        require_handler(actor)?;
        let known = self.settings.monitors.get(name).is_some()
            || self.settings.monitors.broken.iter().any(|b| b.name == name);
        if !known {
            return Err(DeskError::NotFound(format!("monitor '{name}'")));
        }
        let name = name.to_string();
        let limit = limit.clamp(1, MAX_HISTORY);
        Ok(self
            .store
            .read(move |conn| store::history(conn, &name, limit, before))
            .await?)
    }

    /// Alerts not resolved, then the latest resolved, newest first.
    pub async fn alerts(&self, actor: &User, limit: usize) -> Result<Vec<Alert>, DeskError> {
        require_handler(actor)?;
        let limit = limit.clamp(1, 500);
        Ok(self
            .store
            .read(move |conn| store::recent_alerts(conn, limit))
            .await?)
    }

    /// An alert with its rows (masked unless `reveal`, which is audited), its parent
    /// incident's linked tickets and the tickets offered for linking.
    pub async fn alert_detail(
        &self,
        actor: &User,
        id: i64,
        reveal: bool,
    ) -> Result<AlertDetail, DeskError> {
        require_handler(actor)?;
        let settings = Arc::clone(&self.settings);
        let who = actor.username.clone();
        let read = move |conn: &rusqlite::Connection| -> Result<Option<AlertDetail>, StoreError> {
            let Some(alert) = store::alert(conn, id)? else {
                return Ok(None);
            };
            let rows = store::rows(conn, id)?;
            let (linked, candidates) = match alert.ticket_id {
                Some(parent) => {
                    let policy = settings.monitors.get(&alert.monitor).map(|m| &m.alert.link);
                    (
                        linked_tickets(conn, parent)?,
                        match policy {
                            Some(p) if p.matches_anything() => candidates(conn, parent, p, &rows)?,
                            _ => Vec::new(),
                        },
                    )
                }
                None => (Vec::new(), Vec::new()),
            };
            Ok(Some(AlertDetail {
                columns: rows.columns.clone(),
                rows: if reveal {
                    rows.rows
                } else {
                    masked_rows(&rows)
                },
                revealed: reveal,
                alert,
                linked,
                candidates,
            }))
        };
        let detail = if reveal {
            self.write(move |ctx| {
                let found = read(ctx.conn)?;
                if found.is_some() {
                    let detail = serde_json::json!({"alert": id});
                    audit::record(ctx.conn, ctx.now, &who, "alert.revealed", None, &detail)?;
                }
                Ok(found)
            })
            .await?
        } else {
            self.store.read(read).await?
        };
        detail.ok_or_else(|| DeskError::NotFound(format!("alert {id}")))
    }

    pub async fn acknowledge_alert(
        &self,
        actor: &User,
        id: i64,
        body: AlertAction,
    ) -> Result<Alert, DeskError> {
        self.alert_change(actor, id, body.version, move |ctx, _, a, who| {
            if a.state != AlertState::Firing {
                return Err(DeskError::Conflict(format!(
                    "alert {id} is {}; only a firing alert is acknowledged",
                    a.state
                )));
            }
            store::acknowledge(ctx.conn, id, who, ctx.now)?;
            Ok(("alert.acknowledged", serde_json::json!({})))
        })
        .await
    }

    pub async fn resolve_alert(
        &self,
        actor: &User,
        id: i64,
        body: AlertAction,
    ) -> Result<Alert, DeskError> {
        let note = body.note.clone();
        self.alert_change(actor, id, body.version, move |ctx, _, a, who| {
            if a.state == AlertState::Resolved {
                return Err(DeskError::Conflict(format!(
                    "alert {id} is already resolved"
                )));
            }
            store::resolve(ctx.conn, id, Some(who), ctx.now)?;
            Ok(("alert.resolved", serde_json::json!({"note": note})))
        })
        .await
    }

    pub async fn silence_alert(
        &self,
        actor: &User,
        id: i64,
        body: SilenceAlert,
    ) -> Result<Alert, DeskError> {
        let until = silence_span(&body.duration)?;
        self.alert_change(actor, id, body.version, move |ctx, _, _, who| {
            let until = until.map(|s| ctx.now + s);
            store::silence(ctx.conn, id, until, who)?;
            Ok(("alert.silenced", serde_json::json!({"until": until})))
        })
        .await
    }

    /// Opens the alert's parent incident (a ticket of channel `monitor`).
    pub async fn open_alert_ticket(
        &self,
        actor: &User,
        id: i64,
        body: AlertAction,
    ) -> Result<Alert, DeskError> {
        self.alert_change(actor, id, body.version, move |ctx, settings, a, who| {
            if let Some(t) = a.ticket_id {
                return Err(DeskError::Conflict(format!(
                    "alert {id} already has its parent incident #{t}"
                )));
            }
            let m = settings.monitors.get(&a.monitor).cloned();
            let ticket = open_parent_in(ctx, settings, m.as_deref(), a, who)?;
            Ok(("alert.ticket_opened", serde_json::json!({"ticket": ticket})))
        })
        .await
    }

    /// Links `body.ticket_id` to the alert's parent incident.
    pub async fn link_to_alert(
        &self,
        actor: &User,
        id: i64,
        body: LinkToAlert,
    ) -> Result<AlertDetail, DeskError> {
        require_handler(actor)?;
        let settings = Arc::clone(&self.settings);
        let who = actor.clone();
        self.write(move |ctx| {
            let a = store::alert(ctx.conn, id)?
                .ok_or_else(|| DeskError::NotFound(format!("alert {id}")))?;
            let parent = a.ticket_id.ok_or_else(|| {
                DeskError::Conflict(format!(
                    "alert {id} has no parent incident yet: open its ticket first"
                ))
            })?;
            let child = tickets::get(ctx.conn, body.ticket_id)?
                .ok_or_else(|| DeskError::NotFound(format!("ticket {}", body.ticket_id)))?;
            let link = LinkBody {
                kind: LinkKind::Parent,
                target: Some(parent),
                version: Some(child.version),
            };
            link_in(ctx, &settings, &who, child.id, link)?;
            Ok(())
        })
        .await?;
        self.alert_detail(actor, id, false).await
    }

    /// Runs `change` on alert `id` at `version` as `actor`, then bumps, audits and publishes
    /// it.
    async fn alert_change<F>(
        &self,
        actor: &User,
        id: i64,
        version: i64,
        change: F,
    ) -> Result<Alert, DeskError>
    where
        F: FnOnce(
                &mut WriteCtx<'_>,
                &Settings,
                &Alert,
                &str,
            ) -> Result<(&'static str, serde_json::Value), DeskError>
            + Send
            + 'static,
    {
        require_handler(actor)?;
        let settings = Arc::clone(&self.settings);
        let who = actor.username.clone();
        self.write(move |ctx| {
            let a = store::alert(ctx.conn, id)?
                .ok_or_else(|| DeskError::NotFound(format!("alert {id}")))?;
            if a.version != version {
                return Err(DeskError::Conflict(format!(
                    "alert {id} was changed by someone else (now version {})",
                    a.version
                )));
            }
            let (action, detail) = change(ctx, &settings, &a, &who)?;
            let detail = serde_json::json!({"alert": id, "detail": detail});
            audit::record(ctx.conn, ctx.now, &who, action, a.ticket_id, &detail)?;
            published(ctx, id, &who)
        })
        .await
    }
}

/// Parses a silence's length: `30m`, `2h`, `1d` (up to 7 days), or `off`.
fn silence_span(text: &str) -> Result<Option<Span>, DeskError> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let secs = if let Some(days) = text.strip_suffix('d') {
        days.trim()
            .parse::<i64>()
            .ok()
            .map(|d| d.saturating_mul(86_400))
    } else {
        crate::config::parse_duration(text)
    };
    match secs {
        Some(s) if (1..=MAX_SILENCE_SECS).contains(&s) => Ok(Some(Span::seconds(s))),
        _ => Err(DeskError::Conflict(format!(
            "'{}' is not a silence: write 30m, 2h or 1d (at most 7 days), or off",
            text.chars().take(40).collect::<String>()
        ))),
    }
}

/// Publishes alert `id` as it now is on the change stream.
fn published(ctx: &mut WriteCtx<'_>, id: i64, actor: &str) -> Result<Alert, DeskError> {
    let a =
        store::alert(ctx.conn, id)?.ok_or_else(|| DeskError::NotFound(format!("alert {id}")))?;
    let kind = match a.state {
        AlertState::Resolved => "alert.resolved",
        _ => "alert.updated",
    };
    publish_as(ctx, kind, &a, actor)?;
    Ok(a)
}

fn publish_as(ctx: &mut WriteCtx<'_>, kind: &str, a: &Alert, actor: &str) -> Result<(), DeskError> {
    let data = serde_json::to_value(a).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    // Not the ticket's id: a ticket change on the stream carries the ticket as its data.
    changes::append(ctx, kind, None, actor, data)?;
    Ok(())
}

/// Records one evaluation and what it does to the monitor's alert.
fn record_in(
    ctx: &mut WriteCtx<'_>,
    settings: &Settings,
    m: &Monitor,
    started_at: DateTime<Utc>,
    duration_ms: i64,
    evaluated: Result<Evaluation, String>,
) -> Result<EvaluationRecord, DeskError> {
    let ev = match evaluated {
        Err(message) => {
            let summary = mask_long_numbers(&message);
            let f = Finding {
                monitor: &m.name,
                title: &m.title,
                started_at,
                duration_ms,
                outcome: Outcome::Error,
                value: None,
                summary: &summary,
            };
            tracing::warn!(monitor = %m.name, error = %summary, "monitor evaluation failed");
            return Ok(store::record(ctx.conn, &f, None)?);
        }
        Ok(ev) => ev,
    };
    let v = ev.verdict;
    let summary = mask_long_numbers(&v.summary);
    let f = Finding {
        monitor: &m.name,
        title: &m.title,
        started_at,
        duration_ms,
        outcome: if v.firing {
            Outcome::Firing
        } else {
            Outcome::Ok
        },
        value: v.value.is_finite().then_some(v.value),
        summary: &summary,
    };
    let open = store::open_alert(ctx.conn, &m.name)?;
    let rows = AlertRows {
        columns: v.columns,
        rows: v.rows,
        masks: ev.masks,
    };
    if !v.firing {
        let record = store::record(ctx.conn, &f, None)?;
        if let Some(a) = open {
            store::resolve(ctx.conn, a.id, None, ctx.now)?;
            let a = published(ctx, a.id, MONITOR_USER)?;
            audit::record(
                ctx.conn,
                ctx.now,
                MONITOR_USER,
                "alert.cleared",
                a.ticket_id,
                &serde_json::json!({"alert": a.id}),
            )?;
            if a.silenced_until.is_none_or(|u| u <= ctx.now) {
                let stored = store::rows(ctx.conn, a.id)?;
                notify_in(ctx, settings, m, News::Cleared, &a, &stored)?;
            }
        }
        return Ok(record);
    }
    if let Some(a) = open {
        store::refire(ctx.conn, a.id, &f, &rows)?;
        published(ctx, a.id, MONITOR_USER)?;
        return Ok(store::record(ctx.conn, &f, Some(a.id))?);
    }
    let silenced = store::silenced_until(ctx.conn, &m.name, ctx.now)?;
    let id = store::raise(ctx.conn, &f, &rows, silenced)?;
    if m.alert.open_ticket {
        let raised = store::alert(ctx.conn, id)?
            .ok_or_else(|| DeskError::NotFound(format!("alert {id}")))?;
        open_parent_in(ctx, settings, Some(m), &raised, MONITOR_USER)?;
    }
    let a =
        store::alert(ctx.conn, id)?.ok_or_else(|| DeskError::NotFound(format!("alert {id}")))?;
    publish_as(ctx, "alert.fired", &a, MONITOR_USER)?;
    audit::record(
        ctx.conn,
        ctx.now,
        MONITOR_USER,
        "alert.fired",
        a.ticket_id,
        &serde_json::json!({"alert": id, "monitor": m.name}),
    )?;
    if silenced.is_none() {
        notify_in(ctx, settings, m, News::Fired, &a, &rows)?;
    }
    Ok(store::record(ctx.conn, &f, Some(id))?)
}

/// Queues the alert's news on every configured channel, its rows masked.
fn notify_in(
    ctx: &WriteCtx<'_>,
    settings: &Settings,
    m: &Monitor,
    news: News,
    a: &Alert,
    rows: &AlertRows,
) -> Result<(), DeskError> {
    let n = &settings.notify;
    let masked = masked_rows(rows);
    let notice = AlertNotice {
        news,
        alert: a,
        columns: &rows.columns,
        rows: &masked,
        at: ctx.now,
        public_url: n.public_url.as_deref(),
    };
    let mut queued: Vec<(ChannelKind, String, serde_json::Value)> = Vec::new();
    if n.smtp.is_some() {
        let mail = notice::email(&notice, &m.alert.mail_to);
        let payload =
            serde_json::to_value(&mail).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        queued.push((
            ChannelKind::Smtp,
            super::notify::SMTP_TARGET.into(),
            payload,
        ));
    }
    if let Some(url) = &n.wecom {
        queued.push((
            ChannelKind::Wecom,
            super::notify::fingerprint(url),
            notice::wecom_body(&notice),
        ));
    }
    let hook = notice::webhook_body(&notice);
    for url in &n.webhooks {
        queued.push((
            ChannelKind::Webhook,
            super::notify::fingerprint(url),
            hook.clone(),
        ));
    }
    for (channel, target, payload) in &queued {
        notifications::enqueue(
            ctx.conn,
            &NewNotification {
                channel: *channel,
                target,
                event: news.event(),
                ticket_id: a.ticket_id,
                payload,
            },
            ctx.now,
        )?;
    }
    Ok(())
}

/// The user that owns parent incidents, made the first time one is opened.
fn monitor_user(ctx: &WriteCtx<'_>) -> Result<User, DeskError> {
    if let Some(u) = users::by_username(ctx.conn, MONITOR_USER)? {
        return Ok(u);
    }
    Ok(users::insert(
        ctx.conn,
        MONITOR_USER,
        "监控告警",
        Role::Submitter,
        None,
        None,
        ctx.now,
    )?)
}

/// Opens alert `a`'s parent incident: a ticket of channel `monitor`, owned by the monitor
/// user, its description the finding and the first rows (masked). Returns its id.
fn open_parent_in(
    ctx: &mut WriteCtx<'_>,
    settings: &Settings,
    m: Option<&Monitor>,
    a: &Alert,
    opened_by: &str,
) -> Result<TicketId, DeskError> {
    let Some(system) = m.and_then(|m| m.alert.system.clone()) else {
        return Err(DeskError::Conflict(format!(
            "the monitor '{}' names no alert.system for its parent incident",
            a.monitor
        )));
    };
    let rows = store::rows(ctx.conn, a.id)?;
    let masked = masked_rows(&rows);
    let mut description = format!(
        "{}\n\n告警 alert #{}（监控 {}）\n",
        a.summary, a.id, a.monitor
    );
    if !masked.is_empty() {
        description.push_str(&format!("\n{}\n", rows.columns.join(" | ")));
        for row in masked.iter().take(DESCRIBED_ROWS) {
            let line: Vec<&str> = row.iter().map(|c| c.as_deref().unwrap_or("-")).collect();
            description.push_str(&line.join(" | "));
            description.push('\n');
        }
        if masked.len() > DESCRIBED_ROWS {
            description.push_str(&format!(
                "……共 {} 条 ({} in all)\n",
                masked.len(),
                masked.len()
            ));
        }
    }
    let title: String = format!("【监控】{}", a.title).chars().take(100).collect();
    let new = NewTicket {
        title,
        description,
        system,
        customer: Default::default(),
        category: Some(Category::Data),
        subcategory: None,
        priority: Some(
            m.and_then(|m| m.alert.priority)
                .unwrap_or(crate::domain::ticket::Priority::P2),
        ),
        channel: Some(Channel::Monitor),
        external_ref: Some(format!("alert-{}", a.id)),
    };
    let owner = monitor_user(ctx)?;
    let at = ctx.now;
    let (t, _) = create_in(ctx, settings, &owner, new, at)?;
    store::set_ticket(ctx.conn, a.id, t.id)?;
    audit::record(
        ctx.conn,
        at,
        opened_by,
        "alert.ticket_opened",
        Some(t.id),
        &serde_json::json!({"alert": a.id}),
    )?;
    Ok(t.id)
}

/// Why `t` looks like the problem alert `rows` describe, by `policy`: its customer's account
/// is among the rows, or its text holds a keyword.
fn matches(policy: &LinkPolicy, rows: &AlertRows, t: &Ticket) -> Option<&'static str> {
    if policy.system.as_ref().is_some_and(|s| *s != t.system) {
        return None;
    }
    if policy.accounts
        && let Some(account) = t.customer.account.as_ref().map(|a| a.expose().trim())
        && !account.is_empty()
        && rows.rows.iter().flatten().flatten().any(|cell| {
            cell.split(|c: char| !c.is_ascii_digit())
                .any(|run| run == account)
        })
    {
        return Some("account");
    }
    let text = format!("{}\n{}", t.title, t.description).to_lowercase();
    policy
        .keywords
        .iter()
        .any(|k| !k.trim().is_empty() && text.contains(&k.trim().to_lowercase()))
        .then_some("keyword")
}

/// The parent incident a new ticket belongs to, by the open alerts whose monitor links
/// automatically: `None` when no alert matches it.
pub(crate) fn auto_parent(
    conn: &rusqlite::Connection,
    settings: &Settings,
    t: &Ticket,
) -> Result<Option<(TicketId, i64)>, StoreError> {
    if t.channel == Channel::Monitor || settings.monitors.monitors.is_empty() {
        return Ok(None);
    }
    for a in store::open_with_ticket(conn)? {
        let Some(m) = settings.monitors.get(&a.monitor) else {
            continue;
        };
        let (Some(parent), true) = (a.ticket_id, m.alert.link.auto) else {
            continue;
        };
        let open = tickets::get(conn, parent)?
            .is_some_and(|p| !matches!(p.status, Status::Resolved | Status::Closed));
        if open && matches(&m.alert.link, &store::rows(conn, a.id)?, t).is_some() {
            return Ok(Some((parent, a.id)));
        }
    }
    Ok(None)
}

fn linked_view(t: &Ticket, matched: Option<&str>) -> LinkedTicket {
    LinkedTicket {
        id: t.id,
        title: t.title.clone(),
        status: t.status,
        submitter: t.submitter.clone(),
        matched: matched.map(String::from),
    }
}

fn ids(conn: &rusqlite::Connection, sql: &str, arg: i64) -> Result<Vec<TicketId>, StoreError> {
    Ok(conn
        .prepare_cached(sql)?
        .query_map([arg], |r| r.get(0))?
        .collect::<Result<Vec<_>, _>>()?)
}

/// The tickets linked to `parent`.
fn linked_tickets(
    conn: &rusqlite::Connection,
    parent: TicketId,
) -> Result<Vec<LinkedTicket>, StoreError> {
    let mut out = Vec::new();
    for id in ids(
        conn,
        "SELECT id FROM tickets WHERE parent_id = ?1 ORDER BY id",
        parent,
    )? {
        if let Some(t) = tickets::get(conn, id)? {
            out.push(linked_view(&t, None));
        }
    }
    Ok(out)
}

/// Open tickets, not linked anywhere, that match the alert.
fn candidates(
    conn: &rusqlite::Connection,
    parent: TicketId,
    policy: &LinkPolicy,
    rows: &AlertRows,
) -> Result<Vec<LinkedTicket>, StoreError> {
    let mut out = Vec::new();
    let open = ids(
        conn,
        "SELECT id FROM tickets WHERE status NOT IN ('resolved', 'closed') AND parent_id IS NULL
           AND duplicate_of IS NULL ORDER BY id DESC LIMIT ?1",
        CANDIDATE_SCAN,
    )?;
    for id in open.into_iter().filter(|id| *id != parent) {
        if let Some(t) = tickets::get(conn, id)?
            && let Some(why) = matches(policy, rows, &t)
        {
            out.push(linked_view(&t, Some(why)));
        }
    }
    Ok(out)
}

/// A parent incident was resolved: its open children are resolved with its resolution (each
/// child's submitter notified through their own channels, as any resolve does), and the
/// alerts that opened it are resolved.
pub(crate) fn parent_resolved_in(
    ctx: &mut WriteCtx<'_>,
    settings: &Settings,
    actor: &User,
    parent: TicketId,
    resolution: &str,
    at: DateTime<Utc>,
) -> Result<(), DeskError> {
    let children = ids(
        ctx.conn,
        "SELECT id FROM tickets WHERE parent_id = ?1 AND status NOT IN ('resolved', 'closed') ORDER BY id",
        parent,
    )?;
    for id in children {
        let Some(mut child) = tickets::get(ctx.conn, id)? else {
            continue;
        };
        if child.status == Status::New {
            let take = TransitionBody {
                to: Status::Triaging,
                transfer_to: None,
                note: None,
                resolution: None,
                version: None,
            };
            transition_in(ctx, settings, actor, child, &take, at)?;
            child = tickets::get(ctx.conn, id)?
                .ok_or_else(|| DeskError::NotFound(format!("ticket {id}")))?;
        }
        let resolve = TransitionBody {
            to: Status::Resolved,
            transfer_to: None,
            note: None,
            resolution: Some(format!("父事件 #{parent} 已解决：{resolution}")),
            version: None,
        };
        transition_in(ctx, settings, actor, child, &resolve, at)?;
    }
    for a in store::by_ticket(ctx.conn, parent)? {
        if a.state != AlertState::Resolved {
            store::resolve(ctx.conn, a.id, Some(&actor.username), at)?;
            published(ctx, a.id, &actor.username)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silence_is_minutes_to_a_week_or_off() {
        assert_eq!(silence_span("30m").unwrap(), Some(Span::minutes(30)));
        assert_eq!(silence_span("1d").unwrap(), Some(Span::days(1)));
        assert_eq!(silence_span(" off ").unwrap(), None);
        for bad in ["", "0s", "8d", "forever", "-1d", "1w"] {
            assert!(silence_span(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rows_are_masked_outside_the_detail_view() {
        let rows = AlertRows {
            columns: vec!["key".into(), "name".into(), "status".into()],
            rows: vec![vec![
                Some("330180414122-沪A".into()),
                Some("张三丰".into()),
                Some("冻结".into()),
            ]],
            masks: vec![Some(MaskAs::Account), Some(MaskAs::Name), None],
        };
        let shown = masked_rows(&rows);
        let key = shown[0][0].as_deref().unwrap();
        assert!(
            !key.contains("330180414122") && key.ends_with("4122-沪A"),
            "{key}"
        );
        assert_ne!(shown[0][1].as_deref(), Some("张三丰"));
        assert_eq!(shown[0][2].as_deref(), Some("冻结"));
    }
}
