//! What happened in an application: one typed event per platform write (durable, kept in the
//! outbox) and the ephemeral signals of the real-time gateway (typing, presence), which only
//! travel over the bus. Stored as `type` + `payload`, the two halves of its serde form.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A message as its events carry it: enough to find it and to route it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRef {
    pub id: i64,
    pub channel_id: i64,
    pub thread_id: i64,
    pub seq: i64,
    pub r#type: String,
    pub user_id: Option<i64>,
    pub nested_level: i64,
    #[serde(default)]
    pub mentions: Value,
}

/// A channel as its events carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelRef {
    pub id: i64,
    pub r#type: String,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub creator_id: Option<i64>,
    #[serde(default)]
    pub properties: Value,
    pub created: i64,
    /// The members a channel was created with (on `channel.created`), or had when it was
    /// deleted (on `channel.deleted`: they are told).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_ids: Vec<i64>,
}

/// A user put on or taken off one of a channel's rosters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RosterChange {
    pub channel_id: i64,
    pub user_id: i64,
    pub username: String,
}

/// A chat user as its events carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRef {
    pub id: i64,
    pub name: String,
}

/// A user's reaction to a message, as its events carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReactionRef {
    pub message_id: i64,
    pub channel_id: i64,
    pub user_id: i64,
    /// The emoji's character (see `emoji::Emoji`).
    pub emoji: String,
    /// When the reaction was made, epoch milliseconds.
    pub created: i64,
}

/// A user's report of a message, as its events carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRef {
    pub message_id: i64,
    pub channel_id: i64,
    pub user_id: i64,
    pub reason: String,
    #[serde(default)]
    pub properties: Value,
    /// When the report was first made, epoch milliseconds.
    pub created: i64,
}

/// A STANDALONE thread as its events carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadRef {
    pub id: i64,
    pub channel_id: i64,
    pub name: Option<String>,
    /// Who opened it.
    pub user_id: Option<i64>,
}

