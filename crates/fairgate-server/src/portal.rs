//! The registrants' portal: a person signs in with their registration number and
//! the access code printed on their receipt, sees every record held on them and
//! every access to it (when, which agency and role, for what purpose), and
//! downloads it all. Codes are keyed hashes kept by the registry; failed sign-ins are limited
//! per registration number. A portal session can only ever reach its own person:
//! no portal route takes a subject id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fairgate_core::access::{Actor, Purpose, Role};
use fairgate_core::ids::SubjectId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::blocking;
use crate::json::ApiJson;
use crate::problem::Problem;
use crate::views::TimelineView;
use crate::AppState;

/// Failed sign-ins allowed per registration number in [`WINDOW_MINUTES`].
pub const MAX_FAILURES: u32 = 5;
pub const WINDOW_MINUTES: i64 = 15;

/// Failed sign-ins by registration number (blind): (count, window start, ms).
pub type Failures = Arc<Mutex<HashMap<[u8; 32], (u32, i64)>>>;

#[derive(Debug, Deserialize, ToSchema)]
pub struct PortalLogin {
    /// As printed on the receipt, e.g. FG-XXXXX-XXXXX-C.
    pub registration_number: String,
    /// As printed on the receipt, e.g. K7QM-3XTP-9RWA.
    pub access_code: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PortalSession {
    /// Send as `Authorization: Bearer TOKEN` to the /portal routes.
    pub token: String,
    pub expires_at: String,
}

fn refused() -> Problem {
    Problem::unauthorized("the registration number or the access code is not right: check both on your receipt")
}

/// Sign in to the portal with the registration number and access code from the receipt.
#[utoipa::path(post, path = "/portal/login", tag = "portal", request_body = PortalLogin,
    responses((status = 200, body = PortalSession), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn login(
    State(st): State<AppState>,
    ApiJson(body): ApiJson<PortalLogin>,
) -> Result<Json<PortalSession>, Problem> {
    let now = st.now();
    let blind = st.registry.registration_blind(&body.registration_number);
    {
        let failures = st.portal_failures.lock().map_err(|_| Problem::internal())?;
        if let Some((n, since)) = failures.get(&blind) {
            if *n >= MAX_FAILURES && now.as_millisecond() - since < WINDOW_MINUTES * 60_000 {
                return Err(Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too-many-attempts",
                    "Too many attempts",
                    format!("too many wrong codes for this registration number: wait {WINDOW_MINUTES} minutes, or ask an office for a new code"),
                ));
            }
        }
    }
    let st2 = st.clone();
    let secret = st.random::<32>();
    let outcome = blocking(move || {
        st2.registry
            .portal_sign_in(st2.now(), &body.registration_number, &body.access_code, secret)
            .map_err(|_| Problem::internal())
    })
    .await?;
    let Some(session) = outcome else {
        let mut failures = st.portal_failures.lock().map_err(|_| Problem::internal())?;
        let e = failures.entry(blind).or_insert((0, now.as_millisecond()));
        if now.as_millisecond() - e.1 >= WINDOW_MINUTES * 60_000 {
            *e = (0, now.as_millisecond());
        }
        e.0 += 1;
        return Err(refused());
    };
    if let Ok(mut f) = st.portal_failures.lock() {
        f.remove(&blind);
    }
    tracing::info!("portal sign-in");
    Ok(Json(PortalSession { token: session.token, expires_at: session.expires.to_string() }))
}

/// A signed-in registrant: their own subject only.
pub struct Registrant {
    pub subject: SubjectId,
}

impl Registrant {
    /// The registrant acts under an id bound to their own person, so the registry
    /// refuses them anyone else's records (`policy::own_records`).
    fn actor(&self) -> Actor {
        Actor::new(fairgate_core::policy::registrant_id(&self.subject), Role::Registrant, "the person themselves")
    }
}

impl FromRequestParts<AppState> for Registrant {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Problem> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| t.starts_with("fgp_"))
            .ok_or_else(|| {
                Problem::unauthorized("sign in at POST /portal/login and send `Authorization: Bearer TOKEN`")
            })?
            .to_string();
        let st = st.clone();
        blocking(move || {
            let subject = st
                .registry
                .portal_subject(st.now(), &token)
                .map_err(|_| Problem::internal())?
                .ok_or_else(|| {
                    Problem::unauthorized(
                        "the portal session has expired, is not valid, or its records are no longer held: sign in again",
                    )
                })?;
            Ok(Registrant { subject })
        })
        .await
    }
}

