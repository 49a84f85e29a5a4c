//! Reaching the server: the cache to start from, the role check, the first load of the
//! queue, and the backoff between attempts.

use tokio::sync::oneshot;

use super::*;
use crate::client::row::QueueRow;

/// Where following the server can resume: what the cache holds.
#[derive(Clone, Debug)]
pub(super) struct Known {
    pub(super) last_seq: i64,
    pub(super) origin: Option<String>,
}

/// What start-up reads from the cache.
#[derive(Default)]
pub(super) struct Cached {
    /// The open tickets as queue rows (their full views load as they are opened).
    pub(super) rows: Vec<QueueRow>,
    pub(super) last_seq: i64,
    pub(super) origin: Option<String>,
    pub(super) username: Option<String>,
    /// The writes waiting in the outbox, as the panes show them.
    pub(super) pending: Vec<desk::PendingWrite>,
    /// Outbox entries set aside because they could not be read.
    pub(super) set_aside: usize,
    /// Drafts left unsent (key, text).
    pub(super) drafts: Vec<(String, String)>,
}

/// The server reached: who we are to it, and where following it starts.
pub(super) struct Connected {
    pub(super) me: User,
    /// Who tickets can be assigned to; empty when the list could not be read.
    pub(super) handlers: Vec<String>,
    pub(super) since: i64,
    /// The open queue as rows, loaded because the cache could not be continued (or there
    /// was none).
    pub(super) snapshot: Option<Vec<QueueRow>>,
    /// Queued writes dropped because the server's history is not the one they were made in.
    pub(super) dropped: usize,
    /// Open tickets with submitters' messages not yet read (the server keeps the markers, so
    /// the badges outlive a session); empty when the list could not be read.
    pub(super) unread: Vec<TicketId>,
}

/// `OPSDESK_CACHE` names the cache file (`off`: none); else one per server in the platform
/// cache dir.
pub(super) fn cache_path(server: &str) -> Option<PathBuf> {
    match std::env::var_os("OPSDESK_CACHE") {
        Some(v) if v == "off" => None,
        Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => Cache::default_path(server),
    }
}

/// Opens this server's cache on its own thread and reads what start-up paints, with what the
/// handler must be told about it (as toasts: text, is an error).
///
/// A file SQLite cannot read (damaged, or not a database) is moved aside, named in the toast
/// (its outbox may hold writes to copy out), and a new cache is built from the server. A
/// cache written by a newer opsdesk is left alone for it: this one runs without a cache.
pub(super) async fn open_cache(server: &str) -> (Option<CacheThread>, Cached, Vec<(String, bool)>) {
    let Some(path) = cache_path(server) else {
        return (None, Cached::default(), Vec::new());
    };
    let server = server.to_string();
    let opened = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || read_cache(&path, &server))
            .await
            .unwrap_or(Err(CacheError::Stopped))
    };
    let mut notes = Vec::new();
    match opened.and_then(|(cache, cached, aside)| Ok((CacheThread::start(cache)?, cached, aside)))
    {
        Ok((thread, cached, aside)) => {
            if let Some(aside) = aside {
                notes.push((
                    format!(
                        "本地缓存已损坏，已移到 {} 并从服务器重建 · the cache was damaged; moved aside and rebuilt from the server",
                        aside.display()
                    ),
                    true,
                ));
            }
            (Some(thread), cached, notes)
        }
        Err(e) => {
            tracing::warn!(error = %e, "running without the local cache");
            notes.push((
                format!("本地缓存不可用 · no local cache ({}): {e}", path.display()),
                true,
            ));
            (None, Cached::default(), notes)
        }
    }
}

fn read_cache(
    path: &std::path::Path,
    server: &str,
) -> Result<(Cache, Cached, Option<PathBuf>), CacheError> {
    let (mut cache, aside) = Cache::open_recovering(path, server)?;
    // Entries this build cannot read are set aside now, so the count of waiting writes is
    // true from the first frame; the start-up toast points to `:outbox`, which shows them.
    let mut pending = Vec::new();
    for q in cache.outbox()? {
        match &q.write {
            Ok(write) => pending.push(pending_of(write)),
            Err(unreadable) => {
                tracing::warn!(id = q.id, reason = %unreadable.reason, "setting aside an outbox entry this build cannot read");
                cache.set_aside(q.id, &unreadable.reason)?;
            }
        }
    }
    let cached = Cached {
        rows: cache.load_open_rows()?,
        last_seq: cache.last_seq()?,
        origin: cache.origin()?,
        username: cache.username()?,
        pending,
        set_aside: cache.set_aside_entries()?.len(),
        drafts: cache.drafts()?,
    };
    Ok((cache, cached, aside))
}

