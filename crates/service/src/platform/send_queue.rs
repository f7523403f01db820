//! Sends are written in batches. Concurrent sends queue here, and one writer at a time takes
//! everything queued and writes it in one transaction (sequence numbers, messages, reply threads
//! and their `message.created` events), so a busy server commits once per batch instead of once
//! per message. A lone send is a batch of one.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use palaver_domain::platform::event::Event;
use palaver_store::platform::{MessageRow, Messages, NewEvent, ThreadRow, Threads};
use palaver_store::Tx;
use tokio::sync::oneshot;

use super::messages::message_ref;
use super::Platform;
use crate::error::Result;

/// A checked message waiting to be written: `message` has its content, sender and channel;
/// its thread, numbers and nesting are given when it is written.
#[derive(Debug, Clone)]
pub(crate) struct NewSend {
    pub message: MessageRow,
    /// The thread it goes to; None for its channel's MAIN thread.
    pub thread: Option<ThreadRow>,
}

/// A written message, with the reply thread opened for it (top-level messages only).
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub message: MessageRow,
    pub reply_thread: Option<ThreadRow>,
}

type Waiting = (NewSend, oneshot::Sender<Result<Sent>>);

/// Sends waiting to be written, and whether a writer is at work on them.
#[derive(Debug, Default)]
pub(crate) struct SendQueue {
    pending: Mutex<Vec<Waiting>>,
    writing: AtomicBool,
}

impl SendQueue {
    fn push(&self, w: Waiting) {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(w);
    }

    fn take(&self) -> Vec<Waiting> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn is_empty(&self) -> bool {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    /// True for the one caller that is to start the writer.
    fn start_writing(&self) -> bool {
        !self.writing.swap(true, Ordering::SeqCst)
    }
}

/// Marks the writer stopped when it ends other than by finding the queue empty (a panic), so
/// that the next send starts another instead of waiting for one that is gone.
struct Unwinding<'a>(&'a AtomicBool, bool);

impl Drop for Unwinding<'_> {
    fn drop(&mut self) {
        if self.1 {
            self.0.store(false, Ordering::SeqCst);
        }
    }
}

impl Platform {
    /// Writes `send` with whatever else is queued, and answers it once committed.
    pub(crate) async fn write_send(&self, send: NewSend) -> Result<Sent> {
        let (tx, rx) = oneshot::channel();
        self.sends.push((send, tx));
        if self.sends.start_writing() {
            // The writer runs on a task of its own: a caller who goes away (a closed
            // connection) cannot cut a batch short for the others in it.
            let platform = self.clone();
            tokio::spawn(async move { platform.write_queued().await });
        }
        rx.await
            .map_err(|_| crate::error::internal("the message writer stopped before answering"))?
    }

    /// Writes batches until the queue is empty, then stops.
    async fn write_queued(&self) {
        let mut unwinding = Unwinding(&self.sends.writing, true);
        loop {
            let batch = self.sends.take();
            if batch.is_empty() {
                self.sends.writing.store(false, Ordering::SeqCst);
                // A send queued after the take found the writer still at work and left its
                // message to it: go on if so (and no other writer started meanwhile).
                if self.sends.is_empty() || !self.sends.start_writing() {
                    unwinding.1 = false;
                    return;
                }
                continue;
            }
            self.write_batch(batch).await;
        }
    }

    async fn write_batch(&self, batch: Vec<Waiting>) {
        let (sends, answers): (Vec<NewSend>, Vec<_>) = batch.into_iter().unzip();
        match self.write_sends(&sends).await {
            Ok(sent) => {
                for (answer, s) in answers.into_iter().zip(sent) {
                    let _ = answer.send(Ok(s));
                }
            }
            Err(e) if sends.len() == 1 => {
                if let Some(answer) = answers.into_iter().next() {
                    let _ = answer.send(Err(e));
                }
            }
            Err(_) => {
                // One message that cannot be written (its channel went meanwhile) must not
                // fail the rest: each goes again on its own.
                for (send, answer) in sends.into_iter().zip(answers) {
                    let one = self.write_sends(std::slice::from_ref(&send)).await;
                    let _ = answer.send(one.and_then(|mut v| {
                        v.pop().ok_or_else(|| {
                            crate::error::internal("a message write answered nothing").into()
                        })
                    }));
                }
            }
        }
    }

