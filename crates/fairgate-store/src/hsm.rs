//! Master keys inside a PKCS#11 token (an HSM; SoftHSM2 in tests), through the
//! `cryptoki` crate. A key is generated in the token as a non-extractable,
//! sensitive AES-256 key and never leaves it: wrapping and unwrapping a stored key
//! is an AES-GCM encryption or decryption done by the token (nonce from the caller,
//! the label as associated data), in the same 60-byte layout as a key file's.
//!
//! The key store says which token: `pkcs11.json` beside the key files,
//!
//! ```json
//! {"module": "/usr/lib/softhsm/libsofthsm2.so", "token": "fairgate", "pin_env": "FAIRGATE_HSM_PIN"}
//! ```
//!
//! (or `"pin_file"` instead of `"pin_env"`). A key file then holds only a
//! reference, `pkcs11:<32 hex digits>`, the key's CKA_ID: copying the key store
//! copies no key. Destroying an epoch destroys the token object.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use fairgate_ledger::keys::{MasterKey, SecretKey, WRAPPED_LEN};
use fairgate_ledger::LedgerError;
use serde::{Deserialize, Serialize};

/// The prefix of a key file that names a key in the token.
pub const REFERENCE_PREFIX: &str = "pkcs11:";
/// The configuration file in the key store.
pub const CONFIG_FILE: &str = "pkcs11.json";
/// Every master key Fairgate makes carries this label (and its own CKA_ID).
pub const KEY_LABEL: &str = "fairgate-master";

#[derive(Debug, thiserror::Error)]
pub enum HsmError {
    #[error("{path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("PKCS#11 module {module}: {reason}")]
    Module { module: PathBuf, reason: String },
    #[error("no token labelled `{0}` in any slot: initialise it (e.g. `softhsm2-util --init-token --free --label {0}`) or fix `token` in pkcs11.json")]
    NoToken(String),
    #[error("the PIN: {0}")]
    Pin(String),
    #[error("the token has no master key with id {0}: it was destroyed (an ended epoch), or this is another token")]
    NoKey(String),
    #[error("the token refused: {0}")]
    Token(String),
}

/// Which token, and where its user PIN comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HsmConfig {
    /// The PKCS#11 module (shared library) of the HSM.
    pub module: PathBuf,
    /// The token's label.
    pub token: String,
    /// The environment variable holding the user PIN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_env: Option<String>,
    /// Or a file holding it (mode 0600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_file: Option<PathBuf>,
}

impl HsmConfig {
    /// The configuration in key store `keys`, if it has one.
    pub fn read(keys: &Path) -> Result<Option<HsmConfig>, HsmError> {
        let path = keys.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(HsmError::Config { path, reason: e.to_string() }),
        };
        let config: HsmConfig =
            serde_json::from_str(&text).map_err(|e| HsmError::Config { path: path.clone(), reason: e.to_string() })?;
        if config.pin_env.is_none() == config.pin_file.is_none() {
            return Err(HsmError::Config { path, reason: "give exactly one of pin_env and pin_file".into() });
        }
        Ok(Some(config))
    }

    fn pin(&self) -> Result<String, HsmError> {
        if let Some(var) = &self.pin_env {
            return std::env::var(var).map_err(|_| HsmError::Pin(format!("set the environment variable {var}")));
        }
        let path = self.pin_file.as_ref().ok_or_else(|| HsmError::Pin("no pin_env or pin_file".into()))?;
        std::fs::read_to_string(path)
            .map(|p| p.trim_end_matches(['\n', '\r']).to_string())
            .map_err(|e| HsmError::Pin(format!("{}: {e}", path.display())))
    }
}

/// An open, logged-in session on the token. One per process and token: PKCS#11
/// modules are initialised once per process.
pub struct Token {
    session: Mutex<Session>,
    _context: Pkcs11,
}

/// The tokens open in this process, by (module, token label).
type OpenTokens = Mutex<HashMap<(PathBuf, String), Arc<Token>>>;

fn tokens() -> &'static OpenTokens {
    static TOKENS: OnceLock<OpenTokens> = OnceLock::new();
    TOKENS.get_or_init(Default::default)
}

fn token_error(e: impl std::fmt::Display) -> HsmError {
    HsmError::Token(e.to_string())
}

impl Token {
    /// The token `config` names, opened and logged in (once per process).
    pub fn open(config: &HsmConfig) -> Result<Arc<Token>, HsmError> {
        let mut open = tokens().lock().map_err(|_| HsmError::Token("token table poisoned".into()))?;
        let id = (config.module.clone(), config.token.clone());
        if let Some(t) = open.get(&id) {
            return Ok(t.clone());
        }
        let module_err = |reason: String| HsmError::Module { module: config.module.clone(), reason };
        let context = Pkcs11::new(&config.module).map_err(|e| module_err(e.to_string()))?;
        context
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(|e| module_err(format!("C_Initialize: {e}")))?;
        let mut found = None;
        for slot in context.get_slots_with_token().map_err(token_error)? {
            let info = context.get_token_info(slot).map_err(token_error)?;
            if info.label().trim_end() == config.token {
                found = Some(slot);
                break;
            }
        }
        let slot = found.ok_or_else(|| HsmError::NoToken(config.token.clone()))?;
        let session = context.open_rw_session(slot).map_err(token_error)?;
        let pin = AuthPin::new(config.pin()?.into());
        session.login(UserType::User, Some(&pin)).map_err(|e| HsmError::Pin(format!("login refused: {e}")))?;
        let token = Arc::new(Token { session: Mutex::new(session), _context: context });
        open.insert(id, token.clone());
        Ok(token)
    }

