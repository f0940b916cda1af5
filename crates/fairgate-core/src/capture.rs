//! Biometric captures on a registration: what the officer sends (a face record,
//! finger minutiae records, and what was not captured and why), the check against a
//! program's `[capture]` section, and the summary the ledger keeps. The records
//! themselves are wrapped in CBEFF (`cbeff`) and sealed apart from the public log.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{clip, Errors, Invalid};
use crate::face::{self, FaceRecord};
use crate::finger_image::{self, FingerImageRecord};
use crate::minutiae::{self, FingerView, MinutiaeRecord, POSITIONS};

/// Why something was not captured: the fixed list an officer chooses from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotCapturedReason {
    /// Younger than the program's minimum age for fingerprints (set by the system
    /// from the birth date, or stated by the officer and checked against it).
    UnderMinimumAge,
    TemporaryInjury,
    PermanentImpossibility,
    EquipmentFailure,
}

impl NotCapturedReason {
    pub const ALL: [NotCapturedReason; 4] = [
        NotCapturedReason::UnderMinimumAge,
        NotCapturedReason::TemporaryInjury,
        NotCapturedReason::PermanentImpossibility,
        NotCapturedReason::EquipmentFailure,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            NotCapturedReason::UnderMinimumAge => "under-minimum-age",
            NotCapturedReason::TemporaryInjury => "temporary-injury",
            NotCapturedReason::PermanentImpossibility => "permanent-impossibility",
            NotCapturedReason::EquipmentFailure => "equipment-failure",
        }
    }
}

/// One biometric a registration can capture: the face, or a finger (positions 1–10
/// of ISO/IEC 19794-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Biometric {
    Face,
    Finger(u8),
}

/// The names used in requests and records: `face`, `right-thumb` … `left-little`.
const FINGER_NAMES: [&str; 11] = [
    "unknown",
    "right-thumb",
    "right-index",
    "right-middle",
    "right-ring",
    "right-little",
    "left-thumb",
    "left-index",
    "left-middle",
    "left-ring",
    "left-little",
];

impl Biometric {
    pub fn name(self) -> &'static str {
        match self {
            Biometric::Face => "face",
            Biometric::Finger(p) => FINGER_NAMES.get(p as usize).copied().unwrap_or("unknown"),
        }
    }
    pub fn parse(s: &str) -> Option<Biometric> {
        match s.trim() {
            "face" => Some(Biometric::Face),
            t => FINGER_NAMES.iter().skip(1).position(|n| *n == t).map(|i| Biometric::Finger(i as u8 + 1)),
        }
    }
}

impl Serialize for Biometric {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Biometric {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Biometric::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a biometric")))
    }
}

/// Something not captured, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NotCaptured {
    pub what: Biometric,
    pub reason: NotCapturedReason,
}

/// An item of `captures.not_captured` as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotCapturedInput {
    /// `face`, or a finger: `right-thumb`, `right-index`, `right-middle`, `right-ring`,
    /// `right-little`, `left-thumb` … `left-little`; or `fingerprints` for every finger.
    #[cfg_attr(feature = "openapi", schema(example = "right-index"))]
    pub what: String,
    /// `under-minimum-age`, `temporary-injury`, `permanent-impossibility` or `equipment-failure`.
    #[cfg_attr(feature = "openapi", schema(example = "temporary-injury"))]
    pub reason: String,
}

/// The `captures` of a registration as sent: records in base64 (standard alphabet,
/// with padding).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CapturesInput {
    /// An ISO/IEC 19794-5:2011 face image record holding one JPEG or PNG portrait.
    #[serde(default)]
    pub face: Option<String>,
    /// ISO/IEC 19794-2:2005 finger minutiae records; a record may hold several
    /// fingers, and each finger is kept as its own record.
    #[serde(default)]
    pub fingerprints: Vec<String>,
    /// ISO/IEC 19794-4:2011 finger image records (one or more fingers each).
    #[serde(default)]
    pub finger_images: Vec<String>,
    /// An ANSI/NIST-ITL 1-2011 transaction file (traditional encoding) from a
    /// capture station: its Type-9 minutiae and Type-4 or Type-14 finger images
    /// are taken as if sent in `fingerprints` and `finger_images`.
    #[serde(default)]
    pub an2k: Option<String>,
    /// What was not captured, and why.
    #[serde(default)]
    pub not_captured: Vec<NotCapturedInput>,
}

