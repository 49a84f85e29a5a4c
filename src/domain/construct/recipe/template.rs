//! The recipe's minijinja templates: how they are checked at load time (syntax, size, the
//! variables they name) and rendered at run time, as text or keeping an expression's type.
//!
//! Templates come from users and see answers from remote systems, so rendering is bounded:
//! a size limit on the source, fuel on every render, a low recursion limit and a cap on the
//! text a render produces. Nothing here panics on a bad template or a strange value.

use std::collections::HashSet;
use std::sync::LazyLock;

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use super::{Location, Vars};

/// The longest template source a recipe may hold (a request body is not a program).
pub const MAX_TEMPLATE_BYTES: usize = 16 * 1024;
/// The longest text one render may produce.
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;
/// Instructions one render may execute.
const FUEL: u64 = 200_000;
/// Nesting depth (loops, macros, filters) one render may reach.
const RECURSION: usize = 64;

fn environment(undefined: UndefinedBehavior) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(undefined);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(RECURSION);
    // Debug mode copies the template source into every error; the messages name the place.
    env.set_debug(false);
    // Requests are JSON, forms and URLs, never HTML.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_formatter(|out, state, value| {
        if value.as_str().is_some_and(|s| s.len() > MAX_OUTPUT_BYTES) {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                "the value is too long to render",
            ));
        }
        // An optional input left empty is `none`; it renders as nothing, not as "none".
        if value.is_none() {
            return Ok(());
        }
        // URLs, forms and JSON spell booleans in lower case, not as Python's `True`.
        if value.kind() == ValueKind::Bool {
            let text = if value.is_true() { "true" } else { "false" };
            return out.write_str(text).map_err(minijinja::Error::from);
        }
        minijinja::escape_formatter(out, state, value)
    });
    env
}

/// Requests, conditions and results: a name nothing defines is an error, never empty text.
static STRICT: LazyLock<Environment<'static>> =
    LazyLock::new(|| environment(UndefinedBehavior::Strict));
/// Check messages: an answer without the field a message quotes still gives a message.
static CHAINABLE: LazyLock<Environment<'static>> =
    LazyLock::new(|| environment(UndefinedBehavior::Chainable));

/// Which environment a template renders in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Strict,
    Message,
}

impl Mode {
    fn env(self) -> &'static Environment<'static> {
        match self {
            Mode::Strict => &STRICT,
            Mode::Message => &CHAINABLE,
        }
    }
}

/// One template string of a recipe, where it was written and what it is for.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub source: String,
    pub at: Location,
    /// What messages call it: "path", "json /card_no", "when".
    pub role: String,
    /// The expression, when the source is exactly one `{{ expression }}` or a bare
    /// expression (`when`, `for_each`): evaluated to keep its type.
    pub expr: Option<String>,
    pub mode: Mode,
}

impl Template {
    /// A text template (it renders to a string).
    pub fn text(source: &str, at: Location, role: impl Into<String>) -> Template {
        Template {
            source: source.to_string(),
            at,
            role: role.into(),
            expr: None,
            mode: Mode::Strict,
        }
    }

    /// A `json` or `[result]` value: exactly one `{{ expression }}` keeps its type.
    pub fn value(source: &str, at: Location, role: impl Into<String>) -> Template {
        Template {
            expr: sole_expression(source).map(str::to_string),
            ..Template::text(source, at, role)
        }
    }

    /// A bare expression (`when`, `for_each`).
    pub fn expression(source: &str, at: Location, role: impl Into<String>) -> Template {
        Template {
            expr: Some(source.to_string()),
            ..Template::text(source, at, role)
        }
    }

    pub fn message(source: &str, at: Location, role: impl Into<String>) -> Template {
        Template {
            mode: Mode::Message,
            ..Template::text(source, at, role)
        }
    }

