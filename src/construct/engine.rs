//! Runs a recipe against an environment: each step's calls in order, retried when the
//! system is away (a deployment), judged by the step's checks, recorded through a
//! [`Journal`]. The server's jobs and `opsdesk construct run --local` share it; they differ in
//! where the journal writes (SQLite and the event stream, or the terminal).
//!
//! A step that is not idempotent is called again only when the call surely did not reach the
//! system: the connection was refused, or the system answered 503 (it says it did nothing).
//! A timeout or a 502/504 leaves its outcome unknown, and the run stops there.

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::Request;
use hyper::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::config::Environment;
use crate::domain::backoff::Backoff;
use crate::domain::construct::recipe::{Instance, Masker, PreparedRequest, Recipe, Step, Vars};
use crate::domain::construct::run::{FailureKind, StepRecord, StepStatus};
use crate::lookups::elasticsearch::{
    SharedHttpClient, innermost, shared_http_client, shared_tls_config,
};

/// An answer is read up to this; a larger one fails the step (no UAT interface answers so).
const MAX_ANSWER_BYTES: usize = 4 << 20;
/// What a step's record keeps of a body that is not JSON.
const SHOWN_BODY_CHARS: usize = 2_000;

/// Makes the HTTP calls; one per server (its connections are pooled).
#[derive(Clone)]
pub struct Caller {
    client: SharedHttpClient,
}

impl Caller {
    pub fn new() -> Result<Caller, String> {
        // Some UAT systems are https with the firm's own CA in the system store.
        let tls = shared_tls_config(&["https://".to_string()], None, false)?;
        Ok(Caller {
            client: shared_http_client(tls, Duration::from_secs(10)),
        })
    }

    /// One step's call, retried as its recipe says, until it is answered, fails for good or
    /// `cancel` fires.
    pub async fn call(
        &self,
        env: &Environment,
        step: &Step,
        request: &PreparedRequest,
        cancel: &CancellationToken,
    ) -> Called {
        let started = Instant::now();
        let Some(endpoint) = env.systems.get(&step.system) else {
            return Called::stopped(
                FailureKind::Environment,
                format!("environment {} has no system {}", env.name, step.system),
                0,
                started,
            );
        };
        let auth = match endpoint.auth.as_ref().map(|a| a.header_value()).transpose() {
            Ok(a) => a,
            Err(why) => {
                let message = format!("{} of environment {}: {why}", step.system, env.name);
                return Called::stopped(FailureKind::Environment, message, 0, started);
            }
        };
        let url = format!("{}{}", endpoint.base, request.path_and_query);
        let backoff = Backoff::new(
            step.retry.backoff,
            step.retry.max_backoff.max(step.retry.backoff),
        );
        let attempts = step.retry.attempts.max(1);
        let mut made = 0;
        // The last answer a transient failure came with, kept for the step's record.
        let mut last: Option<(u16, Vec<u8>)> = None;
        loop {
            made += 1;
            let outcome = tokio::select! {
                o = self.once(&url, request, auth.as_ref(), step.timeout) => o,
                () = cancel.cancelled() => {
                    return Called::stopped(FailureKind::Cancelled, "cancelled".into(), made, started);
                }
            };
            let why = match outcome {
                Once::Answered(503, body) => {
                    let why = format!("{} answered 503{}", step.system, said(&body));
                    last = Some((503, body));
                    Transient::NotReached(why)
                }
                Once::Answered(status, body) if status == 502 || status == 504 => {
                    let why = format!("{} answered {status}{}", step.system, said(&body));
                    last = Some((status, body));
                    Transient::Unknown(why)
                }
                Once::Answered(status, body) => {
                    return Called {
                        end: CallEnd::Answered { status, body },
                        attempts: made,
                        elapsed: started.elapsed(),
                    };
                }
                Once::Unreached(why) => Transient::NotReached(why),
                Once::Lost(why) => Transient::Unknown(why),
                Once::Refused(why) => {
                    return Called::stopped(FailureKind::Recipe, why, made, started);
                }
            };
            let (kind, message) = match why {
                Transient::NotReached(m) => (FailureKind::Unavailable, m),
                Transient::Unknown(m) if step.idempotent => (FailureKind::Unavailable, m),
                Transient::Unknown(m) => {
                    let message = format!(
                        "{m}; this step is not idempotent, so it was not called again: check {} before resuming with retry-unknown",
                        step.system
                    );
                    return Called::stopped(FailureKind::UnknownOutcome, message, made, started)
                        .answered(last);
                }
            };
            if made >= attempts {
                let message = format!("{message} (after {made} calls)");
                return Called::stopped(kind, message, made, started).answered(last);
            }
            let pause = backoff.delay(made, getrandom::u64().unwrap_or(1 << 63));
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = cancel.cancelled() => {
                    return Called::stopped(FailureKind::Cancelled, "cancelled".into(), made, started);
                }
            }
        }
    }

    async fn once(
        &self,
        url: &str,
        request: &PreparedRequest,
        auth: Option<&(String, String)>,
        timeout: Duration,
    ) -> Once {
        let mut builder = Request::builder()
            .method(request.method.as_str())
            .uri(url)
            .header(hyper::header::ACCEPT, "application/json")
            .header(
                hyper::header::USER_AGENT,
                concat!("opsdesk-construct/", env!("CARGO_PKG_VERSION")),
            );
        for (name, value) in &request.headers {
            match (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                (Ok(n), Ok(v)) => builder = builder.header(n, v),
                _ => return Once::Refused(format!("header {name} is not a valid HTTP header")),
            }
        }
        if let Some((name, value)) = auth {
            match (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                (Ok(n), Ok(mut v)) => {
                    v.set_sensitive(true);
                    builder = builder.header(n, v);
                }
                _ => return Once::Refused(format!("the token's header {name} is not valid")),
            }
        }
        let body = match &request.body {
            Some(b) => {
                builder = builder.header(hyper::header::CONTENT_TYPE, b.content_type);
                Bytes::from(b.bytes.clone())
            }
            None => Bytes::new(),
        };
        let request = match builder.body(Full::new(body)) {
            Ok(r) => r,
            Err(e) => return Once::Refused(format!("cannot make the request for {url}: {e}")),
        };
        let exchange = async {
            let response = match self.client.request(request).await {
                Ok(r) => r,
                Err(e) if e.is_connect() => return Once::Unreached(innermost(&e)),
                Err(e) => return Once::Lost(innermost(&e)),
            };
            let status = response.status().as_u16();
            match Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
            {
                Ok(body) => Once::Answered(status, body.to_bytes().to_vec()),
                Err(e) if e.is::<LengthLimitError>() => Once::Refused(format!(
                    "the answer is larger than {} MiB",
                    MAX_ANSWER_BYTES >> 20
                )),
                Err(e) => Once::Lost(format!("the answer broke off: {}", innermost(e.as_ref()))),
            }
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(o) => o,
            Err(_) => Once::Lost(format!("no answer within {} ms", timeout.as_millis())),
        }
    }
}

