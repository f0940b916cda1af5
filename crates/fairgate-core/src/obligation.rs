//! Obligations and compliance: what a person must do under the programs in force,
//! derived (never stored as a verdict) from the facts on record: registrations,
//! crossings, change reports, notices, excuses and determinations. The same facts
//! and day always give the same states, so a daily run is idempotent by
//! construction, and a rebuilt database answers the same.
//!
//! The rules that NSEERS broke, kept here:
//! - **Notice first.** Nothing becomes `overdue` unless a notice was served (channel,
//!   date, and proof or acknowledgement). A notice served less than the minimum
//!   notice period before the due date moves the due date out.
//! - **No automatic guilt.** Fairgate never computes "willful". A person's
//!   determination is recorded by an adjudicator, with reasons, and is refused when
//!   no notice was served.
//! - **Repeal and sunset** void every open obligation of the program at once, and
//!   nothing from an ended program is admissible in a clearance answer.

use std::fmt;

use jiff::civil::Date;
use jiff::ToSpan;
use serde::{Deserialize, Serialize};

use crate::program::impact::{selects, Person};
use crate::program::lang::{Change, ObligationKind, ProgramSpec, Selection};

/// Days a notice must leave before the due date, unless a program says otherwise.
pub const DEFAULT_NOTICE_DAYS: i64 = 10;

/// How a program's term ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ending {
    Superseded,
    Sunset,
    Repealed,
}

/// One activated version of a program, with the days it was in force: from `from`
/// up to (not including) `until`.
#[derive(Debug, Clone)]
pub struct Term {
    pub spec: ProgramSpec,
    pub from: Date,
    pub until: Option<(Date, Ending)>,
}

impl Term {
    fn covers(&self, d: Date) -> bool {
        d >= self.from && self.until.is_none_or(|(u, _)| d < u)
    }
    fn ended_by(&self, on: Date) -> Option<(Date, Ending)> {
        self.until.filter(|(u, _)| on >= *u)
    }
}

/// The terms of every activated version in a program book: a version runs from
/// its start (or activation, if later) until the next version's activation, its
/// sunset, or the program's repeal, whichever comes first.
pub fn terms(book: &crate::program::lifecycle::ProgramBook) -> Vec<Term> {
    let day = |t: jiff::Timestamp| t.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut out = Vec::new();
    for rec in &book.programs {
        let mut activated: Vec<_> = rec.versions.iter().filter(|v| v.activated.is_some()).collect();
        activated.sort_by_key(|v| v.activated.as_ref().map(|s| s.at));
        for (i, v) in activated.iter().enumerate() {
            let Some(spec) = v.source.as_deref().and_then(|s| crate::program::lang::compile(s).ok()) else { continue };
            let act = v.activated.as_ref().map(|s| day(s.at)).unwrap_or(v.program.starts);
            let mut ends = vec![(v.program.sunset.checked_add(1.day()).unwrap_or(v.program.sunset), Ending::Sunset)];
            if let Some(next) = activated.get(i + 1).and_then(|n| n.activated.as_ref()) {
                ends.push((day(next.at), Ending::Superseded));
            }
            if let Some(r) = &rec.repealed {
                ends.push((day(r.stamp.at), Ending::Repealed));
            }
            let until = ends.into_iter().min_by_key(|(d, _)| *d);
            out.push(Term { spec: spec.clone(), from: act.max(v.program.starts), until });
        }
    }
    out
}

/// How a notice reached the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    Mail,
    InPerson,
    Email,
    Portal,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Channel::Mail, Channel::InPerson, Channel::Email, Channel::Portal];
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Mail => "mail",
            Channel::InPerson => "in-person",
            Channel::Email => "email",
            Channel::Portal => "portal",
        }
    }
    fn phrase(self) -> &'static str {
        match self {
            Channel::Mail => "by mail",
            Channel::InPerson => "in person",
            Channel::Email => "by email",
            Channel::Portal => "through the portal",
        }
    }
}

/// A notice of an obligation. It counts as served only with a proof (e.g. a
/// registered-mail receipt number) or the person's acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub obligation: String,
    pub channel: Channel,
    pub served_on: Date,
    pub proof: Option<String>,
    pub acknowledged_on: Option<Date>,
}

impl Notice {
    pub fn is_served(&self) -> bool {
        self.proof.as_deref().is_some_and(|p| !p.trim().is_empty()) || self.acknowledged_on.is_some()
    }
}

/// An excuse for good cause; it takes effect once a supervisor approves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excuse {
    pub obligation: String,
    pub category: String,
    pub text: String,
    pub approved_on: Option<Date>,
}

/// A change of address, employer or school, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeReport {
    pub change: Change,
    pub changed_on: Date,
    pub reported_on: Date,
}

/// An adjudicator's finding on a failure. Fairgate never makes one itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Finding {
    Willful,
    NotWillful,
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Determination {
    pub obligation: String,
    pub finding: Finding,
    pub reasons: String,
    /// What was considered: notices, attempts, appointments (as written references).
    pub evidence: Vec<String>,
    pub made_on: Date,
}

