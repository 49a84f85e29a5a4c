//! The workstation's local cache and outbox: on temp files, and against a real server that is
//! stopped and started again on the same data.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::TestServer;
use opsdesk::api::TransitionBody;
use opsdesk::client::cache::{Cache, CacheThread, origin_of};
use opsdesk::client::outbox::Write;
use opsdesk::client::{ApiClient, ClientError, Connection};
use opsdesk::config::Settings;
use opsdesk::domain::message::Message;
use opsdesk::domain::people::Role;
use opsdesk::domain::ticket::Status;
use opsdesk::domain::view::{Change, TicketView};
use opsdesk::tui::{Replayed, replay_outbox};
use serde_json::{Value, json};

const SERVER: &str = "http://127.0.0.1:7878";

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, minute, 0)
        .single()
        .expect("a valid time")
}

/// A ticket as the API shows it.
fn ticket(id: i64, version: i64, status: &str, title: &str) -> TicketView {
    let clock = json!({"state": "running", "due": at(50), "remaining_secs": 600});
    serde_json::from_value(json!({
        "id": id, "version": version, "status": status, "priority": "P3",
        "category": "program", "system": "trading", "channel": "mss",
        "title": title, "description": "委托下单提示资金不足\n已重新登录", "customer": {"name": "张*"},
        "submitter": "cm_test", "created_at": at(0), "updated_at": at(version as u32),
        "first_response_due": at(30), "resolve_due": at(50), "links": {},
        "sla": {"first_response": clock, "resolve": clock},
        "sla_pauses": [], "attachments": []
    }))
    .expect("a valid ticket")
}

fn change(seq: i64, kind: &str, t: &TicketView) -> Change {
    Change {
        seq,
        at: at(seq as u32 % 60),
        kind: kind.into(),
        ticket_id: Some(t.id),
        actor: "h_test".into(),
        data: serde_json::to_value(t).expect("ticket json"),
    }
}

fn message(id: i64, ticket_id: i64, body: &str) -> Message {
    Message {
        id,
        ticket_id,
        author: "cm_test".into(),
        author_role: Role::Submitter,
        internal: false,
        body: body.into(),
        created_at: at(10),
    }
}

fn message_change(seq: i64, m: &Message) -> Change {
    Change {
        seq,
        at: at(10),
        kind: "message.created".into(),
        ticket_id: Some(m.ticket_id),
        actor: m.author.clone(),
        data: serde_json::to_value(m).expect("message json"),
    }
}

/// The open tickets as (id, version, title), by id.
fn open(cache: &Cache) -> Vec<(i64, i64, String)> {
    cache
        .load_open_rows()
        .expect("load")
        .into_iter()
        .map(|t| (t.id, t.version, t.title.to_string()))
        .collect()
}

fn reply(id: i64, body: &str, key: &str) -> Write {
    Write::message(id, body, false, key)
}

fn resolve(id: i64, version: i64) -> Write {
    Write::transition(
        id,
        &TransitionBody {
            to: Status::Resolved,
            transfer_to: None,
            note: None,
            resolution: Some("已修复".into()),
            version: Some(version),
        },
    )
}

