//! Fuzzes the import reader (the JSON array of elements an import file holds): any bytes are
//! batches then at most one error, never a panic; batches keep their size; and the elements of
//! a file that is a JSON array are exactly its elements past the skipped ones.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use palaver_jobs::read_import_batches;
use serde_json::Value;

#[derive(Debug, Arbitrary)]
struct Input {
    skip: u8,
    size: u8,
    file: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let skip = u64::from(input.skip % 8);
    let size = usize::from(input.size % 8) + 1;
    let read = read_import_batches(&input.file, skip, size);

    let errors = read.iter().filter(|b| b.is_err()).count();
    assert!(errors <= 1, "more than one error: {read:?}");
    if errors == 1 {
        assert!(
            read.last().is_some_and(Result::is_err),
            "batches after the error"
        );
    }
    let batches: Vec<&Vec<Value>> = read.iter().filter_map(|b| b.as_ref().ok()).collect();
    for (i, b) in batches.iter().enumerate() {
        assert!(!b.is_empty() && b.len() <= size, "batch of {}", b.len());
        // Only the last batch, or the one cut short by an error, is short.
        if i + 1 < batches.len() {
            assert_eq!(b.len(), size, "a short batch in the middle");
        }
    }
    let elements: Vec<Value> = batches.into_iter().flatten().cloned().collect();
    match serde_json::from_slice::<Vec<Value>>(&input.file) {
        Ok(all) => {
            assert_eq!(errors, 0, "a JSON array is refused: {read:?}");
            let expected: Vec<Value> = all.into_iter().skip(skip as usize).collect();
            assert_eq!(elements, expected, "elements changed");
        }
        Err(_) => assert_eq!(errors, 1, "a file that is no JSON array is accepted"),
    }
});
