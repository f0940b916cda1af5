//! Fairgate's benchmarks, each with the baseline it is measured against in the same
//! run (BENCHMARKS.md records the figures): `ingest` (the write path against a bare
//! SQLite insert), `log` (proofs and verification against bare SHA-256), `stay` and
//! `sweep` (the stay calculator against the naive day-by-day one), `compliance` (the
//! daily run against reading the rows alone), `import` (a legacy import against
//! checking it alone) and `expunge` (a program-wide erasure against one person at a
//! time). The binary `fairgate-bench` runs them; no product crate depends on this one.

pub mod http;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use fairgate_core::access::{Actor, Role};
use fairgate_core::crossing::{Crossing, Direction};
use fairgate_core::document::TravelDocument;
use fairgate_core::ids::SubjectId;
use fairgate_core::subject::{NewSubject, Sex};
use fairgate_ledger::keys::SecretKey;
use fairgate_store::sqlite::SqliteStore;
use fairgate_store::Store;
use fairgate_store::{LedgerStore, Registry};
use jiff::{SignedDuration, Timestamp, ToSpan};
use rand::RngCore;

#[derive(clap::Args, Debug, Clone)]
pub struct IngestArgs {
    /// Run on PostgreSQL instead of SQLite: a postgres:// URL whose user may create
    /// schemas (the benchmark works in a fresh schema and drops it after).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Number of crossing events to append.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Number of subjects the events are spread over.
    #[arg(long, default_value_t = 10_000)]
    pub subjects: u64,
    /// Events per committed transaction.
    #[arg(long, default_value_t = 10_000)]
    pub batch: u64,
    /// Directory for the throw-away benchmark databases (default: a new one under the system temp directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct IngestReport {
    pub events: u64,
    pub subjects: u64,
    pub batch: u64,
    pub seconds: f64,
    pub events_per_sec: f64,
    pub leaf_bytes: usize,
    pub baseline_seconds: f64,
    pub baseline_rows_per_sec: f64,
    pub ratio_to_baseline: f64,
    pub peak_rss_mib: f64,
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}

/// The mean size of the leaves the benchmark writes (an entry and an exit
/// alternate, each padded to its size class), so the baseline inserts rows of the
/// same size.
fn crossing_leaf_bytes() -> usize {
    use fairgate_core::event::{CrossingRecorded, Event};
    let at = Timestamp::now();
    let sample = |entry: bool| {
        let event = Event::CrossingRecorded(CrossingRecorded {
            subject: SubjectId::from_bytes([0; 16]),
            crossing: Crossing {
                direction: if entry { Direction::Entry } else { Direction::Exit },
                port: "JFK".into(),
                at,
                admission_class: entry.then(|| "B-2".into()),
                admitted_until: entry.then(|| jiff::civil::date(2026, 1, 1)),
            },
            recorded_by: Actor::new("u-bench", Role::Officer, "bench"),
            overstay_at_crossing: None,
        });
        let payload = serde_json::to_vec(&event).map(|v| v.len()).unwrap_or(0);
        fairgate_ledger::leaf::padded_len(payload) + fairgate_ledger::leaf::MIN_LEN
    };
    (sample(true) + sample(false)) / 2
}

/// A registry over `store` with fresh random keys: benchmark data is thrown away.
fn throwaway_registry(store: Arc<dyn Store>, origin: &str) -> Result<Registry> {
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    // The demo's ports and offices, without ledger events: benchmarks measure the records.
    fairgate_store::LedgerStore::put_places(&*store, &fairgate_core::place::default_places())?;
    Ok(Registry::open(
        store,
        SecretKey::generate(&mut rand::rngs::OsRng),
        &SecretKey::generate(&mut rand::rngs::OsRng),
        origin,
        seed,
    )?)
}

/// The store a benchmark runs on: SQLite in its scratch directory, or with
/// `--database` a fresh schema of a PostgreSQL database, dropped when this is.
struct BenchStore {
    store: Arc<dyn Store>,
    pg: Option<Arc<fairgate_store::postgres::PgStore>>,
}

impl BenchStore {
    fn open(dir: &std::path::Path, database: &Option<String>, name: &str) -> Result<Self> {
        Ok(match database {
            None => Self { store: Arc::new(SqliteStore::open(&dir.join("fairgate.db"))?), pg: None },
            Some(url) => {
                let schema = format!("fairgate_bench_{name}_{}", std::process::id());
                let pg = Arc::new(fairgate_store::postgres::PgStore::open_in(url, Some(&schema))?);
                Self { store: pg.clone(), pg: Some(pg) }
            }
        })
    }
}

impl Drop for BenchStore {
    fn drop(&mut self) {
        if let Some(pg) = &self.pg {
            if let Err(e) = pg.drop_schema() {
                eprintln!("the benchmark's schema was not dropped: {e}");
            }
        }
    }
}

/// The ingest baseline on PostgreSQL: `rows` rows of `row_bytes` bytes plus a 32-byte
/// hash inserted into a fresh table, `batch` rows per transaction, in one `UNNEST`
/// statement each (as the store writes the ledger), with no cryptography.
pub fn bare_postgres_insert_baseline(
    url: &str,
    rows: u64,
    row_bytes: usize,
    batch: u64,
) -> Result<std::time::Duration> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let (mut client, connection) = url.parse::<tokio_postgres::Config>()?.connect(tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        let table = format!("fairgate_bench_bare_{}", std::process::id());
        client.batch_execute(&format!("DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (idx BIGINT PRIMARY KEY, leaf BYTEA NOT NULL, hash BYTEA NOT NULL)")).await?;
        let insert = client
            .prepare(&format!("INSERT INTO {table} (idx, leaf, hash) SELECT * FROM UNNEST($1::int8[], $2::bytea[], $3::bytea[])"))
            .await?;
        let blob: Vec<u8> = (0..row_bytes).map(|i| (i as u8).wrapping_mul(31).wrapping_add(7)).collect();
        let hash = [0x5au8; 32];
        let started = Instant::now();
        let mut idx = 0u64;
        while idx < rows {
            let end = (idx + batch).min(rows);
            let ids: Vec<i64> = (idx as i64..end as i64).collect();
            let leaves: Vec<Vec<u8>> = (idx..end)
                .map(|i| {
                    let mut b = blob.clone();
                    b[0] = i as u8; // rows differ, as leaves do
                    b
                })
                .collect();
            let hashes: Vec<&[u8]> = vec![&hash[..]; ids.len()];
            let tx = client.transaction().await?;
            tx.execute(&insert, &[&ids, &leaves, &hashes]).await?;
            tx.commit().await?;
            idx = end;
        }
        let took = started.elapsed();
        client.batch_execute(&format!("DROP TABLE {table}")).await?;
        Ok(took)
    })
}

/// A crossing at `port`: an entry (with its admission class and admitted-until day)
/// when `admission` is given, otherwise an exit.
fn crossing(port: &str, at: Timestamp, admission: Option<(&str, jiff::civil::Date)>) -> Crossing {
    Crossing {
        direction: if admission.is_some() { Direction::Entry } else { Direction::Exit },
        port: port.into(),
        at,
        admission_class: admission.map(|(c, _)| c.into()),
        admitted_until: admission.map(|(_, d)| d),
    }
}

/// Synthetic traveller number `i` (no real data): `prefix` keeps benchmarks' document numbers apart.
fn synthetic_person(prefix: &str, i: u64, today: jiff::civil::Date) -> NewSubject {
    NewSubject {
        document: TravelDocument {
            kind: "P".into(),
            issuing_state: "UTO".into(),
            number: format!("{}{i:09}", &prefix[..1]),
            expires_on: today + 3000.days(),
        },
        surname: format!("{prefix}{i}"),
        given_names: "TEST".into(),
        birth_date: today - 12000.days(),
        sex: Sex::X,
        nationality: "UTO".into(),
    }
}

/// Run the benchmark in `dir` and return the figures.
/// The ingest baseline: insert `rows` rows of `row_bytes` bytes (plus a 32-byte
/// hash, like a ledger row) into a fresh database at `path`, with the store's own
/// pragmas and `batch` rows per transaction, and no cryptography. Returns the time.
pub fn bare_insert_baseline(
    path: &std::path::Path,
    rows: u64,
    row_bytes: usize,
    batch: u64,
) -> Result<std::time::Duration> {
    use rusqlite::{params, Connection, TransactionBehavior};
    let mut conn = Connection::open(path)?;
    conn.execute_batch(fairgate_store::sqlite::PRAGMAS)?;
    conn.execute_batch("CREATE TABLE bare (idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL, hash BLOB NOT NULL)")?;
    let mut blob: Vec<u8> = (0..row_bytes).map(|i| (i as u8).wrapping_mul(31).wrapping_add(7)).collect();
    let hash = [0x5au8; 32];
    let started = Instant::now();
    let mut idx = 0u64;
    while idx < rows {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut st = tx.prepare_cached("INSERT INTO bare (idx, leaf, hash) VALUES (?1, ?2, ?3)")?;
            let end = (idx + batch).min(rows);
            while idx < end {
                blob[0] = idx as u8; // rows differ, as leaves do
                st.execute(params![idx as i64, &blob, &hash[..]])?;
                idx += 1;
            }
        }
        tx.commit()?;
    }
    Ok(started.elapsed())
}

pub fn run_ingest(args: &IngestArgs, dir: &std::path::Path) -> Result<IngestReport> {
    let subjects = args.subjects.max(1);
    // The baseline is timed before and after the real run and the faster of the two
    // is reported, so disk write-back from one run cannot flatter the ratio.
    let leaf_bytes = crossing_leaf_bytes();
    let baseline = |file: &str| -> Result<f64> {
        Ok(match &args.database {
            None => bare_insert_baseline(&dir.join(file), args.events, leaf_bytes, args.batch)?,
            Some(url) => bare_postgres_insert_baseline(url, args.events, leaf_bytes, args.batch)?,
        }
        .as_secs_f64())
    };
    let baseline_before = baseline("baseline-1.db")?;
    let store = BenchStore::open(dir, &args.database, "ingest")?;
    let registry = throwaway_registry(store.store.clone(), "bench/ingest")?;
    let officer = Actor::new("u-bench", Role::Officer, "bench");
    let now = Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();

    let mut ids: Vec<SubjectId> = Vec::with_capacity(subjects as usize);
    for chunk_start in (0..subjects).step_by(1000) {
        let (chunk, _) = registry.write(now, |b| {
            (chunk_start..(chunk_start + 1000).min(subjects))
                .map(|i| b.create_validated_subject(&officer, synthetic_person("BENCH", i, today)))
                .collect::<Result<Vec<_>, _>>()
        })?;
        ids.extend(chunk);
    }

    // Each subject alternates entry and exit, one crossing a day, ending before now.
    let per_subject = args.events.div_ceil(subjects) as i64;
    let base = now - SignedDuration::from_hours(24 * (per_subject + 2));
    let started = Instant::now();
    let mut i = 0u64;
    registry.write_stream(now, |b| {
        let end = (i + args.batch).min(args.events);
        for n in i..end {
            let k = (n / subjects) as i64;
            let at = base + SignedDuration::from_hours(24 * k) + SignedDuration::from_secs((n % subjects) as i64);
            let entry = k % 2 == 0;
            let admission = entry.then(|| ("B-2", today + 90.days()));
            b.record_validated_crossing(&officer, ids[(n % subjects) as usize], crossing("JFK", at, admission))?;
        }
        i = end;
        Ok(i < args.events)
    })?;
    let seconds = started.elapsed().as_secs_f64();
    drop(registry);
    drop(store);

    let baseline_after = baseline("baseline-2.db")?;
    let baseline = baseline_before.min(baseline_after);
    let events_per_sec = args.events as f64 / seconds;
    let baseline_rows_per_sec = args.events as f64 / baseline;
    Ok(IngestReport {
        events: args.events,
        subjects,
        batch: args.batch,
        seconds,
        events_per_sec,
        leaf_bytes,
        baseline_seconds: baseline,
        baseline_rows_per_sec,
        ratio_to_baseline: events_per_sec / baseline_rows_per_sec,
        peak_rss_mib: peak_rss_mib(),
    })
}

