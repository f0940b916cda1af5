//! Expungement: the request and its approval, and the certificate that proves an
//! erasure happened without saying anything about the person. The certificate's
//! body is signed by the log's key and names the ledger leaf of the expungement
//! event and a signed checkpoint that includes it, so anyone can check both.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{text, Errors, Invalid};

/// What was expunged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Scope {
    /// One person, by their pseudonymous subject id.
    Subject { subject: String },
    /// The records of a repealed program.
    Program { program: String },
}

impl Scope {
    /// The key that ties an approval to its expungement.
    pub fn key(&self) -> String {
        match self {
            Scope::Subject { subject } => format!("subject:{subject}"),
            Scope::Program { program } => format!("program:{program}"),
        }
    }
}

/// The body of an expungement request or approval.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExpungementInput {
    /// The authority that orders it (e.g. a court order or the statute); published
    /// on the certificate, so it must not name the person.
    pub authority: String,
    /// Why; kept sealed in the ledger, not published.
    pub reason: String,
}

impl ExpungementInput {
    pub fn validate(&self) -> Result<(String, String), Invalid> {
        let mut e = Errors::default();
        let authority = e.check(text("authority", &self.authority, 300, true));
        let reason = e.check(text("reason", &self.reason, 2000, true));
        e.finish(|| (authority.unwrap_or_default(), reason.unwrap_or_default()))
    }
}

/// Days an auditor's approval stays good for.
pub const APPROVAL_DAYS: i64 = 30;

/// The signed part of a certificate. Field order is the canonical order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateBody {
    /// `fairgate-expungement-certificate/v1`.
    pub format: String,
    /// The log's origin.
    pub log: String,
    pub scope: Scope,
    /// How many people's records were erased.
    pub subjects: u64,
    pub authority: String,
    pub expunged_at: Timestamp,
    /// The ledger leaf that records the expungement.
    pub leaf_index: u64,
    /// A signed checkpoint (C2SP note) of a tree that includes that leaf.
    pub checkpoint: String,
}

pub const CERTIFICATE_FORMAT: &str = "fairgate-expungement-certificate/v1";

/// A certificate: the body and an Ed25519 signature over its canonical JSON, by the
/// log's key (base64 of the 4-byte key hash and the 64-byte signature, as in signed
/// notes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    #[serde(flatten)]
    pub body: CertificateBody,
    pub signature: String,
}
