//! Expungement of a subject: an auditor approves, an administrator executes. The
//! expungement event goes into the ledger first (it holds no personal data), then
//! the subject's data key is destroyed and every readable copy deleted, and a
//! certificate is signed that anyone can check against the log.

use fairgate_core::access::{Actor, Role};
use fairgate_core::event::*;
use fairgate_core::expungement::{
    Certificate, CertificateBody, ExpungementInput, Scope, APPROVAL_DAYS, CERTIFICATE_FORMAT,
};
use fairgate_core::ids::SubjectId;
use fairgate_core::policy::{self, Action, Separation};
use fairgate_ledger::checkpoint::NoteVerifier;
use fairgate_ledger::leaf::Header;
use jiff::Timestamp;

use super::{corrupt, Receipt, Registry, RegistryError, Result};

impl Registry {
    /// The public list of authorities expungements may cite, in the order listed.
    pub fn authorities(&self) -> Result<Vec<fairgate_core::expungement::Authority>> {
        let idx: Vec<u64> =
            self.store.system_leaves(EventKind::AuthorityListed.code())?.into_iter().map(|(i, _)| i).collect();
        let mut out = Vec::new();
        for l in self.store.leaves_at(&idx)? {
            if let Event::AuthorityListed(e) = self.open_leaf(&l, &self.system)? {
                out.push(e.authority);
            }
        }
        Ok(out)
    }

    /// Add an authority to the public list (administrators; a ledger event). An id
    /// is listed once and never changes meaning.
    pub fn list_authority(
        &self,
        now: Timestamp,
        admin: &Actor,
        authority: &fairgate_core::expungement::Authority,
    ) -> Result<Receipt> {
        policy::authorize(admin, Action::ManageAuthorities)?;
        let authority = authority.validate()?;
        if self.authorities()?.iter().any(|a| a.id == authority.id) {
            return Err(fairgate_core::Invalid::one(
                "id",
                format!("`{}` is already listed: an id never changes meaning; pick another", authority.id),
            )
            .into());
        }
        let event = Event::AuthorityListed(AuthorityListed { authority, listed_by: admin.clone() });
        let ((), receipt) = self.write(now, |b| b.append_system(event))?;
        Ok(receipt)
    }

    /// An expungement request's authority, resolved on the list, as the certificate
    /// will cite it, and its sealed reason.
    pub(super) fn cite(&self, input: &ExpungementInput) -> Result<(String, String)> {
        let (id, reason) = input.validate()?;
        let list = self.authorities()?;
        let Some(a) = list.iter().find(|a| a.id == id.trim()) else {
            let known = list.iter().map(|a| a.id.as_str()).collect::<Vec<_>>().join(", ");
            return Err(fairgate_core::Invalid::one(
                "authority",
                if known.is_empty() {
                    "must be the id of a listed authority, and none is listed yet: an administrator adds one (POST /authorities or `fairgate authority add`)".to_string()
                } else {
                    format!("must be the id of a listed authority (GET /authorities): one of {known}")
                },
            )
            .into());
        };
        Ok((a.citation(), reason))
    }
}

/// One person under a retention rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RetentionEntry {
    pub subject: SubjectId,
    /// The last day the records may be kept.
    pub keep_until: jiff::civil::Date,
    pub rule: String,
    /// Past it: erased by a run (listed by a dry run).
    pub due: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RetentionReport {
    pub on: jiff::civil::Date,
    pub dry_run: bool,
    pub listed: Vec<RetentionEntry>,
    pub erased: u64,
    /// The ledger leaves of the expungement events (each has its certificate).
    pub certificates: Vec<u64>,
    /// People whose access logs were destroyed, a year after their data.
    pub access_logs_erased: u64,
}

/// Why a certificate does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("the signature does not match the certificate: it was altered, or signed by another key")]
    Signature,
    #[error("the checkpoint in the certificate is not signed by this log's key")]
    Checkpoint,
    #[error("leaf {0} is not in the log at the certificate's checkpoint")]
    NotIncluded(u64),
    #[error("leaf {0} is not an expungement event")]
    NotAnExpungement(u64),
    #[error("{0}")]
    Log(String),
}

