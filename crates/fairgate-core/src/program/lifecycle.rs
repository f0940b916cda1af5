//! A program's life, folded from its ledger events: drafted (with an impact
//! analysis), signed off by an auditor when the analysis could not clear it,
//! activated, amended (a new version that goes through the same checks), and ended
//! by its sunset date or by repeal. The rules for each transition live here; the
//! store only appends the events this module allows.
//!
//! - A version is activated only if its impact analysis clears it (at least 30
//!   people, nothing flagged) or an auditor has signed it off.
//! - Activating a version supersedes the one in force.
//! - A program ends on its own the day after its sunset; no event is needed.
//! - Repeal ends every version at once, and the id can never be used again, so a
//!   repealed program cannot be quietly re-activated.
//! - An amendment may not run past five years from the program's first start.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

use super::impact::Impact;
use super::{Program, MAX_YEARS};
use crate::event::Event;

/// Who did something, when, and in which leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stamp {
    /// The account id (pseudonymous), role and agency.
    pub by: String,
    pub role: String,
    pub agency: String,
    pub at: Timestamp,
    pub leaf_index: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    #[serde(flatten)]
    pub stamp: Stamp,
    pub reason: String,
    /// For a sign-off: the capacity plan the auditor signed over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<crate::plan::PlanSummary>,
}

/// One version of one program.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Version {
    pub program: Program,
    /// The program file, as drafted (absent for programs activated before drafts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub population_source: Option<String>,
    /// The capacity plan of its office registrations (published with the program).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<crate::plan::PlanSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drafted: Option<Stamp>,
    pub sign_offs: Vec<Decision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activated: Option<Stamp>,
}

/// Where a version stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Written down, not in force.
    Draft,
    /// Activated; its start date has not come yet.
    Scheduled,
    /// Activated and within its dates.
    Active,
    /// A later version was activated.
    Superseded,
    /// Past its sunset.
    Ended,
    Repealed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Scheduled => "scheduled",
            Status::Active => "active",
            Status::Superseded => "superseded",
            Status::Ended => "ended",
            Status::Repealed => "repealed",
        }
    }
}

/// All versions of one program id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgramRecord {
    pub id: String,
    pub versions: Vec<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repealed: Option<Decision>,
}

impl ProgramRecord {
    fn version(&self, v: u32) -> Option<&Version> {
        self.versions.iter().find(|x| x.program.version == v)
    }
    /// The latest activated version.
    pub fn activated(&self) -> Option<&Version> {
        self.versions.iter().filter(|v| v.activated.is_some()).max_by_key(|v| v.program.version)
    }
    pub fn status(&self, version: u32, today: Date) -> Status {
        let Some(v) = self.version(version) else { return Status::Draft };
        if self.repealed.is_some() {
            return Status::Repealed;
        }
        if today > v.program.sunset {
            return Status::Ended;
        }
        if v.activated.is_none() {
            return Status::Draft;
        }
        if self.activated().map(|a| a.program.version) != Some(version) {
            return Status::Superseded;
        }
        if today < v.program.starts {
            Status::Scheduled
        } else {
            Status::Active
        }
    }
    /// The version in force on `today`, if any.
    pub fn in_force(&self, today: Date) -> Option<&Version> {
        self.activated().filter(|v| self.status(v.program.version, today) == Status::Active)
    }
    /// The first start of any version: amendments are bounded from it.
    fn first_start(&self) -> Option<Date> {
        self.versions.iter().map(|v| v.program.starts).min()
    }
}

/// Why a transition is refused, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("there is no program `{0}`: check the id with `fairgate program list`")]
    NoProgram(String),
    #[error("program `{0}` has no version {1}")]
    NoVersion(String, u32),
    #[error("program `{0}` was repealed and its id can never be used again: write a new program under a new id")]
    Repealed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("program `{id}` v{version} cannot be activated: {why}. An auditor must sign it off first (`fairgate program sign-off {id} --reason ...`)")]
    NeedsSignOff { id: String, version: u32, why: String },
}

/// Every program, folded from the ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProgramBook {
    pub programs: Vec<ProgramRecord>,
}

fn stamp(actor: &crate::access::Actor, at: Timestamp, leaf_index: u64) -> Stamp {
    Stamp { by: actor.id.clone(), role: actor.role.as_str().to_string(), agency: actor.agency.clone(), at, leaf_index }
}

impl ProgramBook {
    pub fn get(&self, id: &str) -> Option<&ProgramRecord> {
        self.programs.iter().find(|p| p.id == id)
    }

