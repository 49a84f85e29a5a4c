//! Monitor alerts: what the server's proactive monitors raised (account-vs-trading
//! consistency, opening volume against its baseline, channel mix, thresholds), and what a
//! handler does with them.
//!
//! Two views, `m` between them. The alerts: firing first, then acknowledged, then the latest
//! resolved, beside (or, at 80 columns, under) the selected alert close up: its finding and
//! times, who acknowledged or silenced it, its anomalous rows (masked by the server unless the
//! handler reveals them, which is audited), its parent incident with the tickets linked to it
//! and the tickets offered for linking. `enter` loads the rows and tickets and reads them (`j`/`k`
//! scroll, `esc` back to the list). The monitors: each one's rule, schedule, next run, latest
//! outcome and open alert (a refused file with why), and the selected one's evaluations.
//!
//! The list is live: every alert change comes over the server's change stream
//! (`alert.fired`, `alert.updated`, `alert.resolved`, the alert as data) and is put in place
//! by id, the cursor staying on the alert it was on; the alert close up is fetched again when
//! it changed. A change is made at the version the handler saw: a stale one (409) fetches the
//! alert again and says so. The pane touches no other pane: the incident opens in the ticket
//! pane through the desk.

pub mod jobs;
mod view;

use std::collections::HashSet;

use chrono::Duration;

use super::{Command, Ctx, Handled, Msg, Pane, PaneId};
use crate::api::Change;
use crate::api::monitors::{
    Alert, AlertDetail, AlertState, EvaluationRecord, MonitorInfo, Outcome,
};
use crate::domain::ticket::TicketId;
use crate::tui::action::{Action, Context};
use crate::tui::desk::{Desk, Request};
use crate::tui::effect::Effect;
use crate::tui::overlay::Overlay;
use jobs::*;

/// Resolved alerts kept below the open ones; the oldest go.
const MAX_RESOLVED: usize = 50;
/// An `alert.fired` older than this (a change replayed after a long absence) is not announced.
const FRESH: Duration = Duration::minutes(15);

/// The silences offered: label, and the length the server takes.
pub const SILENCES: &[(&str, &str)] = &[
    ("30 分钟 30m", "30m"),
    ("2 小时 2h", "2h"),
    ("1 天 1d", "1d"),
    ("结束静默 off", "off"),
];

/// The tab's titles: the count of firing alerts goes in the first word, which is what the tab
/// bar keeps at 80 columns. The seam asks for a `&'static str`, so they are spelled out.
const TITLES: [&str; 11] = [
    "告警 Alerts",
    "告警(1) Alerts",
    "告警(2) Alerts",
    "告警(3) Alerts",
    "告警(4) Alerts",
    "告警(5) Alerts",
    "告警(6) Alerts",
    "告警(7) Alerts",
    "告警(8) Alerts",
    "告警(9) Alerts",
    "告警(9+) Alerts",
];

const MOVES: &[Command] = &[
    Command::new(Action::Down),
    Command::new(Action::Up),
    Command::new(Action::PageDown),
    Command::new(Action::PageUp),
    Command::new(Action::Top),
    Command::new(Action::Bottom),
];

/// The alerts view's commands; those that apply to the selected alert are hinted (see
/// [`AlertsPane::commands`]).
const ALERTS: &[Command] = &[
    Command::hint(Action::Open),
    Command::new(Action::Acknowledge),
    Command::new(Action::Silence),
    Command::new(Action::ResolveAlert),
    Command::new(Action::OpenIncident),
    Command::new(Action::ShowIncident),
    Command::new(Action::LinkCandidate),
    Command::new(Action::Reveal),
    Command::new(Action::RunMonitor),
    Command::hint(Action::Monitors),
    Command::new(Action::Refresh),
    Command::new(Action::Back),
];

const MONITORS: &[Command] = &[
    Command::hint(Action::Open),
    Command::hint(Action::RunMonitor),
    Command::hint(Action::Monitors),
    Command::new(Action::Refresh),
    Command::new(Action::Back),
];

