//! One step of a recipe: the calls it makes (one, none when `when` is false, or one per
//! element of `for_each`), each call's request rendered from templates, and the judgement of
//! an answer: its checks, the failure message the docs promise, and the values it extracts.
//!
//! Answers come from remote systems: any status and any bytes are judged without panicking.

use std::time::Duration;

use minijinja::value::ValueKind;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use super::template::{Shape, Template, to_json};
use super::{Location, Vars};

/// How often and how patiently a transient failure is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Calls in all, the first included.
    pub attempts: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            attempts: 3,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }
}

/// One call of a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// `stage/step`, or `stage/step[i]` for the i-th element of a `for_each`.
    pub key: String,
    pub item: Option<Value>,
    pub index: Option<usize>,
}

/// A request ready to send to the step's system (its base URL prefixed by the executor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedRequest {
    pub method: String,
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<PreparedBody>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedBody {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(super) enum Body {
    Json(Shape),
    Form(Vec<(String, Template)>),
}

/// What a check wants of the value at its pointer.
#[derive(Debug, Clone)]
pub(super) enum Expect {
    /// Present and not null (`exists = true`), or absent or null (`exists = false`).
    Exists(bool),
    Equals(Value),
    NotEquals(Value),
}

#[derive(Debug, Clone)]
pub(super) struct Check {
    pub status: Vec<u16>,
    pub pointer: Option<(String, Expect)>,
    pub message: Option<Template>,
}

#[derive(Debug, Clone)]
pub(super) struct Extract {
    pub name: String,
    pub pointer: String,
    pub at: Location,
}

/// A step of a recipe.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub stage: String,
    pub system: String,
    pub idempotent: bool,
    pub timeout: Duration,
    pub retry: Retry,
    pub at: Location,
    pub(super) method: String,
    pub(super) path: Template,
    pub(super) query: Vec<(String, Template)>,
    pub(super) headers: Vec<(String, Template)>,
    pub(super) body: Option<Body>,
    pub(super) when: Option<Template>,
    pub(super) for_each: Option<Template>,
    /// The name `for_each` binds each element to (`item`, or `as`).
    pub(super) bind: String,
    pub(super) extract: Vec<Extract>,
    pub(super) checks: Vec<Check>,
    pub(super) error_pointer: Option<String>,
}

/// The most calls one `for_each` may make.
pub const MAX_INSTANCES: usize = 1_000;
/// What a failure message quotes of an answer that says nothing better.
const SNIPPET_CHARS: usize = 200;

/// Query and form values: everything but unreserved characters percent-encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Which variables a template of a step may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// `when`, `for_each`: before any call, so no `item` yet.
    Condition,
    /// path, query, headers, body.
    Request,
    /// a check's message: the request's variables and `response`.
    Message,
}

impl Step {
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The variables the step extracts from its answer.
    pub fn extracts(&self) -> impl Iterator<Item = &str> {
        self.extract.iter().map(|e| e.name.as_str())
    }

    /// Whether the step makes one call per element of a list.
    pub fn is_for_each(&self) -> bool {
        self.for_each.is_some()
    }

    /// Every template of the step and what it may see.
    pub(super) fn templates(&self) -> Vec<(&Template, Scope)> {
        let mut out: Vec<(&Template, Scope)> = Vec::new();
        out.extend(self.when.iter().map(|t| (t, Scope::Condition)));
        out.extend(self.for_each.iter().map(|t| (t, Scope::Condition)));
        out.push((&self.path, Scope::Request));
        out.extend(self.query.iter().map(|(_, t)| (t, Scope::Request)));
        out.extend(self.headers.iter().map(|(_, t)| (t, Scope::Request)));
        match &self.body {
            Some(Body::Json(shape)) => {
                out.extend(shape.templates().into_iter().map(|t| (t, Scope::Request)))
            }
            Some(Body::Form(fields)) => out.extend(fields.iter().map(|(_, t)| (t, Scope::Request))),
            None => {}
        }
        out.extend(
            self.checks
                .iter()
                .filter_map(|c| c.message.as_ref())
                .map(|t| (t, Scope::Message)),
        );
        out
    }

