//! The `Store` trait: everything Fairgate persists, in terms that assume no
//! particular database. The SQLite implementation is in [`crate::sqlite`].

use fairgate_core::place::Place;
use fairgate_ledger::merkle::Hash;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Backend(String),
    #[error("the ledger grew under this writer (expected {expected} leaves, found {found}); retry")]
    Conflict { expected: u64, found: u64 },
    #[error("{what} already exists")]
    Duplicate { what: String },
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// The database cannot be reached now (the connection broke, the server is
    /// shutting down or read-only, a failover is under way): try again shortly.
    #[error("the database is unavailable ({0}); try again shortly")]
    Unavailable(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One ledger leaf as stored: its index, its bytes and its RFC 9162 leaf hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafRow {
    pub index: u64,
    pub leaf: Vec<u8>,
    pub hash: Hash,
}

/// A subject's wrapped keys. `None` once destroyed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectKeysRow {
    pub subject_no: u64,
    pub subject_id: [u8; 16],
    pub data_key: Option<Vec<u8>>,
    pub access_key: Option<Vec<u8>>,
}

/// A row of a projection. Projections hold only pseudonymous numbers, leaf indexes,
/// event kinds and keyed blind indexes: nothing personal in the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    Subject {
        subject_no: u64,
        created_leaf: u64,
    },
    Document {
        blind: [u8; 32],
        subject_no: u64,
    },
    SubjectLeaf {
        subject_no: u64,
        leaf_index: u64,
        kind: u16,
    },
    Registration {
        blind: [u8; 32],
        subject_no: u64,
        leaf_index: u64,
    },
    /// A leaf that holds one of a program's lifecycle events.
    Program {
        id: String,
        leaf_index: u64,
    },
    /// Add `count` to a cell of the transparency report's tallies.
    Tally {
        metric: String,
        dims: [String; 3],
        month: String,
        count: u64,
    },
    /// Replace a subject's sealed stay facts (see `facts`); `through_leaf` is the
    /// last crossing leaf folded in and the nonce counter of `sealed`.
    StayFacts {
        subject_no: u64,
        through_leaf: u64,
        sealed: Vec<u8>,
    },
    /// Every crossing leaf before `through` is folded into the stay facts.
    /// A line of an imported file is in the ledger (kept as the highest per file, so
    /// an interrupted import resumes after it).
    ImportLine {
        file: String,
        line: u64,
    },
    /// Take `count` off a tally cell (an expunged person's contribution); a cell
    /// that reaches zero is removed, as a rebuild would never create it.
    TallyRemove {
        metric: String,
        dims: [String; 3],
        month: String,
        count: u64,
    },
    /// A leaf holding a system event about a scope (expungement approvals and
    /// expungements), listed by kind.
    SystemLeaf {
        leaf_index: u64,
        kind: u16,
        scope: String,
    },
    /// A subject's sealed compliance facts (everything obligations need but the
    /// crossings), folded by the same compaction as the stay facts.
    ComplianceFacts {
        subject_no: u64,
        through_leaf: u64,
        sealed: Vec<u8>,
    },
    StayFactsThrough {
        through: u64,
    },
    /// The subject has records of the program (sealed under its key): who a
    /// program-wide expungement reaches.
    ProgramSubject {
        program: String,
        subject_no: u64,
    },
    /// Add `delta` bookings to an office slot (counts only: who booked is sealed).
    SlotLoad {
        office: String,
        day: String,
        start: u16,
        minutes: u16,
        delta: i64,
    },
    /// 1:N candidates awaiting a supervisor's decision: `delta` more (a search found
    /// some) or fewer (one was decided) for the person searched.
    IdentificationReview {
        subject_no: u64,
        delta: i64,
    },
    /// An item of staff work opened or closed for a person (see [`work`]): a
    /// designation to review, an excuse to approve, a served notice that may need a
    /// determination, a correction to answer. The item's number or obligation key
    /// only: what it says is sealed in the person's records.
    Work {
        queue: u8,
        subject_no: u64,
        item: String,
        open: bool,
    },
    /// A change to an office's waiting list (pseudonymous subject numbers and times
    /// only: why they came is sealed).
    Queue {
        office: String,
        subject_no: u64,
        op: QueueOp,
    },
}

