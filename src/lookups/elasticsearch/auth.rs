//! How the source logs in: the `Authorization` header made from the configured API key,
//! username and password, or bearer token, and the secrets no message may show.

use hyper::header::HeaderValue;

use crate::lookups::config::ElasticsearchAuth;

/// How the source logs in: the header it sends, and what must never show in a message.
#[derive(Clone)]
pub(super) struct Auth {
    pub(super) kind: &'static str,
    pub(super) header: HeaderValue,
    pub(super) secrets: Vec<String>,
}

pub(super) fn check_auth(auth: &ElasticsearchAuth) -> Result<Auth, String> {
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().filter(|s| !s.is_empty())
    }
    let (api_key, username, password, bearer) = (
        given(&auth.api_key),
        given(&auth.username),
        given(&auth.password),
        given(&auth.bearer),
    );
    let kinds = [
        api_key.is_some(),
        username.is_some() || password.is_some(),
        bearer.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err("give exactly one of api_key, username and password, or bearer".into());
    }
    let (kind, value, secrets) = match (api_key, username, password, bearer) {
        (Some(key), ..) => ("api_key", format!("ApiKey {key}"), vec![key.to_string()]),
        (_, Some(user), Some(password), _) => {
            if user.contains(':') {
                return Err("a username cannot hold ':' (HTTP Basic authentication)".into());
            }
            let encoded = base64(format!("{user}:{password}").as_bytes());
            (
                "basic",
                format!("Basic {encoded}"),
                vec![password.to_string(), encoded],
            )
        }
        (_, Some(_), None, _) | (_, None, Some(_), _) => {
            return Err("username and password go together".into());
        }
        (.., Some(token)) => ("bearer", format!("Bearer {token}"), vec![token.to_string()]),
        _ => return Err("give exactly one of api_key, username and password, or bearer".into()),
    };
    let mut header = HeaderValue::from_str(&value)
        .map_err(|_| format!("the {kind} holds characters an HTTP header cannot carry"))?;
    header.set_sensitive(true);
    Ok(Auth {
        kind,
        header,
        secrets,
    })
}

/// Standard base64 with padding, for HTTP Basic authentication (RFC 7617).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_rfc_4648_writes_it() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("elastic:changeme", "ZWxhc3RpYzpjaGFuZ2VtZQ=="),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }
}
