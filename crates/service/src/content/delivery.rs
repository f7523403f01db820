//! Delivering flakes. Every write of a flake raises its event here, inside the write's
//! transaction ([`Content::enqueue_flake_events`]): a published flake of a bot linked to a
//! platform application gets a FLAKE_CHAT_POST job (its BOT chat user posts the flake as a card
//! into the application's channels that subscribe to one of its categories), and each of the
//! bot's webhook endpoints that wants the event gets a delivery log row and a WEBHOOK_DELIVERY
//! job (a signed JSON POST, retried with back-off). This module also owns the link itself: a
//! bot's `application_id` and the BOT chat user it creates.

use hmac::{Hmac, Mac};
use palaver_domain::delivery::{
    FlakeEvent, DELIVERY_DELIVERED, DELIVERY_FAILED, DELIVERY_PENDING, PUBLISHED, WEBHOOK,
    WEBHOOK_DELIVERY,
};
use palaver_domain::filter::Filter;
use palaver_domain::job::JobKind;
use palaver_domain::time::format_millis;
use palaver_domain::validation::Validation;
use palaver_domain::{models, DomainError, ErrorCode};
use palaver_store::{DocumentsIn, FlakePosts, Scope, Tx};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use super::{present, Content};
use crate::error::Result;
use crate::fetch::{FetchLimits, Fetcher};
use crate::platform::{NewUserInput, Platform};
use crate::principal::Principal;
use crate::AppPrincipal;

/// The header that carries a delivery's signature: `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "X-Palaver-Signature";
/// The header that names the event (`flake.published`…).
pub const EVENT_HEADER: &str = "X-Palaver-Event";
/// The header that carries the delivery's id, the same on every attempt.
pub const DELIVERY_HEADER: &str = "X-Palaver-Delivery";

/// What delivering needs beyond the content store: the platform (chat users and messages)
/// and the guarded HTTP client. A content service without a platform (the operator's CLI)
/// enqueues deliveries but cannot link bots or run the jobs.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    platform: Option<Platform>,
    client: Fetcher,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            platform: None,
            client: Fetcher::new(FetchLimits::webhooks(false)),
        }
    }
}

/// A FLAKE_CHAT_POST job's payload: a flake published by a bot linked to an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatPostJob {
    pub organisation_id: String,
    pub bot_id: String,
    pub flake_id: String,
    pub application_id: i64,
}

/// A WEBHOOK_DELIVERY job's payload: one delivery log row of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookJob {
    pub organisation_id: String,
    pub bot_id: String,
    pub webhook_id: String,
    pub delivery_id: String,
}

/// How one attempt of a webhook delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// The endpoint answered 2xx with this status.
    Delivered(u16),
    /// It failed in a way that may pass; the log says pending unless this was the last try.
    Retry(String),
    /// It failed for good (the guard refused the address, or no try is left).
    Failed(String),
    /// The endpoint, the delivery or the bot is gone, or it was delivered already.
    Gone,
}

/// `sha256=<hex>`: the HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!("sha256={}", hex::encode(digest))
}

fn bot_scope<'a>(org: &'a str, bot_id: &'a str) -> Scope<'a> {
    Scope::child(org, "bot_id", bot_id)
}

fn text<'a>(doc: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(Value::as_str)
}

/// The name of a bot's chat user: unique in the application, and the same on every link.
fn chat_user_name(bot_id: &str) -> String {
    format!("bot-{bot_id}")
}

/// The event a write of a flake raises: `before` as stored (`None` for a new flake), `after`
/// as written. A flake that becomes `publish` is published; any other change of a stored one
/// is an update; a new flake that is not published raises nothing.
pub(crate) fn flake_event(
    before: Option<&Map<String, Value>>,
    after: &Map<String, Value>,
) -> Option<FlakeEvent> {
    let published = |d: &Map<String, Value>| text(d, "status") == Some(PUBLISHED);
    match before {
        None => published(after).then_some(FlakeEvent::Published),
        Some(b) if published(after) && !published(b) => Some(FlakeEvent::Published),
        Some(_) => Some(FlakeEvent::Updated),
    }
}

/// The message a flake becomes in a chat channel: its title and description as the body, and
/// the whole flake (bullet points, buttons, image) in `properties.flake` for a card.
fn chat_message(flake: &Map<String, Value>) -> (String, Value) {
    let parts: Vec<&str> = [text(flake, "title"), text(flake, "description")]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let shown = present(&models::FLAKE, flake, None);
    (parts.join("\n\n"), json!({ "flake": shown }))
}

impl Content {
    /// This content service, able to link bots to applications of `platform` and to run
    /// delivery jobs, its webhooks calling out under `limits`.
    pub fn with_delivery(mut self, platform: Platform, limits: FetchLimits) -> Self {
        self.delivery = Delivery {
            platform: Some(platform),
            client: Fetcher::new(limits),
        };
        self
    }

