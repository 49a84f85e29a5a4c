//! What a submitter does from the MSS pages: submit a ticket with screenshots, add to a
//! ticket, confirm or reopen a resolution, and keep track of what they have read.

use super::messages::{StagedFile, attach_in, insert_in, store_message};
use super::tickets::{create_in, load, save, view_of, visible};
use super::{Created, Desk, DeskError, Idempotency};
use crate::domain::lifecycle::{self, TransitionRequest};
use crate::domain::message::Message;
use crate::domain::ticket::{Status, Ticket, TicketId};
use crate::domain::validate::{NewTicket, ValidationErrors};
use crate::store::help::{self, Outcome};
use crate::store::users::User;
use crate::store::{audit, tickets};

/// A ticket as the submission form reports it.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The form's one-time id: a resubmitted form creates one ticket, not two.
    pub form_id: String,
    pub new: NewTicket,
    pub screenshots: Vec<StagedFile>,
    /// Help articles the submitter opened before submitting anyway.
    pub viewed_articles: Vec<i64>,
    /// The submitter's earlier (closed) ticket this one takes up again: the new ticket names
    /// it, and it records the follow-up.
    pub follows: Option<TicketId>,
}

/// An open ticket the new submission may repeat.
#[derive(Debug, Clone)]
pub struct OpenTicket {
    pub id: TicketId,
    pub title: String,
    pub status: Status,
    /// Whether the submitter can see (and add to) it.
    pub mine: bool,
}

/// What an earlier post of a form made, found by the form's one-time id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentForm {
    /// The submission form made this ticket.
    Ticket(TicketId),
    /// The form added a message to this ticket (a reply, or a submission added to an open
    /// ticket after the repeat hint).
    Message { ticket: TicketId },
}

/// The route a submission is remembered under.
const SUBMIT_ROUTE: &str = "POST /mss/new";

/// The route a message on ticket `id` is remembered under.
fn message_route(id: TicketId) -> String {
    format!("POST /mss/tickets/{id}")
}

/// The key alone identifies a form: whatever a replay carries, the first answer stands.
fn once(route: &str, form_id: &str) -> Result<Idempotency, DeskError> {
    Idempotency::new(form_id, route, form_id.as_bytes())
}

/// What a remembered answer says the form made: the answer of a submission is the ticket, of
/// a message the message (which names its ticket).
fn sent_form(first: &crate::store::idempotency::Remembered) -> Option<SentForm> {
    let body = serde_json::from_str::<serde_json::Value>(&first.body).ok()?;
    if first.route == SUBMIT_ROUTE {
        return body.get("id")?.as_i64().map(SentForm::Ticket);
    }
    let ticket = body.get("ticket_id")?.as_i64()?;
    (first.route == message_route(ticket)).then_some(SentForm::Message { ticket })
}

impl Desk {
    fn check_screenshots(&self, count: usize) -> Result<(), DeskError> {
        let max = self.settings.mss.max_screenshots;
        if count > max {
            return Err(ValidationErrors::one(
                "screenshots",
                format!("最多上传 {max} 张截图"),
                format!("at most {max} screenshots"),
            )
            .into());
        }
        Ok(())
    }

    /// Open tickets on `system` for the customer with this account or phone.
    pub async fn open_tickets_for_customer(
        &self,
        actor: &User,
        system: &str,
        account: Option<String>,
        phone: Option<String>,
    ) -> Result<Vec<OpenTicket>, DeskError> {
        let (actor, system) = (actor.clone(), system.to_string());
        Ok(self
            .store
            .read(move |conn| {
                let found = tickets::open_for_customer(
                    conn,
                    &system,
                    account.as_deref(),
                    phone.as_deref(),
                )?;
                Ok(found
                    .into_iter()
                    .map(|t| OpenTicket {
                        mine: visible(&actor, &t),
                        id: t.id,
                        title: t.title,
                        status: t.status,
                    })
                    .collect())
            })
            .await?)
    }

    /// What an earlier post of this form made, if anything: a retried form lands where the
    /// first post did.
    pub async fn submitted_form(
        &self,
        actor: &User,
        form_id: &str,
    ) -> Result<Option<SentForm>, DeskError> {
        let (uid, key) = (actor.id, form_id.to_string());
        let first = self
            .store
            .read(move |conn| crate::store::idempotency::lookup(conn, uid, &key))
            .await?;
        Ok(first.as_ref().and_then(sent_form))
    }

