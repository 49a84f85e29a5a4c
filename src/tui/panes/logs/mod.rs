//! Log lookups from the ticket in hand: coming here with a ticket shows its customer's lines
//! from every source around the time it was reported, newest first, as the server finds them.
//! A handler narrows them (text, level, source, a wider window, one trace), reads one whole
//! (its JSON fields, the lines of the same request), and puts the lines that matter into the
//! ticket as an internal note with the query that found them, for the next person to rerun.
//!
//! The lookup runs on the server (its sources' credentials and the audit of who looked stay
//! there); a new query cancels the one running, whose finds are dropped unread.

mod note;
mod view;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;

use super::{Command, Ctx, Handled, Input, Msg, Pane, PaneId};
use crate::api::{
    DataLookupRequest, DataRows, Found, LogLine, LookupRequest, QueryInfo, SourceInfo,
};
use crate::domain::ticket::TicketId;
use crate::tui::action::{Action, Context};
use crate::tui::desk::Desk;
use crate::tui::effect::{Effect, Io, Job};
use crate::tui::overlay::Overlay;
use crate::tui::work::Call;

/// The half-widths of the window around a ticket's reported time, `w` going to the next.
const WINDOWS: [i64; 4] = [30, 120, 360, 1440];
/// Finds handed to the pane together: a screenful arrives as one redraw, not a hundred.
const BATCH: usize = 100;
const BATCH_WAIT: StdDuration = StdDuration::from_millis(50);
/// How often follow mode asks for lines written since.
const FOLLOW_EVERY: StdDuration = StdDuration::from_secs(3);
/// Lines kept on screen: follow mode drops the oldest past it.
const MAX_LINES: usize = 10_000;
const LEVELS: [&str; 5] = ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"];

const COMMANDS: &[Command] = &[
    Command::hint(Action::Filter),
    Command::hint(Action::Open),
    Command::hint(Action::Mark),
    Command::hint(Action::Note),
    Command::hint(Action::PickSource),
    Command::hint(Action::DataQuery),
    Command::new(Action::FilterLevel),
    Command::new(Action::WidenWindow),
    Command::new(Action::SameTrace),
    Command::new(Action::SetIdentifiers),
    Command::new(Action::Follow),
    Command::new(Action::SavedQueries),
    Command::new(Action::SaveQuery),
    Command::new(Action::Rerun),
    Command::new(Action::ClearFilter),
    Command::new(Action::Down),
    Command::new(Action::Up),
    Command::new(Action::PageDown),
    Command::new(Action::PageUp),
    Command::new(Action::Top),
    Command::new(Action::Bottom),
];

/// How one source is doing with the lookup on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceState {
    Running,
    Done {
        lines: usize,
        total: Option<crate::api::lookups::Total>,
    },
    Failed(String),
}

#[derive(Debug, Default)]
pub struct LogsPane {
    /// The ticket the lookup is for (the one in hand when the pane was shown).
    ticket: Option<TicketId>,
    /// The ticket's reported time, the middle of the window.
    reported: Option<DateTime<Utc>>,
    /// Which of [`WINDOWS`] the window is.
    window: usize,
    /// Typed identifiers instead of the ticket's customer.
    identifiers: Vec<String>,
    /// Words a line must hold; while typing, the text before (esc puts it back).
    text: String,
    typing: Option<String>,
    level: Option<String>,
    /// Only these sources (empty: all).
    sources: Vec<String>,
    /// The sources the server offers, for the picker.
    offered: Vec<SourceInfo>,
    /// The lookup on screen, as sent.
    asked: Option<LookupRequest>,
    /// Bumped by every new lookup: a job whose number is behind stops and its finds are
    /// dropped.
    generation: Arc<AtomicU64>,
    lines: Vec<LogLine>,
    states: BTreeMap<String, SourceState>,
    warnings: Vec<String>,
    /// Hits a minute, over every source.
    minutes: BTreeMap<DateTime<Utc>, u64>,
    /// Why the lookup could not run at all.
    problem: Option<String>,
    selected: usize,
    /// Lines marked for the note, by source and origin.
    marked: BTreeSet<(String, String)>,
    /// Reading the selected line whole, scrolled this many rows.
    reading: Option<u16>,
    follow: bool,
    page: usize,
    /// The data sources' named queries, for the `d` picker.
    queries: Vec<QueryInfo>,
    /// A data lookup shown instead of the lines (`esc` goes back to them).
    data: Option<DataState>,
}