/// A change to a waiting list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueOp {
    /// Arrived at `at_ms`, with today's slot start (minutes after local midnight).
    Arrive { at_ms: i64, slot_start: Option<u16> },
    /// Called to a desk at `at_ms`.
    Call { at_ms: i64, desk: u16 },
    /// Served or sent elsewhere: off the list.
    Leave,
}

/// Someone on an office's waiting list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    pub subject_no: u64,
    pub arrived_ms: i64,
    pub slot_start: Option<u16>,
    /// When called, and to which desk.
    pub called: Option<(i64, u16)>,
}

/// A program's key, wrapped under the master key; `None` once destroyed (the
/// program's records were expunged). `ordinal` names it in key ids (slot 16 + ordinal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramKeyRow {
    pub ordinal: u8,
    pub program: String,
    pub wrapped: Option<Vec<u8>>,
}

/// A wrapped key to replace, and what it must still be for the replacement to
/// apply (a key destroyed or replaced meanwhile is left alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rewrap {
    SubjectData { subject_no: u64, old: Vec<u8>, new: Vec<u8> },
    SubjectAccess { subject_no: u64, old: Vec<u8>, new: Vec<u8> },
    Program { ordinal: u8, old: Vec<u8>, new: Vec<u8> },
    System { name: String, old: Vec<u8>, new: Vec<u8> },
}

/// One subject's sealed stay facts with its wrapped data key, as the overstay
/// sweep reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StayFactsRow {
    pub subject_no: u64,
    pub subject_id: [u8; 16],
    pub data_key: Vec<u8>,
    pub through_leaf: u64,
    pub sealed: Vec<u8>,
}

/// One live subject's compliance facts row, with their stay facts row if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceRow {
    pub subject_no: u64,
    pub subject_id: [u8; 16],
    pub data_key: Vec<u8>,
    pub through_leaf: u64,
    pub sealed: Vec<u8>,
    /// (through_leaf, sealed) of the stay facts.
    pub stay: Option<(u64, Vec<u8>)>,
}

/// The hash of a complete subtree: `level` 8 covers leaves `[index*256, (index+1)*256)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    pub level: u32,
    pub index: u64,
    pub hash: Hash,
}

/// Everything one command writes, committed atomically.
#[derive(Debug, Default)]
pub struct Commit {
    /// The tree size the writer built on; the commit fails with `Conflict` otherwise.
    pub expected_size: u64,
    pub subject_keys: Vec<SubjectKeysRow>,
    /// Program keys made by this commit (their first records are in it).
    pub program_keys: Vec<ProgramKeyRow>,
    pub leaves: Vec<LeafRow>,
    /// Subtree hashes the new leaves complete, at the stored levels.
    pub nodes: Vec<NodeRow>,
    pub projections: Vec<Projection>,
    /// Portal activation codes voided by this commit: (the registration's leaf
    /// index, when). Applied first.
    pub portal_void: Vec<(u64, i64)>,
    /// Portal activation codes issued with this commit (with its registrations, or
    /// re-issued): each replaces any code of the same registration. Credentials, not
    /// facts: a rebuild keeps them.
    pub portal_codes: Vec<PortalCodeRow>,
    /// Portal passphrases set (`Some((argon2 PHC, activated ms))`) or removed (`None`),
    /// by subject number. Either way the subject's portal sessions end.
    pub portal_accounts: Vec<(u64, Option<(String, i64)>)>,
    /// Biometric records sealed with this commit's registrations, kept apart from
    /// the public log (see [`BiometricRow`]).
    pub biometrics: Vec<BiometricRow>,
    /// The command's idempotency key and the time it was made (ms): stored in the
    /// same transaction, so whether a commit whose connection broke landed can be
    /// told afterwards, and a retried request is never recorded twice.
    pub idempotency: Option<([u8; 32], i64)>,
    /// An erasure made in the same transaction as this commit's leaves (an
    /// expungement's event and its erasure are one step: both or neither). The WAL is
    /// checkpointed after it.
    pub erase: Option<Erasure>,
}

