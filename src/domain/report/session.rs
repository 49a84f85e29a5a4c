//! Knowledge sessions: the weekly live talks the team gives field staff on an existing
//! streaming platform (first how to report a problem, then the most frequent questions), to
//! bring the consultation share down. opsdesk streams nothing; it keeps what a session was
//! about and how many watched, so the reports can set it against the consultation trend of
//! the systems it covered.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::validate::{FieldError, ValidationErrors};

pub const MIN_TOPIC_CHARS: usize = 2;
pub const MAX_TOPIC_CHARS: usize = 120;
pub const MAX_SESSION_SYSTEMS: usize = 10;
pub const MAX_SESSION_ARTICLES: usize = 20;
/// More viewers than any brokerage has staff: a typo, not a session.
pub const MAX_VIEWERS: i64 = 10_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KnowledgeSession {
    pub id: i64,
    pub version: i64,
    /// The local day it was held.
    pub held_on: NaiveDate,
    pub topic: String,
    /// The configured systems it covered (from its articles when not given).
    pub systems: Vec<String>,
    /// Knowledge-base articles it went through.
    pub kb_articles: Vec<i64>,
    /// Who watched it live, and all views including the replays (which keep coming), as the
    /// streaming platform counts them: opsdesk does not second-guess one against the other.
    pub live_viewers: Option<u64>,
    pub total_views: Option<u64>,
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A session as `POST /api/v1/knowledge-sessions`, the CLI and the TUI deliver it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    pub held_on: NaiveDate,
    pub topic: String,
    #[serde(default)]
    pub systems: Vec<String>,
    #[serde(default, deserialize_with = "crate::domain::whole::wholes")]
    pub kb_articles: Vec<i64>,
    #[serde(default, deserialize_with = "crate::domain::whole::whole_or_null")]
    pub live_viewers: Option<i64>,
    #[serde(default, deserialize_with = "crate::domain::whole::whole_or_null")]
    pub total_views: Option<i64>,
}

/// What a later edit changes (views grow with the replays); absent fields stay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionChange {
    #[serde(default)]
    pub held_on: Option<NaiveDate>,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub systems: Option<Vec<String>>,
    #[serde(default, deserialize_with = "wholes_or_null")]
    pub kb_articles: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "crate::domain::whole::whole_or_null")]
    pub live_viewers: Option<i64>,
    #[serde(default, deserialize_with = "crate::domain::whole::whole_or_null")]
    pub total_views: Option<i64>,
    /// The version the edit was made on; a session changed since is refused.
    #[serde(default, deserialize_with = "crate::domain::whole::whole_or_null")]
    pub version: Option<i64>,
}

