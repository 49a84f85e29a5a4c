//! A cluster's "no" in words: an error answer read (the JSON of any version, or a proxy's
//! text) and put as a message that says what to change, quoting at most a short reason.

use hyper::StatusCode;
use serde_json::Value;

use super::Cluster;
use super::http::Answer;
use crate::lookups::SourceError;

/// The most of a cluster's reason quoted in a message.
const MAX_REASON_CHARS: usize = 300;

impl Cluster {
    /// A cluster's "no" in words.
    pub(super) fn refusal(&self, answer: &Answer) -> SourceError {
        let error = EsError::read(&answer.body);
        let status = answer.status.as_u16();
        let because = error.because();
        let message = match status {
            401 if self.auth.is_none() => format!(
                "the cluster wants credentials (401) and this source has none (set auth){because}"
            ),
            401 => format!("the cluster refused the credentials (401){because}"),
            403 => format!("not allowed to read {} (403){because}", self.index),
            404 if error.has_type("index_not_found_exception") => {
                format!("no index matches '{}'", self.index)
            }
            400 if error.is_about_mapping() => self.mapping_trouble(&error),
            500..=599 => format!(
                "{} answered {}",
                self.urls[answer.url],
                error.describe(answer.status)
            ),
            _ => error.describe(answer.status),
        };
        self.error(message)
    }

    /// A query that failed on a field's mapping: which configured field, and what it should be.
    fn mapping_trouble(&self, error: &EsError) -> String {
        let names = &self.fields;
        let reason = error
            .reasons()
            .find(|r| mentions_mapping(r))
            .unwrap_or_else(|| error.best_reason());
        let named = bracketed(&reason);
        let roles = [
            ("timestamp", names.timestamp.as_str(), "a date"),
            ("level", names.level.as_str(), "a keyword"),
            ("trace", names.trace.as_str(), "a keyword"),
            ("message", names.message.as_str(), "text"),
        ];
        let user = names
            .user
            .iter()
            .find(|u| named.contains(&u.as_str()))
            .map(|u| ("user", u.as_str(), "a keyword"));
        let (role, field, kind) = roles
            .into_iter()
            .find(|(_, f, _)| named.contains(f))
            .or(user)
            // Sorting, the window and the histogram are all on the timestamp: the likely one.
            .unwrap_or(roles[0]);
        format!(
            "the {role} field '{field}' is not mapped as {kind} in {}: {}",
            self.index,
            short(&reason)
        )
    }
}

/// An error answer: `{"error": {"type", "reason", "root_cause": […], "caused_by", …},
/// "status"}`, an older `{"error": "text"}`, or no JSON at all (a proxy's page, OpenSearch's
/// security plugin answering `Unauthorized`).
#[derive(Debug, Default)]
pub(super) struct EsError {
    kind: Option<String>,
    reason: Option<String>,
    /// Root causes, causes and shard failures, most specific first: (type, reason).
    causes: Vec<(String, String)>,
    /// The body, when it is not JSON.
    text: Option<String>,
}

