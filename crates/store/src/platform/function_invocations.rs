//! The record of each run of a chat function: what it was called with, on which version, how
//! it ended (its result or error) and what it printed. A run is recorded RUNNING when it
//! starts and ended once; pages list a function's runs newest first.

use palaver_domain::platform::functions::InvocationStatus;
use sea_query::{Func, Order, Query, SelectStatement};
use serde_json::Value;

use crate::db::Db;
use crate::error::StoreError;
use crate::ident::col;
use crate::row::DbRow;
use crate::Ident;

/// A stored invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct InvocationRow {
    pub id: i64,
    pub application_id: i64,
    pub function_id: i64,
    pub version_number: i64,
    /// A JSON object.
    pub args: Value,
    /// A JSON object: `{}` until the run succeeds.
    pub result: Value,
    pub status: InvocationStatus,
    pub error: Option<String>,
    pub output: Option<String>,
    pub created: i64,
    pub ended: Option<i64>,
}

/// An invocation to record as RUNNING.
#[derive(Debug, Clone)]
pub struct NewInvocation {
    pub application_id: i64,
    pub function_id: i64,
    pub version_number: i64,
    pub args: Value,
    pub created: i64,
}

/// How a RUNNING invocation ended.
#[derive(Debug, Clone)]
pub struct InvocationEnd {
    pub status: InvocationStatus,
    pub result: Value,
    pub error: Option<String>,
    pub output: Option<String>,
    pub ended: i64,
}

fn invocations() -> Ident {
    Ident::new("function_invocations")
}

const COLUMNS: [&str; 11] = [
    "id",
    "application_id",
    "function_id",
    "version_number",
    "args",
    "result",
    "status",
    "error",
    "output",
    "created",
    "ended",
];

fn json(r: &DbRow, column: &str) -> Result<Value, StoreError> {
    let text = r.text(column)?.unwrap_or_default();
    serde_json::from_str(&text)
        .map_err(|_| StoreError::Decode(format!("function_invocations.{column}")))
}

fn read(r: &DbRow) -> Result<InvocationRow, StoreError> {
    let status = r.text("status")?.unwrap_or_default();
    Ok(InvocationRow {
        id: r.int("id")?.unwrap_or_default(),
        application_id: r.int("application_id")?.unwrap_or_default(),
        function_id: r.int("function_id")?.unwrap_or_default(),
        version_number: r.int("version_number")?.unwrap_or_default(),
        args: json(r, "args")?,
        result: json(r, "result")?,
        status: InvocationStatus::parse(&status)
            .ok_or_else(|| StoreError::Decode("function_invocations.status".into()))?,
        error: r.text("error")?,
        output: r.text("output")?,
        created: r.int("created")?.unwrap_or_default(),
        ended: r.int("ended")?,
    })
}

/// The invocations of `app`.
fn select(app: i64) -> SelectStatement {
    let mut q = Query::select();
    q.from(invocations())
        .columns(COLUMNS.map(Ident::new))
        .and_where(col("application_id").eq(app));
    q
}

#[derive(Debug, Clone)]
pub struct Invocations {
    db: Db,
}

impl Invocations {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Records `i` as RUNNING, with an empty result.
    pub async fn start(&self, i: &NewInvocation) -> Result<InvocationRow, StoreError> {
        let mut q = Query::insert();
        q.into_table(invocations())
            .columns(
                [
                    "application_id",
                    "function_id",
                    "version_number",
                    "args",
                    "result",
                    "status",
                    "created",
                ]
                .map(Ident::new),
            )
            .values_panic([
                i.application_id.into(),
                i.function_id.into(),
                i.version_number.into(),
                i.args.to_string().into(),
                "{}".into(),
                InvocationStatus::Running.as_str().into(),
                i.created.into(),
            ])
            .returning(Query::returning().columns(COLUMNS.map(Ident::new)));
        self.db
            .write_returning(&q)
            .await?
            .first()
            .map(read)
            .transpose()?
            .ok_or_else(|| StoreError::Decode("inserted invocation".into()))
    }

    /// Ends invocation `id` of `app` as `end` says; false when there is no such invocation or
    /// it has ended already (an invocation ends once).
    pub async fn finish(&self, app: i64, id: i64, end: &InvocationEnd) -> Result<bool, StoreError> {
        let mut q = Query::update();
        q.table(invocations())
            .value(Ident::new("status"), end.status.as_str())
            .value(Ident::new("result"), end.result.to_string())
            .value(Ident::new("error"), end.error.clone())
            .value(Ident::new("output"), end.output.clone())
            .value(Ident::new("ended"), end.ended)
            .and_where(col("application_id").eq(app))
            .and_where(col("id").eq(id))
            .and_where(col("status").eq(InvocationStatus::Running.as_str()));
        Ok(self.db.execute(&q).await? == 1)
    }

    /// Invocation `id` of `app`.
    pub async fn get(&self, app: i64, id: i64) -> Result<Option<InvocationRow>, StoreError> {
        let mut q = select(app);
        q.and_where(col("id").eq(id));
        self.db.fetch_all(&q).await?.first().map(read).transpose()
    }

    /// A page of the invocations of function `function` of `app` by id (newest first unless
    /// `ascending`), and how many there are.
    pub async fn page(
        &self,
        app: i64,
        function: i64,
        ascending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<InvocationRow>, u64), StoreError> {
        let mut count = Query::select();
        count
            .from(invocations())
            .expr_as(Func::count(col("id")), Ident::new("n"))
            .and_where(col("application_id").eq(app))
            .and_where(col("function_id").eq(function));
        let total = self
            .db
            .fetch_all(&count)
            .await?
            .first()
            .map(|r| r.int("n"))
            .transpose()?
            .flatten()
            .unwrap_or(0)
            .max(0) as u64;
        let mut q = select(app);
        q.and_where(col("function_id").eq(function))
            .order_by(
                Ident::new("id"),
                if ascending { Order::Asc } else { Order::Desc },
            )
            .offset(offset)
            .limit(limit);
        let rows = self.db.fetch_all(&q).await?;
        Ok((rows.iter().map(read).collect::<Result<_, _>>()?, total))
    }
}
