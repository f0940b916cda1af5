//! The web pages: a home page that says what Fairgate is, and sign-in / sign-out
//! with a session cookie (the desks are in `desk`). Pages are server-rendered HTML
//! (maud) in the U.S. Web Design System's layout, and need no script.
//! Every form carries a CSRF token (double submit against a SameSite=Strict cookie).

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{blocking, Caller, WebSession, SESSION_COOKIE, SESSION_HOURS};
use crate::problem::Problem;
use crate::views::page;
use crate::AppState;

/// The cookie that carries a form's CSRF token (double submit: the form sends the
/// same value in its `csrf` field; another site can neither read the cookie nor
/// send it, as it is SameSite=Strict).
pub const CSRF_COOKIE: &str = "fairgate_csrf";

/// The request's CSRF token, or a new one (with the cookie to set) when it has none.
pub(crate) fn csrf_token(st: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(t) = crate::auth::cookie(headers, CSRF_COOKIE).filter(|t| t.len() == 32) {
        return (t, None);
    }
    let t: String = st.random::<16>().iter().map(|b| format!("{b:02x}")).collect();
    let secure = if st.secure_cookies { "; Secure" } else { "" };
    let c = HeaderValue::from_str(&format!("{CSRF_COOKIE}={t}; HttpOnly; SameSite=Strict; Path=/{secure}")).ok();
    (t, c)
}

/// Does the form's `csrf` field match the cookie? Compared without early exit.
pub(crate) fn csrf_ok(headers: &HeaderMap, field: &str) -> bool {
    crate::auth::cookie(headers, CSRF_COOKIE)
        .is_some_and(|c| c.len() == field.len() && c.bytes().zip(field.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0)
}

pub(crate) fn csrf_refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        page(
            "Form expired",
            html! { h1 { "This form has expired" } p { "Reload the page and send the form again. (It carried no valid form token: the field csrf must match the cookie this site set.)" } },
        ),
    )
        .into_response()
}

pub(crate) fn with_cookie(resp: impl IntoResponse, cookie: Option<HeaderValue>) -> Response {
    let mut resp = resp.into_response();
    if let Some(c) = cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

pub async fn home(State(st): State<AppState>, headers: HeaderMap, session: WebSession) -> Response {
    let (csrf, cookie) = csrf_token(&st, &headers);
    with_cookie(home_page(session, &csrf), cookie)
}

fn home_page(session: WebSession, csrf: &str) -> Markup {
    page(
        "Home",
        html! {
            h1 { "Fairgate" }
            p.usa-intro { "Entry-exit registration records for non-citizens: registrations, interviews, entries and exits, and how long each person stayed. It is built so that it cannot single people out." }
            ul.usa-list {
                li { strong { "No singling out." } " Who must register is declared in a program that cannot select by race, religion, national origin, sex, language or name." }
                li { strong { "Sunset and repeal." } " Every program ends; nothing from a repealed program is held against anyone." }
                li { strong { "Real erasure." } " Personal data is encrypted under a key per person; erasing destroys the key." }
                li { strong { "Every use is visible." } " Every read states a purpose and is written to a public, tamper-evident log first." }
            }
            p { "The log's latest signed checkpoint: " a href="/log/checkpoint" { "/log/checkpoint" } ". The API: " a href="/openapi.json" { "/openapi.json" } "." }
            @match session.0 {
                Some((caller, _)) => {
                    p { "Signed in as " strong { (caller.name) } " (" (caller.role) ")." }
                    p { a.usa-button href="/desk" { "Open the desk" } }
                    form method="post" action="/logout" {
                        input type="hidden" name="csrf" value=(csrf);
                        button.usa-button.usa-button--outline type="submit" { "Sign out" }
                    }
                }
                None => p { a.usa-button href="/login" { "Sign in" } }
            }
        },
    )
}

fn login_form(error: Option<&str>, csrf: &str) -> Markup {
    page(
        "Sign in",
        html! {
            h1 { "Sign in" }
            @if let Some(e) = error {
                div.usa-alert.usa-alert--error.usa-alert--slim role="alert" { div.usa-alert__body { p.usa-alert__text { (e) } } }
            }
            form.usa-form method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                label.usa-label for="name" { "User name" }
                input.usa-input id="name" name="name" autocomplete="username" required;
                label.usa-label for="password" { "Password" }
                input.usa-input id="password" name="password" type="password" autocomplete="current-password" required;
                button.usa-button type="submit" { "Sign in" }
            }
        },
    )
}

pub async fn login_page(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let (csrf, cookie) = csrf_token(&st, &headers);
    with_cookie(login_form(None, &csrf), cookie)
}

#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

fn cookie(st: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if st.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub async fn login_submit(
    State(st): State<AppState>,
    addr: crate::limits::ClientAddr,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (csrf, _) = csrf_token(&st, &headers);
    let Ok(Form(form)) = form else {
        return Ok((StatusCode::BAD_REQUEST, login_form(Some("Fill in both the user name and the password."), &csrf))
            .into_response());
    };
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(csrf_refused());
    }
    let now = st.now();
    let keys = [crate::limits::Key::account(&form.name), crate::limits::Key::Address(addr.0)];
    if !st.limits.allowed(&keys, now) {
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            login_form(
                Some(&format!(
                    "Too many failed sign-ins for this account or from this address: wait {} minutes.",
                    crate::limits::WINDOW_MINUTES
                )),
                &csrf,
            ),
        )
            .into_response());
    }
    let st2 = st.clone();
    let secret = st.random::<32>();
    let outcome = crate::limits::hashing(&st, move || {
        st2.registry.sign_in(st2.now(), form.name.trim(), &form.password, secret).map_err(|e| {
            tracing::error!(error = %e, "login failed");
            Problem::internal()
        })
    })
    .await?
    .map(|(account, session)| (Caller(account), session));
    if outcome.is_some() {
        st.limits.succeeded(&keys);
    } else {
        st.limits.failed(&keys, now);
    }
    match outcome {
        Some((caller, session)) => {
            tracing::info!(user = %caller.user_id, "signed in");
            let mut resp = Redirect::to("/").into_response();
            resp.headers_mut().insert(header::SET_COOKIE, cookie(&st, &session, SESSION_HOURS * 3600));
            Ok(resp)
        }
        None => {
            Ok((StatusCode::UNAUTHORIZED, login_form(Some("The user name or password is wrong."), &csrf))
                .into_response())
        }
    }
}

pub async fn logout(
    State(st): State<AppState>,
    session: WebSession,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Result<Response, Problem> {
    if !form.is_ok_and(|Form(f)| csrf_ok(&headers, &f.csrf)) {
        return Ok(csrf_refused());
    }
    if let Some((caller, secret)) = session.0 {
        let st2 = st.clone();
        blocking(move || st2.registry.sign_out(&secret).map_err(|_| Problem::internal())).await?;
        tracing::info!(user = %caller.user_id, "signed out");
    }
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie(&st, "", 0));
    Ok(resp)
}