/// Run `f` in the benchmark's scratch directory: `--dir` if given (its benchmark
/// databases are removed first), else a new one under the system temp directory
/// that is deleted afterwards.
fn in_scratch_dir<T>(
    dir: &Option<PathBuf>,
    name: &str,
    dbs: &[&str],
    f: impl FnOnce(&std::path::Path) -> Result<T>,
) -> Result<T> {
    let (dir, cleanup) = match dir {
        Some(d) => (d.clone(), false),
        None => (std::env::temp_dir().join(format!("fairgate-bench-{name}-{}", std::process::id())), true),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("--dir {}", dir.display()))?;
    for db in dbs {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.join(format!("{db}{suffix}")));
        }
    }
    eprintln!("bench {name}: working in {}", dir.display());
    let result = f(&dir);
    if cleanup {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

pub fn ingest(args: &IngestArgs) -> Result<()> {
    eprintln!("bench ingest: {} events over {} subjects, {} per commit", args.events, args.subjects, args.batch);
    let result = in_scratch_dir(&args.dir, "ingest", &["fairgate.db", "baseline-1.db", "baseline-2.db"], |d| {
        run_ingest(args, d)
    });
    let r = result?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "fairgate: {:>10.0} events/s  ({} events in {:.2} s; each encrypted, Merkle-hashed, projected, committed)",
            r.events_per_sec, r.events, r.seconds
        );
        let bare = match args.database {
            None => "bare SQLite insert",
            Some(_) => "bare PostgreSQL UNNEST insert",
        };
        println!(
            "baseline: {:>10.0} rows/s    ({bare} of {}-byte rows, same settings and batches, {:.2} s)",
            r.baseline_rows_per_sec, r.leaf_bytes, r.baseline_seconds
        );
        println!("ratio:    {:>10.2} of the baseline", r.ratio_to_baseline);
        println!("peak RSS: {:>10.1} MiB", r.peak_rss_mib);
    }
    Ok(())
}

#[derive(clap::Args, Debug, Clone)]
pub struct LogArgs {
    /// Number of leaves in the benchmark log.
    #[arg(long, default_value_t = 10_000_000)]
    pub leaves: u64,
    /// Bytes per leaf (a real crossing leaf is about 310).
    #[arg(long, default_value_t = 310)]
    pub leaf_bytes: usize,
    /// How many inclusion proofs to time.
    #[arg(long, default_value_t = 2000)]
    pub proofs: u64,
    /// Directory for the throw-away benchmark database (default: a new one under the system temp directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LogReport {
    pub leaves: u64,
    pub leaf_bytes: usize,
    pub build_seconds: f64,
    /// Inclusion proof computed from the store, microseconds.
    pub proof_us_p50: f64,
    pub proof_us_p99: f64,
    pub proof_us_max: f64,
    /// Inclusion proof fetched over HTTP from a local server (keep-alive), microseconds.
    pub http_us_p50: f64,
    pub http_us_p99: f64,
    pub http_us_max: f64,
    pub verify_leaves_per_sec: f64,
    /// Baseline: bare SHA-256 of leaf-sized buffers on this machine, in the same run.
    pub sha256_per_sec: f64,
    pub verify_ratio_to_sha256: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((sorted.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN)
}

/// Build a log of synthetic leaves (valid headers, random-looking bodies) through
/// the Store trait, with its stored subtree nodes, as the registry would write it.
fn build_log(store: &SqliteStore, leaves: u64, leaf_bytes: usize) -> Result<()> {
    use fairgate_ledger::merkle::{leaf_hash, Frontier};
    use fairgate_store::store::{Commit, LeafRow, NodeRow};
    use fairgate_store::tree::STORED_LEVEL_STEP;
    let mut frontier = Frontier::new();
    let mut i = 0u64;
    let mut body = vec![0u8; leaf_bytes.max(fairgate_ledger::leaf::MIN_LEN)];
    body[0] = fairgate_ledger::leaf::VERSION;
    while i < leaves {
        let mut commit = Commit { expected_size: i, ..Commit::default() };
        for n in i..(i + 50_000).min(leaves) {
            body[11..19].copy_from_slice(&n.to_be_bytes());
            let hash = leaf_hash(&body);
            frontier.push_with(hash, |level, index, h| {
                if level % STORED_LEVEL_STEP == 0 {
                    commit.nodes.push(NodeRow { level, index, hash: *h });
                }
            });
            commit.leaves.push(LeafRow { index: n, leaf: body.clone(), hash });
        }
        i += commit.leaves.len() as u64;
        store.commit(&commit)?;
    }
    Ok(())
}

pub fn run_log(args: &LogArgs, dir: &std::path::Path) -> Result<LogReport> {
    use fairgate_ledger::merkle::leaf_hash;
    use rand::Rng;
    let store = Arc::new(SqliteStore::open(&dir.join("fairgate.db"))?);
    let started = Instant::now();
    build_log(&store, args.leaves, args.leaf_bytes)?;
    let build_seconds = started.elapsed().as_secs_f64();
    let registry = Arc::new(throwaway_registry(store.clone(), "bench/log")?);
    let mut rng = rand::thread_rng();
    let size = args.leaves;

    // Inclusion proofs straight from the store.
    let mut times = Vec::with_capacity(args.proofs as usize);
    for _ in 0..args.proofs {
        let index = rng.gen_range(0..size);
        let t = Instant::now();
        let proof = registry.inclusion_proof(index, size)?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(proof);
    }
    times.sort_by(f64::total_cmp);

    // The same through the real HTTP server on loopback, one connection kept alive.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let http_times = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(fairgate_server::serve(
            listener,
            fairgate_server::AppState::new(registry.clone()),
            async move {
                let _ = rx.await;
            },
        ));
        let client = reqwest::Client::new();
        let mut times = Vec::with_capacity(args.proofs as usize);
        for n in 0..args.proofs + 50 {
            let index = rand::thread_rng().gen_range(0..size);
            let t = Instant::now();
            let r = client.get(format!("{base}/log/proof/inclusion?index={index}&size={size}")).send().await?;
            anyhow::ensure!(r.status().is_success(), "proof request failed: {}", r.status());
            std::hint::black_box(r.bytes().await?);
            if n >= 50 {
                times.push(t.elapsed().as_secs_f64() * 1e6); // the first 50 warm the connection up
            }
        }
        let _ = stop.send(());
        server.await??;
        anyhow::Ok(times)
    })?;
    let mut http_times = http_times;
    http_times.sort_by(f64::total_cmp);

    // Full verification.
    let verifier = fairgate_ledger::checkpoint::NoteVerifier::parse(&registry.verifier_key())?;
    let t = Instant::now();
    let report = fairgate_store::audit::verify(store.as_ref(), &verifier, &mut |_, _| {})?;
    let verify_seconds = t.elapsed().as_secs_f64();
    anyhow::ensure!(report.ok(), "the benchmark log does not verify: {:?}", report.problems.first());

    // Baseline: bare SHA-256 over leaf-sized buffers.
    let mut buf = vec![7u8; args.leaf_bytes];
    let n = args.leaves.min(5_000_000);
    let t = Instant::now();
    for i in 0..n {
        buf[0] = i as u8;
        std::hint::black_box(leaf_hash(&buf));
    }
    let sha256_per_sec = n as f64 / t.elapsed().as_secs_f64();
    let verify_leaves_per_sec = args.leaves as f64 / verify_seconds;
    Ok(LogReport {
        leaves: args.leaves,
        leaf_bytes: args.leaf_bytes,
        build_seconds,
        proof_us_p50: percentile(&times, 0.5),
        proof_us_p99: percentile(&times, 0.99),
        proof_us_max: times.last().copied().unwrap_or(f64::NAN),
        http_us_p50: percentile(&http_times, 0.5),
        http_us_p99: percentile(&http_times, 0.99),
        http_us_max: http_times.last().copied().unwrap_or(f64::NAN),
        verify_leaves_per_sec,
        sha256_per_sec,
        verify_ratio_to_sha256: verify_leaves_per_sec / sha256_per_sec,
    })
}

pub fn log(args: &LogArgs) -> Result<()> {
    eprintln!("bench log: {} leaves of {} bytes", args.leaves, args.leaf_bytes);
    let result = in_scratch_dir(&args.dir, "log", &["fairgate.db"], |d| run_log(args, d));
    let r = result?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!("log of {} leaves built in {:.1} s", r.leaves, r.build_seconds);
        println!(
            "inclusion proof, from the store: p50 {:.0} us, p99 {:.0} us, max {:.0} us",
            r.proof_us_p50, r.proof_us_p99, r.proof_us_max
        );
        println!(
            "inclusion proof, over HTTP:      p50 {:.0} us, p99 {:.0} us, max {:.0} us",
            r.http_us_p50, r.http_us_p99, r.http_us_max
        );
        println!("audit verify:  {:>10.0} leaves/s", r.verify_leaves_per_sec);
        println!("bare SHA-256:  {:>10.0} leaf hashes/s ({}-byte leaves; baseline)", r.sha256_per_sec, r.leaf_bytes);
        println!("ratio:         {:>10.2} of bare hashing", r.verify_ratio_to_sha256);
    }
    Ok(())
}

#[derive(clap::Args, Debug, Clone)]
pub struct StayArgs {
    /// Stays in the history.
    #[arg(long, default_value_t = 50)]
    pub stays: usize,
    /// Calculations to time (the naive one runs a tenth as many).
    #[arg(long, default_value_t = 100_000)]
    pub iterations: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StayReport {
    pub stays: usize,
    pub fast_us: f64,
    pub naive_us: f64,
    pub speedup: f64,
}

/// A 50-stay history over about three years: short trips with gaps, as a frequent visitor has.
fn history(n: usize) -> (Vec<fairgate_core::stay::Period>, jiff::civil::Date) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(50);
    let mut day = jiff::civil::date(2023, 1, 1);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let start = day.checked_add(rng.gen_range(2..20).days()).unwrap_or(day);
        let end = start.checked_add(rng.gen_range(0..12).days()).unwrap_or(start);
        out.push(fairgate_core::stay::Period { start, end });
        day = end;
    }
    (out, day)
}

pub fn run_stay(args: &StayArgs) -> Result<StayReport> {
    use fairgate_core::stay::{calculate, naive, Rule};
    let (stays, on) = history(args.stays);
    anyhow::ensure!(
        calculate(Rule::SCHENGEN, &stays, &[], on)? == naive::calculate(Rule::SCHENGEN, &stays, &[], on),
        "the two calculators disagree"
    );
    let t = Instant::now();
    for _ in 0..args.iterations {
        std::hint::black_box(calculate(Rule::SCHENGEN, std::hint::black_box(&stays), &[], on)?);
    }
    let fast_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(args.iterations);
    let naive_runs = (args.iterations / 10).max(1);
    let t = Instant::now();
    for _ in 0..naive_runs {
        std::hint::black_box(naive::calculate(Rule::SCHENGEN, std::hint::black_box(&stays), &[], on));
    }
    let naive_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(naive_runs);
    Ok(StayReport { stays: args.stays, fast_us, naive_us, speedup: naive_us / fast_us })
}

pub fn stay(args: &StayArgs) -> Result<()> {
    let r = run_stay(args)?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "one calculation over {} stays: {:.2} us (naive day-by-day: {:.1} us; {:.0}x)",
            r.stays, r.fast_us, r.naive_us, r.speedup
        );
    }
    Ok(())
}

