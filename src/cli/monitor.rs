//! `opsdesk monitor` (the monitors: list, run now, history, check a file) and
//! `opsdesk alerts` (what they raised: list, show, acknowledge, silence, resolve, open the
//! parent incident, link a ticket to it). All but `monitor check` go through the server,
//! which records every evaluation and sends the alerts' mail.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono_tz::Tz;
use clap::Subcommand;

use crate::api::monitors::{Alert, AlertDetail, EvaluationRecord, MonitorInfo, Outcome};
use crate::client::ApiClient;
use crate::config::Settings;
use crate::display::table;
use crate::monitor::config::Book;

#[derive(Debug, Subcommand)]
pub enum MonitorCommand {
    /// The monitors: rule, schedule, next turn, latest evaluation, open alert; refused files
    /// with their reason.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Evaluate a monitor now (every enabled one when no name is given), as its schedule
    /// would: alerts raised, mail and webhooks sent.
    RunOnce {
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A monitor's evaluations, newest first.
    History {
        name: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Read monitor files (the configured dir, or these files or dirs) against this host's
    /// sources and report each one's mistakes with file and line.
    Check { paths: Vec<PathBuf> },
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Open alerts, then the latest resolved.
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// One alert: its finding, its anomalous rows, its incident's tickets.
    Show {
        id: i64,
        /// Show customer data in full (audited).
        #[arg(long)]
        reveal: bool,
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge a firing alert.
    Ack { id: i64 },
    /// Resolve an alert by hand.
    Resolve {
        id: i64,
        #[arg(long)]
        note: Option<String>,
    },
    /// Send nothing for an alert (and its monitor's next ones) for a while: `2h`, `1d`; `off`.
    Silence { id: i64, duration: String },
    /// Open the alert's parent incident.
    Ticket { id: i64 },
    /// Link a ticket to the alert's parent incident.
    Link { id: i64, ticket: i64 },
}

/// `monitor check`: loads the files here, with this host's sources and systems.
pub fn check(settings: &Settings, paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let systems = settings.system_keys();
    let book = if paths.is_empty() {
        settings.monitors.clone()
    } else {
        let mut book = Book::default();
        for path in paths {
            let loaded = if path.is_dir() {
                Book::load(path, &settings.lookups, &systems)
            } else {
                Book::load_file(path, &settings.lookups, &systems)
            };
            book = book.merged(loaded);
        }
        book
    };
    for m in &book.monitors {
        println!(
            "ok      {} ({}, {}): {}",
            m.name,
            m.rule.kind(),
            m.schedule.expr(),
            m.title
        );
    }
    for b in &book.broken {
        println!("refused {}", b.error);
    }
    if book.monitors.is_empty() && book.broken.is_empty() {
        eprintln!("no monitor files found");
    }
    Ok(if book.broken.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub async fn monitor(client: &ApiClient, cmd: MonitorCommand, tz: Tz) -> anyhow::Result<ExitCode> {
    match cmd {
        MonitorCommand::List { json } => {
            let monitors = client.monitors().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&monitors)?);
            } else {
                print_monitors(&monitors, tz);
            }
            Ok(ExitCode::SUCCESS)
        }
        MonitorCommand::RunOnce { name, json } => {
            let names: Vec<String> = match name {
                Some(n) => vec![n],
                None => client
                    .monitors()
                    .await?
                    .into_iter()
                    .filter(|m| m.enabled && m.error.is_none())
                    .map(|m| m.name)
                    .collect(),
            };
            let mut failed = false;
            let mut done = Vec::new();
            for name in names {
                let e = client.run_monitor(&name).await?;
                failed |= e.outcome == Outcome::Error;
                if !json {
                    print_evaluation(&e, tz);
                }
                done.push(e);
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&done)?);
            }
            Ok(if failed {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
        MonitorCommand::History { name, limit, json } => {
            if !(1..=500).contains(&limit) {
                anyhow::bail!("--limit must be 1 to 500");
            }
            let history = client.monitor_history(&name, limit, None).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&history)?);
            } else {
                let columns =
                    ["#", "when", "ms", "outcome", "value", "alert", "summary"].map(String::from);
                let rows: Vec<Vec<Option<String>>> = history
                    .iter()
                    .map(|e| {
                        vec![
                            Some(e.id.to_string()),
                            Some(local(e.started_at, tz)),
                            Some(e.duration_ms.to_string()),
                            Some(e.outcome.to_string()),
                            e.value.map(show_value),
                            e.alert_id.map(|a| format!("#{a}")),
                            Some(e.summary.clone()),
                        ]
                    })
                    .collect();
                print_table(&columns, &rows, 80);
            }
            Ok(ExitCode::SUCCESS)
        }
        // Dispatched to [`check`] before a server is asked.
        MonitorCommand::Check { .. } => anyhow::bail!("`monitor check` reads files on this host"),
    }
}

