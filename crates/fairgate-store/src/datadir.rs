//! The data directory and the key store, apart: the data directory holds the
//! database and nothing that can read it; the key store (`--keys`, by default the
//! data directory's sibling `fairgate-keys`) holds the secret keys, created on
//! first use with owner-only permissions.
//!
//! ```text
//! fairgate-data/
//!   fairgate.db (+ -wal, -shm)   the SQLite database: sealed, unreadable alone
//! fairgate-keys/
//!   master.key                   wraps every data key (hex, mode 0600)
//!   master.key.next              only during `fairgate keys rotate`: the new master key
//!   checkpoint.key               Ed25519 seed that signs checkpoints (hex, mode 0600)
//!   pkcs11.json                  optional: master keys live in this PKCS#11 token
//! ```
//!
//! With `pkcs11.json` (see [`crate::hsm`]), new master keys are generated inside the
//! token and `master.key` holds only a reference to one (`pkcs11:<id>`); ending an
//! epoch destroys the token object (`master.key.destroy` records one still to
//! destroy, finished at the next open if a crash intervened).
//!
//! A copy of the data directory alone (a backup, a stolen disk) reads nothing. A
//! data directory from before the split has its key files moved to the key store the
//! first time it is opened.
//!
//! A rotation writes `master.key.next` first, re-wraps every stored key under it,
//! then renames it over `master.key`. At every moment the files hold every key in
//! use, so a process that finds a key it cannot unwrap reads them again.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use std::sync::Arc;

use fairgate_ledger::keys::SecretKey;

use crate::hsm::{parse_reference, HsmConfig, HsmError, Token};
use crate::registry::keyring::{KeySource, Master, MasterKeys};
use rand::{CryptoRng, RngCore};

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is readable by group or others (mode {mode:o}): run `chmod 600 {path}` and try again")]
    Permissions { path: PathBuf, mode: u32 },
    #[error("{path} does not hold a 64-digit hex key; restore it from backup (a new key cannot read existing data)")]
    Malformed { path: PathBuf },
    #[error("--keys {keys} is inside the data directory {data}: keep the keys apart, so that a copy of the data reads nothing (e.g. --keys {data}/../fairgate-keys)")]
    KeysInsideData { keys: PathBuf, data: PathBuf },
    #[error("the key store {keys} has no master.key, but {data} holds a database: point --keys at the key store it was made with (a new key cannot read it)")]
    NoKeys { keys: PathBuf, data: PathBuf },
    #[error("{path} names a key in a PKCS#11 token, but the key store has no pkcs11.json saying which token")]
    NoTokenConfig { path: PathBuf },
    #[error(transparent)]
    Hsm(#[from] HsmError),
}

pub struct DataDir {
    pub root: PathBuf,
    /// The key store, apart from `root`.
    pub keys: PathBuf,
    pub master_key: Master,
    /// The next master key, while a rotation is under way.
    pub next_master_key: Option<Master>,
    pub signing_seed: SecretKey,
    /// True when this call created the keys.
    pub created: bool,
    /// Key files found in the data directory (from before the split) and moved.
    pub moved_keys: Vec<PathBuf>,
}

/// The default key store of a data directory: its sibling `fairgate-keys` for
/// `fairgate-data`; otherwise the sibling `NAME-keys`.
pub fn default_keys(data: &Path) -> PathBuf {
    let name = data.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let keys = match name.strip_suffix("-data") {
        Some(stem) if !stem.is_empty() => format!("{stem}-keys"),
        _ if name.is_empty() || name == "." => "fairgate-keys".to_string(),
        _ => format!("{name}-keys"),
    };
    data.parent().unwrap_or(Path::new(".")).join(keys)
}

const KEY_FILES: [&str; 3] = ["master.key", "master.key.next", "checkpoint.key"];

impl DataDir {
    pub fn db_path(&self) -> PathBuf {
        self.root.join("fairgate.db")
    }

