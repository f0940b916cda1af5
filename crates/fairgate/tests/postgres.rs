//! Fairgate on PostgreSQL from the command line: `migrate-store` copies a demo
//! database out of SQLite (and resumes as a no-op), and `--database` then serves
//! and verifies the copy. Runs when `FAIRGATE_TEST_POSTGRES` or
//! `FAIRGATE_TEST_DATABASE` names a database (`.ci/run` sets the first); each run
//! gets a schema of its own.

mod common;

use std::path::Path;
use std::process::Output;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: Output, what: &str) -> String {
    assert!(out.status.success(), "{what}: {}{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

fn fairgate(dir: &Path, args: &[&str]) -> Output {
    common::fairgate_at(&dir.join("data"), &dir.join("keys"), args)
}

/// The root an `audit verify` printed (`ok: N leaves, root HEX, …`).
fn root_of(verify: &str) -> String {
    verify.split("root ").nth(1).and_then(|r| r.split(',').next()).expect(verify).to_string()
}

#[test]
fn a_demo_database_moves_to_postgresql_and_serves_and_verifies_there_with_the_same_root() {
    let Some(url) = fairgate_store::backend::test_postgres() else {
        eprintln!("neither FAIRGATE_TEST_POSTGRES nor FAIRGATE_TEST_DATABASE is set: not run");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    ok(fairgate(dir.path(), &["demo", "--travellers", "150"]), "demo");
    let sqlite_root = root_of(&ok(fairgate(dir.path(), &["audit", "verify"]), "verify on SQLite"));
    // The schema, made empty (the store creates its tables there).
    let schema = fairgate_store::backend::test_schema(&dir.path().join("pg"));
    drop(fairgate_store::postgres::PgStore::open_in(&url, Some(&schema)).unwrap());
    let target = common::in_schema(&url, &schema);
    let from = format!("sqlite:{}", dir.path().join("data").display());

    let out = ok(fairgate(dir.path(), &["migrate-store", "--from", &from, "--to", &target]), "migrate-store");
    assert!(out.contains("the same root"), "{out}");
    assert!(out.contains(&sqlite_root), "{out}");
    // The password is never printed.
    let password = url.split("://").nth(1).and_then(|r| r.split('@').next()).and_then(|u| u.split_once(':'));
    if let Some((_, password)) = password {
        assert!(!out.contains(&format!(":{password}@")), "{out}");
    }

    // Run again: resumed at the end, nothing copied twice.
    let again = ok(fairgate(dir.path(), &["migrate-store", "--from", &from, "--to", &target]), "migrate-store again");
    assert!(again.contains("resumed") && again.contains("copied 0 leaves and 0 rows"), "{again}");

    let verify = ok(fairgate(dir.path(), &["--database", &target, "audit", "verify"]), "verify on PostgreSQL");
    assert_eq!(root_of(&verify), sqlite_root);

    // Served from PostgreSQL: the same log, and it goes on growing there.
    let (child, base, _) = common::start(
        &dir.path().join("data"),
        &dir.path().join("keys"),
        &["--database", &target, "serve", "--listen", "127.0.0.1:0"],
        "Fairgate is serving on ",
    );
    let health = common::http_get(&format!("{base}healthz"));
    assert!(health.starts_with("HTTP/1.1 200") && health.contains(r#""status":"ok""#), "{health}");
    let checkpoint = common::http_get(&format!("{base}log/checkpoint"));
    assert!(checkpoint.contains("\r\n\r\nfairgate.localhost/log\n"), "{checkpoint}");
    drop(child);

    // A wrong --database is refused naming the forms accepted, and no password.
    let bad = fairgate(dir.path(), &["--database", "mysql://u:hunter2@h/db", "audit", "verify"]);
    assert!(!bad.status.success());
    let err = text(&bad.stderr);
    assert!(err.contains("postgres://") && !err.contains("hunter2"), "{err}");
}
