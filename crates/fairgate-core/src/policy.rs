//! The authorization policy: who may do what, in one place. It owns three tables and
//! the separation-of-duties rules:
//!
//! - [`Action`] × [`Role`]: which roles may run each command (record, approve,
//!   configure, erase …). [`allowed_roles`] is the table; [`authorize`] asks it.
//! - [`Role`] × [`Purpose`]: for which purposes each role may read personal data
//!   ([`purposes_for`]).
//! - [`Read`] × [`Purpose`]: for which purposes each kind of read may be made at all
//!   (the overstay list is for compliance review or oversight, clearance for benefit
//!   adjudication only). A read is allowed when both tables allow its purpose
//!   ([`authorize_read`]).
//! - [`Separation`]: the pairs of steps that two different people must take (the
//!   person who requests never approves).
//!
//! The registry enforces this policy at every command and every read; the server and
//! the CLI only translate its refusals. The policy is public: `GET /access-policy`
//! serves [`published`], and `docs/access-policy.md` is [`markdown`] (a test keeps the
//! two equal).
//!
//! A law-enforcement read also needs a grant in effect, approved by an independent
//! approver; that is a fact on record, checked by the registry on top of this table.

use std::fmt;

use serde::Serialize;

use crate::access::{Actor, Purpose, Role};

macro_rules! actions {
    ($($(#[$m:meta])* $variant:ident = $word:literal: [$($role:ident),*] $doc:literal;)+) => {
        /// Every command Fairgate runs, by the name the policy gives it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum Action { $($(#[$m])* #[serde(rename = $word)] $variant),+ }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $(Action::$variant => $word),+ }
            }
            /// What the command does, in a few words.
            pub fn description(self) -> &'static str {
                match self { $(Action::$variant => $doc),+ }
            }
        }

        /// The Role × Action table: the roles that may run `action`.
        pub fn allowed_roles(action: Action) -> &'static [Role] {
            match action { $(Action::$variant => &[$(Role::$role),*]),+ }
        }
    };
}

