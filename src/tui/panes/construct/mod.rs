//! Account construction: build UAT test brokerage accounts by running a recipe in an
//! environment, and follow the runs as the server works through them.
//!
//! The pane has three views, one over the other as lazygit stacks them: the recipes, the
//! environment, the runs (mine or the team's, live) and the last 30 days' figures; a recipe's
//! form (`enter` on a recipe); and one run close up (`enter` on a run, or a run just started).
//! `esc` goes back down.
//!
//! The runs execute on the server; the pane starts, resumes and cancels them, and follows
//! every run's progress over the server's stream, listing again whenever events may have been
//! missed. It reads the construction types as the client hands them over (terminal-safe) and
//! touches no other pane: a result goes into a ticket through the shared note editor.

mod detail;
mod form;
pub mod jobs;
mod view;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{Command, Ctx, Handled, Input, Msg, Pane, PaneId};
use crate::api::construct::EnvironmentView;
use crate::api::construct::{RecipeForm, RecipeSummary};
use crate::domain::construct::run::{ConstructStats, Run, RunStatus};
use crate::domain::ticket::TicketId;
use crate::tui::action::{Action, Context};
use crate::tui::desk::Desk;
use crate::tui::effect::Effect;
use crate::tui::overlay::Overlay;
pub use detail::Detail;
pub use form::{Begin, Form, Source};
use jobs::*;

/// Runs kept in the list; the oldest go past it.
const MAX_RUNS: usize = 500;

const HOME: &[Command] = &[
    Command::hint(Action::Open),
    Command::hint(Action::TeamRuns),
    Command::hint(Action::PickEnv),
    Command::new(Action::ResumeRun),
    Command::new(Action::CancelRun),
    Command::new(Action::Refresh),
    Command::new(Action::Down),
    Command::new(Action::Up),
    Command::new(Action::PageDown),
    Command::new(Action::PageUp),
    Command::new(Action::Top),
    Command::new(Action::Bottom),
];

const FORM: &[Command] = &[
    Command::hint(Action::Open),
    Command::hint(Action::StartRun),
    Command::hint(Action::Regenerate),
    Command::hint(Action::SetCount),
    Command::new(Action::PickEnv),
    Command::new(Action::Back),
    Command::new(Action::Down),
    Command::new(Action::Up),
    Command::new(Action::Top),
    Command::new(Action::Bottom),
];

/// A run's commands; those that apply to it now are hinted (see [`ConstructPane::commands`]).
const DETAIL: &[Command] = &[
    Command::new(Action::ResumeRun),
    Command::new(Action::ResumeUnknown),
    Command::new(Action::CancelRun),
    Command::new(Action::Note),
    Command::hint(Action::Open),
    Command::new(Action::Back),
    Command::new(Action::Refresh),
    Command::new(Action::Down),
    Command::new(Action::Up),
    Command::new(Action::PageDown),
    Command::new(Action::PageUp),
    Command::new(Action::Top),
    Command::new(Action::Bottom),
];

/// How the progress stream is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    Off,
    Connecting,
    Live,
    Down(String),
}

/// What the pickers, prompts and questions of the pane were for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ask {
    Environment,
    Count,
    /// A choice for the form's input of this name.
    Choice(String),
    /// Which ticket the result of run `id` goes into.
    NoteTicket(i64),
    Cancel(i64),
    ResumeUnknown(i64),
}

#[derive(Debug)]
pub struct ConstructPane {
    /// The first visit asked for everything; later ones only for what failed.
    started: bool,
    recipes: Option<Result<Vec<RecipeSummary>, String>>,
    environments: Option<Result<Vec<EnvironmentView>, String>>,
    /// The environment runs start in.
    environment: Option<String>,
    /// The cursor of the first view, over the recipes then the runs.
    at: usize,
    /// The team's runs, else mine.
    team: bool,
    runs: Vec<Run>,
    runs_loaded: bool,
    runs_problem: Option<String>,
    runs_asked: u64,
    stats: Option<ConstructStats>,
    stats_problem: Option<String>,
    stats_loading: bool,
    /// A run ended since the figures were asked for.
    stats_stale: bool,
    feed: Feed,
    feed_generation: Arc<AtomicU64>,
    /// Recipes' forms as fetched: a run's steps are laid out from its recipe.
    recipe_forms: HashMap<String, RecipeForm>,
    form: Option<Form>,
    detail: Option<Detail>,
    /// The ticket the handler came with: where a result is noted.
    in_hand: Option<TicketId>,
    /// Seeds drawn so far (mixed into the next).
    drawn: u64,
    /// Rows a page of the list was when last drawn.
    page: usize,
}

