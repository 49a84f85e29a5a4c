//! The real workstation in a real terminal (tmux at 80×24) against a real server on loopback:
//! a ticket posted through the API appears without a key press; the handler opens it, takes
//! it, replies and transfers it from the keyboard, and the API sees each change; a ticket
//! carrying terminal escape sequences is shown inert.
//!
//! Needs tmux. Outside CI the test is skipped (with a note) where tmux is missing; with
//! `CI=true` a missing tmux fails it.

mod common;

use std::process::Command;
use std::time::Duration;

use common::tmux::{Tmux, WAIT, tmux_available};
use common::{TestServer, good_ticket};
use serde_json::{Value, json};

/// A server on an address of its own (to be stopped and started again there) and a handler's
/// token that outlives it: its data dir, the address, the token and the server.
async fn restartable_server() -> (tempfile::TempDir, String, String, TestServer) {
    let data = tempfile::tempdir().unwrap();
    let token = tokio::task::spawn_blocking({
        let dir = data.path().to_path_buf();
        move || common::lasting_handler_token(&dir)
    })
    .await
    .unwrap();
    let addr = format!("127.0.0.1:{}", common::free_port());
    let s = TestServer::start_on(data.path(), opsdesk::config::Settings::default(), &addr).await;
    (data, addr, token, s)
}

