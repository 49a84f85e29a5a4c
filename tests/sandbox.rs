//! The sandbox brokerage under `/uat-sandbox/` on a real server: a plain account and a trading
//! account built by raw HTTP through every call in the demo recipes' order, the business
//! refusals along the way, the key, and the outage switch (also across a restart).

mod common;

use std::sync::Arc;

use chrono::{Datelike, Utc};
use opsdesk::config::Settings;
use opsdesk::domain::validate::id_check_char;
use opsdesk::service::Desk;
use reqwest::Method;
use serde_json::{Value, json};

use common::TestServer;

fn sandbox_settings() -> Settings {
    let mut settings = Settings::default();
    settings.construct.sandbox = true;
    settings
}

/// A server with the sandbox on, its key, and the temp dir its data lives in.
async fn start() -> (TestServer, String, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start_in(tmp.path(), sandbox_settings()).await;
    let key = sandbox_key(&server).await;
    (server, key, tmp)
}

async fn sandbox_key(server: &TestServer) -> String {
    let desk = Desk::new(server.store.clone(), Arc::new(sandbox_settings()));
    opsdesk::server::sandbox::key(&desk)
        .await
        .expect("the sandbox key")
}

/// An ID number with the right check character.
fn id_number(first17: &str) -> String {
    format!("{first17}{}", char::from(id_check_char(first17.as_bytes())))
}

/// An adult's ID number born in `year`, told apart by `seq` (three digits).
fn adult_id(year: i32, seq: u32) -> String {
    id_number(&format!("440305{year}0615{seq:03}"))
}

fn luhn_card(body: &str) -> String {
    format!(
        "{body}{}",
        opsdesk::domain::construct::generate::luhn_digit(body)
    )
}

struct Sandbox {
    http: reqwest::Client,
    base: String,
    key: String,
}

struct Answer {
    status: u16,
    body: Value,
    retry_after: Option<String>,
}

