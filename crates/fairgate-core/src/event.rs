//! The events that enter the ledger. Each is one fact; its payload is encrypted
//! under the subject's key, and only its `EventKind` code appears in the clear.

use serde::{Deserialize, Serialize};

use crate::access::{Actor, Purpose};
use crate::crossing::Crossing;
use crate::ids::{RegistrationNumber, SubjectId};
use crate::program::Program;
use crate::registration::NewRegistration;
use crate::subject::NewSubject;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectCreated {
    pub subject: SubjectId,
    pub person: NewSubject,
    pub created_by: Actor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationRecorded {
    pub subject: SubjectId,
    pub number: RegistrationNumber,
    pub registration: NewRegistration,
    pub officer: Actor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossingRecorded {
    pub subject: SubjectId,
    pub crossing: Crossing,
    pub recorded_by: Actor,
    /// The person was already overstaying when this crossing was recorded (the
    /// crossing is accepted all the same: the facts are the facts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overstay_at_crossing: Option<crate::stay::Overstay>,
}

/// Personal data of `subject` was disclosed to `actor` for `purpose`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalDataAccessed {
    pub subject: SubjectId,
    pub actor: Actor,
    pub purpose: Purpose,
    /// Which parts of the record were disclosed, e.g. `["document", "names", "crossings"]`.
    pub fields: Vec<String>,
    /// What was asked, e.g. `GET /subjects/{id}`.
    pub request: String,
}

/// A program version was put in force (or, for programs recorded before drafts
/// existed, added and put in force at once). Not about any person; like every
/// program event it is sealed under the system key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramActivated {
    pub program: Program,
    pub activated_by: Actor,
}

/// A program version was written down as a draft: its source text (which compiles
/// to the same rules every time) and the impact analysis made when it was added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramDrafted {
    pub program: Program,
    pub source: String,
    pub impact: crate::program::impact::Impact,
    /// `file` (a population file) or `database` (the registered subjects).
    pub population_source: String,
    pub drafted_by: Actor,
    /// The capacity plan of its office registrations, when it has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<crate::plan::PlanSummary>,
}

/// An auditor cleared a draft whose impact analysis could not clear it. The
/// record carries the draft's capacity plan as the auditor signed over it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramSignedOff {
    pub id: String,
    pub version: u32,
    pub reason: String,
    pub signed_off_by: Actor,
    /// The capacity plan of the version signed off (none: it has no office
    /// registration with a deadline, or it was drafted before plans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<crate::plan::PlanSummary>,
}

/// An officer designated a subject for closer monitoring. Sealed under the
/// subject's key like every fact about them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectDesignated {
    pub subject: SubjectId,
    /// 1, 2, … per subject.
    pub number: u32,
    pub designation: crate::designation::NewDesignation,
    pub designated_by: Actor,
    pub at: jiff::Timestamp,
}

/// A supervisor approved or rejected a designation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignationReviewed {
    pub subject: SubjectId,
    pub number: u32,
    pub approved: bool,
    pub reason: Option<String>,
    pub reviewed_by: Actor,
    pub at: jiff::Timestamp,
}

/// A notice of an obligation was served on the subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeServed {
    pub subject: SubjectId,
    pub notice: crate::obligation::Notice,
    pub recorded_by: Actor,
}

/// The daily compliance run issued a notice of an obligation (to be served; it
/// does not count as served until proof or acknowledgement is recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeIssued {
    pub subject: SubjectId,
    pub obligation: String,
    pub due: jiff::civil::Date,
    pub issued_on: jiff::civil::Date,
}

/// An officer or adjudicator excused an obligation for good cause (effective once a
/// supervisor approves it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObligationExcused {
    pub subject: SubjectId,
    pub excuse: crate::obligation::Excuse,
    pub recorded_by: Actor,
}

/// A supervisor approved an excuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcuseApproved {
    pub subject: SubjectId,
    pub obligation: String,
    pub on: jiff::civil::Date,
    pub approved_by: Actor,
}

/// An adjudicator's determination on a failure, with reasons and evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeterminationRecorded {
    pub subject: SubjectId,
    pub determination: crate::obligation::Determination,
    pub recorded_by: Actor,
}

/// The subject reported a change of address, employer or school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeReported {
    pub subject: SubjectId,
    pub report: crate::obligation::ChangeReport,
    pub recorded_by: Actor,
    /// The new address, employer or school (reports from before this field have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<crate::obligation::ChangeDetails>,
}

