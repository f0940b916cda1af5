//! ANSI/NIST-ITL 1-2011 transaction files in the traditional encoding: reading and
//! writing the record types border systems exchange for a person's biometrics —
//! Type-1 (transaction), Type-2 (descriptive text), Type-4 (500 ppi fingerprint
//! image, binary), Type-9 (minutiae, the standard fields 9.001–9.012), Type-10
//! (face image) and Type-14 (variable-resolution fingerprint image) — and the
//! conversions from and to the ISO/IEC 19794 records Fairgate stores. Pure; a
//! malformed file is refused with the byte offset and the field, never a panic.
//!
//! Tagged records are `T.NNN:value` fields separated by GS (0x1D), subfields by RS
//! (0x1E), items by US (0x1F), the record ended by FS (0x1C); a record's first field
//! is its length in bytes. Type-4 is binary: length (4), IDC, impression type, finger
//! positions (6), scanning resolution, width (2), height (2), compression, image.
//!
//! Minutiae follow NIST's own conversion (NBIS `fmr2an2k`): positions in units of
//! 0.01 mm from the lower-left corner, angles in whole degrees turned by 180°.
//! Type-9's standard fields carry no image size, so Fairgate's files add a Type-2
//! field, 2.900, with each minutiae record's frame (`IDC US width US height US
//! pixels per cm`), which its import uses to give back the exact ISO record; a file
//! from elsewhere is read at 500 ppi in the smallest frame that holds its minutiae.

use serde::Serialize;

use crate::record::bad;
pub use crate::record::RecordError;

pub const FS: u8 = 0x1C;
pub const GS: u8 = 0x1D;
pub const RS: u8 = 0x1E;
pub const US: u8 = 0x1F;
/// ANSI/NIST-ITL 1-2011.
pub const VERSION: &str = "0500";
/// The Type-2 field where Fairgate writes each minutiae record's frame.
pub const FRAME_FIELD: u16 = 900;

/// One tagged field: its number and its subfields, each a list of items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Field {
    pub number: u16,
    pub subfields: Vec<Vec<String>>,
    /// Where the field's tag starts in the file it was read from (0 when written).
    #[serde(skip)]
    pub at: usize,
}

impl Field {
    pub fn text(number: u16, value: impl Into<String>) -> Field {
        Field { number, subfields: vec![vec![value.into()]], at: 0 }
    }
    /// The first item of the first subfield.
    pub fn value(&self) -> &str {
        self.subfields.first().and_then(|s| s.first()).map(String::as_str).unwrap_or("")
    }
}

/// A logical record after Type-1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Record {
    /// A tagged record (Type-2, -9, -10, -14): its fields after LEN and IDC, and
    /// the binary data of field 999 when it has one.
    /// `at`: where it starts in the file it was read from (0 when written).
    Tagged { kind: u8, idc: u8, fields: Vec<Field>, data: Option<Vec<u8>>, at: usize },
    /// A Type-4 fingerprint image.
    Type4 {
        idc: u8,
        impression: u8,
        positions: [u8; 6],
        scanning: u8,
        width: u16,
        height: u16,
        compression: u8,
        data: Vec<u8>,
        /// Where the record starts in the file it was read from (0 when written).
        at: usize,
    },
}

impl Record {
    pub fn kind(&self) -> u8 {
        match self {
            Record::Tagged { kind, .. } => *kind,
            Record::Type4 { .. } => 4,
        }
    }
    pub fn idc(&self) -> u8 {
        match self {
            Record::Tagged { idc, .. } | Record::Type4 { idc, .. } => *idc,
        }
    }
    /// A tagged record's field.
    pub fn field(&self, number: u16) -> Option<&Field> {
        match self {
            Record::Tagged { fields, .. } => fields.iter().find(|f| f.number == number),
            Record::Type4 { .. } => None,
        }
    }
}

/// A transaction: the Type-1 fields (after LEN, VER and CNT) and the records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transaction {
    pub version: String,
    pub header: Vec<Field>,
    pub records: Vec<Record>,
}

fn is_binary(kind: u8) -> bool {
    matches!(kind, 3..=8)
}

// ---------------------------------------------------------------- writing

fn tagged(kind: u8, fields: &[Field], data: Option<&[u8]>) -> Vec<u8> {
    let mut body = Vec::new();
    for f in fields {
        body.push(GS);
        body.extend_from_slice(format!("{kind}.{:03}:", f.number).as_bytes());
        for (i, sub) in f.subfields.iter().enumerate() {
            if i > 0 {
                body.push(RS);
            }
            for (j, item) in sub.iter().enumerate() {
                if j > 0 {
                    body.push(US);
                }
                body.extend_from_slice(item.as_bytes());
            }
        }
    }
    if let Some(d) = data {
        body.push(GS);
        body.extend_from_slice(format!("{kind}.999:").as_bytes());
        body.extend_from_slice(d);
    }
    body.push(FS);
    // LEN counts the whole record, its own digits included.
    let prefix = format!("{kind}.001:");
    let mut len = prefix.len() + body.len() + 1;
    loop {
        let total = prefix.len() + len.to_string().len() + body.len();
        if total == len {
            break;
        }
        len = total;
    }
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(len.to_string().as_bytes());
    out.extend_from_slice(&body);
    out
}