    fn session(&self) -> Result<std::sync::MutexGuard<'_, Session>, HsmError> {
        self.session.lock().map_err(|_| HsmError::Token("session lock poisoned".into()))
    }

    /// Generate a new master key in the token with CKA_ID `id`.
    pub fn generate(self: &Arc<Self>, id: [u8; 16]) -> Result<HsmKey, HsmError> {
        let session = self.session()?;
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::ValueLen(32.into()),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Id(id.to_vec()),
            Attribute::Label(KEY_LABEL.as_bytes().to_vec()),
        ];
        let handle = session.generate_key(&Mechanism::AesKeyGen, &template).map_err(token_error)?;
        drop(session);
        Ok(HsmKey { token: self.clone(), id, handle })
    }

    /// The master key with CKA_ID `id`.
    pub fn find(self: &Arc<Self>, id: [u8; 16]) -> Result<HsmKey, HsmError> {
        let session = self.session()?;
        let found = session
            .find_objects(&[Attribute::Class(ObjectClass::SECRET_KEY), Attribute::Id(id.to_vec())])
            .map_err(token_error)?;
        let handle = *found.first().ok_or_else(|| HsmError::NoKey(hex::encode(id)))?;
        drop(session);
        Ok(HsmKey { token: self.clone(), id, handle })
    }

    /// Destroy the master key with CKA_ID `id` (an epoch ends). Destroying one that
    /// is already gone is not an error.
    pub fn destroy(&self, id: [u8; 16]) -> Result<(), HsmError> {
        let session = self.session()?;
        let found = session
            .find_objects(&[Attribute::Class(ObjectClass::SECRET_KEY), Attribute::Id(id.to_vec())])
            .map_err(token_error)?;
        for h in found {
            session.destroy_object(h).map_err(token_error)?;
        }
        Ok(())
    }
}

/// A master key held by the token.
pub struct HsmKey {
    token: Arc<Token>,
    id: [u8; 16],
    handle: ObjectHandle,
}

impl HsmKey {
    pub fn id(&self) -> [u8; 16] {
        self.id
    }

    /// The key file's text for this key.
    pub fn reference(&self) -> String {
        format!("{REFERENCE_PREFIX}{}\n", hex::encode(self.id))
    }
}

/// Parse a key file's `pkcs11:<hex id>` reference.
pub fn parse_reference(text: &str) -> Option<[u8; 16]> {
    let hex_id = text.trim().strip_prefix(REFERENCE_PREFIX)?;
    hex::decode(hex_id).ok()?.try_into().ok()
}

impl MasterKey for HsmKey {
    fn wrap_key(&self, key: &SecretKey, label: &[u8], nonce: [u8; 12]) -> Result<Vec<u8>, LedgerError> {
        let session = self.token.session().map_err(|e| LedgerError::MalformedKey(e.to_string()))?;
        let mut iv = nonce;
        let params =
            GcmParams::new(&mut iv, label, 128.into()).map_err(|e| LedgerError::MalformedKey(e.to_string()))?;
        let ct = session
            .encrypt(&Mechanism::AesGcm(params), self.handle, key.expose())
            .map_err(|e| LedgerError::MalformedKey(format!("the token could not wrap: {e}")))?;
        let mut out = Vec::with_capacity(WRAPPED_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        if out.len() != WRAPPED_LEN {
            return Err(LedgerError::MalformedKey(format!("the token wrapped to {} bytes", out.len())));
        }
        Ok(out)
    }

    fn unwrap_key(&self, wrapped: &[u8], label: &[u8]) -> Result<SecretKey, LedgerError> {
        if wrapped.len() != WRAPPED_LEN {
            return Err(LedgerError::MalformedKey(format!(
                "wrapped key has {} bytes, expected {WRAPPED_LEN}",
                wrapped.len()
            )));
        }
        let session = self.token.session().map_err(|e| LedgerError::MalformedKey(e.to_string()))?;
        let mut iv: [u8; 12] = wrapped[..12].try_into().map_err(|_| LedgerError::Decrypt)?;
        let params = GcmParams::new(&mut iv, label, 128.into()).map_err(|_| LedgerError::Decrypt)?;
        let pt = session
            .decrypt(&Mechanism::AesGcm(params), self.handle, &wrapped[12..])
            .map_err(|_| LedgerError::Decrypt)?;
        let arr: [u8; 32] = pt.as_slice().try_into().map_err(|_| LedgerError::Decrypt)?;
        Ok(SecretKey::from_bytes(arr))
    }

    fn fingerprint(&self) -> String {
        format!("hsm-{}", hex::encode(&self.id[..8]))
    }
}
