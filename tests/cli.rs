//! The command line end to end: the real `opsdesk` binary, its exit codes and what it prints,
//! checked against a real `opsdesk serve` wherever the output is a token or data.

mod common;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::{SseReader, binary, free_port, good_ticket, wait_healthy};
use serde_json::{Value, json};

/// Generous: these bound a hang, they do not measure speed.
const WAIT: Duration = Duration::from_secs(60);

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/itsm/sample.csv"
);
const UNKNOWN_COLUMN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/itsm/unknown_column.csv"
);

/// The rows of `sample.csv` in order: the ITSM number, and for a refused row a word its
/// reason must contain.
const SAMPLE_ROWS: [(&str, Option<&str>); 10] = [
    ("ITSM-20261120-0001", None),
    ("ITSM-20261120-0002", None),
    ("ITSM-20261120-0003", None),
    ("ITSM-20261120-0004", None),
    ("ITSM-20261120-0005", None),
    ("ITSM-20261120-0006", None),
    ("ITSM-20261120-0007", Some("description")),
    ("ITSM-20261120-0008", Some("unknown system")),
    ("ITSM-20261120-0009", Some("P9")),
    ("ITSM-20261120-0010", Some("customer.phone")),
];
/// The file line each row starts on (the header is line 1; row 5's description spans two).
const SAMPLE_LINES: [u64; 10] = [2, 3, 4, 5, 6, 8, 9, 10, 11, 12];

/// One test's temp dir. The XDG config and data homes point into it too, so a test never reads
/// the developer's own opsdesk.toml nor writes their default data dir.
struct Sandbox {
    tmp: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// The data dir most tests use (created by the first command that opens it).
    fn data(&self) -> PathBuf {
        self.path("data")
    }

    /// `opsdesk ARGS…`, isolated from the environment's config.
    fn opsdesk<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = binary();
        cmd.env_remove("OPSDESK_CONFIG")
            .env("XDG_CONFIG_HOME", self.path("xdg-config"))
            .env("XDG_DATA_HOME", self.path("xdg-data"))
            .args(args);
        cmd
    }

    /// `admin user add NAME --role ROLE --data DATA`; returns the printed token.
    fn add_user(&self, data: &Path, name: &str, role: &str) -> String {
        let out = run(self
            .opsdesk(["admin", "user", "add", name, "--role", role, "--data"])
            .arg(data));
        out.assert_code(0);
        out.last_line().to_string()
    }

    /// `ticket import FILE --data DATA [--json]`.
    fn import(&self, data: &Path, file: &str, json: bool) -> Output {
        let mut cmd = self.opsdesk(["ticket", "import", file, "--data"]);
        cmd.arg(data);
        if json {
            cmd.arg("--json");
        }
        run(&mut cmd)
    }
}

/// What a finished command left behind.
struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Output {
    #[track_caller]
    fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout,
            self.stderr
        );
    }

    fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }
}

/// Runs `cmd` to completion with nothing on stdin.
fn run(cmd: &mut Command) -> Output {
    run_with_stdin(cmd, None)
}

/// Runs `cmd` to completion, feeding it `stdin`; a command still running after `WAIT` is killed
/// and fails the test.
fn run_with_stdin(cmd: &mut Command, stdin: Option<&str>) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start opsdesk");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        pipe.write_all(input.as_bytes()).expect("write stdin");
        // Dropping the pipe closes it, so the command sees the end of its input.
    }
    let stdout = drain(child.stdout.take().expect("stdout pipe"));
    let stderr = drain(child.stderr.take().expect("stderr pipe"));
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for opsdesk") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} still running after {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        code: status.code(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// Reads a pipe to its end on a thread, so a chatty command never blocks on a full pipe.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// A spawned `opsdesk serve`, killed when dropped.
struct Server {
    child: Child,
    base: String,
    /// What it printed on stderr up to and including "opsdesk serving on …".
    startup: Vec<String>,
}

impl Server {
    /// Starts `opsdesk serve --data DATA EXTRA…` on a free port and waits until it is healthy.
    async fn start(s: &Sandbox, data: &Path, extra: &[&str]) -> Server {
        // `free_port` can race with another test taking the port; try a few.
        for _ in 0..3 {
            let port = free_port();
            let mut cmd = s.opsdesk(["serve", "--listen", &format!("127.0.0.1:{port}")]);
            cmd.arg("--data")
                .arg(data)
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("start opsdesk serve");
            let lines = stderr_lines(child.stderr.take().expect("stderr pipe"));
            let mut startup = Vec::new();
            let deadline = Instant::now() + WAIT;
            let serving = loop {
                match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(line) => {
                        let serving = line.contains("opsdesk serving on");
                        startup.push(line);
                        if serving {
                            break true;
                        }
                    }
                    // stderr closed before "serving": the process ended.
                    Err(RecvTimeoutError::Disconnected) => break false,
                    Err(RecvTimeoutError::Timeout) => {
                        let _ = child.kill();
                        let _ = child.wait();
                        panic!("serve did not start within {WAIT:?}; stderr: {startup:#?}");
                    }
                }
            };
            if serving {
                let base = format!("http://127.0.0.1:{port}");
                tokio::time::timeout(WAIT, wait_healthy(&base))
                    .await
                    .expect("healthz answers");
                return Server {
                    child,
                    base,
                    startup,
                };
            }
            let status = child.wait().expect("wait for serve");
            if startup.iter().any(|l| l.contains("listening on")) {
                continue;
            }
            panic!("serve exited with {status}; stderr: {startup:#?}");
        }
        panic!("serve found no free port in three tries");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The demo handler's token from the `--demo` credentials block.
    fn demo_token(&self) -> String {
        self.startup
            .iter()
            .find_map(|l| {
                let rest = &l[l.find("token odt_")? + "token ".len()..];
                Some(rest.split_whitespace().next()?.to_string())
            })
            .unwrap_or_else(|| panic!("no demo token on stderr: {:#?}", self.startup))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// stderr line by line over a channel. The reader keeps draining after the receiver is gone,
/// so the server never blocks writing its log.
fn stderr_lines(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line).trim_end().to_string();
                    let _ = tx.send(text);
                }
            }
        }
    });
    rx
}

