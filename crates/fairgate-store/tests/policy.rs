//! The authorization policy, walked against the registry with no HTTP in between:
//! for every (role, action) and every (role, read, purpose), the registry refuses
//! with `Forbidden` exactly when `fairgate_core::policy` says no. A permitted call may
//! still fail for another reason (the test data is not what the command needs); it
//! must never fail for the policy. The match in `run` is exhaustive, so an action
//! added to the policy without a case here does not compile.

use fairgate_core::access::{Actor, Purpose, Role};
use fairgate_core::ids::SubjectId;
use fairgate_core::policy::{self, Action, Read, Refusal};
use fairgate_ledger::keys::SecretKey;
use fairgate_store::{Registry, RegistryError};
use jiff::Timestamp;
use serde_json::json;

const NOW: Timestamp = Timestamp::constant(1_790_000_000, 0);

fn registry() -> (tempfile::TempDir, Registry, SubjectId) {
    let dir = tempfile::tempdir().unwrap();
    let store = fairgate_store::backend::test_store(&dir.path().join("fairgate.db")).unwrap().store();
    store.put_places(&fairgate_core::place::default_places()).unwrap();
    let reg =
        Registry::open(store, SecretKey::from_bytes([1; 32]), &SecretKey::from_bytes([2; 32]), "test/log", [3; 32])
            .unwrap();
    let setup = Actor::new("u-setup", Role::Officer, "test");
    let (id, _) = reg.write(NOW, |b| b.create_subject(&setup, &from(person()))).unwrap();
    (dir, reg, id)
}

fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn person() -> serde_json::Value {
    json!({
        "document": {"kind": "P", "issuing_state": "UTO", "number": "L898902C3", "expires_on": "2031-04-15"},
        "surname": "ERIKSSON", "given_names": "ANNA MARIA", "birth_date": "1974-08-12", "sex": "F", "nationality": "UTO"
    })
}

/// The actor of each role; a registrant is bound to the test subject.
fn actor(role: Role, id: &SubjectId) -> Actor {
    match role {
        Role::Registrant => Actor::new(policy::registrant_id(id), role, "the person themselves"),
        _ => Actor::new(format!("u-{role}"), role, "test"),
    }
}

