//! Notifications end to end: a real server queues them with each change, and its worker
//! delivers them to real receivers on loopback — a small SMTP server, a generic webhook and a
//! WeCom-style robot endpoint — masked, retried, and kept across a restart.

mod common;

use std::path::Path;

use common::receivers::{HttpReceiver, Mail, SmtpReceiver, eventually};
use common::{TestServer, free_port, good_ticket};
use opsdesk::config::{Config, Settings};
use serde_json::json;
use tokio::net::TcpListener;
/// Customer values of `good_ticket` that must never leave the server in full.
const SECRETS: [&str; 3] = ["13812341234", "310012345678", "11010519491231002X"];

fn settings(notify: &str) -> Settings {
    let path = Path::new("notify-test.toml");
    Config::parse(notify, path)
        .and_then(|c| c.settings(path))
        .expect("test settings")
}

/// The `/metrics` value of `series` (e.g. `opsdesk_notifications{state="pending"}`).
async fn metric(s: &TestServer, series: &str) -> u64 {
    let text = s
        .handler()
        .get(s.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{series} not in /metrics:\n{text}"))
}

/// Waits until nothing is pending or retrying.
async fn drained(s: &TestServer) {
    eventually("the queue to drain", async || {
        let pending = metric(s, "opsdesk_notifications{state=\"pending\"}").await;
        let retrying = metric(s, "opsdesk_notifications{state=\"retrying\"}").await;
        (pending + retrying == 0).then_some(())
    })
    .await;
}

fn assert_masked(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} carries {secret}: {text}");
    }
}

