//! The registry runs Fairgate's commands and reads. For a command, the core
//! validates and decides, the registry seals each resulting event into a ledger leaf
//! under the subject's key, derives the projection rows, and hands everything to the
//! store as one atomic commit. For a read of personal data it first checks the
//! policy, makes the access event durable, then returns the data (fail closed).
//!
//! This file owns the shared state (the `Registry`, the `Batch` of one command, the
//! writer and its cache of subject states), opening a registry, and the key plumbing
//! every feature uses (unwrapping a subject's keys, opening a leaf, a subject's events
//! of some kinds). Each feature is a child module: `pipeline` (the writer lock,
//! `write`, `write_stream`, sealing and appending), `subjects`, `stay` (stay facts,
//! compaction, the overstay sweep), `programs`, `designations`, `compliance`,
//! `expungement` and `program_expungement`, `law_enforcement`, `portal`, `accounts`,
//! `import`, `keyring`, `log` (proofs and checkpoints) and `rebuild`.

pub mod accounts;
pub mod appointments;
pub mod compliance;
mod designations;
pub mod expungement;
pub mod idempotency;
pub mod identification;
pub mod import;
pub mod keyring;
pub mod law_enforcement;
mod log;
pub mod notices;
pub mod oversight;
mod pipeline;
pub use pipeline::GroupCommitCounts;
mod places;
pub use places::Closed;
pub mod portal;
pub mod program_expungement;
mod programs;
mod rebuild;
mod stay;
mod subjects;
pub mod work;

pub use programs::AddedProgram;
pub use rebuild::RebuildReport;
pub use stay::OverstayRow;

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
use fairgate_ledger::keys::{blind_index, KeyIdCipher, KeyRef, RecordSealer, SecretKey};
use fairgate_ledger::leaf::{self, Header, Sealer};
use fairgate_ledger::merkle::{leaf_hash, Frontier, Hash};
use fairgate_ledger::LedgerError;
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::facts;
use crate::project::{project, project_rows, recorded_at, DOCUMENT_DOMAIN, REGISTRATION_DOMAIN};
use crate::store::{
    CheckpointRow, Commit, LeafRow, Lease, NodeRow, Projection, StayFactsRow, Store, StoreError, SubjectKeysRow,
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
/// Leaves per chunk when a serving process compacts in the background.
pub const BACKGROUND_COMPACTION_CHUNK: u64 = 2_048;

/// Rows of each source run or bucket that one merge step of the per-person leaf
/// index moves in the background (about 4,000 rows a step, written in key order: a
/// transaction of a few milliseconds). Moving a million rows in 16,384-row steps
/// back to back stalled every request for ten seconds (RELIABILITY.md, the soak).
pub const LEAF_FOLD_CHUNK: usize = 1_024;
/// Merge steps per background beat (every ten seconds): up to about 260,000 rows,
/// several times what merging needs at 1,000 appends a second (each row moves once
/// per level), so a backlog (a ledger from before merging) clears within minutes
/// and a large merge spreads over several beats.
pub const LEAF_FOLD_CHUNKS_PER_BEAT: usize = 64;
/// How long a merge step of the leaf index rests, in multiples of the step's own
/// time: commands then have the writer lock at least three quarters of the time
/// while a merge runs (the merge's CPU and disk work is not bounded by this). Resting only as long as the step (half the time)
/// still queued requests for hundreds of milliseconds at the soak's load
/// (RELIABILITY.md, the fifth soak); with three times the rest, level-1 merges no
/// longer showed in the p99 (the sixth).
pub const LEAF_FOLD_REST: u32 = 3;
/// The longest one call of [`Registry::fold_subject_leaves`] goes on (steps and
/// rests), so the beat that runs it also signs its checkpoint on time; a larger
/// merge goes on at the next beat.
pub const LEAF_FOLD_BUDGET: std::time::Duration = std::time::Duration::from_secs(5);

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
    /// A request with this idempotency key was recorded already, here: nothing was
    /// recorded again.
    #[error("this request was recorded already (leaf {}); nothing was recorded again", .0.leaf_index)]
    AlreadyRecorded(Receipt),
    /// Something another process must do first (sign a checkpoint): try again soon.
    #[error("{0}")]
    Unavailable(String),
    /// A subject holds this document already (its kind, issuing state and number):
    /// one person, one record. `receipt` is where the read that tells it was logged
    /// (absent inside a batch, before it is).
    #[error("a subject with this document is already on record: {subject}; add a new document to that person instead of creating another")]
    DocumentOnRecord { subject: SubjectId, receipt: Option<Receipt> },
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
            gallery_adds: Vec::new(),
            identifications: Vec::new(),
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
    /// What the batch's registrations add to the 1:N gallery (by subject number).
    gallery_adds: Vec<(u64, fairgate_biometrics::index::Features)>,
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
    /// The ports and offices: the legacy `places` table with the place events folded
    /// over it; reloaded after a place command and when another process appended.
    places: RwLock<Arc<PlaceBook>>,
    writer: Mutex<Writer>,
    /// Commits handed over and not yet written (see `pipeline::Group`).
    group: Mutex<pipeline::Group>,
    group_done: std::sync::Condvar,
    cache_limit: usize,
    compaction_chunk: u64,
    import_batch: usize,
    erase_chunk: usize,
    /// How long a master key epoch lasts by the rotation schedule (`None`: no schedule).
    rotation_period: RwLock<Option<jiff::SignedDuration>>,
    /// Who this registry is, to the signing lease (random per open).
    lease_holder: String,
    holds_lease: std::sync::atomic::AtomicBool,
    /// The 1:N gallery; `None` until built (at start-up or first use) and after a
    /// change it cannot follow (another process appended, a program was expunged).
    gallery: RwLock<Option<fairgate_biometrics::index::Gallery>>,
    /// Registrations committed while a 1:N search held the gallery (a search ahead
    /// of the writer lock reads it for tens of milliseconds, and a commit must not
    /// wait for it while holding the writer): added by the next commit that finds
    /// the gallery free, and compared in full by every search until then.
    gallery_pending: Mutex<Vec<(u64, fairgate_biometrics::index::Features)>>,
    /// One search ahead of the writer lock at a time: searches side by side on a
    /// loaded machine only share its cores, and would hold the gallery without a
    /// gap, so the people pending could never go in (measured: 9.6 registrations a
    /// second at 50 offered, against 12 with the whole search under the writer).
    search_lane: Mutex<()>,
    /// The designation statistics last worked out, when, and whether still fresh
    /// (they read every person): out of date once a commit records people,
    /// registrations, crossings or designations, and after ten minutes (another
    /// process may write to the same database); dropped when anyone is erased.
    designation_stats: Mutex<Option<(std::time::Instant, fairgate_core::designation::Stats, bool)>>,
    /// The face matcher, when installed.
    faces: RwLock<Option<Arc<dyn fairgate_biometrics::face::FaceEmbedder>>>,
}

