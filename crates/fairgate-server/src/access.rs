//! The role × purpose access matrix: which role may read personal data for which
//! purpose, and which roles may record facts. It is data, in one place, so that it
//! can be read, reviewed and published as it is.

use fairgate_core::access::{Purpose, Role};

/// Who may read personal data, and why. A purpose not listed for a role is refused.
/// `law-enforcement` is listed for no role: it will only ever be reachable through
/// an approved, time-limited grant.
pub const PURPOSE_MATRIX: &[(Role, &[Purpose])] = &[
    (Role::Officer, &[Purpose::Registration, Purpose::BorderCheck]),
    // Law enforcement also needs a grant approved by an independent approver (checked by the registry).
    (
        Role::Supervisor,
        &[Purpose::Registration, Purpose::BorderCheck, Purpose::ComplianceReview, Purpose::LawEnforcement],
    ),
    (Role::Adjudicator, &[Purpose::BenefitAdjudication]),
    (Role::Auditor, &[Purpose::OversightAudit]),
    (Role::Approver, &[]),
    (Role::Admin, &[]),
    // Registrants read only their own records, through the portal (not yet built).
    (Role::Registrant, &[]),
];

/// The purposes for which the list of all overstayers may be read (on top of the
/// matrix: the role must also be permitted the purpose).
pub const OVERSTAY_LIST_PURPOSES: &[Purpose] = &[Purpose::ComplianceReview, Purpose::OversightAudit];

/// The most rows one page of the overstay list holds.
pub const MAX_PER_PAGE: usize = 500;

/// May `role` read the list of all overstayers for `purpose`? If not, says why.
pub fn check_overstay_list(role: Role, purpose: Purpose) -> Result<(), String> {
    if !OVERSTAY_LIST_PURPOSES.contains(&purpose) {
        return Err(format!("the list of overstayers is read for compliance-review or oversight-audit, not {purpose}"));
    }
    if !may_read(role, purpose) {
        return Err(format!("the role {role} may not read personal data for {purpose}"));
    }
    Ok(())
}

/// Pages are numbered from 1 and hold 1 to [`MAX_PER_PAGE`] rows.
pub fn check_page(page: usize, per_page: usize) -> Result<(), fairgate_core::FieldError> {
    if page == 0 {
        return Err(fairgate_core::FieldError::new("page", "pages are numbered from 1"));
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(fairgate_core::FieldError::new("per_page", format!("must be between 1 and {MAX_PER_PAGE}")));
    }
    Ok(())
}

/// Who may record subjects, registrations and crossings.
pub const RECORDING_ROLES: &[Role] = &[Role::Officer, Role::Supervisor];

pub fn purposes_for(role: Role) -> &'static [Purpose] {
    PURPOSE_MATRIX.iter().find(|(r, _)| *r == role).map(|(_, p)| *p).unwrap_or(&[])
}

pub fn may_read(role: Role, purpose: Purpose) -> bool {
    purposes_for(role).contains(&purpose)
}

pub fn may_record(role: Role) -> bool {
    RECORDING_ROLES.contains(&role)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_exactly_one_row() {
        for role in Role::ALL {
            assert_eq!(PURPOSE_MATRIX.iter().filter(|(r, _)| r == role).count(), 1, "{role}");
        }
    }

    #[test]
    fn the_matrix_says_what_the_design_says() {
        assert!(may_read(Role::Officer, Purpose::Registration));
        assert!(may_read(Role::Officer, Purpose::BorderCheck));
        assert!(!may_read(Role::Officer, Purpose::BenefitAdjudication));
        assert!(!may_read(Role::Admin, Purpose::OversightAudit), "admins never read personal data");
        // Only supervisors may state law enforcement, and even then the registry refuses
        // the read without an approved grant (tests/law_enforcement.rs).
        for role in Role::ALL {
            assert_eq!(may_read(*role, Purpose::LawEnforcement), *role == Role::Supervisor, "{role}");
        }
        assert!(may_record(Role::Officer) && !may_record(Role::Auditor) && !may_record(Role::Admin));
        assert!(check_overstay_list(Role::Supervisor, Purpose::ComplianceReview).is_ok());
        assert!(check_overstay_list(Role::Auditor, Purpose::OversightAudit).is_ok());
        assert!(check_overstay_list(Role::Officer, Purpose::BorderCheck).is_err(), "not a list purpose");
        assert!(check_overstay_list(Role::Officer, Purpose::ComplianceReview).is_err(), "not the officer's purpose");
        assert_eq!(check_page(0, 10).unwrap_err().field, "page");
        assert_eq!(check_page(1, MAX_PER_PAGE + 1).unwrap_err().field, "per_page");
    }
}
