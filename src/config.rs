//! `opsdesk.toml`: every key optional, unknown keys refused with the file and line.
//!
//! The file is read once at start-up into [`Config`] (the raw shape, all defaults filled in)
//! and turned into [`Settings`] (ready-made calendar, SLA policy and systems) that the server
//! and the CLI share. README.md lists every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::construct::config::{ConstructConfig, Construction};
use crate::domain::calendar::{BusinessCalendar, CalendarError, WorkingHours};
use crate::domain::sla::{ClockKind, SlaPolicy, SlaTarget};
use crate::domain::ticket::Priority;
use crate::lookups::config::LogsConfig;
use crate::lookups::sources::Lookups;
use crate::monitor::config::{Book, MonitorsConfig};

/// The systems shipped as the default configuration (the ten core systems of the demo).
const DEFAULT_SYSTEMS: &str = include_str!("../fixtures/systems.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// A value that parses but cannot work; `at` is `file:line` when the key's line is known.
    #[error("{at}: {message}")]
    Invalid { at: String, message: String },
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The file's text, kept so a refused value can be reported with its line.
    #[serde(skip)]
    source: String,
    pub server: ServerConfig,
    pub client: ClientConfig,
    pub tui: TuiConfig,
    pub business: BusinessConfig,
    pub sla: SlaConfig,
    /// Replaces the default ten systems when present.
    pub system: Vec<SystemDef>,
    pub notify: NotifyConfig,
    pub mss: MssConfig,
    /// `[[logs.sources]]`: where lookups find a customer's log lines.
    pub logs: LogsConfig,
    /// `[construct]`: recipes and the UAT environments they build accounts in.
    pub construct: ConstructConfig,
    /// `[monitors]`: where the monitor files are, and how many run at once.
    pub monitors: MonitorsConfig,
}

/// `[mss]`: the submitters' pages. Durations are written like `15m`, `2h`, `1h30m`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MssConfig {
    /// A session unused this long ends.
    pub session_idle: String,
    /// A session ends this long after login however busy it is.
    pub session_max: String,
    /// Wrong passwords in a row for one username from one client address before that pair
    /// is locked (the same username from elsewhere is not).
    pub lockout_after: u32,
    /// The first lock; each further wrong password doubles it, up to a day.
    pub lockout: String,
    /// Wrong passwords in a row for one username from anywhere before the username itself is
    /// locked: a ceiling high enough that an attacker cannot lock a user out cheaply, while a
    /// guesser spread over many addresses is still stopped.
    pub login_failures_per_username: u32,
    /// Screenshots per submission or reply.
    pub max_screenshots: usize,
    /// Marks the session cookie `Secure`. Defaults to on when `notify.public_url` is https
    /// (opsdesk behind a TLS-terminating proxy); plain-HTTP loopback needs it off.
    pub secure_cookies: Option<bool>,
    /// Distinct usernames one client address may give wrong passwords for within
    /// `login_window` before it has to wait (password spraying). One colleague behind a
    /// branch's NAT mistyping again and again counts once. Formerly
    /// `login_failures_per_address`, still read.
    #[serde(alias = "login_failures_per_address")]
    pub login_usernames_per_address: u32,
    pub login_window: String,
    /// Take the client address from the last `X-Forwarded-For` entry (opsdesk behind one
    /// reverse proxy that appends it); otherwise every client would share the proxy's.
    pub behind_proxy: bool,
}

impl Default for MssConfig {
    fn default() -> Self {
        Self {
            session_idle: "2h".into(),
            session_max: "12h".into(),
            lockout_after: 5,
            lockout: "5m".into(),
            login_failures_per_username: 100,
            max_screenshots: 5,
            secure_cookies: None,
            login_usernames_per_address: 30,
            login_window: "15m".into(),
            behind_proxy: false,
        }
    }
}

/// [`MssConfig`] checked and in the units the pages use.
#[derive(Debug, Clone)]
pub struct MssSettings {
    pub session_idle: chrono::Duration,
    pub session_max: chrono::Duration,
    pub lockout_after: u32,
    pub lockout: chrono::Duration,
    pub login_failures_per_username: u32,
    pub max_screenshots: usize,
    pub secure_cookies: bool,
    pub login_usernames_per_address: u32,
    pub login_window: std::time::Duration,
    pub behind_proxy: bool,
}