actions! {
    CreateSubject = "create-subject": [Officer, Supervisor] "record a person from their travel document";
    AddDocument = "add-document": [Officer, Supervisor] "add a person's new travel document (a renewal) to their record";
    RecordRegistration = "record-registration": [Officer, Supervisor] "record a registration and its interview";
    RecordCrossing = "record-crossing": [Officer, Supervisor] "record an entry or an exit";
    Designate = "designate": [Officer, Supervisor] "designate a person for closer monitoring (needs a supervisor's review)";
    ReviewDesignation = "review-designation": [Supervisor] "approve or reject a pending designation";
    DecideIdentification = "decide-identification": [Supervisor] "decide a 1:N candidate from an enrolment: the same person (link the records) or two people (keep them apart), with a reason";
    ServeNotice = "serve-notice": [Officer, Supervisor] "record that a notice was served";
    Excuse = "excuse": [Officer, Adjudicator] "excuse an obligation for good cause (needs a supervisor's approval)";
    ApproveExcuse = "approve-excuse": [Supervisor] "approve an excuse";
    Determine = "determine": [Adjudicator] "record a determination on an obligation";
    ReportChange = "report-change": [Officer, Supervisor, Registrant] "record a change of address, employer or school (a registrant: their own, in the portal)";
    BookAppointment = "book-appointment": [Officer, Supervisor, Registrant] "book or move an appointment for an office obligation (a registrant: their own, in the portal)";
    SetContact = "set-contact": [Officer, Supervisor, Registrant] "record how a person is contacted: an email address for notices and their language (a registrant: their own, in the portal)";
    ServeDesk = "serve-desk": [Officer, Supervisor] "check people in at an office desk, call the next, record them served or sent elsewhere";
    RecordInterview = "record-interview": [Officer, Supervisor] "record an interview held at an office, with the program's questions and the answers";
    ProgramDraft = "program-draft": [Admin] "add a program, or amend one, as a draft";
    ProgramSignOff = "program-sign-off": [Auditor] "sign off a draft the impact analysis could not clear";
    ProgramActivate = "program-activate": [Admin] "activate a program version";
    ProgramRepeal = "program-repeal": [Admin] "repeal a program";
    ApproveExpungement = "approve-expungement": [Auditor] "approve the expungement of a person";
    Expunge = "expunge": [Admin] "carry out an approved expungement";
    ApproveProgramExpungement = "approve-program-expungement": [Auditor] "approve the expungement of a repealed program's records";
    NoticeProgramExpungement = "notice-program-expungement": [Admin] "open the notice-and-copy period of an approved program expungement";
    ExpungeProgram = "expunge-program": [Admin] "carry out a program's expungement after its notice period";
    RequestLawEnforcement = "request-law-enforcement": [Supervisor] "request law-enforcement access to a person's records";
    ApproveLawEnforcement = "approve-law-enforcement": [Approver] "approve a law-enforcement request";
    ReviewEmergencyAccess = "review-emergency-access": [Approver] "review an emergency law-enforcement access";
    LawEnforcementQueue = "law-enforcement-queue": [Approver, Auditor] "list law-enforcement requests awaiting approval or review, with case, reasons and scope";
    RequestCorrection = "request-correction": [Registrant] "ask for a correction of one's own records";
    AnswerCorrection = "answer-correction": [Supervisor] "answer a correction request";
    ReissueAccessCode = "reissue-access-code": [Supervisor] "issue a person a new portal activation code, with a reason (shown to the person)";
    Import = "import": [Admin] "import legacy records into a program";
    DesignationStatistics = "designation-statistics": [Auditor] "read designation rates by officer and place (aggregates only)";
    ManagePlaces = "manage-places": [Admin] "add, change and close ports and offices";
    ManageAuthorities = "manage-authorities": [Admin] "add an authority (with its reference) to the public list that expungements cite";
    ManageUsers = "manage-users": [Admin] "add, change, disable staff accounts and rotate their tokens";
    RotateKeys = "rotate-keys": [Admin] "rotate the master key";
    RunCompliance = "run-compliance": [Admin] "run the daily compliance run (obligations and notices)";
    RunRetention = "run-retention": [Admin] "erase everyone past their programs' retention rules";
}

macro_rules! reads {
    ($($variant:ident = $word:literal: [$($purpose:ident),*] $doc:literal;)+) => {
        /// Every kind of read of personal data.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum Read { $(#[serde(rename = $word)] $variant),+ }

        impl Read {
            pub const ALL: &'static [Read] = &[$(Read::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $(Read::$variant => $word),+ }
            }
            pub fn description(self) -> &'static str {
                match self { $(Read::$variant => $doc),+ }
            }
        }

        /// The Read × Purpose table: the purposes a read of this kind may state.
        pub fn read_purposes(read: Read) -> &'static [Purpose] {
            match read { $(Read::$variant => &[$(Purpose::$purpose),*]),+ }
        }
    };
}

