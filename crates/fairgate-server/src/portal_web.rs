//! The registrant's portal in the browser (the receipt sends people to `/portal`):
//! activate with the receipt's code, sign in with one's own passphrase, see every
//! record held and everyone who looked at it and why. The session is a cookie for
//! `/portal` only; the registry decides and logs, as for the API (`portal`). Staff
//! credentials never open it. English for now; issue 19 adds Spanish and Arabic.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use fairgate_core::access::Purpose;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::blocking;
use crate::problem::Problem;
use crate::views::page;
use crate::web::{csrf_ok, csrf_refused, csrf_token, with_cookie};
use crate::AppState;

/// The cookie that carries a portal session (its path is `/portal`).
pub const PORTAL_COOKIE: &str = "fairgate_portal";

fn forms(csrf: &str, error: Option<&str>) -> Markup {
    page(
        "Your records",
        html! {
            h1 { "Your records" }
            p.usa-intro { "See every record held on you, and everyone who looked at it and why. You need the registration number and the activation code on your receipt." }
            @if let Some(e) = error {
                div.usa-alert.usa-alert--error.usa-alert--slim role="alert" { div.usa-alert__body { p.usa-alert__text { (e) } } }
            }
            div.grid-row.grid-gap {
                div.tablet:grid-col-6 {
                    h2 { "First time: activate" }
                    form.usa-form method="post" action="/portal/web/activate" {
                        input type="hidden" name="csrf" value=(csrf);
                        label.usa-label for="a-number" { "Registration number" }
                        input.usa-input #a-number name="registration_number" required autocomplete="off";
                        label.usa-label for="a-code" { "Activation code (on your receipt)" }
                        input.usa-input #a-code name="access_code" required autocomplete="off";
                        label.usa-label for="a-pass" { "Choose a passphrase" }
                        span.usa-hint #a-pass-hint { "At least 12 characters. You sign in with it from now on; the code stops working." }
                        input.usa-input #a-pass name="passphrase" type="password" required autocomplete="new-password" aria-describedby="a-pass-hint";
                        button.usa-button type="submit" { "Activate" }
                    }
                }
                div.tablet:grid-col-6 {
                    h2 { "Sign in" }
                    form.usa-form method="post" action="/portal/web/login" {
                        input type="hidden" name="csrf" value=(csrf);
                        label.usa-label for="l-number" { "Registration number" }
                        input.usa-input #l-number name="registration_number" required autocomplete="username";
                        label.usa-label for="l-pass" { "Passphrase" }
                        input.usa-input #l-pass name="passphrase" type="password" required autocomplete="current-password";
                        button.usa-button type="submit" { "Sign in" }
                    }
                }
            }
        },
    )
}

