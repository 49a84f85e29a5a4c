//! Bearer-token authentication for `/api/v1`: 401 without a valid token, 403 for the wrong role.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::store::users::{self, User};

/// The authenticated caller of an API request.
pub struct Caller(pub User);

impl Caller {
    /// Refuses callers that do not work tickets (submitters).
    pub fn handler(self) -> Result<User, ApiError> {
        if self.0.role.works_tickets() {
            Ok(self.0)
        } else {
            Err(ApiError::forbidden(format!(
                "this needs a handler or admin token; '{}' is a {}",
                self.0.username,
                self.0.role.as_str()
            )))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Caller::from_headers(state, &parts.headers).await
    }
}

impl Caller {
    /// The caller a request's `Authorization` header names, for routes whose need of a token
    /// depends on the configuration.
    pub async fn from_headers(state: &AppState, headers: &HeaderMap) -> Result<Self, ApiError> {
        let token = bearer(headers)?;
        let user = state
            .desk
            .store
            .read(move |conn| users::by_token(conn, &token))
            .await?;
        user.map(Caller)
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))
    }
}

/// The bearer token a request carries; event streams keep it to check it again later.
pub fn bearer(headers: &HeaderMap) -> Result<String, ApiError> {
    let header = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
    header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be 'Bearer <token>'"))
}
