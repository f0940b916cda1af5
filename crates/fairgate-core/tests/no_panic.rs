//! Property tests: every validator answers arbitrary input with Ok or a named field
//! error, and never panics. The server relies on this for everything a request sends.

use fairgate_core::crossing::CrossingInput;
use fairgate_core::document::DocumentInput;
use fairgate_core::ids::{RegistrationNumber, SubjectId};
use fairgate_core::place::PlaceBook;
use fairgate_core::program::ProgramInput;
use fairgate_core::registration::{Interview, QuestionAnswer, RegistrationInput};
use fairgate_core::subject::SubjectInput;
use jiff::Timestamp;
use proptest::prelude::*;

fn book() -> PlaceBook {
    PlaceBook::defaults()
}

const NOW: Timestamp = Timestamp::constant(1_790_000_000, 0);

/// Strings that are mostly near-valid (dates, times, codes) with arbitrary noise.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}",
        "[+-]?[0-9]{4,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})",
        "[A-Za-z0-9<\\- ]{0,30}",
        Just("JFK".to_string()),
        Just("entry".to_string()),
        Just("exit".to_string()),
    ]
}

proptest! {
    #[test]
    fn subject_validation_never_panics(f in proptest::collection::vec(field(), 10)) {
        let input = SubjectInput {
            document: DocumentInput { kind: f[0].clone(), issuing_state: f[1].clone(), number: f[2].clone(), expires_on: f[3].clone() },
            surname: f[4].clone(),
            given_names: f[5].clone(),
            birth_date: f[6].clone(),
            sex: f[7].clone(),
            nationality: f[8].clone(),
        };
        match input.validate(jiff::civil::date(2026, 11, 29)) {
            Ok(_) => {}
            Err(e) => prop_assert!(e.0.iter().all(|fe| !fe.field.is_empty() && !fe.message.is_empty())),
        }
    }

    #[test]
    fn crossing_validation_never_panics(f in proptest::collection::vec(field(), 5), class in any::<bool>(), until in any::<bool>()) {
        let input = CrossingInput {
            direction: f[0].clone(),
            port: f[1].clone(),
            at: f[2].clone(),
            admission_class: class.then(|| f[3].clone()),
            admitted_until: until.then(|| f[4].clone()),
            probe: Some(fairgate_core::matching::ProbeInput {
                fingerprints: vec![f[0].clone(), f[4].clone()],
                face: Some(f[1].clone()),
            }),
        };
        let _ = input.validate(&book(), NOW);
        let _ = input.probe.as_ref().map(|p| p.validate());
        let _ = input.probe.as_ref().map(|p| p.face_image());
    }

    #[test]
    fn registration_validation_never_panics(f in proptest::collection::vec(field(), 6), with_at in any::<bool>()) {
        let input = RegistrationInput {
            kind: f[0].clone(),
            place: f[1].clone(),
            at: with_at.then(|| f[2].clone()),
            interview: Some(Interview {
                questions: vec![QuestionAnswer { question: f[3].clone(), answer: f[4].clone() }],
                notes: f[5].clone(),
                ..Default::default()
            }),
            voluntary: with_at,
            captures: None,
            probe: None,
        };
        let _ = input.validate(&book(), NOW);
    }

    #[test]
    fn program_validation_never_panics(f in proptest::collection::vec(field(), 5)) {
        let input = ProgramInput { id: f[0].clone(), title: f[1].clone(), legal_basis: f[2].clone(), starts: f[3].clone(), sunset: Some(f[4].clone()) };
        let _ = input.validate();
    }

    #[test]
    fn designation_validation_never_panics(f in proptest::collection::vec(field(), 4), referral in any::<bool>()) {
        let input = fairgate_core::designation::DesignationInput {
            reason: if referral { "referral".into() } else { f[0].clone() },
            facts: f[1].clone(),
            case_number: Some(f[2].clone()),
            place: f[3].clone(),
        };
        if let Err(e) = input.validate(&book()) {
            prop_assert!(e.0.iter().all(|fe| ["reason", "facts", "case_number", "place"].contains(&fe.field.as_str())));
        }
    }

    #[test]
    fn identifier_parsers_never_panic(s in any::<String>()) {
        let _ = s.parse::<SubjectId>();
        let _ = RegistrationNumber::parse(&s);
    }
}

/// Zones of the right shapes with arbitrary MRZ characters, and arbitrary text.
fn zone() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Z0-9<]{30}\n[A-Z0-9<]{30}\n[A-Z0-9<]{30}",
        "[A-Z0-9<]{36}\n[A-Z0-9<]{36}",
        "[A-Z0-9<]{44}\n[A-Z0-9<]{44}",
        "[IACPV]<[A-Z<]{3}[A-Z0-9<]{25}\n[0-9<]{30}\n[A-Z<]{30}",
        "P<[A-Z]{3}[A-Z<]{39}\n[A-Z0-9<]{9}[0-9][A-Z]{3}[0-9]{6}[0-9][FMX<][0-9]{6}[0-9][A-Z0-9<]{14}[0-9<][0-9]",
        "[A-Z0-9<\n ]{0,120}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn reading_any_zone_never_panics(z in zone()) {
        let today = jiff::civil::date(2026, 11, 30);
        match fairgate_core::mrz::read(&z, today) {
            Ok((r, failures)) => prop_assert_eq!(r.valid, failures.is_empty()),
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                prop_assert!(errors.iter().all(|e| !e.message.is_empty() && !e.field.is_empty()));
            }
        }
    }
}
