//! The `sql` source: read-only data lookups in the business databases (customer profile,
//! shareholder cards, depository binding, orders) beside a ticket's log lines.
//!
//! A source names its queries in the configuration, each keyed by one customer identifier
//! (`:account`, `:phone` or `:id_number` in its SQL); a handler picks a query and the ticket
//! gives the value, so nobody types SQL at the desk. The value is always bound as a
//! parameter. Every lookup runs read-only (PostgreSQL: a read-only transaction with a
//! `statement_timeout`; MySQL: a read-only session and transaction with
//! `max_execution_time`; SQLite: a file opened read-only with `query_only`), its rows are
//! capped, its customer columns masked as tickets mask them, and its failures put in words
//! that name the source and never carry its password. Give the source a database role that
//! can only read as well: the read-only transaction is the guard this side can set, the
//! role is the one the DBA sets.
//!
//! PostgreSQL and MySQL go through sqlx; SQLite through the project's rusqlite, since two
//! crates that each link SQLite cannot share one build.

mod cells;
mod database;
pub mod demo;
mod mysql;
mod postgres;
mod sqlite;
mod statement;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use self::cells::MaskAs;
use self::database::Database;
pub use self::statement::Named;
use super::SourceError;
use super::config::{SqlConfig, check_name};
use crate::domain::mask::mask_long_numbers;
use crate::domain::validate::Identifier;

pub use self::demo::{demo_database, demo_source};

/// The longest identifier value a lookup takes (as a ticket's short fields).
pub const MAX_VALUE_CHARS: usize = 64;
/// The most rows a source may hand back (`max_rows`).
pub const MAX_ROWS: usize = 10_000;
/// The longest query name.
pub const MAX_QUERY_NAME_CHARS: usize = 48;
/// Bounds of `timeout`.
const TIMEOUT_SECS: std::ops::RangeInclusive<u64> = 1..=600;
/// How long past its timeout a lookup is given up on this side, should the database not
/// cancel it itself.
const BACKSTOP: Duration = Duration::from_secs(2);

/// A configured business database and its queries. Cheap to clone.
#[derive(Clone)]
pub struct SqlSource {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    database: Database,
    /// Host and database (or the SQLite file): what a message says of where it is.
    place: String,
    password_env: Option<String>,
    /// Never shown: only taken out of messages that might repeat it.
    password: Option<String>,
    timeout: Duration,
    max_rows: usize,
    /// Column (lowercase) → how it is masked.
    mask: Vec<(String, MaskAs)>,
    queries: Vec<Query>,
}

/// One query a handler may pick, its SQL rewritten for its database.
#[derive(Debug, Clone)]
struct Query {
    name: String,
    title: Option<String>,
    by: Identifier,
    sql: String,
    binds: usize,
}

/// What the query picker shows of a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueryInfo {
    pub source: String,
    pub name: String,
    pub title: Option<String>,
    /// The identifier it looks up by: `account`, `phone` or `id_number`.
    pub by: String,
}

/// What a query found: every value as text (`None` for NULL), customer columns masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DataRows {
    pub source: String,
    pub query: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// `true` when there were more rows than the source hands back (`max_rows`).
    pub truncated: bool,
}

/// One read as a database side runs it: a handler's lookup or a monitor's query.
struct Lookup<'a> {
    sql: &'a str,
    /// Bound in order.
    values: Vec<String>,
    timeout: Duration,
}

impl Lookup<'_> {
    /// When this side gives up on a query the database has not cancelled.
    fn backstop(&self) -> Duration {
        self.timeout + BACKSTOP
    }
}

/// Where a read's rows go as the database sends them: a lookup keeps the first few, a
/// monitor's consistency check streams millions through its comparison.
pub trait RowSink: Send + 'static {
    /// The columns, once, before any row.
    fn columns(&mut self, columns: Vec<String>);
    /// One row, every value as text (`None` for NULL); `false` ends the read early.
    fn row(&mut self, row: Vec<Option<String>>) -> impl Future<Output = bool> + Send;
}

/// The rows a database side read, before masking.
#[derive(Debug, Default)]
pub struct Fetched {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// More rows came than were kept.
    pub truncated: bool,
}

/// Keeps the first `max_rows` rows and says whether there were more.
pub struct Collect {
    max_rows: usize,
    fetched: Fetched,
}

