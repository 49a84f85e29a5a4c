//! `opsdesk logs`: a customer's log lines from the command line, scriptable like grep (exit 0
//! with lines, 1 without, 2 on an error). Through the server (audited, its sources'
//! credentials stay there), or in-process with `--local` from this host's own `[logs]`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use chrono::{DateTime, Duration, Utc};
use clap::{Args, Subcommand};
use tokio::sync::mpsc;

use crate::api::{Found, LookupRequest};
use crate::client::ApiClient;
use crate::client::lookup::inert;
use crate::config::{Settings, parse_duration};
use crate::lookups::line::parse_time;
use crate::lookups::sources;

#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// Print the log lines that name a customer (or hold QUERY), newest first. Exit code 0
    /// with lines, 1 without, 2 when a source could not answer.
    Search(SearchArgs),
    /// List the log sources a lookup can search.
    Sources {
        /// Search this host's own `[[logs.sources]]`, not the server's.
        #[arg(long)]
        local: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words a line must hold (any case).
    pub query: Option<String>,
    /// Search this host's own `[[logs.sources]]` in this process, not the server's (the
    /// default when the config declares sources and names no server).
    #[arg(long)]
    pub local: bool,
    /// Only this source (repeatable; default: all).
    #[arg(long = "source")]
    pub sources: Vec<String>,
    /// A customer identifier a line must hold: user id, account, phone, trace id (repeatable).
    #[arg(long = "user")]
    pub users: Vec<String>,
    /// The ticket the lookup is for: its customer and reported time fill in what is not given.
    #[arg(long, conflicts_with = "local")]
    pub ticket: Option<i64>,
    /// Window start: RFC 3339, `YYYY-MM-DD HH:MM[:SS]` in the business time zone, or a time
    /// ago such as `2h` (default: 30 minutes before the ticket was reported, or an hour ago).
    #[arg(long)]
    pub from: Option<String>,
    /// Window end, written like --from (default: 30 minutes after the ticket, or now).
    #[arg(long)]
    pub to: Option<String>,
    /// Only lines of this level (any case).
    #[arg(long)]
    pub level: Option<String>,
    /// A regular expression a line must match.
    #[arg(long)]
    pub regex: Option<String>,
    /// At most this many lines a source (1–10000).
    #[arg(long, default_value_t = 500)]
    pub limit: usize,
    /// One JSON object a line.
    #[arg(long)]
    pub json: bool,
}

/// A time on the command line: RFC 3339, a local time in the business zone (read by
/// [`parse_time`], minutes-only accepted), or a time ago (`90m`, `2h`).
fn parse_when(s: &str, zone: chrono_tz::Tz) -> anyhow::Result<DateTime<Utc>> {
    if let Some(secs) = parse_duration(s.trim().trim_end_matches("ago").trim()) {
        return Ok(Utc::now() - Duration::seconds(secs));
    }
    parse_time(s, zone)
        .or_else(|| parse_time(&format!("{}:00", s.trim()), zone))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "'{s}' is not a time: use RFC 3339, YYYY-MM-DD HH:MM[:SS] or a time ago like 2h"
            )
        })
}

pub async fn sources_list(
    client: Option<&ApiClient>,
    settings: &Settings,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let sources = match client {
        Some(client) => client.lookup_sources().await?,
        None => settings.lookups.infos(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&sources)?);
    } else {
        for s in &sources {
            println!("{:<24} {}", s.name, s.kind);
        }
    }
    Ok(if sources.is_empty() {
        eprintln!("no log sources are configured ([[logs.sources]] in opsdesk.toml)");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub async fn search(
    client: Option<&ApiClient>,
    settings: &Settings,
    args: SearchArgs,
) -> anyhow::Result<ExitCode> {
    let zone = settings.calendar.tz();
    let when = |s: &Option<String>| s.as_deref().map(|s| parse_when(s, zone)).transpose();
    let req = LookupRequest {
        ticket: args.ticket,
        sources: args.sources,
        identifiers: args.users,
        from: when(&args.from)?,
        to: when(&args.to)?,
        level: args.level,
        text: args.query,
        regex: args.regex,
        limit: i64::try_from(args.limit).ok(),
    };
    let mut printer = Printer {
        json: args.json,
        zone,
        // Buffered, and flushed whenever the finds pause: a line a write would cost a
        // system call each, the slowest part of printing thousands.
        out: std::io::BufWriter::new(std::io::stdout().lock()),
        lines: 0,
        failed: 0,
    };
    match client {
        Some(client) => {
            let mut finds = client.lookup(&req).await?;
            while let Some(found) = finds.next().await {
                printer.print(found?)?;
                if finds.is_waiting() {
                    printer.out.flush()?;
                }
            }
        }
        None => {
            let lookups = &settings.lookups;
            if lookups.is_empty() {
                bail!("no log sources are configured: add [[logs.sources]] to opsdesk.toml");
            }
            let picked = lookups.pick(&req.sources)?;
            let query = crate::service::lookups::local_query(&req, Utc::now())?;
            let (tx, mut rx) = mpsc::channel(256);
            let search = tokio::spawn(sources::search(picked, query, tx));
            while let Some(found) = rx.recv().await {
                printer.print(inert(found))?;
                if rx.is_empty() {
                    printer.out.flush()?;
                }
            }
            search.await?;
        }
    }
    printer.out.flush()?;
    Ok(if printer.failed > 0 {
        ExitCode::from(2)
    } else if printer.lines == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

struct Printer<W: Write> {
    json: bool,
    zone: chrono_tz::Tz,
    out: W,
    lines: usize,
    failed: usize,
}

impl<W: Write> Printer<W> {
    fn print(&mut self, found: Found) -> anyhow::Result<()> {
        match found {
            Found::Line(line) => {
                self.lines += 1;
                if self.json {
                    serde_json::to_writer(&mut self.out, &line)?;
                    writeln!(self.out)?;
                } else {
                    writeln!(
                        self.out,
                        "{} {:<5} [{}] {}",
                        line.at
                            .with_timezone(&self.zone)
                            .format("%Y-%m-%d %H:%M:%S%.3f"),
                        line.level.as_deref().unwrap_or("-"),
                        line.source,
                        line.message.replace(['\n', '\r'], " "),
                    )?;
                }
            }
            Found::Warning { source, message } => eprintln!("{source}: {message}"),
            Found::Failed { source, message } => {
                self.failed += 1;
                eprintln!("{source}: {message}");
            }
            Found::Minutes { .. } | Found::Done { .. } => {}
        }
        Ok(())
    }
}