impl Default for ConstructPane {
    fn default() -> Self {
        ConstructPane {
            started: false,
            recipes: None,
            environments: None,
            environment: None,
            at: 0,
            team: false,
            runs: Vec::new(),
            runs_loaded: false,
            runs_problem: None,
            runs_asked: 0,
            stats: None,
            stats_problem: None,
            stats_loading: false,
            stats_stale: false,
            feed: Feed::Off,
            feed_generation: Arc::new(AtomicU64::new(0)),
            recipe_forms: HashMap::new(),
            form: None,
            detail: None,
            in_hand: None,
            drawn: 0,
            page: 10,
        }
    }
}

fn run_job(job: impl crate::tui::effect::Job) -> Effect {
    Effect::run(Some(PaneId::CONSTRUCT), job)
}

impl ConstructPane {
    pub fn recipes(&self) -> &[RecipeSummary] {
        match &self.recipes {
            Some(Ok(list)) => list,
            _ => &[],
        }
    }

    pub fn environments(&self) -> &[EnvironmentView] {
        match &self.environments {
            Some(Ok(list)) => list,
            _ => &[],
        }
    }

    pub fn environment(&self) -> Option<&str> {
        self.environment.as_deref()
    }

    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    pub fn form(&self) -> Option<&Form> {
        self.form.as_ref()
    }

    pub fn detail(&self) -> Option<&Detail> {
        self.detail.as_ref()
    }

    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    /// The recipe or run under the cursor of the first view.
    fn spot(&self) -> Spot {
        let n = self.recipes().len();
        if self.at < n {
            Spot::Recipe(self.at)
        } else if self.at - n < self.runs.len() {
            Spot::Run(self.at - n)
        } else {
            Spot::Nothing
        }
    }

    /// A seed no earlier one of this session was: from the desk's clock (so sessions differ)
    /// and the count of draws (so two in one second do), mixed so neighbours look unalike.
    fn seed(&mut self, desk: &Desk) -> u64 {
        self.drawn += 1;
        let clock = desk.now.timestamp_micros() as u64;
        // splitmix64's finaliser.
        let mut z = clock ^ self.drawn.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        // Seeds are shown and typed back on the command line: kept short.
        (z ^ (z >> 31)) % 1_000_000_000
    }

    /// A key that makes a start happen once: random, unlike anyone else's.
    fn idempotency_key(&mut self, desk: &Desk) -> String {
        let mut raw = [0u8; 16];
        if getrandom::fill(&mut raw).is_err() {
            // No randomness: the clock, the count and who is asking still set it apart.
            raw[..8].copy_from_slice(&self.seed(desk).to_le_bytes());
            raw[8..].copy_from_slice(&desk.now.timestamp_micros().to_le_bytes());
        }
        let me = desk.me.as_deref().unwrap_or("-");
        format!("tui-construct-{me}-{}", hex::encode(raw))
    }

    // ----- asking the server

    fn list_runs(&mut self) -> Effect {
        self.runs_asked += 1;
        run_job(ListRuns {
            team: self.team,
            asked: self.runs_asked,
        })
    }

    fn fetch_stats(&mut self) -> Vec<Effect> {
        if self.stats_loading {
            self.stats_stale = true;
            return Vec::new();
        }
        self.stats_loading = true;
        self.stats_stale = false;
        vec![run_job(FetchStats)]
    }

    fn follow(&mut self) -> Effect {
        let generation = self.feed_generation.fetch_add(1, Ordering::Relaxed) + 1;
        self.feed = Feed::Connecting;
        run_job(FollowRuns {
            generation,
            current: self.feed_generation.clone(),
        })
    }

    /// Everything again: the recipes and environments, the runs, the figures, the run in view.
    fn reload(&mut self) -> Vec<Effect> {
        let mut effects = vec![run_job(LoadSetup), self.list_runs()];
        effects.extend(self.fetch_stats());
        if let Some(d) = &mut self.detail {
            d.loading = true;
            effects.push(run_job(FetchRun { id: d.id }));
        }
        effects
    }

    fn shown(&mut self, in_hand: Option<TicketId>) -> Vec<Effect> {
        self.in_hand = in_hand;
        if !self.started {
            self.started = true;
            let mut effects = self.reload();
            effects.push(self.follow());
            return effects;
        }
        let mut effects = Vec::new();
        if !matches!(self.recipes, Some(Ok(_))) || !matches!(self.environments, Some(Ok(_))) {
            effects.push(run_job(LoadSetup));
        }
        if self.runs_problem.is_some() {
            effects.push(self.list_runs());
        }
        if self.stats_stale || self.stats_problem.is_some() {
            effects.extend(self.fetch_stats());
        }
        effects
    }

    // ----- what came back

