//! Conversation and attachment use cases.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::images::{self, ImageError, Limits};
use super::tickets::{load, publish, save, view_of, visible};
use super::{Created, Desk, DeskError, Idempotency, notify};
use crate::config::Settings;
use crate::domain::lifecycle::{self, TransitionRequest};
use crate::domain::message::{Attachment, Message, check_body, clean_filename};
use crate::domain::notify::Event;
use crate::domain::ticket::{Status, Ticket, TicketId};
use crate::domain::validate::ValidationErrors;
use crate::domain::view::TicketView;
use crate::store::users::User;
use crate::store::{StoreError, WriteCtx, attachments, changes, messages, tickets};

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    pub body: String,
    /// An internal note for handlers; never shown to the submitter.
    #[serde(default)]
    pub internal: bool,
}

/// Adds a message at `at`, applies what it means for the ticket (see [`record_in`]) and queues
/// its notification: a handler's public reply tells the submitter, a submitter's message tells
/// the handlers; internal notes tell no one.
pub(crate) fn insert_in(
    ctx: &mut WriteCtx<'_>,
    settings: &Settings,
    actor: &User,
    ticket_id: TicketId,
    body: String,
    internal: bool,
    at: DateTime<Utc>,
) -> Result<Message, DeskError> {
    let (m, t, saved) = record_in(ctx, settings, actor, ticket_id, body, internal, at)?;
    let event = match (internal, actor.role.works_tickets()) {
        (true, _) => None,
        // A handler answering their own ticket needs no message about it.
        (false, true) => (actor.username != t.submitter).then_some(Event::Replied),
        (false, false) => Some(Event::FollowUp),
    };
    if let Some(event) = event.filter(|e| notify::wanted(settings, *e)) {
        let view = match saved {
            Some(view) => view,
            None => view_of(ctx, settings, &t)?,
        };
        notify::enqueue(
            ctx,
            settings,
            event,
            &t.customer,
            &view,
            Some(&m),
            &actor.username,
        )?;
    }
    Ok(m)
}

/// [`insert_in`] for a message that is part of a larger change whose own notification
/// carries it (the resolution note of a resolve).
pub(crate) fn insert_quiet_in(
    ctx: &mut WriteCtx<'_>,
    settings: &Settings,
    actor: &User,
    ticket_id: TicketId,
    body: String,
    internal: bool,
    at: DateTime<Utc>,
) -> Result<Message, DeskError> {
    record_in(ctx, settings, actor, ticket_id, body, internal, at).map(|(m, _, _)| m)
}

/// Stores a message and applies what it means for the ticket: a handler's first public reply
/// is the first response; a submitter answering a ticket that waits on them puts it back in
/// the handler's hands (and the SLA clock running). Returns the message, the ticket as it is
/// now, and its view when the ticket itself changed.
fn record_in(
    ctx: &mut WriteCtx<'_>,
    settings: &Settings,
    actor: &User,
    ticket_id: TicketId,
    body: String,
    internal: bool,
    at: DateTime<Utc>,
) -> Result<(Message, Ticket, Option<TicketView>), DeskError> {
    check_body(&body)?;
    if internal && !actor.role.works_tickets() {
        return Err(DeskError::Forbidden(
            "only handlers may write internal notes".into(),
        ));
    }
    let mut t = load(ctx, settings, actor, ticket_id, None)?;
    let m = messages::insert(
        ctx.conn,
        &Message {
            id: 0,
            ticket_id,
            author: actor.username.clone(),
            author_role: actor.role,
            internal,
            body: body.trim().to_string(),
            created_at: at,
        },
    )?;
    let data = serde_json::to_value(&m).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    changes::append(
        ctx,
        "message.created",
        Some(ticket_id),
        &actor.username,
        data,
    )?;

    let before = t.clone();
    if actor.role.works_tickets() && !internal && t.first_responded_at.is_none() {
        t.first_responded_at = Some(at);
    }
    if !actor.role.works_tickets() && t.status == Status::WaitingSubmitter {
        let resume = TransitionRequest {
            to: Some(Status::Triaging),
            ..Default::default()
        };
        lifecycle::apply(&mut t, &resume, at)?;
    }
    let mut saved = None;
    if t != before {
        let detail = serde_json::json!({"message": m.id, "status": t.status});
        saved = Some(save(
            ctx,
            settings,
            t.clone(),
            &actor.username,
            "ticket.answered",
            detail,
            at,
        )?);
    }
    Ok((m, t, saved))
}

impl Desk {
    pub async fn add_message(
        &self,
        actor: &User,
        ticket_id: TicketId,
        new: NewMessage,
        idem: Option<Idempotency>,
    ) -> Result<Created<Message>, DeskError> {
        let (settings, user) = (self.settings.clone(), actor.clone());
        self.write_once(actor, idem, move |ctx| {
            let at = ctx.now;
            insert_in(ctx, &settings, &user, ticket_id, new.body, new.internal, at)
        })
        .await
    }