#[test]
fn changes_out_of_order_and_twice_end_at_each_tickets_newest_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    let mut cache = Cache::open(&path, SERVER).unwrap();
    assert_eq!(cache.last_seq().unwrap(), 0);
    assert!(cache.load_open_rows().unwrap().is_empty());

    cache
        .put_tickets(&[ticket(1, 1, "new", "一"), ticket(2, 1, "new", "二")], 5)
        .unwrap();
    assert_eq!(cache.last_seq().unwrap(), 5);

    let one_v3 = ticket(1, 3, "triaging", "一 v3");
    let batch = [
        change(8, "ticket.updated", &one_v3),
        change(7, "ticket.updated", &ticket(1, 2, "triaging", "一 v2")),
        change(8, "ticket.updated", &one_v3),
        change(6, "ticket.created", &ticket(3, 1, "new", "三")),
        change(9, "ticket.updated", &ticket(2, 2, "resolved", "二")),
    ];
    cache.apply(&batch).unwrap();
    // A batch older than what is stored moves nothing back: not a ticket, and not a resolved
    // ticket into the queue again.
    cache
        .apply(&[
            change(4, "ticket.updated", &ticket(1, 1, "new", "一")),
            change(5, "ticket.updated", &ticket(2, 1, "new", "二")),
        ])
        .unwrap();
    let expected = vec![(1, 3, "一 v3".to_string()), (3, 1, "三".to_string())];
    assert_eq!(open(&cache), expected);
    assert_eq!(cache.last_seq().unwrap(), 9);

    drop(cache);
    let cache = Cache::open(&path, SERVER).unwrap();
    assert_eq!(open(&cache), expected, "the same after reopening");
    assert_eq!(cache.last_seq().unwrap(), 9);

    // A snapshot replaces the queue: a ticket missing from it is no longer open here.
    let mut cache = cache;
    cache.put_tickets(&[ticket(3, 2, "new", "三")], 12).unwrap();
    assert_eq!(open(&cache), vec![(3, 2, "三".to_string())]);
    assert_eq!(cache.last_seq().unwrap(), 12);
}

#[test]
fn a_cache_followed_from_the_first_change_knows_the_logs_origin() {
    let dir = tempfile::tempdir().unwrap();
    let mut cache = Cache::open(&dir.path().join("c.sqlite3"), SERVER).unwrap();
    // The first load found an empty server: nothing to snapshot, no origin yet.
    cache.put_tickets(&[], 0).unwrap();
    assert_eq!(cache.origin().unwrap(), None);
    let first = change(1, "ticket.created", &ticket(1, 1, "new", "一"));
    let second = change(2, "ticket.updated", &ticket(1, 2, "triaging", "一"));
    cache.apply(&[second.clone(), first.clone()]).unwrap();
    assert_eq!(cache.origin().unwrap(), Some(origin_of(&first)));
    // Later changes never move it.
    cache
        .apply(&[change(3, "ticket.updated", &ticket(1, 3, "triaging", "一"))])
        .unwrap();
    assert_eq!(cache.origin().unwrap(), Some(origin_of(&first)));
}

#[test]
fn a_conversation_is_shown_only_when_the_cache_holds_all_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut cache = Cache::open(&dir.path().join("c.sqlite3"), SERVER).unwrap();
    cache.put_tickets(&[ticket(1, 1, "new", "一")], 1).unwrap();

    // Only a later message seen on the stream: the earlier ones are not here.
    cache
        .apply(&[message_change(2, &message(20, 1, "后来的"))])
        .unwrap();
    assert_eq!(cache.messages(1).unwrap(), None);

    // Fetched whole, then followed: all of it, in order, each once.
    cache
        .put_messages(1, &[message(10, 1, "第一条"), message(20, 1, "后来的")])
        .unwrap();
    cache
        .apply(&[
            message_change(3, &message(30, 1, "再一条")),
            message_change(3, &message(30, 1, "再一条")),
        ])
        .unwrap();
    let bodies: Vec<String> = cache
        .messages(1)
        .unwrap()
        .expect("whole")
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(bodies, ["第一条", "后来的", "再一条"]);

    // A ticket followed since its creation has its whole (empty) conversation here.
    cache
        .apply(&[change(4, "ticket.created", &ticket(2, 1, "new", "二"))])
        .unwrap();
    assert_eq!(cache.messages(2).unwrap(), Some(Vec::new()));
}

