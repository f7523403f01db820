//! Every request's span fields written once, as the line formatter would write them, without its
//! general machinery.
//!
//! The formatter writes a span's fields when the span is made, through `fmt::Write` and a
//! visitor built for any value of any type: for the three strings of a request's span that was
//! most of the span's cost, paid on every request though most requests log nothing. This layer
//! runs before the formatter and leaves the same text in the span's extensions, where the
//! formatter finds it and writes nothing itself. Any other span, or a request span whose fields
//! are not the strings it expects, is left to the formatter.

use std::fmt;
use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::fmt::format::{DefaultFields, JsonFields};
use tracing_subscriber::fmt::FormattedFields;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::LogFormat;

/// The layer, for lines of `format`.
pub(super) fn layer(format: LogFormat) -> RequestFields {
    RequestFields { format }
}

/// See the module doc.
pub(super) struct RequestFields {
    format: LogFormat,
}

/// The most fields a request span has.
const MOST: usize = 3;

/// A request span's string fields, in the order they were given: their names, and where each
/// value lies in `values`.
struct Strings {
    values: String,
    fields: [(&'static str, usize, usize); MOST],
    len: usize,
    /// A field that is not a string, or one too many: the formatter writes this span.
    other: bool,
}

impl Default for Strings {
    fn default() -> Self {
        Strings {
            // A request id of 32 digits, a method and a route template, in one allocation.
            values: String::with_capacity(128),
            fields: [("", 0, 0); MOST],
            len: 0,
            other: false,
        }
    }
}

impl Visit for Strings {
    fn record_str(&mut self, field: &Field, value: &str) {
        let name = field.name();
        // The formatter writes a message without its name and drops or renames these.
        let special = name == "message" || name.starts_with("log.") || name.starts_with("r#");
        if self.len == MOST || special {
            self.other = true;
            return;
        }
        let start = self.values.len();
        self.values.push_str(value);
        self.fields[self.len] = (name, start, self.values.len());
        self.len += 1;
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn fmt::Debug) {
        self.other = true;
    }
}

/// Whether `{:?}` writes `value` as itself between quotes: printable ASCII without a quote or
/// a backslash.
fn plain(value: &str) -> bool {
    /// The bytes `{:?}` writes otherwise: all but printable ASCII, and `"` and `\`.
    const ESCAPED: [bool; 256] = {
        let mut t = [true; 256];
        let mut b = b' ';
        while b <= b'~' {
            t[b as usize] = b == b'"' || b == b'\\';
            b += 1;
        }
        t
    };
    !value.bytes().any(|b| ESCAPED[b as usize])
}

impl Strings {
    fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.fields[..self.len]
            .iter()
            .map(|&(name, start, end)| (name, &self.values[start..end]))
    }

    /// As `DefaultFields` writes them: `name="value"` apart by spaces, each value as `{:?}`
    /// writes a string.
    fn text(&self) -> String {
        let mut out = String::with_capacity(self.values.len() + 64);
        for (name, value) in self.iter() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(name);
            out.push('=');
            if plain(value) {
                out.push('"');
                out.push_str(value);
                out.push('"');
            } else {
                // Writing into a `String` does not fail.
                let _ = write!(out, "{value:?}");
            }
        }
        out
    }

    /// As `JsonFields` writes them: one object, its keys in order.
    fn json(&self) -> String {
        let mut fields: Vec<(&str, &str)> = self.iter().collect();
        fields.sort_unstable_by_key(|&(name, _)| name);
        let object: serde_json::Map<String, serde_json::Value> = fields
            .into_iter()
            .map(|(name, value)| (name.to_string(), value.into()))
            .collect();
        serde_json::Value::Object(object).to_string()
    }
}

