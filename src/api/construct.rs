//! Account construction on the wire: the recipes and their forms, the environments, a
//! request to build accounts, the live check of a form, and the runs' progress events. The
//! runs themselves are `domain::construct::run`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::construct::run::{Run, StepRecord};

/// The SSE event a lagging subscriber gets instead of the events it missed: refetch.
pub const LAGGED_EVENT: &str = "lagged";

/// A recipe as the picker lists it; `problems` says why it cannot run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecipeSummary {
    pub name: String,
    pub title: String,
    pub description: String,
    /// `demo` (built in) or the file it was read from.
    pub origin: String,
    pub stages: Vec<String>,
    pub steps: usize,
    pub problems: Vec<String>,
}

/// A recipe's form: its inputs as a person fills them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecipeForm {
    pub name: String,
    pub title: String,
    pub description: String,
    pub inputs: Vec<FormInput>,
    /// Each stage's name and title, with its steps' names.
    pub stages: Vec<FormStage>,
    /// The business systems it calls.
    pub systems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FormInput {
    pub name: String,
    pub label: Option<String>,
    /// `string`, `integer`, `decimal`, `bool` or `list`.
    pub kind: String,
    #[schema(value_type = Option<Object>)]
    pub default: Option<serde_json::Value>,
    /// The generator that fills it when nothing is given.
    pub generate: Option<String>,
    pub choices: Vec<String>,
    pub required: bool,
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FormStage {
    pub name: String,
    pub title: Option<String>,
    pub steps: Vec<String>,
}

/// One change of a run: its new state, and the step that changed it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunEvent {
    pub run: Run,
    pub step: Option<StepRecord>,
}

/// A request to build accounts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartConstruction {
    /// The recipe's name (`plain-account`).
    pub recipe: String,
    /// The environment's name (`sandbox`, `uat1`).
    pub environment: String,
    /// Inputs as text, by name; a list is comma-separated. The rest come from defaults and
    /// generators.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Accounts to build, 1–200 (default 1); each gets its own generated values.
    #[serde(default)]
    pub count: Option<u32>,
    /// Draw generated values from this seed, so a batch can be repeated.
    #[serde(default, deserialize_with = "crate::domain::whole::whole_or_null")]
    pub seed: Option<i64>,
}

/// A recipe's inputs as they would be filled: the values, or what is wrong with them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InputCheck {
    #[schema(value_type = Object)]
    pub values: serde_json::Value,
    pub errors: Vec<InputProblem>,
}

/// What is wrong with one input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InputProblem {
    pub input: String,
    pub message: String,
}

/// An environment as a picker shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnvironmentView {
    pub name: String,
    pub title: Option<String>,
    pub concurrency: usize,
    pub systems: Vec<String>,
}

/// Inputs to check against a recipe.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInputs {
    /// Inputs as text, by name (a list comma-separated).
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Generate from this seed (the same seed, the same values).
    #[serde(default, deserialize_with = "crate::domain::whole::whole_or_null")]
    pub seed: Option<i64>,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeRun {
    /// Call again a step whose outcome is unknown (not idempotent, its call may have taken
    /// effect): only after looking at the system.
    #[serde(default)]
    pub retry_unknown: bool,
}
