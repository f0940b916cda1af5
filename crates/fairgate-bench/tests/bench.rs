//! The benchmarks end to end, through the `fairgate-bench` binary on small inputs:
//! each runs, reports its figures and its baseline, and checks what it measured.

use fairgate_store::sqlite::SqliteStore;
use fairgate_store::LedgerStore;
use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fairgate-bench")).args(args).env("RUST_LOG", "warn").output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn bench_ingest_reports_its_figures_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("bench");
    let out = bench(&[
        "ingest",
        "--events",
        "3000",
        "--subjects",
        "40",
        "--batch",
        "500",
        "--json",
        "--dir",
        work.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(r["events"], 3000);
    assert_eq!(r["subjects"], 40);
    assert!(r["leaf_bytes"].as_u64().unwrap() > 200, "{r}");
    for key in ["events_per_sec", "baseline_rows_per_sec", "ratio_to_baseline", "peak_rss_mib"] {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key} in {r}");
    }
    // The benchmark's own ledger is complete: 40 subjects + 3000 crossings.
    let store = SqliteStore::open(&work.join("fairgate.db")).unwrap();
    assert_eq!(store.tree_size().unwrap(), 3040);
    drop(store);
    // Running again in the same --dir starts from fresh databases.
    let again = bench(&[
        "ingest",
        "--events",
        "500",
        "--subjects",
        "10",
        "--batch",
        "100",
        "--json",
        "--dir",
        work.to_str().unwrap(),
    ]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(SqliteStore::open(&work.join("fairgate.db")).unwrap().tree_size().unwrap(), 510);
}

#[test]
fn bench_log_reports_proof_and_verify_figures() {
    let out = bench(&["log", "--leaves", "5000", "--proofs", "20", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(r["leaves"], 5000);
    for key in ["proof_us_p50", "http_us_p99", "verify_leaves_per_sec", "sha256_per_sec", "verify_ratio_to_sha256"] {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key} in {r}");
    }
    assert!(r["proof_us_p50"].as_f64() <= r["proof_us_p99"].as_f64());
}

#[test]
fn bench_mrz_reads_every_zone_as_valid_and_times_the_split_beside_it() {
    let out = bench(&["mrz", "--zones", "500", "--passes", "2", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(r["reads"], 1000, "every zone of every format read as valid");
    assert!(r["reads_per_second"].as_f64().unwrap() > 0.0 && r["splits_per_second"].as_f64().unwrap() > 0.0, "{r}");
}

#[test]
fn bench_biometrics_parses_and_seals_every_record() {
    let out = bench(&["biometrics", "--records", "50", "--passes", "2", "--faces", "3", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(r["record_bytes"], 24 + 10 * (4 + 40 * 6 + 2));
    assert_eq!(r["faces"], 3);
    assert!(r["face_record_bytes"].as_u64().unwrap() > 1_000, "a 480 × 640 PNG portrait: {r}");
    assert!(r["an2k_bytes"].as_u64().unwrap() > r["record_bytes"].as_u64().unwrap(), "text is longer: {r}");
    for key in [
        "parses_per_second",
        "seals_per_second",
        "copies_per_second",
        "face_parses_per_second",
        "portrait_checks_per_second",
        "face_seals_per_second",
        "an2k_writes_per_second",
        "an2k_reads_per_second",
    ] {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key} in {r}");
    }
}

#[test]
fn bench_stay_times_both_calculators() {
    let out = bench(&["stay", "--iterations", "200", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(r["stays"], 50);
    assert!(r["fast_us"].as_f64().unwrap() > 0.0 && r["naive_us"].as_f64().unwrap() > 0.0, "{r}");
}

#[test]
fn bench_sweep_finds_the_same_overstayers_with_both_calculators() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("sweep");
    let out =
        bench(&["sweep", "--travellers", "2000", "--crossings", "20000", "--dir", work.to_str().unwrap(), "--json"]);
    // The command itself refuses to report when the naive sweep, the fast sweep and
    // the first API page disagree, or when compaction folded a different number of crossings.
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!((r["travellers"].as_u64(), r["crossings"].as_u64()), (Some(2000), Some(20000)));
    let found = r["overstayers"].as_u64().unwrap();
    assert!(found > 20 && found < 1000, "a few per cent overstay: {r}");
    assert!(r["sweep_seconds"].as_f64().unwrap() > 0.0 && r["naive_ratio"].as_f64().is_some(), "{r}");
    // With --dir, its database stays there for inspection.
    assert!(work.join("fairgate.db").exists());
}

#[test]
fn bench_compliance_reports_three_obligations_each_and_an_idempotent_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("compliance");
    let out = bench(&["compliance", "--subjects", "1500", "--dir", work.to_str().unwrap(), "--json"]);
    // The command itself refuses to report when a second run issues anything.
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!((r["subjects"].as_u64(), r["obligations"].as_u64()), (Some(1500), Some(4500)));
    assert!(r["notices_issued"].as_u64().unwrap() > 150, "the unregistered tenth at least: {r}");
    assert!(r["second_run_seconds"].as_f64().unwrap() > 0.0 && r["floor_seconds"].as_f64().unwrap() > 0.0);
}

#[test]
fn bench_expunge_erases_the_program_and_times_both_baselines() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("expunge");
    let out = bench(&[
        "expunge",
        "--subjects",
        "300",
        "--baseline",
        "5",
        "--retention",
        "40",
        "--dir",
        work.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(r["subjects"].as_u64(), Some(300));
    assert_eq!(r["fully"].as_u64().unwrap() + r["partly"].as_u64().unwrap(), 300, "{r}");
    assert!(r["partly"].as_u64().unwrap() > 0, "one in ten also crossed at the border: {r}");
    assert_eq!(r["baseline_subjects"].as_u64(), Some(5));
    assert!(
        r["subjects_per_second"].as_f64().unwrap() > 0.0 && r["baseline_subjects_per_second"].as_f64().unwrap() > 0.0
    );
    // The chunked retention baseline: the benchmark itself fails unless the run
    // erased exactly the people it made due.
    assert_eq!(r["retention_subjects"].as_u64(), Some(40), "{r}");
    assert!(r["retention_seconds"].as_f64().unwrap() > 0.0, "{r}");
}

#[test]
fn bench_plan_times_the_plan_with_and_without_the_simulation() {
    let out = bench(&["plan", "--people", "20000", "--offices", "5", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!((r["people"].as_u64(), r["offices"].as_u64()), (Some(20_000), Some(5)));
    assert!(r["office_days"].as_u64().unwrap() > 0, "{r}");
    assert!(
        r["plan_seconds"].as_f64().unwrap() > 0.0 && r["without_simulation_seconds"].as_f64().unwrap() > 0.0,
        "{r}"
    );
}

/// The HTTP load test against a real `fairgate serve`: every mix, registrations
/// with their face and fingerprint records included, is answered without an error,
/// and each is measured. It starts the `fairgate` binary beside this one, which
/// `cargo test --workspace` builds.
#[test]
fn bench_http_answers_every_mix_from_a_real_server() {
    let beside = std::path::Path::new(env!("CARGO_BIN_EXE_fairgate-bench")).with_file_name("fairgate");
    assert!(
        beside.exists(),
        "no server binary at {}: build it first (cargo build -p fairgate; cargo test --workspace does)",
        beside.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let out = bench(&[
        "http",
        "--subjects",
        "300",
        "--seconds",
        "1",
        "--rate",
        "20",
        "--json",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let runs = r["runs"].as_array().unwrap();
    let mixes: Vec<&str> = runs.iter().map(|f| f["mix"].as_str().unwrap()).collect();
    // Each mix after its floor, in the default order.
    assert_eq!(
        mixes,
        ["healthz", "crossings", "healthz", "reads", "healthz", "lookups", "healthz", "registrations"],
        "{r}"
    );
    for f in runs {
        assert_eq!(f["errors"], 0, "{f}");
        assert_eq!(f["sent"], 20, "{f}");
        assert!(f["achieved_per_sec"].as_f64().unwrap() > 0.0, "{f}");
        assert!(f["p50_ms"].as_f64() <= f["p99_ms"].as_f64(), "{f}");
    }
    // A registration whose face or fingerprint record did not parse would have been
    // refused (422), and one recorded without its captures answered without a 1:N
    // search: both count as errors above.

    // Two mixes at once, each at its own rate, on the same prepared database.
    let out = bench(&[
        "http",
        "--subjects",
        "300",
        "--seconds",
        "1",
        "--mix",
        "crossings,registrations",
        "--together",
        "--rate",
        "30",
        "--rate-of",
        "registrations=10",
        "--json",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let sent: Vec<(&str, u64)> = r["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["mix"].as_str().unwrap(), f["sent"].as_u64().unwrap()))
        .collect();
    assert_eq!(sent, [("crossings", 30), ("registrations", 10)], "no floor, each at its rate: {r}");
    assert!(r["runs"].as_array().unwrap().iter().all(|f| f["errors"] == 0), "{r}");
    // A rate for a mix that does not exist is refused, naming the flag's form.
    let out = bench(&["http", "--rate-of", "enrolments=5"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("is not a mix"), "{}", text(&out.stderr));
}

/// Issue 21: a benchmark stopped with SIGTERM stops the server it started (it used
/// to leave `fairgate serve` running, holding the database and a core).
#[test]
fn bench_http_stopped_by_sigterm_stops_its_server() {
    use std::io::{BufRead, BufReader};
    let beside = std::path::Path::new(env!("CARGO_BIN_EXE_fairgate-bench")).with_file_name("fairgate");
    assert!(beside.exists(), "no server binary at {}: build it first (cargo test --workspace does)", beside.display());
    let dir = tempfile::tempdir().unwrap();
    let mut bench = Command::new(env!("CARGO_BIN_EXE_fairgate-bench"))
        .args(["http", "--subjects", "50", "--seconds", "600", "--mix", "healthz", "--rate", "5", "--dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(bench.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the benchmark ended before it served").unwrap();
        if let Some(url) = line.strip_prefix("bench http: serving on ") {
            break url.trim().to_string();
        }
    };
    let addr = url.trim_start_matches("http://").trim_end_matches('/').to_string();
    assert!(std::net::TcpStream::connect(&addr).is_ok(), "the server answers at {addr} while the benchmark runs");
    let killed = Command::new("kill").args(["-TERM", &bench.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = bench.wait().unwrap();
    assert_eq!(status.code(), Some(143), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("the server it started is stopped too")), "{rest:?}");
    assert!(std::net::TcpStream::connect(&addr).is_err(), "the server at {addr} outlived its benchmark");
}