/// Everything on record about one person that obligations depend on. Days are
/// local calendar days (crossings at the port's zone).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Facts {
    pub birth_date: Option<Date>,
    pub registrations: Vec<Date>,
    /// (day, admission class, admitted until) of each entry.
    pub entries: Vec<(Date, Option<String>, Option<Date>)>,
    pub exits: Vec<Date>,
    /// Days from which the person is individually designated (approved).
    pub designated_from: Option<Date>,
    /// (day, place) of each registration and of each designation, for the public
    /// activity-by-program table.
    pub registered_at: Vec<(Date, String)>,
    pub designated_at: Vec<(Date, String)>,
    pub purpose_of_admission: Option<String>,
    pub change_reports: Vec<ChangeReport>,
    pub notices: Vec<Notice>,
    pub excuses: Vec<Excuse>,
    pub determinations: Vec<Determination>,
    /// Keys of obligations whose notice the daily run has issued (not yet served).
    pub issued: Vec<String>,
    /// Every booking, in the order made; the last per obligation is the current one.
    pub appointments: Vec<crate::appointment::Appointment>,
    /// (day, office) of each check-in at an office desk, in the office's calendar.
    pub check_ins: Vec<(Date, String)>,
    /// (obligation, slot day) of each appointment recorded as missed.
    pub missed: Vec<(String, Date)>,
    /// Days of each interview held (in the office's calendar).
    pub interviews: Vec<Date>,
    /// The postal code of the current address (the latest change of address
    /// reported, by the day it changed) with that day: it picks the person's office.
    pub postal_code: Option<(Date, String)>,
    /// (obligation, day) of every notice issued.
    pub issued_on: Vec<(String, Date)>,
    /// How the person is contacted (the latest given).
    pub contact: Option<crate::delivery::Contact>,
    /// Every delivery attempt of an issued notice.
    pub deliveries: Vec<crate::delivery::Delivery>,
    /// (obligation, slot) of each booking released before its day.
    pub released: Vec<(String, crate::appointment::Slot)>,
}

impl Facts {
    /// The booking of obligation `key` that still stands: the latest, unless it was
    /// released.
    pub fn booking(&self, key: &str) -> Option<&crate::appointment::Appointment> {
        let a = self.appointments.iter().rev().find(|a| a.obligation == key)?;
        (!self.released.iter().any(|(k, s)| k == key && *s == a.slot)).then_some(a)
    }
}

impl Facts {
    /// Whether [`Facts::apply`] folds events of `kind`: the one list the registry
    /// derives every fold of the facts from (from the leaves, and in the compaction).
    /// The match has no wildcard, so a new kind of event must be decided here.
    pub fn folds(kind: crate::event::EventKind) -> bool {
        use crate::event::EventKind as K;
        match kind {
            K::SubjectCreated
            | K::RegistrationRecorded
            | K::CrossingRecorded
            | K::SubjectDesignated
            | K::DesignationReviewed
            | K::NoticeServed
            | K::ObligationExcused
            | K::ExcuseApproved
            | K::DeterminationRecorded
            | K::ChangeReported
            | K::NoticeIssued
            | K::AppointmentBooked
            | K::AppointmentMissed
            | K::DeskStep
            | K::InterviewRecorded
            | K::ContactSet
            | K::NoticeDelivered
            | K::AppointmentReleased => true,
            K::PersonalDataAccessed
            | K::ProgramActivated
            | K::ProgramDrafted
            | K::ProgramSignedOff
            | K::ProgramRepealed
            | K::ExpungementApproved
            | K::Expunged
            | K::CorrectionRequested
            | K::CorrectionAnswered
            | K::LawEnforcementRequested
            | K::LawEnforcementDecided
            | K::ExpungementNoticed
            | K::MasterKeyRotated
            | K::ImportRecorded
            | K::PortalActivated
            | K::AccessCodeReissued
            | K::AccountChanged
            | K::AccessAttempted
            | K::AuthorityListed
            | K::ErasureComplete
            | K::DocumentAdded
            | K::PlaceSet
            | K::PlaceClosed
            | K::ComparisonRecorded
            | K::IdentificationSearched
            | K::IdentificationDecided => false,
        }
    }

    /// Fold one event about the person in. `day_at(place, at)` gives the local
    /// calendar day at a port or office. Events about other things are ignored.
    pub fn apply(&mut self, event: &crate::event::Event, day_at: &dyn Fn(&str, jiff::Timestamp) -> Date) {
        use crate::event::Event;
        let utc = |t: jiff::Timestamp| t.to_zoned(jiff::tz::TimeZone::UTC).date();
        match event {
            Event::SubjectCreated(e) => self.birth_date = Some(e.person.birth_date),
            Event::RegistrationRecorded(e) => {
                let day = day_at(&e.registration.place, e.registration.at);
                insert_sorted(&mut self.registrations, day);
                self.registered_at.push((day, e.registration.place.clone()));
            }
            Event::SubjectDesignated(e) => {
                self.designated_at.push((day_at(&e.designation.place, e.at), e.designation.place.clone()))
            }
            Event::CrossingRecorded(e) => {
                let day = day_at(&e.crossing.port, e.crossing.at);
                match e.crossing.direction {
                    crate::crossing::Direction::Entry => {
                        self.entries.push((day, e.crossing.admission_class.clone(), e.crossing.admitted_until));
                        self.entries.sort_by_key(|x| x.0);
                    }
                    crate::crossing::Direction::Exit => insert_sorted(&mut self.exits, day),
                }
            }
            Event::DesignationReviewed(e) if e.approved => {
                let d = utc(e.at);
                self.designated_from = Some(self.designated_from.map_or(d, |f| f.min(d)));
            }
            Event::NoticeServed(e) => self.notices.push(e.notice.clone()),
            Event::ObligationExcused(e) => self.excuses.push(e.excuse.clone()),
            Event::ExcuseApproved(e) => {
                if let Some(x) =
                    self.excuses.iter_mut().find(|x| x.obligation == e.obligation && x.approved_on.is_none())
                {
                    x.approved_on = Some(e.on);
                }
            }
            Event::DeterminationRecorded(e) => self.determinations.push(e.determination.clone()),
            Event::ChangeReported(e) => {
                self.change_reports.push(e.report.clone());
                if let Some(ChangeDetails::Address(a)) = &e.details {
                    // Events come in leaf order: a later report of the same day wins.
                    if self.postal_code.as_ref().is_none_or(|(d, _)| *d <= e.report.changed_on) {
                        self.postal_code = Some((e.report.changed_on, a.postal_code.clone()));
                    }
                }
            }
            Event::NoticeIssued(e) => {
                self.issued.push(e.obligation.clone());
                self.issued_on.push((e.obligation.clone(), e.issued_on));
            }
            Event::ContactSet(e) => self.contact = Some(e.contact.clone()),
            Event::AppointmentReleased(e) => self.released.push((e.obligation.clone(), e.slot.clone())),
            Event::NoticeDelivered(e) => self.deliveries.push(crate::delivery::Delivery {
                obligation: e.obligation.clone(),
                issued_on: e.issued_on,
                channel: e.channel,
                ok: e.ok,
                on: utc(e.at),
            }),
            Event::AppointmentBooked(e) => self.appointments.push(e.appointment.clone()),
            Event::AppointmentMissed(e) => self.missed.push((e.obligation.clone(), e.slot.day)),
            Event::DeskStep(e) => {
                if let crate::event::Step::CheckIn { .. } = e.step {
                    self.check_ins.push((day_at(&e.office, e.at), e.office.clone()));
                }
            }
            Event::InterviewRecorded(e) => insert_sorted(&mut self.interviews, day_at(&e.place, e.at)),
            _ => {}
        }
    }

