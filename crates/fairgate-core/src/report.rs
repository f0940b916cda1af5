//! The public transparency report's rules: which non-identifying tallies each event
//! contributes to, and which cells may be published. Cells under [`MIN_CELL`] are
//! suppressed; totals are only ever sums of published cells, so a suppressed cell
//! cannot be recovered by subtraction.

use jiff::Timestamp;
use serde::Serialize;

use crate::event::Event;

/// The smallest count that is published; smaller cells are suppressed.
pub const MIN_CELL: u64 = 10;

/// What a tally counts, and the names of its (up to three) dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Reads of personal data, by agency, role and purpose, in the month they happened.
    DataUse,
    /// Registrations, by place and kind, in the month they happened.
    Registrations,
    /// Crossings, by port and direction, in the month of the crossing (UTC).
    Crossings,
    /// Ledger leaves, by event kind, in the month they were recorded. Anyone can
    /// recompute these from the clear headers served at `/log/leaves`.
    LogEvents,
    /// People with an overstay on record on the report's day, by the port of entry
    /// of the stay in which it began, the stay rule, and the month of its first day
    /// (local calendar at that port). Not a ledger tally: computed by the overstay
    /// sweep once a day.
    Overstays,
    /// Individual designations, by place and reason, in the month they were made.
    Designations,
    /// Expungement certificates, by scope (subject or program), in the month issued.
    /// The total is the number of `expunged` leaves.
    Expungements,
    /// Registrations, crossings, designations and overstays of the people each
    /// program selects, by program and port or office, in the month they happened
    /// (an overstay: the month it began). Computed once a day from sealed records.
    ProgramActivity,
    /// Office visits, by office, ISO week (office calendar) and measure: `served`,
    /// `sent-elsewhere`, `missed` (appointments), or a wait band such as `<=15`
    /// (minutes from arrival, or from the slot's start, to being called).
    DeskQueue,
}

impl Metric {
    pub const ALL: [Metric; 9] = [
        Metric::DataUse,
        Metric::Registrations,
        Metric::Crossings,
        Metric::LogEvents,
        Metric::Overstays,
        Metric::Designations,
        Metric::Expungements,
        Metric::ProgramActivity,
        Metric::DeskQueue,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Metric::DataUse => "data-use",
            Metric::Registrations => "registrations",
            Metric::Crossings => "crossings",
            Metric::LogEvents => "log-events",
            Metric::Overstays => "overstays",
            Metric::Designations => "designations",
            Metric::Expungements => "expungements",
            Metric::ProgramActivity => "program-activity",
            Metric::DeskQueue => "desk-queue",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Names of the dimensions in use (the rest are empty strings).
    pub fn dimensions(&self) -> &'static [&'static str] {
        match self {
            Metric::DataUse => &["agency", "role", "purpose"],
            Metric::Registrations => &["place", "kind"],
            Metric::Crossings => &["port", "direction"],
            Metric::LogEvents => &["event"],
            Metric::Overstays => &["port", "rule"],
            Metric::Designations => &["place", "reason"],
            Metric::Expungements => &["scope"],
            Metric::ProgramActivity => &["activity", "program", "place"],
            Metric::DeskQueue => &["office", "week", "measure"],
        }
    }
}

/// One increment of one cell.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TallyKey {
    pub metric: Metric,
    pub dims: [String; 3],
    /// `YYYY-MM`, UTC.
    pub month: String,
}

pub fn month_of(t: Timestamp) -> String {
    month_label(month_index(t))
}

/// A tally an event adds to, borrowing from the event (no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TallyRef<'a> {
    pub metric: Metric,
    pub dims: [&'a str; 3],
    /// Year * 12 + (month - 1), UTC.
    pub month: i32,
}

impl TallyRef<'_> {
    pub fn to_key(&self) -> TallyKey {
        TallyKey { metric: self.metric, dims: self.dims.map(str::to_string), month: month_label(self.month) }
    }
}

/// Year * 12 + (month - 1) of an instant, UTC.
pub fn month_index(t: Timestamp) -> i32 {
    let d = jiff::tz::Offset::UTC.to_datetime(t);
    i32::from(d.year()) * 12 + i32::from(d.month()) - 1
}

