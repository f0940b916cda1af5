//! Authentication: local accounts with argon2id password hashes, long-lived API
//! tokens (`Authorization: Bearer`) and web session cookies. Only SHA-256 hashes of
//! tokens and sessions are stored.
//!
//! The extractors here turn a request into a [`Caller`], and check the access
//! matrix: [`Reader`] for reads of personal data (with a stated purpose) and
//! [`Recorder`] for commands that record facts.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use fairgate_core::access::{Actor, Purpose, Role};
use fairgate_store::store::{CredentialKind, Store, StoreError, UserRow};
use jiff::Timestamp;
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};

use crate::access::{may_read, may_record, purposes_for};
use crate::problem::Problem;
use crate::AppState;

/// The header that states why personal data is being read.
pub const PURPOSE_HEADER: &str = "fairgate-purpose";
/// The web session cookie.
pub const SESSION_COOKIE: &str = "fairgate_session";
/// How long a web session lasts.
pub const SESSION_HOURS: i64 = 12;
pub const MIN_PASSWORD_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("user name `{0}` is not allowed: use 1 to 64 lowercase letters, digits, dots, dashes or underscores")]
    InvalidName(String),
    #[error("the agency must be 1 to 100 characters without control characters, e.g. \"Border Agency\"")]
    InvalidAgency,
    #[error("the password is shorter than {MIN_PASSWORD_LEN} characters: choose a longer one")]
    WeakPassword,
    #[error("a user named `{0}` already exists: pick another name")]
    Duplicate(String),
    #[error(transparent)]
    Store(StoreError),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// The signed-in person making a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    pub agency: String,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::new(self.user_id.clone(), self.role, self.agency.clone())
    }
    fn from_row(u: UserRow) -> Result<Self, Problem> {
        let role = u.role.parse::<Role>().map_err(|_| Problem::internal())?;
        Ok(Caller { user_id: u.id, name: u.name, role, agency: u.agency })
    }
}

pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn random_secret(prefix: &str, rng: &mut (impl RngCore + CryptoRng)) -> String {
    let mut raw = [0u8; 32];
    rng.fill_bytes(&mut raw);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(raw))
}