/// A data lookup on screen.
#[derive(Debug)]
pub enum DataState {
    /// Asked for: the query's title.
    Asking(String),
    Rows(DataRows),
    Failed(String),
}

/// Runs a data source's named query for the ticket's customer.
#[derive(Debug, PartialEq, Eq)]
pub struct RunData(pub DataLookupRequest);

/// What a data lookup answered.
pub struct DataFound(pub Result<DataRows, String>);

impl Job for RunData {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let found = io
                .client
                .data_lookup(&self.0)
                .await
                .map_err(|e| crate::tui::calls::explain(&e));
            io.reply(DataFound(found)).await;
        }
        .boxed()
    }
}

/// Runs a lookup on the server and hands its finds back in batches; with `follow`, asks
/// again every few seconds for what was written since, until the pane moves on.
#[derive(Debug)]
pub struct LookUp {
    pub req: LookupRequest,
    pub generation: u64,
    pub current: Arc<AtomicU64>,
    pub follow: bool,
}

/// Finds of the lookup numbered `generation`; `end` when it is over (or could not run:
/// `problem`).
pub struct Finds {
    pub generation: u64,
    pub finds: Vec<Found>,
    pub end: bool,
    pub problem: Option<String>,
}

impl LookUp {
    fn stale(&self) -> bool {
        self.current.load(Ordering::Relaxed) != self.generation
    }

    async fn reply(&self, io: &Io, finds: Vec<Found>, end: bool, problem: Option<String>) {
        io.reply(Finds {
            generation: self.generation,
            finds,
            end,
            problem,
        })
        .await;
    }

    /// One lookup to its end, in batches. Whether it ran; the newest time it saw.
    async fn once(&self, io: &Io, req: &LookupRequest) -> Option<DateTime<Utc>> {
        let mut finds = match io.client.lookup(req).await {
            Ok(finds) => finds,
            Err(e) => {
                if !self.stale() {
                    let why = crate::tui::calls::explain(&e);
                    self.reply(io, Vec::new(), true, Some(why)).await;
                }
                return None;
            }
        };
        let mut newest = None;
        let mut batch = Vec::new();
        let mut since = tokio::time::Instant::now();
        loop {
            let next = tokio::time::timeout(BATCH_WAIT, finds.next()).await;
            // Dropping the finds here ends the lookup on the server too.
            if self.stale() {
                return None;
            }
            let over = match next {
                Ok(Some(Ok(found))) => {
                    if let Found::Line(l) = &found {
                        newest = newest.max(Some(l.at));
                    }
                    batch.push(found);
                    false
                }
                Ok(Some(Err(e))) => {
                    let why = crate::tui::calls::explain(&e);
                    self.reply(io, std::mem::take(&mut batch), true, Some(why))
                        .await;
                    return None;
                }
                Ok(None) => true,
                Err(_waited) => false,
            };
            if over {
                self.reply(io, std::mem::take(&mut batch), true, None).await;
                return newest.or(Some(req.from.unwrap_or_else(Utc::now)));
            }
            if batch.len() >= BATCH || (since.elapsed() >= BATCH_WAIT && !batch.is_empty()) {
                self.reply(io, std::mem::take(&mut batch), false, None)
                    .await;
                since = tokio::time::Instant::now();
            }
        }
    }
}

impl Job for LookUp {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let Some(mut newest) = self.once(&io, &self.req).await else {
                return;
            };
            if !self.follow {
                return;
            }
            // Until a new lookup (or leaving follow mode) makes this one stale.
            loop {
                tokio::time::sleep(FOLLOW_EVERY).await;
                if self.stale() {
                    return;
                }
                // What was written since the newest line seen, up to now.
                let req = LookupRequest {
                    from: Some(newest),
                    to: Some(Utc::now()),
                    ..self.req.clone()
                };
                match self.once(&io, &req).await {
                    Some(seen) => newest = newest.max(seen),
                    None => return,
                }
            }
        }
        .boxed()
    }
}