#[derive(clap::Args, Debug, Clone)]
pub struct SweepArgs {
    /// Run on PostgreSQL instead of SQLite: a postgres:// URL whose user may create
    /// schemas (the benchmark works in a fresh schema and drops it after).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Travellers in the population.
    #[arg(long, default_value_t = 1_000_000)]
    pub travellers: u64,
    /// Crossings over all travellers (entries and exits alternate; about half the
    /// travellers end on an entry, so they are still present).
    #[arg(long, default_value_t = 10_000_000)]
    pub crossings: u64,
    /// Skip the naive day-by-day sweep (it takes several times longer).
    #[arg(long)]
    pub no_naive: bool,
    /// Directory for the throw-away benchmark database (default: a new one under the system temp directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SweepReport {
    pub travellers: u64,
    pub crossings: u64,
    pub build_seconds: f64,
    /// Folding all the crossings into the sealed stay facts, once (`serve` does this
    /// in the background every 10 s, for the crossings of those 10 s).
    pub compact_seconds: f64,
    pub overstayers: usize,
    /// The sweep alone (all travellers evaluated, nothing logged), best of three.
    pub sweep_seconds: f64,
    /// `GET /overstays` page 1 of 100 through the registry: the sweep, sorting, and
    /// the 100 access events committed before the page is returned.
    pub first_page_seconds: f64,
    /// The same sweep with the naive day-by-day calculator, in the same run.
    pub naive_sweep_seconds: Option<f64>,
    pub naive_ratio: Option<f64>,
}

/// Build the benchmark population through the real write path: each traveller is
/// created and their crossings recorded (encrypted, hashed, projected, committed).
/// Trips are mostly 1–30 days (one in fifty 90–200) with 30–300 days between
/// them, mostly under the 90/180 rule (visa waiver), some admitted for 90–180 days
/// (B-2) or exempt (F-1), so a few per cent end up overstaying.
fn build_population(registry: &Registry, args: &SweepArgs, now: Timestamp) -> Result<()> {
    use rand::{Rng, SeedableRng};
    let officer = Actor::new("u-bench", Role::Officer, "bench");
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    let per = args.crossings as f64 / args.travellers.max(1) as f64;
    let bar = indicatif::ProgressBar::new(args.travellers);
    bar.set_style(
        indicatif::ProgressStyle::with_template("building [{bar:40}] {pos}/{len} travellers ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let ports = ["JFK", "LAX", "MIA", "SEA", "ORD"];
    let (mut t, mut written) = (0u64, 0u64);
    registry.write_stream(now, |b| {
        let end = (t + 1000).min(args.travellers);
        for i in t..end {
            let id = b.create_validated_subject(&officer, synthetic_person("SWEEP", i, today))?;
            // Spread the crossings so that the total comes out right.
            let target = ((i + 1) as f64 * per).round() as u64;
            let n = target.saturating_sub(written);
            written += n;
            let class = match rng.gen_range(0..10) {
                0..=6 => "WT",
                7 | 8 => "B-2",
                _ => "F-1",
            };
            // Walk backwards from a little before today so every crossing is in the past.
            let mut days_back: i64 = rng.gen_range(1..30);
            let mut plan = Vec::with_capacity(n as usize);
            for k in 0..n {
                let entry_last = n % 2 == 1;
                // k counts from the last crossing backwards: odd n ends on an entry.
                let is_entry = (k % 2 == 0) == entry_last;
                plan.push((is_entry, days_back));
                // Before an entry comes a gap at home; before an exit, the trip itself
                // (now and then a long one, which is what overstays look like).
                days_back += if is_entry {
                    rng.gen_range(30..300)
                } else if rng.gen_bool(0.02) {
                    rng.gen_range(90..200)
                } else {
                    rng.gen_range(1..30)
                };
            }
            for (is_entry, back) in plan.into_iter().rev() {
                let at = now - SignedDuration::from_hours(24 * back) + SignedDuration::from_secs((i % 3600) as i64);
                let day = at.to_zoned(jiff::tz::TimeZone::UTC).date();
                let admission = is_entry.then(|| (class, day + rng.gen_range(90..180).days()));
                b.record_validated_crossing(&officer, id, crossing(ports[(i % 5) as usize], at, admission))?;
            }
        }
        bar.set_position(end);
        t = end;
        Ok(t < args.travellers)
    })?;
    bar.finish_and_clear();
    Ok(())
}

pub fn run_sweep(args: &SweepArgs, dir: &std::path::Path) -> Result<SweepReport> {
    let store = BenchStore::open(dir, &args.database, "sweep")?;
    let registry = throwaway_registry(store.store.clone(), "bench/sweep")?;
    let now = Timestamp::now();
    let on = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let started = Instant::now();
    build_population(&registry, args, now)?;
    let build_seconds = started.elapsed().as_secs_f64();
    eprintln!("bench sweep: population built in {build_seconds:.1} s; compacting the stay facts");
    let t = Instant::now();
    let folded = registry.compact_stay_facts()?;
    let compact_seconds = t.elapsed().as_secs_f64();
    anyhow::ensure!(folded == args.crossings, "compaction folded {folded} crossings, expected {}", args.crossings);
    eprintln!("bench sweep: compacted in {compact_seconds:.1} s; sweeping");

    let mut sweep_seconds = f64::INFINITY;
    let mut overstayers = 0;
    for _ in 0..3 {
        let t = Instant::now();
        overstayers = registry.count_overstays(on, false)?;
        sweep_seconds = sweep_seconds.min(t.elapsed().as_secs_f64());
    }
    let auditor = Actor::new("u-bench-auditor", Role::Auditor, "bench");
    let t = Instant::now();
    let (rows, total, _) = registry.read_overstays(
        now,
        &auditor,
        fairgate_core::access::Purpose::OversightAudit,
        on,
        Some((1, 100)),
        "GET /overstays",
    )?;
    let first_page_seconds = t.elapsed().as_secs_f64();
    anyhow::ensure!(total == overstayers && rows.len() == total.min(100), "the page disagrees with the sweep");

    let naive_sweep_seconds = if args.no_naive {
        None
    } else {
        let t = Instant::now();
        let naive = registry.count_overstays(on, true)?;
        anyhow::ensure!(naive == overstayers, "the naive sweep found {naive} overstayers, the fast one {overstayers}");
        Some(t.elapsed().as_secs_f64())
    };
    Ok(SweepReport {
        travellers: args.travellers,
        crossings: args.crossings,
        build_seconds,
        compact_seconds,
        overstayers,
        sweep_seconds,
        first_page_seconds,
        naive_sweep_seconds,
        naive_ratio: naive_sweep_seconds.map(|n| n / sweep_seconds),
    })
}

pub fn sweep(args: &SweepArgs) -> Result<()> {
    eprintln!("bench sweep: {} travellers, {} crossings", args.travellers, args.crossings);
    let r = in_scratch_dir(&args.dir, "sweep", &["fairgate.db"], |d| run_sweep(args, d))?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "sweep:      {:>8.2} s for {} travellers / {} crossings ({} overstayers; best of 3)",
            r.sweep_seconds, r.travellers, r.crossings, r.overstayers
        );
        println!("first page: {:>8.2} s (sweep + sort + 100 access events committed)", r.first_page_seconds);
        if let (Some(n), Some(x)) = (r.naive_sweep_seconds, r.naive_ratio) {
            println!("naive:      {n:>8.2} s (same sweep, day-by-day calculator; fast is {x:.1}x quicker)");
        }
        println!("build:      {:>8.1} s (population written through the full write path)", r.build_seconds);
        println!("compaction: {:>8.1} s (all crossings folded into the sealed stay facts, once)", r.compact_seconds);
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct ComplianceArgs {
    /// Run on PostgreSQL instead of SQLite: a postgres:// URL whose user may create
    /// schemas (the benchmark works in a fresh schema and drops it after).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// People in the population; each has three obligations.
    #[arg(long, default_value_t = 1_000_000)]
    pub subjects: u64,
    /// Directory for the throw-away benchmark database (default: a new one under the system temp directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ComplianceReport {
    pub subjects: u64,
    pub obligations: u64,
    pub build_seconds: f64,
    pub compact_seconds: f64,
    /// The first run of the day: evaluates everyone and issues the notices due.
    pub first_run_seconds: f64,
    pub notices_issued: u64,
    /// A second run for the same day (nothing to issue), best of 3.
    pub second_run_seconds: f64,
    /// Baseline in the same run: reading, unwrapping and opening every row without
    /// evaluating anything, best of 3.
    pub floor_seconds: f64,
}

/// The compliance benchmark: a program with three obligations (register within 5
/// days, re-register every 90, record the departure) in force for a year, and a
/// population of visitors who entered in the last 60 days (nine in ten registered on
/// arrival), written through the real write path.
pub fn run_compliance(args: &ComplianceArgs, dir: &std::path::Path) -> Result<ComplianceReport> {
    use fairgate_core::registration::{NewRegistration, RegistrationKind};
    let store = BenchStore::open(dir, &args.database, "compliance")?;
    let registry = throwaway_registry(store.store.clone(), "bench/compliance")?;
    let now = Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let started = Instant::now();
    let then = now - SignedDuration::from_hours(24 * 400);
    let source = format!(
        "id = \"bench-visitors\"\ntitle = \"Benchmark visitors\"\nlegal_basis = \"Benchmark\"\nstarts = {}\nsunset = {}\n[selection]\nadmission_class = [\"WT\"]\n[[obligations]]\nkind = \"register\"\nwithin_days = 5\n[[obligations]]\nkind = \"reregister\"\nevery_days = 90\n[[obligations]]\nkind = \"record-departure\"\nwithin_days = 0\n",
        then.to_zoned(jiff::tz::TimeZone::UTC).date(),
        today + 365.days()
    );
    let admin = Actor::new("u-bench-admin", Role::Admin, "bench");
    let auditor = Actor::new("u-bench-auditor", Role::Auditor, "bench");
    let spec = fairgate_core::program::lang::compile(&source).map_err(|e| anyhow::anyhow!("{e}"))?;
    let impact = fairgate_core::program::impact::analyse(&spec.selection, &[], today);
    registry.write(then, |b| b.draft_program(&admin, &spec, &source, impact, "file"))?;
    registry.write(then, |b| b.sign_off_program(&auditor, "bench-visitors", None, "benchmark"))?;
    registry.write(then, |b| b.activate_program(&admin, "bench-visitors", None))?;

    let officer = Actor::new("u-bench", Role::Officer, "bench");
    let bar = fairgate::progress_bar(args.subjects, "building");
    let mut t = 0u64;
    registry.write_stream(now, |b| {
        let end = (t + 1000).min(args.subjects);
        for i in t..end {
            let id = b.create_validated_subject(&officer, synthetic_person("COMPLIANCE", i, today))?;
            let at = now - SignedDuration::from_hours(24 * (1 + (i % 60) as i64))
                + SignedDuration::from_secs((i % 3600) as i64);
            let day = at.to_zoned(jiff::tz::TimeZone::UTC).date();
            b.record_validated_crossing(&officer, id, crossing("JFK", at, Some(("WT", day + 90.days()))))?;
            if i % 10 != 0 {
                b.record_validated_registration(
                    &officer,
                    id,
                    NewRegistration {
                        kind: RegistrationKind::PortOfEntry,
                        place: "JFK".into(),
                        at: at + SignedDuration::from_mins(20),
                        interview: None,
                        voluntary: false,
                        program: None,
                        import: None,
                        captures: None,
                    },
                )?;
            }
        }
        bar.set_position(end);
        t = end;
        Ok(t < args.subjects)
    })?;
    bar.finish_and_clear();
    let build_seconds = started.elapsed().as_secs_f64();
    eprintln!("bench compliance: population built in {build_seconds:.1} s; compacting");
    let c = Instant::now();
    registry.compact_stay_facts()?;
    let compact_seconds = c.elapsed().as_secs_f64();
    eprintln!("bench compliance: compacted in {compact_seconds:.1} s; running");

    let r = Instant::now();
    let first = registry.compliance_run(now, &Actor::system("bench"), today, &mut |_, _| {})?;
    let first_run_seconds = r.elapsed().as_secs_f64();
    anyhow::ensure!(
        first.subjects == args.subjects,
        "the run saw {} people, expected {}",
        first.subjects,
        args.subjects
    );
    let obligations = first.pending + first.met + first.overdue + first.excused + first.void;
    let mut second_run_seconds = f64::INFINITY;
    for _ in 0..3 {
        let r = Instant::now();
        let again = registry.compliance_run(now, &Actor::system("bench"), today, &mut |_, _| {})?;
        second_run_seconds = second_run_seconds.min(r.elapsed().as_secs_f64());
        anyhow::ensure!(again.notices_issued == 0, "a second run issued {} notices", again.notices_issued);
    }
    let mut floor_seconds = f64::INFINITY;
    for _ in 0..3 {
        let r = Instant::now();
        registry.compliance_scan_floor(today)?;
        floor_seconds = floor_seconds.min(r.elapsed().as_secs_f64());
    }
    Ok(ComplianceReport {
        subjects: args.subjects,
        obligations,
        build_seconds,
        compact_seconds,
        first_run_seconds,
        notices_issued: first.notices_issued,
        second_run_seconds,
        floor_seconds,
    })
}

pub fn compliance(args: &ComplianceArgs) -> Result<()> {
    eprintln!("bench compliance: {} people", args.subjects);
    let r = in_scratch_dir(&args.dir, "compliance", &["fairgate.db"], |d| run_compliance(args, d))?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "first run:  {:>8.2} s for {} people / {} obligations ({} notices issued)",
            r.first_run_seconds, r.subjects, r.obligations, r.notices_issued
        );
        println!("second run: {:>8.2} s (same day, nothing to issue; best of 3)", r.second_run_seconds);
        println!("floor:      {:>8.2} s (read and open every row, evaluate nothing; best of 3)", r.floor_seconds);
        println!("build:      {:>8.1} s; compaction {:.1} s", r.build_seconds, r.compact_seconds);
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// Run on PostgreSQL instead of SQLite: a postgres:// URL whose user may create
    /// schemas (the benchmark works in a fresh schema and drops it after).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Rows in the synthetic legacy file (one in ten is a second registration of the row before).
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// Rows per committed batch (default: what `fairgate import` uses).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Directory for the throw-away database and file (default: a new one under the system temp directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportBenchReport {
    pub rows: u64,
    /// Reading, parsing and validating every row (the floor under an import).
    pub check_seconds: f64,
    /// Writing every row through the write path (after the check).
    pub write_seconds: f64,
    /// Rows per second over the whole import (check + write).
    pub rows_per_second: f64,
    /// Rows per second of the check alone: the baseline in the same run.
    pub check_rows_per_second: f64,
    pub subjects_created: u64,
}

pub fn run_import(args: &ImportArgs, dir: &std::path::Path) -> Result<ImportBenchReport> {
    use std::io::Write;
    let file = dir.join("legacy.jsonl");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file)?);
        for i in 0..args.rows {
            let p = if i % 10 == 9 { i - 1 } else { i };
            writeln!(
                w,
                r#"{{"issuing_state":"UTO","document_number":"L{p:08}","document_expires_on":"2010-01-01","surname":"LEGACY","given_names":"PERSON {p}","birth_date":"19{:02}-0{}-1{}","sex":"{}","nationality":"UTO","place":"NYC-FO","registered_at":"2003-0{}-1{}"}}"#,
                50 + p % 40,
                1 + p % 9,
                p % 9,
                ["F", "M"][(p % 2) as usize],
                1 + p % 9,
                p % 9
            )?;
        }
    }
    let store = BenchStore::open(dir, &args.database, "import")?;
    let mut registry = throwaway_registry(store.store.clone(), "bench/import")?;
    if let Some(n) = args.batch {
        registry = registry.with_import_batch(n);
    }
    let now = Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let admin = Actor::new("u-bench-admin", Role::Admin, "bench");
    let source = format!(
        "id = \"legacy\"\ntitle = \"Legacy\"\nlegal_basis = \"Benchmark\"\nstarts = {today}\nsunset = {}\n[selection]\nmin_stay_days = 30\n",
        today + 365.days()
    );
    let spec = fairgate_core::program::lang::compile(&source).map_err(|e| anyhow::anyhow!("{e}"))?;
    let impact = fairgate_core::program::impact::analyse(&spec.selection, &[], today);
    registry.write(now, |b| b.draft_program(&admin, &spec, &source, impact, "file"))?;

    let t = Instant::now();
    let (hash, rows, errors) = fairgate::import::read_rows(&file)?;
    anyhow::ensure!(errors.is_empty(), "the synthetic file has bad rows: {:?}", &errors[..errors.len().min(3)]);
    let mut valid = Vec::with_capacity(rows.len());
    for (line, row) in rows {
        let (s, r) = row.validate(&registry.places(), now).map_err(|e| anyhow::anyhow!("line {line}: {e}"))?;
        valid.push((line, s, r));
    }
    let check_seconds = t.elapsed().as_secs_f64();
    let bar = fairgate::progress_bar(args.rows, "importing");
    let t = Instant::now();
    let report = registry.import_rows(now, &admin, "legacy", &hash, valid, &mut |done, _| {
        bar.set_position(done);
        true
    })?;
    let write_seconds = t.elapsed().as_secs_f64();
    bar.finish_and_clear();
    anyhow::ensure!(report.written == args.rows, "wrote {} rows of {}", report.written, args.rows);
    Ok(ImportBenchReport {
        rows: args.rows,
        check_seconds,
        write_seconds,
        rows_per_second: args.rows as f64 / (check_seconds + write_seconds),
        check_rows_per_second: args.rows as f64 / check_seconds,
        subjects_created: report.subjects_created,
    })
}