/// An auditor approved an expungement (sealed under the system key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpungementApproved {
    pub scope: crate::expungement::Scope,
    pub authority: String,
    pub reason: String,
    pub approved_by: Actor,
}

/// Records were expunged: keys destroyed, readable copies deleted. Holds no
/// personal data (the scope names a pseudonym or a program).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expunged {
    pub scope: crate::expungement::Scope,
    pub subjects: u64,
    pub authority: String,
    pub reason: String,
    pub expunged_by: Actor,
    pub approved_by: Actor,
    /// The day the master key epoch in force ends, by the rotation schedule: from
    /// then no backup holds the erased data (see `erasure-complete`). `None` when no
    /// rotation is scheduled, and in events recorded before schedules existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backups_erased_by: Option<jiff::civil::Date>,
}

/// A program's records will be expunged on `erase_on`: until then every affected
/// registrant can download a copy from the portal (sealed under the system key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpungementNoticed {
    pub scope: crate::expungement::Scope,
    pub erase_on: jiff::civil::Date,
    /// How many people have records in the scope when the notice opened.
    pub subjects: u64,
    pub authority: String,
    pub reason: String,
    pub noticed_by: Actor,
    pub approved_by: Actor,
}

/// The master key that wraps every data key is being replaced (`completed` false),
/// or has been (`completed` true). Names the keys only by fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterKeyRotated {
    pub old_fingerprint: String,
    pub new_fingerprint: String,
    pub completed: bool,
    /// Keys re-wrapped so far (subjects' and programs').
    pub rewrapped: u64,
}

/// A batch of a legacy import is in the ledger: every line of `file` up to
/// `through` is written. Sealed under the system key and about no person, so an
/// import's progress outlives the erasure of the people it brought in (a rerun
/// must never bring an expunged person back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRecorded {
    pub program: String,
    /// SHA-256 of the file, hex.
    pub file: String,
    pub through: u64,
    pub rows: u64,
}

/// The person asked for a record to be corrected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionRequested {
    pub subject: SubjectId,
    pub number: u32,
    pub field: String,
    pub text: String,
    pub at: jiff::Timestamp,
}

/// A supervisor answered a correction request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionAnswered {
    pub subject: SubjectId,
    pub number: u32,
    pub corrected: bool,
    pub reply: String,
    pub answered_by: Actor,
    pub at: jiff::Timestamp,
}

/// A reasoned request for law-enforcement access to the subject's records
/// (sealed under their access-log key, which outlives their data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LawEnforcementRequested {
    pub subject: SubjectId,
    pub number: u32,
    pub request: crate::law_enforcement::Request,
    pub requested_by: Actor,
    pub at: jiff::Timestamp,
}

/// An approver's approval (`justified` is `None`) or, for an emergency access, their
/// review (`Some(justified)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LawEnforcementDecided {
    pub subject: SubjectId,
    pub number: u32,
    pub justified: Option<bool>,
    pub reasons: String,
    pub by: Actor,
    pub at: jiff::Timestamp,
}

/// A program was repealed: every version ends now and the id can never be used again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramRepealed {
    pub id: String,
    pub reason: String,
    pub repealed_by: Actor,
}

/// The person opened their portal with a one-time activation code and chose their
/// own passphrase. Shown to the person, so an activation they did not make is seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalActivated {
    pub subject: SubjectId,
    pub at: jiff::Timestamp,
}

/// A supervisor issued the person a new activation code (the old code and any
/// portal passphrase are void). Shown to the person, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessCodeReissued {
    pub subject: SubjectId,
    pub reason: String,
    pub by: Actor,
    pub at: jiff::Timestamp,
}

/// What happened to a staff account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum AccountChange {
    Created { role: crate::access::Role, agency: String },
    RoleChanged { from: crate::access::Role, to: crate::access::Role },
    Disabled,
    TokenRotated,
}

/// A staff account was created, changed or disabled: on the ledger, so who held
/// which role when (and so separation of duties) can be checked from the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountChanged {
    /// The account's pseudonymous id (`u-...`).
    pub account: String,
    pub name: String,
    #[serde(flatten)]
    pub change: AccountChange,
    pub by: Actor,
    pub at: jiff::Timestamp,
}