reads! {
    Timeline = "timeline": [Registration, BorderCheck, ComplianceReview, BenefitAdjudication, OversightAudit, SubjectAccess, LawEnforcement] "a person's record and history";
    DocumentLookup = "document-lookup": [Registration, BorderCheck, ComplianceReview, BenefitAdjudication, OversightAudit, LawEnforcement] "find people by travel-document number";
    Stay = "stay": [Registration, BorderCheck, ComplianceReview, BenefitAdjudication, OversightAudit, LawEnforcement] "a person's stay accounting";
    OverstayList = "overstay-list": [ComplianceReview, OversightAudit] "the list of everyone overstaying";
    Obligations = "obligations": [Registration, BorderCheck, ComplianceReview, BenefitAdjudication, OversightAudit, LawEnforcement] "what a person must do, and why";
    Clearance = "clearance": [BenefitAdjudication] "the facts a benefit decision may use";
    Notice = "notice": [Registration, BorderCheck, ComplianceReview, BenefitAdjudication, OversightAudit, LawEnforcement, SubjectAccess] "the notice document of an obligation (the person: their own, in the portal)";
    PendingNotices = "pending-notices": [ComplianceReview] "notices issued and not yet served, as documents, and the letters to print";
    Biometrics = "biometrics": [Registration, BorderCheck, SubjectAccess, LawEnforcement] "a person's face and fingerprint records (CBEFF or ANSI/NIST-ITL)";
    DeskQueue = "desk-queue": [Registration] "who is waiting at an office today (pseudonymous ids, arrival, slot, desk)";
    IdentificationReviews = "identification-reviews": [Registration] "the 1:N candidates from enrolments awaiting a supervisor's decision (pseudonymous ids and scores)";
    WorkQueue = "work-queue": [ComplianceReview, BenefitAdjudication] "the staff work queues: designations to review, excuses to approve, overdue obligations awaiting a determination, corrections to answer (each listed person's item, as recorded)";
    AccessLog = "access-log": [OversightAudit] "a search of the access log: who read whose records, why and when, by member of staff, purpose and day";
    Disclosures = "disclosures": [SubjectAccess] "who read a person's records and why";
    ProgramImpact = "program-impact": [OversightAudit] "a program's impact analysis over everyone on record (noised aggregates of 10 or more, within a privacy budget)";
}

/// The Role × Purpose table: why each role may read personal data. A purpose not
/// listed for a role is refused. Law enforcement also needs a grant in effect,
/// approved by an independent approver (checked by the registry).
pub fn purposes_for(role: Role) -> &'static [Purpose] {
    match role {
        Role::Officer => &[Purpose::Registration, Purpose::BorderCheck],
        Role::Supervisor => {
            &[Purpose::Registration, Purpose::BorderCheck, Purpose::ComplianceReview, Purpose::LawEnforcement]
        }
        Role::Adjudicator => &[Purpose::BenefitAdjudication],
        Role::Auditor => &[Purpose::OversightAudit],
        Role::Approver => &[],
        // Configuration and keys; never personal data.
        Role::Admin => &[],
        // Their own records only: the registry binds a registrant to one person.
        Role::Registrant => &[Purpose::SubjectAccess],
    }
}

/// Steps that must be taken by two different people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Separation {
    /// The person who recorded an excuse never approves it.
    #[serde(rename = "excuse-approval")]
    ExcuseApproval,
    /// The officer who designated a person never reviews the designation.
    #[serde(rename = "designation-review")]
    DesignationReview,
    /// The person who requested law-enforcement access never approves or reviews it.
    #[serde(rename = "law-enforcement-decision")]
    LawEnforcementDecision,
    /// The auditor who approved an expungement never carries it out.
    #[serde(rename = "expungement")]
    Expungement,
    /// Nobody changes, disables or rotates the token of their own account.
    #[serde(rename = "own-account")]
    OwnAccount,
}

impl Separation {
    pub const ALL: &'static [Separation] = &[
        Separation::ExcuseApproval,
        Separation::DesignationReview,
        Separation::LawEnforcementDecision,
        Separation::Expungement,
        Separation::OwnAccount,
    ];
    /// (first step, second step): the actions the two people take.
    pub fn steps(self) -> (Action, Action) {
        match self {
            Separation::ExcuseApproval => (Action::Excuse, Action::ApproveExcuse),
            Separation::DesignationReview => (Action::Designate, Action::ReviewDesignation),
            Separation::LawEnforcementDecision => (Action::RequestLawEnforcement, Action::ApproveLawEnforcement),
            Separation::Expungement => (Action::ApproveExpungement, Action::Expunge),
            Separation::OwnAccount => (Action::ManageUsers, Action::ManageUsers),
        }
    }
    pub fn description(self) -> &'static str {
        match self {
            Separation::ExcuseApproval => "the person who recorded an excuse cannot approve it",
            Separation::DesignationReview => "the officer who made a designation cannot review it",
            Separation::LawEnforcementDecision => {
                "the person who requested law-enforcement access cannot approve or review it"
            }
            Separation::Expungement => "the person who approved an expungement cannot carry it out",
            Separation::OwnAccount => {
                "nobody changes their own account's role, token or access: another administrator does"
            }
        }
    }
}

