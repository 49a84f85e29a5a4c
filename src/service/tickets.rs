//! Ticket use cases: create, read, list, patch, transition, assign, link, reveal.

use chrono::{DateTime, Utc};

use super::{Created, Desk, DeskError, Idempotency};
use crate::api::{AssignBody, LinkBody, TicketPage, TicketPatch, TransitionBody};
use crate::config::Settings;
use crate::domain::lifecycle::{self, TransitionRequest};
use crate::domain::notify::Event;
use crate::domain::ticket::{Channel, Customer, LinkKind, Status, Ticket, TicketId};
use crate::domain::validate::{
    self, FieldError, MAX_SHORT_TEXT_CHARS, MAX_TITLE_CHARS, MIN_TITLE_CHARS, NewTicket,
    ValidationErrors,
};
use crate::domain::view::{SlaContext, TicketView, ticket_view};
use crate::store::tickets::TicketFilter;
use crate::store::users::User;
use crate::store::{StoreError, WriteCtx, attachments, audit, changes, tickets, users};

/// The open tickets a similarity search compares, newest changes first: far more than a desk
/// keeps open at once.
const SIMILAR_CANDIDATES: usize = 5000;

fn not_found(id: TicketId) -> DeskError {
    DeskError::NotFound(format!("ticket {id}"))
}

/// Whether `user` may see ticket `t` at all. A submitter sees only their own; anything else
/// answers "not found", so ticket ids cannot be probed.
pub(crate) fn visible(user: &User, t: &Ticket) -> bool {
    user.role.works_tickets() || t.submitter == user.username
}

pub(crate) fn require_handler(user: &User) -> Result<(), DeskError> {
    if user.role.works_tickets() {
        Ok(())
    } else {
        Err(DeskError::Forbidden(format!(
            "this needs a handler or admin; '{}' is a {}",
            user.username,
            user.role.as_str()
        )))
    }
}

/// Loads a ticket for a change by `user`, checking visibility and the expected version.
pub(crate) fn load(
    ctx: &WriteCtx<'_>,
    settings: &Settings,
    user: &User,
    id: TicketId,
    expected_version: Option<i64>,
) -> Result<Ticket, DeskError> {
    let t = tickets::get(ctx.conn, id)?
        .filter(|t| visible(user, t))
        .ok_or_else(|| not_found(id))?;
    if let Some(v) = expected_version
        && v != t.version
    {
        let attachments = attachments::for_ticket(ctx.conn, id)?;
        let current = ticket_view(&t, attachments, &sla_ctx(settings), ctx.now);
        return Err(DeskError::StaleVersion {
            current: Box::new(current),
        });
    }
    Ok(t)
}

fn sla_ctx(settings: &Settings) -> SlaContext<'_> {
    SlaContext {
        policy: &settings.sla,
        calendar: &settings.calendar,
    }
}

/// The ticket as the API shows it now, without recording anything.
pub(crate) fn view_of(
    ctx: &WriteCtx<'_>,
    settings: &Settings,
    t: &Ticket,
) -> Result<TicketView, DeskError> {
    let attachments = attachments::for_ticket(ctx.conn, t.id)?;
    Ok(ticket_view(t, attachments, &sla_ctx(settings), ctx.now))
}

/// Renders the ticket, records the change on the stream, keeps the reports' facts of it in
/// step (in the same transaction) and returns the view.
pub(crate) fn publish(
    ctx: &mut WriteCtx<'_>,
    settings: &Settings,
    kind: &str,
    t: &Ticket,
    actor: &str,
) -> Result<TicketView, DeskError> {
    record_facts(ctx.conn, settings, t)?;
    let attachments = attachments::for_ticket(ctx.conn, t.id)?;
    let view = ticket_view(t, attachments, &sla_ctx(settings), ctx.now);
    let data = serde_json::to_value(&view).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    changes::append(ctx, kind, Some(t.id), actor, data)?;
    Ok(view)
}

/// Keeps what the reports count of `t`.
pub(crate) fn record_facts(
    conn: &rusqlite::Connection,
    settings: &Settings,
    t: &Ticket,
) -> Result<(), StoreError> {
    let facts = crate::domain::report::TicketFacts::of(t, &settings.sla, &settings.calendar);
    crate::store::reports::record(conn, &facts, settings.calendar.tz())
}