fn client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("token header"),
    );
    // No client-wide timeout: it would also cut the event stream. Requests set their own.
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

/// GET `url` with `token`; asserts 200 and returns the JSON body.
async fn get_json(token: &str, url: &str) -> Value {
    let r = client(token)
        .get(url)
        .timeout(WAIT)
        .send()
        .await
        .expect("GET");
    let status = r.status();
    let body = r.text().await.expect("body");
    assert_eq!(status, 200, "GET {url}: {body}");
    serde_json::from_str(&body).expect("JSON body")
}

/// The whole ticket list (every test here stays under one page of 1000).
async fn ticket_page(server: &Server, token: &str) -> Value {
    get_json(token, &server.url("/api/v1/tickets?limit=1000")).await
}

fn total(page: &Value) -> u64 {
    page["total"].as_u64().expect("total")
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

// ------------------------------------------------------------------------------------------
// admin user add

#[tokio::test]
async fn user_add_prints_a_token_the_server_accepts() {
    let s = Sandbox::new();
    let out = run(s
        .opsdesk([
            "admin",
            "user",
            "add",
            "h_li",
            "--role",
            "handler",
            "--display-name",
            "李工",
            "--data",
        ])
        .arg(s.data()));
    out.assert_code(0);
    assert!(out.stdout.ends_with('\n'), "{:?}", out.stdout);
    let token = out.last_line();
    assert!(
        token.starts_with("odt_")
            && token.len() == 68
            && token[4..].bytes().all(|b| b.is_ascii_hexdigit()),
        "the last line is the token alone: {token:?}"
    );

    let server = Server::start(&s, &s.data(), &[]).await;
    let me = get_json(token, &server.url("/api/v1/me")).await;
    assert_eq!(me["username"], "h_li");
    assert_eq!(me["role"], "handler");
    assert_eq!(me["display_name"], "李工");

    let stranger = format!("odt_{}", "0".repeat(64));
    let r = client(&stranger)
        .get(server.url("/api/v1/me"))
        .timeout(WAIT)
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 401, "a made-up token is refused");

    // `user token` replaces the CLI token: the new one works, the old one no longer does.
    let again = run(s
        .opsdesk(["admin", "user", "token", "h_li", "--data"])
        .arg(s.data()));
    again.assert_code(0);
    let fresh = again.last_line();
    assert!(fresh.starts_with("odt_") && fresh.len() == 68, "{fresh:?}");
    assert_ne!(fresh, token);
    let me = get_json(fresh, &server.url("/api/v1/me")).await;
    assert_eq!(me["username"], "h_li");
    let r = client(token)
        .get(server.url("/api/v1/me"))
        .timeout(WAIT)
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 401, "the earlier CLI token is revoked");
}

#[test]
fn user_add_refuses_duplicates_unknown_roles_and_malformed_names() {
    let s = Sandbox::new();
    s.add_user(&s.data(), "h_wang", "handler");

    let dup = run(s
        .opsdesk([
            "admin", "user", "add", "h_wang", "--role", "admin", "--data",
        ])
        .arg(s.data()));
    dup.assert_code(2);
    assert!(dup.stderr.contains("already exists"), "{}", dup.stderr);
    assert!(dup.stderr.contains("h_wang"), "{}", dup.stderr);
    assert!(dup.stdout.is_empty(), "no token for a refused user");

    // A clap usage error: exit code 2 and the valid roles.
    let wizard = run(s
        .opsdesk([
            "admin", "user", "add", "h_zhao", "--role", "wizard", "--data",
        ])
        .arg(s.data()));
    wizard.assert_code(2);
    assert!(wizard.stderr.contains("wizard"), "{}", wizard.stderr);
    assert!(
        wizard.stderr.contains("handler, submitter or admin"),
        "{}",
        wizard.stderr
    );
    assert!(wizard.stdout.is_empty());

    for name in ["张三", "A", "9lives", "h wang"] {
        let bad = run(s
            .opsdesk(["admin", "user", "add", name, "--role", "handler", "--data"])
            .arg(s.data()));
        bad.assert_code(2);
        assert!(
            bad.stderr.contains(&format!("username '{name}'")) && bad.stderr.contains("a-z, 0-9"),
            "{name}: {}",
            bad.stderr
        );
        assert!(bad.stdout.is_empty(), "{name}: no token");
    }

    let list = run(s.opsdesk(["admin", "user", "list", "--data"]).arg(s.data()));
    list.assert_code(0);
    let rows: Vec<Vec<&str>> = list
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [["h_wang", "handler", "h_wang"]],
        "only the first add took"
    );
}

#[test]
fn password_stdin_needs_eight_characters() {
    let s = Sandbox::new();
    let add = |stdin: &str| {
        run_with_stdin(
            s.opsdesk([
                "admin",
                "user",
                "add",
                "cm_sun",
                "--role",
                "submitter",
                "--password-stdin",
                "--data",
            ])
            .arg(s.data()),
            Some(stdin),
        )
    };

    for short in ["short\n", "1234567\n", "\n", ""] {
        let out = add(short);
        out.assert_code(2);
        assert!(
            out.stderr.contains("at least 8 characters"),
            "{short:?}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{short:?}: no token");
    }

    // Nothing was written by the refusals: the same name is still free. Eight CJK characters
    // are eight characters, and a CRLF line ending is not part of the password.
    let out = add("证券交易密码安全\r\n");
    out.assert_code(0);
    let token = out.last_line();
    assert!(token.starts_with("odt_") && token.len() == 68, "{token:?}");
}

