//! The HTTP client of the companion server's API, used by the CLI (and the TUI).
//!
//! Every ticket text that comes back is made terminal-safe here, where it enters the client,
//! so no caller can forget to (DESIGN §4: untrusted text is inert in the terminal).

pub mod cache;
pub mod construct;
pub mod kb_copy;
pub mod lookup;
pub mod monitors;
pub mod outbox;
pub mod reports;
pub mod row;
pub mod sync;

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::{ChangePage, TicketPage};
use crate::domain::sanitize::terminal_safe;
use crate::domain::validate::NewTicket;
use crate::domain::view::TicketView;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the server at {base}: {source}")]
    Unreachable {
        base: String,
        source: reqwest::Error,
    },
    /// The server's own error answer.
    #[error("{message} ({status} {code})")]
    Api {
        status: u16,
        code: String,
        message: String,
        fields: Vec<String>,
    },
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
}

impl ClientError {
    /// The server is there but cannot take writes for now (503: at its limit, busy or its
    /// data read-only; 507: its disk is full) and says to retry: nothing was written, and the
    /// same request will succeed later, so it waits rather than being dropped.
    pub fn try_later(&self) -> bool {
        matches!(
            self,
            ClientError::Api {
                status: 503 | 507,
                ..
            }
        )
    }
}

/// Where the server is and who we are to it.
#[derive(Debug, Clone)]
pub struct Connection {
    pub base: String,
    pub token: String,
}

#[derive(Clone)]
pub struct ApiClient {
    conn: Connection,
    http: reqwest::Client,
    /// For the event stream: no overall timeout, but a read timeout well above the server's
    /// heartbeat, so a link that died silently (a jump host dropping it) is noticed.
    stream_http: reqwest::Client,
}

/// Reading nothing for this long on the event stream means the link is dead.
const STREAM_READ_TIMEOUT: Duration = Duration::from_secs(45);

