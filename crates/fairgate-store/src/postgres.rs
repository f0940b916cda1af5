//! The PostgreSQL store: the same [`Store`] as [`crate::sqlite`], for an agency that
//! runs Fairgate past one machine (a primary with a synchronous standby).
//!
//! - One writer connection and a small pool of readers, like the SQLite store. A
//!   command is one transaction: it takes a transaction-scoped advisory lock, checks
//!   the tree size it built on (the compare-and-set), and writes leaves, nodes, keys
//!   and projections with one `UNNEST` statement per table.
//! - `tokio-postgres` drives the connections on two threads of the store's own; the
//!   store's methods stay synchronous (the registry's are), and block on a call's
//!   reply without needing to be off an async runtime's threads.
//! - A broken connection (the primary died) is dropped and the next call connects
//!   again, through every host of a multi-host string with
//!   `target_session_attrs=read-write`, so it finds the new primary.
//! - Text columns collate as `"C"`, so every `ORDER BY` agrees with SQLite's byte
//!   order and the projection digest is the same on both stores.
//! - Erasure: a destroyed key is deleted (set to NULL) in the commit that erases; the
//!   key tables are vacuumed after. Copies PostgreSQL keeps outside the live
//!   rows (dead tuples until vacuumed, WAL, archives, base backups) hold the key only
//!   wrapped under the master key's epoch, and read nothing once it is destroyed (see
//!   docs/privacy.md).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

use fairgate_core::place::Place;
use fairgate_ledger::merkle::Hash;
use sha2::{Digest, Sha256};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Config, NoTls, Row, Statement};

use crate::store::*;

type P<'a> = &'a (dyn ToSql + Sync);

/// The schema, step by step; `fairgate_schema` records how many steps ran.
const SCHEMA: &[&str] = &[
    // 1: everything the SQLite store has at its step 24, in one step.
    r#"CREATE TABLE ledger (idx BIGINT PRIMARY KEY, leaf BYTEA NOT NULL, hash BYTEA NOT NULL);
     CREATE TABLE tree_nodes (level BIGINT NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY (level, idx));
     CREATE TABLE subject_keys (subject_no BIGINT PRIMARY KEY, subject_id BYTEA NOT NULL UNIQUE, data_key BYTEA, access_key BYTEA);
     CREATE TABLE system_keys (name TEXT COLLATE "C" PRIMARY KEY, wrapped BYTEA NOT NULL);
     CREATE TABLE program_keys (ordinal BIGINT PRIMARY KEY CHECK (ordinal BETWEEN 0 AND 239), program TEXT COLLATE "C" NOT NULL UNIQUE, wrapped BYTEA);
     CREATE TABLE checkpoints (size BIGINT PRIMARY KEY, root BYTEA NOT NULL, note TEXT NOT NULL, signed_at_ms BIGINT NOT NULL);
     CREATE TABLE signing_lease (id BIGINT PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL, expires_ms BIGINT NOT NULL);
     CREATE TABLE cosignatures (size BIGINT NOT NULL, witness TEXT COLLATE "C" NOT NULL, line TEXT NOT NULL, PRIMARY KEY (size, witness));
     CREATE TABLE places (code TEXT COLLATE "C" PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, zone TEXT NOT NULL);
     CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE users (id TEXT COLLATE "C" PRIMARY KEY, name TEXT COLLATE "C" NOT NULL UNIQUE, role TEXT NOT NULL, password_hash TEXT,
                         created_ms BIGINT NOT NULL, agency TEXT NOT NULL DEFAULT 'unspecified', disabled_ms BIGINT);
     CREATE TABLE credentials (hash BYTEA PRIMARY KEY, user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id), kind TEXT NOT NULL, expires_ms BIGINT);
     CREATE INDEX credentials_user ON credentials (user_id);
     CREATE TABLE portal_codes (leaf_index BIGINT PRIMARY KEY, code_hash BYTEA NOT NULL, issued_ms BIGINT NOT NULL, used_ms BIGINT);
     CREATE TABLE portal_accounts (subject_no BIGINT PRIMARY KEY, passphrase TEXT NOT NULL, activated_ms BIGINT NOT NULL);
     CREATE TABLE portal_sessions (hash BYTEA PRIMARY KEY, subject_no BIGINT NOT NULL, expires_ms BIGINT NOT NULL);
     CREATE INDEX portal_sessions_subject ON portal_sessions (subject_no);
     CREATE TABLE biometrics (leaf_index BIGINT PRIMARY KEY, subject_no BIGINT NOT NULL, sealed BYTEA NOT NULL);
     CREATE INDEX biometrics_subject ON biometrics (subject_no);
     CREATE TABLE p_subjects (subject_no BIGINT PRIMARY KEY, created_leaf BIGINT NOT NULL);
     CREATE TABLE p_documents (blind BYTEA NOT NULL, subject_no BIGINT NOT NULL, PRIMARY KEY (blind, subject_no));
     CREATE TABLE p_subject_leaves (subject_no BIGINT NOT NULL, leaf_index BIGINT NOT NULL, kind BIGINT NOT NULL, PRIMARY KEY (subject_no, leaf_index));
     CREATE INDEX p_subject_leaves_leaf ON p_subject_leaves (leaf_index);
     CREATE INDEX p_subject_leaves_law_enforcement ON p_subject_leaves (subject_no) WHERE kind = 21;
     CREATE TABLE p_registrations (blind BYTEA PRIMARY KEY, subject_no BIGINT NOT NULL, leaf_index BIGINT NOT NULL);
     CREATE TABLE p_program_leaves (leaf_index BIGINT PRIMARY KEY, program_id TEXT COLLATE "C" NOT NULL);
     CREATE TABLE p_tallies (metric TEXT COLLATE "C" NOT NULL, d1 TEXT COLLATE "C" NOT NULL, d2 TEXT COLLATE "C" NOT NULL, d3 TEXT COLLATE "C" NOT NULL,
                             month TEXT COLLATE "C" NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (metric, d1, d2, d3, month));
     CREATE TABLE p_stay_facts (subject_no BIGINT PRIMARY KEY, through_leaf BIGINT NOT NULL, sealed BYTEA NOT NULL);
     CREATE TABLE p_stay_facts_through (one BIGINT PRIMARY KEY CHECK (one = 1), through BIGINT NOT NULL);
     CREATE TABLE p_compliance_facts (subject_no BIGINT PRIMARY KEY, through_leaf BIGINT NOT NULL, sealed BYTEA NOT NULL);
     CREATE TABLE p_system_leaves (leaf_index BIGINT PRIMARY KEY, kind BIGINT NOT NULL, scope TEXT COLLATE "C" NOT NULL);
     CREATE TABLE p_imports (file TEXT COLLATE "C" PRIMARY KEY, through BIGINT NOT NULL);
     CREATE TABLE p_program_subjects (program TEXT COLLATE "C" NOT NULL, subject_no BIGINT NOT NULL, PRIMARY KEY (program, subject_no));
     CREATE TABLE p_slot_loads (office TEXT COLLATE "C" NOT NULL, day TEXT COLLATE "C" NOT NULL, start BIGINT NOT NULL, minutes BIGINT NOT NULL,
                                booked BIGINT NOT NULL, PRIMARY KEY (office, day, start, minutes));
     CREATE TABLE p_desk_queue (office TEXT COLLATE "C" NOT NULL, subject_no BIGINT NOT NULL, arrived_ms BIGINT NOT NULL, slot_start BIGINT,
                                called_ms BIGINT, desk BIGINT, PRIMARY KEY (office, subject_no));
     CREATE TABLE p_identification_reviews (subject_no BIGINT PRIMARY KEY, pending BIGINT NOT NULL);
     CREATE TABLE p_work (queue BIGINT NOT NULL, subject_no BIGINT NOT NULL, item TEXT COLLATE "C" NOT NULL, PRIMARY KEY (queue, subject_no, item));"#,
    // 2: each command's idempotency key, with where it landed (kept a day).
    "CREATE TABLE idempotency (key BYTEA PRIMARY KEY, leaf_index BIGINT NOT NULL, tree_size BIGINT NOT NULL, created_ms BIGINT NOT NULL);
     CREATE INDEX idempotency_created ON idempotency (created_ms);",
];

/// How long a commit whose connection broke is retried, waiting for the database
/// (a new primary, after a failover) to come back.
const RETRY_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// Run a future to completion on this thread. The futures of a `tokio_postgres::Client`
/// only talk over channels to the connection task (which runs on the store's own
/// runtime), so they need no runtime here: this works on any thread, an async
/// runtime's included, where `Runtime::block_on` would refuse.
fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// Whether an error means the database cannot be reached now, rather than that the
/// statement is wrong: a broken connection, a server shutting down or starting, a
/// read-only server (a primary demoted in a failover), too many connections.
fn unavailable(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        Some(code) => {
            let c = code.code();
            c.starts_with("08") || c.starts_with("57P") || c == "25006" || c == "53300"
        }
        None => {
            // No SQLSTATE: a broken or refused connection (an I/O error underneath),
            // a timeout, or a mistake of ours (a type that does not convert).
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                if s.is::<std::io::Error>() {
                    return true;
                }
                source = s.source();
            }
            let text = e.to_string();
            e.is_closed() || text.contains("connect") || text.contains("timed out") || text.contains("timeout")
        }
    }
}

fn pe(e: tokio_postgres::Error) -> StoreError {
    if unavailable(&e) {
        let why = match e.as_db_error() {
            Some(db) => format!("PostgreSQL: {} ({})", db.message(), db.code().code()),
            None => format!("PostgreSQL: {e}"),
        };
        return StoreError::Unavailable(why);
    }
    // The server's message (`DbError`) says what failed; the Display of the outer
    // error alone is often just "db error".
    match e.as_db_error() {
        Some(db) => StoreError::Backend(format!("PostgreSQL: {} ({})", db.message(), db.code().code())),
        None => StoreError::Backend(format!("PostgreSQL: {e}")),
    }
}

fn pe_plain(e: &tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) if !unavailable(e) => {
            StoreError::Backend(format!("PostgreSQL: {} ({})", db.message(), db.code().code()))
        }
        Some(db) => StoreError::Unavailable(format!("PostgreSQL: {} ({})", db.message(), db.code().code())),
        None if unavailable(e) => StoreError::Unavailable(format!("PostgreSQL: {e}")),
        None => StoreError::Backend(format!("PostgreSQL: {e}")),
    }
}

