//! The ticket API against a real server on loopback.

mod common;

use common::{TestServer, error_code, good_ticket};
use serde_json::{Value, json};

#[tokio::test]
async fn create_get_list_patch_round_trip() {
    let s = TestServer::start().await;
    let t = s.new_ticket("委托下单提示资金不足").await;
    let id = t["id"].as_i64().unwrap();
    assert_eq!(t["status"], "new");
    assert_eq!(t["version"], 1);
    assert_eq!(t["channel"], "api");
    assert_eq!(t["submitter"], "cm_test");
    assert_eq!(t["priority"], "P3");
    assert_eq!(t["category"], "consultation");
    // Customer data is masked in every view.
    assert_eq!(t["customer"]["phone"], "138****1234");
    assert_eq!(t["customer"]["id_number"], "110***********002X");
    assert_eq!(t["customer"]["account"], "3100****5678");
    assert!(!t.to_string().contains("13812341234"));
    assert!(t["resolve_due"].is_string() && t["first_response_due"].is_string());

    let h = s.handler();
    let got: Value = h
        .get(s.url(&format!("/api/v1/tickets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["title"], "委托下单提示资金不足");

    let list: Value = h
        .get(s.url("/api/v1/tickets?status=new&system=trading"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["tickets"][0]["id"], id);
    let none: Value = h
        .get(s.url("/api/v1/tickets?category=data"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["total"], 0);

    let patched: Value = h
        .patch(s.url(&format!("/api/v1/tickets/{id}")))
        .json(&json!({"version": 1, "priority": "P1", "category": "program", "assignee": "h_test"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["version"], 2);
    assert_eq!(patched["priority"], "P1");
    assert_eq!(patched["assignee"], "h_test");
    let mine: Value = h
        .get(s.url("/api/v1/tickets?assignee=me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["total"], 1);
    let unassigned: Value = h
        .get(s.url("/api/v1/tickets?assignee=none"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unassigned["total"], 0);
}

#[tokio::test]
async fn idempotent_retry_returns_the_first_answer_and_creates_nothing() {
    let s = TestServer::start().await;
    let c = s.submitter();
    let post = || {
        c.post(s.url("/api/v1/tickets"))
            .header("Idempotency-Key", "retry-1")
            .json(&good_ticket("行情刷新延迟"))
    };
    let first = post().send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let seq = s.latest_seq().await;
    let again = post().send().await.unwrap();
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    assert_eq!(s.latest_seq().await, seq, "a replay writes nothing");
    let list: Value = s
        .handler()
        .get(s.url("/api/v1/tickets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);

    // The same key with a different body is refused.
    let other = c
        .post(s.url("/api/v1/tickets"))
        .header("Idempotency-Key", "retry-1")
        .json(&good_ticket("另一个问题的标题"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(other, 409).await, "idempotency_key_reused");
}

#[tokio::test]
async fn stale_version_conflicts_with_the_current_ticket() {
    let s = TestServer::start().await;
    let id = s.new_ticket("开户视频见证失败").await["id"]
        .as_i64()
        .unwrap();
    let h = s.handler();
    let url = s.url(&format!("/api/v1/tickets/{id}"));
    let ok = h
        .patch(&url)
        .json(&json!({"version": 1, "priority": "P2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let seq = s.latest_seq().await;
    let stale = h
        .patch(&url)
        .json(&json!({"version": 1, "priority": "P4"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 409);
    let body: Value = stale.json().await.unwrap();
    assert_eq!(body["error"]["code"], "version_conflict");
    assert_eq!(body["error"]["current"]["version"], 2);
    assert_eq!(body["error"]["current"]["priority"], "P2");
    assert_eq!(s.latest_seq().await, seq);
}

#[tokio::test]
async fn lifecycle_through_the_api() {
    let s = TestServer::start().await;
    let id = s.new_ticket("融资融券担保比例异常").await["id"]
        .as_i64()
        .unwrap();
    let h = s.handler();
    let go = |body: Value| {
        h.post(s.url(&format!("/api/v1/tickets/{id}/transitions")))
            .json(&body)
            .send()
    };

    let bad = go(json!({"to": "resolved", "resolution": "x"}))
        .await
        .unwrap();
    assert_eq!(error_code(bad, 409).await, "invalid_transition");

    let t: Value = go(json!({"to": "triaging"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["status"], "triaging");
    assert!(t["first_responded_at"].is_string());

    let no_note = go(json!({"to": "transferred", "transfer_to": "dev"}))
        .await
        .unwrap();
    assert_eq!(error_code(no_note, 422).await, "invalid_transition");
    let t: Value = go(
        json!({"to": "transferred", "transfer_to": "ops", "note": "UPDATE 股东卡状态，请审核脚本"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        (t["status"].as_str(), t["transfer_to"].as_str()),
        (Some("transferred"), Some("ops"))
    );

    let t: Value =
        go(json!({"to": "resolved", "resolution": "运维已执行修复脚本，股东卡状态已恢复"}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(t["status"], "resolved");
    assert_eq!(t["sla"]["resolve"]["state"], "met");
    // The submitter sees the answer in the conversation.
    let msgs: Value = s
        .submitter()
        .get(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        msgs.as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"].as_str().unwrap().contains("修复脚本"))
    );

    let t: Value = go(json!({"to": "closed"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["status"], "closed");
    let t: Value = go(json!({"to": "triaging"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["status"], "triaging", "reopen");
    assert!(t["resolved_at"].is_null());

    // A stale version on a transition is refused too.
    let stale = go(json!({"to": "waiting_submitter", "version": 1}))
        .await
        .unwrap();
    assert_eq!(error_code(stale, 409).await, "version_conflict");
}

#[tokio::test]
async fn waiting_on_the_submitter_pauses_and_their_answer_resumes() {
    let s = TestServer::start().await;
    let id = s.new_ticket("登录验证码收不到").await["id"]
        .as_i64()
        .unwrap();
    let h = s.handler();
    for to in ["triaging", "waiting_submitter"] {
        let r = h
            .post(s.url(&format!("/api/v1/tickets/{id}/transitions")))
            .json(&json!({"to": to}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let t: Value = h
        .get(s.url(&format!("/api/v1/tickets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        t["sla"]["resolve"]["paused_reason"],
        "waiting on the submitter"
    );
    let r = s
        .submitter()
        .post(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .json(&json!({"body": "客户手机号是 13812341234，运营商移动"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let t: Value = h
        .get(s.url(&format!("/api/v1/tickets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["status"], "triaging");
    assert_eq!(t["sla_pauses"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn messages_internal_notes_and_attachments() {
    let s = TestServer::start().await;
    let id = s.new_ticket("APP 闪退").await["id"].as_i64().unwrap();
    let h = s.handler();
    let murl = s.url(&format!("/api/v1/tickets/{id}/messages"));
    assert_eq!(
        h.post(&murl)
            .json(&json!({"body": "请提供手机型号"}))
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(
        h.post(&murl)
            .json(&json!({"body": "ELK 查到 NPE", "internal": true}))
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let as_handler: Value = h.get(&murl).send().await.unwrap().json().await.unwrap();
    assert_eq!(as_handler.as_array().unwrap().len(), 2);
    let as_submitter: Value = s
        .submitter()
        .get(&murl)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        as_submitter.as_array().unwrap().len(),
        1,
        "internal notes stay internal"
    );
    let forbidden = s
        .submitter()
        .post(&murl)
        .json(&json!({"body": "x", "internal": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(forbidden, 403).await, "forbidden");
    let t: Value = h
        .get(s.url(&format!("/api/v1/tickets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        t["first_responded_at"].is_string(),
        "a public reply is a first response"
    );

    // A real screenshot, with an HTML payload glued after it: stored re-encoded, payload gone.
    let mut png = Vec::new();
    image::RgbImage::from_pixel(40, 30, image::Rgb([200, 30, 30]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut upload = png.clone();
    upload.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let up = s
        .submitter()
        .post(s.url(&format!(
            "/api/v1/tickets/{id}/attachments?filename=../../截图.png"
        )))
        .body(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), 201);
    let a: Value = up.json().await.unwrap();
    assert_eq!(a["filename"], "截图.png");
    assert_eq!(a["content_type"], "image/png");
    let aid = a["id"].as_i64().unwrap();
    let down = h
        .get(s.url(&format!("/api/v1/attachments/{aid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 200);
    assert_eq!(down.headers()["x-content-type-options"], "nosniff");
    assert!(
        down.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    let stored = down.bytes().await.unwrap();
    assert_eq!(image::load_from_memory(&stored).unwrap().width(), 40);
    assert!(
        !stored.windows(7).any(|w| w == b"<script"),
        "the glued payload is gone"
    );
    // Something that only looks like a PNG is refused, with a message for the phone.
    let fake = s
        .submitter()
        .post(s.url(&format!("/api/v1/tickets/{id}/attachments?filename=x.png")))
        .body(b"\x89PNG\r\n\x1a\nnot really a png".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(fake.status(), 422);
    let body: Value = fake.json().await.unwrap();
    assert!(
        !body["error"]["fields"][0]["zh"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    // Another submitter cannot fetch it; it does not exist for them.
    let other = s
        .client(&s.other_submitter_token)
        .get(s.url(&format!("/api/v1/attachments/{aid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(other, 404).await, "not_found");
    // HTML is never served as HTML.
    let html = s
        .submitter()
        .post(s.url(&format!("/api/v1/tickets/{id}/attachments?filename=x.html")))
        .body("<script>alert(1)</script>")
        .send()
        .await
        .unwrap();
    let hid = html.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let down = h
        .get(s.url(&format!("/api/v1/attachments/{hid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(down.headers()["content-type"], "application/octet-stream");
    assert!(
        down.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
}

#[tokio::test]
async fn links_assignment_and_the_audited_reveal() {
    let s = TestServer::start().await;
    let a = s.new_ticket("行情延迟 3 秒").await["id"].as_i64().unwrap();
    let b = s.new_ticket("行情刷新很慢").await["id"].as_i64().unwrap();
    let h = s.handler();
    let link = |from: i64, to: Value| {
        h.post(s.url(&format!("/api/v1/tickets/{from}/links")))
            .json(&json!({"kind": "duplicate_of", "target": to}))
            .send()
    };
    let t: Value = link(b, json!(a)).await.unwrap().json().await.unwrap();
    assert_eq!(t["links"]["duplicate_of"], a);
    assert_eq!(
        error_code(link(a, json!(b)).await.unwrap(), 409).await,
        "conflict",
        "no cycles"
    );
    assert_eq!(
        error_code(link(a, json!(a)).await.unwrap(), 409).await,
        "conflict",
        "not itself"
    );
    assert_eq!(
        error_code(link(a, json!(999_999)).await.unwrap(), 409).await,
        "conflict"
    );

    let assign = |who: Value| {
        h.post(s.url(&format!("/api/v1/tickets/{a}/assign")))
            .json(&json!({"assignee": who}))
            .send()
    };
    let t: Value = assign(json!("h_other"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["assignee"], "h_other");
    assert_eq!(
        error_code(assign(json!("cm_test")).await.unwrap(), 409).await,
        "conflict",
        "submitters are not handlers"
    );
    let t: Value = assign(Value::Null).await.unwrap().json().await.unwrap();
    assert!(t["assignee"].is_null());

    let full: Value = h
        .get(s.url(&format!("/api/v1/tickets/{a}/customer")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(full["phone"], "13812341234");
    let audit: Value = h
        .get(s.url(&format!("/api/v1/tickets/{a}/audit")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "customer.revealed" && e["actor"] == "h_test")
    );
    let denied = s
        .submitter()
        .get(s.url(&format!("/api/v1/tickets/{a}/customer")))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(denied, 403).await, "forbidden");
}

#[tokio::test]
async fn auth_and_roles() {
    let s = TestServer::start().await;
    let id = s.new_ticket("三方存管绑卡失败").await["id"]
        .as_i64()
        .unwrap();
    let anon = reqwest::Client::new();
    assert_eq!(
        error_code(
            anon.get(s.url("/api/v1/tickets")).send().await.unwrap(),
            401
        )
        .await,
        "unauthorized"
    );
    let forged = s.client("odt_0000000000000000000000000000000000000000000000000000000000000000");
    assert_eq!(
        error_code(
            forged.get(s.url("/api/v1/tickets")).send().await.unwrap(),
            401
        )
        .await,
        "unauthorized"
    );
    let garbage = s.client("not-a-token");
    assert_eq!(
        error_code(
            garbage.get(s.url("/api/v1/tickets")).send().await.unwrap(),
            401
        )
        .await,
        "unauthorized"
    );
    let basic = anon
        .get(s.url("/api/v1/tickets"))
        .header("Authorization", "Basic dXNlcjpwdw==")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(basic, 401).await, "unauthorized");

    let sub = s.submitter();
    let patch = sub
        .patch(s.url(&format!("/api/v1/tickets/{id}")))
        .json(&json!({"version": 1, "priority": "P1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(patch, 403).await, "forbidden");
    let tr = sub
        .post(s.url(&format!("/api/v1/tickets/{id}/transitions")))
        .json(&json!({"to": "triaging"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(tr, 403).await, "forbidden");
    assert_eq!(
        error_code(sub.get(s.url("/api/v1/events")).send().await.unwrap(), 403).await,
        "forbidden"
    );
    assert_eq!(
        error_code(sub.get(s.url("/api/v1/changes")).send().await.unwrap(), 403).await,
        "forbidden"
    );

    // A submitter sees their own tickets only; another's is "not found", not "forbidden".
    let other = s.client(&s.other_submitter_token);
    assert_eq!(
        error_code(
            other
                .get(s.url(&format!("/api/v1/tickets/{id}")))
                .send()
                .await
                .unwrap(),
            404
        )
        .await,
        "not_found"
    );
    let list: Value = other
        .get(s.url("/api/v1/tickets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    let mine: Value = sub
        .get(s.url("/api/v1/tickets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["total"], 1);
    // Admins work tickets too.
    let admin: Value = s
        .client(&s.admin_token)
        .get(s.url("/api/v1/tickets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(admin["total"], 1);
}

/// Every bad input gets its 4xx, the API's error shape, and writes nothing.
#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let s = TestServer::start().await;
    let id = s.new_ticket("清算后持仓不对").await["id"].as_i64().unwrap();
    let h = s.handler();
    let sub = s.submitter();
    let before = s.latest_seq().await;
    let tickets = s.url("/api/v1/tickets");
    let one = s.url(&format!("/api/v1/tickets/{id}"));
    let json_post = |url: &str, body: &str| {
        sub.post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
    };

    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        ("malformed JSON", json_post(&tickets, "{\"title\": "), 400, "malformed_json"),
        ("not JSON at all", json_post(&tickets, "title=x"), 400, "malformed_json"),
        ("unknown field", json_post(&tickets, &{
            let mut t = good_ticket("多出来的字段");
            t["severity"] = json!("high");
            t.to_string()
        }), 422, "invalid_body"),
        ("wrong type", json_post(&tickets, &{
            let mut t = good_ticket("类型错误的字段");
            t["priority"] = json!(1);
            t.to_string()
        }), 422, "invalid_body"),
        ("unknown enum word", json_post(&tickets, &{
            let mut t = good_ticket("优先级写错了");
            t["priority"] = json!("urgent");
            t.to_string()
        }), 422, "invalid_body"),
        ("missing content type", sub.post(&tickets).body(good_ticket("没有类型头").to_string()), 415, "unsupported_media_type"),
        ("one-line report", json_post(&tickets, &json!({"title": "交易不了", "description": "股票交易不了", "system": "trading", "customer": {"account": "310012345678"}}).to_string()), 422, "validation_failed"),
        ("no customer identifier", json_post(&tickets, &{
            let mut t = good_ticket("没有客户信息");
            t["customer"] = json!({"name": "张三"});
            t.to_string()
        }), 422, "validation_failed"),
        ("unknown system", json_post(&tickets, &{
            let mut t = good_ticket("系统不存在的");
            t["system"] = json!("spaceship");
            t.to_string()
        }), 422, "validation_failed"),
        ("oversize body", json_post(&tickets, &{
            let mut t = good_ticket("超大的请求体");
            t["description"] = json!("字".repeat(1_000_000));
            t.to_string()
        }), 413, "body_too_large"),
        ("bad idempotency key", json_post(&tickets, &good_ticket("幂等键不合法").to_string()).header("Idempotency-Key", "a b"), 422, "validation_failed"),
        ("patch without version", h.patch(&one).json(&json!({"priority": "P1"})), 422, "invalid_body"),
        ("patch unknown field", h.patch(&one).json(&json!({"version": 1, "status": "closed"})), 422, "invalid_body"),
        ("patch bad title", h.patch(&one).json(&json!({"version": 1, "title": "x"})), 422, "validation_failed"),
        ("bad transition", h.post(format!("{one}/transitions")).json(&json!({"to": "closed"})), 409, "invalid_transition"),
        ("unknown status", h.post(format!("{one}/transitions")).json(&json!({"to": "done"})), 422, "invalid_body"),
        ("stale version", h.patch(&one).json(&json!({"version": 7, "priority": "P1"})), 409, "version_conflict"),
        ("missing ticket", h.get(s.url("/api/v1/tickets/424242")), 404, "not_found"),
        ("missing ticket patch", h.patch(s.url("/api/v1/tickets/424242")).json(&json!({"version": 1})), 404, "not_found"),
        ("non-numeric id", h.get(s.url("/api/v1/tickets/abc")), 400, "bad_request"),
        ("bad filter", h.get(s.url("/api/v1/tickets?status=sleeping")), 400, "bad_request"),
        ("empty filter item", h.get(s.url("/api/v1/tickets?status=new,,triaging")), 400, "bad_request"),
        ("empty filter", h.get(s.url("/api/v1/tickets?category=")), 400, "bad_request"),
        ("padded filter item", h.get(s.url("/api/v1/tickets?category=%20data")), 400, "bad_request"),
        ("bad limit", h.get(s.url("/api/v1/tickets?limit=0")), 400, "bad_request"),
        ("unknown query", h.get(s.url("/api/v1/tickets?colour=red")), 400, "bad_request"),
        ("empty message", h.post(format!("{one}/messages")).json(&json!({"body": "  "})), 422, "validation_failed"),
        ("message on missing ticket", h.post(s.url("/api/v1/tickets/424242/messages")).json(&json!({"body": "你好"})), 404, "not_found"),
        ("empty attachment", h.post(format!("{one}/attachments?filename=a.png")).body(Vec::<u8>::new()), 422, "validation_failed"),
        ("attachment without name", h.post(format!("{one}/attachments")).body(vec![1u8, 2, 3]), 400, "bad_request"),
        ("oversize attachment", h.post(format!("{one}/attachments?filename=big.png")).body(vec![0u8; 11 * 1024 * 1024]), 413, "body_too_large"),
        ("wrong method", h.delete(&one), 405, "method_not_allowed"),
        ("unknown endpoint", h.get(s.url("/api/v1/nothing")), 404, "not_found"),
        ("bad Last-Event-ID", h.get(s.url("/api/v1/events")).header("Last-Event-ID", "yesterday"), 400, "bad_request"),
    ];
    for (what, request, status, code) in cases {
        let r = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(r.status().as_u16(), status, "{what}");
        assert_eq!(error_code(r, status).await, code, "{what}");
    }
    assert_eq!(s.latest_seq().await, before, "no bad input wrote anything");
    let t: Value = h.get(&one).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (t["version"].as_i64(), t["status"].as_str()),
        (Some(1), Some("new"))
    );
    // And the server still serves.
    assert_eq!(reqwest::get(s.url("/healthz")).await.unwrap().status(), 200);
}

#[tokio::test]
async fn validation_errors_name_fields_in_both_languages() {
    let s = TestServer::start().await;
    let r = s
        .submitter()
        .post(s.url("/api/v1/tickets"))
        .json(&json!({"title": "交易不了", "description": "股票交易不了", "system": "trading"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    let fields = v["error"]["fields"].as_array().unwrap();
    let names: Vec<&str> = fields
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["description", "customer"]);
    assert!(fields[0]["zh"].as_str().unwrap().contains("原始提示信息"));
    assert!(fields[0]["en"].as_str().unwrap().contains("exact message"));
}

#[tokio::test]
async fn restart_keeps_everything() {
    let s = TestServer::start().await;
    let id = s.new_ticket("理财赎回未到账").await["id"].as_i64().unwrap();
    s.handler()
        .post(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .json(&json!({"body": "T+1 到账，请客户明天再看"}))
        .send()
        .await
        .unwrap();
    let dir = s.dir.clone();
    let tmp = s.stop().await;
    let s = TestServer::start_in(&dir, opsdesk::config::Settings::default()).await;
    let h = s.handler();
    let t: Value = h
        .get(s.url(&format!("/api/v1/tickets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["title"], "理财赎回未到账");
    assert!(t["first_responded_at"].is_string());
    let msgs: Value = h
        .get(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(msgs.as_array().unwrap().len(), 1);
    s.stop().await;
    drop(tmp);
}

#[tokio::test]
async fn meta_endpoints() {
    let s = TestServer::start().await;
    let health: Value = reqwest::get(s.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    s.new_ticket("新股申购额度为零").await;
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
        metrics.contains("opsdesk_tickets{status=\"new\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("opsdesk_http_responses_total{class=\"2xx\"}"));
    let spec: Value = s
        .handler()
        .get(s.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with('3'));
    for path in [
        "/api/v1/tickets",
        "/api/v1/tickets/{id}",
        "/api/v1/events",
        "/api/v1/changes",
        "/api/v1/tickets/{id}/transitions",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} documented");
    }
    let systems: Value = s
        .handler()
        .get(s.url("/api/v1/systems"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(systems[2], json!({"key": "trading", "name": "交易"}));
    let me: Value = s
        .handler()
        .get(s.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "handler");
}

/// The value of an unlabelled series in a `/metrics` text.
fn gauge(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {metrics}"))
}

#[tokio::test]
async fn metrics_tell_how_far_the_holiday_calendars_reach() {
    use opsdesk::domain::calendar::COVERAGE_HORIZON_DAYS;

    let scrape = async |s: &TestServer| {
        s.handler()
            .get(s.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let s = TestServer::start().await;
    let metrics = scrape(&s).await;
    for name in [
        "opsdesk_calendar_covered_days",
        "opsdesk_calendar_coverage_ok",
    ] {
        assert!(metrics.contains(&format!("# HELP {name} ")), "{metrics}");
        assert!(
            metrics.contains(&format!("# TYPE {name} gauge")),
            "{metrics}"
        );
    }
    let days = gauge(&metrics, "opsdesk_calendar_covered_days");
    let ok = gauge(&metrics, "opsdesk_calendar_coverage_ok");
    // Whatever today is, the two agree: fine exactly while more than the horizon is covered.
    assert_eq!(
        ok,
        u64::from(days > u64::from(COVERAGE_HORIZON_DAYS)),
        "{days}"
    );
    s.stop().await;

    // A file for the year after the shipped ones, listed in business.calendar_files, reaches
    // a year further (as long as today's year has a file; before then it adds nothing).
    let dir = tempfile::tempdir().unwrap();
    let last_shipped = opsdesk::domain::calendar::BusinessCalendar::shipped_files()
        .iter()
        .map(|text| {
            opsdesk::domain::calendar::BusinessCalendar::parse_file(text)
                .unwrap()
                .year
        })
        .max()
        .unwrap();
    let next = last_shipped + 1;
    let file = dir.path().join(format!("cn-{next}.toml"));
    std::fs::write(
        &file,
        format!("year = {next}\n\n[[holiday]]\nname = \"元旦\"\ndates = [\"{next}-01-01\"]\n"),
    )
    .unwrap();
    let config = format!(
        "[business]\ncalendar_files = [{:?}]\n",
        file.display().to_string()
    );
    let path = std::path::Path::new("calendar-test.toml");
    let settings = opsdesk::config::Config::parse(&config, path)
        .and_then(|c| c.settings(path))
        .expect("settings");
    let s = TestServer::start_in(&dir.path().join("data"), settings).await;
    let extended = gauge(&scrape(&s).await, "opsdesk_calendar_covered_days");
    if days > 0 {
        let year_days = if chrono::NaiveDate::from_ymd_opt(next, 2, 29).is_some() {
            366
        } else {
            365
        };
        // One day less if Shanghai's midnight passed between the two scrapes.
        assert!(
            (days + year_days - 1..=days + year_days).contains(&extended),
            "{days} + {year_days} vs {extended}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn an_ops_script_is_approved_by_a_second_handler() {
    let s = TestServer::start().await;
    let id = s.new_ticket("股东卡状态与交易系统不一致").await["id"]
        .as_i64()
        .unwrap();
    let h = s.handler();
    let go = |body: Value| {
        h.post(s.url(&format!("/api/v1/tickets/{id}/transitions")))
            .json(&body)
            .send()
    };
    go(json!({"to": "triaging"})).await.unwrap();
    let approve = |c: reqwest::Client| {
        c.post(s.url(&format!("/api/v1/tickets/{id}/approve-script")))
            .json(&json!({}))
            .send()
    };
    assert_eq!(
        error_code(approve(s.handler()).await.unwrap(), 409).await,
        "approval_refused",
        "not an ops transfer yet"
    );
    let t: Value = go(json!({"to": "transferred", "transfer_to": "ops", "note": "UPDATE acct SET card_status='N' WHERE acct='310012345678';"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["transferred_by"], "h_test");
    assert!(t["script_approved_by"].is_null());
    assert_eq!(
        error_code(approve(s.handler()).await.unwrap(), 409).await,
        "approval_refused",
        "not by its author"
    );
    let t: Value = approve(s.client(&s.handler2_token))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["script_approved_by"], "h_other");
    assert_eq!(
        error_code(approve(s.client(&s.admin_token)).await.unwrap(), 409).await,
        "approval_refused",
        "once"
    );
    let submitter = s
        .submitter()
        .post(s.url(&format!("/api/v1/tickets/{id}/approve-script")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(submitter, 403).await, "forbidden");
    let audit: Value = h
        .get(s.url(&format!("/api/v1/tickets/{id}/audit")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "script.approved" && e["actor"] == "h_other")
    );
}

#[tokio::test]
async fn similar_tickets_are_matched_on_full_customer_values() {
    let s = TestServer::start().await;
    let post = |title: &str, system: &str, account: &str, description: &str| {
        let mut body = good_ticket(title);
        body["system"] = json!(system);
        body["customer"] = json!({"account": account});
        body["description"] = json!(description);
        let (client, url) = (s.submitter(), s.url("/api/v1/tickets"));
        async move {
            let v: Value = client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["id"].as_i64().unwrap()
        }
    };
    let first = post(
        "客户登录失败",
        "account",
        "310012345678",
        "客户今天上午在APP登录，输入密码后提示“登录失败，请稍后再试”，换了网络也一样。",
    )
    .await;
    let same_customer = post(
        "银证转账未到账",
        "depository",
        "310012345678",
        "客户下午从证券转出两万元到工商银行，显示转账成功，银行卡一直没有到账。",
    )
    .await;
    // Masked alike (3100****5678) but another customer, on another system.
    let look_alike = post(
        "理财申购失败",
        "wealth",
        "310099995678",
        "客户申购鑫享固收3号，提交后提示“申购失败”，账户资金充足，风险测评也在有效期内。",
    )
    .await;
    let same_problem = post(
        "客户登录失败提示密码错误",
        "account",
        "310011112222",
        "另一位客户APP登录时提示密码错误，客户确认密码没有改过，重置密码后仍然登录失败。",
    )
    .await;
    let url = s.url(&format!("/api/v1/tickets/{first}/similar"));
    let found: Vec<i64> = s
        .handler()
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(found.contains(&same_customer), "{found:?}");
    assert!(found.contains(&same_problem), "{found:?}");
    assert!(
        !found.contains(&look_alike),
        "masked look-alikes are not the same customer: {found:?}"
    );
    assert!(!found.contains(&first));
    assert_eq!(
        error_code(s.submitter().get(&url).send().await.unwrap(), 403).await,
        "forbidden"
    );
    let missing = s.url("/api/v1/tickets/99999/similar");
    assert_eq!(
        error_code(s.handler().get(&missing).send().await.unwrap(), 404).await,
        "not_found"
    );
}

/// Search reaches every ticket, closed ones too: words in the texts, a ticket number, a
/// customer's full account written with dashes; a wildcard is a character, not a pattern.
#[tokio::test]
async fn search_finds_closed_tickets_by_words_number_and_customer() {
    let s = TestServer::start().await;
    let id = s.new_ticket("港股通额度查询报错").await["id"]
        .as_i64()
        .unwrap();
    let other = s.new_ticket("理财产品赎回未到账").await["id"]
        .as_i64()
        .unwrap();
    let h = s.handler();
    for body in [
        json!({"to": "triaging"}),
        json!({"to": "resolved", "resolution": "额度接口超时，已重启网关"}),
        json!({"to": "closed"}),
    ] {
        let r = h
            .post(s.url(&format!("/api/v1/tickets/{id}/transitions")))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{body}");
    }
    let find = async |q: &str| -> Vec<i64> {
        let v: Value = h
            .get(s.url("/api/v1/tickets"))
            .query(&[("q", q), ("limit", "50")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        find("港股通 额度").await,
        vec![id],
        "every word, closed included"
    );
    assert_eq!(
        find("重启网关").await,
        vec![id],
        "the resolution is searched"
    );
    assert_eq!(find(&format!("#{id}")).await, vec![id]);
    let both = find("3100-1234-5678").await;
    assert!(both.contains(&id) && both.contains(&other), "{both:?}");
    assert!(find("%").await.is_empty(), "a % is a character");
    assert!(find("港股通 赎回").await.is_empty());

    let long = "字".repeat(101);
    let r = h
        .get(s.url("/api/v1/tickets"))
        .query(&[("q", long.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, 400).await, "bad_request");
}

/// The demo's open tickets on a server seeded as `serve --demo` seeds it.
#[tokio::test]
async fn the_demo_crash_reports_find_each_other_and_not_the_rest() {
    let s = TestServer::start_demo().await;
    let similar = |id: i64| {
        let (h, url) = (s.handler(), s.url(&format!("/api/v1/tickets/{id}/similar")));
        async move {
            let r = h.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Vec<i64>>().await.unwrap()
        }
    };
    // Three reports of the APP crashing on a vivo Y78 after the 9.3.0 update, worded apart,
    // from three customers, one of them filed under market data.
    let vivo = [168, 185, 199];
    for id in vivo {
        let found = similar(id).await;
        for other in vivo.iter().filter(|v| **v != id) {
            assert!(found.contains(other), "#{id} finds #{other}: {found:?}");
        }
    }
    // An iPhone stuck on its start page and a face-ID login are other problems.
    for id in [174, 200] {
        let found = similar(id).await;
        assert!(found.iter().all(|f| !vivo.contains(f)), "#{id}: {found:?}");
    }
}

#[tokio::test]
async fn customer_numbers_with_spaces_and_dashes_are_stored_as_digits() {
    let s = TestServer::start().await;
    let mut body = good_ticket("客户登录提示密码错误");
    body["customer"] = json!({
        "account": "3100 1234 5678",
        "phone": "+86 138-1234-1234",
        "id_number": "110105 19491231 002x"
    });
    let r = s
        .submitter()
        .post(s.url("/api/v1/tickets"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let customer: Value = s
        .handler()
        .get(s.url(&format!("/api/v1/tickets/{id}/customer")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(customer["account"], "310012345678");
    assert_eq!(customer["phone"], "13812341234");
    assert_eq!(customer["id_number"], "11010519491231002X");
    // What is wrong besides the separators is still refused.
    body["customer"] = json!({"account": "3100 12ab"});
    let r = s
        .submitter()
        .post(s.url("/api/v1/tickets"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, 422).await, "validation_failed");
}

#[tokio::test]
async fn a_submitters_message_reopens_a_resolved_ticket_and_a_closed_one_refuses_it() {
    let s = TestServer::start().await;
    let id = s.new_ticket("客户转账未到账").await["id"].as_i64().unwrap();
    let h = s.handler();
    let move_to = |body: Value| {
        let (h, url) = (
            h.clone(),
            s.url(&format!("/api/v1/tickets/{id}/transitions")),
        );
        async move {
            let r = h.post(url).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
    };
    move_to(json!({"to": "triaging"})).await;
    move_to(json!({"to": "resolved", "resolution": "银行已退回，请客户重新转账"})).await;
    let post = |body: &str| {
        let (c, url) = (
            s.submitter(),
            s.url(&format!("/api/v1/tickets/{id}/messages")),
        );
        let body = json!({"body": body});
        async move { c.post(url).json(&body).send().await.unwrap() }
    };
    let r = post("客户重新转了，还是没到账").await;
    assert_eq!(r.status(), 201);
    let t: Value = h
        .get(s.url(&format!("/api/v1/tickets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["status"], "triaging");
    let unread: Value = h
        .get(s.url("/api/v1/unread"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        unread
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["ticket_id"] == id),
        "{unread}"
    );

    move_to(json!({"to": "resolved", "resolution": "银行通道恢复，已到账"})).await;
    move_to(json!({"to": "closed"})).await;
    let r = post("又没到账了").await;
    assert_eq!(error_code(r, 409).await, "ticket_closed");
    let messages: Value = h
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
            .all(|m| m["body"] != "又没到账了")
    );
    // Handlers still may write on it.
    let r = h
        .post(s.url(&format!("/api/v1/tickets/{id}/messages")))
        .json(&json!({"body": "补记：银行通道 B9999 已恢复", "internal": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn paging_values_out_of_range_are_refused_naming_the_parameter() {
    let s = TestServer::start().await;
    s.new_ticket("a ticket").await;
    for (query, name) in [
        ("offset=18446744073709551615", "offset"),
        ("offset=9223372036854775808", "offset"),
        ("offset=18446744073709551616", "offset"),
        ("offset=-1", "offset"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=18446744073709551616", "limit"),
    ] {
        let r = s
            .handler()
            .get(s.url(&format!("/api/v1/tickets?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{query}");
        let v: serde_json::Value = r.json().await.unwrap();
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains(name), "{query}: {message}");
    }
    // The largest offset the database can take answers an empty page, not the first one.
    let v: serde_json::Value = s
        .handler()
        .get(s.url("/api/v1/tickets?offset=9223372036854775807"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["tickets"].as_array().map(Vec::len), Some(0), "{v}");
    assert_eq!(v["total"], 1);
}

#[tokio::test]
async fn metrics_and_the_api_description_need_a_token_unless_configured_public() {
    let s = TestServer::start().await;
    for path in ["/metrics", "/api/v1/openapi.json"] {
        let r = reqwest::get(s.url(path)).await.unwrap();
        assert_eq!(error_code(r, 401).await, "unauthorized", "{path}");
    }
    // The counters are for handlers and admins; the description for any token.
    let r = s.submitter().get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(error_code(r, 403).await, "forbidden");
    let r = s
        .submitter()
        .get(s.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .client(&s.admin_token)
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.stop().await;

    let tmp = tempfile::tempdir().unwrap();
    let config = opsdesk::config::Config::parse(
        "[server]\nmetrics = \"public\"\nopenapi = \"public\"\n",
        std::path::Path::new("opsdesk.toml"),
    )
    .unwrap();
    let settings = config
        .settings(std::path::Path::new("opsdesk.toml"))
        .unwrap();
    let s = TestServer::start_in(tmp.path(), settings).await;
    for path in ["/metrics", "/api/v1/openapi.json"] {
        let r = reqwest::get(s.url(path)).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let wrong = opsdesk::config::Config::parse(
        "[server]\nmetrics = \"open\"\n",
        std::path::Path::new("opsdesk.toml"),
    );
    assert!(wrong.is_err());
}

#[tokio::test]
async fn api_answers_are_never_sniffed() {
    let s = TestServer::start().await;
    let id = s.new_ticket("嗅探检查的工单").await["id"].as_i64().unwrap();
    let answers = [
        s.handler()
            .get(s.url(&format!("/api/v1/tickets/{id}")))
            .send()
            .await
            .unwrap(),
        s.handler()
            .get(s.url("/api/v1/tickets?limit=0"))
            .send()
            .await
            .unwrap(),
        reqwest::get(s.url("/api/v1/tickets")).await.unwrap(),
        reqwest::get(s.url("/api/v1/nothing-here")).await.unwrap(),
        s.handler()
            .delete(s.url("/api/v1/systems"))
            .send()
            .await
            .unwrap(),
        reqwest::get(s.url("/healthz")).await.unwrap(),
    ];
    for r in answers {
        assert_eq!(
            r.headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{} {}",
            r.url(),
            r.status()
        );
    }
}

#[tokio::test]
async fn the_knowledge_base_finds_account_opening_failures_however_typed() {
    let s = TestServer::start_demo().await;
    let search = |token: String, q: &'static str| {
        let client = s.client(&token);
        let url = s.url("/api/v1/kb/articles");
        async move {
            let r = client
                .get(url)
                .query(&[("q", q), ("limit", "5")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{q}");
            r.json::<Value>().await.unwrap()
        }
    };
    let handler = s.handler_token.clone();
    for q in ["khsb", "kaihushibai", "开户失败", "kaihu", "opne acount"] {
        let page = search(handler.clone(), q).await;
        let top = page["articles"].as_array().unwrap();
        assert!(top.len() >= 3, "{q}: {page}");
        assert!(
            top[0]["title"].as_str().unwrap().starts_with("开户失败"),
            "{q}: {page}"
        );
        assert!(
            top[..3].iter().all(|a| a["system"] == "account_opening"),
            "{q}: {page}"
        );
    }
    let page = search(handler.clone(), "khsb").await;
    assert_eq!(page["articles"][0]["highlights"], json!([[0, 4]]));
    assert_eq!(page["related"], false);

    // A ticket's title matches no article whole: the articles it is about come instead.
    let page = search(handler.clone(), "客户开户时视频见证一直失败怎么办").await;
    assert_eq!(page["related"], true, "{page}");
    assert_eq!(page["articles"][0]["system"], "account_opening", "{page}");

    // Submitters see only what is meant for them; a handlers' article is not found for them.
    let everything = |token: String| {
        let client = s.client(&token);
        let url = s.url("/api/v1/kb/articles");
        async move {
            let r = client
                .get(url)
                .query(&[("limit", "100")])
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    let all = everything(handler.clone()).await;
    let theirs = everything(s.submitter_token.clone()).await;
    assert!(
        theirs["total"].as_u64() < all["total"].as_u64(),
        "{}",
        theirs["total"]
    );
    assert!(
        theirs["articles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["audience"] == "submitters")
    );
    let internal = all["articles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["audience"] == "handlers")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let url = s.url(&format!("/api/v1/kb/articles/{internal}"));
    assert_eq!(
        error_code(s.submitter().get(&url).send().await.unwrap(), 404).await,
        "not_found"
    );

    // Reading counts a view, "helpful" a vote; the article's steps come whole.
    let json = |r: reqwest::RequestBuilder| async move {
        r.send().await.unwrap().json::<Value>().await.unwrap()
    };
    let open = json(s.handler().get(&url)).await;
    assert!(open["steps"].as_str().unwrap().starts_with("1."), "{open}");
    let before = open["helpful"].as_u64().unwrap();
    let voted = json(s.handler().post(format!("{url}/helpful"))).await;
    assert_eq!(voted["helpful"].as_u64(), Some(before + 1));
    // Once a reader: a second "this helped" from the same handler does not count.
    let again = json(s.handler().post(format!("{url}/helpful"))).await;
    assert_eq!(again["helpful"].as_u64(), Some(before + 1));
    let other = json(s.client(&s.handler2_token).post(format!("{url}/helpful"))).await;
    assert_eq!(other["helpful"].as_u64(), Some(before + 2));
    let again = json(s.handler().get(&url)).await;
    assert_eq!(
        again["views"].as_u64(),
        Some(open["views"].as_u64().unwrap() + 1)
    );

    // Bad input: a clear 4xx, nothing counted.
    let kb = s.url("/api/v1/kb/articles");
    let long = "开".repeat(1001);
    for (what, r, status) in [
        (
            "long query",
            s.handler().get(&kb).query(&[("q", long.as_str())]),
            400,
        ),
        (
            "limit 0",
            s.handler().get(&kb).query(&[("limit", "0")]),
            400,
        ),
        (
            "unknown parameter",
            s.handler().get(&kb).query(&[("colour", "red")]),
            400,
        ),
        (
            "missing article",
            s.handler().get(s.url("/api/v1/kb/articles/999999")),
            404,
        ),
        (
            "not a number",
            s.handler().get(s.url("/api/v1/kb/articles/abc")),
            400,
        ),
    ] {
        assert_eq!(r.send().await.unwrap().status().as_u16(), status, "{what}");
    }
    let odd = json(
        s.handler()
            .get(&kb)
            .query(&[("q", "\u{0}\u{1b}[31m \"unclosed")]),
    )
    .await;
    assert!(
        odd["total"].is_u64(),
        "control characters are separators: {odd}"
    );
}

/// A new article as a handler writes one.
fn good_article(title: &str) -> Value {
    json!({
        "title": title,
        "system": "account_opening",
        "audience": "submitters",
        "tags": ["开户失败"],
        "symptoms": ["开户审核结果提示“中登开户接口超时”"],
        "cause": "中登接口在日终前后排队。",
        "steps": "1. 告知客户无需重新提交。\n2. 次日 9:30 后查看审核结果。",
    })
}

#[tokio::test]
async fn handlers_write_articles_that_keep_their_versions_and_tickets() {
    let s = TestServer::start().await;
    let ticket = s.new_ticket("客户开户审核提示中登接口超时").await["id"]
        .as_i64()
        .unwrap();
    let url = s.url("/api/v1/kb/articles");
    let mut body = good_article("开户失败：审核通过后提示“中登开户接口超时”");
    body["source_tickets"] = json!([ticket]);
    let r = s.handler().post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/v1/kb/articles/{id}"));
    assert_eq!(created["slug"], format!("account-opening-{id}"));
    assert_eq!(created["author"], "h_test");
    assert_eq!(created["version"], 1);
    assert_eq!(created["category"], "consultation");

    // Found at once, by initials, and by the ticket it was written from.
    let found: Value = s
        .handler()
        .get(&url)
        .query(&[("q", "zdkh")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["articles"][0]["id"], id, "{found}");
    let from_ticket: Value = s
        .handler()
        .get(&url)
        .query(&[("ticket", ticket.to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(from_ticket["total"], 1);
    assert_eq!(from_ticket["articles"][0]["id"], id);

    // Bad bodies are refused whole, field by field; nothing is written.
    let count = || async {
        let page: Value = s
            .handler()
            .get(&url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["total"].as_u64().unwrap()
    };
    let mut bad = good_article("短");
    bad["system"] = json!("nowhere");
    let r = s.handler().post(&url).json(&bad).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    let fields: Vec<&str> = e["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "system"], "{e}");
    for (key, value, code) in [
        ("version", json!(1), "validation_failed"),
        ("steps", json!("   "), "validation_failed"),
        ("slug", json!("Has Spaces"), "validation_failed"),
        ("source_tickets", json!([0]), "validation_failed"),
        ("tags", json!(vec!["x"; 11]), "validation_failed"),
        // The author is the caller: a body cannot name another.
        ("author", json!("someone_else"), "invalid_body"),
    ] {
        let mut b = good_article("开户失败：提示“证件已过期”");
        b[key] = value;
        let r = s.handler().post(&url).json(&b).send().await.unwrap();
        assert_eq!(error_code(r, 422).await, code, "{key}");
    }
    let mut taken = good_article("另一篇文章用了同一个编号");
    taken["slug"] = json!(format!("account-opening-{id}"));
    let r = s.handler().post(&url).json(&taken).send().await.unwrap();
    assert_eq!(error_code(r, 409).await, "conflict");
    let mut missing = good_article("来源工单不存在的文章");
    missing["source_tickets"] = json!([999_999]);
    let r = s.handler().post(&url).json(&missing).send().await.unwrap();
    assert_eq!(error_code(r, 409).await, "conflict");
    let r = s
        .submitter()
        .post(&url)
        .json(&good_article("提交人不能写文章"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, 403).await, "forbidden");
    assert_eq!(count().await, 1, "nothing refused was written");

    // An edit names the version it read; a stale one is refused, and the slug stays.
    let one = s.url(&format!("/api/v1/kb/articles/{id}"));
    let mut edit = body.clone();
    edit["version"] = json!(1);
    edit["steps"] = json!(
        "1. 告知客户无需重新提交。\n2. 次日 9:30 后查看审核结果。\n3. 仍失败转运维查中登回执。"
    );
    let r = s
        .client(&s.handler2_token)
        .put(&one)
        .json(&edit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["version"], 2);
    assert_eq!(
        updated["author"], "h_test",
        "the author stays; the editor is in the revisions"
    );
    assert!(updated["steps"].as_str().unwrap().contains("中登回执"));
    let r = s.handler().put(&one).json(&edit).send().await.unwrap();
    assert_eq!(error_code(r, 409).await, "version_conflict");
    let mut no_version = edit.clone();
    no_version.as_object_mut().unwrap().remove("version");
    let r = s
        .handler()
        .put(&one)
        .json(&no_version)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, 422).await, "validation_failed");
    let mut reslug = edit.clone();
    reslug["version"] = json!(2);
    reslug["slug"] = json!("another-slug");
    let r = s.handler().put(&one).json(&reslug).send().await.unwrap();
    assert_eq!(error_code(r, 409).await, "conflict");
    let r = s
        .handler()
        .put(s.url("/api/v1/kb/articles/999999"))
        .json(&reslug)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, 404).await, "not_found");
    let revisions: i64 = s
        .store
        .read(move |c| {
            Ok::<_, opsdesk::store::StoreError>(c.query_row(
                "SELECT count(*) FROM kb_revisions WHERE article_id = ?1 AND editor = 'h_other'",
                [id],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(revisions, 1);
    // What was there before, and who replaced it: handlers only.
    let history: Value = common::json_of(
        s.handler()
            .get(s.url(&format!("/api/v1/kb/articles/{id}/revisions"))),
    )
    .await;
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history[0]["version"], 1);
    assert_eq!(history[0]["replaced_by"], "h_other");
    let old = history[0]["file"].as_str().unwrap();
    assert!(
        old.starts_with("+++\n") && !old.contains("中登回执"),
        "{old}"
    );
    let r = s
        .submitter()
        .get(s.url(&format!("/api/v1/kb/articles/{id}/revisions")))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, 403).await, "forbidden");
    let r = s
        .handler()
        .get(s.url("/api/v1/kb/articles/999999/revisions"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, 404).await, "not_found");
}
