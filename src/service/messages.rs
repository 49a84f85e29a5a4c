//! Conversation and attachment use cases.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::tickets::{load, publish, save, view_of, visible};
use super::{Created, Desk, DeskError, Idempotency, notify};
use crate::api::{NewMessage, ReadMarker, Unread};
use crate::config::Settings;
use crate::domain::images::{self, ImageError, Limits};
use crate::domain::lifecycle::{self, TransitionRequest};
use crate::domain::message::{Attachment, Message, check_body, clean_filename};
use crate::domain::notify::Event;
use crate::domain::ticket::{Status, Ticket, TicketId};
use crate::domain::validate::ValidationErrors;
use crate::domain::view::TicketView;
use crate::store::read_markers::UnreadScope;
use crate::store::users::User;
use crate::store::{StoreError, WriteCtx, attachments, changes, messages, read_markers, tickets};

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

/// Stores a message on the change stream, with no consequence for its ticket.
pub(crate) fn store_message(
    ctx: &mut WriteCtx<'_>,
    actor: &User,
    ticket_id: TicketId,
    body: &str,
    internal: bool,
    at: DateTime<Utc>,
) -> Result<Message, DeskError> {
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
    Ok(m)
}

/// Stores a message and applies what it means for the ticket: a handler's first public reply
/// is the first response; a submitter writing on a ticket that waits on them, or on one that
/// was resolved ("还是不行…"), puts it back in the handlers' hands (triaging, the resolve
/// clock running again); a closed ticket takes nothing more from its submitter (a problem
/// that came back is a new ticket). Returns the message, the ticket as it is now, and its
/// view when the ticket itself changed.
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
    let from_submitter = !actor.role.works_tickets();
    if internal && from_submitter {
        return Err(DeskError::Forbidden(
            "only handlers may write internal notes".into(),
        ));
    }
    let mut t = load(ctx, settings, actor, ticket_id, None)?;
    if from_submitter && t.status == Status::Closed {
        return Err(DeskError::TicketClosed(ticket_id));
    }
    let m = store_message(ctx, actor, ticket_id, &body, internal, at)?;

    let before = t.clone();
    if !from_submitter && !internal && t.first_responded_at.is_none() {
        t.first_responded_at = Some(at);
    }
    if from_submitter && matches!(t.status, Status::WaitingSubmitter | Status::Resolved) {
        let back = TransitionRequest {
            to: Some(Status::Triaging),
            ..Default::default()
        };
        lifecycle::apply(&mut t, &back, at)?;
    }
    let mut saved = None;
    if t != before {
        // A resolved ticket the submitter wrote on again is reopened by that message.
        let (action, detail) = if before.status == Status::Resolved {
            (
                "ticket.reopened",
                serde_json::json!({"message": m.id, "from": before.status, "to": t.status}),
            )
        } else {
            (
                "ticket.answered",
                serde_json::json!({"message": m.id, "status": t.status}),
            )
        };
        saved = Some(save(
            ctx,
            settings,
            t.clone(),
            &actor.username,
            action,
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
        self.read_visible(actor, ticket_id, move |conn, user, _| {
            messages::for_ticket(conn, ticket_id, user.role.works_tickets())
        })
        .await
    }

    /// The ticket's version and how many messages `actor` can see on it: what changes when
    /// someone acts on it, read cheaply for a page that polls.
    pub async fn change_mark(&self, actor: &User, id: TicketId) -> Result<(i64, u64), DeskError> {
        self.read_visible(actor, id, move |conn, user, t| {
            Ok((
                t.version,
                messages::count(conn, id, user.role.works_tickets())?,
            ))
        })
        .await
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
            return Err(empty_file());
        }
        // Images are decoded and re-encoded: EXIF (with GPS) and anything glued after the
        // picture are dropped, and a decompression bomb is refused before it allocates.
        let staged = match sniff_content_type(&bytes) {
            image if image.starts_with("image/") => self.stage_image(filename, bytes).await?,
            other => {
                let dir = self.store.attachments_dir();
                let content_type = other.to_string();
                let stored =
                    tokio::task::spawn_blocking(move || attachments::write_file(&dir, &bytes))
                        .await
                        .map_err(|_| DeskError::Store(StoreError::Closed))??;
                StagedFile {
                    filename: clean_filename(filename),
                    content_type,
                    stored,
                }
            }
        };
        let (settings, user) = (self.settings.clone(), actor.clone());
        self.write_once_with_files(actor, idem, vec![staged], move |ctx, files| {
            let t = load(ctx, &settings, &user, ticket_id, None)?;
            let mut added = attach_in(ctx, &user, ticket_id, None, files)?;
            publish(ctx, &settings, "ticket.updated", &t, &user.username)?;
            Ok(added.remove(0))
        })
        .await
    }

    /// [`Desk::write_once`] for a change that takes staged files: they are removed again
    /// unless this very request attached them (a refusal, or a replay answered from memory).
    pub(crate) async fn write_once_with_files<T, F>(
        &self,
        actor: &User,
        idem: impl Into<Option<Idempotency>>,
        files: Vec<StagedFile>,
        f: F,
    ) -> Result<Created<T>, DeskError>
    where
        T: Serialize + serde::de::DeserializeOwned + Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>, Vec<StagedFile>) -> Result<T, DeskError> + Send + 'static,
    {
        let kept = files.clone();
        let result = self
            .write_once(actor, idem.into(), move |ctx| f(ctx, files))
            .await;
        if !matches!(&result, Ok(c) if !c.replayed) {
            self.discard_staged(kept).await;
        }
        result
    }

    /// Decodes, re-encodes and stores an uploaded image with its thumbnail, not yet attached
    /// to anything. The type comes from decoding, never from the name or the client.
    pub async fn stage_image(
        &self,
        filename: &str,
        bytes: bytes::Bytes,
    ) -> Result<StagedFile, DeskError> {
        Ok(self.stage_picture(filename, bytes).await?.0)
    }

    /// [`Desk::stage_image`], with the picture's width and height as re-encoded.
    pub(crate) async fn stage_picture(
        &self,
        filename: &str,
        bytes: bytes::Bytes,
    ) -> Result<(StagedFile, u32, u32), DeskError> {
        if bytes.is_empty() {
            return Err(empty_file());
        }
        let limits = Limits {
            max_bytes: self.settings.server.max_upload_bytes,
            max_pixels: self.settings.server.max_image_pixels,
            ..Limits::default()
        };
        // The header says what decoding will take; a picture over the limits is refused here,
        // and one within them waits for its share of the decode memory.
        let cost = images::decode_cost(&bytes, &limits).map_err(image_refused)?;
        let _memory = self.reserve_decode_memory(cost.bytes).await?;
        let dir = self.store.attachments_dir();
        let filename = clean_filename(filename);
        tokio::task::spawn_blocking(move || {
            let processed = images::process(&bytes, &limits).map_err(image_refused)?;
            let stored = attachments::write_file(&dir, &processed.bytes)?;
            // The thumbnail can be made again from the image, so it is not fsynced; without it
            // the picture is not staged at all, so the picture goes too.
            let thumbnail = dir.join(thumbnail_name(&stored.stored_name));
            if let Err(e) = std::fs::write(&thumbnail, &processed.thumbnail) {
                let _ = std::fs::remove_file(&thumbnail);
                let _ = std::fs::remove_file(dir.join(&stored.stored_name));
                return Err(StoreError::from(e).into());
            }
            let staged = StagedFile {
                filename,
                content_type: processed.content_type.to_string(),
                stored,
            };
            Ok((staged, processed.width, processed.height))
        })
        .await
        .map_err(|_| DeskError::Store(StoreError::Closed))?
    }

    /// Takes `bytes` of the process's decode memory, waiting up to `image_decode_wait_ms`
    /// for other uploads to give theirs back; held until the returned permit drops.
    async fn reserve_decode_memory(
        &self,
        bytes: u64,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, DeskError> {
        // Whole KiB, at least one; the configuration guarantees one largest picture fits.
        let kib = u32::try_from(bytes.div_ceil(1024).max(1)).unwrap_or(u32::MAX);
        let wait = std::time::Duration::from_millis(self.settings.server.image_decode_wait_ms);
        let busy = || DeskError::Busy {
            message: "the server is decoding as many pictures as its memory allows; retry shortly"
                .into(),
            retry_after: 2,
        };
        let acquire = self.decode_memory.clone().acquire_many_owned(kib);
        match tokio::time::timeout(wait, acquire).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => Err(busy()),
        }
    }

    /// A staged image again, by its stored name: a form shown again after a refusal keeps
    /// its screenshots without the phone uploading them twice. Only files that exist and
    /// belong to no attachment yet qualify.
    pub async fn restage(
        &self,
        stored_name: &str,
        filename: &str,
    ) -> Result<StagedFile, DeskError> {
        let gone = || DeskError::NotFound("staged screenshot (please choose it again)".into());
        if stored_name.len() != 32 || !stored_name.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(gone());
        }
        let name = stored_name.to_string();
        if self
            .store
            .read(move |conn| attachments::is_attached(conn, &name))
            .await?
        {
            return Err(gone());
        }
        let path = self.store.attachments_dir().join(stored_name);
        let bytes = tokio::fs::read(&path).await.map_err(|_| gone())?;
        let content_type = sniff_content_type(&bytes);
        if !content_type.starts_with("image/") {
            return Err(gone());
        }
        Ok(StagedFile {
            filename: clean_filename(filename),
            content_type: content_type.to_string(),
            stored: attachments::StoredFile {
                stored_name: stored_name.to_string(),
                size: bytes.len() as i64,
                sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
            },
        })
    }

    /// Removes stored files older than `keep` that no attachment took (abandoned forms);
    /// returns how many files went.
    pub async fn sweep_staged(&self, keep: std::time::Duration) -> Result<usize, DeskError> {
        let dir = self.store.attachments_dir();
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let cutoff = std::time::SystemTime::now() - keep;
            // Old enough files first, then one read asks which of them nothing took.
            let mut old = Vec::new();
            for entry in std::fs::read_dir(&dir).map_err(StoreError::from)? {
                let entry = entry.map_err(StoreError::from)?;
                let aged = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t < cutoff);
                if aged {
                    old.push(entry.file_name().to_string_lossy().to_string());
                }
            }
            let orphans = store.read_blocking(move |c| {
                let mut out = Vec::new();
                for name in old {
                    let stored = name.strip_suffix(".thumb").unwrap_or(&name);
                    if !attachments::is_attached(c, stored)? {
                        out.push(name);
                    }
                }
                Ok(out)
            })?;
            for name in &orphans {
                std::fs::remove_file(dir.join(name)).map_err(StoreError::from)?;
            }
            Ok(orphans.len())
        })
        .await
        .map_err(|_| DeskError::Store(StoreError::Closed))?
    }

    /// Removes staged files that no attachment took (a refused or replayed request).
    pub async fn discard_staged(&self, files: Vec<StagedFile>) {
        let dir = self.store.attachments_dir();
        let store = self.store.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let unattached = store.read_blocking(move |c| {
                let mut out = Vec::new();
                for f in files {
                    if !attachments::is_attached(c, &f.stored.stored_name)? {
                        out.push(f.stored.stored_name);
                    }
                }
                Ok(out)
            });
            for name in unattached.unwrap_or_default() {
                let _ = std::fs::remove_file(dir.join(&name));
                let _ = std::fs::remove_file(dir.join(thumbnail_name(&name)));
            }
        })
        .await;
    }

    /// Moves `actor`'s read marker on a ticket forward to `message_id`.
    pub async fn mark_read(
        &self,
        actor: &User,
        id: TicketId,
        message_id: i64,
    ) -> Result<(), DeskError> {
        let user = actor.clone();
        let settings = self.settings.clone();
        self.write(move |ctx| {
            load(ctx, &settings, &user, id, None)?;
            read_markers::advance(ctx.conn, user.id, id, message_id, ctx.now)?;
            Ok(())
        })
        .await
    }

    /// Unread messages per ticket, for the tickets given (one query, not one per ticket).
    /// Closed tickets have none to show: they ask nothing more of their reader, and a handler's
    /// answer the submitter never opened must not badge a weeks-old ticket for ever.
    pub async fn unread(
        &self,
        actor: &User,
        ids: Vec<TicketId>,
    ) -> Result<HashMap<TicketId, u32>, DeskError> {
        let wanted: std::collections::HashSet<TicketId> = ids.into_iter().collect();
        Ok(self
            .unread_counts(actor, UnreadScope::NotClosed)
            .await?
            .into_iter()
            .filter(|(id, _)| wanted.contains(id))
            .collect())
    }

    /// Every open ticket `actor` may see with messages they have not read.
    pub async fn unread_open(&self, actor: &User) -> Result<Vec<Unread>, DeskError> {
        Ok(self
            .unread_counts(actor, UnreadScope::Open)
            .await?
            .into_iter()
            .map(|(ticket_id, unread)| Unread { ticket_id, unread })
            .collect())
    }

    async fn unread_counts(
        &self,
        actor: &User,
        scope: UnreadScope,
    ) -> Result<Vec<(TicketId, u32)>, DeskError> {
        let user = actor.clone();
        Ok(self
            .store
            .read(move |conn| {
                read_markers::unread_by_ticket(
                    conn,
                    user.id,
                    &user.username,
                    user.role.works_tickets(),
                    scope,
                )
            })
            .await?)
    }

    /// `actor`'s read marker on a ticket and how many messages from others follow it.
    pub async fn read_marker(&self, actor: &User, id: TicketId) -> Result<ReadMarker, DeskError> {
        self.read_visible(actor, id, move |conn, user, _| {
            Ok(ReadMarker {
                message_id: read_markers::get(conn, user.id, id)?,
                unread: read_markers::unread(
                    conn,
                    user.id,
                    &user.username,
                    id,
                    user.role.works_tickets(),
                )?,
            })
        })
        .await
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

/// A processed upload written under the attachments dir, waiting for its row.
#[derive(Debug, Clone)]
pub struct StagedFile {
    pub filename: String,
    pub content_type: String,
    pub stored: attachments::StoredFile,
}

/// Where an image's thumbnail is kept, next to it.
pub fn thumbnail_name(stored_name: &str) -> String {
    format!("{stored_name}.thumb")
}

fn empty_file() -> DeskError {
    ValidationErrors::one("file", "文件为空", "the file is empty").into()
}

/// Attaches staged files to a ticket (and to one of its messages), recording each on the
/// change stream.
pub(crate) fn attach_in(
    ctx: &mut WriteCtx<'_>,
    actor: &User,
    ticket_id: TicketId,
    message_id: Option<i64>,
    files: Vec<StagedFile>,
) -> Result<Vec<Attachment>, DeskError> {
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let a = attachments::insert(
            ctx.conn,
            &Attachment {
                id: 0,
                ticket_id,
                message_id,
                filename: f.filename,
                content_type: f.content_type,
                size: f.stored.size,
                sha256: f.stored.sha256,
                stored_name: f.stored.stored_name,
                uploaded_by: actor.username.clone(),
                created_at: ctx.now,
            },
        )?;
        let data = serde_json::to_value(&a).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        changes::append(
            ctx,
            "attachment.created",
            Some(ticket_id),
            &actor.username,
            data,
        )?;
        out.push(a);
    }
    Ok(out)
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

/// Every type an attachment is served as: what [`sniff_content_type`] can decide (the API
/// description lists them for the download).
pub const SERVED_TYPES: [&str; 5] = [
    "image/png",
    "image/jpeg",
    "image/webp",
    "application/pdf",
    "application/octet-stream",
];

/// Decides the served type from the bytes, never from the client's name or header: the few
/// types a browser may show inline, everything else a download.
fn sniff_content_type(head: &[u8]) -> &'static str {
    let [png, jpeg, webp, pdf, other] = SERVED_TYPES;
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        png
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        jpeg
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        webp
    } else if head.starts_with(b"%PDF-") {
        pdf
    } else {
        other
    }
}