/// People erased in a commit: their data keys destroyed, with their sealed facts and
/// portal credentials, and the projection rows `removals` names deleted (as
/// [`ProjectionStore::erase`] does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erasure {
    pub subjects: Vec<u64>,
    pub removals: Vec<Projection>,
    /// Programs whose keys are destroyed (the end of a program's expungement).
    pub program_keys: Vec<String>,
}

/// A registration's biometric records (CBEFF, sealed like a leaf under the key of the
/// registration's leaf) stored beside the ledger rather than in it: the public log
/// then shows no difference between a registration with ten fingerprints and one
/// without. The registration's event carries the SHA-256 of `sealed`. Erasing the
/// person deletes the row; a projection rebuild keeps it (it is not derived).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BiometricRow {
    /// The leaf index of the registration the records were captured with.
    pub leaf: u64,
    pub subject_no: u64,
    pub sealed: Vec<u8>,
}

/// A portal activation code as stored: the registration it came with, its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalCodeRow {
    pub leaf: u64,
    pub hash: [u8; 16],
    pub issued_ms: i64,
}

/// A registration's activation code, looked up by the registration number's blind index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalCode {
    pub subject_no: u64,
    /// 16 bytes of keyed hash, or (codes issued before those) the bytes of an argon2 PHC string.
    pub hash: Vec<u8>,
    pub issued_ms: i64,
    /// When the code was used or voided (then it never works again).
    pub used_ms: Option<i64>,
}

/// The right to sign checkpoints for this database: one holder at a time, until
/// `expires_ms` unless renewed, so two processes on one database never both sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    pub expires_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRow {
    pub size: u64,
    pub root: Hash,
    /// The signed note.
    pub note: String,
    pub signed_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub role: String,
    /// The agency the account works for; reported only in aggregate.
    pub agency: String,
    pub password_hash: Option<String>,
    pub created_ms: i64,
    /// When the account was disabled (it then signs in to nothing).
    pub disabled_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A long-lived API token (`Authorization: Bearer`).
    Token,
    /// A web session cookie.
    Session,
}

impl CredentialKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            CredentialKind::Token => "token",
            CredentialKind::Session => "session",
        }
    }
}

/// Counts that let a test compare projections before and after a rebuild.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProjectionDigest {
    pub subjects: u64,
    pub documents: u64,
    pub subject_leaves: u64,
    pub registrations: u64,
    pub programs: u64,
    pub tallies: u64,
    pub stay_facts: u64,
    pub compliance_facts: u64,
    pub system_leaves: u64,
    pub imports: u64,
    pub program_subjects: u64,
    pub slot_loads: u64,
    pub queue: u64,
    pub identification_reviews: u64,
    pub work: u64,
    /// SHA-256 over every projection row in a fixed order.
    pub hash: Hash,
}

/// The projection tables, in the order they are cleared and digested (both stores).
pub const PROJECTION_TABLES: &[&str] = &[
    "p_subjects",
    "p_documents",
    "p_subject_leaves",
    "p_registrations",
    "p_program_leaves",
    "p_tallies",
    "p_stay_facts",
    "p_stay_facts_through",
    "p_compliance_facts",
    "p_system_leaves",
    "p_imports",
    "p_program_subjects",
    "p_slot_loads",
    "p_desk_queue",
    "p_identification_reviews",
    "p_work",
];