/// The report cells an event added to (all but the log-event counts, which anyone
/// can recompute from the clear headers), as rows to take off.
fn tallies_of(event: &Event, timestamp_ms: i64, out: &mut Vec<crate::store::Projection>) {
    fairgate_core::report::for_each_tally(event, crate::project::recorded_at(timestamp_ms), |t| {
        if t.metric != fairgate_core::report::Metric::LogEvents {
            let k = t.to_key();
            out.push(crate::store::Projection::TallyRemove {
                metric: k.metric.as_str().to_string(),
                dims: k.dims,
                month: k.month,
                count: 1,
            });
        }
    });
}

fn canonical(body: &CertificateBody) -> Vec<u8> {
    serde_json::to_vec(body).unwrap_or_default()
}

/// Rows to delete, and the events of the leaves that stay (with their indexes).
pub(super) type Unprojected = (Vec<crate::store::Projection>, Vec<(u64, Event)>);

impl Registry {
    /// An auditor approves the expungement of a subject (good for 30 days).
    pub fn approve_expungement(
        &self,
        now: Timestamp,
        auditor: &Actor,
        id: SubjectId,
        input: &ExpungementInput,
    ) -> Result<Receipt> {
        policy::authorize(auditor, Action::ApproveExpungement)?;
        self.subject_keys_of(id)?;
        self.approve_scope(now, auditor, Scope::Subject { subject: id.to_string() }, input)
    }

    pub(super) fn approve_scope(
        &self,
        now: Timestamp,
        auditor: &Actor,
        scope: Scope,
        input: &ExpungementInput,
    ) -> Result<Receipt> {
        let action = match scope {
            Scope::Subject { .. } => Action::ApproveExpungement,
            Scope::Program { .. } => Action::ApproveProgramExpungement,
        };
        policy::authorize(auditor, action)?;
        let (authority, reason) = self.cite(input)?;
        let event =
            Event::ExpungementApproved(ExpungementApproved { scope, authority, reason, approved_by: auditor.clone() });
        let ((), receipt) = self.write(now, |b| b.append_system(event))?;
        Ok(receipt)
    }

    /// The latest approval of `scope` still good at `now`, with its approver.
    pub(super) fn approval(&self, scope: &Scope, now: Timestamp) -> Result<Option<Actor>> {
        let key = scope.key();
        let Some((leaf, _)) =
            self.store.system_leaves(EventKind::ExpungementApproved.code())?.into_iter().rev().find(|(_, s)| *s == key)
        else {
            return Ok(None);
        };
        let row = self.store.leaves_at(&[leaf])?.pop().ok_or_else(|| corrupt(format!("leaf {leaf} is missing")))?;
        let header = Header::decode(&row.leaf).map_err(|e| corrupt(format!("leaf {leaf}: {e}")))?;
        let at = crate::project::recorded_at(header.timestamp_ms);
        let fresh = now.duration_since(at).as_secs() <= APPROVAL_DAYS * 86_400;
        match self.open_leaf(&row, &self.system)? {
            Event::ExpungementApproved(a) if fresh => Ok(Some(a.approved_by)),
            _ => Ok(None),
        }
    }

    /// Expunge a subject (administrators, with an auditor's approval): the
    /// expungement event is appended, the data key destroyed, every projection row
    /// and blind-index entry deleted, the WAL checkpointed, a checkpoint signed, and
    /// the certificate returned. The log still verifies.
    pub fn expunge_subject(
        &self,
        now: Timestamp,
        admin: &Actor,
        id: SubjectId,
        input: &ExpungementInput,
    ) -> Result<Certificate> {
        policy::authorize(admin, Action::Expunge)?;
        let (authority, reason) = self.cite(input)?;
        let (no, data) = self.subject_keys_of(id)?;
        let scope = Scope::Subject { subject: id.to_string() };
        let approved_by = self.approval(&scope, now)?.ok_or_else(|| {
            RegistryError::NotPermitted(format!(
                "no auditor has approved this expungement in the last {APPROVAL_DAYS} days: an auditor must approve it first (POST /subjects/{{id}}/expunge/approve)"
            ))
        })?;
        policy::separate(Separation::Expungement, &approved_by, admin)?;
        let event = Event::Expunged(Expunged {
            scope,
            subjects: 1,
            authority,
            reason,
            expunged_by: admin.clone(),
            approved_by,
            backups_erased_by: self.backups_erased_by(now)?,
        });
        // The event and the erasure are one transaction: a crash leaves both or
        // neither, and a retry finds the person erased (410), never a second event.
        let ((), receipt) = self.write(now, |b| {
            b.append_system(event)?;
            b.erase_in_commit(&[(no, data.clone())])
        })?;
        super::program_expungement::failpoint("subject-expunge:committed");
        self.checkpoint_including(now, receipt.leaf_index, super::CHECKPOINT_WAIT)?;
        self.certificate(receipt.leaf_index)
    }