    fn entry(&mut self, id: &str) -> &mut ProgramRecord {
        if let Some(i) = self.programs.iter().position(|p| p.id == id) {
            return &mut self.programs[i];
        }
        self.programs.push(ProgramRecord { id: id.to_string(), versions: Vec::new(), repealed: None });
        self.programs.last_mut().expect("just pushed")
    }

    /// Fold one ledger event in (events that are not about programs are ignored).
    pub fn apply(&mut self, event: &Event, at: Timestamp, leaf_index: u64) {
        match event {
            Event::ProgramDrafted(e) => {
                let rec = self.entry(&e.program.id);
                rec.versions.push(Version {
                    program: e.program.clone(),
                    source: Some(e.source.clone()),
                    impact: Some(e.impact.clone()),
                    population_source: Some(e.population_source.clone()),
                    plan: e.plan.clone(),
                    drafted: Some(stamp(&e.drafted_by, at, leaf_index)),
                    sign_offs: Vec::new(),
                    activated: None,
                });
            }
            Event::ProgramSignedOff(e) => {
                let rec = self.entry(&e.id);
                if let Some(v) = rec.versions.iter_mut().find(|v| v.program.version == e.version) {
                    v.sign_offs.push(Decision {
                        stamp: stamp(&e.signed_off_by, at, leaf_index),
                        reason: e.reason.clone(),
                        plan: e.plan.clone(),
                    });
                }
            }
            Event::ProgramActivated(e) => {
                let rec = self.entry(&e.program.id);
                let s = stamp(&e.activated_by, at, leaf_index);
                match rec.versions.iter_mut().find(|v| v.program.version == e.program.version) {
                    Some(v) => v.activated = Some(s),
                    // Recorded before drafts existed: added and activated at once.
                    None => rec.versions.push(Version {
                        program: e.program.clone(),
                        source: None,
                        impact: None,
                        population_source: None,
                        plan: None,
                        drafted: None,
                        sign_offs: Vec::new(),
                        activated: Some(s),
                    }),
                }
            }
            Event::ProgramRepealed(e) => {
                let rec = self.entry(&e.id);
                rec.repealed = Some(Decision {
                    stamp: stamp(&e.repealed_by, at, leaf_index),
                    reason: e.reason.clone(),
                    plan: None,
                });
            }
            _ => {}
        }
    }

    /// The version number a new draft of `program` gets, after checking that the id
    /// may take one and that the draft stays within the program's five years.
    pub fn check_draft(&self, program: &Program) -> Result<u32, Refusal> {
        let Some(rec) = self.get(&program.id) else { return Ok(1) };
        if rec.repealed.is_some() {
            return Err(Refusal::Repealed(program.id.clone()));
        }
        if let Some(first) = rec.first_start() {
            let latest = first.checked_add((MAX_YEARS as i64).years()).unwrap_or(first);
            if program.sunset > latest {
                return Err(Refusal::Conflict(format!(
                    "an amendment of `{}` may not run past {latest}, five years after the program first started ({first}): to go on longer, write a new program that goes through every check again",
                    program.id
                )));
            }
        }
        Ok(rec.versions.iter().map(|v| v.program.version).max().unwrap_or(0) + 1)
    }

    fn version(&self, id: &str, version: Option<u32>) -> Result<(&ProgramRecord, &Version), Refusal> {
        let rec = self.get(id).ok_or_else(|| Refusal::NoProgram(id.to_string()))?;
        let v = match version {
            Some(n) => rec.version(n).ok_or_else(|| Refusal::NoVersion(id.to_string(), n))?,
            None => rec
                .versions
                .iter()
                .max_by_key(|v| v.program.version)
                .ok_or_else(|| Refusal::NoProgram(id.to_string()))?,
        };
        Ok((rec, v))
    }

