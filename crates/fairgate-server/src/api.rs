//! The JSON API. Every handler documents itself for the OpenAPI document, calls the
//! registry off the async threads, and answers problem+json on error.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use fairgate_core::crossing::CrossingInput;
use fairgate_core::ids::SubjectId;
use fairgate_core::place::PlaceKind;
use fairgate_core::registration::{Interview, RegistrationInput};
use fairgate_core::subject::SubjectInput;
use fairgate_core::timeline::Timeline;
use fairgate_store::store::StoreError;
use fairgate_store::{Receipt, RegistryError};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{blocking, Reader, Recorder};
use crate::json::ApiJson;
use crate::problem::Problem;
use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fairgate",
        description = "Entry-exit registration records that cannot single people out. Reads of personal data need a \
                       bearer token and a `Fairgate-Purpose` header, and every read is written to the public, \
                       tamper-evident log before the data is returned."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "subjects", description = "Subjects, registrations and crossings"),
        (name = "reference", description = "Ports and offices"),
        (name = "programs", description = "Programs: the public list, impact analysis and lifecycle"),
        (name = "compliance", description = "Obligations, notices, excuses, determinations and benefit clearance"),
        (name = "law-enforcement", description = "Requests, independent approval, emergency review and legal holds"),
        (name = "portal", description = "The registrants' own view: records, who looked at them, export"),
        (name = "expungement", description = "Erasure with an auditor's approval, and its public certificates"),
        (name = "designations", description = "Individual designations, their review, and statistics for auditors"),
        (name = "log", description = "The transparency log"),
        (name = "transparency", description = "The public transparency report: aggregates only, small cells suppressed"),
        (name = "health", description = "Liveness")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(list_ports))
        .routes(routes!(list_offices))
        .routes(routes!(crate::programs::list_programs, crate::programs::add_program))
        .routes(routes!(crate::programs::show_program))
        .routes(routes!(crate::programs::program_impact))
        .routes(routes!(crate::programs::activate_program))
        .routes(routes!(crate::programs::sign_off_program))
        .routes(routes!(crate::programs::repeal_program))
        .routes(routes!(crate::designations::designate))
        .routes(routes!(crate::designations::review))
        .routes(routes!(crate::designations::stats))
        .routes(routes!(crate::compliance::get_obligations))
        .routes(routes!(crate::compliance::get_clearance))
        .routes(routes!(crate::compliance::post_notice))
        .routes(routes!(crate::compliance::post_excuse))
        .routes(routes!(crate::compliance::approve_excuse))
        .routes(routes!(crate::compliance::post_determination))
        .routes(routes!(crate::compliance::post_change))
        .routes(routes!(crate::compliance::get_notice))
        .routes(routes!(crate::expungement::approve))
        .routes(routes!(crate::expungement::expunge))
        .routes(routes!(crate::expungement::list))
        .routes(routes!(crate::expungement::approve_program))
        .routes(routes!(crate::expungement::notice_program))
        .routes(routes!(crate::expungement::expunge_program))
        .routes(routes!(crate::portal::erasures))
        .routes(routes!(crate::portal::login))
        .routes(routes!(crate::portal::records))
        .routes(routes!(crate::portal::disclosures))
        .routes(routes!(crate::portal::export))
        .routes(routes!(crate::portal::request_correction, crate::portal::list_corrections))
        .routes(routes!(crate::portal::answer_correction))
        .routes(routes!(crate::law_enforcement::request))
        .routes(routes!(crate::law_enforcement::approve))
        .routes(routes!(crate::law_enforcement::review))
        .routes(routes!(create_subject))
        .routes(routes!(lookup_subjects))
        .routes(routes!(get_subject))
        .routes(routes!(get_stay))
        .routes(routes!(list_overstays))
        .routes(routes!(overstays_csv))
        .routes(routes!(create_registration))
        .routes(routes!(create_crossing))
        .routes(routes!(log_checkpoint))
        .routes(routes!(log_key))
        .routes(routes!(log_leaves))
        .routes(routes!(log_inclusion))
        .routes(routes!(log_consistency))
        .routes(routes!(crate::transparency::report_json))
        .routes(routes!(crate::transparency::report_csv))
}

/// Where a write landed in the log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReceiptView {
    /// Index of the first ledger leaf the request appended.
    pub leaf_index: u64,
    /// The tree size that includes it.
    pub tree_size: u64,
}

impl From<Receipt> for ReceiptView {
    fn from(r: Receipt) -> Self {
        Self { leaf_index: r.leaf_index, tree_size: r.tree_size }
    }
}

