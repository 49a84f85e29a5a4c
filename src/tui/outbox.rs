//! The outbox replay: queued writes sent in order when the link is live again, each against
//! the version our own earlier writes produced.

use super::*;

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
    /// Refused by the server (a version conflict, a rule): removed, never retried.
    Refused { label: String, error: ClientError },
    /// Not sent now and kept; the replay stops here so later writes keep their order.
    Kept { label: String, error: ClientError },
    /// Failed too often: removed.
    GaveUp { label: String, error: ClientError },
}

/// Sends the outbox in order. A write made against a version that one of our own earlier
/// writes moved is sent against the version that write produced — the server still refuses
/// it if anyone else changed the ticket in between.
pub async fn replay_outbox(client: &ApiClient, cache: &CacheThread) -> Result<Replay, CacheError> {
    let queued = cache.ask(|c| c.outbox::<Call>()).await??;
    // Per ticket: the version a queued write was made against → the version ours produced.
    let mut moved: HashMap<TicketId, (i64, i64)> = HashMap::new();
    let mut results = Vec::new();
    for q in queued {
        let seen = seen_version(&q.call);
        let call = match seen.and_then(|(id, v)| moved.get(&id).filter(|m| m.0 == v)) {
            Some(&(_, now)) => with_version(q.call.clone(), now),
            None => q.call.clone(),
        };
        let (label, done) = (label(&call), success(&call));
        let (id, original) = (q.id, q.call);
        let outcome = perform(client, call.clone()).await;
        let (result, stop) = match outcome {
            Ok(performed) => {
                let ticket = match performed {
                    Performed::Ticket(t) => t,
                    Performed::Replied(t, first_response) => {
                        // Exactly one change since the version before it, and it was ours:
                        // a write queued against that version may follow.
                        if first_response {
                            moved.insert(t.id, (t.version - 1, t.version));
                        }
                        Some(t)
                    }
                    Performed::Revealed(..) => None,
                };
                if let (Some((tid, v)), Some(t)) = (seen, &ticket) {
                    moved.insert(tid, (v, t.version));
                }
                cache.ask(move |c| c.done(id)).await??;
                (Replayed::Sent { done, ticket }, false)
            }
            Err(NotDone { error, rest }) => match verdict(&error) {
                Verdict::Absent => {
                    let keep = rest.unwrap_or(call);
                    if keep != original {
                        cache.ask(move |c| c.replace(id, &keep)).await??;
                    }
                    (Replayed::Kept { label, error }, true)
                }
                Verdict::Refused => {
                    cache.ask(move |c| c.done(id)).await??;
                    (Replayed::Refused { label, error }, false)
                }
                Verdict::Later if q.attempts + 1 >= MAX_ATTEMPTS => {
                    cache.ask(move |c| c.done(id)).await??;
                    (Replayed::GaveUp { label, error }, false)
                }
                Verdict::Later => {
                    let (keep, said) = (rest.unwrap_or(call), error.to_string());
                    cache
                        .ask(move |c| {
                            if keep != original {
                                c.replace(id, &keep)?;
                            }
                            c.failed(id, &said)
                        })
                        .await??;
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
        // A refused token is fixed by the handler, not by dropping their writes.
        ClientError::Api { status: 401, .. } => Verdict::Absent,
        ClientError::Api {
            status: 408 | 429, ..
        } => Verdict::Later,
        ClientError::Api { status, .. } if (400..500).contains(status) => Verdict::Refused,
        ClientError::Api { .. } | ClientError::Protocol(_) => Verdict::Later,
    }
}

/// The ticket and version a write was made against, if it carries one.
pub(super) fn seen_version(call: &Call) -> Option<(TicketId, i64)> {
    match call {
        Call::Take { id, version, .. } => Some((*id, *version)),
        Call::Transition { id, body } => body.version.map(|v| (*id, v)),
        Call::Patch { id, body } => body
            .get("version")
            .and_then(serde_json::Value::as_i64)
            .map(|v| (*id, v)),
        Call::Link { id, version, .. } | Call::ApproveScript { id, version } => {
            Some((*id, *version))
        }
        Call::Message { .. } | Call::Reveal(_) => None,
    }
}

pub(super) fn with_version(call: Call, version: i64) -> Call {
    match call {
        Call::Take { id, me, start, .. } => Call::Take {
            id,
            version,
            me,
            start,
        },
        Call::Transition { id, mut body } => {
            body.version = Some(version);
            Call::Transition { id, body }
        }
        Call::Patch { id, mut body } => {
            if let Some(v) = body.get_mut("version") {
                *v = serde_json::Value::from(version);
            }
            Call::Patch { id, body }
        }
        Call::Link {
            id, kind, target, ..
        } => Call::Link {
            id,
            kind,
            target,
            version,
        },
        Call::ApproveScript { id, .. } => Call::ApproveScript { id, version },
        other => other,
    }
}

pub(super) fn show_replayed(app: &mut App, replayed: Replayed) {
    match replayed {
        Replayed::Sent { done, ticket } => app.on_done(&done, Ok(ticket)),
        Replayed::Refused { label, error } => {
            app.toast(format!("{label} 未发送：{}", explain(&error)), true)
        }
        Replayed::Kept { .. } => {}
        Replayed::GaveUp { label, error } => app.toast(
            format!("{label} 多次失败，已放弃 · gave up: {}", explain(&error)),
            true,
        ),
    }
}
