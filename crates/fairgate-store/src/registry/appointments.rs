//! Appointments, the desk queue and interviews on the registry: booking the
//! earliest free slot (with a notice, by the person, at a desk, after a missed
//! appointment or a closure), checking people in, calling the next, recording them
//! served, and the interview itself. Every booking and step is a sealed event
//! about the person; the store keeps only counts per slot and, per office, the
//! pseudonymous numbers waiting.

use std::collections::HashMap;

use fairgate_core::access::Actor;
use fairgate_core::appointment::{
    earliest_slot, next_in_line, service_of, wait_minutes, Appointment, BookedBy, BookingInput, DayLoad,
    InterviewInput, Slot, VisitOutcome, Waiting,
};
use fairgate_core::event::*;
use fairgate_core::ids::SubjectId;
use fairgate_core::obligation::State;
use fairgate_core::place::{Place, PlaceKind, ServiceKind, ZonedPlace};
use fairgate_core::policy::{self, Action};
use fairgate_core::program::lang::ObligationKind;
use fairgate_core::Invalid;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};

use super::{Batch, Registry, Result};

/// How many days past its deadline the system looks for a slot when none is free
/// before it (the deadline then moves to the slot: see `appointment::system_deadline`).
pub const LATE_SLOT_DAYS: i64 = 120;

/// Office days' bookings as one command sees them: those committed, plus the ones
/// it made itself.
#[derive(Default)]
pub(crate) struct SlotBook {
    days: HashMap<(String, Date), DayLoad>,
}

impl SlotBook {
    pub(crate) fn earliest(
        &mut self,
        reg: &Registry,
        place: &Place,
        service: ServiceKind,
        from: (Date, u16),
        through: Date,
    ) -> Result<Option<Slot>> {
        let mut err = None;
        let days = &mut self.days;
        let mut load = |d: Date| -> DayLoad {
            days.entry((place.code.clone(), d))
                .or_insert_with(|| match reg.store.slot_loads(&place.code, &d.to_string()) {
                    Ok(v) => v,
                    Err(e) => {
                        err.get_or_insert(e);
                        Vec::new()
                    }
                })
                .clone()
        };
        let slot = earliest_slot(place, service, from, through, &mut load);
        match err {
            Some(e) => Err(e.into()),
            None => Ok(slot),
        }
    }

    /// The slot the system gives: the earliest that ends by the deadline, or when
    /// none is free, the earliest after it (which moves the deadline).
    pub(crate) fn for_system(
        &mut self,
        reg: &Registry,
        place: &Place,
        service: ServiceKind,
        from: Date,
        due: Date,
    ) -> Result<Option<Slot>> {
        if let Some(s) = self.earliest(reg, place, service, (from, 0), due)? {
            return Ok(Some(s));
        }
        let late = due.checked_add(LATE_SLOT_DAYS.days()).unwrap_or(due).max(from);
        self.earliest(reg, place, service, (from, 0), late)
    }

    pub(crate) fn take(&mut self, slot: &Slot) {
        self.days.entry((slot.office.clone(), slot.day)).or_default().push((slot.start, slot.minutes, 1));
    }

    pub(crate) fn release(&mut self, slot: &Slot) {
        if let Some(day) = self.days.get_mut(&(slot.office.clone(), slot.day)) {
            if let Some(b) = day.iter_mut().find(|(s, m, n)| *s == slot.start && *m == slot.minutes && *n > 0) {
                b.2 -= 1;
            }
        }
    }
}

/// The office of a postal code, if one serves it.
pub(crate) fn office_of(reg: &Registry, postal_code: Option<&str>, on: Date) -> Option<Place> {
    postal_code.and_then(|pc| reg.places().office_for(pc, on).map(|p| p.place.clone()))
}

/// An office by code, open for business (not closed for good), or why not.
fn office(reg: &Registry, field: &str, code: &str, on: Date) -> Result<ZonedPlace> {
    let code = code.trim().to_uppercase();
    match reg.places().get(&code) {
        Some(p) if p.place.kind == PlaceKind::Office && !p.place.closed_for_good(on) => Ok(p.clone()),
        Some(p) if p.place.kind == PlaceKind::Office => {
            Err(Invalid::one(field, format!("{code} is closed for good: choose another office (GET /places)")).into())
        }
        _ => Err(Invalid::one(field, format!("{code} is not an office: choose one from GET /places")).into()),
    }
}

