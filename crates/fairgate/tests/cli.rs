//! The `fairgate` binary end to end: accounts, the demo seed, audit verify against
//! a tampered leaf, rebuild, the absence of plaintext on disk, and `serve --demo`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;
use common::{http, serve, stop};
use std::sync::Arc;

use fairgate_store::sqlite::SqliteStore;
use fairgate_store::{LedgerStore, ProjectionStore};

/// Run `fairgate` with the data in `DIR/data` and the keys apart, in `DIR/keys`.
fn fairgate(dir: &Path, args: &[&str]) -> Output {
    common::fairgate_at(&dir.join("data"), &dir.join("keys"), args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn user_add_prints_the_token_alone_on_the_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = fairgate(dir.path(), &["user", "add", "jones", "--role", "officer"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let last = stdout.lines().last().unwrap();
    assert!(last.starts_with("fg_") && !last.contains(' ') && last.len() > 40, "{stdout}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_fairgate"))
        .arg("--data")
        .arg(dir.path().join("data"))
        .arg("--keys")
        .arg(dir.path().join("keys"))
        .args(["user", "add", "smith", "--role", "supervisor", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"a long enough password\n").unwrap();
    assert!(child.wait_with_output().unwrap().status.success());

    let again = fairgate(dir.path(), &["user", "add", "jones", "--role", "officer"]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already exists"), "{}", text(&again.stderr));
    let bad = fairgate(dir.path(), &["user", "add", "x", "--role", "wizard"]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("--role") && text(&bad.stderr).contains("officer"), "{}", text(&bad.stderr));
    let list = fairgate(dir.path(), &["user", "list"]);
    assert!(text(&list.stdout).contains("smith") && text(&list.stdout).contains("supervisor"));
}

#[test]
fn audit_verify_names_the_first_tampered_leaf_and_rebuild_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    let seeded = fairgate(dir.path(), &["demo", "--travellers", "150"]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let ok = fairgate(dir.path(), &["audit", "verify"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).starts_with("ok: "), "{}", text(&ok.stdout));

    let db = dir.path().join("data/fairgate.db");
    let digest = || SqliteStore::open(&db).unwrap().projection_digest().unwrap();
    let before = digest();
    let rebuilt = fairgate(dir.path(), &["rebuild"]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt.stderr));
    assert_eq!(digest(), before, "projections rebuilt from the ledger are identical");

    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut leaf: Vec<u8> = conn.query_row("SELECT leaf FROM ledger WHERE idx = 123", [], |r| r.get(0)).unwrap();
    leaf[80] ^= 0x20;
    conn.execute("UPDATE ledger SET leaf = ?1 WHERE idx = 123", [&leaf]).unwrap();
    drop(conn);
    let bad = fairgate(dir.path(), &["audit", "verify"]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("first bad leaf index 123"), "{}", text(&bad.stderr));
}

/// Every file in the directory, as bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

fn assert_absent(files: &[(String, Vec<u8>)], needles: &[String]) {
    for (name, bytes) in files {
        for n in needles {
            assert!(!bytes.windows(n.len()).any(|w| w == n.as_bytes()), "{n} is readable in {name}");
        }
    }
}

fn sample(now: jiff::Timestamp, n: usize) -> Vec<String> {
    let people = fairgate::demo::population(n, now);
    let mut needles = Vec::new();
    for t in people.iter().step_by(n / 10) {
        needles.push(t.person.document.number.clone());
        needles.push(format!("{} {}", t.person.surname, t.person.given_names));
        needles.push(t.person.given_names.clone());
        needles.push(t.person.birth_date.to_string());
    }
    needles
}

#[test]
fn the_demo_seed_leaves_no_plaintext_in_the_database_or_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("fairgate.db")).unwrap());
    let registry = fairgate_store::Registry::open(
        store.clone(),
        fairgate_ledger::keys::SecretKey::from_bytes([7; 32]),
        &fairgate_ledger::keys::SecretKey::from_bytes([8; 32]),
        "t/log",
        [9; 32],
    )
    .unwrap();
    let now = jiff::Timestamp::now();
    fairgate::demo::seed_with(&registry, 400, now, &|_| {}).unwrap();
    // The connection is still open, so the WAL holds recent pages too.
    let on_disk = files(dir.path());
    assert!(on_disk.iter().any(|(n, b)| n.ends_with("-wal") && !b.is_empty()), "the scan must cover a WAL");
    let needles = sample(now, 400);
    assert!(needles.len() >= 40);
    // The scan does find plaintext when it is there.
    assert!(needles.iter().all(|n| !n.is_empty()));
    assert_absent(&on_disk, &needles);
    // Nor the demo's faces and fingerprints: a stretch of the first face's image and
    // of its minutiae record, as bytes.
    let face = fairgate_biometrics::synthetic::face(0).data;
    let prints = fairgate_core::minutiae::encode(&fairgate_biometrics::synthetic::minutiae(0, &[2, 7, 3, 8])).unwrap();
    for (what, bytes) in [("face", &face[100..164]), ("minutiae", &prints[30..94])] {
        for (name, file) in &on_disk {
            assert!(!file.windows(bytes.len()).any(|w| w == bytes), "the demo {what} is readable in {name}");
        }
    }
    // They are there, sealed: the first travellers have a usable portrait and four fingers.
    let officer = fairgate_core::access::Actor::new("u-test", fairgate_core::access::Role::Officer, "t");
    let first = fairgate_store::KeyStore::live_subjects(&*store)
        .unwrap()
        .into_iter()
        .filter(|(no, _)| *no > 0)
        .min_by_key(|(no, _)| *no)
        .unwrap()
        .1;
    let id = fairgate_core::ids::SubjectId::from_bytes(first);
    let (birs, _) =
        registry.read_biometrics(now, &officer, fairgate_core::access::Purpose::BorderCheck, id, "test").unwrap();
    assert_eq!(birs.len(), 5, "a face and four fingers");
    let (face, minutiae, _) = fairgate_core::cbeff::unwrap(&birs).unwrap();
    let portrait = fairgate_biometrics::check_portrait(&face.unwrap().images[0]).unwrap();
    assert_eq!((portrait.width, portrait.height), (480, 640));
    assert_eq!(minutiae.iter().map(|m| m.views[0].position).collect::<Vec<_>>(), vec![2, 3, 7, 8]);
}

#[test]
fn serve_demo_seeds_once_then_reuses_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fairgate-data");
    let start = || serve(&data, &["--demo"]);
    let (mut child, url, printed) = start();
    let printed = printed.join("\n");
    assert!(printed.contains("seeded 10000 synthetic travellers"), "{printed}");
    assert!(printed.contains("demo-officer") && printed.contains("token fg_"), "{printed}");
    let health = common::http_get(&format!("{url}healthz"));
    assert!(health.contains("\"status\":\"ok\""), "{health}");
    let programs = common::http_get(&format!("{url}programs"));
    assert!(programs.contains("\"id\":\"visitor-entry-exit\"") && programs.contains("\"in_force\":true"), "{programs}");
    stop(&mut child);
    for key in ["master.key", "checkpoint.key"] {
        assert_eq!(
            std::fs::metadata(data.join("keys").join(key)).unwrap().permissions().mode() & 0o777,
            0o600,
            "{key}"
        );
    }
    let leaves = SqliteStore::open(&data.join("data/fairgate.db")).unwrap().tree_size().unwrap();
    assert!(leaves > 50_000, "10,000 travellers make many leaves: {leaves}");

    let (mut child, _, printed) = start();
    assert!(printed.join("\n").contains("reusing"), "{printed:?}");
    stop(&mut child);
    assert_eq!(SqliteStore::open(&data.join("data/fairgate.db")).unwrap().tree_size().unwrap(), leaves);
}

