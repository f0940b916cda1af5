//! The public log over HTTP: the latest (or a given) signed checkpoint, the
//! verifier key, raw leaves, and RFC 9162 inclusion and consistency proofs. No
//! sign-in: anyone may check the log.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::blocking;
use crate::problem::Problem;
use crate::views::{number, required, QueryMap};
use crate::AppState;

fn b64(hashes: &[[u8; 32]]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

/// The latest signed checkpoint, or the one signed at `size` (C2SP checkpoint, Ed25519 signed note), with the cosignature lines of the witnesses that cosigned it (C2SP tlog-cosignature). When the log has witnesses, the latest is the latest that all of them cosigned. No sign-in needed.
#[utoipa::path(get, path = "/log/checkpoint", tag = "log",
    params(("size" = Option<u64>, Query, description = "A tree size at which a checkpoint was signed; default: the latest")),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 404, body = Problem), (status = 503, body = Problem)))]
pub async fn log_checkpoint(State(st): State<AppState>, q: QueryMap) -> Result<impl IntoResponse, Problem> {
    let size = number(&q, "size", None)?;
    let found = blocking(move || {
        let cp = match size {
            None if st.witnesses > 0 => {
                st.registry.latest_cosigned(st.witnesses)?.map(Some).unwrap_or(st.registry.checkpoint(None)?)
            }
            _ => st.registry.checkpoint(size)?,
        };
        cp.map(|c| st.registry.cosigned_note(&c)).transpose().map_err(Problem::from)
    })
    .await?;
    let note = match (found, size) {
        (Some(note), _) => note,
        (None, Some(n)) => {
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "no-checkpoint",
                "No checkpoint at that size",
                format!("no checkpoint was signed at size {n}: omit size for the latest"),
            )
            .with_errors(vec![fairgate_core::FieldError::new("size", "no checkpoint was signed at this size")]))
        }
        (None, None) => {
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no-checkpoint",
                "No checkpoint yet",
                "the server signs its first checkpoint when it starts: try again in a few seconds",
            ))
        }
    };
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note))
}

/// The most leaves `GET /log/leaves` returns at once.
pub const MAX_LEAVES: u64 = 1000;

/// Raw leaves `start .. start + count` (at most 1000), each base64. A leaf's hash is SHA-256(0x00 || leaf). No sign-in needed.
#[utoipa::path(get, path = "/log/leaves", tag = "log",
    params(("start" = u64, Query, description = "Index of the first leaf"), ("count" = Option<u64>, Query, description = "How many, 1 to 1000 (default 1000)")),
    responses((status = 200, body = Vec<String>), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn log_leaves(State(st): State<AppState>, q: QueryMap) -> Result<Json<Vec<String>>, Problem> {
    let start = required(&q, "start")?;
    let count = number(&q, "count", Some(MAX_LEAVES))?.unwrap_or(MAX_LEAVES);
    if count == 0 || count > MAX_LEAVES {
        return Err(Problem::invalid(vec![fairgate_core::FieldError::new(
            "count",
            format!("must be between 1 and {MAX_LEAVES}"),
        )]));
    }
    let rows = blocking(move || {
        let (size, _) = st.registry.tree_head().map_err(Problem::from)?;
        if start >= size {
            return Err(Problem::invalid(vec![fairgate_core::FieldError::new(
                "start",
                format!("{start} is not below the tree size {size}"),
            )]));
        }
        st.registry.leaves(start, count).map_err(Problem::from)
    })
    .await?;
    Ok(Json(rows.iter().map(|r| B64.encode(&r.leaf)).collect()))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct InclusionProof {
    pub index: u64,
    pub tree_size: u64,
    /// RFC 9162 audit path, leaf side first, base64.
    pub hashes: Vec<String>,
}

/// RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves. No sign-in needed.
#[utoipa::path(get, path = "/log/proof/inclusion", tag = "log",
    params(("index" = u64, Query, description = "Leaf index"), ("size" = u64, Query, description = "Tree size, e.g. of a signed checkpoint")),
    responses((status = 200, body = InclusionProof), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn log_inclusion(State(st): State<AppState>, q: QueryMap) -> Result<Json<InclusionProof>, Problem> {
    let (index, size) = (required(&q, "index")?, required(&q, "size")?);
    let hashes = blocking(move || st.registry.inclusion_proof(index, size).map_err(Problem::from)).await?;
    Ok(Json(InclusionProof { index, tree_size: size, hashes: b64(&hashes) }))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    /// RFC 9162 consistency proof, base64.
    pub hashes: Vec<String>,
}

/// RFC 9162 consistency proof that the tree of `from` leaves is a prefix of the tree of `to` leaves. No sign-in needed.
#[utoipa::path(get, path = "/log/proof/consistency", tag = "log",
    params(("from" = u64, Query, description = "The older tree size"), ("to" = u64, Query, description = "The newer tree size")),
    responses((status = 200, body = ConsistencyProof), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn log_consistency(State(st): State<AppState>, q: QueryMap) -> Result<Json<ConsistencyProof>, Problem> {
    let (from, to) = (required(&q, "from")?, required(&q, "to")?);
    let hashes = blocking(move || st.registry.consistency_proof(from, to).map_err(Problem::from)).await?;
    Ok(Json(ConsistencyProof { from, to, hashes: b64(&hashes) }))
}

/// The checkpoint verifier key, in signed-note vkey form. No sign-in needed.
#[utoipa::path(get, path = "/log/key", tag = "log", responses((status = 200, body = String, content_type = "text/plain")))]
pub async fn log_key(State(st): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{}\n", st.registry.verifier_key()))
}
