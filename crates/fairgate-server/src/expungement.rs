//! Expungement over HTTP: an auditor approves, an administrator carries it out and
//! receives the signed certificate; certificates are listed publicly.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use fairgate_core::expungement::{Certificate, ExpungementInput};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::{subject_id, ReceiptView};
use crate::auth::{blocking, Caller};
use crate::json::ApiJson;
use crate::problem::Problem;
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct Approved {
    pub receipt: ReceiptView,
    /// The approval is good for this many days.
    pub valid_days: i64,
}

/// An auditor approves the expungement of a subject. Auditors.
#[utoipa::path(post, path = "/subjects/{id}/expunge/approve", tag = "expungement", request_body = ExpungementInput,
    params(("id" = String, Path, description = "Subject id")), security(("bearer" = [])),
    responses((status = 201, body = Approved), (status = 403, body = Problem), (status = 404, body = Problem), (status = 410, body = Problem)))]
pub async fn approve(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ExpungementInput>,
) -> Result<(StatusCode, Json<Approved>), Problem> {
    let id = subject_id(&id)?;
    let receipt =
        blocking(move || st.registry.approve_expungement(st.now(), &caller.actor(), id, &input).map_err(Problem::from))
            .await?;
    tracing::info!(subject = %id, leaf = receipt.leaf_index, "expungement approved");
    Ok((
        StatusCode::CREATED,
        Json(Approved { receipt: receipt.into(), valid_days: fairgate_core::expungement::APPROVAL_DAYS }),
    ))
}

/// Expunge a subject, with an auditor's approval: the data key is destroyed, every
/// readable copy deleted, and the signed certificate returned. Every later read of
/// the subject answers 410 Gone. Administrators.
#[utoipa::path(post, path = "/subjects/{id}/expunge", tag = "expungement", request_body = ExpungementInput,
    params(("id" = String, Path, description = "Subject id")), security(("bearer" = [])),
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 404, body = Problem), (status = 410, body = Problem)))]
pub async fn expunge(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ExpungementInput>,
) -> Result<(StatusCode, Json<Certificate>), Problem> {
    let id = subject_id(&id)?;
    let cert =
        blocking(move || st.registry.expunge_subject(st.now(), &caller.actor(), id, &input).map_err(Problem::from))
            .await?;
    tracing::info!(leaf = cert.body.leaf_index, "subject expunged");
    Ok((StatusCode::CREATED, Json(cert)))
}

/// Every expungement certificate, oldest first. Public: no personal data.
#[utoipa::path(get, path = "/expungements", tag = "expungement", responses((status = 200, body = Vec<Object>)))]
pub async fn list(State(st): State<AppState>) -> Result<Json<Vec<Certificate>>, Problem> {
    Ok(Json(blocking(move || st.registry.certificates().map_err(Problem::from)).await?))
}
