//! Account construction as the server runs it: handlers start runs (one, or a batch) of a
//! recipe in an environment; each run is a job that waits for a slot in its environment,
//! then calls the systems step by step, keeping every step in SQLite and telling the event
//! stream. A run that stopped (a failure, a cancel, a restart) is resumed from where it
//! stopped, reusing what its finished steps extracted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::{Semaphore, broadcast};
use tokio_util::sync::CancellationToken;

use super::tickets::require_handler;
use super::{Created, Desk, DeskError, Idempotency};
pub use crate::api::construct::{
    EnvironmentView, InputCheck, InputProblem, RunEvent, StartConstruction,
};
use crate::construct::config::Environment;
use crate::construct::engine::{self, Caller, Journal, Outcome, Progress};
use crate::construct::recipes::{RecipeForm, RecipeSummary, Recipes};
use crate::domain::construct::generate::Draw;
use crate::domain::construct::recipe::{Generator, Recipe, Vars};
use crate::domain::construct::run::{
    ConstructStats, FailureKind, Run, RunDetail, RunStatus, StepRecord,
};
use crate::domain::people::User;
use crate::domain::validate::{FieldError, ValidationErrors};
use crate::store::audit;
use crate::store::construct::{self as runs, Ending, NewRun, RunFilter};

/// Accounts one request may build at most.
pub const MAX_BATCH: u32 = 200;
/// Runs a list shows at most.
pub const MAX_LIST: usize = 500;
/// Inputs a request may name, and the characters of one: far above any recipe's.
pub const MAX_INPUTS: usize = 64;
pub const MAX_INPUT_CHARS: usize = 1000;
/// Recently used ID numbers kept out of new draws.
const TAKEN_WINDOW: usize = 100_000;
/// Progress events a slow subscriber may fall behind by before it misses some.
const EVENT_BUFFER: usize = 1024;

/// What the server holds for runs in flight: a slot budget per environment, a cancel switch
/// per run, the HTTP caller and the progress events.
pub struct Constructions {
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
    cancels: Mutex<HashMap<i64, CancellationToken>>,
    caller: Mutex<Option<Caller>>,
    events: broadcast::Sender<Arc<RunEvent>>,
}

impl Default for Constructions {
    fn default() -> Self {
        Self {
            slots: Mutex::default(),
            cancels: Mutex::default(),
            caller: Mutex::default(),
            events: broadcast::channel(EVENT_BUFFER).0,
        }
    }
}

impl Constructions {
    fn slot(&self, env: &Environment) -> Arc<Semaphore> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots
            .entry(env.name.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(env.concurrency)))
            .clone()
    }

    fn caller(&self) -> Result<Caller, String> {
        let mut caller = self.caller.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = caller.as_ref() {
            return Ok(c.clone());
        }
        let made = Caller::new()?;
        *caller = Some(made.clone());
        Ok(made)
    }

    /// Run `id`'s cancel switch, made when its job is first known here. Taken inside the
    /// write that queues the run, so the start-up recovery never sees it as another's.
    fn cancel_switch(&self, run: i64) -> CancellationToken {
        let mut cancels = self.cancels.lock().unwrap_or_else(|p| p.into_inner());
        cancels.entry(run).or_default().clone()
    }

    fn forget(&self, run: i64) {
        let mut cancels = self.cancels.lock().unwrap_or_else(|p| p.into_inner());
        cancels.remove(&run);
    }

    /// Whether this process holds a job of run `id`.
    fn has_job(&self, run: i64) -> bool {
        let cancels = self.cancels.lock().unwrap_or_else(|p| p.into_inner());
        cancels.contains_key(&run)
    }

    /// Flips run `id`'s cancel switch; false when no job of it is here.
    fn cancel(&self, run: i64) -> bool {
        let cancels = self.cancels.lock().unwrap_or_else(|p| p.into_inner());
        cancels.get(&run).map(CancellationToken::cancel).is_some()
    }

    fn publish(&self, run: Run, step: Option<StepRecord>) {
        // No subscriber is not an error.
        let _ = self.events.send(Arc::new(RunEvent { run, step }));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<RunEvent>> {
        self.events.subscribe()
    }
}

