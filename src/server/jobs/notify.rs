//! The notify worker: delivers the notification queue (`store::notifications`) to SMTP, WeCom
//! and webhooks.
//!
//! Requests only ever write rows; all sending happens here, so a slow or dead endpoint never
//! slows a submission. The worker reads the due rows, sends each with a timeout, and writes
//! back the outcome: delivered, or failed with the next attempt per the retry policy
//! (`[notify]` `retry_base`, `retry_max`, `give_up_after`). It wakes on every local commit and
//! polls once a second for retries and for commits of other processes.
//!
//! Delivery is at least once: a notification sent just before a crash, whose outcome was not
//! yet written, is sent again after the restart. Only URLs in the configuration are ever
//! contacted: a row names its endpoint by a fingerprint, and a row whose endpoint is no longer
//! configured is given up.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use chrono::Utc;
use futures::StreamExt;
use hyper::header::{CONTENT_TYPE, USER_AGENT};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::config::{NotifySettings, SmtpConfig, SmtpTls};
use crate::domain::notify::{ChannelKind, Email};
use crate::server::metrics::Metrics;
use crate::service::notify::fingerprint;
use crate::store::notifications::{self, Pending};
use crate::store::{Store, StoreError};

/// Rows taken per round.
const BATCH: usize = 32;
/// Deliveries in flight at once, so one slow endpoint does not hold up the others.
const CONCURRENCY: usize = 8;
/// How often an idle worker looks for retries that came due.
const POLL: Duration = Duration::from_secs(1);
/// Delivered rows are kept this long, then pruned.
const KEEP_SENT: chrono::Duration = chrono::Duration::days(30);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// The most of an endpoint's answer that is read (for WeCom's error code).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Body>;
type Mailer = AsyncSmtpTransport<Tokio1Executor>;

/// Starts the worker; it ends when `stop` turns true (or its sender is dropped).
pub fn spawn(
    store: Store,
    settings: NotifySettings,
    metrics: Arc<Metrics>,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let http = http_client(settings.timeout).map_err(|e| {
        tracing::error!(error = %e, "cannot set up HTTPS for notifications");
        format!("HTTPS is not available: {e}")
    });
    let mailer = settings.smtp.as_ref().map(|cfg| {
        mailer(cfg, settings.timeout).map_err(|e| {
            tracing::error!(error = %e, "cannot set up SMTP for notifications");
            format!("SMTP is not available: {e}")
        })
    });
    let worker = Worker {
        store,
        settings,
        metrics,
        http,
        mailer,
    };
    tokio::spawn(worker.run(stop))
}

struct Worker {
    store: Store,
    settings: NotifySettings,
    metrics: Arc<Metrics>,
    http: Result<HttpClient, String>,
    mailer: Option<Result<Mailer, String>>,
}

/// What became of one attempt.
enum Outcome {
    Sent,
    /// Worth trying again later (timeouts, refused connections, 5xx, …).
    Failed(String),
    /// Will never work as it stands (the endpoint left the configuration, a corrupt row).
    Refused(String),
}

