//! Flakes posted into chat channels by their bot's chat user. The post is claimed (one row per
//! flake and channel) in the transaction that writes the message and its `message.created`
//! event, so a flake reaches a channel exactly once, whatever retries or re-publishes follow.

use std::collections::HashMap;

use palaver_domain::platform::event::Event;
use palaver_store::platform::{MessageRow, NewEvent};
use palaver_store::FlakePosts;
use serde_json::Value;

use super::messages::{message_ref, parse_body};
use super::send_queue::{insert_sends, NewSend};
use super::{AppPrincipal, Platform};
use crate::error::Result;

impl Platform {
    /// Posts flake `flake_id` as chat user `user_id` into channel `channel_id` of the caller's
    /// application, with `body` and `properties`; answers the new message's id, or `None` when
    /// the flake was posted there before or the channel is gone. The application chose the
    /// channel by subscribing it, so the bot needs no membership.
    pub(crate) async fn post_flake(
        &self,
        p: &AppPrincipal,
        channel_id: i64,
        user_id: i64,
        flake_id: &str,
        body: &str,
        properties: &Value,
    ) -> Result<Option<i64>> {
        if self
            .channels
            .get(p.application_id, channel_id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let now = self.now();
        // Links are marked as in any message; names are not mentions (the text is content,
        // not a conversation), so no `@` in a flake notifies anyone.
        let links = parse_body(body, &HashMap::new()).links;
        let message = MessageRow {
            id: 0,
            application_id: p.application_id,
            channel_id,
            thread_id: 0,
            seq: 0,
            app_seq: 0,
            r#type: "TEXT".into(),
            user_id: Some(user_id),
            body: Some(body.to_string()),
            file: None,
            group_tag: None,
            properties: properties.clone(),
            mentions: Value::Array(Vec::new()),
            links,
            nested_level: 0,
            created: now,
            last_edited: None,
        };
        let mut tx = self.db.begin().await?;
        if !FlakePosts::claim(&mut tx, flake_id, channel_id, p.application_id, now).await? {
            return Ok(None);
        }
        let send = NewSend {
            message,
            thread: None,
        };
        let (rows, _) = insert_sends(&mut tx, std::slice::from_ref(&send), now).await?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        FlakePosts::set_message(&mut tx, flake_id, channel_id, row.id).await?;
        let event = NewEvent {
            application_id: p.application_id,
            event: Event::MessageCreated(message_ref(&row)),
            created: now,
        };
        self.commit_all(tx, vec![event]).await?;
        Ok(Some(row.id))
    }
}
