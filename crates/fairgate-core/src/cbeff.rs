//! CBEFF (ISO/IEC 19785) biometric information records: the wrapper every stored
//! biometric data block carries (format owner and type, creation date, modality,
//! finger, processing level, quality), and the export in the XML patron format of
//! ISO/IEC 19785-3 (namespace `http://standards.iso.org/iso-iec/19785/-3/ed-2/`).
//!
//! Format identifiers are those IBIA registers for ISO/IEC JTC 1 SC 37 (owner 257):
//! type 2 finger minutiae (ISO/IEC 19794-2), 7 finger image (19794-4), 8 face image
//! (19794-5).

use base64::Engine as _;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::capture::Captures;
use crate::face::CaptureTime;

/// ISO/IEC JTC 1 SC 37, the format owner of the 19794 formats.
pub const SC37: u16 = 257;
pub const FORMAT_FINGER_MINUTIAE: u16 = 2;
pub const FORMAT_FINGER_IMAGE: u16 = 7;
pub const FORMAT_FACE_IMAGE: u16 = 8;
pub const NAMESPACE: &str = "http://standards.iso.org/iso-iec/19785/-3/ed-2/";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Modality {
    Face,
    Finger,
}

/// The processing level of the data block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    /// An image as captured.
    Raw,
    /// Features extracted from it (minutiae).
    Processed,
}

/// One biometric information record: a header and the data block it wraps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bir {
    pub format_owner: u16,
    pub format_type: u16,
    /// When the sample was captured (UTC).
    pub created: Timestamp,
    pub modality: Modality,
    /// The finger position (ISO/IEC 19794-2), for fingers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finger: Option<u8>,
    pub level: Level,
    /// 0–100, when the record gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
    /// The data block: the ISO/IEC 19794 record.
    #[serde(with = "b64")]
    pub bdb: Vec<u8>,
}

mod b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}

/// The CBEFF subtype words of a finger position (1–10).
pub fn finger_subtype(position: u8) -> &'static str {
    match position {
        1 => "Right Thumb",
        2 => "Right IndexFinger",
        3 => "Right MiddleFinger",
        4 => "Right RingFinger",
        5 => "Right LittleFinger",
        6 => "Left Thumb",
        7 => "Left IndexFinger",
        8 => "Left MiddleFinger",
        9 => "Left RingFinger",
        10 => "Left LittleFinger",
        _ => "Unknown",
    }
}

fn capture_instant(t: &CaptureTime) -> Option<Timestamp> {
    if [t.month, t.day, t.hour, t.minute, t.second].contains(&0xFF) || t.year == 0xFFFF {
        return None;
    }
    let ms = if t.millisecond == 0xFFFF { 0 } else { t.millisecond };
    let s =
        format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.year, t.month, t.day, t.hour, t.minute, t.second, ms);
    s.parse().ok()
}

impl Captures {
    /// The records to store, each in its CBEFF wrapper. A face record that states
    /// its capture time keeps it; everything else is dated `at`, the registration.
    pub fn birs(&self, at: Timestamp) -> Vec<Bir> {
        let mut out = Vec::with_capacity(1 + self.fingers.len());
        if let Some((bytes, rec)) = &self.face {
            let img = rec.images.first();
            out.push(Bir {
                format_owner: SC37,
                format_type: FORMAT_FACE_IMAGE,
                created: img.and_then(|i| capture_instant(&i.captured)).unwrap_or(at),
                modality: Modality::Face,
                finger: None,
                level: Level::Raw,
                quality: img.and_then(|i| i.quality.iter().map(|q| q.score).find(|s| *s <= 100)),
                bdb: bytes.clone(),
            });
        }
        for (position, rec) in &self.fingers {
            out.push(Bir {
                format_owner: SC37,
                format_type: FORMAT_FINGER_MINUTIAE,
                created: at,
                modality: Modality::Finger,
                finger: Some(*position),
                level: Level::Processed,
                quality: rec.views.first().map(|v| v.quality),
                // Parsed from a valid record and cut to one finger: it encodes.
                bdb: crate::minutiae::encode(rec).unwrap_or_default(),
            });
        }
        for (position, rec) in &self.images {
            let img = rec.images.first();
            out.push(Bir {
                format_owner: SC37,
                format_type: FORMAT_FINGER_IMAGE,
                created: img.and_then(|i| capture_instant(&i.captured)).unwrap_or(at),
                modality: Modality::Finger,
                finger: Some(*position),
                level: Level::Raw,
                quality: img.and_then(|i| i.quality.iter().map(|q| q.score).find(|s| *s <= 100)),
                // Parsed from a valid record and cut to one finger: it encodes.
                bdb: crate::finger_image::encode(rec).unwrap_or_default(),
            });
        }
        out
    }
}