fn invalid(field: &str, zh: impl Into<String>, en: impl Into<String>) -> DeskError {
    DeskError::Validation(ValidationErrors::one(field, zh, en))
}

fn recipe_refused(errors: impl std::fmt::Display) -> DeskError {
    let text = errors.to_string();
    invalid("recipe", format!("配方有误：{text}"), text)
}

fn input_errors(errors: Vec<crate::domain::construct::recipe::FieldError>) -> DeskError {
    DeskError::Validation(ValidationErrors(
        errors
            .into_iter()
            .map(|e| FieldError::new(&format!("set.{}", e.input), e.message.clone(), e.message))
            .collect(),
    ))
}

/// The input a recipe keeps its customer's ID number in.
fn id_number_input(recipe: &Recipe) -> Option<&str> {
    recipe
        .inputs
        .iter()
        .find(|i| matches!(i.generate, Some(Generator::IdNumber)) || i.name == "id_number")
        .map(|i| i.name.as_str())
}

/// Seeds are at most this far from 0 (2⁵³ − 1: what every JSON reader holds exactly).
pub const MAX_SEED: i64 = (1 << 53) - 1;

/// Refuses a `set` beyond what any recipe takes, and a seed out of range, before a recipe
/// reads them.
fn bounded(set: &BTreeMap<String, String>, seed: Option<i64>) -> Result<(), DeskError> {
    if seed.is_some_and(|s| !(-MAX_SEED..=MAX_SEED).contains(&s)) {
        return Err(invalid(
            "seed",
            "种子应在 ±2⁵³ 以内",
            "seed is within ±(2^53 - 1)",
        ));
    }
    if set.len() > MAX_INPUTS {
        return Err(invalid(
            "set",
            format!("最多 {MAX_INPUTS} 项输入"),
            format!("at most {MAX_INPUTS} inputs"),
        ));
    }
    if let Some((k, _)) = set
        .iter()
        .find(|(k, v)| k.chars().count() > 64 || v.chars().count() > MAX_INPUT_CHARS)
    {
        let k: String = k.chars().take(64).collect();
        return Err(invalid(
            &format!("set.{k}"),
            format!("输入名最多 64 个字符，值最多 {MAX_INPUT_CHARS} 个字符"),
            format!(
                "an input's name is at most 64 characters, its value at most {MAX_INPUT_CHARS}"
            ),
        ));
    }
    Ok(())
}

fn fresh_seed() -> u64 {
    getrandom::u64().unwrap_or_else(|_| Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64)
}

impl Desk {
    fn recipes(&self) -> Recipes {
        Recipes::new(&self.settings.construct)
    }

    fn environment_named(&self, name: &str) -> Result<Environment, DeskError> {
        self.settings
            .construct
            .environment(name)
            .cloned()
            .ok_or_else(|| {
                let there = self.settings.construct.environment_names();
                invalid(
                    "environment",
                    format!("没有环境 {name}；现有：{there}"),
                    format!("there is no environment {name}; there are: {there}"),
                )
            })
    }

    async fn recipe(&self, name: &str) -> Result<Arc<Recipe>, DeskError> {
        let recipes = self.recipes();
        let name = name.to_string();
        tokio::task::spawn_blocking(move || recipes.load(&name))
            .await
            .map_err(|e| DeskError::Upstream(format!("reading the recipe: {e}")))?
            .map(Arc::new)
            .map_err(recipe_refused)
    }

    /// A recipe named in a path: one that is not offered is not found (404), one with
    /// mistakes is refused with them (422).
    async fn offered_recipe(&self, name: &str) -> Result<Arc<Recipe>, DeskError> {
        if !self.recipes().has(name) {
            return Err(DeskError::NotFound(format!("recipe {name}")));
        }
        self.recipe(name).await
    }

    pub fn environments(&self, user: &User) -> Result<Vec<EnvironmentView>, DeskError> {
        require_handler(user)?;
        Ok(self
            .settings
            .construct
            .environments
            .iter()
            .map(|e| EnvironmentView {
                name: e.name.clone(),
                title: e.title.clone(),
                concurrency: e.concurrency,
                systems: e.system_names().into_iter().map(str::to_string).collect(),
            })
            .collect())
    }

