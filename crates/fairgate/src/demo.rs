//! The synthetic demo population: travellers with documents, registrations,
//! interviews and two years of entries and exits, some of them overstays. Everything
//! is made up from a fixed seed; no real person's data is used.

use anyhow::Result;
use fairgate_core::access::{Actor, Role};
use fairgate_core::crossing::{Crossing, Direction};
use fairgate_core::designation::DesignationInput;
use fairgate_core::document::TravelDocument;
use fairgate_core::registration::{Interview, NewRegistration, QuestionAnswer, RegistrationKind};
use fairgate_core::subject::{NewSubject, Sex};
use fairgate_store::Registry;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

const SURNAMES: &[&str] = &[
    "ABARA",
    "BERGQVIST",
    "CASTELLANOS",
    "DUBOIS",
    "EZEH",
    "FONSECA",
    "GALLAGHER",
    "HAKIMI",
    "IVANENKO",
    "JANSEN",
    "KOWALCZYK",
    "LINDQVIST",
    "MWANGI",
    "NAKAMURA",
    "OKONKWO",
    "PEREIRA",
    "QUISPE",
    "ROSSI",
    "SANTOS",
    "TANAKA",
    "UDEH",
    "VARGAS",
    "WOJCIK",
    "XAVIER",
    "YILMAZ",
    "ZHANG",
    "ACHTERBERG",
    "BANERJEE",
    "CHIRWA",
    "DELACROIX",
    "ESPOSITO",
    "FALK",
    "GRUBER",
    "HOANG",
    "IBARRA",
    "JOHANSSON",
    "KIPLAGAT",
    "LAURENT",
    "MORALES",
    "NGUYEN",
];
const GIVEN: &[&str] = &[
    "ADA", "BRUNO", "CLARA", "DIEGO", "ELIF", "FARAH", "GUSTAV", "HANA", "IMANI", "JONAS", "KEIKO", "LUCAS", "MAYA",
    "NIKO", "OLGA", "PABLO", "QIAO", "RANIA", "SAMUEL", "TOMAS", "URSULA", "VIKRAM", "WANJIRU", "XIMENA", "YUSUF",
    "ZOFIA", "AMARA", "BAO", "CHIOMA", "DARIO", "EMIL", "FREYA", "GIORGIO", "HUGO", "INES", "JUN", "KAMAU", "LEILA",
];
const STATES: &[&str] = &[
    "MEX", "CAN", "GBR", "D", "FRA", "IND", "CHN", "BRA", "NGA", "PHL", "VNM", "KOR", "JPN", "ITA", "ESP", "COL",
    "PAK", "EGY", "TUR", "POL", "UKR", "ARG", "PER", "KEN", "GHA", "IDN", "AUS", "NLD", "SWE", "UTO",
];
const PORTS: &[&str] = &["JFK", "EWR", "MIA", "ORD", "LAX", "SEA", "BLA", "ELP"];
const OFFICES: &[&str] = &["NYC-FO", "CHI-FO", "LOS-FO"];
/// Admission classes and how many days each admits for.
const CLASSES: &[(&str, i64)] = &[("B-2", 180), ("B-1", 90), ("WT", 90), ("F-1", 730), ("H-1B", 1095), ("J-1", 365)];

/// The admission classes the demo program selects (see [`demo_program`]).
const DEMO_SELECTED_CLASSES: &[&str] = &["WT", "WB", "C-1", "SCH", "B-1", "B-2"];

/// One synthetic traveller and their history.
#[derive(Debug, Clone)]
pub struct Traveller {
    pub person: NewSubject,
    pub registration: NewRegistration,
    pub later_registration: Option<NewRegistration>,
    pub crossings: Vec<Crossing>,
    /// Designated for a document anomaly (about one in a hundred, by position).
    pub designated: bool,
}

impl Traveller {
    /// The traveller as an impact analysis sees them: nationality, sex, birth date,
    /// and the admission and length of their latest entry (up to `on`).
    pub fn as_person(&self, on: Date) -> fairgate_core::program::impact::Person {
        use fairgate_core::crossing::Direction;
        let entry = self.crossings.iter().filter(|c| c.direction == Direction::Entry).max_by_key(|c| c.at);
        let admitted_on = entry.map(|c| c.at.to_zoned(jiff::tz::TimeZone::UTC).date());
        let left = entry.and_then(|e| {
            self.crossings
                .iter()
                .filter(|c| c.direction == Direction::Exit && c.at > e.at)
                .map(|c| c.at.to_zoned(jiff::tz::TimeZone::UTC).date())
                .min()
        });
        let stay_days = admitted_on.map(|a| (left.unwrap_or(on) - a).get_days().max(0) as u32 + 1);
        fairgate_core::program::impact::Person {
            nationality: self.person.nationality.clone(),
            sex: format!("{:?}", self.person.sex),
            birth_date: Some(self.person.birth_date),
            admission_class: entry.and_then(|c| c.admission_class.clone()),
            purpose_of_admission: None,
            admitted_on,
            stay_days,
            designated: self.designated,
            postal_code: None,
        }
    }
}

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.gen_range(0..from.len())]
}

