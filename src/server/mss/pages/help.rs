//! Help-center suggestions while a problem is described, and what came of them.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use maud::Markup;
use serde::Deserialize;

use crate::server::AppState;
use crate::server::mss::error::{PageError, PageResult};
use crate::server::mss::session::Submitter;
use crate::server::mss::views;
use crate::store::help::Outcome;

use super::frame;

#[derive(Debug, Default, Deserialize)]
pub struct SuggestQuery {
    #[serde(default)]
    q: String,
}

#[derive(Debug, serde::Serialize)]
pub struct Suggestion {
    id: i64,
    title: String,
    body: String,
}

/// Up to three help articles for what the submitter has typed so far.
pub async fn suggest(
    State(s): State<AppState>,
    _who: Submitter,
    axum::extract::Query(q): axum::extract::Query<SuggestQuery>,
) -> PageResult<Response> {
    let text: String = q.q.chars().take(2000).collect();
    let found = s.desk.help_suggestions(&text).await?;
    let out: Vec<Suggestion> = found
        .into_iter()
        .map(|a| Suggestion {
            id: a.id,
            title: a.title,
            body: a.body,
        })
        .collect();
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(out)).into_response())
}

pub async fn help_article(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Path(raw): axum::extract::Path<String>,
) -> PageResult<Markup> {
    let id = raw.parse::<i64>().map_err(|_| PageError::NotFound)?;
    let article = s.desk.help_article(id).await?;
    Ok(views::help_article(&frame(&s, &who), &article))
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
    axum::extract::Path(raw): axum::extract::Path<String>,
    Form(body): Form<OutcomeBody>,
) -> PageResult<Response> {
    who.check_csrf(Some(&body.csrf_token))?;
    let id = raw.parse::<i64>().map_err(|_| PageError::NotFound)?;
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