impl ApiClient {
    pub fn new(conn: Connection) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let stream_http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(STREAM_READ_TIMEOUT)
            .build()
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let base = conn.base.trim_end_matches('/').to_string();
        Ok(Self {
            conn: Connection { base, ..conn },
            http,
            stream_http,
        })
    }

    pub fn base(&self) -> &str {
        &self.conn.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.conn.base)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let bytes = self
            .dispatch(req)
            .await?
            .bytes()
            .await
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Sends a request with the token; a success's response, or the server's refusal.
    async fn dispatch(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        let response = req
            .bearer_auth(&self.conn.token)
            .send()
            .await
            .map_err(|source| ClientError::Unreachable {
                base: self.conn.base.clone(),
                source,
            })?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(self.refusal(response).await)
        }
    }

    /// The server's error answer, its texts made terminal-safe.
    async fn refusal(&self, response: reqwest::Response) -> ClientError {
        let status = response.status();
        let bytes = response.bytes().await.unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let error = &body["error"];
        let text =
            |v: &serde_json::Value| terminal_safe(v.as_str().unwrap_or_default()).into_owned();
        ClientError::Api {
            status: status.as_u16(),
            code: text(&error["code"]),
            message: if error["message"].is_string() {
                text(&error["message"])
            } else {
                status.to_string()
            },
            fields: error["fields"]
                .as_array()
                .map(|fs| {
                    fs.iter()
                        .map(|f| format!("{}: {}", text(&f["field"]), text(&f["zh"])))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Sends one request of a queued write (see [`outbox::Write`]) and returns the answer.
    pub async fn request_json(
        &self,
        request: &outbox::Request,
    ) -> Result<serde_json::Value, ClientError> {
        let url = self.url(&request.path);
        let mut req = match request.method {
            outbox::Method::Post => self.http.post(url),
            outbox::Method::Patch => self.http.patch(url),
            outbox::Method::Put => self.http.put(url),
        }
        .json(&request.body);
        if let Some(key) = &request.idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        self.send(req).await
    }

    /// Sends a request that answers with a ticket, and makes the ticket terminal-safe.
    async fn ticket_answer(&self, req: reqwest::RequestBuilder) -> Result<TicketView, ClientError> {
        let mut t: TicketView = self.send(req).await?;
        inert(&mut t);
        Ok(t)
    }

    /// One page of tickets; `query` holds the list filters as the API names them.
    pub async fn tickets<Q: Serialize + ?Sized>(
        &self,
        query: &Q,
    ) -> Result<TicketPage, ClientError> {
        let mut page: TicketPage = self
            .send(self.http.get(self.url("/api/v1/tickets")).query(query))
            .await?;
        page.tickets.iter_mut().for_each(inert);
        Ok(page)
    }

    pub async fn ticket(&self, id: i64) -> Result<TicketView, ClientError> {
        let mut t: TicketView = self
            .send(self.http.get(self.url(&format!("/api/v1/tickets/{id}"))))
            .await?;
        inert(&mut t);
        Ok(t)
    }

    /// The changes after `since`, oldest first.
    pub async fn changes(&self, since: i64, limit: usize) -> Result<ChangePage, ClientError> {
        let url = self.url(&format!("/api/v1/changes?since={since}&limit={limit}"));
        self.send(self.http.get(url)).await
    }

    /// Opens the event stream after `since`; the caller reads the body as it arrives.
    pub async fn events(&self, since: i64) -> Result<reqwest::Response, ClientError> {
        let response = self
            .stream_http
            .get(self.url("/api/v1/events"))
            .bearer_auth(&self.conn.token)
            .header("Last-Event-ID", since.to_string())
            .send()
            .await
            .map_err(|source| ClientError::Unreachable {
                base: self.conn.base.clone(),
                source,
            })?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(ClientError::Api {
                status: response.status().as_u16(),
                code: "stream_refused".into(),
                message: format!("the event stream was refused ({})", response.status()),
                fields: Vec::new(),
            })
        }
    }

    /// Links a ticket as a duplicate of another, or to a parent incident (None removes it).
    pub async fn link(
        &self,
        id: i64,
        kind: crate::domain::ticket::LinkKind,
        target: Option<i64>,
        version: i64,
    ) -> Result<TicketView, ClientError> {
        let body = serde_json::json!({"kind": kind, "target": target, "version": version});
        self.ticket_answer(
            self.http
                .post(self.url(&format!("/api/v1/tickets/{id}/links")))
                .json(&body),
        )
        .await
    }

    /// A second handler approves an ops transfer's data-fix script.
    pub async fn approve_script(&self, id: i64, version: i64) -> Result<TicketView, ClientError> {
        let body = serde_json::json!({ "version": version });
        self.ticket_answer(
            self.http
                .post(self.url(&format!("/api/v1/tickets/{id}/approve-script")))
                .json(&body),
        )
        .await
    }

    /// An attachment's bytes.
    pub async fn download(&self, attachment: i64) -> Result<Vec<u8>, ClientError> {
        let response = self
            .http
            .get(self.url(&format!("/api/v1/attachments/{attachment}")))
            .bearer_auth(&self.conn.token)
            .send()
            .await
            .map_err(|source| ClientError::Unreachable {
                base: self.conn.base.clone(),
                source,
            })?;
        if !response.status().is_success() {
            return Err(ClientError::Api {
                status: response.status().as_u16(),
                code: "download_failed".into(),
                message: format!(
                    "the attachment could not be fetched ({})",
                    response.status()
                ),
                fields: Vec::new(),
            });
        }
        response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Who changed or revealed what on a ticket, oldest first; terminal-safe.
    pub async fn timeline(&self, id: i64) -> Result<Vec<crate::api::TimelineEntry>, ClientError> {
        self.safe_list(
            &format!("/api/v1/tickets/{id}/audit"),
            |e: &mut crate::api::TimelineEntry| {
                for text in [&mut e.at, &mut e.actor, &mut e.action] {
                    make_safe(text);
                }
            },
        )
        .await
    }

    /// A list from the API with `clean` applied to each item where it enters the client.
    async fn safe_list<T: DeserializeOwned>(
        &self,
        path: &str,
        clean: impl Fn(&mut T),
    ) -> Result<Vec<T>, ClientError> {
        let mut list: Vec<T> = self.send(self.http.get(self.url(path))).await?;
        list.iter_mut().for_each(clean);
        Ok(list)
    }

    /// The handlers and admins tickets can be assigned to.
    pub async fn users(&self) -> Result<Vec<crate::domain::people::User>, ClientError> {
        self.send(self.http.get(self.url("/api/v1/users"))).await
    }

    /// Who the token belongs to.
    pub async fn me(&self) -> Result<crate::domain::people::User, ClientError> {
        self.send(self.http.get(self.url("/api/v1/me"))).await
    }

    /// Open tickets the server finds to be the same problem, matched on full customer values.
    pub async fn similar(&self, id: i64) -> Result<Vec<i64>, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/api/v1/tickets/{id}/similar"))),
        )
        .await
    }

    /// Knowledge-base articles matching `q`, best first (texts made terminal-safe).
    pub async fn kb_search(
        &self,
        q: &str,
        limit: usize,
    ) -> Result<crate::api::KbPage, ClientError> {
        let limit = limit.to_string();
        self.kb_page(&[("q", q), ("limit", limit.as_str())]).await
    }

    /// Keeps a picture for articles' steps on the server.
    pub async fn kb_add_image(
        &self,
        filename: &str,
        bytes: Vec<u8>,
    ) -> Result<crate::api::KbImage, ClientError> {
        self.send(
            self.http
                .post(self.url("/api/v1/kb/images"))
                .query(&[("filename", filename)])
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(bytes),
        )
        .await
    }

    /// The articles written from ticket `id`.
    pub async fn kb_written_from(&self, id: i64) -> Result<crate::api::KbPage, ClientError> {
        let ticket = id.to_string();
        self.kb_page(&[("ticket", ticket.as_str()), ("limit", "10")])
            .await
    }

    async fn kb_page(&self, query: &[(&str, &str)]) -> Result<crate::api::KbPage, ClientError> {
        let mut page: crate::api::KbPage = self
            .send(self.http.get(self.url("/api/v1/kb/articles")).query(query))
            .await?;
        for a in &mut page.articles {
            for text in [&mut a.title, &mut a.slug, &mut a.system]
                .into_iter()
                .chain(a.tags.iter_mut())
                .chain(a.symptoms.iter_mut())
            {
                make_safe(text);
            }
        }
        Ok(page)
    }

    /// One knowledge-base article, whole (reading it counts a view).
    pub async fn kb_article(&self, id: i64) -> Result<crate::api::KbArticle, ClientError> {
        let mut a: crate::api::KbArticle = self
            .send(
                self.http
                    .get(self.url(&format!("/api/v1/kb/articles/{id}"))),
            )
            .await?;
        inert_article(&mut a);
        Ok(a)
    }

    /// The articles saved since `since` (an earlier answer's `until`; 0 for all), whole.
    pub async fn kb_changes(&self, since: i64) -> Result<crate::api::KbChanges, ClientError> {
        let req = self
            .http
            .get(self.url("/api/v1/kb/changes"))
            .query(&[("since", since)]);
        let mut changes: crate::api::KbChanges = self.send(req).await?;
        for a in &mut changes.articles {
            inert_article(a);
        }
        Ok(changes)
    }

    /// Writes a new article; the article as stored.
    pub async fn kb_create(
        &self,
        body: &crate::api::KbArticleBody,
    ) -> Result<crate::api::KbArticle, ClientError> {
        let mut a: crate::api::KbArticle = self
            .send(self.http.post(self.url("/api/v1/kb/articles")).json(body))
            .await?;
        inert_article(&mut a);
        Ok(a)
    }

    /// Replaces article `id` over `body.version`; the article as stored.
    pub async fn kb_update(
        &self,
        id: i64,
        body: &crate::api::KbArticleBody,
    ) -> Result<crate::api::KbArticle, ClientError> {
        let mut a: crate::api::KbArticle = self
            .send(
                self.http
                    .put(self.url(&format!("/api/v1/kb/articles/{id}")))
                    .json(body),
            )
            .await?;
        inert_article(&mut a);
        Ok(a)
    }

    /// Says an article helped; the article with its new count.
    pub async fn kb_helpful(&self, id: i64) -> Result<crate::api::KbArticle, ClientError> {
        let mut a: crate::api::KbArticle = self
            .send(
                self.http
                    .post(self.url(&format!("/api/v1/kb/articles/{id}/helpful"))),
            )
            .await?;
        inert_article(&mut a);
        Ok(a)
    }

    /// Open tickets with messages the caller has not read.
    pub async fn unread(&self) -> Result<Vec<crate::api::Unread>, ClientError> {
        self.send(self.http.get(self.url("/api/v1/unread"))).await
    }

    /// Marks a ticket's conversation read up to `message_id` (it never moves back).
    pub async fn mark_read(&self, id: i64, message_id: i64) -> Result<(), ClientError> {
        let req = self
            .http
            .put(self.url(&format!("/api/v1/tickets/{id}/read-marker")))
            .json(&serde_json::json!({"message_id": message_id}));
        self.send::<serde_json::Value>(req).await.map(|_| ())
    }

    /// A ticket's conversation, terminal-safe.
    pub async fn messages(
        &self,
        id: i64,
    ) -> Result<Vec<crate::domain::message::Message>, ClientError> {
        self.safe_list(
            &format!("/api/v1/tickets/{id}/messages"),
            |m: &mut crate::domain::message::Message| make_safe(&mut m.body),
        )
        .await
    }

    /// Posts a reply or an internal note; the key makes a retry safe.
    pub async fn post_message(
        &self,
        id: i64,
        body: &str,
        internal: bool,
        key: &str,
    ) -> Result<crate::domain::message::Message, ClientError> {
        let req = self
            .http
            .post(self.url(&format!("/api/v1/tickets/{id}/messages")))
            .header("Idempotency-Key", key)
            .json(&serde_json::json!({"body": body, "internal": internal}));
        self.send::<crate::domain::message::Message>(req).await
    }

    /// A lifecycle move, checked against the version the handler saw.
    pub async fn transition(
        &self,
        id: i64,
        body: &crate::api::TransitionBody,
    ) -> Result<TicketView, ClientError> {
        let req = self
            .http
            .post(self.url(&format!("/api/v1/tickets/{id}/transitions")))
            .json(body);
        self.ticket_answer(req).await
    }

    pub async fn assign(
        &self,
        id: i64,
        assignee: Option<&str>,
        version: Option<i64>,
    ) -> Result<TicketView, ClientError> {
        let req = self
            .http
            .post(self.url(&format!("/api/v1/tickets/{id}/assign")))
            .json(&serde_json::json!({"assignee": assignee, "version": version}));
        self.ticket_answer(req).await
    }

    /// A partial update as the API's PATCH body (`version` included).
    pub async fn patch(
        &self,
        id: i64,
        body: &serde_json::Value,
    ) -> Result<TicketView, ClientError> {
        let req = self
            .http
            .patch(self.url(&format!("/api/v1/tickets/{id}")))
            .json(body);
        self.ticket_answer(req).await
    }

    /// The customer's full data for the detail view (audited by the server).
    pub async fn reveal_customer(
        &self,
        id: i64,
    ) -> Result<crate::domain::ticket::Customer, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/api/v1/tickets/{id}/customer"))),
        )
        .await
    }

    /// Creates a ticket; the idempotency key makes a retry of this call safe.
    pub async fn create(
        &self,
        new: &NewTicket,
        idempotency_key: &str,
    ) -> Result<TicketView, ClientError> {
        let req = self
            .http
            .post(self.url("/api/v1/tickets"))
            .header("Idempotency-Key", idempotency_key)
            .json(new);
        self.ticket_answer(req).await
    }
}