// ------------------------------------------------------------------------------------------
// serve --demo

#[tokio::test]
async fn serve_demo_seeds_once_masks_customers_and_streams_changes() {
    let s = Sandbox::new();
    let server = Server::start(&s, &s.data(), &["--demo"]).await;
    // 200 hand-written tickets and twelve weeks of history, whose size depends on the day.
    let seeded: u64 = server
        .startup
        .iter()
        .find_map(|l| l.split("Seeded the demo data: ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{:#?}", server.startup));
    assert!(seeded > 1_000, "twelve weeks of history: {seeded}");
    let token = server.demo_token();
    assert!(token.starts_with("odt_") && token.len() == 68, "{token:?}");

    let health = reqwest::Client::new()
        .get(server.url("/healthz"))
        .timeout(WAIT)
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let health: Value = health.json().await.expect("healthz JSON");
    assert_eq!(health["tickets"], seeded);

    let page = ticket_page(&server, &token).await;
    assert_eq!(total(&page), seeded);
    let tickets = page["tickets"].as_array().expect("tickets");
    assert_eq!(tickets.len() as u64, seeded.min(1000));
    let phones: Vec<&str> = tickets
        .iter()
        .filter_map(|t| t["customer"]["phone"].as_str())
        .collect();
    assert!(!phones.is_empty(), "the demo has customers with phones");
    for phone in &phones {
        assert!(phone.contains("****"), "phone shown masked: {phone}");
    }

    // A change made through the API reaches a subscriber of the event stream.
    let events = tokio::time::timeout(
        WAIT,
        client(&token).get(server.url("/api/v1/events")).send(),
    )
    .await
    .expect("the event stream answers")
    .expect("GET /api/v1/events");
    assert_eq!(events.status(), 200);
    let mut stream = SseReader::new(events);

    let ticket = tickets
        .iter()
        .find(|t| t["status"] == "new")
        .expect("the demo has new tickets");
    let id = ticket["id"].as_i64().expect("id");
    let version = ticket["version"].as_i64().expect("version");
    let title = format!("{}（已核实）", ticket["title"].as_str().expect("title"));
    let r = client(&token)
        .patch(server.url(&format!("/api/v1/tickets/{id}")))
        .json(&json!({"version": version, "title": title}))
        .timeout(WAIT)
        .send()
        .await
        .expect("PATCH");
    assert_eq!(r.status(), 200);
    let patched: Value = r.json().await.expect("patched JSON");
    assert_eq!(patched["version"], version + 1);

    let deadline = Instant::now() + WAIT;
    loop {
        let ev = stream
            .next(deadline.saturating_duration_since(Instant::now()))
            .await
            .expect("ticket.updated for the patched ticket arrives");
        let change: Value = serde_json::from_str(&ev.data).expect("event data is JSON");
        if ev.event.as_deref() == Some("ticket.updated") && change["ticket_id"] == id {
            assert_eq!(change["data"]["title"], title.as_str());
            assert_eq!(change["data"]["version"], version + 1);
            break;
        }
    }
    drop(stream);
    drop(server);

    // Again on the same data dir: fresh credentials, no second seeding.
    let server = Server::start(&s, &s.data(), &["--demo"]).await;
    assert!(
        !server.startup.iter().any(|l| l.contains("Seeded")),
        "{:#?}",
        server.startup
    );
    let again = server.demo_token();
    assert_ne!(again, token, "a new demo token each start");
    let page = ticket_page(&server, &again).await;
    assert_eq!(total(&page), seeded, "seeded once");
    let r = client(&token)
        .get(server.url("/api/v1/me"))
        .timeout(WAIT)
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 401, "the previous demo token was replaced");
}

#[tokio::test]
async fn serve_demo_refuses_a_data_dir_with_other_data() {
    let s = Sandbox::new();
    s.add_user(&s.data(), "h_real", "handler");
    let out = run(s
        .opsdesk([
            "serve",
            "--demo",
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--data",
        ])
        .arg(s.data()));
    out.assert_code(2);
    assert!(
        out.stderr.contains("--demo only seeds an empty one"),
        "{}",
        out.stderr
    );
}

// ------------------------------------------------------------------------------------------
// ticket import

/// The ticket numbers from a text import's "imported REF as #N" lines, in row order.
fn imported_ids(stdout: &str) -> Vec<i64> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(" as #"))
        .map(|(_, rest)| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
                .expect("a ticket number")
        })
        .collect()
}

