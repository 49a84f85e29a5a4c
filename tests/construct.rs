//! Account construction on a real server: plain and trading accounts built in the server's
//! own sandbox brokerage over loopback, an outage mid-run and the resume that finishes it
//! without calling a finished step again, a cancel, a batch, a call left unanswered, a server
//! killed mid-run, bad requests that change nothing, and the CLI in JSON mode.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::Duration;

use opsdesk::config::Settings;
use serde_json::{Value, json};

use common::{TestServer, binary, construct, error_code};

async fn server() -> (TestServer, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let s = construct::start(tmp.path(), Settings::default()).await;
    (s, tmp)
}

fn steps_named<'a>(detail: &'a Value, key: &str) -> Vec<&'a Value> {
    detail["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["key"] == key)
        .collect()
}

fn text(v: &Value) -> String {
    v.to_string()
}

/// `POST /api/v1/constructions/{id}/{action}` as the handler.
async fn act(s: &TestServer, id: i64, action: &str, body: Value) -> reqwest::Response {
    s.handler()
        .post(s.url(&format!("/api/v1/constructions/{id}/{action}")))
        .json(&body)
        .send()
        .await
        .expect("sent")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_and_a_trading_account_are_built_in_the_sandbox() {
    let (s, _tmp) = server().await;
    let mut events = s.construction_events().await;
    let runs = s
        .construct(json!({"recipe": "plain-account", "environment": "sandbox"}))
        .await;
    let id = runs[0]["id"].as_i64().unwrap();
    let plain = s.run_ended(id).await;
    assert_eq!(plain["status"], "succeeded", "{plain}");
    let steps = plain["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 35, "a plain account is 35 calls");
    assert!(steps.iter().all(|st| st["status"] == "succeeded"));
    assert_eq!(plain["calls"], 35);
    let result = &plain["result"];
    for key in [
        "customer_no",
        "fund_account",
        "sh_card",
        "sz_card",
        "trading_password",
    ] {
        assert!(
            result[key].as_str().is_some_and(|v| !v.is_empty()),
            "{key}: {result}"
        );
    }
    // The progress streamed: a step event of this run arrived.
    let mut saw_step = false;
    while let Some(e) = events.next(Duration::from_secs(2)).await {
        let v: Value = serde_json::from_str(&e.data).unwrap();
        if v["run"]["id"] == id && v["step"]["key"] == "account/create-customer" {
            saw_step = true;
            break;
        }
    }
    assert!(saw_step, "the create-customer step was streamed");

    // Customer data is masked in what the run shows; the password is hidden from records but
    // handed back in the result for copying.
    let name = plain["inputs"]["name"].as_str().unwrap();
    assert!(name.contains('*'), "name masked: {name}");
    let id_shown = plain["inputs"]["id_number"].as_str().unwrap();
    assert!(id_shown.contains('*'), "id number masked: {id_shown}");
    let password = result["trading_password"].as_str().unwrap();
    let records = text(&plain["steps"]);
    assert!(
        !records.contains(password),
        "the password stays out of the step records"
    );
    assert!(!text(&plain["inputs"]).contains(password));

    let runs = s
        .construct(json!({
            "recipe": "trading-account", "environment": "sandbox",
            "set": {"funds": "800000.00", "risk_level": "C4", "agreements": "chinext,star"}
        }))
        .await;
    let id = runs[0]["id"].as_i64().unwrap();
    let trading = s.run_ended(id).await;
    assert_eq!(trading["status"], "succeeded", "{trading}");
    assert_eq!(steps_named(&trading, "trading/sign-agreement[0]").len(), 1);
    assert_eq!(steps_named(&trading, "trading/sign-agreement[1]").len(), 1);
    // The sandbox holds what the run built: both agreements and the deposit, once.
    let fund = trading["result"]["fund_account"]
        .as_str()
        .unwrap()
        .to_string();
    let agreements = last_answer(&trading, "trading/list-agreements");
    let kinds: HashSet<&str> = agreements["data"]["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["kind"].as_str())
        .collect();
    assert_eq!(kinds, HashSet::from(["chinext", "star"]), "{agreements}");
    let balance = last_answer(&trading, "depository/get-balance");
    assert_eq!(balance["data"]["fund_account"], fund.as_str());
    assert_eq!(balance["data"]["available"], "800000.00", "{balance}");
}

/// The answer's body a step recorded.
fn last_answer(detail: &Value, key: &str) -> Value {
    steps_named(detail, key)
        .last()
        .unwrap_or_else(|| panic!("no step {key}"))["response"]["body"]
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outage_stops_the_run_and_a_resume_finishes_it_without_repeating_finished_steps() {
    let (s, _tmp) = server().await;
    s.outage(Some(600), &["trading"]).await;
    let runs = s
        .construct(
            json!({"recipe": "trading-account", "environment": "sandbox",
                          "set": {"funds": "600000.00"}}),
        )
        .await;
    let id = runs[0]["id"].as_i64().unwrap();
    let failed = s.run_ended(id).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["reason"], "unavailable");
    assert_eq!(failed["failed_step"], "trading/set-withdrawable");
    assert!(
        failed["message"].as_str().unwrap().contains("503"),
        "{failed}"
    );
    let retried = steps_named(&failed, "trading/set-withdrawable");
    assert_eq!(retried[0]["attempts"], 4, "retried as the recipe says");
    assert_eq!(
        retried[0]["response"]["status"], 503,
        "the last answer is kept"
    );
    assert_eq!(retried[0]["response"]["body"]["code"], "DEPLOYING");
    let deposit_before = steps_named(&failed, "depository/transfer-in")[0].clone();

    // A resume while the system is still away stops again at the same step.
    let r = act(&s, id, "resume", json!({})).await;
    assert_eq!(r.status(), 200);
    let again = s.run_ended(id).await;
    assert_eq!(again["status"], "failed");

    s.outage(None, &[]).await;
    let r = act(&s, id, "resume", json!({})).await;
    assert_eq!(r.status(), 200);
    let done = s.run_ended(id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    // The deposit (not idempotent) ran once: its record is the first one, and the money is
    // there once.
    let deposit_after = steps_named(&done, "depository/transfer-in")[0];
    assert_eq!(deposit_after["started_at"], deposit_before["started_at"]);
    assert_eq!(
        steps_named(&done, "account/create-customer")[0]["attempts"],
        1
    );
    let balance = last_answer(&done, "depository/get-balance");
    assert_eq!(balance["data"]["available"], "600000.00", "{balance}");

    // The two stops count in the reasons; the run counts as a success.
    let stats: Value = common::json_of(s.handler().get(s.url("/api/v1/constructions/stats"))).await;
    assert_eq!(stats["total"]["succeeded"], 1, "{stats}");
    let reasons = stats["reasons"].as_array().unwrap();
    assert_eq!(reasons[0]["reason"], "unavailable", "{stats}");
    assert_eq!(reasons[0]["step"], "trading/set-withdrawable");
    assert_eq!(reasons[0]["runs"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_run_stops_and_resumes() {
    let (s, _tmp) = server().await;
    s.outage(Some(600), &["depository"]).await;
    let mut events = s.construction_events().await;
    let runs = s
        .construct(json!({"recipe": "trading-account", "environment": "sandbox"}))
        .await;
    let id = runs[0]["id"].as_i64().unwrap();
    // Once it is retrying against the outage, cancel it.
    loop {
        let e = events
            .next(Duration::from_secs(30))
            .await
            .expect("progress");
        let v: Value = serde_json::from_str(&e.data).unwrap();
        if v["run"]["id"] == id && v["step"]["key"] == "account/archive" {
            break;
        }
    }
    let r = act(&s, id, "cancel", json!({})).await;
    assert_eq!(r.status(), 200);
    let cancelled = s.run_ended(id).await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    let r = act(&s, id, "cancel", json!({})).await;
    assert_eq!(error_code(r, 409).await, "conflict");
    s.outage(None, &[]).await;
    let r = act(&s, id, "resume", json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(s.run_ended(id).await["status"], "succeeded");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_builds_distinct_accounts() {
    let (s, _tmp) = server().await;
    let runs = s
        .construct(
            json!({"recipe": "plain-account", "environment": "sandbox", "count": 6, "seed": 7}),
        )
        .await;
    assert_eq!(runs.len(), 6);
    let batch = runs[0]["batch"].as_str().unwrap().to_string();
    let mut funds = HashSet::new();
    let mut ids = HashSet::new();
    for r in &runs {
        assert_eq!(r["batch"], batch.as_str());
        let d = s.run_ended(r["id"].as_i64().unwrap()).await;
        assert_eq!(d["status"], "succeeded", "{d}");
        funds.insert(d["result"]["fund_account"].as_str().unwrap().to_string());
        ids.insert(d["inputs"]["id_number"].as_str().unwrap().to_string());
    }
    assert_eq!(funds.len(), 6);
    let listed: Vec<Value> = common::json_of(s.handler().get(s.url(&format!(
        "/api/v1/constructions?batch={batch}&started_by=me"
    ))))
    .await;
    assert_eq!(listed.len(), 6);
    let stats: Value = common::json_of(s.handler().get(s.url("/api/v1/constructions/stats"))).await;
    assert_eq!(stats["total"]["succeeded"], 6);
    assert_eq!(stats["by_person"][0]["name"], "h_test");
    assert_eq!(stats["by_recipe"][0]["recipe"], "plain-account");
    assert!(stats["by_recipe"][0]["mean_ms"].as_i64().is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_are_refused_and_change_nothing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let recipes = tmp.path().join("recipes");
    std::fs::create_dir(&recipes).unwrap();
    std::fs::write(
        recipes.join("broken.toml"),
        "name = \"broken\"\ntitle = \"t\"\n\n[[stage]]\nname = \"account\"\n\n[[stage.step]]\nname = \"x\"\nsystem = \"account\"\nmethod = \"GET\"\npath = \"/customers/{{ nobody }}\"\n",
    )
    .unwrap();
    let mut settings = Settings::default();
    settings.construct.recipes_dir = Some(recipes);
    let data = tmp.path().join("data");
    let s = construct::start(&data, settings).await;
    let start = |body: Value| {
        s.handler()
            .post(s.url("/api/v1/constructions"))
            .json(&body)
            .send()
    };
    for (body, field) in [
        (
            json!({"recipe": "no-such", "environment": "sandbox"}),
            "recipe",
        ),
        (
            json!({"recipe": "plain-account", "environment": "uat9"}),
            "environment",
        ),
        (
            json!({"recipe": "plain-account", "environment": "sandbox", "count": 0}),
            "count",
        ),
        (
            json!({"recipe": "plain-account", "environment": "sandbox", "count": 201}),
            "count",
        ),
        (
            json!({"recipe": "plain-account", "environment": "sandbox", "set": {"id_number": "110101199003070000"}}),
            "set.id_number",
        ),
        (
            json!({"recipe": "plain-account", "environment": "sandbox", "set": {"name": "x"}}),
            "set.name",
        ),
        (
            json!({"recipe": "plain-account", "environment": "sandbox", "set": {"colour": "red"}}),
            "set.colour",
        ),
        (
            json!({"recipe": "broken", "environment": "sandbox"}),
            "recipe",
        ),
    ] {
        let r = start(body.clone()).await.unwrap();
        assert_eq!(r.status(), 422, "{body}");
        let answer: Value = r.json().await.unwrap();
        let fields = text(&answer["error"]["fields"]);
        assert!(fields.contains(&format!("\"{field}\"")), "{body}: {answer}");
        if body["recipe"] == "broken" {
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("broken.toml:11"),
                "{answer}"
            );
        }
    }
    // A submitter may not build accounts.
    let r = s
        .submitter()
        .post(s.url("/api/v1/constructions"))
        .json(&json!({"recipe": "plain-account", "environment": "sandbox"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let listed: Vec<Value> = common::json_of(s.handler().get(s.url("/api/v1/constructions"))).await;
    assert!(listed.is_empty(), "nothing was queued: {listed:?}");
    // The recipe list names the broken one's mistake with its line.
    let recipes: Vec<Value> = common::json_of(s.handler().get(s.url("/api/v1/recipes"))).await;
    let broken = recipes.iter().find(|r| r["name"] == "broken").unwrap();
    assert!(
        text(&broken["problems"]).contains("broken.toml:11"),
        "{broken}"
    );
    assert!(
        recipes
            .iter()
            .any(|r| r["name"] == "trading-account" && r["problems"] == json!([]))
    );

    // A retry with the same Idempotency-Key gets the first runs and starts nothing more.
    let body = json!({"recipe": "plain-account", "environment": "sandbox"});
    let send = || {
        s.handler()
            .post(s.url("/api/v1/constructions"))
            .header("Idempotency-Key", "k-1")
            .json(&body)
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let id = first[0]["id"].as_i64().unwrap();
    let done = s.run_ended(id).await;
    assert_eq!(done["status"], "succeeded");
    let listed: Vec<Value> = common::json_of(s.handler().get(s.url("/api/v1/constructions"))).await;
    assert_eq!(listed.len(), 1);
    // An ID number an account was already built with is refused.
    let detail_inputs = s
        .store
        .read(move |c| {
            Ok(c.query_row(
                "SELECT id_number FROM construct_runs WHERE id = ?1",
                [id],
                |r| r.get::<_, String>(0),
            )?)
        })
        .await
        .unwrap();
    let r = start(json!({"recipe": "plain-account", "environment": "sandbox",
                         "set": {"id_number": detail_inputs}}))
    .await
    .unwrap();
    assert_eq!(r.status(), 409);
    // A finished run is neither resumed nor cancelled.
    for action in ["resume", "cancel"] {
        let r = act(&s, id, action, json!({})).await;
        assert_eq!(error_code(r, 409).await, "conflict", "{action}");
    }
    let r = s
        .handler()
        .get(s.url("/api/v1/constructions/999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// A system that takes a request and never answers: the call of a step that is not
/// idempotent may have taken effect, so it is not made again unless the handler says so.
#[tokio::test(flavor = "multi_thread")]
async fn an_unanswered_call_of_a_step_that_is_not_idempotent_is_not_repeated_on_its_own() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(sock);
        }
    });
    let tmp = tempfile::tempdir().expect("temp dir");
    let recipes = tmp.path().join("recipes");
    std::fs::create_dir(&recipes).unwrap();
    std::fs::write(
        recipes.join("pay.toml"),
        r#"name = "pay"
title = "one payment"

[[stage]]
name = "trading"

[[stage.step]]
name = "pay"
system = "slow"
method = "POST"
path = "/pay"
json = { amount = 1 }
timeout = "300ms"
idempotent = false
"#,
    )
    .unwrap();
    let config = format!(
        "[construct]\nrecipes_dir = \"{}\"\n[[construct.environment]]\nname = \"slowenv\"\nsystems.slow = {{ url = \"http://{silent_addr}\" }}\n",
        recipes.display()
    );
    let path = tmp.path().join("opsdesk.toml");
    let settings = opsdesk::config::Config::parse(&config, &path)
        .unwrap()
        .settings(&path)
        .unwrap();
    let s = TestServer::start_in(&tmp.path().join("data"), settings).await;
    let runs = s
        .construct(json!({"recipe": "pay", "environment": "slowenv"}))
        .await;
    let id = runs[0]["id"].as_i64().unwrap();
    let d = s.run_ended(id).await;
    assert_eq!(d["status"], "failed", "{d}");
    assert_eq!(d["reason"], "unknown_outcome");
    assert_eq!(d["steps"][0]["status"], "unknown");
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "called once"
    );
    let r = act(&s, id, "resume", json!({"retry_unknown": false})).await;
    let answer: Value = r.json().await.unwrap();
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("trading/pay"),
        "{answer}"
    );
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "not called again"
    );
    let r = act(&s, id, "resume", json!({"retry_unknown": true})).await;
    assert_eq!(r.status(), 200);
    let d = s.run_ended(id).await;
    assert_eq!(d["reason"], "unknown_outcome");
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "called again when asked"
    );
}

async fn fetch(http: &reqwest::Client, url: &str, auth: &str) -> Value {
    http.get(url)
        .header("Authorization", auth)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json")
}

/// `opsdesk serve --demo`, its handler token read from what it prints.
fn serve_demo(dir: &std::path::Path, port: u16) -> (std::process::Child, String) {
    let mut child = binary()
        .args(["serve", "--demo", "--data"])
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let token = loop {
        let line = lines.next().expect("a token is printed").unwrap();
        if let Some(t) = line.split("Bearer ").nth(1) {
            break t
                .split_whitespace()
                .next()
                .unwrap()
                .trim_matches('\'')
                .to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, token)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_killed_mid_run_shows_it_interrupted_and_a_resume_finishes_it() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let (mut child, token) = serve_demo(tmp.path(), port);
    common::wait_healthy(&base).await;
    let http = reqwest::Client::new();
    let auth = format!("Bearer {token}");
    let r = http
        .post(format!("{base}/uat-sandbox/admin/outage"))
        .header("Authorization", &auth)
        .json(&json!({"seconds": 600, "systems": ["trading"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let runs: Value = http
        .post(format!("{base}/api/v1/constructions"))
        .header("Authorization", &auth)
        .json(&json!({"recipe": "trading-account", "environment": "sandbox"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = runs[0]["id"].as_i64().unwrap();
    // Kill it while the run retries against the outage in its trading stage.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let d: Value = fetch(&http, &format!("{base}/api/v1/constructions/{id}"), &auth).await;
        if d["steps_done"].as_i64().unwrap_or(0) >= 41 {
            assert_eq!(d["status"], "running", "{d}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{d}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let (mut child, token) = serve_demo(tmp.path(), port);
    common::wait_healthy(&base).await;
    let auth = format!("Bearer {token}");
    let d: Value = fetch(&http, &format!("{base}/api/v1/constructions/{id}"), &auth).await;
    assert_eq!(d["status"], "interrupted", "{d}");
    http.delete(format!("{base}/uat-sandbox/admin/outage"))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    let r = http
        .post(format!("{base}/api/v1/constructions/{id}/resume"))
        .header("Authorization", &auth)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let done = loop {
        let d: Value = fetch(&http, &format!("{base}/api/v1/constructions/{id}"), &auth).await;
        if !matches!(d["status"].as_str(), Some("queued" | "running")) {
            break d;
        }
        assert!(tokio::time::Instant::now() < deadline, "{d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(done["status"], "succeeded", "{done}");
    let deposits = done["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["key"] == "depository/transfer-in")
        .count();
    assert_eq!(deposits, 1);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_builds_an_account_and_prints_it_as_json() {
    let (s, _tmp) = server().await;
    let base = s.base.clone();
    let token = s.handler_token.clone();
    let out = tokio::task::spawn_blocking(move || {
        binary()
            .args([
                "construct",
                "run",
                "plain-account",
                "--env",
                "sandbox",
                "--json",
                "--set",
            ])
            .arg("name=李小龙")
            .args(["--server", &base, "--token", &token])
            .output()
            .expect("runs")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["inputs"]["name"], "李**");
    assert!(run["result"]["fund_account"].as_str().is_some());
    assert!(String::from_utf8_lossy(&out.stderr).contains("account/create-customer"));

    // Refusals exit 2 and print nothing on stdout.
    for args in [
        vec!["construct", "run", "plain-account", "--set", "novalue"],
        vec![
            "construct",
            "run",
            "plain-account",
            "--env",
            "sandbox",
            "--set",
            "id_number=123",
        ],
        vec!["construct", "run", "no-such-recipe", "--env", "sandbox"],
    ] {
        let (base, token) = (s.base.clone(), s.handler_token.clone());
        let out = tokio::task::spawn_blocking(move || {
            binary()
                .args(&args)
                .args(["--server", &base, "--token", &token])
                .output()
                .expect("runs")
        })
        .await
        .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty());
    }

    // A recipe file with a mistake: its file and line.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    std::fs::write(&file, "name = \"mine\"\ntitle = \"t\"\n[[stage]]\nname = \"a\"\n[[stage.step]]\nname = \"s\"\nsystem = \"account\"\nmethod = \"FETCH\"\npath = \"/x\"\n").unwrap();
    let mut child = binary()
        .args(["construct", "check"])
        .arg(&file)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(2));
    assert!(err.contains("mine.toml:8"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_business_refusal_mid_run_stops_it_with_the_systems_words() {
    let (s, _tmp) = server().await;
    let runs = s
        .construct(json!({
            "recipe": "trading-account", "environment": "sandbox",
            "set": {"risk_level": "C3", "agreements": "chinext"}
        }))
        .await;
    let id = runs[0]["id"].as_i64().unwrap();
    let d = s.run_ended(id).await;
    assert_eq!(d["status"], "failed", "{d}");
    assert_eq!(d["reason"], "business");
    assert_eq!(d["failed_step"], "trading/sign-agreement[0]");
    let message = d["message"].as_str().unwrap();
    assert!(
        message.contains("C4"),
        "the sandbox's reason is passed on: {message}"
    );
    // Everything before it was built and stays so; the step's answer is in view.
    assert_eq!(d["steps_done"], 42, "{d}");
    let step = steps_named(&d, "trading/sign-agreement[0]")[0];
    assert_eq!(step["status"], "failed");
    assert_ne!(step["response"]["body"]["code"], "0");
}
