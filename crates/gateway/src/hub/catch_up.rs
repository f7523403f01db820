//! What the hub has passed on of each application's committed events, so that when it falls
//! behind the bus (the bus drops the oldest events for a slow receiver) it reads the ones it
//! missed from the outbox, in order, instead of skipping them.

use std::collections::{BTreeSet, HashMap};

use palaver_service::platform::{Published, BUS_CAPACITY};
use palaver_service::{AppPrincipal, Services};

/// Events read from the outbox per statement while catching up.
const BATCH: u64 = 500;

/// How much earlier than the last event heard an unheard application's missed events may be
/// stamped: writers stamp events before they commit, so publication order and stamps differ a
/// little.
const STAMP_SLACK_MILLIS: i64 = 1_000;

/// The newest committed event passed on, per application.
#[derive(Debug, Default)]
pub(super) struct Seen {
    last: HashMap<i64, i64>,
    /// The stamp of the last committed event passed on, of any application.
    last_created: Option<i64>,
}

impl Seen {
    /// True when `e` is to be passed on: an ephemeral signal, or a committed event after the
    /// last one passed on for its application (an event read from the outbox while catching up
    /// arrives again from the bus, and is dropped then).
    pub(super) fn fresh(&mut self, e: &Published) -> bool {
        let Some(seq) = e.seq else {
            return true;
        };
        let last = self.last.entry(e.application_id).or_insert(0);
        if seq <= *last {
            return false;
        }
        *last = seq;
        self.last_created = Some(e.created);
        true
    }

    /// The committed events of `e`'s application between the last passed on and `e`, when
    /// some are missing: two writes of one application can publish in the other order than
    /// they were numbered, and the later number must not overtake the earlier one.
    pub(super) async fn before(&self, services: &Services, e: &Published) -> Vec<Published> {
        let (Some(seq), Some(&last)) = (e.seq, self.last.get(&e.application_id)) else {
            return Vec::new();
        };
        if seq <= last + 1 {
            return Vec::new();
        }
        let p = AppPrincipal {
            application_id: e.application_id,
            organisation_id: String::new(),
        };
        let count = u64::try_from(seq - last - 1).unwrap_or(0);
        match services.platform.events_after(&p, last, count).await {
            Ok(rows) => rows
                .into_iter()
                .filter(|r| r.seq < seq)
                .map(Published::from)
                .collect(),
            Err(err) => {
                tracing::warn!(application = e.application_id, error = %err.into_domain(), "real-time hub cannot read missing events");
                Vec::new()
            }
        }
    }

    /// The committed events missed while `missed` events went past: of each application heard
    /// from, every event after the last passed on; of `listened` applications never heard from,
    /// their newest events stamped around or after the last event heard. Oldest first per
    /// application.
    pub(super) async fn missed(
        &self,
        services: &Services,
        listened: BTreeSet<i64>,
        missed: u64,
    ) -> Vec<Published> {
        let mut apps: BTreeSet<i64> = self.last.keys().copied().collect();
        apps.extend(listened);
        let mut out = Vec::new();
        for app in apps {
            let p = AppPrincipal {
                application_id: app,
                organisation_id: String::new(),
            };
            let newest = match services.platform.last_event_seq(&p).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(application = app, error = %e.into_domain(), "real-time hub cannot catch up");
                    continue;
                }
            };
            let (mut from, since) = match self.last.get(&app) {
                Some(&last) => (last, None),
                // Never heard from: at most the events that went past, and the bus's worth
                // after them, can have been missed; older ones came before this hub listened.
                None => {
                    let window = i64::try_from(missed)
                        .unwrap_or(i64::MAX)
                        .saturating_add(i64::try_from(BUS_CAPACITY).unwrap_or(i64::MAX));
                    let since = self.last_created.map(|c| c - STAMP_SLACK_MILLIS);
                    (newest.saturating_sub(window).max(0), since)
                }
            };
            while from < newest {
                let rows = match services.platform.events_after(&p, from, BATCH).await {
                    Ok(rows) => rows,
                    Err(e) => {
                        tracing::warn!(application = app, error = %e.into_domain(), "real-time hub cannot catch up");
                        break;
                    }
                };
                let Some(last) = rows.last().map(|r| r.seq) else {
                    break;
                };
                from = last;
                out.extend(
                    rows.into_iter()
                        .filter(|r| r.seq <= newest && since.is_none_or(|s| r.created >= s))
                        .map(Published::from),
                );
            }
        }
        out
    }
}
