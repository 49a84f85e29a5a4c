//! Proves the browser harness (`common::browser`) end to end against a tiny page served here:
//! phone viewport, Chinese typing, file input, form submit, screenshot, and the external-asset
//! tripwire. Skipped (with a note) where Chromium is missing, unless `CI=true`.

mod common;

use std::time::Instant;

use axum::Router;
use axum::extract::Form;
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use common::browser::{Browser, VIEWPORT};
use serde::Deserialize;

const PAGE: &str = r#"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>报障</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<h1>提交故障</h1>
<form method="post" action="/echo">
  <label>描述 <input id="note" name="note" type="text"></label>
  <label>截图 <input id="shot" name="shot" type="file" accept="image/*"></label>
  <button id="send" type="submit">提交</button>
</form>
</body>
</html>"#;

const STYLE: &str = "body { font-family: sans-serif; margin: 16px; background: #f4f6fa; }
h1 { color: #b42318; font-size: 22px; }
label { display: block; margin: 12px 0; }
input[type=text] { width: 100%; font-size: 16px; }
button { font-size: 18px; padding: 8px 24px; }";

/// A url-encoded form carries the file input's file name, not its bytes: enough to see that
/// the browser really picked the file.
#[derive(Deserialize)]
struct Submitted {
    note: String,
    #[serde(default)]
    shot: String,
}

/// Also sets an HttpOnly cookie, to show the harness reads what `document.cookie` can't.
async fn echo(Form(f): Form<Submitted>) -> impl IntoResponse {
    let cookie = [(SET_COOKIE, "smoke=1; HttpOnly; SameSite=Strict; Path=/")];
    let page = Html(format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/style.css"><title>已收到</title></head>
<body><h1>已收到</h1><p id="echo">{}</p><p id="file">{}</p></body></html>"#,
        escape(&f.note),
        escape(&f.shot)
    ));
    (cookie, page)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(8, 8, image::Rgb([200, 30, 30]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode PNG");
    out.into_inner()
}

/// Serves the page on an ephemeral loopback port; returns its origin.
async fn serve() -> String {
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/style.css",
            get(|| async { ([(CONTENT_TYPE, "text/css")], STYLE) }),
        )
        .route(
            "/probe.png",
            get(|| async { ([(CONTENT_TYPE, "image/png")], png()) }),
        )
        .route("/echo", axum::routing::post(echo));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn harness_drives_a_phone_sized_chromium() {
    let started = Instant::now();
    let origin = serve().await;
    let Some(b) = Browser::launch().await else {
        return;
    };
    eprintln!("browser up in {:?}", started.elapsed());

    b.goto(&format!("{origin}/")).await;
    assert_eq!(b.text("h1").await, "提交故障");

    // The phone viewport and Chinese locale the page tests rely on.
    let env = b
        .eval("return [innerWidth, innerHeight, devicePixelRatio, navigator.language];")
        .await;
    assert_eq!(env[0], VIEWPORT.0, "innerWidth: {env}");
    assert_eq!(env[1], VIEWPORT.1, "innerHeight: {env}");
    assert_eq!(env[2], 2, "devicePixelRatio: {env}");
    assert_eq!(env[3], "zh-CN", "navigator.language: {env}");

    // Chinese goes in exactly, and fill replaces what was there.
    b.fill("#note", "先写点别的").await;
    b.fill("#note", "股票交易不了").await;
    assert_eq!(b.value("#note").await, "股票交易不了");

    let tmp = tempfile::tempdir().unwrap();
    let shot = tmp.path().join("probe.png");
    std::fs::write(&shot, png()).unwrap();
    b.upload("#shot", &shot).await;
    let picked = b
        .eval("const i = document.querySelector('#shot'); return [i.files.length, i.value];")
        .await;
    assert_eq!(picked[0], 1, "files picked: {picked}");
    assert!(
        picked[1].as_str().unwrap().ends_with("probe.png"),
        "{picked}"
    );

    assert!(b.external_requests(&origin).await.is_empty());

    b.click("#send").await;
    b.wait_for_text("#echo", "股票交易不了").await;
    assert_eq!(b.text("#echo").await, "股票交易不了");
    assert_eq!(b.text("#file").await, "probe.png");
    assert_eq!(b.current_url().await, format!("{origin}/echo"));
    let cookie = b
        .cookie("smoke")
        .await
        .expect("cookie set by the echo page");
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(
        cookie.same_site().map(|s| s.to_string()).as_deref(),
        Some("Strict")
    );
    assert_eq!(
        b.eval("return document.cookie;").await,
        "",
        "HttpOnly hides it from JS"
    );

    let path = b.screenshot("browser_smoke-echo").await;
    let bytes = std::fs::read(&path).expect("screenshot written");
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!(img.width(), VIEWPORT.0 * 2, "screenshot is device pixels");

    // Same-origin stylesheet only, so far; then a different origin (still loopback, so nothing
    // leaves the machine) must trip the check.
    assert_eq!(b.external_requests(&origin).await, Vec::<String>::new());
    let elsewhere = origin.replace("127.0.0.1", "localhost") + "/probe.png";
    let loaded = b
        .eval(&format!(
            "return await new Promise(ok => {{ const i = new Image(); i.onload = () => ok(true); \
             i.onerror = () => ok(false); i.src = '{elsewhere}'; document.body.append(i); }});"
        ))
        .await;
    assert_eq!(loaded, true, "cross-origin probe image loaded");
    assert_eq!(b.external_requests(&origin).await, vec![elsewhere]);

    b.quit().await;
    eprintln!("smoke test done in {:?}", started.elapsed());
}