/// Minutes after local midnight of `t` at `place`, and the local day.
fn local(place: &ZonedPlace, t: Timestamp) -> (Date, u16) {
    let z = t.to_zoned(place.tz.clone());
    (z.date(), (i32::from(z.hour()) * 60 + i32::from(z.minute())) as u16)
}

/// An office's day, for its desk (see `Registry::office_day`).
#[derive(Debug, Clone)]
pub struct OfficeDay {
    pub code: String,
    pub name: String,
    pub day: Date,
    /// Minutes after local midnight now.
    pub minute: u16,
    /// Closed today when `None`.
    pub hours: Option<fairgate_core::place::Hours>,
    pub desks: u16,
    /// Booked slots: start (minutes after midnight), length, bookings.
    pub slots: Vec<(u16, u16, u32)>,
}

/// A person's place in an office's waiting list, as staff see it (pseudonymous).
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueueEntry {
    pub subject: SubjectId,
    pub arrived: Timestamp,
    /// `09:30`: the start of their slot today, if they have one (none: a walk-in).
    pub slot: Option<String>,
    /// Called to this desk, if they have been.
    pub desk: Option<u16>,
    pub called: Option<Timestamp>,
}

/// Who was called, and after how long.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Called {
    pub subject: SubjectId,
    pub desk: u16,
    pub waited_minutes: u16,
}

