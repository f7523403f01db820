//! The document repository: create, read, filter, count, update and delete rows of any content
//! model, always inside a [`Scope`] (an organisation, and optionally a parent row).

use palaver_domain::filter::{Filter, Where};
use palaver_domain::time::parse_date;
use palaver_domain::{Field, Kind, Model};
use sea_query::{Expr, Func, Query, SimpleExpr};
use serde_json::{Map, Value};

use std::sync::Arc;

use crate::cache::{CacheKey, Cached, ReadCache, Region, WriteGuard};
use crate::content_counts;
use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::filter_sql;
use crate::Ident;

/// Which rows a call may see: one organisation's, and optionally only the children of one parent
/// (`bot_id = …`).
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub organisation_id: &'a str,
    pub parent: Option<(&'static str, &'a str)>,
}

impl<'a> Scope<'a> {
    pub fn org(organisation_id: &'a str) -> Self {
        Self {
            organisation_id,
            parent: None,
        }
    }

    pub fn child(organisation_id: &'a str, key: &'static str, parent_id: &'a str) -> Self {
        Self {
            organisation_id,
            parent: Some((key, parent_id)),
        }
    }
}

/// Generic persistence for the content models.
#[derive(Debug, Clone)]
pub struct Documents {
    db: Db,
    cache: Option<Arc<ReadCache>>,
}

/// Tables whose reads may be cached: only the server writes them (the operator's CLI writes
/// organisations and accounts, so those are always read afresh).
const CACHEABLE: &[&str] = &["bots", "flakes", "tags", "categories", "channels"];

/// The most rows one cached result may hold.
const MAX_CACHED_ROWS: usize = 1000;

/// The column that splits a table's rows into the read cache's parts: bot content is read and
/// written one bot at a time, so a write to one bot's rows leaves another's cached results be.
/// Scopes under any other parent key are taken as the whole organisation, which is exact.
const PART_KEY: &str = "bot_id";

/// Whether the read cache depends on `table`: the tables whose reads it keeps, and the accounts
/// that token resolutions read.
pub(crate) fn cache_depends_on(table: &str) -> bool {
    CACHEABLE.contains(&table) || table == "accounts"
}

/// The rows of `model` a read or write in `scope` may see or change, for the read cache.
fn region<'a>(model: &Model, scope: &Scope<'a>) -> Region<'a> {
    match scope.parent {
        Some((PART_KEY, part)) => Region::part(model.table, scope.organisation_id, part),
        _ => Region::org(model.table, scope.organisation_id),
    }
}

/// What a delete from a table takes with it (`ON DELETE CASCADE` in the schema): each table
/// whose rows point at the deleted ones, and whether its read cache parts are keyed by that
/// pointer (then only the deleted rows' parts are touched, else the whole organisation's rows).
fn cascades(table: &str) -> &'static [(&'static str, bool)] {
    const BOT_CONTENT: &[(&str, bool)] = &[
        ("flakes", true),
        ("tags", true),
        ("categories", true),
        ("channels", true),
    ];
    match table {
        "bots" => BOT_CONTENT,
        // Token parts are keyed by account (see `Tokens`).
        "accounts" => &[("access_tokens", true)],
        "organisations" => &[
            ("accounts", false),
            ("access_tokens", false),
            ("bots", false),
            ("flakes", false),
            ("tags", false),
            ("categories", false),
            ("channels", false),
        ],
        _ => &[],
    }
}

/// The regions a delete in `scope` touches: its own, and those of the rows deleted with it.
/// `id` is the deleted row's, when one row is deleted.
fn delete_regions<'a>(model: &Model, scope: &Scope<'a>, id: Option<&'a str>) -> Vec<Region<'a>> {
    let org = scope.organisation_id;
    let mut regions = vec![region(model, scope)];
    for &(child, by_part) in cascades(model.table) {
        regions.push(match id.filter(|_| by_part) {
            Some(id) => Region::part(child, org, id),
            None => Region::org(child, org),
        });
    }
    regions
}

/// The rows an update of `changes` in `scope` may change: a row whose organisation or bot is
/// changed leaves its region for another, so the write is named at the level that holds both.
fn update_region<'a>(model: &Model, scope: &Scope<'a>, changes: &Map<String, Value>) -> Region<'a> {
    if changes.contains_key(tenant_column(model)) {
        Region::table(model.table)
    } else if changes.contains_key(PART_KEY) {
        Region::org(model.table, scope.organisation_id)
    } else {
        region(model, scope)
    }
}