/// Run `fairgate mrz` with `zone` on standard input.
fn mrz(zone: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_fairgate"))
        .arg("mrz")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(zone.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn mrz_prints_the_documented_object_and_exits_1_with_each_failed_check_on_stderr() {
    let ok = mrz("I<UTOD23145890<7349<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<\n");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(ok.stderr.is_empty(), "{}", text(&ok.stderr));
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "birth_date",
            "checks",
            "document_code",
            "document_number",
            "errors",
            "expiry_date",
            "format",
            "given_names",
            "issuing_state",
            "name_truncated",
            "nationality",
            "optional_data",
            "repairs",
            "sex",
            "surname",
            "valid"
        ]
    );
    assert_eq!(v["format"], "TD1");
    assert_eq!(v["document_number"], "D23145890734");
    assert_eq!((v["birth_date"].as_str(), v["expiry_date"].as_str()), (Some("1934-07-12"), Some("1995-07-12")));
    assert_eq!(v["valid"], true);
    assert_eq!(v["checks"][0], serde_json::json!({"field": "document_number", "ok": true}));

    let bad = mrz("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C33UTO7408122F1204159ZE184226B<<<<<10\n");
    assert_eq!(bad.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(
        text(&bad.stderr).lines().next(),
        Some("line 2, column 10: document number check digit is 3, the number gives 6")
    );
    let garbage = mrz("hello\n");
    assert_eq!(garbage.status.code(), Some(1));
    assert!(text(&garbage.stderr).contains("2 of 44 (TD3, MRV-A)"), "{}", text(&garbage.stderr));
}

#[test]
fn stay_answers_in_json_with_exactly_the_documented_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = fairgate(dir.path(), &["stay", "--stay", "2026-01-01..2026-04-01", "--on", "2026-04-01", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["days_used", "max_days", "next_entry", "on", "overstay", "present", "stay_until", "window_start"]
    );
    assert_eq!(v["days_used"], 91);
    assert_eq!(v["overstay"], serde_json::json!({"first_day": "2026-04-01", "last_day": "2026-04-01", "days": 1}));
    assert_eq!(v["max_days"], 0);
    assert!(v["stay_until"].is_null());
    assert_eq!(v["next_entry"]["max_days"], 90);
    assert!(!dir.path().join("keys/master.key").exists(), "the calculator needs no data directory");

    let plain =
        fairgate(dir.path(), &["stay", "--rule", "90/180", "--stay", "2014-01-01..2014-03-31", "--on", "2014-06-30"]);
    assert_eq!(
        text(&plain.stdout).trim(),
        "Days of stay in the 180 days up to 2014-06-30: 89. You may stay until 2014-09-27 (90 days from 2014-06-30)."
    );
}

#[test]
fn stay_refuses_bad_input_naming_the_stay_and_prints_no_json() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            vec!["--stay", "2026-01-01..2026-01-05", "--stay", "2026-02-05..2026-02-01"],
            "--stay 2 (2026-02-05..2026-02-01)",
        ),
        (vec!["--stay", "2026-01-01..2026-02-30"], "--stay 1 (2026-01-01..2026-02-30)"),
        (vec!["--stay", "2026-01-01..2026-03-05"], "goes past the day asked about"),
        (vec!["--stay", "2026-01-01"], "START..END"),
        (vec!["--rule", "180/90", "--stay", "2026-01-01..2026-01-02"], "--rule"),
    ] {
        let mut all = vec!["stay"];
        all.extend(args);
        all.extend(["--on", "2026-03-01", "--json"]);
        let out = fairgate(dir.path(), &all);
        assert!(!out.status.success(), "{all:?}");
        assert!(out.stdout.is_empty(), "no JSON on bad input: {}", text(&out.stdout));
        assert!(text(&out.stderr).contains(needle), "{all:?}: {}", text(&out.stderr));
    }
}

