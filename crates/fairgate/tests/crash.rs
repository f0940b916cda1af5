//! Issue 21: crash injection. `fairgate serve` runs under sustained writes (entries
//! with idempotency keys, new people, logged reads, an expungement, master-key
//! rotations every second) while `fairgate import` loads a legacy file beside it;
//! at a random moment both are killed with SIGKILL. The server is started again
//! and the import run again, and then:
//!
//! 1. every write that was acknowledged is there (each acknowledged entry exactly
//!    once, each acknowledged person found by passport, each acknowledged read's
//!    access leaf inside the log, an acknowledged expungement complete);
//! 2. `audit verify` passes;
//! 3. no two checkpoints seen (before the kill and after) were signed at one size
//!    with different roots;
//! 4. every interrupted bulk operation resumes to completion (the import finds
//!    every row written; a rotation cut short finishes on open).
//!
//! A program-wide expungement (`fairgate expunge --program`, another process, its
//! notice period over) starts at a moment drawn from the run, often shortly before
//! the kill, so that the kill lands inside it; after the restart it is run again
//! and must end with one certificate and the program's people gone.
//!
//! Runs `FAIRGATE_CRASH_RUNS` times (default 20, as CI runs it; the campaign for
//! RELIABILITY.md is 200) on SQLite, and `FAIRGATE_CRASH_PG_RUNS` times (default
//! 10) on PostgreSQL when `FAIRGATE_TEST_POSTGRES` names a database: each run
//! copies the prepared database into a schema of its own (`migrate-store`), and
//! the kill takes the Fairgate processes, not the database server. Each run's kill moment comes from its number (through
//! the project's SplitMix64, `fairgate_biometrics::evaluation::Rng`), so a
//! failing run is reproduced with `FAIRGATE_CRASH_FIRST=N FAIRGATE_CRASH_RUNS=1`.
//! The summary goes to `target/crash-report.json`.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const IMPORT_ROWS: usize = 2_000;
/// The people of the program whose expungement runs during each run.
const GONE_ROWS: usize = 1_500;

/// One request; `None` when the connection failed or broke (not acknowledged).
fn request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Option<(u16, Value)> {
    let host = base.strip_prefix("http://")?.trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body.as_bytes()).ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    let text = String::from_utf8_lossy(&out);
    let status: u16 = text.split_whitespace().nth(1)?.parse().ok()?;
    let (_, b) = text.split_once("\r\n\r\n")?;
    Some((status, serde_json::from_str(b).unwrap_or(Value::Null)))
}

struct Template {
    _dir: tempfile::TempDir,
    root: PathBuf,
    officer: String,
    auditor: String,
    admin: String,
    people: Vec<String>,
    import: PathBuf,
}

