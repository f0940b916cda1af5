//! The desks in the browser (the first of them): find people by travel-document
//! number and open a person's record (officers), and the 1:N candidates with their
//! decisions (supervisors). Every read of personal data
//! asks for its purpose first, offering only the purposes the signed-in role may
//! state for that read, shows the purpose on the page, and shows where the read was
//! logged (the leaf of the public log), as the API's `Fairgate-Access-Leaf` does.
//! The registry decides and logs; this module only renders. Pages work without
//! JavaScript; forms carry the CSRF token.

use crate::json::Path;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
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
pub(crate) fn purposes(role: Role, read: Read) -> Vec<Purpose> {
    Purpose::ALL.iter().copied().filter(|p| allows_read(role, read, *p)).collect()
}

/// The purpose chooser: a required select of the allowed purposes.
pub(crate) fn purpose_select(role: Role, read: Read, chosen: Option<Purpose>) -> Markup {
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
pub(crate) fn receipt(r: &fairgate_store::Receipt, purpose: Purpose) -> Markup {
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

pub(crate) fn refused(status: StatusCode, message: &str) -> Response {
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
pub(crate) fn staff(session: WebSession) -> Result<Caller, Box<Response>> {
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
            label.usa-label for="document_number" { "Travel document number, or the machine-readable zone" }
            span.usa-hint #number-hint { "As printed in the document, or scan its machine-readable zone here." }
            textarea.usa-textarea.fairgate-mrz #document_number name="document_number" rows="2" required autocomplete="off" spellcheck="false" aria-describedby="number-hint" data-mrz { (number) }
            button.usa-button type="submit" { "Find" }
        }
    }
}

/// The other desks the role works at.
pub(crate) fn desk_links(role: Role) -> Markup {
    let mut links: Vec<(String, &str)> = vec![];
    if !purposes(role, Read::DeskQueue).is_empty() {
        links.push(("/desk/office".into(), "Office desk: appointments and the waiting list"));
    }
    if !purposes(role, Read::IdentificationReviews).is_empty() {
        links.push(("/desk/identification".into(), "1:N candidates"));
    }
    links.extend(crate::queues::links(role));
    links.extend(crate::oversight::links(role));
    links.extend(crate::admin::links(role));
    html! {
        @if !links.is_empty() {
            h2 { "Other desks" }
            ul.usa-list { @for (href, text) in links { li { a.usa-link href=(href) { (text) } } } }
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
    let body = html! {
        @if purposes(caller.role, Read::DocumentLookup).is_empty() {
            h1 { "Desk" }
            p { "Signed in as " strong { (caller.name) } " (" (caller.role) ")." }
        } @else {
            (find_form(&caller, &csrf, "", None, None))
        }
        @if fairgate_core::policy::allows(caller.role, fairgate_core::policy::Action::CreateSubject) {
            (crate::officer::create_form(&csrf, "", None))
        }
        (desk_links(caller.role))
    };
    with_cookie(page("Desk", body), cookie)
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
    // A scanned zone is read for its document number (every check digit must hold).
    let number = if form.document_number.contains('<') {
        match fairgate_core::mrz::read(&form.document_number, st.today()) {
            Ok((r, _)) if r.valid => r.fields.document_number.clone(),
            _ => {
                let e = "document_number: the machine-readable zone does not read (a check digit fails): scan it again or type the number.";
                return Ok((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    page("Desk", find_form(&caller, &csrf, "", Some(purpose), Some(e))),
                )
                    .into_response());
            }
        }
    } else {
        form.document_number.clone()
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let found =
        blocking(move || Ok(st2.registry.lookup_document(st2.now(), &actor, purpose, &number, "web /desk/find")))
            .await?;
    let (ids, logged) = match found {
        Ok(x) => x,
        Err(fairgate_store::RegistryError::Invalid(e)) => {
            let msg = field_errors(&e);
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
    pub(crate) purpose: Option<String>,
    /// Set by the desk after creating the record: the leaf it was recorded at.
    #[serde(default)]
    pub(crate) created: Option<u64>,
}

/// A refused registry call as the page to answer with: the field errors of bad
/// input, a missing or erased record, and any other refusal a person can act on
/// (the policy's, a conflict) with what to do; anything else is the server's.
pub(crate) fn registry_refusal(e: fairgate_store::RegistryError) -> Result<Response, Problem> {
    use fairgate_store::RegistryError as E;
    match e {
        E::Invalid(e) => Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, &field_errors(&e))),
        E::UnknownSubject(_) | E::Erased(_) => Ok(refused(StatusCode::NOT_FOUND, "No such record (or it was erased).")),
        e => {
            let p = Problem::from(e);
            if p.status < 500 {
                Ok(problem_refusal(p))
            } else {
                Err(p)
            }
        }
    }
}

/// A problem a person can act on, as a page: its field errors, or its detail.
pub(crate) fn problem_refusal(p: Problem) -> Response {
    let detail = if p.errors.is_empty() {
        p.detail.clone()
    } else {
        p.errors.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
    };
    refused(StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY), &detail)
}

/// "Done": what was recorded, and the way back.
pub(crate) fn done_page(title: &str, message: Markup, back: &str) -> Response {
    page(
        title,
        html! {
            h1 { (title) }
            div.usa-alert.usa-alert--success.usa-alert--slim role="status" { div.usa-alert__body { p.usa-alert__text { (message) } } }
            p { a.usa-link href=(back) { "Back" } }
        },
    )
    .into_response()
}

/// A form that carries its CSRF token.
pub(crate) trait CsrfForm {
    fn csrf(&self) -> &str;
}

/// Declare the forms whose field `csrf` holds the token.
macro_rules! csrf_forms {
    ($($t:ty),+ $(,)?) => {
        $(impl $crate::desk::CsrfForm for $t {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
pub(crate) use csrf_forms;

/// What every desk form passes first: a member of staff signed in, a form that
/// parsed, and its token. The refusal is the page to answer with.
pub(crate) fn staff_form<T: CsrfForm>(
    session: WebSession,
    headers: &HeaderMap,
    form: Result<Form<T>, FormRejection>,
) -> Result<(Caller, T), Box<Response>> {
    let caller = staff(session)?;
    let Ok(Form(f)) = form else { return Err(Box::new(refused(StatusCode::BAD_REQUEST, "Send the form again."))) };
    if !csrf_ok(headers, f.csrf()) {
        return Err(Box::new(csrf_refused()));
    }
    Ok((caller, f))
}

/// A refused command's field errors, one line: "field: what to do; …".
pub(crate) fn field_errors(e: &fairgate_core::Invalid) -> String {
    e.0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
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
    // The stay panel is a read of its own (Read::Stay), made for the same purpose
    // when the role may: logged on its own.
    let with_stay = allows_read(caller.role, Read::Stay, purpose);
    // So is the obligations panel (Read::Obligations).
    let with_obligations = allows_read(caller.role, Read::Obligations, purpose);
    let role = caller.role;
    let read = blocking(move || {
        let t = st2.registry.read_timeline(st2.now(), &actor, purpose, id, "web /desk/subjects/{id}");
        let today = st2.today();
        let stay = match (&t, with_stay) {
            (Ok(_), true) => {
                Some(st2.registry.read_stay(st2.now(), &actor, purpose, id, today, "web /desk/subjects/{id}"))
            }
            _ => None,
        };
        let obligations = match (&t, with_obligations) {
            (Ok(_), true) => {
                Some(st2.registry.read_obligations(st2.now(), &actor, purpose, id, today, "web /desk/subjects/{id}"))
            }
            _ => None,
        };
        Ok(t.map(|t| (t, stay, obligations)))
    })
    .await?;
    let ((t, logged), stay, obligations) = match read {
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
        @if let Some(leaf) = q.created {
            div.usa-alert.usa-alert--success.usa-alert--slim role="status" { div.usa-alert__body { p.usa-alert__text { "Recorded from the document at leaf " (leaf) " of the public log." } } }
        }
        (receipt(&logged, purpose))
        (crate::officer::actions(role, t.id))
        dl {
            dt { "Travel document" } dd { (p.document.kind) " " (p.document.issuing_state) " " (p.document.number) ", expires " (p.document.expires_on) }
            dt { "Born" } dd { (p.birth_date) }
            dt { "Nationality" } dd { (p.nationality) }
            dt { "Record" } dd { code { (t.id) } }
        }
        h2 { "Stay" }
        @match &stay {
            Some(Ok(((rule, a), r))) => {
                div.usa-summary-box role="region" aria-labelledby="stay-heading" {
                    div.usa-summary-box__body {
                        h3.usa-summary-box__heading #stay-heading { "Rule " (rule.to_string()) ", on " (a.on) }
                        ul.usa-list {
                            li { "Days used in the window from " (a.window_start) ": " strong { (a.days_used) } }
                            @match a.stay_until {
                                Some(d) => li { "May stay until " strong { (d) } },
                                None => li { "A stay today would break the rule." },
                            }
                            @if let Some(o) = a.overstay {
                                li { strong { "Overstay: " (o.days) " days" } ", " (o.first_day) " to " (o.last_day) " (a fact for an adjudicator, not a finding)" }
                            }
                            @if let Some(n) = a.next_entry { li { "Next day a stay is allowed: " (n.date) ", for up to " (n.max_days) " days" } }
                        }
                        p.text-base-dark { "This stay read was logged at leaf " (r.leaf_index) "." }
                    }
                }
            }
            Some(Err(_)) => p { "The stay could not be worked out from the crossings on record." }
            None => p { "Your role may not read the stay for " (purpose.as_str()) "." }
        }
        h2 { "Obligations" }
        @match &obligations {
            Some(Ok((a, r))) => (crate::officer::obligations_panel(a, r)),
            Some(Err(_)) => p { "The obligations could not be worked out." },
            None => p { "Your role may not read the obligations for " (purpose.as_str()) "." },
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

/// `GET /desk/identification?purpose=…`: the supervisors' queue of 1:N candidates
/// from enrolments (a read logged for each person listed), each with a decision
/// form. Without a purpose, the page asks for one.
pub async fn identification(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Query(q): Query<PurposeQuery>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let (csrf, cookie) = csrf_token(&st, &headers);
    let purpose = match q.purpose.as_deref().filter(|p| !p.is_empty()).map(str::parse::<Purpose>) {
        None => {
            let ask = html! {
                h1 { "1:N candidates" }
                p { "The people whose enrolment found someone alike on record. Reading the list is logged on each person's record: choose why." }
                form.usa-form method="get" action="/desk/identification" {
                    (purpose_select(caller.role, Read::IdentificationReviews, None))
                    button.usa-button type="submit" { "Show the candidates" }
                }
            };
            return Ok(with_cookie(page("1:N candidates", ask), cookie));
        }
        Some(Err(_)) => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, "purpose: not a purpose Fairgate knows.")),
        Some(Ok(p)) => p,
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let list = blocking(move || {
        Ok(st2.registry.identification_reviews(st2.now(), &actor, purpose, "web /desk/identification"))
    })
    .await?;
    let list = match list {
        Ok(l) => l,
        Err(e @ fairgate_store::RegistryError::Forbidden(_)) => {
            return Ok(refused(StatusCode::FORBIDDEN, &Problem::from(e).detail))
        }
        Err(e) => return Err(Problem::from(e)),
    };
    let body = html! {
        h1 { "1:N candidates" }
        p { "Read for " strong { (purpose.as_str()) } ": each person listed has this read on their access log. A score decides nothing: compare the records, then decide, with your reason." }
        @if list.is_empty() { p { "Nothing awaits a decision." } }
        @for r in &list {
            section.border-top.padding-y-2 {
                h2 { "Enrolment " (r.registration) }
                p { "Searched " (r.at) " for " a.usa-link href=(format!("/desk/subjects/{}?purpose={}", r.subject, purpose.as_str())) { code { (r.subject) } } }
                table.usa-table.usa-table--borderless {
                    caption { "Candidates" }
                    thead { tr { th scope="col" { "Person on record" } th scope="col" { "By" } th scope="col" { "Score" } th scope="col" { "Threshold" } } }
                    tbody {
                        @for c in &r.candidates {
                            tr {
                                th scope="row" { a.usa-link href=(format!("/desk/subjects/{}?purpose={}", c.subject, purpose.as_str())) { code { (c.subject) } } }
                                td { (match c.modality { fairgate_core::matching::Modality::Face => "face", fairgate_core::matching::Modality::Finger => "fingerprints" }) }
                                td { (format!("{:.4}", c.score)) }
                                td { (format!("{:.4}", c.threshold)) }
                            }
                        }
                    }
                }
                @for c in &r.candidates {
                    form.usa-form method="post" action=(format!("/desk/identification/{}", r.subject)) {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="candidate" value=(c.subject.to_string());
                        fieldset.usa-fieldset {
                            legend.usa-legend { "Decision on " code { (c.subject) } }
                            div.usa-radio {
                                input.usa-radio__input type="radio" name="decision" value="same-person" id=(format!("same-{}", c.subject)) required;
                                label.usa-radio__label for=(format!("same-{}", c.subject)) { "The same person: link the records" }
                            }
                            div.usa-radio {
                                input.usa-radio__input type="radio" name="decision" value="different-people" id=(format!("diff-{}", c.subject));
                                label.usa-radio__label for=(format!("diff-{}", c.subject)) { "Two people: keep them apart" }
                            }
                        }
                        label.usa-label for=(format!("reason-{}", c.subject)) { "Reason (required)" }
                        textarea.usa-textarea name="reason" id=(format!("reason-{}", c.subject)) required rows="3" {}
                        button.usa-button type="submit" { "Record the decision" }
                    }
                }
            }
        }
    };
    Ok(with_cookie(page("1:N candidates", body), cookie))
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    candidate: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

/// `POST /desk/identification/{subject}`: a supervisor's decision, with its reason.
pub async fn decide(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path(subject): Path<String>,
    form: Result<Form<DecisionForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (caller, f) = match staff_form(session, &headers, form) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let (Ok(id), Ok(other)) =
        (subject.parse::<fairgate_core::ids::SubjectId>(), f.candidate.parse::<fairgate_core::ids::SubjectId>())
    else {
        return Ok(refused(StatusCode::NOT_FOUND, "No such record."));
    };
    let same = match f.decision.as_str() {
        "same-person" => true,
        "different-people" => false,
        _ => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, "decision: choose the same person or two people.")),
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let done = blocking(move || {
        Ok(st2.registry.write(st2.now(), |b| b.decide_identification(&actor, id, other, same, &f.reason)))
    })
    .await?;
    match done {
        Ok(((), r)) => {
            tracing::info!(subject = %id, same_person = same, "1:N candidate decided (web)");
            let body = html! {
                h1 { "Decision recorded" }
                div.usa-alert.usa-alert--success { div.usa-alert__body { p.usa-alert__text { "Recorded on both records, at leaf " (r.leaf_index) " of the public log." } } }
                p { a.usa-link href="/desk/identification" { "Back to the candidates" } }
            };
            Ok(page("Decision recorded", body).into_response())
        }
        Err(fairgate_store::RegistryError::Invalid(e)) => {
            Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, &field_errors(&e)))
        }
        Err(e @ fairgate_store::RegistryError::Forbidden(_)) => {
            Ok(refused(StatusCode::FORBIDDEN, &Problem::from(e).detail))
        }
        Err(e) => Err(Problem::from(e)),
    }
}

csrf_forms!(DecisionForm);
