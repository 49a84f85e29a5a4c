//! The service center's reports: the facts they count are kept with every ticket write
//! ([`super::tickets::publish`]); a data dir from before the reports gets them here. A report
//! reads one period's facts (and the period before's), the rollup for its trend and the
//! sessions' weeks, and the tickets open at its moment: never every ticket.
//!
//! Knowledge sessions are recorded and edited here, handlers only, audited.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::tickets::require_handler;
use super::{Created, Desk, DeskError, Idempotency};
use crate::domain::people::User;
use crate::domain::report::assemble::{self, Gathered};
use crate::domain::report::{
    KnowledgeSession, NewSession, Period, Report, ReportKind, SessionChange,
};
use crate::domain::validate::ValidationErrors;
use crate::store::{audit, help, kb, knowledge_sessions, reports};

/// Sessions a list or a report shows at most.
const MAX_SESSIONS: usize = 200;

impl Desk {
    /// Keeps the reports' facts of every ticket that has none yet (a data dir from before the
    /// reports), a thousand a transaction so the writer is never held long. How many.
    pub async fn adopt_reports(&self) -> Result<usize, DeskError> {
        if self.store.read(reports::all_kept).await? {
            return Ok(0);
        }
        let mut done = 0;
        loop {
            let settings = self.settings.clone();
            let n = self
                .write(move |ctx| {
                    let ids = reports::missing(ctx.conn, 1000)?;
                    for id in &ids {
                        if let Some(t) = crate::store::tickets::get(ctx.conn, *id)? {
                            super::tickets::record_facts(ctx.conn, &settings, &t)?;
                        }
                    }
                    Ok(ids.len())
                })
                .await?;
            done += n;
            if n < 1000 {
                return Ok(done);
            }
        }
    }

    /// The period `kind` names at `now`: the one now running.
    pub fn current_period(&self, kind: ReportKind, now: DateTime<Utc>) -> Period {
        kind.period_at(now, self.settings.calendar.tz())
    }

    /// The report of `period` (of `kind`'s shape), or of the period running at `now`.
    pub async fn report(
        &self,
        user: &User,
        kind: ReportKind,
        period: Option<Period>,
        now: DateTime<Utc>,
    ) -> Result<Report, DeskError> {
        require_handler(user)?;
        let period = match period {
            None => self.current_period(kind, now),
            Some(p) => {
                if !kind.fits(p) {
                    let (zh, en) = match kind {
                        ReportKind::Weekly => (
                            "周报的期间写作 2026-W47",
                            "a weekly report's period is a week, such as 2026-W47",
                        ),
                        ReportKind::Monthly => (
                            "月报的期间写作 2026-11",
                            "a monthly report's period is a month, such as 2026-11",
                        ),
                    };
                    return Err(DeskError::Validation(ValidationErrors::one(
                        "period", zh, en,
                    )));
                }
                p
            }
        };
        let zone = self.settings.calendar.tz();
        let gathered = self
            .store
            .read(move |conn| {
                let facts = reports::facts_in(conn, period)?;
                let before = reports::counts_of(conn, period.previous())?;
                let trend = reports::trend(conn, &period.last(assemble::TREND_PERIODS))?;
                let open = reports::open_at(conn, assemble::as_of(period, zone, now), now)?;
                let mut kb_titles = HashMap::new();
                for id in facts.iter().filter_map(|f| f.kb_article) {
                    if let std::collections::hash_map::Entry::Vacant(e) = kb_titles.entry(id)
                        && let Some(a) = kb::get(conn, id)?
                    {
                        e.insert(a.article.title);
                    }
                }
                let (start, end) = period.bounds(zone);
                let outcomes = help::outcome_counts(conn, start, end)?;
                let (first, last) = assemble::sessions_reach(period);
                let mut sessions = Vec::new();
                for s in knowledge_sessions::held_between(conn, first, last, MAX_SESSIONS)? {
                    let weeks = assemble::session_weeks(s.held_on, period);
                    let counts = reports::consultation_of(conn, &weeks, &s.systems)?;
                    sessions.push((s, counts));
                }
                let construction = crate::store::construct::stats(conn, start, end, zone)?;
                Ok(Gathered {
                    kind,
                    period,
                    zone,
                    now,
                    facts,
                    before,
                    trend,
                    open,
                    kb_titles,
                    outcomes,
                    sessions,
                    construction,
                })
            })
            .await?;
        Ok(assemble::assemble(gathered))
    }

