//! Fuzzes the platform API's keyset cursors: any text is an error or a position, never a panic;
//! a position's cursor decodes to it in its own listing; any cursor request yields a window or
//! an error, and cutting a fetched page by that window keeps to the page size.
//!
//! Input, one item a line: the listing, a cursor as a client sends it, a position, a request's
//! query string (`size=…&next=…&relation=…`), and the keys fetched (comma-separated).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palaver_domain::platform::cursor::{decode, encode, CursorRequest};
use palaver_domain::platform::paging::MAX_SIZE;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let mut line = || lines.next().unwrap_or_default();
    let (listing, raw, position, query, keys) = (line(), line(), line(), line(), line());

    // Any text: an error or a position whose cursor is the number that was sent.
    if let Ok(p) = decode(listing, raw, "next") {
        assert!(p >= 0, "negative position {p}");
        let sent: i64 = raw.trim().parse().unwrap_or(-1);
        assert_eq!(encode(listing, p), sent, "decoded {raw:?}");
    }

    // encode ∘ decode = id for the positions a cursor can hold (negative ones are clamped to 0,
    // ones past the largest to the largest).
    if let Ok(position) = position.trim().parse::<i64>() {
        let cursor = encode(listing, position);
        assert!(cursor >= 0, "negative cursor {cursor}");
        match decode(listing, &cursor.to_string(), "start") {
            Ok(p) if p == position.max(0) => {}
            Ok(p) if position > p && encode(listing, p) == cursor => {}
            other => panic!("position {position} came back as {other:?}"),
        }
        // Another listing's cursor is refused unless its check collides (1 in 65,536).
        let other = format!("{listing}#");
        if let Ok(p) = decode(&other, &cursor.to_string(), "start") {
            assert_eq!(encode(&other, p), cursor);
        }
    }

    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let Ok(request) = CursorRequest::from_query(&pairs) else {
        return;
    };
    assert!(
        (1..=MAX_SIZE).contains(&request.size),
        "size {}",
        request.size
    );
    let Ok(window) = request.window(listing) else {
        return;
    };
    let fetched: Vec<i64> = keys
        .split(',')
        .filter_map(|k| k.trim().parse().ok())
        .take(request.size as usize + 1)
        .collect();
    let cut = window.cut(fetched.clone(), request.size, |k| *k);
    assert!(cut.items.len() as u64 <= request.size, "page over size");
    assert!(
        cut.items.iter().all(|k| fetched.contains(k)),
        "the page holds keys that were not fetched"
    );
});
