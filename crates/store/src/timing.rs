//! The store's own metrics, recorded at the one seam every repository goes through (`Db` and
//! `Tx`): how long statements take, and how long a write waits for SQLite's single writer.

//!
//! The histograms' handles are taken once, by [`install`], from the process's recorder (it is
//! process-global and installed once): finding a series by name and label on every statement
//! cost more than the timing. Before [`install`] nothing is timed (there is nothing to record
//! into), so a process without metrics does not read the clock around every statement.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Instant;

use metrics::Histogram;

/// Statement latency, by kind of statement (`select`, `insert`, `update`, `delete`, `other`).
pub const QUERY_DURATION: &str = "palaver_db_query_duration_seconds";
/// How long a SQLite write (a statement or a transaction) waited for this process's writer.
pub const WRITE_QUEUE_WAIT: &str = "palaver_db_write_queue_wait_seconds";

/// The statement kinds, in the order of [`Timers::statements`].
const KINDS: [&str; 5] = ["select", "insert", "update", "delete", "other"];

struct Timers {
    statements: [Histogram; 5],
    write_wait: Histogram,
}

static TIMERS: OnceLock<Timers> = OnceLock::new();

/// Starts timing statements and write waits, into the recorder installed now.
pub fn install() {
    TIMERS.get_or_init(|| Timers {
        statements: KINDS.map(|k| metrics::histogram!(QUERY_DURATION, "statement" => k)),
        write_wait: metrics::histogram!(WRITE_QUEUE_WAIT),
    });
}

/// Whether statements are timed: the store reads the clock for them only then.
pub(crate) fn on() -> bool {
    TIMERS.get().is_some()
}

/// Runs `query` (the statement `sql`) and records how long it took.
pub(crate) async fn timed<T>(sql: &str, query: impl Future<Output = T>) -> T {
    let Some(timers) = TIMERS.get() else {
        return query.await;
    };
    let started = Instant::now();
    let out = query.await;
    timers.statements[statement_kind(sql)].record(started.elapsed().as_secs_f64());
    out
}

/// Runs `statement` (the statement `sql`, run on this thread) and records how long it took.
pub(crate) fn timed_now<T>(sql: &str, statement: impl FnOnce() -> T) -> T {
    let Some(timers) = TIMERS.get() else {
        return statement();
    };
    let started = Instant::now();
    let out = statement();
    timers.statements[statement_kind(sql)].record(started.elapsed().as_secs_f64());
    out
}

/// Records how long a write waited for its turn.
pub(crate) fn waited_for_writer(since: Instant) {
    if let Some(timers) = TIMERS.get() {
        timers.write_wait.record(since.elapsed().as_secs_f64());
    }
}

/// The statement's first keyword, as the index of its label in [`KINDS`].
fn statement_kind(sql: &str) -> usize {
    let word = sql.split_whitespace().next().unwrap_or_default();
    KINDS[..4]
        .iter()
        .position(|k| word.eq_ignore_ascii_case(k))
        .unwrap_or(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_labelled_by_their_first_keyword() {
        let kind = |sql| KINDS[statement_kind(sql)];
        assert_eq!(kind("SELECT \"id\" FROM \"jobs\""), "select");
        assert_eq!(kind("  insert INTO x VALUES (1)"), "insert");
        assert_eq!(kind("UPDATE x SET a = 1"), "update");
        assert_eq!(kind("DELETE FROM x"), "delete");
        assert_eq!(kind("WITH a AS (SELECT 1) SELECT * FROM a"), "other");
        assert_eq!(kind(""), "other");
    }
}
