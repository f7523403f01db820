//! Outbox retention: events past their age are deleted, now and then, once every consumer of
//! their application has handled them, so the outbox does not grow without end.

use std::time::Duration;

use super::Platform;
use crate::error::Result;

/// The longest wait between two prunes of the outbox.
const MAX_PRUNE_INTERVAL: Duration = Duration::from_secs(3600);
/// The shortest: a tiny retention must not turn the pruner into a busy loop.
const MIN_PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// How often an outbox kept for `retention` is pruned: hourly, or 24 times per retention when
/// that is shorter, so that no event outlives it by much more than a twenty-fourth; never more
/// often than once a minute.
pub fn prune_interval(retention: Duration) -> Duration {
    (retention / 24).clamp(MIN_PRUNE_INTERVAL, MAX_PRUNE_INTERVAL)
}

impl Platform {
    /// Deletes the events of every application at least `max_age` old that every consumer of
    /// their application has handled; answers how many went. Event numbers keep growing after.
    pub async fn prune_outbox(&self, max_age: Duration) -> Result<u64> {
        let age = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
        // At least `max_age` old is created <= now - age: with no age, everything up to now.
        let created_before = self.now().saturating_sub(age).saturating_add(1);
        Ok(self.events.prune_before(created_before).await?)
    }

    /// Prunes the outbox of events older than `retention` now, then every [`prune_interval`],
    /// until the task is aborted. A failed prune is logged and tried again at the next tick.
    pub async fn run_outbox_pruner(&self, retention: Duration) {
        let mut ticks = tokio::time::interval(prune_interval(retention));
        // After a long prune or a suspended host, wait a whole interval rather than catch up.
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // The first tick is immediate: the outbox is pruned at start.
            ticks.tick().await;
            match self.prune_outbox(retention).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(pruned = n, "outbox events past retention deleted"),
                // The cause itself, at warn: the next tick tries again, so this is no outage.
                Err(e) => tracing::warn!(error = %e, "outbox not pruned"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prunes_hourly_or_more_often_for_short_retentions_but_at_most_each_minute() {
        let hours = |h: u64| Duration::from_secs(h * 3600);
        assert_eq!(prune_interval(hours(168)), hours(1));
        assert_eq!(prune_interval(hours(24)), hours(1));
        assert_eq!(prune_interval(hours(12)), Duration::from_secs(1800));
        assert_eq!(prune_interval(hours(1)), Duration::from_secs(150));
        assert_eq!(prune_interval(Duration::from_secs(60)), MIN_PRUNE_INTERVAL);
        assert_eq!(prune_interval(Duration::ZERO), MIN_PRUNE_INTERVAL);
    }
}