fn hash_from(v: Vec<u8>) -> Result<Hash> {
    v.try_into().map_err(|_| StoreError::Corrupt("a stored hash is not 32 bytes".into()))
}

fn id_from(v: Vec<u8>) -> Result<[u8; 16]> {
    v.try_into().map_err(|_| StoreError::Corrupt("a subject id is not 16 bytes".into()))
}

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(r: &'a Row, i: usize) -> Result<T> {
    r.try_get(i).map_err(pe)
}

fn n(v: u64) -> i64 {
    v as i64
}

/// One connection with the statements prepared on it.
struct Conn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    fn statement(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = block_on(self.client.prepare(sql)).map_err(pe)?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    fn exec(&mut self, sql: &'static str, params: &[P<'_>]) -> Result<u64> {
        let s = self.statement(sql)?;
        block_on(self.client.execute(&s, params)).map_err(pe)
    }

    fn rows(&mut self, sql: &'static str, params: &[P<'_>]) -> Result<Vec<Row>> {
        let s = self.statement(sql)?;
        block_on(self.client.query(&s, params)).map_err(pe)
    }

    fn opt(&mut self, sql: &'static str, params: &[P<'_>]) -> Result<Option<Row>> {
        let s = self.statement(sql)?;
        block_on(self.client.query_opt(&s, params)).map_err(pe)
    }

    fn one(&mut self, sql: &'static str, params: &[P<'_>]) -> Result<Row> {
        let s = self.statement(sql)?;
        block_on(self.client.query_one(&s, params)).map_err(pe)
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        block_on(self.client.batch_execute(sql)).map_err(pe)
    }

    /// Run `f` in one transaction: committed if it returns `Ok`, rolled back otherwise.
    fn tx<T>(&mut self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        self.batch("BEGIN")?;
        match f(self) {
            Ok(v) => {
                self.batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                // A broken connection rolls back by itself.
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

pub struct PgStore {
    config: Config,
    /// Tables live in this schema (tests give each store its own), else `public`.
    schema: Option<String>,
    /// The key of the advisory locks that serialise commits and checkpoint signing.
    lock_key: i64,
    runtime: Option<tokio::runtime::Runtime>,
    writer: Mutex<Option<Conn>>,
    readers: Mutex<Vec<Conn>>,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Never blocks, so a store may be dropped on an async runtime's thread.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// `postgres://user:secret@host/db` without the password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..s + 3], &userinfo[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl PgStore {
    /// Connect to `url` (a `postgres://` URL or a `key=value` string; several hosts
    /// allowed) and bring the schema up to date.
    pub fn open(url: &str) -> Result<Self> {
        Self::open_in(url, None)
    }

    /// As [`PgStore::open`], with every table in `schema` (created if missing). Tests
    /// give each store its own schema in one database.
    pub fn open_in(url: &str, schema: Option<&str>) -> Result<Self> {
        let mut config: Config =
            url.parse().map_err(|e| StoreError::Backend(format!("--database {}: {e}", redact(url))))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("fairgate");
        }
        if let Some(s) = schema {
            if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || s.is_empty() {
                return Err(StoreError::Backend(format!("schema name {s:?}: use letters, digits and _ only")));
            }
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fairgate-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("starting the PostgreSQL connection threads: {e}")))?;
        let lock_key = {
            let d = Sha256::digest(format!("fairgate ledger lock {}", schema.unwrap_or("public")));
            i64::from_be_bytes(d[..8].try_into().unwrap_or([0; 8]))
        };
        let store = Self {
            config,
            schema: schema.map(str::to_string),
            lock_key,
            runtime: Some(runtime),
            writer: Mutex::new(None),
            readers: Mutex::new(Vec::new()),
        };
        store.migrate()?;
        Ok(store)
    }

    fn connect(&self) -> Result<Conn> {
        let rt = self.runtime.as_ref().ok_or_else(|| StoreError::Backend("the store is closed".into()))?;
        let config = self.config.clone();
        let task = rt.spawn(async move {
            let (client, connection) = config.connect(NoTls).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error = %e, "a PostgreSQL connection ended");
                }
            });
            Ok::<_, tokio_postgres::Error>(client)
        });
        let client = block_on(task)
            .map_err(|e| StoreError::Backend(format!("PostgreSQL connection task: {e}")))?
            .map_err(|e| {
                let hint = |m: String| {
                    // The cause ("Connection refused") is the error's source, not its text.
                    let mut text = format!("connecting to {m}");
                    let mut source = std::error::Error::source(&e);
                    while let Some(s) = source {
                        text.push_str(&format!(": {s}"));
                        source = s.source();
                    }
                    text + ": check --database"
                };
                match pe_plain(&e) {
                    StoreError::Unavailable(m) => StoreError::Unavailable(hint(m)),
                    StoreError::Backend(m) => StoreError::Backend(hint(m)),
                    other => other,
                }
            })?;
        let mut conn = Conn { client, statements: HashMap::new() };
        // The server's NOTICEs ("already exists, skipping") are not worth a log line.
        conn.batch("SET client_min_messages TO warning")?;
        if let Some(s) = &self.schema {
            conn.batch(&format!("CREATE SCHEMA IF NOT EXISTS {s}; SET search_path TO {s}"))?;
        }
        Ok(conn)
    }

    fn migrate(&self) -> Result<()> {
        self.write(|c| {
            c.tx(|c| {
                // One migrator at a time, whoever else opens the database now.
                c.exec("SELECT pg_advisory_xact_lock($1)", &[&(self.lock_key ^ 1)])?;
                c.batch("CREATE TABLE IF NOT EXISTS fairgate_schema (version BIGINT NOT NULL)")?;
                let version: i64 = match c.opt("SELECT version FROM fairgate_schema", &[])? {
                    Some(r) => get(&r, 0)?,
                    None => {
                        c.exec("INSERT INTO fairgate_schema (version) VALUES (0)", &[])?;
                        0
                    }
                };
                for (i, step) in SCHEMA.iter().enumerate().skip(version.max(0) as usize) {
                    c.batch(step)?;
                    c.exec("UPDATE fairgate_schema SET version = $1", &[&(i as i64 + 1)])?;
                }
                Ok(())
            })
        })
    }

    fn write<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        let mut guard = self.writer.lock().map_err(|_| StoreError::Backend("writer lock poisoned".into()))?;
        if guard.as_ref().is_none_or(|c| c.client.is_closed()) {
            *guard = Some(self.connect()?);
        }
        let Some(conn) = guard.as_mut() else {
            return Err(StoreError::Backend("no PostgreSQL connection".into()));
        };
        let out = f(conn);
        if conn.client.is_closed() || matches!(out, Err(StoreError::Unavailable(_))) {
            // The next write connects again (to the new primary, after a failover).
            *guard = None;
        }
        out
    }

    fn read<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        let pooled = self.readers.lock().map_err(|_| StoreError::Backend("reader pool poisoned".into()))?.pop();
        let mut conn = match pooled {
            Some(c) if !c.client.is_closed() => c,
            _ => self.connect()?,
        };
        let out = f(&mut conn);
        if !conn.client.is_closed() && !matches!(out, Err(StoreError::Unavailable(_))) {
            if let Ok(mut pool) = self.readers.lock() {
                if pool.len() < 8 {
                    pool.push(conn);
                }
            }
        }
        out
    }

    /// Vacuum the tables an erasure destroyed keys in, so the dead row versions that
    /// still held a wrapped key are pruned now rather than by autovacuum later. (The
    /// sealed facts and biometric records deleted with them are ciphertext under
    /// those keys: pruning them adds nothing.)
    fn vacuum_erased(&self, c: &mut Conn) -> Result<()> {
        c.batch("VACUUM subject_keys, program_keys")
    }

    /// The tree size, through the connection `c` (inside a transaction or not).
    fn size_on(c: &mut Conn) -> Result<u64> {
        let r = c.one("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger", &[])?;
        Ok(get::<i64>(&r, 0)? as u64)
    }

    fn checkpoints_where(&self, desc: bool) -> Result<Vec<CheckpointRow>> {
        self.read(|c| {
            let rows = if desc {
                c.rows("SELECT size, root, note, signed_at_ms FROM checkpoints ORDER BY size DESC LIMIT 1", &[])?
            } else {
                c.rows("SELECT size, root, note, signed_at_ms FROM checkpoints ORDER BY size", &[])?
            };
            rows.iter()
                .map(|r| {
                    Ok(CheckpointRow {
                        size: get::<i64>(r, 0)? as u64,
                        root: hash_from(get(r, 1)?)?,
                        note: get(r, 2)?,
                        signed_at_ms: get(r, 3)?,
                    })
                })
                .collect()
        })
    }

    /// Stream the rows of one query (one snapshot, read as the server sends them),
    /// handing them to `f` in chunks; stops early when `f` returns `false`.
    fn scan<T>(
        &self,
        sql: &'static str,
        chunk: usize,
        row: &mut dyn FnMut(&Row) -> Result<T>,
        f: &mut dyn FnMut(Vec<T>) -> bool,
    ) -> Result<()> {
        use futures_util::StreamExt;
        let chunk = chunk.max(1);
        self.read(|c| {
            let st = c.statement(sql)?;
            let stream = block_on(c.client.query_raw(&st, std::iter::empty::<i64>())).map_err(pe)?;
            let mut stream = std::pin::pin!(stream);
            let mut buf = Vec::with_capacity(chunk);
            while let Some(r) = block_on(stream.as_mut().next()) {
                buf.push(row(&r.map_err(pe)?)?);
                if buf.len() == chunk && !f(std::mem::replace(&mut buf, Vec::with_capacity(chunk))) {
                    // The rest of the rows are read and dropped by the connection.
                    return Ok(());
                }
            }
            if !buf.is_empty() {
                f(buf);
            }
            Ok(())
        })
    }

    /// Drop every table of this store's schema (tests clean up with it).
    pub fn drop_schema(&self) -> Result<()> {
        let Some(s) = self.schema.clone() else {
            return Err(StoreError::Backend("only a test store's own schema is ever dropped".into()));
        };
        self.write(|c| c.batch(&format!("DROP SCHEMA IF EXISTS {s} CASCADE")))
    }
}

