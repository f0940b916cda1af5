//! Witnessed checkpoints end to end, with real processes: a log served with a
//! witness gets its checkpoints cosigned and a monitor requiring the witness
//! accepts them; a second database restored from an old backup grows its own
//! history under the same key, the witness refuses it and answers with the
//! checkpoint it holds as evidence, and a monitor reports the fork with both
//! signed notes.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

mod common;
use common::{http, start, start_logged, stop, Serving};

use common::fairgate_at as fairgate;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn get(url: &str) -> String {
    let (st, body) = http(url, "GET", "-", None);
    assert_eq!(st, 200, "{url}: {body}");
    body
}

/// Register `n` people through the API (documents `TAG00000`…).
fn grow(url: &str, token: &str, n: usize, tag: &str) {
    for i in 0..n {
        let person = format!(
            r#"{{"document": {{"kind": "P", "issuing_state": "UTO", "number": "{tag}{i:05}", "expires_on": "2031-04-15"}}, "surname": "WITNESSED", "given_names": "A", "birth_date": "1980-01-01", "sex": "F", "nationality": "UTO"}}"#
        );
        let (st, b) = http(&format!("{url}subjects"), "POST", token, Some(&person));
        assert_eq!(st, 201, "{b}");
    }
}

fn size_of(note: &str) -> u64 {
    note.lines().nth(1).unwrap().parse().unwrap()
}

/// Wait (up to a minute) until `f` gives something.
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn monitor(state: &Path, url: &str, key: &str, witnesses: &[&str], quorum: Option<&str>) -> Output {
    let mut args = vec!["audit", "monitor", "--url", url, "--state", state.to_str().unwrap(), "--key", key];
    for w in witnesses {
        args.extend(["--witness", w]);
    }
    if let Some(q) = quorum {
        args.extend(["--quorum", q]);
    }
    fairgate(Path::new("/nonexistent"), Path::new("/nonexistent"), &args)
}