pub fn import(args: &ImportArgs) -> Result<()> {
    eprintln!("bench import: {} rows", args.rows);
    let r = in_scratch_dir(&args.dir, "import", &["fairgate.db", "legacy.jsonl"], |d| run_import(args, d))?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "import: {:>10.0} rows/s ({} rows: check {:.1} s + write {:.1} s; {} people)",
            r.rows_per_second, r.rows, r.check_seconds, r.write_seconds, r.subjects_created
        );
        println!("check:  {:>10.0} rows/s (read, parse and validate only: the baseline)", r.check_rows_per_second);
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct ExpungeArgs {
    /// Run on PostgreSQL instead of SQLite: a postgres:// URL whose user may create
    /// schemas (the benchmark works in a fresh schema and drops it after).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// People with records of the program to expunge (one in ten also has a crossing
    /// recorded at the border, so only the program's records of theirs go).
    #[arg(long, default_value_t = 100_000)]
    pub subjects: u64,
    /// People expunged one at a time afterwards, for the baseline.
    #[arg(long, default_value_t = 500)]
    pub baseline: u64,
    /// People who fall due under a program's retention rule and are expunged by the
    /// chunked retention run (`retention_run`) afterwards: the second baseline, the
    /// bulk path the program expungement is measured against. 0 skips it.
    #[arg(long, default_value_t = 100_000)]
    pub retention: u64,
    /// Directory for the throw-away database (default: a new one under the system temp directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ExpungeBenchReport {
    pub subjects: u64,
    /// Building the population (not timed in the result).
    pub setup_seconds: f64,
    /// The program-wide expungement, from its start to the signed certificate.
    pub expunge_seconds: f64,
    pub fully: u64,
    pub partly: u64,
    pub subjects_per_second: f64,
    /// The same people one at a time through `expunge_subject` (each with its own
    /// event, erasure, WAL checkpoint and signed checkpoint), timed on `baseline`
    /// others in the same database: the baseline.
    pub baseline_subjects: u64,
    pub baseline_subjects_per_second: f64,
    /// The chunked retention path: `retention` other people past their program's
    /// retention period, expunged by one `retention_run` (its scan of every live
    /// person included), each with their own expungement event and certificate.
    pub retention_subjects: u64,
    pub retention_seconds: f64,
    pub retention_subjects_per_second: f64,
}

pub fn run_expunge(args: &ExpungeArgs, dir: &std::path::Path) -> Result<ExpungeBenchReport> {
    use fairgate_core::expungement::ExpungementInput;
    use fairgate_store::registry::program_expungement::ProgramExpungement;
    let store = BenchStore::open(dir, &args.database, "expunge")?;
    let registry = throwaway_registry(store.store.clone(), "bench/expunge")?;
    let now = Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let admin = Actor::new("u-bench-admin", Role::Admin, "bench");
    let auditor = Actor::new("u-bench-auditor", Role::Auditor, "bench");
    let officer = Actor::new("u-bench", Role::Officer, "bench");
    let t = Instant::now();
    let source = format!(
        "id = \"legacy\"\ntitle = \"Legacy\"\nlegal_basis = \"Benchmark\"\nstarts = {today}\nsunset = {}\n[selection]\nmin_stay_days = 30\n",
        today + 365.days()
    );
    let spec = fairgate_core::program::lang::compile(&source).map_err(|e| anyhow::anyhow!("{e}"))?;
    let impact = fairgate_core::program::impact::analyse(&spec.selection, &[], today);
    registry.write(now, |b| b.draft_program(&admin, &spec, &source, impact, "file"))?;
    // One in ten crossed the border too (created first; the import merges into them).
    let mut i = 0;
    let crossed = args.subjects / 10;
    registry.write_stream(now, |b| {
        let end = (i + 5_000).min(crossed);
        while i < end {
            let id = b.create_validated_subject(&officer, synthetic_person("X", i, today))?;
            let at = now - SignedDuration::from_hours(24 * 30);
            b.record_validated_crossing(&officer, id, crossing("JFK", at, Some(("B-2", today + 60.days()))))?;
            i += 1;
        }
        Ok(i < crossed)
    })?;
    let rows: Vec<_> = (0..args.subjects)
        .map(|i| {
            let person = synthetic_person("X", i, today);
            let reg = fairgate_core::registration::NewRegistration {
                kind: fairgate_core::registration::RegistrationKind::Office,
                place: "NYC-FO".into(),
                at: now - SignedDuration::from_hours(24 * 400),
                interview: None,
                voluntary: false,
                program: None,
                import: None,
                captures: None,
            };
            (i + 2, person, reg)
        })
        .collect();
    let bar = fairgate::progress_bar(args.subjects, "importing");
    registry.import_rows(now, &admin, "legacy", "bench", rows, &mut |done, _| {
        bar.set_position(done);
        true
    })?;
    bar.finish_and_clear();
    registry.compact_stay_facts()?;
    registry.write(now, |b| b.repeal_program(&admin, "legacy", "benchmark"))?;
    // Expungements cite a listed authority.
    let authority = fairgate_core::expungement::Authority {
        id: "benchmark".into(),
        name: "Benchmark".into(),
        reference: "none".into(),
    };
    registry.list_authority(now, &admin, &authority)?;
    let input = ExpungementInput { authority: "benchmark".into(), reason: "Benchmark".into() };
    registry.approve_program_expungement(now, &auditor, "legacy", &input)?;
    registry.notice_program_expungement(now, &admin, "legacy", &input, 90)?;
    let setup_seconds = t.elapsed().as_secs_f64();

    let later = now + SignedDuration::from_hours(24 * 91);
    let bar = fairgate::progress_bar(args.subjects, "expunging");
    let t = Instant::now();
    let done = registry.expunge_program(later, &admin, "legacy", &mut |done, _| {
        bar.set_position(done);
        true
    })?;
    let expunge_seconds = t.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let ProgramExpungement::Done { fully, partly, .. } = done else {
        anyhow::bail!("the expungement did not finish: {done:?}");
    };
    anyhow::ensure!(fully + partly == args.subjects, "{fully} + {partly} of {}", args.subjects);

    // The baseline: people expunged one at a time.
    let mut ids = Vec::new();
    let mut i = 0;
    registry.write_stream(later, |b| {
        while i < args.baseline {
            ids.push(b.create_validated_subject(&officer, synthetic_person("Y", i, today))?);
            i += 1;
        }
        Ok(false)
    })?;
    for id in &ids {
        registry.approve_expungement(later, &auditor, *id, &input)?;
    }
    let t = Instant::now();
    for id in &ids {
        registry.expunge_subject(later, &admin, *id, &input)?;
    }
    let baseline_seconds = t.elapsed().as_secs_f64();
    let retention_seconds = if args.retention > 0 {
        retention_baseline(&registry, later, args.retention, today, &admin, &auditor, &officer)?
    } else {
        0.0
    };
    Ok(ExpungeBenchReport {
        subjects: args.subjects,
        setup_seconds,
        expunge_seconds,
        fully,
        partly,
        subjects_per_second: args.subjects as f64 / expunge_seconds,
        baseline_subjects: args.baseline,
        baseline_subjects_per_second: args.baseline as f64 / baseline_seconds.max(1e-9),
        retention_subjects: args.retention,
        retention_seconds,
        retention_subjects_per_second: args.retention as f64 / retention_seconds.max(1e-9),
    })
}

