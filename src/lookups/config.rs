//! `[[logs.sources]]` in `opsdesk.toml`: the shapes as written. Each source's own module turns
//! its shape into a working source and refuses what cannot work, naming the key.

use std::path::PathBuf;

use serde::Deserialize;

use super::line::FieldNames;

/// `[logs]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogsConfig {
    pub sources: Vec<SourceConfig>,
}

/// One `[[logs.sources]]`, told apart by its `kind`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SourceConfig {
    /// Elasticsearch 7/8 or OpenSearch 1/2 (logs, or the app's tracking events).
    Elasticsearch(ElasticsearchConfig),
    /// Log files on this host.
    Files(FilesConfig),
    /// Read-only data lookups in a business database (PostgreSQL, MySQL, SQLite).
    Sql(SqlConfig),
}

impl SourceConfig {
    pub fn name(&self) -> &str {
        match self {
            SourceConfig::Elasticsearch(c) => &c.name,
            SourceConfig::Files(c) => &c.name,
            SourceConfig::Sql(c) => &c.name,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElasticsearchConfig {
    pub name: String,
    /// Tried in order: a node that cannot be reached (or answers 5xx) hands over to the next.
    pub urls: Vec<String>,
    /// Index name or pattern (`app-logs-*`).
    pub index: String,
    #[serde(default)]
    pub auth: Option<ElasticsearchAuth>,
    /// A PEM file of the certificate authority that signed the cluster's certificate, trusted
    /// besides the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate. Only when said so, for a test cluster.
    #[serde(default)]
    pub insecure: bool,
    /// A request that takes longer fails (`10s`, `1m`).
    #[serde(default = "default_timeout")]
    pub timeout: String,
    #[serde(default)]
    pub fields: FieldNames,
    /// Page with a point in time (Elasticsearch 7.10+, OpenSearch 2.4+) instead of a plain
    /// search, so lines written while paging do not shift the pages.
    #[serde(default)]
    pub point_in_time: bool,
    /// Hits a request asks for (at most 10,000, Elasticsearch's own bound).
    #[serde(default = "default_page_size")]
    pub page_size: usize,
}

/// Exactly one of: an API key, a username and password, a bearer token.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElasticsearchAuth {
    pub api_key: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub bearer: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesConfig {
    pub name: String,
    /// Glob patterns (`/var/log/app/*.log*`); gzipped files are read through.
    pub paths: Vec<String>,
    #[serde(default)]
    pub format: FileFormat,
    /// For `text`: where a line's time is, its group `ts` (else the whole match).
    #[serde(default)]
    pub timestamp_regex: Option<String>,
    /// For `json`: which fields hold what.
    #[serde(default)]
    pub fields: FieldNames,
    /// The zone of times written without one (default: `business.timezone`).
    #[serde(default)]
    pub timezone: Option<String>,
    /// A longer line is skipped with a warning.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: usize,
}

/// `kind = "sql"`: named, parameterised queries a handler picks, run read-only.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlConfig {
    pub name: String,
    /// `postgres://user@host:5432/db`, `mysql://user@host:3306/db` or `sqlite:///path/to.db`
    /// (a relative SQLite path is read from the data dir). No password here: see
    /// `password_env`.
    pub url: String,
    /// The environment variable holding the database password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// A query that runs longer is cancelled by the database (`5s`).
    #[serde(default = "default_sql_timeout")]
    pub timeout: String,
    /// Rows a query hands back at most; more are cut and said so.
    #[serde(default = "default_max_rows")]
    pub max_rows: usize,
    /// Which columns hold customer data, masked by the ticket rules: column → `name`,
    /// `account`, `phone` or `id_number`.
    #[serde(default)]
    pub mask: std::collections::BTreeMap<String, String>,
    /// The queries a handler may pick.
    #[serde(default, rename = "query")]
    pub queries: Vec<NamedQuery>,
}

/// `[[logs.sources.query]]`: one lookup a handler may run, keyed by a customer identifier.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedQuery {
    /// What the picker and `opsdesk lookup run NAME` call it (`customer-profile`).
    pub name: String,
    /// What it shows, in the handlers' words (`客户资料`).
    #[serde(default)]
    pub title: Option<String>,
    /// The SQL, with `:account`, `:phone` or `:id_number` where the identifier goes (bound
    /// as a parameter, never pasted into the text).
    pub sql: String,
}

fn default_sql_timeout() -> String {
    "5s".into()
}

fn default_max_rows() -> usize {
    200
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    #[default]
    Json,
    Text,
}

fn default_timeout() -> String {
    "10s".into()
}

fn default_page_size() -> usize {
    500
}

fn default_max_line_bytes() -> usize {
    super::files::DEFAULT_MAX_LINE_BYTES
}

/// A source's name: what the picker, the audit log and every message show.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "logs.sources.name: '{name}' must be 1 to 32 of letters, digits, - and _"
        ))
    }
}