    pub async fn recipe_list(&self, user: &User) -> Result<Vec<RecipeSummary>, DeskError> {
        require_handler(user)?;
        let recipes = self.recipes();
        tokio::task::spawn_blocking(move || recipes.list())
            .await
            .map_err(|e| DeskError::Upstream(format!("reading the recipes: {e}")))
    }

    pub async fn recipe_form(&self, user: &User, name: &str) -> Result<RecipeForm, DeskError> {
        require_handler(user)?;
        Ok(RecipeForm::of(&*self.offered_recipe(name).await?))
    }

    /// Fills a recipe's inputs from `set` as a run would, without running: the form's live
    /// check. Generated values come from `seed`.
    pub async fn check_inputs(
        &self,
        user: &User,
        name: &str,
        set: BTreeMap<String, String>,
        seed: Option<i64>,
    ) -> Result<InputCheck, DeskError> {
        require_handler(user)?;
        bounded(&set, seed)?;
        let recipe = self.offered_recipe(name).await?;
        let taken = self
            .store
            .read(|c| runs::id_numbers_used(c, TAKEN_WINDOW))
            .await?;
        let mut draw = Draw::new(seed.map_or_else(fresh_seed, |s| s as u64));
        Ok(
            match recipe.fill_inputs(&set, &mut draw, &taken, self.today()) {
                Ok(values) => InputCheck {
                    values: serde_json::Value::Object(values),
                    errors: Vec::new(),
                },
                Err(errors) => InputCheck {
                    values: serde_json::Value::Object(Vars::new()),
                    errors: errors
                        .into_iter()
                        .map(|e| InputProblem {
                            input: e.input,
                            message: e.message,
                        })
                        .collect(),
                },
            },
        )
    }

    fn today(&self) -> NaiveDate {
        Utc::now()
            .with_timezone(&self.settings.calendar.tz())
            .date_naive()
    }

    /// Queues `count` runs of a recipe and starts them. Everything is checked first: the
    /// recipe, the environment's systems, every account's inputs; nothing is queued unless all
    /// of it holds.
    pub async fn start_construction(
        &self,
        user: &User,
        start: StartConstruction,
        idem: Option<Idempotency>,
    ) -> Result<Created<Vec<Run>>, DeskError> {
        require_handler(user)?;
        let count = start.count.unwrap_or(1);
        if !(1..=MAX_BATCH).contains(&count) {
            return Err(invalid(
                "count",
                format!("一次构造 1–{MAX_BATCH} 个账户"),
                format!("count is 1 to {MAX_BATCH} accounts"),
            ));
        }
        bounded(&start.set, start.seed)?;
        let env = self.environment_named(&start.environment)?;
        let recipe = self.recipe(&start.recipe).await?;
        recipe
            .check_systems(&env.name, &env.system_names())
            .map_err(recipe_refused)?;
        let id_input = id_number_input(&recipe).map(str::to_string);
        if count > 1
            && let Some(id) = &id_input
            && start.set.contains_key(id)
        {
            return Err(invalid(
                &format!("set.{id}"),
                "批量构造时每个账户自动生成证件号，请勿指定",
                "each account of a batch draws its own ID number; do not set it",
            ));
        }
        let mut taken = self
            .store
            .read(|c| runs::id_numbers_used(c, TAKEN_WINDOW))
            .await?;
        if let Some(id) = id_input.as_ref().and_then(|k| start.set.get(k)) {
            let id = id.trim().to_string();
            if self
                .store
                .read(move |c| runs::id_number_used(c, &id))
                .await?
            {
                return Err(DeskError::Conflicting(ValidationErrors::one(
                    &format!("set.{}", id_input.as_deref().unwrap_or("id_number")),
                    "该证件号已构造过账户，请换一个或留空自动生成",
                    "an account was already built with this ID number; use another or leave it to the generator",
                )));
            }
        }
        let batch =
            (count > 1).then(|| format!("b{}", crate::store::random_hex(6).unwrap_or_default()));
        let mut draw = Draw::new(start.seed.map_or_else(fresh_seed, |s| s as u64));
        let mut planned = Vec::with_capacity(count as usize);
        for index in 0..count {
            let inputs = recipe
                .fill_inputs(&start.set, &mut draw, &taken, self.today())
                .map_err(input_errors)?;
            let id_number = id_input
                .as_ref()
                .and_then(|k| inputs.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_string);
            if let Some(id) = &id_number {
                taken.insert(id.clone());
            }
            let shown = recipe
                .masker(&inputs)
                .json(&serde_json::Value::Object(inputs.clone()));
            planned.push(NewRun {
                recipe: recipe.name.clone(),
                recipe_digest: recipe.digest.clone(),
                environment: env.name.clone(),
                batch: batch.clone(),
                batch_index: i64::from(index),
                started_by: user.username.clone(),
                inputs: serde_json::Value::Object(inputs),
                shown_inputs: shown,
                id_number,
            });
        }
        let who = user.username.clone();
        let jobs = self.constructions.clone();
        let created = self
            .write_once(user, idem, move |ctx| {
                let mut made = Vec::with_capacity(planned.len());
                for new in &planned {
                    let run = runs::insert(ctx.conn, new, ctx.now)?;
                    jobs.cancel_switch(run.id);
                    made.push(run);
                }
                let detail = serde_json::json!({
                    "recipe": planned[0].recipe,
                    "environment": planned[0].environment,
                    "runs": made.iter().map(|r| r.id).collect::<Vec<_>>(),
                });
                audit::record(ctx.conn, ctx.now, &who, "construct.started", None, &detail)?;
                Ok(made)
            })
            .await?;
        if !created.replayed {
            for run in &created.value {
                self.constructions.publish(run.clone(), None);
                self.spawn_run(run.id, recipe.clone(), env.clone());
            }
        }
        Ok(created)
    }