/// `YYYY-MM` of a [`month_index`].
pub fn month_label(index: i32) -> String {
    format!("{:04}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1)
}

/// The name of an event kind in the log-event table.
pub fn kind_name(kind: crate::event::EventKind) -> &'static str {
    use crate::event::EventKind as K;
    match kind {
        K::SubjectCreated => "subject-created",
        K::RegistrationRecorded => "registration-recorded",
        K::CrossingRecorded => "crossing-recorded",
        K::PersonalDataAccessed => "personal-data-accessed",
        K::ProgramActivated => "program-activated",
        K::ProgramDrafted => "program-drafted",
        K::ProgramSignedOff => "program-signed-off",
        K::ProgramRepealed => "program-repealed",
        K::SubjectDesignated => "subject-designated",
        K::DesignationReviewed => "designation-reviewed",
        K::NoticeServed => "notice-served",
        K::ObligationExcused => "obligation-excused",
        K::ExcuseApproved => "excuse-approved",
        K::DeterminationRecorded => "determination-recorded",
        K::ChangeReported => "change-reported",
        K::NoticeIssued => "notice-issued",
        K::ExpungementApproved => "expungement-approved",
        K::Expunged => "expunged",
        K::CorrectionRequested => "correction-requested",
        K::CorrectionAnswered => "correction-answered",
        K::LawEnforcementRequested => "law-enforcement-requested",
        K::LawEnforcementDecided => "law-enforcement-decided",
        K::ExpungementNoticed => "expungement-noticed",
        K::MasterKeyRotated => "master-key-rotated",
        K::ImportRecorded => "import-recorded",
        K::PortalActivated => "portal-activated",
        K::AccessCodeReissued => "access-code-reissued",
        K::AccountChanged => "account-changed",
        K::AccessAttempted => "access-attempted",
        K::AuthorityListed => "authority-listed",
        K::ErasureComplete => "erasure-complete",
        K::DocumentAdded => "document-added",
        K::PlaceSet => "place-set",
        K::PlaceClosed => "place-closed",
        K::AppointmentBooked => "appointment-booked",
        K::AppointmentMissed => "appointment-missed",
        K::DeskStep => "desk-step",
        K::InterviewRecorded => "interview-recorded",
        K::ContactSet => "contact-set",
        K::NoticeDelivered => "notice-delivered",
        K::AppointmentReleased => "appointment-released",
        K::ComparisonRecorded => "comparison-recorded",
        K::IdentificationSearched => "identification-searched",
        K::IdentificationDecided => "identification-decided",
    }
}

