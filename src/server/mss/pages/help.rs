//! Help-center suggestions while a problem is described, and what came of them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use maud::Markup;
use serde::Deserialize;

use crate::server::AppState;
use crate::server::mss::error::{PageError, PageResult};
use crate::server::mss::session::Submitter;
use crate::server::mss::views;
use crate::store::help::Outcome;

use super::{frame, path_id};

#[derive(Debug, Default, Deserialize)]
pub struct SuggestQuery {
    #[serde(default)]
    q: String,
}

/// Up to three help articles for what the submitter has typed so far.
pub async fn suggest(
    State(s): State<AppState>,
    _who: Submitter,
    axum::extract::Query(q): axum::extract::Query<SuggestQuery>,
) -> PageResult<Response> {
    let text: String = q.q.chars().take(2000).collect();
    // `no-store`, like every page answer, comes from the pages' header layer.
    Ok(Json(s.desk.help_suggestions(&text).await?).into_response())
}

pub async fn help_article(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Path(raw): axum::extract::Path<String>,
) -> PageResult<Markup> {
    let id = path_id(&raw)?;
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