#[test]
fn another_servers_copy_in_the_same_file_is_discarded_not_mixed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    let mut a = Cache::open(&path, "http://a.example:7878").unwrap();
    a.put_tickets(&[ticket(1, 1, "new", "A 的工单")], 3)
        .unwrap();
    a.put_messages(1, &[message(1, 1, "A 的消息")]).unwrap();
    a.set_username("h_a").unwrap();
    a.enqueue(&reply(1, "给 A 的回复", "k-a")).unwrap();
    drop(a);

    // The same server written with a trailing slash is the same server.
    let same = Cache::open(&path, "http://a.example:7878/").unwrap();
    assert_eq!(open(&same).len(), 1);
    drop(same);

    let b = Cache::open(&path, "http://b.example:7878").unwrap();
    assert!(b.load_open_rows().unwrap().is_empty());
    assert_eq!(b.last_seq().unwrap(), 0);
    assert_eq!(b.messages(1).unwrap(), None);
    assert_eq!(b.username().unwrap(), None);
    assert!(b.outbox().unwrap().is_empty(), "A's writes never go to B");
    drop(b);

    // Discarded, not hidden: A's copy does not come back either.
    let a = Cache::open(&path, "http://a.example:7878").unwrap();
    assert!(a.load_open_rows().unwrap().is_empty());

    // And the default files of two servers are two files.
    if let (Some(pa), Some(pb)) = (
        Cache::default_path("http://a.example:7878"),
        Cache::default_path("http://b.example:7878"),
    ) {
        assert_ne!(pa, pb);
    }
}

#[test]
fn a_cache_from_before_the_row_columns_gets_them_from_its_json_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    let mut first = ticket(1, 2, "triaging", "委托失败");
    first.assignee = Some("h_chen".into());
    first.first_responded_at = Some(at(5));
    first.sla.resolve.due = at(45);
    first.sla.resolve.state = "due_soon".into();
    {
        let mut cache = Cache::open(&path, SERVER).unwrap();
        cache
            .put_tickets(
                &[
                    first.clone(),
                    ticket(2, 1, "new", "港股通"),
                    ticket(3, 4, "closed", "已关闭"),
                ],
                3,
            )
            .unwrap();
    }
    {
        // Back to the file an earlier opsdesk wrote: schema 3, no queue rows.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("DROP TABLE queue_rows; DROP TABLE kb_articles")
            .unwrap();
        conn.pragma_update(None, "user_version", 3).unwrap();
    }
    let cache = Cache::open(&path, SERVER).unwrap();
    let rows = cache.load_open_rows().unwrap();
    assert_eq!(
        rows.len(),
        2,
        "both open tickets come back as rows, the closed one not"
    );
    let r = &rows[0];
    assert_eq!((r.id, r.version, r.status), (1, 2, Status::Triaging));
    assert_eq!(
        (&*r.title, r.assignee.as_deref()),
        ("委托失败", Some("h_chen"))
    );
    // Responded to: the resolve clock is the one that matters.
    assert_eq!((r.clock.state, r.clock.due), ("due_soon", at(45)));
    assert_eq!(r.created_at, at(0));
    assert_eq!(
        cache.ticket(1).unwrap().map(|t| t.version),
        Some(2),
        "the full view is still there"
    );
}

#[test]
fn a_snapshot_in_pages_counts_only_when_finished() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    let mut cache = Cache::open(&path, SERVER).unwrap();
    cache.put_tickets(&[ticket(1, 1, "new", "旧")], 4).unwrap();
    assert!(cache.enqueue(&reply(1, "您好", "k1")).unwrap());

    // A load cut short: the old queue is gone and the cache follows nothing, so the next
    // start loads again rather than continuing from change 4 with half a queue.
    cache.begin_snapshot().unwrap();
    cache
        .put_page(&[ticket(2, 1, "new", "二"), ticket(3, 1, "triaging", "三")])
        .unwrap();
    drop(cache);
    let mut cache = Cache::open(&path, SERVER).unwrap();
    assert_eq!(cache.last_seq().unwrap(), 0);
    assert_eq!(cache.outbox().unwrap().len(), 1, "the outbox stays");

    // Loaded whole this time.
    cache.begin_snapshot().unwrap();
    cache.put_page(&[ticket(2, 2, "new", "二")]).unwrap();
    cache.put_page(&[ticket(5, 1, "new", "五")]).unwrap();
    cache.finish_snapshot(9).unwrap();
    assert_eq!(cache.last_seq().unwrap(), 9);
    assert_eq!(
        open(&cache),
        vec![(2, 2, "二".to_string()), (5, 1, "五".to_string())]
    );
}

