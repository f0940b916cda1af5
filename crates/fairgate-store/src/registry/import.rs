//! Legacy import: validated rows written through the normal write path, merged by
//! document number through the blind index, tagged with their program and source
//! line, and resumable (each batch records how far the file has been written, in
//! the same transaction as its rows).

use fairgate_core::access::Actor;
use fairgate_core::event::{Event, ImportRecorded};
use fairgate_core::ids::SubjectId;
use fairgate_core::registration::{ImportRef, NewRegistration};
use fairgate_core::subject::NewSubject;
use fairgate_ledger::keys::blind_index;
use jiff::Timestamp;
use std::collections::HashMap;

use super::{Registry, Result};
use crate::project::DOCUMENT_DOMAIN;

/// Rows per committed batch: large, because each commit is a durable transaction
/// (measured: 2,000 rows per batch gave 27,550 rows/s, 50,000 gave 48,205, on
/// 200,000 rows; see BENCHMARKS.md).
pub const IMPORT_BATCH: usize = 50_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Rows written by this run.
    pub written: u64,
    /// Rows skipped because an earlier, interrupted run had written them.
    pub already: u64,
    /// New subjects created.
    pub subjects_created: u64,
    /// Rows that joined a person already known by their document number.
    pub merged: u64,
    /// The portal access code issued with each registration written by this run:
    /// (source line, registration number, code). Shown once; only keyed hashes are kept.
    #[serde(skip)]
    pub access_codes: Vec<(u64, String, String)>,
}

impl Registry {
    /// Write validated rows `(line, person, registration)` of the file whose SHA-256
    /// is `file`, into `program`. Rows up to the line an earlier run reached are
    /// skipped. `progress(done, total)` is called after each batch; returning `false`
    /// stops after that batch (what a killed process would leave).
    /// The last source line of the file with this SHA-256 (hex) that earlier runs
    /// wrote (0: none).
    pub fn import_through(&self, file: &str) -> Result<u64> {
        Ok(self.store.import_through(file)?.unwrap_or(0))
    }

    pub fn import_rows(
        &self,
        now: Timestamp,
        actor: &Actor,
        program: &str,
        file: &str,
        rows: Vec<(u64, NewSubject, NewRegistration)>,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<ImportReport> {
        fairgate_core::policy::authorize(actor, fairgate_core::policy::Action::Import)?;
        if self.program_book()?.get(program).is_none() {
            return Err(fairgate_core::Invalid::one(
                "program",
                format!("there is no program `{program}`: add it first (fairgate program add); imported records belong to one"),
            )
            .into());
        }
        if let Some((_, n)) = self.program_expungement_notice(program)? {
            return Err(fairgate_core::Invalid::one(
                "program",
                format!(
                    "the records of program `{program}` are to be erased on {}: nothing more can be imported into it",
                    n.erase_on
                ),
            )
            .into());
        }
        let through = self.store.import_through(file)?.unwrap_or(0);
        let total = rows.len() as u64;
        let mut report = ImportReport::default();
        let mut known: HashMap<[u8; 32], SubjectId> = HashMap::new();
        // People who appear once in the file are not kept in the writer's cache after
        // their row: a cache that fills up stops the pipeline to be cleared.
        let mut rows_of: HashMap<String, u32> = HashMap::new();
        for (_, person, _) in &rows {
            *rows_of.entry(person.document.number.clone()).or_default() += 1;
        }
        let mut pending = rows.into_iter().peekable();
        let mut done = 0u64;
        let mut go_on = true;
        self.write_stream(now, |b| {
            if !go_on {
                return Ok(false);
            }
            // Take the batch's rows, then look their documents up and draw their
            // registration numbers in one read each.
            let mut rows = Vec::with_capacity(self.import_batch.min(total as usize));
            while rows.len() < self.import_batch {
                let Some((line, person, reg)) = pending.next() else { break };
                done += 1;
                if line <= through {
                    report.already += 1;
                    continue;
                }
                let blind = blind_index(&self.blind, DOCUMENT_DOMAIN, &person.document.number);
                rows.push((line, person, reg, blind));
            }
            let unknown: Vec<[u8; 32]> = rows.iter().map(|r| r.3).filter(|b| !known.contains_key(b)).collect();
            let mut found: HashMap<[u8; 32], Vec<u64>> = HashMap::new();
            for (blind, nos) in unknown.iter().zip(self.store.subjects_by_documents(&unknown)?) {
                if !nos.is_empty() {
                    found.insert(*blind, nos);
                }
            }
            b.reserve_registration_numbers(rows.len())?;
            let mut n = 0;
            let mut last = None;
            for (line, person, mut reg, blind) in rows {
                let once = rows_of.get(&person.document.number) == Some(&1);
                let existing = match known.get(&blind) {
                    Some(id) => Some(*id),
                    None => found
                        .get(&blind)
                        .into_iter()
                        .flatten()
                        .filter_map(|no| self.store.subject_keys(*no).ok().flatten())
                        .find(|k| k.data_key.is_some())
                        .map(|k| SubjectId::from_bytes(k.subject_id)),
                };
                let id = match existing {
                    Some(id) => {
                        report.merged += 1;
                        id
                    }
                    None => {
                        report.subjects_created += 1;
                        b.new_subject(actor, person)?
                    }
                };
                known.insert(blind, id);
                reg.program = Some(program.to_string());
                reg.import = Some(ImportRef { file: file.to_string(), line });
                let number = b.new_registration(actor, id, reg, None, None)?;
                if let Some(code) = b.access_code(&number) {
                    report.access_codes.push((line, number.to_string(), code.to_string()));
                }
                if once {
                    b.forget(id);
                }
                report.written += 1;
                n += 1;
                last = Some(line);
            }
            if let Some(through) = last {
                // How far the file got, in the same commit, in a leaf no erasure touches.
                b.append_system(Event::ImportRecorded(ImportRecorded {
                    program: program.to_string(),
                    file: file.to_string(),
                    through,
                    rows: n as u64,
                }))?;
            }
            go_on = progress(done, total);
            Ok(pending.peek().is_some() && go_on)
        })?;
        Ok(report)
    }
}
