//! The registry runs Fairgate's commands and reads. For a command, the core
//! validates and decides, this module seals each resulting event into a ledger leaf
//! under the subject's key, derives the projection rows, and hands everything to the
//! store as one atomic commit. For a read of personal data it first makes the access
//! event durable, then returns the data (fail closed).

pub mod accounts;
pub mod compliance;
pub mod expungement;
pub mod import;
pub mod keyring;
pub mod law_enforcement;
pub mod portal;
pub mod program_expungement;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use fairgate_core::access::{Actor, Purpose};
use fairgate_core::crossing::{check_sorted_sequence, Crossing, CrossingFact, CrossingInput};
use fairgate_core::document::document_number;
use fairgate_core::event::*;
use fairgate_core::ids::{RegistrationNumber, SubjectId};
use fairgate_core::place::{default_places, PlaceBook, PlaceKind};
use fairgate_core::policy::{self, Action, Read};
use fairgate_core::program::impact::{Impact, Person};
use fairgate_core::program::lang::ProgramSpec;
use fairgate_core::program::lifecycle::ProgramBook;
use fairgate_core::program::Program;
use fairgate_core::registration::{NewRegistration, RegistrationInput};
use fairgate_core::stay::{
    calculate, overstay_port, standing, standing_with, stays_from_crossings, Calculator, DatedCrossing, Standing,
    StayAnswer, StayRule,
};
use fairgate_core::subject::{NewSubject, SubjectInput};
use fairgate_core::timeline::Timeline;
use fairgate_core::Invalid;
use fairgate_ledger::checkpoint::{Checkpoint, NoteSigner};
use fairgate_ledger::keys::{blind_index, wrap, KeyIdCipher, KeyRef, RecordSealer, SecretKey};
use fairgate_ledger::leaf::{self, Header, Sealer};
use fairgate_ledger::merkle::{leaf_hash, Frontier, Hash};
use fairgate_ledger::LedgerError;
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::facts;
use crate::project::{project, project_rows, recorded_at, DOCUMENT_DOMAIN, REGISTRATION_DOMAIN};
use crate::store::{
    CheckpointRow, Commit, LeafRow, NodeRow, Projection, StayFactsRow, Store, StoreError, SubjectKeysRow,
};
use crate::tree::{StoredTree, STORED_LEVEL_STEP};
use fairgate_core::report::{for_each_tally, month_label, Metric};
use fairgate_ledger::proof::{consistency_proof, inclusion_proof, verify_consistency, ProofError};

/// Key slots: which of a subject's keys sealed a leaf.
pub const SLOT_DATA: u8 = 1;
/// Access events live under their own key so they can be kept longer than the data
/// they describe (and erased on their own schedule).
pub const SLOT_ACCESS: u8 = 2;
/// Events that are about no person (programs) are sealed under the system key,
/// with subject number 0.
pub const SLOT_SYSTEM: u8 = 3;
const SYSTEM_SUBJECT_NO: u64 = 0;

/// A reason a person gave for a decision: required, bounded, plain text.
fn reason_text(reason: &str) -> Result<String> {
    let t = reason.trim();
    if t.is_empty() {
        return Err(Invalid::one("reason", "is required: say in words why").into());
    }
    if t.chars().count() > 2000 || t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Invalid::one("reason", "must be plain text of at most 2000 characters").into());
    }
    Ok(t.to_string())
}

/// Leaves per compaction step of the stay facts (about a second's work).
const COMPACTION_CHUNK: u64 = 1 << 18;