/// Captures decoded and parsed, before the program's requirement is checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Captures {
    /// The face record as sent (it parsed), and what it says.
    pub face: Option<(Vec<u8>, FaceRecord)>,
    /// By finger position: a one-finger minutiae record.
    pub fingers: BTreeMap<u8, MinutiaeRecord>,
    /// By finger position: a one-finger image record.
    pub images: BTreeMap<u8, FingerImageRecord>,
    pub not_captured: Vec<NotCaptured>,
}

/// What the ledger keeps of a registration's captures (the records are sealed
/// apart, see `sealed`).
///
/// In the ledger it is written in a fixed width, `{"states": "…", "sealed": "…"}`:
/// one letter for the face and one for each finger 1–10 (`C` captured, `-` neither
/// captured nor excused, `A` under the minimum age, `T` temporary injury, `P`
/// permanent impossibility, `E` equipment failure), so that a registration's leaf is
/// the same size whatever was or was not captured, and the public log cannot tell a
/// ten-print from a child's registration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureSummary {
    pub face: bool,
    /// Finger positions captured, ascending.
    pub fingers: Vec<u8>,
    pub not_captured: Vec<NotCaptured>,
    /// SHA-256 (hex) of the sealed CBEFF records kept apart from the public log: the
    /// ledger commits to them without carrying them.
    pub sealed: Option<String>,
}

const STATE_LETTERS: [(NotCapturedReason, char); 4] = [
    (NotCapturedReason::UnderMinimumAge, 'A'),
    (NotCapturedReason::TemporaryInjury, 'T'),
    (NotCapturedReason::PermanentImpossibility, 'P'),
    (NotCapturedReason::EquipmentFailure, 'E'),
];

impl CaptureSummary {
    /// The eleven state letters: the face, then fingers 1–10.
    pub fn states(&self) -> String {
        let what = std::iter::once(Biometric::Face).chain((1..=10).map(Biometric::Finger));
        what.map(|w| {
            let captured = match w {
                Biometric::Face => self.face,
                Biometric::Finger(p) => self.fingers.contains(&p),
            };
            if captured {
                return 'C';
            }
            match self.not_captured.iter().find(|n| n.what == w) {
                Some(n) => STATE_LETTERS.iter().find(|(r, _)| *r == n.reason).map(|(_, c)| *c).unwrap_or('-'),
                None => '-',
            }
        })
        .collect()
    }

    pub fn from_states(states: &str, sealed: Option<String>) -> Option<CaptureSummary> {
        if states.chars().count() != 11 {
            return None;
        }
        let mut out = CaptureSummary { sealed, ..Default::default() };
        for (i, c) in states.chars().enumerate() {
            let w = if i == 0 { Biometric::Face } else { Biometric::Finger(i as u8) };
            match c {
                'C' => match w {
                    Biometric::Face => out.face = true,
                    Biometric::Finger(p) => out.fingers.push(p),
                },
                '-' => {}
                c => {
                    let reason = STATE_LETTERS.iter().find(|(_, l)| *l == c)?.0;
                    out.not_captured.push(NotCaptured { what: w, reason });
                }
            }
        }
        Some(out)
    }
}

#[derive(Serialize, Deserialize)]
struct SummaryWire {
    states: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<String>,
}

impl Serialize for CaptureSummary {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SummaryWire { states: self.states(), sealed: self.sealed.clone() }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for CaptureSummary {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = SummaryWire::deserialize(d)?;
        CaptureSummary::from_states(&w.states, w.sealed)
            .ok_or_else(|| serde::de::Error::custom(format!("`{}` is not eleven capture states", w.states)))
    }
}

