//! The README's curl walkthrough, run as written against `serve --demo`, so that it
//! stays true. The shell block under "A five-minute walkthrough with curl" is taken
//! from README.md as it is; the only substitutions are the ones a reader makes: the
//! server's address, the two tokens the demo printed, and `cargo run --release --`
//! for the binary under test. Every HTTP status is recorded, and the sequence must be
//! the one below: a README step that starts failing (or a new step) fails this test.

use std::path::Path;
use std::process::Command;

mod common;
use common::serve;

/// The walkthrough's shell block.
fn walkthrough(readme: &str) -> String {
    let section = readme.split("## A five-minute walkthrough with curl").nth(1).expect("the walkthrough section");
    let block = section.split("```sh\n").nth(1).expect("its shell block");
    block.split("\n```").next().unwrap().to_string()
}

/// The statuses the walkthrough's requests answer, in order (`program check` and
/// `audit monitor` are commands, recorded as `exit N`).
const EXPECTED: &[&str] = &[
    "200",    // healthz
    "200",    // ports
    "200",    // offices
    "201",    // create the subject
    "201",    // the registration (voluntary)
    "200",    // the access policy
    "201",    // the entry
    "422",    // an exit before its entry, refused and naming the field
    "200",    // stay
    "200",    // overstays, as the supervisor
    "403",    // a read without a purpose
    "200",    // the same read with one
    "200",    // the person's biometric records (CBEFF)
    "200",    // lookup by document number
    "200",    // programs
    "exit 0", // a program that checks
    "exit 1", // the 2002 call-in, refused
    "200",    // transparency.json
    "200",    // a report table as CSV
    "200",    // the latest checkpoint
    "200",    // the log key
    "200",    // two raw leaves
    "200",    // an inclusion proof
    "exit 0", // audit monitor
];

#[test]
fn the_readme_walkthrough_runs_as_written_against_serve_demo() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let script = walkthrough(&readme);
    let bin = env!("CARGO_BIN_EXE_fairgate");

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fairgate-data");
    let (child, url, printed) = serve(&data, &["--demo"]);
    let url = url.trim_end_matches('/').to_string();
    let token = |name: &str| {
        printed
            .iter()
            .find(|l| l.trim_start().starts_with(name))
            .and_then(|l| l.split("token ").nth(1))
            .unwrap_or_else(|| panic!("the demo printed no token for {name}: {printed:?}"))
            .trim()
            .to_string()
    };

    // What a reader substitutes, and nothing else.
    let script = script
        .replace("FG=http://127.0.0.1:8080", &format!("FG={url}"))
        .replace("TOKEN=fg_...              # the demo-officer token", &format!("TOKEN={}", token("demo-officer")))
        .replace(
            "SUPERVISOR_TOKEN=fg_...   # the demo-supervisor token",
            &format!("SUPERVISOR_TOKEN={}", token("demo-supervisor")),
        )
        .replace("cargo run --release --", &format!("record_exit {bin}"));
    assert!(!script.contains("fg_..."), "a token placeholder was not replaced: the README changed its wording");

    // Every curl records its status; every command its exit code.
    let log = dir.path().join("statuses");
    let prelude = format!(
        r#"STATUS_LOG={log}
curl() {{
  local out
  out=$(command curl -sS -w '\n%{{http_code}}' "$@")
  echo "${{out##*$'\n'}}" >> "$STATUS_LOG"
  printf '%s\n' "${{out%$'\n'*}}"
}}
record_exit() {{
  "$@"
  echo "exit $?" >> "$STATUS_LOG"
}}
"#,
        log = log.display()
    );
    // The relative paths of the walkthrough (docs/, crates/) are the repository's.
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    for d in ["docs", "crates"] {
        std::os::unix::fs::symlink(root.join(d), work.join(d)).unwrap();
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("{prelude}\n{script}"))
        .current_dir(&work)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    // For failure messages: every line, cut to a readable length (the report is long).
    let shown: String = stdout.lines().map(|l| format!("{}\n", l.chars().take(300).collect::<String>())).collect();
    let statuses = std::fs::read_to_string(&log).unwrap_or_default();
    let statuses: Vec<&str> = statuses.lines().collect();
    assert_eq!(
        statuses,
        EXPECTED,
        "the walkthrough's answers changed\nstdout:\n{shown}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The steps say what they show.
    assert!(stdout.contains("\"registration_number\":\"FG-") && stdout.contains("\"access_code\""), "{shown}");
    assert!(stdout.contains("/problems/purpose-required"), "the read without a purpose: {shown}");
    assert!(stdout.contains("\"actions\""), "the access policy: {shown}");
    assert!(stdout.contains("\"field\":\"direction\""), "the refused exit names the field: {shown}");
    assert!(stdout.contains("ok: checkpoint at"), "the monitor verified the log: {shown}");
    drop(child);
}
