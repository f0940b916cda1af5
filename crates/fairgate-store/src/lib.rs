//! Fairgate's persistence layer.
//!
//! - [`store`]: the backend-neutral [`Store`] trait and the rows it moves;
//! - [`sqlite`]: the embedded SQLite implementation (WAL, `secure_delete`);
//! - [`postgres`]: the same trait on PostgreSQL (advisory-locked commits, `UNNEST`
//!   bulk writes, reconnecting after a failover);
//! - [`backend`]: which database (`sqlite:DIR` or `postgres://…`), and the store a
//!   test opens (`FAIRGATE_TEST_DATABASE`);
//! - [`datadir`]: the data directory and its key files;
//! - [`registry`]: runs commands: the core decides, the ledger seals, the store
//!   appends leaves and projections in one transaction; also reads, rebuild and
//!   access logging;
//! - [`migrate`]: copying a database into another store (`migrate-store`), resumably;
//! - [`project`]: how each event maps to projection rows;
//! - [`tree`]: the stored Merkle tree (leaf hashes and every 4th level) that proofs read;
//! - [`audit`]: recomputes the Merkle tree over every stored leaf.
//!
//! No business rule lives here: validation and decisions are `fairgate-core`'s.

pub mod audit;
pub mod backend;
pub mod datadir;
pub mod facts;
pub mod hsm;
pub mod migrate;
pub mod postgres;
pub mod project;
pub mod registry;
pub mod sqlite;
pub mod store;
pub mod tree;

pub use registry::{Receipt, Registry, RegistryError};
pub use store::{AccountStore, KeyStore, LedgerStore, ProjectionStore, Store, StoreError};
