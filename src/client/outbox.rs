//! Writes made while the server could not take them, in the form they are kept in the
//! outbox: the HTTP requests they will send, with a format number.
//!
//! The stored form is the wire, not a Rust enum, so renaming a type in a later opsdesk cannot
//! make a handler's queued reply unreadable. Entries written before the format existed (a
//! serde enum of the workstation's calls, "format 1") are read and turned into this form.
//! An entry that still cannot be read is given back as [`Unreadable`] with its text, never
//! dropped in silence. May touch: `api` bodies, `domain` types, the client.

use serde::{Deserialize, Serialize};

use super::{ApiClient, ClientError, inert};
use crate::api::{Message, TicketView, TransitionBody};
use crate::domain::ticket::{LinkKind, TicketId};

/// The format written now. Raise it when the stored form changes, and read the older ones.
pub const FORMAT: u32 = 2;

/// One write: one request, or several that go in order (taking a new ticket assigns it and
/// then starts triage at the version the assignment produced).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Write {
    pub format: u32,
    /// What it is, for the handler: "#101 回复 reply".
    pub label: String,
    /// What to say once it went through: "#101 回复已发送 reply sent".
    pub done: String,
    /// The ticket it changes, and the version the handler saw when making it (a write queued
    /// behind one of our own follows the version ours produced).
    pub ticket: TicketId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_version: Option<i64>,
    pub requests: Vec<Request>,
    /// Where the workstation keeps its text as a draft should the server refuse it
    /// (`12/reply`), so a refusal never loses what the handler wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<String>,
}

/// One HTTP request of a write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub method: Method,
    /// Below the server's base URL: `/api/v1/tickets/101/messages`.
    pub path: String,
    pub body: serde_json::Value,
    /// Sent as `Idempotency-Key`: a retry after a lost answer creates nothing twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    pub answers: Answer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Post,
    Patch,
    Put,
}

/// What the server answers a request with, so the answer can be put to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// The ticket as it now is.
    Ticket,
    /// A public reply: if it was the ticket's first response, it moved the ticket's version.
    Reply,
    /// An internal note.
    Note,
}

/// A queued entry this build cannot read: its text as stored, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    pub text: String,
    pub reason: String,
}

fn tickets(id: TicketId, rest: &str) -> String {
    format!("/api/v1/tickets/{id}{rest}")
}

impl Write {
    fn one(
        label: String,
        done: String,
        ticket: TicketId,
        seen_version: Option<i64>,
        request: Request,
    ) -> Write {
        Write {
            format: FORMAT,
            label,
            done,
            ticket,
            seen_version,
            requests: vec![request],
            draft: None,
        }
    }

    /// A reply to the submitter, or an internal note; `key` makes sending it twice post once.
    pub fn message(id: TicketId, body: &str, internal: bool, key: &str) -> Write {
        let (label, done) = if internal {
            (
                format!("#{id} 备注 note"),
                format!("#{id} 备注已保存 note saved"),
            )
        } else {
            (
                format!("#{id} 回复 reply"),
                format!("#{id} 回复已发送 reply sent"),
            )
        };
        Write::one(
            label,
            done,
            id,
            None,
            Request {
                method: Method::Post,
                path: tickets(id, "/messages"),
                body: serde_json::json!({"body": body, "internal": internal}),
                idempotency_key: Some(key.to_string()),
                answers: if internal {
                    Answer::Note
                } else {
                    Answer::Reply
                },
            },
        )
    }

    /// Assign to `me` and, when `start`, move a new ticket into triage.
    pub fn take(id: TicketId, version: i64, me: &str, start: bool) -> Write {
        let mut requests = vec![Request {
            method: Method::Post,
            path: tickets(id, "/assign"),
            body: serde_json::json!({"assignee": me, "version": version}),
            idempotency_key: None,
            answers: Answer::Ticket,
        }];
        if start {
            // Its version is filled in from the assignment's answer.
            requests.push(Request {
                method: Method::Post,
                path: tickets(id, "/transitions"),
                body: serde_json::json!({"to": "triaging", "version": version}),
                idempotency_key: None,
                answers: Answer::Ticket,
            });
        }
        Write {
            format: FORMAT,
            label: format!("#{id} 受理 take"),
            done: format!("#{id} 已受理 taken"),
            ticket: id,
            seen_version: Some(version),
            requests,
            draft: None,
        }
    }

