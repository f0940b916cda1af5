//! Expunging a program's data. An auditor approves; an administrator opens a
//! notice-and-copy period (90 days by default) during which every affected person
//! can download their records from the portal; after it, the same command erases:
//! people whose only records come from the program are expunged whole, and the
//! others lose the program's records (sealed under the program's key, which is
//! destroyed at the end). The work goes in chunks, each one transaction, so it can
//! stop anywhere and be run again; a second run after the end changes nothing and
//! returns the same certificate. The program key's destruction and the `expunged`
//! event are one transaction, and a journal (a meta row) names the expungements
//! under way, which [`Registry::recover`] finishes at the next start of any command.

use fairgate_core::access::Actor;
use fairgate_core::event::*;
use fairgate_core::expungement::{Certificate, ExpungementInput, Scope};
use fairgate_core::policy::{self, Action, Separation};
use fairgate_ledger::leaf::Header;
use jiff::civil::Date;
use jiff::Timestamp;

use super::{corrupt, Receipt, Registry, RegistryError, Result};

pub use fairgate_core::expungement::{DEFAULT_COPY_DAYS, MIN_COPY_DAYS};
/// People per transaction.
pub const ERASE_CHUNK: usize = 2_000;

/// The meta key of the program expungements under way: `[(program, admin)]`.
const JOURNAL: &str = "program-expungements-under-way";

/// A crash-test hook: when `FAIRGATE_FAILPOINT` names this step, the process dies
/// here (SIGABRT, as abrupt as a power cut for the database). Inert otherwise.
pub fn failpoint(step: &str) {
    if std::env::var_os("FAIRGATE_FAILPOINT").is_some_and(|v| v == step) {
        std::process::abort();
    }
}

/// Where a program-wide expungement stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum ProgramExpungement {
    /// The notice-and-copy period is open until `erase_on`.
    Noticed { program: String, erase_on: Date, subjects: u64, leaf_index: u64 },
    /// Stopped part-way (the caller asked to stop): run it again to finish.
    Stopped { program: String, done: u64, remaining: u64 },
    /// Done: everything of the program is erased. `fully` and `partly` count the
    /// people this run expunged whole and the people it removed records from.
    Done { program: String, fully: u64, partly: u64, certificate: Box<Certificate> },
}

/// A program whose records of a person will be erased, and when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PendingErasure {
    pub program: String,
    pub erase_on: Date,
}

impl Registry {
    /// The programs whose records of `id` are noticed for erasure and not yet erased,
    /// so the person can be told to download them. No personal data: not logged.
    pub fn pending_erasures(&self, id: fairgate_core::ids::SubjectId) -> Result<Vec<PendingErasure>> {
        let no = self.subject_no(id)?;
        let done: Vec<String> =
            self.store.system_leaves(EventKind::Expunged.code())?.into_iter().map(|(_, s)| s).collect();
        let mut out = Vec::new();
        for (leaf, scope) in self.store.system_leaves(EventKind::ExpungementNoticed.code())? {
            let Some(program) = scope.strip_prefix("program:") else { continue };
            if done.contains(&scope) || !self.store.has_program_records(program, no)? {
                continue;
            }
            let row = self.store.leaves_at(&[leaf])?.pop().ok_or_else(|| corrupt(format!("leaf {leaf} is missing")))?;
            if let Event::ExpungementNoticed(n) = self.open_leaf(&row, &self.system)? {
                out.push(PendingErasure { program: program.to_string(), erase_on: n.erase_on });
            }
        }
        Ok(out)
    }

    /// An auditor approves the expungement of a program's data (good for 30 days,
    /// long enough to open the notice period).
    pub fn approve_program_expungement(
        &self,
        now: Timestamp,
        auditor: &Actor,
        program: &str,
        input: &ExpungementInput,
    ) -> Result<Receipt> {
        policy::authorize(auditor, Action::ApproveProgramExpungement)?;
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        self.program_book()?.check_expunge(program, today)?;
        self.approve_scope(now, auditor, Scope::Program { program: program.to_string() }, input)
    }

