//! RFC 9162 (Certificate Transparency v2) Merkle tree hashing: SHA-256, leaves
//! prefixed with 0x00, interior nodes with 0x01, and the split at the largest power
//! of two smaller than the size.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(leaf);
    h.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// MTH(D[n]) over leaf hashes, straight from the RFC's recursive definition.
pub fn root_of(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes.len() {
        0 => empty_root(),
        1 => leaf_hashes[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(&root_of(&leaf_hashes[..k]), &root_of(&leaf_hashes[k..]))
        }
    }
}

/// The largest power of two strictly smaller than `n` (n >= 2).
pub fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The right edge of a growing tree: one hash per complete subtree, so appending a
/// leaf and computing the current root each cost O(log n) and no stored node is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Roots of the complete subtrees, largest (leftmost) first.
    peaks: Vec<Hash>,
}

impl Frontier {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The roots of the complete subtrees, largest first (see [`Frontier::peak_positions`]).
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    pub fn push(&mut self, leaf_hash: Hash) {
        self.push_with(leaf_hash, |_, _, _| {});
    }

    /// Append a leaf and report each complete subtree the append finishes, as
    /// (level, index at that level, hash): level 1 covers 2 leaves, level 8 covers 256.
    pub fn push_with(&mut self, leaf_hash: Hash, mut completed: impl FnMut(u32, u64, &Hash)) {
        let mut h = leaf_hash;
        let mut s = self.size;
        let mut level = 0;
        while s & 1 == 1 {
            let left = self.peaks.pop().expect("a set bit in the size always has a peak");
            h = node_hash(&left, &h);
            s >>= 1;
            level += 1;
            completed(level, s, &h);
        }
        self.peaks.push(h);
        self.size += 1;
    }

    /// Rebuild the frontier of a tree of `size` leaves from its peaks: the roots of
    /// its complete subtrees, largest first, one per set bit of `size`.
    pub fn from_peaks(size: u64, peaks: Vec<Hash>) -> Option<Self> {
        (peaks.len() == size.count_ones() as usize).then_some(Self { size, peaks })
    }

    /// The (level, index at that level) of each peak of a tree of `size` leaves, largest first.
    pub fn peak_positions(size: u64) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        let mut start = 0u64;
        for level in (0..64).rev() {
            if size & (1 << level) != 0 {
                out.push((level, start >> level));
                start += 1 << level;
            }
        }
        out
    }

    pub fn root(&self) -> Hash {
        let mut it = self.peaks.iter().rev();
        match it.next() {
            None => empty_root(),
            Some(last) => it.fold(*last, |acc, left| node_hash(left, &acc)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 6962 test vectors from the Certificate Transparency reference implementation
    /// (merkle_tree_test.cc): the leaf inputs and the tree head for each size 0..=8.
    const CT_LEAVES: [&str; 8] =
        ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
    const CT_ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn rfc6962_tree_heads() {
        let hashes: Vec<Hash> = CT_LEAVES.iter().map(|l| leaf_hash(&hex::decode(l).unwrap())).collect();
        let mut f = Frontier::new();
        assert_eq!(hex::encode(f.root()), CT_ROOTS[0]);
        for n in 1..=8 {
            assert_eq!(hex::encode(root_of(&hashes[..n])), CT_ROOTS[n], "recursive, size {n}");
            f.push(hashes[n - 1]);
            assert_eq!(hex::encode(f.root()), CT_ROOTS[n], "frontier, size {n}");
        }
    }

    #[test]
    fn split_points() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(1 << 40), 1 << 39);
        assert_eq!(split_point((1 << 40) + 1), 1 << 40);
    }

    #[test]
    fn pushes_report_completed_subtrees_and_peaks_rebuild_the_frontier() {
        let hashes: Vec<Hash> = (0u32..300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut f = Frontier::new();
        let mut nodes = std::collections::HashMap::new();
        for h in &hashes {
            f.push_with(*h, |level, index, hash| {
                nodes.insert((level, index), *hash);
            });
        }
        let at = |level: u32, index: u64| root_of(&hashes[(index << level) as usize..((index + 1) << level) as usize]);
        assert_eq!(nodes[&(8, 0)], at(8, 0));
        assert_eq!(nodes[&(1, 149)], at(1, 149));
        assert!(!nodes.contains_key(&(8, 1)), "the second 256-block is not complete at 300");
        assert_eq!(Frontier::peak_positions(300), vec![(8, 0), (5, 8), (3, 36), (2, 74)]);
        let peaks = Frontier::peak_positions(300).into_iter().map(|(l, i)| at(l, i)).collect();
        let rebuilt = Frontier::from_peaks(300, peaks).unwrap();
        assert_eq!(rebuilt, f);
        assert!(Frontier::from_peaks(300, vec![]).is_none());
    }

    proptest! {
        #[test]
        fn frontier_agrees_with_the_definition(n in 0usize..300) {
            let hashes: Vec<Hash> = (0..n).map(|i| leaf_hash(&(i as u64).to_be_bytes())).collect();
            let mut f = Frontier::new();
            for h in &hashes {
                f.push(*h);
            }
            prop_assert_eq!(f.size(), n as u64);
            prop_assert_eq!(f.root(), root_of(&hashes));
        }
    }
}