/// Run `action` as `a` through the registry's own entry point for it.
fn run(reg: &Registry, action: Action, a: &Actor, id: SubjectId) -> Result<(), RegistryError> {
    let exp: fairgate_core::expungement::ExpungementInput =
        from(json!({"authority": "court order 1", "reason": "test"}));
    let w = |f: &dyn Fn(&mut fairgate_store::registry::Batch<'_>) -> Result<(), RegistryError>| {
        reg.write(NOW, |b| f(b)).map(|_| ())
    };
    let program = "[program]\nid = \"nope\"\n";
    match action {
        Action::CreateSubject => w(&|b| b.create_subject(a, &from(person())).map(|_| ())),
        Action::AddDocument => w(&|b| {
            b.add_document(
                a,
                id,
                &from(json!({"kind": "P", "issuing_state": "UTO", "number": "RENEW0001", "expires_on": "2036-01-01"})),
            )
        }),
        Action::RecordRegistration => w(&|b| {
            b.record_registration(a, id, &from(json!({"kind": "office", "place": "NYC-FO", "voluntary": true})))
                .map(|_| ())
        }),
        Action::RecordCrossing => w(&|b| {
            b.record_crossing(
                a,
                id,
                &from(json!({"direction": "entry", "port": "JFK", "at": "2026-06-03T14:00:00Z",
                             "admission_class": "B-2", "admitted_until": "2026-09-01"})),
            )
            .map(|_| ())
        }),
        Action::Designate => {
            w(&|b| b.designate(a, id, &from(json!({"reason": "nope", "facts": "", "place": "JFK"}))).map(|_| ()))
        }
        Action::ReviewDesignation => w(&|b| b.review_designation(a, id, 1, true, None)),
        Action::DecideIdentification => w(&|b| b.decide_identification(a, id, id, false, "not the same")),
        Action::ServeNotice => w(&|b| {
            b.serve_notice(a, id, &from(json!({"obligation": "x", "channel": "mail", "served_on": "2026-09-01"})))
        }),
        Action::Excuse => {
            w(&|b| b.excuse(a, id, &from(json!({"obligation": "x", "category": "illness", "text": "ill"}))))
        }
        Action::ApproveExcuse => w(&|b| b.approve_excuse(a, id, "x")),
        Action::Determine => w(&|b| {
            b.determine(
                a,
                id,
                &from(json!({"obligation": "x", "finding": "not-willful", "reasons": "r", "evidence": ["e"]})),
            )
        }),
        Action::ReportChange => w(&|b| {
            b.report_change(a, id, &from(json!({"change": "employer", "changed_on": "2026-09-01", "employer": "Acme"})))
        }),
        Action::BookAppointment => {
            w(&|b| b.book_appointment(a, id, &from(json!({"obligation": "x/v1/obligations[0]/1"}))).map(|_| ()))
        }
        Action::SetContact => w(&|b| b.set_contact(a, id, &from(json!({"language": "es"}))).map(|_| ())),
        Action::ServeDesk => w(&|b| b.check_in(a, "NYC-FO", id).map(|_| ())),
        Action::RecordInterview => {
            w(&|b| b.record_interview(a, id, &from(json!({"place": "NYC-FO", "obligation": "x", "answers": []}))))
        }
        Action::ProgramDraft => reg.add_program(NOW, a, program, Some(&[])).map(|_| ()),
        Action::ProgramSignOff => w(&|b| b.sign_off_program(a, "nope", None, "fine").map(|_| ())),
        Action::ProgramActivate => w(&|b| b.activate_program(a, "nope", None).map(|_| ())),
        Action::ProgramRepeal => w(&|b| b.repeal_program(a, "nope", "done").map(|_| ())),
        Action::ApproveExpungement => reg.approve_expungement(NOW, a, id, &exp).map(|_| ()),
        Action::Expunge => reg.expunge_subject(NOW, a, id, &exp).map(|_| ()),
        Action::ApproveProgramExpungement => reg.approve_program_expungement(NOW, a, "nope", &exp).map(|_| ()),
        Action::NoticeProgramExpungement => reg.notice_program_expungement(NOW, a, "nope", &exp, 90).map(|_| ()),
        Action::ExpungeProgram => reg.expunge_program(NOW, a, "nope", &mut |_, _| true).map(|_| ()),
        Action::RequestLawEnforcement => {
            w(&|b| b.request_law_enforcement(a, id, &from(json!({"case_number": "", "reasons": ""}))).map(|_| ()))
        }
        Action::ApproveLawEnforcement => w(&|b| b.decide_law_enforcement(a, id, 1, None)),
        Action::ReviewEmergencyAccess => w(&|b| b.decide_law_enforcement(a, id, 1, Some((true, "ok")))),
        Action::RequestCorrection => {
            w(&|b| b.request_correction(a, id, &from(json!({"field": "", "text": ""}))).map(|_| ()))
        }
        Action::AnswerCorrection => {
            w(&|b| b.answer_correction(a, id, 1, &from(json!({"corrected": false, "reply": "no"}))))
        }
        Action::ManagePlaces => {
            let mut place = fairgate_core::place::PlaceInput::of(&fairgate_core::place::default_places()[0]);
            place.code = format!("P-{}", a.role).to_uppercase().chars().take(12).collect();
            reg.set_place(NOW, a, &place, false).map(|_| ())
        }
        Action::ManageAuthorities => reg
            .list_authority(
                NOW,
                a,
                &fairgate_core::expungement::Authority {
                    id: format!("a-{}", a.role),
                    name: "An act".into(),
                    reference: "s. 1".into(),
                },
            )
            .map(|_| ()),
        Action::LawEnforcementQueue => reg.law_enforcement_queue(NOW, a).map(|_| ()),
        Action::ReissueAccessCode => w(&|b| b.reissue_access_code(a, id, "receipt lost").map(|_| ())),
        Action::Import => reg.import_rows(NOW, a, "nope", "f", Vec::new(), &mut |_, _| true).map(|_| ()),
        Action::DesignationStatistics => reg.designation_stats(a).map(|_| ()),
        Action::ManageUsers => reg
            .add_user(NOW, a, &format!("user-{}", a.role), Role::Officer, "test", None, [a.role as u8; 64])
            .map(|_| ()),
        Action::RotateKeys => reg.rotate_master(NOW, a, 10, &mut |_, _| true).map(|_| ()),
        Action::RunCompliance => {
            reg.compliance_run(NOW, a, NOW.to_zoned(jiff::tz::TimeZone::UTC).date(), &mut |_, _| {}).map(|_| ())
        }
        Action::RunRetention => {
            reg.retention_run(NOW, a, NOW.to_zoned(jiff::tz::TimeZone::UTC).date(), true).map(|_| ())
        }
    }
}