/// Add the rows of `rows` as [`crate::sqlite`]'s `insert_projections` does: rows
/// whose effect depends on order (slot loads, waiting lists, reviews, work items,
/// tallies taken off) in order, the rest with one statement per table, tallies last.
fn insert_projections(c: &mut Conn, rows: &[Projection]) -> Result<()> {
    let mut subjects: (Vec<i64>, Vec<i64>) = Default::default();
    let mut documents: (Vec<&[u8]>, Vec<i64>) = Default::default();
    let mut leaves: (Vec<i64>, Vec<i64>, Vec<i64>) = Default::default();
    let mut registrations: (Vec<&[u8]>, Vec<i64>, Vec<i64>) = Default::default();
    let mut programs: (Vec<i64>, Vec<&str>) = Default::default();
    let mut system: (Vec<i64>, Vec<i64>, Vec<&str>) = Default::default();
    let mut program_subjects: (Vec<&str>, Vec<i64>) = Default::default();
    // Upserts: the last row for a key wins, as it would applied one by one.
    let mut stay: BTreeMap<i64, (i64, &[u8])> = BTreeMap::new();
    let mut compliance: BTreeMap<i64, (i64, &[u8])> = BTreeMap::new();
    let mut through: Option<i64> = None;
    let mut imports: BTreeMap<&str, i64> = BTreeMap::new();
    let mut tallies: BTreeMap<(&str, &[String; 3], &str), u64> = BTreeMap::new();
    for row in rows {
        match row {
            Projection::Subject { subject_no, created_leaf } => {
                subjects.0.push(n(*subject_no));
                subjects.1.push(n(*created_leaf));
            }
            Projection::Document { blind, subject_no } => {
                documents.0.push(&blind[..]);
                documents.1.push(n(*subject_no));
            }
            Projection::SubjectLeaf { subject_no, leaf_index, kind } => {
                leaves.0.push(n(*subject_no));
                leaves.1.push(n(*leaf_index));
                leaves.2.push(i64::from(*kind));
            }
            Projection::Registration { blind, subject_no, leaf_index } => {
                registrations.0.push(&blind[..]);
                registrations.1.push(n(*subject_no));
                registrations.2.push(n(*leaf_index));
            }
            Projection::Program { id, leaf_index } => {
                programs.0.push(n(*leaf_index));
                programs.1.push(id);
            }
            Projection::SystemLeaf { leaf_index, kind, scope } => {
                system.0.push(n(*leaf_index));
                system.1.push(i64::from(*kind));
                system.2.push(scope);
            }
            Projection::ProgramSubject { program, subject_no } => {
                program_subjects.0.push(program);
                program_subjects.1.push(n(*subject_no));
            }
            Projection::StayFacts { subject_no, through_leaf, sealed } => {
                stay.insert(n(*subject_no), (n(*through_leaf), sealed));
            }
            Projection::ComplianceFacts { subject_no, through_leaf, sealed } => {
                compliance.insert(n(*subject_no), (n(*through_leaf), sealed));
            }
            Projection::StayFactsThrough { through: t } => through = Some(n(*t)),
            Projection::ImportLine { file, line } => {
                let e = imports.entry(file.as_str()).or_insert(0);
                *e = (*e).max(n(*line));
            }
            Projection::Tally { metric, dims, month, count } => {
                *tallies.entry((metric.as_str(), dims, month.as_str())).or_default() += count;
            }
            Projection::TallyRemove { metric, dims, month, count } => {
                let p: [P<'_>; 6] = [metric, &dims[0], &dims[1], &dims[2], month, &n(*count)];
                c.exec(
                    "UPDATE p_tallies SET count = count - $6 WHERE metric = $1 AND d1 = $2 AND d2 = $3 AND d3 = $4 AND month = $5",
                    &p,
                )?;
                c.exec(
                    "DELETE FROM p_tallies WHERE metric = $1 AND d1 = $2 AND d2 = $3 AND d3 = $4 AND month = $5 AND count <= 0",
                    &p[..5],
                )?;
            }
            Projection::SlotLoad { office, day, start, minutes, delta } => {
                slot_load(c, office, day, *start, *minutes, *delta)?
            }
            Projection::Queue { office, subject_no, op } => queue_op(c, office, *subject_no, op)?,
            Projection::IdentificationReview { subject_no, delta } => review_op(c, *subject_no, *delta)?,
            Projection::Work { queue, subject_no, item, open } => work_op(c, *queue, *subject_no, item, *open)?,
        }
    }
    if !subjects.0.is_empty() {
        c.exec(
            "INSERT INTO p_subjects (subject_no, created_leaf) SELECT * FROM UNNEST($1::int8[], $2::int8[])",
            &[&subjects.0, &subjects.1],
        )?;
    }
    if !leaves.0.is_empty() {
        c.exec(
            "INSERT INTO p_subject_leaves (subject_no, leaf_index, kind) SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::int8[])",
            &[&leaves.0, &leaves.1, &leaves.2],
        )?;
    }
    if !programs.0.is_empty() {
        c.exec(
            "INSERT INTO p_program_leaves (leaf_index, program_id) SELECT * FROM UNNEST($1::int8[], $2::text[])",
            &[&programs.0, &programs.1],
        )?;
    }
    if !system.0.is_empty() {
        c.exec(
            "INSERT INTO p_system_leaves (leaf_index, kind, scope) SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::text[])",
            &[&system.0, &system.1, &system.2],
        )?;
    }
    if !program_subjects.0.is_empty() {
        c.exec(
            "INSERT INTO p_program_subjects (program, subject_no) SELECT * FROM UNNEST($1::text[], $2::int8[]) ON CONFLICT DO NOTHING",
            &[&program_subjects.0, &program_subjects.1],
        )?;
    }
    for (sql, rows) in [
        (
            "INSERT INTO p_stay_facts (subject_no, through_leaf, sealed) SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::bytea[])
             ON CONFLICT (subject_no) DO UPDATE SET through_leaf = excluded.through_leaf, sealed = excluded.sealed",
            &stay,
        ),
        (
            "INSERT INTO p_compliance_facts (subject_no, through_leaf, sealed) SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::bytea[])
             ON CONFLICT (subject_no) DO UPDATE SET through_leaf = excluded.through_leaf, sealed = excluded.sealed",
            &compliance,
        ),
    ] {
        if !rows.is_empty() {
            let nos: Vec<i64> = rows.keys().copied().collect();
            let throughs: Vec<i64> = rows.values().map(|v| v.0).collect();
            let sealed: Vec<&[u8]> = rows.values().map(|v| v.1).collect();
            c.exec(sql, &[&nos, &throughs, &sealed])?;
        }
    }
    if let Some(t) = through {
        c.exec(
            "INSERT INTO p_stay_facts_through (one, through) VALUES (1, $1) ON CONFLICT (one) DO UPDATE SET through = excluded.through",
            &[&t],
        )?;
    }
    for (file, line) in &imports {
        c.exec(
            "INSERT INTO p_imports (file, through) VALUES ($1, $2)
             ON CONFLICT (file) DO UPDATE SET through = GREATEST(p_imports.through, excluded.through)",
            &[file, line],
        )?;
    }
    // Rows keyed by a blind index, in key order (as the SQLite store writes them).
    if !documents.0.is_empty() {
        c.exec(
            "INSERT INTO p_documents (blind, subject_no) SELECT * FROM UNNEST($1::bytea[], $2::int8[]) AS d(b, s) ORDER BY b, s ON CONFLICT DO NOTHING",
            &[&documents.0, &documents.1],
        )?;
    }
    if !registrations.0.is_empty() {
        c.exec(
            "INSERT INTO p_registrations (blind, subject_no, leaf_index) SELECT * FROM UNNEST($1::bytea[], $2::int8[], $3::int8[]) AS r(b, s, l) ORDER BY b",
            &[&registrations.0, &registrations.1, &registrations.2],
        )?;
    }
    if !tallies.is_empty() {
        let mut cols: [Vec<&str>; 5] = Default::default();
        let mut counts: Vec<i64> = Vec::with_capacity(tallies.len());
        for ((metric, dims, month), count) in &tallies {
            cols[0].push(metric);
            cols[1].push(&dims[0]);
            cols[2].push(&dims[1]);
            cols[3].push(&dims[2]);
            cols[4].push(month);
            counts.push(n(*count));
        }
        c.exec(
            "INSERT INTO p_tallies (metric, d1, d2, d3, month, count)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int8[])
             ON CONFLICT (metric, d1, d2, d3, month) DO UPDATE SET count = p_tallies.count + excluded.count",
            &[&cols[0], &cols[1], &cols[2], &cols[3], &cols[4], &counts],
        )?;
    }
    Ok(())
}

/// Add `delta` bookings to a slot; a slot that reaches zero is removed.
fn slot_load(c: &mut Conn, office: &str, day: &str, start: u16, minutes: u16, delta: i64) -> Result<()> {
    let (start, minutes) = (i64::from(start), i64::from(minutes));
    c.exec(
        "INSERT INTO p_slot_loads (office, day, start, minutes, booked) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (office, day, start, minutes) DO UPDATE SET booked = p_slot_loads.booked + excluded.booked",
        &[&office, &day, &start, &minutes, &delta],
    )?;
    c.exec(
        "DELETE FROM p_slot_loads WHERE office = $1 AND day = $2 AND start = $3 AND minutes = $4 AND booked <= 0",
        &[&office, &day, &start, &minutes],
    )?;
    Ok(())
}

fn work_op(c: &mut Conn, queue: u8, subject_no: u64, item: &str, open: bool) -> Result<()> {
    let p: [P<'_>; 3] = [&i64::from(queue), &n(subject_no), &item];
    if open {
        c.exec("INSERT INTO p_work (queue, subject_no, item) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", &p)?;
    } else {
        c.exec("DELETE FROM p_work WHERE queue = $1 AND subject_no = $2 AND item = $3", &p)?;
    }
    Ok(())
}

fn review_op(c: &mut Conn, subject_no: u64, delta: i64) -> Result<()> {
    c.exec(
        "INSERT INTO p_identification_reviews (subject_no, pending) VALUES ($1, $2)
         ON CONFLICT (subject_no) DO UPDATE SET pending = p_identification_reviews.pending + excluded.pending",
        &[&n(subject_no), &delta],
    )?;
    c.exec("DELETE FROM p_identification_reviews WHERE subject_no = $1 AND pending <= 0", &[&n(subject_no)])?;
    Ok(())
}

fn queue_op(c: &mut Conn, office: &str, subject_no: u64, op: &QueueOp) -> Result<()> {
    let no = n(subject_no);
    match op {
        QueueOp::Arrive { at_ms, slot_start } => c.exec(
            "INSERT INTO p_desk_queue (office, subject_no, arrived_ms, slot_start, called_ms, desk) VALUES ($1, $2, $3, $4, NULL, NULL)
             ON CONFLICT (office, subject_no) DO UPDATE SET arrived_ms = excluded.arrived_ms, slot_start = excluded.slot_start, called_ms = NULL, desk = NULL",
            &[&office, &no, at_ms, &slot_start.map(i64::from)],
        ),
        QueueOp::Call { at_ms, desk } => c.exec(
            "UPDATE p_desk_queue SET called_ms = $3, desk = $4 WHERE office = $1 AND subject_no = $2",
            &[&office, &no, at_ms, &i64::from(*desk)],
        ),
        QueueOp::Leave => c.exec("DELETE FROM p_desk_queue WHERE office = $1 AND subject_no = $2", &[&office, &no]),
    }?;
    Ok(())
}

/// Destroy the data keys of `subjects` with their sealed facts and portal
/// credentials, and delete the rows `removals` names.
fn erase_in(c: &mut Conn, subjects: &[u64], removals: &[Projection]) -> Result<()> {
    if !subjects.is_empty() {
        let nos: Vec<i64> = subjects.iter().map(|s| n(*s)).collect();
        c.exec("UPDATE subject_keys SET data_key = NULL WHERE subject_no = ANY($1)", &[&nos])?;
        for sql in [
            "DELETE FROM p_stay_facts WHERE subject_no = ANY($1)",
            "DELETE FROM p_compliance_facts WHERE subject_no = ANY($1)",
            "DELETE FROM biometrics WHERE subject_no = ANY($1)",
            "DELETE FROM portal_sessions WHERE subject_no = ANY($1)",
            "DELETE FROM portal_accounts WHERE subject_no = ANY($1)",
        ] {
            c.exec(sql, &[&nos])?;
        }
    }
    remove_projections(c, removals)
}

/// Delete the rows `rows` name, each as `insert_projections` would have added it.
fn remove_projections(c: &mut Conn, rows: &[Projection]) -> Result<()> {
    let mut subjects: Vec<i64> = Vec::new();
    let mut documents: (Vec<&[u8]>, Vec<i64>) = Default::default();
    let mut leaves: (Vec<i64>, Vec<i64>) = Default::default();
    let mut registrations: (Vec<&[u8]>, Vec<i64>) = Default::default();
    let mut program_subjects: (Vec<&str>, Vec<i64>) = Default::default();
    let mut tallies: BTreeMap<(&str, &[String; 3], &str), u64> = BTreeMap::new();
    for row in rows {
        match row {
            Projection::Subject { subject_no, .. } => subjects.push(n(*subject_no)),
            Projection::Document { blind, subject_no } => {
                documents.0.push(&blind[..]);
                documents.1.push(n(*subject_no));
            }
            Projection::SubjectLeaf { subject_no, leaf_index, .. } => {
                leaves.0.push(n(*subject_no));
                leaves.1.push(n(*leaf_index));
            }
            Projection::Registration { blind, leaf_index, .. } => {
                registrations.0.push(&blind[..]);
                registrations.1.push(n(*leaf_index));
            }
            Projection::ProgramSubject { program, subject_no } => {
                program_subjects.0.push(program);
                program_subjects.1.push(n(*subject_no));
            }
            Projection::Tally { metric, dims, month, count }
            | Projection::TallyRemove { metric, dims, month, count } => {
                *tallies.entry((metric.as_str(), dims, month.as_str())).or_default() += count;
            }
            Projection::SlotLoad { office, day, start, minutes, delta } => {
                slot_load(c, office, day, *start, *minutes, -*delta)?
            }
            Projection::Queue { office, subject_no, .. } => queue_op(c, office, *subject_no, &QueueOp::Leave)?,
            Projection::IdentificationReview { subject_no, .. } => {
                c.exec("DELETE FROM p_identification_reviews WHERE subject_no = $1", &[&n(*subject_no)])?;
            }
            Projection::Work { subject_no, .. } => {
                c.exec("DELETE FROM p_work WHERE subject_no = $1", &[&n(*subject_no)])?;
            }
            // The high-water mark of an import stays (the lines are in the ledger);
            // the rest are not a person's rows.
            Projection::ImportLine { .. }
            | Projection::Program { .. }
            | Projection::SystemLeaf { .. }
            | Projection::StayFacts { .. }
            | Projection::StayFactsThrough { .. }
            | Projection::ComplianceFacts { .. } => {}
        }
    }
    if !subjects.is_empty() {
        c.exec("DELETE FROM p_subjects WHERE subject_no = ANY($1)", &[&subjects])?;
    }
    if !documents.0.is_empty() {
        c.exec(
            "DELETE FROM p_documents t USING UNNEST($1::bytea[], $2::int8[]) AS d(b, s) WHERE t.blind = d.b AND t.subject_no = d.s",
            &[&documents.0, &documents.1],
        )?;
    }
    if !leaves.0.is_empty() {
        c.exec(
            "DELETE FROM p_subject_leaves t USING UNNEST($1::int8[], $2::int8[]) AS d(s, l) WHERE t.subject_no = d.s AND t.leaf_index = d.l",
            &[&leaves.0, &leaves.1],
        )?;
    }
    if !registrations.0.is_empty() {
        c.exec("DELETE FROM portal_codes WHERE leaf_index = ANY($1)", &[&registrations.1])?;
        c.exec("DELETE FROM p_registrations WHERE blind = ANY($1)", &[&registrations.0])?;
    }
    if !program_subjects.0.is_empty() {
        c.exec(
            "DELETE FROM p_program_subjects t USING UNNEST($1::text[], $2::int8[]) AS d(p, s) WHERE t.program = d.p AND t.subject_no = d.s",
            &[&program_subjects.0, &program_subjects.1],
        )?;
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
    insert_projections(c, &cells)
}

fn user_row(r: &Row) -> Result<UserRow> {
    Ok(UserRow {
        id: get(r, 0)?,
        name: get(r, 1)?,
        role: get(r, 2)?,
        password_hash: get(r, 3)?,
        created_ms: get(r, 4)?,
        agency: get(r, 5)?,
        disabled_ms: get(r, 6)?,
    })
}

fn keys_row(r: &Row) -> Result<SubjectKeysRow> {
    Ok(SubjectKeysRow {
        subject_no: get::<i64>(r, 0)? as u64,
        subject_id: id_from(get(r, 1)?)?,
        data_key: get(r, 2)?,
        access_key: get(r, 3)?,
    })
}

fn u64s(rows: Vec<Row>) -> Result<Vec<u64>> {
    rows.iter().map(|r| get::<i64>(r, 0).map(|v| v as u64)).collect()
}

impl PgStore {
    /// One attempt at a commit.
    fn commit_once(&self, group: &[Commit]) -> Result<()> {
        let Some(expected) = crate::store::group_start(group)? else { return Ok(()) };
        let erased = self.write(|c| {
            c.tx(|c| {
                // Commits queue here, whichever process makes them; then the
                // compare-and-set on the tree size.
                c.exec("SELECT pg_advisory_xact_lock($1)", &[&self.lock_key])?;
                let found = Self::size_on(c)?;
                if found != expected {
                    return Err(StoreError::Conflict { expected, found });
                }
                // In order: each commit builds on the one before it.
                for commit in group {
                if !commit.subject_keys.is_empty() {
                    let mut sorted: Vec<&SubjectKeysRow> = commit.subject_keys.iter().collect();
                    sorted.sort_unstable_by_key(|k| k.subject_id);
                    let nos: Vec<i64> = sorted.iter().map(|k| n(k.subject_no)).collect();
                    let ids: Vec<&[u8]> = sorted.iter().map(|k| &k.subject_id[..]).collect();
                    let data: Vec<Option<&[u8]>> = sorted.iter().map(|k| k.data_key.as_deref()).collect();
                    let access: Vec<Option<&[u8]>> = sorted.iter().map(|k| k.access_key.as_deref()).collect();
                    c.exec(
                        "INSERT INTO subject_keys (subject_no, subject_id, data_key, access_key)
                         SELECT * FROM UNNEST($1::int8[], $2::bytea[], $3::bytea[], $4::bytea[])",
                        &[&nos, &ids, &data, &access],
                    )?;
                }
                for k in &commit.program_keys {
                    c.exec(
                        "INSERT INTO program_keys (ordinal, program, wrapped) VALUES ($1, $2, $3)",
                        &[&i64::from(k.ordinal), &k.program, &k.wrapped],
                    )?;
                }
                if !commit.leaves.is_empty() {
                    let idx: Vec<i64> = commit.leaves.iter().map(|l| n(l.index)).collect();
                    let leaf: Vec<&[u8]> = commit.leaves.iter().map(|l| &l.leaf[..]).collect();
                    let hash: Vec<&[u8]> = commit.leaves.iter().map(|l| &l.hash[..]).collect();
                    c.exec(
                        "INSERT INTO ledger (idx, leaf, hash) SELECT * FROM UNNEST($1::int8[], $2::bytea[], $3::bytea[])",
                        &[&idx, &leaf, &hash],
                    )?;
                }
                if !commit.nodes.is_empty() {
                    let level: Vec<i64> = commit.nodes.iter().map(|x| i64::from(x.level)).collect();
                    let idx: Vec<i64> = commit.nodes.iter().map(|x| n(x.index)).collect();
                    let hash: Vec<&[u8]> = commit.nodes.iter().map(|x| &x.hash[..]).collect();
                    c.exec(
                        "INSERT INTO tree_nodes (level, idx, hash) SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::bytea[])",
                        &[&level, &idx, &hash],
                    )?;
                }
                insert_projections(c, &commit.projections)?;
                for (leaf, at) in &commit.portal_void {
                    c.exec(
                        "UPDATE portal_codes SET used_ms = $2 WHERE leaf_index = $1 AND used_ms IS NULL",
                        &[&n(*leaf), at],
                    )?;
                }
                if !commit.portal_codes.is_empty() {
                    // The last code issued for a registration replaces the others.
                    let codes: BTreeMap<i64, &PortalCodeRow> =
                        commit.portal_codes.iter().map(|r| (n(r.leaf), r)).collect();
                    let leaf: Vec<i64> = codes.keys().copied().collect();
                    let hash: Vec<&[u8]> = codes.values().map(|r| &r.hash[..]).collect();
                    let issued: Vec<i64> = codes.values().map(|r| r.issued_ms).collect();
                    c.exec(
                        "INSERT INTO portal_codes (leaf_index, code_hash, issued_ms, used_ms)
                         SELECT l, h, i, NULL FROM UNNEST($1::int8[], $2::bytea[], $3::int8[]) AS c(l, h, i)
                         ON CONFLICT (leaf_index) DO UPDATE SET code_hash = excluded.code_hash, issued_ms = excluded.issued_ms, used_ms = NULL",
                        &[&leaf, &hash, &issued],
                    )?;
                }
                if !commit.biometrics.is_empty() {
                    let leaf: Vec<i64> = commit.biometrics.iter().map(|b| n(b.leaf)).collect();
                    let no: Vec<i64> = commit.biometrics.iter().map(|b| n(b.subject_no)).collect();
                    let sealed: Vec<&[u8]> = commit.biometrics.iter().map(|b| &b.sealed[..]).collect();
                    c.exec(
                        "INSERT INTO biometrics (leaf_index, subject_no, sealed) SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::bytea[])",
                        &[&leaf, &no, &sealed],
                    )?;
                }
                if let Some(e) = &commit.erase {
                    erase_in(c, &e.subjects, &e.removals)?;
                    for p in &e.program_keys {
                        c.exec("UPDATE program_keys SET wrapped = NULL WHERE program = $1", &[p])?;
                    }
                }
                if let (Some((key, at)), Some(first)) = (&commit.idempotency, commit.leaves.first()) {
                    let end = first.index + commit.leaves.len() as u64;
                    c.exec(
                        "INSERT INTO idempotency (key, leaf_index, tree_size, created_ms) VALUES ($1, $2, $3, $4)",
                        &[&&key[..], &n(first.index), &n(end), at],
                    )?;
                    if first.index / 4096 != end / 4096 {
                        c.exec(
                            "DELETE FROM idempotency WHERE created_ms < $1",
                            &[&(at - crate::sqlite::IDEMPOTENCY_KEEP_MS)],
                        )?;
                    }
                }
                for (no, account) in &commit.portal_accounts {
                    c.exec("DELETE FROM portal_sessions WHERE subject_no = $1", &[&n(*no)])?;
                    match account {
                        Some((phc, at)) => c.exec(
                            "INSERT INTO portal_accounts (subject_no, passphrase, activated_ms) VALUES ($1, $2, $3)
                             ON CONFLICT (subject_no) DO UPDATE SET passphrase = excluded.passphrase, activated_ms = excluded.activated_ms",
                            &[&n(*no), phc, at],
                        ),
                        None => c.exec("DELETE FROM portal_accounts WHERE subject_no = $1", &[&n(*no)]),
                    }?;
                }
                }
                Ok(group.iter().any(|c| c.erase.is_some()))
            })
        })
        .map_err(|e| match e {
            // Another process appended the same index first.
            StoreError::Backend(m) if m.contains("(23505)") && m.contains("ledger_pkey") => {
                StoreError::Conflict { expected, found: expected + 1 }
            }
            other => other,
        })?;
        if erased {
            // The erasure is committed; pruning the old row versions can wait for
            // autovacuum if the database went away meanwhile.
            if let Err(e) = self.write(|c| self.vacuum_erased(c)) {
                tracing::warn!(error = %e, "vacuum after an erasure failed; autovacuum will prune");
            }
        }
        Ok(())
    }
}

impl LedgerStore for PgStore {
    /// A commit whose connection broke is retried on a new connection (to the new
    /// primary, after a failover) for up to a minute: first it asks whether the
    /// commit landed before the break (its idempotency key is there), and only if
    /// not does it commit again, with the same expected tree size.
    fn commit_group(&self, group: &[Commit]) -> Result<()> {
        // A group lands whole or not at all: any one key tells.
        let key = group.iter().find_map(|c| c.idempotency.as_ref());
        let started = std::time::Instant::now();
        let mut wait = std::time::Duration::from_millis(100);
        let mut landed_unknown = false;
        loop {
            if landed_unknown {
                if let Some((key, _)) = key {
                    match self.idempotent(key) {
                        Ok(Some(_)) => return Ok(()),
                        Ok(None) => {}
                        Err(StoreError::Unavailable(_)) if started.elapsed() < RETRY_FOR => {
                            std::thread::sleep(wait);
                            wait = (wait * 2).min(std::time::Duration::from_secs(1));
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            match self.commit_once(group) {
                Err(StoreError::Unavailable(why)) => {
                    // Without a key, whether it landed cannot be told: say so.
                    if key.is_none() || started.elapsed() >= RETRY_FOR {
                        return Err(StoreError::Unavailable(why));
                    }
                    tracing::warn!(error = %why, "a commit's connection broke; retrying on a new one");
                    landed_unknown = true;
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(std::time::Duration::from_secs(1));
                }
                other => return other,
            }
        }
    }

    fn idempotent(&self, key: &[u8; 32]) -> Result<Option<(u64, u64)>> {
        self.read(|c| {
            c.opt("SELECT leaf_index, tree_size FROM idempotency WHERE key = $1", &[&&key[..]])?
                .map(|r| Ok((get::<i64>(&r, 0)? as u64, get::<i64>(&r, 1)? as u64)))
                .transpose()
        })
    }

    fn tree_size(&self) -> Result<u64> {
        self.read(Self::size_on)
    }

    fn leaves(&self, start: u64, count: u64) -> Result<Vec<LeafRow>> {
        self.read(|c| {
            let rows = c.rows(
                "SELECT idx, leaf, hash FROM ledger WHERE idx >= $1 ORDER BY idx LIMIT $2",
                &[&n(start), &n(count)],
            )?;
            rows.iter()
                .map(|r| {
                    Ok(LeafRow { index: get::<i64>(r, 0)? as u64, leaf: get(r, 1)?, hash: hash_from(get(r, 2)?)? })
                })
                .collect()
        })
    }

    fn leaves_at(&self, indexes: &[u64]) -> Result<Vec<LeafRow>> {
        self.read(|c| {
            let wanted: Vec<i64> = indexes.iter().map(|i| n(*i)).collect();
            let rows = c.rows("SELECT idx, leaf, hash FROM ledger WHERE idx = ANY($1)", &[&wanted])?;
            let mut found: HashMap<u64, LeafRow> = HashMap::with_capacity(rows.len());
            for r in &rows {
                let index = get::<i64>(r, 0)? as u64;
                found.insert(index, LeafRow { index, leaf: get(r, 1)?, hash: hash_from(get(r, 2)?)? });
            }
            indexes
                .iter()
                .map(|i| {
                    found.get(i).cloned().ok_or_else(|| StoreError::Backend(format!("leaf {i} is not in the ledger")))
                })
                .collect()
        })
    }

    fn leaf_hashes(&self, start: u64, count: u64) -> Result<Vec<Hash>> {
        self.read(|c| {
            let rows =
                c.rows("SELECT hash FROM ledger WHERE idx >= $1 ORDER BY idx LIMIT $2", &[&n(start), &n(count)])?;
            rows.iter().map(|r| hash_from(get(r, 0)?)).collect()
        })
    }

    fn tree_nodes(&self, level: u32, start: u64, count: u64) -> Result<Vec<Hash>> {
        self.read(|c| {
            let rows = c.rows(
                "SELECT idx, hash FROM tree_nodes WHERE level = $1 AND idx >= $2 ORDER BY idx LIMIT $3",
                &[&i64::from(level), &n(start), &n(count)],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for (i, r) in rows.iter().enumerate() {
                if get::<i64>(r, 0)? as u64 != start + i as u64 {
                    return Err(StoreError::Corrupt(format!("tree node ({level}, {}) is missing", start + i as u64)));
                }
                out.push(hash_from(get(r, 1)?)?);
            }
            Ok(out)
        })
    }

    fn put_checkpoint(&self, cp: Option<&CheckpointRow>, lease: &Lease, now_ms: i64) -> Result<Option<Lease>> {
        self.write(|c| {
            c.tx(|c| {
                // The lease is read and written under a lock every signer takes, so two
                // processes cannot both find it free.
                c.exec("SELECT pg_advisory_xact_lock($1)", &[&(self.lock_key ^ 2)])?;
                if let Some(r) = c.opt("SELECT holder, expires_ms FROM signing_lease WHERE id = 1", &[])? {
                    let (holder, expires_ms): (String, i64) = (get(&r, 0)?, get(&r, 1)?);
                    if holder != lease.holder && expires_ms > now_ms {
                        return Ok(Some(Lease { holder, expires_ms }));
                    }
                }
                c.exec(
                    "INSERT INTO signing_lease (id, holder, expires_ms) VALUES (1, $1, $2)
                     ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms",
                    &[&lease.holder, &lease.expires_ms],
                )?;
                if let Some(cp) = cp {
                    c.exec(
                        "INSERT INTO checkpoints (size, root, note, signed_at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                        &[&n(cp.size), &&cp.root[..], &cp.note, &cp.signed_at_ms],
                    )?;
                }
                Ok(None)
            })
        })
    }

    fn release_lease(&self, holder: &str) -> Result<()> {
        self.write(|c| c.exec("DELETE FROM signing_lease WHERE holder = $1", &[&holder]).map(|_| ()))
    }

    fn put_cosignatures(&self, size: u64, lines: &[(String, String)]) -> Result<()> {
        self.write(|c| {
            c.tx(|c| {
                for (witness, line) in lines {
                    c.exec(
                        "INSERT INTO cosignatures (size, witness, line) VALUES ($1, $2, $3)
                         ON CONFLICT (size, witness) DO UPDATE SET line = excluded.line",
                        &[&n(size), witness, line],
                    )?;
                }
                Ok(())
            })
        })
    }

    fn cosignatures(&self, size: u64) -> Result<Vec<(String, String)>> {
        self.read(|c| {
            let rows =
                c.rows("SELECT witness, line FROM cosignatures WHERE size = $1 ORDER BY witness", &[&n(size)])?;
            rows.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?))).collect()
        })
    }

    fn latest_cosigned(&self, count: usize) -> Result<Option<u64>> {
        self.read(|c| {
            let r = c.opt(
                "SELECT size FROM cosignatures GROUP BY size HAVING count(*) >= $1 ORDER BY size DESC LIMIT 1",
                &[&(count as i64)],
            )?;
            r.map(|r| get::<i64>(&r, 0).map(|s| s as u64)).transpose()
        })
    }

    fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>> {
        Ok(self.checkpoints_where(true)?.pop())
    }

    fn checkpoints(&self) -> Result<Vec<CheckpointRow>> {
        self.checkpoints_where(false)
    }

    /// Nothing to do: PostgreSQL's own checkpointer moves the WAL into the tables.
    fn checkpoint_wal(&self) -> Result<()> {
        Ok(())
    }

    fn places(&self) -> Result<Vec<Place>> {
        self.read(|c| {
            let rows = c.rows("SELECT code, name, kind, zone FROM places ORDER BY code", &[])?;
            rows.iter()
                .map(|r| {
                    let kind: String = get(r, 2)?;
                    place_from_row(get(r, 0)?, get(r, 1)?, &kind, get(r, 3)?)
                })
                .collect()
        })
    }

    fn put_places(&self, places: &[Place]) -> Result<()> {
        self.write(|c| {
            c.tx(|c| {
                for p in places {
                    let kind = place_kind_column(p);
                    c.exec(
                        "INSERT INTO places (code, name, kind, zone) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, zone = excluded.zone",
                        &[&p.code, &p.name, &kind, &p.zone],
                    )?;
                }
                Ok(())
            })
        })
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        self.read(|c| c.opt("SELECT value FROM meta WHERE key = $1", &[&key])?.map(|r| get(&r, 0)).transpose())
    }

    fn put_meta(&self, key: &str, value: &str) -> Result<()> {
        self.write(|c| {
            c.exec(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )
            .map(|_| ())
        })
    }
}

impl KeyStore for PgStore {
    fn system_key(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.read(|c| {
            c.opt("SELECT wrapped FROM system_keys WHERE name = $1", &[&name])?.map(|r| get(&r, 0)).transpose()
        })
    }

    fn put_system_key(&self, name: &str, wrapped: &[u8]) -> Result<Vec<u8>> {
        self.write(|c| {
            c.exec(
                "INSERT INTO system_keys (name, wrapped) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&name, &wrapped],
            )?;
            get(&c.one("SELECT wrapped FROM system_keys WHERE name = $1", &[&name])?, 0)
        })
    }

    fn subject_keys(&self, subject_no: u64) -> Result<Option<SubjectKeysRow>> {
        self.read(|c| {
            c.opt(
                "SELECT subject_no, subject_id, data_key, access_key FROM subject_keys WHERE subject_no = $1",
                &[&n(subject_no)],
            )?
            .map(|r| keys_row(&r))
            .transpose()
        })
    }

    fn subject_keys_by_id(&self, subject_id: &[u8; 16]) -> Result<Option<SubjectKeysRow>> {
        self.read(|c| {
            c.opt(
                "SELECT subject_no, subject_id, data_key, access_key FROM subject_keys WHERE subject_id = $1",
                &[&&subject_id[..]],
            )?
            .map(|r| keys_row(&r))
            .transpose()
        })
    }

    fn max_subject_no(&self) -> Result<u64> {
        self.read(|c| Ok(get::<i64>(&c.one("SELECT COALESCE(MAX(subject_no), 0) FROM subject_keys", &[])?, 0)? as u64))
    }

    fn live_subjects(&self) -> Result<Vec<(u64, [u8; 16])>> {
        self.read(|c| {
            let rows = c.rows(
                "SELECT subject_no, subject_id FROM subject_keys WHERE data_key IS NOT NULL ORDER BY subject_no",
                &[],
            )?;
            rows.iter().map(|r| Ok((get::<i64>(r, 0)? as u64, id_from(get(r, 1)?)?))).collect()
        })
    }

    fn subject_keys_after(&self, after: u64, limit: usize) -> Result<Vec<SubjectKeysRow>> {
        self.read(|c| {
            let rows = c.rows(
                "SELECT subject_no, subject_id, data_key, access_key FROM subject_keys WHERE subject_no > $1 ORDER BY subject_no LIMIT $2",
                &[&n(after), &(limit as i64)],
            )?;
            rows.iter().map(keys_row).collect()
        })
    }

    fn system_keys(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.read(|c| {
            let rows = c.rows("SELECT name, wrapped FROM system_keys ORDER BY name", &[])?;
            rows.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?))).collect()
        })
    }

    fn program_keys(&self) -> Result<Vec<ProgramKeyRow>> {
        self.read(|c| {
            let rows = c.rows("SELECT ordinal, program, wrapped FROM program_keys ORDER BY ordinal", &[])?;
            rows.iter()
                .map(|r| {
                    Ok(ProgramKeyRow { ordinal: get::<i64>(r, 0)? as u8, program: get(r, 1)?, wrapped: get(r, 2)? })
                })
                .collect()
        })
    }

    fn destroy_program_key(&self, program: &str) -> Result<()> {
        self.write(|c| {
            c.exec("UPDATE program_keys SET wrapped = NULL WHERE program = $1", &[&program])?;
            self.vacuum_erased(c)
        })
    }

    fn rewrap(&self, keys: &[Rewrap]) -> Result<u64> {
        self.write(|c| {
            c.tx(|c| {
                let mut done = 0;
                for k in keys {
                    done += match k {
                        Rewrap::SubjectData { subject_no, old, new } => c.exec(
                            "UPDATE subject_keys SET data_key = $1 WHERE subject_no = $2 AND data_key = $3",
                            &[new, &n(*subject_no), old],
                        ),
                        Rewrap::SubjectAccess { subject_no, old, new } => c.exec(
                            "UPDATE subject_keys SET access_key = $1 WHERE subject_no = $2 AND access_key = $3",
                            &[new, &n(*subject_no), old],
                        ),
                        Rewrap::Program { ordinal, old, new } => c.exec(
                            "UPDATE program_keys SET wrapped = $1 WHERE ordinal = $2 AND wrapped = $3",
                            &[new, &i64::from(*ordinal), old],
                        ),
                        Rewrap::System { name, old, new } => c.exec(
                            "UPDATE system_keys SET wrapped = $1 WHERE name = $2 AND wrapped = $3",
                            &[new, name, old],
                        ),
                    }?;
                }
                Ok(done)
            })
        })
    }

    fn erase(&self, subjects: &[u64], removals: &[Projection], replace: &[Projection], checkpoint: bool) -> Result<()> {
        self.write(|c| {
            c.tx(|c| {
                erase_in(c, subjects, removals)?;
                insert_projections(c, replace)
            })?;
            if checkpoint {
                self.vacuum_erased(c)?;
            }
            Ok(())
        })
    }

    fn erase_access(&self, subject_no: u64, tallies: &[Projection]) -> Result<()> {
        self.write(|c| {
            c.tx(|c| {
                let no = n(subject_no);
                c.exec("UPDATE subject_keys SET access_key = NULL WHERE subject_no = $1", &[&no])?;
                c.exec("DELETE FROM p_subject_leaves WHERE subject_no = $1", &[&no])?;
                insert_projections(c, tallies)
            })?;
            self.vacuum_erased(c)
        })
    }
}

impl ProjectionStore for PgStore {
    fn subjects_by_document(&self, blind: &[u8; 32]) -> Result<Vec<u64>> {
        self.read(|c| {
            u64s(c.rows("SELECT subject_no FROM p_documents WHERE blind = $1 ORDER BY subject_no", &[&&blind[..]])?)
        })
    }

    fn subject_leaves(&self, subject_no: u64, from: u64) -> Result<Vec<(u64, u16)>> {
        self.read(|c| {
            let rows = c.rows(
                "SELECT leaf_index, kind FROM p_subject_leaves WHERE subject_no = $1 AND leaf_index >= $2 ORDER BY leaf_index",
                &[&n(subject_no), &n(from)],
            )?;
            rows.iter().map(|r| Ok((get::<i64>(r, 0)? as u64, get::<i64>(r, 1)? as u16))).collect()
        })
    }

    fn kind_leaves_in(&self, kind: u16, from: u64, to: u64) -> Result<Vec<(u64, u64)>> {
        if to <= from {
            return Ok(Vec::new());
        }
        self.read(|c| {
            let rows = c.rows(
                "SELECT leaf_index, subject_no FROM p_subject_leaves WHERE leaf_index >= $1 AND leaf_index < $2 AND kind = $3 ORDER BY leaf_index",
                &[&n(from), &n(to), &i64::from(kind)],
            )?;
            rows.iter().map(|r| Ok((get::<i64>(r, 0)? as u64, get::<i64>(r, 1)? as u64))).collect()
        })
    }

    fn registration_exists(&self, blind: &[u8; 32]) -> Result<bool> {
        self.read(|c| Ok(c.opt("SELECT 1 FROM p_registrations WHERE blind = $1", &[&&blind[..]])?.is_some()))
    }

    fn subjects_by_documents(&self, blinds: &[[u8; 32]]) -> Result<Vec<Vec<u64>>> {
        self.read(|c| {
            let keys: Vec<&[u8]> = blinds.iter().map(|b| &b[..]).collect();
            let rows = c.rows(
                "SELECT blind, subject_no FROM p_documents WHERE blind = ANY($1) ORDER BY blind, subject_no",
                &[&keys],
            )?;
            let mut found: HashMap<Vec<u8>, Vec<u64>> = HashMap::new();
            for r in &rows {
                found.entry(get(r, 0)?).or_default().push(get::<i64>(r, 1)? as u64);
            }
            Ok(blinds.iter().map(|b| found.get(&b[..]).cloned().unwrap_or_default()).collect())
        })
    }

    fn registrations_exist(&self, blinds: &[[u8; 32]]) -> Result<Vec<bool>> {
        self.read(|c| {
            let keys: Vec<&[u8]> = blinds.iter().map(|b| &b[..]).collect();
            let rows = c.rows("SELECT blind FROM p_registrations WHERE blind = ANY($1)", &[&keys])?;
            let found: std::collections::HashSet<Vec<u8>> =
                rows.iter().map(|r| get::<Vec<u8>>(r, 0)).collect::<Result<_>>()?;
            Ok(blinds.iter().map(|b| found.contains(&b[..])).collect())
        })
    }

    fn program_leaves(&self) -> Result<Vec<u64>> {
        self.read(|c| u64s(c.rows("SELECT leaf_index FROM p_program_leaves ORDER BY leaf_index", &[])?))
    }

    fn tallies(&self, metric: &str) -> Result<Vec<([String; 3], String, u64)>> {
        self.read(|c| {
            let rows = c.rows(
                "SELECT d1, d2, d3, month, count FROM p_tallies WHERE metric = $1 ORDER BY month, d1, d2, d3",
                &[&metric],
            )?;
            rows.iter()
                .map(|r| Ok(([get(r, 0)?, get(r, 1)?, get(r, 2)?], get(r, 3)?, get::<i64>(r, 4)? as u64)))
                .collect()
        })
    }

    fn subject_count(&self) -> Result<u64> {
        self.read(|c| Ok(get::<i64>(&c.one("SELECT COUNT(*) FROM p_subjects", &[])?, 0)? as u64))
    }

    fn biometrics(&self, subject_no: u64) -> Result<Vec<BiometricRow>> {
        self.read(|c| {
            let rows = c.rows(
                "SELECT leaf_index, sealed FROM biometrics WHERE subject_no = $1 ORDER BY leaf_index",
                &[&n(subject_no)],
            )?;
            rows.iter()
                .map(|r| Ok(BiometricRow { leaf: get::<i64>(r, 0)? as u64, subject_no, sealed: get(r, 1)? }))
                .collect()
        })
    }

    fn stay_facts(&self, subject_no: u64) -> Result<Option<(u64, Vec<u8>)>> {
        self.read(|c| {
            c.opt("SELECT through_leaf, sealed FROM p_stay_facts WHERE subject_no = $1", &[&n(subject_no)])?
                .map(|r| Ok((get::<i64>(&r, 0)? as u64, get(&r, 1)?)))
                .transpose()
        })
    }

    fn stay_facts_through(&self) -> Result<u64> {
        self.read(|c| {
            Ok(c.opt("SELECT through FROM p_stay_facts_through WHERE one = 1", &[])?
                .map(|r| get::<i64>(&r, 0))
                .transpose()?
                .unwrap_or(0) as u64)
        })
    }

    fn scan_stay_facts(&self, chunk: usize, f: &mut dyn FnMut(Vec<StayFactsRow>) -> bool) -> Result<()> {
        self.scan(
            "SELECT f.subject_no, k.subject_id, k.data_key, f.through_leaf, f.sealed
             FROM p_stay_facts f JOIN subject_keys k ON k.subject_no = f.subject_no
             WHERE k.data_key IS NOT NULL ORDER BY f.subject_no",
            chunk,
            &mut |r| {
                Ok(StayFactsRow {
                    subject_no: get::<i64>(r, 0)? as u64,
                    subject_id: id_from(get(r, 1)?)?,
                    data_key: get(r, 2)?,
                    through_leaf: get::<i64>(r, 3)? as u64,
                    sealed: get(r, 4)?,
                })
            },
            f,
        )
    }

    fn import_through(&self, file: &str) -> Result<Option<u64>> {
        self.read(|c| {
            c.opt("SELECT through FROM p_imports WHERE file = $1", &[&file])?
                .map(|r| get::<i64>(&r, 0).map(|v| v as u64))
                .transpose()
        })
    }

    fn system_leaves(&self, kind: u16) -> Result<Vec<(u64, String)>> {
        self.read(|c| {
            let rows = c.rows(
                "SELECT leaf_index, scope FROM p_system_leaves WHERE kind = $1 ORDER BY leaf_index",
                &[&i64::from(kind)],
            )?;
            rows.iter().map(|r| Ok((get::<i64>(r, 0)? as u64, get(r, 1)?))).collect()
        })
    }

    fn law_enforcement_subjects(&self) -> Result<Vec<u64>> {
        // The kind as a literal, so the planner uses the partial index.
        debug_assert_eq!(fairgate_core::event::EventKind::LawEnforcementRequested.code(), 21);
        self.read(|c| {
            u64s(c.rows("SELECT DISTINCT subject_no FROM p_subject_leaves WHERE kind = 21 ORDER BY subject_no", &[])?)
        })
    }

    fn identification_subjects(&self) -> Result<Vec<u64>> {
        self.read(|c| {
            u64s(c.rows("SELECT subject_no FROM p_identification_reviews WHERE pending > 0 ORDER BY subject_no", &[])?)
        })
    }

    fn work_items(&self, queue: u8) -> Result<Vec<(u64, String)>> {
        self.read(|c| {
            let rows = c.rows(
                "SELECT subject_no, item FROM p_work WHERE queue = $1 ORDER BY subject_no, item",
                &[&i64::from(queue)],
            )?;
            rows.iter().map(|r| Ok((get::<i64>(r, 0)? as u64, get(r, 1)?))).collect()
        })
    }

    fn biometric_subjects(&self) -> Result<Vec<u64>> {
        self.read(|c| {
            u64s(c.rows(
                "SELECT DISTINCT b.subject_no FROM biometrics b JOIN subject_keys k ON k.subject_no = b.subject_no
                 WHERE k.data_key IS NOT NULL ORDER BY b.subject_no",
                &[],
            )?)
        })
    }

    fn program_subjects(&self, program: &str, after: u64, limit: usize) -> Result<Vec<u64>> {
        self.read(|c| {
            u64s(c.rows(
                "SELECT subject_no FROM p_program_subjects WHERE program = $1 AND subject_no > $2 ORDER BY subject_no LIMIT $3",
                &[&program, &n(after), &(limit as i64)],
            )?)
        })
    }

    fn count_program_subjects(&self, program: &str) -> Result<u64> {
        self.read(|c| {
            Ok(get::<i64>(&c.one("SELECT COUNT(*) FROM p_program_subjects WHERE program = $1", &[&program])?, 0)?
                as u64)
        })
    }

    fn has_program_records(&self, program: &str, subject_no: u64) -> Result<bool> {
        self.read(|c| {
            Ok(c.opt(
                "SELECT 1 FROM p_program_subjects WHERE program = $1 AND subject_no = $2",
                &[&program, &n(subject_no)],
            )?
            .is_some())
        })
    }

    fn compliance_facts(&self, subject_no: u64) -> Result<Option<(u64, Vec<u8>)>> {
        self.read(|c| {
            c.opt("SELECT through_leaf, sealed FROM p_compliance_facts WHERE subject_no = $1", &[&n(subject_no)])?
                .map(|r| Ok((get::<i64>(&r, 0)? as u64, get(&r, 1)?)))
                .transpose()
        })
    }

    fn scan_compliance_facts(&self, chunk: usize, f: &mut dyn FnMut(Vec<ComplianceRow>) -> bool) -> Result<()> {
        self.scan(
            "SELECT f.subject_no, k.subject_id, k.data_key, f.through_leaf, f.sealed, s.through_leaf, s.sealed
             FROM p_compliance_facts f JOIN subject_keys k ON k.subject_no = f.subject_no
             LEFT JOIN p_stay_facts s ON s.subject_no = f.subject_no
             WHERE k.data_key IS NOT NULL ORDER BY f.subject_no",
            chunk,
            &mut |r| {
                let stay_through: Option<i64> = get(r, 5)?;
                let stay_sealed: Option<Vec<u8>> = get(r, 6)?;
                Ok(ComplianceRow {
                    subject_no: get::<i64>(r, 0)? as u64,
                    subject_id: id_from(get(r, 1)?)?,
                    data_key: get(r, 2)?,
                    through_leaf: get::<i64>(r, 3)? as u64,
                    sealed: get(r, 4)?,
                    stay: stay_through.zip(stay_sealed).map(|(t, s)| (t as u64, s)),
                })
            },
            f,
        )
    }

    fn slot_loads(&self, office: &str, day: &str) -> Result<Vec<(u16, u16, u32)>> {
        self.read(|c| {
            let rows = c.rows(
                "SELECT start, minutes, booked FROM p_slot_loads WHERE office = $1 AND day = $2 ORDER BY start, minutes",
                &[&office, &day],
            )?;
            rows.iter()
                .map(|r| Ok((get::<i64>(r, 0)? as u16, get::<i64>(r, 1)? as u16, get::<i64>(r, 2)?.max(0) as u32)))
                .collect()
        })
    }

    fn desk_queue(&self, office: &str) -> Result<Vec<QueueRow>> {
        self.read(|c| {
            let rows = c.rows(
                "SELECT subject_no, arrived_ms, slot_start, called_ms, desk FROM p_desk_queue WHERE office = $1 ORDER BY arrived_ms, subject_no",
                &[&office],
            )?;
            rows.iter()
                .map(|r| {
                    let called: Option<i64> = get(r, 3)?;
                    let desk: Option<i64> = get(r, 4)?;
                    Ok(QueueRow {
                        subject_no: get::<i64>(r, 0)? as u64,
                        arrived_ms: get(r, 1)?,
                        slot_start: get::<Option<i64>>(r, 2)?.map(|s| s as u16),
                        called: called.map(|c| (c, desk.unwrap_or(0) as u16)),
                    })
                })
                .collect()
        })
    }

    fn drop_projections(&self) -> Result<()> {
        self.write(|c| c.batch(&format!("TRUNCATE {}", PROJECTION_TABLES.join(", "))))
    }

    fn apply_projections(&self, rows: &[Projection]) -> Result<()> {
        self.write(|c| c.tx(|c| insert_projections(c, rows)))
    }

    fn projection_digest(&self) -> Result<ProjectionDigest> {
        self.read(|c| {
            let mut h = Sha256::new();
            let mut counts = [0u64; 16];
            for (i, q) in DIGEST_QUERIES.iter().enumerate() {
                for r in c.rows(q, &[])? {
                    counts[i] += 1;
                    for col in 0..3 {
                        let v = match *r.columns()[col].type_() {
                            Type::INT8 => get::<Option<i64>>(&r, col)?.map(DigestValue::Integer),
                            Type::BYTEA => get::<Option<Vec<u8>>>(&r, col)?.map(DigestValue::Blob),
                            _ => get::<Option<String>>(&r, col)?.map(DigestValue::Text),
                        };
                        h.update(digest_cell(i, col, v.as_ref()).as_bytes());
                    }
                }
            }
            Ok(digest_from(counts, h.finalize().into()))
        })
    }
}

/// A copied cell as a parameter of whatever type its column has (an old argon2
/// portal code, TEXT in SQLite, goes into a BYTEA column as its bytes).
#[derive(Debug)]
struct Cell<'a>(Option<&'a DigestValue>);

impl ToSql for Cell<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut tokio_postgres::types::private::BytesMut,
    ) -> std::result::Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            None => Ok(tokio_postgres::types::IsNull::Yes),
            Some(DigestValue::Integer(i)) => i.to_sql(ty, out),
            Some(DigestValue::Text(t)) if *ty == Type::BYTEA => t.as_bytes().to_sql(ty, out),
            Some(DigestValue::Text(t)) => t.to_sql(ty, out),
            Some(DigestValue::Blob(b)) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

