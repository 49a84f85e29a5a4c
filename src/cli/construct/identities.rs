//! `opsdesk construct gen`: test identities for UAT accounts (ID numbers, names, mobile
//! numbers, bank cards) that pass the business systems' checks, one a line. Runs here: no
//! server is needed to draw numbers.

use std::collections::HashSet;
use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, ValueEnum};

use crate::domain::construct::generate::{Draw, IdSpec, Kind, generate};

/// At most this many values a run: a batch of accounts, not a data set.
const MAX_COUNT: usize = 100_000;

#[derive(Debug, Args)]
pub struct GenArgs {
    #[arg(value_enum)]
    kind: GenKind,
    /// How many (1–100,000).
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// ID numbers: the division code (`440305` 深圳市南山区; `--region list` shows them).
    #[arg(long)]
    region: Option<String>,
    /// ID numbers: the birth dates to draw from, `1960-01-01..2004-12-31` (default: adults
    /// of 20 to 60).
    #[arg(long)]
    birth_range: Option<String>,
    /// The same seed draws the same batch (default: a fresh one).
    #[arg(long)]
    seed: Option<u64>,
    /// A JSON array instead of lines.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenKind {
    IdNumber,
    Name,
    Phone,
    BankCard,
}

fn birth_range(text: &str) -> anyhow::Result<(chrono::NaiveDate, chrono::NaiveDate)> {
    let Some((from, to)) = text.split_once("..") else {
        bail!("--birth-range '{text}': write it as 1960-01-01..2004-12-31");
    };
    let day = |s: &str| {
        s.trim()
            .parse::<chrono::NaiveDate>()
            .map_err(|_| anyhow::anyhow!("--birth-range: '{s}' is not a day (YYYY-MM-DD)"))
    };
    Ok((day(from)?, day(to)?))
}

pub fn run(args: GenArgs, zone: chrono_tz::Tz) -> anyhow::Result<ExitCode> {
    let GenArgs {
        kind,
        count,
        region,
        birth_range: range,
        seed,
        json,
    } = args;
    let mut out = std::io::stdout().lock();
    if region.as_deref() == Some("list") {
        for (code, name) in crate::domain::construct::generate::DIVISIONS {
            writeln!(out, "{code}  {name}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !(1..=MAX_COUNT).contains(&count) {
        bail!("--count must be 1 to {MAX_COUNT}");
    }
    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    let mut spec = IdSpec::adults(today);
    spec.region = region;
    if let Some(range) = range {
        spec.born = birth_range(&range)?;
    }
    spec.check(today)?;
    let seed = match seed {
        Some(s) => s,
        None => {
            let mut raw = [0u8; 8];
            getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            u64::from_le_bytes(raw)
        }
    };
    let kind = match kind {
        GenKind::IdNumber => Kind::IdNumber,
        GenKind::Name => Kind::Name,
        GenKind::Phone => Kind::Phone,
        GenKind::BankCard => Kind::BankCard,
    };
    let values = generate(kind, count, &spec, &HashSet::new(), &mut Draw::new(seed))?;
    if json {
        writeln!(out, "{}", serde_json::to_string(&values)?)?;
    } else {
        for v in &values {
            writeln!(out, "{v}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
