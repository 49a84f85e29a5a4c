//! The real workstation in a real terminal: a tmux server on its own socket per test, the
//! screen read back, keys and pastes sent.

use std::process::Command;
use std::time::Duration;

/// Bounds a hang; nothing here measures speed.
pub const WAIT: Duration = Duration::from_secs(20);

pub fn tmux_available() -> bool {
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

/// One tmux server per test, on its own socket, killed on drop.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    /// The workstation against the server at `base` with `token`, its home at `home`.
    pub fn workstation(base: &str, token: &str, home: &std::path::Path) -> Tmux {
        let command = format!(
            "{} --server {base} --token {token}",
            env!("CARGO_BIN_EXE_opsdesk")
        );
        Tmux::start(&command, home)
    }

    pub fn start(command: &str, home: &std::path::Path) -> Tmux {
        let socket = format!(
            "opsdesk-test-{}-{}",
            std::process::id(),
            home.file_name().and_then(|n| n.to_str()).unwrap_or("x")
        );
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
                command,
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

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-e"])
            .output()
            .expect("capture");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys"])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(status.success());
    }

    pub fn literal(&self, text: &str) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-l", text])
            .status()
            .expect("send-keys");
        assert!(status.success());
    }

    /// Polls the screen until `what` shows, or fails with the last screen.
    pub async fn wait_for(&self, what: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if screen.contains(what) {
                return screen;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "'{what}' never appeared; the screen was:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls the screen until `what` is no longer on it.
    pub async fn wait_gone(&self, what: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.screen().contains(what) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "'{what}' never went away"
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

impl Tmux {
    /// Puts `text` on tmux's paste buffer and pastes it the way a terminal does (bracketed,
    /// when the program asked for it).
    pub fn paste(&self, text: &str) {
        for args in [vec!["set-buffer", "--", text], vec!["paste-buffer", "-p"]] {
            let status = Command::new("tmux")
                .args(["-L", &self.socket])
                .args(&args)
                .status()
                .expect("tmux");
            assert!(status.success());
        }
    }

    /// Where the terminal's cursor is, and whether it is shown.
    pub fn cursor(&self) -> (u16, u16, bool) {
        let out = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "display-message",
                "-p",
                "#{cursor_x} #{cursor_y} #{cursor_flag}",
            ])
            .output()
            .expect("display-message");
        let text = String::from_utf8_lossy(&out.stdout);
        let v: Vec<&str> = text.split_whitespace().collect();
        (
            v[0].parse().unwrap(),
            v[1].parse().unwrap(),
            v.get(2) == Some(&"1"),
        )
    }

    /// The screen's text, without its colours.
    pub fn text(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("capture");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen's text until every one of `what` shows, within `limit`, or fails with
    /// the last screen.
    pub async fn wait_for_all(&self, what: &[&str], limit: Duration) -> String {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let screen = self.text();
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
