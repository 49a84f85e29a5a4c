//! One run close up: its stages and steps as they tick (the recipe's steps not reached yet
//! shown waiting), the step in view with its request and answer, and what the run built.

use serde_json::Value;

use crate::api::construct::RecipeForm;
use crate::domain::construct::run::{Run, RunDetail, RunStatus, StepRecord, StepStatus};

#[derive(Debug)]
pub struct Detail {
    pub id: i64,
    pub run: Option<Run>,
    pub steps: Vec<StepRecord>,
    /// What the run was given (masked) and built, once fetched.
    pub inputs: Option<Value>,
    pub result: Option<Value>,
    pub loading: bool,
    pub problem: Option<String>,
    /// The step in view, by key; `None` follows the run (the failing step, else the newest).
    pub chosen: Option<String>,
    /// How far the request and answer are scrolled.
    pub scroll: u16,
    /// The request and answer read on the whole pane.
    pub reading: bool,
}

/// A row of the step list.
#[derive(Debug, Clone, PartialEq)]
pub enum Row<'a> {
    /// A stage: its name and title.
    Stage(String, Option<String>),
    /// A step by key (`stage/step`, `stage/step[i]`), and how it went (none: not reached).
    Step(String, Option<&'a StepRecord>),
}

impl Detail {
    pub fn new(id: i64, run: Option<Run>) -> Detail {
        Detail {
            id,
            run,
            steps: Vec::new(),
            inputs: None,
            result: None,
            loading: true,
            problem: None,
            chosen: None,
            scroll: 0,
            reading: false,
        }
    }

    /// The run as fetched, over what the stream brought meanwhile: whichever says more wins.
    pub fn loaded(&mut self, d: RunDetail) {
        self.loading = false;
        self.problem = None;
        let newer = self.run.as_ref().is_none_or(|r| d.run.version >= r.version);
        if newer {
            self.run = Some(d.run);
        }
        for step in d.steps {
            self.upsert(step);
        }
        self.inputs = Some(d.inputs);
        self.result = d.result;
    }

    /// A step as the stream or a fetch tells it, unless what is known is further along.
    pub fn upsert(&mut self, step: StepRecord) {
        match self.steps.iter_mut().find(|s| s.key == step.key) {
            Some(known) => {
                let further = (step.attempts, step.status != StepStatus::Running)
                    >= (known.attempts, known.status != StepStatus::Running);
                if further || step.started_at > known.started_at {
                    *known = step;
                }
            }
            None => self.steps.push(step),
        }
    }

    /// A run's new state from the stream; true when it just stopped (its result is fetched).
    pub fn apply(&mut self, run: &Run, step: Option<&StepRecord>) -> bool {
        let was_going = self.run.as_ref().is_none_or(|r| r.status.in_progress());
        if self.run.as_ref().is_none_or(|r| run.version >= r.version) {
            self.run = Some(run.clone());
        }
        if let Some(step) = step {
            self.upsert(step.clone());
        }
        // A run going again (resumed) drops the result it had not got.
        if run.status.in_progress() {
            self.result = None;
        }
        was_going && !run.status.in_progress()
    }

