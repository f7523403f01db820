//! The jobs table: background work as rows. A job is enqueued in the transaction of the write
//! that causes it, claimed by one statement (PostgreSQL skips rows another worker has locked;
//! SQLite's single writer makes the claim atomic), held under a lease its worker renews, and
//! claimed again once the lease runs out. Elements a job could not handle are kept beside it.

use palaver_domain::job::{JobProgress, JobState};
use sea_query::{
    Cond, Expr, Func, LockBehavior, LockType, OnConflict, Order, Query, SelectStatement,
};
use serde_json::Value;

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::ident::col;
use crate::row::{count_of, DbRow};
use crate::Ident;

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// `None` for the server's own housekeeping.
    pub application_id: Option<i64>,
    pub kind: String,
    pub payload: Value,
    /// Not claimed before this time (epoch ms).
    pub run_at: i64,
    /// Claims before the job fails for good: each run, each retry and each lease that ran out
    /// count one.
    pub max_attempts: i64,
    pub created: i64,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub id: i64,
    pub application_id: Option<i64>,
    pub kind: String,
    pub payload: Value,
    pub state: JobState,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub progress: JobProgress,
    pub result: Option<Value>,
    pub error: Option<String>,
    pub created: i64,
    pub started: Option<i64>,
    pub ended: Option<i64>,
}

/// One input element a job could not handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobErrorRow {
    /// The element's index in the job's input, from 0.
    pub position: i64,
    pub idempotency_key: Option<String>,
    pub reason: String,
}

fn jobs() -> Ident {
    Ident::new("jobs")
}

fn errors() -> Ident {
    Ident::new("job_errors")
}

const COLUMNS: [&str; 16] = [
    "id",
    "application_id",
    "kind",
    "payload",
    "state",
    "attempts",
    "max_attempts",
    "run_at",
    "lease_owner",
    "lease_until",
    "progress",
    "result",
    "error",
    "created",
    "started",
    "ended",
];

fn json(r: &DbRow, column: &str) -> Result<Option<Value>, StoreError> {
    r.text(column)?
        .map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|_| StoreError::Decode(format!("jobs.{column}")))
}

fn read(r: &DbRow) -> Result<JobRow, StoreError> {
    let state = r.text("state")?.unwrap_or_default();
    let progress = json(r, "progress")?.unwrap_or(Value::Null);
    Ok(JobRow {
        id: r.int("id")?.unwrap_or_default(),
        application_id: r.int("application_id")?,
        kind: r.text("kind")?.unwrap_or_default(),
        payload: json(r, "payload")?.unwrap_or(Value::Null),
        state: JobState::parse(&state).ok_or_else(|| StoreError::Decode("jobs.state".into()))?,
        attempts: r.int("attempts")?.unwrap_or_default(),
        max_attempts: r.int("max_attempts")?.unwrap_or_default(),
        run_at: r.int("run_at")?.unwrap_or_default(),
        lease_owner: r.text("lease_owner")?,
        lease_until: r.int("lease_until")?,
        progress: serde_json::from_value(progress)
            .map_err(|_| StoreError::Decode("jobs.progress".into()))?,
        result: json(r, "result")?,
        error: r.text("error")?,
        created: r.int("created")?.unwrap_or_default(),
        started: r.int("started")?,
        ended: r.int("ended")?,
    })
}

fn read_all(rows: &[DbRow]) -> Result<Vec<JobRow>, StoreError> {
    rows.iter().map(read).collect()
}

fn text_of(v: &Value) -> String {
    v.to_string()
}

fn progress_text(p: &JobProgress) -> String {
    serde_json::to_value(p).unwrap_or_default().to_string()
}

/// The held job `id`, as a condition: `owner` holds its lease and it is still running. Every
/// write of a worker carries it, so a worker that lost its lease changes nothing.
fn held(id: i64, owner: &str) -> Cond {
    Cond::all()
        .add(col("id").eq(id))
        .add(col("lease_owner").eq(owner))
        .add(col("state").eq(JobState::Running.as_str()))
}

#[derive(Debug, Clone)]
pub struct Jobs {
    db: Db,
}

impl Jobs {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    fn insert_statement(j: &NewJob) -> sea_query::InsertStatement {
        let mut q = Query::insert();
        q.into_table(jobs())
            .columns(
                [
                    "application_id",
                    "kind",
                    "payload",
                    "state",
                    "attempts",
                    "max_attempts",
                    "run_at",
                    "progress",
                    "created",
                ]
                .map(Ident::new),
            )
            .values_panic([
                j.application_id.into(),
                j.kind.clone().into(),
                text_of(&j.payload).into(),
                JobState::Pending.as_str().into(),
                0i64.into(),
                j.max_attempts.max(1).into(),
                j.run_at.into(),
                progress_text(&JobProgress::default()).into(),
                j.created.into(),
            ])
            .returning(Query::returning().columns(COLUMNS.map(Ident::new)));
        q
    }

