//! The top of the server: every route, the policy row each route is guarded by,
//! the guard itself, and the whole application. Feature modules hold the handlers;
//! `auth`, `views`, `json` and `problem` below them hold what they share.
//!
//! Every API route has one row in [`ROUTE_POLICY`]: public, the portal, any staff
//! account, a command ([`Action`]) or a read ([`Read`]). The guard looks the
//! matched route up and refuses (403) what the core's policy refuses before the
//! handler parses anything; the registry checks the same policy again at the
//! command or read itself. A route with no row is refused (fail closed), and a test
//! walks the OpenAPI document so that a new route without a row fails the build.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fairgate_core::policy::{self, Action, Read};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{caller_of, purpose_of};
use crate::problem::Problem;
use crate::{
    biometrics, compliance, designations, documents, expungement, identification, law_enforcement, log, notices,
    places, portal, programs, subjects, transparency, visits, web,
};
use crate::{logging, AppState, BODY_LIMIT};

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
        (name = "offices", description = "Appointments, the desk queue and interviews at offices"),
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

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Anyone, signed in or not: the log, the report, the public lists.
    Public,
    /// A registrant with a portal session (bound to one person by the registry).
    Portal,
    /// Any staff account; the registry decides the rest (the impact analysis over
    /// a given population, say).
    Staff,
    /// A command: the caller's role must be allowed the action.
    Command(Action),
    /// A read of personal data: the caller's role and the read must both allow the
    /// stated `Fairgate-Purpose`.
    Read(Read),
}

