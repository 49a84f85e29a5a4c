//! What the source asks: the `bool` query a [`LogQuery`] becomes, and the body of each page's
//! `_search` (the sort, `search_after`, the point in time, the first page's hits a minute).
//! Builds JSON only; sending it is `http`'s.

use chrono::{DateTime, SecondsFormat, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use super::Cluster;
use super::pit::{PIT_KEEP_ALIVE, Pit};
use crate::lookups::{LogQuery, SourceError};

/// The index (or pattern, or comma-separated list) as one path segment: `*` and `,` are
/// Elasticsearch's own syntax there and stay as they are.
const INDEX_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'*')
    .remove(b',')
    .remove(b':');

impl Cluster {
    /// The query every page asks: the window, the customer, the level, the text.
    pub(super) fn bool_query(&self, query: &LogQuery) -> Result<Value, SourceError> {
        let names = &self.fields;
        let millis = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut filter = vec![json!({"range": {names.timestamp.as_str(): {
            "gte": millis(query.from),
            "lte": millis(query.to),
            "format": "strict_date_optional_time",
        }}})];
        if !query.identifiers.is_empty() {
            let fields: Vec<&str> = names
                .user
                .iter()
                .chain(Some(&names.trace))
                .map(String::as_str)
                .filter(|f| !f.is_empty())
                .collect();
            if fields.is_empty() {
                return Err(self.error(
                    "the query names a customer, but no user or trace field is configured \
                     (logs.sources.fields)",
                ));
            }
            let should: Vec<Value> = query
                .identifiers
                .iter()
                .flat_map(|id| {
                    let id = id.trim();
                    fields.iter().map(move |f| json!({"term": {*f: id}}))
                })
                .collect();
            filter.push(json!({"bool": {"should": should, "minimum_should_match": 1}}));
        }
        if let Some(level) = query.level.as_ref().filter(|l| !l.trim().is_empty()) {
            // Logs write `ERROR`, `error` or `Error`; a keyword field keeps them apart.
            let mut spellings = vec![level.clone()];
            for other in [level.to_uppercase(), level.to_lowercase()] {
                if !spellings.contains(&other) {
                    spellings.push(other);
                }
            }
            let should: Vec<Value> = spellings
                .iter()
                .map(|l| json!({"term": {names.level.as_str(): l}}))
                .collect();
            filter.push(json!({"bool": {"should": should, "minimum_should_match": 1}}));
        }
        let must: Vec<Value> = query
            .text
            .iter()
            .filter(|t| !t.trim().is_empty())
            .map(|t| json!({"match_phrase": {names.message.as_str(): t}}))
            .collect();
        Ok(json!({"bool": {"filter": filter, "must": must}}))
    }

    /// One search request's body.
    pub(super) fn page_body(
        &self,
        wanted: &Value,
        size: usize,
        first: bool,
        after: Option<&[Value]>,
        pit: Option<&Pit>,
    ) -> Value {
        let ts = self.fields.timestamp.as_str();
        let mut body = json!({
            "size": size,
            "sort": [{ts: {"order": "desc"}}],
            // Counted once: later pages would only count the same hits again.
            "track_total_hits": first,
            "query": wanted,
            "_source": true,
        });
        if first {
            body["aggs"] = json!({"per_minute": {"date_histogram": {
                "field": ts,
                "fixed_interval": "1m",
                "min_doc_count": 1,
            }}});
        }
        if let Some(after) = after {
            body["search_after"] = Value::from(after.to_vec());
        }
        if let Some(pit) = pit {
            body["pit"] = json!({"id": pit.id, "keep_alive": PIT_KEEP_ALIVE});
        }
        body
    }
}

/// The index as a path segment.
pub(super) fn check_index(index: &str) -> Result<String, String> {
    if index.is_empty() {
        return Err("empty: name an index or a pattern (app-logs-*)".into());
    }
    if index.contains(['/', '?', '#']) || index.contains(char::is_whitespace) {
        return Err(format!("'{index}' must not hold '/', '?', '#' or a space"));
    }
    Ok(utf8_percent_encode(index, INDEX_SEGMENT).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_pattern_keeps_its_stars_and_commas() {
        assert_eq!(check_index("app-logs-*,audit").unwrap(), "app-logs-*,audit");
        assert_eq!(check_index("日志").unwrap(), "%E6%97%A5%E5%BF%97");
        assert!(check_index("a b").is_err());
        assert!(check_index("a/b").is_err());
    }
}
