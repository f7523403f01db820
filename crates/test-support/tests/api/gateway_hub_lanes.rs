//! The real-time hub renders events in lanes: a render held back (here by the hub's render
//! hook, as a slow read would) holds back neither presence nor messages of another lane, nor
//! another application's events, while one application's messages reach each subscriber in
//! their order however their renders finish. Presence goes to the listened channels its user
//! is a member of, and to no other.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use palaver_domain::platform::event::Event;
use palaver_gateway::hub::{ConnHandle, Hub, Key, Push, RenderHook};
use palaver_service::platform::Published;
use palaver_service::AppPrincipal;
use palaver_test_support::TestApp;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc, Notify, Semaphore};

use crate::gateway::rest_message;

use crate::platform_messages::chat;

/// A connection of the test's own: its handle for the hub and what it receives.
fn conn() -> (ConnHandle, mpsc::Receiver<Push>) {
    let (tx, rx) = mpsc::channel(1024);
    let handle = ConnHandle {
        tx,
        overflow: Arc::new(Notify::new()),
    };
    (handle, rx)
}

/// The next topic message: (key, event type, resource). The timeout only ends a failed test.
async fn next(rx: &mut mpsc::Receiver<Push>) -> (Key, String, Value) {
    let push = tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("a topic message arrives")
        .expect("the hub is running");
    let v: Value = serde_json::from_str(push.body()).expect("a JSON event");
    let kind = v["type"].as_str().expect("a type").to_string();
    (push.key, kind, v["resource"].clone())
}

fn principal(app: i64) -> AppPrincipal {
    AppPrincipal {
        application_id: app,
        organisation_id: String::new(),
    }
}

/// The message-created events of `app`'s outbox, oldest first.
async fn created(app: &TestApp, app_id: i64) -> Vec<Arc<Published>> {
    app.services
        .platform
        .events_after(&principal(app_id), 0, 10_000)
        .await
        .expect("the outbox")
        .into_iter()
        .map(Published::from)
        .filter(|e| matches!(e.event, Event::MessageCreated(_)))
        .map(Arc::new)
        .collect()
}

fn signal(app: i64, event: Event) -> Arc<Published> {
    Arc::new(Published {
        application_id: app,
        seq: None,
        created: palaver_domain::time::now_millis(),
        event,
    })
}

fn presence(app: i64, user: i64) -> Arc<Published> {
    signal(
        app,
        Event::PresenceChanged {
            user_id: user,
            online: true,
            status: "AVAILABLE".into(),
        },
    )
}

/// A hook that holds the renders of the events `hold` picks until released, telling when
/// one is held.
struct Gate {
    held: mpsc::UnboundedReceiver<()>,
    release: Arc<Semaphore>,
}

fn gate(hold: impl Fn(&Published) -> bool + Send + Sync + 'static) -> (RenderHook, Gate) {
    let (tell, held) = mpsc::unbounded_channel();
    let release = Arc::new(Semaphore::new(0));
    let permits = release.clone();
    let hook: RenderHook = Arc::new(move |e: &Published| {
        let hold = hold(e);
        let (tell, permits) = (tell.clone(), permits.clone());
        Box::pin(async move {
            if hold {
                let _ = tell.send(());
                permits.acquire().await.expect("open").forget();
            }
        })
    });
    (hook, Gate { held, release })
}

