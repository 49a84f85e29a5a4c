//! The MSS pages on a real server: login and sessions, CSRF, the submission form with
//! screenshots, every bad input the pages must refuse, another submitter's ids, the
//! conversation, confirm/reopen, help suggestions and read markers.

mod common;

use std::path::Path;
use std::time::Duration;

use common::TestServer;
use common::mss::{
    MssClient, PASSWORD, Page, Part, file, good_fields, png, text, user_with_password,
};
use opsdesk::config::{Config, Settings};
use opsdesk::domain::people::Role;
use serde_json::{Value, json};

fn settings(toml: &str) -> Settings {
    let path = Path::new("test.toml");
    Config::parse(toml, path)
        .expect("parse")
        .settings(path)
        .expect("settings")
}

async fn server_with(toml: &str) -> (TestServer, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = TestServer::start_in(tmp.path(), settings(toml)).await;
    user_with_password(&s, "cm_mss", Role::Submitter).await;
    user_with_password(&s, "cm_mss2", Role::Submitter).await;
    (s, tmp)
}

async fn server() -> (TestServer, tempfile::TempDir) {
    server_with("").await
}

async fn ticket_total(s: &TestServer) -> u64 {
    let v: Value = s
        .handler()
        .get(s.url("/api/v1/tickets?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["total"].as_u64().unwrap()
}

/// Files under the attachments dir (stored images and thumbnails).
fn stored_files(s: &TestServer) -> usize {
    std::fs::read_dir(s.dir.join("attachments"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Opens the form and posts `edit(fields)`.
async fn submit(c: &mut MssClient, edit: impl FnOnce(&mut Vec<Part>)) -> Page {
    let form = c.get("/mss/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let mut parts = good_fields(&form.csrf(), &form.hidden("form_id"));
    edit(&mut parts);
    c.post_multipart("/mss/new", &parts).await
}

fn set(parts: &mut [Part], name: &str, value: &str) {
    for p in parts.iter_mut() {
        if let Part::Text(n, v) = p
            && *n == name
        {
            *v = value.to_string();
        }
    }
}

fn created_id(page: &Page) -> i64 {
    assert_eq!(page.status, 303, "expected a redirect: {}", page.body);
    let loc = page.location().expect("location");
    let rest = loc.strip_prefix("/mss/tickets/").expect("to a ticket");
    rest.split('?').next().unwrap().parse().expect("id")
}

async fn api_ticket(s: &TestServer, id: i64) -> Value {
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
async fn login_opens_a_fresh_hardened_session_and_logout_ends_it() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::new(&s);
    // A planted session id is worthless: login issues a new one.
    c.cookies.insert("opsdesk_mss".into(), "a".repeat(64));
    let r = c.login_as("cm_mss", PASSWORD).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), Some("/mss/"));
    let cookie = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("opsdesk_mss="))
        .expect("session cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/mss", "Max-Age="] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain-HTTP loopback must not mark Secure"
    );
    let first = c.cookies["opsdesk_mss"].clone();
    assert_ne!(first, "a".repeat(64));

    let list = c.get("/mss/").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("我的事件"));
    let csp = list.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(list.headers["x-content-type-options"], "nosniff");
    assert_eq!(list.headers["cache-control"], "no-store");

    // A second login is a second, different session.
    let mut other = MssClient::new(&s);
    other.login_as("cm_mss", PASSWORD).await;
    assert_ne!(other.cookies["opsdesk_mss"], first);

    // Logout without the CSRF token is refused and changes nothing.
    let r = c
        .post_form("/mss/logout", &[("csrf_token", "forged")])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(c.get("/mss/").await.status, 200);
    // With it, the session ends on the server: the old cookie no longer works.
    let csrf = list.csrf();
    let r = c.post_form("/mss/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), Some("/mss/login?out=1"));
    c.cookies.insert("opsdesk_mss".into(), first);
    let r = c.get("/mss/").await;
    assert_eq!(r.status, 303);
    assert!(r.location().unwrap().starts_with("/mss/login"));
}

#[tokio::test]
async fn login_refuses_wrong_passwords_forged_tokens_and_handlers() {
    let (s, _tmp) = server().await;
    user_with_password(&s, "h_mss", Role::Handler).await;
    let mut c = MssClient::new(&s);
    let r = c.login_as("cm_mss", "wrong").await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("用户名或密码错误"));
    assert!(r.body.contains("value=\"cm_mss\""), "the username is kept");
    assert!(!c.cookies.contains_key("opsdesk_mss"));

    let r = c.login_as("nobody", "wrong").await;
    assert_eq!(r.status, 401, "unknown users get the same answer");

    // No login-page cookie, or a token that does not match it: refused.
    let mut bare = MssClient::new(&s);
    let r = bare
        .post_form(
            "/mss/login",
            &[
                ("username", "cm_mss"),
                ("password", PASSWORD),
                ("csrf_token", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(!bare.cookies.contains_key("opsdesk_mss"));
    let page = c.get("/mss/login").await;
    let r = c
        .post_form(
            "/mss/login",
            &[
                ("username", "cm_mss"),
                ("password", PASSWORD),
                ("csrf_token", &"0".repeat(32)),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("页面已过期"));
    drop(page);

    let r = c.login_as("h_mss", PASSWORD).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("处理人"));

    // A missing field is a clear refusal, not a 500.
    let page = c.get("/mss/login").await;
    let r = c
        .post_form("/mss/login", &[("csrf_token", &page.csrf())])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("请输入用户名和密码"));
    // `next` never leads off the site.
    let page = c.get("/mss/login").await;
    let r = c
        .post_form(
            "/mss/login",
            &[
                ("username", "cm_mss"),
                ("password", PASSWORD),
                ("csrf_token", &page.csrf()),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.location(), Some("/mss/"));
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_username_with_backoff() {
    let (s, _tmp) = server_with("[mss]\nlockout_after = 3\nlockout = \"4s\"\n").await;
    let mut c = MssClient::new(&s);
    assert_eq!(c.login_as("cm_mss", "bad1").await.status, 401);
    assert_eq!(c.login_as("cm_mss", "bad2").await.status, 401);
    let r = c.login_as("cm_mss", "bad3").await;
    assert_eq!(r.status, 429);
    assert!(r.body.contains("暂时锁定"), "{}", r.body);
    // While locked even the right password is refused.
    let r = c.login_as("cm_mss", PASSWORD).await;
    assert_eq!(r.status, 429);
    assert!(!c.cookies.contains_key("opsdesk_mss"));
    // Another username is not affected.
    let mut other = MssClient::new(&s);
    assert_eq!(other.login_as("cm_mss2", PASSWORD).await.status, 303);
    tokio::time::sleep(Duration::from_millis(4200)).await;
    assert_eq!(c.login_as("cm_mss", PASSWORD).await.status, 303);
}

#[tokio::test]
async fn an_expired_session_sends_back_to_login_and_writes_nothing() {
    let (s, _tmp) = server_with("[mss]\nsession_idle = \"2s\"\n").await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let form = c.get("/mss/new").await;
    assert_eq!(form.status, 200);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let parts = good_fields(&form.csrf(), &form.hidden("form_id"));
    let r = c.post_multipart("/mss/new", &parts).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), Some("/mss/login?next=/mss/new&expired=1"));
    assert_eq!(ticket_total(&s).await, 0);
    let login = c.get(r.location().unwrap()).await;
    assert!(login.body.contains("登录已过期"));
    // The absolute limit ends even a busy session.
    let (s2, _tmp2) = server_with("[mss]\nsession_max = \"3s\"\n").await;
    let mut c2 = MssClient::logged_in(&s2, "cm_mss").await;
    assert_eq!(c2.get("/mss/").await.status, 200);
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let r = c2.get("/mss/tickets/1").await;
    assert_eq!(r.status, 303);
    assert!(r.location().unwrap().contains("expired=1"));
}

#[tokio::test]
async fn a_submission_with_a_screenshot_makes_one_ticket_however_often_it_is_sent() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let form = c.get("/mss/new").await;
    assert!(
        form.body
            .contains("<option value=\"trading\">交易</option>")
    );
    let mut parts = good_fields(&form.csrf(), &form.hidden("form_id"));
    parts.push(file(
        "screenshots",
        "屏幕截图.png",
        "image/png",
        png(64, 48),
    ));
    let first = c.post_multipart("/mss/new", &parts).await;
    let id = created_id(&first);
    // The same form again (a retry after a dropped connection): the same ticket.
    let again = c.post_multipart("/mss/new", &parts).await;
    assert_eq!(created_id(&again), id);
    assert_eq!(ticket_total(&s).await, 1);
    let metrics = s
        .handler()
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("opsdesk_mss_submissions_total 1"),
        "{metrics}"
    );

    let t = api_ticket(&s, id).await;
    assert_eq!(t["channel"], "mss");
    assert_eq!(t["submitter"], "cm_mss");
    assert_eq!(t["system"], "trading");
    assert_eq!(t["attachments"].as_array().unwrap().len(), 1);
    let a = &t["attachments"][0];
    assert_eq!(a["filename"], "屏幕截图.png");
    assert!(a["content_type"].as_str().unwrap().starts_with("image/"));
    // The retry's own upload did not linger: one image and its thumbnail.
    assert_eq!(stored_files(&s), 2);

    let page = c.get(first.location().unwrap()).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("事件已提交"));
    assert!(page.body.contains("客户委托买入提示资金不足"));
    assert!(page.body.contains("3100****4567"), "the account is masked");
    assert!(
        !page.body.contains("310001234567\u{3c}"),
        "no full account outside the description"
    );
    let aid = a["id"].as_i64().unwrap();
    for path in [
        format!("/mss/attachments/{aid}"),
        format!("/mss/attachments/{aid}?size=thumb"),
    ] {
        let r = c.get(&path).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("image/")
        );
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        assert!(
            r.headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("sandbox")
        );
    }

    let list = c.get("/mss/").await;
    assert!(list.body.contains(&format!("/mss/tickets/{id}")));
    assert!(list.body.contains("待受理"), "status in words");
    // Numbers typed into a title are masked in the list (the ticket itself shows them).
    let other = created_id(
        &submit(&mut c, |p| {
            set(p, "customer_account", "310007654321");
            set(p, "customer_phone", "13900007777");
            set(p, "title", "客户 310007654321 登录失败");
        })
        .await,
    );
    let list = c.get("/mss/").await;
    assert!(!list.body.contains("310007654321"), "{}", list.body);
    assert!(
        c.get(&format!("/mss/tickets/{other}"))
            .await
            .body
            .contains("客户 310007654321 登录失败")
    );
}

