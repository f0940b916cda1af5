//! Obligations over whole timelines with fixed dates: on time, late with and without
//! notice, excused, repealed mid-way, not required, a determination refused without
//! notice; and the properties that no notice means nothing overdue and that repeal
//! leaves nothing admissible.

use fairgate_core::obligation::*;
use fairgate_core::program::lang::{compile, Change};
use jiff::civil::{date, Date};
use proptest::prelude::*;

/// A re-registration program for visa-waiver visitors: register within 5 days of
/// entry, re-register every 30 days, record the departure, report an address change
/// within 10 days.
fn program(id: &str) -> fairgate_core::program::lang::ProgramSpec {
    compile(&format!(
        r#"id = "{id}"
title = "Visitors"
legal_basis = "Act"
starts = 2027-01-01
sunset = 2028-12-31
[selection]
admission_class = ["WT"]
[[obligations]]
kind = "register"
within_days = 5
[[obligations]]
kind = "reregister"
every_days = 30
[[obligations]]
kind = "record-departure"
within_days = 0
[[obligations]]
kind = "report-change"
within_days = 10
changes = ["address"]
"#
    ))
    .unwrap()
}

fn term() -> Term {
    Term { spec: program("visitor-2027"), from: date(2027, 1, 1), until: None }
}

/// Entered 2027-02-01 as WT, admitted until 2027-05-01, registered on arrival.
fn visitor() -> Facts {
    Facts {
        birth_date: Some(date(1990, 1, 1)),
        registrations: vec![date(2027, 2, 1)],
        entries: vec![(date(2027, 2, 1), Some("WT".into()), Some(date(2027, 5, 1)))],
        ..Facts::default()
    }
}

fn get<'a>(os: &'a [Obligation], key: &str) -> &'a Obligation {
    os.iter().find(|o| o.key == key).unwrap_or_else(|| panic!("no {key} in {os:#?}"))
}

const REREG: &str = "visitor-2027/v1/obligations[1]/1";

fn served(key: &str, on: Date) -> Notice {
    Notice {
        obligation: key.into(),
        channel: Channel::Mail,
        served_on: on,
        proof: None,
        acknowledged_on: on.checked_add(jiff::Span::new().days(2)).ok(),
    }
}

#[test]
fn registered_on_time() {
    let mut f = visitor();
    f.registrations.push(date(2027, 2, 25));
    let os = obligations(&[term()], &f, date(2027, 3, 10));
    assert_eq!(get(&os, "visitor-2027/v1/obligations[0]/1").state, State::Met);
    let o = get(&os, REREG);
    assert_eq!((o.due, o.state, o.met_on), (date(2027, 3, 3), State::Met, Some(date(2027, 2, 25))));
    // The next one is counted from the re-registration.
    let next = get(&os, "visitor-2027/v1/obligations[1]/2");
    assert_eq!((next.due, next.state), (date(2027, 3, 27), State::Pending));
}

#[test]
fn late_with_notice_is_overdue_and_explained() {
    let mut f = visitor();
    f.notices.push(served(REREG, date(2027, 2, 10)));
    let o = get(&obligations(&[term()], &f, date(2027, 3, 10)), REREG).clone();
    assert_eq!(o.state, State::Overdue);
    assert_eq!(
        o.explanation,
        "Re-registration was due on 2027-03-03 under program visitor-2027 v1, clause obligations[1]. Notice served by mail on 2027-02-10 (acknowledged 2027-02-12). No re-registration recorded. Overdue since 2027-03-04."
    );
}

#[test]
fn late_without_notice_is_never_overdue() {
    let o = get(&obligations(&[term()], &visitor(), date(2027, 6, 1)), REREG).clone();
    assert_eq!(o.state, State::Pending);
    assert!(o.explanation.contains("No notice has been served, so it cannot become overdue"), "{}", o.explanation);
}

#[test]
fn a_notice_served_late_moves_the_due_date() {
    let mut f = visitor();
    f.notices.push(served(REREG, date(2027, 2, 28)));
    let o = get(&obligations(&[term()], &f, date(2027, 3, 8)), REREG).clone();
    assert_eq!((o.due, o.effective_due, o.state), (date(2027, 3, 3), date(2027, 3, 10), State::Pending));
    assert!(o.explanation.contains("the due date moved to 2027-03-10"), "{}", o.explanation);
    assert_eq!(get(&obligations(&[term()], &f, date(2027, 3, 11)), REREG).state, State::Overdue);
    // A notice without proof or acknowledgement is not served.
    let mut g = visitor();
    g.notices.push(Notice { acknowledged_on: None, ..served(REREG, date(2027, 2, 10)) });
    assert_eq!(get(&obligations(&[term()], &g, date(2027, 4, 1)), REREG).state, State::Pending);
}

