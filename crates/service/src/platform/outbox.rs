//! The one way a platform write ends: its event is appended to the write's transaction, the
//! transaction commits, and only then is the event published on the in-process bus that the
//! gateway, notifications and webhooks subscribe to.

use palaver_domain::time::now_millis;
use palaver_domain::DomainError;
use palaver_store::platform::{EventRow, Events, NewEvent};
use palaver_store::Tx;
use serde_json::Value;
use tokio::sync::broadcast;

use super::{AppPrincipal, Platform};
use crate::error::Result;

/// Events a slow subscriber may fall behind by before it sees `Lagged` (and catches up from the
/// outbox with [`Platform::events_after`]).
pub(crate) const BUS_CAPACITY: usize = 1024;

pub(crate) fn bus() -> broadcast::Sender<EventRow> {
    broadcast::channel(BUS_CAPACITY).0
}

impl Platform {
    /// Appends `kind` for `channel` to `tx`, commits, then publishes the committed event.
    pub(crate) async fn commit(
        &self,
        tx: Tx,
        p: &AppPrincipal,
        kind: &str,
        channel: Option<i64>,
        payload: Value,
    ) -> Result<EventRow> {
        let event = NewEvent {
            application_id: p.application_id,
            r#type: kind.to_string(),
            channel_id: channel,
            payload,
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
            let _ = self.bus.send(row.clone());
        }
        Ok(rows)
    }

    /// Committed events from now on, of every application.
    pub fn subscribe(&self) -> broadcast::Receiver<EventRow> {
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
