//! A bot's content, served as LoopBack hasMany relation routes: flakes, tags, categories and
//! channels under `/bots/{id}/…`, with list, count, create (one or many), read, update and delete.

use palaver_domain::filter::{Filter, Where};
use palaver_domain::validation::Validation;
use palaver_domain::{models, DomainError, Model};
use palaver_store::Scope;
use serde_json::{Map, Value};

use super::{input, rules, stamp_new, touch, Content, Doc};
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
        self.render(&p.organisation_id, kind.model(), &rows, filter)
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
            stamp_new(&mut doc);
            docs.push(doc);
        }
        self.docs.insert_many(model, &scope, &docs).await?;
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
        // Write only what differs: rules may have filled in derived values (slugs, source ids).
        let mut delta: Map<String, Value> = merged
            .into_iter()
            .filter(|(k, val)| current.get(k) != Some(val))
            .collect();
        touch(&mut delta);
        self.docs.update(model, &scope, id, &delta).await?;
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
        if !self.docs.delete(model, &bot_scope(p, bot_id), id).await? {
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
            ChildModel::Channels => rules::channel(doc, v),
        }
        Ok(())
    }
}
