//! The officer's desk in the browser, past finding a record: create a person from
//! the travel document's machine-readable zone, register them (the program's
//! interview questions, photograph and fingerprints by upload or camera, captures
//! excused with a reason, a printable receipt), record an entry or exit with the
//! 1:1 check and any referral, the obligations panel, and designate with a reason.
//! The registry decides and logs, as for the API; this module turns forms into the
//! API's inputs and answers into pages. Uploads are `multipart/form-data`; the
//! camera (static/desk.js) only fills the same file field.

use std::collections::HashMap;

use crate::json::Path;
use axum::extract::rejection::FormRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use base64::Engine as _;
use fairgate_core::access::{Purpose, Role};
use fairgate_core::capture::{Biometric, CapturesInput, NotCapturedInput, NotCapturedReason};
use fairgate_core::ids::SubjectId;
use fairgate_core::matching::{Comparison, Decision, ProbeInput, Referral};
use fairgate_core::place::PlaceKind;
use fairgate_core::registration::{Interview, QuestionAnswer, RegistrationInput};
use fairgate_store::RegistryError;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{blocking, WebSession};
use crate::desk::{field_errors, problem_refusal, refused, registry_refusal, staff};
use crate::problem::Problem;
use crate::subjects::{compare_probe, read_probe};
use crate::views::{page, retrying};
use crate::web::{csrf_ok, csrf_refused, csrf_token, with_cookie};
use crate::AppState;

/// The desk's script: enhancements only (camera, MRZ scanner input, print).
pub const DESK_SCRIPT: &str = include_str!("../static/desk.js");

fn error_alert(message: &str) -> Markup {
    html! {
        div.usa-alert.usa-alert--error.usa-alert--slim role="alert" { div.usa-alert__body { p.usa-alert__text { (message) } } }
    }
}

fn success_alert(message: Markup) -> Markup {
    html! {
        div.usa-alert.usa-alert--success.usa-alert--slim role="status" { div.usa-alert__body { p.usa-alert__text { (message) } } }
    }
}

fn subject(raw: &str) -> Result<SubjectId, Box<Response>> {
    raw.parse::<SubjectId>()
        .map_err(|_| Box::new(refused(StatusCode::NOT_FOUND, "No such record: the id is 32 hexadecimal digits.")))
}

fn record_link(id: SubjectId, purpose: Purpose) -> String {
    format!("/desk/subjects/{id}?purpose={}", purpose.as_str())
}

