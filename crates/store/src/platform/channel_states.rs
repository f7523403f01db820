//! What a user sets for itself in a channel: muted, hidden from its channel list (until the next
//! message), history cleared up to a point; and messages it deleted for itself alone. Callers
//! check first that the channel or message belongs to their application; rows here are keyed by
//! channel (or message) and user.

use sea_query::{Expr, Func, OnConflict, Query};

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::row::DbRow;
use crate::Ident;

/// One user's settings in one channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelState {
    pub channel_id: i64,
    pub user_id: i64,
    pub muted: bool,
    /// Hidden while the channel's last message number is at most this.
    pub hidden_seq: Option<i64>,
    /// Messages numbered at most this are gone from the user's history.
    pub cleared_seq: Option<i64>,
    pub updated: i64,
}

fn table() -> Ident {
    Ident::new("chat_channel_user_states")
}

fn read(r: &DbRow) -> Result<ChannelState, StoreError> {
    Ok(ChannelState {
        channel_id: r.int("channel_id")?.unwrap_or_default(),
        user_id: r.int("user_id")?.unwrap_or_default(),
        muted: r.boolean("muted")?.unwrap_or(false),
        hidden_seq: r.int("hidden_seq")?,
        cleared_seq: r.int("cleared_seq")?,
        updated: r.int("updated")?.unwrap_or_default(),
    })
}

const COLUMNS: [&str; 6] = [
    "channel_id",
    "user_id",
    "muted",
    "hidden_seq",
    "cleared_seq",
    "updated",
];

/// The last message number `channel` has given (0 before its first message).
async fn last_seq(tx: &mut Tx, channel: i64) -> Result<i64, StoreError> {
    let mut q = Query::select();
    q.from(Ident::new("chat_threads"))
        .expr_as(
            Func::coalesce([
                Func::max(Expr::col(Ident::new("last_seq"))).into(),
                Expr::val(0).into(),
            ]),
            Ident::new("n"),
        )
        .and_where(Expr::col(Ident::new("main_of")).eq(channel));
    Ok(tx
        .fetch_all(&q)
        .await?
        .first()
        .map(|r| r.int("n"))
        .transpose()?
        .flatten()
        .unwrap_or(0))
}

/// `channel`'s last message number and its message counts (all, MAIN-thread), read from one row
/// and locked with it: a delete committing in between would otherwise leave the counts it
/// moved (see migration 0017) one behind what they describe. (0, 0, 0) before its first message.
async fn cleared_counts(tx: &mut Tx, channel: i64) -> Result<(i64, i64, i64), StoreError> {
    let mut q = Query::update();
    q.table(Ident::new("chat_threads"))
        .value(Ident::new("last_seq"), Expr::col(Ident::new("last_seq")))
        .and_where(Expr::col(Ident::new("main_of")).eq(channel))
        .returning(
            Query::returning().columns(
                ["last_seq", "channel_message_count", "channel_main_count"].map(Ident::new),
            ),
        );
    let rows = tx.fetch_all(&q).await?;
    let Some(r) = rows.first() else {
        return Ok((0, 0, 0));
    };
    Ok((
        r.int("last_seq")?.unwrap_or_default(),
        r.int("channel_message_count")?.unwrap_or_default(),
        r.int("channel_main_count")?.unwrap_or_default(),
    ))
}

#[derive(Debug, Clone)]
pub struct ChannelStates {
    db: Db,
}

impl ChannelStates {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// `user`'s settings in `channel`; the defaults when it never set any.
    pub async fn get(&self, channel: i64, user: i64) -> Result<ChannelState, StoreError> {
        let mut q = Query::select();
        q.from(table())
            .columns(COLUMNS.map(Ident::new))
            .and_where(Expr::col(Ident::new("channel_id")).eq(channel))
            .and_where(Expr::col(Ident::new("user_id")).eq(user));
        let rows = self.db.fetch_all(&q).await?;
        Ok(rows.first().map(read).transpose()?.unwrap_or(ChannelState {
            channel_id: channel,
            user_id: user,
            ..ChannelState::default()
        }))
    }

    /// Sets one column of `user`'s row in `channel` inside `tx`, making the row if needed.
    async fn put(
        tx: &mut Tx,
        channel: i64,
        user: i64,
        column: &'static str,
        value: sea_query::Value,
        now: i64,
    ) -> Result<(), StoreError> {
        Self::put_all(tx, channel, user, &[(column, value)], now).await
    }

