//! A subject's timeline: their record folded from the events about them.

use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::crossing::{Crossing, CrossingFact};
use crate::event::Event;
use crate::ids::{RegistrationNumber, SubjectId};
use crate::registration::NewRegistration;
use crate::subject::NewSubject;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationEntry {
    pub number: RegistrationNumber,
    #[serde(flatten)]
    pub registration: NewRegistration,
    pub officer: Actor,
    /// Index of the ledger leaf that holds it.
    pub leaf_index: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrossingEntry {
    #[serde(flatten)]
    pub crossing: Crossing,
    pub leaf_index: u64,
    /// Set when the person was already overstaying when it was recorded.
    pub overstay_at_crossing: Option<crate::stay::Overstay>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    pub id: SubjectId,
    #[serde(flatten)]
    pub person: NewSubject,
    pub created_leaf_index: u64,
    /// Oldest first.
    pub registrations: Vec<RegistrationEntry>,
    /// Oldest first.
    pub crossings: Vec<CrossingEntry>,
    /// Individual designations with their reviews, oldest first.
    pub designations: Vec<crate::designation::Designation>,
    /// The person's correction requests and their answers.
    pub corrections: Vec<crate::correction::Correction>,
    /// Portal activations and activation codes re-issued, oldest first: the person
    /// sees an activation they did not make.
    pub portal: Vec<PortalEntry>,
    /// Every travel document the person has held, oldest first; `document` above
    /// is the newest.
    pub documents: Vec<DocumentEntry>,
    /// The address of the latest change of address reported (by the day it changed).
    pub address: Option<crate::obligation::Address>,
    /// The current booking of each obligation, soonest first.
    pub appointments: Vec<crate::appointment::Appointment>,
    /// Interviews held, with the answers given, oldest first.
    pub interviews: Vec<InterviewEntry>,
    /// How the person is contacted: email for notices, and their language.
    pub contact: Option<crate::delivery::Contact>,
    /// Appointments recorded as missed, oldest first: facts an adjudicator may
    /// weigh like any other, never a finding by themselves.
    pub missed_appointments: Vec<MissedEntry>,
    /// Biometric comparisons that referred the person to an officer (secondary
    /// inspection), oldest first.
    pub referrals: Vec<crate::event::ComparisonRecorded>,
    /// 1:N searches at this person's registrations that found candidates, and the
    /// supervisors' decisions about them (or about this record as someone else's candidate),
    /// oldest first.
    pub identification: Vec<Event>,
    /// Records a supervisor decided are this same person's (linked, not merged away).
    pub same_person_as: Vec<crate::ids::SubjectId>,
}

/// An appointment whose day passed without a check-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissedEntry {
    pub obligation: String,
    pub slot: crate::appointment::Slot,
    pub noted_on: jiff::civil::Date,
    pub leaf_index: u64,
}

/// An interview held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterviewEntry {
    pub place: String,
    pub at: jiff::Timestamp,
    pub obligation: Option<String>,
    pub answers: Vec<crate::appointment::InterviewAnswer>,
    pub leaf_index: u64,
}

/// One travel document of the person's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentEntry {
    pub document: crate::document::TravelDocument,
    pub leaf_index: u64,
}

/// Something that happened to the person's portal access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "kebab-case")]
pub enum PortalEntry {
    /// The portal was opened with an activation code and a passphrase chosen then.
    Activated { at: jiff::Timestamp },
    /// A supervisor issued a new activation code, for this reason.
    CodeReissued { at: jiff::Timestamp, reason: String, by: Actor },
}

impl PortalEntry {
    pub fn at(&self) -> jiff::Timestamp {
        match self {
            PortalEntry::Activated { at } | PortalEntry::CodeReissued { at, .. } => *at,
        }
    }
}