#[tokio::test]
async fn ticket_import_reports_every_row_and_imports_each_once() {
    let s = Sandbox::new();
    // Store times have millisecond precision; a second of slack covers the rounding.
    let started = Utc::now() - chrono::Duration::seconds(1);

    let first = s.import(&s.data(), SAMPLE, false);
    first.assert_code(2);
    let lines: Vec<&str> = first.stdout.lines().collect();
    assert_eq!(lines.len(), SAMPLE_ROWS.len(), "{}", first.stdout);
    for ((reference, refusal), (line, file_line)) in
        SAMPLE_ROWS.iter().zip(lines.iter().zip(SAMPLE_LINES))
    {
        assert!(line.starts_with(&format!("line {file_line}: ")), "{line}");
        match refusal {
            None => assert!(
                line.contains(&format!("imported {reference} as #")),
                "{line}"
            ),
            Some(why) => assert!(
                line.contains(&format!("refused {reference}: ")) && line.contains(why),
                "{line}"
            ),
        }
    }
    assert!(
        first
            .stderr
            .contains("6 imported, 0 already imported, 4 refused"),
        "{}",
        first.stderr
    );
    let ids = imported_ids(&first.stdout);
    assert_eq!(ids.len(), 6);

    // The same file again: every good row is reported already imported, as the same ticket.
    let second = s.import(&s.data(), SAMPLE, false);
    second.assert_code(2);
    let lines: Vec<&str> = second.stdout.lines().collect();
    assert_eq!(lines.len(), SAMPLE_ROWS.len(), "{}", second.stdout);
    for ((reference, refusal), line) in SAMPLE_ROWS.iter().zip(&lines) {
        match refusal {
            None => assert!(
                line.contains(&format!("{reference} was already imported as #")),
                "{line}"
            ),
            Some(why) => assert!(line.contains(why), "{line}"),
        }
    }
    assert_eq!(imported_ids(&second.stdout), ids);
    assert!(
        second
            .stderr
            .contains("0 imported, 6 already imported, 4 refused"),
        "{}",
        second.stderr
    );

    // --json: one object per row with its outcome.
    let third = s.import(&s.data(), SAMPLE, true);
    third.assert_code(2);
    let rows: Vec<Value> = third
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(rows.len(), SAMPLE_ROWS.len());
    let mut good = ids.iter();
    for (((reference, refusal), file_line), row) in SAMPLE_ROWS.iter().zip(SAMPLE_LINES).zip(&rows)
    {
        assert_eq!(row["line"], file_line, "{row}");
        assert_eq!(row["external_ref"], *reference, "{row}");
        match refusal {
            None => {
                assert_eq!(row["outcome"], "already_imported", "{row}");
                assert_eq!(row["ticket"], *good.next().expect("an id"), "{row}");
            }
            Some(why) => {
                assert_eq!(row["outcome"], "refused", "{row}");
                let reason = row["reason"].as_str().expect("reason");
                assert!(reason.contains(why), "{row}");
            }
        }
    }

    // What the API shows for the imported tickets.
    let token = s.add_user(&s.data(), "h_import", "handler");
    let server = Server::start(&s, &s.data(), &[]).await;
    let page = ticket_page(&server, &token).await;
    assert_eq!(total(&page), 6, "imported once, refused rows not stored");
    let tickets = page["tickets"].as_array().expect("tickets");
    let by_ref = |reference: &str| -> &Value {
        tickets
            .iter()
            .find(|t| t["external_ref"] == reference)
            .unwrap_or_else(|| panic!("{reference} is in the list"))
    };
    for t in tickets {
        assert_eq!(t["channel"], "itsm", "{t}");
        assert_eq!(
            t["submitter"], "itsm",
            "unknown submitters map to the itsm user"
        );
    }

    let t = by_ref("ITSM-20261120-0001");
    assert_eq!(t["id"], ids[0]);
    // 2026-11-20 09:30 in Asia/Shanghai.
    assert_eq!(
        utc(t["created_at"].as_str().expect("created_at")),
        utc("2026-11-20T01:30:00Z")
    );
    assert_eq!(t["title"], "委托下单提示资金不足");
    assert_eq!(t["system"], "trading");
    assert_eq!(t["category"], "consultation");
    assert_eq!(t["subcategory"], "委托");
    assert_eq!(t["priority"], "P3");
    assert_eq!(t["customer"]["phone"], "138****1234");
    assert_eq!(t["customer"]["account"], "3100****5678");
    assert!(
        t["description"]
            .as_str()
            .expect("description")
            .contains("提示\"可用资金不足\""),
        "CSV quotes unescaped: {t}"
    );

    let expected = [
        // (ref, system, category, priority, created_at)
        (
            "ITSM-20261120-0002",
            "trading",
            "data",
            "P2",
            "2026-11-20T02:15:00Z",
        ),
        (
            "ITSM-20261120-0003",
            "depository",
            "program",
            "P1",
            "2026-11-20T02:45:00Z",
        ),
        (
            "ITSM-20261120-0004",
            "account",
            "data",
            "P4",
            "2026-11-20T03:05:00Z",
        ),
        (
            "ITSM-20261120-0006",
            "margin",
            "consultation",
            "P2",
            "2026-11-20T05:20:00Z",
        ),
    ];
    for (reference, system, category, priority, created_at) in expected {
        let t = by_ref(reference);
        assert_eq!(t["system"], system, "{reference}");
        assert_eq!(t["category"], category, "{reference}");
        assert_eq!(t["priority"], priority, "{reference}");
        assert_eq!(
            utc(t["created_at"].as_str().expect("created_at")),
            utc(created_at),
            "{reference}"
        );
    }
    let t = by_ref("ITSM-20261120-0003");
    assert_eq!(t["customer"]["id_number"], "110***********002X");

    // No created_at: the import's own time; a quoted description keeps its line break.
    let t = by_ref("ITSM-20261120-0005");
    assert_eq!(t["system"], "market_data");
    assert_eq!(t["category"], "consultation", "the default category");
    assert!(utc(t["created_at"].as_str().expect("created_at")) >= started);
    assert!(
        t["description"]
            .as_str()
            .expect("description")
            .contains("一分钟，\n切换 4G"),
        "{t}"
    );
}

