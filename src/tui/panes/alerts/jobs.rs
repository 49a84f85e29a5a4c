//! The pane's calls to the server, each a plain value the loop runs, and what each yields.
//! Every text they hand back is terminal-safe already (the client scrubs monitor answers where
//! they enter it); refusals are put in words here, a stale version told apart so the pane can
//! fetch the alert again.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::api::monitors::{Alert, AlertDetail, EvaluationRecord, MonitorInfo};
use crate::client::ClientError;
use crate::domain::ticket::TicketId;
use crate::tui::effect::{Io, Job};

/// Alerts listed at once: every open one, then the latest resolved (the server's order).
pub const ALERTS_LIMIT: usize = 100;
/// A monitor's evaluations shown beside it.
pub const HISTORY_LIMIT: usize = 20;

/// A failed call in words. The server's own messages are made safe where they enter the
/// client; a transport or decoding error can quote what came over the wire, so it is too.
fn explain(e: &ClientError) -> String {
    crate::domain::sanitize::terminal_safe(&crate::tui::calls::explain(e)).into_owned()
}

/// Why a change to an alert was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// 409: the alert changed since the version the handler saw (or is no longer in a state
    /// the change applies to). The pane fetches it again; the server's words are kept.
    Stale(String),
    Other(String),
}

fn refused(e: &ClientError) -> Refused {
    match e {
        ClientError::Api {
            status: 409,
            message,
            ..
        } => Refused::Stale(crate::domain::sanitize::terminal_safe(message).into_owned()),
        other => Refused::Other(explain(other)),
    }
}

/// The alerts: open ones, then the latest resolved.
#[derive(Debug, PartialEq, Eq)]
pub struct ListAlerts {
    pub asked: u64,
}

pub struct AlertsListed {
    pub asked: u64,
    pub result: Result<Vec<Alert>, String>,
}

impl Job for ListAlerts {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let result = io
                .client
                .alerts(ALERTS_LIMIT)
                .await
                .map_err(|e| explain(&e));
            io.reply(AlertsListed {
                asked: self.asked,
                result,
            })
            .await;
        }
        .boxed()
    }
}

/// One alert whole: its rows (masked, or in full when `reveal`: audited), its incident's
/// linked tickets and the tickets offered.
#[derive(Debug, PartialEq, Eq)]
pub struct FetchAlert {
    pub id: i64,
    pub reveal: bool,
    pub asked: u64,
}

pub struct AlertLoaded {
    pub id: i64,
    pub asked: u64,
    pub result: Result<AlertDetail, String>,
}

impl Job for FetchAlert {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let result = io
                .client
                .alert(self.id, self.reveal)
                .await
                .map_err(|e| explain(&e));
            io.reply(AlertLoaded {
                id: self.id,
                asked: self.asked,
                result,
            })
            .await;
        }
        .boxed()
    }
}

/// What a handler does to an alert, at the version they saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    Acknowledge,
    Resolve,
    /// `30m`, `2h`, `1d`, or `off`.
    Silence(String),
    OpenIncident,
}

impl Act {
    /// What was done, for the status line.
    pub fn done(&self, id: i64) -> String {
        match self {
            Act::Acknowledge => format!("已确认告警 #{id} · acknowledged"),
            Act::Resolve => format!("已解除告警 #{id} · resolved"),
            Act::Silence(d) if d == "off" => format!("告警 #{id} 已结束静默 · silence ended"),
            Act::Silence(d) => format!("告警 #{id} 已静默 {d} · silenced for {d}"),
            Act::OpenIncident => format!("告警 #{id} 已开事件单 · incident opened"),
        }
    }

    /// What was tried, for a refusal.
    pub fn what(&self) -> &'static str {
        match self {
            Act::Acknowledge => "确认 acknowledge",
            Act::Resolve => "解除 resolve",
            Act::Silence(_) => "静默 silence",
            Act::OpenIncident => "开事件单 open the incident",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct ActOnAlert {
    pub id: i64,
    pub version: i64,
    pub act: Act,
}

pub struct AlertActed {
    pub id: i64,
    pub act: Act,
    pub result: Result<Alert, Refused>,
}

impl Job for ActOnAlert {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let (id, version) = (self.id, self.version);
            let result = match &self.act {
                Act::Acknowledge => io.client.acknowledge_alert(id, version).await,
                Act::Resolve => io.client.resolve_alert(id, version, None).await,
                Act::Silence(d) => io.client.silence_alert(id, version, d).await,
                Act::OpenIncident => io.client.open_alert_ticket(id, version).await,
            }
            .map_err(|e| refused(&e));
            io.reply(AlertActed {
                id,
                act: self.act,
                result,
            })
            .await;
        }
        .boxed()
    }
}

/// Links a ticket to the alert's parent incident.
#[derive(Debug, PartialEq, Eq)]
pub struct LinkToAlert {
    pub id: i64,
    pub ticket: TicketId,
}

pub struct Linked {
    pub id: i64,
    pub ticket: TicketId,
    pub result: Result<AlertDetail, Refused>,
}

impl Job for LinkToAlert {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let result = io
                .client
                .link_to_alert(self.id, self.ticket)
                .await
                .map_err(|e| refused(&e));
            io.reply(Linked {
                id: self.id,
                ticket: self.ticket,
                result,
            })
            .await;
        }
        .boxed()
    }
}

/// Every monitor, refused ones with why.
#[derive(Debug, PartialEq, Eq)]
pub struct ListMonitors;

pub struct MonitorsListed(pub Result<Vec<MonitorInfo>, String>);

impl Job for ListMonitors {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let result = io.client.monitors().await.map_err(|e| explain(&e));
            io.reply(MonitorsListed(result)).await;
        }
        .boxed()
    }
}

/// A monitor's latest evaluations, newest first.
#[derive(Debug, PartialEq, Eq)]
pub struct FetchHistory {
    pub name: String,
}

pub struct HistoryLoaded {
    pub name: String,
    pub result: Result<Vec<EvaluationRecord>, String>,
}

impl Job for FetchHistory {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let result = io
                .client
                .monitor_history(&self.name, HISTORY_LIMIT, None)
                .await
                .map_err(|e| explain(&e));
            io.reply(HistoryLoaded {
                name: self.name,
                result,
            })
            .await;
        }
        .boxed()
    }
}

/// Evaluates a monitor now on the server (recorded, its alert raised or kept as a scheduled
/// run would).
#[derive(Debug, PartialEq, Eq)]
pub struct RunMonitor {
    pub name: String,
}

pub struct MonitorRan {
    pub name: String,
    pub result: Result<EvaluationRecord, String>,
}

impl Job for RunMonitor {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let result = io
                .client
                .run_monitor(&self.name)
                .await
                .map_err(|e| explain(&e));
            io.reply(MonitorRan {
                name: self.name,
                result,
            })
            .await;
        }
        .boxed()
    }
}