/// One event. The serde tag is the event's name in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum Event {
    #[serde(rename = "message.created")]
    MessageCreated(MessageRef),
    #[serde(rename = "message.updated")]
    MessageUpdated(MessageRef),
    #[serde(rename = "message.deleted")]
    MessageDeleted(MessageRef),
    /// Every message of the application was deleted.
    #[serde(rename = "messages.deleted")]
    MessagesDeleted { count: u64 },
    /// Messages were imported into a channel's history (`POST /imports/messages`): one event
    /// per channel and batch, not one per message, and no notifications.
    #[serde(rename = "messages.imported")]
    MessagesImported { channel_id: i64, count: u64 },
    /// A user reacted to a message with an emoji (not again: a repeated reaction is no event).
    #[serde(rename = "message.reacted")]
    MessageReacted(ReactionRef),
    #[serde(rename = "message.reaction.removed")]
    MessageReactionRemoved(ReactionRef),
    /// A user reported a message, or reported it again with a new reason (one report a user).
    #[serde(rename = "message.reported")]
    MessageReported(ReportRef),
    #[serde(rename = "message.report.removed")]
    MessageReportRemoved(ReportRef),
    /// A user's read cursor moved up to `message_id`.
    #[serde(rename = "message.read")]
    MessageRead {
        message_id: i64,
        channel_id: i64,
        user_id: i64,
        seq: i64,
    },
    #[serde(rename = "channel.created")]
    ChannelCreated(ChannelRef),
    #[serde(rename = "channel.updated")]
    ChannelUpdated(ChannelRef),
    #[serde(rename = "channel.deleted")]
    ChannelDeleted(ChannelRef),
    #[serde(rename = "channel.member.added")]
    MemberAdded(RosterChange),
    #[serde(rename = "channel.member.removed")]
    MemberRemoved(RosterChange),
    #[serde(rename = "channel.moderator.added")]
    ModeratorAdded(RosterChange),
    #[serde(rename = "channel.moderator.removed")]
    ModeratorRemoved(RosterChange),
    #[serde(rename = "channel.invite.sent")]
    InviteSent(RosterChange),
    #[serde(rename = "channel.invite.removed")]
    InviteRemoved(RosterChange),
    /// A custom event `{type, properties}` sent to a channel.
    #[serde(rename = "channel.event.sent")]
    ChannelEventSent {
        channel_id: i64,
        r#type: String,
        properties: Value,
        #[serde(default)]
        user_id: Option<i64>,
    },
    /// Notifications were made for these users.
    #[serde(rename = "notifications.created")]
    NotificationsCreated { user_ids: Vec<i64> },
    #[serde(rename = "user.created")]
    UserCreated(UserRef),
    /// Display name, properties, presence status or guest flag changed.
    #[serde(rename = "user.updated")]
    UserUpdated(UserRef),
    /// The user and, with it, every message it had sent.
    #[serde(rename = "user.deleted")]
    UserDeleted(UserRef),
    #[serde(rename = "user.display_picture.updated")]
    DisplayPictureUpdated(UserRef),
    #[serde(rename = "user.secret.set")]
    SecretSet { user_id: i64, name: String },
    #[serde(rename = "user.secret.deleted")]
    SecretDeleted { user_id: i64, name: String },
    #[serde(rename = "application.settings.updated")]
    SettingsUpdated {
        guest_users: String,
        user_created_channels: String,
    },
    /// Someone is typing (ephemeral).
    #[serde(rename = "channel.keystrokes.sent")]
    Keystrokes {
        channel_id: i64,
        thread_id: Option<i64>,
        keys: String,
        user_id: i64,
        username: String,
    },
    /// A user went online or offline, or changed its status (ephemeral).
    #[serde(rename = "user.presence.changed")]
    PresenceChanged {
        user_id: i64,
        online: bool,
        status: String,
    },
    /// A user opened or left a chat session in a channel (ephemeral).
    #[serde(rename = "channel.participant.changed")]
    ParticipantChanged {
        channel_id: i64,
        user_id: i64,
        active: bool,
    },
    /// A user opened a chat session in a channel: durable, unlike the participant signal,
    /// because `user.started.chat_session` functions run from it.
    #[serde(rename = "chat_session.started")]
    ChatSessionStarted {
        chat_session_id: i64,
        channel_id: i64,
        user_id: i64,
    },
    /// A user moved its read cursor back to just before `message_id` (it reads as unread).
    #[serde(rename = "message.unread")]
    MessageUnread {
        message_id: i64,
        channel_id: i64,
        user_id: i64,
        seq: i64,
    },
    /// A user deleted a message for itself alone.
    #[serde(rename = "message.deleted_for_user")]
    MessageDeletedForUser {
        message_id: i64,
        channel_id: i64,
        user_id: i64,
    },
    /// A user changed its own settings of a channel: `muted`, `unmuted`, `hidden` or `cleared`.
    #[serde(rename = "channel.user_state.changed")]
    ChannelStateChanged {
        channel_id: i64,
        user_id: i64,
        change: String,
    },
    /// A named STANDALONE thread was opened in a channel.
    #[serde(rename = "thread.created")]
    ThreadCreated(ThreadRef),
    /// A user was blocked from writing to a channel (a channel block record).
    #[serde(rename = "channel.user.blocked")]
    ChannelUserBlocked(RosterChange),
    #[serde(rename = "channel.user.unblocked")]
    ChannelUserUnblocked(RosterChange),
    /// `user_id` put `blocked_id` on its block list.
    #[serde(rename = "user.blocked")]
    UserBlocked { user_id: i64, blocked_id: i64 },
    #[serde(rename = "user.unblocked")]
    UserUnblocked { user_id: i64, blocked_id: i64 },
    /// The application's Node.js runtime changed (`change`: `dependencies`,
    /// `environment_variables` or `initialization_script`) and is now at `version`. The values
    /// stay out of the event: environment variables are often secrets.
    #[serde(rename = "runtime.updated")]
    RuntimeUpdated {
        runtime_id: i64,
        version: String,
        change: String,
    },
    /// A chat function was created for the trigger `type`.
    #[serde(rename = "function.created")]
    FunctionCreated {
        function_id: i64,
        r#type: String,
        name: String,
    },
    /// A function version was deployed: it is the function's current version from now on.
    #[serde(rename = "function.version.created")]
    FunctionVersionCreated {
        function_id: i64,
        version_id: i64,
        version_number: i64,
    },
}