impl Registry {
    /// After office `code` closed: move every booking still to come on a day the
    /// closure covers to the nearest open office (the earliest slot there from the
    /// same day), extend its deadline by the closure's days, and issue a new notice.
    /// Returns how many were moved.
    pub(super) fn move_for_closure(
        &self,
        now: Timestamp,
        code: &str,
        closure: &fairgate_core::place::Closure,
    ) -> Result<u64> {
        self.compact_stay_facts()?;
        let terms = self.program_terms()?;
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        struct Move {
            id: SubjectId,
            no: u64,
            data: fairgate_ledger::keys::SecretKey,
            old: Slot,
            key: String,
            due: Date,
            service: ServiceKind,
        }
        let mut moves = Vec::new();
        let mut failed = None;
        self.store.scan_compliance_facts(1024, &mut |chunk| {
            for row in &chunk {
                let (data, facts, _) = match self.open_row(row) {
                    Ok(x) => x,
                    Err(e) => {
                        failed = Some(e);
                        return false;
                    }
                };
                let hit = |a: &Appointment| a.slot.office == code && closure.covers(a.slot.day) && a.slot.day >= today;
                if !facts.appointments.iter().any(hit) {
                    continue;
                }
                for o in fairgate_core::obligation::obligations(&terms, &facts, today) {
                    let (Some(a), Some(service)) = (facts.booking(&o.key), service_of(o.kind)) else { continue };
                    if !hit(a) || !matches!(o.state, State::Pending | State::Overdue) {
                        continue;
                    }
                    moves.push(Move {
                        id: SubjectId::from_bytes(row.subject_id),
                        no: row.subject_no,
                        data: data.clone(),
                        old: a.slot.clone(),
                        key: o.key.clone(),
                        due: o.effective_due,
                        service,
                    });
                }
            }
            true
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        let extend = closure.days().map_or(0, |d| d.clamp(0, i64::from(u16::MAX)) as u16);
        let mut moved = 0u64;
        for chunk in moves.chunks(10_000) {
            moved += self
                .write(now, |b| {
                    let mut slots = SlotBook::default();
                    let mut n = 0u64;
                    for m in chunk {
                        let sealer = fairgate_ledger::leaf::Sealer::new(&m.data);
                        let Some(place) = self.places().nearest_open(code, m.old.day).map(|p| p.place.clone()) else {
                            continue;
                        };
                        let due = m.due.checked_add(i64::from(extend).days()).unwrap_or(m.due);
                        let Some(slot) = slots.for_system(self, &place, m.service, m.old.day.max(today), due)? else {
                            continue;
                        };
                        slots.take(&slot);
                        slots.release(&m.old);
                        let event = Event::AppointmentBooked(AppointmentBooked {
                            subject: m.id,
                            appointment: Appointment {
                                obligation: m.key.clone(),
                                slot,
                                by: BookedBy::Closure,
                                extend_days: extend,
                            },
                            replaces: Some(m.old.clone()),
                            at: now,
                        });
                        b.append_sealed(m.no, super::SLOT_DATA, &sealer, &event, Some(&m.data))?;
                        b.issue_notice(m.id, m.no, &sealer, &m.data, &m.key, due, today)?;
                        n += 1;
                    }
                    Ok(n)
                })?
                .0;
        }
        Ok(moved)
    }

    /// An office's day as its desk plans it: the local date now, the opening hours
    /// and desks, and each booked slot (start, length, how many booked). Counts
    /// only: who is booked is sealed in their records, and this says nothing about
    /// anyone, so it is not a read of personal data.
    pub fn office_day(&self, now: Timestamp, code: &str) -> Result<OfficeDay> {
        let place = office(self, "code", code, now.to_zoned(jiff::tz::TimeZone::UTC).date())?;
        let (today, minute) = local(&place, now);
        let slots = self.store.slot_loads(&place.place.code, &today.to_string())?;
        Ok(OfficeDay {
            code: place.place.code.clone(),
            name: place.place.name.clone(),
            day: today,
            minute,
            hours: place.place.open_on(today),
            desks: place.place.desks,
            slots,
        })
    }

    /// An office's waiting list today (its calendar), in arrival order: pseudonymous
    /// ids and times only. Staff at a desk, for registration; who is at an office
    /// when is about them, so each person listed gets an access event, before the
    /// list is returned.
    pub fn desk_queue(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: fairgate_core::access::Purpose,
        code: &str,
        request: &str,
    ) -> Result<Vec<QueueEntry>> {
        policy::authorize_read(actor, fairgate_core::policy::Read::DeskQueue, purpose)?;
        let place = office(self, "code", code, now.to_zoned(jiff::tz::TimeZone::UTC).date())?;
        let (today, _) = local(&place, now);
        let mut out = Vec::new();
        for row in self.store.desk_queue(&place.place.code)? {
            let arrived = Timestamp::from_millisecond(row.arrived_ms).unwrap_or(Timestamp::UNIX_EPOCH);
            if local(&place, arrived).0 != today {
                continue;
            }
            let Some(keys) = self.store.subject_keys(row.subject_no)? else { continue };
            out.push(QueueEntry {
                subject: SubjectId::from_bytes(keys.subject_id),
                arrived,
                slot: row.slot_start.map(|s| format!("{:02}:{:02}", s / 60, s % 60)),
                desk: row.called.map(|(_, d)| d),
                called: row.called.and_then(|(t, _)| Timestamp::from_millisecond(t).ok()),
            });
        }
        if !out.is_empty() {
            self.write(now, |b| {
                for e in &out {
                    b.record_access(
                        e.subject,
                        actor,
                        fairgate_core::policy::Read::DeskQueue,
                        purpose,
                        &["desk-queue"],
                        request,
                    )?;
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}

impl Batch<'_> {
    /// Book (or move) the slot of one of the person's office obligations: the
    /// earliest free one at the office asked for (or the one serving their address,
    /// or their current booking's), from the day asked for, that ends by the
    /// deadline. By the person in the portal, or by staff at a desk.
    pub fn book_appointment(&mut self, actor: &Actor, id: SubjectId, input: &BookingInput) -> Result<Appointment> {
        policy::authorize(actor, Action::BookAppointment)?;
        policy::own_records(actor, &id)?;
        let by = if actor.role == fairgate_core::access::Role::Registrant { BookedBy::Portal } else { BookedBy::Desk };
        let utc_today = self.today();
        let (answer, facts) = self.reg.obligations_of(id, utc_today)?;
        let o = answer
            .obligations
            .iter()
            .find(|o| o.key == input.obligation.trim())
            .ok_or_else(|| super::compliance::unknown_obligation(&input.obligation))?;
        if !matches!(o.state, State::Pending | State::Overdue) {
            return Err(Invalid::one("obligation", "is not pending or overdue: it needs no appointment").into());
        }
        let Some(service) = service_of(o.kind) else {
            return Err(Invalid::one(
                "obligation",
                "is not met at an office (a change report or a recorded departure): it needs no appointment",
            )
            .into());
        };
        let current = facts.booking(&o.key).cloned();
        let place = match (
            &input.office,
            office_of(self.reg, facts.postal_code.as_ref().map(|(_, p)| p.as_str()), utc_today),
            &current,
        ) {
            (Some(code), _, _) => office(self.reg, "office", code, utc_today)?,
            (None, Some(p), _) => office(self.reg, "office", &p.code, utc_today)?,
            (None, None, Some(a)) => office(self.reg, "office", &a.slot.office, utc_today)?,
            (None, None, None) => {
                return Err(Invalid::one(
                    "office",
                    "is required: no address on record picks an office; give an office code (GET /places)",
                )
                .into())
            }
        };
        let (local_today, minute) = local(&place, self.now);
        let from = input.from_day(utc_today)?.max(local_today);
        let first_minute = if from == local_today { minute.saturating_add(1) } else { 0 };
        let through = o.effective_due;
        if from > through {
            return Err(Invalid::one(
                "from",
                format!("is after the due date {through}: choose a day up to it (a later date needs an excuse for good cause)"),
            )
            .into());
        }
        let mut slots = SlotBook::default();
        let Some(slot) = slots.earliest(self.reg, &place.place, service, (from, first_minute), through)? else {
            return Err(Invalid::one(
                "office",
                format!(
                    "{} has no free slot from {from} to the due date {through}: choose another office, or ask at a desk (walk-ins are served when a desk is free)",
                    place.place.code
                ),
            )
            .into());
        };
        // A booking still to come is freed; a past one stays as it was.
        let replaces = current.map(|a| a.slot).filter(|s| s.day >= local_today);
        let appointment = Appointment { obligation: o.key.clone(), slot, by, extend_days: 0 };
        let (no, sealer) = self.data_sealer(id)?;
        let event = Event::AppointmentBooked(AppointmentBooked {
            subject: id,
            appointment: appointment.clone(),
            replaces,
            at: self.now,
        });
        self.append(no, super::SLOT_DATA, &sealer, &event)?;
        Ok(appointment)
    }

    /// Check a person in at an office desk: with today's slot there if they have
    /// one, else as a walk-in.
    pub fn check_in(&mut self, actor: &Actor, code: &str, id: SubjectId) -> Result<Option<Slot>> {
        policy::authorize(actor, Action::ServeDesk)?;
        let place = office(self.reg, "code", code, self.today())?;
        let (today, _) = local(&place, self.now);
        let (no, data) = self.reg.subject_keys_of(id)?;
        let facts = self.reg.compliance_facts(no, &data)?;
        let mut keys: Vec<&str> = facts.appointments.iter().map(|a| a.obligation.as_str()).collect();
        keys.dedup();
        let slot = keys
            .into_iter()
            .filter_map(|k| facts.booking(k))
            .filter(|a| a.slot.office == place.place.code && a.slot.day == today)
            .min_by_key(|a| a.slot.start);
        let (no, sealer) = self.data_sealer(id)?;
        let event = Event::DeskStep(DeskStep {
            subject: id,
            office: place.place.code.clone(),
            step: Step::CheckIn {
                obligation: slot.map(|a| a.obligation.clone()),
                slot_start: slot.map(|a| a.slot.start),
            },
            at: self.now,
            week: fairgate_core::appointment::iso_week(today),
            by: actor.clone(),
        });
        self.append(no, super::SLOT_DATA, &sealer, &event)?;
        Ok(slot.map(|a| a.slot.clone()))
    }

    /// Call the next person to `desk`: the earliest slot due (or due within 10
    /// minutes), else the first walk-in. `None` when nobody is waiting.
    pub fn call_next(&mut self, actor: &Actor, code: &str, desk: u16) -> Result<Option<Called>> {
        policy::authorize(actor, Action::ServeDesk)?;
        let place = office(self.reg, "code", code, self.today())?;
        if desk == 0 || desk > place.place.desks.max(1) {
            return Err(Invalid::one(
                "desk",
                format!("must be a desk of {}: 1 to {}", place.place.code, place.place.desks.max(1)),
            )
            .into());
        }
        let (today, now) = local(&place, self.now);
        let mut rows = Vec::new();
        for r in self.reg.store.desk_queue(&place.place.code)? {
            let arrived = Timestamp::from_millisecond(r.arrived_ms).unwrap_or(Timestamp::UNIX_EPOCH);
            let (day, minute) = local(&place, arrived);
            if r.called.is_none() && day == today {
                rows.push((r, Waiting { arrived: minute, slot_start: None }));
            }
        }
        for (r, w) in rows.iter_mut() {
            w.slot_start = r.slot_start;
        }
        let waiting: Vec<Waiting> = rows.iter().map(|(_, w)| *w).collect();
        let Some(i) = next_in_line(&waiting, now, 10) else { return Ok(None) };
        let (row, w) = &rows[i];
        let Some(keys) = self.reg.store.subject_keys(row.subject_no)? else { return Ok(None) };
        let id = SubjectId::from_bytes(keys.subject_id);
        let waited = wait_minutes(w.arrived, w.slot_start, now);
        let (no, sealer) = self.data_sealer(id)?;
        let event = Event::DeskStep(DeskStep {
            subject: id,
            office: place.place.code.clone(),
            step: Step::Called { desk, waited },
            at: self.now,
            week: fairgate_core::appointment::iso_week(today),
            by: actor.clone(),
        });
        self.append(no, super::SLOT_DATA, &sealer, &event)?;
        Ok(Some(Called { subject: id, desk, waited_minutes: waited }))
    }

    /// Record how a visit ended: served, or sent to another office with the reason.
    pub fn finish_visit(&mut self, actor: &Actor, code: &str, id: SubjectId, outcome: &VisitOutcome) -> Result<()> {
        policy::authorize(actor, Action::ServeDesk)?;
        let place = office(self.reg, "code", code, self.today())?;
        let (no, _) = self.reg.subject_keys_of(id)?;
        if !self.reg.store.desk_queue(&place.place.code)?.iter().any(|r| r.subject_no == no) {
            return Err(Invalid::one(
                "subject",
                format!("is not on the waiting list of {}: check them in first", place.place.code),
            )
            .into());
        }
        let step = match outcome {
            VisitOutcome::Served => Step::Served,
            VisitOutcome::SentElsewhere { to, reason } => {
                let to = office(self.reg, "to", to, self.today())?.place.code;
                if to == place.place.code {
                    return Err(Invalid::one("to", "is this office: name the office they are sent to").into());
                }
                Step::SentElsewhere { to, reason: super::reason_text(reason)? }
            }
        };
        let (today, _) = local(&place, self.now);
        let (no, sealer) = self.data_sealer(id)?;
        let event = Event::DeskStep(DeskStep {
            subject: id,
            office: place.place.code.clone(),
            step,
            at: self.now,
            week: fairgate_core::appointment::iso_week(today),
            by: actor.clone(),
        });
        self.append(no, super::SLOT_DATA, &sealer, &event)?;
        Ok(())
    }

    /// Record an interview held at an office: one answer per question of the
    /// program whose interview obligation it meets.
    pub fn record_interview(&mut self, actor: &Actor, id: SubjectId, input: &InterviewInput) -> Result<()> {
        policy::authorize(actor, Action::RecordInterview)?;
        let place = office(self.reg, "place", &input.place, self.today())?;
        let Some(key) = input.obligation.as_deref().map(str::trim) else {
            return Err(Invalid::one(
                "obligation",
                "is required: the interview obligation it meets (GET /subjects/{id}/obligations)",
            )
            .into());
        };
        let (answer, _) = self.reg.obligations_of(id, self.today())?;
        let o = answer
            .obligations
            .iter()
            .find(|o| o.key == key)
            .ok_or_else(|| super::compliance::unknown_obligation(key))?;
        if o.kind != ObligationKind::Interview {
            return Err(Invalid::one("obligation", "is not an interview obligation").into());
        }
        let terms = self.reg.program_terms()?;
        let questions = terms
            .iter()
            .find(|t| t.spec.program.id == o.program && t.spec.program.version == o.version)
            .map(|t| t.spec.interview.questions.clone())
            .unwrap_or_default();
        let answers = input.validate(&questions)?;
        let (no, sealer) = self.data_sealer(id)?;
        let event = Event::InterviewRecorded(InterviewRecorded {
            subject: id,
            obligation: Some(o.key.clone()),
            place: place.place.code.clone(),
            at: self.now,
            answers,
            recorded_by: actor.clone(),
        });
        self.append(no, super::SLOT_DATA, &sealer, &event)?;
        Ok(())
    }
}
