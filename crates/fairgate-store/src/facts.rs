//! The stay facts: a subject's crossings reduced to what stay accounting needs, kept
//! as one sealed projection row per subject (`Projection::StayFacts`). The write path
//! checks a new crossing against them and the overstay sweep reads them, so neither
//! has to open the subject's ledger leaves.
//!
//! The row is sealed with [`RecordSealer`] under a key derived from the subject's
//! data key (so erasure makes it unreadable like the leaves), with the index of the
//! last crossing leaf folded in as the nonce counter and the subject number as
//! associated data.
//!
//! Plaintext layout, version 1: the byte `1`, then per crossing in time order:
//! `at` (i64 milliseconds, big-endian), the local day at the port (i16 year, u8
//! month, u8 day), a flags byte (bit 0 exit, bit 1 admitted-until present, bit 2
//! admission class present, bit 3 port present), then the admitted-until day (4
//! bytes), the class and the port (each a u8 length and UTF-8) when present. Bit 3
//! was added later; rows written before it decode with no port.

use fairgate_core::crossing::Direction;
use fairgate_core::stay::DatedCrossing;
use fairgate_ledger::keys::{RecordSealer, SecretKey};
use jiff::civil::Date;

/// The record domain, which selects the derived key.
pub const DOMAIN: &str = "stay-facts";
const VERSION: u8 = 1;

