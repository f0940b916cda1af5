//! Programs: the declared reason anyone must register. This module holds what every
//! program has whatever its rules: an id, a title, a legal basis, a start and a
//! sunset. The sunset is required and at most [`MAX_YEARS`] after the start, so no
//! program outlives the reason it was made for. The policy language (who is
//! selected, what is asked) builds on this type.
//!
//! - [`lang`]: the program file and its compiler;
//! - [`protected`]: why a protected attribute is refused;
//! - [`impact`]: the impact analysis that catches neutral-looking proxies;
//! - [`lifecycle`]: drafts, sign-offs, activation, amendment, sunset and repeal.

pub mod impact;
pub mod lang;
pub mod lifecycle;
pub mod protected;

use jiff::civil::Date;
use jiff::ToSpan;
use serde::{Deserialize, Serialize};

use crate::error::{clip, parse_date, text, Errors, Invalid};

/// How long a program may run, at most, from its start to its sunset.
pub const MAX_YEARS: i16 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    /// A stable slug, e.g. `visitor-entry-exit`.
    pub id: String,
    /// Amendments are new versions of the same id.
    pub version: u32,
    pub title: String,
    /// The law or instrument that authorises the program.
    pub legal_basis: String,
    pub starts: Date,
    /// The last day the program is in force.
    pub sunset: Date,
}

impl Program {
    /// Is the program in force on `day` (from its start through its sunset date)?
    pub fn in_force_on(&self, day: Date) -> bool {
        self.starts <= day && day <= self.sunset
    }
}

/// A program as written by a person.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ProgramInput {
    pub id: String,
    pub title: String,
    pub legal_basis: String,
    pub starts: String,
    /// Required; `None` is refused with an explanation.
    pub sunset: Option<String>,
}

impl ProgramInput {
    pub fn validate(&self) -> Result<Program, Invalid> {
        let mut e = Errors::default();
        let id = self.id.trim();
        if !(3..=64).contains(&id.len())
            || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            || id.starts_with('-')
        {
            e.push(
                "id",
                format!("`{}` is not a program id: use 3 to 64 lowercase letters, digits and dashes", clip(id)),
            );
        }
        let title = e.check(text("title", &self.title, 200, true));
        let legal_basis = e.check(text("legal_basis", &self.legal_basis, 1000, true));
        let starts = e.check(parse_date("starts", &self.starts));
        let sunset = match &self.sunset {
            None => {
                e.push("sunset", format!("is required: every program ends, at most {MAX_YEARS} years after it starts"));
                None
            }
            Some(s) => e.check(parse_date("sunset", s)),
        };
        if let (Some(start), Some(end)) = (starts, sunset) {
            let latest = start.checked_add(MAX_YEARS.years()).unwrap_or(start);
            if end <= start {
                e.push("sunset", format!("must come after the start ({start})"));
            } else if end > latest {
                e.push(
                    "sunset",
                    format!("is more than {MAX_YEARS} years after the start: the latest allowed is {latest}"),
                );
            }
        }
        e.finish(|| Program {
            id: id.to_string(),
            version: 1,
            title: title.unwrap_or_default(),
            legal_basis: legal_basis.unwrap_or_default(),
            starts: starts.unwrap_or_default(),
            sunset: sunset.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn input(starts: &str, sunset: Option<&str>) -> ProgramInput {
        ProgramInput {
            id: "visitor-entry-exit".into(),
            title: "Visitor entry-exit registration".into(),
            legal_basis: "Regulation (EU) 2017/2226".into(),
            starts: starts.into(),
            sunset: sunset.map(Into::into),
        }
    }

    #[test]
    fn sunset_is_required_and_bounded() {
        assert_eq!(input("2026-01-01", Some("2030-12-31")).validate().unwrap().sunset, date(2030, 12, 31));
        assert!(input("2026-01-01", Some("2031-01-01")).validate().is_ok(), "exactly five years is allowed");
        let e = input("2026-01-01", None).validate().unwrap_err();
        assert_eq!(e.0[0].field, "sunset");
        assert!(e.0[0].message.contains("required"));
        let e = input("2026-01-01", Some("2031-01-02")).validate().unwrap_err();
        assert!(e.0[0].message.contains("2031-01-01"), "{}", e.0[0].message);
        assert!(input("2026-01-01", Some("2026-01-01")).validate().is_err());
    }

    #[test]
    fn in_force_from_start_through_sunset() {
        let p = input("2026-01-01", Some("2027-06-30")).validate().unwrap();
        assert!(!p.in_force_on(date(2025, 12, 31)));
        assert!(p.in_force_on(date(2026, 1, 1)));
        assert!(p.in_force_on(date(2027, 6, 30)));
        assert!(!p.in_force_on(date(2027, 7, 1)));
    }

    #[test]
    fn bad_ids_are_named() {
        let mut i = input("2026-01-01", Some("2027-01-01"));
        i.id = "Special Registration!".into();
        assert_eq!(i.validate().unwrap_err().0[0].field, "id");
    }

    proptest! {
        #[test]
        fn no_valid_program_runs_longer_than_five_years(start in 0i32..20_000, len in -100i32..3_000) {
            let s = date(2000, 1, 1).checked_add(start.days()).unwrap();
            let e = s.checked_add(len.days()).unwrap();
            let result = input(&s.to_string(), Some(&e.to_string())).validate();
            let limit = s.checked_add(5.years()).unwrap();
            prop_assert_eq!(result.is_ok(), e > s && e <= limit);
        }
    }
}
