//! The registrants' portal on the registry: the one-time activation code issued with
//! every registration (in the same commit, whatever path records it), activation
//! (the person chooses a passphrase; the code is then void, as it is after 30 days),
//! re-issue by a supervisor (a ledger event with a reason, shown to the person),
//! sign-in with a registration number and the passphrase, portal sessions bound to
//! one person, and the
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
/// How long an activation code stays good if it is not used.
pub const ACTIVATION_DAYS: i64 = 30;
/// The shortest portal passphrase.
pub const MIN_PASSPHRASE_LEN: usize = 12;

/// Why an activation code did not open the portal. Only `Wrong` is said to someone
/// who does not hold the code; the others are said to its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivationRefused {
    /// The number or the code is not right.
    Wrong,
    /// The code was used (or voided by a new one) at this time.
    Used(Timestamp),
    /// The code is more than 30 days old.
    Expired,
}

fn check_passphrase(p: &str) -> Result<()> {
    let n = p.chars().count();
    if !(MIN_PASSPHRASE_LEN..=1024).contains(&n) {
        return Err(fairgate_core::Invalid::one(
            "passphrase",
            format!("must be {MIN_PASSPHRASE_LEN} to 1024 characters: choose a longer one, e.g. four words"),
        )
        .into());
    }
    Ok(())
}

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

    /// Open the person's portal: the registration number and the one-time activation
    /// code from their receipt, and a passphrase the person chooses now (argon2id).
    /// The code is void from then on, as it is 30 days after it was issued; every
    /// earlier portal session ends. `secret` (48 random bytes from the caller) makes
    /// the passphrase's salt and the session token. The activation is a ledger event
    /// the person sees, so an activation they did not make shows.
    pub fn activate_portal(
        &self,
        now: Timestamp,
        number: &str,
        code: &str,
        passphrase: &str,
        secret: [u8; 48],
    ) -> Result<std::result::Result<PortalSession, ActivationRefused>> {
        check_passphrase(passphrase)?;
        let blind = self.registration_blind(number);
        let salt =
            argon2::password_hash::SaltString::encode_b64(&secret[32..]).map_err(|e| super::corrupt(e.to_string()))?;
        // Hashed before anything is looked up, so that a wrong number, a wrong code
        // and a right one take the same time.
        let phc = super::accounts::hash_password(passphrase, &salt)?;
        let expected = self.code_hash(&blind, code);
        let Some(found) = self.store.portal_code(&blind)? else { return Ok(Err(ActivationRefused::Wrong)) };
        if !self.code_matches(&found.hash, &expected, code) {
            return Ok(Err(ActivationRefused::Wrong));
        }
        if let Some(used) = found.used_ms {
            return Ok(Err(ActivationRefused::Used(Timestamp::from_millisecond(used).map_err(super::corrupt)?)));
        }
        if now.as_millisecond() > found.issued_ms + ACTIVATION_DAYS * 86_400_000 {
            return Ok(Err(ActivationRefused::Expired));
        }
        let Some(row) = self.store.subject_keys(found.subject_no)?.filter(|r| r.data_key.is_some()) else {
            return Ok(Err(ActivationRefused::Wrong));
        };
        let id = SubjectId::from_bytes(row.subject_id);
        let outcome = self.write(now, |b| {
            // Checked again under the writer: two activations with one code cannot both win.
            if let Some(used) = b.reg.store.portal_code(&blind)?.and_then(|c| c.used_ms) {
                return Ok(Err(ActivationRefused::Used(Timestamp::from_millisecond(used).map_err(super::corrupt)?)));
            }
            b.activate(id, found.subject_no, phc)?;
            Ok(Ok(()))
        })?;
        match outcome {
            (Err(refused), _) => Ok(Err(refused)),
            (Ok(()), _) => {
                let mut raw = [0u8; 32];
                raw.copy_from_slice(&secret[..32]);
                self.open_portal_session(now, found.subject_no, raw).map(Ok)
            }
        }
    }

    /// Does the stored hash of a code match the one presented?
    fn code_matches(&self, stored: &[u8], expected: &[u8; 16], code: &str) -> bool {
        if stored.len() == expected.len() {
            constant_time_eq(stored, expected)
        } else {
            // Issued before keyed hashes: an argon2 PHC string.
            std::str::from_utf8(stored).is_ok_and(|h| super::accounts::verify_password(&normalise_code(code), h))
        }
    }

    fn open_portal_session(&self, now: Timestamp, no: u64, secret: [u8; 32]) -> Result<PortalSession> {
        let token = format!("fgp_{}", hex::encode(secret));
        let expires = now.as_millisecond() + SESSION_MINUTES * 60_000;
        self.store.put_portal_session(&super::accounts::hash_secret(&token), no, expires)?;
        let expires = Timestamp::from_millisecond(expires).map_err(super::corrupt)?;
        Ok(PortalSession { token, expires })
    }

    /// Sign a registrant in with a registration number of theirs and the passphrase
    /// they chose when they activated the portal. `secret` (32 random bytes from the
    /// caller) makes the session token. `None` when the number or the passphrase is
    /// wrong, the portal is not activated, or the person's records are gone; all of
    /// these take the time of one passphrase check.
    pub fn portal_sign_in(
        &self,
        now: Timestamp,
        number: &str,
        passphrase: &str,
        secret: [u8; 32],
    ) -> Result<Option<PortalSession>> {
        let blind = self.registration_blind(number);
        let account = match self.store.registration_subject(&blind)? {
            Some(no) => self.store.portal_account(no)?.map(|(phc, _)| (no, phc)),
            None => None,
        };
        let Some((no, phc)) = account else {
            super::accounts::spend_a_check(passphrase);
            return Ok(None);
        };
        if !super::accounts::verify_password(passphrase, &phc) {
            return Ok(None);
        }
        if self.store.subject_keys(no)?.is_none_or(|r| r.data_key.is_none()) {
            return Ok(None);
        }
        self.open_portal_session(now, no, secret).map(Some)
    }

    /// The person a live portal session is bound to. `None` when the session has
    /// expired or the person's records are no longer held.
    pub fn portal_subject(&self, now: Timestamp, token: &str) -> Result<Option<SubjectId>> {
        let Some(no) = self.store.portal_session(&super::accounts::hash_secret(token), now.as_millisecond())? else {
            return Ok(None);
        };
        Ok(self.store.subject_keys(no)?.filter(|r| r.data_key.is_some()).map(|r| SubjectId::from_bytes(r.subject_id)))
    }

    /// End a portal session: the token no longer opens anything.
    pub fn portal_sign_out(&self, token: &str) -> Result<()> {
        Ok(self.store.delete_portal_session(&super::accounts::hash_secret(token))?)
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
            .filter(|(_, k)| *k == EventKind::PersonalDataAccessed.code() || *k == EventKind::AccessAttempted.code())
            .map(|(i, _)| i)
            .collect();
        let grants = self.grants(row.subject_no, &access)?;
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let mut out = Vec::with_capacity(idx.len());
        for l in self.store.leaves_at(&idx)? {
            let header = fairgate_ledger::leaf::Header::decode(&l.leaf)
                .map_err(|e| super::corrupt(format!("leaf {}: {e}", l.index)))?;
            // A lookup that found the person is an access too.
            let e = match self.open_leaf(&l, &access)? {
                Event::PersonalDataAccessed(e) => Some(e),
                Event::AccessAttempted(a) => a.subject.map(|subject| fairgate_core::event::PersonalDataAccessed {
                    subject,
                    actor: a.actor,
                    purpose: a.purpose,
                    fields: vec!["subject_id".into()],
                    request: a.request,
                }),
                _ => None,
            };
            if let Some(e) = e {
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
    /// Issue the person's portal activation code for a registration just recorded in
    /// this batch: its keyed hash goes into the same commit.
    pub(super) fn issue_access_code(&mut self, number: &fairgate_core::ids::RegistrationNumber, leaf: u64) {
        use rand::RngCore;
        let code = access_code(self.rng.next_u64());
        let blind = self.reg.registration_blind(number.as_str());
        let issued_ms = self.now().as_millisecond();
        self.commit.portal_codes.push(crate::store::PortalCodeRow {
            leaf,
            hash: self.reg.code_hash(&blind, &code),
            issued_ms,
        });
        self.access_codes.push((number.clone(), code));
    }

    /// The leaf indexes and numbers of the person's registrations, oldest first.
    fn registration_leaves(&mut self, id: SubjectId) -> Result<Vec<(u64, fairgate_core::ids::RegistrationNumber)>> {
        let no = self.state(id)?.no;
        let (_, data) = self.reg.subject_keys_of(id)?;
        let mut out: Vec<_> = self
            .reg
            .subject_events(no, &data, &[EventKind::RegistrationRecorded])?
            .into_iter()
            .filter_map(|(leaf, e)| match e {
                Event::RegistrationRecorded(r) => Some((leaf, r.number)),
                _ => None,
            })
            .collect();
        out.sort_by_key(|(leaf, _)| *leaf);
        Ok(out)
    }

    /// The person activated their portal: the event, every code of theirs void,
    /// their passphrase set and their earlier sessions ended, in one commit.
    fn activate(&mut self, id: SubjectId, no: u64, phc: String) -> Result<()> {
        let at = self.now();
        let leaves = self.registration_leaves(id)?;
        let sealer = self.state(id)?.data.clone();
        self.append(
            no,
            super::SLOT_DATA,
            &sealer,
            &Event::PortalActivated(fairgate_core::event::PortalActivated { subject: id, at }),
        )?;
        for (leaf, _) in leaves {
            self.commit.portal_void.push((leaf, at.as_millisecond()));
        }
        self.commit.portal_accounts.push((no, Some((phc, at.as_millisecond()))));
        Ok(())
    }

    /// A supervisor issues the person a new activation code, with a reason the person
    /// will see: every older code and the portal passphrase are void and the person's
    /// portal sessions end. Returns the registration number and the new code (for a
    /// new receipt; shown once).
    pub fn reissue_access_code(
        &mut self,
        actor: &Actor,
        id: SubjectId,
        reason: &str,
    ) -> Result<(fairgate_core::ids::RegistrationNumber, String)> {
        use rand::RngCore;
        fairgate_core::policy::authorize(actor, fairgate_core::policy::Action::ReissueAccessCode)?;
        let reason = super::reason_text(reason)?;
        let leaves = self.registration_leaves(id)?;
        let Some((latest, number)) = leaves.last().cloned() else {
            return Err(super::RegistryError::NotPermitted(
                "this person has no registration, so no activation code: record a registration first".into(),
            ));
        };
        let (no, sealer) = {
            let s = self.state(id)?;
            (s.no, s.data.clone())
        };
        let at = self.now();
        self.append(
            no,
            super::SLOT_DATA,
            &sealer,
            &Event::AccessCodeReissued(fairgate_core::event::AccessCodeReissued {
                subject: id,
                reason,
                by: actor.clone(),
                at,
            }),
        )?;
        for (leaf, _) in &leaves {
            self.commit.portal_void.push((*leaf, at.as_millisecond()));
        }
        self.commit.portal_accounts.push((no, None));
        let code = access_code(self.rng.next_u64());
        let blind = self.reg.registration_blind(number.as_str());
        self.commit.portal_codes.push(crate::store::PortalCodeRow {
            leaf: latest,
            hash: self.reg.code_hash(&blind, &code),
            issued_ms: at.as_millisecond(),
        });
        Ok((number, code))
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
