//! `opsdesk lookup`: a data source's named queries (customer profile, shareholder cards,
//! depository binding, orders) for one customer, from the command line. Through the server
//! (audited, the database's credentials stay there), or in-process with `--local`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{anyhow, bail};
use clap::{Args, Subcommand};

use crate::api::{DataLookupRequest, DataRows};
use crate::client::ApiClient;
use crate::client::lookup::inert_rows;
use crate::config::Settings;
use crate::display::table;

/// The widest a column of the printed table grows; longer values are cut with `…`.
const MAX_COLUMN: usize = 40;

#[derive(Debug, Subcommand)]
pub enum LookupCommand {
    /// Run the named query for a customer and print its rows (exit 0 with rows, 1 without,
    /// 2 on an error).
    Run(RunArgs),
    /// List the named queries the data sources offer, and what each looks up by.
    List {
        /// This host's own `[[logs.sources]]`, not the server's.
        #[arg(long)]
        local: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The query's name (`opsdesk lookup list`).
    pub name: String,
    #[arg(long, group = "who")]
    pub account: Option<String>,
    #[arg(long, group = "who")]
    pub phone: Option<String>,
    #[arg(long, group = "who")]
    pub id_number: Option<String>,
    /// The ticket whose customer it is for (server only): its identifier is used when none
    /// is given.
    #[arg(long, conflicts_with = "local")]
    pub ticket: Option<i64>,
    /// The data source, when two have a query of that name.
    #[arg(long)]
    pub source: Option<String>,
    /// Run in this process against this host's own `[[logs.sources]]`.
    #[arg(long)]
    pub local: bool,
    /// The rows as JSON (`{source, query, columns, rows, truncated}`).
    #[arg(long)]
    pub json: bool,
}

pub async fn list(
    client: Option<&ApiClient>,
    settings: &Settings,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let queries = match client {
        Some(client) => client.lookup_queries().await?,
        None => settings.lookups.queries(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&queries)?);
    } else {
        for q in &queries {
            println!(
                "{:<24} {:<16} by {:<10} {}",
                q.name,
                q.source,
                q.by,
                q.title.as_deref().unwrap_or("")
            );
        }
    }
    Ok(if queries.is_empty() {
        eprintln!("no data source is configured ([[logs.sources]] with kind = \"sql\")");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub async fn run(
    client: Option<&ApiClient>,
    settings: &Settings,
    args: RunArgs,
) -> anyhow::Result<ExitCode> {
    let rows = match client {
        Some(client) => {
            let req = DataLookupRequest {
                query: args.name,
                source: args.source,
                ticket: args.ticket,
                account: args.account,
                phone: args.phone,
                id_number: args.id_number,
            };
            client.data_lookup(&req).await?
        }
        None => {
            let (source, by) = settings
                .lookups
                .data_query(args.source.as_deref(), &args.name)
                .map_err(|e| anyhow!(e))?;
            use crate::domain::validate::Identifier;
            let value = match by {
                Identifier::Account => args.account,
                Identifier::Phone => args.phone,
                Identifier::IdNumber => args.id_number,
            };
            let Some(value) = value else {
                bail!(
                    "{} looks up by --{}",
                    args.name,
                    by.field().replace('_', "-")
                );
            };
            inert_rows(source.run(&args.name, by, &value).await?)
        }
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
    } else {
        print_table(&mut out, &rows)?;
    }
    if rows.truncated {
        eprintln!(
            "{}: more rows than the source hands back; the first {} shown",
            rows.source,
            rows.rows.len()
        );
    }
    Ok(if rows.rows.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The rows as an aligned table, Chinese at its true width, NULL said as such.
fn print_table(out: &mut impl Write, rows: &DataRows) -> std::io::Result<()> {
    for line in table(&rows.columns, &rows.rows, MAX_COLUMN) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}
