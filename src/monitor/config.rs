//! Monitor files (`monitors/*.toml` beside `opsdesk.toml`, the demo's in `fixtures/monitors/`):
//! what each says, checked against the configured sources before anything runs.
//!
//! A file that cannot work is refused with its `file:line` and set aside: the other monitors
//! load and run, and `opsdesk monitor list` shows the refused one with its reason.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::domain::monitor::baseline::Baseline;
use crate::domain::monitor::distribution::Shift;
use crate::domain::monitor::schedule::Schedule;
use crate::domain::monitor::threshold::Threshold;
use crate::domain::ticket::Priority;
use crate::lookups::elasticsearch::ElasticsearchSource;
use crate::lookups::sources::{Lookups, Source};
use crate::lookups::sql::{MaskAs, Named, SqlSource};

/// The named parameters a monitor's SQL may use: the business day of the evaluation
/// (`:today`), the day being measured (`:day`: today, or a past week's same weekday for a
/// baseline), that day at the evaluation's time of day (`:until`), and the evaluation's
/// local time (`:now`). Days are `YYYY-MM-DD`, times `YYYY-MM-DD HH:MM:SS`, both local.
pub const PARAMETERS: [&str; 4] = ["today", "day", "until", "now"];
/// A monitor file is read up to this; a larger one is refused.
const MAX_FILE_BYTES: u64 = 64 * 1024;
/// An evaluation that runs longer is given up (`timeout`, at most 10 minutes).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_TIMEOUT_SECS: i64 = 600;
/// Mismatches a consistency check lists by default (all are counted), and at most.
const DEFAULT_LISTED: usize = 1000;
const MAX_LISTED: usize = 10_000;
/// The longest monitor name (its file name without `.toml`).
const MAX_NAME_CHARS: usize = 48;

/// `[monitors]` in `opsdesk.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorsConfig {
    /// Where the monitor files are (default: `monitors/` beside `opsdesk.toml`).
    pub dir: Option<PathBuf>,
    /// Monitors evaluated at once by the server's scheduler.
    pub concurrency: usize,
}

impl Default for MonitorsConfig {
    fn default() -> MonitorsConfig {
        MonitorsConfig {
            dir: None,
            concurrency: 4,
        }
    }
}

/// A monitor ready to run.
#[derive(Debug)]
pub struct Monitor {
    /// The file name without `.toml`.
    pub name: String,
    pub title: String,
    pub title_en: String,
    /// Where it was read from, as messages name it.
    pub file: String,
    pub schedule: Schedule,
    pub timeout: Duration,
    pub enabled: bool,
    pub rule: Rule,
    pub alert: AlertPolicy,
}

/// What a monitor checks.
#[derive(Debug)]
pub enum Rule {
    Threshold {
        query: Query,
        threshold: Threshold,
    },
    Baseline {
        query: Query,
        baseline: Baseline,
    },
    Distribution {
        query: Query,
        shift: Shift,
    },
    /// Two SQL sources keyed by the same id, both sorted by their first column.
    Consistency {
        left: SqlQuery,
        right: SqlQuery,
        /// The compared fields: the columns after the key, in order.
        fields: Vec<String>,
        /// Mismatches listed (all are counted).
        listed: usize,
        /// How the key is masked outside a handler's detail view (besides any long number).
        key_mask: Option<MaskAs>,
    },
}

impl Rule {
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::Threshold { .. } => "threshold",
            Rule::Baseline { .. } => "baseline",
            Rule::Distribution { .. } => "distribution",
            Rule::Consistency { .. } => "consistency",
        }
    }

    /// The sources it reads, by name.
    pub fn sources(&self) -> Vec<String> {
        match self {
            Rule::Threshold { query, .. }
            | Rule::Baseline { query, .. }
            | Rule::Distribution { query, .. } => vec![query.source_name()],
            Rule::Consistency { left, right, .. } => {
                vec![
                    left.source.name().to_string(),
                    right.source.name().to_string(),
                ]
            }
        }
    }
}

/// Where a threshold, baseline or distribution reads its numbers.
#[derive(Debug)]
pub enum Query {
    Sql(SqlQuery),
    /// Documents of an Elasticsearch source counted (or grouped by a field).
    Es(EsQuery),
    /// A JSON document over HTTP(S), the number at `pointer`.
    Http(HttpQuery),
}

