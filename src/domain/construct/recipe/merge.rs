//! A recipe and its includes made into one [`Recipe`]: includes followed (cycles refused),
//! inputs, constants, stages and results merged (includes first), and the checks that need the
//! whole: names unique across files, redeclared inputs, and every variable a template names
//! defined where it runs.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::inputs::Generator;
use super::parse::{self, Unit};
use super::step::Scope;
use super::template::Shape;
use super::{Input, Location, Recipe, RecipeError, RecipeErrors, RecipeSource, Stage, Vars};

/// How deep includes may nest: a recipe is a few files, not a tree of hundreds.
const MAX_INCLUDE_DEPTH: usize = 16;
/// Names templates get from opsdesk, which inputs, constants and extractions may not take.
const RESERVED: &[&str] = &["env", "run", "item", "index", "response"];
/// What an includer may change of an input an include declares.
const OVERRIDABLE: &[&str] = &["name", "default", "label"];

type Resolve<'r> = &'r dyn Fn(&str) -> Result<RecipeSource, String>;

struct Loader<'r> {
    resolve: Resolve<'r>,
    /// Files read, includes before their includers.
    units: Vec<Unit>,
    seen: HashSet<String>,
    errors: Vec<RecipeError>,
}

impl Loader<'_> {
    fn error(&mut self, at: Option<&Location>, message: String) {
        self.errors.push(RecipeError {
            at: at.cloned(),
            message,
        });
    }

    /// Reads `name` and, first, what it includes. `stack` holds the files being read, for
    /// cycles.
    fn visit(&mut self, name: &str, from: Option<&Location>, stack: &mut Vec<String>) {
        if stack.len() >= MAX_INCLUDE_DEPTH {
            self.error(
                from,
                format!("includes nest deeper than {MAX_INCLUDE_DEPTH} files"),
            );
            return;
        }
        let source = match (self.resolve)(name) {
            Ok(s) => s,
            Err(e) => {
                let what = if from.is_some() { "include" } else { "recipe" };
                self.error(from, format!("cannot read {what} `{name}`: {e}"));
                return;
            }
        };
        if let Some(pos) = stack.iter().position(|f| *f == source.file) {
            let mut chain = stack[pos..].to_vec();
            chain.push(source.file.clone());
            self.error(from, format!("include cycle: {}", chain.join(" → ")));
            return;
        }
        // Two includes may include one file: it is read once.
        if !self.seen.insert(source.file.clone()) {
            return;
        }
        let Some(unit) = parse::parse(&source, &mut self.errors) else {
            return;
        };
        let stem = Path::new(&source.file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some((written, at)) = &unit.name
            && *written != stem
        {
            self.errors.push(RecipeError::at(
                at.clone(),
                format!(
                    "the recipe is called `{}` but its file is `{}`: a recipe's name is its file name (`{stem}`)",
                    super::inputs::shown(written),
                    source.file
                ),
            ));
        }
        stack.push(source.file.clone());
        for (include, at) in unit.includes.clone() {
            self.visit(&include, Some(&at), stack);
        }
        stack.pop();
        self.units.push(unit);
    }
}

pub(super) fn load(name: &str, resolve: Resolve<'_>) -> Result<Recipe, RecipeErrors> {
    let mut loader = Loader {
        resolve,
        units: Vec::new(),
        seen: HashSet::new(),
        errors: Vec::new(),
    };
    loader.visit(name, None, &mut Vec::new());
    let mut errors = loader.errors;
    let units = loader.units;
    let Some(root) = units.last() else {
        if errors.is_empty() {
            errors.push(RecipeError::nowhere(format!(
                "recipe `{name}` could not be read"
            )));
        }
        return Err(RecipeErrors(errors));
    };
    let (name, title, description) = match &root.name {
        Some((n, _)) => (
            n.clone(),
            root.title.clone().unwrap_or_else(|| n.clone()),
            root.description.clone().unwrap_or_default(),
        ),
        None => (String::new(), String::new(), String::new()),
    };
    let root_file = root.file.clone();
    let mut hasher = Sha256::new();
    for unit in &units {
        hasher.update(unit.text.as_bytes());
        // A separator, so moving text from one file to the next changes the digest.
        hasher.update([0u8]);
    }
    let digest = hex::encode(hasher.finalize());
    let mut files = vec![root_file.clone()];
    files.extend(
        units
            .iter()
            .map(|u| u.file.clone())
            .filter(|f| *f != root_file),
    );

    let inputs = merge_inputs(&units, &mut errors);
    let (constants, constant_at) = merge_constants(&units, &inputs, &mut errors);
    let mut stages: Vec<Stage> = Vec::new();
    let mut result: Vec<(String, Shape)> = Vec::new();
    for unit in units {
        for stage in unit.stages {
            match stages.iter_mut().find(|s| s.name == stage.name) {
                Some(s) => {
                    s.title = s.title.take().or(stage.title);
                    s.steps.extend(stage.steps);
                }
                None => stages.push(stage),
            }
        }
        for (key, shape, _) in unit.result {
            match result.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = shape,
                None => result.push((key, shape)),
            }
        }
    }
    let recipe = Recipe {
        name,
        title,
        description,
        inputs,
        stages,
        digest,
        files,
        constants,
        result,
    };
    if recipe.steps().next().is_none() {
        errors.push(RecipeError::at(
            Location {
                file: root_file,
                line: 1,
            },
            "the recipe has no steps",
        ));
    }
    check_steps(&recipe, &constant_at, &mut errors);
    if errors.is_empty() {
        Ok(recipe)
    } else {
        Err(RecipeErrors(errors))
    }
}