/// The policy row of every API route: (method, path template, guard).
pub const ROUTE_POLICY: &[(&str, &str, Guard)] = &[
    ("GET", "/healthz", Guard::Public),
    ("GET", "/access-policy", Guard::Public),
    ("GET", "/ports", Guard::Public),
    ("GET", "/offices", Guard::Public),
    ("GET", "/programs", Guard::Public),
    ("POST", "/programs", Guard::Command(Action::ProgramDraft)),
    ("GET", "/programs/{id}", Guard::Public),
    ("POST", "/programs/impact", Guard::Staff),
    ("POST", "/programs/{id}/plan", Guard::Staff),
    ("POST", "/documents/mrz", Guard::Staff),
    ("POST", "/subjects/{id}/documents", Guard::Command(Action::AddDocument)),
    ("POST", "/programs/{id}/activate", Guard::Command(Action::ProgramActivate)),
    ("POST", "/programs/{id}/sign-off", Guard::Command(Action::ProgramSignOff)),
    ("POST", "/programs/{id}/repeal", Guard::Command(Action::ProgramRepeal)),
    ("POST", "/subjects/{id}/designations", Guard::Command(Action::Designate)),
    ("POST", "/subjects/{id}/designations/{number}/review", Guard::Command(Action::ReviewDesignation)),
    ("GET", "/designations/stats", Guard::Command(Action::DesignationStatistics)),
    ("GET", "/subjects/{id}/obligations", Guard::Read(Read::Obligations)),
    ("GET", "/subjects/{id}/clearance", Guard::Read(Read::Clearance)),
    ("POST", "/subjects/{id}/notices", Guard::Command(Action::ServeNotice)),
    ("POST", "/subjects/{id}/excuses", Guard::Command(Action::Excuse)),
    ("POST", "/subjects/{id}/excuses/approve", Guard::Command(Action::ApproveExcuse)),
    ("POST", "/subjects/{id}/determinations", Guard::Command(Action::Determine)),
    ("POST", "/subjects/{id}/changes", Guard::Command(Action::ReportChange)),
    ("GET", "/subjects/{id}/notice", Guard::Read(Read::Notice)),
    ("POST", "/subjects/{id}/expunge/approve", Guard::Command(Action::ApproveExpungement)),
    ("POST", "/subjects/{id}/expunge", Guard::Command(Action::Expunge)),
    ("GET", "/expungements", Guard::Public),
    ("GET", "/authorities", Guard::Public),
    ("POST", "/authorities", Guard::Command(Action::ManageAuthorities)),
    ("GET", "/places", Guard::Public),
    ("POST", "/places", Guard::Command(Action::ManagePlaces)),
    ("PUT", "/places/{code}", Guard::Command(Action::ManagePlaces)),
    ("POST", "/places/{code}/close", Guard::Command(Action::ManagePlaces)),
    ("POST", "/subjects/{id}/appointments", Guard::Command(Action::BookAppointment)),
    ("POST", "/portal/appointments", Guard::Portal),
    ("GET", "/offices/{code}/queue", Guard::Read(Read::DeskQueue)),
    ("POST", "/offices/{code}/queue", Guard::Command(Action::ServeDesk)),
    ("POST", "/offices/{code}/queue/call", Guard::Command(Action::ServeDesk)),
    ("POST", "/offices/{code}/queue/{subject}/done", Guard::Command(Action::ServeDesk)),
    ("POST", "/subjects/{id}/interviews", Guard::Command(Action::RecordInterview)),
    ("POST", "/subjects/{id}/contact", Guard::Command(Action::SetContact)),
    ("POST", "/portal/contact", Guard::Portal),
    ("GET", "/portal/notices", Guard::Portal),
    ("POST", "/notices/letters", Guard::Read(Read::PendingNotices)),
    ("POST", "/programs/{id}/expunge/approve", Guard::Command(Action::ApproveProgramExpungement)),
    ("POST", "/programs/{id}/expunge/notice", Guard::Command(Action::NoticeProgramExpungement)),
    ("POST", "/programs/{id}/expunge", Guard::Command(Action::ExpungeProgram)),
    ("GET", "/portal/erasures", Guard::Portal),
    ("POST", "/portal/login", Guard::Public),
    ("POST", "/portal/activate", Guard::Public),
    ("POST", "/subjects/{id}/access-code", Guard::Command(Action::ReissueAccessCode)),
    ("GET", "/portal/records", Guard::Portal),
    ("GET", "/portal/disclosures", Guard::Portal),
    ("GET", "/portal/export", Guard::Portal),
    ("POST", "/portal/corrections", Guard::Portal),
    ("POST", "/portal/changes", Guard::Portal),
    ("GET", "/portal/corrections", Guard::Portal),
    ("POST", "/subjects/{id}/corrections/{number}/answer", Guard::Command(Action::AnswerCorrection)),
    ("POST", "/subjects/{id}/law-enforcement", Guard::Command(Action::RequestLawEnforcement)),
    ("POST", "/subjects/{id}/law-enforcement/{number}/approve", Guard::Command(Action::ApproveLawEnforcement)),
    ("POST", "/subjects/{id}/law-enforcement/{number}/review", Guard::Command(Action::ReviewEmergencyAccess)),
    ("GET", "/law-enforcement/queue", Guard::Command(Action::LawEnforcementQueue)),
    ("GET", "/identification/reviews", Guard::Read(Read::IdentificationReviews)),
    ("POST", "/identification/reviews/{subject}", Guard::Command(Action::DecideIdentification)),
    ("POST", "/subjects", Guard::Command(Action::CreateSubject)),
    ("POST", "/subjects/lookup", Guard::Read(Read::DocumentLookup)),
    ("GET", "/subjects/{id}", Guard::Read(Read::Timeline)),
    ("GET", "/subjects/{id}/stay", Guard::Read(Read::Stay)),
    ("GET", "/subjects/{id}/biometrics", Guard::Read(Read::Biometrics)),
    ("GET", "/overstays", Guard::Read(Read::OverstayList)),
    ("GET", "/overstays.csv", Guard::Read(Read::OverstayList)),
    ("POST", "/subjects/{id}/registrations", Guard::Command(Action::RecordRegistration)),
    ("POST", "/subjects/{id}/crossings", Guard::Command(Action::RecordCrossing)),
    ("GET", "/log/checkpoint", Guard::Public),
    ("GET", "/log/key", Guard::Public),
    ("GET", "/log/leaves", Guard::Public),
    ("GET", "/log/proof/inclusion", Guard::Public),
    ("GET", "/log/proof/consistency", Guard::Public),
    ("GET", "/transparency.json", Guard::Public),
    ("GET", "/transparency/{file}", Guard::Public),
];