/// What a program asks to capture at registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub program: String,
    pub face: bool,
    /// The finger positions required, in the order of [`FINGER_ORDER`].
    pub fingers: Vec<u8>,
    pub fingers_min_age: Option<u32>,
}

/// The order fingers are asked for: a program requiring `n` fingerprints requires
/// the first `n` of these (the index fingers first, the thumbs last).
pub const FINGER_ORDER: [u8; 10] = [2, 7, 3, 8, 4, 9, 5, 10, 1, 6];

impl Requirement {
    pub fn new(program: &str, face: bool, fingerprints: u8, fingers_min_age: Option<u32>) -> Requirement {
        Requirement {
            program: program.to_string(),
            face,
            fingers: FINGER_ORDER.iter().take(fingerprints as usize).copied().collect(),
            fingers_min_age,
        }
    }
}

fn b64(s: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| format!("is not base64 ({e}): send the record's bytes in standard base64 with padding"))
}

impl CapturesInput {
    /// Decode and parse every record, naming the field (and the byte) of each fault.
    pub fn decode(&self) -> Result<Captures, Invalid> {
        let mut e = Errors::default();
        let face = match &self.face {
            None => None,
            Some(s) => match b64(s) {
                Err(m) => {
                    e.push("captures.face", m);
                    None
                }
                Ok(bytes) => match face::parse(&bytes) {
                    Err(err) => {
                        e.push("captures.face", format!("{err}; export the record again as ISO/IEC 19794-5:2011"));
                        None
                    }
                    Ok(rec) if rec.images.len() != 1 => {
                        e.push(
                            "captures.face",
                            format!("holds {} images; send the one portrait taken", rec.images.len()),
                        );
                        None
                    }
                    Ok(rec) => Some((bytes, rec)),
                },
            },
        };
        let mut fingers: BTreeMap<u8, MinutiaeRecord> = BTreeMap::new();
        let mut images: BTreeMap<u8, FingerImageRecord> = BTreeMap::new();
        let mut minutiae_records: Vec<(String, MinutiaeRecord)> = Vec::new();
        let mut image_records: Vec<(String, FingerImageRecord)> = Vec::new();
        for (i, s) in self.fingerprints.iter().enumerate() {
            let field = format!("captures.fingerprints[{i}]");
            match b64(s).map(|bytes| minutiae::parse(&bytes)) {
                Err(m) => e.push(&field, m),
                Ok(Err(err)) => e.push(&field, format!("{err}; export the record again as ISO/IEC 19794-2:2005")),
                Ok(Ok(rec)) => minutiae_records.push((field, rec)),
            }
        }
        for (i, s) in self.finger_images.iter().enumerate() {
            let field = format!("captures.finger_images[{i}]");
            match b64(s).map(|bytes| finger_image::parse(&bytes)) {
                Err(m) => e.push(&field, m),
                Ok(Err(err)) => e.push(&field, format!("{err}; export the record again as ISO/IEC 19794-4:2011")),
                Ok(Ok(rec)) => image_records.push((field, rec)),
            }
        }
        if let Some(file) = &self.an2k {
            let field = "captures.an2k".to_string();
            match b64(file).map(|bytes| crate::an2k::parse(&bytes).and_then(|t| crate::an2k::to_records(&t))) {
                Err(m) => e.push(&field, m),
                Ok(Err(err)) => {
                    e.push(&field, format!("{err}; export the transaction again in the traditional encoding"))
                }
                Ok(Ok((m, i))) => {
                    minutiae_records.extend(m.into_iter().map(|r| (field.clone(), r)));
                    image_records.extend(i.into_iter().map(|r| (field.clone(), r)));
                }
            }
        }
        for (field, rec) in &minutiae_records {
            for v in &rec.views {
                if v.position == 0 {
                    e.push(field, "holds a finger of unknown position (0): say which finger each view is");
                    continue;
                }
                match fingers.entry(v.position) {
                    std::collections::btree_map::Entry::Occupied(_) => e.push(
                        field,
                        format!(
                            "holds the {} a second time: send one view of each finger",
                            POSITIONS[v.position as usize]
                        ),
                    ),
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        slot.insert(one_finger(rec, v));
                    }
                }
            }
        }
        for (field, rec) in &image_records {
            for img in &rec.images {
                if !(1..=10).contains(&img.position) {
                    e.push(
                        field,
                        format!(
                            "holds position {}: take each finger apart, at positions 1 (right thumb) to 10 (left little)",
                            img.position
                        ),
                    );
                    continue;
                }
                match images.entry(img.position) {
                    std::collections::btree_map::Entry::Occupied(_) => e.push(
                        field,
                        format!(
                            "holds an image of the {} a second time: send one of each finger",
                            POSITIONS[img.position as usize]
                        ),
                    ),
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        slot.insert(FingerImageRecord { certified: rec.certified, images: vec![img.clone()] });
                    }
                }
            }
        }
        let mut not_captured = Vec::new();
        for (i, n) in self.not_captured.iter().enumerate() {
            let field = format!("captures.not_captured[{i}]");
            let reason = NotCapturedReason::ALL.into_iter().find(|r| r.as_str() == n.reason.trim());
            let Some(reason) = reason else {
                e.push(
                    format!("{field}.reason"),
                    format!(
                        "`{}` is not a reason: use under-minimum-age, temporary-injury, permanent-impossibility or equipment-failure",
                        clip(&n.reason)
                    ),
                );
                continue;
            };
            let what: Vec<Biometric> = if n.what.trim() == "fingerprints" {
                (1..=10).map(Biometric::Finger).collect()
            } else if let Some(b) = Biometric::parse(&n.what) {
                vec![b]
            } else {
                e.push(
                    format!("{field}.what"),
                    format!(
                        "`{}` is not a biometric: use face, fingerprints, or a finger such as right-index or left-thumb",
                        clip(&n.what)
                    ),
                );
                continue;
            };
            for w in what {
                let captured = match w {
                    Biometric::Face => face.is_some(),
                    Biometric::Finger(p) => fingers.contains_key(&p) || images.contains_key(&p),
                };
                if captured {
                    // `fingerprints` excuses the fingers that are missing only.
                    if n.what.trim() != "fingerprints" {
                        e.push(
                            format!("{field}.what"),
                            format!("the {} was captured: it cannot also be missing", w.name()),
                        );
                    }
                } else if not_captured.iter().any(|x: &NotCaptured| x.what == w) {
                    e.push(format!("{field}.what"), format!("the {} is listed twice", w.name()));
                } else {
                    not_captured.push(NotCaptured { what: w, reason });
                }
            }
        }
        not_captured.sort();
        e.finish(|| Captures { face, fingers, images, not_captured })
    }
}

