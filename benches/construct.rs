//! Account construction against the sandbox on loopback: `cargo bench --bench construct`.
//!
//! Targets (issue "Account construction"): a plain account (35 calls) ≤ 1 s; a batch of 100
//! accounts, 8 at a time, ≤ 30 s; scheduling overhead per step ≤ 1 ms.
//!
//! A server runs in this process on a fresh data dir, with the sandbox brokerage mounted and
//! the environment `sandbox` reaching it through loopback, exactly as `serve --demo` runs.
//! Runs are started through the API and followed until they end. The engine's own cost per
//! step is measured against a loopback echo system that answers at once: the same 35 calls
//! made by `engine::drive` (templates, checks, extraction, masking) and by a bare hyper
//! client, the difference divided by 35. The recording's cost per step (a SQLite write and an
//! event per step) is a server run's time against the engine's alone on the same sandbox.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use opsdesk::config::Settings;
use opsdesk::construct::config::{Construction, Environment};
use opsdesk::construct::engine::{self, Caller, Journal, Progress};
use opsdesk::construct::recipes::Recipes;
use opsdesk::domain::construct::generate::Draw;
use opsdesk::domain::construct::recipe::{Recipe, RecipeSource, Vars};
use opsdesk::domain::construct::run::StepRecord;
use opsdesk::domain::people::Role;
use opsdesk::service::Desk;
use opsdesk::store::{Store, users};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const PLAIN_RUNS: usize = 20;
const BATCH: u32 = 100;
const ECHO_RUNS: usize = 50;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

struct Silent;

impl Journal for Silent {
    async fn calling(&mut self, _: &StepRecord) -> Result<(), String> {
        Ok(())
    }
    async fn finished(&mut self, _: &StepRecord, _: Option<&Vars>, _: u32) -> Result<(), String> {
        Ok(())
    }
}

/// A server on a fresh data dir with the sandbox and the `sandbox` environment; its base
/// URL, a handler token and the environment.
async fn server(dir: &std::path::Path) -> (String, String, Environment) {
    let store = Store::open(dir).expect("store");
    let token = store
        .write(|ctx| {
            let u = users::insert(
                ctx.conn,
                "h_bench",
                "h_bench",
                Role::Handler,
                None,
                None,
                ctx.now,
            )?;
            users::issue_token(ctx.conn, &u, "bench", ctx.now)
        })
        .await
        .expect("token");
    let probe = Desk::new(store.clone(), Arc::new(Settings::default()));
    let key = opsdesk::server::sandbox::key(&probe).await.expect("key");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let env = Environment::sandbox(&base, key);
    let settings = Settings {
        construct: Construction {
            sandbox: true,
            environments: vec![env.clone()],
            ..Construction::default()
        },
        ..Settings::default()
    };
    let desk = Desk::new(store, Arc::new(settings));
    tokio::spawn(opsdesk::server::launch(
        listener,
        desk,
        std::future::pending(),
    ));
    (base, token, env)
}

/// Starts `count` runs of `recipe` and waits until every one has ended; the wall time and
/// the runs' own durations.
async fn build(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    recipe: &str,
    count: u32,
) -> (Duration, Vec<i64>) {
    let started = Instant::now();
    let runs: Vec<Value> = http
        .post(format!("{base}/api/v1/constructions"))
        .bearer_auth(token)
        .json(&json!({"recipe": recipe, "environment": "sandbox", "count": count}))
        .send()
        .await
        .expect("start")
        .json()
        .await
        .expect("runs");
    let mut open: HashSet<i64> = runs.iter().filter_map(|r| r["id"].as_i64()).collect();
    let mut durations = Vec::new();
    while !open.is_empty() {
        let list: Vec<Value> = http
            .get(format!("{base}/api/v1/constructions?limit=500"))
            .bearer_auth(token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("runs");
        for r in list {
            let id = r["id"].as_i64().unwrap_or_default();
            if open.contains(&id) && !matches!(r["status"].as_str(), Some("queued" | "running")) {
                assert_eq!(r["status"], "succeeded", "{r}");
                durations.push(r["duration_ms"].as_i64().unwrap_or_default());
                open.remove(&id);
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    (started.elapsed(), durations)
}

/// A system that answers every call at once with a success carrying what the recipe extracts.
async fn echo() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let answer = |_req: hyper::Request<hyper::body::Incoming>| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                        br#"{"code":"0","message":"ok","data":{"customer_no":"8000000001","fund_account":"318800000001"}}"#,
                    ))))
                };
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(sock), service_fn(answer))
                    .await;
            });
        }
    });
    base
}