impl MssConfig {
    fn settings(&self, public_url: Option<&str>) -> Result<MssSettings, String> {
        let duration = |field: &str, v: &str| {
            parse_duration(v)
                .filter(|s| *s > 0)
                .map(chrono::Duration::seconds)
                .ok_or_else(|| format!("mss.{field}: '{v}' is not a duration such as 15m or 2h"))
        };
        in_range("mss.lockout_after", self.lockout_after.into(), 1, 1000)?;
        in_range("mss.max_screenshots", self.max_screenshots as u64, 0, 20)?;
        in_range(
            "mss.login_usernames_per_address",
            self.login_usernames_per_address.into(),
            1,
            100_000,
        )?;
        in_range(
            "mss.login_failures_per_username",
            self.login_failures_per_username.into(),
            u64::from(self.lockout_after),
            1_000_000,
        )?;
        Ok(MssSettings {
            session_idle: duration("session_idle", &self.session_idle)?,
            session_max: duration("session_max", &self.session_max)?,
            lockout_after: self.lockout_after,
            lockout: duration("lockout", &self.lockout)?,
            login_failures_per_username: self.login_failures_per_username,
            max_screenshots: self.max_screenshots,
            secure_cookies: self
                .secure_cookies
                .unwrap_or_else(|| public_url.is_some_and(|u| u.starts_with("https://"))),
            login_usernames_per_address: self.login_usernames_per_address,
            login_window: duration("login_window", &self.login_window)?
                .to_std()
                .map_err(|e| e.to_string())?,
            behind_proxy: self.behind_proxy,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub data_dir: Option<PathBuf>,
    pub max_body_bytes: usize,
    pub max_upload_bytes: usize,
    pub request_timeout_secs: u64,
    pub header_read_timeout_secs: u64,
    pub max_concurrent_requests: usize,
    pub max_event_streams: usize,
    pub sse_heartbeat_secs: u64,
    /// Requests in flight on the pages anyone may call before logging in (the MSS login,
    /// its assets): their own budget, so a flood of them never starves the API.
    pub max_concurrent_public: usize,
    /// A request body must keep arriving at this average rate (after a short grace), or the
    /// request is cut with 408: a body trickled a byte a second would hold its slot for the
    /// whole request timeout.
    pub min_body_bytes_per_sec: u64,
    /// Largest picture accepted, in pixels (width × height), checked from the header.
    pub max_image_pixels: u64,
    /// Decoded pixel memory all uploads together may hold at once, in MiB.
    pub image_decode_memory_mib: u64,
    /// How long an upload waits for decode memory before it is answered 503.
    pub image_decode_wait_ms: u64,
    /// Who may read `/metrics`: a handler's or admin's token (default), or anyone.
    pub metrics: Exposure,
    /// Who may read `/api/v1/openapi.json`: any valid token (default), or anyone.
    pub openapi: Exposure,
}

/// Who may read a description of the server that the MSS pages' port would otherwise show to
/// the internet: the counters say how busy the desk is, the API description what to probe.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Exposure {
    /// Only with `Authorization: Bearer <token>`.
    #[default]
    Token,
    /// Anyone who reaches the port (a scraper on a private network, a docs page).
    Public,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
            data_dir: None,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 10 * 1024 * 1024,
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            max_concurrent_requests: 256,
            max_event_streams: 512,
            sse_heartbeat_secs: 15,
            max_concurrent_public: 32,
            min_body_bytes_per_sec: 1024,
            max_image_pixels: 40_000_000,
            image_decode_memory_mib: 384,
            image_decode_wait_ms: 2000,
            metrics: Exposure::Token,
            openapi: Exposure::Token,
        }
    }
}

impl ServerConfig {
    /// Refuses values a server cannot work with (a zero timeout answers every request 408, zero
    /// streams refuses every workstation, a zero body limit refuses every write).
    fn check(&self) -> Result<(), String> {
        const KIB: u64 = 1024;
        const MIB: u64 = 1024 * KIB;
        in_range(
            "server.max_body_bytes",
            self.max_body_bytes as u64,
            16 * KIB,
            64 * MIB,
        )?;
        in_range(
            "server.max_upload_bytes",
            self.max_upload_bytes as u64,
            64 * KIB,
            512 * MIB,
        )?;
        in_range(
            "server.request_timeout_secs",
            self.request_timeout_secs,
            1,
            3600,
        )?;
        in_range(
            "server.header_read_timeout_secs",
            self.header_read_timeout_secs,
            1,
            600,
        )?;
        in_range(
            "server.max_concurrent_requests",
            self.max_concurrent_requests as u64,
            1,
            100_000,
        )?;
        in_range(
            "server.max_event_streams",
            self.max_event_streams as u64,
            1,
            100_000,
        )?;
        in_range(
            "server.sse_heartbeat_secs",
            self.sse_heartbeat_secs,
            1,
            3600,
        )?;
        in_range(
            "server.max_concurrent_public",
            self.max_concurrent_public as u64,
            1,
            100_000,
        )?;
        in_range(
            "server.min_body_bytes_per_sec",
            self.min_body_bytes_per_sec,
            1,
            100 * MIB,
        )?;
        in_range(
            "server.max_image_pixels",
            self.max_image_pixels,
            1_000_000,
            500_000_000,
        )?;
        in_range(
            "server.image_decode_memory_mib",
            self.image_decode_memory_mib,
            16,
            65_536,
        )?;
        in_range(
            "server.image_decode_wait_ms",
            self.image_decode_wait_ms,
            0,
            60_000,
        )?;
        // The largest accepted picture must fit the budget alone, or it could never be decoded.
        let largest = self.max_image_pixels * crate::domain::images::MAX_BYTES_PER_PIXEL;
        if self.image_decode_memory_mib * MIB < largest {
            return Err(format!(
                "server.image_decode_memory_mib: {} MiB cannot hold one picture of server.max_image_pixels = {} ({} MiB decoded); raise it or lower max_image_pixels",
                self.image_decode_memory_mib,
                self.max_image_pixels,
                largest.div_ceil(MIB)
            ));
        }
        Ok(())
    }
}

