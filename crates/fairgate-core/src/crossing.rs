//! Entry and exit crossings, and the rule that keeps a subject's crossings in a
//! possible order: every exit follows the entry it closes.

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{clip, parse_date, parse_instant, Errors, FieldError, Invalid};
use crate::place::{PlaceBook, PlaceKind};
use crate::registration::CLOCK_SKEW;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Entry,
    Exit,
}

impl Direction {
    pub fn as_str(&self) -> &'static str {
        match self {
            Direction::Entry => "entry",
            Direction::Exit => "exit",
        }
    }
}

/// A validated crossing, as it goes into the ledger (encrypted). `at` is UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crossing {
    pub direction: Direction,
    pub port: String,
    pub at: Timestamp,
    pub admission_class: Option<String>,
    pub admitted_until: Option<Date>,
}

/// The body of `POST /subjects/{id}/crossings`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrossingInput {
    /// `entry` or `exit`.
    #[cfg_attr(feature = "openapi", schema(example = "entry"))]
    pub direction: String,
    /// Port code from `GET /ports`.
    #[cfg_attr(feature = "openapi", schema(example = "JFK"))]
    pub port: String,
    /// RFC 3339 with an offset; stored in UTC.
    #[cfg_attr(feature = "openapi", schema(example = "2026-03-01T14:05:00Z"))]
    pub at: String,
    /// Entries only, e.g. `B-2`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "B-2"))]
    pub admission_class: Option<String>,
    /// Entries only: the last day of the authorised stay, `YYYY-MM-DD`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "2026-05-30"))]
    pub admitted_until: Option<String>,
    /// Fingerprints taken at the port, compared 1:1 with the person's on record. A
    /// no-match refers the person to secondary inspection; it never stops the
    /// crossing being recorded.
    #[serde(default)]
    pub probe: Option<crate::matching::ProbeInput>,
}

fn admission_class(s: &str) -> Result<String, FieldError> {
    let c = s.trim().to_ascii_uppercase();
    let ok = (1..=10).contains(&c.len())
        && c.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && c.as_bytes()[0] != b'-';
    if ok {
        Ok(c)
    } else {
        Err(FieldError::new(
            "admission_class",
            format!("`{}` is not an admission class: use letters, digits and dashes, e.g. B-2", clip(s)),
        ))
    }
}

impl CrossingInput {
    pub fn validate(&self, places: &PlaceBook, now: Timestamp) -> Result<Crossing, Invalid> {
        let mut e = Errors::default();
        let direction = match self.direction.trim() {
            "entry" => Some(Direction::Entry),
            "exit" => Some(Direction::Exit),
            other => {
                e.push("direction", format!("`{}` is not a direction: use entry or exit", clip(other)));
                None
            }
        };
        let port = match places.get(&self.port) {
            Some(p) if p.place.kind == PlaceKind::Port => Some(p),
            Some(p) => {
                e.push(
                    "port",
                    format!(
                        "`{}` is an office, not a port: use one of {}",
                        p.place.code,
                        places.codes(PlaceKind::Port)
                    ),
                );
                None
            }
            None => {
                e.push("port", format!("`{}` is not a known port: see GET /ports", clip(&self.port)));
                None
            }
        };
        let at = e.check(parse_instant("at", &self.at));
        if let Some(at) = at {
            if at > now + CLOCK_SKEW {
                e.push("at", "is in the future: record a crossing when it happens");
            }
        }
        let mut class = None;
        let mut until = None;
        match direction {
            Some(Direction::Exit) => {
                if self.admission_class.is_some() {
                    e.push("admission_class", "only entries carry an admission class: leave it out for an exit");
                }
                if self.admitted_until.is_some() {
                    e.push("admitted_until", "only entries carry an admitted-until date: leave it out for an exit");
                }
            }
            Some(Direction::Entry) => {
                match &self.admission_class {
                    None => e.push("admission_class", "is required for an entry, e.g. B-2"),
                    Some(c) => class = e.check(admission_class(c)),
                }
                if let Some(u) = &self.admitted_until {
                    until = e.check(parse_date("admitted_until", u));
                }
                if let (Some(u), Some(at), Some(port)) = (until, at, port) {
                    let entry_day = at.to_zoned(port.tz.clone()).date();
                    if u < entry_day {
                        e.push(
                            "admitted_until",
                            format!("is before the day of entry ({entry_day} at {}): check the date", port.place.code),
                        );
                    }
                }
            }
            None => {}
        }
        e.finish(|| Crossing {
            direction: direction.unwrap_or(Direction::Entry),
            port: port.map(|p| p.place.code.clone()).unwrap_or_default(),
            at: at.unwrap_or(now),
            admission_class: class,
            admitted_until: until,
        })
    }
}

/// The facts of a recorded crossing that the sequence rule needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrossingFact {
    pub at: Timestamp,
    pub direction: Direction,
}

/// May `new` join `history` (any order)? An exit must close an entry: the crossing
/// just before it in time must be an entry, and the one just after it must not be
/// another exit that already closes that entry. Entries are always accepted (a
/// missing exit is a fact too). Two crossings at the same instant are refused.
pub fn check_sequence(history: &[CrossingFact], new: CrossingFact) -> Result<(), Invalid> {
    let mut sorted = history.to_vec();
    sorted.sort_by_key(|h| h.at);
    check_sorted_sequence(&sorted, new).map(|_| ())
}

