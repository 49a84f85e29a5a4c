//! `opsdesk construct`: UAT test accounts. `gen` draws test identities here; `run`, `list`,
//! `show`, `resume`, `cancel` and `stats` work on the server's runs (or, `run --local`, in this
//! process against the environments of this config); `recipes` lists what can be built and
//! `check` reads a recipe file and reports its mistakes with file and line.

mod identities;
mod local;
mod runs;

use clap::{Args, Subcommand};

pub use identities::GenArgs;

#[derive(Debug, Subcommand)]
pub enum ConstructCommand {
    /// Generate test identities, one a line (unique within the batch).
    Gen(GenArgs),
    /// Build accounts with a recipe (`plain-account`, `trading-account`) in an environment.
    Run(RunArgs),
    /// The recipes the server offers.
    Recipes {
        #[arg(long)]
        json: bool,
    },
    /// The UAT environments the server builds in.
    Envs {
        #[arg(long)]
        json: bool,
    },
    /// Read a recipe (a name or a file) and report its mistakes, with file and line.
    Check {
        recipe: String,
        /// Also check that this environment of the local config has its systems.
        #[arg(long)]
        env: Option<String>,
    },
    /// Construction runs, newest first.
    List(ListArgs),
    /// One run: its steps, what failed and what it built.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Go on with a failed, cancelled or interrupted run from the step it stopped at.
    Resume {
        id: i64,
        /// Call again a step whose outcome is unknown (check the system first).
        #[arg(long)]
        retry_unknown: bool,
        /// Print the run as JSON when it ends.
        #[arg(long)]
        json: bool,
        /// Return at once instead of following the run.
        #[arg(long)]
        detach: bool,
    },
    /// Stop a queued or running run (it can be resumed).
    Cancel { id: i64 },
    /// Success, failure and in progress per day and environment, reasons, people, recipes.
    Stats {
        /// First local day (default: 29 days before --to).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last local day (default: today).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The recipe's name (`plain-account`); with --local, a file path too.
    pub recipe: String,
    /// The environment (default: the only one, or `sandbox` in the demo).
    #[arg(long)]
    pub env: Option<String>,
    /// An input, `name=value` (a list comma-separated); repeat for more.
    #[arg(long = "set", value_name = "K=V")]
    pub set: Vec<String>,
    /// Build this many accounts, each with its own generated values (1–200).
    #[arg(long, default_value_t = 1)]
    pub count: u32,
    /// Generate values from this seed (a batch can be repeated).
    #[arg(long, allow_negative_numbers = true)]
    pub seed: Option<i64>,
    /// Print the runs as JSON when they end (progress still goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Run here, against this config's environments, instead of in the server.
    #[arg(long)]
    pub local: bool,
    /// With --local: accounts built at once (default: the environment's concurrency).
    #[arg(long)]
    pub parallel: Option<usize>,
    /// Queue the runs and return at once (print their numbers).
    #[arg(long)]
    pub detach: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only mine.
    #[arg(long)]
    pub mine: bool,
    /// queued, running, succeeded, failed, cancelled or interrupted.
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub env: Option<String>,
    /// The runs of one batch.
    #[arg(long)]
    pub batch: Option<String>,
    #[arg(long, default_value_t = 30)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
}

pub use local::check as check_recipe;
pub use local::run as run_local;
pub use runs::dispatch as on_server;

/// A result's value as printed: text as it is, anything else as JSON.
fn shown(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// A step's state as one mark.
fn mark(status: crate::domain::construct::run::StepStatus) -> &'static str {
    use crate::domain::construct::run::StepStatus;
    match status {
        StepStatus::Succeeded => "✓",
        StepStatus::Running => "…",
        StepStatus::Failed => "✗",
        StepStatus::Unknown => "?",
    }
}

/// `--set k=v` pairs as a map; a pair without `=` is refused.
pub fn parse_set(pairs: &[String]) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut set = std::collections::BTreeMap::new();
    for pair in pairs {
        let Some((k, v)) = pair.split_once('=') else {
            anyhow::bail!("--set '{pair}': write it as name=value");
        };
        let k = k.trim();
        if k.is_empty() {
            anyhow::bail!("--set '{pair}': the name is empty");
        }
        if set.insert(k.to_string(), v.to_string()).is_some() {
            anyhow::bail!("--set {k} is given twice");
        }
    }
    Ok(set)
}

pub fn identities(args: GenArgs, zone: chrono_tz::Tz) -> anyhow::Result<std::process::ExitCode> {
    identities::run(args, zone)
}
