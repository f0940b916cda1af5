//! Compliance on the registry: each person's obligations under the programs in
//! force, worked out by the core from the facts on record (never stored as a
//! verdict), and the commands that add facts: notices, excuses and their approval,
//! determinations, change reports. Reads of a person's obligations or clearance are
//! logged like every read of personal data.

use fairgate_core::access::{Actor, Purpose};
use fairgate_core::event::*;
use fairgate_core::ids::SubjectId;
use fairgate_core::obligation::{
    check_determination, clearance, explain_selection, obligations, ChangeInput, ClearanceFact, Determination,
    DeterminationInput, ExcuseInput, Facts, NoticeInput, Obligation, State, Term,
};
use fairgate_core::policy::{self, Action, Read, Separation};
use fairgate_ledger::keys::SecretKey;
use jiff::civil::Date;
use jiff::Timestamp;

use super::{Batch, Receipt, Registry, RegistryError, Result};

/// Whether one program in force selects the person, and why or why not.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProgramAnswer {
    pub program: String,
    pub version: u32,
    pub title: String,
    pub selected: bool,
    /// The day the person first met the selection under this version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<Date>,
    /// The selection clauses that do not hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub why_not: Vec<String>,
}

/// What a person has to do on a day, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ObligationsAnswer {
    pub on: Date,
    /// Does the person have anything pending or overdue?
    pub must_act: bool,
    /// Every program in force (or ended) and whether it selects the person.
    pub programs: Vec<ProgramAnswer>,
    pub obligations: Vec<Obligation>,
}

/// What a benefit adjudicator may use.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClearanceAnswer {
    pub on: Date,
    pub facts: Vec<ClearanceFact>,
    /// An overstay under the stay rules, explained, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overstay: Option<String>,
}

/// The codes of the events folded into the sealed compliance facts: what
/// `Facts::folds` says, less the crossings (folded into the stay facts).
pub(crate) fn folded_codes() -> Vec<u16> {
    EventKind::all().filter(|k| Facts::folds(*k) && *k != EventKind::CrossingRecorded).map(EventKind::code).collect()
}

const DOMAIN: &str = "compliance-facts";

fn seal_facts(subject_no: u64, data: &SecretKey, through: u64, facts: &Facts) -> Result<crate::store::Projection> {
    let mut plain = serde_json::to_vec(facts).map_err(super::corrupt)?;
    let sealed =
        fairgate_ledger::keys::RecordSealer::new(data, DOMAIN).seal(through, &subject_no.to_be_bytes(), &plain);
    zeroize::Zeroize::zeroize(&mut plain);
    Ok(crate::store::Projection::ComplianceFacts { subject_no, through_leaf: through, sealed })
}

fn open_facts(subject_no: u64, data: &SecretKey, through: u64, sealed: &[u8]) -> Result<Facts> {
    let mut plain = fairgate_ledger::keys::RecordSealer::new(data, DOMAIN)
        .open(through, &subject_no.to_be_bytes(), sealed)
        .map_err(|e| super::corrupt(format!("compliance facts of subject {subject_no}: {e}")))?;
    let facts = serde_json::from_slice(&plain)
        .map_err(|e| super::corrupt(format!("compliance facts of subject {subject_no}: {e}")));
    zeroize::Zeroize::zeroize(&mut plain);
    facts
}

fn day_at(reg: &Registry, place: &str, at: Timestamp) -> Date {
    let tz = reg.places().get(place).map(|p| p.tz.clone()).unwrap_or(jiff::tz::TimeZone::UTC);
    at.to_zoned(tz).date()
}

fn utc_day(t: Timestamp) -> Date {
    t.to_zoned(jiff::tz::TimeZone::UTC).date()
}

impl Registry {
    /// Fold new events into a subject's sealed compliance facts row.
    pub(crate) fn fold_compliance(
        &self,
        no: u64,
        data: &SecretKey,
        new: Vec<(u64, Event)>,
    ) -> Result<crate::store::Projection> {
        let (row_through, mut facts) = match self.store.compliance_facts(no)? {
            Some((t, sealed)) => (Some(t), open_facts(no, data, t, &sealed)?),
            None => (None, Facts::default()),
        };
        let mut through = row_through.unwrap_or(0);
        let day = |place: &str, at: Timestamp| day_at(self, place, at);
        // Leaves already in the row (an interrupted compaction) are not folded twice.
        for (leaf, event) in new.into_iter().filter(|(leaf, _)| row_through.is_none_or(|t| *leaf > t)) {
            through = through.max(leaf);
            facts.apply(&event, &day);
        }
        seal_facts(no, data, through, &facts)
    }

