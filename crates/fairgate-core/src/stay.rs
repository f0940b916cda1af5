//! Stay accounting: "N days in any M-day period" (the Schengen 90/180 rule by
//! default). Days are calendar days; the entry day and the exit day both count; a
//! day is counted once even if it lies in two stays; the M-day window looks back
//! from each day; days covered by a long-stay visa or residence permit do not count.
//!
//! Pure: the caller supplies the stays (already turned into local calendar days at
//! the port of each crossing) and the day asked about.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use jiff::ToSpan;
use serde::Serialize;

use crate::error::{FieldError, Invalid};

/// "At most `max_days` days of stay in any `window` consecutive days".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub max_days: u32,
    pub window: u32,
}

impl Rule {
    pub const SCHENGEN: Rule = Rule { max_days: 90, window: 180 };
}

impl Default for Rule {
    fn default() -> Self {
        Rule::SCHENGEN
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.max_days, self.window)
    }
}

impl FromStr for Rule {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Rule, FieldError> {
        let bad =
            || FieldError::new("rule", format!("`{s}` is not a rule: write N/M, e.g. 90/180, with 0 < N < M <= 3650"));
        let (n, m) = s.trim().split_once('/').ok_or_else(bad)?;
        let (n, m) = (n.trim().parse::<u32>().map_err(|_| bad())?, m.trim().parse::<u32>().map_err(|_| bad())?);
        if n == 0 || n >= m || m > 3650 {
            return Err(bad());
        }
        Ok(Rule { max_days: n, window: m })
    }
}

/// A stay from its entry day through its exit day (both count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start: Date,
    pub end: Date,
}