    /// Tickets' report facts changed after `after` (`(updated_at, id)`), oldest change
    /// first, for a data warehouse: a page of at most `limit`.
    pub async fn export_facts(
        &self,
        user: &User,
        after: (DateTime<Utc>, i64),
        limit: usize,
    ) -> Result<Vec<crate::domain::report::facts::ExportedFacts>, DeskError> {
        require_handler(user)?;
        Ok(self
            .store
            .read(move |conn| reports::changed_after(conn, after, limit))
            .await?)
    }

    /// Knowledge sessions held on `[from, to]`, newest first.
    pub async fn knowledge_sessions(
        &self,
        user: &User,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<KnowledgeSession>, DeskError> {
        require_handler(user)?;
        // Days are compared as ISO text: keep both ends within four-digit years.
        let from = from.unwrap_or(NaiveDate::from_ymd_opt(1, 1, 1).expect("a day"));
        let to = to.unwrap_or(NaiveDate::from_ymd_opt(9999, 12, 31).expect("a day"));
        Ok(self
            .store
            .read(move |conn| knowledge_sessions::held_between(conn, from, to, MAX_SESSIONS))
            .await?)
    }

    /// Checks a session against the configuration: its systems known, its articles there
    /// (the systems default to the articles' own).
    fn checked_session(
        &self,
        conn: &rusqlite::Connection,
        new: NewSession,
        now: DateTime<Utc>,
    ) -> Result<NewSession, DeskError> {
        let new = new.normalized();
        let today = now.with_timezone(&self.settings.calendar.tz()).date_naive();
        new.check(&self.settings.system_keys(), today)?;
        let mut new = new.deduped();
        let mut article_systems = Vec::new();
        for id in &new.kb_articles {
            match kb::get(conn, *id)? {
                Some(a) => article_systems.push(a.article.system),
                None => {
                    return Err(DeskError::Conflicting(ValidationErrors::one(
                        "kb_articles",
                        format!("没有知识库文章 {id}"),
                        format!("there is no knowledge-base article {id}"),
                    )));
                }
            }
        }
        if new.systems.is_empty() {
            new.systems = article_systems;
            new = new.deduped();
        }
        Ok(new)
    }

    pub async fn record_session(
        &self,
        user: &User,
        new: NewSession,
        idem: Option<Idempotency>,
    ) -> Result<Created<KnowledgeSession>, DeskError> {
        require_handler(user)?;
        let desk = self.clone();
        let who = user.username.clone();
        self.write_once(user, idem, move |ctx| {
            let new = desk.checked_session(ctx.conn, new, ctx.now)?;
            let s = knowledge_sessions::insert(ctx.conn, &new, &who, ctx.now)?;
            let detail =
                serde_json::json!({"session": s.id, "held_on": s.held_on, "topic": s.topic});
            audit::record(ctx.conn, ctx.now, &who, "session.recorded", None, &detail)?;
            Ok(s)
        })
        .await
    }

    pub async fn change_session(
        &self,
        user: &User,
        id: i64,
        change: SessionChange,
    ) -> Result<KnowledgeSession, DeskError> {
        require_handler(user)?;
        let desk = self.clone();
        let who = user.username.clone();
        self.write(move |ctx| {
            let current = knowledge_sessions::get(ctx.conn, id)?
                .ok_or_else(|| DeskError::NotFound(format!("knowledge session {id}")))?;
            if change.version.is_some_and(|v| v != current.version) {
                return Err(DeskError::Conflict(format!(
                    "knowledge session {id} was changed by someone else (now version {})",
                    current.version
                )));
            }
            let new = NewSession::from(&current).changed(change);
            let new = desk.checked_session(ctx.conn, new, ctx.now)?;
            if new == NewSession::from(&current) {
                return Ok(current);
            }
            let s = knowledge_sessions::update(ctx.conn, id, &new, ctx.now)?;
            let detail = serde_json::json!({"session": s.id, "version": s.version});
            audit::record(ctx.conn, ctx.now, &who, "session.changed", None, &detail)?;
            Ok(s)
        })
        .await
    }
}
