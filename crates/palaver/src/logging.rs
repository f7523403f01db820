//! The process's log lines on stderr: human-readable by default, one JSON object per line with
//! `PALAVER_LOG_FORMAT=json`; `PALAVER_LOG` filters them (an `EnvFilter`, `info` by default).

use tracing_subscriber::EnvFilter;

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

/// Installs the process's subscriber as `PALAVER_LOG_FORMAT` and `PALAVER_LOG` say.
pub fn init_from_env() -> Result<(), String> {
    let format = LogFormat::parse(std::env::var("PALAVER_LOG_FORMAT").ok().as_deref())?;
    let filter = EnvFilter::try_from_env("PALAVER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let lines = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => lines.init(),
        // The event's fields at the top level beside `message`; the spans it happened in
        // (a request's id, method and route) under `span` and `spans`.
        LogFormat::Json => lines.json().flatten_event(true).init(),
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
}