    /// Sets `values` of `user`'s row in `channel` inside `tx`, making the row if needed.
    async fn put_all(
        tx: &mut Tx,
        channel: i64,
        user: i64,
        values: &[(&'static str, sea_query::Value)],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut columns = vec!["channel_id", "user_id"];
        columns.extend(values.iter().map(|(c, _)| *c));
        columns.push("updated");
        let mut row: Vec<sea_query::SimpleExpr> = vec![channel.into(), user.into()];
        row.extend(values.iter().map(|(_, v)| Expr::val(v.clone()).into()));
        row.push(now.into());
        let mut q = Query::insert();
        q.into_table(table())
            .columns(columns.iter().map(|c| Ident::new(*c)))
            .values_panic(row)
            .on_conflict(
                OnConflict::columns(["channel_id", "user_id"].map(Ident::new))
                    .update_columns(columns[2..].iter().map(|c| Ident::new(*c)))
                    .to_owned(),
            );
        tx.execute(&q).await?;
        Ok(())
    }

    /// Mutes or unmutes `channel` for `user` inside `tx`.
    pub async fn set_muted(
        tx: &mut Tx,
        channel: i64,
        user: i64,
        muted: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        Self::put(tx, channel, user, "muted", muted.into(), now).await
    }

    /// Hides `channel` from `user`'s list until its next message, inside `tx`.
    pub async fn hide(tx: &mut Tx, channel: i64, user: i64, now: i64) -> Result<(), StoreError> {
        let seq = last_seq(tx, channel).await?;
        Self::put(tx, channel, user, "hidden_seq", seq.into(), now).await
    }

    /// Clears `user`'s history of `channel` up to its last message, inside `tx`; answers that
    /// message's number (0 when there is none).
    /// With the number, how many messages (all, and MAIN-thread ones) it hides, so that a
    /// history page can count what this user sees without counting the history.
    pub async fn clear(tx: &mut Tx, channel: i64, user: i64, now: i64) -> Result<i64, StoreError> {
        let (seq, all, main) = cleared_counts(tx, channel).await?;
        Self::put_all(
            tx,
            channel,
            user,
            &[
                ("cleared_seq", seq.into()),
                ("cleared_count", all.into()),
                ("cleared_main_count", main.into()),
            ],
            now,
        )
        .await?;
        Ok(seq)
    }

    /// The users who hid `channel` when its last message was number `seq`: message `seq + 1`
    /// brings it back to their lists.
    pub async fn hidden_at(&self, channel: i64, seq: i64) -> Result<Vec<i64>, StoreError> {
        let mut q = Query::select();
        q.from(table())
            .column(Ident::new("user_id"))
            .and_where(Expr::col(Ident::new("channel_id")).eq(channel))
            .and_where(Expr::col(Ident::new("hidden_seq")).eq(seq));
        let rows = self.db.fetch_all(&q).await?;
        rows.iter()
            .map(|r| Ok(r.int("user_id")?.unwrap_or_default()))
            .collect()
    }

    /// The `(channel, user)` pairs among `channels`' that are muted: one query for a batch.
    pub async fn muted_among(&self, channels: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Query::select();
        q.from(table())
            .columns(["channel_id", "user_id"].map(Ident::new))
            .and_where(Expr::col(Ident::new("channel_id")).is_in(channels.iter().copied()))
            .and_where(Expr::col(Ident::new("muted")).eq(true));
        let rows = self.db.fetch_all(&q).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.int("channel_id")?.unwrap_or_default(),
                    r.int("user_id")?.unwrap_or_default(),
                ))
            })
            .collect()
    }

    /// Deletes `message` for `user` alone inside `tx`; false when it already was.
    pub async fn delete_message_for(
        tx: &mut Tx,
        message: i64,
        user: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut q = Query::insert();
        q.into_table(Ident::new("chat_message_deletions"))
            .columns(["user_id", "message_id", "created"].map(Ident::new))
            .values_panic([user.into(), message.into(), now.into()])
            .on_conflict(
                OnConflict::columns(["user_id", "message_id"].map(Ident::new))
                    .do_nothing()
                    .to_owned(),
            );
        Ok(tx.execute(&q).await? > 0)
    }
}
