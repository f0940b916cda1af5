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

/// An authority an expungement may cite, from the list administrators maintain:
/// `id` is what a request names; `name` and `reference` are what a certificate
/// publishes. Free text typed for one case could name the person; a list entry,
/// published before it is used, cannot be written for one case unseen.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Authority {
    /// Lowercase letters, digits and dashes, e.g. `privacy-act-s7`.
    pub id: String,
    /// E.g. "Privacy Act, section 7 (erasure on request)".
    pub name: String,
    /// Where it is written, e.g. "Pub. L. 93-579, 88 Stat. 1896" or a URL.
    pub reference: String,
}

impl Authority {
    pub fn validate(&self) -> Result<Authority, Invalid> {
        let mut e = Errors::default();
        let id = self.id.trim();
        if !(1..=64).contains(&id.len())
            || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            e.push("id", "must be 1 to 64 lowercase letters, digits and dashes, e.g. privacy-act-s7");
        }
        let name = e.check(text("name", &self.name, 200, true));
        let reference = e.check(text("reference", &self.reference, 300, true));
        e.finish(|| Authority {
            id: id.to_string(),
            name: name.unwrap_or_default(),
            reference: reference.unwrap_or_default(),
        })
    }
    /// What a certificate publishes.
    pub fn citation(&self) -> String {
        format!("{} ({})", self.name, self.reference)
    }
}

/// The body of an expungement request or approval.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExpungementInput {
    /// The id of an authority on the public list (`GET /authorities`) that orders
    /// it. The certificate publishes the list entry's name and reference, never
    /// text typed for the case.
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

/// The shortest notice-and-copy period before a program's records are erased:
/// people need time to download their records (they may need proof that they complied).
pub const MIN_COPY_DAYS: i64 = 30;
/// The notice-and-copy period unless another is given.
pub const DEFAULT_COPY_DAYS: i64 = 90;

/// The day a program's records may be erased, `copy_days` after `today`.
pub fn erase_on(today: jiff::civil::Date, copy_days: i64) -> Result<jiff::civil::Date, Invalid> {
    if copy_days < MIN_COPY_DAYS {
        return Err(Invalid::one(
            "copy_days",
            format!("must be at least {MIN_COPY_DAYS}: people need time to download their records"),
        ));
    }
    // try_days: a Span panics on a count of days it cannot hold.
    jiff::Span::new()
        .try_days(copy_days)
        .ok()
        .and_then(|span| today.checked_add(span).ok())
        .ok_or_else(|| Invalid::one("copy_days", "is too large: give a number of days that ends before 9999"))
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_copy_period_is_never_shorter_than_the_minimum(days in -1000i64..4000, offset in 0i64..20000) {
            let today = jiff::civil::date(2000, 1, 1).checked_add(jiff::Span::new().days(offset)).unwrap();
            match erase_on(today, days) {
                Ok(on) => {
                    prop_assert!(days >= MIN_COPY_DAYS);
                    prop_assert_eq!(today.until(on).unwrap().get_days() as i64, days);
                }
                Err(e) => {
                    prop_assert!(days < MIN_COPY_DAYS);
                    prop_assert_eq!(e.0[0].field.as_str(), "copy_days");
                }
            }
        }
    }

    #[test]
    fn an_absurd_period_is_refused_not_a_panic() {
        let e = erase_on(jiff::civil::date(2026, 1, 1), i64::MAX).unwrap_err();
        assert_eq!(e.0[0].field, "copy_days");
    }
}