/// The column that ties a row to its organisation.
fn tenant_column(model: &Model) -> &'static str {
    if model.table == "organisations" {
        "id"
    } else {
        "organisation_id"
    }
}

fn col(model: &Model, name: &'static str) -> SimpleExpr {
    Expr::col((Ident::new(model.table), Ident::new(name))).into()
}

pub(crate) fn scope_condition(model: &Model, scope: &Scope) -> SimpleExpr {
    let mut cond = col(model, tenant_column(model)).eq(scope.organisation_id);
    if let Some((key, parent)) = scope.parent {
        cond = cond.and(col(model, key).eq(parent));
    }
    cond
}

/// Converts an API-form JSON value to the bound value for a column of `field`'s kind.
fn bind(field: &Field, v: &Value) -> Result<sea_query::Value, StoreError> {
    let bad = || StoreError::Decode(format!("value for {}", field.name));
    Ok(match (field.kind, v) {
        (Kind::Int | Kind::Date, Value::Null) => sea_query::Value::BigInt(None),
        (Kind::Bool, Value::Null) => sea_query::Value::Bool(None),
        (_, Value::Null) => sea_query::Value::String(None),
        (Kind::Id | Kind::Text, Value::String(s)) => s.clone().into(),
        (Kind::Int, Value::Number(n)) => n.as_i64().ok_or_else(bad)?.into(),
        (Kind::Bool, Value::Bool(b)) => (*b).into(),
        (Kind::Date, Value::String(s)) => parse_date(s).ok_or_else(bad)?.into(),
        (Kind::Date, Value::Number(n)) => n.as_i64().ok_or_else(bad)?.into(),
        (Kind::TextArray | Kind::Json, v) => v.to_string().into(),
        _ => return Err(bad()),
    })
}

impl Documents {
    pub fn new(db: Db) -> Self {
        Self { db, cache: None }
    }

    /// With reads of bot content served from `cache` while no write has touched their table.
    pub fn with_cache(db: Db, cache: Option<Arc<ReadCache>>) -> Self {
        Self { db, cache }
    }

    fn cache_for(&self, model: &Model) -> Option<&ReadCache> {
        self.cache
            .as_deref()
            .filter(|_| CACHEABLE.contains(&model.table))
    }

