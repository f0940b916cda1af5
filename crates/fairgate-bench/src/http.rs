//! `fairgate-bench http`: an open-loop load test of a real `fairgate serve` over
//! loopback (issue 21). Requests leave on a fixed schedule whatever the server
//! does, and each latency is measured from the request's *intended* send time, so
//! a server that stalls is charged for every request it held up (no coordinated
//! omission). Each mix runs at its rate with `GET /healthz` at the same rate in the
//! same run, the floor of what HTTP on this machine costs.
//!
//! The database is prepared once in `--dir` (a million synthetic people with a
//! passport each, an officer's API token) and reused while its manifest matches.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fairgate_core::access::{Actor, Role};
use fairgate_core::ids::SubjectId;
use fairgate_store::sqlite::SqliteStore;
use fairgate_store::{LedgerStore, Registry};
use jiff::{Timestamp, ToSpan};
use rand::RngCore;

/// What one run sends.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mix {
    /// `GET /healthz` alone (also sent beside every other mix as its floor).
    Healthz,
    /// `POST /subjects/{id}/crossings`: an entry for a different person each time.
    Crossings,
    /// `GET /subjects/{id}` with a purpose: the timeline read, logged before it is answered.
    Reads,
    /// `POST /subjects/lookup` by passport number, logged when it matches.
    Lookups,
    /// `POST /subjects/{id}/registrations` with captures: a face record (ISO/IEC
    /// 19794-5) and two fingers' minutiae (ISO/IEC 19794-2), different fingers for a
    /// different person each time, so each enrolment's 1:N search finds no mate.
    Registrations,
}

impl Mix {
    /// The issue's target rate for the mix on this 2-core machine.
    fn target_rate(self) -> f64 {
        match self {
            Mix::Crossings => 2_000.0,
            Mix::Reads | Mix::Healthz => 5_000.0,
            Mix::Lookups => 2_000.0,
            // No target in the issue (a port enrols far fewer people than it
            // crosses). Above what this machine enrols today (about 12 a second:
            // BENCHMARKS.md), so a run shows the ceiling, without minutes of backlog.
            Mix::Registrations => 20.0,
        }
    }

