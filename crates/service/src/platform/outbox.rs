//! The one way a platform write ends: its event is appended to the write's transaction, the
//! transaction commits, and only then is the event published on the in-process bus that the
//! gateway, notifications and webhooks subscribe to. Ephemeral signals (typing, presence) skip
//! the outbox and the transaction: they are published and forgotten.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use palaver_domain::platform::event::Event;
use palaver_store::platform::{EventRow, Events, NewEvent};
use palaver_store::Tx;
use tokio::sync::broadcast;

use super::{AppPrincipal, Platform};
use crate::error::Result;

/// Events a slow subscriber may fall behind by before it sees `Lagged` (and catches up from the
/// outbox with [`Platform::events_after`]).
pub const BUS_CAPACITY: usize = 1024;

/// What the bus carries: a committed event with its outbox number, or an ephemeral signal.
/// Serialised as it is for a broker between instances.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Published {
    pub application_id: i64,
    /// The event's number in its application's outbox; `None` for an ephemeral signal.
    pub seq: Option<i64>,
    pub created: i64,
    pub event: Event,
}

impl From<EventRow> for Published {
    fn from(r: EventRow) -> Self {
        Published {
            application_id: r.application_id,
            seq: Some(r.seq),
            created: r.created,
            event: r.event,
        }
    }
}

/// Shared, so that a fan-out to many subscribers copies a pointer, not the event.
pub type Bus = broadcast::Sender<Arc<Published>>;

pub(crate) fn bus() -> Bus {
    broadcast::channel(BUS_CAPACITY).0
}

/// Where this instance's events go when several instances share them through a broker: the
/// broker then brings every instance's events, this one's included, back through
/// [`Platform::receive`].
pub trait Outlet: Send + Sync + std::fmt::Debug {
    fn send(&self, e: Arc<Published>);
}

/// The broker side of the bus: the outlet once one is set, and the last event number seen of
/// each application, for telling duplicates and gaps.
#[derive(Debug, Default)]
pub(crate) struct Relay {
    outlet: OnceLock<Arc<dyn Outlet>>,
    seen: Mutex<HashMap<i64, i64>>,
}

/// Events of one application that one catch-up passes on at most; the next takes the rest.
const CATCH_UP_BATCH: u64 = 1_000;

impl Platform {
    /// Appends `event` to `tx`, commits, then publishes the committed event.
    pub(crate) async fn commit(&self, tx: Tx, p: &AppPrincipal, event: Event) -> Result<EventRow> {
        let event = NewEvent {
            application_id: p.application_id,
            event,
            created: self.now(),
        };
        self.commit_all(tx, vec![event])
            .await?
            .pop()
            .ok_or_else(|| crate::error::internal("a committed event was not given back").into())
    }

    /// Appends `events` to `tx`, in that order, commits, then publishes them.
    pub(crate) async fn commit_all(
        &self,
        mut tx: Tx,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventRow>> {
        let rows = Events::append_all(&mut tx, &events).await?;
        tx.commit().await?;
        for row in &rows {
            self.publish(Arc::new(Published::from(row.clone())));
        }
        Ok(rows)
    }

    /// Publishes an ephemeral signal of the caller's application: no row, no transaction.
    pub fn signal(&self, p: &AppPrincipal, event: Event) {
        debug_assert!(event.is_ephemeral(), "durable events go through commit");
        self.publish(Arc::new(Published {
            application_id: p.application_id,
            seq: None,
            created: self.now(),
            event,
        }));
    }

    fn publish(&self, e: Arc<Published>) {
        match self.relay.outlet.get() {
            Some(outlet) => outlet.send(e),
            // No subscribers is not an error: the outbox row is the record.
            None => {
                let _ = self.bus.send(e);
            }
        }
    }

    /// Sends this instance's events through `outlet` (a broker) from now on, instead of
    /// straight to the local bus. Set once; later calls change nothing.
    pub fn set_outlet(&self, outlet: Arc<dyn Outlet>) {
        let _ = self.relay.outlet.set(outlet);
    }

    /// An event from the broker. Committed events are passed on in their application's order:
    /// one seen already is dropped, and when numbers were skipped (the broker lost some, or
    /// they come from another instance out of order) the missing ones are read from the
    /// outbox and passed on first.
    pub async fn receive(&self, e: Published) -> Result<()> {
        let Some(seq) = e.seq else {
            let _ = self.bus.send(Arc::new(e));
            return Ok(());
        };
        let app = e.application_id;
        let last = self.seen(app);
        if last.is_some_and(|l| seq <= l) {
            return Ok(());
        }
        if let Some(last) = last.filter(|l| seq > l + 1) {
            let p = AppPrincipal {
                application_id: app,
                organisation_id: String::new(),
            };
            let missing = (seq - last - 1).unsigned_abs();
            for row in self.events_after(&p, last, missing).await? {
                if row.seq < seq && self.advance(app, row.seq) {
                    let _ = self.bus.send(Arc::new(Published::from(row)));
                }
            }
        }
        if self.advance(app, seq) {
            let _ = self.bus.send(Arc::new(e));
        }
        Ok(())
    }

    /// Passes on, in order, the committed events the broker has not delivered: of every
    /// application this instance has heard from, those after the last it passed on. A gap shows
    /// only when a later event arrives, so without this the last events of a burst that the
    /// broker lost would wait for the application's next event. Call it from the task that
    /// calls [`Platform::receive`], so that the two never interleave their events.
    pub async fn catch_up(&self) -> Result<usize> {
        let heard: Vec<(i64, i64)> = self
            .relay
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(app, last)| (*app, *last))
            .collect();
        let mut passed = 0;
        for (app, last) in heard {
            let p = AppPrincipal {
                application_id: app,
                organisation_id: String::new(),
            };
            for row in self.events_after(&p, last, CATCH_UP_BATCH).await? {
                if self.advance(app, row.seq) {
                    passed += 1;
                    let _ = self.bus.send(Arc::new(Published::from(row)));
                }
            }
        }
        Ok(passed)
    }

