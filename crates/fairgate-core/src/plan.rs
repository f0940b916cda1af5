//! The capacity plan of a program's office obligations: can the offices serve
//! everyone before their deadlines? Pure: the offices, the people (their postal
//! code and the day their obligation began), the deadline and a seed come in; the
//! answer is per office and day — the people booked, the capacity, the shortfall,
//! and the wait a queue simulation expects — with a phased schedule when the plan
//! fails, and the deadline that would fit.
//!
//! Scheduling is earliest-deadline-first, which for one-visit-each people with
//! release and due days is optimal: if it leaves someone unserved by their deadline,
//! no schedule could serve them. Everyone has the same number of days, so EDF is
//! first-come-first-served by the day the obligation began.
//!
//! The simulation follows one office day: the booked people arrive at their slot
//! give or take ten minutes, each desk serves them in turn, a service takes between
//! half and one and a half times its minutes. People past their deadline without a
//! slot come on their deadline day as walk-ins (what happened in 2002); whoever is
//! not served by closing waits until closing. Waits are in minutes.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;

use crate::place::{Place, PlaceBook, PlaceKind, ServiceKind};

/// One person the plan counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanPerson {
    pub postal_code: String,
    /// The day their obligation began.
    pub starts: Date,
}

/// One office day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayPlan {
    pub office: String,
    pub day: Date,
    /// Services the desks can give that day.
    pub capacity: u32,
    /// People booked that day.
    pub booked: u32,
    /// People whose deadline is that day and who could not be booked before it.
    pub shortfall: u32,
    pub wait_p50_minutes: f64,
    pub wait_p95_minutes: f64,
}

/// One cohort of a phased schedule: people of one office whose obligations began
/// in a range of days, given a window of the program's own length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cohort {
    pub office: String,
    pub cohort: u32,
    pub obligations_began_from: Date,
    pub obligations_began_until: Date,
    pub people: u32,
    pub window_from: Date,
    pub window_until: Date,
    /// Who is in it, in words: where a day's people are split between cohorts,
    /// they are split by registration number (random, so it follows no attribute
    /// of the person), as shares of that day's people in number order.
    pub selector: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfficeSummary {
    pub office: String,
    pub people: u64,
    pub shortfall: u64,
    pub wait_p95_minutes: f64,
}

/// A phased schedule that fits, and the shortest uniform deadline that would.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    /// The shortest number of days, the same for everyone, that the offices can meet.
    pub fitting_within_days: Option<u32>,
    /// Cohorts by the day each person's obligation began: never by who they are.
    pub cohorts: Vec<Cohort>,
    /// The worst office day of the phased schedule.
    pub wait_p95_minutes: f64,
    pub days: Vec<DayPlan>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub feasible: bool,
    pub within_days: u32,
    pub service: ServiceKind,
    /// People no office serves (no service-area prefix matches their postal code).
    pub unassigned: u64,
    pub offices: Vec<OfficeSummary>,
    pub days: Vec<DayPlan>,
    /// Office days with a shortfall, worst first.
    pub shortfalls: Vec<DayPlan>,
    pub proposal: Option<Proposal>,
}

/// What a draft keeps of its capacity plan, and what the program's page publishes.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PlanSummary {
    pub feasible: bool,
    pub within_days: u32,
    pub people: u64,
    pub unassigned: u64,
    /// The office days short, worst first: (office, day, people).
    pub shortfalls: Vec<(String, Date, u32)>,
    /// The worst p95 wait of the program as written, and of the phased schedule.
    pub wait_p95_minutes: f64,
    pub phased_wait_p95_minutes: Option<f64>,
    pub fitting_within_days: Option<u32>,
    pub phased_cohorts: usize,
}