    /// Marks `regions` as being written for as long as the guard lives (see
    /// [`ReadCache::writing`]).
    fn writing(&self, regions: &[Region]) -> Option<WriteGuard<'_>> {
        self.cache.as_deref().map(|c| c.writing(regions))
    }

    /// Runs a select (built only when needed), through the cache when the model allows it.
    async fn rows(
        &self,
        model: &Model,
        scope: &Scope<'_>,
        key: impl FnOnce() -> CacheKey,
        select: impl FnOnce() -> sea_query::SelectStatement,
    ) -> Result<Arc<Vec<Map<String, Value>>>, StoreError> {
        let cache = self.cache_for(model);
        let key = cache.map(|_| key());
        if let (Some(c), Some(k)) = (cache, &key) {
            if let Some(Cached::Documents(docs)) = c.get(k) {
                return Ok(docs);
            }
        }
        let read_at = cache.map(ReadCache::read_start);
        let rows = self.db.fetch_all(&select()).await?;
        let docs = Arc::new(
            rows.into_iter()
                .map(|r| r.into_document(model))
                .collect::<Result<Vec<_>, _>>()?,
        );
        // Big results (a list without a limit) are not kept: memory, not speed, is their cost.
        if let (Some(c), Some(k), Some(at)) = (cache, key, read_at) {
            if docs.len() <= MAX_CACHED_ROWS {
                c.put(
                    k,
                    at,
                    &[region(model, scope)],
                    Cached::Documents(docs.clone()),
                );
            }
        }
        Ok(docs)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    fn select(&self, model: &Model, scope: &Scope, w: &Where) -> sea_query::SelectStatement {
        let mut q = Query::select();
        q.from(Ident::new(model.table))
            .columns(
                model
                    .fields
                    .iter()
                    .map(|f| (Ident::new(model.table), Ident::new(f.name))),
            )
            .and_where(scope_condition(model, scope))
            .and_where(filter_sql::condition(model.table, w, self.db.dialect()));
        q
    }

    /// Rows matching the filter's where, order, limit and skip (projection and include are the
    /// caller's). Every field, hidden ones included, is in each document.
    pub async fn find(
        &self,
        model: &Model,
        scope: &Scope<'_>,
        filter: &Filter,
    ) -> Result<Vec<Map<String, Value>>, StoreError> {
        Ok(self
            .find_shared(model, scope, filter)
            .await?
            .as_ref()
            .clone())
    }

    /// As [`Documents::find`], sharing the rows (with the cache, when it answers) rather than
    /// copying them, for callers that only read them.
    pub async fn find_shared(
        &self,
        model: &Model,
        scope: &Scope<'_>,
        filter: &Filter,
    ) -> Result<Arc<Vec<Map<String, Value>>>, StoreError> {
        let select = || {
            let mut q = self.select(model, scope, &filter.r#where);
            filter_sql::order(&mut q, model.table, &filter.order, self.db.dialect());
            if let Some(limit) = filter.limit {
                q.limit(limit);
            }
            if filter.skip > 0 {
                if filter.limit.is_none() {
                    // Both engines need a LIMIT before OFFSET; -1 / ALL are not portable.
                    q.limit(i64::MAX as u64);
                }
                q.offset(filter.skip);
            }
            q
        };
        let key = || CacheKey::Rows {
            table: model.table,
            org: scope.organisation_id.to_string(),
            parent: scope.parent.map(|(k, v)| (k, v.to_string())),
            r#where: filter.r#where.clone(),
            order: filter
                .order
                .iter()
                .map(|o| (o.field.name, o.descending))
                .collect(),
            limit: filter.limit,
            skip: filter.skip,
            id: None,
        };
        self.rows(model, scope, key, select).await
    }

    /// The row with this id in scope.
    pub async fn get(
        &self,
        model: &Model,
        scope: &Scope<'_>,
        id: &str,
    ) -> Result<Option<Map<String, Value>>, StoreError> {
        let select = || {
            let mut q = self.select(model, scope, &Where::All);
            q.and_where(col(model, "id").eq(id));
            q
        };
        let key = || CacheKey::Rows {
            table: model.table,
            org: scope.organisation_id.to_string(),
            parent: scope.parent.map(|(k, v)| (k, v.to_string())),
            r#where: Where::All,
            order: Vec::new(),
            limit: None,
            skip: 0,
            id: Some(id.to_string()),
        };
        Ok(self.rows(model, scope, key, select).await?.first().cloned())
    }

    /// How many rows in scope match `w`: from the kept counts when they hold this count (see
    /// [`content_counts::key_for`]), else counted over the rows.
    pub async fn count(
        &self,
        model: &Model,
        scope: &Scope<'_>,
        w: &Where,
    ) -> Result<u64, StoreError> {
        let cache = self.cache_for(model);
        let key = cache.map(|_| CacheKey::Count {
            table: model.table,
            org: scope.organisation_id.to_string(),
            parent: scope.parent.map(|(k, v)| (k, v.to_string())),
            r#where: w.clone(),
        });
        if let (Some(c), Some(k)) = (cache, &key) {
            if let Some(Cached::Count(n)) = c.get(k) {
                return Ok(n);
            }
        }
        let read_at = cache.map(ReadCache::read_start);
        let n = match content_counts::key_for(model, scope, w) {
            Some(kept) => content_counts::read(&self.db, model.table, scope, &kept).await?,
            None => self.count_rows(model, scope, w).await?,
        };
        if let (Some(c), Some(k), Some(at)) = (cache, key, read_at) {
            c.put(k, at, &[region(model, scope)], Cached::Count(n));
        }
        Ok(n)
    }

    /// How many rows in scope match `w`, counted over the rows.
    async fn count_rows(
        &self,
        model: &Model,
        scope: &Scope<'_>,
        w: &Where,
    ) -> Result<u64, StoreError> {
        let mut q = Query::select();
        q.from(Ident::new(model.table))
            .expr_as(Func::count(Expr::col(Ident::new("id"))), Ident::new("n"))
            .and_where(scope_condition(model, scope))
            .and_where(filter_sql::condition(model.table, w, self.db.dialect()));
        let rows = self.db.fetch_all(&q).await?;
        let n = match rows.first() {
            Some(r) => r.int("n")?.unwrap_or(0),
            None => 0,
        };
        Ok(n.max(0) as u64)
    }

    /// Which of `ids` exist in scope.
    pub async fn existing_ids(
        &self,
        model: &Model,
        scope: &Scope<'_>,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Query::select();
        q.from(Ident::new(model.table))
            .column(Ident::new("id"))
            .and_where(scope_condition(model, scope))
            .and_where(Expr::expr(col(model, "id")).is_in(ids.iter().cloned()));
        let rows = self.db.fetch_all(&q).await?;
        rows.iter()
            .map(|r| Ok(r.text("id")?.unwrap_or_default()))
            .collect()
    }

    /// Inserts a document. `doc` holds the row's fields in API form (`id`, `created` included);
    /// the tenant column and the scope's parent key are set from `scope`.
    pub async fn insert(
        &self,
        model: &Model,
        scope: &Scope<'_>,
        doc: &Map<String, Value>,
    ) -> Result<(), StoreError> {
        let _writing = self.writing(&[region(model, scope)]);
        let q = insert_statement(model, scope, doc)?;
        self.db.execute(&q).await?;
        Ok(())
    }

    /// Inserts several documents in one transaction: all or none.
    pub async fn insert_many(
        &self,
        model: &Model,
        scope: &Scope<'_>,
        docs: &[Map<String, Value>],
    ) -> Result<(), StoreError> {
        let _writing = self.writing(&[region(model, scope)]);
        let mut tx = self.db.begin().await?;
        for doc in docs {
            tx.execute(&insert_statement(model, scope, doc)?).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Starts document writes in one transaction, for writes that must commit with other rows
    /// (a job they cause): each write sets aside the cached reads of the rows it may change
    /// until the transaction ends.
    pub async fn begin_write(&self) -> Result<DocumentWrite<'_>, StoreError> {
        let writing = self.writing(&[]);
        let tx = self.db.begin().await?;
        Ok(DocumentWrite { tx, writing })
    }

    /// Sets `changes` on the row with this id in scope only while each field of `expect` still
    /// holds its value there (`null` for none): one statement, so of writers racing on the same
    /// expectation exactly one changes the row. False when the row is gone or has moved on.
    pub async fn update_if(
        &self,
        model: &Model,
        scope: &Scope<'_>,
        id: &str,
        expect: &Map<String, Value>,
        changes: &Map<String, Value>,
    ) -> Result<bool, StoreError> {
        let _writing = self.writing(&[update_region(model, scope, changes)]);
        let Some(q) = update_if_statement(model, scope, id, expect, changes)? else {
            return Ok(false);
        };
        Ok(self.db.execute(&q).await? > 0)
    }

    /// Sets the given fields of the row with this id in scope. False when there is no such row.
    pub async fn update(
        &self,
        model: &Model,
        scope: &Scope<'_>,
        id: &str,
        changes: &Map<String, Value>,
    ) -> Result<bool, StoreError> {
        let _writing = self.writing(&[update_region(model, scope, changes)]);
        let Some(q) = update_statement(model, scope, id, changes)? else {
            return Ok(self.get(model, scope, id).await?.is_some());
        };
        let changed = self.db.execute(&q).await? > 0;
        Ok(changed)
    }

    /// Deletes the row with this id in scope. False when there was none.
    pub async fn delete(
        &self,
        model: &Model,
        scope: &Scope<'_>,
        id: &str,
    ) -> Result<bool, StoreError> {
        let _writing = self.writing(&delete_regions(model, scope, Some(id)));
        let mut q = Query::delete();
        q.from_table(Ident::new(model.table))
            .and_where(scope_condition(model, scope))
            .and_where(col(model, "id").eq(id));
        let deleted = self.db.execute(&q).await? > 0;
        Ok(deleted)
    }

    /// Deletes every row in scope; returns how many.
    pub async fn delete_all(&self, model: &Model, scope: &Scope<'_>) -> Result<u64, StoreError> {
        let _writing = self.writing(&delete_regions(model, scope, None));
        let mut tx = self.db.begin().await?;
        let n = delete_all_in(&mut tx, model, scope).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Deletes a parent row and, in the same transaction, its children in the given models
    /// (keyed by `child_key`), so that no orphan survives a failure half-way.
    pub async fn delete_with_children(
        &self,
        model: &Model,
        scope: &Scope<'_>,
        id: &str,
        children: &[&Model],
        child_key: &'static str,
    ) -> Result<bool, StoreError> {
        let child_scope = Scope::child(scope.organisation_id, child_key, id);
        let _writing = self.writing(
            &delete_regions(model, scope, Some(id))
                .into_iter()
                .chain(children.iter().map(|c| region(c, &child_scope)))
                .collect::<Vec<_>>(),
        );
        let mut tx = self.db.begin().await?;
        for child in children {
            delete_all_in(&mut tx, child, &child_scope).await?;
        }
        let mut q = Query::delete();
        q.from_table(Ident::new(model.table))
            .and_where(scope_condition(model, scope))
            .and_where(col(model, "id").eq(id));
        let deleted = tx.execute(&q).await? > 0;
        tx.commit().await?;
        Ok(deleted)
    }
}

/// Document writes inside one transaction (see [`Documents::begin_write`]); dropped without
/// [`DocumentWrite::commit`] they roll back.
pub struct DocumentWrite<'a> {
    tx: Tx,
    // Declared after `tx`: the regions count as written until the commit or rollback is done.
    writing: Option<WriteGuard<'a>>,
}

impl DocumentWrite<'_> {
    /// Counts `region` as written from now until the transaction ends: called before the
    /// statement that writes it.
    fn writes(&mut self, region: Region) {
        if let Some(w) = &mut self.writing {
            w.add(region);
        }
    }

    /// The transaction, for the other rows that commit with these writes.
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// Inserts a document, as [`Documents::insert`].
    pub async fn insert(
        &mut self,
        model: &Model,
        scope: &Scope<'_>,
        doc: &Map<String, Value>,
    ) -> Result<(), StoreError> {
        self.writes(region(model, scope));
        self.tx
            .execute(&insert_statement(model, scope, doc)?)
            .await?;
        Ok(())
    }

    /// Deletes the row with this id in scope, as [`Documents::delete`]. False when there was
    /// none.
    pub async fn delete(
        &mut self,
        model: &Model,
        scope: &Scope<'_>,
        id: &str,
    ) -> Result<bool, StoreError> {
        for r in delete_regions(model, scope, Some(id)) {
            self.writes(r);
        }
        let mut q = Query::delete();
        q.from_table(Ident::new(model.table))
            .and_where(scope_condition(model, scope))
            .and_where(col(model, "id").eq(id));
        Ok(self.tx.execute(&q).await? > 0)
    }

    /// Sets the given fields of the row with this id in scope, as [`Documents::update`]. False
    /// when there is no such row, or nothing to set.
    pub async fn update(
        &mut self,
        model: &Model,
        scope: &Scope<'_>,
        id: &str,
        changes: &Map<String, Value>,
    ) -> Result<bool, StoreError> {
        self.writes(update_region(model, scope, changes));
        match update_statement(model, scope, id, changes)? {
            Some(q) => Ok(self.tx.execute(&q).await? > 0),
            None => Ok(false),
        }
    }

    /// As [`Documents::update_if`], inside the transaction.
    pub async fn update_if(
        &mut self,
        model: &Model,
        scope: &Scope<'_>,
        id: &str,
        expect: &Map<String, Value>,
        changes: &Map<String, Value>,
    ) -> Result<bool, StoreError> {
        self.writes(update_region(model, scope, changes));
        match update_if_statement(model, scope, id, expect, changes)? {
            Some(q) => Ok(self.tx.execute(&q).await? > 0),
            None => Ok(false),
        }
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await
    }
}

/// [`update_statement`] that changes the row only while each field of `expect` holds its
/// value (`null` for none).
fn update_if_statement(
    model: &Model,
    scope: &Scope,
    id: &str,
    expect: &Map<String, Value>,
    changes: &Map<String, Value>,
) -> Result<Option<sea_query::UpdateStatement>, StoreError> {
    let Some(mut q) = update_statement(model, scope, id, changes)? else {
        return Ok(None);
    };
    for (name, v) in expect {
        let field = model
            .any_field(name)
            .ok_or_else(|| StoreError::Decode(format!("no field {name}")))?;
        q.and_where(if v.is_null() {
            Expr::expr(col(model, field.name)).is_null()
        } else {
            Expr::expr(col(model, field.name)).eq(SimpleExpr::Value(bind(field, v)?))
        });
    }
    Ok(Some(q))
}

/// `UPDATE … SET changes WHERE scope AND id`; `None` when `changes` names no field of `model`.
pub(crate) fn update_statement(
    model: &Model,
    scope: &Scope,
    id: &str,
    changes: &Map<String, Value>,
) -> Result<Option<sea_query::UpdateStatement>, StoreError> {
    let mut values = Vec::new();
    for (name, v) in changes {
        if let Some(field) = model.any_field(name) {
            values.push((Ident::new(field.name), SimpleExpr::Value(bind(field, v)?)));
        }
    }
    if values.is_empty() {
        return Ok(None);
    }
    let mut q = Query::update();
    q.table(Ident::new(model.table))
        .values(values)
        .and_where(scope_condition(model, scope))
        .and_where(col(model, "id").eq(id));
    Ok(Some(q))
}

async fn delete_all_in(tx: &mut Tx, model: &Model, scope: &Scope<'_>) -> Result<u64, StoreError> {
    let mut q = Query::delete();
    q.from_table(Ident::new(model.table))
        .and_where(scope_condition(model, scope));
    tx.execute(&q).await
}

pub(crate) fn insert_statement(
    model: &Model,
    scope: &Scope,
    doc: &Map<String, Value>,
) -> Result<sea_query::InsertStatement, StoreError> {
    let mut columns = Vec::new();
    let mut values = Vec::new();
    let tenant = tenant_column(model);
    let parent_key = scope.parent.map(|(k, _)| k);
    for field in model.fields {
        if field.name == tenant || Some(field.name) == parent_key {
            continue;
        }
        if let Some(v) = doc.get(field.name) {
            columns.push(Ident::new(field.name));
            values.push(SimpleExpr::Value(bind(field, v)?));
        }
    }
    columns.push(Ident::new(tenant));
    values.push(scope.organisation_id.into());
    if let Some((key, parent)) = scope.parent {
        if key != tenant {
            columns.push(Ident::new(key));
            values.push(parent.into());
        }
    }
    let mut q = Query::insert();
    q.into_table(Ident::new(model.table)).columns(columns);
    q.values(values)
        .map_err(|e| StoreError::Decode(e.to_string()))?;
    Ok(q)
}

impl Documents {
    /// Accounts whose `field` (email or username) equals `value`, in every organisation.
    /// This is the one read that is not scoped by organisation: a login names no tenant, and the
    /// password check that follows decides which account (if any) the caller is.
    pub async fn login_candidates(
        &self,
        model: &Model,
        field: &'static str,
        value: &str,
    ) -> Result<Vec<Map<String, Value>>, StoreError> {
        let mut q = Query::select();
        q.from(Ident::new(model.table))
            .columns(
                model
                    .fields
                    .iter()
                    .map(|f| (Ident::new(model.table), Ident::new(f.name))),
            )
            .and_where(col(model, field).eq(value))
            .order_by(
                (Ident::new(model.table), Ident::new("id")),
                sea_query::Order::Asc,
            )
            .limit(16);
        let rows = self.db.fetch_all(&q).await?;
        rows.into_iter().map(|r| r.into_document(model)).collect()
    }
}

impl Documents {
    /// Every organisation, oldest first: for the operator's CLI and the first-start check only.
    pub async fn all_organisations(&self) -> Result<Vec<Map<String, Value>>, StoreError> {
        let model = &palaver_domain::models::ORGANISATION;
        let mut q = Query::select();
        q.from(Ident::new(model.table))
            .columns(
                model
                    .fields
                    .iter()
                    .map(|f| (Ident::new(model.table), Ident::new(f.name))),
            )
            .order_by(
                (Ident::new(model.table), Ident::new("created")),
                sea_query::Order::Asc,
            )
            .order_by(
                (Ident::new(model.table), Ident::new("id")),
                sea_query::Order::Asc,
            );
        let rows = self.db.fetch_all(&q).await?;
        rows.into_iter().map(|r| r.into_document(model)).collect()
    }
}
