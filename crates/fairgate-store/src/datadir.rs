//! The data directory: the database file and the two secret key files, created on
//! first use with owner-only permissions.
//!
//! ```text
//! fairgate-data/
//!   fairgate.db (+ -wal, -shm)   the SQLite database
//!   master.key                   wraps every data key (hex, mode 0600)
//!   master.key.next              only during `fairgate keys rotate`: the new master key
//!   checkpoint.key               Ed25519 seed that signs checkpoints (hex, mode 0600)
//! ```
//!
//! A rotation writes `master.key.next` first, re-wraps every stored key under it,
//! then renames it over `master.key`. At every moment the files hold every key in
//! use, so a process that finds a key it cannot unwrap reads them again.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use fairgate_ledger::keys::SecretKey;

use crate::registry::keyring::{KeySource, MasterKeys};
use rand::{CryptoRng, RngCore};

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is readable by group or others (mode {mode:o}): run `chmod 600 {path}` and try again")]
    Permissions { path: PathBuf, mode: u32 },
    #[error("{path} does not hold a 64-digit hex key; restore it from backup (a new key cannot read existing data)")]
    Malformed { path: PathBuf },
}

pub struct DataDir {
    pub root: PathBuf,
    pub master_key: SecretKey,
    /// The next master key, while a rotation is under way.
    pub next_master_key: Option<SecretKey>,
    pub signing_seed: SecretKey,
    /// True when this call created the directory's keys.
    pub created: bool,
}

impl DataDir {
    pub fn db_path(&self) -> PathBuf {
        self.root.join("fairgate.db")
    }

    /// Open `root`, creating it and its key files when missing.
    pub fn open_or_create(root: &Path, rng: &mut (impl RngCore + CryptoRng)) -> Result<DataDir, DataDirError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DataDirError::Io { path, source }
        };
        fs::create_dir_all(root).map_err(io(root))?;
        let master_path = root.join("master.key");
        let created = !master_path.exists();
        if created {
            fs::set_permissions(root, fs::Permissions::from_mode(0o700)).map_err(io(root))?;
        }
        let master_key = key_file(&master_path, rng)?;
        let signing_seed = key_file(&root.join("checkpoint.key"), rng)?;
        let next_master_key = existing_key(&root.join(NEXT))?;
        Ok(DataDir { root: root.to_path_buf(), master_key, next_master_key, signing_seed, created })
    }

    /// The master keys, for `Registry::open`.
    pub fn master_keys(&self) -> MasterKeys {
        MasterKeys { current: self.master_key.clone(), next: self.next_master_key.clone() }
    }

    /// Reads the master key files again whenever called (see the module comment).
    pub fn key_source(&self) -> KeySource {
        let root = self.root.clone();
        Box::new(move || {
            let current = existing_key(&root.join("master.key"))
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("{} is missing", root.join("master.key").display()))?;
            let next = existing_key(&root.join(NEXT)).map_err(|e| e.to_string())?;
            Ok(MasterKeys { current, next })
        })
    }

    /// Start a rotation: make `master.key.next`, unless one is there (a rotation
    /// that was interrupted resumes with it).
    pub fn begin_rotation(&mut self, rng: &mut (impl RngCore + CryptoRng)) -> Result<(), DataDirError> {
        self.next_master_key = Some(key_file(&self.root.join(NEXT), rng)?);
        Ok(())
    }

    /// End a rotation: the next key becomes `master.key` (an atomic rename), and the
    /// old key is gone from the directory.
    pub fn finish_rotation(&mut self) -> Result<(), DataDirError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DataDirError::Io { path, source }
        };
        let next = self.root.join(NEXT);
        let master = self.root.join("master.key");
        fs::rename(&next, &master).map_err(io(&next))?;
        fs::File::open(&self.root).and_then(|d| d.sync_all()).map_err(io(&self.root))?;
        if let Some(k) = self.next_master_key.take() {
            self.master_key = k;
        }
        Ok(())
    }
}

const NEXT: &str = "master.key.next";

fn existing_key(path: &Path) -> Result<Option<SecretKey>, DataDirError> {
    if !path.exists() {
        return Ok(None);
    }
    // key_file only reads (and checks) a file that exists.
    key_file(path, &mut rand::rngs::OsRng).map(Some)
}

fn key_file(path: &Path, rng: &mut (impl RngCore + CryptoRng)) -> Result<SecretKey, DataDirError> {
    let io = |source| DataDirError::Io { path: path.to_path_buf(), source };
    if path.exists() {
        let mode = fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(DataDirError::Permissions { path: path.to_path_buf(), mode });
        }
        let text = fs::read_to_string(path).map_err(io)?;
        return SecretKey::from_hex(&text).map_err(|_| DataDirError::Malformed { path: path.to_path_buf() });
    }
    let key = SecretKey::generate(rng);
    let mut f = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(io)?;
    f.write_all(format!("{}\n", key.to_hex()).as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn creates_private_key_files_once_and_reuses_them() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let a = DataDir::open_or_create(&root, &mut rng).unwrap();
        assert!(a.created);
        let mode = fs::metadata(root.join("master.key")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = DataDir::open_or_create(&root, &mut rng).unwrap();
        assert!(!b.created);
        assert_eq!(a.master_key.expose(), b.master_key.expose());
        assert_eq!(a.signing_seed.expose(), b.signing_seed.expose());
    }

    #[test]
    fn refuses_a_key_others_can_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        DataDir::open_or_create(dir.path(), &mut rng).unwrap();
        fs::set_permissions(dir.path().join("master.key"), fs::Permissions::from_mode(0o644)).unwrap();
        let err = DataDir::open_or_create(dir.path(), &mut rng).err().unwrap();
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }
}
