//! A real opsdesk server on an ephemeral loopback port with a temp data dir, and the users
//! tests act as. Shared by the integration tests.
#![allow(dead_code)]

pub mod browser;
pub mod construct;
pub mod mss;
pub mod postgres;
pub mod receivers;
pub mod report;
pub mod tmux;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use opsdesk::config::Settings;
use opsdesk::domain::people::Role;
use opsdesk::service::Desk;
use opsdesk::store::{Store, users};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub struct TestServer {
    pub base: String,
    pub dir: PathBuf,
    pub handler_token: String,
    pub handler2_token: String,
    pub submitter_token: String,
    pub other_submitter_token: String,
    pub admin_token: String,
    /// The server's own store handle, for arranging what no endpoint makes (passwords).
    pub store: Store,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _tmp: Option<tempfile::TempDir>,
}

async fn token_for(store: &Store, name: &'static str, role: Role) -> String {
    store
        .write(move |ctx| {
            let user = match users::by_username(ctx.conn, name)? {
                Some(u) => u,
                None => users::insert(ctx.conn, name, name, role, None, None, ctx.now)?,
            };
            users::issue_token(ctx.conn, &user, "test", ctx.now)
        })
        .await
        .expect("issue a test token")
}

impl TestServer {
    /// A fresh server with an empty store and the test users.
    pub async fn start() -> TestServer {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let mut s = Self::start_in(&dir, Settings::default()).await;
        s._tmp = Some(tmp);
        s
    }

    /// A server over a data dir seeded with the demo: its users, tickets and knowledge base.
    pub async fn start_demo() -> TestServer {
        let tmp = tempfile::tempdir().expect("temp dir");
        {
            let store = Store::open(tmp.path()).expect("store");
            let desk = Desk::new(store.clone(), Arc::new(Settings::default()));
            desk.seed_demo().await.expect("seed the demo");
            store.shutdown();
        }
        let mut s = Self::start_in(tmp.path(), Settings::default()).await;
        s._tmp = Some(tmp);
        s
    }

    /// A server on an existing data dir (for restart tests), with these settings.
    pub async fn start_in(dir: &Path, settings: Settings) -> TestServer {
        Self::start_on(dir, settings, "127.0.0.1:0").await
    }

    /// A server on a given address (a restart on the same port, for clients that keep the URL).
    pub async fn start_on(dir: &Path, settings: Settings, addr: &str) -> TestServer {
        let store = Store::open(dir).expect("open store");
        let handler_token = token_for(&store, "h_test", Role::Handler).await;
        let handler2_token = token_for(&store, "h_other", Role::Handler).await;
        let submitter_token = token_for(&store, "cm_test", Role::Submitter).await;
        let other_submitter_token = token_for(&store, "cm_other", Role::Submitter).await;
        let admin_token = token_for(&store, "admin_test", Role::Admin).await;
        let desk = Desk::new(store.clone(), Arc::new(settings));
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            opsdesk::server::launch(listener, desk, async {
                let _ = rx.await;
            })
            .await
            .expect("server ran");
        });
        TestServer {
            base,
            dir: dir.to_path_buf(),
            handler_token,
            handler2_token,
            submitter_token,
            other_submitter_token,
            admin_token,
            store,
            stop: Some(tx),
            task: Some(task),
            _tmp: None,
        }
    }

    /// Graceful shutdown; returns the temp dir so the data outlives the server.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
        self._tmp.take()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn client(&self, token: &str) -> reqwest::Client {
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).expect("token header"),
        );
        reqwest::Client::builder()
            .default_headers(h)
            .build()
            .expect("client")
    }

    pub fn handler(&self) -> reqwest::Client {
        self.client(&self.handler_token)
    }

    pub fn submitter(&self) -> reqwest::Client {
        self.client(&self.submitter_token)
    }

    /// Creates a valid ticket as the submitter and returns its JSON.
    pub async fn new_ticket(&self, title: &str) -> Value {
        let r = self
            .submitter()
            .post(self.url("/api/v1/tickets"))
            .json(&good_ticket(title))
            .send()
            .await
            .expect("post");
        assert_eq!(
            r.status(),
            201,
            "create: {}",
            r.text().await.unwrap_or_default()
        );
        r.json().await.expect("json")
    }

    /// The number of rows in the change log: "nothing was written" means it did not move.
    pub async fn latest_seq(&self) -> i64 {
        let v: Value = reqwest::get(self.url("/healthz"))
            .await
            .expect("healthz")
            .json()
            .await
            .expect("json");
        v["latest_seq"].as_i64().expect("latest_seq")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A ticket that passes validation.
pub fn good_ticket(title: &str) -> Value {
    json!({
        "title": title,
        "description": "客户 310012345678 今天 10:05 在 APP 买入 600519 提示“可用资金不足”，实际可用资金 5 万元，已重新登录仍然失败",
        "system": "trading",
        "customer": {"name": "张三", "account": "310012345678", "phone": "13812341234", "id_number": "11010519491231002X"}
    })
}

/// Asserts the API's error shape and returns the error code.
pub async fn error_code(r: reqwest::Response, status: u16) -> String {
    assert_eq!(r.status().as_u16(), status, "status");
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("application/json"), "content-type {ct}");
    let v: Value = r.json().await.expect("error body is JSON");
    let msg = v["error"]["message"].as_str().expect("error.message");
    assert!(!msg.is_empty());
    v["error"]["code"].as_str().expect("error.code").to_string()
}