impl Query {
    pub fn source_name(&self) -> String {
        match self {
            Query::Sql(q) => q.source.name().to_string(),
            Query::Es(q) => q.source.name().to_string(),
            Query::Http(q) => q.url.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SqlQuery {
    pub source: SqlSource,
    pub statement: Named,
}

#[derive(Debug, Clone)]
pub struct EsQuery {
    pub source: ElasticsearchSource,
    /// A query string in Lucene syntax, as Kibana's search bar takes it (blank: everything).
    pub query: String,
    /// Count over the last `window` up to now; `None`: the day measured so far (from its
    /// local midnight to its time of day now), as a baseline compares days.
    pub window: Option<Duration>,
    /// Group by this field (a distribution).
    pub group_by: Option<String>,
}

#[derive(Debug, Clone)]
pub struct HttpQuery {
    pub url: String,
    /// A JSON pointer (`/data/count`); empty for the whole document.
    pub pointer: String,
}

/// `[alert]`: what a firing monitor does besides recording and mailing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertPolicy {
    /// The system of the parent incident it opens (a configured system key).
    pub system: Option<String>,
    /// The parent incident's priority (default P2).
    pub priority: Option<Priority>,
    /// Open the parent incident as soon as it fires, rather than when a handler says so.
    pub open_ticket: bool,
    /// Mail these addresses instead of `notify.smtp.to`.
    pub mail_to: Vec<String>,
    pub link: LinkPolicy,
}

/// `[alert.link]`: which later tickets are about the same problem as the alert's incident.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinkPolicy {
    /// Link matching tickets to the parent as they are submitted; otherwise they are only
    /// offered to the handler.
    pub auto: bool,
    /// A ticket whose customer account appears in the alert's rows matches.
    pub accounts: bool,
    /// A ticket whose title or description holds one of these matches.
    pub keywords: Vec<String>,
    /// Only tickets of this system match.
    pub system: Option<String>,
}

impl LinkPolicy {
    /// Whether it can match anything at all.
    pub fn matches_anything(&self) -> bool {
        self.accounts || !self.keywords.is_empty()
    }
}

/// A monitor file refused at load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub name: String,
    /// `file:line: what is wrong`.
    pub error: String,
}

/// Every monitor loaded, and the files refused. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Book {
    pub monitors: Vec<Arc<Monitor>>,
    pub broken: Vec<Broken>,
}

impl Book {
    /// The monitors of `dir` (none when it does not exist), their sources from `lookups`.
    pub fn load(dir: &Path, lookups: &Lookups, systems: &[&str]) -> Book {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Book::default();
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("toml"))
            .collect();
        paths.sort();
        paths.into_iter().fold(Book::default(), |book, path| {
            book.merged(Book::load_file(&path, lookups, systems))
        })
    }

    /// The monitor of one file.
    pub fn load_file(path: &Path, lookups: &Lookups, systems: &[&str]) -> Book {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let file = path.display().to_string();
        let loaded =
            read_capped(path).and_then(|text| parse(&name, &file, &text, lookups, systems));
        let mut book = Book::default();
        book.add(name, loaded);
        book
    }

    /// Monitors from texts in memory (`(name, text)`): the demo's, built into the binary.
    pub fn from_texts(texts: &[(&str, &str)], lookups: &Lookups, systems: &[&str]) -> Book {
        let mut book = Book::default();
        for (name, text) in texts {
            let file = format!("fixtures/monitors/{name}.toml");
            book.add(name.to_string(), parse(name, &file, text, lookups, systems));
        }
        book
    }

    /// This book with `other`'s monitors whose names are not taken here.
    pub fn merged(mut self, other: Book) -> Book {
        for m in other.monitors {
            if self.get(&m.name).is_none() {
                self.monitors.push(m);
            }
        }
        for b in other.broken {
            if self.get(&b.name).is_none() && !self.broken.iter().any(|x| x.name == b.name) {
                self.broken.push(b);
            }
        }
        self.monitors.sort_by(|a, b| a.name.cmp(&b.name));
        self
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Monitor>> {
        self.monitors.iter().find(|m| m.name == name)
    }

    fn add(&mut self, name: String, loaded: Result<Monitor, String>) {
        match loaded {
            Ok(m) => self.monitors.push(Arc::new(m)),
            Err(error) => {
                tracing::warn!(monitor = %name, %error, "monitor refused");
                self.broken.push(Broken { name, error });
            }
        }
    }
}

