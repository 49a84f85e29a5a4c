//! The outbox replay: queued writes sent in order when the link is live again, each against
//! the version our own earlier writes produced. An entry this build cannot read is set aside
//! and shown to the handler with its text, never retried blindly nor dropped in silence.

use super::*;
use crate::client::outbox::{self, Write};

/// Gives up on a write the server keeps failing (not counting an absent server).
pub(super) const MAX_ATTEMPTS: u32 = 5;

/// What one outbox replay did.
#[derive(Debug)]
pub struct Replay {
    pub results: Vec<Replayed>,
    /// Writes still waiting.
    pub left: usize,
}

/// One queued write, replayed.
#[derive(Debug)]
pub enum Replayed {
    /// Sent and removed; the ticket as the server now has it, when the call answers with one.
    Sent {
        done: String,
        ticket: Option<Box<TicketView>>,
    },
    /// Refused by the server (a version conflict, a rule): removed, never retried; its text,
    /// if it carried one, is kept as a draft (key, text).
    Refused {
        label: String,
        error: ClientError,
        kept: Option<(String, String)>,
    },
    /// Not sent now and kept; the replay stops here so later writes keep their order.
    Kept { label: String, error: ClientError },
    /// Failed too often: removed, its text kept as a draft like a refused one's.
    GaveUp {
        label: String,
        error: ClientError,
        kept: Option<(String, String)>,
    },
    /// Could not be read (written by another opsdesk, or damaged): set aside, with its text.
    SetAside {
        id: i64,
        text: String,
        reason: String,
    },
}

/// Sends the outbox in order. A write made against a version that one of our own earlier
/// writes moved is sent against the version that write produced — the server still refuses
/// it if anyone else changed the ticket in between.
pub async fn replay_outbox(client: &ApiClient, cache: &CacheThread) -> Result<Replay, CacheError> {
    let queued = cache.ask(|c| c.outbox()).await??;
    // Per ticket: the version a queued write was made against → the version ours produced.
    let mut moved: HashMap<TicketId, (i64, i64)> = HashMap::new();
    let mut results = Vec::new();
    for q in queued {
        let id = q.id;
        let original = match q.write {
            Ok(write) => write,
            Err(unreadable) => {
                let reason = unreadable.reason.clone();
                cache.ask(move |c| c.set_aside(id, &reason)).await??;
                results.push(Replayed::SetAside {
                    id,
                    text: unreadable.text,
                    reason: unreadable.reason,
                });
                continue;
            }
        };
        let follows = original
            .seen_version
            .and_then(|v| moved.get(&original.ticket).filter(|m| m.0 == v))
            .map(|m| m.1);
        let write = match follows {
            Some(now) => original.clone().at_version(now),
            None => original.clone(),
        };
        let (label, done, ticket_id) = (write.label.clone(), write.done.clone(), write.ticket);
        let (result, stop) = match outbox::send(client, write).await {
            Ok(sent) => {
                // Keyed by the version the handler saw, so every later write made against it
                // follows the version our writes produced.
                if let Some((from, to)) = sent.moved {
                    moved.insert(ticket_id, (original.seen_version.unwrap_or(from), to));
                }
                cache.ask(move |c| c.done(id)).await??;
                let ticket = sent.ticket;
                (Replayed::Sent { done, ticket }, false)
            }
            Err(outbox::NotSent { error, rest }) => match verdict(&error) {
                Verdict::Absent => {
                    keep(cache, id, &original, rest, None).await?;
                    (Replayed::Kept { label, error }, true)
                }
                Verdict::Refused => {
                    cache.ask(move |c| c.done(id)).await??;
                    let kept = original.kept_text();
                    (Replayed::Refused { label, error, kept }, false)
                }
                Verdict::Later if q.attempts + 1 >= MAX_ATTEMPTS => {
                    cache.ask(move |c| c.done(id)).await??;
                    let kept = original.kept_text();
                    (Replayed::GaveUp { label, error, kept }, false)
                }
                Verdict::Later => {
                    keep(cache, id, &original, rest, Some(error.to_string())).await?;
                    (Replayed::Kept { label, error }, true)
                }
            },
        };
        results.push(result);
        if stop {
            break;
        }
    }
    let left = cache.ask(|c| c.outbox_len()).await??;
    Ok(Replay { results, left })
}

/// Keeps what is left of a write in its place (and counts a failure worth retrying).
async fn keep(
    cache: &CacheThread,
    id: i64,
    original: &Write,
    rest: Write,
    failed: Option<String>,
) -> Result<(), CacheError> {
    let changed = rest != *original;
    cache
        .ask(move |c| {
            if changed {
                c.replace(id, &rest)?;
            }
            match failed {
                Some(said) => c.failed(id, &said),
                None => Ok(()),
            }
        })
        .await?
}

pub(super) enum Verdict {
    /// The server is not there (or does not know us right now): keep, stop, try later.
    Absent,
    /// The server said no for a reason a retry will not change: drop and say so.
    Refused,
    /// The server failed: keep, count, try later.
    Later,
}