/// What became of an attempt to read personal data that disclosed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptOutcome {
    /// A lookup that matched nobody the caller may see (whether or not anyone matched
    /// is not recorded either: a law-enforcement lookup without a grant looks the same).
    NoMatch,
    /// Refused by the policy or for want of a law-enforcement grant.
    Refused,
    /// An analysis over everyone's records that published noised aggregates only
    /// (it spends the privacy budget: see `program::impact::BUDGET`).
    Analysis,
    /// A lookup that found this person (sealed under their access-log key: it is in
    /// their accounting of disclosures). A lookup appends one such leaf per person
    /// found, or one `NoMatch`: the public log shows the same kind either way.
    Match,
}

/// An attempt to read personal data: a lookup (found or not), a refused read, an
/// analysis over the records. Without a `subject` it is sealed under the system key
/// and names no person (not even the document number asked for); a lookup that found
/// someone is sealed under that person's access-log key. Every attempt is on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessAttempted {
    /// The person a lookup found (`Match` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<SubjectId>,
    pub actor: Actor,
    /// The read, as the policy names it (e.g. `document-lookup`).
    pub read: String,
    pub purpose: Purpose,
    /// What was asked, e.g. `POST /subjects/lookup`.
    pub request: String,
    pub outcome: AttemptOutcome,
}

/// An administrator added an authority to the public list that expungements cite
/// (a court, a statute, a program's retention rule), with its reference. Sealed under
/// the system key; the list is public (`GET /authorities`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityListed {
    pub authority: crate::expungement::Authority,
    pub listed_by: Actor,
}

/// A further travel document of the same person (a renewal, a new passport): the
/// person keeps their id, and every document they held stays in their history, each
/// one finding them in a look-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentAdded {
    pub subject: SubjectId,
    pub document: crate::document::TravelDocument,
    pub added_by: Actor,
    pub at: jiff::Timestamp,
}

/// An administrator added a port or office, or changed one (`edit`): its whole
/// definition, closures aside (those are `PlaceClosed`). Sealed under the system
/// key; the list is public (`GET /places`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceSet {
    pub place: crate::place::Place,
    pub edit: bool,
    pub by: Actor,
}

/// A place closed, for a time or for good, with the reason (published with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceClosed {
    pub code: String,
    pub closure: crate::place::Closure,
    pub by: Actor,
}

/// A master key epoch was destroyed (a rotation ended): every backup taken under it
/// now reads nothing, so the erasures certified before it reach every backup. Lists
/// those certificates by their expungement leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureComplete {
    /// The destroyed master key, by fingerprint.
    pub epoch: String,
    /// The expungement leaves whose erasure is now complete in backups.
    pub certificates: Vec<u64>,
}

/// A slot was booked for an office obligation (with a notice, by the person, at a
/// desk, after a missed appointment, or after a closure). `replaces` is the slot it
/// frees, when it moves a booking that had not come yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentBooked {
    pub subject: SubjectId,
    pub appointment: crate::appointment::Appointment,
    pub replaces: Option<crate::appointment::Slot>,
    pub at: jiff::Timestamp,
}

/// The daily run found an appointment missed (its day passed without a check-in).
/// Never a penalty by itself: the run books a new slot and issues a new notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentMissed {
    pub subject: SubjectId,
    pub obligation: String,
    pub slot: crate::appointment::Slot,
    pub noted_on: jiff::civil::Date,
    /// The ISO week of the slot's day (the public report's unit).
    pub week: String,
}

/// A step of a visit at an office desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    /// Arrived, with the obligation and today's slot start if they have one
    /// (none: a walk-in).
    CheckIn { obligation: Option<String>, slot_start: Option<u16> },
    /// Called to a desk after waiting `waited` minutes.
    Called { desk: u16, waited: u16 },
    /// Served.
    Served,
    /// Sent to another office, with the reason.
    SentElsewhere { to: String, reason: String },
}

/// A step of a person's visit at an office, with its time. `week` is the office's
/// ISO week of the day (the public report's unit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskStep {
    pub subject: SubjectId,
    pub office: String,
    pub step: Step,
    pub at: jiff::Timestamp,
    pub week: String,
    pub by: Actor,
}

/// An interview held at an office, with the program's questions and the answers
/// given (sealed like every record about the person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterviewRecorded {
    pub subject: SubjectId,
    /// The interview obligation it meets, when there is one.
    pub obligation: Option<String>,
    pub place: String,
    pub at: jiff::Timestamp,
    pub answers: Vec<crate::appointment::InterviewAnswer>,
    pub recorded_by: Actor,
}