/// True when `text` holds nothing a terminal would act on.
fn inert(text: &str) -> bool {
    !text.chars().any(|c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

#[test]
fn hostile_text_in_a_cache_file_comes_back_terminal_safe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    drop(Cache::open(&path, SERVER).unwrap());

    // Someone (or something) wrote to the file directly.
    let osc52 = "\u{1b}]52;c;cm0gLXJmIH4=\u{7}";
    let mut t = serde_json::to_value(ticket(7, 1, "new", "x")).unwrap();
    t["title"] = json!(format!("标题{osc52}\u{1b}]0;pwned\u{7}"));
    t["description"] = json!("描述\u{1b}[6n\u{1b}[2J\u{202e}txt.exe\r\n下一行");
    t["customer"]["name"] = json!("张\u{9b}31m*");
    t["transferred_by"] = json!("h_\u{1b}[31mred");
    t["attachments"] = json!([{
        "id": 1, "ticket_id": 7, "message_id": null, "filename": "a\u{1b}[1A.png",
        "content_type": "image/png", "size": 1, "sha256": "00", "uploaded_by": "cm_test",
        "created_at": at(1)
    }]);
    let m = json!({
        "id": 1, "ticket_id": 7, "author": "cm\u{1b}[8m", "author_role": "submitter",
        "internal": false, "body": format!("正文{osc52}\u{2066}"), "created_at": at(2)
    });
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO tickets (id, version, status, updated_at, json) VALUES (7, 1, 'new', '', ?1)",
            [t.to_string()],
        )
        .unwrap();
        // Its queue row too, as hostile as the JSON.
        conn.execute(
            "INSERT INTO queue_rows (id, version, status, priority, category, system, submitter,
                 assignee, title, created_ms, clock_state, clock_due_ms)
             VALUES (7, 1, 'new', 'P2', 'data', ?1, ?2, ?3, ?4, 0, ?5, 0)",
            rusqlite::params![
                "trading\u{1b}[2J",
                "cm\u{9b}8m",
                "h_\u{1b}[31mred",
                format!("标题{osc52}\u{202e}"),
                "paused\u{1b}[6n",
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO messages (id, ticket_id, json) VALUES (1, 7, ?1)",
            [m.to_string()],
        )
        .unwrap();
        conn.execute("INSERT INTO conversations (ticket_id) VALUES (7)", [])
            .unwrap();
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('username', ?1)",
            ["h\u{1b}]52;c;eA==\u{7}"],
        )
        .unwrap();
    }

    let cache = Cache::open(&path, SERVER).unwrap();
    let rows = cache.load_open_rows().unwrap();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    for text in [
        &*r.system,
        &*r.submitter,
        &*r.title,
        r.assignee.as_deref().unwrap(),
    ] {
        assert!(inert(text), "not inert in the queue row: {text:?}");
    }
    assert!(r.title.starts_with("标题"));
    assert_eq!(
        r.clock.state, "running",
        "an unknown clock state is not passed on"
    );
    let t = cache.ticket(7).unwrap().expect("the full view");
    let back = serde_json::to_value(&t).unwrap();
    let mut texts = Vec::new();
    collect_strings(&back, &mut texts);
    for text in &texts {
        assert!(inert(text), "not inert: {text:?}");
    }
    assert!(t.title.starts_with("标题"));
    assert!(t.description.contains("txt.exe") && t.description.contains("\n下一行"));

    let messages = cache.messages(7).unwrap().expect("cached");
    assert!(inert(&messages[0].body) && inert(&messages[0].author));
    assert!(messages[0].body.starts_with("正文"));
    assert!(inert(&cache.username().unwrap().unwrap()));
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

