//! The self-contained HTML report: the sample week rendered, checked for anything it would
//! fetch from elsewhere and for inert hostile text, then opened from a file in headless
//! Chromium (as a manager opens a mailed report) at phone and desktop widths, where it must
//! not scroll sideways. Full-page screenshots go to `target/report-screenshots/`
//! (`report-360.png`, `report-1280.png`, and `report-empty-360.png` for a week without tickets).
//! The browser half is skipped with a note where Chromium is missing, unless `CI=true`.

mod common;

use std::path::{Path, PathBuf};

use common::browser::Browser;
use common::report::sample_report;
use fantoccini::wd::WebDriverCompatibleCommand;
use opsdesk::server::reports::page;
use serde_json::{Value, json};

fn systems() -> Vec<(String, String)> {
    [
        ("trading", "交易"),
        ("app", "手机App"),
        ("account", "账户"),
        ("margin", "两融"),
        ("clearing", "清算"),
        ("fund", "基金"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn sample_html() -> String {
    page::render(&sample_report(), &systems()).into_string()
}

/// Every value of `attr="…"` in `html` (the renderer always quotes its attributes).
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

#[test]
fn the_report_is_one_inert_file_that_says_what_it_measures() {
    let html = sample_html();
    let lower = html.to_lowercase();

    assert!(lower.starts_with("<!doctype html>"), "{}", &html[..80]);
    assert!(html.contains(r#"<html lang="zh-CN">"#));
    assert!(html.contains(r#"<meta charset="utf-8">"#));
    assert!(html.contains(r#"content="width=device-width, initial-scale=1""#));

    // Nothing is fetched: no linked style sheet, no script at all, no remote source or link.
    assert!(!lower.contains("<link"), "a <link> element");
    assert!(
        !lower.contains("<script"),
        "a <script> element (or unescaped markup)"
    );
    assert!(
        !lower.contains("@import") && !lower.contains("url("),
        "CSS that fetches"
    );
    for attr in ["src", "href", "xlink:href", "srcset", "action", "poster"] {
        for value in attribute_values(&lower, attr) {
            let remote = value.starts_with("http:")
                || value.starts_with("https:")
                || value.starts_with("//");
            assert!(!remote, "{attr}=\"{value}\" points elsewhere");
        }
    }

    // Hostile text is shown as text.
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; 登录后闪退"));
    assert!(!html.contains("alert(1)</script>"));
    assert!(html.contains("h_&lt;b&gt;x&lt;/b&gt;"));
    assert!(!html.contains("<b>x</b>"));

    // The header, and what the rates mean.
    assert!(html.contains("服务中心周报 2026-W47"));
    assert!(
        html.contains("2026-11-16 至 2026-11-22"),
        "local dates, end exclusive"
    );
    assert!(html.contains("生成于 2026-11-23 09:30"));
    for (term, definition) in [
        (
            "解决率",
            "本期创建的事件中，截至报告生成时已解决（或已关闭）的比例。",
        ),
        (
            "及时解决率",
            "已解决的事件中，在其优先级的 SLA 时限内解决的比例",
        ),
    ] {
        assert!(html.contains(&format!("<dt>{term} ")), "term {term}");
        assert!(html.contains(definition), "definition of {term}");
    }

    // Every section, in order.
    let headings = [
        "核心指标",
        "指标定义",
        "事件量",
        "趋势",
        "每日事件",
        "积压",
        "重复出现的问题",
        "处理人工作量",
        "帮助中心",
        "知识分享",
        "下期分享建议",
        "备注",
    ];
    let mut from = 0;
    for h in headings {
        let at = html[from..]
            .find(&format!("<h2>{h} "))
            .unwrap_or_else(|| panic!("section {h} missing or out of order"));
        from += at + 1;
    }

    // Figures as a reader checks them against the sample.
    for shown in [
        "▼ 8.4%",           // 141 against 154 tickets
        "83.7%",            // consultation share
        "92.9%",            // resolution rate
        "87.8%",            // timely-resolution rate
        "MSS 自助提交占比", // adoption
        "73.8%",            // 104 of 141 by MSS
        "37.7%",            // 63 deflected of 63 + 104
        "KB-3",
        "纳入知识分享",
        "写帮助中心文章",
        "考虑加监控",
        "交易",
        "92.3", // before the session, a week
        "68.8", // after it
    ] {
        assert!(html.contains(shown), "{shown} not on the page");
    }
    // Every chart scales with the page.
    let charts = html.matches("<svg ").count();
    assert!(charts >= 7, "{charts} charts");
    assert_eq!(html.matches(r#"width="100%""#).count(), charts);
}

/// The sample as a week without tickets would have it (the trend, sessions and notes stay).
fn empty_report() -> opsdesk::domain::report::Report {
    let mut report = sample_report();
    report.empty = true;
    report.figures = opsdesk::domain::report::Figures::of(
        opsdesk::domain::report::Period::parse("2026-W47").expect("period"),
        &[],
        &Default::default(),
    );
    report.recurring.clear();
    report.daily.clear();
    report
}

#[test]
fn an_empty_period_says_so_instead_of_showing_zeros() {
    let mut report = empty_report();
    let html = page::render(&report, &systems()).into_string();
    assert!(html.contains("本期没有事件"));
    assert!(html.contains("no tickets in this period"));
    assert!(
        !html.contains("<h2>核心指标 "),
        "figures of an empty period"
    );
    assert!(!html.contains("<h2>处理人工作量 "));
    assert!(
        html.contains("<h2>趋势 "),
        "the trend still has weeks with tickets"
    );

    report.trend.iter_mut().for_each(|p| {
        p.tickets = 0;
        p.consultation = 0;
    });
    let html = page::render(&report, &systems()).into_string();
    assert!(!html.contains("<h2>趋势 "), "an all-zero trend is left out");
}

#[test]
fn the_index_links_each_report_relatively() {
    let html =
        page::index(&["2026-W47".into(), "2026-W46".into()], &["2026-11".into()]).into_string();
    let links = attribute_values(&html, "href");
    assert_eq!(
        links,
        ["weekly/2026-W47", "weekly/2026-W46", "monthly/2026-11"]
    );
}

/// A Chrome DevTools Protocol command through chromedriver's `goog/cdp/execute` endpoint: the
/// harness pins a phone's metrics with mobile emulation, which a window resize does not undo.
#[derive(Debug)]
struct Cdp {
    method: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &reqwest::Url,
        session_id: Option<&str>,
    ) -> Result<reqwest::Url, UrlError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &reqwest::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({ "cmd": self.method, "params": self.params });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// `url::ParseError` (this crate does not depend on `url`; reqwest's `Url` is its `Url`).
type UrlError = <reqwest::Url as std::str::FromStr>::Err;

async fn cdp(b: &Browser, method: &'static str, params: Value) -> Value {
    b.client()
        .issue_cmd(Cdp { method, params })
        .await
        .unwrap_or_else(|e| panic!("{method}: {e}"))
}

/// Lays the page out `width` CSS pixels wide (a phone at pixel ratio 2, else a desktop).
async fn set_width(b: &Browser, width: u32) {
    let mobile = width < 600;
    let params = json!({
        "width": width,
        "height": if mobile { 740 } else { 900 },
        "deviceScaleFactor": if mobile { 2 } else { 1 },
        "mobile": mobile,
    });
    cdp(b, "Emulation.setDeviceMetricsOverride", params).await;
}

/// A PNG of the whole page, not just the viewport, saved as `name` in the screenshots folder.
async fn full_page_screenshot(b: &Browser, name: &str) -> PathBuf {
    let shot = cdp(
        b,
        "Page.captureScreenshot",
        json!({ "format": "png", "captureBeyondViewport": true }),
    )
    .await;
    let data = shot["data"].as_str().expect("screenshot data");
    let png = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data)
        .expect("base64 PNG");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("report-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let path = dir.join(name);
    std::fs::write(&path, png).expect("write screenshot");
    path
}

async fn fits(b: &Browser, width: u32) {
    let inner = b.eval("return window.innerWidth;").await;
    assert_eq!(inner, json!(width), "viewport width");
    let fits = b
        .eval("return document.documentElement.scrollWidth <= window.innerWidth;")
        .await;
    assert_eq!(
        fits,
        Value::Bool(true),
        "the report scrolls sideways at {width} px"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailed_report_opens_from_a_file_on_a_phone_and_a_desktop() {
    let Some(b) = Browser::launch().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("report-2026-W47.html");
    std::fs::write(&file, sample_html()).expect("write the report");
    let url = format!("file://{}", file.display());

    b.goto(&url).await;
    b.wait_for_text("h1", "服务中心周报 2026-W47").await;
    // Nothing was fetched: the page is the only thing the browser loaded.
    let fetched = b
        .eval("return performance.getEntriesByType('resource').map(e => e.name);")
        .await;
    assert_eq!(fetched, json!([]), "the report fetched something");
    assert!(b.find_all("svg").await.len() >= 7);

    fits(&b, 360).await;
    full_page_screenshot(&b, "report-360.png").await;

    // No navigation after this: chromedriver re-applies its phone metrics on every load.
    set_width(&b, 1280).await;
    fits(&b, 1280).await;
    // The container keeps lines readable on a wide screen.
    let main = b
        .eval("return document.querySelector('main').getBoundingClientRect().width;")
        .await;
    assert!(
        main.as_f64().is_some_and(|w| w <= 960.0),
        "main is {main} wide"
    );
    full_page_screenshot(&b, "report-1280.png").await;

    // A week without tickets, on the phone again.
    let empty = dir.path().join("report-empty.html");
    let html = page::render(&empty_report(), &systems()).into_string();
    std::fs::write(&empty, html).expect("write the empty report");
    b.goto(&format!("file://{}", empty.display())).await;
    b.wait_for_text(".empty", "本期没有事件").await;
    set_width(&b, 360).await;
    fits(&b, 360).await;
    full_page_screenshot(&b, "report-empty-360.png").await;

    b.quit().await;
}