/// Makes an article's texts terminal-safe.
pub(crate) fn inert_article(a: &mut crate::api::KbArticle) {
    for text in [
        &mut a.title,
        &mut a.slug,
        &mut a.system,
        &mut a.cause,
        &mut a.steps,
        &mut a.author,
    ]
    .into_iter()
    .chain(a.tags.iter_mut())
    .chain(a.symptoms.iter_mut())
    {
        make_safe(text);
    }
}

/// Makes one text terminal-safe in place (allocating only when something was removed).
pub fn make_safe(text: &mut String) {
    if let std::borrow::Cow::Owned(safe) = terminal_safe(text) {
        *text = safe;
    }
}

/// Makes every string in a JSON value terminal-safe, whichever field it is in (so a field or
/// a kind of change added later is covered too), and the keys of objects, which can be what
/// someone typed (a report's subcategories, a log line's fields).
/// An answer made terminal-safe ([`scrub`]), then read as `T`.
pub(crate) fn safe<T: DeserializeOwned>(mut value: serde_json::Value) -> Result<T, ClientError> {
    scrub(&mut value);
    serde_json::from_value(value).map_err(|e| ClientError::Protocol(e.to_string()))
}

pub fn scrub(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => make_safe(text),
        serde_json::Value::Array(items) => items.iter_mut().for_each(scrub),
        serde_json::Value::Object(fields) => {
            if fields
                .keys()
                .any(|k| matches!(terminal_safe(k), std::borrow::Cow::Owned(_)))
            {
                for (mut key, mut v) in std::mem::take(fields) {
                    make_safe(&mut key);
                    scrub(&mut v);
                    fields.insert(key, v);
                }
            } else {
                fields.values_mut().for_each(scrub);
            }
        }
        _ => {}
    }
}

