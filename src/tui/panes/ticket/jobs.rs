//! The ticket pane's background work: loading a conversation (the cached copy at once, then
//! the server's), its timeline and similar tickets; moving the read marker; the audited
//! reveal of the customer's data.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::api::{KbSummary, Message, TicketView, TimelineEntry};
use crate::client::{ApiClient, ClientError};
use crate::domain::ticket::{Customer, TicketId};
use crate::tui::effect::{Io, Job};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TicketJob {
    /// The conversation, the timeline and the server's similar tickets.
    Load(TicketId),
    /// The open ticket's conversation was read up to `message`.
    MarkRead { ticket: TicketId, message: i64 },
    /// The customer's full data (the server audits who asked).
    Reveal(TicketId),
    /// The timeline again, after the ticket changed.
    Timeline(TicketId),
}

/// What the ticket pane's jobs bring back.
#[derive(Debug)]
pub enum Loaded {
    /// The ticket itself as the server has it now (it may be closed, or not cached).
    Ticket(TicketId, Result<Box<TicketView>, String>),
    Messages(TicketId, Result<Vec<Message>, String>),
    Timeline(TicketId, Vec<TimelineEntry>),
    Similar(TicketId, Vec<TicketId>),
    /// Knowledge-base articles about the ticket, best first.
    Related(TicketId, Vec<KbSummary>),
    /// The articles written up from the ticket.
    WrittenUp(TicketId, Vec<KbSummary>),
    Revealed(TicketId, Customer),
}

impl Loaded {
    pub fn ticket(&self) -> TicketId {
        match self {
            Loaded::Ticket(id, _)
            | Loaded::Messages(id, _)
            | Loaded::Timeline(id, _)
            | Loaded::Similar(id, _)
            | Loaded::Related(id, _)
            | Loaded::WrittenUp(id, _)
            | Loaded::Revealed(id, _) => *id,
        }
    }
}

impl Job for TicketJob {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            match *self {
                TicketJob::Load(id) => load(&io, id).await,
                TicketJob::MarkRead { ticket, message } => {
                    mark_read(&io.client, ticket, message).await
                }
                TicketJob::Timeline(id) => {
                    if let Ok(entries) = io.client.timeline(id).await {
                        io.reply(Loaded::Timeline(id, entries)).await;
                    }
                }
                TicketJob::Reveal(id) => match io.client.reveal_customer(id).await {
                    Ok(customer) => io.reply(Loaded::Revealed(id, customer)).await,
                    Err(e) => {
                        let label = format!("#{id} 客户信息 customer");
                        io.done(label, Err(crate::tui::calls::explain(&e))).await
                    }
                },
            }
        }
        .boxed()
    }
}

/// The cached conversation at once (when the cache holds all of it), then the server's.
async fn load(io: &Io, id: TicketId) {
    let (client, cache) = (&io.client, &io.cache);
    // The cached copy at once (the desk may hold only its queue row), then the server's: one
    // opened by number may be closed, or never cached here.
    let cached = crate::tui::fetch::cached(io, id).await;
    let was_cached = cached.is_some();
    let mut about = None;
    if let Some(t) = cached {
        about = Some(what_it_is_about(&t));
        io.reply(Loaded::Ticket(id, Ok(Box::new(t)))).await;
    }
    match client.ticket(id).await {
        Ok(t) => {
            about = Some(what_it_is_about(&t));
            io.reply(Loaded::Ticket(id, Ok(Box::new(t)))).await
        }
        Err(ClientError::Api { status: 404, .. }) => {
            io.reply(Loaded::Ticket(
                id,
                Err(format!("工单 #{id} 不存在 · there is no ticket #{id}")),
            ))
            .await;
            return;
        }
        // Offline and never cached: nothing to show.
        Err(ClientError::Unreachable { .. }) if !was_cached => {
            io.reply(Loaded::Ticket(
                id,
                Err(format!(
                    "#{id} 离线且未缓存 · offline; ticket #{id} is not cached here"
                )),
            ))
            .await;
            return;
        }
        // Offline: the cached copy stands; the conversation below says what it can.
        Err(_) => {}
    }
    let mut shown = false;
    if let Some(cache) = cache
        && let Ok(Ok(Some(list))) = cache.ask(move |c| c.messages(id)).await
    {
        shown = true;
        io.reply(Loaded::Messages(id, Ok(list))).await;
    }
    match client.messages(id).await {
        Ok(list) => {
            // Opened and read: the server's marker moves, so the badge stays gone on the
            // handler's next start and on their other terminals.
            if let Some(last) = list.last() {
                let (client, last) = (client.clone(), last.id);
                tokio::spawn(async move { mark_read(&client, id, last).await });
            }
            if let Some(cache) = cache {
                let stored = list.clone();
                cache.submit(move |c| {
                    if let Err(e) = c.put_messages(id, &stored) {
                        tracing::warn!(error = %e, "cache: could not store a conversation");
                    }
                });
            }
            io.reply(Loaded::Messages(id, Ok(list))).await;
        }
        Err(ClientError::Unreachable { .. }) if shown => {
            io.toast(
                format!("#{id} 离线：显示缓存的对话 · offline: the cached conversation"),
                false,
            )
            .await
        }
        Err(ClientError::Unreachable { .. }) => {
            io.reply(Loaded::Messages(
                id,
                Err("离线，对话未缓存 · offline; this conversation is not cached".into()),
            ))
            .await
        }
        Err(e) => io.reply(Loaded::Messages(id, Err(e.to_string()))).await,
    }
    // The timeline is read live only; offline the pane says it is not loaded.
    if let Ok(entries) = client.timeline(id).await {
        io.reply(Loaded::Timeline(id, entries)).await;
    }
    if let Ok(ids) = client.similar(id).await {
        io.reply(Loaded::Similar(id, ids)).await;
    }
    match client.kb_written_from(id).await {
        Ok(page) => io.reply(Loaded::WrittenUp(id, page.articles)).await,
        Err(e) => tracing::debug!(error = %e, "articles written from the ticket not loaded"),
    }
    if let Some(text) = about
        && let Ok(page) = client.kb_search(&text, RELATED_ARTICLES).await
    {
        io.reply(Loaded::Related(id, page.articles)).await;
    }
}

/// How many related articles the ticket pane names.
const RELATED_ARTICLES: usize = 3;

/// What a ticket is about, as a knowledge-base search: its title and the start of its
/// description (a search is at most 1,000 characters; the telling words come first).
fn what_it_is_about(t: &TicketView) -> String {
    let text = format!("{} {}", t.title, t.description);
    text.chars().take(300).collect()
}

/// Moves the server's read marker; a missed mark only leaves a badge on.
async fn mark_read(client: &ApiClient, ticket: TicketId, message: i64) {
    if let Err(e) = client.mark_read(ticket, message).await {
        tracing::debug!(error = %e, "could not move the read marker");
    }
}