    /// Creates the ticket with its screenshots in one transaction, once per form.
    pub async fn submit(
        &self,
        actor: &User,
        sub: Submission,
    ) -> Result<Created<crate::domain::view::TicketView>, DeskError> {
        self.check_screenshots(sub.screenshots.len())?;
        let idem = once(SUBMIT_ROUTE, &sub.form_id)?;
        let (settings, user) = (self.settings.clone(), actor.clone());
        let (mut new, viewed, follows) = (sub.new, sub.viewed_articles, sub.follows);
        self.write_once_with_files(actor, idem, sub.screenshots, move |ctx, files| {
            let at = ctx.now;
            if let Some(earlier) = follows {
                let e = load(ctx, &settings, &user, earlier, None)?;
                require_owner(&user, &e)?;
                new.description = format!(
                    "（接续已关闭的事件 #{earlier}）\n{}",
                    new.description.trim()
                );
            }
            let (t, _) = create_in(ctx, &settings, &user, new, at)?;
            if let Some(earlier) = follows {
                audit::record(
                    ctx.conn,
                    at,
                    &user.username,
                    "ticket.followed_up",
                    Some(earlier),
                    &serde_json::json!({"follow_up": t.id}),
                )?;
            }
            attach_in(ctx, &user, t.id, None, files)?;
            for article in viewed {
                // Only an article a submitter can be shown counts (a stale or forged id is
                // dropped, not refused: the ticket matters more than the record).
                if super::help::shown_to_submitters(ctx.conn, article)?.is_some() {
                    help::record_outcome(
                        ctx.conn,
                        &user.username,
                        article,
                        Outcome::Submitted,
                        at,
                    )?;
                }
            }
            view_of(ctx, &settings, &t)
        })
        .await
    }

    /// A submitter's message with optional screenshots on their ticket, once per form.
    pub async fn follow_up(
        &self,
        actor: &User,
        ticket_id: TicketId,
        body: String,
        screenshots: Vec<StagedFile>,
        form_id: &str,
    ) -> Result<Created<Message>, DeskError> {
        self.check_screenshots(screenshots.len())?;
        let idem = once(&message_route(ticket_id), form_id)?;
        let (settings, user) = (self.settings.clone(), actor.clone());
        self.write_once_with_files(actor, idem, screenshots, move |ctx, files| {
            let at = ctx.now;
            let m = insert_in(ctx, &settings, &user, ticket_id, body, false, at)?;
            attach_in(ctx, &user, ticket_id, Some(m.id), files)?;
            Ok(m)
        })
        .await
    }

    /// One of the submitter's own tickets, with its full customer: what a follow-up of it
    /// takes over when the form names no customer.
    pub async fn own_ticket(&self, actor: &User, id: TicketId) -> Result<Ticket, DeskError> {
        let user = actor.clone();
        let t = self
            .read_visible(actor, id, |_, _, t| Ok(t.clone()))
            .await?;
        require_owner(&user, &t)?;
        Ok(t)
    }

    /// The submitter confirms the answer solved the problem: resolved → closed, with their
    /// words (thanks, "客户已经好了") kept in the conversation when they wrote any. Those words
    /// reopen nothing.
    pub async fn confirm_resolved(
        &self,
        actor: &User,
        id: TicketId,
        note: Option<String>,
    ) -> Result<crate::domain::view::TicketView, DeskError> {
        let (settings, user) = (self.settings.clone(), actor.clone());
        self.write(move |ctx| {
            let at = ctx.now;
            confirm_in(ctx, &settings, &user, id, note.as_deref(), at)
        })
        .await
    }