/// The inputs of every file, an includer's redeclaration changing only `default` and `label`.
fn merge_inputs(units: &[Unit], errors: &mut Vec<RecipeError>) -> Vec<Input> {
    let mut inputs: Vec<Input> = Vec::new();
    let mut default_at: HashMap<String, Location> = HashMap::new();
    for d in units.iter().flat_map(|u| &u.inputs) {
        let name = &d.input.name;
        let Some(existing) = inputs.iter_mut().find(|i| i.name == *name) else {
            if d.keys.iter().any(|k| k == "default") {
                default_at.insert(name.clone(), d.default_at.clone());
            }
            inputs.push(d.input.clone());
            continue;
        };
        if existing.at.file == d.input.at.file {
            errors.push(RecipeError::at(
                d.input.at.clone(),
                format!(
                    "input `{name}` is declared twice (first at {})",
                    existing.at
                ),
            ));
            continue;
        }
        let changed: Vec<String> = d
            .keys
            .iter()
            .filter(|k| !OVERRIDABLE.contains(&k.as_str()))
            .map(|k| format!("`{k}`"))
            .collect();
        if !changed.is_empty() {
            errors.push(RecipeError::at(
                d.input.at.clone(),
                format!(
                    "input `{name}` is declared at {}; a recipe that includes it may change only its `default` and `label`, not {}",
                    existing.at,
                    changed.join(", ")
                ),
            ));
            continue;
        }
        if d.keys.iter().any(|k| k == "default") {
            existing.default = d.input.default.clone();
            default_at.insert(name.clone(), d.default_at.clone());
        }
        if d.keys.iter().any(|k| k == "label") {
            existing.label = d.input.label.clone();
        }
    }
    for input in &inputs {
        if let Some(Err(e)) = input.default_value() {
            let at = default_at.get(&input.name).unwrap_or(&input.at).clone();
            errors.push(RecipeError::at(
                at,
                format!("input `{}`: the default is wrong: {e}", input.name),
            ));
        }
        if RESERVED.contains(&input.name.as_str()) {
            errors.push(RecipeError::at(
                input.at.clone(),
                format!(
                    "`{}` is a name opsdesk gives templates; call the input something else",
                    input.name
                ),
            ));
        }
        if input.generate == Some(Generator::Withdrawable)
            && !inputs.iter().any(|i| i.role() == Some(Generator::Funds))
        {
            errors.push(RecipeError::at(
                input.at.clone(),
                format!(
                    "input `{}` draws a part of the funds, but no input holds funds (generate = \"funds\", or an input called `funds`)",
                    input.name
                ),
            ));
        }
    }
    inputs
}

/// The constants of every file (a later file's value wins), and where each was written.
fn merge_constants(
    units: &[Unit],
    inputs: &[Input],
    errors: &mut Vec<RecipeError>,
) -> (Vars, HashMap<String, Location>) {
    let mut constants = Vars::new();
    let mut at_of: HashMap<String, Location> = HashMap::new();
    for (key, value, at) in units.iter().flat_map(|u| &u.constants) {
        if let Some(input) = inputs.iter().find(|i| i.name == *key) {
            errors.push(RecipeError::at(
                at.clone(),
                format!(
                    "constant `{key}` has the name of input `{key}` ({})",
                    input.at
                ),
            ));
            continue;
        }
        if RESERVED.contains(&key.as_str()) {
            errors.push(RecipeError::at(
                at.clone(),
                format!(
                    "`{key}` is a name opsdesk gives templates; call the constant something else"
                ),
            ));
            continue;
        }
        constants.insert(key.clone(), value.clone());
        at_of.insert(key.clone(), at.clone());
    }
    (constants, at_of)
}