impl TableCopy for PgStore {
    fn copy_rows(&self, table: &str, offset: u64, limit: u64) -> Result<Vec<CopiedRow>> {
        let (table, cols, order) = copied_table(table)?;
        let sql = format!("SELECT {cols} FROM {table} ORDER BY {order} LIMIT $1 OFFSET $2");
        self.read(|c| {
            let rows = block_on(c.client.query(sql.as_str(), &[&(limit as i64), &(offset as i64)])).map_err(pe)?;
            rows.iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| {
                            Ok(match *r.columns()[i].type_() {
                                Type::INT8 => get::<Option<i64>>(r, i)?.map(DigestValue::Integer),
                                Type::BYTEA => get::<Option<Vec<u8>>>(r, i)?.map(DigestValue::Blob),
                                _ => get::<Option<String>>(r, i)?.map(DigestValue::Text),
                            })
                        })
                        .collect()
                })
                .collect()
        })
    }

    fn put_rows(&self, table: &str, rows: &[CopiedRow]) -> Result<()> {
        let (table, cols, _) = copied_table(table)?;
        let width = cols.split(',').count();
        let marks = (1..=width).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sql = format!("INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT DO NOTHING");
        self.write(|c| {
            c.tx(|c| {
                let st = block_on(c.client.prepare(&sql)).map_err(pe)?;
                let cells: Vec<Vec<Cell<'_>>> =
                    rows.iter().map(|r| r.iter().map(|v| Cell(v.as_ref())).collect()).collect();
                // Pipelined: every insert is sent before the first reply is awaited.
                let pending = cells.iter().map(|row| {
                    let params: Vec<P<'_>> = row.iter().map(|v| v as P<'_>).collect();
                    let (client, st) = (&c.client, &st);
                    async move { client.execute(st, &params).await }
                });
                block_on(futures_util::future::try_join_all(pending)).map_err(pe)?;
                Ok(())
            })
        })
    }

    fn count_rows(&self, table: &str) -> Result<u64> {
        let (table, _, _) = copied_table(table)?;
        let sql = format!("SELECT COUNT(*) FROM {table}");
        self.read(|c| {
            let r = block_on(c.client.query_one(sql.as_str(), &[])).map_err(pe)?;
            Ok(get::<i64>(&r, 0)? as u64)
        })
    }
}