    /// The person as a selection sees them on day `d`.
    pub fn person_on(&self, d: Date) -> Person {
        let latest = self.entries.iter().filter(|(e, _, _)| *e <= d).max_by_key(|(e, _, _)| *e);
        let left = latest.is_some_and(|(e, _, _)| self.exits.iter().any(|x| x >= e && *x < d));
        Person {
            nationality: String::new(),
            sex: String::new(),
            birth_date: self.birth_date,
            admission_class: latest.and_then(|(_, c, _)| c.clone()),
            purpose_of_admission: self.purpose_of_admission.clone(),
            admitted_on: latest.map(|(e, _, _)| *e),
            stay_days: latest.filter(|_| !left).map(|(e, _, u)| {
                // The stay a person is admitted for, or has made so far.
                let end = u.unwrap_or(d).max(d);
                (end.since(*e).map_or(0, |s| s.get_days()) + 1).max(0) as u32
            }),
            designated: self.designated_from.is_some_and(|f| f <= d),
            postal_code: self.postal_code.as_ref().map(|(_, p)| p.clone()),
        }
    }
}

fn insert_sorted(v: &mut Vec<Date>, d: Date) {
    let i = v.partition_point(|x| *x <= d);
    v.insert(i, d);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Pending,
    Met,
    Overdue,
    Excused,
    Void,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Met => "met",
            State::Overdue => "overdue",
            State::Excused => "excused",
            State::Void => "void",
        }
    }
}

/// One obligation of one person, with its state on a day and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Obligation {
    /// `program/vN/obligations[i]/k`: stable, referenced by notices, excuses and determinations.
    pub key: String,
    pub kind: ObligationKind,
    pub program: String,
    pub version: u32,
    pub clause: String,
    /// The due date the program sets.
    pub due: Date,
    /// The due date after any move for late notice.
    pub effective_due: Date,
    pub state: State,
    /// The day it was met, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub met_on: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<Notice>,
    /// How the program's term ended, if it has by the day asked about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program_ended: Option<Ending>,
    pub explanation: String,
}

fn kind_words(k: ObligationKind) -> (&'static str, &'static str) {
    match k {
        ObligationKind::Register => ("Registration", "registration"),
        ObligationKind::Reregister => ("Re-registration", "re-registration"),
        ObligationKind::ReportChange => ("A change report", "change report"),
        ObligationKind::RecordDeparture => ("A recorded departure", "recorded departure"),
        ObligationKind::Interview => ("An interview", "interview"),
    }
}

/// The first day in a term on which the selection picks the person, looking at the
/// term's first day and every entry and registration within it.
fn first_selected(term: &Term, facts: &Facts, on: Date) -> Option<Date> {
    let sel: &Selection = &term.spec.selection;
    let mut days: Vec<Date> = vec![term.from];
    days.extend(facts.entries.iter().map(|(d, _, _)| *d));
    days.extend(facts.registrations.iter().copied());
    if let Some(d) = facts.designated_from {
        days.push(d);
    }
    days.sort();
    days.dedup();
    days.into_iter().filter(|d| *d <= on && term.covers(*d)).find(|d| {
        // On the term's first day only people already here count.
        let p = facts.person_on(*d);
        (p.admitted_on.is_some() || facts.registrations.iter().any(|r| r <= d)) && selects(sel, &p, *d)
    })
}

/// A raw obligation before its state is worked out.
struct Raw {
    clause: usize,
    occurrence: u32,
    kind: ObligationKind,
    due: Date,
    met_on: Option<Date>,
    what: String,
}