    pub fn transition(id: TicketId, body: &TransitionBody) -> Write {
        let label = format!("#{id} → {}", body.to.label_zh());
        Write::one(
            label.clone(),
            label,
            id,
            body.version,
            Request {
                method: Method::Post,
                path: tickets(id, "/transitions"),
                body: serde_json::to_value(body).unwrap_or_default(),
                idempotency_key: None,
                answers: Answer::Ticket,
            },
        )
    }

    /// A partial update as the API's PATCH body (`version` included).
    pub fn patch(id: TicketId, body: &serde_json::Value) -> Write {
        let seen = body.get("version").and_then(serde_json::Value::as_i64);
        // Says which change it is: "#12 修改 update 优先级 priority P1".
        let what: Vec<String> = [
            ("priority", "优先级 priority"),
            ("category", "分类 category"),
            ("subcategory", "小类 subcategory"),
            ("system", "系统 system"),
            ("assignee", "处理人 assignee"),
            ("title", "标题 title"),
        ]
        .iter()
        .filter_map(|(key, name)| {
            let v = body.get(*key)?;
            Some(format!("{name} {}", v.as_str().unwrap_or("-")))
        })
        .collect();
        Write::one(
            format!("#{id} 修改 update {}", what.join(" "))
                .trim_end()
                .to_string(),
            format!("#{id} 已更新 updated"),
            id,
            seen,
            Request {
                method: Method::Patch,
                path: tickets(id, ""),
                body: body.clone(),
                idempotency_key: None,
                answers: Answer::Ticket,
            },
        )
    }

    pub fn link(id: TicketId, kind: LinkKind, target: Option<TicketId>, version: i64) -> Write {
        let label = match target {
            Some(t) => format!("#{id} 关联 link → #{t}"),
            None => format!("#{id} 取消关联 unlink"),
        };
        Write::one(
            label.clone(),
            label,
            id,
            Some(version),
            Request {
                method: Method::Post,
                path: tickets(id, "/links"),
                body: serde_json::json!({"kind": kind, "target": target, "version": version}),
                idempotency_key: None,
                answers: Answer::Ticket,
            },
        )
    }

    /// A second handler approves an ops transfer's data-fix script.
    pub fn approve_script(id: TicketId, version: i64) -> Write {
        let label = format!("#{id} 脚本已审批 script approved");
        Write::one(
            label.clone(),
            label,
            id,
            Some(version),
            Request {
                method: Method::Post,
                path: tickets(id, "/approve-script"),
                body: serde_json::json!({"version": version}),
                idempotency_key: None,
                answers: Answer::Ticket,
            },
        )
    }

    /// The same write, its text kept under `key` if the server refuses it.
    pub fn with_draft(mut self, key: String) -> Write {
        self.draft = Some(key);
        self
    }

    /// The text this write carries: a reply, a note, a resolution, a hand-off.
    pub fn text(&self) -> Option<&str> {
        let body = &self.requests.first()?.body;
        ["body", "resolution", "note"]
            .iter()
            .find_map(|k| body.get(*k).and_then(|v| v.as_str()))
    }

    /// The text this write carries, with where to keep it as a draft, when it has both.
    pub fn kept_text(&self) -> Option<(String, String)> {
        Some((self.draft.clone()?, self.text()?.to_string()))
    }

    /// The key that makes queueing this twice queue it once: the first request's idempotency
    /// key, else `None` (its content is its key: a ticket write carries the version it was
    /// made against, so the same content is the same intent).
    pub fn idempotency_key(&self) -> Option<String> {
        self.requests.first()?.idempotency_key.clone()
    }

    /// The same write, made against `version` instead (it follows our own earlier write).
    pub fn at_version(mut self, version: i64) -> Write {
        self.seen_version = Some(version);
        if let Some(first) = self.requests.first_mut()
            && let Some(v) = first.body.get_mut("version")
        {
            *v = serde_json::Value::from(version);
        }
        self
    }

