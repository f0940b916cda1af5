//! The office desk in the browser: today's booked slots (counts, nobody named),
//! the waiting list (walk-ins and appointments, pseudonymous, read for a purpose
//! and logged per person listed), checking a person in by their travel document
//! (a logged look-up), calling the next to a desk, ending a visit (served, or sent
//! to another office with a reason), and booking or moving a person's appointment
//! from their record. The registry decides and logs; this module renders.

use crate::json::Path;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use fairgate_core::access::Purpose;
use fairgate_core::appointment::{service_of, BookingInput, VisitOutcome};
use fairgate_core::place::PlaceKind;
use fairgate_core::policy::Read;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{blocking, WebSession};
use crate::desk::{purpose_select, receipt, refused, registry_refusal, staff};
use crate::problem::Problem;
use crate::views::page;
use crate::web::{csrf_token, with_cookie};
use crate::AppState;

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn office_select(st: &AppState, chosen: &str) -> Markup {
    let places = st.registry.places();
    html! {
        label.usa-label for="office" { "Office" }
        select.usa-select #office name="office" required {
            option value="" { "- Select -" }
            @for p in places.iter().filter(|p| p.place.kind == PlaceKind::Office) {
                option value=(p.place.code) selected[p.place.code == chosen] { (p.place.code) " · " (p.place.name) }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct OfficeQuery {
    #[serde(default)]
    office: String,
    #[serde(default)]
    purpose: String,
    /// What the last form did (set by the redirect after it).
    #[serde(default)]
    note: String,
}

fn back(office: &str, purpose: Purpose, note: &str) -> Response {
    Redirect::to(&format!("/desk/office?office={office}&purpose={}&note={note}", purpose.as_str())).into_response()
}

fn note_text(note: &str) -> Option<&'static str> {
    Some(match note {
        "checked-in" => "Checked in: the person is in the waiting list.",
        "called" => "Called: the person's entry shows the desk.",
        "nobody" => "Nobody is waiting.",
        "served" => "The visit is recorded as served.",
        "sent" => "The visit is recorded as sent to another office, with the reason.",
        _ => return None,
    })
}

/// `GET /desk/office?office=CODE&purpose=P`: the office's day and waiting list.
/// Without an office or purpose, the page asks for them first.
pub async fn office(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Query(q): Query<OfficeQuery>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let (csrf, cookie) = csrf_token(&st, &headers);
    let purpose = q.purpose.parse::<Purpose>().ok();
    let (Some(purpose), false) = (purpose, q.office.trim().is_empty()) else {
        let ask = html! {
            h1 { "Office desk" }
            p { "The waiting list names people by their record's id; reading it is logged on each person's record. Choose the office and why." }
            form.usa-form method="get" action="/desk/office" {
                (office_select(&st, q.office.trim()))
                (purpose_select(caller.role, Read::DeskQueue, None))
                button.usa-button type="submit" { "Open the office desk" }
            }
        };
        return Ok(with_cookie(page("Office desk", ask), cookie));
    };
    let code = q.office.trim().to_uppercase();
    let actor = caller.actor();
    let st2 = st.clone();
    let c2 = code.clone();
    let read = blocking(move || {
        let day = st2.registry.office_day(st2.now(), &c2);
        let queue = st2.registry.desk_queue(st2.now(), &actor, purpose, &c2, "web /desk/office");
        Ok(day.and_then(|d| queue.map(|q| (d, q))))
    })
    .await?;
    let (day, queue) = match read {
        Ok(x) => x,
        Err(e) => return registry_refusal(e),
    };
    let hidden = html! {
        input type="hidden" name="csrf" value=(csrf);
        input type="hidden" name="office" value=(code);
        input type="hidden" name="purpose" value=(purpose.as_str());
    };
    let body = html! {
        h1 { "Office desk: " (day.name) }
        p { "Read for " strong { (purpose.as_str()) } ". " (day.day) ", " (hhmm(day.minute)) " local time. "
            @match day.hours { Some(h) => { "Open " (hhmm(h.opens)) " to " (hhmm(h.closes)) ", " (day.desks) " desks." } None => { "Closed today." } } }
        @if let Some(n) = note_text(&q.note) {
            div.usa-alert.usa-alert--success.usa-alert--slim role="status" { div.usa-alert__body { p.usa-alert__text { (n) } } }
        }
        h2 { "Today's appointments" }
        @if day.slots.is_empty() { p { "No appointments booked today." } } @else {
            table.usa-table.usa-table--borderless {
                caption { "Booked slots (how many; who is in each person's record)" }
                thead { tr { th scope="col" { "From" } th scope="col" { "Until" } th scope="col" { "Booked" } } }
                tbody { @for (start, minutes, n) in &day.slots { tr { th scope="row" { (hhmm(*start)) } td { (hhmm(start + minutes)) } td { (n) } } } }
            }
        }
        h2 { "Waiting list" }
        @if queue.is_empty() { p { "Nobody has checked in today." } } @else {
            p.text-base-dark { "Each person listed has this read on their access log." }
            table.usa-table.usa-table--borderless {
                caption { "Checked in today, in arrival order" }
                thead { tr { th scope="col" { "Record" } th scope="col" { "Arrived" } th scope="col" { "Appointment" } th scope="col" { "Desk" } th scope="col" { "Visit" } } }
                tbody {
                    @for e in &queue {
                        tr {
                            th scope="row" { a.usa-link href=(format!("/desk/subjects/{}?purpose={}", e.subject, purpose.as_str())) { code { (e.subject.to_string()[..8]) "…" } } }
                            td { (e.arrived.strftime("%H:%M UTC")) }
                            td { @match &e.slot { Some(s) => (s), None => "walk-in" } }
                            td { @match e.desk { Some(d) => (d), None => "waiting" } }
                            td {
                                @if e.desk.is_some() {
                                    form method="post" action="/desk/office/done" {
                                        (hidden)
                                        input type="hidden" name="subject" value=(e.subject.to_string());
                                        input type="hidden" name="outcome" value="served";
                                        button.usa-button.usa-button--unstyled type="submit" { "Served" }
                                    }
                                    details {
                                        summary { "Send to another office" }
                                        form.usa-form method="post" action="/desk/office/done" {
                                            (hidden)
                                            input type="hidden" name="subject" value=(e.subject.to_string());
                                            input type="hidden" name="outcome" value="elsewhere";
                                            label.usa-label for=(format!("to-{}", e.subject)) { "Office" }
                                            input.usa-input id=(format!("to-{}", e.subject)) name="to" required;
                                            label.usa-label for=(format!("why-{}", e.subject)) { "Reason" }
                                            input.usa-input id=(format!("why-{}", e.subject)) name="reason" required;
                                            button.usa-button type="submit" { "Send" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        div.grid-row.grid-gap {
            div.tablet:grid-col-6 {
                h2 { "Check a person in" }
                form.usa-form method="post" action="/desk/office/check-in" {
                    (hidden)
                    label.usa-label for="document_number" { "Travel document number" }
                    span.usa-hint #dn-hint { "Finding the person is a look-up, logged for the purpose above. With an appointment today they join at their slot; without, as a walk-in." }
                    input.usa-input #document_number name="document_number" required autocomplete="off" aria-describedby="dn-hint";
                    button.usa-button type="submit" { "Check in" }
                }
            }
            div.tablet:grid-col-6 {
                h2 { "Call the next person" }
                form.usa-form method="post" action="/desk/office/call" {
                    (hidden)
                    label.usa-label for="desk" { "To desk" }
                    select.usa-select #desk name="desk" required {
                        @for d in 1..=day.desks.max(1) { option value=(d) { "Desk " (d) } }
                    }
                    button.usa-button type="submit" { "Call the next" }
                }
            }
        }
    };
    Ok(with_cookie(page("Office desk", body), cookie))
}

#[derive(Deserialize)]
pub struct OfficeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    office: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    document_number: String,
    #[serde(default)]
    desk: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

/// The form, checked: its token and its purpose.
fn admitted(
    session: WebSession,
    headers: &HeaderMap,
    form: Result<Form<OfficeForm>, FormRejection>,
) -> Result<(crate::auth::Caller, OfficeForm, Purpose), Box<Response>> {
    let (caller, f) = crate::desk::staff_form(session, headers, form)?;
    let Ok(p) = f.purpose.parse::<Purpose>() else {
        return Err(Box::new(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "purpose: choose one on the office desk first.",
        )));
    };
    Ok((caller, f, p))
}

/// `POST /desk/office/check-in`: find the person by document (logged), check them in.
pub async fn check_in(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    form: Result<Form<OfficeForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (caller, f, purpose) = match admitted(session, &headers, form) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let (office, number) = (f.office.clone(), f.document_number.clone());
    let done = blocking(move || {
        let found = st2.registry.lookup_document(st2.now(), &actor, purpose, &number, "web /desk/office/check-in");
        Ok(match found {
            Err(e) => Err(e),
            Ok((ids, _)) => match ids.as_slice() {
                [id] => {
                    let id = *id;
                    st2.registry
                        .write(st2.now(), |b| b.check_in(&actor, &office, id))
                        .map(|(slot, r)| Some((id, slot, r)))
                }
                _ => Ok(None),
            },
        })
    })
    .await?;
    match done {
        Ok(Some((id, slot, r))) => {
            tracing::info!(subject = %id, leaf = r.leaf_index, walk_in = slot.is_none(), "checked in (web)");
            Ok(back(&f.office.trim().to_uppercase(), purpose, "checked-in"))
        }
        Ok(None) => Ok(refused(
            StatusCode::NOT_FOUND,
            "document_number: nobody on record holds this document (the look-up was logged). Record the person at the officer's desk first.",
        )),
        Err(e) => registry_refusal(e),
    }
}

/// `POST /desk/office/call`: call the next person to a desk.
pub async fn call(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    form: Result<Form<OfficeForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (caller, f, purpose) = match admitted(session, &headers, form) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let Ok(desk) = f.desk.trim().parse::<u16>() else {
        return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, "desk: choose the desk number."));
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let office = f.office.clone();
    let done = blocking(move || Ok(st2.registry.write(st2.now(), |b| b.call_next(&actor, &office, desk)))).await?;
    match done {
        Ok((Some(c), _)) => {
            tracing::info!(subject = %c.subject, desk, "called to a desk (web)");
            Ok(back(&f.office.trim().to_uppercase(), purpose, "called"))
        }
        Ok((None, _)) => Ok(back(&f.office.trim().to_uppercase(), purpose, "nobody")),
        Err(e) => registry_refusal(e),
    }
}

/// `POST /desk/office/done`: the visit ended, served or sent elsewhere.
pub async fn done(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    form: Result<Form<OfficeForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (caller, f, purpose) = match admitted(session, &headers, form) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let Ok(id) = f.subject.parse::<fairgate_core::ids::SubjectId>() else {
        return Ok(refused(StatusCode::NOT_FOUND, "No such record."));
    };
    let (outcome, note) = match f.outcome.as_str() {
        "served" => (VisitOutcome::Served, "served"),
        "elsewhere" => (VisitOutcome::SentElsewhere { to: f.to.clone(), reason: f.reason.clone() }, "sent"),
        _ => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, "outcome: served or sent elsewhere.")),
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let office = f.office.clone();
    let r =
        blocking(move || Ok(st2.registry.write(st2.now(), |b| b.finish_visit(&actor, &office, id, &outcome)))).await?;
    match r {
        Ok(((), r)) => {
            tracing::info!(subject = %id, leaf = r.leaf_index, "visit ended (web)");
            Ok(back(&f.office.trim().to_uppercase(), purpose, note))
        }
        Err(e) => registry_refusal(e),
    }
}

// ---------------------------------------------------------------------------
// Appointments, from a person's record

/// `GET /desk/subjects/{id}/appointment`: the person's obligations met at an
/// office (an obligations read, logged for registration), each with a form to
/// book or move its appointment.
pub async fn appointment_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let Ok(id) = id.parse::<fairgate_core::ids::SubjectId>() else {
        return Ok(refused(StatusCode::NOT_FOUND, "No such record: the id is 32 hexadecimal digits."));
    };
    let (csrf, cookie) = csrf_token(&st, &headers);
    let actor = caller.actor();
    let st2 = st.clone();
    let read = blocking(move || {
        let today = st2.today();
        Ok(st2.registry.read_obligations(
            st2.now(),
            &actor,
            Purpose::Registration,
            id,
            today,
            "web /desk/subjects/{id}/appointment",
        ))
    })
    .await?;
    let (answer, logged) = match read {
        Ok(x) => x,
        Err(e) => return registry_refusal(e),
    };
    let bookable: Vec<_> = answer
        .obligations
        .iter()
        .filter(|o| service_of(o.kind).is_some() && o.state == fairgate_core::obligation::State::Pending)
        .collect();
    let body = html! {
        h1 { "Book or move an appointment" }
        (receipt(&logged, Purpose::Registration))
        @if bookable.is_empty() { p { "Nothing this person must do at an office is pending." } }
        @for (i, o) in bookable.iter().enumerate() {
            section.border-top.padding-y-2 {
                h2 { (o.kind.as_str()) ", due " (o.effective_due) }
                p { (o.explanation) }
                form.usa-form method="post" action=(format!("/desk/subjects/{id}/appointment")) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="obligation" value=(o.key);
                    label.usa-label for=(format!("office-{i}")) { "Office" }
                    span.usa-hint id=(format!("office-hint-{i}")) { "Left empty: the office serving the person's address, or their current booking's." }
                    select.usa-select id=(format!("office-{i}")) name="office" aria-describedby=(format!("office-hint-{i}")) {
                        option value="" { "- The usual office -" }
                        @for p in st.registry.places().iter().filter(|p| p.place.kind == PlaceKind::Office) {
                            option value=(p.place.code) { (p.place.code) " · " (p.place.name) }
                        }
                    }
                    label.usa-label for=(format!("from-{i}")) { "From the day" }
                    input.usa-input id=(format!("from-{i}")) name="from" type="date";
                    button.usa-button type="submit" { "Book the earliest free slot" }
                }
            }
        }
        p { a.usa-link href=(format!("/desk/subjects/{id}?purpose=registration")) { "Back to the record" } }
    };
    Ok(with_cookie(page("Appointment", body), cookie))
}

#[derive(Deserialize)]
pub struct BookForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    obligation: String,
    #[serde(default)]
    office: String,
    #[serde(default)]
    from: String,
}

/// `POST /desk/subjects/{id}/appointment`: the earliest free slot, booked.
pub async fn book(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path(id): Path<String>,
    form: Result<Form<BookForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (caller, f) = match crate::desk::staff_form(session, &headers, form) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let Ok(id) = id.parse::<fairgate_core::ids::SubjectId>() else {
        return Ok(refused(StatusCode::NOT_FOUND, "No such record."));
    };
    let input = BookingInput {
        obligation: f.obligation,
        office: Some(f.office).filter(|o| !o.trim().is_empty()),
        from: Some(f.from).filter(|d| !d.trim().is_empty()),
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let r = blocking(move || Ok(st2.registry.write(st2.now(), |b| b.book_appointment(&actor, id, &input)))).await?;
    match r {
        Ok((a, r)) => {
            tracing::info!(subject = %id, leaf = r.leaf_index, "appointment booked (web)");
            let body = html! {
                h1 { "Appointment booked" }
                div.usa-alert.usa-alert--success.usa-alert--slim role="status" { div.usa-alert__body { p.usa-alert__text {
                    "At " strong { (a.slot.office) } " on " strong { (a.slot.day) } " from " (hhmm(a.slot.start)) " to " (hhmm(a.slot.ends())) ". Recorded at leaf " (r.leaf_index) "."
                } } }
                p { a.usa-link href=(format!("/desk/subjects/{id}?purpose=registration")) { "Back to the record" } }
            };
            Ok(page("Appointment booked", body).into_response())
        }
        Err(e) => registry_refusal(e),
    }
}

crate::desk::csrf_forms!(BookForm, OfficeForm);