    /// A subject's compliance facts folded afresh from `events` (every folded kind
    /// still readable, in leaf order), as a compaction from the start would.
    pub(crate) fn refold_compliance(
        &self,
        no: u64,
        data: &SecretKey,
        events: &[(u64, Event)],
    ) -> Result<crate::store::Projection> {
        let kinds = folded_codes();
        let mut facts = Facts::default();
        let mut through = 0;
        let day = |place: &str, at: Timestamp| day_at(self, place, at);
        for (leaf, event) in events.iter().filter(|(_, e)| kinds.contains(&e.kind().code())) {
            through = through.max(*leaf);
            facts.apply(event, &day);
        }
        seal_facts(no, data, through, &facts)
    }

    /// Every activated program version with the days it was in force.
    pub fn program_terms(&self) -> Result<Vec<Term>> {
        Ok(fairgate_core::obligation::terms(&self.program_book()?))
    }

    /// The facts obligations depend on, from the subject's sealed events.
    pub(super) fn compliance_facts(&self, subject_no: u64, data: &SecretKey) -> Result<Facts> {
        let kinds: Vec<EventKind> = EventKind::all().filter(|k| Facts::folds(*k)).collect();
        let mut f = Facts::default();
        let day = |place: &str, at: Timestamp| day_at(self, place, at);
        for (_, event) in self.subject_events(subject_no, data, &kinds)? {
            f.apply(&event, &day);
        }
        Ok(f)
    }

    pub(crate) fn subject_keys_of(&self, id: SubjectId) -> Result<(u64, SecretKey)> {
        let row = self.store.subject_keys_by_id(id.as_bytes())?.ok_or(RegistryError::UnknownSubject(id))?;
        let (data, _) = self.unwrap_keys(&row)?.ok_or(RegistryError::Erased(id))?;
        Ok((row.subject_no, data))
    }

    /// Does a program in force require this person to make `reg`? `Ok` names the
    /// program; `Err` says why not, naming each program and the selection clause
    /// that does not hold.
    /// Whether a program in force requires this registration: `Ok` with the program's
    /// capture requirement and the person's age on the day (when their birth date is
    /// known), or `Err` with why none does.
    pub(crate) fn registration_required(
        &self,
        id: SubjectId,
        reg: &fairgate_core::registration::NewRegistration,
    ) -> Result<std::result::Result<(fairgate_core::capture::Requirement, Option<u32>), String>> {
        let mut facts = match self.subject_keys_of(id) {
            Ok((no, data)) => self.compliance_facts(no, &data)?,
            // Created earlier in this same command: nothing else is on record yet.
            Err(RegistryError::UnknownSubject(_)) => Facts::default(),
            Err(e) => return Err(e),
        };
        let day = day_at(self, &reg.place, reg.at);
        facts.registrations.push(day);
        let terms: Vec<Term> = self
            .program_terms()?
            .into_iter()
            .filter(|t| t.from <= day && t.until.is_none_or(|(u, _)| day < u))
            .collect();
        if terms.is_empty() {
            return Ok(Err("no program is in force".into()));
        }
        let mut why = Vec::new();
        for t in &terms {
            match explain_selection(t, &facts, day) {
                Ok(_) => {
                    let c = &t.spec.capture;
                    let req = fairgate_core::capture::Requirement::new(
                        &t.spec.program.id,
                        c.face,
                        c.fingerprints,
                        c.fingerprints_min_age,
                    );
                    let age = facts.birth_date.and_then(|b| {
                        b.until((jiff::Unit::Year, day)).ok().and_then(|span| u32::try_from(span.get_years()).ok())
                    });
                    return Ok(Ok((req, age)));
                }
                Err(w) => why.push(format!("{}: {}", t.spec.program.id, w.join("; "))),
            }
        }
        Ok(Err(why.join(" / ")))
    }

    /// A person's obligations on `on`, without logging (the callers log).
    pub(crate) fn obligations_of(&self, id: SubjectId, on: Date) -> Result<(ObligationsAnswer, Facts)> {
        let (no, data) = self.subject_keys_of(id)?;
        let facts = self.compliance_facts(no, &data)?;
        let terms = self.program_terms()?;
        let list = obligations(&terms, &facts, on);
        let programs = terms
            .iter()
            .filter(|t| t.from <= on)
            .map(|t| {
                let p = &t.spec.program;
                let (selected, since, why_not) = match explain_selection(t, &facts, on) {
                    Ok(d) => (true, Some(d), Vec::new()),
                    Err(why) => (false, None, why),
                };
                ProgramAnswer {
                    program: p.id.clone(),
                    version: p.version,
                    title: p.title.clone(),
                    selected,
                    since,
                    why_not,
                }
            })
            .collect();
        let must_act = list.iter().any(|o| matches!(o.state, State::Pending | State::Overdue));
        Ok((ObligationsAnswer { on, must_act, programs, obligations: list }, facts))
    }

