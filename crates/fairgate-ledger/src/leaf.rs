//! The canonical leaf encoding. A leaf is a clear header, which holds only a format
//! version, the event kind, a timestamp and an opaque key id, followed by an AEAD
//! ciphertext of the payload with the header as associated data:
//!
//! ```text
//! offset  size  field
//! 0       1     version (2; 1 for leaves written before padding)
//! 1       2     event kind, big-endian
//! 3       8     timestamp, milliseconds since 1970-01-01T00:00:00Z, big-endian signed
//! 11      16    key id (see keys::KeyIdCipher)
//! 27      12    AES-256-GCM nonce (random)
//! 39      n+16  ciphertext and tag
//! ```
//!
//! Since version 2 the plaintext is the payload padded to a size class (ISO/IEC
//! 7816-4 padding: one 0x80 byte, then zeros): 512, 1,024 or 4,096 bytes, or the next
//! multiple of 4,096 above that, so a leaf's length tells no more than its class. The
//! classes come from measured payloads: subjects 337–354 bytes, crossings 270–370
//! (with an overstay flag), registrations 284–509, reviews and accounts 216–340,
//! program drafts about 7,700. Version 1 leaves (unpadded) still open.
//!
//! Random 96-bit nonces are safe here because each subject key seals only that
//! subject's events, far fewer than the 2^32 messages AES-GCM allows per key.

use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::{CryptoRng, RngCore};

use crate::keys::SecretKey;
use crate::LedgerError;

pub const VERSION: u8 = 2;
/// Leaves written before padding: still read.
pub const VERSION_UNPADDED: u8 = 1;
/// The padded plaintext sizes (then multiples of the last).
pub const SIZE_CLASSES: [usize; 3] = [512, 1024, 4096];

/// The padded length of a payload of `n` bytes (one marker byte included).
pub fn padded_len(n: usize) -> usize {
    let need = n + 1;
    match SIZE_CLASSES.iter().find(|c| **c >= need) {
        Some(c) => *c,
        None => need.div_ceil(4096) * 4096,
    }
}
/// Leaf times are public, so they are no finer than the log needs: whole seconds
/// (the header's millisecond field is always a multiple of this). Ordering comes
/// from the leaf index; the exact times of what a leaf records are sealed inside it.
pub const TIME_GRANULARITY_MS: i64 = 1000;

/// The public time of a leaf written at `ms` (milliseconds since the epoch).
pub fn public_time_ms(ms: i64) -> i64 {
    ms.div_euclid(TIME_GRANULARITY_MS) * TIME_GRANULARITY_MS
}

pub const HEADER_LEN: usize = 27;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;
/// The smallest possible leaf: a header, a nonce and the tag of an empty payload.
pub const MIN_LEN: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub kind: u16,
    pub timestamp_ms: i64,
    pub key_id: [u8; 16],
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0] = VERSION;
        out[1..3].copy_from_slice(&self.kind.to_be_bytes());
        out[3..11].copy_from_slice(&self.timestamp_ms.to_be_bytes());
        out[11..27].copy_from_slice(&self.key_id);
        out
    }

    pub fn decode(leaf: &[u8]) -> Result<Header, LedgerError> {
        if leaf.len() < MIN_LEN {
            return Err(LedgerError::MalformedLeaf("shorter than header, nonce and tag"));
        }
        if leaf[0] != VERSION && leaf[0] != VERSION_UNPADDED {
            return Err(LedgerError::MalformedLeaf("unknown format version"));
        }
        let mut key_id = [0u8; 16];
        key_id.copy_from_slice(&leaf[11..27]);
        Ok(Header {
            kind: u16::from_be_bytes([leaf[1], leaf[2]]),
            timestamp_ms: i64::from_be_bytes(
                leaf[3..11].try_into().map_err(|_| LedgerError::MalformedLeaf("timestamp"))?,
            ),
            key_id,
        })
    }
}

/// A key made ready for sealing many leaves: the AES key schedule and GHASH key are
/// computed once, not per leaf. Each leaf still gets its own random nonce.
pub struct Sealer(Aes256Gcm);

impl Sealer {
    pub fn new(key: &SecretKey) -> Self {
        Self(Aes256Gcm::new(GenericArray::from_slice(key.expose())))
    }

    /// Encrypt `payload`, padded to its size class, and encode the leaf.
    pub fn seal(&self, header: &Header, payload: &[u8], rng: &mut (impl RngCore + CryptoRng)) -> Vec<u8> {
        let padded = padded_len(payload.len());
        let mut out = Vec::with_capacity(MIN_LEN + padded);
        let head = header.encode();
        out.extend_from_slice(&head);
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(payload);
        out.push(0x80);
        out.resize(HEADER_LEN + NONCE_LEN + padded, 0);
        let tag = self
            .0
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), &head, &mut out[HEADER_LEN + NONCE_LEN..])
            .expect("payloads are far below the AEAD length limit");
        out.extend_from_slice(&tag);
        out
    }
}

/// Encrypt `payload` under `key` and encode the leaf.
pub fn seal(header: &Header, key: &SecretKey, payload: &[u8], rng: &mut (impl RngCore + CryptoRng)) -> Vec<u8> {
    Sealer::new(key).seal(header, payload, rng)
}