/// Saves a changed ticket as its next version, audits what changed and publishes it.
pub(crate) fn save(
    ctx: &mut WriteCtx<'_>,
    settings: &Settings,
    mut t: Ticket,
    actor: &str,
    action: &str,
    detail: serde_json::Value,
    at: DateTime<Utc>,
) -> Result<TicketView, DeskError> {
    t.version += 1;
    t.updated_at = at;
    tickets::update(ctx.conn, &t)?;
    audit::record(ctx.conn, at, actor, action, Some(t.id), &detail)?;
    publish(ctx, settings, "ticket.updated", &t, actor)
}

/// Validates and stores a new ticket at `at`; the one path every channel takes.
pub(crate) fn create_in(
    ctx: &mut WriteCtx<'_>,
    settings: &Settings,
    actor: &User,
    new: NewTicket,
    at: DateTime<Utc>,
) -> Result<(Ticket, TicketView), DeskError> {
    let new = validate::normalized(new);
    validate::new_ticket(&new, &settings.system_keys())?;
    let channel = new.channel.unwrap_or(Channel::Api);
    if let Some(r) = &new.external_ref
        && let Some(existing) = tickets::by_external_ref(ctx.conn, channel.as_str(), r.trim())?
    {
        return Err(DeskError::Conflict(format!(
            "a {channel} ticket with external_ref '{}' already exists as #{existing}",
            r.trim()
        )));
    }
    let mut t = Ticket::open(new, channel, actor.username.clone(), at);
    // A ticket about a problem a monitor already raised joins its parent incident at once,
    // when the monitor says so (`alert.link.auto`).
    // Not a ticket from the past (an import, the demo's history): it predates the alert.
    let recent = at > ctx.now - chrono::Duration::hours(1);
    let parent = if recent {
        super::monitors::auto_parent(ctx.conn, settings, &t)?
    } else {
        None
    };
    if let Some((parent, _)) = parent {
        t.links.parent = Some(parent);
    }
    t.id = tickets::insert(ctx.conn, &t)?;
    if let Some((parent, alert)) = parent {
        audit::record(
            ctx.conn,
            at,
            super::monitors::MONITOR_USER,
            "ticket.linked",
            Some(t.id),
            &serde_json::json!({"kind": "parent", "target": parent, "alert": alert}),
        )?;
    }
    audit::record(
        ctx.conn,
        at,
        &actor.username,
        "ticket.created",
        Some(t.id),
        &serde_json::json!({"channel": channel}),
    )?;
    let view = publish(ctx, settings, "ticket.created", &t, &actor.username)?;
    super::notify::enqueue(
        ctx,
        settings,
        Event::Created,
        &t.customer,
        &view,
        None,
        &actor.username,
    )?;
    Ok((t, view))
}

/// Applies a lifecycle move at `at` (shared with the demo loader, which replays history).
pub(crate) fn transition_in(
    ctx: &mut WriteCtx<'_>,
    settings: &Settings,
    actor: &User,
    mut t: Ticket,
    body: &TransitionBody,
    at: DateTime<Utc>,
) -> Result<TicketView, DeskError> {
    require_handler(actor)?;
    let req = TransitionRequest {
        to: Some(body.to),
        transfer_to: body.transfer_to,
        note: body.note.clone(),
        resolution: body.resolution.clone(),
    };
    let from = t.status;
    lifecycle::apply(&mut t, &req, at)?;
    if t.status == Status::Transferred {
        t.transferred_by = Some(actor.username.clone());
    }
    if body.to == Status::Resolved
        && let Some(resolution) = &t.resolution
    {
        // The submitter is told the answer in the conversation, where MSS shows it; the
        // resolve's own notification carries it, so the message adds none of its own.
        super::messages::insert_quiet_in(
            ctx,
            settings,
            actor,
            t.id,
            format!("【已解决】{resolution}"),
            false,
            at,
        )?;
    }
    let detail = serde_json::json!({"from": from, "to": t.status, "transfer_to": t.transfer_to, "note": body.note});
    let resolved = from != Status::Resolved && t.status == Status::Resolved;
    let customer = resolved.then(|| t.customer.clone());
    let id = t.id;
    let resolution = t.resolution.clone().unwrap_or_default();
    let view = save(
        ctx,
        settings,
        t,
        &actor.username,
        "ticket.transitioned",
        detail,
        at,
    )?;
    if let Some(customer) = customer {
        super::notify::enqueue(
            ctx,
            settings,
            Event::Resolved,
            &customer,
            &view,
            None,
            &actor.username,
        )?;
        super::monitors::parent_resolved_in(ctx, settings, actor, id, &resolution, at)?;
    }
    Ok(view)
}