/// Strips escape sequences and control characters from every text a ticket carries.
pub fn inert(t: &mut TicketView) {
    let clean = make_safe;
    let clean_opt = |s: &mut Option<String>| {
        if let Some(s) = s.as_mut() {
            clean(s);
        }
    };
    clean(&mut t.title);
    clean(&mut t.description);
    clean(&mut t.system);
    clean(&mut t.submitter);
    clean_opt(&mut t.subcategory);
    clean_opt(&mut t.assignee);
    clean_opt(&mut t.resolution);
    clean_opt(&mut t.transfer_note);
    clean_opt(&mut t.transferred_by);
    clean_opt(&mut t.script_approved_by);
    clean_opt(&mut t.external_ref);
    for v in [
        &mut t.customer.name,
        &mut t.customer.account,
        &mut t.customer.phone,
        &mut t.customer.id_number,
    ] {
        clean_opt(v);
    }
    for a in &mut t.attachments {
        clean(&mut a.filename);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_makes_keys_safe_as_well_as_values() {
        let mut v = serde_json::json!({
            "plain": "ok",
            "\u{1b}]52;c;aGk=\u{7}clip": {"inner\u{1b}[2J": "\u{1b}[31mred"},
        });
        scrub(&mut v);
        let text = v.to_string();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text}"
        );
        assert_eq!(v["plain"], "ok");
    }
}
