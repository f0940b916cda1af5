//! RFC 9162 inclusion and consistency proofs: generation over any source of
//! subtree hashes (so a store can answer from the few nodes it keeps), and the
//! verification algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2.

use crate::merkle::{empty_root, node_hash, split_point, Hash};

/// Where proof generation gets subtree hashes from.
pub trait TreeHashes {
    type Error;
    /// MTH of the leaves `[start, end)`; `end > start`.
    fn range_hash(&mut self, start: u64, end: u64) -> Result<Hash, Self::Error>;
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError<E> {
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("a consistency proof needs from <= to (got from {from}, to {to})")]
    BadRange { from: u64, to: u64 },
    #[error(transparent)]
    Source(E),
}

/// The audit path of leaf `index` in the tree of the first `size` leaves
/// (RFC 9162 §2.1.3.1), leaf side first.
pub fn inclusion_proof<T: TreeHashes>(t: &mut T, index: u64, size: u64) -> Result<Vec<Hash>, ProofError<T::Error>> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    path(t, index, 0, size, &mut out).map_err(ProofError::Source)?;
    Ok(out)
}

fn path<T: TreeHashes>(t: &mut T, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) -> Result<(), T::Error> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        path(t, m, start, start + k, out)?;
        out.push(t.range_hash(start + k, end)?);
    } else {
        path(t, m - k, start + k, end, out)?;
        out.push(t.range_hash(start, start + k)?);
    }
    Ok(())
}

/// The proof that the tree of size `from` is a prefix of the tree of size `to`
/// (RFC 9162 §2.1.4.1). Empty when `from` is 0 or equals `to`.
pub fn consistency_proof<T: TreeHashes>(t: &mut T, from: u64, to: u64) -> Result<Vec<Hash>, ProofError<T::Error>> {
    if from > to {
        return Err(ProofError::BadRange { from, to });
    }
    let mut out = Vec::new();
    if from > 0 && from < to {
        subproof(t, from, 0, to, true, &mut out).map_err(ProofError::Source)?;
    }
    Ok(out)
}

