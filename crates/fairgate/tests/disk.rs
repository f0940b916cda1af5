//! Issue 21: disk faults. The data directory is a small tmpfs of its own (the keys
//! live elsewhere), and the disk fills up, twice. Each time: writes are refused
//! with 503 and problem+json (never a 500,
//! never a hang), a read that must be logged is refused too (fail closed: nothing
//! is disclosed that could not be logged), and service comes back by itself once
//! space returns or the disk is writable again. Afterwards every acknowledged write
//! is there and `audit verify` passes: nothing was left half-written.
//!
//! Needs root (it mounts tmpfs): runs as root, skips otherwise, unless
//! `FAIRGATE_REQUIRE_DISK_FAULTS=1` (set by `.ci/run`), which makes a skip a failure.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// A tmpfs mounted for the test, unmounted (lazily) when dropped. (A read-only
/// remount cannot be made from user space while the database is open for writing:
/// the kernel refuses it with EBUSY. RELIABILITY.md says how that case stands.)
struct Tmpfs(PathBuf);
impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Self {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .unwrap();
        assert!(ok.success(), "mount -t tmpfs failed");
        Self(at.to_path_buf())
    }
}
impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// One request; (status, content type, body).
fn request(base: &str, method: &str, path: &str, token: &str, body: Option<&Value>) -> (u16, String, Value) {
    let host = base.strip_prefix("http://").unwrap().trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nFairgate-Purpose: border-check\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).expect("the server answered (no hang, no dropped connection)");
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    let (head, b) = out.split_once("\r\n\r\n").unwrap();
    let ctype = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_string()))
        .unwrap_or_default();
    (status, ctype, serde_json::from_str(b).unwrap_or(Value::Null))
}

fn entry(base: &str, token: &str, id: &str) -> (u16, String, Value) {
    let body = json!({"direction": "entry", "port": "JFK", "at": "2026-09-01T10:00:00Z",
        "admission_class": "B-2", "admitted_until": "2026-11-30"});
    request(base, "POST", &format!("/subjects/{id}/crossings"), token, Some(&body))
}

fn new_person(base: &str, token: &str, i: usize) -> (u16, String, Value) {
    let body = json!({"document": {"kind": "P", "issuing_state": "UTO", "number": format!("DSK{i:06}"), "expires_on": "2031-04-15"},
        "surname": format!("DISK{i}"), "given_names": "TEST", "birth_date": "1980-01-01", "sex": "X", "nationality": "UTO"});
    request(base, "POST", "/subjects", token, Some(&body))
}

fn assert_unavailable(what: &str, (status, ctype, body): &(u16, String, Value)) {
    assert_eq!(*status, 503, "{what}: {body}");
    assert_eq!(ctype, "application/problem+json", "{what}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{what}: {body}");
}

/// Write people until the disk refuses; returns the acknowledged ones and the refusal.
fn write_until_refused(base: &str, token: &str, from: usize, acked: &mut Vec<String>) -> (u16, String, Value) {
    for i in from..from + 2_000 {
        let r = new_person(base, token, i);
        match r.0 {
            201 => acked.push(r.2["id"].as_str().unwrap().to_string()),
            503 => return r,
            _ => panic!("a write on a failing disk answered {}: {}", r.0, r.2),
        }
    }
    panic!("2,000 writes on a full or read-only disk were all accepted");
}

