//! The process's log lines on stderr: human-readable by default, one JSON object per line with
//! `PALAVER_LOG_FORMAT=json`; `PALAVER_LOG` filters them by level and target (`info` by
//! default, `palaver_api=debug,sqlx=warn`).
//!
//! The filter is a fixed `Targets` list, not an `EnvFilter`: an `EnvFilter` keeps a map of live
//! spans behind a lock shared by every thread and takes it at each span's creation, each
//! entry into and exit from it (every poll of a request's future) and its close; a list of
//! targets is read without one. The span-field directives an `EnvFilter` would also take are
//! not needed here.
//!
//! Text lines are never coloured: escape codes are noise in a file or a log collector, and
//! tracing-subscriber's `ansi` feature wraps every field name of every span and line in a style
//! to write, coloured or not (nearly a third of the work of making a request's span).

mod request_fields;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;

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

/// Installs the process's subscriber as `PALAVER_LOG_FORMAT` and `PALAVER_LOG` say.
pub fn init_from_env() -> Result<(), String> {
    let format = LogFormat::parse(std::env::var("PALAVER_LOG_FORMAT").ok().as_deref())?;
    let filter = targets(std::env::var("PALAVER_LOG").ok().as_deref())?;
    tracing::dispatcher::set_global_default(dispatch(format, filter, std::io::stderr))
        .map_err(|e| format!("cannot install the log subscriber: {e}"))
}

/// The subscriber writing `format` lines that `filter` lets through to `writer`.
fn dispatch<W>(format: LogFormat, filter: Targets, writer: W) -> tracing::Dispatch
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let lines = tracing_subscriber::fmt::layer()
        // Without the `ansi` feature no colour is written; said so, not left to `NO_COLOR`.
        .with_ansi(false)
        .with_writer(writer);
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(request_fields::layer(format));
    match format {
        LogFormat::Text => tracing::Dispatch::new(registry.with(lines)),
        // The event's fields at the top level beside `message`; the spans it happened in
        // (a request's id, method and route) under `span` and `spans`.
        LogFormat::Json => tracing::Dispatch::new(registry.with(lines.json().flatten_event(true))),
    }
}

/// Lines written into memory, for the tests.
#[cfg(test)]
#[derive(Clone, Default)]
struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl std::io::Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'w self) -> Buffer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::routing::get;
    use tower::ServiceExt;

    /// The lines `format` writes while a route logs twice inside a request, another request logs
    /// nothing, and a line is logged outside any request.
    async fn lines_of_requests(format: LogFormat) -> Vec<String> {
        let buffer = Buffer::default();
        let d = dispatch(format, targets(None).unwrap(), buffer.clone());
        let _default = tracing::dispatcher::set_default(&d);
        let app = axum::Router::new()
            .route(
                "/things/{id}",
                get(|| async {
                    tracing::error!("first");
                    tracing::warn!(n = 2, "second");
                    "ok"
                }),
            )
            .route("/quiet", get(|| async { "ok" }))
            .layer(palaver_api::observe::RequestLayer);
        for (uri, id) in [("/things/7", "abc-1"), ("/quiet", "quiet-1")] {
            let req = axum::http::Request::get(uri)
                .header("x-request-id", id)
                .body(axum::body::Body::empty())
                .unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.headers()["x-request-id"], id);
        }
        tracing::error!("outside");
        let written = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        written.lines().map(str::to_string).collect()
    }

    #[tokio::test]
    async fn a_text_line_inside_a_request_carries_its_span_fields_once() {
        let lines = lines_of_requests(LogFormat::Text).await;
        assert_eq!(lines.len(), 3, "{lines:#?}");
        let span = r#"request{request_id="abc-1" method="GET" route="/things/{id}"}:"#;
        for (line, message) in lines[..2].iter().zip(["first", "second"]) {
            assert!(line.contains(span), "{line}");
            assert!(
                line.ends_with(message) || line.contains(&format!("{message} ")),
                "{line}"
            );
            assert_eq!(line.matches("request_id=").count(), 1, "{line}");
        }
        assert!(lines[1].contains("n=2"), "{}", lines[1]);
        assert!(lines[2].contains("outside"), "{}", lines[2]);
        assert!(!lines[2].contains("request"), "{}", lines[2]);
        assert!(lines.iter().all(|l| !l.contains("quiet-1")), "{lines:#?}");
    }

    #[tokio::test]
    async fn a_json_line_inside_a_request_carries_its_span_fields() {
        let lines = lines_of_requests(LogFormat::Json).await;
        assert_eq!(lines.len(), 3, "{lines:#?}");
        let lines: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        for (line, message) in lines[..2].iter().zip(["first", "second"]) {
            assert_eq!(line["message"], message, "{line}");
            let span = &line["span"];
            assert_eq!(span["name"], "request", "{line}");
            assert_eq!(span["request_id"], "abc-1", "{line}");
            assert_eq!(span["method"], "GET", "{line}");
            assert_eq!(span["route"], "/things/{id}", "{line}");
            assert_eq!(line["spans"].as_array().map(Vec::len), Some(1), "{line}");
        }
        assert_eq!(lines[1]["n"], 2);
        assert_eq!(lines[2]["message"], "outside");
        assert!(lines[2].get("span").is_none(), "{}", lines[2]);
    }

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