    /// The issue's p99 target, in milliseconds.
    fn target_p99_ms(self) -> Option<f64> {
        match self {
            Mix::Crossings | Mix::Reads => Some(10.0),
            Mix::Lookups => Some(5.0),
            Mix::Healthz | Mix::Registrations => None,
        }
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct HttpArgs {
    /// People in the prepared database (each with one passport).
    #[arg(long, default_value_t = 1_000_000)]
    pub subjects: u64,
    /// The mixes to run, one after another.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "crossings,reads,lookups,registrations")]
    pub mix: Vec<Mix>,
    /// Requests per second for every mix (default: each mix's target rate).
    #[arg(long)]
    pub rate: Option<f64>,
    /// The rate of one mix, as MIX=RATE (repeatable; over --rate for that mix),
    /// e.g. --rate-of registrations=10.
    #[arg(long, value_name = "MIX=RATE", value_parser = parse_rate_of)]
    pub rate_of: Vec<(Mix, f64)>,
    /// Run the mixes at once, in one measured run, instead of one after another:
    /// e.g. `--mix crossings,registrations --together --rate 200 --rate-of
    /// registrations=10` measures what enrolments cost the other desks. No
    /// `GET /healthz` floor is run in this mode.
    #[arg(long)]
    pub together: bool,
    /// Seconds each mix is measured for (after one second of warm-up at the same rate).
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Requests allowed in flight at once; past it a request counts as an error
    /// (dropped) instead of queuing in the client.
    #[arg(long, default_value_t = 2_000)]
    pub max_in_flight: usize,
    /// Where the prepared database lives; it is reused while it matches
    /// --subjects (default: a directory under the system temp directory, kept).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The `fairgate` binary to serve with (default: the one beside this binary).
    #[arg(long)]
    pub fairgate: Option<PathBuf>,
    /// The server's log filter (RUST_LOG); its default, `info`, logs one line per
    /// request, as an operator runs it.
    #[arg(long, default_value = "info")]
    pub log: String,
    /// Skip the GET /healthz floor beside each mix.
    #[arg(long)]
    pub no_floor: bool,
    /// Soak instead: run crossings, logged reads and look-ups together, at half
    /// their target rates (or --rate each), for this many minutes, and print each
    /// minute's p50, p99 and errors per mix with the server's resident memory.
    #[arg(long, value_name = "MINUTES")]
    pub soak: Option<u64>,
    /// Write every measured request to this CSV file (mix, intended send time in
    /// ms from the run's start, latency in ms; -1 for an error): for finding
    /// what a tail lines up with.
    #[arg(long, value_name = "FILE")]
    pub latencies: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// `MIX=RATE` for --rate-of.
fn parse_rate_of(s: &str) -> Result<(Mix, f64), String> {
    use clap::ValueEnum;
    let (m, r) = s.split_once('=').ok_or_else(|| format!("`{s}`: write MIX=RATE, e.g. registrations=10"))?;
    let mix = Mix::from_str(m.trim(), true)
        .map_err(|_| format!("`{m}` is not a mix: one of healthz, crossings, reads, lookups, registrations"))?;
    let rate: f64 = r.trim().parse().map_err(|_| format!("`{r}` is not a rate: a number of requests a second"))?;
    if !(rate > 0.0 && rate <= 1e6) {
        return Err(format!("{rate}: a rate is between 0 and 1,000,000 requests a second"));
    }
    Ok((mix, rate))
}

impl HttpArgs {
    /// The rate `mix` runs at: its --rate-of, else --rate, else its target.
    fn rate_for(&self, mix: Mix) -> f64 {
        self.rate_of.iter().rev().find(|(m, _)| *m == mix).map(|(_, r)| *r).or(self.rate).unwrap_or(mix.target_rate())
    }
}

/// One measured run at one rate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunFigures {
    pub mix: Mix,
    pub rate: f64,
    pub sent: u64,
    pub achieved_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub errors: u64,
    /// The first error seen, for the report.
    pub first_error: Option<String>,
    pub target_p99_ms: Option<f64>,
    pub met: Option<bool>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct HttpReport {
    pub subjects: u64,
    pub seconds: f64,
    pub runs: Vec<RunFigures>,
    /// The server's resident memory at the end, in MiB.
    pub server_rss_mib: f64,
}

#[derive(serde::Serialize, serde::Deserialize, PartialEq)]
struct Manifest {
    subjects: u64,
    token: String,
    origin: String,
}

const PREFIX: &str = "H";

/// The passport number of synthetic person `i` (as `synthetic_person` makes it).
fn passport(i: u64) -> String {
    format!("{PREFIX}{i:09}")
}

/// Make (or reuse) the prepared database in `dir`: `subjects` people and an officer.
fn prepare(dir: &Path, subjects: u64) -> Result<(Manifest, Vec<SubjectId>)> {
    let manifest_path = dir.join("manifest.json");
    let ids_path = dir.join("subjects.bin");
    if let (Ok(m), Ok(ids)) = (std::fs::read(&manifest_path), std::fs::read(&ids_path)) {
        if let Ok(m) = serde_json::from_slice::<Manifest>(&m) {
            if m.subjects == subjects && ids.len() as u64 == subjects * 16 {
                eprintln!("bench http: reusing the prepared database in {}", dir.display());
                let ids =
                    ids.chunks_exact(16).map(|c| SubjectId::from_bytes(c.try_into().unwrap_or([0; 16]))).collect();
                return Ok((m, ids));
            }
        }
    }
    for sub in ["data", "keys"] {
        let _ = std::fs::remove_dir_all(dir.join(sub));
    }
    let _ = std::fs::remove_file(&manifest_path);
    std::fs::create_dir_all(dir)?;
    let data =
        fairgate_store::datadir::DataDir::open_or_create(&dir.join("data"), &dir.join("keys"), &mut rand::rngs::OsRng)?;
    let store = Arc::new(SqliteStore::open(&data.db_path())?);
    store.put_places(&fairgate_core::place::default_places())?;
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let origin = "bench.localhost/log".to_string();
    let registry = Registry::open(store.clone(), data.master_keys(), &data.signing_seed, &origin, seed)?
        .with_key_source(data.key_source());
    let now = Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut secret = [0u8; 64];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let account = registry.add_user_with(
        now,
        &Actor::system("bench"),
        "bench-officer",
        Role::Officer,
        "Bench Agency",
        None,
        secret,
        30,
    )?;
    let officer = Actor::new(&account.account.user_id, Role::Officer, "Bench Agency");
    let bar = fairgate::progress_bar(subjects, "people");
    let mut ids = Vec::with_capacity(subjects as usize);
    let mut i = 0u64;
    registry.write_stream(now, |b| {
        let end = (i + 5_000).min(subjects);
        for n in i..end {
            let mut person = crate::synthetic_person(PREFIX, n, today);
            person.document.number = passport(n);
            ids.push(b.create_validated_subject(&officer, person)?);
        }
        bar.set_position(end);
        i = end;
        Ok(i < subjects)
    })?;
    bar.finish_and_clear();
    registry.sign_checkpoint(now)?;
    registry.release_signing_lease()?;
    drop(registry);
    let bytes: Vec<u8> = ids.iter().flat_map(|id| *id.as_bytes()).collect();
    std::fs::write(&ids_path, bytes)?;
    let manifest = Manifest { subjects, token: account.token, origin };
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest)?)?;
    Ok((manifest, ids))
}

/// A served `fairgate` child, killed when dropped, or when the benchmark is stopped
/// with SIGTERM or Ctrl-C (see [`stop_with_signals`]): the child is shared with the
/// watcher that does it.
struct Server {
    child: Arc<std::sync::Mutex<Option<std::process::Child>>>,
    pid: u32,
}

impl Server {
    fn stop(child: &std::sync::Mutex<Option<std::process::Child>>) {
        let taken = child.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(mut c) = taken {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        Server::stop(&self.child);
    }
}

/// Stop the benchmark on SIGTERM or Ctrl-C, and the server it started with it.
/// Without this, a benchmark stopped by a signal left its `fairgate serve` running
/// (holding the database and a core). Exits 143 (SIGTERM) or 130 (Ctrl-C).
fn stop_with_signals(runtime: &tokio::runtime::Runtime, child: Arc<std::sync::Mutex<Option<std::process::Child>>>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (term, int) = {
        let _entered = runtime.enter();
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    };
    let (Ok(mut term), Ok(mut int)) = (term, int) else {
        eprintln!(
            "bench http: could not watch for SIGTERM and Ctrl-C; stopping the benchmark may leave its server running"
        );
        return;
    };
    runtime.spawn(async move {
        let code = tokio::select! {
            _ = term.recv() => 143,
            _ = int.recv() => 130,
        };
        Server::stop(&child);
        eprintln!("bench http: stopped by a signal; the server it started is stopped too");
        std::process::exit(code);
    });
}

fn fairgate_binary(args: &HttpArgs) -> Result<PathBuf> {
    if let Some(p) = &args.fairgate {
        return Ok(p.clone());
    }
    let me = std::env::current_exe()?;
    let beside = me.with_file_name("fairgate");
    if beside.exists() {
        return Ok(beside);
    }
    bail!(
        "no `fairgate` binary beside {}: build it (cargo build --release -p fairgate) or pass --fairgate PATH",
        me.display()
    )
}

fn start_server(
    runtime: &tokio::runtime::Runtime,
    binary: &Path,
    dir: &Path,
    origin: &str,
    log_filter: &str,
) -> Result<(Server, String)> {
    use std::io::{BufRead, BufReader};
    let log = dir.join("server.log");
    let mut child = std::process::Command::new(binary)
        .arg("--data")
        .arg(dir.join("data"))
        .arg("--keys")
        .arg(dir.join("keys"))
        .args(["serve", "--listen", "127.0.0.1:0", "--origin", origin, "--rotate-days", "0"])
        // The server's own default filter (info), as an operator runs it; its log
        // goes to a file beside the database.
        .env("RUST_LOG", log_filter)
        .env("FAIRGATE_FACES", dir.join("no-faces"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log)?)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let pid = child.id();
    let child = Arc::new(std::sync::Mutex::new(Some(child)));
    stop_with_signals(runtime, child.clone());
    let server = Server { child, pid };
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().context("the server exited before it served")??;
        if let Some(rest) = line.strip_prefix("Fairgate is serving on ") {
            break rest.split_whitespace().next().unwrap_or_default().trim_end_matches('/').to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    // The daily compliance run and the designation statistics start with the
    // server and read everyone: measure after them, not against them.
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let compliance = text.contains("compliance and retention run") || text.contains("compliance run failed");
        let stats = text.contains("designation statistics");
        if compliance && stats {
            eprintln!(
                "bench http: the start-up work (compliance run, statistics) took {:.1} s",
                started.elapsed().as_secs_f64()
            );
            break;
        }
        if started.elapsed() > Duration::from_secs(900) {
            bail!("the server's start-up work did not finish within 15 minutes (see {})", log.display());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok((server, url))
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Everything one request needs to be built.
struct Target {
    base: String,
    token: String,
    ids: Vec<SubjectId>,
    /// The next person a crossing goes to (each gets one entry, so crossings never collide).
    next_crossing: AtomicU64,
    crossing_at: String,
    /// The next person a registration goes to, and the capture bodies, built
    /// before the run so that the client's time goes to sending.
    next_registration: AtomicU64,
    captures: Vec<serde_json::Value>,
}

fn request(client: &reqwest::Client, t: &Target, mix: Mix, n: u64) -> reqwest::RequestBuilder {
    let auth = format!("Bearer {}", t.token);
    let pick = |n: u64| {
        // Spread over the whole population (a multiplicative hash of n).
        let i = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) % t.ids.len() as u64;
        (i, t.ids[i as usize])
    };
    match mix {
        Mix::Healthz => client.get(format!("{}/healthz", t.base)),
        Mix::Reads => client
            .get(format!("{}/subjects/{}", t.base, pick(n).1))
            .header("authorization", auth)
            .header("fairgate-purpose", "border-check"),
        Mix::Lookups => client
            .post(format!("{}/subjects/lookup", t.base))
            .header("authorization", auth)
            .header("fairgate-purpose", "border-check")
            .json(&serde_json::json!({ "document_number": passport(pick(n).0) })),
        Mix::Crossings => {
            let i = t.next_crossing.fetch_add(1, Ordering::Relaxed) % t.ids.len() as u64;
            client
                .post(format!("{}/subjects/{}/crossings", t.base, t.ids[i as usize]))
                .header("authorization", auth)
                .json(&serde_json::json!({
                    "direction": "entry",
                    "port": "JFK",
                    "at": t.crossing_at,
                    "admission_class": "B-2",
                    "admitted_until": (Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date() + 90.days()).to_string(),
                }))
        }
        Mix::Registrations => {
            let k = t.next_registration.fetch_add(1, Ordering::Relaxed);
            let id = t.ids[(k % t.ids.len() as u64) as usize];
            client.post(format!("{}/subjects/{id}/registrations", t.base)).header("authorization", auth).json(
                &serde_json::json!({
                    "kind": "port-of-entry",
                    "place": "JFK",
                    "at": t.crossing_at,
                    "voluntary": true,
                    "captures": t.captures.get((n % t.captures.len().max(1) as u64) as usize),
                }),
            )
        }
    }
}

/// Whether a success answers what the mix asked: a registration with captures is
/// answered with its 1:N search (`identification`); one answered without it was
/// recorded without captures, which is not what this mix measures.
fn answered_as_asked(mix: Mix, body: &[u8]) -> bool {
    mix != Mix::Registrations || body.windows(br#""identification""#.len()).any(|w| w == br#""identification""#)
}

/// `count` capture bodies for registrations: one face record for all (faces are
/// parsed and stored; no face model runs in the benchmark's server) and each body a
/// different synthetic person's fingers (two per record), from `first` on.
fn capture_bodies(first: u64, count: u64) -> Result<Vec<serde_json::Value>> {
    let today = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let face =
        fairgate_biometrics::synthetic::face_record(1, (today.year() as u16, today.month() as u8, today.day() as u8));
    let face = crate::base64_of(&fairgate_core::face::encode(&face).map_err(|e| anyhow::anyhow!("face record: {e}"))?);
    (first..first + count)
        .map(|p| {
            let record = crate::minutiae_record(p, 2, 1);
            let fingers =
                fairgate_core::minutiae::encode(&record).map_err(|e| anyhow::anyhow!("minutiae record: {e}"))?;
            Ok(serde_json::json!({ "face": face, "fingerprints": [crate::base64_of(&fingers)] }))
        })
        .collect()
}

/// Send `mix` at `rate` per second for `seconds` (after a second of warm-up) and
/// measure each latency from its intended send time.
async fn open_loop(
    client: &reqwest::Client,
    target: &Arc<Target>,
    mix: Mix,
    rate: f64,
    seconds: f64,
    max_in_flight: usize,
    trace: &mut Vec<(Mix, f64, f64)>,
) -> RunFigures {
    let warmup = rate.ceil() as u64;
    let total = warmup + (rate * seconds).ceil() as u64;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Result<f64, String>)>();
    let in_flight = Arc::new(AtomicU64::new(0));
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let mut dropped = 0u64;
    for n in 0..total {
        let intended = start + interval.mul_f64(n as f64);
        tokio::time::sleep_until(intended).await;
        if in_flight.load(Ordering::Relaxed) as usize >= max_in_flight {
            if n >= warmup {
                dropped += 1;
            }
            continue;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let rb = request(client, target, mix, n);
        let (tx, in_flight) = (tx.clone(), in_flight.clone());
        tokio::spawn(async move {
            let outcome = match rb.send().await {
                Ok(r) => {
                    let status = r.status();
                    let body = r.bytes().await;
                    match (status.is_success(), body) {
                        (true, Ok(b)) if !answered_as_asked(mix, &b) => {
                            Err(format!("{status} without an identification: the captures were not searched"))
                        }
                        (true, Ok(_)) => Ok(intended.elapsed().as_secs_f64() * 1e3),
                        (_, Ok(b)) => Err(format!("{status}: {}", String::from_utf8_lossy(&b[..b.len().min(300)]))),
                        (_, Err(e)) => Err(format!("{status}: {e}")),
                    }
                }
                Err(e) => Err(e.to_string()),
            };
            in_flight.fetch_sub(1, Ordering::Relaxed);
            let _ = tx.send((n, outcome));
        });
    }
    drop(tx);
    let end_of_sending = tokio::time::Instant::now();
    let mut latencies = Vec::with_capacity(total as usize);
    let mut errors = dropped;
    let mut first_error = (dropped > 0).then(|| format!("{dropped} dropped: more than {max_in_flight} in flight"));
    let mut last_done = end_of_sending;
    while let Some((n, outcome)) = rx.recv().await {
        last_done = tokio::time::Instant::now();
        if n < warmup {
            continue;
        }
        let sent_ms = interval.mul_f64((n - warmup) as f64).as_secs_f64() * 1e3;
        trace.push((mix, sent_ms, outcome.as_ref().map(|ms| *ms).unwrap_or(-1.0)));
        match outcome {
            Ok(ms) => latencies.push(ms),
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    let measured_from = start + interval.mul_f64(warmup as f64);
    let elapsed = last_done.max(end_of_sending).duration_since(measured_from).as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let p = |q: f64| crate::percentile(&latencies, q);
    let p99 = p(0.99);
    let target_p99_ms = mix.target_p99_ms();
    RunFigures {
        mix,
        rate,
        sent: total - warmup,
        achieved_per_sec: latencies.len() as f64 / elapsed.max(1e-9),
        p50_ms: p(0.5),
        p99_ms: p99,
        p999_ms: p(0.999),
        max_ms: latencies.last().copied().unwrap_or(0.0),
        errors,
        first_error,
        target_p99_ms,
        met: target_p99_ms.map(|t| p99 < t && errors == 0 && latencies.len() as f64 >= 0.99 * (total - warmup) as f64),
    }
}

/// The soak: every mix at once, minute after minute; each minute's figures are
/// printed as they come (and returned), with the server's RSS.
async fn soak(target: &Arc<Target>, args: &HttpArgs, minutes: u64, pid: u32) -> Result<Vec<RunFigures>> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(4096).build()?;
    let rate = |m: Mix| args.rate.unwrap_or(m.target_rate() / 2.0);
    let mut all = Vec::new();
    println!("minute  mix        rate/s  achieved/s  p50 ms  p99 ms  max ms  errors  server RSS MiB");
    for minute in 1..=minutes {
        let (mut t1, mut t2, mut t3) = (Vec::new(), Vec::new(), Vec::new());
        let (a, b, c) = tokio::join!(
            open_loop(&client, target, Mix::Crossings, rate(Mix::Crossings), 59.0, args.max_in_flight, &mut t1),
            open_loop(&client, target, Mix::Reads, rate(Mix::Reads), 59.0, args.max_in_flight, &mut t2),
            open_loop(&client, target, Mix::Lookups, rate(Mix::Lookups), 59.0, args.max_in_flight, &mut t3),
        );
        let rss = rss_mib(pid);
        for f in [a, b, c] {
            println!(
                "{minute:>6}  {:<10} {:>6.0} {:>11.0} {:>7.2} {:>7.2} {:>7.1} {:>7} {:>15.0}",
                format!("{:?}", f.mix).to_lowercase(),
                f.rate,
                f.achieved_per_sec,
                f.p50_ms,
                f.p99_ms,
                f.max_ms,
                f.errors,
                rss
            );
            all.push(f);
        }
    }
    Ok(all)
}

pub fn run_http(args: &HttpArgs, dir: &Path) -> Result<HttpReport> {
    if args.subjects == 0 {
        bail!("--subjects must be at least 1");
    }
    if let Some(r) = args.rate {
        if !(r > 0.0 && r <= 1e6) {
            bail!("--rate must be between 0 and 1,000,000 requests a second, e.g. --rate 2000");
        }
    }
    let binary = fairgate_binary(args)?;
    let (manifest, ids) = prepare(dir, args.subjects)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let (server, base) = start_server(&runtime, &binary, dir, &manifest.origin, &args.log)?;
    eprintln!("bench http: serving on {base}");
    let first_crossing = rand::rngs::OsRng.next_u64() % args.subjects;
    let target = Arc::new(Target {
        base,
        token: manifest.token.clone(),
        ids,
        // Crossings go to people in order from a random start, so repeated runs on
        // one database still give each person a single entry for a long while.
        next_crossing: AtomicU64::new(first_crossing),
        crossing_at: (Timestamp::now() - jiff::SignedDuration::from_hours(1)).to_string(),
        // Registrations start half the population away from the crossings.
        next_registration: AtomicU64::new(first_crossing + args.subjects / 2),
        captures: if args.soak.is_none() && args.mix.contains(&Mix::Registrations) {
            let n = (args.rate_for(Mix::Registrations) * (args.seconds + 1.0)).ceil() as u64;
            eprintln!("bench http: building {n} capture bodies");
            // Fingers from a random person on: runs on one database enrol new fingers.
            capture_bodies(rand::rngs::OsRng.next_u64() >> 24, n)?
        } else {
            Vec::new()
        },
    });
    if let Some(minutes) = args.soak {
        let pid = server.pid;
        let minutes = runtime.block_on(soak(&target, args, minutes, pid))?;
        let server_rss_mib = rss_mib(pid);
        drop(server);
        return Ok(HttpReport { subjects: args.subjects, seconds: args.seconds, runs: minutes, server_rss_mib });
    }
    let runs = runtime.block_on(async {
        let client = reqwest::Client::builder().pool_max_idle_per_host(4096).build()?;
        // Open a pool of connections before measuring.
        for _ in 0..64 {
            client.get(format!("{}/healthz", target.base)).send().await?.bytes().await?;
        }
        let mut runs = Vec::new();
        let mut trace = Vec::new();
        if args.together {
            let mut handles = Vec::new();
            for &mix in &args.mix {
                let rate = args.rate_for(mix);
                eprintln!("bench http: {mix:?} at {rate}/s for {} s, with the others", args.seconds);
                let (client, target, seconds, most) =
                    (client.clone(), target.clone(), args.seconds, args.max_in_flight);
                handles.push(tokio::spawn(async move {
                    let mut trace = Vec::new();
                    let f = open_loop(&client, &target, mix, rate, seconds, most, &mut trace).await;
                    (f, trace)
                }));
            }
            for h in handles {
                let (f, t) = h.await?;
                runs.push(f);
                trace.extend(t);
            }
        }
        for &mix in args.mix.iter().filter(|_| !args.together) {
            let rate = args.rate_for(mix);
            if mix != Mix::Healthz && !args.no_floor {
                eprintln!("bench http: GET /healthz at {rate}/s (the floor)");
                runs.push(
                    open_loop(&client, &target, Mix::Healthz, rate, args.seconds, args.max_in_flight, &mut trace).await,
                );
            }
            eprintln!("bench http: {mix:?} at {rate}/s for {} s", args.seconds);
            runs.push(open_loop(&client, &target, mix, rate, args.seconds, args.max_in_flight, &mut trace).await);
        }
        if let Some(path) = &args.latencies {
            use std::io::Write;
            let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
            writeln!(f, "mix,sent_ms,latency_ms")?;
            for (mix, sent, lat) in &trace {
                writeln!(f, "{mix:?},{sent:.3},{lat:.3}")?;
            }
        }
        anyhow::Ok(runs)
    })?;
    let server_rss_mib = rss_mib(server.pid);
    drop(server);
    Ok(HttpReport { subjects: args.subjects, seconds: args.seconds, runs, server_rss_mib })
}

pub fn http(args: &HttpArgs) -> Result<()> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("fairgate-bench-http-{}", args.subjects)),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("--dir {}", dir.display()))?;
    let r = run_http(args, &dir)?;
    if args.soak.is_some() {
        println!("server RSS at the end: {:.0} MiB", r.server_rss_mib);
        return Ok(());
    }
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    println!(
        "{} people; each mix measured for {} s after 1 s of warm-up; latency from the intended send time",
        r.subjects, r.seconds
    );
    println!(
        "{:<13} {:>8} {:>10} {:>8} {:>8} {:>9} {:>8} {:>7}  target",
        "mix", "rate/s", "achieved/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors"
    );
    for f in &r.runs {
        println!(
            "{:<13} {:>8.0} {:>10.0} {:>8.2} {:>8.2} {:>9.2} {:>8.1} {:>7}  {}",
            format!("{:?}", f.mix).to_lowercase(),
            f.rate,
            f.achieved_per_sec,
            f.p50_ms,
            f.p99_ms,
            f.p999_ms,
            f.max_ms,
            f.errors,
            match (f.target_p99_ms, f.met) {
                (Some(t), Some(true)) => format!("p99 < {t} ms: met"),
                (Some(t), _) => format!("p99 < {t} ms: NOT MET"),
                _ if f.mix == Mix::Healthz => "(floor)".into(),
                _ => "(no target)".into(),
            }
        );
        if let Some(e) = &f.first_error {
            println!("              first error: {e}");
        }
    }
    println!("server RSS at the end: {:.0} MiB", r.server_rss_mib);
    Ok(())
}