impl Period {
    /// Parse `START..END` (ISO dates), naming `field` when it is wrong.
    pub fn parse(field: &str, s: &str) -> Result<Period, FieldError> {
        let (a, b) = s.split_once("..").ok_or_else(|| {
            FieldError::new(field, format!("`{s}` is not a stay: write START..END, e.g. 2014-01-01..2014-01-10"))
        })?;
        let start = crate::error::parse_date(field, a)?;
        let end = crate::error::parse_date(field, b)?;
        Ok(Period { start, end })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Overstay {
    pub first_day: Date,
    pub last_day: Date,
    pub days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NextEntry {
    pub date: Date,
    pub max_days: u32,
}

/// The answer, with exactly the keys of `fairgate stay --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StayAnswer {
    pub on: Date,
    pub window_start: Date,
    pub days_used: u32,
    pub present: bool,
    pub stay_until: Option<Date>,
    pub max_days: u32,
    pub overstay: Option<Overstay>,
    pub next_entry: Option<NextEntry>,
}

const EPOCH: Date = jiff::civil::date(1970, 1, 1);

fn day(d: Date) -> i64 {
    EPOCH.until(d).map(|s| i64::from(s.get_days())).unwrap_or(0)
}

fn date(n: i64) -> Date {
    EPOCH.checked_add((n as i32).days()).unwrap_or(EPOCH)
}

/// Check the stays: each must end on or after its start, and none may end after `on`.
pub fn check_stays(stays: &[Period], on: Date, what: &str) -> Result<(), Invalid> {
    let mut errors = Vec::new();
    for (i, p) in stays.iter().enumerate() {
        let field = format!("{what}[{i}]");
        if p.end < p.start {
            errors
                .push(FieldError::new(&field, format!("{}..{} ends before it starts: swap the dates", p.start, p.end)));
        } else if p.end > on {
            errors.push(FieldError::new(
                &field,
                format!("{}..{} goes past the day asked about ({on}): give stays up to that day", p.start, p.end),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Invalid(errors))
    }
}

/// Work out the answer for `on`. `exempt` are periods under a long-stay visa or
/// residence permit: days in them are not counted (but are still days of presence).
pub fn calculate(rule: Rule, stays: &[Period], exempt: &[Period], on: Date) -> Result<StayAnswer, Invalid> {
    check_stays(stays, on, "stays")?;
    let (n, m) = (i64::from(rule.max_days), i64::from(rule.window));
    let on_d = day(on);
    let lo = stays.iter().map(|p| day(p.start)).min().unwrap_or(on_d).min(on_d) - m;
    let hi = on_d + m + n + 2;
    let len = (hi - lo + 1) as usize;
    // counted[i]: day lo + i is a counted day of stay; present: a day of stay at all.
    let mut counted = vec![false; len];
    let mut present_days = vec![false; len];
    for p in stays {
        for d in day(p.start)..=day(p.end) {
            counted[(d - lo) as usize] = true;
            present_days[(d - lo) as usize] = true;
        }
    }
    for p in exempt {
        for d in day(p.start).max(lo)..=day(p.end).min(hi) {
            counted[(d - lo) as usize] = false;
        }
    }
    // prefix[i] = counted days in [lo, lo + i).
    let mut prefix = vec![0i64; len + 1];
    for i in 0..len {
        prefix[i + 1] = prefix[i] + i64::from(counted[i]);
    }
    let count = |a: i64, b: i64| -> i64 {
        let (a, b) = (a.max(lo), b.min(hi));
        if a > b {
            0
        } else {
            prefix[(b - lo + 1) as usize] - prefix[(a - lo) as usize]
        }
    };

    // Days of stay on or before `on` on which the window holds more than N days.
    let mut overstay: Option<Overstay> = None;
    for d in lo..=on_d {
        if counted[(d - lo) as usize] && count(d - m + 1, d) > n {
            let o = overstay.get_or_insert(Overstay { first_day: date(d), last_day: date(d), days: 0 });
            o.last_day = date(d);
            o.days += 1;
        }
    }

    // Continuous presence from `start` (every day from it counted; recorded stays all
    // end by `on`): how many days keep every one of those days within the rule?
    let allowed_from = |start: i64| -> u32 {
        let on_counted_before = |d: i64| start == on_d && counted[(on_d - lo) as usize] && d - m < on_d;
        let mut days = 0u32;
        let mut d = start;
        loop {
            let window_start = d - m + 1;
            let presence = d - window_start.max(start) + 1;
            let recorded = count(window_start, d) - i64::from(on_counted_before(d));
            if recorded + presence > n {
                return days;
            }
            days += 1;
            d += 1;
        }
    };

    let max_days = allowed_from(on_d);
    let stay_until = (max_days > 0).then(|| date(on_d + i64::from(max_days) - 1));
    let next_entry = if max_days == 0 {
        (on_d + 1..=on_d + m)
            .find(|&e| count(e - m + 1, e) < n)
            .map(|e| NextEntry { date: date(e), max_days: allowed_from(e) })
    } else {
        None
    };
    Ok(StayAnswer {
        on,
        window_start: date(on_d - m + 1),
        days_used: count(on_d - m + 1, on_d) as u32,
        present: present_days[(on_d - lo) as usize],
        stay_until,
        max_days,
        overstay,
        next_entry,
    })
}

/// The answer in plain sentences, for people.
pub fn describe(rule: Rule, a: &StayAnswer) -> String {
    let mut out = format!("Days of stay in the {} days up to {}: {}.", rule.window, a.on, a.days_used);
    match a.stay_until {
        Some(until) => out.push_str(&format!(" You may stay until {until} ({} days from {}).", a.max_days, a.on)),
        None => out.push_str(&format!(" A stay on {} would break the {rule} rule.", a.on)),
    }
    if let Some(o) = a.overstay {
        out.push_str(&format!(" Overstay: {} days over the limit, from {} to {}.", o.days, o.first_day, o.last_day));
    }
    if let Some(e) = a.next_entry {
        out.push_str(&format!(" The next day a stay is allowed is {}, for up to {} days.", e.date, e.max_days));
    }
    out
}

/// The same rule computed the slow way, one day and one window at a time: the
/// reference the fast calculator is tested and benchmarked against.
pub mod naive {
    use super::*;
    use std::collections::BTreeSet;

    /// [`calculate`] with the same input checks as the fast calculator, as a [`Calculator`].
    pub fn checked(rule: Rule, stays: &[Period], exempt: &[Period], on: Date) -> Result<StayAnswer, Invalid> {
        check_stays(stays, on, "stays")?;
        Ok(calculate(rule, stays, exempt, on))
    }

    pub fn calculate(rule: Rule, stays: &[Period], exempt: &[Period], on: Date) -> StayAnswer {
        let (n, m) = (i64::from(rule.max_days), i64::from(rule.window));
        let mut present = BTreeSet::new();
        for p in stays {
            present.extend(day(p.start)..=day(p.end));
        }
        let mut counted = present.clone();
        for p in exempt {
            for d in day(p.start)..=day(p.end) {
                counted.remove(&d);
            }
        }
        let on_d = day(on);
        let in_window = |set: &BTreeSet<i64>, d: i64| set.range(d - m + 1..=d).count() as i64;
        let mut overstay: Option<Overstay> = None;
        for &d in counted.iter().filter(|&&d| d <= on_d) {
            if in_window(&counted, d) > n {
                let o = overstay.get_or_insert(Overstay { first_day: date(d), last_day: date(d), days: 0 });
                o.last_day = date(d);
                o.days += 1;
            }
        }
        let allowed_from = |start: i64| -> u32 {
            let mut with = counted.clone();
            let mut days = 0;
            let mut d = start;
            loop {
                with.insert(d);
                if (start..=d).any(|x| in_window(&with, x) > n) {
                    return days;
                }
                days += 1;
                d += 1;
            }
        };
        let max_days = allowed_from(on_d);
        let next_entry = if max_days == 0 {
            (on_d + 1..=on_d + m)
                .find(|&e| allowed_from(e) > 0)
                .map(|e| NextEntry { date: date(e), max_days: allowed_from(e) })
        } else {
            None
        };
        StayAnswer {
            on,
            window_start: date(on_d - m + 1),
            days_used: in_window(&counted, on_d) as u32,
            present: present.contains(&on_d),
            stay_until: (max_days > 0).then(|| date(on_d + i64::from(max_days) - 1)),
            max_days,
            overstay,
            next_entry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date as d;
    use proptest::prelude::*;

    fn p(a: Date, b: Date) -> Period {
        Period { start: a, end: b }
    }

    #[test]
    fn entry_and_exit_days_both_count() {
        // EC user manual for the short-stay calculator, quoting Regulation (EU) No 610/2013:
        // "The date of entry shall be considered as the first day of stay ... and the date of
        // exit shall be considered as the last day of stay".
        let a = calculate(Rule::SCHENGEN, &[p(d(2014, 1, 1), d(2014, 1, 1))], &[], d(2014, 1, 1)).unwrap();
        assert_eq!(a.days_used, 1);
        assert!(a.present);
        let a = calculate(Rule::SCHENGEN, &[p(d(2014, 1, 1), d(2014, 1, 10))], &[], d(2014, 2, 1)).unwrap();
        assert_eq!(a.days_used, 10);
    }

    #[test]
    fn an_absence_of_90_days_allows_a_new_stay_of_90_days() {
        // EC user manual: "an absence for an uninterrupted period of 90 days allows for a new
        // stay for up to 90 days." 90 days of stay, Jan 1 - Mar 31 2014, then absent Apr 1 - Jun 29.
        let stays = [p(d(2014, 1, 1), d(2014, 3, 31))];
        let back = calculate(Rule::SCHENGEN, &stays, &[], d(2014, 6, 30)).unwrap();
        assert_eq!(back.max_days, 90);
        assert_eq!(back.stay_until, Some(d(2014, 9, 27)));
        // Back one day earlier, after 89 days away, the stay is shorter.
        let early = calculate(Rule::SCHENGEN, &stays, &[], d(2014, 6, 29)).unwrap();
        assert!(early.max_days < 90);
    }

    #[test]
    fn rolling_window_counts_only_the_last_180_days() {
        // Worked example published with a public 90/180 calculator (calculatorlib.com): reference
        // date 1 June 2024, trips 1-10 January 2024 and 1-20 March 2024: 30 days used, 60 left.
        // (That page puts the window start at 4 December 2023; 180 days including 1 June 2024
        // start on 5 December 2023, which is what is asserted here.)
        let stays = [p(d(2024, 1, 1), d(2024, 1, 10)), p(d(2024, 3, 1), d(2024, 3, 20))];
        let a = calculate(Rule::SCHENGEN, &stays, &[], d(2024, 6, 1)).unwrap();
        assert_eq!(a.window_start, d(2023, 12, 5));
        assert_eq!(a.days_used, 30);
        assert!(!a.present);
        assert!(a.max_days >= 60);
    }

    #[test]
    fn a_91_day_stay_overstays_by_one_and_then_has_to_wait() {
        let a = calculate(Rule::SCHENGEN, &[p(d(2026, 1, 1), d(2026, 4, 1))], &[], d(2026, 4, 1)).unwrap();
        assert_eq!(a.days_used, 91);
        assert_eq!(a.overstay, Some(Overstay { first_day: d(2026, 4, 1), last_day: d(2026, 4, 1), days: 1 }));
        assert_eq!((a.stay_until, a.max_days), (None, 0));
        let next = a.next_entry.unwrap();
        // On day e the window [e-179, e] must hold at most 89 earlier days.
        assert_eq!(
            next,
            naive::calculate(Rule::SCHENGEN, &[p(d(2026, 1, 1), d(2026, 4, 1))], &[], d(2026, 4, 1))
                .next_entry
                .unwrap()
        );
        assert!(next.date > d(2026, 4, 1));
        assert!(describe(Rule::SCHENGEN, &a).contains("Overstay: 1 days"));
    }

    #[test]
    fn long_stay_periods_do_not_count() {
        let stays = [p(d(2026, 1, 1), d(2026, 5, 31))];
        let exempt = [p(d(2026, 1, 1), d(2026, 4, 30))];
        let a = calculate(Rule::SCHENGEN, &stays, &exempt, d(2026, 5, 31)).unwrap();
        assert_eq!(a.days_used, 31);
        assert!(a.overstay.is_none());
    }

    #[test]
    fn bad_stays_are_named() {
        let e = calculate(
            Rule::SCHENGEN,
            &[p(d(2026, 1, 1), d(2026, 1, 5)), p(d(2026, 2, 5), d(2026, 2, 1))],
            &[],
            d(2026, 3, 1),
        )
        .unwrap_err();
        assert_eq!(e.0[0].field, "stays[1]");
        let e = calculate(Rule::SCHENGEN, &[p(d(2026, 1, 1), d(2026, 3, 5))], &[], d(2026, 3, 1)).unwrap_err();
        assert!(e.0[0].message.contains("past the day asked about"));
        assert!("90-180".parse::<Rule>().is_err());
        assert!("180/90".parse::<Rule>().is_err());
        assert_eq!("60/120".parse::<Rule>().unwrap(), Rule { max_days: 60, window: 120 });
    }

    fn stays_strategy() -> impl Strategy<Value = (Vec<Period>, Date)> {
        proptest::collection::vec((0i32..400, 0i32..60), 0..8).prop_map(|raw| {
            let base = d(2025, 1, 1);
            let on = base.checked_add(460.days()).unwrap();
            let stays = raw
                .into_iter()
                .map(|(s, len)| {
                    let start = base.checked_add(s.days()).unwrap();
                    p(start, start.checked_add(len.days()).unwrap())
                })
                .collect();
            (stays, on)
        })
    }

    proptest! {
        #[test]
        fn agrees_with_the_naive_day_by_day_calculation((stays, on) in stays_strategy(), rule in prop_oneof![Just(Rule::SCHENGEN), Just(Rule { max_days: 10, window: 30 })]) {
            prop_assert_eq!(calculate(rule, &stays, &[], on).unwrap(), naive::calculate(rule, &stays, &[], on));
        }

        #[test]
        fn a_continuous_stay_of_n_plus_1_days_overstays_on_its_last_day(start in 0i32..1000, n in 1u32..120) {
            let rule = Rule { max_days: n, window: 2 * n };
            let s = d(2020, 1, 1).checked_add(start.days()).unwrap();
            let e = s.checked_add((n as i32).days()).unwrap();
            let a = calculate(rule, &[p(s, e)], &[], e).unwrap();
            prop_assert_eq!(a.overstay.map(|o| o.last_day), Some(e));
        }

        #[test]
        fn adding_a_day_of_stay_never_increases_max_days((stays, on) in stays_strategy(), extra in 0i32..460) {
            let before = calculate(Rule::SCHENGEN, &stays, &[], on).unwrap();
            let day = d(2025, 1, 1).checked_add(extra.days()).unwrap();
            let mut more = stays.clone();
            more.push(p(day, day));
            let after = calculate(Rule::SCHENGEN, &more, &[], on).unwrap();
            prop_assert!(after.max_days <= before.max_days);
        }

        #[test]
        fn the_order_of_stays_does_not_matter((stays, on) in stays_strategy()) {
            let mut reversed = stays.clone();
            reversed.reverse();
            prop_assert_eq!(calculate(Rule::SCHENGEN, &stays, &[], on).unwrap(), calculate(Rule::SCHENGEN, &reversed, &[], on).unwrap());
        }
    }
}

/// Which rule governs a stay. Programs will choose; until then the admission class
/// of the entry selects it from [`class_rule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StayRule {
    /// N days in any M-day period.
    Rolling { max_days: u32, window: u32 },
    /// Admitted until a date (I-94 style); overstay starts the day after.
    AdmittedUntil,
}

impl fmt::Display for StayRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StayRule::Rolling { max_days, window } => write!(f, "{max_days}/{window}"),
            StayRule::AdmittedUntil => f.write_str("admitted-until"),
        }
    }
}

/// The interim table: (rule, whether the class is a long stay whose days do not
/// count towards a rolling rule).
pub fn class_rule(class: &str) -> (StayRule, bool) {
    let schengen = StayRule::Rolling { max_days: 90, window: 180 };
    match class.trim().to_ascii_uppercase().as_str() {
        // Visa waiver, transit and short-stay visas: the rolling rule.
        "WT" | "WB" | "C-1" | "C-1/D" | "SCH" | "C" => (schengen, false),
        // Students, exchange visitors, workers, long-stay visas and residents: a fixed
        // admission, and their days never count towards a short-stay rule.
        "F-1" | "J-1" | "H-1B" | "L-1" | "O-1" | "E-2" | "D" | "RES" => (StayRule::AdmittedUntil, true),
        // Visitors for business or pleasure, and anything else: a fixed admission.
        _ => (StayRule::AdmittedUntil, false),
    }
}

/// One stay as recorded: its local calendar days, and the admission of its entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedStay {
    pub period: Period,
    pub admission_class: Option<String>,
    pub admitted_until: Option<Date>,
    /// The port of the entry that began the stay (absent in facts compacted before
    /// ports were kept).
    pub port: Option<String>,
    /// No exit is recorded: the stay runs to the day asked about.
    pub open: bool,
}

/// A crossing reduced to what stay accounting needs: the local calendar day at the
/// port where it happened (the caller applies the port's time zone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatedCrossing {
    pub direction: crate::crossing::Direction,
    pub at: jiff::Timestamp,
    pub local_day: Date,
    pub admission_class: Option<String>,
    pub admitted_until: Option<Date>,
    /// The port code, for the aggregate of overstays by port.
    pub port: Option<String>,
}

