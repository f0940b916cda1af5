//! `fairgate audit monitor`: an outside check of a Fairgate log that anyone can run.
//!
//! Each run fetches the signed checkpoint, verifies its signature (key given, or
//! pinned on first use), proves it consistent with the checkpoint remembered from
//! the last run, downloads the leaves added since, and recomputes the root from the
//! remembered frontier. A log that shrank, forked or was rewritten is an error that
//! carries the evidence: the signed notes and what was computed.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use fairgate_ledger::checkpoint::{Checkpoint, NoteVerifier};
use fairgate_ledger::merkle::{leaf_hash, Frontier, Hash};
use fairgate_ledger::proof::verify_consistency;
use serde::{Deserialize, Serialize};

/// What the monitor remembers between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorState {
    /// Where the log was last read. A log is identified by its pinned key, not its
    /// address, so the same state follows a log to a mirror or a new address.
    pub url: String,
    /// The pinned verifier key.
    pub key: String,
    pub size: u64,
    /// Base64 root of the last verified checkpoint.
    pub root: String,
    /// The signed note of the last verified checkpoint (evidence for later runs).
    pub note: String,
    /// Base64 peaks of the tree at `size`, so the next run only downloads new leaves.
    pub peaks: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("could not talk to the log: {0}")]
    Http(String),
    #[error("the log answered something that is not the protocol: {0}")]
    Protocol(String),
    #[error("the key given does not match the key pinned in the state file\npinned: {pinned}\ngiven:  {given}")]
    KeyChanged { pinned: String, given: String },
    #[error("the checkpoint does not verify with the pinned key ({reason})\nnote:\n{note}")]
    BadSignature { reason: String, note: String },
    #[error("the log shrank from {from} to {to} leaves\nremembered note:\n{old}\ncurrent note:\n{new}")]
    Shrank { from: u64, to: u64, old: String, new: String },
    #[error("fork: the checkpoint at {to} is not an extension of the one remembered at {from}\nremembered note:\n{old}\ncurrent note:\n{new}\nproof: {proof:?}")]
    Fork { from: u64, to: u64, old: String, new: String, proof: Vec<String> },
    #[error("rewrite: the leaves served up to {size} hash to root {computed}, but the signed checkpoint says {signed}\nnote:\n{note}")]
    Rewrite { size: u64, computed: String, signed: String, note: String },
    #[error("the checkpoint at {size} carries {} valid cosignature(s) of the {need} required{}: refused\nnote:\n{note}", have.len(), if have.is_empty() { String::new() } else { format!(" (from {})", have.join(", ")) })]
    Quorum { size: u64, have: Vec<String>, need: usize, note: String },
    #[error("truncated: the checkpoint covers {size} leaves but the log serves only {served}\nnote:\n{note}")]
    Truncated { size: u64, served: u64, note: String },
}

/// What a successful run saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorReport {
    pub from: Option<u64>,
    pub to: u64,
    pub leaves_downloaded: u64,
    pub key_pinned_now: bool,
}

async fn get_text(client: &reqwest::Client, url: &str) -> Result<String, MonitorError> {
    let r = client.get(url).send().await.map_err(|e| MonitorError::Http(format!("{url}: {e}")))?;
    let status = r.status();
    let body = r.text().await.map_err(|e| MonitorError::Http(format!("{url}: {e}")))?;
    if !status.is_success() {
        return Err(MonitorError::Http(format!("{url}: {status}: {}", body.chars().take(300).collect::<String>())));
    }
    Ok(body)
}

async fn get_json<T: serde::de::DeserializeOwned>(client: &reqwest::Client, url: &str) -> Result<T, MonitorError> {
    let body = get_text(client, url).await?;
    serde_json::from_str(&body).map_err(|e| MonitorError::Protocol(format!("{url}: {e}")))
}

fn hash_b64(s: &str) -> Result<Hash, MonitorError> {
    B64.decode(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| MonitorError::Protocol(format!("`{s}` is not a base64 SHA-256 hash")))
}

#[derive(Deserialize)]
struct ConsistencyBody {
    hashes: Vec<String>,
}

/// How thorough a run is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Depth {
    /// Download and rehash every leaf, not only the new ones: catches old leaves
    /// rewritten in storage after they were signed.
    pub full: bool,
    /// How many random older leaves to check by inclusion proof.
    pub samples: u32,
}

/// The witnesses a monitor requires: their keys, and how many must have cosigned.
#[derive(Debug, Clone, Default)]
pub struct Quorum {
    pub witnesses: Vec<fairgate_ledger::witness::CosignatureVerifier>,
    pub need: usize,
}

#[derive(Deserialize)]
struct InclusionBody {
    hashes: Vec<String>,
}

/// Fetch leaf `index` and check it is in the tree of `cp` by inclusion proof.
async fn spot_check(
    client: &reqwest::Client,
    base: &str,
    cp: &Checkpoint,
    note: &str,
    index: u64,
) -> Result<(), MonitorError> {
    let leaves: Vec<String> = match get_json(client, &format!("{base}/log/leaves?start={index}&count=1")).await {
        Ok(l) => l,
        Err(MonitorError::Http(m)) if m.contains("422") => vec![],
        Err(e) => return Err(e),
    };
    let Some(leaf) = leaves.first() else {
        return Err(MonitorError::Truncated { size: cp.size, served: index, note: note.to_string() });
    };
    let bytes = B64.decode(leaf).map_err(|_| MonitorError::Protocol("a leaf is not base64".into()))?;
    let body: InclusionBody =
        get_json(client, &format!("{base}/log/proof/inclusion?index={index}&size={}", cp.size)).await?;
    let proof = body.hashes.iter().map(|h| hash_b64(h)).collect::<Result<Vec<_>, _>>()?;
    if !fairgate_ledger::proof::verify_inclusion(&leaf_hash(&bytes), index, cp.size, &proof, &cp.root) {
        return Err(MonitorError::Rewrite {
            size: cp.size,
            computed: format!("leaf {index} (SHA-256 {}) has no valid inclusion proof", B64.encode(leaf_hash(&bytes))),
            signed: B64.encode(cp.root),
            note: note.to_string(),
        });
    }
    Ok(())
}

