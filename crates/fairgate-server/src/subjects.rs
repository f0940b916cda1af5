//! Subjects over HTTP: create a person, record registrations (with the portal
//! access code issued in the same commit) and crossings, look people up by
//! document, read a timeline, a stay, and the overstay list; and the reference
//! lists of ports and offices. Every read is purpose-checked and logged by the
//! registry before it returns.

use crate::json::Path;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use fairgate_core::crossing::CrossingInput;
use fairgate_core::document::DocumentInput;
use fairgate_core::place::PlaceKind;
use fairgate_core::registration::RegistrationInput;
use fairgate_core::subject::SubjectRequest;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{blocking, Caller, Reader};
use crate::json::ApiJson;
use crate::problem::Problem;
use crate::views::{number, on_param, retrying, subject_id, QueryMap, ReceiptView, TimelineView};
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: String,
    tree_size: u64,
    matchers: Matchers,
}

/// Which biometric matchers this server has.
#[derive(Serialize, ToSchema)]
pub struct Matchers {
    /// Always `available` (built in).
    fingerprint: String,
    /// `available`, or `unavailable: why` (the models are not installed: run
    /// scripts/setup-faces.sh). Without it faces are not compared (`not-checked`)
    /// and fingerprints still are.
    face: String,
}

/// Ready to serve, and which matchers are available.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz(State(st): State<AppState>) -> Result<Json<Health>, Problem> {
    let face = match (st.registry.face_matcher(), st.face_unavailable.as_deref()) {
        (Some(_), _) => "available".to_string(),
        (None, Some(why)) => format!("unavailable: {why}"),
        (None, None) => "unavailable: not configured".to_string(),
    };
    let (tree_size, _) = blocking(move || st.registry.tree_head().map_err(Problem::from)).await?;
    Ok(Json(Health { status: "ok".into(), tree_size, matchers: Matchers { fingerprint: "available".into(), face } }))
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
pub async fn list_ports(State(st): State<AppState>) -> Json<Vec<PlaceView>> {
    places(&st, PlaceKind::Port)
}

/// Local offices.
#[utoipa::path(get, path = "/offices", tag = "reference", responses((status = 200, body = Vec<PlaceView>)))]
pub async fn list_offices(State(st): State<AppState>) -> Json<Vec<PlaceView>> {
    places(&st, PlaceKind::Office)
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CreatedSubject {
    /// The subject's pseudonymous id.
    pub id: String,
    pub receipt: ReceiptView,
}

/// Create a subject from travel-document data: the typed fields, or the document's machine-readable zone as `mrz` (every check digit must hold). A document already on record (kind, issuing state, number) answers 409 naming its subject, a read logged for the purpose in `Fairgate-Purpose` (default `registration`). Officers and supervisors.
#[utoipa::path(post, path = "/subjects", tag = "subjects", request_body = SubjectRequest,
    params(("Fairgate-Purpose" = Option<String>, Header, description = "Why the answer may name a person already on record; default registration")),
    security(("bearer" = [])),
    responses((status = 201, body = CreatedSubject), (status = 400, body = Problem), (status = 409, body = Problem, description = "The document is on record: `subject` names its holder"), (status = 422, body = Problem),
              (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn create_subject(
    State(st): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    ApiJson(request): ApiJson<SubjectRequest>,
) -> Result<(StatusCode, Json<CreatedSubject>), Problem> {
    // A document on record already is answered with its subject: a read, for the
    // purpose stated (registration unless the header says otherwise).
    let purpose = match headers.get(crate::auth::PURPOSE_HEADER) {
        Some(_) => crate::auth::purpose_of(&caller, &headers)?,
        None => fairgate_core::access::Purpose::Registration,
    };
    let input = request.resolve(st.today()).map_err(|e| Problem::invalid(e.0))?;
    let (id, receipt) = blocking(move || {
        let actor = caller.actor();
        retrying(|| st.registry.create_subject(st.now(), &actor, purpose, &input, "POST /subjects"))
    })
    .await?;
    tracing::info!(subject = %id, leaf = receipt.leaf_index, "subject created");
    Ok((StatusCode::CREATED, Json(CreatedSubject { id: id.to_string(), receipt: receipt.into() })))
}

/// Add a person's new travel document (a renewal, a new passport): they keep their id and their history. A document another person holds answers 409 naming them, a read logged for the purpose in `Fairgate-Purpose` (default `registration`). Officers and supervisors.
#[utoipa::path(post, path = "/subjects/{id}/documents", tag = "subjects", request_body = DocumentInput,
    params(("id" = String, Path, description = "Subject id"),
           ("Fairgate-Purpose" = Option<String>, Header, description = "Why the answer may name a person already on record; default registration")),
    security(("bearer" = [])),
    responses((status = 201, body = ReceiptView), (status = 409, body = Problem, description = "Another person holds this document: `subject` names them"),
              (status = 404, body = Problem), (status = 410, body = Problem), (status = 422, body = Problem)))]
pub async fn add_document(
    State(st): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DocumentInput>,
) -> Result<(StatusCode, Json<ReceiptView>), Problem> {
    let id = subject_id(&id)?;
    let purpose = match headers.get(crate::auth::PURPOSE_HEADER) {
        Some(_) => crate::auth::purpose_of(&caller, &headers)?,
        None => fairgate_core::access::Purpose::Registration,
    };
    let receipt = blocking(move || {
        let actor = caller.actor();
        retrying(|| st.registry.add_document(st.now(), &actor, purpose, id, &input, "POST /subjects/{id}/documents"))
    })
    .await?;
    tracing::info!(subject = %id, leaf = receipt.leaf_index, "document added");
    Ok((StatusCode::CREATED, Json(receipt.into())))
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
pub async fn lookup_subjects(
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

/// A subject's full timeline. Needs `Fairgate-Purpose`; the read is logged before the answer is sent.
#[utoipa::path(get, path = "/subjects/{id}", tag = "subjects",
    params(("id" = String, Path, description = "Subject id"),
           ("Fairgate-Purpose" = String, Header, description = "Why the data is needed")),
    security(("bearer" = [])),
    responses((status = 200, body = TimelineView), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 410, body = Problem)))]