/// The guard of a route, if it has a row.
pub fn guard_of(method: &Method, path: &str) -> Option<Guard> {
    ROUTE_POLICY.iter().find(|(m, p, _)| *m == method.as_str() && *p == path).map(|(_, _, g)| *g)
}

/// Refuse what the policy refuses before the handler runs. The caller it resolved
/// is handed on in the request's extensions, so the handler does not look it up again.
async fn guard(State(st): State<AppState>, matched: Option<MatchedPath>, mut req: Request, next: Next) -> Response {
    let path = matched.as_ref().map(|m| m.as_str()).unwrap_or("");
    let Some(g) = guard_of(req.method(), path) else {
        return Problem::forbidden(
            "no-policy",
            "this route has no row in the access policy, so it is refused: add one to ROUTE_POLICY",
        )
        .into_response();
    };
    match check(&st, g, &mut req).await {
        Ok(()) => next.run(req).await,
        Err(p) => p.into_response(),
    }
}

/// Ask the policy about one request; a staff caller it resolves goes into the
/// request's extensions for the handler.
async fn check(st: &AppState, g: Guard, req: &mut Request) -> Result<(), Problem> {
    if matches!(g, Guard::Public | Guard::Portal) {
        return Ok(());
    }
    // Guessing tokens is limited per address, like guessing passwords.
    let addr = [crate::limits::Key::Address(crate::limits::ClientAddr::of(req.extensions()).0)];
    let now = st.now();
    if !st.limits.allowed(&addr, now) {
        return Err(Problem::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "too-many-attempts",
            "Too many attempts",
            format!(
                "too many requests with tokens that are not valid from this address: wait {} minutes",
                crate::limits::WINDOW_MINUTES
            ),
        ));
    }
    let caller = match caller_of(st, req.headers()).await {
        Ok(c) => c,
        Err(p) => {
            // Only a token that is not valid counts as a guess: a lookup that failed
            // (the database is failing over) must not lock every client out.
            if p.status == 401 && req.headers().contains_key(axum::http::header::AUTHORIZATION) {
                st.limits.failed(&addr, now);
            }
            return Err(p);
        }
    };
    let actor = caller.actor();
    match g {
        Guard::Command(action) => policy::authorize(&actor, action)?,
        Guard::Read(read) => {
            let purpose = purpose_of(&caller, req.headers())?;
            if let Err(refusal) = policy::authorize_read(&actor, read, purpose) {
                // Every attempt is on record, refused ones too (naming nobody).
                let (st, actor) = (st.clone(), actor.clone());
                let request = format!(
                    "{} {}",
                    req.method(),
                    req.extensions().get::<MatchedPath>().map(|m| m.as_str()).unwrap_or("")
                );
                let _ = tokio::task::spawn_blocking(move || {
                    st.registry.record_refused_read(st.now(), &actor, read, purpose, &request)
                })
                .await;
                return Err(refusal.into());
            }
        }
        _ => {}
    }
    req.extensions_mut().insert(caller);
    Ok(())
}

/// The access policy: who may run each command, read for which purpose, and which
/// steps two different people must take. Public, for oversight bodies.
#[utoipa::path(get, path = "/access-policy", tag = "transparency",
    responses((status = 200, body = Object, description = "The policy, as in docs/access-policy.md")))]