    fn on_setup(&mut self, loaded: SetupLoaded) {
        if let Ok(envs) = &loaded.environments {
            let still_there = self
                .environment
                .as_ref()
                .is_some_and(|e| envs.iter().any(|v| &v.name == e));
            if !still_there {
                self.environment = envs
                    .iter()
                    .find(|e| e.name == "sandbox")
                    .or(envs.first())
                    .map(|e| e.name.clone());
            }
        }
        // A refusal keeps what was there before.
        if loaded.recipes.is_ok() || !matches!(self.recipes, Some(Ok(_))) {
            self.recipes = Some(loaded.recipes);
        }
        if loaded.environments.is_ok() || !matches!(self.environments, Some(Ok(_))) {
            self.environments = Some(loaded.environments);
        }
        self.clamp();
    }

    fn on_listed(&mut self, listed: RunsListed) {
        if listed.asked != self.runs_asked {
            return;
        }
        match listed.result {
            Ok(runs) => {
                let kept = match self.spot() {
                    Spot::Run(i) => self.runs.get(i).map(|r| r.id),
                    _ => None,
                };
                self.runs = runs;
                self.runs.sort_by_key(|r| std::cmp::Reverse(r.id));
                self.runs_loaded = true;
                self.runs_problem = None;
                if let Some(at) = kept.and_then(|id| self.runs.iter().position(|r| r.id == id)) {
                    self.at = self.recipes().len() + at;
                }
                self.clamp();
            }
            Err(why) => self.runs_problem = Some(why),
        }
    }

    /// Whether a run belongs in the list as it is filtered.
    fn listed(&self, run: &Run, desk: &Desk) -> bool {
        self.team || desk.me.as_deref().is_none_or(|me| me == run.started_by)
    }

    /// A run's new state into the list: replaced where it is, or put in its place.
    fn take_run(&mut self, run: &Run, desk: &Desk) {
        if let Some(known) = self.runs.iter_mut().find(|r| r.id == run.id) {
            if run.version >= known.version {
                *known = run.clone();
            }
            return;
        }
        if !self.runs_loaded || !self.listed(run, desk) {
            return;
        }
        let at = self.runs.partition_point(|r| r.id > run.id);
        self.runs.insert(at, run.clone());
        // The cursor stays on the run it was on.
        let n = self.recipes().len();
        if self.at >= n && self.at - n >= at && self.at - n < self.runs.len() - 1 {
            self.at += 1;
        }
        self.runs.truncate(MAX_RUNS);
    }

    fn on_news(&mut self, news: FeedNews, desk: &Desk) -> Vec<Effect> {
        let mut effects = Vec::new();
        let mut ended = false;
        for e in &news.events {
            let was_going = self
                .runs
                .iter()
                .find(|r| r.id == e.run.id)
                .is_none_or(|r| r.status.in_progress());
            ended |= was_going && !e.run.status.in_progress();
            self.take_run(&e.run, desk);
            if let Some(d) = &mut self.detail
                && d.id == e.run.id
                && d.apply(&e.run, e.step.as_ref())
            {
                // It stopped: what it built (or where it stopped) is fetched whole.
                effects.push(run_job(FetchRun { id: d.id }));
            }
        }
        if ended {
            effects.extend(self.fetch_stats());
        }
        if news.lagged {
            effects.extend(self.missed());
        }
        effects
    }

    /// Events may have been missed: the list and the run in view are asked for again.
    fn missed(&mut self) -> Vec<Effect> {
        let mut effects = vec![self.list_runs()];
        if let Some(d) = &self.detail {
            effects.push(run_job(FetchRun { id: d.id }));
        }
        effects
    }

    fn on_recipe(&mut self, loaded: RecipeLoaded) -> Vec<Effect> {
        match loaded.result {
            Ok(recipe) => {
                self.recipe_forms
                    .insert(loaded.name.clone(), recipe.clone());
                match &mut self.form {
                    Some(f) if f.name == loaded.name && f.recipe.is_none() => {
                        f.recipe = Some(recipe);
                        f.check(Duration::ZERO)
                    }
                    _ => Vec::new(),
                }
            }
            Err(why) => {
                if let Some(f) = &mut self.form
                    && f.name == loaded.name
                    && f.recipe.is_none()
                {
                    f.problem = Some(format!("未能载入配方 could not load the recipe: {why}"));
                }
                Vec::new()
            }
        }
    }

    fn on_started(&mut self, started: Started, desk: &mut Desk) -> Vec<Effect> {
        let Some(form) = &mut self.form else {
            return Vec::new();
        };
        form.starting = false;
        let runs = match started.0 {
            Ok(runs) => runs,
            Err(Refused::Inputs(inputs)) => {
                form.errors.extend(inputs);
                desk.toast(
                    "表单有误，未开始 the form has errors: nothing started",
                    true,
                );
                return Vec::new();
            }
            Err(Refused::Other(why)) => {
                form.problem = Some(format!("未开始 not started: {why}"));
                desk.toast(format!("未开始 not started: {why}"), true);
                return Vec::new();
            }
        };
        for r in &runs {
            self.take_run(r, desk);
        }
        let ids: Vec<String> = runs.iter().map(|r| format!("#{}", r.id)).collect();
        desk.toast(format!("已开始构造 started {}", ids.join(" ")), false);
        match runs.as_slice() {
            [one] => self.open_run(one.id, Some(one.clone())),
            _ => {
                // A batch is followed in the list, the newest first.
                self.form = None;
                let first = self
                    .runs
                    .iter()
                    .position(|r| runs.iter().any(|s| s.id == r.id));
                self.at = self.recipes().len() + first.unwrap_or(0);
                self.clamp();
                Vec::new()
            }
        }
    }