#[tokio::test]
async fn a_one_line_report_is_refused_with_what_handlers_need_and_keeps_the_values() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let form = c.get("/mss/new").await;
    let (csrf, form_id) = (form.csrf(), form.hidden("form_id"));
    let mut parts = good_fields(&csrf, &form_id);
    set(&mut parts, "description", "股票交易不了");
    parts.push(file("screenshots", "a.png", "image/png", png(20, 20)));
    let r = c.post_multipart("/mss/new", &parts).await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("客户账号、发生时间、屏幕上的原始提示"),
        "{}",
        r.body
    );
    assert!(r.body.contains("股票交易不了"));
    assert!(r.body.contains("value=\"客户委托买入提示资金不足\""));
    assert!(r.body.contains("已上传：a.png"), "the screenshot is kept");
    assert_eq!(ticket_total(&s).await, 0);

    // Sent again with the kept screenshot and a real description: one ticket, one image.
    let staged = {
        let needle = "name=\"staged\" value=\"";
        let start = r.body.find(needle).unwrap() + needle.len();
        let end = r.body[start..].find('"').unwrap() + start;
        r.body[start..end].to_string()
    };
    let mut parts = good_fields(&csrf, &form_id);
    parts.push(text("staged", staged.clone()));
    let id = created_id(&c.post_multipart("/mss/new", &parts).await);
    assert_eq!(
        api_ticket(&s, id).await["attachments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // A staged name can be attached once only, and only if it is a staged file at all.
    let form = c.get("/mss/new").await;
    let mut parts = good_fields(&form.csrf(), &form.hidden("form_id"));
    set(&mut parts, "customer_account", "310009999999");
    set(&mut parts, "customer_phone", "13900001111");
    parts.push(text("staged", staged));
    parts.push(text("staged", "../../opsdesk.db:x.png".to_string()));
    let r = c.post_multipart("/mss/new", &parts).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("已失效"));
}

#[tokio::test]
async fn missing_and_invalid_fields_are_all_named_and_nothing_is_written() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let form = c.get("/mss/new").await;
    let parts = vec![
        text("csrf_token", form.csrf()),
        text("form_id", form.hidden("form_id")),
    ];
    let r = c.post_multipart("/mss/new", &parts).await;
    assert_eq!(r.status, 422);
    for words in [
        "请填写标题",
        "问题描述太短",
        "请选择所属系统",
        "请至少填写客户的资金账号或手机号之一",
    ] {
        assert!(r.body.contains(words), "missing: {words}");
    }
    // The form has no ID number field, so the refusal does not ask for one.
    assert!(!r.body.contains("身份证号"), "{}", r.body);
    let r = submit(&mut c, |p| {
        set(p, "system", "nonexistent");
        set(p, "customer_phone", "12345");
        set(p, "customer_account", "abc");
        set(p, "category_hint", "gossip");
    })
    .await;
    assert_eq!(r.status, 422);
    for words in [
        "所选系统不存在",
        "手机号应为 11 位数字",
        "资金账号应为 6–20 位数字",
        "问题类型请从列表中选择",
    ] {
        assert!(r.body.contains(words), "missing: {words}");
    }
    // No form id, malformed multipart, and a body that is not multipart at all.
    let r = submit(&mut c, |p| set(p, "form_id", "")).await;
    assert_eq!(r.status, 400);
    let r = c.post_form("/mss/new", &[("title", "x")]).await;
    assert!((400..500).contains(&r.status), "{}", r.status);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(ticket_total(&s).await, 0);
    assert_eq!(stored_files(&s), 0);
}

#[tokio::test]
async fn forged_or_missing_csrf_tokens_are_refused_before_any_file_is_kept() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let form = c.get("/mss/new").await;
    let mut parts = good_fields("forged-token", &form.hidden("form_id"));
    parts.push(file("screenshots", "a.png", "image/png", png(20, 20)));
    let r = c.post_multipart("/mss/new", &parts).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("CSRF"));
    // No token at all, the file first.
    let parts = vec![
        file("screenshots", "a.png", "image/png", png(20, 20)),
        text("title", "客户委托买入提示资金不足"),
    ];
    assert_eq!(c.post_multipart("/mss/new", &parts).await.status, 403);
    // Another session's token is not this session's.
    let mut other = MssClient::logged_in(&s, "cm_mss2").await;
    let theirs = other.get("/mss/new").await.csrf();
    let parts = good_fields(&theirs, &form.hidden("form_id"));
    assert_eq!(c.post_multipart("/mss/new", &parts).await.status, 403);
    assert_eq!(ticket_total(&s).await, 0);
    assert_eq!(stored_files(&s), 0);
    // The page still works afterwards.
    let id = created_id(&submit(&mut c, |_| {}).await);
    assert!(id > 0);
}

#[tokio::test]
async fn fake_oversize_and_hostile_images_are_refused_with_a_reason() {
    let (s, _tmp) = server_with("[server]\nmax_upload_bytes = 200000\n").await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".to_vec();
    // A PNG header claiming 100000 x 100000 pixels: a decompression bomb.
    let mut bomb = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "notes.png",
            b"this is a text file, not a picture".to_vec(),
            "未保存",
        ),
        ("logo.svg", svg, "未保存"),
        ("bomb.png", bomb, "未保存"),
        ("huge.png", vec![0x89; 300_000], "超过"),
    ];
    for (name, bytes, words) in cases {
        let r = submit(&mut c, |p| {
            p.push(file("screenshots", name, "image/png", bytes))
        })
        .await;
        assert_eq!(r.status, 422, "{name}");
        assert!(
            r.body.contains(name) && r.body.contains(words),
            "{name}: {}",
            r.body
        );
        assert!(
            r.body.contains("value=\"客户委托买入提示资金不足\""),
            "{name}: values kept"
        );
    }
    assert_eq!(ticket_total(&s).await, 0);
    assert_eq!(stored_files(&s), 0);

    // More than five.
    let r = submit(&mut c, |p| {
        for i in 0..6 {
            p.push(file(
                "screenshots",
                &format!("{i}.png"),
                "image/png",
                png(8, 8),
            ));
        }
    })
    .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("最多上传 5 张"));

    // A polyglot (a real PNG with a script glued after it) is stored without the payload.
    let mut polyglot = png(16, 16);
    polyglot.extend_from_slice(b"<script>alert(document.cookie)</script>PK\x03\x04");
    let id = created_id(
        &submit(&mut c, |p| {
            p.push(file("screenshots", "poly.png", "image/png", polyglot))
        })
        .await,
    );
    let t = api_ticket(&s, id).await;
    let aid = t["attachments"][0]["id"].as_i64().unwrap();
    let bytes = s
        .handler()
        .get(s.url(&format!("/api/v1/attachments/{aid}")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        !bytes.windows(7).any(|w| w == b"<script"),
        "the payload was dropped"
    );

    // A whole body over the form's limit is refused by the server before it is read.
    let big = vec![0u8; 5 * 200_000 + 1_100_000];
    let r = submit(&mut c, |p| {
        p.push(file("screenshots", "x.png", "image/png", big))
    })
    .await;
    assert_eq!(r.status, 413);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.body.contains("上传的内容太大"));
}