    /// `GET /subjects/{id}/obligations`: what the person must do and why, logged.
    pub fn read_obligations(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        id: SubjectId,
        on: Date,
        request: &str,
    ) -> Result<(ObligationsAnswer, Receipt)> {
        self.admit(now, actor, Read::Obligations, purpose, Some(id), request)?;
        let (answer, _) = self.obligations_of(id, on)?;
        let ((), receipt) =
            self.write(now, |b| b.record_access(id, actor, Read::Obligations, purpose, &["obligations"], request))?;
        Ok((answer, receipt))
    }

    /// `GET /subjects/{id}/clearance`: only what benefit adjudication may use, logged.
    pub fn read_clearance(
        &self,
        now: Timestamp,
        actor: &Actor,
        id: SubjectId,
        on: Date,
        request: &str,
    ) -> Result<(ClearanceAnswer, Receipt)> {
        policy::authorize_read(actor, Read::Clearance, Purpose::BenefitAdjudication)?;
        let (answer, facts) = self.obligations_of(id, on)?;
        let admissible = clearance(&answer.obligations, &facts);
        let s = self.stay_of(id, on)?;
        let overstay = s.answer.overstay.map(|o| {
            format!(
                "Under the {} rule, {} days were spent beyond the permitted stay, from {} to {}.",
                s.rule, o.days, o.first_day, o.last_day
            )
        });
        let ((), receipt) = self.write(now, |b| {
            b.record_access(id, actor, Read::Clearance, Purpose::BenefitAdjudication, &["clearance"], request)
        })?;
        Ok((ClearanceAnswer { on, facts: admissible, overstay }, receipt))
    }
}

pub(super) fn unknown_obligation(key: &str) -> RegistryError {
    fairgate_core::Invalid::one(
        "obligation",
        format!("`{key}` is not one of this person's obligations: take the key from GET /subjects/{{id}}/obligations"),
    )
    .into()
}