/// Write a transaction in the traditional encoding.
pub fn encode(t: &Transaction) -> Result<Vec<u8>, RecordError> {
    let mut cnt = vec![vec!["1".to_string(), t.records.len().to_string()]];
    for r in &t.records {
        cnt.push(vec![r.kind().to_string(), r.idc().to_string()]);
    }
    let mut header = vec![Field::text(2, t.version.clone()), Field { number: 3, subfields: cnt, at: 0 }];
    header.extend(t.header.iter().cloned());
    let mut out = tagged(1, &header, None);
    for r in &t.records {
        match r {
            Record::Tagged { kind, idc, fields, data, .. } => {
                if is_binary(*kind) || *kind == 1 {
                    return Err(bad(out.len(), "record type", format!("Type-{kind} is not a tagged record")));
                }
                let mut all = vec![Field::text(2, idc.to_string())];
                all.extend(fields.iter().cloned());
                out.extend_from_slice(&tagged(*kind, &all, data.as_deref()));
            }
            Record::Type4 { idc, impression, positions, scanning, width, height, compression, data, .. } => {
                let len = u32::try_from(18 + data.len()).map_err(|_| bad(out.len(), "4.001 LEN", "more than 4 GiB"))?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&[*idc, *impression]);
                out.extend_from_slice(positions);
                out.push(*scanning);
                out.extend_from_slice(&width.to_be_bytes());
                out.extend_from_slice(&height.to_be_bytes());
                out.push(*compression);
                out.extend_from_slice(data);
            }
        }
    }
    // What is written must read back.
    parse(&out)?;
    Ok(out)
}

// ---------------------------------------------------------------- reading

fn digits(b: &[u8], at: usize, field: &'static str) -> Result<usize, RecordError> {
    let s = std::str::from_utf8(b).map_err(|_| bad(at, field, "is not ASCII digits"))?;
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad(at, field, format!("`{}` is not a number", s.chars().take(12).collect::<String>())));
    }
    s.parse().map_err(|_| bad(at, field, "is too large"))
}

/// Parse one tagged record starting at `at`; returns its fields (LEN included) and
/// the binary data of field 999.
/// A tagged record as read: where it ends, its fields, and field 999's bytes.
type Tagged = (usize, Vec<Field>, Option<Vec<u8>>);

fn parse_tagged(b: &[u8], at: usize, kind: u8) -> Result<Tagged, RecordError> {
    let prefix = format!("{kind}.001:");
    if !b[at..].starts_with(prefix.as_bytes()) {
        return Err(bad(at, "record length", format!("a Type-{kind} record starts with `{prefix}`")));
    }
    let len_at = at + prefix.len();
    let gs = b[len_at..]
        .iter()
        .position(|c| *c == GS || *c == FS)
        .ok_or_else(|| bad(len_at, "record length", "no field separator follows it"))?;
    let len = digits(&b[len_at..len_at + gs], len_at, "record length")?;
    let end = at.checked_add(len).filter(|e| *e <= b.len() && len > prefix.len()).ok_or_else(|| {
        bad(len_at, "record length", format!("{len} bytes run past the end of the file ({} bytes)", b.len()))
    })?;
    if b[end - 1] != FS {
        return Err(bad(end - 1, "record length", format!("the record of {len} bytes does not end with FS")));
    }
    let mut fields = Vec::new();
    let mut data = None;
    let mut p = at;
    while p < end - 1 {
        let colon =
            b[p..end].iter().position(|c| *c == b':').ok_or_else(|| bad(p, "field tag", "no `:` after the tag"))?;
        let tag = std::str::from_utf8(&b[p..p + colon]).map_err(|_| bad(p, "field tag", "is not ASCII"))?;
        let (t, n) = tag.split_once('.').ok_or_else(|| bad(p, "field tag", format!("`{tag}` is not T.NNN")))?;
        if t != kind.to_string() {
            return Err(bad(p, "field tag", format!("`{tag}` in a Type-{kind} record")));
        }
        let number = u16::try_from(digits(n.as_bytes(), p, "field tag")?)
            .map_err(|_| bad(p, "field tag", "number too large"))?;
        if fields.last().is_some_and(|f: &Field| f.number >= number) && number != 999 {
            return Err(bad(p, "field tag", format!("field {tag} is out of order or repeated")));
        }
        let v = p + colon + 1;
        if number == 999 {
            data = Some(b[v..end - 1].to_vec());
            p = end;
            break;
        }
        let stop = b[v..end].iter().position(|c| *c == GS || *c == FS).map(|i| v + i).unwrap_or(end - 1);
        let value =
            std::str::from_utf8(&b[v..stop]).map_err(|_| bad(v, "field value", format!("field {tag} is not text")))?;
        let subfields = value.split(RS as char).map(|s| s.split(US as char).map(str::to_string).collect()).collect();
        fields.push(Field { number, subfields, at: p });
        p = stop + 1;
    }
    if p < end {
        return Err(bad(p, "record length", "bytes after the last field"));
    }
    if fields.first().map(|f| f.number) != Some(1) {
        return Err(bad(at, "record length", "the first field is not LEN"));
    }
    Ok((end, fields, data))
}