    /// What a subject's data leaves added to the projections, for the leaves whose key
    /// slot `remove` picks (access-log leaves are never picked: they outlive the data),
    /// as rows to delete, and the events of the other readable data leaves. Tallies of
    /// log events stay: anyone can recount them from the clear headers.
    pub(super) fn unproject(
        &self,
        no: u64,
        data: &fairgate_ledger::keys::SecretKey,
        remove: &dyn Fn(u8) -> bool,
    ) -> Result<Unprojected> {
        let idx: Vec<u64> = self.store.subject_leaves(no, 0)?.into_iter().map(|(i, _)| i).collect();
        let mut removals = Vec::new();
        let mut kept = Vec::new();
        for row in self.store.leaves_at(&idx)? {
            let header = Header::decode(&row.leaf).map_err(|e| corrupt(format!("leaf {}: {e}", row.index)))?;
            let slot = self.key_ids.open(&header.key_id).slot;
            if slot == super::SLOT_ACCESS {
                continue;
            }
            let Some(key) = self.leaf_key(slot, no, Some(data), None)? else {
                // Its key is already gone (an interrupted expungement): only the index row is left.
                if remove(slot) {
                    removals.push(crate::store::Projection::SubjectLeaf {
                        subject_no: no,
                        leaf_index: row.index,
                        kind: header.kind,
                    });
                }
                continue;
            };
            let event = self.open_leaf(&row, &key)?;
            if !remove(slot) {
                kept.push((row.index, event));
                continue;
            }
            crate::project::project_rows(no, row.index, &event, &self.blind, &mut removals);
            tallies_of(&event, header.timestamp_ms, &mut removals);
        }
        Ok((removals, kept))
    }

