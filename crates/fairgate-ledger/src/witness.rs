//! Witnesses: cosignatures per C2SP tlog-cosignature (the Ed25519 `cosignature/v1`
//! type) and the `add-checkpoint` exchange of C2SP tlog-witness.
//!
//! - [`Cosigner`] signs `cosignature/v1\ntime T\n<checkpoint body>` and writes the
//!   note signature line `— <name> base64(key id[4] || T as u64 big-endian || sig[64])`,
//!   the key id being SHA-256(name || "\n" || 0x04 || public key)[:4];
//! - [`CosignatureVerifier`] checks such a line against a checkpoint;
//! - [`AddCheckpoint`] is the request body (`old N`, up to 63 base64 proof lines, a
//!   blank line, the signed checkpoint);
//! - [`decide`] is the witness's whole rule: given what it holds for a log, accept a
//!   request (the new state to persist, then cosign) or refuse it with the status
//!   tlog-witness names and, for a conflict, the checkpoint it holds as evidence.
//!
//! Pure: no clock (the caller passes the time), no storage, no HTTP.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::checkpoint::{Checkpoint, NoteVerifier};
use crate::merkle::Hash;
use crate::proof::verify_consistency;
use crate::LedgerError;

/// The signature type of Ed25519 cosignatures (tlog-cosignature).
pub const COSIGNATURE_ALG: u8 = 0x04;
/// At most this many consistency proof lines (tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;
const EM_DASH: &str = "\u{2014}";

fn key_id(name: &str, public: &VerifyingKey) -> [u8; 4] {
    crate::checkpoint::key_hash_of(name, COSIGNATURE_ALG, public)
}

/// The message a `cosignature/v1` signs: the header line, the time line, and the
/// checkpoint's note body (with its final newline, without signature lines).
pub fn signed_message(body: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{body}")
}

/// The note body of a signed note: everything up to and including the line before
/// the blank line.
pub fn note_body(note: &str) -> Result<&str, LedgerError> {
    let split = note
        .find("\n\n")
        .ok_or_else(|| LedgerError::MalformedCheckpoint("no blank line before the signatures".into()))?;
    Ok(&note[..split + 1])
}

/// A witness's signing key under its name.
pub struct Cosigner {
    name: String,
    key: SigningKey,
}

impl Cosigner {
    pub fn from_seed(name: impl Into<String>, seed: &[u8; 32]) -> Self {
        Self { name: name.into(), key: SigningKey::from_bytes(seed) }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The note signature line (ending in a newline) cosigning the checkpoint with
    /// note body `body` at `timestamp` (POSIX seconds).
    pub fn cosign(&self, body: &str, timestamp: u64) -> String {
        let sig = self.key.sign(signed_message(body, timestamp).as_bytes());
        let mut blob = key_id(&self.name, &self.key.verifying_key()).to_vec();
        blob.extend_from_slice(&timestamp.to_be_bytes());
        blob.extend_from_slice(&sig.to_bytes());
        format!("{EM_DASH} {} {}\n", self.name, B64.encode(blob))
    }

    /// The verifier key: `<name>+<hex key id>+<base64(0x04 || public key)>`.
    pub fn verifier_key(&self) -> String {
        let public = self.key.verifying_key();
        let mut raw = vec![COSIGNATURE_ALG];
        raw.extend_from_slice(public.as_bytes());
        format!("{}+{}+{}", self.name, hex::encode(key_id(&self.name, &public)), B64.encode(raw))
    }
}

/// Checks one witness's cosignatures.
#[derive(Debug, Clone)]
pub struct CosignatureVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl CosignatureVerifier {
    pub fn parse(vkey: &str) -> Result<Self, LedgerError> {
        let (name, id, key) = crate::checkpoint::parse_vkey(vkey, COSIGNATURE_ALG, "witness key")?;
        Ok(Self { name, id, key })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Check one signature line (with or without its newline) over `body`; the
    /// cosignature's timestamp when it verifies. Lines of other keys are
    /// `BadSignature` too: callers skip them.
    pub fn verify_line(&self, body: &str, line: &str) -> Result<u64, LedgerError> {
        let rest = line
            .trim_end_matches('\n')
            .strip_prefix(EM_DASH)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or(LedgerError::BadSignature)?;
        let (name, b64) = rest.rsplit_once(' ').ok_or(LedgerError::BadSignature)?;
        let blob = B64.decode(b64).map_err(|_| LedgerError::BadSignature)?;
        if name != self.name || blob.len() != 4 + 8 + 64 || blob[..4] != self.id {
            return Err(LedgerError::BadSignature);
        }
        let timestamp = u64::from_be_bytes(blob[4..12].try_into().map_err(|_| LedgerError::BadSignature)?);
        if timestamp > i64::MAX as u64 {
            return Err(LedgerError::BadSignature);
        }
        let sig = Signature::from_bytes(blob[12..].try_into().map_err(|_| LedgerError::BadSignature)?);
        self.key.verify(signed_message(body, timestamp).as_bytes(), &sig).map_err(|_| LedgerError::BadSignature)?;
        Ok(timestamp)
    }

    /// This witness's valid cosignature in a signed note: its line and timestamp.
    pub fn find(&self, note: &str) -> Option<(String, u64)> {
        let body = note_body(note).ok()?;
        let sigs = &note[body.len() + 1..];
        sigs.split_inclusive('\n').find_map(|line| self.verify_line(body, line).ok().map(|t| (line.to_string(), t)))
    }
}

/// Which of `witnesses` validly cosigned `note`, by name.
pub fn cosigned_by<'a>(note: &str, witnesses: &'a [CosignatureVerifier]) -> Vec<&'a str> {
    witnesses.iter().filter(|w| w.find(note).is_some()).map(|w| w.name()).collect()
}

