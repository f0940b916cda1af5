//! The public's pages that need no account (issue 19 adds the rest): the 90/180
//! stay calculator as a form, the programs with their sunsets, the access policy,
//! the log's checkpoint with its witnesses, and the expungement certificates with
//! how to verify one. Nothing typed into it is stored or logged; it is
//! posted (with the CSRF token) rather than put in a URL, so the dates stay out of
//! browser history and proxies.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use fairgate_core::stay::{Period, Rule};
use maud::{html, Markup};
use serde::Deserialize;

use crate::views::page;
use crate::web::{csrf_ok, csrf_refused, csrf_token, with_cookie};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct CalculatorForm {
    #[serde(default)]
    csrf: String,
    /// One stay a line: `START..END` (ISO dates; both days count).
    #[serde(default)]
    stays: String,
    /// The day asked about; today when empty.
    #[serde(default)]
    on: String,
    /// `N/M`; 90/180 when empty.
    #[serde(default)]
    rule: String,
}

fn calculator_page(csrf: &str, form: &CalculatorForm, result: Option<Result<String, Vec<(String, String)>>>) -> Markup {
    page(
        "Stay calculator",
        html! {
            h1 { "How many days may I stay?" }
            p.usa-intro { "The rule Fairgate applies: at most 90 days of stay in any 180-day period (another rule may be given). Both the entry day and the exit day count. What you type here is not stored." }
            @match &result {
                Some(Ok(answer)) => {
                    div.usa-alert.usa-alert--success role="status" { div.usa-alert__body { h2.usa-alert__heading { "Answer" } p.usa-alert__text { (answer) } } }
                }
                Some(Err(errors)) => {
                    div.usa-alert.usa-alert--error role="alert" {
                        div.usa-alert__body {
                            h2.usa-alert__heading { "Please correct" }
                            ul.usa-list { @for (field, message) in errors { li { strong { (field) } ": " (message) } } }
                        }
                    }
                }
                None => {}
            }
            form.usa-form.usa-form--large method="post" action="/public/calculator" {
                input type="hidden" name="csrf" value=(csrf);
                label.usa-label for="stays" { "Your stays" }
                span.usa-hint #stays-hint { "One a line, first day and last day: 2026-01-05..2026-02-10" }
                textarea.usa-textarea #stays name="stays" rows="6" aria-describedby="stays-hint" { (form.stays) }
                label.usa-label for="on" { "The day you ask about" }
                span.usa-hint #on-hint { "YYYY-MM-DD; today when left empty" }
                input.usa-input #on name="on" value=(form.on) aria-describedby="on-hint" inputmode="numeric";
                label.usa-label for="rule" { "The rule" }
                span.usa-hint #rule-hint { "Days in a period, N/M; 90/180 when left empty" }
                input.usa-input #rule name="rule" value=(form.rule) aria-describedby="rule-hint";
                button.usa-button type="submit" { "Calculate" }
            }
        },
    )
}

/// `GET /public/calculator`: the empty form.
pub async fn calculator(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let (csrf, cookie) = csrf_token(&st, &headers);
    with_cookie(calculator_page(&csrf, &CalculatorForm::default(), None), cookie)
}

