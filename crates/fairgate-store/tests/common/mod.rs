//! Shared by the store's integration tests: the fixed test time and a registry
//! with the test keys.
#![allow(dead_code)]

use std::sync::Arc;

use fairgate_ledger::keys::SecretKey;
use fairgate_store::{Registry, Store};
use jiff::Timestamp;

pub const NOW: Timestamp = Timestamp::constant(1_790_000_000, 0); // 2026-09-21

/// A registry over `store` with the test keys, its random numbers seeded by `seed`
/// (a second registry on one database is a second process's).
pub fn registry_on(store: Arc<dyn Store>, seed: u8) -> Registry {
    // The demo's ports and offices, as a database from before places were events
    // holds them (no leaves, so tree sizes stay as the tests expect).
    store.put_places(&fairgate_core::place::default_places()).unwrap();
    Registry::open(
        store,
        SecretKey::from_bytes([1; 32]),
        &SecretKey::from_bytes([2; 32]),
        "test.example/log",
        [seed; 32],
    )
    .unwrap()
}
