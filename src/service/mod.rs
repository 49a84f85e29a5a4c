//! Use cases: each composes the pure domain rules and the store in one write transaction.
//!
//! The HTTP API, the CLI (import, admin) and the demo loader all go through here, so a ticket
//! created by any of them is validated, audited and published on the change stream the same
//! way. Access rules (a submitter sees only their own tickets) live here too, not in handlers.

pub mod construct;
pub mod demo;
mod demo_history;
pub mod demo_logs;
pub mod help;
pub mod import;
pub mod kb;
pub mod kb_images;
pub mod lookups;
pub mod messages;
pub mod monitors;
pub mod notify;
pub mod reports;
pub mod sessions;
pub mod submissions;
pub mod tickets;

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::domain::lifecycle::TransitionError;
use crate::domain::validate::ValidationErrors;
use crate::domain::view::{SlaContext, TicketView};
use crate::store::users::User;
use crate::store::{Rejected, Store, StoreError, WriteCtx, idempotency};

/// The shared handle of the running desk: the store and the settings it works with.
#[derive(Clone)]
pub struct Desk {
    pub store: Store,
    pub settings: Arc<Settings>,
    /// Decoded picture memory, in KiB, shared by every upload of the process: decoding waits
    /// for its share, so a dozen big pictures at once cannot run the server out of memory.
    pub(crate) decode_memory: Arc<tokio::sync::Semaphore>,
    /// Construction runs in flight: their slots, cancel switches and progress events.
    pub constructions: Arc<construct::Constructions>,
    /// The monitors being evaluated now.
    pub monitors: Arc<monitors::Monitors>,
}

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Validation(#[from] ValidationErrors),
    #[error("{0}")]
    Transition(#[from] TransitionError),
    #[error("{0}")]
    Approval(#[from] crate::domain::lifecycle::ApprovalError),
    #[error("the ticket was changed by someone else (now version {})", .current.version)]
    StaleVersion { current: Box<TicketView> },
    #[error("article {id} was changed by someone else (now version {current})")]
    StaleArticle { id: i64, current: i64 },
    #[error("{0}")]
    Conflict(String),
    /// A well-formed request the present state refuses, field by field: an assignee who is not
    /// a handler, a link to a ticket that does not exist or that would form a cycle. Unlike
    /// [`DeskError::Validation`], the same request may succeed once the state changes.
    #[error("{0}")]
    Conflicting(ValidationErrors),
    /// A closed ticket takes no more messages from its submitter: a problem that came back is
    /// a new ticket, which may name this one.
    #[error(
        "ticket {0} is closed and takes no more messages from its submitter; open a new ticket and mention #{0}"
    )]
    TicketClosed(crate::domain::ticket::TicketId),
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyMismatch,
    /// A shared resource (decode memory) is in use to its limit: try again in `retry_after`
    /// seconds. Nothing was written.
    #[error("{message}")]
    Busy { message: String, retry_after: u64 },
    /// A system the desk asks on the caller's behalf (a lookup's database) could not answer;
    /// the message names it and says why, never with its credentials.
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for DeskError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rejected(Rejected::NotFound(what)) => DeskError::NotFound(what),
            StoreError::Rejected(Rejected::Conflict(why)) => DeskError::Conflict(why),
            StoreError::Rejected(Rejected::Invalid(why)) => {
                DeskError::Validation(ValidationErrors::one("request", why.clone(), why))
            }
            other => DeskError::Store(other),
        }
    }
}

impl From<Rejected> for DeskError {
    fn from(e: Rejected) -> Self {
        StoreError::Rejected(e).into()
    }
}

impl From<rusqlite::Error> for DeskError {
    fn from(e: rusqlite::Error) -> Self {
        DeskError::Store(e.into())
    }
}

/// A created thing, and whether it is the remembered answer to an earlier identical request.
#[derive(Debug, Clone)]
pub struct Created<T> {
    pub value: T,
    pub replayed: bool,
}

/// The client's `Idempotency-Key` with what identifies its request.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub route: String,
    pub request_hash: String,
}

impl Idempotency {
    /// Keys are 1–128 visible ASCII characters; the hash covers the request body.
    pub fn new(key: &str, route: &str, body: &[u8]) -> Result<Self, DeskError> {
        let ok = (1..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(DeskError::Validation(ValidationErrors::one(
                "Idempotency-Key",
                "Idempotency-Key 应为 1–128 个可见 ASCII 字符",
                "Idempotency-Key must be 1 to 128 visible ASCII characters",
            )));
        }
        Ok(Self {
            key: key.into(),
            route: route.into(),
            request_hash: hex::encode(Sha256::digest(body)),
        })
    }
}

impl Desk {
    pub fn new(store: Store, settings: Arc<Settings>) -> Self {
        let kib = settings.server.image_decode_memory_mib.saturating_mul(1024);
        let permits = usize::try_from(kib)
            .unwrap_or(usize::MAX)
            .min(tokio::sync::Semaphore::MAX_PERMITS);
        Self {
            store,
            settings,
            decode_memory: Arc::new(tokio::sync::Semaphore::new(permits)),
            constructions: Arc::default(),
            monitors: Arc::default(),
        }
    }

    pub fn sla(&self) -> SlaContext<'_> {
        SlaContext {
            policy: &self.settings.sla,
            calendar: &self.settings.calendar,
        }
    }

    /// Runs a write job; a `DeskError` from it rolls its savepoint back and reaches the caller.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, DeskError>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T, DeskError> + Send + 'static,
    {
        self.store.write(f).await
    }

    /// Like [`Desk::write`], remembering the answer under an idempotency key: a retry of the
    /// same request gets the first answer and changes nothing.
    pub(crate) async fn write_once<T, F>(
        &self,
        user: &User,
        idem: Option<Idempotency>,
        f: F,
    ) -> Result<Created<T>, DeskError>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T, DeskError> + Send + 'static,
    {
        let user_id = user.id;
        self.write(move |ctx| {
            let Some(idem) = idem else {
                return Ok(Created {
                    value: f(ctx)?,
                    replayed: false,
                });
            };
            if let Some(first) = idempotency::lookup(ctx.conn, user_id, &idem.key)? {
                if first.route != idem.route || first.request_hash != idem.request_hash {
                    return Err(DeskError::IdempotencyMismatch);
                }
                let value = serde_json::from_str(&first.body)
                    .map_err(|e| StoreError::Corrupt(format!("remembered answer: {e}")))?;
                return Ok(Created {
                    value,
                    replayed: true,
                });
            }
            let value = f(ctx)?;
            let body =
                serde_json::to_string(&value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let answer = idempotency::Remembered {
                route: idem.route,
                request_hash: idem.request_hash,
                status: 201,
                body,
            };
            idempotency::record(ctx.conn, user_id, &idem.key, &answer, ctx.now)?;
            Ok(Created {
                value,
                replayed: false,
            })
        })
        .await
    }
}