/// Work out the answer, or name each field that is wrong.
fn answer(form: &CalculatorForm, today: jiff::civil::Date) -> Result<String, Vec<(String, String)>> {
    let mut errors = Vec::new();
    let rule = match form.rule.trim() {
        "" => Rule::SCHENGEN,
        r => r.parse::<Rule>().unwrap_or_else(|e| {
            errors.push(("rule".to_string(), e.message));
            Rule::SCHENGEN
        }),
    };
    let on = match form.on.trim() {
        "" => today,
        d => fairgate_core::error::parse_date("on", d).unwrap_or_else(|e| {
            errors.push(("on".to_string(), e.message));
            today
        }),
    };
    let mut stays = Vec::new();
    for (i, line) in form.stays.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        match Period::parse(&format!("stays, line {}", i + 1), line) {
            Ok(p) => stays.push(p),
            Err(e) => errors.push((e.field, e.message)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    fairgate_core::stay::calculate(rule, &stays, &[], on)
        .map(|a| fairgate_core::stay::describe(rule, &a))
        .map_err(|e| e.0.into_iter().map(|f| (f.field.replace("stays[", "stays, entry ["), f.message)).collect())
}

/// `POST /public/calculator`: the answer, in sentences.
pub async fn calculate(
    State(st): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<CalculatorForm>, FormRejection>,
) -> Response {
    let (csrf, cookie) = csrf_token(&st, &headers);
    let Ok(Form(form)) = form else {
        let errors = vec![("form".to_string(), "could not be read: send it again".to_string())];
        return (StatusCode::BAD_REQUEST, calculator_page(&csrf, &CalculatorForm::default(), Some(Err(errors))))
            .into_response();
    };
    if !csrf_ok(&headers, &form.csrf) {
        return csrf_refused();
    }
    let today = st.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let result = answer(&form, today);
    let status = if result.is_ok() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    with_cookie((status, calculator_page(&csrf, &form, Some(result))), cookie)
}

/// `GET /public/programs`: every program and version, with its legal basis, dates,
/// status and sunset (the same facts as `GET /programs`, for people).
pub async fn programs(State(st): State<AppState>) -> Result<Response, crate::problem::Problem> {
    let views = crate::auth::blocking(move || {
        let book = st.registry.program_book().map_err(crate::problem::Problem::from)?;
        Ok(crate::programs::all_views(&st, &book))
    })
    .await?;
    let body = html! {
        h1 { "Programs" }
        p.usa-intro { "Who must register is declared in a program: a public file with its legal basis, checked so that it cannot select people by race, religion, national origin, sex, language or name. Every program ends on its sunset day at the latest." }
        @if views.is_empty() { p { "No program has been drafted." } } @else {
            table.usa-table.usa-table--stacked {
                caption { "Every version of every program" }
                thead { tr {
                    th scope="col" { "Program" } th scope="col" { "Version" } th scope="col" { "Status" }
                    th scope="col" { "Legal basis" } th scope="col" { "Starts" } th scope="col" { "Sunset" }
                    th scope="col" { "Impact analysis" } th scope="col" { "Sign-offs" }
                } }
                tbody {
                    @for v in &views {
                        tr {
                            th scope="row" data-label="Program" { (v.title) br; code { (v.id) } }
                            td data-label="Version" { (v.version) }
                            td data-label="Status" { (v.status) }
                            td data-label="Legal basis" { (v.legal_basis) }
                            td data-label="Starts" { (v.starts) }
                            td data-label="Sunset" { strong { (v.sunset) } }
                            td data-label="Impact analysis" {
                                @match v.impact_flagged { Some(true) => "flagged", Some(false) => "cleared", None => "none" }
                            }
                            td data-label="Sign-offs" { (v.sign_offs.len()) }
                        }
                    }
                }
            }
        }
        p { "As data: " a.usa-link href="/programs" { "/programs" } "." }
    };
    Ok(page("Programs", body).into_response())
}

/// `GET /public/policy`: the access policy (the same as `GET /access-policy` and
/// docs/access-policy.md): who may run each command, and who may read for which
/// purpose.
pub async fn policy() -> Response {
    let p = fairgate_core::policy::published();
    let mark = |yes: bool| if yes { "yes" } else { "" };
    let body = html! {
        h1 { "Access policy" }
        p.usa-intro { "Who may do what, in one table in the code. Every read of personal data states a purpose, and is written to the public log before anything is shown." }
        ul.usa-list { @for n in &p.notes { li { (n) } } }
        h2 { "Commands" }
        table.usa-table.usa-table--borderless.usa-table--compact {
            caption { "Role × command" }
            thead { tr { th scope="col" { "Command" } @for r in &p.roles { th scope="col" { (r) } } } }
            tbody {
                @for a in &p.actions {
                    tr { th scope="row" { (a.description) } @for r in &p.roles { td { (mark(a.roles.contains(r))) } } }
                }
            }
        }
        h2 { "Purposes each role may state" }
        table.usa-table.usa-table--borderless.usa-table--compact {
            caption { "Role × purpose" }
            thead { tr { th scope="col" { "Role" } th scope="col" { "Purposes" } } }
            tbody { @for r in &p.purposes { tr { th scope="row" { (r.role) } td { (r.purposes.join(", ")) } } } }
        }
        h2 { "Purposes each read may be made for" }
        table.usa-table.usa-table--borderless.usa-table--compact {
            caption { "Read × purpose" }
            thead { tr { th scope="col" { "Read" } th scope="col" { "Purposes" } } }
            tbody { @for r in &p.reads { tr { th scope="row" { (r.description) } td { (r.purposes.join(", ")) } } } }
        }
        h2 { "Separation of duties" }
        ul.usa-list { @for s in &p.separation_of_duties { li { (s.description) } } }
        p { "As data: " a.usa-link href="/access-policy" { "/access-policy" } "." }
    };
    page("Access policy", body).into_response()
}

/// `GET /public/log`: the log's latest checkpoint (cosigned by the witnesses when
/// there are any), its signatures, and how anyone checks it.
pub async fn log(State(st): State<AppState>) -> Result<Response, crate::problem::Problem> {
    let witnesses = st.witnesses;
    let st2 = st.clone();
    let note = crate::auth::blocking(move || {
        let cp = match witnesses {
            0 => st2.registry.checkpoint(None)?,
            n => st2.registry.latest_cosigned(n)?.map(Some).unwrap_or(st2.registry.checkpoint(None)?),
        };
        cp.map(|c| st2.registry.cosigned_note(&c)).transpose().map_err(crate::problem::Problem::from)
    })
    .await?;
    let key = st.registry.verifier_key();
    // A signed note's signature lines start with an em dash.
    let signatures = note.as_deref().map_or(0, |n| n.lines().filter(|l| l.starts_with('\u{2014}')).count());
    let body = html! {
        h1 { "The public log" }
        p.usa-intro { "Every fact Fairgate records, and every read of personal data, is a leaf of an append-only Merkle tree (RFC 9162). Leaves are encrypted; their number, order and size class are public. Anyone can check that the log only grows." }
        h2 { "Latest checkpoint" }
        @match &note {
            Some(n) => {
                pre.bg-base-lightest.padding-2 { (n) }
                p {
                    (signatures) " signature" @if signatures != 1 { "s" } ": the log's own"
                    @if witnesses > 0 { ", and the cosignatures of the " (witnesses) " witnesses this server submits to (a checkpoint is served once all of them cosigned)" }
                    "."
                }
            }
            None => p { "The server signs its first checkpoint when it starts: reload in a few seconds." }
        }
        h2 { "Check it yourself" }
        ol.usa-list {
            li { "The verifier key of this log: " code { (key) } }
            li { "Run " code { "fairgate audit monitor --url URL --state FILE --key KEY" } " from anywhere: it checks the signature, that the log is consistent with what it saw last time, and the root recomputed from the leaves; it fails with the evidence on a fork or a rewrite." }
            li { "The raw data: " a.usa-link href="/log/checkpoint" { "/log/checkpoint" } ", " code { "/log/leaves" } ", " code { "/log/proof/inclusion" } " and " code { "/log/proof/consistency" } " (described at " a.usa-link href="/openapi.json" { "/openapi.json" } ")." }
        }
    };
    Ok(page("The public log", body).into_response())
}

/// `GET /public/expungements`: every expungement certificate, and how to verify one.
pub async fn expungements(State(st): State<AppState>) -> Result<Response, crate::problem::Problem> {
    let certs =
        crate::auth::blocking(move || st.registry.certificates().map_err(crate::problem::Problem::from)).await?;
    let body = html! {
        h1 { "Expungement certificates" }
        p.usa-intro { "When a person's records, or a repealed program's, are expunged, their keys are destroyed and Fairgate signs a certificate. A person is named only by a pseudonymous id." }
        @if certs.is_empty() { p { "No records have been expunged." } } @else {
            table.usa-table.usa-table--stacked {
                caption { "Certificates, oldest first" }
                thead { tr {
                    th scope="col" { "Whose records" } th scope="col" { "Authority" } th scope="col" { "Expunged" }
                    th scope="col" { "Log leaf" } th scope="col" { "Erased from backups by" }
                } }
                tbody {
                    @for c in &certs {
                        tr {
                            th scope="row" data-label="Whose records" {
                                @match &c.body.scope {
                                    fairgate_core::expungement::Scope::Subject { subject } => { "person " code { (subject) } }
                                    fairgate_core::expungement::Scope::Program { program } => { "program " code { (program) } }
                                }
                            }
                            td data-label="Authority" { (c.body.authority) }
                            td data-label="Expunged" { (c.body.expunged_at) }
                            td data-label="Log leaf" { (c.body.leaf_index) }
                            td data-label="Erased from backups by" {
                                @match c.body.backups_erased_by { Some(d) => (d), None => "when the master key is next rotated" }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Verify a certificate" }
        p {
            "Save one from " a.usa-link href="/expungements" { "/expungements" } " as a file and run "
            code { "fairgate expunge verify CERT.json" } ": it checks the signature, the checkpoint, and that the event is included in the log. "
            "The checkpoint in the certificate must be consistent with the log's: see " a.usa-link href="/public/log" { "the public log" } "."
        }
    };
    Ok(page("Expungement certificates", body).into_response())
}