    /// The retention of every live person on `on`: who falls due, when, and under
    /// which program's rule (the longest applies; someone still present never is).
    /// With `dry_run` nothing changes; otherwise everyone due before `on` is
    /// expunged, each with an expungement event and certificate, like any other.
    pub fn retention_run(
        &self,
        now: Timestamp,
        actor: &Actor,
        on: jiff::civil::Date,
        dry_run: bool,
    ) -> Result<RetentionReport> {
        policy::authorize(actor, Action::RunRetention)?;
        self.compact_stay_facts()?;
        let terms = self.program_terms()?;
        let mut listed = Vec::new();
        let mut failed: Option<RegistryError> = None;
        self.store.scan_compliance_facts(1024, &mut |chunk| {
            for row in chunk {
                match self.retention_of(&row, &terms, on) {
                    Ok(Some(e)) => listed.push(e),
                    Ok(None) => {}
                    Err(e) => {
                        failed = Some(e);
                        return false;
                    }
                }
            }
            true
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        listed.sort_by_key(|e: &RetentionEntry| (e.keep_until, e.subject.to_string()));
        let mut report =
            RetentionReport { on, dry_run, listed, erased: 0, certificates: Vec::new(), access_logs_erased: 0 };
        if dry_run {
            return Ok(report);
        }
        report.access_logs_erased = self.expire_access_logs(on)?;
        let system = Actor::new("system:retention", Role::Admin, "retention rules");
        // In chunks: the chunk's expungement events and erasures in one transaction.
        let due: Vec<&RetentionEntry> = report.listed.iter().filter(|e| e.due).collect();
        let backups_erased_by = self.backups_erased_by(now)?;
        for chunk in due.chunks(self.erase_chunk) {
            let mut people = Vec::with_capacity(chunk.len());
            for e in chunk {
                let (no, data) = self.subject_keys_of(e.subject)?;
                people.push((e.subject, no, data));
            }
            // Each chunk's events and erasures are one transaction.
            let (leaves, _) = self.write(now, |b| {
                let leaves = chunk
                    .iter()
                    .map(|e| {
                        let leaf = b.next_leaf();
                        b.append_system(Event::Expunged(Expunged {
                            scope: Scope::Subject { subject: e.subject.to_string() },
                            subjects: 1,
                            authority: format!("retention: {}", e.rule),
                            reason: format!("the retention period ended on {}", e.keep_until),
                            expunged_by: system.clone(),
                            approved_by: system.clone(),
                            backups_erased_by,
                        }))?;
                        Ok(leaf)
                    })
                    .collect::<Result<Vec<u64>>>()?;
                let erased: Vec<_> = people.iter().map(|(_, no, data)| (*no, data.clone())).collect();
                b.erase_in_commit(&erased)?;
                Ok(leaves)
            })?;
            report.certificates.extend(leaves);
            report.erased += people.len() as u64;
        }
        if report.erased > 0 {
            self.sign_checkpoint(now)?;
        }
        Ok(report)
    }

    /// Access logs are kept one year after the data they describe (EES Art 46): the
    /// access key of everyone expunged more than 365 days before `on` is destroyed,
    /// with the index of their access events and their data-use contributions.
    fn expire_access_logs(&self, on: jiff::civil::Date) -> Result<u64> {
        let mut done = 0;
        for (leaf, scope) in self.store.system_leaves(EventKind::Expunged.code())? {
            let Some(id) = scope.strip_prefix("subject:").and_then(|s| s.parse::<SubjectId>().ok()) else { continue };
            let Some(row) = self.store.subject_keys_by_id(id.as_bytes())? else { continue };
            let (None, Some(wrapped)) = (&row.data_key, &row.access_key) else { continue };
            let stored =
                self.store.leaves_at(&[leaf])?.pop().ok_or_else(|| corrupt(format!("leaf {leaf} is missing")))?;
            let header = Header::decode(&stored.leaf).map_err(|e| corrupt(format!("leaf {leaf}: {e}")))?;
            let erased_on = crate::project::recorded_at(header.timestamp_ms).to_zoned(jiff::tz::TimeZone::UTC).date();
            if on.since(erased_on).map_or(true, |s| s.get_days() <= 365) {
                continue;
            }
            let access = self.unwrap_slot(row.subject_no, super::SLOT_ACCESS, wrapped)?;
            let _w = self.lock()?;
            let removals = self.tally_removals(
                row.subject_no,
                &access,
                &[EventKind::PersonalDataAccessed, EventKind::AccessAttempted],
            )?;
            self.store.erase_access(row.subject_no, &removals)?;
            done += 1;
        }
        Ok(done)
    }

    fn retention_of(
        &self,
        row: &crate::store::ComplianceRow,
        terms: &[fairgate_core::obligation::Term],
        on: jiff::civil::Date,
    ) -> Result<Option<RetentionEntry>> {
        let (_, facts, dated) = self.open_row(row)?;
        let stays = fairgate_core::stay::stays_from_crossings(dated, on);
        let overstayed = fairgate_core::stay::standing(&stays, on)?.answer.overstay.is_some();
        Ok(fairgate_core::retention::due(terms, &facts, overstayed, on).map(|d| RetentionEntry {
            subject: SubjectId::from_bytes(row.subject_id),
            due: d.keep_until < on,
            keep_until: d.keep_until,
            rule: d.rule,
        }))
    }

    /// What a subject's events of `kinds` (opened with `key`) added to the report's
    /// tallies, except the log-event counts, as removals.
    fn tally_removals(
        &self,
        no: u64,
        key: &fairgate_ledger::keys::SecretKey,
        kinds: &[EventKind],
    ) -> Result<Vec<crate::store::Projection>> {
        let codes: Vec<u16> = kinds.iter().map(|k| k.code()).collect();
        let idx: Vec<u64> =
            self.store.subject_leaves(no, 0)?.into_iter().filter(|(_, k)| codes.contains(k)).map(|(i, _)| i).collect();
        let mut out = Vec::new();
        for row in self.store.leaves_at(&idx)? {
            let header = Header::decode(&row.leaf).map_err(|e| corrupt(format!("leaf {}: {e}", row.index)))?;
            tallies_of(&self.open_leaf(&row, key)?, header.timestamp_ms, &mut out);
        }
        Ok(out)
    }

    /// The certificate of the expungement recorded in `leaf_index`. Deterministic:
    /// the same leaf always gives the same certificate.
    pub fn certificate(&self, leaf_index: u64) -> Result<Certificate> {
        let row = self
            .store
            .leaves_at(&[leaf_index])?
            .pop()
            .ok_or_else(|| corrupt(format!("leaf {leaf_index} is missing")))?;
        let header = Header::decode(&row.leaf).map_err(|e| corrupt(format!("leaf {leaf_index}: {e}")))?;
        let Event::Expunged(e) = self.open_leaf(&row, &self.system)? else {
            return Err(corrupt(format!("leaf {leaf_index} is not an expungement")));
        };
        let checkpoint = self
            .store
            .checkpoints()?
            .into_iter()
            .filter(|c| c.size > leaf_index)
            .min_by_key(|c| c.size)
            .ok_or_else(|| corrupt(format!("no checkpoint includes leaf {leaf_index} yet")))?;
        let body = CertificateBody {
            format: CERTIFICATE_FORMAT.to_string(),
            log: self.origin().to_string(),
            scope: e.scope,
            subjects: e.subjects,
            authority: e.authority,
            expunged_at: crate::project::recorded_at(header.timestamp_ms),
            leaf_index,
            checkpoint: checkpoint.note,
            backups_erased_by: e.backups_erased_by,
        };
        let signature = self.signer.sign_bytes(&canonical(&body));
        Ok(Certificate { body, signature })
    }

    /// Every expungement certificate, oldest first. Public: no personal data.
    /// After a master key epoch is destroyed (the end of `keys rotate`): record that
    /// every erasure certified so far, and not yet complete, now reaches every backup.
    /// `None` when there was none to complete.
    pub fn complete_erasures(&self, now: Timestamp, destroyed_epoch: &str) -> Result<Option<Receipt>> {
        let done: std::collections::HashSet<u64> =
            self.erasure_completions()?.into_iter().flat_map(|(_, c)| c).collect();
        let pending: Vec<u64> = self
            .store
            .system_leaves(EventKind::Expunged.code())?
            .into_iter()
            .map(|(i, _)| i)
            .filter(|i| !done.contains(i))
            .collect();
        if pending.is_empty() {
            return Ok(None);
        }
        let event =
            Event::ErasureComplete(ErasureComplete { epoch: destroyed_epoch.to_string(), certificates: pending });
        Ok(Some(self.append_system_retrying(now, event)?))
    }

    /// Each erasure-complete record: when, and the expungement leaves it completes.
    pub fn erasure_completions(&self) -> Result<Vec<(Timestamp, Vec<u64>)>> {
        let idx: Vec<u64> =
            self.store.system_leaves(EventKind::ErasureComplete.code())?.into_iter().map(|(i, _)| i).collect();
        let mut out = Vec::new();
        for l in self.store.leaves_at(&idx)? {
            let header = Header::decode(&l.leaf).map_err(|e| corrupt(format!("leaf {}: {e}", l.index)))?;
            if let Event::ErasureComplete(e) = self.open_leaf(&l, &self.system)? {
                out.push((crate::project::recorded_at(header.timestamp_ms), e.certificates));
            }
        }
        Ok(out)
    }

    /// When the erasure a certificate (by its expungement leaf) records reached every
    /// backup, if it has.
    pub fn erasure_complete_at(&self, leaf_index: u64) -> Result<Option<Timestamp>> {
        Ok(self.erasure_completions()?.into_iter().find(|(_, c)| c.contains(&leaf_index)).map(|(at, _)| at))
    }

    /// Every expungement's certificate, oldest first.
    ///
    /// An expungement is listed once a signed checkpoint includes its event (its
    /// certificate's proof): for the few seconds before that, as after a restart
    /// while a killed process's signing lease runs out, it is left out rather than
    /// failing the whole list.
    pub fn certificates(&self) -> Result<Vec<Certificate>> {
        let signed = self.store.latest_checkpoint()?.map_or(0, |c| c.size);
        self.store
            .system_leaves(EventKind::Expunged.code())?
            .into_iter()
            .filter(|(leaf, _)| *leaf < signed)
            .map(|(leaf, _)| self.certificate(leaf))
            .collect()
    }
}

/// Check a certificate against a log: the signature under the log's key, the
/// checkpoint's signature, and an inclusion proof of the expungement leaf.
/// `leaf(index)` gives the stored leaf bytes and `proof(index, size)` an inclusion proof.
pub fn verify_certificate(
    cert: &Certificate,
    verifier_key: &str,
    leaf: &dyn Fn(u64) -> std::result::Result<Vec<u8>, String>,
    proof: &dyn Fn(u64, u64) -> std::result::Result<Vec<fairgate_ledger::merkle::Hash>, String>,
) -> std::result::Result<(), CertificateError> {
    let v = NoteVerifier::parse(verifier_key).map_err(|e| CertificateError::Log(e.to_string()))?;
    v.verify_bytes(&canonical(&cert.body), &cert.signature).map_err(|_| CertificateError::Signature)?;
    let cp = v.verify(&cert.body.checkpoint).map_err(|_| CertificateError::Checkpoint)?;
    let index = cert.body.leaf_index;
    if index >= cp.size {
        return Err(CertificateError::NotIncluded(index));
    }
    let bytes = leaf(index).map_err(CertificateError::Log)?;
    let header = Header::decode(&bytes).map_err(|e| CertificateError::Log(e.to_string()))?;
    if header.kind != EventKind::Expunged.code() {
        return Err(CertificateError::NotAnExpungement(index));
    }
    let path = proof(index, cp.size).map_err(CertificateError::Log)?;
    let hash = fairgate_ledger::merkle::leaf_hash(&bytes);
    if !fairgate_ledger::proof::verify_inclusion(&hash, index, cp.size, &path, &cp.root) {
        return Err(CertificateError::NotIncluded(index));
    }
    Ok(())
}

impl Registry {
    /// [`verify_certificate`] against this log.
    pub fn verify_certificate(&self, cert: &Certificate) -> std::result::Result<(), CertificateError> {
        verify_certificate(
            cert,
            &self.verifier_key(),
            &|i| {
                self.store
                    .leaves(i, 1)
                    .map_err(|e| e.to_string())?
                    .pop()
                    .map(|r| r.leaf)
                    .ok_or_else(|| format!("leaf {i} is not in this log"))
            },
            &|i, n| self.inclusion_proof(i, n).map_err(|e| e.to_string()),
        )
    }
}

impl super::Batch<'_> {
    /// Append an event about no person, sealed under the system key.
    pub(super) fn append_system(&mut self, event: Event) -> Result<()> {
        let key = self.reg.system_sealer.clone();
        self.append(super::SYSTEM_SUBJECT_NO, super::SLOT_SYSTEM, &key, &event)?;
        Ok(())
    }
}

impl super::Batch<'_> {
    /// Erase these people (subject number, data key) in this batch's own commit, so
    /// their expungement events and the erasure land together. The writer forgets
    /// every cached state after such a commit: it must keep nothing it could seal with.
    pub(super) fn erase_in_commit(&mut self, people: &[(u64, fairgate_ledger::keys::SecretKey)]) -> Result<()> {
        let mut removals = Vec::new();
        for (no, data) in people {
            removals.extend(self.reg.unproject(*no, data, &|_| true)?.0);
        }
        let e = self.commit.erase.get_or_insert_with(Default::default);
        e.subjects.extend(people.iter().map(|(no, _)| *no));
        e.removals.extend(removals);
        Ok(())
    }

    /// Destroy a program's key in this commit (the last step of its expungement,
    /// in one transaction with the event that certifies it).
    pub(super) fn destroy_program_key_in_commit(&mut self, program: &str) {
        self.commit.erase.get_or_insert_with(Default::default).program_keys.push(program.to_string());
    }
}