pub async fn alerts(client: &ApiClient, cmd: AlertsCommand, tz: Tz) -> anyhow::Result<ExitCode> {
    let changed = match cmd {
        AlertsCommand::List { limit, json } => {
            if !(1..=500).contains(&limit) {
                anyhow::bail!("--limit must be 1 to 500");
            }
            let alerts = client.alerts(limit).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&alerts)?);
            } else {
                print_alerts(&alerts, tz);
            }
            return Ok(ExitCode::SUCCESS);
        }
        AlertsCommand::Show { id, reveal, json } => {
            let detail = client.alert(id, reveal).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&detail)?);
            } else {
                print_detail(&detail, tz);
            }
            return Ok(ExitCode::SUCCESS);
        }
        AlertsCommand::Ack { id } => {
            let v = client.alert(id, false).await?.alert.version;
            client.acknowledge_alert(id, v).await?
        }
        AlertsCommand::Resolve { id, note } => {
            let v = client.alert(id, false).await?.alert.version;
            client.resolve_alert(id, v, note.as_deref()).await?
        }
        AlertsCommand::Silence { id, duration } => {
            let v = client.alert(id, false).await?.alert.version;
            client.silence_alert(id, v, &duration).await?
        }
        AlertsCommand::Ticket { id } => {
            let v = client.alert(id, false).await?.alert.version;
            client.open_alert_ticket(id, v).await?
        }
        AlertsCommand::Link { id, ticket } => {
            let detail = client.link_to_alert(id, ticket).await?;
            eprintln!(
                "ticket #{ticket} linked to incident #{} of alert #{id}",
                detail.alert.ticket_id.unwrap_or_default()
            );
            return Ok(ExitCode::SUCCESS);
        }
    };
    print_alerts(std::slice::from_ref(&changed), tz);
    Ok(ExitCode::SUCCESS)
}

/// A table with `-` where a value is absent (a monitor not run yet, an alert not silenced).
fn print_table(columns: &[String], rows: &[Vec<Option<String>>], max_column: usize) {
    let shown: Vec<Vec<Option<String>>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| Some(c.clone().unwrap_or_else(|| "-".into())))
                .collect()
        })
        .collect();
    for line in table(columns, &shown, max_column) {
        println!("{line}");
    }
}

fn local(at: chrono::DateTime<chrono::Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%m-%d %H:%M:%S").to_string()
}

fn show_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn print_monitors(monitors: &[MonitorInfo], tz: Tz) {
    let columns = [
        "monitor", "kind", "schedule", "next", "last", "alert", "title",
    ]
    .map(String::from);
    let rows: Vec<Vec<Option<String>>> = monitors
        .iter()
        .map(|m| {
            vec![
                Some(m.name.clone()),
                Some(if m.error.is_some() {
                    "refused".into()
                } else {
                    m.kind.clone()
                }),
                Some(m.schedule.clone()),
                m.next_at.map(|t| local(t, tz)),
                m.last
                    .as_ref()
                    .map(|e| format!("{} {}", e.outcome, local(e.started_at, tz))),
                m.open_alert.map(|a| format!("#{a}")),
                Some(m.error.clone().unwrap_or_else(|| m.title.clone())),
            ]
        })
        .collect();
    print_table(&columns, &rows, 80);
}

fn print_evaluation(e: &EvaluationRecord, tz: Tz) {
    let alert = e
        .alert_id
        .map(|a| format!(" alert #{a}"))
        .unwrap_or_default();
    println!(
        "{} {} {} in {} ms{alert}: {}",
        local(e.started_at, tz),
        e.monitor,
        e.outcome,
        e.duration_ms,
        e.summary
    );
}

fn print_alerts(alerts: &[Alert], tz: Tz) {
    let columns = [
        "alert", "state", "monitor", "since", "last", "n", "rows", "incident", "silenced",
        "summary",
    ]
    .map(String::from);
    let rows: Vec<Vec<Option<String>>> = alerts
        .iter()
        .map(|a| {
            vec![
                Some(format!("#{}", a.id)),
                Some(a.state.to_string()),
                Some(a.monitor.clone()),
                Some(local(a.first_at, tz)),
                Some(local(a.last_at, tz)),
                Some(a.evaluations.to_string()),
                Some(a.rows.to_string()),
                a.ticket_id.map(|t| format!("#{t}")),
                a.silenced_until.map(|t| local(t, tz)),
                Some(a.summary.clone()),
            ]
        })
        .collect();
    print_table(&columns, &rows, 80);
}

fn print_detail(d: &AlertDetail, tz: Tz) {
    print_alerts(std::slice::from_ref(&d.alert), tz);
    println!();
    let shown = if d.revealed { "in full" } else { "masked" };
    println!("{} anomalous rows ({shown}):", d.rows.len());
    print_table(&d.columns, &d.rows, 40);
    if let Some(parent) = d.alert.ticket_id {
        println!("\nparent incident #{parent}; linked tickets:");
        for t in &d.linked {
            println!("  #{} {} [{}] by {}", t.id, t.title, t.status, t.submitter);
        }
        if !d.candidates.is_empty() {
            println!("offered (same problem, not linked yet):");
            for t in &d.candidates {
                let why = t.matched.as_deref().unwrap_or("-");
                println!(
                    "  #{} {} [{}] by {} (matches by {why})",
                    t.id, t.title, t.status, t.submitter
                );
            }
        }
    }
}
