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
    common::mss::help_article(
        &s,
        "trading-funds",
        "trading",
        "委托下单提示“可用资金不足”，但账户里明明有钱",
        "当日卖出的资金当日可用于买入但不可取出；银证转入需等银行扣款成功；未成交委托会冻结资金，撤单后释放。",
    )
    .await;
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

/// Where `css` is on the screen: (top, bottom) in CSS pixels of the viewport.
async fn rect(b: &Browser, css: &str) -> (f64, f64) {
    let sel = serde_json::to_string(css).unwrap();
    let v = b
        .eval(&format!(
            "const r = document.querySelector({sel}).getBoundingClientRect(); return [r.top, r.bottom];"
        ))
        .await;
    (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
}

/// Whether all of `css` is on the screen now.
async fn on_screen(b: &Browser, css: &str) -> bool {
    let (top, bottom) = rect(b, css).await;
    let height = b.eval("return window.innerHeight;").await.as_f64().unwrap();
    top >= 0.0 && bottom <= height
}

async fn log_in(b: &Browser, s: &TestServer, name: &str) {
    b.goto(&s.url("/mss/login")).await;
    b.fill("#username", name).await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/mss/login'] button").await;
    b.wait_for_text("h1", "我的事件").await;
}

/// The ticket id of the page the browser is on.
async fn ticket_here(b: &Browser) -> i64 {
    let url = b.current_url().await;
    url.split("/mss/tickets/")
        .nth(1)
        .and_then(|r| r.split('?').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not on a ticket page: {url}"))
}

async fn fill_form(b: &Browser, account: &str, phone: &str, title: &str, description: &str) {
    b.fill("#customer_name", "李四").await;
    b.fill("#customer_account", account).await;
    b.fill("#customer_phone", phone).await;
    b.find("#system")
        .await
        .select_by_value("trading")
        .await
        .expect("select system");
    b.fill("#title", title).await;
    b.fill("#description", description).await;
}

const DESCRIPTION: &str = "客户今天 9:45 在 APP 撤单，提示“委托不存在”，但委托列表里还能看到这笔委托，重新登录后仍然一样。";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_phone_shows_is_where_the_eye_is() {
    let Some(b) = Browser::launch().await else {
        return;
    };
    let s = TestServer::start().await;
    user_with_password(&s, "cm_eye", Role::Submitter).await;
    let dir = tempfile::tempdir().expect("tmp");
    let shot = dir.path().join("cancel-order.png");
    std::fs::write(&shot, png(240, 160)).expect("write png");
    log_in(&b, &s, "cm_eye").await;

    // The refusal asks for what the form has fields for; numbers typed with spaces and dashes
    // are taken.
    b.goto(&s.url("/mss/new")).await;
    fill_form(&b, "", "", "客户撤单提示委托不存在", DESCRIPTION).await;
    b.fill("#customer_name", "").await;
    b.click("#new-ticket button[type=submit]").await;
    let refusal = b.wait_for_text("div.error", "还不能提交").await;
    assert!(refusal.contains("资金账号或手机号"), "{refusal}");
    assert!(
        !refusal.contains("身份证"),
        "the form has no ID number field: {refusal}"
    );
    b.fill("#customer_account", "3100 2233 4455").await;
    b.fill("#customer_phone", "139-1234-5678").await;
    b.click("#new-ticket button[type=submit]").await;
    b.wait_for_text(".notice", "事件已提交").await;
    let first = ticket_here(&b).await;

    // The same customer again (typed another way): the choice stands by the warning, on the
    // first screen.
    b.goto(&s.url("/mss/new")).await;
    fill_form(&b, "3100-2233-4455", "", "客户撤单还是失败", DESCRIPTION).await;
    b.click("#new-ticket button[type=submit]").await;
    b.wait_for_text(".duplicate h2", "已有处理中的事件").await;
    b.eval("window.scrollTo(0, 0); return true;").await;
    let add = format!(".duplicate button[name=add_to][value='{first}']");
    assert!(on_screen(&b, ".duplicate h2").await);
    assert!(
        on_screen(&b, &add).await,
        "the choice is on the first screen"
    );
    let (warning, _) = rect(&b, ".duplicate h2").await;
    let (button, _) = rect(&b, &add).await;
    assert!(button - warning < 400.0, "{warning} → {button}");
    fits_the_phone(&b, "the repeat hint").await;
    b.screenshot("mss-new-repeat").await;
    b.click(&add).await;
    b.wait_for_text(".notice", "已把新情况补充到这个事件").await;
    assert_eq!(ticket_here(&b).await, first);

    // A long conversation: the news of a handler's answer is seen at the bottom too.
    for i in 1..=12 {
        let r = s
            .handler()
            .post(s.url(&format!("/api/v1/tickets/{first}/messages")))
            .json(&json!({"body": format!("第 {i} 次排查：已核对委托流水、柜台日志和撤单队列，暂未发现异常，继续跟进。")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    b.goto(&s.url(&format!("/mss/tickets/{first}"))).await;
    b.wait_for_text(".conversation", "第 12 次排查").await;
    b.eval("window.scrollTo(0, document.body.scrollHeight); return true;")
        .await;
    assert!(
        b.eval("return window.scrollY;").await.as_f64().unwrap() > 1000.0,
        "a long page"
    );
    s.handler()
        .post(s.url(&format!("/api/v1/tickets/{first}/messages")))
        .json(&json!({"body": "找到原因了，请看处理结果"}))
        .send()
        .await
        .unwrap();
    b.eval("document.dispatchEvent(new Event('visibilitychange')); return true;")
        .await;
    b.wait_for_text("#changed", "处理人有新的进展").await;
    assert!(
        on_screen(&b, "#changed").await,
        "the news is where the reader is"
    );
    assert_eq!(
        b.eval("return document.getElementById('changed').getAttribute('role');")
            .await,
        json!("status")
    );
    b.screenshot("mss-ticket-changed").await;
    b.click("#changed .dismiss").await;
    assert_eq!(
        b.eval("return document.getElementById('changed').hidden;")
            .await,
        json!(true)
    );

    // Answered: the answer first, then the question about it, close together.
    for to in [
        json!({"to": "triaging"}),
        json!({"to": "resolved", "resolution": "柜台撤单队列积压已清理，客户重新撤单即可。"}),
    ] {
        s.handler()
            .post(s.url(&format!("/api/v1/tickets/{first}/transitions")))
            .json(&to)
            .send()
            .await
            .unwrap();
    }
    b.goto(&s.url(&format!("/mss/tickets/{first}"))).await;
    b.wait_for_text("#answer .resolution", "撤单队列积压已清理")
        .await;
    let (answer, _) = rect(&b, "#answer .resolution").await;
    let (question, _) = rect(&b, "#question").await;
    assert!(
        answer < question && question - answer < 300.0,
        "{answer} → {question}"
    );
    b.eval("document.getElementById('answer').scrollIntoView(); return true;")
        .await;
    fits_the_phone(&b, "the answer").await;
    b.screenshot("mss-ticket-answered").await;
    // Solved, with a word of thanks; closed, the page offers a new ticket taking it up.
    b.fill("#reason", "谢谢，客户已经撤单成功").await;
    b.click("#answer button.primary").await;
    b.wait_for_text(".notice", "感谢确认").await;
    b.wait_for_text(".facts", "您已确认问题解决").await;
    b.eval("document.getElementById('follow-up').scrollIntoView({block: 'center'}); return true;")
        .await;
    fits_the_phone(&b, "the closed ticket").await;
    b.screenshot("mss-ticket-closed").await;
    b.click("#follow-up a").await;
    b.wait_for_text(".notice", &format!("接续事件 #{first}"))
        .await;
    assert_eq!(b.value("#title").await, "接续 #1：客户撤单提示委托不存在");
    b.screenshot("mss-new-follow-up").await;
    b.eval("localStorage.clear(); return true;").await;

    // A draft keeps the pictures the server holds and names the others to add again.
    b.goto(&s.url("/mss/new")).await;
    fill_form(
        &b,
        "320011112222",
        "",
        "客户转账提示银行系统繁忙",
        "转账失败",
    )
    .await;
    b.upload("#screenshots", &shot).await;
    b.find("#new-ticket .thumbs img").await;
    b.goto(&s.url("/mss/")).await;
    b.wait_for_text("h1", "我的事件").await;
    b.goto(&s.url("/mss/new")).await;
    let restored = b.wait_for_text("main", "已恢复上次未提交的内容").await;
    assert!(restored.contains("图片需要重新添加"), "{restored}");
    let picture = "cancel-order.png";
    b.wait_for_text("#new-ticket", &format!("请重新添加：{picture}"))
        .await;
    // Sent and refused (a one-line description): the picture is kept by the server; the draft
    // holds on to it across leaving the page, even left at once.
    b.upload("#screenshots", &shot).await;
    b.click("#new-ticket button[type=submit]").await;
    b.wait_for_text("label.staged", "已上传").await;
    b.goto(&s.url("/mss/")).await;
    b.wait_for_text("h1", "我的事件").await;
    b.goto(&s.url("/mss/new")).await;
    b.wait_for_text("main", "已恢复上次未提交的内容").await;
    b.wait_for_text("label.staged", &format!("已上传：{picture}"))
        .await;
    assert_eq!(
        b.eval("return document.querySelector('input[name=staged]').checked;")
            .await,
        json!(true)
    );
    b.fill(
        "#description",
        "客户 11:20 从证券转银行 2 万元，提示“银行系统繁忙，请稍后再试”，换了时间段还是一样。",
    )
    .await;
    b.click("#new-ticket button[type=submit]").await;
    b.wait_for_text(".notice", "事件已提交").await;
    let id = ticket_here(&b).await;
    let t: Value = s
        .handler()
        .get(s.url(&format!("/api/v1/tickets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["attachments"].as_array().map(Vec::len), Some(1), "{t}");
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_help_center_on_a_phone_finds_answers_and_leads_to_the_form() {
    let Some(b) = Browser::launch().await else {
        return;
    };
    let s = TestServer::start_demo().await;
    user_with_password(&s, "cm_help", Role::Submitter).await;
    log_in(&b, &s, "cm_help").await;

    // The short address and the bar's link both lead to the help center's home.
    b.goto(&s.url("/help/")).await;
    b.wait_for_text("h1", "帮助中心").await;
    assert!(b.text("main").await.contains("热门问题"));
    fits_the_phone(&b, "help home").await;
    b.screenshot("help-home").await;

    // Searching as a submitter types it: initials of 开户失败.
    b.fill("#q", "khsb").await;
    b.click("form.search button").await;
    b.wait_for_text("h1", "搜索结果").await;
    let first = b.text("ol.articles li a").await;
    assert!(first.starts_with("开户失败"), "{first}");
    assert_eq!(b.text("ol.articles li a mark").await, "开户失败");
    fits_the_phone(&b, "help results").await;
    b.screenshot("help-results").await;

    // The article, and "did this help?" answered no: the form is one tap away.
    b.click("ol.articles li a").await;
    b.wait_for_text("h2", "常见现象").await;
    assert!(b.text("main").await.contains("处理步骤"));
    fits_the_phone(&b, "help article").await;
    b.screenshot("help-article").await;
    b.click("form.votes button[value=no]").await;
    b.wait_for_text("#vote", "抱歉没能解决").await;
    b.click("#vote a.button").await;
    b.wait_for_text("h1", "提交事件").await;

    // What the form suggests while the problem is typed comes from the same articles.
    b.fill("#title", "opne acount").await;
    b.fill("#description", "客户开户失败").await;
    let suggested = b.wait_for_text("#suggestions", "开户失败").await;
    assert!(suggested.contains("开户失败："), "{suggested}");
    assert_eq!(b.external_requests(&s.base).await, Vec::<String>::new());

    // A picture in an article's steps is shown on the phone, within its width.
    let picture: serde_json::Value = common::json_of(
        s.handler()
            .post(s.url("/api/v1/kb/images?filename=flow.png"))
            .body(common::mss::png(900, 300)),
    )
    .await;
    let article = common::mss::help_article(
        &s,
        "account-opening-flow",
        "account_opening",
        "开户流程图：从上传证件到视频见证",
        &format!(
            "1. 按图操作：\n\n{}\n",
            picture["markdown"].as_str().unwrap()
        ),
    )
    .await;
    b.goto(&s.url(&format!("/mss/help/{article}"))).await;
    b.wait_for_text("h2", "处理步骤").await;
    let shown = b
        .eval(
            "return (async () => { const i = document.querySelector('.article-body img'); \
             await i.decode(); return [i.naturalWidth, i.getBoundingClientRect().width, \
             document.documentElement.clientWidth]; })()",
        )
        .await;
    let [natural, width, page] = [0, 1, 2].map(|k| shown[k].as_f64().unwrap_or(0.0));
    assert_eq!(natural, 900.0, "the picture loaded: {shown}");
    assert!(width <= page, "the picture fits the phone: {shown}");
    b.screenshot("help-picture").await;
    b.quit().await;
}