/// Asks the server which sources and data queries it offers.
#[derive(Debug, PartialEq, Eq)]
pub struct LoadSources;

pub struct Offered(pub Result<(Vec<SourceInfo>, Vec<QueryInfo>), String>);

impl Job for LoadSources {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let sources = io.client.lookup_sources().await;
            let queries = io.client.lookup_queries().await;
            let offered = sources
                .and_then(|s| queries.map(|q| (s, q)))
                .map_err(|e| crate::tui::calls::explain(&e));
            io.reply(Offered(offered)).await;
        }
        .boxed()
    }
}

/// What the pickers and prompts of the pane were for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Source,
    Level,
    Identifiers,
    SaveAs,
    Saved,
    Data,
}

/// A lookup's filters kept under a name, to run again on another ticket: kept in the local
/// cache beside the drafts (key [`SAVED`] + name), so they outlive the workstation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct SavedLookup {
    #[serde(default)]
    identifiers: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    window: usize,
}

/// Where saved lookups are kept among the drafts.
const SAVED: &str = "logs/saved/";

impl LogsPane {
    /// The lookup the pane's settings describe.
    fn request(&self) -> LookupRequest {
        let half = Duration::minutes(WINDOWS[self.window]);
        let (from, to) = match self.reported {
            Some(at) => (Some(at - half), Some(at + half)),
            // No ticket: the last stretch up to now (the server's own default is an hour).
            None => (Some(Utc::now() - half * 2), None),
        };
        LookupRequest {
            ticket: self.ticket,
            sources: self.sources.clone(),
            identifiers: self.identifiers.clone(),
            from,
            to,
            level: self.level.clone(),
            text: Some(self.text.trim().to_string()).filter(|t| !t.is_empty()),
            regex: None,
            limit: None,
        }
    }

    /// Starts the lookup the settings describe, cancelling the one running.
    fn run(&mut self) -> Vec<Effect> {
        if self.ticket.is_none() && self.identifiers.is_empty() && self.text.trim().is_empty() {
            self.problem = Some(
                "先选中一个工单，或按 u 输入客户标识 select a ticket, or press u to type identifiers"
                    .into(),
            );
            return Vec::new();
        }
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let req = self.request();
        self.asked = Some(req.clone());
        self.lines.clear();
        self.minutes.clear();
        self.warnings.clear();
        self.marked.clear();
        self.problem = None;
        self.selected = 0;
        self.reading = None;
        let picked: Vec<String> = if self.sources.is_empty() {
            self.offered.iter().map(|s| s.name.clone()).collect()
        } else {
            self.sources.clone()
        };
        self.states = picked
            .into_iter()
            .map(|name| (name, SourceState::Running))
            .collect();
        vec![Effect::run(
            Some(PaneId::LOGS),
            LookUp {
                req,
                generation,
                current: self.generation.clone(),
                follow: self.follow,
            },
        )]
    }

