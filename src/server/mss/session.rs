//! Sessions and CSRF for the pages.
//!
//! The session cookie carries a random id (the server keeps only its hash) and is HttpOnly,
//! SameSite=Lax, scoped to `/mss`, and Secure when opsdesk is served over TLS. Every form
//! carries a CSRF token: the session's own once logged in (synchronizer token), and before
//! login a random value that must match a short-lived cookie (double submit).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};

use super::error::PageError;
use crate::server::AppState;
use crate::service::sessions::SessionState;
use crate::store::users::User;

pub const SESSION_COOKIE: &str = "opsdesk_mss";
pub const LOGIN_CSRF_COOKIE: &str = "opsdesk_mss_login";

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// A `Set-Cookie` value for the pages; `max_age` None clears the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let age = max_age.unwrap_or(0);
    let secure = if secure { "; Secure" } else { "" };
    let v = format!("{name}={value}; Path=/mss; HttpOnly; SameSite=Lax; Max-Age={age}{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A logged-in submitter on a page request.
pub struct Submitter {
    pub user: User,
    pub csrf_token: String,
    pub session_id: String,
}

impl Submitter {
    /// Refuses a form whose token is not this session's (a missing one arrives empty).
    pub fn check_csrf(&self, given: &str) -> Result<(), PageError> {
        if same_secret(given, &self.csrf_token) {
            Ok(())
        } else {
            Err(PageError::Csrf)
        }
    }
}

/// Where to come back to after logging in: the page asked for, if it is one of ours.
fn next_of(parts: &Parts) -> String {
    let path = parts.uri.path();
    if parts.method == axum::http::Method::GET {
        let mut next = path.to_string();
        if let Some(q) = parts.uri.query() {
            next.push('?');
            next.push_str(q);
        }
        next
    } else if let Some(rest) = path.strip_prefix("/mss/tickets/") {
        // A form posted with an expired session returns to its ticket; the draft is local.
        let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
        format!("/mss/tickets/{id}")
    } else if path == "/mss/new" {
        "/mss/new".into()
    } else {
        "/mss/".into()
    }
}

impl FromRequestParts<AppState> for Submitter {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let next = next_of(parts);
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(PageError::LoginRequired {
                expired: false,
                next,
            });
        };
        match state.desk.session(&id).await? {
            SessionState::Live(s) => Ok(Submitter {
                user: s.user,
                csrf_token: s.csrf_token,
                session_id: id,
            }),
            SessionState::Expired => Err(PageError::LoginRequired {
                expired: true,
                next,
            }),
            SessionState::Unknown => Err(PageError::LoginRequired {
                expired: false,
                next,
            }),
        }
    }
}

/// A `next` target is followed only if it is a page of ours: no open redirects.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/mss/")
                && !n.starts_with("/mss//")
                && !n.contains('\\')
                && !n.contains("/mss/logout")
                && n.chars().all(|c| c.is_ascii_graphic()) =>
        {
            n.to_string()
        }
        _ => "/mss/".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_our_pages() {
        assert_eq!(safe_next(Some("/mss/tickets/3")), "/mss/tickets/3");
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/mss//evil.example",
            "/mss/\\evil",
            "/api/v1/tickets",
            "/mss/logout",
        ] {
            assert_eq!(safe_next(Some(bad)), "/mss/", "{bad}");
        }
        assert_eq!(safe_next(None), "/mss/");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; opsdesk_mss=abc ; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
    }
}
