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

/// A law-enforcement request as an approver or auditor sees it before deciding:
/// the case, the reasons and the scope, and where it stands.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueuedRequest {
    pub subject: SubjectId,
    pub number: u32,
    pub case_number: String,
    pub reasons: String,
    pub emergency: bool,
    pub hold_until: Option<jiff::civil::Date>,
    /// What a grant covers: every read of this person's records, by the requester only.
    pub scope: String,
    pub requested_by: Actor,
    pub requested_at: Timestamp,
    pub approved_at: Option<Timestamp>,
    /// When the grant (if any) ends.
    pub in_effect_until: Option<Timestamp>,
    /// `awaiting-approval`, `awaiting-review` or `review-overdue`.
    pub status: &'static str,
    /// An emergency access must be reviewed by then.
    pub review_due: Option<Timestamp>,
}

impl Registry {
    /// When `id`'s records fall due for erasure under the programs' retention rules,
    /// if they do (a hold may not outlast them: `law_enforcement::latest_hold`).
    pub(crate) fn keep_until(&self, id: SubjectId, today: jiff::civil::Date) -> Result<Option<jiff::civil::Date>> {
        let (no, data) = self.subject_keys_of(id)?;
        let facts = self.compliance_facts(no, &data)?;
        let overstayed = self.stay_of(id, today)?.answer.overstay.is_some();
        Ok(fairgate_core::retention::due(&self.program_terms()?, &facts, overstayed, today).map(|d| d.keep_until))
    }

    /// Every request awaiting an approver's decision or review, oldest first, with
    /// its case, reasons and scope: what an approver needs before deciding. The
    /// policy's `law-enforcement-queue` (approvers and auditors).
    pub fn law_enforcement_queue(&self, now: Timestamp, actor: &Actor) -> Result<Vec<QueuedRequest>> {
        fairgate_core::policy::authorize(actor, fairgate_core::policy::Action::LawEnforcementQueue)?;
        let mut out = Vec::new();
        for (no, grants) in self.all_grants()? {
            let Some(row) = self.store.subject_keys(no)? else { continue };
            let subject = SubjectId::from_bytes(row.subject_id);
            for g in grants.into_iter().filter(Grant::awaiting_decision) {
                out.push(QueuedRequest {
                    subject,
                    number: g.number,
                    case_number: g.request.case_number.clone(),
                    reasons: g.request.reasons.clone(),
                    emergency: g.request.emergency,
                    hold_until: g.request.hold_until,
                    scope: "every read of this person's records, for law enforcement, by the requester only".into(),
                    requested_by: g.requested_by.clone(),
                    requested_at: g.requested_at,
                    approved_at: g.approved.as_ref().map(|(_, at)| *at),
                    in_effect_until: g.window().map(|(_, end)| end).filter(|end| *end >= now),
                    status: g.queue_status(now),
                    review_due: g.review_due(),
                });
            }
        }
        out.sort_by_key(|q| q.requested_at);
        Ok(out)
    }

    /// Emergency accesses whose review is overdue on `now`: the count the public
    /// report publishes (about no one in particular).
    pub fn overdue_emergency_reviews(&self, now: Timestamp) -> Result<u64> {
        Ok(self.all_grants()?.iter().flat_map(|(_, g)| g).filter(|g| g.review_overdue(now)).count() as u64)
    }

    /// The grants of everyone with a law-enforcement request on record (their access
    /// keys outlive their data, so an erased person's requests still count).
    fn all_grants(&self) -> Result<Vec<(u64, Vec<Grant>)>> {
        let mut out = Vec::new();
        for no in self.store.law_enforcement_subjects()? {
            let Some(row) = self.store.subject_keys(no)? else { continue };
            let Some(wrapped) = row.access_key.as_ref() else { continue };
            let access = self.unwrap_slot(no, super::SLOT_ACCESS, wrapped)?;
            out.push((no, self.grants(no, &access)?));
        }
        Ok(out)
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
        let today = self.today();
        let request = input.validate(today, self.reg.keep_until(id, today)?)?;
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
