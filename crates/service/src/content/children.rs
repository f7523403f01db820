//! A bot's content, served as LoopBack hasMany relation routes: flakes, tags, categories and
//! channels under `/bots/{id}/…`, with list, count, create (one or many), read, update and delete.

use palaver_domain::filter::{Filter, Where};
use palaver_domain::validation::Validation;
use palaver_domain::{models, DomainError, Model};
use palaver_store::Scope;
use serde_json::{Map, Value};

use super::delivery::flake_event;
use super::{input, rules, Content, Doc, PublishJob};
use crate::error::Result;
use crate::principal::Principal;

/// The kinds of content a bot has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildModel {
    Flakes,
    Tags,
    Categories,
    Channels,
}

impl ChildModel {
    /// From the URL segment (`flakes`, `tags`, `categories`, `channels`).
    pub fn from_segment(s: &str) -> Option<Self> {
        match s {
            "flakes" => Some(Self::Flakes),
            "tags" => Some(Self::Tags),
            "categories" => Some(Self::Categories),
            "channels" => Some(Self::Channels),
            _ => None,
        }
    }

    pub fn model(self) -> &'static Model {
        match self {
            Self::Flakes => &models::FLAKE,
            Self::Tags => &models::TAG,
            Self::Categories => &models::CATEGORY,
            Self::Channels => &models::CHANNEL,
        }
    }
}

fn bot_scope<'a>(p: &'a Principal, bot_id: &'a str) -> Scope<'a> {
    Scope::child(&p.organisation_id, "bot_id", bot_id)
}

impl Content {
    pub async fn list_children(
        &self,
        p: &Principal,
        bot_id: &str,
        kind: ChildModel,
        filter: &Filter,
    ) -> Result<Vec<Doc>> {
        p.require_admin()?;
        let rows = self
            .docs
            .find_shared(kind.model(), &bot_scope(p, bot_id), filter)
            .await?;
        // Rows found under the bot prove it is the caller's; only an empty page needs the check.
        if rows.is_empty() {
            self.require_bot(p, bot_id).await?;
        }
        self.render_shared(&p.organisation_id, kind.model(), rows, filter)
            .await
    }

    pub async fn count_children(
        &self,
        p: &Principal,
        bot_id: &str,
        kind: ChildModel,
        w: &Where,
    ) -> Result<u64> {
        p.require_admin()?;
        let n = self
            .docs
            .count(kind.model(), &bot_scope(p, bot_id), w)
            .await?;
        if n == 0 {
            self.require_bot(p, bot_id).await?;
        }
        Ok(n)
    }

    pub async fn get_child(
        &self,
        p: &Principal,
        bot_id: &str,
        kind: ChildModel,
        id: &str,
        filter: &Filter,
    ) -> Result<Doc> {
        self.require_bot(p, bot_id).await?;
        let model = kind.model();
        let row = self
            .docs
            .get(model, &bot_scope(p, bot_id), id)
            .await?
            .ok_or_else(|| DomainError::child_not_found(id, model.name))?;
        self.render_one(&p.organisation_id, model, row, filter)
            .await
    }

