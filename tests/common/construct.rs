//! A server that builds accounts in its own sandbox brokerage, as `serve --demo` does: the
//! sandbox mounted and the environment `sandbox` reaching it through the server's address.

use std::sync::Arc;
use std::time::Duration;

use opsdesk::config::Settings;
use opsdesk::construct::config::Environment;
use opsdesk::service::Desk;
use opsdesk::store::Store;
use serde_json::{Value, json};

use super::{SseReader, TestServer, free_port};

/// Settings with the sandbox on and the `sandbox` environment at `base`.
pub async fn sandbox_settings(
    dir: &std::path::Path,
    base: &str,
    mut settings: Settings,
) -> Settings {
    let key = {
        let store = Store::open(dir).expect("store");
        let desk = Desk::new(store.clone(), Arc::new(Settings::default()));
        let key = opsdesk::server::sandbox::key(&desk)
            .await
            .expect("the sandbox key");
        store.shutdown();
        key
    };
    settings.construct.sandbox = true;
    settings
        .construct
        .environments
        .push(Environment::sandbox(base, key));
    settings
}

/// A server on `dir` whose runs build in its own sandbox.
pub async fn start(dir: &std::path::Path, settings: Settings) -> TestServer {
    let addr = format!("127.0.0.1:{}", free_port());
    let settings = sandbox_settings(dir, &format!("http://{addr}"), settings).await;
    TestServer::start_on(dir, settings, &addr).await
}

impl TestServer {
    /// Starts runs; the answer's runs.
    pub async fn construct(&self, body: Value) -> Vec<Value> {
        let r = self
            .handler()
            .post(self.url("/api/v1/constructions"))
            .json(&body)
            .send()
            .await
            .expect("sent");
        let status = r.status();
        let answer: Value = r.json().await.expect("json");
        assert_eq!(status, 201, "{answer}");
        answer.as_array().expect("runs").clone()
    }

    pub async fn run_detail(&self, id: i64) -> Value {
        super::json_of(
            self.handler()
                .get(self.url(&format!("/api/v1/constructions/{id}"))),
        )
        .await
    }

    /// Waits (bounded) until run `id` has stopped; its detail.
    pub async fn run_ended(&self, id: i64) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let d = self.run_detail(id).await;
            if !matches!(d["status"].as_str(), Some("queued" | "running")) {
                return d;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "run {id} did not end: {d}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The construction progress stream.
    pub async fn construction_events(&self) -> SseReader {
        let r = self
            .handler()
            .get(self.url("/api/v1/constructions/events"))
            .send()
            .await
            .expect("stream");
        assert_eq!(r.status(), 200);
        SseReader::new(r)
    }

    /// Sets (`Some(secs)`) or ends the sandbox's deployment outage of `systems`.
    pub async fn outage(&self, seconds: Option<u64>, systems: &[&str]) {
        let req = match seconds {
            Some(s) => self
                .handler()
                .post(self.url("/uat-sandbox/admin/outage"))
                .json(&json!({ "seconds": s, "systems": systems })),
            None => self.handler().delete(self.url("/uat-sandbox/admin/outage")),
        };
        let r = req.send().await.expect("outage switch");
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    }
}