    /// Parses the template; `Ok` holds the variables it names that it does not define itself
    /// (the engine's own functions, such as `range`, left out).
    pub fn check(&self) -> Result<HashSet<String>, String> {
        if self.source.len() > MAX_TEMPLATE_BYTES {
            return Err(format!(
                "`{}` is {} bytes; a template may have at most {MAX_TEMPLATE_BYTES}",
                self.role,
                self.source.len()
            ));
        }
        let env: &Environment<'_> = self.mode.env();
        let names = match (&self.expr, self.is_bare()) {
            (Some(expr), true) => env
                .compile_expression(expr)
                .map(|e| e.undeclared_variables(false)),
            _ => env
                .template_from_named_str(&self.role, &self.source)
                .map(|t| t.undeclared_variables(false)),
        }
        .map_err(|e| format!("`{}` does not parse: {}", self.role, describe(&e)))?;
        let globals: HashSet<&str> = env.globals().map(|(name, _)| name).collect();
        Ok(names
            .into_iter()
            .filter(|n| !globals.contains(n.as_str()))
            .collect())
    }

    /// A bare expression, as opposed to one lifted out of `{{ }}`.
    fn is_bare(&self) -> bool {
        self.expr.as_deref() == Some(self.source.as_str())
    }

    /// Renders to text.
    pub fn render(&self, vars: &Vars) -> Result<String, String> {
        if self.source.len() > MAX_TEMPLATE_BYTES {
            return Err(format!("`{}` is too long to render", self.role));
        }
        let out = self
            .mode
            .env()
            .render_named_str(&self.role, &self.source, vars)
            .map_err(|e| format!("`{}`: {}", self.role, describe(&e)))?;
        if out.len() > MAX_OUTPUT_BYTES {
            return Err(format!(
                "`{}` rendered {} bytes; at most {MAX_OUTPUT_BYTES} are allowed",
                self.role,
                out.len()
            ));
        }
        Ok(out)
    }

    /// Evaluates the expression (or renders the text) to a value of its own type.
    pub fn eval(&self, vars: &Vars) -> Result<Value, String> {
        let Some(expr) = &self.expr else {
            return self.render(vars).map(Value::from);
        };
        let env: &Environment<'_> = self.mode.env();
        let value = env
            .compile_expression(expr)
            .and_then(|e| e.eval(vars))
            .map_err(|e| format!("`{}`: {}", self.role, describe(&e)))?;
        if value.is_undefined() {
            return Err(format!("`{}` is undefined", self.role));
        }
        Ok(value)
    }

    /// Evaluates to JSON (a `json` body value, a result).
    pub fn json(&self, vars: &Vars) -> Result<serde_json::Value, String> {
        if self.expr.is_none() {
            return self.render(vars).map(serde_json::Value::String);
        }
        to_json(&self.eval(vars)?).map_err(|e| format!("`{}`: {e}", self.role))
    }
}

/// A JSON-like value of a recipe (`json`, `[result]`) whose strings are templates.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    Literal(serde_json::Value),
    Template(Template),
    Array(Vec<Shape>),
    Object(Vec<(String, Shape)>),
}