    /// Open `root` and the key store `keys`, creating them and the key files when
    /// missing (but never new keys for a database that exists: they could not read it).
    pub fn open_or_create(
        root: &Path,
        keys: &Path,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<DataDir, DataDirError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DataDirError::Io { path, source }
        };
        fs::create_dir_all(root).map_err(io(root))?;
        fs::create_dir_all(keys).map_err(io(keys))?;
        let (data_abs, keys_abs) =
            (fs::canonicalize(root).map_err(io(root))?, fs::canonicalize(keys).map_err(io(keys))?);
        if keys_abs.starts_with(&data_abs) {
            return Err(DataDirError::KeysInsideData { keys: keys.to_path_buf(), data: root.to_path_buf() });
        }
        // A data directory from before the split: its keys move to the key store.
        let mut moved_keys = Vec::new();
        if !keys.join("master.key").exists() && root.join("master.key").exists() {
            for f in KEY_FILES {
                let (from, to) = (root.join(f), keys.join(f));
                if from.exists() && !to.exists() {
                    move_file(&from, &to).map_err(io(&from))?;
                    moved_keys.push(to);
                }
            }
            fs::File::open(keys).and_then(|d| d.sync_all()).map_err(io(keys))?;
            fs::File::open(root).and_then(|d| d.sync_all()).map_err(io(root))?;
        }
        let master_path = keys.join("master.key");
        let created = !master_path.exists();
        if created {
            if root.join("fairgate.db").exists() {
                return Err(DataDirError::NoKeys { keys: keys.to_path_buf(), data: root.to_path_buf() });
            }
            fs::set_permissions(root, fs::Permissions::from_mode(0o700)).map_err(io(root))?;
            fs::set_permissions(keys, fs::Permissions::from_mode(0o700)).map_err(io(keys))?;
        }
        let master_key = master_key_file(&master_path, keys, rng)?;
        let signing_seed = key_file(&keys.join("checkpoint.key"), rng)?;
        let next_master_key = existing_master(&keys.join(NEXT), keys)?;
        finish_destroying(keys)?;
        Ok(DataDir {
            root: root.to_path_buf(),
            keys: keys.to_path_buf(),
            master_key,
            next_master_key,
            signing_seed,
            created,
            moved_keys,
        })
    }

    /// The master keys, for `Registry::open`.
    pub fn master_keys(&self) -> MasterKeys {
        MasterKeys { current: self.master_key.clone(), next: self.next_master_key.clone() }
    }

    /// Reads the master key files again whenever called (see the module comment).
    pub fn key_source(&self) -> KeySource {
        let root = self.keys.clone();
        Box::new(move || {
            let current = existing_master(&root.join("master.key"), &root)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("{} is missing", root.join("master.key").display()))?;
            let next = existing_master(&root.join(NEXT), &root).map_err(|e| e.to_string())?;
            Ok(MasterKeys { current, next })
        })
    }

    /// Start a rotation: make `master.key.next`, unless one is there (a rotation
    /// that was interrupted resumes with it). With `pkcs11.json`, the new key is
    /// generated in the token.
    pub fn begin_rotation(&mut self, rng: &mut (impl RngCore + CryptoRng)) -> Result<(), DataDirError> {
        self.next_master_key = Some(master_key_file(&self.keys.join(NEXT), &self.keys, rng)?);
        Ok(())
    }

    /// End a rotation: the next key becomes `master.key` (an atomic rename), and the
    /// old key is gone from the key store.
    pub fn finish_rotation(&mut self) -> Result<(), DataDirError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DataDirError::Io { path, source }
        };
        let next = self.keys.join(NEXT);
        let master = self.keys.join("master.key");
        // A key in a token is not destroyed by the rename: note it first, so a crash
        // before it is destroyed is finished at the next open.
        let old = fs::read_to_string(&master).map_err(io(&master))?;
        if parse_reference(&old).is_some() {
            let pending = self.keys.join(DESTROY);
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&pending)
                .map_err(io(&pending))?;
            f.write_all(old.as_bytes()).and_then(|_| f.sync_all()).map_err(io(&pending))?;
        }
        fs::rename(&next, &master).map_err(io(&next))?;
        fs::File::open(&self.keys).and_then(|d| d.sync_all()).map_err(io(&self.keys))?;
        if let Some(k) = self.next_master_key.take() {
            self.master_key = k;
        }
        finish_destroying(&self.keys)
    }
}

