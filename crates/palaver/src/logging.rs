//! The process's log lines on stderr: human-readable by default, one JSON object per line with
//! `PALAVER_LOG_FORMAT=json`; `PALAVER_LOG` filters them by level and target (`info` by
//! default, `palaver_api=debug,sqlx=warn`).
//!
//! The filter is a fixed `Targets` list, not an `EnvFilter`: an `EnvFilter` keeps a map of live
//! spans behind a lock shared by every thread and takes it at each span's creation, each
//! entry into and exit from it (every poll of a request's future) and its close; a list of
//! targets is read without one. The span-field directives an `EnvFilter` would also take are
//! not needed here.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// `text` (or unset) or `json`, in any case.
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("") => Ok(LogFormat::Text),
            Some(v) if v.eq_ignore_ascii_case("text") => Ok(LogFormat::Text),
            Some(v) if v.eq_ignore_ascii_case("json") => Ok(LogFormat::Json),
            Some(v) => Err(format!(
                "PALAVER_LOG_FORMAT is \"{v}\"; it takes \"text\" or \"json\""
            )),
        }
    }
}

/// The filter `PALAVER_LOG` spells (`info` when unset or empty).
pub fn targets(value: Option<&str>) -> Result<Targets, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(Targets::new().with_default(tracing::Level::INFO)),
        Some(v) => v.parse().map_err(|e| {
            format!(
                "PALAVER_LOG is \"{v}\" ({e}); it takes a level (`info`) or targets with levels \
                 (`palaver_api=debug,sqlx=warn,info`)"
            )
        }),
    }
}

/// Whether text lines are coloured: only for a person at a terminal, and not when `NO_COLOR`
/// is set to anything. Escape codes in a file or a log collector are noise (and formatting them
/// is work done for every request's span).
pub fn colours(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Installs the process's subscriber as `PALAVER_LOG_FORMAT` and `PALAVER_LOG` say.
pub fn init_from_env() -> Result<(), String> {
    use std::io::IsTerminal;
    let format = LogFormat::parse(std::env::var("PALAVER_LOG_FORMAT").ok().as_deref())?;
    let filter = targets(std::env::var("PALAVER_LOG").ok().as_deref())?;
    let ansi = colours(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let lines = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Text => registry.with(lines).init(),
        // The event's fields at the top level beside `message`; the spans it happened in
        // (a request's id, method and route) under `span` and `spans`.
        LogFormat::Json => registry.with(lines.json().flatten_event(true)).init(),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_text_unless_json_is_asked_for() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("TEXT")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some(" json ")), Ok(LogFormat::Json));
        let e = LogFormat::parse(Some("yaml")).unwrap_err();
        assert!(e.contains("\"yaml\""), "{e}");
    }

    #[test]
    fn lines_are_coloured_only_at_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(colours(true, None));
        assert!(colours(true, Some(OsStr::new(""))));
        assert!(!colours(true, Some(OsStr::new("1"))));
        assert!(!colours(false, None));
    }

    #[test]
    fn the_filter_takes_a_level_or_targets_with_levels() {
        use tracing::Level;
        let default = targets(None).unwrap();
        assert!(default.would_enable("palaver_api", &Level::INFO));
        assert!(!default.would_enable("palaver_api", &Level::DEBUG));
        assert_eq!(
            targets(Some(" ")).unwrap().default_level(),
            default.default_level()
        );
        let some = targets(Some("palaver_api=debug,sqlx=warn,info")).unwrap();
        assert!(some.would_enable("palaver_api::observe", &Level::DEBUG));
        assert!(!some.would_enable("sqlx::query", &Level::INFO));
        assert!(some.would_enable("palaver_store", &Level::INFO));
        assert!(!some.would_enable("palaver_store", &Level::DEBUG));
        let e = targets(Some("palaver=loud")).unwrap_err();
        assert!(e.contains("\"palaver=loud\""), "{e}");
    }
}
