//! The monitor against a real server: an honest log passes run after run; a
//! tampered leaf, a reordered pair of leaves, a truncated log and a wrong key are
//! each caught, with evidence.

use std::path::Path;
use std::sync::Arc;

use fairgate::monitor::{check, Depth, MonitorError, MonitorState, Quorum};
use fairgate_core::access::{Actor, Role};
use fairgate_core::subject::SubjectInput;
use fairgate_ledger::keys::SecretKey;
use fairgate_store::sqlite::SqliteStore;
use fairgate_store::Registry;

struct Running {
    url: String,
    registry: Arc<Registry>,
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn serve(db: &Path) -> Running {
    let store = Arc::new(SqliteStore::open(db).unwrap());
    fairgate_store::LedgerStore::put_places(&*store, &fairgate_core::place::default_places()).unwrap();
    let registry = Arc::new(
        Registry::open(
            store,
            SecretKey::from_bytes([1; 32]),
            &SecretKey::from_bytes([2; 32]),
            "monitor.test/log",
            [3; 32],
        )
        .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let state = fairgate_server::AppState::new(registry.clone());
    let handle = tokio::spawn(fairgate_server::serve(listener, state, async move {
        let _ = rx.await;
    }));
    Running { url, registry, stop, handle }
}

impl Running {
    /// Record `n` subjects and sign a checkpoint over them.
    fn grow(&self, n: usize, tag: &str) {
        let officer = Actor::new("u-o", Role::Officer, "test");
        self.registry
            .write(jiff::Timestamp::now(), |b| {
                for i in 0..n {
                    let p: SubjectInput = serde_json::from_value(serde_json::json!({
                        "document": {"kind": "P", "issuing_state": "UTO", "number": format!("{tag}{i:05}"), "expires_on": "2031-04-15"},
                        "surname": "TEST", "given_names": "", "birth_date": "1980-01-01", "sex": "X", "nationality": "UTO"}))
                    .unwrap();
                    b.create_subject(&officer, &p)?;
                }
                Ok(())
            })
            .unwrap();
        // A server over tampered storage refuses to sign; that is part of what is tested.
        let _ = self.registry.sign_checkpoint(jiff::Timestamp::now());
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.handle.await.unwrap().unwrap();
    }
}

const QUICK: Depth = Depth { full: false, samples: 4 };
const FULL: Depth = Depth { full: true, samples: 0 };
/// No witnesses required.
const NONE: Quorum = Quorum { witnesses: vec![], need: 0 };

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// A log of 300 leaves with a monitor state taken at that size.
async fn honest_start(db: &Path) -> (Running, MonitorState) {
    let s = serve(db).await;
    s.grow(300, "A");
    let (state, report) = check(&client(), &s.url, None, None, QUICK, &NONE).await.unwrap();
    assert!(report.key_pinned_now);
    assert_eq!((report.from, report.to, report.leaves_downloaded), (None, 300, 300));
    (s, state)
}

#[tokio::test]
async fn an_honest_log_passes_run_after_run() {
    let dir = tempfile::tempdir().unwrap();
    let (s, state) = honest_start(&dir.path().join("f.db")).await;
    let (state, report) = check(&client(), &s.url, Some(state), None, QUICK, &NONE).await.unwrap();
    assert_eq!((report.from, report.to, report.leaves_downloaded), (Some(300), 300, 0));
    s.grow(40, "B");
    let (state, report) = check(&client(), &s.url, Some(state), None, QUICK, &NONE).await.unwrap();
    assert_eq!((report.from, report.to, report.leaves_downloaded), (Some(300), 340, 40));
    // Across a restart too (the server rebuilds its frontier from stored nodes).
    s.stop().await;
    let s = serve(&dir.path().join("f.db")).await;
    s.grow(1, "C");
    let (_, report) = check(&client(), &s.url, Some(state), None, QUICK, &NONE).await.unwrap();
    assert_eq!(report.to, 341);
    s.stop().await;
}

fn tamper(db: &Path, sql: &str) {
    rusqlite::Connection::open(db).unwrap().execute_batch(sql).unwrap();
}

#[tokio::test]
async fn a_tampered_leaf_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("f.db");
    let (s, state) = honest_start(&db).await;
    s.stop().await;
    // Change one byte of leaf 290 and, to hide it, its stored hash too.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut leaf: Vec<u8> = conn.query_row("SELECT leaf FROM ledger WHERE idx = 290", [], |r| r.get(0)).unwrap();
    leaf[60] ^= 1;
    let h = fairgate_ledger::merkle::leaf_hash(&leaf);
    conn.execute("UPDATE ledger SET leaf = ?1, hash = ?2 WHERE idx = 290", rusqlite::params![leaf, &h[..]]).unwrap();
    drop(conn);
    let s = serve(&db).await;
    s.grow(20, "B");
    // The server refuses to sign over its altered storage...
    assert!(s.registry.sign_checkpoint(jiff::Timestamp::now()).is_err());
    // ...and a full run of the monitor finds the leaf that no longer hashes to the signed root.
    let err = check(&client(), &s.url, Some(state), None, FULL, &NONE).await.unwrap_err();
    assert!(matches!(err, MonitorError::Rewrite { .. }), "{err}");
    assert!(err.to_string().contains("monitor.test/log"), "the evidence carries the signed notes: {err}");
    // A monitor that starts fresh recomputes everything and sees it too.
    let err = check(&client(), &s.url, None, None, QUICK, &NONE).await.unwrap_err();
    assert!(matches!(err, MonitorError::Rewrite { .. }), "{err}");
    s.stop().await;
}

#[tokio::test]
async fn a_reordered_log_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("f.db");
    let (s, state) = honest_start(&db).await;
    s.stop().await;
    tamper(
        &db,
        "UPDATE ledger SET idx = -1 WHERE idx = 10; UPDATE ledger SET idx = 10 WHERE idx = 11; UPDATE ledger SET idx = 11 WHERE idx = -1;",
    );
    let s = serve(&db).await;
    let err = check(&client(), &s.url, None, None, QUICK, &NONE).await.unwrap_err();
    assert!(matches!(err, MonitorError::Rewrite { .. }), "{err}");
    s.grow(5, "B");
    let err = check(&client(), &s.url, Some(state), None, FULL, &NONE).await.unwrap_err();
    assert!(matches!(err, MonitorError::Rewrite { .. }), "{err}");
    s.stop().await;
}