/// Decrypted subject states kept between commands; cleared when it grows past this.
const CACHE_LIMIT: usize = 200_000;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("no subject has the id {0}: check the id returned by POST /subjects")]
    UnknownSubject(SubjectId),
    #[error("the records of subject {0} have been erased")]
    Erased(SubjectId),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A program transition the lifecycle rules refuse.
    #[error(transparent)]
    Refused(#[from] fairgate_core::program::lifecycle::Refusal),
    /// The authorization policy refuses (`fairgate_core::policy`): the wrong role,
    /// a purpose the role or the read does not allow, or one person taking both
    /// steps of a separated pair.
    #[error(transparent)]
    Forbidden(#[from] policy::Refusal),
    /// A rule about the facts on record refuses (no grant in effect, an approval missing).
    #[error("{0}")]
    NotPermitted(String),
    /// A program file that does not compile.
    #[error(transparent)]
    Program(#[from] fairgate_core::program::lang::CompileErrors),
    /// A designation review the rules refuse.
    #[error(transparent)]
    Review(#[from] fairgate_core::designation::ReviewRefusal),
    /// A determination the rules refuse.
    #[error(transparent)]
    Determination(#[from] fairgate_core::obligation::DeterminationRefusal),
}

/// A program added as a draft.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AddedProgram {
    pub id: String,
    pub version: u32,
    pub impact: Impact,
    /// `file` or `database`.
    pub population_source: String,
}

type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// Where a command's facts landed: the index of its first leaf and the tree size
/// that includes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Receipt {
    pub leaf_index: u64,
    pub tree_size: u64,
}

#[derive(Clone)]
struct SubjectState {
    no: u64,
    /// The data key itself: a program's records are sealed under a key derived from it.
    data_key: SecretKey,
    /// Ready to seal under the subject\'s data key and access-log key.
    data: Arc<Sealer>,
    access: Arc<Sealer>,
    /// Sorted by time: what the exit-follows-entry rule needs.
    crossings: Vec<CrossingFact>,
}

impl SubjectState {
    fn new(no: u64, data: &SecretKey, access: &SecretKey, dated: &[DatedCrossing]) -> Self {
        SubjectState {
            no,
            data_key: data.clone(),
            data: Arc::new(Sealer::new(data)),
            access: Arc::new(Sealer::new(access)),
            crossings: dated.iter().map(|c| CrossingFact { at: c.at, direction: c.direction }).collect(),
        }
    }
}

/// The sealed stay-facts row of a subject whose crossings (sorted by time) run
/// through leaf `through_leaf`.
fn facts_row(subject_no: u64, data: &SecretKey, through_leaf: u64, dated: &[DatedCrossing]) -> Projection {
    let mut buf = Vec::with_capacity(32 * dated.len() + 1);
    facts::encode(dated, &mut buf);
    let sealed = facts::sealer(data).seal(through_leaf, &facts::aad(subject_no), &buf);
    zeroize::Zeroize::zeroize(&mut buf);
    Projection::StayFacts { subject_no, through_leaf, sealed }
}

struct Writer {
    frontier: Frontier,
    rng: StdRng,
    cache: HashMap<SubjectId, SubjectState>,
    next_subject_no: u64,
}

impl Writer {
    /// A new batch building on the writer's current state.
    fn batch<'a>(&'a mut self, reg: &'a Registry, now: Timestamp) -> Batch<'a> {
        Batch {
            reg,
            now,
            rng: &mut self.rng,
            cache: &mut self.cache,
            overlay: HashMap::new(),
            frontier: self.frontier.clone(),
            next_subject_no: self.next_subject_no,
            commit: Commit { expected_size: self.frontier.size(), ..Commit::default() },
            new_registrations: HashSet::new(),
            reserved_numbers: Vec::new(),
            new_program_keys: Vec::new(),
            tallies: Vec::new(),
            payload: Vec::with_capacity(512),
            program_events: Vec::new(),
            designation_events: Vec::new(),
            access_codes: Vec::new(),
        }
    }

    /// Take on the state a batch produced, once its commit succeeded (or, in a
    /// stream, is queued in order).
    fn advance(&mut self, a: Advance) {
        self.frontier = a.frontier;
        self.next_subject_no = a.next_subject_no;
        self.cache.extend(a.overlay);
    }
}

/// What a batch changes in the writer besides the rows it commits.
struct Advance {
    overlay: HashMap<SubjectId, SubjectState>,
    frontier: Frontier,
    next_subject_no: u64,
    /// Program keys the batch made: (ordinal, program, key).
    program_keys: Vec<(u8, String, SecretKey)>,
}

pub struct Registry {
    store: Arc<dyn Store>,
    masters: RwLock<keyring::MasterKeys>,
    key_source: Option<keyring::KeySource>,
    program_keys: RwLock<keyring::ProgramKeys>,
    key_ids: KeyIdCipher,
    blind: SecretKey,
    system: SecretKey,
    /// Keys the hashes of portal access codes.
    portal: SecretKey,
    system_sealer: Arc<Sealer>,
    signer: NoteSigner,
    places: PlaceBook,
    writer: Mutex<Writer>,
    cache_limit: usize,
    compaction_chunk: u64,
    import_batch: usize,
    erase_chunk: usize,
}

fn key_label(subject_no: u64, slot: u8) -> Vec<u8> {
    format!("fairgate subject key v1 {subject_no} {slot}").into_bytes()
}

/// Open and decode a subject's sealed stay facts.
fn open_facts(sealer: &RecordSealer, subject_no: u64, through: u64, sealed: &[u8]) -> Result<Vec<DatedCrossing>> {
    let mut plain = sealer
        .open(through, &facts::aad(subject_no), sealed)
        .map_err(|e| corrupt(format!("stay facts of subject {subject_no}: {e}")))?;
    let dated = facts::decode(&plain).map_err(|e| corrupt(format!("subject {subject_no}: {e}")));
    zeroize::Zeroize::zeroize(&mut plain);
    dated
}

fn corrupt(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Corrupt(e.to_string())
}

/// Build the place book, resolving each place's IANA zone.
fn place_book(store: &dyn Store) -> Result<PlaceBook> {
    let mut places = store.places()?;
    if places.is_empty() {
        store.put_places(&default_places())?;
        places = store.places()?;
    }
    PlaceBook::resolve(places).map_err(corrupt)
}

fn proof_error(e: ProofError<StoreError>) -> RegistryError {
    match e {
        ProofError::Source(s) => RegistryError::Store(s),
        other => RegistryError::Invalid(Invalid::one("index", other.to_string())),
    }
}

fn frontier_of(store: &dyn Store) -> Result<Frontier> {
    Ok(crate::tree::frontier(store, store.tree_size()?)?)
}

impl Registry {
    /// Open the registry over `store`. `origin` names the log in its checkpoints the
    /// first time; afterwards the stored origin is kept. `seed` seeds the random
    /// number generator (pass OS randomness; tests pass fixed seeds).
    pub fn open(
        store: Arc<dyn Store>,
        masters: impl Into<keyring::MasterKeys>,
        signing_seed: &SecretKey,
        origin: &str,
        seed: [u8; 32],
    ) -> Result<Self> {
        let masters: keyring::MasterKeys = masters.into();
        let mut rng = StdRng::from_seed(seed);
        let places = place_book(store.as_ref())?;
        let origin = match store.meta("origin")? {
            Some(o) => o,
            None => {
                store.put_meta("origin", origin)?;
                origin.to_string()
            }
        };
        let mut system_key = |name: &str| -> Result<SecretKey> {
            let label = format!("fairgate system key v1 {name}").into_bytes();
            let wrapped = match store.system_key(name)? {
                Some(w) => w,
                None => store.put_system_key(
                    name,
                    &wrap(masters.wrapping(), &SecretKey::generate(&mut rng), &label, &mut rng),
                )?,
            };
            keyring::unwrap_any(&masters, &wrapped, &label)
                .map_err(|_| corrupt(format!("system key {name} does not unwrap: is this the right master.key?")))
        };
        let key_ids = KeyIdCipher::new(&system_key("key-id")?);
        let blind = system_key("blind-index")?;
        let system = system_key("system-data")?;
        let portal = system_key("portal-code")?;
        let frontier = frontier_of(store.as_ref())?;
        let next_subject_no = store.max_subject_no()? + 1;
        let reg = Self {
            signer: NoteSigner::from_seed(origin, signing_seed.expose()),
            writer: Mutex::new(Writer { frontier, rng, cache: HashMap::new(), next_subject_no }),
            store,
            masters: RwLock::new(masters),
            key_source: None,
            program_keys: RwLock::new(Default::default()),
            key_ids,
            blind,
            system_sealer: Arc::new(Sealer::new(&system)),
            system,
            portal,
            places,
            cache_limit: CACHE_LIMIT,
            compaction_chunk: COMPACTION_CHUNK,
            import_batch: import::IMPORT_BATCH,
            erase_chunk: program_expungement::ERASE_CHUNK,
        };
        reg.load_program_keys()?;
        Ok(reg)
    }

    /// Where to read the master keys again when a stored key does not unwrap (another
    /// process started or finished a rotation). Without one, only the keys given to
    /// `open` are known.
    pub fn with_key_source(mut self, source: keyring::KeySource) -> Self {
        self.key_source = Some(source);
        self
    }

    /// Keep at most `n` decrypted subject states between commands (tests use a
    /// small limit to exercise the reload path).
    pub fn with_cache_limit(mut self, n: usize) -> Self {
        self.cache_limit = n;
        self
    }

    /// Rows per committed batch of a legacy import (tests use small ones).
    pub fn with_import_batch(mut self, n: usize) -> Self {
        self.import_batch = n.max(1);
        self
    }

    /// People per transaction of a program-wide expungement or a retention run (tests use small ones).
    pub fn with_erase_chunk(mut self, n: usize) -> Self {
        self.erase_chunk = n.max(1);
        self
    }

    /// Compact the stay facts in steps of `n` leaves (tests use tiny steps).
    pub fn with_compaction_chunk(mut self, n: u64) -> Self {
        self.compaction_chunk = n.max(1);
        self
    }

    /// The raw cells of a public tally, before suppression (`report::publish` is the
    /// only way they reach the report). Counts only: nothing is disclosed, nothing logged.
    pub fn tallies(&self, metric: Metric) -> Result<Vec<([String; 3], String, u64)>> {
        Ok(self.store.tallies(metric.as_str())?)
    }

    /// How many people have ever been recorded (for progress bars).
    pub fn subject_count(&self) -> Result<u64> {
        Ok(self.store.subject_count()?)
    }

    pub fn places(&self) -> &PlaceBook {
        &self.places
    }

    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The checkpoint verifier key, in signed-note vkey form.
    pub fn verifier_key(&self) -> String {
        self.signer.verifier_key()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Writer>> {
        let mut w = self.writer.lock().map_err(|_| corrupt("writer lock poisoned"))?;
        // Another process (a CLI command beside the server) may have appended.
        if self.store.tree_size()? != w.frontier.size() {
            w.frontier = frontier_of(self.store.as_ref())?;
            w.cache.clear();
            w.next_subject_no = self.store.max_subject_no()? + 1;
            // It may have started a key rotation or destroyed a program's key.
            self.reload_masters();
            self.load_program_keys()?;
        }
        Ok(w)
    }

    /// Run one command: everything `f` records is committed atomically, or, if `f`
    /// or the commit fails, nothing is.
    pub fn write<T>(&self, now: Timestamp, f: impl FnOnce(&mut Batch<'_>) -> Result<T>) -> Result<(T, Receipt)> {
        let mut guard = self.lock()?;
        let w = &mut *guard;
        let start = w.frontier.size();
        let mut batch = w.batch(self, now);
        let value = f(&mut batch)?;
        let (commit, advance) = batch.into_parts();
        if !commit.leaves.is_empty() {
            self.store.commit(&commit)?;
            self.remember_program_keys(&advance.program_keys)?;
            if w.cache.len() + advance.overlay.len() > self.cache_limit {
                w.cache.clear();
            }
            w.advance(advance);
        }
        Ok((value, Receipt { leaf_index: start, tree_size: w.frontier.size() }))
    }

    /// Run a stream of commands for bulk loads. `fill` adds commands to each batch it
    /// is given and returns `false` once it has nothing more. Each batch commits
    /// atomically and in order; while one batch is committed the next is prepared on
    /// this thread, so a bulk load uses two cores. The stream stops at the first
    /// failure: the batches before it stay committed, nothing after it is written.
    /// Other writers wait until the stream ends.
    pub fn write_stream(
        &self,
        now: Timestamp,
        mut fill: impl FnMut(&mut Batch<'_>) -> Result<bool>,
    ) -> Result<Receipt> {
        let mut guard = self.lock()?;
        let w = &mut *guard;
        let start = w.frontier.size();
        let mut more = true;
        while more {
            // A segment runs until the stream ends or the cache must be cleared; the
            // committer is drained between segments, so a state is only ever loaded
            // from the store after every batch that touched it has been committed.
            let segment = std::thread::scope(|scope| -> Result<()> {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Commit>(1);
                let committer = scope.spawn(move || -> Result<()> {
                    for commit in rx {
                        self.store.commit(&commit)?;
                    }
                    Ok(())
                });
                let prepared = (|| -> Result<()> {
                    while more && w.cache.len() <= self.cache_limit {
                        let mut batch = w.batch(self, now);
                        more = fill(&mut batch)?;
                        let (commit, advance) = batch.into_parts();
                        if commit.leaves.is_empty() {
                            continue;
                        }
                        // Later batches seal with these keys before this one is committed.
                        self.remember_program_keys(&advance.program_keys)?;
                        if tx.send(commit).is_err() {
                            return Ok(()); // the committer failed; its error is reported below
                        }
                        // Later batches build on this one; if its commit fails, the
                        // stream resets the writer from the store below.
                        w.advance(advance);
                    }
                    Ok(())
                })();
                drop(tx);
                let committed = committer.join().map_err(|_| corrupt("the committer thread panicked"))?;
                prepared.and(committed)
            });
            if let Err(e) = segment {
                // Forget what was prepared but not committed.
                self.reset_program_keys()?;
                w.frontier = frontier_of(self.store.as_ref())?;
                w.cache.clear();
                w.next_subject_no = self.store.max_subject_no()? + 1;
                return Err(e);
            }
            if w.cache.len() > self.cache_limit {
                w.cache.clear();
            }
        }
        Ok(Receipt { leaf_index: start, tree_size: w.frontier.size() })
    }

    fn load_state(&self, id: SubjectId) -> Result<SubjectState> {
        let row = self.store.subject_keys_by_id(id.as_bytes())?.ok_or(RegistryError::UnknownSubject(id))?;
        let (data, access) = self.unwrap_keys(&row)?.ok_or(RegistryError::Erased(id))?;
        let dated = self.facts_of(row.subject_no, &data)?;
        Ok(SubjectState::new(row.subject_no, &data, &access, &dated))
    }

    /// A subject's crossings as stay accounting needs them, from the stay facts.
    /// Without any access logging: callers log.
    fn dated_of(&self, id: SubjectId) -> Result<Vec<DatedCrossing>> {
        let row = self.store.subject_keys_by_id(id.as_bytes())?.ok_or(RegistryError::UnknownSubject(id))?;
        let (data, _) = self.unwrap_keys(&row)?.ok_or(RegistryError::Erased(id))?;
        self.facts_of(row.subject_no, &data)
    }

    /// A subject's crossings sorted by time: the sealed stay facts, plus the
    /// crossings appended since the facts were last compacted (read from their leaves).
    fn facts_of(&self, subject_no: u64, data: &SecretKey) -> Result<Vec<DatedCrossing>> {
        // The mark first: a compaction in between then only causes duplicates, removed below.
        let mark = self.store.stay_facts_through()?;
        let mut dated = self.sealed_facts(subject_no, data)?.1;
        let recent: Vec<u64> = self
            .store
            .subject_leaves(subject_no, mark)?
            .into_iter()
            .filter(|(_, k)| *k == EventKind::CrossingRecorded.code())
            .map(|(i, _)| i)
            .collect();
        if !recent.is_empty() {
            for l in self.store.leaves_at(&recent)? {
                if let Event::CrossingRecorded(c) = self.open_leaf(&l, data)? {
                    dated.push(self.dated(&c.crossing));
                }
            }
            dated.sort_by_key(|c| c.at);
            dated.dedup_by_key(|c| c.at);
        }
        Ok(dated)
    }

    /// A subject's sealed stay facts as stored: the last crossing leaf folded in (0
    /// when there are none) and the crossings.
    fn sealed_facts(&self, subject_no: u64, data: &SecretKey) -> Result<(u64, Vec<DatedCrossing>)> {
        match self.store.stay_facts(subject_no)? {
            Some((through, sealed)) => Ok((through, open_facts(&facts::sealer(data), subject_no, through, &sealed)?)),
            None => Ok((0, Vec::new())),
        }
    }

    /// Fold every crossing appended since the last compaction into the sealed stay
    /// facts, so that the overstay sweep reads one row per subject. The serving
    /// process runs it in the background; the sweep runs it first. Returns how many
    /// crossings were folded in. It works in chunks of `COMPACTION_CHUNK` leaves,
    /// each committed with the new mark in one transaction; writes wait for the
    /// chunk in progress only, so a large backlog does not stall commands.
    pub fn compact_stay_facts(&self) -> Result<u64> {
        let size = self.lock()?.frontier.size();
        let mut folded = 0;
        loop {
            let _writer = self.lock()?;
            // Read under the lock: another compaction may have moved the mark.
            let from = self.store.stay_facts_through()?;
            if from >= size {
                return Ok(folded);
            }
            folded += self.compact_chunk(from, (from + self.compaction_chunk).min(size))?;
        }
    }

    /// Fold the crossings of leaves `from..end` into the stay facts and move the mark
    /// to `end`, in one transaction. The caller holds the writer lock. Keys are looked
    /// up afresh for each chunk, so a subject erased in between stays erased.
    fn compact_chunk(&self, from: u64, end: u64) -> Result<u64> {
        let mut keys = HashMap::new();
        let mut fresh: HashMap<u64, Vec<(u64, DatedCrossing)>> = HashMap::new();
        let mut fresh_compliance: HashMap<u64, Vec<(u64, Event)>> = HashMap::new();
        let compliance_kinds = compliance::folded_codes();
        let mut folded = 0;
        let mut at = from;
        while at < end {
            let rows = self.store.leaves(at, (end - at).min(10_000))?;
            if rows.is_empty() {
                return Err(corrupt(format!("the ledger has a gap at leaf {at}")));
            }
            at += rows.len() as u64;
            for row in &rows {
                let header = Header::decode(&row.leaf).map_err(|e| corrupt(format!("leaf {}: {e}", row.index)))?;
                let crossing = header.kind == EventKind::CrossingRecorded.code();
                if !crossing && !compliance_kinds.contains(&header.kind) {
                    continue;
                }
                let r = self.key_ids.open(&header.key_id);
                let no = r.subject_no;
                let Some((data, _)) = self.cached_keys(&mut keys, no)? else { continue }; // erased
                                                                                          // A program's record whose key was destroyed is gone: skip it.
                let Some(key) = self.leaf_key(r.slot, no, Some(data), None)? else { continue };
                match self.open_leaf(row, &key)? {
                    Event::CrossingRecorded(c) => {
                        fresh.entry(no).or_default().push((row.index, self.dated(&c.crossing)));
                        folded += 1;
                    }
                    event => fresh_compliance.entry(no).or_default().push((row.index, event)),
                }
            }
        }
        let mut subjects: Vec<u64> = fresh.keys().copied().collect();
        subjects.sort_unstable();
        let mut out = Vec::with_capacity(subjects.len() + 1);
        for no in subjects {
            let (Some(new), Some(Some((data, _)))) = (fresh.remove(&no), keys.get(&no)) else { continue };
            let (row_through, mut dated) = self.sealed_facts(no, data)?;
            let mut through = row_through;
            // Leaves already in the row (a compaction that was interrupted) are not folded twice.
            for (leaf, c) in new.into_iter().filter(|(leaf, _)| *leaf > row_through || row_through == 0) {
                through = through.max(leaf);
                dated.push(c);
            }
            dated.sort_by_key(|c| c.at);
            out.push(facts_row(no, data, through, &dated));
        }
        let mut subjects: Vec<u64> = fresh_compliance.keys().copied().collect();
        subjects.sort_unstable();
        for no in subjects {
            let (Some(new), Some(Some((data, _)))) = (fresh_compliance.remove(&no), keys.get(&no)) else { continue };
            out.push(self.fold_compliance(no, data, new)?);
        }
        out.push(Projection::StayFactsThrough { through: end });
        self.store.apply_projections(&out)?;
        Ok(folded)
    }

    /// A subject's data and access keys, each `None` once destroyed, looked up once per `cache`.
    fn partial_keys<'c>(
        &self,
        cache: &'c mut HashMap<u64, (Option<SecretKey>, Option<SecretKey>)>,
        subject_no: u64,
    ) -> Result<(Option<&'c SecretKey>, Option<&'c SecretKey>)> {
        use std::collections::hash_map::Entry;
        let keys = match cache.entry(subject_no) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => {
                let keys = match self.store.subject_keys(subject_no)? {
                    Some(row) => (
                        row.data_key.as_deref().map(|k| self.unwrap_slot(subject_no, SLOT_DATA, k)).transpose()?,
                        row.access_key.as_deref().map(|k| self.unwrap_slot(subject_no, SLOT_ACCESS, k)).transpose()?,
                    ),
                    None => (None, None),
                };
                v.insert(keys)
            }
        };
        Ok((keys.0.as_ref(), keys.1.as_ref()))
    }

    /// A subject's unwrapped keys, looked up once per `cache`; `None` once erased.
    fn cached_keys<'c>(
        &self,
        cache: &'c mut HashMap<u64, Option<(SecretKey, SecretKey)>>,
        subject_no: u64,
    ) -> Result<Option<&'c (SecretKey, SecretKey)>> {
        use std::collections::hash_map::Entry;
        Ok(match cache.entry(subject_no) {
            Entry::Occupied(e) => e.into_mut().as_ref(),
            Entry::Vacant(v) => {
                let keys = match self.store.subject_keys(subject_no)? {
                    Some(row) => self.unwrap_keys(&row)?,
                    None => None,
                };
                v.insert(keys).as_ref()
            }
        })
    }

    /// The digest of every projection, once the stay facts are compacted (a rebuild
    /// compacts them fully, so this is the figure to compare with one).
    pub fn projection_digest(&self) -> Result<crate::store::ProjectionDigest> {
        self.compact_stay_facts()?;
        Ok(self.store.projection_digest()?)
    }

    /// A crossing with the local calendar day at its port.
    fn dated(&self, c: &Crossing) -> DatedCrossing {
        let tz = self.places.get(&c.port).map(|p| p.tz.clone()).unwrap_or(jiff::tz::TimeZone::UTC);
        DatedCrossing {
            direction: c.direction,
            at: c.at,
            local_day: c.at.to_zoned(tz).date(),
            admission_class: c.admission_class.clone(),
            admitted_until: c.admitted_until,
            port: Some(c.port.clone()),
        }
    }

    fn unwrap_keys(&self, row: &SubjectKeysRow) -> Result<Option<(SecretKey, SecretKey)>> {
        match (&row.data_key, &row.access_key) {
            (Some(d), Some(a)) => Ok(Some((
                self.unwrap_slot(row.subject_no, SLOT_DATA, d)?,
                self.unwrap_slot(row.subject_no, SLOT_ACCESS, a)?,
            ))),
            _ => Ok(None),
        }
    }

    /// Unwrap one of a subject's keys under the master key.
    fn unwrap_slot(&self, subject_no: u64, slot: u8, wrapped: &[u8]) -> Result<SecretKey> {
        self.unwrap_stored(wrapped, &key_label(subject_no, slot))
            .map_err(|e| corrupt(format!("subject key {subject_no}: {e}")))
    }

    fn open_leaf(&self, row: &LeafRow, key: &SecretKey) -> Result<Event> {
        let (_, payload) = leaf::open(&row.leaf, key).map_err(|e| corrupt(format!("leaf {}: {e}", row.index)))?;
        serde_json::from_slice(&payload)
            .map_err(|e| corrupt(format!("leaf {}: payload does not decode: {e}", row.index)))
    }

    /// A subject's timeline, without any access logging. Private on purpose: every
    /// caller outside this module goes through `read_timeline`.
    fn load_timeline(&self, id: SubjectId) -> Result<Timeline> {
        let row = self.store.subject_keys_by_id(id.as_bytes())?.ok_or(RegistryError::UnknownSubject(id))?;
        let (data, _) = self.unwrap_keys(&row)?.ok_or(RegistryError::Erased(id))?;
        let idx: Vec<u64> = self
            .store
            .subject_leaves(row.subject_no, 0)?
            .into_iter()
            .filter(|(_, k)| !EventKind::from_code(*k).is_some_and(EventKind::is_access_log))
            .map(|(i, _)| i)
            .collect();
        let mut events = Vec::with_capacity(idx.len());
        for l in self.store.leaves_at(&idx)? {
            if let Some(e) = self.open_subject_leaf(&l, row.subject_no, Some(&data), None)? {
                events.push((l.index, e));
            }
        }
        Timeline::fold(events).ok_or_else(|| corrupt(format!("subject {id} has keys but no creation event")))
    }

    /// Read a subject's timeline for `purpose`. The access event is durable in the
    /// ledger before the timeline is returned; if it cannot be written, nothing is.
    /// The policy is checked first: a refused read touches nothing.
    pub fn read_timeline(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        id: SubjectId,
        request: &str,
    ) -> Result<(Timeline, Receipt)> {
        policy::authorize_read(actor, Read::Timeline, purpose)?;
        policy::own_records(actor, &id)?;
        let timeline = self.load_timeline(id)?;
        let fields = [
            "document",
            "names",
            "birth_date",
            "sex",
            "nationality",
            "registrations",
            "interviews",
            "crossings",
            "designations",
        ];
        let ((), receipt) =
            self.write(now, |b| b.record_access(id, actor, Read::Timeline, purpose, &fields, request))?;
        Ok((timeline, receipt))
    }

    fn stay_of(&self, id: SubjectId, on: jiff::civil::Date) -> Result<Standing> {
        Ok(standing(&stays_from_crossings(self.dated_of(id)?, on), on)?)
    }

    /// A subject's stay accounting on `on`, computed from the recorded crossings (each
    /// crossing's day taken in its port's time zone). Logged like every read.
    pub fn read_stay(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        id: SubjectId,
        on: jiff::civil::Date,
        request: &str,
    ) -> Result<((StayRule, StayAnswer), Receipt)> {
        policy::authorize_read(actor, Read::Stay, purpose)?;
        policy::own_records(actor, &id)?;
        let s = self.stay_of(id, on)?;
        let ((), receipt) = self.write(now, |b| b.record_access(id, actor, Read::Stay, purpose, &["stay"], request))?;
        Ok(((s.rule, s.answer), receipt))
    }

    /// Every subject who, on `on`, is overstaying or overstayed before, oldest
    /// overstay first. `page` is (page number from 1, rows per page); the access of
    /// each subject returned is logged before the list is. Returns the rows and the
    /// total number of overstayers.
    pub fn read_overstays(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        on: jiff::civil::Date,
        page: Option<(usize, usize)>,
        request: &str,
    ) -> Result<(Vec<OverstayRow>, usize, Option<Receipt>)> {
        policy::authorize_read(actor, Read::OverstayList, purpose)?;
        let all = self.overstay_sweep(on, calculate)?;
        let total = all.len();
        let rows: Vec<OverstayRow> = match page {
            Some((n, per)) => all.into_iter().skip(n.saturating_sub(1) * per).take(per).collect(),
            None => all,
        };
        if rows.is_empty() {
            return Ok((rows, total, None));
        }
        let ((), receipt) = self.write(now, |b| {
            for r in &rows {
                b.record_access(r.subject, actor, Read::OverstayList, purpose, &["overstay"], request)?;
            }
            Ok(())
        })?;
        Ok((rows, total, Some(receipt)))
    }

    /// Every subject who, on `on`, is overstaying or overstayed before, oldest overstay
    /// first, without access logging (`read_overstays` logs). Reads only the sealed
    /// stay facts: one thread scans the store while the others open and evaluate.
    fn overstay_sweep(&self, on: jiff::civil::Date, calc: Calculator) -> Result<Vec<OverstayRow>> {
        self.compact_stay_facts()?;
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<StayFactsRow>>(2 * workers);
        let rx = Mutex::new(rx);
        let mut all = std::thread::scope(|scope| -> Result<Vec<OverstayRow>> {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    let rx = &rx;
                    scope.spawn(move || -> Result<Vec<OverstayRow>> {
                        let mut found = Vec::new();
                        loop {
                            let chunk = match rx.lock() {
                                Ok(r) => r.recv(),
                                Err(_) => return Err(corrupt("the sweep's queue lock was poisoned")),
                            };
                            let Ok(chunk) = chunk else { return Ok(found) };
                            for row in &chunk {
                                if let Some(r) = self.sweep_one(row, on, calc)? {
                                    found.push(r);
                                }
                            }
                        }
                    })
                })
                .collect();
            let scanned = self.store.scan_stay_facts(1024, &mut |chunk| tx.send(chunk).is_ok());
            drop(tx);
            let mut all = Vec::new();
            for h in handles {
                all.extend(h.join().map_err(|_| corrupt("a sweep thread panicked"))??);
            }
            scanned?;
            Ok(all)
        })?;
        all.sort_by_key(|r| (r.overstay.first_day, r.subject));
        Ok(all)
    }

    /// For `fairgate-bench sweep` (feature `bench` only): how many subjects the
    /// sweep finds on `on`, with the fast calculator or the naive day-by-day one.
    /// Only a count leaves, so nothing is disclosed and nothing is logged.
    #[cfg(feature = "bench")]
    pub fn count_overstays(&self, on: jiff::civil::Date, naive: bool) -> Result<usize> {
        let calc: Calculator = if naive { fairgate_core::stay::naive::checked } else { calculate };
        Ok(self.overstay_sweep(on, calc)?.len())
    }

    /// The public aggregate of the overstays on `on`, by port of entry, rule and the
    /// month the overstay began, before suppression. Only counts leave, so nothing is
    /// disclosed and nothing is logged.
    pub fn overstay_tallies(&self, on: jiff::civil::Date) -> Result<Vec<([String; 3], String, u64)>> {
        let rows = self.overstay_sweep(on, calculate)?;
        Ok(fairgate_core::report::overstay_tallies(
            rows.iter().map(|r| (r.port.as_deref(), r.rule.as_str(), r.overstay.first_day)),
        ))
    }

    fn sweep_one(&self, row: &StayFactsRow, on: jiff::civil::Date, calc: Calculator) -> Result<Option<OverstayRow>> {
        let data = self.unwrap_slot(row.subject_no, SLOT_DATA, &row.data_key)?;
        let dated = open_facts(&facts::sealer(&data), row.subject_no, row.through_leaf, &row.sealed)?;
        let stays = stays_from_crossings(dated, on);
        let s = standing_with(&stays, on, calc)?;
        Ok(s.answer.overstay.map(|overstay| OverstayRow {
            subject: SubjectId::from_bytes(row.subject_id),
            rule: s.rule.to_string(),
            port: overstay_port(&stays, &overstay).map(str::to_string),
            overstay,
            still_present: s.still_present,
        }))
    }

    /// Find subjects by travel-document number through the blind index. Each match
    /// is an access, logged before the ids are returned.
    pub fn lookup_document(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        number: &str,
        request: &str,
    ) -> Result<(Vec<SubjectId>, Option<Receipt>)> {
        policy::authorize_read(actor, Read::DocumentLookup, purpose)?;
        let number = document_number("document_number", number).map_err(|e| Invalid(vec![e]))?;
        let blind = blind_index(&self.blind, DOCUMENT_DOMAIN, &number);
        let mut ids = Vec::new();
        for no in self.store.subjects_by_document(&blind)? {
            if let Some(row) = self.store.subject_keys(no)? {
                if row.data_key.is_some() {
                    ids.push(SubjectId::from_bytes(row.subject_id));
                }
            }
        }
        if ids.is_empty() {
            return Ok((ids, None));
        }
        let ((), receipt) = self.write(now, |b| {
            for id in &ids {
                b.record_access(*id, actor, Read::DocumentLookup, purpose, &["subject_id"], request)?;
            }
            Ok(())
        })?;
        Ok((ids, Some(receipt)))
    }

    /// Every program with every version and transition, folded from the ledger.
    /// Programs are public: reading them is not an access to personal data.
    pub fn program_book(&self) -> Result<ProgramBook> {
        let leaves = self.store.leaves_at(&self.store.program_leaves()?)?;
        let mut book = ProgramBook::default();
        for l in &leaves {
            let event = self.open_leaf(l, &self.system)?;
            if !event.is_program() {
                return Err(corrupt(format!("leaf {} is listed as a program but holds another event", l.index)));
            }
            let header = Header::decode(&l.leaf).map_err(|e| corrupt(format!("leaf {}: {e}", l.index)))?;
            book.apply(&event, recorded_at(header.timestamp_ms), l.index);
        }
        Ok(book)
    }

    /// Compile a program and analyse its selection over `population`, or over the
    /// registered subjects when none is given (then groups under 10 are left out of
    /// the answer). Writes nothing.
    pub fn program_impact(
        &self,
        actor: &Actor,
        source: &str,
        population: Option<&[Person]>,
        on: jiff::civil::Date,
    ) -> Result<(ProgramSpec, Impact, &'static str)> {
        if population.is_none() {
            policy::authorize(actor, Action::ProgramImpactOverRecords)?;
        }
        let spec = fairgate_core::program::lang::compile(source)?;
        Ok(match population {
            Some(p) => {
                let i = fairgate_core::program::impact::analyse(&spec.selection, p, on);
                (spec, i, "file")
            }
            None => {
                let people = self.impact_population(on)?;
                let mut i = fairgate_core::program::impact::analyse(&spec.selection, &people, on);
                fairgate_core::program::impact::hide_small_groups(&mut i, fairgate_core::report::MIN_CELL);
                (spec, i, "database")
            }
        })
    }

    /// `program add`: compile, analyse (over `population` or the registered
    /// subjects) and record a draft, one command.
    pub fn add_program(
        &self,
        now: Timestamp,
        actor: &Actor,
        source: &str,
        population: Option<&[Person]>,
    ) -> Result<(AddedProgram, Receipt)> {
        policy::authorize(actor, Action::ProgramDraft)?;
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let (spec, impact, population_source) = self.program_impact(actor, source, population, today)?;
        let ((version, _), receipt) =
            self.write(now, |b| b.draft_program(actor, &spec, source, impact.clone(), population_source))?;
        let added = AddedProgram { id: spec.program.id, version, impact, population_source: population_source.into() };
        Ok((added, receipt))
    }

    /// A subject's events of the given kinds, with leaf indexes, opened with `key`:
    /// their data key (a program's records are opened with the key derived from it),
    /// or, for access-log kinds, their access key.
    fn subject_events(&self, subject_no: u64, key: &SecretKey, kinds: &[EventKind]) -> Result<Vec<(u64, Event)>> {
        let codes: Vec<u16> = kinds.iter().map(|k| k.code()).collect();
        let wanted: Vec<u64> = self
            .store
            .subject_leaves(subject_no, 0)?
            .into_iter()
            .filter(|(_, kind)| codes.contains(kind))
            .map(|(i, _)| i)
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(wanted.len());
        for l in self.store.leaves_at(&wanted)? {
            if let Some(e) = self.open_subject_leaf(&l, subject_no, Some(key), Some(key))? {
                out.push((l.index, e));
            }
        }
        Ok(out)
    }

    /// Designation rates per officer and per place, by nationality and sex, with the
    /// impact analysis's flag test (auditors). Every live subject is read; only
    /// aggregates leave, and groups under 10 people are not shown, so no access is
    /// logged. Officers are named by account id.
    pub fn designation_stats(&self, actor: &Actor) -> Result<fairgate_core::designation::Stats> {
        policy::authorize(actor, Action::DesignationStatistics)?;
        use fairgate_core::designation::Encounter;
        let kinds = [
            EventKind::SubjectCreated,
            EventKind::RegistrationRecorded,
            EventKind::CrossingRecorded,
            EventKind::SubjectDesignated,
        ];
        let mut people = Vec::new();
        for (no, _) in self.store.live_subjects()? {
            let Some(row) = self.store.subject_keys(no)? else { continue };
            let Some((data, _)) = self.unwrap_keys(&row)? else { continue };
            let mut p = Encounter::default();
            for (_, event) in self.subject_events(no, &data, &kinds)? {
                match event {
                    Event::SubjectCreated(e) => {
                        p.nationality = e.person.nationality;
                        p.sex = format!("{:?}", e.person.sex);
                    }
                    Event::RegistrationRecorded(e) => {
                        p.seen_by.push(e.officer.id);
                        p.seen_at.push(e.registration.place);
                    }
                    Event::CrossingRecorded(e) => {
                        p.seen_by.push(e.recorded_by.id);
                        p.seen_at.push(e.crossing.port);
                    }
                    Event::SubjectDesignated(e) => p.designated.push((e.designated_by.id, e.designation.place)),
                    _ => {}
                }
            }
            p.seen_by.sort();
            p.seen_by.dedup();
            p.seen_at.sort();
            p.seen_at.dedup();
            people.push(p);
        }
        Ok(fairgate_core::designation::stats(&people, fairgate_core::report::MIN_CELL))
    }

    /// The population for an impact analysis: every live subject's nationality, sex
    /// and birth date, with the admission of their latest entry and the length of
    /// their latest stay on `on`. Nothing leaves but what the analysis aggregates, and
    /// the caller publishes only groups of at least 10, so no access is logged.
    /// Purpose of admission is not recorded at crossings, so it is unknown here.
    pub fn impact_population(&self, on: jiff::civil::Date) -> Result<Vec<Person>> {
        let mut out = Vec::new();
        for (no, id) in self.store.live_subjects()? {
            let Some(row) = self.store.subject_keys(no)? else { continue };
            let Some((data, _)) = self.unwrap_keys(&row)? else { continue };
            let created = self
                .store
                .subject_leaves(no, 0)?
                .into_iter()
                .find(|(_, kind)| *kind == EventKind::SubjectCreated.code())
                .ok_or_else(|| corrupt(format!("subject {no} has no creation leaf")))?;
            let leaf = self
                .store
                .leaves_at(&[created.0])?
                .pop()
                .ok_or_else(|| corrupt(format!("leaf {} is missing", created.0)))?;
            let Event::SubjectCreated(e) = self.open_leaf(&leaf, &data)? else {
                return Err(corrupt(format!(
                    "leaf {} is not the creation of subject {}",
                    created.0,
                    SubjectId::from_bytes(id)
                )));
            };
            let stays = stays_from_crossings(self.facts_of(no, &data)?, on);
            let designation_events: Vec<Event> = self
                .subject_events(no, &data, &[EventKind::SubjectDesignated, EventKind::DesignationReviewed])?
                .into_iter()
                .map(|(_, e)| e)
                .collect();
            let on_ts = on.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).unwrap_or(Timestamp::MAX);
            let designated = fairgate_core::designation::fold(&designation_events)
                .iter()
                .any(|d| d.status(on_ts) == fairgate_core::designation::Status::Approved);
            let latest = stays.iter().max_by_key(|s| s.period.start);
            out.push(Person {
                nationality: e.person.nationality,
                sex: format!("{:?}", e.person.sex),
                birth_date: Some(e.person.birth_date),
                admission_class: latest.and_then(|s| s.admission_class.clone()),
                purpose_of_admission: None,
                admitted_on: latest.map(|s| s.period.start),
                stay_days: latest
                    .map(|s| (s.period.end.since(s.period.start).map_or(0, |d| d.get_days()) + 1).max(0) as u32),
                designated,
            });
        }
        Ok(out)
    }

    /// Raw leaves `[start, start + count)` as stored. Public: every payload is sealed.
    pub fn leaves(&self, start: u64, count: u64) -> Result<Vec<LeafRow>> {
        Ok(self.store.leaves(start, count)?)
    }

    fn check_size(&self, field: &str, size: u64) -> Result<()> {
        let stored = self.store.tree_size()?;
        if size > stored {
            return Err(Invalid::one(field, format!("{size} is larger than the log, which has {stored} leaves")).into());
        }
        Ok(())
    }

    /// RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.check_size("size", size)?;
        if index >= size {
            return Err(Invalid::one("index", format!("{index} is not below the tree size {size}")).into());
        }
        inclusion_proof(&mut StoredTree { store: self.store.as_ref() }, index, size).map_err(proof_error)
    }

    /// RFC 9162 consistency proof between the trees of `from` and `to` leaves.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        self.check_size("to", to)?;
        if from > to {
            return Err(Invalid::one("from", format!("{from} is larger than to ({to})")).into());
        }
        consistency_proof(&mut StoredTree { store: self.store.as_ref() }, from, to).map_err(proof_error)
    }

    /// The signed checkpoint at exactly `size`, if one was signed, else the latest.
    pub fn checkpoint(&self, size: Option<u64>) -> Result<Option<CheckpointRow>> {
        Ok(match size {
            None => self.store.latest_checkpoint()?,
            Some(n) => self.store.checkpoints()?.into_iter().find(|c| c.size == n),
        })
    }

    /// Sign a checkpoint of the current tree unless one exists at this size. Refuses
    /// (with `Corrupt`) to sign a tree that is not provably an extension of the last
    /// signed one: a ledger that shrank or whose stored leaves changed must never get
    /// a fresh signature that would hide it.
    pub fn sign_checkpoint(&self, now: Timestamp) -> Result<Option<CheckpointRow>> {
        let w = self.lock()?;
        let (size, root) = (w.frontier.size(), w.frontier.root());
        if let Some(last) = self.store.latest_checkpoint()? {
            if size < last.size {
                return Err(corrupt(format!(
                    "the ledger has {size} leaves but a checkpoint was signed at {}: leaves were removed; refusing to sign",
                    last.size
                )));
            }
            if size == last.size {
                if root != last.root {
                    return Err(corrupt(format!(
                        "the root at {size} differs from the signed checkpoint: refusing to sign"
                    )));
                }
                return Ok(None);
            }
            let proof = consistency_proof(&mut StoredTree { store: self.store.as_ref() }, last.size, size)
                .map_err(proof_error)?;
            if !verify_consistency(last.size, size, &last.root, &root, &proof) {
                return Err(corrupt(format!(
                    "the stored tree at {size} is not consistent with the checkpoint signed at {}: refusing to sign",
                    last.size
                )));
            }
        }
        let cp = Checkpoint { origin: self.origin().to_string(), size, root };
        let row = CheckpointRow { size, root, note: self.signer.sign(&cp), signed_at_ms: now.as_millisecond() };
        self.store.put_checkpoint(&row)?;
        Ok(Some(row))
    }

    /// The current tree size and root, as this writer sees them.
    pub fn tree_head(&self) -> Result<(u64, Hash)> {
        let w = self.lock()?;
        Ok((w.frontier.size(), w.frontier.root()))
    }

    /// Drop every projection and rebuild it from the ledger. Leaves whose keys were
    /// destroyed are skipped (they are unreadable by design). `progress` gets
    /// (leaves done, total). Writes wait until it finishes.
    pub fn rebuild(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<RebuildReport> {
        let mut w = self.lock()?;
        w.cache.clear();
        self.store.drop_projections()?;
        let size = self.store.tree_size()?;
        let mut keys = HashMap::new();
        let mut report = RebuildReport { leaves: size, ..Default::default() };
        let mut start = 0;
        while start < size {
            let rows = self.store.leaves(start, 10_000)?;
            if rows.is_empty() {
                return Err(corrupt(format!("the ledger has a gap at leaf {start}")));
            }
            let mut out = Vec::with_capacity(rows.len() * 2);
            for row in &rows {
                let header = Header::decode(&row.leaf).map_err(|e| corrupt(format!("leaf {}: {e}", row.index)))?;
                let r = self.key_ids.open(&header.key_id);
                if r.leaf_index != row.index {
                    return Err(corrupt(format!(
                        "leaf {} carries the key id of leaf {}: leaves were moved",
                        row.index, r.leaf_index
                    )));
                }
                if r.subject_no == SYSTEM_SUBJECT_NO {
                    if r.slot != SLOT_SYSTEM {
                        return Err(corrupt(format!("leaf {} names key slot {} of the system", row.index, r.slot)));
                    }
                    let event = self.open_leaf(row, &self.system)?;
                    project(SYSTEM_SUBJECT_NO, row.index, header.timestamp_ms, &event, &self.blind, &mut out);
                    report.projected += 1;
                    continue;
                }
                let (data, access) = self.partial_keys(&mut keys, r.subject_no)?;
                let Some(key) = self.leaf_key(r.slot, r.subject_no, data, access)? else {
                    // Erased: nothing of it can be read, but its clear header still counts
                    // in the log-event table, which anyone can recompute from the headers.
                    report.unreadable += 1;
                    let kind = EventKind::from_code(header.kind)
                        .ok_or_else(|| corrupt(format!("leaf {} has unknown kind {}", row.index, header.kind)))?;
                    out.push(Projection::Tally {
                        metric: Metric::LogEvents.as_str().to_string(),
                        dims: [fairgate_core::report::kind_name(kind).to_string(), String::new(), String::new()],
                        month: fairgate_core::report::month_of(recorded_at(header.timestamp_ms)),
                        count: 1,
                    });
                    continue;
                };
                let event = self.open_leaf(row, &key)?;
                project(r.subject_no, row.index, header.timestamp_ms, &event, &self.blind, &mut out);
                report.projected += 1;
            }
            self.store.apply_projections(&out)?;
            start += rows.len() as u64;
            progress(start, size);
        }
        // The stay facts, compacted the usual way (the writer lock is still held).
        let mut from = 0;
        while from < size {
            let end = (from + self.compaction_chunk).min(size);
            self.compact_chunk(from, end)?;
            from = end;
        }
        Ok(report)
    }
}