fn session_cookie(st: &AppState, token: &str, max_age: i64) -> HeaderValue {
    let secure = if st.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{PORTAL_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/portal; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The signed-in person, from the portal cookie.
async fn person(st: &AppState, headers: &HeaderMap) -> Result<Option<fairgate_core::ids::SubjectId>, Problem> {
    let Some(token) = crate::auth::cookie(headers, PORTAL_COOKIE).filter(|t| t.starts_with("fgp_")) else {
        return Ok(None);
    };
    let st = st.clone();
    blocking(move || st.registry.portal_subject(st.now(), &token).map_err(|_| Problem::internal())).await
}

/// `GET /portal`: the forms, or the records when signed in.
pub async fn portal(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, Problem> {
    if person(&st, &headers).await?.is_some() {
        return Ok(Redirect::to("/portal/me").into_response());
    }
    let (csrf, cookie) = csrf_token(&st, &headers);
    Ok(with_cookie(forms(&csrf, None), cookie))
}

#[derive(Deserialize)]
pub struct ActivateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    registration_number: String,
    #[serde(default)]
    access_code: String,
    #[serde(default)]
    passphrase: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    registration_number: String,
    #[serde(default)]
    passphrase: String,
}

fn again(csrf: &str, status: StatusCode, message: &str) -> Response {
    (status, forms(csrf, Some(message))).into_response()
}

fn signed_in(st: &AppState, token: &str) -> Response {
    let mut resp = Redirect::to("/portal/me").into_response();
    resp.headers_mut().insert(header::SET_COOKIE, session_cookie(st, token, 3600));
    resp
}

/// What every portal form passes first: its token, then the attempt limits (which
/// also refuse staff credentials). The refusal is the page to answer with.
fn admit_form(
    st: &AppState,
    headers: &HeaderMap,
    addr: crate::limits::ClientAddr,
    csrf: &str,
    sent: &str,
    number: &str,
) -> Result<([crate::limits::Key; 2], jiff::Timestamp), Box<Response>> {
    if !csrf_ok(headers, sent) {
        return Err(Box::new(csrf_refused()));
    }
    crate::portal::admit_attempt(st, headers, addr, number)
        .map_err(|p| Box::new(again(csrf, StatusCode::from_u16(p.status).unwrap_or(StatusCode::FORBIDDEN), &p.detail)))
}

/// `POST /portal/web/activate`.
pub async fn activate(
    State(st): State<AppState>,
    headers: HeaderMap,
    addr: crate::limits::ClientAddr,
    form: Result<Form<ActivateForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (csrf, _) = csrf_token(&st, &headers);
    let Ok(Form(f)) = form else { return Ok(again(&csrf, StatusCode::BAD_REQUEST, "Send the form again.")) };
    let (keys, now) = match admit_form(&st, &headers, addr, &csrf, &f.csrf, &f.registration_number) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let st2 = st.clone();
    let secret = st.random::<48>();
    let outcome = crate::limits::hashing(&st, move || {
        Ok(st2.registry.activate_portal(st2.now(), &f.registration_number, &f.access_code, &f.passphrase, secret))
    })
    .await?;
    use fairgate_store::registry::portal::ActivationRefused as R;
    match outcome {
        Ok(Ok(session)) => {
            st.limits.succeeded(&keys);
            tracing::info!("portal activated (web)");
            Ok(signed_in(&st, &session.token))
        }
        Ok(Err(R::Wrong)) => {
            st.limits.failed(&keys, now);
            Ok(again(&csrf, StatusCode::UNAUTHORIZED, "The registration number or the activation code is not right: check both on your receipt."))
        }
        Ok(Err(R::Used(_))) => Ok(again(&csrf, StatusCode::CONFLICT, "This activation code was already used: sign in with your passphrase. If you did not activate the portal, ask an office for a new code.")),
        Ok(Err(R::Expired)) => Ok(again(&csrf, StatusCode::GONE, "This activation code is more than 30 days old: ask an office for a new one.")),
        Err(fairgate_store::RegistryError::Invalid(e)) => {
            let msg = e.0.iter().map(|x| format!("{}: {}", x.field, x.message)).collect::<Vec<_>>().join("; ");
            Ok(again(&csrf, StatusCode::UNPROCESSABLE_ENTITY, &msg))
        }
        Err(e) => Err(Problem::from(e)),
    }
}

/// `POST /portal/web/login`.
pub async fn login(
    State(st): State<AppState>,
    headers: HeaderMap,
    addr: crate::limits::ClientAddr,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (csrf, _) = csrf_token(&st, &headers);
    let Ok(Form(f)) = form else { return Ok(again(&csrf, StatusCode::BAD_REQUEST, "Send the form again.")) };
    let (keys, now) = match admit_form(&st, &headers, addr, &csrf, &f.csrf, &f.registration_number) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let st2 = st.clone();
    let secret = st.random::<32>();
    let outcome = crate::limits::hashing(&st, move || {
        st2.registry
            .portal_sign_in(st2.now(), &f.registration_number, &f.passphrase, secret)
            .map_err(|_| Problem::internal())
    })
    .await?;
    match outcome {
        Some(session) => {
            st.limits.succeeded(&keys);
            Ok(signed_in(&st, &session.token))
        }
        None => {
            st.limits.failed(&keys, now);
            Ok(again(
                &csrf,
                StatusCode::UNAUTHORIZED,
                "The registration number or the passphrase is not right, or the portal is not activated yet.",
            ))
        }
    }
}

/// `GET /portal/me`: every record held on the person, and every access to it. The
/// read is logged (subject-access) like any other.
pub async fn me(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, Problem> {
    let Some(subject) = person(&st, &headers).await? else { return Ok(Redirect::to("/portal").into_response()) };
    let (csrf, cookie) = csrf_token(&st, &headers);
    let actor = fairgate_core::access::Actor::new(
        fairgate_core::policy::registrant_id(&subject),
        fairgate_core::access::Role::Registrant,
        "the person themselves",
    );
    let st2 = st.clone();
    let (t, logged, disclosures) = blocking(move || {
        let (t, r) = st2
            .registry
            .read_timeline(st2.now(), &actor, Purpose::SubjectAccess, subject, "web /portal/me")
            .map_err(Problem::from)?;
        let (d, _) =
            st2.registry.read_disclosures(st2.now(), &actor, subject, "web /portal/me").map_err(Problem::from)?;
        Ok((t, r, d))
    })
    .await?;
    let p = &t.person;
    let body = html! {
        h1 { "Your records" }
        p { (p.surname) ", " (p.given_names) " · " (p.document.kind) " " (p.document.number) }
        p.text-base-dark { "This page was logged as your own read, at leaf " (logged.leaf_index) " of the public log." }
        h2 { "Registrations" }
        ul.usa-list { @for r in &t.registrations { li { (r.number) " · " (r.registration.place) " · " (r.registration.at) } } }
        h2 { "Entries and exits" }
        @if t.crossings.is_empty() { p { "None recorded." } } @else {
            ul.usa-list { @for c in &t.crossings { li { (format!("{:?}", c.crossing.direction)) " · " (c.crossing.port) " · " (c.crossing.at) } } }
        }
        h2 { "Who looked at your records, and why" }
        table.usa-table.usa-table--stacked {
            caption { "Every access, oldest first" }
            thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Why" } th scope="col" { "What" } } }
            tbody {
                @for d in &disclosures {
                    tr {
                        th scope="row" data-label="When" { (d.at) }
                        td data-label="Who" { (d.agency) " (" (d.role) ")" }
                        td data-label="Why" { (d.purpose) }
                        td data-label="What" { (d.fields.join(", ")) }
                    }
                }
            }
        }
        form method="post" action="/portal/web/logout" {
            input type="hidden" name="csrf" value=(csrf);
            button.usa-button.usa-button--outline type="submit" { "Sign out" }
        }
    };
    Ok(with_cookie(page("Your records", body), cookie))
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /portal/web/logout`: the session ends (its token opens nothing more) and
/// the cookie is cleared.
pub async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Result<Response, Problem> {
    match form {
        Ok(Form(f)) if csrf_ok(&headers, &f.csrf) => {
            if let Some(token) = crate::auth::cookie(&headers, PORTAL_COOKIE) {
                let st2 = st.clone();
                blocking(move || st2.registry.portal_sign_out(&token).map_err(|_| Problem::internal())).await?;
            }
            let mut resp = Redirect::to("/portal").into_response();
            resp.headers_mut().insert(header::SET_COOKIE, session_cookie(&st, "", 0));
            Ok(resp)
        }
        _ => Ok(csrf_refused()),
    }
}
