//! Sessions and CSRF for the pages.
//!
//! The session cookie carries a random id (the server keeps only its hash) and is HttpOnly,
//! SameSite=Lax, scoped to `/mss`, and Secure when opsdesk is served over TLS. Every form
//! carries a CSRF token: the session's own once logged in (synchronizer token), and before
//! login a random value that must match a short-lived cookie (double submit).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};
use subtle::ConstantTimeEq;

use super::error::PageError;
use crate::server::AppState;
use crate::service::sessions::SessionState;
use crate::store::users::User;

pub const SESSION_COOKIE: &str = "opsdesk_mss";
pub const LOGIN_CSRF_COOKIE: &str = "opsdesk_mss_login";

/// The value of cookie `name`, if the request carries it. Pairs that do not parse as cookies
/// are skipped rather than failing the whole header.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value for the pages: HttpOnly, SameSite=Lax, scoped to `/mss`, Secure when
/// asked; `max_age` None clears the cookie (`Max-Age=0`).
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let c = Cookie::build((name, value))
        .path("/mss")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age.unwrap_or(0)))
        .secure(secure)
        .build();
    HeaderValue::from_str(&c.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Compares secrets in time independent of where they differ (only the length may show).
pub fn same_secret(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
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

/// Where the pages start; every `next` that is not plainly one of ours leads here.
const HOME: &str = "/mss/";

/// A `next` target is followed only if it is a page of ours: no open redirects. The path is
/// read as a browser would follow it (percent-escapes decoded, backslashes as slashes, empty
/// and `.` segments dropped, `..` resolved) before it is checked to stay under `/mss/`, so
/// `/mss/../api/...` or `/mss/%2e%2e/api/...` cannot lead elsewhere; the result is the
/// normalised path, with the query kept as it was.
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(normalised_page)
        .unwrap_or_else(|| HOME.into())
}

fn normalised_page(next: &str) -> Option<String> {
    if !next.starts_with('/') || !next.chars().all(|c| c.is_ascii_graphic()) {
        return None;
    }
    let (raw_path, query) = match next.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (next, None),
    };
    if raw_path.contains('#') || query.is_some_and(|q| q.contains('\\')) {
        return None;
    }
    // Decoded until it stops changing, so a double escape (`%252e`) is seen for what a
    // second decoder would make of it; a path that keeps escapes after that is refused.
    let mut path = raw_path.to_string();
    for _ in 0..3 {
        let decoded = percent_encoding::percent_decode_str(&path)
            .decode_utf8()
            .ok()?
            .into_owned();
        if decoded == path {
            break;
        }
        path = decoded;
    }
    if path.contains('%') || !path.chars().all(|c| c.is_ascii_graphic()) {
        return None;
    }
    if path.contains(['?', '#']) {
        return None;
    }
    let path = path.replace('\\', "/");
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop()?;
            }
            s => segments.push(s),
        }
    }
    if segments.first() != Some(&"mss") || segments.get(1) == Some(&"logout") {
        return None;
    }
    let mut page = format!("/{}", segments.join("/"));
    if segments.len() == 1 || path.ends_with('/') {
        page.push('/');
    }
    if let Some(q) = query {
        page.push('?');
        page.push_str(q);
    }
    Some(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_our_pages() {
        assert_eq!(safe_next(Some("/mss/tickets/3")), "/mss/tickets/3");
        for (given, followed) in [
            ("/mss/", "/mss/"),
            ("/mss/?show=open", "/mss/?show=open"),
            ("/mss/new", "/mss/new"),
            ("/mss/./tickets//3", "/mss/tickets/3"),
            ("/mss/help/../tickets/3?x=1", "/mss/tickets/3?x=1"),
            ("/mss/%74ickets/3", "/mss/tickets/3"),
            ("/mss//evil.example", "/mss/evil.example"),
            ("/mss/%2fevil", "/mss/evil"),
            ("/mss/\\evil", "/mss/evil"),
        ] {
            assert_eq!(safe_next(Some(given)), followed, "{given}");
        }
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/api/v1/tickets",
            "/mss/logout",
            "/mss/../api/v1/tickets",
            "/mss/%2e%2e/api/v1/tickets",
            "/mss/%2E%2E/api/v1/tickets",
            "/mss/%252e%252e/api/v1/tickets",
            "/mss/..%2fapi/v1/tickets",
            "/mss/..\\api/v1/tickets",
            "/mss/./../../metrics",
            "/mss/..",
            "/mss/%3F/../../api",
            "/mss/%00",
            "/mss/%ff",
            "/mss/%2e%2e%2flogout",
            "/mss/x/../logout",
            "mss/tickets/3",
            "\\mss/tickets/3",
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
        // Several Cookie headers, and a malformed pair among them.
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("junk; a=1"));
        h.append(
            header::COOKIE,
            HeaderValue::from_static("opsdesk_mss_login=xyz"),
        );
        assert_eq!(cookie(&h, LOGIN_CSRF_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "a").as_deref(), Some("1"));
        // A prefix of a name is another name.
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("opsdesk_mss_login=xyz"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), None);
    }

    #[test]
    fn set_cookie_keeps_the_hardening_attributes() {
        let value = |v: HeaderValue| v.to_str().expect("ASCII").to_string();
        let session = value(set_cookie(SESSION_COOKIE, "abc", Some(3600), false));
        assert!(session.starts_with("opsdesk_mss=abc;"), "{session}");
        for attr in [
            "; HttpOnly",
            "; SameSite=Lax",
            "; Path=/mss",
            "; Max-Age=3600",
        ] {
            assert!(session.contains(attr), "{session} lacks {attr}");
        }
        assert!(!session.contains("Secure"), "{session}");
        let cleared = value(set_cookie(SESSION_COOKIE, "", None, true));
        assert!(cleared.starts_with("opsdesk_mss=;"), "{cleared}");
        assert!(cleared.contains("; Max-Age=0"), "{cleared}");
        assert!(cleared.contains("; Secure"), "{cleared}");
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
    }
}