#[test]
fn a_restored_backup_that_forks_the_log_is_refused_by_the_witness_and_caught_by_the_monitor() {
    let dir = tempfile::tempdir().unwrap();
    let (data, keys) = (dir.path().join("data"), dir.path().join("keys"));
    let seeded = fairgate(&data, &keys, &["demo", "--travellers", "30"]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let token = common::demo_token(&text(&seeded.stdout), "demo-officer");
    let log_key = text(&fairgate(&data, &keys, &["audit", "key"]).stdout).trim().to_string();
    let origin = log_key.split('+').next().unwrap().to_string();
    let backup = dir.path().join("backup");
    let out = fairgate(&data, &keys, &["backup", "--to", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(backup.join("backup.json")).unwrap()).unwrap();
    let backup_size = manifest["tree_size"].as_u64().unwrap();

    // The witness, with its own key directory.
    let wdir = dir.path().join("witness");
    let follow = format!("{origin}={log_key}");
    let (_witness, wurl, printed): (Serving, _, _) = start(
        Path::new("/nonexistent"),
        &wdir,
        &["witness", "serve", "--listen", "127.0.0.1:0", "--log", &follow],
        "Fairgate witness is serving on ",
    );
    let wkey =
        printed.iter().find_map(|l| l.strip_prefix("witness key: ")).expect("the witness prints its key").to_string();
    let wurl = wurl.trim_end_matches('/').to_string();
    let target = format!("{wurl}={wkey}");

    // The live log, witnessed: it grows, and its checkpoints come back cosigned.
    let (mut live, url, _) =
        start(&data, &keys, &["serve", "--listen", "127.0.0.1:0", "--witness", &target], "Fairgate is serving on ");
    grow(&url, &token, 3, "LIVE");
    let live_note = wait_for("a cosigned checkpoint of the grown live log", || {
        let note = get(&format!("{url}log/checkpoint"));
        // Past the backup (the three new people are in it), and cosigned.
        (note.contains("\u{2014} witness.localhost ") && size_of(&note) > backup_size).then_some(note)
    });
    let state = dir.path().join("monitor.json");
    let ok = monitor(&state, &url, &log_key, &[&wkey], None);
    assert!(ok.status.success(), "a monitor requiring the witness accepts: {}{}", text(&ok.stdout), text(&ok.stderr));
    // Requiring a second witness that never cosigned: refused, the note shown.
    let other = fairgate_ledger::witness::Cosigner::from_seed("other.witness", &[5; 32]).verifier_key();
    let quorum = monitor(&dir.path().join("m2.json"), &url, &log_key, &[&wkey, &other], Some("2"));
    assert!(!quorum.status.success());
    assert!(text(&quorum.stderr).contains("1 valid cosignature(s) of the 2 required"), "{}", text(&quorum.stderr));
    stop(&mut live);
    // What the witness holds now: the live log's last cosigned checkpoint.
    let held_state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wdir.join("witness-state.json")).unwrap()).unwrap();
    let held_note = held_state["logs"][&origin]["note"].as_str().unwrap().to_string();
    let live_size = size_of(&held_note);
    assert!(live_size >= size_of(&live_note));
    assert!(backup_size < live_size);

    // An old backup restored beside the same key store: it forks from the backup's
    // size and grows past the live head, signing its own history under the log's key.
    let forked = dir.path().join("data-restored");
    let out = fairgate(&forked, &keys, &["restore", "--from", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let fork_log = dir.path().join("fork.log");
    let (mut fork, furl, _) = start_logged(
        &forked,
        &keys,
        &["serve", "--listen", "127.0.0.1:0", "--witness", &target],
        "Fairgate is serving on ",
        Some(&fork_log),
    );
    // Each registration is at least one leaf: this many take it past the live head.
    grow(&furl, &token, (live_size - backup_size + 2) as usize, "FORK");
    let fork_note = wait_for("a checkpoint of the forked log past the live head", || {
        let note = get(&format!("{furl}log/checkpoint"));
        (size_of(&note) > live_size).then_some(note)
    });
    // The witness refused it, kept the evidence, and never cosigned it.
    let evidence = wait_for("the witness's evidence", || {
        std::fs::read_to_string(wdir.join("evidence.jsonl")).ok().filter(|e| !e.is_empty())
    });
    let first: serde_json::Value = serde_json::from_str(evidence.lines().next().unwrap()).unwrap();
    assert_eq!(first["held"].as_str().unwrap(), held_note, "the evidence is the live checkpoint held");
    let submitted = first["submitted"].as_str().unwrap();
    assert!(size_of(submitted) > live_size, "the fork's checkpoint past the held one: {submitted}");
    assert!(!get(&format!("{furl}log/checkpoint")).contains("\u{2014} witness.localhost "));
    // Asked directly, the witness answers with the live checkpoint it holds.
    let proof: serde_json::Value =
        serde_json::from_str(&get(&format!("{furl}log/proof/consistency?from={live_size}&to={}", size_of(&fork_note))))
            .unwrap();
    let mut body = format!("old {live_size}\n");
    for h in proof["hashes"].as_array().unwrap() {
        body.push_str(h.as_str().unwrap());
        body.push('\n');
    }
    body.push('\n');
    body.push_str(&fork_note);
    let (st, answer) = http(&format!("{wurl}/add-checkpoint"), "POST", "-", Some(&body));
    assert_eq!(st, 422, "{answer}");
    assert_eq!(size_of(&answer), live_size);
    let log = fairgate_ledger::checkpoint::NoteVerifier::parse(&log_key).unwrap();
    let held = log.verify(&answer).expect("the evidence is signed by the log's own key");
    let forked_cp = log.verify(&fork_note).expect("so is the forked checkpoint");
    assert_ne!(held.root, forked_cp.root);

    // The monitor that followed the live log reports the fork, with both notes.
    let caught = monitor(&state, &furl, &log_key, &[&wkey], None);
    assert!(!caught.status.success());
    let err = text(&caught.stderr);
    assert!(err.contains("fork"), "{err}");
    assert!(err.contains(live_note.lines().nth(2).unwrap()), "the remembered note: {err}");
    assert!(err.contains(fork_note.lines().nth(2).unwrap()), "the forked note: {err}");
    stop(&mut fork);
    // The forked server logged the refusal, and no one's personal data.
    let logged = std::fs::read_to_string(&fork_log).unwrap();
    assert!(logged.contains("the witness refused this log's checkpoint"), "{logged}");
    for personal in ["WITNESSED", "FORK00000", "1980-01-01"] {
        assert!(!logged.contains(personal), "{personal} in the log:\n{logged}");
    }
}
