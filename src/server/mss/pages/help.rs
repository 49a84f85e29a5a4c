//! The help center: its home and search, an article with "did this help?", the suggestions
//! offered while a problem is described, and what came of them.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use maud::Markup;
use serde::{Deserialize, Serialize};

use crate::server::AppState;
use crate::server::mss::error::{PageError, PageResult};
use crate::server::mss::markdown;
use crate::server::mss::session::Submitter;
use crate::server::mss::views::{self, SystemShelf, Vote};
use crate::store::help::Outcome;

use super::{frame, path_id};

/// The longest search the help center takes (characters); longer text is cut, not refused.
const MAX_SEARCH: usize = 200;
/// How many results a search page lists.
const RESULTS: usize = 30;

/// `/help/…` is the help center's short address; its pages live under `/mss/help/`, where the
/// submitter's session is.
pub async fn short_address(uri: Uri) -> Redirect {
    let rest = uri.path().strip_prefix("/help").unwrap_or("");
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    Redirect::permanent(&format!("/mss/help/{rest}{query}"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
    system: String,
}

/// The home (systems and hot issues), or the results of a search or of one system.
pub async fn help_center(
    State(s): State<AppState>,
    who: Submitter,
    Query(query): Query<SearchQuery>,
) -> PageResult<Markup> {
    let settings = &s.desk.settings;
    let names = |key: &str| settings.system_name(key).to_string();
    let q: String = query.q.chars().take(MAX_SEARCH).collect();
    // An unknown system is no filter, not an empty page.
    let system = settings
        .system_keys()
        .into_iter()
        .find(|k| *k == query.system)
        .map(|k| (k, settings.system_name(k)));
    if q.trim().is_empty() && system.is_none() {
        let home = s.desk.help_home().await?;
        let shelves: Vec<SystemShelf<'_>> = home
            .shelves
            .iter()
            .map(|(key, n)| SystemShelf {
                key,
                name: settings.system_name(key),
                articles: *n,
            })
            .collect();
        return Ok(views::help_home(
            &frame(&s, &who),
            &shelves,
            &home.hot,
            &names,
        ));
    }
    let page = s
        .desk
        .kb_page(&who.user, &q, system.map(|(k, _)| k), None, RESULTS)
        .await?;
    Ok(views::help_results(
        &frame(&s, &who),
        &q,
        system,
        &page,
        &names,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ArticleQuery {
    voted: String,
}

/// An article for submitters, counted as read (not again when coming back from a vote).
pub async fn help_article(
    State(s): State<AppState>,
    who: Submitter,
    Path(raw): Path<String>,
    Query(query): Query<ArticleQuery>,
) -> PageResult<Markup> {
    let id = path_id(&raw)?;
    let vote = match query.voted.as_str() {
        "yes" => Some(Vote::Helped),
        "no" => Some(Vote::DidNotHelp),
        _ => None,
    };
    let article = s.desk.help_article(&who.user, id, vote.is_none()).await?;
    let system = s.desk.settings.system_name(&article.system);
    Ok(views::help_article(
        &frame(&s, &who),
        &article,
        system,
        vote,
    ))
}

/// A picture an article for submitters shows (the steps name it `/kb/images/{id}`).
pub async fn help_image(
    State(s): State<AppState>,
    who: Submitter,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    let id = path_id(&raw)?;
    let (kept, path) = s.desk.kb_image(&who.user, id).await?;
    crate::server::api::kb::serve_picture(&kept, &path)
        .await
        .map_err(|_| PageError::NotFound)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VoteBody {
    csrf_token: String,
    helpful: String,
}

/// "Did this help?": kept once per submitter and article, then back to the article.
pub async fn help_vote(
    State(s): State<AppState>,
    who: Submitter,
    Path(raw): Path<String>,
    Form(body): Form<VoteBody>,
) -> PageResult<Response> {
    who.check_csrf(&body.csrf_token)?;
    let id = path_id(&raw)?;
    let helpful = match body.helpful.as_str() {
        "yes" => true,
        "no" => false,
        _ => {
            return Err(PageError::Refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "请选择“已解决”或“没有解决”".into(),
            ));
        }
    };
    s.desk.help_vote(&who.user, id, helpful).await?;
    let answer = if helpful { "yes" } else { "no" };
    Ok(Redirect::to(&format!("/mss/help/{id}?voted={answer}#vote")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct SuggestQuery {
    #[serde(default)]
    q: String,
}

/// A suggestion as the form's script shows it: the steps as plain text.
#[derive(Debug, Serialize)]
struct Suggestion {
    id: i64,
    system: String,
    title: String,
    body: String,
}

/// Up to three articles for what the submitter has typed so far.
pub async fn suggest(
    State(s): State<AppState>,
    _who: Submitter,
    Query(q): Query<SuggestQuery>,
) -> PageResult<Response> {
    let text: String = q.q.chars().take(2000).collect();
    let found = s.desk.help_suggestions(&text).await?;
    let list: Vec<Suggestion> = found
        .into_iter()
        .map(|a| Suggestion {
            id: a.id,
            system: a.article.system,
            title: a.article.title,
            body: markdown::plain(&a.article.steps),
        })
        .collect();
    // `no-store`, like every page answer, comes from the pages' header layer.
    Ok(Json(list).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OutcomeBody {
    csrf_token: String,
    outcome: String,
}

/// Records that a suggested article was opened, or that the submitter left without
/// submitting after reading it (sent by the page as it closes).
pub async fn help_outcome(
    State(s): State<AppState>,
    who: Submitter,
    Path(raw): Path<String>,
    Form(body): Form<OutcomeBody>,
) -> PageResult<Response> {
    who.check_csrf(&body.csrf_token)?;
    let id = path_id(&raw)?;
    let outcome = match Outcome::parse(&body.outcome) {
        Some(o @ (Outcome::Viewed | Outcome::Deflected)) => o,
        _ => {
            return Err(PageError::Refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "outcome 只能是 viewed 或 deflected".into(),
            ));
        }
    };
    s.desk.record_help_outcome(&who.user, id, outcome).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
