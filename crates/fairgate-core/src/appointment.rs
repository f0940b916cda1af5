//! Appointments and the desk queue: the pure rules of an office visit.
//!
//! - **Slots.** An office's day is cut, per service kind, into slots of that
//!   service's minutes from opening time; a slot is free while fewer bookings
//!   overlap it than the office has desks. [`earliest_slot`] finds the first free
//!   slot between two days.
//! - **The system never makes anyone late.** A slot the system chose (with a
//!   notice, after a missed appointment, or after a closure) that falls after the
//!   deadline moves the deadline to the slot's day ([`system_deadline`]). A slot
//!   the person chose must end by the deadline.
//! - **A missed appointment is never a penalty.** [`missed`] says when one was
//!   missed; the daily run then books a new slot and issues a new notice.
//! - **The queue.** People with an appointment due are called first, in slot
//!   order; walk-ins are called in arrival order when no appointment is waiting
//!   ([`next_in_line`]). The wait counts from arrival, or from the slot's start for
//!   someone who came early ([`wait_minutes`]).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::place::{Place, ServiceKind};
use crate::program::lang::ObligationKind;

/// One booked visit: an office, a day in its calendar, and the minutes after local
/// midnight it starts, for the minutes the service takes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Slot {
    pub office: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2026-12-03"))]
    pub day: Date,
    /// Minutes after local midnight.
    pub start: u16,
    pub minutes: u16,
}

impl Slot {
    pub fn ends(&self) -> u16 {
        self.start.saturating_add(self.minutes)
    }
    /// `09:30`.
    pub fn time(&self) -> String {
        format!("{:02}:{:02}", self.start / 60, self.start % 60)
    }
}

impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = self.ends();
        write!(f, "{} {}-{:02}:{:02} at {}", self.day, self.time(), e / 60, e % 60, self.office)
    }
}

/// Who chose a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BookedBy {
    /// Offered with a notice by the daily run.
    Notice,
    /// The person, in the portal.
    Portal,
    /// Staff at a desk, with the person.
    Desk,
    /// The daily run, after a missed appointment.
    Missed,
    /// Moved because the office closed.
    Closure,
}

impl BookedBy {
    /// Did the system choose the slot (so it may never make the person late)?
    pub fn by_system(self) -> bool {
        matches!(self, BookedBy::Notice | BookedBy::Missed | BookedBy::Closure)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            BookedBy::Notice => "notice",
            BookedBy::Portal => "portal",
            BookedBy::Desk => "desk",
            BookedBy::Missed => "missed",
            BookedBy::Closure => "closure",
        }
    }
}

/// A booking of one obligation, as the person's facts keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub obligation: String,
    pub slot: Slot,
    pub by: BookedBy,
    /// Days the deadline moved because an office closed (0 otherwise).
    #[serde(default)]
    pub extend_days: u16,
}

/// The service an obligation needs at an office; `None` when it is not met at one.
pub fn service_of(kind: ObligationKind) -> Option<ServiceKind> {
    match kind {
        ObligationKind::Register => Some(ServiceKind::Registration),
        ObligationKind::Reregister => Some(ServiceKind::ReRegistration),
        ObligationKind::Interview => Some(ServiceKind::Interview),
        ObligationKind::ReportChange | ObligationKind::RecordDeparture => None,
    }
}

/// Bookings of one office day: (start, minutes, how many).
pub type DayLoad = Vec<(u16, u16, u32)>;

/// The most bookings overlapping at any minute of `[start, start + minutes)`.
pub fn busiest(load: &DayLoad, start: u16, minutes: u16) -> u32 {
    let end = start.saturating_add(minutes);
    let covering = |t: u16| -> u32 {
        load.iter().filter(|(s, m, _)| *s <= t && t < s.saturating_add(*m)).map(|(_, _, n)| *n).sum()
    };
    // The overlap only rises where a booking starts.
    std::iter::once(start)
        .chain(load.iter().map(|(s, _, _)| *s).filter(|s| *s > start && *s < end))
        .map(covering)
        .max()
        .unwrap_or(0)
}