impl Batch<'_> {
    /// Log that staff read a person's notice document for compliance review (the
    /// pending notices, the letters to print).
    pub(super) fn log_notice_read(&mut self, subject: SubjectId, actor: &Actor, request: &str) -> Result<()> {
        self.record_access(subject, actor, Read::PendingNotices, Purpose::ComplianceReview, &["notice"], request)?;
        Ok(())
    }

    pub(super) fn data_sealer(
        &mut self,
        id: SubjectId,
    ) -> Result<(u64, std::sync::Arc<fairgate_ledger::leaf::Sealer>)> {
        let s = self.state(id)?;
        Ok((s.no, s.data.clone()))
    }

    /// Record a served notice of one of the person's obligations.
    pub fn serve_notice(&mut self, actor: &Actor, id: SubjectId, input: &NoticeInput) -> Result<()> {
        policy::authorize(actor, Action::ServeNotice)?;
        let today = self.today();
        let notice = input.validate(today)?;
        let (answer, _) = self.reg.obligations_of(id, today)?;
        if !answer.obligations.iter().any(|o| o.key == notice.obligation) {
            return Err(unknown_obligation(&notice.obligation));
        }
        let (no, sealer) = self.data_sealer(id)?;
        let event = Event::NoticeServed(NoticeServed { subject: id, notice, recorded_by: actor.clone() });
        self.append(no, super::SLOT_DATA, &sealer, &event)?;
        Ok(())
    }

    /// Excuse an obligation for good cause; a supervisor must approve it.
    pub fn excuse(&mut self, actor: &Actor, id: SubjectId, input: &ExcuseInput) -> Result<()> {
        policy::authorize(actor, Action::Excuse)?;
        let excuse = input.validate()?;
        let (answer, _) = self.reg.obligations_of(id, self.today())?;
        let o = answer
            .obligations
            .iter()
            .find(|o| o.key == excuse.obligation)
            .ok_or_else(|| unknown_obligation(&excuse.obligation))?;
        if matches!(o.state, State::Met | State::Void | State::Excused) {
            return Err(fairgate_core::Invalid::one(
                "obligation",
                // Its state is the person's record: not quoted in a refusal.
                "cannot be excused: it is not pending or overdue (its state is in GET /subjects/{id}/obligations, read with a purpose)",
            )
            .into());
        }
        let (no, sealer) = self.data_sealer(id)?;
        let event = Event::ObligationExcused(ObligationExcused { subject: id, excuse, recorded_by: actor.clone() });
        self.append(no, super::SLOT_DATA, &sealer, &event)?;
        Ok(())
    }

    /// A supervisor approves the excuse of an obligation.
    pub fn approve_excuse(&mut self, actor: &Actor, id: SubjectId, key: &str) -> Result<()> {
        policy::authorize(actor, Action::ApproveExcuse)?;
        let (no, data) = self.reg.subject_keys_of(id)?;
        let recorded: Vec<(fairgate_core::obligation::Excuse, Actor)> = self
            .reg
            .subject_events(no, &data, &[EventKind::ObligationExcused])?
            .into_iter()
            .filter_map(|(_, e)| match e {
                Event::ObligationExcused(x) => Some((x.excuse, x.recorded_by)),
                _ => None,
            })
            .collect();
        let facts = self.reg.compliance_facts(no, &data)?;
        let Some((_, by)) = recorded.iter().find(|(x, _)| x.obligation == key) else {
            return Err(fairgate_core::Invalid::one("obligation", "has no excuse waiting for approval").into());
        };
        if facts.excuses.iter().any(|x| x.obligation == key && x.approved_on.is_some()) {
            return Err(fairgate_core::Invalid::one("obligation", "its excuse is already approved").into());
        }
        policy::separate(Separation::ExcuseApproval, by, actor)?;
        let (no, sealer) = self.data_sealer(id)?;
        let on = self.today();
        let event = Event::ExcuseApproved(ExcuseApproved {
            subject: id,
            obligation: key.to_string(),
            on,
            approved_by: actor.clone(),
        });
        self.append(no, super::SLOT_DATA, &sealer, &event)?;
        Ok(())
    }

    /// An adjudicator's determination, refused without a served notice.
    pub fn determine(&mut self, actor: &Actor, id: SubjectId, input: &DeterminationInput) -> Result<()> {
        policy::authorize(actor, Action::Determine)?;
        let today = self.today();
        let (answer, _) = self.reg.obligations_of(id, today)?;
        check_determination(&answer.obligations, &input.obligation, &input.reasons, &input.evidence)?;
        let reasons = super::reason_text(&input.reasons)?;
        let evidence: Vec<String> =
            input.evidence.iter().map(|e| e.trim().to_string()).filter(|e| !e.is_empty()).take(50).collect();
        let determination = Determination {
            obligation: input.obligation.clone(),
            finding: input.finding,
            reasons,
            evidence,
            made_on: today,
        };
        let (no, sealer) = self.data_sealer(id)?;
        let event = Event::DeterminationRecorded(DeterminationRecorded {
            subject: id,
            determination,
            recorded_by: actor.clone(),
        });
        self.append(no, super::SLOT_DATA, &sealer, &event)?;
        Ok(())
    }

    /// Record a change of address, employer or school the person reported today.
    pub fn report_change(&mut self, actor: &Actor, id: SubjectId, input: &ChangeInput) -> Result<()> {
        policy::authorize(actor, Action::ReportChange)?;
        policy::own_records(actor, &id)?;
        let (report, details) = input.validate_details(self.today())?;
        let (no, sealer) = self.data_sealer(id)?;
        let event = Event::ChangeReported(ChangeReported {
            subject: id,
            report,
            recorded_by: actor.clone(),
            details: Some(details),
        });
        self.append(no, super::SLOT_DATA, &sealer, &event)?;
        Ok(())
    }
}

/// What a compliance run found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunReport {
    pub on: Option<Date>,
    pub subjects: u64,
    pub pending: u64,
    pub met: u64,
    pub overdue: u64,
    pub excused: u64,
    pub void: u64,
    /// Notices issued by this run (none on a second run for the same day).
    pub notices_issued: u64,
    /// Slots booked with those notices, and after missed appointments.
    pub appointments_booked: u64,
    /// Appointments found missed (each brings a new notice and a new slot).
    pub appointments_missed: u64,
    /// Bookings still to come released because their obligation was met (or
    /// excused, or ended) before them.
    pub appointments_released: u64,
}

/// A notice issued and not yet served, ready to be printed or sent.
#[derive(Debug, Clone)]
pub struct PendingNotice {
    pub subject: SubjectId,
    pub document: fairgate_core::obligation::NoticeDocument,
}

