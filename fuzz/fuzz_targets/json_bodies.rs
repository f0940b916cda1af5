//! Any bytes as the JSON body of a request: the first byte picks which of the API's
//! input types (every one whose rules live in the core), the rest is parsed and, if
//! it parses, validated. Each answers or refuses with the field named, never a
//! panic. (The server's own wrappers around these are exercised end to end by
//! Schemathesis against /openapi.json: see RELIABILITY.md.)
#![no_main]
use fairgate_core::place::PlaceBook;
use libfuzzer_sys::fuzz_target;

fn check<T: serde::de::DeserializeOwned>(data: &[u8], validate: impl FnOnce(T) -> Result<(), fairgate_core::Invalid>) {
    if let Ok(input) = serde_json::from_slice::<T>(data) {
        if let Err(invalid) = validate(input) {
            assert!(
                !invalid.0.is_empty() && invalid.0.iter().all(|e| !e.field.is_empty()),
                "a refusal names its fields"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    use fairgate_core::*;
    let Some((pick, body)) = data.split_first() else { return };
    let book = PlaceBook::defaults();
    let now = jiff::Timestamp::constant(1_790_000_000, 0);
    let today = jiff::civil::date(2026, 9, 21);
    match pick % 13 {
        0 => check(body, |i: subject::SubjectInput| i.validate(today).map(drop)),
        1 => check(body, |i: crossing::CrossingInput| i.validate(&book, now).map(drop)),
        2 => check(body, |i: registration::RegistrationInput| i.validate(&book, now).map(drop)),
        3 => check(body, |i: document::DocumentInput| i.validate("document").map(drop)),
        4 => check(body, |i: correction::CorrectionInput| i.validate().map(drop)),
        5 => check(body, |i: obligation::NoticeInput| i.validate(today).map(drop)),
        6 => check(body, |i: obligation::ExcuseInput| i.validate().map(drop)),
        7 => check(body, |i: obligation::ChangeInput| i.validate_details(today).map(drop)),
        8 => check(body, |i: expungement::Authority| i.validate().map(drop)),
        9 => check(body, |i: expungement::ExpungementInput| i.validate().map(drop)),
        10 => check(body, |i: designation::DesignationInput| i.validate(&book).map(drop)),
        11 => check(body, |i: appointment::InterviewInput| {
            i.validate(&["Purpose of the visit?".to_string(), "Address?".to_string()]).map(drop)
        }),
        _ => check(body, |i: import::ImportRow| i.validate(&book, now).map(drop)),
    }
});
