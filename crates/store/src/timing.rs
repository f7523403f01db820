//! The store's own metrics, recorded at the one seam every repository goes through (`Db` and
//! `Tx`): how long statements take, and how long a write waits for SQLite's single writer.

use std::future::Future;
use std::time::Instant;

/// Statement latency, by kind of statement (`select`, `insert`, `update`, `delete`, `other`).
pub const QUERY_DURATION: &str = "palaver_db_query_duration_seconds";
/// How long a SQLite write (a statement or a transaction) waited for this process's writer.
pub const WRITE_QUEUE_WAIT: &str = "palaver_db_write_queue_wait_seconds";

/// Runs `query` (the statement `sql`) and records how long it took.
pub(crate) async fn timed<T>(sql: &str, query: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = query.await;
    metrics::histogram!(QUERY_DURATION, "statement" => statement_kind(sql))
        .record(started.elapsed().as_secs_f64());
    out
}

/// Records how long a write waited for its turn.
pub(crate) fn waited_for_writer(since: Instant) {
    metrics::histogram!(WRITE_QUEUE_WAIT).record(since.elapsed().as_secs_f64());
}

/// The statement's first keyword, as a label of few values.
fn statement_kind(sql: &str) -> &'static str {
    let word = sql.split_whitespace().next().unwrap_or_default();
    ["select", "insert", "update", "delete"]
        .into_iter()
        .find(|k| word.eq_ignore_ascii_case(k))
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_labelled_by_their_first_keyword() {
        assert_eq!(statement_kind("SELECT \"id\" FROM \"jobs\""), "select");
        assert_eq!(statement_kind("  insert INTO x VALUES (1)"), "insert");
        assert_eq!(statement_kind("UPDATE x SET a = 1"), "update");
        assert_eq!(statement_kind("DELETE FROM x"), "delete");
        assert_eq!(
            statement_kind("WITH a AS (SELECT 1) SELECT * FROM a"),
            "other"
        );
        assert_eq!(statement_kind(""), "other");
    }
}