/// A booking still to come was released: its obligation was met (or ended) before
/// it, so the slot is free for someone else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentReleased {
    pub subject: SubjectId,
    pub obligation: String,
    pub slot: crate::appointment::Slot,
    pub on: jiff::civil::Date,
}

/// A 1:1 biometric comparison at a port or a desk, recorded whatever its outcome.
/// A no-match refers the person to secondary inspection: an officer must look
/// again; it decides nothing, and the crossing or registration it came with stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRecorded {
    pub subject: SubjectId,
    pub comparison: crate::matching::Comparison,
    /// The port or office.
    pub place: String,
    pub by: Actor,
    pub at: jiff::Timestamp,
}

/// One person on record whose biometrics a 1:N search at enrolment found at or
/// above the threshold: a candidate for a supervisor to look at, never a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub subject: SubjectId,
    pub modality: crate::matching::Modality,
    pub score: f64,
    pub threshold: f64,
}

/// The 1:N search at a registration, and the people on record it found who may be
/// this person under another document (often none). Recorded for every search, so
/// the public log looks the same whatever it found. Candidates are referred to a
/// supervisor's review; nothing is merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentificationSearched {
    pub subject: SubjectId,
    /// The registration whose captures were searched.
    pub registration: RegistrationNumber,
    /// People in the gallery when it was searched.
    pub searched: u64,
    /// The best candidates, at most `MAX_LISTED`.
    pub candidates: Vec<Candidate>,
    /// Candidates beyond the listed ones (a supervisor searches again by hand).
    #[serde(default)]
    pub not_listed: u64,
    pub at: jiff::Timestamp,
    /// Spaces that bring every search's payload to one size, so a leaf's size class
    /// does not tell how many candidates it found (see `with_candidates`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pad: String,
}

impl IdentificationSearched {
    /// The most candidates one search lists.
    pub const MAX_LISTED: usize = 20;
    /// Every search's payload is padded to this many bytes (JSON, as sealed): more
    /// than the largest with `MAX_LISTED` candidates, so every one falls in the
    /// same padded size class.
    pub const PAYLOAD: usize = 3200;

    /// The search's event, with at most `MAX_LISTED` candidates (best first) and
    /// padded to `PAYLOAD` bytes.
    pub fn with_candidates(
        subject: SubjectId,
        registration: RegistrationNumber,
        searched: u64,
        mut candidates: Vec<Candidate>,
        at: jiff::Timestamp,
    ) -> Event {
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
        let not_listed = candidates.len().saturating_sub(Self::MAX_LISTED) as u64;
        candidates.truncate(Self::MAX_LISTED);
        let mut e =
            IdentificationSearched { subject, registration, searched, candidates, not_listed, at, pad: String::new() };
        let len = serde_json::to_vec(&Event::IdentificationSearched(e.clone())).map_or(0, |v| v.len());
        // `"pad":"…"` and its comma take 9 bytes besides the spaces.
        e.pad = " ".repeat(Self::PAYLOAD.saturating_sub(len + 9).max(1));
        Event::IdentificationSearched(e)
    }
}

/// A supervisor's decision on a 1:N candidate, with the reason, recorded on both
/// people's records: the same person (the records are linked as one person's) or
/// two people (kept apart; the candidate is not raised again between them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentificationDecided {
    pub subject: SubjectId,
    /// This is the record whose search raised the candidate (the other copy is on
    /// the candidate's record).
    pub searched: bool,
    /// The other record.
    pub other: SubjectId,
    pub same_person: bool,
    pub reason: String,
    pub decided_by: Actor,
    pub at: jiff::Timestamp,
}

/// How the person is to be contacted: an email address for notices, and the
/// language they are written in (sealed; used for communication only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSet {
    pub subject: SubjectId,
    pub contact: crate::delivery::Contact,
    pub by: Actor,
    pub at: jiff::Timestamp,
}

