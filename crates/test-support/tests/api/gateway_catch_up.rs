//! The real-time hub passes on every committed event in its application's order, even when it
//! fell behind the event bus (which then drops the oldest events for it): the ones it missed
//! are read back from the outbox.

use std::sync::Arc;
use std::time::Duration;

use palaver_domain::platform::event::Event;
use palaver_gateway::hub::{ConnHandle, Hub, Key, Push};
use palaver_service::platform::{Published, BUS_CAPACITY};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};

use crate::platform_messages::chat;

/// The message bodies of `count` pushes, in the order they came.
async fn bodies(rx: &mut mpsc::Receiver<Push>, count: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < count {
        let push = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {count} events arrived", out.len()))
            .expect("the hub is running");
        let v: Value = serde_json::from_str(push.body()).expect("a JSON event");
        assert_eq!(v["type"], "channel.message.created", "{v}");
        out.push(
            v["resource"]["body"]
                .as_str()
                .expect("a text body")
                .to_string(),
        );
    }
    out
}

#[tokio::test]
async fn a_hub_behind_the_bus_catches_up_from_the_outbox_in_order() {
    let c = chat().await;
    let alice = c.users[0]["id"].as_i64().expect("alice's id");
    // The hub's receiver is taken before the writes and read only after them: by then the bus
    // has dropped the oldest 200 events for it.
    let behind = c.app.services.platform.subscribe();
    // A burst past the bus, not a test of the request limits.
    c.app.limits.rates_off();
    let total = BUS_CAPACITY + 200;
    let path = format!("/channels/{}/messages", c.general);
    for n in 0..total {
        let r = c
            .app
            .ppost(
                &path,
                &c.token,
                json!({"type": "TEXT", "body": format!("m{n}"), "user": {"username": "alice"}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let hub = Arc::new(Hub::new(None));
    let (tx, mut rx) = mpsc::channel(total + 10);
    let handle = ConnHandle {
        tx,
        overflow: Arc::new(Notify::new()),
    };
    hub.subscribe(
        c.app.app_id,
        Key::Channel(c.general, "messages"),
        1,
        alice,
        handle,
    );
    let run = tokio::spawn(hub.clone().run_from(c.app.services.clone(), behind));
    let got = bodies(&mut rx, total).await;
    let sent: Vec<String> = (0..total).map(|n| format!("m{n}")).collect();
    assert_eq!(got, sent);
    // The bus's own copies of the recovered events are not passed on a second time; the next
    // message follows at once.
    let r = c
        .app
        .ppost(
            &path,
            &c.token,
            json!({"type": "TEXT", "body": "after", "user": {"username": "alice"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(bodies(&mut rx, 1).await, vec!["after".to_string()]);
    assert!(rx.try_recv().is_err(), "nothing was passed on twice");
    run.abort();
}

#[tokio::test]
async fn a_later_event_published_first_waits_for_the_earlier_one() {
    let c = chat().await;
    let alice = c.users[0]["id"].as_i64().expect("alice's id");
    let path = format!("/channels/{}/messages", c.general);
    for n in 0..3 {
        let r = c
            .app
            .ppost(
                &path,
                &c.token,
                json!({"type": "TEXT", "body": format!("m{n}"), "user": {"username": "alice"}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let p = palaver_service::AppPrincipal {
        application_id: c.app.app_id,
        organisation_id: String::new(),
    };
    let created: Vec<Arc<Published>> = c
        .app
        .services
        .platform
        .events_after(&p, 0, 10_000)
        .await
        .expect("the outbox")
        .into_iter()
        .map(Published::from)
        .filter(|e| matches!(e.event, Event::MessageCreated(_)))
        .map(Arc::new)
        .collect();
    assert_eq!(created.len(), 3);
    // A bus of the test's own, on which the third message's event overtakes the second's, as
    // when two writes commit in one order and publish in the other.
    let (bus, rx) = tokio::sync::broadcast::channel(16);
    let hub = Arc::new(Hub::new(None));
    let (tx, mut out) = mpsc::channel(16);
    let handle = ConnHandle {
        tx,
        overflow: Arc::new(Notify::new()),
    };
    hub.subscribe(
        c.app.app_id,
        Key::Channel(c.general, "messages"),
        1,
        alice,
        handle,
    );
    let run = tokio::spawn(hub.clone().run_from(c.app.services.clone(), rx));
    bus.send(created[0].clone()).expect("the hub listens");
    assert_eq!(bodies(&mut out, 1).await, vec!["m0".to_string()]);
    bus.send(created[2].clone()).expect("the hub listens");
    bus.send(created[1].clone()).expect("the hub listens");
    assert_eq!(
        bodies(&mut out, 2).await,
        vec!["m1".to_string(), "m2".to_string()]
    );
    // The second message's own (late) event is not passed on again.
    bus.send(created[0].clone()).expect("the hub listens");
    let r = c
        .app
        .ppost(
            &path,
            &c.token,
            json!({"type": "TEXT", "body": "m3", "user": {"username": "alice"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let newest = c
        .app
        .services
        .platform
        .events_after(&p, 0, 10_000)
        .await
        .expect("the outbox")
        .into_iter()
        .map(Published::from)
        .rfind(|e| matches!(e.event, Event::MessageCreated(_)))
        .expect("m3's event");
    bus.send(Arc::new(newest)).expect("the hub listens");
    assert_eq!(bodies(&mut out, 1).await, vec!["m3".to_string()]);
    run.abort();
}
