//! The help center as submitters meet it: knowledge-base articles meant for them, suggested
//! while a problem is described, and what the submitter did next.

use chrono::{DateTime, Utc};

use super::{Desk, DeskError};
use crate::api::{KbArticle, KbSummary};
use crate::domain::kb::{Article, Audience};
use crate::domain::matcher::Query;
use crate::store::WriteCtx;
use crate::store::help::{self as outcomes, OldArticle, Outcome};
use crate::store::kb::{self as articles, Saved, Stored};
use crate::store::users::User;

/// At most this many suggestions are shown under the description.
pub const MAX_SUGGESTIONS: usize = 3;

/// How many of the most read articles the help center's home lists.
pub const HOT_ISSUES: usize = 8;

/// The help center's home.
#[derive(Debug, Clone)]
pub struct HelpHome {
    /// Each system with articles for submitters: its key and how many.
    pub shelves: Vec<(String, usize)>,
    /// The articles read most, most first.
    pub hot: Vec<KbSummary>,
}

/// The articles `list` holds for submitters.
fn for_submitters(list: &mut Vec<Stored>) {
    list.retain(|s| s.article.for_submitters());
}

/// Article `id` when submitters may be shown it; one that is not there or not for them is
/// not found.
fn shown(conn: &rusqlite::Connection, id: i64) -> Result<Stored, DeskError> {
    shown_to_submitters(conn, id)?.ok_or_else(|| DeskError::NotFound(format!("help article {id}")))
}

/// Article `id`, if it is there and meant for submitters too.
pub(crate) fn shown_to_submitters(
    conn: &rusqlite::Connection,
    id: i64,
) -> Result<Option<Stored>, crate::store::StoreError> {
    Ok(articles::get(conn, id)?.filter(|s| s.article.for_submitters()))
}

impl Desk {
    /// Up to three articles for submitters that match what `text` says, best first: the words
    /// as typed when they match (`khsb`, `opne acount`), else what the text is about.
    pub async fn help_suggestions(&self, text: &str) -> Result<Vec<Stored>, DeskError> {
        let mut list = self.store.read(articles::all).await?;
        for_submitters(&mut list);
        // Words too long to be a query are still a description to read.
        let query = Query::parse(text).unwrap_or_else(|_| Query::about(text));
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let (_, found, _) =
            crate::domain::kb_search::find(&self.kb_corpus(&list), query, text, MAX_SUGGESTIONS);
        let mut list: Vec<Option<Stored>> = list.into_iter().map(Some).collect();
        Ok(found
            .hits
            .iter()
            .filter_map(|h| list[h.entry as usize].take())
            .collect())
    }

    /// An article for submitters, counted as read when `counted`; one that is not for
    /// submitters is not found.
    pub async fn help_article(
        &self,
        user: &User,
        id: i64,
        counted: bool,
    ) -> Result<KbArticle, DeskError> {
        if counted {
            return self.kb_article(user, id).await;
        }
        self.store
            .read(move |conn| shown_to_submitters(conn, id))
            .await?
            .map(|s| KbArticle::new(s.id, s.version, &s.article))
            .ok_or_else(|| DeskError::NotFound(format!("help article {id}")))
    }

    /// Records what `actor` did after article `id` was suggested; opening it counts as reading
    /// it. An article that is not there, or not for submitters, is refused rather than counted.
    pub async fn record_help_outcome(
        &self,
        actor: &User,
        id: i64,
        outcome: Outcome,
    ) -> Result<(), DeskError> {
        let who = actor.username.clone();
        self.write(move |ctx| {
            shown(ctx.conn, id)?;
            if outcome == Outcome::Viewed {
                articles::count_view(ctx.conn, id)?;
            }
            outcomes::record_outcome(ctx.conn, &who, id, outcome, ctx.now)?;
            Ok(())
        })
        .await
    }

    /// The help center's home: each configured system with how many articles it has for
    /// submitters (those with none left out), and the articles read most.
    pub async fn help_home(&self) -> Result<HelpHome, DeskError> {
        let mut list = self.store.read(articles::all).await?;
        for_submitters(&mut list);
        let shelves = self
            .settings
            .system_keys()
            .into_iter()
            .map(|key| {
                let n = list.iter().filter(|s| s.article.system == key).count();
                (key.to_string(), n)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        list.sort_by(|a, b| {
            (b.article.views, b.article.hot, b.article.helpful)
                .cmp(&(a.article.views, a.article.hot, a.article.helpful))
                .then(a.id.cmp(&b.id))
        });
        let hot = list
            .iter()
            .take(HOT_ISSUES)
            .map(|s| KbSummary::new(s.id, s.version, &s.article, &[]))
            .collect();
        Ok(HelpHome { shelves, hot })
    }

    /// Keeps `user`'s answer to "did this help?" on article `id` (once per article: a second
    /// answer replaces the first).
    pub async fn help_vote(&self, user: &User, id: i64, helpful: bool) -> Result<(), DeskError> {
        let who = user.username.clone();
        self.write(move |ctx| {
            shown(ctx.conn, id)?;
            articles::vote(ctx.conn, id, &who, helpful, ctx.now)?;
            Ok(())
        })
        .await
    }

    /// Adopts the help center's articles from before the knowledge base (see [`adopt`]).
    pub async fn adopt_help_center(&self) -> Result<usize, DeskError> {
        let fallback = self.settings.system_keys().first().map(|k| k.to_string());
        self.write(move |ctx| adopt(ctx, fallback.as_deref())).await
    }
}

/// Moves the help center's articles from before the knowledge base into it, with what
/// submitters did with them: an article becomes the knowledge-base article of the same title
/// when there is one, else a new article for submitters. How many were adopted.
pub(crate) fn adopt(
    ctx: &mut WriteCtx<'_>,
    fallback_system: Option<&str>,
) -> Result<usize, DeskError> {
    let old = outcomes::old_articles(ctx.conn)?;
    if old.is_empty() {
        return Ok(0);
    }
    let kb = articles::all(ctx.conn)?;
    for o in &old {
        let same_title = kb.iter().find(|s| s.article.title == o.title).map(|s| s.id);
        let id = match same_title {
            Some(id) => id,
            None => {
                let article = adopted_article(o, fallback_system, ctx.now);
                match articles::save(ctx.conn, &article, "help-center", ctx.now)? {
                    Saved::Created { id } | Saved::Unchanged { id } | Saved::Updated { id, .. } => {
                        id
                    }
                }
            }
        };
        outcomes::adopt_old_article(ctx.conn, o.id, id)?;
    }
    tracing::info!(
        articles = old.len(),
        "help center adopted into the knowledge base"
    );
    Ok(old.len())
}

/// A help-center article as a knowledge-base article for submitters: its body is the steps.
fn adopted_article(o: &OldArticle, fallback_system: Option<&str>, now: DateTime<Utc>) -> Article {
    let updated_at = DateTime::parse_from_rfc3339(&o.created_at)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let system = o
        .system
        .clone()
        .or_else(|| fallback_system.map(str::to_string))
        .unwrap_or_default();
    Article {
        id: format!("help-{}", o.id),
        title: o.title.clone(),
        audience: Audience::Submitters,
        updated_at,
        steps: o.body.clone(),
        ..Article::draft(&system, "help-center", updated_at)
    }
}
