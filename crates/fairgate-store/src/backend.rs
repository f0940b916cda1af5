//! Which database a store lives in: SQLite in the data directory (the default) or
//! PostgreSQL (`--database postgres://…`), and the store a test uses
//! (`FAIRGATE_TEST_DATABASE` moves every store, registry and server test onto
//! PostgreSQL).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::postgres::{redact, PgStore};
use crate::sqlite::SqliteStore;
use crate::store::{Store, StoreError};

/// Where a store lives, as `--database` and `migrate-store` name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// `sqlite:DIR`: the file `fairgate.db` in the data directory DIR.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…` (several hosts allowed), or a
    /// `host=… dbname=…` string.
    Postgres(String),
}

impl Database {
    /// Read a `--database` value. The error names the forms accepted.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        if let Some(dir) = spec.strip_prefix("sqlite:") {
            if dir.is_empty() {
                return Err("sqlite: needs the data directory, as in sqlite:./fairgate-data".into());
            }
            return Ok(Database::Sqlite(PathBuf::from(dir)));
        }
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") || spec.contains("host=") {
            spec.parse::<tokio_postgres::Config>()
                .map_err(|e| format!("{}: not a PostgreSQL connection string: {e}", redact(spec)))?;
            return Ok(Database::Postgres(spec.to_string()));
        }
        Err(format!(
            "{}: give sqlite:DIR or a postgres://user:password@host[:port][,host2[:port]]/dbname URL",
            redact(spec)
        ))
    }

    /// The name to show in messages (a password is hidden).
    pub fn display(&self) -> String {
        match self {
            Database::Sqlite(dir) => format!("sqlite:{}", dir.display()),
            Database::Postgres(url) => redact(url),
        }
    }
}

/// An open store, with what only its own kind of database can do.
#[derive(Clone)]
pub enum Opened {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
}

impl Opened {
    /// Open `db`: the SQLite file in the data directory, or the PostgreSQL database
    /// (schema brought up to date either way).
    pub fn open(db: &Database) -> Result<Self, StoreError> {
        Ok(match db {
            Database::Sqlite(dir) => Opened::Sqlite(Arc::new(SqliteStore::open(&dir.join("fairgate.db"))?)),
            Database::Postgres(url) => Opened::Postgres(Arc::new(PgStore::open(url)?)),
        })
    }

    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Opened::Sqlite(s) => s.clone(),
            Opened::Postgres(s) => s.clone(),
        }
    }
}

/// The PostgreSQL database tests run on, when `FAIRGATE_TEST_DATABASE` names one.
pub fn test_database() -> Option<String> {
    std::env::var("FAIRGATE_TEST_DATABASE").ok().filter(|v| !v.trim().is_empty())
}

/// A PostgreSQL database for the tests that are about PostgreSQL itself (copying a
/// store into it, serving from it): `FAIRGATE_TEST_POSTGRES`, else
/// `FAIRGATE_TEST_DATABASE`. `.ci/run` sets the first for its SQLite pass, so those
/// tests run there without moving every other test onto PostgreSQL.
pub fn test_postgres() -> Option<String> {
    std::env::var("FAIRGATE_TEST_POSTGRES").ok().filter(|v| !v.trim().is_empty()).or_else(test_database)
}

/// The schema a test's store gets on PostgreSQL: named after the path its SQLite
/// file would have, so reopening the same path reopens the same store, and two tests
/// (each with its own temporary directory) never share one.
pub fn test_schema(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(path.to_string_lossy().as_bytes());
    format!("t_{}", hex::encode(&d[..10]))
}

/// The store a test opens at `path`: the SQLite file there, or with
/// `FAIRGATE_TEST_DATABASE` set, a PostgreSQL schema of its own.
pub fn test_store(path: &Path) -> Result<Opened, StoreError> {
    match test_database() {
        Some(url) => Ok(Opened::Postgres(Arc::new(PgStore::open_in(&url, Some(&test_schema(path)))?))),
        None => Ok(Opened::Sqlite(Arc::new(SqliteStore::open(path)?))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_values_are_read_or_refused_with_the_forms_accepted() {
        assert_eq!(Database::parse("sqlite:./d").unwrap(), Database::Sqlite(PathBuf::from("./d")));
        assert!(matches!(
            Database::parse("postgres://u:secret@a:5432,b:5433/fg?target_session_attrs=read-write"),
            Ok(Database::Postgres(_))
        ));
        let e = Database::parse("mysql://u:secret@h/db").unwrap_err();
        assert!(e.contains("postgres://") && e.contains("sqlite:DIR"), "{e}");
        assert!(!e.contains("secret"), "a password is never repeated: {e}");
        assert!(Database::parse("sqlite:").unwrap_err().contains("data directory"));
        assert_eq!(Database::parse("postgres://u:secret@h/db").unwrap().display(), "postgres://u:***@h/db");
    }

    #[test]
    fn test_schemas_follow_the_path() {
        let a = test_schema(Path::new("/tmp/a/fairgate.db"));
        assert_eq!(a, test_schema(Path::new("/tmp/a/fairgate.db")));
        assert_ne!(a, test_schema(Path::new("/tmp/b/fairgate.db")));
        assert!(a.starts_with("t_") && a.len() == 22);
    }
}