/// A numeric field: `at` is where its record starts, for a missing field.
fn number_field<T: TryFrom<usize>>(r: &[Field], number: u16, at: usize, name: &'static str) -> Result<T, RecordError> {
    let f = r.iter().find(|f| f.number == number).ok_or_else(|| bad(at, name, "is missing"))?;
    let n = digits(f.value().as_bytes(), f.at, name)?;
    T::try_from(n).map_err(|_| bad(f.at, name, format!("{n} is out of range")))
}

/// Parse a transaction, checking every length, the record count and each IDC.
pub fn parse(b: &[u8]) -> Result<Transaction, RecordError> {
    if b.is_empty() {
        return Err(bad(0, "1.001 LEN", "the file is empty"));
    }
    let (mut at, t1, _) = parse_tagged(b, 0, 1)?;
    let ver = t1.iter().find(|f| f.number == 2).ok_or_else(|| bad(0, "1.002 VER", "is missing"))?;
    let version = ver.value().to_string();
    if version.len() != 4 || !version.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad(ver.at, "1.002 VER", format!("`{version}` is not a four-digit version")));
    }
    let cnt = t1.iter().find(|f| f.number == 3).ok_or_else(|| bad(0, "1.003 CNT", "is missing"))?;
    let first = cnt.subfields.first().ok_or_else(|| bad(cnt.at, "1.003 CNT", "is empty"))?;
    if first.len() != 2 || first[0] != "1" {
        return Err(bad(cnt.at, "1.003 CNT", "the first subfield must be `1`, then the number of other records"));
    }
    let count = digits(first[1].as_bytes(), cnt.at, "1.003 CNT")?;
    if count + 1 != cnt.subfields.len() {
        return Err(bad(cnt.at, "1.003 CNT", format!("says {count} records and lists {}", cnt.subfields.len() - 1)));
    }
    let mut records = Vec::with_capacity(count);
    for sub in &cnt.subfields[1..] {
        if sub.len() != 2 {
            return Err(bad(cnt.at, "1.003 CNT", "each subfield is a record type and an IDC"));
        }
        let kind = u8::try_from(digits(sub[0].as_bytes(), cnt.at, "1.003 CNT")?)
            .map_err(|_| bad(cnt.at, "1.003 CNT", "record type out of range"))?;
        let idc = u8::try_from(digits(sub[1].as_bytes(), cnt.at, "1.003 CNT")?)
            .map_err(|_| bad(cnt.at, "1.003 CNT", "IDC out of range"))?;
        if at >= b.len() {
            return Err(bad(at, "record length", format!("the file ends before the Type-{kind} record CNT lists")));
        }
        if kind == 4 {
            if b.len() - at < 18 {
                return Err(bad(at, "4.001 LEN", "the file ends inside a Type-4 header"));
            }
            let len = u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize;
            let end = at.checked_add(len).filter(|e| *e <= b.len() && len >= 18).ok_or_else(|| {
                bad(at, "4.001 LEN", format!("{len} bytes is shorter than the header or runs past the file's end"))
            })?;
            let h = &b[at..end];
            if h[4] != idc {
                return Err(bad(at + 4, "4.002 IDC", format!("is {}, CNT says {idc}", h[4])));
            }
            let mut positions = [0u8; 6];
            positions.copy_from_slice(&h[6..12]);
            records.push(Record::Type4 {
                idc,
                impression: h[5],
                positions,
                scanning: h[12],
                width: u16::from_be_bytes([h[13], h[14]]),
                height: u16::from_be_bytes([h[15], h[16]]),
                compression: h[17],
                data: h[18..].to_vec(),
                at,
            });
            at = end;
        } else if is_binary(kind) || kind == 1 {
            return Err(bad(
                at,
                "record type",
                format!("Type-{kind} records are not read; send Type-4, -9, -10 or -14"),
            ));
        } else {
            let (end, mut fields, data) = parse_tagged(b, at, kind)?;
            let found: u8 = number_field(&fields, 2, at, "IDC")?;
            if found != idc {
                return Err(bad(at, "IDC", format!("Type-{kind} record has IDC {found}, CNT says {idc}")));
            }
            fields.retain(|f| f.number > 2);
            records.push(Record::Tagged { kind, idc, fields, data, at });
            at = end;
        }
    }
    if at != b.len() {
        return Err(bad(at, "1.003 CNT", format!("{} bytes follow the last record CNT lists", b.len() - at)));
    }
    let header = t1.into_iter().filter(|f| f.number > 3).collect();
    Ok(Transaction { version, header, records })
}