fn read_capped(path: &Path) -> Result<String, String> {
    let file = path.display();
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{file}: {e}"))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(format!(
            "{file}: {len} bytes, over the {MAX_FILE_BYTES} a monitor file may hold"
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("{file}: {e}"))
}

/// A monitor file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    title: String,
    /// The title in English, where summaries say it (default: the title).
    #[serde(default)]
    title_en: Option<String>,
    schedule: Spanned<String>,
    #[serde(default)]
    timeout: Option<Spanned<String>>,
    #[serde(default = "enabled")]
    enabled: bool,
    #[serde(default)]
    query: Option<Spanned<QueryFile>>,
    #[serde(default)]
    threshold: Option<Spanned<Threshold>>,
    #[serde(default)]
    baseline: Option<Spanned<Baseline>>,
    #[serde(default)]
    distribution: Option<Spanned<Shift>>,
    #[serde(default)]
    consistency: Option<Spanned<ConsistencyFile>>,
    #[serde(default)]
    alert: Option<Spanned<AlertPolicy>>,
}

fn enabled() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryFile {
    /// A `[[logs.sources]]` of kind `sql`, with `sql`.
    source: Option<String>,
    sql: Option<String>,
    /// Or, with an Elasticsearch source, the documents counted: a query string.
    count: Option<String>,
    /// The window counted up to now (`1h`); default: the day so far.
    window: Option<String>,
    /// A distribution's field (a terms aggregation).
    group_by: Option<String>,
    /// Or a JSON document, with `pointer`.
    url: Option<String>,
    #[serde(default)]
    pointer: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyFile {
    fields: Vec<String>,
    /// What the key holds, when it is customer data: `account`, `phone`, `id_number`, `name`.
    #[serde(default)]
    mask_key: Option<String>,
    #[serde(default)]
    listed: Option<usize>,
    left: Spanned<SideFile>,
    right: Spanned<SideFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SideFile {
    source: String,
    sql: String,
}

/// A refusal at a byte of the text.
struct At(usize, String);

fn parse(
    name: &str,
    file: &str,
    text: &str,
    lookups: &Lookups,
    systems: &[&str],
) -> Result<Monitor, String> {
    let located = |At(offset, message): At| {
        let (line, _) = crate::config::line_col(text, offset);
        format!("{file}:{line}: {message}")
    };
    let name_ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !name_ok {
        return Err(format!(
            "{file}: the name '{name}' (the file's name) must be 1 to {MAX_NAME_CHARS} of a-z, 0-9, - and _"
        ));
    }
    let f: File = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        located(At(offset, e.message().trim().to_string()))
    })?;
    build(name, file, f, lookups, systems).map_err(located)
}

