//! Any text as a CBEFF XML document (ISO/IEC 19785-3 patron format, as a capture
//! station's export carries records): its data blocks are read or refused, and each
//! block is then read as the record its format names (ISO/IEC 19794-2 minutiae,
//! 19794-4 finger image, 19794-5 face) or refused, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(blocks) = fairgate_core::cbeff::data_blocks(text) else { return };
    assert!(!blocks.is_empty(), "a document without a block is refused");
    for (_owner, _kind, bdb) in blocks {
        let _ = fairgate_core::minutiae::parse(&bdb);
        let _ = fairgate_core::finger_image::parse(&bdb);
        let _ = fairgate_core::face::parse(&bdb);
    }
});