impl Registry {
    /// The notice of obligation `o` as the person should get it: in their language,
    /// naming their booked slot's office, or the office serving their address, or
    /// every office. `None` when the program's version is not found.
    pub(crate) fn notice_for(
        &self,
        terms: &[Term],
        facts: &Facts,
        o: &Obligation,
        on: Date,
    ) -> Option<fairgate_core::obligation::NoticeDocument> {
        let term = terms.iter().find(|t| t.spec.program.id == o.program && t.spec.program.version == o.version)?;
        let lang = facts.contact.as_ref().map(|c| c.language).unwrap_or_default();
        let booking = facts.booking(&o.key);
        let book = self.places();
        let office = booking.map(|a| a.slot.office.clone()).or_else(|| {
            facts.postal_code.as_ref().and_then(|(_, pc)| book.office_for(pc, on)).map(|p| p.place.code.clone())
        });
        let offices =
            office.and_then(|c| self.office_line(&c, lang)).map(|l| vec![l]).unwrap_or_else(|| self.offices());
        Some(fairgate_core::obligation::notice_document(o, &term.spec, &offices, booking, lang))
    }

    /// One office, with its address and hours, as a notice names it.
    fn office_line(&self, code: &str, lang: fairgate_core::i18n::Language) -> Option<String> {
        use fairgate_core::i18n::text;
        let book = self.places();
        let o = book.get(code)?;
        let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map(|d| text(lang, &format!("weekday-{d}"), &[]));
        let hours: Vec<String> =
            o.place.hours.iter().zip(days).filter_map(|(h, d)| h.map(|h| format!("{d} {h}"))).collect();
        Some(text(
            lang,
            "notice-office-yours",
            &[
                ("name", &o.place.name),
                ("code", &o.place.code),
                ("address", &o.place.address),
                ("hours", &hours.join(", ")),
            ],
        ))
    }

    /// The offices where obligations can be met, by code.
    fn offices(&self) -> Vec<String> {
        let book = self.places();
        let mut v: Vec<&fairgate_core::place::ZonedPlace> =
            book.iter().filter(|p| p.place.kind == fairgate_core::place::PlaceKind::Office).collect();
        v.sort_by(|a, b| a.place.code.cmp(&b.place.code));
        v.into_iter().map(|p| format!("{} ({})", p.place.name, p.place.code)).collect()
    }