/// The slot starts of `service` at `place` on `day` (none when closed or when the
/// office gives no such service).
pub fn slot_starts(place: &Place, day: Date, service: ServiceKind) -> Vec<u16> {
    let m = place.minutes.of(service);
    match (place.open_on(day), m, place.desks) {
        (Some(h), m, d) if m > 0 && d > 0 => {
            (0..).map(|i| h.opens + i * m).take_while(|s| s.saturating_add(m) <= h.closes).collect()
        }
        _ => Vec::new(),
    }
}

/// The earliest free slot of `service` at `place` from `from` (a day, and the
/// first minute a slot may start that day) through `through` (inclusive). `load`
/// gives an office day's bookings.
pub fn earliest_slot(
    place: &Place,
    service: ServiceKind,
    from: (Date, u16),
    through: Date,
    load: &mut dyn FnMut(Date) -> DayLoad,
) -> Option<Slot> {
    let m = place.minutes.of(service);
    let mut day = from.0;
    // A bound on the walk, whatever `through` says.
    for _ in 0..=400 {
        if day > through {
            return None;
        }
        let starts = slot_starts(place, day, service);
        if !starts.is_empty() {
            let booked = load(day);
            let first = if day == from.0 { from.1 } else { 0 };
            if let Some(s) =
                starts.into_iter().filter(|s| *s >= first).find(|s| busiest(&booked, *s, m) < u32::from(place.desks))
            {
                return Some(Slot { office: place.code.clone(), day, start: s, minutes: m });
            }
        }
        day = day.tomorrow().ok()?;
    }
    None
}

/// The deadline of an obligation once its bookings are counted: closures extend
/// it by their days, and a slot the system chose after it moves it to that slot's
/// day. A slot the person chose never moves it.
pub fn system_deadline(due: Date, bookings: &[&Appointment]) -> Date {
    let extend: i64 = bookings.iter().map(|a| i64::from(a.extend_days)).sum();
    let mut d = due.checked_add(jiff::Span::new().days(extend)).unwrap_or(due);
    if let Some(last) = bookings.last() {
        if last.by.by_system() && last.slot.day > d {
            d = last.slot.day;
        }
    }
    d
}

/// Was the current booking missed by `on`: its day has passed and the person
/// checked in at no office that day (and it was not already recorded as missed)?
pub fn missed(current: &Appointment, check_ins: &[(Date, String)], recorded: &[(String, Date)], on: Date) -> bool {
    current.slot.day < on
        && !check_ins.iter().any(|(d, _)| *d == current.slot.day)
        && !recorded.iter().any(|(k, d)| *k == current.obligation && *d == current.slot.day)
}

/// Someone waiting at an office: when they checked in (minutes after local
/// midnight) and the start of their slot, if they have one today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub arrived: u16,
    pub slot_start: Option<u16>,
}

/// One question of a program's interview and the answer given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InterviewAnswer {
    pub question: String,
    pub answer: String,
}

/// The body of an interview: the obligation it meets (optional) and an answer to
/// every question of the program, in order.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InterviewInput {
    /// The office where it is held.
    pub place: String,
    /// `program/vN/obligations[i]/k`, when it meets an interview obligation.
    #[serde(default)]
    pub obligation: Option<String>,
    /// One answer per question of the program's `[interview]`, in order.
    pub answers: Vec<String>,
}

