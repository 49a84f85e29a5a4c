//! Tickets as the API shows them: customer data masked, SLA clocks read at a given instant.
//!
//! Every list, event and notification goes through [`TicketView`]; the full customer block is
//! only ever sent by the audited reveal endpoint.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::calendar::BusinessCalendar;
use super::message::Attachment;
use super::sla::{self, SlaPause, SlaPolicy};
use super::ticket::{
    Category, Channel, Links, MaskedCustomer, Priority, Status, Ticket, TicketId, TransferTarget,
};

/// One SLA clock read at an instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClockView {
    /// running · due_soon · paused · breached · met · missed
    pub state: String,
    pub due: DateTime<Utc>,
    /// Counted seconds left; negative once breached.
    pub remaining_secs: i64,
    /// Why the clock is not counting right now, in English and Chinese.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_reason_zh: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SlaView {
    pub first_response: ClockView,
    pub resolve: ClockView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketView {
    pub id: TicketId,
    pub version: i64,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_to: Option<TransferTarget>,
    pub priority: Priority,
    pub category: Category,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcategory: Option<String>,
    pub system: String,
    pub channel: Channel,
    pub title: String,
    pub description: String,
    pub customer: MaskedCustomer,
    pub submitter: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub first_response_due: DateTime<Utc>,
    pub resolve_due: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_responded_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transferred_by: Option<String>,
    /// For an ops transfer: who approved the data-fix script (a second handler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_approved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_approved_at: Option<DateTime<Utc>>,
    pub links: Links,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kb_article: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    pub sla: SlaView,
    #[schema(value_type = Vec<Object>)]
    pub sla_pauses: Vec<SlaPause>,
    pub attachments: Vec<Attachment>,
}

/// The SLA policy and the calendar it counts on.
#[derive(Clone, Debug)]
pub struct SlaContext<'a> {
    pub policy: &'a SlaPolicy,
    pub calendar: &'a BusinessCalendar,
}

fn clock(reading: sla::SlaReading) -> ClockView {
    let state = serde_json::to_value(reading.state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    ClockView {
        state,
        due: reading.due,
        remaining_secs: reading.remaining_secs,
        paused_reason: reading.paused.as_ref().map(|p| p.describe_en()),
        paused_reason_zh: reading.paused.as_ref().map(|p| p.describe_zh()),
    }
}

/// Reads both SLA clocks of `t` at `now`.
pub fn sla_view(t: &Ticket, ctx: &SlaContext<'_>, now: DateTime<Utc>) -> SlaView {
    let target = ctx.policy.target(t.priority);
    let percent = ctx.policy.due_soon_percent();
    let first_response = sla::read(
        target.first_response_secs,
        target.clock,
        percent,
        t.created_at,
        t.first_responded_at,
        &[],
        now,
        ctx.calendar,
    );
    let resolve = sla::read(
        target.resolve_secs,
        target.clock,
        percent,
        t.created_at,
        t.resolved_at,
        &t.sla_pauses,
        now,
        ctx.calendar,
    );
    SlaView {
        first_response: clock(first_response),
        resolve: clock(resolve),
    }
}

/// The ticket as lists, events and the detail view show it.
pub fn ticket_view(
    t: &Ticket,
    attachments: Vec<Attachment>,
    ctx: &SlaContext<'_>,
    now: DateTime<Utc>,
) -> TicketView {
    let sla = sla_view(t, ctx, now);
    TicketView {
        id: t.id,
        version: t.version,
        status: t.status,
        transfer_to: t.transfer_to,
        priority: t.priority,
        category: t.category,
        subcategory: t.subcategory.clone(),
        system: t.system.clone(),
        channel: t.channel,
        title: t.title.clone(),
        description: t.description.clone(),
        customer: t.customer.masked(),
        submitter: t.submitter.clone(),
        assignee: t.assignee.clone(),
        created_at: t.created_at,
        updated_at: t.updated_at,
        first_response_due: sla.first_response.due,
        resolve_due: sla.resolve.due,
        first_responded_at: t.first_responded_at,
        resolved_at: t.resolved_at,
        closed_at: t.closed_at,
        resolution: t.resolution.clone(),
        transfer_note: t.transfer_note.clone(),
        transferred_by: t.transferred_by.clone(),
        script_approved_by: t.script_approved_by.clone(),
        script_approved_at: t.script_approved_at,
        links: t.links.clone(),
        kb_article: t.kb_article,
        external_ref: t.external_ref.clone(),
        sla,
        sla_pauses: t.sla_pauses.clone(),
        attachments,
    }
}

/// One committed change, as the event stream and `/changes` carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Change {
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// `ticket.created`, `ticket.updated`, `message.created`, `attachment.created`, …
    pub kind: String,
    pub ticket_id: Option<TicketId>,
    pub actor: String,
    /// The changed entity as the API shows it (customer data masked).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}
