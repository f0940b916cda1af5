//! Any text as a machine-readable zone: `mrz::read` answers or refuses, never panics,
//! and a zone it reads as valid writes back to a zone that reads the same.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let today = jiff::civil::date(2026, 11, 30);
    if let Ok((reading, failures)) = fairgate_core::mrz::read(text, today) {
        assert_eq!(reading.valid, failures.is_empty());
        if reading.valid && reading.repairs.is_empty() && !reading.name_truncated {
            if let Ok(lines) = fairgate_core::mrz::encode(&reading.fields) {
                let (again, f) = fairgate_core::mrz::read(&lines.join("\n"), today).expect("a written zone reads");
                assert!(f.is_empty());
                assert_eq!(again.fields, reading.fields);
            }
        }
    }
});