fn derive_raw(term: &Term, facts: &Facts, start: Date, on: Date) -> Vec<Raw> {
    let mut out = Vec::new();
    let end = term.until.map(|(u, _)| u);
    for (i, rule) in term.spec.obligations.iter().enumerate() {
        match rule.kind {
            ObligationKind::Register => {
                let due = start.checked_add((rule.within_days.unwrap_or(0) as i64).days()).unwrap_or(start);
                let met_on = facts.registrations.iter().copied().filter(|r| *r >= start && *r <= on).min();
                out.push(Raw { clause: i, occurrence: 1, kind: rule.kind, due, met_on, what: String::new() });
            }
            ObligationKind::Reregister | ObligationKind::Interview => {
                let every = rule.every_days.unwrap_or(365).max(1) as i64;
                let mut anchor =
                    facts.registrations.iter().copied().filter(|r| *r >= start && *r <= on).min().unwrap_or(start);
                // A re-registration is met by a registration, an interview by an interview.
                let meets =
                    if rule.kind == ObligationKind::Interview { &facts.interviews } else { &facts.registrations };
                let mut k = 1;
                // Every occurrence due up to `on`, and the next one ahead.
                loop {
                    let due = anchor.checked_add(every.days()).unwrap_or(anchor);
                    if end.is_some_and(|e| due >= e && k > 1) {
                        break;
                    }
                    let met_on = meets.iter().copied().filter(|r| *r > anchor && *r <= on).min();
                    out.push(Raw { clause: i, occurrence: k, kind: rule.kind, due, met_on, what: String::new() });
                    if due > on || k >= 500 {
                        break;
                    }
                    anchor = met_on.unwrap_or(due);
                    k += 1;
                }
            }
            ObligationKind::ReportChange => {
                let within = rule.within_days.unwrap_or(0) as i64;
                let reports =
                    facts.change_reports.iter().filter(|r| r.changed_on >= start && rule.changes.contains(&r.change));
                for (k, r) in (1..).zip(reports) {
                    let due = r.changed_on.checked_add(within.days()).unwrap_or(r.changed_on);
                    let met_on = (r.reported_on <= on).then_some(r.reported_on);
                    let what = format!(" of a change of {} on {}", r.change.as_str(), r.changed_on);
                    out.push(Raw { clause: i, occurrence: k, kind: rule.kind, due, met_on, what });
                }
            }
            ObligationKind::RecordDeparture => {
                let within = rule.within_days.unwrap_or(0) as i64;
                let mut k = 0;
                // The stay under way when the person was selected, and every later one.
                let current = facts
                    .entries
                    .iter()
                    .filter(|(e, _, _)| *e < start && !facts.exits.iter().any(|x| x >= e && *x < start))
                    .max_by_key(|(e, _, _)| *e);
                let later = facts.entries.iter().filter(|(e, _, _)| *e >= start);
                for (entered, _, until) in current.into_iter().chain(later) {
                    let Some(until) = until else { continue };
                    k += 1;
                    let due = until.checked_add(within.days()).unwrap_or(*until);
                    let met_on = facts.exits.iter().copied().filter(|x| x >= entered && *x <= on).min();
                    let what = format!(" after the stay admitted until {until}");
                    out.push(Raw { clause: i, occurrence: k, kind: rule.kind, due, met_on, what });
                }
            }
        }
    }
    out
}

/// Every obligation of a person under `terms`, with its state on `on`.
pub fn obligations(terms: &[Term], facts: &Facts, on: Date) -> Vec<Obligation> {
    let mut out = Vec::new();
    for term in terms {
        let Some(start) = first_selected(term, facts, on) else { continue };
        let p = &term.spec.program;
        for raw in derive_raw(term, facts, start, on) {
            let key = format!("{}/v{}/obligations[{}]/{}", p.id, p.version, raw.clause, raw.occurrence);
            let clause = format!("obligations[{}]", raw.clause);
            let notice = facts
                .notices
                .iter()
                .filter(|n| n.obligation == key && n.is_served() && n.served_on <= on)
                .min_by_key(|n| n.served_on)
                .cloned();
            let min_notice = i64::from(term.spec.notice_days.max(DEFAULT_NOTICE_DAYS as u32));
            let noticed_due = match &notice {
                Some(n) => raw.due.max(n.served_on.checked_add(min_notice.days()).unwrap_or(n.served_on)),
                None => raw.due,
            };
            let bookings: Vec<&crate::appointment::Appointment> = facts
                .appointments
                .iter()
                .filter(|a| a.obligation == key && !facts.released.iter().any(|(k, s)| *k == key && *s == a.slot))
                .collect();
            let effective_due = crate::appointment::system_deadline(noticed_due, &bookings);
            let excused = facts.excuses.iter().any(|e| e.obligation == key && e.approved_on.is_some_and(|a| a <= on));
            let ended = term.ended_by(on);
            // What happens after the program ended meets nothing under it.
            let met_on = raw.met_on.filter(|m| term.until.is_none_or(|(u, _)| *m < u));
            let state = match (met_on, excused, ended) {
                (Some(_), _, _) => State::Met,
                (None, _, Some(_)) => State::Void,
                (None, true, None) => State::Excused,
                (None, false, None) if notice.is_some() && on > effective_due => State::Overdue,
                _ => State::Pending,
            };
            let explanation = explain(&ExplainArgs {
                kind: raw.kind,
                what: &raw.what,
                due: raw.due,
                effective_due,
                program: &p.id,
                version: p.version,
                clause: &clause,
                notice: notice.as_ref(),
                met_on,
                state,
                ended,
                on,
                notice_days: min_notice,
                noticed_due,
                booking: facts.booking(&key),
            });
            out.push(Obligation {
                key,
                kind: raw.kind,
                program: p.id.clone(),
                version: p.version,
                clause,
                due: raw.due,
                effective_due,
                state,
                met_on,
                notice,
                program_ended: ended.map(|(_, how)| how),
                explanation,
            });
        }
    }
    out
}