/// The chunked retention baseline: a program with a 30-day retention rule after the
/// last exit, activated at `from`; `n` people admitted under it the next day who
/// leave nine days later; then, fifty days after `from`, one `retention_run` that
/// finds them all due and expunges them in chunks. Returns the run's seconds (the
/// setup is not timed). Fails unless exactly those `n` people were erased.
fn retention_baseline(
    registry: &Registry,
    from: Timestamp,
    n: u64,
    today: jiff::civil::Date,
    admin: &Actor,
    auditor: &Actor,
    officer: &Actor,
) -> Result<f64> {
    let day = |d: i64| from + SignedDuration::from_hours(24 * d);
    let starts = day(0).to_zoned(jiff::tz::TimeZone::UTC).date();
    let source = format!(
        "id = \"visitors\"\ntitle = \"Visitors\"\nlegal_basis = \"Benchmark\"\nstarts = {starts}\nsunset = {}\n[selection]\nadmission_class = [\"B-2\"]\n[retention]\nafter_last_exit = \"30d\"\n",
        starts + 365.days()
    );
    let spec = fairgate_core::program::lang::compile(&source).map_err(|e| anyhow::anyhow!("{e}"))?;
    let impact = fairgate_core::program::impact::analyse(&spec.selection, &[], starts);
    registry.write(day(0), |b| b.draft_program(admin, &spec, &source, impact, "file"))?;
    registry.write(day(0), |b| b.sign_off_program(auditor, "visitors", None, "benchmark"))?;
    registry.write(day(0), |b| b.activate_program(admin, "visitors", None))?;
    let bar = fairgate::progress_bar(n, "people for the retention run");
    let mut ids = Vec::with_capacity(n as usize);
    registry.write_stream(day(1), |b| {
        let end = (ids.len() as u64 + 5_000).min(n);
        while (ids.len() as u64) < end {
            let id = b.create_validated_subject(officer, synthetic_person("R", ids.len() as u64, today))?;
            b.record_validated_crossing(officer, id, crossing("JFK", day(1), Some(("B-2", today + 200.days()))))?;
            ids.push(id);
        }
        bar.set_position(ids.len() as u64);
        Ok((ids.len() as u64) < n)
    })?;
    let mut i = 0;
    registry.write_stream(day(10), |b| {
        let end = (i + 5_000).min(ids.len());
        while i < end {
            b.record_validated_crossing(officer, ids[i], crossing("JFK", day(10), None))?;
            i += 1;
        }
        Ok(i < ids.len())
    })?;
    bar.finish_and_clear();
    let on = day(50).to_zoned(jiff::tz::TimeZone::UTC).date();
    eprintln!("bench expunge: the retention run over {n} people due");
    let t = Instant::now();
    let run = registry.retention_run(day(50), &Actor::system("retention"), on, false)?;
    let seconds = t.elapsed().as_secs_f64();
    anyhow::ensure!(run.erased == n, "the retention run erased {} of the {n} people due", run.erased);
    Ok(seconds)
}

pub fn expunge(args: &ExpungeArgs) -> Result<()> {
    eprintln!("bench expunge: {} people", args.subjects);
    let r = in_scratch_dir(&args.dir, "expunge", &["fairgate.db"], |d| run_expunge(args, d))?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "program-wide: {:.2} s for {} people ({} whole, {} partly): {:.0} people/s (setup {:.1} s)",
            r.expunge_seconds, r.subjects, r.fully, r.partly, r.subjects_per_second, r.setup_seconds
        );
        println!(
            "one at a time: {:.0} people/s over {} people (the baseline): {:.0} s for {} people",
            r.baseline_subjects_per_second,
            r.baseline_subjects,
            r.subjects as f64 / r.baseline_subjects_per_second,
            r.subjects
        );
        if r.retention_subjects > 0 {
            println!(
                "chunked retention run: {:.2} s for {} people: {:.0} people/s (the bulk baseline; program-wide is {:.2}x its rate)",
                r.retention_seconds,
                r.retention_subjects,
                r.retention_subjects_per_second,
                r.subjects_per_second / r.retention_subjects_per_second.max(1e-9)
            );
        }
    }
    Ok(())
}

#[derive(clap::Args, Debug, Clone)]
pub struct MrzArgs {
    /// Distinct zones (of all five formats, written from random documents).
    #[arg(long, default_value_t = 10_000)]
    pub zones: usize,
    /// Passes over them.
    #[arg(long, default_value_t = 20)]
    pub passes: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MrzReport {
    pub zones: usize,
    pub reads: usize,
    /// Full reads: every check digit, every field, the dates.
    pub reads_per_second: f64,
    /// The baseline: splitting the same zones into lines and fields by position, no checks.
    pub splits_per_second: f64,
    pub ratio: f64,
}

/// Zones written from random documents of every format, with a fixed seed.
fn mrz_zones(n: usize) -> Vec<String> {
    use fairgate_core::mrz::{encode, Fields, Format};
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(9303);
    let formats = [Format::Td1, Format::Td2, Format::Td3, Format::MrvA, Format::MrvB];
    let letters = |rng: &mut rand::rngs::StdRng, n: usize| -> String {
        (0..n).map(|_| (b'A' + rng.gen_range(0..26)) as char).collect()
    };
    (0..n)
        .map(|i| {
            let format = formats[i % formats.len()];
            let number: String = (0..9)
                .map(|_| {
                    let v = rng.gen_range(0..36u8);
                    if v < 10 {
                        (b'0' + v) as char
                    } else {
                        (b'A' + v - 10) as char
                    }
                })
                .collect();
            let f = Fields {
                format,
                document_code: if matches!(format, Format::MrvA | Format::MrvB) { "V" } else { "P" }.into(),
                issuing_state: letters(&mut rng, 3),
                document_number: number,
                surname: letters(&mut rng, 8),
                given_names: format!("{} {}", letters(&mut rng, 5), letters(&mut rng, 4)),
                nationality: letters(&mut rng, 3),
                birth_date: jiff::civil::date(rng.gen_range(1940..2010), rng.gen_range(1..=12), rng.gen_range(1..=28)),
                expiry_date: jiff::civil::date(rng.gen_range(2020..2036), rng.gen_range(1..=12), rng.gen_range(1..=28)),
                sex: ["F", "M", "X"][i % 3].into(),
                optional_data: String::new(),
            };
            encode(&f).map(|lines| lines.join("\n")).unwrap_or_default()
        })
        .collect()
}

pub fn run_mrz(args: &MrzArgs) -> Result<MrzReport> {
    let zones = mrz_zones(args.zones);
    let today = jiff::civil::date(2026, 11, 30);
    // Baseline: the lines, and each line cut into the fields of its format by position.
    let t = Instant::now();
    let mut sink = 0usize;
    for _ in 0..args.passes {
        for z in &zones {
            let lines: Vec<&str> = z.lines().collect();
            let width = lines.first().map_or(0, |l| l.len());
            for l in &lines {
                let cut = if width == 30 { [5, 14, 15] } else { [9, 10, 13] };
                sink += l[..cut[0]].len() + l[cut[1]..cut[2]].len();
            }
        }
    }
    let split = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut valid = 0usize;
    for _ in 0..args.passes {
        for z in &zones {
            if let Ok((r, _)) = fairgate_core::mrz::read(z, today) {
                valid += usize::from(r.valid);
            }
        }
    }
    let read = t.elapsed().as_secs_f64();
    std::hint::black_box(sink);
    let reads = args.zones * args.passes;
    anyhow::ensure!(valid == reads, "only {valid} of {reads} zones read as valid");
    let (rps, sps) = (reads as f64 / read, reads as f64 / split);
    Ok(MrzReport { zones: args.zones, reads, reads_per_second: rps, splits_per_second: sps, ratio: rps / sps })
}

pub fn mrz(args: &MrzArgs) -> Result<()> {
    let r = run_mrz(args)?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "{} reads of {} zones: {:.0} reads/s (every check and field); splitting into fields by position alone: {:.0}/s ({:.3} of it)",
            r.reads, r.zones, r.reads_per_second, r.splits_per_second, r.ratio
        );
    }
    Ok(())
}

