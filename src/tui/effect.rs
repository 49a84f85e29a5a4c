//! Work for the loop: what `App::update` and the panes ask for instead of doing IO.
//!
//! A pane's own work is a [`Job`]: a value of the pane's own type that knows how to run itself
//! with the loop's [`Io`]. The loop spawns it without knowing what it is, and everything it
//! yields is routed back to the pane that asked, so adding a pane adds no arm to any match here.

use std::any::Any;
use std::fmt;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::app::Event;
use super::overlay::Overlay;
use super::panes::PaneId;
use super::work::Call;
use crate::api::TicketView;
use crate::client::ApiClient;
use crate::client::cache::CacheThread;

/// What the loop does for the app.
#[derive(Debug)]
pub enum Effect {
    /// Change a ticket on the server; when the server cannot take it now, it waits in the
    /// outbox and is sent, in order, when the link is back.
    Call(Call),
    /// A job of a pane's (or of the app's own, `owner` None), run in the background.
    Run(Task),
    /// Restart the sync from the last known change.
    Resync,
    /// The link is down: try the server again now, not after the pause.
    Reconnect,
    Quit,
}

impl Effect {
    /// A job for the loop, answering to `owner`.
    pub fn run(owner: Option<PaneId>, job: impl Job) -> Effect {
        Effect::Run(Task {
            owner,
            job: Box::new(job),
        })
    }

    /// The job inside, as its own type (for tests: which work did a key ask for?).
    pub fn job<T: Job>(&self) -> Option<&T> {
        match self {
            Effect::Run(task) => (&*task.job as &dyn Any).downcast_ref(),
            _ => None,
        }
    }
}

/// Effects compare by value; jobs, whose types the app does not know, by their debug form
/// (every job is plain data with a derived `Debug`).
impl PartialEq for Effect {
    fn eq(&self, other: &Effect) -> bool {
        match (self, other) {
            (Effect::Call(a), Effect::Call(b)) => a == b,
            (Effect::Run(a), Effect::Run(b)) => {
                a.owner == b.owner && format!("{:?}", a.job) == format!("{:?}", b.job)
            }
            (Effect::Resync, Effect::Resync)
            | (Effect::Reconnect, Effect::Reconnect)
            | (Effect::Quit, Effect::Quit) => true,
            _ => false,
        }
    }
}

/// A job and the pane its results go back to.
#[derive(Debug)]
pub struct Task {
    pub owner: Option<PaneId>,
    pub job: Box<dyn Job>,
}

/// Background work of a pane: a plain value describing it, run by the loop.
pub trait Job: Any + Send + fmt::Debug {
    /// Does the work; results go back through `io`.
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()>;
}

/// What a job may use: the server, the local cache, and the way back into the app.
#[derive(Clone)]
pub struct Io {
    pub client: ApiClient,
    pub cache: Option<CacheThread>,
    owner: Option<PaneId>,
    back: mpsc::Sender<Event>,
}

impl Io {
    pub(super) fn new(
        client: ApiClient,
        cache: Option<CacheThread>,
        owner: Option<PaneId>,
        back: mpsc::Sender<Event>,
    ) -> Io {
        Io {
            client,
            cache,
            owner,
            back,
        }
    }

    /// Hands a result to the pane that asked (`Msg::Loaded`); dropped when the job is the
    /// app's own or the workstation is closing.
    pub async fn reply<T: Any + Send>(&self, loaded: T) {
        if let Some(pane) = self.owner {
            let _ = self
                .back
                .send(Event::Loaded {
                    pane,
                    loaded: Box::new(loaded),
                })
                .await;
        }
    }

    pub async fn toast(&self, text: impl Into<String>, error: bool) {
        let _ = self.back.send(Event::Toast(text.into(), error)).await;
    }

    pub async fn show(&self, overlay: Overlay) {
        let _ = self.back.send(Event::Overlay(Box::new(overlay))).await;
    }

    /// A ticket's full view, for the desk (whichever pane asked).
    pub async fn arrived(&self, t: TicketView) {
        let _ = self.back.send(Event::Tickets(vec![t])).await;
    }

    /// A call's outcome: what to say, and the ticket as the server now has it.
    pub async fn done(&self, what: String, result: Result<Option<Box<TicketView>>, String>) {
        let _ = self.back.send(Event::Done(what, result)).await;
    }
}
