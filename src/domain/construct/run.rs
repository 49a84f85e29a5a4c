//! A construction run as the team sees it: which recipe built what where, by whom, how far it
//! got and why it stopped. The server keeps these; the pane, the CLI and the reports read them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for a slot in its environment.
    Queued,
    Running,
    Succeeded,
    /// Stopped at a step; `reason` and `message` say why. Can be resumed.
    Failed,
    /// Stopped by a handler. Can be resumed.
    Cancelled,
    /// The server stopped while it ran. Can be resumed.
    Interrupted,
}

impl RunStatus {
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn zh(self) -> &'static str {
        match self {
            RunStatus::Queued => "排队",
            RunStatus::Running => "进行中",
            RunStatus::Succeeded => "成功",
            RunStatus::Failed => "失败",
            RunStatus::Cancelled => "已取消",
            RunStatus::Interrupted => "中断",
        }
    }

    /// Still going: queued or running (the reports' "in progress").
    pub fn in_progress(self) -> bool {
        matches!(self, RunStatus::Queued | RunStatus::Running)
    }

    /// Stopped short of the end, so it may go on from where it stopped.
    pub fn resumable(self) -> bool {
        matches!(
            self,
            RunStatus::Failed | RunStatus::Cancelled | RunStatus::Interrupted
        )
    }
}

/// Why a run stopped short, grouped the way the team fixes it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The system could not be reached or said it is being deployed (503): wait and resume.
    Unavailable,
    /// The system answered, and refused (a business error, a failed check).
    Business,
    /// A call of a step that is not idempotent may or may not have taken effect (a timeout,
    /// a 502/504): look at the system before resuming with `retry_unknown`.
    UnknownOutcome,
    /// The recipe could not make its request (a template failed on these values).
    Recipe,
    /// The environment is missing something (a system, a token).
    Environment,
    Cancelled,
    Interrupted,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Unavailable => "unavailable",
            FailureKind::Business => "business",
            FailureKind::UnknownOutcome => "unknown_outcome",
            FailureKind::Recipe => "recipe",
            FailureKind::Environment => "environment",
            FailureKind::Cancelled => "cancelled",
            FailureKind::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<FailureKind> {
        [
            FailureKind::Unavailable,
            FailureKind::Business,
            FailureKind::UnknownOutcome,
            FailureKind::Recipe,
            FailureKind::Environment,
            FailureKind::Cancelled,
            FailureKind::Interrupted,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    pub fn zh(self) -> &'static str {
        match self {
            FailureKind::Unavailable => "环境不可用",
            FailureKind::Business => "业务错误",
            FailureKind::UnknownOutcome => "结果未知",
            FailureKind::Recipe => "配方错误",
            FailureKind::Environment => "环境配置",
            FailureKind::Cancelled => "取消",
            FailureKind::Interrupted => "服务重启中断",
        }
    }
}

/// One run, as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Run {
    pub id: i64,
    pub version: i64,
    pub recipe: String,
    pub environment: String,
    /// Runs started together by one batch share it.
    pub batch: Option<String>,
    /// The run's place in its batch, from 0.
    pub batch_index: i64,
    pub started_by: String,
    pub status: RunStatus,
    pub reason: Option<FailureKind>,
    /// Why it stopped, in the words of the step or the system.
    pub message: Option<String>,
    /// The step it stopped at (`stage/step` or `stage/step[i]`).
    pub failed_step: Option<String>,
    /// Calls made so far (retries counted).
    pub calls: i64,
    /// Steps finished.
    pub steps_done: i64,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Time spent running, over every resume.
    pub duration_ms: i64,
}

/// One step of a run as it went (its last attempt, when it was resumed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StepRecord {
    /// `stage/step`, or `stage/step[i]` for a call of a loop.
    pub key: String,
    pub stage: String,
    pub step: String,
    pub status: StepStatus,
    pub attempts: i64,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// `{method, path, body}`, customer data masked, credentials never.
    #[schema(value_type = Option<Object>)]
    pub request: Option<serde_json::Value>,
    /// `{status, body}`, customer data masked, cut at a few KiB.
    #[schema(value_type = Option<Object>)]
    pub response: Option<serde_json::Value>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Called and not answered yet (kept only for steps that are not idempotent, so a restart
    /// knows their outcome is unknown).
    Running,
    Succeeded,
    Failed,
    /// Not idempotent and its call may have taken effect.
    Unknown,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Running => "running",
            StepStatus::Succeeded => "succeeded",
            StepStatus::Failed => "failed",
            StepStatus::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<StepStatus> {
        [
            StepStatus::Running,
            StepStatus::Succeeded,
            StepStatus::Failed,
            StepStatus::Unknown,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A run with what it was given, what it did, and what it built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: Run,
    /// The inputs, customer data masked and secrets hidden.
    #[schema(value_type = Object)]
    pub inputs: serde_json::Value,
    pub steps: Vec<StepRecord>,
    /// What the recipe hands back for copying (identifiers and the test account's
    /// credentials), once it succeeded.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}

/// Construction as the service center counts it, over `[from, to]` (local days).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConstructStats {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub total: Outcomes,
    pub by_day: Vec<DayOutcomes>,
    pub by_environment: Vec<Named>,
    pub by_person: Vec<Named>,
    pub by_recipe: Vec<RecipeUse>,
    /// Why runs stopped short in the span (a run resumed to success counts its stops too),
    /// most frequent first.
    pub reasons: Vec<ReasonCount>,
}

/// Runs by where they ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Outcomes {
    pub runs: i64,
    pub succeeded: i64,
    /// Failed, cancelled or interrupted and not resumed to success.
    pub failed: i64,
    pub in_progress: i64,
}

impl Outcomes {
    pub fn add(&mut self, status: RunStatus) {
        self.runs += 1;
        match status {
            RunStatus::Succeeded => self.succeeded += 1,
            s if s.in_progress() => self.in_progress += 1,
            _ => self.failed += 1,
        }
    }

    /// Succeeded over finished, in percent; none when nothing finished.
    pub fn success_rate(&self) -> Option<f64> {
        let finished = self.succeeded + self.failed;
        (finished > 0).then(|| self.succeeded as f64 * 100.0 / finished as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DayOutcomes {
    pub day: NaiveDate,
    pub environment: String,
    #[serde(flatten)]
    pub outcomes: Outcomes,
}

/// Outcomes of one environment or one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Named {
    pub name: String,
    #[serde(flatten)]
    pub outcomes: Outcomes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecipeUse {
    pub recipe: String,
    #[serde(flatten)]
    pub outcomes: Outcomes,
    /// Mean time of the runs that succeeded.
    pub mean_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReasonCount {
    pub reason: FailureKind,
    pub step: Option<String>,
    pub message: Option<String>,
    /// Times runs stopped so.
    pub runs: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_outcomes_count() {
        for s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(
            FailureKind::parse("unknown_outcome"),
            Some(FailureKind::UnknownOutcome)
        );
        assert_eq!(StepStatus::parse("unknown"), Some(StepStatus::Unknown));
        let mut o = Outcomes::default();
        assert_eq!(o.success_rate(), None);
        for s in [
            RunStatus::Succeeded,
            RunStatus::Succeeded,
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Running,
        ] {
            o.add(s);
        }
        assert_eq!((o.runs, o.succeeded, o.failed, o.in_progress), (5, 3, 1, 1));
        assert_eq!(o.success_rate(), Some(75.0));
    }
}