impl InterviewInput {
    /// The answers paired with `questions`; every question needs an answer (which
    /// may say the person declined).
    pub fn validate(&self, questions: &[String]) -> Result<Vec<InterviewAnswer>, crate::Invalid> {
        let mut e = crate::error::Errors::default();
        if self.answers.len() != questions.len() {
            e.push(
                "answers",
                format!(
                    "has {} answers for {} questions: give one answer per question, in order (write `declined` for one not answered)",
                    self.answers.len(),
                    questions.len()
                ),
            );
        }
        let mut out = Vec::new();
        for (i, (q, a)) in questions.iter().zip(&self.answers).enumerate() {
            if let Some(a) = e.check(crate::error::text(&format!("answers[{i}]"), a, 2000, true)) {
                out.push(InterviewAnswer { question: q.clone(), answer: a });
            }
        }
        e.finish(|| out)
    }
}

/// The body of a booking or a reschedule: the obligation, and optionally the
/// office and the first day to look from.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingInput {
    /// `program/vN/obligations[i]/k`.
    pub obligation: String,
    /// An office code; the one serving the person's address when left out.
    #[serde(default)]
    pub office: Option<String>,
    /// YYYY-MM-DD: the first day to look from (default: today).
    #[serde(default)]
    pub from: Option<String>,
}

impl BookingInput {
    /// The first day to look from (not before `today`).
    pub fn from_day(&self, today: Date) -> Result<Date, crate::Invalid> {
        match &self.from {
            None => Ok(today),
            Some(s) => {
                let d = crate::error::parse_date("from", s).map_err(|f| crate::Invalid(vec![f]))?;
                if d < today {
                    return Err(crate::Invalid::one("from", "is in the past: give today or a later day"));
                }
                Ok(d)
            }
        }
    }
}

/// How a visit at a desk ended.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum VisitOutcome {
    Served,
    /// Sent to another office (`to`), with the reason.
    SentElsewhere {
        to: String,
        reason: String,
    },
}

/// Who is called next at `now` (minutes after local midnight): the earliest slot
/// that has started (or starts within `early` minutes), else the walk-in or early
/// arrival who came first.
pub fn next_in_line(waiting: &[Waiting], now: u16, early: u16) -> Option<usize> {
    let due = waiting
        .iter()
        .enumerate()
        .filter_map(|(i, w)| w.slot_start.filter(|s| *s <= now.saturating_add(early)).map(|s| (s, w.arrived, i)))
        .min();
    if let Some((_, _, i)) = due {
        return Some(i);
    }
    waiting.iter().enumerate().map(|(i, w)| (w.arrived, i)).min().map(|(_, i)| i)
}

/// Minutes waited: from arrival, or from the slot's start for someone who came
/// before it, to being called.
pub fn wait_minutes(arrived: u16, slot_start: Option<u16>, called: u16) -> u16 {
    called.saturating_sub(slot_start.map_or(arrived, |s| s.max(arrived)))
}

/// The upper bounds (minutes) of the published wait bands; a wait above the last
/// falls in the open band.
pub const WAIT_BANDS: [u16; 12] = [5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360];

/// The band a wait is published in: `"≤15"`, or `">360"`.
pub fn wait_band(minutes: u16) -> &'static str {
    const LABELS: [&str; 13] =
        ["<=5", "<=10", "<=15", "<=20", "<=30", "<=45", "<=60", "<=90", "<=120", "<=180", "<=240", "<=360", ">360"];
    LABELS[WAIT_BANDS.iter().position(|b| minutes <= *b).unwrap_or(WAIT_BANDS.len())]
}

/// The upper bound of a band (`None` for the open band).
pub fn band_bound(label: &str) -> Option<u16> {
    label.strip_prefix("<=").and_then(|n| n.parse().ok())
}

/// The band holding the `q`-quantile (0..=1) of waits counted per band: its upper
/// bound, or `None` when it is the open band or there are no waits.
pub fn band_quantile(bands: &[(&str, u64)], q: f64) -> Option<Option<u16>> {
    let total: u64 = bands.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let mut sorted: Vec<(u16, u64)> = bands.iter().map(|(l, n)| (band_bound(l).unwrap_or(u16::MAX), *n)).collect();
    sorted.sort();
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    for (bound, n) in sorted {
        seen += n;
        if seen >= rank {
            return Some((bound != u16::MAX).then_some(bound));
        }
    }
    None
}