fn check_assignee(ctx: &WriteCtx<'_>, assignee: &Option<String>) -> Result<(), DeskError> {
    if let Some(name) = assignee {
        let ok = users::by_username(ctx.conn, name)?.is_some_and(|u| u.role.works_tickets());
        if !ok {
            return Err(DeskError::Conflicting(ValidationErrors::one(
                "assignee",
                format!("处理人 '{name}' 不存在"),
                format!("no handler named '{name}'"),
            )));
        }
    }
    Ok(())
}

fn patch_in(
    ctx: &mut WriteCtx<'_>,
    settings: &Settings,
    actor: &User,
    id: TicketId,
    p: TicketPatch,
) -> Result<TicketView, DeskError> {
    require_handler(actor)?;
    let before = load(ctx, settings, actor, id, Some(p.version))?;
    let mut t = before.clone();
    let mut errs = Vec::new();
    if let Some(title) = &p.title {
        let n = title.trim().chars().count();
        if !(MIN_TITLE_CHARS..=MAX_TITLE_CHARS).contains(&n) {
            errs.push(FieldError::new(
                "title",
                format!("标题应为 {MIN_TITLE_CHARS}–{MAX_TITLE_CHARS} 个字"),
                format!("the title must be {MIN_TITLE_CHARS} to {MAX_TITLE_CHARS} characters"),
            ));
        }
        t.title = title.trim().to_string();
    }
    if let Some(system) = &p.system {
        if !settings.system_keys().contains(&system.as_str()) {
            errs.push(FieldError::new(
                "system",
                "所选系统不存在",
                format!("unknown system '{system}'"),
            ));
        }
        t.system = system.clone();
    }
    if let Some(sub) = &p.subcategory {
        let sub = sub
            .as_ref()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        if sub
            .as_ref()
            .is_some_and(|s| s.chars().count() > MAX_SHORT_TEXT_CHARS)
        {
            errs.push(FieldError::new(
                "subcategory",
                "小类过长",
                "the subcategory is too long",
            ));
        }
        t.subcategory = sub;
    }
    if !errs.is_empty() {
        return Err(ValidationErrors(errs).into());
    }
    if let Some(a) = &p.assignee {
        check_assignee(ctx, a)?;
        t.assignee = a.clone();
    }
    if let Some(v) = p.priority {
        t.priority = v;
    }
    if let Some(v) = p.category {
        t.category = v;
    }
    if t == before {
        let attachments = attachments::for_ticket(ctx.conn, id)?;
        return Ok(ticket_view(&t, attachments, &sla_ctx(settings), ctx.now));
    }
    let detail = serde_json::to_value(&p).unwrap_or_default();
    let at = ctx.now;
    save(
        ctx,
        settings,
        t,
        &actor.username,
        "ticket.patched",
        detail,
        at,
    )
}

