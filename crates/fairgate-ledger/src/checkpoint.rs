//! Checkpoints in the C2SP checkpoint format, signed as C2SP signed notes with
//! Ed25519:
//!
//! ```text
//! <origin>\n<tree size>\n<base64 root hash>\n
//! \n
//! — <key name> <base64(key hash[4] || signature[64])>\n
//! ```
//!
//! The key hash is SHA-256(name || "\n" || 0x01 || public key)[:4]; the verifier key
//! is written `<name>+<hex key hash>+<base64(0x01 || public key)>`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;
use crate::LedgerError;

const ED25519_ALG: u8 = 0x01;
const EM_DASH: &str = "\u{2014}";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note text that is signed.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root))
    }

    pub fn parse_body(body: &str) -> Result<Checkpoint, LedgerError> {
        let bad = |m: &str| LedgerError::MalformedCheckpoint(m.to_string());
        let mut lines = body.strip_suffix('\n').ok_or_else(|| bad("body must end with a new line"))?.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty()).ok_or_else(|| bad("missing origin line"))?;
        let size =
            lines.next().and_then(|s| s.parse::<u64>().ok()).ok_or_else(|| bad("tree size is not a decimal number"))?;
        let root = lines
            .next()
            .and_then(|r| B64.decode(r).ok())
            .and_then(|r| <[u8; 32]>::try_from(r).ok())
            .ok_or_else(|| bad("root hash is not 32 bytes of base64"))?;
        Ok(Checkpoint { origin: origin.to_string(), size, root })
    }
}

