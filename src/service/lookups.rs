//! Lookups for the workstation: a customer's log lines, searched on the server where the
//! sources' credentials are, and every lookup written to the audit log (who, which ticket,
//! which identifiers, which sources, how many lines), as a brokerage must be able to show.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::tickets::require_handler;
use super::{Desk, DeskError};
use crate::api::{DataLookupRequest, DataRows, LookupRequest};
use crate::domain::ticket::TicketId;
use crate::domain::validate::Identifier;
use crate::domain::validate::ValidationErrors;
use crate::lookups::query::{DEFAULT_AROUND, LogQuery, QueryError};
use crate::lookups::sources::Source;
use crate::store::audit;
use crate::store::users::User;

/// The window of a lookup neither a ticket nor the request places: the last hour.
const RECENT: Duration = Duration::hours(1);
/// Lines a source hands over when the request names no limit.
const DEFAULT_LIMIT: usize = 500;

/// A lookup checked, audited and ready to run.
#[derive(Debug)]
pub struct Lookup {
    pub sources: Vec<Source>,
    pub query: LogQuery,
    pub ticket: Option<TicketId>,
}

impl Desk {
    /// Checks a lookup and records in the audit log that `actor` ran it, before a line is
    /// read. The ticket's customer (account and phone) are the identifiers when none are
    /// given, its reported time the middle of the window.
    pub async fn begin_lookup(
        &self,
        actor: &User,
        req: LookupRequest,
    ) -> Result<Lookup, DeskError> {
        require_handler(actor)?;
        let lookups = &self.settings.lookups;
        if lookups.is_empty() {
            return Err(DeskError::Conflict(
                "no log sources are configured: add [[logs.sources]] to the server's opsdesk.toml"
                    .into(),
            ));
        }
        let sources = lookups.pick(&req.sources).map_err(|e| {
            invalid(
                "sources",
                format!("没有名为 '{}' 的日志源", e.0),
                e.to_string(),
            )
        })?;
        let (ticket_ids, reported) = match req.ticket {
            None => (Vec::new(), None),
            Some(id) => {
                self.read_visible(actor, id, |_, _, t| {
                    let ids: Vec<String> = [
                        t.customer.account.as_ref().map(|a| a.expose().to_string()),
                        t.customer.phone.as_ref().map(|p| p.expose().to_string()),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    Ok((ids, Some(t.created_at)))
                })
                .await?
            }
        };
        let query = query_of(&req, ticket_ids, reported, Utc::now())?;
        let detail = serde_json::json!({
            "sources": sources.iter().map(Source::name).collect::<Vec<_>>(),
            "identifiers": query.identifiers,
            "from": query.from,
            "to": query.to,
            "level": query.level,
            "text": query.text,
            "regex": query.regex,
        });
        let (who, ticket) = (actor.username.clone(), req.ticket);
        self.write(move |ctx| {
            audit::record(ctx.conn, ctx.now, &who, "lookup.ran", ticket, &detail)?;
            Ok(())
        })
        .await?;
        Ok(Lookup {
            sources,
            query,
            ticket: req.ticket,
        })
    }

    /// Records how many lines each source handed over, and whether the caller stayed to the
    /// end (a workstation that changes its query leaves the old lookup unfinished).
    pub async fn finish_lookup(
        &self,
        actor: &User,
        ticket: Option<TicketId>,
        lines: BTreeMap<String, usize>,
        finished: bool,
    ) -> Result<(), DeskError> {
        let who = actor.username.clone();
        let detail = serde_json::json!({ "lines": lines, "finished": finished });
        self.write(move |ctx| {
            audit::record(ctx.conn, ctx.now, &who, "lookup.answered", ticket, &detail)?;
            Ok(())
        })
        .await
    }
}

/// The query of a lookup run in-process (the CLI's `--local`): no ticket to fill it in.
pub fn local_query(req: &LookupRequest, now: DateTime<Utc>) -> Result<LogQuery, DeskError> {
    query_of(req, Vec::new(), None, now)
}

impl Desk {
    /// Runs a data source's named query for a customer (handlers only): the identifier given,
    /// else the ticket's customer's. Audited like a log lookup: `lookup.ran` before, with the
    /// identifier, and `lookup.answered` with the rows after.
    pub async fn data_lookup(
        &self,
        actor: &User,
        req: DataLookupRequest,
    ) -> Result<DataRows, DeskError> {
        require_handler(actor)?;
        if req.ticket.is_some_and(|t| t < 1) {
            return Err(invalid(
                "ticket",
                "工单号须为正整数".into(),
                "ticket is a ticket's number (1 or more)".into(),
            ));
        }
        // Every identifier given is checked, used or not: a blank phone beside an account is
        // a mistake to say, not to pass over.
        for (kind, given) in [
            (Identifier::Account, &req.account),
            (Identifier::Phone, &req.phone),
            (Identifier::IdNumber, &req.id_number),
        ] {
            if let Some(v) = given {
                check_value(kind, v)?;
            }
        }
        if self.settings.lookups.queries().is_empty() {
            return Err(DeskError::Conflict(
                "no data sources are configured: add [[logs.sources]] with kind = \"sql\" to the server's opsdesk.toml"
                    .into(),
            ));
        }
        let (source, by) = self
            .settings
            .lookups
            .data_query(req.source.as_deref(), &req.query)
            .map_err(|e| invalid("query", format!("没有这个查询：{}", req.query), e))?;
        let field = by.field();
        let given = match by {
            Identifier::Account => &req.account,
            Identifier::Phone => &req.phone,
            Identifier::IdNumber => &req.id_number,
        };
        let value = match (given, req.ticket) {
            (Some(v), _) => v.trim().to_string(),
            (None, Some(id)) => self
                .read_visible(actor, id, move |_, _, t| {
                    let c = &t.customer;
                    Ok(match by {
                        Identifier::Account => c.account.as_ref().map(|v| v.expose().to_string()),
                        Identifier::Phone => c.phone.as_ref().map(|v| v.expose().to_string()),
                        Identifier::IdNumber => {
                            c.id_number.as_ref().map(|v| v.expose().to_string())
                        }
                    })
                })
                .await?
                .ok_or_else(|| {
                    // The ticket may be given one later: a refusal of the present state.
                    DeskError::Conflicting(ValidationErrors::one(
                        field,
                        format!("工单 #{id} 的客户没有{}", by.zh()),
                        format!("ticket #{id}'s customer has no {field}"),
                    ))
                })?,
            (None, None) => {
                return Err(invalid(
                    field,
                    format!("{} 按{}查询：请给出{}或工单", req.query, by.zh(), by.zh()),
                    format!(
                        "{} looks up by {field}: give the {field} or a ticket",
                        req.query
                    ),
                ));
            }
        };
        check_value(by, &value)?;
        let detail = serde_json::json!({
            "sources": [source.name()],
            "query": req.query,
            "identifiers": [value],
        });
        let (who, ticket) = (actor.username.clone(), req.ticket);
        self.write(move |ctx| {
            audit::record(ctx.conn, ctx.now, &who, "lookup.ran", ticket, &detail)?;
            Ok(())
        })
        .await?;
        let answer = source.run(&req.query, by, &value).await;
        let (who, name) = (actor.username.clone(), source.name().to_string());
        let detail = match &answer {
            Ok(rows) => serde_json::json!({ "lines": { name: rows.rows.len() }, "finished": true }),
            Err(e) => serde_json::json!({ "lines": { name: 0 }, "failed": e.message }),
        };
        self.write(move |ctx| {
            audit::record(ctx.conn, ctx.now, &who, "lookup.answered", ticket, &detail)?;
            Ok(())
        })
        .await?;
        answer.map_err(|e| DeskError::Upstream(e.to_string()))
    }
}

/// The longest identifier a data lookup takes.
const MAX_DATA_VALUE_CHARS: usize = 64;

/// An identifier a data lookup can send: 1–64 printable characters once trimmed.
fn check_value(kind: Identifier, value: &str) -> Result<(), DeskError> {
    let value = value.trim();
    if value.is_empty()
        || value.chars().count() > MAX_DATA_VALUE_CHARS
        || value.chars().any(char::is_control)
    {
        let field = kind.field();
        return Err(invalid(
            field,
            format!("{}须为 1 到 {MAX_DATA_VALUE_CHARS} 个字符", kind.zh()),
            format!("the {field} must be 1 to {MAX_DATA_VALUE_CHARS} printable characters"),
        ));
    }
    Ok(())
}

fn invalid(field: &str, zh: String, en: String) -> DeskError {
    DeskError::Validation(ValidationErrors::one(field, zh, en))
}

/// The query a request asks for: its identifiers, else the ticket's; its window, else
/// [`DEFAULT_AROUND`] the ticket's reported time, else the last hour.
fn query_of(
    req: &LookupRequest,
    ticket_ids: Vec<String>,
    reported: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<LogQuery, DeskError> {
    let identifiers = if req.identifiers.is_empty() {
        ticket_ids
    } else {
        req.identifiers
            .iter()
            .map(|i| i.trim().to_string())
            .collect()
    };
    // `from` alone: since then, until now (an hour at least, so never backwards); `to`
    // alone: the hour before it; neither: around the ticket's reported time, or the last hour.
    let (from, to) = match (req.from, req.to, reported) {
        (Some(from), Some(to), _) => (from, to),
        (Some(from), None, _) => (from, now.max(from + RECENT)),
        (None, Some(to), _) => (to - RECENT, to),
        (None, None, Some(at)) => (at - DEFAULT_AROUND, at + DEFAULT_AROUND),
        (None, None, None) => (now - RECENT, now),
    };
    let blank_is_none = |v: &Option<String>| v.as_ref().filter(|s| !s.trim().is_empty()).cloned();
    let query = LogQuery {
        identifiers,
        from,
        to,
        level: blank_is_none(&req.level),
        text: blank_is_none(&req.text),
        regex: blank_is_none(&req.regex),
        // Out of range (zero, negative) is refused by the check below.
        limit: req
            .limit
            .map_or(DEFAULT_LIMIT, |l| usize::try_from(l).unwrap_or(0)),
    };
    query.check().map_err(|e| {
        let (field, zh) = match &e {
            QueryError::Backwards { .. } => ("to", "时间窗口的结束早于开始"),
            QueryError::Regex(_) => ("regex", "正则表达式无法编译"),
            QueryError::Limit => ("limit", "条数须在 1 到 10000 之间"),
            QueryError::Identifiers => ("identifiers", "标识最多 16 个，每个 1 到 128 个字符"),
            QueryError::TooLong(field) => (*field, "最多 1000 个字符"),
        };
        invalid(field, zh.into(), e.to_string())
    })?;
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_ticket_places_the_window_and_names_the_customer() {
        let now = at("2026-12-07T12:00:00Z");
        let reported = Some(at("2026-12-07T02:00:00Z"));
        let q = query_of(
            &LookupRequest::default(),
            vec!["310001234567".into()],
            reported,
            now,
        )
        .unwrap();
        assert_eq!(q.identifiers, ["310001234567"]);
        assert_eq!(
            (q.from, q.to),
            (at("2026-12-07T01:30:00Z"), at("2026-12-07T02:30:00Z"))
        );
        assert_eq!(q.limit, DEFAULT_LIMIT);

        let typed = LookupRequest {
            identifiers: vec![" t-9 ".into()],
            level: Some(" ".into()),
            ..Default::default()
        };
        let q = query_of(&typed, vec!["310001234567".into()], None, now).unwrap();
        assert_eq!(
            q.identifiers,
            ["t-9"],
            "typed identifiers replace the ticket's"
        );
        assert_eq!(q.level, None, "a blank level is no level");
        assert_eq!((q.from, q.to), (now - RECENT, now));

        let only_to = LookupRequest {
            to: Some(at("2000-01-01T00:00:00Z")),
            ..Default::default()
        };
        let q = query_of(&only_to, Vec::new(), reported, now).unwrap();
        assert_eq!(
            (q.from, q.to),
            (at("1999-12-31T23:00:00Z"), at("2000-01-01T00:00:00Z")),
            "one bound places the window, whatever the ticket's time"
        );
    }

    #[test]
    fn a_query_no_source_could_answer_names_its_field() {
        let now = at("2026-12-07T12:00:00Z");
        for (req, field) in [
            (
                LookupRequest {
                    from: Some(now),
                    to: Some(now - Duration::minutes(1)),
                    ..Default::default()
                },
                "to",
            ),
            (
                LookupRequest {
                    regex: Some("(".into()),
                    ..Default::default()
                },
                "regex",
            ),
            (
                LookupRequest {
                    limit: Some(0),
                    ..Default::default()
                },
                "limit",
            ),
        ] {
            match query_of(&req, Vec::new(), None, now) {
                Err(DeskError::Validation(v)) => assert_eq!(v.0[0].field, field),
                other => panic!("{other:?}"),
            }
        }
    }
}