/// Every record held on the signed-in person. The read is logged (subject-access).
#[utoipa::path(get, path = "/portal/records", tag = "portal", security(("bearer" = [])),
    responses((status = 200, body = TimelineView), (status = 401, body = Problem)))]
pub async fn records(State(st): State<AppState>, me: Registrant) -> Result<Json<TimelineView>, Problem> {
    let now = st.now();
    let (t, receipt) = blocking(move || {
        st.registry
            .read_timeline(now, &me.actor(), Purpose::SubjectAccess, me.subject, "GET /portal/records")
            .map_err(Problem::from)
    })
    .await?;
    Ok(Json(TimelineView::new(t, receipt, now)))
}

/// Programs whose records of the signed-in person will be erased, and when: until
/// then, download them (`/portal/export`), for example as proof of compliance.
#[utoipa::path(get, path = "/portal/erasures", tag = "portal", security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 401, body = Problem)))]
pub async fn erasures(
    State(st): State<AppState>,
    me: Registrant,
) -> Result<Json<Vec<fairgate_store::registry::program_expungement::PendingErasure>>, Problem> {
    Ok(Json(blocking(move || st.registry.pending_erasures(me.subject).map_err(Problem::from)).await?))
}

/// Every access to the signed-in person's record: when, which agency and role, and
/// for what purpose (the accounting of disclosures).
#[utoipa::path(get, path = "/portal/disclosures", tag = "portal", security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 401, body = Problem)))]
pub async fn disclosures(
    State(st): State<AppState>,
    me: Registrant,
) -> Result<Json<Vec<fairgate_store::registry::portal::Disclosure>>, Problem> {
    let (list, _) = blocking(move || {
        st.registry
            .read_disclosures(st.now(), &me.actor(), me.subject, "GET /portal/disclosures")
            .map_err(Problem::from)
    })
    .await?;
    Ok(Json(list))
}

/// Everything, to keep: the records and the disclosures, as JSON (default) or as a
/// printable page (`format=html`).
#[utoipa::path(get, path = "/portal/export", tag = "portal", security(("bearer" = [])),
    params(("format" = Option<String>, Query, description = "json (default) or html")),
    responses((status = 200, body = Object), (status = 401, body = Problem)))]