/// How long the signing lease lasts unless renewed (a server renews it at every
/// checkpoint tick, well within this).
pub const LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a command that needs a checkpoint (a certificate) waits for the process
/// holding the signing lease to sign one.
pub const CHECKPOINT_WAIT: std::time::Duration = std::time::Duration::from_secs(40);

impl Drop for Registry {
    fn drop(&mut self) {
        // Best effort: a process that dies without this frees the lease when it expires.
        let _ = self.release_signing_lease();
    }
}

fn key_label(subject_no: u64, slot: u8) -> Vec<u8> {
    format!("fairgate subject key v1 {subject_no} {slot}").into_bytes()
}

fn corrupt(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Corrupt(e.to_string())
}

/// The places of databases made before places were ledger events (the `places`
/// table, which a new database leaves empty); the events are folded over them.
fn legacy_places(store: &dyn Store) -> Result<Vec<fairgate_core::place::Place>> {
    let mut places = store.places()?;
    // Those databases had only the built-in ports and offices: give them the details
    // (hours, desks, service areas) those now carry.
    let defaults = default_places();
    for p in &mut places {
        if let Some(d) = defaults.iter().find(|d| d.code == p.code && d.kind == p.kind) {
            *p = d.clone();
        }
    }
    Ok(places)
}

/// Where the rotation schedule is kept: seconds per epoch, 0 for none.
const ROTATION_META: &str = "rotation-period-seconds";