impl Sandbox {
    fn new(server: &TestServer, key: &str) -> Sandbox {
        Sandbox {
            http: reqwest::Client::new(),
            base: server.url("/uat-sandbox"),
            key: key.to_string(),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Answer {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("send");
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        assert!(
            ct.starts_with("application/json"),
            "{path}: content-type {ct}"
        );
        let body: Value = r.json().await.expect("a JSON envelope");
        assert!(
            body["code"].is_string() && body["message"].is_string(),
            "{path}: {body}"
        );
        Answer {
            status,
            body,
            retry_after,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.send(method, path, body, Some(&self.key)).await
    }

    /// A call that must succeed; answers its `data`.
    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let a = self.call(method, path, body).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert_eq!(a.body["code"], "0", "{path}: {}", a.body);
        assert_eq!(a.body["message"], "成功");
        a.body["data"].clone()
    }

    /// A call the business refuses (HTTP 200) with `code`; answers the message.
    async fn refused(&self, method: Method, path: &str, body: Option<Value>, code: &str) -> String {
        let a = self.call(method, path, body).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert_eq!(a.body["code"], code, "{path}: {}", a.body);
        let message = a.body["message"].as_str().unwrap_or_default().to_string();
        assert!(!message.is_empty());
        message
    }
}

/// What a plain account hands back.
struct Account {
    customer_no: String,
    fund_account: String,
}

/// The plain-account recipe's 35 calls, in its order.
async fn plain_account(
    sb: &Sandbox,
    name: &str,
    id: &str,
    level: &str,
    years: u32,
    fund_password: &str,
) -> Account {
    let answers = match level {
        "C1" => "AAAAAAAAAA",
        "C2" => "BBBBBBBBBB",
        "C3" => "CCCCCCCCCC",
        "C4" => "DDDDDDDDDD",
        _ => "EEEEEEEEEE",
    };
    let created = sb
        .ok(
            Method::POST,
            "/account/customers",
            Some(json!({"name": name, "id_number": id, "phone": "13812341234"})),
        )
        .await;
    assert_eq!(created["status"], "opening");
    let no = created["customer_no"]
        .as_str()
        .expect("customer_no")
        .to_string();
    let c = |rest: &str| format!("/account/customers/{no}{rest}");

    sb.ok(
        Method::POST,
        &c("/identity/verify"),
        Some(json!({"name": name, "id_number": id})),
    )
    .await;
    for side in ["front", "back"] {
        let d = sb
            .ok(
                Method::POST,
                &c("/id-images"),
                Some(json!({"side": side, "file_name": format!("id-{side}.jpg"), "size": 245760})),
            )
            .await;
        assert!(d["image_id"].is_string());
    }
    let face = sb
        .ok(
            Method::POST,
            &c("/face-compare"),
            Some(json!({"file_name": "live.jpg", "size": 198656})),
        )
        .await;
    assert_eq!(face["passed"], true);
    sb.ok(
        Method::PUT,
        &c("/contact"),
        Some(json!({"phone": "13812341234", "address": "上海市浦东新区世纪大道 100 号", "postcode": "200120"})),
    )
    .await;
    sb.ok(
        Method::PUT,
        &c("/profile"),
        Some(json!({"occupation": "staff", "education": "bachelor"})),
    )
    .await;
    sb.ok(
        Method::PUT,
        &c("/tax-residency"),
        Some(json!({"kind": "cn_only"})),
    )
    .await;
    sb.ok(
        Method::PUT,
        &c("/beneficial-owner"),
        Some(json!({"is_self": true})),
    )
    .await;
    sb.ok(
        Method::PUT,
        &c("/actual-controller"),
        Some(json!({"is_self": true})),
    )
    .await;
    sb.ok(Method::POST, &c("/credit-check"), None).await;
    sb.ok(Method::POST, &c("/aml-screening"), None).await;
    let q = sb
        .ok(Method::GET, "/account/risk-questionnaire", None)
        .await;
    assert_eq!(q["questions"].as_array().map(Vec::len), Some(10));
    assert_eq!(q["questions"][0]["options"][4]["score"], 5);

    // Before the risk level is confirmed, no fund account.
    let m = sb
        .refused(Method::POST, &c("/fund-account"), None, "E_STATE")
        .await;
    assert!(m.contains("风险测评确认"), "{m}");

    let assessed = sb
        .ok(
            Method::POST,
            &c("/risk-assessment"),
            Some(json!({"answers": answers})),
        )
        .await;
    assert_eq!(assessed["risk_level"], level);
    sb.ok(
        Method::POST,
        &c("/risk-assessment/confirm"),
        Some(json!({"level": level})),
    )
    .await;
    sb.ok(
        Method::PUT,
        &c("/investment-experience"),
        Some(json!({"years": years})),
    )
    .await;
    let suit = sb.ok(Method::POST, &c("/suitability/confirm"), None).await;
    assert_eq!(suit["risk_level"], level);
    for kind in ["account_opening", "risk_disclosure"] {
        sb.ok(Method::POST, &c("/agreements"), Some(json!({"kind": kind})))
            .await;
    }
    let fa = sb.ok(Method::POST, &c("/fund-account"), None).await;
    let fund_account = fa["fund_account"]
        .as_str()
        .expect("fund_account")
        .to_string();
    // Opening again answers the same account.
    let again = sb.ok(Method::POST, &c("/fund-account"), None).await;
    assert_eq!(again["fund_account"], fund_account.as_str());

    sb.ok(
        Method::PUT,
        &c("/trade-password"),
        Some(json!({"password": "135790"})),
    )
    .await;
    sb.ok(
        Method::PUT,
        &c("/fund-password"),
        Some(json!({"password": fund_password})),
    )
    .await;
    let sh = sb
        .ok(
            Method::POST,
            &c("/shareholder-cards"),
            Some(json!({"market": "SH"})),
        )
        .await;
    let sz = sb
        .ok(
            Method::POST,
            &c("/shareholder-cards"),
            Some(json!({"market": "SZ"})),
        )
        .await;
    let sh_card = sh["card_no"].as_str().expect("SH card").to_string();
    assert!(sh_card.starts_with('A'), "{sh_card}");
    assert!(sz["card_no"].as_str().is_some_and(|c| c.starts_with('0')));
    sb.ok(
        Method::POST,
        &c("/designated-trading"),
        Some(json!({"card_no": sh_card})),
    )
    .await;
    sb.ok(
        Method::POST,
        &c("/video-witness"),
        Some(json!({"witness": "S0001", "duration_secs": 180})),
    )
    .await;
    sb.ok(
        Method::POST,
        &c("/review"),
        Some(json!({"reviewer": "S0001", "result": "approved"})),
    )
    .await;
    sb.ok(
        Method::POST,
        &c("/return-visit"),
        Some(json!({"channel": "phone", "satisfied": true})),
    )
    .await;
    sb.ok(
        Method::PUT,
        &c("/commission-template"),
        Some(json!({"template": "standard"})),
    )
    .await;
    sb.ok(
        Method::PUT,
        &c("/customer-manager"),
        Some(json!({"manager_no": "M0001"})),
    )
    .await;
    let active = sb.ok(Method::POST, &c("/activate"), None).await;
    assert_eq!(active["status"], "active");
    let read = sb.ok(Method::GET, &c(""), None).await;
    assert_eq!(read["status"], "active");
    assert_eq!(read["missing"], json!([]));
    assert!(read["id_number"].as_str().is_some_and(|v| v.contains('*')));
    let fa_read = sb.ok(Method::GET, &c("/fund-account"), None).await;
    assert_eq!(fa_read["fund_account"], fund_account.as_str());
    let cards = sb.ok(Method::GET, &c("/shareholder-cards"), None).await;
    assert_eq!(cards["cards"].as_array().map(Vec::len), Some(2));
    assert_eq!(cards["cards"][0]["designated"], true);
    let archived = sb.ok(Method::POST, &c("/archive"), None).await;
    assert!(archived["archive_no"].is_string());
    Account {
        customer_no: no,
        fund_account,
    }
}

#[tokio::test]
async fn a_plain_and_a_trading_account_are_built_call_by_call() {
    let (server, key, _tmp) = start().await;
    let sb = Sandbox::new(&server, &key);
    let year = Utc::now().year();

    // The key: none, or a wrong one, is a 401 in the envelope.
    let body = json!({"name": "张三", "id_number": adult_id(year - 30, 1), "phone": "13812341234"});
    for k in [None, Some("sbx_wrong")] {
        let a = sb
            .send(Method::POST, "/account/customers", Some(body.clone()), k)
            .await;
        assert_eq!(a.status, 401, "{}", a.body);
        assert_eq!(a.body["code"], "E_AUTH");
    }

    // Business refusals on creation, HTTP 200 with their own code.
    let mut bad_check = adult_id(year - 30, 2);
    let last = bad_check.pop().expect("a check character");
    bad_check.push(if last == '0' { '1' } else { '0' });
    let new =
        |name: &str, id: &str| Some(json!({"name": name, "id_number": id, "phone": "13812341234"}));
    sb.refused(
        Method::POST,
        "/account/customers",
        new("张三", &bad_check),
        "E_ID_CHECK",
    )
    .await;
    let child = id_number(&format!("110105{}0101123", year - 10));
    let m = sb
        .refused(
            Method::POST,
            "/account/customers",
            new("张小三", &child),
            "E_UNDERAGE",
        )
        .await;
    assert!(m.contains("18"), "{m}");
    sb.refused(
        Method::POST,
        "/account/customers",
        new("<script>alert(1)</script>", &adult_id(year - 30, 3)),
        "E_NAME",
    )
    .await;

    // Bodies that cannot be read are 400s; an unknown customer is a 404; both in the envelope.
    let r = sb
        .http
        .post(format!("{}/account/customers", sb.base))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["code"], "E_PARAM");
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let r = sb
        .http
        .post(format!("{}/account/customers", sb.base))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 413);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["code"], "E_PARAM");
    let long = sb
        .call(
            Method::POST,
            "/account/customers",
            new(&"张".repeat(41), &adult_id(year - 30, 6)),
        )
        .await;
    assert_eq!(
        (long.status, long.body["code"].as_str()),
        (400, Some("E_PARAM"))
    );
    let a = sb
        .call(
            Method::POST,
            "/account/customers",
            Some(json!({"name": "张三"})),
        )
        .await;
    assert_eq!((a.status, a.body["code"].as_str()), (400, Some("E_PARAM")));
    assert!(
        a.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("id_number"))
    );
    let a = sb
        .call(
            Method::POST,
            "/account/customers/8999999999/identity/verify",
            Some(json!({"name": "张三", "id_number": "x"})),
        )
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (404, Some("E_NOT_FOUND"))
    );
    let a = sb.call(Method::DELETE, "/account/customers", None).await;
    assert_eq!((a.status, a.body["code"].as_str()), (405, Some("E_METHOD")));
    let a = sb.call(Method::GET, "/account/no-such-thing", None).await;
    assert_eq!(a.status, 404);

    // A plain account at C3, then the refusals it meets.
    let plain_id = adult_id(year - 30, 1);
    let plain = plain_account(&sb, "张三", &plain_id, "C3", 3, "246802").await;
    sb.refused(
        Method::POST,
        "/account/customers",
        new("李四", &plain_id),
        "E_DUPLICATE",
    )
    .await;
    let m = sb
        .refused(
            Method::POST,
            &format!("/trading/accounts/{}/agreements", plain.fund_account),
            Some(json!({"kind": "chinext"})),
            "E_NOT_ELIGIBLE",
        )
        .await;
    assert!(
        m.contains("创业板") && m.contains("C4") && m.contains("C3"),
        "{m}"
    );
    // risk_warning needs only C3 (and no assets).
    sb.ok(
        Method::POST,
        &format!("/trading/accounts/{}/agreements", plain.fund_account),
        Some(json!({"kind": "risk_warning"})),
    )
    .await;

    // Activation names what is missing.
    let half = sb
        .ok(
            Method::POST,
            "/account/customers",
            new("王五", &adult_id(year - 40, 4)),
        )
        .await;
    let a = sb
        .call(
            Method::POST,
            &format!(
                "/account/customers/{}/activate",
                half["customer_no"].as_str().unwrap_or("")
            ),
            None,
        )
        .await;
    assert_eq!(a.body["code"], "E_PREREQUISITE");
    assert!(
        a.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("身份核验"))
    );
    assert!(
        a.body["data"]["missing"]
            .as_array()
            .is_some_and(|m| m.len() > 20)
    );

    // A trading account: C4, five years.
    let trader = plain_account(&sb, "欧阳娜娜", &adult_id(year - 35, 5), "C4", 5, "864200").await;
    assert_ne!(trader.customer_no, plain.customer_no);
    let fa = trader.fund_account.clone();

    let banks = sb.ok(Method::GET, "/depository/banks", None).await;
    assert!(
        banks["banks"]
            .as_array()
            .is_some_and(|b| b.iter().any(|b| b["code"] == "ICBC"))
    );
    // A China Merchants card offered as an ICBC card.
    let cmb_card = luhn_card("622588123456789");
    let m = sb
        .refused(
            Method::POST,
            "/depository/bindings",
            Some(json!({"fund_account": fa, "bank": "ICBC", "card_no": cmb_card})),
            "E_CARD_BANK",
        )
        .await;
    assert!(m.contains("工商银行"), "{m}");
    let icbc_card = luhn_card("622202123456789012");
    let bound = sb
        .ok(
            Method::POST,
            "/depository/bindings",
            Some(json!({"fund_account": fa, "bank": "ICBC", "card_no": icbc_card})),
        )
        .await;
    let binding = bound["binding_id"]
        .as_str()
        .expect("binding_id")
        .to_string();
    sb.ok(
        Method::POST,
        &format!("/depository/bindings/{binding}/verify"),
        Some(json!({"holder_name": "欧阳娜娜", "id_number": adult_id(year - 35, 5)})),
    )
    .await;
    sb.ok(
        Method::POST,
        &format!("/depository/bindings/{binding}/activate"),
        None,
    )
    .await;

    // A transfer in is not idempotent: twice the call, twice the money.
    let transfer = json!({"fund_account": fa, "amount": "250000.00", "fund_password": "864200"});
    let first = sb
        .ok(
            Method::POST,
            "/depository/transfers/in",
            Some(transfer.clone()),
        )
        .await;
    assert_eq!(first["available"], "250000.00");
    let balance = sb
        .ok(
            Method::GET,
            &format!("/depository/accounts/{fa}/balance"),
            None,
        )
        .await;
    assert_eq!(balance["available"], "250000.00");

    // 科创板 needs 500,000 in assets.
    let m = sb
        .refused(
            Method::POST,
            &format!("/trading/accounts/{fa}/agreements"),
            Some(json!({"kind": "star"})),
            "E_NOT_ELIGIBLE",
        )
        .await;
    assert!(m.contains("科创板") && m.contains("500000.00"), "{m}");

    let second = sb
        .ok(Method::POST, "/depository/transfers/in", Some(transfer))
        .await;
    assert_ne!(second["serial_no"], first["serial_no"]);
    let balance = sb
        .ok(
            Method::GET,
            &format!("/depository/accounts/{fa}/balance"),
            None,
        )
        .await;
    assert_eq!(balance["available"], "500000.00");
    // A wrong fund password moves nothing.
    sb.refused(
        Method::POST,
        "/depository/transfers/in",
        Some(json!({"fund_account": fa, "amount": 1, "fund_password": "111112"})),
        "E_PASSWORD",
    )
    .await;

    // Settlement: withdrawable at most the available funds.
    sb.refused(
        Method::PUT,
        &format!("/trading/accounts/{fa}/withdrawable"),
        Some(json!({"amount": "500000.01"})),
        "E_WITHDRAWABLE",
    )
    .await;
    let w = sb
        .ok(
            Method::PUT,
            &format!("/trading/accounts/{fa}/withdrawable"),
            Some(json!({"amount": 300000.0})),
        )
        .await;
    assert_eq!(w["withdrawable"], "300000.00");

    for kind in ["chinext", "star"] {
        let d = sb
            .ok(
                Method::POST,
                &format!("/trading/accounts/{fa}/agreements"),
                Some(json!({"kind": kind})),
            )
            .await;
        assert_eq!(d["kind"], kind);
    }
    let list = sb
        .ok(
            Method::GET,
            &format!("/trading/accounts/{fa}/agreements"),
            None,
        )
        .await;
    let kinds: Vec<&str> = list["agreements"]
        .as_array()
        .expect("agreements")
        .iter()
        .filter_map(|a| a["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["chinext", "star"]);
    // 债券合格投资者 needs 3,000,000.
    sb.refused(
        Method::POST,
        &format!("/trading/accounts/{fa}/agreements"),
        Some(json!({"kind": "bond"})),
        "E_NOT_ELIGIBLE",
    )
    .await;

    // The status counts what was made.
    let status: Value = server
        .handler()
        .get(server.url("/uat-sandbox/admin/status"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(status["code"], "0");
    assert_eq!(status["data"]["customers"], 3);
    assert_eq!(status["data"]["fund_accounts"], 2);
    assert_eq!(status["data"]["bindings"], 1);
    server.stop().await;
}

/// The depository answers 503 DEPLOYING with a Retry-After.
async fn assert_deploying(sb: &Sandbox) {
    let a = sb.call(Method::GET, "/depository/banks", None).await;
    assert_eq!(a.status, 503, "{}", a.body);
    assert_eq!(a.body["code"], "DEPLOYING");
    assert_eq!(a.body["message"], "系统部署中，请稍后再试");
    let secs: u64 = a
        .retry_after
        .as_deref()
        .and_then(|s| s.parse().ok())
        .expect("Retry-After");
    assert!((1..=600).contains(&secs), "{secs}");
}

#[tokio::test]
async fn the_outage_switch_takes_chosen_systems_down_until_turned_off() {
    let (server, key, tmp) = start().await;
    let sb = Sandbox::new(&server, &key);
    let outage = server.url("/uat-sandbox/admin/outage");
    let body = json!({"seconds": 600, "systems": ["depository"]});

    // Only a handler or an admin may flip it.
    let r = reqwest::Client::new()
        .post(&outage)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["code"], "E_AUTH");
    let r = server
        .client(&key)
        .post(&outage)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401, "the sandbox key is not an opsdesk token");
    let r = server
        .submitter()
        .post(&outage)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 403);
    let r = server
        .handler()
        .post(&outage)
        .json(&json!({"seconds": 0}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);

    let r = server
        .handler()
        .post(&outage)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["data"]["systems"], json!(["depository"]));

    assert_deploying(&sb).await;
    // Only the depository: the account system answers.
    sb.ok(Method::GET, "/account/risk-questionnaire", None)
        .await;
    let status: Value = server
        .handler()
        .get(server.url("/uat-sandbox/admin/status"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(status["data"]["outage"]["systems"], json!(["depository"]));
    let page = reqwest::get(server.url("/uat-sandbox/"))
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("部署中"), "{page}");

    // The switch is kept in the database: it holds across a restart.
    server.stop().await;
    let server = TestServer::start_in(tmp.path(), sandbox_settings()).await;
    assert_eq!(sandbox_key(&server).await, key, "the key is kept too");
    let sb = Sandbox::new(&server, &key);
    assert_deploying(&sb).await;

    let r = server
        .client(&server.admin_token)
        .delete(server.url("/uat-sandbox/admin/outage"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    sb.ok(Method::GET, "/depository/banks", None).await;

    // Without systems named, every system goes down.
    let r = server
        .handler()
        .post(server.url("/uat-sandbox/admin/outage"))
        .json(&json!({"seconds": 30}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    for path in ["/account/risk-questionnaire", "/depository/banks"] {
        let a = sb.call(Method::GET, path, None).await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (503, Some("DEPLOYING"))
        );
    }
    let r = server
        .handler()
        .delete(server.url("/uat-sandbox/admin/outage"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    sb.ok(Method::GET, "/account/risk-questionnaire", None)
        .await;
    server.stop().await;
}

#[tokio::test]
async fn the_page_says_it_is_a_sandbox_and_the_sandbox_is_off_unless_asked_for() {
    let (server, _key, _tmp) = start().await;
    let r = reqwest::get(server.url("/uat-sandbox/"))
        .await
        .expect("page");
    assert_eq!(r.status(), 200);
    let csp = r
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let page = r.text().await.expect("text");
    assert!(page.contains(
        "UAT 沙箱 · sandbox brokerage — not a real system; for account construction demos"
    ));
    assert!(page.contains("/uat-sandbox/depository/"));
    assert!(!page.contains("<script"));
    server.stop().await;

    let plain = TestServer::start().await;
    let r = reqwest::get(plain.url("/uat-sandbox/"))
        .await
        .expect("page");
    assert_eq!(r.status(), 404, "no sandbox without construct.sandbox");
    plain.stop().await;
}