impl PlanSummary {
    /// What may be published of a plan over the live records, like an impact
    /// analysis over them: every count noised (Laplace, `impact::NOISE_SCALE`; the
    /// caller's uniform samples), shortfalls under `min` left out, people and
    /// unassigned under `min` published as 0, waits to the nearest 5 minutes. Whether
    /// it is feasible is the exact plan's (the activation gate needs it).
    pub fn released(&self, min: u64, uniform: &mut dyn FnMut() -> f64) -> PlanSummary {
        use crate::program::impact::{laplace, NOISE_SCALE};
        let mut noisy = |n: u64| (n as f64 + laplace(NOISE_SCALE, uniform())).round().max(0.0) as u64;
        let floor = |n: u64| if n < min { 0 } else { n };
        let five = |m: f64| (m / 5.0).round() * 5.0;
        PlanSummary {
            feasible: self.feasible,
            within_days: self.within_days,
            people: floor(noisy(self.people)),
            unassigned: floor(noisy(self.unassigned)),
            shortfalls: self
                .shortfalls
                .iter()
                .map(|(o, d, n)| (o.clone(), *d, noisy(u64::from(*n)).min(u64::from(u32::MAX)) as u32))
                .filter(|(_, _, n)| u64::from(*n) >= min)
                .collect(),
            wait_p95_minutes: five(self.wait_p95_minutes),
            phased_wait_p95_minutes: self.phased_wait_p95_minutes.map(five),
            fitting_within_days: self.fitting_within_days,
            phased_cohorts: self.phased_cohorts,
        }
    }
}

impl Plan {
    pub fn summary(&self) -> PlanSummary {
        PlanSummary {
            feasible: self.feasible,
            within_days: self.within_days,
            people: self.offices.iter().map(|o| o.people).sum::<u64>() + self.unassigned,
            unassigned: self.unassigned,
            shortfalls: self.shortfalls.iter().take(20).map(|d| (d.office.clone(), d.day, d.shortfall)).collect(),
            wait_p95_minutes: self.offices.iter().map(|o| o.wait_p95_minutes).fold(0.0, f64::max),
            phased_wait_p95_minutes: self.proposal.as_ref().map(|p| p.wait_p95_minutes),
            fitting_within_days: self.proposal.as_ref().and_then(|p| p.fitting_within_days),
            phased_cohorts: self.proposal.as_ref().map_or(0, |p| p.cohorts.len()),
        }
    }
}

/// SplitMix64: the simulation's randomness is a seed passed in.
struct Mix(u64);

