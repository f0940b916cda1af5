//! Programs over HTTP: the public list and detail (every version, sign-off and
//! repeal), the impact analysis, and the lifecycle (add, activate, sign off,
//! repeal). The rules are the core's; each transition is one ledger event with the
//! caller as actor.

use crate::json::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use fairgate_core::program::impact::{Impact, Person};
use fairgate_core::program::lifecycle::{ProgramBook, ProgramRecord, Status};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{blocking, Caller};
use crate::json::ApiJson;
use crate::problem::Problem;
use crate::views::ReceiptView;
use crate::AppState;

/// A decision on a program, public: who (account name, role, agency), when, why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecisionView {
    pub by: String,
    pub role: String,
    pub agency: String,
    pub at: String,
    pub reason: String,
    pub leaf_index: u64,
    /// For a sign-off: the capacity plan of the version, as the auditor signed over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub plan: Option<fairgate_core::plan::PlanSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProgramView {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub legal_basis: String,
    pub starts: String,
    /// The last day in force. Every program has one, at most five years after its start.
    pub sunset: String,
    /// draft, scheduled, active, superseded, ended or repealed.
    pub status: String,
    /// Whether this version is the one in force today.
    pub in_force: bool,
    /// The ledger leaf of the activation, or of the draft when not activated.
    pub leaf_index: u64,
    /// Whether the impact analysis flagged a group (null for programs from before drafts).
    pub impact_flagged: Option<bool>,
    /// The capacity plan of its office registrations: whether the offices can serve
    /// everyone in time, the days short, the waits, the deadline that would fit
    /// (docs/offices.md). Null for programs without a registration deadline.
    #[schema(value_type = Option<Object>)]
    pub plan: Option<fairgate_core::plan::PlanSummary>,
    /// Auditors' sign-offs of this version, with their reasons.
    pub sign_offs: Vec<DecisionView>,
    /// The repeal of the program, if it was repealed.
    pub repealed: Option<DecisionView>,
}

fn names(st: &AppState) -> std::collections::HashMap<String, String> {
    st.registry.account_names().map(|us| us.into_iter().collect()).unwrap_or_default()
}

fn decision(
    d: &fairgate_core::program::lifecycle::Decision,
    names: &std::collections::HashMap<String, String>,
) -> DecisionView {
    DecisionView {
        by: names.get(&d.stamp.by).cloned().unwrap_or_else(|| d.stamp.by.clone()),
        role: d.stamp.role.clone(),
        agency: d.stamp.agency.clone(),
        at: d.stamp.at.to_string(),
        reason: d.reason.clone(),
        leaf_index: d.stamp.leaf_index,
        plan: d.plan.clone(),
    }
}

fn views(
    rec: &ProgramRecord,
    today: jiff::civil::Date,
    names: &std::collections::HashMap<String, String>,
) -> Vec<ProgramView> {
    rec.versions
        .iter()
        .map(|v| {
            let status = rec.status(v.program.version, today);
            let leaf_index = v.activated.as_ref().or(v.drafted.as_ref()).map(|s| s.leaf_index).unwrap_or_default();
            ProgramView {
                id: v.program.id.clone(),
                version: v.program.version,
                title: v.program.title.clone(),
                legal_basis: v.program.legal_basis.clone(),
                starts: v.program.starts.to_string(),
                sunset: v.program.sunset.to_string(),
                status: status.as_str().to_string(),
                in_force: status == Status::Active,
                leaf_index,
                impact_flagged: v.impact.as_ref().map(|i| i.flagged),
                plan: v.plan.clone(),
                sign_offs: v.sign_offs.iter().map(|d| decision(d, names)).collect(),
                repealed: rec.repealed.as_ref().map(|d| decision(d, names)),
            }
        })
        .collect()
}

/// Every version of every program, as the public sees it.
pub fn all_views(st: &AppState, book: &ProgramBook) -> Vec<ProgramView> {
    let today = st.today();
    let names = names(st);
    book.programs.iter().flat_map(|r| views(r, today, &names)).collect()
}

/// Every program and version with its status, sign-offs and repeal. Public: no sign-in, no personal data.
#[utoipa::path(get, path = "/programs", tag = "programs", responses((status = 200, body = Vec<ProgramView>)))]
pub async fn list_programs(State(st): State<AppState>) -> Result<Json<Vec<ProgramView>>, Problem> {
    Ok(Json(
        blocking(move || {
            let book = st.registry.program_book().map_err(Problem::from)?;
            Ok(all_views(&st, &book))
        })
        .await?,
    ))
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProgramDetail {
    pub versions: Vec<ProgramView>,
    /// Per version: the program file as drafted, its compiled rules and its impact analysis.
    #[schema(value_type = Vec<Object>)]
    pub documents: Vec<serde_json::Value>,
}

/// One program: every version with its file, compiled rules and impact analysis. Public.
#[utoipa::path(get, path = "/programs/{id}", tag = "programs",
    params(("id" = String, Path, description = "Program id")),
    responses((status = 200, body = ProgramDetail), (status = 404, body = Problem)))]
