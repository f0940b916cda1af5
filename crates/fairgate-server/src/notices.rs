//! Notices that reach people, over HTTP: a person's contact details (email and
//! language; staff, or the person in the portal), the person's own notices in the
//! portal (JSON, or a printable page in their language), and the letters to print
//! (one notice a page, each in its person's language and direction).

use crate::json::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use fairgate_core::delivery::{Contact, ContactInput};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{blocking, Caller};
use crate::json::ApiJson;
use crate::portal::Registrant;
use crate::problem::Problem;
use crate::views::{subject_id, QueryMap, ReceiptView};
use crate::AppState;

/// Contact details recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactRecorded {
    pub contact: Contact,
    pub receipt: ReceiptView,
}

/// Record how a person is contacted: an email address for notices (or none) and
/// the language notices are written in (`en`, `es`, `ar`). Officers and supervisors.
#[utoipa::path(post, path = "/subjects/{id}/contact", tag = "compliance", request_body = ContactInput,
    params(("id" = String, Path, description = "Subject id")), security(("bearer" = [])),
    responses((status = 201, body = ContactRecorded), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_contact(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ContactInput>,
) -> Result<(StatusCode, Json<ContactRecorded>), Problem> {
    let id = subject_id(&id)?;
    let (contact, receipt) = blocking(move || {
        st.registry.write(st.now(), |b| b.set_contact(&caller.actor(), id, &input)).map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, leaf = receipt.leaf_index, "contact details recorded");
    Ok((StatusCode::CREATED, Json(ContactRecorded { contact, receipt: receipt.into() })))
}

/// Set one's own email address for notices and one's language.
#[utoipa::path(post, path = "/portal/contact", tag = "portal", request_body = ContactInput, security(("bearer" = [])),
    responses((status = 201, body = ContactRecorded), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn portal_contact(
    State(st): State<AppState>,
    me: Registrant,
    ApiJson(input): ApiJson<ContactInput>,
) -> Result<(StatusCode, Json<ContactRecorded>), Problem> {
    let (contact, receipt) = blocking(move || {
        st.registry.write(st.now(), |b| b.set_contact(&me.actor(), me.subject, &input)).map_err(Problem::from)
    })
    .await?;
    tracing::info!(leaf = receipt.leaf_index, "contact details set in the portal");
    Ok((StatusCode::CREATED, Json(ContactRecorded { contact, receipt: receipt.into() })))
}

/// One's own open notices, in one's language: JSON, or `?format=html` a printable
/// page. The read is logged like every other.
#[utoipa::path(get, path = "/portal/notices", tag = "portal", security(("bearer" = [])),
    params(("format" = Option<String>, Query, description = "json (default) or html")),
    responses((status = 200, body = Vec<Object>), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn portal_notices(
    State(st): State<AppState>,
    me: Registrant,
    q: QueryMap,
) -> Result<axum::response::Response, Problem> {
    let q = q.map_err(|_| Problem::bad_request("query", "the query string is not valid URL encoding"))?;
    let html = match q.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("html") => true,
        Some(_) => return Err(Problem::bad_request("format", "must be json or html")),
    };
    let (docs, _) = blocking(move || {
        st.registry.read_own_notices(st.now(), &me.actor(), me.subject, "GET /portal/notices").map_err(Problem::from)
    })
    .await?;
    if html {
        let title = docs.first().map(|d| d.title.clone()).unwrap_or_else(|| "Notices".into());
        let body = maud::html! { @for d in &docs { (crate::views::notice_html(d)) } };
        return Ok(crate::views::page(&title, body).into_response());
    }
    Ok(Json(docs).into_response())
}

/// The letters to print: every open notice of someone who gave no email address
/// or whose emails all failed, not printed yet; one a page (print stylesheet), each
/// in its person's language. Each person's is a logged compliance-review read, and
/// each letter is recorded as printed (so a second call has only new ones).
#[utoipa::path(post, path = "/notices/letters", tag = "compliance",
    params(("Fairgate-Purpose" = String, Header, description = "compliance-review")), security(("bearer" = [])),
    responses((status = 200, body = String, content_type = "text/html"), (status = 403, body = Problem)))]
pub async fn letters(State(st): State<AppState>, reader: crate::auth::Reader) -> Result<impl IntoResponse, Problem> {
    let list = blocking(move || {
        st.registry.print_letters(st.now(), &reader.caller.actor(), "POST /notices/letters").map_err(Problem::from)
    })
    .await?;
    tracing::info!(letters = list.len(), "letters printed");
    let title = fairgate_core::i18n::text(fairgate_core::i18n::Language::En, "notice-letter-title", &[]);
    let body = maud::html! {
        @if list.is_empty() { p { "No letter to print." } }
        @for n in &list { (crate::views::notice_html(&n.document)) }
    };
    Ok(crate::views::page(&title, body))
}
