//! The impact analysis: a neutral program over a mixed population is not flagged; a
//! proxy (an admission class held by one nationality only) is.

use fairgate_core::program::impact::{analyse, Person};
use fairgate_core::program::lang::compile;
use jiff::civil::date;

const HEADER: &str = "id = \"ppp\"\ntitle = \"P\"\nlegal_basis = \"Act\"\nstarts = 2027-01-01\nsunset = 2028-01-01\n";

/// 1,200 people: four nationalities, both sexes, ages 10 to 69. Visa-waiver (WT)
/// visitors are spread evenly; class `E-9` is held only by nationals of `KAR`.
fn population() -> Vec<Person> {
    let nations = ["UTO", "KAR", "VAL", "ZEN"];
    // Independent pseudo-random draws per field, so no attribute tracks another by accident.
    let mix = |i: usize, salt: u64| {
        // splitmix64
        let mut z = ((salt << 32) + i as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    (0..1200)
        .map(|i| {
            let nationality = nations[i % 4];
            let class = if nationality == "KAR" && i % 3 == 0 {
                "E-9"
            } else if mix(i, 1) % 2 == 0 {
                "WT"
            } else {
                "B-2"
            };
            Person {
                nationality: nationality.into(),
                sex: if (i / 4) % 2 == 0 { "F" } else { "M" }.into(),
                birth_date: Some(date(1957 + (mix(i, 2) % 60) as i16, 5, 1)),
                admission_class: Some(class.into()),
                purpose_of_admission: Some(if mix(i, 3) % 5 == 0 { "business" } else { "tourism" }.into()),
                admitted_on: Some(date(2026, 1 + (mix(i, 4) % 12) as i8, 1)),
                stay_days: Some((mix(i, 5) % 120) as u32),
                designated: false,
                postal_code: None,
            }
        })
        .collect()
}

#[test]
fn a_neutral_program_over_a_mixed_population_is_not_flagged() {
    let spec =
        compile(&format!("{HEADER}[selection]\nadmission_class = [\"WT\", \"B-2\"]\nmin_stay_days = 30\n")).unwrap();
    let i = analyse(&spec.selection, &population(), date(2027, 1, 1));
    assert!(i.selected > 300 && i.selected < i.population, "selected {}", i.selected);
    assert!(!i.flagged, "{:#?}", i.groups.iter().filter(|g| g.flagged).collect::<Vec<_>>());
    assert!(i.clears());
}

#[test]
fn a_proxy_for_nationality_is_flagged() {
    let spec = compile(&format!("{HEADER}[selection]\nadmission_class = [\"E-9\"]\n")).unwrap();
    let i = analyse(&spec.selection, &population(), date(2027, 1, 1));
    assert!(i.flagged);
    let flagged: Vec<(&str, &str)> =
        i.groups.iter().filter(|g| g.flagged).map(|g| (g.attribute.as_str(), g.value.as_str())).collect();
    assert_eq!(flagged, [("nationality", "KAR")]);
    let kar = i.groups.iter().find(|g| g.value == "KAR").unwrap();
    assert_eq!((kar.population, kar.selected, kar.ratio_to_rest), (300, 100, None), "no one else is selected");
    assert!(kar.p_value < 1e-6);
    assert!(!i.clears());
}

#[test]
fn an_open_age_limit_is_reported_but_not_flagged() {
    let spec = compile(&format!("{HEADER}[selection]\nmin_age = 40\n")).unwrap();
    let i = analyse(&spec.selection, &population(), date(2027, 1, 1));
    assert!(!i.flagged);
    let young = i.groups.iter().find(|g| g.value == "45-54").unwrap();
    assert_eq!(young.not_flagged_because.as_deref(), Some("the program selects by age, openly"));
}

#[test]
fn the_json_has_the_documented_fields() {
    let spec = compile(&format!("{HEADER}[selection]\nadmission_class = [\"E-9\"]\n")).unwrap();
    let v = serde_json::to_value(analyse(&spec.selection, &population(), date(2027, 1, 1))).unwrap();
    for k in ["population", "selected", "rate", "groups", "flagged"] {
        assert!(v.get(k).is_some(), "{k}");
    }
    for k in ["attribute", "value", "population", "selected", "rate", "ratio_to_rest", "p_value", "flagged"] {
        assert!(v["groups"][0].get(k).is_some(), "groups[].{k}");
    }
}
