//! Law-enforcement access: a reasoned request, approval by an independent approver,
//! and a time-limited grant. In an emergency the access may come first; it must then
//! be reviewed within [`REVIEW_DAYS`] days, and if found unjustified, what was
//! disclosed under it is marked so in the person's accounting of disclosures. While
//! a case is under a legal hold, the person sees only that an access happened and
//! its date.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::error::{parse_date, text, Errors, Invalid};

/// How long a grant lasts from its approval.
pub const GRANT_HOURS: i64 = 72;
/// How long an emergency access lasts from its request unless an approver confirms
/// it (approves the request): then it lasts [`GRANT_HOURS`] from the confirmation.
pub const EMERGENCY_HOURS: i64 = 24;
/// Days within which an emergency access must be reviewed. An emergency grant not
/// reviewed by then ends, whatever else it was given.
pub const REVIEW_DAYS: i64 = 7;
/// The longest a legal hold may run, in years from the request, when the person's
/// records have no retention date yet: no program runs longer than this
/// (`program::MAX_YEARS`). When they have one, the hold ends by it: a hold must not
/// outlast the records it hides accesses to.
pub const MAX_HOLD_YEARS: i16 = crate::program::MAX_YEARS;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestInput {
    pub case_number: String,
    /// Why the data is needed for the case.
    pub reasons: String,
    /// Access now, reviewed within 7 days.
    #[serde(default)]
    pub emergency: bool,
    /// Until this day (YYYY-MM-DD) the person sees only that an access happened.
    #[serde(default)]
    pub hold_until: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub case_number: String,
    pub reasons: String,
    pub emergency: bool,
    pub hold_until: Option<Date>,
}

/// The last day a hold may run to: [`MAX_HOLD_YEARS`] from `today`, or the day the
/// person's records fall due for erasure (`keep_until`), whichever is first.
pub fn latest_hold(today: Date, keep_until: Option<Date>) -> Date {
    let cap = today.checked_add(jiff::Span::new().years(MAX_HOLD_YEARS)).unwrap_or(today);
    keep_until.map_or(cap, |k| k.min(cap))
}

impl RequestInput {
    /// `keep_until`: when the person's records fall due for erasure, if known. A
    /// hold past it is refused without naming it (it is the person's record).
    pub fn validate(&self, today: Date, keep_until: Option<Date>) -> Result<Request, Invalid> {
        let mut e = Errors::default();
        let case_number = e.check(text("case_number", &self.case_number, 64, true));
        let reasons = e.check(text("reasons", &self.reasons, 2000, true));
        let hold_until = match self.hold_until.as_deref().filter(|h| !h.trim().is_empty()) {
            Some(h) => e.check(parse_date("hold_until", h)),
            None => None,
        };
        if hold_until.is_some_and(|h| h <= today) {
            e.push("hold_until", "must be a day after today");
        } else if let Some(h) = hold_until {
            let cap = latest_hold(today, None);
            if h > cap {
                e.push("hold_until", format!("must be {cap} or earlier: a hold runs at most {MAX_HOLD_YEARS} years; ask again before it ends if the case needs more"));
            } else if h > latest_hold(today, keep_until) {
                e.push("hold_until", "is past the day the person's records fall due for erasure: a hold may not outlast them; ask for a shorter one");
            }
        }
        e.finish(|| Request {
            case_number: case_number.unwrap_or_default(),
            reasons: reasons.unwrap_or_default(),
            emergency: self.emergency,
            hold_until,
        })
    }
}

/// One request and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub number: u32,
    #[serde(flatten)]
    pub request: Request,
    pub requested_by: Actor,
    pub requested_at: Timestamp,
    pub approved: Option<(Actor, Timestamp)>,
    /// For an emergency access: (justified, reasons, reviewer, when).
    pub review: Option<(bool, String, Actor, Timestamp)>,
}

impl Grant {
    /// When the grant starts and ends, if it is in effect at all: from its approval
    /// for [`GRANT_HOURS`]; an emergency access from its request, for
    /// [`EMERGENCY_HOURS`] unless an approver confirms it, and then until
    /// [`GRANT_HOURS`] after the confirmation.
    pub fn window(&self) -> Option<(Timestamp, Timestamp)> {
        let after = |t: Timestamp, h: i64| t.checked_add(SignedDuration::from_hours(h)).unwrap_or(t);
        match (&self.approved, self.request.emergency) {
            (Some((_, at)), false) => Some((*at, after(*at, GRANT_HOURS))),
            (Some((_, at)), true) => Some((self.requested_at, after(*at, GRANT_HOURS))),
            (None, true) => Some((self.requested_at, after(self.requested_at, EMERGENCY_HOURS))),
            (None, false) => None,
        }
    }
    /// May `actor` read the person's records for law enforcement at `now`? Never
    /// after an emergency access was found unjustified, or once its review is overdue.
    pub fn allows(&self, actor: &Actor, now: Timestamp) -> bool {
        let unjustified = self.review.as_ref().is_some_and(|r| !r.0);
        self.requested_by.id == actor.id
            && !unjustified
            && !self.review_overdue(now)
            && self.window().is_some_and(|(s, e)| s <= now && now <= e)
    }
    /// Waiting for an approver: a request not yet approved, or an emergency access
    /// not yet reviewed (once reviewed, it is decided: an emergency access is never
    /// approved, it is reviewed).
    pub fn awaiting_decision(&self) -> bool {
        if self.request.emergency {
            self.review.is_none()
        } else {
            self.approved.is_none()
        }
    }
    /// Where a request awaiting a decision stands, for the approvers' queue.
    pub fn queue_status(&self, now: Timestamp) -> &'static str {
        if self.review_overdue(now) {
            "review-overdue"
        } else if self.approved.is_none() {
            "awaiting-approval"
        } else {
            "awaiting-review"
        }
    }
    /// By when an emergency access must be reviewed.
    pub fn review_due(&self) -> Option<Timestamp> {
        self.request.emergency.then(|| {
            self.requested_at.checked_add(SignedDuration::from_hours(24 * REVIEW_DAYS)).unwrap_or(self.requested_at)
        })
    }
    /// Did this grant cover a read by `actor_id` at `at`? Compared in whole
    /// milliseconds, the precision of the ledger's leaf timestamps.
    ///
    /// `at` is a leaf's public time, in whole seconds: the window opens at the start
    /// of the second it began in, so a read in that second counts as under it.
    pub fn covers(&self, actor_id: &str, at: Timestamp) -> bool {
        let ms = at.as_millisecond();
        let second = |t: Timestamp| t.as_millisecond().div_euclid(1000) * 1000;
        self.requested_by.id == actor_id
            && self.window().is_some_and(|(s, e)| second(s) <= ms && ms <= e.as_millisecond())
    }
    /// An emergency access not reviewed within 7 days.
    pub fn review_overdue(&self, now: Timestamp) -> bool {
        self.review.is_none() && self.review_due().is_some_and(|due| now > due)
    }
}

