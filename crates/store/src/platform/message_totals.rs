//! How many messages a history listing holds (a cursor page's `total`). The unfiltered channel,
//! thread and application histories, and what one reader sees of a channel, are read from the
//! counts that migration 0017 keeps in step with every insert and delete: one row (and the
//! reader's own deletions), however long the history. Listings filtered anyway (by sender,
//! text, type, unread) are counted.

use sea_query::{Expr, Func, Query, SelectStatement, SimpleExpr, SubQueryStatement};

use super::messages::{History, Messages, Scope, Viewing};
use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::row::DbRow;
use crate::Ident;

fn sub(q: SelectStatement) -> SimpleExpr {
    SimpleExpr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(q)))
}

fn threads() -> Ident {
    Ident::new("chat_threads")
}

fn states() -> Ident {
    Ident::new("chat_channel_user_states")
}

fn int(rows: &[DbRow], col: &str) -> Result<i64, StoreError> {
    Ok(rows
        .first()
        .map(|r| r.int(col))
        .transpose()?
        .flatten()
        .unwrap_or(0))
}

/// `viewer`'s column `col` of its state in `channel` (0 when it has none).
fn state_of(channel: i64, viewer: i64, col: &'static str) -> SimpleExpr {
    let mut q = Query::select();
    q.column((states(), Ident::new(col)))
        .from(states())
        .and_where(Expr::col((states(), Ident::new("channel_id"))).eq(channel))
        .and_where(Expr::col((states(), Ident::new("user_id"))).eq(viewer));
    Func::coalesce([sub(q), Expr::val(0).into()]).into()
}

/// How many of `channel`'s messages `viewer` deleted for itself and did not clear since: the
/// reader's own deletions, visited through their key, never the history.
fn deleted_by(channel: i64, viewer: i64, main: bool) -> SelectStatement {
    let (d, m) = (
        Ident::new("chat_message_deletions"),
        Ident::new("chat_messages"),
    );
    let mut q = Query::select();
    q.expr(Func::count(Expr::col((d.clone(), Ident::new("user_id")))))
        .from(d.clone())
        .inner_join(
            m.clone(),
            Expr::col((m.clone(), Ident::new("id"))).equals((d.clone(), Ident::new("message_id"))),
        )
        .and_where(Expr::col((d, Ident::new("user_id"))).eq(viewer))
        .and_where(Expr::col((m.clone(), Ident::new("channel_id"))).eq(channel))
        .and_where(Expr::col((m.clone(), Ident::new("seq"))).gt(state_of(
            channel,
            viewer,
            "cleared_seq",
        )));
    if main {
        q.and_where(Expr::col((m, Ident::new("nested_level"))).eq(0));
    }
    q
}

/// Messages of `channel` (MAIN-thread ones with `main`), less what `viewer` cleared or deleted
/// for itself, as one scalar expression (NULL when the channel has no MAIN thread row).
fn channel_total(app: i64, channel: i64, main: bool, viewer: Option<i64>) -> SimpleExpr {
    let counted = if main {
        "channel_main_count"
    } else {
        "channel_message_count"
    };
    let mut q = Query::select();
    q.from(threads())
        .column((threads(), Ident::new(counted)))
        .and_where(Expr::col((threads(), Ident::new("application_id"))).eq(app))
        .and_where(Expr::col((threads(), Ident::new("main_of"))).eq(channel));
    let n = sub(q);
    match viewer {
        None => n,
        Some(u) => {
            let cleared = if main {
                "cleared_main_count"
            } else {
                "cleared_count"
            };
            Expr::expr(n)
                .sub(state_of(channel, u, cleared))
                .sub(sub(deleted_by(channel, u, main)))
        }
    }
}

/// Thread `thread`'s channel if it is a MAIN thread, and its message count.
async fn thread_counts(db: &Db, app: i64, thread: i64) -> Result<(Option<i64>, i64), StoreError> {
    let mut q = Query::select();
    q.from(threads())
        .columns(["main_of", "message_count"].map(Ident::new))
        .and_where(Expr::col(Ident::new("application_id")).eq(app))
        .and_where(Expr::col(Ident::new("id")).eq(thread));
    let rows = db.fetch_all(&q).await?;
    Ok((
        rows.first()
            .map(|r| r.int("main_of"))
            .transpose()?
            .flatten(),
        int(&rows, "message_count")?,
    ))
}

