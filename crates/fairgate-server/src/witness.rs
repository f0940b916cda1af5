//! A C2SP tlog-witness over HTTP: `POST /add-checkpoint` cosigns a checkpoint of a
//! log it follows when it is consistent with the last one it cosigned, and refuses
//! one that conflicts, answering with the checkpoint it holds as evidence. What it
//! holds per log is persisted (write, fsync, rename) before it answers, under one
//! lock, so a check and its update are atomic. Refused checkpoints that contradict
//! the held one are appended to `evidence.jsonl` beside the state.
//!
//! The rule itself is `fairgate_ledger::witness::decide`; this module owns the
//! storage, the clock and the HTTP.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use fairgate_ledger::checkpoint::NoteVerifier;
use fairgate_ledger::witness::{decide, note_body, origin_of, AddCheckpoint, Cosigner, Held, Refusal};
use serde::{Deserialize, Serialize};

/// The largest request body: `old N`, 63 proof lines and a checkpoint with a few
/// signatures fit many times over.
pub const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a witness state file: {reason}")]
    State { path: PathBuf, reason: String },
}

#[derive(Serialize, Deserialize, Default)]
struct StateFile {
    /// By log origin.
    logs: BTreeMap<String, HeldEntry>,
}

#[derive(Serialize, Deserialize)]
struct HeldEntry {
    size: u64,
    root: String,
    note: String,
}

/// A witness: its key, the logs it follows (origin → the log's verifier key) and
/// what it holds for each.
pub struct Witness {
    cosigner: Cosigner,
    logs: HashMap<String, NoteVerifier>,
    dir: PathBuf,
    held: Mutex<HashMap<String, Held>>,
    /// POSIX seconds now (injected, so tests can fix it).
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl Witness {
    /// A witness keeping its state in `dir` (read now if it exists).
    pub fn open(
        cosigner: Cosigner,
        logs: HashMap<String, NoteVerifier>,
        dir: &Path,
        clock: Box<dyn Fn() -> u64 + Send + Sync>,
    ) -> Result<Self, WitnessError> {
        let path = dir.join("witness-state.json");
        let mut held = HashMap::new();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bad = |reason: String| WitnessError::State { path: path.clone(), reason };
                let file: StateFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
                for (origin, e) in file.logs {
                    let root = B64
                        .decode(&e.root)
                        .ok()
                        .and_then(|r| r.try_into().ok())
                        .ok_or_else(|| bad(format!("the root held for {origin} is not a base64 hash")))?;
                    held.insert(origin, Held { size: e.size, root, note: e.note });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(WitnessError::Io { path, source }),
        }
        Ok(Self { cosigner, logs, dir: dir.to_path_buf(), held: Mutex::new(held), clock })
    }

    pub fn verifier_key(&self) -> String {
        self.cosigner.verifier_key()
    }

    /// What the witness holds for `origin`.
    pub fn held(&self, origin: &str) -> Option<Held> {
        self.held.lock().ok()?.get(origin).cloned()
    }

    /// Handle one `add-checkpoint` body: the cosignature line, or the refusal.
    pub fn add_checkpoint(&self, body: &str) -> Result<Result<String, Refusal>, WitnessError> {
        let req = match AddCheckpoint::parse(body) {
            Ok(r) => r,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let Some(origin) = origin_of(&req.checkpoint).map(str::to_string) else {
            return Ok(Err(Refusal::BadRequest("the checkpoint has no origin line".into())));
        };
        let Some(log) = self.logs.get(&origin) else {
            return Ok(Err(Refusal::UnknownLog(origin)));
        };
        // One lock over the check and the persisted update (tlog-witness's race).
        let mut held = self.held.lock().map_err(|_| WitnessError::State {
            path: self.dir.clone(),
            reason: "a previous request panicked while holding the state".into(),
        })?;
        match decide(log, held.get(&origin), &req) {
            Ok(next) => {
                let body = match note_body(&next.note) {
                    Ok(b) => b.to_string(),
                    Err(e) => return Ok(Err(Refusal::BadRequest(e.to_string()))),
                };
                let mut all = held.clone();
                all.insert(origin.clone(), next);
                self.persist(&all)?;
                *held = all;
                tracing::info!(log = %origin, size = held[&origin].size, "cosigned");
                Ok(Ok(self.cosigner.cosign(&body, (self.clock)())))
            }
            Err(refusal) => {
                if let Some(evidence) = refusal.evidence() {
                    tracing::warn!(log = %origin, "refused a checkpoint that contradicts the one held: kept as evidence");
                    self.keep_evidence(&origin, evidence, &req.checkpoint)?;
                }
                Ok(Err(refusal))
            }
        }
    }

    fn persist(&self, held: &HashMap<String, Held>) -> Result<(), WitnessError> {
        let file = StateFile {
            logs: held
                .iter()
                .map(|(o, h)| (o.clone(), HeldEntry { size: h.size, root: B64.encode(h.root), note: h.note.clone() }))
                .collect(),
        };
        let path = self.dir.join("witness-state.json");
        let tmp = self.dir.join("witness-state.json.tmp");
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WitnessError::Io { path, source }
        };
        let text = serde_json::to_vec_pretty(&file)
            .map_err(|e| WitnessError::State { path: path.clone(), reason: e.to_string() })?;
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(&text).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        std::fs::File::open(&self.dir).and_then(|d| d.sync_all()).map_err(io(&self.dir))?;
        Ok(())
    }

    fn keep_evidence(&self, origin: &str, held: &str, submitted: &str) -> Result<(), WitnessError> {
        use std::io::Write;
        let path = self.dir.join("evidence.jsonl");
        let line = serde_json::json!({"at": (self.clock)(), "log": origin, "held": held, "submitted": submitted});
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| WitnessError::Io { path: path.clone(), source })?;
        writeln!(f, "{line}").and_then(|_| f.sync_all()).map_err(|source| WitnessError::Io { path, source })
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: String) -> Response {
    let job = tokio::task::spawn_blocking(move || w.add_checkpoint(&body)).await;
    match job {
        Ok(Ok(Ok(line))) => text(StatusCode::OK, "text/plain; charset=utf-8", line),
        Ok(Ok(Err(refusal))) => {
            let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
            match &refusal {
                Refusal::OldSize { held } => text(status, "text/x.tlog.size", format!("{held}\n")),
                // The evidence: the signed checkpoint this one contradicts.
                Refusal::Conflict { held } | Refusal::Inconsistent { held } => {
                    text(status, "text/plain; charset=utf-8", held.clone())
                }
                other => text(status, "text/plain; charset=utf-8", format!("{other}\n")),
            }
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "the witness could not keep its state");
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain; charset=utf-8",
                "the witness could not persist its state; nothing was cosigned\n".into(),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "witness task failed");
            text(StatusCode::INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8", "internal error\n".into())
        }
    }
}

async fn info(State(w): State<Arc<Witness>>) -> Response {
    let mut logs: Vec<&String> = w.logs.keys().collect();
    logs.sort();
    let mut body = format!("C2SP tlog-witness\nkey {}\n", w.verifier_key());
    for l in logs {
        body.push_str(&format!("log {l}\n"));
    }
    text(StatusCode::OK, "text/plain; charset=utf-8", body)
}

/// The witness's routes: `POST /add-checkpoint`, and `GET /` naming its key and logs.
pub fn router(w: Arc<Witness>) -> Router {
    Router::new()
        .route("/", get(info))
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(w)
}

/// Serve the witness on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    witness: Arc<Witness>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(witness)).with_graceful_shutdown(shutdown).await
}