pub async fn export(
    State(st): State<AppState>,
    me: Registrant,
    q: crate::views::QueryMap,
) -> Result<Response, Problem> {
    let html = match q.as_ref().ok().and_then(|q| q.get("format")).map(String::as_str) {
        None | Some("json") => false,
        Some("html") => true,
        Some(_) => return Err(Problem::bad_request("format", "must be json or html")),
    };
    let now = st.now();
    let (t, receipt, list, pending) = blocking(move || {
        let actor = me.actor();
        let (t, receipt) = st
            .registry
            .read_timeline(now, &actor, Purpose::SubjectAccess, me.subject, "GET /portal/export")
            .map_err(Problem::from)?;
        let (list, _) =
            st.registry.read_disclosures(now, &actor, me.subject, "GET /portal/export").map_err(Problem::from)?;
        let pending = st.registry.pending_erasures(me.subject).map_err(Problem::from)?;
        Ok((t, receipt, list, pending))
    })
    .await?;
    let view = TimelineView::new(t, receipt, now);
    if !html {
        let body = serde_json::json!({"records": view, "disclosures": list, "pending_erasures": pending, "exported_at": now.to_string()});
        return Ok(([(header::CONTENT_DISPOSITION, "attachment; filename=\"fairgate-my-records.json\"")], Json(body))
            .into_response());
    }
    let page = maud::html! {
        h1 { "Your records" }
        p { "Everything Fairgate holds on you, and everyone who looked at it, as of " (now.round(jiff::Unit::Second).unwrap_or(now)) "." }
        @for e in &pending {
            p.notice { "Your records from program " (e.program) " will be erased on " (e.erase_on) ". Keep this copy if you may need to show that you complied." }
        }
        h2 { "You" }
        p { (view.given_names) " " (view.surname) ", born " (view.birth_date) ", " (view.nationality) ". Document " (view.document.number) "." }
        h2 { "Registrations" }
        ul { @for r in &view.registrations { li { (r.registration_number) ": " (r.kind) " at " (r.place) " on " (r.at) @if r.voluntary { " (voluntary)" } } } }
        h2 { "Entries and exits" }
        ul { @for c in &view.crossings { li { (c.direction) " at " (c.port) " on " (c.at) } } }
        h2 { "Who looked at your records, and why" }
        table {
            thead { tr { th { "when" } th { "agency" } th { "role" } th { "purpose" } th { "what" } } }
            tbody { @for d in &list { tr { td { (d.at) } td { (d.agency) } td { (d.role) } td { (d.purpose) } td { (d.fields.join(", ")) } } } }
        }
    };
    Ok(crate::views::page("Your records", page).into_response())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CorrectionRequested {
    pub number: u32,
    /// The request must be answered by then (45 days).
    pub reply_due: String,
}

/// Ask for a record to be corrected: what is wrong and what it should say. It is
/// answered, with reasons, within 45 days.
#[utoipa::path(post, path = "/portal/corrections", tag = "portal", request_body = fairgate_core::correction::CorrectionInput,
    security(("bearer" = [])),
    responses((status = 201, body = CorrectionRequested), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn request_correction(
    State(st): State<AppState>,
    me: Registrant,
    ApiJson(input): ApiJson<fairgate_core::correction::CorrectionInput>,
) -> Result<(StatusCode, Json<CorrectionRequested>), Problem> {
    let ((number, due), _) = blocking(move || {
        st.registry.write(st.now(), |b| b.request_correction(&me.actor(), me.subject, &input)).map_err(Problem::from)
    })
    .await?;
    tracing::info!(correction = number, "correction requested");
    Ok((StatusCode::CREATED, Json(CorrectionRequested { number, reply_due: due.to_string() })))
}

/// The signed-in person's correction requests, with their answers and status.
#[utoipa::path(get, path = "/portal/corrections", tag = "portal", security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 401, body = Problem)))]
pub async fn list_corrections(
    State(st): State<AppState>,
    me: Registrant,
) -> Result<Json<Vec<serde_json::Value>>, Problem> {
    let now = st.now();
    let (t, receipt) = blocking(move || {
        st.registry
            .read_timeline(now, &me.actor(), Purpose::SubjectAccess, me.subject, "GET /portal/corrections")
            .map_err(Problem::from)
    })
    .await?;
    Ok(Json(TimelineView::new(t, receipt, now).corrections))
}

/// Answer a correction request, with reasons. Supervisors.
#[utoipa::path(post, path = "/subjects/{id}/corrections/{number}/answer", tag = "portal",
    request_body = fairgate_core::correction::AnswerInput,
    params(("id" = String, Path, description = "Subject id"), ("number" = u32, Path, description = "Request number")),
    security(("bearer" = [])),
    responses((status = 201, body = crate::views::Recorded), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn answer_correction(
    State(st): State<AppState>,
    caller: crate::auth::Caller,
    axum::extract::Path((id, number)): axum::extract::Path<(String, u32)>,
    ApiJson(input): ApiJson<fairgate_core::correction::AnswerInput>,
) -> Result<(StatusCode, Json<crate::views::Recorded>), Problem> {
    let id = crate::views::subject_id(&id)?;
    let ((), receipt) = blocking(move || {
        st.registry.write(st.now(), |b| b.answer_correction(&caller.actor(), id, number, &input)).map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, correction = number, "correction answered");
    Ok((StatusCode::CREATED, Json(crate::views::Recorded { receipt: receipt.into() })))
}