    /// Writes `sends` in one transaction, in that order, with their events.
    async fn write_sends(&self, sends: &[NewSend]) -> Result<Vec<Sent>> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let (rows, mut threads) = insert_sends(&mut tx, sends, now).await?;
        let events = rows
            .iter()
            .map(|m| NewEvent {
                application_id: m.application_id,
                event: Event::MessageCreated(message_ref(m)),
                created: now,
            })
            .collect();
        self.commit_all(tx, events).await?;
        Ok(rows
            .into_iter()
            .map(|m| Sent {
                reply_thread: threads.remove(&m.id),
                message: m,
            })
            .collect())
    }
}

/// Inserts `sends` inside `tx`, in that order: numbers them in their channels (and the
/// application), and opens a reply thread for each top-level one. Answers the written messages
/// and the reply threads by parent message id. Sends and imports write messages this one way
/// (imports through [`insert_sends_unreturned`]), so that imported history is numbered and
/// indexed exactly as sent messages are.
pub(crate) async fn insert_sends(
    tx: &mut Tx,
    sends: &[NewSend],
    now: i64,
) -> Result<(Vec<MessageRow>, HashMap<i64, ThreadRow>)> {
    let rows = numbered(tx, sends, now).await?;
    let rows = Messages::insert_all(tx, &rows).await?;
    // Every top-level message gets its reply thread.
    let mut parents: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for m in rows.iter().filter(|m| m.nested_level == 0) {
        parents
            .entry(m.application_id)
            .or_default()
            .push((m.channel_id, m.id));
    }
    let mut threads: HashMap<i64, ThreadRow> = HashMap::new();
    for (app, list) in parents {
        for t in Threads::insert_replies(tx, app, &list, now).await? {
            if let Some(parent) = t.parent_message_id {
                threads.insert(parent, t);
            }
        }
    }
    Ok((rows, threads))
}

/// As [`insert_sends`], for bulk writes that need neither the new ids nor the reply threads
/// back (imports): the same rows, numbers and threads, but no row travels back from the
/// database per message. Answers the written messages with their numbers (`seq`, `app_seq`)
/// and `id` 0; a message is found again by its application and `app_seq`.
pub(crate) async fn insert_sends_unreturned(
    tx: &mut Tx,
    sends: &[NewSend],
    now: i64,
) -> Result<Vec<MessageRow>> {
    let rows = numbered(tx, sends, now).await?;
    let rows = Messages::insert_all_unreturned(tx, &rows).await?;
    // Every top-level message gets its reply thread: those of each application's run of
    // numbers, which this transaction holds alone (the counter row stays locked).
    let mut runs: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for m in rows.iter().filter(|m| m.nested_level == 0) {
        let run = runs
            .entry(m.application_id)
            .or_insert((m.app_seq, m.app_seq));
        run.0 = run.0.min(m.app_seq);
        run.1 = run.1.max(m.app_seq);
    }
    for (app, (first, last)) in runs {
        Threads::insert_replies_numbered(tx, app, first, last, now).await?;
    }
    Ok(rows)
}