/// [`check_sequence`] for a history already sorted by time, in O(log n). Returns the
/// position at which `new` keeps the history sorted.
pub fn check_sorted_sequence(sorted: &[CrossingFact], new: CrossingFact) -> Result<usize, Invalid> {
    // Crossings are nearly always recorded in order: look at the last one first.
    let pos = match sorted.last() {
        Some(last) if last.at < new.at => sorted.len(),
        _ => sorted.partition_point(|h| h.at < new.at),
    };
    // The refusals below say what is wrong with this crossing, never what is on
    // record (no times or directions of other crossings): the officer may not have a
    // purpose to read the person's history, and a refusal is not a logged read.
    if sorted.get(pos).is_some_and(|h| h.at == new.at) {
        return Err(Invalid::one(
            "at",
            format!(
                "another crossing of this person is already recorded at exactly {}: one person crosses once at a time",
                new.at
            ),
        ));
    }
    if new.direction == Direction::Entry {
        return Ok(pos);
    }
    let before = pos.checked_sub(1).map(|i| sorted[i]);
    let after = sorted.get(pos);
    match before {
        None => Err(Invalid::one("direction", "this exit has no entry before it: record the entry first")),
        Some(b) if b.direction == Direction::Exit => Err(Invalid::one(
            "direction",
            "the crossing recorded before this exit is also an exit: record the entry in between first, or check the time",
        )),
        Some(_) => match after {
            Some(a) if a.direction == Direction::Exit => Err(Invalid::one(
                "at",
                "the entry before this exit is already closed by a later exit: check the time",
            )),
            _ => Ok(pos),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    fn book() -> PlaceBook {
        PlaceBook::defaults()
    }
    const NOW: Timestamp = Timestamp::constant(1_780_000_000, 0);
    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }
    fn fact(s: i64, d: Direction) -> CrossingFact {
        CrossingFact { at: t(s), direction: d }
    }
    fn entry(at: &str) -> CrossingInput {
        CrossingInput {
            direction: "entry".into(),
            port: "JFK".into(),
            at: at.into(),
            admission_class: Some("b-2".into()),
            admitted_until: Some("2026-05-30".into()),
            probe: None,
        }
    }

    #[test]
    fn a_good_entry_validates() {
        let c = entry("2026-03-01T09:05:00-05:00").validate(&book(), NOW).unwrap();
        assert_eq!(c.at.to_string(), "2026-03-01T14:05:00Z");
        assert_eq!(c.admission_class.as_deref(), Some("B-2"));
    }

    #[test]
    fn admitted_until_is_compared_in_the_ports_zone() {
        // 03:00 UTC on 1 March is still 28 February in New York.
        let mut c = entry("2026-03-01T03:00:00Z");
        c.admitted_until = Some("2026-02-28".into());
        assert!(c.validate(&book(), NOW).is_ok());
        c.admitted_until = Some("2026-02-27".into());
        assert_eq!(c.validate(&book(), NOW).unwrap_err().0[0].field, "admitted_until");
    }

    #[test]
    fn bad_inputs_name_their_fields() {
        let bad = CrossingInput {
            direction: "in".into(),
            port: "NYC-FO".into(),
            at: "yesterday".into(),
            admission_class: None,
            admitted_until: None,
            probe: None,
        };
        let fields: Vec<_> = bad.validate(&book(), NOW).unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["direction", "port", "at"]);
        let mut exit = entry("2026-03-01T03:00:00Z");
        exit.direction = "exit".into();
        let fields: Vec<_> = exit.validate(&book(), NOW).unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["admission_class", "admitted_until"]);
        let mut future = entry("2030-01-01T00:00:00Z");
        future.admitted_until = None;
        assert_eq!(future.validate(&book(), NOW).unwrap_err().0[0].field, "at");
    }

    #[test]
    fn exits_need_their_entry() {
        use Direction::*;
        assert!(check_sequence(&[], fact(10, Exit)).is_err());
        assert!(check_sequence(&[fact(10, Entry)], fact(5, Exit)).is_err());
        assert!(check_sequence(&[fact(10, Entry)], fact(20, Exit)).is_ok());
        assert!(check_sequence(&[fact(10, Entry), fact(20, Exit)], fact(30, Exit)).is_err());
        // The entry at 10 is already closed at 30; an exit at 20 would leave 30 dangling.
        assert!(check_sequence(&[fact(10, Entry), fact(30, Exit)], fact(20, Exit)).is_err());
        assert!(check_sequence(&[fact(10, Entry), fact(20, Exit)], fact(20, Exit)).is_err());
        assert!(check_sequence(&[fact(10, Entry), fact(20, Exit)], fact(15, Entry)).is_ok());
    }

    proptest! {
        /// Whatever is attempted, in whatever order, the accepted crossings sorted by
        /// time never hold an exit that does not directly follow an entry.
        #[test]
        fn accepted_histories_always_pair_exits_with_entries(attempts in proptest::collection::vec((0i64..50, any::<bool>()), 0..40)) {
            let mut history: Vec<CrossingFact> = Vec::new();
            let mut sorted: Vec<CrossingFact> = Vec::new();
            for (s, is_exit) in attempts {
                let f = fact(s, if is_exit { Direction::Exit } else { Direction::Entry });
                let unsorted_ok = check_sequence(&history, f).is_ok();
                let sorted_result = check_sorted_sequence(&sorted, f);
                prop_assert_eq!(unsorted_ok, sorted_result.is_ok(), "both forms of the rule agree");
                if let Ok(pos) = sorted_result {
                    history.push(f);
                    sorted.insert(pos, f);
                }
            }
            prop_assert!(sorted.windows(2).all(|w| w[0].at < w[1].at));
            history.sort_by_key(|h| h.at);
            for (i, h) in history.iter().enumerate() {
                if h.direction == Direction::Exit {
                    prop_assert!(i > 0 && history[i - 1].direction == Direction::Entry, "{:?}", history);
                }
            }
        }
    }
}