/// Run one check of the log at `base` (e.g. `http://127.0.0.1:8080`).
pub async fn check(
    client: &reqwest::Client,
    base: &str,
    state: Option<MonitorState>,
    key: Option<&str>,
    depth: Depth,
    quorum: &Quorum,
) -> Result<(MonitorState, MonitorReport), MonitorError> {
    let base = base.trim_end_matches('/');
    let (vkey, pinned_now) = match (key, &state) {
        (Some(k), Some(s)) if k.trim() != s.key => {
            return Err(MonitorError::KeyChanged { pinned: s.key.clone(), given: k.trim().into() })
        }
        (Some(k), _) => (k.trim().to_string(), false),
        (None, Some(s)) => (s.key.clone(), false),
        (None, None) => (get_text(client, &format!("{base}/log/key")).await?.trim().to_string(), true),
    };
    let verifier = NoteVerifier::parse(&vkey).map_err(|e| MonitorError::Protocol(format!("verifier key: {e}")))?;
    let note = get_text(client, &format!("{base}/log/checkpoint")).await?;
    let cp: Checkpoint =
        verifier.verify(&note).map_err(|e| MonitorError::BadSignature { reason: e.to_string(), note: note.clone() })?;

    let (mut frontier, from) = match &state {
        None => (Frontier::new(), None),
        Some(s) => {
            let old_root = hash_b64(&s.root)?;
            if cp.size < s.size {
                return Err(MonitorError::Shrank { from: s.size, to: cp.size, old: s.note.clone(), new: note });
            }
            if cp.size == s.size && cp.root != old_root {
                return Err(MonitorError::Fork {
                    from: s.size,
                    to: cp.size,
                    old: s.note.clone(),
                    new: note,
                    proof: vec![],
                });
            }
            if cp.size > s.size {
                let body: ConsistencyBody =
                    get_json(client, &format!("{base}/log/proof/consistency?from={}&to={}", s.size, cp.size)).await?;
                let proof = body.hashes.iter().map(|h| hash_b64(h)).collect::<Result<Vec<_>, _>>()?;
                if !verify_consistency(s.size, cp.size, &old_root, &cp.root, &proof) {
                    return Err(MonitorError::Fork {
                        from: s.size,
                        to: cp.size,
                        old: s.note.clone(),
                        new: note,
                        proof: body.hashes,
                    });
                }
            }
            if depth.full {
                (Frontier::new(), Some(s.size))
            } else {
                let peaks = s.peaks.iter().map(|p| hash_b64(p)).collect::<Result<Vec<_>, _>>()?;
                let f = Frontier::from_peaks(s.size, peaks)
                    .ok_or_else(|| MonitorError::Protocol("the state file's peaks do not fit its size".into()))?;
                (f, Some(s.size))
            }
        }
    };

    // A fork is reported first (it carries both signed notes); then the witnesses.
    if quorum.need > 0 {
        let have: Vec<String> =
            fairgate_ledger::witness::cosigned_by(&note, &quorum.witnesses).into_iter().map(str::to_string).collect();
        if have.len() < quorum.need {
            return Err(MonitorError::Quorum { size: cp.size, have, need: quorum.need, note });
        }
    }

    let start = frontier.size();
    while frontier.size() < cp.size {
        let want = (cp.size - frontier.size()).min(1000);
        let url = format!("{base}/log/leaves?start={}&count={want}", frontier.size());
        let leaves: Vec<String> = match get_json(client, &url).await {
            Ok(l) => l,
            Err(MonitorError::Http(m)) if m.contains("422") => vec![],
            Err(e) => return Err(e),
        };
        if leaves.is_empty() {
            return Err(MonitorError::Truncated { size: cp.size, served: frontier.size(), note });
        }
        for l in leaves.iter().take(want as usize) {
            let bytes = B64.decode(l).map_err(|_| MonitorError::Protocol("a leaf is not base64".into()))?;
            frontier.push(leaf_hash(&bytes));
        }
    }
    if frontier.root() != cp.root {
        return Err(MonitorError::Rewrite {
            size: cp.size,
            computed: B64.encode(frontier.root()),
            signed: B64.encode(cp.root),
            note,
        });
    }
    // The log must still serve what the checkpoint covers: its last leaf, and a few
    // random older ones, each with a valid inclusion proof.
    if cp.size > 0 {
        spot_check(client, base, &cp, &note, cp.size - 1).await?;
        for _ in 0..depth.samples {
            let index = rand::random::<u64>() % cp.size;
            spot_check(client, base, &cp, &note, index).await?;
        }
    }
    let new_state = MonitorState {
        url: base.to_string(),
        key: vkey,
        size: cp.size,
        root: B64.encode(cp.root),
        note,
        peaks: frontier.peaks().iter().map(|p| B64.encode(p)).collect(),
    };
    Ok((new_state, MonitorReport { from, to: cp.size, leaves_downloaded: cp.size - start, key_pinned_now: pinned_now }))
}