pub async fn get_subject(
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
pub async fn get_stay(
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

/// The most rows one page of the overstay list holds.
pub const MAX_PER_PAGE: usize = 500;
/// The highest page number asked for (pages past the end are empty, not wrapped).
pub const MAX_PAGE: usize = 1_000_000_000;

/// Pages are numbered from 1 and hold 1 to [`MAX_PER_PAGE`] rows.
pub fn check_page(page: usize, per_page: usize) -> Result<(), fairgate_core::FieldError> {
    if page == 0 {
        return Err(fairgate_core::FieldError::new("page", "pages are numbered from 1"));
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(fairgate_core::FieldError::new("per_page", format!("must be between 1 and {MAX_PER_PAGE}")));
    }
    if page > MAX_PAGE {
        return Err(fairgate_core::FieldError::new("page", format!("must be at most {MAX_PAGE}")));
    }
    Ok(())
}

/// The day of an overstay list (the policy was checked by the route guard, and is
/// checked again by the registry).
fn overstay_query(st: &AppState, q: &QueryMap) -> Result<jiff::civil::Date, Problem> {
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
pub async fn list_overstays(
    State(st): State<AppState>,
    reader: Reader,
    q: QueryMap,
) -> Result<Json<OverstayList>, Problem> {
    let on = overstay_query(&st, &q)?;
    let page = number(&q, "page", Some(1))?.unwrap_or(1) as usize;
    let per_page = number(&q, "per_page", Some(100))?.unwrap_or(100) as usize;
    check_page(page, per_page).map_err(|e| Problem::invalid(vec![e]))?;
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

/// The header of the overstay list as CSV.
pub const OVERSTAY_CSV_HEADER: &str = "subject,rule,first_day,last_day,days,still_present";

/// One overstayer as a CSV line (no line end), every cell safe in a spreadsheet.
pub fn overstay_csv_line(r: &fairgate_store::registry::OverstayRow) -> String {
    [
        r.subject.to_string(),
        r.rule.to_string(),
        r.overstay.first_day.to_string(),
        r.overstay.last_day.to_string(),
        r.overstay.days.to_string(),
        r.still_present.to_string(),
    ]
    .iter()
    .map(|c| fairgate_core::report::csv_cell(c))
    .collect::<Vec<_>>()
    .join(",")
}

/// The whole overstay list on `on` as CSV: subject, rule, first_day, last_day, days, still_present. Same purposes and logging as `/overstays`.
#[utoipa::path(get, path = "/overstays.csv", tag = "subjects",
    params(("on" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
           ("Fairgate-Purpose" = String, Header, description = "compliance-review or oversight-audit")),
    security(("bearer" = [])),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 403, body = Problem)))]
pub async fn overstays_csv(
    State(st): State<AppState>,
    reader: Reader,
    q: QueryMap,
) -> Result<impl IntoResponse, Problem> {
    let on = overstay_query(&st, &q)?;
    let (rows, _, _) = blocking(move || {
        let actor = reader.caller.actor();
        retrying(|| st.registry.read_overstays(st.now(), &actor, reader.purpose, on, None, "GET /overstays.csv"))
    })
    .await?;
    let mut out = format!("{OVERSTAY_CSV_HEADER}\r\n");
    for r in &rows {
        out.push_str(&overstay_csv_line(r));
        out.push_str("\r\n");
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
    /// With captures: the 1:N search of everyone else on record. Candidates go to a
    /// supervisor (`GET /identification/reviews`); the registration stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification: Option<crate::identification::IdentificationView>,
    /// With a fingerprint probe: the 1:1 comparison with the person's earlier records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<fairgate_core::matching::Comparison>,
    /// With a photograph in the probe: the 1:1 face comparison (not-checked when
    /// the face matcher is not installed or nothing is on record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_comparison: Option<fairgate_core::matching::Comparison>,
}

/// Record a registration with its interview. Officers and supervisors.
#[utoipa::path(post, path = "/subjects/{id}/registrations", tag = "subjects", request_body = RegistrationInput,
    params(("id" = String, Path, description = "Subject id")),
    security(("bearer" = [])),
    responses((status = 201, body = CreatedRegistration), (status = 400, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn create_registration(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RegistrationInput, { crate::CAPTURE_BODY_LIMIT }>,
) -> Result<(StatusCode, Json<CreatedRegistration>), Problem> {
    let id = subject_id(&id)?;
    // A probe that cannot be read is refused before anything is recorded.
    let probe = read_probe(&st, input.probe.clone()).await?;
    let place = input.place.trim().to_uppercase();
    let st2 = st.clone();
    let actor = caller.actor();
    // The access code is issued in the same commit as the registration, and the
    // 1:N search is recorded in it too: run first against the gallery as it stands,
    // outside the writer lock, then, in the command, against whoever was enrolled
    // since, so other desks' writes do not wait behind the search.
    let ((number, access_code, lang, identification), receipt) = blocking(move || {
        let actor = caller.actor();
        let pre = st.registry.presearch(&actor, id, &input);
        retrying(|| {
            st.registry.write(st.now(), |b| {
                let number = b.record_registration_presearched(&actor, id, &input, pre.clone())?;
                let code = b.access_code(&number).unwrap_or_default().to_string();
                let found = b.identification(&number).map(crate::identification::IdentificationView::from);
                Ok((number, code, b.language_of(id)?, found))
            })
        })
    })
    .await?;
    tracing::info!(
        subject = %id,
        leaf = receipt.leaf_index,
        candidates = identification.as_ref().map_or(0, |i| i.candidates.len()),
        "registration recorded"
    );
    // Compared with the records of earlier registrations only (leaves before this one).
    let (comparison, face_comparison) = compare_probe(
        &st2,
        actor,
        fairgate_core::access::Purpose::Registration,
        id,
        place,
        probe,
        receipt.leaf_index,
        "POST /subjects/{id}/registrations",
    )
    .await?;
    // In the person's language (their contact details), English otherwise.
    let printed_receipt =
        fairgate_core::i18n::receipt(lang, &number.to_string(), &access_code, receipt.leaf_index, receipt.tree_size);
    Ok((
        StatusCode::CREATED,
        Json(CreatedRegistration {
            registration_number: number.to_string(),
            receipt: receipt.into(),
            printed_receipt,
            access_code,
            identification,
            comparison,
            face_comparison,
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
    /// With a fingerprint probe: match, no-match or not-checked, with the score and
    /// the threshold. A no-match refers the person to secondary inspection (recorded);
    /// the crossing is recorded whatever the comparison says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<fairgate_core::matching::Comparison>,
    /// With a photograph in the probe: the 1:1 face comparison, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_comparison: Option<fairgate_core::matching::Comparison>,
}

/// A probe, read before anything is recorded: its fingerprint records, and whether
/// a photograph came with it and, if the face matcher is installed, its embedding.
pub(crate) struct Probe {
    fingers: Vec<fairgate_core::minutiae::MinutiaeRecord>,
    face: Option<Option<[f32; fairgate_store::registry::identification::FACE_DIM]>>,
}

/// Read a request's probe; a record or photograph that cannot be read (or holds no
/// face) is refused, naming the field.
pub(crate) async fn read_probe(
    st: &AppState,
    input: Option<fairgate_core::matching::ProbeInput>,
) -> Result<Option<Probe>, Problem> {
    let Some(input) = input else { return Ok(None) };
    let invalid = |e: fairgate_core::Invalid| Problem::from(fairgate_store::RegistryError::from(e));
    let fingers = input.validate().map_err(invalid)?;
    let image = input.face_image().map_err(invalid)?;
    let st = st.clone();
    let face = match image {
        None => None,
        Some(image) => Some(blocking(move || st.registry.embed_probe_face(&image).map_err(Problem::from)).await?),
    };
    Ok(Some(Probe { fingers, face }))
}

/// Compare a probe with the person's records (before leaf `before`): fingerprints
/// if it has any, the face if it has one. Each is a logged read with its outcome
/// recorded; a no-match refers and decides nothing.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn compare_probe(
    st: &AppState,
    actor: fairgate_core::access::Actor,
    purpose: fairgate_core::access::Purpose,
    id: fairgate_core::ids::SubjectId,
    place: String,
    probe: Option<Probe>,
    before: u64,
    request: &'static str,
) -> Result<(Option<fairgate_core::matching::Comparison>, Option<fairgate_core::matching::Comparison>), Problem> {
    let Some(probe) = probe else { return Ok((None, None)) };
    let st = st.clone();
    blocking(move || {
        let fingers = if probe.fingers.is_empty() {
            None
        } else {
            let (c, _) = st
                .registry
                .verify_fingerprints(st.now(), &actor, purpose, id, &place, &probe.fingers, before, request)
                .map_err(Problem::from)?;
            tracing::info!(subject = %id, decision = ?c.decision, "fingerprints compared");
            Some(c)
        };
        let face = match probe.face {
            None => None,
            Some(embedding) => {
                let (c, _) = st
                    .registry
                    .verify_face(st.now(), &actor, purpose, id, &place, embedding, before, request)
                    .map_err(Problem::from)?;
                tracing::info!(subject = %id, decision = ?c.decision, "face compared");
                Some(c)
            }
        };
        Ok((fingers, face))
    })
    .await
}

/// Record an entry or an exit. An exit must follow the entry it closes. Officers and supervisors.
#[utoipa::path(post, path = "/subjects/{id}/crossings", tag = "subjects", request_body = CrossingInput,
    params(("id" = String, Path, description = "Subject id")),
    security(("bearer" = [])),
    responses((status = 201, body = CreatedCrossing), (status = 400, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn create_crossing(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CrossingInput>,
) -> Result<(StatusCode, Json<CreatedCrossing>), Problem> {
    let id = subject_id(&id)?;
    // A probe that cannot be read is refused before anything is recorded.
    let probe = read_probe(&st, input.probe.clone()).await?;
    let st2 = st.clone();
    let actor = caller.actor();
    let port = input.port.trim().to_uppercase();
    let ((_, overstaying), receipt) = blocking(move || {
        let actor = caller.actor();
        retrying(|| {
            // Reads only this person's rows: it may join a group commit in flight.
            st.registry.write_for(id, st.now(), |b| {
                b.record_crossing_checked(&actor, id, &input, "POST /subjects/{id}/crossings")
            })
        })
    })
    .await?;
    tracing::info!(subject = %id, leaf = receipt.leaf_index, flagged = overstaying.is_some(), "crossing recorded");
    let (comparison, face_comparison) = compare_probe(
        &st2,
        actor,
        fairgate_core::access::Purpose::BorderCheck,
        id,
        port,
        probe,
        u64::MAX,
        "POST /subjects/{id}/crossings",
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedCrossing { receipt: receipt.into(), overstaying, comparison, face_comparison }),
    ))
}
