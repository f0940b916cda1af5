//! Proofs answered from the stored tree agree with an independent reference written
//! here from the text of RFC 9162 §2.1, for sizes 0, 1, powers of two and powers of
//! two ± 1 (past several stored levels), and they verify.

use std::sync::Arc;

use fairgate_ledger::merkle::{Frontier, Hash};
use fairgate_ledger::proof::{consistency_proof, inclusion_proof, verify_consistency, verify_inclusion};
use fairgate_store::audit::verify;
use fairgate_store::store::{Commit, LeafRow, NodeRow};
use fairgate_store::tree::{frontier, StoredTree, STORED_LEVEL_STEP};
use fairgate_store::Store;
use sha2::{Digest, Sha256};

// ---- the independent reference: RFC 9162 §2.1 as written, over a list of leaves ----

fn sha(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn ref_leaf(data: &[u8]) -> Hash {
    sha(&[&[0x00], data])
}

fn ref_k(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH over already-hashed leaves.
fn ref_mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => sha(&[]),
        1 => d[0],
        n => {
            let k = ref_k(n);
            sha(&[&[0x01], &ref_mth(&d[..k]), &ref_mth(&d[k..])])
        }
    }
}

fn ref_path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return vec![];
    }
    let k = ref_k(n);
    if m < k {
        let mut p = ref_path(m, &d[..k]);
        p.push(ref_mth(&d[k..]));
        p
    } else {
        let mut p = ref_path(m - k, &d[k..]);
        p.push(ref_mth(&d[..k]));
        p
    }
}

fn ref_subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![ref_mth(d)] };
    }
    let k = ref_k(n);
    if m <= k {
        let mut p = ref_subproof(m, &d[..k], b);
        p.push(ref_mth(&d[k..]));
        p
    } else {
        let mut p = ref_subproof(m - k, &d[k..], false);
        p.push(ref_mth(&d[..k]));
        p
    }
}

fn ref_consistency(m: usize, d: &[Hash]) -> Vec<Hash> {
    if m == 0 || m == d.len() {
        vec![]
    } else {
        ref_subproof(m, d, true)
    }
}

// ---- a log of synthetic leaves written through the Store trait ----

fn build(n: usize) -> (tempfile::TempDir, Arc<dyn Store>, Vec<Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    let store = fairgate_store::backend::test_store(&dir.path().join("t.db")).unwrap().store();
    // Version byte 1 and at least the minimum length, so `verify` sees well-formed headers.
    let data: Vec<Vec<u8>> = (0..n as u32)
        .map(|i| {
            let mut d = vec![1u8];
            d.extend(format!("leaf {i}").bytes());
            d.resize(fairgate_ledger::leaf::MIN_LEN + 8, 0);
            d
        })
        .collect();
    let mut f = Frontier::new();
    let mut commit = Commit::default();
    for (i, d) in data.iter().enumerate() {
        let hash = ref_leaf(d);
        f.push_with(hash, |level, index, h| {
            if level % STORED_LEVEL_STEP == 0 {
                commit.nodes.push(NodeRow { level, index, hash: *h });
            }
        });
        commit.leaves.push(LeafRow { index: i as u64, leaf: d.clone(), hash });
    }
    store.commit(&commit).unwrap();
    (dir, store, data)
}

#[test]
fn stored_proofs_match_the_reference_and_verify() {
    let (_dir, store, data) = build(65_537);
    let data: Vec<Hash> = data.iter().map(|d| ref_leaf(d)).collect();
    let mut t = StoredTree { store: store.as_ref() };
    let sizes = [1usize, 2, 3, 7, 8, 9, 255, 256, 257, 511, 512, 513, 4095, 4096, 4097, 65_535, 65_536, 65_537];
    for &n in &sizes {
        let root = ref_mth(&data[..n]);
        assert_eq!(frontier(store.as_ref(), n as u64).unwrap().root(), root, "root at {n}");
        for m in [0, 1, n / 3, n / 2, n - 1].into_iter().filter(|&m| m < n) {
            let got = inclusion_proof(&mut t, m as u64, n as u64).unwrap();
            assert_eq!(got, ref_path(m, &data[..n]), "inclusion {m}/{n}");
            assert!(verify_inclusion(&data[m], m as u64, n as u64, &got, &root));
        }
        let froms: Vec<usize> = if n > 5000 {
            vec![0, 1, 257, 4096, n - 1, n]
        } else {
            sizes.iter().copied().filter(|&s| s <= n).chain([0]).collect()
        };
        for from in froms {
            let got = consistency_proof(&mut t, from as u64, n as u64).unwrap();
            assert_eq!(got, ref_consistency(from, &data[..n]), "consistency {from}->{n}");
            assert!(verify_consistency(from as u64, n as u64, &ref_mth(&data[..from]), &root, &got));
        }
    }
    // The empty tree.
    assert_eq!(frontier(store.as_ref(), 0).unwrap().root(), ref_mth(&[]));
}

#[test]
fn verify_checks_the_stored_subtree_nodes() {
    let (dir, store, _) = build(600);
    let signer = fairgate_ledger::checkpoint::NoteSigner::from_seed("t", &[1; 32]);
    let verifier = fairgate_ledger::checkpoint::NoteVerifier::parse(&signer.verifier_key()).unwrap();
    assert!(verify(store.as_ref(), &verifier, &mut |_, _| {}).unwrap().ok());
    if fairgate_store::backend::test_database().is_some() {
        return; // the rest tampers with the SQLite file
    }
    let conn = rusqlite::Connection::open(dir.path().join("t.db")).unwrap();
    conn.execute("UPDATE tree_nodes SET hash = zeroblob(32) WHERE level = 8 AND idx = 1", []).unwrap();
    let report = verify(store.as_ref(), &verifier, &mut |_, _| {}).unwrap();
    assert_eq!(report.first_bad_leaf(), None, "no leaf was changed: {:?}", report.problems);
    assert!(report.problems.iter().any(|p| p.message.contains("tree node (8, 1)") && p.message.contains("256..512")));
}
