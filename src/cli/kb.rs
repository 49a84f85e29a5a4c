//! `opsdesk kb filter`: the knowledge base's matcher over lines, for scripts and for measuring
//! it beside `fzf --filter`.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::Subcommand;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};

use super::DataArg;
use crate::config::Settings;
use crate::domain::kb;
use crate::domain::matcher::{self, Corpus, Query};
use crate::service::kb::ArticleFile;

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
    /// Search the knowledge base on the server, best first: characters, pinyin (`khsb`),
    /// words with near spellings, `"phrases"`, `sys:` and `tag:` filters.
    Search {
        query: String,
        /// 1–100.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// The server's JSON page instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Import a directory of article files (markdown with TOML front matter, searched
    /// recursively for *.md) into the server's data dir: all of them, or none when any file
    /// is refused (each refused file is reported with every problem found in it).
    Import {
        dir: PathBuf,
        #[command(flatten)]
        data: DataArg,
        /// One JSON object per file on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Write every article to DIR/<system>/<id>.md, as `kb import` reads them.
    Export {
        dir: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
}

/// Reads every `*.md` under `dir`, in path order; names are paths relative to `dir`.
fn article_files(dir: &Path) -> anyhow::Result<Vec<ArticleFile>> {
    let mut paths = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let Ok(text) = String::from_utf8(bytes) else {
                bail!("{name}: not UTF-8 text; nothing was imported");
            };
            Ok(ArticleFile { name, text })
        })
        .collect()
}

pub async fn import(
    settings: Arc<Settings>,
    data: &DataArg,
    dir: &Path,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let files = article_files(dir)?;
    if files.is_empty() {
        bail!("no article files (*.md) under {}", dir.display());
    }
    // Refused files must not create or touch a data dir: check before opening it.
    let checked = match crate::service::kb::read_files(&files, &settings.system_keys()) {
        Ok(checked) => checked,
        Err(refused) => {
            for (file, problems) in &refused.0 {
                for p in problems {
                    eprintln!("{file}: {p}");
                }
            }
            bail!(
                "{} of {} files refused; nothing was imported",
                refused.0.len(),
                files.len()
            );
        }
    };
    let named = files.into_iter().map(|f| f.name).zip(checked).collect();
    let desk = super::open_desk(&settings, &super::data_dir(&settings, data))?;
    let done = desk.save_kb(named, "kb import").await;
    desk.store.shutdown();
    let done = done?;
    for d in &done {
        if json {
            println!("{}", serde_json::to_string(d)?);
        } else {
            println!("{}: {} {} (#{})", d.file, d.outcome, d.slug, d.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn export(
    settings: Arc<Settings>,
    data: &DataArg,
    dir: &Path,
) -> anyhow::Result<ExitCode> {
    let desk = super::open_existing(&settings, data)?;
    let articles = desk.kb_articles().await;
    desk.store.shutdown();
    let articles = articles?;
    for s in &articles {
        let folder = dir.join(&s.article.system);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        let path = folder.join(format!("{}.md", s.article.id));
        std::fs::write(&path, kb::render_file(&s.article))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "{} articles written under {}",
        articles.len(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn filter(query: &str, limit: Option<usize>) -> anyhow::Result<ExitCode> {
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

/// `kb search`: one line an article (number, system, title), or the JSON page. Exit code 1
/// when nothing matched.
/// The workstation's copy of `server`'s knowledge base, when there is one.
fn local_copy(server: &str) -> Option<Vec<crate::api::KbArticle>> {
    let path = crate::client::cache::Cache::chosen_path(server)?;
    if !path.exists() {
        return None;
    }
    let cache = crate::client::cache::Cache::open(&path, server).ok()?;
    cache.kb_articles().ok()
}

pub async fn search(
    client: &crate::client::ApiClient,
    query: &str,
    limit: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let (page, offline) = match client.kb_search(query, limit).await {
        Ok(page) => (page, false),
        // Out of reach: the workstation's copy of this server's knowledge base answers.
        Err(e @ crate::client::ClientError::Unreachable { .. }) => {
            match local_copy(client.base()) {
                Some(list) if !list.is_empty() => {
                    let page = crate::client::kb_copy::search(&list, query, limit)
                        .map_err(|why| anyhow::anyhow!("{why}"))?;
                    (page, true)
                }
                _ => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    if offline {
        eprintln!(
            "the server is out of reach: searched the workstation's copy of its knowledge base"
        );
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&page)?);
    } else {
        for a in &page.articles {
            let hot = if a.hot { " 🔥" } else { "" };
            println!("#{:<5} {:<16} {}{hot}", a.id, a.system, a.title);
        }
        eprintln!(
            "{} of {} matching articles",
            page.articles.len(),
            page.total
        );
    }
    Ok(if page.total == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
