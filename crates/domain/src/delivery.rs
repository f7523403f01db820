//! Delivering flakes: the events a flake's writes raise, and the content models of a bot's
//! webhook endpoints and their delivery log.

use crate::model::{Field, Kind::*, Model, Relation, RelationKind::*};

/// What happened to a flake, as webhooks name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlakeEvent {
    /// It became `publish` (by hand, by its schedule or by a channel run).
    Published,
    /// Any other change of it.
    Updated,
    Deleted,
}

impl FlakeEvent {
    pub const ALL: [FlakeEvent; 3] = [
        FlakeEvent::Published,
        FlakeEvent::Updated,
        FlakeEvent::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FlakeEvent::Published => "flake.published",
            FlakeEvent::Updated => "flake.updated",
            FlakeEvent::Deleted => "flake.deleted",
        }
    }

    pub fn parse(s: &str) -> Option<FlakeEvent> {
        FlakeEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// The status a published flake has.
pub const PUBLISHED: &str = "publish";

/// A delivery waiting for its (next) attempt.
pub const DELIVERY_PENDING: &str = "pending";
/// The endpoint answered 2xx.
pub const DELIVERY_DELIVERED: &str = "delivered";
/// Every attempt failed: `last_error` says how the last one did.
pub const DELIVERY_FAILED: &str = "failed";

const BELONGS_TO_BOT: &[Relation] = &[Relation {
    name: "bot",
    kind: BelongsTo,
    target: "bot",
    key: "bot_id",
}];

/// A bot's webhook endpoint: `/api/bots/{id}/webhooks`. The secret is written, never shown.
pub static WEBHOOK: Model = Model {
    name: "webhooks",
    table: "webhooks",
    fields: &[
        Field::w("url", Text),
        Field::w("events", TextArray),
        Field::secret("secret"),
        Field::w("active", Bool),
        Field::r("bot_id", Text),
        Field::r("id", Id),
        Field::r("created", Date),
        Field::r("modified", Date),
    ],
    relations: BELONGS_TO_BOT,
};

/// One event sent (or being sent) to one endpoint: `/api/bots/{id}/webhooks/{fk}/deliveries`.
pub static WEBHOOK_DELIVERY: Model = Model {
    name: "deliveries",
    table: "webhook_deliveries",
    fields: &[
        Field::r("event", Text),
        Field::r("flake_id", Text),
        Field::r("status", Text),
        Field::r("attempts", Int),
        Field::r("response_status", Int),
        Field::r("last_error", Text),
        Field::r("payload", Json),
        Field::r("delivered_at", Date),
        Field::r("webhook_id", Text),
        Field::r("bot_id", Text),
        Field::r("id", Id),
        Field::r("created", Date),
        Field::r("modified", Date),
    ],
    relations: BELONGS_TO_BOT,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_their_names() {
        for e in FlakeEvent::ALL {
            assert_eq!(FlakeEvent::parse(e.as_str()), Some(e));
        }
        assert_eq!(FlakeEvent::parse("flake.eaten"), None);
    }
}