fn refused_by_role(r: &Result<(), RegistryError>) -> bool {
    matches!(r, Err(RegistryError::Forbidden(Refusal::Action { .. })))
}

#[test]
fn every_role_and_action_is_allowed_or_refused_exactly_as_the_table_says() {
    let (_dir, reg, id) = registry();
    let mut checked = 0;
    for action in Action::ALL {
        for role in Role::ALL {
            let a = actor(*role, &id);
            let result = run(&reg, *action, &a, id);
            let allowed = policy::allows(*role, *action);
            assert_eq!(
                refused_by_role(&result),
                !allowed,
                "{} as {role}: the table says {}, the registry answered {result:?}",
                action.as_str(),
                if allowed { "allowed" } else { "refused" }
            );
            checked += 1;
        }
    }
    assert_eq!(checked, Action::ALL.len() * Role::ALL.len());
}

/// Make the read `read` for `purpose` as `a`; reads that take no purpose use their own.
fn read(reg: &Registry, r: Read, a: &Actor, purpose: Purpose, id: SubjectId) -> Option<Result<(), RegistryError>> {
    let on = NOW.to_zoned(jiff::tz::TimeZone::UTC).date();
    Some(match r {
        Read::Timeline => reg.read_timeline(NOW, a, purpose, id, "t").map(|_| ()),
        Read::DocumentLookup => reg.lookup_document(NOW, a, purpose, "L898902C3", "t").map(|_| ()),
        Read::Stay => reg.read_stay(NOW, a, purpose, id, on, "t").map(|_| ()),
        Read::OverstayList => reg.read_overstays(NOW, a, purpose, on, Some((1, 10)), "t").map(|_| ()),
        Read::Obligations => reg.read_obligations(NOW, a, purpose, id, on, "t").map(|_| ()),
        Read::Notice => reg.read_notice(NOW, a, purpose, id, "x", "t").map(|_| ()),
        Read::Biometrics => reg.read_biometrics(NOW, a, purpose, id, "t").map(|_| ()),
        Read::DeskQueue => reg.desk_queue(NOW, a, purpose, "NYC-FO", "t").map(|_| ()),
        Read::IdentificationReviews => reg.identification_reviews(NOW, a, purpose, "t").map(|_| ()),
        Read::AccessLog if purpose == Purpose::OversightAudit => {
            let search = fairgate_store::registry::oversight::AccessSearch { staff: None, purpose: None, from: on, to: on };
            reg.search_access_log(NOW, a, &search, "t").map(|_| ())
        }
        Read::WorkQueue => reg
            .work_queue(NOW, a, purpose, fairgate_store::registry::work::Queue::Determinations, on, "t")
            .map(|_| ()),
        // These state their one purpose themselves.
        Read::Clearance if purpose == Purpose::BenefitAdjudication => {
            reg.read_clearance(NOW, a, id, on, "t").map(|_| ())
        }
        Read::PendingNotices if purpose == Purpose::ComplianceReview => {
            reg.read_pending_notices(NOW, a, on, "t").map(|_| ())
        }
        Read::Disclosures if purpose == Purpose::SubjectAccess => reg.read_disclosures(NOW, a, id, "t").map(|_| ()),
        Read::ProgramImpact => reg
            .program_impact_over_records(
                NOW,
                a,
                purpose,
                "id = \"nope\"\ntitle = \"T\"\nlegal_basis = \"A\"\nstarts = 2026-01-01\nsunset = 2027-01-01\n[selection]\n",
                "t",
            )
            .map(|_| ()),
        Read::Clearance | Read::PendingNotices | Read::Disclosures | Read::AccessLog => return None,
    })
}