    fn on_changed(&mut self, changed: RunChanged, desk: &mut Desk) -> Vec<Effect> {
        match changed.result {
            Ok(run) => {
                let said = match changed.change {
                    Change::Resume { .. } => {
                        "已续跑，从停下的步骤继续 resumed from where it stopped"
                    }
                    Change::Cancel => "已取消，可再续跑 cancelled; it can be resumed",
                };
                desk.toast(format!("#{} {said}", run.id), false);
                self.take_run(&run, desk);
                if let Some(d) = &mut self.detail
                    && d.id == run.id
                {
                    d.apply(&run, None);
                }
                vec![run_job(FetchRun { id: changed.id })]
            }
            Err(why) => {
                let what = match changed.change {
                    Change::Resume { .. } => "未能续跑 could not resume",
                    Change::Cancel => "未能取消 could not cancel",
                };
                desk.toast(format!("#{} {what}: {why}", changed.id), true);
                Vec::new()
            }
        }
    }

    // ----- the handler's keys

    fn open_recipe(&mut self, i: usize, desk: &mut Desk) -> Vec<Effect> {
        let Some(r) = self.recipes().get(i).cloned() else {
            return Vec::new();
        };
        if !r.problems.is_empty() {
            desk.toast(
                format!(
                    "配方有误，不能运行 {} cannot run: {}",
                    r.name,
                    r.problems.join("; ")
                ),
                true,
            );
            return Vec::new();
        }
        let seed = self.seed(desk);
        let mut form = Form::new(&r.name, &r.title, seed);
        let effects = match self.recipe_forms.get(&r.name) {
            Some(recipe) => {
                form.recipe = Some(recipe.clone());
                form.check(Duration::ZERO)
            }
            None => vec![run_job(FetchRecipe {
                name: r.name.clone(),
            })],
        };
        self.form = Some(form);
        effects
    }

    fn open_run(&mut self, id: i64, run: Option<Run>) -> Vec<Effect> {
        let recipe = run.as_ref().map(|r| r.recipe.clone());
        self.detail = Some(Detail::new(id, run));
        let mut effects = vec![run_job(FetchRun { id })];
        if let Some(name) = recipe
            && !self.recipe_forms.contains_key(&name)
        {
            effects.push(run_job(FetchRecipe { name }));
        }
        effects
    }

    /// The run the keys act on: the one in view, else the one under the cursor.
    fn run_in_hand(&self) -> Option<&Run> {
        if let Some(d) = &self.detail {
            return d.run.as_ref();
        }
        if self.form.is_some() {
            return None;
        }
        match self.spot() {
            Spot::Run(i) => self.runs.get(i),
            _ => None,
        }
    }

    /// The run in hand when its state allows `may`; else a toast says why (`refused` follows
    /// the run's number and state).
    fn run_that(&self, may: fn(RunStatus) -> bool, refused: &str, desk: &mut Desk) -> Option<i64> {
        let Some(run) = self.run_in_hand() else {
            desk.toast("先选中一次构造 select a run first", true);
            return None;
        };
        if !may(run.status) {
            desk.toast(format!("#{} {}，{refused}", run.id, run.status.zh()), true);
            return None;
        }
        Some(run.id)
    }

    fn resume(&mut self, retry_unknown: bool, desk: &mut Desk) -> Vec<Effect> {
        let Some(id) = self.run_that(
            RunStatus::resumable,
            "不能续跑 only a failed, cancelled or interrupted run resumes",
            desk,
        ) else {
            return Vec::new();
        };
        if retry_unknown {
            desk.overlay(Overlay::confirm(
                PaneId::CONSTRUCT,
                Ask::ResumeUnknown(id),
                format!(
                    "续跑 #{id} 并重新调用结果未知的步骤？先到业务系统确认它没有生效 · resume #{id} calling the step of unknown outcome again? Check the system first"
                ),
            ));
            return Vec::new();
        }
        vec![run_job(ChangeRun {
            id,
            change: Change::Resume {
                retry_unknown: false,
            },
        })]
    }