    /// Creates one child (object body) or several (array body, all or none).
    pub async fn create_children(
        &self,
        p: &Principal,
        bot_id: &str,
        kind: ChildModel,
        body: &Value,
    ) -> Result<Value> {
        self.require_bot(p, bot_id).await?;
        let model = kind.model();
        let scope = bot_scope(p, bot_id);
        let items: Vec<&Value> = match body {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        let mut docs = Vec::with_capacity(items.len());
        let mut slugs_in_batch: Vec<String> = Vec::new();
        for item in &items {
            let mut v = Validation::new(model.name);
            let mut doc = input::writable(model, input::object(item)?, &mut v)?;
            if kind == ChildModel::Flakes && !doc.contains_key("author_name") {
                if let Some(name) = &p.username {
                    doc.insert("author_name".into(), Value::String(name.clone()));
                }
            }
            if kind == ChildModel::Flakes {
                doc.entry("status")
                    .or_insert_with(|| Value::String("draft".into()));
            }
            self.check(kind, &scope, &mut doc, None, &mut v).await?;
            if let Some(slug) = doc.get("slug").and_then(Value::as_str) {
                if slugs_in_batch.iter().any(|s| s == slug) {
                    v.fail("slug", "uniqueness", "is not unique", doc.get("slug"));
                }
                slugs_in_batch.push(slug.to_string());
            }
            v.finish()?;
            self.stamp_new(&mut doc);
            docs.push(doc);
        }
        let publish: Vec<PublishJob> = if kind == ChildModel::Flakes {
            docs.iter()
                .filter_map(|d| PublishJob::for_flake(&p.organisation_id, bot_id, d))
                .collect()
        } else {
            Vec::new()
        };
        // All the rows or none, with the publish jobs of the scheduled ones.
        let mut write = self.docs.begin_write().await?;
        for doc in &docs {
            write.insert(model, &scope, doc).await?;
        }
        for job in &publish {
            self.enqueue_publish(write.tx(), job).await?;
        }
        let mut delivering = 0;
        for doc in docs.iter().filter(|_| kind == ChildModel::Flakes) {
            if let Some(event) = flake_event(None, doc) {
                delivering += self
                    .enqueue_flake_events(write.tx(), &p.organisation_id, bot_id, doc, event)
                    .await?;
            }
        }
        // Active channels get their first scheduled run.
        for doc in docs.iter().filter(|_| kind == ChildModel::Channels) {
            self.schedule_channel(write.tx(), &p.organisation_id, bot_id, doc)
                .await?;
        }
        write.commit().await?;
        if !publish.is_empty() || delivering > 0 {
            self.wake_workers();
        }
        let mut out = Vec::with_capacity(docs.len());
        for doc in &docs {
            let id = doc.get("id").and_then(Value::as_str).unwrap_or_default();
            out.push(Value::Object(
                self.get_child(p, bot_id, kind, id, &Filter::default())
                    .await?,
            ));
        }
        Ok(match body {
            Value::Array(_) => Value::Array(out),
            _ => out.pop().unwrap_or(Value::Null),
        })
    }

    /// `PUT /bots/{id}/{children}/{fk}`: a partial update (LoopBack's `updateAttributes`).
    pub async fn update_child(
        &self,
        p: &Principal,
        bot_id: &str,
        kind: ChildModel,
        id: &str,
        body: &Value,
    ) -> Result<Doc> {
        self.require_bot(p, bot_id).await?;
        let model = kind.model();
        let scope = bot_scope(p, bot_id);
        let current = self
            .docs
            .get(model, &scope, id)
            .await?
            .ok_or_else(|| DomainError::child_not_found(id, model.name))?;
        let mut v = Validation::new(model.name);
        let changes = input::writable(model, input::object(body)?, &mut v)?;
        let mut merged = current.clone();
        merged.extend(changes);
        self.check(kind, &scope, &mut merged, Some(id), &mut v)
            .await?;
        v.finish()?;
        // A change of status or time schedules anew; the job of an earlier schedule will find
        // the flake moved on and do nothing. Other edits keep the pending job.
        let reschedules = |k: &str| current.get(k) != merged.get(k);
        let publish =
            if kind == ChildModel::Flakes && (reschedules("status") || reschedules("publish_at")) {
                PublishJob::for_flake(&p.organisation_id, bot_id, &merged)
            } else {
                None
            };
        // A channel stopped, started or given another interval is scheduled anew.
        let channel = (kind == ChildModel::Channels
            && (reschedules("status") || reschedules("cron_time")))
        .then(|| merged.clone());
        // What the flake's webhooks and chat hear of it: nothing when nothing changed.
        let event = (kind == ChildModel::Flakes)
            .then(|| flake_event(Some(&current), &merged))
            .flatten()
            .filter(|_| merged.iter().any(|(k, val)| current.get(k) != Some(val)))
            .map(|e| (e, merged.clone()));
        // Write only what differs: rules may have filled in derived values (slugs, source ids).
        let mut delta: Map<String, Value> = merged
            .into_iter()
            .filter(|(k, val)| current.get(k) != Some(val))
            .collect();
        self.touch(&mut delta);
        match (publish, event) {
            (None, None) if channel.is_some() => {
                let mut write = self.docs.begin_write().await?;
                if let (true, Some(doc)) =
                    (write.update(model, &scope, id, &delta).await?, &channel)
                {
                    self.schedule_channel(write.tx(), &p.organisation_id, bot_id, doc)
                        .await?;
                }
                write.commit().await?;
            }
            (None, None) => {
                self.docs.update(model, &scope, id, &delta).await?;
            }
            (job, event) => {
                let mut write = self.docs.begin_write().await?;
                // A flake deleted meanwhile gets no job (and the read below misses it).
                if write.update(model, &scope, id, &delta).await? {
                    if let Some(job) = &job {
                        self.enqueue_publish(write.tx(), job).await?;
                    }
                    if let Some((event, mut written)) = event {
                        written.extend(delta.clone());
                        self.enqueue_flake_events(
                            write.tx(),
                            &p.organisation_id,
                            bot_id,
                            &written,
                            event,
                        )
                        .await?;
                    }
                }
                write.commit().await?;
                self.wake_workers();
            }
        }
        self.get_child(p, bot_id, kind, id, &Filter::default())
            .await
    }

    pub async fn delete_child(
        &self,
        p: &Principal,
        bot_id: &str,
        kind: ChildModel,
        id: &str,
    ) -> Result<()> {
        self.require_bot(p, bot_id).await?;
        let model = kind.model();
        let deleted = if kind == ChildModel::Flakes {
            // With its `flake.deleted` deliveries, in one transaction.
            self.delete_flake(&p.organisation_id, bot_id, id).await?
        } else {
            if kind == ChildModel::Channels {
                self.unschedule_channels(&p.organisation_id, bot_id, Some(id))
                    .await?;
            }
            self.docs.delete(model, &bot_scope(p, bot_id), id).await?
        };
        if !deleted {
            return Err(DomainError::child_not_found(id, model.name).into());
        }
        Ok(())
    }

    pub async fn delete_children(
        &self,
        p: &Principal,
        bot_id: &str,
        kind: ChildModel,
    ) -> Result<()> {
        self.require_bot(p, bot_id).await?;
        if kind == ChildModel::Flakes {
            self.delete_flakes(&p.organisation_id, bot_id).await?;
            return Ok(());
        }
        if kind == ChildModel::Channels {
            self.unschedule_channels(&p.organisation_id, bot_id, None)
                .await?;
        }
        self.docs
            .delete_all(kind.model(), &bot_scope(p, bot_id))
            .await?;
        Ok(())
    }

    /// The model's rules, plus those that look at other rows of the same bot: tag and category
    /// ids that must exist, slugs that must be unique.
    async fn check(
        &self,
        kind: ChildModel,
        scope: &Scope<'_>,
        doc: &mut Map<String, Value>,
        own_id: Option<&str>,
        v: &mut Validation,
    ) -> Result<()> {
        match kind {
            ChildModel::Flakes => {
                rules::flake(doc, v);
                for (field, target) in [("tags", &models::TAG), ("category", &models::CATEGORY)] {
                    let ids: Vec<String> = doc
                        .get(field)
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    let found = self.docs.existing_ids(target, scope, &ids).await?;
                    let missing: Vec<&str> = ids
                        .iter()
                        .filter(|i| !found.contains(i))
                        .map(String::as_str)
                        .collect();
                    if !missing.is_empty() {
                        let message =
                            format!("refers to unknown {}: {}", target.name, missing.join(", "));
                        v.fail(field, "exists", &message, doc.get(field));
                    }
                }
            }
            ChildModel::Tags | ChildModel::Categories => {
                rules::taxonomy(doc, v);
                if let Some(slug) = doc
                    .get("slug")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                {
                    if self
                        .taken(kind.model(), scope, "slug", slug, own_id)
                        .await?
                    {
                        v.fail("slug", "uniqueness", "is not unique", doc.get("slug"));
                    }
                }
            }
            ChildModel::Channels => rules::channel(doc, self.now(), v),
        }
        Ok(())
    }
}
