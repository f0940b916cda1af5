//! The embedded SQLite store: one writer connection and a small pool of readers,
//! WAL journal, `synchronous=FULL` (a commit is durable when it returns),
//! `secure_delete=ON` (freed pages are zeroed) and temporary tables in memory (no
//! temp files).

use std::path::Path;
use std::sync::{Arc, Mutex};

use fairgate_core::place::Place;
use fairgate_ledger::merkle::Hash;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

use crate::store::*;

const SCHEMA: &[&str] = &[
    // 1: the foundation.
    "CREATE TABLE ledger (idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL, hash BLOB NOT NULL);
     CREATE TABLE subject_keys (subject_no INTEGER PRIMARY KEY, subject_id BLOB NOT NULL UNIQUE, data_key BLOB, access_key BLOB);
     CREATE TABLE system_keys (name TEXT PRIMARY KEY, wrapped BLOB NOT NULL);
     CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL, signed_at_ms INTEGER NOT NULL);
     CREATE TABLE places (code TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, zone TEXT NOT NULL);
     CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, password_hash TEXT, created_ms INTEGER NOT NULL);
     CREATE TABLE credentials (hash BLOB PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), kind TEXT NOT NULL, expires_ms INTEGER);
     CREATE TABLE p_subjects (subject_no INTEGER PRIMARY KEY, created_leaf INTEGER NOT NULL);
     CREATE TABLE p_documents (blind BLOB NOT NULL, subject_no INTEGER NOT NULL, PRIMARY KEY (blind, subject_no)) WITHOUT ROWID;
     CREATE TABLE p_subject_leaves (bucket INTEGER NOT NULL, subject_no INTEGER NOT NULL, leaf_index INTEGER NOT NULL, kind INTEGER NOT NULL, PRIMARY KEY (bucket, subject_no, leaf_index)) WITHOUT ROWID;
     CREATE TABLE p_registrations (blind BLOB PRIMARY KEY, subject_no INTEGER NOT NULL, leaf_index INTEGER NOT NULL) WITHOUT ROWID;",
    // 2: programs (not personal; their content is still sealed in the ledger).
    "CREATE TABLE p_programs (program_id TEXT NOT NULL, version INTEGER NOT NULL, leaf_index INTEGER NOT NULL, PRIMARY KEY (program_id, version)) WITHOUT ROWID;",
    // 3: the hashes of complete subtrees at stored levels (see tree::STORED_LEVEL_STEP).
    "CREATE TABLE tree_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;",
    // 4: every 4th level instead of every 8th (proofs read at most 8 rows per sibling).
    "DELETE FROM tree_nodes;",
    // 5: the agency of each account.
    "ALTER TABLE users ADD COLUMN agency TEXT NOT NULL DEFAULT 'unspecified';",
    // 6: the transparency report's tallies (a projection: rebuilt from the ledger).
    "CREATE TABLE p_tallies (metric TEXT NOT NULL, d1 TEXT NOT NULL, d2 TEXT NOT NULL, d3 TEXT NOT NULL, month TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (metric, d1, d2, d3, month)) WITHOUT ROWID;",
    // 7: each subject's sealed stay facts (see facts.rs) and the compaction mark.
    // No mark means nothing is compacted yet: readers then use the leaves, so a
    // ledger written before this step needs no rebuild.
    "CREATE TABLE p_stay_facts (subject_no INTEGER PRIMARY KEY, through_leaf INTEGER NOT NULL, sealed BLOB NOT NULL);
     CREATE TABLE p_stay_facts_through (one INTEGER PRIMARY KEY CHECK (one = 1), through INTEGER NOT NULL);",
    // 8: every program lifecycle event (drafts, sign-offs, activations, repeals), not
    // only activations; the activations already listed carry over.
    "CREATE TABLE p_program_leaves (leaf_index INTEGER PRIMARY KEY, program_id TEXT NOT NULL);
     INSERT INTO p_program_leaves (leaf_index, program_id) SELECT leaf_index, program_id FROM p_programs;
     DROP TABLE p_programs;",
    // 9: each subject's sealed compliance facts. The stay facts are cleared with
    // their mark, so the next compaction folds the whole ledger into both.
    "CREATE TABLE p_compliance_facts (subject_no INTEGER PRIMARY KEY, through_leaf INTEGER NOT NULL, sealed BLOB NOT NULL);
     DELETE FROM p_stay_facts;
     DELETE FROM p_stay_facts_through;",
    // 10: system events by scope (expungement approvals and expungements).
    "CREATE TABLE p_system_leaves (leaf_index INTEGER PRIMARY KEY, kind INTEGER NOT NULL, scope TEXT NOT NULL);",
    // 11: the compliance facts now keep the places of registrations and designations:
    // fold them again from the whole ledger at the next compaction.
    "DELETE FROM p_compliance_facts; DELETE FROM p_stay_facts; DELETE FROM p_stay_facts_through;",
    // 12: the registrants' portal (credentials, not facts: kept outside the ledger like accounts).
    "CREATE TABLE portal_codes (registration_blind BLOB PRIMARY KEY, code_hash TEXT NOT NULL);
     CREATE TABLE portal_sessions (hash BLOB PRIMARY KEY, subject_no INTEGER NOT NULL, expires_ms INTEGER NOT NULL);",
    // 13: how far each imported file has been written (a projection of the imported registrations).
    "CREATE TABLE p_imports (file TEXT PRIMARY KEY, through INTEGER NOT NULL);",
    // 14: program keys (a program's records of each person are sealed under a key
    // derived from it and the person's data key) and who has such records.
    "CREATE TABLE program_keys (ordinal INTEGER PRIMARY KEY CHECK (ordinal BETWEEN 0 AND 239), program TEXT NOT NULL UNIQUE, wrapped BLOB);
     CREATE TABLE p_program_subjects (program TEXT NOT NULL, subject_no INTEGER NOT NULL, PRIMARY KEY (program, subject_no)) WITHOUT ROWID;",
    // 15: every registration now writes its portal code in its own commit (imports
    // too), keyed by the registration's leaf index: appended in order instead of
    // inserted at a random blind-index key, so a million-row import pays little for
    // it. Sign-in finds the leaf through p_registrations (same contents after any
    // rebuild). New codes are 16-byte keyed hashes (BLOB); older argon2 strings stay
    // TEXT. (A database migrated with its projections dropped loses its old codes.)
    "CREATE TABLE portal_codes_v2 (leaf_index INTEGER PRIMARY KEY, code_hash NOT NULL);
     INSERT INTO portal_codes_v2 SELECT r.leaf_index, c.code_hash FROM portal_codes c JOIN p_registrations r ON r.blind = c.registration_blind;
     DROP TABLE portal_codes;
     ALTER TABLE portal_codes_v2 RENAME TO portal_codes;",
    // 16: the compaction did not fold designations into the compliance facts (its
    // list of kinds was a copy that had missed them), so the activity-by-program
    // table never counted any: fold everything again at the next compaction.
    "DELETE FROM p_compliance_facts; DELETE FROM p_stay_facts; DELETE FROM p_stay_facts_through;",
    // 17: access codes become one-time activation codes, void once used or after 30
    // days (codes already issued count from this step), and the person's own portal
    // passphrase (argon2id) is kept by subject.
    "CREATE TABLE portal_codes_v3 (leaf_index INTEGER PRIMARY KEY, code_hash NOT NULL, issued_ms INTEGER NOT NULL, used_ms INTEGER);
     INSERT INTO portal_codes_v3 SELECT leaf_index, code_hash, CAST(strftime('%s', 'now') AS INTEGER) * 1000, NULL FROM portal_codes;
     DROP TABLE portal_codes;
     ALTER TABLE portal_codes_v3 RENAME TO portal_codes;
     CREATE TABLE portal_accounts (subject_no INTEGER PRIMARY KEY, passphrase TEXT NOT NULL, activated_ms INTEGER NOT NULL);",
    // 18: the people with law-enforcement requests, for the approvers' queue and the
    // public count of overdue emergency reviews (a partial index: other leaves skip it).
    "CREATE INDEX p_subject_leaves_law_enforcement ON p_subject_leaves (kind, subject_no) WHERE kind = 21;",
    // 19: accounts can be disabled, and API tokens expire (those issued before this
    // step: 90 days from it).
    "ALTER TABLE users ADD COLUMN disabled_ms INTEGER;
     UPDATE credentials SET expires_ms = CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 90 * 86400000 WHERE kind = 'token' AND expires_ms IS NULL;",
    // 20: the signing lease (one signer per database) and the witnesses' cosignatures.
    "CREATE TABLE signing_lease (id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL, expires_ms INTEGER NOT NULL);
     CREATE TABLE cosignatures (size INTEGER NOT NULL, witness TEXT NOT NULL, line TEXT NOT NULL, PRIMARY KEY (size, witness));",
    // 21: biometric records (CBEFF, sealed), beside the ledger, by registration leaf.
    "CREATE TABLE biometrics (leaf_index INTEGER PRIMARY KEY, subject_no INTEGER NOT NULL, sealed BLOB NOT NULL);
     CREATE INDEX biometrics_subject ON biometrics (subject_no);",
    // 22: appointments (bookings per office slot, counts only) and the offices'
    // waiting lists (pseudonymous numbers and times); both rebuilt from the ledger.
    // The compliance facts now keep the current postal code: fold them again.
    "CREATE TABLE p_slot_loads (office TEXT NOT NULL, day TEXT NOT NULL, start INTEGER NOT NULL, minutes INTEGER NOT NULL, booked INTEGER NOT NULL, PRIMARY KEY (office, day, start, minutes)) WITHOUT ROWID;
     CREATE TABLE p_desk_queue (office TEXT NOT NULL, subject_no INTEGER NOT NULL, arrived_ms INTEGER NOT NULL, slot_start INTEGER, called_ms INTEGER, desk INTEGER, PRIMARY KEY (office, subject_no)) WITHOUT ROWID;
     DELETE FROM p_compliance_facts; DELETE FROM p_stay_facts; DELETE FROM p_stay_facts_through;",
    // 23: the people whose enrolment's 1:N search has candidates awaiting a
    // supervisor's decision (numbers only; rebuilt from the ledger).
    "CREATE TABLE p_identification_reviews (subject_no INTEGER PRIMARY KEY, pending INTEGER NOT NULL);",
    // 24: the staff work queues (designations to review, excuses to approve, notices
    // that may need a determination, corrections to answer): numbers and keys only,
    // rebuilt from the ledger (`fairgate rebuild` fills it on an older database).
    "CREATE TABLE p_work (queue INTEGER NOT NULL, subject_no INTEGER NOT NULL, item TEXT NOT NULL, PRIMARY KEY (queue, subject_no, item)) WITHOUT ROWID;",
    // 25: each command's idempotency key, with where it landed (kept a day).
    "CREATE TABLE idempotency (key BLOB PRIMARY KEY, leaf_index INTEGER NOT NULL, tree_size INTEGER NOT NULL, created_ms INTEGER NOT NULL) WITHOUT ROWID;
     CREATE INDEX idempotency_created ON idempotency (created_ms);",
];

/// How long an idempotency key is kept: a retry comes within seconds; a day covers
/// a client that comes back after an outage.
pub const IDEMPOTENCY_KEEP_MS: i64 = 86_400_000;

/// `p_subject_leaves` is keyed by (bucket, subject, leaf) with buckets of this many
/// leaves. Appends then only touch the current bucket's pages: keyed by subject
/// first, a batch spread over many subjects would dirty nearly every page of the
/// index and write several times the ledger's own volume to the WAL. Reading one
/// subject's leaves costs one index seek per bucket, so the buckets older than the
/// newest [`UNFOLDED_BUCKETS`] are merged, in the background, into *runs* (see
/// [`runs`]): a read then costs a seek or two per run, and there are a few runs per
/// power of four of the ledger's length.
const BUCKET_BITS: u32 = 16;
/// How many of the newest buckets are left to appends, unmerged.
const UNFOLDED_BUCKETS: u64 = 2;

