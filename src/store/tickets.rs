//! The `tickets` table.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{StoreError, parse_opt_ts, parse_ts, ts};
use crate::domain::mask::{AccountNo, CustomerName, IdNumber, Phone};
use crate::domain::ticket::{Category, Customer, Links, Status, Ticket, TicketId};

const COLUMNS: &str = "id, version, status, transfer_to, priority, category, subcategory, system, channel, \
    title, description, customer_name, customer_account, customer_phone, customer_id_number, \
    submitter, assignee, created_at, updated_at, first_responded_at, resolved_at, closed_at, \
    resolution, transfer_note, duplicate_of, parent_id, kb_article, external_ref, sla_pauses, \
    transferred_by, script_approved_by, script_approved_at";

fn word<T: std::str::FromStr>(s: String) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_row(r: &Row<'_>) -> Result<Ticket, StoreError> {
    let opt_word =
        |i: usize| -> Result<Option<String>, StoreError> { Ok(r.get::<_, Option<String>>(i)?) };
    Ok(Ticket {
        id: r.get(0)?,
        version: r.get(1)?,
        status: word(r.get(2)?)?,
        transfer_to: opt_word(3)?.map(word).transpose()?,
        priority: word(r.get(4)?)?,
        category: word(r.get(5)?)?,
        subcategory: r.get(6)?,
        system: r.get(7)?,
        channel: word(r.get(8)?)?,
        title: r.get(9)?,
        description: r.get(10)?,
        customer: Customer {
            name: r.get::<_, Option<String>>(11)?.map(CustomerName::new),
            account: r.get::<_, Option<String>>(12)?.map(AccountNo::new),
            phone: r.get::<_, Option<String>>(13)?.map(Phone::new),
            id_number: r.get::<_, Option<String>>(14)?.map(IdNumber::new),
        },
        submitter: r.get(15)?,
        assignee: r.get(16)?,
        created_at: parse_ts(&r.get::<_, String>(17)?)?,
        updated_at: parse_ts(&r.get::<_, String>(18)?)?,
        first_responded_at: parse_opt_ts(r.get(19)?)?,
        resolved_at: parse_opt_ts(r.get(20)?)?,
        closed_at: parse_opt_ts(r.get(21)?)?,
        resolution: r.get(22)?,
        transfer_note: r.get(23)?,
        links: Links {
            duplicate_of: r.get(24)?,
            parent: r.get(25)?,
        },
        kb_article: r.get(26)?,
        external_ref: r.get(27)?,
        transferred_by: r.get(29)?,
        script_approved_by: r.get(30)?,
        script_approved_at: parse_opt_ts(r.get(31)?)?,
        sla_pauses: serde_json::from_str(&r.get::<_, String>(28)?)
            .map_err(|e| StoreError::Corrupt(format!("sla_pauses: {e}")))?,
    })
}

