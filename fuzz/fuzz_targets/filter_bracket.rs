//! Fuzzes the content API's `filter` parameter in bracket form (`?filter[where][status]=x`):
//! any query string is an error or a filter, never a panic; and a filter tree written in
//! bracket form reads as the same JSON, and parses to the same filter, as in JSON form.
//!
//! Input: a first byte 0 makes the rest a filter tree (through `arbitrary`); any other first
//! byte picks the model and the rest is a raw query string, as the seeds are.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use palaver_api::content::inputs;
use palaver_fuzz::filters::{bracket_query, check_filter, json_query, model, Node};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    if first != 0 {
        let model = model(first);
        let query = String::from_utf8_lossy(rest);
        let _ = inputs::query_string(&query);
        if let Ok(filter) = inputs::filter(&query, model) {
            check_filter(model, &filter);
        }
        return;
    }
    let mut u = Unstructured::new(rest);
    let (Ok(pick), Ok(tree)) = (u8::arbitrary(&mut u), Node::arbitrary_take_rest(u)) else {
        return;
    };
    let model = model(pick);
    let Some(value) = tree.to_json(0) else { return };
    if !value.is_object() {
        return;
    }
    let brackets = bracket_query("filter", &value);
    let read = inputs::query_string(&brackets);
    assert_eq!(read.get("filter"), Some(&value), "bracket form {brackets}");
    let from_brackets = inputs::filter(&brackets, model);
    let from_json = inputs::filter(&json_query("filter", &value), model);
    match (&from_brackets, &from_json) {
        (Ok(a), Ok(b)) => {
            check_filter(model, a);
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "forms differ");
        }
        (Err(a), Err(b)) => assert_eq!(a.code, b.code, "forms fail differently"),
        _ => panic!("one form parses, the other not: {from_brackets:?} / {from_json:?}"),
    }
});