/// The rows [`ProjectionStore::projection_digest`] hashes, three cells each, one query
/// per projection table in [`PROJECTION_TABLES`]' order. Written in the SQL both
/// stores speak, so the same rows digest alike on SQLite and PostgreSQL.
pub const DIGEST_QUERIES: [&str; 16] = [
    "SELECT subject_no, created_leaf, NULL FROM p_subjects ORDER BY subject_no",
    "SELECT blind, subject_no, NULL FROM p_documents ORDER BY blind, subject_no",
    "SELECT subject_no, leaf_index, kind FROM p_subject_leaves ORDER BY subject_no, leaf_index",
    "SELECT blind, subject_no, leaf_index FROM p_registrations ORDER BY blind",
    "SELECT leaf_index, program_id, NULL FROM p_program_leaves ORDER BY leaf_index",
    "SELECT metric || '|' || d1 || '|' || d2 || '|' || d3, month, count FROM p_tallies ORDER BY metric, d1, d2, d3, month",
    "SELECT subject_no, through_leaf, sealed FROM p_stay_facts ORDER BY subject_no",
    "SELECT through, NULL, NULL FROM p_stay_facts_through",
    "SELECT subject_no, through_leaf, sealed FROM p_compliance_facts ORDER BY subject_no",
    "SELECT leaf_index, kind, scope FROM p_system_leaves ORDER BY leaf_index",
    "SELECT file, through, NULL FROM p_imports ORDER BY file",
    "SELECT program, subject_no, NULL FROM p_program_subjects ORDER BY program, subject_no",
    "SELECT office || '|' || day || '|' || CAST(start AS TEXT), minutes, booked FROM p_slot_loads ORDER BY office, day, start, minutes",
    "SELECT office || '|' || CAST(subject_no AS TEXT), CAST(arrived_ms AS TEXT) || '|' || COALESCE(CAST(slot_start AS TEXT), ''), COALESCE(CAST(called_ms AS TEXT), '') || '|' || COALESCE(CAST(desk AS TEXT), '') FROM p_desk_queue ORDER BY office, subject_no",
    "SELECT subject_no, pending, NULL FROM p_identification_reviews ORDER BY subject_no",
    "SELECT queue, subject_no, item FROM p_work ORDER BY queue, subject_no, item",
];

/// A row of the legacy `places` table (code, name, kind, zone) as a place.
pub fn place_from_row(code: String, name: String, kind: &str, zone: String) -> Result<Place> {
    let kind = match kind {
        "port" => fairgate_core::place::PlaceKind::Port,
        "office" => fairgate_core::place::PlaceKind::Office,
        other => return Err(StoreError::Corrupt(format!("place {code} has unknown kind {other}"))),
    };
    Ok(Place { code, name, kind, zone, ..Place::bare() })
}

/// The `kind` column of a place in the legacy `places` table.
pub fn place_kind_column(p: &Place) -> &'static str {
    match p.kind {
        fairgate_core::place::PlaceKind::Port => "port",
        fairgate_core::place::PlaceKind::Office => "office",
    }
}