    fn cancel(&mut self, desk: &mut Desk) -> Vec<Effect> {
        let Some(id) = self.run_that(RunStatus::in_progress, "无需取消 it is not running", desk)
        else {
            return Vec::new();
        };
        desk.overlay(Overlay::confirm(
            PaneId::CONSTRUCT,
            Ask::Cancel(id),
            format!("取消构造 #{id}？已完成的步骤保留，可再续跑 · cancel run #{id}? Finished steps stay; it can be resumed"),
        ));
        Vec::new()
    }

    /// The result of the run in view, into a ticket's internal note (the editor opens on it,
    /// to be read over before it is sent).
    fn note(&mut self, desk: &mut Desk) -> Vec<Effect> {
        let Some((id, _)) = self.note_text(desk) else {
            desk.toast(
                "这次构造还没有结果可记 the run has built nothing to note yet",
                true,
            );
            return Vec::new();
        };
        match self.in_hand {
            Some(ticket) => self.note_into(ticket, desk),
            None => {
                desk.overlay(Overlay::prompt(
                    PaneId::CONSTRUCT,
                    Ask::NoteTicket(id),
                    "记入哪个工单 note into ticket # ",
                    "",
                ));
                Vec::new()
            }
        }
    }

    fn note_into(&mut self, ticket: TicketId, desk: &mut Desk) -> Vec<Effect> {
        if let Some((_, text)) = self.note_text(desk) {
            crate::tui::work::note_with(PaneId::CONSTRUCT, ticket, &text, desk);
        }
        Vec::new()
    }

    /// The run in view and the note that hands its result on.
    fn note_text(&self, desk: &Desk) -> Option<(i64, String)> {
        let d = self.detail.as_ref()?;
        let run = d.run.as_ref()?;
        let serde_json::Value::Object(result) = d.result.as_ref()? else {
            return None;
        };
        Some((run.id, view::note(run, result, desk.tz)))
    }

    fn start(&mut self, desk: &mut Desk) -> Vec<Effect> {
        let Some(environment) = self.environment.clone() else {
            desk.toast(
                "没有可用的环境 no environment to build in ([[construct.environment]] on the server)",
                true,
            );
            return Vec::new();
        };
        let key = self.idempotency_key(desk);
        let Some(form) = &mut self.form else {
            return Vec::new();
        };
        let mut effects = Vec::new();
        if form.editing.is_some() {
            effects.extend(form.commit());
        }
        if form.recipe.is_none() {
            desk.toast("配方还在载入 the recipe is still loading", true);
            return effects;
        }
        if form.starting {
            return effects;
        }
        if !form.errors.is_empty() && !form.checking {
            desk.toast("先改正表单中的错误 fix the form's errors first", true);
            return effects;
        }
        effects.push(run_job(form.start(&environment, key)));
        effects
    }

    fn pick_env(&mut self, desk: &mut Desk) -> Vec<Effect> {
        let options: Vec<(String, String)> = self
            .environments()
            .iter()
            .map(|e| {
                let title = e.title.as_deref().unwrap_or("");
                (
                    format!("{} · {} · {}", e.name, e.systems.join(","), title),
                    e.name.clone(),
                )
            })
            .collect();
        if options.is_empty() {
            desk.toast(
                "服务器没有构造环境 the server has no construction environment",
                true,
            );
        } else {
            desk.overlay(Overlay::picker(
                PaneId::CONSTRUCT,
                Ask::Environment,
                "构造环境 environment",
                options,
            ));
        }
        Vec::new()
    }

    /// Keys while a form input takes the typing: enter keeps it, esc puts it back, the
    /// arrows (and tab) keep it and go on to the next input.
    fn typing(&mut self, action: Action, desk: &mut Desk) -> Vec<Effect> {
        let Some(form) = &mut self.form else {
            return Vec::new();
        };
        match action {
            Action::Open | Action::Submit => form.commit(),
            Action::Back | Action::Cancel => form.revert(),
            Action::Down | Action::Up => {
                let mut effects = form.commit();
                form.step(if action == Action::Down { 1 } else { -1 });
                effects.extend(self.edit_field(true, desk));
                effects
            }
            _ => Vec::new(),
        }
    }

    /// Edits the form's selected input: typed on one line, or picked among its choices
    /// (`quiet`: an input with choices is only moved to, not opened).
    fn edit_field(&mut self, quiet: bool, desk: &mut Desk) -> Vec<Effect> {
        let Some(form) = &mut self.form else {
            return Vec::new();
        };
        if form.recipe.is_none() {
            return Vec::new();
        }
        if quiet
            && form
                .selected_input()
                .is_some_and(|i| !i.choices.is_empty() && i.kind != "list" || i.kind == "bool")
        {
            return Vec::new();
        }
        match form.begin() {
            Begin::Choose { title, options } => {
                if let Some(input) = form.selected_input() {
                    desk.overlay(Overlay::picker(
                        PaneId::CONSTRUCT,
                        Ask::Choice(input.name.clone()),
                        title,
                        options,
                    ));
                }
                Vec::new()
            }
            Begin::Typing | Begin::Nothing => Vec::new(),
        }
    }