impl AccountStore for PgStore {
    fn put_user(&self, u: &UserRow) -> Result<()> {
        self.write(|c| {
            let s = c.statement(
                "INSERT INTO users (id, name, role, password_hash, created_ms, agency) VALUES ($1, $2, $3, $4, $5, $6)",
            )?;
            match block_on(c.client.execute(&s, &[&u.id, &u.name, &u.role, &u.password_hash, &u.created_ms, &u.agency]))
            {
                Ok(_) => Ok(()),
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    Err(StoreError::Duplicate { what: format!("a user named {}", u.name) })
                }
                Err(e) => Err(pe(e)),
            }
        })
    }

    fn user_by_name(&self, name: &str) -> Result<Option<UserRow>> {
        self.read(|c| {
            c.opt(
                "SELECT id, name, role, password_hash, created_ms, agency, disabled_ms FROM users WHERE name = $1",
                &[&name],
            )?
            .map(|r| user_row(&r))
            .transpose()
        })
    }

    fn users(&self) -> Result<Vec<UserRow>> {
        self.read(|c| {
            let rows = c.rows(
                "SELECT id, name, role, password_hash, created_ms, agency, disabled_ms FROM users ORDER BY name",
                &[],
            )?;
            rows.iter().map(user_row).collect()
        })
    }

    fn touch_credential(&self, hash: &[u8; 32], expires_ms: i64) -> Result<()> {
        self.write(|c| {
            c.exec("UPDATE credentials SET expires_ms = $2 WHERE hash = $1", &[&&hash[..], &expires_ms]).map(|_| ())
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
            c.exec(
                "INSERT INTO credentials (hash, user_id, kind, expires_ms) VALUES ($1, $2, $3, $4)",
                &[&&hash[..], &user_id, &kind.as_str(), &expires_ms],
            )
            .map(|_| ())
        })
    }

    fn user_by_credential(&self, hash: &[u8; 32], kind: CredentialKind, now_ms: i64) -> Result<Option<UserRow>> {
        self.read(|c| {
            c.opt(
                "SELECT u.id, u.name, u.role, u.password_hash, u.created_ms, u.agency, u.disabled_ms FROM credentials k JOIN users u ON u.id = k.user_id
                 WHERE k.hash = $1 AND k.kind = $2 AND (k.expires_ms IS NULL OR k.expires_ms > $3) AND u.disabled_ms IS NULL",
                &[&&hash[..], &kind.as_str(), &now_ms],
            )?
            .map(|r| user_row(&r))
            .transpose()
        })
    }

    fn delete_credential(&self, hash: &[u8; 32]) -> Result<()> {
        self.write(|c| c.exec("DELETE FROM credentials WHERE hash = $1", &[&&hash[..]]).map(|_| ()))
    }

    fn set_user_role(&self, id: &str, role: &str) -> Result<()> {
        self.write(|c| c.exec("UPDATE users SET role = $2 WHERE id = $1", &[&id, &role]).map(|_| ()))
    }

    fn disable_user(&self, id: &str, at_ms: i64) -> Result<()> {
        self.write(|c| {
            c.tx(|c| {
                c.exec("UPDATE users SET disabled_ms = $2 WHERE id = $1", &[&id, &at_ms])?;
                c.exec("DELETE FROM credentials WHERE user_id = $1", &[&id])?;
                Ok(())
            })
        })
    }

    fn delete_credentials_of(&self, user_id: &str, kind: CredentialKind) -> Result<()> {
        self.write(|c| {
            c.exec("DELETE FROM credentials WHERE user_id = $1 AND kind = $2", &[&user_id, &kind.as_str()]).map(|_| ())
        })
    }

    fn token_expiry(&self, user_id: &str) -> Result<Option<i64>> {
        self.read(|c| {
            get(
                &c.one("SELECT MAX(expires_ms) FROM credentials WHERE user_id = $1 AND kind = 'token'", &[&user_id])?,
                0,
            )
        })
    }

    fn portal_code(&self, registration_blind: &[u8; 32]) -> Result<Option<PortalCode>> {
        self.read(|c| {
            c.opt(
                "SELECT r.subject_no, c.code_hash, c.issued_ms, c.used_ms FROM p_registrations r
                 JOIN portal_codes c ON c.leaf_index = r.leaf_index WHERE r.blind = $1",
                &[&&registration_blind[..]],
            )?
            .map(|r| {
                Ok(PortalCode {
                    subject_no: get::<i64>(&r, 0)? as u64,
                    hash: get(&r, 1)?,
                    issued_ms: get(&r, 2)?,
                    used_ms: get(&r, 3)?,
                })
            })
            .transpose()
        })
    }

    fn registration_subject(&self, registration_blind: &[u8; 32]) -> Result<Option<u64>> {
        self.read(|c| {
            c.opt("SELECT subject_no FROM p_registrations WHERE blind = $1", &[&&registration_blind[..]])?
                .map(|r| get::<i64>(&r, 0).map(|v| v as u64))
                .transpose()
        })
    }

    fn portal_account(&self, subject_no: u64) -> Result<Option<(String, i64)>> {
        self.read(|c| {
            c.opt("SELECT passphrase, activated_ms FROM portal_accounts WHERE subject_no = $1", &[&n(subject_no)])?
                .map(|r| Ok((get(&r, 0)?, get(&r, 1)?)))
                .transpose()
        })
    }

    fn put_portal_session(&self, hash: &[u8; 32], subject_no: u64, expires_ms: i64) -> Result<()> {
        self.write(|c| {
            c.exec(
                "INSERT INTO portal_sessions (hash, subject_no, expires_ms) VALUES ($1, $2, $3)",
                &[&&hash[..], &n(subject_no), &expires_ms],
            )
            .map(|_| ())
        })
    }

    fn portal_session(&self, hash: &[u8; 32], now_ms: i64) -> Result<Option<u64>> {
        self.read(|c| {
            c.opt("SELECT subject_no FROM portal_sessions WHERE hash = $1 AND expires_ms > $2", &[&&hash[..], &now_ms])?
                .map(|r| get::<i64>(&r, 0).map(|v| v as u64))
                .transpose()
        })
    }

    fn delete_portal_session(&self, hash: &[u8; 32]) -> Result<()> {
        self.write(|c| c.exec("DELETE FROM portal_sessions WHERE hash = $1", &[&&hash[..]]).map(|_| ()))
    }
}