impl Mix {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Simulate one office day: `booked` people at their slots, `walk_ins` through the
/// day. Returns (p50, p95) of the waits.
fn simulate_day(place: &Place, day: Date, kind: ServiceKind, booked: u32, walk_ins: u32, rng: &mut Mix) -> (f64, f64) {
    let Some(hours) = place.open_on(day) else { return (0.0, 0.0) };
    let desks = usize::from(place.desks.max(1));
    let minutes = f64::from(place.minutes.of(kind).max(1));
    let (opens, closes) = (f64::from(hours.opens), f64::from(hours.closes));
    let mut arrivals: Vec<f64> = (0..booked)
        .map(|k| {
            let slot = opens + (k as usize / desks) as f64 * minutes;
            (slot + (rng.unit() - 0.5) * 20.0).clamp(opens, closes)
        })
        .collect();
    arrivals.extend((0..walk_ins).map(|_| opens + rng.unit() * (closes - opens) * 0.5));
    arrivals.sort_by(|a, b| a.total_cmp(b));
    let mut free = vec![opens; desks];
    let mut waits = Vec::with_capacity(arrivals.len());
    for a in arrivals {
        let (i, &at) = free.iter().enumerate().min_by(|x, y| x.1.total_cmp(y.1)).unwrap_or((0, &opens));
        let start = at.max(a);
        if start >= closes {
            // Not served today: they waited until closing.
            waits.push(closes - a);
            continue;
        }
        waits.push(start - a);
        free[i] = start + minutes * (0.5 + rng.unit());
    }
    waits.sort_by(|a, b| a.total_cmp(b));
    (percentile(&waits, 0.5), percentile(&waits, 0.95))
}

fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

/// One office day of a schedule: (day, capacity, booked, short).
type Slot = (Date, u32, u32, u32);

/// Earliest-deadline-first over one office: for each day from the first start,
/// (day, capacity, booked, shortfall on that day), and each person's booked day
/// (`None`: not booked by their deadline). `starts` sorted.
fn schedule(place: &Place, kind: ServiceKind, starts: &[Date], within: u32) -> (Vec<Slot>, Vec<Option<Date>>) {
    let mut out = Vec::new();
    let mut booked_on = vec![None; starts.len()];
    let Some(&first) = starts.first() else { return (out, booked_on) };
    let mut shortfall_on: BTreeMap<Date, u32> = BTreeMap::new();
    let (mut head, mut released) = (0usize, 0usize);
    let mut day = first;
    let last_deadline = add_days(*starts.last().unwrap_or(&first), i64::from(within));
    while head < starts.len() || day <= last_deadline {
        while released < starts.len() && starts[released] <= day {
            released += 1;
        }
        // Whoever's deadline has passed without a slot is short.
        while head < released && add_days(starts[head], i64::from(within)) < day {
            *shortfall_on.entry(add_days(starts[head], i64::from(within))).or_default() += 1;
            head += 1;
        }
        let capacity = place.services_on(day, kind);
        let n = (capacity as usize).min(released - head);
        for slot in booked_on.iter_mut().skip(head).take(n) {
            *slot = Some(day);
        }
        head += n;
        out.push((day, capacity, n as u32, 0));
        if head >= starts.len() && day >= last_deadline {
            break;
        }
        day = add_days(day, 1);
        if out.len() > 40_000 {
            break; // more than a century: the loop ends whatever the input
        }
    }
    for entry in &mut out {
        entry.3 = shortfall_on.get(&entry.0).copied().unwrap_or(0);
    }
    (out, booked_on)
}

fn days_of(place: &Place, kind: ServiceKind, schedule: &[Slot], seed: u64, simulate: bool) -> Vec<DayPlan> {
    let mut rng = Mix(seed ^ place.code.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))));
    schedule
        .iter()
        .filter(|(_, c, b, s)| *c > 0 || *b > 0 || *s > 0)
        .map(|&(day, capacity, booked, shortfall)| {
            let (p50, p95) =
                if simulate { simulate_day(place, day, kind, booked, shortfall, &mut rng) } else { (0.0, 0.0) };
            DayPlan {
                office: place.code.clone(),
                day,
                capacity,
                booked,
                shortfall,
                wait_p50_minutes: p50,
                wait_p95_minutes: p95,
            }
        })
        .filter(|d| d.booked > 0 || d.shortfall > 0)
        .collect()
}

/// The seed drafts and `program plan` use: the same population gives the same plan.
pub const SEED: u64 = 2002;

/// The plan of a program's office registrations over a population: each person it
/// selects, counted from the day their obligation begins (the program's start, or
/// their admission when later), at the office serving their postal code. `Ok(None)`
/// when the program has no registration deadline; refused, naming the population,
/// when someone it selects has no postal code.
pub fn plan_program(
    spec: &crate::program::lang::ProgramSpec,
    population: &[crate::program::impact::Person],
    offices: &PlaceBook,
    seed: u64,
) -> Result<Option<Plan>, crate::Invalid> {
    plan_program_with(spec, population, offices, seed, true)
}