    fn on_form_action(&mut self, action: Action, desk: &mut Desk) -> Handled {
        match action {
            Action::Open => return Some(self.edit_field(false, desk)),
            Action::StartRun => return Some(self.start(desk)),
            Action::PickEnv => return Some(self.pick_env(desk)),
            Action::Regenerate => {
                let seed = self.seed(desk);
                return self.form.as_mut().map(|f| f.regenerate(seed));
            }
            Action::ResumeRun | Action::ResumeUnknown | Action::CancelRun | Action::Note => {
                desk.toast(
                    "先打开一次构造 open a run first (esc, then enter on a run)",
                    true,
                );
                return Some(Vec::new());
            }
            _ => {}
        }
        let form = self.form.as_mut()?;
        Some(match action {
            Action::Back => {
                self.form = None;
                Vec::new()
            }
            Action::Down => {
                form.step(1);
                Vec::new()
            }
            Action::Up => {
                form.step(-1);
                Vec::new()
            }
            Action::Top | Action::PageUp => {
                form.selected = 0;
                Vec::new()
            }
            Action::Bottom | Action::PageDown => {
                form.step(isize::MAX);
                Vec::new()
            }
            Action::SetCount => {
                desk.overlay(Overlay::prompt(
                    PaneId::CONSTRUCT,
                    Ask::Count,
                    format!("构造几个账户 how many accounts (1–{}) ", form::MAX_COUNT),
                    form.count.to_string(),
                ));
                Vec::new()
            }
            Action::Refresh => {
                let mut effects = vec![Effect::Resync];
                effects.extend(form.check(Duration::ZERO));
                effects.push(run_job(LoadSetup));
                effects
            }
            _ => return None,
        })
    }

    fn on_detail_action(&mut self, action: Action, desk: &mut Desk) -> Handled {
        match action {
            Action::ResumeRun => return Some(self.resume(false, desk)),
            Action::ResumeUnknown => return Some(self.resume(true, desk)),
            Action::CancelRun => return Some(self.cancel(desk)),
            Action::Note => return Some(self.note(desk)),
            Action::StartRun | Action::Regenerate | Action::SetCount => {
                desk.toast("先回到配方表单 go back to the form first (esc)", true);
                return Some(Vec::new());
            }
            Action::Refresh => {
                let mut effects = vec![Effect::Resync];
                effects.extend(self.fetch_stats());
                let d = self.detail.as_mut()?;
                d.loading = true;
                effects.push(run_job(FetchRun { id: d.id }));
                return Some(effects);
            }
            _ => {}
        }
        let keys = self.step_keys();
        let page = self.page.max(1) as u16;
        let d = self.detail.as_mut()?;
        match action {
            Action::Back if d.reading => d.reading = false,
            Action::Back => self.detail = None,
            Action::Open => d.reading = !d.reading,
            Action::Down if d.reading => d.scroll = d.scroll.saturating_add(1),
            Action::Up if d.reading => d.scroll = d.scroll.saturating_sub(1),
            Action::Down => d.step(&keys, 1),
            Action::Up => d.step(&keys, -1),
            Action::Top => d.step(&keys, isize::MIN),
            Action::Bottom => d.step(&keys, isize::MAX),
            // The request and answer scroll by pages; the list moves by steps.
            Action::PageDown => d.scroll = d.scroll.saturating_add(page),
            Action::PageUp => d.scroll = d.scroll.saturating_sub(page),
            _ => return None,
        }
        Some(Vec::new())
    }

    /// The keys of the run in view's step rows, in order.
    fn step_keys(&self) -> Vec<String> {
        let Some(d) = &self.detail else {
            return Vec::new();
        };
        let recipe = d
            .run
            .as_ref()
            .and_then(|r| self.recipe_forms.get(&r.recipe));
        d.rows(recipe)
            .into_iter()
            .filter_map(|r| match r {
                detail::Row::Step(key, _) => Some(key),
                detail::Row::Stage(..) => None,
            })
            .collect()
    }