/// The merged part of the per-person leaf index, as a log-structured merge: the
/// rows of four complete buckets move into one run of level 1, four runs of level k
/// into one of level k + 1. A run holds its rows by person (its id is the `bucket`
/// column, negative so runs sort before the buckets), so a merge writes each run in
/// key order, page after page: it moves rows a range of people at a time, and in
/// every snapshot a row is in exactly one place (its sources or its run). Folding
/// all old rows into one table by person instead cost about three random page
/// writes per row, hundreds of megabytes a minute under load.
mod runs {
    /// Buckets per group: four.
    pub const FANOUT_BITS: u32 = 2;
    /// The deepest level (4^20 buckets is far beyond any ledger).
    pub const MAX_LEVEL: u32 = 20;
    const GROUP_BITS: u32 = 40;

    /// The id of the run of `level` (1 and up) holding group `group` of that level:
    /// buckets `group << 2·level` to `(group + 1) << 2·level`.
    pub fn id(level: u32, group: u64) -> i64 {
        -1 - (((level as i64) << GROUP_BITS) | group as i64)
    }

    /// (level, group) of an id: level 0 for a bucket (its own group).
    pub fn decode(id: i64) -> (u32, u64) {
        if id >= 0 {
            return (0, id as u64);
        }
        let x = -1 - id;
        ((x >> GROUP_BITS) as u32, (x & ((1 << GROUP_BITS) - 1)) as u64)
    }

    /// The buckets `start..end` an id covers.
    pub fn extent(id: i64) -> (u64, u64) {
        let (level, group) = decode(id);
        let shift = FANOUT_BITS * level;
        (group << shift, (group + 1) << shift)
    }

    /// Every id a row of `bucket` can be in: the bucket, then its run at each level.
    pub fn homes(bucket: u64) -> impl Iterator<Item = i64> {
        std::iter::once(bucket as i64)
            .chain((1..=MAX_LEVEL).map(move |level| id(level, bucket >> (FANOUT_BITS * level))))
    }
}

/// A SQLite error as the store's. A full disk, a file system that went read-only,
/// an I/O error or a lock held past the busy timeout is `Unavailable` (the server
/// answers 503 with Retry-After: nothing was written, and service resumes by itself
/// once space or the disk returns); anything else is a `Backend` error.
fn be(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code() {
        Some(C::DiskFull) => {
            StoreError::Unavailable(format!("the disk holding the database is full ({e}): free space"))
        }
        Some(C::ReadOnly) => {
            StoreError::Unavailable(format!("the database's file system is read-only ({e}): make it writable"))
        }
        // (Not `CannotOpen`: at start-up that is a wrong path or permissions, and
        // "try again shortly" would be the wrong advice.)
        Some(C::SystemIoFailure) => {
            StoreError::Unavailable(format!("the database's disk failed a read or write ({e})"))
        }
        Some(C::DatabaseBusy) | Some(C::DatabaseLocked) => {
            StoreError::Unavailable(format!("another process held the database for too long ({e})"))
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

fn hash_from(v: Vec<u8>) -> Result<Hash> {
    v.try_into().map_err(|_| StoreError::Corrupt("a stored hash is not 32 bytes".into()))
}

pub struct SqliteStore {
    path: std::path::PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// The WAL checkpointer thread (see [`Checkpointer`]).
    checkpointer: Checkpointer,
}

/// Copies the write-ahead log back into the database file on a thread of its own,
/// so that no commit waits for it. SQLite's automatic checkpoint runs inside the
/// commit that fills the log past 1,000 pages: under sustained writes that was a
/// commit every second or so taking tens of milliseconds (the database file's
/// writes and its sync), and every command queued behind it. The writer's automatic
/// checkpoint stays on as a backstop, at [`BACKSTOP_PAGES`], should this thread
/// fall behind. Durability does not change: a commit is durable once its log
/// frames are synced, before it returns.
struct Checkpointer {
    stop: Arc<std::sync::atomic::AtomicBool>,
    /// Commits since the thread last looked.
    commits: Arc<std::sync::atomic::AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The writer's own automatic checkpoint, in pages (the background one runs first).
const BACKSTOP_PAGES: i64 = 16_384;

/// How often the background checkpoint runs while commits come in. Each run writes
/// the pages the log holds back into the database file at random places and syncs
/// it, on the same disk as the commits' syncs: every 200 ms, a page that every
/// commit touches (the ledger's last page, the tree's, the day's tallies) was
/// written back five times a second, and each sync of the database file delayed
/// the commits' own.
const CHECKPOINT_BEAT: std::time::Duration = std::time::Duration::from_secs(1);

impl Checkpointer {
    fn start(path: &Path) -> Self {
        use std::sync::atomic::Ordering;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let commits = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (stop2, commits2, path) = (stop.clone(), commits.clone(), path.to_path_buf());
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let mut conn: Option<Connection> = None;
                while !stop2.load(Ordering::Relaxed) {
                    std::thread::park_timeout(CHECKPOINT_BEAT);
                    if commits2.swap(0, Ordering::Relaxed) == 0 {
                        continue;
                    }
                    if conn.is_none() {
                        conn = Connection::open(&path).ok().filter(|c| configure(c).is_ok());
                    }
                    if let Some(c) = &conn {
                        // PASSIVE: copies what no reader still needs, never waits for
                        // a writer or a reader. A failure is retried on the next beat.
                        if let Err(e) = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                            tracing::debug!(error = %e, "background WAL checkpoint failed; retried later");
                        }
                    }
                }
            })
            .ok();
        Self { stop, commits, thread }
    }

    fn committed(&self) {
        self.commits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// The pragmas every connection runs with (public so that a benchmark's bare-SQLite
/// baseline runs with the same ones).
pub const PRAGMAS: &str = "PRAGMA journal_mode=WAL;
     PRAGMA synchronous=FULL;
     PRAGMA secure_delete=ON;
     PRAGMA temp_store=MEMORY;
     PRAGMA foreign_keys=ON;
     PRAGMA cache_size=-65536;";

/// Reader connections kept open for reuse.
const READER_POOL: usize = 48;

/// Statements kept prepared per connection (rusqlite's default is 16; a request
/// runs a dozen distinct ones, and re-parsing SQL was a tenth of the server's CPU).
const STATEMENT_CACHE: usize = 256;

/// `query_row` through the connection's statement cache: `Connection::query_row`
/// parses its SQL every time.
trait CachedRow {
    fn cached_row<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl CachedRow for Connection {
    fn cached_row<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

fn configure(conn: &Connection) -> Result<()> {
    conn.execute_batch(PRAGMAS).map_err(be)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(be)?;
    Ok(())
}

impl SqliteStore {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path).map_err(be)?;
        // Owner-only, whatever the umask. SQLite gives the -wal and -shm files the
        // main file's permissions, so this covers them too.
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| StoreError::Backend(format!("{}: {e}", path.display())))?;
        }
        configure(&conn)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(be)?;
        for (i, step) in SCHEMA.iter().enumerate().skip(version as usize) {
            let tx = conn.unchecked_transaction().map_err(be)?;
            tx.execute_batch(step).map_err(be)?;
            if i + 1 == 4 {
                backfill_tree_nodes(&tx)?;
            }
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1)).map_err(be)?;
            tx.commit().map_err(be)?;
        }
        // The one writer gets a larger cache: a bulk commit touches pages of every
        // blind index, and spilling them mid-transaction doubles the writes.
        conn.execute_batch("PRAGMA cache_size=-262144;").map_err(be)?;
        conn.pragma_update(None, "wal_autocheckpoint", BACKSTOP_PAGES).map_err(be)?;
        Ok(Self {
            path: path.to_path_buf(),
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            checkpointer: Checkpointer::start(path),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().map_err(|_| StoreError::Backend("writer lock poisoned".into()))?;
        f(&mut conn)
    }

    /// An online, consistent copy of the database into `dest` (which must not exist),
    /// taken while writers go on (`VACUUM INTO` reads one snapshot). The copy holds
    /// what the database holds: sealed data, no key.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let target = dest.to_str().ok_or_else(|| StoreError::Backend(format!("{}: not UTF-8", dest.display())))?;
        self.read(|c| c.execute("VACUUM INTO ?1", [target]).map(|_| ()).map_err(be))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| StoreError::Backend(format!("{}: {e}", dest.display())))
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.readers.lock().map_err(|_| StoreError::Backend("reader pool poisoned".into()))?.pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open(&self.path).map_err(be)?;
                configure(&c)?;
                c
            }
        };
        let out = f(&conn);
        if let Ok(mut pool) = self.readers.lock() {
            // Opening a connection parses the schema: under load (every request
            // reads) a small pool reopened one per request.
            if pool.len() < READER_POOL {
                pool.push(conn);
            }
        }
        out
    }
}