    /// Goes on with a run that failed, was cancelled or was interrupted, from the step it
    /// stopped at. A step whose outcome is unknown is called again only with `retry_unknown`.
    pub async fn resume_construction(
        &self,
        user: &User,
        id: i64,
        retry_unknown: bool,
    ) -> Result<Run, DeskError> {
        require_handler(user)?;
        let state = self
            .store
            .read(move |c| runs::resumable(c, id))
            .await?
            .ok_or_else(|| DeskError::NotFound(format!("construction run {id}")))?;
        if !state.run.status.resumable() {
            return Err(DeskError::Conflict(format!(
                "run {id} is {}; only a failed, cancelled or interrupted run can be resumed",
                state.run.status.as_str()
            )));
        }
        if !state.unknown.is_empty() && !retry_unknown {
            return Err(DeskError::Conflict(format!(
                "run {id}: the outcome of {} is unknown (it is not idempotent and its call may have taken effect); check the system, then resume with retry_unknown",
                state.unknown.join(", ")
            )));
        }
        let env = self.environment_named(&state.run.environment)?;
        let recipe = self.recipe(&state.run.recipe).await?;
        recipe
            .check_systems(&env.name, &env.system_names())
            .map_err(recipe_refused)?;
        let who = user.username.clone();
        let changed = recipe.digest != state.recipe_digest;
        let jobs = self.constructions.clone();
        let run = self
            .write(move |ctx| {
                let now = runs::get(ctx.conn, id)?
                    .ok_or_else(|| DeskError::NotFound(format!("construction run {id}")))?;
                if now.version != state.run.version {
                    return Err(DeskError::Conflict(format!(
                        "run {id} changed meanwhile (it is {} now)",
                        now.status.as_str()
                    )));
                }
                runs::requeue(ctx.conn, id)?;
                jobs.cancel_switch(id);
                let detail = serde_json::json!({
                    "run": id, "retry_unknown": retry_unknown, "recipe_changed": changed,
                });
                audit::record(ctx.conn, ctx.now, &who, "construct.resumed", None, &detail)?;
                runs::get(ctx.conn, id)?
                    .ok_or_else(|| DeskError::NotFound(format!("construction run {id}")))
            })
            .await?;
        self.constructions.publish(run.clone(), None);
        self.spawn_run(id, recipe, env);
        Ok(run)
    }

