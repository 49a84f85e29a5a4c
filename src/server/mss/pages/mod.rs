//! The page handlers: each reads the request, calls one use case of the desk and renders.
//! One file per part of the pages; the helpers they share are here.

mod help;
mod login;
mod submit;
mod tickets;

pub use help::{
    help_article, help_center, help_image, help_outcome, help_vote, short_address, suggest,
};
pub use login::{login, login_page, logout};
pub use submit::{new_page, new_submit};
pub use tickets::{attachment, confirm, list, reopen, reply, ticket, ticket_state};

use axum::response::Redirect;
use serde::Deserialize;

use super::error::{PageError, PageResult};
use super::session::Submitter;
use super::views::Frame;
use crate::server::AppState;
use crate::store::random_hex;

pub(super) fn frame<'a>(s: &AppState, who: &'a Submitter) -> Frame<'a> {
    Frame {
        tz: s.desk.settings.calendar.tz(),
        now: chrono::Utc::now(),
        user: Some(&who.user),
        csrf: &who.csrf_token,
    }
}

pub(super) fn fresh_id() -> PageResult<String> {
    random_hex(16).map_err(|e| crate::service::DeskError::from(e).into())
}

/// A ticket, attachment or article id from a path; anything else is a page that is not there.
pub(super) fn path_id(raw: &str) -> PageResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(PageError::NotFound)
}

pub async fn root() -> Redirect {
    Redirect::permanent("/mss/")
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
/// A form that carries only its CSRF token (logout).
pub struct CsrfOnly {
    pub(super) csrf_token: String,
}
