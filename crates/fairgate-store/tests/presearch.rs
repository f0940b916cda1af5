//! The 1:N search run before the writer lock (`Registry::presearch`): the command
//! then records what a search under the lock alone would have found, the people
//! enrolled between the two included; a presearch made from other captures is not
//! used; one made against a gallery since rebuilt is not trusted; and a
//! registration committed while a search holds the gallery is still found.

mod common;

use base64::Engine as _;
use common::{registry_on, NOW};
use fairgate_core::access::{Actor, Role};
use fairgate_core::capture::CapturesInput;
use fairgate_core::ids::SubjectId;
use fairgate_core::registration::RegistrationInput;
use fairgate_core::subject::SubjectInput;
use fairgate_store::backend::test_store;
use fairgate_store::registry::identification::Identification;
use fairgate_store::Registry;

fn officer() -> Actor {
    Actor::new("u-officer", Role::Officer, "test")
}

fn person(number: &str) -> SubjectInput {
    serde_json::from_value(serde_json::json!({
        "document": {"kind": "P", "issuing_state": "UTO", "number": number, "expires_on": "2031-04-15"},
        "surname": "TESTER", "given_names": "ANNA", "birth_date": "1974-08-12", "sex": "F", "nationality": "UTO"
    }))
    .unwrap()
}

/// A voluntary registration with the minutiae of synthetic finger `seed` at `positions`.
fn registration(seed: u64, positions: &[u8]) -> RegistrationInput {
    let record = fairgate_core::minutiae::encode(&fairgate_biometrics::synthetic::minutiae(seed, positions)).unwrap();
    RegistrationInput {
        kind: "port-of-entry".into(),
        place: "JFK".into(),
        at: Some("2026-09-20T14:00:00Z".into()),
        voluntary: true,
        captures: Some(CapturesInput {
            fingerprints: vec![base64::engine::general_purpose::STANDARD.encode(record)],
            ..CapturesInput::default()
        }),
        probe: None,
        interview: None,
    }
}

fn subject(reg: &Registry, number: &str) -> SubjectId {
    reg.write(NOW, |b| b.create_subject(&officer(), &person(number))).unwrap().0
}

/// Record `input` for `id` with `pre` (or none), and return what its search found.
fn enrol(
    reg: &Registry,
    id: SubjectId,
    input: &RegistrationInput,
    pre: Option<fairgate_store::registry::identification::Presearch>,
) -> Identification {
    reg.write(NOW, |b| {
        let number = b.record_registration_presearched(&officer(), id, input, pre)?;
        Ok(b.identification(&number).cloned())
    })
    .unwrap()
    .0
    .expect("a registration with captures is searched")
}

fn candidates(found: &Identification) -> Vec<SubjectId> {
    found.candidates.iter().map(|c| c.subject).collect()
}

#[test]
fn a_presearch_finds_what_the_search_under_the_lock_finds_and_whoever_enrolled_in_between() {
    let dir = tempfile::tempdir().unwrap();
    let reg = registry_on(test_store(&dir.path().join("fairgate.db")).unwrap().store(), 5);
    // A is on record; B presearches with A's fingers and finds A.
    let a = subject(&reg, "A1000001");
    assert!(enrol(&reg, a, &registration(41, &[2, 7, 3]), None).candidates.is_empty());
    let b = subject(&reg, "B2000002");
    let input_b = registration(41, &[2, 7]);
    let pre = reg.presearch(&officer(), b, &input_b).expect("B's fingers are searched ahead");
    // Between B's presearch and B's command, C enrols with the same fingers: the
    // presearch never saw C, so only the comparison of those inserted since finds them.
    let c = subject(&reg, "C3000003");
    let found_c = enrol(&reg, c, &registration(41, &[2, 7, 8]), None);
    assert_eq!(candidates(&found_c), vec![a]);
    // Someone enrolled meanwhile with other fingers is compared too, and not raised.
    let d = subject(&reg, "D4000004");
    assert!(enrol(&reg, d, &registration(77, &[2, 7]), None).candidates.is_empty());
    let found_b = enrol(&reg, b, &input_b, Some(pre));
    let mut got = candidates(&found_b);
    got.sort_by_key(|s| s.to_string());
    let mut want = vec![a, c];
    want.sort_by_key(|s| s.to_string());
    assert_eq!(got, want, "A from the presearch, C from those enrolled since: {found_b:?}");
    assert_eq!(found_b.searched, 3, "the gallery as it stood under the lock: A, C and D");

    // The same registration searched under the lock alone finds the same people.
    let e = subject(&reg, "E5000005");
    let pre = reg.presearch(&officer(), e, &registration(41, &[2, 7])).unwrap();
    let with = enrol(&reg, e, &registration(41, &[2, 7]), Some(pre));
    let f = subject(&reg, "F6000006");
    let without = enrol(&reg, f, &registration(41, &[2, 7]), None);
    let mut with_c = candidates(&with);
    with_c.sort_by_key(|s| s.to_string());
    let mut without_c: Vec<SubjectId> = candidates(&without).into_iter().filter(|s| *s != e).collect();
    without_c.sort_by_key(|s| s.to_string());
    assert_eq!(with_c, without_c, "presearched or not, the same candidates (F also finds E, enrolled just before)");
    assert_eq!(with_c.len(), 3, "A, B and C");
}