    /// Stops a queued or running run after the call in flight.
    pub async fn cancel_construction(&self, user: &User, id: i64) -> Result<Run, DeskError> {
        require_handler(user)?;
        let run = self
            .store
            .read(move |c| runs::get(c, id))
            .await?
            .ok_or_else(|| DeskError::NotFound(format!("construction run {id}")))?;
        if !run.status.in_progress() {
            return Err(DeskError::Conflict(format!(
                "run {id} is {}; only a queued or running run can be cancelled",
                run.status.as_str()
            )));
        }
        let who = user.username.clone();
        let here = self.constructions.cancel(id);
        let run = self
            .write(move |ctx| {
                let detail = serde_json::json!({ "run": id });
                audit::record(
                    ctx.conn,
                    ctx.now,
                    &who,
                    "construct.cancelled",
                    None,
                    &detail,
                )?;
                if !here {
                    // No job of it in this server (it died with another): end it here.
                    runs::end(
                        ctx.conn,
                        id,
                        &stopped(FailureKind::Cancelled, None, "cancelled".into()),
                        ctx.now,
                    )?;
                }
                runs::get(ctx.conn, id)?
                    .ok_or_else(|| DeskError::NotFound(format!("construction run {id}")))
            })
            .await?;
        if !here {
            self.constructions.publish(run.clone(), None);
        }
        Ok(run)
    }

    pub async fn construction(&self, user: &User, id: i64) -> Result<RunDetail, DeskError> {
        require_handler(user)?;
        self.store
            .read(move |c| runs::detail(c, id))
            .await?
            .ok_or_else(|| DeskError::NotFound(format!("construction run {id}")))
    }

    pub async fn constructions(
        &self,
        user: &User,
        mut filter: RunFilter,
    ) -> Result<Vec<Run>, DeskError> {
        require_handler(user)?;
        filter.limit = filter.limit.clamp(1, MAX_LIST);
        Ok(self.store.read(move |c| runs::list(c, &filter)).await?)
    }

    /// Construction over local days `[from, to]`.
    pub async fn construct_stats(
        &self,
        user: &User,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<ConstructStats, DeskError> {
        require_handler(user)?;
        let zone = self.settings.calendar.tz();
        let (start, end) = (
            self.day_start(from),
            self.day_start(to + chrono::Duration::days(1)),
        );
        let mut stats = self
            .store
            .read(move |c| runs::stats(c, start, end, zone))
            .await?;
        stats.from = Some(from);
        stats.to = Some(to);
        Ok(stats)
    }

    fn day_start(&self, day: NaiveDate) -> DateTime<Utc> {
        use chrono::TimeZone;
        let zone = self.settings.calendar.tz();
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        zone.from_local_datetime(&midnight)
            .earliest()
            .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
    }

    /// At start: what the last server left going is interrupted (and can be resumed). Runs
    /// are taken while this runs, so the ones this process already holds are left alone.
    pub async fn interrupt_constructions(&self) -> Result<usize, DeskError> {
        let here = self.constructions.clone();
        let ids = self
            .write(move |ctx| {
                let ours = |id| here.has_job(id);
                Ok(runs::interrupt_unfinished(ctx.conn, ctx.now, ours)?)
            })
            .await?;
        if !ids.is_empty() {
            tracing::warn!(runs = ?ids, "construction runs interrupted by the last stop; resume them");
        }
        Ok(ids.len())
    }

    /// The job of run `id`: a slot in its environment, then its steps.
    fn spawn_run(&self, id: i64, recipe: Arc<Recipe>, env: Environment) {
        let desk = self.clone();
        let cancel = self.constructions.cancel_switch(id);
        tokio::spawn(async move {
            let ending = desk.run_job(id, &recipe, &env, &cancel).await;
            let run = desk
                .write(move |ctx| {
                    runs::end(ctx.conn, id, &ending, ctx.now)?;
                    Ok(runs::get(ctx.conn, id)?)
                })
                .await;
            desk.constructions.forget(id);
            match run {
                Ok(Some(run)) => desk.constructions.publish(run, None),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(run = id, error = %e, "recording a construction run's end")
                }
            }
        });
    }

