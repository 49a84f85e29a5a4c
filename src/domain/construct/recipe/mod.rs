//! Construction recipes (docs/recipes.md), pure: a recipe file and its includes read and
//! checked whole, with every mistake named by file and line; inputs filled from what was typed,
//! defaults and generators; each step's calls prepared from templates and their answers
//! judged; customer data masked for the records.
//!
//! No IO: files arrive through a resolver the caller passes, HTTP is the executor's, and the
//! day is a parameter. Recipes are written by users and answers come from remote systems, so
//! nothing here panics on either.
//!
//! - `parse`: one file's TOML, walked with spans, into a [`parse::Unit`].
//! - `merge`: the file and its includes into one [`Recipe`], and the checks across them.
//! - `template`: minijinja, bounded; `inputs`: filling and checking inputs;
//!   `step`: requests and judging answers; `mask`: the [`Masker`].

mod inputs;
mod mask;
mod merge;
mod parse;
mod step;
mod template;

use std::collections::{BTreeMap, HashSet};
use std::fmt;

pub use inputs::{FieldError, Generator, Input, InputKind};
pub use mask::Masker;
pub use step::{Instance, PreparedBody, PreparedRequest, Retry, Step};

use crate::domain::construct::generate::Draw;
use template::Shape;

/// The variables templates see, by name.
pub type Vars = serde_json::Map<String, serde_json::Value>;

/// Where something was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One mistake in a recipe.
#[derive(Debug, Clone)]
pub struct RecipeError {
    pub at: Option<Location>,
    pub message: String,
}

impl RecipeError {
    pub(crate) fn at(at: Location, message: impl Into<String>) -> RecipeError {
        RecipeError {
            at: Some(at),
            message: message.into(),
        }
    }

    pub(crate) fn nowhere(message: impl Into<String>) -> RecipeError {
        RecipeError {
            at: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for RecipeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{at}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Every mistake found in a recipe, one a line.
#[derive(Debug, Clone)]
pub struct RecipeErrors(pub Vec<RecipeError>);

impl std::error::Error for RecipeError {}
impl std::error::Error for RecipeErrors {}

impl fmt::Display for RecipeErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A recipe file's text and the name messages show for it.
#[derive(Debug, Clone)]
pub struct RecipeSource {
    pub file: String,
    pub text: String,
}

/// A group of steps (account, depository, trading, …).
#[derive(Debug, Clone)]
pub struct Stage {
    pub name: String,
    pub title: Option<String>,
    pub steps: Vec<Step>,
}

/// A recipe, its includes merged in and everything checked.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub name: String,
    pub title: String,
    pub description: String,
    pub inputs: Vec<Input>,
    pub stages: Vec<Stage>,
    /// SHA-256 (hex) over the texts of the file and its includes: a run records it, so a
    /// resume can tell that the recipe changed under it.
    pub digest: String,
    /// The recipe's file, then its includes.
    pub files: Vec<String>,
    constants: Vars,
    /// Includes' results first; a later key wins.
    result: Vec<(String, Shape)>,
}

impl Recipe {
    /// Loads `name` through `resolve` (which maps a recipe name, as used in `include`, to its
    /// source), following includes, refusing cycles, and checks everything, collecting every
    /// mistake with its file and line.
    pub fn load(
        name: &str,
        resolve: &dyn Fn(&str) -> Result<RecipeSource, String>,
    ) -> Result<Recipe, RecipeErrors> {
        merge::load(name, resolve)
    }

    /// Every step's `system` must be one of `systems` (the environment's).
    pub fn check_systems(&self, environment: &str, systems: &[&str]) -> Result<(), RecipeErrors> {
        let known = if systems.is_empty() {
            "none".to_string()
        } else {
            systems.join(", ")
        };
        let errors: Vec<RecipeError> = self
            .steps()
            .filter(|s| !systems.contains(&s.system.as_str()))
            .map(|s| {
                RecipeError::at(
                    s.at.clone(),
                    format!(
                        "step `{}` calls system `{}`, which environment `{environment}` does not define (it has: {known})",
                        s.name, s.system
                    ),
                )
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(RecipeErrors(errors))
        }
    }

    /// The steps in the order they run: stage by stage, includes first.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.stages.iter().flat_map(|s| s.steps.iter())
    }

    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps().find(|s| s.name == name)
    }

    /// The recipe's constants.
    pub fn constants(&self) -> &Vars {
        &self.constants
    }

    /// Fills the inputs from `given` (text as typed: `--set k=v` or a form field; a list is
    /// comma-separated), defaults and generators, and checks them. Generated values avoid
    /// `taken`. Every error at once.
    pub fn fill_inputs(
        &self,
        given: &BTreeMap<String, String>,
        draw: &mut Draw,
        taken: &HashSet<String>,
        today: chrono::NaiveDate,
    ) -> Result<Vars, Vec<FieldError>> {
        inputs::fill(&self.inputs, given, draw, taken, today)
    }

    /// The variables templates start from: the inputs, the constants, `env` and
    /// `run` = `{ id, index }`.
    pub fn base_vars(&self, inputs: &Vars, environment: &str, run_id: i64, index: usize) -> Vars {
        let mut vars = self.constants.clone();
        for (k, v) in inputs {
            vars.insert(k.clone(), v.clone());
        }
        vars.insert("env".into(), environment.into());
        vars.insert(
            "run".into(),
            serde_json::json!({ "id": run_id, "index": index }),
        );
        vars
    }

    /// Renders `[result]` (includes' results first; a later key wins).
    pub fn result(&self, vars: &Vars) -> Result<Vars, String> {
        let mut out = Vars::new();
        for (key, shape) in &self.result {
            let value = shape
                .render(vars)
                .map_err(|e| format!("result `{key}`: {e}"))?;
            out.insert(key.clone(), value);
        }
        Ok(out)
    }

    /// The masker for a run's records, knowing this run's customer-data and secret values.
    pub fn masker(&self, vars: &Vars) -> Masker {
        Masker::new(&self.inputs, vars)
    }
}

/// Whether `s` is a variable name: `[a-z_][a-z0-9_]*`.
pub(crate) fn is_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 64
}

#[cfg(test)]
mod tests;