    /// The stages and steps: the recipe's, each with how it went, else those recorded.
    pub fn rows<'a>(&'a self, recipe: Option<&RecipeForm>) -> Vec<Row<'a>> {
        let mut rows = Vec::new();
        let mut placed = vec![false; self.steps.len()];
        if let Some(recipe) = recipe {
            for stage in &recipe.stages {
                rows.push(Row::Stage(stage.name.clone(), stage.title.clone()));
                for step in &stage.steps {
                    let key = format!("{}/{}", stage.name, step);
                    let mut calls: Vec<(usize, &StepRecord)> = self
                        .steps
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.key == key || loop_of(&s.key) == Some(key.as_str()))
                        .collect();
                    calls.sort_by_key(|(_, s)| loop_index(&s.key));
                    if calls.is_empty() {
                        rows.push(Row::Step(key, None));
                    }
                    for (i, s) in calls {
                        placed[i] = true;
                        rows.push(Row::Step(s.key.clone(), Some(s)));
                    }
                }
            }
        }
        // Steps the recipe does not list (it changed, or it is not fetched yet), by stage.
        let mut stage: Option<&str> = None;
        for (i, s) in self.steps.iter().enumerate() {
            if placed[i] {
                continue;
            }
            if stage != Some(s.stage.as_str()) {
                stage = Some(&s.stage);
                rows.push(Row::Stage(s.stage.clone(), None));
            }
            rows.push(Row::Step(s.key.clone(), Some(s)));
        }
        rows
    }

    /// The key of the step in view: the one chosen, else where the run stopped, else the
    /// newest one that ticked.
    pub fn in_view(&self) -> Option<String> {
        if self.chosen.is_some() {
            return self.chosen.clone();
        }
        if let Some(r) = &self.run
            && r.status != RunStatus::Succeeded
            && let Some(failed) = &r.failed_step
        {
            return Some(failed.clone());
        }
        // A run that got to its end is read from the top.
        if self
            .run
            .as_ref()
            .is_some_and(|r| r.status == RunStatus::Succeeded)
        {
            return None;
        }
        self.steps
            .iter()
            .max_by_key(|s| s.started_at)
            .map(|s| s.key.clone())
    }

    /// The record of the step in view.
    pub fn record(&self) -> Option<&StepRecord> {
        let key = self.in_view()?;
        self.steps.iter().find(|s| s.key == key)
    }

    /// Moves the step in view among `keys` (the step rows in order).
    pub fn step(&mut self, keys: &[String], by: isize) {
        if keys.is_empty() {
            return;
        }
        let to = match self
            .in_view()
            .and_then(|k| keys.iter().position(|x| *x == k))
        {
            Some(at) => at.saturating_add_signed(by),
            // Nothing in view yet: down starts at the first step, the end at the last.
            None if by == isize::MAX => keys.len() - 1,
            None => 0,
        }
        .min(keys.len() - 1);
        self.chosen = Some(keys[to].clone());
        self.scroll = 0;
    }
}

/// `stage/step` of a loop's call `stage/step[i]`.
fn loop_of(key: &str) -> Option<&str> {
    let (base, rest) = key.split_once('[')?;
    rest.ends_with(']').then_some(base)
}

fn loop_index(key: &str) -> usize {
    key.split_once('[')
        .and_then(|(_, rest)| rest.trim_end_matches(']').parse().ok())
        .unwrap_or(0)
}

/// The request and answer of a step as lines of text: the call on one line, then each
/// body as indented JSON.
pub fn exchange(step: &StepRecord) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(req) = &step.request {
        let method = req.get("method").and_then(Value::as_str).unwrap_or("");
        let path = req.get("path").and_then(Value::as_str).unwrap_or("");
        out.push(format!("请求 request  {method} {path}"));
        match req.get("body") {
            Some(Value::Null) | None => {}
            Some(body) => out.extend(pretty(body)),
        }
        if req.get("method").is_none() {
            out.extend(pretty(req));
        }
    }
    match &step.response {
        Some(resp) => {
            let status = resp
                .get("status")
                .map(|s| s.to_string())
                .unwrap_or_default();
            out.push(format!("应答 response  {status}"));
            match resp.get("body") {
                Some(Value::Null) | None if resp.get("status").is_some() => {}
                Some(body) => out.extend(pretty(body)),
                None => out.extend(pretty(resp)),
            }
        }
        None if step.request.is_some() => out.push("应答 response  — 未记录 none recorded".into()),
        None => {}
    }
    out
}

fn pretty(v: &Value) -> Vec<String> {
    match v {
        // A body that was not JSON is kept as its text.
        Value::String(text) => text.lines().map(str::to_string).collect(),
        other => serde_json::to_string_pretty(other)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect(),
    }
}