/// A record holding one finger of `rec`.
fn one_finger(rec: &MinutiaeRecord, v: &FingerView) -> MinutiaeRecord {
    MinutiaeRecord { views: vec![FingerView { view: 0, ..v.clone() }], ..rec.clone() }
}

fn finger_list(p: &[u8]) -> String {
    p.iter().map(|p| format!("{} ({p})", POSITIONS[*p as usize])).collect::<Vec<_>>().join(", ")
}

impl Captures {
    pub fn is_empty(&self) -> bool {
        self.face.is_none() && self.fingers.is_empty() && self.images.is_empty() && self.not_captured.is_empty()
    }

    /// Whether a finger was captured, as minutiae or as an image.
    pub fn has_finger(&self, p: u8) -> bool {
        self.fingers.contains_key(&p) || self.images.contains_key(&p)
    }

    /// Check the captures against the program's requirement (none for a voluntary
    /// registration), with the person's age in whole years when their birth date is
    /// known. Fingers a person is too young to give are marked not captured, under
    /// the minimum age, here. A missing capture without a listed reason is refused,
    /// naming what is missing.
    pub fn check(mut self, req: Option<&Requirement>, age: Option<u32>) -> Result<(Captures, CaptureSummary), Invalid> {
        let mut e = Errors::default();
        let min_age = req.and_then(|r| r.fingers_min_age);
        let too_young = matches!((age, min_age), (Some(a), Some(m)) if a < m);
        for (i, n) in self.not_captured.iter().enumerate() {
            if n.reason != NotCapturedReason::UnderMinimumAge || too_young {
                continue;
            }
            let why = match (req, age, min_age) {
                (None, _, _) => "no program requires this registration, so none sets a minimum age".to_string(),
                (Some(r), _, None) => format!("program {} sets no minimum age for fingerprints", r.program),
                (Some(r), Some(a), Some(m)) => {
                    format!("the person is {a}, and program {}'s minimum age for fingerprints is {m}", r.program)
                }
                (Some(_), None, Some(_)) => {
                    "the person's birth date is not on record, so their age is not known".into()
                }
            };
            e.push(format!("captures.not_captured[{i}].reason"), format!("under-minimum-age does not apply: {why}"));
        }
        if let Some(r) = req {
            if r.face && self.face.is_none() && !self.not_captured.iter().any(|n| n.what == Biometric::Face) {
                e.push(
                    "captures.face",
                    format!(
                        "program {} requires a photograph: attach the face record, or list `face` in captures.not_captured with a reason",
                        r.program
                    ),
                );
            }
            if too_young {
                for p in &r.fingers {
                    if !self.has_finger(*p) && !self.not_captured.iter().any(|n| n.what == Biometric::Finger(*p)) {
                        self.not_captured.push(NotCaptured {
                            what: Biometric::Finger(*p),
                            reason: NotCapturedReason::UnderMinimumAge,
                        });
                    }
                }
                self.not_captured.sort();
            }
            let missing: Vec<u8> = r
                .fingers
                .iter()
                .copied()
                .filter(|p| !self.has_finger(*p) && !self.not_captured.iter().any(|n| n.what == Biometric::Finger(*p)))
                .collect();
            if !missing.is_empty() {
                e.push(
                    "captures.fingerprints",
                    format!(
                        "program {} requires {} fingerprints; missing: {}. Attach their records, or list each in captures.not_captured with a reason",
                        r.program,
                        r.fingers.len(),
                        finger_list(&missing)
                    ),
                );
            }
        }
        let summary = CaptureSummary {
            face: self.face.is_some(),
            fingers: (1..=10).filter(|p| self.has_finger(*p)).collect(),
            not_captured: self.not_captured.clone(),
            sealed: None,
        };
        e.finish(|| (self, summary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::{FaceImage, ImageDataType};
    use crate::minutiae::{Minutia, MinutiaType};
    use proptest::prelude::*;

    fn enc(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    fn minutiae_record(positions: &[u8]) -> Vec<u8> {
        let views = positions
            .iter()
            .map(|p| FingerView {
                position: *p,
                view: 0,
                impression: 0,
                quality: 80,
                minutiae: vec![Minutia { kind: MinutiaType::RidgeEnding, x: 10, y: 20, angle: 3, quality: 50 }],
                extended: vec![],
            })
            .collect();
        minutiae::encode(&MinutiaeRecord {
            certification: 0,
            device_type: 0,
            width: 500,
            height: 550,
            x_resolution: 197,
            y_resolution: 197,
            views,
        })
        .unwrap()
    }

    fn face_record() -> Vec<u8> {
        face::encode(&FaceRecord {
            temporal_semantics: 0,
            images: vec![FaceImage::frontal(ImageDataType::Png, 480, 640, vec![1, 2, 3])],
        })
        .unwrap()
    }

    fn input(face: bool, fingers: &[&[u8]], not: &[(&str, &str)]) -> CapturesInput {
        CapturesInput {
            face: face.then(|| enc(&face_record())),
            fingerprints: fingers.iter().map(|f| enc(&minutiae_record(f))).collect(),
            finger_images: vec![],
            an2k: None,
            not_captured: not
                .iter()
                .map(|(w, r)| NotCapturedInput { what: w.to_string(), reason: r.to_string() })
                .collect(),
        }
    }

    fn fields(e: Invalid) -> Vec<(String, String)> {
        e.0.into_iter().map(|f| (f.field, f.message)).collect()
    }

    #[test]
    fn a_ten_print_program_names_the_missing_fingers() {
        let req = Requirement::new("P", true, 10, None);
        let c = input(true, &[&[1, 2, 3, 4, 5], &[6, 7]], &[]).decode().unwrap();
        let err = fields(c.check(Some(&req), Some(30)).unwrap_err());
        assert_eq!(
            err,
            vec![(
                "captures.fingerprints".to_string(),
                "program P requires 10 fingerprints; missing: left middle (8), left ring (9), left little (10). Attach their records, or list each in captures.not_captured with a reason".to_string()
            )]
        );
        // With a reason for each, it passes, and the summary keeps the reasons.
        let c = input(
            true,
            &[&[1, 2, 3, 4, 5], &[6, 7]],
            &[
                ("left-middle", "temporary-injury"),
                ("left-ring", "temporary-injury"),
                ("left-little", "permanent-impossibility"),
            ],
        )
        .decode()
        .unwrap();
        let (_, s) = c.check(Some(&req), Some(30)).unwrap();
        assert!(s.face);
        assert_eq!(s.fingers, vec![1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(s.not_captured.len(), 3);
        assert_eq!(
            s.not_captured[2],
            NotCaptured { what: Biometric::Finger(10), reason: NotCapturedReason::PermanentImpossibility }
        );
    }

    #[test]
    fn a_missing_face_is_refused_unless_excused() {
        let req = Requirement::new("P", true, 0, None);
        let err = fields(input(false, &[], &[]).decode().unwrap().check(Some(&req), None).unwrap_err());
        assert_eq!(err[0].0, "captures.face");
        assert!(err[0].1.starts_with("program P requires a photograph"), "{}", err[0].1);
        let (_, s) =
            input(false, &[], &[("face", "equipment-failure")]).decode().unwrap().check(Some(&req), None).unwrap();
        assert_eq!(
            s.not_captured,
            vec![NotCaptured { what: Biometric::Face, reason: NotCapturedReason::EquipmentFailure }]
        );
    }

    #[test]
    fn a_child_under_the_minimum_age_gives_no_fingerprints_and_an_adult_cannot_claim_it() {
        let req = Requirement::new("P", false, 2, Some(14));
        let (_, s) = input(false, &[], &[]).decode().unwrap().check(Some(&req), Some(9)).unwrap();
        assert_eq!(
            s.not_captured,
            vec![
                NotCaptured { what: Biometric::Finger(2), reason: NotCapturedReason::UnderMinimumAge },
                NotCaptured { what: Biometric::Finger(7), reason: NotCapturedReason::UnderMinimumAge },
            ]
        );
        let err = fields(
            input(false, &[], &[("fingerprints", "under-minimum-age")])
                .decode()
                .unwrap()
                .check(Some(&req), Some(30))
                .unwrap_err(),
        );
        assert_eq!(err[0].0, "captures.not_captured[0].reason");
        assert!(
            err[0].1.contains("the person is 30, and program P's minimum age for fingerprints is 14"),
            "{}",
            err[0].1
        );
    }

    #[test]
    fn bad_records_and_reasons_name_their_field() {
        let mut i = input(
            true,
            &[&[2]],
            &[("right-index", "temporary-injury"), ("left-pinky", "equipment-failure"), ("face", "tired")],
        );
        i.fingerprints.push("not base64!".into());
        let mut bad_face = face_record();
        bad_face[0] = b'X';
        i.face = Some(enc(&bad_face));
        let err = fields(i.decode().unwrap_err());
        let names: Vec<&str> = err.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "captures.face",
                "captures.fingerprints[1]",
                "captures.not_captured[0].what",
                "captures.not_captured[1].what",
                "captures.not_captured[2].reason",
            ],
            "{err:?}"
        );
        assert!(err[0].1.starts_with("byte 0, format identifier"), "{}", err[0].1);
        // The right index was captured and also said to be missing: refused.
        let err = fields(input(false, &[&[2]], &[("right-index", "temporary-injury")]).decode().unwrap_err());
        assert_eq!(err[0].1, "the right-index was captured: it cannot also be missing");
        // The same finger twice.
        let err = fields(input(false, &[&[2], &[2]], &[]).decode().unwrap_err());
        assert_eq!(
            err[0],
            (
                "captures.fingerprints[1]".into(),
                "holds the right index a second time: send one view of each finger".into()
            )
        );
    }

    #[test]
    fn a_voluntary_registration_requires_nothing() {
        let (_, s) = input(false, &[], &[]).decode().unwrap().check(None, None).unwrap();
        assert_eq!(s, CaptureSummary::default());
    }

    #[test]
    fn the_summary_is_written_in_a_fixed_width_whatever_was_captured() {
        let all = CaptureSummary {
            face: true,
            fingers: (1..=10).collect(),
            not_captured: vec![],
            sealed: Some("0".repeat(64)),
        };
        let none = CaptureSummary {
            face: false,
            fingers: vec![],
            not_captured: std::iter::once(Biometric::Face)
                .chain((1..=10).map(Biometric::Finger))
                .map(|what| NotCaptured { what, reason: NotCapturedReason::PermanentImpossibility })
                .collect(),
            sealed: Some("f".repeat(64)),
        };
        let (a, n) = (serde_json::to_string(&all).unwrap(), serde_json::to_string(&none).unwrap());
        assert_eq!(a.len(), n.len());
        assert_eq!(n, format!("{{\"states\":\"PPPPPPPPPPP\",\"sealed\":\"{}\"}}", "f".repeat(64)));
        for s in [all, none] {
            assert_eq!(serde_json::from_str::<CaptureSummary>(&serde_json::to_string(&s).unwrap()).unwrap(), s);
        }
        assert!(serde_json::from_str::<CaptureSummary>(r#"{"states":"CCX"}"#).is_err());
    }

    proptest! {
        /// Whatever is captured or excused, the check passes exactly when every
        /// required finger is one or the other, and names exactly the rest.
        #[test]
        fn the_check_passes_exactly_when_every_required_finger_is_captured_or_excused(
            n in 0u8..=10,
            captured in proptest::collection::btree_set(1u8..=10, 0..10),
            excused in proptest::collection::btree_set(1u8..=10, 0..10),
        ) {
            let excused: Vec<u8> = excused.difference(&captured).copied().collect();
            let names: Vec<String> = excused.iter().map(|p| Biometric::Finger(*p).name().to_string()).collect();
            let not: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "temporary-injury")).collect();
            let fingers: Vec<u8> = captured.iter().copied().collect();
            let records: Vec<&[u8]> = if fingers.is_empty() { vec![] } else { vec![&fingers] };
            let c = input(false, &records, &not).decode().unwrap();
            let req = Requirement::new("P", false, n, None);
            let missing: Vec<u8> = req.fingers.iter().copied().filter(|p| !captured.contains(p) && !excused.contains(p)).collect();
            match c.check(Some(&req), None) {
                Ok((_, s)) => {
                    prop_assert!(missing.is_empty());
                    prop_assert_eq!(s.fingers, fingers);
                }
                Err(e) => {
                    prop_assert!(!missing.is_empty());
                    let msg = &e.0[0].message;
                    for p in &missing {
                        let named = format!("({p})");
                        prop_assert!(msg.contains(&named), "{}", msg);
                    }
                }
            }
        }
    }
}
