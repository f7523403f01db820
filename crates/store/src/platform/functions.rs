//! Chat functions and their versions. A function answers one trigger of its application (a
//! unique index says so); its versions are numbered 1, 2, 3… by incrementing the function's
//! `current_version_number` in the transaction that inserts the version, so that concurrent
//! deployments each get a number of their own and the function always names its newest.

use palaver_domain::platform::functions::FunctionTrigger;
use sea_query::{Func, Order, Query, SelectStatement};

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::ident::col;
use crate::row::{count_of, DbRow};
use crate::Ident;

/// A stored function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRow {
    pub id: i64,
    pub application_id: i64,
    pub trigger: FunctionTrigger,
    pub name: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub initialize_asynchronously: bool,
    /// The newest version's number; 0 before the first.
    pub current_version_number: i64,
    pub created: i64,
}

/// A function to insert.
#[derive(Debug, Clone)]
pub struct NewFunctionRow {
    pub application_id: i64,
    pub trigger: FunctionTrigger,
    pub name: String,
    pub description: Option<String>,
    pub initialize_asynchronously: bool,
    pub created: i64,
}

/// A stored function version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionVersionRow {
    pub id: i64,
    pub application_id: i64,
    pub function_id: i64,
    pub version_number: i64,
    pub handler_script: String,
    pub created: i64,
}

fn functions() -> Ident {
    Ident::new("functions")
}

fn versions() -> Ident {
    Ident::new("function_versions")
}

const COLUMNS: [&str; 9] = [
    "id",
    "application_id",
    "type",
    "name",
    "description",
    "enabled",
    "initialize_asynchronously",
    "current_version_number",
    "created",
];

const VERSION_COLUMNS: [&str; 6] = [
    "id",
    "application_id",
    "function_id",
    "version_number",
    "handler_script",
    "created",
];

fn read(r: &DbRow) -> Result<FunctionRow, StoreError> {
    let trigger = r.text("type")?.unwrap_or_default();
    Ok(FunctionRow {
        id: r.int("id")?.unwrap_or_default(),
        application_id: r.int("application_id")?.unwrap_or_default(),
        trigger: FunctionTrigger::parse(&trigger)
            .ok_or_else(|| StoreError::Decode("functions.type".into()))?,
        name: r.text("name")?.unwrap_or_default(),
        description: r.text("description")?,
        enabled: r.boolean("enabled")?.unwrap_or_default(),
        initialize_asynchronously: r.boolean("initialize_asynchronously")?.unwrap_or_default(),
        current_version_number: r.int("current_version_number")?.unwrap_or_default(),
        created: r.int("created")?.unwrap_or_default(),
    })
}

fn read_version(r: &DbRow) -> Result<FunctionVersionRow, StoreError> {
    Ok(FunctionVersionRow {
        id: r.int("id")?.unwrap_or_default(),
        application_id: r.int("application_id")?.unwrap_or_default(),
        function_id: r.int("function_id")?.unwrap_or_default(),
        version_number: r.int("version_number")?.unwrap_or_default(),
        handler_script: r.text("handler_script")?.unwrap_or_default(),
        created: r.int("created")?.unwrap_or_default(),
    })
}

/// The functions of `app`.
fn select(app: i64) -> SelectStatement {
    let mut q = Query::select();
    q.from(functions())
        .columns(COLUMNS.map(Ident::new))
        .and_where(col("application_id").eq(app));
    q
}

/// The function versions of `app`.
fn select_versions(app: i64) -> SelectStatement {
    let mut q = Query::select();
    q.from(versions())
        .columns(VERSION_COLUMNS.map(Ident::new))
        .and_where(col("application_id").eq(app));
    q
}

#[derive(Debug, Clone)]
pub struct Functions {
    db: Db,
}

impl Functions {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Inserts `f` inside `tx`, enabled and without versions. [`StoreError::Conflict`] when its
    /// application has a function for that trigger already.
    pub async fn insert_in(tx: &mut Tx, f: &NewFunctionRow) -> Result<FunctionRow, StoreError> {
        let mut q = Query::insert();
        q.into_table(functions())
            .columns(
                [
                    "application_id",
                    "type",
                    "name",
                    "description",
                    "enabled",
                    "initialize_asynchronously",
                    "current_version_number",
                    "created",
                ]
                .map(Ident::new),
            )
            .values_panic([
                f.application_id.into(),
                f.trigger.as_str().into(),
                f.name.clone().into(),
                f.description.clone().into(),
                true.into(),
                f.initialize_asynchronously.into(),
                0i64.into(),
                f.created.into(),
            ])
            .returning(Query::returning().columns(COLUMNS.map(Ident::new)));
        tx.fetch_all(&q)
            .await?
            .first()
            .map(read)
            .transpose()?
            .ok_or_else(|| StoreError::Decode("inserted function".into()))
    }

    /// Function `id` of `app`.
    pub async fn get(&self, app: i64, id: i64) -> Result<Option<FunctionRow>, StoreError> {
        let mut q = select(app);
        q.and_where(col("id").eq(id));
        self.db.fetch_all(&q).await?.first().map(read).transpose()
    }

