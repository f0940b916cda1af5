//! Law-enforcement access over HTTP: a supervisor requests with reasons, an
//! independent approver approves (or reviews an emergency access); reads for the
//! purpose `law-enforcement` then need a grant in effect (the registry checks it).

use crate::json::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use fairgate_core::law_enforcement::RequestInput;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{blocking, Caller};
use crate::json::ApiJson;
use crate::problem::Problem;
use crate::views::subject_id;
use crate::views::Recorded;
use crate::AppState;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Requested {
    pub number: u32,
    /// An emergency access is in effect at once and must be reviewed within 7 days;
    /// any other waits for an approver.
    pub in_effect: bool,
}

/// Request law-enforcement access to a person's records, with the case and reasons.
/// Supervisors.
#[utoipa::path(post, path = "/subjects/{id}/law-enforcement", tag = "law-enforcement", request_body = RequestInput,
    params(("id" = String, Path, description = "Subject id")), security(("bearer" = [])),
    responses((status = 201, body = Requested), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn request(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RequestInput>,
) -> Result<(StatusCode, Json<Requested>), Problem> {
    let id = subject_id(&id)?;
    let emergency = input.emergency;
    let (number, receipt) = blocking(move || {
        st.registry.write(st.now(), |b| b.request_law_enforcement(&caller.actor(), id, &input)).map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, request = number, emergency, leaf = receipt.leaf_index, "law-enforcement access requested");
    Ok((StatusCode::CREATED, Json(Requested { number, in_effect: emergency })))
}

/// Approve a request: a grant for 72 hours. Approvers, independent of the requester.
#[utoipa::path(post, path = "/subjects/{id}/law-enforcement/{number}/approve", tag = "law-enforcement",
    params(("id" = String, Path, description = "Subject id"), ("number" = u32, Path, description = "Request number")),
    security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 403, body = Problem)))]
pub async fn approve(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, number)): Path<(String, u32)>,
) -> Result<(StatusCode, Json<Recorded>), Problem> {
    let id = subject_id(&id)?;
    let ((), receipt) = blocking(move || {
        st.registry
            .write(st.now(), |b| b.decide_law_enforcement(&caller.actor(), id, number, None))
            .map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, request = number, "law-enforcement access approved");
    Ok((StatusCode::CREATED, Json(Recorded { receipt: receipt.into() })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewInput {
    pub justified: bool,
    pub reasons: String,
}

/// Review an emergency access within 7 days. If unjustified, the grant ends and
/// what was disclosed under it is marked so for the person. Approvers.
#[utoipa::path(post, path = "/subjects/{id}/law-enforcement/{number}/review", tag = "law-enforcement", request_body = ReviewInput,
    params(("id" = String, Path, description = "Subject id"), ("number" = u32, Path, description = "Request number")),
    security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn review(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, number)): Path<(String, u32)>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<(StatusCode, Json<Recorded>), Problem> {
    let id = subject_id(&id)?;
    let ((), receipt) = blocking(move || {
        st.registry
            .write(st.now(), |b| {
                b.decide_law_enforcement(&caller.actor(), id, number, Some((input.justified, &input.reasons)))
            })
            .map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, request = number, "emergency access reviewed");
    Ok((StatusCode::CREATED, Json(Recorded { receipt: receipt.into() })))
}

/// Requests awaiting an approver's decision or review, oldest first, each with its
/// case number, reasons and scope, and overdue emergency reviews marked. Approvers
/// and auditors.
#[utoipa::path(get, path = "/law-enforcement/queue", tag = "law-enforcement", security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 403, body = Problem)))]
pub async fn queue(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<fairgate_store::registry::law_enforcement::QueuedRequest>>, Problem> {
    let list =
        blocking(move || st.registry.law_enforcement_queue(st.now(), &caller.actor()).map_err(Problem::from)).await?;
    Ok(Json(list))
}
