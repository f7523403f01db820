//! What content channels fed from web sources keep beside their documents: the schedule row of
//! each active channel (the id of its one pending run job) and the feed items each bot has
//! taken. Schedule changes lock the channel's row before they look at it, so writers on several
//! instances take turns, and a job the row does not name knows it is stale.

use sea_query::{LockType, OnConflict, Query};

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::ident::col;
use crate::Ident;

fn schedules() -> Ident {
    Ident::new("channel_schedules")
}

fn items() -> Ident {
    Ident::new("channel_items")
}

/// The job kind the schedule's jobs have (the domain's `CHANNEL_RUN`); only such pending jobs
/// are ever cancelled here.
const RUN_KIND: &str = "CHANNEL_RUN";

/// Channel schedules, inside the caller's transaction.
pub struct ChannelSchedules;

impl ChannelSchedules {
    /// Makes sure channel `channel_id` has a schedule row and locks it until `tx` ends (on
    /// PostgreSQL; SQLite's single writer already serializes), answering the pending job it
    /// names. Every schedule change starts here.
    pub async fn lock(
        tx: &mut Tx,
        organisation_id: &str,
        bot_id: &str,
        channel_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let mut ins = Query::insert();
        ins.into_table(schedules())
            .columns(["channel_id", "organisation_id", "bot_id"].map(Ident::new))
            .values_panic([channel_id.into(), organisation_id.into(), bot_id.into()])
            .on_conflict(
                OnConflict::column(Ident::new("channel_id"))
                    .do_nothing()
                    .to_owned(),
            );
        tx.execute(&ins).await?;
        let mut q = Query::select();
        q.column(Ident::new("job_id"))
            .from(schedules())
            .and_where(col("channel_id").eq(channel_id))
            .and_where(col("organisation_id").eq(organisation_id))
            .lock(LockType::Update);
        let rows = tx.fetch_all(&q).await?;
        match rows.first() {
            Some(r) => r.int("job_id"),
            None => Ok(None),
        }
    }

    /// Names `job_id` (or none) as the channel's pending job; the row must be locked.
    pub async fn set(tx: &mut Tx, channel_id: &str, job_id: Option<i64>) -> Result<(), StoreError> {
        let mut q = Query::update();
        q.table(schedules())
            .value(Ident::new("job_id"), job_id)
            .and_where(col("channel_id").eq(channel_id));
        tx.execute(&q).await?;
        Ok(())
    }

    /// Deletes job `job_id` if it is still a pending channel run (one a worker holds already
    /// will find itself stale).
    pub async fn cancel_job(tx: &mut Tx, job_id: i64) -> Result<(), StoreError> {
        let mut q = Query::delete();
        q.from_table(Ident::new("jobs"))
            .and_where(col("id").eq(job_id))
            .and_where(col("kind").eq(RUN_KIND))
            .and_where(col("state").eq("PENDING"));
        tx.execute(&q).await?;
        Ok(())
    }

    /// Cancels the pending jobs of the bot's channels (of one channel when `channel_id` is
    /// given) and removes their schedule rows.
    pub async fn remove(
        db: &Db,
        organisation_id: &str,
        bot_id: &str,
        channel_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = db.begin().await?;
        let mut scoped = Query::select();
        scoped
            .column(Ident::new("job_id"))
            .from(schedules())
            .and_where(col("organisation_id").eq(organisation_id))
            .and_where(col("bot_id").eq(bot_id))
            .and_where(col("job_id").is_not_null());
        if let Some(id) = channel_id {
            scoped.and_where(col("channel_id").eq(id));
        }
        let mut jobs = Query::delete();
        jobs.from_table(Ident::new("jobs"))
            .and_where(col("id").in_subquery(scoped))
            .and_where(col("kind").eq(RUN_KIND))
            .and_where(col("state").eq("PENDING"));
        tx.execute(&jobs).await?;
        let mut rows = Query::delete();
        rows.from_table(schedules())
            .and_where(col("organisation_id").eq(organisation_id))
            .and_where(col("bot_id").eq(bot_id));
        if let Some(id) = channel_id {
            rows.and_where(col("channel_id").eq(id));
        }
        tx.execute(&rows).await?;
        tx.commit().await
    }
}

/// A feed item a bot takes: the digests that name it, and the flake made of it.
#[derive(Debug, Clone)]
pub struct TakenItem<'a> {
    pub organisation_id: &'a str,
    pub bot_id: &'a str,
    pub channel_id: &'a str,
    pub flake_id: &'a str,
    pub keys: &'a [String],
    pub now: i64,
}

/// The feed items bots have taken.
pub struct ChannelItems;

impl ChannelItems {
    /// Which of `keys` the bot has taken already: a read before any write, so that a run skips
    /// the items it met before without a transaction each.
    pub async fn taken(
        db: &Db,
        organisation_id: &str,
        bot_id: &str,
        keys: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let mut found = Vec::new();
        // Bounded lists keep each statement's parameters well under either engine's limit.
        for chunk in keys.chunks(500) {
            let mut q = Query::select();
            q.column(Ident::new("item_key"))
                .from(items())
                .and_where(col("organisation_id").eq(organisation_id))
                .and_where(col("bot_id").eq(bot_id))
                .and_where(col("item_key").is_in(chunk.iter().cloned()));
            for r in db.fetch_all(&q).await? {
                if let Some(k) = r.text("item_key")? {
                    found.push(k);
                }
            }
        }
        Ok(found)
    }

    /// Records `item` as taken inside `tx`, the transaction that creates its flake. False when
    /// one of its keys was taken meanwhile (by another run): then `tx` must be dropped.
    pub async fn take(tx: &mut Tx, item: &TakenItem<'_>) -> Result<bool, StoreError> {
        if item.keys.is_empty() {
            return Ok(false);
        }
        let mut q = Query::insert();
        q.into_table(items()).columns(
            [
                "bot_id",
                "item_key",
                "organisation_id",
                "channel_id",
                "flake_id",
                "created",
            ]
            .map(Ident::new),
        );
        for k in item.keys {
            q.values_panic([
                item.bot_id.into(),
                k.clone().into(),
                item.organisation_id.into(),
                item.channel_id.into(),
                item.flake_id.into(),
                item.now.into(),
            ]);
        }
        q.on_conflict(
            OnConflict::columns([Ident::new("bot_id"), Ident::new("item_key")])
                .do_nothing()
                .to_owned(),
        );
        let inserted = tx.execute(&q).await?;
        Ok(inserted == item.keys.len() as u64)
    }
}
