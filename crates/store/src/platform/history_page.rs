//! One history page in one statement: its messages, what a page shows beside each message (its
//! sender, report count, whether it has reactions, its reply thread and that thread's size) and
//! the listing's total. Read
//! apart, these were six statements a page; on PostgreSQL each is a round trip, and the round
//! trips (the network stack and both processes' thread switches) were most of a page's cost.

use sea_query::{
    Cond, Expr, Func, JoinType, Query, SelectStatement, SimpleExpr, SubQueryStatement,
};

use super::chat_users::{self, ChatUserRow};
use super::message_totals::{total_expr, total_of};
use super::messages::{self, History, MessageRow, Messages, Viewing};
use super::threads::{self, ThreadRow};
use crate::error::StoreError;
use crate::row::{Columns, DbRow, Prefixed};
use crate::Ident;

/// What a page shows beside a message, read with it.
#[derive(Debug, Clone, Default)]
pub struct Beside {
    /// How many users reported it.
    pub report_count: u64,
    /// Whether it has any reaction (the reactions themselves are read only for these).
    pub reacted: bool,
    /// The thread of its replies, if it has one, and how many messages that thread holds.
    pub reply_thread: Option<(ThreadRow, u64)>,
}

/// A history page as read: its messages in page order, each with what it shows beside it, and
/// how many the whole listing holds.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    pub rows: Vec<(MessageRow, Beside)>,
    /// The page's senders, each once (a sender's columns are decoded from its first message
    /// only; most pages have a handful of senders for fifty messages).
    pub senders: Vec<ChatUserRow>,
    pub total: u64,
}

/// The names the page statement gives its joins and their columns.
const SENDER: &str = "su";
const SENDER_COLUMNS: &str = "su_";
const THREAD: &str = "rt";
const THREAD_COLUMNS: &str = "rt_";

fn sub(q: SelectStatement) -> SimpleExpr {
    SimpleExpr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(q)))
}

fn message_id() -> (Ident, Ident) {
    (Ident::new("chat_messages"), Ident::new("id"))
}

/// `table`'s rows of `app` that are about the page's message.
fn about_message(table: &'static str, app: i64) -> SelectStatement {
    let t = Ident::new(table);
    let mut q = Query::select();
    q.from(t.clone())
        .and_where(Expr::col((t.clone(), Ident::new("application_id"))).eq(app))
        .and_where(Expr::col((t, Ident::new("message_id"))).equals(message_id()));
    q
}

/// Adds to the page statement `q` the joins and columns [`read_beside`] reads: the sender and
/// the reply thread joined (each at most one row: a user by its key, a thread by its unique
/// parent), the report count and whether there are reactions as one index probe each.
fn select_beside(q: &mut SelectStatement, app: i64) {
    let (sender, thread) = (Ident::new(SENDER), Ident::new(THREAD));
    q.join_as(
        JoinType::LeftJoin,
        Ident::new("chat_users"),
        sender.clone(),
        Expr::col((sender, Ident::new("id")))
            .equals((Ident::new("chat_messages"), Ident::new("user_id"))),
    )
    .join_as(
        JoinType::LeftJoin,
        Ident::new("chat_threads"),
        thread.clone(),
        Cond::all()
            .add(Expr::col((thread.clone(), Ident::new("parent_message_id"))).equals(message_id()))
            .add(Expr::col((thread.clone(), Ident::new("application_id"))).eq(app)),
    );
    chat_users::select_as(q, SENDER, SENDER_COLUMNS);
    threads::select_as(q, THREAD, THREAD_COLUMNS);
    // The thread's kept count of its messages (migration 0017), not a count of them.
    q.expr_as(
        Expr::col((thread, Ident::new("message_count"))),
        Ident::new("rt_message_count"),
    );
    let mut reports = about_message("chat_message_reports", app);
    reports.expr(Func::count(Expr::col(Ident::new("user_id"))));
    let mut reactions = about_message("chat_message_reactions", app);
    reactions.expr(Expr::val(1));
    q.expr_as(sub(reports), Ident::new("beside_reports"))
        .expr_as(Expr::exists(reactions), Ident::new("beside_reacted"));
}

/// The sender of the page row `r`, unless it has none or `senders` holds it already.
fn read_sender(r: &DbRow, senders: &[ChatUserRow]) -> Result<Option<ChatUserRow>, StoreError> {
    let sender = Prefixed {
        row: r,
        prefix: SENDER_COLUMNS,
    };
    match sender.int("id")? {
        Some(id) if !senders.iter().any(|u| u.id == id) => Ok(Some(chat_users::read(&sender)?)),
        _ => Ok(None),
    }
}

fn read_beside(r: &DbRow) -> Result<Beside, StoreError> {
    let thread = Prefixed {
        row: r,
        prefix: THREAD_COLUMNS,
    };
    Ok(Beside {
        report_count: r.int("beside_reports")?.unwrap_or(0).max(0) as u64,
        reacted: r.boolean("beside_reacted")?.unwrap_or(false),
        reply_thread: match thread.int("id")? {
            Some(_) => Some((
                threads::read(&thread)?,
                thread.int("message_count")?.unwrap_or(0).max(0) as u64,
            )),
            None => None,
        },
    })
}

impl Messages {
    /// The page `h` of what `v` sees, as [`Messages::history_as`], with what each message shows
    /// beside it and the listing's total ([`Messages::total_as`]), read in one statement when
    /// the page has messages and its total needs no read first.
    pub async fn history_page_as(
        &self,
        app: i64,
        h: &History,
        v: &Viewing,
    ) -> Result<HistoryPage, StoreError> {
        let mut q = messages::history_query(app, h, v);
        select_beside(&mut q, app);
        let total = total_expr(app, h, v);
        let with_total = total.is_some();
        if let Some(e) = total {
            q.expr_as(e, Ident::new("page_total"));
        }
        let found = self.db().fetch_all(&q).await?;
        let mut rows = Vec::with_capacity(found.len());
        let mut senders = Vec::new();
        for r in &found {
            rows.push((messages::read(r)?, read_beside(r)?));
            senders.extend(read_sender(r, &senders)?);
        }
        if h.after.is_some() {
            rows.reverse();
        }
        let total = match found.first() {
            Some(r) if with_total => total_of(r.int("page_total")?),
            // No row to carry it, or a thread's: read on its own.
            _ => self.total_as(app, h, v).await?,
        };
        Ok(HistoryPage {
            rows,
            senders,
            total,
        })
    }
}
