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

/// The master key is rotated every this many days unless the operator says otherwise.
pub const DEFAULT_ROTATE_DAYS: u32 = 30;

/// When a rotation is due: `period` after the epoch in force began.
pub fn rotation_due(epoch_started: Timestamp, period: jiff::SignedDuration, now: Timestamp) -> bool {
    period.is_positive() && epoch_started.checked_add(period).map(|due| now >= due).unwrap_or(false)
}

/// The day an erasure made at `now` reaches every backup: the day the epoch in force
/// ends by the schedule (`period` after it began), or today when that rotation is
/// already overdue (it runs at the scheduler's next check). `None` with no schedule.
pub fn backups_erased_by(
    epoch_started: Timestamp,
    period: Option<jiff::SignedDuration>,
    now: Timestamp,
) -> Option<jiff::civil::Date> {
    let period = period.filter(|p| p.is_positive())?;
    let end = epoch_started.checked_add(period).ok()?.max(now);
    // Round up to the whole day: the rotation may run any time on that day.
    let day = end.to_zoned(jiff::tz::TimeZone::UTC).date();
    Some(day)
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
    /// The day the erasure reaches every backup: the end of the master key epoch in
    /// force when it was made (absent when no rotation was scheduled). The
    /// `erasure-complete` event in the log says when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backups_erased_by: Option<jiff::civil::Date>,
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

    proptest! {
        #[test]
        fn backups_are_erased_by_the_epochs_end_and_never_before_today(
            started in 0i64..2_000_000_000, age in 0i64..200_000_000, days in 1i64..400,
        ) {
            let started = Timestamp::from_second(started).unwrap();
            let now = Timestamp::from_second(started.as_second() + age).unwrap();
            let period = jiff::SignedDuration::from_hours(24 * days);
            let by = backups_erased_by(started, Some(period), now).unwrap();
            let end = started.checked_add(period).unwrap();
            let utc = |t: Timestamp| t.to_zoned(jiff::tz::TimeZone::UTC).date();
            prop_assert!(by >= utc(now));
            prop_assert!(by >= utc(end));
            prop_assert_eq!(by, utc(end.max(now)));
            // A rotation is due exactly when the epoch's end has passed.
            prop_assert_eq!(rotation_due(started, period, now), now >= end);
        }
    }

    #[test]
    fn without_a_schedule_no_date_is_promised_and_nothing_is_due() {
        let t = Timestamp::from_second(1_700_000_000).unwrap();
        assert_eq!(backups_erased_by(t, None, t), None);
        assert_eq!(backups_erased_by(t, Some(jiff::SignedDuration::ZERO), t), None);
        let later = Timestamp::from_second(1_900_000_000).unwrap();
        assert!(!rotation_due(t, jiff::SignedDuration::ZERO, later));
        // 30 days after 2023-11-14T22:13:20Z.
        let by = backups_erased_by(t, Some(jiff::SignedDuration::from_hours(24 * 30)), t).unwrap();
        assert_eq!(by, jiff::civil::date(2023, 12, 14));
    }

    #[test]
    fn an_absurd_period_is_refused_not_a_panic() {
        let e = erase_on(jiff::civil::date(2026, 1, 1), i64::MAX).unwrap_err();
        assert_eq!(e.0[0].field, "copy_days");
    }
}