#[test]
fn the_outbox_keeps_its_order_and_its_bookkeeping_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    let mut cache = Cache::open(&path, SERVER).unwrap();
    let patch = Write::patch(2, &json!({"version": 4, "priority": "P1"}));
    assert!(cache.enqueue(&reply(1, "您好", "k1")).unwrap());
    assert!(cache.enqueue(&resolve(1, 3)).unwrap());
    assert!(cache.enqueue(&patch).unwrap());
    // The same reply (its key) and the same transition (its content) are queued once.
    assert!(!cache.enqueue(&reply(1, "您好", "k1")).unwrap());
    assert!(!cache.enqueue(&resolve(1, 3)).unwrap());
    // A different write to the same ticket is its own entry.
    assert!(cache.enqueue(&resolve(1, 4)).unwrap());
    drop(cache);

    let mut cache = Cache::open(&path, SERVER).unwrap();
    let queued = cache.outbox().unwrap();
    let calls: Vec<&Write> = queued.iter().map(|q| q.write.as_ref().unwrap()).collect();
    assert_eq!(
        calls,
        [
            &reply(1, "您好", "k1"),
            &resolve(1, 3),
            &patch,
            &resolve(1, 4)
        ]
    );
    assert!(queued.windows(2).all(|w| w[0].id < w[1].id));
    assert!(
        queued
            .iter()
            .all(|q| q.attempts == 0 && q.last_error.is_none())
    );

    cache.done(queued[1].id).unwrap();
    cache.failed(queued[0].id, "500 internal").unwrap();
    cache.failed(queued[0].id, "502 bad gateway").unwrap();
    drop(cache);

    let cache = Cache::open(&path, SERVER).unwrap();
    let queued = cache.outbox().unwrap();
    assert_eq!(queued.len(), 3);
    assert_eq!(cache.outbox_len().unwrap(), 3);
    assert_eq!(queued[0].write, Ok(reply(1, "您好", "k1")));
    assert_eq!(queued[0].attempts, 2);
    assert_eq!(queued[0].last_error.as_deref(), Some("502 bad gateway"));
    assert_eq!(queued[1].write, Ok(patch));
    assert_eq!(queued[2].write, Ok(resolve(1, 4)));
}

fn api(base: &str, token: &str) -> ApiClient {
    ApiClient::new(Connection {
        base: base.to_string(),
        token: token.to_string(),
    })
    .expect("client")
}

/// Fills a cache the way the workstation does: the open queue at the newest change, then
/// whatever followed, and the conversations it opened.
async fn fill(cache: &mut Cache, client: &ApiClient, since: i64) {
    let mut since = since;
    loop {
        let page = client.changes(since, 100).await.expect("changes");
        if let Some(last) = page.changes.last() {
            since = last.seq;
        }
        cache.apply(&page.changes).expect("apply");
        if !page.more {
            break;
        }
    }
    for t in cache.load_open_rows().expect("load") {
        let list = client.messages(t.id).await.expect("messages");
        cache.put_messages(t.id, &list).expect("put messages");
    }
}