/// 35 steps shaped like the plain account's: a templated JSON body, a status check, a code
/// check and an extraction each.
fn echo_recipe() -> Recipe {
    let mut text = String::from(
        "name = \"echo\"\ntitle = \"35 calls\"\n[[input]]\nname = \"name\"\ngenerate = \"name\"\n[[input]]\nname = \"id_number\"\ngenerate = \"id_number\"\n[[stage]]\nname = \"account\"\n",
    );
    for i in 0..35 {
        text.push_str(&format!(
            "[[stage.step]]\nname = \"s{i}\"\nsystem = \"fast\"\nmethod = \"POST\"\npath = \"/customers/{{{{ id_number }}}}/s{i}\"\nidempotent = true\njson = {{ name = \"{{{{ name }}}}\", id_number = \"{{{{ id_number }}}}\", step = {i} }}\nextract = {{ v{i} = \"/data/customer_no\" }}\n[[stage.step.check]]\npointer = \"/code\"\nequals = \"0\"\n"
        ));
    }
    Recipe::load("echo", &|_| {
        Ok(RecipeSource {
            file: "echo.toml".into(),
            text: text.clone(),
        })
    })
    .expect("the echo recipe")
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let tmp = tempfile::tempdir().expect("temp dir");
        let (base, token, env) = server(tmp.path()).await;
        let http = reqwest::Client::new();

        // Warm up: connections, statements, the recipe cache of the file system.
        build(&http, &base, &token, "plain-account", 2).await;

        let mut walls = Vec::new();
        let mut own = Vec::new();
        for _ in 0..PLAIN_RUNS {
            let (wall, d) = build(&http, &base, &token, "plain-account", 1).await;
            walls.push(wall.as_secs_f64() * 1000.0);
            own.push(d[0] as f64);
        }
        let plain_wall = median(walls);
        let plain_own = median(own);

        let (batch_wall, _) = build(&http, &base, &token, "plain-account", BATCH).await;

        // The engine alone on the same sandbox (no records kept): the recording's share.
        let recipes = Recipes::new(&Construction::default());
        let plain = recipes.load("plain-account").expect("plain-account");
        let caller = Caller::new().expect("caller");
        let cancel = CancellationToken::new();
        let today = chrono::Utc::now().date_naive();
        let mut draw = Draw::new(99);
        let mut alone = Vec::new();
        for run in 0..PLAIN_RUNS {
            let inputs = plain.fill_inputs(&Default::default(), &mut draw, &HashSet::new(), today).expect("inputs");
            let vars = plain.base_vars(&inputs, "sandbox", 10_000 + run as i64, 0);
            let t = Instant::now();
            let outcome = engine::drive(&plain, &env, &caller, Progress { vars, done: HashSet::new() }, &mut Silent, &cancel).await;
            assert!(matches!(outcome, engine::Outcome::Succeeded { .. }), "{outcome:?}");
            alone.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let engine_on_sandbox = median(alone);

        // The engine's own cost: drive against an echo system, beside the same calls made bare.
        let echo_base = echo().await;
        let mut fast_env = env.clone();
        fast_env.systems = [(
            "fast".to_string(),
            opsdesk::construct::config::Endpoint { base: echo_base.clone(), auth: None },
        )]
        .into_iter()
        .collect();
        let recipe = echo_recipe();
        let inputs = recipe.fill_inputs(&Default::default(), &mut draw, &HashSet::new(), today).expect("inputs");
        let bare = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http::<Full<Bytes>>();
        let mut driven = Vec::new();
        let mut raw = Vec::new();
        for run in 0..ECHO_RUNS {
            let vars = recipe.base_vars(&inputs, "fast", run as i64, 0);
            let t = Instant::now();
            let outcome = engine::drive(&recipe, &fast_env, &caller, Progress { vars, done: HashSet::new() }, &mut Silent, &cancel).await;
            assert!(matches!(outcome, engine::Outcome::Succeeded { .. }));
            driven.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            for i in 0..35 {
                let body = serde_json::to_vec(&json!({"name": "王伟", "id_number": "110101199003074514", "step": i})).expect("json");
                let req = hyper::Request::post(format!("{echo_base}/customers/110101199003074514/s{i}"))
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body)))
                    .expect("request");
                let answer = bare.request(req).await.expect("answer");
                let bytes = answer.into_body().collect().await.expect("body").to_bytes();
                let v: Value = serde_json::from_slice(&bytes).expect("json");
                assert_eq!(v["code"], "0");
            }
            raw.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let per_step_engine = (median(driven.clone()) - median(raw.clone())) / 35.0;
        let per_step_recording = (plain_own - engine_on_sandbox) / 35.0;

        println!();
        println!("account construction against the sandbox on loopback (medians)");
        println!("  plain account (35 calls), started through the API until it ended: {plain_wall:.0} ms wall, {plain_own:.0} ms the run's own time   (target ≤ 1000 ms)");
        println!("  batch of {BATCH} plain accounts, 8 at a time (the environment's concurrency): {:.1} s   (target ≤ 30 s)", batch_wall.as_secs_f64());
        println!("  the engine alone on the sandbox (no records): {engine_on_sandbox:.0} ms a plain account");
        println!("  echo system, 35 calls: engine {:.2} ms, bare hyper {:.2} ms → engine overhead {:.3} ms a step   (target ≤ 1 ms)", median(driven), median(raw), per_step_engine);
        println!("  recording a step (SQLite write + event): {per_step_recording:.2} ms a step");
        if let Some(mib) = common::peak_rss_mib() {
            println!("  peak memory of the bench process (server included): {mib:.0} MiB");
        }
    });
}
