//! The answers, as Elasticsearch 7/8 and OpenSearch 1/2 write them: a search response's hits,
//! totals, per-minute histogram and `_shards` failures, and a hit read as a [`LogLine`].

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::Cluster;
use super::refusal::EsError;
use crate::lookups::line::parse_time;
use crate::lookups::{LogLine, Minute, Searched, Total};

impl Cluster {
    pub(super) fn note_warnings(&self, page: &SearchAnswer, first: bool, done: &mut Searched) {
        if let Some(shards) = &page.shards {
            if shards.failed > 0 || !shards.failures.is_empty() {
                let why = shards
                    .failures
                    .first()
                    .map(|f| EsError::from_cause(f).best_reason())
                    .unwrap_or_default();
                warn_once(
                    done,
                    self.error(format!(
                        "{} of {} shards failed, the lines may be incomplete: {why}",
                        shards.failed.max(1),
                        shards.total.unwrap_or(0)
                    ))
                    .message,
                );
            }
            if first && shards.total == Some(0) && page.hits.hits.is_empty() {
                warn_once(
                    done,
                    format!("index pattern '{}' matches no index", self.index),
                );
            }
        }
        if page.timed_out {
            warn_once(
                done,
                "the cluster ran out of time on some shards; the lines may be incomplete".into(),
            );
        }
    }

    /// A hit as a log line; `None` (with a warning, once) when it has no time to place it.
    pub(super) fn line(&self, hit: Hit, done: &mut Searched) -> Option<LogLine> {
        let names = &self.fields;
        let fields = hit.source.unwrap_or_default();
        let at = field(&fields, &names.timestamp)
            .and_then(|v| self.time_of(v))
            .or_else(|| {
                hit.sort
                    .first()
                    .and_then(Value::as_i64)
                    .and_then(DateTime::from_timestamp_millis)
            });
        let Some(at) = at else {
            let said = format!("hits without a readable '{}' were skipped", names.timestamp);
            if !done.warnings.iter().any(|w| w.starts_with(&said)) {
                let first = format!("{said} (the first: {}/{})", hit.index, hit.id);
                done.warnings.push(first);
            }
            return None;
        };
        let text = |name: &str| field(&fields, name).and_then(as_text);
        let message = text(&names.message)
            .unwrap_or_else(|| serde_json::to_string(&fields).unwrap_or_default());
        Some(LogLine {
            at,
            level: text(&names.level),
            source: self.name.clone(),
            message,
            origin: format!("{}/{}", hit.index, hit.id),
            trace: text(&names.trace),
            fields,
        })
    }

    /// A time as Elasticsearch stores it: a date string, or epoch milliseconds (as a number
    /// or a string of digits, both of which `epoch_millis` accepts).
    fn time_of(&self, v: &Value) -> Option<DateTime<Utc>> {
        match v {
            Value::String(s) => parse_time(s, self.zone).or_else(|| {
                s.trim()
                    .parse::<i64>()
                    .ok()
                    .and_then(DateTime::from_timestamp_millis)
            }),
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .and_then(DateTime::from_timestamp_millis),
            Value::Array(items) => items.first().and_then(|v| self.time_of(v)),
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct SearchAnswer {
    #[serde(default)]
    timed_out: bool,
    #[serde(rename = "_shards", default)]
    shards: Option<Shards>,
    pub(super) hits: Hits,
    #[serde(default)]
    aggregations: Option<Aggregations>,
    /// On a point in time, the id to page on with.
    #[serde(default)]
    pub(super) pit_id: Option<String>,
}

impl SearchAnswer {
    pub(super) fn minutes(&self) -> Option<Vec<Minute>> {
        let buckets = &self.aggregations.as_ref()?.per_minute.as_ref()?.buckets;
        Some(
            buckets
                .iter()
                .filter_map(|b| {
                    let at = b
                        .key
                        .as_i64()
                        .or_else(|| b.key.as_f64().map(|f| f as i64))?;
                    Some(Minute {
                        at: DateTime::from_timestamp_millis(at)?,
                        count: b.doc_count,
                    })
                })
                .collect(),
        )
    }
}

#[derive(Debug, Deserialize)]
struct Shards {
    #[serde(default)]
    total: Option<u64>,
    #[serde(default)]
    failed: u64,
    #[serde(default)]
    failures: Vec<Value>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Hits {
    /// Absent when not counted (every page after the first).
    #[serde(default)]
    pub(super) total: Option<HitsTotal>,
    #[serde(default)]
    pub(super) hits: Vec<Hit>,
}

/// `{"value": n, "relation": "eq" | "gte"}` (7+), or a bare number (6, or
/// `rest_total_hits_as_int`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub(super) enum HitsTotal {
    Number(u64),
    Counted {
        value: u64,
        #[serde(default)]
        relation: Relation,
    },
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Relation {
    #[default]
    Eq,
    Gte,
}

impl HitsTotal {
    pub(super) fn total(self) -> Total {
        match self {
            HitsTotal::Number(value) => Total {
                value,
                at_least: false,
            },
            HitsTotal::Counted { value, relation } => Total {
                value,
                at_least: matches!(relation, Relation::Gte),
            },
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Hit {
    #[serde(rename = "_index", default)]
    pub(super) index: String,
    #[serde(rename = "_id", default)]
    pub(super) id: String,
    #[serde(rename = "_source", default)]
    source: Option<Map<String, Value>>,
    #[serde(default)]
    pub(super) sort: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct Aggregations {
    #[serde(default)]
    per_minute: Option<Histogram>,
}

#[derive(Debug, Deserialize)]
struct Histogram {
    #[serde(default)]
    buckets: Vec<Bucket>,
}

#[derive(Debug, Deserialize)]
struct Bucket {
    key: serde_json::Number,
    doc_count: u64,
}

pub(super) fn warn_once(done: &mut Searched, message: String) {
    if !done.warnings.contains(&message) {
        done.warnings.push(message);
    }
}

/// A field of a document, written nested (`{"user": {"id": …}}`), flat (`{"user.id": …}`),
/// or partly each.
fn field<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if name.is_empty() {
        return None;
    }
    if let Some(v) = fields.get(name) {
        return Some(v);
    }
    name.match_indices('.')
        .find_map(|(at, _)| match fields.get(&name[..at]) {
            Some(Value::Object(inner)) => field(inner, &name[at + 1..]),
            _ => None,
        })
}

/// A field's value as text: strings as they are, the first of an array, other values as JSON.
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(as_text),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_found_nested_flat_or_both() {
        let doc: Map<String, Value> = serde_json::from_str(
            r#"{"user":{"id":"u-1","account.no":"310"},"trace.id":"t-1","log":{"level":["ERROR"]}}"#,
        )
        .unwrap();
        let text = |name| field(&doc, name).and_then(as_text);
        assert_eq!(text("user.id").as_deref(), Some("u-1"));
        assert_eq!(text("user.account.no").as_deref(), Some("310"));
        assert_eq!(text("trace.id").as_deref(), Some("t-1"));
        assert_eq!(text("log.level").as_deref(), Some("ERROR"));
        assert_eq!(text("user.name"), None);
        assert_eq!(text(""), None);
    }
}
