//! `opsdesk session`: the knowledge sessions the team gives field staff (知识分享), recorded
//! so the reports can set them against the consultation trend, and the topics the last
//! period proposes for the next one.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::client::ApiClient;
use crate::display::table;
use crate::domain::report::{KnowledgeSession, NewSession, Period, ReportKind, SessionChange};

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Record a session that was held (or is planned).
    Add(AddArgs),
    /// The sessions held in a span of days, newest first.
    List {
        /// From this local day (`2026-09-01`).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// To this local day.
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        #[arg(long)]
        json: bool,
    },
    /// Change a session: the views keep growing with the replays.
    Edit(EditArgs),
    /// Topics for the next session: the recurring consultation questions of a week.
    Topics {
        /// `2026-W47`; default: the last complete week.
        #[arg(long)]
        period: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The local day it was held (`2026-11-19`).
    #[arg(long)]
    pub date: chrono::NaiveDate,
    #[arg(long)]
    pub topic: String,
    /// A system it covered (repeat for more; default: its articles' systems).
    #[arg(long = "system")]
    pub systems: Vec<String>,
    /// A knowledge-base article it went through (repeat for more).
    #[arg(long = "kb")]
    pub kb_articles: Vec<i64>,
    /// Who watched it live.
    #[arg(long)]
    pub live: Option<i64>,
    /// All views, replays included.
    #[arg(long)]
    pub views: Option<i64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    pub id: i64,
    #[arg(long)]
    pub date: Option<chrono::NaiveDate>,
    #[arg(long)]
    pub topic: Option<String>,
    /// Replaces the systems (repeat for more).
    #[arg(long = "system")]
    pub systems: Vec<String>,
    /// Replaces the articles (repeat for more).
    #[arg(long = "kb")]
    pub kb_articles: Vec<i64>,
    #[arg(long)]
    pub live: Option<i64>,
    #[arg(long)]
    pub views: Option<i64>,
    #[arg(long)]
    pub json: bool,
}

fn print(sessions: &[KnowledgeSession], json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(sessions)?)?;
        return Ok(());
    }
    let columns: Vec<String> = ["#", "日期", "主题", "系统", "文章", "直播", "总观看"]
        .iter()
        .map(|c| c.to_string())
        .collect();
    let count = |v: Option<u64>| Some(v.map_or_else(String::new, |v| v.to_string()));
    let rows: Vec<Vec<Option<String>>> = sessions
        .iter()
        .map(|s| {
            vec![
                Some(s.id.to_string()),
                Some(s.held_on.to_string()),
                Some(s.topic.clone()),
                Some(s.systems.join(",")),
                Some(
                    s.kb_articles
                        .iter()
                        .map(|id| format!("KB-{id}"))
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                count(s.live_viewers),
                count(s.total_views),
            ]
        })
        .collect();
    for line in table(&columns, &rows, 48) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

pub async fn run(
    client: &ApiClient,
    cmd: SessionCommand,
    zone: chrono_tz::Tz,
) -> anyhow::Result<ExitCode> {
    match cmd {
        SessionCommand::Add(a) => {
            let new = NewSession {
                held_on: a.date,
                topic: a.topic,
                systems: a.systems,
                kb_articles: a.kb_articles,
                live_viewers: a.live,
                total_views: a.views,
            };
            let key = super::fresh_key()?;
            let s = client.record_session(&new, Some(&key)).await?;
            print(std::slice::from_ref(&s), a.json)?;
            Ok(ExitCode::SUCCESS)
        }
        SessionCommand::List { from, to, json } => {
            let sessions = client.knowledge_sessions(from, to).await?;
            print(&sessions, json)?;
            Ok(if sessions.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        SessionCommand::Edit(e) => {
            let change = SessionChange {
                held_on: e.date,
                topic: e.topic,
                systems: (!e.systems.is_empty()).then_some(e.systems),
                kb_articles: (!e.kb_articles.is_empty()).then_some(e.kb_articles),
                live_viewers: e.live,
                total_views: e.views,
                version: None,
            };
            let s = client.change_session(e.id, &change).await?;
            print(std::slice::from_ref(&s), e.json)?;
            Ok(ExitCode::SUCCESS)
        }
        SessionCommand::Topics { period, json } => {
            let period = match period {
                Some(p) => {
                    let p = Period::parse(&p)?;
                    if !ReportKind::Weekly.fits(p) {
                        anyhow::bail!("topics come from a week's report: write it as 2026-W47");
                    }
                    p
                }
                None => ReportKind::Weekly
                    .period_at(chrono::Utc::now(), zone)
                    .previous(),
            };
            let report = client
                .report(ReportKind::Weekly, Some(&period.to_string()))
                .await?;
            let mut out = std::io::stdout().lock();
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&report.topics)?)?;
            } else {
                for t in &report.topics {
                    let article = t
                        .kb_article
                        .map(|id| format!(" (KB-{id})"))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "{:>4}  {}{}  [{}]",
                        t.tickets,
                        t.title,
                        article,
                        t.systems.join(",")
                    )?;
                }
            }
            Ok(if report.topics.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