pub async fn access_policy() -> Json<policy::Published> {
    Json(policy::published())
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(subjects::healthz))
        .routes(routes!(access_policy))
        .routes(routes!(subjects::list_ports))
        .routes(routes!(subjects::list_offices))
        .routes(routes!(programs::list_programs, programs::add_program))
        .routes(routes!(programs::show_program))
        .routes(routes!(programs::program_impact))
        .routes(routes!(programs::activate_program))
        .routes(routes!(programs::sign_off_program))
        .routes(routes!(programs::repeal_program))
        .routes(routes!(designations::designate))
        .routes(routes!(designations::review))
        .routes(routes!(designations::stats))
        .routes(routes!(compliance::get_obligations))
        .routes(routes!(compliance::get_clearance))
        .routes(routes!(compliance::post_notice))
        .routes(routes!(compliance::post_excuse))
        .routes(routes!(compliance::approve_excuse))
        .routes(routes!(compliance::post_determination))
        .routes(routes!(compliance::post_change))
        .routes(routes!(compliance::get_notice))
        .routes(routes!(expungement::approve))
        .routes(routes!(expungement::expunge))
        .routes(routes!(expungement::list))
        .routes(routes!(expungement::authorities, expungement::add_authority))
        .routes(routes!(expungement::approve_program))
        .routes(routes!(expungement::notice_program))
        .routes(routes!(expungement::expunge_program))
        .routes(routes!(portal::erasures))
        .routes(routes!(portal::login))
        .routes(routes!(portal::activate))
        .routes(routes!(portal::reissue))
        .routes(routes!(law_enforcement::queue))
        .routes(routes!(portal::records))
        .routes(routes!(portal::disclosures))
        .routes(routes!(portal::export))
        .routes(routes!(portal::request_correction, portal::list_corrections))
        .routes(routes!(portal::report_change))
        .routes(routes!(portal::answer_correction))
        .routes(routes!(law_enforcement::request))
        .routes(routes!(law_enforcement::approve))
        .routes(routes!(law_enforcement::review))
        .routes(routes!(documents::read_mrz))
        .routes(routes!(places::list, places::add))
        .routes(routes!(places::edit))
        .routes(routes!(places::close))
        .routes(routes!(visits::book))
        .routes(routes!(identification::reviews))
        .routes(routes!(identification::decide))
        .routes(routes!(visits::portal_book))
        .routes(routes!(visits::queue, visits::check_in))
        .routes(routes!(visits::call))
        .routes(routes!(visits::done))
        .routes(routes!(visits::interview))
        .routes(routes!(notices::set_contact))
        .routes(routes!(notices::portal_contact))
        .routes(routes!(notices::portal_notices))
        .routes(routes!(notices::letters))
        .routes(routes!(programs::program_plan))
        .routes(routes!(subjects::create_subject))
        .routes(routes!(subjects::add_document))
        .routes(routes!(subjects::lookup_subjects))
        .routes(routes!(subjects::get_subject))
        .routes(routes!(subjects::get_stay))
        .routes(routes!(biometrics::export))
        .routes(routes!(subjects::list_overstays))
        .routes(routes!(subjects::overstays_csv))
        .routes(routes!(subjects::create_registration))
        .routes(routes!(subjects::create_crossing))
        .routes(routes!(log::log_checkpoint))
        .routes(routes!(log::log_key))
        .routes(routes!(log::log_leaves))
        .routes(routes!(log::log_inclusion))
        .routes(routes!(log::log_consistency))
        .routes(routes!(transparency::report_json))
        .routes(routes!(transparency::report_csv))
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    with_common_responses(router().split_for_parts().1)
}

