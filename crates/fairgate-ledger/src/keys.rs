//! Key material: 256-bit secret keys, envelope wrapping under the master key, the
//! opaque per-leaf key ids, and keyed blind indexes for look-ups.
//!
//! Each subject has its own data keys, wrapped by the master key. Destroying a
//! subject's wrapped keys makes every payload sealed under them unreadable.

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, BlockEncrypt, KeyInit};
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::{CryptoRng, RngCore};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::LedgerError;

/// A 256-bit secret key. Zeroed when dropped; never printed by `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut k = [0u8; 32];
        rng.fill_bytes(&mut k);
        Self(k)
    }
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
    /// Hex, for a key file. Handle the result as a secret.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    pub fn from_hex(s: &str) -> Result<Self, LedgerError> {
        let bytes = hex::decode(s.trim()).map_err(|_| LedgerError::MalformedKey("not hex".into()))?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| LedgerError::MalformedKey("expected 32 bytes".into()))?;
        Ok(Self(arr))
    }
}

pub const WRAPPED_LEN: usize = 12 + 32 + 16;

/// Wrap `key` under `master` (AES-256-GCM, random 96-bit nonce). `label` binds the
/// wrapped key to its use (say, which subject and which slot), so a wrapped key
/// copied into another row does not unwrap.
pub fn wrap(master: &SecretKey, key: &SecretKey, label: &[u8], rng: &mut (impl RngCore + CryptoRng)) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let cipher = Aes256Gcm::new(GenericArray::from_slice(master.expose()));
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: key.expose(), aad: label })
        .expect("AES-GCM encryption of 32 bytes cannot fail");
    let mut out = Vec::with_capacity(WRAPPED_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

pub fn unwrap(master: &SecretKey, wrapped: &[u8], label: &[u8]) -> Result<SecretKey, LedgerError> {
    if wrapped.len() != WRAPPED_LEN {
        return Err(LedgerError::MalformedKey(format!(
            "wrapped key has {} bytes, expected {WRAPPED_LEN}",
            wrapped.len()
        )));
    }
    let cipher = Aes256Gcm::new(GenericArray::from_slice(master.expose()));
    let pt = cipher
        .decrypt(Nonce::from_slice(&wrapped[..12]), Payload { msg: &wrapped[12..], aad: label })
        .map_err(|_| LedgerError::Decrypt)?;
    let arr: [u8; 32] = pt.as_slice().try_into().map_err(|_| LedgerError::Decrypt)?;
    Ok(SecretKey(arr))
}

/// Which key sealed a leaf, as only the operator can tell: the subject's number, the
/// leaf's own index, and the key slot (data, access log, system).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    pub subject_no: u64,
    pub leaf_index: u64,
    pub slot: u8,
}

/// Turns a [`KeyRef`] into the 16-byte key id written in a leaf's clear header, and
/// back. It is one AES-256 block under a secret key, so to anyone without that key
/// every leaf's key id looks random and unrelated to the others: the public log does
/// not show which leaves are about the same person. Because the leaf index is inside,
/// a leaf moved to another position no longer matches its key id.
pub struct KeyIdCipher(aes::Aes256);

impl KeyIdCipher {
    pub fn new(key: &SecretKey) -> Self {
        Self(aes::Aes256::new(GenericArray::from_slice(key.expose())))
    }

    pub fn seal(&self, r: KeyRef) -> [u8; 16] {
        assert!(r.leaf_index < 1 << 56, "leaf index beyond 2^56");
        let mut block = [0u8; 16];
        block[..8].copy_from_slice(&r.subject_no.to_be_bytes());
        block[8..15].copy_from_slice(&r.leaf_index.to_be_bytes()[1..]);
        block[15] = r.slot;
        let mut b = GenericArray::from(block);
        self.0.encrypt_block(&mut b);
        b.into()
    }

    pub fn open(&self, key_id: &[u8; 16]) -> KeyRef {
        let mut b = GenericArray::from(*key_id);
        self.0.decrypt_block(&mut b);
        let mut idx = [0u8; 8];
        idx[1..].copy_from_slice(&b[8..15]);
        KeyRef {
            subject_no: u64::from_be_bytes(b[..8].try_into().unwrap_or_default()),
            leaf_index: u64::from_be_bytes(idx),
            slot: b[15],
        }
    }
}

