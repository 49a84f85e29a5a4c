//! A log line as every source hands it over, and how a line of a log file is read.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One line found: when, how bad, what it says, and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogLine {
    pub at: DateTime<Utc>,
    pub level: Option<String>,
    /// The source's name, as configured.
    pub source: String,
    pub message: String,
    /// Where it was read: a file and the byte offset of the line in it (`app.log@1024`;
    /// counting lines would cost a fifth of the search), or an index and document id.
    pub origin: String,
    /// The trace id it carries, for the lines around it of the same request.
    pub trace: Option<String>,
    /// Its own fields when it is JSON (the detail view shows them), else empty.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
}

/// Which fields of a JSON log line hold what.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldNames {
    pub timestamp: String,
    pub message: String,
    pub level: String,
    /// Where the customer is named: user id, account, phone.
    pub user: Vec<String>,
    pub trace: String,
}

impl Default for FieldNames {
    fn default() -> Self {
        FieldNames {
            timestamp: "@timestamp".into(),
            message: "message".into(),
            level: "level".into(),
            user: vec!["user_id".into(), "account".into(), "phone".into()],
            trace: "trace_id".into(),
        }
    }
}

/// How the lines of a file are written.
#[derive(Debug, Clone)]
pub enum LineFormat {
    /// One JSON object a line.
    Json(FieldNames),
    /// Plain text; the time is the first match of `timestamp` (its group `ts`, else the whole
    /// match), the level a word such as `ERROR` or `WARN`.
    Text { timestamp: regex::Regex },
}

/// What a line says, read by its format.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub at: DateTime<Utc>,
    pub level: Option<String>,
    pub message: String,
    pub trace: Option<String>,
    pub fields: Map<String, Value>,
}

fn level_word() -> &'static regex::Regex {
    static LEVEL: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    LEVEL.get_or_init(|| {
        regex::Regex::new(r"\b(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL)\b")
            .expect("a valid regex")
    })
}

impl LineFormat {
    /// The default text format: an ISO-like time (`2026-12-07 10:32:05.123` or with `T` and a
    /// zone) at the start of the line.
    pub fn text_default() -> LineFormat {
        LineFormat::Text {
            timestamp: regex::Regex::new(
                r"^\[?(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)",
            )
            .expect("a valid regex"),
        }
    }

    /// Reads `raw`; `None` when it has no time this format can read (a stack trace's
    /// continuation, a broken line), which no time window can place.
    pub fn parse(&self, raw: &str, zone: chrono_tz::Tz) -> Option<Parsed> {
        match self {
            LineFormat::Json(names) => {
                let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(raw) else {
                    return None;
                };
                let at = time_of(fields.get(&names.timestamp)?, zone)?;
                let text = |name: &str| fields.get(name).map(as_text);
                Some(Parsed {
                    at,
                    level: text(&names.level),
                    message: text(&names.message).unwrap_or_else(|| raw.to_string()),
                    trace: text(&names.trace),
                    fields,
                })
            }
            LineFormat::Text { timestamp } => {
                let found = timestamp.captures(raw)?;
                let ts = found.name("ts").or_else(|| found.get(0))?;
                Some(Parsed {
                    at: parse_time(ts.as_str(), zone)?,
                    level: level_word().find(raw).map(|m| m.as_str().to_string()),
                    message: raw.to_string(),
                    trace: None,
                    fields: Map::new(),
                })
            }
        }
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A JSON time: a string as [`parse_time`] reads it, or epoch seconds or milliseconds.
fn time_of(v: &Value, zone: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => parse_time(s, zone),
        Value::Number(n) => {
            let n = n.as_i64()?;
            // Milliseconds from 1973 on; seconds before that would be the 1970s.
            if n.abs() >= 100_000_000_000 {
                DateTime::from_timestamp_millis(n)
            } else {
                DateTime::from_timestamp(n, 0)
            }
        }
        _ => None,
    }
}

/// A time as logs write it: RFC 3339, or a local time without a zone (read in `zone`, the
/// business time zone unless the source says otherwise), `T` or space between, a fraction
/// after `.` or `,`.
pub fn parse_time(s: &str, zone: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let s = s.trim().trim_start_matches('[').trim_end_matches(']');
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let s = s.replacen(',', ".", 1);
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&s, format) {
            return zone
                .from_local_datetime(&t)
                .earliest()
                .map(|t| t.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(&s, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn times_as_logs_write_them() {
        for s in [
            "2026-12-07T10:32:05+08:00",
            "2026-12-07T02:32:05Z",
            "2026-12-07 10:32:05",
            "2026-12-07T10:32:05.000",
            "2026-12-07 10:32:05,000",
            "[2026-12-07 10:32:05]",
            "2026-12-07 10:32:05+0800",
        ] {
            assert_eq!(
                parse_time(s, SHANGHAI),
                Some(at("2026-12-07T02:32:05Z")),
                "{s}"
            );
        }
        assert_eq!(parse_time("yesterday", SHANGHAI), None);
    }

    #[test]
    fn json_lines_name_their_fields() {
        let format = LineFormat::Json(FieldNames::default());
        let p = format
            .parse(
                r#"{"@timestamp":"2026-12-07T10:32:05+08:00","level":"ERROR","message":"下单失败","account":"310001234567","trace_id":"t-1"}"#,
                SHANGHAI,
            )
            .unwrap();
        assert_eq!(p.at, at("2026-12-07T02:32:05Z"));
        assert_eq!(p.level.as_deref(), Some("ERROR"));
        assert_eq!(p.message, "下单失败");
        assert_eq!(p.trace.as_deref(), Some("t-1"));
        let millis = format
            .parse(r#"{"@timestamp":1796610725000,"message":"x"}"#, SHANGHAI)
            .unwrap();
        assert_eq!(
            millis.at,
            DateTime::from_timestamp_millis(1_796_610_725_000).unwrap()
        );
        assert_eq!(format.parse("not json", SHANGHAI), None);
        assert_eq!(format.parse(r#"{"message":"no time"}"#, SHANGHAI), None);
    }

    #[test]
    fn text_lines_give_their_time_and_level() {
        let p = LineFormat::text_default()
            .parse(
                "2026-12-07 10:32:05.120 ERROR [order] 委托失败 account=310001234567",
                SHANGHAI,
            )
            .unwrap();
        assert_eq!(p.at, at("2026-12-07T02:32:05.120Z"));
        assert_eq!(p.level.as_deref(), Some("ERROR"));
        assert_eq!(
            LineFormat::text_default().parse("\tat com.example.Order.submit", SHANGHAI),
            None,
            "a stack trace's continuation has no time"
        );
    }
}