#[tokio::test]
async fn a_truncated_log_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("f.db");
    let (s, state) = honest_start(&db).await;
    s.stop().await;
    tamper(&db, "DELETE FROM ledger WHERE idx >= 297;");
    let s = serve(&db).await;
    let err = check(&client(), &s.url, Some(state.clone()), None, QUICK, &NONE).await.unwrap_err();
    assert!(matches!(err, MonitorError::Truncated { size: 300, .. }), "{err}");
    assert!(s.registry.sign_checkpoint(jiff::Timestamp::now()).is_err(), "no signature over a shrunken ledger");
    s.stop().await;
}

#[tokio::test]
async fn a_checkpoint_signed_by_another_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (s, state) = honest_start(&dir.path().join("f.db")).await;
    let other = fairgate_ledger::checkpoint::NoteSigner::from_seed("monitor.test/log", &[9; 32]).verifier_key();
    let err = check(&client(), &s.url, None, Some(&other), QUICK, &NONE).await.unwrap_err();
    assert!(matches!(err, MonitorError::BadSignature { .. }), "{err}");
    let err = check(&client(), &s.url, Some(state), Some(&other), QUICK, &NONE).await.unwrap_err();
    assert!(matches!(err, MonitorError::KeyChanged { .. }), "{err}");
    s.stop().await;
}