    /// The notice of a program's expungement, if one was opened, with its leaf.
    pub fn program_expungement_notice(&self, program: &str) -> Result<Option<(u64, ExpungementNoticed)>> {
        let key = Scope::Program { program: program.to_string() }.key();
        let Some((leaf, _)) =
            self.store.system_leaves(EventKind::ExpungementNoticed.code())?.into_iter().rev().find(|(_, s)| *s == key)
        else {
            return Ok(None);
        };
        let row = self.store.leaves_at(&[leaf])?.pop().ok_or_else(|| corrupt(format!("leaf {leaf} is missing")))?;
        match self.open_leaf(&row, &self.system)? {
            Event::ExpungementNoticed(e) => Ok(Some((leaf, e))),
            _ => Err(corrupt(format!("leaf {leaf} is not an expungement notice"))),
        }
    }

    /// Open the notice-and-copy period of a program's expungement (administrators,
    /// with an auditor's approval): records are erased on `today + copy_days`, not
    /// before. Opening it twice is refused; the first notice stands.
    pub fn notice_program_expungement(
        &self,
        now: Timestamp,
        admin: &Actor,
        program: &str,
        input: &ExpungementInput,
        copy_days: i64,
    ) -> Result<ProgramExpungement> {
        policy::authorize(admin, Action::NoticeProgramExpungement)?;
        let (authority, reason) = self.cite(input)?;
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let erase_on = fairgate_core::expungement::erase_on(today, copy_days)?;
        self.program_book()?.check_expunge(program, today)?;
        if let Some((_, n)) = self.program_expungement_notice(program)? {
            return Err(RegistryError::NotPermitted(format!(
                "the expungement of program {program} is already noticed for {}: run `fairgate expunge --program {program}` on or after that day",
                n.erase_on
            )));
        }
        let scope = Scope::Program { program: program.to_string() };
        let approved_by = self.approval(&scope, now)?.ok_or_else(|| {
            RegistryError::NotPermitted(format!(
                "no auditor has approved expunging program {program} in the last {} days: an auditor must approve it first (POST /programs/{program}/expunge/approve, or name the auditor with `fairgate expunge --program {program} --approved-by AUDITOR`)",
                fairgate_core::expungement::APPROVAL_DAYS
            ))
        })?;
        policy::separate(Separation::Expungement, &approved_by, admin)?;
        let subjects = self.store.count_program_subjects(program)?;
        let event = Event::ExpungementNoticed(ExpungementNoticed {
            scope,
            erase_on,
            subjects,
            authority,
            reason,
            noticed_by: admin.clone(),
            approved_by,
        });
        let ((), receipt) = self.write(now, |b| b.append_system(event))?;
        Ok(ProgramExpungement::Noticed {
            program: program.to_string(),
            erase_on,
            subjects,
            leaf_index: receipt.leaf_index,
        })
    }

