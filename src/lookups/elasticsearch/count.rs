//! Counts for monitors: how many documents of the source's index match a query string in a
//! time window (`_count`), and the same documents grouped by a field (a `terms` aggregation
//! on a `size: 0` `_search`). The same cluster, credentials and failover as the search, so a
//! monitor never needs a second definition of a cluster.
//!
//! A monitor acts on the number it gets, so a number the cluster says is incomplete (failed
//! shards, a timeout, a pattern that matches no index) is a failure here, not a warning.

use chrono::{DateTime, SecondsFormat, Utc};
use hyper::Method;
use serde_json::{Value, json};

use super::http::{Answer, json_bytes};
use super::refusal::{EsError, short};
use super::{Cluster, ElasticsearchSource};
use crate::lookups::SourceError;

/// The most groups one `count_by` asks for.
pub const MAX_GROUPS: usize = 1000;

/// The longest field name `count_by` takes, in characters.
pub const MAX_FIELD_CHARS: usize = 256;

/// The group of the documents the cluster left out of the others.
pub const OTHER_GROUP: &str = "(其他 other)";

/// The aggregation's name in the request and the answer.
const GROUPS: &str = "groups";

impl ElasticsearchSource {
    /// How many documents of the source's index match `query` (a query string in Lucene
    /// syntax, as Kibana's search bar takes it; blank = every document) with their time (the
    /// source's configured timestamp field) in [from, to). One `_count` request.
    pub async fn count(
        &self,
        query: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<u64, SourceError> {
        let cluster = &self.cluster;
        let body = json!({"query": cluster.counted(query, from, to)?});
        let path = format!("/{}/_count", cluster.index_path);
        let answer = cluster.ask(&path, &body, query, None).await?;
        match answer.get("count") {
            Some(Value::Number(n)) => n.as_u64().ok_or_else(|| {
                cluster.error(format!(
                    "the answer's \"count\" is not a count of documents: {n}"
                ))
            }),
            Some(other) => Err(cluster.error(format!(
                "the answer's \"count\" is not a number: {}",
                short(&other.to_string())
            ))),
            None => Err(cluster
                .error("the answer is not an Elasticsearch count response: it holds no \"count\"")),
        }
    }

    /// The same documents grouped by `field` (a terms aggregation, `size` groups at most,
    /// 1–[`MAX_GROUPS`]): (the field's value as text, count), most first. One `_search` with
    /// `size: 0`. When the cluster says documents were left out of the groups
    /// (`sum_other_doc_count` > 0), they are one more group, [`OTHER_GROUP`], always last.
    pub async fn count_by(
        &self,
        field: &str,
        query: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        size: usize,
    ) -> Result<Vec<(String, u64)>, SourceError> {
        let cluster = &self.cluster;
        let field = field.trim();
        if field.is_empty() {
            return Err(cluster.error("name a field to group by"));
        }
        if field.chars().count() > MAX_FIELD_CHARS {
            return Err(cluster.error(format!(
                "the field to group by is longer than {MAX_FIELD_CHARS} characters"
            )));
        }
        if !(1..=MAX_GROUPS).contains(&size) {
            return Err(cluster.error(format!("{size} groups asked: ask 1 to {MAX_GROUPS}")));
        }
        let body = json!({
            "size": 0,
            // The groups are the count; a total beside them would be counted for nothing.
            "track_total_hits": false,
            "query": cluster.counted(query, from, to)?,
            "aggs": {GROUPS: {"terms": {"field": field, "size": size}}},
        });
        let path = format!("/{}/_search", cluster.index_path);
        let answer = cluster.ask(&path, &body, query, Some(field)).await?;
        cluster.groups(&answer)
    }
}

impl Cluster {
    /// The `bool` filter both counts ask: the window on the timestamp field, and the query
    /// string when there is one. Refuses an empty window before any request.
    fn counted(
        &self,
        query: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Value, SourceError> {
        if from >= to {
            return Err(self.error(format!(
                "the window ends ({}) at or before it starts ({})",
                iso(to),
                iso(from)
            )));
        }
        // Written as the search writes its window; `lt`, as the window is [from, to).
        let mut filter = vec![json!({"range": {self.fields.timestamp.as_str(): {
            "gte": iso(from),
            "lt": iso(to),
            "format": "strict_date_optional_time",
        }}})];
        // Blank means every document: only the window filters, no empty `query_string` is sent.
        if !query.trim().is_empty() {
            filter.push(json!({"query_string": {
                "query": query,
                "default_operator": "AND",
                // As Kibana's search bar: `ord*` finds `Order`, and `@timestamp:[2026-12-07
                // TO 2026-12-08]` is read in the source's zone.
                "analyze_wildcard": true,
                "time_zone": self.zone.name(),
            }}));
        }
        Ok(json!({"bool": {"filter": filter}}))
    }

    /// Sends one count request; the answer as JSON once the cluster has said yes and said
    /// it counted every shard.
    async fn ask(
        &self,
        path: &str,
        body: &Value,
        query: &str,
        field: Option<&str>,
    ) -> Result<Value, SourceError> {
        let answer = self.exchange(Method::POST, path, json_bytes(body)).await?;
        if !answer.status.is_success() {
            return Err(self.count_refusal(&answer, query, field));
        }
        let what = if field.is_some() {
            "an Elasticsearch aggregation response"
        } else {
            "an Elasticsearch count response"
        };
        let read: Value = serde_json::from_slice(&answer.body).map_err(|e| {
            self.error(format!(
                "the answer is not {what}: {}",
                short(&e.to_string())
            ))
        })?;
        if !read.is_object() {
            return Err(self.error(format!(
                "the answer is not {what}: {}",
                short(&read.to_string())
            )));
        }
        self.check_complete(&read)?;
        Ok(read)
    }

    /// A "no" to a count, in words: a query the cluster cannot parse says where, a field that
    /// cannot be grouped names the field, another 400 names the query; anything else as the
    /// search would say it.
    fn count_refusal(&self, answer: &Answer, query: &str, field: Option<&str>) -> SourceError {
        if answer.status.as_u16() != 400 {
            return self.refusal(answer);
        }
        let query = short(query.trim());
        if let Some(cause) = parse_failure(&answer.body) {
            return self.error(format!(
                "the cluster cannot parse the query '{query}' (400): {}",
                short(&cause)
            ));
        }
        let reason = EsError::read(&answer.body).best_reason();
        if let Some(field) = field.filter(|f| cannot_group(&reason, f)) {
            let hint = if reason.contains("fielddata") {
                format!(" (a text field: group by its keyword, such as '{field}.keyword')")
            } else {
                String::new()
            };
            return self.error(format!(
                "the field '{field}' cannot be grouped by in {}{hint}: {}",
                self.index,
                short(&reason)
            ));
        }
        let what = if query.is_empty() {
            "the count".to_string()
        } else {
            format!("the query '{query}'")
        };
        // `refusal` has already blanked any secret; `error` blanks the query's too.
        let refused = self.refusal(answer).message;
        self.error(format!("the cluster refused {what}: {refused}"))
    }

    /// A count the cluster says is partial is no count for a monitor to act on.
    fn check_complete(&self, answer: &Value) -> Result<(), SourceError> {
        if answer.get("timed_out") == Some(&Value::Bool(true)) {
            return Err(self.error(
                "the cluster ran out of time on some shards; the count would be incomplete",
            ));
        }
        let Some(shards) = answer.get("_shards") else {
            return Ok(());
        };
        let number = |key: &str| shards.get(key).and_then(Value::as_u64);
        let failures = shards.get("failures").and_then(Value::as_array);
        let failed = number("failed").unwrap_or(0);
        if failed > 0 || failures.is_some_and(|f| !f.is_empty()) {
            let why = failures
                .and_then(|f| f.first())
                .map(|f| EsError::from_cause(f).best_reason())
                .unwrap_or_default();
            return Err(self.error(format!(
                "{} of {} shards failed, the count would be incomplete: {}",
                failed.max(1),
                number("total").unwrap_or(0),
                short(&why)
            )));
        }
        if number("total") == Some(0) {
            return Err(self.error(format!("index pattern '{}' matches no index", self.index)));
        }
        Ok(())
    }

    /// The terms aggregation's buckets, most first, and the rest as [`OTHER_GROUP`].
    fn groups(&self, answer: &Value) -> Result<Vec<(String, u64)>, SourceError> {
        let malformed = |what: String| {
            self.error(format!(
                "the answer is not an Elasticsearch aggregation response: {what}"
            ))
        };
        let groups = answer
            .get("aggregations")
            .and_then(|a| a.get(GROUPS))
            .ok_or_else(|| malformed(format!("it holds no aggregations.{GROUPS}")))?;
        let buckets = match groups.get("buckets") {
            Some(Value::Array(buckets)) => buckets,
            Some(other) => {
                return Err(malformed(format!(
                    "aggregations.{GROUPS}.buckets is not a list: {}",
                    short(&other.to_string())
                )));
            }
            None => {
                return Err(malformed(format!(
                    "it holds no aggregations.{GROUPS}.buckets"
                )));
            }
        };
        let mut counted = buckets
            .iter()
            .map(|bucket| {
                let count = bucket.get("doc_count").and_then(Value::as_u64);
                match (group_name(bucket), count) {
                    (Some(name), Some(count)) => Ok((name, count)),
                    _ => Err(malformed(format!(
                        "a group is not {{key, doc_count}}: {}",
                        short(&bucket.to_string())
                    ))),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Stable: groups of one count keep the cluster's order (by key).
        counted.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        let other = match groups.get("sum_other_doc_count") {
            None | Some(Value::Null) => 0,
            Some(v) => v.as_u64().ok_or_else(|| {
                malformed(format!(
                    "sum_other_doc_count is not a count: {}",
                    short(&v.to_string())
                ))
            })?,
        };
        if other > 0 {
            counted.push((OTHER_GROUP.to_string(), other));
        }
        Ok(counted)
    }
}

/// A bucket's value as text: `key_as_string` where the cluster writes one (dates, booleans),
/// else the key itself, numbers written as JSON writes them.
fn group_name(bucket: &Value) -> Option<String> {
    if let Some(text) = bucket.get("key_as_string").and_then(Value::as_str) {
        return Some(text.to_string());
    }
    match bucket.get("key")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A time as the search writes its window: UTC, milliseconds, `Z`.
fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Where a query string failed to parse, in Lucene's words: `Cannot parse 'x': Encountered
/// "<EOF>" at line 1, column 9.` (its first line; the rest lists what was expected), else
/// Elasticsearch's `Failed to parse query [x]`. Found wherever the answer nests it (a root
/// cause, a shard failure's `caused_by`).
fn parse_failure(body: &[u8]) -> Option<String> {
    fn reasons<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(fields) => {
                for (key, inner) in fields {
                    match inner {
                        Value::String(reason) if key == "reason" => out.push(reason),
                        _ => reasons(inner, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| reasons(i, out)),
            _ => {}
        }
    }
    let answer: Value = serde_json::from_slice(body).ok()?;
    let mut found = Vec::new();
    reasons(&answer, &mut found);
    let lucene = found.iter().find(|r| r.starts_with("Cannot parse"));
    let elastic = || {
        found
            .iter()
            .find(|r| r.starts_with("Failed to parse query"))
    };
    lucene
        .or_else(elastic)
        .and_then(|r| r.lines().next())
        .map(str::to_string)
}

/// Whether a 400's reason says `field` cannot be grouped by: a text field without fielddata
/// (`… set fielddata=true on [message] …`), or a type the terms aggregation does not take
/// (`Field [x] of type [y] is not supported for aggregation [terms]`).
fn cannot_group(reason: &str, field: &str) -> bool {
    let lower = reason.to_lowercase();
    reason.contains(&format!("[{field}]"))
        && (lower.contains("fielddata") || lower.contains("aggregation"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_named_by_its_text_or_its_key() {
        let name = |bucket: Value| group_name(&bucket);
        assert_eq!(
            name(json!({"key": "order", "doc_count": 3})).as_deref(),
            Some("order")
        );
        assert_eq!(
            name(json!({"key": 500, "doc_count": 3})).as_deref(),
            Some("500")
        );
        assert_eq!(
            name(json!({"key": 1.5, "doc_count": 3})).as_deref(),
            Some("1.5")
        );
        assert_eq!(
            name(json!({"key": 1, "key_as_string": "true", "doc_count": 3})).as_deref(),
            Some("true")
        );
        assert_eq!(
            name(json!({"key": 1_796_601_600_000_i64, "key_as_string": "2026-12-07T00:00:00.000Z", "doc_count": 3}))
                .as_deref(),
            Some("2026-12-07T00:00:00.000Z")
        );
        assert_eq!(name(json!({"key": null, "doc_count": 3})), None);
        assert_eq!(name(json!({"doc_count": 3})), None);
    }

    #[test]
    fn a_parse_failure_is_found_where_it_is_nested() {
        let answer = json!({"error": {
            "root_cause": [{"type": "query_shard_exception", "reason": "Failed to parse query [a AND (b]"}],
            "type": "search_phase_execution_exception",
            "reason": "all shards failed",
            "failed_shards": [{"shard": 0, "reason": {
                "type": "query_shard_exception",
                "reason": "Failed to parse query [a AND (b]",
                "caused_by": {"type": "parse_exception", "reason": "Cannot parse 'a AND (b': Encountered \"<EOF>\" at line 1, column 8.\nWas expecting one of:\n    <AND> ..."},
            }}],
        }, "status": 400});
        assert_eq!(
            parse_failure(answer.to_string().as_bytes()).as_deref(),
            Some("Cannot parse 'a AND (b': Encountered \"<EOF>\" at line 1, column 8.")
        );
        let plain = json!({"error": {"root_cause": [{"type": "query_shard_exception", "reason": "Failed to parse query [a AND (b]"}]}});
        assert_eq!(
            parse_failure(plain.to_string().as_bytes()).as_deref(),
            Some("Failed to parse query [a AND (b]")
        );
        let other = json!({"error": {"type": "parsing_exception", "reason": "unknown query [x]"}});
        assert_eq!(parse_failure(other.to_string().as_bytes()), None);
        assert_eq!(parse_failure(b"Bad Request"), None);
    }

    #[test]
    fn a_field_that_cannot_be_grouped_is_told_apart() {
        let text = "Text fields are not optimised for operations that require per-document field \
                    data like aggregations and sorting, so these operations are disabled by \
                    default. Please use a keyword field instead. Alternatively, set \
                    fielddata=true on [service] in order to load field data by uninverting the \
                    inverted index.";
        assert!(cannot_group(text, "service"));
        assert!(!cannot_group(text, "level"));
        assert!(cannot_group(
            "Field [geo] of type [geo_point] is not supported for aggregation [terms]",
            "geo"
        ));
        assert!(!cannot_group(
            "Failed to parse query [service:(x]",
            "service"
        ));
    }
}