/// Step names unique; every template parses and names only variables defined where it runs;
/// extractions into fresh names.
fn check_steps(
    recipe: &Recipe,
    constant_at: &HashMap<String, Location>,
    errors: &mut Vec<RecipeError>,
) {
    let mut first_at: HashMap<&str, &Location> = HashMap::new();
    for step in recipe.steps() {
        if let Some(first) = first_at.get(step.name.as_str()) {
            errors.push(RecipeError::at(
                step.at.clone(),
                format!("step `{}` is named twice (first at {first})", step.name),
            ));
        } else {
            first_at.insert(&step.name, &step.at);
        }
    }
    let base: HashSet<&str> = recipe
        .inputs
        .iter()
        .map(|i| i.name.as_str())
        .chain(recipe.constants.keys().map(String::as_str))
        .chain(["env", "run"])
        .collect();
    // Every extraction, for the hint that a variable comes from a step that runs later.
    let mut all_extracts: HashMap<&str, (&str, &Location)> = HashMap::new();
    for step in recipe.steps() {
        for e in &step.extract {
            all_extracts.entry(&e.name).or_insert((&step.name, &e.at));
        }
    }
    let mut extracted: HashMap<&str, (&str, &Location)> = HashMap::new();
    for step in recipe.steps() {
        for (t, scope) in step.templates() {
            let names = match t.check() {
                Ok(names) => names,
                Err(e) => {
                    errors.push(RecipeError::at(
                        t.at.clone(),
                        format!("step `{}`: {e}", step.name),
                    ));
                    continue;
                }
            };
            let mut names: Vec<String> = names.into_iter().collect();
            names.sort();
            for n in names {
                let n = n.as_str();
                let local = step.is_for_each() && (n == step.bind || n == "index");
                let defined = base.contains(n)
                    || extracted.contains_key(n)
                    || (local && scope != Scope::Condition)
                    || (n == "response" && scope == Scope::Message);
                if defined {
                    continue;
                }
                let why = if n == "response" {
                    "`response` is defined only in a check's `message`".to_string()
                } else if local {
                    format!("`{n}` is defined in the step's requests, not in `when` or `for_each`")
                } else if n == "item" && step.is_for_each() {
                    format!(
                        "this step binds each element to `{}` (its `as`), not `item`",
                        step.bind
                    )
                } else if n == "item" || n == "index" {
                    format!("`{n}` is defined only in a step with `for_each`")
                } else if let Some((s, _)) = all_extracts.get(n)
                    && *s == step.name
                {
                    format!("`{n}` is extracted from this step's own answer, after its request")
                } else if let Some((s, at)) = all_extracts.get(n) {
                    format!("`{n}` is extracted by step `{s}` ({at}), which runs after this one")
                } else {
                    format!(
                        "`{n}` is not defined: no input, constant or earlier step's `extract` names it"
                    )
                };
                errors.push(RecipeError::at(
                    t.at.clone(),
                    format!("step `{}`, {}: {why}", step.name, t.role),
                ));
            }
        }
        if step.is_for_each()
            && step.bind != "item"
            && (base.contains(step.bind.as_str())
                || extracted.contains_key(step.bind.as_str())
                || RESERVED.contains(&step.bind.as_str()))
        {
            errors.push(RecipeError::at(
                step.at.clone(),
                format!(
                    "step `{}`: `as` = `{}` hides a variable of that name",
                    step.name, step.bind
                ),
            ));
        }
        for e in &step.extract {
            let name = e.name.as_str();
            let clash = if let Some(input) = recipe.inputs.iter().find(|i| i.name == name) {
                Some(format!(
                    "input `{name}` ({}) already uses that name",
                    input.at
                ))
            } else if let Some(at) = constant_at.get(name) {
                Some(format!("constant `{name}` ({at}) already uses that name"))
            } else if RESERVED.contains(&name) {
                Some(format!("`{name}` is a name opsdesk gives templates"))
            } else {
                extracted
                    .get(name)
                    .map(|(s, at)| format!("step `{s}` ({at}) already extracts it"))
            };
            match clash {
                Some(why) => errors.push(RecipeError::at(
                    e.at.clone(),
                    format!("step `{}` extracts into `{name}`, but {why}", step.name),
                )),
                None => {
                    extracted.insert(name, (&step.name, &e.at));
                }
            }
        }
    }
    for (key, shape) in &recipe.result {
        for t in shape.templates() {
            match t.check() {
                Err(e) => errors.push(RecipeError::at(
                    t.at.clone(),
                    format!("result `{key}`: {e}"),
                )),
                Ok(names) => {
                    let mut names: Vec<String> = names
                        .into_iter()
                        .filter(|n| {
                            !base.contains(n.as_str()) && !extracted.contains_key(n.as_str())
                        })
                        .collect();
                    names.sort();
                    for n in names {
                        errors.push(RecipeError::at(
                            t.at.clone(),
                            format!("result `{key}`: `{n}` is not defined: no input, constant or step's `extract` names it"),
                        ));
                    }
                }
            }
        }
    }
}
