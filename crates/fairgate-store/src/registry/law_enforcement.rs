//! Law-enforcement access on the registry: requests, approvals and emergency
//! reviews (sealed with the person's access-log key), the grant check that a
//! law-enforcement read must pass, and what the person sees of it.

use fairgate_core::access::Actor;
use fairgate_core::event::{Event, EventKind, LawEnforcementDecided, LawEnforcementRequested};
use fairgate_core::ids::SubjectId;
use fairgate_core::law_enforcement::{check_decision, fold, Grant, Refusal, RequestInput};
use fairgate_ledger::keys::SecretKey;
use jiff::Timestamp;

use super::{Registry, RegistryError, Result};

impl Registry {
    /// Every law-enforcement request about a person, with approvals and reviews.
    pub(crate) fn grants(&self, subject_no: u64, access: &SecretKey) -> Result<Vec<Grant>> {
        let events: Vec<Event> = self
            .subject_events(
                subject_no,
                access,
                &[EventKind::LawEnforcementRequested, EventKind::LawEnforcementDecided],
            )?
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        Ok(fold(&events))
    }

    /// Refuse a law-enforcement read without a grant in effect for this actor. An
    /// unknown or erased subject is refused in the same words: no grant can exist for
    /// them, and the refusal must not tell whether they do.
    pub(crate) fn check_law_enforcement(&self, id: SubjectId, actor: &Actor, now: Timestamp) -> Result<()> {
        let access = match self.store.subject_keys_by_id(id.as_bytes())? {
            Some(row) => self.unwrap_keys(&row)?.map(|(_, access)| (row.subject_no, access)),
            None => None,
        };
        if let Some((no, access)) = access {
            if self.grants(no, &access)?.iter().any(|g| g.allows(actor, now)) {
                return Ok(());
            }
        }
        Err(RegistryError::NotPermitted(
            "a law-enforcement read needs a grant in effect: request one (POST /subjects/{id}/law-enforcement) and have an approver approve it".into(),
        ))
    }
}

impl super::Batch<'_> {
    fn access_sealer(
        &mut self,
        id: SubjectId,
    ) -> Result<(u64, std::sync::Arc<fairgate_ledger::leaf::Sealer>, Vec<Grant>)> {
        let (no, sealer) = {
            let s = self.state(id)?;
            (s.no, s.access.clone())
        };
        let row = self.reg.store.subject_keys(no)?.ok_or(RegistryError::UnknownSubject(id))?;
        let (_, access) = self.reg.unwrap_keys(&row)?.ok_or(RegistryError::Erased(id))?;
        let grants = self.reg.grants(no, &access)?;
        Ok((no, sealer, grants))
    }

    /// A reasoned request for law-enforcement access (supervisors, for their agency).
    pub fn request_law_enforcement(&mut self, actor: &Actor, id: SubjectId, input: &RequestInput) -> Result<u32> {
        fairgate_core::policy::authorize(actor, fairgate_core::policy::Action::RequestLawEnforcement)?;
        let request = input.validate(self.today())?;
        let (no, sealer, grants) = self.access_sealer(id)?;
        let number = grants.iter().map(|g| g.number).max().unwrap_or(0) + 1;
        let event = Event::LawEnforcementRequested(LawEnforcementRequested {
            subject: id,
            number,
            request,
            requested_by: actor.clone(),
            at: self.now(),
        });
        self.append(no, super::SLOT_ACCESS, &sealer, &event)?;
        Ok(number)
    }

    /// An independent approver approves a request (`review` is `None`), or reviews an
    /// emergency access (`Some((justified, reasons))`).
    pub fn decide_law_enforcement(
        &mut self,
        approver: &Actor,
        id: SubjectId,
        number: u32,
        review: Option<(bool, &str)>,
    ) -> Result<()> {
        use fairgate_core::policy::{authorize, Action};
        authorize(
            approver,
            if review.is_some() { Action::ReviewEmergencyAccess } else { Action::ApproveLawEnforcement },
        )?;
        let (no, sealer, grants) = self.access_sealer(id)?;
        check_decision(&grants, number, approver, review.is_some()).map_err(|r| match r {
            Refusal::Policy(p) => RegistryError::Forbidden(p),
            other => RegistryError::NotPermitted(other.to_string()),
        })?;
        let (justified, reasons) = match review {
            Some((j, r)) => (Some(j), super::reason_text(r)?),
            None => (None, String::new()),
        };
        let event = Event::LawEnforcementDecided(LawEnforcementDecided {
            subject: id,
            number,
            justified,
            reasons,
            by: approver.clone(),
            at: self.now(),
        });
        self.append(no, super::SLOT_ACCESS, &sealer, &event)?;
        Ok(())
    }
}