fn document_number(rng: &mut StdRng) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
    let mut s: String = (0..2).map(|_| ALNUM[rng.gen_range(0..23)] as char).collect();
    s.extend((0..7).map(|_| ALNUM[rng.gen_range(23..ALNUM.len())] as char));
    s
}

/// The deterministic demo population of `n` travellers, with histories up to `now`.
pub fn population(n: usize, now: Timestamp) -> Vec<Traveller> {
    let mut rng = StdRng::seed_from_u64(2002);
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    (0..n).map(|i| Traveller { designated: i % 97 == 5, ..traveller(&mut rng, now, today) }).collect()
}

fn traveller(rng: &mut StdRng, now: Timestamp, today: Date) -> Traveller {
    let nationality = pick(rng, STATES).to_string();
    let birth = today.checked_sub(rng.gen_range(18 * 365..80 * 365).days()).unwrap_or(today);
    let person = NewSubject {
        document: TravelDocument {
            kind: "P".into(),
            issuing_state: nationality.clone(),
            number: document_number(rng),
            expires_on: today.checked_add(rng.gen_range(200..3600).days()).unwrap_or(today),
        },
        surname: pick(rng, SURNAMES).into(),
        given_names: format!("{} {}", pick(rng, GIVEN), pick(rng, GIVEN)),
        birth_date: birth,
        sex: match rng.gen_range(0..100) {
            0..=47 => Sex::F,
            48..=97 => Sex::M,
            _ => Sex::X,
        },
        nationality,
    };
    let (class, admitted_days) = CLASSES[rng.gen_range(0..CLASSES.len())];
    let mut crossings = Vec::new();
    let mut t = now - SignedDuration::from_hours(24 * rng.gen_range(30..730))
        + SignedDuration::from_mins(rng.gen_range(0..1440));
    let first_port = pick(rng, PORTS).to_string();
    // The demo program selects short-stay visitors; students and workers register of their own accord.
    let voluntary = !DEMO_SELECTED_CLASSES.contains(&class);
    let registration = NewRegistration {
        kind: RegistrationKind::PortOfEntry,
        place: first_port.clone(),
        at: t + SignedDuration::from_mins(25),
        interview: Some(Interview {
            questions: vec![
                QuestionAnswer {
                    question: "What is the purpose of your visit?".into(),
                    answer: purpose_for(class).into(),
                },
                QuestionAnswer { question: "Where will you stay?".into(), answer: "WITH FAMILY".into() },
            ],
            notes: String::new(),
            interpreter_present: rng.gen_bool(0.15),
            counsel_present: false,
        }),
        voluntary,
        program: None,
        import: None,
        captures: None,
    };
    let mut port = first_port;
    loop {
        let entry_day = t.to_zoned(jiff::tz::TimeZone::UTC).date();
        let admitted_until = entry_day.checked_add(admitted_days.days()).unwrap_or(entry_day);
        crossings.push(Crossing {
            direction: Direction::Entry,
            port: port.clone(),
            at: t,
            admission_class: Some(class.into()),
            admitted_until: Some(admitted_until),
        });
        // Most leave in time; about one stay in twenty runs past the admitted-until date.
        let stay_days = if rng.gen_bool(0.05) {
            admitted_days + rng.gen_range(1..90)
        } else {
            rng.gen_range(2..=(admitted_days * 9 / 10).max(3))
        };
        let exit = t + SignedDuration::from_hours(24 * stay_days) + SignedDuration::from_mins(rng.gen_range(0..600));
        if exit >= now {
            break;
        }
        port = pick(rng, PORTS).to_string();
        crossings.push(Crossing {
            direction: Direction::Exit,
            port: port.clone(),
            at: exit,
            admission_class: None,
            admitted_until: None,
        });
        t = exit + SignedDuration::from_hours(24 * rng.gen_range(5..200));
        if t >= now {
            break;
        }
        port = pick(rng, PORTS).to_string();
    }
    let later_registration = rng.gen_bool(0.1).then(|| NewRegistration {
        kind: RegistrationKind::ReRegistration,
        place: pick(rng, OFFICES).into(),
        at: registration.at + SignedDuration::from_hours(24 * 20),
        interview: None,
        voluntary,
        program: None,
        import: None,
        captures: None,
    });
    let later_registration = later_registration.filter(|r| r.at < now);
    Traveller { person, registration, later_registration, crossings, designated: false }
}

