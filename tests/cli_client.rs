//! `opsdesk ticket list|show|new` against a real server on loopback.

mod common;

use common::{TestServer, binary, good_ticket};
use serde_json::Value;

fn run(s: &TestServer, token: &str, args: &[&str]) -> (i32, String, String) {
    let out = binary()
        .env("OPSDESK_SERVER", &s.base)
        .env("OPSDESK_TOKEN", token)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn new_list_show_round_trip() {
    let s = std::sync::Arc::new(TestServer::start().await);
    let (s2, token) = (s.clone(), s.submitter_token.clone());
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        let description =
            "客户 310012345678 今天 10:05 买入 600519 提示“可用资金不足”，实际可用 5 万";
        run(
            &s2,
            &token,
            &[
                "ticket",
                "new",
                "--system",
                "trading",
                "--title",
                "委托失败提示资金不足",
                "--description",
                description,
                "--account",
                "310012345678",
                "--phone",
                "13812341234",
                "--priority",
                "P2",
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    let id: i64 = out.trim().parse().expect("prints the new id");

    let handler = s.handler_token.clone();
    let s2 = s.clone();
    let (list, show, json) = tokio::task::spawn_blocking(move || {
        (
            run(&s2, &handler, &["ticket", "list", "--open"]),
            run(&s2, &handler, &["ticket", "show", &id.to_string()]),
            run(
                &s2,
                &handler,
                &["ticket", "list", "--json", "--status", "new"],
            ),
        )
    })
    .await
    .unwrap();
    assert_eq!(list.0, 0, "{}", list.2);
    assert!(
        list.1.contains("委托失败提示资金不足") && list.1.contains("P2"),
        "{}",
        list.1
    );
    assert_eq!(show.0, 0, "{}", show.2);
    assert!(
        show.1.contains("138****1234") && !show.1.contains("13812341234"),
        "masked: {}",
        show.1
    );
    let page: Value = serde_json::from_str(&json.1).unwrap();
    assert_eq!(page["total"], 1);
}

#[tokio::test]
async fn refusals_explain_themselves_and_exit_2() {
    let s = std::sync::Arc::new(TestServer::start().await);
    let s2 = s.clone();
    let token = s.handler_token.clone();
    let (bad_ticket, empty, no_token, missing, bad_filter) =
        tokio::task::spawn_blocking(move || {
            let no_token = binary()
                .env("OPSDESK_SERVER", &s2.base)
                .args(["ticket", "list"])
                .output()
                .unwrap();
            (
                run(
                    &s2,
                    &token,
                    &[
                        "ticket",
                        "new",
                        "--system",
                        "trading",
                        "--title",
                        "交易不了",
                        "--description",
                        "股票交易不了",
                    ],
                ),
                run(&s2, &token, &["ticket", "list", "--status", "closed"]),
                (
                    no_token.status.code().unwrap_or(-1),
                    String::from_utf8_lossy(&no_token.stderr).into_owned(),
                ),
                run(&s2, &token, &["ticket", "show", "4242"]),
                run(&s2, &token, &["ticket", "list", "--status", "sleeping"]),
            )
        })
        .await
        .unwrap();
    assert_eq!(bad_ticket.0, 2);
    assert!(
        bad_ticket.2.contains("客户账号") && bad_ticket.2.contains("customer"),
        "{}",
        bad_ticket.2
    );
    assert_eq!(empty.0, 1, "nothing found");
    assert_eq!(no_token.0, 2);
    assert!(no_token.1.contains("OPSDESK_TOKEN"), "{}", no_token.1);
    assert_eq!(missing.0, 2);
    assert!(missing.2.contains("not found"), "{}", missing.2);
    assert_eq!(bad_filter.0, 2);
    assert!(bad_filter.2.contains("sleeping"), "{}", bad_filter.2);
}

#[tokio::test]
async fn hostile_text_reaches_the_terminal_inert() {
    let s = std::sync::Arc::new(TestServer::start().await);
    let mut t = good_ticket("标题\u{1b}]0;pwned\u{7}里有转义");
    t["description"] = Value::String(format!(
        "{}\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[6n\u{1b}[2J 结尾",
        t["description"].as_str().unwrap()
    ));
    let created: Value = s
        .submitter()
        .post(s.url("/api/v1/tickets"))
        .json(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().unwrap();
    let s2 = s.clone();
    let token = s.handler_token.clone();
    let (show, list) = tokio::task::spawn_blocking(move || {
        (
            run(&s2, &token, &["ticket", "show", &id.to_string()]),
            run(&s2, &token, &["ticket", "list"]),
        )
    })
    .await
    .unwrap();
    for (what, out) in [("show", &show.1), ("list", &list.1)] {
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{7}'),
            "{what} printed an escape: {out:?}"
        );
    }
    assert!(
        show.1.contains("标题里有转义") && show.1.contains("结尾"),
        "{}",
        show.1
    );
}

#[tokio::test]
async fn kb_search_lists_the_best_articles_inert() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let store = opsdesk::store::Store::open(tmp.path()).unwrap();
        let desk = opsdesk::service::Desk::new(store.clone(), Default::default());
        let files = opsdesk::service::demo::kb_files();
        let hostile = files[0]
            .text
            .replacen(
                "title = \"",
                "title = \"\\u001b[2J\\u001b]0;pwned\\u0007开户失败伪装",
                1,
            )
            .replacen("id = \"", "id = \"hostile-", 1);
        desk.import_kb(files, "test").await.unwrap().unwrap();
        // The import refuses escapes now; an article stored before it did, or by another
        // tool, must still reach the terminal inert.
        let hostile = opsdesk::domain::kb::parse_file(&hostile).unwrap();
        store
            .write(move |ctx| opsdesk::store::kb::save(ctx.conn, &hostile, "test", ctx.now))
            .await
            .unwrap();
        store.shutdown();
    }
    let s = std::sync::Arc::new(TestServer::start_in(tmp.path(), Default::default()).await);
    let (s2, token) = (s.clone(), s.handler_token.clone());
    let (lines, json, none) = tokio::task::spawn_blocking(move || {
        (
            run(&s2, &token, &["kb", "search", "khsb", "--limit", "20"]),
            run(&s2, &token, &["kb", "search", "opne acount", "--json"]),
            run(&s2, &token, &["kb", "search", "zzqqxxyy"]),
        )
    })
    .await
    .unwrap();
    assert_eq!(lines.0, 0, "{}", lines.2);
    let first = lines.1.lines().next().unwrap();
    assert!(
        first.contains("account_opening") && first.contains("开户失败"),
        "{}",
        lines.1
    );
    assert!(
        !lines.1.contains('\u{1b}') && !lines.1.contains('\u{7}'),
        "{:?}",
        lines.1
    );
    assert!(
        lines.1.contains("开户失败伪装"),
        "the hostile title is shown, inert"
    );
    let page: Value = serde_json::from_str(&json.1).unwrap();
    assert_eq!(page["articles"][0]["system"], "account_opening");
    assert_eq!(none.0, 1, "nothing found is exit code 1");
}

#[tokio::test]
async fn kb_search_falls_back_on_the_workstations_copy_when_the_server_is_out_of_reach() {
    let s = TestServer::start_demo().await;
    let changes: opsdesk::api::KbChanges =
        common::json_of(s.handler().get(s.url("/api/v1/kb/changes"))).await;
    assert!(changes.articles.len() >= 150);
    // Nothing saved since: the next read is empty.
    let again: opsdesk::api::KbChanges = common::json_of(
        s.handler()
            .get(s.url("/api/v1/kb/changes"))
            .query(&[("since", changes.until)]),
    )
    .await;
    assert!(again.articles.is_empty(), "{}", again.articles.len());
    assert_eq!(again.until, changes.until);
    // An edit comes again, alone; readings do not.
    let first = &changes.articles[0];
    let mut body = opsdesk::api::KbArticleBody::of(&first.article(), Some(first.version));
    body.steps.push_str("\n\n补充：次日再查。");
    let r = s
        .handler()
        .put(s.url(&format!("/api/v1/kb/articles/{}", first.id)))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    s.handler()
        .get(s.url(&format!("/api/v1/kb/articles/{}", changes.articles[1].id)))
        .send()
        .await
        .unwrap();
    let edited: opsdesk::api::KbChanges = common::json_of(
        s.handler()
            .get(s.url("/api/v1/kb/changes"))
            .query(&[("since", changes.until)]),
    )
    .await;
    assert_eq!(edited.articles.len(), 1);
    assert_eq!(edited.articles[0].id, first.id);
    assert!(edited.until > changes.until);
    let bad = s
        .handler()
        .get(s.url("/api/v1/kb/changes"))
        .query(&[("since", "-1")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // The workstation's copy of a server that has since gone away.
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("copy.sqlite");
    let dead = format!("http://127.0.0.1:{}", common::free_port());
    {
        let mut c = opsdesk::client::cache::Cache::open(&cache, &dead).unwrap();
        c.put_kb(&changes).unwrap();
    }
    let out = binary()
        .env("OPSDESK_SERVER", &dead)
        .env("OPSDESK_TOKEN", &s.handler_token)
        .env("OPSDESK_CACHE", &cache)
        .args(["kb", "search", "khsb", "--limit", "5"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("out of reach"), "{stderr}");
    assert!(
        stdout.lines().next().unwrap().contains("开户失败"),
        "{stdout}"
    );
    // No copy: the server's absence is the answer.
    let out = binary()
        .env("OPSDESK_SERVER", &dead)
        .env("OPSDESK_TOKEN", &s.handler_token)
        .env("OPSDESK_CACHE", home.path().join("none.sqlite"))
        .args(["kb", "search", "khsb"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
}