/// `key: N is outside lo–hi` unless `lo <= value <= hi`.
fn in_range(key: &str, value: u64, lo: u64, hi: u64) -> Result<(), String> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{key}: {value} is outside the working range {lo}–{hi}"
        ))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientConfig {
    pub server: Option<String>,
    pub token: Option<String>,
}

/// The workstation's look and keys; `keymap.toml` and `theme.toml` in the config dir are laid
/// over these.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TuiConfig {
    /// A shipped keymap preset: `default` (vim-like) or `emacs`.
    pub keymap: Option<String>,
    /// A shipped theme (`default`, `dark`, `light`, `high-contrast`, `mono`) or a theme file.
    pub theme: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusinessConfig {
    pub timezone: String,
    /// Working hours as `"HH:MM-HH:MM"` ranges, e.g. `["08:30-12:00", "13:00-17:30"]`.
    pub working_hours: Vec<String>,
    /// Extra holiday calendars (same format as `fixtures/calendar/*.toml`), applied over the
    /// shipped ones, so an official notice can correct or extend them without a release.
    pub calendar_files: Vec<PathBuf>,
}

impl Default for BusinessConfig {
    fn default() -> Self {
        Self {
            timezone: "Asia/Shanghai".into(),
            working_hours: BusinessCalendar::default_hours()
                .iter()
                .map(|h| format!("{}-{}", h.start.format("%H:%M"), h.end.format("%H:%M")))
                .collect(),
            calendar_files: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaConfig {
    pub due_soon_percent: Option<u8>,
    #[serde(rename = "P1")]
    pub p1: Option<SlaTargetConfig>,
    #[serde(rename = "P2")]
    pub p2: Option<SlaTargetConfig>,
    #[serde(rename = "P3")]
    pub p3: Option<SlaTargetConfig>,
    #[serde(rename = "P4")]
    pub p4: Option<SlaTargetConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTargetConfig {
    /// A duration such as `"15m"`, `"4h"`, `"1h30m"`.
    pub first_response: Option<String>,
    pub resolve: Option<String>,
    pub clock: Option<ClockKind>,
}

/// One configured system; tickets hold its `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemDef {
    pub key: String,
    pub name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SystemsFile {
    system: Vec<SystemDef>,
}

/// `[notify]`: where notifications of new tickets, replies, resolutions and follow-ups go.
/// Every channel is optional; with none configured nothing is queued.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// The server's address as people reach it, for links in messages (`http(s)://…`).
    pub public_url: Option<String>,
    pub smtp: Option<SmtpConfig>,
    pub wecom: Option<WecomConfig>,
    pub webhooks: Vec<WebhookConfig>,
    /// How long one delivery may take before it counts as failed.
    pub timeout: String,
    /// The first retry waits this long; each further one twice as long as the one before.
    pub retry_base: String,
    /// The longest wait between two attempts.
    pub retry_max: String,
    /// A notification still undelivered this long after it was queued is given up (and kept,
    /// with its last error, for the record).
    pub give_up_after: String,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            public_url: None,
            smtp: None,
            wecom: None,
            webhooks: Vec::new(),
            timeout: "5s".into(),
            retry_base: "5s".into(),
            retry_max: "10m".into(),
            give_up_after: "24h".into(),
        }
    }
}

/// `[notify.smtp]`: mail to the handlers' address(es) for new tickets and follow-ups.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// Default: 25 without TLS, 587 with STARTTLS, 465 with implicit TLS.
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: SmtpTls,
    pub from: String,
    pub to: Vec<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text; for a relay on loopback or a trusted segment only.
    None,
    /// Plain connection upgraded with STARTTLS, which is required.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

impl SmtpConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        })
    }
}

/// `[notify.wecom]`: a WeCom (企业微信) group robot's webhook address.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WecomConfig {
    pub url: String,
}

/// `[[notify.webhooks]]`: a generic JSON webhook.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
}

