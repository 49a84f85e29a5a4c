//! The configured sources, and one lookup across them: each source searched at the same
//! time, its finds handed on as they come, a source that fails leaving the others to answer.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::config::{LogsConfig, SourceConfig};
use super::elasticsearch::ElasticsearchSource;
use super::files::FilesSource;
use super::query::LogQuery;
use super::sql::{QueryInfo, SqlSource};
use super::{Found, Searched, SourceError};
use crate::domain::validate::Identifier;

/// A source of log lines, as configured.
#[derive(Debug, Clone)]
pub enum Source {
    Files(FilesSource),
    Elasticsearch(ElasticsearchSource),
    /// A business database: named queries, not log lines.
    Sql(SqlSource),
}

/// What the source picker shows of a source: its name and kind, never where it is or how it
/// logs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SourceInfo {
    pub name: String,
    /// `files`, `elasticsearch` or `sql`.
    pub kind: String,
}

impl Source {
    pub fn name(&self) -> &str {
        match self {
            Source::Files(s) => &s.name,
            Source::Elasticsearch(s) => s.name(),
            Source::Sql(s) => s.name(),
        }
    }

    /// Whether it holds log lines (a data source answers named queries instead).
    fn has_lines(&self) -> bool {
        !matches!(self, Source::Sql(_))
    }

    fn info(&self) -> SourceInfo {
        let kind = match self {
            Source::Files(_) => "files",
            Source::Elasticsearch(_) => "elasticsearch",
            Source::Sql(_) => "sql",
        };
        SourceInfo {
            name: self.name().to_string(),
            kind: kind.into(),
        }
    }

    /// Searches, sending what it finds to `tx`; ends early once `tx` has no receiver.
    async fn search(
        &self,
        query: &LogQuery,
        tx: &mpsc::Sender<Found>,
    ) -> Result<Searched, SourceError> {
        match self {
            Source::Elasticsearch(s) => s.search(query, tx).await,
            Source::Sql(s) => Err(SourceError {
                source_name: s.name().to_string(),
                message:
                    "a data source answers named queries (opsdesk lookup run), not log searches"
                        .into(),
            }),
            Source::Files(s) => {
                // Reading files blocks: it runs on the blocking pool, sending as it goes.
                let (s, query, lines) = (s.clone(), query.clone(), tx.clone());
                tokio::task::spawn_blocking(move || {
                    let stop = || lines.is_closed();
                    s.search(&query, &stop, |found| lines.blocking_send(found).is_ok())
                })
                .await
                .unwrap_or_else(|e| {
                    Err(SourceError {
                        source_name: self.name().to_string(),
                        message: format!("the search stopped: {e}"),
                    })
                })
            }
        }
    }
}

/// A name the query asked for that no source has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no log source is named '{0}'")]
pub struct UnknownSource(pub String);

/// Every configured source. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    sources: Arc<Vec<Source>>,
}

impl Lookups {
    /// The sources `[logs]` describes; times written without a zone are read in `zone`, a
    /// relative SQLite path in `data_dir`. Refuses a source that cannot work, or two of one
    /// name.
    pub fn from_config(
        cfg: &LogsConfig,
        zone: chrono_tz::Tz,
        data_dir: Option<&std::path::Path>,
    ) -> Result<Lookups, String> {
        let mut sources = Vec::new();
        for source in &cfg.sources {
            if sources.iter().any(|s: &Source| s.name() == source.name()) {
                return Err(format!(
                    "logs.sources.name: two sources are named '{}'",
                    source.name()
                ));
            }
            sources.push(match source {
                SourceConfig::Files(c) => Source::Files(FilesSource::new(c, zone)?),
                SourceConfig::Elasticsearch(c) => {
                    Source::Elasticsearch(ElasticsearchSource::new(c, zone)?)
                }
                SourceConfig::Sql(c) => Source::Sql(SqlSource::new(c, data_dir)?),
            });
        }
        Ok(Lookups::new(sources))
    }