fn purpose_for(class: &str) -> &'static str {
    match class {
        "F-1" => "STUDY",
        "H-1B" => "WORK",
        "J-1" => "EXCHANGE PROGRAMME",
        "B-1" => "BUSINESS MEETINGS",
        _ => "TOURISM",
    }
}

/// How many of the first travellers have a photograph and fingerprints on record:
/// enough for every screen to show some, few enough that seeding stays quick.
pub const DEMO_CAPTURED: usize = 300;

/// A registration with a generated face (nobody's) and the minutiae of both index
/// and middle fingers, as a capture station would send them.
fn with_captures(r: &NewRegistration, seed: u64) -> Result<(NewRegistration, Vec<fairgate_core::cbeff::Bir>)> {
    use fairgate_biometrics::synthetic;
    let day = r.at.to_zoned(jiff::tz::TimeZone::UTC).date();
    let face = synthetic::face_record(seed, (day.year() as u16, day.month() as u8, day.day() as u8));
    let face_bytes = fairgate_core::face::encode(&face)?;
    let prints = synthetic::minutiae(seed, &[2, 7, 3, 8]);
    let captures = fairgate_core::capture::Captures {
        face: Some((face_bytes, face)),
        fingers: prints
            .views
            .iter()
            .map(|v| (v.position, fairgate_core::minutiae::MinutiaeRecord { views: vec![v.clone()], ..prints.clone() }))
            .collect(),
        images: Default::default(),
        not_captured: vec![],
    };
    let (captures, summary) = captures.check(None, None).map_err(|e| anyhow::anyhow!("demo captures: {e:?}"))?;
    let mut registration = r.clone();
    registration.captures = Some(summary);
    Ok((registration, captures.birs(r.at)))
}

/// What seeding left: the ledger's size, and the registration number and portal
/// access code of the first synthetic traveller, so the portal can be tried.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub leaves: u64,
    pub portal_sample: Option<(String, String)>,
}

/// Put the demo program in force and write the demo population through the registry (so it is encrypted and logged
/// like any other data), with a progress bar when `progress` is given.
pub fn seed_with(registry: &Registry, n: usize, now: Timestamp, progress: &dyn Fn(u64)) -> Result<Seeded> {
    let officer = Actor::new("u-demo-seed", Role::Officer, "demo");
    let supervisor = Actor::new("u-demo-supervisor", Role::Supervisor, "demo");
    // The demo's ports and offices are demo data: ledger events, like any place an
    // administrator adds.
    let admin = Actor::new("u-demo-seed", Role::Admin, "demo");
    registry.add_places(now, &admin, &fairgate_core::place::default_places())?;
    let people = population(n, now);
    let captured = people
        .iter()
        .take(DEMO_CAPTURED)
        .enumerate()
        .map(|(i, t)| with_captures(&t.registration, i as u64))
        .collect::<Result<Vec<_>>>()?;
    let mut chunks = people.chunks(100);
    let mut done = 0u64;
    let mut portal_sample = None;
    registry.write_stream(now, |b| {
        let Some(chunk) = chunks.next() else { return Ok(false) };
        for (k, t) in chunk.iter().enumerate() {
            let index = done as usize + k;
            let id = b.create_validated_subject(&officer, t.person.clone())?;
            // About one traveller in a hundred is designated for a document anomaly and
            // approved by a supervisor, so the designation statistics have something to show.
            if t.designated {
                let input = DesignationInput {
                    reason: "document-anomaly".into(),
                    facts: "Synthetic demo: the data page laminate lifts at one corner".into(),
                    case_number: None,
                    place: t.registration.place.clone(),
                };
                let n = b.designate(&officer, id, &input)?;
                b.review_designation(&supervisor, id, n, true, None)?;
            }
            let number = if let Some((registration, birs)) = captured.get(index) {
                b.record_validated_registration_with(&officer, id, registration.clone(), birs.clone())?
            } else {
                b.record_validated_registration(&officer, id, t.registration.clone())?
            };
            if portal_sample.is_none() {
                portal_sample = b.access_code(&number).map(|c| (number.to_string(), c.to_string()));
            }
            for c in &t.crossings {
                b.record_validated_crossing(&officer, id, c.clone())?;
            }
            if let Some(r) = &t.later_registration {
                b.record_validated_registration(&officer, id, r.clone())?;
            }
        }
        done += chunk.len() as u64;
        progress(done);
        Ok(true)
    })?;
    // The program goes through the same checks as any other: drafted with an impact
    // analysis over the population just written, then activated.
    let source = demo_program(now.to_zoned(jiff::tz::TimeZone::UTC).date());

    // The analysis runs over the synthetic population as a file would give it: what
    // the demo wrote, not a read of the records.
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let analysed: Vec<fairgate_core::program::impact::Person> = people.iter().map(|t| t.as_person(today)).collect();
    let (added, _) = registry.add_program(now, &admin, &source, Some(&analysed))?;
    if !added.impact.clears() {
        let auditor = Actor::new("u-demo-auditor", Role::Auditor, "demo");
        let why = "Synthetic demo data: signed off so the demo has a program in force";
        registry.write(now, |b| b.sign_off_program(&auditor, &added.id, Some(added.version), why))?;
    }
    registry.write(now, |b| b.activate_program(&admin, &added.id, Some(added.version)))?;
    // The authorities an expungement may cite: a public list, not text typed per case.
    for (id, name, reference) in [
        ("court-order", "Order of a court of competent jurisdiction", "Demo Judiciary Act s. 12"),
        ("repeal-order", "Repeal of the program that collected the records", "Demo Registration Act s. 30"),
        ("privacy-request", "The person's request for erasure, granted", "Demo Privacy Act s. 7"),
    ] {
        let a = fairgate_core::expungement::Authority { id: id.into(), name: name.into(), reference: reference.into() };
        registry.list_authority(now, &admin, &a)?;
    }
    // A bulk load: fold its crossings into the stay facts now, not on the first sweep.
    registry.compact_stay_facts()?;
    registry.sign_checkpoint(now)?;
    Ok(Seeded { leaves: registry.tree_head()?.0, portal_sample })
}