/// Pair entries with exits into stays, up to and including `on`. An entry with no
/// exit runs to `on`; an entry followed by another entry (a missed exit) is taken as
/// continuous presence until that next entry.
pub fn stays_from_crossings(mut crossings: Vec<DatedCrossing>, on: Date) -> Vec<RecordedStay> {
    use crate::crossing::Direction;
    crossings.sort_by_key(|c| c.at);
    let mut out = Vec::new();
    let mut open: Option<DatedCrossing> = None;
    for c in crossings.into_iter().filter(|c| c.local_day <= on) {
        match c.direction {
            Direction::Entry => {
                if let Some(e) = open.take() {
                    out.push(RecordedStay {
                        period: Period { start: e.local_day, end: c.local_day },
                        admission_class: e.admission_class,
                        admitted_until: e.admitted_until,
                        port: e.port,
                        open: false,
                    });
                }
                open = Some(c);
            }
            Direction::Exit => {
                if let Some(e) = open.take() {
                    out.push(RecordedStay {
                        period: Period { start: e.local_day, end: c.local_day.max(e.local_day) },
                        admission_class: e.admission_class,
                        admitted_until: e.admitted_until,
                        port: e.port,
                        open: false,
                    });
                }
            }
        }
    }
    if let Some(e) = open {
        out.push(RecordedStay {
            period: Period { start: e.local_day, end: on },
            admission_class: e.admission_class,
            admitted_until: e.admitted_until,
            port: e.port,
            open: true,
        });
    }
    out
}