fn pauses_json(t: &Ticket) -> Result<String, StoreError> {
    serde_json::to_string(&t.sla_pauses).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Inserts a new ticket (its `id` is ignored) and returns the id it got.
pub fn insert(conn: &Connection, t: &Ticket) -> Result<TicketId, StoreError> {
    conn.prepare_cached(
        "INSERT INTO tickets (version, status, transfer_to, priority, category, subcategory, system, channel, \
         title, description, customer_name, customer_account, customer_phone, customer_id_number, \
         submitter, assignee, created_at, updated_at, first_responded_at, resolved_at, closed_at, \
         resolution, transfer_note, duplicate_of, parent_id, kb_article, external_ref, sla_pauses, \
         transferred_by, script_approved_by, script_approved_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, \
         ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31)",
    )?
    .execute(params![
        t.version,
        t.status.as_str(),
        t.transfer_to.map(|x| x.as_str()),
        t.priority.as_str(),
        t.category.as_str(),
        t.subcategory,
        t.system,
        t.channel.as_str(),
        t.title,
        t.description,
        t.customer.name.as_ref().map(|v| v.expose()),
        t.customer.account.as_ref().map(|v| v.expose()),
        t.customer.phone.as_ref().map(|v| v.expose()),
        t.customer.id_number.as_ref().map(|v| v.expose()),
        t.submitter,
        t.assignee,
        ts(t.created_at),
        ts(t.updated_at),
        t.first_responded_at.map(ts),
        t.resolved_at.map(ts),
        t.closed_at.map(ts),
        t.resolution,
        t.transfer_note,
        t.links.duplicate_of,
        t.links.parent,
        t.kb_article,
        t.external_ref,
        pauses_json(t)?,
        t.transferred_by,
        t.script_approved_by,
        t.script_approved_at.map(ts),
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Writes every mutable field of `t`, whose `version` must already be the new one; the row
/// must still hold `version - 1` (the caller checked it in the same transaction).
pub fn update(conn: &Connection, t: &Ticket) -> Result<(), StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE tickets SET version = ?2, status = ?3, transfer_to = ?4, priority = ?5, category = ?6, \
             subcategory = ?7, system = ?8, title = ?9, description = ?10, assignee = ?11, updated_at = ?12, \
             first_responded_at = ?13, resolved_at = ?14, closed_at = ?15, resolution = ?16, \
             transfer_note = ?17, duplicate_of = ?18, parent_id = ?19, kb_article = ?20, sla_pauses = ?21, \
             transferred_by = ?22, script_approved_by = ?23, script_approved_at = ?24 \
             WHERE id = ?1 AND version = ?2 - 1",
        )?
        .execute(params![
            t.id,
            t.version,
            t.status.as_str(),
            t.transfer_to.map(|x| x.as_str()),
            t.priority.as_str(),
            t.category.as_str(),
            t.subcategory,
            t.system,
            t.title,
            t.description,
            t.assignee,
            ts(t.updated_at),
            t.first_responded_at.map(ts),
            t.resolved_at.map(ts),
            t.closed_at.map(ts),
            t.resolution,
            t.transfer_note,
            t.links.duplicate_of,
            t.links.parent,
            t.kb_article,
            pauses_json(t)?,
            t.transferred_by,
            t.script_approved_by,
            t.script_approved_at.map(ts),
        ])?;
    if n != 1 {
        return Err(StoreError::Corrupt(format!(
            "ticket {} changed under the writer",
            t.id
        )));
    }
    Ok(())
}

pub fn get(conn: &Connection, id: TicketId) -> Result<Option<Ticket>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM tickets WHERE id = ?1"))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(r) => Ok(Some(from_row(r)?)),
        None => Ok(None),
    }
}

pub fn by_external_ref(
    conn: &Connection,
    channel: &str,
    external_ref: &str,
) -> Result<Option<TicketId>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id FROM tickets WHERE channel = ?1 AND external_ref = ?2")?
        .query_row([channel, external_ref], |r| r.get(0))
        .optional()?)
}

/// Open tickets (not resolved or closed) on `system` about the customer with this account or
/// phone, newest first: what a new submission may be a repeat of.
pub fn open_for_customer(
    conn: &Connection,
    system: &str,
    account: Option<&str>,
    phone: Option<&str>,
) -> Result<Vec<Ticket>, StoreError> {
    if account.is_none() && phone.is_none() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE system = ?1 AND status NOT IN ('resolved', 'closed') \
         AND (customer_account = ?2 OR customer_phone = ?3) ORDER BY created_at DESC, id DESC LIMIT 5"
    ))?;
    let mut rows = stmt.query(params![system, account, phone])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(r)?);
    }
    Ok(out)
}

