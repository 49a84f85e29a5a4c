//! One recipe file's TOML, walked with the spans toml keeps, into a [`Unit`]: every key is
//! known or reported, every value of the wrong type is reported, each with its file and line,
//! and the walk goes on after a mistake so one load reports them all. Checks that need the
//! includes too (variables, names across files) are `merge`'s.

use std::time::Duration;

use serde_json::Value;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::inputs::{Input, shown};
use super::step::{Body, Check, Expect, Extract, Retry, Step};
use super::template::{Shape, Template};
use super::{Location, RecipeError, RecipeSource, Stage, is_var_name};

mod input;
mod steps;

type V<'i> = Spanned<DeValue<'i>>;

/// An input as one file declares it, with the keys it wrote (a redeclaration may set only
/// some).
#[derive(Debug, Clone)]
pub(super) struct Declared {
    pub input: Input,
    pub keys: Vec<String>,
    pub default_at: Location,
}

/// One recipe file, read.
#[derive(Debug, Clone)]
pub(super) struct Unit {
    pub file: String,
    pub text: String,
    pub name: Option<(String, Location)>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub includes: Vec<(String, Location)>,
    pub constants: Vec<(String, Value, Location)>,
    pub inputs: Vec<Declared>,
    pub stages: Vec<Stage>,
    pub result: Vec<(String, Shape, Location)>,
}

/// The step settings `[defaults]` gives every step of its file.
#[derive(Debug, Clone)]
struct Defaults {
    timeout: Duration,
    retry: Retry,
    error_pointer: Option<String>,
}

impl Default for Defaults {
    fn default() -> Defaults {
        Defaults {
            timeout: Duration::from_secs(10),
            retry: Retry::default(),
            error_pointer: None,
        }
    }
}

pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
/// The longest duration a recipe may ask for (a call, a backoff).
const MAX_DURATION: Duration = Duration::from_secs(3600);
const MAX_ATTEMPTS: i64 = 20;

const TOP_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "include",
    "defaults",
    "constants",
    "input",
    "stage",
    "result",
];
const DEFAULTS_KEYS: &[&str] = &["timeout", "retry", "error_pointer"];
const RETRY_KEYS: &[&str] = &["attempts", "backoff", "max_backoff"];
const INPUT_KEYS: &[&str] = &[
    "name", "label", "type", "default", "generate", "choices", "required", "secret",
];
const STAGE_KEYS: &[&str] = &["name", "title", "step"];
const STEP_KEYS: &[&str] = &[
    "name",
    "system",
    "method",
    "path",
    "query",
    "headers",
    "json",
    "form",
    "idempotent",
    "when",
    "for_each",
    "as",
    "timeout",
    "retry",
    "extract",
    "check",
];
const CHECK_KEYS: &[&str] = &[
    "status",
    "pointer",
    "equals",
    "not_equals",
    "exists",
    "message",
];

/// Reads one file. `None` when its TOML does not parse (the error is in `errors`).
pub(super) fn parse(source: &RecipeSource, errors: &mut Vec<RecipeError>) -> Option<Unit> {
    let mut doc = Doc::new(&source.file, &source.text, errors);
    let root = match DeTable::parse(&source.text) {
        Ok(root) => root,
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start);
            let first = e.message().lines().next().unwrap_or("invalid TOML").trim();
            doc.error(offset, format!("invalid TOML: {first}"));
            return None;
        }
    };
    let mut unit = Unit {
        file: source.file.clone(),
        text: source.text.clone(),
        name: None,
        title: None,
        description: None,
        includes: Vec::new(),
        constants: Vec::new(),
        inputs: Vec::new(),
        stages: Vec::new(),
        result: Vec::new(),
    };
    let mut top = Fields::new("the recipe", root.get_ref());
    match top.get("name") {
        Some(v) => unit.name = doc.string("name", v).map(|s| (s, doc.at(v.span().start))),
        None => doc.error(0, "the recipe has no `name`"),
    }
    unit.title = top.get("title").and_then(|v| doc.string("title", v));
    unit.description = top
        .get("description")
        .and_then(|v| doc.string("description", v));
    if let Some(v) = top.get("include") {
        unit.includes = doc.strings("include", v);
    }
    let defaults = match top.get("defaults") {
        Some(v) => doc.defaults(v),
        None => Defaults::default(),
    };
    if let Some(v) = top.get("constants")
        && let Some(table) = doc.table("constants", v)
    {
        for (key, at, value) in Fields::new("[constants]", table).entries {
            if !is_var_name(key) {
                doc.error(at, bad_var_name("constant", key));
            }
            if let Some(json) = doc.json(key, value) {
                unit.constants.push((key.to_string(), json, doc.at(at)));
            }
        }
    }
    if let Some(v) = top.get("input") {
        for (table, start) in doc.tables("input", v) {
            if let Some(d) = doc.input(table, start) {
                unit.inputs.push(d);
            }
        }
    }
    if let Some(v) = top.get("stage") {
        for (table, start) in doc.tables("stage", v) {
            if let Some(stage) = doc.stage(table, start, &defaults) {
                unit.stages.push(stage);
            }
        }
    }
    if let Some(v) = top.get("result")
        && let Some(table) = doc.table("result", v)
    {
        for (key, at, value) in Fields::new("[result]", table).entries {
            if let Some(shape) = doc.shape(value, &format!("result.{key}")) {
                unit.result.push((key.to_string(), shape, doc.at(at)));
            }
        }
    }
    top.finish(&mut doc, TOP_KEYS);
    Some(unit)
}