fn insert_projections(tx: &rusqlite::Transaction<'_>, rows: &[Projection]) -> Result<()> {
    let mut subj =
        tx.prepare_cached("INSERT INTO p_subjects (subject_no, created_leaf) VALUES (?1, ?2)").map_err(be)?;
    let mut doc =
        tx.prepare_cached("INSERT OR IGNORE INTO p_documents (blind, subject_no) VALUES (?1, ?2)").map_err(be)?;
    let mut leaf = tx
        .prepare_cached("INSERT INTO p_subject_leaves (bucket, subject_no, leaf_index, kind) VALUES (?1, ?2, ?3, ?4)")
        .map_err(be)?;
    let mut reg = tx
        .prepare_cached("INSERT INTO p_registrations (blind, subject_no, leaf_index) VALUES (?1, ?2, ?3)")
        .map_err(be)?;
    let mut prog =
        tx.prepare_cached("INSERT INTO p_program_leaves (leaf_index, program_id) VALUES (?1, ?2)").map_err(be)?;
    // Many events of a commit fall in the same few cells: add them up first.
    let mut tallies: std::collections::HashMap<(&str, &[String; 3], &str), u64> = std::collections::HashMap::new();
    // Rows keyed by a blind index go last, in key order, so a bulk commit fills those
    // indexes page by page; the rest keep their order (later upserts win).
    let blind_of = |p: &Projection| match p {
        Projection::Document { blind, .. } => Some((1u8, *blind)),
        Projection::Registration { blind, .. } => Some((2u8, *blind)),
        _ => None,
    };
    let mut keyed: Vec<(&Projection, (u8, [u8; 32]))> =
        rows.iter().filter_map(|p| blind_of(p).map(|k| (p, k))).collect();
    keyed.sort_unstable_by_key(|(_, k)| *k);
    let sorted = rows.iter().filter(|p| blind_of(p).is_none()).chain(keyed.into_iter().map(|(p, _)| p));
    let mut tally = tx
        .prepare_cached(
            "INSERT INTO p_tallies (metric, d1, d2, d3, month, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (metric, d1, d2, d3, month) DO UPDATE SET count = count + excluded.count",
        )
        .map_err(be)?;
    let mut facts = tx
        .prepare_cached(
            "INSERT INTO p_stay_facts (subject_no, through_leaf, sealed) VALUES (?1, ?2, ?3)
             ON CONFLICT (subject_no) DO UPDATE SET through_leaf = excluded.through_leaf, sealed = excluded.sealed",
        )
        .map_err(be)?;
    let mut compliance = tx
        .prepare_cached(
            "INSERT INTO p_compliance_facts (subject_no, through_leaf, sealed) VALUES (?1, ?2, ?3)
             ON CONFLICT (subject_no) DO UPDATE SET through_leaf = excluded.through_leaf, sealed = excluded.sealed",
        )
        .map_err(be)?;
    for row in sorted {
        match row {
            Projection::StayFacts { subject_no, through_leaf, sealed } => {
                facts.execute(params![*subject_no as i64, *through_leaf as i64, sealed])
            }
            Projection::ImportLine { file, line } => tx.execute(
                "INSERT INTO p_imports (file, through) VALUES (?1, ?2)
                 ON CONFLICT (file) DO UPDATE SET through = MAX(through, excluded.through)",
                params![file, *line as i64],
            ),
            Projection::SystemLeaf { leaf_index, kind, scope } => tx.execute(
                "INSERT INTO p_system_leaves (leaf_index, kind, scope) VALUES (?1, ?2, ?3)",
                params![*leaf_index as i64, *kind as i64, scope],
            ),
            Projection::ComplianceFacts { subject_no, through_leaf, sealed } => {
                compliance.execute(params![*subject_no as i64, *through_leaf as i64, sealed])
            }
            Projection::StayFactsThrough { through } => tx.execute(
                "INSERT INTO p_stay_facts_through (one, through) VALUES (1, ?1)
                 ON CONFLICT (one) DO UPDATE SET through = excluded.through",
                [*through as i64],
            ),
            Projection::Subject { subject_no, created_leaf } => {
                subj.execute(params![*subject_no as i64, *created_leaf as i64])
            }
            Projection::Document { blind, subject_no } => doc.execute(params![&blind[..], *subject_no as i64]),
            Projection::SubjectLeaf { subject_no, leaf_index, kind } => leaf.execute(params![
                (*leaf_index >> BUCKET_BITS) as i64,
                *subject_no as i64,
                *leaf_index as i64,
                *kind as i64
            ]),
            Projection::Program { id, leaf_index } => prog.execute(params![*leaf_index as i64, id]),
            Projection::Registration { blind, subject_no, leaf_index } => {
                reg.execute(params![&blind[..], *subject_no as i64, *leaf_index as i64])
            }
            Projection::Tally { metric, dims, month, count } => {
                *tallies.entry((metric.as_str(), dims, month.as_str())).or_default() += count;
                continue;
            }
            Projection::ProgramSubject { program, subject_no } => tx
                .prepare_cached("INSERT OR IGNORE INTO p_program_subjects (program, subject_no) VALUES (?1, ?2)")
                .and_then(|mut st| st.execute(params![program, *subject_no as i64])),
            Projection::SlotLoad { office, day, start, minutes, delta } => slot_load(tx, office, day, *start, *minutes, *delta),
            Projection::Queue { office, subject_no, op } => queue_op(tx, office, *subject_no, op),
            Projection::IdentificationReview { subject_no, delta } => review_op(tx, *subject_no, *delta),
            Projection::Work { queue, subject_no, item, open } => work_op(tx, *queue, *subject_no, item, *open),
            Projection::TallyRemove { metric, dims, month, count } => {
                let key = params![metric, dims[0], dims[1], dims[2], month];
                tx.execute(
                    "UPDATE p_tallies SET count = count - ?6 WHERE metric = ?1 AND d1 = ?2 AND d2 = ?3 AND d3 = ?4 AND month = ?5",
                    params![metric, dims[0], dims[1], dims[2], month, *count as i64],
                )
                .map_err(be)?;
                tx.execute(
                    "DELETE FROM p_tallies WHERE metric = ?1 AND d1 = ?2 AND d2 = ?3 AND d3 = ?4 AND month = ?5 AND count <= 0",
                    key,
                )
            }
        }
        .map_err(be)?;
    }
    for ((metric, dims, month), count) in tallies {
        tally.execute(params![metric, dims[0], dims[1], dims[2], month, count as i64]).map_err(be)?;
    }
    Ok(())
}

/// Add `delta` bookings to a slot; a slot that reaches zero is removed (as a
/// rebuild would never create it).
fn slot_load(
    tx: &rusqlite::Transaction<'_>,
    office: &str,
    day: &str,
    start: u16,
    minutes: u16,
    delta: i64,
) -> rusqlite::Result<usize> {
    let key = params![office, day, i64::from(start), i64::from(minutes)];
    tx.prepare_cached(
        "INSERT INTO p_slot_loads (office, day, start, minutes, booked) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (office, day, start, minutes) DO UPDATE SET booked = booked + excluded.booked",
    )?
    .execute(params![office, day, i64::from(start), i64::from(minutes), delta])?;
    tx.prepare_cached(
        "DELETE FROM p_slot_loads WHERE office = ?1 AND day = ?2 AND start = ?3 AND minutes = ?4 AND booked <= 0",
    )?
    .execute(key)
}

fn work_op(
    tx: &rusqlite::Transaction<'_>,
    queue: u8,
    subject_no: u64,
    item: &str,
    open: bool,
) -> rusqlite::Result<usize> {
    let sql = if open {
        "INSERT OR IGNORE INTO p_work (queue, subject_no, item) VALUES (?1, ?2, ?3)"
    } else {
        "DELETE FROM p_work WHERE queue = ?1 AND subject_no = ?2 AND item = ?3"
    };
    tx.prepare_cached(sql)?.execute(params![i64::from(queue), subject_no as i64, item])
}

fn review_op(tx: &rusqlite::Transaction<'_>, subject_no: u64, delta: i64) -> rusqlite::Result<usize> {
    tx.prepare_cached(
        "INSERT INTO p_identification_reviews (subject_no, pending) VALUES (?1, ?2)
         ON CONFLICT (subject_no) DO UPDATE SET pending = pending + excluded.pending",
    )?
    .execute(params![subject_no as i64, delta])?;
    tx.prepare_cached("DELETE FROM p_identification_reviews WHERE subject_no = ?1 AND pending <= 0")?
        .execute([subject_no as i64])
}

fn queue_op(tx: &rusqlite::Transaction<'_>, office: &str, subject_no: u64, op: &QueueOp) -> rusqlite::Result<usize> {
    let no = subject_no as i64;
    match op {
        QueueOp::Arrive { at_ms, slot_start } => tx
            .prepare_cached(
                "INSERT INTO p_desk_queue (office, subject_no, arrived_ms, slot_start, called_ms, desk) VALUES (?1, ?2, ?3, ?4, NULL, NULL)
                 ON CONFLICT (office, subject_no) DO UPDATE SET arrived_ms = excluded.arrived_ms, slot_start = excluded.slot_start, called_ms = NULL, desk = NULL",
            )?
            .execute(params![office, no, at_ms, slot_start.map(i64::from)]),
        QueueOp::Call { at_ms, desk } => tx
            .prepare_cached("UPDATE p_desk_queue SET called_ms = ?3, desk = ?4 WHERE office = ?1 AND subject_no = ?2")?
            .execute(params![office, no, at_ms, i64::from(*desk)]),
        QueueOp::Leave => tx
            .prepare_cached("DELETE FROM p_desk_queue WHERE office = ?1 AND subject_no = ?2")?
            .execute(params![office, no]),
    }
}

/// The positions of `keys` in ascending key order.
fn key_order(keys: &[[u8; 32]]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_unstable_by_key(|&i| keys[i]);
    order
}

/// Destroy the data keys of `subjects` with their sealed facts and portal
/// credentials, and delete the rows `removals` names, inside `tx`.
fn erase_in(tx: &rusqlite::Transaction<'_>, subjects: &[u64], removals: &[Projection]) -> Result<()> {
    {
        let mut key = tx.prepare_cached("UPDATE subject_keys SET data_key = NULL WHERE subject_no = ?1").map_err(be)?;
        let mut stay = tx.prepare_cached("DELETE FROM p_stay_facts WHERE subject_no = ?1").map_err(be)?;
        let mut comp = tx.prepare_cached("DELETE FROM p_compliance_facts WHERE subject_no = ?1").map_err(be)?;
        let mut bio = tx.prepare_cached("DELETE FROM biometrics WHERE subject_no = ?1").map_err(be)?;
        for no in subjects {
            let no = *no as i64;
            key.execute([no]).map_err(be)?;
            stay.execute([no]).map_err(be)?;
            comp.execute([no]).map_err(be)?;
            bio.execute([no]).map_err(be)?;
        }
        if !subjects.is_empty() {
            // Sessions are few and short-lived: one pass over them.
            let list = subjects.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",");
            tx.execute(&format!("DELETE FROM portal_sessions WHERE subject_no IN ({list})"), []).map_err(be)?;
            tx.execute(&format!("DELETE FROM portal_accounts WHERE subject_no IN ({list})"), []).map_err(be)?;
        }
    }
    remove_projections(tx, removals)
}

/// Delete the rows `rows` name, each as `insert_projections` would have added it.
fn remove_projections(tx: &rusqlite::Transaction<'_>, rows: &[Projection]) -> Result<()> {
    let mut leaf = tx
        .prepare_cached("DELETE FROM p_subject_leaves WHERE bucket = ?1 AND subject_no = ?2 AND leaf_index = ?3")
        .map_err(be)?;
    let mut reg = tx.prepare_cached("DELETE FROM p_registrations WHERE blind = ?1").map_err(be)?;
    let mut code = tx.prepare_cached("DELETE FROM portal_codes WHERE leaf_index = ?1").map_err(be)?;
    let mut doc = tx.prepare_cached("DELETE FROM p_documents WHERE blind = ?1 AND subject_no = ?2").map_err(be)?;
    let mut subj = tx.prepare_cached("DELETE FROM p_subjects WHERE subject_no = ?1").map_err(be)?;
    let mut prog =
        tx.prepare_cached("DELETE FROM p_program_subjects WHERE program = ?1 AND subject_no = ?2").map_err(be)?;
    let mut tallies: std::collections::HashMap<(&str, &[String; 3], &str), u64> = std::collections::HashMap::new();
    for row in rows {
        match row {
            Projection::Subject { subject_no, .. } => subj.execute([*subject_no as i64]),
            Projection::Document { blind, subject_no } => doc.execute(params![&blind[..], *subject_no as i64]),
            Projection::SubjectLeaf { subject_no, leaf_index, .. } => {
                // In its bucket or in one of the runs that bucket merges into.
                let mut n = 0;
                for home in runs::homes(*leaf_index >> BUCKET_BITS) {
                    n = leaf.execute(params![home, *subject_no as i64, *leaf_index as i64]).map_err(be)?;
                    if n > 0 {
                        break;
                    }
                }
                Ok(n)
            }
            Projection::Registration { blind, leaf_index, .. } => {
                code.execute([*leaf_index as i64]).map_err(be)?;
                reg.execute([&blind[..]])
            }
            Projection::ProgramSubject { program, subject_no } => prog.execute(params![program, *subject_no as i64]),
            Projection::Tally { metric, dims, month, count }
            | Projection::TallyRemove { metric, dims, month, count } => {
                *tallies.entry((metric.as_str(), dims, month.as_str())).or_default() += count;
                continue;
            }
            Projection::SlotLoad { office, day, start, minutes, delta } => {
                slot_load(tx, office, day, *start, *minutes, -*delta)
            }
            Projection::Queue { office, subject_no, .. } => queue_op(tx, office, *subject_no, &QueueOp::Leave),
            Projection::IdentificationReview { subject_no, .. } => tx
                .prepare_cached("DELETE FROM p_identification_reviews WHERE subject_no = ?1")
                .map_err(be)?
                .execute([*subject_no as i64]),
            Projection::Work { subject_no, .. } => {
                tx.prepare_cached("DELETE FROM p_work WHERE subject_no = ?1").map_err(be)?.execute([*subject_no as i64])
            }
            // The high-water mark of an import stays (the lines are in the ledger);
            // the rest are not a person's rows.
            Projection::ImportLine { .. }
            | Projection::Program { .. }
            | Projection::SystemLeaf { .. }
            | Projection::StayFacts { .. }
            | Projection::StayFactsThrough { .. }
            | Projection::ComplianceFacts { .. } => continue,
        }
        .map_err(be)?;
    }
    let cells: Vec<Projection> = tallies
        .into_iter()
        .map(|((metric, dims, month), count)| Projection::TallyRemove {
            metric: metric.to_string(),
            dims: dims.clone(),
            month: month.to_string(),
            count,
        })
        .collect();
    insert_projections(tx, &cells)
}

