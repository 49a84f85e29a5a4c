//! The `construct` commands that work on the server's runs.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail};
use futures::StreamExt;

use super::{ConstructCommand, ListArgs, RunArgs, parse_set};
use crate::api::construct::StartConstruction;
use crate::client::ApiClient;
use crate::client::construct::{Progress, RunQuery};
use crate::display::table;
use crate::domain::construct::run::{Run, RunDetail, RunStatus, StepRecord, StepStatus};

pub async fn dispatch(client: &ApiClient, cmd: ConstructCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ConstructCommand::Run(args) => run(client, args).await,
        ConstructCommand::Recipes { json } => recipes(client, json).await,
        ConstructCommand::Envs { json } => envs(client, json).await,
        ConstructCommand::List(args) => list(client, args).await,
        ConstructCommand::Show { id, json } => {
            let detail = client.construction(id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&detail)?);
            } else {
                print_detail(&detail)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ConstructCommand::Resume {
            id,
            retry_unknown,
            json,
            detach,
        } => {
            let feed: Option<Feed> = if detach {
                None
            } else {
                Some(Box::new(client.construction_feed().await?))
            };
            let run = client.resume_construction(id, retry_unknown).await?;
            eprintln!("run #{} resumed from where it stopped", run.id);
            if detach {
                return Ok(ExitCode::SUCCESS);
            }
            follow(client, &[run], feed, json).await
        }
        ConstructCommand::Cancel { id } => {
            let run = client.cancel_construction(id).await?;
            eprintln!(
                "run #{} cancelled; `opsdesk construct resume {}` goes on from where it stops",
                run.id, run.id
            );
            Ok(ExitCode::SUCCESS)
        }
        ConstructCommand::Stats { from, to, json } => stats(client, from, to, json).await,
        ConstructCommand::Gen(_) | ConstructCommand::Check { .. } => {
            unreachable!("handled without a server")
        }
    }
}

