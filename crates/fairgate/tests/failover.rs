//! Issue 20: high availability on PostgreSQL. On loopback only: etcd and two
//! PostgreSQL 15 nodes under Patroni (synchronous replication), `fairgate serve`
//! on a multi-host URL with `target_session_attrs=read-write`, sustained crossing
//! writes from four clients, each write with an `Idempotency-Key` and retried with
//! it until acknowledged; then `kill -9` of the primary (Patroni and PostgreSQL: a
//! machine dying). Patroni promotes the standby, Fairgate reconnects, and:
//! every acknowledged write is on the new primary (each person's crossings, read
//! back, are exactly the acknowledged ones), nothing is recorded twice, `audit
//! verify` passes, and no two checkpoints seen were ever signed at one size.
//!
//! Opt-in (it needs Debian's `patroni`, `etcd-server` and `postgresql-15`, and
//! runs for about a minute): `FAIRGATE_FAILOVER=1`, which `.ci/run` sets. The report
//! (writes acknowledged, time without a primary, writes lost) is printed and
//! written to `target/failover-report.json`.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const PASSWORD: &str = "ha-test-only";

/// A child process group, killed with the test.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        kill_group(&self.0);
        let _ = self.0.wait();
    }
}

fn kill_group(c: &Child) {
    let pid = c.id();
    // Never a group of ours, whatever happened to the child.
    if pid > 1 && pid != std::process::id() {
        let _ = Command::new("kill").args(["-9", "--", &format!("-{pid}")]).status();
    }
}

fn step(what: &str) {
    eprintln!("[failover] {what}");
}

fn spawn(mut cmd: Command, log: &Path) -> Proc {
    use std::os::unix::process::CommandExt;
    let out = std::fs::File::create(log).unwrap();
    cmd.stdout(out.try_clone().unwrap()).stderr(out).stdin(Stdio::null()).process_group(0);
    Proc(cmd.spawn().unwrap_or_else(|e| panic!("{cmd:?}: {e}")))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn http_ok(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let Some((host, path)) = rest.split_once('/') else { return false };
    let Ok(mut s) = std::net::TcpStream::connect(host) else { return false };
    use std::io::{Read, Write};
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(s, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.0 200") || out.starts_with("HTTP/1.1 200")
}

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    start.elapsed()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

/// Patroni's configuration for one node.
fn node_config(dir: &Path, name: &str, rest: u16, pg: u16, etcd: u16) -> String {
    let d = dir.display();
    format!(
        r#"scope: fairgate-ha
name: {name}
log:
  level: WARNING
restapi:
  listen: 127.0.0.1:{rest}
  connect_address: 127.0.0.1:{rest}
etcd3:
  hosts: 127.0.0.1:{etcd}
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 3
    maximum_lag_on_failover: 16777216
    synchronous_mode: true
    postgresql:
      use_pg_rewind: false
      parameters:
        synchronous_commit: "on"
        wal_level: replica
        hot_standby: "on"
        max_wal_senders: 5
        max_replication_slots: 5
        wal_keep_size: 128MB
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 scram-sha-256
    - host replication replicator 127.0.0.1/32 scram-sha-256
postgresql:
  listen: 127.0.0.1:{pg}
  connect_address: 127.0.0.1:{pg}
  data_dir: {d}/{name}
  bin_dir: /usr/lib/postgresql/15/bin
  pgpass: {d}/{name}.pgpass
  authentication:
    superuser:
      username: postgres
      password: {PASSWORD}
    replication:
      username: replicator
      password: {PASSWORD}
  parameters:
    unix_socket_directories: {d}
"#
    )
}

fn patroni(dir: &Path, name: &str) -> Proc {
    let config = dir.join(format!("{name}.yml"));
    let cmd = if is_root() {
        // PostgreSQL refuses to run as root.
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "patroni"]).arg(&config);
        c
    } else {
        let mut c = Command::new("patroni");
        c.arg(&config);
        c
    };
    spawn(cmd, &dir.join(format!("{name}.log")))
}