#[tokio::test]
async fn every_event_reaches_its_channels_masked() {
    let smtp = SmtpReceiver::start().await;
    // The robot refuses its first message, as WeCom does when rate limited: it is retried.
    let http = HttpReceiver::start_on(0, 1).await;
    let config = format!(
        r#"
        [notify]
        public_url = "http://desk.example:7878"
        retry_base = "1s"
        retry_max = "2s"
        [notify.smtp]
        host = "127.0.0.1"
        port = {}
        tls = "none"
        from = "opsdesk@example.com"
        to = ["oncall@example.com"]
        [notify.wecom]
        url = "{}"
        [[notify.webhooks]]
        url = "{}"
        "#,
        smtp.port,
        http.url("/wecom"),
        http.url("/hook"),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let s = TestServer::start_in(dir.path(), settings(&config)).await;

    // A new ticket: to the handlers, by mail, robot and webhook.
    let t = s.new_ticket("客户买入提示资金不足").await;
    let id = t["id"].as_i64().expect("id");
    let created = eventually("ticket.created at the webhook", async || {
        http.events("ticket.created", id).pop()
    })
    .await;
    assert_eq!(created["audience"], "handlers");
    assert_eq!(created["ticket"]["title"], "客户买入提示资金不足");
    assert_eq!(created["ticket"]["system"], "trading");
    assert_eq!(created["ticket"]["system_name"], "交易");
    assert_eq!(created["ticket"]["customer"]["phone"], "138****1234");
    assert_eq!(created["ticket"]["customer"]["account"], "3100****5678");
    assert_eq!(
        created["url"],
        format!("http://desk.example:7878/api/v1/tickets/{id}")
    );
    let mail = eventually("the new-ticket mail", async || smtp.mails().pop()).await;
    assert_eq!(mail.rcpt, ["TO:<oncall@example.com>"]);
    let text = mail.text();
    assert!(text.contains(&format!("新工单 #{id}")), "{text}");
    assert!(text.contains("138****1234"), "{text}");
    assert!(
        text.contains(&format!("opsdesk ticket show {id}")),
        "{text}"
    );
    let robot = eventually("the robot message, after its refusal", async || {
        http.bodies("/wecom").pop()
    })
    .await;
    assert_eq!(robot["msgtype"], "markdown");
    let content = robot["markdown"]["content"].as_str().expect("content");
    assert!(content.contains(&format!("【新工单】#{id}")), "{content}");
    assert!(content.len() <= 4096);

    // A handler's public reply and the resolve: to the submitter.
    let h = s.handler();
    let messages = s.url(&format!("/api/v1/tickets/{id}/messages"));
    let transitions = s.url(&format!("/api/v1/tickets/{id}/transitions"));
    let r = h
        .post(&messages)
        .json(&json!({"body": "请客户清除缓存后重新登录，账号 310012345678 已解锁"}))
        .send()
        .await
        .expect("reply");
    assert_eq!(r.status(), 201);
    let replied = eventually("ticket.replied", async || {
        http.events("ticket.replied", id).pop()
    })
    .await;
    assert_eq!(replied["audience"], "submitter");
    assert_eq!(replied["recipient"], "cm_test");
    assert_eq!(replied["message"]["author"], "h_test");
    assert_eq!(
        replied["url"],
        format!("http://desk.example:7878/mss/tickets/{id}")
    );
    for to in [
        json!({"to": "triaging"}),
        json!({"to": "resolved", "resolution": "已为客户解锁账户"}),
    ] {
        let r = h.post(&transitions).json(&to).send().await.expect("move");
        assert_eq!(r.status(), 200, "{to}");
    }
    let resolved = eventually("ticket.resolved", async || {
        http.events("ticket.resolved", id).pop()
    })
    .await;
    assert_eq!(resolved["recipient"], "cm_test");
    assert_eq!(resolved["ticket"]["status"], "resolved");
    assert_eq!(resolved["ticket"]["resolution"], "已为客户解锁账户");

    // The submitter writes again: to the handlers, mail included.
    let r = s
        .submitter()
        .post(&messages)
        .json(&json!({"body": "客户手机 13812341234 仍收不到验证码"}))
        .send()
        .await
        .expect("follow-up");
    assert_eq!(r.status(), 201);
    let follow_up = eventually("ticket.follow_up", async || {
        http.events("ticket.follow_up", id).pop()
    })
    .await;
    assert_eq!(follow_up["audience"], "handlers");
    assert!(follow_up.get("recipient").is_none());
    assert_eq!(
        follow_up["message"]["body"],
        "客户手机 138****1234 仍收不到验证码"
    );

    drained(&s).await;
    // Mail goes to the handlers' address for the new ticket and the follow-up; the submitter
    // has no address here, so the reply and the resolve send no mail.
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(
        mails[1].text().contains("提交人追问"),
        "{}",
        mails[1].text()
    );
    let hooks: Vec<&str> = http
        .bodies("/hook")
        .iter()
        .filter_map(|v| v["event"].as_str().map(str::to_string))
        .map(|e| match e.as_str() {
            "ticket.created" => "created",
            "ticket.replied" => "replied",
            "ticket.resolved" => "resolved",
            "ticket.follow_up" => "follow_up",
            _ => "other",
        })
        .collect();
    let mut sorted = hooks.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["created", "follow_up", "replied", "resolved"]);
    assert_eq!(http.bodies("/wecom").len(), 4);
    assert!(metric(&s, "opsdesk_notification_failures_total").await >= 1);
    assert_eq!(
        metric(&s, "opsdesk_notifications{state=\"failed\"}").await,
        0
    );

    // Nothing left the server unmasked, on any channel.
    for mail in &mails {
        assert_masked("a mail", &mail.raw);
        assert_masked("a mail", &mail.text());
    }
    for (path, body) in http.hooks.received.lock().expect("received").iter() {
        assert_masked(path, &body.to_string());
    }
    s.stop().await;
}

