//! The impact analysis: apply a program's selection to a population and compare
//! selection rates across groups the program itself may not name (nationality, sex)
//! and across age bands. A neutral-looking criterion that works as a proxy, such as
//! an admission class given only to one nationality, shows up as a group selected far
//! more often than everyone else.
//!
//! A group is **flagged** when it has at least [`MIN_GROUP`] members, its selection
//! rate is at least [`MIN_RATIO`] times that of everyone else, and the difference is
//! significant at p < [`ALPHA`] (two-sided two-proportion z-test). Age bands are not
//! flagged when the program itself selects by age: that difference is declared, not
//! hidden.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::lang::Selection;

pub const MIN_GROUP: u64 = 30;
pub const MIN_RATIO: f64 = 1.25;
pub const ALPHA: f64 = 0.01;

/// One person of the population, as the impact analysis sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Person {
    pub nationality: String,
    pub sex: String,
    pub birth_date: Option<Date>,
    #[serde(default)]
    pub admission_class: Option<String>,
    #[serde(default)]
    pub purpose_of_admission: Option<String>,
    #[serde(default)]
    pub admitted_on: Option<Date>,
    #[serde(default)]
    pub stay_days: Option<u32>,
    /// Individually designated (the population file may leave it out).
    #[serde(default)]
    pub designated: bool,
    /// Where the person lives, for the capacity plan (their office). Never a
    /// selector: the impact analysis does not look at it.
    #[serde(default)]
    pub postal_code: Option<String>,
}

/// Whole years between `birth` and `on`.
pub fn age_on(birth: Date, on: Date) -> Option<u32> {
    let mut years = i32::from(on.year()) - i32::from(birth.year());
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

/// Does the selection pick this person on `on`? A condition on a fact the
/// population does not hold does not match: nobody is selected on a guess.
pub fn selects(s: &Selection, p: &Person, on: Date) -> bool {
    let class_ok = s.admission_class.as_ref().is_none_or(|list| {
        p.admission_class.as_deref().is_some_and(|c| list.iter().any(|x| x.eq_ignore_ascii_case(c.trim())))
    });
    let purpose_ok = s.purpose_of_admission.as_ref().is_none_or(|list| {
        p.purpose_of_admission.as_deref().is_some_and(|c| list.iter().any(|x| x.eq_ignore_ascii_case(c.trim())))
    });
    let stay_ok = s.min_stay_days.is_none_or(|n| p.stay_days.is_some_and(|d| d >= n));
    let admitted_ok = s.admitted_between.is_none_or(|(a, b)| p.admitted_on.is_some_and(|d| a <= d && d <= b));
    let age = p.birth_date.and_then(|b| age_on(b, on));
    let min_ok = s.min_age.is_none_or(|m| age.is_some_and(|a| a >= m));
    let max_ok = s.max_age.is_none_or(|m| age.is_some_and(|a| a <= m));
    let designated_ok = s.individually_designated.is_none_or(|d| d == p.designated);
    class_ok && purpose_ok && stay_ok && admitted_ok && min_ok && max_ok && designated_ok
}

/// The age band of an age, for the analysis.
pub fn age_band(age: Option<u32>) -> &'static str {
    match age {
        None => "unknown",
        Some(0..=15) => "0-15",
        Some(16..=24) => "16-24",
        Some(25..=34) => "25-34",
        Some(35..=44) => "35-44",
        Some(45..=54) => "45-54",
        Some(55..=64) => "55-64",
        Some(_) => "65+",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// `nationality`, `sex` or `age_band`.
    pub attribute: String,
    pub value: String,
    pub population: u64,
    pub selected: u64,
    pub rate: f64,
    /// The group's rate over everyone else's; `null` when no one else is selected.
    pub ratio_to_rest: Option<f64>,
    pub p_value: f64,
    pub flagged: bool,
    /// Why a large difference is not flagged, e.g. `the program selects by age`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_flagged_because: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Impact {
    /// The day ages and stays were taken on.
    pub on: Date,
    pub population: u64,
    pub selected: u64,
    pub rate: f64,
    pub groups: Vec<Group>,
    pub flagged: bool,
    /// Groups left out of `groups` because they had fewer than this many members
    /// (only when the population is the live database; `0` otherwise).
    #[serde(default)]
    pub min_group_shown: u64,
    #[serde(default)]
    pub groups_not_shown: u64,
    /// Figures withheld because, after noise, they were under `min_group_shown`
    /// (shown as 0): `population`, `selected` (then `rate` too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
    /// Over the live records: the scale of the Laplace noise added to every count
    /// (see [`release`]); `None` for a population file, whose figures are exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_scale: Option<f64>,
}

impl Impact {
    /// Can this analysis clear a program for activation on its own? Only when it
    /// covered enough people to show something and flagged nothing.
    pub fn clears(&self) -> bool {
        !self.flagged && self.population >= MIN_GROUP
    }
}

/// Complementary error function (Numerical Recipes `erfcc`; relative error under 1.2e-7).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Two-sided p-value of the two-proportion z-test of `s1/n1` against `s2/n2`.
pub fn two_proportion_p(s1: u64, n1: u64, s2: u64, n2: u64) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    let (s1, n1, s2, n2) = (s1 as f64, n1 as f64, s2 as f64, n2 as f64);
    let pooled = (s1 + s2) / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se == 0.0 {
        return 1.0;
    }
    let z = (s1 / n1 - s2 / n2) / se;
    erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0)
}