    fn platform(&self) -> Result<&Platform> {
        self.delivery.platform.as_ref().ok_or_else(|| {
            DomainError::new(
                ErrorCode::BadRequest,
                "Linking bots to applications needs the running server",
            )
            .into()
        })
    }

    /// Whether webhook URLs may name private, loopback and link-local addresses.
    pub(crate) fn webhooks_allow_private(&self) -> bool {
        self.delivery.client.allows_private()
    }

    /// Raises `event` for `flake` (as written, with its id; as it was, for a delete) of
    /// `bot_id`, inside `tx`, the transaction of the write: a chat post job when a linked
    /// bot's flake is published, and a logged delivery job per webhook endpoint that wants
    /// the event. Answers how many jobs were enqueued; call [`Content::wake_workers`] after
    /// `tx` commits when there were any.
    pub async fn enqueue_flake_events(
        &self,
        tx: &mut Tx,
        organisation_id: &str,
        bot_id: &str,
        flake: &Map<String, Value>,
        event: FlakeEvent,
    ) -> Result<usize> {
        let Some(flake_id) = text(flake, "id") else {
            return Err(crate::error::internal("a published flake has no id").into());
        };
        let mut enqueued = 0;
        if event == FlakeEvent::Published {
            let bot = self
                .docs
                .get(&models::BOT, &Scope::org(organisation_id), bot_id)
                .await?;
            if let Some(app) = bot
                .as_ref()
                .and_then(|b| b.get("application_id"))
                .and_then(Value::as_i64)
            {
                let job = ChatPostJob {
                    organisation_id: organisation_id.to_string(),
                    bot_id: bot_id.to_string(),
                    flake_id: flake_id.to_string(),
                    application_id: app,
                };
                let payload = serde_json::to_value(&job).map_err(crate::error::internal)?;
                self.jobs
                    .enqueue(tx, None, JobKind::FlakeChatPost, payload, None)
                    .await?;
                enqueued += 1;
            }
        }
        let hooks = self
            .docs
            .find_shared(
                &WEBHOOK,
                &bot_scope(organisation_id, bot_id),
                &Filter::default(),
            )
            .await?;
        let now = self.now();
        for hook in hooks.iter() {
            let wants = hook
                .get("events")
                .and_then(Value::as_array)
                .is_some_and(|l| l.iter().any(|e| e.as_str() == Some(event.as_str())));
            let active = hook.get("active").and_then(Value::as_bool) != Some(false);
            let Some(webhook_id) = text(hook, "id").filter(|_| wants && active) else {
                continue;
            };
            let delivery_id = palaver_domain::id::new_object_id();
            let payload = json!({
                "id": delivery_id,
                "event": event.as_str(),
                "bot_id": bot_id,
                "flake": present(&models::FLAKE, flake, None),
            });
            let mut row = Map::new();
            for (k, v) in [
                ("id", json!(delivery_id)),
                ("event", json!(event.as_str())),
                ("flake_id", json!(flake_id)),
                ("status", json!(DELIVERY_PENDING)),
                ("attempts", json!(0)),
                ("payload", payload),
                ("bot_id", json!(bot_id)),
                ("created", json!(now)),
                ("modified", json!(now)),
            ] {
                row.insert(k.into(), v);
            }
            let scope = Scope::child(organisation_id, "webhook_id", webhook_id);
            DocumentsIn::insert(tx, &WEBHOOK_DELIVERY, &scope, &row).await?;
            let job = WebhookJob {
                organisation_id: organisation_id.to_string(),
                bot_id: bot_id.to_string(),
                webhook_id: webhook_id.to_string(),
                delivery_id,
            };
            let payload = serde_json::to_value(&job).map_err(crate::error::internal)?;
            self.jobs
                .enqueue(tx, None, JobKind::WebhookDelivery, payload, None)
                .await?;
            enqueued += 1;
        }
        Ok(enqueued)
    }

    /// Deletes flake `id` of `bot_id` with its `flake.deleted` deliveries, in one
    /// transaction; false when there was no such flake.
    pub(crate) async fn delete_flake(&self, org: &str, bot_id: &str, id: &str) -> Result<bool> {
        let scope = bot_scope(org, bot_id);
        let Some(flake) = self.docs.get(&models::FLAKE, &scope, id).await? else {
            return Ok(false);
        };
        let mut write = self.docs.begin_write().await?;
        let deleted = write.delete(&models::FLAKE, &scope, id).await?;
        let mut enqueued = 0;
        if deleted {
            enqueued = self
                .enqueue_flake_events(write.tx(), org, bot_id, &flake, FlakeEvent::Deleted)
                .await?;
        }
        write.commit().await?;
        if enqueued > 0 {
            self.wake_workers();
        }
        Ok(deleted)
    }

