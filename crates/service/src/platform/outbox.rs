//! The one way a platform write ends: its event is appended to the write's transaction, the
//! transaction commits, and only then is the event published on the in-process bus that the
//! gateway, notifications and webhooks subscribe to. Ephemeral signals (typing, presence) skip
//! the outbox and the transaction: they are published and forgotten.

use std::sync::Arc;

use palaver_domain::platform::event::Event;
use palaver_domain::time::now_millis;
use palaver_domain::DomainError;
use palaver_store::platform::{EventRow, Events, NewEvent};
use palaver_store::Tx;
use tokio::sync::broadcast;

use super::{AppPrincipal, Platform};
use crate::error::Result;

/// Events a slow subscriber may fall behind by before it sees `Lagged` (and catches up from the
/// outbox with [`Platform::events_after`]).
pub(crate) const BUS_CAPACITY: usize = 1024;

/// What the bus carries: a committed event with its outbox number, or an ephemeral signal.
#[derive(Debug, Clone, PartialEq)]
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

impl Platform {
    /// Appends `event` to `tx`, commits, then publishes the committed event.
    pub(crate) async fn commit(&self, tx: Tx, p: &AppPrincipal, event: Event) -> Result<EventRow> {
        let event = NewEvent {
            application_id: p.application_id,
            event,
            created: now_millis(),
        };
        self.commit_all(tx, vec![event])
            .await?
            .pop()
            .ok_or_else(|| DomainError::internal().into())
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
            // No subscribers is not an error: the outbox row is the record.
            let _ = self.bus.send(Arc::new(Published::from(row.clone())));
        }
        Ok(rows)
    }

    /// Publishes an ephemeral signal of the caller's application: no row, no transaction.
    pub fn signal(&self, p: &AppPrincipal, event: Event) {
        debug_assert!(event.is_ephemeral(), "durable events go through commit");
        let _ = self.bus.send(Arc::new(Published {
            application_id: p.application_id,
            seq: None,
            created: now_millis(),
            event,
        }));
    }

    /// Committed events and signals from now on, of every application.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.bus.subscribe()
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