impl Timeline {
    /// Fold a subject's events (with their leaf indexes, any order). `None` when the
    /// events hold no `SubjectCreated`. Access events are not part of the timeline.
    pub fn fold(events: impl IntoIterator<Item = (u64, Event)>) -> Option<Timeline> {
        let mut created = None;
        let mut registrations = Vec::new();
        let mut crossings = Vec::new();
        let mut designations = Vec::new();
        let mut corrections = Vec::new();
        let mut portal = Vec::new();
        let mut added = Vec::new();
        let mut address: Option<(jiff::civil::Date, u64, crate::obligation::Address)> = None;
        let mut appointments = Vec::new();
        let mut interviews = Vec::new();
        let mut contact: Option<(u64, crate::delivery::Contact)> = None;
        let mut released: Vec<(String, crate::appointment::Slot)> = Vec::new();
        let mut missed: Vec<MissedEntry> = Vec::new();
        let mut referrals: Vec<crate::event::ComparisonRecorded> = Vec::new();
        let mut identification: Vec<Event> = Vec::new();
        let mut same_person_as = Vec::new();
        for (leaf_index, event) in events {
            match event {
                Event::SubjectCreated(e) => created = Some((e.subject, e.person, leaf_index)),
                Event::RegistrationRecorded(e) => registrations.push(RegistrationEntry {
                    number: e.number,
                    registration: e.registration,
                    officer: e.officer,
                    leaf_index,
                }),
                Event::CrossingRecorded(e) => crossings.push(CrossingEntry {
                    crossing: e.crossing,
                    leaf_index,
                    overstay_at_crossing: e.overstay_at_crossing,
                }),
                e @ (Event::SubjectDesignated(_) | Event::DesignationReviewed(_)) => designations.push(e),
                e @ (Event::CorrectionRequested(_) | Event::CorrectionAnswered(_)) => corrections.push(e),
                Event::PortalActivated(e) => portal.push(PortalEntry::Activated { at: e.at }),
                Event::AccessCodeReissued(e) => {
                    portal.push(PortalEntry::CodeReissued { at: e.at, reason: e.reason, by: e.by })
                }
                Event::DocumentAdded(e) => added.push(DocumentEntry { document: e.document, leaf_index }),
                Event::ChangeReported(e) => {
                    if let Some(crate::obligation::ChangeDetails::Address(a)) = e.details {
                        let key = (e.report.changed_on, leaf_index);
                        if address.as_ref().is_none_or(|(d, l, _)| (*d, *l) < key) {
                            address = Some((key.0, key.1, a));
                        }
                    }
                }
                Event::AppointmentBooked(e) => appointments.push((leaf_index, e.appointment)),
                Event::InterviewRecorded(e) => interviews.push(InterviewEntry {
                    place: e.place,
                    at: e.at,
                    obligation: e.obligation,
                    answers: e.answers,
                    leaf_index,
                }),
                Event::ContactSet(e) => {
                    if contact.as_ref().is_none_or(|(l, _)| *l < leaf_index) {
                        contact = Some((leaf_index, e.contact));
                    }
                }
                Event::AppointmentReleased(e) => released.push((e.obligation, e.slot)),
                Event::AppointmentMissed(e) => missed.push(MissedEntry {
                    obligation: e.obligation,
                    slot: e.slot,
                    noted_on: e.noted_on,
                    leaf_index,
                }),
                Event::ComparisonRecorded(e) if e.comparison.referral != crate::matching::Referral::None => {
                    referrals.push(e)
                }
                Event::ComparisonRecorded(_) => {}
                Event::IdentificationSearched(e) if !e.candidates.is_empty() => {
                    identification.push(Event::IdentificationSearched(e))
                }
                Event::IdentificationSearched(_) => {}
                Event::IdentificationDecided(e) => {
                    if e.same_person && !same_person_as.contains(&e.other) {
                        same_person_as.push(e.other);
                    }
                    identification.push(Event::IdentificationDecided(e));
                }
                Event::PersonalDataAccessed(_)
                | Event::NoticeDelivered(_)
                | Event::DeskStep(_)
                | Event::AccountChanged(_)
                | Event::AccessAttempted(_)
                | Event::AuthorityListed(_)
                | Event::PlaceSet(_)
                | Event::PlaceClosed(_)
                | Event::ErasureComplete(_)
                | Event::LawEnforcementRequested(_)
                | Event::LawEnforcementDecided(_)
                | Event::NoticeServed(_)
                | Event::ObligationExcused(_)
                | Event::ExcuseApproved(_)
                | Event::DeterminationRecorded(_)
                | Event::NoticeIssued(_)
                | Event::ExpungementApproved(_)
                | Event::Expunged(_)
                | Event::ExpungementNoticed(_)
                | Event::MasterKeyRotated(_)
                | Event::ImportRecorded(_)
                | Event::ProgramActivated(_)
                | Event::ProgramDrafted(_)
                | Event::ProgramSignedOff(_)
                | Event::ProgramRepealed(_) => {}
            }
        }
        let (id, mut person, created_leaf_index) = created?;
        added.sort_by_key(|d| d.leaf_index);
        let mut documents = vec![DocumentEntry { document: person.document.clone(), leaf_index: created_leaf_index }];
        documents.extend(added);
        if let Some(newest) = documents.last() {
            person.document = newest.document.clone();
        }
        registrations.sort_by_key(|r| (r.registration.at, r.leaf_index));
        crossings.sort_by_key(|c| (c.crossing.at, c.leaf_index));
        let designations = crate::designation::fold(&designations);
        let corrections = crate::correction::fold(&corrections);
        portal.sort_by_key(PortalEntry::at);
        Some(Timeline {
            id,
            person,
            created_leaf_index,
            registrations,
            crossings,
            designations,
            corrections,
            portal,
            documents,
            address: address.map(|(_, _, a)| a),
            appointments: {
                // The latest booking of each obligation.
                appointments.sort_by_key(|(l, _)| std::cmp::Reverse(*l));
                let mut current: Vec<crate::appointment::Appointment> = Vec::new();
                let mut seen: Vec<String> = Vec::new();
                for (_, a) in appointments {
                    if !seen.contains(&a.obligation) {
                        seen.push(a.obligation.clone());
                        if !released.iter().any(|(k, s)| *k == a.obligation && *s == a.slot) {
                            current.push(a);
                        }
                    }
                }
                current.sort_by_key(|a| (a.slot.day, a.slot.start));
                current
            },
            interviews: {
                interviews.sort_by_key(|i| (i.at, i.leaf_index));
                interviews
            },
            contact: contact.map(|(_, c)| c),
            identification,
            same_person_as,
            referrals: {
                referrals.sort_by_key(|r| r.at);
                referrals
            },
            missed_appointments: {
                missed.sort_by_key(|m| m.leaf_index);
                missed
            },
        })
    }

    pub fn crossing_facts(&self) -> Vec<CrossingFact> {
        self.crossings.iter().map(|c| CrossingFact { at: c.crossing.at, direction: c.crossing.direction }).collect()
    }
}