/// Parses "500ms", "10s", "1m", "1h".
pub(super) fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad = || {
        format!(
            "`{}` is not a duration (write it as 500ms, 10s or 1m)",
            shown(s)
        )
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(bad()),
    };
    if d > MAX_DURATION {
        return Err(format!("`{}` is longer than an hour", shown(s)));
    }
    Ok(d)
}

/// A JSON pointer: empty (the whole answer) or `/`-separated, `~` only as `~0` or `~1`.
pub(super) fn is_pointer(p: &str) -> bool {
    if !p.is_empty() && !p.starts_with('/') {
        return false;
    }
    let b = p.as_bytes();
    b.iter()
        .enumerate()
        .all(|(i, &c)| c != b'~' || matches!(b.get(i + 1), Some(b'0' | b'1')))
}

/// A stage or step name: letters, digits, `-` and `_` (it is part of a run's keys).
fn is_step_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An HTTP header name (a token).
fn is_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn bad_var_name(what: &str, name: &str) -> String {
    format!(
        "{what} `{}` is not a variable name (lower-case letters, digits and _, not starting with a digit)",
        shown(name)
    )
}

/// "a table", "an integer": how a TOML value is named in messages.
fn a_type(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(..) => "a string",
        DeValue::Integer(..) => "an integer",
        DeValue::Float(..) => "a float",
        DeValue::Boolean(..) => "a boolean",
        DeValue::Datetime(..) => "a date",
        DeValue::Array(..) => "an array",
        DeValue::Table(..) => "a table",
    }
}

/// The keys of one TOML table, in file order, marking those the reader asked for so the rest
/// can be reported as unknown.
struct Fields<'t, 'i> {
    what: String,
    entries: Vec<(&'t str, usize, &'t V<'i>)>,
    used: Vec<bool>,
}

impl<'t, 'i> Fields<'t, 'i> {
    fn new(what: impl Into<String>, table: &'t DeTable<'i>) -> Fields<'t, 'i> {
        let mut entries: Vec<_> = table
            .iter()
            .map(|(k, v)| (k.get_ref().as_ref(), k.span().start, v))
            .collect();
        entries.sort_by_key(|e| e.1);
        let used = vec![false; entries.len()];
        Fields {
            what: what.into(),
            entries,
            used,
        }
    }

    fn get(&mut self, key: &str) -> Option<&'t V<'i>> {
        let i = self.entries.iter().position(|e| e.0 == key)?;
        self.used[i] = true;
        Some(self.entries[i].2)
    }

    fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|e| e.0 == key)
    }

    fn keys(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.0.to_string()).collect()
    }

    fn finish(self, doc: &mut Doc<'_>, known: &[&str]) {
        for ((key, at, _), used) in self.entries.iter().zip(&self.used) {
            if !used {
                doc.error(
                    *at,
                    format!(
                        "unknown key `{}` in {} (known: {})",
                        shown(key),
                        self.what,
                        known.join(", ")
                    ),
                );
            }
        }
    }
}

/// The file being read and the errors found so far.
struct Doc<'a> {
    file: &'a str,
    /// Byte offsets where lines start.
    lines: Vec<usize>,
    errors: &'a mut Vec<RecipeError>,
}

