//! The Construct pane in a real terminal (tmux at 80×24) against a real server building in its
//! own sandbox brokerage, as `serve --demo` does: the handler goes to pane 5, opens the form of
//! `plain-account`, starts it, and watches the run reach 成功 with the fund account it opened
//! on screen; the server agrees.
//!
//! Needs tmux. Outside CI the test is skipped (with a note) where tmux is missing; with
//! `CI=true` a missing tmux fails it.

mod common;

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

/// Bounds a hang; nothing here measures speed.
const WAIT: Duration = Duration::from_secs(30);

fn tmux_available() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tmux is required in CI (.ci/run installs it)"
        );
        eprintln!("skipping: tmux is not installed");
    }
    found
}

/// One tmux server on its own socket, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// The workstation against the server at `base` with `token`, its home at `home`.
    fn workstation(base: &str, token: &str, home: &std::path::Path) -> Tmux {
        let command = format!(
            "{} --server {base} --token {token}",
            env!("CARGO_BIN_EXE_opsdesk")
        );
        let socket = format!("opsdesk-construct-{}", std::process::id());
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "80",
                "-y",
                "24",
                &command,
            ])
            .env("XDG_STATE_HOME", home.join("state"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env_remove("NO_COLOR")
            .status()
            .expect("tmux runs");
        assert!(status.success());
        Tmux { socket }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("capture");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys"])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(status.success());
    }

    /// Polls the screen until every one of `what` shows, or fails with the last screen.
    async fn wait_for(&self, what: &[&str]) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if what.iter().all(|w| screen.contains(w)) {
                return screen;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what:?} never appeared; the screen was:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_account_is_built_from_pane_5() {
    if !tmux_available() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let s = common::construct::start(data.path(), opsdesk::config::Settings::default()).await;
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::workstation(&s.base, &s.handler_token, home.path());
    tmux.wait_for(&["在线 live"]).await;

    // Pane 5: the demo's recipes, the sandbox environment, and the progress stream up.
    tmux.keys(&["5"]);
    tmux.wait_for(&["plain-account", "环境 env: sandbox", "实时 live"])
        .await;

    // plain-account is the first recipe: its form, filled from the seed.
    tmux.keys(&["Enter"]);
    let form = tmux
        .wait_for(&["表单 form · plain-account", "生成 generated"])
        .await;
    assert!(form.contains("●●●●●●"), "the passwords are hidden:\n{form}");

    // Run it: the run opens and follows the stream to its end.
    tmux.keys(&["R"]);
    let done = tmux
        .wait_for(&["✓ 成功", "结果 result", "fund_account"])
        .await;
    let shown = done
        .lines()
        .find_map(|l| {
            let at = l.find("fund_account")?;
            l[at + "fund_account".len()..]
                .split_whitespace()
                .next()
                .map(|v| v.trim_end_matches('│').to_string())
        })
        .expect("the fund account on screen");
    assert!(
        shown.len() >= 6 && shown.chars().all(|c| c.is_ascii_digit()),
        "{shown}:\n{done}"
    );

    // The server built the same account.
    let runs: Value = s
        .handler()
        .get(s.url("/api/v1/constructions?started_by=me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = runs[0]["id"].as_i64().expect("a run");
    assert_eq!(runs[0]["recipe"], "plain-account");
    assert_eq!(runs[0]["status"], "succeeded");
    let detail = s.run_detail(id).await;
    assert_eq!(
        detail["result"]["fund_account"].as_str(),
        Some(shown.as_str())
    );
    assert!(done.contains(&format!("#{id}")), "{done}");

    // Back to the list: the run is there, succeeded.
    tmux.keys(&["Escape"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    tmux.keys(&["Escape"]);
    tmux.wait_for(&["我的构造 my runs (1)", "✓ 成功"]).await;
}
