//! Individual designations: an officer marks one person for closer monitoring (the
//! `individually_designated` selector of programs), for a reason from a fixed list
//! with the facts written out. A supervisor other than the officer must approve it
//! within [`APPROVAL_HOURS`] hours, or it lapses. Because designations are a known
//! path to profiling, [`stats`] compares designation rates per officer and per
//! place across nationality and sex with the impact analysis's flag test.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::error::{clip, text, Errors, Invalid};
use crate::place::PlaceBook;
use crate::program::impact::{compare_groups, Group};

/// How long a supervisor has to approve a designation.
pub const APPROVAL_HOURS: i64 = 72;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Reason {
    DocumentAnomaly,
    IdentityMismatch,
    PreviousViolation,
    /// A referral from another authority; needs its case number.
    Referral,
}

impl Reason {
    pub const ALL: [Reason; 4] =
        [Reason::DocumentAnomaly, Reason::IdentityMismatch, Reason::PreviousViolation, Reason::Referral];
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::DocumentAnomaly => "document-anomaly",
            Reason::IdentityMismatch => "identity-mismatch",
            Reason::PreviousViolation => "previous-violation",
            Reason::Referral => "referral",
        }
    }
}

/// The body of a designation request.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DesignationInput {
    /// document-anomaly, identity-mismatch, previous-violation or referral.
    pub reason: String,
    /// What was found, in plain words (20 to 2000 characters).
    pub facts: String,
    /// Required for a referral.
    #[serde(default)]
    pub case_number: Option<String>,
    /// The port or office where it was made.
    pub place: String,
}

/// A validated designation, as it goes into the ledger (sealed under the subject's key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDesignation {
    pub reason: Reason,
    pub facts: String,
    pub case_number: Option<String>,
    pub place: String,
}

impl DesignationInput {
    pub fn validate(&self, places: &PlaceBook) -> Result<NewDesignation, Invalid> {
        let mut e = Errors::default();
        let reason = Reason::ALL.into_iter().find(|r| r.as_str() == self.reason.trim());
        if reason.is_none() {
            e.push(
                "reason",
                format!(
                    "`{}` is not a designation reason: use document-anomaly, identity-mismatch, previous-violation or referral",
                    clip(self.reason.trim())
                ),
            );
        }
        let facts = e.check(text("facts", &self.facts, 2000, true));
        if facts.as_ref().is_some_and(|f| f.chars().count() < 20) {
            e.push("facts", "is too short: write out what was found, in at least 20 characters");
        }
        let case_number = match self.case_number.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => e.check(text("case_number", c, 64, true)),
            None => None,
        };
        if reason == Some(Reason::Referral) && case_number.is_none() {
            e.push("case_number", "is required for a referral: give the referring authority's case number");
        }
        let place = self.place.trim();
        if places.get(place).is_none() {
            e.push(
                "place",
                format!("`{}` is not a known port or office: see GET /ports and GET /offices", clip(place)),
            );
        }
        e.finish(|| NewDesignation {
            reason: reason.unwrap_or(Reason::DocumentAnomaly),
            facts: facts.unwrap_or_default(),
            case_number,
            place: place.to_string(),
        })
    }
}

/// Where a designation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Waiting for a supervisor, within the 72 hours.
    Pending,
    Approved,
    /// A supervisor refused it.
    Rejected,
    /// No supervisor decided within 72 hours: it has no effect.
    Lapsed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Lapsed => "lapsed",
        }
    }
}

/// A supervisor's decision on a designation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub approved: bool,
    pub reason: Option<String>,
    pub by: Actor,
    pub at: Timestamp,
}

/// One designation of one subject, folded from its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Designation {
    /// 1, 2, … per subject.
    pub number: u32,
    #[serde(flatten)]
    pub designation: NewDesignation,
    pub designated_by: Actor,
    pub designated_at: Timestamp,
    pub review: Option<Review>,
}

impl Designation {
    pub fn deadline(&self) -> Timestamp {
        self.designated_at.checked_add(SignedDuration::from_hours(APPROVAL_HOURS)).unwrap_or(self.designated_at)
    }
    pub fn status(&self, now: Timestamp) -> Status {
        match &self.review {
            Some(r) if r.approved => Status::Approved,
            Some(_) => Status::Rejected,
            None if now <= self.deadline() => Status::Pending,
            None => Status::Lapsed,
        }
    }
}