/// The ports or offices (or both) as a required select.
fn place_select(st: &AppState, name: &str, label: &str, kinds: &[PlaceKind]) -> Markup {
    let places = st.registry.places();
    html! {
        label.usa-label for=(name) { (label) }
        select.usa-select #(name) name=(name) required {
            option value="" { "- Select -" }
            @for p in places.iter().filter(|p| kinds.contains(&p.place.kind)) {
                option value=(p.place.code) { (p.place.code) " · " (p.place.name) }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Create from the MRZ

/// The form on the desk that creates a person from the zone (`/desk`).
pub(crate) fn create_form(csrf: &str, mrz: &str, error: Option<&str>) -> Markup {
    html! {
        h2 #create { "Record a new person from the travel document" }
        @if let Some(e) = error { (error_alert(e)) }
        form.usa-form.usa-form--large method="post" action="/desk/subjects" {
            input type="hidden" name="csrf" value=(csrf);
            label.usa-label for="mrz" { "Machine-readable zone" }
            span.usa-hint #mrz-hint { "Scan the document's zone, or type its 2 or 3 lines. Every check digit must hold." }
            textarea.usa-textarea.fairgate-mrz #mrz name="mrz" rows="3" required spellcheck="false" autocomplete="off"
                autocapitalize="characters" aria-describedby="mrz-hint" data-mrz { (mrz) }
            button.usa-button type="submit" { "Record this person" }
        }
    }
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    mrz: String,
}

/// `POST /desk/subjects`: a person recorded from the zone; the desk then opens
/// their record for registration. A document already on record names its holder
/// (a read, logged for registration).
pub async fn create(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    form: Result<Form<CreateForm>, FormRejection>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let (csrf, _) = csrf_token(&st, &headers);
    let Ok(Form(form)) = form else { return Ok(refused(StatusCode::BAD_REQUEST, "Send the form again.")) };
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(csrf_refused());
    }
    let again = |status: StatusCode, e: &str| {
        (status, page("Desk", html! { h1 { "Record a new person" } (create_form(&csrf, &form.mrz, Some(e))) }))
            .into_response()
    };
    let request = fairgate_core::subject::SubjectRequest { mrz: Some(form.mrz.clone()), ..Default::default() };
    let input = match request.resolve(st.today()) {
        Ok(i) => i,
        Err(e) => return Ok(again(StatusCode::UNPROCESSABLE_ENTITY, &field_errors(&e))),
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let made = blocking(move || {
        Ok(st2.registry.create_subject(st2.now(), &actor, Purpose::Registration, &input, "web /desk/subjects"))
    })
    .await?;
    match made {
        Ok((id, r)) => {
            tracing::info!(subject = %id, leaf = r.leaf_index, "subject created (web)");
            Ok(Redirect::to(&format!("{}&created={}", record_link(id, Purpose::Registration), r.leaf_index))
                .into_response())
        }
        Err(RegistryError::DocumentOnRecord { subject, .. }) => {
            let body = html! {
                h1 { "This document is on record" }
                p { "The person holding it is already recorded. Telling you so was a read, logged on their record for registration." }
                p { a.usa-button href=(record_link(subject, Purpose::Registration)) { "Open their record" } }
            };
            Ok((StatusCode::CONFLICT, page("On record", body)).into_response())
        }
        Err(RegistryError::Invalid(e)) => Ok(again(StatusCode::UNPROCESSABLE_ENTITY, &field_errors(&e))),
        Err(e) => registry_refusal(e),
    }
}

// ---------------------------------------------------------------------------
// The obligations panel (on the record page)

/// What the person has to do, each with its explanation; a read of its own.
pub(crate) fn obligations_panel(
    answer: &fairgate_store::registry::compliance::ObligationsAnswer,
    r: &fairgate_store::Receipt,
) -> Markup {
    html! {
        div.usa-summary-box role="region" aria-labelledby="obligations-heading" {
            div.usa-summary-box__body {
                h3.usa-summary-box__heading #obligations-heading {
                    @if answer.must_act { "Something is pending or overdue" } @else { "Nothing pending" }
                }
                @if answer.obligations.is_empty() { p { "No program in force asks anything of this person." } }
                ul.usa-list {
                    @for o in &answer.obligations {
                        li { strong { (o.kind.as_str()) " · " (o.state.as_str()) } ", due " (o.effective_due) ": " (o.explanation) }
                    }
                }
                p.text-base-dark { "This obligations read was logged at leaf " (r.leaf_index) "." }
            }
        }
    }
}

/// The actions an officer can take from a record.
pub(crate) fn actions(role: Role, id: SubjectId) -> Markup {
    use fairgate_core::policy::{allows, Action};
    html! {
        @if [Action::RecordRegistration, Action::RecordCrossing, Action::Designate].iter().any(|a| allows(role, *a)) {
            h2 { "Act on this record" }
            ul.usa-button-group {
                @if allows(role, Action::RecordRegistration) {
                    li.usa-button-group__item { a.usa-button href=(format!("/desk/subjects/{id}/register")) { "Register" } }
                }
                @if allows(role, Action::RecordCrossing) {
                    li.usa-button-group__item { a.usa-button.usa-button--outline href=(format!("/desk/subjects/{id}/crossing")) { "Record an entry or exit" } }
                }
                @if allows(role, Action::BookAppointment) {
                    li.usa-button-group__item { a.usa-button.usa-button--outline href=(format!("/desk/subjects/{id}/appointment")) { "Book or move an appointment" } }
                }
                @if allows(role, Action::Designate) {
                    li.usa-button-group__item { a.usa-button.usa-button--outline href=(format!("/desk/subjects/{id}/designate")) { "Designate" } }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Uploads

/// A multipart form, read whole: text fields by name (repeatable) and files by
/// field name (a file field left empty sends no file).
#[derive(Default)]
struct Upload {
    text: HashMap<String, Vec<String>>,
    files: HashMap<String, Vec<Vec<u8>>>,
}

impl Upload {
    async fn read(mut m: Multipart) -> Result<Upload, String> {
        let mut u = Upload::default();
        loop {
            let field = match m.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(u),
                Err(e) => return Err(format!("the form could not be read ({e}): send it again")),
            };
            let name = field.name().unwrap_or_default().to_string();
            let is_file = field.file_name().is_some();
            let bytes =
                field.bytes().await.map_err(|e| format!("{name}: the upload broke off ({e}): send it again"))?;
            if is_file {
                if !bytes.is_empty() {
                    u.files.entry(name).or_default().push(bytes.to_vec());
                }
            } else {
                let s = String::from_utf8(bytes.to_vec()).map_err(|_| format!("{name}: is not text"))?;
                u.text.entry(name).or_default().push(s);
            }
        }
    }
    fn get(&self, name: &str) -> &str {
        self.text.get(name).and_then(|v| v.first()).map_or("", |s| s.trim())
    }
    fn all(&self, name: &str) -> Vec<&str> {
        self.text.get(name).map(|v| v.iter().map(|s| s.trim()).collect()).unwrap_or_default()
    }
    fn files(&self, name: &str) -> &[Vec<u8>] {
        self.files.get(name).map_or(&[], |v| v.as_slice())
    }
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Base64 minutiae records, image records, and an ANSI/NIST-ITL transaction.
type Fingerprints = (Vec<String>, Vec<String>, Option<String>);

/// Uploaded fingerprint files, sorted by what they are: ISO/IEC 19794-2 minutiae
/// records, 19794-4 image records, or one ANSI/NIST-ITL transaction.
fn sort_fingerprints(files: &[Vec<u8>]) -> Result<Fingerprints, String> {
    let (mut minutiae, mut images, mut an2k) = (vec![], vec![], None);
    for (i, f) in files.iter().enumerate() {
        if f.starts_with(b"FMR\0") {
            minutiae.push(b64(f));
        } else if f.starts_with(b"FIR\0") {
            images.push(b64(f));
        } else if f.starts_with(b"1.001:") {
            if an2k.is_some() {
                return Err("fingerprints: send one ANSI/NIST-ITL transaction at a time".into());
            }
            an2k = Some(b64(f));
        } else {
            return Err(format!(
                "fingerprints: file {} is neither an ISO/IEC 19794-2 or 19794-4 record nor an ANSI/NIST-ITL transaction",
                i + 1
            ));
        }
    }
    Ok((minutiae, images, an2k))
}

/// The photograph field: a JPEG or PNG becomes an ISO/IEC 19794-5 record; a
/// record is taken as it is.
fn photo(files: &[Vec<u8>]) -> Result<Option<Vec<u8>>, String> {
    match files {
        [] => Ok(None),
        [f] if f.starts_with(b"FAC\0") => Ok(Some(f.clone())),
        [f] => fairgate_core::face::photo_record(f).map(Some).map_err(|e| e.to_string()),
        _ => Err("photograph: send one".into()),
    }
}

/// The camera-or-file photograph field, and the fingerprint file field.
fn capture_fields(photo_label: &str, with_excuses: bool) -> Markup {
    html! {
        fieldset.usa-fieldset data-camera {
            legend.usa-legend { (photo_label) }
            label.usa-label for="photo" { "Photograph (JPEG or PNG, or an ISO/IEC 19794-5 record)" }
            span.usa-hint #photo-hint { "Upload a file, or take the photograph with the desk's camera if the browser offers it." }
            input.usa-file-input #photo name="photo" type="file" accept="image/jpeg,image/png,.fac" aria-describedby="photo-hint";
        }
        label.usa-label for="fingerprints" { "Fingerprints" }
        span.usa-hint #fingerprints-hint { "ISO/IEC 19794-2 minutiae or 19794-4 image records (one or more), or one ANSI/NIST-ITL transaction from the capture station." }
        input.usa-file-input #fingerprints name="fingerprints" type="file" multiple aria-describedby="fingerprints-hint";
        @if with_excuses {
            fieldset.usa-fieldset {
                legend.usa-legend { "Not captured, and why" }
                span.usa-hint #excuse-hint { "Tick what could not be taken. The reason is recorded; nobody is refused for it." }
                div.usa-checkbox {
                    input.usa-checkbox__input #excuse-face type="checkbox" name="not_captured" value="face";
                    label.usa-checkbox__label for="excuse-face" { "Photograph" }
                }
                @for p in 1..=10u8 {
                    div.usa-checkbox {
                        input.usa-checkbox__input id=(format!("excuse-{p}")) type="checkbox" name="not_captured" value=(Biometric::Finger(p).name());
                        label.usa-checkbox__label for=(format!("excuse-{p}")) { (Biometric::Finger(p).name().replace('-', " ")) }
                    }
                }
                label.usa-label for="not_captured_reason" { "Reason" }
                select.usa-select #not_captured_reason name="not_captured_reason" aria-describedby="excuse-hint" {
                    option value="" { "- Select if anything is ticked -" }
                    @for r in NotCapturedReason::ALL { option value=(r.as_str()) { (r.as_str().replace('-', " ")) } }
                }
            }
        }
    }
}

fn comparison_text(c: &Comparison) -> Markup {
    let what = match c.modality {
        fairgate_core::matching::Modality::Face => "Photograph",
        fairgate_core::matching::Modality::Finger => "Fingerprints",
    };
    html! {
        li {
            strong { (what) ": " }
            @match c.decision {
                Decision::Match => "match",
                Decision::NoMatch => "no match",
                Decision::NotChecked => "not checked (nothing on record to compare, or no matcher): never held against the person",
            }
            @if let Some(s) = c.score { " (score " (format!("{s:.4}")) ", threshold " (format!("{:.4}", c.threshold)) ")" }
            @if c.referral == Referral::SecondaryInspection {
                ". " strong { "Refer to secondary inspection:" } " an officer looks again, with the person. The record stands whatever they find."
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Register

/// The interview questions of the programs that select the person (and the
/// obligations read that tells which, logged for registration).
fn questions(
    st: &AppState,
    answer: &fairgate_store::registry::compliance::ObligationsAnswer,
) -> Result<Vec<String>, RegistryError> {
    let terms = st.registry.program_terms()?;
    let mut out: Vec<String> = vec![];
    for p in answer.programs.iter().filter(|p| p.selected) {
        if let Some(t) = terms.iter().find(|t| t.spec.program.id == p.program && t.spec.program.version == p.version) {
            for q in &t.spec.interview.questions {
                if !out.contains(q) {
                    out.push(q.clone());
                }
            }
        }
    }
    Ok(out)
}

/// `GET /desk/subjects/{id}/register`: the registration form, with the program's
/// questions and the obligations panel (a read for registration, logged).
pub async fn register_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let id = match subject(&id) {
        Ok(i) => i,
        Err(r) => return Ok(*r),
    };
    let (csrf, cookie) = csrf_token(&st, &headers);
    let actor = caller.actor();
    let st2 = st.clone();
    let read = blocking(move || {
        let today = st2.today();
        Ok(st2
            .registry
            .read_obligations(st2.now(), &actor, Purpose::Registration, id, today, "web /desk/subjects/{id}/register")
            .and_then(|(a, r)| Ok((questions(&st2, &a)?, a, r))))
    })
    .await?;
    let (questions, answer, logged) = match read {
        Ok(x) => x,
        Err(e) => return registry_refusal(e),
    };
    let body = html! {
        h1 { "Register " code { (id) } }
        (crate::desk::receipt(&logged, Purpose::Registration))
        h2 { "Obligations" }
        (obligations_panel(&answer, &logged))
        form.usa-form.usa-form--large method="post" action=(format!("/desk/subjects/{id}/register")) enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            label.usa-label for="kind" { "Kind of registration" }
            select.usa-select #kind name="kind" required {
                option value="port-of-entry" { "At a port of entry" }
                option value="office" { "At an office" }
                option value="re-registration" { "Re-registration (at an office)" }
            }
            (place_select(&st, "place", "Where", &[PlaceKind::Port, PlaceKind::Office]))
            fieldset.usa-fieldset {
                legend.usa-legend.usa-legend--large { "Interview" }
                @if questions.is_empty() { p { "No program in force that selects this person sets questions." } }
                @for (i, q) in questions.iter().enumerate() {
                    input type="hidden" name="question" value=(q);
                    label.usa-label for=(format!("answer-{i}")) { (q) }
                    textarea.usa-textarea id=(format!("answer-{i}")) name="answer" rows="2" {}
                }
                label.usa-label for="notes" { "Notes" }
                textarea.usa-textarea #notes name="notes" rows="3" {}
                div.usa-checkbox {
                    input.usa-checkbox__input #interpreter type="checkbox" name="interpreter_present" value="true";
                    label.usa-checkbox__label for="interpreter" { "An interpreter was present" }
                }
                div.usa-checkbox {
                    input.usa-checkbox__input #counsel type="checkbox" name="counsel_present" value="true";
                    label.usa-checkbox__label for="counsel" { "Counsel was present" }
                }
            }
            fieldset.usa-fieldset {
                legend.usa-legend.usa-legend--large { "Captures" }
                (capture_fields("Photograph", true))
            }
            div.usa-checkbox {
                input.usa-checkbox__input #voluntary type="checkbox" name="voluntary" value="true";
                label.usa-checkbox__label for="voluntary" { "No program requires this person to register: they register of their own accord" }
            }
            button.usa-button type="submit" { "Record the registration" }
        }
    };
    Ok(with_cookie(page("Register", body), cookie))
}

/// The registration form's upload, as the API's input (captures, and the same
/// captures as the 1:1 probe against earlier registrations).
fn registration_input(u: &Upload) -> Result<RegistrationInput, String> {
    let answers = u.all("answer");
    let questions: Vec<QuestionAnswer> = u
        .all("question")
        .into_iter()
        .zip(answers.iter().chain(std::iter::repeat(&"")))
        .map(|(q, a)| QuestionAnswer { question: q.to_string(), answer: a.to_string() })
        .collect();
    let notes = u.get("notes").to_string();
    let interpreter_present = u.get("interpreter_present") == "true";
    let counsel_present = u.get("counsel_present") == "true";
    let interview = (!questions.is_empty() || !notes.is_empty() || interpreter_present || counsel_present)
        .then_some(Interview { questions, notes, interpreter_present, counsel_present });
    let face = photo(u.files("photo"))?;
    let (fingerprints, finger_images, an2k) = sort_fingerprints(u.files("fingerprints"))?;
    let excused = u.all("not_captured");
    let reason = u.get("not_captured_reason");
    if !excused.is_empty() && reason.is_empty() {
        return Err("not_captured_reason: choose why what is ticked was not captured".into());
    }
    let not_captured: Vec<NotCapturedInput> =
        excused.iter().map(|w| NotCapturedInput { what: w.to_string(), reason: reason.to_string() }).collect();
    let any = face.is_some() || !fingerprints.is_empty() || !finger_images.is_empty() || an2k.is_some();
    let captures = (any || !not_captured.is_empty()).then(|| CapturesInput {
        face: face.as_deref().map(b64),
        fingerprints: fingerprints.clone(),
        finger_images,
        an2k,
        not_captured,
    });
    // The same captures, compared 1:1 with the person's earlier registrations.
    let probe = (face.is_some() || !fingerprints.is_empty())
        .then(|| ProbeInput { fingerprints, face: face.as_deref().map(b64) });
    Ok(RegistrationInput {
        kind: u.get("kind").to_string(),
        place: u.get("place").to_string(),
        at: None,
        interview,
        voluntary: u.get("voluntary") == "true",
        captures,
        probe,
    })
}

/// `POST /desk/subjects/{id}/register`: the registration recorded, then the
/// printable receipt (with the access code for the portal) and the checks' results.
pub async fn register(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path(id): Path<String>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let id = match subject(&id) {
        Ok(i) => i,
        Err(r) => return Ok(*r),
    };
    let Ok(form) = form else { return Ok(refused(StatusCode::BAD_REQUEST, "Send the form again (as a form upload).")) };
    let u = match Upload::read(form).await {
        Ok(u) => u,
        Err(e) => return Ok(refused(StatusCode::BAD_REQUEST, &e)),
    };
    if !csrf_ok(&headers, u.get("csrf")) {
        return Ok(csrf_refused());
    }
    let input = match registration_input(&u) {
        Ok(i) => i,
        Err(e) => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, &e)),
    };
    let probe = match read_probe(&st, input.probe.clone()).await {
        Ok(p) => p,
        Err(p) => return Ok(problem_refusal(p)),
    };
    let place = input.place.trim().to_uppercase();
    let actor = caller.actor();
    let st2 = st.clone();
    let done = blocking(move || {
        let actor = caller.actor();
        // The 1:N search before the writer lock (see subjects::create_registration).
        let pre = st2.registry.presearch(&actor, id, &input);
        Ok(retrying(|| {
            st2.registry.write(st2.now(), |b| {
                let number = b.record_registration_presearched(&actor, id, &input, pre.clone())?;
                let code = b.access_code(&number).unwrap_or_default().to_string();
                let found = b.identification(&number).map(|i| i.candidates.len());
                Ok((number, code, b.language_of(id)?, found))
            })
        }))
    })
    .await?;
    let ((number, code, lang, candidates), r) = match done {
        Ok(x) => x,
        Err(p) => return Ok(problem_refusal(p)),
    };
    tracing::info!(subject = %id, leaf = r.leaf_index, candidates = candidates.unwrap_or(0), "registration recorded (web)");
    let (fingers, face) = match compare_probe(
        &st,
        actor,
        Purpose::Registration,
        id,
        place,
        probe,
        r.leaf_index,
        "web /desk/subjects/{id}/register",
    )
    .await
    {
        Ok(x) => x,
        Err(p) => return Ok(problem_refusal(p)),
    };
    let printed = fairgate_core::i18n::receipt(lang, &number.to_string(), &code, r.leaf_index, r.tree_size);
    let body = html! {
        h1 { "Registered" }
        (success_alert(html! { "Registration " strong { (number) } " recorded at leaf " (r.leaf_index) " of the public log." }))
        @if fingers.is_some() || face.is_some() {
            h2 { "1:1 check with earlier registrations" }
            ul.usa-list { @if let Some(c) = &fingers { (comparison_text(c)) } @if let Some(c) = &face { (comparison_text(c)) } }
        }
        @match candidates {
            Some(n) if n > 0 => p { strong { (n) " people on record look alike" } " (1:N search). A supervisor decides, with reasons; the registration stands." },
            Some(_) => p { "1:N search: nobody else on record looks alike." },
            None => {},
        }
        h2 { "Receipt for the person" }
        p.fairgate-no-print { "Print it and hand it over: it carries the access code for the portal, shown only here." }
        pre.fairgate-receipt #receipt lang=(lang.tag()) dir=(lang.dir()) { (printed) }
        p.fairgate-no-print {
            button.usa-button type="button" data-print hidden { "Print the receipt" }
            a.usa-button.usa-button--outline href=(record_link(id, Purpose::Registration)) { "Back to the record" }
        }
    };
    Ok(page("Registered", body).into_response())
}

// ---------------------------------------------------------------------------
// Entries and exits

/// `GET /desk/subjects/{id}/crossing`: the entry-or-exit form.
pub async fn crossing_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    if let Err(r) = staff(session) {
        return Ok(*r);
    }
    let id = match subject(&id) {
        Ok(i) => i,
        Err(r) => return Ok(*r),
    };
    let (csrf, cookie) = csrf_token(&st, &headers);
    let now = st.now().to_zoned(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%dT%H:%M").to_string();
    let body = html! {
        h1 { "Record an entry or exit" }
        p { "For " code { (id) } ". The crossing is recorded whatever the checks say; a no-match refers the person to secondary inspection." }
        form.usa-form.usa-form--large method="post" action=(format!("/desk/subjects/{id}/crossing")) enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            fieldset.usa-fieldset {
                legend.usa-legend { "Direction" }
                div.usa-radio {
                    input.usa-radio__input #entry type="radio" name="direction" value="entry" required;
                    label.usa-radio__label for="entry" { "Entry" }
                }
                div.usa-radio {
                    input.usa-radio__input #exit type="radio" name="direction" value="exit";
                    label.usa-radio__label for="exit" { "Exit" }
                }
            }
            (place_select(&st, "port", "Port", &[PlaceKind::Port]))
            label.usa-label for="at" { "When (UTC)" }
            input.usa-input #at name="at" type="datetime-local" value=(now) required;
            label.usa-label for="admission_class" { "Admission class (entries)" }
            span.usa-hint #class-hint { "For example B-2." }
            input.usa-input #admission_class name="admission_class" aria-describedby="class-hint";
            label.usa-label for="admitted_until" { "Admitted until (entries)" }
            input.usa-input #admitted_until name="admitted_until" type="date";
            fieldset.usa-fieldset {
                legend.usa-legend.usa-legend--large { "1:1 check (optional)" }
                (capture_fields("Photograph at the port", false))
            }
            button.usa-button type="submit" { "Record the crossing" }
        }
    };
    Ok(with_cookie(page("Entry or exit", body), cookie))
}

/// `POST /desk/subjects/{id}/crossing`: the crossing recorded, then the 1:1
/// checks and any overstay flag.
pub async fn crossing(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path(id): Path<String>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let id = match subject(&id) {
        Ok(i) => i,
        Err(r) => return Ok(*r),
    };
    let Ok(form) = form else { return Ok(refused(StatusCode::BAD_REQUEST, "Send the form again (as a form upload).")) };
    let u = match Upload::read(form).await {
        Ok(u) => u,
        Err(e) => return Ok(refused(StatusCode::BAD_REQUEST, &e)),
    };
    if !csrf_ok(&headers, u.get("csrf")) {
        return Ok(csrf_refused());
    }
    let probe = (|| -> Result<Option<ProbeInput>, String> {
        let face = photo(u.files("photo"))?;
        let (fingerprints, images, an2k) = sort_fingerprints(u.files("fingerprints"))?;
        if !images.is_empty() || an2k.is_some() {
            return Err("fingerprints: a check at the port compares minutiae records (ISO/IEC 19794-2)".into());
        }
        Ok((face.is_some() || !fingerprints.is_empty())
            .then(|| ProbeInput { fingerprints, face: face.as_deref().map(b64) }))
    })();
    let probe = match probe {
        Ok(p) => p,
        Err(e) => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, &e)),
    };
    // The form's datetime-local has no offset: the desk's times are UTC.
    let at = u.get("at");
    let at = if at.len() == 16 { format!("{at}:00Z") } else { at.to_string() };
    let optional = |name: &str| Some(u.get(name).to_string()).filter(|s| !s.is_empty());
    let input = fairgate_core::crossing::CrossingInput {
        direction: u.get("direction").to_string(),
        port: u.get("port").to_string(),
        at,
        admission_class: optional("admission_class"),
        admitted_until: optional("admitted_until"),
        probe: probe.clone(),
    };
    let probe = match read_probe(&st, probe).await {
        Ok(p) => p,
        Err(p) => return Ok(problem_refusal(p)),
    };
    let port = input.port.trim().to_uppercase();
    let actor = caller.actor();
    let st2 = st.clone();
    let done = blocking(move || {
        let actor = caller.actor();
        Ok(retrying(|| {
            st2.registry
                .write(st2.now(), |b| b.record_crossing_checked(&actor, id, &input, "web /desk/subjects/{id}/crossing"))
        }))
    })
    .await?;
    let ((_, overstaying), r) = match done {
        Ok(x) => x,
        Err(p) => return Ok(problem_refusal(p)),
    };
    tracing::info!(subject = %id, leaf = r.leaf_index, flagged = overstaying.is_some(), "crossing recorded (web)");
    let (fingers, face) = match compare_probe(
        &st,
        actor,
        Purpose::BorderCheck,
        id,
        port,
        probe,
        u64::MAX,
        "web /desk/subjects/{id}/crossing",
    )
    .await
    {
        Ok(x) => x,
        Err(p) => return Ok(problem_refusal(p)),
    };
    let body = html! {
        h1 { "Crossing recorded" }
        (success_alert(html! { "Recorded at leaf " (r.leaf_index) " of the public log." }))
        @if let Some(o) = &overstaying {
            div.usa-alert.usa-alert--warning role="status" { div.usa-alert__body {
                h2.usa-alert__heading { "Overstaying on this day" }
                p.usa-alert__text { (o.days) " days beyond the permitted stay, " (o.first_day) " to " (o.last_day) ". A fact for an adjudicator, not a finding: the crossing is recorded." }
            } }
        }
        @if fingers.is_some() || face.is_some() {
            h2 { "1:1 check" }
            ul.usa-list { @if let Some(c) = &fingers { (comparison_text(c)) } @if let Some(c) = &face { (comparison_text(c)) } }
        }
        p { a.usa-button.usa-button--outline href=(record_link(id, Purpose::BorderCheck)) { "Back to the record" } }
    };
    Ok(page("Crossing recorded", body).into_response())
}

// ---------------------------------------------------------------------------
// Designate

/// `GET /desk/subjects/{id}/designate`: the designation form (a reason from the
/// list, the facts, a case number for a referral).
pub async fn designate_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    if let Err(r) = staff(session) {
        return Ok(*r);
    }
    let id = match subject(&id) {
        Ok(i) => i,
        Err(r) => return Ok(*r),
    };
    let (csrf, cookie) = csrf_token(&st, &headers);
    let body = html! {
        h1 { "Designate for closer monitoring" }
        p { "For " code { (id) } ". A designation has effect only once a supervisor approves it, within 72 hours; it lapses otherwise. Auditors see the statistics." }
        form.usa-form.usa-form--large method="post" action=(format!("/desk/subjects/{id}/designate")) {
            input type="hidden" name="csrf" value=(csrf);
            label.usa-label for="reason" { "Reason" }
            select.usa-select #reason name="reason" required {
                option value="" { "- Select -" }
                @for r in fairgate_core::designation::Reason::ALL { option value=(r.as_str()) { (r.as_str().replace('-', " ")) } }
            }
            label.usa-label for="facts" { "What was found" }
            span.usa-hint #facts-hint { "In plain words, 20 to 2,000 characters. Never nationality, religion or anything else a program may not select by." }
            textarea.usa-textarea #facts name="facts" rows="4" required minlength="20" maxlength="2000" aria-describedby="facts-hint" {}
            label.usa-label for="case_number" { "Case number (required for a referral)" }
            input.usa-input #case_number name="case_number";
            (place_select(&st, "place", "Where", &[PlaceKind::Port, PlaceKind::Office]))
            button.usa-button type="submit" { "Designate" }
        }
    };
    Ok(with_cookie(page("Designate", body), cookie))
}