#[test]
fn excused_for_good_cause() {
    let mut f = visitor();
    f.notices.push(served(REREG, date(2027, 2, 10)));
    f.excuses.push(Excuse {
        obligation: REREG.into(),
        category: "medical".into(),
        text: "In hospital".into(),
        approved_on: Some(date(2027, 3, 5)),
    });
    let os = obligations(&[term()], &f, date(2027, 3, 10));
    assert_eq!(get(&os, REREG).state, State::Excused);
    assert!(clearance(&os, &f).is_empty(), "nothing excused is admissible");
    // Not yet approved: it does not count.
    f.excuses[0].approved_on = None;
    assert_eq!(get(&obligations(&[term()], &f, date(2027, 3, 10)), REREG).state, State::Overdue);
}

#[test]
fn repeal_mid_way_voids_open_obligations_and_clears_the_record() {
    let mut f = visitor();
    f.notices.push(served(REREG, date(2027, 2, 10)));
    let before = obligations(&[term()], &f, date(2027, 3, 10));
    assert_eq!(get(&before, REREG).state, State::Overdue);
    assert_eq!(clearance(&before, &f).len(), 1);
    let repealed = Term { until: Some((date(2027, 3, 15), Ending::Repealed)), ..term() };
    let after = obligations(&[repealed], &f, date(2027, 3, 20));
    let o = get(&after, REREG);
    assert_eq!(o.state, State::Void);
    assert!(o.explanation.contains("Void since 2027-03-15: the program was repealed"), "{}", o.explanation);
    assert_eq!(get(&after, "visitor-2027/v1/obligations[0]/1").state, State::Met, "what was done stays done");
    assert!(clearance(&after, &f).is_empty());
}

#[test]
fn a_person_not_selected_is_told_why() {
    let mut f = visitor();
    f.entries[0].1 = Some("F-1".into());
    assert!(obligations(&[term()], &f, date(2027, 3, 10)).is_empty());
    let why = explain_selection(&term(), &f, date(2027, 3, 10)).unwrap_err();
    assert_eq!(why, ["selection.admission_class: the program selects WT; the person's latest admission is F-1"]);
    assert_eq!(explain_selection(&term(), &visitor(), date(2027, 3, 10)), Ok(date(2027, 2, 1)));
}

#[test]
fn a_determination_needs_a_served_notice_reasons_and_evidence() {
    let f = visitor();
    let os = obligations(&[term()], &f, date(2027, 6, 1));
    let e = check_determination(&os, REREG, "Did not come", &["notice of 2027-02-10".into()]).unwrap_err();
    assert_eq!(e, DeterminationRefusal::NoNotice(REREG.into()));
    let mut g = visitor();
    g.notices.push(served(REREG, date(2027, 2, 10)));
    let os = obligations(&[term()], &g, date(2027, 6, 1));
    assert_eq!(check_determination(&os, REREG, "", &["n".into()]), Err(DeterminationRefusal::NoReasons));
    assert_eq!(check_determination(&os, REREG, "r", &[]), Err(DeterminationRefusal::NoEvidence));
    assert!(check_determination(&os, REREG, "Moved twice; letters returned", &["notice 2027-02-10".into()]).is_ok());
    assert!(matches!(
        check_determination(&os, "nope", "r", &["e".into()]),
        Err(DeterminationRefusal::NoSuchObligation(_))
    ));
}

#[test]
fn departures_and_change_reports() {
    let mut f = visitor();
    f.exits.push(date(2027, 5, 3));
    f.change_reports.push(ChangeReport {
        change: Change::Address,
        changed_on: date(2027, 3, 1),
        reported_on: date(2027, 3, 20),
    });
    let os = obligations(&[term()], &f, date(2027, 6, 1));
    let dep = get(&os, "visitor-2027/v1/obligations[2]/1");
    assert_eq!((dep.due, dep.state, dep.met_on), (date(2027, 5, 1), State::Met, Some(date(2027, 5, 3))));
    assert!(dep.explanation.contains("(after the due date)"), "{}", dep.explanation);
    let change = get(&os, "visitor-2027/v1/obligations[3]/1");
    assert_eq!((change.due, change.state), (date(2027, 3, 11), State::Met));
    // Reported 19 days after the change, against 10 allowed: counted from the change
    // date the person (or an officer) recorded, not from the day it was reported.
    assert!(change.explanation.contains("(after the due date)"), "{}", change.explanation);
    // A change nobody reported is not a fact: there is no obligation for it at all.
    let mut unreported = visitor();
    unreported.exits.push(date(2027, 5, 3));
    let os = obligations(&[term()], &unreported, date(2027, 6, 1));
    assert!(os.iter().all(|o| !o.key.starts_with("visitor-2027/v1/obligations[3]/")), "{os:?}");
}