/// Compute the stored subtree hashes of a ledger written before they were kept.
fn backfill_tree_nodes(conn: &Connection) -> Result<()> {
    let mut frontier = fairgate_ledger::merkle::Frontier::new();
    let mut read = conn.prepare("SELECT hash FROM ledger ORDER BY idx").map_err(be)?;
    let mut write = conn.prepare("INSERT INTO tree_nodes (level, idx, hash) VALUES (?1, ?2, ?3)").map_err(be)?;
    let mut rows = read.query([]).map_err(be)?;
    while let Some(r) = rows.next().map_err(be)? {
        let mut nodes = Vec::new();
        frontier.push_with(hash_from(r.get(0).map_err(be)?)?, |level, index, hash| {
            if level % crate::tree::STORED_LEVEL_STEP == 0 {
                nodes.push((level, index, *hash));
            }
        });
        for (level, index, hash) in nodes {
            write.execute(params![level as i64, index as i64, &hash[..]]).map_err(be)?;
        }
    }
    Ok(())
}

/// The ids of the per-person leaf index's runs (see [`runs`]), in key order: one
/// seek each.
fn run_ids(c: &Connection) -> Result<Vec<i64>> {
    let mut st = c
        .prepare_cached("SELECT bucket FROM p_subject_leaves WHERE bucket > ?1 AND bucket < 0 ORDER BY bucket LIMIT 1")
        .map_err(be)?;
    let mut ids = Vec::new();
    let mut after = i64::MIN;
    while let Some(id) = st.query_row([after], |r| r.get::<_, i64>(0)).optional().map_err(be)? {
        ids.push(id);
        after = id;
    }
    Ok(ids)
}

/// The oldest bucket not yet merged into a run, if any.
fn oldest_bucket(c: &Connection) -> Result<Option<u64>> {
    c.cached_row("SELECT bucket FROM p_subject_leaves WHERE bucket >= 0 ORDER BY bucket LIMIT 1", [], |r| {
        r.get::<_, i64>(0)
    })
    .optional()
    .map(|b| b.map(|b| b as u64))
    .map_err(be)
}

/// Every id with rows, runs and buckets alike, in key order.
fn ids_in(c: &Connection) -> Result<Vec<i64>> {
    let mut ids = run_ids(c)?;
    let mut st = c
        .prepare_cached("SELECT bucket FROM p_subject_leaves WHERE bucket > ?1 ORDER BY bucket LIMIT 1")
        .map_err(be)?;
    let mut after = -1;
    while let Some(id) = st.query_row([after], |r| r.get::<_, i64>(0)).optional().map_err(be)? {
        ids.push(id);
        after = id;
    }
    Ok(ids)
}

fn size_of(conn: &Connection) -> Result<u64> {
    conn.cached_row("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger", [], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
        .map_err(be)
}

/// subject_no, subject_id, data_key, access_key as read from a row.
type KeysTuple = (i64, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

fn keys_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KeysTuple> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_keys(t: KeysTuple) -> Result<SubjectKeysRow> {
    Ok(SubjectKeysRow {
        subject_no: t.0 as u64,
        subject_id: t.1.try_into().map_err(|_| StoreError::Corrupt("a subject id is not 16 bytes".into()))?,
        data_key: t.2,
        access_key: t.3,
    })
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: r.get(0)?,
        name: r.get(1)?,
        role: r.get(2)?,
        password_hash: r.get(3)?,
        created_ms: r.get(4)?,
        agency: r.get(5)?,
        disabled_ms: r.get(6)?,
    })
}

impl LedgerStore for SqliteStore {
    fn commit_group(&self, group: &[Commit]) -> Result<()> {
        let Some(expected) = crate::store::group_start(group)? else { return Ok(()) };
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(be)?;
            let found = size_of(&tx)?;
            if found != expected {
                return Err(StoreError::Conflict { expected, found });
            }
            // In order: each commit builds on the one before it.
            for c in group {
            {
                let mut keys = tx
                    .prepare_cached("INSERT INTO subject_keys (subject_no, subject_id, data_key, access_key) VALUES (?1, ?2, ?3, ?4)")
                    .map_err(be)?;
                // In key order: the unique index on the (random) subject id is then
                // filled page by page instead of at random (bulk loads).
                let mut sorted: Vec<&SubjectKeysRow> = c.subject_keys.iter().collect();
                sorted.sort_unstable_by_key(|k| k.subject_id);
                for k in sorted {
                    keys.execute(params![k.subject_no as i64, &k.subject_id[..], k.data_key, k.access_key]).map_err(be)?;
                }
                // In the same transaction as their first records: a commit that
                // conflicts leaves no key behind (wrapped under a master key that a
                // rotation meanwhile moved past).
                for k in &c.program_keys {
                    tx.execute(
                        "INSERT INTO program_keys (ordinal, program, wrapped) VALUES (?1, ?2, ?3)",
                        params![k.ordinal as i64, k.program, k.wrapped],
                    )
                    .map_err(be)?;
                }
                let mut ins = tx.prepare_cached("INSERT INTO ledger (idx, leaf, hash) VALUES (?1, ?2, ?3)").map_err(be)?;
                for l in &c.leaves {
                    ins.execute(params![l.index as i64, l.leaf, &l.hash[..]]).map_err(be)?;
                }
                let mut node =
                    tx.prepare_cached("INSERT INTO tree_nodes (level, idx, hash) VALUES (?1, ?2, ?3)").map_err(be)?;
                for n in &c.nodes {
                    node.execute(params![n.level as i64, n.index as i64, &n.hash[..]]).map_err(be)?;
                }
            }
            insert_projections(&tx, &c.projections)?;
            for (leaf, at) in &c.portal_void {
                tx.prepare_cached("UPDATE portal_codes SET used_ms = ?2 WHERE leaf_index = ?1 AND used_ms IS NULL")
                    .and_then(|mut st| st.execute(params![*leaf as i64, at]))
                    .map_err(be)?;
            }
            if !c.portal_codes.is_empty() {
                let mut code = tx
                    .prepare_cached(
                        "INSERT OR REPLACE INTO portal_codes (leaf_index, code_hash, issued_ms, used_ms) VALUES (?1, ?2, ?3, NULL)",
                    )
                    .map_err(be)?;
                // Keyed by the registration's leaf: appended in order, like the ledger.
                for r in &c.portal_codes {
                    code.execute(params![r.leaf as i64, &r.hash[..], r.issued_ms]).map_err(be)?;
                }
            }
            if !c.biometrics.is_empty() {
                let mut st = tx
                    .prepare_cached("INSERT INTO biometrics (leaf_index, subject_no, sealed) VALUES (?1, ?2, ?3)")
                    .map_err(be)?;
                for b in &c.biometrics {
                    st.execute(params![b.leaf as i64, b.subject_no as i64, &b.sealed]).map_err(be)?;
                }
            }
            if let Some(e) = &c.erase {
                erase_in(&tx, &e.subjects, &e.removals)?;
                for p in &e.program_keys {
                    tx.execute("UPDATE program_keys SET wrapped = NULL WHERE program = ?1", [p]).map_err(be)?;
                }
            }
            if let (Some((key, at)), Some(first)) = (&c.idempotency, c.leaves.first()) {
                let end = first.index + c.leaves.len() as u64;
                tx.prepare_cached(
                    "INSERT INTO idempotency (key, leaf_index, tree_size, created_ms) VALUES (?1, ?2, ?3, ?4)",
                )
                .and_then(|mut st| st.execute(params![&key[..], first.index as i64, end as i64, at]))
                .map_err(be)?;
                // Now and then, forget the keys older than a day.
                if first.index / 4096 != end / 4096 {
                    tx.execute("DELETE FROM idempotency WHERE created_ms < ?1", [at - IDEMPOTENCY_KEEP_MS])
                        .map_err(be)?;
                }
            }
            for (no, account) in &c.portal_accounts {
                let no = *no as i64;
                tx.execute("DELETE FROM portal_sessions WHERE subject_no = ?1", [no]).map_err(be)?;
                match account {
                    Some((phc, at)) => tx.execute(
                        "INSERT OR REPLACE INTO portal_accounts (subject_no, passphrase, activated_ms) VALUES (?1, ?2, ?3)",
                        params![no, phc, at],
                    ),
                    None => tx.execute("DELETE FROM portal_accounts WHERE subject_no = ?1", [no]),
                }
                .map_err(be)?;
            }
            }
            tx.commit().map_err(be)?;
            self.checkpointer.committed();
            if group.iter().any(|c| c.erase.is_some()) {
                // Copy the zeroed pages back into the main file and empty the WAL.
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(be)?;
            }
            Ok(())
        })
    }

    fn tree_size(&self) -> Result<u64> {
        self.read(size_of)
    }

    fn idempotent(&self, key: &[u8; 32]) -> Result<Option<(u64, u64)>> {
        self.read(|c| {
            c.prepare_cached("SELECT leaf_index, tree_size FROM idempotency WHERE key = ?1")
                .map_err(be)?
                .query_row([&key[..]], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)))
                .optional()
                .map_err(be)
        })
    }

    fn leaves(&self, start: u64, count: u64) -> Result<Vec<LeafRow>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT idx, leaf, hash FROM ledger WHERE idx >= ?1 ORDER BY idx LIMIT ?2")
                .map_err(be)?;
            let rows = st
                .query_map(params![start as i64, count as i64], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, Vec<u8>>(2)?))
                })
                .map_err(be)?;
            rows.map(|r| {
                let (i, leaf, hash) = r.map_err(be)?;
                Ok(LeafRow { index: i as u64, leaf, hash: hash_from(hash)? })
            })
            .collect()
        })
    }

    fn leaves_at(&self, indexes: &[u64]) -> Result<Vec<LeafRow>> {
        self.read(|c| {
            let mut st = c.prepare_cached("SELECT leaf, hash FROM ledger WHERE idx = ?1").map_err(be)?;
            indexes
                .iter()
                .map(|&i| {
                    let (leaf, hash) = st
                        .query_row(params![i as i64], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?)))
                        .map_err(be)?;
                    Ok(LeafRow { index: i, leaf, hash: hash_from(hash)? })
                })
                .collect()
        })
    }

    fn leaf_hashes(&self, start: u64, count: u64) -> Result<Vec<Hash>> {
        self.read(|c| {
            let mut st =
                c.prepare_cached("SELECT hash FROM ledger WHERE idx >= ?1 ORDER BY idx LIMIT ?2").map_err(be)?;
            let rows = st.query_map(params![start as i64, count as i64], |r| r.get::<_, Vec<u8>>(0)).map_err(be)?;
            rows.map(|r| hash_from(r.map_err(be)?)).collect()
        })
    }

    fn tree_nodes(&self, level: u32, start: u64, count: u64) -> Result<Vec<Hash>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT idx, hash FROM tree_nodes WHERE level = ?1 AND idx >= ?2 ORDER BY idx LIMIT ?3")
                .map_err(be)?;
            let rows = st
                .query_map(params![level as i64, start as i64, count as i64], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
                })
                .map_err(be)?;
            let mut out = Vec::with_capacity(count as usize);
            for (i, r) in rows.enumerate() {
                let (idx, hash) = r.map_err(be)?;
                if idx as u64 != start + i as u64 {
                    return Err(StoreError::Corrupt(format!("tree node ({level}, {}) is missing", start + i as u64)));
                }
                out.push(hash_from(hash)?);
            }
            Ok(out)
        })
    }

    fn put_checkpoint(&self, cp: Option<&CheckpointRow>, lease: &Lease, now_ms: i64) -> Result<Option<Lease>> {
        self.write(|conn| {
            // Immediate: the lease is read and written under the database's write lock,
            // so two processes cannot both find it free.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(be)?;
            let held: Option<(String, i64)> = tx
                .cached_row("SELECT holder, expires_ms FROM signing_lease WHERE id = 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
                .map_err(be)?;
            if let Some((holder, expires_ms)) = held {
                if holder != lease.holder && expires_ms > now_ms {
                    return Ok(Some(Lease { holder, expires_ms }));
                }
            }
            tx.execute(
                "INSERT INTO signing_lease (id, holder, expires_ms) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms",
                params![lease.holder, lease.expires_ms],
            )
            .map_err(be)?;
            if let Some(cp) = cp {
                tx.execute(
                    "INSERT OR IGNORE INTO checkpoints (size, root, note, signed_at_ms) VALUES (?1, ?2, ?3, ?4)",
                    params![cp.size as i64, &cp.root[..], cp.note, cp.signed_at_ms],
                )
                .map_err(be)?;
            }
            tx.commit().map_err(be)?;
            Ok(None)
        })
    }

    fn release_lease(&self, holder: &str) -> Result<()> {
        self.write(|c| c.execute("DELETE FROM signing_lease WHERE holder = ?1", [holder]).map(|_| ()).map_err(be))
    }

    fn put_cosignatures(&self, size: u64, lines: &[(String, String)]) -> Result<()> {
        self.write(|conn| {
            let tx = conn.transaction().map_err(be)?;
            for (witness, line) in lines {
                tx.execute(
                    "INSERT OR REPLACE INTO cosignatures (size, witness, line) VALUES (?1, ?2, ?3)",
                    params![size as i64, witness, line],
                )
                .map_err(be)?;
            }
            tx.commit().map_err(be)
        })
    }

    fn latest_cosigned(&self, n: usize) -> Result<Option<u64>> {
        self.read(|c| {
            c.cached_row(
                "SELECT size FROM cosignatures GROUP BY size HAVING count(*) >= ?1 ORDER BY size DESC LIMIT 1",
                [n as i64],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|s| s.map(|s| s as u64))
            .map_err(be)
        })
    }

    fn cosignatures(&self, size: u64) -> Result<Vec<(String, String)>> {
        self.read(|c| {
            let mut st =
                c.prepare("SELECT witness, line FROM cosignatures WHERE size = ?1 ORDER BY witness").map_err(be)?;
            let rows = st.query_map([size as i64], |r| Ok((r.get(0)?, r.get(1)?))).map_err(be)?;
            rows.collect::<std::result::Result<Vec<_>, _>>().map_err(be)
        })
    }

    fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>> {
        Ok(self.checkpoints_where("ORDER BY size DESC LIMIT 1")?.pop())
    }

    fn checkpoints(&self) -> Result<Vec<CheckpointRow>> {
        self.checkpoints_where("ORDER BY size")
    }

    fn checkpoint_wal(&self) -> Result<()> {
        self.write(|c| c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(be))
    }

    fn places(&self) -> Result<Vec<Place>> {
        self.read(|c| {
            let mut st = c.prepare("SELECT code, name, kind, zone FROM places ORDER BY code").map_err(be)?;
            let rows = st
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
                })
                .map_err(be)?;
            rows.map(|r| {
                let (code, name, kind, zone) = r.map_err(be)?;
                place_from_row(code, name, &kind, zone)
            })
            .collect()
        })
    }

    fn put_places(&self, places: &[Place]) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction().map_err(be)?;
            for p in places {
                let kind = place_kind_column(p);
                tx.execute(
                    "INSERT OR REPLACE INTO places (code, name, kind, zone) VALUES (?1, ?2, ?3, ?4)",
                    params![p.code, p.name, kind, p.zone],
                )
                .map_err(be)?;
            }
            tx.commit().map_err(be)
        })
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        self.read(|c| c.cached_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional().map_err(be))
    }

    fn put_meta(&self, key: &str, value: &str) -> Result<()> {
        self.write(|c| {
            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", [key, value]).map(|_| ()).map_err(be)
        })
    }
}