    fn on_home_action(&mut self, action: Action, desk: &mut Desk) -> Handled {
        let count = self.recipes().len() + self.runs.len();
        let last = count.saturating_sub(1);
        let page = self.page.max(1);
        Some(match action {
            Action::Down => {
                self.at = (self.at + 1).min(last);
                Vec::new()
            }
            Action::Up => {
                self.at = self.at.saturating_sub(1);
                Vec::new()
            }
            Action::PageDown => {
                self.at = (self.at + page).min(last);
                Vec::new()
            }
            Action::PageUp => {
                self.at = self.at.saturating_sub(page);
                Vec::new()
            }
            Action::Top => {
                self.at = 0;
                Vec::new()
            }
            Action::Bottom => {
                self.at = last;
                Vec::new()
            }
            Action::Open => match self.spot() {
                Spot::Recipe(i) => self.open_recipe(i, desk),
                Spot::Run(i) => {
                    let run = self.runs[i].clone();
                    self.open_run(run.id, Some(run))
                }
                Spot::Nothing => Vec::new(),
            },
            Action::TeamRuns => {
                self.team = !self.team;
                self.runs.clear();
                self.runs_loaded = false;
                self.clamp();
                vec![self.list_runs()]
            }
            Action::PickEnv => self.pick_env(desk),
            Action::ResumeRun => self.resume(false, desk),
            Action::ResumeUnknown => self.resume(true, desk),
            Action::CancelRun => self.cancel(desk),
            Action::Refresh => {
                let mut effects = vec![Effect::Resync];
                effects.extend(self.reload());
                effects
            }
            Action::StartRun | Action::Regenerate | Action::SetCount => {
                desk.toast(
                    "先选一个配方按 enter 打开表单 pick a recipe and press enter first",
                    true,
                );
                Vec::new()
            }
            Action::Note => {
                desk.toast("先打开一次构造 open a run first (enter on a run)", true);
                Vec::new()
            }
            _ => return None,
        })
    }

    fn on_action(&mut self, action: Action, desk: &mut Desk) -> Handled {
        if self.detail.is_some() {
            return self.on_detail_action(action, desk);
        }
        if self.form.as_ref().is_some_and(|f| f.editing.is_some()) {
            return Some(self.typing(action, desk));
        }
        if self.form.is_some() {
            return self.on_form_action(action, desk);
        }
        self.on_home_action(action, desk)
    }

    fn on_answer(&mut self, ask: Ask, value: String, desk: &mut Desk) -> Vec<Effect> {
        match ask {
            Ask::Environment => {
                self.environment = Some(value);
                Vec::new()
            }
            Ask::Count => {
                match value.trim().parse::<u32>() {
                    Ok(n) if (1..=form::MAX_COUNT).contains(&n) => {
                        if let Some(f) = &mut self.form {
                            f.count = n;
                        }
                    }
                    _ => desk.toast(
                        format!(
                            "数量须为 1 到 {} a count of 1 to {}",
                            form::MAX_COUNT,
                            form::MAX_COUNT
                        ),
                        true,
                    ),
                }
                Vec::new()
            }
            Ask::Choice(name) => match &mut self.form {
                Some(f) => f.choose(&name, value),
                None => Vec::new(),
            },
            Ask::NoteTicket(id) => {
                let same = self.detail.as_ref().is_some_and(|d| d.id == id);
                match crate::tui::work::ticket_number(&value, desk) {
                    Some(ticket) if same => self.note_into(ticket, desk),
                    _ => Vec::new(),
                }
            }
            Ask::Cancel(id) => vec![run_job(ChangeRun {
                id,
                change: Change::Cancel,
            })],
            Ask::ResumeUnknown(id) => vec![run_job(ChangeRun {
                id,
                change: Change::Resume {
                    retry_unknown: true,
                },
            })],
        }
    }

    fn on_loaded(&mut self, loaded: Box<dyn std::any::Any + Send>, desk: &mut Desk) -> Vec<Effect> {
        let loaded = match loaded.downcast::<FeedNews>() {
            Ok(news) => return self.on_news(*news, desk),
            Err(other) => other,
        };
        let loaded = match loaded.downcast::<FeedLink>() {
            Ok(link) => {
                return match *link {
                    FeedLink::Up => {
                        self.feed = Feed::Live;
                        // Whatever happened while it was down is listed again.
                        self.missed()
                    }
                    FeedLink::Down(why) => {
                        self.feed = Feed::Down(why);
                        Vec::new()
                    }
                };
            }
            Err(other) => other,
        };
        let loaded = match loaded.downcast::<Checked>() {
            Ok(checked) => {
                if let Some(f) = &mut self.form {
                    f.on_checked(*checked);
                }
                return Vec::new();
            }
            Err(other) => other,
        };
        let loaded = match loaded.downcast::<RunsListed>() {
            Ok(listed) => {
                self.on_listed(*listed);
                return Vec::new();
            }
            Err(other) => other,
        };
        let loaded = match loaded.downcast::<RunLoaded>() {
            Ok(l) => return self.on_run(*l, desk),
            Err(other) => other,
        };
        let loaded = match loaded.downcast::<SetupLoaded>() {
            Ok(setup) => {
                self.on_setup(*setup);
                return Vec::new();
            }
            Err(other) => other,
        };
        let loaded = match loaded.downcast::<StatsLoaded>() {
            Ok(stats) => {
                self.stats_loading = false;
                match stats.0 {
                    Ok(s) => {
                        self.stats = Some(s);
                        self.stats_problem = None;
                    }
                    Err(why) => self.stats_problem = Some(why),
                }
                return if self.stats_stale {
                    self.fetch_stats()
                } else {
                    Vec::new()
                };
            }
            Err(other) => other,
        };
        let loaded = match loaded.downcast::<RecipeLoaded>() {
            Ok(recipe) => return self.on_recipe(*recipe),
            Err(other) => other,
        };
        let loaded = match loaded.downcast::<Started>() {
            Ok(started) => return self.on_started(*started, desk),
            Err(other) => other,
        };
        if let Ok(changed) = loaded.downcast::<RunChanged>() {
            return self.on_changed(*changed, desk);
        }
        Vec::new()
    }