pub async fn show_program(State(st): State<AppState>, Path(id): Path<String>) -> Result<Json<ProgramDetail>, Problem> {
    Ok(Json(
        blocking(move || {
            let book = st.registry.program_book().map_err(Problem::from)?;
            let rec = book.get(&id).ok_or_else(|| {
                Problem::new(
                    StatusCode::NOT_FOUND,
                    "unknown-program",
                    "No such program",
                    format!("there is no program `{id}`: see GET /programs"),
                )
                .with_errors(vec![fairgate_core::FieldError::new("id", "is not the id of any program")])
            })?;
            let documents = rec
                .versions
                .iter()
                .map(|v| {
                    let compiled = v.source.as_deref().and_then(|s| fairgate_core::program::lang::compile(s).ok());
                    serde_json::json!({
                        "version": v.program.version,
                        "source": v.source,
                        "compiled": compiled,
                        "impact": v.impact,
                        "plan": v.plan,
                        "population_source": v.population_source,
                    })
                })
                .collect();
            Ok(ProgramDetail { versions: views(rec, st.today(), &names(&st)), documents })
        })
        .await?,
    ))
}

/// A program file, and optionally the population to analyse it over.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ProgramSubmission {
    /// The program file (TOML), as in docs/programs.md.
    pub source: String,
    /// People to analyse the selection over (JSON objects as in docs/programs.md).
    /// Required to add a program; without it, `/programs/impact` analyses everyone on
    /// record (auditors only, noised).
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub population: Option<Vec<Person>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AddedProgramView {
    pub id: String,
    pub version: u32,
    #[schema(value_type = Object)]
    pub impact: Impact,
    pub population_source: String,
    pub receipt: ReceiptView,
}

/// Add a program (or an amendment: the next version of an existing id) as a draft,
/// with its impact analysis. Administrators.
#[utoipa::path(post, path = "/programs", tag = "programs", request_body = ProgramSubmission, security(("bearer" = [])),
    responses((status = 201, body = AddedProgramView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_program(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ProgramSubmission>,
) -> Result<(StatusCode, Json<AddedProgramView>), Problem> {
    let (added, receipt) = blocking(move || {
        st.registry
            .add_program(st.now(), &caller.actor(), &body.source, body.population.as_deref())
            .map_err(Problem::from)
    })
    .await?;
    tracing::info!(program = %added.id, version = added.version, leaf = receipt.leaf_index, "program drafted");
    Ok((
        StatusCode::CREATED,
        Json(AddedProgramView {
            id: added.id,
            version: added.version,
            impact: added.impact,
            population_source: added.population_source,
            receipt: receipt.into(),
        }),
    ))
}

/// Analyse a program file's selection. Over a `population` (exact figures): any
/// member of staff, recording nothing. Over everyone on record (no `population`):
/// auditors, with `Fairgate-Purpose: oversight-audit`; the analysis is logged, spends
/// the privacy budget (10 analyses per 30 days in all), and its figures are noised
/// with none under 10 (docs/programs.md).
#[utoipa::path(post, path = "/programs/impact", tag = "programs", request_body = ProgramSubmission, security(("bearer" = [])),
    params(("Fairgate-Purpose" = Option<String>, Header, description = "oversight-audit, for an analysis over everyone on record")),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn program_impact(
    State(st): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<ProgramSubmission>,
) -> Result<Json<Impact>, Problem> {
    if body.population.is_none() {
        let purpose = crate::auth::purpose_of(&caller, &headers)?;
        let (impact, receipt) = blocking(move || {
            st.registry
                .program_impact_over_records(st.now(), &caller.actor(), purpose, &body.source, "POST /programs/impact")
                .map_err(Problem::from)
        })
        .await?;
        tracing::info!(leaf = receipt.leaf_index, "impact analysis over the records");
        return Ok(Json(impact));
    }
    Ok(Json(
        blocking(move || {
            let people = body.population.unwrap_or_default();
            let (_, impact) = st.registry.program_impact(&body.source, &people, st.today()).map_err(Problem::from)?;
            Ok(impact)
        })
        .await?,
    ))
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct Transition {
    /// The version; the latest when left out.
    #[serde(default)]
    pub version: Option<u32>,
    /// Required for a sign-off and a repeal.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransitionDone {
    pub id: String,
    pub version: Option<u32>,
    pub status: String,
    pub receipt: ReceiptView,
}

/// One program transition as a registry step: (batch, actor, program id, body) →
/// the version it concerns (none for a repeal, which ends them all).
type Step = fn(
    &mut fairgate_store::registry::Batch<'_>,
    &fairgate_core::access::Actor,
    &str,
    &Transition,
) -> Result<Option<u32>, fairgate_store::RegistryError>;

/// Every lifecycle route has this shape: one registry write as the caller, then the
/// program's status after it.
async fn transition(
    st: AppState,
    caller: Caller,
    id: String,
    body: Transition,
    step: Step,
) -> Result<Json<TransitionDone>, Problem> {
    let done = blocking(move || {
        let actor = caller.actor();
        let (version, receipt) = st.registry.write(st.now(), |b| step(b, &actor, &id, &body)).map_err(Problem::from)?;
        let book = st.registry.program_book().map_err(Problem::from)?;
        let status = match (book.get(&id), version) {
            (Some(rec), Some(v)) => rec.status(v, st.today()).as_str().to_string(),
            (Some(rec), None) if rec.repealed.is_some() => Status::Repealed.as_str().to_string(),
            _ => String::new(),
        };
        Ok(TransitionDone { id, version, status, receipt: receipt.into() })
    })
    .await?;
    Ok(Json(done))
}

fn reason(body: &Transition) -> &str {
    body.reason.as_deref().unwrap_or_default()
}

/// Put a drafted version in force. Administrators. Refused (409) when the impact
/// analysis could not clear it and no auditor has signed it off.
#[utoipa::path(post, path = "/programs/{id}/activate", tag = "programs", request_body = Transition, security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    responses((status = 200, body = TransitionDone), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn activate_program(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Transition>,
) -> Result<Json<TransitionDone>, Problem> {
    transition(st, caller, id, body, |b, actor, id, body| {
        Ok(Some(b.activate_program(actor, id, body.version)?.0.version))
    })
    .await
}

/// An auditor signs off a draft, with reasons; the sign-off is public. Auditors.
#[utoipa::path(post, path = "/programs/{id}/sign-off", tag = "programs", request_body = Transition, security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    responses((status = 200, body = TransitionDone), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn sign_off_program(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Transition>,
) -> Result<Json<TransitionDone>, Problem> {
    transition(st, caller, id, body, |b, actor, id, body| {
        Ok(Some(b.sign_off_program(actor, id, body.version, reason(body))?.0))
    })
    .await
}

/// Repeal a program: every version ends now and the id can never be used again. Administrators.
#[utoipa::path(post, path = "/programs/{id}/repeal", tag = "programs", request_body = Transition, security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    responses((status = 200, body = TransitionDone), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn repeal_program(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Transition>,
) -> Result<Json<TransitionDone>, Problem> {
    transition(st, caller, id, body, |b, actor, id, body| b.repeal_program(actor, id, reason(body)).map(|_| None)).await
}