/// Which list the pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Alerts,
    Monitors,
}

/// One alert close up: its rows and tickets as last fetched.
#[derive(Debug)]
pub struct Detail {
    pub id: i64,
    /// The fetch in flight, by number: an answer to an older one is dropped.
    asked: u64,
    pub loading: bool,
    pub data: Option<AlertDetail>,
    pub problem: Option<String>,
    /// Rows of the close-up scrolled past.
    pub scroll: u16,
}

/// A monitor's evaluations, as last fetched.
#[derive(Debug)]
pub struct History {
    pub name: String,
    pub result: Option<Result<Vec<EvaluationRecord>, String>>,
}

/// What the pickers and questions of the pane were for (the alert they were asked about).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ask {
    Silence(i64),
    Resolve(i64),
    Reveal(i64),
    Link(i64),
}

#[derive(Debug)]
pub struct AlertsPane {
    started: bool,
    alerts: Vec<Alert>,
    loaded: bool,
    problem: Option<String>,
    /// The list asked for, by number: an answer to an older ask is dropped.
    asked: u64,
    /// The cursor over the alerts.
    at: usize,
    detail: Option<Detail>,
    /// `enter` opened the close-up: the moving keys scroll it, `esc` goes back to the list.
    reading: bool,
    /// Fetches of a close-up so far (each is numbered).
    fetches: u64,
    /// Candidates are picked once this alert's close-up is in (`l` pressed before).
    link_after_load: Option<i64>,
    view: View,
    monitors: Option<Result<Vec<MonitorInfo>, String>>,
    monitors_loading: bool,
    monitor_at: usize,
    history: Option<History>,
    /// Monitors being run now (a second `r` waits for the first).
    running: HashSet<String>,
    /// Rows a page of the list was when last drawn.
    page: usize,
}

impl Default for AlertsPane {
    fn default() -> Self {
        AlertsPane {
            started: false,
            alerts: Vec::new(),
            loaded: false,
            problem: None,
            asked: 0,
            at: 0,
            detail: None,
            reading: false,
            fetches: 0,
            link_after_load: None,
            view: View::Alerts,
            monitors: None,
            monitors_loading: false,
            monitor_at: 0,
            history: None,
            running: HashSet::new(),
            page: 10,
        }
    }
}

fn run_job(job: impl crate::tui::effect::Job) -> Effect {
    Effect::run(Some(PaneId::ALERTS), job)
}

/// Firing first, then acknowledged, then resolved; newest first within each.
fn order(a: &Alert) -> (u8, std::cmp::Reverse<i64>) {
    let rank = match a.state {
        AlertState::Firing => 0,
        AlertState::Acknowledged => 1,
        AlertState::Resolved => 2,
    };
    (rank, std::cmp::Reverse(a.id))
}

impl AlertsPane {
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    pub fn selected(&self) -> Option<&Alert> {
        self.alerts.get(self.at)
    }

    pub fn detail(&self) -> Option<&Detail> {
        self.detail.as_ref()
    }

    pub fn view(&self) -> View {
        self.view
    }

    pub fn reading(&self) -> bool {
        self.reading
    }

    pub fn monitors(&self) -> &[MonitorInfo] {
        match &self.monitors {
            Some(Ok(list)) => list,
            _ => &[],
        }
    }

    pub fn selected_monitor(&self) -> Option<&MonitorInfo> {
        self.monitors().get(self.monitor_at)
    }

    pub fn history(&self) -> Option<&History> {
        self.history.as_ref()
    }

    pub fn firing(&self) -> usize {
        self.alerts
            .iter()
            .filter(|a| a.state == AlertState::Firing)
            .count()
    }

    /// The close-up of the selected alert, when it is the one fetched.
    fn detail_of_selected(&self) -> Option<&Detail> {
        let id = self.selected()?.id;
        self.detail.as_ref().filter(|d| d.id == id)
    }

    // ----- asking the server

    fn list(&mut self) -> Effect {
        self.asked += 1;
        run_job(ListAlerts { asked: self.asked })
    }