impl Worker {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        // Without a channel there is nothing to send the moment something is committed; the
        // poll still gives up rows left over from an earlier configuration.
        let mut commits = self.settings.any_channel().then(|| self.store.subscribe());
        let mut last_prune: Option<tokio::time::Instant> = None;
        loop {
            if *stop.borrow() {
                break;
            }
            if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                last_prune = Some(tokio::time::Instant::now());
                self.prune().await;
            }
            let now = Utc::now();
            let due = match self
                .store
                .read(move |conn| notifications::due(conn, now, BATCH))
                .await
            {
                Ok(due) => due,
                Err(StoreError::Closed) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the notification queue");
                    Vec::new()
                }
            };
            if !due.is_empty() {
                let (results, stopping) = self.deliver_all(due, &mut stop).await;
                match self.record(results).await {
                    Ok(()) => {}
                    Err(StoreError::Closed) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot record notification outcomes");
                        tokio::time::sleep(POLL).await;
                    }
                }
                if stopping {
                    break;
                }
                continue;
            }
            tokio::select! {
                () = wait_commit(&mut commits) => {}
                () = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => break,
            }
        }
        tracing::debug!("notify worker stopped");
    }

    /// Sends `due`, a few at a time. On shutdown the outcomes known so far are kept and the
    /// rest stay due, to be sent after the restart.
    async fn deliver_all(
        &self,
        due: Vec<Pending>,
        stop: &mut watch::Receiver<bool>,
    ) -> (Vec<(Pending, Outcome)>, bool) {
        let mut sending = futures::stream::iter(due)
            .map(|n| async move {
                let outcome = self.deliver(&n).await;
                (n, outcome)
            })
            .buffer_unordered(CONCURRENCY);
        let mut done = Vec::new();
        loop {
            tokio::select! {
                next = sending.next() => match next {
                    Some(result) => done.push(result),
                    None => return (done, false),
                },
                _ = stop.changed() => return (done, true),
            }
        }
    }

    async fn deliver(&self, n: &Pending) -> Outcome {
        let Some(channel) = ChannelKind::parse(&n.channel) else {
            return Outcome::Refused(format!("unknown channel '{}'", n.channel));
        };
        let sent = match channel {
            ChannelKind::Smtp => self.send_mail(n).await,
            ChannelKind::Wecom => {
                let url = self
                    .settings
                    .wecom
                    .as_ref()
                    .filter(|u| fingerprint(u) == n.target);
                match url {
                    Some(url) => self.post(url, &n.payload, true).await,
                    None => {
                        return Outcome::Refused("the WeCom robot is no longer configured".into());
                    }
                }
            }
            ChannelKind::Webhook => {
                let url = self
                    .settings
                    .webhooks
                    .iter()
                    .find(|u| fingerprint(u) == n.target);
                match url {
                    Some(url) => self.post(url, &n.payload, false).await,
                    None => return Outcome::Refused("the webhook is no longer configured".into()),
                }
            }
        };
        match sent {
            Ok(()) => Outcome::Sent,
            Err(Undeliverable::Now(e)) => Outcome::Failed(e),
            Err(Undeliverable::Ever(e)) => Outcome::Refused(e),
        }
    }

    /// POSTs a JSON payload. WeCom answers 200 with an `errcode` even when it refuses a
    /// message (rate limit, bad key), so its answer is read.
    async fn post(&self, url: &str, payload: &str, wecom: bool) -> Result<(), Undeliverable> {
        let http = self
            .http
            .as_ref()
            .map_err(|e| Undeliverable::Now(e.clone()))?;
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| Undeliverable::Ever(format!("the configured URL does not parse: {e}")))?;
        let request = hyper::Request::post(uri)
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .header(USER_AGENT, concat!("opsdesk/", env!("CARGO_PKG_VERSION")))
            .body(Body::from(payload.to_string()))
            .map_err(|e| Undeliverable::Ever(format!("cannot build the request: {e}")))?;
        let exchange = async {
            let response = http.request(request).await.map_err(|e| chain(&e))?;
            let status = response.status();
            let answer = axum::body::to_bytes(Body::new(response.into_body()), MAX_ANSWER_BYTES)
                .await
                .unwrap_or_default();
            Ok::<_, String>((status, answer))
        };
        let (status, answer) = tokio::time::timeout(self.settings.timeout, exchange)
            .await
            .map_err(|_| {
                Undeliverable::Now(format!("no answer within {:?}", self.settings.timeout))
            })?
            .map_err(Undeliverable::Now)?;
        if !status.is_success() {
            return Err(Undeliverable::Now(format!(
                "the endpoint answered HTTP {status}"
            )));
        }
        if wecom {
            let v: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
            let code = v["errcode"].as_i64().unwrap_or(-1);
            if code != 0 {
                let msg: String = v["errmsg"]
                    .as_str()
                    .unwrap_or("no errcode in the answer")
                    .chars()
                    .take(200)
                    .collect();
                return Err(Undeliverable::Now(format!("WeCom errcode {code}: {msg}")));
            }
        }
        Ok(())
    }

    async fn send_mail(&self, n: &Pending) -> Result<(), Undeliverable> {
        let (Some(cfg), Some(mailer)) = (&self.settings.smtp, &self.mailer) else {
            return Err(Undeliverable::Ever("SMTP is no longer configured".into()));
        };
        let mailer = mailer.as_ref().map_err(|e| Undeliverable::Now(e.clone()))?;
        let email: Email = serde_json::from_str(&n.payload)
            .map_err(|e| Undeliverable::Ever(format!("the queued e-mail is corrupt: {e}")))?;
        let message = build_mail(cfg, email).map_err(Undeliverable::Ever)?;
        match tokio::time::timeout(self.settings.timeout, mailer.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() => Err(Undeliverable::Now(format!(
                "the SMTP server refused: {}",
                chain(&e)
            ))),
            Ok(Err(e)) => Err(Undeliverable::Now(chain(&e))),
            Err(_) => Err(Undeliverable::Now(format!(
                "no answer within {:?}",
                self.settings.timeout
            ))),
        }
    }

    /// Writes the outcomes in one transaction.
    async fn record(&self, results: Vec<(Pending, Outcome)>) -> Result<(), StoreError> {
        let retry = self.settings.retry;
        let mut sent = 0u64;
        let mut failed = 0u64;
        for (n, outcome) in &results {
            match outcome {
                Outcome::Sent => sent += 1,
                Outcome::Failed(e) | Outcome::Refused(e) => {
                    failed += 1;
                    tracing::warn!(id = n.id, channel = %n.channel, event = %n.event, attempt = n.attempts + 1, error = %e, "notification not delivered");
                }
            }
        }
        // One draw per row for the retry's jitter, made here so the write job only writes. Were
        // the OS's randomness to fail, the middle of the range still retries.
        let draws: Vec<u64> = results
            .iter()
            .map(|_| getrandom::u64().unwrap_or(1 << 63))
            .collect();
        let given_up = self
            .store
            .write(move |ctx| {
                let mut given_up = 0u64;
                for ((n, outcome), &random) in results.iter().zip(&draws) {
                    match outcome {
                        Outcome::Sent => notifications::mark_sent(ctx.conn, n.id, ctx.now)?,
                        Outcome::Failed(e) => {
                            let next =
                                retry.next_attempt(n.attempts + 1, n.created_at, ctx.now, random);
                            given_up += u64::from(next.is_none());
                            notifications::mark_failed(ctx.conn, n.id, e, next)?;
                        }
                        Outcome::Refused(e) => {
                            given_up += 1;
                            notifications::mark_failed(ctx.conn, n.id, e, None)?;
                        }
                    }
                }
                Ok::<_, StoreError>(given_up)
            })
            .await?;
        if given_up > 0 {
            tracing::error!(
                count = given_up,
                "notifications given up; they stay in the queue with their last error"
            );
        }
        self.metrics.notify_sent.fetch_add(sent, Ordering::Relaxed);
        self.metrics
            .notify_failures
            .fetch_add(failed, Ordering::Relaxed);
        Ok(())
    }

    async fn prune(&self) {
        let before = Utc::now() - KEEP_SENT;
        let pruned = self
            .store
            .write(move |ctx| notifications::prune_sent(ctx.conn, before))
            .await;
        match pruned {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "pruned delivered notifications"),
            Err(e) => tracing::warn!(error = %e, "cannot prune delivered notifications"),
        }
    }
}