impl KeyStore for SqliteStore {
    fn system_key(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.read(|c| {
            c.cached_row("SELECT wrapped FROM system_keys WHERE name = ?1", [name], |r| r.get(0)).optional().map_err(be)
        })
    }

    fn put_system_key(&self, name: &str, wrapped: &[u8]) -> Result<Vec<u8>> {
        self.write(|c| {
            c.execute("INSERT OR IGNORE INTO system_keys (name, wrapped) VALUES (?1, ?2)", params![name, wrapped])
                .map_err(be)?;
            c.cached_row("SELECT wrapped FROM system_keys WHERE name = ?1", [name], |r| r.get(0)).map_err(be)
        })
    }

    fn subject_keys(&self, subject_no: u64) -> Result<Option<SubjectKeysRow>> {
        self.read(|c| {
            c.cached_row(
                "SELECT subject_no, subject_id, data_key, access_key FROM subject_keys WHERE subject_no = ?1",
                [subject_no as i64],
                keys_row,
            )
            .optional()
            .map_err(be)?
            .map(to_keys)
            .transpose()
        })
    }

    fn subject_keys_by_id(&self, subject_id: &[u8; 16]) -> Result<Option<SubjectKeysRow>> {
        self.read(|c| {
            c.cached_row(
                "SELECT subject_no, subject_id, data_key, access_key FROM subject_keys WHERE subject_id = ?1",
                [&subject_id[..]],
                keys_row,
            )
            .optional()
            .map_err(be)?
            .map(to_keys)
            .transpose()
        })
    }

    fn max_subject_no(&self) -> Result<u64> {
        self.read(|c| {
            c.cached_row("SELECT COALESCE(MAX(subject_no), 0) FROM subject_keys", [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(be)
        })
    }

    fn live_subjects(&self) -> Result<Vec<(u64, [u8; 16])>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT subject_no, subject_id FROM subject_keys WHERE data_key IS NOT NULL ORDER BY subject_no",
                )
                .map_err(be)?;
            let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?))).map_err(be)?;
            rows.map(|r| {
                let (no, id) = r.map_err(be)?;
                Ok((no, id.try_into().map_err(|_| StoreError::Corrupt("a subject id is not 16 bytes".into()))?))
            })
            .collect()
        })
    }

    fn subject_keys_after(&self, after: u64, limit: usize) -> Result<Vec<SubjectKeysRow>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT subject_no, subject_id, data_key, access_key FROM subject_keys WHERE subject_no > ?1 ORDER BY subject_no LIMIT ?2",
                )
                .map_err(be)?;
            let rows = st.query_map(params![after as i64, limit as i64], keys_row).map_err(be)?;
            rows.map(|r| to_keys(r.map_err(be)?)).collect()
        })
    }

    fn system_keys(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.read(|c| {
            let mut st = c.prepare("SELECT name, wrapped FROM system_keys ORDER BY name").map_err(be)?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(be)?;
            rows.map(|r| r.map_err(be)).collect()
        })
    }

    fn program_keys(&self) -> Result<Vec<ProgramKeyRow>> {
        self.read(|c| {
            let mut st =
                c.prepare("SELECT ordinal, program, wrapped FROM program_keys ORDER BY ordinal").map_err(be)?;
            let rows = st
                .query_map([], |r| {
                    Ok(ProgramKeyRow { ordinal: r.get::<_, i64>(0)? as u8, program: r.get(1)?, wrapped: r.get(2)? })
                })
                .map_err(be)?;
            rows.map(|r| r.map_err(be)).collect()
        })
    }

    fn destroy_program_key(&self, program: &str) -> Result<()> {
        self.write(|c| {
            c.execute("UPDATE program_keys SET wrapped = NULL WHERE program = ?1", [program]).map_err(be)?;
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(be)
        })
    }

    fn rewrap(&self, keys: &[Rewrap]) -> Result<u64> {
        self.write(|c| {
            let tx = c.transaction().map_err(be)?;
            let mut done = 0;
            for k in keys {
                done += match k {
                    Rewrap::SubjectData { subject_no, old, new } => tx.execute(
                        "UPDATE subject_keys SET data_key = ?1 WHERE subject_no = ?2 AND data_key = ?3",
                        params![new, *subject_no as i64, old],
                    ),
                    Rewrap::SubjectAccess { subject_no, old, new } => tx.execute(
                        "UPDATE subject_keys SET access_key = ?1 WHERE subject_no = ?2 AND access_key = ?3",
                        params![new, *subject_no as i64, old],
                    ),
                    Rewrap::Program { ordinal, old, new } => tx.execute(
                        "UPDATE program_keys SET wrapped = ?1 WHERE ordinal = ?2 AND wrapped = ?3",
                        params![new, *ordinal as i64, old],
                    ),
                    Rewrap::System { name, old, new } => tx.execute(
                        "UPDATE system_keys SET wrapped = ?1 WHERE name = ?2 AND wrapped = ?3",
                        params![new, name, old],
                    ),
                }
                .map_err(be)? as u64;
            }
            tx.commit().map_err(be)?;
            Ok(done)
        })
    }

    fn erase(&self, subjects: &[u64], removals: &[Projection], replace: &[Projection], checkpoint: bool) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction().map_err(be)?;
            erase_in(&tx, subjects, removals)?;
            insert_projections(&tx, replace)?;
            tx.commit().map_err(be)?;
            if checkpoint {
                // Copy the zeroed pages back into the main file and empty the WAL.
                c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(be)?;
            }
            Ok(())
        })
    }

    fn erase_access(&self, subject_no: u64, tallies: &[Projection]) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction().map_err(be)?;
            let no = subject_no as i64;
            tx.execute("UPDATE subject_keys SET access_key = NULL WHERE subject_no = ?1", [no]).map_err(be)?;
            // A seek in each run and each bucket.
            for id in ids_in(&tx)? {
                tx.execute("DELETE FROM p_subject_leaves WHERE bucket = ?1 AND subject_no = ?2", [id, no])
                    .map_err(be)?;
            }
            insert_projections(&tx, tallies)?;
            tx.commit().map_err(be)?;
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(be)?;
            Ok(())
        })
    }
}