#[test]
fn a_presearch_of_other_captures_or_an_older_gallery_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let reg = registry_on(test_store(&dir.path().join("fairgate.db")).unwrap().store(), 6);
    let a = subject(&reg, "A1000001");
    enrol(&reg, a, &registration(41, &[2, 7]), None);
    let b = subject(&reg, "B2000002");
    // Searched ahead with other fingers (which match no one), then recorded with A's:
    // the command sees the fingers differ and searches in full, so A is found.
    let pre = reg.presearch(&officer(), b, &registration(77, &[2, 7])).unwrap();
    assert_eq!(candidates(&enrol(&reg, b, &registration(41, &[2, 7]), Some(pre))), vec![a]);
    // Searched ahead against a gallery since built again (another epoch): not
    // trusted. D (other fingers) is in the gallery when C searches ahead and finds
    // no one; then E, with C's fingers but a lower store number than D's, enrols;
    // the gallery is built again, in store-number order, so E's stamp there is
    // below the generation C's presearch saw. Trusting that presearch would miss E.
    let e = subject(&reg, "E5000005");
    let d = subject(&reg, "D4000004");
    enrol(&reg, d, &registration(77, &[2, 7]), None);
    let c = subject(&reg, "C3000003");
    let pre = reg.presearch(&officer(), c, &registration(55, &[2, 7])).unwrap();
    enrol(&reg, e, &registration(55, &[2, 7, 3]), None);
    reg.build_gallery(&mut |_, _| {}).unwrap();
    assert_eq!(
        candidates(&enrol(&reg, c, &registration(55, &[2, 7]), Some(pre))),
        vec![e],
        "the presearch of the gallery before it was built again was not used"
    );
    // Nothing to search, or an actor who may not register: no presearch.
    assert!(reg.presearch(&officer(), c, &RegistrationInput { captures: None, ..registration(41, &[2]) }).is_none());
    let auditor = Actor::new("u-aud", Role::Auditor, "test");
    assert!(reg.presearch(&auditor, c, &registration(41, &[2, 7])).is_none());
}

#[test]
fn a_registration_committed_while_a_search_holds_the_gallery_is_found_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let reg = registry_on(test_store(&dir.path().join("fairgate.db")).unwrap().store(), 7);
    let (a, b, c) = (subject(&reg, "A1000001"), subject(&reg, "B2000002"), subject(&reg, "C3000003"));
    let found_b = reg
        .hold_gallery(|| {
            // Another thread commits while this one holds the gallery, as a search
            // ahead of the lock would: the commits do not wait for it.
            std::thread::scope(|s| {
                s.spawn(|| {
                    assert!(enrol(&reg, a, &registration(41, &[2, 7, 3]), None).candidates.is_empty());
                    // A waits to go into the gallery; B, with A's fingers, still finds A.
                    enrol(&reg, b, &registration(41, &[2, 7]), None)
                })
                .join()
                .unwrap()
            })
        })
        .unwrap();
    assert_eq!(candidates(&found_b), vec![a], "{found_b:?}");
    assert_eq!(found_b.searched, 1, "A, waiting to go in");
    // Held no longer: the next commit puts both in; C finds both, once each.
    let pre = reg.presearch(&officer(), c, &registration(41, &[2, 7])).unwrap();
    let found_c = enrol(&reg, c, &registration(41, &[2, 7]), Some(pre));
    let mut got = candidates(&found_c);
    got.sort_by_key(|s| s.to_string());
    let mut want = vec![a, b];
    want.sort_by_key(|s| s.to_string());
    assert_eq!(got, want, "{found_c:?}");
    assert_eq!(found_c.searched, 2);
}
