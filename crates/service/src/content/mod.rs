//! The content API's use-cases: organisations, accounts, bots and the bot content (flakes, tags,
//! categories, channels). Resources are JSON documents shaped by their [`Model`]; this module
//! owns what a caller may see (presentation, projection, include) and may change (rules).

mod bots;
mod children;
mod delivery;
mod feeds;
mod include;
mod input;
mod organisations;
mod rules;
mod schedule;
mod stock;
mod users;
mod webhooks;

use palaver_domain::filter::Projection;
use palaver_domain::{DomainError, Model};
use palaver_store::{Documents, Scope, Tokens};
use serde_json::{Map, Value};

pub use children::ChildModel;
pub use delivery::{
    signature, ChatPostJob, WebhookJob, WebhookOutcome, DELIVERY_HEADER, EVENT_HEADER,
    SIGNATURE_HEADER,
};
pub use feeds::ChannelRunJob;
pub use schedule::PublishJob;
pub use stock::{OrgRelation, TopModel};

use crate::jobs::JobQueue;
use crate::principal::Principal;

/// A presented document: hidden fields removed, nulls omitted, projection applied.
pub type Doc = Map<String, Value>;

/// Bot-user profile fields that LoopBack shows as `null` rather than omitting them.
const BOT_PROFILE_FIELDS: &[&str] = &[
    "bot_id",
    "platform",
    "displayName",
    "profilePic",
    "bot",
    "url",
    "type",
    "quiz_sets",
    "read_stories",
    "context_session",
    "level",
    "user_id",
];

/// Shapes a stored document for output: fields in model order, hidden ones never, nulls omitted
/// (bot users keep their profile fields even when null, as the seed shows), projection applied.
pub fn present(model: &Model, doc: &Map<String, Value>, projection: Option<&Projection>) -> Doc {
    let bot_user =
        model.name == "user" && doc.get("role").and_then(Value::as_str) == Some("customer");
    let mut out = Map::with_capacity(model.fields.len());
    for f in model.fields {
        if f.hidden {
            continue;
        }
        let v = doc.get(f.name).unwrap_or(&Value::Null);
        if v.is_null() && !(bot_user && BOT_PROFILE_FIELDS.contains(&f.name)) {
            continue;
        }
        if projection.is_some_and(|p| !p.keeps(f.name)) {
            continue;
        }
        out.insert(f.name.to_string(), v.clone());
    }
    out
}

/// As [`present`], taking the document: when its entries are the model's fields in model order
/// (as the store reads every row), the shown values stay where they are and the rest are
/// dropped, instead of each key and value being copied into a new map.
pub fn present_owned(model: &Model, mut doc: Doc, projection: Option<&Projection>) -> Doc {
    let in_model_order =
        doc.len() == model.fields.len() && doc.keys().zip(model.fields).all(|(k, f)| k == f.name);
    if !in_model_order {
        return present(model, &doc, projection);
    }
    let bot_user =
        model.name == "user" && doc.get("role").and_then(Value::as_str) == Some("customer");
    let mut fields = model.fields.iter();
    doc.retain(|_, v| {
        let Some(f) = fields.next() else {
            return false;
        };
        !f.hidden
            && (!v.is_null() || (bot_user && BOT_PROFILE_FIELDS.contains(&f.name)))
            && projection.is_none_or(|p| p.keeps(f.name))
    });
    doc
}

/// The content use-cases.
#[derive(Debug, Clone)]
pub struct Content {
    docs: Documents,
    tokens: Tokens,
    bcrypt_cost: u32,
    /// Where scheduled flakes' publish jobs go. Its clock is the content's time, so tests
    /// move both together.
    jobs: JobQueue,
    /// Where published flakes go: the platform's chat and the bots' webhooks.
    delivery: delivery::Delivery,
    /// What content channels fetch their feeds with.
    fetcher: crate::fetch::Fetcher,
    /// Seals webhook endpoints' secrets, which are kept to sign deliveries.
    sealer: crate::secrets::Sealer,
}

impl Content {
    pub fn new(
        docs: Documents,
        tokens: Tokens,
        bcrypt_cost: u32,
        jobs: JobQueue,
        sealer: crate::secrets::Sealer,
    ) -> Self {
        Self {
            docs,
            tokens,
            bcrypt_cost,
            jobs,
            delivery: Default::default(),
            fetcher: crate::fetch::Fetcher::new(Default::default()),
            sealer,
        }
    }

    /// With channels' feeds fetched under `limits`.
    pub fn with_fetch_limits(mut self, limits: crate::fetch::FetchLimits) -> Self {
        self.fetcher = crate::fetch::Fetcher::new(limits);
        self
    }

    /// Now on the service clock, in epoch milliseconds.
    pub(crate) fn now(&self) -> i64 {
        self.jobs.clock().now_millis()
    }

