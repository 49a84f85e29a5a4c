//! The Construct pane in a real terminal (tmux at 80×24) against a real server building in its
//! own sandbox brokerage, as `serve --demo` does: the handler goes to pane 5, opens the form of
//! `plain-account`, starts it, and watches the run reach 成功 with the fund account it opened
//! on screen; the server agrees.
//!
//! Needs tmux. Outside CI the test is skipped (with a note) where tmux is missing; with
//! `CI=true` a missing tmux fails it.

mod common;

use std::time::Duration;

use common::tmux::{Tmux, tmux_available};
use serde_json::Value;

/// Bounds a hang; nothing here measures speed.
const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_account_is_built_from_pane_5() {
    if !tmux_available() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let s = common::construct::start(data.path(), opsdesk::config::Settings::default()).await;
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::workstation(&s.base, &s.handler_token, home.path());
    tmux.wait_for_all(&["在线 live"], WAIT).await;

    // Pane 5: the demo's recipes, the sandbox environment, and the progress stream up.
    tmux.keys(&["5"]);
    tmux.wait_for_all(&["plain-account", "环境 env: sandbox", "实时 live"], WAIT)
        .await;

    // plain-account is the first recipe: its form, filled from the seed.
    tmux.keys(&["Enter"]);
    let form = tmux
        .wait_for_all(&["表单 form · plain-account", "生成 generated"], WAIT)
        .await;
    assert!(form.contains("●●●●●●"), "the passwords are hidden:\n{form}");

    // Run it: the run opens and follows the stream to its end.
    tmux.keys(&["R"]);
    let done = tmux
        .wait_for_all(&["✓ 成功", "结果 result", "fund_account"], WAIT)
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
    tmux.wait_for_all(&["我的构造 my runs (1)", "✓ 成功"], WAIT)
        .await;
}