/// [`plan_program`]; with `require_postal` false, the people selected without a
/// postal code are counted as `unassigned` instead of refusing the plan (over the
/// records, where an address is known only once a change of address is reported).
pub fn plan_program_with(
    spec: &crate::program::lang::ProgramSpec,
    population: &[crate::program::impact::Person],
    offices: &PlaceBook,
    seed: u64,
    require_postal: bool,
) -> Result<Option<Plan>, crate::Invalid> {
    use crate::program::lang::ObligationKind;
    let Some(within) = spec.obligations.iter().find(|o| o.kind == ObligationKind::Register).and_then(|o| o.within_days)
    else {
        return Ok(None);
    };
    let mut people = Vec::new();
    let mut missing = 0usize;
    for p in population {
        let starts = p.admitted_on.map_or(spec.program.starts, |a| a.max(spec.program.starts));
        if !crate::program::impact::selects(&spec.selection, p, starts) {
            continue;
        }
        match &p.postal_code {
            Some(pc) if !pc.trim().is_empty() => people.push(PlanPerson { postal_code: pc.clone(), starts }),
            _ => missing += 1,
        }
    }
    if missing > 0 && require_postal {
        return Err(crate::Invalid::one(
            "population",
            format!("{missing} people the program selects have no postal_code: its capacity plan needs each one's to know their office (docs/offices.md)"),
        ));
    }
    let mut p = plan(offices, ServiceKind::Registration, within, &people, seed);
    p.unassigned += missing as u64;
    Ok(Some(p))
}

/// The plan of `people` at `offices` for one kind of service within `within_days`.
pub fn plan(offices: &PlaceBook, kind: ServiceKind, within_days: u32, people: &[PlanPerson], seed: u64) -> Plan {
    plan_with(offices, kind, within_days, people, seed, true)
}

/// [`plan`], with the queue simulation left out when `simulate` is false (every
/// wait then 0): the benchmarks' baseline.
pub fn plan_with(
    offices: &PlaceBook,
    kind: ServiceKind,
    within_days: u32,
    people: &[PlanPerson],
    seed: u64,
    simulate: bool,
) -> Plan {
    let mut by_office: BTreeMap<String, Vec<Date>> = BTreeMap::new();
    let mut unassigned = 0u64;
    for p in people {
        match offices.office_for(&p.postal_code, p.starts) {
            Some(o) => by_office.entry(o.place.code.clone()).or_default().push(p.starts),
            None => unassigned += 1,
        }
    }
    let mut days = Vec::new();
    let mut summaries = Vec::new();
    let mut per_office = Vec::new();
    for (code, mut starts) in by_office {
        let Some(place) = offices.get(&code).map(|p| &p.place) else { continue };
        if place.kind != PlaceKind::Office {
            continue;
        }
        starts.sort_unstable();
        let (sched, _) = schedule(place, kind, &starts, within_days);
        let office_days = days_of(place, kind, &sched, seed, simulate);
        let shortfall: u64 = office_days.iter().map(|d| u64::from(d.shortfall)).sum();
        let p95 = office_days.iter().map(|d| d.wait_p95_minutes).fold(0.0, f64::max);
        summaries.push(OfficeSummary {
            office: code.clone(),
            people: starts.len() as u64,
            shortfall,
            wait_p95_minutes: p95,
        });
        days.extend(office_days);
        per_office.push((place.clone(), starts));
    }
    let mut shortfalls: Vec<DayPlan> = days.iter().filter(|d| d.shortfall > 0).cloned().collect();
    shortfalls.sort_by(|a, b| b.shortfall.cmp(&a.shortfall).then(a.day.cmp(&b.day)));
    let feasible = unassigned == 0 && shortfalls.is_empty();
    let proposal = (!feasible).then(|| propose(&per_office, kind, within_days, seed, simulate));
    Plan { feasible, within_days, service: kind, unassigned, offices: summaries, days, shortfalls, proposal }
}