/// Fold a subject's designation events (any order) into designations, by number.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a crate::event::Event>) -> Vec<Designation> {
    use crate::event::Event;
    let mut out: Vec<Designation> = Vec::new();
    let mut reviews = Vec::new();
    for e in events {
        match e {
            Event::SubjectDesignated(d) => out.push(Designation {
                number: d.number,
                designation: d.designation.clone(),
                designated_by: d.designated_by.clone(),
                designated_at: d.at,
                review: None,
            }),
            Event::DesignationReviewed(r) => reviews.push(r),
            _ => {}
        }
    }
    for r in reviews {
        if let Some(d) = out.iter_mut().find(|d| d.number == r.number && d.review.is_none()) {
            d.review =
                Some(Review { approved: r.approved, reason: r.reason.clone(), by: r.reviewed_by.clone(), at: r.at });
        }
    }
    out.sort_by_key(|d| d.number);
    out
}

/// Why a review is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefusal {
    /// The policy refuses: the designating officer reviewing their own designation.
    #[error(transparent)]
    Policy(#[from] crate::policy::Refusal),
    #[error("designation {0} was already reviewed")]
    AlreadyReviewed(u32),
    #[error("designation {number} lapsed at {deadline}: no supervisor approved it within {APPROVAL_HOURS} hours, and it has no effect")]
    Lapsed { number: u32, deadline: Timestamp },
    #[error("this subject has no designation {0}")]
    NoSuchDesignation(u32),
}

/// May `actor` review designation `number` of these, at `now`?
pub fn check_review(
    designations: &[Designation],
    number: u32,
    actor: &Actor,
    now: Timestamp,
) -> Result<(), ReviewRefusal> {
    // Who may review at all is the policy's table, checked by the registry first;
    // this is the rule about this designation: never its own officer.
    use crate::policy::{separate, Separation};
    let d = designations.iter().find(|d| d.number == number).ok_or(ReviewRefusal::NoSuchDesignation(number))?;
    separate(Separation::DesignationReview, &d.designated_by, actor)?;
    match d.status(now) {
        Status::Pending => Ok(()),
        Status::Lapsed => Err(ReviewRefusal::Lapsed { number, deadline: d.deadline() }),
        Status::Approved | Status::Rejected => Err(ReviewRefusal::AlreadyReviewed(number)),
    }
}