#[test]
fn ticket_import_refuses_unknown_columns_and_missing_files() {
    let s = Sandbox::new();

    let out = s.import(&s.data(), UNKNOWN_COLUMN, false);
    out.assert_code(2);
    assert!(
        out.stderr.contains("unknown column '工单状态'"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "no row is looked at: {}", out.stdout);

    let missing_column = s.path("missing_column.csv");
    std::fs::write(
        &missing_column,
        "external_ref,title,description\nITSM-1,委托下单提示资金不足,客户 310012345678 于 09:25 买入提示可用资金不足\n",
    )
    .expect("write CSV");
    let out = s.import(
        &s.data(),
        missing_column.to_str().expect("UTF-8 path"),
        false,
    );
    out.assert_code(2);
    assert!(
        out.stderr.contains("missing required column 'system'"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());

    let nowhere = s.path("no-such-export.csv");
    let fresh = s.path("untouched");
    let out = s.import(&fresh, nowhere.to_str().expect("UTF-8 path"), false);
    out.assert_code(2);
    assert!(out.stderr.contains("no-such-export.csv"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(!fresh.exists(), "a missing file creates no data dir");
}

// ------------------------------------------------------------------------------------------
// admin backup

#[tokio::test]
async fn backup_while_serving_restores_the_same_tickets() {
    let s = Sandbox::new();
    let token = s.add_user(&s.data(), "h_backup", "handler");
    let server = Server::start(&s, &s.data(), &[]).await;
    let api = client(&token);
    for title in [
        "委托下单提示资金不足",
        "撤单后资金未解冻",
        "银证转账提示通讯超时",
    ] {
        let r = api
            .post(server.url("/api/v1/tickets"))
            .json(&good_ticket(title))
            .timeout(WAIT)
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    }
    // The import writes from its own process while the server runs.
    s.import(&s.data(), SAMPLE, false).assert_code(2);
    let before = ticket_page(&server, &token).await;
    assert_eq!(total(&before), 9);

    let out_file = s.path("backup.sqlite3");
    let out = run(s
        .opsdesk(["admin", "backup"])
        .arg(&out_file)
        .arg("--data")
        .arg(s.data()));
    out.assert_code(0);
    assert!(out_file.is_file(), "{}", out.stderr);

    // The server carries on; what it writes now is not in the backup.
    let r = api
        .post(server.url("/api/v1/tickets"))
        .json(&good_ticket("备份之后新建的工单"))
        .timeout(WAIT)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 201);
    assert_eq!(total(&ticket_page(&server, &token).await), 10);

    let restored = s.path("restored");
    std::fs::create_dir(&restored).expect("mkdir");
    std::fs::copy(&out_file, restored.join("opsdesk.sqlite3")).expect("copy the backup");
    let token2 = s.add_user(&restored, "h_restore", "handler");
    let copy = Server::start(&s, &restored, &[]).await;
    let after = ticket_page(&copy, &token2).await;
    assert_eq!(total(&after), total(&before));
    let titles = |page: &Value| {
        let mut t: Vec<String> = page["tickets"]
            .as_array()
            .expect("tickets")
            .iter()
            .map(|t| t["title"].as_str().expect("title").to_string())
            .collect();
        t.sort();
        t
    };
    assert_eq!(titles(&after), titles(&before));
    // Users and their tokens are part of the backup.
    let me = get_json(&token, &copy.url("/api/v1/me")).await;
    assert_eq!(me["username"], "h_backup");
}

#[test]
fn backup_refuses_an_existing_file_and_a_data_dir_without_data() {
    let s = Sandbox::new();
    s.add_user(&s.data(), "h_keep", "handler");

    let existing = s.path("existing.sqlite3");
    std::fs::write(&existing, "not to be overwritten").expect("write");
    let out = run(s
        .opsdesk(["admin", "backup"])
        .arg(&existing)
        .arg("--data")
        .arg(s.data()));
    out.assert_code(2);
    assert!(out.stderr.contains("exists"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(&existing).expect("read"),
        "not to be overwritten"
    );

    let empty = s.path("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let nowhere = s.path("nowhere");
    for dir in [&empty, &nowhere] {
        let target = s.path("never.sqlite3");
        let out = run(s
            .opsdesk(["admin", "backup"])
            .arg(&target)
            .arg("--data")
            .arg(dir));
        out.assert_code(2);
        assert!(
            out.stderr.contains("no opsdesk data"),
            "{}: {}",
            dir.display(),
            out.stderr
        );
        assert!(!target.exists(), "{}: no backup file", dir.display());
    }
    assert!(!nowhere.exists(), "a backup does not create the data dir");
}

// ------------------------------------------------------------------------------------------
// global flags

#[test]
fn global_flags_are_accepted_after_the_subcommand() {
    let s = Sandbox::new();
    s.add_user(&s.data(), "h_flags", "handler");
    let listed = |out: &Output| {
        out.assert_code(0);
        assert!(
            out.stdout
                .lines()
                .any(|l| l.split_whitespace().eq(["h_flags", "handler", "h_flags"])),
            "{}",
            out.stdout
        );
    };

    listed(&run(s
        .opsdesk(["admin", "user", "list", "--data"])
        .arg(s.data())));

    // A config file that is named but missing is an error, wherever the flag stands.
    let missing = s.path("nonexistent.toml");
    let out = run(s
        .opsdesk(["admin", "user", "list", "--data"])
        .arg(s.data())
        .arg("--config")
        .arg(&missing));
    out.assert_code(2);
    assert!(
        out.stderr.contains("cannot read") && out.stderr.contains("nonexistent.toml"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());

    let out = run(s
        .opsdesk(["admin", "user", "list", "--data"])
        .arg(s.data())
        .env("OPSDESK_CONFIG", &missing));
    out.assert_code(2);
    assert!(out.stderr.contains("nonexistent.toml"), "{}", out.stderr);

    // A config file that exists is read: its data dir stands in for --data.
    let config = s.path("opsdesk.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ndata_dir = {}\n",
            serde_json::to_string(&s.data()).expect("path as a TOML string")
        ),
    )
    .expect("write config");
    listed(&run(s
        .opsdesk(["admin", "user", "list", "--config"])
        .arg(&config)));
    listed(&run(s
        .opsdesk(["admin", "--config"])
        .arg(&config)
        .args(["user", "list"])));
}

#[test]
fn serve_refuses_a_configuration_it_could_not_work_with_naming_the_key_and_line() {
    let sb = Sandbox::new();
    let cases = [
        (
            "[server]\nlisten = \"127.0.0.1:0\"\nrequest_timeout_secs = 0\n",
            "server.request_timeout_secs",
            3,
        ),
        (
            "[server]\nmax_event_streams = 0\n",
            "server.max_event_streams",
            2,
        ),
        (
            "# limits\n\n[server]\nmax_body_bytes = 0\n",
            "server.max_body_bytes",
            4,
        ),
        (
            "[server]\nmax_concurrent_requests = 0\n",
            "server.max_concurrent_requests",
            2,
        ),
        (
            "[server]\nmax_image_pixels = 100\n",
            "server.max_image_pixels",
            2,
        ),
        ("[mss]\nlockout_after = 0\n", "mss.lockout_after", 2),
        ("[sla.P1]\nresolve = \"soon\"\n", "sla.P1.resolve", 2),
    ];
    for (text, key, line) in cases {
        let config = sb.path("bad.toml");
        std::fs::write(&config, text).unwrap();
        let mut cmd = sb.opsdesk(["serve", "--config"]);
        cmd.arg(&config).arg("--data").arg(sb.data());
        let out = run(&mut cmd);
        out.assert_code(2);
        let at = format!("{}:{line}:", config.display());
        assert!(
            out.stderr.contains(&at) && out.stderr.contains(key),
            "{text}: wanted {at} and {key} in {}",
            out.stderr
        );
        assert!(!out.stderr.contains("serving"), "{}", out.stderr);
    }
}

#[test]
fn kb_filter_ranks_lines_like_fzf_filter_with_pinyin_and_near_spellings() {
    let s = Sandbox::new();
    let lines = "银证转账失败：银行卡状态异常\n\
                 客户开户失败，身份证识别不通过\n\
                 快速开户流程说明\n\
                 开户失败：视频见证提示网络异常\n\
                 open account failed: OTP not received\n\
                 APP 闪退\n";
    let filter = |q: &str| {
        let out = run_with_stdin(&mut s.opsdesk(["kb", "filter", q]), Some(lines));
        (
            out.code,
            out.stdout.lines().map(str::to_string).collect::<Vec<_>>(),
        )
    };
    for q in ["khsb", "kaihushibai", "开户失败"] {
        let (code, found) = filter(q);
        assert_eq!(code, Some(0), "{q}");
        assert_eq!(
            found[..2],
            [
                "开户失败：视频见证提示网络异常",
                "客户开户失败，身份证识别不通过"
            ],
            "{q}: the field's start first"
        );
    }
    let (_, kaihu) = filter("kaihu");
    assert!(!kaihu.iter().any(|l| l.starts_with("银证")), "{kaihu:?}");
    assert_eq!(
        filter("opne acount").1,
        ["open account failed: OTP not received"]
    );
    assert_eq!(filter("yinhangka").1, ["银证转账失败：银行卡状态异常"]);
    assert_eq!(
        filter("yinxingka"),
        (Some(1), vec![]),
        "nothing found is exit code 1"
    );

    let (code, top) = {
        let out = run_with_stdin(
            &mut s.opsdesk(["kb", "filter", "开户", "--limit", "1"]),
            Some(lines),
        );
        (out.code, out.stdout)
    };
    assert_eq!((code, top.lines().count()), (Some(0), 1));
}

#[test]
fn kb_filter_reads_any_bytes_and_refuses_a_page_of_query() {
    let s = Sandbox::new();
    let path = s.path("lines.bin");
    std::fs::write(
        &path,
        b"\xff\xfe broken \xc3 bytes\n\x00\x1b[31m\x07 control\n\xe5\xbc\x80\xe6\x88\xb7 ok\n",
    )
    .unwrap();
    let out = s
        .opsdesk(["kb", "filter", "kai"])
        .stdin(std::fs::File::open(&path).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "开户 ok\n");

    let long = "开".repeat(1001);
    let out = run_with_stdin(
        &mut s.opsdesk(["kb", "filter", long.as_str()]),
        Some("开户\n"),
    );
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("at most 1000"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for system in std::fs::read_dir(dir).unwrap() {
        for file in std::fs::read_dir(system.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            out.insert(
                path.strip_prefix(dir).unwrap().display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            );
        }
    }
    out
}

#[test]
fn kb_import_and_export_round_trip_the_articles() {
    let s = Sandbox::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kb");
    let data = s.path("data");
    let out = run(s
        .opsdesk(["kb", "import"])
        .arg(&fixtures)
        .arg("--data")
        .arg(&data));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let created = out
        .stdout
        .lines()
        .filter(|l| l.contains(": created "))
        .count();
    assert!(created >= 150, "{}", out.stdout);

    let first = s.path("first");
    let out = run(s
        .opsdesk(["kb", "export"])
        .arg(&first)
        .arg("--data")
        .arg(&data));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let exported = tree(&first);
    assert_eq!(exported.len(), created);

    // Into a new data dir and out again: the same files, byte for byte.
    let other = s.path("other");
    let out = run(s
        .opsdesk(["kb", "import"])
        .arg(&first)
        .arg("--data")
        .arg(&other));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let second = s.path("second");
    run(s
        .opsdesk(["kb", "export"])
        .arg(&second)
        .arg("--data")
        .arg(&other));
    assert_eq!(tree(&second), exported);

    // The same files again change nothing; an edited one is a new version.
    let out = run(s
        .opsdesk(["kb", "import"])
        .arg(&first)
        .arg("--data")
        .arg(&data)
        .arg("--json"));
    let outcomes: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        outcomes.iter().all(|o| o["outcome"] == "unchanged"),
        "{}",
        out.stdout
    );
    let (name, text) = exported.iter().next().unwrap();
    std::fs::write(
        first.join(name),
        text.replacen("title = \"", "title = \"（已更新）", 1),
    )
    .unwrap();
    let out = run(s
        .opsdesk(["kb", "import"])
        .arg(&first)
        .arg("--data")
        .arg(&data));
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.contains(": updated "))
            .count(),
        1,
        "{}",
        out.stdout
    );
}

#[test]
fn kb_import_refuses_every_broken_file_and_imports_nothing() {
    let s = Sandbox::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kb");
    let dir = s.path("articles");
    std::fs::create_dir_all(dir.join("trading")).unwrap();
    let good = tree(&fixtures)
        .into_iter()
        .find(|(n, _)| n.starts_with("trading/"))
        .unwrap()
        .1;
    std::fs::write(dir.join("trading/good.md"), &good).unwrap();
    std::fs::write(dir.join("trading/copy.md"), &good).unwrap();
    std::fs::write(dir.join("trading/no-front-matter.md"), "1. 步骤\n").unwrap();
    std::fs::write(dir.join("trading/unclosed.md"), "+++\ntitle = \"x\"\n").unwrap();
    std::fs::write(
        dir.join("trading/missing.md"),
        good.lines()
            .filter(|l| !l.starts_with("author"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("trading/system.md"),
        good.replacen("system = \"trading\"", "system = \"moon\"", 1),
    )
    .unwrap();
    let data = s.path("data");
    let out = run(s
        .opsdesk(["kb", "import"])
        .arg(&dir)
        .arg("--data")
        .arg(&data));
    assert_eq!(out.code, Some(2));
    for (file, says) in [
        ("trading/good.md", "is also the id of"),
        ("trading/no-front-matter.md", "must start with a line '+++'"),
        ("trading/unclosed.md", "no closing '+++'"),
        ("trading/missing.md", "author"),
        ("trading/system.md", "moon"),
    ] {
        assert!(
            out.stderr
                .lines()
                .any(|l| l.starts_with(file) && l.contains(says)),
            "{file}: {says}\n{}",
            out.stderr
        );
    }
    assert!(
        out.stderr.contains("nothing was imported"),
        "{}",
        out.stderr
    );
    assert!(!data.exists(), "a refused import creates no data dir");
}

#[test]
fn kb_pictures_beside_the_files_are_imported_and_exported_again() {
    let s = Sandbox::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kb");
    let good = tree(&fixtures)
        .into_iter()
        .find(|(n, _)| n.starts_with("trading/"))
        .unwrap()
        .1;
    let dir = s.path("articles");
    std::fs::create_dir_all(dir.join("trading/img")).unwrap();
    let png = common::mss::png(32, 24);
    std::fs::write(dir.join("trading/img/flow.png"), &png).unwrap();
    let with_picture = format!("{}\n![委托流程](img/flow.png)\n", good.trim_end());
    std::fs::write(dir.join("trading/flow.md"), &with_picture).unwrap();
    let data = s.path("data");
    let import = |from: &Path, data: &Path| {
        run(s
            .opsdesk(["kb", "import"])
            .arg(from)
            .arg("--data")
            .arg(data))
    };
    let export = |to: &Path, data: &Path| {
        let out = run(s.opsdesk(["kb", "export"]).arg(to).arg("--data").arg(data));
        out.assert_code(0);
    };
    import(&dir, &data).assert_code(0);
    let first = s.path("first");
    export(&first, &data);
    let picture = first.join("images/1.png");
    assert!(
        !std::fs::read(&picture).unwrap().is_empty(),
        "the picture is written beside the articles"
    );
    let md = std::fs::read_dir(first.join("trading"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .next()
        .unwrap();
    assert!(md.contains("![委托流程](../images/1.png)"), "{md}");

    // Back into the same data dir: the same picture, nothing changed.
    let out = import(&first, &data);
    out.assert_code(0);
    assert!(out.stdout.contains(": unchanged "), "{}", out.stdout);
    // Into another and out again: the same article and the same picture.
    let other = s.path("other");
    import(&first, &other).assert_code(0);
    let second = s.path("second");
    export(&second, &other);
    assert_eq!(
        std::fs::read(second.join("images/1.png")).unwrap(),
        std::fs::read(&picture).unwrap()
    );

    // A picture missing, outside the folder, or not a picture refuses the whole import.
    let outside = s.path("outside.png");
    std::fs::write(&outside, &png).unwrap();
    for (steps, says) in [
        ("![x](img/gone.png)", "not found"),
        ("![x](../../outside.png)", "outside"),
        ("![x](flow.md)", "picture"),
    ] {
        let bad = s.path("bad");
        let _ = std::fs::remove_dir_all(&bad);
        std::fs::create_dir_all(bad.join("trading")).unwrap();
        std::fs::copy(dir.join("trading/flow.md"), bad.join("trading/flow.md")).unwrap();
        std::fs::write(
            bad.join("trading/other.md"),
            good.replacen("id = \"", "id = \"bad-", 1) + steps,
        )
        .unwrap();
        let fresh = s.path("fresh");
        let _ = std::fs::remove_dir_all(&fresh);
        let out = import(&bad, &fresh);
        assert_ne!(out.code, Some(0), "{steps}: {}", out.stdout);
        assert!(out.stderr.contains(says), "{steps}: {}", out.stderr);
        assert!(
            out.stderr.contains("nothing was imported"),
            "{}",
            out.stderr
        );
        if fresh.exists() {
            let exported = s.path("fresh-out");
            let _ = std::fs::remove_dir_all(&exported);
            export(&exported, &fresh);
            assert!(
                !exported.join("trading").exists(),
                "{steps}: an article was imported"
            );
        }
    }
}

// ------------------------------------------------------------------------------------------
// construct gen

#[test]
fn construct_gen_draws_valid_unique_identities_and_refuses_what_cannot_be() {
    let draw = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_opsdesk"))
            .args(["construct", "gen"])
            .args(args)
            .env("XDG_CONFIG_HOME", "/nonexistent/opsdesk-tests/config")
            .env_remove("OPSDESK_CONFIG")
            .output()
            .expect("run opsdesk")
    };
    let batch = &[
        "id-number",
        "--count",
        "500",
        "--region",
        "310115",
        "--birth-range",
        "1980-01-01..1989-12-31",
        "--seed",
        "42",
    ];
    let out = draw(batch);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), 500);
    assert_eq!(
        ids.iter().collect::<std::collections::HashSet<_>>().len(),
        500
    );
    for id in &ids {
        assert!(opsdesk::domain::validate::is_id_number(id), "{id}");
        assert!(id.starts_with("310115198"), "{id}");
    }
    let again = draw(batch);
    assert_eq!(
        String::from_utf8(again.stdout)
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        ids,
        "a seed repeats its batch"
    );
    let cards = draw(&["bank-card", "--count", "50", "--json"]);
    let cards: Vec<String> = serde_json::from_slice(&cards.stdout).unwrap();
    assert!(
        cards
            .iter()
            .all(|c| opsdesk::domain::construct::generate::luhn_ok(c))
    );
    for bad in [
        vec!["id-number", "--region", "999999"],
        vec!["id-number", "--birth-range", "2000-01-01..1990-01-01"],
        vec!["phone", "--count", "0"],
        vec!["passport"],
    ] {
        let out = draw(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(
            out.stdout.is_empty(),
            "{bad:?}: nothing half-made on stdout"
        );
    }
}

// ------------------------------------------------------------------------------------------
// monitor and alerts

#[tokio::test(flavor = "multi_thread")]
async fn the_first_monitor_run_once_of_the_demo_mails_the_mismatched_accounts() {
    let mail = common::receivers::SmtpReceiver::start().await;
    let s = Sandbox::new();
    let config = s.path("xdg-config/opsdesk/opsdesk.toml");
    std::fs::create_dir_all(config.parent().expect("a dir")).expect("config dir");
    std::fs::write(
        &config,
        format!(
            "[notify.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"opsdesk@broker.example\"\nto = [\"oncall@broker.example\"]\n",
            mail.port
        ),
    )
    .expect("write the config");
    let server = Server::start(&s, &s.data(), &["--demo"]).await;
    let token = server.demo_token();
    let on_server = |args: &[&str]| {
        let mut cmd = s.opsdesk(args);
        cmd.args(["--server", &server.base, "--token", &token]);
        run(&mut cmd)
    };

    let list = on_server(&["monitor", "list"]);
    list.assert_code(0);
    for name in [
        "card-consistency",
        "cards-not-normal",
        "opening-channels",
        "opening-volume",
    ] {
        assert!(list.stdout.contains(name), "{name}: {}", list.stdout);
    }
    let once = on_server(&["monitor", "run-once", "card-consistency"]);
    once.assert_code(0);
    assert!(once.stdout.contains("firing"), "{}", once.stdout);

    let sent = common::receivers::eventually("the alert's mail", async || {
        mail.mails()
            .into_iter()
            .find(|m| m.text().contains("异常记录"))
    })
    .await;
    let text = sent.text();
    for key in opsdesk::monitor::demo::SEEDED_MISMATCHES {
        let account = key.split('-').next().expect("an account");
        let masked = format!("{}****{}", &account[..4], &account[account.len() - 4..]);
        assert!(text.contains(&masked), "{masked} not in:\n{text}");
        assert!(!text.contains(account), "{account} in full");
    }

    let alerts = on_server(&["alerts", "list"]);
    alerts.assert_code(0);
    assert!(
        alerts.stdout.contains("card-consistency"),
        "{}",
        alerts.stdout
    );
    let history = on_server(&["monitor", "history", "card-consistency", "--json"]);
    history.assert_code(0);
    let history: Value = serde_json::from_str(&history.stdout).expect("JSON");
    assert_eq!(history[0]["outcome"], "firing");

    // An unknown monitor is said, not a crash.
    let unknown = on_server(&["monitor", "run-once", "no-such-monitor"]);
    assert_ne!(unknown.code, Some(0));
    assert!(
        unknown.stderr.contains("no-such-monitor"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn monitor_check_reports_each_mistake_with_file_and_line() {
    let s = Sandbox::new();
    let dir = s.path("monitors");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("volume.toml"),
        "title = \"t\"\nschedule = \"*/5 * * * *\"\n\n[query]\nurl = \"http://127.0.0.1:9/count.json\"\npointer = \"/count\"\n[threshold]\nbelow = 3\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("late.toml"),
        "title = \"t\"\nschedule = \"*/5 * * * *\"\n[threshold]\nbelow = 3\nabove = 1\n",
    )
    .expect("write");
    let out = run(s.opsdesk(["monitor", "check"]).arg(&dir));
    out.assert_code(1);
    assert!(out.stdout.contains("ok      volume"), "{}", out.stdout);
    assert!(
        out.stdout.contains("late.toml:3: threshold"),
        "{}",
        out.stdout
    );
}