struct ExplainArgs<'a> {
    kind: ObligationKind,
    what: &'a str,
    due: Date,
    effective_due: Date,
    program: &'a str,
    version: u32,
    clause: &'a str,
    notice: Option<&'a Notice>,
    met_on: Option<Date>,
    state: State,
    ended: Option<(Date, Ending)>,
    on: Date,
    notice_days: i64,
    /// The due date after the notice rule, before bookings and closures.
    noticed_due: Date,
    booking: Option<&'a crate::appointment::Appointment>,
}

/// One paragraph, from the facts only.
fn explain(a: &ExplainArgs<'_>) -> String {
    let (title, noun) = kind_words(a.kind);
    let mut s = format!(
        "{title}{} was due on {} under program {} v{}, clause {}.",
        a.what, a.due, a.program, a.version, a.clause
    );
    match a.notice {
        Some(n) => {
            s.push_str(&format!(" Notice served {} on {}", n.channel.phrase(), n.served_on));
            match (n.acknowledged_on, &n.proof) {
                (Some(ack), _) => s.push_str(&format!(" (acknowledged {ack}).")),
                (None, Some(p)) => s.push_str(&format!(" (proof: {p}).")),
                (None, None) => s.push('.'),
            }
            if a.noticed_due > a.due {
                s.push_str(&format!(
                    " Because the notice left fewer than {} days, the due date moved to {}.",
                    a.notice_days, a.noticed_due
                ));
            }
        }
        None => s.push_str(" No notice has been served, so it cannot become overdue."),
    }
    if let Some(b) = a.booking {
        s.push_str(&format!(" Appointment: {} ({}).", b.slot, b.by.as_str()));
        if a.effective_due > a.noticed_due {
            s.push_str(&format!(
                " The due date moved to {} because an office closed or the slot the system gave was later.",
                a.effective_due
            ));
        }
    }
    match a.state {
        State::Met => {
            let m = a.met_on.unwrap_or(a.on);
            let late = if m > a.effective_due { " (after the due date)" } else { "" };
            s.push_str(&format!(" Met on {m}{late}."));
        }
        State::Overdue => {
            let since = a.effective_due.checked_add(1.day()).unwrap_or(a.effective_due);
            s.push_str(&format!(" No {noun} recorded. Overdue since {since}."));
        }
        State::Excused => s.push_str(" Excused for good cause, with a supervisor's approval."),
        State::Void => {
            let (d, how) = a.ended.unwrap_or((a.on, Ending::Repealed));
            let why = match how {
                Ending::Repealed => "the program was repealed",
                Ending::Sunset => "the program reached its sunset",
                Ending::Superseded => "a new version of the program replaced this one",
            };
            s.push_str(&format!(" Void since {d}: {why}, and nothing from it may be held against anyone."));
        }
        State::Pending => {
            if a.notice.is_some() || a.on <= a.effective_due {
                s.push_str(&format!(" Not yet done; due by {}.", a.effective_due));
            } else {
                s.push_str(" Not yet done.");
            }
        }
    }
    s
}

/// Why a program does or does not select a person on `on`: `Ok` with the start
/// day, or the clauses that do not hold, in words.
pub fn explain_selection(term: &Term, facts: &Facts, on: Date) -> Result<Date, Vec<String>> {
    if let Some(d) = first_selected(term, facts, on) {
        return Ok(d);
    }
    let s = &term.spec.selection;
    let p = facts.person_on(on);
    let mut why = Vec::new();
    if let Some(c) = &s.admission_class {
        if !p.admission_class.as_deref().is_some_and(|a| c.iter().any(|x| x.eq_ignore_ascii_case(a))) {
            why.push(format!(
                "selection.admission_class: the program selects {}; the person's latest admission is {}",
                c.join(", "),
                p.admission_class.as_deref().unwrap_or("not recorded")
            ));
        }
    }
    if let Some(list) = &s.purpose_of_admission {
        if !p.purpose_of_admission.as_deref().is_some_and(|a| list.iter().any(|x| x.eq_ignore_ascii_case(a))) {
            why.push(format!("selection.purpose_of_admission: the program selects {}", list.join(", ")));
        }
    }
    if let Some(n) = s.min_stay_days {
        if p.stay_days.is_none_or(|d| d < n) {
            why.push(format!("selection.min_stay_days: the program selects stays of {n} days or more"));
        }
    }
    if let Some((a, b)) = s.admitted_between {
        if !p.admitted_on.is_some_and(|d| a <= d && d <= b) {
            why.push(format!("selection.admitted_between: the program selects people admitted from {a} to {b}"));
        }
    }
    let age = p.birth_date.and_then(|b| crate::program::impact::age_on(b, on));
    if let Some(m) = s.min_age {
        if age.is_none_or(|x| x < m) {
            why.push(format!("selection.min_age: the program selects people aged {m} or more"));
        }
    }
    if let Some(m) = s.max_age {
        if age.is_none_or(|x| x > m) {
            why.push(format!("selection.max_age: the program selects people aged {m} or less"));
        }
    }
    if let Some(d) = s.individually_designated {
        if d != p.designated {
            why.push(if d {
                "selection.individually_designated: the program selects only people individually designated, with a supervisor's approval".into()
            } else {
                "selection.individually_designated: the program excludes people individually designated".into()
            });
        }
    }
    if why.is_empty() {
        why.push(format!(
            "the program has been in force only since {}, and nothing on record falls within it",
            term.from
        ));
    }
    Err(why)
}