fn any_facts() -> impl Strategy<Value = Facts> {
    (
        proptest::collection::vec(0i64..200, 0..4),
        proptest::collection::vec((0i64..200, 0u8..3, proptest::option::of(0i64..120)), 0..3),
        proptest::collection::vec(0i64..250, 0..3),
        proptest::collection::vec((0u8..4, 0i64..250, any::<bool>()), 0..4),
        proptest::collection::vec((0u8..4, proptest::option::of(0i64..250)), 0..3),
    )
        .prop_map(|(regs, entries, exits, notices, excuses)| {
            let d = |n: i64| date(2027, 1, 1).checked_add(jiff::Span::new().days(n)).unwrap();
            let key = |k: u8| format!("visitor-2027/v1/obligations[{}]/1", k);
            Facts {
                birth_date: Some(date(1990, 1, 1)),
                registrations: regs.into_iter().map(d).collect(),
                entries: entries
                    .into_iter()
                    .map(|(e, c, u)| (d(e), Some(["WT", "F-1", "B-2"][c as usize].into()), u.map(|u| d(e + u))))
                    .collect(),
                exits: exits.into_iter().map(d).collect(),
                notices: notices
                    .into_iter()
                    .map(|(k, on, ack)| Notice {
                        obligation: key(k),
                        channel: Channel::Mail,
                        served_on: d(on),
                        proof: None,
                        acknowledged_on: ack.then(|| d(on)),
                    })
                    .collect(),
                excuses: excuses
                    .into_iter()
                    .map(|(k, a)| Excuse {
                        obligation: key(k),
                        category: "c".into(),
                        text: "t".into(),
                        approved_on: a.map(d),
                    })
                    .collect(),
                ..Facts::default()
            }
        })
}

proptest! {
    /// With no served notice, nothing is ever overdue, whatever else happened.
    #[test]
    fn with_no_served_notice_nothing_is_ever_overdue(mut f in any_facts(), on in 0i64..400) {
        for n in &mut f.notices {
            n.acknowledged_on = None;
            n.proof = None;
        }
        let on = date(2027, 1, 1).checked_add(jiff::Span::new().days(on)).unwrap();
        for o in obligations(&[term()], &f, on) {
            prop_assert_ne!(o.state, State::Overdue, "{}", o);
        }
    }

    /// After a repeal, no fact from that program is admissible in clearance.
    #[test]
    fn repeal_leaves_no_admissible_fact(f in any_facts(), repeal in 0i64..200, later in 0i64..200) {
        let d = |n: i64| date(2027, 1, 1).checked_add(jiff::Span::new().days(n)).unwrap();
        let mut f = f;
        f.determinations.push(Determination {
            obligation: REREG.into(), finding: Finding::Willful, reasons: "r".into(), evidence: vec!["e".into()], made_on: d(repeal),
        });
        let repealed = Term { until: Some((d(repeal), Ending::Repealed)), ..term() };
        let os = obligations(&[repealed], &f, d(repeal + later));
        prop_assert!(clearance(&os, &f).is_empty(), "{:#?}", os);
        for o in &os {
            prop_assert!(matches!(o.state, State::Met | State::Void), "{}", o);
        }
    }

    /// The same facts and day always give the same answer (the daily run relies on it).
    #[test]
    fn obligations_are_a_function_of_the_facts(f in any_facts(), on in 0i64..400) {
        let on = date(2027, 1, 1).checked_add(jiff::Span::new().days(on)).unwrap();
        prop_assert_eq!(obligations(&[term()], &f, on), obligations(&[term()], &f, on));
    }
}

#[test]
fn a_program_may_ask_for_a_longer_notice_period_but_not_a_shorter_one() {
    let src = |days: u32| {
        format!(
            "id = \"vvv\"\ntitle = \"V\"\nlegal_basis = \"A\"\nstarts = 2027-01-01\nsunset = 2028-01-01\nnotice_days = {days}\n[selection]\nadmission_class = [\"WT\"]\n[[obligations]]\nkind = \"reregister\"\nevery_days = 30\n"
        )
    };
    assert!(compile(&src(5)).unwrap_err().0[0].message.contains("from 10 to 180"));
    let term = Term { spec: compile(&src(21)).unwrap(), from: date(2027, 1, 1), until: None };
    let mut f = visitor();
    f.notices.push(served("vvv/v1/obligations[0]/1", date(2027, 2, 20)));
    let o = &obligations(&[term], &f, date(2027, 3, 5))[0];
    assert_eq!((o.due, o.effective_due), (date(2027, 3, 3), date(2027, 3, 13)));
    assert!(o.explanation.contains("fewer than 21 days"), "{}", o.explanation);
}