// ---------------------------------------------------------------- conversions

use crate::face::{FaceRecord, ImageDataType};
use crate::finger_image::{Compression, FingerImage, FingerImageRecord};
use crate::minutiae::{FingerView, Minutia, MinutiaType, MinutiaeRecord};

/// ISO pixel → 0.01 mm at `ppcm` pixels per centimetre.
fn px_to_units(px: u16, ppcm: u16) -> u32 {
    ((f64::from(px) * 1000.0 / f64::from(ppcm)) + 0.5) as u32
}

fn units_to_px(units: u32, ppcm: u16) -> u16 {
    ((f64::from(units) * f64::from(ppcm) / 1000.0) + 0.5).min(f64::from(0x3FFF)) as u16
}

/// Minutia quality 0–100 (0 not reported) ↔ ANSI/NIST 0–63 (1 no quality method,
/// 2–63 rising confidence).
fn quality_to_an2k(q: u8) -> u8 {
    if q == 0 {
        1
    } else {
        2 + ((u32::from(q.min(100)) - 1) * 61 / 99) as u8
    }
}

fn quality_from_an2k(q: u8) -> u8 {
    if q < 2 {
        0
    } else {
        1 + ((u32::from(q.min(63)) - 2) * 99 / 61) as u8
    }
}

/// Type-9 standard fields for one finger of a minutiae record.
fn type9(rec: &MinutiaeRecord, v: &FingerView, idc: u8) -> Record {
    let ppcm = rec.y_resolution.max(1);
    let xres = rec.x_resolution.max(1);
    let h_units = px_to_units(rec.height.saturating_sub(1), ppcm);
    let mrc = v
        .minutiae
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let x = px_to_units(m.x, xres);
            let y = h_units.saturating_sub(px_to_units(m.y, ppcm));
            let degrees = ((f64::from(m.angle) * 360.0 / 256.0) + 0.5) as u32 % 360;
            let theta = (degrees + 180) % 360;
            let kind = match m.kind {
                MinutiaType::RidgeEnding => "A",
                MinutiaType::Bifurcation => "B",
                MinutiaType::Other => "D",
            };
            vec![
                format!("{:03}", i + 1),
                format!("{:04}{:04}{:03}", x.min(9999), y.min(9999), theta),
                quality_to_an2k(m.quality).to_string(),
                kind.to_string(),
            ]
        })
        .collect::<Vec<_>>();
    let mut fields = vec![
        Field::text(3, v.impression.to_string()),
        Field::text(4, "S"),
        Field { number: 5, subfields: vec![vec!["FAIRGATE".into(), "A".into()]], at: 0 },
        Field::text(6, format!("{:02}", v.position)),
        Field { number: 7, subfields: vec![vec!["T".into(), "UN".into()]], at: 0 },
        Field::text(10, v.minutiae.len().to_string()),
        Field::text(11, "0"),
    ];
    if !mrc.is_empty() {
        fields.push(Field { number: 12, subfields: mrc, at: 0 });
    }
    Record::Tagged { kind: 9, idc, fields, data: None, at: 0 }
}

fn compression_name(c: Compression) -> &'static str {
    match c {
        Compression::None | Compression::NoneBitPacked => "NONE",
        Compression::Wsq => "WSQ20",
        Compression::Jpeg => "JPEGB",
        Compression::Jpeg2000Lossy => "JP2",
        Compression::Jpeg2000Lossless => "JP2L",
        Compression::Png => "PNG",
    }
}

fn compression_from_name(s: &str) -> Option<Compression> {
    Some(match s {
        "NONE" => Compression::None,
        "WSQ20" | "WSQ" => Compression::Wsq,
        "JPEGB" | "JPEGL" => Compression::Jpeg,
        "JP2" => Compression::Jpeg2000Lossy,
        "JP2L" => Compression::Jpeg2000Lossless,
        "PNG" => Compression::Png,
        _ => return None,
    })
}