/// An `add-checkpoint` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint (it may carry several signatures).
    pub checkpoint: String,
}

impl AddCheckpoint {
    pub fn encode(&self) -> String {
        let mut out = format!("old {}\n", self.old_size);
        for h in &self.proof {
            out.push_str(&B64.encode(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Parse a request body strictly: a malformed one is a 400 naming what is wrong.
    pub fn parse(body: &str) -> Result<Self, Refusal> {
        let bad = |m: String| Refusal::BadRequest(m);
        let (first, mut rest) = body.split_once('\n').ok_or_else(|| bad("line 1: expected `old N`".into()))?;
        let n = first.strip_prefix("old ").ok_or_else(|| bad("line 1: expected `old N`".into()))?;
        let old_size: u64 = n
            .parse()
            .ok()
            .filter(|_| n == "0" || !n.starts_with('0'))
            .filter(|_| n.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| bad(format!("line 1: `{n}` is not a size in decimal without leading zeroes")))?;
        let mut proof = Vec::new();
        let mut line_no = 1;
        loop {
            line_no += 1;
            let (line, tail) = rest
                .split_once('\n')
                .ok_or_else(|| bad(format!("line {line_no}: expected a proof hash or the blank line")))?;
            rest = tail;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad(format!("more than {MAX_PROOF_LINES} consistency proof lines")));
            }
            let h: Hash = B64
                .decode(line)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| bad(format!("line {line_no}: not a base64 SHA-256 hash")))?;
            proof.push(h);
        }
        if old_size == 0 && !proof.is_empty() {
            return Err(bad("the proof must be empty when the old size is 0".into()));
        }
        Ok(AddCheckpoint { old_size, proof, checkpoint: rest.to_string() })
    }
}

/// What a witness holds for one log: the latest checkpoint it cosigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub size: u64,
    pub root: Hash,
    /// The log's signed note, as submitted (evidence if the log later contradicts it).
    pub note: String,
}

/// Why a witness refuses, with the HTTP status tlog-witness assigns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    BadRequest(String),
    #[error("this witness does not follow the log `{0}`")]
    UnknownLog(String),
    #[error("no signature on the checkpoint verifies under the log's key")]
    BadSignature,
    /// The old size is not the size of the latest cosigned checkpoint.
    #[error("the old size is not the size this witness last cosigned ({held})")]
    OldSize { held: u64 },
    /// The same size as the held checkpoint, another root: a fork.
    #[error("the checkpoint conflicts with the one this witness cosigned at the same size")]
    Conflict { held: String },
    /// The consistency proof from the held checkpoint does not verify: a fork, or a bad proof.
    #[error("the consistency proof from the size this witness holds does not verify")]
    Inconsistent { held: String },
}

