//! Shared by the binary's tests: a served `fairgate` child process.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// A served child process, killed if the test fails before stopping it (a live
/// server would hold the test's output open and hang the run).
pub struct Serving(pub std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `fairgate --data DIR/data --keys DIR/keys serve --listen 127.0.0.1:0 EXTRA…` and wait until it
/// serves. Returns the child, its base URL (ending in `/`) and everything it printed
/// until then; its later output is read and dropped, as a terminal would.
pub fn serve(data: &Path, extra: &[&str]) -> (Serving, String, Vec<String>) {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    start(&data.join("data"), &data.join("keys"), &args, "Fairgate is serving on ")
}

/// Start `fairgate --data DATA --keys KEYS ARGS…` and wait for the line starting
/// with `ready` (which ends in the URL it serves on). Returns the child, that URL
/// and everything printed until then.
pub fn start(data: &Path, keys: &Path, args: &[&str], ready: &str) -> (Serving, String, Vec<String>) {
    start_logged(data, keys, args, ready, None)
}

/// As [`start`], with the process's log (at `info`) written to `log` when given.
pub fn start_logged(
    data: &Path,
    keys: &Path,
    args: &[&str],
    ready: &str,
    log: Option<&Path>,
) -> (Serving, String, Vec<String>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fairgate"));
    command.arg("--data").arg(data).arg("--keys").arg(keys).args(args).stdout(Stdio::piped());
    match log {
        Some(path) => command.env("RUST_LOG", "info").stderr(std::fs::File::create(path).unwrap()),
        None => command.env("RUST_LOG", "warn"),
    };
    let mut child = Serving(command.spawn().unwrap());
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let url = loop {
        let line = lines.next().expect("the command exited before it served").unwrap();
        printed.push(line.clone());
        if let Some(rest) = line.strip_prefix(ready) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (child, url, printed)
}

/// One HTTP/1.1 request with a bearer token (and a purpose for reads); (status, body).
pub fn http(url: &str, method: &str, token: &str, body: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nFairgate-Purpose: border-check\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

/// Stop a served child with SIGTERM and check it stopped cleanly.
pub fn stop(child: &mut Serving) {
    Command::new("kill").arg("-TERM").arg(child.0.id().to_string()).status().unwrap();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "serve should stop cleanly on SIGTERM: {status}");
}

/// The API token `fairgate demo` printed for `account` (e.g. `demo-officer`).
pub fn demo_token(stdout: &str, account: &str) -> String {
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with(account))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no token for {account} in:\n{stdout}"))
        .to_string()
}

/// The ids (hex) of the first `n` people in the database `db`.
pub fn first_subjects(db: &Path, n: usize) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut st =
        conn.prepare("SELECT subject_id FROM subject_keys WHERE subject_no > 0 ORDER BY subject_no LIMIT ?1").unwrap();
    let ids = st
        .query_map([n as i64], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|id| id.unwrap().iter().map(|b| format!("{b:02x}")).collect())
        .collect();
    ids
}

/// Run `fairgate --data DATA --keys KEYS ARGS…` to completion.
pub fn fairgate_at(data: &Path, keys: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fairgate"))
        .arg("--data")
        .arg(data)
        .arg("--keys")
        .arg(keys)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// The arguments of `fairgate expunge` for one demo person, by the demo's admin
/// with the demo auditor's approval.
pub fn expunge_args(id: &str) -> [&str; 11] {
    [
        "expunge",
        "--subject",
        id,
        "--authority",
        "court-order",
        "--reason",
        "Test",
        "--as",
        "demo-admin",
        "--approved-by",
        "demo-auditor",
    ]
}

/// A tiny HTTP/1.1 GET over a TCP socket (the binary's tests need no HTTP client crate).
pub fn http_get(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(s, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// Run `fairgate audit verify` on DATA/KEYS, require it to pass, and return the
/// number of leaves it verified (`ok: N leaves, root …`).
pub fn verified_leaves(data: &Path, keys: &Path) -> u64 {
    verified_leaves_with(data, keys, &[])
}

/// [`verified_leaves`] with more arguments (`--database URL`).
pub fn verified_leaves_with(data: &Path, keys: &Path, extra: &[&str]) -> u64 {
    let mut args = vec!["audit", "verify"];
    args.extend_from_slice(extra);
    let v = fairgate_at(data, keys, &args);
    let printed = String::from_utf8_lossy(&v.stdout).to_string();
    assert!(v.status.success(), "audit verify: {printed}{}", String::from_utf8_lossy(&v.stderr));
    printed
        .split("ok: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.replace(',', "").parse().ok())
        .unwrap_or_else(|| panic!("no leaf count in {printed}"))
}

/// A PostgreSQL URL with every table in `schema` (its `search_path`).
pub fn in_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}
