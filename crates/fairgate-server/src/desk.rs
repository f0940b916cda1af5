//! The officer's desk in the browser (the first of the web desks): find people by
//! travel-document number, and open a person's record. Every read of personal data
//! asks for its purpose first, offering only the purposes the signed-in role may
//! state for that read, shows the purpose on the page, and shows where the read was
//! logged (the leaf of the public log), as the API's `Fairgate-Access-Leaf` does.
//! The registry decides and logs; this module only renders. Pages work without
//! JavaScript; forms carry the CSRF token.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use fairgate_core::access::{Purpose, Role};
use fairgate_core::policy::{allows_read, Read};
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{blocking, Caller, WebSession};
use crate::problem::Problem;
use crate::views::page;
use crate::web::{csrf_ok, csrf_refused, csrf_token, with_cookie};
use crate::AppState;

/// The purposes `role` may state for `read`, in the policy's order.
fn purposes(role: Role, read: Read) -> Vec<Purpose> {
    Purpose::ALL.iter().copied().filter(|p| allows_read(role, read, *p)).collect()
}

/// The purpose chooser: a required select of the allowed purposes.
fn purpose_select(role: Role, read: Read, chosen: Option<Purpose>) -> Markup {
    html! {
        label.usa-label for="purpose" { "Purpose of this read" }
        span.usa-hint #purpose-hint { "Stated on the record and in the person's access log. Only the purposes your role may use are offered." }
        select.usa-select #purpose name="purpose" required aria-describedby="purpose-hint" {
            option value="" { "- Select -" }
            @for p in purposes(role, read) {
                option value=(p.as_str()) selected[chosen == Some(p)] { (p.as_str()) }
            }
        }
    }
}

/// "This read was logged": the leaf and the tree size after it.
fn receipt(r: &fairgate_store::Receipt, purpose: Purpose) -> Markup {
    html! {
        div.usa-alert.usa-alert--info.usa-alert--slim {
            div.usa-alert__body {
                p.usa-alert__text {
                    "Read for " strong { (purpose.as_str()) } ". Logged before it was shown: leaf "
                    strong { (r.leaf_index) } " of the public log (tree size " (r.tree_size) ")."
                }
            }
        }
    }
}

fn refused(status: StatusCode, message: &str) -> Response {
    (
        status,
        page(
            "Refused",
            html! {
                h1 { "Not shown" }
                div.usa-alert.usa-alert--error role="alert" { div.usa-alert__body { p.usa-alert__text { (message) } } }
                p { a.usa-link href="/desk" { "Back to the desk" } }
            },
        ),
    )
        .into_response()
}

/// The signed-in member of staff, or the response to give instead (sign in first;
/// a registrant's session is not a desk's).
fn staff(session: WebSession) -> Result<Caller, Box<Response>> {
    match session.0 {
        None => Err(Box::new(Redirect::to("/login").into_response())),
        Some((c, _)) if c.role == Role::Registrant => {
            Err(Box::new(refused(StatusCode::FORBIDDEN, "The desk is for staff: a registrant signs in to the portal.")))
        }
        Some((c, _)) => Ok(c),
    }
}

fn find_form(caller: &Caller, csrf: &str, number: &str, purpose: Option<Purpose>, error: Option<&str>) -> Markup {
    html! {
        h1 { "Find a person" }
        p { "Signed in as " strong { (caller.name) } " (" (caller.role) ")." }
        @if let Some(e) = error {
            div.usa-alert.usa-alert--error.usa-alert--slim role="alert" { div.usa-alert__body { p.usa-alert__text { (e) } } }
        }
        form.usa-form method="post" action="/desk/find" {
            input type="hidden" name="csrf" value=(csrf);
            (purpose_select(caller.role, Read::DocumentLookup, purpose))
            label.usa-label for="document_number" { "Travel document number" }
            span.usa-hint #number-hint { "As printed in the document, or read from its machine-readable zone." }
            input.usa-input #document_number name="document_number" value=(number) required autocomplete="off" aria-describedby="number-hint";
            button.usa-button type="submit" { "Find" }
        }
    }
}

/// `GET /desk`: the officer's desk, starting with the search.
pub async fn desk(State(st): State<AppState>, headers: HeaderMap, session: WebSession) -> Response {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (csrf, cookie) = csrf_token(&st, &headers);
    with_cookie(page("Desk", find_form(&caller, &csrf, "", None, None)), cookie)
}

#[derive(Deserialize)]
pub struct FindForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    document_number: String,
}