/// One attempt to deliver an issued notice, with its outcome: to the portal, by
/// email (`detail`: the relay's answer or why it failed), or printed as a letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeDelivered {
    pub subject: SubjectId,
    pub obligation: String,
    pub issued_on: jiff::civil::Date,
    pub channel: crate::delivery::DeliveryChannel,
    pub ok: bool,
    pub detail: String,
    pub at: jiff::Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    SubjectCreated(SubjectCreated),
    RegistrationRecorded(RegistrationRecorded),
    CrossingRecorded(CrossingRecorded),
    PersonalDataAccessed(PersonalDataAccessed),
    ProgramActivated(ProgramActivated),
    ProgramDrafted(ProgramDrafted),
    ProgramSignedOff(ProgramSignedOff),
    ProgramRepealed(ProgramRepealed),
    SubjectDesignated(SubjectDesignated),
    DesignationReviewed(DesignationReviewed),
    NoticeServed(NoticeServed),
    ObligationExcused(ObligationExcused),
    ExcuseApproved(ExcuseApproved),
    DeterminationRecorded(DeterminationRecorded),
    ChangeReported(ChangeReported),
    NoticeIssued(NoticeIssued),
    ExpungementApproved(ExpungementApproved),
    Expunged(Expunged),
    CorrectionRequested(CorrectionRequested),
    CorrectionAnswered(CorrectionAnswered),
    LawEnforcementRequested(LawEnforcementRequested),
    LawEnforcementDecided(LawEnforcementDecided),
    ExpungementNoticed(ExpungementNoticed),
    MasterKeyRotated(MasterKeyRotated),
    ImportRecorded(ImportRecorded),
    PortalActivated(PortalActivated),
    AccessCodeReissued(AccessCodeReissued),
    AccountChanged(AccountChanged),
    AccessAttempted(AccessAttempted),
    AuthorityListed(AuthorityListed),
    ErasureComplete(ErasureComplete),
    DocumentAdded(DocumentAdded),
    PlaceSet(PlaceSet),
    PlaceClosed(PlaceClosed),
    AppointmentBooked(AppointmentBooked),
    AppointmentMissed(AppointmentMissed),
    DeskStep(DeskStep),
    InterviewRecorded(InterviewRecorded),
    ContactSet(ContactSet),
    NoticeDelivered(NoticeDelivered),
    AppointmentReleased(AppointmentReleased),
    ComparisonRecorded(ComparisonRecorded),
    IdentificationSearched(IdentificationSearched),
    IdentificationDecided(IdentificationDecided),
}

/// The only thing about an event that is stored in the clear. Codes are stable forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u16)]
pub enum EventKind {
    SubjectCreated = 1,
    RegistrationRecorded = 2,
    CrossingRecorded = 3,
    PersonalDataAccessed = 4,
    ProgramActivated = 5,
    ProgramDrafted = 6,
    ProgramSignedOff = 7,
    ProgramRepealed = 8,
    SubjectDesignated = 9,
    DesignationReviewed = 10,
    NoticeServed = 11,
    ObligationExcused = 12,
    ExcuseApproved = 13,
    DeterminationRecorded = 14,
    ChangeReported = 15,
    NoticeIssued = 16,
    ExpungementApproved = 17,
    Expunged = 18,
    CorrectionRequested = 19,
    CorrectionAnswered = 20,
    LawEnforcementRequested = 21,
    LawEnforcementDecided = 22,
    ExpungementNoticed = 23,
    MasterKeyRotated = 24,
    ImportRecorded = 25,
    PortalActivated = 26,
    AccessCodeReissued = 27,
    AccountChanged = 28,
    AccessAttempted = 29,
    AuthorityListed = 30,
    ErasureComplete = 31,
    DocumentAdded = 32,
    PlaceSet = 33,
    PlaceClosed = 34,
    AppointmentBooked = 35,
    AppointmentMissed = 36,
    DeskStep = 37,
    InterviewRecorded = 38,
    ContactSet = 39,
    NoticeDelivered = 40,
    AppointmentReleased = 41,
    ComparisonRecorded = 42,
    IdentificationSearched = 43,
    IdentificationDecided = 44,
}