    /// Deletes every flake of `bot_id`, each with its `flake.deleted` deliveries, in one
    /// transaction.
    pub(crate) async fn delete_flakes(&self, org: &str, bot_id: &str) -> Result<()> {
        let scope = bot_scope(org, bot_id);
        let flakes = self
            .docs
            .find(&models::FLAKE, &scope, &Filter::default())
            .await?;
        let mut write = self.docs.begin_write().await?;
        let mut enqueued = 0;
        for flake in &flakes {
            let Some(id) = text(flake, "id") else {
                continue;
            };
            if write.delete(&models::FLAKE, &scope, id).await? {
                enqueued += self
                    .enqueue_flake_events(write.tx(), org, bot_id, flake, FlakeEvent::Deleted)
                    .await?;
            }
        }
        write.commit().await?;
        if enqueued > 0 {
            self.wake_workers();
        }
        Ok(())
    }

    /// Links a bot being written to the application `doc.application_id` names (or unlinks
    /// it, for `null`): the application must be one of the caller's organisation, and the
    /// bot's BOT chat user is created there (or found again) and kept in `chat_user_id`.
    /// `current` is the bot as stored, `None` for a new one.
    pub(crate) async fn link_application(
        &self,
        p: &Principal,
        bot_id: &str,
        current: Option<&Map<String, Value>>,
        doc: &mut Map<String, Value>,
    ) -> Result<()> {
        let Some(wanted) = doc.get("application_id").cloned() else {
            return Ok(());
        };
        let was = current.and_then(|c| c.get("application_id")).cloned();
        if was.as_ref() == Some(&wanted) && current.and_then(|c| c.get("chat_user_id")).is_some() {
            return Ok(());
        }
        let Some(app) = wanted.as_i64() else {
            doc.insert("chat_user_id".into(), Value::Null);
            return Ok(());
        };
        let platform = self.platform()?;
        let ap = AppPrincipal {
            application_id: app,
            organisation_id: p.organisation_id.clone(),
        };
        if platform.application(&ap).await.is_err() {
            let mut v = Validation::new(models::BOT.name);
            v.fail(
                "application_id",
                "exists",
                "is not an application of the bot's organisation",
                Some(&wanted),
            );
            v.finish()?;
        }
        let name = chat_user_name(bot_id);
        let existing = platform.users_named(&ap, &[name.as_str()]).await?;
        let user_id = match existing.get(&name) {
            Some(u) => u.id,
            None => {
                let display = current
                    .and_then(|c| text(c, "name"))
                    .or_else(|| text(doc, "name"))
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or("Bot");
                let body = json!({
                    "name": name,
                    "display_name": display,
                    "type": "BOT",
                    "properties": {"bot_id": bot_id},
                });
                platform
                    .create_user(&ap, NewUserInput::from_body(&body)?)
                    .await?
                    .id
            }
        };
        doc.insert("chat_user_id".into(), json!(user_id));
        Ok(())
    }