/// Why a determination is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeterminationRefusal {
    #[error("no obligation {0} is on this person's record: check the key in GET /subjects/{{id}}/obligations")]
    NoSuchObligation(String),
    #[error("no notice of {0} was served: a determination can only follow a served notice, and none can be made without one")]
    NoNotice(String),
    #[error("the determination must list the evidence considered (notices, attempts, appointments)")]
    NoEvidence,
    #[error("the determination needs written reasons")]
    NoReasons,
    #[error("{0} is void: its program ended, and nothing from it may be held against anyone")]
    Void(String),
}

/// May an adjudicator record a determination on `key` on `on`?
pub fn check_determination(
    obligations: &[Obligation],
    key: &str,
    reasons: &str,
    evidence: &[String],
) -> Result<(), DeterminationRefusal> {
    let o =
        obligations.iter().find(|o| o.key == key).ok_or_else(|| DeterminationRefusal::NoSuchObligation(key.into()))?;
    if o.state == State::Void {
        return Err(DeterminationRefusal::Void(key.into()));
    }
    if o.notice.is_none() {
        return Err(DeterminationRefusal::NoNotice(key.into()));
    }
    if reasons.trim().is_empty() {
        return Err(DeterminationRefusal::NoReasons);
    }
    if evidence.iter().all(|e| e.trim().is_empty()) {
        return Err(DeterminationRefusal::NoEvidence);
    }
    Ok(())
}

/// A fact an adjudicator may use, with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ClearanceFact {
    OverdueObligation { key: String, explanation: String },
    Determination { key: String, finding: Finding, reasons: String, explanation: String },
}

/// What benefit adjudication may see: overdue obligations of programs in force with
/// served notices, and determinations on obligations that are not void or excused.
/// Nothing from a repealed or ended program; nothing excused.
pub fn clearance(obligations: &[Obligation], facts: &Facts) -> Vec<ClearanceFact> {
    let mut out = Vec::new();
    for o in obligations {
        // Nothing from a repealed program or one past its sunset, whatever its state.
        if matches!(o.program_ended, Some(Ending::Repealed | Ending::Sunset)) {
            continue;
        }
        if o.state == State::Overdue && o.notice.is_some() {
            out.push(ClearanceFact::OverdueObligation { key: o.key.clone(), explanation: o.explanation.clone() });
        }
        if matches!(o.state, State::Void | State::Excused) {
            continue;
        }
        for d in facts.determinations.iter().filter(|d| d.obligation == o.key) {
            out.push(ClearanceFact::Determination {
                key: o.key.clone(),
                finding: d.finding,
                reasons: d.reasons.clone(),
                explanation: format!(
                    "An adjudicator found on {} that the failure was {}, considering: {}. {}",
                    d.made_on,
                    match d.finding {
                        Finding::Willful => "willful",
                        Finding::NotWillful => "not willful",
                        Finding::NotApplicable => "not a matter of will (not applicable)",
                    },
                    d.evidence.join("; "),
                    o.explanation
                ),
            });
        }
    }
    out
}

impl fmt::Display for Obligation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}] {}", self.key, self.state.as_str(), self.explanation)
    }
}

/// Categories of good cause for an excuse.
pub const EXCUSE_CATEGORIES: &[&str] =
    &["medical", "travel-disruption", "notice-not-received", "administrative-error", "family-emergency", "other"];

/// The body of a notice record.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeInput {
    /// The obligation key, from GET /subjects/{id}/obligations.
    pub obligation: String,
    /// mail, in-person, email or portal.
    pub channel: String,
    pub served_on: String,
    /// E.g. a registered-mail receipt number. A notice counts as served only with a
    /// proof or an acknowledgement.
    #[serde(default)]
    pub proof: Option<String>,
    #[serde(default)]
    pub acknowledged_on: Option<String>,
}

impl NoticeInput {
    pub fn validate(&self, today: Date) -> Result<Notice, crate::Invalid> {
        use crate::error::{parse_date, text, Errors};
        let mut e = Errors::default();
        let obligation = e.check(text("obligation", &self.obligation, 200, true));
        let channel = Channel::ALL.into_iter().find(|c| c.as_str() == self.channel.trim());
        if channel.is_none() {
            e.push("channel", "must be one of mail, in-person, email, portal");
        }
        let served_on = e.check(parse_date("served_on", &self.served_on));
        if served_on.is_some_and(|d| d > today) {
            e.push("served_on", format!("is in the future: a notice is recorded once served (today is {today})"));
        }
        let proof = match self.proof.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => e.check(text("proof", p, 200, true)),
            None => None,
        };
        let acknowledged_on = match self.acknowledged_on.as_deref().filter(|a| !a.trim().is_empty()) {
            Some(a) => e.check(parse_date("acknowledged_on", a)),
            None => None,
        };
        if let (Some(s), Some(a)) = (served_on, acknowledged_on) {
            if a < s || a > today {
                e.push("acknowledged_on", "must fall between the day it was served and today");
            }
        }
        if proof.is_none() && acknowledged_on.is_none() {
            e.push(
                "proof",
                "or acknowledged_on is required: a notice without proof of service or the person's acknowledgement is not served",
            );
        }
        e.finish(|| Notice {
            obligation: obligation.unwrap_or_default(),
            channel: channel.unwrap_or(Channel::Mail),
            served_on: served_on.unwrap_or(today),
            proof,
            acknowledged_on,
        })
    }
}

/// The body of an excuse.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExcuseInput {
    pub obligation: String,
    /// medical, travel-disruption, notice-not-received, administrative-error, family-emergency or other.
    pub category: String,
    pub text: String,
}

