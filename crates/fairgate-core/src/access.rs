//! The words for who is asking and why: roles, purposes, and the actor of an event.
//! Which role may do what, and read for which purpose, is decided in [`crate::policy`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name { $($(#[$vm])* #[serde(rename = $word)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s.trim() {
                    $($word => Ok($name::$variant),)+
                    other => Err(format!(
                        "`{}` is not a {}: use one of {}",
                        crate::error::clip(other),
                        stringify!($name).to_lowercase(),
                        [$($word),+].join(", ")
                    )),
                }
            }
        }
    };
}

word_enum!(
    /// What a signed-in person is allowed to do.
    Role {
        Officer = "officer",
        Supervisor = "supervisor",
        Adjudicator = "adjudicator",
        Auditor = "auditor",
        /// Independently approves law-enforcement requests.
        Approver = "approver",
        /// Configuration and keys; never reads personal data.
        Admin = "admin",
        /// Their own records only.
        Registrant = "registrant",
    }
);

word_enum!(
    /// Why personal data is read. Every read states one.
    Purpose {
        Registration = "registration",
        BorderCheck = "border-check",
        ComplianceReview = "compliance-review",
        BenefitAdjudication = "benefit-adjudication",
        OversightAudit = "oversight-audit",
        SubjectAccess = "subject-access",
        LawEnforcement = "law-enforcement",
    }
);

/// Who did something: a pseudonymous user id, the role they acted in, and the
/// agency they work for (reported in aggregate in the transparency report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: String,
    pub role: Role,
    #[serde(default = "unspecified_agency")]
    pub agency: String,
}

/// The agency of accounts created without one.
pub const UNSPECIFIED_AGENCY: &str = "unspecified";

fn unspecified_agency() -> String {
    UNSPECIFIED_AGENCY.to_string()
}

impl Actor {
    pub fn new(id: impl Into<String>, role: Role, agency: impl Into<String>) -> Self {
        Self { id: id.into(), role, agency: agency.into() }
    }

    /// Fairgate itself, running a scheduled job (`serve`'s daily compliance and
    /// retention runs) or an operator's command at the console of the machine that
    /// holds the key files. It acts in the admin role, so the policy still applies:
    /// it may configure and erase, never read personal data.
    pub fn system(job: &str) -> Self {
        Self::new(format!("system:{job}"), Role::Admin, "Fairgate")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
            assert_eq!(serde_json::to_string(r).unwrap(), format!("\"{r}\""));
        }
        for p in Purpose::ALL {
            assert_eq!(p.as_str().parse::<Purpose>().unwrap(), *p);
        }
        let e = "curiosity".parse::<Purpose>().unwrap_err();
        assert!(e.contains("border-check") && e.contains("curiosity"), "{e}");
    }
}