/// `POST /desk/find`: a logged look-up by document number.
pub async fn find(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    form: Result<Form<FindForm>, FormRejection>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let (csrf, _) = csrf_token(&st, &headers);
    let Ok(Form(form)) = form else {
        return Ok((
            StatusCode::BAD_REQUEST,
            page("Desk", find_form(&caller, &csrf, "", None, Some("Send the form again."))),
        )
            .into_response());
    };
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(csrf_refused());
    }
    let Ok(purpose) = form.purpose.parse::<Purpose>() else {
        let e = "Purpose of this read: choose one (every read of personal data states why).";
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page("Desk", find_form(&caller, &csrf, &form.document_number, None, Some(e))),
        )
            .into_response());
    };
    let number = form.document_number.clone();
    let actor = caller.actor();
    let st2 = st.clone();
    let found =
        blocking(move || Ok(st2.registry.lookup_document(st2.now(), &actor, purpose, &number, "web /desk/find")))
            .await?;
    let (ids, logged) = match found {
        Ok(x) => x,
        Err(fairgate_store::RegistryError::Invalid(e)) => {
            let msg = e.0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ");
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page("Desk", find_form(&caller, &csrf, &form.document_number, Some(purpose), Some(&msg))),
            )
                .into_response());
        }
        Err(e @ fairgate_store::RegistryError::Forbidden(_)) => {
            return Ok(refused(StatusCode::FORBIDDEN, &Problem::from(e).detail))
        }
        Err(e) => return Err(Problem::from(e)),
    };
    tracing::info!(found = ids.len(), "desk look-up");
    let body = html! {
        (find_form(&caller, &csrf, &form.document_number, Some(purpose), None))
        h2 { "Result" }
        @if let Some(r) = &logged { (receipt(r, purpose)) }
        @if ids.is_empty() {
            p { "Nobody on record holds this document." }
        } @else {
            ul.usa-list {
                @for id in &ids {
                    li { a.usa-link href=(format!("/desk/subjects/{id}?purpose={}", purpose.as_str())) { "Open the record of " code { (id) } } }
                }
            }
        }
    };
    Ok(page("Desk", body).into_response())
}

#[derive(Deserialize)]
pub struct PurposeQuery {
    #[serde(default)]
    purpose: Option<String>,
}

/// `GET /desk/subjects/{id}?purpose=…`: a person's record, read for the purpose;
/// without one, the page asks for it first (nothing is read until then).
pub async fn subject(
    State(st): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    Query(q): Query<PurposeQuery>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let Ok(id) = id.parse::<fairgate_core::ids::SubjectId>() else {
        return Ok(refused(StatusCode::NOT_FOUND, "No such record: the id is 32 hexadecimal digits."));
    };
    let purpose = q.purpose.as_deref().filter(|p| !p.is_empty()).map(str::parse::<Purpose>);
    let purpose = match purpose {
        None => {
            let ask = html! {
                h1 { "Open a record" }
                p { "Choose why you are reading this person's record before it is shown." }
                form.usa-form method="get" action=(format!("/desk/subjects/{id}")) {
                    (purpose_select(caller.role, Read::Timeline, None))
                    button.usa-button type="submit" { "Open" }
                }
            };
            return Ok(page("Open a record", ask).into_response());
        }
        Some(Err(_)) => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, "purpose: not a purpose Fairgate knows.")),
        Some(Ok(p)) => p,
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let read =
        blocking(move || Ok(st2.registry.read_timeline(st2.now(), &actor, purpose, id, "web /desk/subjects/{id}")))
            .await?;
    let (t, logged) = match read {
        Ok(x) => x,
        Err(e @ fairgate_store::RegistryError::Forbidden(_)) => {
            return Ok(refused(StatusCode::FORBIDDEN, &Problem::from(e).detail))
        }
        Err(fairgate_store::RegistryError::UnknownSubject(_) | fairgate_store::RegistryError::Erased(_)) => {
            return Ok(refused(StatusCode::NOT_FOUND, "No such record (or it was erased)."))
        }
        Err(e) => return Err(Problem::from(e)),
    };
    let p = &t.person;
    let body = html! {
        h1 { (p.surname) ", " (p.given_names) }
        (receipt(&logged, purpose))
        dl {
            dt { "Travel document" } dd { (p.document.kind) " " (p.document.issuing_state) " " (p.document.number) ", expires " (p.document.expires_on) }
            dt { "Born" } dd { (p.birth_date) }
            dt { "Nationality" } dd { (p.nationality) }
            dt { "Record" } dd { code { (t.id) } }
        }
        h2 { "Registrations" }
        @if t.registrations.is_empty() { p { "None." } } @else {
            table.usa-table.usa-table--borderless {
                caption { "Registrations, oldest first" }
                thead { tr { th scope="col" { "Number" } th scope="col" { "Kind" } th scope="col" { "Place" } th scope="col" { "When" } } }
                tbody {
                    @for r in &t.registrations {
                        tr {
                            th scope="row" { (r.number) }
                            td { (format!("{:?}", r.registration.kind)) }
                            td { (r.registration.place) }
                            td { (r.registration.at) }
                        }
                    }
                }
            }
        }
        h2 { "Entries and exits" }
        @if t.crossings.is_empty() { p { "None." } } @else {
            table.usa-table.usa-table--borderless {
                caption { "Crossings, oldest first" }
                thead { tr { th scope="col" { "Direction" } th scope="col" { "Port" } th scope="col" { "When" } th scope="col" { "Admitted until" } } }
                tbody {
                    @for c in &t.crossings {
                        tr {
                            th scope="row" { (format!("{:?}", c.crossing.direction)) }
                            td { (c.crossing.port) }
                            td { (c.crossing.at) }
                            td { @if let Some(d) = c.crossing.admitted_until { (d) } }
                        }
                    }
                }
            }
        }
        p { a.usa-link href="/desk" { "Back to the desk" } }
    };
    Ok(page("Record", body).into_response())
}