/// Apply `selection` to `people` on `on` and compare groups.
pub fn analyse(selection: &Selection, people: &[Person], on: Date) -> Impact {
    let norm = |s: &str| if s.trim().is_empty() { "unknown".to_string() } else { s.trim().to_ascii_uppercase() };
    let rows = people.iter().map(|p| {
        let age = p.birth_date.and_then(|b| age_on(b, on));
        let groups =
            vec![("nationality", norm(&p.nationality)), ("sex", norm(&p.sex)), ("age_band", age_band(age).to_string())];
        (groups, selects(selection, p, on))
    });
    let (n, k, groups) = compare_groups(rows, |attribute| attribute == "age_band" && selection.uses_age());
    let flagged = groups.iter().any(|g| g.flagged);
    let rate = if n == 0 { 0.0 } else { k as f64 / n as f64 };
    Impact {
        on,
        population: n,
        selected: k,
        rate,
        groups,
        flagged,
        min_group_shown: 0,
        groups_not_shown: 0,
        withheld: Vec::new(),
        noise_scale: None,
    }
}

/// The flag test over any population: each row is a person's groups (attribute,
/// value) and whether they were selected. Returns (people, selected, groups sorted
/// by attribute and value). `declared(attribute)` marks an attribute whose
/// differences the rule states openly, so they are reported but not flagged.
pub fn compare_groups(
    rows: impl Iterator<Item = (Vec<(&'static str, String)>, bool)>,
    declared: impl Fn(&str) -> bool,
) -> (u64, u64, Vec<Group>) {
    use std::collections::BTreeMap;
    let mut by: BTreeMap<(&'static str, String), (u64, u64)> = BTreeMap::new();
    let (mut n, mut k) = (0u64, 0u64);
    for (groups, chosen) in rows {
        let chosen = chosen as u64;
        n += 1;
        k += chosen;
        for key in groups {
            let e = by.entry(key).or_default();
            e.0 += 1;
            e.1 += chosen;
        }
    }
    let rate = |s: u64, n: u64| if n == 0 { 0.0 } else { s as f64 / n as f64 };
    let groups = by
        .into_iter()
        .map(|((attribute, value), (gn, gk))| {
            let (rn, rk) = (n - gn, k - gk);
            let (gr, rr) = (rate(gk, gn), rate(rk, rn));
            let ratio = (rr > 0.0).then(|| gr / rr);
            let p_value = two_proportion_p(gk, gn, rk, rn);
            let over = match ratio {
                Some(r) => r >= MIN_RATIO,
                None => gr > 0.0,
            };
            let big = gn >= MIN_GROUP && rn > 0 && over && p_value < ALPHA;
            let open = declared(attribute);
            Group {
                attribute: attribute.to_string(),
                value,
                population: gn,
                selected: gk,
                rate: gr,
                ratio_to_rest: ratio,
                p_value,
                flagged: big && !open,
                not_flagged_because: (big && open).then(|| "the program selects by age, openly".to_string()),
            }
        })
        .collect();
    (n, k, groups)
}

/// The privacy budget of analyses over the live records (differential privacy):
/// each analysis spends [`EPSILON_PER_ANALYSIS`], and at most [`BUDGET`] may be
/// spent in any [`BUDGET_WINDOW_DAYS`] days, by everyone together. When it is spent,
/// analyses over the records are refused until the oldest leaves the window; a
/// population file (exact, and about no one on record) is always allowed.
pub const EPSILON_PER_ANALYSIS: f64 = 1.0;
pub const BUDGET: f64 = 10.0;
pub const BUDGET_WINDOW_DAYS: i64 = 30;
/// The Laplace scale of every count published from the live records. One analysis
/// publishes four releases (the totals; one histogram per attribute: nationality,
/// sex, age band), each of sensitivity 2 (one person moves a population count and a
/// selected count by one each), sharing ε = 1: b = 4 × 2 / 1.
pub const NOISE_SCALE: f64 = 8.0;

/// May another analysis over the records run at `now_ms`, given when the earlier
/// ones ran (milliseconds)? `Err` gives when the oldest in the window leaves it.
pub fn budget_allows(earlier_ms: &[i64], now_ms: i64) -> Result<(), i64> {
    let window = BUDGET_WINDOW_DAYS * 86_400_000;
    let recent: Vec<i64> = earlier_ms.iter().copied().filter(|t| now_ms - t < window).collect();
    if (recent.len() as f64 + 1.0) * EPSILON_PER_ANALYSIS <= BUDGET + 1e-9 {
        return Ok(());
    }
    Err(recent.iter().min().map_or(now_ms, |t| t + window))
}

/// A Laplace(0, `b`) sample from a uniform sample `u` in [0, 1).
pub fn laplace(b: f64, u: f64) -> f64 {
    let u = u - 0.5;
    -b * u.signum() * (1.0 - 2.0 * u.abs()).max(f64::MIN_POSITIVE).ln()
}

/// What may be published of an analysis over the live records (the Laplace
/// mechanism; see [`NOISE_SCALE`] and [`BUDGET`]). Every count gets fresh noise
/// (`uniform` gives samples in [0, 1), from the caller's randomness), rounded and
/// kept at 0 or more; rates, ratios and p-values are worked out from the noised
/// counts. Then no figure under `min` is published: groups under it (or with 1 to
/// `min - 1` selected) are left out, and a selected total under it is withheld.
/// `flagged` (per group and overall) is the exact analysis's, as the activation
/// gate needs it; it is published only as a yes or no, and only for groups of 30
/// or more.
pub fn release(exact: &Impact, min: u64, uniform: &mut dyn FnMut() -> f64) -> Impact {
    let mut noisy = |n: u64| (n as f64 + laplace(NOISE_SCALE, uniform())).round().max(0.0) as u64;
    let population = noisy(exact.population);
    let selected = noisy(exact.selected).min(population);
    let rate = |s: u64, n: u64| if n == 0 { 0.0 } else { s as f64 / n as f64 };
    let mut groups = Vec::with_capacity(exact.groups.len());
    for g in &exact.groups {
        let gn = noisy(g.population);
        let gk = noisy(g.selected).min(gn);
        let (rn, rk) = (population.saturating_sub(gn), selected.saturating_sub(gk).min(population.saturating_sub(gn)));
        let (gr, rr) = (rate(gk, gn), rate(rk, rn));
        groups.push(Group {
            attribute: g.attribute.clone(),
            value: g.value.clone(),
            population: gn,
            selected: gk,
            rate: gr,
            ratio_to_rest: (rr > 0.0).then(|| gr / rr),
            p_value: two_proportion_p(gk, gn, rk, rn),
            flagged: g.flagged,
            not_flagged_because: g.not_flagged_because.clone(),
        });
    }
    let before = groups.len();
    groups.retain(|g| g.population >= min && (g.selected == 0 || g.selected >= min));
    let mut out = Impact {
        on: exact.on,
        population,
        selected,
        rate: rate(selected, population),
        groups_not_shown: (before - groups.len()) as u64,
        groups,
        flagged: exact.flagged,
        min_group_shown: min,
        withheld: Vec::new(),
        noise_scale: Some(NOISE_SCALE),
    };
    if out.population < min {
        out.population = 0;
        out.withheld.push("population".into());
    }
    if out.selected < min {
        out.selected = 0;
        out.rate = 0.0;
        out.withheld.push("selected".into());
    }
    out
}

/// For a population read from the live database: leave out groups too small to
/// publish, and groups with between 1 and `min - 1` people selected (a narrow
/// selection could otherwise tell the nationality of one known person). They still
/// counted in the comparison and in `flagged`.
pub fn hide_small_groups(impact: &mut Impact, min: u64) {
    let before = impact.groups.len();
    impact.groups.retain(|g| g.population >= min && (g.selected == 0 || g.selected >= min));
    impact.groups_not_shown = (before - impact.groups.len()) as u64;
    impact.min_group_shown = min;
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    /// The differencing attack from the insider review: two analyses that differ by
    /// one person (the target's admission day left out of the second), and the
    /// published totals subtracted. Exact totals told whether the target was
    /// selected every time; released ones do no better than a guess (ε = 1 bounds the
    /// attacker's odds at e:1, about 73 %; the test allows 65 % over 4000 trials and
    /// a simulation of 200,000 trials gets 51.8 %), and never a figure under 10.
    #[test]
    fn differencing_two_released_analyses_does_not_tell_whether_one_person_was_selected() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(14);
        let trials = 4000;
        let mut right = 0;
        for t in 0..trials {
            let target_selected = t % 2 == 0;
            let others_selected = 40 + (t % 7) as u64;
            let exact = |with_target: bool| Impact {
                on: date(2026, 11, 30),
                population: 200,
                selected: others_selected + u64::from(with_target && target_selected),
                rate: 0.0,
                groups: Vec::new(),
                flagged: false,
                min_group_shown: 0,
                groups_not_shown: 0,
                withheld: Vec::new(),
                noise_scale: None,
            };
            let mut u = || rng.gen::<f64>();
            let a = release(&exact(true), 10, &mut u);
            let b = release(&exact(false), 10, &mut u);
            assert!(a.selected == 0 || a.selected >= 10);
            let guess = a.selected as i64 - b.selected as i64 >= 1;
            if guess == target_selected {
                right += 1;
            }
            // Without the noise the attack always works.
            assert_eq!(exact(true).selected - exact(false).selected == 1, target_selected);
        }
        let rate = right as f64 / trials as f64;
        assert!(rate < 0.65, "the attacker guessed right {rate:.3} of the time");
    }

    #[test]
    fn the_budget_allows_ten_analyses_in_any_thirty_days() {
        let day = 86_400_000i64;
        let ten: Vec<i64> = (0..10).map(|i| i * day).collect();
        assert!(budget_allows(&ten[..9], 10 * day).is_ok());
        assert_eq!(budget_allows(&ten, 10 * day), Err(30 * day), "the oldest leaves the window on day 30");
        assert!(budget_allows(&ten, 30 * day).is_ok());
    }

    #[test]
    fn a_released_analysis_publishes_no_figure_under_ten() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let people: Vec<Person> = (0..300)
            .map(|i| Person {
                nationality: ["AAA", "BBB", "CCC"][i % 3].into(),
                sex: "F".into(),
                admission_class: Some(if i == 0 { "E-9" } else { "WT" }.into()),
                ..Person::default()
            })
            .collect();
        let selection = Selection { admission_class: Some(vec!["E-9".into()]), ..Selection::default() };
        for _ in 0..200 {
            let exact = analyse(&selection, &people, date(2026, 11, 30));
            assert_eq!(exact.selected, 1, "one person isolated");
            let out = release(&exact, 10, &mut || rng.gen::<f64>());
            assert!(out.selected == 0 || out.selected >= 10, "{}", out.selected);
            assert!(out.population == 0 || out.population >= 10, "{}", out.population);
            for g in &out.groups {
                assert!(g.population >= 10 && (g.selected == 0 || g.selected >= 10), "{g:?}");
            }
        }
    }

    #[test]
    fn erfc_and_the_test_agree_with_tables() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        // z = 2.5758 is the two-sided 1 % point.
        assert!((erfc(2.5758 / std::f64::consts::SQRT_2) - 0.01).abs() < 1e-5);
        assert!((erfc(1.96 / std::f64::consts::SQRT_2) - 0.05).abs() < 1e-4);
        // 60/100 against 40/100: z = 2.828, p = 0.00468.
        assert!((two_proportion_p(60, 100, 40, 100) - 0.004678).abs() < 1e-5);
        assert_eq!(two_proportion_p(0, 10, 0, 10), 1.0);
    }

    #[test]
    fn small_groups_and_small_selections_are_hidden_but_still_count() {
        let mut people: Vec<Person> = (0..200)
            .map(|i| Person {
                nationality: if i < 100 { "AAA" } else { "BBB" }.into(),
                sex: "F".into(),
                admission_class: Some(if i < 40 { "E-9" } else { "WT" }.into()),
                ..Person::default()
            })
            .collect();
        people.extend((0..5).map(|_| Person { nationality: "CCC".into(), sex: "F".into(), ..Person::default() }));
        people.push(Person {
            nationality: "BBB".into(),
            sex: "M".into(),
            admission_class: Some("E-9".into()),
            ..Person::default()
        });
        let sel = Selection { admission_class: Some(vec!["E-9".into()]), ..Selection::default() };
        let mut i = analyse(&sel, &people, date(2027, 1, 1));
        assert!(i.flagged);
        hide_small_groups(&mut i, 10);
        let shown: Vec<&str> = i.groups.iter().map(|g| g.value.as_str()).collect();
        // age band `unknown`, nationality AAA, sex F; not BBB (1 selected), CCC (5 people) or M (1 person).
        assert_eq!(shown, ["unknown", "AAA", "F"]);
        assert!(i.flagged, "hidden groups still count");
        assert_eq!(i.groups_not_shown, 3);
    }

    #[test]
    fn age_is_whole_years() {
        assert_eq!(age_on(date(2000, 3, 1), date(2016, 2, 29)), Some(15));
        assert_eq!(age_on(date(2000, 3, 1), date(2016, 3, 1)), Some(16));
        assert_eq!(age_on(date(2030, 1, 1), date(2016, 3, 1)), None);
    }

    proptest! {
        /// The counts add up, rates are in [0, 1], and nothing under 30 is flagged.
        #[test]
        fn counts_add_up_and_small_groups_are_never_flagged(
            people in proptest::collection::vec((0u8..4, 0u8..2, 0u8..3, 1950i16..2020), 0..300),
        ) {
            let classes = ["WT", "B-2", "F-1"];
            let pop: Vec<Person> = people.iter().map(|(n, s, c, y)| Person {
                nationality: format!("N{n}"),
                sex: ["F", "M"][*s as usize].into(),
                birth_date: Some(date(*y, 6, 1)),
                admission_class: Some(classes[*c as usize].into()),
                ..Person::default()
            }).collect();
            let sel = Selection { admission_class: Some(vec!["WT".into()]), ..Selection::default() };
            let i = analyse(&sel, &pop, date(2027, 1, 1));
            prop_assert_eq!(i.population, pop.len() as u64);
            for attr in ["nationality", "sex", "age_band"] {
                let gs: Vec<&Group> = i.groups.iter().filter(|g| g.attribute == attr).collect();
                prop_assert_eq!(gs.iter().map(|g| g.population).sum::<u64>(), i.population);
                prop_assert_eq!(gs.iter().map(|g| g.selected).sum::<u64>(), i.selected);
            }
            for g in &i.groups {
                prop_assert!((0.0..=1.0).contains(&g.rate) && (0.0..=1.0).contains(&g.p_value));
                prop_assert!(!g.flagged || g.population >= MIN_GROUP);
            }
        }
    }
}
