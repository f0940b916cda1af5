//! The registrants' portal: a person activates it once with their registration
//! number and the one-time activation code printed on their receipt, choosing a
//! passphrase of their own; then signs in with the number and the passphrase, sees
//! every record held on them and every access to it (when, which agency and role,
//! for what purpose), and downloads it all. A supervisor can issue a new code (with
//! a reason the person sees). Failed attempts are limited per registration number
//! and per address (`limits`), and never with a staff credential on the request. A portal session can only ever reach its own person:
//! no portal route takes a subject id.

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

pub use crate::limits::WINDOW_MINUTES;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalLogin {
    /// As printed on the receipt, e.g. FG-XXXXX-XXXXX-C.
    pub registration_number: String,
    /// The passphrase chosen at activation.
    pub passphrase: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalActivation {
    /// As printed on the receipt, e.g. FG-XXXXX-XXXXX-C.
    pub registration_number: String,
    /// The one-time activation code printed on the receipt, e.g. K7QM-3XTP-9RWA.
    pub access_code: String,
    /// A passphrase of your own, 12 characters or more: you sign in with it from now on.
    pub passphrase: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PortalSession {
    /// Send as `Authorization: Bearer TOKEN` to the /portal routes.
    pub token: String,
    pub expires_at: String,
}

fn too_many() -> Problem {
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-attempts",
        "Too many attempts",
        format!("too many failed attempts for this registration number or from this address: wait {WINDOW_MINUTES} minutes, or ask an office for a new activation code"),
    )
}

/// A portal session is opened by the person, never with a member of staff's
/// credentials: a request that carries a staff token or web session is refused.
fn refuse_staff(headers: &axum::http::HeaderMap) -> Result<(), Problem> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("Bearer fg_") || v.trim_start().starts_with("Bearer fs_"));
    let cookie = crate::auth::cookie(headers, crate::auth::SESSION_COOKIE).is_some();
    if bearer || cookie {
        return Err(Problem::forbidden(
            "staff-credentials",
            "a portal session is the person's own: it cannot be opened with a staff token or web session. Sign out of the desk (and send no Authorization header) first",
        ));
    }
    Ok(())
}

/// The limit keys of a portal attempt (the registration number and the address)
/// and its time; refused when the limit is spent, or with staff credentials.
pub(crate) fn admit_attempt(
    st: &AppState,
    headers: &axum::http::HeaderMap,
    addr: crate::limits::ClientAddr,
    number: &str,
) -> Result<([crate::limits::Key; 2], jiff::Timestamp), Problem> {
    refuse_staff(headers)?;
    let now = st.now();
    let keys =
        [crate::limits::Key::Registration(st.registry.registration_blind(number)), crate::limits::Key::Address(addr.0)];
    if !st.limits.allowed(&keys, now) {
        return Err(too_many());
    }
    Ok((keys, now))
}

/// Open the portal for the first time: the registration number and the one-time
/// activation code from the receipt, and a passphrase of your own. The code is
/// void from then on (and 30 days after it was issued). If the portal was already
/// opened with your code and it was not you, ask an office for a new code: the
/// activation you did not make stays on your record.
#[utoipa::path(post, path = "/portal/activate", tag = "portal", request_body = PortalActivation,
    responses((status = 200, body = PortalSession), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn activate(
    State(st): State<AppState>,
    headers: axum::http::HeaderMap,
    addr: crate::limits::ClientAddr,
    ApiJson(body): ApiJson<PortalActivation>,
) -> Result<Json<PortalSession>, Problem> {
    let (keys, now) = admit_attempt(&st, &headers, addr, &body.registration_number)?;
    let st2 = st.clone();
    let secret = st.random::<48>();
    let outcome = crate::limits::hashing(&st, move || {
        st2.registry
            .activate_portal(st2.now(), &body.registration_number, &body.access_code, &body.passphrase, secret)
            .map_err(Problem::from)
    })
    .await?;
    use fairgate_store::registry::portal::ActivationRefused as R;
    let session = match outcome {
        Ok(s) => s,
        Err(R::Wrong) => {
            st.limits.failed(&keys, now);
            return Err(Problem::unauthorized(
                "the registration number or the activation code is not right: check both on your receipt",
            ));
        }
        // Not when: whoever holds the receipt (the officer who printed it, too) must
        // not learn when the person opened their portal. The person sees it, dated,
        // in their records.
        Err(R::Used(_)) => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "already-activated",
                "Already activated",
                "this activation code was already used (or replaced): sign in with your passphrase. If you did not activate the portal, ask an office for a new code; the activation stays on your record, dated, for you to see",
            ))
        }
        Err(R::Expired) => {
            return Err(Problem::new(
                StatusCode::GONE,
                "code-expired",
                "Activation code expired",
                "this activation code is more than 30 days old: ask an office for a new one",
            ))
        }
    };
    st.limits.succeeded(&keys);
    tracing::info!("portal activated");
    Ok(Json(PortalSession { token: session.token, expires_at: session.expires.to_string() }))
}

