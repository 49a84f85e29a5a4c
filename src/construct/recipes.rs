//! Where recipes come from: the user's recipes dir (`construct.recipes_dir`), then the demo's
//! built into the binary (`fixtures/recipes/`). A recipe is asked for by name; only the
//! command line, running on the user's own files, may also name a path.

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use super::config::Construction;
pub use crate::api::construct::{FormInput, FormStage, RecipeForm, RecipeSummary};
use crate::domain::construct::recipe::{InputKind, Recipe, RecipeErrors, RecipeSource};

static DEMO_RECIPES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/fixtures/recipes");

/// A recipe file is read up to this; a larger one is refused.
const MAX_RECIPE_BYTES: u64 = 256 * 1024;

#[derive(Debug, Clone)]
pub struct Recipes {
    dir: Option<PathBuf>,
    /// Whether a name with a `/` or ending in `.toml` is read as a path (the CLI's `--local`).
    paths: bool,
}

pub fn kind_name(kind: &InputKind) -> &'static str {
    match kind {
        InputKind::String => "string",
        InputKind::Integer => "integer",
        InputKind::Decimal => "decimal",
        InputKind::Bool => "bool",
        InputKind::List => "list",
    }
}

impl RecipeForm {
    pub fn of(recipe: &Recipe) -> RecipeForm {
        let mut systems: Vec<String> = recipe.steps().map(|s| s.system.clone()).collect();
        systems.sort();
        systems.dedup();
        RecipeForm {
            name: recipe.name.clone(),
            title: recipe.title.clone(),
            description: recipe.description.clone(),
            inputs: recipe
                .inputs
                .iter()
                .map(|i| FormInput {
                    name: i.name.clone(),
                    label: i.label.clone(),
                    kind: kind_name(&i.kind).into(),
                    default: if i.secret { None } else { i.default.clone() },
                    generate: i.generate.as_ref().map(|g| format!("{g:?}")),
                    choices: i.choices.clone(),
                    required: i.required,
                    secret: i.secret,
                })
                .collect(),
            stages: recipe
                .stages
                .iter()
                .map(|s| FormStage {
                    name: s.name.clone(),
                    title: s.title.clone(),
                    steps: s.steps.iter().map(|st| st.name.clone()).collect(),
                })
                .collect(),
            systems,
        }
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl Recipes {
    /// Recipes by name only: what the server offers.
    pub fn new(construction: &Construction) -> Recipes {
        Recipes {
            dir: construction.recipes_dir.clone(),
            paths: false,
        }
    }

    /// Recipes by name or by path: the command line on the user's own machine.
    pub fn with_paths(construction: &Construction) -> Recipes {
        Recipes {
            paths: true,
            ..Recipes::new(construction)
        }
    }

    /// A recipe's text, by name (an include too) or, when allowed, by path.
    pub fn source(&self, name: &str) -> Result<RecipeSource, String> {
        if self.paths && (name.contains('/') || name.ends_with(".toml")) {
            return read_file(Path::new(name));
        }
        if !is_name(name) {
            return Err(format!(
                "'{}' is not a recipe name (a-z, 0-9, - and _)",
                name.chars().take(64).collect::<String>()
            ));
        }
        let file = format!("{name}.toml");
        if let Some(dir) = &self.dir {
            let path = dir.join(&file);
            if path.is_file() {
                return read_file(&path);
            }
        }
        match DEMO_RECIPES.get_file(&file) {
            Some(f) => Ok(RecipeSource {
                file: format!("fixtures/recipes/{file}"),
                text: String::from_utf8_lossy(f.contents()).into_owned(),
            }),
            None => Err(format!(
                "there is no recipe {name} (see `opsdesk construct recipes`)"
            )),
        }
    }

    /// Whether a recipe of this name is offered (one file looked at, not the whole dir).
    pub fn has(&self, name: &str) -> bool {
        if !is_name(name) {
            return false;
        }
        let file = format!("{name}.toml");
        DEMO_RECIPES.get_file(&file).is_some()
            || self.dir.as_ref().is_some_and(|d| d.join(&file).is_file())
    }

    pub fn load(&self, name: &str) -> Result<Recipe, RecipeErrors> {
        Recipe::load(name, &|n| self.source(n))
    }

    /// Every recipe's name: the user's and the demo's, sorted, each once.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = DEMO_RECIPES
            .files()
            .filter_map(|f| f.path().to_str()?.strip_suffix(".toml").map(str::to_string))
            .collect();
        if let Some(dir) = &self.dir
            && let Ok(entries) = std::fs::read_dir(dir)
        {
            for entry in entries.flatten() {
                let name = entry.file_name();
                if let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".toml"))
                    && is_name(stem)
                {
                    names.push(stem.to_string());
                }
            }
        }
        names.sort();
        names.dedup();
        names
    }

    /// Every recipe, loaded and checked.
    pub fn list(&self) -> Vec<RecipeSummary> {
        self.names()
            .into_iter()
            .map(|name| {
                let origin = match self.source(&name) {
                    Ok(s) => s.file,
                    Err(e) => e,
                };
                match self.load(&name) {
                    Ok(r) => RecipeSummary {
                        title: r.title.clone(),
                        description: r.description.clone(),
                        stages: r.stages.iter().map(|s| s.name.clone()).collect(),
                        steps: r.steps().count(),
                        problems: Vec::new(),
                        origin,
                        name,
                    },
                    Err(errors) => RecipeSummary {
                        title: name.clone(),
                        description: String::new(),
                        stages: Vec::new(),
                        steps: 0,
                        problems: errors.0.iter().map(|e| e.to_string()).collect(),
                        origin,
                        name,
                    },
                }
            })
            .collect()
    }
}

fn read_file(path: &Path) -> Result<RecipeSource, String> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    if meta.len() > MAX_RECIPE_BYTES {
        return Err(format!(
            "{shown}: larger than {} KiB",
            MAX_RECIPE_BYTES / 1024
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    Ok(RecipeSource { file: shown, text })
}