    /// May `version` (default: the latest) be activated on `today`? Returns the program.
    pub fn check_activate(&self, id: &str, version: Option<u32>, today: Date) -> Result<Program, Refusal> {
        let (rec, v) = self.version(id, version)?;
        let n = v.program.version;
        if rec.repealed.is_some() {
            return Err(Refusal::Repealed(id.to_string()));
        }
        if v.activated.is_some() {
            return Err(Refusal::Conflict(format!("program `{id}` v{n} is already activated")));
        }
        if today > v.program.sunset {
            return Err(Refusal::Conflict(format!(
                "program `{id}` v{n} ended on its sunset date {}: it cannot be put in force",
                v.program.sunset
            )));
        }
        if let Some(a) = rec.activated() {
            if a.program.version > n {
                return Err(Refusal::Conflict(format!(
                    "a later version (v{}) of `{id}` is already activated: amend it instead",
                    a.program.version
                )));
            }
        }
        if v.sign_offs.is_empty() {
            let why = match &v.impact {
                None => None,
                Some(i) if i.flagged => {
                    let groups: Vec<String> =
                        i.groups.iter().filter(|g| g.flagged).map(|g| format!("{} {}", g.attribute, g.value)).collect();
                    Some(format!("its impact analysis flagged {}", groups.join(", ")))
                }
                Some(i) if i.population < super::impact::MIN_GROUP => Some(format!(
                    "its impact analysis covered only {} people, too few to show it does not single anyone out",
                    i.population
                )),
                Some(_) => None,
            };
            if let Some(why) = why {
                return Err(Refusal::NeedsSignOff { id: id.to_string(), version: n, why });
            }
        }
        // The offices must be able to serve everyone before their deadlines: no
        // sign-off overrides a capacity plan that fails.
        if let Some(plan) = v.plan.as_ref().filter(|p| !p.feasible) {
            let days: Vec<String> = plan
                .shortfalls
                .iter()
                .take(5)
                .map(|(office, day, n)| format!("{office} is {n} people short on {day}"))
                .collect();
            let unassigned = if plan.unassigned > 0 {
                format!("{} people live where no office serves; ", plan.unassigned)
            } else {
                String::new()
            };
            let fit = match plan.fitting_within_days {
                Some(d) => format!("a deadline of {d} days would fit, or the phased schedule in its plan"),
                None => "add offices or desks".to_string(),
            };
            return Err(Refusal::Conflict(format!(
                "program `{id}` v{n} cannot be put in force: its offices cannot serve everyone within {} days ({unassigned}{}); draft a new version: {fit}",
                plan.within_days,
                days.join(", ")
            )));
        }
        Ok(v.program.clone())
    }

    /// May `version` (default: the latest) be signed off? Returns its number.
    pub fn check_sign_off(&self, id: &str, version: Option<u32>) -> Result<u32, Refusal> {
        let (rec, v) = self.version(id, version)?;
        if rec.repealed.is_some() {
            return Err(Refusal::Repealed(id.to_string()));
        }
        if v.activated.is_some() {
            return Err(Refusal::Conflict(format!(
                "program `{id}` v{} is already activated: a sign-off clears a draft",
                v.program.version
            )));
        }
        Ok(v.program.version)
    }

    pub fn check_repeal(&self, id: &str) -> Result<(), Refusal> {
        let rec = self.get(id).ok_or_else(|| Refusal::NoProgram(id.to_string()))?;
        if rec.repealed.is_some() {
            return Err(Refusal::Conflict(format!("program `{id}` is already repealed")));
        }
        Ok(())
    }

    /// May the records of program `id` be expunged on `today`? Only once it can no
    /// longer require anything: repealed, or every version past its sunset.
    pub fn check_expunge(&self, id: &str, today: Date) -> Result<(), Refusal> {
        let rec = self.get(id).ok_or_else(|| Refusal::NoProgram(id.to_string()))?;
        if rec.repealed.is_some() || rec.versions.iter().all(|v| today > v.program.sunset) {
            return Ok(());
        }
        Err(Refusal::Conflict(format!(
            "program `{id}` is still in force or may come into force: repeal it first (fairgate program repeal {id})"
        )))
    }