/// The validated `[notify]` section: URLs checked, durations parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifySettings {
    /// Without a trailing slash.
    pub public_url: Option<String>,
    pub smtp: Option<SmtpConfig>,
    pub wecom: Option<String>,
    pub webhooks: Vec<String>,
    pub timeout: std::time::Duration,
    pub retry: crate::domain::notify::RetryPolicy,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifyConfig::default()
            .settings()
            .expect("the built-in notify defaults are valid")
    }
}

impl NotifySettings {
    /// Whether any channel is configured: without one, nothing is queued.
    pub fn any_channel(&self) -> bool {
        self.smtp.is_some() || self.wecom.is_some() || !self.webhooks.is_empty()
    }
}

impl NotifyConfig {
    fn settings(&self) -> Result<NotifySettings, String> {
        let duration = |key: &str, v: &str| {
            parse_duration(v)
                .map(|s| std::time::Duration::from_secs(s.unsigned_abs()))
                .ok_or_else(|| {
                    format!("notify.{key}: '{v}' is not a duration such as 5s, 10m or 24h")
                })
        };
        let timeout = duration("timeout", &self.timeout)?;
        let retry = crate::domain::notify::RetryPolicy {
            base: duration("retry_base", &self.retry_base)?,
            max: duration("retry_max", &self.retry_max)?,
            give_up_after: duration("give_up_after", &self.give_up_after)?,
        };
        if retry.max < retry.base {
            return Err("notify.retry_max is shorter than notify.retry_base".into());
        }
        let public_url = self
            .public_url
            .as_deref()
            .map(|u| {
                check_http_url("notify.public_url", u).map(|u| u.trim_end_matches('/').to_string())
            })
            .transpose()?;
        let wecom = self
            .wecom
            .as_ref()
            .map(|w| check_http_url("notify.wecom.url", &w.url))
            .transpose()?;
        let webhooks = self
            .webhooks
            .iter()
            .map(|w| check_http_url("notify.webhooks.url", &w.url))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(smtp) = &self.smtp {
            check_smtp(smtp)?;
        }
        Ok(NotifySettings {
            public_url,
            smtp: self.smtp.clone(),
            wecom,
            webhooks,
            timeout,
            retry,
        })
    }
}

/// An endpoint address must be an absolute `http` or `https` URL with a host; nothing else
/// (file:, ftp:, a bare path) is ever fetched.
fn check_http_url(key: &str, url: &str) -> Result<String, String> {
    let url = url.trim();
    let parsed =
        reqwest::Url::parse(url).map_err(|e| format!("{key}: '{url}' is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "{key}: '{url}' must start with http:// or https://"
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{key}: '{url}' names no host"));
    }
    Ok(url.to_string())
}

fn check_smtp(smtp: &SmtpConfig) -> Result<(), String> {
    if smtp.host.trim().is_empty() {
        return Err("notify.smtp.host is empty".into());
    }
    let mailbox = |key: &str, v: &str| {
        v.parse::<lettre::message::Mailbox>()
            .map(drop)
            .map_err(|e| format!("notify.smtp.{key}: '{v}' is not an e-mail address: {e}"))
    };
    mailbox("from", &smtp.from)?;
    if smtp.to.is_empty() {
        return Err("notify.smtp.to: name at least one address".into());
    }
    for to in &smtp.to {
        mailbox("to", to)?;
    }
    if smtp.username.is_some() != smtp.password.is_some() {
        return Err("notify.smtp: give both username and password, or neither".into());
    }
    // A password must never cross a network in clear; loopback (a local relay) is the exception.
    let loopback = smtp.host == "localhost"
        || smtp
            .host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if smtp.tls == SmtpTls::None && smtp.password.is_some() && !loopback {
        return Err(format!(
            "notify.smtp: a password with tls = \"none\" would cross the network in clear; use \"starttls\" or \"tls\" for {}",
            smtp.host
        ));
    }
    Ok(())
}

/// What the running program works with, derived once from [`Config`].
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerConfig,
    pub client: ClientConfig,
    pub tui: TuiConfig,
    pub calendar: BusinessCalendar,
    pub sla: SlaPolicy,
    pub systems: Vec<SystemDef>,
    pub notify: NotifySettings,
    pub mss: MssSettings,
    /// The log sources lookups search (none configured: lookups say so).
    pub lookups: Lookups,
    /// Recipes and UAT environments for account construction.
    pub construct: Construction,
    /// The proactive monitors loaded, and the files refused.
    pub monitors: Book,
    /// Monitors the scheduler evaluates at once.
    pub monitor_concurrency: usize,
}

impl Settings {
    pub fn system_keys(&self) -> Vec<&str> {
        self.systems.iter().map(|s| s.key.as_str()).collect()
    }

    /// The system's display name (its key when it is not configured).
    pub fn system_name<'a>(&'a self, key: &'a str) -> &'a str {
        self.systems
            .iter()
            .find(|s| s.key == key)
            .map_or(key, |s| s.name.as_str())
    }