/// Why an approval or a review is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The policy refuses: the requester deciding on their own request.
    #[error(transparent)]
    Policy(#[from] crate::policy::Refusal),
    #[error("there is no law-enforcement request {0} for this person")]
    NoRequest(u32),
    #[error("request {0} is already decided")]
    Decided(u32),
    #[error("request {0} was not an emergency access: approve it instead of reviewing it")]
    NotEmergency(u32),
}

pub fn check_decision(grants: &[Grant], number: u32, approver: &Actor, review: bool) -> Result<(), Refusal> {
    // Who may decide at all is the policy's table, checked by the registry first;
    // this is the rule about this request: never its own requester.
    use crate::policy::{separate, Separation};
    let g = grants.iter().find(|g| g.number == number).ok_or(Refusal::NoRequest(number))?;
    separate(Separation::LawEnforcementDecision, &g.requested_by, approver)?;
    match (review, g.request.emergency) {
        (true, false) => Err(Refusal::NotEmergency(number)),
        (true, true) if g.review.is_some() => Err(Refusal::Decided(number)),
        (false, _) if g.approved.is_some() => Err(Refusal::Decided(number)),
        _ => Ok(()),
    }
}

/// Fold a person's law-enforcement events.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a crate::event::Event>) -> Vec<Grant> {
    use crate::event::Event;
    let mut out: Vec<Grant> = Vec::new();
    let mut later = Vec::new();
    for e in events {
        match e {
            Event::LawEnforcementRequested(r) => out.push(Grant {
                number: r.number,
                request: r.request.clone(),
                requested_by: r.requested_by.clone(),
                requested_at: r.at,
                approved: None,
                review: None,
            }),
            e @ Event::LawEnforcementDecided(_) => later.push(e),
            _ => {}
        }
    }
    for e in later {
        if let Event::LawEnforcementDecided(d) = e {
            if let Some(g) = out.iter_mut().find(|g| g.number == d.number) {
                match d.justified {
                    None => g.approved = Some((d.by.clone(), d.at)),
                    Some(j) => g.review = Some((j, d.reasons.clone(), d.by.clone(), d.at)),
                }
            }
        }
    }
    out.sort_by_key(|g| g.number);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    #[test]
    fn a_hold_ends_by_the_retention_date_or_five_years_and_the_refusal_names_no_record() {
        let today = jiff::civil::date(2026, 11, 30);
        let ask = |h: &str| RequestInput {
            case_number: "c".into(),
            reasons: "r".into(),
            emergency: false,
            hold_until: Some(h.into()),
        };
        let keep = Some(jiff::civil::date(2028, 3, 14));
        assert!(ask("2028-03-14").validate(today, keep).is_ok());
        let e = ask("2028-03-15").validate(today, keep).unwrap_err();
        assert!(!e.to_string().contains("2028-03-14"), "the person's retention date is not quoted: {e}");
        let e = ask("9999-12-31").validate(today, None).unwrap_err();
        assert!(e.to_string().contains("2031-11-30"), "the five-year cap is no one's record: {e}");
        assert!(ask("2031-11-30").validate(today, None).is_ok());
    }

    #[test]
    fn a_read_in_the_same_second_as_an_emergency_request_is_covered() {
        let requested_at: Timestamp = "2026-11-29T11:32:41.586900Z".parse().unwrap();
        let g = Grant {
            number: 1,
            request: Request { case_number: "c".into(), reasons: "r".into(), emergency: true, hold_until: None },
            requested_by: Actor::new("u-sup", Role::Supervisor, "A"),
            requested_at,
            approved: None,
            review: None,
        };
        // Leaf headers keep whole seconds: the read is recorded at 11:32:41.
        assert!(g.covers("u-sup", "2026-11-29T11:32:41Z".parse().unwrap()));
        assert!(!g.covers("u-sup", "2026-11-29T11:32:40Z".parse().unwrap()));
        assert!(!g.covers("u-other", "2026-11-29T11:32:42Z".parse().unwrap()));
        // And the end: 24 hours after the request (an unconfirmed emergency access).
        assert!(g.covers("u-sup", "2026-11-30T11:32:41Z".parse().unwrap()));
        assert!(!g.covers("u-sup", "2026-11-30T11:32:42Z".parse().unwrap()));
    }
}
