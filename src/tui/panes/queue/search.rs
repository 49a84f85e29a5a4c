//! Searching every ticket on the server, closed ones too: by words, a ticket number, a
//! customer's account, phone or ID number, or by a closed status. Another pane can ask for a
//! list here as well (the Stats pane's drill-down: one category, one system, the tickets
//! created in a report's period, or a few tickets by number). The results take the queue's
//! place until the handler goes back to the open queue.

use chrono::{DateTime, SecondsFormat, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;

use crate::api::TicketView;
use crate::domain::ticket::{Category, Status, TicketId};
use crate::tui::effect::{Io, Job};

/// What was asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub text: Option<String>,
    pub status: Option<Status>,
    pub category: Option<Category>,
    /// A system's key.
    pub system: Option<String>,
    /// Only tickets created in `[from, to)`.
    pub created: Option<Window>,
    /// These tickets by number (fetched one by one), instead of a search.
    pub ids: Vec<TicketId>,
    /// What the list is, in the asker's words, when the fields alone do not say it ("反复问题
    /// 委托提示可用资金不足").
    pub about: Option<String>,
}

/// A stretch of creation times, with the name it goes by (`2026-W47`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub label: String,
}

impl Query {
    /// How the queue's title names it: "咨询类 · 2026-W47", "'登录' 已关闭".
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(about) = &self.about {
            parts.push(about.clone());
        }
        match (&self.text, self.status) {
            (Some(t), Some(s)) => parts.push(format!("'{t}' {}", s.label_zh())),
            (Some(t), None) => parts.push(format!("'{t}'")),
            (None, Some(s)) => parts.push(s.label_zh().to_string()),
            (None, None) => {}
        }
        if let Some(c) = self.category {
            parts.push(c.label_zh().to_string());
        }
        if let Some(s) = &self.system {
            parts.push(s.clone());
        }
        if let Some(w) = &self.created {
            parts.push(w.label.clone());
        }
        if self.about.is_none() && !self.ids.is_empty() {
            let ids: Vec<String> = self.ids.iter().map(|id| format!("#{id}")).collect();
            parts.push(ids.join(" "));
        }
        if parts.is_empty() {
            return "全部 all".to_string();
        }
        parts.join(" · ")
    }

    /// A list asked for whole by another pane (a drill-down): the queue's own filters are
    /// cleared for it, so every ticket it names is shown.
    pub fn is_exact(&self) -> bool {
        self.created.is_some() || !self.ids.is_empty()
    }

    /// The list filters as `GET /api/v1/tickets` names them.
    fn params(&self) -> Vec<(&'static str, String)> {
        let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut params = vec![("limit", LIMIT.to_string())];
        if let Some(t) = &self.text {
            params.push(("q", t.clone()));
        }
        if let Some(s) = self.status {
            params.push(("status", s.as_str().to_string()));
        }
        if let Some(c) = self.category {
            params.push(("category", c.as_str().to_string()));
        }
        if let Some(s) = &self.system {
            params.push(("system", s.clone()));
        }
        if let Some(w) = &self.created {
            params.push(("created_from", time(w.from)));
            params.push(("created_to", time(w.to)));
        }
        params
    }
}

/// At most this many results: a search narrows, it does not page through history.
pub const LIMIT: usize = 200;

/// The search, sent to the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Search(pub Query);

/// What came back: the tickets, newest change first, and how many matched in all.
#[derive(Debug)]
pub struct Found {
    pub query: Query,
    pub result: Result<(Vec<TicketView>, u64), String>,
}

impl Job for Search {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let query = self.0;
            let result = if query.ids.is_empty() {
                io.client
                    .tickets(&query.params())
                    .await
                    .map(|page| (page.tickets, page.total))
                    .map_err(|e| crate::tui::calls::explain(&e))
            } else {
                by_number(&io, &query.ids).await
            };
            io.reply(Found { query, result }).await;
        }
        .boxed()
    }
}

/// A few tickets by number; one that cannot be had is left out, unless none can.
async fn by_number(io: &Io, ids: &[TicketId]) -> Result<(Vec<TicketView>, u64), String> {
    let mut tickets = Vec::new();
    let mut failed = None;
    for id in ids.iter().take(LIMIT) {
        match io.client.ticket(*id).await {
            Ok(t) => tickets.push(t),
            Err(e) => failed = Some(crate::tui::calls::explain(&e)),
        }
    }
    match failed {
        Some(why) if tickets.is_empty() => Err(why),
        _ => Ok((tickets, ids.len() as u64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drill_down_names_itself_and_asks_for_its_window() {
        let q = Query {
            category: Some(Category::Consultation),
            created: Some(Window {
                from: "2026-11-15T16:00:00Z".parse().unwrap(),
                to: "2026-11-22T16:00:00Z".parse().unwrap(),
                label: "2026-W47".into(),
            }),
            ..Default::default()
        };
        assert_eq!(q.describe(), "咨询类 · 2026-W47");
        assert!(q.is_exact());
        let params = q.params();
        assert!(params.contains(&("category", "consultation".into())));
        assert!(params.contains(&("created_from", "2026-11-15T16:00:00Z".into())));
        assert!(params.contains(&("created_to", "2026-11-22T16:00:00Z".into())));
        assert!(
            !params.iter().any(|(k, _)| *k == "status"),
            "closed included"
        );
        let plain = Query {
            text: Some("登录".into()),
            ..Default::default()
        };
        assert_eq!(plain.describe(), "'登录'");
        assert!(!plain.is_exact());
        assert_eq!(Query::default().describe(), "全部 all");
    }
}
