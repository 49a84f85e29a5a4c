//! The service center's figures: a weekly or monthly report as the server assembles it (the
//! key figures, tickets by category and system against the period before, the trend of the
//! last twelve periods, the daily volume, recurring problems, workload, the help center's
//! deflections and the knowledge sessions), stepped through period by period.
//!
//! One scrolling page, as k9s and lazygit users expect: `j`/`k` move a cursor over what can be
//! opened (the category and system bars, the recurring problems, the sessions) and the page
//! follows it; `enter` lists the tickets behind a bar or a problem in the queue. A knowledge
//! session is recorded (`n`) or changed (`e`) in the shared editor, and the report is asked
//! again after.
//!
//! The pane reads the report through its own job and asks the queue to list tickets with the
//! queue's own search job; it touches no other pane's state.

mod prepared;
pub mod session;
mod view;

use chrono::Duration;
use futures::FutureExt;
use futures::future::BoxFuture;

use super::queue::{Query, Search, Window};
use super::{Command, Ctx, Handled, Msg, Pane, PaneId};
use crate::domain::report::{NewSession, Period, Report, ReportKind};
use crate::tui::action::{Action, Context};
use crate::tui::desk::{Desk, Request};
use crate::tui::effect::{Effect, Io, Job};
pub use prepared::Item;
use prepared::Prepared;

const COMMANDS: &[Command] = &[
    Command::hint(Action::Open),
    Command::hint(Action::PrevPeriod),
    Command::hint(Action::NextPeriod),
    Command::new(Action::SwitchReport),
    Command::new(Action::ThisPeriod),
    Command::new(Action::ReloadReport),
    Command::new(Action::RecordSession),
    Command::new(Action::EditSession),
    Command::new(Action::Down),
    Command::new(Action::Up),
    Command::new(Action::PageDown),
    Command::new(Action::PageUp),
    Command::new(Action::Top),
    Command::new(Action::Bottom),
];

#[derive(Debug)]
pub struct StatsPane {
    kind: ReportKind,
    /// The period asked for; `None` is the one now running.
    period: Option<Period>,
    /// The last good report and what is drawn from it, kept while another is fetched or
    /// refused.
    shown: Option<Prepared>,
    /// The fetch in flight, by number: an answer to an older one is dropped.
    asked: u64,
    loading: bool,
    /// Why the last fetch failed, in words.
    problem: Option<String>,
    /// Which of the report's items the cursor is on.
    cursor: usize,
    /// The first row of the page on screen, and whether it follows the cursor.
    scroll: u16,
    follow: bool,
    /// Where the last render put things: the rows a page shows, the furthest the page
    /// scrolls, and each item's rows.
    page: u16,
    last_scroll: u16,
    spots: Vec<view::Spot>,
    /// The page laid out for the last width and theme drawn.
    laid: Option<view::Laid>,
}

impl Default for StatsPane {
    fn default() -> Self {
        StatsPane {
            kind: ReportKind::Weekly,
            period: None,
            shown: None,
            asked: 0,
            loading: false,
            problem: None,
            cursor: 0,
            scroll: 0,
            follow: true,
            page: 10,
            last_scroll: u16::MAX,
            spots: Vec::new(),
            laid: None,
        }
    }
}

/// Fetches a report: `period` `None` is the one now running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchReport {
    pub kind: ReportKind,
    pub period: Option<String>,
    /// The pane's number for this fetch.
    pub asked: u64,
}

/// What a fetch brought.
#[derive(Debug)]
pub struct ReportLoaded {
    pub asked: u64,
    pub result: Result<Report, String>,
}

impl Job for FetchReport {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let result = io
                .client
                .report(self.kind, self.period.as_deref())
                .await
                .map_err(|e| crate::tui::calls::explain(&e));
            io.reply(ReportLoaded {
                asked: self.asked,
                result,
            })
            .await;
        }
        .boxed()
    }
}

impl StatsPane {
    /// The report on screen, if any.
    pub fn report(&self) -> Option<&Report> {
        self.shown.as_ref().map(|p| &p.report)
    }

    /// What the cursor is on.
    pub fn selected(&self) -> Option<Item> {
        self.shown.as_ref()?.items.get(self.cursor).copied()
    }

    pub fn is_loading(&self) -> bool {
        self.loading
    }

    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// Asks for the report of the pane's kind and period.
    fn fetch(&mut self) -> Vec<Effect> {
        self.asked += 1;
        self.loading = true;
        vec![Effect::run(
            Some(PaneId::STATS),
            FetchReport {
                kind: self.kind,
                period: self.period.map(|p| p.to_string()),
                asked: self.asked,
            },
        )]
    }

    /// The period now running, of the pane's kind, by the desk's clock and zone.
    fn running(&self, desk: &Desk) -> Period {
        self.kind.period_at(desk.now, desk.tz)
    }