/// One office's week in the public report. Counts under
/// [`crate::report::MIN_CELL`] are suppressed (`None`); the wait quantiles are
/// published only when at least that many waits were measured, as the upper bound
/// of their band (`<=15`, or `>360`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeskWeek {
    pub office: String,
    pub week: String,
    pub served: Option<u64>,
    pub sent_elsewhere: Option<u64>,
    pub appointments_missed: Option<u64>,
    pub wait_median: Option<String>,
    pub wait_p95: Option<String>,
}

/// The weekly desk table from the raw desk-queue tallies (dims: office, week,
/// measure; summed over the months a week spans).
pub fn desk_weeks(raw: &[([String; 3], String, u64)]) -> Vec<DeskWeek> {
    use std::collections::BTreeMap;
    let mut weeks: BTreeMap<(&str, &str), BTreeMap<&str, u64>> = BTreeMap::new();
    for (dims, _, n) in raw {
        *weeks.entry((&dims[0], &dims[1])).or_default().entry(&dims[2]).or_default() += n;
    }
    let min = crate::report::MIN_CELL;
    let publish = |n: Option<&u64>| n.copied().filter(|n| *n >= min);
    weeks
        .into_iter()
        .map(|((office, week), m)| {
            let bands: Vec<(&str, u64)> =
                m.iter().filter(|(k, _)| k.starts_with("<=") || k.starts_with('>')).map(|(k, n)| (*k, *n)).collect();
            let waits: u64 = bands.iter().map(|(_, n)| n).sum();
            let q = |q: f64| {
                (waits >= min)
                    .then(|| band_quantile(&bands, q))
                    .flatten()
                    .map(|b| b.map_or(">360".to_string(), |b| format!("<={b}")))
            };
            DeskWeek {
                office: office.to_string(),
                week: week.to_string(),
                served: publish(m.get("served")),
                sent_elsewhere: publish(m.get("sent-elsewhere")),
                appointments_missed: publish(m.get("missed")),
                wait_median: q(0.5),
                wait_p95: q(0.95),
            }
        })
        .collect()
}