/// One subject in the overstay list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OverstayRow {
    pub subject: SubjectId,
    /// The rule that applies, e.g. `90/180` or `admitted-until`.
    pub rule: String,
    /// The port of entry of the stay in which the overstay began.
    pub port: Option<String>,
    pub overstay: fairgate_core::stay::Overstay,
    /// No exit is recorded and the person is still counted as present.
    pub still_present: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub leaves: u64,
    pub projected: u64,
    /// Leaves whose subject keys were destroyed.
    pub unreadable: u64,
}

/// One command in progress. Nothing it records is visible to anyone until
/// [`Registry::write`] commits it.
pub struct Batch<'a> {
    reg: &'a Registry,
    now: Timestamp,
    rng: &'a mut StdRng,
    /// States loaded by earlier commands. A state this batch touches moves into the
    /// overlay, and back into the cache only if the batch commits.
    cache: &'a mut HashMap<SubjectId, SubjectState>,
    overlay: HashMap<SubjectId, SubjectState>,
    frontier: Frontier,
    next_subject_no: u64,
    commit: Commit,
    new_registrations: HashSet<[u8; 32]>,
    /// Registration numbers drawn and checked ahead (see `reserve_registration_numbers`).
    reserved_numbers: Vec<RegistrationNumber>,
    /// The keys of `commit.program_keys`, in the same order.
    new_program_keys: Vec<SecretKey>,
    /// Tally increments of this batch, folded per cell (a batch touches few cells,
    /// so a list searched with borrowed keys beats hashing owned ones).
    tallies: Vec<(Metric, [String; 3], i32, u64)>,
    /// Reused for each event's plaintext; cleared after every leaf.
    payload: Vec<u8>,
    /// Program events appended by this batch, with their leaves.
    program_events: Vec<(Event, u64)>,
    /// Designation events appended by this batch.
    designation_events: Vec<(SubjectId, Event)>,
    /// Portal access codes issued with this batch's registrations, to hand out once.
    access_codes: Vec<(RegistrationNumber, String)>,
}