/// A minimal Server-Sent-Events reader over a streaming response.
pub struct SseReader {
    response: reqwest::Response,
    buffer: String,
}

/// One parsed event.
#[derive(Debug, Clone, Default)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (comments such as heartbeats are skipped), or None when the stream ends
    /// or nothing arrives within `wait`.
    pub async fn next(&mut self, wait: std::time::Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut ev = SseEvent::default();
                let mut has_field = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        ev.id = Some(v.trim().to_string());
                        has_field = true;
                    } else if let Some(v) = line.strip_prefix("event:") {
                        ev.event = Some(v.trim().to_string());
                        has_field = true;
                    } else if let Some(v) = line.strip_prefix("data:") {
                        ev.data.push_str(v.trim_start());
                        has_field = true;
                    }
                }
                if has_field {
                    return Some(ev);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

impl SseReader {
    /// Everything the server still sends until it ends the stream, if it ends it within
    /// `wait` (None when the stream is still open then).
    pub async fn rest_until_end(mut self, wait: std::time::Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return None,
                Ok(Ok(Some(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(_) => return Some(self.buffer),
            }
        }
    }
}

/// The built `opsdesk` binary.
pub fn binary() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_opsdesk"));
    // Keep the user's own config and data out of tests.
    cmd.env_remove("OPSDESK_SERVER")
        .env_remove("OPSDESK_TOKEN")
        .env_remove("OPSDESK_DATA")
        .env_remove("OPSDESK_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent/opsdesk-tests/config")
        // The workstation's cache belongs to the test, not to the developer's cache dir.
        .env("OPSDESK_CACHE", "off");
    cmd.env("OPSDESK_LOG", "warn");
    cmd
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits until `/healthz` answers (bounded; panics on timeout).
pub async fn wait_healthy(base: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
            && r.status() == 200
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "server at {base} did not become healthy"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A handler token under its own label, so restarts (which re-issue the `test` tokens) keep it.
pub fn lasting_handler_token(dir: &Path) -> String {
    let store = Store::open(dir).expect("open store");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let token = rt
        .block_on(store.write(|ctx| {
            let user = match users::by_username(ctx.conn, "h_test")? {
                Some(u) => u,
                None => users::insert(
                    ctx.conn,
                    "h_test",
                    "h_test",
                    Role::Handler,
                    None,
                    None,
                    ctx.now,
                )?,
            };
            users::issue_token(ctx.conn, &user, "lasting", ctx.now)
        }))
        .expect("token");
    store.shutdown();
    token
}

/// The JSON answer to a request that must succeed.
pub async fn json_of<T: serde::de::DeserializeOwned>(req: reqwest::RequestBuilder) -> T {
    let r = req.send().await.expect("the request is sent");
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.expect("a JSON answer")
}
