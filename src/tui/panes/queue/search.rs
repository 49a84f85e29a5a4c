//! Searching every ticket on the server, closed ones too: by words, a ticket number, a
//! customer's account, phone or ID number, or by a closed status. The results take the
//! queue's place until the handler goes back to the open queue.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::api::TicketView;
use crate::domain::ticket::Status;
use crate::tui::effect::{Io, Job};

/// What was asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub text: Option<String>,
    pub status: Option<Status>,
}

impl Query {
    /// How the queue's title names it.
    pub fn describe(&self) -> String {
        match (&self.text, self.status) {
            (Some(t), Some(s)) => format!("'{t}' {}", s.label_zh()),
            (Some(t), None) => format!("'{t}'"),
            (None, Some(s)) => s.label_zh().to_string(),
            (None, None) => "全部 all".to_string(),
        }
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
            let mut params = vec![("limit", LIMIT.to_string())];
            if let Some(t) = &query.text {
                params.push(("q", t.clone()));
            }
            if let Some(s) = query.status {
                params.push(("status", s.as_str().to_string()));
            }
            let result = io
                .client
                .tickets(&params)
                .await
                .map(|page| (page.tickets, page.total))
                .map_err(|e| crate::tui::calls::explain(&e));
            io.reply(Found { query, result }).await;
        }
        .boxed()
    }
}