pub(super) fn verdict(error: &ClientError) -> Verdict {
    match error {
        ClientError::Unreachable { .. } => Verdict::Absent,
        // The server cannot write for now (disk full, busy): every later write would fail too,
        // and a wait for the admin must not use up the write's attempts.
        e if e.try_later() => Verdict::Absent,
        // A refused token is fixed by the handler, not by dropping their writes.
        ClientError::Api { status: 401, .. } => Verdict::Absent,
        ClientError::Api {
            status: 408 | 429, ..
        } => Verdict::Later,
        ClientError::Api { status, .. } if (400..500).contains(status) => Verdict::Refused,
        ClientError::Api { .. } | ClientError::Protocol(_) => Verdict::Later,
    }
}

/// What the handler is told of one replayed write (and the text kept as a draft when the
/// server refused it).
pub(super) fn told(replayed: Replayed) -> Vec<Event> {
    match replayed {
        Replayed::Sent { done, ticket } => vec![Event::Done(done, Ok(ticket))],
        Replayed::Refused { label, error, kept } => {
            let mut said = vec![Event::Toast(
                format!("{label} 未发送 not sent：{}", explain(&error)),
                true,
            )];
            said.extend(kept.map(|(key, text)| Event::KeepDraft(key, text)));
            said
        }
        Replayed::Kept { .. } => Vec::new(),
        Replayed::GaveUp { label, error, kept } => {
            let mut said = vec![Event::Toast(
                format!("{label} 多次失败，已放弃 · gave up: {}", explain(&error)),
                true,
            )];
            said.extend(kept.map(|(key, text)| Event::KeepDraft(key, text)));
            said
        }
        Replayed::SetAside { text, reason, .. } => vec![Event::Overlay(Box::new(Overlay::Text {
            title: "离线待发无法读取，已搁置 · a queued write could not be read".into(),
            text: format!(
                "这条离线写入无法被本版本读取，已搁置，不会自动发送。请复制下面的内容后重新输入。\n\
                 This queued write cannot be read by this opsdesk; it is set aside and will \
                 not be sent. Copy its text below and write it again.\n\n\
                 原因 reason: {reason}\n\n{text}\n\n\
                 `:outbox` 列出所有待发与搁置的写入 · lists every waiting and set-aside write."
            ),
            scroll: 0,
        }))],
    }
}

/// Lists the outbox for the handler: what waits to be sent, and what was set aside with its
/// full text (to copy out and write again).
#[derive(Debug)]
pub struct ShowOutbox;

impl Job for ShowOutbox {
    fn run(self: Box<Self>, io: Io) -> futures::future::BoxFuture<'static, ()> {
        use futures::FutureExt;
        async move {
            let Some(cache) = io.cache.clone() else {
                io.toast(
                    "没有本地缓存，也就没有离线待发 · no local cache, so no outbox",
                    false,
                )
                .await;
                return;
            };
            let listed = cache
                .ask(|c| -> Result<_, CacheError> { Ok((c.outbox()?, c.set_aside_entries()?)) })
                .await
                .and_then(|r| r);
            let (waiting, aside) = match listed {
                Ok(lists) => lists,
                Err(e) => {
                    io.toast(
                        format!("离线待发无法读取 · cannot read the outbox: {e}"),
                        true,
                    )
                    .await;
                    return;
                }
            };
            let mut text = format!("待发 waiting: {}\n", waiting.len());
            for q in &waiting {
                match &q.write {
                    Ok(w) => {
                        text.push_str(&format!("\n[{}] {}", q.id, w.label));
                        if let Some(e) = &q.last_error {
                            text.push_str(&format!("  ({} 次失败 failures: {e})", q.attempts));
                        }
                        for r in &w.requests {
                            if let Some(body) = r.body.get("body").and_then(|b| b.as_str()) {
                                text.push_str(&format!("\n    {body}"));
                            }
                        }
                    }
                    Err(u) => {
                        text.push_str(&format!("\n[{}] 无法读取 unreadable: {}", q.id, u.text))
                    }
                }
            }
            text.push_str(&format!("\n\n搁置 set aside: {}\n", aside.len()));
            for a in &aside {
                text.push_str(&format!(
                    "\n[{}] {} · {}\n{}\n",
                    a.id, a.created_at, a.reason, a.text
                ));
            }
            io.show(Overlay::Text {
                title: "离线待发 outbox".into(),
                text,
                scroll: 0,
            })
            .await;
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> ClientError {
        ClientError::Api {
            status,
            code: "x".into(),
            message: "m".into(),
            fields: Vec::new(),
        }
    }

    #[test]
    fn a_server_that_cannot_write_for_now_keeps_the_write_without_counting_it() {
        for status in [503, 507, 401] {
            assert!(matches!(verdict(&api(status)), Verdict::Absent), "{status}");
        }
        for status in [408, 429, 500] {
            assert!(matches!(verdict(&api(status)), Verdict::Later), "{status}");
        }
        for status in [400, 409, 413, 422] {
            assert!(
                matches!(verdict(&api(status)), Verdict::Refused),
                "{status}"
            );
        }
    }
}
