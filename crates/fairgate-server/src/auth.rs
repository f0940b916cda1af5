//! Authentication on the HTTP side: turning a bearer token (`Authorization: Bearer`)
//! or a web session cookie into a [`Caller`], and the stated purpose of a read
//! (`Fairgate-Purpose`) into a [`Reader`]. Accounts, passwords and sessions
//! themselves are registry services (`fairgate_store::registry::accounts`); who may
//! do what is the core's policy, checked by the route guard (`routes`) and again by
//! the registry. Nothing here decides anything.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use fairgate_core::access::{Purpose, Role};
use fairgate_store::registry::accounts::Account;
use fairgate_store::store::CredentialKind;

use crate::problem::Problem;
use crate::AppState;

/// How many requests' blocking work (the database, argon2) runs at once. Group
/// commit gathers the commands among them that arrive while a commit is written.
pub const BLOCKING_SLOTS: usize = 32;

/// The header that states why personal data is being read.
pub const PURPOSE_HEADER: &str = "fairgate-purpose";
/// The web session cookie.
pub const SESSION_COOKIE: &str = "fairgate_session";
pub use fairgate_store::registry::accounts::SESSION_HOURS;

/// The signed-in member of staff making a request: their registry account (an
/// extractor needs a type of this crate, hence the wrapper; it reads as the account).
#[derive(Debug, Clone)]
pub struct Caller(pub Account);

impl std::ops::Deref for Caller {
    type Target = Account;
    fn deref(&self) -> &Account {
        &self.0
    }
}

/// Run blocking work (the database, argon2) off the async threads, with the
/// request's idempotency key (see [`crate::idempotency`]) for its first commit.
///
/// At most [`BLOCKING_SLOTS`] run at once; the rest wait here, on the async side. A
/// thousand requests in flight then queue for the database instead of becoming a
/// thousand threads that contend for its locks and each open a connection.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(BLOCKING_SLOTS);
    let _slot = SLOTS.acquire().await.map_err(|_| Problem::internal())?;
    let key = crate::idempotency::current();
    tokio::task::spawn_blocking(move || fairgate_store::registry::idempotency::with_key(key, f))
        .await
        .map_err(|_| Problem::internal())?
}

async fn caller_for(state: &AppState, secret: String, kind: CredentialKind) -> Result<Option<Caller>, Problem> {
    let st = state.clone();
    blocking(move || {
        // A database that cannot be reached answers 503 (try again), not 500.
        st.registry.account_by_credential(st.now(), &secret, kind).map(|a| a.map(Caller)).map_err(Problem::from)
    })
    .await
}

/// The staff account behind the request's bearer token.
pub async fn caller_of(state: &AppState, headers: &HeaderMap) -> Result<Caller, Problem> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        Problem::unauthorized("send `Authorization: Bearer TOKEN` with the token printed by `fairgate user add`")
    })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Problem::unauthorized("the Authorization header must be `Bearer TOKEN`"))?;
    caller_for(state, token.to_string(), CredentialKind::Token)
        .await?
        .ok_or_else(|| Problem::unauthorized("the bearer token is not valid: ask an admin for a new one"))
}

fn purpose_list(role: Role) -> String {
    let list: Vec<&str> = fairgate_core::policy::purposes_for(role).iter().map(|p| p.as_str()).collect();
    if list.is_empty() {
        format!("the role {role} may not read personal data for any purpose")
    } else {
        format!("the role {role} may use: {}", list.join(", "))
    }
}

/// The purpose the request states. Whether the caller may use it for this read is
/// the policy's question, asked by the route guard and the registry.
pub fn purpose_of(caller: &Caller, headers: &HeaderMap) -> Result<Purpose, Problem> {
    let Some(raw) = headers.get(PURPOSE_HEADER) else {
        return Err(Problem::forbidden(
            "purpose-required",
            format!("state why you need this data in the Fairgate-Purpose header; {}", purpose_list(caller.role)),
        )
        .with_errors(vec![fairgate_core::FieldError::new("Fairgate-Purpose", "is missing")]));
    };
    raw.to_str().unwrap_or("").parse::<Purpose>().map_err(|msg| {
        Problem::forbidden("purpose-unknown", format!("{msg}; {}", purpose_list(caller.role)))
            .with_errors(vec![fairgate_core::FieldError::new("Fairgate-Purpose", msg)])
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        // The route guard has resolved it already.
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(c.clone());
        }
        caller_of(state, &parts.headers).await
    }
}

/// A caller and the purpose they stated for a read of personal data.
#[derive(Debug, Clone)]
pub struct Reader {
    pub caller: Caller,
    pub purpose: Purpose,
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let purpose = purpose_of(&caller, &parts.headers)?;
        Ok(Reader { caller, purpose })
    }
}

/// The web session, if the browser sent a valid session cookie.
pub struct WebSession(pub Option<(Caller, String)>);

/// The value of the cookie `name`, if the request sent a non-empty one.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name && !v.is_empty()).then(|| v.to_string())
    })
}

pub fn session_cookie(parts: &Parts) -> Option<String> {
    cookie(&parts.headers, SESSION_COOKIE)
}

impl FromRequestParts<AppState> for WebSession {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let Some(secret) = session_cookie(parts) else { return Ok(WebSession(None)) };
        let caller = caller_for(state, secret.clone(), CredentialKind::Session).await?;
        Ok(WebSession(caller.map(|c| (c, secret))))
    }
}