async fn messages_with_body(s: &TestServer, id: i64, body: &str) -> usize {
    let list: Vec<Value> = s
        .handler()
        .get(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .send()
        .await
        .expect("get messages")
        .json()
        .await
        .expect("json");
    list.iter().filter(|m| m["body"] == body).count()
}

#[tokio::test]
async fn the_cached_queue_outlives_the_server_and_a_queued_reply_is_sent_once() {
    let s = TestServer::start().await;
    let first = s.new_ticket("委托下单提示资金不足").await;
    let first_id = first["id"].as_i64().unwrap();
    let client = api(&s.base, &s.handler_token);

    // The initial load, as start-up does it with no cache.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    let mut cache = Cache::open(&path, &s.base).unwrap();
    let latest = client.changes(0, 1).await.unwrap().latest;
    let page = client
        .tickets(&[("open", "true"), ("limit", "1000")])
        .await
        .unwrap();
    cache.put_tickets(&page.tickets, latest).unwrap();
    // Then what happens while the workstation follows.
    let second = s.new_ticket("港股通权限开通失败").await;
    let second_id = second["id"].as_i64().unwrap();
    let r = s
        .submitter()
        .post(s.url(&format!("/api/v1/tickets/{second_id}/messages")))
        .json(&json!({"body": "补充：截图见附件"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    fill(&mut cache, &client, latest).await;
    let last_seq = cache.last_seq().unwrap();
    assert_eq!(last_seq, s.latest_seq().await);
    drop(cache);

    // The server goes away; the cache alone paints the queue and the conversations.
    let data = s.stop().await.expect("the data dir");
    assert!(matches!(
        client.me().await,
        Err(ClientError::Unreachable { .. })
    ));
    let cache = Cache::open(&path, client.base()).unwrap();
    let titles: Vec<String> = cache
        .load_open_rows()
        .unwrap()
        .into_iter()
        .map(|t| t.title.to_string())
        .collect();
    assert_eq!(titles, ["委托下单提示资金不足", "港股通权限开通失败"]);
    assert_eq!(cache.last_seq().unwrap(), last_seq);
    let conversation = cache.messages(second_id).unwrap().expect("cached");
    assert_eq!(conversation.len(), 1);
    assert_eq!(conversation[0].body, "补充：截图见附件");

    // A reply written offline waits in the outbox; replaying while the server is away keeps it.
    let thread = CacheThread::start(cache).unwrap();
    let body = "您好，已为您重置交易密码，请重新登录";
    let queued = reply(first_id, body, "tui-offline-reply-1");
    let q = queued.clone();
    assert!(thread.ask(move |c| c.enqueue(&q)).await.unwrap().unwrap());
    let replay = replay_outbox(&client, &thread).await.unwrap();
    assert!(matches!(
        replay.results.as_slice(),
        [Replayed::Kept {
            error: ClientError::Unreachable { .. },
            ..
        }]
    ));
    assert_eq!(replay.left, 1);

    // The server is back on the same data: the reply goes out, once.
    let s = TestServer::start_in(data.path(), Settings::default()).await;
    let client = api(&s.base, &s.handler_token);
    let replay = replay_outbox(&client, &thread).await.unwrap();
    assert!(
        matches!(replay.results.as_slice(), [Replayed::Sent { .. }]),
        "{replay:?}"
    );
    assert_eq!(replay.left, 0);
    assert_eq!(messages_with_body(&s, first_id, body).await, 1);

    // Sent again (as if the process died before it could forget it): still one reply.
    let q = queued.clone();
    assert!(thread.ask(move |c| c.enqueue(&q)).await.unwrap().unwrap());
    let replay = replay_outbox(&client, &thread).await.unwrap();
    assert!(
        matches!(replay.results.as_slice(), [Replayed::Sent { .. }]),
        "{replay:?}"
    );
    assert_eq!(replay.left, 0);
    assert_eq!(messages_with_body(&s, first_id, body).await, 1);

    // The cache carries on from where it stopped: the replayed reply is the next change.
    let since = thread.ask(|c| c.last_seq()).await.unwrap().unwrap();
    let page = client.changes(since, 100).await.unwrap();
    assert!(
        page.changes.iter().any(|c| c.kind == "message.created"),
        "the replayed reply follows the cached position"
    );
}

#[tokio::test]
async fn a_queued_write_against_a_changed_ticket_is_refused_not_retried() {
    let s = TestServer::start().await;
    let t = s.new_ticket("开户视频见证失败").await;
    let id = t["id"].as_i64().unwrap();
    let version = t["version"].as_i64().unwrap();
    let other = s.new_ticket("银证转账未到账").await;
    let other_id = other["id"].as_i64().unwrap();
    let other_version = other["version"].as_i64().unwrap();
    let client = api(&s.base, &s.handler_token);

    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache.sqlite3"), &s.base).unwrap();
    let thread = CacheThread::start(cache).unwrap();
    // Offline: the handler raised the priority of one ticket, then took and reprioritised the
    // other — both of the other's writes against the version they saw.
    let writes = [
        Write::patch(id, &json!({"version": version, "priority": "P1"})),
        Write::take(other_id, other_version, "h_test", true),
        Write::patch(
            other_id,
            &json!({"version": other_version, "priority": "P2"}),
        ),
    ];
    for w in writes {
        thread.ask(move |c| c.enqueue(&w)).await.unwrap().unwrap();
    }

    // Meanwhile someone else changed the first ticket.
    let r = s
        .client(&s.handler2_token)
        .patch(s.url(&format!("/api/v1/tickets/{id}")))
        .json(&json!({"version": version, "priority": "P4"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let replay = replay_outbox(&client, &thread).await.unwrap();
    assert_eq!(replay.left, 0, "{replay:?}");
    match replay.results.as_slice() {
        [
            Replayed::Refused {
                error:
                    ClientError::Api {
                        status: 409, code, ..
                    },
                ..
            },
            Replayed::Sent { .. },
            Replayed::Sent { .. },
        ] => assert_eq!(code, "version_conflict"),
        other => panic!("unexpected replay: {other:?}"),
    }
    // Their change stands; ours on the other ticket went through in order.
    let first: Value = s
        .handler()
        .get(s.url(&format!("/api/v1/tickets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["priority"], "P4");
    let second: Value = s
        .handler()
        .get(s.url(&format!("/api/v1/tickets/{other_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["assignee"], "h_test");
    assert_eq!(second["status"], "triaging");
    assert_eq!(second["priority"], "P2");

    // Nothing is retried: a second replay has nothing to send.
    let replay = replay_outbox(&client, &thread).await.unwrap();
    assert!(replay.results.is_empty() && replay.left == 0);
}

#[tokio::test]
async fn a_reply_then_a_take_made_offline_both_go_through() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache.sqlite3"), &s.base).unwrap();
    let thread = CacheThread::start(cache).unwrap();
    // Offline the handler answers a new ticket, then takes it, against the version they saw.
    // The answer is the ticket's first response, which moves its version: the take follows.
    let offline = async |title: &str, key: &str| {
        let t = s.new_ticket(title).await;
        let (id, seen) = (t["id"].as_i64().unwrap(), t["version"].as_i64().unwrap());
        let writes = [
            Write::message(
                id,
                "已为客户重置交易密码，请客户用短信中的临时密码登录",
                false,
                key,
            ),
            Write::take(id, seen, "h_test", true),
        ];
        for w in writes {
            thread.ask(move |c| c.enqueue(&w)).await.unwrap().unwrap();
        }
        (id, seen)
    };
    let (id, _) = offline("客户登录提示密码错误", "reply-1").await;
    let replay = replay_outbox(&api(&s.base, &s.handler_token), &thread)
        .await
        .unwrap();
    assert!(
        matches!(
            replay.results.as_slice(),
            [Replayed::Sent { .. }, Replayed::Sent { .. }]
        ),
        "{replay:?}"
    );
    let now: Value = s
        .handler()
        .get(s.url(&format!("/api/v1/tickets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["status"], "triaging");
    assert_eq!(now["assignee"], "h_test");

    // Had anyone else changed the ticket in between, the take would still be refused.
    let (id, seen) = offline("客户无法撤单", "reply-2").await;
    let r = s
        .client(&s.handler2_token)
        .patch(s.url(&format!("/api/v1/tickets/{id}")))
        .json(&json!({"version": seen, "priority": "P1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let replay = replay_outbox(&api(&s.base, &s.handler_token), &thread)
        .await
        .unwrap();
    assert!(
        matches!(
            replay.results.as_slice(),
            [Replayed::Sent { .. }, Replayed::Refused { .. }]
        ),
        "{replay:?}"
    );
}

/// Writes queued by the workstation before the outbox had a format (a serde enum of its calls,
/// as `tests/fixtures/outbox/v1_calls.jsonl` holds them) are read and sent after the upgrade,
/// in order, each following the version the ones before it produced.
#[tokio::test]
async fn an_outbox_written_before_the_format_existed_replays_after_it() {
    let s = TestServer::start().await;
    let t = s.new_ticket("委托下单一直显示处理中").await;
    let (id, version) = (t["id"].as_i64().unwrap(), t["version"].as_i64().unwrap());
    assert_eq!(
        version, 1,
        "the fixture's writes were made against version 1"
    );
    let parent = s.new_ticket("交易系统批量委托超时").await["id"]
        .as_i64()
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    drop(Cache::open(&path, &s.base).unwrap());
    // As the earlier workstation queued them: the serde text of its call, keyed by the
    // message's idempotency key or by a hash of the text.
    let fixture = include_str!("fixtures/outbox/v1_calls.jsonl");
    let conn = rusqlite::Connection::open(&path).unwrap();
    for (i, line) in fixture.lines().enumerate() {
        let line = line
            .replace("\"id\":1,", &format!("\"id\":{id},"))
            .replace("\"target\":2", &format!("\"target\":{parent}"))
            .replace("h_chen", "h_test");
        let key: String = serde_json::from_str::<Value>(&line).unwrap()["Message"]["key"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("content-old-{i}"));
        conn.execute(
            "INSERT INTO outbox (idempotency_key, call, created_at) VALUES (?1, ?2, '2026-11-24T02:00:00Z')",
            rusqlite::params![key, line],
        )
        .unwrap();
    }
    drop(conn);

    let thread = CacheThread::start(Cache::open(&path, &s.base).unwrap()).unwrap();
    let replay = replay_outbox(&api(&s.base, &s.handler_token), &thread)
        .await
        .unwrap();
    let sent = replay
        .results
        .iter()
        .filter(|r| matches!(r, Replayed::Sent { .. }))
        .count();
    // Reply, take, note, priority, transfer to dev and the parent link go through; approving
    // a data-fix script is refused, as it was then, because this is not an ops transfer.
    assert_eq!(sent, 6, "{replay:?}");
    assert!(
        matches!(replay.results.last(), Some(Replayed::Refused { .. })),
        "{replay:?}"
    );
    assert_eq!(replay.left, 0);

    let now: Value = s
        .handler()
        .get(s.url(&format!("/api/v1/tickets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["status"], "transferred");
    assert_eq!(now["transfer_to"], "dev");
    assert_eq!(now["priority"], "P2");
    assert_eq!(now["assignee"], "h_test");
    assert_eq!(now["links"]["parent"], parent);
    assert_eq!(
        messages_with_body(&s, id, "您好，请客户重新登录后再试。\n如仍失败请截图").await,
        1
    );
    assert_eq!(
        messages_with_body(&s, id, "ELK 查到 10:05 委托请求超时").await,
        1
    );
}

/// A cache file that is not a database (a disk error, a stray copy) is moved aside — kept, in
/// case its outbox holds writes — and a new cache takes its place; a cache from a newer
/// opsdesk is refused and left exactly as it was.
#[test]
fn a_damaged_cache_is_moved_aside_and_a_newer_one_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    let junk = b"this is not a database, but it was the cache file".repeat(100);
    std::fs::write(&path, &junk).unwrap();
    let (mut cache, aside) = Cache::open_recovering(&path, SERVER).unwrap();
    let aside = aside.expect("moved aside").aside;
    assert_eq!(std::fs::read(&aside).unwrap(), junk, "kept byte for byte");
    assert!(aside.to_string_lossy().contains("damaged-"));
    assert!(
        cache.enqueue(&reply(1, "您好", "k1")).unwrap(),
        "the new cache works"
    );
    drop(cache);
    let (_, again) = Cache::open_recovering(&path, SERVER).unwrap();
    assert_eq!(again, None, "a good cache is opened as it is");

    let newer = dir.path().join("newer.sqlite3");
    drop(Cache::open(&newer, SERVER).unwrap());
    let conn = rusqlite::Connection::open(&newer).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let before = std::fs::read(&newer).unwrap();
    assert!(matches!(
        Cache::open_recovering(&newer, SERVER),
        Err(opsdesk::client::cache::CacheError::TooNew { found: 99, .. })
    ));
    assert_eq!(
        std::fs::read(&newer).unwrap(),
        before,
        "left for the newer opsdesk"
    );
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(
        files, 3,
        "the new cache, the damaged one kept, the newer one"
    );
}
