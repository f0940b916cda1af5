//! `audit verify`: recompute every leaf hash and the Merkle tree from the stored
//! leaf bytes, and check them against the stored leaf hashes, the stored subtree
//! nodes and every signed checkpoint.
//! It needs no secret key: anyone with the leaves and the verifier key can do it.

use fairgate_ledger::checkpoint::NoteVerifier;
use fairgate_ledger::leaf::Header;
use fairgate_ledger::merkle::{leaf_hash, Frontier, Hash};

use crate::tree::STORED_LEVEL_STEP;

/// Leaves read per chunk.
const CHUNK: u64 = 20_000;

use crate::store::{LedgerStore, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The leaf at fault, when one can be named.
    pub leaf_index: Option<u64>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub tree_size: u64,
    /// The root recomputed from the leaf bytes.
    pub root: Hash,
    pub checkpoints_checked: usize,
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
    pub fn first_bad_leaf(&self) -> Option<u64> {
        self.problems.iter().filter_map(|p| p.leaf_index).min()
    }
}

/// Verify the whole ledger. `progress` gets (leaves done, total).
pub fn verify<S: LedgerStore + Sync + ?Sized>(
    store: &S,
    verifier: &NoteVerifier,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport> {
    let size = store.tree_size()?;
    let checkpoints = store.checkpoints()?;
    let mut problems = Vec::new();
    let mut frontier = Frontier::new();
    let mut pending = checkpoints.iter().peekable();
    let mut checked = 0;
    let mut check =
        |frontier: &Frontier,
         problems: &mut Vec<Problem>,
         pending: &mut std::iter::Peekable<std::slice::Iter<'_, crate::store::CheckpointRow>>| {
            while let Some(cp) = pending.next_if(|cp| cp.size == frontier.size()) {
                checked += 1;
                match verifier.verify(&cp.note) {
                Err(e) => problems.push(Problem { leaf_index: None, message: format!("checkpoint at size {}: {e}", cp.size) }),
                Ok(signed) if signed.root != frontier.root() || signed.size != cp.size || cp.root != signed.root => problems.push(Problem {
                    leaf_index: None,
                    message: format!(
                        "checkpoint at size {}: the signed root does not match the root recomputed from the leaves; a leaf below {} was changed",
                        cp.size, cp.size
                    ),
                }),
                Ok(_) => {}
            }
            }
        };
    check(&frontier, &mut problems, &mut pending);
    let mut next = 0u64;
    let mut nodes = Vec::new();
    // A reader thread fetches the next chunk while this one is hashed.
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<crate::store::LeafRow>>>(2);
        scope.spawn(move || {
            let mut start = 0u64;
            while start < size {
                let chunk = store.leaves(start, CHUNK);
                let stop = match &chunk {
                    Ok(rows) if !rows.is_empty() => {
                        start = rows[rows.len() - 1].index + 1;
                        false
                    }
                    _ => true,
                };
                if tx.send(chunk).is_err() || stop {
                    break;
                }
            }
        });
        while next < size {
            let rows = match rx.recv() {
                Ok(chunk) => chunk?,
                Err(_) => Vec::new(),
            };
            if rows.is_empty() {
                problems.push(Problem { leaf_index: Some(next), message: format!("leaf {next} is missing") });
                break;
            }
            for row in rows {
                if row.index != next {
                    problems.push(Problem { leaf_index: Some(next), message: format!("leaf {next} is missing") });
                    next = row.index;
                }
                let h = leaf_hash(&row.leaf);
                if h != row.hash {
                    problems.push(Problem {
                        leaf_index: Some(row.index),
                        message: format!("leaf {}: its bytes do not match its stored hash", row.index),
                    });
                }
                if let Err(e) = Header::decode(&row.leaf) {
                    problems.push(Problem { leaf_index: Some(row.index), message: format!("leaf {}: {e}", row.index) });
                }
                frontier.push_with(h, |level, index, hash| {
                    if level % STORED_LEVEL_STEP == 0 {
                        nodes.push((level, index, *hash));
                    }
                });
                next += 1;
                check(&frontier, &mut problems, &mut pending);
            }
            // Nodes completed in this chunk are contiguous per level: one range read each.
            nodes.sort_by_key(|(level, index, _)| (*level, *index));
            for run in nodes.chunk_by(|a, b| a.0 == b.0 && a.1 + 1 == b.1) {
                let (level, first, _) = run[0];
                let stored = store.tree_nodes(level, first, run.len() as u64)?;
                for (k, (_, index, hash)) in run.iter().enumerate() {
                    if stored.get(k) != Some(hash) {
                        // A node names no leaf: if a leaf below it is bad, that leaf is reported itself.
                        problems.push(Problem {
                            leaf_index: None,
                            message: format!(
                                "stored tree node ({level}, {index}) does not match leaves {}..{}",
                                index << level,
                                (index + 1) << level
                            ),
                        });
                    }
                }
            }
            nodes.clear();
            progress(next, size);
        }
        Ok(())
    })?;
    for cp in pending {
        problems.push(Problem {
            leaf_index: None,
            message: format!(
                "a checkpoint was signed at size {} but the ledger has only {size} leaves: it was truncated",
                cp.size
            ),
        });
    }
    Ok(VerifyReport { tree_size: size, root: frontier.root(), checkpoints_checked: checked, problems })
}