/// A person's records by kind: the face, the minutiae, the finger images.
pub type Unwrapped = (
    Option<crate::face::FaceRecord>,
    Vec<crate::minutiae::MinutiaeRecord>,
    Vec<crate::finger_image::FingerImageRecord>,
);

/// The records inside a list of BIRs, parsed: the face, the minutiae and the finger
/// images (for the ANSI/NIST export and the matchers).
pub fn unwrap(birs: &[Bir]) -> Result<Unwrapped, crate::record::RecordError> {
    let (mut face, mut minutiae, mut images) = (None, Vec::new(), Vec::new());
    for b in birs {
        match (b.format_owner, b.format_type) {
            (SC37, FORMAT_FACE_IMAGE) => face = Some(crate::face::parse(&b.bdb)?),
            (SC37, FORMAT_FINGER_MINUTIAE) => minutiae.push(crate::minutiae::parse(&b.bdb)?),
            (SC37, FORMAT_FINGER_IMAGE) => images.push(crate::finger_image::parse(&b.bdb)?),
            _ => {}
        }
    }
    Ok((face, minutiae, images))
}

fn push_version(out: &mut String, indent: &str) {
    for tag in ["Version", "CBEFFVersion"] {
        out.push_str(&format!("{indent}<{tag}><Major>1</Major><Minor>1</Minor></{tag}>\n"));
    }
}

/// A collection of records as one CBEFF XML document: an outer BIR holding one
/// inner BIR per data block, in the order given.
pub fn to_xml(birs: &[Bir]) -> String {
    let mut out = String::with_capacity(512 + birs.iter().map(|b| 600 + b.bdb.len() * 4 / 3).sum::<usize>());
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!("<BIR xmlns=\"{NAMESPACE}\">\n"));
    push_version(&mut out, "  ");
    out.push_str("  <BIRInfo><Integrity>false</Integrity></BIRInfo>\n");
    for b in birs {
        out.push_str("  <BIR>\n");
        push_version(&mut out, "    ");
        out.push_str("    <BIRInfo><Integrity>false</Integrity></BIRInfo>\n");
        out.push_str("    <BDBInfo>\n");
        out.push_str(&format!(
            "      <Format><Organization>{}</Organization><Type>{}</Type></Format>\n",
            b.format_owner, b.format_type
        ));
        out.push_str(&format!("      <CreationDate>{}</CreationDate>\n", b.created));
        let modality = match b.modality {
            Modality::Face => "Face",
            Modality::Finger => "Finger",
        };
        out.push_str(&format!("      <Type>{modality}</Type>\n"));
        if let Some(p) = b.finger {
            out.push_str(&format!("      <Subtype>{}</Subtype>\n", finger_subtype(p)));
        }
        let level = match b.level {
            Level::Raw => "Raw",
            Level::Processed => "Processed",
        };
        out.push_str(&format!("      <Level>{level}</Level>\n"));
        out.push_str("      <Purpose>Enroll</Purpose>\n");
        if let Some(q) = b.quality {
            out.push_str(&format!("      <Quality><Score>{q}</Score></Quality>\n"));
        }
        out.push_str("    </BDBInfo>\n");
        out.push_str(&format!("    <BDB>{}</BDB>\n", base64::engine::general_purpose::STANDARD.encode(&b.bdb)));
        out.push_str("  </BIR>\n");
    }
    out.push_str("</BIR>\n");
    out
}

/// A data block read from CBEFF XML: (format owner, format type, the block).
pub type DataBlock = (u16, u16, Vec<u8>);