impl Refusal {
    /// The HTTP status tlog-witness names for this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::BadRequest(_) => 400,
            Refusal::UnknownLog(_) => 404,
            Refusal::BadSignature => 403,
            Refusal::OldSize { .. } | Refusal::Conflict { .. } => 409,
            Refusal::Inconsistent { .. } => 422,
        }
    }

    /// The signed checkpoint this witness holds that the submitted one contradicts,
    /// when the refusal is evidence of a fork.
    pub fn evidence(&self) -> Option<&str> {
        match self {
            Refusal::Conflict { held } | Refusal::Inconsistent { held } => Some(held),
            _ => None,
        }
    }
}

/// The witness's rule for one request about a log it follows (`log` verifies the
/// log's signature; `held` is what it last cosigned). On success, the checkpoint to
/// hold from now on: persist it, then cosign its body.
pub fn decide(log: &NoteVerifier, held: Option<&Held>, req: &AddCheckpoint) -> Result<Held, Refusal> {
    let cp: Checkpoint = log.verify(&req.checkpoint).map_err(|e| match e {
        LedgerError::MalformedCheckpoint(m) => Refusal::BadRequest(format!("checkpoint: {m}")),
        _ => Refusal::BadSignature,
    })?;
    if req.old_size > cp.size {
        return Err(Refusal::BadRequest(format!(
            "the old size {} is larger than the checkpoint's size {}",
            req.old_size, cp.size
        )));
    }
    let held_size = held.map(|h| h.size).unwrap_or(0);
    if req.old_size != held_size {
        return Err(Refusal::OldSize { held: held_size });
    }
    if let Some(h) = held {
        if cp.size == h.size {
            if cp.root != h.root {
                return Err(Refusal::Conflict { held: h.note.clone() });
            }
        } else if !verify_consistency(h.size, cp.size, &h.root, &cp.root, &req.proof) {
            return Err(Refusal::Inconsistent { held: h.note.clone() });
        }
    }
    Ok(Held { size: cp.size, root: cp.root, note: req.checkpoint.clone() })
}