/// Application B: a user "dora", a channel of hers and one message in it.
async fn other_app_message(app: &TestApp) -> (i64, i64, i64, Arc<Published>) {
    let other = app.other_application("lanes").await;
    let dora = app
        .create_chat_user(&other.token, json!({"name": "dora"}))
        .await;
    let r = app
        .ppost(
            "/channels",
            &other.token,
            json!({"type": "PUBLIC", "name": "b", "creator": {"username": "dora"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let channel = r.body["id"].as_i64().expect("channel id");
    rest_message(app, &other.token, channel, "dora", "from b").await;
    let event = created(app, other.app_id).await.pop().expect("b's message");
    let dora = dora["id"].as_i64().expect("dora's id");
    (other.app_id, channel, dora, event)
}

#[tokio::test]
async fn a_held_presence_render_holds_back_no_message() {
    let c = chat().await;
    let a = c.app.app_id;
    let alice = c.users[0]["id"].as_i64().expect("alice's id");
    rest_message(&c.app, &c.token, c.general, "alice", "m0").await;
    let m0 = created(&c.app, a).await.pop().expect("m0's event");
    let (b, b_channel, dora, b_message) = other_app_message(&c.app).await;

    let (hook, mut gate) = gate(|e| matches!(e.event, Event::PresenceChanged { .. }));
    let hub = Arc::new(Hub::new(None).with_render_hook(hook));
    let (alice_conn, mut alice_rx) = conn();
    hub.subscribe(a, Key::User(alice, "self"), 1, alice, alice_conn.clone());
    hub.subscribe(a, Key::Channel(c.general, "messages"), 1, alice, alice_conn);
    let (dora_conn, mut dora_rx) = conn();
    hub.subscribe(b, Key::Channel(b_channel, "messages"), 2, dora, dora_conn);
    let (bus, rx) = broadcast::channel(16);
    let run = tokio::spawn(hub.clone().run_from(c.app.services.clone(), rx));

    bus.send(presence(a, alice)).expect("the hub listens");
    gate.held.recv().await.expect("alice's presence is held");
    // Meanwhile a message of the same application and one of another reach their listeners.
    bus.send(m0).expect("the hub listens");
    bus.send(b_message).expect("the hub listens");
    let (key, kind, resource) = next(&mut alice_rx).await;
    assert_eq!(key, Key::Channel(c.general, "messages"));
    assert_eq!(kind, "channel.message.created");
    assert_eq!(resource["body"], "m0");
    let (key, kind, resource) = next(&mut dora_rx).await;
    assert_eq!(key, Key::Channel(b_channel, "messages"));
    assert_eq!(kind, "channel.message.created");
    assert_eq!(resource["body"], "from b");
    assert!(alice_rx.try_recv().is_err(), "the presence is still held");

    // Released, the presence follows.
    gate.release.add_permits(1);
    let (key, kind, resource) = next(&mut alice_rx).await;
    assert_eq!(key, Key::User(alice, "self"));
    assert_eq!(kind, "contact.presence.changed");
    assert_eq!(resource["name"], "alice");
    run.abort();
}

#[tokio::test]
async fn a_held_message_render_holds_back_its_application_only_and_its_order_stays() {
    let c = chat().await;
    let a = c.app.app_id;
    let alice = c.users[0]["id"].as_i64().expect("alice's id");
    rest_message(&c.app, &c.token, c.general, "alice", "m0").await;
    rest_message(&c.app, &c.token, c.general, "alice", "m1").await;
    let ours = created(&c.app, a).await;
    assert_eq!(ours.len(), 2);
    let (b, b_channel, dora, b_message) = other_app_message(&c.app).await;

    let first = ours[0].seq;
    let (hook, mut gate) = gate(move |e| e.seq == first && e.application_id == a);
    let hub = Arc::new(Hub::new(None).with_render_hook(hook));
    let (alice_conn, mut alice_rx) = conn();
    hub.subscribe(a, Key::Channel(c.general, "messages"), 1, alice, alice_conn);
    let (dora_conn, mut dora_rx) = conn();
    hub.subscribe(b, Key::Channel(b_channel, "messages"), 2, dora, dora_conn);
    let (bus, rx) = broadcast::channel(16);
    let run = tokio::spawn(hub.clone().run_from(c.app.services.clone(), rx));

    bus.send(ours[0].clone()).expect("the hub listens");
    gate.held.recv().await.expect("m0 is held");
    bus.send(ours[1].clone()).expect("the hub listens");
    bus.send(b_message).expect("the hub listens");
    let (_, _, resource) = next(&mut dora_rx).await;
    assert_eq!(resource["body"], "from b");
    // m1 may be rendered, but it is not delivered before m0.
    assert!(alice_rx.try_recv().is_err(), "nothing overtook m0");
    gate.release.add_permits(1);
    let (_, _, r0) = next(&mut alice_rx).await;
    let (_, _, r1) = next(&mut alice_rx).await;
    assert_eq!(
        (r0["body"].clone(), r1["body"].clone()),
        (json!("m0"), json!("m1"))
    );
    run.abort();
}

#[tokio::test]
async fn messages_rendered_side_by_side_arrive_in_order() {
    let c = chat().await;
    let a = c.app.app_id;
    let alice = c.users[0]["id"].as_i64().expect("alice's id");
    c.app.limits.rates_off();
    let total = 40;
    for n in 0..total {
        rest_message(&c.app, &c.token, c.general, "alice", &format!("m{n}")).await;
    }
    let events = created(&c.app, a).await;
    assert_eq!(events.len(), total);
    let first = events[0].seq;
    // The first render waits until another one has started (renders run side by side, or the
    // test never ends); the others finish after a number of yields that varies from one to the
    // next, so that they finish out of order.
    let started = Arc::new(AtomicUsize::new(0));
    let another = Arc::new(Notify::new());
    let (count, tell) = (started.clone(), another.clone());
    let hook: RenderHook = Arc::new(move |e: &Published| {
        let (count, tell) = (count.clone(), tell.clone());
        let is_first = e.seq == first;
        let seq = e.seq.unwrap_or(0);
        Box::pin(async move {
            count.fetch_add(1, Ordering::SeqCst);
            if is_first {
                tell.notified().await;
            } else {
                tell.notify_one();
                for _ in 0..(seq * 7) % 11 {
                    tokio::task::yield_now().await;
                }
            }
        })
    });
    let hub = Arc::new(Hub::new(None).with_render_hook(hook));
    let (alice_conn, mut alice_rx) = conn();
    hub.subscribe(a, Key::Channel(c.general, "messages"), 1, alice, alice_conn);
    let (bus, rx) = broadcast::channel(total + 8);
    let run = tokio::spawn(hub.clone().run_from(c.app.services.clone(), rx));
    for e in &events {
        bus.send(e.clone()).expect("the hub listens");
    }
    let mut got = Vec::new();
    for _ in 0..total {
        let (_, kind, resource) = next(&mut alice_rx).await;
        assert_eq!(kind, "channel.message.created");
        got.push(resource["body"].as_str().expect("a body").to_string());
    }
    let sent: Vec<String> = (0..total).map(|n| format!("m{n}")).collect();
    assert_eq!(got, sent);
    assert!(started.load(Ordering::SeqCst) >= total);
    run.abort();
}

#[tokio::test]
async fn presence_goes_to_the_listened_channels_of_members_only() {
    let c = chat().await;
    let a = c.app.app_id;
    let alice = c.users[0]["id"].as_i64().expect("alice's id");
    let bob = c.users[1]["id"].as_i64().expect("bob's id");
    // Few channels listened (each asked about bob), then many (bob's channels read instead).
    for extra in [0, 10] {
        let mut bobs = vec![c.general];
        let mut not_bobs = vec![c.secret];
        for n in 0..extra {
            let members = if n % 2 == 0 {
                json!([{"username": "bob"}])
            } else {
                json!([])
            };
            let r = c
                .app
                .ppost(
                    "/channels",
                    &c.token,
                    json!({"type": "PRIVATE", "name": format!("p{extra}-{n}"),
                           "creator": {"username": "alice"}, "members": members}),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            let id = r.body["id"].as_i64().expect("channel id");
            if n % 2 == 0 {
                bobs.push(id);
            } else {
                not_bobs.push(id);
            }
        }
        let hub = Arc::new(Hub::new(None));
        let (watcher, mut rx) = conn();
        for ch in bobs.iter().chain(&not_bobs) {
            hub.subscribe(
                a,
                Key::Channel(*ch, "participants"),
                1,
                alice,
                watcher.clone(),
            );
        }
        let (bus, brx) = broadcast::channel(16);
        let run = tokio::spawn(hub.clone().run_from(c.app.services.clone(), brx));
        bus.send(presence(a, bob)).expect("the hub listens");
        // Then a signal on a channel bob is not in: everything before it has been told.
        let last = not_bobs[0];
        let active = Event::ParticipantChanged {
            channel_id: last,
            user_id: alice,
            active: true,
        };
        bus.send(signal(a, active)).expect("the hub listens");
        let mut told = Vec::new();
        loop {
            let (key, kind, resource) = next(&mut rx).await;
            if kind == "channel.participant.active" {
                assert_eq!(key, Key::Channel(last, "participants"));
                break;
            }
            assert_eq!(kind, "participant.presence.changed");
            assert_eq!(resource["name"], "bob");
            let Key::Channel(ch, _) = key else {
                panic!("a channel topic: {key:?}");
            };
            told.push(ch);
        }
        told.sort_unstable();
        bobs.sort_unstable();
        assert_eq!(told, bobs, "with {extra} more channels");
        run.abort();
    }
}
