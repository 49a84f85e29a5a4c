//! Bringing a ticket's full view to the desk when only its queue row is held: the cached copy
//! when it is as new as the row, else the server's. The queue asks for the selected ticket's
//! as the selection moves, so ticket work finds it in hand.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::api::TicketView;
use crate::client::row::QueueRow;
use crate::domain::ticket::TicketId;
use crate::tui::effect::{Io, Job};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetch {
    pub id: TicketId,
    /// The version the desk's row has: an older cached copy is not enough.
    pub version: i64,
}

impl Fetch {
    pub fn of(row: &QueueRow) -> Fetch {
        Fetch {
            id: row.id,
            version: row.version,
        }
    }
}

impl Job for Fetch {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let Fetch { id, version } = *self;
            if let Some(t) = cached(&io, id).await.filter(|t| t.version >= version) {
                io.arrived(t).await;
                return;
            }
            match io.client.ticket(id).await {
                Ok(t) => io.arrived(t).await,
                // The row stands; work waiting for the view is not done, and says why.
                Err(e) => {
                    tracing::warn!(id, error = %e, "could not fetch a ticket's full view");
                    let why = crate::tui::calls::explain(&e);
                    io.toast(format!("#{id} 载入失败 · could not load: {why}"), true)
                        .await;
                }
            }
        }
        .boxed()
    }
}

/// The cache's copy of a ticket, if it has one.
pub async fn cached(io: &Io, id: TicketId) -> Option<TicketView> {
    let cache = io.cache.as_ref()?;
    match cache.ask(move |c| c.ticket(id)).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) | Err(e) => {
            tracing::warn!(id, error = %e, "could not read a cached ticket");
            None
        }
    }
}