pub(crate) fn link_in(
    ctx: &mut WriteCtx<'_>,
    settings: &Settings,
    actor: &User,
    id: TicketId,
    body: LinkBody,
) -> Result<TicketView, DeskError> {
    require_handler(actor)?;
    let mut t = load(ctx, settings, actor, id, body.version)?;
    if let Some(target) = body.target {
        if target == id {
            return Err(DeskError::Conflicting(ValidationErrors::one(
                "target",
                "工单不能关联自身",
                "a ticket cannot link to itself",
            )));
        }
        // Follow the target's chain of the same kind: linking back to us would make a cycle.
        let mut cursor = Some(target);
        let mut hops = 0;
        while let Some(c) = cursor {
            let linked = tickets::get(ctx.conn, c)?.ok_or_else(|| {
                DeskError::Conflicting(ValidationErrors::one(
                    "target",
                    format!("工单 {c} 不存在"),
                    format!("ticket {c} does not exist"),
                ))
            })?;
            if c == id || hops > 1000 {
                return Err(DeskError::Conflicting(ValidationErrors::one(
                    "target",
                    "关联会形成环",
                    "the link would form a cycle",
                )));
            }
            cursor = match body.kind {
                LinkKind::DuplicateOf => linked.links.duplicate_of,
                LinkKind::Parent => linked.links.parent,
            };
            hops += 1;
        }
    }
    match body.kind {
        LinkKind::DuplicateOf => t.links.duplicate_of = body.target,
        LinkKind::Parent => t.links.parent = body.target,
    }
    let detail = serde_json::json!({"kind": body.kind, "target": body.target});
    let at = ctx.now;
    save(
        ctx,
        settings,
        t,
        &actor.username,
        "ticket.linked",
        detail,
        at,
    )
}