/// Move a file: a rename, or (across file systems) a copy made durable, then removed.
fn move_file(from: &Path, to: &Path) -> std::io::Result<()> {
    if fs::rename(from, to).is_ok() {
        return Ok(());
    }
    let bytes = fs::read(from)?;
    let mut f = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(to)?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    fs::remove_file(from)
}

const NEXT: &str = "master.key.next";
/// A token key of an ended epoch, still to destroy.
const DESTROY: &str = "master.key.destroy";

/// Destroy the token key `master.key.destroy` names, unless it is the one in force.
fn finish_destroying(keys: &Path) -> Result<(), DataDirError> {
    let pending = keys.join(DESTROY);
    let Ok(text) = fs::read_to_string(&pending) else { return Ok(()) };
    let current = fs::read_to_string(keys.join("master.key")).unwrap_or_default();
    if let Some(id) = parse_reference(&text) {
        if parse_reference(&current) != Some(id) {
            let config = HsmConfig::read(keys)?.ok_or_else(|| DataDirError::NoTokenConfig { path: pending.clone() })?;
            Token::open(&config)?.destroy(id)?;
        }
    }
    fs::remove_file(&pending).map_err(|source| DataDirError::Io { path: pending.clone(), source })?;
    fs::File::open(keys)
        .and_then(|d| d.sync_all())
        .map_err(|source| DataDirError::Io { path: keys.to_path_buf(), source })
}

fn existing_master(path: &Path, keys: &Path) -> Result<Option<Master>, DataDirError> {
    if !path.exists() {
        return Ok(None);
    }
    // master_key_file only reads (and checks) a file that exists.
    master_key_file(path, keys, &mut rand::rngs::OsRng).map(Some)
}

/// Read the master key file at `path`: a key, or a reference to one in the token.
/// When it does not exist, make it: in the token if the key store has
/// `pkcs11.json`, else a key file.
fn master_key_file(path: &Path, keys: &Path, rng: &mut (impl RngCore + CryptoRng)) -> Result<Master, DataDirError> {
    if let Some(text) = read_private(path)? {
        if let Some(id) = parse_reference(&text) {
            let config =
                HsmConfig::read(keys)?.ok_or_else(|| DataDirError::NoTokenConfig { path: path.to_path_buf() })?;
            return Ok(Arc::new(Token::open(&config)?.find(id)?));
        }
        let key = SecretKey::from_hex(&text).map_err(|_| DataDirError::Malformed { path: path.to_path_buf() })?;
        return Ok(Arc::new(key));
    }
    match HsmConfig::read(keys)? {
        Some(config) => {
            let mut id = [0u8; 16];
            rng.fill_bytes(&mut id);
            let key = Token::open(&config)?.generate(id)?;
            write_private(path, &key.reference())?;
            Ok(Arc::new(key))
        }
        None => Ok(Arc::new(key_file(path, rng)?)),
    }
}

/// The text of a key file, refusing one others can read; `None` when it does not exist.
fn read_private(path: &Path) -> Result<Option<String>, DataDirError> {
    let io = |source| DataDirError::Io { path: path.to_path_buf(), source };
    if !path.exists() {
        return Ok(None);
    }
    let mode = fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(DataDirError::Permissions { path: path.to_path_buf(), mode });
    }
    fs::read_to_string(path).map(Some).map_err(io)
}