/// Why a delivery did not happen.
enum Undeliverable {
    /// Try again later.
    Now(String),
    /// Never going to work as it stands.
    Ever(String),
}

/// Resolves on the next local commit (a burst of them counts once).
async fn wait_commit(commits: &mut Option<broadcast::Receiver<Arc<crate::store::Change>>>) {
    let Some(rx) = commits else {
        return std::future::pending().await;
    };
    match rx.recv().await {
        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => while rx.try_recv().is_ok() {},
        Err(broadcast::error::RecvError::Closed) => *commits = None,
    }
}

/// An error with its causes, without the URL (a WeCom URL carries its key).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Plain HTTP for loopback and internal receivers, HTTPS (rustls with ring, the platform's
/// trusted roots) for everything else. Redirects are not followed: the configured URL is the
/// only place a notification goes.
fn http_client(timeout: Duration) -> std::io::Result<HttpClient> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_platform_verifier(rustls::crypto::ring::default_provider())?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(https))
}

fn mailer(cfg: &SmtpConfig, timeout: Duration) -> Result<Mailer, lettre::transport::smtp::Error> {
    let builder = match cfg.tls {
        SmtpTls::None => Mailer::builder_dangerous(&cfg.host),
        SmtpTls::Starttls => Mailer::starttls_relay(&cfg.host)?,
        SmtpTls::Tls => Mailer::relay(&cfg.host)?,
    };
    let builder = builder.port(cfg.port()).timeout(Some(timeout));
    let builder = match (&cfg.username, &cfg.password) {
        (Some(user), Some(password)) => {
            builder.credentials(Credentials::new(user.clone(), password.clone()))
        }
        _ => builder,
    };
    Ok(builder.build())
}