/// ISO week of a day: `2026-W49`.
pub fn iso_week(d: Date) -> String {
    let w = d.iso_week_date();
    format!("{:04}-W{:02}", w.year(), w.week())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::place::{Hours, ServiceMinutes};
    use jiff::civil::date;
    use proptest::prelude::*;

    fn office(desks: u16) -> Place {
        let mut p = Place::bare();
        p.code = "NYC-FO".into();
        p.kind = crate::place::PlaceKind::Office;
        p.zone = "America/New_York".into();
        p.hours = [Some(Hours { opens: 540, closes: 600 }), None, None, None, None, None, None];
        p.desks = desks;
        p.minutes = ServiceMinutes { registration: 20, re_registration: 15, interview: 30 };
        p
    }

    #[test]
    fn the_earliest_free_slot_skips_full_ones_closed_days_and_the_past() {
        let p = office(1);
        // 2026-11-30 is a Monday; the office opens 09:00-10:00 on Mondays only.
        let monday = date(2026, 11, 30);
        let mut none = |_: Date| DayLoad::new();
        let s = earliest_slot(&p, ServiceKind::Registration, (monday, 0), date(2026, 12, 31), &mut none).unwrap();
        assert_eq!((s.day, s.start, s.minutes), (monday, 540, 20));
        // From Tuesday, the next Monday.
        let s = earliest_slot(&p, ServiceKind::Registration, (date(2026, 12, 1), 0), date(2026, 12, 31), &mut none)
            .unwrap();
        assert_eq!(s.day, date(2026, 12, 7));
        // Not before the minute given.
        let s = earliest_slot(&p, ServiceKind::Registration, (monday, 545), date(2026, 12, 31), &mut none).unwrap();
        assert_eq!(s.start, 560);
        // 09:00 and 09:20 booked on the one desk: 09:40.
        let mut load = |_: Date| vec![(540, 20, 1), (560, 20, 1)];
        let s = earliest_slot(&p, ServiceKind::Registration, (monday, 0), monday, &mut load).unwrap();
        assert_eq!(s.start, 580);
        // An interview (30 min) booked 09:15-09:45 blocks 09:00, 09:20 and 09:40.
        let mut load = |_: Date| vec![(555, 30, 1)];
        assert_eq!(earliest_slot(&p, ServiceKind::Registration, (monday, 0), monday, &mut load), None);
        // Two desks: room again.
        let p2 = office(2);
        let s = earliest_slot(&p2, ServiceKind::Registration, (monday, 0), monday, &mut load).unwrap();
        assert_eq!(s.start, 540);
        // A holiday closes the day.
        let mut h = office(1);
        h.holidays.push(monday);
        let s = earliest_slot(&h, ServiceKind::Registration, (monday, 0), date(2026, 12, 31), &mut none).unwrap();
        assert_eq!(s.day, date(2026, 12, 7));
        // An office that gives no interviews offers none.
        let mut n = office(1);
        n.minutes.interview = 0;
        assert_eq!(earliest_slot(&n, ServiceKind::Interview, (monday, 0), date(2026, 12, 31), &mut none), None);
    }

    #[test]
    fn a_system_slot_after_the_deadline_moves_it_and_a_chosen_one_does_not() {
        let due = date(2026, 12, 10);
        let slot = |d: Date| Slot { office: "NYC-FO".into(), day: d, start: 540, minutes: 20 };
        let sys = Appointment {
            obligation: "k".into(),
            slot: slot(date(2026, 12, 14)),
            by: BookedBy::Notice,
            extend_days: 0,
        };
        let own = Appointment { by: BookedBy::Portal, ..sys.clone() };
        assert_eq!(system_deadline(due, &[&sys]), date(2026, 12, 14));
        assert_eq!(system_deadline(due, &[&own]), due);
        // The latest booking counts: a person who moved a late system slot keeps the
        // deadline the program set (they chose a slot that fits it).
        assert_eq!(system_deadline(due, &[&sys, &own]), due);
        let closed = Appointment { by: BookedBy::Closure, extend_days: 3, slot: slot(date(2026, 12, 2)), ..sys };
        assert_eq!(system_deadline(due, &[&closed]), date(2026, 12, 13));
    }

    #[test]
    fn missed_is_a_past_day_without_any_check_in() {
        let a = Appointment {
            obligation: "k".into(),
            slot: Slot { office: "NYC-FO".into(), day: date(2026, 12, 7), start: 540, minutes: 20 },
            by: BookedBy::Notice,
            extend_days: 0,
        };
        assert!(!missed(&a, &[], &[], date(2026, 12, 7)), "not before the day is over");
        assert!(missed(&a, &[], &[], date(2026, 12, 8)));
        assert!(!missed(&a, &[(date(2026, 12, 7), "BOS-FO".into())], &[], date(2026, 12, 8)), "any office counts");
        assert!(!missed(&a, &[], &[("k".into(), date(2026, 12, 7))], date(2026, 12, 9)), "recorded once");
    }

    #[test]
    fn the_queue_calls_due_appointments_first_then_walk_ins_by_arrival() {
        let w = [
            Waiting { arrived: 500, slot_start: None },
            Waiting { arrived: 530, slot_start: Some(560) },
            Waiting { arrived: 520, slot_start: Some(540) },
        ];
        assert_eq!(next_in_line(&w, 545, 0), Some(2));
        // Before any slot is due, the first to arrive.
        assert_eq!(next_in_line(&w, 510, 0), Some(0));
        assert_eq!(next_in_line(&[], 510, 0), None);
        assert_eq!(wait_minutes(520, Some(540), 550), 10, "early arrivals wait from their slot");
        assert_eq!(wait_minutes(550, Some(540), 560), 10, "late ones from arrival");
        assert_eq!(wait_minutes(500, None, 530), 30);
    }

    #[test]
    fn bands_and_quantiles() {
        assert_eq!(wait_band(0), "<=5");
        assert_eq!(wait_band(16), "<=20");
        assert_eq!(wait_band(361), ">360");
        let bands = [("<=5", 50), ("<=30", 45), (">360", 5)];
        assert_eq!(band_quantile(&bands, 0.5), Some(Some(5)));
        assert_eq!(band_quantile(&bands, 0.95), Some(Some(30)));
        assert_eq!(band_quantile(&bands, 0.96), Some(None));
        assert_eq!(band_quantile(&[], 0.5), None);
        assert_eq!(iso_week(date(2026, 12, 31)), "2026-W53");
        assert_eq!(iso_week(date(2027, 1, 4)), "2027-W01");
    }

    #[test]
    fn the_weekly_desk_table_suppresses_small_counts_and_measures_waits_in_bands() {
        let cell = |office: &str, week: &str, m: &str, month: &str, n: u64| {
            ([office.to_string(), week.to_string(), m.to_string()], month.to_string(), n)
        };
        let raw = vec![
            // A week across two months is one week.
            cell("NYC-FO", "2026-W49", "served", "2026-11", 6),
            cell("NYC-FO", "2026-W49", "served", "2026-12", 30),
            cell("NYC-FO", "2026-W49", "<=5", "2026-12", 20),
            cell("NYC-FO", "2026-W49", "<=60", "2026-12", 15),
            cell("NYC-FO", "2026-W49", ">360", "2026-12", 1),
            cell("NYC-FO", "2026-W49", "missed", "2026-12", 3),
            cell("CHI-FO", "2026-W49", "served", "2026-12", 4),
            cell("CHI-FO", "2026-W49", "<=5", "2026-12", 4),
        ];
        let t = desk_weeks(&raw);
        assert_eq!(t.len(), 2);
        let chi = &t[0];
        assert_eq!((chi.served, chi.wait_median.as_deref()), (None, None), "4 people: all suppressed");
        let nyc = &t[1];
        assert_eq!(nyc.served, Some(36));
        assert_eq!(nyc.appointments_missed, None, "3 missed: suppressed");
        assert_eq!(nyc.wait_median.as_deref(), Some("<=5"), "18th of 36 waits");
        assert_eq!(nyc.wait_p95.as_deref(), Some("<=60"), "35th of 36 waits");
    }

    proptest! {
        /// Booking the earliest slot over and over never puts more people at any
        /// minute than there are desks, and never books a closed day.
        #[test]
        fn booking_never_exceeds_the_desks(desks in 1u16..4, kinds in prop::collection::vec(0u8..3, 1..60)) {
            let p = office(desks);
            let mut load: std::collections::HashMap<Date, DayLoad> = Default::default();
            let from = date(2026, 11, 30);
            for k in kinds {
                let service = [ServiceKind::Registration, ServiceKind::ReRegistration, ServiceKind::Interview][k as usize];
                let mut get = |d: Date| load.get(&d).cloned().unwrap_or_default();
                if let Some(s) = earliest_slot(&p, service, (from, 0), date(2027, 3, 1), &mut get) {
                    prop_assert!(p.open_on(s.day).is_some());
                    load.entry(s.day).or_default().push((s.start, s.minutes, 1));
                }
            }
            for (_, day) in load {
                for minute in 540u16..600 {
                    let n: u32 = day.iter().filter(|(s, m, _)| *s <= minute && minute < s + m).map(|x| x.2).sum();
                    prop_assert!(n <= u32::from(desks));
                }
            }
        }
    }
}
