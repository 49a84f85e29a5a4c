//! Knowledge-base bodies: a search hit and a whole article.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::kb::{Article, Audience};
use crate::domain::ticket::Category;

/// An article as a search result: enough to list it and show why it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KbSummary {
    /// The article's number, for `GET /api/v1/kb/articles/{id}`.
    pub id: i64,
    pub version: i64,
    /// The stable slug its file carries.
    pub slug: String,
    pub title: String,
    pub system: String,
    pub category: Category,
    pub tags: Vec<String>,
    pub audience: Audience,
    pub hot: bool,
    pub symptoms: Vec<String>,
    pub views: u64,
    pub helpful: u64,
    pub updated_at: DateTime<Utc>,
    /// Where the query matched in the title: `[start, end)` character ranges.
    pub highlights: Vec<[usize; 2]>,
}

/// A page of search results, best first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KbPage {
    pub articles: Vec<KbSummary>,
    /// How many articles matched in all.
    pub total: usize,
    /// No article matched every word, so these are the ones that share the most with the
    /// text (a ticket's title, a sentence): related, not matching.
    #[serde(default)]
    pub related: bool,
}

/// A whole article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KbArticle {
    pub id: i64,
    pub version: i64,
    pub slug: String,
    pub title: String,
    pub system: String,
    pub category: Category,
    pub tags: Vec<String>,
    pub audience: Audience,
    pub hot: bool,
    pub symptoms: Vec<String>,
    pub cause: String,
    /// The resolution steps, markdown.
    pub steps: String,
    pub source_tickets: Vec<i64>,
    pub author: String,
    pub views: u64,
    pub helpful: u64,
    pub updated_at: DateTime<Utc>,
}

impl KbPage {
    /// What a search found as a page: each hit's article (its number, version and content, by
    /// the hit's entry) with the title's matched characters picked out.
    pub fn of<'a>(
        found: &crate::domain::matcher::Found,
        corpus: &crate::domain::matcher::Corpus,
        query: &crate::domain::matcher::Query,
        related: bool,
        entry: impl Fn(usize) -> (i64, i64, &'a Article),
    ) -> KbPage {
        let articles = found
            .hits
            .iter()
            .map(|h| {
                let (id, version, article) = entry(h.entry as usize);
                let title =
                    crate::domain::kb_search::title_highlights(corpus, h.entry as usize, query);
                KbSummary::new(id, version, article, &title)
            })
            .collect();
        KbPage {
            articles,
            total: found.total,
            related,
        }
    }
}

impl KbSummary {
    pub fn new(id: i64, version: i64, a: &Article, highlights: &[(usize, usize)]) -> KbSummary {
        KbSummary {
            id,
            version,
            slug: a.id.clone(),
            title: a.title.clone(),
            system: a.system.clone(),
            category: a.category,
            tags: a.tags.clone(),
            audience: a.audience,
            hot: a.hot,
            symptoms: a.symptoms.clone(),
            views: a.views,
            helpful: a.helpful,
            updated_at: a.updated_at,
            highlights: highlights.iter().map(|&(s, e)| [s, e]).collect(),
        }
    }
}

impl KbArticle {
    /// The article's content, as its file holds it (the counters are the server's).
    pub fn article(&self) -> Article {
        Article {
            id: self.slug.clone(),
            title: self.title.clone(),
            system: self.system.clone(),
            category: self.category,
            tags: self.tags.clone(),
            audience: self.audience,
            hot: self.hot,
            symptoms: self.symptoms.clone(),
            cause: self.cause.clone(),
            source_tickets: self.source_tickets.clone(),
            author: self.author.clone(),
            updated_at: self.updated_at,
            views: self.views,
            helpful: self.helpful,
            steps: self.steps.clone(),
        }
    }

    pub fn new(id: i64, version: i64, a: &Article) -> KbArticle {
        KbArticle {
            id,
            version,
            slug: a.id.clone(),
            title: a.title.clone(),
            system: a.system.clone(),
            category: a.category,
            tags: a.tags.clone(),
            audience: a.audience,
            hot: a.hot,
            symptoms: a.symptoms.clone(),
            cause: a.cause.clone(),
            steps: a.steps.clone(),
            source_tickets: a.source_tickets.clone(),
            author: a.author.clone(),
            views: a.views,
            helpful: a.helpful,
            updated_at: a.updated_at,
        }
    }
}