#[tokio::test]
async fn script_in_every_text_field_stays_text() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let xss = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
    // Shown back in a refused form.
    let r = submit(&mut c, |p| {
        for field in [
            "customer_name",
            "customer_account",
            "customer_phone",
            "system",
            "category_hint",
            "title",
            "description",
            "viewed_articles",
        ] {
            set(p, field, xss);
        }
    })
    .await;
    assert_eq!(r.status, 422);
    assert!(!r.body.contains("<script>alert"), "{}", r.body);
    assert!(!r.body.contains("<img src=x"));
    assert!(r.body.contains("&lt;script&gt;"));
    // Stored and shown in the list and the ticket.
    let long = format!("{xss} 客户 310001234567 今天 10:32 在 APP 买入时提示资金不足");
    let id = created_id(
        &submit(&mut c, |p| {
            set(p, "customer_name", "<b>张三</b>");
            set(p, "title", &format!("{xss}标题"));
            set(p, "description", &long);
        })
        .await,
    );
    s.handler()
        .post(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .json(&json!({"body": xss}))
        .send()
        .await
        .unwrap();
    // And from the page's own reply box and the reopen reason.
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    let parts = vec![
        text("csrf_token", page.csrf()),
        text("form_id", page.hidden("form_id")),
        text("body", xss.to_string()),
    ];
    assert_eq!(
        c.post_multipart(&format!("/mss/tickets/{id}/reply"), &parts)
            .await
            .status,
        303
    );
    for path in ["/mss/".to_string(), format!("/mss/tickets/{id}")] {
        let page = c.get(&path).await;
        assert_eq!(page.status, 200);
        assert!(!page.body.contains("<script>alert"), "{path}");
        assert!(!page.body.contains("<img src=x"), "{path}");
        assert!(!page.body.contains("<b>"), "{path}");
        assert!(page.body.contains("&lt;script&gt;"), "{path}");
    }
}