#[tokio::test]
async fn a_dead_webhook_blocks_nothing_and_gets_everything_after_a_restart() {
    let port = free_port();
    let config = format!(
        r#"
        [notify]
        timeout = "2s"
        retry_base = "1s"
        retry_max = "2s"
        [[notify.webhooks]]
        url = "http://127.0.0.1:{port}/hook"
        "#
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let s = TestServer::start_in(dir.path(), settings(&config)).await;

    // Nothing listens on the port: submissions are answered all the same.
    let first = s.new_ticket("行情刷新延迟三秒以上").await;
    let second = s.new_ticket("银证转账提示通道繁忙").await;
    eventually("a failed attempt and its retry", async || {
        (metric(&s, "opsdesk_notification_failures_total").await >= 3).then_some(())
    })
    .await;
    assert_eq!(
        metric(&s, "opsdesk_notifications{state=\"retrying\"}").await,
        2
    );
    s.stop().await;
    let conn = rusqlite::Connection::open(dir.path().join(opsdesk::store::DB_FILE))
        .expect("open the store");
    for r in opsdesk::store::notifications::all(&conn).expect("rows") {
        let error = r.last_error.clone().unwrap_or_default();
        assert!(!error.is_empty() && r.sent_at.is_none(), "{r:?}");
        // Errors are kept without the endpoint's URL (a WeCom URL carries its key).
        assert!(!error.contains("/hook"), "{error}");
    }
    drop(conn);

    // The receiver comes up; the restarted server delivers what the first one could not.
    let http = HttpReceiver::start_on(port, 0).await;
    let s = TestServer::start_in(dir.path(), settings(&config)).await;
    for t in [&first, &second] {
        let id = t["id"].as_i64().expect("id");
        let body = eventually("the delivery after the restart", async || {
            http.events("ticket.created", id).pop()
        })
        .await;
        assert_masked("a webhook", &body.to_string());
    }
    drained(&s).await;
    assert_eq!(http.bodies("/hook").len(), 2, "each delivered once");
    assert_eq!(
        metric(&s, "opsdesk_notifications{state=\"failed\"}").await,
        0
    );
    s.stop().await;
}

#[tokio::test]
async fn a_silent_endpoint_times_out_and_is_retried() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let config = format!(
        r#"
        [notify]
        timeout = "1s"
        retry_base = "1s"
        retry_max = "1s"
        [[notify.webhooks]]
        url = "http://127.0.0.1:{port}/hook"
        "#
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let s = TestServer::start_in(dir.path(), settings(&config)).await;
    for i in 0..3 {
        s.new_ticket(&format!("委托查询页面空白第{i}次")).await;
    }
    eventually("timeouts counted as failures", async || {
        (metric(&s, "opsdesk_notification_failures_total").await >= 6).then_some(())
    })
    .await;
    s.stop().await;
    held.abort();

    let conn = rusqlite::Connection::open(dir.path().join(opsdesk::store::DB_FILE))
        .expect("open the store");
    let rows = opsdesk::store::notifications::all(&conn).expect("rows");
    assert_eq!(rows.len(), 3);
    for r in rows {
        assert!(r.sent_at.is_none() && r.next_attempt_at.is_some(), "{r:?}");
        assert!(r.attempts >= 1, "{r:?}");
        let error = r.last_error.unwrap_or_default();
        assert!(error.contains("no answer within"), "{error}");
    }
}

#[tokio::test]
async fn nothing_is_queued_without_a_channel() {
    let s = TestServer::start().await;
    let t = s
        .submitter()
        .post(s.url("/api/v1/tickets"))
        .json(&good_ticket("客户登录提示密码错误"))
        .send()
        .await
        .expect("post");
    assert_eq!(t.status(), 201);
    for state in ["pending", "retrying", "failed"] {
        let series = format!("opsdesk_notifications{{state=\"{state}\"}}");
        assert_eq!(metric(&s, &series).await, 0, "{state}");
    }
    let dir = s.dir.clone();
    let _tmp = s.stop().await;
    let conn =
        rusqlite::Connection::open(dir.join(opsdesk::store::DB_FILE)).expect("open the store");
    assert!(
        opsdesk::store::notifications::all(&conn)
            .expect("rows")
            .is_empty()
    );
}

#[tokio::test]
async fn mss_page_events_reach_mail_and_webhook_masked() {
    use common::mss::{MssClient, good_fields, text, user_with_password};
    let smtp = SmtpReceiver::start().await;
    let http = HttpReceiver::start_on(0, 0).await;
    let config = format!(
        r#"
        [notify.smtp]
        host = "127.0.0.1"
        port = {}
        tls = "none"
        from = "opsdesk@example.com"
        to = ["oncall@example.com"]
        [notify.wecom]
        url = "{}"
        [[notify.webhooks]]
        url = "{}"
        "#,
        smtp.port,
        http.url("/wecom"),
        http.url("/hook"),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let s = TestServer::start_in(dir.path(), settings(&config)).await;
    user_with_password(&s, "cm_page", opsdesk::domain::people::Role::Submitter).await;
    s.store
        .write(|ctx| {
            opsdesk::store::users::set_email(ctx.conn, "cm_page", Some("cm_page@broker.example"))?;
            opsdesk::store::users::set_wecom(ctx.conn, "cm_page", Some("page.zhang"))
        })
        .await
        .expect("an address and a WeCom id");
    let mut c = MssClient::logged_in(&s, "cm_page").await;
    let secrets = ["310001234567", "13812345678"];
    let masked = |what: &str, v: &str| {
        for secret in secrets {
            assert!(!v.contains(secret), "{what} carries {secret}: {v}");
        }
    };

    // Submitted from the page: the handlers hear of it.
    let form = c.get("/mss/new").await;
    let started = std::time::Instant::now();
    let r = c
        .post_multipart(
            "/mss/new",
            &good_fields(&form.csrf(), &form.hidden("form_id")),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id: i64 = r.location().unwrap()["/mss/tickets/".len()..]
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let created = eventually("ticket.created", async || {
        http.events("ticket.created", id).pop()
    })
    .await;
    eprintln!("page submit → webhook: {:?}", started.elapsed());
    assert_eq!(created["ticket"]["title"], "客户委托买入提示资金不足");
    assert_eq!(created["ticket"]["customer"]["account"], "3100****4567");
    masked("the created webhook", &created.to_string());
    let mail = eventually("the new-ticket mail", async || smtp.mails().pop()).await;
    masked("the created mail", &mail.text());

    // A handler's reply tells the submitter; the submitter's answer from the page tells the
    // handlers; the resolve tells the submitter.
    let h = s.handler();
    h.post(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .json(&json!({"body": "请提供委托编号"}))
        .send()
        .await
        .unwrap();
    let replied = eventually("ticket.replied", async || {
        http.events("ticket.replied", id).pop()
    })
    .await;
    assert_eq!(replied["audience"], "submitter");
    let robot = eventually("the robot's reply message", async || {
        http.bodies("/wecom").into_iter().find(|b| {
            b["markdown"]["content"]
                .as_str()
                .is_some_and(|c| c.contains("处理人回复"))
        })
    })
    .await;
    let content = robot["markdown"]["content"].as_str().unwrap();
    assert!(
        content.contains("<@page.zhang>"),
        "the submitter is mentioned: {content}"
    );
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    let r = c
        .post_multipart(
            &format!("/mss/tickets/{id}/reply"),
            &[
                text("csrf_token", page.csrf()),
                text("form_id", page.hidden("form_id")),
                text("body", "委托编号 A123，账号 310001234567"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let follow = eventually("ticket.follow_up", async || {
        http.events("ticket.follow_up", id).pop()
    })
    .await;
    assert_eq!(follow["audience"], "handlers");
    masked("the follow-up webhook", &follow.to_string());
    h.post(s.url(&format!("/api/v1/tickets/{id}/transitions")))
        .json(&json!({"to": "triaging"}))
        .send()
        .await
        .unwrap();
    let r = h
        .post(s.url(&format!("/api/v1/tickets/{id}/transitions")))
        .json(&json!({"to": "resolved", "resolution": "清算数据已修正"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let resolved = eventually("ticket.resolved", async || {
        http.events("ticket.resolved", id).pop()
    })
    .await;
    assert_eq!(resolved["audience"], "submitter");
    drained(&s).await;
    let mails = smtp.mails();
    for m in &mails {
        masked("a mail", &m.text());
    }
    // The handlers got the new ticket and the follow-up; the submitter the reply and the
    // resolve, at their own address, with a link to the page.
    let to_submitter: Vec<&Mail> = mails
        .iter()
        .filter(|m| m.rcpt == ["TO:<cm_page@broker.example>"])
        .collect();
    assert_eq!(to_submitter.len(), 2, "{mails:?}");
    assert!(to_submitter[0].text().contains("请提供委托编号"));
    assert!(to_submitter[1].text().contains("清算数据已修正"));
    let to_handlers = mails
        .iter()
        .filter(|m| m.rcpt == ["TO:<oncall@example.com>"])
        .count();
    assert_eq!(to_handlers, 2, "{mails:?}");

    // "还是不行" on the resolved ticket reopens it and tells the handlers like any follow-up.
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    let r = c
        .post_multipart(
            &format!("/mss/tickets/{id}/reply"),
            &[
                text("csrf_token", page.csrf()),
                text("form_id", page.hidden("form_id")),
                text("body", "还是不行，客户说资金还是冻结"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let again = eventually("the follow-up on the resolved ticket", async || {
        http.events("ticket.follow_up", id)
            .into_iter()
            .find(|e| e["message"]["body"] == "还是不行，客户说资金还是冻结")
    })
    .await;
    assert_eq!(again["ticket"]["status"], "triaging");
}