fn date8(t: &crate::face::CaptureTime, fallback: &str) -> String {
    if t.year == 0xFFFF || t.month == 0xFF || t.day == 0xFF {
        fallback.to_string()
    } else {
        format!("{:04}{:02}{:02}", t.year, t.month, t.day)
    }
}

/// What to put in Type-1, and how to write finger images.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// 1.004 TOT: the type of transaction.
    pub tot: String,
    /// 1.005 DAT, YYYYMMDD.
    pub date: String,
    /// 1.007 DAI and 1.008 ORI: destination and originating agency.
    pub dai: String,
    pub ori: String,
    /// 1.009 TCN: the transaction control number.
    pub tcn: String,
    /// Write 8-bit 500 ppi uncompressed or WSQ finger images as Type-4 (what older
    /// systems read) rather than Type-14.
    pub type4: bool,
}

/// The biometric records of one person as a transaction: a Type-2 (with the frames
/// of the minutiae records), a Type-10 for the face, and for each finger a Type-9
/// and, when there is an image, a Type-14 (or Type-4) sharing its IDC (the finger
/// position).
pub fn from_records(
    env: &Envelope,
    face: Option<&FaceRecord>,
    minutiae: &[MinutiaeRecord],
    images: &[FingerImageRecord],
) -> Result<Vec<u8>, RecordError> {
    let mut records = Vec::new();
    let mut frames = Vec::new();
    let mut fingers = Vec::new();
    for rec in minutiae {
        for v in &rec.views {
            frames.push(vec![
                v.position.to_string(),
                rec.width.to_string(),
                rec.height.to_string(),
                rec.x_resolution.to_string(),
            ]);
            fingers.push(type9(rec, v, v.position));
        }
    }
    let mut type2 = vec![];
    if !frames.is_empty() {
        type2.push(Field { number: FRAME_FIELD, subfields: frames, at: 0 });
    }
    records.push(Record::Tagged { kind: 2, idc: 0, fields: type2, data: None, at: 0 });
    if let Some(face) = face {
        for img in &face.images {
            let cga = match img.data_type {
                ImageDataType::Jpeg => "JPEGB",
                ImageDataType::Png => "PNG",
                ImageDataType::Jpeg2000Lossy => "JP2",
                ImageDataType::Jpeg2000Lossless => "JP2L",
            };
            let csp = if img.colour_space == 3 { "GRAY" } else { "SRGB" };
            records.push(Record::Tagged {
                kind: 10,
                idc: 20,
                fields: vec![
                    Field::text(3, "FACE"),
                    Field::text(4, env.ori.clone()),
                    Field::text(5, date8(&img.captured, &env.date)),
                    Field::text(6, img.width.to_string()),
                    Field::text(7, img.height.to_string()),
                    Field::text(8, "0"),
                    Field::text(9, "1"),
                    Field::text(10, "1"),
                    Field::text(11, cga),
                    Field::text(12, csp),
                ],
                data: Some(img.data.clone()),
                at: 0,
            });
        }
    }
    records.extend(fingers);
    for rec in images {
        for i in &rec.images {
            let legacy = env.type4
                && i.bit_depth == 8
                && matches!(i.compression, Compression::None | Compression::Wsq)
                && (495..=505).contains(&i.ppi());
            if legacy {
                records.push(Record::Type4 {
                    idc: i.position,
                    impression: i.impression,
                    positions: [i.position, 255, 255, 255, 255, 255],
                    scanning: 0,
                    width: i.width,
                    height: i.height,
                    compression: u8::from(i.compression == Compression::Wsq),
                    data: i.data.clone(),
                    at: 0,
                });
                continue;
            }
            records.push(Record::Tagged {
                kind: 14,
                idc: i.position,
                fields: vec![
                    Field::text(3, i.impression.to_string()),
                    Field::text(4, env.ori.clone()),
                    Field::text(5, date8(&i.captured, &env.date)),
                    Field::text(6, i.width.to_string()),
                    Field::text(7, i.height.to_string()),
                    Field::text(8, i.scale_units.to_string()),
                    Field::text(9, i.image_rate.0.to_string()),
                    Field::text(10, i.image_rate.1.to_string()),
                    Field::text(11, compression_name(i.compression)),
                    Field::text(12, i.bit_depth.to_string()),
                    Field::text(13, i.position.to_string()),
                ],
                data: Some(i.data.clone()),
                at: 0,
            });
        }
    }
    records.sort_by_key(|r| (r.kind(), r.idc()));
    let header = vec![
        Field::text(4, env.tot.clone()),
        Field::text(5, env.date.clone()),
        Field::text(7, env.dai.clone()),
        Field::text(8, env.ori.clone()),
        Field::text(9, env.tcn.clone()),
        Field::text(11, "00.00"),
        Field::text(12, "00.00"),
    ];
    encode(&Transaction { version: VERSION.into(), header, records })
}