pub fn hash_password(password: &str, rng: &mut (impl RngCore + CryptoRng)) -> Result<String, AuthError> {
    let salt = SaltString::generate(rng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
}

/// Create a user and an API token for them. Returns the user and the token, which
/// is shown once and never stored in the clear.
pub fn add_user(
    store: &dyn Store,
    name: &str,
    role: Role,
    agency: &str,
    password: Option<&str>,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(UserRow, String), AuthError> {
    if !valid_name(name) {
        return Err(AuthError::InvalidName(name.to_string()));
    }
    let agency = agency.trim();
    if agency.is_empty() || agency.chars().count() > 100 || agency.chars().any(char::is_control) {
        return Err(AuthError::InvalidAgency);
    }
    let password_hash = match password {
        Some(p) if p.chars().count() < MIN_PASSWORD_LEN => return Err(AuthError::WeakPassword),
        Some(p) => Some(hash_password(p, rng)?),
        None => None,
    };
    let mut id = [0u8; 8];
    rng.fill_bytes(&mut id);
    let user = UserRow {
        id: format!("u-{}", id.iter().map(|b| format!("{b:02x}")).collect::<String>()),
        name: name.to_string(),
        role: role.as_str().to_string(),
        agency: agency.to_string(),
        password_hash,
        created_ms: now.as_millisecond(),
    };
    store.put_user(&user).map_err(|e| match e {
        StoreError::Duplicate { .. } => AuthError::Duplicate(name.to_string()),
        other => AuthError::Store(other),
    })?;
    let token = random_secret("fg_", rng);
    store.put_credential(&hash_secret(&token), &user.id, CredentialKind::Token, None).map_err(AuthError::Store)?;
    Ok((user, token))
}

/// Check a password and open a web session. `None` when the name or password is wrong.
pub fn login(
    store: &dyn Store,
    name: &str,
    password: &str,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Option<(Caller, String)>, AuthError> {
    let Some(user) = store.user_by_name(name).map_err(AuthError::Store)? else {
        // Spend the same effort as a real check, so timing does not reveal which names exist.
        let _ = verify_password(
            password,
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        );
        return Ok(None);
    };
    if !user.password_hash.as_deref().is_some_and(|h| verify_password(password, h)) {
        return Ok(None);
    }
    let session = random_secret("fs_", rng);
    let expires = now.as_millisecond() + SESSION_HOURS * 3_600_000;
    store
        .put_credential(&hash_secret(&session), &user.id, CredentialKind::Session, Some(expires))
        .map_err(AuthError::Store)?;
    let caller = Caller::from_row(user).map_err(|_| AuthError::Hash("stored role is unknown".into()))?;
    Ok(Some((caller, session)))
}

/// Run blocking work (SQLite, argon2) off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f).await.map_err(|_| Problem::internal())?
}

async fn caller_for(state: &AppState, secret: String, kind: CredentialKind) -> Result<Option<Caller>, Problem> {
    let st = state.clone();
    blocking(move || {
        let row =
            st.registry.store().user_by_credential(&hash_secret(&secret), kind, st.now().as_millisecond()).map_err(
                |e| {
                    tracing::error!(error = %e, "credential lookup failed");
                    Problem::internal()
                },
            )?;
        row.map(Caller::from_row).transpose()
    })
    .await
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
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
}

/// A caller who may read personal data for the purpose they stated.
#[derive(Debug, Clone)]
pub struct Reader {
    pub caller: Caller,
    pub purpose: Purpose,
}

fn purpose_list(role: Role) -> String {
    let list: Vec<&str> = purposes_for(role).iter().map(|p| p.as_str()).collect();
    if list.is_empty() {
        format!("the role {role} may not read personal data for any purpose")
    } else {
        format!("the role {role} may use: {}", list.join(", "))
    }
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let Some(raw) = parts.headers.get(PURPOSE_HEADER) else {
            return Err(Problem::forbidden(
                "purpose-required",
                format!("state why you need this data in the Fairgate-Purpose header; {}", purpose_list(caller.role)),
            )
            .with_errors(vec![fairgate_core::FieldError::new("Fairgate-Purpose", "is missing")]));
        };
        let purpose = raw.to_str().unwrap_or("").parse::<Purpose>().map_err(|msg| {
            Problem::forbidden("purpose-unknown", format!("{msg}; {}", purpose_list(caller.role)))
                .with_errors(vec![fairgate_core::FieldError::new("Fairgate-Purpose", msg)])
        })?;
        if !may_read(caller.role, purpose) {
            return Err(Problem::forbidden(
                "purpose-not-permitted",
                format!(
                    "the purpose {purpose} is not permitted for the role {}; {}",
                    caller.role,
                    purpose_list(caller.role)
                ),
            )
            .with_errors(vec![fairgate_core::FieldError::new("Fairgate-Purpose", "is not permitted for your role")]));
        }
        Ok(Reader { caller, purpose })
    }
}

/// A caller whose role may record facts (subjects, registrations, crossings).
#[derive(Debug, Clone)]
pub struct Recorder(pub Caller);

impl FromRequestParts<AppState> for Recorder {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !may_record(caller.role) {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "role-not-permitted",
                "Not permitted",
                format!("the role {} may not record facts; only officers and supervisors may", caller.role),
            ));
        }
        Ok(Recorder(caller))
    }
}

/// The web session, if the browser sent a valid session cookie.
pub struct WebSession(pub Option<(Caller, String)>);

pub fn session_cookie(parts: &Parts) -> Option<String> {
    parts.headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(
        |kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == SESSION_COOKIE && !v.is_empty()).then(|| v.to_string())
        },
    )
}

impl FromRequestParts<AppState> for WebSession {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let Some(secret) = session_cookie(parts) else { return Ok(WebSession(None)) };
        let caller = caller_for(state, secret.clone(), CredentialKind::Session).await?;
        Ok(WebSession(caller.map(|c| (c, secret))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let mut rng = rand::thread_rng();
        let h = hash_password("correct horse battery", &mut rng).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse battery!", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("officer.jones-2"));
        assert!(!valid_name("Officer Jones"));
        assert!(!valid_name(""));
    }
}