    /// Fetches alert `id` close up (and makes it the one in view).
    fn fetch(&mut self, id: i64, reveal: bool) -> Effect {
        self.fetches += 1;
        let asked = self.fetches;
        match &mut self.detail {
            Some(d) if d.id == id => {
                d.asked = asked;
                d.loading = true;
                d.problem = None;
            }
            _ => {
                self.detail = Some(Detail {
                    id,
                    asked,
                    loading: true,
                    data: None,
                    problem: None,
                    scroll: 0,
                })
            }
        }
        run_job(FetchAlert { id, reveal, asked })
    }

    fn list_monitors(&mut self) -> Vec<Effect> {
        if self.monitors_loading {
            return Vec::new();
        }
        self.monitors_loading = true;
        vec![run_job(ListMonitors)]
    }

    fn start(&mut self) -> Vec<Effect> {
        if self.started {
            return Vec::new();
        }
        self.started = true;
        vec![self.list()]
    }

    fn shown(&mut self) -> Vec<Effect> {
        let mut effects = self.start();
        if effects.is_empty() && self.problem.is_some() {
            effects.push(self.list());
        }
        if self.view == View::Monitors {
            effects.extend(self.list_monitors());
        }
        effects
    }

    /// Everything in view again.
    fn reload(&mut self) -> Vec<Effect> {
        let mut effects = vec![Effect::Resync, self.list()];
        match self.view {
            View::Alerts => {
                if let Some(id) = self.detail_of_selected().map(|d| d.id) {
                    effects.push(self.fetch(id, false));
                }
            }
            View::Monitors => {
                effects.extend(self.list_monitors());
                if let Some(name) = self.history.as_ref().map(|h| h.name.clone()) {
                    effects.push(run_job(FetchHistory { name }));
                }
            }
        }
        effects
    }

    // ----- the list

    /// An alert's new state into the list: replaced where it is (unless older than what is
    /// known), or put in its place; the cursor stays on the alert it was on.
    fn take(&mut self, alert: Alert) -> Vec<Effect> {
        let kept = self.selected().map(|a| a.id);
        match self.alerts.iter_mut().find(|a| a.id == alert.id) {
            Some(known) if alert.version < known.version => return self.refresh_detail(),
            Some(known) => *known = alert,
            None => self.alerts.push(alert),
        }
        self.settle(kept);
        self.refresh_detail()
    }

    /// Sorts, trims the resolved, and puts the cursor back on `kept`.
    fn settle(&mut self, kept: Option<i64>) {
        self.alerts.sort_by_key(order);
        let open = self
            .alerts
            .iter()
            .filter(|a| a.state != AlertState::Resolved)
            .count();
        self.alerts.truncate(open + MAX_RESOLVED);
        if let Some(at) = kept.and_then(|id| self.alerts.iter().position(|a| a.id == id)) {
            self.at = at;
        }
        self.at = self.at.min(self.alerts.len().saturating_sub(1));
    }

    /// The close-up is fetched again when the list knows a newer version of its alert.
    fn refresh_detail(&mut self) -> Vec<Effect> {
        let Some(d) = &self.detail else {
            return Vec::new();
        };
        let Some(newer) = self.alerts.iter().find(|a| a.id == d.id) else {
            return Vec::new();
        };
        let stale = d
            .data
            .as_ref()
            .is_some_and(|x| x.alert.version < newer.version);
        if !stale || d.loading {
            return Vec::new();
        }
        // Masked again: customer data in full is not fetched unasked, each look is audited.
        let id = d.id;
        vec![self.fetch(id, false)]
    }

    fn on_listed(&mut self, listed: AlertsListed) -> Vec<Effect> {
        if listed.asked != self.asked {
            return Vec::new();
        }
        match listed.result {
            Ok(list) => {
                let kept = self.selected().map(|a| a.id);
                let mut fresh = list;
                // What the stream brought while the list was on its way stays when newer.
                for known in std::mem::take(&mut self.alerts) {
                    match fresh.iter_mut().find(|a| a.id == known.id) {
                        Some(a) if a.version < known.version => *a = known,
                        Some(_) => {}
                        None if known.state != AlertState::Resolved => fresh.push(known),
                        None => {}
                    }
                }
                self.alerts = fresh;
                self.loaded = true;
                self.problem = None;
                self.settle(kept);
                self.refresh_detail()
            }
            Err(why) => {
                self.problem = Some(why);
                Vec::new()
            }
        }
    }