    async fn run_job(
        &self,
        id: i64,
        recipe: &Recipe,
        env: &Environment,
        cancel: &CancellationToken,
    ) -> Ending {
        let slot = self.constructions.slot(env);
        let _permit = tokio::select! {
            p = slot.acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return stopped(FailureKind::Interrupted, None, "the server is stopping".into()),
            },
            () = cancel.cancelled() => return stopped(FailureKind::Cancelled, None, "cancelled while queued".into()),
        };
        let started = std::time::Instant::now();
        let begun = self
            .write(move |ctx| {
                runs::start(ctx.conn, id, &[RunStatus::Queued], ctx.now)?;
                Ok(runs::resumable(ctx.conn, id)?)
            })
            .await;
        let state = match begun {
            Ok(Some(s)) if s.run.status == RunStatus::Running => s,
            Ok(_) => {
                return stopped(
                    FailureKind::Interrupted,
                    None,
                    "the run was changed meanwhile".into(),
                );
            }
            Err(e) => {
                return stopped(
                    FailureKind::Environment,
                    None,
                    format!("the run could not start: {e}"),
                );
            }
        };
        self.constructions.publish(state.run.clone(), None);
        let caller = match self.constructions.caller() {
            Ok(c) => c,
            Err(why) => return stopped(FailureKind::Environment, None, why),
        };
        let inputs = match state.inputs {
            serde_json::Value::Object(m) => m,
            _ => Vars::new(),
        };
        let mut vars = recipe.base_vars(&inputs, &env.name, id, state.run.batch_index as usize);
        if let serde_json::Value::Object(found) = state.vars {
            vars.extend(found);
        }
        let progress = Progress {
            vars,
            done: state.done.into_iter().collect::<HashSet<_>>(),
        };
        let mut journal = StoreJournal {
            desk: self.clone(),
            run: id,
        };
        let outcome = engine::drive(recipe, env, &caller, progress, &mut journal, cancel).await;
        let ran_ms = started.elapsed().as_millis().min(i64::MAX as u128) as i64;
        match outcome {
            Outcome::Succeeded { result } => Ending {
                status: RunStatus::Succeeded,
                reason: None,
                message: None,
                failed_step: None,
                result: Some(serde_json::Value::Object(result)),
                ran_ms,
            },
            Outcome::Stopped {
                kind,
                step,
                message,
            } => Ending {
                ran_ms,
                ..stopped(kind, step, message)
            },
        }
    }
}

fn stopped(kind: FailureKind, step: Option<String>, message: String) -> Ending {
    Ending {
        status: match kind {
            FailureKind::Cancelled => RunStatus::Cancelled,
            FailureKind::Interrupted => RunStatus::Interrupted,
            _ => RunStatus::Failed,
        },
        reason: Some(kind),
        message: Some(message),
        failed_step: step,
        result: None,
        ran_ms: 0,
    }
}

/// Keeps a run's steps in the store and tells the event stream.
struct StoreJournal {
    desk: Desk,
    run: i64,
}

impl StoreJournal {
    async fn keep(
        &mut self,
        record: &StepRecord,
        extracted: Option<&Vars>,
        calls: u32,
    ) -> Result<(), String> {
        let (id, rec, found) = (self.run, record.clone(), extracted.cloned());
        let run = self
            .desk
            .write(move |ctx| {
                runs::record_step(ctx.conn, id, &rec, found.as_ref(), i64::from(calls))?;
                Ok(runs::get(ctx.conn, id)?)
            })
            .await
            .map_err(|e| e.to_string())?;
        if let Some(run) = run {
            self.desk.constructions.publish(run, Some(record.clone()));
        }
        Ok(())
    }
}

impl Journal for StoreJournal {
    async fn calling(&mut self, record: &StepRecord) -> Result<(), String> {
        self.keep(record, None, 0).await
    }

    async fn finished(
        &mut self,
        record: &StepRecord,
        extracted: Option<&Vars>,
        calls: u32,
    ) -> Result<(), String> {
        self.keep(record, extracted, calls).await
    }
}
