//! ISO/IEC 19794-4 finger image records: any bytes are refused with an offset inside
//! them, or read; what is read writes back to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match fairgate_core::finger_image::parse(data) {
        Err(e) => assert!(e.offset <= data.len()),
        Ok(rec) => assert_eq!(fairgate_core::finger_image::encode(&rec).unwrap(), data),
    }
});