    /// Stops the lookup running: its finds are no longer wanted.
    fn cancel(&mut self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    fn on_finds(&mut self, finds: Finds) {
        if finds.generation != self.generation.load(Ordering::Relaxed) {
            return;
        }
        for found in finds.finds {
            match found {
                Found::Line(line) => self.insert(line),
                Found::Minutes { minutes, .. } => {
                    for m in minutes {
                        *self.minutes.entry(m.at).or_default() += m.count;
                    }
                }
                Found::Warning { source, message } => {
                    self.warnings.push(format!("{source}: {message}"))
                }
                Found::Failed { source, message } => {
                    self.states.insert(source, SourceState::Failed(message));
                }
                Found::Done {
                    source,
                    lines,
                    total,
                    ..
                } => {
                    self.states
                        .insert(source, SourceState::Done { lines, total });
                }
            }
        }
        if let Some(why) = finds.problem {
            self.problem = Some(why);
        }
        if finds.end
            && let Some(why) = &self.problem
        {
            // The lookup broke off before these sources had their last word.
            for state in self.states.values_mut() {
                if *state == SourceState::Running {
                    *state = SourceState::Failed(why.clone());
                }
            }
        }
    }

    /// Puts a line in its place, newest first; the selection stays on its line. A line seen
    /// already (follow mode's overlap) is skipped.
    fn insert(&mut self, line: LogLine) {
        let at = self.lines.partition_point(|l| l.at > line.at);
        let same = self.lines[at..]
            .iter()
            .take_while(|l| l.at == line.at)
            .any(|l| l.origin == line.origin && l.source == line.source);
        if same {
            return;
        }
        self.lines.insert(at, line);
        if at <= self.selected && self.lines.len() > 1 && self.selected > 0 {
            self.selected += 1;
        }
        if self.lines.len() > MAX_LINES {
            self.lines.pop();
            self.selected = self.selected.min(self.lines.len() - 1);
        }
    }

    fn selected_line(&self) -> Option<&LogLine> {
        self.lines.get(self.selected)
    }

    fn key(line: &LogLine) -> (String, String) {
        (line.source.clone(), line.origin.clone())
    }

    fn navigate(&mut self, action: Action) -> Option<Vec<Effect>> {
        let last = self.lines.len().saturating_sub(1);
        self.selected = match action {
            Action::Down => (self.selected + 1).min(last),
            Action::Up => self.selected.saturating_sub(1),
            Action::PageDown => (self.selected + self.page.max(1)).min(last),
            Action::PageUp => self.selected.saturating_sub(self.page.max(1)),
            Action::Top => 0,
            Action::Bottom => last,
            _ => return None,
        };
        Some(Vec::new())
    }

    /// The marked lines (else the selected one) into the ticket as an internal note, with
    /// the query that found them.
    fn note(&mut self, desk: &mut Desk) -> Vec<Effect> {
        let Some(id) = self.ticket else {
            desk.toast(
                "先选中一个工单再记入备注 select a ticket first to note lines into it",
                true,
            );
            return Vec::new();
        };
        let chosen: Vec<&LogLine> = if self.marked.is_empty() {
            self.selected_line().into_iter().collect()
        } else {
            // Oldest first, as they happened.
            self.lines
                .iter()
                .rev()
                .filter(|l| self.marked.contains(&Self::key(l)))
                .collect()
        };
        let (Some(asked), false) = (&self.asked, chosen.is_empty()) else {
            desk.toast("没有可记入的日志行 no line to note", true);
            return Vec::new();
        };
        let body = note::text(&chosen, asked, desk.tz);
        let count = chosen.len();
        self.marked.clear();
        desk.toast(
            format!("已将 {count} 行日志记入 #{id} 的内部备注 noted"),
            false,
        );
        vec![Effect::Call(Call::Message {
            id,
            body,
            internal: true,
            key: format!("tui-logs-{}-{count}", desk.now.timestamp_micros()),
        })]
    }

    fn on_action(&mut self, action: Action, desk: &mut Desk) -> Handled {
        if let Some(before) = self.typing.take() {
            return Some(match action {
                Action::Back | Action::Cancel => {
                    self.text = before;
                    Vec::new()
                }
                Action::Open | Action::Submit => self.run(),
                _ => {
                    self.typing = Some(before);
                    Vec::new()
                }
            });
        }
        if self.data.is_some() {
            match action {
                Action::Back | Action::Cancel => {
                    self.data = None;
                    return Some(Vec::new());
                }
                Action::Note => return Some(self.note_data(desk)),
                _ => {}
            }
        }
        if let Some(scroll) = self.reading {
            let page = u16::try_from(self.page.max(1)).unwrap_or(u16::MAX);
            let to = match action {
                Action::Down => Some(scroll.saturating_add(1)),
                Action::Up => Some(scroll.saturating_sub(1)),
                Action::PageDown => Some(scroll.saturating_add(page)),
                Action::PageUp => Some(scroll.saturating_sub(page)),
                Action::Top => Some(0),
                Action::Bottom => Some(u16::MAX),
                Action::Back | Action::Cancel | Action::Open => {
                    self.reading = None;
                    return Some(Vec::new());
                }
                _ => None,
            };
            if let Some(to) = to {
                self.reading = Some(to);
                return Some(Vec::new());
            }
        }
        Some(match action {
            Action::Filter => {
                self.typing = Some(self.text.clone());
                Vec::new()
            }
            Action::ClearFilter => {
                self.text.clear();
                self.level = None;
                self.sources.clear();
                self.identifiers.clear();
                self.window = 0;
                self.run()
            }
            Action::Open if self.selected_line().is_some() => {
                self.reading = Some(0);
                Vec::new()
            }
            Action::Mark => {
                if let Some(key) = self.selected_line().map(Self::key)
                    && !self.marked.remove(&key)
                {
                    self.marked.insert(key);
                }
                self.navigate(Action::Down).unwrap_or_default()
            }
            Action::Note => self.note(desk),
            Action::PickSource => {
                let mut options = vec![("全部 all sources".to_string(), String::new())];
                options.extend(
                    self.offered
                        .iter()
                        .map(|s| (format!("{} ({})", s.name, s.kind), s.name.clone())),
                );
                desk.overlay(Overlay::picker(
                    PaneId::LOGS,
                    Ask::Source,
                    "日志源 source",
                    options,
                ));
                Vec::new()
            }
            Action::FilterLevel => {
                let mut options = vec![("全部级别 any level".to_string(), String::new())];
                options.extend(LEVELS.iter().map(|l| (l.to_string(), l.to_string())));
                desk.overlay(Overlay::picker(
                    PaneId::LOGS,
                    Ask::Level,
                    "级别 level",
                    options,
                ));
                Vec::new()
            }
            Action::SetIdentifiers => {
                desk.overlay(Overlay::prompt(
                    PaneId::LOGS,
                    Ask::Identifiers,
                    "客户标识 identifiers (资金账号 手机号 用户ID trace id, 空格分隔; 空: 工单的客户)",
                    self.identifiers.join(" "),
                ));
                Vec::new()
            }
            Action::WidenWindow => {
                self.window = (self.window + 1) % WINDOWS.len();
                self.run()
            }
            Action::SameTrace => match self.selected_line().and_then(|l| l.trace.clone()) {
                Some(trace) => {
                    self.identifiers = vec![trace];
                    self.text.clear();
                    self.level = None;
                    self.run()
                }
                None => {
                    desk.toast("这一行没有 trace id the line carries no trace id", true);
                    Vec::new()
                }
            },
            Action::Follow => {
                self.follow = !self.follow;
                desk.toast(
                    if self.follow {
                        "跟随新日志 following new lines (every 3 s)"
                    } else {
                        "停止跟随 stopped following"
                    },
                    false,
                );
                self.run()
            }
            Action::Rerun => self.run(),
            Action::DataQuery => {
                if self.ticket.is_none() {
                    desk.toast("先选中一个工单 select a ticket first", true);
                } else if self.queries.is_empty() {
                    desk.toast(
                        "服务器没有配置数据查询 the server has no data queries (kind = \"sql\")",
                        true,
                    );
                } else {
                    let options = self.queries.iter().map(|q| {
                        let title = q.title.as_deref().unwrap_or(&q.name);
                        (
                            format!("{title} · {} · by {} ({})", q.name, q.by, q.source),
                            format!("{}/{}", q.source, q.name),
                        )
                    });
                    desk.overlay(Overlay::picker(
                        PaneId::LOGS,
                        Ask::Data,
                        "数据查询 data lookup",
                        options,
                    ));
                }
                Vec::new()
            }
            Action::SaveQuery => {
                desk.overlay(Overlay::prompt(
                    PaneId::LOGS,
                    Ask::SaveAs,
                    "保存查询为 save this lookup as (名称 name)",
                    "",
                ));
                Vec::new()
            }
            Action::SavedQueries => {
                let mut options: Vec<(String, String)> = desk
                    .drafts
                    .iter()
                    .filter_map(|(key, text)| {
                        let name = key.strip_prefix(SAVED)?;
                        let saved: SavedLookup = serde_json::from_str(text).ok()?;
                        Some((format!("{name} · {}", summary(&saved)), name.to_string()))
                    })
                    .collect();
                options.sort();
                if options.is_empty() {
                    desk.toast(
                        "还没有保存的查询 no lookup kept yet · S 保存当前查询 keeps this one",
                        true,
                    );
                } else {
                    desk.overlay(Overlay::picker(
                        PaneId::LOGS,
                        Ask::Saved,
                        "已存查询 kept lookups",
                        options,
                    ));
                }
                Vec::new()
            }
            Action::Back if self.asked.is_some() && !self.states_done() => {
                self.cancel();
                for state in self.states.values_mut() {
                    if *state == SourceState::Running {
                        *state = SourceState::Failed("已取消 cancelled".into());
                    }
                }
                Vec::new()
            }
            other => return self.navigate(other),
        })
    }

    /// Runs the query picked (`source/name`) for the ticket's customer.
    fn run_data(&mut self, picked: &str) -> Vec<Effect> {
        let Some((source, name)) = picked.split_once('/') else {
            return Vec::new();
        };
        let title = self
            .queries
            .iter()
            .find(|q| q.source == source && q.name == name)
            .and_then(|q| q.title.clone())
            .unwrap_or_else(|| name.to_string());
        self.data = Some(DataState::Asking(title));
        vec![Effect::run(
            Some(PaneId::LOGS),
            RunData(DataLookupRequest {
                query: name.to_string(),
                source: Some(source.to_string()),
                ticket: self.ticket,
                ..Default::default()
            }),
        )]
    }

    /// The data lookup on screen into the ticket as an internal note, with the command that
    /// runs it again.
    fn note_data(&mut self, desk: &mut Desk) -> Vec<Effect> {
        let (Some(id), Some(DataState::Rows(rows))) = (self.ticket, &self.data) else {
            desk.toast("没有可记入的数据 nothing to note yet", true);
            return Vec::new();
        };
        let body = note::data_text(rows, id);
        desk.toast(format!("已将查询结果记入 #{id} 的内部备注 noted"), false);
        vec![Effect::Call(Call::Message {
            id,
            body,
            internal: true,
            key: format!("tui-data-{}", desk.now.timestamp_micros()),
        })]
    }

    /// Keeps the pane's filters under `name` (replacing one of that name).
    fn save_as(&mut self, name: &str, desk: &mut Desk) -> Vec<Effect> {
        if name.is_empty() || name.chars().count() > 40 {
            desk.toast("名称须为 1 到 40 个字符 a name of 1 to 40 characters", true);
            return Vec::new();
        }
        let saved = SavedLookup {
            identifiers: self.identifiers.clone(),
            sources: self.sources.clone(),
            level: self.level.clone(),
            text: self.text.clone(),
            window: self.window,
        };
        let (key, text) = (
            format!("{SAVED}{name}"),
            serde_json::to_string(&saved).unwrap_or_default(),
        );
        desk.toast(
            format!("已保存查询 kept as '{name}' · L 在其他工单上运行 run it on another ticket"),
            false,
        );
        vec![crate::tui::drafts::keep(key, text, desk)]
    }

    fn states_done(&self) -> bool {
        self.states.values().all(|s| *s != SourceState::Running)
    }

    fn on_answer(&mut self, ask: Ask, value: String, desk: &mut Desk) -> Vec<Effect> {
        match ask {
            Ask::Data => return self.run_data(&value),
            Ask::SaveAs => return self.save_as(value.trim(), desk),
            Ask::Saved => {
                let saved = desk
                    .drafts
                    .get(&format!("{SAVED}{value}"))
                    .and_then(|text| serde_json::from_str::<SavedLookup>(text).ok());
                let Some(saved) = saved else {
                    desk.toast("这个查询读不出来了 that kept lookup cannot be read", true);
                    return Vec::new();
                };
                self.identifiers = saved.identifiers;
                self.sources = saved.sources;
                self.level = saved.level;
                self.text = saved.text;
                self.window = saved.window.min(WINDOWS.len() - 1);
            }
            Ask::Source => {
                self.sources = if value.is_empty() {
                    Vec::new()
                } else {
                    vec![value]
                }
            }
            Ask::Level => self.level = Some(value).filter(|v| !v.is_empty()),
            Ask::Identifiers => {
                self.identifiers = value.split_whitespace().map(str::to_string).collect()
            }
        }
        self.run()
    }
}

impl Pane for LogsPane {
    fn id(&self) -> PaneId {
        PaneId::LOGS
    }