    /// Gives a new document its id and timestamps.
    pub(crate) fn stamp_new(&self, doc: &mut Map<String, Value>) -> String {
        let id = palaver_domain::id::new_object_id();
        let now = Value::String(palaver_domain::time::format_millis(self.now()));
        doc.insert("id".into(), Value::String(id.clone()));
        doc.insert("created".into(), now.clone());
        doc.insert("modified".into(), now);
        id
    }

    /// Marks a change set as made now.
    fn touch(&self, changes: &mut Map<String, Value>) {
        let now = palaver_domain::time::format_millis(self.now());
        changes.insert("modified".into(), Value::String(now));
    }

    /// The caller's own organisation, or a miss shaped by `missing` when `org_id` is another.
    fn own_org<'a>(
        &self,
        p: &'a Principal,
        org_id: &str,
        missing: impl FnOnce() -> DomainError,
    ) -> Result<Scope<'a>, DomainError> {
        if p.organisation_id == org_id {
            Ok(Scope::org(&p.organisation_id))
        } else {
            Err(missing())
        }
    }
}

impl Content {
    /// True when another row than `own_id` in `scope` has `value` in the text field `field`
    /// (the uniqueness rules: slugs per bot, emails and usernames per organisation).
    async fn taken(
        &self,
        model: &'static Model,
        scope: &Scope<'_>,
        field: &str,
        value: &str,
        own_id: Option<&str>,
    ) -> crate::error::Result<bool> {
        let field = model.any_field(field).ok_or_else(DomainError::internal)?;
        let same = palaver_domain::filter::Filter {
            r#where: palaver_domain::filter::Where::Test {
                field,
                test: palaver_domain::filter::Test::Eq(palaver_domain::filter::Scalar::Text(
                    value.to_string(),
                )),
            },
            ..Default::default()
        };
        let rows = self.docs.find_shared(model, scope, &same).await?;
        Ok(rows
            .iter()
            .any(|r| r.get("id").and_then(Value::as_str) != own_id))
    }
}

/// `{"count": n}`, LoopBack's answer to count and delete.
pub fn count_body(n: u64) -> Value {
    serde_json::json!({ "count": n })
}

#[cfg(test)]
mod presenting {
    use palaver_domain::models;
    use serde_json::json;

    use super::*;

    /// A document as the store reads it: every field of the model, in model order.
    fn stored(model: &Model, values: Value) -> Doc {
        model
            .fields
            .iter()
            .map(|f| {
                (
                    f.name.to_string(),
                    values.get(f.name).cloned().unwrap_or(Value::Null),
                )
            })
            .collect()
    }

    #[test]
    fn presenting_in_place_shows_what_presenting_a_copy_shows() {
        let customer = stored(
            &models::USER,
            json!({"id": "u1", "email": "a@b.c", "password": "$2b$hash", "role": "customer",
                   "realm": null}),
        );
        let admin = stored(
            &models::USER,
            json!({"id": "u2", "email": "d@e.f", "password": "$2b$hash", "role": "admin"}),
        );
        let flake = stored(
            &models::FLAKE,
            json!({"id": "f1", "title": "t", "status": "publish", "tags": ["a"]}),
        );
        let only = Projection::Only(vec!["id".into(), "status".into()]);
        let except = Projection::Except(vec!["title".into()]);
        for (model, doc) in [
            (&models::USER, &customer),
            (&models::USER, &admin),
            (&models::FLAKE, &flake),
        ] {
            for projection in [None, Some(&only), Some(&except)] {
                let copied = present(model, doc, projection);
                let in_place = present_owned(model, doc.clone(), projection);
                assert_eq!(
                    serde_json::to_string(&in_place).unwrap(),
                    serde_json::to_string(&copied).unwrap(),
                    "{} {projection:?}",
                    model.name
                );
            }
        }
        // Hidden fields never show; a customer keeps its null profile fields, an admin not.
        let shown = present_owned(&models::USER, customer, None);
        assert!(!shown.contains_key("password"));
        assert_eq!(shown.get("bot_id"), Some(&Value::Null));
        assert!(!present_owned(&models::USER, admin, None).contains_key("bot_id"));
        // The projection's fields, in the model's order (a flake declares `status` first).
        let projected = present_owned(&models::FLAKE, flake, Some(&only));
        assert_eq!(projected.keys().collect::<Vec<_>>(), ["status", "id"]);
    }

    #[test]
    fn a_document_out_of_model_order_is_presented_as_a_copy_in_model_order() {
        let mut doc = Doc::new();
        doc.insert("status".into(), json!("publish"));
        doc.insert("unknown".into(), json!(1));
        doc.insert("id".into(), json!("f1"));
        let shown = present_owned(&models::FLAKE, doc.clone(), None);
        assert_eq!(shown, present(&models::FLAKE, &doc, None));
        assert_eq!(shown.keys().collect::<Vec<_>>(), ["status", "id"]);
    }
}
