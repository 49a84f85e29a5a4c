//! The help center (`/mss/help/`, short address `/help/`) on a real server over the demo's
//! knowledge base: home, search however a submitter types it, articles for submitters only,
//! "did this help?", the form's suggestions, and hostile input.

mod common;

use common::TestServer;
use common::mss::{MssClient, Page, urlencode, user_with_password};
use opsdesk::domain::people::Role;
use serde_json::Value;

/// The text of `html` without its tags (entities left as they are).
fn words(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The search results' articles: (number, title as shown), in order.
fn results(page: &Page) -> Vec<(i64, String)> {
    let Some(list) = page.body.split(r#"<ol class="articles card">"#).nth(1) else {
        return Vec::new();
    };
    let list = list.split("</ol>").next().unwrap();
    list.split(r#"<a href="/mss/help/"#)
        .skip(1)
        .map(|item| {
            let (id, rest) = item.split_once("\">").unwrap();
            let title = rest.split("</a>").next().unwrap();
            (id.parse().unwrap(), words(title))
        })
        .collect()
}

async fn helpful(s: &TestServer, id: i64) -> u64 {
    s.store
        .read(move |conn| opsdesk::store::kb::get(conn, id))
        .await
        .unwrap()
        .unwrap()
        .article
        .helpful
}

#[tokio::test]
async fn the_help_center_finds_account_opening_failures_however_typed() {
    let s = TestServer::start_demo().await;
    user_with_password(&s, "cm_help", Role::Submitter).await;
    let mut c = MssClient::logged_in(&s, "cm_help").await;

    // The short address leads to the pages, where the session is.
    let r = c.get("/help/").await;
    assert_eq!(r.status, 308);
    assert_eq!(r.location(), Some("/mss/help/"));
    assert_eq!(
        c.get("/help/12?voted=yes").await.location(),
        Some("/mss/help/12?voted=yes")
    );

    let home = c.get("/mss/help/").await;
    assert_eq!(home.status, 200);
    for words in ["帮助中心", "热门问题", "按系统查看", "开户", "提交事件"] {
        assert!(home.body.contains(words), "home lacks {words}");
    }

    for q in ["khsb", "kaihu", "开户失败", "opne acount"] {
        let page = c.get(&format!("/mss/help/?q={}", urlencode(q))).await;
        assert_eq!(page.status, 200, "{q}");
        let found = results(&page);
        assert!(found.len() >= 3, "{q}: {found:?}");
        assert!(found[0].1.starts_with("开户失败"), "{q}: {found:?}");
        let suggested: Value = serde_json::from_str(
            &c.get(&format!("/mss/help/suggest?q={}", urlencode(q)))
                .await
                .body,
        )
        .unwrap();
        let first = suggested[0]["title"].as_str().unwrap_or_default();
        assert!(
            first.starts_with("开户失败"),
            "suggestions for {q}: {suggested}"
        );
    }
    // The typed letters are marked in the title.
    let page = c.get("/mss/help/?q=khsb").await;
    assert!(page.body.contains("<mark>开户失败</mark>"), "{}", page.body);

    // A system's shelf lists its articles; an unknown system is no filter.
    let shelf = c.get("/mss/help/?system=account_opening").await;
    assert!(results(&shelf).len() >= 5);
    assert_eq!(c.get("/mss/help/?system=nope&q=khsb").await.status, 200);

    // Articles for handlers only are not found, listed or shown to submitters.
    let internal = s
        .store
        .read(opsdesk::store::kb::all)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.article.audience == opsdesk::domain::kb::Audience::Handlers)
        .unwrap();
    let page = c
        .get(&format!(
            "/mss/help/?q={}",
            urlencode(&internal.article.title)
        ))
        .await;
    assert!(results(&page).iter().all(|(id, _)| *id != internal.id));
    assert_eq!(
        c.get(&format!("/mss/help/{}", internal.id)).await.status,
        404
    );
}

#[tokio::test]
async fn did_this_help_counts_once_per_submitter_and_leads_on_when_it_did_not() {
    let s = TestServer::start_demo().await;
    user_with_password(&s, "cm_help", Role::Submitter).await;
    let mut c = MssClient::logged_in(&s, "cm_help").await;
    let page = c.get("/mss/help/?q=khsb").await;
    let (id, _) = results(&page)[0].clone();
    let path = format!("/mss/help/{id}");
    let article = c.get(&path).await;
    assert_eq!(article.status, 200);
    for words in ["常见现象", "处理步骤", "这篇文章解决了你的问题吗"] {
        assert!(article.body.contains(words), "article lacks {words}");
    }
    let csrf = article.csrf();
    let before = helpful(&s, id).await;
    let vote = format!("{path}/vote");
    assert_eq!(c.post_form(&vote, &[("helpful", "yes")]).await.status, 403);
    assert_eq!(
        c.post_form(&vote, &[("csrf_token", &csrf), ("helpful", "maybe")])
            .await
            .status,
        422
    );
    assert_eq!(
        helpful(&s, id).await,
        before,
        "a refused vote counts nothing"
    );
    let r = c
        .post_form(&vote, &[("csrf_token", &csrf), ("helpful", "yes")])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location(),
        Some(format!("{path}?voted=yes#vote").as_str())
    );
    assert!(
        c.get(&format!("{path}?voted=yes"))
            .await
            .body
            .contains("谢谢反馈")
    );
    c.post_form(&vote, &[("csrf_token", &csrf), ("helpful", "yes")])
        .await;
    assert_eq!(
        helpful(&s, id).await,
        before + 1,
        "a second tap counts once"
    );
    // Changing one's mind takes the count back, and points to the form.
    c.post_form(&vote, &[("csrf_token", &csrf), ("helpful", "no")])
        .await;
    assert_eq!(helpful(&s, id).await, before);
    let after = c.get(&format!("{path}?voted=no")).await;
    assert!(after.body.contains(r#"href="/mss/new""#));
    assert!(after.body.contains("抱歉没能解决"));
    assert_eq!(
        c.post_form(
            "/mss/help/999999/vote",
            &[("csrf_token", &csrf), ("helpful", "yes")]
        )
        .await
        .status,
        404
    );

    // The most read article heads the hot issues.
    let views = |id: i64| {
        let store = s.store.clone();
        async move {
            store
                .read(move |conn| opsdesk::store::kb::get(conn, id))
                .await
                .unwrap()
                .unwrap()
                .article
                .views
        }
    };
    let seen = views(id).await;
    c.get(&format!("{path}?voted=yes")).await;
    assert_eq!(
        views(id).await,
        seen,
        "coming back from a vote is not a reading"
    );
    for _ in 0..30 {
        c.get(&path).await;
    }
    let home = c.get("/mss/help/").await;
    let hot = home.body.split("热门问题").nth(1).unwrap();
    let first = hot.split(r#"<a href="/mss/help/"#).nth(1).unwrap();
    assert!(first.starts_with(&format!("{id}\"")), "{hot}");
}

#[tokio::test]
async fn hostile_searches_and_articles_stay_inert() {
    let s = TestServer::start().await;
    user_with_password(&s, "cm_help", Role::Submitter).await;
    let id = common::mss::help_article(
        &s,
        "hostile",
        "trading",
        "<img src=x onerror=alert(1)> 委托失败",
        "<script>alert(1)</script>\n\n[点这里](javascript:alert(1)) ![图](data:image/svg+xml,x)\n\n1. 正常步骤",
    )
    .await;
    let mut c = MssClient::logged_in(&s, "cm_help").await;
    let page = c.get(&format!("/mss/help/{id}")).await;
    assert_eq!(page.status, 200);
    for bad in ["<script>alert", "<img src=x", "javascript:", "data:image"] {
        assert!(!page.body.contains(bad), "{bad} reached the page");
    }
    assert!(page.body.contains("<li>正常步骤</li>"), "{}", page.body);
    let found = c.get("/mss/help/?q=%E5%A7%94%E6%89%98").await;
    assert!(!found.body.contains("<img src=x"), "{}", found.body);
    assert_eq!(results(&found).len(), 1);

    // 10 KB of text.
    let long = "开户".repeat(1700);
    let control = "\u{0}\u{1b}[31m\u{7f}khsb";
    for q in [
        long.as_str(),
        control,
        "\"",
        "sys:",
        "tag:\"",
        "<script>alert(1)</script>",
    ] {
        let page = c.get(&format!("/mss/help/?q={}", urlencode(q))).await;
        assert_eq!(page.status, 200, "{q:?}");
        assert!(!page.body.contains("<script>alert"), "{q:?}");
        let r = c
            .get(&format!("/mss/help/suggest?q={}", urlencode(q)))
            .await;
        assert_eq!(r.status, 200, "{q:?}: {}", r.body);
    }
    // A lone surrogate a bad client escaped is not UTF-8: it is read as a replacement
    // character, and the search goes on.
    for q in ["%ED%A0%80", "%ED%A0%80khsb", "%FF%FE"] {
        let r = c.get(&format!("/mss/help/?q={q}")).await;
        assert_eq!(r.status, 200, "{q}");
        let r = c.get(&format!("/mss/help/suggest?q={q}")).await;
        assert_eq!(r.status, 200, "{q}");
    }
    for path in [
        "/mss/help/0",
        "/mss/help/-1",
        "/mss/help/abc",
        "/mss/help/99999999999999999999",
    ] {
        assert_eq!(c.get(path).await.status, 404, "{path}");
    }
    // Pages need a session.
    let mut anon = MssClient::new(&s);
    assert_eq!(anon.get("/mss/help/").await.status, 303);
}

/// Keeps a picture through the API with `client`; the answer's status and body.
async fn upload_picture(
    s: &TestServer,
    client: &reqwest::Client,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let r = client
        .post(s.url(&format!("/api/v1/kb/images?filename={}", urlencode(name))))
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Writes an article through the API; the answer's status and body.
async fn write_article(s: &TestServer, title: &str, audience: &str, steps: &str) -> (u16, Value) {
    let r = s
        .handler()
        .post(s.url("/api/v1/kb/articles"))
        .json(&serde_json::json!({
            "title": title, "system": "account", "category": "consultation",
            "audience": audience, "steps": steps,
        }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn pictures_in_articles_are_kept_once_and_shown_only_where_they_may_be() {
    let s = TestServer::start().await;
    let png = common::mss::png(40, 30);
    let (status, flow) = upload_picture(&s, &s.handler(), "开户流程.png", png.clone()).await;
    assert_eq!(status, 201, "{flow}");
    let id = flow["id"].as_i64().unwrap();
    assert_eq!(flow["url"], format!("/kb/images/{id}"));
    assert_eq!(
        flow["markdown"],
        format!("![开户流程.png](/kb/images/{id})")
    );
    assert_eq!(
        (flow["width"].as_u64(), flow["height"].as_u64()),
        (Some(40), Some(30))
    );
    let (status, again) = upload_picture(&s, &s.handler(), "again.png", png.clone()).await;
    assert_eq!(
        (status, again["id"].as_i64()),
        (200, Some(id)),
        "the same bytes are kept once"
    );

    // Bad pictures change nothing.
    for (name, bytes) in [
        ("empty.png", Vec::new()),
        ("note.png", b"not a picture at all".to_vec()),
        (
            "x.svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec(),
        ),
    ] {
        let (status, body) = upload_picture(&s, &s.handler(), name, bytes).await;
        assert_eq!(status, 422, "{name}: {body}");
    }
    let (status, _) = upload_picture(&s, &s.handler(), "", png.clone()).await;
    assert_eq!(status, 422, "a picture has a name");
    let (status, _) = upload_picture(&s, &s.submitter(), "mine.png", png.clone()).await;
    assert_eq!(status, 403, "submitters do not write articles");

    // An article may show only a kept picture.
    let (status, body) = write_article(
        &s,
        "开户流程图说明",
        "submitters",
        "![流程](/kb/images/99999)",
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("/kb/images/99999"), "{body}");
    let steps = format!(
        "1. 按流程操作：\n\n{}\n",
        flow["markdown"].as_str().unwrap()
    );
    let (status, shown) = write_article(&s, "开户流程图说明", "submitters", &steps).await;
    assert_eq!(status, 201, "{shown}");
    let internal_png = common::mss::png(41, 30);
    let (_, internal) = upload_picture(&s, &s.handler(), "内部.png", internal_png).await;
    let internal_id = internal["id"].as_i64().unwrap();
    let (status, _) = write_article(
        &s,
        "内部排查截图说明",
        "handlers",
        &format!("{}\n", internal["markdown"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 201);

    // Handlers fetch any picture through the API, inert.
    let r = s
        .handler()
        .get(s.url(&format!("/api/v1/kb/images/{internal_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");

    // A submitter sees the picture on the help center's page, and only that one.
    user_with_password(&s, "cm_pic", Role::Submitter).await;
    let mut c = MssClient::logged_in(&s, "cm_pic").await;
    let page = c.get(&format!("/mss/help/{}", shown["id"])).await;
    assert!(
        page.body
            .contains(&format!(r#"<img src="/mss/help/images/{id}""#)),
        "{}",
        page.body
    );
    assert_eq!(c.get(&format!("/mss/help/images/{id}")).await.status, 200);
    assert_eq!(
        c.get(&format!("/mss/help/images/{internal_id}"))
            .await
            .status,
        404
    );
    assert_eq!(c.get("/mss/help/images/99999").await.status, 404);
    let r = s
        .submitter()
        .get(s.url(&format!("/api/v1/kb/images/{internal_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "a picture of handlers' articles is not a submitter's"
    );

    // Kept pictures live beside the uploads, and the sweep of abandoned ones leaves them.
    let dir = s.dir.join("attachments");
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(30 * 86_400);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let f = std::fs::File::options()
            .write(true)
            .open(entry.unwrap().path())
            .unwrap();
        f.set_modified(old).unwrap();
    }
    let desk = opsdesk::service::Desk::new(
        s.store.clone(),
        std::sync::Arc::new(opsdesk::config::Settings::default()),
    );
    desk.sweep_staged(std::time::Duration::from_secs(86_400))
        .await
        .unwrap();
    assert_eq!(c.get(&format!("/mss/help/images/{id}")).await.status, 200);
}