/// Call `f` for each tally an event adds to. `recorded_at` is the timestamp in its
/// leaf header.
pub fn for_each_tally<'a>(event: &'a Event, recorded_at: Timestamp, mut f: impl FnMut(TallyRef<'a>)) {
    let kind = kind_name(event.kind());
    f(TallyRef { metric: Metric::LogEvents, dims: [kind, "", ""], month: month_index(recorded_at) });
    match event {
        Event::PersonalDataAccessed(e) => f(TallyRef {
            metric: Metric::DataUse,
            dims: [&e.actor.agency, e.actor.role.as_str(), e.purpose.as_str()],
            month: month_index(recorded_at),
        }),
        // A lookup that found nobody is a use of the system like one that found
        // someone: the data-use table does not tell them apart.
        Event::AccessAttempted(e)
            if matches!(e.outcome, crate::event::AttemptOutcome::NoMatch | crate::event::AttemptOutcome::Match) =>
        {
            f(TallyRef {
                metric: Metric::DataUse,
                dims: [&e.actor.agency, e.actor.role.as_str(), e.purpose.as_str()],
                month: month_index(recorded_at),
            })
        }
        Event::RegistrationRecorded(e) => f(TallyRef {
            metric: Metric::Registrations,
            dims: [&e.registration.place, e.registration.kind.as_str(), ""],
            month: month_index(e.registration.at),
        }),
        Event::CrossingRecorded(e) => f(TallyRef {
            metric: Metric::Crossings,
            dims: [&e.crossing.port, e.crossing.direction.as_str(), ""],
            month: month_index(e.crossing.at),
        }),
        Event::Expunged(e) => f(TallyRef {
            metric: Metric::Expungements,
            dims: [
                match e.scope {
                    crate::expungement::Scope::Subject { .. } => "subject",
                    crate::expungement::Scope::Program { .. } => "program",
                },
                "",
                "",
            ],
            month: month_index(recorded_at),
        }),
        Event::SubjectDesignated(e) => f(TallyRef {
            metric: Metric::Designations,
            dims: [&e.designation.place, e.designation.reason.as_str(), ""],
            month: month_index(e.at),
        }),
        Event::DeskStep(e) => {
            let measure = match &e.step {
                crate::event::Step::Called { waited, .. } => crate::appointment::wait_band(*waited),
                crate::event::Step::Served => "served",
                crate::event::Step::SentElsewhere { .. } => "sent-elsewhere",
                crate::event::Step::CheckIn { .. } => return,
            };
            f(TallyRef { metric: Metric::DeskQueue, dims: [&e.office, &e.week, measure], month: month_index(e.at) })
        }
        Event::AppointmentMissed(e) => f(TallyRef {
            metric: Metric::DeskQueue,
            dims: [&e.slot.office, &e.week, "missed"],
            month: month_index(recorded_at),
        }),
        Event::SubjectCreated(_)
        | Event::AppointmentBooked(_)
        | Event::InterviewRecorded(_)
        | Event::ContactSet(_)
        | Event::NoticeDelivered(_)
        | Event::AppointmentReleased(_)
        | Event::ComparisonRecorded(_)
        | Event::IdentificationSearched(_)
        | Event::IdentificationDecided(_)
        | Event::DesignationReviewed(_)
        | Event::NoticeServed(_)
        | Event::ObligationExcused(_)
        | Event::ExcuseApproved(_)
        | Event::DeterminationRecorded(_)
        | Event::ChangeReported(_)
        | Event::NoticeIssued(_)
        | Event::ExpungementApproved(_)
        | Event::CorrectionRequested(_)
        | Event::CorrectionAnswered(_)
        | Event::LawEnforcementRequested(_)
        | Event::LawEnforcementDecided(_)
        | Event::ExpungementNoticed(_)
        | Event::MasterKeyRotated(_)
        | Event::ImportRecorded(_)
        | Event::PortalActivated(_)
        | Event::AccessCodeReissued(_)
        | Event::AccountChanged(_)
        | Event::AccessAttempted(_)
        | Event::AuthorityListed(_)
        | Event::ErasureComplete(_)
        | Event::DocumentAdded(_)
        | Event::PlaceSet(_)
        | Event::PlaceClosed(_)
        | Event::ProgramActivated(_)
        | Event::ProgramDrafted(_)
        | Event::ProgramSignedOff(_)
        | Event::ProgramRepealed(_) => {}
    }
}

/// Raw overstay tallies from one sweep's `(port of entry, rule, first day)` per
/// overstayer, ready for [`publish`]. An unknown port is counted as `unknown`.
pub fn overstay_tallies<'a>(
    overstays: impl IntoIterator<Item = (Option<&'a str>, &'a str, jiff::civil::Date)>,
) -> Vec<([String; 3], String, u64)> {
    let mut cells: std::collections::HashMap<(&str, &str, i32), u64> = Default::default();
    for (port, rule, first_day) in overstays {
        let month = i32::from(first_day.year()) * 12 + i32::from(first_day.month()) - 1;
        *cells.entry((port.unwrap_or("unknown"), rule, month)).or_default() += 1;
    }
    cells
        .into_iter()
        .map(|((port, rule, month), n)| ([port.to_string(), rule.to_string(), String::new()], month_label(month), n))
        .collect()
}

/// A published cell: the count, or `None` when it is under [`MIN_CELL`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// Dimension values, in the order of [`Metric::dimensions`].
    pub dims: Vec<String>,
    pub month: String,
    pub count: Option<u64>,
}

/// Apply suppression to raw tallies of one metric, in a stable order.
pub fn publish(metric: Metric, raw: impl IntoIterator<Item = ([String; 3], String, u64)>) -> Vec<Cell> {
    let n = metric.dimensions().len();
    let mut cells: Vec<Cell> = raw
        .into_iter()
        .map(|(dims, month, count)| Cell {
            dims: dims[..n].to_vec(),
            month,
            count: (count >= MIN_CELL).then_some(count),
        })
        .collect();
    cells.sort_by(|a, b| (&a.month, &a.dims).cmp(&(&b.month, &b.dims)));
    cells
}

