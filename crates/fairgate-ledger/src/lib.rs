//! The cryptography of Fairgate's ledger, with no knowledge of SQL or HTTP:
//!
//! - [`merkle`]: RFC 9162 leaf and node hashing, tree heads, an incremental frontier;
//! - [`leaf`]: the canonical leaf encoding (a minimal clear header, then AEAD ciphertext);
//! - [`keys`]: data keys wrapped by the master key, opaque per-leaf key ids, blind indexes;
//! - [`proof`]: RFC 9162 inclusion and consistency proofs, generated and verified;
//! - [`checkpoint`]: C2SP checkpoints signed as Ed25519 signed notes;
//! - [`witness`]: C2SP tlog-cosignature cosignatures and the tlog-witness rule.
//!
//! Randomness is always passed in by the caller.

pub mod checkpoint;
pub mod keys;
pub mod leaf;
pub mod merkle;
pub mod proof;
pub mod witness;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LedgerError {
    #[error("malformed leaf: {0}")]
    MalformedLeaf(&'static str),
    #[error("decryption failed: the key is wrong or destroyed, or the bytes were changed")]
    Decrypt,
    #[error("malformed key material: {0}")]
    MalformedKey(String),
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    #[error("checkpoint signature does not verify")]
    BadSignature,
}
