//! Fuzzes the real-time gateway's STOMP 1.2 frame decoder: no input panics it, the chunking of
//! the input does not change what it decodes, and every frame it decodes re-encodes and decodes
//! to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palaver_gateway::frame::{Decoder, FrameError, Item};

const MAX_FRAME: usize = 64 * 1024;
const SMALL_FRAME: usize = 64;

fuzz_target!(|data: &[u8]| {
    // The first byte says how many of the next bytes are chunk sizes, used in turn.
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let (sizes, input) = rest.split_at(usize::from(count % 8).min(rest.len()));
    let mut chunks = Vec::new();
    let mut remaining = input;
    for size in sizes.iter().cycle() {
        if remaining.is_empty() {
            break;
        }
        let (chunk, tail) = remaining.split_at(usize::from(*size).clamp(1, remaining.len()));
        chunks.push(chunk);
        remaining = tail;
    }
    if sizes.is_empty() {
        chunks.push(input);
    }

    // Inputs stay under 64 KiB, so a small limit too, to reach the size checks.
    for max_frame in [SMALL_FRAME, MAX_FRAME] {
        let (items, error) = decode(max_frame, chunks.iter().copied());
        let (whole, whole_error) = decode(max_frame, [input]);
        assert_eq!(items, whole, "chunking changed the items");
        assert_eq!(
            error.is_some(),
            whole_error.is_some(),
            "chunking changed the outcome"
        );
    }

    for item in decode(MAX_FRAME, chunks).0 {
        let Item::Frame(frame) = item else { continue };
        let mut expected = frame.clone();
        if !frame.body.is_empty() && frame.get("content-length").is_none() {
            expected
                .headers
                .push(("content-length".into(), frame.body.len().to_string()));
        }
        // Re-encoding may escape characters that arrived raw, so it may grow past the limit.
        let (again, error) = decode(usize::MAX, [frame.encode().as_slice()]);
        assert_eq!(error, None, "re-encoded frame fails: {frame:?}");
        assert_eq!(
            again,
            vec![Item::Frame(expected)],
            "re-encoded frame differs"
        );
    }
});

/// Every item decoded from `chunks`, up to the first error.
fn decode<'a>(
    max_frame: usize,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<Item>, Option<FrameError>) {
    let mut decoder = Decoder::new(max_frame);
    let mut items = Vec::new();
    for chunk in chunks {
        decoder.push(chunk);
        loop {
            match decoder.next_item() {
                Ok(Some(item)) => items.push(item),
                Ok(None) => break,
                Err(error) => return (items, Some(error)),
            }
        }
    }
    (items, None)
}