fn application_total(app: i64) -> SimpleExpr {
    let mut q = Query::select();
    q.from(Ident::new("applications"))
        .column(Ident::new("message_count"))
        .and_where(Expr::col(Ident::new("id")).eq(app));
    sub(q)
}

/// Locks, inside `tx`, the MAIN thread rows of `app`'s channels (of those where `user` wrote,
/// when given) before a delete that may reach messages of several channels. The counts' triggers
/// take a channel's MAIN thread row and then the application's row for each message deleted, and
/// a send takes them in the same order: a delete crossing channels would otherwise hold the
/// application's row while waiting for a sender's MAIN thread row, and that sender for it.
pub(crate) async fn lock_channels(
    tx: &mut Tx,
    app: i64,
    user: Option<i64>,
) -> Result<(), StoreError> {
    let mut q = Query::update();
    q.table(threads())
        .value(Ident::new("last_seq"), Expr::col(Ident::new("last_seq")))
        .and_where(Expr::col(Ident::new("application_id")).eq(app))
        .and_where(Expr::col(Ident::new("main_of")).is_not_null());
    if let Some(u) = user {
        let mut written = Query::select();
        written
            .column(Ident::new("channel_id"))
            .from(Ident::new("chat_messages"))
            .and_where(Expr::col(Ident::new("user_id")).eq(u));
        q.and_where(Expr::col(Ident::new("main_of")).in_subquery(written));
    }
    tx.execute(&q).await?;
    Ok(())
}

/// The total of a listing whose scope is not a thread, as one scalar expression: a kept count
/// where one exists, else a count of the listing. A thread's depends on what the thread is
/// (read first, see [`Messages::total_as`]).
pub(crate) fn total_expr(app: i64, h: &History, v: &Viewing) -> Option<SimpleExpr> {
    let filtered = h.username.is_some() || h.text.is_some() || !v.types.is_empty();
    let other_channel = |c: i64| v.channel.is_some_and(|x| x != c);
    Some(match h.scope {
        Scope::Thread(_) => return None,
        Scope::Channel(c) if !filtered && !other_channel(c) => {
            channel_total(app, c, v.main_thread, v.viewer)
        }
        Scope::Application
            if !filtered && v.viewer.is_none() && !v.main_thread && v.channel.is_none() =>
        {
            application_total(app)
        }
        // A sender's, a member's unread and every filtered listing: counted.
        _ => sub(Messages::count_query(app, h, v)),
    })
}

/// The value of a total expression as a count: NULL (no such channel) is none, and a reader's
/// deductions never take it below zero.
pub(crate) fn total_of(n: Option<i64>) -> u64 {
    n.unwrap_or(0).max(0) as u64
}

/// Reads `e`, a total expression, on its own.
async fn read_total(db: &Db, e: SimpleExpr) -> Result<u64, StoreError> {
    let mut q = Query::select();
    q.expr_as(e, Ident::new("n"));
    Ok(total_of(
        db.fetch_all(&q)
            .await?
            .first()
            .map(|r| r.int("n"))
            .transpose()?
            .flatten(),
    ))
}

impl Messages {
    /// How many messages the listing `h` (ignoring its bounds and limit) holds as `v` sees it.
    pub async fn total_as(&self, app: i64, h: &History, v: &Viewing) -> Result<u64, StoreError> {
        let db = self.db();
        let t = match (total_expr(app, h, v), h.scope) {
            (Some(e), _) => return read_total(db, e).await,
            (None, Scope::Thread(t)) => t,
            // Only a thread's total has no expression; any other is counted.
            (None, _) => return self.count_as(app, h, v).await,
        };
        let filtered = h.username.is_some() || h.text.is_some() || !v.types.is_empty();
        if filtered {
            return self.count_as(app, h, v).await;
        }
        let (main_of, count) = thread_counts(db, app, t).await?;
        match main_of {
            // A channel's MAIN thread is its MAIN-thread history.
            Some(c) if v.channel.is_none_or(|x| x == c) => {
                read_total(db, channel_total(app, c, true, v.viewer)).await
            }
            None if v.viewer.is_none() && !v.main_thread && v.channel.is_none() => {
                Ok(count.max(0) as u64)
            }
            // A reply or standalone thread seen by one reader: counted, a thread long.
            _ => self.count_as(app, h, v).await,
        }
    }
}