    /// The conversation; internal notes only for handlers.
    pub async fn messages(
        &self,
        actor: &User,
        ticket_id: TicketId,
    ) -> Result<Vec<Message>, DeskError> {
        let actor = actor.clone();
        let found = self
            .store
            .read(move |conn| {
                let Some(t) = tickets::get(conn, ticket_id)? else {
                    return Ok(None);
                };
                if !visible(&actor, &t) {
                    return Ok(None);
                }
                Ok(Some(messages::for_ticket(
                    conn,
                    ticket_id,
                    actor.role.works_tickets(),
                )?))
            })
            .await?;
        found.ok_or_else(|| DeskError::NotFound(format!("ticket {ticket_id}")))
    }

    /// Stores an uploaded file for a ticket. The bytes are written and fsynced first; the row
    /// follows in a write job, and the file is removed again if that job refuses.
    pub async fn add_attachment(
        &self,
        actor: &User,
        ticket_id: TicketId,
        filename: &str,
        bytes: bytes::Bytes,
        idem: Option<Idempotency>,
    ) -> Result<Created<Attachment>, DeskError> {
        if bytes.is_empty() {
            return Err(crate::domain::validate::ValidationErrors::one(
                "file",
                "文件为空",
                "the file is empty",
            )
            .into());
        }
        // Images are decoded and re-encoded: EXIF (with GPS) and anything glued after the
        // picture are dropped, and a decompression bomb is refused before it allocates.
        let (bytes, content_type) = match sniff_content_type(&bytes) {
            image if image.starts_with("image/") => {
                let limits = Limits {
                    max_bytes: self.settings.server.max_upload_bytes,
                    ..Limits::default()
                };
                let processed =
                    tokio::task::spawn_blocking(move || images::process(&bytes, &limits))
                        .await
                        .map_err(|_| DeskError::Store(StoreError::Closed))?
                        .map_err(image_refused)?;
                (processed.bytes, processed.content_type.to_string())
            }
            other => (bytes.to_vec(), other.to_string()),
        };
        let dir = self.store.attachments_dir();
        let stored = tokio::task::spawn_blocking(move || attachments::write_file(&dir, &bytes))
            .await
            .map_err(|_| DeskError::Store(StoreError::Closed))??;
        let (settings, user) = (self.settings.clone(), actor.clone());
        let filename = clean_filename(filename);
        let stored_name = stored.stored_name.clone();
        let result = self
            .write_once(actor, idem, move |ctx| {
                let t = load(ctx, &settings, &user, ticket_id, None)?;
                let a = attachments::insert(
                    ctx.conn,
                    &Attachment {
                        id: 0,
                        ticket_id,
                        message_id: None,
                        filename,
                        content_type,
                        size: stored.size,
                        sha256: stored.sha256,
                        stored_name: stored.stored_name,
                        uploaded_by: user.username.clone(),
                        created_at: ctx.now,
                    },
                )?;
                let data =
                    serde_json::to_value(&a).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                changes::append(
                    ctx,
                    "attachment.created",
                    Some(ticket_id),
                    &user.username,
                    data,
                )?;
                publish(ctx, &settings, "ticket.updated", &t, &user.username)?;
                Ok(a)
            })
            .await;
        let keep = matches!(&result, Ok(c) if !c.replayed);
        if !keep {
            let _ = std::fs::remove_file(self.store.attachments_dir().join(&stored_name));
        }
        result
    }

    /// An attachment's metadata and the path of its bytes, if `actor` may see its ticket.
    pub async fn attachment(
        &self,
        actor: &User,
        id: i64,
    ) -> Result<(Attachment, PathBuf), DeskError> {
        let actor = actor.clone();
        let found = self
            .store
            .read(move |conn| {
                let Some(a) = attachments::get(conn, id)? else {
                    return Ok(None);
                };
                let Some(t) = tickets::get(conn, a.ticket_id)? else {
                    return Ok(None);
                };
                let ok = visible(&actor, &t);
                Ok(ok.then_some(a))
            })
            .await?;
        let a = found.ok_or_else(|| DeskError::NotFound(format!("attachment {id}")))?;
        let path = self.store.attachments_dir().join(&a.stored_name);
        Ok((a, path))
    }
}

/// An image that cannot be stored: the uploader's mistake (422), or ours when re-encoding fails.
fn image_refused(e: ImageError) -> DeskError {
    match e {
        ImageError::Encode(detail) => DeskError::Store(StoreError::Corrupt(format!(
            "re-encoding an image: {detail}"
        ))),
        other => ValidationErrors::one("file", other.message_zh(), other.to_string()).into(),
    }
}

/// Decides the served type from the bytes, never from the client's name or header: the few
/// types a browser may show inline, everything else a download.
fn sniff_content_type(head: &[u8]) -> &'static str {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        "image/webp"
    } else if head.starts_with(b"%PDF-") {
        "application/pdf"
    } else {
        "application/octet-stream"
    }
}