#[tokio::test]
async fn another_submitters_ids_answer_404_everywhere() {
    let (s, _tmp) = server().await;
    let mut mine = MssClient::logged_in(&s, "cm_mss").await;
    let mut theirs = MssClient::logged_in(&s, "cm_mss2").await;
    let id = created_id(
        &submit(&mut mine, |p| {
            p.push(file("screenshots", "a.png", "image/png", png(10, 10)))
        })
        .await,
    );
    let aid = api_ticket(&s, id).await["attachments"][0]["id"]
        .as_i64()
        .unwrap();
    let csrf = theirs.get("/mss/").await.csrf();
    let before = s.latest_seq().await;
    for path in [
        format!("/mss/tickets/{id}"),
        format!("/mss/tickets/{id}/state"),
        format!("/mss/attachments/{aid}"),
        format!("/mss/attachments/{aid}?size=thumb"),
        "/mss/tickets/999999".to_string(),
        "/mss/tickets/abc".to_string(),
        "/mss/attachments/-1".to_string(),
        "/mss/nowhere".to_string(),
    ] {
        let r = theirs.get(&path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(r.headers.contains_key("content-security-policy"), "{path}");
        assert!(r.body.contains("找不到"), "{path}");
        assert!(!r.body.contains("客户委托买入"), "{path}");
    }
    for (path, fields) in [
        (
            format!("/mss/tickets/{id}/confirm"),
            vec![("csrf_token", csrf.as_str())],
        ),
        (
            format!("/mss/tickets/{id}/reopen"),
            vec![("csrf_token", csrf.as_str()), ("reason", "还是不行")],
        ),
    ] {
        assert_eq!(theirs.post_form(&path, &fields).await.status, 404, "{path}");
    }
    let parts = vec![text("csrf_token", csrf.clone()), text("body", "我也来补充")];
    let r = theirs
        .post_multipart(&format!("/mss/tickets/{id}/reply"), &parts)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(s.latest_seq().await, before, "nothing was written");
}

#[tokio::test]
async fn an_open_ticket_of_the_same_customer_is_pointed_out_before_saving() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let first = created_id(&submit(&mut c, |_| {}).await);

    let form = c.get("/mss/new").await;
    let (csrf, form_id) = (form.csrf(), form.hidden("form_id"));
    let mut parts = good_fields(&csrf, &form_id);
    set(&mut parts, "title", "客户撤单也失败了");
    let r = c.post_multipart("/mss/new", &parts).await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("该客户在交易已有处理中的事件"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains(&format!("name=\"add_to\" value=\"{first}\""))
    );
    assert_eq!(ticket_total(&s).await, 1);

    // Adding to the open ticket: a follow-up there, no new ticket.
    let mut add = good_fields(&csrf, &form_id);
    set(&mut add, "title", "客户撤单也失败了");
    add.push(text("add_to", first.to_string()));
    let r = c.post_multipart("/mss/new", &add).await;
    assert_eq!(
        r.location(),
        Some(format!("/mss/tickets/{first}?added=1").as_str())
    );
    assert_eq!(ticket_total(&s).await, 1);
    let messages: Value = s
        .handler()
        .get(s.url(&format!("/api/v1/tickets/{first}/messages")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        messages[0]["body"]
            .as_str()
            .unwrap()
            .starts_with("【补充】客户撤单也失败了")
    );

    // Or a new ticket after all, when the submitter says so.
    let r = submit(&mut c, |p| {
        set(p, "title", "另一个问题：客户转账失败");
        p.push(text("confirm_new", "1"));
    })
    .await;
    assert_ne!(created_id(&r), first);
    assert_eq!(ticket_total(&s).await, 2);

    // Another submitter's open ticket is mentioned without its details and cannot be added to.
    let mut other = MssClient::logged_in(&s, "cm_mss2").await;
    let r = submit(&mut other, |_| {}).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("由其他同事提交"));
    assert!(!r.body.contains("name=\"add_to\""));
    assert!(!r.body.contains("客户委托买入提示资金不足</a>"));
    let r = submit(&mut other, |p| p.push(text("add_to", first.to_string()))).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn the_conversation_badges_replies_hides_notes_and_ends_with_confirm_or_reopen() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let id = created_id(&submit(&mut c, |_| {}).await);
    let h = s.handler();
    let msg = |body: &str, internal: bool| {
        h.post(s.url(&format!("/api/v1/tickets/{id}/messages")))
            .json(&json!({"body": body, "internal": internal}))
            .send()
    };
    assert_eq!(
        msg("请提供委托截图和委托编号", false)
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(msg("内部：疑似清算延迟", true).await.unwrap().status(), 201);

    let list = c.get("/mss/").await;
    assert!(list.body.contains("1 条新回复"), "{}", list.body);
    // The page's change check moves with the conversation.
    let state_path = format!("/mss/tickets/{id}/state");
    let before = c.get(&state_path).await.body;
    assert!(before.contains("\"state\""), "{before}");
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    assert!(page.body.contains("请提供委托截图和委托编号"));
    assert!(
        !page.body.contains("疑似清算延迟"),
        "internal notes never shown"
    );
    assert!(
        !c.get("/mss/").await.body.contains("条新回复"),
        "read after viewing"
    );

    // The submitter answers with a picture.
    let parts = vec![
        text("csrf_token", page.csrf()),
        text("form_id", page.hidden("form_id")),
        text("body", "委托编号 A123，截图见附件"),
        file("screenshots", "委托.png", "image/png", png(30, 30)),
    ];
    let r = c
        .post_multipart(&format!("/mss/tickets/{id}/reply"), &parts)
        .await;
    assert_eq!(
        r.location(),
        Some(format!("/mss/tickets/{id}?replied=1").as_str())
    );
    assert_ne!(c.get(&state_path).await.body, before);
    // Sent twice (a double tap), kept once.
    c.post_multipart(&format!("/mss/tickets/{id}/reply"), &parts)
        .await;
    let messages: Value = h
        .get(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let answers: Vec<&Value> = messages
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"] == "cm_mss")
        .collect();
    assert_eq!(answers.len(), 1);
    let t = api_ticket(&s, id).await;
    assert_eq!(t["attachments"][0]["message_id"], answers[0]["id"]);
    // An empty reply is refused on the page, which still works.
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    let parts = vec![
        text("csrf_token", page.csrf()),
        text("form_id", page.hidden("form_id")),
        text("body", "  "),
    ];
    let r = c
        .post_multipart(&format!("/mss/tickets/{id}/reply"), &parts)
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("请填写要补充的内容"));

    // The handler resolves; the submitter says it is not solved; then it is, and confirms.
    let resolve = |v: &Value| json!({"to": "resolved", "resolution": "清算延迟已处理，资金已可用", "version": v["version"]});
    let t = api_ticket(&s, id).await;
    if t["status"] == "new" {
        h.post(s.url(&format!("/api/v1/tickets/{id}/transitions")))
            .json(&json!({"to": "triaging"}))
            .send()
            .await
            .unwrap();
    }
    let t = api_ticket(&s, id).await;
    let r = h
        .post(s.url(&format!("/api/v1/tickets/{id}/transitions")))
        .json(&resolve(&t))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    assert!(page.body.contains("问题已解决") && page.body.contains("仍未解决"));
    assert!(page.body.contains("清算延迟已处理"));
    let csrf = page.csrf();
    let r = c
        .post_form(
            &format!("/mss/tickets/{id}/reopen"),
            &[("csrf_token", &csrf), ("reason", "客户说还是买不了")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(api_ticket(&s, id).await["status"], "triaging");
    let t = api_ticket(&s, id).await;
    h.post(s.url(&format!("/api/v1/tickets/{id}/transitions")))
        .json(&resolve(&t))
        .send()
        .await
        .unwrap();
    // Confirm without a token: refused; with it: closed.
    let r = c
        .post_form(&format!("/mss/tickets/{id}/confirm"), &[])
        .await;
    assert_eq!(r.status, 403);
    let r = c
        .post_form(
            &format!("/mss/tickets/{id}/confirm"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(api_ticket(&s, id).await["status"], "closed");
    // The list's tabs sort it where it now belongs.
    let closed = c.get("/mss/?show=closed").await;
    assert!(closed.body.contains(&format!("/mss/tickets/{id}\"")));
    assert!(closed.body.contains("aria-current=\"page\""));
    let open = c.get("/mss/?show=open").await;
    assert!(!open.body.contains(&format!("/mss/tickets/{id}\"")));
    assert!(open.body.contains("这里没有事件"));
    assert_eq!(
        c.get("/mss/?show=%3Cscript%3E").await.status,
        200,
        "unknown tab: all"
    );
    // Confirming again is a clear refusal, not a change.
    let r = c
        .post_form(
            &format!("/mss/tickets/{id}/confirm"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status, 409);
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    for words in [
        "事件已提交",
        "处理人已答复解决方案",
        "您反馈仍未解决",
        "您已确认问题解决",
    ] {
        assert!(page.body.contains(words), "timeline lacks {words}");
    }
}

#[tokio::test]
async fn help_articles_are_suggested_and_deflections_recorded() {
    let (s, _tmp) = server().await;
    let article = common::mss::help_article(
        &s,
        "trading-funds",
        "trading",
        "委托下单提示“可用资金不足”",
        "先确认卖出是否成交。",
    )
    .await;
    // An article for handlers only is never suggested nor shown on the pages.
    let internal = common::mss::kb_article(
        &s,
        "trading-funds-internal",
        "trading",
        "资金不足排查：查柜台冻结流水",
        "查 t_fund_frozen。",
        opsdesk::domain::kb::Audience::Handlers,
    )
    .await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let form = c.get("/mss/new").await;
    let r = c
        .get(&format!(
            "/mss/help/suggest?q={}",
            common::mss::urlencode("客户下单提示资金不足")
        ))
        .await;
    assert_eq!(r.status, 200);
    let found: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(found[0]["id"], article);
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(c.get(&format!("/mss/help/{internal}")).await.status, 404);
    let csrf = form.csrf();
    let path = format!("/mss/help/{article}/outcome");
    assert_eq!(
        c.post_form(&path, &[("csrf_token", &csrf), ("outcome", "viewed")])
            .await
            .status,
        204
    );
    assert_eq!(
        c.post_form(&path, &[("csrf_token", &csrf), ("outcome", "deflected")])
            .await
            .status,
        204
    );
    assert_eq!(
        c.post_form(&path, &[("csrf_token", &csrf), ("outcome", "submitted")])
            .await
            .status,
        422
    );
    assert_eq!(
        c.post_form(&path, &[("outcome", "viewed")]).await.status,
        403
    );
    assert_eq!(
        c.post_form(
            "/mss/help/424242/outcome",
            &[("csrf_token", &csrf), ("outcome", "viewed")]
        )
        .await
        .status,
        404
    );
    // Submitting after reading counts as "submitted".
    created_id(
        &submit(&mut c, |p| {
            p.push(text("viewed_articles", article.to_string()))
        })
        .await,
    );
    let counts = s
        .store
        .read(|conn| {
            opsdesk::store::help::outcome_counts(
                conn,
                chrono::Utc::now() - chrono::Duration::hours(1),
                chrono::Utc::now() + chrono::Duration::hours(1),
            )
        })
        .await
        .unwrap();
    assert_eq!(
        counts,
        vec![
            ("deflected".to_string(), 1),
            ("submitted".to_string(), 1),
            ("viewed".to_string(), 1)
        ]
    );
    let page = c.get(&format!("/mss/help/{article}")).await;
    assert!(page.body.contains("先确认卖出是否成交"));
    // Opening it in place and on its page both count as reading it.
    let views = s
        .store
        .read(move |conn| opsdesk::store::kb::get(conn, article))
        .await
        .unwrap()
        .unwrap()
        .article
        .views;
    assert_eq!(views, 2);
    // Suggestions need a session like every page.
    let mut anon = MssClient::new(&s);
    assert_eq!(anon.get("/mss/help/suggest?q=abc").await.status, 303);
}

#[tokio::test]
async fn read_markers_through_the_api() {
    let (s, _tmp) = server().await;
    let t = s.new_ticket("客户委托买入提示资金不足").await;
    let id = t["id"].as_i64().unwrap();
    let sub = s.submitter();
    let m: Value = sub
        .post(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .json(&json!({"body": "补充：客户已重启 APP"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let h = s.handler();
    let url = s.url(&format!("/api/v1/tickets/{id}/read-marker"));
    let v: Value = h.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(v, json!({"message_id": 0, "unread": 1}));
    // The same, as the workstation reads it at start: every open ticket with unread messages.
    let unread = |c: reqwest::Client| {
        let url = s.url("/api/v1/unread");
        async move {
            c.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        unread(h.clone()).await,
        json!([{"ticket_id": id, "unread": 1}])
    );
    // A colleague's note or reply is not news for a handler; the submitter's message is.
    s.client(&s.handler2_token)
        .post(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .json(&json!({"body": "内部：已查日志", "internal": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        unread(h.clone()).await,
        json!([{"ticket_id": id, "unread": 1}])
    );
    assert_eq!(
        unread(sub.clone()).await,
        json!([]),
        "notes are never the submitter's"
    );
    let v: Value = h
        .put(&url)
        .json(&json!({"message_id": m["id"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["unread"], 0);
    assert_eq!(unread(h.clone()).await, json!([]));
    // A handler's public answer is news for the submitter.
    h.post(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .json(&json!({"body": "已处理，请客户重试"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        unread(sub.clone()).await,
        json!([{"ticket_id": id, "unread": 1}])
    );
    assert_eq!(
        unread(h.clone()).await,
        json!([]),
        "one's own reply is not unread"
    );
    // Never backwards; bad bodies refused; other submitters see nothing.
    let v: Value = h
        .put(&url)
        .json(&json!({"message_id": 0}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["message_id"], m["id"]);
    assert_eq!(
        common::error_code(
            h.put(&url)
                .json(&json!({"message_id": -1}))
                .send()
                .await
                .unwrap(),
            400
        )
        .await,
        "bad_request"
    );
    assert_eq!(
        h.put(&url)
            .json(&json!({"nope": 1}))
            .send()
            .await
            .unwrap()
            .status(),
        422
    );
    let other = s.client(&s.other_submitter_token);
    assert_eq!(other.get(&url).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn every_asset_is_served_by_opsdesk_itself() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    for path in ["/mss/login", "/mss/", "/mss/new"] {
        let page = c.get(path).await;
        for attr in ["src=\"", "href=\""] {
            for (i, _) in page.body.match_indices(attr) {
                let url = &page.body[i + attr.len()..];
                assert!(
                    url.starts_with('/') || url.starts_with('#'),
                    "{path}: external {}",
                    &url[..30.min(url.len())]
                );
            }
        }
    }
    for asset in ["/mss/static/mss.css", "/mss/static/mss.js"] {
        let r = c.get(asset).await;
        assert_eq!(r.status, 200);
        assert!(
            !r.body.contains("http://") && !r.body.contains("https://"),
            "{asset}"
        );
    }
}

/// Runs `opsdesk admin ARGS --data DIR`, feeding `stdin` when given.
fn admin(dir: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = common::binary()
        .arg("admin")
        .args(args)
        .arg("--data")
        .arg(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run opsdesk admin");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn a_submitter_made_with_the_cli_logs_in() {
    let (s, _tmp) = server().await;
    let out = admin(
        &s.dir,
        &[
            "user",
            "add",
            "cm_cli",
            "--role",
            "submitter",
            "--password-stdin",
            "--email",
            "cm_cli@broker.example",
            "--wecom",
            "cli.wang",
        ],
        Some("客户经理的密码123\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let email = s
        .store
        .read(|conn| opsdesk::store::users::email_of(conn, "cm_cli"))
        .await
        .unwrap();
    assert_eq!(email.as_deref(), Some("cm_cli@broker.example"));
    let wecom = s
        .store
        .read(|conn| opsdesk::store::users::wecom_of(conn, "cm_cli"))
        .await
        .unwrap();
    assert_eq!(wecom.as_deref(), Some("cli.wang"));
    let bad = admin(&s.dir, &["user", "wecom", "cm_cli", "a b<c"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a WeCom user id"));
    let list = admin(&s.dir, &["user", "list"], None);
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.lines().any(|l| l.starts_with("cm_cli")
            && l.contains("mail cm_cli@broker.example")
            && l.contains("wecom cli.wang")),
        "{list}"
    );
    let bad = admin(
        &s.dir,
        &[
            "user",
            "add",
            "cm_bad",
            "--role",
            "submitter",
            "--email",
            "not an address",
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not an e-mail address"));
    // Changed and cleared later; an unknown user is an error.
    let set = |args: &[&str]| admin(&s.dir, &[&["user", "email"], args].concat(), None);
    assert!(set(&["cm_cli", "wang@broker.example"]).status.success());
    assert_eq!(set(&["nobody", "x@broker.example"]).status.code(), Some(2));
    let email_now = || {
        s.store
            .read(|conn| opsdesk::store::users::email_of(conn, "cm_cli"))
    };
    assert_eq!(
        email_now().await.unwrap().as_deref(),
        Some("wang@broker.example")
    );
    assert!(set(&["cm_cli"]).status.success());
    assert_eq!(email_now().await.unwrap(), None);
    let mut c = MssClient::new(&s);
    assert_eq!(c.login_as("cm_cli", "客户经理的密码123").await.status, 303);
    assert_eq!(c.get("/mss/").await.status, 200);

    // A reset password: the old one stops working and so does the open session.
    let out = admin(
        &s.dir,
        &["user", "password", "cm_cli"],
        Some("a-new-password\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(c.get("/mss/").await.status, 303, "the session ended");
    assert_eq!(c.login_as("cm_cli", "客户经理的密码123").await.status, 401);
    assert_eq!(c.login_as("cm_cli", "a-new-password").await.status, 303);
}

#[tokio::test]
async fn abandoned_uploads_are_swept_and_attached_ones_kept() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    // One ticket with a picture (kept), one refused form whose picture is left staged.
    created_id(
        &submit(&mut c, |p| {
            p.push(file("screenshots", "kept.png", "image/png", png(12, 12)))
        })
        .await,
    );
    let r = submit(&mut c, |p| {
        set(p, "description", "太短");
        p.push(file("screenshots", "left.png", "image/png", png(12, 12)));
    })
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(stored_files(&s), 4);
    let desk =
        opsdesk::service::Desk::new(s.store.clone(), std::sync::Arc::new(Settings::default()));
    assert_eq!(
        desk.sweep_staged(Duration::from_secs(3600)).await.unwrap(),
        0,
        "young files stay"
    );
    assert_eq!(desk.sweep_staged(Duration::ZERO).await.unwrap(), 2);
    assert_eq!(stored_files(&s), 2);
    let t: Value = s
        .handler()
        .get(s.url("/api/v1/tickets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let aid = t["tickets"][0]["attachments"][0]["id"].as_i64().unwrap();
    assert_eq!(c.get(&format!("/mss/attachments/{aid}")).await.status, 200);
}

/// A picture that does not compress: noise, `width` × `height`, as PNG (about 3 bytes a pixel).
fn noise_png(width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    let img = image::RgbImage::from_fn(width, height, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgb([a, b, c])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

#[tokio::test]
async fn photos_of_several_megabytes_are_taken_from_the_page_and_the_api() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let photo = noise_png(1200, 1000);
    assert!(photo.len() > 3_000_000, "{}", photo.len());
    let id = created_id(
        &submit(&mut c, |p| {
            p.push(file(
                "screenshots",
                "IMG_0001.png",
                "image/png",
                photo.clone(),
            ));
            p.push(file(
                "screenshots",
                "IMG_0002.png",
                "image/png",
                photo.clone(),
            ));
        })
        .await,
    );
    assert_eq!(
        api_ticket(&s, id).await["attachments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let r = s
        .handler()
        .post(s.url(&format!(
            "/api/v1/tickets/{id}/attachments?filename=big.bin"
        )))
        .body(vec![7u8; 4 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn cookies_are_secure_when_opsdesk_is_served_over_tls() {
    // Behind a TLS-terminating proxy, `notify.public_url` is https: the cookies say Secure.
    let (s, _tmp) = server_with("[notify]\npublic_url = \"https://desk.example\"\n").await;
    let mut c = MssClient::new(&s);
    let page = c.get("/mss/login").await;
    assert!(
        page.set_cookies().iter().all(|c| c.contains("; Secure")),
        "{:?}",
        page.set_cookies()
    );
    let r = c.login_as("cm_mss", PASSWORD).await;
    let session = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("opsdesk_mss="))
        .unwrap();
    assert!(session.contains("; Secure"), "{session}");
    // And it can be forced either way.
    let (s, _tmp) = server_with("[mss]\nsecure_cookies = true\n").await;
    let page = MssClient::new(&s).get("/mss/login").await;
    assert!(page.set_cookies()[0].contains("; Secure"));
}

#[tokio::test]
async fn one_address_trying_many_usernames_is_made_to_wait() {
    let (s, _tmp) = server_with("[mss]\nlogin_failures_per_address = 3\n").await;
    let mut c = MssClient::new(&s);
    for name in ["cm_a", "cm_b", "cm_c"] {
        assert_eq!(c.login_as(name, "spring2026").await.status, 401, "{name}");
    }
    // The address is done for this window, even with a right password.
    let r = c.login_as("cm_mss", PASSWORD).await;
    assert_eq!(r.status, 429);
    assert!(r.body.contains("这个网络的登录失败次数过多"), "{}", r.body);
    assert!(!c.cookies.contains_key("opsdesk_mss"));
    let metrics = s
        .handler()
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "opsdesk_mss_logins_total{result=\"wrong\"} 3",
        "opsdesk_mss_logins_total{result=\"throttled\"} 1",
        "opsdesk_mss_logins_total{result=\"ok\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }

    // Behind a proxy, each client is the address the proxy appended.
    let (s, _tmp) =
        server_with("[mss]\nlogin_failures_per_address = 2\nbehind_proxy = true\n").await;
    let mut guesser = MssClient::new(&s);
    guesser.forwarded_for = Some("203.0.113.9, 10.0.0.7".into());
    for name in ["cm_a", "cm_b"] {
        assert_eq!(guesser.login_as(name, "spring2026").await.status, 401);
    }
    assert_eq!(guesser.login_as("cm_mss", PASSWORD).await.status, 429);
    let mut colleague = MssClient::new(&s);
    colleague.forwarded_for = Some("10.0.0.8".into());
    assert_eq!(colleague.login_as("cm_mss", PASSWORD).await.status, 303);
}

/// Files in the data dir's attachments folder (staged screenshots and their thumbnails too).
fn attachment_files(s: &TestServer) -> Vec<String> {
    std::fs::read_dir(s.dir.join("attachments"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_phone_that_drops_mid_form_leaves_no_screenshot_behind() {
    use tokio::io::AsyncWriteExt;
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let form = c.get("/mss/new").await;
    let mut parts = good_fields(&form.csrf(), &form.hidden("form_id"));
    parts.push(file("screenshots", "a.png", "image/png", png(200, 120)));
    parts.push(file("screenshots", "b.png", "image/png", png(200, 120)));
    let body = common::mss::multipart_body(&parts);
    // Everything up to the middle of the second picture: the first is whole, so it is stored
    // while the form is still arriving.
    let second = body
        .windows(5)
        .rposition(|w| w == b"b.png")
        .expect("the second part");
    let sent = &body[..second + 200];
    let before = attachment_files(&s);
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let cookies: Vec<String> = c.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let head = format!(
        "POST /mss/new HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nContent-Type: multipart/form-data; boundary={}\r\nContent-Length: {}\r\n\r\n",
        cookies.join("; "),
        common::mss::BOUNDARY,
        body.len(),
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(sent).await.unwrap();
    conn.flush().await.unwrap();
    // The first picture reaches the disk while the phone is still sending.
    let mut staged = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if attachment_files(&s).len() > before.len() {
            staged = true;
            break;
        }
    }
    assert!(
        staged,
        "the first picture was stored while the form arrived"
    );
    // The phone loses its signal.
    drop(conn);
    let mut left = attachment_files(&s);
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = attachment_files(&s);
        if left.len() == before.len() {
            break;
        }
    }
    assert_eq!(left, before, "nothing of the abandoned form stays on disk");
    assert_eq!(ticket_total(&s).await, 0);
}

/// A client behind the proxy at `addr` (the proxy appends the address it saw).
fn client_at(s: &TestServer, addr: &str) -> MssClient {
    let mut c = MssClient::new(s);
    c.forwarded_for = Some(addr.into());
    c
}

#[tokio::test]
async fn an_attacker_elsewhere_cannot_lock_out_the_real_user() {
    let (s, _tmp) =
        server_with("[mss]\nlockout_after = 3\nlockout = \"10m\"\nbehind_proxy = true\n").await;
    let mut attacker = client_at(&s, "203.0.113.9");
    let mut statuses = Vec::new();
    for i in 0..10 {
        statuses.push(
            attacker
                .login_as("cm_mss", &format!("guess{i}"))
                .await
                .status,
        );
    }
    assert_eq!(&statuses[..2], [401, 401]);
    assert!(statuses[2..].iter().all(|s| *s == 429), "{statuses:?}");
    // Even the right password is refused there, for that username.
    assert_eq!(attacker.login_as("cm_mss", PASSWORD).await.status, 429);
    // The real user, from the office, gets in.
    let mut user = client_at(&s, "10.0.0.8");
    assert_eq!(user.login_as("cm_mss", PASSWORD).await.status, 303);
    assert!(user.cookies.contains_key("opsdesk_mss"));
}

#[tokio::test]
async fn a_colleague_mistyping_behind_the_branch_nat_does_not_block_the_branch() {
    let (s, _tmp) = server_with(
        "[mss]\nlockout_after = 3\nlogin_usernames_per_address = 3\nbehind_proxy = true\n",
    )
    .await;
    let mut mistyping = client_at(&s, "10.0.0.7");
    for i in 0..12 {
        let r = mistyping.login_as("cm_a", &format!("typo{i}")).await;
        assert!(matches!(r.status, 401 | 429), "{}", r.status);
    }
    let mut colleague = client_at(&s, "10.0.0.7");
    assert_eq!(colleague.login_as("cm_mss", PASSWORD).await.status, 303);
}

#[tokio::test]
async fn guesses_for_one_username_from_many_addresses_reach_its_ceiling() {
    let (s, _tmp) = server_with(
        "[mss]\nlockout_after = 3\nlogin_failures_per_username = 6\nbehind_proxy = true\n",
    )
    .await;
    let mut statuses = Vec::new();
    for addr in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        let mut guesser = client_at(&s, addr);
        for i in 0..2 {
            statuses.push(guesser.login_as("cm_mss", &format!("g{i}")).await.status);
        }
    }
    // No address reached its own lock; the sixth wrong one in a row locks the username.
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    // Locked now wherever it comes from, the right password too.
    let mut user = client_at(&s, "10.0.0.8");
    let r = user.login_as("cm_mss", PASSWORD).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("暂时锁定"), "{}", r.body);
    // Other users are not affected.
    assert_eq!(user.login_as("cm_mss2", PASSWORD).await.status, 303);
}

#[tokio::test]
async fn an_older_demo_s_help_articles_join_the_knowledge_base_with_what_was_done_with_them() {
    let tmp = tempfile::tempdir().unwrap();
    let store = opsdesk::store::Store::open(tmp.path()).unwrap();
    let desk = opsdesk::service::Desk::new(store.clone(), std::sync::Arc::new(Settings::default()));
    desk.seed_demo().await.unwrap();
    // A demo made before the knowledge base: the help center's own articles, one of them
    // read and found helpful, another the knowledge base does not have; and no articles.
    store
        .write(|ctx| {
            let c = ctx.conn;
            c.execute_batch(
                "DELETE FROM help_outcomes; DELETE FROM kb_votes; DELETE FROM kb_revisions; DELETE FROM kb_articles;
                 INSERT INTO help_articles (id, system, title, body, created_at, updated_at) VALUES
                   (1, 'app', 'APP 登录收不到短信验证码', '检查拦截。', '2026-01-02T03:04:05Z', '2026-01-02T03:04:05Z'),
                   (2, NULL, '营业部地址在哪里查', '官网“网点查询”。', '2026-01-02T03:04:05Z', '2026-01-02T03:04:05Z');
                 INSERT INTO help_deflections (submitter, article_id, outcome, at) VALUES
                   ('cm_wang', 1, 'viewed', '2026-01-03T00:00:00Z'),
                   ('cm_wang', 1, 'deflected', '2026-01-03T00:00:01Z'),
                   ('cm_li', 2, 'submitted', '2026-01-03T00:00:02Z');",
            )?;
            Ok::<_, opsdesk::store::StoreError>(())
        })
        .await
        .unwrap();
    let again = desk.seed_demo().await.unwrap();
    assert!(!again.seeded, "the tickets are not seeded twice");
    let (articles, outcomes, old) = store
        .read(|c| {
            let articles = opsdesk::store::kb::all(c)?;
            let mut stmt = c.prepare(
                "SELECT submitter, article_id, outcome FROM help_outcomes ORDER BY id",
            )?;
            let outcomes: Vec<(String, i64, String)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            let old: i64 = c.query_row(
                "SELECT (SELECT count(*) FROM help_articles) + (SELECT count(*) FROM help_deflections)",
                [],
                |r| r.get(0),
            )?;
            Ok::<_, opsdesk::store::StoreError>((articles, outcomes, old))
        })
        .await
        .unwrap();
    assert!(
        articles.len() >= 150,
        "the demo articles are seeded: {}",
        articles.len()
    );
    let by_title = |t: &str| articles.iter().find(|a| a.article.title == t).unwrap();
    let sms = by_title("APP 登录收不到短信验证码");
    assert_eq!(
        sms.article.id, "app-login-sms-code-not-received",
        "the demo's own article"
    );
    let address = by_title("营业部地址在哪里查");
    assert_eq!(address.article.id, "help-2");
    assert_eq!(
        address.article.audience,
        opsdesk::domain::kb::Audience::Submitters
    );
    assert_eq!(address.article.steps, "官网“网点查询”。");
    assert_eq!(
        outcomes,
        vec![
            ("cm_wang".to_string(), sms.id, "viewed".to_string()),
            ("cm_wang".to_string(), sms.id, "deflected".to_string()),
            ("cm_li".to_string(), address.id, "submitted".to_string()),
        ]
    );
    assert_eq!(old, 0, "the old tables are emptied");
    // A third start finds nothing more to adopt.
    desk.seed_demo().await.unwrap();
    assert_eq!(
        store.read(opsdesk::store::kb::count).await.unwrap(),
        articles.len() as u64
    );
    store.shutdown();
}

#[tokio::test]
async fn numbers_typed_with_spaces_and_dashes_are_taken_and_match_the_same_customer() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let first = created_id(
        &submit(&mut c, |p| {
            set(p, "customer_account", "3100 0123 4567");
            set(p, "customer_phone", "138-1234-5678");
        })
        .await,
    );
    let customer: Value = s
        .handler()
        .get(s.url(&format!("/api/v1/tickets/{first}/customer")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(customer["account"], "310001234567");
    assert_eq!(customer["phone"], "13812345678");
    // Typed another way, it is still the same customer: the repeat is pointed out.
    let r = submit(&mut c, |p| {
        set(p, "customer_account", "");
        set(p, "customer_phone", "+86 138 1234 5678");
    })
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains(&format!("name=\"add_to\" value=\"{first}\""))
    );
}

/// The submitter's messages on a ticket.
async fn messages_by(s: &TestServer, id: i64, author: &str) -> Vec<Value> {
    let all: Value = s
        .handler()
        .get(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"] == author)
        .cloned()
        .collect()
}

#[tokio::test]
async fn every_form_sent_again_after_it_was_saved_lands_where_the_first_did() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    // The submission form, sent again (a retry after the connection dropped): one ticket.
    let form = c.get("/mss/new").await;
    let parts = good_fields(&form.csrf(), &form.hidden("form_id"));
    let first = c.post_multipart("/mss/new", &parts).await;
    let id = created_id(&first);
    let again = c.post_multipart("/mss/new", &parts).await;
    assert_eq!(again.location(), first.location());
    assert_eq!(ticket_total(&s).await, 1);
    // Handlers' messages first, so the ids of messages and tickets differ.
    for body in ["已收到，正在查询", "请提供委托编号"] {
        let r = s
            .handler()
            .post(s.url(&format!("/api/v1/tickets/{id}/messages")))
            .json(&json!({"body": body}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }

    // "补充到 #N" after the repeat hint, sent again, then the same draft sent again from the
    // plain form (a restored draft carries no button): each lands on the ticket added to.
    let form = c.get("/mss/new").await;
    let (csrf, form_id) = (form.csrf(), form.hidden("form_id"));
    let mut plain = good_fields(&csrf, &form_id);
    set(&mut plain, "title", "客户撤单也失败了");
    let hint = c.post_multipart("/mss/new", &plain).await;
    assert!(hint.body.contains("已有处理中的事件"), "{}", hint.body);
    let mut add = plain.clone();
    add.push(text("add_to", id.to_string()));
    let added = format!("/mss/tickets/{id}?added=1");
    for parts in [&add, &add, &plain] {
        let r = c.post_multipart("/mss/new", parts).await;
        assert_eq!(r.location(), Some(added.as_str()), "{}", r.body);
    }
    let landing = c.get(&added).await;
    assert_eq!(landing.status, 200);
    assert!(landing.body.contains("已把新情况补充到这个事件"));
    assert_eq!(messages_by(&s, id, "cm_mss").await.len(), 1);
    assert_eq!(ticket_total(&s).await, 1);

    // The reply form, sent again.
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    let reply = vec![
        text("csrf_token", page.csrf()),
        text("form_id", page.hidden("form_id")),
        text("body", "委托编号 A123"),
    ];
    let path = format!("/mss/tickets/{id}/reply");
    let first = c.post_multipart(&path, &reply).await;
    let again = c.post_multipart(&path, &reply).await;
    assert_eq!(first.status, 303);
    assert_eq!(again.location(), first.location());
    assert_eq!(messages_by(&s, id, "cm_mss").await.len(), 2);

    // "仍然提交新事件" after the hint, sent again: one more ticket, not two.
    let form = c.get("/mss/new").await;
    let mut new = good_fields(&form.csrf(), &form.hidden("form_id"));
    set(&mut new, "title", "客户撤单提示委托不存在");
    new.push(text("confirm_new", "1"));
    let first = c.post_multipart("/mss/new", &new).await;
    let other = created_id(&first);
    assert_ne!(other, id);
    let again = c.post_multipart("/mss/new", &new).await;
    assert_eq!(again.location(), first.location());
    assert_eq!(ticket_total(&s).await, 2);
}

/// Moves a ticket to resolved as a handler, with `resolution`.
async fn resolve(s: &TestServer, id: i64, resolution: &str) {
    let h = s.handler();
    if api_ticket(s, id).await["status"] == "new" {
        h.post(s.url(&format!("/api/v1/tickets/{id}/transitions")))
            .json(&json!({"to": "triaging"}))
            .send()
            .await
            .unwrap();
    }
    let r = h
        .post(s.url(&format!("/api/v1/tickets/{id}/transitions")))
        .json(&json!({"to": "resolved", "resolution": resolution}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn handler_get(s: &TestServer, path: &str) -> Value {
    s.handler()
        .get(s.url(path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn writing_on_a_resolved_ticket_reopens_it_and_a_closed_one_offers_a_new_ticket() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let id = created_id(&submit(&mut c, |_| {}).await);
    resolve(&s, id, "清算延迟已处理，资金已可用").await;

    // The answer stands before the question it raises; the reply box says what it does.
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    let answer = page.body.find("清算延迟已处理").expect("the resolution");
    let question = page.body.find("问题解决了吗").expect("the question");
    assert!(answer < question, "the resolution comes first");
    assert!(page.body.contains("发送后，事件会重新交给处理人处理"));

    // "还是不行…" in the ordinary reply box reaches the handlers: the ticket is reopened.
    let reply = |page: &Page, body: &str| {
        vec![
            text("csrf_token", page.csrf()),
            text("form_id", page.hidden("form_id")),
            text("body", body.to_string()),
        ]
    };
    let r = c
        .post_multipart(
            &format!("/mss/tickets/{id}/reply"),
            &reply(&page, "还是不行，客户说提示一样"),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let t = api_ticket(&s, id).await;
    assert_eq!(t["status"], "triaging");
    assert!(t.get("resolved_at").is_none(), "{t}");
    assert_ne!(
        t["sla"]["resolve"]["state"], "paused",
        "the resolve clock runs again"
    );
    let unread = handler_get(&s, "/api/v1/unread").await;
    assert!(
        unread
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["ticket_id"] == id && u["unread"].as_u64() >= Some(1)),
        "{unread}"
    );
    let open = handler_get(&s, "/api/v1/tickets?open=true").await;
    assert!(
        open["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id)
    );
    let audit = handler_get(&s, &format!("/api/v1/tickets/{id}/audit")).await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "ticket.reopened" && e["detail"]["message"].is_i64()),
        "{audit}"
    );
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    assert!(
        page.body
            .contains("您在答复后又发了消息，事件已重新交给处理人")
    );

    // Resolved again: "问题已解决" with a word of thanks closes it; the words reopen nothing.
    resolve(&s, id, "已为客户重新同步资金").await;
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    let r = c
        .post_form(
            &format!("/mss/tickets/{id}/confirm"),
            &[
                ("csrf_token", &page.csrf()),
                ("reason", "谢谢，客户已经可以交易了"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(api_ticket(&s, id).await["status"], "closed");
    let mine = messages_by(&s, id, "cm_mss").await;
    assert_eq!(mine.last().unwrap()["body"], "谢谢，客户已经可以交易了");

    // Closed: no reply box, but a way to a new ticket that takes this one up.
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    assert!(!page.body.contains("id=\"reply\""));
    assert!(
        page.body
            .contains(&format!("href=\"/mss/new?follow={id}\""))
    );
    let form = c.get(&format!("/mss/new?follow={id}")).await;
    assert_eq!(form.status, 200);
    assert!(
        form.body
            .contains(&format!("value=\"接续 #{id}：客户委托买入提示资金不足\""))
    );
    assert!(
        form.body.contains("客户沿用 张* · 3100****4567"),
        "{}",
        form.body
    );
    assert!(
        form.body
            .contains(&format!("name=\"follows\" value=\"{id}\""))
    );
    // Reopening a closed ticket is refused (tests/api.rs: the API's `ticket_closed`).
    let r = c
        .post_form(
            &format!("/mss/tickets/{id}/reopen"),
            &[("csrf_token", &page.csrf()), ("reason", "又不行了")],
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("已关闭"), "{}", r.body);
    assert_eq!(api_ticket(&s, id).await["status"], "closed");

    // A reply from a page left open before the close is not lost: it comes back as the form
    // of a new ticket taking this one up, with its text and its picture.
    let stale = c
        .post_multipart(
            &format!("/mss/tickets/{id}/reply"),
            &[
                text("csrf_token", page.csrf()),
                text("form_id", "0123456789abcdef"),
                text(
                    "body",
                    "客户今天又遇到了同样的问题，提示可用资金不足，已重新登录",
                ),
                file("screenshots", "资金.png", "image/png", png(20, 20)),
            ],
        )
        .await;
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("消息没有发送"), "{}", stale.body);
    assert!(
        stale
            .body
            .contains("客户今天又遇到了同样的问题，提示可用资金不足，已重新登录</textarea>")
    );
    assert!(stale.hidden("staged").ends_with(":资金.png"));
    assert_eq!(
        messages_by(&s, id, "cm_mss").await.len(),
        2,
        "nothing added"
    );
    let form = stale;
    let mut parts = good_fields(&form.csrf(), &form.hidden("form_id"));
    for field in ["customer_name", "customer_account", "customer_phone"] {
        set(&mut parts, field, "");
    }
    set(
        &mut parts,
        "title",
        &format!("接续 #{id}：客户委托买入提示资金不足"),
    );
    set(
        &mut parts,
        "description",
        "客户今天又遇到了同样的问题，提示可用资金不足，已重新登录",
    );
    parts.push(text("follows", id.to_string()));
    parts.push(text("staged", form.hidden("staged")));
    let next = created_id(&c.post_multipart("/mss/new", &parts).await);
    assert_ne!(next, id);
    let t = api_ticket(&s, next).await;
    assert!(
        t["description"]
            .as_str()
            .unwrap()
            .starts_with(&format!("（接续已关闭的事件 #{id}）")),
        "{t}"
    );
    assert_eq!(t["attachments"][0]["filename"], "资金.png");
    let customer = handler_get(&s, &format!("/api/v1/tickets/{next}/customer")).await;
    assert_eq!(customer["account"], "310001234567");
    assert_eq!(customer["phone"], "13812345678");
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    assert!(page.body.contains(&format!("您提交了接续事件 #{next}")));
    // Only one's own ticket can be taken up.
    let mut other = MssClient::logged_in(&s, "cm_mss2").await;
    assert_eq!(
        other.get(&format!("/mss/new?follow={id}")).await.status,
        404
    );
}

#[tokio::test]
async fn closed_tickets_say_who_closed_them_carry_no_badge_and_old_dates_their_year() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let by_handler = created_id(&submit(&mut c, |_| {}).await);
    let confirmed = created_id(
        &submit(&mut c, |p| {
            set(p, "title", "客户撤单提示委托不存在");
            p.push(text("confirm_new", "1"));
        })
        .await,
    );
    let answered = created_id(
        &submit(&mut c, |p| {
            set(p, "title", "客户转账提示银行系统繁忙");
            p.push(text("confirm_new", "1"));
        })
        .await,
    );
    for id in [by_handler, confirmed, answered] {
        resolve(&s, id, "已处理，请客户重试").await;
    }
    // One the submitter confirms, one a handler closes unread weeks later, one stays answered.
    let page = c.get(&format!("/mss/tickets/{confirmed}")).await;
    let r = c
        .post_form(
            &format!("/mss/tickets/{confirmed}/confirm"),
            &[("csrf_token", &page.csrf())],
        )
        .await;
    assert_eq!(r.status, 303);
    let r = s
        .handler()
        .post(s.url(&format!("/api/v1/tickets/{by_handler}/transitions")))
        .json(&json!({"to": "closed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The closed one was made last year.
    s.store
        .write(move |ctx| {
            Ok::<_, opsdesk::store::StoreError>(ctx.conn.execute(
                "UPDATE tickets SET created_at = '2019-12-30T02:00:00Z' WHERE id = ?1",
                [by_handler],
            )?)
        })
        .await
        .unwrap();

    let list = c.get("/mss/").await;
    let card = |id: i64| {
        let start = list
            .body
            .find(&format!("href=\"/mss/tickets/{id}\""))
            .unwrap_or_else(|| panic!("#{id} listed"));
        let end = list.body[start..].find("</ol>").unwrap() + start;
        list.body[start..end].to_string()
    };
    let (handler_card, confirmed_card, answered_card) =
        (card(by_handler), card(confirmed), card(answered));
    assert!(!handler_card.contains("条新回复"), "{handler_card}");
    assert!(answered_card.contains("条新回复"), "{answered_card}");
    assert!(handler_card.contains(">已关闭</li>"), "{handler_card}");
    assert!(!handler_card.contains("已确认"), "{handler_card}");
    assert!(confirmed_card.contains(">已确认</li>"), "{confirmed_card}");
    assert!(
        handler_card.contains("提交于 2019-12-30 10:00"),
        "{handler_card}"
    );
    assert!(
        !answered_card.contains("提交于 20"),
        "this year's dates stay short: {answered_card}"
    );

    let page = c.get(&format!("/mss/tickets/{by_handler}")).await;
    assert!(page.body.contains("由处理人关闭"));
    assert!(page.body.contains("处理人关闭了事件"));
    assert!(!page.body.contains("已确认"));
    let page = c.get(&format!("/mss/tickets/{confirmed}")).await;
    assert!(page.body.contains("您已确认问题解决"));

    // "提交事件" once: the list has its own button, the form is the page itself.
    assert_eq!(list.body.matches("href=\"/mss/new\"").count(), 1);
    let form = c.get("/mss/new").await;
    assert_eq!(form.body.matches("href=\"/mss/new\"").count(), 0);
    assert_eq!(page.body.matches("href=\"/mss/new\"").count(), 1);
}

#[tokio::test]
async fn a_refused_reply_keeps_its_good_pictures() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let id = created_id(&submit(&mut c, |_| {}).await);
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    let path = format!("/mss/tickets/{id}/reply");
    let r = c
        .post_multipart(
            &path,
            &[
                text("csrf_token", page.csrf()),
                text("form_id", page.hidden("form_id")),
                text("body", "委托截图见附件"),
                file("screenshots", "委托.png", "image/png", png(30, 30)),
                file(
                    "screenshots",
                    "假图片.png",
                    "image/png",
                    b"not a picture".to_vec(),
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("假图片.png"), "the refused one is named");
    let staged = r.hidden("staged");
    assert!(staged.ends_with(":委托.png"), "{staged}");
    assert!(r.body.contains("委托截图见附件</textarea>"));
    // Sent again with the kept picture: it is attached to the reply, not uploaded again.
    let r = c
        .post_multipart(
            &path,
            &[
                text("csrf_token", page.csrf()),
                text("form_id", r.hidden("form_id")),
                text("body", "委托截图见附件"),
                text("staged", staged),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let mine = messages_by(&s, id, "cm_mss").await;
    assert_eq!(mine.len(), 1);
    let t = api_ticket(&s, id).await;
    let files = t["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["filename"], "委托.png");
    assert_eq!(files[0]["message_id"], mine[0]["id"]);
}

#[tokio::test]
async fn a_page_session_ended_by_logout_or_a_password_change_is_refused_at_its_next_poll() {
    let (s, _tmp) = server().await;
    let mut c = MssClient::logged_in(&s, "cm_mss").await;
    let id = created_id(&submit(&mut c, |_| {}).await);
    // The ticket page polls this while open on the phone.
    let poll = format!("/mss/tickets/{id}/state");
    assert_eq!(c.get(&poll).await.status, 200);
    let mut kept = MssClient::logged_in(&s, "cm_mss").await;
    assert_eq!(kept.get(&poll).await.status, 200);

    // An admin sets a new password from another process: every page session of the user ends.
    let dir = s.dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = common::binary()
            .args(["admin", "user", "password", "cm_mss", "--data"])
            .arg(&dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"a-new-password-2026\n")
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for client in [&mut c, &mut kept] {
        let r = client.get(&poll).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert!(
            r.location().unwrap().starts_with("/mss/login"),
            "{:?}",
            r.location()
        );
        assert!(!r.body.contains("\"state\""));
    }

    // A session ended by logout is refused the same way.
    let mut c = MssClient::new(&s);
    assert_eq!(
        c.login_as("cm_mss", "a-new-password-2026").await.status,
        303
    );
    let page = c.get(&format!("/mss/tickets/{id}")).await;
    assert_eq!(c.get(&poll).await.status, 200);
    let session = c.cookies["opsdesk_mss"].clone();
    let r = c
        .post_form("/mss/logout", &[("csrf_token", &page.csrf())])
        .await;
    assert_eq!(r.status, 303);
    c.cookies.insert("opsdesk_mss".into(), session);
    assert_eq!(c.get(&poll).await.status, 303);
}

#[tokio::test]
async fn next_after_login_is_normalised_before_it_must_stay_on_the_pages() {
    let (s, _tmp) = server().await;
    for (next, followed) in [
        ("/mss/../api/v1/tickets", "/mss/"),
        ("/mss/%2e%2e/api/v1/tickets", "/mss/"),
        ("/mss/%252e%252e/metrics", "/mss/"),
        ("/mss/..\\api/v1/tickets", "/mss/"),
        ("/mss/./tickets//7?x=1", "/mss/tickets/7?x=1"),
        ("/mss/help/../new", "/mss/new"),
    ] {
        let mut c = MssClient::new(&s);
        let page = c.get("/mss/login").await;
        let r = c
            .post_form(
                "/mss/login",
                &[
                    ("username", "cm_mss"),
                    ("password", PASSWORD),
                    ("csrf_token", &page.csrf()),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{next}");
        assert_eq!(r.location(), Some(followed), "{next}");
        // The login form carries the normalised target too, never the raw one.
        let form = MssClient::new(&s)
            .get(&format!("/mss/login?next={}", common::mss::urlencode(next)))
            .await;
        assert_eq!(form.hidden("next"), followed, "{next}");
    }
}
