//! The registrants' portal on the registry: the access code issued with every
//! registration (in the same commit, whatever path records it), sign-in with the
//! registration number and that code, portal sessions bound to one person, and the
//! accounting of disclosures (every access to a person's record: when, which agency
//! and role, for what purpose). Reads through the portal are themselves logged,
//! with the purpose subject-access.
//!
//! Access codes are 60 random bits. Each is stored, by its registration's leaf index,
//! as 128 bits of HMAC-SHA256 under a system key (which never sits beside the data:
//! the master key wraps it), so a copy of the database alone cannot test guesses
//! offline; online guesses are rate-limited.

use fairgate_core::access::{Actor, Purpose};
use fairgate_core::event::{Event, EventKind};
use fairgate_core::ids::SubjectId;
use fairgate_ledger::keys::blind_index;
use jiff::Timestamp;

use super::{Receipt, Registry, Result};
use crate::project::REGISTRATION_DOMAIN;

/// How long a portal session lasts.
pub const SESSION_MINUTES: i64 = 30;

const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const CODE_DOMAIN: &str = "portal-access-code";

/// An access code as people type it: letters and digits only, upper case.
pub fn normalise_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// A new access code, e.g. `K7QM-3XTP-9RWA`, from 64 random bits.
fn access_code(entropy: u64) -> String {
    let raw: String = (0..12).map(|i| CODE_ALPHABET[((entropy >> (5 * i)) & 31) as usize] as char).collect();
    format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..])
}

/// A signed-in registrant's session.
#[derive(Debug, Clone)]
pub struct PortalSession {
    pub token: String,
    pub expires: Timestamp,
}

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

    /// The stored form of a code: HMAC-SHA256 (under the portal key) of the code and
    /// its registration's blind index, cut to 128 bits (forging one is 2^128 work;
    /// guessing the code is what the rate limit bounds).
    fn code_hash(&self, blind: &[u8; 32], code: &str) -> [u8; 16] {
        let mac = blind_index(&self.portal, CODE_DOMAIN, &format!("{}:{}", hex::encode(blind), normalise_code(code)));
        let mut out = [0u8; 16];
        out.copy_from_slice(&mac[..16]);
        out
    }

    /// Sign a registrant in with the registration number and access code from their
    /// receipt. `secret` (32 random bytes from the caller) makes the session token.
    /// `None` when the number or the code is wrong, or the person's records are gone.
    pub fn portal_sign_in(
        &self,
        now: Timestamp,
        number: &str,
        code: &str,
        secret: [u8; 32],
    ) -> Result<Option<PortalSession>> {
        let blind = self.registration_blind(number);
        // Computed whether or not the number exists, so timing does not tell which do.
        let expected = self.code_hash(&blind, code);
        let Some((no, stored)) = self.store.portal_code(&blind)? else { return Ok(None) };
        let ok = if stored.len() == expected.len() {
            constant_time_eq(&stored, &expected)
        } else {
            // Issued before keyed hashes: an argon2 PHC string.
            std::str::from_utf8(&stored).is_ok_and(|h| super::accounts::verify_password(&normalise_code(code), h))
        };
        if !ok {
            return Ok(None);
        }
        if self.store.subject_keys(no)?.is_none_or(|r| r.data_key.is_none()) {
            return Ok(None);
        }
        let token = format!("fgp_{}", hex::encode(secret));
        let expires = now.as_millisecond() + SESSION_MINUTES * 60_000;
        self.store.put_portal_session(&super::accounts::hash_secret(&token), no, expires)?;
        let expires = Timestamp::from_millisecond(expires).map_err(super::corrupt)?;
        Ok(Some(PortalSession { token, expires }))
    }

    /// The person a live portal session is bound to. `None` when the session has
    /// expired or the person's records are no longer held.
    pub fn portal_subject(&self, now: Timestamp, token: &str) -> Result<Option<SubjectId>> {
        let Some(no) = self.store.portal_session(&super::accounts::hash_secret(token), now.as_millisecond())? else {
            return Ok(None);
        };
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
        fairgate_core::policy::authorize_read(actor, fairgate_core::policy::Read::Disclosures, Purpose::SubjectAccess)?;
        fairgate_core::policy::own_records(actor, &id)?;
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
        let ((), receipt) = self.write(now, |b| {
            b.record_access(
                id,
                actor,
                fairgate_core::policy::Read::Disclosures,
                Purpose::SubjectAccess,
                &["disclosures"],
                request,
            )
        })?;
        Ok((out, receipt))
    }
}

impl super::Batch<'_> {
    /// Issue the person's portal access code for a registration just recorded in
    /// this batch: its keyed hash goes into the same commit.
    pub(super) fn issue_access_code(&mut self, number: &fairgate_core::ids::RegistrationNumber, leaf: u64) {
        use rand::RngCore;
        let code = access_code(self.rng.next_u64());
        let blind = self.reg.registration_blind(number.as_str());
        self.commit.portal_codes.push((leaf, self.reg.code_hash(&blind, &code)));
        self.access_codes.push((number.clone(), code));
    }

    /// The access code issued in this batch with registration `number`, to print on
    /// the person's receipt. It is shown once and never stored in the clear.
    pub fn access_code(&self, number: &fairgate_core::ids::RegistrationNumber) -> Option<&str> {
        self.access_codes.iter().rev().find(|(n, _)| n == number).map(|(_, c)| c.as_str())
    }

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
        actor: &Actor,
        id: SubjectId,
        input: &fairgate_core::correction::CorrectionInput,
    ) -> Result<(u32, Timestamp)> {
        fairgate_core::policy::authorize(actor, fairgate_core::policy::Action::RequestCorrection)?;
        fairgate_core::policy::own_records(actor, &id)?;
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
        fairgate_core::policy::authorize(actor, fairgate_core::policy::Action::AnswerCorrection)?;
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

/// Compare without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