    fn on_change(&mut self, change: &Change, desk: &mut Desk) -> Vec<Effect> {
        if !change.kind.starts_with("alert.") {
            return Vec::new();
        }
        let alert = match serde_json::from_value::<Alert>(change.data.clone()) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(seq = change.seq, error = %e, "unreadable alert change");
                return Vec::new();
            }
        };
        let new = !self.alerts.iter().any(|a| a.id == alert.id);
        if change.kind == "alert.fired"
            && new
            && alert.state == AlertState::Firing
            && desk.now - alert.first_at < FRESH
        {
            desk.toast(
                format!(
                    "新告警 new alert #{} {}: {}",
                    alert.id, alert.monitor, alert.title
                ),
                false,
            );
        }
        self.take(alert)
    }

    fn on_loaded_detail(&mut self, loaded: AlertLoaded, desk: &mut Desk) -> Vec<Effect> {
        let mut effects = Vec::new();
        let current = self
            .detail
            .as_ref()
            .is_some_and(|d| d.id == loaded.id && d.asked == loaded.asked);
        match loaded.result {
            Ok(detail) => {
                let alert = detail.alert.clone();
                if current && let Some(d) = &mut self.detail {
                    d.loading = false;
                    d.problem = None;
                    // A look at other rows starts at the top; the same rows keep their place.
                    if d.data
                        .as_ref()
                        .is_none_or(|x| x.revealed != detail.revealed)
                    {
                        d.scroll = 0;
                    }
                    d.data = Some(detail);
                }
                effects.extend(self.take(alert));
                if current && self.link_after_load == Some(loaded.id) {
                    self.link_after_load = None;
                    effects.extend(self.pick_candidate(loaded.id, desk));
                }
            }
            Err(why) => {
                if current && let Some(d) = &mut self.detail {
                    d.loading = false;
                    d.problem = Some(why);
                }
                if self.link_after_load == Some(loaded.id) {
                    self.link_after_load = None;
                }
            }
        }
        effects
    }

    /// The alert changed under the handler's feet: it is fetched again, and they are told.
    fn stale(&mut self, id: i64, what: &str, why: &str, desk: &mut Desk) -> Vec<Effect> {
        desk.toast(
            format!(
                "告警 #{id} 已变化，已重新载入，请确认后再试 · the alert changed meanwhile ({what}: {why}); reloaded, try again"
            ),
            true,
        );
        vec![self.fetch(id, false)]
    }

    fn on_acted(&mut self, acted: AlertActed, desk: &mut Desk) -> Vec<Effect> {
        match acted.result {
            Ok(alert) => {
                desk.toast(acted.act.done(acted.id), false);
                self.take(alert)
            }
            Err(Refused::Stale(why)) => self.stale(acted.id, acted.act.what(), &why, desk),
            Err(Refused::Other(why)) => {
                desk.toast(
                    format!("{}失败 #{} · failed: {why}", acted.act.what(), acted.id),
                    true,
                );
                Vec::new()
            }
        }
    }

    fn on_linked(&mut self, linked: Linked, desk: &mut Desk) -> Vec<Effect> {
        match linked.result {
            Ok(detail) => {
                desk.toast(
                    format!(
                        "工单 #{} 已关联到告警 #{} 的事件单 · linked to the incident",
                        linked.ticket, linked.id
                    ),
                    false,
                );
                let alert = detail.alert.clone();
                if let Some(d) = &mut self.detail
                    && d.id == linked.id
                    && !d.loading
                {
                    // The answer is masked: a view revealed before is masked again.
                    d.data = Some(detail);
                }
                self.take(alert)
            }
            Err(Refused::Stale(why)) => self.stale(linked.id, "关联 link", &why, desk),
            Err(Refused::Other(why)) => {
                desk.toast(
                    format!("关联工单 #{} 失败 · link failed: {why}", linked.ticket),
                    true,
                );
                Vec::new()
            }
        }
    }

    fn on_monitors(&mut self, listed: MonitorsListed) {
        self.monitors_loading = false;
        let kept = self.selected_monitor().map(|m| m.name.clone());
        match listed.0 {
            Ok(list) => {
                self.monitors = Some(Ok(list));
                if let Some(at) =
                    kept.and_then(|name| self.monitors().iter().position(|m| m.name == name))
                {
                    self.monitor_at = at;
                }
            }
            // A refusal keeps what was there before.
            Err(why) if !matches!(self.monitors, Some(Ok(_))) => self.monitors = Some(Err(why)),
            Err(_) => {}
        }
        self.monitor_at = self.monitor_at.min(self.monitors().len().saturating_sub(1));
    }

    fn on_ran(&mut self, ran: MonitorRan, desk: &mut Desk) -> Vec<Effect> {
        self.running.remove(&ran.name);
        match ran.result {
            Ok(e) => {
                let alert = e.alert_id.map(|a| format!(" #{a}")).unwrap_or_default();
                desk.toast(
                    format!(
                        "监控 {} 已运行 ran: {}{alert} · {}",
                        ran.name, e.outcome, e.summary
                    ),
                    e.outcome == Outcome::Error,
                );
            }
            Err(why) => desk.toast(
                format!("监控 {} 运行失败 · run failed: {why}", ran.name),
                true,
            ),
        }
        // The alert comes over the stream; the monitors' outcomes and the history are asked.
        let mut effects = Vec::new();
        if self.monitors.is_some() {
            effects.extend(self.list_monitors());
        }
        if self.history.as_ref().is_some_and(|h| h.name == ran.name) {
            effects.push(run_job(FetchHistory { name: ran.name }));
        }
        effects
    }

    fn on_loaded(&mut self, loaded: Box<dyn std::any::Any + Send>, desk: &mut Desk) -> Vec<Effect> {
        let loaded = match loaded.downcast::<AlertsListed>() {
            Ok(l) => return self.on_listed(*l),
            Err(other) => other,
        };
        let loaded = match loaded.downcast::<AlertLoaded>() {
            Ok(l) => return self.on_loaded_detail(*l, desk),
            Err(other) => other,
        };
        let loaded = match loaded.downcast::<AlertActed>() {
            Ok(a) => return self.on_acted(*a, desk),
            Err(other) => other,
        };
        let loaded = match loaded.downcast::<Linked>() {
            Ok(l) => return self.on_linked(*l, desk),
            Err(other) => other,
        };
        let loaded = match loaded.downcast::<MonitorsListed>() {
            Ok(m) => {
                self.on_monitors(*m);
                return Vec::new();
            }
            Err(other) => other,
        };
        let loaded = match loaded.downcast::<HistoryLoaded>() {
            Ok(h) => {
                if let Some(shown) = &mut self.history
                    && shown.name == h.name
                {
                    shown.result = Some(h.result);
                }
                return Vec::new();
            }
            Err(other) => other,
        };
        if let Ok(ran) = loaded.downcast::<MonitorRan>() {
            return self.on_ran(*ran, desk);
        }
        Vec::new()
    }

    // ----- keys

    fn on_action(&mut self, action: Action, desk: &mut Desk) -> Handled {
        match self.view {
            View::Alerts => self.on_alerts_action(action, desk),
            View::Monitors => self.on_monitors_action(action, desk),
        }
    }

    /// Moves a cursor over `count` rows; `None` when the action is no move.
    fn moved(action: Action, at: usize, count: usize, page: usize) -> Option<usize> {
        let last = count.saturating_sub(1);
        Some(match action {
            Action::Down => (at + 1).min(last),
            Action::Up => at.saturating_sub(1),
            Action::PageDown => (at + page).min(last),
            Action::PageUp => at.saturating_sub(page),
            Action::Top => 0,
            Action::Bottom => last,
            _ => return None,
        })
    }

    fn on_alerts_action(&mut self, action: Action, desk: &mut Desk) -> Handled {
        let page = self.page.max(1);
        if self.reading {
            let step = page as u16;
            if let Some(d) = &mut self.detail {
                let scroll = match action {
                    Action::Down => Some(d.scroll.saturating_add(1)),
                    Action::Up => Some(d.scroll.saturating_sub(1)),
                    Action::PageDown => Some(d.scroll.saturating_add(step)),
                    Action::PageUp => Some(d.scroll.saturating_sub(step)),
                    Action::Top => Some(0),
                    Action::Bottom => Some(u16::MAX),
                    _ => None,
                };
                if let Some(s) = scroll {
                    d.scroll = s;
                    return Some(Vec::new());
                }
            }
        } else if let Some(at) = Self::moved(action, self.at, self.alerts.len(), page) {
            self.at = at;
            return Some(Vec::new());
        }
        if let Action::Back = action {
            if self.reading {
                self.reading = false;
                return Some(Vec::new());
            }
            return None;
        }
        if let Action::Monitors = action {
            self.view = View::Monitors;
            self.reading = false;
            return Some(self.list_monitors());
        }
        if let Action::Refresh = action {
            return Some(self.reload());
        }
        let Some(a) = self.selected().cloned() else {
            if matches!(action, Action::Open | Action::RunMonitor) || alert_action(action) {
                desk.toast("没有选中的告警 · no alert selected", false);
                return Some(Vec::new());
            }
            return None;
        };
        Some(match action {
            Action::Open => {
                self.reading = true;
                match self.detail_of_selected() {
                    Some(d) if d.data.is_some() || d.loading => Vec::new(),
                    _ => vec![self.fetch(a.id, false)],
                }
            }
            Action::Acknowledge if a.state != AlertState::Firing => {
                desk.toast(
                    format!(
                        "告警 #{} {}，无需确认 · only a firing alert is acknowledged",
                        a.id,
                        view::state_zh(a.state)
                    ),
                    false,
                );
                Vec::new()
            }
            Action::Acknowledge => vec![run_job(ActOnAlert {
                id: a.id,
                version: a.version,
                act: Act::Acknowledge,
            })],
            Action::Silence | Action::ResolveAlert if a.state == AlertState::Resolved => {
                desk.toast(
                    format!("告警 #{} 已解决 · the alert is resolved", a.id),
                    false,
                );
                Vec::new()
            }
            Action::Silence => {
                desk.overlay(Overlay::picker(
                    PaneId::ALERTS,
                    Ask::Silence(a.id),
                    format!("静默告警 #{} 多久 · silence for", a.id),
                    SILENCES
                        .iter()
                        .map(|(label, value)| (label.to_string(), value.to_string())),
                ));
                Vec::new()
            }
            Action::ResolveAlert => {
                desk.overlay(Overlay::confirm(
                    PaneId::ALERTS,
                    Ask::Resolve(a.id),
                    format!("解除告警 #{} {}？resolve it", a.id, a.monitor),
                ));
                Vec::new()
            }
            Action::OpenIncident => match a.ticket_id {
                Some(t) => {
                    desk.toast(
                        format!("已有事件单 #{t} · it has its incident (o 打开 opens it)"),
                        false,
                    );
                    Vec::new()
                }
                None => vec![run_job(ActOnAlert {
                    id: a.id,
                    version: a.version,
                    act: Act::OpenIncident,
                })],
            },
            Action::ShowIncident => {
                match a.ticket_id {
                    Some(t) => desk.request(Request::OpenTicket(t)),
                    None => desk.toast(
                        "还没有事件单 · no incident yet (t 开事件单 opens one)",
                        false,
                    ),
                }
                Vec::new()
            }
            Action::LinkCandidate => {
                if a.ticket_id.is_none() {
                    desk.toast(
                        "还没有事件单，先按 t 开一个 · no incident yet: t opens one",
                        false,
                    );
                    return Some(Vec::new());
                }
                match self.detail_of_selected() {
                    Some(d) if d.data.is_some() => self.pick_candidate(a.id, desk),
                    _ => {
                        self.reading = true;
                        self.link_after_load = Some(a.id);
                        match self.detail_of_selected() {
                            Some(d) if d.loading => Vec::new(),
                            _ => vec![self.fetch(a.id, false)],
                        }
                    }
                }
            }
            Action::Reveal => {
                desk.overlay(Overlay::confirm(
                    PaneId::ALERTS,
                    Ask::Reveal(a.id),
                    format!(
                        "完整显示告警 #{} 的客户数据？将记入审计 · show the customer data in full (audited)",
                        a.id
                    ),
                ));
                Vec::new()
            }
            Action::RunMonitor => self.run_monitor(a.monitor.clone(), desk),
            _ => return None,
        })
    }

    fn on_monitors_action(&mut self, action: Action, desk: &mut Desk) -> Handled {
        let count = self.monitors().len();
        if let Some(at) = Self::moved(action, self.monitor_at, count, self.page.max(1)) {
            self.monitor_at = at;
            return Some(Vec::new());
        }
        Some(match action {
            Action::Monitors | Action::Back => {
                self.view = View::Alerts;
                Vec::new()
            }
            Action::Refresh => self.reload(),
            Action::Open => match self.selected_monitor().map(|m| m.name.clone()) {
                Some(name) => {
                    self.history = Some(History {
                        name: name.clone(),
                        result: None,
                    });
                    vec![run_job(FetchHistory { name })]
                }
                None => Vec::new(),
            },
            Action::RunMonitor => match self.selected_monitor() {
                Some(m) if m.error.is_some() => {
                    desk.toast(
                        format!(
                            "监控 {} 的文件被拒绝，不能运行 · its file was refused",
                            m.name
                        ),
                        true,
                    );
                    Vec::new()
                }
                Some(m) => {
                    let name = m.name.clone();
                    self.run_monitor(name, desk)
                }
                None => Vec::new(),
            },
            a if alert_action(a) => {
                desk.toast(
                    "这是监控列表，m 回到告警 · the monitors are shown: m goes back to the alerts",
                    false,
                );
                Vec::new()
            }
            _ => return None,
        })
    }

    fn run_monitor(&mut self, name: String, desk: &mut Desk) -> Vec<Effect> {
        if !self.running.insert(name.clone()) {
            desk.toast(format!("监控 {name} 正在运行 · already running"), false);
            return Vec::new();
        }
        desk.toast(format!("运行监控 {name} · running it now"), false);
        vec![run_job(RunMonitor { name })]
    }

    /// The picker of the tickets offered for linking to alert `id`'s incident.
    fn pick_candidate(&mut self, id: i64, desk: &mut Desk) -> Vec<Effect> {
        let Some(data) = self
            .detail
            .as_ref()
            .filter(|d| d.id == id)
            .and_then(|d| d.data.as_ref())
        else {
            return Vec::new();
        };
        if data.alert.ticket_id.is_none() {
            desk.toast(
                "还没有事件单 · no incident yet (t 开事件单 opens one)",
                false,
            );
            return Vec::new();
        }
        if data.candidates.is_empty() {
            desk.toast("没有可关联的工单 · no ticket offered for linking", false);
            return Vec::new();
        }
        let options: Vec<(String, String)> = data
            .candidates
            .iter()
            .map(|t| {
                let why = t
                    .matched
                    .as_deref()
                    .map(|m| format!(" · 匹配 {m}"))
                    .unwrap_or_default();
                (
                    format!(
                        "#{} {} [{}] {}{why}",
                        t.id,
                        t.title,
                        t.status.label_zh(),
                        t.submitter
                    ),
                    t.id.to_string(),
                )
            })
            .collect();
        desk.overlay(Overlay::picker(
            PaneId::ALERTS,
            Ask::Link(id),
            format!("关联到告警 #{id} 的事件单 · link to the incident (输入以筛选 type to narrow)"),
            options,
        ));
        Vec::new()
    }

    fn on_answer(&mut self, ask: Ask, value: String) -> Vec<Effect> {
        let version = |id: i64| self.alerts.iter().find(|a| a.id == id).map(|a| a.version);
        match ask {
            Ask::Silence(id) => match version(id) {
                Some(version) => vec![run_job(ActOnAlert {
                    id,
                    version,
                    act: Act::Silence(value),
                })],
                None => Vec::new(),
            },
            Ask::Resolve(id) => match version(id) {
                Some(version) => vec![run_job(ActOnAlert {
                    id,
                    version,
                    act: Act::Resolve,
                })],
                None => Vec::new(),
            },
            Ask::Reveal(id) => {
                self.reading = true;
                vec![self.fetch(id, true)]
            }
            Ask::Link(id) => match value.parse::<TicketId>() {
                Ok(ticket) => vec![run_job(LinkToAlert { id, ticket })],
                Err(_) => Vec::new(),
            },
        }
    }
}