/// Sign in to the portal with a registration number from your receipt and the
/// passphrase you chose when you activated it.
#[utoipa::path(post, path = "/portal/login", tag = "portal", request_body = PortalLogin,
    responses((status = 200, body = PortalSession), (status = 401, body = Problem), (status = 403, body = Problem), (status = 429, body = Problem)))]
pub async fn login(
    State(st): State<AppState>,
    headers: axum::http::HeaderMap,
    addr: crate::limits::ClientAddr,
    ApiJson(body): ApiJson<PortalLogin>,
) -> Result<Json<PortalSession>, Problem> {
    let (keys, now) = admit_attempt(&st, &headers, addr, &body.registration_number)?;
    let st2 = st.clone();
    let secret = st.random::<32>();
    let outcome = crate::limits::hashing(&st, move || {
        st2.registry
            .portal_sign_in(st2.now(), &body.registration_number, &body.passphrase, secret)
            .map_err(|_| Problem::internal())
    })
    .await?;
    let Some(session) = outcome else {
        st.limits.failed(&keys, now);
        return Err(Problem::unauthorized(
            "the registration number or the passphrase is not right, or the portal is not activated yet: activate it at POST /portal/activate with the code on your receipt",
        ));
    };
    st.limits.succeeded(&keys);
    tracing::info!("portal sign-in");
    Ok(Json(PortalSession { token: session.token, expires_at: session.expires.to_string() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReissueInput {
    /// Why a new code is needed (shown to the person), e.g. "receipt lost".
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Reissued {
    pub registration_number: String,
    /// The new one-time activation code, shown once: print it for the person.
    pub access_code: String,
    pub receipt: crate::views::ReceiptView,
}

/// Issue the person a new portal activation code. Supervisors, with a reason the
/// person will see. The old code and the person's passphrase are void.
#[utoipa::path(post, path = "/subjects/{id}/access-code", tag = "portal", request_body = ReissueInput,
    params(("id" = String, Path, description = "Subject id")),
    security(("bearer" = [])),
    responses((status = 201, body = Reissued), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn reissue(
    State(st): State<AppState>,
    caller: crate::auth::Caller,
    crate::json::Path(id): crate::json::Path<String>,
    ApiJson(input): ApiJson<ReissueInput>,
) -> Result<(StatusCode, Json<Reissued>), Problem> {
    let id = crate::views::subject_id(&id)?;
    let ((number, code), receipt) = blocking(move || {
        st.registry
            .write(st.now(), |b| b.reissue_access_code(&caller.actor(), id, &input.reason))
            .map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, leaf = receipt.leaf_index, "activation code re-issued");
    Ok((
        StatusCode::CREATED,
        Json(Reissued { registration_number: number.to_string(), access_code: code, receipt: receipt.into() }),
    ))
}

/// A signed-in registrant: their own subject only.
pub struct Registrant {
    pub subject: SubjectId,
}

impl Registrant {
    /// The registrant acts under an id bound to their own person, so the registry
    /// refuses them anyone else's records (`policy::own_records`).
    pub(crate) fn actor(&self) -> Actor {
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
                // A database that cannot be reached answers 503 (try again), not 500.
                .map_err(Problem::from)?
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
    export_for(st, me, html, "GET /portal/export").await
}

/// Everything held on the person and every access to it (reads logged), as JSON
/// to download or as a page in their language; the API and the web portal both.
pub(crate) async fn export_for(
    st: AppState,
    me: Registrant,
    html: bool,
    request: &'static str,
) -> Result<Response, Problem> {
    let now = st.now();
    let (t, receipt, list, pending) = blocking(move || {
        let actor = me.actor();
        let (t, receipt) = st
            .registry
            .read_timeline(now, &actor, Purpose::SubjectAccess, me.subject, request)
            .map_err(Problem::from)?;
        let (list, _) = st.registry.read_disclosures(now, &actor, me.subject, request).map_err(Problem::from)?;
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
    let lang = view.contact.as_ref().map(|c| c.language).unwrap_or_default();
    let t = |id: &str, args: &[(&str, &str)]| fairgate_core::i18n::text(lang, id, args);
    let when = now.round(jiff::Unit::Second).unwrap_or(now).to_string();
    let names = format!("{} {}", view.given_names, view.surname);
    let page = maud::html! {
        h1 { (t("portal-records-title", &[])) }
        p { (t("portal-records-intro", &[("when", &when)])) }
        @for e in &pending {
            p.notice { (t("portal-erasure", &[("program", &e.program), ("day", &e.erase_on.to_string())])) }
        }
        h2 { (t("portal-you", &[])) }
        p { (t("portal-person", &[("names", &names), ("born", &view.birth_date), ("nationality", &view.nationality), ("document", &view.document.number)])) }
        h2 { (t("portal-registrations", &[])) }
        ul { @for r in &view.registrations { li {
            (t("portal-registration", &[("number", &r.registration_number), ("kind", &r.kind), ("place", &r.place), ("at", &r.at)]))
            @if r.voluntary { " " (t("portal-voluntary", &[])) }
        } } }
        h2 { (t("portal-crossings", &[])) }
        ul { @for c in &view.crossings { li { (t("portal-crossing", &[("direction", &c.direction), ("port", &c.port), ("at", &c.at)])) } } }
        h2 { (t("portal-disclosures", &[])) }
        table {
            thead { tr { th { (t("portal-col-when", &[])) } th { (t("portal-col-agency", &[])) } th { (t("portal-col-role", &[])) } th { (t("portal-col-purpose", &[])) } th { (t("portal-col-what", &[])) } } }
            tbody { @for d in &list { tr { td { (d.at) } td { (d.agency) } td { (d.role) } td { (d.purpose) } td { (d.fields.join(", ")) } } } }
        }
    };
    Ok(crate::views::page_in(lang, &t("portal-records-title", &[]), page).into_response())
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

/// Report one's own change of address, employer or school, with the new one (the
/// latest address is where notices send the person). A ledger event, sealed.
#[utoipa::path(post, path = "/portal/changes", tag = "portal", request_body = fairgate_core::obligation::ChangeInput,
    security(("bearer" = [])),
    responses((status = 201, body = crate::views::Recorded), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn report_change(
    State(st): State<AppState>,
    me: Registrant,
    ApiJson(input): ApiJson<fairgate_core::obligation::ChangeInput>,
) -> Result<(StatusCode, Json<crate::views::Recorded>), Problem> {
    let ((), receipt) = blocking(move || {
        st.registry.write(st.now(), |b| b.report_change(&me.actor(), me.subject, &input)).map_err(Problem::from)
    })
    .await?;
    tracing::info!(leaf = receipt.leaf_index, "change reported in the portal");
    Ok((StatusCode::CREATED, Json(crate::views::Recorded { receipt: receipt.into() })))
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
    crate::json::Path((id, number)): crate::json::Path<(String, u32)>,
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