    /// The period the pane stands on: the one asked for, else the one now running.
    fn standing(&self, desk: &Desk) -> Period {
        self.period.unwrap_or_else(|| self.running(desk))
    }

    /// Goes to `to`, unless it has not begun yet.
    fn go_to(&mut self, to: Period, desk: &mut Desk) -> Vec<Effect> {
        let running = self.running(desk);
        if to > running {
            desk.toast(
                format!("{running} 是本期，之后的还没有开始 · {running} is the period now running"),
                true,
            );
            return Vec::new();
        }
        self.period = (to != running).then_some(to);
        self.fetch()
    }

    /// Weekly to monthly (the month holding the week's Thursday, as ISO counts a week's
    /// month) and back (the month's last week, or this week for the month now running).
    fn switch_kind(&mut self, desk: &Desk) -> Vec<Effect> {
        let from = self.period;
        self.kind = match self.kind {
            ReportKind::Weekly => ReportKind::Monthly,
            ReportKind::Monthly => ReportKind::Weekly,
        };
        self.period = from.and_then(|p| {
            let (start, end) = p.bounds(desk.tz);
            let to = match p {
                Period::Week { .. } => Period::month_of(start + Duration::days(3), desk.tz),
                Period::Month { .. } => Period::week_of(end - Duration::seconds(1), desk.tz),
            };
            (to != self.running(desk)).then_some(to)
        });
        self.fetch()
    }

    fn on_loaded(&mut self, loaded: ReportLoaded, desk: &Desk) {
        if loaded.asked != self.asked {
            return;
        }
        self.loading = false;
        match loaded.result {
            Ok(report) => {
                let same = self
                    .shown
                    .as_ref()
                    .is_some_and(|p| p.report.period == report.period && p.kind() == report.kind);
                self.shown = Some(Prepared::of(report, desk));
                self.laid = None;
                self.problem = None;
                // A reload keeps the place; another period starts at the top.
                if !same {
                    self.cursor = 0;
                    self.scroll = 0;
                    self.follow = false;
                }
                let items = self.shown.as_ref().map_or(0, |p| p.items.len());
                self.cursor = self.cursor.min(items.saturating_sub(1));
            }
            Err(why) => {
                let what = match self.period {
                    Some(p) => format!("{} {p}", self.kind.zh()),
                    None => format!("本期{}", self.kind.zh()),
                };
                self.problem = Some(format!("未能载入 {what} · could not load it: {why}"));
            }
        }
    }

    /// The creation window of the report on screen, named by its period.
    fn window(report: &Report) -> Window {
        Window {
            from: report.starts_at,
            to: report.ends_at,
            label: report.period.clone(),
        }
    }

    /// The queue's search that lists the tickets behind `item`.
    pub fn drill_query(&self, item: Item) -> Option<Query> {
        let p = self.shown.as_ref()?;
        let report = &p.report;
        Some(match item {
            Item::Category(i) => Query {
                category: Some(p.categories.get(i)?.key.parse().ok()?),
                created: Some(Self::window(report)),
                ..Query::default()
            },
            Item::System(i) => Query {
                system: Some(p.systems.get(i)?.key.clone()),
                created: Some(Self::window(report)),
                ..Query::default()
            },
            Item::Recurring(i) => {
                let r = report.recurring.get(i)?;
                Query {
                    ids: r.examples.clone(),
                    about: Some(format!(
                        "反复 recurring '{}' · {} · 例 {}/{}",
                        r.title,
                        report.period,
                        r.examples.len(),
                        r.tickets
                    )),
                    ..Query::default()
                }
            }
            Item::Session(_) => return None,
        })
    }

    /// `enter`: the tickets behind the bar or problem in the queue; a session opens its form.
    fn open(&mut self, desk: &mut Desk) -> Vec<Effect> {
        let Some(item) = self.selected() else {
            return Vec::new();
        };
        if let Item::Session(_) = item {
            self.edit_session(desk);
            return Vec::new();
        }
        let Some(query) = self.drill_query(item) else {
            desk.toast("这一项列不出工单 nothing to list for it", true);
            return Vec::new();
        };
        desk.toast(format!("正在列出 listing {}", query.describe()), false);
        desk.request(Request::Focus(PaneId::QUEUE));
        vec![Effect::run(Some(PaneId::QUEUE), Search(query))]
    }

    fn today(desk: &Desk) -> chrono::NaiveDate {
        desk.now.with_timezone(&desk.tz).date_naive()
    }

    fn record_session(&self, desk: &mut Desk) {
        let topic = self.report().and_then(|r| r.topics.first());
        let values = session::blank(Self::today(desk), topic);
        session::open(session::Form::New, &values, desk);
    }

