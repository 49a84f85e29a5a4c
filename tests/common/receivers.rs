//! Loopback receivers for what the server sends out: a small SMTP server and an HTTP
//! endpoint taking generic webhooks (`/hook`) and WeCom robot messages (`/wecom`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Every wait on a receiver gives up after this long.
pub const WAIT: Duration = Duration::from_secs(20);

/// Polls `check` until it yields a value, or panics after [`WAIT`].
pub async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One message the SMTP receiver accepted.
#[derive(Clone, Debug)]
pub struct Mail {
    pub rcpt: Vec<String>,
    /// Everything between DATA and the final dot, as sent.
    pub raw: String,
}

impl Mail {
    /// The text body, decoded from its transfer encoding (base64).
    pub fn text(&self) -> String {
        let (_, body) = self.raw.split_once("\r\n\r\n").expect("headers and a body");
        let compact: String = body.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .expect("a base64 body");
        String::from_utf8(bytes).expect("UTF-8 text")
    }
}

/// A loopback SMTP server speaking just enough of the protocol for a client to hand over mail.
pub struct SmtpReceiver {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpReceiver {
    pub async fn start() -> SmtpReceiver {
        SmtpReceiver::start_on(0).await
    }

    /// On `port` (0: any free one), for a receiver that comes up after the server.
    pub async fn start_on(port: u16) -> SmtpReceiver {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind smtp");
        let port = listener.local_addr().expect("addr").port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let kept = mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(smtp_session(stream, kept.clone()));
            }
        });
        SmtpReceiver { port, mails }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("mails").clone()
    }
}

async fn smtp_session(stream: tokio::net::TcpStream, mails: Arc<Mutex<Vec<Mail>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut rcpt = Vec::new();
    if write.write_all(b"220 loopback ESMTP\r\n").await.is_err() {
        return;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 loopback\r\n",
            "RCPT" => {
                rcpt.push(line[4..].trim().to_string());
                b"250 OK\r\n"
            }
            "DATA" => {
                if write.write_all(b"354 go ahead\r\n").await.is_err() {
                    return;
                }
                let mut raw = String::new();
                while let Ok(Some(l)) = lines.next_line().await {
                    if l == "." {
                        break;
                    }
                    raw.push_str(&l);
                    raw.push_str("\r\n");
                }
                mails.lock().expect("mails").push(Mail {
                    rcpt: std::mem::take(&mut rcpt),
                    raw,
                });
                b"250 queued\r\n"
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => b"250 OK\r\n",
        };
        if write.write_all(answer).await.is_err() {
            return;
        }
    }
}

/// What the HTTP receiver got: (path, JSON body).
pub type Received = Arc<Mutex<Vec<(String, Value)>>>;

#[derive(Clone)]
pub struct Hooks {
    pub received: Received,
    /// WeCom answers with this error code to the first N robot messages (rate limited).
    wecom_refusals: Arc<Mutex<u32>>,
}

/// A loopback HTTP receiver: `/hook` (a generic webhook) and `/wecom` (a WeCom group robot,
/// answering as WeCom does: HTTP 200 with an `errcode`).
pub struct HttpReceiver {
    pub addr: SocketAddr,
    pub hooks: Hooks,
}

impl HttpReceiver {
    pub async fn start_on(port: u16, wecom_refusals: u32) -> HttpReceiver {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the receiver");
        let addr = listener.local_addr().expect("addr");
        let hooks = Hooks {
            received: Arc::default(),
            wecom_refusals: Arc::new(Mutex::new(wecom_refusals)),
        };
        let app = axum::Router::new()
            .route("/hook", post(hook))
            .route("/wecom", post(wecom))
            .with_state(hooks.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        HttpReceiver { addr, hooks }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn bodies(&self, path: &str) -> Vec<Value> {
        self.hooks
            .received
            .lock()
            .expect("received")
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The webhook bodies of `event` about ticket `id`.
    pub fn events(&self, event: &str, id: i64) -> Vec<Value> {
        self.bodies("/hook")
            .into_iter()
            .filter(|v| v["event"] == event && v["ticket"]["id"] == id)
            .collect()
    }
}

async fn hook(State(h): State<Hooks>, Json(body): Json<Value>) -> &'static str {
    h.received
        .lock()
        .expect("received")
        .push(("/hook".into(), body));
    "ok"
}

async fn wecom(State(h): State<Hooks>, Json(body): Json<Value>) -> Json<Value> {
    {
        let mut refusals = h.wecom_refusals.lock().expect("refusals");
        if *refusals > 0 {
            *refusals -= 1;
            return Json(json!({"errcode": 45009, "errmsg": "api freq out of limit"}));
        }
    }
    h.received
        .lock()
        .expect("received")
        .push(("/wecom".into(), body));
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}