/// Per month, the sum of the *published* cells only.
pub fn published_monthly_totals(cells: &[Cell]) -> Vec<(String, u64)> {
    let mut totals: std::collections::BTreeMap<String, u64> = Default::default();
    for c in cells {
        if let Some(n) = c.count {
            *totals.entry(c.month.clone()).or_default() += n;
        }
    }
    totals.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dims(a: &str) -> [String; 3] {
        [a.to_string(), String::new(), String::new()]
    }

    #[test]
    fn small_cells_are_suppressed_and_totals_use_only_published_cells() {
        let cells = publish(
            Metric::LogEvents,
            [(dims("a"), "2026-10".into(), 9), (dims("b"), "2026-10".into(), 10), (dims("c"), "2026-11".into(), 250)],
        );
        assert_eq!(cells[0].count, None);
        assert_eq!(cells[1].count, Some(10));
        assert_eq!(published_monthly_totals(&cells), vec![("2026-10".into(), 10), ("2026-11".into(), 250)]);
        assert_eq!(cells[0].dims, vec!["a".to_string()], "only the metric's own dimensions are published");
    }

    #[test]
    fn month_is_utc() {
        assert_eq!(month_of("2026-10-31T23:30:00-05:00".parse().unwrap()), "2026-11");
        assert_eq!(month_of("2026-12-31T12:00:00Z".parse().unwrap()), "2026-12");
        assert_eq!(month_label(month_index("2027-01-01T00:00:00Z".parse().unwrap())), "2027-01");
    }

    #[test]
    fn overstays_are_grouped_by_port_rule_and_the_month_they_began() {
        use jiff::civil::date;
        let mut rows: Vec<(Option<&str>, &str, jiff::civil::Date)> = (1..=12)
            .map(|i| (Some("JFK"), "admitted-until", date(2026, 9, i)))
            .chain([(Some("JFK"), "admitted-until", date(2026, 10, 1)), (None, "90/180", date(2026, 9, 30))])
            .collect();
        rows.push((Some("JFK"), "90/180", date(2026, 9, 2)));
        let cells = publish(Metric::Overstays, overstay_tallies(rows));
        let got: Vec<(Vec<String>, &str, Option<u64>)> =
            cells.iter().map(|c| (c.dims.clone(), c.month.as_str(), c.count)).collect();
        let d = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
        assert_eq!(
            got,
            vec![
                (d("JFK", "90/180"), "2026-09", None),
                (d("JFK", "admitted-until"), "2026-09", Some(12)),
                (d("unknown", "90/180"), "2026-09", None),
                (d("JFK", "admitted-until"), "2026-10", None),
            ]
        );
    }

    proptest! {
        /// No published number is ever below the threshold, and no suppressed cell
        /// can be recovered: the published total of a month equals the sum of its
        /// published cells.
        #[test]
        fn nothing_under_the_threshold_is_published(counts in proptest::collection::vec((0u64..40, 0u8..3), 0..30)) {
            let raw: Vec<_> = counts.iter().enumerate().map(|(i, (c, m))| (dims(&i.to_string()), format!("2026-0{}", m + 1), *c)).collect();
            let cells = publish(Metric::LogEvents, raw);
            prop_assert!(cells.iter().all(|c| c.count.is_none_or(|n| n >= MIN_CELL)));
            for (month, total) in published_monthly_totals(&cells) {
                let sum: u64 = cells.iter().filter(|c| c.month == month).filter_map(|c| c.count).sum();
                prop_assert_eq!(total, sum);
            }
        }
    }
}

/// One CSV cell, safe to open in a spreadsheet: quoted when it holds a comma, quote
/// or line break, and a cell that a spreadsheet would run as a formula (starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`, so it
/// shows as text. Numbers are left alone (a negative count is still a number).
pub fn csv_cell(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err();
    let s = if formula { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod csv_tests {
    use super::csv_cell;
    use proptest::prelude::*;

    #[test]
    fn formulas_become_text() {
        assert_eq!(csv_cell("=HYPERLINK(\"http://x\",\"y\")"), "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
        assert_eq!(csv_cell("+1+1"), "'+1+1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-2"), "-2", "a number stays a number");
        assert_eq!(csv_cell("Border Agency"), "Border Agency");
    }

    proptest! {
        /// No cell, whatever its text, starts with a character that makes a formula.
        #[test]
        fn no_cell_starts_a_formula(s in ".{0,40}") {
            let c = csv_cell(&s);
            // What a spreadsheet reads: the cell unquoted.
            let read = match c.strip_prefix('"').and_then(|c| c.strip_suffix('"')) {
                Some(inner) => inner.replace("\"\"", "\""),
                None => c.clone(),
            };
            let formula = read.starts_with(['=', '+', '-', '@', '\t', '\r']);
            prop_assert!(!formula || s.parse::<f64>().is_ok(), "{c}");
        }
    }
}
