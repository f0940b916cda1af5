//! ANSI/NIST-ITL transaction files: any bytes are refused with an offset inside them,
//! or read, and what is read converts to ISO records or is refused, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match fairgate_core::an2k::parse(data) {
        Err(e) => assert!(e.offset <= data.len()),
        Ok(t) => {
            let _ = fairgate_core::an2k::to_records(&t);
        }
    }
});
