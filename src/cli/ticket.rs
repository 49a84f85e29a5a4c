//! `opsdesk ticket list|show|new`: scripting against a running server over its API.

use std::io::Read;
use std::process::ExitCode;

use crate::display::fit;
use anyhow::{Context, bail};
use clap::Args;
use serde::Serialize;

use crate::client::ApiClient;
use crate::domain::mask::{AccountNo, CustomerName, IdNumber, Phone};
use crate::domain::ticket::{Category, Customer, Priority};
use crate::domain::validate::NewTicket;
use crate::domain::view::TicketView;

#[derive(Debug, Args, Serialize)]
pub struct ListArgs {
    /// Statuses, comma-separated (new,triaging,…).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// System keys, comma-separated.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Categories, comma-separated (data,program,consultation).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// A handler's username, `me`, or `none`.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Only tickets not yet resolved or closed.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub open: bool,
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// Print the page as JSON.
    #[arg(long)]
    #[serde(skip)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Read the ticket as JSON (the API's create body) from FILE, or `-` for stdin.
    #[arg(long, conflicts_with_all = ["title", "description"])]
    pub from_json: Option<String>,
    #[arg(long, required_unless_present = "from_json")]
    pub system: Option<String>,
    #[arg(long, required_unless_present = "from_json")]
    pub title: Option<String>,
    #[arg(long, required_unless_present = "from_json")]
    pub description: Option<String>,
    #[arg(long)]
    pub customer_name: Option<String>,
    #[arg(long)]
    pub account: Option<String>,
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long)]
    pub id_number: Option<String>,
    #[arg(long, value_parser = |s: &str| s.parse::<Category>().map_err(|e| e.to_string()))]
    pub category: Option<Category>,
    #[arg(long, value_parser = |s: &str| s.parse::<Priority>().map_err(|e| e.to_string()))]
    pub priority: Option<Priority>,
    /// Makes a retried `ticket new` create one ticket (default: a fresh key per call).
    #[arg(long)]
    pub idempotency_key: Option<String>,
    #[arg(long)]
    pub json: bool,
}

fn sla_word(t: &TicketView) -> &str {
    crate::display::relevant_clock(t).state.as_str()
}

pub async fn list(client: &ApiClient, args: &ListArgs) -> anyhow::Result<ExitCode> {
    let page = client.tickets(args).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&page)?);
    } else {
        println!(
            "    ID  {}  PRI  {}  {}  TITLE",
            fit("STATUS", 17),
            fit("SYSTEM", 14),
            fit("SLA", 9)
        );
        for t in &page.tickets {
            println!(
                "{:>6}  {}  {}   {}  {}  {}",
                t.id,
                fit(t.status.as_str(), 17),
                t.priority,
                fit(&t.system, 14),
                fit(sla_word(t), 9),
                fit(&crate::domain::mask::mask_long_numbers(&t.title), 60).trim_end()
            );
        }
        eprintln!("{} of {} tickets", page.tickets.len(), page.total);
    }
    Ok(if page.tickets.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints one ticket; times in the business time zone `tz`.
pub async fn show(
    client: &ApiClient,
    id: i64,
    json: bool,
    tz: chrono_tz::Tz,
) -> anyhow::Result<ExitCode> {
    let t = client.ticket(id).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&t)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("#{} {}", t.id, t.title);
    println!(
        "status    {}{}",
        t.status,
        t.transfer_to.map(|x| format!(" → {x}")).unwrap_or_default()
    );
    println!(
        "priority  {}   category {}   system {}   channel {}",
        t.priority, t.category, t.system, t.channel
    );
    println!(
        "submitter {}   assignee {}",
        t.submitter,
        t.assignee.as_deref().unwrap_or("-")
    );
    let c = &t.customer;
    let field = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!(
        "customer  {}  account {}  phone {}  id {}",
        field(&c.name),
        field(&c.account),
        field(&c.phone),
        field(&c.id_number)
    );
    let clock = |name: &str, v: &crate::domain::view::ClockView| {
        let why = v
            .paused_reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        println!(
            "{name:<9} {} due {}{why}",
            v.state,
            v.due.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z")
        );
    };
    clock("response", &t.sla.first_response);
    clock("resolve", &t.sla.resolve);
    println!();
    println!("{}", t.description);
    if let Some(r) = &t.resolution {
        println!();
        println!("resolution: {r}");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn new(client: &ApiClient, args: NewArgs) -> anyhow::Result<ExitCode> {
    let ticket: NewTicket = match &args.from_json {
        Some(source) => {
            let mut text = String::new();
            if source == "-" {
                std::io::stdin().read_to_string(&mut text)?;
            } else {
                text =
                    std::fs::read_to_string(source).with_context(|| format!("reading {source}"))?;
            }
            serde_json::from_str(&text)
                .with_context(|| format!("{source} is not a ticket's JSON"))?
        }
        None => NewTicket {
            title: args.title.clone().unwrap_or_default(),
            description: args.description.clone().unwrap_or_default(),
            system: args.system.clone().unwrap_or_default(),
            customer: Customer {
                name: args.customer_name.as_deref().map(CustomerName::new),
                account: args.account.as_deref().map(AccountNo::new),
                phone: args.phone.as_deref().map(Phone::new),
                id_number: args.id_number.as_deref().map(IdNumber::new),
            },
            category: args.category,
            priority: args.priority,
            ..Default::default()
        },
    };
    let key = match args.idempotency_key {
        Some(k) => k,
        None => super::fresh_key()?,
    };
    let t = match client.create(&ticket, &key).await {
        Ok(t) => t,
        Err(crate::client::ClientError::Api {
            message, fields, ..
        }) if !fields.is_empty() => {
            bail!("{message}\n  {}", fields.join("\n  "))
        }
        Err(e) => return Err(e.into()),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&t)?);
    } else {
        println!("{}", t.id);
    }
    Ok(ExitCode::SUCCESS)
}