/// The ISO records a transaction holds: one single-finger minutiae record per
/// Type-9, one finger image record per Type-4 or Type-14. Faces (Type-10) are not
/// taken from files: a portrait is taken at the desk.
pub fn to_records(t: &Transaction) -> Result<(Vec<MinutiaeRecord>, Vec<FingerImageRecord>), RecordError> {
    let frames: Vec<Vec<String>> = t
        .records
        .iter()
        .find(|r| r.kind() == 2)
        .and_then(|r| r.field(FRAME_FIELD))
        .map(|f| f.subfields.clone())
        .unwrap_or_default();
    let frame_at = t.records.iter().find(|r| r.kind() == 2).and_then(|r| r.field(FRAME_FIELD)).map_or(0, |f| f.at);
    let num = |s: &str, name: &'static str| -> Result<u16, RecordError> {
        u16::try_from(digits(s.trim().as_bytes(), frame_at, name)?)
            .map_err(|_| bad(frame_at, name, format!("{s} is out of range")))
    };
    let mut minutiae = Vec::new();
    let mut images = Vec::new();
    for r in &t.records {
        match r {
            Record::Tagged { kind: 9, idc, fields, at, .. } => {
                if fields.iter().find(|f| f.number == 4).map(Field::value) != Some("S") {
                    return Err(bad(
                        *at,
                        "9.004 FMT",
                        format!("Type-9 record {idc} is not in the standard format (S)"),
                    ));
                }
                let position: u8 = number_field(fields, 6, *at, "9.006 FGP")?;
                let impression: u8 = number_field(fields, 3, *at, "9.003 IMP")?;
                let mut raw = Vec::new();
                if let Some(f) = fields.iter().find(|f| f.number == 12) {
                    let at = f.at;
                    for s in &f.subfields {
                        if s.len() < 4 || s[1].len() != 11 {
                            return Err(bad(
                                0,
                                "9.012 MRC",
                                format!("`{}` is not index, XXXXYYYYTTT, quality, type", s.join(",")),
                            ));
                        }
                        // Bytes, not characters: a field of eleven bytes may not be eleven ASCII characters.
                        let xyt = s[1].as_bytes();
                        let x = digits(&xyt[0..4], at, "9.012 MRC")? as u32;
                        let y = digits(&xyt[4..8], at, "9.012 MRC")? as u32;
                        let theta = digits(&xyt[8..11], at, "9.012 MRC")? as u32;
                        if theta >= 360 {
                            return Err(bad(at, "9.012 MRC", format!("angle {theta} is not 0 to 359")));
                        }
                        let q = u8::try_from(digits(s[2].as_bytes(), at, "9.012 MRC")?).unwrap_or(0);
                        let kind = match s[3].as_str() {
                            "A" => MinutiaType::RidgeEnding,
                            "B" => MinutiaType::Bifurcation,
                            "C" | "D" => MinutiaType::Other,
                            other => {
                                return Err(bad(
                                    0,
                                    "9.012 MRC",
                                    format!("`{other}` is not a minutia type (A, B, C, D)"),
                                ))
                            }
                        };
                        raw.push((x, y, theta, q, kind));
                    }
                }
                let frame = frames.iter().find(|f| f.first().map(String::as_str) == Some(&idc.to_string()));
                let (width, height, ppcm) = match frame {
                    Some(f) if f.len() == 4 => {
                        (num(&f[1], "2.900 frame")?, num(&f[2], "2.900 frame")?, num(&f[3], "2.900 frame")?)
                    }
                    _ => {
                        // 500 ppi, in the smallest frame that holds every minutia.
                        let ppcm = 197;
                        let w = raw.iter().map(|m| units_to_px(m.0, ppcm)).max().unwrap_or(0) + 1;
                        let h = raw.iter().map(|m| units_to_px(m.1, ppcm)).max().unwrap_or(0) + 1;
                        (w, h, ppcm)
                    }
                };
                if width == 0 || height == 0 || ppcm == 0 {
                    return Err(bad(
                        0,
                        "2.900 frame",
                        format!("finger {idc}: width, height and resolution must not be 0"),
                    ));
                }
                let h_units = px_to_units(height - 1, ppcm);
                let list = raw
                    .into_iter()
                    .map(|(x, y, theta, q, kind)| {
                        let degrees = (theta + 180) % 360;
                        Minutia {
                            kind,
                            x: units_to_px(x, ppcm).min(width - 1),
                            y: units_to_px(h_units.saturating_sub(y), ppcm).min(height - 1),
                            angle: ((f64::from(degrees) * 256.0 / 360.0) + 0.5) as u32 as u8,
                            quality: quality_from_an2k(q),
                        }
                    })
                    .collect();
                minutiae.push(MinutiaeRecord {
                    certification: 0,
                    device_type: 0,
                    width,
                    height,
                    x_resolution: ppcm,
                    y_resolution: ppcm,
                    views: vec![FingerView {
                        position,
                        view: 0,
                        impression,
                        quality: 0,
                        minutiae: list,
                        extended: vec![],
                    }],
                });
            }
            Record::Tagged { kind: 14, idc, fields, data, at } => {
                let data = data
                    .clone()
                    .ok_or_else(|| bad(*at, "14.999 DATA", format!("Type-14 record {idc} has no image")))?;
                let cga = fields.iter().find(|f| f.number == 11).map(Field::value).unwrap_or("");
                let compression = compression_from_name(cga).ok_or_else(|| {
                    bad(*at, "14.011 CGA", format!("`{cga}` is not NONE, WSQ20, JPEGB, JPEGL, JP2, JP2L or PNG"))
                })?;
                let mut i = FingerImage::plain(
                    number_field(fields, 13, *at, "14.013 FGP")?,
                    number_field(fields, 6, *at, "14.006 HLL")?,
                    number_field(fields, 7, *at, "14.007 VLL")?,
                    data,
                );
                i.impression = number_field(fields, 3, *at, "14.003 IMP")?;
                i.scale_units = number_field(fields, 8, *at, "14.008 SLC")?;
                i.image_rate =
                    (number_field(fields, 9, *at, "14.009 THPS")?, number_field(fields, 10, *at, "14.010 TVPS")?);
                i.capture_rate = i.image_rate;
                i.bit_depth = number_field(fields, 12, *at, "14.012 BPX")?;
                i.compression = compression;
                images.push(FingerImageRecord { certified: false, images: vec![i] });
            }
            Record::Type4 { idc, impression, positions, width, height, compression, data, at, .. } => {
                let compression = match compression {
                    0 => Compression::None,
                    1 => Compression::Wsq,
                    c => {
                        return Err(bad(
                            *at + 17,
                            "4.008 GCA",
                            format!("Type-4 record {idc}: compression {c} is not 0 (none) or 1 (WSQ)"),
                        ))
                    }
                };
                let mut i = FingerImage::plain(positions[0], *width, *height, data.clone());
                i.impression = *impression;
                i.compression = compression;
                images.push(FingerImageRecord { certified: false, images: vec![i] });
            }
            _ => {}
        }
    }
    // Every record must be valid as ISO: the same checks, one place.
    for m in &minutiae {
        crate::minutiae::encode(m)?;
    }
    for i in &images {
        crate::finger_image::encode(i)?;
    }
    Ok((minutiae, images))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env() -> Envelope {
        Envelope {
            tot: "FGX".into(),
            date: "20261130".into(),
            dai: "DEST".into(),
            ori: "FAIRGATE".into(),
            tcn: "T1".into(),
            type4: false,
        }
    }

    fn minutiae_record() -> MinutiaeRecord {
        MinutiaeRecord {
            certification: 0,
            device_type: 0,
            width: 500,
            height: 550,
            x_resolution: 197,
            y_resolution: 197,
            views: vec![FingerView {
                position: 2,
                view: 0,
                impression: 0,
                quality: 0,
                minutiae: vec![
                    Minutia { kind: MinutiaType::RidgeEnding, x: 100, y: 200, angle: 64, quality: 0 },
                    Minutia { kind: MinutiaType::Bifurcation, x: 321, y: 123, angle: 200, quality: 0 },
                ],
                extended: vec![],
            }],
        }
    }

    /// The golden file of one finger's minutiae, written out by hand.
    fn golden() -> Vec<u8> {
        let f = |s: &str| s.replace('|', "\x1d").replace('^', "\x1e").replace('~', "\x1f").replace('#', "\x1c");
        let t1 = f("1.001:123|1.002:0500|1.003:1~2^2~0^9~2|1.004:FGX|1.005:20261130|1.007:DEST|1.008:FAIRGATE|1.009:T1|1.011:00.00|1.012:00.00#");
        let t2 = f("2.001:37|2.002:0|2.900:2~500~550~197#");
        // (100, 200) px → 508, (549 − 200) → 2787 − 1015 = 1772; 64 × 360/256 = 90°, + 180 = 270.
        // (321, 123) px → 1629, 2787 − 624 = 2163; 200 × 360/256 = 281°, + 180 = 101.
        let t9 = f("9.001:133|9.002:2|9.003:0|9.004:S|9.005:FAIRGATE~A|9.006:02|9.007:T~UN|9.010:2|9.011:0|9.012:001~05081772270~1~A^002~16292163101~1~B#");
        [t1, t2, t9].concat().into_bytes()
    }

    #[test]
    fn the_golden_file_is_written_byte_for_byte_and_reads_back_the_same_minutiae() {
        let file = from_records(&env(), None, &[minutiae_record()], &[]).unwrap();
        assert_eq!(String::from_utf8_lossy(&file), String::from_utf8_lossy(&golden()));
        let t = parse(&golden()).unwrap();
        let (m, i) = to_records(&t).unwrap();
        assert!(i.is_empty());
        assert_eq!(m, vec![minutiae_record()]);
    }

    #[test]
    fn finger_images_go_as_type_14_or_type_4_and_come_back() {
        let img = FingerImage::plain(7, 3, 2, vec![1, 2, 3, 4, 5, 6]);
        let rec = FingerImageRecord { certified: false, images: vec![img] };
        for type4 in [false, true] {
            let file = from_records(&Envelope { type4, ..env() }, None, &[], std::slice::from_ref(&rec)).unwrap();
            let t = parse(&file).unwrap();
            assert_eq!(t.records.iter().map(Record::kind).collect::<Vec<_>>(), vec![2, if type4 { 4 } else { 14 }]);
            let (_, images) = to_records(&t).unwrap();
            assert_eq!(images, vec![rec.clone()]);
        }
    }

    #[test]
    fn malformed_files_name_the_byte_and_the_field() {
        let g = golden();
        let e = |b: &[u8]| parse(b).unwrap_err().to_string();
        assert_eq!(e(b""), "byte 0, 1.001 LEN: the file is empty");
        assert_eq!(e(&g[..50]), "byte 6, record length: 123 bytes run past the end of the file (50 bytes)");
        let mut b = g.clone();
        b[29] = b'3'; // CNT says three records
        assert_eq!(e(&b), "byte 21, 1.003 CNT: says 3 records and lists 2");
        let mut b = g.clone();
        let at = 123 + 37 + 16; // the IDC of the Type-9 record
        assert_eq!(b[at], b'2');
        b[at] = b'5';
        assert_eq!(e(&b), "byte 160, IDC: Type-9 record has IDC 5, CNT says 2");
        // A field that parses but does not convert names its own offset.
        let text = String::from_utf8(g.clone()).unwrap().replace("05081772270", "05081772370");
        let t = parse(text.as_bytes()).unwrap();
        assert_eq!(to_records(&t).unwrap_err().to_string(), "byte 247, 9.012 MRC: angle 370 is not 0 to 359");
        let mut extra = g.clone();
        extra.push(0);
        assert_eq!(e(&extra), "byte 293, 1.003 CNT: 1 bytes follow the last record CNT lists");
    }

    fn record() -> impl Strategy<Value = MinutiaeRecord> {
        (100u16..800, 100u16..800, prop::sample::select(vec![197u16, 394]), 1u8..=10).prop_flat_map(
            |(w, h, res, position)| {
                proptest::collection::vec((0u8..3, 0..w, 0..h, any::<u8>()), 0..30).prop_map(move |ms| MinutiaeRecord {
                    certification: 0,
                    device_type: 0,
                    width: w,
                    height: h,
                    x_resolution: res,
                    y_resolution: res,
                    views: vec![FingerView {
                        position,
                        view: 0,
                        impression: 0,
                        quality: 0,
                        minutiae: ms
                            .into_iter()
                            .map(|(t, x, y, angle)| Minutia {
                                kind: [MinutiaType::Other, MinutiaType::RidgeEnding, MinutiaType::Bifurcation]
                                    [t as usize],
                                x,
                                y,
                                angle,
                                quality: 0,
                            })
                            .collect(),
                        extended: vec![],
                    }],
                })
            },
        )
    }

    proptest! {
        /// Positions, angles and types survive the trip through ANSI/NIST units exactly.
        #[test]
        fn any_minutiae_record_goes_through_an2k_and_back_unchanged(rec in record()) {
            let file = from_records(&env(), None, std::slice::from_ref(&rec), &[]).unwrap();
            let (back, _) = to_records(&parse(&file).unwrap()).unwrap();
            prop_assert_eq!(back, vec![rec]);
        }

        #[test]
        fn any_bytes_are_refused_with_an_offset_inside_the_input_or_read(b in proptest::collection::vec(any::<u8>(), 0..300), flip in any::<prop::sample::Index>(), to in any::<u8>()) {
            let mut g = golden();
            let i = flip.index(g.len());
            g[i] = to;
            for input in [b.clone(), g] {
                match parse(&input) {
                    Err(e) => prop_assert!(e.offset <= input.len(), "{e}"),
                    Ok(t) => { let _ = to_records(&t); }
                }
            }
        }
    }
}
