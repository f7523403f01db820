//! The process's file-descriptor limit, raised at start from its soft value to its hard one:
//! every connection takes a descriptor, and the soft limit many systems start a process with
//! (1024, or less) is reached by a few hundred idle clients.

/// Raises the soft limit to the hard one, and says so in the log.
pub fn raise() {
    match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Err(e) => tracing::warn!("cannot read the file-descriptor limit: {e}"),
        Ok((soft, hard)) if soft >= hard => {
            tracing::info!(
                limit = soft,
                "file-descriptor limit at its hard limit already"
            );
        }
        Ok((soft, hard)) => match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(raised) => {
                tracing::info!(
                    from = soft,
                    to = raised,
                    hard,
                    "file-descriptor limit raised"
                );
            }
            Err(e) => {
                tracing::warn!(soft, hard, "cannot raise the file-descriptor limit: {e}");
            }
        },
    }
}
