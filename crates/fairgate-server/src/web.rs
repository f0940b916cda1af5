//! The web pages: a home page that says what Fairgate is, and sign-in / sign-out
//! with a session cookie. Pages are server-rendered HTML (maud) and need no script.

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

pub async fn home(session: WebSession) -> Markup {
    page(
        "Home",
        html! {
            h1 { "Fairgate" }
            p { "Entry-exit registration records for non-citizens: registrations, interviews, entries and exits, and how long each person stayed. It is built so that it cannot single people out." }
            ul {
                li { strong { "No singling out." } " Who must register is declared in a program that cannot select by race, religion, national origin, sex, language or name." }
                li { strong { "Sunset and repeal." } " Every program ends; nothing from a repealed program is held against anyone." }
                li { strong { "Real erasure." } " Personal data is encrypted under a key per person; erasing destroys the key." }
                li { strong { "Every use is visible." } " Every read states a purpose and is written to a public, tamper-evident log first." }
            }
            p { "The log's latest signed checkpoint: " a href="/log/checkpoint" { "/log/checkpoint" } ". The API: " a href="/openapi.json" { "/openapi.json" } "." }
            @match session.0 {
                Some((caller, _)) => {
                    p { "Signed in as " strong { (caller.name) } " (" (caller.role) ")." }
                    form method="post" action="/logout" { button type="submit" { "Sign out" } }
                }
                None => p { a href="/login" { "Sign in" } }
            }
        },
    )
}

fn login_form(error: Option<&str>) -> Markup {
    page(
        "Sign in",
        html! {
            h1 { "Sign in" }
            @if let Some(e) = error { p class="error" role="alert" { (e) } }
            form method="post" action="/login" {
                label for="name" { "User name" }
                input id="name" name="name" autocomplete="username" required;
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
        },
    )
}

pub async fn login_page() -> Markup {
    login_form(None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
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
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, Problem> {
    let Ok(Form(form)) = form else {
        return Ok(
            (StatusCode::BAD_REQUEST, login_form(Some("Fill in both the user name and the password."))).into_response()
        );
    };
    let now = st.now();
    let keys = [crate::limits::Key::account(&form.name), crate::limits::Key::Address(addr.0)];
    if !st.limits.allowed(&keys, now) {
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            login_form(Some(&format!(
                "Too many failed sign-ins for this account or from this address: wait {} minutes.",
                crate::limits::WINDOW_MINUTES
            ))),
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
        None => Ok((StatusCode::UNAUTHORIZED, login_form(Some("The user name or password is wrong."))).into_response()),
    }
}

pub async fn logout(State(st): State<AppState>, session: WebSession, _h: HeaderMap) -> Result<Response, Problem> {
    if let Some((caller, secret)) = session.0 {
        let st2 = st.clone();
        blocking(move || st2.registry.sign_out(&secret).map_err(|_| Problem::internal())).await?;
        tracing::info!(user = %caller.user_id, "signed out");
    }
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie(&st, "", 0));
    Ok(resp)
}
