//! The registrants' portal on the registry: who a registration number belongs to,
//! and the accounting of disclosures (every access to a person's record: when,
//! which agency and role, for what purpose). Reads through the portal are
//! themselves logged, with the purpose subject-access.

use fairgate_core::access::{Actor, Purpose};
use fairgate_core::event::{Event, EventKind};
use fairgate_core::ids::SubjectId;
use fairgate_ledger::keys::blind_index;
use jiff::Timestamp;

use super::{Receipt, Registry, Result};
use crate::project::REGISTRATION_DOMAIN;

/// One access to a person's record, as the person sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Disclosure {
    pub at: Timestamp,
    pub agency: String,
    pub role: String,
    pub purpose: String,
    /// Which parts of the record were disclosed.
    pub fields: Vec<String>,
    /// What was asked, e.g. `GET /subjects/{id}`.
    pub request: String,
    /// Under a legal hold: only the date is shown until this day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld_until: Option<jiff::civil::Date>,
    /// A law-enforcement access made in an emergency and found unjustified on review.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unjustified: bool,
}

impl Registry {
    /// The keyed blind index of a registration number (how it is looked up; the
    /// number itself is never stored).
    pub fn registration_blind(&self, number: &str) -> [u8; 32] {
        blind_index(&self.blind, REGISTRATION_DOMAIN, number.trim())
    }

    /// The live subject a registration number belongs to.
    pub fn subject_of_registration(&self, number: &str) -> Result<Option<SubjectId>> {
        let Some(no) = self.store.subject_of_registration(&self.registration_blind(number))? else { return Ok(None) };
        Ok(self.store.subject_keys(no)?.filter(|r| r.data_key.is_some()).map(|r| SubjectId::from_bytes(r.subject_id)))
    }

    /// The subject number of a live subject id.
    pub fn subject_no(&self, id: SubjectId) -> Result<u64> {
        Ok(self.subject_keys_of(id)?.0)
    }

    /// Every access to the person's record, oldest first. Reading it is itself an
    /// access (subject-access, by the person), logged before the answer is returned.
    pub fn read_disclosures(
        &self,
        now: Timestamp,
        actor: &Actor,
        id: SubjectId,
        request: &str,
    ) -> Result<(Vec<Disclosure>, Receipt)> {
        let row = self.store.subject_keys_by_id(id.as_bytes())?.ok_or(super::RegistryError::UnknownSubject(id))?;
        let (_, access) = self.unwrap_keys(&row)?.ok_or(super::RegistryError::Erased(id))?;
        let idx: Vec<u64> = self
            .store
            .subject_leaves(row.subject_no, 0)?
            .into_iter()
            .filter(|(_, k)| *k == EventKind::PersonalDataAccessed.code())
            .map(|(i, _)| i)
            .collect();
        let grants = self.grants(row.subject_no, &access)?;
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let mut out = Vec::with_capacity(idx.len());
        for l in self.store.leaves_at(&idx)? {
            let header = fairgate_ledger::leaf::Header::decode(&l.leaf)
                .map_err(|e| super::corrupt(format!("leaf {}: {e}", l.index)))?;
            if let Event::PersonalDataAccessed(e) = self.open_leaf(&l, &access)? {
                let at = crate::project::recorded_at(header.timestamp_ms);
                let grant = (e.purpose == Purpose::LawEnforcement)
                    .then(|| grants.iter().find(|g| g.covers(&e.actor.id, at)))
                    .flatten();
                let hold = grant.and_then(|g| g.request.hold_until).filter(|h| *h > today);
                let unjustified = grant.is_some_and(|g| g.review.as_ref().is_some_and(|r| !r.0));
                out.push(match hold {
                    // Under a legal hold the person learns that an access happened, and when.
                    Some(h) => Disclosure {
                        at,
                        agency: "withheld under a legal hold".into(),
                        role: String::new(),
                        purpose: String::new(),
                        fields: Vec::new(),
                        request: String::new(),
                        withheld_until: Some(h),
                        unjustified,
                    },
                    None => Disclosure {
                        at,
                        agency: e.actor.agency,
                        role: e.actor.role.as_str().to_string(),
                        purpose: e.purpose.as_str().to_string(),
                        fields: e.fields,
                        request: e.request,
                        withheld_until: None,
                        unjustified,
                    },
                });
            }
        }
        let ((), receipt) =
            self.write(now, |b| b.record_access(id, actor, Purpose::SubjectAccess, &["disclosures"], request))?;
        Ok((out, receipt))
    }
}

impl super::Batch<'_> {
    fn corrections(
        &mut self,
        id: SubjectId,
    ) -> Result<(u64, std::sync::Arc<fairgate_ledger::leaf::Sealer>, Vec<fairgate_core::correction::Correction>)> {
        let (no, sealer) = {
            let s = self.state(id)?;
            (s.no, s.data.clone())
        };
        let (_, data) = self.reg.subject_keys_of(id)?;
        let events: Vec<Event> = self
            .reg
            .subject_events(no, &data, &[EventKind::CorrectionRequested, EventKind::CorrectionAnswered])?
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        Ok((no, sealer, fairgate_core::correction::fold(&events)))
    }

    /// The person asks for a correction; it must be answered within 45 days.
    pub fn request_correction(
        &mut self,
        id: SubjectId,
        input: &fairgate_core::correction::CorrectionInput,
    ) -> Result<(u32, Timestamp)> {
        let (field, text) = input.validate()?;
        let (no, sealer, existing) = self.corrections(id)?;
        if existing.iter().filter(|c| c.answer.is_none()).count() >= 20 {
            return Err(
                fairgate_core::Invalid::one("field", "20 requests are already open: wait for their answers").into()
            );
        }
        let number = existing.iter().map(|c| c.number).max().unwrap_or(0) + 1;
        let at = self.now();
        let event = Event::CorrectionRequested(fairgate_core::event::CorrectionRequested {
            subject: id,
            number,
            field,
            text,
            at,
        });
        self.append(no, super::SLOT_DATA, &sealer, &event)?;
        Ok((number, fairgate_core::correction::reply_due(at)))
    }

    /// A supervisor answers a correction request, with reasons.
    pub fn answer_correction(
        &mut self,
        actor: &Actor,
        id: SubjectId,
        number: u32,
        input: &fairgate_core::correction::AnswerInput,
    ) -> Result<()> {
        if actor.role != fairgate_core::access::Role::Supervisor {
            return Err(super::RegistryError::NotPermitted(format!(
                "only a supervisor answers a correction request; you are signed in as {}",
                actor.role.as_str()
            )));
        }
        let reply = super::reason_text(&input.reply)?;
        let (no, sealer, existing) = self.corrections(id)?;
        match existing.iter().find(|c| c.number == number) {
            None => {
                return Err(fairgate_core::Invalid::one(
                    "number",
                    format!("this person has no correction request {number}"),
                )
                .into())
            }
            Some(c) if c.answer.is_some() => {
                return Err(
                    fairgate_core::Invalid::one("number", format!("request {number} is already answered")).into()
                )
            }
            Some(_) => {}
        }
        let event = Event::CorrectionAnswered(fairgate_core::event::CorrectionAnswered {
            subject: id,
            number,
            corrected: input.corrected,
            reply,
            answered_by: actor.clone(),
            at: self.now(),
        });
        self.append(no, super::SLOT_DATA, &sealer, &event)?;
        Ok(())
    }
}
