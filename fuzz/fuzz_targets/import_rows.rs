//! Any bytes as a legacy import file (CSV or JSON lines, by the first byte): rows
//! parse or are listed as problems with their line, and every parsed row validates
//! or is refused, never a panic.
#![no_main]
use fairgate_core::import::{parse_rows, FileKind};
use fairgate_core::place::PlaceBook;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The default places, resolved once: they are the same for every input.
static PLACES: OnceLock<PlaceBook> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else { return };
    let kind = if first % 2 == 0 { FileKind::Csv } else { FileKind::JsonLines };
    let places = PLACES.get_or_init(PlaceBook::defaults);
    let now = jiff::Timestamp::constant(1_790_000_000, 0);
    if let Ok((rows, errors)) = parse_rows("fuzz", kind, rest) {
        for e in &errors {
            assert!(e.starts_with("fuzz:"), "a problem names the file and line: {e}");
        }
        for (_, row) in rows {
            let _ = row.validate(places, now);
        }
    }
});
