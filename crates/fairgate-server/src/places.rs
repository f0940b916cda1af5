//! Ports and offices over HTTP: the public list with everything a visitor needs
//! (address, hours, service area, closures with their reasons), and the
//! administrators' add, change and close, each a ledger event.

use crate::json::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::auth::{blocking, Caller};
use crate::json::ApiJson;
use crate::problem::Problem;
use crate::views::Recorded;
use crate::AppState;
use fairgate_core::place::{ClosureInput, Place, PlaceInput};

/// Every port and office, with hours, desks, minutes per service, service area,
/// holidays and closures (each with its reason). Public.
#[utoipa::path(get, path = "/places", tag = "reference", responses((status = 200, body = Vec<Place>)))]
pub async fn list(State(st): State<AppState>) -> Result<Json<Vec<Place>>, Problem> {
    Ok(Json(blocking(move || st.registry.place_list().map_err(Problem::from)).await?))
}

/// Add a port or office. Administrators; a ledger event.
#[utoipa::path(post, path = "/places", tag = "reference", request_body = PlaceInput, security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn add(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<PlaceInput>,
) -> Result<(StatusCode, Json<Recorded>), Problem> {
    let receipt =
        blocking(move || st.registry.set_place(st.now(), &caller.actor(), &input, false).map_err(Problem::from))
            .await?;
    tracing::info!(leaf = receipt.leaf_index, "place added");
    Ok((StatusCode::CREATED, Json(Recorded { receipt: receipt.into() })))
}

/// Change a place: its whole definition (its closures stay). Administrators; a ledger event.
#[utoipa::path(put, path = "/places/{code}", tag = "reference", request_body = PlaceInput,
    params(("code" = String, Path, description = "The place's code")), security(("bearer" = [])),
    responses((status = 200, body = Recorded), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn edit(
    State(st): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<PlaceInput>,
) -> Result<Json<Recorded>, Problem> {
    if !input.code.trim().eq_ignore_ascii_case(code.trim()) {
        return Err(Problem::bad_request("code", "must be the code in the path: a place's code never changes"));
    }
    let receipt =
        blocking(move || st.registry.set_place(st.now(), &caller.actor(), &input, true).map_err(Problem::from)).await?;
    tracing::info!(leaf = receipt.leaf_index, "place changed");
    Ok(Json(Recorded { receipt: receipt.into() }))
}

/// Close a place from one day to another, or for good, with the reason (published).
/// Administrators; a ledger event.
#[utoipa::path(post, path = "/places/{code}/close", tag = "reference", request_body = ClosureInput,
    params(("code" = String, Path, description = "The place's code")), security(("bearer" = [])),
    responses((status = 201, body = ClosedAnswer), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn close(
    State(st): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<ClosureInput>,
) -> Result<(StatusCode, Json<ClosedAnswer>), Problem> {
    let closed =
        blocking(move || st.registry.close_place(st.now(), &caller.actor(), &code, &input).map_err(Problem::from))
            .await?;
    tracing::info!(leaf = closed.receipt.leaf_index, moved = closed.moved, "place closed");
    Ok((StatusCode::CREATED, Json(ClosedAnswer { receipt: closed.receipt.into(), moved: closed.moved })))
}

/// A closure recorded, and how many appointments it moved to the nearest open
/// office (each with its deadline extended by the closure and a new notice).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ClosedAnswer {
    pub receipt: crate::views::ReceiptView,
    pub moved: u64,
}
