//! Rendering a page of rows: each row presented (hidden fields out, projection applied) with its
//! `include` relations fetched in one query per relation and attached under the relation's name.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use palaver_domain::filter::{Filter, Projection, Scalar, Test, Where};
use palaver_domain::{models, DomainError, Model, RelationKind};
use palaver_store::Scope;
use serde_json::{Map, Value};

use super::{present, present_owned, Content, Doc};
use crate::error::Result;

fn key_of(row: &Map<String, Value>, key: &str) -> Option<String> {
    row.get(key).and_then(Value::as_str).map(str::to_string)
}

impl Content {
    /// Presents `rows` of `model` per `filter.fields`, with `filter.include` attached.
    pub(crate) async fn render(
        &self,
        org: &str,
        model: &'static Model,
        rows: &[Map<String, Value>],
        filter: &Filter,
    ) -> Result<Vec<Doc>> {
        self.render_rows(org, model, Cow::Borrowed(rows), filter)
            .await
    }

    /// As [`Content::render`], for rows read for this request only (the read cache off, or
    /// not holding them): each is presented in place, not copied ([`present_owned`]).
    pub(crate) async fn render_shared(
        &self,
        org: &str,
        model: &'static Model,
        rows: Arc<Vec<Map<String, Value>>>,
        filter: &Filter,
    ) -> Result<Vec<Doc>> {
        match Arc::try_unwrap(rows) {
            Ok(own) => self.render_rows(org, model, Cow::Owned(own), filter).await,
            Err(shared) => self.render(org, model, &shared, filter).await,
        }
    }

    async fn render_rows(
        &self,
        org: &str,
        model: &'static Model,
        rows: Cow<'_, [Map<String, Value>]>,
        filter: &Filter,
    ) -> Result<Vec<Doc>> {
        let mut attached: Vec<Vec<(&'static str, Value)>> = vec![Vec::new(); rows.len()];
        for inc in &filter.include {
            let target = models::by_name(inc.relation.target).ok_or_else(DomainError::internal)?;
            let (match_key, own_key) = match inc.relation.kind {
                RelationKind::BelongsTo => ("id", inc.relation.key),
                RelationKind::HasMany => (inc.relation.key, "id"),
            };
            let mut wanted: Vec<Scalar> = Vec::new();
            for r in rows.iter() {
                if let Some(k) = key_of(r, own_key) {
                    let k = Scalar::Text(k);
                    if !wanted.contains(&k) {
                        wanted.push(k);
                    }
                }
            }
            let field = target
                .any_field(match_key)
                .ok_or_else(DomainError::internal)?;
            let mut scope_filter = inc.scope.clone();
            scope_filter.r#where = Where::Test {
                field,
                test: Test::Inq(wanted),
            }
            .and(std::mem::replace(&mut scope_filter.r#where, Where::All));
            // Limit and skip apply per parent row, below; the query fetches every match.
            let (limit, skip) = (
                scope_filter.limit.take(),
                std::mem::take(&mut scope_filter.skip),
            );
            let related = self
                .docs
                .find(target, &Scope::org(org), &scope_filter)
                .await?;
            let keys: Vec<Option<String>> = related.iter().map(|r| key_of(r, match_key)).collect();
            // A scope's `fields` still return the key the relation joins on, as LoopBack's
            // includer adds it.
            let mut shown = inc.scope.clone();
            match &mut shown.fields {
                Some(Projection::Only(names)) if !names.iter().any(|n| n == match_key) => {
                    names.push(match_key.to_string())
                }
                Some(Projection::Except(names)) => names.retain(|n| n != match_key),
                _ => {}
            }
            let rendered =
                Box::pin(self.render_rows(org, target, Cow::Owned(related), &shown)).await?;
            let mut by_key: HashMap<String, Vec<Doc>> = HashMap::new();
            for (k, doc) in keys.into_iter().zip(rendered) {
                if let Some(k) = k {
                    by_key.entry(k).or_default().push(doc);
                }
            }
            for (row, out) in rows.iter().zip(attached.iter_mut()) {
                let found = key_of(row, own_key).and_then(|k| by_key.get(&k));
                let value = match inc.relation.kind {
                    RelationKind::BelongsTo => match found.and_then(|d| d.first()) {
                        Some(d) => Value::Object(d.clone()),
                        None => continue,
                    },
                    RelationKind::HasMany => {
                        let docs = found.cloned().unwrap_or_default();
                        let take = limit.map_or(usize::MAX, |l| l as usize);
                        Value::Array(
                            docs.into_iter()
                                .skip(skip as usize)
                                .take(take)
                                .map(Value::Object)
                                .collect(),
                        )
                    }
                };
                out.push((inc.relation.name, value));
            }
        }
        let projection = filter.fields.as_ref();
        let presented: Vec<Doc> = match rows {
            Cow::Owned(rows) => rows
                .into_iter()
                .map(|row| present_owned(model, row, projection))
                .collect(),
            Cow::Borrowed(rows) => rows
                .iter()
                .map(|row| present(model, row, projection))
                .collect(),
        };
        Ok(presented
            .into_iter()
            .zip(attached)
            .map(|(mut doc, extra)| {
                for (name, value) in extra {
                    doc.insert(name.to_string(), value);
                }
                doc
            })
            .collect())
    }

    /// Renders one row.
    pub(crate) async fn render_one(
        &self,
        org: &str,
        model: &'static Model,
        row: Map<String, Value>,
        filter: &Filter,
    ) -> Result<Doc> {
        let mut docs = self
            .render(org, model, std::slice::from_ref(&row), filter)
            .await?;
        docs.pop().ok_or_else(|| {
            // The one place this 500 is logged: the renderers log none.
            tracing::error!(model = model.name, "a rendered document went missing");
            DomainError::internal().into()
        })
    }
}