    fn title(&self) -> &'static str {
        "日志 Logs"
    }

    fn context(&self) -> Context {
        Context::Logs
    }

    fn commands(&self) -> Vec<Command> {
        COMMANDS.to_vec()
    }

    fn input(&self) -> Option<Input<'_>> {
        self.typing.as_ref().map(|_| Input {
            prompt: "包含文字 text ",
            text: &self.text,
        })
    }

    fn ticket_in_hand(&self) -> Option<TicketId> {
        self.ticket
    }

    fn update(&mut self, msg: Msg<'_>, desk: &mut Desk) -> Handled {
        match msg {
            Msg::Action(action) => self.on_action(action, desk),
            Msg::Edit(edit) => {
                crate::tui::overlay::edit_line(&mut self.text, edit);
                Some(Vec::new())
            }
            Msg::Pasted(text) => {
                self.text.push_str(text);
                Some(Vec::new())
            }
            Msg::Shown { in_hand } => {
                let mut effects = Vec::new();
                if self.offered.is_empty() {
                    effects.push(Effect::run(Some(PaneId::LOGS), LoadSources));
                }
                // A new ticket in hand: its customer's lines around its time, from scratch.
                if in_hand.is_some() && in_hand != self.ticket {
                    self.ticket = in_hand;
                    self.reported = in_hand
                        .and_then(|id| desk.tickets.row(id))
                        .map(|r| r.created_at);
                    self.identifiers.clear();
                    self.text.clear();
                    self.level = None;
                    self.window = 0;
                    effects.extend(self.run());
                }
                Some(effects)
            }
            Msg::Picked { purpose, value, .. } => match purpose.take::<Ask>() {
                Ok(ask) => Some(self.on_answer(ask, value, desk)),
                Err(_) => Some(Vec::new()),
            },
            Msg::Prompted { purpose, input } => match purpose.take::<Ask>() {
                Ok(ask) => Some(self.on_answer(ask, input, desk)),
                Err(_) => Some(Vec::new()),
            },
            Msg::Loaded(loaded) => {
                let loaded = match loaded.downcast::<Finds>() {
                    Ok(finds) => {
                        self.on_finds(*finds);
                        return Some(Vec::new());
                    }
                    Err(other) => other,
                };
                let loaded = match loaded.downcast::<DataFound>() {
                    Ok(found) => {
                        // Dropped when the handler went back to the lines meanwhile.
                        if self.data.is_some() {
                            self.data = Some(match found.0 {
                                Ok(rows) => DataState::Rows(rows),
                                Err(why) => DataState::Failed(why),
                            });
                        }
                        return Some(Vec::new());
                    }
                    Err(other) => other,
                };
                if let Ok(offered) = loaded.downcast::<Offered>() {
                    match offered.0 {
                        Ok((sources, queries)) => {
                            self.queries = queries;
                            let sources: Vec<SourceInfo> =
                                sources.into_iter().filter(|s| s.kind != "sql").collect();
                            // The lookup already running names them as they answer.
                            if self.sources.is_empty() && self.asked.is_some() {
                                for s in &sources {
                                    self.states
                                        .entry(s.name.clone())
                                        .or_insert(SourceState::Running);
                                }
                            }
                            self.offered = sources;
                        }
                        Err(why) => self.problem = Some(why),
                    }
                }
                Some(Vec::new())
            }
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
        let (rows, last_row) = view::render(self, area, buf, ctx, focused);
        self.page = rows;
        if let (Some(scroll), Some(last)) = (self.reading, last_row) {
            self.reading = Some(scroll.min(last));
        }
    }
}

/// A kept lookup in a few words, for the picker.
fn summary(saved: &SavedLookup) -> String {
    let mut parts = Vec::new();
    if !saved.identifiers.is_empty() {
        parts.push(saved.identifiers.join(" "));
    }
    if !saved.text.is_empty() {
        parts.push(format!("“{}”", saved.text));
    }
    if let Some(level) = &saved.level {
        parts.push(level.clone());
    }
    if !saved.sources.is_empty() {
        parts.push(saved.sources.join(","));
    }
    parts.push(format!(
        "±{}",
        crate::display::duration(WINDOWS[saved.window.min(WINDOWS.len() - 1)] * 60)
    ));
    parts.join(" · ")
}