    /// These settings with every notification channel removed: for replaying history (the
    /// demo loader, the ITSM import), which must not page anyone.
    pub fn without_notifications(&self) -> Settings {
        Settings {
            notify: NotifySettings {
                smtp: None,
                wecom: None,
                webhooks: Vec::new(),
                ..self.notify.clone()
            },
            ..self.clone()
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Config::default()
            .settings(Path::new("<defaults>"))
            .expect("the built-in defaults are valid")
    }
}

impl Config {
    /// Reads `path`. A missing file is an error only when `required` (the user named it).
    pub fn load(path: &Path, required: bool) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                Ok(Config::default())
            }
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.source = text.to_string();
        Ok(config)
    }

    /// A refused value, located: every message starts with the dotted key it is about
    /// (`server.max_body_bytes: …`), and that key's line in the file is added when it is there.
    fn invalid(&self, path: &Path, message: String) -> ConfigError {
        let key = message
            .split([':', ' '])
            .next()
            .unwrap_or_default()
            .trim_end_matches(':');
        // A key still read under its former name is found under that name too.
        let line = key_line(&self.source, key).or_else(|| {
            FORMER_NAMES
                .iter()
                .find(|(now, _)| *now == key)
                .and_then(|(_, former)| key_line(&self.source, former))
        });
        let at = match line {
            Some(line) => format!("{}:{line}", path.display()),
            None => path.display().to_string(),
        };
        ConfigError::Invalid { at, message }
    }

    /// Builds the calendar, SLA policy and systems, reading any extra calendar files.
    pub fn settings(&self, path: &Path) -> Result<Settings, ConfigError> {
        let invalid = |message: String| self.invalid(path, message);
        self.server.check().map_err(invalid)?;

        let tz: chrono_tz::Tz = self.business.timezone.parse().map_err(|_| {
            invalid(format!(
                "business.timezone: unknown time zone '{}'",
                self.business.timezone
            ))
        })?;
        let hours = self
            .business
            .working_hours
            .iter()
            .map(|r| {
                parse_hours(r).ok_or_else(|| {
                    invalid(format!("business.working_hours: '{r}' is not HH:MM-HH:MM"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let cal_err = |e: CalendarError| invalid(format!("business: {e}"));
        let mut calendar = BusinessCalendar::new(tz, hours).map_err(cal_err)?;
        for text in BusinessCalendar::shipped_files() {
            let file = BusinessCalendar::parse_file(text).map_err(cal_err)?;
            calendar.add_file(&file).map_err(cal_err)?;
        }
        for extra in &self.business.calendar_files {
            let text = std::fs::read_to_string(extra).map_err(|source| ConfigError::Read {
                path: extra.clone(),
                source,
            })?;
            let file = BusinessCalendar::parse_file(&text).map_err(|e| ConfigError::Parse {
                path: extra.clone(),
                message: e.to_string(),
            })?;
            calendar.add_file(&file).map_err(cal_err)?;
        }

        let mut sla = SlaPolicy::default();
        if let Some(p) = self.sla.due_soon_percent {
            if p > 100 {
                return Err(invalid(format!("sla.due_soon_percent: {p} is above 100")));
            }
            sla.set_due_soon_percent(p);
        }
        for (priority, target) in [
            (Priority::P1, &self.sla.p1),
            (Priority::P2, &self.sla.p2),
            (Priority::P3, &self.sla.p3),
            (Priority::P4, &self.sla.p4),
        ] {
            let Some(target) = target else { continue };
            let mut t: SlaTarget = sla.target(priority);
            let secs = |field: &str, v: &Option<String>| -> Result<Option<i64>, ConfigError> {
                v.as_deref()
                    .map(|s| {
                        parse_duration(s).ok_or_else(|| {
                            invalid(format!("sla.{priority}.{field}: '{s}' is not a duration such as 15m, 4h or 1h30m"))
                        })
                    })
                    .transpose()
            };
            if let Some(s) = secs("first_response", &target.first_response)? {
                t.first_response_secs = s;
            }
            if let Some(s) = secs("resolve", &target.resolve)? {
                t.resolve_secs = s;
            }
            if let Some(c) = target.clock {
                t.clock = c;
            }
            sla.set_target(priority, t);
        }

        let systems = if self.system.is_empty() {
            default_systems()
        } else {
            self.system.clone()
        };
        let mut seen = std::collections::HashSet::new();
        for s in &systems {
            let key_ok = !s.key.is_empty()
                && s.key.len() <= 32
                && s.key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !key_ok {
                return Err(invalid(format!(
                    "system.key '{}' must be 1–32 of a-z, 0-9, _",
                    s.key
                )));
            }
            if !seen.insert(s.key.as_str()) {
                return Err(invalid(format!("system.key '{}' is listed twice", s.key)));
            }
        }

        let notify = self.notify.settings().map_err(invalid)?;
        let mss = self
            .mss
            .settings(notify.public_url.as_deref())
            .map_err(invalid)?;

        let data_dir = self
            .server
            .data_dir
            .clone()
            .unwrap_or_else(default_data_dir);
        let lookups =
            Lookups::from_config(&self.logs, tz, Some(data_dir.as_path())).map_err(invalid)?;
        let recipes_dir = path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .map(|dir| dir.join("recipes"));
        let construct = Construction::from_config(&self.construct, recipes_dir).map_err(invalid)?;
        if !(1..=64).contains(&self.monitors.concurrency) {
            return Err(invalid(format!(
                "monitors.concurrency: {} is outside 1–64",
                self.monitors.concurrency
            )));
        }
        let monitors_dir = self.monitors.dir.clone().or_else(|| {
            path.parent()
                .filter(|dir| !dir.as_os_str().is_empty())
                .map(|dir| dir.join("monitors"))
        });
        let system_keys: Vec<&str> = systems.iter().map(|s| s.key.as_str()).collect();
        let monitors = monitors_dir
            .map(|dir| Book::load(&dir, &lookups, &system_keys))
            .unwrap_or_default();
        Ok(Settings {
            server: self.server.clone(),
            client: self.client.clone(),
            tui: self.tui.clone(),
            calendar,
            sla,
            systems,
            notify,
            mss,
            lookups,
            construct,
            monitors,
            monitor_concurrency: self.monitors.concurrency,
        })
    }
}

/// Keys renamed whose former names are still read (serde aliases): (name, former name).
const FORMER_NAMES: &[(&str, &str)] = &[(
    "mss.login_usernames_per_address",
    "mss.login_failures_per_address",
)];

/// The 1-based line where `dotted` (`server.max_body_bytes`, `sla.P1.resolve`) is set in a
/// TOML text: under its table header, or as a dotted key. Arrays of tables (`[[system]]`)
/// answer their first entry that sets the key. Enough for the flat files opsdesk reads.
fn key_line(text: &str, dotted: &str) -> Option<usize> {
    let mut table = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(header) = line.strip_prefix('[') {
            let name = header.trim_start_matches('[');
            let name = name.split(']').next().unwrap_or_default().trim();
            table = name.replace(['"', ' '], "");
            if table == dotted {
                return Some(i + 1);
            }
            continue;
        }
        let Some((key, _)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim().replace(['"', ' '], "");
        let full = if table.is_empty() {
            key
        } else {
            format!("{table}.{key}")
        };
        if full == dotted {
            return Some(i + 1);
        }
    }
    None
}

/// The ten core systems shipped with opsdesk.
pub fn default_systems() -> Vec<SystemDef> {
    toml::from_str::<SystemsFile>(DEFAULT_SYSTEMS)
        .map(|f| f.system)
        .expect("fixtures/systems.toml is valid (tested)")
}

/// `"08:30-17:30"` → working hours.
fn parse_hours(range: &str) -> Option<WorkingHours> {
    let (a, b) = range.split_once('-')?;
    let t = |s: &str| chrono::NaiveTime::parse_from_str(s.trim(), "%H:%M").ok();
    Some(WorkingHours {
        start: t(a)?,
        end: t(b)?,
    })
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, col)
}

/// `"1h30m"`, `"15m"`, `"45s"`, `"4h"` → seconds. Refuses empty, zero and unknown units.
pub fn parse_duration(s: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().ok()?;
        digits.clear();
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    (digits.is_empty() && total > 0).then_some(total)
}

/// Platform directories (XDG on Linux).
pub fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "opsdesk")
}

/// `opsdesk.toml` in the platform config dir.
pub fn default_config_path() -> PathBuf {
    project_dirs()
        .map(|d| d.config_dir().join("opsdesk.toml"))
        .unwrap_or_else(|| PathBuf::from("opsdesk.toml"))
}

/// The server's data dir when neither `--data`, `OPSDESK_DATA` nor the config names one.
pub fn default_data_dir() -> PathBuf {
    project_dirs()
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("opsdesk-data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mss_settings_are_checked() {
        let s = Settings::default();
        assert_eq!(s.mss.session_idle, chrono::Duration::hours(2));
        assert_eq!(s.mss.max_screenshots, 5);
        assert!(!s.mss.secure_cookies);
        for (bad, words) in [
            ("[mss]\nsession_idle = \"forever\"", "mss.session_idle"),
            ("[mss]\nlockout = \"0s\"", "mss.lockout"),
            ("[mss]\nlockout_after = 0", "mss.lockout_after"),
            ("[mss]\nmax_screenshots = 50", "mss.max_screenshots"),
        ] {
            let cfg = Config::parse(bad, Path::new("m.toml")).unwrap();
            let msg = cfg.settings(Path::new("m.toml")).unwrap_err().to_string();
            assert!(msg.contains(words), "{bad}: {msg}");
        }
        let cfg = Config::parse("[mss]\nsession_lifetime = \"1h\"", Path::new("m.toml"));
        assert!(cfg.is_err(), "unknown keys are refused");
    }

    #[test]
    fn defaults_are_valid_and_hold_ten_systems() {
        let s = Settings::default();
        assert_eq!(s.systems.len(), 10);
        assert_eq!(
            s.systems[2],
            SystemDef {
                key: "trading".into(),
                name: "交易".into()
            }
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("4h"), Some(14400));
        for bad in ["", "0m", "15", "1d", "h", "-5m", "99999999999999999999h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_key_parses() {
        let text = r#"
            [server]
            listen = "127.0.0.1:9000"
            data_dir = "/tmp/x"
            max_body_bytes = 100000
            max_upload_bytes = 200000
            request_timeout_secs = 5
            header_read_timeout_secs = 3
            max_concurrent_requests = 10
            max_event_streams = 4
            sse_heartbeat_secs = 2
            max_concurrent_public = 8
            min_body_bytes_per_sec = 512
            max_image_pixels = 12000000
            image_decode_memory_mib = 128
            image_decode_wait_ms = 0
            [client]
            server = "http://127.0.0.1:9000"
            token = "t"
            [tui]
            keymap = "emacs"
            theme = "dark"
            [business]
            timezone = "Asia/Shanghai"
            working_hours = ["09:00-12:00", "13:00-18:00"]
            [sla]
            due_soon_percent = 30
            [sla.P2]
            first_response = "20m"
            resolve = "6h"
            clock = "continuous"
            [[system]]
            key = "trading"
            name = "交易"
        "#;
        let cfg = Config::parse(text, Path::new("t.toml")).unwrap();
        let s = cfg.settings(Path::new("t.toml")).unwrap();
        assert_eq!(s.server.listen.port(), 9000);
        let p2 = s.sla.target(Priority::P2);
        assert_eq!(
            (p2.first_response_secs, p2.resolve_secs, p2.clock),
            (1200, 21600, ClockKind::Continuous)
        );
        assert_eq!(s.systems.len(), 1);
        assert_eq!(s.calendar.hours().len(), 2);
    }

    #[test]
    fn mistakes_name_the_file_and_the_key() {
        let err = Config::parse("[server]\nlisten = \"x\"\nbogus = 1\n", Path::new("o.toml"))
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("o.toml:"), "{msg}");
        assert!(msg.contains("line 2") || msg.contains("line 3"), "{msg}");

        let cfg = Config::parse("[sla.P1]\nresolve = \"soon\"\n", Path::new("o.toml")).unwrap();
        let msg = cfg.settings(Path::new("o.toml")).unwrap_err().to_string();
        assert!(msg.contains("sla.P1.resolve"), "{msg}");

        let cfg = Config::parse(
            "[business]\ntimezone = \"Mars/Base\"\n",
            Path::new("o.toml"),
        )
        .unwrap();
        assert!(
            cfg.settings(Path::new("o.toml"))
                .unwrap_err()
                .to_string()
                .contains("Mars/Base")
        );
    }

    #[test]
    fn limits_outside_their_working_range_are_refused_at_their_line() {
        let cases = [
            (
                "[server]\nrequest_timeout_secs = 0\n",
                "o.toml:2:",
                "server.request_timeout_secs",
            ),
            (
                "[server]\n\nmax_event_streams = 0\n",
                "o.toml:3:",
                "server.max_event_streams",
            ),
            (
                "server.max_body_bytes = 0\n",
                "o.toml:1:",
                "server.max_body_bytes",
            ),
            (
                "[server]\nmax_upload_bytes = 1\n",
                "o.toml:2:",
                "server.max_upload_bytes",
            ),
            (
                "[server]\nheader_read_timeout_secs = 0\n",
                "o.toml:2:",
                "server.header_read_timeout_secs",
            ),
            (
                "[server]\nsse_heartbeat_secs = 0\n",
                "o.toml:2:",
                "server.sse_heartbeat_secs",
            ),
            (
                "[server]\nmax_concurrent_public = 0\n",
                "o.toml:2:",
                "server.max_concurrent_public",
            ),
            (
                "[server]\nmin_body_bytes_per_sec = 0\n",
                "o.toml:2:",
                "server.min_body_bytes_per_sec",
            ),
            (
                "[server]\nimage_decode_memory_mib = 64\n",
                "o.toml:2:",
                "server.image_decode_memory_mib",
            ),
            (
                "[server]\nimage_decode_wait_ms = 600000\n",
                "o.toml:2:",
                "server.image_decode_wait_ms",
            ),
            (
                "[mss]\nlogin_failures_per_address = 0\n",
                "o.toml:2:",
                "mss.login_usernames_per_address",
            ),
            (
                "[mss]\nlockout_after = 10\nlogin_failures_per_username = 5\n",
                "o.toml:3:",
                "mss.login_failures_per_username",
            ),
            (
                "[sla]\ndue_soon_percent = 101\n",
                "o.toml:2:",
                "sla.due_soon_percent",
            ),
            (
                "[business]\ntimezone = \"Mars/Base\"\n",
                "o.toml:2:",
                "business.timezone",
            ),
        ];
        for (text, at, key) in cases {
            let cfg = Config::parse(text, Path::new("o.toml")).unwrap();
            let msg = cfg.settings(Path::new("o.toml")).unwrap_err().to_string();
            assert!(msg.starts_with(at) && msg.contains(key), "{text}: {msg}");
        }
        // A value set nowhere in the file (built from defaults) has no line to name.
        assert_eq!(
            key_line("[server]\nlisten = \"x\"\n", "server.max_body_bytes"),
            None
        );
    }

    #[test]
    fn notify_section_parses_and_defaults_to_silence() {
        assert!(!Settings::default().notify.any_channel());
        let text = r#"
            [notify]
            public_url = "http://desk.example:7878/"
            timeout = "3s"
            retry_base = "1s"
            retry_max = "1m"
            give_up_after = "2h"
            [notify.smtp]
            host = "127.0.0.1"
            port = 2525
            tls = "none"
            from = "opsdesk@example.com"
            to = ["oncall@example.com", "值班 <duty@example.com>"]
            username = "u"
            password = "p"
            [notify.wecom]
            url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"
            [[notify.webhooks]]
            url = "http://127.0.0.1:9000/hook"
            [[notify.webhooks]]
            url = "https://hooks.example/opsdesk"
        "#;
        let s = Config::parse(text, Path::new("n.toml"))
            .unwrap()
            .settings(Path::new("n.toml"))
            .unwrap();
        let n = &s.notify;
        assert!(n.any_channel());
        assert_eq!(n.public_url.as_deref(), Some("http://desk.example:7878"));
        assert_eq!(n.timeout, std::time::Duration::from_secs(3));
        assert_eq!(n.retry.base, std::time::Duration::from_secs(1));
        assert_eq!(n.retry.give_up_after, std::time::Duration::from_secs(7200));
        assert_eq!(n.webhooks.len(), 2);
        let smtp = n.smtp.as_ref().unwrap();
        assert_eq!((smtp.port(), smtp.tls), (2525, SmtpTls::None));
        assert!(!s.without_notifications().notify.any_channel());
    }

    #[test]
    fn notify_mistakes_are_refused_with_the_key() {
        let cases: &[(&str, &str)] = &[
            (
                "[[notify.webhooks]]\nurl = \"file:///etc/passwd\"\n",
                "notify.webhooks.url",
            ),
            (
                "[[notify.webhooks]]\nurl = \"127.0.0.1:9000/hook\"\n",
                "notify.webhooks.url",
            ),
            ("[notify.wecom]\nurl = \"ftp://x/y\"\n", "notify.wecom.url"),
            ("[notify]\npublic_url = \"desk\"\n", "notify.public_url"),
            ("[notify]\nretry_base = \"soon\"\n", "notify.retry_base"),
            (
                "[notify]\nretry_base = \"10m\"\nretry_max = \"1m\"\n",
                "notify.retry_max",
            ),
            (
                "[notify.smtp]\nhost = \"h\"\nfrom = \"not an address\"\nto = [\"a@b.c\"]\n",
                "notify.smtp.from",
            ),
            (
                "[notify.smtp]\nhost = \"h\"\nfrom = \"a@b.c\"\nto = []\n",
                "notify.smtp.to",
            ),
            (
                "[notify.smtp]\nhost = \"mail.example\"\ntls = \"none\"\nfrom = \"a@b.c\"\nto = [\"a@b.c\"]\nusername = \"u\"\npassword = \"p\"\n",
                "in clear",
            ),
        ];
        for (text, want) in cases {
            let cfg = Config::parse(text, Path::new("n.toml")).unwrap();
            let msg = cfg.settings(Path::new("n.toml")).unwrap_err().to_string();
            assert!(
                msg.starts_with("n.toml:") && msg.contains(want),
                "{text}: {msg}"
            );
        }
        for text in [
            "[notify]\nbogus = 1\n",
            "[notify.wecom]\nurl = \"http://x\"\nkey = \"k\"\n",
            "[notify.smtp]\nhost = \"h\"\ntls = \"ssl\"\nfrom = \"a@b.c\"\nto = [\"a@b.c\"]\n",
        ] {
            let msg = Config::parse(text, Path::new("n.toml"))
                .unwrap_err()
                .to_string();
            assert!(msg.starts_with("n.toml:"), "{text}: {msg}");
        }
    }
}