/// A rolling-rule calculator: [`calculate`], or [`naive::checked`] for comparison.
pub type Calculator = fn(Rule, &[Period], &[Period], Date) -> Result<StayAnswer, Invalid>;

/// The answer for a recorded history: the rule of the latest entry decides.
pub fn subject_stay(stays: &[RecordedStay], on: Date) -> Result<(StayRule, StayAnswer), Invalid> {
    subject_stay_with(stays, on, calculate)
}

/// [`subject_stay`] with the rolling rule computed by `calc`.
pub fn subject_stay_with(
    stays: &[RecordedStay],
    on: Date,
    calc: Calculator,
) -> Result<(StayRule, StayAnswer), Invalid> {
    let latest = stays.iter().max_by_key(|s| s.period.start);
    let (rule, _) = latest
        .and_then(|s| s.admission_class.as_deref())
        .map(class_rule)
        .unwrap_or((StayRule::Rolling { max_days: 90, window: 180 }, false));
    let fixed = match (rule, latest.and_then(|s| s.admitted_until)) {
        (StayRule::AdmittedUntil, Some(until)) => Some(until),
        _ => None,
    };
    match (fixed, latest) {
        (Some(until), Some(current)) => Ok((StayRule::AdmittedUntil, admitted_until_answer(stays, current, until, on))),
        _ => {
            let r = Rule::SCHENGEN;
            let periods: Vec<Period> = stays.iter().map(|s| s.period).collect();
            let exempt: Vec<Period> = stays
                .iter()
                .filter(|s| s.admission_class.as_deref().is_some_and(|c| class_rule(c).1))
                .map(|s| s.period)
                .collect();
            let answer = calc(r, &periods, &exempt, on)?;
            Ok((StayRule::Rolling { max_days: r.max_days, window: r.window }, answer))
        }
    }
}

