//! Staff accounts on the registry: adding a user (the policy's `manage-users`),
//! password sign-in to a web session, and resolving a bearer token or session to
//! the account behind it. Passwords are argon2id hashes; tokens and sessions are
//! stored only as SHA-256 hashes. Accounts are credentials, not facts: they live
//! beside the ledger, like the portal codes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use fairgate_core::access::{Actor, Role};
use fairgate_core::policy::{self, Action};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use fairgate_core::event::{AccountChange, AccountChanged, Event, EventKind};

use super::{Registry, RegistryError, Result};
use crate::store::{CredentialKind, StoreError, UserRow};

/// How long a web session lasts at most, however busy.
pub const SESSION_HOURS: i64 = 12;
/// A web session left alone this long ends.
pub const SESSION_IDLE_MINUTES: i64 = 30;
/// How long an API token lasts unless another period is given.
pub const DEFAULT_TOKEN_DAYS: i64 = 90;
pub const MIN_PASSWORD_LEN: usize = 12;

/// A hash that verifies nothing, spent on unknown names so that timing does not
/// reveal which names exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// A signed-in member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    pub agency: String,
}

impl Account {
    pub fn actor(&self) -> Actor {
        Actor::new(self.user_id.clone(), self.role, self.agency.clone())
    }
    fn from_row(u: UserRow) -> Result<Self> {
        let role =
            u.role.parse::<Role>().map_err(|_| super::corrupt(format!("account {} has an unknown role", u.id)))?;
        Ok(Account { user_id: u.id, name: u.name, role, agency: u.agency })
    }
}

/// An account as `fairgate user list` shows it.
#[derive(Debug, Clone)]
pub struct AccountStatus {
    pub account: Account,
    pub disabled: Option<Timestamp>,
    pub token_expires: Option<Timestamp>,
}

fn check_token_days(days: i64) -> Result<()> {
    if !(1..=3650).contains(&days) {
        return Err(invalid("token_days", "must be 1 to 3650 days, e.g. 90"));
    }
    Ok(())
}

/// A new account and its API token (shown once; only its hash is kept).
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub account: Account,
    pub token: String,
}

pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// When a session (`fs2_MILLIS_…`) began; `None` for an older session, which keeps
/// the fixed expiry it was given.
fn session_began(session: &str) -> Option<i64> {
    session.strip_prefix("fs2_")?.split_once('_')?.0.parse().ok()
}

/// A session's idle deadline after a use at `now`: `SESSION_IDLE_MINUTES` on, but
/// never past `SESSION_HOURS` from when it `began`.
fn idle_deadline(began: i64, now: i64) -> i64 {
    (now + SESSION_IDLE_MINUTES * 60_000).min(began + SESSION_HOURS * 3_600_000)
}