#[test]
fn activity_is_attributed_to_the_program_that_selected_the_person_while_it_did() {
    let mut f = visitor();
    f.registered_at = vec![(date(2026, 12, 1), "NYC-FO".into()), (date(2027, 2, 1), "JFK".into())];
    f.designated_at = vec![(date(2027, 3, 1), "JFK".into())];
    let crossings = vec![(date(2027, 2, 1), "JFK".to_string()), (date(2027, 5, 3), "MIA".to_string())];
    let repealed = Term { until: Some((date(2027, 4, 1), Ending::Repealed)), ..term() };
    let mut got = Vec::new();
    program_activity(
        &[repealed],
        &f,
        &crossings,
        Some((date(2027, 3, 20), Some("JFK".into()))),
        date(2027, 6, 1),
        |a, p, place, d| got.push((a, p.to_string(), place.to_string(), d)),
    );
    let p = "visitor-2027".to_string();
    assert_eq!(
        got,
        vec![
            ("registrations", p.clone(), "JFK".to_string(), date(2027, 2, 1)),
            ("crossings", p.clone(), "JFK".to_string(), date(2027, 2, 1)),
            ("designations", p.clone(), "JFK".to_string(), date(2027, 3, 1)),
            ("overstays", p, "JFK".to_string(), date(2027, 3, 20)),
        ],
        "the registration before selection and the exit after the repeal do not count"
    );
}

/// A 30-day interview program: the interview is met by an interview, not by a
/// registration, and counts from the last one held.
fn interviews() -> Term {
    let spec = compile(
        r#"id = "interviews"
title = "Interviews"
legal_basis = "Act"
starts = 2027-01-01
sunset = 2028-12-31
[selection]
admission_class = ["WT"]
[interview]
questions = ["Where do you live?"]
[[obligations]]
kind = "interview"
every_days = 30
"#,
    )
    .unwrap();
    Term { spec, from: date(2027, 1, 1), until: None }
}

#[test]
fn an_interview_is_met_by_an_interview_every_30_days() {
    let mut f = visitor();
    f.registrations.push(date(2027, 2, 20));
    let os = obligations(&[interviews()], &f, date(2027, 3, 10));
    let first = get(&os, "interviews/v1/obligations[0]/1");
    assert_eq!((first.due, first.state), (date(2027, 3, 3), State::Pending), "a registration is no interview");
    assert!(first.explanation.starts_with("An interview was due on 2027-03-03"), "{}", first.explanation);
    f.interviews.push(date(2027, 3, 1));
    let os = obligations(&[interviews()], &f, date(2027, 3, 10));
    assert_eq!(get(&os, "interviews/v1/obligations[0]/1").state, State::Met);
    assert_eq!(get(&os, "interviews/v1/obligations[0]/2").due, date(2027, 3, 31), "counted from the interview");
}

#[test]
fn a_slot_the_system_gives_after_the_deadline_moves_it_and_the_persons_own_choice_does_not() {
    use fairgate_core::appointment::{Appointment, BookedBy, Slot};
    let key = "interviews/v1/obligations[0]/1";
    let booking = |day: Date, by| Appointment {
        obligation: key.into(),
        slot: Slot { office: "NYC-FO".into(), day, start: 540, minutes: 30 },
        by,
        extend_days: 0,
    };
    let mut f = visitor();
    f.notices.push(served(key, date(2027, 2, 1)));
    f.appointments.push(booking(date(2027, 3, 8), BookedBy::Notice));
    let o = get(&obligations(&[interviews()], &f, date(2027, 3, 6)), key).clone();
    assert_eq!((o.due, o.effective_due), (date(2027, 3, 3), date(2027, 3, 8)));
    assert_eq!(o.state, State::Pending, "not overdue while the system's own slot is ahead");
    assert!(o.explanation.contains("Appointment: 2027-03-08 09:00-09:30 at NYC-FO (notice)"), "{}", o.explanation);
    f.appointments.push(booking(date(2027, 3, 2), BookedBy::Portal));
    let o = get(&obligations(&[interviews()], &f, date(2027, 3, 6)), key).clone();
    assert_eq!((o.effective_due, o.state), (date(2027, 3, 3), State::Overdue));
}
