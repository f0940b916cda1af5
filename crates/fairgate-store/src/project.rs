//! How each event maps to projection rows. The same function serves live commits and
//! `rebuild`, which is why a rebuild gives identical query results.

use fairgate_core::event::AttemptOutcome;
use fairgate_core::event::Event;
use fairgate_ledger::keys::{blind_index, SecretKey};

use crate::store::{work, Projection, QueueOp};

/// Blind-index domain of document numbers.
pub const DOCUMENT_DOMAIN: &str = "document-number";
/// Blind-index domain of registration numbers.
pub const REGISTRATION_DOMAIN: &str = "registration-number";

/// `subject_no` is 0 for events that are not about a person (programs);
/// `recorded_at_ms` is the timestamp in the leaf's header.
pub fn project(
    subject_no: u64,
    leaf_index: u64,
    recorded_at_ms: i64,
    event: &Event,
    blind_key: &SecretKey,
    out: &mut Vec<Projection>,
) {
    fairgate_core::report::for_each_tally(event, recorded_at(recorded_at_ms), |t| {
        let t = t.to_key();
        out.push(Projection::Tally { metric: t.metric.as_str().to_string(), dims: t.dims, month: t.month, count: 1 });
    });
    project_rows(subject_no, leaf_index, event, blind_key, out);
}