    /// The versions in force on `today`, one per program.
    pub fn in_force(&self, today: Date) -> Vec<&Version> {
        self.programs.iter().filter_map(|p| p.in_force(today)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Actor, Role};
    use crate::event::{ProgramActivated, ProgramDrafted, ProgramRepealed, ProgramSignedOff};
    use crate::program::impact::{analyse, Person};
    use crate::program::lang::Selection;
    use jiff::civil::date;

    fn program(version: u32, starts: Date, sunset: Date) -> Program {
        Program { id: "visitors".into(), version, title: "Visitors".into(), legal_basis: "Act".into(), starts, sunset }
    }

    fn impact(n: usize) -> Impact {
        let people: Vec<Person> = (0..n)
            .map(|i| Person { nationality: format!("N{}", i % 3), sex: "F".into(), ..Person::default() })
            .collect();
        analyse(&Selection::default(), &people, date(2027, 1, 1))
    }

    fn drafted(p: Program, impact: Impact) -> Event {
        Event::ProgramDrafted(ProgramDrafted {
            program: p,
            source: String::new(),
            impact,
            population_source: "file".into(),
            drafted_by: Actor::new("u-admin", Role::Admin, "A"),
            plan: None,
        })
    }

    const T: Timestamp = Timestamp::UNIX_EPOCH;

    #[test]
    fn a_draft_with_a_clear_analysis_activates_and_ends_at_its_sunset() {
        let mut b = ProgramBook::default();
        let p = program(1, date(2027, 1, 1), date(2028, 12, 31));
        assert_eq!(b.check_draft(&p), Ok(1));
        b.apply(&drafted(p.clone(), impact(60)), T, 0);
        assert_eq!(b.get("visitors").unwrap().status(1, date(2027, 1, 1)), Status::Draft);
        let got = b.check_activate("visitors", None, date(2026, 12, 1)).unwrap();
        b.apply(
            &Event::ProgramActivated(ProgramActivated {
                program: got,
                activated_by: Actor::new("u", Role::Admin, "A"),
            }),
            T,
            1,
        );
        let rec = b.get("visitors").unwrap();
        assert_eq!(rec.status(1, date(2026, 12, 1)), Status::Scheduled);
        assert_eq!(rec.status(1, date(2028, 12, 31)), Status::Active);
        assert_eq!(rec.status(1, date(2029, 1, 1)), Status::Ended, "ends on its own after the sunset");
        assert!(b.in_force(date(2029, 1, 1)).is_empty());
    }

    #[test]
    fn a_thin_or_flagged_analysis_needs_a_sign_off() {
        let mut b = ProgramBook::default();
        b.apply(&drafted(program(1, date(2027, 1, 1), date(2028, 1, 1)), impact(5)), T, 0);
        let e = b.check_activate("visitors", None, date(2027, 1, 1)).unwrap_err();
        assert!(matches!(e, Refusal::NeedsSignOff { .. }), "{e}");
        assert!(e.to_string().contains("only 5 people"), "{e}");
        assert_eq!(b.check_sign_off("visitors", None), Ok(1));
        b.apply(
            &Event::ProgramSignedOff(ProgramSignedOff {
                id: "visitors".into(),
                version: 1,
                reason: "pilot at one port".into(),
                signed_off_by: Actor::new("u-aud", Role::Auditor, "OIG"),
                plan: None,
            }),
            T,
            1,
        );
        assert!(b.check_activate("visitors", None, date(2027, 1, 1)).is_ok());
    }

    #[test]
    fn amendments_supersede_and_repeal_is_final() {
        let mut b = ProgramBook::default();
        let admin = Actor::new("u", Role::Admin, "A");
        for v in 1..=2 {
            let p = program(v, date(2027, 1, 1), date(2028, 1, 1));
            assert_eq!(b.check_draft(&p), Ok(v));
            b.apply(&drafted(p, impact(60)), T, v as u64 * 10);
            let p = b.check_activate("visitors", Some(v), date(2027, 2, 1)).unwrap();
            b.apply(
                &Event::ProgramActivated(ProgramActivated { program: p, activated_by: admin.clone() }),
                T,
                v as u64 * 10 + 1,
            );
        }
        let rec = b.get("visitors").unwrap();
        assert_eq!(rec.status(1, date(2027, 2, 1)), Status::Superseded);
        assert_eq!(rec.status(2, date(2027, 2, 1)), Status::Active);
        let too_long = program(3, date(2031, 1, 1), date(2032, 6, 1));
        assert!(b.check_draft(&too_long).unwrap_err().to_string().contains("2032-01-01"));
        // Not while it is in force; once every version is past its sunset, it may be.
        assert!(matches!(b.check_expunge("visitors", date(2027, 2, 1)), Err(Refusal::Conflict(_))));
        assert_eq!(b.check_expunge("visitors", date(2028, 1, 2)), Ok(()));

        b.apply(
            &Event::ProgramRepealed(ProgramRepealed {
                id: "visitors".into(),
                reason: "no longer needed".into(),
                repealed_by: admin,
            }),
            T,
            30,
        );
        let rec = b.get("visitors").unwrap();
        assert_eq!(rec.status(2, date(2027, 2, 1)), Status::Repealed);
        assert_eq!(b.check_expunge("visitors", date(2027, 2, 1)), Ok(()));
        assert!(matches!(b.check_expunge("nobody", date(2027, 2, 1)), Err(Refusal::NoProgram(_))));
        assert!(b.in_force(date(2027, 2, 1)).is_empty());
        assert_eq!(
            b.check_draft(&program(1, date(2027, 3, 1), date(2028, 1, 1))),
            Err(Refusal::Repealed("visitors".into()))
        );
        assert!(matches!(b.check_activate("visitors", Some(2), date(2027, 2, 1)), Err(Refusal::Repealed(_))));
        assert!(b.check_repeal("visitors").is_err());
    }
}