/// A keyed blind index: HMAC-SHA256 over a domain label and a normalised value. The
/// same value always gives the same index under one key, so equality look-ups work,
/// but the index reveals nothing without the key.
pub fn blind_index(key: &SecretKey, domain: &str, value: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.expose()).expect("HMAC takes any key length");
    mac.update(domain.as_bytes());
    mac.update(&[0]);
    mac.update(value.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The key of one subject's records under one program: HMAC-SHA256 keyed by the
/// program's key over the subject's number and data key. Either key alone is not
/// enough, so destroying the program's key erases that program's records of every
/// subject, and destroying a subject's data key erases all of that subject's.
pub fn program_subject_key(program_key: &SecretKey, subject_no: u64, data_key: &SecretKey) -> SecretKey {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(program_key.expose()).expect("HMAC takes any key length");
    mac.update(b"fairgate program subject key v1\0");
    mac.update(&subject_no.to_be_bytes());
    mac.update(data_key.expose());
    SecretKey::from_bytes(mac.finalize().into_bytes().into())
}

/// A short public name of a key (the first 8 bytes of SHA-256 over a label and the
/// key, hex), to say which master key is in use without revealing it.
/// A master key: it wraps and unwraps the stored keys (AES-256-GCM: nonce, then
/// ciphertext and tag, [`WRAPPED_LEN`] bytes, the label as associated data). Either
/// held in memory (a [`SecretKey`] read from a key file) or inside a PKCS#11 token,
/// where it is generated and never leaves. The caller supplies the nonce.
pub trait MasterKey: Send + Sync {
    fn wrap_key(&self, key: &SecretKey, label: &[u8], nonce: [u8; 12]) -> Result<Vec<u8>, LedgerError>;
    fn unwrap_key(&self, wrapped: &[u8], label: &[u8]) -> Result<SecretKey, LedgerError>;
    /// A short public name of the key (its epoch): never the key itself.
    fn fingerprint(&self) -> String;
}

impl MasterKey for SecretKey {
    fn wrap_key(&self, key: &SecretKey, label: &[u8], nonce: [u8; 12]) -> Result<Vec<u8>, LedgerError> {
        let cipher = Aes256Gcm::new(GenericArray::from_slice(self.expose()));
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: key.expose(), aad: label })
            .map_err(|_| LedgerError::Decrypt)?;
        let mut out = Vec::with_capacity(WRAPPED_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    fn unwrap_key(&self, wrapped: &[u8], label: &[u8]) -> Result<SecretKey, LedgerError> {
        unwrap(self, wrapped, label)
    }

    fn fingerprint(&self) -> String {
        fingerprint(self)
    }
}

pub fn fingerprint(key: &SecretKey) -> String {
    use sha2::Digest;
    let mut h = Sha256::new();
    h.update(b"fairgate key fingerprint v1\0");
    h.update(key.expose());
    h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Seals records derived from a subject's events (projection rows that carry
/// personal data, such as the stay facts) under a key derived from the subject's
/// data key, so destroying that key makes the records unreadable too.
///
/// Sealing is deterministic: the nonce is made from a `counter` the caller supplies
/// (the index of the last leaf folded into the record), so the same record seals to
/// the same bytes and a rebuilt projection is byte-identical to the live one. The
/// cipher is AES-256-GCM-SIV (RFC 8452), which stays safe if a counter is ever
/// reused: two different records under one counter reveal only that they differ.
pub struct RecordSealer(aes_gcm_siv::Aes256GcmSiv);

/// Version tag in the first four bytes of a record nonce.
const RECORD_NONCE_TAG: [u8; 4] = *b"rec1";

impl RecordSealer {
    /// `domain` separates kinds of record: each gets its own derived key.
    pub fn new(data_key: &SecretKey, domain: &str) -> Self {
        let mut derived = blind_index(data_key, "fairgate record key", domain);
        let cipher = <aes_gcm_siv::Aes256GcmSiv as aes_gcm_siv::KeyInit>::new(GenericArray::from_slice(&derived));
        derived.zeroize();
        Self(cipher)
    }

    fn nonce(counter: u64) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[..4].copy_from_slice(&RECORD_NONCE_TAG);
        n[4..].copy_from_slice(&counter.to_be_bytes());
        n
    }

    /// `aad` binds the record to where it is stored (say, the subject number).
    pub fn seal(&self, counter: u64, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        use aes_gcm_siv::aead::Aead;
        self.0
            .encrypt(GenericArray::from_slice(&Self::nonce(counter)), Payload { msg: plaintext, aad })
            .expect("AES-GCM-SIV encryption of an in-memory record cannot fail")
    }

    pub fn open(&self, counter: u64, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, LedgerError> {
        use aes_gcm_siv::aead::Aead;
        self.0
            .decrypt(GenericArray::from_slice(&Self::nonce(counter)), Payload { msg: sealed, aad })
            .map_err(|_| LedgerError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    fn rng() -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(7)
    }

    #[test]
    fn a_program_subject_key_needs_both_keys() {
        let mut r = rng();
        let (p, q) = (SecretKey::generate(&mut r), SecretKey::generate(&mut r));
        let (d, e) = (SecretKey::generate(&mut r), SecretKey::generate(&mut r));
        let k = program_subject_key(&p, 7, &d);
        assert_eq!(k.expose(), program_subject_key(&p, 7, &d).expose());
        assert_ne!(k.expose(), program_subject_key(&q, 7, &d).expose());
        assert_ne!(k.expose(), program_subject_key(&p, 7, &e).expose());
        assert_ne!(k.expose(), program_subject_key(&p, 8, &d).expose());
        assert_ne!(fingerprint(&p), fingerprint(&q));
        assert_eq!(fingerprint(&p).len(), 16);
    }

    #[test]
    fn wrapped_keys_unwrap_only_with_the_right_master_and_label() {
        let mut r = rng();
        let master = SecretKey::generate(&mut r);
        let other = SecretKey::generate(&mut r);
        let k = SecretKey::generate(&mut r);
        let w = wrap(&master, &k, b"subject 1 data", &mut r);
        assert_eq!(unwrap(&master, &w, b"subject 1 data").unwrap().expose(), k.expose());
        assert_eq!(unwrap(&other, &w, b"subject 1 data").unwrap_err(), LedgerError::Decrypt);
        assert_eq!(unwrap(&master, &w, b"subject 2 data").unwrap_err(), LedgerError::Decrypt);
        let mut flipped = w.clone();
        flipped[30] ^= 1;
        assert!(unwrap(&master, &flipped, b"subject 1 data").is_err());
    }

    #[test]
    fn blind_indexes_depend_on_key_domain_and_value() {
        let mut r = rng();
        let k1 = SecretKey::generate(&mut r);
        let k2 = SecretKey::generate(&mut r);
        let a = blind_index(&k1, "document", "L898902C3");
        assert_eq!(a, blind_index(&k1, "document", "L898902C3"));
        assert_ne!(a, blind_index(&k2, "document", "L898902C3"));
        assert_ne!(a, blind_index(&k1, "other", "L898902C3"));
        assert_ne!(a, blind_index(&k1, "document", "L898902C4"));
    }

    #[test]
    fn records_seal_deterministically_and_open_only_with_their_key_counter_and_place() {
        let mut r = rng();
        let data = SecretKey::generate(&mut r);
        let s = RecordSealer::new(&data, "stay-facts");
        let sealed = s.seal(41, b"subject 7", b"some facts");
        assert_eq!(sealed, s.seal(41, b"subject 7", b"some facts"), "same record, same bytes");
        assert_ne!(sealed, s.seal(42, b"subject 7", b"some facts"));
        assert!(!sealed.windows(10).any(|w| w == b"some facts"));
        assert_eq!(s.open(41, b"subject 7", &sealed).unwrap(), b"some facts");
        assert_eq!(s.open(40, b"subject 7", &sealed).unwrap_err(), LedgerError::Decrypt);
        assert_eq!(s.open(41, b"subject 8", &sealed).unwrap_err(), LedgerError::Decrypt);
        let other_domain = RecordSealer::new(&data, "other");
        assert_eq!(other_domain.open(41, b"subject 7", &sealed).unwrap_err(), LedgerError::Decrypt);
        let other_key = RecordSealer::new(&SecretKey::generate(&mut r), "stay-facts");
        assert_eq!(other_key.open(41, b"subject 7", &sealed).unwrap_err(), LedgerError::Decrypt);
        let mut flipped = sealed.clone();
        flipped[3] ^= 1;
        assert!(s.open(41, b"subject 7", &flipped).is_err());
    }

    #[test]
    fn hex_round_trip() {
        let k = SecretKey::generate(&mut rng());
        assert_eq!(SecretKey::from_hex(&k.to_hex()).unwrap().expose(), k.expose());
        assert!(SecretKey::from_hex("abcd").is_err());
        assert!(format!("{k:?}").contains(".."));
    }

    proptest! {
        #[test]
        fn key_ids_round_trip_and_hide_their_contents(subject_no in any::<u64>(), leaf_index in 0u64..(1 << 56), slot in any::<u8>()) {
            let c = KeyIdCipher::new(&SecretKey::from_bytes([9; 32]));
            let r = KeyRef { subject_no, leaf_index, slot };
            let id = c.seal(r);
            prop_assert_eq!(c.open(&id), r);
            prop_assert_ne!(&id[..8], &subject_no.to_be_bytes()[..]);
            // The next leaf of the same subject gets an unrelated id.
            let next = c.seal(KeyRef { leaf_index: (leaf_index + 1) % (1 << 56), ..r });
            prop_assert!(id.iter().zip(next.iter()).filter(|(a, b)| a == b).count() < 8);
        }
    }
}
