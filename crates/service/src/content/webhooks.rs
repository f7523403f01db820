//! A bot's webhook endpoints, served as a LoopBack hasMany relation under the bot
//! (`/bots/{id}/webhooks`), and each endpoint's delivery log (`…/webhooks/{fk}/deliveries`).
//! The secret is written, never shown: every delivery is signed with it, so it is kept sealed
//! (bound to its endpoint, see `crate::secrets`) rather than as a one-way digest.

use palaver_domain::delivery::{FlakeEvent, WEBHOOK, WEBHOOK_DELIVERY};
use palaver_domain::filter::{Filter, Where};
use palaver_domain::validation::Validation;
use palaver_domain::DomainError;
use palaver_store::{Scope, SecretRow};
use serde_json::{Map, Value};

use super::{input, Content, Doc};
use crate::error::Result;
use crate::fetch::check_url;
use crate::principal::Principal;

/// Secrets shorter than this are refused: the signature is only as strong as its key.
const MIN_SECRET_CHARS: usize = 16;

fn bot_scope<'a>(p: &'a Principal, bot_id: &'a str) -> Scope<'a> {
    Scope::child(&p.organisation_id, "bot_id", bot_id)
}

impl Content {
    pub async fn list_webhooks(
        &self,
        p: &Principal,
        bot_id: &str,
        filter: &Filter,
    ) -> Result<Vec<Doc>> {
        self.require_bot(p, bot_id).await?;
        let rows = self
            .docs
            .find_shared(&WEBHOOK, &bot_scope(p, bot_id), filter)
            .await?;
        self.render(&p.organisation_id, &WEBHOOK, &rows, filter)
            .await
    }

    pub async fn count_webhooks(&self, p: &Principal, bot_id: &str, w: &Where) -> Result<u64> {
        self.require_bot(p, bot_id).await?;
        Ok(self.docs.count(&WEBHOOK, &bot_scope(p, bot_id), w).await?)
    }

    pub async fn get_webhook(
        &self,
        p: &Principal,
        bot_id: &str,
        id: &str,
        filter: &Filter,
    ) -> Result<Doc> {
        let row = self.webhook_row(p, bot_id, id).await?;
        self.render_one(&p.organisation_id, &WEBHOOK, row, filter)
            .await
    }

    async fn webhook_row(
        &self,
        p: &Principal,
        bot_id: &str,
        id: &str,
    ) -> Result<Map<String, Value>> {
        self.require_bot(p, bot_id).await?;
        Ok(self
            .docs
            .get(&WEBHOOK, &bot_scope(p, bot_id), id)
            .await?
            .ok_or_else(|| DomainError::child_not_found(id, WEBHOOK.name))?)
    }

    pub async fn create_webhook(&self, p: &Principal, bot_id: &str, body: &Value) -> Result<Doc> {
        self.require_bot(p, bot_id).await?;
        let mut v = Validation::new(WEBHOOK.name);
        let mut doc = input::writable(&WEBHOOK, input::object(body)?, &mut v)?;
        doc.entry("active").or_insert(Value::Bool(true));
        self.check_webhook(&doc, &mut v);
        v.finish()?;
        let id = self.stamp_new(&mut doc);
        self.seal_webhook_secret(p, bot_id, &id, &mut doc)?;
        self.docs
            .insert(&WEBHOOK, &bot_scope(p, bot_id), &doc)
            .await?;
        self.get_webhook(p, bot_id, &id, &Filter::default()).await
    }

    /// `PUT` or `PATCH /bots/{id}/webhooks/{fk}`: a partial update.
    pub async fn update_webhook(
        &self,
        p: &Principal,
        bot_id: &str,
        id: &str,
        body: &Value,
    ) -> Result<Doc> {
        let current = self.webhook_row(p, bot_id, id).await?;
        let mut v = Validation::new(WEBHOOK.name);
        let mut changes = input::writable(&WEBHOOK, input::object(body)?, &mut v)?;
        let mut merged = current;
        merged.extend(changes.clone());
        self.check_webhook(&merged, &mut v);
        v.finish()?;
        self.touch(&mut changes);
        self.seal_webhook_secret(p, bot_id, id, &mut changes)?;
        self.docs
            .update(&WEBHOOK, &bot_scope(p, bot_id), id, &changes)
            .await?;
        self.get_webhook(p, bot_id, id, &Filter::default()).await
    }