/// `: <what the body says>` for a failure message, shortened.
fn said(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(v) => v
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_default(),
        Err(_) => String::from_utf8_lossy(body).chars().take(120).collect(),
    };
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

enum Once {
    Answered(u16, Vec<u8>),
    /// The connection was never made: nothing reached the system.
    Unreached(String),
    /// Sent, and the answer was lost (timeout, reset): the system may have acted.
    Lost(String),
    /// The request cannot be made at all.
    Refused(String),
}

enum Transient {
    NotReached(String),
    Unknown(String),
}

/// How a step's call ended.
pub struct Called {
    pub end: CallEnd,
    pub attempts: u32,
    pub elapsed: Duration,
}

impl Called {
    /// The same stop, with the system's last answer kept.
    fn answered(mut self, last: Option<(u16, Vec<u8>)>) -> Called {
        if let CallEnd::Stopped { answer, .. } = &mut self.end {
            *answer = last;
        }
        self
    }

    fn stopped(kind: FailureKind, message: String, attempts: u32, started: Instant) -> Called {
        Called {
            end: CallEnd::Stopped {
                kind,
                message,
                answer: None,
            },
            attempts,
            elapsed: started.elapsed(),
        }
    }
}

pub enum CallEnd {
    Answered {
        status: u16,
        body: Vec<u8>,
    },
    Stopped {
        kind: FailureKind,
        message: String,
        /// The system's last answer, when it gave one (a 503 while it is deployed).
        answer: Option<(u16, Vec<u8>)>,
    },
}