/// The body of `POST /programs/{id}/plan`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PlanRequest {
    /// The people to plan for: the lines of an impact analysis, each with its
    /// `postal_code`. Left out: everyone on record (auditors, logged, noised).
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub population: Option<Vec<Person>>,
    /// The version; the latest when left out.
    #[serde(default)]
    pub version: Option<u32>,
}

/// The capacity plan of a program's office registrations over a population, at this
/// server's offices (docs/offices.md): per office and day the people booked, the
/// capacity, the shortfall and the waits a queue simulation expects; when it fails,
/// the deadline that would fit and a phased schedule. `format=svg` draws the p95
/// wait per office and day, as written and as phased. Staff; nothing on record is
/// read, nothing is recorded. Without a `population`, over everyone on record at
/// their current addresses: auditors with `Fairgate-Purpose: oversight-audit`,
/// logged, within the privacy budget of analyses, and answered as a noised summary.
#[utoipa::path(post, path = "/programs/{id}/plan", tag = "programs", request_body = PlanRequest,
    params(("id" = String, Path, description = "Program id"),
           ("format" = Option<String>, Query, description = "`json` (the default) or `svg`"),
           ("Fairgate-Purpose" = Option<String>, Header, description = "oversight-audit, for a plan over everyone on record")),
    security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn program_plan(
    State(st): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    q: crate::views::QueryMap,
    ApiJson(body): ApiJson<PlanRequest>,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse;
    let q = q.map_err(|_| Problem::bad_request("query", "the query string is not valid URL encoding"))?;
    let svg = match q.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("svg") => true,
        Some(_) => return Err(Problem::bad_request("format", "must be json (the default) or svg")),
    };
    let Some(population) = body.population else {
        if svg {
            return Err(Problem::bad_request("format", "a plan over the records is a summary: svg needs a population"));
        }
        let purpose = crate::auth::purpose_of(&caller, &headers)?;
        let (summary, receipt) = blocking(move || {
            let source = st.registry.program_source(&id, body.version).map_err(Problem::from)?;
            st.registry
                .program_plan_over_records(st.now(), &caller.actor(), purpose, &source, "POST /programs/{id}/plan")
                .map_err(Problem::from)
        })
        .await?;
        tracing::info!(leaf = receipt.leaf_index, "capacity plan over the records");
        let Some(summary) = summary else {
            return Err(Problem::bad_request(
                "id",
                "this program has no office registration with a deadline: nothing to plan",
            ));
        };
        return Ok(Json(summary).into_response());
    };
    let plan =
        blocking(move || st.registry.program_plan(&id, body.version, &population).map_err(Problem::from)).await?;
    let Some(plan) = plan else {
        return Err(Problem::bad_request(
            "id",
            "this program has no office registration with a deadline: nothing to plan",
        ));
    };
    if svg {
        let chart = crate::transparency::wait_chart(&plan);
        return Ok(([(axum::http::header::CONTENT_TYPE, "image/svg+xml")], chart).into_response());
    }
    Ok(Json(plan).into_response())
}
