//! The audit log: who changed or revealed what, kept apart from the change stream because it
//! also records reads of sensitive data.

use rusqlite::{Connection, params};

use super::{StoreError, ts};
use crate::domain::ticket::TicketId;

pub fn record(
    conn: &Connection,
    at: chrono::DateTime<chrono::Utc>,
    actor: &str,
    action: &str,
    ticket: Option<TicketId>,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO audit (at, actor, action, ticket_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![ts(at), actor, action, ticket, detail.to_string()])?;
    Ok(())
}

/// One audit entry, for the ticket timeline and the admin's review.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub ticket_id: Option<TicketId>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

pub fn for_ticket(conn: &Connection, ticket: TicketId) -> Result<Vec<AuditEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, actor, action, ticket_id, detail FROM audit WHERE ticket_id = ?1 ORDER BY id",
    )?;
    let mut rows = stmt.query([ticket])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(AuditEntry {
            at: r.get(0)?,
            actor: r.get(1)?,
            action: r.get(2)?,
            ticket_id: r.get(3)?,
            detail: serde_json::from_str(&r.get::<_, String>(4)?)
                .unwrap_or(serde_json::Value::Null),
        });
    }
    Ok(out)
}

/// For each closed ticket `submitter` made, the entry that closed it last: their confirmation
/// (`ticket.confirmed`) or a handler's move to closed. (ticket, action, at).
pub fn closings(
    conn: &Connection,
    submitter: &str,
) -> Result<Vec<(TicketId, String, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.ticket_id, a.action, a.at FROM audit a WHERE a.id IN ( \
           SELECT max(c.id) FROM audit c JOIN tickets t ON t.id = c.ticket_id \
           WHERE t.submitter = ?1 AND t.status = 'closed' \
             AND (c.action = 'ticket.confirmed' \
                  OR (c.action = 'ticket.transitioned' AND json_extract(c.detail, '$.to') = 'closed')) \
           GROUP BY c.ticket_id)",
    )?;
    let rows = stmt.query_map(params![submitter], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