/// Document, on every operation, the answers that come from the layers every route
/// passes through rather than from its handler, each as `application/problem+json`
/// (as every error is sent): a malformed request (400) and an unreachable database
/// (503) anywhere; no valid credential (401), a refusal by the access policy (403)
/// and too many failed credentials (429) where a credential is needed; a body too
/// large (413), not JSON (415) or with an invalid field (422) where there is a body;
/// and no such resource (404) where the path names one. A handler's own errors,
/// documented with `body = Problem`, are sent as problem+json too: said so here.
/// The document `GET /openapi.json` serves: [`openapi`] with OpenAPI links from
/// `POST /subjects` (its 201 answer's `id`) to every operation on `/subjects/{id}…`,
/// what a client does next with a person it registered, and what stateful testing
/// (Schemathesis) follows to build sequences of calls. Added to the JSON: utoipa's
/// `Link` writes `operationRef` as `operation_ref`.
pub fn document(doc: utoipa::openapi::OpenApi) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let mut v = serde_json::to_value(&doc).unwrap_or(Value::Null);
    let mut links = Map::new();
    if let Some(paths) = v.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(rest) = path.strip_prefix("/subjects/{id}") else { continue };
            let Some(item) = item.as_object() else { continue };
            for method in item.keys().filter(|m| ["get", "post", "put", "delete", "patch"].contains(&m.as_str())) {
                // The operation's JSON pointer: '/' is written '~1' (RFC 6901).
                let pointer = format!("#/paths/{}/{method}", path.replace('~', "~0").replace('/', "~1"));
                let name: String = format!("{method}-subject{rest}")
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                links.insert(
                    name.trim_end_matches('-').to_string(),
                    json!({ "operationRef": pointer, "parameters": { "path.id": "$response.body#/id" } }),
                );
            }
        }
    }
    if let Some(created) = v.pointer_mut("/paths/~1subjects/post/responses/201").and_then(Value::as_object_mut) {
        created.insert("links".into(), Value::Object(links));
    }
    v
}

fn with_common_responses(doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use serde_json::{json, Value};
    let Ok(mut v) = serde_json::to_value(&doc) else { return doc };
    let problem = json!({ "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } });
    /// (status, description, whether it applies to an operation at a path).
    type Common = (&'static str, &'static str, fn(&Value, &str) -> bool);
    let common: [Common; 9] = [
        (
            "400",
            "The request is malformed: a header, the path, the query or the body (the problem says which).",
            |_, _| true,
        ),
        ("401", "No valid credential: send `Authorization: Bearer TOKEN`.", |op, _| secured(op)),
        ("403", "The access policy refuses this role, purpose or step (GET /access-policy).", |op, _| secured(op)),
        ("404", "Nothing has the id or code the path names.", |_, path| path.contains('{')),
        ("413", "The body is larger than this route accepts.", |op, _| op.get("requestBody").is_some()),
        ("415", "The body is not JSON: send `Content-Type: application/json`.", |op, _| {
            op.get("requestBody").is_some()
        }),
        ("422", "A field is invalid: `errors` names each one and what to do.", |op, _| op.get("requestBody").is_some()),
        ("429", "Too many failed credentials from this address: try again after `Retry-After` seconds.", |op, _| {
            secured(op)
        }),
        ("503", "The database cannot be reached now: try again after `Retry-After` seconds.", |_, _| true),
    ];
    fn secured(op: &Value) -> bool {
        op.get("security").and_then(Value::as_array).is_some_and(|s| !s.is_empty())
    }
    if let Some(paths) = v.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, op) in item.iter_mut() {
                if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    continue;
                }
                let flags: Vec<bool> = common.iter().map(|(_, _, applies)| applies(op, path)).collect();
                let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
                for (code, response) in responses.iter_mut() {
                    let error = code.starts_with('4') || code.starts_with('5');
                    if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) {
                        if error {
                            if let Some(body) = content.remove("application/json") {
                                content.insert("application/problem+json".into(), body);
                            }
                        }
                    }
                }
                for ((code, description, _), applies) in common.iter().zip(flags) {
                    if applies && !responses.contains_key(*code) {
                        responses.insert(
                            code.to_string(),
                            json!({ "description": description, "content": problem.clone() }),
                        );
                    }
                }
            }
        }
    }
    serde_json::from_value(v).unwrap_or(doc)
}

