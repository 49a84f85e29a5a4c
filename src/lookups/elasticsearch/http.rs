//! Talking to the cluster: the hyper client, one request sent to the first node that answers
//! it (the nodes are one cluster), each answer read whole up to the byte cap, and the nodes'
//! URLs checked. A transport failure is put in words that carry no URL credentials.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde_json::Value;

use super::Cluster;
use crate::lookups::SourceError;

pub(crate) type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

impl Cluster {
    /// Sends one request to the first node that answers it, starting with the one that
    /// answered last. A 5xx from every node is returned as the last node's answer.
    pub(super) async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Answer, SourceError> {
        let count = self.urls.len();
        let start = self.healthy.load(Ordering::Relaxed) % count;
        let mut unreachable: Vec<&str> = Vec::new();
        let mut last: Option<Result<Answer, String>> = None;
        for step in 0..count {
            let at = (start + step) % count;
            match self.attempt(at, method.clone(), path, body.clone()).await {
                Ok(answer) if answer.status.is_server_error() => last = Some(Ok(answer)),
                Ok(answer) => {
                    self.healthy.store(at, Ordering::Relaxed);
                    return Ok(answer);
                }
                Err(Attempt::Unanswered(reason)) => {
                    unreachable.push(&self.urls[at]);
                    last = Some(Err(reason));
                }
                Err(Attempt::Refused(reason)) => return Err(self.error(reason)),
            }
        }
        match last {
            Some(Ok(answer)) => Ok(answer),
            Some(Err(reason)) => {
                Err(self.error(format!("cannot reach {}: {reason}", unreachable.join(", "))))
            }
            None => Err(self.error("no URL to ask")),
        }
    }

    /// One request to one node, answer read whole, within the timeout.
    async fn attempt(
        &self,
        at: usize,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Answer, Attempt> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.urls[at]))
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, concat!("opsdesk/", env!("CARGO_PKG_VERSION")));
        if let Some(auth) = &self.auth {
            request = request.header(AUTHORIZATION, auth.header.clone());
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| Attempt::Refused(format!("cannot build the request: {e}")))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| Attempt::Unanswered(innermost(&e)))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), self.max_answer_bytes)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<LengthLimitError>() {
                        Attempt::Refused(format!(
                            "the answer is larger than {}; it was not read (a smaller page_size may help)",
                            shown_bytes(self.max_answer_bytes)
                        ))
                    } else {
                        Attempt::Unanswered(format!("the answer broke off: {}", innermost(e.as_ref())))
                    }
                })?
                .to_bytes();
            Ok(Answer {
                status,
                body,
                url: at,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                Attempt::Unanswered(format!("timed out after {}s", self.timeout.as_secs()))
            })?
    }
}

/// A whole HTTP answer.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) body: Bytes,
    /// Which URL gave it.
    pub(super) url: usize,
}

enum Attempt {
    /// The node gave no answer (refused, unknown, timed out, broke off): the next may.
    Unanswered(String),
    /// No node would do better.
    Refused(String),
}

pub(crate) fn http_client(tls: rustls::ClientConfig, timeout: Duration) -> HttpClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(timeout));
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        // Without a timer the idle bound is never applied.
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(https)
}

pub(super) fn json_bytes(body: &Value) -> Bytes {
    // A `Value` always serialises.
    Bytes::from(serde_json::to_vec(body).unwrap_or_default())
}

fn shown_bytes(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// The deepest cause of a transport error: "Connection refused (os error 111)" says more
/// than hyper's "client error (Connect)", and carries no URL.
pub(crate) fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = e;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    deepest.to_string()
}

/// A URL as shown in a message: any `user:password@` left out.
fn shown_url(raw: &str) -> String {
    let raw = raw.trim();
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => raw.to_string(),
    }
}

/// A node's base URL, without a trailing `/`.
pub(super) fn check_url(raw: &str) -> Result<String, String> {
    let shown = shown_url(raw);
    let uri: hyper::Uri = raw
        .trim()
        .parse()
        .map_err(|e| format!("'{shown}' is not a URL: {e}"))?;
    let scheme = match uri.scheme_str() {
        Some(s @ ("http" | "https")) => s,
        _ => return Err(format!("'{shown}' must start with http:// or https://")),
    };
    let authority = uri
        .authority()
        .ok_or_else(|| format!("'{shown}' names no host"))?;
    if authority.as_str().contains('@') {
        return Err(format!(
            "'{shown}' holds credentials: put credentials in auth, not in the URL"
        ));
    }
    if authority.host().is_empty() {
        return Err(format!("'{shown}' names no host"));
    }
    if uri.query().is_some() {
        return Err(format!("'{shown}' must not carry a query (?…)"));
    }
    Ok(format!(
        "{scheme}://{authority}{}",
        uri.path().trim_end_matches('/')
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_credentials() {
        assert_eq!(
            shown_url("https://elastic:s3cret@es.example:9200/x"),
            "https://***@es.example:9200/x"
        );
        assert_eq!(shown_url("http://es:9200"), "http://es:9200");
        assert_eq!(check_url("http://es:9200/").unwrap(), "http://es:9200");
        assert_eq!(
            check_url("https://gw.example/es/").unwrap(),
            "https://gw.example/es"
        );
        let e = check_url("https://elastic:s3cret@es.example:9200").unwrap_err();
        assert!(
            e.contains("put credentials in auth") && !e.contains("s3cret"),
            "{e}"
        );
    }
}