#[derive(clap::Args, Debug, Clone)]
pub struct BiometricsArgs {
    /// Distinct records: ten-finger ISO/IEC 19794-2 minutiae records, 40 minutiae a finger.
    #[arg(long, default_value_t = 2_000)]
    pub records: usize,
    /// Passes over them.
    #[arg(long, default_value_t = 10)]
    pub passes: usize,
    /// Face records (generated 480 × 640 portraits, PNG), each parsed, checked and sealed once a pass.
    #[arg(long, default_value_t = 50)]
    pub faces: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BiometricsReport {
    pub faces: usize,
    pub face_record_bytes: usize,
    /// Face records parsed (header fields checked) per second.
    pub face_parses_per_second: f64,
    /// Portraits checked (the image decoded, its size, contrast and eyes measured) per second.
    pub portrait_checks_per_second: f64,
    /// Face records sealed as a ledger payload per second.
    pub face_seals_per_second: f64,
    /// Ten-finger records written as an ANSI/NIST-ITL transaction (Type-9s), per second.
    pub an2k_writes_per_second: f64,
    /// Those transactions read back to ISO records, per second.
    pub an2k_reads_per_second: f64,
    pub an2k_bytes: usize,
    pub records: usize,
    pub record_bytes: usize,
    /// Records parsed (every field checked) per second.
    pub parses_per_second: f64,
    /// Records sealed as a ledger payload (padded, AES-256-GCM) per second.
    pub seals_per_second: f64,
    /// The baseline: copying the same bytes, per second.
    pub copies_per_second: f64,
}

/// Ten-finger minutiae records with a fixed seed.
fn minutiae_records(n: usize) -> Vec<Vec<u8>> {
    use fairgate_core::minutiae::{encode, FingerView, Minutia, MinutiaType, MinutiaeRecord};
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(19794);
    (0..n)
        .map(|_| {
            let views = (1..=10u8)
                .map(|position| FingerView {
                    position,
                    view: 0,
                    impression: 0,
                    quality: rng.gen_range(40..=100),
                    minutiae: (0..40)
                        .map(|_| Minutia {
                            kind: if rng.gen_bool(0.5) { MinutiaType::RidgeEnding } else { MinutiaType::Bifurcation },
                            x: rng.gen_range(0..500),
                            y: rng.gen_range(0..550),
                            angle: rng.gen(),
                            quality: rng.gen_range(0..=100),
                        })
                        .collect(),
                    extended: Vec::new(),
                })
                .collect();
            let rec = MinutiaeRecord {
                certification: 0,
                device_type: 0,
                width: 500,
                height: 550,
                x_resolution: 197,
                y_resolution: 197,
                views,
            };
            encode(&rec).unwrap_or_default()
        })
        .collect()
}

pub fn run_biometrics(args: &BiometricsArgs) -> Result<BiometricsReport> {
    use rand::SeedableRng;
    let records = minutiae_records(args.records);
    let record_bytes = records.first().map_or(0, Vec::len);
    let total = (args.records * args.passes) as f64;
    let t = Instant::now();
    let mut sink = 0usize;
    for _ in 0..args.passes {
        for r in &records {
            sink += std::hint::black_box(r.clone()).len();
        }
    }
    let copy = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut minutiae = 0usize;
    for _ in 0..args.passes {
        for r in &records {
            let rec = fairgate_core::minutiae::parse(r).map_err(|e| anyhow::anyhow!("a generated record: {e}"))?;
            minutiae += rec.views.iter().map(|v| v.minutiae.len()).sum::<usize>();
        }
    }
    let parse = t.elapsed().as_secs_f64();
    let sealer = fairgate_ledger::leaf::Sealer::new(&SecretKey::from_bytes([7; 32]));
    let header = fairgate_ledger::leaf::Header { kind: 2, timestamp_ms: 0, key_id: [0; 16] };
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let t = Instant::now();
    for _ in 0..args.passes {
        for r in &records {
            sink += sealer.seal(&header, r, &mut rng).len();
        }
    }
    let seal = t.elapsed().as_secs_f64();
    // ANSI/NIST-ITL: each ten-finger record as a transaction of ten Type-9s, and back.
    let parsed: Vec<fairgate_core::minutiae::MinutiaeRecord> =
        records.iter().filter_map(|r| fairgate_core::minutiae::parse(r).ok()).collect();
    let env = fairgate_core::an2k::Envelope {
        tot: "BENCH".into(),
        date: "20261130".into(),
        dai: "D".into(),
        ori: "O".into(),
        tcn: "1".into(),
        type4: false,
    };
    let t = Instant::now();
    let mut files = Vec::with_capacity(parsed.len());
    for _ in 0..args.passes {
        files.clear();
        for r in &parsed {
            files.push(
                fairgate_core::an2k::from_records(&env, None, std::slice::from_ref(r), &[])
                    .map_err(|e| anyhow::anyhow!("an2k of a generated record: {e}"))?,
            );
        }
    }
    let an2k_write = t.elapsed().as_secs_f64();
    let an2k_bytes = files.first().map_or(0, Vec::len);
    let t = Instant::now();
    for _ in 0..args.passes {
        for f in &files {
            let tx = fairgate_core::an2k::parse(f).map_err(|e| anyhow::anyhow!("a written file: {e}"))?;
            sink += fairgate_core::an2k::to_records(&tx).map_err(|e| anyhow::anyhow!("{e}"))?.0.len();
        }
    }
    let an2k_read = t.elapsed().as_secs_f64();
    // Faces: generated portraits, parsed, checked (decoded and measured) and sealed.
    let faces: Vec<Vec<u8>> = (0..args.faces as u64)
        .map(|i| fairgate_core::face::encode(&fairgate_biometrics::synthetic::face_record(i, (2026, 11, 30))))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("a generated face: {e}"))?;
    let face_record_bytes = faces.iter().map(Vec::len).sum::<usize>() / faces.len().max(1);
    let face_total = (args.faces * args.passes) as f64;
    let t = Instant::now();
    let mut images = Vec::with_capacity(faces.len());
    for _ in 0..args.passes {
        images.clear();
        for f in &faces {
            let rec = fairgate_core::face::parse(f).map_err(|e| anyhow::anyhow!("a generated face: {e}"))?;
            images.extend(rec.images);
        }
    }
    let face_parse = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..args.passes {
        for i in &images {
            let p = fairgate_biometrics::check_portrait(i).map_err(|e| anyhow::anyhow!("a generated face: {e}"))?;
            sink += p.width as usize;
        }
    }
    let portrait = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..args.passes {
        for f in &faces {
            sink += sealer.seal(&header, f, &mut rng).len();
        }
    }
    let face_seal = t.elapsed().as_secs_f64();
    std::hint::black_box((sink, minutiae));
    Ok(BiometricsReport {
        faces: args.faces,
        face_record_bytes,
        face_parses_per_second: face_total / face_parse,
        portrait_checks_per_second: face_total / portrait,
        face_seals_per_second: face_total / face_seal,
        an2k_writes_per_second: total / an2k_write,
        an2k_reads_per_second: total / an2k_read,
        an2k_bytes,
        records: args.records,
        record_bytes,
        parses_per_second: total / parse,
        seals_per_second: total / seal,
        copies_per_second: total / copy,
    })
}

pub fn biometrics(args: &BiometricsArgs) -> Result<()> {
    let r = run_biometrics(args)?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "ten-finger minutiae records of {} bytes: {:.0} parsed/s, {:.0} sealed/s (copying the bytes alone: {:.0}/s)",
            r.record_bytes, r.parses_per_second, r.seals_per_second, r.copies_per_second
        );
        println!(
            "as ANSI/NIST-ITL transactions of {} bytes: {:.0} written/s, {:.0} read back/s",
            r.an2k_bytes, r.an2k_writes_per_second, r.an2k_reads_per_second
        );
        println!(
            "face records of {} bytes (480 × 640 PNG): {:.0} parsed/s, {:.0} portraits checked/s, {:.0} sealed/s",
            r.face_record_bytes, r.face_parses_per_second, r.portrait_checks_per_second, r.face_seals_per_second
        );
    }
    Ok(())
}

#[derive(clap::Args, Debug, Clone)]
pub struct MatchingArgs {
    /// Fingers of the generated evaluation set (two impressions each).
    #[arg(long, default_value_t = 200)]
    pub fingers: u64,
    #[arg(long, default_value_t = 2002)]
    pub seed: u64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MatchingReport {
    pub fingers: u64,
    pub comparisons: usize,
    /// Mean minutiae and cylinders per impression.
    pub minutiae: f64,
    pub cylinders: f64,
    /// Making a template (the cylinders) from one impression, microseconds.
    pub template_us: f64,
    /// One-finger 1:1 comparison of two templates (MCC, LSS-R), microseconds:
    /// median, p99 and the mean.
    pub compare_p50_us: f64,
    pub compare_p99_us: f64,
    pub compare_mean_us: f64,
    /// The baseline in the same run: every cylinder pair's similarity and nothing
    /// else (the pair matrix the score is selected from), mean microseconds.
    pub pair_matrix_mean_us: f64,
}

pub fn run_matching(args: &MatchingArgs) -> Result<MatchingReport> {
    use fairgate_biometrics::fingerprint::{compare, pair_matrix, Template};
    let set = fairgate_biometrics::evaluation::set(args.seed, args.fingers);
    let impressions: Vec<&Vec<fairgate_biometrics::fingerprint::Point>> =
        set.iter().flat_map(|f| f.impressions.iter()).collect();
    let t = Instant::now();
    let templates: Vec<Template> = impressions.iter().map(|p| Template::new(p)).collect();
    let template_us = t.elapsed().as_secs_f64() * 1e6 / templates.len().max(1) as f64;
    // Each first impression against every second impression, one pair at a time.
    let pairs: Vec<(usize, usize)> =
        (0..set.len()).flat_map(|i| (0..set.len()).map(move |j| (2 * i, 2 * j + 1))).collect();
    let mut times = Vec::with_capacity(pairs.len());
    let mut sink = 0.0;
    for (a, b) in &pairs {
        let t = Instant::now();
        sink += compare(&templates[*a], &templates[*b]);
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let t = Instant::now();
    for (a, b) in &pairs {
        sink += pair_matrix(&templates[*a], &templates[*b]);
    }
    let floor = t.elapsed().as_secs_f64() * 1e6 / pairs.len().max(1) as f64;
    std::hint::black_box(sink);
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    times.sort_by(f64::total_cmp);
    let q = |p: f64| times.get(((times.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
    Ok(MatchingReport {
        fingers: args.fingers,
        comparisons: pairs.len(),
        minutiae: impressions.iter().map(|p| p.len()).sum::<usize>() as f64 / impressions.len().max(1) as f64,
        cylinders: templates.iter().map(Template::len).sum::<usize>() as f64 / templates.len().max(1) as f64,
        template_us,
        compare_p50_us: q(0.5),
        compare_p99_us: q(0.99),
        compare_mean_us: mean,
        pair_matrix_mean_us: floor,
    })
}

pub fn matching(args: &MatchingArgs) -> Result<()> {
    let r = run_matching(args)?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "fingerprint 1:1 (one finger, MCC with LSS-R) over {} comparisons: p50 {:.1} µs, p99 {:.1} µs, mean {:.1} µs (the pair matrix alone: {:.1} µs); a template takes {:.1} µs ({:.1} minutiae, {:.1} cylinders)",
            r.comparisons, r.compare_p50_us, r.compare_p99_us, r.compare_mean_us, r.pair_matrix_mean_us, r.template_us, r.minutiae, r.cylinders
        );
    }
    Ok(())
}

#[derive(clap::Args, Debug, Clone)]
pub struct PlanArgs {
    /// People the program selects.
    #[arg(long, default_value_t = 1_000_000)]
    pub people: usize,
    /// Offices, each serving a two-digit postal prefix.
    #[arg(long, default_value_t = 50)]
    pub offices: usize,
    /// Days to register.
    #[arg(long, default_value_t = 30)]
    pub within_days: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PlanReport {
    pub people: usize,
    pub offices: usize,
    pub office_days: usize,
    pub feasible: bool,
    pub fitting_within_days: Option<u32>,
    /// The whole plan, with the queue simulation (seconds).
    pub plan_seconds: f64,
    /// The baseline: the same plan without the simulation (seconds).
    pub without_simulation_seconds: f64,
}

/// `offices` offices of 10 desks, weekdays 08:00-16:00, 20-minute registrations,
/// and `people` spread over them (postal prefixes 00..) whose obligations began over
/// 60 days: a call-in of the 2002 shape, at scale.
fn plan_inputs(
    people: usize,
    offices: usize,
) -> Result<(fairgate_core::place::PlaceBook, Vec<fairgate_core::plan::PlanPerson>)> {
    use fairgate_core::place::{Hours, Place, PlaceKind, ServiceMinutes};
    use rand::{Rng, SeedableRng};
    let h = Some(Hours { opens: 480, closes: 960 });
    let places: Vec<Place> = (0..offices)
        .map(|i| Place {
            code: format!("B{i:02}"),
            name: format!("Bench office {i}"),
            kind: PlaceKind::Office,
            zone: "America/New_York".into(),
            address: "synthetic".into(),
            service_area: vec![format!("{i:02}")],
            hours: [h, h, h, h, h, None, None],
            desks: 10,
            minutes: ServiceMinutes { registration: 20, re_registration: 15, interview: 30 },
            ..Place::bare()
        })
        .collect();
    let book = fairgate_core::place::PlaceBook::resolve(places).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(2002);
    let first: jiff::civil::Date = jiff::civil::date(2026, 12, 1);
    let people = (0..people)
        .map(|_| fairgate_core::plan::PlanPerson {
            postal_code: format!("{:02}{:03}", rng.gen_range(0..offices), rng.gen_range(0..1000)),
            starts: first.checked_add(jiff::Span::new().days(rng.gen_range(0..60))).unwrap_or(first),
        })
        .collect();
    Ok((book, people))
}

pub fn run_plan(args: &PlanArgs) -> Result<PlanReport> {
    let (book, people) = plan_inputs(args.people, args.offices)?;
    let kind = fairgate_core::place::ServiceKind::Registration;
    let t = Instant::now();
    let bare = fairgate_core::plan::plan_with(&book, kind, args.within_days, &people, 1, false);
    let without_simulation_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let full = fairgate_core::plan::plan(&book, kind, args.within_days, &people, 1);
    let plan_seconds = t.elapsed().as_secs_f64();
    std::hint::black_box(&bare);
    Ok(PlanReport {
        people: args.people,
        offices: args.offices,
        office_days: full.days.len(),
        feasible: full.feasible,
        fitting_within_days: full.proposal.as_ref().and_then(|p| p.fitting_within_days),
        plan_seconds,
        without_simulation_seconds,
    })
}

pub fn plan(args: &PlanArgs) -> Result<()> {
    let r = run_plan(args)?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "{} people over {} offices ({} office days, {}): plan with the queue simulation {:.2} s, without it {:.2} s",
            r.people,
            r.offices,
            r.office_days,
            match (r.feasible, r.fitting_within_days) {
                (true, _) => "feasible".to_string(),
                (false, Some(d)) => format!("not feasible, {d} days would fit"),
                (false, None) => "not feasible".to_string(),
            },
            r.plan_seconds,
            r.without_simulation_seconds
        );
    }
    Ok(())
}

#[derive(clap::Args, Debug, Clone)]
pub struct IdentificationArgs {
    /// People in the gallery (each with a face embedding and --fingers fingers).
    #[arg(long, default_value_t = 1_000_000)]
    pub people: usize,
    /// Fingers per person (positions 2, 3, ...: right index first).
    #[arg(long, default_value_t = 2)]
    pub fingers: u8,
    /// Searches timed (face scan, finger shortlist), each with a mate in the gallery.
    #[arg(long, default_value_t = 100)]
    pub searches: usize,
    /// Registrations timed through the registry, with the gallery full.
    #[arg(long, default_value_t = 100)]
    pub enrolments: usize,
    /// The face matcher's files: with them each timed registration carries a real
    /// photograph, embedded and searched; without, fingerprints only.
    #[arg(long, value_name = "DIR")]
    pub faces: Option<std::path::PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct IdentificationReport {
    pub people: usize,
    pub fingers_per_person: u8,
    pub build_seconds: f64,
    /// Face 1:N, exact, vectorised on all cores (ms per search).
    pub face_p50_ms: f64,
    pub face_p99_ms: f64,
    /// The baseline: the same scan as a plain scalar loop on one core (ms, mean).
    pub face_scalar_ms: f64,
    /// The mate was the best face.
    pub face_mates_first: usize,
    /// Finger shortlist (exact signature scan) and the MCC of its 20 (ms per search).
    pub finger_p50_ms: f64,
    pub finger_p99_ms: f64,
    /// The mate made the shortlist, and scored at or above the threshold.
    pub finger_mates_shortlisted: usize,
    pub finger_mates_matched: usize,
    pub searches: usize,
    /// Whole registrations (validation, captures, face embedding if any, 1:N, seal,
    /// commit) through the registry with the gallery full (ms).
    pub enrol_p50_ms: f64,
    pub enrol_p99_ms: f64,
    pub enrolments: usize,
    pub enrol_with_face: bool,
}

/// Standard base64, as the API takes records.
fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn percentile_ms(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() - 1) as f64 * q).round() as usize] * 1e3
}