/// Why the policy refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The role may not run this command.
    #[error("the role {role} may not {} ({}); {}", action.description(), action.as_str(), who(allowed_roles(*action)))]
    Action { role: Role, action: Action },
    /// The role may not read personal data for this purpose, or this read is not made for it.
    #[error("{}", purpose_message(*role, *read, *purpose))]
    Purpose { role: Role, read: Read, purpose: Purpose },
    /// A registrant asked for someone else's records.
    #[error("a registrant reads their own records only")]
    NotOwnRecords,
    /// One person tried to take both steps of a separated pair.
    #[error("{}: another person must do this", .0.description())]
    Separation(Separation),
}

fn who(roles: &[Role]) -> String {
    if roles.is_empty() {
        return "no role may".into();
    }
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    format!("only the {} role may", names.join(" or "))
}

fn purpose_message(role: Role, read: Read, purpose: Purpose) -> String {
    if !read_purposes(read).contains(&purpose) {
        let list: Vec<&str> = read_purposes(read).iter().map(|p| p.as_str()).collect();
        return format!("the {} is read for {}, not {purpose}", read.description(), list.join(" or "));
    }
    let mine: Vec<&str> = purposes_for(role).iter().map(|p| p.as_str()).collect();
    if mine.is_empty() {
        format!("the purpose {purpose} is not permitted for the role {role}: that role reads no personal data")
    } else {
        format!(
            "the purpose {purpose} is not permitted for the role {role}; the role {role} may use: {}",
            mine.join(", ")
        )
    }
}

/// May `role` run `action`?
pub fn allows(role: Role, action: Action) -> bool {
    allowed_roles(action).contains(&role)
}

/// May `role` make a read of kind `read` for `purpose`? Both tables must allow it.
pub fn allows_read(role: Role, read: Read, purpose: Purpose) -> bool {
    read_purposes(read).contains(&purpose) && purposes_for(role).contains(&purpose)
}

/// Refuse `actor` unless their role may run `action`.
pub fn authorize(actor: &Actor, action: Action) -> Result<(), Refusal> {
    if allows(actor.role, action) {
        Ok(())
    } else {
        Err(Refusal::Action { role: actor.role, action })
    }
}

/// Refuse `actor` unless their role may make `read` for `purpose`.
pub fn authorize_read(actor: &Actor, read: Read, purpose: Purpose) -> Result<(), Refusal> {
    if allows_read(actor.role, read, purpose) {
        Ok(())
    } else {
        Err(Refusal::Purpose { role: actor.role, read, purpose })
    }
}

/// Refuse when the person who took the first step of `rule` (`first`) is the one
/// taking the second (`second`).
pub fn separate(rule: Separation, first: &Actor, second: &Actor) -> Result<(), Refusal> {
    if first.id == second.id {
        Err(Refusal::Separation(rule))
    } else {
        Ok(())
    }
}

/// The id a registrant acts under: bound to the one person whose records they may
/// read (see [`own_records`]).
pub fn registrant_id(subject: &crate::ids::SubjectId) -> String {
    format!("registrant:{subject}")
}

/// A registrant may read only the person their portal session is bound to.
pub fn own_records(actor: &Actor, subject: &crate::ids::SubjectId) -> Result<(), Refusal> {
    if actor.role != Role::Registrant || actor.id == registrant_id(subject) {
        Ok(())
    } else {
        Err(Refusal::NotOwnRecords)
    }
}

