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
