//! Individual designations over HTTP: an officer designates, a supervisor reviews
//! within 72 hours, and auditors read the designation statistics by officer and
//! place, broken down by nationality and sex. The rules are the core's.

use crate::json::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use fairgate_core::designation::{DesignationInput, Stats};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{blocking, Caller};
use crate::json::ApiJson;
use crate::problem::Problem;
use crate::views::{subject_id, ReceiptView};
use crate::AppState;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DesignationDone {
    pub number: u32,
    /// pending, approved or rejected.
    pub status: String,
    /// A pending designation lapses unless a supervisor approves it by then.
    pub approve_by: Option<String>,
    pub receipt: ReceiptView,
}

/// Designate a person for closer monitoring, for a reason from the fixed list with
/// the facts written out. It has no effect until a supervisor approves it, and it
/// lapses after 72 hours. Officers and supervisors.
#[utoipa::path(post, path = "/subjects/{id}/designations", tag = "designations", request_body = DesignationInput,
    params(("id" = String, Path, description = "Subject id")), security(("bearer" = [])),
    responses((status = 201, body = DesignationDone), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn designate(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DesignationInput>,
) -> Result<(StatusCode, Json<DesignationDone>), Problem> {
    let id = subject_id(&id)?;
    let now = st.now();
    let (number, receipt) = blocking(move || {
        let actor = caller.actor();
        st.registry.write(now, |b| b.designate(&actor, id, &input)).map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, designation = number, leaf = receipt.leaf_index, "subject designated");
    let deadline = now
        .checked_add(jiff::SignedDuration::from_hours(fairgate_core::designation::APPROVAL_HOURS))
        .ok()
        .map(|t| t.round(jiff::Unit::Second).unwrap_or(t).to_string());
    Ok((
        StatusCode::CREATED,
        Json(DesignationDone { number, status: "pending".into(), approve_by: deadline, receipt: receipt.into() }),
    ))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ReviewInput {
    pub approve: bool,
    /// Required to reject.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Approve or reject a pending designation. Supervisors, and not the officer who made it.
#[utoipa::path(post, path = "/subjects/{id}/designations/{number}/review", tag = "designations", request_body = ReviewInput,
    params(("id" = String, Path, description = "Subject id"), ("number" = u32, Path, description = "Designation number")),
    security(("bearer" = [])),
    responses((status = 200, body = DesignationDone), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn review(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, number)): Path<(String, u32)>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<Json<DesignationDone>, Problem> {
    let id = subject_id(&id)?;
    let approve = input.approve;
    let ((), receipt) = blocking(move || {
        let actor = caller.actor();
        st.registry
            .write(st.now(), |b| b.review_designation(&actor, id, number, approve, input.reason.as_deref()))
            .map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, designation = number, approved = approve, "designation reviewed");
    let status = if approve { "approved" } else { "rejected" };
    Ok(Json(DesignationDone { number, status: status.into(), approve_by: None, receipt: receipt.into() }))
}

/// Designation rates per officer and per place, by nationality and sex; a group is
/// flagged as in the program impact analysis. Auditors, for oversight-audit.
/// Aggregates only; groups under 10 people are not shown.
#[utoipa::path(get, path = "/designations/stats", tag = "designations", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = Problem)))]
pub async fn stats(State(st): State<AppState>, caller: Caller) -> Result<Json<Stats>, Problem> {
    Ok(Json(blocking(move || st.registry.designation_stats(&caller.actor()).map_err(Problem::from)).await?))
}