impl Desk {
    /// Runs a read about ticket `id` if `actor` may see it; otherwise "not found", the same
    /// answer as for an id that does not exist.
    pub(crate) async fn read_visible<T, F>(
        &self,
        actor: &User,
        id: TicketId,
        f: F,
    ) -> Result<T, DeskError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection, &User, &Ticket) -> Result<T, StoreError> + Send + 'static,
    {
        let actor = actor.clone();
        self.store
            .read(move |conn| {
                let Some(t) = tickets::get(conn, id)? else {
                    return Ok(None);
                };
                if !visible(&actor, &t) {
                    return Ok(None);
                }
                f(conn, &actor, &t).map(Some)
            })
            .await?
            .ok_or_else(|| not_found(id))
    }

    pub async fn create_ticket(
        &self,
        actor: &User,
        new: NewTicket,
        idem: Option<Idempotency>,
    ) -> Result<Created<TicketView>, DeskError> {
        let settings = self.settings.clone();
        let actor = actor.clone();
        let user = actor.clone();
        self.write_once(&user, idem, move |ctx| {
            let at = ctx.now;
            create_in(ctx, &settings, &actor, new, at).map(|(_, view)| view)
        })
        .await
    }

    pub async fn ticket(&self, actor: &User, id: TicketId) -> Result<TicketView, DeskError> {
        let settings = self.settings.clone();
        let actor = actor.clone();
        self.store
            .read(move |conn| {
                let t = tickets::get(conn, id)?;
                let attachments = attachments::for_ticket(conn, id)?;
                Ok((t, attachments))
            })
            .await
            .map_err(DeskError::from)
            .and_then(|(t, attachments)| {
                let t = t
                    .filter(|t| visible(&actor, t))
                    .ok_or_else(|| not_found(id))?;
                Ok(ticket_view(
                    &t,
                    attachments,
                    &sla_ctx(&settings),
                    Utc::now(),
                ))
            })
    }

    pub async fn tickets(
        &self,
        actor: &User,
        mut filter: TicketFilter,
    ) -> Result<TicketPage, DeskError> {
        if !actor.role.works_tickets() {
            filter.submitter = Some(actor.username.clone());
        }
        let settings = self.settings.clone();
        let (limit, offset) = (filter.limit, filter.offset);
        self.store
            .read(move |conn| {
                let (list, total) = tickets::list(conn, &filter)?;
                let now = Utc::now();
                let mut views = Vec::with_capacity(list.len());
                for t in &list {
                    views.push(ticket_view(
                        t,
                        attachments::for_ticket(conn, t.id)?,
                        &sla_ctx(&settings),
                        now,
                    ));
                }
                Ok(TicketPage {
                    tickets: views,
                    total,
                    offset,
                    limit,
                })
            })
            .await
            .map_err(DeskError::from)
    }

    pub async fn patch_ticket(
        &self,
        actor: &User,
        id: TicketId,
        patch: TicketPatch,
    ) -> Result<TicketView, DeskError> {
        let (settings, actor) = (self.settings.clone(), actor.clone());
        self.write(move |ctx| patch_in(ctx, &settings, &actor, id, patch))
            .await
    }

    pub async fn transition(
        &self,
        actor: &User,
        id: TicketId,
        body: TransitionBody,
    ) -> Result<TicketView, DeskError> {
        let (settings, actor) = (self.settings.clone(), actor.clone());
        self.write(move |ctx| {
            require_handler(&actor)?;
            let t = load(ctx, &settings, &actor, id, body.version)?;
            let at = ctx.now;
            transition_in(ctx, &settings, &actor, t, &body, at)
        })
        .await
    }

    pub async fn assign(
        &self,
        actor: &User,
        id: TicketId,
        body: AssignBody,
    ) -> Result<TicketView, DeskError> {
        let (settings, actor) = (self.settings.clone(), actor.clone());
        self.write(move |ctx| {
            require_handler(&actor)?;
            let mut t = load(ctx, &settings, &actor, id, body.version)?;
            check_assignee(ctx, &body.assignee)?;
            if t.assignee == body.assignee {
                let attachments = attachments::for_ticket(ctx.conn, id)?;
                return Ok(ticket_view(&t, attachments, &sla_ctx(&settings), ctx.now));
            }
            let detail = serde_json::json!({"from": t.assignee, "to": body.assignee});
            t.assignee = body.assignee;
            let at = ctx.now;
            save(
                ctx,
                &settings,
                t,
                &actor.username,
                "ticket.assigned",
                detail,
                at,
            )
        })
        .await
    }

    pub async fn link(
        &self,
        actor: &User,
        id: TicketId,
        body: LinkBody,
    ) -> Result<TicketView, DeskError> {
        let (settings, actor) = (self.settings.clone(), actor.clone());
        self.write(move |ctx| link_in(ctx, &settings, &actor, id, body))
            .await
    }

    /// A second handler approves the data-fix script of an ops transfer.
    pub async fn approve_script(
        &self,
        actor: &User,
        id: TicketId,
        version: Option<i64>,
    ) -> Result<TicketView, DeskError> {
        let (settings, actor) = (self.settings.clone(), actor.clone());
        self.write(move |ctx| {
            require_handler(&actor)?;
            let mut t = load(ctx, &settings, &actor, id, version)?;
            let at = ctx.now;
            lifecycle::approve_script(&mut t, &actor.username, at)?;
            let detail = serde_json::json!({"script": t.transfer_note});
            save(
                ctx,
                &settings,
                t,
                &actor.username,
                "script.approved",
                detail,
                at,
            )
        })
        .await
    }

    /// The full customer block, for the handler's detail view; every reveal is audited.
    pub async fn reveal_customer(&self, actor: &User, id: TicketId) -> Result<Customer, DeskError> {
        let (settings, actor) = (self.settings.clone(), actor.clone());
        self.write(move |ctx| {
            require_handler(&actor)?;
            let t = load(ctx, &settings, &actor, id, None)?;
            audit::record(
                ctx.conn,
                ctx.now,
                &actor.username,
                "customer.revealed",
                Some(id),
                &serde_json::json!({}),
            )?;
            Ok(t.customer)
        })
        .await
    }

    /// Open tickets that are probably the same problem as `id`, most alike first: the
    /// workstation's ranking ([`crate::domain::similar`]) over every open ticket, with the
    /// full customer values (the workstation only has masked ones).
    pub async fn similar(&self, actor: &User, id: TicketId) -> Result<Vec<TicketId>, DeskError> {
        require_handler(actor)?;
        self.read_visible(actor, id, move |conn, _, t| {
            let filter = TicketFilter {
                open_only: true,
                limit: SIMILAR_CANDIDATES,
                ..Default::default()
            };
            let (open, _) = tickets::list(conn, &filter)?;
            Ok(crate::domain::similar::similar(t, open.iter()))
        })
        .await
    }

    /// Who changed or revealed what on a ticket, oldest first.
    pub async fn audit_trail(
        &self,
        actor: &User,
        id: TicketId,
    ) -> Result<Vec<audit::AuditEntry>, DeskError> {
        require_handler(actor)?;
        let exists = self
            .store
            .read(move |conn| Ok(tickets::get(conn, id)?.is_some()))
            .await?;
        if !exists {
            return Err(not_found(id));
        }
        Ok(self
            .store
            .read(move |conn| audit::for_ticket(conn, id))
            .await?)
    }
}
