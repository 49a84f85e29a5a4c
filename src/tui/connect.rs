//! Reaching the server: the cache to start from, the role check, the first load of the
//! queue, and the backoff between attempts.

use tokio::sync::oneshot;

use super::*;
use crate::client::cache::Recovered;
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
    /// The cache was found damaged and rebuilt.
    pub(super) rebuilt: Option<Recovered>,
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

pub(super) fn cache_path(server: &str) -> Option<PathBuf> {
    Cache::chosen_path(server)
}

/// Opens this server's cache on its own thread and reads what start-up paints, with what the
/// handler must be told about it (as toasts: text, is an error).
///
/// A file SQLite cannot read (damaged, or not a database) is moved aside, named in the toast,
/// what can still be read of its outbox and drafts is saved into a new cache, and the rest is
/// built again from the server. A cache written by a newer opsdesk is left alone for it: this
/// one runs without a cache.
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
    match opened.and_then(|(cache, cached)| Ok((CacheThread::start(cache)?, cached))) {
        Ok((thread, cached)) => {
            if let Some(r) = &cached.rebuilt {
                notes.push((rebuilt_note(r), true));
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

/// What the handler is told of a rebuilt cache: where the damaged file is, and what of it
/// was saved.
pub(super) fn rebuilt_note(r: &Recovered) -> String {
    let mut text = format!(
        "本地缓存已损坏，已移到 {}，找回待发 {} 条、草稿 {} 份，其余从服务器重建 · the cache was damaged: moved aside, {} queued writes and {} drafts saved, the rest rebuilt from the server",
        r.aside.display(),
        r.writes,
        r.drafts,
        r.writes,
        r.drafts
    );
    if let Some(why) = &r.note {
        text.push_str(&format!(" ({why})"));
    }
    text
}

/// Reads the cache; a file found damaged while reading (not only when opening) is rebuilt
/// with its outbox salvaged, and read again.
fn read_cache(path: &std::path::Path, server: &str) -> Result<(Cache, Cached), CacheError> {
    let (cache, recovered) = Cache::open_recovering(path, server)?;
    let damaged_late = recovered.is_none();
    match read_from(cache) {
        Ok((cache, mut cached)) => {
            cached.rebuilt = recovered;
            Ok((cache, cached))
        }
        Err(e) if e.is_damage() && damaged_late => {
            tracing::warn!(error = %e, path = %path.display(), "the cache is damaged");
            let (cache, recovered) = Cache::rebuild(path, server)?;
            let (cache, mut cached) = read_from(cache)?;
            cached.rebuilt = Some(recovered);
            Ok((cache, cached))
        }
        Err(e) => Err(e),
    }
}

/// Everything start-up paints from the cache; the cache is let go on an error, so a damaged
/// file can be moved.
fn read_from(mut cache: Cache) -> Result<(Cache, Cached), CacheError> {
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
        rebuilt: None,
    };
    Ok((cache, cached))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::outbox::Write;
    use crate::config::Settings;
    use crate::domain::ticket::{Channel, Ticket};
    use crate::domain::validate::NewTicket;
    use crate::domain::view::{SlaContext, ticket_view};

    const SERVER: &str = "http://127.0.0.1:7878";

    fn tickets(n: i64) -> Vec<TicketView> {
        let settings = Settings::default();
        let sla = SlaContext {
            policy: &settings.sla,
            calendar: &settings.calendar,
        };
        let now = chrono::Utc::now();
        (1..=n)
            .map(|id| {
                let new = NewTicket {
                    title: format!("委托失败 {id}"),
                    description: "客户在 APP 下单提示资金不足，已重试三次仍然失败".into(),
                    system: "trading".into(),
                    ..Default::default()
                };
                let mut t = Ticket::open(new, Channel::Mss, "cm_wang".into(), now);
                t.id = id;
                ticket_view(&t, Vec::new(), &sla, now)
            })
            .collect()
    }

    /// A cache with a queue, three queued writes and a draft, closed (so its journal is in the
    /// file).
    fn written(path: &std::path::Path) {
        let mut cache = Cache::open(path, SERVER).unwrap();
        cache.put_tickets(&tickets(1_500), 9).unwrap();
        for (i, key) in ["k1", "k2", "k3"].iter().enumerate() {
            let write = Write::message(i as i64 + 1, &format!("回复 {i}"), false, key);
            assert!(cache.enqueue(&write).unwrap());
        }
        cache.put_draft("7/reply", "写了一半的回复").unwrap();
    }

    /// Overwrites the first page of a table's b-tree with noise.
    fn damage(path: &std::path::Path, table: &str) {
        let (root, page_size): (i64, i64) = {
            let conn = rusqlite::Connection::open(path).unwrap();
            let root = conn
                .query_row(
                    "SELECT rootpage FROM sqlite_master WHERE name = ?1",
                    [table],
                    |r| r.get(0),
                )
                .unwrap();
            let size = conn
                .pragma_query_value(None, "page_size", |r| r.get(0))
                .unwrap();
            (root, size)
        };
        let mut bytes = std::fs::read(path).unwrap();
        let at = ((root - 1) * page_size) as usize;
        for (i, b) in bytes[at..at + page_size as usize].iter_mut().enumerate() {
            *b = (i * 7 + 13) as u8;
        }
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn a_cache_damaged_past_its_opening_is_rebuilt_with_its_outbox_and_drafts_saved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite3");
        written(&path);
        damage(&path, "queue_rows");
        // It opens (the damage is in a table opening does not read), then fails on reading.
        assert!(
            Cache::open(&path, SERVER)
                .unwrap()
                .load_open_rows()
                .is_err()
        );

        let (mut cache, cached) = read_cache(&path, SERVER).unwrap();
        let rebuilt = cached.rebuilt.expect("rebuilt");
        assert_eq!((rebuilt.writes, rebuilt.drafts), (3, 1));
        assert!(rebuilt.aside.exists(), "the damaged file is kept");
        assert_eq!(cached.pending.len(), 3, "the saved writes wait to be sent");
        let keys: Vec<String> = cache
            .outbox()
            .unwrap()
            .into_iter()
            .map(|q| {
                q.write.unwrap().requests[0]
                    .idempotency_key
                    .clone()
                    .unwrap()
            })
            .collect();
        assert_eq!(keys, ["k1", "k2", "k3"], "in their order, with their keys");
        assert_eq!(cached.drafts, [("7/reply".into(), "写了一半的回复".into())]);
        assert_eq!(cached.last_seq, 0, "the queue loads again from the server");
        assert!(cached.rows.is_empty());
        assert!(rebuilt_note(&rebuilt).contains("找回待发 3 条"));
        cache.put_tickets(&tickets(2), 3).unwrap();
        drop(cache);
        // The new cache is a good one: the next start finds nothing to repair.
        let (_, again) = read_cache(&path, SERVER).unwrap();
        assert!(again.rebuilt.is_none());
        assert_eq!(again.rows.len(), 2);
    }

    #[test]
    fn a_cache_that_is_noise_is_rebuilt_and_says_nothing_could_be_saved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite3");
        std::fs::write(&path, b"not a database at all".repeat(500)).unwrap();
        let (_, cached) = read_cache(&path, SERVER).unwrap();
        let rebuilt = cached.rebuilt.expect("rebuilt");
        assert_eq!((rebuilt.writes, rebuilt.drafts), (0, 0));
        assert!(rebuilt.note.is_some(), "why nothing was saved");
    }

    #[test]
    fn another_servers_damaged_cache_gives_up_no_writes_to_this_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite3");
        written(&path);
        damage(&path, "queue_rows");
        let (_, cached) = read_cache(&path, "http://elsewhere:7878").unwrap();
        assert_eq!(cached.pending.len(), 0);
        let note = cached.rebuilt.expect("rebuilt").note.expect("why");
        assert!(note.contains("another server"), "{note}");
    }
}
