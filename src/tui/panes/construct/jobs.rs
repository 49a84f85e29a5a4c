//! The pane's calls to the server, each a plain value the loop runs, and what each yields.
//! Every text they hand back is terminal-safe already (the client scrubs construction
//! answers where they enter it); refusals are put in words here.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};

use crate::api::construct::{EnvironmentView, InputCheck, RunEvent, StartConstruction};
use crate::api::construct::{RecipeForm, RecipeSummary};
use crate::client::ClientError;
use crate::client::construct::{Progress, RunQuery};
use crate::domain::construct::run::{ConstructStats, Run, RunDetail};
use crate::tui::effect::{Io, Job};

/// Runs listed at once: a screenful or three, newest first.
pub const RUNS_LIMIT: usize = 100;
/// Progress handed to the pane together: a batch of runs ticking is one redraw, not hundreds.
const BATCH: usize = 200;
const BATCH_WAIT: Duration = Duration::from_millis(50);
/// The feed tries again after this, doubling up to [`FEED_RETRY_MAX`].
const FEED_RETRY: Duration = Duration::from_secs(1);
const FEED_RETRY_MAX: Duration = Duration::from_secs(30);

/// A failed call in words. The server's own messages are made safe where they enter the
/// client; a transport or decoding error can quote what came over the wire, so it is too.
fn explain(e: &ClientError) -> String {
    crate::domain::sanitize::terminal_safe(&crate::tui::calls::explain(e)).into_owned()
}

/// The recipes and environments the server offers.
#[derive(Debug, PartialEq, Eq)]
pub struct LoadSetup;

pub struct SetupLoaded {
    pub recipes: Result<Vec<RecipeSummary>, String>,
    pub environments: Result<Vec<EnvironmentView>, String>,
}

impl Job for LoadSetup {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let recipes = io.client.recipes().await.map_err(|e| explain(&e));
            let environments = io.client.environments().await.map_err(|e| explain(&e));
            io.reply(SetupLoaded {
                recipes,
                environments,
            })
            .await;
        }
        .boxed()
    }
}

/// A recipe's form (its inputs, stages and steps): for the form, or to lay a run's steps out.
#[derive(Debug, PartialEq, Eq)]
pub struct FetchRecipe {
    pub name: String,
}

pub struct RecipeLoaded {
    pub name: String,
    pub result: Result<RecipeForm, String>,
}

impl Job for FetchRecipe {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let result = io.client.recipe(&self.name).await.map_err(|e| explain(&e));
            io.reply(RecipeLoaded {
                name: self.name,
                result,
            })
            .await;
        }
        .boxed()
    }
}

/// The form's inputs as a run would fill them, after `wait` (typing goes on meanwhile: a check
/// overtaken by a newer one is never sent).
#[derive(Debug)]
pub struct CheckInputs {
    pub recipe: String,
    pub set: BTreeMap<String, String>,
    pub seed: u64,
    pub asked: u64,
    pub wait: Duration,
    pub current: Arc<AtomicU64>,
}

pub struct Checked {
    pub asked: u64,
    pub result: Result<InputCheck, String>,
}

impl Job for CheckInputs {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            if !self.wait.is_zero() {
                tokio::time::sleep(self.wait).await;
            }
            if self.current.load(Ordering::Relaxed) != self.asked {
                return;
            }
            let result = io
                .client
                .check_inputs(&self.recipe, &self.set, Some(self.seed as i64))
                .await
                .map_err(|e| explain(&e));
            io.reply(Checked {
                asked: self.asked,
                result,
            })
            .await;
        }
        .boxed()
    }
}

/// Starts the runs, once: the key makes a resent start the same start.
#[derive(Debug, PartialEq)]
pub struct StartRuns {
    pub start: StartConstruction,
    pub key: String,
}

/// Why a start was not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Inputs the server refused, by name (`phone`), with why.
    Inputs(Vec<(String, String)>),
    Other(String),
}

pub struct Started(pub Result<Vec<Run>, Refused>);

impl Job for StartRuns {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let result = io
                .client
                .start_construction(&self.start, Some(&self.key))
                .await
                .map_err(|e| refused(&e));
            io.reply(Started(result)).await;
        }
        .boxed()
    }
}

/// A refusal whose fields name inputs (`set.phone: …`) goes back beside them.
fn refused(e: &ClientError) -> Refused {
    if let ClientError::Api { fields, .. } = e {
        let inputs: Vec<(String, String)> = fields
            .iter()
            .filter_map(|f| {
                let (field, why) = f.split_once(':')?;
                let input = field.trim().strip_prefix("set.")?;
                Some((input.to_string(), why.trim().to_string()))
            })
            .collect();
        if !inputs.is_empty() && inputs.len() == fields.len() {
            return Refused::Inputs(inputs);
        }
    }
    Refused::Other(explain(e))
}

/// My runs, or the team's.
#[derive(Debug, PartialEq, Eq)]
pub struct ListRuns {
    pub team: bool,
    pub asked: u64,
}