    fn edit_session(&self, desk: &mut Desk) {
        let chosen = match (self.selected(), self.report()) {
            (Some(Item::Session(i)), Some(r)) => r.sessions.get(i),
            _ => None,
        };
        let Some(effect) = chosen else {
            desk.toast(
                "先用 j/k 选中一次知识分享 select a knowledge session first",
                true,
            );
            return;
        };
        let s = &effect.session;
        let form = session::Form::Edit {
            id: s.id,
            version: s.version,
        };
        session::open(form, &NewSession::from(s), desk);
    }

    /// The items wholly on the page as last drawn at the current scroll.
    fn in_view(&self) -> impl Iterator<Item = usize> + '_ {
        let (top, bottom) = (self.scroll, self.scroll.saturating_add(self.page));
        self.spots
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.top >= top && s.top + s.height <= bottom)
            .map(|(i, _)| i)
    }

    /// Moving the cursor and the page.
    fn navigate(&mut self, action: Action) -> Option<Vec<Effect>> {
        let count = self.shown.as_ref().map_or(0, |p| p.items.len());
        let last = count.saturating_sub(1);
        let page = self.page.max(2) - 1;
        match action {
            Action::Down | Action::NextMatch if count > 0 && self.cursor < last => {
                self.cursor += 1;
                self.follow = true;
            }
            // Past the last item the page goes on down, to the definitions and notes.
            Action::Down | Action::NextMatch => {
                self.scroll = self.scroll.saturating_add(1);
                self.follow = false;
            }
            Action::Up | Action::PrevMatch if self.cursor > 0 => {
                self.cursor -= 1;
                self.follow = true;
            }
            Action::Up | Action::PrevMatch => {
                self.scroll = self.scroll.saturating_sub(1);
                self.follow = false;
            }
            // The page moves; the cursor comes along to the first (last) item now in view.
            Action::PageDown => {
                self.scroll = self.scroll.saturating_add(page).min(self.last_scroll);
                self.follow = false;
                let first = self.in_view().next();
                if let Some(i) = first {
                    self.cursor = i.max(self.cursor);
                }
            }
            Action::PageUp => {
                self.scroll = self.scroll.saturating_sub(page);
                self.follow = false;
                let last = self.in_view().last();
                if let Some(i) = last {
                    self.cursor = i.min(self.cursor);
                }
            }
            Action::Top => {
                self.cursor = 0;
                self.scroll = 0;
                self.follow = false;
            }
            Action::Bottom => {
                self.cursor = last;
                // Held at the last screenful by the next render.
                self.scroll = u16::MAX;
                self.follow = false;
            }
            _ => return None,
        }
        self.cursor = self.cursor.min(last);
        Some(Vec::new())
    }

    fn on_action(&mut self, action: Action, desk: &mut Desk) -> Handled {
        Some(match action {
            Action::PrevPeriod => {
                let to = self.standing(desk).previous();
                self.go_to(to, desk)
            }
            Action::NextPeriod => {
                let to = self.standing(desk).next();
                self.go_to(to, desk)
            }
            Action::ThisPeriod => {
                self.period = None;
                self.fetch()
            }
            Action::SwitchReport => self.switch_kind(desk),
            Action::ReloadReport => self.fetch(),
            Action::Open => self.open(desk),
            Action::RecordSession => {
                self.record_session(desk);
                Vec::new()
            }
            Action::EditSession => {
                self.edit_session(desk);
                Vec::new()
            }
            other => return self.navigate(other),
        })
    }
}

impl Pane for StatsPane {
    fn id(&self) -> PaneId {
        PaneId::STATS
    }

    fn title(&self) -> &'static str {
        "统计 Stats"
    }

    fn context(&self) -> Context {
        Context::Stats
    }

    fn commands(&self) -> Vec<Command> {
        COMMANDS.to_vec()
    }

    fn update(&mut self, msg: Msg<'_>, desk: &mut Desk) -> Handled {
        match msg {
            Msg::Action(action) => self.on_action(action, desk),
            // The first visit, or one after a failure with nothing shown, asks the server.
            Msg::Shown { .. } => Some(if self.shown.is_none() && !self.loading {
                self.fetch()
            } else {
                Vec::new()
            }),
            Msg::Loaded(loaded) => {
                let loaded = match loaded.downcast::<ReportLoaded>() {
                    Ok(report) => {
                        self.on_loaded(*report, desk);
                        return Some(Vec::new());
                    }
                    Err(other) => other,
                };
                if let Ok(saved) = loaded.downcast::<session::SessionSaved>() {
                    let (reload, mut effects) = session::on_saved(*saved, desk);
                    if reload {
                        effects.extend(self.fetch());
                    }
                    return Some(effects);
                }
                Some(Vec::new())
            }
            Msg::Written { purpose, text } => match purpose.take::<session::SessionText>() {
                Ok(session::SessionText(form)) => Some(session::written(form, text, desk)),
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
        view::render(self, area, buf, ctx, focused);
    }
}

#[cfg(test)]
mod tests;