/// The stay facts could not be decoded (they were written by a newer version, or
/// are corrupt).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("stay facts: {0}")]
pub struct FactsError(&'static str);

pub fn sealer(data_key: &SecretKey) -> RecordSealer {
    RecordSealer::new(data_key, DOMAIN)
}

/// The associated data that binds a sealed row to its subject.
pub fn aad(subject_no: u64) -> [u8; 8] {
    subject_no.to_be_bytes()
}

fn put_date(out: &mut Vec<u8>, d: Date) {
    out.extend_from_slice(&d.year().to_be_bytes());
    out.push(d.month() as u8);
    out.push(d.day() as u8);
}

/// Classes and ports are short codes; one longer than 255 bytes is cut at a
/// character boundary.
fn short(s: &str) -> &str {
    let mut end = s.len().min(255);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Encode crossings (sorted by time) into `out`.
pub fn encode(crossings: &[DatedCrossing], out: &mut Vec<u8>) {
    out.push(VERSION);
    for c in crossings {
        out.extend_from_slice(&c.at.as_millisecond().to_be_bytes());
        put_date(out, c.local_day);
        let class = c.admission_class.as_deref().map(short);
        let port = c.port.as_deref().map(short);
        let flags = (c.direction == Direction::Exit) as u8
            | (c.admitted_until.is_some() as u8) << 1
            | (class.is_some() as u8) << 2
            | (port.is_some() as u8) << 3;
        out.push(flags);
        if let Some(d) = c.admitted_until {
            put_date(out, d);
        }
        for s in [class, port].into_iter().flatten() {
            out.push(s.len() as u8);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FactsError> {
        if self.0.len() < n {
            return Err(FactsError("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn byte(&mut self) -> Result<u8, FactsError> {
        Ok(self.take(1)?[0])
    }
    fn text(&mut self, what: &'static str) -> Result<String, FactsError> {
        let n = self.byte()? as usize;
        Ok(std::str::from_utf8(self.take(n)?).map_err(|_| FactsError(what))?.to_string())
    }
    fn date(&mut self) -> Result<Date, FactsError> {
        let b = self.take(4)?;
        Date::new(i16::from_be_bytes([b[0], b[1]]), b[2] as i8, b[3] as i8).map_err(|_| FactsError("invalid date"))
    }
}

/// Decode what [`encode`] wrote. Never panics, whatever the bytes.
pub fn decode(bytes: &[u8]) -> Result<Vec<DatedCrossing>, FactsError> {
    let mut r = Reader(bytes);
    if r.byte()? != VERSION {
        return Err(FactsError("unknown version"));
    }
    let mut out = Vec::new();
    while !r.0.is_empty() {
        let ms = i64::from_be_bytes(r.take(8)?.try_into().map_err(|_| FactsError("truncated"))?);
        let at = jiff::Timestamp::from_millisecond(ms).map_err(|_| FactsError("invalid time"))?;
        let local_day = r.date()?;
        let flags = r.byte()?;
        if flags & !0b1111 != 0 {
            return Err(FactsError("unknown flags"));
        }
        let admitted_until = if flags & 2 != 0 { Some(r.date()?) } else { None };
        let admission_class = if flags & 4 != 0 { Some(r.text("class is not UTF-8")?) } else { None };
        let port = if flags & 8 != 0 { Some(r.text("port is not UTF-8")?) } else { None };
        let direction = if flags & 1 != 0 { Direction::Exit } else { Direction::Entry };
        out.push(DatedCrossing { direction, at, local_day, admission_class, admitted_until, port });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn crossing() -> impl Strategy<Value = DatedCrossing> {
        (
            any::<bool>(),
            0i64..4_000_000_000_000,
            -3650i32..3650,
            proptest::option::of(0i32..400),
            proptest::option::of("[A-Z0-9-]{1,6}|é{1,200}"),
            proptest::option::of("[A-Z]{3}|[a-z-]{0,300}"),
        )
            .prop_map(|(exit, ms, day, until, class, port)| {
                let base = jiff::civil::date(2020, 1, 1);
                DatedCrossing {
                    direction: if exit { Direction::Exit } else { Direction::Entry },
                    at: jiff::Timestamp::from_millisecond(ms).unwrap(),
                    local_day: base.checked_add(jiff::Span::new().days(day)).unwrap(),
                    admitted_until: until.map(|u| base.checked_add(jiff::Span::new().days(u)).unwrap()),
                    admission_class: class,
                    port,
                }
            })
    }

    fn same(a: &DatedCrossing, b: &DatedCrossing) -> bool {
        a.direction == b.direction
            && a.at == b.at
            && a.local_day == b.local_day
            && a.admitted_until == b.admitted_until
            && a.admission_class.as_deref().map(short) == b.admission_class.as_deref()
            && a.port.as_deref().map(short) == b.port.as_deref()
    }

    proptest! {
        #[test]
        fn facts_round_trip(cs in proptest::collection::vec(crossing(), 0..40)) {
            let mut bytes = Vec::new();
            encode(&cs, &mut bytes);
            let back = decode(&bytes).unwrap();
            prop_assert_eq!(back.len(), cs.len());
            for (a, b) in cs.iter().zip(&back) {
                prop_assert!(same(a, b));
                prop_assert!(b.admission_class.as_deref().is_none_or(|s| s.len() <= 255));
                prop_assert!(b.port.as_deref().is_none_or(|s| s.len() <= 255));
            }
        }

        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
        }
    }

    #[test]
    fn unknown_versions_and_truncation_are_errors() {
        assert_eq!(decode(&[]).unwrap_err(), FactsError("truncated"));
        assert_eq!(decode(&[2]).unwrap_err(), FactsError("unknown version"));
        assert!(decode(&[1]).unwrap().is_empty());
        assert_eq!(decode(&[1, 0, 0]).unwrap_err(), FactsError("truncated"));
    }

    #[test]
    fn a_row_written_before_ports_were_kept_decodes_without_one() {
        // One entry as version 1 wrote it before bit 3: at, day, flags = class, class "WT".
        let mut old = vec![1];
        old.extend_from_slice(&1_700_000_000_000i64.to_be_bytes());
        old.extend_from_slice(&[0x07, 0xE7, 11, 14, 0b100, 2, b'W', b'T']);
        let c = &decode(&old).unwrap()[0];
        assert_eq!((c.admission_class.as_deref(), c.port.as_deref()), (Some("WT"), None));
        assert_eq!(c.local_day, jiff::civil::date(2023, 11, 14));
    }
}