    fn seen(&self, app: i64) -> Option<i64> {
        let seen = self
            .relay
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        seen.get(&app).copied()
    }

    /// Records `seq` as passed on; false when it (or a later one) already was.
    fn advance(&self, app: i64, seq: i64) -> bool {
        let mut seen = self
            .relay
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let last = seen.entry(app).or_insert(0);
        if seq <= *last {
            return false;
        }
        *last = seq;
        true
    }

    /// Committed events and signals from now on, of every application.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.bus.subscribe()
    }

    /// The number of the caller's newest committed event (0 before its first).
    pub async fn last_event_seq(&self, p: &AppPrincipal) -> Result<i64> {
        Ok(self.events.last_seq(p.application_id).await?)
    }

    /// Up to `limit` of the caller's events after `seq`, oldest first.
    pub async fn events_after(
        &self,
        p: &AppPrincipal,
        seq: i64,
        limit: u64,
    ) -> Result<Vec<EventRow>> {
        Ok(self.events.after(p.application_id, seq, limit).await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use palaver_store::{Db, Documents, Tokens};
    use serde_json::json;

    use super::*;
    use crate::platform::{NewUserInput, PlatformConfig};
    use crate::Operator;

    /// A broker that loses everything.
    #[derive(Debug)]
    struct Lossy;

    impl Outlet for Lossy {
        fn send(&self, _: Arc<Published>) {}
    }

    #[tokio::test]
    async fn events_the_broker_lost_are_caught_up_from_the_outbox_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url, 4).await.unwrap();
        db.migrate().await.unwrap();
        let org = Operator::new(Documents::new(db.clone()), Tokens::new(db.clone()), 4)
            .create_org("org")
            .await
            .unwrap();
        let org = org["id"].as_str().unwrap().to_string();
        let files = palaver_files::FileStore::local(&dir.path().join("files")).unwrap();
        let platform = Platform::new(
            db,
            PlatformConfig::default(),
            files,
            crate::secrets::Sealer::random(),
        );
        let app = platform
            .create_application(&org, "app", None)
            .await
            .unwrap();
        let p = AppPrincipal {
            application_id: app.app.id,
            organisation_id: org,
        };
        platform.set_outlet(Arc::new(Lossy));
        let mut bus = platform.subscribe();
        let user = |name: &str| NewUserInput::from_body(&json!({"name": name})).unwrap();

        // The first event arrives through the broker; the next two are lost on the way.
        platform.create_user(&p, user("ann")).await.unwrap();
        let first = platform
            .events_after(&p, 0, 10)
            .await
            .unwrap()
            .pop()
            .unwrap();
        platform
            .receive(Published::from(first.clone()))
            .await
            .unwrap();
        assert_eq!(bus.try_recv().unwrap().seq, Some(first.seq));
        platform.create_user(&p, user("bob")).await.unwrap();
        platform.create_user(&p, user("cid")).await.unwrap();
        assert!(bus.try_recv().is_err(), "the broker delivered nothing");

        assert_eq!(platform.catch_up().await.unwrap(), 2);
        let caught: Vec<Option<i64>> = (0..2).map(|_| bus.try_recv().unwrap().seq).collect();
        assert_eq!(caught, [Some(first.seq + 1), Some(first.seq + 2)]);
        // Nothing twice: neither a second catch-up nor the late broker copy passes them again.
        assert_eq!(platform.catch_up().await.unwrap(), 0);
        let late = platform
            .events_after(&p, first.seq, 1)
            .await
            .unwrap()
            .pop()
            .unwrap();
        platform.receive(Published::from(late)).await.unwrap();
        assert!(bus.try_recv().is_err());
    }
}
