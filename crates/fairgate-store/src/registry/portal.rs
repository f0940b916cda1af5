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
        let mut out = Vec::with_capacity(idx.len());
        for l in self.store.leaves_at(&idx)? {
            let header = fairgate_ledger::leaf::Header::decode(&l.leaf)
                .map_err(|e| super::corrupt(format!("leaf {}: {e}", l.index)))?;
            if let Event::PersonalDataAccessed(e) = self.open_leaf(&l, &access)? {
                out.push(Disclosure {
                    at: crate::project::recorded_at(header.timestamp_ms),
                    agency: e.actor.agency,
                    role: e.actor.role.as_str().to_string(),
                    purpose: e.purpose.as_str().to_string(),
                    fields: e.fields,
                    request: e.request,
                });
            }
        }
        let ((), receipt) =
            self.write(now, |b| b.record_access(id, actor, Purpose::SubjectAccess, &["disclosures"], request))?;
        Ok((out, receipt))
    }
}