pub fn recorded_at(ms: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// The system-leaf scope of staff account changes.
pub const ACCOUNTS_SCOPE: &str = "accounts";
/// The system-leaf scope of reads that disclosed nothing (lookups without a match, refusals).
pub const ATTEMPTS_SCOPE: &str = "attempts";
/// The system-leaf scope of analyses over everyone's records (the privacy budget's ledger).
pub const ANALYSES_SCOPE: &str = "analyses";

/// The projection rows of an event other than its tallies (which writers fold per
/// batch instead: see `Registry`).
pub fn project_rows(subject_no: u64, leaf_index: u64, event: &Event, blind_key: &SecretKey, out: &mut Vec<Projection>) {
    if event.subject().is_some() {
        out.push(Projection::SubjectLeaf { subject_no, leaf_index, kind: event.kind().code() });
        if let Some(program) = event.program_tag() {
            out.push(Projection::ProgramSubject { program: program.to_string(), subject_no });
        }
    }
    match event {
        Event::SubjectCreated(e) => {
            out.push(Projection::Subject { subject_no, created_leaf: leaf_index });
            out.push(Projection::Document {
                blind: blind_index(blind_key, DOCUMENT_DOMAIN, &e.person.document.number),
                subject_no,
            });
        }
        Event::DocumentAdded(e) => out.push(Projection::Document {
            blind: blind_index(blind_key, DOCUMENT_DOMAIN, &e.document.number),
            subject_no,
        }),
        Event::RegistrationRecorded(e) => {
            out.push(Projection::Registration {
                blind: blind_index(blind_key, REGISTRATION_DOMAIN, e.number.as_str()),
                subject_no,
                leaf_index,
            });
        }
        Event::ProgramActivated(e) => out.push(Projection::Program { id: e.program.id.clone(), leaf_index }),
        Event::ProgramDrafted(e) => out.push(Projection::Program { id: e.program.id.clone(), leaf_index }),
        Event::ProgramSignedOff(e) => out.push(Projection::Program { id: e.id.clone(), leaf_index }),
        Event::ProgramRepealed(e) => out.push(Projection::Program { id: e.id.clone(), leaf_index }),
        Event::ExpungementApproved(e) => {
            out.push(Projection::SystemLeaf { leaf_index, kind: event.kind().code(), scope: e.scope.key() })
        }
        Event::Expunged(e) => {
            out.push(Projection::SystemLeaf { leaf_index, kind: event.kind().code(), scope: e.scope.key() })
        }
        Event::ExpungementNoticed(e) => {
            out.push(Projection::SystemLeaf { leaf_index, kind: event.kind().code(), scope: e.scope.key() })
        }
        Event::ImportRecorded(e) => out.push(Projection::ImportLine { file: e.file.clone(), line: e.through }),
        Event::MasterKeyRotated(_) => {
            out.push(Projection::SystemLeaf { leaf_index, kind: event.kind().code(), scope: "master-key".into() })
        }
        Event::AccountChanged(_) => {
            out.push(Projection::SystemLeaf { leaf_index, kind: event.kind().code(), scope: ACCOUNTS_SCOPE.into() })
        }
        Event::ErasureComplete(_) => {
            out.push(Projection::SystemLeaf { leaf_index, kind: event.kind().code(), scope: "erasure".into() })
        }
        Event::AuthorityListed(_) => {
            out.push(Projection::SystemLeaf { leaf_index, kind: event.kind().code(), scope: "authorities".into() })
        }
        Event::PlaceSet(_) | Event::PlaceClosed(_) => {
            out.push(Projection::SystemLeaf { leaf_index, kind: event.kind().code(), scope: "places".into() })
        }
        // A lookup's match is the person's (a subject leaf, above); the rest name nobody.
        Event::AccessAttempted(e) if e.subject.is_some() => {}
        Event::AccessAttempted(e) => out.push(Projection::SystemLeaf {
            leaf_index,
            kind: event.kind().code(),
            scope: if e.outcome == AttemptOutcome::Analysis { ANALYSES_SCOPE } else { ATTEMPTS_SCOPE }.into(),
        }),
        Event::AppointmentBooked(e) => {
            let slot = |s: &fairgate_core::appointment::Slot, delta| Projection::SlotLoad {
                office: s.office.clone(),
                day: s.day.to_string(),
                start: s.start,
                minutes: s.minutes,
                delta,
            };
            out.push(slot(&e.appointment.slot, 1));
            if let Some(old) = &e.replaces {
                out.push(slot(old, -1));
            }
        }
        Event::AppointmentReleased(e) => out.push(Projection::SlotLoad {
            office: e.slot.office.clone(),
            day: e.slot.day.to_string(),
            start: e.slot.start,
            minutes: e.slot.minutes,
            delta: -1,
        }),
        Event::DeskStep(e) => {
            use fairgate_core::event::Step;
            let at_ms = e.at.as_millisecond();
            let op = match &e.step {
                Step::CheckIn { slot_start, .. } => QueueOp::Arrive { at_ms, slot_start: *slot_start },
                Step::Called { desk, .. } => QueueOp::Call { at_ms, desk: *desk },
                Step::Served | Step::SentElsewhere { .. } => QueueOp::Leave,
            };
            out.push(Projection::Queue { office: e.office.clone(), subject_no, op });
        }
        Event::IdentificationSearched(e) if !e.candidates.is_empty() => {
            // One decision per person found (a face and a finger hit on one person are one).
            let mut people: Vec<_> = e.candidates.iter().map(|c| c.subject).collect();
            people.sort();
            people.dedup();
            out.push(Projection::IdentificationReview { subject_no, delta: people.len() as i64 })
        }
        Event::IdentificationDecided(e) if e.searched => {
            out.push(Projection::IdentificationReview { subject_no, delta: -1 })
        }
        Event::IdentificationSearched(_) | Event::IdentificationDecided(_) => {}
        Event::SubjectDesignated(e) => out.push(work(work::DESIGNATION, subject_no, e.number.to_string(), true)),
        Event::DesignationReviewed(e) => out.push(work(work::DESIGNATION, subject_no, e.number.to_string(), false)),
        Event::ObligationExcused(e) if e.excuse.approved_on.is_none() => {
            out.push(work(work::EXCUSE, subject_no, e.excuse.obligation.clone(), true))
        }
        Event::ExcuseApproved(e) => out.push(work(work::EXCUSE, subject_no, e.obligation.clone(), false)),
        Event::NoticeServed(e) => out.push(work(work::DETERMINATION, subject_no, e.notice.obligation.clone(), true)),
        Event::DeterminationRecorded(e) => {
            out.push(work(work::DETERMINATION, subject_no, e.determination.obligation.clone(), false))
        }
        Event::CorrectionRequested(e) => out.push(work(work::CORRECTION, subject_no, e.number.to_string(), true)),
        Event::CorrectionAnswered(e) => out.push(work(work::CORRECTION, subject_no, e.number.to_string(), false)),
        Event::CrossingRecorded(_)
        | Event::AppointmentMissed(_)
        | Event::InterviewRecorded(_)
        | Event::ContactSet(_)
        | Event::NoticeDelivered(_)
        | Event::ComparisonRecorded(_)
        | Event::PersonalDataAccessed(_)
        | Event::ChangeReported(_)
        | Event::NoticeIssued(_)
        | Event::ObligationExcused(_)
        | Event::LawEnforcementRequested(_)
        | Event::LawEnforcementDecided(_)
        | Event::PortalActivated(_)
        | Event::AccessCodeReissued(_) => {}
    }
}

fn work(queue: u8, subject_no: u64, item: String, open: bool) -> Projection {
    Projection::Work { queue, subject_no, item, open }
}