/// `sends` as rows to insert: numbered in their channels, in their threads, dated `now`.
async fn numbered(tx: &mut Tx, sends: &[NewSend], now: i64) -> Result<Vec<MessageRow>> {
    // Channel counters in ascending channel order: one lock order for every writer.
    let mut counts: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for s in sends {
        let m = &s.message;
        counts
            .entry(m.channel_id)
            .or_insert((m.application_id, 0))
            .1 += 1;
    }
    // Per channel: its MAIN thread and the next number to give.
    let mut next: HashMap<i64, (i64, i64)> = HashMap::new();
    for (&channel, &(app, count)) in &counts {
        let (main, last) = Threads::take_seqs(tx, app, channel, count, now).await?;
        next.insert(channel, (main, last - count + 1));
    }
    let mut rows = Vec::with_capacity(sends.len());
    for s in sends {
        let m = &s.message;
        let Some((main, seq)) = next.get_mut(&m.channel_id) else {
            return Err(
                crate::error::internal("a queued message's channel was not numbered").into(),
            );
        };
        let thread_id = s.thread.as_ref().map_or(*main, |t| t.id);
        rows.push(MessageRow {
            thread_id,
            seq: *seq,
            nested_level: i64::from(thread_id != *main),
            created: now,
            ..m.clone()
        });
        *seq += 1;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use palaver_store::platform::{History, HistoryScope};
    use palaver_store::{Db, Documents, Tokens};
    use serde_json::json;

    use super::*;
    use crate::platform::{NewChannelInput, NewUserInput, PlatformConfig};
    use crate::{AppPrincipal, Operator};

    struct Fixture {
        platform: Platform,
        p: AppPrincipal,
        alice: i64,
        channels: [i64; 2],
        _dir: tempfile::TempDir,
    }

    /// An application with user alice and two PUBLIC channels, on a fresh SQLite file.
    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url, 4).await.unwrap();
        db.migrate().await.unwrap();
        let docs = Documents::new(db.clone());
        let org = Operator::new(docs.clone(), Tokens::new(db.clone()), 4)
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
        let body = json!({"name": "alice", "display_name": "Alice"});
        let alice = platform
            .create_user(&p, NewUserInput::from_body(&body).unwrap())
            .await
            .unwrap()
            .id;
        let mut channels = [0; 2];
        for (i, name) in ["one", "two"].iter().enumerate() {
            let body = json!({"type": "PUBLIC", "name": name, "creator": {"id": alice}});
            channels[i] = platform
                .create_channel(&p, NewChannelInput::from_body(&body).unwrap())
                .await
                .unwrap()
                .channel
                .id;
        }
        Fixture {
            platform,
            p,
            alice,
            channels,
            _dir: dir,
        }
    }

    fn send(f: &Fixture, channel: i64, body: &str) -> NewSend {
        NewSend {
            message: MessageRow {
                id: 0,
                application_id: f.p.application_id,
                channel_id: channel,
                thread_id: 0,
                seq: 0,
                app_seq: 0,
                r#type: "TEXT".into(),
                user_id: Some(f.alice),
                body: Some(body.into()),
                file: None,
                group_tag: None,
                properties: json!({}),
                mentions: json!([]),
                links: json!([]),
                nested_level: 0,
                created: 0,
                last_edited: None,
            },
            thread: None,
        }
    }

    async fn bodies(f: &Fixture, channel: i64) -> Vec<String> {
        let h = History {
            scope: HistoryScope::Channel(channel),
            username: None,
            text: None,
            before: None,
            after: None,
            limit: 100,
        };
        let rows = f
            .platform
            .messages
            .history(f.p.application_id, &h)
            .await
            .unwrap();
        rows.into_iter().rev().filter_map(|m| m.body).collect()
    }

    #[tokio::test]
    async fn a_batch_numbers_its_messages_in_order_per_channel() {
        let f = fixture().await;
        let [one, two] = f.channels;
        let batch = [send(&f, one, "a"), send(&f, two, "b"), send(&f, one, "c")];
        let sent = f.platform.write_sends(&batch).await.unwrap();
        let seqs: Vec<(i64, i64)> = sent
            .iter()
            .map(|s| (s.message.channel_id, s.message.seq))
            .collect();
        assert_eq!(seqs, [(one, 1), (two, 1), (one, 2)]);
        let app_seqs: Vec<i64> = sent.iter().map(|s| s.message.app_seq).collect();
        assert_eq!(app_seqs, [1, 2, 3]);
        // Each top-level message has a reply thread of its own, that replies to it.
        for s in &sent {
            let t = s.reply_thread.as_ref().expect("reply thread");
            assert_eq!(t.parent_message_id, Some(s.message.id));
            assert_eq!(t.channel_id, s.message.channel_id);
        }
        // A reply goes to that thread, nested, without a thread of its own.
        let parent = sent[0].reply_thread.clone();
        let reply = NewSend {
            thread: parent.clone(),
            ..send(&f, one, "reply")
        };
        let r = f.platform.write_sends(&[reply]).await.unwrap().remove(0);
        assert_eq!(r.message.nested_level, 1);
        assert_eq!(Some(r.message.thread_id), parent.map(|t| t.id));
        assert!(r.reply_thread.is_none());
        // One message.created event each, numbered in the order written.
        let events = f.platform.events_after(&f.p, 0, 100).await.unwrap();
        let created: Vec<i64> = events
            .iter()
            .filter_map(|e| match &e.event {
                Event::MessageCreated(m) => Some(m.id),
                _ => None,
            })
            .collect();
        let ids: Vec<i64> = sent.iter().chain([&r]).map(|s| s.message.id).collect();
        assert_eq!(created, ids);
        assert_eq!(bodies(&f, one).await, ["a", "c", "reply"]);
        assert_eq!(bodies(&f, two).await, ["b"]);
    }

    #[tokio::test]
    async fn a_message_that_cannot_be_written_fails_alone() {
        let f = fixture().await;
        let one = f.channels[0];
        let (tx_a, rx_a) = oneshot::channel();
        let (tx_b, rx_b) = oneshot::channel();
        let (tx_c, rx_c) = oneshot::channel();
        // No channel 999999: its message breaks the batch's transaction.
        let batch = vec![
            (send(&f, one, "a"), tx_a),
            (send(&f, 999_999, "lost"), tx_b),
            (send(&f, one, "c"), tx_c),
        ];
        f.platform.write_batch(batch).await;
        assert!(rx_a.await.unwrap().is_ok());
        assert!(rx_b.await.unwrap().is_err());
        assert!(rx_c.await.unwrap().is_ok());
        assert_eq!(bodies(&f, one).await, ["a", "c"]);
    }

    #[tokio::test]
    async fn the_notifier_catches_up_on_what_was_committed_without_it() {
        let f = fixture().await;
        let body = json!({"name": "bob", "display_name": "Bob"});
        let bob = f
            .platform
            .create_user(&f.p, NewUserInput::from_body(&body).unwrap())
            .await
            .unwrap()
            .id;
        let body = json!({"type": "PUBLIC", "name": "both", "creator": {"id": f.alice},
            "members": [{"id": bob}]});
        let both = f
            .platform
            .create_channel(&f.p, NewChannelInput::from_body(&body).unwrap())
            .await
            .unwrap()
            .channel
            .id;
        // No notifier runs here: these are committed with nobody told.
        f.platform
            .write_sends(&[send(&f, both, "one"), send(&f, both, "two")])
            .await
            .unwrap();
        assert_eq!(f.platform.catch_up_notifications().await.unwrap(), 2);
        assert_eq!(f.platform.catch_up_notifications().await.unwrap(), 0);
        let page = f
            .platform
            .notifications
            .page(f.p.application_id, bob, (None, None), 10)
            .await
            .unwrap();
        let titles: Vec<&str> = page.iter().map(|n| n.title.as_str()).collect();
        assert_eq!(titles, ["Alice sent a message", "Alice sent a message"]);
    }

    #[tokio::test]
    async fn concurrent_sends_are_all_written_once() {
        let f = fixture().await;
        let one = f.channels[0];
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let (platform, s) = (f.platform.clone(), send(&f, one, &format!("m{i}")));
                tokio::spawn(async move { platform.write_send(s).await })
            })
            .collect();
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.unwrap().unwrap().message.seq);
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=50).collect::<Vec<i64>>(), "gapless, each once");
        let mut written = bodies(&f, one).await;
        written.sort();
        let mut expected: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
        expected.sort();
        assert_eq!(written, expected);
    }
}