/// Retry a write until it is accepted again (service resumes by itself).
fn resumes(base: &str, token: &str, i: usize, acked: &mut Vec<String>) {
    let start = Instant::now();
    loop {
        let r = new_person(base, token, i);
        if r.0 == 201 {
            acked.push(r.2["id"].as_str().unwrap().to_string());
            return;
        }
        assert_eq!(r.0, 503, "{}", r.2);
        assert!(start.elapsed() < Duration::from_secs(20), "service did not resume by itself: {}", r.2);
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_full_disk_refuses_writes_and_logged_reads_with_503_and_service_resumes_by_itself() {
    if !is_root() {
        assert!(
            std::env::var_os("FAIRGATE_REQUIRE_DISK_FAULTS").is_none(),
            "FAIRGATE_REQUIRE_DISK_FAULTS is set but this is not root: the disk-fault test cannot mount tmpfs"
        );
        eprintln!("not root: the disk-fault test (it mounts tmpfs) is not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let keys = src.join("keys");
    let out = common::fairgate_at(&src.join("data"), &keys, &["demo", "--travellers", "100"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let officer = common::demo_token(&String::from_utf8_lossy(&out.stdout), "demo-officer");
    let people = common::first_subjects(&src.join("data/fairgate.db"), 100);

    let mnt = Tmpfs::mount(&dir.path().join("mnt"), "48m");
    let data = mnt.0.join("data");
    assert!(Command::new("cp").arg("-a").arg(src.join("data")).arg(&data).status().unwrap().success());
    let (mut server, base, _) = common::start(
        &data,
        &keys,
        &["serve", "--listen", "127.0.0.1:0", "--rotate-days", "0"],
        "Fairgate is serving on ",
    );
    let base = base.trim_end_matches('/').to_string();
    let mut acked = Vec::new();
    let r = new_person(&base, &officer, 0);
    assert_eq!(r.0, 201, "{}", r.2);

    // The disk fills up.
    let filler = mnt.0.join("filler");
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 1 << 16];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
    }
    let refused = write_until_refused(&base, &officer, 1, &mut acked);
    assert_unavailable("a write on a full disk", &refused);
    assert!(refused.0 == 503 && refused.2["detail"].as_str().unwrap().contains("full"), "{}", refused.2);
    // A read must be logged before it is answered: with no room for the log, no
    // answer. (SQLite reuses log pages it has copied back, so a small write can
    // still fit now and then: such a read is answered, and its access leaf must
    // then be in the log at the end.)
    let mut logged_reads = Vec::new();
    let mut refused_read = None;
    for (k, id) in people.iter().enumerate().take(60) {
        let read = request(&base, "GET", &format!("/subjects/{id}"), &officer, None);
        match read.0 {
            200 => logged_reads
                .push(read.2["access_receipt"]["leaf_index"].as_u64().expect("an answered read names its access leaf")),
            503 => {
                refused_read = Some(read);
                break;
            }
            st => panic!("a logged read on a full disk answered {st}: {}", read.2),
        }
        // Keep the disk full.
        let _ = write_until_refused(&base, &officer, 20_000 + k * 2_000, &mut acked);
    }
    let read = refused_read.expect("60 logged reads on a full disk were all answered");
    assert_unavailable("a logged read on a full disk", &read);
    assert!(read.2.get("crossings").is_none() && read.2.get("surname").is_none(), "nothing of the record is disclosed");
    // Space returns: service resumes without a restart.
    std::fs::remove_file(&filler).unwrap();
    resumes(&base, &officer, 5_000, &mut acked);
    let ok = request(&base, "GET", &format!("/subjects/{}", people[3]), &officer, None);
    assert_eq!(ok.0, 200, "{}", ok.2);

    // People with no crossing yet, for the entries below (a demo traveller may be
    // in the country already, and an entry would then be refused for that).
    let mut fresh = Vec::new();
    for i in 0..80 {
        let r = new_person(&base, &officer, 900_000 + i);
        assert_eq!(r.0, 201, "{}", r.2);
        fresh.push(r.2["id"].as_str().unwrap().to_string());
    }
    acked.extend(fresh.iter().cloned());
    // A second fill, while crossings are being recorded this time: the same.
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 1 << 16];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
    }
    let mut refused = None;
    for id in &fresh[..79] {
        let r = entry(&base, &officer, id);
        match r.0 {
            201 => {}
            503 => {
                refused = Some((id.clone(), r));
                break;
            }
            _ => panic!("a crossing on a full disk answered {}: {}", r.0, r.2),
        }
    }
    let (id, r) = refused.unwrap_or_else(|| {
        let r = write_until_refused(&base, &officer, 6_000, &mut acked);
        (fresh[79].clone(), r)
    });
    assert_unavailable("a write on a full disk, again", &r);
    std::fs::remove_file(&filler).unwrap();
    resumes(&base, &officer, 9_000, &mut acked);
    // Refused means not recorded: the same entry sent again is accepted (were the
    // first one on record after all, this second entry would be refused, 422).
    let r = entry(&base, &officer, &id);
    assert_eq!(r.0, 201, "the crossing refused with 503 was recorded after all: {}", r.2);

    // Everything acknowledged is there, and nothing half-written: the log verifies.
    for id in &acked {
        let (st, _, b) = request(&base, "GET", &format!("/subjects/{id}"), &officer, None);
        assert_eq!(st, 200, "an acknowledged person is missing: {b}");
    }
    common::stop(&mut server);
    let size = common::verified_leaves(&data, &keys);
    for leaf in logged_reads {
        assert!(leaf < size, "a read answered on a full disk has its access leaf {leaf} beyond the log ({size})");
    }
}