impl<'a> Doc<'a> {
    fn new(file: &'a str, text: &str, errors: &'a mut Vec<RecipeError>) -> Doc<'a> {
        let lines = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Doc {
            file,
            lines,
            errors,
        }
    }

    fn at(&self, offset: usize) -> Location {
        Location {
            file: self.file.to_string(),
            line: self.lines.partition_point(|&start| start <= offset).max(1),
        }
    }

    fn error(&mut self, offset: usize, message: impl Into<String>) {
        let at = self.at(offset);
        self.errors.push(RecipeError::at(at, message));
    }

    fn wrong_type(&mut self, key: &str, v: &V<'_>, wanted: &str) {
        self.error(
            v.span().start,
            format!("`{key}` must be {wanted}, not {}", a_type(v.get_ref())),
        );
    }

    fn string(&mut self, key: &str, v: &V<'_>) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.wrong_type(key, v, "a string");
                None
            }
        }
    }

    fn boolean(&mut self, key: &str, v: &V<'_>) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(key, v, "true or false");
                None
            }
        }
    }

    fn integer(&mut self, key: &str, v: &V<'_>) -> Option<i64> {
        match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok().or_else(|| {
                self.error(v.span().start, format!("`{key}` is too large"));
                None
            }),
            _ => {
                self.wrong_type(key, v, "an integer");
                None
            }
        }
    }

    /// An array of strings, each with its location.
    fn strings(&mut self, key: &str, v: &V<'_>) -> Vec<(String, Location)> {
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(key, v, "an array of strings");
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                let s = self.string(key, item)?;
                Some((s, self.at(item.span().start)))
            })
            .collect()
    }

    fn table<'t, 'i>(&mut self, key: &str, v: &'t V<'i>) -> Option<&'t DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.wrong_type(key, v, "a table");
                None
            }
        }
    }

    /// An array of tables (`[[key]]`), each with where it starts.
    fn tables<'t, 'i>(&mut self, key: &str, v: &'t V<'i>) -> Vec<(&'t DeTable<'i>, usize)> {
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(key, v, &format!("an array of tables (write [[{key}]])"));
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                let t = self.table(key, item)?;
                Some((t, item.span().start))
            })
            .collect()
    }

    /// Any TOML value as JSON (dates become their text).
    fn json(&mut self, key: &str, v: &V<'_>) -> Option<Value> {
        Some(match v.get_ref() {
            DeValue::String(s) => Value::String(s.to_string()),
            DeValue::Integer(_) => Value::from(self.integer(key, v)?),
            DeValue::Float(f) => match f
                .as_str()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
            {
                Some(n) => Value::Number(n),
                None => {
                    self.error(v.span().start, format!("`{key}` must be a finite number"));
                    return None;
                }
            },
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(d) => Value::String(d.to_string()),
            DeValue::Array(items) => {
                Value::Array(items.iter().filter_map(|i| self.json(key, i)).collect())
            }
            DeValue::Table(t) => {
                let fields = Fields::new(key, t);
                Value::Object(
                    fields
                        .entries
                        .iter()
                        .filter_map(|(k, _, e)| Some((k.to_string(), self.json(k, e)?)))
                        .collect(),
                )
            }
        })
    }

    /// A `json` or `[result]` value: its strings are templates.
    fn shape(&mut self, v: &V<'_>, role: &str) -> Option<Shape> {
        Some(match v.get_ref() {
            DeValue::String(s) => {
                Shape::Template(Template::value(s, self.at(v.span().start), role))
            }
            DeValue::Array(items) => Shape::Array(
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, e)| self.shape(e, &format!("{role}[{i}]")))
                    .collect(),
            ),
            DeValue::Table(t) => {
                let fields = Fields::new(role, t);
                Shape::Object(
                    fields
                        .entries
                        .iter()
                        .filter_map(|(k, _, e)| {
                            Some((k.to_string(), self.shape(e, &format!("{role}.{k}"))?))
                        })
                        .collect(),
                )
            }
            _ => Shape::Literal(self.json(role, v)?),
        })
    }

    /// A table of text templates (`query`, `headers`, `form`); numbers and booleans are
    /// taken as their text.
    fn text_table(&mut self, key: &str, v: &V<'_>) -> Vec<(String, Template)> {
        let Some(table) = self.table(key, v) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, at, value) in Fields::new(key, table).entries {
            let role = format!("{key}.{name}");
            let source = match value.get_ref() {
                DeValue::String(s) => s.to_string(),
                DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_) => {
                    match self.json(&role, value) {
                        Some(j) => j.to_string(),
                        None => continue,
                    }
                }
                _ => {
                    self.wrong_type(&role, value, "a string");
                    continue;
                }
            };
            if key == "headers" && !is_header_name(name) {
                self.error(at, format!("`{}` is not a header name", shown(name)));
                continue;
            }
            out.push((
                name.to_string(),
                Template::text(&source, self.at(value.span().start), role),
            ));
        }
        out
    }

    fn duration(&mut self, key: &str, v: &V<'_>) -> Option<Duration> {
        let s = self.string(key, v)?;
        parse_duration(&s)
            .map_err(|e| self.error(v.span().start, format!("`{key}`: {e}")))
            .ok()
    }

    fn pointer(&mut self, key: &str, v: &V<'_>) -> Option<String> {
        let p = self.string(key, v)?;
        if is_pointer(&p) {
            Some(p)
        } else {
            self.error(
                v.span().start,
                format!(
                    "`{key}`: `{}` is not a JSON pointer (\"\" or starting with /, ~ only as ~0 or ~1)",
                    shown(&p)
                ),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_pointers() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        for bad in [
            "",
            "10",
            "s",
            "1.5s",
            "10 s",
            "-1s",
            "2d",
            "99999999999999999999s",
            "2h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(is_pointer("") && is_pointer("/a/0") && is_pointer("/a~1b~0"));
        assert!(!is_pointer("a") && !is_pointer("/a~") && !is_pointer("/a~2"));
    }
}