#[derive(Deserialize)]
pub struct DesignateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    facts: String,
    #[serde(default)]
    case_number: String,
    #[serde(default)]
    place: String,
}

/// `POST /desk/subjects/{id}/designate`.
pub async fn designate(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path(id): Path<String>,
    form: Result<Form<DesignateForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (caller, f) = match crate::desk::staff_form(session, &headers, form) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let id = match subject(&id) {
        Ok(i) => i,
        Err(r) => return Ok(*r),
    };
    let input = fairgate_core::designation::DesignationInput {
        reason: f.reason,
        facts: f.facts,
        case_number: Some(f.case_number).filter(|c| !c.trim().is_empty()),
        place: f.place,
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let done = blocking(move || Ok(st2.registry.write(st2.now(), |b| b.designate(&actor, id, &input)))).await?;
    match done {
        Ok((number, r)) => {
            tracing::info!(subject = %id, number, "designated (web)");
            let body = html! {
                h1 { "Designation " (number) " made" }
                (success_alert(html! { "Recorded at leaf " (r.leaf_index) ". It waits for a supervisor's review (72 hours)." }))
                p { a.usa-button.usa-button--outline href=(record_link(id, Purpose::BorderCheck)) { "Back to the record" } }
            };
            Ok(page("Designated", body).into_response())
        }
        Err(e) => registry_refusal(e),
    }
}

crate::desk::csrf_forms!(DesignateForm);