/// The mail to its own recipients, or the configured ones. Base64 keeps the Chinese text intact through any
/// relay, 8-bit clean or not.
fn build_mail(cfg: &SmtpConfig, email: Email) -> Result<lettre::Message, String> {
    let mailbox = |v: &str| {
        v.parse::<Mailbox>()
            .map_err(|e| format!("'{v}' is not an e-mail address: {e}"))
    };
    let mut builder = lettre::Message::builder()
        .from(mailbox(&cfg.from)?)
        .subject(email.subject);
    let recipients = if email.to.is_empty() {
        &cfg.to
    } else {
        &email.to
    };
    for to in recipients {
        builder = builder.to(mailbox(to)?);
    }
    builder
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .header(ContentTransferEncoding::Base64)
                .body(email.body),
        )
        .map_err(|e| format!("cannot build the e-mail: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(tls: SmtpTls) -> SmtpConfig {
        SmtpConfig {
            host: "smtp.example.com".into(),
            port: None,
            tls,
            from: "opsdesk@example.com".into(),
            to: vec![
                "oncall@example.com".into(),
                "值班 <duty@example.com>".into(),
            ],
            username: Some("opsdesk".into()),
            password: Some("secret".into()),
        }
    }

    #[test]
    fn tls_clients_build_with_ring_and_the_platform_roots() {
        let timeout = Duration::from_secs(5);
        for tls in [SmtpTls::None, SmtpTls::Starttls, SmtpTls::Tls] {
            assert!(mailer(&smtp(tls), timeout).is_ok(), "{tls:?}");
        }
        assert!(http_client(timeout).is_ok());
    }

    #[test]
    fn mail_goes_to_every_configured_recipient_in_base64() {
        let email = Email {
            to: Vec::new(),
            subject: "[opsdesk] 新工单 #1".into(),
            body: "客户：张* 138****1234\n".into(),
        };
        let raw = build_mail(&smtp(SmtpTls::Starttls), email)
            .unwrap()
            .formatted();
        let raw = String::from_utf8(raw).unwrap();
        assert!(raw.contains("Content-Transfer-Encoding: base64"), "{raw}");
        assert!(raw.contains("oncall@example.com") && raw.contains("duty@example.com"));
        let mut bad = smtp(SmtpTls::None);
        bad.to.push("not an address".into());
        let email = Email {
            to: Vec::new(),
            subject: "s".into(),
            body: "b".into(),
        };
        assert!(build_mail(&bad, email).is_err());
        // A mail for one person goes to that person alone.
        let email = Email {
            to: vec!["cm_wang@example.com".into()],
            subject: "s".into(),
            body: "b".into(),
        };
        let raw = String::from_utf8(build_mail(&smtp(SmtpTls::None), email).unwrap().formatted())
            .unwrap();
        assert!(
            raw.contains("cm_wang@example.com") && !raw.contains("oncall@example.com"),
            "{raw}"
        );
    }
}