impl ProjectionStore for SqliteStore {
    fn subjects_by_document(&self, blind: &[u8; 32]) -> Result<Vec<u64>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT subject_no FROM p_documents WHERE blind = ?1 ORDER BY subject_no")
                .map_err(be)?;
            let rows = st.query_map([&blind[..]], |r| r.get::<_, i64>(0)).map_err(be)?;
            rows.map(|r| r.map(|n| n as u64).map_err(be)).collect()
        })
    }

    fn kind_leaves_in(&self, kind: u16, from: u64, to: u64) -> Result<Vec<(u64, u64)>> {
        if to <= from {
            return Ok(Vec::new());
        }
        self.read(|c| {
            let row = |r: &rusqlite::Row<'_>| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64));
            let (first, last) = (from >> BUCKET_BITS, (to - 1) >> BUCKET_BITS);
            let mut out = Vec::new();
            // Each run that covers part of the range, read whole (a run is by person):
            // the auditors' search over old days costs a scan of the runs of that time.
            let mut st = c
                .prepare_cached(
                    "SELECT leaf_index, subject_no FROM p_subject_leaves
                     WHERE bucket = ?1 AND kind = ?2 AND leaf_index >= ?3 AND leaf_index < ?4",
                )
                .map_err(be)?;
            for id in run_ids(c)? {
                let (start, end) = runs::extent(id);
                if end <= first || start > last {
                    continue;
                }
                let rows = st.query_map(params![id, i64::from(kind), from as i64, to as i64], row).map_err(be)?;
                for r in rows {
                    out.push(r.map_err(be)?);
                }
            }
            // The buckets bound the scan; the leaf range and kind filter within them.
            let mut st = c
                .prepare_cached(
                    "SELECT leaf_index, subject_no FROM p_subject_leaves
                     WHERE bucket BETWEEN ?1 AND ?2 AND leaf_index >= ?3 AND leaf_index < ?4 AND kind = ?5",
                )
                .map_err(be)?;
            let rows = st
                .query_map(params![first as i64, last as i64, from as i64, to as i64, i64::from(kind)], row)
                .map_err(be)?;
            for r in rows {
                out.push(r.map_err(be)?);
            }
            out.sort_unstable();
            Ok(out)
        })
    }

    fn subject_leaves(&self, subject_no: u64, from: u64) -> Result<Vec<(u64, u16)>> {
        self.read(|c| {
            let size = size_of(c)?;
            let row = |r: &rusqlite::Row<'_>| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u16));
            let mut st = c
                .prepare_cached(
                    "SELECT leaf_index, kind FROM p_subject_leaves
                     WHERE bucket = ?1 AND subject_no = ?2 AND leaf_index >= ?3 ORDER BY leaf_index",
                )
                .map_err(be)?;
            let mut out = Vec::new();
            let mut read = |id: i64, out: &mut Vec<(u64, u16)>| -> Result<()> {
                for r in st.query_map(params![id, subject_no as i64, from as i64], row).map_err(be)? {
                    out.push(r.map_err(be)?);
                }
                Ok(())
            };
            // One seek in each run that may hold leaves from `from` on, then one in
            // each bucket not yet merged. All in one snapshot, so a row being moved is
            // seen in one place or the other.
            for id in run_ids(c)? {
                if runs::extent(id).1 <= from >> BUCKET_BITS {
                    continue;
                }
                read(id, &mut out)?;
            }
            let merged = !out.is_empty();
            if let Some(oldest) = oldest_bucket(c)? {
                for bucket in (from >> BUCKET_BITS).max(oldest)..size.div_ceil(1 << BUCKET_BITS) {
                    read(bucket as i64, &mut out)?;
                }
            }
            if merged {
                out.sort_unstable();
            }
            Ok(out)
        })
    }

    fn fold_subject_leaves(&self, max_rows: usize) -> Result<u64> {
        self.write(|c| {
            let size = size_of(c)?;
            // Buckets before this one are complete and out of the appends' way.
            let keep_from = ((size >> BUCKET_BITS) + 1).saturating_sub(UNFOLDED_BUCKETS);
            let tx = c.transaction().map_err(be)?;
            // The lowest level with a complete group to merge (buckets first), so a
            // run is written once, in order, rather than added to later.
            let mut job = None;
            for id in ids_in(&tx)? {
                let (level, group) = runs::decode(id);
                if level >= runs::MAX_LEVEL {
                    continue;
                }
                let parent = group >> runs::FANOUT_BITS;
                let shift = runs::FANOUT_BITS * (level + 1);
                if (parent + 1) << shift > keep_from {
                    continue;
                }
                if job.is_none_or(|(l, _, _)| level < l) {
                    job = Some((level, parent, id));
                }
            }
            let Some((level, parent, first)) = job else { return Ok(0) };
            let target = runs::id(level + 1, parent);
            let sources: Vec<i64> = (0..1u64 << runs::FANOUT_BITS)
                .map(|i| {
                    let g = (parent << runs::FANOUT_BITS) + i;
                    if level == 0 {
                        g as i64
                    } else {
                        runs::id(level, g)
                    }
                })
                .collect();
            // A range of people: those up to the `max_rows`th of the first source.
            let through = tx
                .query_row(
                    "SELECT subject_no FROM p_subject_leaves WHERE bucket = ?1
                     ORDER BY subject_no, leaf_index LIMIT 1 OFFSET ?2",
                    params![first, max_rows.max(1) as i64 - 1],
                    |r| r.get::<_, i64>(0),
                )
                .optional()
                .map_err(be)?
                .unwrap_or(i64::MAX);
            let mut moved = 0;
            for source in sources {
                let n = tx
                    .execute(
                        "INSERT INTO p_subject_leaves (bucket, subject_no, leaf_index, kind)
                         SELECT ?1, subject_no, leaf_index, kind FROM p_subject_leaves
                         WHERE bucket = ?2 AND subject_no <= ?3 ORDER BY subject_no, leaf_index",
                        params![target, source, through],
                    )
                    .map_err(be)?;
                let gone = tx
                    .execute(
                        "DELETE FROM p_subject_leaves WHERE bucket = ?1 AND subject_no <= ?2",
                        params![source, through],
                    )
                    .map_err(be)?;
                if n != gone {
                    return Err(StoreError::Backend(format!(
                        "merging the leaf index's {source} into {target} copied {n} rows but removed {gone}"
                    )));
                }
                moved += n as u64;
            }
            tx.commit().map_err(be)?;
            Ok(moved)
        })
    }

    fn registration_exists(&self, blind: &[u8; 32]) -> Result<bool> {
        self.read(|c| {
            c.cached_row("SELECT 1 FROM p_registrations WHERE blind = ?1", [&blind[..]], |_| Ok(()))
                .optional()
                .map(|o| o.is_some())
                .map_err(be)
        })
    }

    fn subjects_by_documents(&self, blinds: &[[u8; 32]]) -> Result<Vec<Vec<u64>>> {
        self.read(|c| {
            // One read transaction for the lot: one snapshot, locks taken once.
            let tx = c.unchecked_transaction().map_err(be)?;
            let mut st = tx
                .prepare_cached("SELECT subject_no FROM p_documents WHERE blind = ?1 ORDER BY subject_no")
                .map_err(be)?;
            let mut out = vec![Vec::new(); blinds.len()];
            // In key order: each index page is then read once, in order.
            for i in key_order(blinds) {
                let rows = st.query_map([&blinds[i][..]], |r| r.get::<_, i64>(0)).map_err(be)?;
                out[i] = rows.map(|r| r.map(|n| n as u64).map_err(be)).collect::<Result<Vec<_>>>()?;
            }
            Ok(out)
        })
    }

    fn registrations_exist(&self, blinds: &[[u8; 32]]) -> Result<Vec<bool>> {
        self.read(|c| {
            let tx = c.unchecked_transaction().map_err(be)?;
            let mut st = tx.prepare_cached("SELECT 1 FROM p_registrations WHERE blind = ?1").map_err(be)?;
            let mut out = vec![false; blinds.len()];
            for i in key_order(blinds) {
                out[i] = st.exists([&blinds[i][..]]).map_err(be)?;
            }
            Ok(out)
        })
    }

    fn program_leaves(&self) -> Result<Vec<u64>> {
        self.read(|c| {
            let mut st = c.prepare_cached("SELECT leaf_index FROM p_program_leaves ORDER BY leaf_index").map_err(be)?;
            let rows = st.query_map([], |r| r.get::<_, i64>(0)).map_err(be)?;
            rows.map(|r| r.map(|n| n as u64).map_err(be)).collect()
        })
    }

    fn tallies(&self, metric: &str) -> Result<Vec<([String; 3], String, u64)>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT d1, d2, d3, month, count FROM p_tallies WHERE metric = ?1 ORDER BY month, d1, d2, d3",
                )
                .map_err(be)?;
            let rows = st
                .query_map([metric], |r| Ok(([r.get(0)?, r.get(1)?, r.get(2)?], r.get(3)?, r.get::<_, i64>(4)? as u64)))
                .map_err(be)?;
            rows.map(|r| r.map_err(be)).collect()
        })
    }

    fn subject_count(&self) -> Result<u64> {
        self.read(|c| {
            c.cached_row("SELECT COUNT(*) FROM p_subjects", [], |r| r.get::<_, i64>(0)).map(|n| n as u64).map_err(be)
        })
    }

    fn biometrics(&self, subject_no: u64) -> Result<Vec<BiometricRow>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT leaf_index, sealed FROM biometrics WHERE subject_no = ?1 ORDER BY leaf_index")
                .map_err(be)?;
            let rows = st
                .query_map([subject_no as i64], |r| {
                    Ok(BiometricRow { leaf: r.get::<_, i64>(0)? as u64, subject_no, sealed: r.get(1)? })
                })
                .map_err(be)?;
            rows.collect::<std::result::Result<Vec<_>, _>>().map_err(be)
        })
    }

    fn stay_facts(&self, subject_no: u64) -> Result<Option<(u64, Vec<u8>)>> {
        self.read(|c| {
            c.prepare_cached("SELECT through_leaf, sealed FROM p_stay_facts WHERE subject_no = ?1")
                .map_err(be)?
                .query_row([subject_no as i64], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
                .optional()
                .map_err(be)
        })
    }

    fn stay_facts_through(&self) -> Result<u64> {
        self.read(|c| {
            c.cached_row("SELECT through FROM p_stay_facts_through WHERE one = 1", [], |r| r.get::<_, i64>(0))
                .optional()
                .map(|v| v.unwrap_or(0) as u64)
                .map_err(be)
        })
    }

    fn scan_stay_facts(&self, chunk: usize, f: &mut dyn FnMut(Vec<StayFactsRow>) -> bool) -> Result<()> {
        let chunk = chunk.max(1);
        self.read(|c| {
            // One read transaction, so the scan sees one consistent state.
            let mut st = c
                .prepare(
                    "SELECT f.subject_no, k.subject_id, k.data_key, f.through_leaf, f.sealed
                     FROM p_stay_facts f JOIN subject_keys k ON k.subject_no = f.subject_no
                     WHERE k.data_key IS NOT NULL ORDER BY f.subject_no",
                )
                .map_err(be)?;
            let mut rows = st.query([]).map_err(be)?;
            let mut buf = Vec::with_capacity(chunk);
            while let Some(r) = rows.next().map_err(be)? {
                let id: Vec<u8> = r.get(1).map_err(be)?;
                buf.push(StayFactsRow {
                    subject_no: r.get::<_, i64>(0).map_err(be)? as u64,
                    subject_id: id
                        .try_into()
                        .map_err(|_| StoreError::Corrupt("a subject id is not 16 bytes".into()))?,
                    data_key: r.get(2).map_err(be)?,
                    through_leaf: r.get::<_, i64>(3).map_err(be)? as u64,
                    sealed: r.get(4).map_err(be)?,
                });
                if buf.len() == chunk && !f(std::mem::replace(&mut buf, Vec::with_capacity(chunk))) {
                    return Ok(());
                }
            }
            if !buf.is_empty() {
                f(buf);
            }
            Ok(())
        })
    }

    fn import_through(&self, file: &str) -> Result<Option<u64>> {
        self.read(|c| {
            c.cached_row("SELECT through FROM p_imports WHERE file = ?1", [file], |r| r.get::<_, i64>(0))
                .optional()
                .map(|o| o.map(|n| n as u64))
                .map_err(be)
        })
    }

    fn system_leaves(&self, kind: u16) -> Result<Vec<(u64, String)>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT leaf_index, scope FROM p_system_leaves WHERE kind = ?1 ORDER BY leaf_index")
                .map_err(be)?;
            let rows = st
                .query_map([kind as i64], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)))
                .map_err(be)?;
            rows.map(|r| r.map_err(be)).collect()
        })
    }

    fn law_enforcement_subjects(&self) -> Result<Vec<u64>> {
        // The kind as a literal, so the planner uses the partial index of step 18.
        debug_assert_eq!(fairgate_core::event::EventKind::LawEnforcementRequested.code(), 21);
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT DISTINCT subject_no FROM p_subject_leaves WHERE kind = 21 ORDER BY subject_no")
                .map_err(be)?;
            let rows = st.query_map([], |r| r.get::<_, i64>(0)).map_err(be)?;
            rows.map(|r| r.map(|n| n as u64).map_err(be)).collect()
        })
    }

    fn identification_subjects(&self) -> Result<Vec<u64>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT subject_no FROM p_identification_reviews WHERE pending > 0 ORDER BY subject_no")
                .map_err(be)?;
            let rows = st.query_map([], |r| r.get::<_, i64>(0)).map_err(be)?;
            rows.map(|r| r.map(|n| n as u64).map_err(be)).collect()
        })
    }

    fn work_items(&self, queue: u8) -> Result<Vec<(u64, String)>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT subject_no, item FROM p_work WHERE queue = ?1 ORDER BY subject_no, item")
                .map_err(be)?;
            let rows = st
                .query_map([i64::from(queue)], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)))
                .map_err(be)?;
            rows.map(|r| r.map_err(be)).collect()
        })
    }

    fn biometric_subjects(&self) -> Result<Vec<u64>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT DISTINCT b.subject_no FROM biometrics b JOIN subject_keys k ON k.subject_no = b.subject_no
                     WHERE k.data_key IS NOT NULL ORDER BY b.subject_no",
                )
                .map_err(be)?;
            let rows = st.query_map([], |r| r.get::<_, i64>(0)).map_err(be)?;
            rows.map(|r| r.map(|n| n as u64).map_err(be)).collect()
        })
    }

    fn program_subjects(&self, program: &str, after: u64, limit: usize) -> Result<Vec<u64>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT subject_no FROM p_program_subjects WHERE program = ?1 AND subject_no > ?2 ORDER BY subject_no LIMIT ?3",
                )
                .map_err(be)?;
            let rows = st
                .query_map(params![program, after as i64, limit as i64], |r| r.get::<_, i64>(0).map(|n| n as u64))
                .map_err(be)?;
            rows.map(|r| r.map_err(be)).collect()
        })
    }

    fn count_program_subjects(&self, program: &str) -> Result<u64> {
        self.read(|c| {
            c.cached_row("SELECT COUNT(*) FROM p_program_subjects WHERE program = ?1", [program], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(be)
        })
    }

    fn has_program_records(&self, program: &str, subject_no: u64) -> Result<bool> {
        self.read(|c| {
            c.prepare_cached("SELECT 1 FROM p_program_subjects WHERE program = ?1 AND subject_no = ?2")
                .map_err(be)?
                .exists(params![program, subject_no as i64])
                .map_err(be)
        })
    }

    fn compliance_facts(&self, subject_no: u64) -> Result<Option<(u64, Vec<u8>)>> {
        self.read(|c| {
            c.prepare_cached("SELECT through_leaf, sealed FROM p_compliance_facts WHERE subject_no = ?1")
                .map_err(be)?
                .query_row([subject_no as i64], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?)))
                .optional()
                .map_err(be)
        })
    }

    fn scan_compliance_facts(&self, chunk: usize, f: &mut dyn FnMut(Vec<ComplianceRow>) -> bool) -> Result<()> {
        let chunk = chunk.max(1);
        self.read(|c| {
            let mut st = c
                .prepare(
                    "SELECT f.subject_no, k.subject_id, k.data_key, f.through_leaf, f.sealed, s.through_leaf, s.sealed
                     FROM p_compliance_facts f JOIN subject_keys k ON k.subject_no = f.subject_no
                     LEFT JOIN p_stay_facts s ON s.subject_no = f.subject_no
                     WHERE k.data_key IS NOT NULL ORDER BY f.subject_no",
                )
                .map_err(be)?;
            let mut rows = st.query([]).map_err(be)?;
            let mut buf = Vec::with_capacity(chunk);
            while let Some(r) = rows.next().map_err(be)? {
                let id: Vec<u8> = r.get(1).map_err(be)?;
                let stay_through: Option<i64> = r.get(5).map_err(be)?;
                let stay_sealed: Option<Vec<u8>> = r.get(6).map_err(be)?;
                buf.push(ComplianceRow {
                    subject_no: r.get::<_, i64>(0).map_err(be)? as u64,
                    subject_id: id
                        .try_into()
                        .map_err(|_| StoreError::Corrupt("a subject id is not 16 bytes".into()))?,
                    data_key: r.get(2).map_err(be)?,
                    through_leaf: r.get::<_, i64>(3).map_err(be)? as u64,
                    sealed: r.get(4).map_err(be)?,
                    stay: stay_through.zip(stay_sealed).map(|(t, s)| (t as u64, s)),
                });
                if buf.len() == chunk && !f(std::mem::replace(&mut buf, Vec::with_capacity(chunk))) {
                    return Ok(());
                }
            }
            if !buf.is_empty() {
                f(buf);
            }
            Ok(())
        })
    }

    fn slot_loads(&self, office: &str, day: &str) -> Result<Vec<(u16, u16, u32)>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT start, minutes, booked FROM p_slot_loads WHERE office = ?1 AND day = ?2 ORDER BY start, minutes",
                )
                .map_err(be)?;
            let rows = st
                .query_map(params![office, day], |r| {
                    Ok((r.get::<_, i64>(0)? as u16, r.get::<_, i64>(1)? as u16, r.get::<_, i64>(2)?.max(0) as u32))
                })
                .map_err(be)?;
            rows.map(|r| r.map_err(be)).collect()
        })
    }

    fn desk_queue(&self, office: &str) -> Result<Vec<QueueRow>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT subject_no, arrived_ms, slot_start, called_ms, desk FROM p_desk_queue WHERE office = ?1 ORDER BY arrived_ms, subject_no",
                )
                .map_err(be)?;
            let rows = st
                .query_map([office], |r| {
                    let called: Option<i64> = r.get(3)?;
                    let desk: Option<i64> = r.get(4)?;
                    Ok(QueueRow {
                        subject_no: r.get::<_, i64>(0)? as u64,
                        arrived_ms: r.get(1)?,
                        slot_start: r.get::<_, Option<i64>>(2)?.map(|s| s as u16),
                        called: called.map(|c| (c, desk.unwrap_or(0) as u16)),
                    })
                })
                .map_err(be)?;
            rows.map(|r| r.map_err(be)).collect()
        })
    }

    fn drop_projections(&self) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction().map_err(be)?;
            for t in PROJECTION_TABLES {
                tx.execute(&format!("DELETE FROM {t}"), []).map_err(be)?;
            }
            tx.commit().map_err(be)
        })
    }

    fn apply_projections(&self, rows: &[Projection]) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction().map_err(be)?;
            insert_projections(&tx, rows)?;
            tx.commit().map_err(be)
        })
    }

    fn projection_digest(&self) -> Result<ProjectionDigest> {
        self.read(|c| {
            let mut h = Sha256::new();
            let mut counts = [0u64; 16];
            for (i, q) in DIGEST_QUERIES.iter().enumerate() {
                let mut st = c.prepare(q).map_err(be)?;
                let mut rows = st.query([]).map_err(be)?;
                while let Some(r) = rows.next().map_err(be)? {
                    counts[i] += 1;
                    for col in 0..3 {
                        let v = match r.get::<_, rusqlite::types::Value>(col).map_err(be)? {
                            rusqlite::types::Value::Null => None,
                            rusqlite::types::Value::Integer(n) => Some(DigestValue::Integer(n)),
                            rusqlite::types::Value::Real(f) => Some(DigestValue::Text(f.to_string())),
                            rusqlite::types::Value::Text(t) => Some(DigestValue::Text(t)),
                            rusqlite::types::Value::Blob(b) => Some(DigestValue::Blob(b)),
                        };
                        h.update(digest_cell(i, col, v.as_ref()).as_bytes());
                    }
                }
            }
            Ok(digest_from(counts, h.finalize().into()))
        })
    }
}