    /// The enabled functions of `app`.
    pub async fn enabled(&self, app: i64) -> Result<Vec<FunctionRow>, StoreError> {
        let mut q = select(app);
        q.and_where(col("enabled").eq(true));
        self.db.fetch_all(&q).await?.iter().map(read).collect()
    }

    /// The function of `app` that answers `trigger`, if there is one.
    pub async fn by_trigger(
        &self,
        app: i64,
        trigger: FunctionTrigger,
    ) -> Result<Option<FunctionRow>, StoreError> {
        let mut q = select(app);
        q.and_where(col("type").eq(trigger.as_str()));
        self.db.fetch_all(&q).await?.first().map(read).transpose()
    }

    /// A page of `app`'s functions by id, and how many there are.
    pub async fn page(
        &self,
        app: i64,
        ascending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<FunctionRow>, u64), StoreError> {
        let mut count = Query::select();
        count
            .from(functions())
            .expr_as(Func::count(col("id")), Ident::new("n"))
            .and_where(col("application_id").eq(app));
        let total = count_of(&self.db.fetch_all(&count).await?)?;
        let mut q = select(app);
        q.order_by(Ident::new("id"), order(ascending))
            .offset(offset)
            .limit(limit);
        let rows = self.db.fetch_all(&q).await?;
        Ok((rows.iter().map(read).collect::<Result<_, _>>()?, total))
    }

    /// Deploys a version of function `function` of `app` inside `tx`: takes the next version
    /// number from the function (which from then on names it as current) and inserts the
    /// version with it. `None` when `app` has no such function. The increment locks the
    /// function's row until `tx` ends, so a concurrent deployment waits and takes the number
    /// after this one.
    pub async fn add_version_in(
        tx: &mut Tx,
        app: i64,
        function: i64,
        handler_script: &str,
        created: i64,
    ) -> Result<Option<FunctionVersionRow>, StoreError> {
        let mut bump = Query::update();
        bump.table(functions())
            .value(
                Ident::new("current_version_number"),
                col("current_version_number").add(1),
            )
            .and_where(col("application_id").eq(app))
            .and_where(col("id").eq(function))
            .returning_col(Ident::new("current_version_number"));
        let Some(number) = tx
            .fetch_all(&bump)
            .await?
            .first()
            .map(|r| r.int("current_version_number"))
            .transpose()?
            .flatten()
        else {
            return Ok(None);
        };
        let mut ins = Query::insert();
        ins.into_table(versions())
            .columns(
                [
                    "application_id",
                    "function_id",
                    "version_number",
                    "handler_script",
                    "created",
                ]
                .map(Ident::new),
            )
            .values_panic([
                app.into(),
                function.into(),
                number.into(),
                handler_script.into(),
                created.into(),
            ])
            .returning(Query::returning().columns(VERSION_COLUMNS.map(Ident::new)));
        tx.fetch_all(&ins)
            .await?
            .first()
            .map(read_version)
            .transpose()?
            .map(Some)
            .ok_or_else(|| StoreError::Decode("inserted function version".into()))
    }

    /// Function version `id` of `app`.
    pub async fn version(
        &self,
        app: i64,
        id: i64,
    ) -> Result<Option<FunctionVersionRow>, StoreError> {
        let mut q = select_versions(app);
        q.and_where(col("id").eq(id));
        self.db
            .fetch_all(&q)
            .await?
            .first()
            .map(read_version)
            .transpose()
    }

    /// Version `number` of function `function` of `app`.
    pub async fn version_by_number(
        &self,
        app: i64,
        function: i64,
        number: i64,
    ) -> Result<Option<FunctionVersionRow>, StoreError> {
        let mut q = select_versions(app);
        q.and_where(col("function_id").eq(function))
            .and_where(col("version_number").eq(number));
        self.db
            .fetch_all(&q)
            .await?
            .first()
            .map(read_version)
            .transpose()
    }

    /// A page of the versions of function `function` of `app` by number, and how many there
    /// are.
    pub async fn versions_page(
        &self,
        app: i64,
        function: i64,
        ascending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<FunctionVersionRow>, u64), StoreError> {
        let mut count = Query::select();
        count
            .from(versions())
            .expr_as(Func::count(col("id")), Ident::new("n"))
            .and_where(col("application_id").eq(app))
            .and_where(col("function_id").eq(function));
        let total = count_of(&self.db.fetch_all(&count).await?)?;
        let mut q = select_versions(app);
        q.and_where(col("function_id").eq(function))
            .order_by(Ident::new("version_number"), order(ascending))
            .offset(offset)
            .limit(limit);
        let rows = self.db.fetch_all(&q).await?;
        Ok((
            rows.iter().map(read_version).collect::<Result<_, _>>()?,
            total,
        ))
    }
}

fn order(ascending: bool) -> Order {
    if ascending {
        Order::Asc
    } else {
        Order::Desc
    }
}