/// Where a recorded history stands on `on`, for lists and flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standing {
    pub rule: StayRule,
    pub answer: StayAnswer,
    /// An overstay is running on `on`: no exit is recorded and `on` is itself over the limit.
    pub ongoing_overstay: Option<Overstay>,
    /// No exit is recorded and the person is counted as present on `on`.
    pub still_present: bool,
}

pub fn standing(stays: &[RecordedStay], on: Date) -> Result<Standing, Invalid> {
    standing_with(stays, on, calculate)
}

/// [`standing`] with the rolling rule computed by `calc`.
pub fn standing_with(stays: &[RecordedStay], on: Date, calc: Calculator) -> Result<Standing, Invalid> {
    let (rule, answer) = subject_stay_with(stays, on, calc)?;
    let still_present = stays.iter().any(|s| s.open) && answer.present;
    let ongoing_overstay = answer.overstay.filter(|o| still_present && o.last_day == on);
    Ok(Standing { rule, answer, ongoing_overstay, still_present })
}

/// The port of entry of the stay during which an overstay began: the stay that holds
/// its first day, or else the latest stay that began before the overstay ended.
pub fn overstay_port<'a>(stays: &'a [RecordedStay], o: &Overstay) -> Option<&'a str> {
    stays
        .iter()
        .find(|s| s.period.start <= o.first_day && o.first_day <= s.period.end)
        .or_else(|| stays.iter().filter(|s| s.period.start <= o.last_day).max_by_key(|s| s.period.start))
        .and_then(|s| s.port.as_deref())
}

