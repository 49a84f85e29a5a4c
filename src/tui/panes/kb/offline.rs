//! The workstation's copy of the knowledge base: brought up to date from the server's changes
//! each time the pane is shown (and after a save), and searched with the same matcher when the
//! server is out of reach, so a handler on a jump host that lost its link still finds the
//! steps.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::api::{KbArticle, KbPage};
use crate::tui::effect::{Io, Job};

/// Brings the local copy up to date: the articles saved since the last time.
#[derive(Debug, PartialEq, Eq)]
pub struct SyncKb;

impl Job for SyncKb {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let Some(cache) = io.cache.clone() else {
                return;
            };
            let since = match cache.ask(|c| c.kb_until()).await {
                Ok(Ok(since)) => since,
                _ => return,
            };
            // Out of reach or refused: the copy stays as it is until the next visit.
            let Ok(changes) = io.client.kb_changes(since).await else {
                return;
            };
            let stored = cache.ask(move |c| c.put_kb(&changes)).await.and_then(|r| r);
            if let Err(e) = stored {
                tracing::warn!(error = %e, "cache: the knowledge base could not be kept");
            }
        }
        .boxed()
    }
}

/// The local copy, or why it cannot be read.
async fn copy(io: &Io) -> Result<Vec<KbArticle>, String> {
    let Some(cache) = io.cache.clone() else {
        return Err("离线，且没有本地知识库 · offline, and no local copy".into());
    };
    match cache.ask(|c| c.kb_articles()).await {
        Ok(Ok(list)) => Ok(list),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// `text` searched in the local copy, as the server would search it.
pub async fn search(io: &Io, text: &str, limit: usize) -> Result<KbPage, String> {
    let list = copy(io).await?;
    if list.is_empty() {
        return Err("离线，本地知识库还是空的 · offline, and the local copy is empty".into());
    }
    let text = text.to_string();
    // Matching a few thousand articles is CPU work: off the loop's threads.
    tokio::task::spawn_blocking(move || crate::client::kb_copy::search(&list, &text, limit))
        .await
        .map_err(|e| e.to_string())?
}

/// Article `id` from the local copy.
pub async fn article(io: &Io, id: i64) -> Result<KbArticle, String> {
    copy(io)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| {
            format!("离线，本地没有文章 #{id} · offline; article #{id} is not in the local copy")
        })
}