    /// The daily run for `on`: works out every person's obligations (states are
    /// derived, so "advancing" them is recomputing), issues the notices now due, and
    /// counts what ended programs voided. Running it twice for the same day issues
    /// nothing the second time.
    pub fn compliance_run(
        &self,
        now: Timestamp,
        actor: &Actor,
        on: Date,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RunReport> {
        policy::authorize(actor, Action::RunCompliance)?;
        // Fold everything recorded so far into the sealed rows, then read only those.
        self.compact_stay_facts()?;
        let terms = self.program_terms()?;
        let total = self.store.subject_count()?;
        let (mut report, to_issue, _) = self.evaluate_all(&terms, on, progress, total, false)?;
        report.on = Some(on);
        for chunk in to_issue.chunks(10_000) {
            let (issued, booked, missed, released) = self
                .write(now, |b| {
                    let mut last: Option<(u64, fairgate_ledger::leaf::Sealer)> = None;
                    let mut slots = super::appointments::SlotBook::default();
                    let (mut issued, mut booked, mut missed, mut released) = (0u64, 0u64, 0u64, 0u64);
                    for i in chunk {
                        if last.as_ref().is_none_or(|(no, _)| *no != i.no) {
                            last = Some((i.no, fairgate_ledger::leaf::Sealer::new(&i.data)));
                        }
                        let Some((_, sealer)) = &last else { continue };
                        if let Some(slot) = &i.release {
                            let event = Event::AppointmentReleased(AppointmentReleased {
                                subject: i.id,
                                obligation: i.key.clone(),
                                slot: slot.clone(),
                                on,
                            });
                            b.append_sealed(i.no, super::SLOT_DATA, sealer, &event, Some(&i.data))?;
                            slots.release(slot);
                            released += 1;
                            continue;
                        }
                        if let Some(slot) = &i.missed {
                            let week = fairgate_core::appointment::iso_week(slot.day);
                            let event = Event::AppointmentMissed(AppointmentMissed {
                                subject: i.id,
                                obligation: i.key.clone(),
                                slot: slot.clone(),
                                noted_on: on,
                                week,
                            });
                            b.append_sealed(i.no, super::SLOT_DATA, sealer, &event, Some(&i.data))?;
                            missed += 1;
                        }
                        b.issue_notice(i.id, i.no, sealer, &i.data, &i.key, i.due, on)?;
                        issued += 1;
                        let Some(service) = i.service else { continue };
                        // The missed appointment's office, unless it has closed for good;
                        // else the one serving the person's address.
                        let place = i
                            .missed
                            .as_ref()
                            .and_then(|s| self.places().get(&s.office).map(|p| p.place.clone()))
                            .filter(|p| !p.closed_for_good(on))
                            .or_else(|| super::appointments::office_of(self, i.postal_code.as_deref(), on));
                        let Some(place) = place else { continue };
                        let from = on.tomorrow().unwrap_or(on);
                        if let Some(slot) = slots.for_system(self, &place, service, from, i.due)? {
                            slots.take(&slot);
                            let by = if i.missed.is_some() {
                                fairgate_core::appointment::BookedBy::Missed
                            } else {
                                fairgate_core::appointment::BookedBy::Notice
                            };
                            let event = Event::AppointmentBooked(AppointmentBooked {
                                subject: i.id,
                                appointment: fairgate_core::appointment::Appointment {
                                    obligation: i.key.clone(),
                                    slot,
                                    by,
                                    extend_days: 0,
                                },
                                replaces: None,
                                at: now,
                            });
                            b.append_sealed(i.no, super::SLOT_DATA, sealer, &event, Some(&i.data))?;
                            booked += 1;
                        }
                    }
                    Ok((issued, booked, missed, released))
                })?
                .0;
            report.notices_issued += issued;
            report.appointments_booked += booked;
            report.appointments_missed += missed;
            report.appointments_released += released;
        }
        progress(total, total);
        Ok(report)
    }

    /// The public activity-by-program table on `on`, before suppression: the
    /// registrations, crossings, designations and overstays of the people each program
    /// selects. Only counts leave, so nothing is logged.
    pub fn program_activity(&self, on: Date) -> Result<Vec<([String; 3], String, u64)>> {
        self.compact_stay_facts()?;
        let terms = self.program_terms()?;
        let total = self.store.subject_count()?;
        Ok(self.evaluate_all(&terms, on, &mut |_, _| {}, total, true)?.2)
    }

    /// For `fairgate-bench compliance` (feature `bench` only): the floor under a
    /// run, reading and opening every row without evaluating anything. Returns how
    /// many subjects were read.
    #[cfg(feature = "bench")]
    pub fn compliance_scan_floor(&self, on: Date) -> Result<u64> {
        let total = self.store.subject_count()?;
        Ok(self.evaluate_all(&[], on, &mut |_, _| {}, total, false)?.0.subjects)
    }

    /// Notices issued and not yet served, of obligations due before `before`, as
    /// documents. Each person's is an access for compliance-review, logged first.
    pub fn read_pending_notices(
        &self,
        now: Timestamp,
        actor: &Actor,
        before: Date,
        request: &str,
    ) -> Result<Vec<PendingNotice>> {
        policy::authorize_read(actor, Read::PendingNotices, Purpose::ComplianceReview)?;
        let terms = self.program_terms()?;
        let today = utc_day(now);
        let mut out = Vec::new();
        for (no, id) in self.store.live_subjects()? {
            let Some(row) = self.store.subject_keys(no)? else { continue };
            let Some((data, _)) = self.unwrap_keys(&row)? else { continue };
            let facts = self.compliance_facts(no, &data)?;
            if facts.issued.is_empty() {
                continue;
            }
            let id = SubjectId::from_bytes(id);
            for o in obligations(&terms, &facts, today) {
                let waiting = facts.issued.contains(&o.key) && o.notice.is_none() && o.state == State::Pending;
                if !waiting || o.effective_due >= before {
                    continue;
                }
                if let Some(document) = self.notice_for(&terms, &facts, &o, today) {
                    out.push(PendingNotice { subject: id, document });
                }
            }
        }
        if !out.is_empty() {
            self.write(now, |b| {
                for n in &out {
                    b.log_notice_read(n.subject, actor, request)?;
                }
                Ok(())
            })?;
        }
        Ok(out)
    }

    /// The notice document of one of a person's obligations (for the printable page).
    pub fn read_notice(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        id: SubjectId,
        key: &str,
        request: &str,
    ) -> Result<(fairgate_core::obligation::NoticeDocument, Receipt)> {
        self.admit(now, actor, Read::Notice, purpose, Some(id), request)?;
        let (answer, facts) = self.obligations_of(id, utc_day(now))?;
        let o = answer.obligations.iter().find(|o| o.key == key).ok_or_else(|| unknown_obligation(key))?;
        let terms = self.program_terms()?;
        let doc = self.notice_for(&terms, &facts, o, utc_day(now)).ok_or_else(|| unknown_obligation(key))?;
        let ((), receipt) =
            self.write(now, |b| b.record_access(id, actor, Read::Notice, purpose, &["notice"], request))?;
        Ok((doc, receipt))
    }
}

/// (activity, program, place, month index) → count.
type Activity = std::collections::HashMap<(&'static str, String, String, i32), u64>;

/// Raw cells of a tally: (dimensions, month, count).
type Cells = Vec<([String; 3], String, u64)>;

/// One worker's share of a run.
#[derive(Default)]
struct Partial {
    report: RunReport,
    to_issue: Vec<Issue>,
    /// (activity, program, place, month index) → people-events, when asked for.
    activity: Option<Activity>,
}

/// A notice to issue: the subject, their number and data key (to seal it without
/// loading their state), the obligation and its due date.
struct Issue {
    id: SubjectId,
    no: u64,
    data: SecretKey,
    key: String,
    due: Date,
    /// The service to book a slot for, when the obligation is met at an office and
    /// has no booking still to come.
    service: Option<fairgate_core::place::ServiceKind>,
    /// The person's postal code (their office).
    postal_code: Option<String>,
    /// The appointment just found missed.
    missed: Option<fairgate_core::appointment::Slot>,
    /// A booking to release (and nothing else to do).
    release: Option<fairgate_core::appointment::Slot>,
}

impl Registry {
    /// Evaluate every live subject's obligations from the sealed rows: one thread
    /// scans, the others open and evaluate (as the overstay sweep does).
    fn evaluate_all(
        &self,
        terms: &[Term],
        on: Date,
        progress: &mut dyn FnMut(u64, u64),
        total: u64,
        with_activity: bool,
    ) -> Result<(RunReport, Vec<Issue>, Cells)> {
        use std::sync::Mutex;
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<crate::store::ComplianceRow>>(2 * workers);
        let rx = Mutex::new(rx);
        let parts = std::thread::scope(|scope| -> Result<Vec<Partial>> {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    let rx = &rx;
                    scope.spawn(move || -> Result<Partial> {
                        let mut part = Partial { activity: with_activity.then(Default::default), ..Partial::default() };
                        loop {
                            let chunk = match rx.lock() {
                                Ok(r) => r.recv(),
                                Err(_) => return Err(super::corrupt("the compliance run's queue lock was poisoned")),
                            };
                            let Ok(chunk) = chunk else { return Ok(part) };
                            for row in &chunk {
                                self.evaluate_one(row, terms, on, &mut part)?;
                            }
                        }
                    })
                })
                .collect();
            let mut seen = 0u64;
            let scanned = self.store.scan_compliance_facts(1024, &mut |chunk| {
                seen += chunk.len() as u64;
                progress(seen, total);
                tx.send(chunk).is_ok()
            });
            drop(tx);
            let mut parts = Vec::new();
            for h in handles {
                parts.push(h.join().map_err(|_| super::corrupt("a compliance thread panicked"))??);
            }
            scanned?;
            Ok(parts)
        })?;
        let mut report = RunReport::default();
        let mut to_issue = Vec::new();
        let mut activity = Activity::default();
        for p in parts {
            for (k, n) in p.activity.into_iter().flatten() {
                *activity.entry(k).or_default() += n;
            }
            report.subjects += p.report.subjects;
            report.pending += p.report.pending;
            report.met += p.report.met;
            report.overdue += p.report.overdue;
            report.excused += p.report.excused;
            report.void += p.report.void;
            to_issue.extend(p.to_issue);
        }
        // A stable order, so the notices of a run are appended the same way every time.
        to_issue.sort_by(|a, b| (a.no, &a.key).cmp(&(b.no, &b.key)));
        let cells = activity
            .into_iter()
            .map(|((what, program, place, month), n)| {
                ([what.to_string(), program, place], fairgate_core::report::month_label(month), n)
            })
            .collect::<Vec<_>>();
        Ok((report, to_issue, cells))
    }

