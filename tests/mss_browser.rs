//! The MSS pages in real headless Chromium at a 360×740 phone viewport: log in, submit with a
//! screenshot (after being refused for a one-line report), see it listed, get a handler's
//! reply, answer it; the half-written form survives leaving the page. Screenshots of the key
//! pages are saved as test artifacts (`target/test-artifacts/mss-*.png`).
//! Skipped with a note where Chromium is missing, unless `CI=true`.

mod common;

use common::TestServer;
use common::browser::Browser;
use common::mss::{PASSWORD, png, user_with_password};
use opsdesk::domain::people::Role;
use serde_json::{Value, json};

/// Nothing on the page is wider than the phone.
async fn fits_the_phone(b: &Browser, page: &str) {
    let fits = b
        .eval("return document.documentElement.scrollWidth <= window.innerWidth;")
        .await;
    assert_eq!(fits, Value::Bool(true), "{page} scrolls sideways at 360 px");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitter_on_a_phone_submits_follows_and_answers() {
    let Some(b) = Browser::launch().await else {
        return;
    };
    let s = TestServer::start().await;
    user_with_password(&s, "cm_phone", Role::Submitter).await;
    s.store
        .write(|ctx| {
            opsdesk::store::help::insert(
                ctx.conn,
                Some("trading"),
                "委托下单提示“可用资金不足”，但账户里明明有钱",
                "当日卖出的资金当日可用于买入但不可取出；银证转入需等银行扣款成功；未成交委托会冻结资金，撤单后释放。",
                ctx.now,
            )
        })
        .await
        .expect("a help article");
    let shot = tempfile::Builder::new()
        .suffix(".png")
        .tempfile()
        .expect("tmp");
    std::fs::write(shot.path(), png(240, 160)).expect("write png");

    // Any page asks for a login first.
    b.goto(&s.url("/mss/")).await;
    b.wait_for_text("h1", "登录").await;
    assert_eq!(b.eval("return window.innerWidth;").await, json!(360));
    b.screenshot("mss-login").await;
    b.fill("#username", "cm_phone").await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/mss/login'] button").await;
    b.wait_for_text("h1", "我的事件").await;
    let session = b.cookie("opsdesk_mss").await.expect("session cookie");
    assert_eq!(session.http_only(), Some(true));
    b.screenshot("mss-list-empty").await;

    // A one-line report is refused with what handlers need; the values stay.
    b.click("a.button.primary").await;
    b.wait_for_text("h1", "提交事件").await;
    b.fill("#customer_name", "张三").await;
    b.fill("#customer_account", "310001234567").await;
    b.fill("#customer_phone", "13812345678").await;
    b.find("#system")
        .await
        .select_by_value("trading")
        .await
        .expect("select system");
    b.fill("#title", "客户委托买入提示资金不足").await;
    b.fill("#description", "股票交易不了").await;
    b.upload("#screenshots", shot.path()).await;
    b.find("#new-ticket .thumbs img").await; // previewed before it is sent
    b.click("#new-ticket button[type=submit]").await;
    let refusal = b.wait_for_text("div.error", "还不能提交").await;
    assert!(
        refusal.contains("客户账号、发生时间、屏幕上的原始提示"),
        "{refusal}"
    );
    assert_eq!(b.value("#title").await, "客户委托买入提示资金不足");
    b.wait_for_text("label.staged", "已上传").await;
    fits_the_phone(&b, "the refused form").await;
    b.screenshot("mss-new-refused").await;

    // Describing the problem properly brings a help article, which opens in place.
    b.fill(
        "#description",
        "客户 310001234567 今天 10:32 在 APP 下单买入 600000 时提示可用资金不足，账户可用资金 5 万元，已重新登录仍然不行。",
    )
    .await;
    b.wait_for_text("#suggestions", "可用资金不足").await;
    b.click("#suggestions summary").await;
    b.wait_for_text("#suggestions details", "撤单后释放").await;
    b.eval(
        "document.querySelector('#suggestions').scrollIntoView({block: 'center'}); return true;",
    )
    .await;
    b.screenshot("mss-new-suggestions").await;
    b.click("#new-ticket button[type=submit]").await;
    b.wait_for_text(".notice", "事件已提交").await;
    let url = b.current_url().await;
    let id: i64 = url
        .split("/mss/tickets/")
        .nth(1)
        .and_then(|r| r.split('?').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not on a ticket page: {url}"));
    b.find(".thumbs img").await;
    fits_the_phone(&b, "the ticket").await;
    b.screenshot("mss-ticket-submitted").await;

    let t: Value = s
        .handler()
        .get(s.url(&format!("/api/v1/tickets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["channel"], "mss");
    assert_eq!(t["attachments"].as_array().map(Vec::len), Some(1));

    // A handler answers; the list badges it; the ticket shows it.
    let r = s
        .handler()
        .post(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .json(&json!({"body": "请提供委托编号，我们查一下清算数据"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // The open page notices (it polls while in view; here the check is prompted at once).
    b.eval("document.dispatchEvent(new Event('visibilitychange')); return true;")
        .await;
    b.wait_for_text("#changed", "处理人有新的进展").await;
    b.goto(&s.url("/mss/")).await;
    b.wait_for_text(".tickets", "客户委托买入提示资金不足")
        .await;
    b.wait_for_text(".badge", "1 条新回复").await;
    fits_the_phone(&b, "the list").await;
    b.screenshot("mss-list").await;
    b.click(".tickets a.cover").await;
    b.wait_for_text(".conversation", "请提供委托编号").await;

    // The submitter answers, with a picture.
    b.fill("#body", "委托编号 A123，截图见附件").await;
    b.upload("#reply input[type=file]", shot.path()).await;
    b.click("#reply button[type=submit]").await;
    b.wait_for_text(".notice", "已发送").await;
    b.wait_for_text(".conversation", "委托编号 A123").await;
    b.eval("document.querySelector('#reply').scrollIntoView({block: 'end'}); return true;")
        .await;
    b.screenshot("mss-ticket-conversation").await;
    let messages: Value = s
        .handler()
        .get(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        messages
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["author"] == "cm_phone" && m["body"] == "委托编号 A123，截图见附件")
    );

    // A half-written form survives leaving the page (a dropped connection, a closed tab).
    b.goto(&s.url("/mss/new")).await;
    b.fill("#title", "草稿：客户转账失败").await;
    b.goto(&s.url("/mss/")).await;
    b.wait_for_text("h1", "我的事件").await;
    b.goto(&s.url("/mss/new")).await;
    b.wait_for_text("main", "已恢复上次未提交的内容").await;
    assert_eq!(b.value("#title").await, "草稿：客户转账失败");

    assert_eq!(b.external_requests(&s.base).await, Vec::<String>::new());
    b.quit().await;
}