/// What a ticket list may be narrowed to. Empty vectors mean "any".
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub statuses: Vec<Status>,
    pub systems: Vec<String>,
    pub categories: Vec<Category>,
    /// `Some(None)` means unassigned.
    pub assignee: Option<Option<String>>,
    pub submitter: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Created at or after, and before (a report's period, for its drill-down).
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub open_only: bool,
    /// Words that must appear (in title, description, resolution or hand-off note), or a
    /// ticket number, or a customer's full account, phone, ID number or name, or an ITSM ref.
    pub text: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

/// One page of tickets, most recently updated first, and the total that matched.
pub fn list(conn: &Connection, f: &TicketFilter) -> Result<(Vec<Ticket>, u64), StoreError> {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    let mut any_of = |column: &str, values: Vec<String>, clauses: &mut Vec<String>| {
        if values.is_empty() {
            return;
        }
        let marks = vec!["?"; values.len()].join(", ");
        clauses.push(format!("{column} IN ({marks})"));
        args.extend(values.into_iter().map(Value::Text));
    };
    any_of(
        "status",
        f.statuses.iter().map(|s| s.as_str().to_string()).collect(),
        &mut clauses,
    );
    any_of("system", f.systems.clone(), &mut clauses);
    any_of(
        "category",
        f.categories
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        &mut clauses,
    );
    if let Some(submitter) = &f.submitter {
        any_of("submitter", vec![submitter.clone()], &mut clauses);
    }
    match &f.assignee {
        Some(Some(a)) => any_of("assignee", vec![a.clone()], &mut clauses),
        Some(None) => clauses.push("assignee IS NULL".into()),
        None => {}
    }
    if let Some(since) = f.updated_since {
        clauses.push("updated_at >= ?".into());
        args.push(Value::Text(ts(since)));
    }
    for (bound, op) in [(f.created_from, ">="), (f.created_to, "<")] {
        if let Some(at) = bound {
            clauses.push(format!("created_at {op} ?"));
            args.push(Value::Text(ts(at)));
        }
    }
    if f.open_only {
        clauses.push("status NOT IN ('resolved', 'closed')".into());
    }
    if let Some(text) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        text_clause(text, &mut clauses, &mut args);
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };

    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM tickets {filter}"),
        rusqlite::params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    let total = total.max(0) as u64;
    let mut page_args = args;
    page_args.push(Value::Integer(f.limit as i64));
    page_args.push(Value::Integer(f.offset as i64));
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM tickets {filter} ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?"
    ))?;
    let mut rows = stmt.query(rusqlite::params_from_iter(page_args.iter()))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(r)?);
    }
    Ok((out, total))
}

/// Search: every word (split on spaces) in the ticket's texts, or the whole text as a ticket
/// number, a customer's full value (spaces and dashes ignored) or an external reference. A
/// scan, with `LIKE`: enough for a desk's hundred thousand tickets (see the README).
fn text_clause(text: &str, clauses: &mut Vec<String>, args: &mut Vec<Value>) {
    let like = |w: &str| {
        let escaped = w
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        Value::Text(format!("%{escaped}%"))
    };
    let mut words = Vec::new();
    for w in text.split_whitespace().take(8) {
        words.push(
            "(title LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\' \
             OR coalesce(resolution, '') LIKE ? ESCAPE '\\' \
             OR coalesce(transfer_note, '') LIKE ? ESCAPE '\\')"
                .to_string(),
        );
        args.extend(std::iter::repeat_n(like(w), 4));
    }
    let whole = text.trim_start_matches('#');
    let compact: String = whole.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let mut exact = vec![
        "customer_account = ?",
        "customer_phone = ?",
        "customer_id_number = ?",
        "customer_name = ?",
        "external_ref = ?",
    ];
    args.extend([
        Value::Text(compact.clone()),
        Value::Text(compact.clone()),
        Value::Text(compact.to_uppercase()),
        Value::Text(whole.to_string()),
        Value::Text(whole.to_string()),
    ]);
    if let Ok(id) = whole.parse::<i64>() {
        exact.push("id = ?");
        args.push(Value::Integer(id));
    }
    clauses.push(format!(
        "(({}) OR {})",
        words.join(" AND "),
        exact.join(" OR ")
    ));
}

pub fn count(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row("SELECT count(*) FROM tickets", [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}
