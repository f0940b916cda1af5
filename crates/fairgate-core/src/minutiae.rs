//! Finger minutiae records, ISO/IEC 19794-2:2005 (the record format version ` 20`):
//! parsing with every field checked, and writing. Pure and dependency-free; a
//! malformed record is refused with the byte offset and the field at fault, never a
//! panic.
//!
//! Layout (all integers big-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | format identifier `FMR\0` |
//! | 4 | 4 | version ` 20\0` |
//! | 8 | 4 | record length, header included |
//! | 12 | 2 | capture equipment: certification (high 4 bits), device type (low 12) |
//! | 14 | 2, 2 | image width, height (pixels) |
//! | 18 | 2, 2 | horizontal, vertical resolution (pixels per centimetre) |
//! | 22 | 1 | number of finger views |
//! | 23 | 1 | reserved, 0 |
//! | 24 | | each finger view: position (1), view number (high 4 bits) and impression type (low 4) (1), quality 0–100 (1), number of minutiae (1); each minutia 6 bytes: type (2 bits: 01 ridge ending, 10 bifurcation, 00 other) and x (14 bits), reserved (2 bits) and y (14 bits), angle (1 byte, units of 360/256 degrees), quality (1 byte, 0–100); then the extended data length (2) and that many bytes |

use serde::{Deserialize, Serialize};