    /// Where the expungement of `program` stands, or carry it out once its notice
    /// period is over (administrators). `progress` gets (people done, people in all)
    /// after each chunk and returns `false` to stop there. Resumable and
    /// idempotent: see the module comment.
    pub fn expunge_program(
        &self,
        now: Timestamp,
        admin: &Actor,
        program: &str,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<ProgramExpungement> {
        self.expunge_program_waiting(now, admin, program, progress, super::CHECKPOINT_WAIT)
    }

    /// [`Registry::expunge_program`], waiting up to `wait` for a checkpoint that
    /// includes its event (the certificate's proof).
    fn expunge_program_waiting(
        &self,
        now: Timestamp,
        admin: &Actor,
        program: &str,
        progress: &mut dyn FnMut(u64, u64) -> bool,
        wait: std::time::Duration,
    ) -> Result<ProgramExpungement> {
        policy::authorize(admin, Action::ExpungeProgram)?;
        let key = Scope::Program { program: program.to_string() }.key();
        if let Some((leaf, _)) =
            self.store.system_leaves(EventKind::Expunged.code())?.into_iter().find(|(_, s)| *s == key)
        {
            // Finished before, perhaps without its checkpoint or clearing its journal.
            self.journal(program, None)?;
            self.checkpoint_including(now, leaf, wait)?;
            return self.done(program, leaf, 0, 0);
        }
        let Some((notice_leaf, notice)) = self.program_expungement_notice(program)? else {
            return Err(RegistryError::NotPermitted(format!(
                "no notice-and-copy period was opened for program {program}: open one first (fairgate expunge --program {program} --authority ID --reason TEXT)"
            )));
        };
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        if today < notice.erase_on {
            return Ok(ProgramExpungement::Noticed {
                program: program.to_string(),
                erase_on: notice.erase_on,
                subjects: notice.subjects,
                leaf_index: notice_leaf,
            });
        }
        let total = self.store.count_program_subjects(program)?;
        let (mut fully, mut partly, mut done) = (0u64, 0u64, 0u64);
        let (slot, live) = self.program_slot(program)?;
        // The journal: from here on, an interruption is finished by the next start
        // of any command (`recover`), never left half done.
        self.journal(program, Some(admin))?;
        failpoint("program-expunge:journaled");
        loop {
            // Rows are deleted as people are done, so each chunk starts from the first.
            let nos = self.store.program_subjects(program, 0, self.erase_chunk)?;
            if nos.is_empty() {
                break;
            }
            let (f, p) = self.erase_program_chunk(program, slot, &nos)?;
            fully += f;
            partly += p;
            done += nos.len() as u64;
            failpoint("program-expunge:chunk");
            if !progress(done, total) {
                let remaining = self.store.count_program_subjects(program)?;
                if remaining > 0 {
                    return Ok(ProgramExpungement::Stopped { program: program.to_string(), done, remaining });
                }
            }
        }
        let event = Event::Expunged(Expunged {
            scope: Scope::Program { program: program.to_string() },
            subjects: notice.subjects,
            authority: notice.authority,
            reason: notice.reason,
            expunged_by: admin.clone(),
            approved_by: notice.approved_by,
            backups_erased_by: self.backups_erased_by(now)?,
        });
        // The key's destruction and the event that certifies it: one transaction.
        let ((), receipt) = self.write(now, |b| {
            b.append_system(event)?;
            if live {
                b.destroy_program_key_in_commit(program);
            }
            Ok(())
        })?;
        self.load_program_keys()?;
        failpoint("program-expunge:committed");
        self.journal(program, None)?;
        self.checkpoint_including(now, receipt.leaf_index, wait)?;
        self.done(program, receipt.leaf_index, fully, partly)
    }

    /// The leaf of the event that certified `program`'s expungement, once written.
    fn expunged_leaf(&self, program: &str) -> Result<Option<u64>> {
        let key = Scope::Program { program: program.to_string() }.key();
        Ok(self.store.system_leaves(EventKind::Expunged.code())?.into_iter().find(|(_, s)| *s == key).map(|(l, _)| l))
    }

    /// Note (`Some(admin)`) or clear (`None`) a program expungement under way.
    fn journal(&self, program: &str, admin: Option<&Actor>) -> Result<()> {
        let mut open = self.journaled()?;
        open.retain(|(p, _)| p != program);
        if let Some(a) = admin {
            open.push((program.to_string(), a.clone()));
        }
        let text = serde_json::to_string(&open).map_err(corrupt)?;
        Ok(self.store.put_meta(JOURNAL, &text)?)
    }

    fn journaled(&self) -> Result<Vec<(String, Actor)>> {
        match self.store.meta(JOURNAL)? {
            Some(t) => serde_json::from_str(&t).map_err(|e| corrupt(format!("meta {JOURNAL}: {e}"))),
            None => Ok(Vec::new()),
        }
    }

    /// Finish what an interruption left half done: every program expungement that
    /// had begun erasing is carried to its end (erasure, key destruction and
    /// certificate), as its administrator asked. Every command runs this when it
    /// opens the database; it does nothing when nothing was interrupted. Returns
    /// the programs finished.
    pub fn recover(&self, now: Timestamp) -> Result<Vec<String>> {
        let mut finished = Vec::new();
        for (program, admin) in self.journaled()? {
            tracing::warn!(%program, "finishing a program expungement that was interrupted");
            // Without waiting for the checkpoint: the process killed mid-way may
            // still hold the signing lease (for up to 30 s), and a server must not
            // refuse to start for that. The erasure, the key's end and the event
            // are what must not be left half done; the certificate follows with
            // the next checkpoint (a serving process signs one within seconds).
            match self.expunge_program_waiting(now, &admin, &program, &mut |_, _| true, std::time::Duration::ZERO) {
                Ok(ProgramExpungement::Done { .. }) => finished.push(program),
                Err(RegistryError::Unavailable(why))
                    if self.expunged_leaf(&program)?.is_some()
                        && !self.journaled()?.iter().any(|(p, _)| *p == program) =>
                {
                    tracing::warn!(%program, %why, "the interrupted expungement is finished; its certificate waits for the next checkpoint");
                    finished.push(program);
                }
                Ok(other) => {
                    return Err(corrupt(format!("the interrupted expungement of {program} did not finish: {other:?}")))
                }
                Err(e) => return Err(e),
            }
        }
        Ok(finished)
    }

    fn done(&self, program: &str, leaf: u64, fully: u64, partly: u64) -> Result<ProgramExpungement> {
        Ok(ProgramExpungement::Done {
            program: program.to_string(),
            fully,
            partly,
            certificate: Box::new(self.certificate(leaf)?),
        })
    }

    /// The key slot of a program's records (`None` when it never had any), and
    /// whether its key still exists.
    fn program_slot(&self, program: &str) -> Result<(Option<u8>, bool)> {
        let row = self.store.program_keys()?.into_iter().find(|r| r.program == program);
        Ok((
            row.as_ref().map(|r| super::keyring::SLOT_PROGRAM_BASE + r.ordinal),
            row.is_some_and(|r| r.wrapped.is_some()),
        ))
    }

    /// Erase one chunk of a program's people in one transaction: (expunged whole,
    /// records removed).
    fn erase_program_chunk(&self, program: &str, slot: Option<u8>, nos: &[u64]) -> Result<(u64, u64)> {
        // The writer lock first: nothing can be appended to these people while their
        // rows are worked out, and nothing of them may stay in the writer's memory.
        let mut w = self.lock()?;
        w.cache.clear();
        let mut erased = Vec::new();
        let mut removals = Vec::new();
        let mut replace = Vec::new();
        let mut partly = 0;
        for &no in nos {
            let keys = self.store.subject_keys(no)?;
            let data = match keys.as_ref().and_then(|k| k.data_key.as_deref()) {
                Some(w) => self.unwrap_slot(no, super::SLOT_DATA, w)?,
                None => {
                    // Erased meanwhile: only the index row is left.
                    removals.push(crate::store::Projection::ProgramSubject {
                        program: program.to_string(),
                        subject_no: no,
                    });
                    continue;
                }
            };
            let is_program = |s: u8| Some(s) == slot;
            if self.only_program_records(no, slot)? {
                let (r, _) = self.unproject(no, &data, &|_| true)?;
                removals.extend(r);
                erased.push(no);
            } else {
                let (r, kept) = self.unproject(no, &data, &is_program)?;
                removals.extend(r);
                // Whatever was left of the row (a program record without its key).
                removals
                    .push(crate::store::Projection::ProgramSubject { program: program.to_string(), subject_no: no });
                replace.push(self.refold_compliance(no, &data, &kept)?);
                partly += 1;
            }
        }
        self.store.erase(&erased, &removals, &replace, false)?;
        self.forget_designation_stats();
        // Erased people and the program's records leave the 1:N gallery: it is built
        // again, without them, when next searched.
        self.invalidate_gallery();
        Ok((erased.len() as u64, partly))
    }

    /// Does every data leaf of the subject come from the program (its records, and
    /// the creation of the person it brought in)?
    fn only_program_records(&self, no: u64, slot: Option<u8>) -> Result<bool> {
        let leaves = self.store.subject_leaves(no, 0)?;
        let idx: Vec<u64> = leaves
            .iter()
            .filter(|(_, k)| !EventKind::from_code(*k).is_some_and(EventKind::is_access_log))
            .map(|(i, _)| *i)
            .collect();
        for row in self.store.leaves_at(&idx)? {
            let header = Header::decode(&row.leaf).map_err(|e| corrupt(format!("leaf {}: {e}", row.index)))?;
            let s = self.key_ids.open(&header.key_id).slot;
            let created = s == super::SLOT_DATA && header.kind == EventKind::SubjectCreated.code();
            if !created && Some(s) != slot {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