/// An event could not be read back from its stored form.
#[derive(Debug, thiserror::Error)]
#[error("event {kind} cannot be read: {reason}")]
pub struct EventDecodeError {
    pub kind: String,
    pub reason: String,
}

impl Event {
    /// Signals that are not durable facts: they go over the bus only, never into the outbox.
    pub fn is_ephemeral(&self) -> bool {
        matches!(
            self,
            Event::Keystrokes { .. }
                | Event::PresenceChanged { .. }
                | Event::ParticipantChanged { .. }
        )
    }

    /// The channel the event is about, if any: how subscribers of a channel are found.
    pub fn channel_id(&self) -> Option<i64> {
        match self {
            Event::MessageCreated(m) | Event::MessageUpdated(m) | Event::MessageDeleted(m) => {
                Some(m.channel_id)
            }
            Event::ChannelCreated(c) | Event::ChannelUpdated(c) | Event::ChannelDeleted(c) => {
                Some(c.id)
            }
            Event::MessageReacted(r) | Event::MessageReactionRemoved(r) => Some(r.channel_id),
            Event::MessageReported(r) | Event::MessageReportRemoved(r) => Some(r.channel_id),
            Event::MemberAdded(r)
            | Event::MemberRemoved(r)
            | Event::ModeratorAdded(r)
            | Event::ModeratorRemoved(r)
            | Event::InviteSent(r)
            | Event::InviteRemoved(r) => Some(r.channel_id),
            Event::MessageRead { channel_id, .. }
            | Event::ChannelEventSent { channel_id, .. }
            | Event::Keystrokes { channel_id, .. }
            | Event::ParticipantChanged { channel_id, .. }
            | Event::MessagesImported { channel_id, .. } => Some(*channel_id),
            Event::MessageUnread { channel_id, .. }
            | Event::MessageDeletedForUser { channel_id, .. }
            | Event::ChannelStateChanged { channel_id, .. } => Some(*channel_id),
            Event::ThreadCreated(t) => Some(t.channel_id),
            Event::ChannelUserBlocked(r) | Event::ChannelUserUnblocked(r) => Some(r.channel_id),
            _ => None,
        }
    }

    /// The event's name, as stored: `message.created`, `channel.member.added`, …
    pub fn name(&self) -> String {
        self.to_parts().0
    }