/// A signed-note key hash: SHA-256(name || "\n" || signature type || public key)[:4].
pub(crate) fn key_hash_of(name: &str, alg: u8, public: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([alg]);
    h.update(public.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

fn key_hash(name: &str, public: &VerifyingKey) -> [u8; 4] {
    key_hash_of(name, ED25519_ALG, public)
}

/// Parse a signed-note verifier key `<name>+<hex key hash>+<base64(alg || public key)>`
/// of signature type `alg` (Ed25519 keys only): its name, key hash and key.
/// `what` names the key in errors.
pub(crate) fn parse_vkey(vkey: &str, alg: u8, what: &str) -> Result<(String, [u8; 4], VerifyingKey), LedgerError> {
    let bad = |m: &str| LedgerError::MalformedKey(format!("{what}: {m}"));
    let mut parts = vkey.trim().splitn(3, '+');
    let name = parts.next().filter(|n| !n.is_empty()).ok_or_else(|| bad("missing name"))?;
    let hash = parts.next().and_then(|h| hex::decode(h).ok()).ok_or_else(|| bad("key hash is not hex"))?;
    let raw = parts.next().and_then(|k| B64.decode(k).ok()).ok_or_else(|| bad("key is not base64"))?;
    if raw.len() != 33 || raw[0] != alg {
        return Err(bad(&format!("not an Ed25519 key of signature type 0x{alg:02x}")));
    }
    let key = VerifyingKey::from_bytes(raw[1..].try_into().map_err(|_| bad("key length"))?)
        .map_err(|_| bad("invalid Ed25519 point"))?;
    let hash: [u8; 4] = hash.try_into().map_err(|_| bad("key hash is not 4 bytes"))?;
    if hash != key_hash_of(name, alg, &key) {
        return Err(bad("key hash does not match name and key"));
    }
    Ok((name.to_string(), hash, key))
}

/// Signs checkpoints under a key name (by convention the log's origin).
pub struct NoteSigner {
    name: String,
    key: SigningKey,
}

impl NoteSigner {
    pub fn from_seed(name: impl Into<String>, seed: &[u8; 32]) -> Self {
        Self { name: name.into(), key: SigningKey::from_bytes(seed) }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole signed note.
    pub fn sign(&self, cp: &Checkpoint) -> String {
        let body = cp.body();
        let sig = self.key.sign(body.as_bytes());
        let mut blob = key_hash(&self.name, &self.key.verifying_key()).to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        format!("{body}\n{EM_DASH} {} {}\n", self.name, B64.encode(blob))
    }

    /// A signature over any message with the same key, in the signed-note blob form:
    /// base64 of the 4-byte key hash and the 64-byte Ed25519 signature. Used for
    /// documents the log vouches for, such as expungement certificates.
    pub fn sign_bytes(&self, msg: &[u8]) -> String {
        let sig = self.key.sign(msg);
        let mut blob = key_hash(&self.name, &self.key.verifying_key()).to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        B64.encode(blob)
    }

    /// The verifier key in signed-note `vkey` form.
    pub fn verifier_key(&self) -> String {
        let public = self.key.verifying_key();
        let mut raw = vec![ED25519_ALG];
        raw.extend_from_slice(public.as_bytes());
        format!("{}+{}+{}", self.name, hex::encode(key_hash(&self.name, &public)), B64.encode(raw))
    }
}

/// Verifies notes against one verifier key.
pub struct NoteVerifier {
    name: String,
    hash: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    pub fn parse(vkey: &str) -> Result<Self, LedgerError> {
        let (name, hash, key) = parse_vkey(vkey, ED25519_ALG, "verifier key")?;
        Ok(Self { name, hash, key })
    }

    /// Check a [`NoteSigner::sign_bytes`] signature over `msg`.
    pub fn verify_bytes(&self, msg: &[u8], signature: &str) -> Result<(), LedgerError> {
        let blob = B64.decode(signature.trim()).map_err(|_| LedgerError::BadSignature)?;
        if blob.len() != 68 || blob[..4] != self.hash {
            return Err(LedgerError::BadSignature);
        }
        let sig = Signature::from_bytes(blob[4..].try_into().map_err(|_| LedgerError::BadSignature)?);
        self.key.verify(msg, &sig).map_err(|_| LedgerError::BadSignature)
    }

    /// Check a signed note and return its checkpoint.
    pub fn verify(&self, note: &str) -> Result<Checkpoint, LedgerError> {
        let split = note
            .find("\n\n")
            .ok_or_else(|| LedgerError::MalformedCheckpoint("no blank line before signatures".into()))?;
        let (body, sigs) = (&note[..split + 1], &note[split + 2..]);
        for line in sigs.lines() {
            let Some(rest) = line.strip_prefix(EM_DASH).and_then(|r| r.strip_prefix(' ')) else {
                continue;
            };
            let Some((name, b64)) = rest.rsplit_once(' ') else {
                continue;
            };
            let Ok(blob) = B64.decode(b64) else { continue };
            if name != self.name || blob.len() != 68 || blob[..4] != self.hash {
                continue;
            }
            let sig = Signature::from_bytes(blob[4..].try_into().map_err(|_| LedgerError::BadSignature)?);
            self.key.verify(body.as_bytes(), &sig).map_err(|_| LedgerError::BadSignature)?;
            return Checkpoint::parse_body(body);
        }
        Err(LedgerError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp() -> Checkpoint {
        Checkpoint { origin: "example.org/fairgate".into(), size: 42, root: [5; 32] }
    }

    #[test]
    fn signed_notes_verify_and_round_trip() {
        let s = NoteSigner::from_seed("example.org/fairgate", &[3; 32]);
        let note = s.sign(&cp());
        assert!(note.starts_with("example.org/fairgate\n42\nBQUF"));
        assert!(note.contains("\n\n\u{2014} example.org/fairgate "));
        let v = NoteVerifier::parse(&s.verifier_key()).unwrap();
        assert_eq!(v.verify(&note).unwrap(), cp());
    }

    #[test]
    fn byte_signatures_verify_only_for_the_same_message_and_key() {
        let s = NoteSigner::from_seed("example.org/fairgate", &[3; 32]);
        let sig = s.sign_bytes(b"certificate");
        let v = NoteVerifier::parse(&s.verifier_key()).unwrap();
        assert_eq!(v.verify_bytes(b"certificate", &sig), Ok(()));
        assert_eq!(v.verify_bytes(b"certificatf", &sig), Err(LedgerError::BadSignature));
        let other = NoteSigner::from_seed("example.org/fairgate", &[4; 32]);
        assert!(v.verify_bytes(b"certificate", &other.sign_bytes(b"certificate")).is_err());
    }

    #[test]
    fn altered_notes_and_other_keys_fail() {
        let s = NoteSigner::from_seed("example.org/fairgate", &[3; 32]);
        let note = s.sign(&cp());
        let v = NoteVerifier::parse(&s.verifier_key()).unwrap();
        assert_eq!(v.verify(&note.replacen("\n42\n", "\n43\n", 1)).unwrap_err(), LedgerError::BadSignature);
        let other = NoteSigner::from_seed("example.org/fairgate", &[4; 32]);
        assert!(NoteVerifier::parse(&other.verifier_key()).unwrap().verify(&note).is_err());
        let mut vk = s.verifier_key();
        vk.replace_range(0..1, "X");
        assert!(NoteVerifier::parse(&vk).is_err(), "a renamed key must not match its hash");
    }
}