fn subproof<T: TreeHashes>(
    t: &mut T,
    m: u64,
    start: u64,
    end: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), T::Error> {
    let n = end - start;
    if m == n {
        if !whole {
            out.push(t.range_hash(start, end)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(t, m, start, start + k, whole, out)?;
        out.push(t.range_hash(start + k, end)?);
    } else {
        subproof(t, m - k, start + k, end, false, out)?;
        out.push(t.range_hash(start, start + k)?);
    }
    Ok(())
}

/// RFC 9162 §2.1.3.2: does `proof` show that `leaf_hash` is leaf `index` of the
/// tree of `size` leaves whose root is `root`?
pub fn verify_inclusion(leaf_hash: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: does `proof` show that the tree of `from` leaves with root
/// `root1` is a prefix of the tree of `to` leaves with root `root2`?
pub fn verify_consistency(from: u64, to: u64, root1: &Hash, root2: &Hash, proof: &[Hash]) -> bool {
    if from > to {
        return false;
    }
    if from == to {
        return proof.is_empty() && root1 == root2;
    }
    if from == 0 {
        return proof.is_empty() && *root1 == empty_root();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if from.is_power_of_two() {
        path.push(*root1);
    }
    path.extend_from_slice(proof);
    let (mut fnode, mut snode) = (from - 1, to - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && fr == *root1 && sr == *root2
}

/// Subtree hashes computed from a full list of leaf hashes, straight from the
/// definition. For tests, small logs and clients that hold every leaf.
pub struct InMemory<'a>(pub &'a [Hash]);

impl TreeHashes for InMemory<'_> {
    type Error = std::convert::Infallible;
    fn range_hash(&mut self, start: u64, end: u64) -> Result<Hash, Self::Error> {
        Ok(crate::merkle::root_of(&self.0[start as usize..end as usize]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, root_of};

    const CT_LEAVES: [&str; 8] =
        ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

    fn leaves() -> Vec<Hash> {
        CT_LEAVES.iter().map(|l| leaf_hash(&hex::decode(l).unwrap())).collect()
    }

    fn hx(v: &[Hash]) -> Vec<String> {
        v.iter().map(hex::encode).collect()
    }

    /// RFC 6962 test vectors from the Certificate Transparency reference implementation.
    #[test]
    fn ct_inclusion_vectors() {
        let l = leaves();
        let p = inclusion_proof(&mut InMemory(&l), 0, 8).unwrap();
        assert_eq!(
            hx(&p),
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
            ]
        );
        assert!(verify_inclusion(&l[0], 0, 8, &p, &root_of(&l)));
        let p = inclusion_proof(&mut InMemory(&l), 5, 8).unwrap();
        assert_eq!(
            hx(&p),
            [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
            ]
        );
        assert!(verify_inclusion(&l[5], 5, 8, &p, &root_of(&l)));
        assert!(inclusion_proof(&mut InMemory(&l), 0, 1).unwrap().is_empty());
        assert!(inclusion_proof(&mut InMemory(&l), 8, 8).is_err());
    }

    #[test]
    fn ct_consistency_vectors() {
        let l = leaves();
        let p = consistency_proof(&mut InMemory(&l), 2, 8).unwrap();
        assert_eq!(
            hx(&p),
            [
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
            ]
        );
        assert!(verify_consistency(2, 8, &root_of(&l[..2]), &root_of(&l), &p));
        let p = consistency_proof(&mut InMemory(&l), 6, 8).unwrap();
        assert_eq!(
            hx(&p),
            [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
            ]
        );
        assert!(verify_consistency(6, 8, &root_of(&l[..6]), &root_of(&l), &p));
        assert!(verify_consistency(0, 8, &empty_root(), &root_of(&l), &[]));
        assert!(!verify_consistency(0, 8, &root_of(&l[..1]), &root_of(&l), &[]));
        assert!(verify_consistency(4, 4, &root_of(&l[..4]), &root_of(&l[..4]), &[]));
        assert!(!verify_consistency(4, 4, &root_of(&l[..4]), &root_of(&l[..5]), &[]));
        assert!(!verify_consistency(8, 6, &root_of(&l), &root_of(&l[..6]), &p));
    }

    /// Every proof for every size up to 70 verifies, and every mangled one fails.
    #[test]
    fn all_small_proofs_verify_and_mangled_ones_fail() {
        let l: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let roots: Vec<Hash> = (0..=l.len()).map(|n| root_of(&l[..n])).collect();
        for n in 0..=l.len() as u64 {
            for i in 0..n {
                let p = inclusion_proof(&mut InMemory(&l), i, n).unwrap();
                assert!(verify_inclusion(&l[i as usize], i, n, &p, &roots[n as usize]), "inclusion {i}/{n}");
                if let Some(first) = p.first() {
                    let mut bad = p.clone();
                    bad[0][0] ^= 1;
                    assert!(!verify_inclusion(&l[i as usize], i, n, &bad, &roots[n as usize]));
                    assert!(!verify_inclusion(&l[i as usize], i, n, &p[1..], &roots[n as usize]));
                    let mut longer = p.clone();
                    longer.push(*first);
                    assert!(!verify_inclusion(&l[i as usize], i, n, &longer, &roots[n as usize]));
                }
            }
            for m in 0..=n {
                let p = consistency_proof(&mut InMemory(&l), m, n).unwrap();
                assert!(verify_consistency(m, n, &roots[m as usize], &roots[n as usize], &p), "consistency {m}->{n}");
                if !p.is_empty() {
                    let mut bad = p.clone();
                    bad[p.len() - 1][5] ^= 0x80;
                    assert!(!verify_consistency(m, n, &roots[m as usize], &roots[n as usize], &bad));
                    assert!(!verify_consistency(m, n, &roots[m as usize], &roots[n as usize], &p[..p.len() - 1]));
                    if m > 0 && m < n {
                        // A different old tree is not consistent with the new one.
                        let mut other = l[..m as usize].to_vec();
                        other[0][0] ^= 1;
                        assert!(!verify_consistency(m, n, &root_of(&other), &roots[n as usize], &p));
                    }
                }
            }
        }
    }
}
