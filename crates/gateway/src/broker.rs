//! Several instances share their events through NATS: each publishes its committed events and
//! signals on `palaver.events.<application>` and passes on what it receives from every instance,
//! itself included, to its own bus (the platform puts them in order and fills gaps from the
//! outbox). Without a broker the in-process bus serves one instance.

use std::sync::Arc;

use futures_util::StreamExt;
use palaver_service::platform::{Outlet, Published};
use palaver_service::Services;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Events waiting to be published before new ones are dropped (and recovered from the outbox
/// by the receivers, which see the gap).
const QUEUE: usize = 65_536;

const SUBJECTS: &str = "palaver.events.>";

/// How often the outbox is read for events the broker did not deliver (the last of a burst it
/// lost shows no gap until the next event comes): at worst this late.
const CATCH_UP: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Debug)]
struct NatsOutlet {
    tx: mpsc::Sender<Arc<Published>>,
}

impl Outlet for NatsOutlet {
    fn send(&self, e: Arc<Published>) {
        if self.tx.try_send(e).is_err() {
            tracing::warn!("broker queue full: an event is left to the outbox");
        }
    }
}

/// A running connection to NATS: its publishing and receiving tasks.
#[derive(Debug)]
pub struct Broker {
    tasks: Vec<JoinHandle<()>>,
}

impl Broker {
    /// Connects to the NATS server at `url` and routes the platform's events through it.
    pub async fn connect(url: &str, services: Services) -> Result<Broker, async_nats::Error> {
        let client = async_nats::ConnectOptions::new()
            .name("palaver")
            .connect(url)
            .await?;
        let mut inbox = client.subscribe(SUBJECTS).await?;
        let (tx, mut rx) = mpsc::channel::<Arc<Published>>(QUEUE);
        let publisher = client.clone();
        let publishing = tokio::spawn(async move {
            while let Some(e) = rx.recv().await {
                let body = match serde_json::to_vec(&*e) {
                    Ok(b) => b,
                    Err(err) => {
                        tracing::error!(error = %err, "event not serialisable for the broker");
                        continue;
                    }
                };
                let subject = format!("palaver.events.{}", e.application_id);
                if let Err(err) = publisher.publish(subject, body.into()).await {
                    tracing::warn!(error = %err, "event not published to the broker");
                }
            }
        });
        let platform = services.clone();
        let receiving = tokio::spawn(async move {
            let mut catch_up = tokio::time::interval(CATCH_UP);
            catch_up.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                // One task receives and catches up, so their events never interleave.
                let m = tokio::select! {
                    m = inbox.next() => match m {
                        Some(m) => m,
                        None => break,
                    },
                    _ = catch_up.tick() => {
                        if let Err(err) = platform.platform.catch_up().await {
                            tracing::warn!(error = %err.into_domain(), "outbox catch-up failed");
                        }
                        continue;
                    }
                };
                match serde_json::from_slice::<Published>(&m.payload) {
                    Ok(e) => {
                        if let Err(err) = platform.platform.receive(e).await {
                            tracing::warn!(error = %err.into_domain(), "broker event not passed on");
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "unreadable broker event"),
                }
            }
        });
        services.platform.set_outlet(Arc::new(NatsOutlet { tx }));
        Ok(Broker {
            tasks: vec![publishing, receiving],
        })
    }

    /// Stops publishing and receiving.
    pub fn stop(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