/// The policy as published at `GET /access-policy`.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub roles: Vec<&'static str>,
    pub actions: Vec<PublishedAction>,
    pub purposes: Vec<PublishedRole>,
    pub reads: Vec<PublishedRead>,
    pub separation_of_duties: Vec<PublishedSeparation>,
    pub notes: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublishedAction {
    pub action: &'static str,
    pub description: &'static str,
    pub roles: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublishedRole {
    pub role: &'static str,
    pub purposes: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublishedRead {
    pub read: &'static str,
    pub description: &'static str,
    pub purposes: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublishedSeparation {
    pub rule: Separation,
    pub first: &'static str,
    pub second: &'static str,
    pub description: &'static str,
}

const NOTES: &[&str] = &[
    "A read is allowed when the role may use the purpose and the read may be made for it.",
    "A law-enforcement read also needs a grant in effect: requested by a supervisor, approved by an independent approver, for 72 hours.",
    "A registrant reads only their own records, through the portal.",
    "Every read of personal data is written to the public log before the data is returned.",
];

fn words<T: Copy>(xs: &[T], f: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    xs.iter().map(|x| f(*x)).collect()
}

/// The whole policy, as data.
pub fn published() -> Published {
    Published {
        roles: words(Role::ALL, |r| r.as_str()),
        actions: Action::ALL
            .iter()
            .map(|a| PublishedAction {
                action: a.as_str(),
                description: a.description(),
                roles: words(allowed_roles(*a), |r| r.as_str()),
            })
            .collect(),
        purposes: Role::ALL
            .iter()
            .map(|r| PublishedRole { role: r.as_str(), purposes: words(purposes_for(*r), |p| p.as_str()) })
            .collect(),
        reads: Read::ALL
            .iter()
            .map(|r| PublishedRead {
                read: r.as_str(),
                description: r.description(),
                purposes: words(read_purposes(*r), |p| p.as_str()),
            })
            .collect(),
        separation_of_duties: Separation::ALL
            .iter()
            .map(|s| {
                let (a, b) = s.steps();
                PublishedSeparation { rule: *s, first: a.as_str(), second: b.as_str(), description: s.description() }
            })
            .collect(),
        notes: NOTES.to_vec(),
    }
}

/// The policy as a Markdown document (`docs/access-policy.md` is this, generated).
pub fn markdown() -> String {
    use fmt::Write;
    let mut s = String::new();
    let roles = Role::ALL;
    let _ = writeln!(s, "# Access policy\n");
    let _ = writeln!(
        s,
        "Generated from `crates/fairgate-core/src/policy.rs` (`fairgate policy --markdown`); the server \
         publishes the same policy as JSON at `GET /access-policy`. A test fails if this file and the code \
         disagree.\n"
    );
    let _ = writeln!(s, "## Commands (role × action)\n");
    let header: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    let _ = writeln!(s, "| action | what it does | {} |", header.join(" | "));
    let _ = writeln!(s, "|---|---|{}", "---|".repeat(roles.len()));
    for a in Action::ALL {
        let cells: Vec<&str> = roles.iter().map(|r| if allows(*r, *a) { "yes" } else { "" }).collect();
        let _ = writeln!(s, "| `{}` | {} | {} |", a.as_str(), a.description(), cells.join(" | "));
    }
    let _ = writeln!(s, "\n## Purposes of reads (role × purpose)\n");
    let purposes = Purpose::ALL;
    let ph: Vec<&str> = purposes.iter().map(|p| p.as_str()).collect();
    let _ = writeln!(s, "| role | {} |", ph.join(" | "));
    let _ = writeln!(s, "|---|{}", "---|".repeat(purposes.len()));
    for r in roles {
        let cells: Vec<&str> = purposes.iter().map(|p| if purposes_for(*r).contains(p) { "yes" } else { "" }).collect();
        let _ = writeln!(s, "| {} | {} |", r.as_str(), cells.join(" | "));
    }
    let _ = writeln!(s, "\n## Reads (read × purpose)\n");
    let _ = writeln!(s, "| read | what it returns | {} |", ph.join(" | "));
    let _ = writeln!(s, "|---|---|{}", "---|".repeat(purposes.len()));
    for r in Read::ALL {
        let cells: Vec<&str> =
            purposes.iter().map(|p| if read_purposes(*r).contains(p) { "yes" } else { "" }).collect();
        let _ = writeln!(s, "| `{}` | {} | {} |", r.as_str(), r.description(), cells.join(" | "));
    }
    let _ = writeln!(s, "\n## Separation of duties\n");
    let _ = writeln!(s, "| first step | second step | rule |");
    let _ = writeln!(s, "|---|---|---|");
    for sep in Separation::ALL {
        let (a, b) = sep.steps();
        let _ = writeln!(s, "| `{}` | `{}` | {} |", a.as_str(), b.as_str(), sep.description());
    }
    let _ = writeln!(s, "\n## Notes\n");
    for n in NOTES {
        let _ = writeln!(s, "- {n}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_and_approvers_never_read_personal_data() {
        for read in Read::ALL {
            for purpose in Purpose::ALL {
                assert!(!allows_read(Role::Admin, *read, *purpose), "{read:?} {purpose}");
                assert!(!allows_read(Role::Approver, *read, *purpose), "{read:?} {purpose}");
            }
        }
    }

    #[test]
    fn the_policy_says_what_the_design_says() {
        // Only supervisors may state law enforcement (and then only with a grant).
        for role in Role::ALL {
            assert_eq!(purposes_for(*role).contains(&Purpose::LawEnforcement), *role == Role::Supervisor, "{role}");
        }
        // "May an adjudicator read obligations?" Yes, for benefit adjudication only.
        assert!(allows_read(Role::Adjudicator, Read::Obligations, Purpose::BenefitAdjudication));
        assert!(!allows_read(Role::Adjudicator, Read::Obligations, Purpose::ComplianceReview));
        assert!(!allows_read(Role::Officer, Read::OverstayList, Purpose::BorderCheck), "not a list purpose");
        assert!(!allows_read(Role::Officer, Read::OverstayList, Purpose::ComplianceReview), "not the officer's");
        assert!(allows_read(Role::Supervisor, Read::OverstayList, Purpose::ComplianceReview));
        assert!(allows_read(Role::Auditor, Read::OverstayList, Purpose::OversightAudit));
        assert!(!allows_read(Role::Supervisor, Read::Clearance, Purpose::ComplianceReview));
        // Every action has at least one role, and the two steps of every separated
        // pair are actions someone may take.
        for a in Action::ALL {
            assert!(!allowed_roles(*a).is_empty(), "{a:?} has no role");
        }
        assert!(allows(Role::Officer, Action::RecordCrossing) && !allows(Role::Auditor, Action::RecordCrossing));
        assert!(!allows(Role::Admin, Action::CreateSubject));
        assert!(allows(Role::Auditor, Action::ProgramSignOff) && !allows(Role::Admin, Action::ProgramSignOff));
    }

    #[test]
    fn refusals_name_who_may() {
        let clerk = Actor::new("u-1", Role::Auditor, "x");
        let e = authorize(&clerk, Action::RecordCrossing).unwrap_err().to_string();
        assert!(e.contains("officer or supervisor") && e.contains("auditor"), "{e}");
        let e = authorize_read(&clerk, Read::Clearance, Purpose::OversightAudit).unwrap_err().to_string();
        assert!(e.contains("benefit-adjudication"), "{e}");
        let a = Actor::new("u-1", Role::Supervisor, "x");
        assert_eq!(separate(Separation::ExcuseApproval, &a, &a), Err(Refusal::Separation(Separation::ExcuseApproval)));
        assert!(separate(Separation::ExcuseApproval, &a, &Actor::new("u-2", Role::Supervisor, "x")).is_ok());
    }

    #[test]
    fn a_registrant_is_bound_to_one_person() {
        let me = crate::ids::SubjectId::from_bytes([1; 16]);
        let other = crate::ids::SubjectId::from_bytes([2; 16]);
        let actor = Actor::new(registrant_id(&me), Role::Registrant, "the person themselves");
        assert!(own_records(&actor, &me).is_ok());
        assert_eq!(own_records(&actor, &other), Err(Refusal::NotOwnRecords));
    }

    #[test]
    fn words_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for a in Action::ALL {
            assert!(seen.insert(a.as_str()), "{a:?}");
        }
        for r in Read::ALL {
            assert!(seen.insert(r.as_str()), "{r:?}");
        }
    }
}