/// Where a run's progress goes.
pub trait Journal: Send {
    /// Before the call of a step that is not idempotent: a record that it is in flight, so a
    /// restart knows its outcome is unknown.
    fn calling(&mut self, record: &StepRecord) -> impl Future<Output = Result<(), String>> + Send;
    /// A step finished (or failed); `extracted` are the values it found, when it succeeded.
    fn finished(
        &mut self,
        record: &StepRecord,
        extracted: Option<&Vars>,
        calls: u32,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

/// Where a run stands: its variables (inputs, constants, values extracted so far) and the
/// step calls that are done.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub vars: Vars,
    pub done: HashSet<String>,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Succeeded {
        result: Vars,
    },
    Stopped {
        kind: FailureKind,
        step: Option<String>,
        message: String,
    },
}

/// Runs `recipe`'s steps that are not done yet, in order.
pub async fn drive<J: Journal>(
    recipe: &Recipe,
    env: &Environment,
    caller: &Caller,
    mut progress: Progress,
    journal: &mut J,
    cancel: &CancellationToken,
) -> Outcome {
    let masker = recipe.masker(&progress.vars);
    for step in recipe.steps() {
        let instances = match step.instances(&progress.vars) {
            Ok(i) => i,
            Err(why) => return recipe_failure(step, None, why),
        };
        for instance in instances {
            if progress.done.contains(&instance.key) {
                continue;
            }
            if cancel.is_cancelled() {
                return Outcome::Stopped {
                    kind: FailureKind::Cancelled,
                    step: Some(instance.key),
                    message: "cancelled".into(),
                };
            }
            let request = match step.request(&progress.vars, &instance) {
                Ok(r) => r,
                Err(why) => return recipe_failure(step, Some(&instance), why),
            };
            let mut record = StepRecord {
                key: instance.key.clone(),
                stage: step.stage.clone(),
                step: step.name.clone(),
                status: StepStatus::Running,
                attempts: 0,
                started_at: Utc::now(),
                duration_ms: 0,
                request: Some(shown_request(&masker, &request)),
                response: None,
                message: None,
            };
            if !step.idempotent
                && let Err(why) = journal.calling(&record).await
            {
                return journal_failure(&instance, why);
            }
            let called = caller.call(env, step, &request, cancel).await;
            record.attempts = i64::from(called.attempts);
            record.duration_ms = called.elapsed.as_millis().min(i64::MAX as u128) as i64;
            let verdict = match called.end {
                CallEnd::Answered { status, body } => {
                    record.response = Some(shown_response(&masker, status, &body));
                    step.judge(&progress.vars, &instance, status, &body)
                        .map_err(|m| (FailureKind::Business, m))
                }
                CallEnd::Stopped {
                    kind,
                    message,
                    answer,
                } => {
                    if let Some((status, body)) = answer {
                        record.response = Some(shown_response(&masker, status, &body));
                    }
                    Err((kind, message))
                }
            };
            match verdict {
                Ok(extracted) => {
                    record.status = StepStatus::Succeeded;
                    if let Err(why) = journal
                        .finished(&record, Some(&extracted), called.attempts)
                        .await
                    {
                        return journal_failure(&instance, why);
                    }
                    progress.vars.extend(extracted);
                    progress.done.insert(instance.key);
                }
                Err((kind, message)) => {
                    record.status = if kind == FailureKind::UnknownOutcome {
                        StepStatus::Unknown
                    } else {
                        StepStatus::Failed
                    };
                    let message = masker.text(&message);
                    record.message = Some(message.clone());
                    if let Err(why) = journal.finished(&record, None, called.attempts).await {
                        return journal_failure(&instance, why);
                    }
                    return Outcome::Stopped {
                        kind,
                        step: Some(instance.key),
                        message: format!("{}: {message}", step.name),
                    };
                }
            }
        }
    }
    match recipe.result(&progress.vars) {
        Ok(result) => Outcome::Succeeded { result },
        Err(why) => Outcome::Stopped {
            kind: FailureKind::Recipe,
            step: None,
            message: format!("[result]: {why}"),
        },
    }
}

fn recipe_failure(step: &Step, instance: Option<&Instance>, why: String) -> Outcome {
    Outcome::Stopped {
        kind: FailureKind::Recipe,
        step: Some(instance.map_or_else(
            || format!("{}/{}", step.stage, step.name),
            |i| i.key.clone(),
        )),
        message: format!("{} ({}): {why}", step.name, step.at),
    }
}

fn journal_failure(instance: &Instance, why: String) -> Outcome {
    // The run's record could not be kept: stop rather than build what no one can see.
    Outcome::Stopped {
        kind: FailureKind::Environment,
        step: Some(instance.key.clone()),
        message: format!("the run's record could not be written: {why}"),
    }
}

/// A request as a step's record keeps it: method, path and body, customer data masked. The
/// headers are left out, so no credential can be kept.
fn shown_request(masker: &Masker, request: &PreparedRequest) -> Value {
    let body = request
        .body
        .as_ref()
        .map(|b| shown_body(masker, &b.bytes))
        .unwrap_or(Value::Null);
    json!({
        "method": request.method,
        "path": masker.text(&request.path_and_query),
        "body": body,
    })
}

fn shown_response(masker: &Masker, status: u16, body: &[u8]) -> Value {
    json!({ "status": status, "body": shown_body(masker, body) })
}

fn shown_body(masker: &Masker, body: &[u8]) -> Value {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => masker.json(&v),
        Err(_) => {
            let text: String = String::from_utf8_lossy(body)
                .chars()
                .take(SHOWN_BODY_CHARS)
                .collect();
            Value::String(masker.text(&text))
        }
    }
}
