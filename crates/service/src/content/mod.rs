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
