//! `construct check` and `construct run --local`: recipes read and run in this process,
//! against the environments of this config (a script's host with its own credentials). No
//! record is kept but what is printed.

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, bail};
use tokio_util::sync::CancellationToken;

use super::{RunArgs, parse_set, runs::print_step};
use crate::config::Settings;
use crate::construct::engine::{self, Caller, Journal, Outcome, Progress};
use crate::construct::recipes::Recipes;
use crate::domain::construct::generate::Draw;
use crate::domain::construct::recipe::Vars;
use crate::domain::construct::run::StepRecord;

/// Reads a recipe and says what is wrong with it, every mistake with its file and line.
pub fn check(settings: &Settings, recipe: &str, env: Option<&str>) -> anyhow::Result<ExitCode> {
    let recipes = Recipes::with_paths(&settings.construct);
    let loaded = match recipes.load(recipe) {
        Ok(r) => r,
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("{e}");
            }
            bail!(
                "{recipe}: {} mistake{}",
                errors.0.len(),
                if errors.0.len() == 1 { "" } else { "s" }
            );
        }
    };
    if let Some(name) = env {
        let env = settings.construct.environment(name).ok_or_else(|| {
            anyhow!(
                "there is no environment {name}; there are: {}",
                settings.construct.environment_names()
            )
        })?;
        if let Err(errors) = loaded.check_systems(&env.name, &env.system_names()) {
            for e in &errors.0 {
                eprintln!("{e}");
            }
            bail!("{recipe} does not fit environment {name}");
        }
    }
    println!(
        "{}: {} inputs, {} steps in {} stages ({}); no mistakes",
        loaded.name,
        loaded.inputs.len(),
        loaded.steps().count(),
        loaded.stages.len(),
        loaded
            .stages
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(" · ")
    );
    Ok(ExitCode::SUCCESS)
}

struct Printed {
    run: i64,
    quiet: bool,
}

impl Journal for Printed {
    async fn calling(&mut self, _record: &StepRecord) -> Result<(), String> {
        Ok(())
    }

    async fn finished(
        &mut self,
        record: &StepRecord,
        _extracted: Option<&Vars>,
        _calls: u32,
    ) -> Result<(), String> {
        if !self.quiet {
            print_step(self.run, record);
        }
        Ok(())
    }
}

/// Builds the accounts here, `--parallel` at once, and prints what each built.
pub async fn run(settings: &Settings, args: RunArgs) -> anyhow::Result<ExitCode> {
    let construct = &settings.construct;
    let env_name = match (&args.env, construct.environments.as_slice()) {
        (Some(e), _) => e.clone(),
        (None, [one]) => one.name.clone(),
        (None, _) => bail!(
            "choose an environment with --env: {}",
            construct.environment_names()
        ),
    };
    let env = construct.environment(&env_name).cloned().ok_or_else(|| {
        anyhow!(
            "there is no environment {env_name} in this config; there are: {}",
            construct.environment_names()
        )
    })?;
    if !(1..=crate::service::construct::MAX_BATCH).contains(&args.count) {
        bail!(
            "--count must be 1 to {}",
            crate::service::construct::MAX_BATCH
        );
    }
    let parallel = args.parallel.unwrap_or(env.concurrency);
    if !(1..=64).contains(&parallel) {
        bail!("--parallel must be 1 to 64");
    }
    let set = parse_set(&args.set)?;
    let recipes = Recipes::with_paths(construct);
    let recipe = recipes.load(&args.recipe).map_err(|e| anyhow!("{e}"))?;
    recipe
        .check_systems(&env.name, &env.system_names())
        .map_err(|e| anyhow!("{e}"))?;
    let today = chrono::Utc::now()
        .with_timezone(&settings.calendar.tz())
        .date_naive();
    let seed = match args.seed {
        Some(s) => s as u64,
        None => getrandom::u64().map_err(|e| anyhow!("no randomness: {e}"))?,
    };
    let mut draw = Draw::new(seed);
    let mut taken = HashSet::new();
    let mut planned = Vec::new();
    for index in 0..args.count {
        let inputs = recipe
            .fill_inputs(&set, &mut draw, &taken, today)
            .map_err(|errors| {
                anyhow!(
                    "{}",
                    errors
                        .iter()
                        .map(|e| format!("--set {}: {}", e.input, e.message))
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            })?;
        for v in inputs.values().filter_map(|v| v.as_str()) {
            taken.insert(v.to_string());
        }
        planned.push((i64::from(index) + 1, inputs));
    }
    let recipe = Arc::new(recipe);
    let env = Arc::new(env);
    let caller = Caller::new().map_err(|e| anyhow!(e))?;
    let slots = Arc::new(tokio::sync::Semaphore::new(parallel));
    let cancel = CancellationToken::new();
    let quiet = args.count > 1;
    let mut jobs = tokio::task::JoinSet::new();
    for (run, inputs) in planned {
        let (recipe, env, caller, slots, cancel) = (
            recipe.clone(),
            env.clone(),
            caller.clone(),
            slots.clone(),
            cancel.clone(),
        );
        jobs.spawn(async move {
            let _slot = slots.acquire_owned().await;
            let started = std::time::Instant::now();
            let vars = recipe.base_vars(&inputs, &env.name, run, (run - 1) as usize);
            let progress = Progress {
                vars,
                done: HashSet::new(),
            };
            let mut journal = Printed { run, quiet };
            let outcome =
                engine::drive(&recipe, &env, &caller, progress, &mut journal, &cancel).await;
            (run, outcome, started.elapsed())
        });
    }
    let mut ended = Vec::new();
    while let Some(done) = jobs.join_next().await {
        let (run, outcome, took) = done.map_err(|e| anyhow!("a run's task failed: {e}"))?;
        if quiet {
            match &outcome {
                Outcome::Succeeded { .. } => eprintln!("  #{run} 成功 ({} ms)", took.as_millis()),
                Outcome::Stopped { message, .. } => eprintln!("  #{run} 失败: {message}"),
            }
        }
        ended.push((run, outcome, took));
    }
    ended.sort_by_key(|(run, _, _)| *run);
    let ok = ended
        .iter()
        .filter(|(_, o, _)| matches!(o, Outcome::Succeeded { .. }))
        .count();
    if args.json {
        let shown: Vec<serde_json::Value> = ended
            .iter()
            .map(|(run, o, took)| match o {
                Outcome::Succeeded { result } => serde_json::json!({
                    "run": run, "status": "succeeded", "duration_ms": took.as_millis() as u64, "result": result,
                }),
                Outcome::Stopped { kind, step, message } => serde_json::json!({
                    "run": run, "status": "failed", "duration_ms": took.as_millis() as u64,
                    "reason": kind, "failed_step": step, "message": message,
                }),
            })
            .collect();
        let out = if shown.len() == 1 {
            serde_json::to_string_pretty(&shown[0])?
        } else {
            serde_json::to_string_pretty(&shown)?
        };
        println!("{out}");
    } else {
        for (run, o, took) in &ended {
            match o {
                Outcome::Succeeded { result } => {
                    println!("#{run} built in {} ms:", took.as_millis());
                    for (k, v) in result {
                        println!("  {k}  {}", super::shown(v));
                    }
                }
                Outcome::Stopped { step, message, .. } => {
                    eprintln!(
                        "#{run} stopped at {}: {message}",
                        step.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        if ended.len() > 1 {
            eprintln!("{ok} of {} succeeded", ended.len());
        }
    }
    Ok(if ok == ended.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
