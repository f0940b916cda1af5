//! Any bytes as an ISO/IEC 19794-2 record: `minutiae::parse` answers or refuses with
//! an offset inside the input, never panics; what it reads writes back byte for byte.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match fairgate_core::minutiae::parse(data) {
        Ok(rec) => assert_eq!(fairgate_core::minutiae::encode(&rec).expect("a read record writes"), data),
        Err(e) => assert!(e.offset <= data.len()),
    }
});
