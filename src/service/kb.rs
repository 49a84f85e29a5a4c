//! The knowledge base's use cases: importing and exporting article files, searching.

use chrono::{DateTime, Utc};

use super::tickets::require_handler;
use super::{Desk, DeskError};
use crate::api::{KbArticle, KbArticleBody, KbChanges, KbPage, KbRevision};
use crate::domain::kb::{self, Article};
use crate::domain::kb_search;
use crate::domain::matcher::{self, Corpus, Query};
use crate::domain::people::Role;
use crate::domain::validate::ValidationErrors;
use crate::store::kb::{self as articles, Saved, Stored};
use crate::store::users::User;
use crate::store::{WriteCtx, audit, tickets};

/// One file offered to the import: a name to report it by, and its text.
#[derive(Debug, Clone)]
pub struct ArticleFile {
    pub name: String,
    pub text: String,
}

/// What the import did with one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Imported {
    pub file: String,
    pub slug: String,
    pub id: i64,
    /// `created`, `updated` or `unchanged`.
    pub outcome: &'static str,
}

/// Files the import refused, each with every problem found in it; nothing was imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub Vec<(String, Vec<String>)>);

/// Reads and checks every file; the articles, or every file's problems.
pub fn read_files(files: &[ArticleFile], systems: &[&str]) -> Result<Vec<Article>, Refused> {
    let mut good = Vec::new();
    let mut refused = Vec::new();
    let mut first_of: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
    for f in files {
        match kb::parse_file(&f.text) {
            Err(e) => refused.push((f.name.clone(), vec![e.0])),
            Ok(a) => {
                let mut problems: Vec<String> =
                    kb::check(&a, systems).into_iter().map(|p| p.en).collect();
                if let Some(other) = first_of.get(&a.id) {
                    problems.push(format!("id '{}' is also the id of {other}", a.id));
                } else {
                    first_of.insert(a.id.clone(), &f.name);
                }
                if problems.is_empty() {
                    good.push(a);
                } else {
                    refused.push((f.name.clone(), problems));
                }
            }
        }
    }
    if refused.is_empty() {
        Ok(good)
    } else {
        Err(Refused(refused))
    }
}

/// Saves checked articles in one transaction.
pub(crate) fn save_all(
    ctx: &mut WriteCtx<'_>,
    list: &[(String, Article)],
    editor: &str,
    at: DateTime<Utc>,
) -> Result<Vec<Imported>, DeskError> {
    let mut out = Vec::with_capacity(list.len());
    for (file, a) in list {
        super::kb_images::pictures_kept(ctx.conn, a, &format!("{file}: "))?;
        let (id, outcome) = match articles::save(ctx.conn, a, editor, at)? {
            Saved::Created { id } => (id, "created"),
            Saved::Updated { id, .. } => (id, "updated"),
            Saved::Unchanged { id } => (id, "unchanged"),
        };
        out.push(Imported {
            file: file.clone(),
            slug: a.id.clone(),
            id,
            outcome,
        });
    }
    Ok(out)
}

fn parse_query(query: &str) -> Result<Query, DeskError> {
    Query::parse(query).map_err(|e| {
        DeskError::Validation(ValidationErrors::one(
            "q",
            format!("搜索内容最多 {} 个字", matcher::query::MAX_QUERY_CHARS),
            e.to_string(),
        ))
    })
}

/// Refuses `article` when it breaks the rules (422) or names a ticket that is not there (409).
fn checked(ctx: &mut WriteCtx<'_>, article: &Article, systems: &[String]) -> Result<(), DeskError> {
    let systems: Vec<&str> = systems.iter().map(String::as_str).collect();
    let problems = kb::check(article, &systems);
    if !problems.is_empty() {
        return Err(DeskError::Validation(ValidationErrors(problems)));
    }
    super::kb_images::pictures_kept(ctx.conn, article, "")?;
    for &t in &article.source_tickets {
        if tickets::get(ctx.conn, t)?.is_none() {
            return Err(DeskError::Conflicting(ValidationErrors::one(
                "source_tickets",
                format!("工单 #{t} 不存在"),
                format!("ticket {t} does not exist"),
            )));
        }
    }
    Ok(())
}

/// Records in the audit log that `who` did `action` to article `id`.
fn audited(ctx: &mut WriteCtx<'_>, who: &str, action: &str, id: i64) -> Result<(), DeskError> {
    let detail = serde_json::json!({ "article": id });
    audit::record(ctx.conn, ctx.now, who, action, None, &detail)?;
    Ok(())
}