    /// The submitter says the answer did not solve it: resolved → triaging, with their reason
    /// as a follow-up message (which tells the handlers). A closed ticket is not reopened by
    /// its submitter: a problem that came back is a new ticket naming it.
    pub async fn reopen(
        &self,
        actor: &User,
        id: TicketId,
        reason: String,
    ) -> Result<crate::domain::view::TicketView, DeskError> {
        let (settings, user) = (self.settings.clone(), actor.clone());
        self.write(move |ctx| {
            crate::domain::message::check_body(&reason)?;
            let at = ctx.now;
            submitter_moves(
                ctx,
                &settings,
                &user,
                id,
                Status::Triaging,
                "ticket.reopened",
                at,
            )?;
            insert_in(
                ctx,
                &settings,
                &user,
                id,
                format!("【仍未解决】{}", reason.trim()),
                false,
                at,
            )?;
            let t = load(ctx, &settings, &user, id, None)?;
            view_of(ctx, &settings, &t)
        })
        .await
    }

    /// How each of `actor`'s closed tickets was closed: `true` when they confirmed it, `false`
    /// when a handler closed it.
    pub async fn closings(
        &self,
        actor: &User,
    ) -> Result<std::collections::HashMap<TicketId, bool>, DeskError> {
        let name = actor.username.clone();
        let found = self
            .store
            .read(move |conn| audit::closings(conn, &name))
            .await?;
        Ok(found
            .into_iter()
            .map(|(id, action, _)| (id, action == "ticket.confirmed"))
            .collect())
    }

    /// The ticket's progress as its submitter may see it: creation and status changes, no
    /// hand-off notes, no reveals, no internal detail.
    pub async fn progress(
        &self,
        actor: &User,
        id: TicketId,
    ) -> Result<Vec<audit::AuditEntry>, DeskError> {
        let found = self
            .read_visible(actor, id, move |conn, _, _| audit::for_ticket(conn, id))
            .await?;
        const PUBLIC: &[&str] = &[
            "ticket.created",
            "ticket.assigned",
            "ticket.transitioned",
            "ticket.answered",
            "ticket.confirmed",
            "ticket.reopened",
            "ticket.followed_up",
        ];
        Ok(found
            .into_iter()
            .filter(|e| PUBLIC.contains(&e.action.as_str()))
            .map(|mut e| {
                // Only the status words (and the submitter's own message or follow-up that
                // moved it) are for the submitter's eyes.
                let keep = [
                    "to",
                    "transfer_to",
                    "status",
                    "assignee",
                    "message",
                    "follow_up",
                ];
                if let serde_json::Value::Object(map) = &mut e.detail {
                    map.retain(|k, _| keep.contains(&k.as_str()));
                }
                e
            })
            .collect())
    }
}

/// The submitter's confirmation at `at` (shared with the demo loader, which replays history):
/// resolved → closed, their words, if any, kept as a message that moves nothing.
pub(crate) fn confirm_in(
    ctx: &mut crate::store::WriteCtx<'_>,
    settings: &crate::config::Settings,
    user: &User,
    id: TicketId,
    note: Option<&str>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<crate::domain::view::TicketView, DeskError> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = note {
        crate::domain::message::check_body(n)?;
    }
    let view = submitter_moves(
        ctx,
        settings,
        user,
        id,
        Status::Closed,
        "ticket.confirmed",
        at,
    )?;
    if let Some(n) = note {
        store_message(ctx, user, id, n, false, at)?;
    }
    Ok(view)
}

/// A move the ticket's own submitter makes from the pages (confirm, reopen), audited as
/// `action`.
fn submitter_moves(
    ctx: &mut crate::store::WriteCtx<'_>,
    settings: &crate::config::Settings,
    user: &User,
    id: TicketId,
    to: Status,
    action: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<crate::domain::view::TicketView, DeskError> {
    let mut t = load(ctx, settings, user, id, None)?;
    require_owner(user, &t)?;
    if t.status == Status::Closed && to == Status::Triaging {
        return Err(DeskError::TicketClosed(id));
    }
    let req = TransitionRequest {
        to: Some(to),
        ..Default::default()
    };
    lifecycle::apply(&mut t, &req, at)?;
    save(
        ctx,
        settings,
        t,
        &user.username,
        action,
        serde_json::json!({"to": to}),
        at,
    )
}

/// Only the ticket's own submitter confirms or reopens it from the pages.
fn require_owner(user: &User, t: &Ticket) -> Result<(), DeskError> {
    if t.submitter == user.username {
        Ok(())
    } else {
        Err(DeskError::Forbidden(
            "only the submitter confirms or reopens from these pages".into(),
        ))
    }
}
