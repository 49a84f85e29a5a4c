//! End-to-end browser harness: Debian's headless Chromium, driven over WebDriver
//! (chromedriver + fantoccini), against pages served on loopback.
//!
//! `Browser::launch()` returns `None` (with a note on stderr) where chromium or chromedriver
//! is missing, so page tests start with `let Some(b) = Browser::launch().await else { return };`.
//! With `CI=true` a missing browser fails the test instead: `.ci/run` installs both.
//!
//! The browser looks like a phone: a 360×740 CSS viewport at pixel ratio 2, Chinese UI
//! language. Pages need `<meta name="viewport" content="width=device-width">` to get that
//! width; without it mobile emulation lays them out at the legacy 980 px.
//!
//! Helpers panic with the selector and current URL on failure (they are for tests); the raw
//! fantoccini `Client` is there for anything else.
#![allow(dead_code)]

use std::io::Read as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::cookies::Cookie;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// How long element look-ups and text waits poll before giving up.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long chromedriver gets to answer `/status` as ready.
const DRIVER_READY: Duration = Duration::from_secs(10);
/// The phone the browser pretends to be (CSS pixels).
pub const VIEWPORT: (u32, u32) = (360, 740);

pub struct Browser {
    client: Client,
    /// chromedriver, leader of its own process group so Drop can take Chromium down with it.
    driver: Child,
    /// Holds the Chromium profile and chromedriver's log; removed after the driver dies.
    work: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a fresh headless Chromium session, or returns `None` (outside CI)
    /// when either binary is missing.
    pub async fn launch() -> Option<Browser> {
        let chromedriver = binary("CHROMEDRIVER", "/usr/bin/chromedriver")?;
        let chromium = binary("CHROMIUM", "/usr/bin/chromium")?;

        let work = tempfile::Builder::new()
            .prefix("opsdesk-browser-")
            .tempdir()
            .expect("temp dir for the browser");
        let profile = work.path().join("profile");
        let log = work.path().join("chromedriver.log");

        // Port by bind-and-drop: works with any chromedriver, unlike parsing `--port=0` output.
        // Another process could grab the port in between, so a driver that dies early is retried.
        let mut attempt = 0;
        let (mut driver, port) = loop {
            attempt += 1;
            let port = free_port();
            let mut driver = Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                // On Linux Chromium takes its UI language (the file picker's words) from the
                // environment, not from --lang.
                .env("LANGUAGE", "zh_CN:zh")
                .env("LANG", "zh_CN.UTF-8")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display()));
            match wait_ready(&mut driver, port).await {
                Ok(()) => break (driver, port),
                Err(why) => {
                    kill_group(&mut driver);
                    if attempt == 3 {
                        panic!("chromedriver never became ready: {why}\n{}", log_tail(&log));
                    }
                }
            }
        };

        let caps = capabilities(&chromium, &profile);
        let connect = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        let client = match connect {
            Ok(c) => c,
            Err(e) => {
                kill_group(&mut driver);
                panic!("opening a Chromium session failed: {e}\n{}", log_tail(&log));
            }
        };
        Some(Browser {
            client,
            driver,
            work,
        })
    }

    /// Closes the WebDriver session (Chromium exits cleanly); Drop then stops chromedriver.
    pub async fn quit(self) {
        if let Err(e) = self.client.clone().close().await {
            eprintln!("closing the browser session: {e}");
        }
    }

    /// The fantoccini client, for whatever the helpers don't cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    pub async fn current_url(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_else(|e| panic!("current_url: {e}"))
    }

    /// The first element matching `css`, polling up to [`WAIT`] so tests don't race page loads.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => panic!(
                "no element {css:?} on {} after {WAIT:?}: {e}",
                self.here().await
            ),
        }
    }

    /// Every element matching `css` right now (no waiting): for counting and absence checks.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find_all {css:?}: {e}"))
    }

    /// Clears the field, then types `text` (any Unicode, e.g. Chinese, goes in as-is).
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear()
            .await
            .unwrap_or_else(|e| panic!("clearing {css:?}: {e}"));
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css:?}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css:?}: {e}"));
    }

    /// The rendered (visible) text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css:?}: {e}"))
    }

    /// The element's `value` property (what an input holds now, not its attribute).
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .unwrap_or_else(|e| panic!("value of {css:?}: {e}"))
            .unwrap_or_default()
    }

    /// Polls until the text of `css` contains `needle`, for up to [`WAIT`]; returns the text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        while Instant::now() < deadline {
            // The element may be replaced mid-poll (navigation), so errors just mean "not yet".
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && let Ok(t) = el.text().await
            {
                if t.contains(needle) {
                    return t;
                }
                last = t;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{css:?} on {} never contained {needle:?} within {WAIT:?}; last text: {last:?}",
            self.here().await
        );
    }

    /// Puts `path` into an `<input type=file>` (WebDriver's way: send the absolute path as keys).
    pub async fn upload(&self, css: &str, path: &Path) {
        let abs = std::path::absolute(path).expect("absolute upload path");
        assert!(abs.is_file(), "upload: {} is not a file", abs.display());
        let path = abs.to_str().expect("upload path is UTF-8");
        self.find(css)
            .await
            .send_keys(path)
            .await
            .unwrap_or_else(|e| panic!("uploading {path} via {css:?}: {e}"));
    }

    /// Runs `js` as a function body in the page and returns its result: write `return ...;`.
    pub async fn eval(&self, js: &str) -> Value {
        self.client
            .execute(js, vec![])
            .await
            .unwrap_or_else(|e| panic!("eval {js:?}: {e}"))
    }

    /// All cookies visible to the current page, with their attributes (HttpOnly, SameSite, ...),
    /// which `document.cookie` can't show.
    pub async fn cookies(&self) -> Vec<Cookie<'static>> {
        self.client
            .get_all_cookies()
            .await
            .unwrap_or_else(|e| panic!("reading cookies: {e}"))
    }

    pub async fn cookie(&self, name: &str) -> Option<Cookie<'static>> {
        self.cookies().await.into_iter().find(|c| c.name() == name)
    }

    /// Saves a PNG of the viewport as `<artifacts>/<name>.png` and returns its path. The
    /// directory is `$OPSDESK_ARTIFACTS`, else `<target dir>/test-artifacts`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let file: String = name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{file}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// URLs the current page fetched (plus the page's own URL) whose origin is not
    /// `allowed_origin` (e.g. `http://127.0.0.1:1234`): a page that must work offline and leak
    /// nothing to third parties should give an empty list.
    ///
    /// Limits: this reads the Resource Timing buffer of the current document only. It misses
    /// requests from earlier pages (check after each navigation), from iframes and workers, and
    /// any past the buffer's size (250 entries by default); `data:`/`blob:` URLs are ignored, and
    /// failed loads are listed only as far as Chromium records them. It is a tripwire, not a
    /// network log. External loads never leave the machine anyway: the browser's proxy is a
    /// dead loopback port for everything but loopback (see `capabilities`).
    pub async fn external_requests(&self, allowed_origin: &str) -> Vec<String> {
        let allowed = allowed_origin.trim_end_matches('/');
        let found = self
            .eval(
                "const urls = performance.getEntriesByType('resource').map(e => e.name);
                 urls.push(document.location.href);
                 return urls
                   .filter(u => !u.startsWith('data:') && !u.startsWith('blob:'))
                   .map(u => { try { return [u, new URL(u).origin]; } catch (_) { return [u, '']; } });",
            )
            .await;
        found
            .as_array()
            .expect("external_requests: array")
            .iter()
            .filter(|pair| pair[1].as_str() != Some(allowed))
            .map(|pair| pair[0].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Where the browser is, for failure messages (never panics itself).
    async fn here(&self) -> String {
        match self.client.current_url().await {
            Ok(u) => u.to_string(),
            Err(e) => format!("<url unknown: {e}>"),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Also runs after `quit`, and when a test panics: kill chromedriver and whatever Chromium
        // processes are left in its group, and reap it, before the profile directory goes.
        kill_group(&mut self.driver);
    }
}

/// The WebDriver capabilities: a headless phone-sized Chromium with a throwaway profile.
fn capabilities(chromium: &Path, profile: &Path) -> serde_json::Map<String, Value> {
    let (w, h) = VIEWPORT;
    let caps = json!({
        "browserName": "chrome",
        // Bounded page loads and scripts, so a broken page fails the test instead of hanging it.
        "timeouts": { "pageLoad": 20_000, "script": 10_000 },
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                // Chromium refuses to start as root with its sandbox on; CI runs as root.
                "--no-sandbox",
                "--disable-gpu",
                // Docker-sized /dev/shm makes Chromium crash on bigger pages.
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                // Nothing but loopback goes out: everything else is sent to a proxy on a port
                // nobody listens on (loopback bypasses proxies implicitly). Pages under test
                // can't reach the internet, and neither can Chromium's own background traffic.
                "--proxy-server=http://127.0.0.1:9",
                format!("--user-data-dir={}", profile.display()),
                format!("--window-size={w},{h}"),
                "--lang=zh-CN",
            ],
            // deviceMetrics is what pins the CSS viewport: from --window-size alone headless
            // Chromium gives 500×597 (it clamps windows to 500 px wide). Mobile emulation also
            // makes pages touch ones that honour <meta name=viewport>.
            "mobileEmulation": {
                "deviceMetrics": { "width": w, "height": h, "pixelRatio": 2.0 },
            },
            "prefs": { "intl": { "accept_languages": "zh-CN,zh" } },
        },
    });
    match caps {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

/// The binary named by `env`, else `default`; `None` (skip) or a panic (CI) when it's missing.
fn binary(env: &str, default: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from);
    if path.is_file() {
        return Some(path);
    }
    let why = format!("{} not found (set {env} to override)", path.display());
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("chromium/chromedriver missing; .ci/run installs them: {why}");
    }
    eprintln!("skipping browser test: {why}");
    None
}