    pub fn new(sources: Vec<Source>) -> Lookups {
        Lookups {
            sources: Arc::new(sources),
        }
    }

    /// Whether no source holds log lines.
    pub fn is_empty(&self) -> bool {
        !self.sources.iter().any(Source::has_lines)
    }

    /// Whether no source at all is configured.
    pub fn is_none(&self) -> bool {
        self.sources.is_empty()
    }

    /// Every data source's queries, sources in configured order.
    pub fn queries(&self) -> Vec<QueryInfo> {
        self.sources
            .iter()
            .filter_map(|s| match s {
                Source::Sql(s) => Some(s.queries()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// The data source holding the query `name` (in `source` when named), and what the query
    /// looks up by.
    pub fn data_query(
        &self,
        source: Option<&str>,
        name: &str,
    ) -> Result<(SqlSource, Identifier), String> {
        for s in self.sources.iter() {
            let Source::Sql(sql) = s else { continue };
            if source.is_some_and(|want| want != sql.name()) {
                continue;
            }
            if let Some(by) = sql
                .queries()
                .into_iter()
                .find(|q| q.name == name)
                .and_then(|q| Identifier::from_field(&q.by))
            {
                return Ok((sql.clone(), by));
            }
        }
        Err(match source {
            Some(source) => format!("the data source '{source}' has no query named '{name}'"),
            None => format!("no data source has a query named '{name}'"),
        })
    }

    /// The source named `name`, whatever its kind.
    pub fn get(&self, name: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.name() == name)
    }

    /// These sources and `more` (a name already here keeps the configured one).
    pub fn with(&self, more: Vec<Source>) -> Lookups {
        let mut sources: Vec<Source> = self.sources.as_ref().clone();
        for s in more {
            if self.get(s.name()).is_none() {
                sources.push(s);
            }
        }
        Lookups::new(sources)
    }

    /// The names of the sources that hold log lines.
    pub fn log_names(&self) -> Vec<&str> {
        self.sources
            .iter()
            .filter(|s| s.has_lines())
            .map(Source::name)
            .collect()
    }

    pub fn infos(&self) -> Vec<SourceInfo> {
        self.sources.iter().map(Source::info).collect()
    }

    /// The sources `names` picks (every source when it is empty), or the first name no
    /// source has.
    pub fn pick(&self, names: &[String]) -> Result<Vec<Source>, UnknownSource> {
        if names.is_empty() {
            return Ok(self
                .sources
                .iter()
                .filter(|s| s.has_lines())
                .cloned()
                .collect());
        }
        let mut picked: Vec<Source> = Vec::new();
        for name in names {
            let source = self
                .sources
                .iter()
                .find(|s| s.name() == name && s.has_lines())
                .ok_or_else(|| UnknownSource(name.clone()))?;
            // A name given twice is searched once.
            if !picked.iter().any(|p| p.name() == name) {
                picked.push(source.clone());
            }
        }
        Ok(picked)
    }
}

/// Runs `query` on `sources` at once, sending their finds to `tx` as they come, each source's
/// last word a [`Found::Done`] or [`Found::Failed`]. Returns when every source has answered
/// or the receiver has gone (a client that went away cancels its lookup).
pub async fn search(sources: Vec<Source>, query: LogQuery, tx: mpsc::Sender<Found>) {
    let runs = sources.into_iter().map(|source| {
        let (query, tx) = (query.clone(), tx.clone());
        async move {
            let name = source.name().to_string();
            let last = match source.search(&query, &tx).await {
                Ok(done) => {
                    for message in done.warnings {
                        let warning = Found::Warning {
                            source: name.clone(),
                            message,
                        };
                        if tx.send(warning).await.is_err() {
                            return;
                        }
                    }
                    Found::Done {
                        source: name,
                        lines: done.lines,
                        read: done.read,
                        total: done.total,
                    }
                }
                Err(e) => Found::Failed {
                    source: name,
                    message: e.message,
                },
            };
            let _ = tx.send(last).await;
        }
    });
    futures::future::join_all(runs).await;
}