/// Run a registry write, retrying once if another writer appended at the same moment.
fn retrying<T>(mut f: impl FnMut() -> Result<T, RegistryError>) -> Result<T, Problem> {
    match f() {
        Err(RegistryError::Store(StoreError::Conflict { .. })) => f().map_err(Problem::from),
        other => other.map_err(Problem::from),
    }
}

pub(crate) fn subject_id(raw: &str) -> Result<SubjectId, Problem> {
    raw.parse::<SubjectId>().map_err(|e| {
        Problem::new(StatusCode::NOT_FOUND, "unknown-subject", "No such subject", e.message.clone())
            .with_errors(vec![e])
    })
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: String,
    tree_size: u64,
}

/// Ready to serve.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
async fn healthz(State(st): State<AppState>) -> Result<Json<Health>, Problem> {
    let (tree_size, _) = blocking(move || st.registry.tree_head().map_err(Problem::from)).await?;
    Ok(Json(Health { status: "ok".into(), tree_size }))
}

#[derive(Serialize, ToSchema)]
pub struct PlaceView {
    code: String,
    name: String,
    /// IANA time zone: days of stay are counted in this zone's calendar.
    zone: String,
}

fn places(st: &AppState, kind: PlaceKind) -> Json<Vec<PlaceView>> {
    Json(
        st.registry
            .places()
            .iter()
            .filter(|p| p.place.kind == kind)
            .map(|p| PlaceView { code: p.place.code.clone(), name: p.place.name.clone(), zone: p.place.zone.clone() })
            .collect(),
    )
}

/// Ports of entry.
#[utoipa::path(get, path = "/ports", tag = "reference", responses((status = 200, body = Vec<PlaceView>)))]
async fn list_ports(State(st): State<AppState>) -> Json<Vec<PlaceView>> {
    places(&st, PlaceKind::Port)
}