pub struct RunsListed {
    pub asked: u64,
    pub result: Result<Vec<Run>, String>,
}

impl Job for ListRuns {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let query = RunQuery {
                started_by: (!self.team).then(|| "me".to_string()),
                limit: Some(RUNS_LIMIT),
                ..RunQuery::default()
            };
            let result = io
                .client
                .constructions(&query)
                .await
                .map_err(|e| explain(&e));
            io.reply(RunsListed {
                asked: self.asked,
                result,
            })
            .await;
        }
        .boxed()
    }
}

/// One run whole: its inputs (masked), steps and result.
#[derive(Debug, PartialEq, Eq)]
pub struct FetchRun {
    pub id: i64,
}

pub struct RunLoaded {
    pub id: i64,
    pub result: Result<RunDetail, String>,
}

impl Job for FetchRun {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let result = io
                .client
                .construction(self.id)
                .await
                .map_err(|e| explain(&e));
            io.reply(RunLoaded {
                id: self.id,
                result,
            })
            .await;
        }
        .boxed()
    }
}

/// What to do to a run that is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Resume { retry_unknown: bool },
    Cancel,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ChangeRun {
    pub id: i64,
    pub change: Change,
}

pub struct RunChanged {
    pub id: i64,
    pub change: Change,
    pub result: Result<Run, String>,
}

impl Job for ChangeRun {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let result = match self.change {
                Change::Resume { retry_unknown } => {
                    io.client.resume_construction(self.id, retry_unknown).await
                }
                Change::Cancel => io.client.cancel_construction(self.id).await,
            }
            .map_err(|e| explain(&e));
            io.reply(RunChanged {
                id: self.id,
                change: self.change,
                result,
            })
            .await;
        }
        .boxed()
    }
}

/// The last 30 days of construction (the server's default span).
#[derive(Debug, PartialEq, Eq)]
pub struct FetchStats;

pub struct StatsLoaded(pub Result<ConstructStats, String>);

impl Job for FetchStats {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let result = io
                .client
                .construct_stats(None, None)
                .await
                .map_err(|e| explain(&e));
            io.reply(StatsLoaded(result)).await;
        }
        .boxed()
    }
}

/// Follows every run's progress for as long as the workstation runs: a dropped stream is
/// opened again (after a pause that doubles), and each time it is up the pane lists again
/// what it may have missed.
#[derive(Debug)]
pub struct FollowRuns {
    pub generation: u64,
    pub current: Arc<AtomicU64>,
}

/// The feed is up (the pane lists again), or down and why.
#[derive(Debug, PartialEq, Eq)]
pub enum FeedLink {
    Up,
    Down(String),
}

/// Progress since the last news; `lagged` when events were missed (the pane lists again).
pub struct FeedNews {
    pub events: Vec<RunEvent>,
    pub lagged: bool,
}

impl FollowRuns {
    fn stale(&self) -> bool {
        self.current.load(Ordering::Relaxed) != self.generation
    }

    /// Reads one stream to its end, handing its news over in batches: whether it opened and
    /// why it ended, or `None` when the pane no longer wants it.
    async fn follow(&self, io: &Io) -> Option<(bool, String)> {
        let mut feed = match io.client.construction_feed().await {
            Ok(feed) => feed,
            Err(e) => return Some((false, explain(&e))),
        };
        io.reply(FeedLink::Up).await;
        let mut events = Vec::new();
        let mut lagged = false;
        let mut since = tokio::time::Instant::now();
        loop {
            let next = tokio::time::timeout(BATCH_WAIT, feed.next()).await;
            if self.stale() {
                return None;
            }
            let ended = match next {
                Ok(Some(Ok(Progress::Run(e)))) => {
                    events.push(*e);
                    None
                }
                Ok(Some(Ok(Progress::Lagged))) => {
                    lagged = true;
                    None
                }
                Ok(Some(Err(e))) => Some(explain(&e)),
                Ok(None) => Some("服务器关闭了进度流 the server closed the stream".to_string()),
                Err(_quiet) => None,
            };
            let due = events.len() >= BATCH || since.elapsed() >= BATCH_WAIT;
            if (ended.is_some() || due) && (lagged || !events.is_empty()) {
                let news = FeedNews {
                    events: std::mem::take(&mut events),
                    lagged: std::mem::take(&mut lagged),
                };
                io.reply(news).await;
                since = tokio::time::Instant::now();
            }
            if let Some(why) = ended {
                return Some((true, why));
            }
        }
    }
}

impl Job for FollowRuns {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let mut pause = FEED_RETRY;
            loop {
                let Some((opened, why)) = self.follow(&io).await else {
                    return;
                };
                io.reply(FeedLink::Down(why)).await;
                // A stream that was up starts the pauses over; one that never opened waits longer.
                pause = if opened { FEED_RETRY } else { pause };
                tokio::time::sleep(pause).await;
                if self.stale() {
                    return;
                }
                pause = (pause * 2).min(FEED_RETRY_MAX);
            }
        }
        .boxed()
    }
}
