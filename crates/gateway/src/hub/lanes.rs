//! The hub's lanes: where events are rendered, so that a render waiting on the store holds
//! back only what must wait for it.
//!
//! Every application has two lanes, each a task of its own fed by the bus reader:
//!
//! - its **ordered lane**: messages and every other event its clients see on its topics, in
//!   the order the bus reader passes them on (committed events in outbox order: `catch_up`
//!   relies on it). Renders run side by side, up to [`IN_FLIGHT`], but their topic messages
//!   are delivered in order (`FuturesOrdered`): a slow render delays the events after it in
//!   its application, never another application's, and one render's reads need not wait for
//!   another's to end.
//! - its **presence lane**: presence and participation signals (and user updates, which are
//!   told as presence). A session start signals one, and sessions start by the thousand; each
//!   render reads the user and its listened channels. On a lane of their own they never hold
//!   back a message. They may be told before or after messages sent meanwhile (nothing
//!   relates the two); among themselves they keep their order, so that the last word on a
//!   user is the newest (each render reads the user as it is then), and a user's change that
//!   comes while an earlier one still waits is merged into it (`backlog`). Whether anyone
//!   listens is asked before anything is read (`render::presence`).
//!
//! Why not one task per event: order. Why not a lane per channel: an event may concern many
//! channels (a user's presence, a channel list) and the outbox order is per application.
//!
//! The bus reader waits when an ordered lane's queue is full (the bus then drops events for it
//! and they are read back from the outbox, as when it falls behind); a full presence lane
//! drops the signal instead (signals are not kept anywhere, and the next one of the user says
//! as much).

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::stream::{FuturesOrdered, StreamExt};
use palaver_domain::platform::event::Event;
use palaver_service::platform::Published;
use palaver_service::Services;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use super::backlog::Backlog;
use super::render::Work;
use super::typing::Typist;
use super::Hub;

/// Renders of one lane running at once: enough for reads to overlap, few enough that the
/// lanes leave most of the store's connections (16 by default) to the requests.
const IN_FLIGHT: usize = 8;

/// Work sent to one lane and not yet taken in its backlog.
const QUEUE: usize = 1024;

/// Work waiting in one lane's backlog; past it (and `QUEUE`), the bus reader waits (ordered
/// lane) or drops the signal (presence lane).
const BACKLOG: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Lane {
    Ordered,
    Presence,
}

fn lane_of(e: &Event) -> Lane {
    match e {
        Event::PresenceChanged { .. }
        | Event::ParticipantChanged { .. }
        | Event::UserUpdated(_) => Lane::Presence,
        _ => Lane::Ordered,
    }
}

/// The lanes opened so far, by application.
pub(super) struct Lanes {
    hub: Arc<Hub>,
    services: Services,
    open: HashMap<(i64, Lane), mpsc::Sender<Work>>,
}

impl Lanes {
    pub(super) fn new(hub: Arc<Hub>, services: Services) -> Self {
        Lanes {
            hub,
            services,
            open: HashMap::new(),
        }
    }

    /// Passes `e` on to its application's lane.
    pub(super) async fn route(&mut self, e: Arc<Published>) {
        let lane = lane_of(&e.event);
        let app = e.application_id;
        self.put(app, lane, Work::Event(e)).await;
    }

    /// Passes a typing stop on to its application's ordered lane (where keystrokes go).
    pub(super) async fn typing_stopped(&mut self, who: Typist) {
        self.put(who.0, Lane::Ordered, Work::TypingStopped(who))
            .await;
    }

    async fn put(&mut self, app: i64, lane: Lane, work: Work) {
        let tx = self.open.entry((app, lane)).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(run(self.hub.clone(), self.services.clone(), rx));
            tx
        });
        match lane {
            Lane::Ordered => {
                // The lane ends only with the hub.
                let _ = tx.send(work).await;
            }
            Lane::Presence => {
                if let Err(TrySendError::Full(_)) = tx.try_send(work) {
                    tracing::warn!(
                        application = app,
                        "real-time hub dropped a presence signal: its lane is full"
                    );
                }
            }
        }
    }
}

/// One lane: takes in its work as it comes, renders it side by side, applies the renders'
/// outputs in order, until the hub stops feeding it.
async fn run(hub: Arc<Hub>, services: Services, mut rx: mpsc::Receiver<Work>) {
    let mut backlog = Backlog::default();
    let mut rendering = FuturesOrdered::new();
    let mut open = true;
    loop {
        while rendering.len() < IN_FLIGHT {
            let Some(work) = backlog.pop() else {
                break;
            };
            let admitted = hub.admit(&work);
            rendering.push_back(hub.render(&services, work, admitted));
        }
        if !open && rendering.is_empty() {
            return;
        }
        tokio::select! {
            // Finished renders first: their listeners are waiting.
            biased;
            Some(out) = rendering.next(), if !rendering.is_empty() => hub.apply(out),
            work = rx.recv(), if open && backlog.len() < BACKLOG => match work {
                Some(work) => backlog.push(work),
                None => open = false,
            },
        }
    }
}