/// Write a new key file (mode 0600, never over an existing one), made durable.
fn write_private(path: &Path, text: &str) -> Result<(), DataDirError> {
    let io = |source| DataDirError::Io { path: path.to_path_buf(), source };
    let mut f = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)
}

/// Read the key file at `path` (refusing one others can read), or make it (mode
/// 0600) with a fresh key when it does not exist.
pub fn key_file(path: &Path, rng: &mut (impl RngCore + CryptoRng)) -> Result<SecretKey, DataDirError> {
    if let Some(text) = read_private(path)? {
        return SecretKey::from_hex(&text).map_err(|_| DataDirError::Malformed { path: path.to_path_buf() });
    }
    let key = SecretKey::generate(rng);
    write_private(path, &format!("{}\n", key.to_hex()))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn creates_private_key_files_once_apart_from_the_data_and_reuses_them() {
        let dir = tempfile::tempdir().unwrap();
        let (root, keys) = (dir.path().join("data"), dir.path().join("keys"));
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let a = DataDir::open_or_create(&root, &keys, &mut rng).unwrap();
        assert!(a.created);
        let mode = fs::metadata(keys.join("master.key")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!root.join("master.key").exists() && !root.join("checkpoint.key").exists(), "no key in the data");
        let b = DataDir::open_or_create(&root, &keys, &mut rng).unwrap();
        assert!(!b.created);
        assert_eq!(a.master_key.fingerprint(), b.master_key.fingerprint());
        assert_eq!(a.signing_seed.expose(), b.signing_seed.expose());
    }

    #[test]
    fn refuses_a_key_others_can_read() {
        let dir = tempfile::tempdir().unwrap();
        let (root, keys) = (dir.path().join("data"), dir.path().join("keys"));
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        DataDir::open_or_create(&root, &keys, &mut rng).unwrap();
        fs::set_permissions(keys.join("master.key"), fs::Permissions::from_mode(0o644)).unwrap();
        let err = DataDir::open_or_create(&root, &keys, &mut rng).err().unwrap();
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn keys_are_refused_inside_the_data_and_never_made_anew_for_a_database() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let err = DataDir::open_or_create(&root, &root.join("keys"), &mut rng).err().unwrap();
        assert!(matches!(err, DataDirError::KeysInsideData { .. }), "{err}");
        fs::write(root.join("fairgate.db"), b"").unwrap();
        let err = DataDir::open_or_create(&root, &dir.path().join("elsewhere"), &mut rng).err().unwrap();
        assert!(matches!(err, DataDirError::NoKeys { .. }), "{err}");
    }

    #[test]
    fn a_data_directory_from_before_the_split_has_its_keys_moved_out() {
        let dir = tempfile::tempdir().unwrap();
        let (root, keys) = (dir.path().join("data"), dir.path().join("keys"));
        fs::create_dir_all(&root).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let old = key_file(&root.join("master.key"), &mut rng).unwrap();
        key_file(&root.join("checkpoint.key"), &mut rng).unwrap();
        fs::write(root.join("fairgate.db"), b"").unwrap();
        let d = DataDir::open_or_create(&root, &keys, &mut rng).unwrap();
        assert_eq!(d.master_key.fingerprint(), fairgate_ledger::keys::fingerprint(&old), "the same key, moved");
        assert_eq!(d.moved_keys.len(), 2);
        assert!(!root.join("master.key").exists() && keys.join("master.key").exists());
    }

    #[test]
    fn the_default_key_store_is_the_data_directorys_sibling() {
        assert_eq!(default_keys(Path::new("./fairgate-data")), Path::new("./fairgate-keys"));
        assert_eq!(default_keys(Path::new("/srv/fairgate-data")), Path::new("/srv/fairgate-keys"));
        assert_eq!(default_keys(Path::new("/tmp/x")), Path::new("/tmp/x-keys"));
    }
}