/// A past version of an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KbRevision {
    pub version: i64,
    /// Who saved the version that replaced it, and when.
    pub replaced_by: String,
    pub replaced_at: DateTime<Utc>,
    /// The article as it was: its file (front matter and steps), as `kb export` writes it.
    pub file: String,
}

/// The articles saved since a point, whole: what a workstation keeps to search offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KbChanges {
    /// Every article saved after `since`, in the order they were saved.
    pub articles: Vec<KbArticle>,
    /// Where the next call starts (its `since`): the last save among these, or the `since`
    /// given when there is none. An article saved again comes again and replaces the copy.
    pub until: i64,
}

/// An article as a handler writes it: the body of `POST /api/v1/kb/articles` (without
/// `version`) and of `PUT /api/v1/kb/articles/{id}` (with the version last read). The author
/// is the caller; the time is the server's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KbArticleBody {
    /// The version last read: required to replace an article, absent to create one.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::whole::whole_or_null"
    )]
    pub version: Option<i64>,
    /// The stable slug (`[a-z0-9-]`, at most 60); made from the system and the article's
    /// number when absent. An article keeps the slug it was created with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    pub title: String,
    /// A configured system key.
    pub system: String,
    /// Consultation unless said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Handlers only unless said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
    #[serde(default)]
    pub hot: bool,
    /// What the customer sees, exact error texts included.
    #[serde(default)]
    pub symptoms: Vec<String>,
    #[serde(default)]
    pub cause: String,
    /// The resolution steps, markdown.
    pub steps: String,
    /// The tickets it was written from; each must exist.
    #[serde(default, deserialize_with = "super::whole::wholes")]
    pub source_tickets: Vec<i64>,
}

impl KbArticleBody {
    /// The article this body writes, by `author` at `at`, under `slug`.
    pub fn article(&self, slug: &str, author: &str, at: DateTime<Utc>) -> Article {
        Article {
            id: slug.trim().to_string(),
            title: self.title.trim().to_string(),
            system: self.system.clone(),
            category: self.category.unwrap_or(Category::Consultation),
            tags: self.tags.iter().map(|t| t.trim().to_string()).collect(),
            audience: self.audience.unwrap_or(Audience::Handlers),
            hot: self.hot,
            symptoms: self.symptoms.iter().map(|s| s.trim().to_string()).collect(),
            cause: self.cause.trim().to_string(),
            source_tickets: self.source_tickets.clone(),
            author: author.to_string(),
            // Files say the time to the second; the article keeps what its file says.
            updated_at: chrono::SubsecRound::trunc_subsecs(at, 0),
            views: 0,
            helpful: 0,
            steps: self.steps.trim().to_string(),
        }
    }

    /// The body that writes `a` (as an editor's file holds it) over `version`, or as a new
    /// article when `version` is None.
    pub fn of(a: &Article, version: Option<i64>) -> KbArticleBody {
        KbArticleBody {
            version,
            slug: (!a.id.is_empty()).then(|| a.id.clone()),
            title: a.title.clone(),
            system: a.system.clone(),
            category: Some(a.category),
            tags: a.tags.clone(),
            audience: Some(a.audience),
            hot: a.hot,
            symptoms: a.symptoms.clone(),
            cause: a.cause.clone(),
            steps: a.steps.clone(),
            source_tickets: a.source_tickets.clone(),
        }
    }
}

/// A picture kept for articles' steps: show it with `markdown` (or `url`) in an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KbImage {
    pub id: i64,
    /// How an article names it: `/kb/images/{id}`. The help center serves it to submitters
    /// when an article meant for them shows it; handlers fetch it at `/api/v1/kb/images/{id}`.
    pub url: String,
    /// `![filename](url)`, ready to paste into an article's steps.
    pub markdown: String,
    pub filename: String,
    /// `image/png` or `image/jpeg`: pictures are re-encoded when kept.
    pub content_type: String,
    pub size: i64,
    pub width: u32,
    pub height: u32,
}