impl Batch<'_> {
    fn into_parts(self) -> (Commit, Advance) {
        let Batch { overlay, frontier, next_subject_no, mut commit, tallies, new_program_keys, .. } = self;
        let program_keys = commit
            .program_keys
            .iter()
            .zip(new_program_keys)
            .map(|(row, key)| (row.ordinal, row.program.clone(), key))
            .collect();
        commit.projections.extend(tallies.into_iter().map(|(metric, dims, month, count)| Projection::Tally {
            metric: metric.as_str().to_string(),
            dims,
            month: month_label(month),
            count,
        }));
        (commit, Advance { overlay, frontier, next_subject_no, program_keys })
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The index the next leaf appended in this batch will have.
    pub fn next_leaf(&self) -> u64 {
        self.frontier.size()
    }

    /// Today's date in UTC, for checks such as "born in the future".
    fn today(&self) -> jiff::civil::Date {
        self.now.to_zoned(jiff::tz::TimeZone::UTC).date()
    }

    /// The subject's state, loaded into this batch's overlay on first touch.
    fn state(&mut self, id: SubjectId) -> Result<&mut SubjectState> {
        use std::collections::hash_map::Entry;
        match self.overlay.entry(id) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(v) => {
                let state = match self.cache.remove(&id) {
                    Some(s) => s,
                    None => self.reg.load_state(id)?,
                };
                Ok(v.insert(state))
            }
        }
    }

    fn append(&mut self, subject_no: u64, slot: u8, sealer: &Sealer, event: &Event) -> Result<u64> {
        let data = match (slot, event.program_tag(), event.subject()) {
            (SLOT_DATA, Some(_), Some(id)) => Some(self.state(id)?.data_key.clone()),
            _ => None,
        };
        self.append_sealed(subject_no, slot, sealer, event, data.as_ref())
    }

    /// Append with the subject's data key at hand (`data`), which a program's record
    /// needs: it goes under that program's key for the person, not `sealer`.
    fn append_sealed(
        &mut self,
        subject_no: u64,
        slot: u8,
        sealer: &Sealer,
        event: &Event,
        data: Option<&SecretKey>,
    ) -> Result<u64> {
        let program = match (slot, event.program_tag(), data) {
            (SLOT_DATA, Some(p), Some(data)) => {
                let made = self.commit.program_keys.iter().zip(&self.new_program_keys).find(|(r, _)| r.program == p);
                let (ordinal, key) = match made {
                    Some((row, key)) => (row.ordinal, key.clone()),
                    None => match self.reg.program_key_for_append(p)? {
                        Some(k) => k,
                        None => {
                            let (row, key) = self.reg.new_program_key(p, self.new_program_keys.len(), self.rng)?;
                            let ordinal = row.ordinal;
                            self.commit.program_keys.push(row);
                            self.new_program_keys.push(key.clone());
                            (ordinal, key)
                        }
                    },
                };
                let derived = fairgate_ledger::keys::program_subject_key(&key, subject_no, data);
                Some((keyring::SLOT_PROGRAM_BASE + ordinal, Sealer::new(&derived)))
            }
            (SLOT_DATA, Some(p), None) => {
                return Err(corrupt(format!("a record of program {p} was sealed without the subject's data key")))
            }
            _ => None,
        };
        let (slot, sealer) = match &program {
            Some((s, sealer)) => (*s, sealer),
            None => (slot, sealer),
        };
        let index = self.frontier.size();
        let key_id = self.reg.key_ids.seal(KeyRef { subject_no, leaf_index: index, slot });
        let header = Header { kind: event.kind().code(), timestamp_ms: self.now.as_millisecond(), key_id };
        self.payload.clear();
        serde_json::to_writer(&mut self.payload, event).map_err(corrupt)?;
        let bytes = sealer.seal(&header, &self.payload, self.rng);
        // The plaintext stays in memory only: wipe it before the buffer is reused or dropped.
        zeroize::Zeroize::zeroize(&mut self.payload);
        let hash = leaf_hash(&bytes);
        let nodes = &mut self.commit.nodes;
        self.frontier.push_with(hash, |level, index, hash| {
            if level % STORED_LEVEL_STEP == 0 {
                nodes.push(NodeRow { level, index, hash: *hash });
            }
        });
        project_rows(subject_no, index, event, &self.reg.blind, &mut self.commit.projections);
        let tallies = &mut self.tallies;
        for_each_tally(event, recorded_at(header.timestamp_ms), |t| {
            match tallies
                .iter_mut()
                .find(|c| c.0 == t.metric && c.2 == t.month && c.1.iter().zip(t.dims).all(|(a, b)| a == b))
            {
                Some(cell) => cell.3 += 1,
                None => tallies.push((t.metric, t.dims.map(str::to_string), t.month, 1)),
            }
        });
        self.commit.leaves.push(LeafRow { index, leaf: bytes, hash });
        Ok(index)
    }

    /// Create a subject from travel-document data.
    pub fn create_subject(&mut self, actor: &Actor, input: &SubjectInput) -> Result<SubjectId> {
        policy::authorize(actor, Action::CreateSubject)?;
        let person = input.validate(self.today())?;
        self.new_subject(actor, person)
    }

    /// Create a subject from data already validated (bulk loads, the demo).
    pub fn create_validated_subject(&mut self, actor: &Actor, person: NewSubject) -> Result<SubjectId> {
        policy::authorize(actor, Action::CreateSubject)?;
        self.new_subject(actor, person)
    }

    /// The one way a subject is made; the public paths above, and the import, check the policy first.
    pub(crate) fn new_subject(&mut self, actor: &Actor, person: NewSubject) -> Result<SubjectId> {
        let mut raw = [0u8; 16];
        self.rng.fill_bytes(&mut raw);
        let id = SubjectId::from_bytes(raw);
        let no = self.next_subject_no;
        self.next_subject_no += 1;
        let data = SecretKey::generate(self.rng);
        let access = SecretKey::generate(self.rng);
        self.commit.subject_keys.push(SubjectKeysRow {
            subject_no: no,
            subject_id: raw,
            data_key: Some(self.reg.wrap_new(&data, &key_label(no, SLOT_DATA), self.rng)?),
            access_key: Some(self.reg.wrap_new(&access, &key_label(no, SLOT_ACCESS), self.rng)?),
        });
        let event = Event::SubjectCreated(SubjectCreated { subject: id, person, created_by: actor.clone() });
        let state = SubjectState::new(no, &data, &access, &[]);
        self.append(no, SLOT_DATA, &state.data, &event)?;
        self.overlay.insert(id, state);
        Ok(id)
    }

    /// Record a registration (with its interview) and give it a new registration number.
    pub fn record_registration(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        input: &RegistrationInput,
    ) -> Result<RegistrationNumber> {
        policy::authorize(actor, Action::RecordRegistration)?;
        let mut reg = input.validate(&self.reg.places, self.now)?;
        // Checked before anything is recorded: is this person required to register?
        match self.reg.registration_required(subject, &reg)? {
            Ok(program) => {
                reg.voluntary = false;
                reg.program = Some(program);
            }
            Err(_) if reg.voluntary => {}
            Err(why) => {
                return Err(Invalid::one(
                    "voluntary",
                    format!(
                        "no program in force requires this person to register ({why}); if they register of their own accord, send voluntary: true and the registration is labelled voluntary"
                    ),
                )
                .into())
            }
        }
        self.new_registration(actor, subject, reg)
    }

    /// Record a registration already validated (bulk loads, the demo).
    pub fn record_validated_registration(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        registration: NewRegistration,
    ) -> Result<RegistrationNumber> {
        policy::authorize(actor, Action::RecordRegistration)?;
        self.new_registration(actor, subject, registration)
    }

    /// The one way a registration is recorded: its number, its event, and the
    /// person's portal access code, all in this batch's commit.
    pub(crate) fn new_registration(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        registration: NewRegistration,
    ) -> Result<RegistrationNumber> {
        if self.reg.places.get(&registration.place).is_none() {
            return Err(Invalid::one("place", format!("`{}` is not a known port or office", registration.place)).into());
        }
        let (no, key) = {
            let s = self.state(subject)?;
            (s.no, s.data.clone())
        };
        let number = match self.reserved_numbers.pop() {
            Some(n) => n,
            None => self.new_registration_number()?,
        };
        let event = Event::RegistrationRecorded(RegistrationRecorded {
            subject,
            number: number.clone(),
            registration,
            officer: actor.clone(),
        });
        let leaf = self.append(no, SLOT_DATA, &key, &event)?;
        self.issue_access_code(&number, leaf);
        Ok(number)
    }

    /// Keep no state of `id` after this batch (a bulk load that will not touch the
    /// subject again), so the writer's cache does not fill with it.
    pub fn forget(&mut self, id: SubjectId) {
        self.overlay.remove(&id);
    }

    /// Draw `n` registration numbers now, checked against the store in one read,
    /// for the registrations this batch is about to record (bulk loads).
    pub fn reserve_registration_numbers(&mut self, n: usize) -> Result<()> {
        let drawn: Vec<RegistrationNumber> =
            (0..n).map(|_| RegistrationNumber::from_entropy(self.rng.next_u64())).collect();
        let blinds: Vec<[u8; 32]> =
            drawn.iter().map(|d| blind_index(&self.reg.blind, REGISTRATION_DOMAIN, d.as_str())).collect();
        let taken = self.reg.store.registrations_exist(&blinds)?;
        for ((number, blind), taken) in drawn.into_iter().zip(blinds).zip(taken) {
            if !taken && self.new_registrations.insert(blind) {
                self.reserved_numbers.push(number);
            }
        }
        Ok(())
    }

    /// A registration number no one holds.
    fn new_registration_number(&mut self) -> Result<RegistrationNumber> {
        Ok(loop {
            let n = RegistrationNumber::from_entropy(self.rng.next_u64());
            let blind = blind_index(&self.reg.blind, REGISTRATION_DOMAIN, n.as_str());
            if !self.new_registrations.contains(&blind) && !self.reg.store.registration_exists(&blind)? {
                self.new_registrations.insert(blind);
                break n;
            }
        })
    }

    /// Record an entry or exit. An exit must close an entry recorded before it.
    pub fn record_crossing(&mut self, actor: &Actor, subject: SubjectId, input: &CrossingInput) -> Result<u64> {
        policy::authorize(actor, Action::RecordCrossing)?;
        let crossing = input.validate(&self.reg.places, self.now)?;
        self.append_crossing(actor, subject, crossing, None)
    }

    /// Record a crossing already validated (bulk loads, the demo).
    pub fn record_validated_crossing(&mut self, actor: &Actor, subject: SubjectId, crossing: Crossing) -> Result<u64> {
        policy::authorize(actor, Action::RecordCrossing)?;
        self.append_crossing(actor, subject, crossing, None)
    }

    /// Record a crossing, first working out whether the person is already
    /// overstaying on its day (from the committed history). The crossing is
    /// accepted either way; an overstay found is sealed into the crossing event and
    /// returned, and because it is shown to the recording officer, that disclosure is
    /// logged as a `border-check` access in the same command.
    pub fn record_crossing_checked(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        input: &CrossingInput,
        request: &str,
    ) -> Result<(u64, Option<fairgate_core::stay::Overstay>)> {
        policy::authorize(actor, Action::RecordCrossing)?;
        let crossing = input.validate(&self.reg.places, self.now)?;
        let day = self.reg.dated(&crossing).local_day;
        let history = self.reg.dated_of(subject)?;
        let overstay = standing(&stays_from_crossings(history, day), day)?.ongoing_overstay;
        let leaf = self.append_crossing(actor, subject, crossing, overstay)?;
        if overstay.is_some() {
            self.record_access(subject, actor, Read::Stay, Purpose::BorderCheck, &["overstay"], request)?;
        }
        Ok((leaf, overstay))
    }

    /// The one way a crossing enters the ledger: a known port, the exit-follows-entry
    /// rule against the subject's history, then the sealed event.
    fn append_crossing(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        crossing: Crossing,
        overstay_at_crossing: Option<fairgate_core::stay::Overstay>,
    ) -> Result<u64> {
        if !self.reg.places.get(&crossing.port).is_some_and(|p| p.place.kind == PlaceKind::Port) {
            return Err(Invalid::one("port", format!("`{}` is not a known port: see GET /ports", crossing.port)).into());
        }
        let fact = CrossingFact { at: crossing.at, direction: crossing.direction };
        let (no, key) = {
            let s = self.state(subject)?;
            let pos = check_sorted_sequence(&s.crossings, fact)?;
            s.crossings.insert(pos, fact);
            (s.no, s.data.clone())
        };
        let event = Event::CrossingRecorded(CrossingRecorded {
            subject,
            crossing,
            recorded_by: actor.clone(),
            overstay_at_crossing,
        });
        self.append(no, SLOT_DATA, &key, &event)
    }

    /// The programs as of this batch: the committed ones plus this batch's events.
    fn program_book(&self) -> Result<ProgramBook> {
        let mut book = self.reg.program_book()?;
        for (event, leaf) in &self.program_events {
            book.apply(event, self.now, *leaf);
        }
        Ok(book)
    }

    /// This subject's designations, committed and pending in this batch.
    fn designations(
        &mut self,
        subject: SubjectId,
    ) -> Result<(u64, Arc<Sealer>, Vec<fairgate_core::designation::Designation>)> {
        let (no, sealer) = {
            let s = self.state(subject)?;
            (s.no, s.data.clone())
        };
        // A subject created in this batch has no committed keys, and no committed designations.
        let mut events: Vec<Event> = match self.reg.store.subject_keys(no)? {
            Some(row) => {
                let (data, _) = self.reg.unwrap_keys(&row)?.ok_or(RegistryError::Erased(subject))?;
                self.reg
                    .subject_events(no, &data, &[EventKind::SubjectDesignated, EventKind::DesignationReviewed])?
                    .into_iter()
                    .map(|(_, e)| e)
                    .collect()
            }
            None => Vec::new(),
        };
        events.extend(self.designation_events.iter().filter(|(s, _)| *s == subject).map(|(_, e)| e.clone()));
        Ok((no, sealer, fairgate_core::designation::fold(&events)))
    }

    /// An officer designates a subject for closer monitoring. It has effect only once
    /// a supervisor approves it, within 72 hours. Returns its number.
    pub fn designate(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        input: &fairgate_core::designation::DesignationInput,
    ) -> Result<u32> {
        policy::authorize(actor, Action::Designate)?;
        let designation = input.validate(&self.reg.places)?;
        let (no, sealer, existing) = self.designations(subject)?;
        let number = existing.iter().map(|d| d.number).max().unwrap_or(0) + 1;
        let event = Event::SubjectDesignated(SubjectDesignated {
            subject,
            number,
            designation,
            designated_by: actor.clone(),
            at: self.now,
        });
        self.append(no, SLOT_DATA, &sealer, &event)?;
        self.designation_events.push((subject, event));
        Ok(number)
    }

    /// A supervisor (not the designating officer) approves or rejects a pending designation.
    pub fn review_designation(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        number: u32,
        approved: bool,
        reason: Option<&str>,
    ) -> Result<()> {
        policy::authorize(actor, Action::ReviewDesignation)?;
        let (no, sealer, existing) = self.designations(subject)?;
        fairgate_core::designation::check_review(&existing, number, actor, self.now).map_err(|e| match e {
            fairgate_core::designation::ReviewRefusal::Policy(r) => RegistryError::Forbidden(r),
            other => RegistryError::Review(other),
        })?;
        let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => Some(reason_text(r)?),
            None if !approved => {
                return Err(Invalid::one("reason", "is required to reject a designation: say why").into())
            }
            None => None,
        };
        let event = Event::DesignationReviewed(DesignationReviewed {
            subject,
            number,
            approved,
            reason,
            reviewed_by: actor.clone(),
            at: self.now,
        });
        self.append(no, SLOT_DATA, &sealer, &event)?;
        self.designation_events.push((subject, event));
        Ok(())
    }

    fn append_program(&mut self, event: Event) -> Result<u64> {
        let key = self.reg.system_sealer.clone();
        let leaf = self.append(SYSTEM_SUBJECT_NO, SLOT_SYSTEM, &key, &event)?;
        self.program_events.push((event, leaf));
        Ok(leaf)
    }

    /// Write a program down as a draft, with the impact analysis made for it. Its
    /// version is the next one of its id. Returns (version, leaf).
    pub fn draft_program(
        &mut self,
        actor: &Actor,
        spec: &ProgramSpec,
        source: &str,
        impact: Impact,
        population_source: &str,
    ) -> Result<(u32, u64)> {
        policy::authorize(actor, Action::ProgramDraft)?;
        let version = self.program_book()?.check_draft(&spec.program)?;
        let mut program = spec.program.clone();
        program.version = version;
        let leaf = self.append_program(Event::ProgramDrafted(ProgramDrafted {
            program,
            source: source.to_string(),
            impact,
            population_source: population_source.to_string(),
            drafted_by: actor.clone(),
        }))?;
        Ok((version, leaf))
    }

    /// Put a drafted version (default: the latest) in force, if the rules allow.
    pub fn activate_program(&mut self, actor: &Actor, id: &str, version: Option<u32>) -> Result<(Program, u64)> {
        policy::authorize(actor, Action::ProgramActivate)?;
        let program = self.program_book()?.check_activate(id, version, self.today())?;
        let leaf = self.append_program(Event::ProgramActivated(ProgramActivated {
            program: program.clone(),
            activated_by: actor.clone(),
        }))?;
        Ok((program, leaf))
    }

    /// An auditor clears a draft. Returns (version, leaf).
    pub fn sign_off_program(
        &mut self,
        actor: &Actor,
        id: &str,
        version: Option<u32>,
        reason: &str,
    ) -> Result<(u32, u64)> {
        policy::authorize(actor, Action::ProgramSignOff)?;
        let reason = reason_text(reason)?;
        let version = self.program_book()?.check_sign_off(id, version)?;
        let leaf = self.append_program(Event::ProgramSignedOff(ProgramSignedOff {
            id: id.to_string(),
            version,
            reason,
            signed_off_by: actor.clone(),
        }))?;
        Ok((version, leaf))
    }

    /// End every version of a program now; its id can never be used again.
    pub fn repeal_program(&mut self, actor: &Actor, id: &str, reason: &str) -> Result<u64> {
        policy::authorize(actor, Action::ProgramRepeal)?;
        let reason = reason_text(reason)?;
        self.program_book()?.check_repeal(id)?;
        self.append_program(Event::ProgramRepealed(ProgramRepealed {
            id: id.to_string(),
            reason,
            repealed_by: actor.clone(),
        }))
    }

    /// Log a read of `subject`'s data as one access event. Every read of personal data
    /// passes here, so the policy is checked here too, exactly: each read also checks it
    /// before it touches anything, and this check keeps a path that forgot from reading.
    fn record_access(
        &mut self,
        subject: SubjectId,
        actor: &Actor,
        read: Read,
        purpose: Purpose,
        fields: &[&str],
        request: &str,
    ) -> Result<()> {
        policy::authorize_read(actor, read, purpose)?;
        policy::own_records(actor, &subject)?;
        if purpose == Purpose::LawEnforcement {
            self.reg.check_law_enforcement(subject, actor, self.now)?;
        }
        let (no, key) = {
            let s = self.state(subject)?;
            (s.no, s.access.clone())
        };
        let event = Event::PersonalDataAccessed(PersonalDataAccessed {
            subject,
            actor: actor.clone(),
            purpose,
            fields: fields.iter().map(|f| f.to_string()).collect(),
            request: request.to_string(),
        });
        self.append(no, SLOT_ACCESS, &key, &event)?;
        Ok(())
    }
}
