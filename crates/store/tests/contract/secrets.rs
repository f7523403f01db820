//! Secrets at rest, as the store sees them: server settings are set once (the first value stays);
//! the secret-holding columns list only values without the sealed prefix, and a value is
//! replaced only while it still holds what was read.

use palaver_domain::delivery::WEBHOOK;
use palaver_store::platform::{Applications, ChatUsers, NewApplication, NewChatUser, Runtimes};
use palaver_store::{
    Db, Documents, PlainSecret, PlainSecrets, Scope, SecretColumn, SecretRow, ServerSettings,
};
use serde_json::json;

use crate::support::{bot, contract, doc, organisation, STAMP};

contract!(
    a_setting_keeps_its_first_value,
    plain_secrets_are_listed_and_replaced_only_as_read,
);

const PREFIX: &str = "v1:";

async fn a_setting_keeps_its_first_value(db: Db) {
    let settings = ServerSettings::new(db.clone());
    assert_eq!(settings.get("check").await.unwrap(), None);
    assert_eq!(settings.set_once("check", "first").await.unwrap(), "first");
    // A second instance with another value reads the first one's.
    assert_eq!(settings.set_once("check", "second").await.unwrap(), "first");
    assert_eq!(
        settings.get("check").await.unwrap().as_deref(),
        Some("first")
    );
    assert_eq!(settings.get("other").await.unwrap(), None);
}

async fn plain_secrets_are_listed_and_replaced_only_as_read(db: Db) {
    let docs = Documents::new(db.clone());
    organisation(&docs, "o1").await;
    bot(&docs, "o1", "b1").await;
    let app = Applications::new(db.clone())
        .insert(&NewApplication {
            organisation_id: "o1".into(),
            name: "app".into(),
            api_key: "key-o1".into(),
            client_id: "client-o1".into(),
            client_secret_digest: "digest".into(),
            created: 1,
        })
        .await
        .unwrap()
        .id;
    let users = ChatUsers::new(db.clone());
    let user = users
        .insert(&NewChatUser {
            application_id: app,
            name: "ann".into(),
            display_name: "Ann".into(),
            display_picture_url: String::new(),
            r#type: "PERSON".into(),
            is_guest: false,
            properties: json!({}),
            created: 1,
        })
        .await
        .unwrap()
        .id;
    let mut tx = db.begin().await.unwrap();
    ChatUsers::put_secret(&mut tx, app, user, "plain", "\"hunter2\"")
        .await
        .unwrap();
    ChatUsers::put_secret(&mut tx, app, user, "sealed", "v1:abc")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for (id, secret) in [
        ("w1", json!("plain-webhook-secret")),
        ("w2", json!("v1:xyz")),
    ] {
        docs.insert(
            &WEBHOOK,
            &Scope::child("o1", "bot_id", "b1"),
            &doc(
                json!({"id": id, "url": "https://example.com/hook", "events": ["flake.published"],
                "secret": secret, "active": true, "created": STAMP, "modified": STAMP}),
            ),
        )
        .await
        .unwrap();
    }
    Runtimes::new(db.clone())
        .ensure(app, 1, "{\"A\":\"b\"}")
        .await
        .unwrap();

    let plain = PlainSecrets::new(db.clone());
    let listed = plain
        .list(SecretColumn::UserSecrets, PREFIX, 100)
        .await
        .unwrap();
    let user_secret = PlainSecret {
        row: SecretRow::UserSecret {
            application_id: app,
            user_id: user,
            name: "plain".into(),
        },
        text: "\"hunter2\"".into(),
    };
    assert_eq!(listed, vec![user_secret.clone()]);
    let listed = plain
        .list(SecretColumn::WebhookSecrets, PREFIX, 100)
        .await
        .unwrap();
    let webhook = PlainSecret {
        row: SecretRow::Webhook {
            organisation_id: "o1".into(),
            bot_id: "b1".into(),
            id: "w1".into(),
        },
        text: "plain-webhook-secret".into(),
    };
    assert_eq!(listed, vec![webhook.clone()]);
    let listed = plain
        .list(SecretColumn::RuntimeEnvironments, PREFIX, 100)
        .await
        .unwrap();
    let runtime = PlainSecret {
        row: SecretRow::RuntimeEnvironment {
            application_id: app,
        },
        text: "{\"A\":\"b\"}".into(),
    };
    assert_eq!(listed, vec![runtime.clone()]);

    // A value changed since it was read is left alone.
    let stale = PlainSecret {
        text: "\"an older value\"".into(),
        ..user_secret.clone()
    };
    assert!(!plain.replace(&stale, "v1:new").await.unwrap());
    assert_eq!(
        users.secret(app, user, "plain").await.unwrap().as_deref(),
        Some("\"hunter2\"")
    );
    // The values as read are replaced, in their own rows only.
    for (p, sealed) in [
        (&user_secret, "v1:user"),
        (&webhook, "v1:hook"),
        (&runtime, "v1:env"),
    ] {
        assert!(plain.replace(p, sealed).await.unwrap(), "{p:?}");
    }
    for column in SecretColumn::ALL {
        assert!(plain.list(column, PREFIX, 100).await.unwrap().is_empty());
    }
    assert_eq!(
        users.secret(app, user, "plain").await.unwrap().as_deref(),
        Some("v1:user")
    );
    assert_eq!(
        users.secret(app, user, "sealed").await.unwrap().as_deref(),
        Some("v1:abc")
    );
    let hooks = Scope::child("o1", "bot_id", "b1");
    let w1 = docs.get(&WEBHOOK, &hooks, "w1").await.unwrap().unwrap();
    assert_eq!(w1["secret"], "v1:hook");
    let w2 = docs.get(&WEBHOOK, &hooks, "w2").await.unwrap().unwrap();
    assert_eq!(w2["secret"], "v1:xyz");
    let rt = Runtimes::new(db.clone()).get(app).await.unwrap().unwrap();
    assert_eq!(rt.environment_variables, "v1:env");
}