impl<S> Layer<S> for RequestFields
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let meta = attrs.metadata();
        if meta.target() != palaver_api::observe::SPAN_TARGET || meta.name() != "request" {
            return;
        }
        let mut strings = Strings::default();
        attrs.record(&mut strings);
        if strings.other {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        // `insert` panics on a second value of a type: one already there is kept.
        let mut extensions = span.extensions_mut();
        match self.format {
            LogFormat::Text
                if extensions
                    .get_mut::<FormattedFields<DefaultFields>>()
                    .is_none() =>
            {
                extensions.insert(FormattedFields::<DefaultFields>::new(strings.text()));
            }
            LogFormat::Json
                if extensions
                    .get_mut::<FormattedFields<JsonFields>>()
                    .is_none() =>
            {
                extensions.insert(FormattedFields::<JsonFields>::new(strings.json()));
            }
            LogFormat::Text | LogFormat::Json => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::super::Buffer;
    use super::*;

    /// What `log` writes, with this layer before the formatter or without it.
    fn written(format: LogFormat, with_layer: bool, log: impl Fn()) -> String {
        let buffer = Buffer::default();
        // A macro, not a closure: each arm's formatter is of another subscriber's type.
        macro_rules! lines {
            () => {
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .without_time()
                    .with_writer(buffer.clone())
            };
        }
        let registry = tracing_subscriber::registry();
        let dispatch = match (format, with_layer) {
            (LogFormat::Text, true) => {
                tracing::Dispatch::new(registry.with(layer(format)).with(lines!()))
            }
            (LogFormat::Text, false) => tracing::Dispatch::new(registry.with(lines!())),
            (LogFormat::Json, true) => {
                tracing::Dispatch::new(registry.with(layer(format)).with(lines!().json()))
            }
            (LogFormat::Json, false) => tracing::Dispatch::new(registry.with(lines!().json())),
        };
        tracing::dispatcher::with_default(&dispatch, log);
        let written = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        written.trim_end().to_string()
    }

    /// A line logged inside a request span with these fields.
    fn line(format: LogFormat, with_layer: bool, id: &str, route: &str) -> String {
        written(format, with_layer, || {
            let method = "GET";
            let span = tracing::error_span!(
                target: palaver_api::observe::SPAN_TARGET,
                "request",
                request_id = id,
                method,
                route
            );
            span.in_scope(|| tracing::error!(n = 2, "inside"));
        })
    }

    const CASES: [(&str, &str); 6] = [
        ("it's~ok", "/a b/{id}"),
        ("abc-1", "/v1/users/{id}"),
        ("4f0c2a9e", "unmatched"),
        (r#"quote"and\slash"#, "/api/bots/{id}/flakes"),
        ("tab\there", "/r/{*rest}"),
        ("", "/é/ü"),
    ];

    #[test]
    fn text_fields_are_the_formatters_own() {
        for (id, route) in CASES {
            let ours = line(LogFormat::Text, true, id, route);
            let theirs = line(LogFormat::Text, false, id, route);
            assert_eq!(ours, theirs);
            assert!(ours.contains("n=2"), "{ours}");
        }
        let plain = line(LogFormat::Text, true, "abc-1", "/x");
        assert!(
            plain.contains(r#"request{request_id="abc-1" method="GET" route="/x"}: "#),
            "{plain}"
        );
    }

    #[test]
    fn json_fields_are_the_formatters_own() {
        for (id, route) in CASES {
            let ours: serde_json::Value =
                serde_json::from_str(&line(LogFormat::Json, true, id, route)).unwrap();
            let theirs: serde_json::Value =
                serde_json::from_str(&line(LogFormat::Json, false, id, route)).unwrap();
            assert_eq!(ours, theirs);
            assert_eq!(ours["span"]["request_id"], id, "{ours}");
            assert_eq!(ours["span"]["method"], "GET", "{ours}");
            assert_eq!(ours["span"]["route"], route, "{ours}");
        }
    }

    #[test]
    fn spans_it_does_not_expect_are_left_to_the_formatter() {
        let odd = || {
            // A request span whose id is a number, one with a fourth field, and another span.
            let a = tracing::error_span!(target: palaver_api::observe::SPAN_TARGET, "request",
                request_id = 7, method = "GET", route = "/x");
            a.in_scope(|| tracing::error!("a"));
            let b = tracing::error_span!(target: palaver_api::observe::SPAN_TARGET, "request",
                request_id = "b", method = "GET", route = "/x", extra = "e");
            b.in_scope(|| tracing::error!("b"));
            let c = tracing::error_span!("other", request_id = "c");
            c.in_scope(|| tracing::error!("c"));
            let d = tracing::error_span!(target: palaver_api::observe::SPAN_TARGET, "request",
                message = "m", method = "GET");
            d.in_scope(|| tracing::error!("d"));
        };
        for format in [LogFormat::Text, LogFormat::Json] {
            let ours = written(format, true, odd);
            assert_eq!(ours, written(format, false, odd));
            assert_eq!(ours.lines().count(), 4, "{ours}");
            assert!(ours.contains("extra"), "{ours}");
        }
        let text = written(LogFormat::Text, true, odd);
        assert!(text.contains("request{request_id=7 "), "{text}");
        assert!(text.contains(r#"other{request_id="c"}"#), "{text}");
        assert!(text.contains(r#"request{m method="GET"}"#), "{text}");
    }

    /// Whether each new span arrived with its fields already written, in the order made.
    #[derive(Clone, Default)]
    struct Probe(Arc<Mutex<Vec<bool>>>);

    impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Probe {
        fn on_new_span(&self, _: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
            let span = ctx.span(id).unwrap();
            let written = span
                .extensions()
                .get::<FormattedFields<DefaultFields>>()
                .is_some();
            self.0.lock().unwrap().push(written);
        }
    }

    #[test]
    fn request_spans_reach_the_formatter_written_and_others_do_not() {
        let probe = Probe::default();
        let registry = tracing_subscriber::registry()
            .with(layer(LogFormat::Text))
            .with(probe.clone());
        tracing::subscriber::with_default(registry, || {
            let _a = tracing::error_span!(target: palaver_api::observe::SPAN_TARGET, "request",
                request_id = "a", method = "GET", route = "/x");
            let _b = tracing::error_span!(target: palaver_api::observe::SPAN_TARGET, "request",
                request_id = 7, method = "GET", route = "/x");
            let _c = tracing::error_span!("other", request_id = "c");
        });
        assert_eq!(*probe.0.lock().unwrap(), [true, false, false]);
    }

    #[test]
    fn strings_are_written_as_the_formatters_write_them() {
        let mut s = Strings::default();
        for (name, value) in [
            ("request_id", "a\"b"),
            ("method", "GET"),
            ("route", "/x/{id}"),
        ] {
            let start = s.values.len();
            s.values.push_str(value);
            s.fields[s.len] = (name, start, s.values.len());
            s.len += 1;
        }
        assert_eq!(
            s.text(),
            r#"request_id="a\"b" method="GET" route="/x/{id}""#
        );
        assert_eq!(
            s.json(),
            r#"{"method":"GET","request_id":"a\"b","route":"/x/{id}"}"#
        );
    }
}