impl EventKind {
    pub fn code(self) -> u16 {
        self as u16
    }
    /// Sealed under the subject's access-log key (kept after their data is erased).
    pub fn is_access_log(self) -> bool {
        matches!(
            self,
            Self::PersonalDataAccessed
                | Self::LawEnforcementRequested
                | Self::LawEnforcementDecided
                | Self::AccessAttempted
        )
    }
    /// Every kind, in code order (codes run from 1 without gaps).
    pub fn all() -> impl Iterator<Item = Self> {
        (1..).map_while(Self::from_code)
    }
    pub fn from_code(code: u16) -> Option<Self> {
        Some(match code {
            1 => Self::SubjectCreated,
            2 => Self::RegistrationRecorded,
            3 => Self::CrossingRecorded,
            4 => Self::PersonalDataAccessed,
            5 => Self::ProgramActivated,
            6 => Self::ProgramDrafted,
            7 => Self::ProgramSignedOff,
            8 => Self::ProgramRepealed,
            9 => Self::SubjectDesignated,
            10 => Self::DesignationReviewed,
            11 => Self::NoticeServed,
            12 => Self::ObligationExcused,
            13 => Self::ExcuseApproved,
            14 => Self::DeterminationRecorded,
            15 => Self::ChangeReported,
            16 => Self::NoticeIssued,
            17 => Self::ExpungementApproved,
            18 => Self::Expunged,
            19 => Self::CorrectionRequested,
            20 => Self::CorrectionAnswered,
            21 => Self::LawEnforcementRequested,
            22 => Self::LawEnforcementDecided,
            23 => Self::ExpungementNoticed,
            24 => Self::MasterKeyRotated,
            25 => Self::ImportRecorded,
            26 => Self::PortalActivated,
            27 => Self::AccessCodeReissued,
            28 => Self::AccountChanged,
            29 => Self::AccessAttempted,
            30 => Self::AuthorityListed,
            31 => Self::ErasureComplete,
            32 => Self::DocumentAdded,
            33 => Self::PlaceSet,
            34 => Self::PlaceClosed,
            35 => Self::AppointmentBooked,
            36 => Self::AppointmentMissed,
            37 => Self::DeskStep,
            38 => Self::InterviewRecorded,
            39 => Self::ContactSet,
            40 => Self::NoticeDelivered,
            41 => Self::AppointmentReleased,
            42 => Self::ComparisonRecorded,
            43 => Self::IdentificationSearched,
            44 => Self::IdentificationDecided,
            _ => return None,
        })
    }
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::SubjectCreated(_) => EventKind::SubjectCreated,
            Event::RegistrationRecorded(_) => EventKind::RegistrationRecorded,
            Event::CrossingRecorded(_) => EventKind::CrossingRecorded,
            Event::PersonalDataAccessed(_) => EventKind::PersonalDataAccessed,
            Event::ProgramActivated(_) => EventKind::ProgramActivated,
            Event::ProgramDrafted(_) => EventKind::ProgramDrafted,
            Event::ProgramSignedOff(_) => EventKind::ProgramSignedOff,
            Event::ProgramRepealed(_) => EventKind::ProgramRepealed,
            Event::SubjectDesignated(_) => EventKind::SubjectDesignated,
            Event::DesignationReviewed(_) => EventKind::DesignationReviewed,
            Event::NoticeServed(_) => EventKind::NoticeServed,
            Event::ObligationExcused(_) => EventKind::ObligationExcused,
            Event::ExcuseApproved(_) => EventKind::ExcuseApproved,
            Event::DeterminationRecorded(_) => EventKind::DeterminationRecorded,
            Event::ChangeReported(_) => EventKind::ChangeReported,
            Event::NoticeIssued(_) => EventKind::NoticeIssued,
            Event::ExpungementApproved(_) => EventKind::ExpungementApproved,
            Event::Expunged(_) => EventKind::Expunged,
            Event::CorrectionRequested(_) => EventKind::CorrectionRequested,
            Event::CorrectionAnswered(_) => EventKind::CorrectionAnswered,
            Event::LawEnforcementRequested(_) => EventKind::LawEnforcementRequested,
            Event::LawEnforcementDecided(_) => EventKind::LawEnforcementDecided,
            Event::ExpungementNoticed(_) => EventKind::ExpungementNoticed,
            Event::MasterKeyRotated(_) => EventKind::MasterKeyRotated,
            Event::ImportRecorded(_) => EventKind::ImportRecorded,
            Event::PortalActivated(_) => EventKind::PortalActivated,
            Event::AccessCodeReissued(_) => EventKind::AccessCodeReissued,
            Event::AccountChanged(_) => EventKind::AccountChanged,
            Event::AccessAttempted(_) => EventKind::AccessAttempted,
            Event::AuthorityListed(_) => EventKind::AuthorityListed,
            Event::ErasureComplete(_) => EventKind::ErasureComplete,
            Event::DocumentAdded(_) => EventKind::DocumentAdded,
            Event::PlaceSet(_) => EventKind::PlaceSet,
            Event::PlaceClosed(_) => EventKind::PlaceClosed,
            Event::AppointmentBooked(_) => EventKind::AppointmentBooked,
            Event::AppointmentMissed(_) => EventKind::AppointmentMissed,
            Event::DeskStep(_) => EventKind::DeskStep,
            Event::InterviewRecorded(_) => EventKind::InterviewRecorded,
            Event::ContactSet(_) => EventKind::ContactSet,
            Event::NoticeDelivered(_) => EventKind::NoticeDelivered,
            Event::AppointmentReleased(_) => EventKind::AppointmentReleased,
            Event::ComparisonRecorded(_) => EventKind::ComparisonRecorded,
            Event::IdentificationSearched(_) => EventKind::IdentificationSearched,
            Event::IdentificationDecided(_) => EventKind::IdentificationDecided,
        }
    }
    /// The subject this event is about, if it is about a person.
    pub fn subject(&self) -> Option<SubjectId> {
        match self {
            Event::SubjectCreated(e) => Some(e.subject),
            Event::RegistrationRecorded(e) => Some(e.subject),
            Event::CrossingRecorded(e) => Some(e.subject),
            Event::PersonalDataAccessed(e) => Some(e.subject),
            Event::SubjectDesignated(e) => Some(e.subject),
            Event::DesignationReviewed(e) => Some(e.subject),
            Event::NoticeServed(e) => Some(e.subject),
            Event::ObligationExcused(e) => Some(e.subject),
            Event::ExcuseApproved(e) => Some(e.subject),
            Event::DeterminationRecorded(e) => Some(e.subject),
            Event::ChangeReported(e) => Some(e.subject),
            Event::NoticeIssued(e) => Some(e.subject),
            Event::CorrectionRequested(e) => Some(e.subject),
            Event::CorrectionAnswered(e) => Some(e.subject),
            Event::LawEnforcementRequested(e) => Some(e.subject),
            Event::LawEnforcementDecided(e) => Some(e.subject),
            Event::PortalActivated(e) => Some(e.subject),
            Event::AccessCodeReissued(e) => Some(e.subject),
            Event::AccessAttempted(e) => e.subject,
            Event::DocumentAdded(e) => Some(e.subject),
            Event::AppointmentBooked(e) => Some(e.subject),
            Event::AppointmentMissed(e) => Some(e.subject),
            Event::DeskStep(e) => Some(e.subject),
            Event::InterviewRecorded(e) => Some(e.subject),
            Event::ContactSet(e) => Some(e.subject),
            Event::NoticeDelivered(e) => Some(e.subject),
            Event::AppointmentReleased(e) => Some(e.subject),
            Event::ComparisonRecorded(e) => Some(e.subject),
            Event::IdentificationSearched(e) => Some(e.subject),
            Event::IdentificationDecided(e) => Some(e.subject),
            Event::AccountChanged(_)
            | Event::AuthorityListed(_)
            | Event::PlaceSet(_)
            | Event::PlaceClosed(_)
            | Event::ErasureComplete(_)
            | Event::ProgramActivated(_)
            | Event::ProgramDrafted(_)
            | Event::ProgramSignedOff(_)
            | Event::ProgramRepealed(_)
            | Event::ExpungementApproved(_)
            | Event::Expunged(_)
            | Event::ExpungementNoticed(_)
            | Event::MasterKeyRotated(_)
            | Event::ImportRecorded(_) => None,
        }
    }
    /// The program a record about a person belongs to: a registration the program
    /// required or an import brought in, and the notices, excuses and determinations
    /// of its obligations (whose keys begin with the program id). Such records are
    /// sealed under a key of that program, so expunging the program's data destroys
    /// them without touching the person's other records.
    pub fn program_tag(&self) -> Option<&str> {
        fn of_key(k: &str) -> Option<&str> {
            k.split_once('/').map(|(p, _)| p).filter(|p| !p.is_empty())
        }
        match self {
            Event::RegistrationRecorded(e) => e.registration.program.as_deref(),
            Event::NoticeServed(e) => of_key(&e.notice.obligation),
            Event::NoticeIssued(e) => of_key(&e.obligation),
            Event::ObligationExcused(e) => of_key(&e.excuse.obligation),
            Event::ExcuseApproved(e) => of_key(&e.obligation),
            Event::DeterminationRecorded(e) => of_key(&e.determination.obligation),
            Event::AppointmentBooked(e) => of_key(&e.appointment.obligation),
            Event::AppointmentMissed(e) => of_key(&e.obligation),
            Event::InterviewRecorded(e) => e.obligation.as_deref().and_then(of_key),
            Event::NoticeDelivered(e) => of_key(&e.obligation),
            Event::AppointmentReleased(e) => of_key(&e.obligation),
            _ => None,
        }
    }
    /// Is this one of a program's lifecycle events?
    pub fn is_program(&self) -> bool {
        matches!(
            self,
            Event::ProgramActivated(_)
                | Event::ProgramDrafted(_)
                | Event::ProgramSignedOff(_)
                | Event::ProgramRepealed(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_codes_round_trip() {
        for k in [
            EventKind::SubjectCreated,
            EventKind::RegistrationRecorded,
            EventKind::CrossingRecorded,
            EventKind::PersonalDataAccessed,
            EventKind::ProgramActivated,
            EventKind::ProgramDrafted,
            EventKind::ProgramSignedOff,
            EventKind::ProgramRepealed,
            EventKind::SubjectDesignated,
            EventKind::DesignationReviewed,
            EventKind::NoticeServed,
            EventKind::ObligationExcused,
            EventKind::ExcuseApproved,
            EventKind::DeterminationRecorded,
            EventKind::ChangeReported,
            EventKind::NoticeIssued,
            EventKind::ExpungementApproved,
            EventKind::Expunged,
            EventKind::CorrectionRequested,
            EventKind::CorrectionAnswered,
            EventKind::LawEnforcementRequested,
            EventKind::LawEnforcementDecided,
            EventKind::ExpungementNoticed,
            EventKind::MasterKeyRotated,
            EventKind::ImportRecorded,
            EventKind::PortalActivated,
            EventKind::AccessCodeReissued,
            EventKind::AccountChanged,
            EventKind::AccessAttempted,
            EventKind::AuthorityListed,
            EventKind::ErasureComplete,
            EventKind::DocumentAdded,
            EventKind::PlaceSet,
            EventKind::PlaceClosed,
            EventKind::AppointmentBooked,
            EventKind::AppointmentMissed,
            EventKind::DeskStep,
            EventKind::InterviewRecorded,
            EventKind::ContactSet,
            EventKind::NoticeDelivered,
            EventKind::AppointmentReleased,
            EventKind::ComparisonRecorded,
            EventKind::IdentificationSearched,
            EventKind::IdentificationDecided,
        ] {
            assert_eq!(EventKind::from_code(k.code()), Some(k));
        }
        assert_eq!(EventKind::from_code(0), None);
        // `all` walks the codes without gaps: every kind, once, in order.
        let all: Vec<u16> = EventKind::all().map(EventKind::code).collect();
        assert_eq!(all, (1..=44).collect::<Vec<u16>>());
    }

    /// A search that found nobody and one that found the most it lists seal to
    /// payloads of one size: the public log cannot tell them apart.
    #[test]
    fn every_identification_search_has_one_payload_size() {
        let subject = SubjectId::from_bytes([1; 16]);
        let number = RegistrationNumber::from_entropy(7);
        let at = jiff::Timestamp::from_second(1_780_000_000).unwrap();
        let candidate = |i: u8| Candidate {
            subject: SubjectId::from_bytes([i; 16]),
            modality: crate::matching::Modality::Finger,
            score: 0.123_456_789_012_345_6 + f64::from(i),
            threshold: 0.0286,
        };
        let size = |e: &Event| serde_json::to_vec(e).unwrap().len();
        let none = IdentificationSearched::with_candidates(subject, number.clone(), 0, vec![], at);
        let many = IdentificationSearched::with_candidates(
            subject,
            number.clone(),
            u64::MAX,
            (0..30).map(candidate).collect(),
            at,
        );
        assert_eq!(size(&none), IdentificationSearched::PAYLOAD);
        assert_eq!(size(&many), IdentificationSearched::PAYLOAD);
        let Event::IdentificationSearched(m) = &many else { unreachable!() };
        assert_eq!((m.candidates.len(), m.not_listed), (20, 10));
        assert!(m.candidates[0].score > m.candidates[19].score, "the best are kept");
    }
}