/// The environment to build in: the one named, else the only one, else `sandbox`.
async fn environment(client: &ApiClient, named: Option<String>) -> anyhow::Result<String> {
    if let Some(env) = named {
        return Ok(env);
    }
    let envs = client.environments().await?;
    match envs.as_slice() {
        [] => bail!(
            "the server has no construction environment ([[construct.environment]] in its opsdesk.toml)"
        ),
        [one] => Ok(one.name.clone()),
        many => match many.iter().find(|e| e.name == "sandbox") {
            Some(e) => Ok(e.name.clone()),
            None => bail!(
                "choose an environment with --env: {}",
                many.iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

async fn run(client: &ApiClient, args: RunArgs) -> anyhow::Result<ExitCode> {
    let set = parse_set(&args.set)?;
    if args.parallel.is_some() {
        bail!(
            "--parallel is for --local; the server runs as many at once as the environment's concurrency allows"
        );
    }
    let environment = environment(client, args.env).await?;
    let feed: Option<Feed> = if args.detach {
        None
    } else {
        Some(Box::new(client.construction_feed().await?))
    };
    let start = StartConstruction {
        recipe: args.recipe,
        environment,
        set: BTreeMap::from_iter(set),
        count: Some(args.count),
        seed: args.seed,
    };
    let runs = client
        .start_construction(&start, Some(&crate::cli::fresh_key()?))
        .await?;
    if args.detach {
        for r in &runs {
            println!("{}", r.id);
        }
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "{} {} in {}: run{} {}",
        runs.len(),
        start.recipe,
        start.environment,
        if runs.len() == 1 { "" } else { "s" },
        runs.iter()
            .map(|r| format!("#{}", r.id))
            .collect::<Vec<_>>()
            .join(" ")
    );
    follow(client, &runs, feed, args.json).await
}

type Feed =
    Box<dyn futures::Stream<Item = Result<Progress, crate::client::ClientError>> + Send + Unpin>;

/// Prints the runs' steps as they tick until every run has stopped, then what they built.
async fn follow(
    client: &ApiClient,
    runs: &[Run],
    mut feed: Option<Feed>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let ids: HashSet<i64> = runs.iter().map(|r| r.id).collect();
    let batch = runs.len() > 1;
    let mut open: HashSet<i64> = ids.clone();
    let mut poll = tokio::time::interval(Duration::from_secs(2));
    while !open.is_empty() {
        let event = match feed.as_mut() {
            Some(f) => tokio::select! {
                e = f.next() => e,
                _ = poll.tick() => Some(Ok(Progress::Lagged)),
            },
            None => {
                poll.tick().await;
                Some(Ok(Progress::Lagged))
            }
        };
        match event {
            Some(Ok(Progress::Run(e))) if ids.contains(&e.run.id) => {
                if let Some(step) = &e.step
                    && !batch
                {
                    print_step(e.run.id, step);
                }
                if !e.run.status.in_progress() {
                    open.remove(&e.run.id);
                    if batch {
                        eprintln!("  #{} {}", e.run.id, ended(&e.run));
                    }
                }
            }
            Some(Ok(Progress::Run(_))) => {}
            // Missed events, a quiet stream or none at all: ask for the runs still open.
            Some(Ok(Progress::Lagged)) => {
                for id in open.clone() {
                    let r = client.construction(id).await?.run;
                    if !r.status.in_progress() {
                        open.remove(&id);
                        if batch {
                            eprintln!("  #{} {}", r.id, ended(&r));
                        }
                    }
                }
            }
            Some(Err(_)) | None => feed = None,
        }
    }
    let mut details = Vec::with_capacity(runs.len());
    for r in runs {
        details.push(client.construction(r.id).await?);
    }
    let all_ok = details.iter().all(|d| d.run.status == RunStatus::Succeeded);
    if json {
        let out = if batch {
            serde_json::to_string_pretty(&details)?
        } else {
            serde_json::to_string_pretty(&details[0])?
        };
        println!("{out}");
    } else if batch {
        let ok = details
            .iter()
            .filter(|d| d.run.status == RunStatus::Succeeded)
            .count();
        eprintln!("{ok} of {} succeeded", details.len());
        let rows: Vec<Vec<Option<String>>> = details.iter().map(result_row).collect();
        let columns = ["run", "status", "customer_no", "fund_account", "why"].map(String::from);
        for line in table(&columns, &rows, 60) {
            println!("{line}");
        }
    } else {
        print_outcome(&details[0])?;
    }
    for d in details.iter().filter(|d| d.run.status.resumable()) {
        eprintln!(
            "run #{} stopped at {}: `opsdesk construct resume {}` goes on from there",
            d.run.id,
            d.run.failed_step.as_deref().unwrap_or("its start"),
            d.run.id
        );
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn ended(r: &Run) -> String {
    match &r.message {
        Some(m) if r.status != RunStatus::Succeeded => format!("{}: {m}", r.status.zh()),
        _ => format!("{} ({} ms)", r.status.zh(), r.duration_ms),
    }
}

fn result_row(d: &RunDetail) -> Vec<Option<String>> {
    let field = |k: &str| {
        d.result
            .as_ref()
            .and_then(|r| r.get(k))
            .map(super::shown)
            .or(Some(String::new()))
    };
    vec![
        Some(format!("#{}", d.run.id)),
        Some(d.run.status.as_str().to_string()),
        field("customer_no"),
        field("fund_account"),
        Some(d.run.message.clone().unwrap_or_default()),
    ]
}

pub fn print_step(run: i64, step: &StepRecord) {
    let mark = super::mark(step.status);
    let retried = if step.attempts > 1 {
        format!(" ({} calls)", step.attempts)
    } else {
        String::new()
    };
    match (&step.status, &step.message) {
        (StepStatus::Running, _) => {}
        (_, Some(m)) => eprintln!(
            "  #{run} {mark} {} {} ms{retried}: {m}",
            step.key, step.duration_ms
        ),
        (_, None) => eprintln!(
            "  #{run} {mark} {} {} ms{retried}",
            step.key, step.duration_ms
        ),
    }
}

/// A finished run for the reader: what it built, or where and why it stopped.
fn print_outcome(d: &RunDetail) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match (&d.run.status, &d.result) {
        (RunStatus::Succeeded, Some(serde_json::Value::Object(result))) => {
            writeln!(
                out,
                "run #{} built in {} ms ({} calls):",
                d.run.id, d.run.duration_ms, d.run.calls
            )?;
            let width = result.keys().map(|k| k.len()).max().unwrap_or(0);
            for (k, v) in result {
                let v = super::shown(v);
                writeln!(out, "  {k:width$}  {v}")?;
            }
        }
        _ => {
            eprintln!(
                "run #{} {}{}",
                d.run.id,
                d.run.status.zh(),
                d.run
                    .message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}

fn print_detail(d: &RunDetail) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let r = &d.run;
    writeln!(
        out,
        "run #{}  {}  {} in {}  by {}",
        r.id,
        r.status.zh(),
        r.recipe,
        r.environment,
        r.started_by
    )?;
    writeln!(
        out,
        "created {}  ran {} ms  {} calls  {} steps done",
        r.created_at.format("%Y-%m-%d %H:%M:%S"),
        r.duration_ms,
        r.calls,
        r.steps_done
    )?;
    if let Some(m) = &r.message {
        writeln!(
            out,
            "stopped at {}: {m}",
            r.failed_step.as_deref().unwrap_or("-")
        )?;
    }
    writeln!(out, "inputs: {}", d.inputs)?;
    for s in &d.steps {
        let mark = super::mark(s.status);
        writeln!(
            out,
            "  {mark} {:40} {:>6} ms  {}",
            s.key,
            s.duration_ms,
            s.message.as_deref().unwrap_or("")
        )?;
    }
    if let Some(serde_json::Value::Object(result)) = &d.result {
        writeln!(out, "result:")?;
        for (k, v) in result {
            writeln!(out, "  {k}  {}", super::shown(v))?;
        }
    }
    Ok(())
}

async fn recipes(client: &ApiClient, json: bool) -> anyhow::Result<ExitCode> {
    let list = client.recipes().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    for r in &list {
        if r.problems.is_empty() {
            println!(
                "{:20} {:3} steps  {}  ({})",
                r.name,
                r.steps,
                r.title,
                r.stages.join(" · ")
            );
        } else {
            println!("{:20} cannot run:", r.name);
            for p in &r.problems {
                println!("    {p}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn envs(client: &ApiClient, json: bool) -> anyhow::Result<ExitCode> {
    let list = client.environments().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    for e in &list {
        println!(
            "{:12} {} at once  {}  {}",
            e.name,
            e.concurrency,
            e.systems.join(", "),
            e.title.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(client: &ApiClient, args: ListArgs) -> anyhow::Result<ExitCode> {
    let status = match args.status.as_deref() {
        None => None,
        Some(s) => Some(RunStatus::parse(s).ok_or_else(|| {
            anyhow!(
                "--status '{s}': one of queued, running, succeeded, failed, cancelled, interrupted"
            )
        })?),
    };
    if !(1..=500).contains(&args.limit) {
        bail!("--limit must be 1 to 500");
    }
    let runs = client
        .constructions(&RunQuery {
            started_by: args.mine.then(|| "me".to_string()),
            status,
            environment: args.env,
            batch: args.batch,
            before: None,
            limit: Some(args.limit),
        })
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
        return Ok(ExitCode::SUCCESS);
    }
    let columns = [
        "run", "when", "recipe", "env", "by", "status", "steps", "ms", "why",
    ]
    .map(String::from);
    let rows: Vec<Vec<Option<String>>> = runs
        .iter()
        .map(|r| {
            vec![
                Some(format!("#{}", r.id)),
                Some(r.created_at.format("%m-%d %H:%M").to_string()),
                Some(r.recipe.clone()),
                Some(r.environment.clone()),
                Some(r.started_by.clone()),
                Some(r.status.as_str().to_string()),
                Some(r.steps_done.to_string()),
                Some(r.duration_ms.to_string()),
                Some(r.message.clone().unwrap_or_default()),
            ]
        })
        .collect();
    for line in table(&columns, &rows, 60) {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn stats(
    client: &ApiClient,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let s = client.construct_stats(from, to).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rate = |o: &crate::domain::construct::run::Outcomes| {
        o.success_rate().map_or("-".into(), |r| format!("{r:.1}%"))
    };
    let t = &s.total;
    println!(
        "{} – {}: {} runs, {} succeeded, {} failed, {} in progress, success {}",
        s.from.map(|d| d.to_string()).unwrap_or_default(),
        s.to.map(|d| d.to_string()).unwrap_or_default(),
        t.runs,
        t.succeeded,
        t.failed,
        t.in_progress,
        rate(t)
    );
    let section = |title: &str, rows: Vec<Vec<Option<String>>>, first: &str| {
        println!("\n{title}");
        let columns = [first, "runs", "ok", "failed", "going", "success"].map(String::from);
        for line in table(&columns, &rows, 40) {
            println!("{line}");
        }
    };
    let row = |name: String, o: &crate::domain::construct::run::Outcomes| {
        vec![
            Some(name),
            Some(o.runs.to_string()),
            Some(o.succeeded.to_string()),
            Some(o.failed.to_string()),
            Some(o.in_progress.to_string()),
            Some(rate(o)),
        ]
    };
    section(
        "by day and environment",
        s.by_day
            .iter()
            .map(|d| row(format!("{} {}", d.day, d.environment), &d.outcomes))
            .collect(),
        "day",
    );
    section(
        "by environment",
        s.by_environment
            .iter()
            .map(|n| row(n.name.clone(), &n.outcomes))
            .collect(),
        "environment",
    );
    section(
        "by person",
        s.by_person
            .iter()
            .map(|n| row(n.name.clone(), &n.outcomes))
            .collect(),
        "person",
    );
    println!("\nby recipe");
    for r in &s.by_recipe {
        println!(
            "  {:20} {} runs, success {}, mean {}",
            r.recipe,
            r.outcomes.runs,
            rate(&r.outcomes),
            r.mean_ms.map_or("-".into(), |ms| format!("{ms} ms"))
        );
    }
    if !s.reasons.is_empty() {
        println!("\nwhy runs failed");
        for r in &s.reasons {
            println!(
                "  {:4} {} {} {}",
                r.runs,
                r.reason.zh(),
                r.step.as_deref().unwrap_or(""),
                r.message.as_deref().unwrap_or("")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