/// A demo database with a program to import into and a legacy file, made once.
fn template() -> Template {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let fg = |args: &[&str]| common::fairgate_at(&root.join("data"), &root.join("keys"), args);
    let out = fg(&["demo", "--travellers", "300"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let pop = root.join("population.jsonl");
    std::fs::write(&pop, "{\"nationality\":\"UTO\",\"sex\":\"M\",\"birth_date\":\"1970-01-01\",\"stay_days\":40}\n")
        .unwrap();
    // A program drafted with a legacy file of `rows` people numbered `prefix…`.
    let legacy_program = |id: &str, title: &str, prefix: &str, rows: usize| -> PathBuf {
        let file = root.join(format!("{id}.toml"));
        std::fs::write(
            &file,
            format!("id = \"{id}\"\ntitle = \"{title}\"\nlegal_basis = \"67 FR 67766\"\nstarts = 2026-01-01\nsunset = 2026-12-31\n[selection]\nmin_stay_days = 30\n"),
        )
        .unwrap();
        let add = fg(&[
            "program",
            "add",
            file.to_str().unwrap(),
            "--population",
            pop.to_str().unwrap(),
            "--as",
            "demo-admin",
        ]);
        assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
        let mut csv = String::from("document_kind,issuing_state,document_number,document_expires_on,surname,given_names,birth_date,sex,nationality,registration_kind,place,registered_at\n");
        for i in 0..rows {
            csv.push_str(&format!(
                "P,UTO,{prefix}{i:06},2030-01-01,{prefix}{i},TEST,1970-01-01,X,UTO,office,NYC-FO,2003-01-10\n"
            ));
        }
        let path = root.join(format!("{id}.csv"));
        std::fs::write(&path, csv).unwrap();
        path
    };
    let import = legacy_program("old-callin", "Old call-in", "IMP", IMPORT_ROWS);
    // A program whose expungement each run carries out: its people imported, the
    // program repealed, approved for expungement and noticed 40 days ago (in this
    // process, back-dated: the notice period is 30 days at least), so that
    // `fairgate expunge --program gone-callin` erases at once.
    let gone_rows = legacy_program("gone-callin", "Gone call-in", "GONE", GONE_ROWS);
    let imported = fg(&["import", "--program", "gone-callin", gone_rows.to_str().unwrap(), "--as", "demo-admin"]);
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    notice_gone_program(&root);
    // People with no crossing yet, for the entries (a demo traveller may be in the
    // country already, and an entry then waits for an exit).
    let officer = common::demo_token(&stdout, "demo-officer");
    let mut people = Vec::new();
    {
        let (mut server, base, _) = common::start(
            &root.join("data"),
            &root.join("keys"),
            &["serve", "--listen", "127.0.0.1:0"],
            "Fairgate is serving on ",
        );
        let base = base.trim_end_matches('/').to_string();
        let auth = format!("Bearer {officer}");
        for i in 0..200 {
            let body = json!({"document": {"kind": "P", "issuing_state": "UTO", "number": format!("ENT{i:06}"), "expires_on": "2031-04-15"},
                "surname": format!("ENTRY{i}"), "given_names": "TEST", "birth_date": "1980-01-01", "sex": "X", "nationality": "UTO"});
            let (st, b) = request(&base, "POST", "/subjects", &[("Authorization", &auth)], Some(&body)).unwrap();
            assert_eq!(st, 201, "{b}");
            people.push(b["id"].as_str().unwrap().to_string());
        }
        common::stop(&mut server);
    }
    // And demo travellers to read and to expunge.
    people.extend(common::first_subjects(&root.join("data/fairgate.db"), 100));
    Template {
        officer,
        auditor: common::demo_token(&stdout, "demo-auditor"),
        admin: common::demo_token(&stdout, "demo-admin"),
        people,
        import,
        root,
        _dir: dir,
    }
}

/// Repeal `gone-callin`, have the demo auditor approve its expungement and the
/// demo admin open its notice period, all 40 days ago.
fn notice_gone_program(root: &Path) {
    use fairgate_core::expungement::ExpungementInput;
    let (data, keys) = (root.join("data"), root.join("keys"));
    let dir = fairgate_store::datadir::DataDir::open_or_create(&data, &keys, &mut rand::rngs::OsRng).unwrap();
    let backend = fairgate_store::backend::Opened::open(&fairgate_store::backend::Database::Sqlite(data)).unwrap();
    let reg =
        fairgate_store::Registry::open(backend.store(), dir.master_keys(), &dir.signing_seed, "crash/log", [7; 32])
            .unwrap();
    let then = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(40 * 24);
    let admin = fairgate::account(&reg, "demo-admin", "--as").unwrap();
    let auditor = fairgate::account(&reg, "demo-auditor", "--approved-by").unwrap();
    reg.write(then, |b| b.repeal_program(&admin, "gone-callin", "ended")).unwrap();
    let input = ExpungementInput { authority: "court-order".into(), reason: "The program ended".into() };
    reg.approve_program_expungement(then, &auditor, "gone-callin", &input).unwrap();
    reg.notice_program_expungement(then, &admin, "gone-callin", &input, 30).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    let ok = Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
    assert!(ok.success());
}

/// What the clients were told.
#[derive(Default)]
struct Acked {
    entries: Vec<String>,
    people: Vec<String>,
    reads: Vec<u64>,
    erased: Option<String>,
    checkpoints: HashMap<u64, String>,
    forks: Vec<String>,
}

fn note_checkpoint(acked: &Mutex<Acked>, note: &str) {
    let mut lines = note.lines();
    let (_, Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else { return };
    let Ok(size) = size.parse::<u64>() else { return };
    let mut a = acked.lock().unwrap();
    match a.checkpoints.get(&size) {
        Some(r) if r != root => {
            let fork = format!("two roots at size {size}: {r} and {root}");
            a.forks.push(fork);
        }
        Some(_) => {}
        None => {
            a.checkpoints.insert(size, root.to_string());
        }
    }
}

fn checkpoint_text(base: &str) -> Option<String> {
    let host = base.strip_prefix("http://")?.trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET /log/checkpoint HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.starts_with("HTTP/1.1 200").then(|| out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())).flatten()
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One run: load, kill at a moment drawn from `seed`, restart, check. Returns what
/// it saw, for the report.
fn run(t: &Template, n: u64, seed: u64, pg: Option<&str>) -> Value {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&t.root.join("data"), &dir.path().join("data"));
    copy_dir(&t.root.join("keys"), &dir.path().join("keys"));
    let (data, keys) = (dir.path().join("data"), dir.path().join("keys"));
    let mut rng = fairgate_biometrics::evaluation::Rng::new(seed);
    let kill_after = Duration::from_millis(300 + rng.next_u64() % 2_700);
    // The program-wide expungement starts up to 1.5 s before the kill.
    let expunge_at =
        kill_after.saturating_sub(Duration::from_millis(rng.next_u64() % 1_500)).max(Duration::from_millis(100));
    // On PostgreSQL: the prepared database, copied into a schema of this run's own.
    let (db, schema) = match pg {
        None => (Vec::new(), None),
        Some(url) => {
            let schema = fairgate_store::backend::test_schema(&dir.path().join("pg"));
            drop(fairgate_store::postgres::PgStore::open_in(url, Some(&schema)).unwrap());
            let target = common::in_schema(url, &schema);
            let from = format!("sqlite:{}", data.display());
            let out = common::fairgate_at(&data, &keys, &["migrate-store", "--from", &from, "--to", &target]);
            assert!(out.status.success(), "run {n}: migrate-store: {}", String::from_utf8_lossy(&out.stderr));
            (vec!["--database".to_string(), target], Some((url.to_string(), schema)))
        }
    };
    let with_db = |args: &[&str]| -> Vec<String> {
        args.iter().map(|a| a.to_string()).chain(db.iter().cloned()).collect::<Vec<String>>()
    };
    let fg = |args: &[&str]| {
        let args = with_db(args);
        common::fairgate_at(&data, &keys, &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    // Each server's log is kept: a background job that fails (the compliance run
    // at start-up, say) fails the run.
    let start = |args: &[&str], log: &Path| {
        let args = with_db(args);
        let args = args.iter().map(String::as_str).collect::<Vec<_>>();
        common::start_logged(&data, &keys, &args, "Fairgate is serving on ", Some(log))
    };
    let (killed_log, restarted_log) = (dir.path().join("killed.log"), dir.path().join("restarted.log"));
    let spawn = |args: &[&str]| {
        Killed(
            Command::new(env!("CARGO_BIN_EXE_fairgate"))
                .arg("--data")
                .arg(&data)
                .arg("--keys")
                .arg(&keys)
                .args(with_db(args))
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    };

    let (server, base, _) = start(&["serve", "--listen", "127.0.0.1:0", "--rotate-every", "1s"], &killed_log);
    let base = base.trim_end_matches('/').to_string();
    let import = spawn(&["import", "--program", "old-callin", t.import.to_str().unwrap(), "--as", "demo-admin"]);
    let acked = Arc::new(Mutex::new(Acked::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    // Entries for distinct people, each with an idempotency key, retried with it.
    for w in 0..3usize {
        let (base, acked, stop, token) = (base.clone(), acked.clone(), stop.clone(), t.officer.clone());
        let people: Vec<String> = t.people.iter().skip(w * 60).take(60).cloned().collect();
        clients.push(std::thread::spawn(move || {
            for id in people {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let key = format!("crash-{n}-{id}");
                let body = json!({"direction": "entry", "port": "JFK", "at": "2026-09-01T10:00:00Z",
                    "admission_class": "B-2", "admitted_until": "2026-11-30"});
                let headers = [("Authorization", &format!("Bearer {token}")[..]), ("Idempotency-Key", &key[..])];
                // Acknowledged: 201, or 409 "recorded already" (a retry of a try
                // that landed). A 409 "busy" (another process appended at the same
                // moment: nothing was written) or a 503 is retried with the same key,
                // as a client would; a broken connection (the kill) is not an answer.
                for _ in 0..50 {
                    match request(&base, "POST", &format!("/subjects/{id}/crossings"), &headers, Some(&body)) {
                        Some((201, _)) => acked.lock().unwrap().entries.push(id.clone()),
                        Some((409, b)) if b["type"] == "/problems/already-recorded" => {
                            acked.lock().unwrap().entries.push(id.clone())
                        }
                        Some((409 | 503, _)) if !stop.load(Ordering::Relaxed) => {
                            std::thread::sleep(Duration::from_millis(20));
                            continue;
                        }
                        _ => {}
                    }
                    break;
                }
            }
        }));
    }
    // New people.
    {
        let (base, acked, stop, token) = (base.clone(), acked.clone(), stop.clone(), t.officer.clone());
        clients.push(std::thread::spawn(move || {
            for i in 0..10_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let number = format!("CR{n:03}X{i:05}");
                let body = json!({"document": {"kind": "P", "issuing_state": "UTO", "number": number, "expires_on": "2031-04-15"},
                    "surname": format!("CRASH{i}"), "given_names": "TEST", "birth_date": "1980-01-01", "sex": "X", "nationality": "UTO"});
                let auth = format!("Bearer {token}");
                if let Some((201, _)) = request(&base, "POST", "/subjects", &[("Authorization", &auth)], Some(&body)) {
                    acked.lock().unwrap().people.push(number);
                }
            }
        }));
    }
    // Logged reads.
    {
        let (base, acked, stop, token) = (base.clone(), acked.clone(), stop.clone(), t.officer.clone());
        let people = t.people[200..].to_vec();
        clients.push(std::thread::spawn(move || {
            for id in people.iter().cycle() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let auth = format!("Bearer {token}");
                let headers = [("Authorization", &auth[..]), ("Fairgate-Purpose", "border-check")];
                if let Some((200, b)) = request(&base, "GET", &format!("/subjects/{id}"), &headers, None) {
                    if let Some(leaf) = b["access_receipt"]["leaf_index"].as_u64() {
                        acked.lock().unwrap().reads.push(leaf);
                    }
                }
            }
        }));
    }
    // One expungement, approved by the auditor and made by the administrator.
    {
        let (base, acked, auditor, admin) = (base.clone(), acked.clone(), t.auditor.clone(), t.admin.clone());
        let id = t.people[299].clone();
        clients.push(std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let body = json!({"authority": "court-order", "reason": "Crash test"});
            let a = format!("Bearer {auditor}");
            if let Some((201, _)) = request(
                &base,
                "POST",
                &format!("/subjects/{id}/expunge/approve"),
                &[("Authorization", &a)],
                Some(&body),
            ) {
                let m = format!("Bearer {admin}");
                if let Some((200 | 201, _)) =
                    request(&base, "POST", &format!("/subjects/{id}/expunge"), &[("Authorization", &m)], Some(&body))
                {
                    acked.lock().unwrap().erased = Some(id);
                }
            }
        }));
    }
    // The checkpoints, as a monitor would see them.
    {
        let (base, acked, stop) = (base.clone(), acked.clone(), stop.clone());
        clients.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(note) = checkpoint_text(&base) {
                    note_checkpoint(&acked, &note);
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        }));
    }

    std::thread::sleep(expunge_at);
    let mut program_expunge = spawn(&["expunge", "--program", "gone-callin", "--as", "demo-admin"]);
    std::thread::sleep(kill_after - expunge_at);
    // The power goes: the server, the import and the expungement, at once.
    let program_expunge_ended = match program_expunge.0.try_wait().unwrap() {
        Some(status) if status.success() => "acknowledged",
        Some(_) => "failed",
        None => "cut",
    };
    let mut server = server;
    let _ = server.0.kill();
    let _ = server.0.wait();
    drop(import);
    let _ = program_expunge.0.kill();
    drop(program_expunge);
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }

    // Where the kill left the program-wide expungement, read from the store before
    // anything starts again: erasing (its journal open), certified (its event
    // written), or not begun.
    let open_store = || -> Arc<dyn fairgate_store::Store> {
        match &schema {
            None => fairgate_store::backend::Opened::open(&fairgate_store::backend::Database::Sqlite(data.clone()))
                .unwrap()
                .store(),
            Some((url, schema)) => Arc::new(fairgate_store::postgres::PgStore::open_in(url, Some(schema)).unwrap()),
        }
    };
    let program_events = |store: &dyn fairgate_store::Store| {
        let key = fairgate_core::expungement::Scope::Program { program: "gone-callin".into() }.key();
        let kind = fairgate_core::event::EventKind::Expunged.code();
        store.system_leaves(kind).unwrap().into_iter().filter(|(_, k)| *k == key).count()
    };
    let program_expunge_at_kill = {
        let store = open_store();
        let journal = store.meta("program-expungements-under-way").unwrap().unwrap_or_default();
        match (program_events(store.as_ref()), journal.contains("gone-callin")) {
            (1, _) => "certified",
            (_, true) => "erasing",
            _ => "not begun",
        }
    };

    // Back up: the server finishes what was interrupted on open; the import is
    // run again and must finish.
    let (server, base, _) = start(&["serve", "--listen", "127.0.0.1:0", "--rotate-days", "0"], &restarted_log);
    let base = base.trim_end_matches('/').to_string();
    let out = fg(&["import", "--program", "old-callin", t.import.to_str().unwrap(), "--as", "demo-admin"]);
    assert!(out.status.success(), "run {n}: the import did not resume: {}", String::from_utf8_lossy(&out.stderr));
    // The store, read directly (beside the server: SQLite's WAL, or PostgreSQL).
    let store = open_store();
    let program_events = || program_events(store.as_ref());
    // An expungement cut after it began erasing was finished by the server as it
    // started (its journal); one cut before that is run again, as an operator would.
    let program_expunge_resumed = if program_events() == 1 {
        "on start"
    } else {
        let out = fg(&["expunge", "--program", "gone-callin", "--as", "demo-admin"]);
        let said = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            out.status.success() && said.contains("expunged:"),
            "run {n}: the program expungement did not finish when run again: {said}"
        );
        "run again"
    };
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let auth = format!("Bearer {}", t.officer);
    let read = [("Authorization", &auth[..]), ("Fairgate-Purpose", "border-check")];
    // 1. Every acknowledged write is there.
    for id in &acked.entries {
        let (st, b) = request(&base, "GET", &format!("/subjects/{id}"), &read, None).unwrap();
        assert_eq!(st, 200, "run {n}: {id}: {b}");
        let entries = b["crossings"].as_array().unwrap().iter().filter(|c| c["at"] == "2026-09-01T10:00:00Z").count();
        assert_eq!(entries, 1, "run {n}: the acknowledged entry of {id} is there {entries} times");
    }
    let lookup = |number: &str| -> usize {
        let (st, b) =
            request(&base, "POST", "/subjects/lookup", &read, Some(&json!({"document_number": number}))).unwrap();
        assert_eq!(st, 200, "run {n}: lookup {number}: {b}");
        b["subjects"].as_array().unwrap().len()
    };
    for number in &acked.people {
        assert_eq!(lookup(number), 1, "run {n}: the acknowledged person {number} is not on record once");
    }
    if let Some(id) = &acked.erased {
        let (st, _) = request(&base, "GET", &format!("/subjects/{id}"), &read, None).unwrap();
        assert_eq!(st, 410, "run {n}: the acknowledged expungement of {id} is not complete");
    }
    // 4. The import finished: its first, last and every 97th row.
    for i in (0..IMPORT_ROWS).step_by(97).chain([IMPORT_ROWS - 1]) {
        assert_eq!(lookup(&format!("IMP{i:06}")), 1, "run {n}: import row {i} is missing after the rerun");
    }
    // And the program-wide expungement finished: its people are gone, and it was
    // certified once, whether the kill cut it or not.
    for i in (0..GONE_ROWS).step_by(101).chain([GONE_ROWS - 1]) {
        assert_eq!(lookup(&format!("GONE{i:06}")), 0, "run {n}: program person {i} is still there");
    }
    assert_eq!(program_events(), 1, "run {n}: the program expungement was not certified exactly once");
    let key = store.program_keys().unwrap().into_iter().find(|k| k.program == "gone-callin");
    assert!(key.is_some_and(|k| k.wrapped.is_none()), "run {n}: the expunged program's key still exists");
    // 3. Checkpoints: one each time this is looked at after the restart (the
    // killed server's signing lease must run out before a new one is signed).
    let seen_mx = Mutex::new(Acked { checkpoints: acked.checkpoints.clone(), ..Acked::default() });
    if let Some(note) = checkpoint_text(&base) {
        note_checkpoint(&seen_mx, &note);
    }
    let seen = seen_mx.into_inner().unwrap();
    assert!(acked.forks.is_empty() && seen.forks.is_empty(), "run {n}: {:?} {:?}", acked.forks, seen.forks);
    // The restarted server's compliance run (it runs as the server starts) finished,
    // and no background job failed in either server's life.
    let said = |log: &Path| std::fs::read_to_string(log).unwrap_or_default();
    let waited = Instant::now();
    while !said(&restarted_log).contains("daily compliance and retention run") {
        let log = said(&restarted_log);
        assert!(
            !log.contains("the compliance run failed") && waited.elapsed() < Duration::from_secs(120),
            "run {n}: the compliance run after the restart did not finish: {}",
            errors(&log)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for (which, log) in [("killed", &killed_log), ("restarted", &restarted_log)] {
        let errors = errors(&said(log));
        assert!(errors.is_empty(), "run {n}: the {which} server logged errors:\n{errors}");
    }
    // 2. The log verifies; every acknowledged read's access leaf is in it.
    let mut server = server;
    common::stop(&mut server);
    let db_args: Vec<&str> = db.iter().map(String::as_str).collect();
    let size = common::verified_leaves_with(&data, &keys, &db_args);
    for leaf in &acked.reads {
        assert!(*leaf < size, "run {n}: an acknowledged read's access leaf {leaf} is beyond the log ({size} leaves)");
    }
    // Every checkpoint anyone saw is the one stored at its size, and `audit verify`
    // above checked each stored one against the leaves: no size has two roots.
    let stored: HashMap<u64, String> = {
        use base64::Engine;
        let rows = store.checkpoints().unwrap();
        rows.into_iter().map(|c| (c.size, base64::engine::general_purpose::STANDARD.encode(c.root))).collect()
    };
    for (at, root) in &seen.checkpoints {
        let stored =
            stored.get(at).unwrap_or_else(|| panic!("run {n}: the checkpoint seen at size {at} is not stored"));
        assert_eq!(stored, root, "run {n}: the checkpoint seen at size {at} is not the one stored there");
    }
    if let Some((url, schema)) = &schema {
        let _ = fairgate_store::postgres::PgStore::open_in(url, Some(schema)).and_then(|s| s.drop_schema());
    }
    json!({
        "run": n,
        "killed_after_ms": kill_after.as_millis() as u64,
        "entries_acknowledged": acked.entries.len(),
        "people_acknowledged": acked.people.len(),
        "reads_acknowledged": acked.reads.len(),
        "expungement_acknowledged": acked.erased.is_some(),
        "checkpoints_seen": seen.checkpoints.len(),
        "program_expunge_started_ms": expunge_at.as_millis() as u64,
        "program_expunge": program_expunge_ended,
        "program_expunge_at_kill": program_expunge_at_kill,
        "program_expunge_finished": program_expunge_resumed,
    })
}

/// The ERROR lines of a server's log.
fn errors(log: &str) -> String {
    log.lines().filter(|l| l.contains("ERROR")).collect::<Vec<_>>().join("\n")
}

/// `runs` runs from `first` on (PostgreSQL at `pg` when given); the summary goes to
/// `target/crash-report{suffix}.json`.
fn campaign(runs: u64, first: u64, pg: Option<&str>, suffix: &str) {
    let t = template();
    let started = Instant::now();
    let mut report = Vec::new();
    for n in first..first + runs {
        let r = run(&t, n, 0x5eed_0000 + n, pg);
        eprintln!("[crash{suffix}] {r}");
        report.push(r);
    }
    let total = |k: &str| report.iter().map(|r| r[k].as_u64().unwrap_or(0)).sum::<u64>();
    let expunges = |how: &str| report.iter().filter(|r| r["program_expunge"] == how).count();
    let at_kill = |how: &str| report.iter().filter(|r| r["program_expunge_at_kill"] == how).count();
    let summary = json!({
        "runs": runs,
        "first": first,
        "database": if pg.is_some() { "postgresql" } else { "sqlite" },
        "seconds": started.elapsed().as_secs(),
        "entries_acknowledged": total("entries_acknowledged"),
        "people_acknowledged": total("people_acknowledged"),
        "reads_acknowledged": total("reads_acknowledged"),
        "expungements_acknowledged": report.iter().filter(|r| r["expungement_acknowledged"] == true).count(),
        "program_expungements": {
            "cut": expunges("cut"), "acknowledged": expunges("acknowledged"), "failed": expunges("failed"),
            "erasing_at_kill": at_kill("erasing"), "certified_at_kill": at_kill("certified"), "not_begun_at_kill": at_kill("not begun"),
        },
        "lost": 0,
        "runs_detail": report,
    });
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../target/crash-report{suffix}.json"));
    let _ = std::fs::write(&out, serde_json::to_string_pretty(&summary).unwrap());
    eprintln!("[crash{suffix}] {runs} runs, nothing acknowledged lost, in {} s", started.elapsed().as_secs());
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn killed_at_any_moment_nothing_acknowledged_is_lost_and_everything_resumes() {
    campaign(env_u64("FAIRGATE_CRASH_RUNS", 20), env_u64("FAIRGATE_CRASH_FIRST", 1), None, "");
}

#[test]
fn on_postgresql_killed_at_any_moment_nothing_acknowledged_is_lost_and_everything_resumes() {
    let Some(url) = fairgate_store::backend::test_postgres() else {
        eprintln!(
            "neither FAIRGATE_TEST_POSTGRES nor FAIRGATE_TEST_DATABASE is set: the PostgreSQL crash runs are not run"
        );
        return;
    };
    campaign(env_u64("FAIRGATE_CRASH_PG_RUNS", 10), env_u64("FAIRGATE_CRASH_FIRST", 1), Some(&url), "-postgresql");
}
