//! Expungement over HTTP: an auditor approves, an administrator carries it out and
//! receives the signed certificate (for a program, after a notice-and-copy period);
//! certificates are listed publicly.

use crate::json::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use fairgate_core::expungement::{Certificate, ExpungementInput};
use fairgate_store::registry::program_expungement::ProgramExpungement;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{blocking, Caller};
use crate::json::ApiJson;
use crate::problem::Problem;
use crate::views::{subject_id, ReceiptView};
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

/// The authorities expungements may cite, each with its reference. Public: the
/// certificates cite these entries, never text typed for one case.
#[utoipa::path(get, path = "/authorities", tag = "expungement", responses((status = 200, body = Vec<fairgate_core::expungement::Authority>)))]
pub async fn authorities(
    State(st): State<AppState>,
) -> Result<Json<Vec<fairgate_core::expungement::Authority>>, Problem> {
    Ok(Json(blocking(move || st.registry.authorities().map_err(Problem::from)).await?))
}

/// Add an authority to the public list. Administrators; a ledger event.
#[utoipa::path(post, path = "/authorities", tag = "expungement", request_body = fairgate_core::expungement::Authority,
    security(("bearer" = [])),
    responses((status = 201, body = crate::views::Recorded), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn add_authority(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<fairgate_core::expungement::Authority>,
) -> Result<(StatusCode, Json<crate::views::Recorded>), Problem> {
    let receipt =
        blocking(move || st.registry.list_authority(st.now(), &caller.actor(), &input).map_err(Problem::from)).await?;
    tracing::info!(leaf = receipt.leaf_index, "authority listed");
    Ok((StatusCode::CREATED, Json(crate::views::Recorded { receipt: receipt.into() })))
}

/// The body of `POST /programs/{id}/expunge/notice`.
#[derive(Debug, serde::Deserialize, ToSchema)]
pub struct ProgramNoticeInput {
    /// The id of a listed authority (`GET /authorities`); the certificate cites its entry.
    pub authority: String,
    /// Why; kept sealed in the ledger.
    pub reason: String,
    /// Days people have to download their records (default 90, at least 30).
    #[serde(default)]
    pub copy_days: Option<i64>,
}

/// An auditor approves expunging a repealed program's records. Auditors.
#[utoipa::path(post, path = "/programs/{id}/expunge/approve", tag = "expungement", request_body = ExpungementInput,
    params(("id" = String, Path, description = "Program id")), security(("bearer" = [])),
    responses((status = 201, body = Approved), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn approve_program(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ExpungementInput>,
) -> Result<(StatusCode, Json<Approved>), Problem> {
    let receipt = blocking(move || {
        st.registry.approve_program_expungement(st.now(), &caller.actor(), &id, &input).map_err(Problem::from)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Approved { receipt: receipt.into(), valid_days: fairgate_core::expungement::APPROVAL_DAYS }),
    ))
}

/// Open the notice-and-copy period of a program's expungement: until its last day
/// every affected person can download their records from the portal, and nothing is
/// erased. Administrators, with an auditor's approval.
#[utoipa::path(post, path = "/programs/{id}/expunge/notice", tag = "expungement", request_body = ProgramNoticeInput,
    params(("id" = String, Path, description = "Program id")), security(("bearer" = [])),
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn notice_program(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ProgramNoticeInput>,
) -> Result<(StatusCode, Json<ProgramExpungement>), Problem> {
    let state = blocking(move || {
        let days = input.copy_days.unwrap_or(fairgate_store::registry::program_expungement::DEFAULT_COPY_DAYS);
        let input = ExpungementInput { authority: input.authority, reason: input.reason };
        st.registry.notice_program_expungement(st.now(), &caller.actor(), &id, &input, days).map_err(Problem::from)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(state)))
}

/// Carry out a program's expungement once its notice period is over (before that,
/// the answer says when). People known only from the program are expunged whole;
/// the others lose the program's records. Safe to repeat: an interrupted run
/// resumes, and a finished one returns its certificate. Administrators.
#[utoipa::path(post, path = "/programs/{id}/expunge", tag = "expungement",
    params(("id" = String, Path, description = "Program id")), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = Problem)))]
pub async fn expunge_program(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ProgramExpungement>, Problem> {
    let state = blocking(move || {
        st.registry.expunge_program(st.now(), &caller.actor(), &id, &mut |_, _| true).map_err(Problem::from)
    })
    .await?;
    if let ProgramExpungement::Done { certificate, .. } = &state {
        tracing::info!(leaf = certificate.body.leaf_index, "program expunged");
    }
    Ok(Json(state))
}