/// A random unit vector (a stand-in embedding; the scan does not care what made it).
fn random_unit(rng: &mut fairgate_biometrics::evaluation::Rng) -> [f32; fairgate_biometrics::index::FACE_DIM] {
    let v: Vec<f32> = (0..fairgate_biometrics::index::FACE_DIM).map(|_| rng.normal() as f32).collect();
    fairgate_biometrics::index::normalized(&v).unwrap_or([0.0; fairgate_biometrics::index::FACE_DIM])
}

/// Gallery person `i`: a face and fingers at positions 2.. from the generated masters
/// (first impressions). `take` 2 gives the same person's second impressions and a
/// face near theirs: a mate.
fn gallery_person(i: u64, fingers: u8, take: u64) -> fairgate_biometrics::index::Features {
    use fairgate_biometrics::evaluation::{impression, master, Difficulty, Rng};
    let mut rng = Rng::new(i.wrapping_mul(0x9E37_79B9) ^ 0xFACE);
    let mut face = random_unit(&mut rng);
    if take == 2 {
        let mut noise = Rng::new(i ^ 0xBEEF);
        let v: Vec<f32> = face.iter().map(|x| x + 0.03 * noise.normal() as f32).collect();
        face = fairgate_biometrics::index::normalized(&v).unwrap_or(face);
    }
    let fingers = (0..fingers)
        .filter_map(|k| {
            let pos = 2 + k;
            let f = i * 10 + u64::from(pos);
            fairgate_biometrics::index::Finger::from_points(
                pos,
                &impression(&master(f), f * 2 + take, Difficulty::Typical),
            )
        })
        .collect();
    fairgate_biometrics::index::Features { fingers, face: Some(face) }
}

/// A synthetic person's fingers as one ISO/IEC 19794-2 minutiae record (`take` 1 or
/// 2: two impressions of the same fingers, a mated pair).
fn minutiae_record(person: u64, fingers: u8, take: u64) -> fairgate_core::minutiae::MinutiaeRecord {
    use fairgate_core::minutiae::{FingerView, Minutia, MinutiaType, MinutiaeRecord};
    let views: Vec<FingerView> = gallery_person(person, fingers, take)
        .fingers
        .iter()
        .map(|f| FingerView {
            position: f.position,
            view: 0,
            impression: 0,
            quality: 60,
            minutiae: f
                .minutiae
                .iter()
                .map(|m| Minutia { kind: MinutiaType::Other, x: m.x, y: m.y, angle: m.angle, quality: 0 })
                .collect(),
            extended: vec![],
        })
        .collect();
    // A synthetic impression may put a point on the edge of the usual 500 × 550
    // image: the image is made to hold every point, as a record must.
    let reach = |axis: fn(&Minutia) -> u16| views.iter().flat_map(|v| &v.minutiae).map(axis).max().unwrap_or(0);
    MinutiaeRecord {
        certification: 0,
        device_type: 0,
        width: 500.max(reach(|m| m.x) + 1),
        height: 550.max(reach(|m| m.y) + 1),
        x_resolution: 197,
        y_resolution: 197,
        views,
    }
}