/// Article `id` as it now stands.
fn stored(ctx: &mut WriteCtx<'_>, id: i64) -> Result<KbArticle, DeskError> {
    let s =
        articles::get(ctx.conn, id)?.ok_or_else(|| DeskError::NotFound(format!("article {id}")))?;
    Ok(KbArticle::new(s.id, s.version, &s.article))
}

/// What reading an article counts.
#[derive(Clone, Copy)]
enum Counter {
    Read,
    Helpful,
}

/// Whether `user` may read `article`: handlers and admins every one, submitters those meant
/// for them.
fn may_read(user: &User, article: &Article) -> bool {
    user.role != Role::Submitter || article.for_submitters()
}

impl Desk {
    /// One article, counted as read; an article the caller may not read is not found.
    pub async fn kb_article(&self, user: &User, id: i64) -> Result<KbArticle, DeskError> {
        self.kb_count(user, id, Counter::Read).await
    }

    /// Counts one "this helped" from `user` (once: the vote the help center keeps too); the
    /// article as it now stands.
    pub async fn kb_helpful(&self, user: &User, id: i64) -> Result<KbArticle, DeskError> {
        self.kb_count(user, id, Counter::Helpful).await
    }

    async fn kb_count(
        &self,
        user: &User,
        id: i64,
        counter: Counter,
    ) -> Result<KbArticle, DeskError> {
        let user = user.clone();
        self.write(move |ctx| {
            let found = articles::get(ctx.conn, id)?
                .filter(|s| may_read(&user, &s.article))
                .ok_or_else(|| DeskError::NotFound(format!("article {id}")))?;
            let mut a = found.article;
            match counter {
                Counter::Read => {
                    articles::count_view(ctx.conn, id)?;
                    a.views += 1;
                }
                // Once a reader: saying it again does not count twice.
                Counter::Helpful => {
                    if articles::vote(ctx.conn, id, &user.username, true, ctx.now)? != Some(true) {
                        a.helpful += 1;
                    }
                }
            }
            Ok(KbArticle::new(found.id, found.version, &a))
        })
        .await
    }

    /// The articles `user` may read that match `query`, best first: the API's search. Only
    /// those of `system`, and only those written from ticket `ticket`, when given.
    pub async fn kb_page(
        &self,
        user: &User,
        text: &str,
        system: Option<&str>,
        ticket: Option<i64>,
        limit: usize,
    ) -> Result<KbPage, DeskError> {
        let query = parse_query(text)?;
        let mut list = self.store.read(articles::all).await?;
        list.retain(|s| {
            may_read(user, &s.article)
                && system.is_none_or(|k| s.article.system == k)
                && ticket.is_none_or(|t| s.article.source_tickets.contains(&t))
        });
        let corpus = self.kb_corpus(&list);
        let (query, found, related) = kb_search::find(&corpus, query, text, limit);
        Ok(KbPage::of(&found, &corpus, &query, related, |i| {
            (list[i].id, list[i].version, &list[i].article)
        }))
    }

    /// The matcher's corpus of `list`, with the systems' names searchable beside their keys.
    pub(super) fn kb_corpus(&self, list: &[Stored]) -> Corpus {
        kb_search::corpus(list.iter().map(|s| &s.article), |key| {
            self.settings.system_name(key).to_string()
        })
    }

    /// Writes a new article from `body` by `user` (a handler): checked whole, its source
    /// tickets present. The article as stored.
    pub async fn kb_create(
        &self,
        user: &User,
        body: KbArticleBody,
    ) -> Result<KbArticle, DeskError> {
        require_handler(user)?;
        if body.version.is_some() {
            return Err(DeskError::Validation(ValidationErrors::one(
                "version",
                "新文章没有版本号",
                "a new article has no version; PUT /api/v1/kb/articles/{id} replaces one",
            )));
        }
        let systems = self.owned_system_keys();
        let author = user.username.clone();
        self.write(move |ctx| {
            let slug = match &body.slug {
                Some(slug) => slug.clone(),
                None => articles::next_slug(ctx.conn, &body.system)?,
            };
            let article = body.article(&slug, &author, ctx.now);
            checked(ctx, &article, &systems)?;
            if articles::by_slug(ctx.conn, &article.id)?.is_some() {
                return Err(DeskError::Conflicting(ValidationErrors::one(
                    "slug",
                    "这个编号已有文章",
                    format!("slug '{}' is another article's", article.id),
                )));
            }
            let Saved::Created { id } = articles::save(ctx.conn, &article, &author, ctx.now)?
            else {
                unreachable!("a slug no article has is saved as a new article");
            };
            audited(ctx, &author, "kb.created", id)?;
            stored(ctx, id)
        })
        .await
    }