/// The origin line of a signed checkpoint (to find which log it claims to be).
pub fn origin_of(note: &str) -> Option<&str> {
    note.split('\n').next().filter(|o| !o.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::NoteSigner;
    use crate::merkle::{leaf_hash, root_of};
    use crate::proof::{consistency_proof, InMemory};
    use proptest::prelude::*;

    const ORIGIN: &str = "registry.example/log";

    fn tree(n: u64, salt: u8) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&[salt, i as u8, (i >> 8) as u8])).collect()
    }

    fn note(signer: &NoteSigner, leaves: &[Hash]) -> String {
        signer.sign(&Checkpoint { origin: ORIGIN.into(), size: leaves.len() as u64, root: root_of(leaves) })
    }

    fn request(signer: &NoteSigner, leaves: &[Hash], old: u64) -> AddCheckpoint {
        let proof =
            if old == 0 { vec![] } else { consistency_proof(&mut InMemory(leaves), old, leaves.len() as u64).unwrap() };
        AddCheckpoint { old_size: old, proof, checkpoint: note(signer, leaves) }
    }

    #[test]
    fn a_cosignature_verifies_under_its_key_and_names_its_time() {
        let w = Cosigner::from_seed("witness.example/w1", &[9; 32]);
        let v = CosignatureVerifier::parse(&w.verifier_key()).unwrap();
        let body = "registry.example/log\n5\nBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=\n";
        let line = w.cosign(body, 1_679_315_147);
        assert!(line.starts_with("\u{2014} witness.example/w1 ") && line.ends_with('\n'));
        assert_eq!(v.verify_line(body, &line), Ok(1_679_315_147));
        // Another body, another key or an altered time: refused.
        assert!(v.verify_line(&body.replace("\n5\n", "\n6\n"), &line).is_err());
        let other = Cosigner::from_seed("witness.example/w1", &[8; 32]);
        assert!(v.verify_line(body, &other.cosign(body, 1)).is_err());
        let blob = B64.decode(line.trim_end().rsplit_once(' ').unwrap().1).unwrap();
        let mut altered = blob.clone();
        altered[11] ^= 1;
        let forged = format!("\u{2014} witness.example/w1 {}\n", B64.encode(altered));
        assert!(v.verify_line(body, &forged).is_err());
        // A log's key (type 0x01) is not a witness key.
        let log = NoteSigner::from_seed(ORIGIN, &[1; 32]);
        assert!(CosignatureVerifier::parse(&log.verifier_key()).is_err());
    }

    #[test]
    fn the_signed_message_is_the_one_tlog_cosignature_gives() {
        let body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        assert_eq!(
            signed_message(body, 1679315147),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn requests_round_trip_and_malformed_ones_are_refused_with_400() {
        let s = NoteSigner::from_seed(ORIGIN, &[1; 32]);
        let leaves = tree(20, 0);
        let req = request(&s, &leaves, 7);
        assert_eq!(AddCheckpoint::parse(&req.encode()).unwrap(), req);
        for body in [
            "".to_string(),
            "old 01\n\n".to_string(),
            "old -1\n\n".to_string(),
            "old 3\nnot base64\n\n".to_string(),
            "old 0\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\n".to_string(),
            format!("old 3\n{}\n", "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n".repeat(64)),
        ] {
            assert_eq!(AddCheckpoint::parse(&body).map(|_| ()).unwrap_err().status(), 400, "{body:?}");
        }
    }

    #[test]
    fn a_witness_follows_a_growing_log_and_refuses_a_fork_with_evidence() {
        let s = NoteSigner::from_seed(ORIGIN, &[1; 32]);
        let log = NoteVerifier::parse(&s.verifier_key()).unwrap();
        let live = tree(30, 0);
        let held = decide(&log, None, &request(&s, &live[..10], 0)).unwrap();
        assert_eq!(held.size, 10);
        let held = decide(&log, Some(&held), &request(&s, &live[..30], 10)).unwrap();
        assert_eq!(held.size, 30);
        // A stale old size: 409 naming the size held.
        assert_eq!(decide(&log, Some(&held), &request(&s, &live[..30], 10)), Err(Refusal::OldSize { held: 30 }));
        // The same checkpoint again is fine (idempotent).
        assert_eq!(decide(&log, Some(&held), &request(&s, &live[..30], 30)).unwrap(), held);
        // A fork: the first 10 leaves agree, the rest differ, signed by the same key.
        let mut fork = live[..10].to_vec();
        fork.extend(tree(30, 1).into_iter().skip(10));
        let at_same = decide(&log, Some(&held), &request(&s, &fork[..30], 30)).unwrap_err();
        assert_eq!(at_same.status(), 409);
        assert_eq!(at_same.evidence(), Some(held.note.as_str()));
        fork.extend(tree(40, 1).into_iter().skip(30));
        // Its own (valid for its tree) proof from 30 does not reach the held root.
        let beyond = decide(&log, Some(&held), &request(&s, &fork[..40], 30)).unwrap_err();
        assert_eq!(beyond.status(), 422);
        assert_eq!(beyond.evidence(), Some(held.note.as_str()));
        // Another key, or another origin's log key: 403.
        let other = NoteSigner::from_seed(ORIGIN, &[2; 32]);
        assert_eq!(decide(&log, Some(&held), &request(&other, &live[..30], 30)), Err(Refusal::BadSignature));
        // A checkpoint smaller than the old size: 400.
        let smaller = AddCheckpoint { old_size: 30, proof: vec![], checkpoint: note(&s, &live[..20]) };
        assert_eq!(decide(&log, Some(&held), &smaller).unwrap_err().status(), 400);
    }

    proptest! {
        #[test]
        fn any_honest_growth_is_cosigned_and_any_rewrite_is_refused(
            a in 1u64..60, b in 0u64..60, flip in 0u64..60,
        ) {
            let s = NoteSigner::from_seed(ORIGIN, &[1; 32]);
            let log = NoteVerifier::parse(&s.verifier_key()).unwrap();
            let live = tree(a + b, 0);
            let held = decide(&log, None, &request(&s, &live[..a as usize], 0)).unwrap();
            let grown = decide(&log, Some(&held), &request(&s, &live, a));
            prop_assert!(grown.is_ok());
            // Rewrite one leaf below the held size: never accepted, whatever the size.
            let mut forged = live.clone();
            let i = (flip % a) as usize;
            forged[i] = leaf_hash(b"rewritten");
            let r = decide(&log, Some(&held), &request(&s, &forged, a));
            let refusal = r.unwrap_err();
            prop_assert_eq!(refusal.evidence(), Some(held.note.as_str()));
        }
    }
}