/// The data blocks of a CBEFF XML document (as `to_xml` writes it, or any in the
/// ISO/IEC 19785-3 patron format): (format owner, format type, data block) for each
/// BIR that has a `BDB`, in order. The format is read from the `Format` element
/// before each `BDB`; a BDB without one is refused, naming it.
pub fn data_blocks(xml: &str) -> Result<Vec<DataBlock>, String> {
    let between = |s: &str, open: &str, close: &str| -> Option<(usize, usize)> {
        let a = s.find(open)? + open.len();
        let b = a + s[a..].find(close)?;
        Some((a, b))
    };
    let mut out = Vec::new();
    let mut rest = xml;
    let mut n = 0;
    while let Some((a, b)) = between(rest, "<BDB>", "</BDB>") {
        n += 1;
        let before = &rest[..a];
        let format = before.rfind("<Format>").map(|i| &before[i..]);
        let field = |f: &str, tag: &str| -> Option<u16> {
            let (x, y) = between(f, &format!("<{tag}>"), &format!("</{tag}>"))?;
            f[x..y].trim().parse().ok()
        };
        let (owner, kind) = match format.map(|f| (field(f, "Organization"), field(f, "Type"))) {
            Some((Some(o), Some(t))) => (o, t),
            _ => return Err(format!("BDB {n}: no Format (Organization and Type) before it")),
        };
        let text: String = rest[a..b].chars().filter(|c| !c.is_whitespace()).collect();
        let bdb = base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| format!("BDB {n}: not base64"))?;
        out.push((owner, kind, bdb));
        rest = &rest[b + "</BDB>".len()..];
    }
    if out.is_empty() {
        return Err("no BDB element: not a CBEFF XML document".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_xml_export_reads_back_to_its_data_blocks() {
        let birs = sample();
        let blocks = data_blocks(&to_xml(&birs)).unwrap();
        assert_eq!(blocks.len(), birs.len());
        for (b, (owner, kind, bdb)) in birs.iter().zip(&blocks) {
            assert_eq!((b.format_owner, b.format_type, &b.bdb), (*owner, *kind, bdb));
        }
        assert!(data_blocks("<BIR></BIR>").is_err());
        assert!(data_blocks("<BIR><BDB>AAAA</BDB></BIR>").unwrap_err().contains("no Format"));
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_or_refused_never_a_panic(s in ".{0,300}", cut in 0usize..2000) {
            let _ = data_blocks(&s);
            let xml = to_xml(&sample());
            let cut = cut.min(xml.len());
            if xml.is_char_boundary(cut) {
                let _ = data_blocks(&xml[..cut]);
            }
        }
    }

    fn sample() -> Vec<Bir> {
        vec![
            Bir {
                format_owner: SC37,
                format_type: FORMAT_FACE_IMAGE,
                created: "2026-11-30T09:05:07.25Z".parse().unwrap(),
                modality: Modality::Face,
                finger: None,
                level: Level::Raw,
                quality: Some(90),
                bdb: b"FAC\0".to_vec(),
            },
            Bir {
                format_owner: SC37,
                format_type: FORMAT_FINGER_MINUTIAE,
                created: "2026-11-30T09:06:00Z".parse().unwrap(),
                modality: Modality::Finger,
                finger: Some(7),
                level: Level::Processed,
                quality: None,
                bdb: b"FMR\0".to_vec(),
            },
        ]
    }

    #[test]
    fn the_xml_export_is_the_golden_document() {
        let golden = r#"<?xml version="1.0" encoding="UTF-8"?>
<BIR xmlns="http://standards.iso.org/iso-iec/19785/-3/ed-2/">
  <Version><Major>1</Major><Minor>1</Minor></Version>
  <CBEFFVersion><Major>1</Major><Minor>1</Minor></CBEFFVersion>
  <BIRInfo><Integrity>false</Integrity></BIRInfo>
  <BIR>
    <Version><Major>1</Major><Minor>1</Minor></Version>
    <CBEFFVersion><Major>1</Major><Minor>1</Minor></CBEFFVersion>
    <BIRInfo><Integrity>false</Integrity></BIRInfo>
    <BDBInfo>
      <Format><Organization>257</Organization><Type>8</Type></Format>
      <CreationDate>2026-11-30T09:05:07.25Z</CreationDate>
      <Type>Face</Type>
      <Level>Raw</Level>
      <Purpose>Enroll</Purpose>
      <Quality><Score>90</Score></Quality>
    </BDBInfo>
    <BDB>RkFDAA==</BDB>
  </BIR>
  <BIR>
    <Version><Major>1</Major><Minor>1</Minor></Version>
    <CBEFFVersion><Major>1</Major><Minor>1</Minor></CBEFFVersion>
    <BIRInfo><Integrity>false</Integrity></BIRInfo>
    <BDBInfo>
      <Format><Organization>257</Organization><Type>2</Type></Format>
      <CreationDate>2026-11-30T09:06:00Z</CreationDate>
      <Type>Finger</Type>
      <Subtype>Left IndexFinger</Subtype>
      <Level>Processed</Level>
      <Purpose>Enroll</Purpose>
    </BDBInfo>
    <BDB>Rk1SAA==</BDB>
  </BIR>
</BIR>
"#;
        assert_eq!(to_xml(&sample()), golden);
    }

    #[test]
    fn stored_records_round_trip_through_json() {
        let json = serde_json::to_string(&sample()).unwrap();
        assert!(json.contains("\"bdb\":\"RkFDAA==\""), "{json}");
        let back: Vec<Bir> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn a_stated_capture_time_is_kept_and_an_unspecified_one_is_not() {
        let t = CaptureTime { year: 2026, month: 11, day: 30, hour: 9, minute: 5, second: 7, millisecond: 0xFFFF };
        assert_eq!(capture_instant(&t).unwrap().to_string(), "2026-11-30T09:05:07Z");
        assert_eq!(capture_instant(&CaptureTime { hour: 0xFF, ..t }), None);
        assert_eq!(capture_instant(&CaptureTime { day: 31, month: 2, ..t }), None);
    }
}