impl ExcuseInput {
    pub fn validate(&self) -> Result<Excuse, crate::Invalid> {
        use crate::error::{text, Errors};
        let mut e = Errors::default();
        let obligation = e.check(text("obligation", &self.obligation, 200, true));
        let category = self.category.trim();
        if !EXCUSE_CATEGORIES.contains(&category) {
            e.push("category", format!("must be one of {}", EXCUSE_CATEGORIES.join(", ")));
        }
        let body = e.check(text("text", &self.text, 2000, true));
        e.finish(|| Excuse {
            obligation: obligation.unwrap_or_default(),
            category: category.to_string(),
            text: body.unwrap_or_default(),
            approved_on: None,
        })
    }
}

/// The body of a determination.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeterminationInput {
    pub obligation: String,
    pub finding: Finding,
    pub reasons: String,
    /// The notices, attempts and appointments considered.
    pub evidence: Vec<String>,
}

/// A postal address, as the person gives it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    pub street: String,
    pub city: String,
    /// The office serving the person is found by it (docs/offices.md).
    pub postal_code: String,
    /// ISO 3166-1 alpha-3 or the country's name, when not this country.
    #[serde(default)]
    pub country: String,
}

/// What changed, as reported: the new address, employer or school. Sealed with the
/// report under the person's key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeDetails {
    Address(Address),
    Employer(String),
    School(String),
}

/// The body of a change report.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeInput {
    /// address, employer or school.
    pub change: String,
    /// YYYY-MM-DD: when it changed (a "report within N days" duty counts from it).
    pub changed_on: String,
    /// The new address, for a change of address.
    #[serde(default)]
    pub address: Option<Address>,
    /// The new employer's name, for a change of employer.
    #[serde(default)]
    pub employer: Option<String>,
    /// The new school's name, for a change of school.
    #[serde(default)]
    pub school: Option<String>,
}

impl ChangeInput {
    pub fn validate(&self, today: Date) -> Result<ChangeReport, crate::Invalid> {
        use crate::error::{parse_date, Errors};
        let mut e = Errors::default();
        let change = Change::ALL.into_iter().find(|c| c.as_str() == self.change.trim());
        if change.is_none() {
            e.push("change", "must be one of address, employer, school");
        }
        let changed_on = e.check(parse_date("changed_on", &self.changed_on));
        if changed_on.is_some_and(|d| d > today) {
            e.push("changed_on", "is in the future: report a change once it has happened");
        }
        e.finish(|| ChangeReport {
            change: change.unwrap_or(Change::Address),
            changed_on: changed_on.unwrap_or(today),
            reported_on: today,
        })
    }

    /// The report and what changed: the new address (street, city and postal code
    /// required), employer or school, given in the field of its kind and no other.
    pub fn validate_details(&self, today: Date) -> Result<(ChangeReport, ChangeDetails), crate::Invalid> {
        use crate::error::{text, Errors};
        let report = self.validate(today);
        let mut e = Errors::default();
        let kind = self.change.trim();
        for (field, given) in [
            ("address", self.address.is_some()),
            ("employer", self.employer.is_some()),
            ("school", self.school.is_some()),
        ] {
            if given && field != kind {
                e.push(field, format!("is given with a change of {kind}: send only the new {kind}, in `{kind}`"));
            }
        }
        let details = match kind {
            "address" => match &self.address {
                None => {
                    e.push("address", "is required for a change of address: the new street, city and postal_code");
                    None
                }
                Some(a) => {
                    let street = e.check(text("address.street", &a.street, 200, true));
                    let city = e.check(text("address.city", &a.city, 100, true));
                    let pc = a.postal_code.trim().to_uppercase();
                    if pc.is_empty()
                        || pc.len() > 12
                        || !pc.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
                    {
                        e.push("address.postal_code", "must be 1 to 12 letters, digits, spaces or hyphens");
                    }
                    let country = e.check(text("address.country", &a.country, 60, false));
                    match (street, city, country) {
                        (Some(street), Some(city), Some(country)) => {
                            Some(ChangeDetails::Address(Address { street, city, postal_code: pc, country }))
                        }
                        _ => None,
                    }
                }
            },
            "employer" => match &self.employer {
                None => {
                    e.push("employer", "is required for a change of employer: the new employer's name");
                    None
                }
                Some(n) => e.check(text("employer", n, 200, true)).map(ChangeDetails::Employer),
            },
            "school" => match &self.school {
                None => {
                    e.push("school", "is required for a change of school: the new school's name");
                    None
                }
                Some(n) => e.check(text("school", n, 200, true)).map(ChangeDetails::School),
            },
            _ => None,
        };
        let mut errors = match report {
            Ok(_) => Vec::new(),
            Err(i) => i.0,
        };
        let rest = e.finish(|| ()).err().map(|i| i.0).unwrap_or_default();
        errors.extend(rest);
        if !errors.is_empty() {
            return Err(crate::Invalid(errors));
        }
        match (self.validate(today), details) {
            (Ok(r), Some(d)) => Ok((r, d)),
            _ => Err(crate::Invalid::one("change", "must be one of address, employer, school")),
        }
    }
}

/// Days before an obligation falls due when the daily run issues its notice, so the
/// person has at least the minimum notice period once it is served.
pub const NOTICE_LEAD_DAYS: i64 = 30;

/// Should the daily run issue a notice of `o` on `on`? Only for obligations still
/// open, due within the lead time, with no notice issued or served yet.
pub fn needs_notice(o: &Obligation, facts: &Facts, on: Date) -> bool {
    matches!(o.state, State::Pending)
        && o.notice.is_none()
        && !facts.issued.contains(&o.key)
        && o.effective_due <= on.checked_add(NOTICE_LEAD_DAYS.days()).unwrap_or(on)
}