/// A list of whole numbers, or null (nothing to change).
fn wholes_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<i64>>, D::Error> {
    #[derive(Deserialize)]
    struct Wholes(#[serde(deserialize_with = "crate::domain::whole::wholes")] Vec<i64>);
    Ok(Option::<Wholes>::deserialize(d)?.map(|w| w.0))
}

impl NewSession {
    /// The session after `change`.
    pub fn changed(mut self, change: SessionChange) -> NewSession {
        if let Some(v) = change.held_on {
            self.held_on = v;
        }
        if let Some(v) = change.topic {
            self.topic = v;
        }
        if let Some(v) = change.systems {
            self.systems = v;
        }
        if let Some(v) = change.kb_articles {
            self.kb_articles = v;
        }
        if change.live_viewers.is_some() {
            self.live_viewers = change.live_viewers;
        }
        if change.total_views.is_some() {
            self.total_views = change.total_views;
        }
        self
    }

    /// Trims the topic and the systems' keys.
    pub fn normalized(mut self) -> NewSession {
        self.topic = self.topic.trim().to_string();
        for s in &mut self.systems {
            *s = s.trim().to_string();
        }
        self
    }

    /// Drops repeated systems and articles, keeping their order (after [`NewSession::check`],
    /// which counts them as given, as the description does).
    pub fn deduped(mut self) -> NewSession {
        let mut seen = std::collections::HashSet::new();
        self.systems.retain(|s| seen.insert(s.clone()));
        let mut seen = std::collections::HashSet::new();
        self.kb_articles.retain(|id| seen.insert(*id));
        self
    }

    /// Every refused field: topic length and characters, known systems, counts, a day
    /// within reason (`today` in the business zone; a session is recorded after it is held,
    /// or planned up to a year ahead).
    pub fn check(&self, systems: &[&str], today: NaiveDate) -> Result<(), ValidationErrors> {
        let mut errors = Vec::new();
        let topic_chars = self.topic.chars().count();
        if !(MIN_TOPIC_CHARS..=MAX_TOPIC_CHARS).contains(&topic_chars) {
            errors.push(FieldError::new(
                "topic",
                format!("主题需 {MIN_TOPIC_CHARS}–{MAX_TOPIC_CHARS} 个字"),
                format!("the topic needs {MIN_TOPIC_CHARS}–{MAX_TOPIC_CHARS} characters"),
            ));
        } else if self.topic.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "topic",
                "主题只能是一行文字",
                "the topic is one line of text, without control characters",
            ));
        }
        let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a real day");
        if self.held_on < earliest || self.held_on > today + chrono::Duration::days(366) {
            errors.push(FieldError::new(
                "held_on",
                "日期需在 2000 年之后、一年之内",
                "the day must be after 2000 and at most a year ahead",
            ));
        }
        if self.systems.len() > MAX_SESSION_SYSTEMS {
            errors.push(FieldError::new(
                "systems",
                format!("最多 {MAX_SESSION_SYSTEMS} 个系统"),
                format!("at most {MAX_SESSION_SYSTEMS} systems"),
            ));
        }
        if let Some(unknown) = self.systems.iter().find(|s| !systems.contains(&s.as_str())) {
            let shown: String = unknown.chars().take(40).collect();
            errors.push(FieldError::new(
                "systems",
                format!("没有系统 '{shown}'（可选：{}）", systems.join("、")),
                format!("no system '{shown}' (known: {})", systems.join(", ")),
            ));
        }
        if self.kb_articles.len() > MAX_SESSION_ARTICLES {
            errors.push(FieldError::new(
                "kb_articles",
                format!("最多 {MAX_SESSION_ARTICLES} 篇文章"),
                format!("at most {MAX_SESSION_ARTICLES} articles"),
            ));
        }
        for (field, value) in [
            ("live_viewers", self.live_viewers),
            ("total_views", self.total_views),
        ] {
            if value.is_some_and(|v| !(0..=MAX_VIEWERS).contains(&v)) {
                errors.push(FieldError::new(
                    field,
                    format!("人数应在 0 到 {MAX_VIEWERS} 之间"),
                    format!("0 to {MAX_VIEWERS}"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errors))
        }
    }
}

impl From<&KnowledgeSession> for NewSession {
    fn from(s: &KnowledgeSession) -> NewSession {
        NewSession {
            held_on: s.held_on,
            topic: s.topic.clone(),
            systems: s.systems.clone(),
            kb_articles: s.kb_articles.clone(),
            live_viewers: s.live_viewers.map(|v| v as i64),
            total_views: s.total_views.map(|v| v as i64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn session() -> NewSession {
        NewSession {
            held_on: day("2026-11-19"),
            topic: " 如何正确报障：截图、账号和时间 ".into(),
            systems: vec!["trading".into(), "trading".into(), "app".into()],
            kb_articles: vec![3, 3, 5],
            live_viewers: Some(180),
            total_views: Some(640),
        }
    }

    #[test]
    fn a_good_session_is_normalized_and_accepted() {
        let s = session().normalized();
        assert_eq!(s.topic, "如何正确报障：截图、账号和时间");
        assert_eq!(s.check(&["trading", "app"], day("2026-12-07")), Ok(()));
        let s = s.deduped();
        assert_eq!(s.systems, ["trading", "app"]);
        assert_eq!(s.kb_articles, [3, 5]);
    }

    #[test]
    fn each_bad_field_is_named() {
        let fields = |s: NewSession| -> Vec<String> {
            s.normalized()
                .check(&["trading", "app"], day("2026-12-07"))
                .unwrap_err()
                .0
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        let mut s = session();
        s.topic = "x".into();
        assert_eq!(fields(s), ["topic"]);
        let mut s = session();
        s.topic = "第一行\n第二行".into();
        assert_eq!(fields(s), ["topic"]);
        let mut s = session();
        s.systems = vec!["<script>".into()];
        assert_eq!(fields(s), ["systems"]);
        let mut s = session();
        s.held_on = day("2031-01-01");
        assert_eq!(fields(s), ["held_on"]);
        let mut s = session();
        s.total_views = Some(-1);
        assert_eq!(fields(s), ["total_views"]);
        let mut s = session();
        s.live_viewers = Some(MAX_VIEWERS + 1);
        s.total_views = None;
        assert_eq!(fields(s), ["live_viewers"]);
    }

    #[test]
    fn a_change_keeps_what_it_does_not_name() {
        let s = session().normalized();
        let later = s.clone().changed(SessionChange {
            total_views: Some(900),
            ..Default::default()
        });
        assert_eq!(later.total_views, Some(900));
        assert_eq!(later.live_viewers, Some(180));
        assert_eq!(later.topic, s.topic);
    }
}
