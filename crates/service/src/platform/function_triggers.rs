//! Non-blocking chat function triggers: a consumer of the outbox turns committed events into
//! FUNCTION_INVOCATION jobs, one per event and function that listens to its trigger. The jobs
//! are enqueued in the transaction that moves the consumer's offset, so each event triggers
//! each function once, whichever instance drains it; the write that caused the event never
//! waits for a function.

use std::collections::{BTreeSet, HashMap};

use palaver_domain::job::JobKind;
use palaver_domain::platform::event::Event;
use palaver_domain::platform::functions::FunctionTrigger;
use palaver_domain::{DomainError, ErrorCode};
use palaver_store::platform::{Consumers, EventRow, FunctionRow};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::{AppPrincipal, Platform};
use crate::error::Result;

/// The consumer's name in the consumers table.
const CONSUMER: &str = "functions";
/// Events read per drain step.
const BATCH: u64 = 500;

/// What a FUNCTION_INVOCATION job carries: the function, its trigger, the event that fired it
/// and, for triggers that fan out to several users, the user this invocation is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvocationJob {
    pub function_id: i64,
    pub trigger: String,
    pub event: Event,
    /// When the event happened (epoch milliseconds).
    pub created: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
}

/// The triggers an event fires, each with the user it concerns when the event names several.
/// Messages sent by the application itself (no sender) fire no `user.sent.message`.
pub fn triggers_of(event: &Event) -> Vec<(FunctionTrigger, Option<i64>)> {
    use FunctionTrigger as T;
    match event {
        Event::MessageCreated(m) if m.user_id.is_some() => vec![(T::UserSentMessage, None)],
        Event::MessageRead { .. } => vec![(T::UserReadMessage, None)],
        Event::MessageReacted(_) => vec![(T::UserReactedToMessage, None)],
        Event::InviteSent(_) => vec![(T::UserReceivedChannelInvite, None)],
        Event::ChannelEventSent {
            user_id: Some(_), ..
        } => vec![(T::UserTriggeredEvent, None)],
        Event::ChannelEventSent { user_id: None, .. } => vec![(T::SystemTriggeredEvent, None)],
        Event::NotificationsCreated { user_ids } => user_ids
            .iter()
            .map(|u| (T::UserReceivedNotification, Some(*u)))
            .collect(),
        Event::ChatSessionStarted { .. } => vec![(T::UserStartedChatSession, None)],
        _ => Vec::new(),
    }
}

/// The invocations `events` call for: the listening function of each trigger they fire, if it
/// existed when the event happened.
fn invocations_for(
    listening: &HashMap<FunctionTrigger, FunctionRow>,
    events: &[EventRow],
) -> Vec<InvocationJob> {
    let mut jobs = Vec::new();
    for e in events {
        for (trigger, user_id) in triggers_of(&e.event) {
            let Some(f) = listening.get(&trigger) else {
                continue;
            };
            if e.created < f.created {
                continue;
            }
            jobs.push(InvocationJob {
                function_id: f.id,
                trigger: trigger.as_str().to_string(),
                event: e.event.clone(),
                created: e.created,
                user_id,
            });
        }
    }
    jobs
}

impl Platform {
    /// Enqueues the invocations the caller's committed events call for, from where this
    /// consumer stopped; answers how many. Tests call it to drain deterministically;
    /// [`Platform::run_function_triggers`] calls it as events are published.
    pub async fn drain_function_triggers(&self, p: &AppPrincipal) -> Result<usize> {
        let app = p.application_id;
        let mut enqueued = 0;
        loop {
            // Most applications have no functions: they cost one indexed read, no event read
            // and no write. A function created later ignores the events older than itself.
            let listening = self.listening_functions(app).await?;
            if listening.is_empty() {
                return Ok(enqueued);
            }
            let from = self.consumers.offset(CONSUMER, app).await?;
            let events = self.events_after(p, from, BATCH).await?;
            let Some(last) = events.last().map(|e| e.seq) else {
                return Ok(enqueued);
            };
            let jobs = invocations_for(&listening, &events);
            let mut tx = self.db.begin().await?;
            for job in &jobs {
                let payload = serde_json::to_value(job)
                    .map_err(|e| DomainError::new(ErrorCode::Internal, e.to_string()))?;
                self.jobs
                    .enqueue(
                        &mut tx,
                        Some(app),
                        JobKind::FunctionInvocation,
                        payload,
                        None,
                    )
                    .await?;
            }
            if !Consumers::advance(&mut tx, CONSUMER, app, from, last).await? {
                // Another instance handled these events first; start again from its offset.
                continue;
            }
            tx.commit().await?;
            if !jobs.is_empty() {
                enqueued += jobs.len();
                self.jobs.wake();
            }
            if (events.len() as u64) < BATCH {
                return Ok(enqueued);
            }
        }
    }

    /// The enabled functions of application `app`, by the trigger they answer.
    async fn listening_functions(&self, app: i64) -> Result<HashMap<FunctionTrigger, FunctionRow>> {
        Ok(self
            .functions
            .enabled(app)
            .await?
            .into_iter()
            .map(|f| (f.trigger, f))
            .collect())
    }

    /// Drains every application whose events this consumer has not handled: what was committed
    /// while no instance ran it, or while it lagged behind the bus.
    pub async fn catch_up_function_triggers(&self) -> Result<usize> {
        let mut enqueued = 0;
        for app in self.consumers.behind(CONSUMER).await? {
            enqueued += self
                .drain_function_triggers(&super::imports::system_principal(app))
                .await?;
        }
        Ok(enqueued)
    }

    /// Enqueues function invocations as events are committed, until the bus closes; catches up
    /// from the outbox at start and whenever it lagged behind the bus.
    pub async fn run_function_triggers(&self) {
        let fires = |e: &Event| !triggers_of(e).is_empty();
        let mut rx = self.subscribe();
        let mut catch_up = true;
        loop {
            if std::mem::take(&mut catch_up) {
                if let Err(e) = self.catch_up_function_triggers().await {
                    tracing::error!(error = %e.into_domain(), "function triggers not handled");
                }
            }
            let mut apps = BTreeSet::new();
            match rx.recv().await {
                Ok(e) if e.seq.is_some() && fires(&e.event) => {
                    apps.insert(e.application_id);
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => {
                    catch_up = true;
                    continue;
                }
                Err(RecvError::Closed) => return,
            }
            loop {
                match rx.try_recv() {
                    Ok(e) if e.seq.is_some() && fires(&e.event) => {
                        apps.insert(e.application_id);
                    }
                    Ok(_) => {}
                    Err(TryRecvError::Lagged(_)) => catch_up = true,
                    Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                }
            }
            for app in apps {
                let p = super::imports::system_principal(app);
                if let Err(e) = self.drain_function_triggers(&p).await {
                    tracing::error!(error = %e.into_domain(), "function triggers not handled");
                }
            }
        }
    }
}