/// Local offices.
#[utoipa::path(get, path = "/offices", tag = "reference", responses((status = 200, body = Vec<PlaceView>)))]
async fn list_offices(State(st): State<AppState>) -> Json<Vec<PlaceView>> {
    places(&st, PlaceKind::Office)
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CreatedSubject {
    /// The subject's pseudonymous id.
    pub id: String,
    pub receipt: ReceiptView,
}

/// Create a subject from travel-document data. Officers and supervisors.
#[utoipa::path(post, path = "/subjects", tag = "subjects", request_body = SubjectInput,
    security(("bearer" = [])),
    responses((status = 201, body = CreatedSubject), (status = 400, body = Problem), (status = 422, body = Problem),
              (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn create_subject(
    State(st): State<AppState>,
    Recorder(caller): Recorder,
    ApiJson(input): ApiJson<SubjectInput>,
) -> Result<(StatusCode, Json<CreatedSubject>), Problem> {
    let (id, receipt) = blocking(move || {
        let actor = caller.actor();
        retrying(|| st.registry.write(st.now(), |b| b.create_subject(&actor, &input)))
    })
    .await?;
    tracing::info!(subject = %id, leaf = receipt.leaf_index, "subject created");
    Ok((StatusCode::CREATED, Json(CreatedSubject { id: id.to_string(), receipt: receipt.into() })))
}

#[derive(Deserialize, ToSchema)]
pub struct LookupRequest {
    /// The travel-document number. It goes in the body so it never appears in URLs or logs.
    #[schema(example = "L898902C3")]
    pub document_number: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct LookupResult {
    /// Ids of the subjects holding a document with this number.
    pub subjects: Vec<String>,
    /// Where the access events for the matches were logged; absent when nothing matched.
    pub access_receipt: Option<ReceiptView>,
}

/// Find subjects by travel-document number (through a keyed blind index). Needs `Fairgate-Purpose`.
#[utoipa::path(post, path = "/subjects/lookup", tag = "subjects", request_body = LookupRequest,
    params(("Fairgate-Purpose" = String, Header, description = "Why the data is needed")),
    security(("bearer" = [])),
    responses((status = 200, body = LookupResult), (status = 400, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn lookup_subjects(
    State(st): State<AppState>,
    reader: Reader,
    ApiJson(req): ApiJson<LookupRequest>,
) -> Result<Json<LookupResult>, Problem> {
    let (ids, receipt) = blocking(move || {
        let actor = reader.caller.actor();
        retrying(|| {
            st.registry.lookup_document(st.now(), &actor, reader.purpose, &req.document_number, "POST /subjects/lookup")
        })
    })
    .await?;
    tracing::info!(matches = ids.len(), "document lookup");
    Ok(Json(LookupResult {
        subjects: ids.iter().map(|i| i.to_string()).collect(),
        access_receipt: receipt.map(Into::into),
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DocumentView {
    pub kind: String,
    pub issuing_state: String,
    pub number: String,
    pub expires_on: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RegistrationView {
    pub registration_number: String,
    /// `port-of-entry`, `office` or `re-registration`.
    pub kind: String,
    pub place: String,
    pub at: String,
    /// Pseudonymous id of the officer who recorded it.
    pub officer: String,
    pub interview: Option<Interview>,
    /// No program required it: the person registered of their own accord.
    pub voluntary: bool,
    /// The program that required it (or that an imported record belongs to).
    pub program: Option<String>,
    pub leaf_index: u64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CrossingView {
    pub direction: String,
    pub port: String,
    /// UTC.
    pub at: String,
    pub admission_class: Option<String>,
    pub admitted_until: Option<String>,
    pub leaf_index: u64,
    /// Set when the person was already overstaying when this crossing was recorded.
    #[schema(value_type = Option<Object>)]
    pub overstay_at_crossing: Option<fairgate_core::stay::Overstay>,
}

/// A subject's record and history, oldest first.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TimelineView {
    pub id: String,
    pub document: DocumentView,
    pub surname: String,
    pub given_names: String,
    pub birth_date: String,
    pub sex: String,
    pub nationality: String,
    pub registrations: Vec<RegistrationView>,
    pub crossings: Vec<CrossingView>,
    /// Individual designations: reason, facts, who made it, its review and status
    /// (pending, approved, rejected or lapsed).
    #[schema(value_type = Vec<Object>)]
    pub designations: Vec<serde_json::Value>,
    /// The person's correction requests, their answers and status (open, late, answered).
    #[schema(value_type = Vec<Object>)]
    pub corrections: Vec<serde_json::Value>,
    /// Where this read was logged.
    pub access_receipt: ReceiptView,
}

impl TimelineView {
    pub(crate) fn new(t: Timeline, receipt: Receipt, now: jiff::Timestamp) -> Self {
        let p = t.person;
        Self {
            id: t.id.to_string(),
            document: DocumentView {
                kind: p.document.kind,
                issuing_state: p.document.issuing_state,
                number: p.document.number,
                expires_on: p.document.expires_on.to_string(),
            },
            surname: p.surname,
            given_names: p.given_names,
            birth_date: p.birth_date.to_string(),
            sex: format!("{:?}", p.sex),
            nationality: p.nationality,
            registrations: t
                .registrations
                .into_iter()
                .map(|r| RegistrationView {
                    registration_number: r.number.to_string(),
                    kind: r.registration.kind.as_str().into(),
                    place: r.registration.place,
                    at: r.registration.at.to_string(),
                    officer: r.officer.id,
                    interview: r.registration.interview,
                    voluntary: r.registration.voluntary,
                    program: r.registration.program,
                    leaf_index: r.leaf_index,
                })
                .collect(),
            crossings: t
                .crossings
                .into_iter()
                .map(|c| CrossingView {
                    direction: c.crossing.direction.as_str().into(),
                    port: c.crossing.port,
                    at: c.crossing.at.to_string(),
                    admission_class: c.crossing.admission_class,
                    admitted_until: c.crossing.admitted_until.map(|d| d.to_string()),
                    leaf_index: c.leaf_index,
                    overstay_at_crossing: c.overstay_at_crossing,
                })
                .collect(),
            corrections: t
                .corrections
                .iter()
                .map(|c| {
                    let mut v = serde_json::to_value(c).unwrap_or_default();
                    v["status"] = serde_json::to_value(c.status(now)).unwrap_or_default();
                    v
                })
                .collect(),
            designations: t
                .designations
                .into_iter()
                .map(|d| {
                    let mut v = serde_json::to_value(&d).unwrap_or_default();
                    v["status"] = serde_json::Value::from(d.status(now).as_str());
                    v
                })
                .collect(),
            access_receipt: receipt.into(),
        }
    }
}

/// A subject's full timeline. Needs `Fairgate-Purpose`; the read is logged before the answer is sent.
#[utoipa::path(get, path = "/subjects/{id}", tag = "subjects",
    params(("id" = String, Path, description = "Subject id"),
           ("Fairgate-Purpose" = String, Header, description = "Why the data is needed")),
    security(("bearer" = [])),
    responses((status = 200, body = TimelineView), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 410, body = Problem)))]
async fn get_subject(
    State(st): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<TimelineView>, Problem> {
    let id = subject_id(&id)?;
    let now = st.now();
    let (timeline, receipt) = blocking(move || {
        let actor = reader.caller.actor();
        retrying(|| st.registry.read_timeline(now, &actor, reader.purpose, id, "GET /subjects/{id}"))
    })
    .await?;
    tracing::info!(subject = %id, access_leaf = receipt.leaf_index, "timeline read");
    Ok(Json(TimelineView::new(timeline, receipt, now)))
}

/// Stay accounting for one subject on one day: the rule that applies, and the same
/// answer as `fairgate stay --json`.
#[derive(Serialize, ToSchema)]
pub struct StayView {
    /// `90/180`-style rolling rule, or `admitted-until`.
    pub rule: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub answer: fairgate_core::stay::StayAnswer,
    /// Where this read was logged.
    pub access_receipt: ReceiptView,
}

/// How long a subject has stayed, may still stay, and any overstay, on `on` (default today, UTC). Needs `Fairgate-Purpose`; the read is logged first.
#[utoipa::path(get, path = "/subjects/{id}/stay", tag = "subjects",
    params(("id" = String, Path, description = "Subject id"),
           ("on" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
           ("Fairgate-Purpose" = String, Header, description = "Why the data is needed")),
    security(("bearer" = [])),
    responses((status = 200, body = StayView), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_stay(
    State(st): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    q: QueryMap,
) -> Result<Json<StayView>, Problem> {
    let id = subject_id(&id)?;
    let on = on_param(&st, &q)?;
    let ((rule, answer), receipt) = blocking(move || {
        let actor = reader.caller.actor();
        retrying(|| st.registry.read_stay(st.now(), &actor, reader.purpose, id, on, "GET /subjects/{id}/stay"))
    })
    .await?;
    tracing::info!(subject = %id, access_leaf = receipt.leaf_index, "stay read");
    Ok(Json(StayView { rule: rule.to_string(), answer, access_receipt: receipt.into() }))
}

/// The `on` query parameter (YYYY-MM-DD), or today in UTC.
pub(crate) fn on_param(st: &AppState, q: &QueryMap) -> Result<jiff::civil::Date, Problem> {
    let q = q.as_ref().map_err(|_| Problem::bad_request("query", "the query string is not valid URL encoding"))?;
    match q.get("on") {
        Some(s) => fairgate_core::error::parse_date("on", s).map_err(|e| Problem::bad_request("on", e.message)),
        None => Ok(st.today()),
    }
}

fn overstay_query(st: &AppState, reader: &Reader, q: &QueryMap) -> Result<jiff::civil::Date, Problem> {
    crate::access::check_overstay_list(reader.caller.role, reader.purpose).map_err(|why| {
        Problem::forbidden("purpose-not-permitted", why).with_errors(vec![fairgate_core::FieldError::new(
            "Fairgate-Purpose",
            "use compliance-review or oversight-audit",
        )])
    })?;
    let q = q.as_ref().map_err(|_| Problem::bad_request("query", "the query string is not valid URL encoding"))?;
    match q.get("on") {
        Some(s) => fairgate_core::error::parse_date("on", s).map_err(|e| Problem::bad_request("on", e.message)),
        None => Ok(st.now().to_zoned(jiff::tz::TimeZone::UTC).date()),
    }
}

#[derive(Serialize, ToSchema)]
pub struct OverstayList {
    pub on: String,
    pub page: usize,
    pub per_page: usize,
    /// All overstayers on `on`, across pages.
    pub total: usize,
    #[schema(value_type = Vec<Object>)]
    pub overstays: Vec<fairgate_store::registry::OverstayRow>,
    /// Where the access to the listed subjects was logged; absent when none are listed.
    pub access_receipt: Option<ReceiptView>,
}

/// Every subject overstaying on `on`, or who overstayed before (oldest overstay first), a page at a time. Needs `Fairgate-Purpose` compliance-review or oversight-audit; each listed subject's access is logged.
#[utoipa::path(get, path = "/overstays", tag = "subjects",
    params(("on" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
           ("page" = Option<usize>, Query, description = "From 1 (default 1)"),
           ("per_page" = Option<usize>, Query, description = "1 to 500 (default 100)"),
           ("Fairgate-Purpose" = String, Header, description = "compliance-review or oversight-audit")),
    security(("bearer" = [])),
    responses((status = 200, body = OverstayList), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list_overstays(
    State(st): State<AppState>,
    reader: Reader,
    q: QueryMap,
) -> Result<Json<OverstayList>, Problem> {
    let on = overstay_query(&st, &reader, &q)?;
    let page = number(&q, "page", Some(1))?.unwrap_or(1) as usize;
    let per_page = number(&q, "per_page", Some(100))?.unwrap_or(100) as usize;
    crate::access::check_page(page, per_page).map_err(|e| Problem::invalid(vec![e]))?;
    let (rows, total, receipt) = blocking(move || {
        let actor = reader.caller.actor();
        retrying(|| {
            st.registry.read_overstays(st.now(), &actor, reader.purpose, on, Some((page, per_page)), "GET /overstays")
        })
    })
    .await?;
    tracing::info!(listed = rows.len(), total, "overstays read");
    Ok(Json(OverstayList {
        on: on.to_string(),
        page,
        per_page,
        total,
        overstays: rows,
        access_receipt: receipt.map(Into::into),
    }))
}

/// The whole overstay list on `on` as CSV: subject, rule, first_day, last_day, days, still_present. Same purposes and logging as `/overstays`.
#[utoipa::path(get, path = "/overstays.csv", tag = "subjects",
    params(("on" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
           ("Fairgate-Purpose" = String, Header, description = "compliance-review or oversight-audit")),
    security(("bearer" = [])),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 403, body = Problem)))]
async fn overstays_csv(State(st): State<AppState>, reader: Reader, q: QueryMap) -> Result<impl IntoResponse, Problem> {
    let on = overstay_query(&st, &reader, &q)?;
    let (rows, _, _) = blocking(move || {
        let actor = reader.caller.actor();
        retrying(|| st.registry.read_overstays(st.now(), &actor, reader.purpose, on, None, "GET /overstays.csv"))
    })
    .await?;
    let mut out = String::from("subject,rule,first_day,last_day,days,still_present\r\n");
    for r in &rows {
        out.push_str(&format!(
            "{},{},{},{},{},{}\r\n",
            r.subject, r.rule, r.overstay.first_day, r.overstay.last_day, r.overstay.days, r.still_present
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"fairgate-overstays-{on}.csv\"")),
        ],
        out,
    ))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CreatedRegistration {
    /// The registration number, with its check symbol.
    pub registration_number: String,
    pub receipt: ReceiptView,
    /// The receipt to print and hand to the person.
    pub printed_receipt: String,
    /// The person's portal access code, shown once (it is on the printed receipt).
    pub access_code: String,
}

/// Record a registration with its interview. Officers and supervisors.
#[utoipa::path(post, path = "/subjects/{id}/registrations", tag = "subjects", request_body = RegistrationInput,
    params(("id" = String, Path, description = "Subject id")),
    security(("bearer" = [])),
    responses((status = 201, body = CreatedRegistration), (status = 400, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
async fn create_registration(
    State(st): State<AppState>,
    Recorder(caller): Recorder,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RegistrationInput>,
) -> Result<(StatusCode, Json<CreatedRegistration>), Problem> {
    let id = subject_id(&id)?;
    let st2 = st.clone();
    let (number, receipt) = blocking(move || {
        let actor = caller.actor();
        retrying(|| st2.registry.write(st2.now(), |b| b.record_registration(&actor, id, &input)))
    })
    .await?;
    tracing::info!(subject = %id, leaf = receipt.leaf_index, "registration recorded");
    let (access_code, hash) = crate::portal::new_access_code()?;
    let blind = st.registry.registration_blind(number.as_str());
    let st3 = st.clone();
    blocking(move || st3.registry.store().put_portal_code(&blind, &hash).map_err(|_| Problem::internal())).await?;
    let printed_receipt = format!(
        "FAIRGATE REGISTRATION RECEIPT\nRegistration number: {number}\nPortal access code: {access_code}\n\
         Recorded in the public log at leaf {} (tree size {}).\n\
         Keep this receipt: it proves that you registered. With the number and the code you can see every\n\
         record held on you, and everyone who has looked at it and why, at /portal.\n",
        receipt.leaf_index, receipt.tree_size
    );
    Ok((
        StatusCode::CREATED,
        Json(CreatedRegistration {
            registration_number: number.to_string(),
            receipt: receipt.into(),
            printed_receipt,
            access_code,
        }),
    ))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CreatedCrossing {
    pub receipt: ReceiptView,
    /// Set when the person was already overstaying on the day of this crossing. The
    /// crossing is recorded all the same; the flag is sealed into it.
    #[schema(value_type = Option<Object>)]
    pub overstaying: Option<fairgate_core::stay::Overstay>,
}

/// Record an entry or an exit. An exit must follow the entry it closes. Officers and supervisors.
#[utoipa::path(post, path = "/subjects/{id}/crossings", tag = "subjects", request_body = CrossingInput,
    params(("id" = String, Path, description = "Subject id")),
    security(("bearer" = [])),
    responses((status = 201, body = CreatedCrossing), (status = 400, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
async fn create_crossing(
    State(st): State<AppState>,
    Recorder(caller): Recorder,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CrossingInput>,
) -> Result<(StatusCode, Json<CreatedCrossing>), Problem> {
    let id = subject_id(&id)?;
    let ((_, overstaying), receipt) = blocking(move || {
        let actor = caller.actor();
        retrying(|| {
            st.registry
                .write(st.now(), |b| b.record_crossing_checked(&actor, id, &input, "POST /subjects/{id}/crossings"))
        })
    })
    .await?;
    tracing::info!(subject = %id, leaf = receipt.leaf_index, flagged = overstaying.is_some(), "crossing recorded");
    Ok((StatusCode::CREATED, Json(CreatedCrossing { receipt: receipt.into(), overstaying })))
}

pub(crate) type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

/// Read a whole-number query parameter, naming it in the problem when it is wrong.
fn number(q: &QueryMap, name: &str, default: Option<u64>) -> Result<Option<u64>, Problem> {
    let q = q.as_ref().map_err(|_| Problem::bad_request("query", "the query string is not valid URL encoding"))?;
    match q.get(name) {
        None => Ok(default),
        Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
            Problem::bad_request(
                name,
                format!(
                    "`{}` is not a whole number: give {name} as digits, e.g. {name}=10",
                    v.chars().take(20).collect::<String>()
                ),
            )
        }),
    }
}

fn required(q: &QueryMap, name: &str) -> Result<u64, Problem> {
    number(q, name, None)?.ok_or_else(|| Problem::bad_request(name, format!("the query parameter {name} is required")))
}

fn b64(hashes: &[[u8; 32]]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

/// The latest signed checkpoint, or the one signed at `size` (C2SP checkpoint, Ed25519 signed note). No sign-in needed.
#[utoipa::path(get, path = "/log/checkpoint", tag = "log",
    params(("size" = Option<u64>, Query, description = "A tree size at which a checkpoint was signed; default: the latest")),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 404, body = Problem), (status = 503, body = Problem)))]
async fn log_checkpoint(State(st): State<AppState>, q: QueryMap) -> Result<impl IntoResponse, Problem> {
    let size = number(&q, "size", None)?;
    let found = blocking(move || st.registry.checkpoint(size).map_err(Problem::from)).await?;
    let note = match (found, size) {
        (Some(c), _) => c.note,
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
async fn log_leaves(State(st): State<AppState>, q: QueryMap) -> Result<Json<Vec<String>>, Problem> {
    let start = required(&q, "start")?;
    let count = number(&q, "count", Some(MAX_LEAVES))?.unwrap_or(MAX_LEAVES);
    if count == 0 || count > MAX_LEAVES {
        return Err(Problem::invalid(vec![fairgate_core::FieldError::new(
            "count",
            format!("must be between 1 and {MAX_LEAVES}"),
        )]));
    }
    let rows = blocking(move || {
        let size = st.registry.store().tree_size().map_err(|e| Problem::from(RegistryError::Store(e)))?;
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
async fn log_inclusion(State(st): State<AppState>, q: QueryMap) -> Result<Json<InclusionProof>, Problem> {
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
async fn log_consistency(State(st): State<AppState>, q: QueryMap) -> Result<Json<ConsistencyProof>, Problem> {
    let (from, to) = (required(&q, "from")?, required(&q, "to")?);
    let hashes = blocking(move || st.registry.consistency_proof(from, to).map_err(Problem::from)).await?;
    Ok(Json(ConsistencyProof { from, to, hashes: b64(&hashes) }))
}

/// The checkpoint verifier key, in signed-note vkey form. No sign-in needed.
#[utoipa::path(get, path = "/log/key", tag = "log", responses((status = 200, body = String, content_type = "text/plain")))]
async fn log_key(State(st): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{}\n", st.registry.verifier_key()))
}