    /// The calls the step makes: none when `when` is false, one per element for `for_each`
    /// (key `stage/step[i]`), else one (key `stage/step`).
    pub fn instances(&self, vars: &Vars) -> Result<Vec<Instance>, String> {
        if let Some(when) = &self.when
            && !when.eval(vars)?.is_true()
        {
            return Ok(Vec::new());
        }
        let key = format!("{}/{}", self.stage, self.name);
        let Some(for_each) = &self.for_each else {
            return Ok(vec![Instance {
                key,
                item: None,
                index: None,
            }]);
        };
        let list = for_each.eval(vars)?;
        if !matches!(list.kind(), ValueKind::Seq | ValueKind::Iterable) {
            return Err(format!("`for_each` gave {}, not a list", list.kind()));
        }
        let items = list.try_iter().map_err(|e| format!("`for_each`: {e}"))?;
        let mut out = Vec::new();
        for (i, item) in items.enumerate() {
            if i >= MAX_INSTANCES {
                return Err(format!(
                    "`for_each` gave more than {MAX_INSTANCES} elements"
                ));
            }
            out.push(Instance {
                key: format!("{key}[{i}]"),
                item: Some(to_json(&item).map_err(|e| format!("`for_each` element {i}: {e}"))?),
                index: Some(i),
            });
        }
        Ok(out)
    }

    /// The variables of one call: `vars`, and the element and its index in a `for_each`.
    fn scope(&self, vars: &Vars, instance: &Instance) -> Vars {
        let mut scope = vars.clone();
        if self.for_each.is_some() {
            if let Some(item) = &instance.item {
                scope.insert(self.bind.clone(), item.clone());
            }
            if let Some(index) = instance.index {
                scope.insert("index".into(), index.into());
            }
        }
        scope
    }