/// A notice in plain language: what to do, by when, where, what to bring, and the
/// person's rights. Rendered as text here and as a printable page by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeDocument {
    /// The language it is written in (the person's).
    pub lang: crate::i18n::Language,
    pub title: String,
    pub obligation: String,
    pub what: String,
    pub by_when: String,
    pub where_: Vec<String>,
    /// The slot booked for the person, with how to move it.
    pub appointment: Option<String>,
    /// For an office obligation without a booking: how to book one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_appointment: Option<String>,
    pub bring: Vec<String>,
    pub rights: Vec<String>,
    pub reference: String,
}

/// Compose the notice of `o` under `spec`. `offices` are the places where it can be
/// done (names with codes). No name or address is put in: the notice is addressed
/// by whoever serves it.
pub fn notice_document(
    o: &Obligation,
    spec: &ProgramSpec,
    offices: &[String],
    appointment: Option<&crate::appointment::Appointment>,
    lang: crate::i18n::Language,
) -> NoticeDocument {
    use crate::i18n::text;
    let t = |id: &str| text(lang, id, &[]);
    let kind = match o.kind {
        ObligationKind::Register => "register",
        ObligationKind::Reregister => "reregister",
        ObligationKind::ReportChange => "report-change",
        ObligationKind::RecordDeparture => "record-departure",
        ObligationKind::Interview => "interview",
    };
    let mut bring = vec![t("notice-bring-document"), t("notice-bring-notice")];
    if spec.capture.fingerprints > 0 {
        bring.push(t("notice-bring-photo-prints"));
    } else if spec.capture.face {
        bring.push(t("notice-bring-photo"));
    }
    let due = o.effective_due.to_string();
    NoticeDocument {
        lang,
        title: t(&format!("notice-{kind}-title")),
        obligation: o.key.clone(),
        what: t(&format!("notice-{kind}-what")),
        by_when: text(lang, "notice-by", &[("date", &due)]),
        where_: offices.to_vec(),
        appointment: appointment.map(|a| {
            text(
                lang,
                "notice-appointment",
                &[
                    ("day", &a.slot.day.to_string()),
                    ("time", &a.slot.time()),
                    ("office", &a.slot.office),
                    ("minutes", &a.slot.minutes.to_string()),
                ],
            )
        }),
        no_appointment: (appointment.is_none() && crate::appointment::service_of(o.kind).is_some())
            .then(|| t("notice-no-appointment")),
        bring,
        rights: vec![
            text(
                lang,
                "notice-right-basis",
                &[
                    ("title", &spec.program.title),
                    ("id", &spec.program.id),
                    ("basis", &spec.program.legal_basis),
                    ("sunset", &spec.program.sunset.to_string()),
                ],
            ),
            t("notice-right-good-cause"),
            t("notice-right-not-a-finding"),
            t("notice-right-counsel"),
            t("notice-right-records"),
        ],
        reference: text(lang, "notice-reference", &[("key", &o.key)]),
    }
}

impl NoticeDocument {
    /// The notice as plain text, for print or email.
    pub fn text(&self) -> String {
        let h = |id: &str| crate::i18n::text(self.lang, id, &[]);
        let mut s = format!(
            "{}\n{}\n\n{}\n  {}\n\n{}\n  {}\n\n{}\n",
            self.title,
            "=".repeat(self.title.chars().count()),
            h("notice-heading-what"),
            self.what,
            h("notice-heading-when"),
            self.by_when,
            h("notice-heading-where"),
        );
        for w in &self.where_ {
            s.push_str(&format!("  - {w}\n"));
        }
        if let Some(a) = self.appointment.as_ref().or(self.no_appointment.as_ref()) {
            s.push_str(&format!("\n{}\n  {a}\n", h("notice-heading-appointment")));
        }
        s.push_str(&format!("\n{}\n", h("notice-heading-bring")));
        for b in &self.bring {
            s.push_str(&format!("  - {b}\n"));
        }
        s.push_str(&format!("\n{}\n", h("notice-heading-rights")));
        for r in &self.rights {
            s.push_str(&format!("  - {r}\n"));
        }
        s.push_str(&format!("\n{}\n", self.reference));
        s
    }
}

/// What a person's record adds to the public activity-by-program table: for every
/// program version that selects them, their registrations, crossings and
/// designations while it did, and an overstay that began while it did, each as
/// (activity, program, place, day). `crossings` are (day, port) and `overstay` is
/// (first day, port of entry).
pub fn program_activity(
    terms: &[Term],
    facts: &Facts,
    crossings: &[(Date, String)],
    overstay: Option<(Date, Option<String>)>,
    on: Date,
    mut f: impl FnMut(&'static str, &str, &str, Date),
) {
    for term in terms {
        let Some(start) = first_selected(term, facts, on) else { continue };
        let id = term.spec.program.id.as_str();
        let within = |d: Date| d >= start && d <= on && term.covers(d);
        for (d, place) in facts.registered_at.iter().filter(|(d, _)| within(*d)) {
            f("registrations", id, place, *d);
        }
        for (d, port) in crossings.iter().filter(|(d, _)| within(*d)) {
            f("crossings", id, port, *d);
        }
        for (d, place) in facts.designated_at.iter().filter(|(d, _)| within(*d)) {
            f("designations", id, place, *d);
        }
        if let Some((d, port)) = &overstay {
            if within(*d) {
                f("overstays", id, port.as_deref().unwrap_or("unknown"), *d);
            }
        }
    }
}