/// The web pages (server-rendered HTML; they handle their own session cookie).
fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(web::home))
        .route("/login", get(web::login_page).post(web::login_submit))
        .route("/logout", post(web::logout))
        .route("/transparency", get(transparency::report_page))
        .route("/assets/{version}/{*path}", get(crate::assets::serve))
        .route("/public/calculator", get(crate::public::calculator).post(crate::public::calculate))
        .route("/public/programs", get(crate::public::programs))
        .route("/public/policy", get(crate::public::policy))
        .route("/public/log", get(crate::public::log))
        .route("/public/expungements", get(crate::public::expungements))
        .route("/portal", get(crate::portal_web::portal))
        .route("/portal/me", get(crate::portal_web::me))
        .route("/portal/web/activate", post(crate::portal_web::activate))
        .route("/portal/web/login", post(crate::portal_web::login))
        .route("/portal/web/logout", post(crate::portal_web::logout))
        .route("/portal/web/appointment", post(crate::portal_web::appointment))
        .route("/portal/web/correction", post(crate::portal_web::correction))
        .route("/portal/web/change", post(crate::portal_web::change))
        .route("/portal/web/export", get(crate::portal_web::export))
        .route("/desk", get(crate::desk::desk))
        .route("/desk/find", post(crate::desk::find))
        .route("/desk/subjects", post(crate::officer::create))
        .route("/desk/subjects/{id}", get(crate::desk::subject))
        .route(
            "/desk/subjects/{id}/register",
            get(crate::officer::register_page)
                .post(crate::officer::register)
                .layer(DefaultBodyLimit::max(crate::CAPTURE_BODY_LIMIT)),
        )
        .route(
            "/desk/subjects/{id}/crossing",
            get(crate::officer::crossing_page)
                .post(crate::officer::crossing)
                .layer(DefaultBodyLimit::max(crate::CAPTURE_BODY_LIMIT)),
        )
        .route("/desk/subjects/{id}/appointment", get(crate::office::appointment_page).post(crate::office::book))
        .route("/desk/queues/{queue}", get(crate::queues::queue))
        .route("/desk/queues/{queue}/{subject}", post(crate::queues::decide))
        .route("/desk/law-enforcement", get(crate::queues::law_enforcement))
        .route("/desk/law-enforcement/{subject}/{number}", post(crate::queues::law_enforcement_decide))
        .route("/desk/programs", get(crate::oversight::programs).post(crate::oversight::draft))
        .route("/desk/programs/{id}", get(crate::oversight::program))
        .route("/desk/programs/{id}/{step}", post(crate::oversight::step))
        .route("/desk/designations", get(crate::oversight::designations))
        .route("/desk/access-log", get(crate::oversight::access_log))
        .route("/desk/expungements", get(crate::oversight::expungements).post(crate::oversight::expunge))
        .route("/desk/accounts", get(crate::admin::accounts).post(crate::admin::add_account))
        .route("/desk/accounts/{name}/{change}", post(crate::admin::change_account))
        .route("/desk/places", get(crate::admin::places).post(crate::admin::set_place))
        .route("/desk/places/close", post(crate::admin::close_place))
        .route("/desk/keys", get(crate::admin::keys))
        .route("/desk/office", get(crate::office::office))
        .route("/desk/office/check-in", post(crate::office::check_in))
        .route("/desk/office/call", post(crate::office::call))
        .route("/desk/office/done", post(crate::office::done))
        .route("/desk/subjects/{id}/designate", get(crate::officer::designate_page).post(crate::officer::designate))
        .route("/desk/identification", get(crate::desk::identification))
        .route("/desk/identification/{subject}", post(crate::desk::decide))
        .route(
            "/static/desk.js",
            get(|| async {
                ([(axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8")], crate::officer::DESK_SCRIPT)
            }),
        )
        .route(
            "/static/fairgate.css",
            get(|| async {
                ([(axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8")], crate::views::STYLESHEET)
            }),
        )
}

/// The whole application: API (guarded route by route), OpenAPI document and web pages.
pub fn app(state: AppState) -> Router {
    let (api, doc) = router().split_for_parts();
    let api = api.route_layer(axum::middleware::from_fn_with_state(state.clone(), guard));
    let doc = Arc::new(document(with_common_responses(doc)));
    Router::new()
        .merge(api)
        .route("/openapi.json", get(move || async move { Json(doc.as_ref().clone()) }))
        .merge(pages())
        .fallback(crate::problem::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(crate::idempotency::capture))
        .layer(axum::middleware::from_fn(crate::headers::security_headers))
        .layer(axum::middleware::from_fn(logging::log_requests))
        .with_state(state)
}
