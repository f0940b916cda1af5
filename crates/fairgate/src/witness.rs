//! Witnesses from the command line: `fairgate witness serve` (a C2SP tlog-witness
//! with its key in a directory of its own), and the log's side, which submits each
//! new checkpoint of a serving log to its witnesses (`serve --witness URL=KEY`) and
//! keeps the cosignatures they return, so `/log/checkpoint` carries them.

use std::sync::Arc;
use std::time::Duration;

use fairgate_ledger::checkpoint::NoteVerifier;
use fairgate_ledger::witness::{note_body, AddCheckpoint, CosignatureVerifier};
use fairgate_store::Registry;

/// A witness a log submits to: where, and the key its cosignatures verify under.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub verifier: CosignatureVerifier,
}

/// Parse `URL=KEY` (a witness's submission prefix and its verifier key).
pub fn parse_target(s: &str) -> Result<Target, String> {
    let (url, key) = s.split_once('=').ok_or_else(|| {
        format!("--witness {s}: give URL=KEY, e.g. http://127.0.0.1:9090=witness.example+1a2b3c4d+BASE64")
    })?;
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(format!("--witness {s}: the URL must start with http:// or https://"));
    }
    let verifier = CosignatureVerifier::parse(key).map_err(|e| format!("--witness {s}: {e}"))?;
    Ok(Target { url: url.trim_end_matches('/').to_string(), verifier })
}

/// Parse `ORIGIN=VERIFIERKEY` (a log a witness follows).
pub fn parse_log(s: &str) -> Result<(String, NoteVerifier), String> {
    let (origin, key) =
        s.split_once('=').ok_or_else(|| format!("--log {s}: give ORIGIN=KEY (the log's `fairgate audit key`)"))?;
    if origin.is_empty() {
        return Err(format!("--log {s}: the origin is empty"));
    }
    let verifier = NoteVerifier::parse(key).map_err(|e| format!("--log {s}: {e}"))?;
    Ok((origin.to_string(), verifier))
}

/// What one submission came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// The witness cosigned: its line is kept.
    Cosigned,
    /// The witness holds a larger tree of this log than this database: this database
    /// is behind it, or a fork (a restored backup). Nothing more is sent until it is.
    Ahead { held: u64 },
    /// The witness refused: a status and its answer (for a fork, the checkpoint it holds).
    Refused { status: u16, answer: String },
}

/// Sends a serving log's checkpoints to its witnesses.
pub struct Submitter {
    registry: Arc<Registry>,
    client: reqwest::Client,
    /// Each target, with the size it last cosigned as far as we know.
    targets: Vec<(Target, u64)>,
}

impl Submitter {
    pub fn new(registry: Arc<Registry>, targets: Vec<Target>) -> Self {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Self { registry, client, targets: targets.into_iter().map(|t| (t, 0)).collect() }
    }

    /// Submit the latest checkpoint to every witness that has not cosigned it.
    pub async fn round(&mut self) -> Vec<(String, Result<Submitted, String>)> {
        let registry = self.registry.clone();
        let latest = match tokio::task::spawn_blocking(move || registry.checkpoint(None)).await {
            Ok(Ok(Some(cp))) => cp,
            Ok(Ok(None)) => return vec![],
            Ok(Err(e)) => return vec![("*".into(), Err(e.to_string()))],
            Err(e) => return vec![("*".into(), Err(e.to_string()))],
        };
        let mut out = Vec::new();
        for i in 0..self.targets.len() {
            let name = self.targets[i].0.verifier.name().to_string();
            if self.targets[i].1 == latest.size {
                continue;
            }
            let r = self.submit(i, &latest).await;
            out.push((name, r));
        }
        out
    }

    async fn submit(&mut self, i: usize, cp: &fairgate_store::store::CheckpointRow) -> Result<Submitted, String> {
        // At most twice: the first answer may tell us the size the witness holds.
        for _ in 0..2 {
            let (target, known) = self.targets[i].clone();
            if known > cp.size {
                return Ok(Submitted::Ahead { held: known });
            }
            let registry = self.registry.clone();
            let size = cp.size;
            let proof = if known == 0 || known == size {
                vec![]
            } else {
                tokio::task::spawn_blocking(move || registry.consistency_proof(known, size))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?
            };
            let body = AddCheckpoint { old_size: known, proof, checkpoint: cp.note.clone() }.encode();
            let url = format!("{}/add-checkpoint", target.url);
            let r = self.client.post(&url).body(body).send().await.map_err(|e| format!("{url}: {e}"))?;
            let status = r.status().as_u16();
            let is_size = r
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"text/x.tlog.size"));
            let answer = r.text().await.map_err(|e| format!("{url}: {e}"))?;
            match status {
                200 => {
                    let body = note_body(&cp.note).map_err(|e| e.to_string())?;
                    let line = answer
                        .split_inclusive('\n')
                        .find(|l| target.verifier.verify_line(body, l).is_ok())
                        .ok_or_else(|| format!("{url}: no valid cosignature under the configured key in the answer"))?
                        .to_string();
                    let line = if line.ends_with('\n') { line } else { format!("{line}\n") };
                    let registry = self.registry.clone();
                    let name = target.verifier.name().to_string();
                    tokio::task::spawn_blocking(move || registry.add_cosignatures(size, &[(name, line)]))
                        .await
                        .map_err(|e| e.to_string())?
                        .map_err(|e| e.to_string())?;
                    self.targets[i].1 = size;
                    return Ok(Submitted::Cosigned);
                }
                409 if is_size => {
                    let held: u64 = answer
                        .trim()
                        .parse()
                        .map_err(|_| format!("{url}: 409 with a size that is not a number: {answer:?}"))?;
                    self.targets[i].1 = held;
                    if held > cp.size {
                        return Ok(Submitted::Ahead { held });
                    }
                }
                _ => return Ok(Submitted::Refused { status, answer }),
            }
        }
        Ok(Submitted::Refused { status: 409, answer: "the witness's size kept changing".into() })
    }
}

/// Submit every new checkpoint, each `every`, until the task is dropped. What
/// happens is logged: a witness ahead of this database, or one that refuses with
/// evidence, is an error an operator must look at (this copy may be a fork).
pub async fn submit_forever(mut submitter: Submitter, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        for (witness, r) in submitter.round().await {
            match r {
                Ok(Submitted::Cosigned) => tracing::info!(%witness, "checkpoint cosigned"),
                Ok(Submitted::Ahead { held }) => tracing::error!(
                    %witness, held,
                    "the witness has cosigned a larger tree of this log than this database holds: this database is behind, or a fork (a restored backup?); its checkpoints will not be cosigned"
                ),
                Ok(Submitted::Refused { status, answer }) => tracing::error!(
                    %witness, status, answer = %answer.chars().take(600).collect::<String>(),
                    "the witness refused this log's checkpoint: if it answered with a checkpoint, that is evidence of a fork"
                ),
                Err(e) => tracing::warn!(%witness, error = %e, "could not reach the witness; trying again"),
            }
        }
    }
}