    /// The stored form: the event's name and its payload.
    pub fn to_parts(&self) -> (String, Value) {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut m)) => {
                let kind = match m.remove("type") {
                    Some(Value::String(s)) => s,
                    _ => String::new(),
                };
                (kind, m.remove("payload").unwrap_or(Value::Null))
            }
            // An enum of plain data always serialises to an object.
            _ => (String::new(), Value::Null),
        }
    }

    /// Reads an event back from its stored name and payload.
    pub fn from_parts(kind: &str, payload: Value) -> Result<Event, EventDecodeError> {
        let mut m = serde_json::Map::with_capacity(2);
        m.insert("type".into(), Value::String(kind.into()));
        m.insert("payload".into(), payload);
        serde_json::from_value(Value::Object(m)).map_err(|e| EventDecodeError {
            kind: kind.into(),
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stored_form_is_name_and_payload_and_reads_back() {
        let e = Event::MemberAdded(RosterChange {
            channel_id: 3,
            user_id: 4,
            username: "bob".into(),
        });
        let (kind, payload) = e.to_parts();
        assert_eq!(kind, "channel.member.added");
        assert_eq!(
            payload,
            json!({"channel_id": 3, "user_id": 4, "username": "bob"})
        );
        assert_eq!(Event::from_parts(&kind, payload).unwrap(), e);
        let (kind, payload) = Event::MessagesDeleted { count: 2 }.to_parts();
        assert_eq!(
            (kind.as_str(), payload),
            ("messages.deleted", json!({"count": 2}))
        );
    }

    #[test]
    fn reads_the_payloads_written_before_events_were_typed() {
        // message.created as the outbox held it: mentions may be absent.
        let e = Event::from_parts(
            "message.created",
            json!({"id": 1, "channel_id": 2, "thread_id": 3, "seq": 4, "type": "TEXT",
                   "user_id": null, "nested_level": 0}),
        )
        .unwrap();
        assert_eq!(e.channel_id(), Some(2));
        let e = Event::from_parts(
            "channel.created",
            json!({"id": 9, "type": "PUBLIC", "name": "g", "display_name": "G",
                   "creator_id": null, "properties": {}, "created": 5, "member_ids": [1, 2]}),
        )
        .unwrap();
        match e {
            Event::ChannelCreated(c) => assert_eq!(c.member_ids, [1, 2]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reactions_and_reports_have_names_and_channels() {
        let reaction = ReactionRef {
            message_id: 1,
            channel_id: 2,
            user_id: 3,
            emoji: "👍".into(),
            created: 4,
        };
        let e = Event::MessageReacted(reaction.clone());
        let (kind, payload) = e.to_parts();
        assert_eq!(kind, "message.reacted");
        assert_eq!(Event::from_parts(&kind, payload).unwrap(), e);
        assert_eq!(
            Event::MessageReactionRemoved(reaction).name(),
            "message.reaction.removed"
        );
        let report = Event::MessageReported(ReportRef {
            message_id: 1,
            channel_id: 5,
            user_id: 3,
            reason: "spam".into(),
            properties: json!({"k": 1}),
            created: 4,
        });
        assert_eq!(report.channel_id(), Some(5));
        let (kind, payload) = report.to_parts();
        assert_eq!(kind, "message.reported");
        assert_eq!(Event::from_parts(&kind, payload).unwrap(), report);
        assert!(!report.is_ephemeral());
    }

    #[test]
    fn function_events_have_names_and_no_channel() {
        let e = Event::FunctionVersionCreated {
            function_id: 1,
            version_id: 2,
            version_number: 3,
        };
        let (kind, payload) = e.to_parts();
        assert_eq!(kind, "function.version.created");
        assert_eq!(Event::from_parts(&kind, payload).unwrap(), e);
        assert_eq!(e.channel_id(), None);
        let e = Event::RuntimeUpdated {
            runtime_id: 1,
            version: "v0.0.2".into(),
            change: "dependencies".into(),
        };
        assert_eq!(e.name(), "runtime.updated");
        assert!(!e.is_ephemeral());
    }

    #[test]
    fn unknown_names_and_bad_payloads_are_errors() {
        let err = Event::from_parts("no.such.event", json!({})).unwrap_err();
        assert_eq!(err.kind, "no.such.event");
        assert!(Event::from_parts("messages.deleted", json!({"count": "x"})).is_err());
    }

    #[test]
    fn typing_and_presence_are_ephemeral_and_writes_are_not() {
        let typing = Event::Keystrokes {
            channel_id: 1,
            thread_id: None,
            keys: "he".into(),
            user_id: 2,
            username: "a".into(),
        };
        assert!(typing.is_ephemeral());
        assert!(!Event::MessagesDeleted { count: 0 }.is_ephemeral());
    }
}