    fn on_run(&mut self, l: RunLoaded, desk: &Desk) -> Vec<Effect> {
        if self.detail.as_ref().is_none_or(|d| d.id != l.id) {
            return Vec::new();
        }
        match l.result {
            Ok(detail) => {
                let name = detail.run.recipe.clone();
                self.take_run(&detail.run, desk);
                if let Some(d) = &mut self.detail {
                    d.loaded(detail);
                }
                if self.recipe_forms.contains_key(&name) {
                    Vec::new()
                } else {
                    vec![run_job(FetchRecipe { name })]
                }
            }
            Err(why) => {
                if let Some(d) = &mut self.detail {
                    d.loading = false;
                    d.problem = Some(format!("未能载入 could not load run #{}: {why}", l.id));
                }
                Vec::new()
            }
        }
    }

    /// Keeps the cursor of the first view on something.
    fn clamp(&mut self) {
        let count = self.recipes().len() + self.runs.len();
        self.at = self.at.min(count.saturating_sub(1));
    }
}

/// What the cursor of the first view is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spot {
    Recipe(usize),
    Run(usize),
    Nothing,
}

impl Pane for ConstructPane {
    fn id(&self) -> PaneId {
        PaneId::CONSTRUCT
    }

    fn title(&self) -> &'static str {
        "构造 Construct"
    }

    fn context(&self) -> Context {
        Context::Construct
    }

    fn commands(&self) -> Vec<Command> {
        if let Some(d) = &self.detail {
            // The status line offers what can be done to this run now.
            let run = d.run.as_ref();
            let applies = |a: Action| match a {
                Action::ResumeRun => run.is_some_and(|r| r.status.resumable()),
                Action::CancelRun => run.is_some_and(|r| r.status.in_progress()),
                Action::Note => d.result.is_some(),
                _ => false,
            };
            DETAIL
                .iter()
                .map(|c| Command {
                    hint: c.hint || applies(c.action),
                    ..*c
                })
                .collect()
        } else if self.form.is_some() {
            FORM.to_vec()
        } else {
            HOME.to_vec()
        }
    }

    fn input(&self) -> Option<Input<'_>> {
        if self.detail.is_some() {
            return None;
        }
        let editing = self.form.as_ref()?.editing.as_ref()?;
        Some(Input {
            prompt: &editing.prompt,
            text: &editing.shown,
        })
    }

    fn ticket_in_hand(&self) -> Option<TicketId> {
        self.in_hand
    }

    fn update(&mut self, msg: Msg<'_>, desk: &mut Desk) -> Handled {
        match msg {
            Msg::Action(action) => self.on_action(action, desk),
            Msg::Edit(edit) => Some(match &mut self.form {
                Some(f) => f.edit(edit),
                None => Vec::new(),
            }),
            Msg::Pasted(text) => Some(match &mut self.form {
                Some(f) => f.paste(text),
                None => Vec::new(),
            }),
            Msg::Shown { in_hand } => Some(self.shown(in_hand)),
            Msg::Loaded(loaded) => Some(self.on_loaded(loaded, desk)),
            Msg::Picked { purpose, value, .. } => match purpose.take::<Ask>() {
                Ok(ask) => Some(self.on_answer(ask, value, desk)),
                Err(_) => Some(Vec::new()),
            },
            Msg::Prompted { purpose, input } => match purpose.take::<Ask>() {
                Ok(ask) => Some(self.on_answer(ask, input, desk)),
                Err(_) => Some(Vec::new()),
            },
            Msg::Confirmed { purpose } => match purpose.take::<Ask>() {
                Ok(ask) => Some(self.on_answer(ask, String::new(), desk)),
                Err(_) => Some(Vec::new()),
            },
            // The note editor opened on a result comes back here: ticket work sends it.
            Msg::Written { purpose, text } => {
                Some(crate::tui::work::written(purpose, text, desk).unwrap_or_default())
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
        self.page = view::render(self, area, buf, ctx, focused);
    }
}

#[cfg(test)]
mod tests;
