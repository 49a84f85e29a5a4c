//! The demo's sample logs (`fixtures/demo/logs.toml`): lines the app and its services wrote
//! around each demo ticket's reported time, for that ticket's customer, amid other customers'
//! traffic. Written once into the data dir, where the demo's `files` log source reads them.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::{Desk, DeskError};
use crate::domain::ticket::Ticket;
use crate::lookups::config::{FileFormat, FilesConfig};
use crate::lookups::files::FilesSource;
use crate::store::tickets::{self, TicketFilter};

const LOGS: &str = include_str!("../../fixtures/demo/logs.toml");
/// The demo logs' folder in the data dir.
pub const DIR: &str = "demo-logs";
/// The demo's log source, as the source picker shows it.
pub const SOURCE: &str = "demo-app";
/// Lines older than this go to the rotated, gzipped file.
const ROTATED_AFTER: Duration = Duration::days(1);
/// Other customers' lines around each ticket.
const NOISE_PER_TICKET: usize = 24;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogsFile {
    scenario: Vec<Scenario>,
    noise: Vec<Template>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    system: Option<String>,
    lines: Vec<ScenarioLine>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioLine {
    at: i64,
    #[serde(flatten)]
    text: Template,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Template {
    level: String,
    service: String,
    message: String,
}

/// A small deterministic generator, so the demo's noise is the same on every machine.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, below: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % below.max(1)
    }
}

/// One written line: when, and the JSON object.
type Line = (DateTime<Utc>, serde_json::Value);

/// The demo's lines for `tickets`, oldest first, none after `now`.
fn lines_for(tickets: &[Ticket], now: DateTime<Utc>) -> Result<Vec<Line>, toml::de::Error> {
    let file: LogsFile = toml::from_str(LOGS)?;
    let mut out = Vec::new();
    for t in tickets {
        let account = t.customer.account.as_ref().map(|a| a.expose().to_string());
        let phone = t.customer.phone.as_ref().map(|p| p.expose().to_string());
        let Some(user) = account.clone().or_else(|| phone.clone()) else {
            continue;
        };
        let scenario = file
            .scenario
            .iter()
            .find(|s| {
                s.title
                    .as_ref()
                    .is_some_and(|f| t.title.contains(f.as_str()))
            })
            .or_else(|| {
                file.scenario
                    .iter()
                    .find(|s| s.system.as_deref() == Some(&t.system))
            });
        let mut dice = Dice(0x9e37_79b9_7f4a_7c15 ^ (t.id as u64).wrapping_mul(0x1000_0001));
        let trace = format!("{:016x}", dice.roll(u64::MAX));
        let order = format!("{:08}", dice.roll(100_000_000));
        let fill = |text: &str, other: &str| {
            text.replace("{account}", account.as_deref().unwrap_or_default())
                .replace("{phone}", phone.as_deref().unwrap_or_default())
                .replace("{user}", &user)
                .replace("{trace}", &trace)
                .replace("{order}", &order)
                .replace("{other}", other)
        };
        for line in scenario.iter().flat_map(|s| &s.lines) {
            let message = &line.text.message;
            if (message.contains("{account}") && account.is_none())
                || (message.contains("{phone}") && phone.is_none())
            {
                continue;
            }
            let mut json = serde_json::json!({
                "level": line.text.level,
                "service": line.text.service,
                "message": fill(message, ""),
                "user_id": user,
                "trace_id": trace,
            });
            if message.contains("{account}") {
                json["account"] = account.clone().into();
            }
            if message.contains("{phone}") {
                json["phone"] = phone.clone().into();
            }
            out.push((t.created_at + Duration::seconds(line.at), json));
        }
        for _ in 0..NOISE_PER_TICKET {
            let template = &file.noise[dice.roll(file.noise.len() as u64) as usize];
            let other = format!("3{:011}", dice.roll(100_000_000_000));
            let at = t.created_at + Duration::seconds(dice.roll(3600) as i64 - 1800);
            let json = serde_json::json!({
                "level": template.level,
                "service": template.service,
                "message": fill(&template.message, &other),
                "user_id": other,
                "trace_id": format!("{:016x}", dice.roll(u64::MAX)),
            });
            out.push((at, json));
        }
    }
    out.retain(|(at, _)| *at <= now);
    out.sort_by_key(|(at, _)| *at);
    Ok(out)
}

/// Writes `lines` as JSON lines, each stamped in the business time zone as apps write it.
fn write_lines(out: &mut impl Write, lines: &[Line], zone: chrono_tz::Tz) -> std::io::Result<()> {
    for (at, json) in lines {
        let mut json = json.clone();
        json["@timestamp"] = at
            .with_timezone(&zone)
            .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .to_string()
            .into();
        serde_json::to_writer(&mut *out, &json)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The demo's log source over `data_dir`'s demo logs.
pub fn source(data_dir: &Path, zone: chrono_tz::Tz) -> FilesSource {
    let cfg = FilesConfig {
        name: SOURCE.into(),
        paths: vec![data_dir.join(DIR).join("app.log*").display().to_string()],
        format: FileFormat::Json,
        timestamp_regex: None,
        fields: Default::default(),
        timezone: None,
        max_line_bytes: crate::lookups::files::DEFAULT_MAX_LINE_BYTES,
    };
    FilesSource::new(&cfg, zone).expect("the demo's log source is valid")
}

impl Desk {
    /// Writes the demo logs into `data_dir` once (a data dir that has them keeps them):
    /// `app.log` for the last day, `app.log.1.gz` before, dated as rotation leaves them.
    pub async fn write_demo_logs(&self, data_dir: &Path) -> Result<(), DeskError> {
        let dir = data_dir.join(DIR);
        if dir.exists() {
            return Ok(());
        }
        let all = self
            .store
            .read(|conn| {
                let filter = TicketFilter {
                    limit: 10_000,
                    ..Default::default()
                };
                tickets::list(conn, &filter).map(|(all, _)| all)
            })
            .await?;
        let now = Utc::now();
        let lines = lines_for(&all, now)
            .map_err(|e| DeskError::Conflict(format!("fixtures/demo/logs.toml: {e}")))?;
        let zone = self.settings.calendar.tz();
        let written = write_files(data_dir, &dir, &lines, now, zone);
        written.map_err(|e| {
            DeskError::Conflict(format!("writing the demo logs in {}: {e}", dir.display()))
        })
    }
}

/// Writes the files in a scratch folder renamed into place at the end, so a crash leaves no
/// half-written demo logs that would stop them being written again.
fn write_files(
    data_dir: &Path,
    dir: &Path,
    lines: &[Line],
    now: DateTime<Utc>,
    zone: chrono_tz::Tz,
) -> std::io::Result<()> {
    let scratch: PathBuf = data_dir.join(format!("{DIR}.partial"));
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    std::fs::create_dir_all(&scratch)?;
    let split = lines.partition_point(|(at, _)| *at < now - ROTATED_AFTER);
    let (older, recent) = lines.split_at(split);
    let rotated = scratch.join("app.log.1.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&rotated)?,
        flate2::Compression::default(),
    );
    write_lines(&mut gz, older, zone)?;
    let file = gz.finish()?;
    file.sync_all()?;
    if let Some((last, _)) = older.last() {
        file.set_modified((*last).into())?;
    }
    let mut current = std::io::BufWriter::new(std::fs::File::create(scratch.join("app.log"))?);
    write_lines(&mut current, recent, zone)?;
    current
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    std::fs::rename(&scratch, dir)
}