fn free_port() -> u16 {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Polls chromedriver's `/status` until it says ready, the driver exits, or time runs out.
async fn wait_ready(driver: &mut Child, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + DRIVER_READY;
    loop {
        if let Ok(Some(status)) = driver.try_wait() {
            return Err(format!("chromedriver exited ({status})"));
        }
        if status_ready(port).await {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no ready /status on port {port} within {DRIVER_READY:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One bare `GET /status` (no client library needed for a single loopback probe).
/// chromedriver keeps the connection open regardless, so read until the body parses.
async fn status_ready(port: u16) -> bool {
    let probe = async {
        let mut s = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await?;
        s.write_all(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                return std::io::Result::Ok(false);
            }
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf);
            let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
            if let Ok(v) = serde_json::from_str::<Value>(body) {
                return Ok(v["value"]["ready"] == Value::Bool(true));
            }
        }
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), probe).await,
        Ok(Ok(true))
    )
}

/// SIGKILLs the driver's whole process group (chromedriver and the Chromium it started share
/// it), then reaps the driver. Safe to call twice.
fn kill_group(driver: &mut Child) {
    if let Ok(None) = driver.try_wait() {
        // std has no killpg; the shell's kill takes a negative pid as a process group.
        let _ = Command::new("sh")
            .args(["-c", &format!("kill -KILL -{} 2>/dev/null", driver.id())])
            .status();
        let _ = driver.kill();
    }
    let _ = driver.wait();
}

fn log_tail(log: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(log) {
        let _ = f.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(30)..].join("\n");
    format!("chromedriver log ({}):\n{tail}", log.display())
}

fn artifacts_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("OPSDESK_ARTIFACTS") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        // Cargo sets CARGO_TARGET_TMPDIR to `<target dir>/tmp` when building integration tests,
        // which finds the right target dir even when it's configured elsewhere.
        .or_else(|| {
            Path::new(env!("CARGO_TARGET_TMPDIR"))
                .parent()
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("test-artifacts")
}