impl Shape {
    pub fn render(&self, vars: &Vars) -> Result<serde_json::Value, String> {
        Ok(match self {
            Shape::Literal(v) => v.clone(),
            Shape::Template(t) => t.json(vars)?,
            Shape::Array(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(|i| i.render(vars))
                    .collect::<Result<_, _>>()?,
            ),
            Shape::Object(fields) => serde_json::Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.render(vars)?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }

    /// Every template inside, in order.
    pub fn templates(&self) -> Vec<&Template> {
        match self {
            Shape::Literal(_) => Vec::new(),
            Shape::Template(t) => vec![t],
            Shape::Array(items) => items.iter().flat_map(Shape::templates).collect(),
            Shape::Object(fields) => fields.iter().flat_map(|(_, v)| v.templates()).collect(),
        }
    }
}

/// A minijinja value as JSON.
pub(crate) fn to_json(value: &Value) -> Result<serde_json::Value, String> {
    if matches!(value.kind(), ValueKind::Undefined) {
        return Err("the value is undefined".into());
    }
    serde_json::to_value(value).map_err(|e| format!("the value is not JSON: {e}"))
}

/// One line, without minijinja's `(in name:line)` tail when the error has no line worth
/// quoting: recipe templates are one line of TOML each.
fn describe(e: &minijinja::Error) -> String {
    let mut out = e.kind().to_string();
    if let Some(detail) = e.detail() {
        out.push_str(": ");
        out.push_str(detail);
    }
    out
}

/// The expression of a template that is exactly one `{{ expression }}` (outer whitespace and
/// whitespace-control dashes allowed), else `None`.
pub(crate) fn sole_expression(source: &str) -> Option<&str> {
    let inner = source
        .trim()
        .strip_prefix("{{")?
        .strip_suffix("}}")?
        .trim_start_matches(['-', '+'])
        .trim_end_matches(['-', '+'])
        .trim();
    let nested = ["{{", "}}", "{%", "%}", "{#", "#}"]
        .iter()
        .any(|m| inner.contains(m));
    if inner.is_empty() || nested {
        return None;
    }
    Some(inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at() -> Location {
        Location {
            file: "t.toml".into(),
            line: 1,
        }
    }

    fn vars(v: serde_json::Value) -> Vars {
        match v {
            serde_json::Value::Object(m) => m,
            _ => Vars::new(),
        }
    }

    #[test]
    fn one_expression_keeps_its_type_other_text_is_text() {
        let v = vars(json!({"funds": 500000.5, "agreements": ["a", "b"], "n": 3}));
        assert_eq!(
            Template::value("{{ funds }}", at(), "json").json(&v),
            Ok(json!(500000.5))
        );
        assert_eq!(
            Template::value(" {{- agreements -}} ", at(), "json").json(&v),
            Ok(json!(["a", "b"]))
        );
        assert_eq!(
            Template::value("{{ n }} items", at(), "json").json(&v),
            Ok(json!("3 items"))
        );
        assert_eq!(
            Template::value("{{ n }}{{ n }}", at(), "json").json(&v),
            Ok(json!("33"))
        );
        assert_eq!(sole_expression("{{ a }} and {{ b }}"), None);
    }

    #[test]
    fn undeclared_names_leave_out_locals_and_globals() {
        let t = Template::text(
            "{% set x = 1 %}{{ x }}{% for i in range(3) %}{{ loop.index }}{{ i }}{{ y }}{% endfor %}{{ z.a }}",
            at(),
            "path",
        );
        let names = t.check().unwrap();
        let mut names: Vec<_> = names.into_iter().collect();
        names.sort();
        assert_eq!(names, ["y", "z"]);
        let bad = Template::text("{{ a ", at(), "path").check().unwrap_err();
        assert!(bad.contains("`path` does not parse"), "{bad}");
        let e = Template::expression("a |", at(), "when")
            .check()
            .unwrap_err();
        assert!(e.contains("`when` does not parse"), "{e}");
    }

    #[test]
    fn rendering_is_bounded_and_strict() {
        let v = Vars::new();
        let endless = Template::text(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            at(),
            "path",
        );
        assert!(endless.render(&v).is_err());
        let recursive = Template::text(
            "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
            at(),
            "path",
        );
        assert!(recursive.render(&v).is_err());
        let huge = Template::text("x".repeat(MAX_TEMPLATE_BYTES + 1).as_str(), at(), "path");
        assert!(huge.check().is_err() && huge.render(&v).is_err());
        assert!(
            Template::text("{{ nope }}", at(), "path")
                .render(&v)
                .is_err()
        );
        assert!(Template::expression("nope", at(), "when").eval(&v).is_err());
        // A message quoting a field the answer lacks still renders.
        let m = Template::message("失败：{{ response.message }}", at(), "message");
        let with = vars(json!({"response": "gateway down"}));
        assert_eq!(m.render(&with), Ok("失败：".to_string()));
    }

    #[test]
    fn none_renders_as_nothing() {
        let v = vars(json!({"opt": null}));
        assert_eq!(
            Template::text("[{{ opt }}]", at(), "path").render(&v),
            Ok("[]".to_string())
        );
    }
}