/// A ticket's conversation as the server has it.
async fn messages(s: &TestServer, id: i64) -> Value {
    s.handler()
        .get(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn ticket(s: &TestServer, id: i64) -> Value {
    s.handler()
        .get(s.url(&format!("/api/v1/tickets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_handler_works_a_new_ticket_from_the_keyboard() {
    if !tmux_available() {
        return;
    }
    let s = TestServer::start().await;
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::workstation(&s.base, &s.handler_token, home.path());
    tmux.wait_for("在线 live").await;

    // A submission appears live, without a key press.
    let created = s.new_ticket("港股通权限开通失败").await;
    let id = created["id"].as_i64().unwrap();
    tmux.wait_for("港股通权限开通失败").await;

    // Open it, take it, reply, and transfer it to dev with a hand-off.
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("#{id}")).await;
    tmux.keys(&["t"]);
    tmux.wait_for("处理中").await;
    tmux.keys(&["r"]);
    tmux.wait_for("回复提交人").await;
    tmux.literal("请客户重新做一次风险测评");
    tmux.keys(&["C-d"]);
    tmux.wait_for("请客户重新做一次风险测评").await;
    tmux.keys(&["x"]);
    tmux.wait_for("转交给").await;
    tmux.keys(&["Down", "Enter"]);
    tmux.wait_for("疑似组件").await;
    tmux.literal("测评服务返回过期标记");
    tmux.keys(&["C-d"]);
    tmux.wait_for("已转交").await;

    let t = ticket(&s, id).await;
    assert_eq!(t["status"], "transferred");
    assert_eq!(t["transfer_to"], "dev");
    assert_eq!(t["assignee"], "h_test");
    assert!(
        t["transfer_note"]
            .as_str()
            .unwrap()
            .contains("测评服务返回过期标记")
    );
    let conversation = messages(&s, id).await;
    assert_eq!(conversation[0]["body"], "请客户重新做一次风险测评");

    // The submitter's screenshot can be looked at in the terminal.
    let mut png = Vec::new();
    image::RgbImage::from_fn(120, 80, |x, _| image::Rgb([(x * 2) as u8, 80, 200]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let up = s
        .submitter()
        .post(s.url(&format!(
            "/api/v1/tickets/{id}/attachments?filename=截图.png"
        )))
        .body(png)
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), 201);
    tmux.wait_for("附件").await;
    tmux.keys(&["A"]);
    tmux.wait_for("截图.png").await;
    tmux.keys(&["Enter"]);
    tmux.wait_for("▀").await;
    tmux.keys(&["Escape"]);
    // The next key only once the picture is gone: sent at once, a terminal may read the
    // escape and the key as one alt-chord.
    tmux.wait_gone("▀").await;

    // A state-machine refusal is shown plainly, and changes nothing.
    tmux.keys(&["C"]);
    tmux.wait_for("不能改为").await;
    assert_eq!(ticket(&s, id).await["status"], "transferred");

    tmux.keys(&["q"]);
}

#[tokio::test]
async fn escape_sequences_in_a_ticket_do_nothing() {
    if !tmux_available() {
        return;
    }
    let s = TestServer::start().await;
    let mut hostile = good_ticket("报错\u{1b}]0;pwned\u{7}原文");
    hostile["description"] = json!(format!(
        "{}\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[6n\u{1b}[2J\u{1b}[31m红色\u{1b}[0m 结尾",
        hostile["description"].as_str().unwrap()
    ));
    let r = s
        .submitter()
        .post(s.url("/api/v1/tickets"))
        .json(&hostile)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::workstation(&s.base, &s.handler_token, home.path());
    tmux.wait_for("报错原文").await;
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("结尾").await;
    // The pane's own styling comes back as SGR sequences from capture-pane -e; the ticket's
    // sequences must not: no OSC at all, no title change, no red.
    assert!(
        !screen.contains("\u{1b}]"),
        "an OSC sequence reached the terminal"
    );
    assert!(!screen.contains("pwned"));
    assert!(screen.contains("红色"));
    let title = Command::new("tmux")
        .args(["-L", &tmux.socket, "display-message", "-p", "#{pane_title}"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&title.stdout).contains("pwned"),
        "the window title changed"
    );
    tmux.keys(&["q"]);
}

#[tokio::test]
async fn offline_the_handler_keeps_reading_and_writes_wait_until_the_server_returns() {
    if !tmux_available() {
        return;
    }
    let (data, addr, token, s) = restartable_server().await;
    let id = s.new_ticket("理财赎回迟迟未到账").await["id"]
        .as_i64()
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::workstation(&s.base, &token, home.path());
    tmux.wait_for("理财赎回迟迟未到账").await;
    tmux.keys(&["Enter"]);
    tmux.wait_for("对话").await;

    // The server goes away: the ticket stays readable and a reply waits in the outbox.
    s.stop().await;
    tmux.wait_for("重连").await;
    tmux.keys(&["r"]);
    tmux.wait_for("回复提交人").await;
    tmux.literal("T+1 到账，请客户明天上午再查看");
    tmux.keys(&["C-d"]);
    tmux.wait_for("待发 1").await;
    let screen = tmux.screen();
    assert!(
        screen.contains("理财赎回迟迟未到账"),
        "still readable offline:\n{screen}"
    );

    // Back on the same address: the outbox replays, once.
    let s = TestServer::start_on(data.path(), opsdesk::config::Settings::default(), &addr).await;
    tmux.wait_for("在线 live").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let conversation = messages(&s, id).await;
        let sent = conversation
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["body"] == "T+1 到账，请客户明天上午再查看")
            .count();
        if sent == 1 {
            break;
        }
        assert!(sent < 2, "sent twice");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queued reply never arrived:\n{}",
            tmux.screen()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tmux.keys(&["q"]);
}

#[tokio::test]
async fn a_reply_is_edited_in_the_middle_pasted_verbatim_and_kept_as_a_draft() {
    if !tmux_available() {
        return;
    }
    let s = TestServer::start().await;
    let id = s.new_ticket("条件单没有触发").await["id"].as_i64().unwrap();
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::workstation(&s.base, &s.handler_token, home.path());
    tmux.wait_for("条件单没有触发").await;

    // Outside a text box a paste presses no keys: no pane change, no quit.
    tmux.paste("310012345678 q 3");
    tmux.wait_for("粘贴只进入输入框").await;
    assert!(tmux.screen().contains("队列 Queue"));

    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("#{id}")).await;
    tmux.keys(&["r"]);
    tmux.wait_for("回复提交人").await;
    tmux.literal("您好，已处理");
    tmux.keys(&["Left", "Left"]);
    tmux.literal("为您");
    tmux.wait_for("您好，已为您处理").await;
    // The terminal's cursor stands after 为您, counted in columns (two a character).
    let (x, _, shown) = tmux.cursor();
    assert!(shown, "the cursor is shown in the editor");
    assert_eq!(x, 2 + 2 * 6, "after 您好，已为您");

    // A multi-line paste keeps its lines and its tab.
    tmux.keys(&["End", "Enter"]);
    tmux.paste("SELECT state FROM acct\n\tWHERE id = 1 LIMIT 1");
    tmux.wait_for("WHERE id = 1 LIMIT 1").await;

    // esc leaves the editor and keeps the draft; r brings it back.
    tmux.keys(&["Escape"]);
    tmux.wait_for("草稿已保留").await;
    tmux.keys(&["r"]);
    tmux.wait_for("草稿 draft").await;
    tmux.wait_for("SELECT state FROM acct").await;
    tmux.keys(&["C-d"]);
    tmux.wait_for("回复已发送").await;

    let conversation = messages(&s, id).await;
    assert_eq!(
        conversation[0]["body"],
        "您好，已为您处理\nSELECT state FROM acct\n\tWHERE id = 1 LIMIT 1"
    );
    tmux.keys(&["q"]);
}

#[tokio::test]
async fn a_closed_ticket_is_reached_by_number_or_search_and_reopened() {
    if !tmux_available() {
        return;
    }
    let s = TestServer::start().await;
    let id = s.new_ticket("上周的科创板权限问题").await["id"]
        .as_i64()
        .unwrap();
    for body in [
        json!({"to": "triaging"}),
        json!({"to": "resolved", "resolution": "已开通科创板权限"}),
        json!({"to": "closed"}),
    ] {
        let r = s
            .handler()
            .post(s.url(&format!("/api/v1/tickets/{id}/transitions")))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    s.new_ticket("今天的登录问题").await;
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::workstation(&s.base, &s.handler_token, home.path());
    tmux.wait_for("今天的登录问题").await;
    assert!(
        !tmux.screen().contains("上周的科创板权限问题"),
        "not in the open queue"
    );

    // A search of every ticket finds it, closed; esc is the open queue again.
    tmux.keys(&["F"]);
    tmux.wait_for("搜索全部工单").await;
    tmux.literal("科创板");
    tmux.keys(&["Enter"]);
    tmux.wait_for("上周的科创板权限问题").await;
    tmux.wait_for("1 found").await;
    tmux.keys(&["Escape"]);
    tmux.wait_for("1 open").await;

    // By its number, from anywhere: opened from the server, then reopened.
    tmux.keys(&["#"]);
    tmux.wait_for("打开工单").await;
    tmux.literal(&id.to_string());
    tmux.keys(&["Enter"]);
    tmux.wait_for("已开通科创板权限").await;
    tmux.wait_for("已关闭").await;
    tmux.keys(&["O"]);
    tmux.wait_for("处理中").await;
    assert_eq!(ticket(&s, id).await["status"], "triaging");

    // A number that is no ticket says so.
    tmux.keys(&["#"]);
    tmux.literal("99999");
    tmux.keys(&["Enter"]);
    tmux.wait_for("不存在").await;
    tmux.keys(&["q"]);
}

#[tokio::test]
async fn a_refused_token_is_said_in_words_and_nothing_written_is_lost() {
    if !tmux_available() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", common::free_port());
    let s = TestServer::start_on(data.path(), opsdesk::config::Settings::default(), &addr).await;
    let id = s.new_ticket("融资负债利息算错了").await["id"]
        .as_i64()
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::workstation(&s.base, &s.handler_token, home.path());
    tmux.wait_for("融资负债利息算错了").await;
    tmux.keys(&["Enter"]);
    tmux.wait_for("对话").await;

    // The server restarts and issues new tokens: the old one is refused, and the status line
    // says so in words (not "reconnecting"), soon after the server is back.
    s.stop().await;
    tmux.wait_for("重连").await;
    let s = TestServer::start_on(data.path(), opsdesk::config::Settings::default(), &addr).await;
    tmux.wait_for("令牌被拒绝").await;
    tmux.wait_for("opsdesk admin user token").await;

    // A note written now is not lost: it waits in the outbox.
    tmux.keys(&["i"]);
    tmux.wait_for("内部备注").await;
    tmux.literal("利息按日计提，客户理解有误");
    tmux.keys(&["C-d"]);
    tmux.wait_for("待发 1").await;
    let conversation = messages(&s, id).await;
    assert!(
        conversation.as_array().unwrap().is_empty(),
        "nothing went through"
    );
    tmux.keys(&["q", "q"]);
}

#[tokio::test]
async fn a_resolved_ticket_is_written_up_and_found_in_the_knowledge_base() {
    if !tmux_available() {
        return;
    }
    let s = TestServer::start().await;
    let mut new = good_ticket("开户审核提示中登接口超时");
    new["system"] = json!("account_opening");
    new["description"] = json!(
        "客户 310012345678 今天 10:05 开户审核结果提示“中登开户接口超时”，已重新提交两次仍然一样"
    );
    let created: Value = s
        .handler()
        .post(s.url("/api/v1/tickets"))
        .json(&new)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().unwrap();
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::workstation(&s.base, &s.handler_token, home.path());
    tmux.wait_for("开户审核提示中登接口超时").await;

    // Resolve it; the toast offers to write it up.
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("#{id}")).await;
    tmux.keys(&["t"]);
    tmux.wait_for("处理中").await;
    tmux.keys(&["R"]);
    tmux.wait_for("解决方案").await;
    tmux.literal("中登接口日终排队，次日 9:30 后重新查看审核结果即可");
    tmux.keys(&["C-d"]);
    tmux.wait_for("写成知识库文章").await;
    tmux.wait_for("已解决").await;

    // W opens the article, prefilled from the ticket: title, the quoted error, the resolution,
    // and no customer number.
    tmux.keys(&["W"]);
    tmux.wait_for("写成文章").await;
    // The editor's title can be drawn a frame before its text: wait for the text itself.
    let editor = tmux.wait_for("symptoms = [").await;
    assert!(
        editor.contains("symptoms = [\"中登开户接口超时\"]"),
        "{editor}"
    );
    // A title too short is refused by the server and the editor comes back saying why.
    tmux.keys(&["Down", "Down", "End"]);
    tmux.keys(&["C-u"]);
    tmux.literal("title = \"超时\"");
    tmux.keys(&["C-d"]);
    tmux.wait_for("未保存").await;
    // The reopened editor holds the text with the reason on top; the title is line 4.
    tmux.keys(&["Down", "Down", "Down", "End"]);
    tmux.keys(&["C-u"]);
    tmux.literal("title = \"开户失败：审核通过后提示中登开户接口超时\"");
    tmux.keys(&["C-d"]);
    tmux.wait_for("文章已保存").await;

    let found: Value = s
        .handler()
        .get(s.url("/api/v1/kb/articles"))
        .query(&[("ticket", id.to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 1, "{found}");
    let article = &found["articles"][0];
    assert_eq!(article["title"], "开户失败：审核通过后提示中登开户接口超时");
    assert_eq!(article["system"], "account_opening");
    assert_eq!(article["symptoms"][0], "中登开户接口超时");
    assert!(!article.to_string().contains("310012345678"), "{article}");
    let whole: Value = s
        .handler()
        .get(s.url(&format!("/api/v1/kb/articles/{}", article["id"])))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        whole["steps"].as_str().unwrap().contains("次日 9:30"),
        "{whole}"
    );

    // The ticket names the article written from it.
    tmux.wait_for("写成 written").await;

    // The KB pane finds it by initials.
    tmux.keys(&["4"]);
    tmux.keys(&["f", "x", "/"]);
    tmux.literal("zdkhjk");
    tmux.wait_for("审核通过后提示中登开户接口超时").await;
    tmux.keys(&["Escape", "q"]);
}

#[tokio::test]
async fn offline_the_knowledge_base_is_searched_in_the_local_copy() {
    if !tmux_available() {
        return;
    }
    let (_data, _addr, token, s) = restartable_server().await;
    for (title, steps) in [
        (
            "开户失败：视频见证时提示网络异常",
            "1. 请客户切换到稳定的网络后重新排队。",
        ),
        (
            "开户失败：上传身份证提示证件识别失败",
            "1. 使用身份证原件，放在纯色桌面上拍摄。",
        ),
        ("银证转账提示银行余额不足", "1. 请客户确认银行卡可用余额。"),
    ] {
        let r = s
            .handler()
            .post(s.url("/api/v1/kb/articles"))
            .json(&json!({"title": title, "system": "account_opening", "steps": steps}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::workstation(&s.base, &token, home.path());
    tmux.wait_for("在线 live").await;
    // A visit to the KB pane brings the local copy up to date.
    tmux.keys(&["4"]);
    tmux.wait_for("3 篇").await;

    s.stop().await;
    tmux.wait_for("重连").await;
    tmux.keys(&["f", "x", "/"]);
    tmux.literal("khsb");
    let screen = tmux.wait_for("离线·本地副本").await;
    assert!(
        screen.contains("开户失败：视频见证时提示网络异常"),
        "{screen}"
    );
    assert!(!screen.contains("银证转账提示银行余额不足"), "{screen}");
    // The article itself is read from the copy too.
    tmux.keys(&["Enter"]);
    tmux.wait_for("重新排队").await;
    tmux.keys(&["q"]);
}

/// A stand-in for an Elasticsearch 8 cluster on loopback: every `_search` answers with one
/// tracking event (埋点) of the customer, in Elasticsearch's own response shape.
async fn tracking_events(account: &'static str) -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/{index}/_search",
        post(move || async move {
            let at = chrono::Utc::now() - chrono::Duration::minutes(1);
            axum::Json(json!({
                "took": 3, "timed_out": false,
                "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                "hits": {
                    "total": {"value": 1, "relation": "eq"},
                    "max_score": null,
                    "hits": [{
                        "_index": "app-events-2026.12", "_id": "ev-1", "_score": null,
                        "_source": {
                            "@timestamp": at.to_rfc3339(),
                            "level": "INFO",
                            "message": format!("埋点 event=order_submit_click account={account} page=trade"),
                            "account": account,
                        },
                        "sort": [at.timestamp_millis()],
                    }],
                },
                "aggregations": {"per_minute": {"buckets": [
                    {"key_as_string": at.to_rfc3339(), "key": at.timestamp_millis(), "doc_count": 1}
                ]}},
            }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_ticket_one_key_shows_its_customers_lines_and_one_more_notes_a_line() {
    if !tmux_available() {
        return;
    }
    // The customer of `good_ticket`, in a log file and in the tracking events.
    const ACCOUNT: &str = "310012345678";
    let logs = tempfile::tempdir().unwrap();
    let at = chrono::Utc::now() - chrono::Duration::minutes(2);
    let line = json!({
        "@timestamp": at.to_rfc3339(),
        "level": "ERROR",
        "message": format!("委托失败 account={ACCOUNT} code=-150906 msg=可用资金不足"),
        "account": ACCOUNT,
        "trace_id": "t-7f3a",
    });
    std::fs::write(logs.path().join("app.log"), format!("{line}\n")).unwrap();
    let events = tracking_events(ACCOUNT).await;
    let cfg: opsdesk::lookups::config::LogsConfig = toml::from_str(&format!(
        r#"
        [[sources]]
        name = "app-files"
        kind = "files"
        paths = ["{}/app.log*"]

        [[sources]]
        name = "app-events"
        kind = "elasticsearch"
        urls = ["{events}"]
        index = "app-events-*"
        "#,
        logs.path().display()
    ))
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut settings = opsdesk::config::Settings::default();
    settings.lookups =
        opsdesk::lookups::sources::Lookups::from_config(&cfg, settings.calendar.tz(), None)
            .unwrap();
    let s = TestServer::start_in(data.path(), settings).await;
    let created = s.new_ticket("下单提示可用资金不足").await;
    let id = created["id"].as_i64().unwrap();

    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::workstation(&s.base, &s.handler_token, home.path());
    tmux.wait_for("下单提示可用资金不足").await;
    // One key: the customer's lines around the reported time, from both sources.
    tmux.keys(&["3"]);
    tmux.wait_for("委托失败").await;
    let screen = tmux.wait_for("order_submit_click").await;
    assert!(screen.contains("app-files ✓ 1"), "{screen}");
    assert!(screen.contains("app-events ✓ 1"), "{screen}");
    // The newest is the tracking event; the error is the one that matters.
    tmux.keys(&["j"]);
    tmux.keys(&["i"]);
    tmux.wait_for("记入").await;

    let deadline = tokio::time::Instant::now() + WAIT;
    let note = loop {
        let conversation = messages(&s, id).await;
        if let Some(note) = conversation
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["internal"] == true)
        {
            break note["body"].as_str().unwrap().to_string();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no note: {conversation}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        note.contains("委托失败") && note.contains("app-files"),
        "{note}"
    );
    assert!(
        !note.contains("order_submit_click"),
        "only the chosen line: {note}"
    );
    assert!(
        note.contains(&format!("opsdesk logs search --ticket {id}")),
        "{note}"
    );

    // The lookup is in the ticket's audit: who looked, for which customer, on which sources.
    let audit: Value = s
        .handler()
        .get(s.url(&format!("/api/v1/tickets/{id}/audit")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ran = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "lookup.ran")
        .expect("audited");
    assert_eq!(ran["detail"]["sources"], json!(["app-files", "app-events"]));
    tmux.keys(&["q"]);
}
