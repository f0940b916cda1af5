//! The stored Merkle tree: leaf hashes plus the hashes of complete subtrees at every
//! [`STORED_LEVEL_STEP`]th level (16 leaves, 256 leaves, 4,096 leaves, ...). Any
//! subtree hash is then at most 7 hash operations over at most 8 stored rows, so a
//! proof or the frontier reads O(log n) rows and never rehashes the log.

use fairgate_ledger::merkle::{node_hash, split_point, Frontier, Hash};
use fairgate_ledger::proof::TreeHashes;

use crate::store::{Store, StoreError};

/// Subtree hashes are stored at levels that are multiples of this.
pub const STORED_LEVEL_STEP: u32 = 4;

/// Subtree hashes read from a store.
pub struct StoredTree<'a> {
    pub store: &'a dyn Store,
}

impl StoredTree<'_> {
    /// The hash of the complete subtree `index` at `level` (covering `2^level` leaves).
    pub fn aligned(&mut self, level: u32, index: u64) -> Result<Hash, StoreError> {
        let base = level - level % STORED_LEVEL_STEP;
        let count = 1u64 << (level - base);
        let first = index << (level - base);
        let mut hashes = if base == 0 {
            self.store.leaf_hashes(first, count)?
        } else {
            self.store.tree_nodes(base, first, count)?
        };
        if hashes.len() as u64 != count {
            return Err(StoreError::Corrupt(format!("subtree ({level}, {index}) is not complete in the store")));
        }
        while hashes.len() > 1 {
            hashes = hashes.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
        }
        Ok(hashes[0])
    }
}

impl TreeHashes for StoredTree<'_> {
    type Error = StoreError;

    fn range_hash(&mut self, start: u64, end: u64) -> Result<Hash, StoreError> {
        let n = end - start;
        if n.is_power_of_two() && start.is_multiple_of(n) {
            return self.aligned(n.trailing_zeros(), start >> n.trailing_zeros());
        }
        let k = split_point(n);
        Ok(node_hash(&self.range_hash(start, start + k)?, &self.range_hash(start + k, end)?))
    }
}

/// The frontier of the stored tree of `size` leaves, from its peaks.
pub fn frontier(store: &dyn Store, size: u64) -> Result<Frontier, StoreError> {
    let mut t = StoredTree { store };
    let peaks =
        Frontier::peak_positions(size).into_iter().map(|(l, i)| t.aligned(l, i)).collect::<Result<Vec<_>, _>>()?;
    Frontier::from_peaks(size, peaks).ok_or_else(|| StoreError::Corrupt("peak count".into()))
}