    /// The request of one call: method, path (as rendered) with the query percent-encoded,
    /// headers, and the JSON or form body.
    pub fn request(&self, vars: &Vars, instance: &Instance) -> Result<PreparedRequest, String> {
        let scope = self.scope(vars, instance);
        let mut path = self.path.render(&scope)?;
        if !path.starts_with('/') {
            return Err(format!(
                "`path` rendered `{}`, which does not start with /",
                super::inputs::shown(&path)
            ));
        }
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "`path` rendered `{}`, with spaces or control characters a URL cannot hold",
                super::inputs::shown(&path)
            ));
        }
        let query = self
            .query
            .iter()
            .map(|(k, t)| Ok(format!("{}={}", encode(k), encode(&t.render(&scope)?))))
            .collect::<Result<Vec<_>, String>>()?;
        if !query.is_empty() {
            path.push(if path.contains('?') { '&' } else { '?' });
            path.push_str(&query.join("&"));
        }
        let mut headers = Vec::with_capacity(self.headers.len());
        for (name, t) in &self.headers {
            let value = t.render(&scope)?;
            if value.chars().any(|c| matches!(c, '\r' | '\n' | '\0')) {
                return Err(format!("header `{name}` rendered a line break"));
            }
            headers.push((name.clone(), value));
        }
        let body = match &self.body {
            None => None,
            Some(Body::Json(shape)) => {
                let value = shape.render(&scope)?;
                Some(PreparedBody {
                    content_type: "application/json",
                    bytes: serde_json::to_vec(&value).map_err(|e| format!("`json`: {e}"))?,
                })
            }
            Some(Body::Form(fields)) => {
                let pairs = fields
                    .iter()
                    .map(|(k, t)| Ok(format!("{}={}", encode(k), encode(&t.render(&scope)?))))
                    .collect::<Result<Vec<_>, String>>()?;
                Some(PreparedBody {
                    content_type: "application/x-www-form-urlencoded",
                    bytes: pairs.join("&").into_bytes(),
                })
            }
        };
        Ok(PreparedRequest {
            method: self.method.clone(),
            path_and_query: path,
            headers,
            body,
        })
    }

    /// Judges an answer: every check must hold (with none, the status must be 2xx), then
    /// every extraction must find its value. `Ok` holds the extracted variables; `Err` the
    /// failure message (docs/recipes.md, "Checks and failures").
    pub fn judge(
        &self,
        vars: &Vars,
        instance: &Instance,
        status: u16,
        body: &[u8],
    ) -> Result<Vars, String> {
        let json: Option<Value> = serde_json::from_slice(body).ok();
        let failed = if self.checks.is_empty() {
            (!(200..300).contains(&status)).then_some(None)
        } else {
            self.checks
                .iter()
                .find(|c| !c.holds(status, json.as_ref()))
                .map(|c| c.message.as_ref())
        };
        if let Some(message) = failed {
            return Err(self.failure(message, vars, instance, status, json.as_ref(), body));
        }
        let mut out = Vars::new();
        for e in &self.extract {
            match json.as_ref().and_then(|j| j.pointer(&e.pointer)) {
                Some(v) => {
                    out.insert(e.name.clone(), v.clone());
                }
                None => {
                    return Err(format!(
                        "the answer has no {} to extract `{}` from (HTTP {status}: {})",
                        shown_pointer(&e.pointer),
                        e.name,
                        snippet(body)
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The failure message: the check's message; else the `error_pointer` value with the
    /// status; else the status and the start of the answer.
    fn failure(
        &self,
        message: Option<&Template>,
        vars: &Vars,
        instance: &Instance,
        status: u16,
        json: Option<&Value>,
        body: &[u8],
    ) -> String {
        if let Some(t) = message {
            let mut scope = self.scope(vars, instance);
            let response = json
                .cloned()
                .unwrap_or_else(|| Value::String(String::from_utf8_lossy(body).into_owned()));
            scope.insert("response".into(), response);
            // A message that does not render falls back to what the answer itself says.
            if let Ok(text) = t.render(&scope)
                && !text.trim().is_empty()
            {
                return text.trim().to_string();
            }
        }
        let said = self
            .error_pointer
            .as_deref()
            .and_then(|p| json.and_then(|j| j.pointer(p)))
            .and_then(scalar_text)
            .filter(|t| !t.trim().is_empty());
        match said {
            Some(text) => format!("HTTP {status}: {}", cut(text.trim())),
            None => format!("HTTP {status}: {}", snippet(body)),
        }
    }
}

impl Check {
    fn holds(&self, status: u16, json: Option<&Value>) -> bool {
        if !self.status.is_empty() && !self.status.contains(&status) {
            return false;
        }
        let Some((pointer, expect)) = &self.pointer else {
            return true;
        };
        let found = json
            .and_then(|j| j.pointer(pointer))
            .filter(|v| !v.is_null());
        match expect {
            Expect::Exists(want) => found.is_some() == *want,
            Expect::Equals(x) => found.is_some_and(|v| same(v, x)),
            Expect::NotEquals(x) => !found.is_some_and(|v| same(v, x)),
        }
    }
}

/// Whether an answer's value equals a recipe's: `0` and `"0"` are the same (systems differ
/// in how they type a result code), so are `1.0` and `1`; tables and arrays compare exactly.
fn same(actual: &Value, expected: &Value) -> bool {
    let number = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    };
    if let (Some(a), Some(b)) = (number(actual), number(expected)) {
        return a == b;
    }
    match (scalar_text(actual), scalar_text(expected)) {
        (Some(a), Some(b)) => a == b,
        _ => actual == expected,
    }
}

/// A scalar as text (a string without quotes); `None` for tables, arrays and null.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn cut(text: &str) -> String {
    let mut out: String = text.chars().take(SNIPPET_CHARS).collect();
    if text.chars().nth(SNIPPET_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// The first characters of an answer, for a message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "(an empty answer)".to_string()
    } else {
        cut(text)
    }
}

fn shown_pointer(p: &str) -> String {
    if p.is_empty() {
        "value".into()
    } else {
        p.to_string()
    }
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn loose_equality_of_codes() {
        assert!(same(&json!(0), &json!("0")));
        assert!(same(&json!("0"), &json!(0)));
        assert!(same(&json!(1.0), &json!(1)));
        assert!(!same(&json!("00"), &json!("0x")));
        assert!(same(&json!(true), &json!(true)));
        assert!(!same(&json!("true"), &json!(false)));
        assert!(same(&json!({"a": 1}), &json!({"a": 1})));
    }

    #[test]
    fn snippets_are_cut_by_characters() {
        let long = "错".repeat(300);
        let s = snippet(long.as_bytes());
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert_eq!(snippet(b"  "), "(an empty answer)");
        assert_eq!(snippet(&[0xff, 0xfe]), "\u{fffd}\u{fffd}");
    }
}
