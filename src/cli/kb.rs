//! `opsdesk kb filter`: the knowledge base's matcher over lines, for scripts and for measuring
//! it beside `fzf --filter`.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::Subcommand;

use crate::domain::matcher::{self, Corpus, Query};

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Print the lines of standard input that match QUERY, best first (like `fzf --filter`):
    /// characters, full pinyin or initials (`khsb` finds 开户失败), near spellings of words,
    /// `"exact phrases"`. Exit code 1 when nothing matches.
    Filter {
        query: String,
        /// Print at most this many lines.
        #[arg(long)]
        limit: Option<usize>,
    },
}

pub fn run(cmd: KbCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KbCommand::Filter { query, limit } => filter(&query, limit),
    }
}

fn filter(query: &str, limit: Option<usize>) -> anyhow::Result<ExitCode> {
    let query = Query::parse(query)?;
    let stdin = std::io::stdin();
    // A file on stdin tells its size: one allocation instead of a doubling series of copies.
    let size = std::fs::File::open("/dev/stdin")
        .and_then(|f| f.metadata())
        .map_or(0, |m| m.len() as usize);
    let mut input = Vec::with_capacity(size + 1);
    stdin.lock().read_to_end(&mut input)?;
    // Valid UTF-8 is checked with SIMD (std's check slows to a byte at a time on Chinese);
    // only a broken input pays for the repair.
    let text = match simdutf8::basic::from_utf8(&input) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(&input),
    };
    let lines: Vec<&str> = text.lines().collect();
    let corpus = Corpus::from_lines(&lines);
    let found = matcher::search(&corpus, &query, limit.unwrap_or(usize::MAX));
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for hit in &found.hits {
        let line = lines[hit.entry as usize];
        // A reader that stops early (`| head`) is not an error.
        if writeln!(out, "{line}").is_err() {
            return Ok(ExitCode::SUCCESS);
        }
    }
    if out.flush().is_err() {
        return Ok(ExitCode::SUCCESS);
    }
    Ok(if found.total == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
