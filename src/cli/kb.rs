//! `opsdesk kb filter`: the knowledge base's matcher over lines, for scripts and for measuring
//! it beside `fzf --filter`.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::Subcommand;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};

use super::DataArg;
use crate::config::Settings;
use crate::domain::matcher::{self, Corpus, Query};
use crate::domain::{kb, kb_images};
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
    /// Keep a picture (PNG, JPEG or WebP) on the server for articles' steps; prints the
    /// markdown that shows it (`![name](/kb/images/N)`), to paste into an article.
    Image {
        file: PathBuf,
        /// The server's answer as JSON instead.
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
    let named: Vec<(String, kb::Article)> =
        files.into_iter().map(|f| f.name).zip(checked).collect();
    let pictures = pictures_beside(dir, &named)?;
    let desk = super::open_desk(&settings, &super::data_dir(&settings, data))?;
    let done = async {
        let named = keep_pictures(&desk, named, pictures).await?;
        desk.save_kb(named, "kb import")
            .await
            .map_err(anyhow::Error::from)
    }
    .await;
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

/// The pictures the files show from beside them (`![流程](images/flow.png)`), read.
#[derive(Default)]
struct Pictures {
    /// Per file, in order: each address it shows a picture by, and the file it names.
    named: Vec<BTreeMap<String, PathBuf>>,
    bytes: BTreeMap<PathBuf, Vec<u8>>,
}

/// Reads the pictures `named` files show from beside them. Nothing is read from outside
/// `dir`; a picture missing, or named where it cannot be renamed (a reference definition),
/// refuses the import before anything is stored.
fn pictures_beside(dir: &Path, named: &[(String, kb::Article)]) -> anyhow::Result<Pictures> {
    let root = dir
        .canonicalize()
        .with_context(|| format!("reading {}", dir.display()))?;
    let mut pictures = Pictures::default();
    let mut problems = Vec::new();
    for (file, a) in named {
        let folder = root
            .join(file)
            .parent()
            .map_or(root.clone(), Path::to_path_buf);
        let mut these = BTreeMap::new();
        for r in kb_images::refs(&a.steps) {
            if !kb_images::is_beside(&r.url) {
                continue;
            }
            if r.span.is_none() {
                // Written where it cannot be renamed the server's way after it is kept.
                let url = &r.url;
                problems.push(format!(
                    "{file}: picture '{url}': write it as ![text]({url}) to import it"
                ));
            }
            match folder.join(&r.url).canonicalize() {
                Ok(path) if path.starts_with(&root) && path.is_file() => {
                    if !pictures.bytes.contains_key(&path) {
                        let bytes = std::fs::read(&path)
                            .with_context(|| format!("reading {}", path.display()))?;
                        pictures.bytes.insert(path.clone(), bytes);
                    }
                    these.insert(r.url, path);
                }
                Ok(_) => problems.push(format!(
                    "{file}: picture '{}' is outside {}",
                    r.url,
                    dir.display()
                )),
                Err(_) => problems.push(format!("{file}: picture '{}' not found", r.url)),
            }
        }
        pictures.named.push(these);
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        bail!("{} pictures refused; nothing was imported", problems.len());
    }
    Ok(pictures)
}

/// Keeps the pictures read beside the files and names them the server's way in the steps
/// (`/kb/images/{id}`). A file that is not a picture refuses the import; the pictures kept
/// before it stay, shown by no article.
async fn keep_pictures(
    desk: &crate::service::Desk,
    mut named: Vec<(String, kb::Article)>,
    pictures: Pictures,
) -> anyhow::Result<Vec<(String, kb::Article)>> {
    let mut kept = BTreeMap::new();
    for (path, bytes) in pictures.bytes {
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let (image, _) = desk
            .kb_keep_image("kb import", &filename, bytes.into())
            .await
            .with_context(|| format!("picture {}; nothing was imported", path.display()))?;
        kept.insert(path, image.url);
    }
    for ((_, article), these) in named.iter_mut().zip(&pictures.named) {
        let renamed = |url: &str| these.get(url).and_then(|path| kept.get(path)).cloned();
        article.steps = kb_images::rewrite(&article.steps, renamed)
            .map_err(|url| anyhow::anyhow!("picture '{url}' could not be renamed"))?;
    }
    Ok(named)
}

/// Writes every article to `dir/<system>/<slug>.md`, and the pictures they show to
/// `dir/images/<id>.<png|jpg>`, named from the articles by that relative path (what the
/// import reads back as the same pictures). The articles written.
async fn write_articles(
    desk: &crate::service::Desk,
    dir: &Path,
) -> anyhow::Result<Vec<crate::store::kb::Stored>> {
    let mut articles = desk.kb_articles().await?;
    let images = dir.join("images");
    let mut written = std::collections::BTreeSet::new();
    for s in &mut articles {
        let mut names = BTreeMap::new();
        for id in kb_images::stored_ids(&s.article.steps) {
            let (kept, from) = desk.kb_picture(id).await?;
            let ext = if kept.content_type == "image/png" {
                "png"
            } else {
                "jpg"
            };
            let name = format!("{id}.{ext}");
            if written.insert(id) {
                std::fs::create_dir_all(&images)
                    .with_context(|| format!("creating {}", images.display()))?;
                std::fs::copy(&from, images.join(&name))
                    .with_context(|| format!("copying picture {id} from {}", from.display()))?;
            }
            names.insert(
                format!("{}{id}", kb_images::PATH),
                format!("../images/{name}"),
            );
        }
        s.article.steps = kb_images::rewrite(&s.article.steps, |url| names.get(url).cloned())
            .map_err(|url| {
                anyhow::anyhow!("article {}: picture '{url}' could not be renamed", s.id)
            })?;
        let folder = dir.join(&s.article.system);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        let path = folder.join(format!("{}.md", s.article.id));
        std::fs::write(&path, kb::render_file(&s.article))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(articles)
}

pub async fn export(
    settings: Arc<Settings>,
    data: &DataArg,
    dir: &Path,
) -> anyhow::Result<ExitCode> {
    let desk = super::open_existing(&settings, data)?;
    let written = write_articles(&desk, dir).await;
    desk.store.shutdown();
    let articles = written?;
    println!(
        "{} articles written under {}",
        articles.len(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn image(
    client: &crate::client::ApiClient,
    file: &Path,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "picture".into());
    let image = client.kb_add_image(&name, bytes).await?;
    if json {
        println!("{}", serde_json::to_string(&image)?);
    } else {
        println!("{}", image.markdown);
    }
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

/// The workstation's copy of `server`'s knowledge base, when there is one.
fn local_copy(server: &str) -> Option<Vec<crate::api::KbArticle>> {
    let path = crate::client::cache::Cache::chosen_path(server)?;
    if !path.exists() {
        return None;
    }
    let cache = crate::client::cache::Cache::open(&path, server).ok()?;
    cache.kb_articles().ok()
}

/// `kb search`: one line an article (number, system, title), or the JSON page. Exit code 1
/// when nothing matched.
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
