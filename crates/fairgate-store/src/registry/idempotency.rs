//! Idempotency keys: a request that carries one (HTTP `Idempotency-Key`) is recorded
//! at most once. The key goes into the same transaction as the request's first
//! commit; a retry with the same key finds it and is answered with where the first
//! landed ([`RegistryError::AlreadyRecorded`]) instead of being recorded again.
//! Every other commit gets a random key, so a store that loses its connection in
//! the middle of a commit can tell, on a new one, whether the commit landed.
//!
//! The key is handed down the thread that runs the request's blocking work
//! ([`with_key`]), so the many command paths need no new parameter.

use std::cell::Cell;

use sha2::{Digest, Sha256};

thread_local! {
    static KEY: Cell<Option<[u8; 32]>> = const { Cell::new(None) };
}

/// Run `f` with `key` as the idempotency key of the first commit it makes.
pub fn with_key<T>(key: Option<[u8; 32]>, f: impl FnOnce() -> T) -> T {
    let before = KEY.with(|k| k.replace(key));
    let out = f();
    KEY.with(|k| k.set(before));
    out
}

/// The key for the next commit on this thread, taken: a request's later commits
/// (if it makes several) are not replays of its first.
pub(super) fn take() -> Option<[u8; 32]> {
    KEY.with(|k| k.take())
}

/// The stored key of a client's key: bound to who sent it (`scope`: their
/// credential's hash, the method and the route), so a key reused by someone else or
/// on another route is a different key.
pub fn derive(scope: &[u8], client_key: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"fairgate idempotency v1\0");
    h.update((scope.len() as u64).to_be_bytes());
    h.update(scope);
    h.update(client_key.as_bytes());
    h.finalize().into()
}

/// Whether a client's `Idempotency-Key` is acceptable: 1 to 255 visible ASCII
/// characters (a UUID, say).
pub fn valid_client_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_taken_once_and_restored_after() {
        assert_eq!(take(), None);
        with_key(Some([7; 32]), || {
            assert_eq!(take(), Some([7; 32]));
            assert_eq!(take(), None, "the second commit of a request is not a replay");
        });
        assert_eq!(take(), None);
    }

    #[test]
    fn keys_are_bound_to_their_scope() {
        assert_eq!(derive(b"a", "k"), derive(b"a", "k"));
        assert_ne!(derive(b"a", "k"), derive(b"b", "k"));
        assert_ne!(derive(b"ak", ""), derive(b"a", "k"), "the scope's length is part of the key");
        assert!(valid_client_key("0b9c1c6e-6f4e-4d52-9b1a-2f0e7f1c3a55"));
        assert!(!valid_client_key("") && !valid_client_key("has space") && !valid_client_key(&"x".repeat(256)));
    }
}
