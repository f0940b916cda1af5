//! Limits on guessing: failed sign-ins (web passwords, API tokens, portal
//! activation codes and passphrases) counted per account or registration number
//! and per client address, and a global cap on how many password hashes run at
//! once (each argon2id check takes 19 MiB, so a flood of failed sign-ins must queue,
//! not allocate). The counters live in this process: a restart forgets them, and
//! several servers behind one address count separately (see THREAT_MODEL.md).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use jiff::Timestamp;

use crate::problem::Problem;
use crate::AppState;

/// The window failures are counted in.
pub const WINDOW_MINUTES: i64 = 15;
/// Failed attempts allowed per account or registration number in a window.
pub const MAX_PER_ACCOUNT: u32 = 5;
/// Failed attempts allowed per client address in a window (offices share addresses).
pub const MAX_PER_ADDRESS: u32 = 30;
/// Password hashes allowed to run at once (each holds 19 MiB while it runs).
pub const HASHING_SLOTS: usize = 4;
/// Counters kept at most; past it, expired ones are dropped, then the oldest.
const MAX_ENTRIES: usize = 100_000;

/// What a failure is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// A registration number (its blind index).
    Registration([u8; 32]),
    /// A staff account name (SHA-256 of it, so names are not held here).
    Account([u8; 32]),
    /// The client's address.
    Address(IpAddr),
}

impl Key {
    pub fn account(name: &str) -> Key {
        Key::Account(fairgate_store::registry::accounts::hash_secret(name.trim()))
    }
    fn limit(&self) -> u32 {
        match self {
            Key::Registration(_) | Key::Account(_) => MAX_PER_ACCOUNT,
            Key::Address(_) => MAX_PER_ADDRESS,
        }
    }
}

/// Failure counters and the hashing cap, shared by every request.
#[derive(Clone)]
pub struct Limits {
    failures: Arc<Mutex<HashMap<Key, (u32, i64)>>>,
    hashing: Arc<tokio::sync::Semaphore>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { failures: Default::default(), hashing: Arc::new(tokio::sync::Semaphore::new(HASHING_SLOTS)) }
    }
}

const WINDOW_MS: i64 = WINDOW_MINUTES * 60_000;

impl Limits {
    /// May another attempt be made under all of `keys` at `now`?
    pub fn allowed(&self, keys: &[Key], now: Timestamp) -> bool {
        let Ok(map) = self.failures.lock() else { return false };
        keys.iter().all(|k| match map.get(k) {
            Some((n, since)) if now.as_millisecond() - since < WINDOW_MS => *n < k.limit(),
            _ => true,
        })
    }

    /// Count a failed attempt against each of `keys`.
    pub fn failed(&self, keys: &[Key], now: Timestamp) {
        let Ok(mut map) = self.failures.lock() else { return };
        let now = now.as_millisecond();
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (_, since)| now - *since < WINDOW_MS);
            if map.len() >= MAX_ENTRIES {
                // Still full inside one window: forget the oldest half.
                let mut starts: Vec<i64> = map.values().map(|(_, s)| *s).collect();
                starts.sort_unstable();
                let cut = starts[starts.len() / 2];
                map.retain(|_, (_, since)| *since > cut);
            }
        }
        for k in keys {
            let e = map.entry(*k).or_insert((0, now));
            if now - e.1 >= WINDOW_MS {
                *e = (0, now);
            }
            e.0 = e.0.saturating_add(1);
        }
    }

    /// A success clears the account's (or registration's) count, not the address's.
    pub fn succeeded(&self, keys: &[Key]) {
        if let Ok(mut map) = self.failures.lock() {
            for k in keys.iter().filter(|k| !matches!(k, Key::Address(_))) {
                map.remove(k);
            }
        }
    }
}

/// Run a password check (or anything else that hashes with argon2) off the async
/// threads, at most [`HASHING_SLOTS`] at a time across the server.
pub async fn hashing<T: Send + 'static>(
    st: &AppState,
    f: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    let permit = st.limits.hashing.clone().acquire_owned().await.map_err(|_| Problem::internal())?;
    crate::auth::blocking(move || {
        let out = f();
        drop(permit);
        out
    })
    .await
}

/// The client's address (the TCP peer; unspecified when the server was not started
/// with connection info, as in tests that call the router directly).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    pub fn of(extensions: &axum::http::Extensions) -> ClientAddr {
        ClientAddr(
            extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr::of(&parts.extensions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_per_key_and_forgotten_after_the_window() {
        let l = Limits::default();
        let t0: Timestamp = "2026-11-30T10:00:00Z".parse().unwrap();
        let who = Key::account("officer");
        let addr = Key::Address(IpAddr::V4(Ipv4Addr::LOCALHOST));
        for _ in 0..MAX_PER_ACCOUNT {
            assert!(l.allowed(&[who, addr], t0));
            l.failed(&[who, addr], t0);
        }
        assert!(!l.allowed(&[who, addr], t0));
        // Another account from the same address still may, until the address's limit.
        assert!(l.allowed(&[Key::account("auditor"), addr], t0));
        let later = t0.checked_add(jiff::SignedDuration::from_mins(WINDOW_MINUTES)).unwrap();
        assert!(l.allowed(&[who, addr], later));
    }

    /// A flood of sign-ins queues for the hashing slots: never more than
    /// HASHING_SLOTS hashes (19 MiB each) at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_the_hashing_slots_run_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let store = fairgate_store::backend::test_store(&dir.path().join("f.db")).unwrap().store();
        let reg = fairgate_store::Registry::open(
            store,
            fairgate_ledger::keys::SecretKey::from_bytes([1; 32]),
            &fairgate_ledger::keys::SecretKey::from_bytes([2; 32]),
            "t/log",
            [5; 32],
        )
        .unwrap();
        let st = AppState::new(Arc::new(reg));
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..24)
            .map(|_| {
                let (st, now, most) = (st.clone(), now.clone(), most.clone());
                tokio::spawn(async move {
                    hashing(&st, move || {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        now.fetch_sub(1, Ordering::SeqCst);
                        Ok(())
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=HASHING_SLOTS).contains(&most), "{most} hashes ran at once");
    }

    #[test]
    fn the_address_limit_holds_across_accounts() {
        let l = Limits::default();
        let t0: Timestamp = "2026-11-30T10:00:00Z".parse().unwrap();
        let addr = Key::Address(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)));
        for i in 0..MAX_PER_ADDRESS {
            l.failed(&[Key::account(&format!("user{i}")), addr], t0);
        }
        assert!(!l.allowed(&[Key::account("fresh"), addr], t0));
    }
}