impl Collect {
    pub fn new(max_rows: usize) -> Collect {
        Collect {
            max_rows,
            fetched: Fetched::default(),
        }
    }

    pub fn into_fetched(self) -> Fetched {
        self.fetched
    }
}

impl RowSink for Collect {
    fn columns(&mut self, columns: Vec<String>) {
        self.fetched.columns = columns;
    }

    async fn row(&mut self, row: Vec<Option<String>>) -> bool {
        if self.fetched.rows.len() == self.max_rows {
            self.fetched.truncated = true;
            return false;
        }
        self.fetched.rows.push(row);
        true
    }
}

/// Why a database side could not answer.
#[derive(Debug)]
enum Failure {
    /// No connection (or no file): the reason, as the driver gives it.
    Unreachable(String),
    /// Over the source's timeout, and cancelled.
    TimedOut,
    /// The database answered with an error: its message.
    Refused(String),
    /// The connection broke mid-way.
    Lost(String),
}

impl Failure {
    fn no_answer(timeout: Duration) -> Failure {
        Failure::Unreachable(format!("no answer within {}", say_duration(timeout)))
    }
}

/// What a driver's error says, without sqlx's "error returned from database:" before it.
fn driver_said(e: &sqlx::Error) -> String {
    e.as_database_error()
        .map_or_else(|| e.to_string(), |db| db.message().to_string())
}

/// Runs `read` on a fresh connection, PostgreSQL's and MySQL's way alike. A connection a
/// lookup keeps the failures plain: a refused connection is said at once (a pool would retry
/// until its own timeout), and a cancelled query never leaves a half-read connection for the
/// next lookup. Lookups are a handler's click, not a hot path.
async fn on_fresh_connection<C: sqlx::Connection, T>(
    connect: impl Future<Output = Result<C, sqlx::Error>>,
    lookup: &Lookup<'_>,
    read: impl AsyncFnOnce(&mut C) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let mut conn = tokio::time::timeout(lookup.timeout, connect)
        .await
        .map_err(|_| Failure::no_answer(lookup.timeout))?
        .map_err(|e| Failure::Unreachable(driver_said(&e)))?;
    let fetched = match tokio::time::timeout(lookup.backstop(), read(&mut conn)).await {
        Ok(fetched) => fetched,
        Err(_) => Err(Failure::TimedOut),
    };
    if fetched.is_ok() {
        // Said goodbye properly when all went well; otherwise dropping it closes the socket.
        let _ = tokio::time::timeout(lookup.timeout, conn.close()).await;
    }
    fetched
}

/// `5s`, `2m`, as the configuration writes it.
fn say_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 && secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

