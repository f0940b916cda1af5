//! Any text as a program file: the program language compiles it or lists what is
//! wrong, never panics; a program that compiles compiles again the same from its
//! own source (the compiler is deterministic).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match fairgate_core::program::lang::compile(text) {
        Ok(spec) => {
            let again = fairgate_core::program::lang::compile(text).expect("compiled once, compiles again");
            assert_eq!(format!("{spec:?}"), format!("{again:?}"));
        }
        Err(errors) => assert!(!errors.to_string().is_empty(), "a refusal says what is wrong"),
    }
});