pub const FORMAT_ID: &[u8; 4] = b"FMR\0";
pub const VERSION: &[u8; 4] = b" 20\0";
pub const HEADER_LEN: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MinutiaType {
    Other,
    RidgeEnding,
    Bifurcation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Minutia {
    pub kind: MinutiaType,
    /// Pixels from the left.
    pub x: u16,
    /// Pixels from the top.
    pub y: u16,
    /// Units of 360/256 degrees, counter-clockwise from the horizontal.
    pub angle: u8,
    /// 0–100 (0: not reported).
    pub quality: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerView {
    /// 0 unknown, 1–5 right thumb to little finger, 6–10 left thumb to little finger.
    pub position: u8,
    /// 0–15: several impressions of one finger are views 0, 1, …
    pub view: u8,
    /// 0 live-scan plain, 1 live-scan rolled, 2 non-live plain, 3 non-live rolled, 8 swipe, 9 contactless.
    pub impression: u8,
    /// 0–100.
    pub quality: u8,
    pub minutiae: Vec<Minutia>,
    /// Extended data (ridge counts, cores and deltas), kept as bytes.
    pub extended: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutiaeRecord {
    pub certification: u8,
    pub device_type: u16,
    pub width: u16,
    pub height: u16,
    /// Pixels per centimetre.
    pub x_resolution: u16,
    pub y_resolution: u16,
    pub views: Vec<FingerView>,
}

pub use crate::record::RecordError;
use crate::record::{bad, read_prefix, Reader};

/// The names of the finger positions, 0 to 10.
pub const POSITIONS: [&str; 11] = [
    "unknown",
    "right thumb",
    "right index",
    "right middle",
    "right ring",
    "right little",
    "left thumb",
    "left index",
    "left middle",
    "left ring",
    "left little",
];

const IMPRESSIONS: [u8; 6] = [0, 1, 2, 3, 8, 9];

/// Parse a record, checking every field.
pub fn parse(b: &[u8]) -> Result<MinutiaeRecord, RecordError> {
    let mut r = Reader::new(b);
    read_prefix(&mut r, FORMAT_ID, "an ISO/IEC 19794-2 finger minutiae record", VERSION, "ISO/IEC 19794-2:2005", &[])?;
    let equipment = r.u16("capture equipment")?;
    let width = r.u16("image width")?;
    let height = r.u16("image height")?;
    let x_resolution = r.u16("horizontal resolution")?;
    let y_resolution = r.u16("vertical resolution")?;
    for (v, off, field) in [
        (width, 14, "image width"),
        (height, 16, "image height"),
        (x_resolution, 18, "horizontal resolution"),
        (y_resolution, 20, "vertical resolution"),
    ] {
        if v == 0 {
            return Err(bad(off, field, "is 0"));
        }
    }
    let count = r.u8("number of finger views")?;
    if count == 0 {
        return Err(bad(22, "number of finger views", "is 0: a record holds at least one view"));
    }
    if r.u8("reserved")? != 0 {
        return Err(bad(23, "reserved", "must be 0"));
    }
    let mut views: Vec<FingerView> = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let start = r.at;
        let position = r.u8("finger position")?;
        if position as usize >= POSITIONS.len() {
            return Err(bad(start, "finger position", format!("{position} is not a finger (0 to 10)")));
        }
        let vi = r.u8("view number and impression type")?;
        let (view, impression) = (vi >> 4, vi & 0x0F);
        if !IMPRESSIONS.contains(&impression) {
            return Err(bad(start + 1, "impression type", format!("{impression} is not 0, 1, 2, 3, 8 or 9")));
        }
        if views.iter().any(|v| v.position == position && v.view == view) {
            return Err(bad(start + 1, "view number", format!("view {view} of finger {position} appears twice")));
        }
        let quality = r.u8("finger quality")?;
        if quality > 100 {
            return Err(bad(start + 2, "finger quality", format!("{quality} is above 100")));
        }
        let n = r.u8("number of minutiae")?;
        let mut minutiae = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let at = r.at;
            let tx = r.u16("minutia type and x")?;
            let ry = r.u16("minutia y")?;
            let angle = r.u8("minutia angle")?;
            let q = r.u8("minutia quality")?;
            let kind = match tx >> 14 {
                0 => MinutiaType::Other,
                1 => MinutiaType::RidgeEnding,
                2 => MinutiaType::Bifurcation,
                _ => return Err(bad(at, "minutia type", "11 is not a minutia type")),
            };
            if ry >> 14 != 0 {
                return Err(bad(at + 2, "minutia reserved bits", "must be 0"));
            }
            let (x, y) = (tx & 0x3FFF, ry & 0x3FFF);
            if x >= width || y >= height {
                return Err(bad(at, "minutia position", format!("({x}, {y}) is outside the {width} × {height} image")));
            }
            if q > 100 {
                return Err(bad(at + 5, "minutia quality", format!("{q} is above 100")));
            }
            minutiae.push(Minutia { kind, x, y, angle, quality: q });
        }
        let ext_len = r.u16("extended data length")? as usize;
        let extended = r.take(ext_len, "extended data")?.to_vec();
        views.push(FingerView { position, view, impression, quality, minutiae, extended });
    }
    if r.at != b.len() {
        return Err(bad(r.at, "record length", format!("{} bytes follow the last finger view", b.len() - r.at)));
    }
    Ok(MinutiaeRecord {
        certification: (equipment >> 12) as u8,
        device_type: equipment & 0x0FFF,
        width,
        height,
        x_resolution,
        y_resolution,
        views,
    })
}

/// Write a record. Refuses what `parse` would refuse, naming the field.
pub fn encode(rec: &MinutiaeRecord) -> Result<Vec<u8>, RecordError> {
    let mut out = Vec::with_capacity(HEADER_LEN + rec.views.iter().map(|v| 6 + v.minutiae.len() * 6).sum::<usize>());
    out.extend_from_slice(FORMAT_ID);
    out.extend_from_slice(VERSION);
    out.extend_from_slice(&[0; 4]);
    if rec.certification > 15 || rec.device_type > 0x0FFF {
        return Err(bad(12, "capture equipment", "certification is 4 bits and device type 12"));
    }
    out.extend_from_slice(&((u16::from(rec.certification) << 12) | rec.device_type).to_be_bytes());
    for v in [rec.width, rec.height, rec.x_resolution, rec.y_resolution] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let count = u8::try_from(rec.views.len()).map_err(|_| bad(22, "number of finger views", "more than 255"))?;
    out.push(count);
    out.push(0);
    for v in &rec.views {
        let at = out.len();
        if v.view > 15 || v.impression > 15 {
            return Err(bad(at + 1, "view number and impression type", "each is 4 bits"));
        }
        out.extend_from_slice(&[v.position, (v.view << 4) | v.impression, v.quality]);
        out.push(u8::try_from(v.minutiae.len()).map_err(|_| bad(at + 3, "number of minutiae", "more than 255"))?);
        for m in &v.minutiae {
            if m.x > 0x3FFF || m.y > 0x3FFF {
                return Err(bad(out.len(), "minutia position", "x and y are 14 bits"));
            }
            let t: u16 = match m.kind {
                MinutiaType::Other => 0,
                MinutiaType::RidgeEnding => 1,
                MinutiaType::Bifurcation => 2,
            };
            out.extend_from_slice(&((t << 14) | m.x).to_be_bytes());
            out.extend_from_slice(&m.y.to_be_bytes());
            out.extend_from_slice(&[m.angle, m.quality]);
        }
        let ext = u16::try_from(v.extended.len())
            .map_err(|_| bad(out.len(), "extended data length", "more than 65,535 bytes"))?;
        out.extend_from_slice(&ext.to_be_bytes());
        out.extend_from_slice(&v.extended);
    }
    let len = u32::try_from(out.len()).map_err(|_| bad(8, "record length", "more than 4 GiB"))?;
    out[8..12].copy_from_slice(&len.to_be_bytes());
    // What is written must read back: the same checks, one place.
    parse(&out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> MinutiaeRecord {
        MinutiaeRecord {
            certification: 1,
            device_type: 0x123,
            width: 500,
            height: 550,
            x_resolution: 197,
            y_resolution: 197,
            views: vec![FingerView {
                position: 2,
                view: 0,
                impression: 0,
                quality: 80,
                minutiae: vec![
                    Minutia { kind: MinutiaType::RidgeEnding, x: 100, y: 200, angle: 64, quality: 70 },
                    Minutia { kind: MinutiaType::Bifurcation, x: 321, y: 123, angle: 200, quality: 55 },
                ],
                extended: vec![],
            }],
        }
    }

    /// The golden bytes of `sample()`, written out by hand from the layout above.
    const GOLDEN: &[u8] = &[
        b'F', b'M', b'R', 0, b' ', b'2', b'0', 0, // format, version
        0, 0, 0, 42, // length: 24 + 4 + 2 × 6 + 2
        0x11, 0x23, // certification 1, device 0x123
        0x01, 0xF4, 0x02, 0x26, // 500 × 550
        0x00, 0xC5, 0x00, 0xC5, // 197 px/cm (500 dpi)
        1, 0, // one view, reserved
        2, 0x00, 80, 2, // right index, view 0 plain live-scan, quality 80, two minutiae
        0x40, 100, 0x00, 200, 64, 70, // ridge ending at (100, 200)
        0x81, 0x41, 0x00, 123, 200, 55, // bifurcation at (321, 123)
        0, 0, // no extended data
    ];

    #[test]
    fn the_golden_record_reads_and_writes_byte_for_byte() {
        assert_eq!(encode(&sample()).unwrap(), GOLDEN);
        assert_eq!(parse(GOLDEN).unwrap(), sample());
    }

    #[test]
    fn malformed_records_name_the_byte_and_the_field() {
        let e = |b: &[u8]| parse(b).unwrap_err().to_string();
        assert_eq!(
            e(b"FMX\0"),
            "byte 0, format identifier: not `FMR\\0`: this is not an ISO/IEC 19794-2 finger minutiae record"
        );
        assert!(e(&GOLDEN[..20]).starts_with("byte 8, record length: says 42 bytes, the record has 20"));
        let mut b = GOLDEN.to_vec();
        b[24] = 11;
        assert_eq!(e(&b), "byte 24, finger position: 11 is not a finger (0 to 10)");
        let mut b = GOLDEN.to_vec();
        b[28] = 0xC0;
        assert_eq!(e(&b), "byte 28, minutia type: 11 is not a minutia type");
        let mut b = GOLDEN.to_vec();
        b[31] = 0xFF; // y = 255 … still inside; make it outside
        b[30] = 0x3F;
        assert!(e(&b).starts_with("byte 28, minutia position"), "{}", e(&b));
        let mut b = GOLDEN.to_vec();
        b[27] = 3; // three minutiae announced, two present
        assert!(e(&b).contains("the record ends here"), "{}", e(&b));
    }

    fn record() -> impl Strategy<Value = MinutiaeRecord> {
        let minutia = |w: u16, h: u16| {
            (0u8..3, 0..w, 0..h, any::<u8>(), 0u8..=100).prop_map(|(t, x, y, angle, quality)| Minutia {
                kind: [MinutiaType::Other, MinutiaType::RidgeEnding, MinutiaType::Bifurcation][t as usize],
                x,
                y,
                angle,
                quality,
            })
        };
        (1u16..800, 1u16..800, 1u16..400, 0u8..16, 0u16..0x1000).prop_flat_map(move |(w, h, res, cert, dev)| {
            proptest::collection::vec(
                (
                    0u8..=10,
                    0u8..=100,
                    proptest::collection::vec(minutia(w, h), 0..40),
                    proptest::collection::vec(any::<u8>(), 0..8),
                ),
                1..5,
            )
            .prop_map(move |views| MinutiaeRecord {
                certification: cert,
                device_type: dev,
                width: w,
                height: h,
                x_resolution: res,
                y_resolution: res,
                views: views
                    .into_iter()
                    .enumerate()
                    .map(|(i, (position, quality, minutiae, extended))| FingerView {
                        position,
                        view: i as u8, // distinct views
                        impression: 0,
                        quality,
                        minutiae,
                        extended,
                    })
                    .collect(),
            })
        })
    }

    proptest! {
        #[test]
        fn any_record_written_reads_back_the_same(rec in record()) {
            let bytes = encode(&rec).unwrap();
            prop_assert_eq!(parse(&bytes).unwrap(), rec);
        }

        #[test]
        fn any_bytes_are_refused_with_an_offset_inside_the_input_or_read(b in proptest::collection::vec(any::<u8>(), 0..200), rec in record(), flip in any::<prop::sample::Index>(), to in any::<u8>()) {
            // Arbitrary bytes, and a valid record with one byte changed: never a panic;
            // an error's offset is within the input.
            for input in [b.clone(), { let mut x = encode(&rec).unwrap(); let i = flip.index(x.len()); x[i] = to; x }] {
                if let Err(e) = parse(&input) {
                    prop_assert!(e.offset <= input.len(), "{e}");
                }
            }
        }
    }
}