/// Decrypt a leaf's payload. Fails if the key is wrong or any byte was changed.
pub fn open(leaf: &[u8], key: &SecretKey) -> Result<(Header, Vec<u8>), LedgerError> {
    let header = Header::decode(leaf)?;
    let (body, tag) = leaf.split_at(leaf.len() - TAG_LEN);
    let nonce = Nonce::from_slice(&body[HEADER_LEN..HEADER_LEN + NONCE_LEN]);
    let mut pt = body[HEADER_LEN + NONCE_LEN..].to_vec();
    let cipher = Aes256Gcm::new(GenericArray::from_slice(key.expose()));
    cipher
        .decrypt_in_place_detached(nonce, &leaf[..HEADER_LEN], &mut pt, GenericArray::from_slice(tag))
        .map_err(|_| LedgerError::Decrypt)?;
    if leaf[0] == VERSION {
        // Authenticated, so well-formed unless the sealer was wrong: strip the padding.
        let end = pt.iter().rposition(|b| *b != 0).filter(|i| pt[*i] == 0x80);
        let Some(end) = end else { return Err(LedgerError::MalformedLeaf("padding")) };
        pt.truncate(end);
    }
    Ok((header, pt))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    fn header() -> Header {
        Header { kind: 3, timestamp_ms: 1_780_000_000_123, key_id: [7; 16] }
    }

    #[test]
    fn the_layout_is_as_documented() {
        let mut r = rand::rngs::StdRng::seed_from_u64(1);
        let leaf = seal(&header(), &SecretKey::from_bytes([1; 32]), b"hello", &mut r);
        assert_eq!(leaf.len(), MIN_LEN + 512, "padded to the first size class");
        assert_eq!(leaf[0], 2);
        assert_eq!(&leaf[1..3], &[0, 3]);
        assert_eq!(&leaf[3..11], &1_780_000_000_123i64.to_be_bytes());
        assert_eq!(&leaf[11..27], &[7; 16]);
        assert!(!leaf.windows(5).any(|w| w == b"hello"), "payload must not appear in the clear");
        assert_eq!(Header::decode(&leaf).unwrap(), header());
    }

    #[test]
    fn a_reused_sealer_gives_a_fresh_nonce_per_leaf() {
        let mut r = rand::rngs::StdRng::seed_from_u64(1);
        let key = SecretKey::from_bytes([1; 32]);
        let sealer = Sealer::new(&key);
        let a = sealer.seal(&header(), b"same", &mut r);
        let b = sealer.seal(&header(), b"same", &mut r);
        assert_ne!(a[HEADER_LEN..HEADER_LEN + NONCE_LEN], b[HEADER_LEN..HEADER_LEN + NONCE_LEN]);
        assert_ne!(a, b);
        assert_eq!(open(&a, &key).unwrap().1, b"same");
        assert_eq!(open(&b, &key).unwrap().1, b"same");
    }

    #[test]
    fn wrong_key_and_short_or_unknown_leaves_fail() {
        let mut r = rand::rngs::StdRng::seed_from_u64(1);
        let leaf = seal(&header(), &SecretKey::from_bytes([1; 32]), b"hello", &mut r);
        assert_eq!(open(&leaf, &SecretKey::from_bytes([2; 32])).unwrap_err(), LedgerError::Decrypt);
        assert!(matches!(Header::decode(&leaf[..20]), Err(LedgerError::MalformedLeaf(_))));
        let mut v3 = leaf.clone();
        v3[0] = 3;
        assert!(matches!(Header::decode(&v3), Err(LedgerError::MalformedLeaf(_))));
    }

    #[test]
    fn lengths_tell_only_the_size_class() {
        let mut r = rand::rngs::StdRng::seed_from_u64(1);
        let key = SecretKey::from_bytes([1; 32]);
        let mut len = |n: usize| seal(&header(), &key, &vec![7u8; n], &mut r).len() - MIN_LEN;
        assert_eq!((len(0), len(270), len(370), len(511)), (512, 512, 512, 512));
        assert_eq!((len(512), len(1023)), (1024, 1024));
        assert_eq!((len(1024), len(4095), len(4096), len(7700)), (4096, 4096, 8192, 8192));
    }

    #[test]
    fn an_unpadded_leaf_of_version_1_still_opens() {
        let key = SecretKey::from_bytes([1; 32]);
        let head = {
            let mut h = header().encode();
            h[0] = VERSION_UNPADDED;
            h
        };
        let nonce = [9u8; NONCE_LEN];
        let mut body = b"old payload".to_vec();
        let tag = Aes256Gcm::new(GenericArray::from_slice(key.expose()))
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), &head, &mut body)
            .unwrap();
        let leaf = [&head[..], &nonce, &body, &tag].concat();
        assert_eq!(open(&leaf, &key).unwrap().1, b"old payload");
    }

    proptest! {
        #[test]
        fn padding_round_trips(payload in proptest::collection::vec(any::<u8>(), 0..5000)) {
            let mut r = rand::rngs::StdRng::seed_from_u64(1);
            let key = SecretKey::from_bytes([1; 32]);
            let leaf = seal(&header(), &key, &payload, &mut r);
            prop_assert_eq!(leaf.len() - MIN_LEN, padded_len(payload.len()));
            prop_assert_eq!(open(&leaf, &key).unwrap().1, payload);
        }

        #[test]
        fn any_flipped_bit_is_detected(payload in proptest::collection::vec(any::<u8>(), 0..200), pos in any::<proptest::sample::Index>(), bit in 0u8..8) {
            let mut r = rand::rngs::StdRng::seed_from_u64(1);
            let key = SecretKey::from_bytes([1; 32]);
            let leaf = seal(&header(), &key, &payload, &mut r);
            prop_assert_eq!(open(&leaf, &key).unwrap().1, payload);
            let mut bad = leaf.clone();
            let i = pos.index(bad.len());
            bad[i] ^= 1 << bit;
            prop_assert!(open(&bad, &key).is_err());
        }
    }
}
