//! What a handler asks of the logs: the same for every source.

use chrono::{DateTime, Duration, Utc};

/// The most lines one search hands over.
pub const MAX_LIMIT: usize = 10_000;
/// The most identifiers one search looks for (a customer's account, phone, user id, trace).
pub const MAX_IDENTIFIERS: usize = 16;
/// The longest identifier, level, text or regex a query holds, in characters.
pub const MAX_IDENTIFIER_CHARS: usize = 128;
pub const MAX_TEXT_CHARS: usize = 1_000;
/// The window around a ticket's reported time when none is given.
pub const DEFAULT_AROUND: Duration = Duration::minutes(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    /// A line must hold one of these (user id, account, phone, trace id); none: any line.
    pub identifiers: Vec<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Only lines of this level (case-insensitive).
    pub level: Option<String>,
    /// Words the line must hold, case-insensitive.
    pub text: Option<String>,
    /// A regular expression the line must match.
    pub regex: Option<String>,
    /// At most this many lines, newest first.
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the time window ends ({to}) before it starts ({from})")]
    Backwards {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    #[error("the regex does not compile: {0}")]
    Regex(String),
    #[error("limit must be 1 to {MAX_LIMIT}")]
    Limit,
    #[error("at most {MAX_IDENTIFIERS} identifiers of 1 to {MAX_IDENTIFIER_CHARS} characters")]
    Identifiers,
    #[error("{0} is at most {MAX_TEXT_CHARS} characters")]
    TooLong(&'static str),
}

impl LogQuery {
    /// The lines about `identifiers` within [`DEFAULT_AROUND`] of `at` (a ticket's reported
    /// time), the newest 500.
    pub fn around(at: DateTime<Utc>, identifiers: Vec<String>) -> LogQuery {
        LogQuery {
            identifiers,
            from: at - DEFAULT_AROUND,
            to: at + DEFAULT_AROUND,
            level: None,
            text: None,
            regex: None,
            limit: 500,
        }
    }

    /// Refuses a query no source could answer sensibly.
    pub fn check(&self) -> Result<(), QueryError> {
        if self.to < self.from {
            return Err(QueryError::Backwards {
                from: self.from,
                to: self.to,
            });
        }
        if !(1..=MAX_LIMIT).contains(&self.limit) {
            return Err(QueryError::Limit);
        }
        if self.identifiers.len() > MAX_IDENTIFIERS
            || self
                .identifiers
                .iter()
                .any(|i| i.trim().is_empty() || i.trim().chars().count() > MAX_IDENTIFIER_CHARS)
        {
            return Err(QueryError::Identifiers);
        }
        for (name, value) in [
            ("level", &self.level),
            ("text", &self.text),
            ("regex", &self.regex),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > MAX_TEXT_CHARS)
            {
                return Err(QueryError::TooLong(name));
            }
        }
        if let Some(re) = &self.regex {
            regex::Regex::new(re).map_err(|e| QueryError::Regex(e.to_string()))?;
        }
        Ok(())
    }

    /// Whether a line's time falls in the window.
    pub fn in_window(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at <= self.to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_query_around_a_ticket_spans_half_an_hour_each_side() {
        let q = LogQuery::around(at("2026-12-07T02:00:00Z"), vec!["310001234567".into()]);
        assert_eq!(q.from, at("2026-12-07T01:30:00Z"));
        assert_eq!(q.to, at("2026-12-07T02:30:00Z"));
        assert_eq!(q.check(), Ok(()));
        assert!(q.in_window(at("2026-12-07T02:30:00Z")));
        assert!(!q.in_window(at("2026-12-07T02:30:01Z")));
    }

    #[test]
    fn queries_no_source_could_answer_are_refused() {
        let good = LogQuery::around(at("2026-12-07T02:00:00Z"), vec!["a".into()]);
        let backwards = LogQuery {
            from: good.to,
            to: good.from,
            ..good.clone()
        };
        assert!(matches!(
            backwards.check(),
            Err(QueryError::Backwards { .. })
        ));
        let regex = LogQuery {
            regex: Some("(unclosed".into()),
            ..good.clone()
        };
        assert!(matches!(regex.check(), Err(QueryError::Regex(_))));
        let limit = LogQuery {
            limit: 0,
            ..good.clone()
        };
        assert_eq!(limit.check(), Err(QueryError::Limit));
        let blank = LogQuery {
            identifiers: vec![" ".into()],
            ..good
        };
        assert_eq!(blank.check(), Err(QueryError::Identifiers));
    }
}