    /// Reads a stored entry: this format, or the one before it.
    pub fn decode(text: &str) -> Result<Write, Unreadable> {
        let unreadable = |reason: String| Unreadable {
            text: text.to_string(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| unreadable(e.to_string()))?;
        match value.get("format").and_then(serde_json::Value::as_u64) {
            Some(f) if f == u64::from(FORMAT) => {
                serde_json::from_value(value).map_err(|e| unreadable(e.to_string()))
            }
            Some(f) => Err(unreadable(format!(
                "written by a newer opsdesk (format {f}; this one reads {FORMAT})"
            ))),
            None => serde_json::from_value::<v1::Call>(value)
                .map_err(|e| unreadable(format!("not a queued write: {e}")))?
                .into_write()
                .ok_or_else(|| unreadable("a read, not a write".into())),
        }
    }

    pub fn encode(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

/// The first stored form: the workstation's call enum as serde wrote it. Frozen here, so
/// renaming anything in the workstation cannot break the reading of old entries.
mod v1 {
    use serde::Deserialize;

    use super::Write;
    use crate::api::TransitionBody;
    use crate::domain::ticket::{LinkKind, TicketId};

    #[derive(Deserialize)]
    pub(super) enum Call {
        Take {
            id: TicketId,
            version: i64,
            me: String,
            start: bool,
        },
        Transition {
            id: TicketId,
            body: TransitionBody,
        },
        Message {
            id: TicketId,
            body: String,
            internal: bool,
            key: String,
        },
        Patch {
            id: TicketId,
            body: serde_json::Value,
        },
        Link {
            id: TicketId,
            kind: LinkKind,
            target: Option<TicketId>,
            version: i64,
        },
        ApproveScript {
            id: TicketId,
            version: i64,
        },
        // Never queued (a read), but named so such a row reads as what it is.
        #[allow(dead_code)]
        Reveal(TicketId),
    }

    impl Call {
        pub(super) fn into_write(self) -> Option<Write> {
            Some(match self {
                Call::Take {
                    id,
                    version,
                    me,
                    start,
                } => Write::take(id, version, &me, start),
                Call::Transition { id, body } => Write::transition(id, &body),
                Call::Message {
                    id,
                    body,
                    internal,
                    key,
                } => Write::message(id, &body, internal, &key),
                Call::Patch { id, body } => Write::patch(id, &body),
                Call::Link {
                    id,
                    kind,
                    target,
                    version,
                } => Write::link(id, kind, target, version),
                Call::ApproveScript { id, version } => Write::approve_script(id, version),
                Call::Reveal(_) => return None,
            })
        }
    }
}

/// What a write achieved.
#[derive(Debug)]
pub struct Sent {
    /// The ticket as the server now has it, when the write answered with one.
    pub ticket: Option<Box<TicketView>>,
    /// The ticket's version before our write and after it, when the write is known to be the
    /// only change in between (a write queued behind it may then follow).
    pub moved: Option<(i64, i64)>,
}

/// A write that did not (all) go through, and what of it is still to send.
#[derive(Debug)]
pub struct NotSent {
    pub error: ClientError,
    /// The requests not sent yet (the first one failed), at the version the ones sent
    /// produced.
    pub rest: Write,
}

/// Sends a write's requests in order. A request after one that answered with the ticket is
/// sent at the version that answer carries.
pub async fn send(client: &ApiClient, write: Write) -> Result<Sent, NotSent> {
    let mut ticket: Option<Box<TicketView>> = None;
    let mut moved = None;
    let mut requests = write.requests.clone().into_iter();
    let mut seen = write.seen_version;
    while let Some(mut request) = requests.next() {
        if let (Some(t), Some(v)) = (&ticket, request.body.get_mut("version")) {
            *v = serde_json::Value::from(t.version);
        }
        let answer = match client.request_json(&request).await {
            Ok(answer) => answer,
            Err(error) => {
                let rest = Write {
                    seen_version: ticket.as_ref().map(|t| t.version).or(seen),
                    requests: std::iter::once(request).chain(requests).collect(),
                    ..write
                };
                return Err(NotSent { error, rest });
            }
        };
        match request.answers {
            Answer::Ticket => {
                let mut t: TicketView = serde_json::from_value(answer)
                    .map_err(|e| ClientError::Protocol(e.to_string()))
                    .map_err(|error| NotSent {
                        error,
                        rest: Write {
                            requests: requests.clone().collect(),
                            ..write.clone()
                        },
                    })?;
                inert(&mut t);
                // Every request so far was ours: the version the handler saw moved to this.
                moved = write.seen_version.map(|v| (v, t.version));
                seen = Some(t.version);
                ticket = Some(Box::new(t));
            }
            Answer::Note => {}
            Answer::Reply => {
                // A first public reply is the first response and moves the ticket's version;
                // the ticket as it is now lets a write queued behind the reply follow that move.
                let Ok(m) = serde_json::from_value::<Message>(answer) else {
                    continue;
                };
                if let Ok(t) = client.ticket(write.ticket).await {
                    // Stored times keep milliseconds; the answer's own may carry more.
                    let ours = t.first_responded_at.map(|at| at.timestamp_millis())
                        == Some(m.created_at.timestamp_millis());
                    if ours {
                        moved = Some((t.version - 1, t.version));
                    }
                    ticket = Some(Box::new(t));
                }
            }
        }
    }
    Ok(Sent { ticket, moved })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticket::Status;

    #[test]
    fn every_format_1_entry_reads_as_the_requests_it_meant() {
        let old = include_str!("../../tests/fixtures/outbox/v1_calls.jsonl");
        let writes: Vec<Write> = old
            .lines()
            .map(|l| Write::decode(l).expect("a format-1 entry reads"))
            .collect();
        let paths: Vec<(&str, Method)> = writes
            .iter()
            .flat_map(|w| w.requests.iter().map(|r| (r.path.as_str(), r.method)))
            .collect();
        assert_eq!(
            paths,
            [
                ("/api/v1/tickets/1/messages", Method::Post),
                ("/api/v1/tickets/1/assign", Method::Post),
                ("/api/v1/tickets/1/transitions", Method::Post),
                ("/api/v1/tickets/1/messages", Method::Post),
                ("/api/v1/tickets/1", Method::Patch),
                ("/api/v1/tickets/1/transitions", Method::Post),
                ("/api/v1/tickets/1/links", Method::Post),
                ("/api/v1/tickets/1/approve-script", Method::Post),
            ]
        );
        assert_eq!(
            writes[0].requests[0].body["body"],
            "您好，请客户重新登录后再试。\n如仍失败请截图"
        );
        assert_eq!(
            writes[0].idempotency_key().as_deref(),
            Some("tui-1764000000000000-42")
        );
        assert_eq!(writes[4].requests[0].body["transfer_to"], "dev");
        assert_eq!(writes[3].seen_version, Some(1));
    }

    #[test]
    fn the_current_format_round_trips_and_others_are_given_back_whole() {
        let w = Write::transition(
            7,
            &TransitionBody {
                to: Status::Resolved,
                transfer_to: None,
                note: None,
                resolution: Some("已修复".into()),
                version: Some(3),
            },
        );
        assert_eq!(Write::decode(&w.encode().unwrap()), Ok(w.clone()));
        for bad in [
            "{",
            r#"{"format": 9, "label": "x"}"#,
            r#"{"Renamed": {"id": 1}}"#,
            r#"{"Reveal": 3}"#,
        ] {
            let e = Write::decode(bad).unwrap_err();
            assert_eq!(e.text, bad, "the text is kept to show the handler");
            assert!(!e.reason.is_empty());
        }
        assert!(
            Write::decode(r#"{"format": 9}"#)
                .unwrap_err()
                .reason
                .contains("newer")
        );
    }

    #[test]
    fn following_a_version_changes_only_the_first_request() {
        let w = Write::take(5, 2, "h_chen", true).at_version(4);
        assert_eq!(w.seen_version, Some(4));
        assert_eq!(w.requests[0].body["version"], 4);
        assert_eq!(w.requests[1].body["to"], "triaging");
    }
}