/// The shortest uniform deadline every office meets, and a phased schedule: each
/// office's people, in the order their obligations began, booked day by day at
/// capacity, cut into cohorts of `within_days` days of booking each.
fn propose(
    per_office: &[(Place, Vec<Date>)],
    kind: ServiceKind,
    within_days: u32,
    seed: u64,
    simulate: bool,
) -> Proposal {
    let fits =
        |n: u32| per_office.iter().all(|(p, starts)| schedule(p, kind, starts, n).0.iter().all(|(_, _, _, s)| *s == 0));
    let mut fitting = None;
    let (mut lo, mut hi) = (within_days, within_days.max(1));
    while hi <= 36_500 && !fits(hi) {
        lo = hi;
        hi = hi.saturating_mul(2);
    }
    if hi <= 36_500 {
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            if fits(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        fitting = Some(hi);
    }
    let mut cohorts = Vec::new();
    let mut days = Vec::new();
    for (place, starts) in per_office {
        // Booked at capacity with no deadline at all (the longest possible window).
        let (sched, booked_on) = schedule(place, kind, starts, fitting.unwrap_or(36_500));
        let Some(&first_booking) = booked_on.iter().flatten().next() else { continue };
        // People per start day, and each one's place among that day's.
        let mut per_day: BTreeMap<Date, u32> = BTreeMap::new();
        let mut rank = Vec::with_capacity(starts.len());
        for s in starts {
            let n = per_day.entry(*s).or_default();
            rank.push(*n);
            *n += 1;
        }
        let share = |d: &Date, i: u32| f64::from(i) * 100.0 / f64::from(*per_day.get(d).unwrap_or(&1));
        let selector = |first: Date, from: u32, last: Date, until: u32| -> String {
            let (a, b) = (share(&first, from), share(&last, until));
            let part = |x: f64, y: f64| {
                if x <= 0.0 && y >= 100.0 {
                    String::new()
                } else {
                    format!(" (registration numbers from {x:.1}% to {y:.1}% of that day's, in number order)")
                }
            };
            if first == last {
                format!("obligations begun {first}{}", part(a, b))
            } else {
                format!("obligations begun {first}{} to {last}{}", part(a, 100.0), part(0.0, b))
            }
        };
        let mut current: Option<(Cohort, u32, u32)> = None;
        for ((start, booked), r) in starts.iter().zip(&booked_on).zip(&rank) {
            let Some(day) = booked else { continue };
            let index = ((*day - first_booking).get_days().max(0) as u32) / within_days.max(1);
            let window_from = add_days(first_booking, i64::from(index * within_days));
            match &mut current {
                Some((c, _, until)) if c.cohort == index => {
                    c.people += 1;
                    c.obligations_began_until = c.obligations_began_until.max(*start);
                    *until = r + 1;
                }
                _ => {
                    if let Some((mut c, from, until)) = current.take() {
                        c.selector = selector(c.obligations_began_from, from, c.obligations_began_until, until);
                        cohorts.push(c);
                    }
                    current = Some((
                        Cohort {
                            office: place.code.clone(),
                            cohort: index,
                            obligations_began_from: *start,
                            obligations_began_until: *start,
                            people: 1,
                            window_from,
                            window_until: add_days(window_from, i64::from(within_days) - 1),
                            selector: String::new(),
                        },
                        *r,
                        r + 1,
                    ));
                }
            }
        }
        let current = current.map(|(mut c, from, until)| {
            c.selector = selector(c.obligations_began_from, from, c.obligations_began_until, until);
            c
        });
        cohorts.extend(current);
        days.extend(days_of(place, kind, &sched, seed, simulate));
    }
    let p95 = days.iter().map(|d| d.wait_p95_minutes).fold(0.0, f64::max);
    Proposal { fitting_within_days: fitting, cohorts, wait_p95_minutes: p95, days }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::place::{default_places, PlaceBook};
    use proptest::prelude::*;

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn book() -> PlaceBook {
        PlaceBook::resolve(default_places()).unwrap()
    }

    fn people(n: usize, postal: &str, from: &str, spread_days: usize) -> Vec<PlanPerson> {
        (0..n)
            .map(|i| PlanPerson {
                postal_code: postal.into(),
                starts: add_days(day(from), (i % spread_days.max(1)) as i64),
            })
            .collect()
    }

    #[test]
    fn a_small_program_fits_and_books_everyone_within_the_deadline_with_short_waits() {
        // 300 people over ten days at the Chicago office (5 desks, 20-minute registrations: 120 a weekday).
        let p = plan(&book(), ServiceKind::Registration, 30, &people(300, "60601", "2026-11-02", 10), 7);
        assert!(p.feasible, "{:?}", p.shortfalls);
        assert_eq!(p.unassigned, 0);
        assert_eq!(p.days.iter().map(|d| d.booked as usize).sum::<usize>(), 300);
        assert!(p.days.iter().all(|d| d.booked <= d.capacity));
        assert!(p.offices[0].wait_p95_minutes < 30.0, "{:?}", p.offices);
        assert!(p.proposal.is_none());
    }

    #[test]
    fn someone_no_office_serves_makes_the_plan_fail() {
        let mut book = default_places();
        book.retain(|p| p.code != "LOS-FO");
        let p = plan(
            &PlaceBook::resolve(book).unwrap(),
            ServiceKind::Registration,
            30,
            &people(3, "90012", "2026-11-02", 1),
            7,
        );
        assert!(!p.feasible);
        assert_eq!(p.unassigned, 3);
    }

    #[test]
    fn a_2002_call_in_fails_names_the_days_and_proposes_a_phased_schedule_with_waits_under_two_hours() {
        // Call-in group 2's shape, scaled to one office: 8,000 people all told at once,
        // 30 days to come, at an office that books 192 a weekday.
        let p = plan(&book(), ServiceKind::Registration, 30, &people(8_000, "10001", "2002-12-16", 1), 3);
        assert!(!p.feasible);
        let worst = &p.shortfalls[0];
        assert_eq!((worst.office.as_str(), worst.day), ("NYC-FO", day("2003-01-15")));
        assert_eq!(worst.shortfall, 8_000 - p.days.iter().map(|d| d.booked).sum::<u32>());
        assert!(worst.wait_p95_minutes > 120.0, "the deadline day's line: {}", worst.wait_p95_minutes);
        let proposal = p.proposal.unwrap();
        // 8,000 / 192 a weekday = 42 weekdays: about 60 days.
        let fits = proposal.fitting_within_days.unwrap();
        assert!((55..=62).contains(&fits), "{fits}");
        assert!(proposal.wait_p95_minutes < 120.0, "{}", proposal.wait_p95_minutes);
        assert_eq!(proposal.cohorts.iter().map(|c| c.people).sum::<u32>(), 8_000);
        assert!(proposal.cohorts.len() >= 2);
        assert!(proposal.cohorts.windows(2).all(|w| w[0].window_until < w[1].window_from));
        // Everyone began the same day: the cohorts split that day by registration number.
        assert!(
            proposal.cohorts[0]
                .selector
                .starts_with("obligations begun 2002-12-16 (registration numbers from 0.0% to "),
            "{}",
            proposal.cohorts[0].selector
        );
        assert!(proposal.cohorts.last().unwrap().selector.ends_with("to 100.0% of that day's, in number order)"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Never more booked than the desks can serve; everyone is booked or short;
        /// a feasible plan books everyone by their deadline.
        #[test]
        fn bookings_respect_capacity_and_account_for_everyone(n in 0usize..600, spread in 1usize..40, within in 1u32..60) {
            let ps = people(n, "60601", "2026-11-02", spread);
            let p = plan(&book(), ServiceKind::Interview, within, &ps, 1);
            prop_assert!(p.days.iter().all(|d| d.booked <= d.capacity));
            let booked: u64 = p.days.iter().map(|d| u64::from(d.booked)).sum();
            let short: u64 = p.days.iter().map(|d| u64::from(d.shortfall)).sum();
            prop_assert_eq!(booked + short, n as u64);
            prop_assert_eq!(p.feasible, short == 0);
        }
    }
}