fn build(
    name: &str,
    file: &str,
    f: File,
    lookups: &Lookups,
    systems: &[&str],
) -> Result<Monitor, At> {
    if f.title.trim().is_empty() {
        return Err(At(0, "title: give the monitor a title".into()));
    }
    let schedule = Schedule::parse(f.schedule.get_ref())
        .map_err(|e| At(f.schedule.span().start, format!("schedule: {e}")))?;
    let timeout = match &f.timeout {
        None => DEFAULT_TIMEOUT,
        Some(t) => crate::config::parse_duration(t.get_ref())
            .filter(|s| (1..=MAX_TIMEOUT_SECS).contains(s))
            .map(|s| Duration::from_secs(s.unsigned_abs()))
            .ok_or_else(|| {
                At(
                    t.span().start,
                    format!("timeout: '{}' must be a duration of 1s to 10m", t.get_ref()),
                )
            })?,
    };
    let kinds = [
        f.threshold.as_ref().map(|s| s.span().start),
        f.baseline.as_ref().map(|s| s.span().start),
        f.distribution.as_ref().map(|s| s.span().start),
        f.consistency.as_ref().map(|s| s.span().start),
    ];
    let given: Vec<usize> = kinds.iter().flatten().copied().collect();
    if given.len() != 1 {
        return Err(At(
            given.get(1).copied().unwrap_or(0),
            "give exactly one rule: [threshold], [baseline], [distribution] or [consistency]"
                .into(),
        ));
    }
    let query = |q: &Option<Spanned<QueryFile>>| -> Result<Query, At> {
        let q = q.as_ref().ok_or_else(|| {
            At(
                0,
                "[query]: this rule reads its numbers from a [query] (source and sql, or url and pointer)"
                    .into(),
            )
        })?;
        build_query(q, lookups)
    };
    let rule = if let Some(t) = f.threshold {
        let at = t.span().start;
        let threshold = t.into_inner();
        threshold
            .check()
            .map_err(|e| At(at, format!("threshold: {e}")))?;
        let query = query(&f.query)?;
        if matches!(&query, Query::Es(q) if q.group_by.is_some()) {
            return Err(At(at, "threshold: group_by is for a [distribution]".into()));
        }
        Rule::Threshold { query, threshold }
    } else if let Some(b) = f.baseline {
        let at = b.span().start;
        let baseline = b.into_inner();
        baseline
            .check()
            .map_err(|e| At(at, format!("baseline: {e}")))?;
        let query = by_day(query(&f.query)?, "baseline", at)?;
        if matches!(&query, Query::Es(q) if q.group_by.is_some()) {
            return Err(At(at, "baseline: group_by is for a [distribution]".into()));
        }
        Rule::Baseline { query, baseline }
    } else if let Some(d) = f.distribution {
        let at = d.span().start;
        let shift = d.into_inner();
        shift
            .check()
            .map_err(|e| At(at, format!("distribution: {e}")))?;
        let query = by_day(query(&f.query)?, "distribution", at)?;
        if let Query::Es(q) = &query
            && q.group_by.is_none()
        {
            return Err(At(
                at,
                "distribution: an Elasticsearch count is grouped by a field: give group_by".into(),
            ));
        }
        Rule::Distribution { query, shift }
    } else if let Some(c) = f.consistency {
        let at = c.span().start;
        if let Some(q) = &f.query {
            return Err(At(
                q.span().start,
                "[query]: a consistency check reads [consistency.left] and [consistency.right]"
                    .into(),
            ));
        }
        let c = c.into_inner();
        if c.fields.is_empty() || c.fields.iter().any(|f| f.trim().is_empty()) {
            return Err(At(
                at,
                "consistency.fields: name the compared fields, the columns after the key".into(),
            ));
        }
        let listed = c.listed.unwrap_or(DEFAULT_LISTED);
        if !(1..=MAX_LISTED).contains(&listed) {
            return Err(At(
                at,
                format!("consistency.listed: {listed} must be 1 to {MAX_LISTED}"),
            ));
        }
        let side = |s: &Spanned<SideFile>, key: &str| {
            let at = s.span().start;
            sql_query(&s.get_ref().source, &s.get_ref().sql, lookups)
                .map_err(|e| At(at, format!("consistency.{key}: {e}")))
        };
        let key_mask = match &c.mask_key {
            None => None,
            Some(word) => Some(MaskAs::parse(word).ok_or_else(|| {
                At(
                    at,
                    format!(
                        "consistency.mask_key: '{word}' is none of account, phone, id_number, name"
                    ),
                )
            })?),
        };
        Rule::Consistency {
            left: side(&c.left, "left")?,
            right: side(&c.right, "right")?,
            fields: c.fields,
            listed,
            key_mask,
        }
    } else {
        return Err(At(
            0,
            "give a rule: [threshold], [baseline], [distribution] or [consistency]".into(),
        ));
    };
    let alert_at = f.alert.as_ref().map_or(0, |a| a.span().start);
    let alert = f.alert.map(Spanned::into_inner).unwrap_or_default();
    for (key, system) in [
        ("alert.system", &alert.system),
        ("alert.link.system", &alert.link.system),
    ] {
        if let Some(system) = system
            && !systems.contains(&system.as_str())
        {
            return Err(At(
                alert_at,
                format!(
                    "{key}: '{system}' is not a configured system (there are: {})",
                    systems.join(", ")
                ),
            ));
        }
    }
    if alert.open_ticket && alert.system.is_none() {
        return Err(At(
            alert_at,
            "alert.system: the parent incident it opens needs a system".into(),
        ));
    }
    if alert.link.auto && !alert.link.matches_anything() {
        return Err(At(
            alert_at,
            "alert.link: auto linking needs accounts = true or keywords to match tickets by".into(),
        ));
    }
    if let Some(bad) = alert.mail_to.iter().find(|a| !a.contains('@')) {
        return Err(At(
            alert_at,
            format!("alert.mail_to: '{bad}' is not an email address"),
        ));
    }
    Ok(Monitor {
        name: name.to_string(),
        title_en: f
            .title_en
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| f.title.trim().to_string()),
        title: f.title.trim().to_string(),
        file: file.to_string(),
        schedule,
        timeout,
        enabled: f.enabled,
        rule,
        alert,
    })
}