/// One cell of a projection row as the digest sees it, whichever database held it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestValue {
    Integer(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// The bytes a cell adds to [`ProjectionDigest::hash`]: the same for the same row on
/// SQLite and on PostgreSQL, so a store copied from one to the other can be compared.
pub fn digest_cell(table: usize, col: usize, v: Option<&DigestValue>) -> String {
    match v {
        None => format!("{table}:{col}:N;"),
        Some(DigestValue::Integer(i)) => format!("{table}:{col}:I{i};"),
        Some(DigestValue::Text(t)) => format!("{table}:{col}:T{}:{t};", t.len()),
        Some(DigestValue::Blob(b)) => format!("{table}:{col}:B{};", hex::encode(b)),
    }
}

/// A digest from the row counts of the sixteen projection queries, in their order.
pub fn digest_from(counts: [u64; 16], hash: Hash) -> ProjectionDigest {
    ProjectionDigest {
        subjects: counts[0],
        documents: counts[1],
        subject_leaves: counts[2],
        registrations: counts[3],
        programs: counts[4],
        tallies: counts[5],
        stay_facts: counts[6],
        compliance_facts: counts[8],
        system_leaves: counts[9],
        imports: counts[10],
        program_subjects: counts[11],
        slot_loads: counts[12],
        queue: counts[13],
        identification_reviews: counts[14],
        work: counts[15],
        hash,
    }
}

/// Persistence for Fairgate, in five roles, implemented by [`crate::sqlite`] and
/// [`crate::postgres`]. Implementations must make `commit` atomic and durable (and
/// store its idempotency key in the same transaction), keep leaves append-only, and
/// store nothing but what they are given.
pub trait Store: LedgerStore + KeyStore + ProjectionStore + AccountStore + TableCopy + Send + Sync {}

impl<T: LedgerStore + KeyStore + ProjectionStore + AccountStore + TableCopy + Send + Sync> Store for T {}

/// The tables `migrate-store` copies row for row (everything stored that is neither
/// a ledger leaf nor a projection), with the columns copied, the first being the
/// order rows are read in.
pub const COPIED_TABLES: &[(&str, &str, &str)] = &[
    ("system_keys", "name, wrapped", "name"),
    ("program_keys", "ordinal, program, wrapped", "ordinal"),
    ("subject_keys", "subject_no, subject_id, data_key, access_key", "subject_no"),
    ("meta", "key, value", "key"),
    ("places", "code, name, kind, zone", "code"),
    ("users", "id, name, role, password_hash, created_ms, agency, disabled_ms", "id"),
    ("credentials", "hash, user_id, kind, expires_ms", "hash"),
    ("checkpoints", "size, root, note, signed_at_ms", "size"),
    ("cosignatures", "size, witness, line", "size, witness"),
    ("portal_codes", "leaf_index, code_hash, issued_ms, used_ms", "leaf_index"),
    ("portal_accounts", "subject_no, passphrase, activated_ms", "subject_no"),
    ("biometrics", "leaf_index, subject_no, sealed", "leaf_index"),
    ("tree_nodes", "level, idx, hash", "level, idx"),
];

/// A row of a copied table: its cells in [`COPIED_TABLES`]' column order.
pub type CopiedRow = Vec<Option<DigestValue>>;

/// Row-for-row copying of [`COPIED_TABLES`], for moving a database between stores.
pub trait TableCopy {
    /// Up to `limit` rows of `table` (one of [`COPIED_TABLES`]) in key order, after
    /// skipping `offset`.
    fn copy_rows(&self, table: &str, offset: u64, limit: u64) -> Result<Vec<CopiedRow>>;
    /// Insert rows into `table` in one transaction; a row whose key is already there
    /// is left as it is (a resumed copy writes some twice).
    fn put_rows(&self, table: &str, rows: &[CopiedRow]) -> Result<()>;
    /// How many rows `table` holds.
    fn count_rows(&self, table: &str) -> Result<u64>;
}

/// The columns and order of a copied table, or an error naming the table.
/// Check that each commit of a group builds on the one before it, and that an
/// erasing commit is alone; the first one's expected size is returned.
pub fn group_start(group: &[Commit]) -> Result<Option<u64>> {
    let Some(first) = group.first() else { return Ok(None) };
    if group.len() > 1 && group.iter().any(|c| c.erase.is_some()) {
        return Err(StoreError::Corrupt("an erasing commit was grouped with others".into()));
    }
    let mut size = first.expected_size;
    for c in group {
        if c.expected_size != size {
            return Err(StoreError::Conflict { expected: c.expected_size, found: size });
        }
        size += c.leaves.len() as u64;
    }
    Ok(Some(first.expected_size))
}

pub fn copied_table(table: &str) -> Result<(&'static str, &'static str, &'static str)> {
    COPIED_TABLES
        .iter()
        .copied()
        .find(|(t, _, _)| *t == table)
        .ok_or_else(|| StoreError::Backend(format!("{table} is not a table migrate-store copies")))
}

/// The log itself: leaves, stored tree hashes, signed checkpoints, and the
/// log's settings (its origin, the places). `commit` is the one write of facts.
pub trait LedgerStore {
    fn commit(&self, c: &Commit) -> Result<()> {
        self.commit_group(std::slice::from_ref(c))
    }
    /// Commit several commits, each building on the one before it, in one
    /// transaction (group commit: one durable write for all): every one or none.
    /// The first one's `expected_size` is compared with the tree size; the others'
    /// must follow on. An erasing commit must be alone.
    fn commit_group(&self, group: &[Commit]) -> Result<()>;
    /// Where the commit made under an idempotency key landed: (its first leaf, the
    /// tree size after it), if one was.
    fn idempotent(&self, key: &[u8; 32]) -> Result<Option<(u64, u64)>>;
    fn tree_size(&self) -> Result<u64>;
    fn leaves(&self, start: u64, count: u64) -> Result<Vec<LeafRow>>;
    fn leaves_at(&self, indexes: &[u64]) -> Result<Vec<LeafRow>>;
    fn leaf_hashes(&self, start: u64, count: u64) -> Result<Vec<Hash>>;
    /// Up to `count` stored subtree hashes of `level`, from index `start`.
    fn tree_nodes(&self, level: u32, start: u64, count: u64) -> Result<Vec<Hash>>;
    /// Store a signed checkpoint under the signing lease, in one transaction: if
    /// another holder's lease is unexpired at `now_ms` nothing is stored and that lease is
    /// returned; otherwise the lease is taken or renewed for `lease.holder`, and the
    /// checkpoint stored unless one was already signed at its size (the first stays:
    /// the caller checked it signed the same root).
    fn put_checkpoint(&self, cp: Option<&CheckpointRow>, lease: &Lease, now_ms: i64) -> Result<Option<Lease>>;
    /// Give the signing lease up, if `holder` holds it.
    fn release_lease(&self, holder: &str) -> Result<()>;
    /// Record witness cosignature lines (`— name base64…\n`) for the checkpoint at `size`.
    fn put_cosignatures(&self, size: u64, lines: &[(String, String)]) -> Result<()>;
    /// The cosignature lines stored for the checkpoint at `size`, by witness name.
    fn cosignatures(&self, size: u64) -> Result<Vec<(String, String)>>;
    /// The largest size whose checkpoint has at least `n` cosignatures.
    fn latest_cosigned(&self, n: usize) -> Result<Option<u64>>;
    fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>>;
    fn checkpoints(&self) -> Result<Vec<CheckpointRow>>;
    /// Copy the WAL back into the main file and truncate it.
    fn checkpoint_wal(&self) -> Result<()>;
    fn places(&self) -> Result<Vec<Place>>;
    fn put_places(&self, places: &[Place]) -> Result<()>;
    fn meta(&self, key: &str) -> Result<Option<String>>;
    fn put_meta(&self, key: &str, value: &str) -> Result<()>;
}

/// Wrapped keys (system, subject, program) and their destruction: erasure destroys
/// keys and the readable copies in one transaction, never a leaf.
pub trait KeyStore {
    fn system_key(&self, name: &str) -> Result<Option<Vec<u8>>>;
    /// Store a wrapped system key unless one of that name exists; returns the stored one.
    fn put_system_key(&self, name: &str, wrapped: &[u8]) -> Result<Vec<u8>>;
    fn subject_keys(&self, subject_no: u64) -> Result<Option<SubjectKeysRow>>;
    fn subject_keys_by_id(&self, subject_id: &[u8; 16]) -> Result<Option<SubjectKeysRow>>;
    fn max_subject_no(&self) -> Result<u64>;
    /// Every subject whose keys still exist: (subject number, subject id), in order.
    fn live_subjects(&self) -> Result<Vec<(u64, [u8; 16])>>;
    /// Up to `limit` subjects' key rows with numbers above `after`, in order.
    fn subject_keys_after(&self, after: u64, limit: usize) -> Result<Vec<SubjectKeysRow>>;
    /// Every system key: (name, wrapped).
    fn system_keys(&self) -> Result<Vec<(String, Vec<u8>)>>;
    fn program_keys(&self) -> Result<Vec<ProgramKeyRow>>;
    /// Destroy a program's key, then checkpoint the WAL.
    fn destroy_program_key(&self, program: &str) -> Result<()>;
    /// Replace wrapped keys in one transaction, each only if it is still `old`.
    /// Returns how many were replaced.
    fn rewrap(&self, keys: &[Rewrap]) -> Result<u64>;
    /// Erase in one transaction: destroy the data keys of `subjects` with their sealed
    /// facts and portal sessions, delete the rows `removals` name (each as
    /// `apply_projections` would have added it: a tally is taken off, a registration
    /// takes its portal code along), then apply `replace`. With `checkpoint`, the WAL
    /// is checkpointed afterwards so freed pages (zeroed by `secure_delete`) leave no
    /// copy behind. Access-log keys and rows are kept.
    fn erase(&self, subjects: &[u64], removals: &[Projection], replace: &[Projection], checkpoint: bool) -> Result<()>;
    /// Destroy a subject's access-log key and the index of their access events, and
    /// apply `tallies` (their data-use contributions taken off), in one transaction.
    fn erase_access(&self, subject_no: u64, tallies: &[Projection]) -> Result<()>;
}

/// The projections: rows derived from the ledger (indexes, sealed facts, tallies),
/// dropped and rebuilt with identical contents.
pub trait ProjectionStore {
    fn subjects_by_document(&self, blind: &[u8; 32]) -> Result<Vec<u64>>;
    /// A subject's leaves with index `from` or later, as (index, event kind), in order.
    fn subject_leaves(&self, subject_no: u64, from: u64) -> Result<Vec<(u64, u16)>>;
    /// Every person's leaves of one kind in the leaf range `from..to`, in leaf
    /// order: (leaf index, subject number). For the auditors' access-log search.
    fn kind_leaves_in(&self, kind: u16, from: u64, to: u64) -> Result<Vec<(u64, u64)>>;
    /// One step of merging the per-person leaf index's old buckets into runs kept by
    /// person (SQLite's index is bucketed so appends stay cheap; merging keeps a read
    /// at a few seeks however long the ledger): the rows of a range of people, about
    /// `max_rows` from each source. Returns how many rows moved: 0 when nothing is
    /// left to merge (and always for a store whose index is kept by person already).
    fn fold_subject_leaves(&self, _max_rows: usize) -> Result<u64> {
        Ok(0)
    }
    fn registration_exists(&self, blind: &[u8; 32]) -> Result<bool>;
    /// [`ProjectionStore::subjects_by_document`] for many blinds at once (bulk loads).
    fn subjects_by_documents(&self, blinds: &[[u8; 32]]) -> Result<Vec<Vec<u64>>> {
        blinds.iter().map(|b| self.subjects_by_document(b)).collect()
    }
    /// [`ProjectionStore::registration_exists`] for many blinds at once (bulk loads).
    fn registrations_exist(&self, blinds: &[[u8; 32]]) -> Result<Vec<bool>> {
        blinds.iter().map(|b| self.registration_exists(b)).collect()
    }
    /// Leaf indexes of every program lifecycle event, oldest first.
    fn program_leaves(&self) -> Result<Vec<u64>>;
    /// Every cell of one tally metric: (dimensions, month, count).
    fn tallies(&self, metric: &str) -> Result<Vec<([String; 3], String, u64)>>;
    fn subject_count(&self) -> Result<u64>;
    /// A person's sealed biometric records, by registration leaf, oldest first. Not a
    /// projection: a rebuild keeps them.
    fn biometrics(&self, subject_no: u64) -> Result<Vec<BiometricRow>>;
    /// A subject's sealed stay facts: (through_leaf, sealed), if it has crossings
    /// before [`ProjectionStore::stay_facts_through`].
    fn stay_facts(&self, subject_no: u64) -> Result<Option<(u64, Vec<u8>)>>;
    /// The leaf index before which every crossing is folded into the stay facts
    /// (0 when nothing is).
    fn stay_facts_through(&self) -> Result<u64>;
    /// Every live subject's stay facts in subject order, handed to `f` in chunks of
    /// up to `chunk` rows; stops early, without error, when `f` returns `false`.
    fn scan_stay_facts(&self, chunk: usize, f: &mut dyn FnMut(Vec<StayFactsRow>) -> bool) -> Result<()>;
    /// The last line of an imported file already in the ledger.
    fn import_through(&self, file: &str) -> Result<Option<u64>>;
    /// Leaves of system events of one kind: (leaf index, scope key), oldest first.
    fn system_leaves(&self, kind: u16) -> Result<Vec<(u64, String)>>;
    /// The subjects with at least one law-enforcement request (a partial index).
    fn law_enforcement_subjects(&self) -> Result<Vec<u64>>;
    /// The subjects whose 1:N searches have candidates awaiting a decision.
    fn identification_subjects(&self) -> Result<Vec<u64>>;
    /// The people with open items in a staff work queue (see [`work`]), with the
    /// items, in subject-number order.
    fn work_items(&self, queue: u8) -> Result<Vec<(u64, String)>>;
    /// The live subjects with biometric records, in order (the 1:N gallery's rebuild).
    fn biometric_subjects(&self) -> Result<Vec<u64>>;
    /// Up to `limit` subjects with records of `program`, numbers above `after`, in order.
    fn program_subjects(&self, program: &str, after: u64, limit: usize) -> Result<Vec<u64>>;
    fn count_program_subjects(&self, program: &str) -> Result<u64>;
    fn has_program_records(&self, program: &str, subject_no: u64) -> Result<bool>;
    /// A subject's sealed compliance facts: (through_leaf, sealed).
    fn compliance_facts(&self, subject_no: u64) -> Result<Option<(u64, Vec<u8>)>>;
    /// Every live subject's compliance facts joined with their stay facts, in subject
    /// order, in chunks; stops early when `f` returns `false`.
    fn scan_compliance_facts(&self, chunk: usize, f: &mut dyn FnMut(Vec<ComplianceRow>) -> bool) -> Result<()>;
    /// The bookings of an office day (`YYYY-MM-DD`): (start, minutes, how many).
    fn slot_loads(&self, office: &str, day: &str) -> Result<Vec<(u16, u16, u32)>>;
    /// An office's waiting list, in arrival order.
    fn desk_queue(&self, office: &str) -> Result<Vec<QueueRow>>;
    fn drop_projections(&self) -> Result<()>;
    fn apply_projections(&self, rows: &[Projection]) -> Result<()>;
    fn projection_digest(&self) -> Result<ProjectionDigest>;
}

/// Credentials, kept beside the ledger and not in it: staff accounts, API tokens and
/// web sessions, the registrants' portal codes and sessions.
pub trait AccountStore {
    fn put_user(&self, user: &UserRow) -> Result<()>;
    fn user_by_name(&self, name: &str) -> Result<Option<UserRow>>;
    fn users(&self) -> Result<Vec<UserRow>>;
    /// Move a credential's expiry (a web session's idle deadline).
    fn touch_credential(&self, hash: &[u8; 32], expires_ms: i64) -> Result<()>;
    fn put_credential(
        &self,
        hash: &[u8; 32],
        user_id: &str,
        kind: CredentialKind,
        expires_ms: Option<i64>,
    ) -> Result<()>;
    fn user_by_credential(&self, hash: &[u8; 32], kind: CredentialKind, now_ms: i64) -> Result<Option<UserRow>>;
    fn delete_credential(&self, hash: &[u8; 32]) -> Result<()>;
    fn set_user_role(&self, id: &str, role: &str) -> Result<()>;
    /// Disable an account and delete every token and session of it.
    fn disable_user(&self, id: &str, at_ms: i64) -> Result<()>;
    fn delete_credentials_of(&self, user_id: &str, kind: CredentialKind) -> Result<()>;
    /// When the account's API token expires (the latest, if several).
    fn token_expiry(&self, user_id: &str) -> Result<Option<i64>>;
    /// The activation code of a live registration (by the blind index of its number).
    fn portal_code(&self, registration_blind: &[u8; 32]) -> Result<Option<PortalCode>>;
    /// The subject of a live registration (by the blind index of its number).
    fn registration_subject(&self, registration_blind: &[u8; 32]) -> Result<Option<u64>>;
    /// The person's portal passphrase (argon2 PHC) and when the portal was activated.
    fn portal_account(&self, subject_no: u64) -> Result<Option<(String, i64)>>;
    fn put_portal_session(&self, hash: &[u8; 32], subject_no: u64, expires_ms: i64) -> Result<()>;
    /// The subject of a live portal session.
    fn portal_session(&self, hash: &[u8; 32], now_ms: i64) -> Result<Option<u64>>;
    /// End one portal session (the person signed out).
    fn delete_portal_session(&self, hash: &[u8; 32]) -> Result<()>;
}

/// The staff work queues of [`Projection::Work`].
pub mod work {
    /// Designations awaiting a supervisor's review (item: the designation number).
    pub const DESIGNATION: u8 = 1;
    /// Excuses awaiting a supervisor's approval (item: the obligation key).
    pub const EXCUSE: u8 = 2;
    /// Served notices whose obligation has no determination yet (item: the obligation key).
    pub const DETERMINATION: u8 = 3;
    /// Correction requests awaiting an answer (item: the request number).
    pub const CORRECTION: u8 = 4;
}