    /// Article `id`'s past versions, newest first (handlers: what was there before).
    pub async fn kb_revisions(&self, user: &User, id: i64) -> Result<Vec<KbRevision>, DeskError> {
        require_handler(user)?;
        let (found, list) = self
            .store
            .read(move |conn| {
                Ok::<_, crate::store::StoreError>((
                    articles::get(conn, id)?,
                    articles::revisions(conn, id)?,
                ))
            })
            .await?;
        if found.is_none() {
            return Err(DeskError::NotFound(format!("article {id}")));
        }
        list.into_iter()
            .map(|r| {
                Ok(KbRevision {
                    version: r.version,
                    replaced_by: r.replaced_by,
                    replaced_at: crate::store::parse_ts(&r.replaced_at)?,
                    file: r.content,
                })
            })
            .collect()
    }

    /// The configured system keys, to be moved into a write.
    fn owned_system_keys(&self) -> Vec<String> {
        self.settings
            .system_keys()
            .iter()
            .map(|k| k.to_string())
            .collect()
    }

    /// Replaces article `id` with `body` by `user` (a handler), when `body.version` is the
    /// version stored; the previous text is kept as a revision.
    pub async fn kb_update(
        &self,
        user: &User,
        id: i64,
        body: KbArticleBody,
    ) -> Result<KbArticle, DeskError> {
        require_handler(user)?;
        let Some(version) = body.version else {
            return Err(DeskError::Validation(ValidationErrors::one(
                "version",
                "请带上读到的版本号",
                "version is required: the version last read",
            )));
        };
        let systems = self.owned_system_keys();
        let editor = user.username.clone();
        self.write(move |ctx| {
            let found = articles::get(ctx.conn, id)?
                .ok_or_else(|| DeskError::NotFound(format!("article {id}")))?;
            if found.version != version {
                return Err(DeskError::StaleArticle {
                    id,
                    current: found.version,
                });
            }
            if body
                .slug
                .as_ref()
                .is_some_and(|s| s.trim() != found.article.id)
            {
                return Err(DeskError::Conflicting(ValidationErrors::one(
                    "slug",
                    "文章的编号不能改",
                    format!("article {id} keeps its slug '{}'", found.article.id),
                )));
            }
            let mut article = body.article(&found.article.id, &found.article.author, ctx.now);
            checked(ctx, &article, &systems)?;
            (article.views, article.helpful) = (found.article.views, found.article.helpful);
            if let Saved::Updated { .. } = articles::save(ctx.conn, &article, &editor, ctx.now)? {
                audited(ctx, &editor, "kb.updated", id)?;
            }
            stored(ctx, id)
        })
        .await
    }

    /// Imports article files: all of them in one transaction, or none when any is refused.
    pub async fn import_kb(
        &self,
        files: Vec<ArticleFile>,
        editor: &str,
    ) -> Result<Result<Vec<Imported>, Refused>, DeskError> {
        match read_files(&files, &self.settings.system_keys()) {
            Ok(checked) => {
                let named = files.into_iter().map(|f| f.name).zip(checked).collect();
                Ok(Ok(self.save_kb(named, editor).await?))
            }
            Err(refused) => Ok(Err(refused)),
        }
    }

    /// Saves articles already checked by [`read_files`], named by their files, in one
    /// transaction.
    pub async fn save_kb(
        &self,
        named: Vec<(String, Article)>,
        editor: &str,
    ) -> Result<Vec<Imported>, DeskError> {
        let editor = editor.to_string();
        self.write(move |ctx| {
            let now = ctx.now;
            save_all(ctx, &named, &editor, now)
        })
        .await
    }

    /// The articles `user` may read saved after save number `since` (0: all), whole.
    pub async fn kb_changes(&self, user: &User, since: i64) -> Result<KbChanges, DeskError> {
        let (list, until) = self
            .store
            .read(move |conn| articles::saved_since(conn, since))
            .await?;
        Ok(KbChanges {
            articles: list
                .iter()
                .filter(|s| may_read(user, &s.article))
                .map(|s| KbArticle::new(s.id, s.version, &s.article))
                .collect(),
            until,
        })
    }

    /// Every article, in id order.
    pub async fn kb_articles(&self) -> Result<Vec<Stored>, DeskError> {
        Ok(self.store.read(articles::all).await?)
    }
}