impl EsError {
    pub(super) fn read(body: &[u8]) -> EsError {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(answer)) => match answer.get("error") {
                Some(Value::String(text)) => EsError {
                    reason: Some(text.clone()),
                    ..EsError::default()
                },
                Some(error @ Value::Object(_)) => EsError::from_cause(error),
                _ => EsError {
                    text: Some(short(&Value::Object(answer).to_string())),
                    ..EsError::default()
                },
            },
            _ => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                EsError {
                    text: (!text.is_empty()).then(|| short(text)),
                    ..EsError::default()
                }
            }
        }
    }

    /// From one error object (or a shard failure, whose `reason` is an error object).
    pub(super) fn from_cause(error: &Value) -> EsError {
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        let mut out = EsError {
            kind: text(error, "type"),
            reason: text(error, "reason"),
            ..EsError::default()
        };
        if let Some(Value::Object(_)) = error.get("reason") {
            // A shard failure: {"shard", "index", "reason": {"type", "reason"}}.
            let inner = EsError::from_cause(&error["reason"]);
            out.kind = inner.kind.clone();
            out.reason = inner.reason.clone();
            out.causes = inner.causes;
        }
        let mut note = |v: &Value| {
            if let (Some(kind), Some(reason)) = (text(v, "type"), text(v, "reason")) {
                out.causes.push((kind, reason));
            }
        };
        for cause in error
            .get("root_cause")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            note(cause);
        }
        let mut caused_by = error.get("caused_by");
        while let Some(cause) = caused_by {
            note(cause);
            caused_by = cause.get("caused_by");
        }
        for failed in error
            .get("failed_shards")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(reason) = failed.get("reason") {
                note(reason);
                if let Some(cause) = reason.get("caused_by") {
                    note(cause);
                }
            }
        }
        out
    }

    fn has_type(&self, kind: &str) -> bool {
        self.kind.as_deref() == Some(kind) || self.causes.iter().any(|(k, _)| k == kind)
    }

    fn reasons(&self) -> impl Iterator<Item = String> + '_ {
        self.causes
            .iter()
            .map(|(_, r)| r.clone())
            .chain(self.reason.clone())
    }

    /// The most specific reason: a root cause says more than "all shards failed".
    pub(super) fn best_reason(&self) -> String {
        self.causes
            .first()
            .map(|(_, r)| r.clone())
            .or_else(|| self.reason.clone())
            .or_else(|| self.text.clone())
            .unwrap_or_default()
    }

    /// `: <reason>`, or nothing when there is none.
    fn because(&self) -> String {
        let reason = self.best_reason();
        if reason.is_empty() {
            String::new()
        } else {
            format!(": {}", short(&reason))
        }
    }

    fn is_about_mapping(&self) -> bool {
        let kinds = [
            "search_phase_execution_exception",
            "query_shard_exception",
            "illegal_argument_exception",
        ];
        kinds.iter().any(|k| self.has_type(k)) && self.reasons().any(|r| mentions_mapping(&r))
    }

    /// `<status> <type>: <reason>`.
    fn describe(&self, status: StatusCode) -> String {
        let kind = self
            .causes
            .first()
            .map(|(k, _)| k.as_str())
            .or(self.kind.as_deref());
        let reason = self.best_reason();
        match (kind, reason.is_empty()) {
            (Some(kind), false) => format!("{} {kind}: {}", status.as_u16(), short(&reason)),
            (Some(kind), true) => format!("{} {kind}", status.as_u16()),
            (None, false) => format!("{}: {}", status.as_u16(), short(&reason)),
            (None, true) => status.to_string(),
        }
    }
}

fn mentions_mapping(reason: &str) -> bool {
    let reason = reason.to_lowercase();
    ["mapping", "fielddata", "not supported for aggregation"]
        .iter()
        .any(|w| reason.contains(w))
}

/// The names in `[…]` in a reason (`No mapping found for [@timestamp] in order to sort on`).
fn bracketed(reason: &str) -> Vec<&str> {
    reason
        .split('[')
        .skip(1)
        .filter_map(|s| s.split(']').next())
        .collect()
}

/// A 4xx that means "no such endpoint here" rather than "no such index".
pub(super) fn lacks_route(answer: &Answer) -> bool {
    matches!(answer.status.as_u16(), 400 | 404 | 405)
        && !EsError::read(&answer.body).has_type("index_not_found_exception")
}

/// At most [`MAX_REASON_CHARS`] of a reason.
pub(super) fn short(s: &str) -> String {
    match s.char_indices().nth(MAX_REASON_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_give_their_most_specific_reason() {
        let e = EsError::read(
            br#"{"error":{"root_cause":[{"type":"query_shard_exception","reason":"No mapping found for [@timestamp] in order to sort on","index":"a"}],"type":"search_phase_execution_exception","reason":"all shards failed","phase":"query","grouped":true,"failed_shards":[]},"status":400}"#,
        );
        assert!(e.is_about_mapping());
        assert_eq!(
            e.best_reason(),
            "No mapping found for [@timestamp] in order to sort on"
        );
        assert_eq!(bracketed(&e.best_reason()), ["@timestamp"]);
        let plain = EsError::read(b"Unauthorized");
        assert_eq!(plain.best_reason(), "Unauthorized");
        let old =
            EsError::read(br#"{"error":"no handler found for uri [/x/_pit] and method [POST]"}"#);
        assert!(old.best_reason().starts_with("no handler"));
    }
}
