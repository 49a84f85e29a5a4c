//! Drafts outlive the editor and the workstation: what a handler wrote and left unsent is kept
//! in the local cache, per ticket and purpose, until it is sent or discarded.

use futures::FutureExt;
use futures::future::BoxFuture;

use super::desk::Desk;
use super::effect::{Effect, Io, Job};

/// Keeps `text` as the draft under `key`: here at once, and in the local cache by the effect
/// returned.
pub fn keep(key: String, text: String, desk: &mut Desk) -> Effect {
    desk.drafts.insert(key.clone(), text.clone());
    Effect::run(
        None,
        StoreDraft {
            key,
            text: Some(text),
        },
    )
}

/// Writes (or, with no text, forgets) one draft in the local cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreDraft {
    pub key: String,
    pub text: Option<String>,
}

impl Job for StoreDraft {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let Some(cache) = io.cache.clone() else {
                return;
            };
            let StoreDraft { key, text } = *self;
            let stored = cache
                .ask(move |c| match &text {
                    Some(t) => c.put_draft(&key, t),
                    None => c.drop_draft(&key),
                })
                .await
                .and_then(|r| r);
            if let Err(e) = stored {
                io.toast(
                    format!("草稿未能存入本地缓存 · the draft could not be cached: {e}"),
                    true,
                )
                .await;
            }
        }
        .boxed()
    }
}