    /// Enqueues `j` inside `tx`: the job exists only if the write that causes it commits.
    pub async fn enqueue(tx: &mut Tx, j: &NewJob) -> Result<JobRow, StoreError> {
        read_all(&tx.fetch_all(&Self::insert_statement(j)).await?)?
            .pop()
            .ok_or_else(|| StoreError::Decode("inserted job".into()))
    }

    /// Enqueues `j` on its own.
    pub async fn enqueue_now(&self, j: &NewJob) -> Result<JobRow, StoreError> {
        read_all(&self.db.write_returning(&Self::insert_statement(j)).await?)?
            .pop()
            .ok_or_else(|| StoreError::Decode("inserted job".into()))
    }

    /// Claims the next due job of one of `kinds` for `owner` until `lease_until`: a pending
    /// job whose `run_at` has come, or a running one whose lease ran out before `now` (its
    /// worker died), oldest due first. Counts an attempt. `None` when nothing is due.
    pub async fn claim(
        &self,
        owner: &str,
        kinds: &[&str],
        now: i64,
        lease_until: i64,
    ) -> Result<Option<JobRow>, StoreError> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let pick = col("kind").is_in(kinds.iter().copied());
        self.claim_where(owner, pick, now, lease_until).await
    }

    /// Claims job `id` as [`Jobs::claim`] would, when it is due: for a process that runs the
    /// job it just enqueued (the operator's import command).
    pub async fn claim_id(
        &self,
        owner: &str,
        id: i64,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<JobRow>, StoreError> {
        self.claim_where(owner, col("id").eq(id), now, lease_until)
            .await
    }

    async fn claim_where(
        &self,
        owner: &str,
        pick: sea_query::SimpleExpr,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<JobRow>, StoreError> {
        let mut due = Query::select();
        due.column(Ident::new("id"))
            .from(jobs())
            .cond_where(
                Cond::any()
                    .add(
                        Cond::all()
                            .add(col("state").eq(JobState::Pending.as_str()))
                            .add(col("run_at").lte(now)),
                    )
                    .add(
                        Cond::all()
                            .add(col("state").eq(JobState::Running.as_str()))
                            .add(col("lease_until").lt(now)),
                    ),
            )
            .and_where(pick)
            .order_by(Ident::new("run_at"), Order::Asc)
            .order_by(Ident::new("id"), Order::Asc)
            .limit(1)
            // On PostgreSQL, another worker's claim in flight is passed over, not waited for.
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        let mut q = Query::update();
        q.table(jobs())
            .value(Ident::new("state"), JobState::Running.as_str())
            .value(Ident::new("lease_owner"), owner)
            .value(Ident::new("lease_until"), lease_until)
            .value(Ident::new("attempts"), col("attempts").add(1))
            .value(
                Ident::new("started"),
                Func::coalesce([col("started").into(), Expr::val(now).into()]),
            )
            .and_where(col("id").in_subquery(due))
            .returning(Query::returning().columns(COLUMNS.map(Ident::new)));
        Ok(read_all(&self.db.write_returning(&q).await?)?.pop())
    }

    /// Extends `owner`'s lease of job `id`; false when the lease was lost (it ran out and
    /// another worker claimed the job, or the job ended).
    pub async fn renew(&self, id: i64, owner: &str, lease_until: i64) -> Result<bool, StoreError> {
        let mut q = Query::update();
        q.table(jobs())
            .value(Ident::new("lease_until"), lease_until)
            .cond_where(held(id, owner));
        Ok(self.db.execute(&q).await? == 1)
    }

    /// Records progress of held job `id` inside `tx` (with the rows the job wrote for it and
    /// the elements it could not handle), and extends the lease; false when the lease was lost,
    /// and then `tx` must be rolled back.
    pub async fn checkpoint(
        tx: &mut Tx,
        id: i64,
        owner: &str,
        progress: &JobProgress,
        failures: &[JobErrorRow],
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        let mut q = Query::update();
        q.table(jobs())
            .value(Ident::new("progress"), progress_text(progress))
            .value(Ident::new("lease_until"), lease_until)
            .cond_where(held(id, owner));
        if tx.execute(&q).await? != 1 {
            return Ok(false);
        }
        if !failures.is_empty() {
            let mut ins = Query::insert();
            ins.into_table(errors())
                .columns(["job_id", "position", "idempotency_key", "reason"].map(Ident::new));
            for f in failures {
                ins.values_panic([
                    id.into(),
                    f.position.into(),
                    f.idempotency_key.clone().into(),
                    f.reason.clone().into(),
                ]);
            }
            // A run again after a lost lease may meet the same element again.
            ins.on_conflict(
                OnConflict::columns([Ident::new("job_id"), Ident::new("position")])
                    .do_nothing()
                    .to_owned(),
            );
            tx.execute(&ins).await?;
        }
        Ok(true)
    }

    /// Ends held job `id` as FINISHED with `result`; false when the lease was lost.
    pub async fn finish(
        &self,
        id: i64,
        owner: &str,
        result: &Value,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.end(id, owner, JobState::Finished, Some(result), None, now)
            .await
    }

    /// Ends held job `id` as FAILED for `reason`; false when the lease was lost.
    pub async fn fail(
        &self,
        id: i64,
        owner: &str,
        reason: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.end(id, owner, JobState::Failed, None, Some(reason), now)
            .await
    }

    async fn end(
        &self,
        id: i64,
        owner: &str,
        state: JobState,
        result: Option<&Value>,
        reason: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut q = Query::update();
        q.table(jobs())
            .value(Ident::new("state"), state.as_str())
            .value(Ident::new("result"), result.map(text_of))
            .value(Ident::new("error"), reason.map(str::to_string))
            .value(Ident::new("ended"), now)
            .value(Ident::new("lease_owner"), Option::<String>::None)
            .value(Ident::new("lease_until"), Option::<i64>::None)
            .cond_where(held(id, owner));
        Ok(self.db.execute(&q).await? == 1)
    }

    /// Puts held job `id` back to PENDING until `run_at`, noting why this attempt failed;
    /// false when the lease was lost.
    pub async fn retry(
        &self,
        id: i64,
        owner: &str,
        reason: &str,
        run_at: i64,
    ) -> Result<bool, StoreError> {
        let mut q = Query::update();
        q.table(jobs())
            .value(Ident::new("state"), JobState::Pending.as_str())
            .value(Ident::new("error"), reason)
            .value(Ident::new("run_at"), run_at)
            .value(Ident::new("lease_owner"), Option::<String>::None)
            .value(Ident::new("lease_until"), Option::<i64>::None)
            .cond_where(held(id, owner));
        Ok(self.db.execute(&q).await? == 1)
    }

    /// Job `id` of `app`.
    pub async fn get(&self, app: i64, id: i64) -> Result<Option<JobRow>, StoreError> {
        let mut q = Query::select();
        q.from(jobs())
            .columns(COLUMNS.map(Ident::new))
            .and_where(col("application_id").eq(app))
            .and_where(col("id").eq(id));
        Ok(read_all(&self.db.fetch_all(&q).await?)?.pop())
    }

    /// Job `id` whatever started it, for the worker that runs it.
    pub async fn by_id(&self, id: i64) -> Result<Option<JobRow>, StoreError> {
        let mut q = Query::select();
        q.from(jobs())
            .columns(COLUMNS.map(Ident::new))
            .and_where(col("id").eq(id));
        Ok(read_all(&self.db.fetch_all(&q).await?)?.pop())
    }

    /// A page of `app`'s jobs of `kinds` (only those not yet ended when `running` is true,
    /// only ended ones when false), by id, and how many there are.
    pub async fn page(
        &self,
        app: i64,
        kinds: &[&str],
        running: Option<bool>,
        ascending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<JobRow>, u64), StoreError> {
        let mut q: SelectStatement = Query::select();
        q.from(jobs())
            .and_where(col("application_id").eq(app))
            .and_where(col("kind").is_in(kinds.iter().copied()));
        let open = [JobState::Pending.as_str(), JobState::Running.as_str()];
        match running {
            Some(true) => {
                q.and_where(col("state").is_in(open));
            }
            Some(false) => {
                q.and_where(col("state").is_not_in(open));
            }
            None => {}
        }
        let mut count = q.clone();
        count.expr_as(Func::count(col("id")), Ident::new("n"));
        let total = count_of(&self.db.fetch_all(&count).await?)?;
        let order = if ascending { Order::Asc } else { Order::Desc };
        q.columns(COLUMNS.map(Ident::new))
            .order_by(Ident::new("id"), order)
            .offset(offset)
            .limit(limit);
        Ok((read_all(&self.db.fetch_all(&q).await?)?, total))
    }

    /// The elements job `id` of `app` could not handle, by position.
    pub async fn errors(
        &self,
        app: i64,
        id: i64,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<JobErrorRow>, u64), StoreError> {
        let mut owned = Query::select();
        owned
            .column(Ident::new("id"))
            .from(jobs())
            .and_where(col("application_id").eq(app))
            .and_where(col("id").eq(id));
        let mut q = Query::select();
        q.from(errors()).and_where(col("job_id").in_subquery(owned));
        let mut count = q.clone();
        count.expr_as(Func::count(col("position")), Ident::new("n"));
        let total = count_of(&self.db.fetch_all(&count).await?)?;
        q.columns(["position", "idempotency_key", "reason"].map(Ident::new))
            .order_by(Ident::new("position"), Order::Asc)
            .offset(offset)
            .limit(limit);
        let rows = self
            .db
            .fetch_all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(JobErrorRow {
                    position: r.int("position")?.unwrap_or_default(),
                    idempotency_key: r.text("idempotency_key")?,
                    reason: r.text("reason")?.unwrap_or_default(),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok((rows, total))
    }
}