pub fn run_identification(args: &IdentificationArgs, dir: &std::path::Path) -> Result<IdentificationReport> {
    use fairgate_biometrics::index::Gallery;
    let store = Arc::new(SqliteStore::open(&dir.join("fairgate.db"))?);
    let registry = throwaway_registry(store, "bench.fairgate/identification")?;
    // Gallery people get store numbers far above any the registry hands out.
    const OFFSET: u64 = 1 << 40;
    let t = Instant::now();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = args.people.div_ceil(workers).max(1);
    let bar = indicatif::ProgressBar::new(args.people as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("generating the gallery [{bar:40}] {pos}/{len} people ({eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let people: Vec<(u64, fairgate_biometrics::index::Features)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..args.people)
            .step_by(per)
            .map(|start| {
                let bar = bar.clone();
                scope.spawn(move || {
                    (start..(start + per).min(args.people))
                        .map(|i| {
                            if i % 10_000 == 0 {
                                bar.inc(10_000);
                            }
                            (OFFSET + i as u64, gallery_person(i as u64, args.fingers, 1))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    bar.finish_and_clear();
    registry.bench_fill_gallery(people.iter().cloned())?;
    // The same people in a gallery of our own, for the search timings.
    let mut gallery = Gallery::new();
    for (no, f) in &people {
        gallery.insert(*no, f);
    }
    drop(people);
    let build_seconds = t.elapsed().as_secs_f64();

    let mut face_times = Vec::new();
    let mut finger_times = Vec::new();
    let (mut face_first, mut shortlisted, mut matched) = (0, 0, 0);
    let stride = (args.people / args.searches.max(1)).max(1);
    let probes: Vec<u64> = (0..args.searches).map(|k| (k * stride) as u64).collect();
    for &i in &probes {
        let probe = gallery_person(i, args.fingers, 2);
        let face = probe.face.unwrap_or([0.0; fairgate_biometrics::index::FACE_DIM]);
        let t = Instant::now();
        let hits = gallery.search_face(&face, fairgate_core::matching::FACE_THRESHOLD.score as f32, None, workers);
        face_times.push(t.elapsed().as_secs_f64());
        face_first += usize::from(hits.first().is_some_and(|h| h.subject_no == OFFSET + i));
        let t = Instant::now();
        let templates = probe.templates();
        let short =
            gallery.shortlist_fingers(&probe.fingers, fairgate_store::registry::identification::SHORTLIST, &|_| false);
        let scores: Vec<(u64, f64)> = short
            .iter()
            .filter_map(|h| gallery.compare_fingers(h.subject_no, &templates).map(|s| (h.subject_no, s)))
            .collect();
        finger_times.push(t.elapsed().as_secs_f64());
        shortlisted += usize::from(short.iter().any(|h| h.subject_no == OFFSET + i));
        matched += usize::from(
            scores.iter().any(|(n, s)| *n == OFFSET + i && *s >= fairgate_core::matching::FINGER_THRESHOLD.score),
        );
    }
    // The baseline: a plain scalar loop, one core.
    let baseline_runs = args.searches.clamp(1, 10);
    let t = Instant::now();
    let mut sink = 0;
    for &i in probes.iter().take(baseline_runs) {
        let face = gallery_person(i, 0, 2).face.unwrap_or([0.0; fairgate_biometrics::index::FACE_DIM]);
        sink += gallery.search_face_scalar(&face, fairgate_core::matching::FACE_THRESHOLD.score as f32);
    }
    let face_scalar_ms = t.elapsed().as_secs_f64() * 1e3 / baseline_runs as f64;
    std::hint::black_box(sink);
    drop(gallery);

    // Whole registrations through the registry, the gallery full.
    let engine = match &args.faces {
        Some(dir) => {
            Some(fairgate_biometrics::face::OnnxFaces::load(dir).map_err(|e| anyhow::anyhow!("--faces: {e}"))?)
        }
        None => None,
    };
    let face_capture = match &engine {
        Some(_) => {
            let dir = args.faces.as_deref().unwrap_or(std::path::Path::new("."));
            let photo = std::fs::read(dir.join("photos/astronaut.png"))?;
            let img = fairgate_biometrics::face::Rgb::decode(&photo).map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut rec = fairgate_biometrics::synthetic::face_record(1, (2026, 11, 30));
            let i = &mut rec.images[0];
            i.data = photo;
            i.data_type = fairgate_core::face::ImageDataType::Png;
            (i.width, i.height) = (img.width as u16, img.height as u16);
            i.landmarks.clear();
            Some(base64_of(&fairgate_core::face::encode(&rec).map_err(|e| anyhow::anyhow!("{e}"))?))
        }
        None => None,
    };
    if let Some(e) = engine {
        registry.set_face_matcher(Some(Arc::new(e)));
    }
    let actor = Actor::new("u-bench", Role::Officer, "bench");
    let now = Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut enrol_times = Vec::with_capacity(args.enrolments);
    for k in 0..args.enrolments {
        let ((id, _), _) = registry
            .write(now, |b| Ok((b.create_validated_subject(&actor, synthetic_person("ID", k as u64, today))?, ())))?;
        // The second impressions of a gallery person's fingers: their mate is there.
        let mate = (k * stride) as u64;
        let record = minutiae_record(mate, args.fingers, 2);
        let fingerprints = base64_of(&fairgate_core::minutiae::encode(&record).map_err(|e| anyhow::anyhow!("{e}"))?);
        let input: fairgate_core::registration::RegistrationInput = serde_json::from_value(serde_json::json!({
            "kind": "port-of-entry", "place": "JFK", "voluntary": true,
            "captures": {"fingerprints": [fingerprints], "face": face_capture},
        }))?;
        let t = Instant::now();
        registry.write(now, |b| b.record_registration(&actor, id, &input))?;
        enrol_times.push(t.elapsed().as_secs_f64());
    }
    let searches = probes.len();
    Ok(IdentificationReport {
        people: args.people,
        fingers_per_person: args.fingers,
        build_seconds,
        face_p50_ms: percentile_ms(&mut face_times.clone(), 0.5),
        face_p99_ms: percentile_ms(&mut face_times, 0.99),
        face_scalar_ms,
        face_mates_first: face_first,
        finger_p50_ms: percentile_ms(&mut finger_times.clone(), 0.5),
        finger_p99_ms: percentile_ms(&mut finger_times, 0.99),
        finger_mates_shortlisted: shortlisted,
        finger_mates_matched: matched,
        searches,
        enrol_p50_ms: percentile_ms(&mut enrol_times.clone(), 0.5),
        enrol_p99_ms: percentile_ms(&mut enrol_times, 0.99),
        enrolments: args.enrolments,
        enrol_with_face: face_capture.is_some(),
    })
}

pub fn identification(args: &IdentificationArgs) -> Result<()> {
    let r = in_scratch_dir(&None, "identification", &["fairgate.db"], |d| run_identification(args, d))?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "gallery of {} people ({} fingers each, a face each) built in {:.0} s\n\
             face 1:N (exact): p50 {:.1} ms, p99 {:.1} ms; plain scalar loop {:.1} ms; mate first in {}/{}\n\
             fingers 1:N (signature shortlist of 20, then MCC): p50 {:.1} ms, p99 {:.1} ms; mate shortlisted {}/{}, matched {}/{}\n\
             registration with 1:N ({}): p50 {:.1} ms, p99 {:.1} ms over {}",
            r.people,
            r.fingers_per_person,
            r.build_seconds,
            r.face_p50_ms,
            r.face_p99_ms,
            r.face_scalar_ms,
            r.face_mates_first,
            r.searches,
            r.finger_p50_ms,
            r.finger_p99_ms,
            r.finger_mates_shortlisted,
            r.searches,
            r.finger_mates_matched,
            r.searches,
            if r.enrol_with_face { "fingerprints and a photograph" } else { "fingerprints" },
            r.enrol_p50_ms,
            r.enrol_p99_ms,
            r.enrolments
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// pages: the web desks' budgets

#[derive(clap::Args, Debug, Clone)]
pub struct PagesArgs {
    /// Demo travellers to seed (the demo's scale: `serve --demo` seeds 10,000).
    #[arg(long, default_value_t = 10_000)]
    pub travellers: usize,
    /// Requests per page.
    #[arg(long, default_value_t = 20)]
    pub requests: usize,
    /// Working directory (default: a fresh one under the system's temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// One page's figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PageFigures {
    pub page: String,
    pub role: String,
    pub p50_ms: f64,
    pub max_ms: f64,
    /// The HTML's size, in bytes.
    pub html_bytes: usize,
    /// What a first visit transfers beyond the design system's versioned (cached)
    /// files: the HTML, Fairgate's stylesheet and the desk script.
    pub transfer_bytes: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PagesReport {
    pub travellers: usize,
    pub requests: usize,
    pub pages: Vec<PageFigures>,
    /// `GET /healthz` over the same connection: the HTTP floor (baseline).
    pub healthz_p50_ms: f64,
    pub worst_p50_ms: f64,
    pub worst_max_ms: f64,
    pub largest_transfer_bytes: usize,
    /// Every page's p50 under 50 ms and transfer under 150 KB.
    pub within_budgets: bool,
}

pub fn pages(args: &PagesArgs) -> Result<()> {
    let r = in_scratch_dir(&args.dir, "pages", &["fairgate.db"], |d| run_pages(args, d))?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    println!("{:<58} {:>10} {:>8} {:>8} {:>11}", "page", "role", "p50 ms", "max ms", "transfer KB");
    for p in &r.pages {
        println!(
            "{:<58} {:>10} {:>8.2} {:>8.2} {:>11.1}",
            p.page,
            p.role,
            p.p50_ms,
            p.max_ms,
            p.transfer_bytes as f64 / 1024.0
        );
    }
    println!("GET /healthz (baseline, the HTTP floor): p50 {:.2} ms", r.healthz_p50_ms);
    println!(
        "worst page: p50 {:.2} ms, max {:.2} ms (budget 50 ms); largest transfer {:.1} KB (budget 150 KB): {}",
        r.worst_p50_ms,
        r.worst_max_ms,
        r.largest_transfer_bytes as f64 / 1024.0,
        if r.within_budgets { "within budgets" } else { "OVER BUDGET" }
    );
    Ok(())
}

pub fn run_pages(args: &PagesArgs, dir: &std::path::Path) -> Result<PagesReport> {
    use fairgate_core::access::{Actor, Role};
    let store = Arc::new(SqliteStore::open(&dir.join("fairgate.db"))?);
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let registry = Arc::new(Registry::open(
        store.clone(),
        SecretKey::generate(&mut rand::rngs::OsRng),
        &SecretKey::generate(&mut rand::rngs::OsRng),
        "bench/pages",
        seed,
    )?);
    eprintln!("bench pages: seeding {} demo travellers", args.travellers);
    fairgate::demo::seed(&registry, args.travellers)?;
    const PASSWORD: &str = "a long enough password";
    let operator = Actor::system("bench");
    for (name, role) in [
        ("officer", Role::Officer),
        ("supervisor", Role::Supervisor),
        ("adjudicator", Role::Adjudicator),
        ("auditor", Role::Auditor),
        ("approver", Role::Approver),
        ("admin", Role::Admin),
    ] {
        let mut secret = [0u8; 64];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        registry.add_user(jiff::Timestamp::now(), &operator, name, role, "Bench Agency", Some(PASSWORD), secret)?;
    }
    let subject = fairgate_store::KeyStore::live_subjects(&*store)?
        .first()
        .map(|(_, id)| fairgate_core::ids::SubjectId::from_bytes(*id))
        .context("the demo seeded nobody")?;
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let s = subject;
    let pages: Vec<(&str, String)> = vec![
        ("", "/".into()),
        ("", "/login".into()),
        ("", "/portal".into()),
        ("", "/transparency".into()),
        ("", "/public/calculator".into()),
        ("", "/public/programs".into()),
        ("", "/public/policy".into()),
        ("", "/public/log".into()),
        ("", "/public/expungements".into()),
        ("officer", "/desk".into()),
        ("officer", format!("/desk/subjects/{s}?purpose=border-check")),
        ("officer", format!("/desk/subjects/{s}/register")),
        ("officer", format!("/desk/subjects/{s}/crossing")),
        ("officer", format!("/desk/subjects/{s}/designate")),
        ("officer", format!("/desk/subjects/{s}/appointment")),
        ("officer", "/desk/office?office=NYC-FO&purpose=registration".into()),
        ("supervisor", "/desk/identification?purpose=registration".into()),
        ("supervisor", "/desk/queues/designations?purpose=compliance-review".into()),
        ("supervisor", "/desk/queues/excuses?purpose=compliance-review".into()),
        ("supervisor", "/desk/queues/corrections?purpose=compliance-review".into()),
        ("adjudicator", "/desk/queues/determinations?purpose=benefit-adjudication".into()),
        ("approver", "/desk/law-enforcement".into()),
        ("auditor", "/desk/programs".into()),
        ("auditor", "/desk/programs/visitor-entry-exit".into()),
        ("auditor", "/desk/designations".into()),
        ("auditor", format!("/desk/access-log?staff=&purpose=&from={today}&to={today}")),
        ("admin", "/desk/accounts".into()),
        ("admin", "/desk/places".into()),
        ("admin", "/desk/keys".into()),
    ];
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(fairgate_server::serve(
            listener,
            fairgate_server::AppState::new(registry.clone()),
            async move {
                let _ = rx.await;
            },
        ));
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let get_text = |url: String, cookie: String| {
            let client = client.clone();
            async move {
                let r = client.get(url).header("cookie", cookie).send().await?;
                let status = r.status();
                let cookies: Vec<String> = r
                    .headers()
                    .get_all("set-cookie")
                    .iter()
                    .filter_map(|v| v.to_str().ok()?.split(';').next().map(String::from))
                    .collect();
                anyhow::Ok((status, cookies, r.text().await?))
            }
        };
        // Fairgate's own files, fetched once: part of what a first visit transfers.
        let own = get_text(format!("{base}/static/fairgate.css"), String::new()).await?.2.len()
            + get_text(format!("{base}/static/desk.js"), String::new()).await?.2.len();
        let mut sessions = std::collections::HashMap::new();
        for role in ["officer", "supervisor", "adjudicator", "auditor", "approver", "admin"] {
            let (_, cookies, html) = get_text(format!("{base}/login"), String::new()).await?;
            let csrf_pair = cookies.into_iter().find(|c| c.starts_with("fairgate_csrf=")).context("no csrf cookie")?;
            let token = html
                .split("name=\"csrf\" value=\"")
                .nth(1)
                .and_then(|t| t.split('"').next())
                .context("no csrf field")?
                .to_string();
            let r = client
                .post(format!("{base}/login"))
                .header("cookie", &csrf_pair)
                .form(&[("name", role), ("password", PASSWORD), ("csrf", token.as_str())])
                .send()
                .await?;
            let session = r
                .headers()
                .get("set-cookie")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .context("sign-in failed")?
                .to_string();
            sessions.insert(role, format!("{session}; {csrf_pair}"));
        }
        let percentile = |mut v: Vec<f64>, p: f64| {
            v.sort_by(f64::total_cmp);
            v[((v.len() as f64 - 1.0) * p).round() as usize]
        };
        let mut out = Vec::new();
        for (role, path) in &pages {
            let cookie = sessions.get(role).cloned().unwrap_or_default();
            let mut times = Vec::with_capacity(args.requests);
            let mut bytes = 0;
            for _ in 0..args.requests {
                let t = Instant::now();
                let (status, _, html) = get_text(format!("{base}{path}"), cookie.clone()).await?;
                times.push(t.elapsed().as_secs_f64() * 1e3);
                anyhow::ensure!(status.is_success(), "{path} as {role}: {status}");
                bytes = html.len();
            }
            out.push(PageFigures {
                page: path.clone(),
                role: if role.is_empty() { "anyone".into() } else { role.to_string() },
                p50_ms: percentile(times.clone(), 0.5),
                max_ms: percentile(times, 1.0),
                html_bytes: bytes,
                transfer_bytes: bytes + own,
            });
        }
        let mut floor = Vec::new();
        for _ in 0..args.requests.max(20) {
            let t = Instant::now();
            get_text(format!("{base}/healthz"), String::new()).await?;
            floor.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let _ = stop.send(());
        server.await??;
        let worst_p50_ms = out.iter().map(|p| p.p50_ms).fold(0.0, f64::max);
        let worst_max_ms = out.iter().map(|p| p.max_ms).fold(0.0, f64::max);
        let largest_transfer_bytes = out.iter().map(|p| p.transfer_bytes).max().unwrap_or(0);
        Ok(PagesReport {
            travellers: args.travellers,
            requests: args.requests,
            within_budgets: worst_p50_ms < 50.0 && largest_transfer_bytes < 150 * 1024,
            pages: out,
            healthz_p50_ms: percentile(floor, 0.5),
            worst_p50_ms,
            worst_max_ms,
            largest_transfer_bytes,
        })
    })
}

#[cfg(test)]
mod tests {
    /// Every synthetic person's fingers make a record that encodes: an impression's
    /// point on the edge of a fixed 500 × 550 image once made `bench http` refuse to
    /// start its registrations.
    #[test]
    fn every_synthetic_minutiae_record_encodes() {
        for person in 0..5_000 {
            for take in [1, 2] {
                let record = super::minutiae_record(person, 2, take);
                if let Err(e) = fairgate_core::minutiae::encode(&record) {
                    panic!("person {person}, impression {take}: {e}");
                }
            }
        }
    }
}