    /// Deletes an endpoint with its delivery log; its pending deliveries end quietly.
    pub async fn delete_webhook(&self, p: &Principal, bot_id: &str, id: &str) -> Result<()> {
        self.require_bot(p, bot_id).await?;
        if !self
            .docs
            .delete(&WEBHOOK, &bot_scope(p, bot_id), id)
            .await?
        {
            return Err(DomainError::child_not_found(id, WEBHOOK.name).into());
        }
        Ok(())
    }

    pub async fn list_deliveries(
        &self,
        p: &Principal,
        bot_id: &str,
        webhook_id: &str,
        filter: &Filter,
    ) -> Result<Vec<Doc>> {
        self.webhook_row(p, bot_id, webhook_id).await?;
        let scope = Scope::child(&p.organisation_id, "webhook_id", webhook_id);
        let rows = self
            .docs
            .find_shared(&WEBHOOK_DELIVERY, &scope, filter)
            .await?;
        self.render(&p.organisation_id, &WEBHOOK_DELIVERY, &rows, filter)
            .await
    }

    pub async fn count_deliveries(
        &self,
        p: &Principal,
        bot_id: &str,
        webhook_id: &str,
        w: &Where,
    ) -> Result<u64> {
        self.webhook_row(p, bot_id, webhook_id).await?;
        let scope = Scope::child(&p.organisation_id, "webhook_id", webhook_id);
        Ok(self.docs.count(&WEBHOOK_DELIVERY, &scope, w).await?)
    }

    /// Seals the secret `doc` sets, if it sets one, for endpoint `id`.
    fn seal_webhook_secret(
        &self,
        p: &Principal,
        bot_id: &str,
        id: &str,
        doc: &mut Map<String, Value>,
    ) -> Result<()> {
        if let Some(Value::String(secret)) = doc.get("secret") {
            let row = webhook_secret_row(&p.organisation_id, bot_id, id);
            let sealed = self
                .sealer
                .seal_text(secret, &crate::secrets::place(&row))
                .map_err(|_| DomainError::internal())?;
            doc.insert("secret".into(), Value::String(sealed));
        }
        Ok(())
    }

    /// An endpoint's rules: a URL the guard allows, known events, and a long enough secret.
    fn check_webhook(&self, doc: &Map<String, Value>, v: &mut Validation) {
        v.require(doc, "url");
        if let Some(url) = doc.get("url").and_then(Value::as_str) {
            if let Err(e) = check_url(url, self.webhooks_allow_private()) {
                v.fail("url", "format", &e.to_string(), doc.get("url"));
            }
        }
        match doc.get("events").and_then(Value::as_array) {
            Some(events) if !events.is_empty() => {
                let unknown: Vec<&str> = events
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|e| FlakeEvent::parse(e).is_none())
                    .collect();
                if !unknown.is_empty() {
                    let known: Vec<&str> = FlakeEvent::ALL.iter().map(|e| e.as_str()).collect();
                    let message = format!(
                        "names unknown events ({}); known are {}",
                        unknown.join(", "),
                        known.join(", ")
                    );
                    v.fail("events", "inclusion", &message, doc.get("events"));
                }
            }
            _ => v.fail("events", "presence", "can't be blank", doc.get("events")),
        }
        match doc.get("secret").and_then(Value::as_str) {
            Some(s) if s.chars().count() >= MIN_SECRET_CHARS => {}
            // The value is never echoed, not even in an error.
            _ => v.fail(
                "secret",
                "length.min",
                &format!("must be at least {MIN_SECRET_CHARS} characters"),
                None,
            ),
        }
    }
}

/// Where an endpoint's secret is kept: what its sealed value is bound to.
pub(crate) fn webhook_secret_row(org: &str, bot_id: &str, id: &str) -> SecretRow {
    SecretRow::Webhook {
        organisation_id: org.to_string(),
        bot_id: bot_id.to_string(),
        id: id.to_string(),
    }
}