fn secret_text(prefix: &str, raw: &[u8; 32]) -> String {
    use base64::Engine;
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

pub(crate) fn verify_password(password: &str, phc: &str) -> bool {
    #[cfg(test)]
    CHECKS.with(|c| c.set(c.get() + 1));
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

#[cfg(test)]
thread_local! {
    /// argon2 checks made on this thread (tests count them: every sign-in, known or
    /// not, must cost exactly one).
    static CHECKS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Spend the time of one password check on nothing (for unknown names and
/// accounts without a password), so that timing does not tell them apart.
pub(crate) fn spend_a_check(password: &str) {
    let _ = verify_password(password, DUMMY_HASH);
}

/// An argon2id hash (PHC string) of a password or passphrase.
pub(crate) fn hash_password(password: &str, salt: &SaltString) -> Result<String> {
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), salt)
        .map_err(|e| super::corrupt(format!("password hashing failed: {e}")))?
        .to_string())
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
}

fn invalid(field: &str, message: impl Into<String>) -> RegistryError {
    fairgate_core::Invalid::one(field, message).into()
}

impl Registry {
    /// Add a user with an API token good for [`DEFAULT_TOKEN_DAYS`] (and a password
    /// for the web, if given). `secret` is 64 random bytes from the caller: the
    /// account id, the password salt and the token.
    #[allow(clippy::too_many_arguments)] // each is one field of the account; a struct would only rename them
    pub fn add_user(
        &self,
        now: Timestamp,
        by: &Actor,
        name: &str,
        role: Role,
        agency: &str,
        password: Option<&str>,
        secret: [u8; 64],
    ) -> Result<NewAccount> {
        self.add_user_with(now, by, name, role, agency, password, secret, DEFAULT_TOKEN_DAYS)
    }

    /// [`Registry::add_user`] with a token good for `token_days` days (1 to 3650).
    /// The creation is a ledger event (`account-changed`), written first.
    #[allow(clippy::too_many_arguments)]
    pub fn add_user_with(
        &self,
        now: Timestamp,
        by: &Actor,
        name: &str,
        role: Role,
        agency: &str,
        password: Option<&str>,
        secret: [u8; 64],
        token_days: i64,
    ) -> Result<NewAccount> {
        policy::authorize(by, Action::ManageUsers)?;
        check_token_days(token_days)?;
        if !valid_name(name) {
            return Err(invalid(
                "name",
                format!(
                    "`{}` is not allowed: use 1 to 64 lowercase letters, digits, dots, dashes or underscores",
                    name.chars().take(70).collect::<String>()
                ),
            ));
        }
        let agency = agency.trim();
        if agency.is_empty() || agency.chars().count() > 100 || agency.chars().any(char::is_control) {
            return Err(invalid(
                "agency",
                "must be 1 to 100 characters without control characters, e.g. \"Border Agency\"",
            ));
        }
        let password_hash = match password {
            Some(p) if p.chars().count() < MIN_PASSWORD_LEN => {
                return Err(invalid(
                    "password",
                    format!("is shorter than {MIN_PASSWORD_LEN} characters: choose a longer one"),
                ))
            }
            Some(p) => {
                let salt = SaltString::encode_b64(&secret[8..24]).map_err(|e| super::corrupt(e.to_string()))?;
                Some(
                    Argon2::default()
                        .hash_password(p.as_bytes(), &salt)
                        .map_err(|e| super::corrupt(format!("password hashing failed: {e}")))?
                        .to_string(),
                )
            }
            None => None,
        };
        let user = UserRow {
            id: format!("u-{}", hex::encode(&secret[..8])),
            name: name.to_string(),
            role: role.as_str().to_string(),
            agency: agency.to_string(),
            password_hash,
            created_ms: now.as_millisecond(),
            disabled_ms: None,
        };
        if self.store.user_by_name(name)?.is_some() {
            return Err(invalid("name", format!("a user named `{name}` already exists: pick another name")));
        }
        self.account_event(now, by, &user.id, name, AccountChange::Created { role, agency: agency.to_string() })?;
        self.store.put_user(&user).map_err(|e| match e {
            StoreError::Duplicate { .. } => {
                invalid("name", format!("a user named `{name}` already exists: pick another name"))
            }
            other => other.into(),
        })?;
        let mut raw = [0u8; 32];
        raw.copy_from_slice(&secret[32..]);
        let token = secret_text("fg_", &raw);
        let expires = now.as_millisecond() + token_days * 86_400_000;
        self.store.put_credential(&hash_secret(&token), &user.id, CredentialKind::Token, Some(expires))?;
        Ok(NewAccount { account: Account::from_row(user)?, token })
    }

    /// Put an account change on the ledger (sealed under the system key; it names
    /// staff, never a registrant).
    fn account_event(&self, now: Timestamp, by: &Actor, id: &str, name: &str, change: AccountChange) -> Result<()> {
        let event = Event::AccountChanged(AccountChanged {
            account: id.to_string(),
            name: name.to_string(),
            change,
            by: by.clone(),
            at: now,
        });
        self.append_system_retrying(now, event)?;
        Ok(())
    }

    fn managed(&self, by: &Actor, name: &str) -> Result<UserRow> {
        policy::authorize(by, Action::ManageUsers)?;
        let user = self
            .store
            .user_by_name(name)?
            .ok_or_else(|| invalid("name", format!("there is no user named `{name}`: see `fairgate user list`")))?;
        let holder = Account::from_row(user.clone())?.actor();
        policy::separate(policy::Separation::OwnAccount, &holder, by)?;
        Ok(user)
    }

    /// Give an account another role (a ledger event). Its tokens and sessions end,
    /// so nothing made under the old role goes on working.
    pub fn set_role(&self, now: Timestamp, by: &Actor, name: &str, role: Role) -> Result<()> {
        let user = self.managed(by, name)?;
        if user.disabled_ms.is_some() {
            return Err(RegistryError::NotPermitted(format!("`{name}` is disabled")));
        }
        let from = Account::from_row(user.clone())?.role;
        if from == role {
            return Ok(());
        }
        self.account_event(now, by, &user.id, name, AccountChange::RoleChanged { from, to: role })?;
        self.store.set_user_role(&user.id, role.as_str())?;
        self.store.delete_credentials_of(&user.id, CredentialKind::Session)?;
        Ok(())
    }

    /// Disable an account (a ledger event): it signs in to nothing from now on, and
    /// its tokens and sessions are deleted.
    pub fn disable_user(&self, now: Timestamp, by: &Actor, name: &str) -> Result<()> {
        let user = self.managed(by, name)?;
        if user.disabled_ms.is_some() {
            return Ok(());
        }
        self.account_event(now, by, &user.id, name, AccountChange::Disabled)?;
        Ok(self.store.disable_user(&user.id, now.as_millisecond())?)
    }

    /// A new API token for an account, good for `token_days` days; the old ones stop
    /// working (a ledger event). `secret`: 32 random bytes from the caller.
    pub fn rotate_token(
        &self,
        now: Timestamp,
        by: &Actor,
        name: &str,
        token_days: i64,
        secret: [u8; 32],
    ) -> Result<String> {
        check_token_days(token_days)?;
        let user = self.managed(by, name)?;
        if user.disabled_ms.is_some() {
            return Err(RegistryError::NotPermitted(format!("`{name}` is disabled: it gets no token")));
        }
        self.account_event(now, by, &user.id, name, AccountChange::TokenRotated)?;
        self.store.delete_credentials_of(&user.id, CredentialKind::Token)?;
        let token = secret_text("fg_", &secret);
        let expires = now.as_millisecond() + token_days * 86_400_000;
        self.store.put_credential(&hash_secret(&token), &user.id, CredentialKind::Token, Some(expires))?;
        Ok(token)
    }

    /// Every account with its status: disabled since when, and when its token expires.
    pub fn account_statuses(&self) -> Result<Vec<AccountStatus>> {
        let mut out = Vec::new();
        for u in self.store.users()? {
            let token_expires = self.store.token_expiry(&u.id)?.and_then(|ms| Timestamp::from_millisecond(ms).ok());
            let disabled = u.disabled_ms.and_then(|ms| Timestamp::from_millisecond(ms).ok());
            out.push(AccountStatus { account: Account::from_row(u)?, disabled, token_expires });
        }
        Ok(out)
    }

    /// The account changes on the ledger, oldest first (who created, changed or
    /// disabled which account, and when): separation of duties, checked from the log.
    pub fn account_history(&self) -> Result<Vec<AccountChanged>> {
        let idx: Vec<u64> =
            self.store.system_leaves(EventKind::AccountChanged.code())?.into_iter().map(|(i, _)| i).collect();
        let mut out = Vec::new();
        for l in self.store.leaves_at(&idx)? {
            if let Event::AccountChanged(e) = self.open_leaf(&l, &self.system)? {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Check a password and open a web session (`secret`: 32 random bytes from the
    /// caller). `None` when the name or the password is wrong.
    pub fn sign_in(
        &self,
        now: Timestamp,
        name: &str,
        password: &str,
        secret: [u8; 32],
    ) -> Result<Option<(Account, String)>> {
        let Some(user) = self.store.user_by_name(name)? else {
            spend_a_check(password);
            return Ok(None);
        };
        let Some(hash) = user.password_hash.as_deref().filter(|_| user.disabled_ms.is_none()) else {
            // No password (an API-only account) or disabled: the same time as a wrong one.
            spend_a_check(password);
            return Ok(None);
        };
        if !verify_password(password, hash) {
            return Ok(None);
        }
        // The session says when it began, so its 12-hour limit needs no column of
        // its own; the stored expiry is the idle deadline, moved on at each use.
        let session = format!("fs2_{}_{}", now.as_millisecond(), &secret_text("", &secret));
        let expires = idle_deadline(now.as_millisecond(), now.as_millisecond());
        self.store.put_credential(&hash_secret(&session), &user.id, CredentialKind::Session, Some(expires))?;
        Ok(Some((Account::from_row(user)?, session)))
    }

    /// End a web session.
    pub fn sign_out(&self, session: &str) -> Result<()> {
        Ok(self.store.delete_credential(&hash_secret(session))?)
    }

    /// The account behind a bearer token or a live web session. A session in use
    /// lives on for another `SESSION_IDLE_MINUTES`, never past `SESSION_HOURS`
    /// from its sign-in; one left idle, or past that, has ended.
    pub fn account_by_credential(&self, now: Timestamp, secret: &str, kind: CredentialKind) -> Result<Option<Account>> {
        let hash = hash_secret(secret);
        // (A session past its deadline is not found; it is not deleted here, so a
        // forged cookie costs no write.)
        let Some(row) = self.store.user_by_credential(&hash, kind, now.as_millisecond())? else { return Ok(None) };
        if kind == CredentialKind::Session {
            if let Some(began) = session_began(secret) {
                let now = now.as_millisecond();
                if now >= began + SESSION_HOURS * 3_600_000 {
                    self.store.delete_credential(&hash)?;
                    return Ok(None);
                }
                self.store.touch_credential(&hash, idle_deadline(began, now))?;
            }
        }
        Account::from_row(row).map(Some)
    }

    /// The account with this name, if any.
    pub fn account(&self, name: &str) -> Result<Option<Account>> {
        self.store.user_by_name(name)?.map(Account::from_row).transpose()
    }

    /// Every account, by name.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        self.store.users()?.into_iter().map(Account::from_row).collect()
    }

    /// Account ids and names (for showing who signed what on public program pages).
    pub fn account_names(&self) -> Result<Vec<(String, String)>> {
        Ok(self.store.users()?.into_iter().map(|u| (u.id, u.name)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let h = Argon2::default().hash_password(b"correct horse battery", &salt).unwrap().to_string();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse battery!", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    /// Finding 5: an unknown name, an account with no password, a disabled account
    /// and a wrong password each cost one argon2 check, like a right one: timing does
    /// not tell which names exist or which accounts have passwords.
    #[test]
    fn every_sign_in_costs_one_password_check_whatever_the_account() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::backend::test_store(&dir.path().join("f.db")).unwrap().store();
        let reg = Registry::open(
            store,
            fairgate_ledger::keys::SecretKey::from_bytes([1; 32]),
            &fairgate_ledger::keys::SecretKey::from_bytes([2; 32]),
            "t/log",
            [5; 32],
        )
        .unwrap();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let admin = Actor::system("test");
        let pw = "a long enough password";
        reg.add_user(now, &admin, "with-pw", Role::Officer, "A", Some(pw), [1; 64]).unwrap();
        reg.add_user(now, &admin, "no-pw", Role::Officer, "A", None, [2; 64]).unwrap();
        reg.add_user(now, &admin, "gone", Role::Officer, "A", Some(pw), [3; 64]).unwrap();
        reg.disable_user(now, &admin, "gone").unwrap();
        let checks = |name: &str, password: &str| {
            let before = CHECKS.with(|c| c.get());
            let ok = reg.sign_in(now, name, password, [9; 32]).unwrap().is_some();
            (ok, CHECKS.with(|c| c.get()) - before)
        };
        assert_eq!(checks("with-pw", pw), (true, 1));
        assert_eq!(checks("with-pw", "wrong password!"), (false, 1));
        assert_eq!(checks("nobody", pw), (false, 1));
        assert_eq!(checks("no-pw", pw), (false, 1));
        assert_eq!(checks("gone", pw), (false, 1), "a disabled account signs in to nothing");
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("officer.jones-2"));
        assert!(!valid_name("Officer Jones"));
        assert!(!valid_name(""));
    }
}