// By hand: the connect options would print the password.
impl fmt::Debug for SqlSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.inner;
        f.debug_struct("SqlSource")
            .field("name", &s.name)
            .field("kind", &s.database.kind())
            .field("place", &s.place)
            .field("password_env", &s.password_env)
            .field("timeout", &s.timeout)
            .field("max_rows", &s.max_rows)
            .field("mask", &s.mask)
            .field(
                "queries",
                &s.queries
                    .iter()
                    .map(|q| q.name.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl SqlSource {
    /// The source `cfg` describes; a relative SQLite path is read from `data_dir`. Refuses
    /// what cannot work, the message starting with the key at fault. Nothing is connected
    /// yet: each lookup connects.
    pub fn new(cfg: &SqlConfig, data_dir: Option<&Path>) -> Result<SqlSource, String> {
        check_name(&cfg.name)?;
        let refuse = |key: &str, message: String| {
            format!("logs.sources.{key}: {message} (source '{}')", cfg.name)
        };
        let password = match &cfg.password_env {
            None => None,
            Some(var) => match std::env::var(var) {
                Ok(p) if !p.is_empty() => Some(p),
                _ => {
                    return Err(refuse(
                        "password_env",
                        format!("the environment variable {var} is not set"),
                    ));
                }
            },
        };
        let (database, place) = database::parse(&cfg.url, password.as_deref(), data_dir)
            .map_err(|e| refuse("url", e))?;
        let timeout = crate::config::parse_duration(&cfg.timeout)
            .and_then(|s| u64::try_from(s).ok())
            .filter(|s| TIMEOUT_SECS.contains(s))
            .map(Duration::from_secs)
            .ok_or_else(|| {
                refuse(
                    "timeout",
                    format!("'{}' must be a duration of 1s to 10m", cfg.timeout),
                )
            })?;
        if !(1..=MAX_ROWS).contains(&cfg.max_rows) {
            return Err(refuse(
                "max_rows",
                format!("{} must be 1 to {MAX_ROWS}", cfg.max_rows),
            ));
        }
        let mask = check_mask(cfg).map_err(|e| refuse("mask", e))?;
        let queries = check_queries(cfg, &database).map_err(|(key, e)| refuse(key, e))?;
        Ok(SqlSource {
            inner: Arc::new(Inner {
                name: cfg.name.clone(),
                database,
                place,
                password_env: cfg.password_env.clone(),
                password,
                timeout,
                max_rows: cfg.max_rows,
                mask,
                queries,
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// `postgres`, `mysql` or `sqlite`.
    pub fn kind(&self) -> &'static str {
        self.inner.database.kind()
    }

    /// The queries a handler may pick, in the configured order.
    pub fn queries(&self) -> Vec<QueryInfo> {
        self.inner
            .queries
            .iter()
            .map(|q| QueryInfo {
                source: self.inner.name.clone(),
                name: q.name.clone(),
                title: q.title.clone(),
                by: q.by.field().to_string(),
            })
            .collect()
    }

    /// Runs the query named `query` for the customer whose `by` is `value`.
    pub async fn run(
        &self,
        query: &str,
        by: Identifier,
        value: &str,
    ) -> Result<DataRows, SourceError> {
        let s = &self.inner;
        let q = s.queries.iter().find(|q| q.name == query).ok_or_else(|| {
            let names: Vec<&str> = s.queries.iter().map(|q| q.name.as_str()).collect();
            self.error(format!(
                "no query is named '{query}' (there are: {})",
                names.join(", ")
            ))
        })?;
        if q.by != by {
            return Err(self.error(format!(
                "{} looks up by {}, not by {}",
                q.name,
                q.by.field(),
                by.field()
            )));
        }
        let value = value.trim();
        let what = by.field();
        if value.is_empty() {
            return Err(self.error(format!("the {what} to look up is blank")));
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(self.error(format!(
                "the {what} to look up is over {MAX_VALUE_CHARS} characters"
            )));
        }
        if value.chars().any(char::is_control) {
            return Err(self.error(format!("the {what} to look up holds a control character")));
        }
        let lookup = Lookup {
            sql: &q.sql,
            values: vec![value.to_string(); q.binds],
            timeout: s.timeout,
        };
        let fetched = self
            .read(&lookup, Collect::new(s.max_rows))
            .await
            .map_err(|f| self.error(self.scrub(&self.say(f, s.timeout), by, value)))?;
        Ok(self.masked(q, fetched.into_fetched()))
    }

    /// A monitor's SQL checked for this source's database, with the parameters in `known`
    /// bound by name: a first refusal of what is not a single read (the read-only
    /// transaction is what keeps it from writing).
    pub fn statement(&self, sql: &str, known: &[&str]) -> Result<Named, String> {
        statement::bind_named(sql, self.inner.database.dialect(), known)
    }

    /// Runs a monitor's `statement` read-only, under `timeout` rather than the lookups'
    /// (a check may read a whole table), every row into `sink` as it comes. `value` gives
    /// each named parameter's value. Failures are put in words without the password.
    pub async fn scan<S: RowSink>(
        &self,
        statement: &Named,
        value: impl Fn(&str) -> String,
        timeout: Duration,
        sink: S,
    ) -> Result<S, SourceError> {
        let lookup = Lookup {
            sql: &statement.sql,
            values: statement.order.iter().map(|n| value(n)).collect(),
            timeout,
        };
        self.read(&lookup, sink)
            .await
            .map_err(|f| self.error(self.scrub_secrets(&self.say(f, timeout))))
    }

    /// How `column` of this source's rows is masked, when it holds customer data.
    pub fn mask_of(&self, column: &str) -> Option<MaskAs> {
        let column = column.to_lowercase();
        self.inner
            .mask
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, m)| *m)
    }

    async fn read<S: RowSink>(&self, lookup: &Lookup<'_>, sink: S) -> Result<S, Failure> {
        match &self.inner.database {
            Database::Postgres(options) => postgres::fetch(options, lookup, sink).await,
            Database::MySql(options) => mysql::fetch(options, lookup, sink).await,
            Database::Sqlite(path) => sqlite::fetch(path, lookup, sink).await,
        }
    }

    fn error(&self, message: impl Into<String>) -> SourceError {
        SourceError {
            source_name: self.inner.name.clone(),
            message: message.into(),
        }
    }

    fn say(&self, failure: Failure, timeout: Duration) -> String {
        match failure {
            Failure::Unreachable(reason) => {
                format!("cannot reach the database: {reason} ({})", self.inner.place)
            }
            Failure::TimedOut => format!(
                "the query ran over {} and was cancelled",
                say_duration(timeout)
            ),
            Failure::Refused(message) => format!("the database refused: {message}"),
            Failure::Lost(reason) => format!("the database connection failed: {reason}"),
        }
    }

    /// `message` without the password, the looked-up value masked (a database may quote it:
    /// `invalid input syntax for type bigint: "…"`), and any long number masked.
    fn scrub(&self, message: &str, by: Identifier, value: &str) -> String {
        let mut text = message.to_string();
        // A very short value would star unrelated characters of the message.
        if value.chars().count() >= 4 {
            text = text.replace(value, &MaskAs::of(by).apply(value));
        }
        self.scrub_secrets(&text)
    }

    /// `message` without the password, any long number masked.
    fn scrub_secrets(&self, message: &str) -> String {
        let mut text = message.to_string();
        if let Some(password) = self.inner.password.as_deref().filter(|p| !p.is_empty()) {
            text = text.replace(password, "****");
        }
        mask_long_numbers(&text)
    }

    /// The rows as a handler may see them: customer columns masked, long cells cut.
    fn masked(&self, q: &Query, fetched: Fetched) -> DataRows {
        let masks: Vec<Option<MaskAs>> = fetched
            .columns
            .iter()
            .map(|column| self.mask_of(column))
            .collect();
        let rows = fetched
            .rows
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .zip(&masks)
                    .map(|(cell, mask)| {
                        cell.map(|v| match mask {
                            Some(m) => m.apply(&v),
                            None => cells::capped(v),
                        })
                    })
                    .collect()
            })
            .collect();
        DataRows {
            source: self.inner.name.clone(),
            query: q.name.clone(),
            columns: fetched.columns,
            rows,
            truncated: fetched.truncated,
        }
    }
}

/// `mask`: column → `name`, `account`, `phone` or `id_number`. Columns are matched without
/// regard to case: PostgreSQL folds unquoted names to lowercase, MySQL keeps them as written.
fn check_mask(cfg: &SqlConfig) -> Result<Vec<(String, MaskAs)>, String> {
    cfg.mask
        .iter()
        .map(|(column, kind)| {
            if column.trim().is_empty() {
                return Err("a column name is blank".to_string());
            }
            let m = MaskAs::parse(kind).ok_or_else(|| {
                format!("column '{column}': '{kind}' is none of name, account, phone, id_number")
            })?;
            Ok((column.to_lowercase(), m))
        })
        .collect()
}

/// `[[logs.sources.query]]`: at least one, names unique, each SQL bound for the database.
fn check_queries(
    cfg: &SqlConfig,
    database: &Database,
) -> Result<Vec<Query>, (&'static str, String)> {
    if cfg.queries.is_empty() {
        return Err((
            "query",
            "name at least one query ([[logs.sources.query]] with name and sql)".into(),
        ));
    }
    let mut queries: Vec<Query> = Vec::new();
    for q in &cfg.queries {
        let name_ok = !q.name.is_empty()
            && q.name.chars().count() <= MAX_QUERY_NAME_CHARS
            && q.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err((
                "query.name",
                format!(
                    "'{}' must be 1 to {MAX_QUERY_NAME_CHARS} of letters, digits, - and _",
                    q.name
                ),
            ));
        }
        if queries.iter().any(|seen| seen.name == q.name) {
            return Err(("query.name", format!("two queries are named '{}'", q.name)));
        }
        let bound = statement::bind(&q.sql, database.dialect())
            .map_err(|e| ("query.sql", format!("'{}' {e}", q.name)))?;
        queries.push(Query {
            name: q.name.clone(),
            title: q.title.clone().filter(|t| !t.trim().is_empty()),
            by: bound.by,
            sql: bound.sql,
            binds: bound.binds,
        });
    }
    Ok(queries)
}

#[cfg(test)]
mod tests;