impl AccountStore for SqliteStore {
    fn put_user(&self, u: &UserRow) -> Result<()> {
        self.write(|c| {
            let r = c.execute(
                "INSERT INTO users (id, name, role, password_hash, created_ms, agency) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![u.id, u.name, u.role, u.password_hash, u.created_ms, u.agency],
            );
            match r {
                Ok(_) => Ok(()),
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                    Err(StoreError::Duplicate { what: format!("a user named {}", u.name) })
                }
                Err(e) => Err(be(e)),
            }
        })
    }

    fn user_by_name(&self, name: &str) -> Result<Option<UserRow>> {
        self.read(|c| {
            c.cached_row(
                "SELECT id, name, role, password_hash, created_ms, agency, disabled_ms FROM users WHERE name = ?1",
                [name],
                user_row,
            )
            .optional()
            .map_err(be)
        })
    }

    fn users(&self) -> Result<Vec<UserRow>> {
        self.read(|c| {
            let mut st = c
                .prepare(
                    "SELECT id, name, role, password_hash, created_ms, agency, disabled_ms FROM users ORDER BY name",
                )
                .map_err(be)?;
            let rows = st.query_map([], user_row).map_err(be)?;
            rows.map(|r| r.map_err(be)).collect()
        })
    }

    fn touch_credential(&self, hash: &[u8; 32], expires_ms: i64) -> Result<()> {
        self.write(|c| {
            c.execute("UPDATE credentials SET expires_ms = ?2 WHERE hash = ?1", params![&hash[..], expires_ms])
                .map(|_| ())
                .map_err(be)
        })
    }

    fn put_credential(
        &self,
        hash: &[u8; 32],
        user_id: &str,
        kind: CredentialKind,
        expires_ms: Option<i64>,
    ) -> Result<()> {
        self.write(|c| {
            c.execute(
                "INSERT INTO credentials (hash, user_id, kind, expires_ms) VALUES (?1, ?2, ?3, ?4)",
                params![&hash[..], user_id, kind.as_str(), expires_ms],
            )
            .map(|_| ())
            .map_err(be)
        })
    }

    fn user_by_credential(&self, hash: &[u8; 32], kind: CredentialKind, now_ms: i64) -> Result<Option<UserRow>> {
        self.read(|c| {
            c.cached_row(
                "SELECT u.id, u.name, u.role, u.password_hash, u.created_ms, u.agency, u.disabled_ms FROM credentials k JOIN users u ON u.id = k.user_id
                 WHERE k.hash = ?1 AND k.kind = ?2 AND (k.expires_ms IS NULL OR k.expires_ms > ?3) AND u.disabled_ms IS NULL",
                params![&hash[..], kind.as_str(), now_ms],
                user_row,
            )
            .optional()
            .map_err(be)
        })
    }

    fn set_user_role(&self, id: &str, role: &str) -> Result<()> {
        self.write(|c| c.execute("UPDATE users SET role = ?2 WHERE id = ?1", params![id, role]).map(|_| ()).map_err(be))
    }

    fn disable_user(&self, id: &str, at_ms: i64) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction().map_err(be)?;
            tx.execute("UPDATE users SET disabled_ms = ?2 WHERE id = ?1", params![id, at_ms]).map_err(be)?;
            tx.execute("DELETE FROM credentials WHERE user_id = ?1", [id]).map_err(be)?;
            tx.commit().map_err(be)
        })
    }

    fn delete_credentials_of(&self, user_id: &str, kind: CredentialKind) -> Result<()> {
        self.write(|c| {
            c.execute("DELETE FROM credentials WHERE user_id = ?1 AND kind = ?2", params![user_id, kind.as_str()])
                .map(|_| ())
                .map_err(be)
        })
    }

    fn token_expiry(&self, user_id: &str) -> Result<Option<i64>> {
        self.read(|c| {
            c.cached_row(
                "SELECT MAX(expires_ms) FROM credentials WHERE user_id = ?1 AND kind = 'token'",
                [user_id],
                |r| r.get::<_, Option<i64>>(0),
            )
            .map_err(be)
        })
    }

    fn delete_credential(&self, hash: &[u8; 32]) -> Result<()> {
        self.write(|c| c.execute("DELETE FROM credentials WHERE hash = ?1", [&hash[..]]).map(|_| ()).map_err(be))
    }

    fn portal_code(&self, registration_blind: &[u8; 32]) -> Result<Option<PortalCode>> {
        self.read(|c| {
            c.cached_row(
                "SELECT r.subject_no, c.code_hash, c.issued_ms, c.used_ms FROM p_registrations r
                 JOIN portal_codes c ON c.leaf_index = r.leaf_index WHERE r.blind = ?1",
                [&registration_blind[..]],
                // A BLOB (keyed hash) or, from before, TEXT (an argon2 PHC string).
                |r| {
                    Ok(PortalCode {
                        subject_no: r.get::<_, i64>(0)? as u64,
                        hash: r.get_ref(1)?.as_bytes().map(<[u8]>::to_vec).unwrap_or_default(),
                        issued_ms: r.get(2)?,
                        used_ms: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(be)
        })
    }

    fn registration_subject(&self, registration_blind: &[u8; 32]) -> Result<Option<u64>> {
        self.read(|c| {
            c.cached_row("SELECT subject_no FROM p_registrations WHERE blind = ?1", [&registration_blind[..]], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .map(|o| o.map(|n| n as u64))
            .map_err(be)
        })
    }

    fn portal_account(&self, subject_no: u64) -> Result<Option<(String, i64)>> {
        self.read(|c| {
            c.cached_row(
                "SELECT passphrase, activated_ms FROM portal_accounts WHERE subject_no = ?1",
                [subject_no as i64],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(be)
        })
    }

    fn put_portal_session(&self, hash: &[u8; 32], subject_no: u64, expires_ms: i64) -> Result<()> {
        self.write(|c| {
            c.execute(
                "INSERT INTO portal_sessions (hash, subject_no, expires_ms) VALUES (?1, ?2, ?3)",
                params![&hash[..], subject_no as i64, expires_ms],
            )
            .map(|_| ())
            .map_err(be)
        })
    }

    fn portal_session(&self, hash: &[u8; 32], now_ms: i64) -> Result<Option<u64>> {
        self.read(|c| {
            c.cached_row(
                "SELECT subject_no FROM portal_sessions WHERE hash = ?1 AND expires_ms > ?2",
                params![&hash[..], now_ms],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|o| o.map(|n| n as u64))
            .map_err(be)
        })
    }

    fn delete_portal_session(&self, hash: &[u8; 32]) -> Result<()> {
        self.write(|c| c.execute("DELETE FROM portal_sessions WHERE hash = ?1", [&hash[..]]).map(|_| ()).map_err(be))
    }
}

impl TableCopy for SqliteStore {
    fn copy_rows(&self, table: &str, offset: u64, limit: u64) -> Result<Vec<CopiedRow>> {
        let (table, cols, order) = copied_table(table)?;
        let width = cols.split(',').count();
        self.read(|c| {
            let mut st =
                c.prepare(&format!("SELECT {cols} FROM {table} ORDER BY {order} LIMIT ?1 OFFSET ?2")).map_err(be)?;
            let mut rows = st.query(params![limit as i64, offset as i64]).map_err(be)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(be)? {
                let mut row = Vec::with_capacity(width);
                for i in 0..width {
                    row.push(match r.get::<_, rusqlite::types::Value>(i).map_err(be)? {
                        rusqlite::types::Value::Null => None,
                        rusqlite::types::Value::Integer(n) => Some(DigestValue::Integer(n)),
                        rusqlite::types::Value::Real(f) => Some(DigestValue::Text(f.to_string())),
                        rusqlite::types::Value::Text(t) => Some(DigestValue::Text(t)),
                        rusqlite::types::Value::Blob(b) => Some(DigestValue::Blob(b)),
                    });
                }
                out.push(row);
            }
            Ok(out)
        })
    }

    fn put_rows(&self, table: &str, rows: &[CopiedRow]) -> Result<()> {
        let (table, cols, _) = copied_table(table)?;
        let width = cols.split(',').count();
        let marks = (1..=width).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        self.write(|c| {
            let tx = c.transaction().map_err(be)?;
            {
                let mut st =
                    tx.prepare(&format!("INSERT OR IGNORE INTO {table} ({cols}) VALUES ({marks})")).map_err(be)?;
                for row in rows {
                    let values: Vec<rusqlite::types::Value> = row
                        .iter()
                        .map(|v| match v {
                            None => rusqlite::types::Value::Null,
                            Some(DigestValue::Integer(n)) => rusqlite::types::Value::Integer(*n),
                            Some(DigestValue::Text(t)) => rusqlite::types::Value::Text(t.clone()),
                            Some(DigestValue::Blob(b)) => rusqlite::types::Value::Blob(b.clone()),
                        })
                        .collect();
                    st.execute(rusqlite::params_from_iter(values)).map_err(be)?;
                }
            }
            tx.commit().map_err(be)
        })
    }

    fn count_rows(&self, table: &str) -> Result<u64> {
        let (table, _, _) = copied_table(table)?;
        self.read(|c| {
            c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(be)
        })
    }
}

impl SqliteStore {
    fn checkpoints_where(&self, tail: &str) -> Result<Vec<CheckpointRow>> {
        self.read(|c| {
            let mut st =
                c.prepare(&format!("SELECT size, root, note, signed_at_ms FROM checkpoints {tail}")).map_err(be)?;
            let rows = st
                .query_map([], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
                })
                .map_err(be)?;
            rows.map(|r| {
                let (size, root, note, signed_at_ms) = r.map_err(be)?;
                Ok(CheckpointRow { size: size as u64, root: hash_from(root)?, note, signed_at_ms })
            })
            .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database from before step 15 keeps its portal codes: they move to the
    /// registration's leaf, and an argon2 code still reads back as it was stored.
    #[test]
    fn portal_codes_survive_the_move_to_leaf_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let blind = [7u8; 32];
        let phc = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$AAAA";
        {
            let conn = Connection::open(&path).unwrap();
            for step in &SCHEMA[..14] {
                conn.execute_batch(step).unwrap();
            }
            conn.execute_batch("PRAGMA user_version = 14").unwrap();
            conn.execute(
                "INSERT INTO p_registrations (blind, subject_no, leaf_index) VALUES (?1, 3, 41)",
                [&blind[..]],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO portal_codes (registration_blind, code_hash) VALUES (?1, ?2)",
                params![&blind[..], phc],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let code = store.portal_code(&blind).unwrap().unwrap();
        assert_eq!((code.subject_no, code.hash, code.used_ms), (3, phc.as_bytes().to_vec(), None));
        // Step 17 starts its 30 days at the migration.
        assert!(code.issued_ms > 1_700_000_000_000);
        assert_eq!(store.portal_code(&[8u8; 32]).unwrap(), None);
    }

    /// A store whose ledger is `size` leaves long (only its last leaf is stored: the
    /// index is read against the size) and whose per-person index holds `rows`.
    fn indexed(dir: &Path, size: u64, rows: &[(u64, u64, u16)]) -> SqliteStore {
        let store = SqliteStore::open(&dir.join("fold.db")).unwrap();
        store
            .write(|c| {
                let tx = c.transaction().map_err(be)?;
                tx.execute("INSERT INTO ledger (idx, leaf, hash) VALUES (?1, x'00', x'00')", [size as i64 - 1])
                    .map_err(be)?;
                let rows: Vec<Projection> = rows
                    .iter()
                    .map(|&(subject_no, leaf_index, kind)| Projection::SubjectLeaf { subject_no, leaf_index, kind })
                    .collect();
                insert_projections(&tx, &rows)?;
                tx.commit().map_err(be)
            })
            .unwrap();
        store
    }

    /// Eighty buckets with a row in each: the first 64 end in one run of level 3;
    /// of the next group, three runs of level 1 and the buckets too new to merge.
    #[test]
    fn old_buckets_end_in_a_few_runs_per_level() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<(u64, u64, u16)> = (0..80u64).map(|b| (b % 7, (b << BUCKET_BITS) + b, 1)).collect();
        let store = indexed(dir.path(), 80 << BUCKET_BITS, &rows);
        let mut steps = 0;
        while store.fold_subject_leaves(2).unwrap() > 0 {
            steps += 1;
        }
        let ids = store.read(ids_in).unwrap();
        let mut want = vec![runs::id(3, 0), runs::id(1, 18), runs::id(1, 17), runs::id(1, 16), 76, 77, 78, 79];
        want.sort_unstable();
        assert_eq!(ids, want, "after {steps} steps");
        for subject in 0..7 {
            let want: Vec<(u64, u16)> = rows.iter().filter(|r| r.0 == subject).map(|r| (r.1, r.2)).collect();
            assert_eq!(store.subject_leaves(subject, 0).unwrap(), want);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]
        /// Issue 21 (the soak): merging the per-person leaf index into runs, a chunk
        /// at a time, never changes what a read finds: each person's leaves (from
        /// any point) and the access-log search's leaves of a kind in a range,
        /// before, during and after, and after rows are removed. Once done, no
        /// complete group is left unmerged: at most three runs a level.
        #[test]
        fn folding_the_leaf_index_changes_no_answer(
            buckets in 3u64..90,
            picks in proptest::collection::btree_map(0u64..90 << BUCKET_BITS, (0u64..12, 0u16..3), 1..150),
            chunks in proptest::collection::vec(1usize..40, 1..6),
            probes in proptest::collection::vec((0u64..90 << BUCKET_BITS, 0u64..90 << BUCKET_BITS), 4),
        ) {
            let size = buckets << BUCKET_BITS;
            let rows: Vec<(u64, u64, u16)> =
                picks.iter().filter(|(l, _)| **l < size).map(|(l, (s, k))| (*s, *l, *k)).collect();
            let dir = tempfile::tempdir().unwrap();
            let store = indexed(dir.path(), size, &rows);
            let mut model = rows.clone();
            let check = |store: &SqliteStore, model: &[(u64, u64, u16)]| {
                for subject in 0..12 {
                    // From the start, from anywhere, and from each of the person's leaves.
                    let own = model.iter().filter(|r| r.0 == subject).map(|r| r.1);
                    for from in [0, probes[0].0 % size, probes[1].0 % size].into_iter().chain(own) {
                        let want: Vec<(u64, u16)> =
                            model.iter().filter(|r| r.0 == subject && r.1 >= from).map(|r| (r.1, r.2)).collect();
                        proptest::prop_assert_eq!(store.subject_leaves(subject, from).unwrap(), want);
                    }
                }
                for (a, b) in &probes {
                    let (from, to) = ((*a).min(*b) % size, (*a).max(*b) % size + 1);
                    for kind in 0..3 {
                        let want: Vec<(u64, u64)> = model
                            .iter()
                            .filter(|r| r.2 == kind && r.1 >= from && r.1 < to)
                            .map(|r| (r.1, r.0))
                            .collect();
                        proptest::prop_assert_eq!(store.kind_leaves_in(kind, from, to).unwrap(), want);
                    }
                }
                Ok(())
            };
            check(&store, &model)?;
            let mut moved = 0;
            for (step, chunk) in chunks.iter().cycle().enumerate() {
                proptest::prop_assert!(step < 10_000, "folding does not finish");
                let n = store.fold_subject_leaves(*chunk).unwrap();
                check(&store, &model)?;
                if n == 0 {
                    break;
                }
                moved += n;
            }
            // Nothing complete is left unmerged, and each level holds at most three runs.
            let keep_from = buckets - 1;
            let in_complete_groups = rows.iter().filter(|r| (((r.1 >> BUCKET_BITS) >> 2) + 1) << 2 <= keep_from).count();
            proptest::prop_assert!(moved as usize >= in_complete_groups, "each row of a complete group moved");
            let ids = store.read(ids_in).unwrap();
            let mut per_level = std::collections::HashMap::new();
            for id in &ids {
                let (level, group) = runs::decode(*id);
                let parent_end = ((group >> runs::FANOUT_BITS) + 1) << (runs::FANOUT_BITS * (level + 1));
                proptest::prop_assert!(parent_end > keep_from, "{id} (level {level}, group {group}) left unmerged");
                *per_level.entry(level).or_insert(0) += 1;
            }
            proptest::prop_assert!(per_level.iter().all(|(l, n)| *n <= if *l == 0 { 5 } else { 3 }), "{per_level:?}");
            // A folded row removed (an erasure's), as it was added.
            if let Some(gone) = rows.first().copied() {
                store
                    .write(|c| {
                        let tx = c.transaction().map_err(be)?;
                        let row = Projection::SubjectLeaf { subject_no: gone.0, leaf_index: gone.1, kind: gone.2 };
                        remove_projections(&tx, &[row])?;
                        tx.commit().map_err(be)
                    })
                    .unwrap();
                model.retain(|r| *r != gone);
                check(&store, &model)?;
                // And every row of a person whose access log is erased, folded or not.
                store.erase_access(gone.0, &[]).unwrap();
                model.retain(|r| r.0 != gone.0);
                check(&store, &model)?;
            }
        }
    }
}
