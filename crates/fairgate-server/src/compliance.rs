//! Compliance over HTTP: a person's obligations and why, benefit clearance, and the
//! records that change them (notices, excuses and their approval, determinations,
//! change reports). Reads are purpose-checked and logged; the rules are the core's.

use crate::json::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use fairgate_core::obligation::{ChangeInput, DeterminationInput, ExcuseInput, NoticeInput};
use fairgate_store::registry::compliance::{ClearanceAnswer, ObligationsAnswer};
use fairgate_store::RegistryError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{blocking, Caller, Reader};
use crate::json::ApiJson;
use crate::problem::Problem;
use crate::views::{on_param, subject_id, QueryMap, ReceiptView, Recorded};
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct ObligationsView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub answer: ObligationsAnswer,
    pub access_receipt: ReceiptView,
}

/// Does this person have to do anything, and why or why not: every program in force
/// with the selection clauses that hold or fail, and every obligation with its state
/// and a one-paragraph explanation. Needs `Fairgate-Purpose`; the read is logged.
#[utoipa::path(get, path = "/subjects/{id}/obligations", tag = "compliance",
    params(("id" = String, Path, description = "Subject id"),
           ("on" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
           ("Fairgate-Purpose" = String, Header, description = "Why the data is needed")),
    security(("bearer" = [])),
    responses((status = 200, body = ObligationsView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_obligations(
    State(st): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    q: QueryMap,
) -> Result<Json<ObligationsView>, Problem> {
    let id = subject_id(&id)?;
    let on = on_param(&st, &q)?;
    let (answer, receipt) = blocking(move || {
        let actor = reader.caller.actor();
        st.registry
            .read_obligations(st.now(), &actor, reader.purpose, id, on, "GET /subjects/{id}/obligations")
            .map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, access_leaf = receipt.leaf_index, "obligations read");
    Ok(Json(ObligationsView { answer, access_receipt: receipt.into() }))
}

#[derive(Serialize, ToSchema)]
pub struct ClearanceView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub answer: ClearanceAnswer,
    pub access_receipt: ReceiptView,
}

/// Only the facts a benefit adjudicator may use: overdue obligations of programs in
/// force with served notices, determinations with their reasons, and overstays.
/// Nothing from repealed or ended programs, nothing excused. Purpose
/// benefit-adjudication only.
#[utoipa::path(get, path = "/subjects/{id}/clearance", tag = "compliance",
    params(("id" = String, Path, description = "Subject id"),
           ("on" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
           ("Fairgate-Purpose" = String, Header, description = "benefit-adjudication")),
    security(("bearer" = [])),
    responses((status = 200, body = ClearanceView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_clearance(
    State(st): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    q: QueryMap,
) -> Result<Json<ClearanceView>, Problem> {
    let id = subject_id(&id)?;
    let on = on_param(&st, &q)?;
    let (answer, receipt) = blocking(move || {
        let actor = reader.caller.actor();
        st.registry.read_clearance(st.now(), &actor, id, on, "GET /subjects/{id}/clearance").map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, access_leaf = receipt.leaf_index, "clearance read");
    Ok(Json(ClearanceView { answer, access_receipt: receipt.into() }))
}

fn record(
    st: AppState,
    what: &'static str,
    id: fairgate_core::ids::SubjectId,
    f: impl FnOnce(&mut fairgate_store::registry::Batch<'_>) -> Result<(), RegistryError>,
) -> Result<(StatusCode, Json<Recorded>), Problem> {
    let ((), receipt) = st.registry.write(st.now(), f).map_err(Problem::from)?;
    tracing::info!(subject = %id, leaf = receipt.leaf_index, "{what}");
    Ok((StatusCode::CREATED, Json(Recorded { receipt: receipt.into() })))
}

/// Record a notice served on the person: channel, date, and proof or acknowledgement.
/// Officers and supervisors.
#[utoipa::path(post, path = "/subjects/{id}/notices", tag = "compliance", request_body = NoticeInput,
    params(("id" = String, Path, description = "Subject id")), security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn post_notice(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NoticeInput>,
) -> Result<(StatusCode, Json<Recorded>), Problem> {
    let id = subject_id(&id)?;
    blocking(move || record(st, "notice recorded", id, |b| b.serve_notice(&caller.actor(), id, &input))).await
}

/// Excuse an obligation for good cause (officers and adjudicators); it takes effect
/// once a supervisor approves it.
#[utoipa::path(post, path = "/subjects/{id}/excuses", tag = "compliance", request_body = ExcuseInput,
    params(("id" = String, Path, description = "Subject id")), security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn post_excuse(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ExcuseInput>,
) -> Result<(StatusCode, Json<Recorded>), Problem> {
    let id = subject_id(&id)?;
    blocking(move || record(st, "excuse recorded", id, |b| b.excuse(&caller.actor(), id, &input))).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ApproveInput {
    pub obligation: String,
}

/// A supervisor approves an excuse (not the person who recorded it).
#[utoipa::path(post, path = "/subjects/{id}/excuses/approve", tag = "compliance", request_body = ApproveInput,
    params(("id" = String, Path, description = "Subject id")), security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn approve_excuse(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ApproveInput>,
) -> Result<(StatusCode, Json<Recorded>), Problem> {
    let id = subject_id(&id)?;
    blocking(move || record(st, "excuse approved", id, |b| b.approve_excuse(&caller.actor(), id, &input.obligation)))
        .await
}

/// An adjudicator's determination (willful, not-willful or not-applicable) with
/// written reasons and the evidence considered. Refused when no notice was served.
#[utoipa::path(post, path = "/subjects/{id}/determinations", tag = "compliance", request_body = DeterminationInput,
    params(("id" = String, Path, description = "Subject id")), security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn post_determination(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DeterminationInput>,
) -> Result<(StatusCode, Json<Recorded>), Problem> {
    let id = subject_id(&id)?;
    blocking(move || record(st, "determination recorded", id, |b| b.determine(&caller.actor(), id, &input))).await
}

/// Record a change of address, employer or school the person reported today.
/// Officers and supervisors.
#[utoipa::path(post, path = "/subjects/{id}/changes", tag = "compliance", request_body = ChangeInput,
    params(("id" = String, Path, description = "Subject id")), security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn post_change(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ChangeInput>,
) -> Result<(StatusCode, Json<Recorded>), Problem> {
    let id = subject_id(&id)?;
    blocking(move || record(st, "change recorded", id, |b| b.report_change(&caller.actor(), id, &input))).await
}

/// The notice of one obligation, as a printable page (default) or plain text
/// (`format=text`). Needs `Fairgate-Purpose`; the read is logged. The notice holds
/// no name or address: whoever serves it addresses it.
#[utoipa::path(get, path = "/subjects/{id}/notice", tag = "compliance",
    params(("id" = String, Path, description = "Subject id"),
           ("obligation" = String, Query, description = "The obligation key"),
           ("format" = Option<String>, Query, description = "html (default) or text"),
           ("Fairgate-Purpose" = String, Header, description = "Why the data is needed")),
    security(("bearer" = [])),
    responses((status = 200, body = String, content_type = "text/html"), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn get_notice(
    State(st): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    q: QueryMap,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse;
    let id = subject_id(&id)?;
    let q = q.map_err(|_| Problem::bad_request("query", "the query string is not valid URL encoding"))?;
    let key = q.get("obligation").cloned().ok_or_else(|| {
        Problem::bad_request("obligation", "is required: the obligation key from GET /subjects/{id}/obligations")
    })?;
    let text = match q.get("format").map(String::as_str) {
        None | Some("html") => false,
        Some("text") => true,
        Some(_) => return Err(Problem::bad_request("format", "must be html or text")),
    };
    let (doc, receipt) = blocking(move || {
        let actor = reader.caller.actor();
        st.registry
            .read_notice(st.now(), &actor, reader.purpose, id, &key, "GET /subjects/{id}/notice")
            .map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, access_leaf = receipt.leaf_index, "notice read");
    if text {
        return Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], doc.text()).into_response());
    }
    Ok(crate::views::page(&doc.title, crate::views::notice_html(&doc)).into_response())
}