/// The workstation is for those who work tickets; anyone else is turned away before anything
/// of theirs is cached.
pub(super) fn check_role(me: &User) -> Result<(), ClientError> {
    if me.role.works_tickets() {
        return Ok(());
    }
    Err(ClientError::Api {
        status: 403,
        code: "not_a_handler".into(),
        message: format!(
            "'{}' is a {}; the workstation is for handlers",
            me.username,
            me.role.as_str()
        ),
        fields: Vec::new(),
    })
}

/// Reaches the server: who we are, and where to follow from. What the cache knows is
/// continued when the server's change log is the one it came from and reaches as far;
/// otherwise the open queue is loaded afresh and replaces the cached copy.
pub(super) async fn reach(
    client: &ApiClient,
    cache: Option<&CacheThread>,
    known: Option<Known>,
) -> Result<Connected, ClientError> {
    let me = client.me().await?;
    check_role(&me)?;
    // The assignee picker still works from the tickets' assignees if this fails.
    let handlers = client
        .users()
        .await
        .map(|list| list.into_iter().map(|u| u.username).collect())
        .unwrap_or_default();
    let unread = client
        .unread()
        .await
        .map(|list| list.into_iter().map(|u| u.ticket_id).collect())
        .unwrap_or_default();
    let head = client.changes(0, 1).await?;
    let origin = head.changes.first().map(origin_of);
    if let Some(k) = &known
        && k.origin == origin
        && head.latest >= k.last_seq
    {
        return Ok(Connected {
            me,
            handlers,
            since: k.last_seq,
            snapshot: None,
            dropped: 0,
            unread,
        });
    }
    // Another server behind the same URL: cached ticket numbers would name other tickets.
    // (The same log but shorter is a restored backup: its tickets are ours, writes may stay.)
    let other_history = known.as_ref().is_some_and(|k| k.origin != origin);
    let since = head.latest;
    let mut dropped = 0;
    let mut storing = cache;
    if let Some(cache) = storing {
        let begun = cache
            .ask(move |c| -> Result<usize, CacheError> {
                let dropped = if other_history {
                    c.forget_history()?
                } else {
                    0
                };
                c.begin_snapshot()?;
                Ok(dropped)
            })
            .await
            .and_then(|r| r);
        match begun {
            Ok(n) => dropped = n,
            Err(e) => {
                tracing::warn!(error = %e, "could not store the open queue in the cache");
                storing = None;
            }
        }
    }
    let (rows, stored) = load_open(client, storing).await?;
    if let Some(cache) = storing.filter(|_| stored) {
        let finished = cache
            .ask(move |c| -> Result<(), CacheError> {
                c.finish_snapshot(since)?;
                if let Some(origin) = origin {
                    c.set_origin(&origin)?;
                }
                Ok(())
            })
            .await
            .and_then(|r| r);
        if let Err(e) = finished {
            tracing::warn!(error = %e, "could not store the open queue in the cache");
        }
    }
    Ok(Connected {
        me,
        handlers,
        since,
        snapshot: Some(rows),
        dropped,
        unread,
    })
}

/// Every open ticket as a queue row, in pages; each page's full views go to the cache (when
/// there is one) and are let go, so a load of 100,000 never holds them all. A page is stored
/// while the next one is fetched. Returns whether the cache took every page.
pub(super) async fn load_open(
    client: &ApiClient,
    cache: Option<&CacheThread>,
) -> Result<(Vec<QueueRow>, bool), ClientError> {
    let mut rows = Vec::new();
    let mut offset = 0;
    let mut stored = cache.is_some();
    let mut storing: Option<oneshot::Receiver<Result<(), CacheError>>> = None;
    loop {
        let page = client
            .tickets(&[
                ("open", "true".to_string()),
                ("limit", "1000".to_string()),
                ("offset", offset.to_string()),
            ])
            .await?;
        // The page before is written by now, or nearly.
        if let Some(previous) = storing.take() {
            stored &= page_stored(previous.await);
        }
        offset += page.tickets.len();
        let done = page.tickets.is_empty() || offset as u64 >= page.total;
        rows.extend(page.tickets.iter().map(QueueRow::of));
        if let Some(c) = cache.filter(|_| stored) {
            let (tx, rx) = oneshot::channel();
            let views = page.tickets;
            c.submit(move |c| {
                let _ = tx.send(c.put_page(&views));
            });
            storing = Some(rx);
        }
        if done {
            if let Some(last) = storing.take() {
                stored &= page_stored(last.await);
            }
            rows.shrink_to_fit();
            return Ok((rows, stored));
        }
    }
}

/// Whether the cache took a page; when not, it stays marked as following nothing, so the next
/// start loads the queue again.
fn page_stored(answer: Result<Result<(), CacheError>, oneshot::error::RecvError>) -> bool {
    match answer.unwrap_or(Err(CacheError::Stopped)) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "could not store the open queue in the cache");
            false
        }
    }
}

/// A growing pause between attempts to reach the server, as the sync's reconnects use.
pub(super) fn backoff(attempt: u32) -> Duration {
    crate::client::sync::reconnect_pause(attempt)
}