fn fairgate(data: &Path, db: &str, args: &[&str]) -> String {
    let out = common::fairgate_at(&data.join("data"), &data.join("keys"), &[&["--database", db], args].concat());
    assert!(
        out.status.success(),
        "fairgate {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One acknowledged write: whose, which crossing of theirs, where it landed.
#[derive(Debug, Clone)]
struct Ack {
    subject: String,
    leaf: u64,
    at: Instant,
}

#[derive(Default)]
struct Log {
    acks: Vec<Ack>,
    retries: u64,
    /// Signed checkpoints seen: size -> root line.
    heads: HashMap<u64, String>,
    forks: Vec<String>,
}

#[test]
fn the_primary_dies_and_no_acknowledged_write_is_lost() {
    if std::env::var("FAIRGATE_FAILOVER").as_deref() != Ok("1") {
        eprintln!("FAIRGATE_FAILOVER is not 1: the Patroni failover test is not run");
        return;
    }
    let began = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    if is_root() {
        assert!(Command::new("chown").args(["postgres", &dir.display().to_string()]).status().unwrap().success());
    }
    let (etcd_client, etcd_peer) = (free_port(), free_port());
    let (rest1, rest2, pg1, pg2) = (free_port(), free_port(), free_port(), free_port());
    let mut etcd = Command::new("etcd");
    etcd.args(["--name", "ha", "--data-dir"])
        .arg(dir.join("etcd"))
        .arg(format!("--listen-client-urls=http://127.0.0.1:{etcd_client}"))
        .arg(format!("--advertise-client-urls=http://127.0.0.1:{etcd_client}"))
        .arg(format!("--listen-peer-urls=http://127.0.0.1:{etcd_peer}"))
        .arg(format!("--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}"))
        .arg(format!("--initial-cluster=ha=http://127.0.0.1:{etcd_peer}"));
    let _etcd = spawn(etcd, &dir.join("etcd.log"));
    step("starting etcd");
    wait_until("etcd", Duration::from_secs(30), || http_ok(&format!("http://127.0.0.1:{etcd_client}/health")));
    for (name, rest, pg) in [("node1", rest1, pg1), ("node2", rest2, pg2)] {
        std::fs::write(dir.join(format!("{name}.yml")), node_config(&dir, name, rest, pg, etcd_client)).unwrap();
    }
    step("starting node1");
    let mut node1 = Some(patroni(&dir, "node1"));
    wait_until("node1 primary", Duration::from_secs(60), || http_ok(&format!("http://127.0.0.1:{rest1}/primary")));
    step("starting node2");
    let _node2 = patroni(&dir, "node2");
    wait_until("node2 a synchronous standby", Duration::from_secs(90), || {
        http_ok(&format!("http://127.0.0.1:{rest2}/replica")) && http_ok(&format!("http://127.0.0.1:{rest2}/sync"))
    });

    let db = format!(
        "postgres://postgres:{PASSWORD}@127.0.0.1:{pg1},127.0.0.1:{pg2}/postgres?target_session_attrs=read-write&connect_timeout=2"
    );
    step("cluster up; starting fairgate");
    let data = dir.join("fairgate");
    std::fs::create_dir_all(&data).unwrap();
    fairgate(&data, &db, &["user", "add", "ha-admin", "--role", "admin"]);
    fairgate(&data, &db, &["places", "add", "--demo", "--as", "ha-admin"]);
    let token = fairgate(&data, &db, &["user", "add", "ha-officer", "--role", "officer"]);
    let token = token.split_whitespace().last().unwrap().to_string();
    let (served, base, _) = common::start(
        &data.join("data"),
        &data.join("keys"),
        &["--database", &db, "serve", "--listen", "127.0.0.1:0"],
        "Fairgate is serving on ",
    );

    let log = Arc::new(Mutex::new(Log::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(90)).build().unwrap();

    // Send until acknowledged: 201, or 409 already-recorded (an earlier try landed).
    async fn until_acknowledged(
        client: &reqwest::Client,
        url: &str,
        token: &str,
        key: &str,
        body: &Value,
        log: &Mutex<Log>,
    ) -> Value {
        loop {
            let sent = client.post(url).bearer_auth(token).header("Idempotency-Key", key).json(body).send().await;
            if let Ok(r) = sent {
                let status = r.status().as_u16();
                if let Ok(b) = r.json::<Value>().await {
                    if status == 201 || (status == 409 && b["type"] == "/problems/already-recorded") {
                        return b;
                    }
                    assert!(status == 503 || status == 500, "unexpected {status}: {b}");
                }
            }
            log.lock().unwrap().retries += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    let subjects: Vec<String> = runtime.block_on(async {
        let mut ids = Vec::new();
        for i in 0..8 {
            let body = json!({"document": {"kind": "P", "issuing_state": "UTO", "number": format!("HA{i:07}"), "expires_on": "2031-04-15"},
                              "surname": format!("HASUBJECT{i}"), "given_names": "TEST", "birth_date": "1980-01-01", "sex": "X", "nationality": "UTO"});
            let b = until_acknowledged(&client, &format!("{base}subjects"), &token, &format!("subject-{i}"), &body, &log).await;
            ids.push(b["id"].as_str().expect("a new subject's id").to_string());
        }
        ids
    });
    log.lock().unwrap().acks.clear();

    // Four writers, two people each, crossings alternating entry and exit an hour apart.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (client, token, base, log, stop) = (client.clone(), token.clone(), base.clone(), log.clone(), stop.clone());
            let mine = vec![subjects[2 * w].clone(), subjects[2 * w + 1].clone()];
            runtime.spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for subject in &mine {
                        let at = jiff::Timestamp::from_second(1_735_689_600 + 3600 * n as i64).unwrap();
                        let body = if n.is_multiple_of(2) {
                            json!({"direction": "entry", "port": "JFK", "at": at.to_string(), "admission_class": "B-2", "admitted_until": "2026-09-01"})
                        } else {
                            json!({"direction": "exit", "port": "JFK", "at": at.to_string()})
                        };
                        let url = format!("{base}subjects/{subject}/crossings");
                        let b = until_acknowledged(&client, &url, &token, &format!("w{w}-{subject}-{n}"), &body, &log).await;
                        let leaf = b["receipt"]["leaf_index"].as_u64().expect("a receipt");
                        log.lock().unwrap().acks.push(Ack { subject: subject.clone(), leaf, at: Instant::now() });
                    }
                    n += 1;
                }
            })
        })
        .collect();
    // A monitor of the signed checkpoints: never two roots at one size.
    let watcher = {
        let (client, base, log, stop) = (client.clone(), base.clone(), log.clone(), stop.clone());
        runtime.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(r) = client.get(format!("{base}log/checkpoint")).send().await {
                    if let Ok(note) = r.text().await {
                        let mut lines = note.lines().skip(1);
                        if let (Some(size), Some(root)) = (lines.next(), lines.next()) {
                            if let Ok(size) = size.parse::<u64>() {
                                let mut l = log.lock().unwrap();
                                match l.heads.get(&size) {
                                    Some(seen) if seen != root => {
                                        let fork = format!("size {size}: {seen} and {root}");
                                        l.forks.push(fork);
                                    }
                                    _ => {
                                        l.heads.insert(size, root.to_string());
                                    }
                                }
                            }
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };

    step("writing");
    std::thread::sleep(Duration::from_secs(8));
    let before_kill = log.lock().unwrap().acks.len();
    assert!(before_kill > 0, "no write was acknowledged before the failover");
    // The primary's machine dies: Patroni and PostgreSQL, without warning.
    let pid = std::fs::read_to_string(dir.join("node1/postmaster.pid")).unwrap();
    let postmaster = pid.lines().next().unwrap().trim().to_string();
    step("killing the primary");
    let killed_at = Instant::now();
    if let Some(p) = node1.take() {
        kill_group(&p.0);
        drop(p);
    }
    let _ = Command::new("kill").args(["-9", &postmaster]).status();
    let promoted =
        wait_until("node2 promoted", Duration::from_secs(90), || http_ok(&format!("http://127.0.0.1:{rest2}/primary")));
    // Writes go on; wait for the first one acknowledged after the kill, then a few seconds more.
    wait_until("a write acknowledged after the failover", Duration::from_secs(120), || {
        log.lock().unwrap().acks.iter().any(|a| a.at > killed_at + promoted)
    });
    step("promoted; writes go on");
    std::thread::sleep(Duration::from_secs(5));
    stop.store(true, Ordering::Relaxed);
    runtime.block_on(async {
        for w in writers {
            w.await.unwrap();
        }
        watcher.await.unwrap();
    });

    let log = log.lock().unwrap();
    // The outage as the clients saw it: the longest wait between two acknowledgements
    // across the kill (a write in flight at the kill may still be acknowledged at once).
    let mut times: Vec<Instant> = log.acks.iter().map(|a| a.at).collect();
    times.sort();
    let without_primary = times
        .windows(2)
        .filter(|w| w[1] > killed_at)
        .map(|w| w[1] - w[0])
        .max()
        .expect("acknowledgements after the kill");
    // Every acknowledged write is there: each person's crossings, read from the new
    // primary, are exactly the ones acknowledged (none lost, none recorded twice).
    let mut lost = 0usize;
    let mut per_subject: HashMap<&str, Vec<u64>> = HashMap::new();
    for a in &log.acks {
        per_subject.entry(a.subject.as_str()).or_default().push(a.leaf);
    }
    let mut leaves_seen = std::collections::HashSet::new();
    runtime.block_on(async {
        for (subject, acked) in &per_subject {
            let r = client
                .get(format!("{base}subjects/{subject}"))
                .bearer_auth(&token)
                .header("Fairgate-Purpose", "border-check")
                .send()
                .await
                .unwrap();
            let t: Value = r.json().await.unwrap();
            let on_record = t["crossings"].as_array().map(Vec::len).unwrap_or(0);
            lost += acked.len().saturating_sub(on_record);
            assert_eq!(
                on_record,
                acked.len(),
                "{subject}: {on_record} crossings on record, {} acknowledged",
                acked.len()
            );
        }
    });
    for a in &log.acks {
        assert!(leaves_seen.insert(a.leaf), "two acknowledged writes at one leaf {}", a.leaf);
    }
    assert!(log.forks.is_empty(), "two checkpoints at one size: {:?}", log.forks);
    drop(served);
    let verify = fairgate(&data, &db, &["audit", "verify"]);
    assert!(verify.starts_with("ok:"), "{verify}");

    let report = json!({
        "writes_acknowledged": log.acks.len(),
        "acknowledged_before_the_kill": before_kill,
        "retries": log.retries,
        "seconds_to_promotion": promoted.as_secs_f64(),
        "seconds_without_a_primary": without_primary.as_secs_f64(),
        "writes_lost": lost,
        "checkpoints_seen": log.heads.len(),
        "checkpoint_forks": log.forks.len(),
        "audit_verify": verify.trim(),
        "test_seconds": began.elapsed().as_secs_f64(),
    });
    println!("failover report: {report:#}");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../failover-report.json");
    std::fs::write(&out, format!("{report:#}\n")).unwrap();
    assert_eq!(lost, 0);
    assert!(began.elapsed() < Duration::from_secs(300), "the failover test must finish within 5 minutes");
}