/// The actions that act on one alert.
fn alert_action(action: Action) -> bool {
    matches!(
        action,
        Action::Acknowledge
            | Action::Silence
            | Action::ResolveAlert
            | Action::OpenIncident
            | Action::ShowIncident
            | Action::LinkCandidate
            | Action::Reveal
    )
}

impl Pane for AlertsPane {
    fn id(&self) -> PaneId {
        PaneId::ALERTS
    }

    fn title(&self) -> &'static str {
        TITLES[self.firing().min(TITLES.len() - 1)]
    }

    fn context(&self) -> Context {
        Context::Alerts
    }

    fn commands(&self) -> Vec<Command> {
        let mut out = match self.view {
            View::Monitors => MONITORS.to_vec(),
            View::Alerts => {
                // The status line offers what can be done to the selected alert now.
                let a = self.selected();
                let applies = |action: Action| match (action, a) {
                    (Action::Acknowledge, Some(a)) => a.state == AlertState::Firing,
                    (Action::ResolveAlert, Some(a)) => a.state == AlertState::Acknowledged,
                    _ => false,
                };
                ALERTS
                    .iter()
                    .map(|c| Command {
                        hint: c.hint || applies(c.action),
                        ..*c
                    })
                    .collect()
            }
        };
        out.extend_from_slice(MOVES);
        out
    }

    fn update(&mut self, msg: Msg<'_>, desk: &mut Desk) -> Handled {
        match msg {
            Msg::Action(action) => self.on_action(action, desk),
            Msg::Shown { .. } => Some(self.shown()),
            // Signed in (the first news of the tickets): the alerts are listed at once, not at
            // the first visit, so the tab counts the firing ones from the start.
            Msg::Tickets if desk.me.is_some() => Some(self.start()),
            Msg::Change(change) => Some(self.on_change(change, desk)),
            Msg::Loaded(loaded) => Some(self.on_loaded(loaded, desk)),
            Msg::Picked { purpose, value, .. } => match purpose.take::<Ask>() {
                Ok(ask) => Some(self.on_answer(ask, value)),
                Err(_) => Some(Vec::new()),
            },
            Msg::Confirmed { purpose } => match purpose.take::<Ask>() {
                Ok(ask) => Some(self.on_answer(ask, String::new())),
                Err(_) => Some(Vec::new()),
            },
            _ => None,
        }
    }

    fn render(
        &mut self,
        area: ratatui::layout::Rect,
        buf: &mut ratatui::buffer::Buffer,
        ctx: &Ctx<'_>,
        focused: bool,
    ) {
        let (page, last) = view::render(self, area, buf, ctx, focused);
        self.page = page;
        // Scrolled past the end (G, or the rows got fewer): back to the last page.
        if let (Some(last), Some(d)) = (last, &mut self.detail) {
            d.scroll = d.scroll.min(last);
        }
    }
}

#[cfg(test)]
mod tests;