/// A rule that compares days reads each day through `:day` (or `:until`) in its SQL.
fn by_day(query: Query, rule: &str, at: usize) -> Result<Query, At> {
    let measures_a_day = match &query {
        Query::Sql(q) => q
            .statement
            .uses()
            .iter()
            .any(|p| *p == "day" || *p == "until"),
        Query::Es(q) => q.window.is_none(),
        Query::Http(_) => false,
    };
    if measures_a_day {
        Ok(query)
    } else {
        Err(At(
            at,
            format!(
                "{rule}: it compares today with past weeks, so its [query] reads the day measured: sql through :day (or :until), or an Elasticsearch count without a window"
            ),
        ))
    }
}

fn build_query(q: &Spanned<QueryFile>, lookups: &Lookups) -> Result<Query, At> {
    let at = q.span().start;
    let q = q.get_ref();
    if let (Some(name), Some(Source::Elasticsearch(es))) =
        (&q.source, q.source.as_deref().and_then(|n| lookups.get(n)))
    {
        return es_query(name, es, q).map_err(|e| At(at, format!("query: {e}")));
    }
    if q.count.is_some() || q.window.is_some() || q.group_by.is_some() {
        return Err(At(
            at,
            "query: count, window and group_by read an Elasticsearch source".into(),
        ));
    }
    match (&q.source, &q.sql, &q.url) {
        (Some(source), Some(sql), None) => sql_query(source, sql, lookups)
            .map(Query::Sql)
            .map_err(|e| At(at, format!("query: {e}"))),
        (None, None, Some(url)) => {
            let parsed = reqwest::Url::parse(url)
                .map_err(|e| At(at, format!("query.url: '{url}' is not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(At(at, format!("query.url: '{url}' is not http or https")));
            }
            if !(q.pointer.is_empty() || q.pointer.starts_with('/')) {
                return Err(At(
                    at,
                    format!(
                        "query.pointer: '{}' is not a JSON pointer (it starts with /)",
                        q.pointer
                    ),
                ));
            }
            Ok(Query::Http(HttpQuery {
                url: url.clone(),
                pointer: q.pointer.clone(),
            }))
        }
        _ => Err(At(
            at,
            "query: give source and sql (a database), or url and pointer (a JSON document)".into(),
        )),
    }
}

fn es_query(name: &str, es: &ElasticsearchSource, q: &QueryFile) -> Result<Query, String> {
    if q.sql.is_some() || q.url.is_some() {
        return Err(format!(
            "'{name}' is an Elasticsearch source: give count (a query string), not sql or url"
        ));
    }
    let Some(query) = q.count.clone() else {
        return Err(format!(
            "'{name}' is an Elasticsearch source: give count, the query string of the documents counted (\"\" for all)"
        ));
    };
    let window = match &q.window {
        None => None,
        Some(w) => Some(
            crate::config::parse_duration(w)
                .filter(|s| (60..=31 * 86_400).contains(s))
                .map(|s| Duration::from_secs(s.unsigned_abs()))
                .ok_or_else(|| format!("window '{w}' must be a duration of 1m to 31 days"))?,
        ),
    };
    if let Some(field) = &q.group_by
        && (field.trim().is_empty()
            || field.chars().count() > crate::lookups::elasticsearch::MAX_FIELD_CHARS)
    {
        return Err("group_by: name the field the documents are grouped by".into());
    }
    Ok(Query::Es(EsQuery {
        source: es.clone(),
        query,
        window,
        group_by: q.group_by.clone(),
    }))
}

fn sql_query(source: &str, sql: &str, lookups: &Lookups) -> Result<SqlQuery, String> {
    let found = match lookups.get(source) {
        Some(Source::Sql(s)) => s.clone(),
        Some(_) => {
            return Err(format!(
                "the source '{source}' holds log lines; a monitor's sql reads a database source"
            ));
        }
        None => {
            return Err(format!(
                "no [[logs.sources]] is named '{source}' (kind = \"sql\")"
            ));
        }
    };
    let statement = found
        .statement(sql, &PARAMETERS)
        .map_err(|e| format!("the sql {e}"))?;
    Ok(SqlQuery {
        source: found,
        statement,
    })
}

#[cfg(test)]
mod tests;