#[test]
fn overstays_lists_demo_overstayers_as_an_account_for_a_purpose() {
    let dir = tempfile::tempdir().unwrap();
    assert!(fairgate(dir.path(), &["demo", "--travellers", "300"]).status.success());
    let leaves = || SqliteStore::open(&dir.path().join("data/fairgate.db")).unwrap().tree_size().unwrap();
    let before = leaves();
    let out = fairgate(
        dir.path(),
        &["overstays", "--as", "demo-supervisor", "--purpose", "compliance-review", "--per-page", "5"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let total: usize = stdout.split_whitespace().next().unwrap().parse().unwrap();
    assert!(total > 0, "the demo population includes overstays: {stdout}");
    let shown = stdout.lines().count() - 1;
    assert_eq!(shown, total.min(5));
    assert_eq!(leaves(), before + shown as u64, "one access event per listed subject");

    let csv = fairgate(dir.path(), &["overstays", "--as", "demo-auditor", "--purpose", "oversight-audit", "--csv"]);
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    assert!(text(&csv.stdout).starts_with("subject,rule,first_day,last_day,days,still_present\n"));
    assert_eq!(text(&csv.stdout).lines().count(), total + 1);

    let refused = fairgate(dir.path(), &["overstays", "--as", "demo-officer", "--purpose", "compliance-review"]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("not permitted for the role officer"), "{}", text(&refused.stderr));
    let wrong = fairgate(dir.path(), &["overstays", "--as", "demo-officer", "--purpose", "border-check"]);
    assert!(!wrong.status.success());
    assert!(text(&wrong.stderr).contains("compliance-review or oversight-audit"));
}

#[test]
fn program_check_impact_and_the_lifecycle_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/programs");
    let ok = fairgate(dir.path(), &["program", "check", &format!("{docs}/ees-visitors.toml")]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert_eq!(text(&ok.stdout).lines().count(), 1, "one line: {}", text(&ok.stdout));
    assert!(text(&ok.stdout).contains("ok: ees-visitors"));

    let callin = concat!(env!("CARGO_MANIFEST_DIR"), "/../fairgate-core/tests/golden/callin-2002.toml");
    let bad = fairgate(dir.path(), &["program", "check", callin]);
    assert!(!bad.status.success());
    let err = text(&bad.stderr);
    assert!(err.contains("callin-2002.toml:11:1: `selection.nationality` is a protected attribute"), "{err}");
    assert!(err.contains("callin-2002.toml:12:1: `selection.sex` is a protected attribute"), "{err}");

    // Impact over a population file: a class held by one nationality only is flagged.
    let pop = dir.path().join("population.jsonl");
    let lines: Vec<String> = (0..300)
        .map(|i| {
            let n = ["UTO", "KAR", "VAL"][i % 3];
            let class = if n == "KAR" && i % 2 == 0 { "E-9" } else { "WT" };
            format!(
                r#"{{"nationality":"{n}","sex":"F","birth_date":"1980-01-01","admission_class":"{class}","purpose_of_admission":"tourism","admitted_on":"2026-01-01","stay_days":10}}"#
            )
        })
        .collect();
    std::fs::write(&pop, lines.join("\n")).unwrap();
    let proxy = dir.path().join("proxy.toml");
    std::fs::write(
        &proxy,
        "id = \"proxy\"\ntitle = \"P\"\nlegal_basis = \"Act\"\nstarts = 2026-01-01\nsunset = 2027-01-01\n[selection]\nadmission_class = [\"E-9\"]\n",
    )
    .unwrap();
    let out = fairgate(
        dir.path(),
        &["program", "impact", proxy.to_str().unwrap(), "--population", pop.to_str().unwrap(), "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["population"].as_u64(), v["flagged"].as_bool()), (Some(300), Some(true)));
    let text_out =
        fairgate(dir.path(), &["program", "impact", proxy.to_str().unwrap(), "--population", pop.to_str().unwrap()]);
    assert!(text(&text_out.stdout).contains("FLAGGED"), "{}", text(&text_out.stdout));
    std::fs::write(&pop, "{\"nationality\": 3}\n").unwrap();
    let broken =
        fairgate(dir.path(), &["program", "impact", proxy.to_str().unwrap(), "--population", pop.to_str().unwrap()]);
    assert!(!broken.status.success());
    assert!(text(&broken.stderr).contains("population.jsonl:1:"), "{}", text(&broken.stderr));

    // The lifecycle, as named accounts.
    assert!(fairgate(dir.path(), &["user", "add", "ada", "--role", "admin"]).status.success());
    assert!(fairgate(dir.path(), &["user", "add", "otto", "--role", "auditor"]).status.success());
    // A draft needs a population file; everyone on record is an auditor's analysis.
    let add = fairgate(dir.path(), &["program", "add", proxy.to_str().unwrap(), "--as", "ada"]);
    assert!(!add.status.success());
    assert!(text(&add.stderr).contains("population"), "{}", text(&add.stderr));
    let over = fairgate(dir.path(), &["program", "impact", proxy.to_str().unwrap(), "--as", "ada"]);
    assert!(!over.status.success(), "an administrator may not analyse everyone on record");
    let over = fairgate(dir.path(), &["program", "impact", proxy.to_str().unwrap(), "--as", "otto", "--json"]);
    assert!(over.status.success(), "{}", text(&over.stderr));
    let v: serde_json::Value = serde_json::from_slice(&over.stdout).unwrap();
    assert_eq!(v["noise_scale"], 8.0, "{v}");
    std::fs::write(&pop, lines.join("\n")).unwrap();
    let add = fairgate(
        dir.path(),
        &["program", "add", proxy.to_str().unwrap(), "--population", pop.to_str().unwrap(), "--as", "ada"],
    );
    assert!(add.status.success(), "{}", text(&add.stderr));
    assert!(text(&add.stdout).contains("drafted proxy v1"), "{}", text(&add.stdout));
    let refused = fairgate(dir.path(), &["program", "activate", "proxy", "--as", "ada"]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("sign it off"), "{}", text(&refused.stderr));
    let signed = fairgate(dir.path(), &["program", "sign-off", "proxy", "--reason", "A test", "--as", "otto"]);
    assert!(signed.status.success(), "{}", text(&signed.stderr));
    assert!(fairgate(dir.path(), &["program", "activate", "proxy", "--as", "ada"]).status.success());
    let list = text(&fairgate(dir.path(), &["program", "list"]).stdout);
    assert!(list.contains("proxy") && list.contains("v1"), "{list}");
    let repeal = fairgate(dir.path(), &["program", "repeal", "proxy", "--reason", "Done", "--as", "ada"]);
    assert!(repeal.status.success(), "{}", text(&repeal.stderr));
    let show = text(&fairgate(dir.path(), &["program", "show", "proxy"]).stdout);
    assert!(show.contains("\"repealed\"") && show.contains("A test"), "{show}");
}

#[test]
fn designation_statistics_are_for_auditors_and_cover_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    assert!(fairgate(dir.path(), &["demo", "--travellers", "300"]).status.success());
    let refused = fairgate(dir.path(), &["designations", "stats", "--as", "demo-officer"]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("only the auditor role may"), "{}", text(&refused.stderr));
    let out = fairgate(dir.path(), &["designations", "stats", "--as", "demo-auditor", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // 300 travellers, one in 97 designated (positions 5, 102, 199, 296), all by the seed officer.
    assert_eq!(v["officers"][0]["encountered"], 300);
    assert_eq!(v["officers"][0]["designated"], 4);
    let text_out = text(&fairgate(dir.path(), &["designations", "stats", "--as", "demo-auditor"]).stdout);
    assert!(text_out.contains("officer u-demo-seed: 4 designated of 300 recorded"), "{text_out}");
}

#[test]
fn the_compliance_run_issues_notices_once_and_they_can_be_printed() {
    let dir = tempfile::tempdir().unwrap();
    assert!(fairgate(dir.path(), &["demo", "--travellers", "150"]).status.success());
    let first = fairgate(dir.path(), &["compliance", "run", "--json"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let first: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert!(first["notices_issued"].as_u64().unwrap() > 0, "the demo has departures due: {first}");
    let second = fairgate(dir.path(), &["compliance", "run", "--json"]);
    let second: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(second["notices_issued"], 0, "a second run for the same day issues nothing: {second}");
    assert_eq!(second["pending"], first["pending"]);

    let sent = fairgate(dir.path(), &["notices", "send", "--due-before", "2100-01-01", "--as", "demo-supervisor"]);
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    let out = text(&sent.stdout);
    assert!(
        out.contains("Your rights") && out.contains("Reference: visitor-entry-exit/v1/"),
        "{}",
        &out[..out.len().min(800)]
    );
    let id = out.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap().trim().to_string();

    let ob = fairgate(dir.path(), &["obligations", &id, "--as", "demo-officer", "--purpose", "border-check"]);
    assert!(ob.status.success(), "{}", text(&ob.stderr));
    let ob = text(&ob.stdout);
    assert!(ob.contains("visitor-entry-exit v1") && ob.contains("[pending]"), "{ob}");
    let refused =
        fairgate(dir.path(), &["obligations", &id, "--as", "demo-officer", "--purpose", "benefit-adjudication"]);
    assert!(!refused.status.success());
}

#[test]
fn expunge_prints_a_certificate_that_verifies_until_altered() {
    let dir = tempfile::tempdir().unwrap();
    assert!(fairgate(dir.path(), &["demo", "--travellers", "120"]).status.success());
    let conn = rusqlite::Connection::open(dir.path().join("data/fairgate.db")).unwrap();
    let id: Vec<u8> =
        conn.query_row("SELECT subject_id FROM subject_keys ORDER BY subject_no LIMIT 1", [], |r| r.get(0)).unwrap();
    drop(conn);
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let args = ["expunge", "--subject", &id, "--authority", "court-order", "--reason", "Test", "--as", "demo-admin"];
    let refused = fairgate(dir.path(), &args);
    assert!(!refused.status.success(), "an approver is required");
    let mut with = args.to_vec();
    with.extend(["--approved-by", "demo-admin"]);
    assert!(!fairgate(dir.path(), &with).status.success(), "the approver must be an auditor");
    let mut with = args.to_vec();
    with.extend(["--approved-by", "demo-auditor"]);
    let out = fairgate(dir.path(), &with);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cert = dir.path().join("cert.json");
    std::fs::write(&cert, &out.stdout).unwrap();
    let ok = fairgate(dir.path(), &["expunge", "verify", cert.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).starts_with("ok: "));
    let printed = text(&out.stdout);
    assert!(printed.contains("Order of a court of competent jurisdiction (Demo Judiciary Act s. 12)"), "{printed}");
    std::fs::write(&cert, printed.replace("Demo Judiciary Act s. 12", "Demo Judiciary Act s. 13")).unwrap();
    let bad = fairgate(dir.path(), &["expunge", "verify", cert.to_str().unwrap()]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("does not verify"), "{}", text(&bad.stderr));
    assert!(fairgate(dir.path(), &["audit", "verify"]).status.success(), "the log still verifies");
}

#[test]
fn an_import_with_bad_rows_writes_nothing_and_names_every_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    assert!(fairgate(dir.path(), &["user", "add", "ada", "--role", "admin"]).status.success());
    assert!(fairgate(dir.path(), &["places", "add", "--demo", "--as", "ada"]).status.success());
    let program = dir.path().join("old.toml");
    std::fs::write(
        &program,
        "id = \"old-callin\"\ntitle = \"Old call-in\"\nlegal_basis = \"67 FR 67766\"\nstarts = 2026-01-01\nsunset = 2026-12-31\n[selection]\nmin_stay_days = 30\n",
    )
    .unwrap();
    let pop = dir.path().join("population.jsonl");
    std::fs::write(&pop, "{\"nationality\":\"UTO\",\"sex\":\"M\",\"birth_date\":\"1970-01-01\",\"stay_days\":40}\n")
        .unwrap();
    let add = fairgate(
        dir.path(),
        &["program", "add", program.to_str().unwrap(), "--population", pop.to_str().unwrap(), "--as", "ada"],
    );
    assert!(add.status.success(), "{}", text(&add.stderr));
    let header = "document_kind,issuing_state,document_number,document_expires_on,surname,given_names,birth_date,sex,nationality,registration_kind,place,registered_at";
    let good =
        |n: u32| format!("P,UTO,OLD{n:05},2010-01-01,\"O'BRIEN, JR\",SEAN,1970-01-01,M,UTO,office,NYC-FO,2003-01-10");
    let csv = format!(
        "{header}\n{}\n{}\nP,UTO,,2010-01-01,X,Y,1970-13-01,M,UTO,office,NYC-FO,2003-01-10\n{}\nP,UTO,OLD00009,2010-01-01,X,Y,1970-01-01,M,UTO,office,NOWHERE,2003-01-10\n",
        good(1),
        good(2),
        good(3)
    );
    let file = dir.path().join("legacy.csv");
    std::fs::write(&file, &csv).unwrap();
    let before = std::fs::metadata(dir.path().join("data/fairgate.db")).is_ok();
    assert!(before);
    let size = |d: &Path| SqliteStore::open(&d.join("data/fairgate.db")).unwrap().tree_size().unwrap();
    let leaves = size(dir.path());
    let out = fairgate(dir.path(), &["import", "--program", "old-callin", file.to_str().unwrap(), "--as", "ada"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("legacy.csv:4: document_number"), "{err}");
    assert!(err.contains("legacy.csv:4: birth_date"), "{err}");
    assert!(err.contains("legacy.csv:6: place"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(size(dir.path()), leaves, "nothing was written");

    // Corrected: all of it is written, and a second run finds it done.
    std::fs::write(&file, format!("{header}\n{}\n{}\n{}\n", good(1), good(2), good(1))).unwrap();
    let codes = dir.path().join("codes.csv");
    let ok = fairgate(
        dir.path(),
        &[
            "import",
            "--program",
            "old-callin",
            file.to_str().unwrap(),
            "--as",
            "ada",
            "--access-codes",
            codes.to_str().unwrap(),
        ],
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    // One portal code per imported registration, in a file only its owner can read.
    let written = std::fs::read_to_string(&codes).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines[0], "line,registration_number,access_code");
    assert_eq!(lines.len(), 4, "{written}");
    assert!(lines[1].starts_with("2,FG-") && lines[3].starts_with("4,FG-"), "{written}");
    #[cfg(unix)]
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&codes).unwrap().permissions()) & 0o777,
        0o600
    );
    assert!(
        text(&ok.stdout).contains("imported 3 row(s) into old-callin: 2 new people, 1 rows joined"),
        "{}",
        text(&ok.stdout)
    );
    let refused = fairgate(
        dir.path(),
        &[
            "import",
            "--program",
            "old-callin",
            file.to_str().unwrap(),
            "--as",
            "ada",
            "--access-codes",
            codes.to_str().unwrap(),
        ],
    );
    assert!(text(&refused.stderr).contains("must not exist yet"), "an existing codes file is never overwritten");
    let again = fairgate(dir.path(), &["import", "--program", "old-callin", file.to_str().unwrap(), "--as", "ada"]);
    assert!(
        text(&again.stdout).contains("imported 0 row(s)")
            && text(&again.stdout).contains("3 row(s) were already written")
    );
    let jsonl = dir.path().join("legacy.jsonl");
    std::fs::write(&jsonl, "{\"issuing_state\":\"UTO\",\"document_number\":\"J1\",\"document_expires_on\":\"2010-01-01\",\"surname\":\"J\",\"birth_date\":\"1970-01-01\",\"sex\":\"F\",\"nationality\":\"UTO\",\"place\":\"NYC-FO\",\"registered_at\":\"2003-02-01\"}\n{\"surname\": 3}\n").unwrap();
    let bad = fairgate(dir.path(), &["import", "--program", "old-callin", jsonl.to_str().unwrap(), "--as", "ada"]);
    assert!(text(&bad.stderr).contains("legacy.jsonl:2:"), "{}", text(&bad.stderr));
}

#[test]
fn a_retention_dry_run_lists_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert!(fairgate(dir.path(), &["demo", "--travellers", "120"]).status.success());
    let size = || SqliteStore::open(&dir.path().join("data/fairgate.db")).unwrap().tree_size().unwrap();
    let before = size();
    // Five years on, the demo program's 3-year rule has passed for everyone who left.
    let out = fairgate(dir.path(), &["retention", "run", "--on", "2031-06-01", "--dry-run", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((r["dry_run"].as_bool(), r["erased"].as_u64()), (Some(true), Some(0)));
    let listed = r["listed"].as_array().unwrap();
    assert!(listed.iter().any(|e| e["due"] == true), "{r}");
    assert!(listed[0]["rule"].as_str().unwrap().contains("after the last exit"), "{r}");
    assert_eq!(size(), before, "a dry run writes nothing");
}

#[test]
fn keys_rotate_runs_beside_a_serving_server_which_keeps_reading_and_writing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let seeded = fairgate(data, &["demo", "--travellers", "200"]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let out = text(&seeded.stdout);
    let token = common::demo_token(&out, "demo-officer");
    let old_key = std::fs::read_to_string(data.join("keys/master.key")).unwrap();

    let (mut child, url, _) = serve(data, &[]);
    let person = r#"{"document": {"kind": "P", "issuing_state": "UTO", "number": "ROT000001", "expires_on": "2031-04-15"}, "surname": "BEFORE", "given_names": "A", "birth_date": "1980-01-01", "sex": "F", "nationality": "UTO"}"#;
    let (st, b) = http(&format!("{url}subjects"), "POST", &token, Some(person));
    assert_eq!(st, 201, "{b}");
    let before = b.split("\"id\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();

    let rotated = fairgate(data, &["keys", "rotate", "--chunk", "50"]);
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    assert!(text(&rotated.stdout).contains("master key rotated"), "{}", text(&rotated.stdout));
    assert!(!data.join("keys/master.key.next").exists());
    assert_ne!(std::fs::read_to_string(data.join("keys/master.key")).unwrap(), old_key);
    assert_eq!(std::fs::metadata(data.join("keys/master.key")).unwrap().permissions().mode() & 0o777, 0o600);

    // The server, started with the old key, reads the person (now under the new key)
    // and registers another.
    let (st, b) = http(&format!("{url}subjects/{before}"), "GET", &token, None);
    assert_eq!(st, 200, "{b}");
    let (st, b) = http(&format!("{url}subjects"), "POST", &token, Some(&person.replace("ROT000001", "ROT000002")));
    assert_eq!(st, 201, "{b}");
    stop(&mut child);

    // Everything opens with the new key alone.
    let status = fairgate(data, &["keys", "status"]);
    assert!(text(&status.stdout).contains("no rotation under way"), "{}", text(&status.stdout));
    let rebuilt = fairgate(data, &["rebuild"]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt.stderr));
    let verified = fairgate(data, &["audit", "verify"]);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
}

/// `serve` rotates the master key on its schedule: once the epoch is older than the
/// period, the scheduler re-wraps every key, destroys the old master key, and the
/// erasures certified so far are recorded as complete in every backup; the server
/// keeps reading and writing throughout, and everything opens with the new key alone.
#[test]
fn serve_rotates_the_master_key_on_schedule_and_completes_erasures() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let seeded = fairgate(data, &["demo", "--travellers", "60"]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let token = common::demo_token(&text(&seeded.stdout), "demo-officer");
    let id = common::first_subjects(&data.join("data/fairgate.db"), 1).remove(0);
    let expunged = fairgate(data, &common::expunge_args(&id));
    assert!(expunged.status.success(), "{}", text(&expunged.stderr));
    let cert = data.join("cert.json");
    std::fs::write(&cert, &expunged.stdout).unwrap();
    let old_key = std::fs::read(data.join("keys/master.key")).unwrap();

    // An epoch of three seconds: the scheduler checks every second. Its log is kept.
    let log = data.join("serve.log");
    let (mut child, url, _) = common::start_logged(
        &data.join("data"),
        &data.join("keys"),
        &["serve", "--listen", "127.0.0.1:0", "--rotate-every", "3s"],
        "Fairgate is serving on ",
        Some(&log),
    );
    let person = r#"{"document": {"kind": "P", "issuing_state": "UTO", "number": "SCH000001", "expires_on": "2031-04-15"}, "surname": "BEFORE", "given_names": "A", "birth_date": "1980-01-01", "sex": "F", "nationality": "UTO"}"#;
    let (st, b) = http(&format!("{url}subjects"), "POST", &token, Some(person));
    assert_eq!(st, 201, "{b}");
    let before = b.split("\"id\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read(data.join("keys/master.key")).unwrap() == old_key {
        assert!(std::time::Instant::now() < deadline, "serve did not rotate the master key within a minute");
        // The server keeps serving meanwhile.
        let (st, b) = http(&format!("{url}subjects/{before}"), "GET", &token, None);
        assert_eq!(st, 200, "{b}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // Give the scheduler time to record the completion after the key file changed.
    let verify = || text(&fairgate(data, &["expunge", "verify", cert.to_str().unwrap()]).stdout);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !verify().contains("complete in backups on ") {
        assert!(std::time::Instant::now() < deadline, "no erasure-complete record: {}", verify());
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (st, b) = http(&format!("{url}subjects/{before}"), "GET", &token, None);
    assert_eq!(st, 200, "{b}");
    let (st, b) = http(&format!("{url}subjects"), "POST", &token, Some(&person.replace("SCH000001", "SCH000002")));
    assert_eq!(st, 201, "{b}");
    stop(&mut child);
    assert!(!data.join("keys/master.key.next").exists());
    // The log says the rotation happened, and names nobody.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("master key rotated on schedule"), "{logged}");
    for personal in ["BEFORE", "SCH000001", "SCH000002", "1980-01-01", &id] {
        assert!(!logged.contains(personal), "{personal} in the log:\n{logged}");
    }
    let rebuilt = fairgate(data, &["rebuild"]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt.stderr));
    let verified = fairgate(data, &["audit", "verify"]);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
}

/// Finding 5 from the command line: `user list` shows status and token expiry,
/// `user rotate-token` replaces the token, `user disable` ends the account, and
/// `user history` shows every change from the ledger.
#[test]
fn users_are_listed_with_status_rotated_disabled_and_their_history_is_on_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let add = fairgate(dir.path(), &["user", "add", "olga", "--role", "officer", "--token-days", "30"]);
    assert!(add.status.success(), "{}", text(&add.stderr));
    let first = text(&add.stdout).lines().last().unwrap().to_string();
    assert!(
        fairgate(dir.path(), &["user", "add", "bad", "--role", "officer", "--token-days", "0"]).status.code()
            != Some(0)
    );
    let list = text(&fairgate(dir.path(), &["user", "list"]).stdout);
    let row = list.lines().find(|l| l.starts_with("olga")).unwrap().to_string();
    assert!(row.contains("active"), "{list}");
    let rotated = fairgate(dir.path(), &["user", "rotate-token", "olga"]);
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    let second = text(&rotated.stdout).lines().last().unwrap().to_string();
    assert!(second.starts_with("fg_") && second != first);
    assert!(fairgate(dir.path(), &["user", "set-role", "olga", "--role", "supervisor"]).status.success());
    assert!(fairgate(dir.path(), &["user", "disable", "olga"]).status.success());
    let list = text(&fairgate(dir.path(), &["user", "list"]).stdout);
    let row = list.lines().find(|l| l.starts_with("olga")).unwrap();
    assert!(row.contains("disabled") && row.contains("no token"), "{list}");
    let history = text(&fairgate(dir.path(), &["user", "history"]).stdout);
    for change in ["created", "token-rotated", "role-changed", "disabled"] {
        assert!(history.contains(change), "{change} in {history}");
    }
}

/// Issue 15, item 1: the keys live apart from the data. A copy of the data directory
/// alone (a backup, a stolen disk) holds no key and reads nothing: opening it with
/// any other key store is refused, never given new keys.
#[test]
fn a_copy_of_the_data_directory_alone_reads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert!(fairgate(dir.path(), &["demo", "--travellers", "20"]).status.success());
    let data = dir.path().join("data");
    for entry in std::fs::read_dir(&data).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(name.starts_with("fairgate.db"), "only the database is in the data directory: {name}");
    }
    // The copy, with a key store of its own (empty): refused, naming --keys.
    let stolen = tempfile::tempdir().unwrap();
    std::fs::create_dir(stolen.path().join("data")).unwrap();
    for entry in std::fs::read_dir(&data).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), stolen.path().join("data").join(entry.file_name())).unwrap();
    }
    let out = fairgate(stolen.path(), &["user", "list"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--keys"), "{}", text(&out.stderr));
    assert!(!stolen.path().join("keys/master.key").exists(), "no new key was made for it");
    // Keys inside the data directory are refused outright.
    let inside = Command::new(env!("CARGO_BIN_EXE_fairgate"))
        .args(["--data", data.to_str().unwrap(), "--keys", data.join("keys").to_str().unwrap(), "user", "list"])
        .output()
        .unwrap();
    assert!(!inside.status.success() && text(&inside.stderr).contains("apart"), "{}", text(&inside.stderr));
    // With its own key store, the same data reads.
    assert!(fairgate(dir.path(), &["user", "list"]).status.success());
}

/// Issue 15, item 2: back up; expunge a person; rotate the master key (destroying the
/// epoch the backup was taken under); restore the old backup beside the live key
/// store: it reads nothing, the erased person included. A fresh backup restores and
/// reads everyone else, and not the erased person.
#[test]
fn a_backup_from_before_a_rotation_reads_nothing_and_a_fresh_one_reads_everyone_else() {
    let dir = tempfile::tempdir().unwrap();
    let run = |data: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_fairgate"))
            .arg("--data")
            .arg(dir.path().join(data))
            .arg("--keys")
            .arg(dir.path().join("keys"))
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    assert!(run("data", &["demo", "--travellers", "40"]).status.success());
    let ids = common::first_subjects(&dir.path().join("data/fairgate.db"), 2);
    let b1 = dir.path().join("b1");
    let out = run("data", &["backup", "--to", b1.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut files: Vec<String> =
        std::fs::read_dir(&b1).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    assert_eq!(files, ["backup.json", "fairgate.db"], "no key in a backup");

    let expunge = common::expunge_args(&ids[0]);
    let out = run("data", &expunge);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cert = dir.path().join("cert.json");
    std::fs::write(&cert, &out.stdout).unwrap();
    // The certificate promises the day the erasure reaches every backup: the end of
    // the epoch begun when the database was made, 30 days on by the default schedule.
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by: jiff::civil::Date = json["backups_erased_by"].as_str().unwrap().parse().unwrap();
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    assert!((29..=30).contains(&today.until(by).unwrap().get_days()), "{by} is the end of a 30-day epoch begun today");
    let verify = || text(&run("data", &["expunge", "verify", cert.to_str().unwrap()]).stdout);
    assert!(verify().contains("not yet complete in backups"), "{}", verify());
    assert!(verify().contains(&format!("scheduled for {by}")), "{}", verify());
    let rotated = run("data", &["keys", "rotate"]);
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    assert!(text(&rotated.stdout).contains("complete in every backup"), "{}", text(&rotated.stdout));
    assert!(verify().contains("complete in backups on "), "{}", verify());

    // The old backup, beside the live key store: refused, and nothing is left behind.
    let old = run("data-old", &["restore", "--from", b1.to_str().unwrap()]);
    assert!(!old.status.success());
    assert!(text(&old.stderr).contains("epoch"), "{}", text(&old.stderr));
    assert!(!dir.path().join("data-old/fairgate.db").exists());

    // A fresh backup restores and reads everyone else; the erased person stays erased.
    let b2 = dir.path().join("b2");
    assert!(run("data", &["backup", "--to", b2.to_str().unwrap()]).status.success());
    let restored = run("data-new", &["restore", "--from", b2.to_str().unwrap()]);
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    let read = |id: &str| run("data-new", &["obligations", id, "--as", "demo-officer", "--purpose", "border-check"]);
    let other = read(&ids[1]);
    assert!(other.status.success(), "{}", text(&other.stderr));
    let gone = read(&ids[0]);
    assert!(!gone.status.success());
    assert!(text(&gone.stderr).contains("erased"), "{}", text(&gone.stderr));
}

/// A demo database with 20 travellers served on a free port, its log kept: the
/// server, its URL, the demo officer's token and the log file.
fn demo_served_with_log(data: &std::path::Path) -> (common::Serving, String, String, std::path::PathBuf) {
    let seeded = fairgate(data, &["demo", "--travellers", "20"]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let token = common::demo_token(&text(&seeded.stdout), "demo-officer");
    let log = data.join("serve.log");
    let (child, url, _) = common::start_logged(
        &data.join("data"),
        &data.join("keys"),
        &["serve", "--listen", "127.0.0.1:0"],
        "Fairgate is serving on ",
        Some(&log),
    );
    (child, url, token, log)
}

#[test]
fn biometric_captures_and_their_export_never_reach_the_log() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url, token, log) = demo_served_with_log(dir.path());
    let person = r#"{"document": {"kind": "P", "issuing_state": "UTO", "number": "BIO000001", "expires_on": "2031-04-15"}, "surname": "CAPTURED", "given_names": "B", "birth_date": "1980-01-01", "sex": "F", "nationality": "UTO"}"#;
    let (st, b) = http(&format!("{url}subjects"), "POST", &token, Some(person));
    assert_eq!(st, 201, "{b}");
    let id = b.split("\"id\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let face =
        b64(&fairgate_core::face::encode(&fairgate_biometrics::synthetic::face_record(9, (2026, 11, 30))).unwrap());
    let prints = b64(&fairgate_core::minutiae::encode(&fairgate_biometrics::synthetic::minutiae(9, &[2, 7])).unwrap());
    let registration = format!(
        r#"{{"kind": "port-of-entry", "place": "JFK", "voluntary": true, "captures": {{"face": "{face}", "fingerprints": ["{prints}"]}}}}"#
    );
    let (st, b) = http(&format!("{url}subjects/{id}/registrations"), "POST", &token, Some(&registration));
    assert_eq!(st, 201, "{b}");
    // A refused capture: its error is answered, and neither it nor the record is logged.
    let refused = registration.replace(&face[..40], "AAAA");
    let (st, _) = http(&format!("{url}subjects/{id}/registrations"), "POST", &token, Some(&refused));
    assert_eq!(st, 422);
    let (st, xml) = http(&format!("{url}subjects/{id}/biometrics"), "GET", &token, None);
    assert_eq!(st, 200);
    assert!(xml.contains(&face), "the export holds the face record");
    // Someone else enrols with the same fingers: a 1:N candidate; a supervisor decides
    // with a reason; the first person's fingers are compared at a crossing.
    let twin = person.replace("BIO000001", "BIO000002").replace("CAPTURED", "TWINNED");
    let (st, b) = http(&format!("{url}subjects"), "POST", &token, Some(&twin));
    assert_eq!(st, 201, "{b}");
    let twin_id = b.split("\"id\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let (st, b) = http(&format!("{url}subjects/{twin_id}/registrations"), "POST", &token, Some(&registration));
    assert_eq!(st, 201, "{b}");
    assert!(b.contains(&format!("\"subject\":\"{id}\"")), "a candidate: {b}");
    let added = fairgate(dir.path(), &["user", "add", "sup", "--role", "supervisor"]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    let supervisor = text(&added.stdout).lines().last().unwrap().trim().to_string();
    let decision = format!(
        r#"{{"candidate": "{id}", "decision": "different-people", "reason": "SEPARATELYBORN checked both passports"}}"#
    );
    let (st, b) = http(&format!("{url}identification/reviews/{twin_id}"), "POST", &supervisor, Some(&decision));
    assert_eq!(st, 201, "{b}");
    let crossing = format!(
        r#"{{"direction": "entry", "port": "JFK", "at": "2026-06-01T10:00:00Z", "admission_class": "B-2", "admitted_until": "2026-09-01", "probe": {{"fingerprints": ["{prints}"]}}}}"#
    );
    let (st, b) = http(&format!("{url}subjects/{id}/crossings"), "POST", &token, Some(&crossing));
    assert_eq!(st, 201, "{b}");
    assert!(b.contains("\"decision\":\"match\""), "{b}");
    stop(&mut child);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("biometrics read"), "{logged}");
    assert!(logged.contains("1:N candidate decided") && logged.contains("fingerprints compared"), "{logged}");
    for personal in [
        "CAPTURED",
        "TWINNED",
        "BIO000001",
        "BIO000002",
        "1980-01-01",
        "SEPARATELYBORN",
        &face[100..140],
        &prints[20..60],
        "FAC",
        "FMR",
    ] {
        assert!(!logged.contains(personal), "{personal} in the log:\n{logged}");
    }
}

#[test]
fn places_are_added_changed_and_closed_as_ledger_events_by_an_administrator() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(fairgate(d, &["user", "add", "ada", "--role", "admin"]).status.success());
    assert!(fairgate(d, &["user", "add", "olu", "--role", "officer"]).status.success());
    // A new installation has no places: the demo's are demo data.
    let empty = fairgate(d, &["places", "list"]);
    assert!(text(&empty.stdout).contains("no places yet"), "{}", text(&empty.stdout));

    let office = d.join("bos.json");
    std::fs::write(
        &office,
        r#"{"code": "bos-fo", "name": "Boston field office", "kind": "office", "zone": "America/New_York",
            "address": "4 Demo Square, Boston, MA (synthetic)", "service_area": ["021", "022"],
            "hours": {"mon": "08:30-16:30", "tue": "08:30-16:30", "wed": "08:30-12:00"},
            "holidays": ["2026-12-25"], "desks": 3,
            "minutes": {"registration": 20, "re_registration": 15, "interview": 30}}"#,
    )
    .unwrap();
    let refused = fairgate(d, &["places", "add", office.to_str().unwrap(), "--as", "olu"]);
    assert!(!refused.status.success(), "officers do not add places");
    let added = fairgate(d, &["places", "add", office.to_str().unwrap(), "--as", "ada"]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    assert!(text(&added.stdout).starts_with("added BOS-FO (leaf "), "{}", text(&added.stdout));
    let again = fairgate(d, &["places", "add", office.to_str().unwrap(), "--as", "ada"]);
    assert!(text(&again.stderr).contains("code: BOS-FO is already a place"), "{}", text(&again.stderr));

    // A bad file names every bad field.
    let bad = d.join("bad.json");
    std::fs::write(&bad, r#"{"code": "X", "name": "", "kind": "office", "zone": "Nowhere/Else", "desks": 0}"#).unwrap();
    let out = fairgate(d, &["places", "add", bad.to_str().unwrap(), "--as", "ada"]);
    let err = text(&out.stderr);
    for field in ["code:", "name:", "zone:", "address:", "service_area:", "hours:", "desks:", "minutes.registration:"] {
        assert!(err.contains(field), "{field} in {err}");
    }

    // Changed: four desks, Thursdays too. Then closed for three days with a reason.
    let text_of = std::fs::read_to_string(&office).unwrap();
    std::fs::write(
        &office,
        text_of.replace("\"desks\": 3", "\"desks\": 4").replace("\"wed\"", "\"thu\": \"09:00-13:00\", \"wed\""),
    )
    .unwrap();
    let edited = fairgate(d, &["places", "edit", office.to_str().unwrap(), "--as", "ada"]);
    assert!(edited.status.success(), "{}", text(&edited.stderr));
    let closed = fairgate(
        d,
        &[
            "places",
            "close",
            "BOS-FO",
            "--from",
            "2027-01-04",
            "--until",
            "2027-01-06",
            "--reason",
            "Burst pipe",
            "--as",
            "ada",
        ],
    );
    assert!(closed.status.success(), "{}", text(&closed.stderr));
    let backwards = fairgate(
        d,
        &["places", "close", "BOS-FO", "--from", "2027-02-02", "--until", "2027-02-01", "--reason", "x", "--as", "ada"],
    );
    assert!(text(&backwards.stderr).contains("until: is before `from`"), "{}", text(&backwards.stderr));

    // A fresh process folds the events: the change and the closure are there.
    let listed = fairgate(d, &["places", "list", "--json"]);
    let places: Vec<fairgate_core::place::Place> = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(places.len(), 1);
    let bos = &places[0];
    assert_eq!((bos.code.as_str(), bos.desks), ("BOS-FO", 4));
    assert_eq!(bos.hours[3].map(|h| h.to_string()).as_deref(), Some("09:00-13:00"));
    assert_eq!(bos.closures.len(), 1);
    assert_eq!(bos.closures[0].reason, "Burst pipe");
    assert_eq!(bos.open_on("2027-01-05".parse().unwrap()), None, "closed");
    assert!(bos.open_on("2027-01-07".parse().unwrap()).is_some(), "open again on the Thursday");
    let human = text(&fairgate(d, &["places", "list"]).stdout);
    assert!(human.contains("closed 2027-01-04 to 2027-01-06: Burst pipe"), "{human}");

    // The demo's places are added as events too, and the log verifies.
    assert!(fairgate(d, &["places", "add", "--demo", "--as", "ada"]).status.success());
    let listed = fairgate(d, &["places", "list", "--json"]);
    let places: Vec<fairgate_core::place::Place> = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(places.len(), 12);
    assert!(fairgate(d, &["audit", "verify"]).status.success());
}

#[test]
fn a_2002_call_in_plan_fails_and_proposes_a_phased_schedule_with_waits_under_two_hours() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(fairgate(d, &["user", "add", "ada", "--role", "admin"]).status.success());
    assert!(fairgate(d, &["places", "add", "--demo", "--as", "ada"]).status.success());
    let program = d.join("callin.toml");
    std::fs::write(
        &program,
        "id = \"callin-group-2\"\ntitle = \"Call-in, group 2\"\nlegal_basis = \"67 FR 70526\"\nstarts = 2026-12-16\nsunset = 2027-12-31\n\n[selection]\nadmission_class = [\"WT\"]\n\n[[obligations]]\nkind = \"register\"\nwithin_days = 30\n",
    )
    .unwrap();
    // About 80,000 people, half served by one office (New York), 30 days to come.
    let mut lines = String::new();
    for i in 0..80_000u32 {
        let postal = if i % 2 == 0 {
            "10001"
        } else if i % 4 == 1 {
            "60601"
        } else {
            "90012"
        };
        lines.push_str(&format!(
            "{{\"nationality\":\"UTO\",\"sex\":\"{}\",\"birth_date\":\"1975-01-01\",\"admission_class\":\"WT\",\"admitted_on\":\"2026-06-01\",\"postal_code\":\"{postal}\"}}\n",
            if i % 3 == 0 { "F" } else { "M" }
        ));
    }
    let pop = d.join("group2.jsonl");
    std::fs::write(&pop, lines).unwrap();
    let out =
        fairgate(d, &["program", "plan", program.to_str().unwrap(), "--population", pop.to_str().unwrap(), "--json"]);
    assert!(!out.status.success(), "an infeasible plan exits 1");
    assert!(text(&out.stderr).contains("the plan is not feasible"), "{}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["feasible"], false);
    assert_eq!(plan["offices"].as_array().unwrap().len(), 3);
    let worst = &plan["shortfalls"][0];
    assert_eq!((worst["office"].as_str(), worst["day"].as_str()), (Some("NYC-FO"), Some("2027-01-15")));
    assert!(worst["wait_p95_minutes"].as_f64().unwrap() > 120.0, "the deadline day's line: {worst}");
    let proposal = &plan["proposal"];
    assert!(proposal["wait_p95_minutes"].as_f64().unwrap() < 120.0, "{}", proposal["wait_p95_minutes"]);
    assert!(proposal["fitting_within_days"].as_u64().unwrap() > 30);
    let cohorts = proposal["cohorts"].as_array().unwrap();
    assert_eq!(cohorts.iter().map(|c| c["people"].as_u64().unwrap()).sum::<u64>(), 80_000);
    // Drafted with that population, it cannot be put in force: the refusal names the
    // office, the day and the shortfall, and the deadline that would fit.
    let added = fairgate(
        d,
        &["program", "add", program.to_str().unwrap(), "--population", pop.to_str().unwrap(), "--as", "ada"],
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let refused = fairgate(d, &["program", "activate", "callin-group-2", "--as", "ada"]);
    assert!(!refused.status.success());
    let why = text(&refused.stderr);
    assert!(why.contains("cannot be put in force: its offices cannot serve everyone within 30 days"), "{why}");
    assert!(why.contains("NYC-FO is 35584 people short on 2027-01-15"), "{why}");
    assert!(why.contains("days would fit"), "{why}");
    // The text names the days short and the deadline that would fit.
    let out = fairgate(d, &["program", "plan", program.to_str().unwrap(), "--population", pop.to_str().unwrap()]);
    let shown = text(&out.stdout);
    assert!(shown.starts_with("NOT FEASIBLE: registrations within 30 days"), "{shown}");
    assert!(shown.contains("short: NYC-FO on 2027-01-15"), "{shown}");
    assert!(shown.contains("would fit every office"), "{shown}");
}

#[test]
fn office_visits_contact_details_and_changes_of_address_never_reach_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url, token, log) = demo_served_with_log(dir.path());
    let person = r#"{"document": {"kind": "P", "issuing_state": "UTO", "number": "VIS000001", "expires_on": "2031-04-15"}, "surname": "VISITOR", "given_names": "C", "birth_date": "1981-02-03", "sex": "F", "nationality": "UTO"}"#;
    let (st, b) = http(&format!("{url}subjects"), "POST", &token, Some(person));
    assert_eq!(st, 201, "{b}");
    let id = b.split("\"id\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let moved = r#"{"change": "address", "changed_on": "2026-07-01", "address": {"street": "77 Quince Lane", "city": "Brooklyn", "postal_code": "11201"}}"#;
    let (st, b) = http(&format!("{url}subjects/{id}/changes"), "POST", &token, Some(moved));
    assert_eq!(st, 201, "{b}");
    let (st, b) =
        http(&format!("{url}offices/NYC-FO/queue"), "POST", &token, Some(&format!(r#"{{"subject": "{id}"}}"#)));
    assert_eq!(st, 201, "{b}");
    let (st, b) = http(&format!("{url}offices/NYC-FO/queue/call"), "POST", &token, Some(r#"{"desk": 1}"#));
    assert_eq!(st, 200, "{b}");
    let contact = r#"{"email": "quince.lane@example.org", "language": "ar"}"#;
    let (st, b) = http(&format!("{url}subjects/{id}/contact"), "POST", &token, Some(contact));
    assert_eq!(st, 201, "{b}");
    let (st, b) = http(
        &format!("{url}offices/NYC-FO/queue/{id}/done"),
        "POST",
        &token,
        Some(r#"{"outcome": "sent-elsewhere", "to": "CHI-FO", "reason": "Needs the Quince Lane interpreter"}"#),
    );
    assert_eq!(st, 201, "{b}");
    // A refused booking is answered, and its input is not logged either.
    let (st, _) = http(
        &format!("{url}subjects/{id}/appointments"),
        "POST",
        &token,
        Some(r#"{"obligation": "Quince/v1/obligations[0]/1"}"#),
    );
    assert_eq!(st, 422);
    stop(&mut child);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("checked in") && logged.contains("visit ended"), "{logged}");
    assert!(logged.contains("contact details recorded"), "{logged}");
    for personal in ["VISITOR", "VIS000001", "1981-02-03", "Quince", "quince", "Brooklyn", "11201", "interpreter"] {
        assert!(!logged.contains(personal), "{personal} in the log:\n{logged}");
    }
}

#[test]
fn biometrics_compare_scores_two_records_and_evaluate_measures_the_error_rates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |name: &str, rec: &fairgate_core::minutiae::MinutiaeRecord| {
        let p = d.join(name);
        std::fs::write(&p, fairgate_core::minutiae::encode(rec).unwrap()).unwrap();
        p
    };
    let a = fairgate_biometrics::synthetic::minutiae(9, &[2, 7]);
    // The same fingers captured again: turned a little, moved, two minutiae missed.
    let mut again = a.clone();
    for v in &mut again.views {
        v.minutiae.truncate(v.minutiae.len() - 2);
        for m in &mut v.minutiae {
            m.x += 12;
            m.y = m.y.saturating_sub(7);
        }
    }
    let (pa, pb) = (write("a.fmr", &a), write("b.fmr", &again));
    let pc = write("c.fmr", &fairgate_biometrics::synthetic::minutiae(10, &[2, 7]));
    let run = |args: &[&str]| fairgate(d, args);
    let same = run(&["biometrics", "compare", pa.to_str().unwrap(), pb.to_str().unwrap(), "--json"]);
    assert!(same.status.success(), "{}", text(&same.stderr));
    let v: serde_json::Value = serde_json::from_str(&text(&same.stdout)).unwrap();
    assert_eq!((v["decision"].as_str(), v["fingers"].clone()), (Some("match"), serde_json::json!([2, 7])), "{v}");
    assert!(v["score"].as_f64().unwrap() > v["threshold"].as_f64().unwrap());
    let other = run(&["biometrics", "compare", pa.to_str().unwrap(), pc.to_str().unwrap()]);
    assert!(text(&other.stdout).contains("no-match"), "{}", text(&other.stdout));
    // A CBEFF XML file, as GET /subjects/{id}/biometrics exports one.
    let bir = fairgate_core::cbeff::Bir {
        format_owner: fairgate_core::cbeff::SC37,
        format_type: fairgate_core::cbeff::FORMAT_FINGER_MINUTIAE,
        created: "2026-11-30T09:00:00Z".parse().unwrap(),
        modality: fairgate_core::cbeff::Modality::Finger,
        finger: None,
        level: fairgate_core::cbeff::Level::Processed,
        quality: None,
        bdb: fairgate_core::minutiae::encode(&a).unwrap(),
    };
    let xml = d.join("a.xml");
    std::fs::write(&xml, fairgate_core::cbeff::to_xml(&[bir])).unwrap();
    let from_xml = run(&["biometrics", "compare", xml.to_str().unwrap(), pb.to_str().unwrap(), "--json"]);
    assert!(from_xml.status.success(), "{}", text(&from_xml.stderr));
    let v: serde_json::Value = serde_json::from_str(&text(&from_xml.stdout)).unwrap();
    assert_eq!(v["decision"], "match", "{v}");
    let face = d.join("face.jpg");
    std::fs::write(&face, b"\xFF\xD8\xFF\xE0 not much of a face").unwrap();
    let refused = run(&["biometrics", "compare", pa.to_str().unwrap(), face.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("not of one modality"), "{}", text(&refused.stderr));
    // Two faces, with no face matcher where --faces points: said so, with what to run.
    let nowhere = d.join("no-faces");
    let refused = run(&[
        "biometrics",
        "compare",
        face.to_str().unwrap(),
        face.to_str().unwrap(),
        "--faces",
        nowhere.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    let err = text(&refused.stderr);
    assert!(err.contains("face matcher is not installed") && err.contains("setup-faces.sh"), "{err}");
    // With the matcher (scripts/setup-faces.sh; CI installs it): real photographs.
    let faces = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fairgate-faces");
    if faces.join("libonnxruntime.so").is_file() {
        let photo = |n: &str| faces.join("photos").join(n).to_str().unwrap().to_string();
        let f = faces.to_str().unwrap();
        let same =
            run(&["biometrics", "compare", &photo("astronaut.png"), &photo("astronaut.png"), "--json", "--faces", f]);
        assert!(same.status.success(), "{}", text(&same.stderr));
        let v: serde_json::Value = serde_json::from_str(&text(&same.stdout)).unwrap();
        assert_eq!((v["modality"].as_str(), v["decision"].as_str()), (Some("face"), Some("match")), "{v}");
        let other = run(&["biometrics", "compare", &photo("astronaut.png"), &photo("camera.png"), "--faces", f]);
        assert!(text(&other.stdout).contains("no-match"), "{}", text(&other.stdout));
    } else {
        assert!(std::env::var_os("FAIRGATE_REQUIRE_FACES").is_none(), "the face matcher is not installed");
    }
    let svg = d.join("det.svg");
    let eval = run(&[
        "biometrics",
        "evaluate",
        "--fingers",
        "20",
        "--impostors",
        "5",
        "--det",
        svg.to_str().unwrap(),
        "--json",
    ]);
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&eval.stdout)).unwrap();
    assert_eq!((r["genuine"].as_u64(), r["impostor"].as_u64(), r["seed"].as_u64()), (Some(20), Some(100), Some(2002)));
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<polyline"));

    // The same set on disk, read back with --set: the same pairs, the same groups,
    // and (minutiae rounded to whole pixels and ISO angle units) nearly the same rates.
    let set = d.join("set");
    let wrote = run(&["biometrics", "evaluate", "--write-set", set.to_str().unwrap(), "--fingers", "40"]);
    assert!(wrote.status.success(), "{}", text(&wrote.stderr));
    let labels = std::fs::read_to_string(set.join("labels.csv")).unwrap();
    assert!(labels.starts_with("file,subject,sex,age\n"), "{labels}");
    assert_eq!(labels.lines().count(), 81);
    let generated = run(&["biometrics", "evaluate", "--fingers", "40", "--json"]);
    let generated: serde_json::Value = serde_json::from_str(&text(&generated.stdout)).unwrap();
    let read = run(&["biometrics", "evaluate", "--set", set.to_str().unwrap(), "--json"]);
    assert!(read.status.success(), "{}", text(&read.stderr));
    let read: serde_json::Value = serde_json::from_str(&text(&read.stdout)).unwrap();
    // Every record against every other subject's: twice the generated set's pairs.
    assert_eq!((read["genuine"].as_u64(), read["impostor"].as_u64()), (Some(40), Some(80 * 78)), "{read}");
    let groups = |v: &serde_json::Value| -> Vec<String> {
        v["groups"].as_array().unwrap().iter().map(|g| g["group"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(groups(&read), groups(&generated));
    let fnmr = |v: &serde_json::Value, g: &str| {
        v["groups"].as_array().unwrap().iter().find(|x| x["group"] == g).unwrap()["fnmr"].as_f64().unwrap()
    };
    assert!((fnmr(&read, "age=65+") - fnmr(&generated, "age=65+")).abs() <= 0.2, "{read} {generated}");
    assert!(
        read["groups"].as_array().unwrap().iter().any(|g| g["group"] == "age=65+" && g["flagged"] == true),
        "{read}"
    );
    // A set without labels.csv says what it needs.
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let refused = run(&["biometrics", "evaluate", "--set", empty.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("file,subject"), "{}", text(&refused.stderr));
}