    /// Runs a FLAKE_CHAT_POST job: the bot's chat user posts the flake, once, into each
    /// channel of the application that subscribes to one of its categories (by id or slug).
    /// Answers the ids of the messages posted now; nothing when the flake is no longer
    /// published or the bot no longer linked to that application.
    pub async fn post_flake_to_chat(&self, job: &ChatPostJob) -> Result<Vec<i64>> {
        let platform = self.platform()?;
        let org = job.organisation_id.as_str();
        let Some(bot) = self
            .docs
            .get(&models::BOT, &Scope::org(org), &job.bot_id)
            .await?
        else {
            return Ok(Vec::new());
        };
        let linked = bot.get("application_id").and_then(Value::as_i64);
        let user = bot.get("chat_user_id").and_then(Value::as_i64);
        let (Some(user), true) = (user, linked == Some(job.application_id)) else {
            return Ok(Vec::new());
        };
        let scope = bot_scope(org, &job.bot_id);
        let Some(flake) = self.docs.get(&models::FLAKE, &scope, &job.flake_id).await? else {
            return Ok(Vec::new());
        };
        if text(&flake, "status") != Some(PUBLISHED) {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = flake
            .get("category")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let mut keys = ids.clone();
        for id in &ids {
            if let Some(slug) = self
                .docs
                .get(&models::CATEGORY, &scope, id)
                .await?
                .as_ref()
                .and_then(|c| text(c, "slug"))
                .filter(|s| !s.is_empty())
            {
                keys.push(slug.to_string());
            }
        }
        let channels =
            FlakePosts::subscribed_channels(self.docs.db(), job.application_id, &keys).await?;
        let (body, properties) = chat_message(&flake);
        let ap = AppPrincipal {
            application_id: job.application_id,
            organisation_id: org.to_string(),
        };
        let mut posted = Vec::new();
        for channel in channels {
            if let Some(id) = platform
                .post_flake(&ap, channel, user, &job.flake_id, &body, &properties)
                .await?
            {
                posted.push(id);
            }
        }
        Ok(posted)
    }

    /// Runs attempt `attempt` of a WEBHOOK_DELIVERY job (`last` when no other will follow):
    /// POSTs the delivery's payload, signed, to its endpoint and logs the outcome on the
    /// delivery row.
    pub async fn deliver_webhook(
        &self,
        job: &WebhookJob,
        attempt: i64,
        last: bool,
    ) -> Result<WebhookOutcome> {
        let org = job.organisation_id.as_str();
        let scope = Scope::child(org, "webhook_id", &job.webhook_id);
        let Some(delivery) = self
            .docs
            .get(&WEBHOOK_DELIVERY, &scope, &job.delivery_id)
            .await?
        else {
            return Ok(WebhookOutcome::Gone);
        };
        let Some(hook) = self
            .docs
            .get(&WEBHOOK, &bot_scope(org, &job.bot_id), &job.webhook_id)
            .await?
        else {
            return Ok(WebhookOutcome::Gone);
        };
        if text(&delivery, "status") != Some(DELIVERY_PENDING) {
            return Ok(WebhookOutcome::Gone);
        }
        let (Some(url), Some(sealed)) = (text(&hook, "url"), text(&hook, "secret")) else {
            return Ok(WebhookOutcome::Gone);
        };
        let row = super::webhooks::webhook_secret_row(org, &job.bot_id, &job.webhook_id);
        let secret = self
            .sealer
            .open_text(sealed, &crate::secrets::place(&row))
            .map_err(|e| crate::secrets::unopened(&row, e))?;
        let secret = secret.as_str();
        let now = self.now();
        let mut body = delivery.get("payload").cloned().unwrap_or(Value::Null);
        if let Some(obj) = body.as_object_mut() {
            // The time of this attempt; the rest of the body is the same on every one.
            obj.insert("delivered_at".into(), json!(format_millis(now)));
        }
        let bytes = serde_json::to_vec(&body).map_err(crate::error::internal)?;
        let event = text(&delivery, "event").unwrap_or_default().to_string();
        let headers = [
            (SIGNATURE_HEADER, signature(secret, &bytes)),
            (EVENT_HEADER, event),
            (DELIVERY_HEADER, job.delivery_id.clone()),
        ];
        let sent = self.delivery.client.post_json(url, &headers, bytes).await;
        let mut log = Map::new();
        log.insert("attempts".into(), json!(attempt));
        log.insert("modified".into(), json!(now));
        let outcome = match sent {
            Ok(res) if (200..300).contains(&res.status) => {
                log.insert("response_status".into(), json!(res.status));
                log.insert("status".into(), json!(DELIVERY_DELIVERED));
                log.insert("last_error".into(), Value::Null);
                log.insert("delivered_at".into(), json!(now));
                WebhookOutcome::Delivered(res.status)
            }
            Ok(res) => {
                log.insert("response_status".into(), json!(res.status));
                let snippet: String = String::from_utf8_lossy(&res.body)
                    .chars()
                    .take(200)
                    .collect();
                let error = if snippet.trim().is_empty() {
                    format!("the endpoint answered HTTP {}", res.status)
                } else {
                    format!(
                        "the endpoint answered HTTP {}: {}",
                        res.status,
                        snippet.trim()
                    )
                };
                retry_or_fail(&mut log, error, last)
            }
            Err(e) => {
                let refused = e.is_refusal();
                retry_or_fail(&mut log, e.to_string(), last || refused)
            }
        };
        self.docs
            .update(&WEBHOOK_DELIVERY, &scope, &job.delivery_id, &log)
            .await?;
        Ok(outcome)
    }
}

/// Logs a failed attempt: pending while another will follow, else failed.
fn retry_or_fail(log: &mut Map<String, Value>, error: String, last: bool) -> WebhookOutcome {
    log.insert("last_error".into(), json!(error));
    if last {
        log.insert("status".into(), json!(DELIVERY_FAILED));
        WebhookOutcome::Failed(error)
    } else {
        log.insert("status".into(), json!(DELIVERY_PENDING));
        WebhookOutcome::Retry(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hex_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_flake_becomes_a_card_message() {
        let flake = json!({"id": "f1", "title": "Title", "description": " Text ",
            "bullet_points": [{"type": "text", "text": "a",
                "button": [{"name": "Go", "action": "https://x"}]}],
            "status": "publish"});
        let flake = flake.as_object().cloned().unwrap_or_default();
        let (body, props) = chat_message(&flake);
        assert_eq!(body, "Title\n\nText");
        assert_eq!(props["flake"]["id"], "f1");
        assert_eq!(
            props["flake"]["bullet_points"][0]["button"][0]["name"],
            "Go"
        );
    }
}
