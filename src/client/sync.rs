//! Keeping a client in step with the server: catch up through `/api/v1/changes`, then follow
//! `/api/v1/events`, and when the link drops, say so and reconnect with `Last-Event-ID` after a
//! growing pause. Changes arrive in sequence order, each once, already made terminal-safe.

use std::time::Duration;

use eventsource_stream::Eventsource;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::{ApiClient, ClientError};
use crate::api::Change;
use crate::api::changes::RESET_EVENT;
use crate::domain::backoff::Backoff;

/// The link to the server as the status line shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    /// Following the live stream.
    Live,
    /// The stream dropped; retrying after the given pause.
    Reconnecting { attempt: u32, reason: String },
    /// The server answered, and refused the token (revoked, or a server with other users):
    /// no retry fixes that, a new token does. Tried again now and then, and on any key.
    Refused { reason: String },
}

#[derive(Clone, Debug)]
pub enum SyncEvent {
    Link(Link),
    /// The server's history is behind the client's position; changes are replayed from its
    /// start, so the position counts up again from 0.
    Reset,
    Change(Box<Change>),
}

/// Pauses between reconnection attempts: up to a quarter second after the first failure,
/// doubling to at most one second, so a restarted server is followed again within about a
/// second of its return (an attempt is one connection on loopback or the jump host's link),
/// jittered so the desks that lost it do not all return in the same instant.
pub const RECONNECT: Backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(1));

/// How often a refused token is tried again (it is also tried on any key).
pub const REFUSED_RETRY: Duration = Duration::from_secs(10);

/// The pause before reconnection attempt `attempt` (1 = the first after a failure).
pub fn reconnect_pause(attempt: u32) -> Duration {
    // Were the OS's randomness to fail, the pause is the middle of its range.
    RECONNECT.delay(attempt, getrandom::u64().unwrap_or(1 << 63))
}

/// Follows the server from sequence `since` until `events` is closed.
pub async fn follow(client: ApiClient, mut since: i64, events: mpsc::Sender<SyncEvent>) {
    let mut attempt = 0u32;
    loop {
        let result = follow_once(&client, &mut since, &events, &mut attempt).await;
        if events.is_closed() {
            return;
        }
        attempt += 1;
        let (link, pause) = match result {
            Err(
                e @ ClientError::Api {
                    status: 401 | 403, ..
                },
            ) => (
                Link::Refused {
                    reason: e.to_string(),
                },
                REFUSED_RETRY,
            ),
            Ok(()) => (
                Link::Reconnecting {
                    attempt,
                    reason: "the server ended the stream".to_string(),
                },
                reconnect_pause(attempt),
            ),
            Err(e) => (
                Link::Reconnecting {
                    attempt,
                    reason: e.to_string(),
                },
                reconnect_pause(attempt),
            ),
        };
        if events.send(SyncEvent::Link(link)).await.is_err() {
            return;
        }
        tokio::time::sleep(pause).await;
    }
}

async fn follow_once(
    client: &ApiClient,
    since: &mut i64,
    events: &mpsc::Sender<SyncEvent>,
    attempt: &mut u32,
) -> Result<(), ClientError> {
    loop {
        match follow_from(client, since, events, attempt).await? {
            Followed::Ended => return Ok(()),
            Followed::Reset => {
                // The server's history is shorter than ours (restored from a backup): our
                // position means nothing there, so everything it has is read again; each
                // change carries its ticket whole, so replaying puts every ticket right.
                *since = 0;
                let link = Link::Reconnecting {
                    attempt: 0,
                    reason: "the server's history restarted; resyncing from its start".into(),
                };
                if events.send(SyncEvent::Reset).await.is_err()
                    || events.send(SyncEvent::Link(link)).await.is_err()
                {
                    return Ok(());
                }
            }
        }
    }
}

/// How one pass of following ended.
enum Followed {
    /// The stream (or the receiver) ended.
    Ended,
    /// The server has no change as new as `since`: start over from its beginning.
    Reset,
}

async fn follow_from(
    client: &ApiClient,
    since: &mut i64,
    events: &mpsc::Sender<SyncEvent>,
    attempt: &mut u32,
) -> Result<Followed, ClientError> {
    // Catch up in pages first, so a long absence costs a few requests, not a long replay.
    loop {
        let page = match client.changes(*since, 1000).await {
            Err(ClientError::Api {
                status: 409, code, ..
            }) if code == "since_ahead" => {
                return Ok(Followed::Reset);
            }
            other => other?,
        };
        for change in page.changes {
            *since = change.seq;
            if events
                .send(SyncEvent::Change(Box::new(clean(change))))
                .await
                .is_err()
            {
                return Ok(Followed::Ended);
            }
        }
        if !page.more {
            break;
        }
    }
    let response = client.events(*since).await?;
    *attempt = 0;
    if events.send(SyncEvent::Link(Link::Live)).await.is_err() {
        return Ok(Followed::Ended);
    }
    let mut stream = response.bytes_stream().eventsource();
    while let Some(event) = stream.next().await {
        let event = event.map_err(|e| ClientError::Protocol(e.to_string()))?;
        if event.event == RESET_EVENT {
            return Ok(Followed::Reset);
        }
        if event.data.is_empty() {
            continue;
        }
        let change = change_of(&event.data)?;
        if change.seq <= *since {
            continue;
        }
        *since = change.seq;
        if events
            .send(SyncEvent::Change(Box::new(change)))
            .await
            .is_err()
        {
            return Ok(Followed::Ended);
        }
    }
    Ok(Followed::Ended)
}

/// One event's data read as a change, its texts made terminal-safe.
pub fn change_of(data: &str) -> Result<Change, ClientError> {
    let change: Change =
        serde_json::from_str(data).map_err(|e| ClientError::Protocol(e.to_string()))?;
    Ok(clean(change))
}

/// Every text a change carries goes through the same scrubbing as every other ticket text,
/// whatever its kind (a kind this build does not know is never shown, but stays inert).
fn clean(mut change: Change) -> Change {
    for text in [&mut change.kind, &mut change.actor] {
        super::make_safe(text);
    }
    super::scrub(&mut change.data);
    change
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_pauses_grow_from_a_quarter_second_to_one() {
        for _ in 0..50 {
            let first = reconnect_pause(1);
            assert!(first >= Duration::from_millis(125) && first <= Duration::from_millis(250));
            for attempt in [3, 7, 100, u32::MAX] {
                let late = reconnect_pause(attempt);
                assert!(late >= Duration::from_millis(500), "{late:?}");
                assert!(late <= Duration::from_secs(1), "{late:?}");
            }
        }
    }
}