fn admitted_until_answer(stays: &[RecordedStay], current: &RecordedStay, until: Date, on: Date) -> StayAnswer {
    let days = |a: Date, b: Date| (day(b) - day(a) + 1).max(0) as u32;
    let mut overstay: Option<Overstay> = None;
    let mut sorted: Vec<&RecordedStay> = stays.iter().collect();
    sorted.sort_by_key(|s| s.period.start);
    for s in sorted {
        let Some(u) = s.admitted_until else { continue };
        let end = s.period.end.min(on);
        if end > u {
            let first = u.checked_add(1.day()).unwrap_or(u);
            let o = overstay.get_or_insert(Overstay { first_day: first, last_day: end, days: 0 });
            o.last_day = end;
            o.days += days(first, end);
        }
    }
    let present = current.period.start <= on && on <= current.period.end;
    StayAnswer {
        on,
        window_start: current.period.start,
        days_used: days(current.period.start, current.period.end.min(on)),
        present,
        stay_until: (on <= until).then_some(until),
        max_days: if on <= until { days(on, until) } else { 0 },
        overstay,
        next_entry: None,
    }
}

#[cfg(test)]
mod recorded_tests {
    use super::*;
    use crate::crossing::Direction;
    use jiff::civil::date as d;

    fn c(dir: Direction, day: Date, class: Option<&str>, until: Option<Date>) -> DatedCrossing {
        DatedCrossing {
            direction: dir,
            at: day.to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp(),
            local_day: day,
            admission_class: class.map(Into::into),
            admitted_until: until,
            port: None,
        }
    }