/// One person as the designation statistics see them: who they are (for the
/// comparison only), where and by whom they were seen, and by whom designated.
#[derive(Debug, Clone, Default)]
pub struct Encounter {
    pub nationality: String,
    pub sex: String,
    /// Account ids of the staff who recorded a registration or crossing of theirs.
    pub seen_by: Vec<String>,
    /// Places of their registrations and crossings.
    pub seen_at: Vec<String>,
    /// (officer account id, place) of each designation, whatever its status.
    pub designated: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitStats {
    /// The officer's account id, or the place code.
    pub unit: String,
    /// People this officer or place recorded.
    pub encountered: u64,
    /// Of them, people this officer (or anyone at this place) designated.
    pub designated: u64,
    pub rate: f64,
    /// By nationality and sex; flagged as in the impact analysis.
    pub groups: Vec<Group>,
    pub flagged: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub officers: Vec<UnitStats>,
    pub places: Vec<UnitStats>,
    pub flagged: bool,
}

/// Designation rates per officer and per place, by nationality and sex: within the
/// people an officer (place) recorded, is one group designated far more often than
/// the rest? Groups of fewer than `min_group_shown` people are left out of the
/// answer but still count.
pub fn stats(people: &[Encounter], min_group_shown: u64) -> Stats {
    use std::collections::BTreeSet;
    let officers: BTreeSet<&str> = people.iter().flat_map(|p| p.seen_by.iter().map(String::as_str)).collect();
    let places: BTreeSet<&str> = people.iter().flat_map(|p| p.seen_at.iter().map(String::as_str)).collect();
    let unit = |name: &str, by_officer: bool| {
        let rows = people
            .iter()
            .filter(
                |p| if by_officer { p.seen_by.iter().any(|o| o == name) } else { p.seen_at.iter().any(|o| o == name) },
            )
            .map(|p| {
                let designated =
                    p.designated.iter().any(|(o, place)| if by_officer { o == name } else { place == name });
                (vec![("nationality", norm(&p.nationality)), ("sex", norm(&p.sex))], designated)
            });
        let (n, k, mut groups) = compare_groups(rows, |_| false);
        groups.retain(|g| g.population >= min_group_shown);
        UnitStats {
            unit: name.to_string(),
            encountered: n,
            designated: k,
            rate: if n == 0 { 0.0 } else { k as f64 / n as f64 },
            flagged: groups.iter().any(|g| g.flagged),
            groups,
        }
    };
    let officers: Vec<UnitStats> = officers.iter().map(|o| unit(o, true)).collect();
    let places: Vec<UnitStats> = places.iter().map(|p| unit(p, false)).collect();
    let flagged = officers.iter().chain(&places).any(|u| u.flagged);
    Stats { officers, places, flagged }
}

fn norm(s: &str) -> String {
    if s.trim().is_empty() {
        "unknown".into()
    } else {
        s.trim().to_ascii_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    fn places() -> PlaceBook {
        PlaceBook::defaults()
    }

    fn input(reason: &str, case: Option<&str>) -> DesignationInput {
        DesignationInput {
            reason: reason.into(),
            facts: "Laminate of the data page lifts at the corner".into(),
            case_number: case.map(Into::into),
            place: "JFK".into(),
        }
    }

    #[test]
    fn reasons_come_from_the_fixed_list_and_a_referral_needs_its_case() {
        assert_eq!(input("document-anomaly", None).validate(&places()).unwrap().reason, Reason::DocumentAnomaly);
        let e = input("looks suspicious", None).validate(&places()).unwrap_err();
        assert_eq!(e.0[0].field, "reason");
        let e = input("referral", None).validate(&places()).unwrap_err();
        assert_eq!(e.0[0].field, "case_number");
        assert!(input("referral", Some("FBI-2027-0042")).validate(&places()).is_ok());
        let mut short = input("identity-mismatch", None);
        short.facts = "odd".into();
        assert_eq!(short.validate(&places()).unwrap_err().0[0].field, "facts");
        let mut nowhere = input("identity-mismatch", None);
        nowhere.place = "XXX".into();
        assert_eq!(nowhere.validate(&places()).unwrap_err().0[0].field, "place");
    }

    #[test]
    fn a_designation_lapses_after_72_hours_without_a_supervisor() {
        let at: Timestamp = "2027-03-01T10:00:00Z".parse().unwrap();
        let officer = Actor::new("u-off", Role::Officer, "CBP");
        let d = Designation {
            number: 1,
            designation: input("document-anomaly", None).validate(&places()).unwrap(),
            designated_by: officer.clone(),
            designated_at: at,
            review: None,
        };
        let h = |n: i64| at.checked_add(SignedDuration::from_hours(n)).unwrap();
        assert_eq!(d.status(h(72)), Status::Pending);
        assert_eq!(d.status(h(72).checked_add(SignedDuration::from_secs(1)).unwrap()), Status::Lapsed);
        let sup = Actor::new("u-sup", Role::Supervisor, "CBP");
        assert_eq!(check_review(std::slice::from_ref(&d), 1, &sup, h(71)), Ok(()));
        assert!(matches!(check_review(std::slice::from_ref(&d), 1, &sup, h(73)), Err(ReviewRefusal::Lapsed { .. })));
        let own = Actor::new("u-off", Role::Supervisor, "CBP");
        assert_eq!(
            check_review(std::slice::from_ref(&d), 1, &own, h(1)),
            Err(ReviewRefusal::Policy(crate::policy::Refusal::Separation(
                crate::policy::Separation::DesignationReview
            )))
        );
        assert_eq!(check_review(&[d], 2, &sup, h(1)), Err(ReviewRefusal::NoSuchDesignation(2)));
    }

    #[test]
    fn an_officer_who_designates_one_nationality_is_flagged_and_a_fair_one_is_not() {
        let mut people = Vec::new();
        for i in 0..400 {
            let nationality = ["UTO", "KAR"][i % 2];
            let officer = if i % 4 < 2 { "u-a" } else { "u-b" };
            // u-a designates one KAR person in three; u-b one person in five, either nationality.
            let designated = match officer {
                "u-a" => nationality == "KAR" && i % 3 == 0,
                _ => i % 20 == 2 || i % 20 == 3,
            };
            people.push(Encounter {
                nationality: nationality.into(),
                sex: if i % 8 < 4 { "F" } else { "M" }.into(),
                seen_by: vec![officer.into()],
                seen_at: vec!["JFK".into()],
                designated: if designated { vec![(officer.into(), "JFK".into())] } else { vec![] },
            });
        }
        let s = stats(&people, 10);
        let a = s.officers.iter().find(|u| u.unit == "u-a").unwrap();
        let b = s.officers.iter().find(|u| u.unit == "u-b").unwrap();
        assert!(a.flagged, "{:#?}", a.groups);
        assert_eq!(a.groups.iter().filter(|g| g.flagged).map(|g| g.value.as_str()).collect::<Vec<_>>(), ["KAR"]);
        assert!(!b.flagged, "{:#?}", b.groups);
        assert_eq!((b.encountered, b.designated), (200, 40));
        assert!(s.flagged);
    }
}