    /// A compliance row opened: the data key, the person's facts (with entries and
    /// exits from their stay facts), and the dated crossings themselves.
    pub(crate) fn open_row(
        &self,
        row: &crate::store::ComplianceRow,
    ) -> Result<(SecretKey, Facts, Vec<fairgate_core::stay::DatedCrossing>)> {
        let data = self.unwrap_slot(row.subject_no, super::SLOT_DATA, &row.data_key)?;
        let mut facts = open_facts(row.subject_no, &data, row.through_leaf, &row.sealed)?;
        let dated = match &row.stay {
            Some((through, sealed)) => {
                super::stay::open_facts(&crate::facts::sealer(&data), row.subject_no, *through, sealed)?
            }
            None => Vec::new(),
        };
        for c in &dated {
            match c.direction {
                fairgate_core::crossing::Direction::Entry => {
                    facts.entries.push((c.local_day, c.admission_class.clone(), c.admitted_until))
                }
                fairgate_core::crossing::Direction::Exit => facts.exits.push(c.local_day),
            }
        }
        Ok((data, facts, dated))
    }

    fn evaluate_one(
        &self,
        row: &crate::store::ComplianceRow,
        terms: &[Term],
        on: Date,
        part: &mut Partial,
    ) -> Result<()> {
        let (data, facts, dated) = self.open_row(row)?;
        part.report.subjects += 1;
        if terms.is_empty() {
            return Ok(());
        }
        if let Some(activity) = part.activity.as_mut() {
            let crossings: Vec<(Date, String)> =
                dated.iter().map(|c| (c.local_day, c.port.clone().unwrap_or_else(|| "unknown".into()))).collect();
            let stays = fairgate_core::stay::stays_from_crossings(dated, on);
            let overstay = fairgate_core::stay::standing(&stays, on)?
                .answer
                .overstay
                .map(|o| (o.first_day, fairgate_core::stay::overstay_port(&stays, &o).map(str::to_string)));
            fairgate_core::obligation::program_activity(
                terms,
                &facts,
                &crossings,
                overstay,
                on,
                |what, program, place, d| {
                    let month = i32::from(d.year()) * 12 + i32::from(d.month()) - 1;
                    *activity.entry((what, program.to_string(), place.to_string(), month)).or_default() += 1;
                },
            );
        }
        for o in obligations(terms, &facts, on) {
            match o.state {
                State::Pending => part.report.pending += 1,
                State::Met => part.report.met += 1,
                State::Overdue => part.report.overdue += 1,
                State::Excused => part.report.excused += 1,
                State::Void => part.report.void += 1,
            }
            let service = fairgate_core::appointment::service_of(o.kind);
            let current = facts.booking(&o.key);
            let missed = match (service, current) {
                (Some(_), Some(a))
                    if matches!(o.state, State::Pending | State::Overdue)
                        && fairgate_core::appointment::missed(a, &facts.check_ins, &facts.missed, on) =>
                {
                    Some(a.slot.clone())
                }
                _ => None,
            };
            if let Some(a) =
                current.filter(|a| matches!(o.state, State::Met | State::Excused | State::Void) && a.slot.day >= on)
            {
                part.to_issue.push(Issue {
                    id: SubjectId::from_bytes(row.subject_id),
                    no: row.subject_no,
                    data: data.clone(),
                    key: o.key.clone(),
                    due: o.effective_due,
                    service: None,
                    postal_code: None,
                    missed: None,
                    release: Some(a.slot.clone()),
                });
                continue;
            }
            let needs = fairgate_core::obligation::needs_notice(&o, &facts, on);
            if needs || missed.is_some() {
                part.to_issue.push(Issue {
                    id: SubjectId::from_bytes(row.subject_id),
                    no: row.subject_no,
                    data: data.clone(),
                    key: o.key,
                    due: o.effective_due,
                    service: service.filter(|_| missed.is_some() || current.is_none()),
                    postal_code: facts.postal_code.as_ref().map(|(_, p)| p.clone()),
                    missed,
                    release: None,
                });
            }
        }
        Ok(())
    }
}

impl Batch<'_> {
    /// Record that the daily run issued a notice (not yet served).
    /// Sealed with the subject's keys directly (under the program's key when the
    /// obligation is a program's): a notice changes nothing the writer's per-subject
    /// state holds, so that state is not loaded.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn issue_notice(
        &mut self,
        id: SubjectId,
        no: u64,
        sealer: &fairgate_ledger::leaf::Sealer,
        data: &fairgate_ledger::keys::SecretKey,
        key: &str,
        due: Date,
        on: Date,
    ) -> Result<()> {
        let event = Event::NoticeIssued(NoticeIssued { subject: id, obligation: key.to_string(), due, issued_on: on });
        self.append_sealed(no, super::SLOT_DATA, sealer, &event, Some(data))?;
        Ok(())
    }
}