    #[test]
    fn entries_and_exits_pair_into_stays_and_an_open_stay_runs_to_on() {
        let stays = stays_from_crossings(
            vec![
                c(Direction::Exit, d(2026, 2, 10), None, None),
                c(Direction::Entry, d(2026, 2, 1), Some("WT"), None),
                c(Direction::Entry, d(2026, 5, 1), Some("WT"), None),
            ],
            d(2026, 5, 20),
        );
        assert_eq!(stays.len(), 2);
        assert_eq!(stays[0].period, Period { start: d(2026, 2, 1), end: d(2026, 2, 10) });
        assert_eq!((stays[1].period.end, stays[1].open), (d(2026, 5, 20), true));
        let (rule, a) = subject_stay(&stays, d(2026, 5, 20)).unwrap();
        assert_eq!(rule.to_string(), "90/180");
        assert_eq!(a.days_used, 10 + 20);
    }

    #[test]
    fn a_fixed_admission_overstays_from_the_day_after() {
        let stays = stays_from_crossings(
            vec![c(Direction::Entry, d(2026, 1, 1), Some("B-2"), Some(d(2026, 6, 30)))],
            d(2026, 7, 10),
        );
        let (rule, a) = subject_stay(&stays, d(2026, 7, 10)).unwrap();
        assert_eq!(rule, StayRule::AdmittedUntil);
        assert_eq!(a.overstay, Some(Overstay { first_day: d(2026, 7, 1), last_day: d(2026, 7, 10), days: 10 }));
        assert_eq!((a.stay_until, a.max_days), (None, 0));
        let (_, before) = subject_stay(&stays, d(2026, 6, 29)).unwrap();
        assert_eq!((before.stay_until, before.max_days, before.overstay), (Some(d(2026, 6, 30)), 2, None));
    }

    #[test]
    fn an_overstay_is_ongoing_only_while_present_and_over_the_limit() {
        let entry = c(Direction::Entry, d(2026, 1, 1), Some("B-2"), Some(d(2026, 6, 30)));
        let open = stays_from_crossings(vec![entry.clone()], d(2026, 7, 10));
        let s = standing(&open, d(2026, 7, 10)).unwrap();
        assert_eq!(s.ongoing_overstay.map(|o| o.days), Some(10));
        assert!(s.still_present);
        let left = stays_from_crossings(vec![entry, c(Direction::Exit, d(2026, 7, 5), None, None)], d(2026, 7, 10));
        let s = standing(&left, d(2026, 7, 10)).unwrap();
        assert_eq!(s.answer.overstay.map(|o| o.days), Some(5), "a past overstay is still on record");
        assert_eq!((s.ongoing_overstay, s.still_present), (None, false));
    }

    #[test]
    fn an_overstay_is_attributed_to_the_port_of_the_stay_it_began_in() {
        let at =
            |dir, day, class, until, port: &str| DatedCrossing { port: Some(port.into()), ..c(dir, day, class, until) };
        let stays = stays_from_crossings(
            vec![
                at(Direction::Entry, d(2026, 1, 1), Some("WT"), None, "JFK"),
                at(Direction::Exit, d(2026, 3, 1), None, None, "JFK"),
                at(Direction::Entry, d(2026, 3, 20), Some("WT"), None, "MIA"),
            ],
            d(2026, 6, 1),
        );
        let s = standing(&stays, d(2026, 6, 1)).unwrap();
        let o = s.answer.overstay.unwrap();
        assert_eq!(overstay_port(&stays, &o), Some("MIA"), "day 91 falls in the stay that began at MIA: {o:?}");
        let early = Overstay { first_day: d(2026, 2, 1), last_day: d(2026, 2, 3), days: 3 };
        assert_eq!(overstay_port(&stays, &early), Some("JFK"));
        let between = Overstay { first_day: d(2026, 3, 5), last_day: d(2026, 3, 6), days: 2 };
        assert_eq!(overstay_port(&stays, &between), Some("JFK"), "no stay holds it: the latest before it ended");
    }

    #[test]
    fn long_stay_classes_do_not_count_towards_the_rolling_rule() {
        let stays = stays_from_crossings(
            vec![
                c(Direction::Entry, d(2025, 9, 1), Some("F-1"), Some(d(2026, 1, 31))),
                c(Direction::Exit, d(2026, 1, 31), None, None),
                c(Direction::Entry, d(2026, 2, 1), Some("WT"), None),
            ],
            d(2026, 2, 28),
        );
        let (_, a) = subject_stay(&stays, d(2026, 2, 28)).unwrap();
        assert_eq!(a.days_used, 28, "only the visa-waiver days count");
        assert!(a.overstay.is_none());
    }
}
