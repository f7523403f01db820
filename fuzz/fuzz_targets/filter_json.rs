//! Fuzzes the content API's `filter` and `where` parameters in JSON form (`?filter={…}`) through
//! the entry point its listings use: any text is an error or a filter, never a panic, and every
//! filter it yields keeps the invariants the store relies on.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use palaver_api::content::inputs;
use palaver_fuzz::filters::{check_filter, check_where, model};

#[derive(Debug, Arbitrary)]
struct Input {
    model: u8,
    /// The `where` parameter of a count instead of a listing's `filter`.
    count: bool,
    /// The parameter's value as the client sent it, before urlencoding.
    text: String,
}

fuzz_target!(|input: Input| {
    let model = model(input.model);
    let name = if input.count { "where" } else { "filter" };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair(name, &input.text)
        .finish();
    if input.count {
        if let Ok(w) = inputs::where_clause(&query, model) {
            check_where(model, &w);
        }
        return;
    }
    let Ok(filter) = inputs::filter(&query, model) else {
        return;
    };
    check_filter(model, &filter);
    // What the parameter parsed to is what the JSON it holds parses to: the query string adds
    // nothing of its own to a JSON filter.
    let json: serde_json::Value = match serde_json::from_str(input.text.trim()) {
        Ok(v) => v,
        Err(_) => serde_json::Value::Null,
    };
    let direct = palaver_domain::filter::parse_filter(model, &json);
    assert_eq!(
        direct.map(|f| format!("{f:?}")).ok(),
        Some(format!("{filter:?}")),
        "the query string changed the filter"
    );
});