/// The demo's program: the EES-like example of docs/programs.md, started two years
/// before `today` so that it is in force.
pub fn demo_program(today: Date) -> String {
    let starts = today.checked_sub(730.days()).unwrap_or(today);
    let sunset = starts.checked_add(5.years()).and_then(|d| d.checked_sub(1.day())).unwrap_or(today);
    let selected = DEMO_SELECTED_CLASSES;
    format!(
        r#"id = "visitor-entry-exit"
title = "Visitor entry-exit registration (synthetic demo)"
legal_basis = "Synthetic demo authority; not a real legal instrument"
starts = {starts}
sunset = {sunset}

[selection]
admission_class = {selected:?}

[capture]
face = true
fingerprints = 4
fingerprints_min_age = 12

[[obligations]]
kind = "record-departure"
within_days = 0

[stay]
rule = "90/180"

[retention]
after_last_exit = "3y"
overstayer = "5y"
"#
    )
}

pub fn seed(registry: &Registry, n: usize) -> Result<()> {
    let bar = crate_progress(n as u64);
    let seeded = seed_with(registry, n, Timestamp::now(), &|d| bar.set_position(d))?;
    bar.finish_and_clear();
    println!("seeded {n} synthetic travellers ({} ledger leaves)", seeded.leaves);
    if let Some((number, code)) = seeded.portal_sample {
        println!(
            "portal of a synthetic traveller (POST /portal/activate with a passphrase of your choice): registration {number}, access code {code}"
        );
    }
    Ok(())
}

fn crate_progress(len: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(len)
    } else {
        indicatif::ProgressBar::hidden()
    };
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("seeding demo [{bar:40}] {pos}/{len} travellers ({eta} left)")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Create one demo account per staff role and print their credentials.
pub fn accounts(registry: &Registry) -> Result<()> {
    let mut rng = rand::rngs::OsRng;
    let operator = Actor::system("demo");
    println!("\nDemo accounts (shown once). Web sign-in: name + password. API: `Authorization: Bearer TOKEN`.");
    for (role, agency) in [
        (Role::Officer, "Demo Border Agency"),
        (Role::Supervisor, "Demo Border Agency"),
        (Role::Adjudicator, "Demo Benefits Office"),
        (Role::Auditor, "Demo Inspector General"),
        (Role::Approver, "Demo Oversight Board"),
        (Role::Admin, "Demo Border Agency"),
    ] {
        let password: String = (0..16).map(|_| rng.sample(rand::distributions::Alphanumeric) as char).collect();
        let name = format!("demo-{role}");
        let mut secret = [0u8; 64];
        rng.fill_bytes(&mut secret);
        let token = registry.add_user(Timestamp::now(), &operator, &name, role, agency, Some(&password), secret)?.token;
        println!("  {name:18} password {password}  token {token}");
    }
    println!();
    // Each account is a ledger event: fold them into the compaction mark and sign,
    // as seeding did for the travellers.
    registry.compact_stay_facts()?;
    registry.sign_checkpoint(Timestamp::now())?;
    Ok(())
}