/// The rotation schedule stored in the database; the default one before any was set.
fn stored_rotation_period(store: &dyn Store) -> Result<Option<jiff::SignedDuration>> {
    Ok(match store.meta(ROTATION_META)? {
        Some(s) => {
            let secs: i64 = s.parse().map_err(|_| corrupt(format!("meta {ROTATION_META} is not a number: {s}")))?;
            Some(jiff::SignedDuration::from_secs(secs)).filter(|p| p.is_positive())
        }
        None => Some(jiff::SignedDuration::from_hours(24 * i64::from(fairgate_core::expungement::DEFAULT_ROTATE_DAYS))),
    })
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
        let places = PlaceBook::resolve(legacy_places(store.as_ref())?).map_err(corrupt)?;
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
                None => {
                    let wrapped =
                        keyring::wrap_under(masters.wrapping(), &SecretKey::generate(&mut rng), &label, &mut rng)
                            .map_err(|e| corrupt(format!("the master key could not wrap system key {name}: {e}")))?;
                    store.put_system_key(name, &wrapped)?
                }
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
        let store_ref: &dyn Store = store.as_ref();
        let rotation_period = stored_rotation_period(store_ref)?;
        // Unique per registry even when tests seed two alike: the process, a count
        // of registries opened in it, and random bytes.
        static OPENED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let lease_holder = {
            // From the OS, not `rng`: the seeded stream stays the same for tests.
            let mut b = [0u8; 8];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
            let n = OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            format!("{}-{n}-{}", std::process::id(), b.iter().map(|x| format!("{x:02x}")).collect::<String>())
        };
        let reg = Self {
            signer: NoteSigner::from_seed(origin, signing_seed.expose()),
            group: Mutex::new(pipeline::Group::default()),
            group_done: std::sync::Condvar::new(),
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
            places: RwLock::new(Arc::new(places)),
            cache_limit: CACHE_LIMIT,
            compaction_chunk: COMPACTION_CHUNK,
            import_batch: import::IMPORT_BATCH,
            erase_chunk: program_expungement::ERASE_CHUNK,
            rotation_period: RwLock::new(rotation_period),
            lease_holder,
            holds_lease: std::sync::atomic::AtomicBool::new(false),
            gallery: RwLock::new(None),
            gallery_pending: Mutex::new(Vec::new()),
            search_lane: Mutex::new(()),
            designation_stats: Mutex::new(None),
            faces: RwLock::new(None),
        };
        reg.load_program_keys()?;
        reg.load_places()?;
        Ok(reg)
    }

    /// Where to read the master keys again when a stored key does not unwrap (another
    /// process started or finished a rotation). Without one, only the keys given to
    /// `open` are known.
    pub fn with_key_source(mut self, source: keyring::KeySource) -> Self {
        self.key_source = Some(source);
        self
    }

    /// Set the rotation schedule the certificates promise (`serve --rotate-days`);
    /// `None` when the master key is only rotated by hand. It is kept in the
    /// database, so every command on it promises the same.
    pub fn schedule_rotation(&self, period: Option<jiff::SignedDuration>) -> Result<()> {
        let period = period.filter(|p| p.is_positive());
        let secs = period.map(|p| p.as_secs()).unwrap_or(0);
        self.store.put_meta(ROTATION_META, &secs.to_string())?;
        *self.rotation_period.write().map_err(|_| corrupt("rotation lock poisoned"))? = period;
        Ok(())
    }

    /// The rotation schedule in force.
    pub fn rotation_period(&self) -> Option<jiff::SignedDuration> {
        self.rotation_period.read().map(|p| *p).unwrap_or(None)
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

    /// The ports and offices as they stand.
    pub fn places(&self) -> Arc<PlaceBook> {
        self.places.read().map(|b| b.clone()).unwrap_or_default()
    }

    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The checkpoint verifier key, in signed-note vkey form.
    pub fn verifier_key(&self) -> String {
        self.signer.verifier_key()
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

    /// Unwrap one of a subject's keys under the master key. A row read by a long scan
    /// can be older than the key files: rotations (each re-wraps every key, then retires
    /// the old master) may have finished since, so no master this process can read
    /// still opens it. The row is then read again and the fresh wrapping used: the key
    /// itself never changes, only what wraps it.
    fn unwrap_slot(&self, subject_no: u64, slot: u8, wrapped: &[u8]) -> Result<SecretKey> {
        let label = key_label(subject_no, slot);
        let first = match self.unwrap_stored(wrapped, &label) {
            Ok(k) => return Ok(k),
            Err(e) => e,
        };
        let fresh = self.store.subject_keys(subject_no)?.and_then(|row| match slot {
            SLOT_DATA => row.data_key,
            _ => row.access_key,
        });
        match fresh {
            Some(f) if f != wrapped => {
                self.unwrap_stored(&f, &label).map_err(|e| corrupt(format!("subject key {subject_no}: {e}")))
            }
            _ => Err(corrupt(format!("subject key {subject_no}: {first}"))),
        }
    }

    fn open_leaf(&self, row: &LeafRow, key: &SecretKey) -> Result<Event> {
        let (_, payload) = leaf::open(&row.leaf, key).map_err(|e| corrupt(format!("leaf {}: {e}", row.index)))?;
        serde_json::from_slice(&payload)
            .map_err(|e| corrupt(format!("leaf {}: payload does not decode: {e}", row.index)))
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
    /// What this batch's registrations add to the 1:N gallery, once committed.
    gallery_adds: Vec<(u64, fairgate_biometrics::index::Features)>,
    /// The 1:N searches of this batch's registrations, to answer with.
    identifications: Vec<(RegistrationNumber, identification::Identification)>,
}