#[test]
fn every_role_read_and_purpose_is_allowed_or_refused_exactly_as_the_tables_say() {
    let (_dir, reg, id) = registry();
    let mut checked = 0;
    for r in Read::ALL {
        for role in Role::ALL {
            for purpose in Purpose::ALL {
                let a = actor(*role, &id);
                let Some(result) = read(&reg, *r, &a, *purpose, id) else { continue };
                let allowed = policy::allows_read(*role, *r, *purpose);
                let refused = matches!(result, Err(RegistryError::Forbidden(Refusal::Purpose { .. })));
                assert_eq!(refused, !allowed, "{} as {role} for {purpose}: got {result:?}", r.as_str());
                if allowed && *purpose != Purpose::LawEnforcement && *r != Read::Notice {
                    // Law enforcement also needs a grant, and the person has no obligation
                    // to read a notice of; everything else permitted reads.
                    assert!(result.is_ok(), "{} as {role} for {purpose}: {result:?}", r.as_str());
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "{checked}");
}

#[test]
fn a_registrant_reads_only_their_own_records() {
    let (_dir, reg, id) = registry();
    let setup = Actor::new("u-setup", Role::Officer, "test");
    let mut other_person = person();
    other_person["document"]["number"] = json!("X1234567");
    let (other, _) = reg.write(NOW, |b| b.create_subject(&setup, &from(other_person))).unwrap();
    let me = actor(Role::Registrant, &id);
    assert!(reg.read_timeline(NOW, &me, Purpose::SubjectAccess, id, "t").is_ok());
    assert!(matches!(
        reg.read_timeline(NOW, &me, Purpose::SubjectAccess, other, "t"),
        Err(RegistryError::Forbidden(Refusal::NotOwnRecords))
    ));
    assert!(matches!(
        reg.read_disclosures(NOW, &me, other, "t"),
        Err(RegistryError::Forbidden(Refusal::NotOwnRecords))
    ));
}

const PASS: &str = "a passphrase of my own";

#[test]
fn a_registration_carries_its_portal_code_in_the_same_commit_on_every_path() {
    let (_dir, reg, id) = registry();
    let officer = Actor::new("u-officer", Role::Officer, "test");
    let input = from(json!({"kind": "office", "place": "NYC-FO", "voluntary": true}));
    // The command path (HTTP and CLI use it) returns the code with the number.
    let ((number, code), receipt) = reg
        .write(NOW, |b| {
            let n = b.record_registration(&officer, id, &input)?;
            let c = b.access_code(&n).map(str::to_string);
            Ok((n, c))
        })
        .unwrap();
    let code = code.expect("a code is issued with every registration");
    assert!(receipt.tree_size > 0);
    assert!(reg.activate_portal(NOW, number.as_str(), "AAAA-AAAA-AAAA", PASS, [9; 48]).unwrap().is_err());
    let session = reg.activate_portal(NOW, number.as_str(), &code.to_lowercase(), PASS, [9; 48]).unwrap().unwrap();
    assert_eq!(reg.portal_subject(NOW, &session.token).unwrap(), Some(id));
    // Once: then the code is void, and the passphrase signs in.
    assert!(matches!(
        reg.activate_portal(NOW, number.as_str(), &code, PASS, [8; 48]).unwrap(),
        Err(fairgate_store::registry::portal::ActivationRefused::Used(_))
    ));
    assert!(reg.portal_sign_in(NOW, number.as_str(), PASS, [7; 32]).unwrap().is_some());
    assert!(reg.portal_sign_in(NOW, number.as_str(), "not my passphrase", [7; 32]).unwrap().is_none());
    // A role that may not register gets no registration, so no code: the code exists
    // only inside the registration's commit.
    let auditor = Actor::new("u-aud", Role::Auditor, "test");
    assert!(reg.write(NOW, |b| b.record_registration(&auditor, id, &input)).is_err());
}
