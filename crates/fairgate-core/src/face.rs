//! Face image records, ISO/IEC 19794-5:2011 (record format version `030`): parsing
//! with every header field checked, and writing. Pure and dependency-free; the image
//! inside is kept as bytes (decoding it, and judging whether it is a usable portrait,
//! is `fairgate-biometrics`' job). A malformed record is refused with the byte offset
//! and the field at fault, never a panic.
//!
//! Layout (all integers big-endian):
//!
//! | size | field |
//! |---|---|
//! | 4 | format identifier `FAC\0` |
//! | 4 | version `030\0` |
//! | 4 | record length, header included |
//! | 2 | number of representations (at least 1) |
//! | 1 | certification flag, 0 |
//! | 2 | temporal semantics (0: one still image) |
//! | | each representation: |
//! | 4 | representation length, this field included |
//! | 9 | capture date and time in UTC: year (2), month, day, hour, minute, second (1 each), millisecond (2); all bits set means unspecified |
//! | 1, 2, 2 | capture device technology, vendor, type |
//! | 1 + 5n | quality blocks: count, then each score (0–100, 255 failed), algorithm vendor (2), algorithm (2) |
//! | 17 | facial information: landmark count (2), gender, eye colour, hair colour, subject height (1 each), properties (3), expression (2), pose yaw/pitch/roll (3), their uncertainty (3) |
//! | 8n | landmarks: type, code, x, y, z (2 each) |
//! | 11 | image information: face image type, image data type (1 each), width, height (2 each), spatial sampling rate level (1), post-acquisition processing (2), cross reference, colour space (1 each) |
//! | rest | the image: JPEG, JPEG 2000 or PNG |

use serde::{Deserialize, Serialize};

pub use crate::record::RecordError;
use crate::record::{bad, read_prefix, Reader};

pub const FORMAT_ID: &[u8; 4] = b"FAC\0";
pub const VERSION: &[u8; 4] = b"030\0";
pub const GENERAL_HEADER_LEN: usize = 17;
/// The representation header with no quality blocks and no landmarks.
const REPRESENTATION_FIXED_LEN: usize = 4 + 9 + 5 + 1 + 17 + 11;

/// The image encodings a 2011 face record names (Table 17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageDataType {
    Jpeg,
    Jpeg2000Lossy,
    Jpeg2000Lossless,
    Png,
}

impl ImageDataType {
    pub fn code(self) -> u8 {
        match self {
            ImageDataType::Jpeg => 0,
            ImageDataType::Jpeg2000Lossy => 1,
            ImageDataType::Jpeg2000Lossless => 2,
            ImageDataType::Png => 3,
        }
    }
    fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            0 => ImageDataType::Jpeg,
            1 => ImageDataType::Jpeg2000Lossy,
            2 => ImageDataType::Jpeg2000Lossless,
            3 => ImageDataType::Png,
            _ => return None,
        })
    }
}

/// When the image was taken, in UTC. A field with all bits set is unspecified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub millisecond: u16,
}

impl CaptureTime {
    pub const UNSPECIFIED: CaptureTime = CaptureTime {
        year: 0xFFFF,
        month: 0xFF,
        day: 0xFF,
        hour: 0xFF,
        minute: 0xFF,
        second: 0xFF,
        millisecond: 0xFFFF,
    };

    /// The capture date as YYYY-MM-DD, when year, month and day are all given.
    pub fn date(&self) -> Option<String> {
        (self.year != 0xFFFF && self.month != 0xFF && self.day != 0xFF)
            .then(|| format!("{:04}-{:02}-{:02}", self.year, self.month, self.day))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityBlock {
    /// 0–100, or 255 when the algorithm failed.
    pub score: u8,
    pub vendor: u16,
    pub algorithm: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Landmark {
    /// 1: MPEG-4 feature point; 2: anthropometric landmark.
    pub kind: u8,
    /// For MPEG-4 points, the major point in the high four bits and the minor in the
    /// low four: 0xC1 is point 12.1, the centre of the left eye.
    pub code: u8,
    pub x: u16,
    pub y: u16,
    pub z: u16,
}

/// MPEG-4 feature points 12.1 and 12.2: the centres of the left and right eyes.
pub const LEFT_EYE_CENTRE: u8 = 0xC1;
pub const RIGHT_EYE_CENTRE: u8 = 0xC2;

/// One face image and what the record says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceImage {
    pub captured: CaptureTime,
    pub device_technology: u8,
    pub device_vendor: u16,
    pub device_type: u16,
    pub quality: Vec<QualityBlock>,
    /// 0 unspecified, 1 male, 2 female, 255 unknown.
    pub gender: u8,
    pub eye_colour: u8,
    pub hair_colour: u8,
    pub subject_height: u8,
    /// The 24-bit properties mask.
    pub properties: u32,
    pub expression: u16,
    /// Yaw, pitch, roll: 0 unspecified, else 1–181 for −180° to +180° in steps of 2°.
    pub pose: [u8; 3],
    pub pose_uncertainty: [u8; 3],
    pub landmarks: Vec<Landmark>,
    /// 0 basic, 1 full frontal, 2 token frontal, 3 post-processed frontal.
    pub image_type: u8,
    pub data_type: ImageDataType,
    pub width: u16,
    pub height: u16,
    /// 0–7: the pixels across the head, from under 180 (0) to 750 and more (7).
    pub sampling_level: u8,
    pub post_processing: u16,
    pub cross_reference: u8,
    /// 0 unspecified, 1 24-bit RGB, 2 YUV422, 3 8-bit greyscale, 4 48-bit RGB,
    /// 5 16-bit greyscale, 6 other; 128–255 vendor.
    pub colour_space: u8,
    /// The encoded image.
    #[serde(with = "serde_bytes_hex")]
    pub data: Vec<u8>,
}

/// A face record: one or more images of one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceRecord {
    pub temporal_semantics: u16,
    pub images: Vec<FaceImage>,
}

mod serde_bytes_hex {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&b.iter().map(|x| format!("{x:02x}")).collect::<String>())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        if s.len() % 2 != 0 {
            return Err(serde::de::Error::custom("an odd number of hex digits"));
        }
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(serde::de::Error::custom))
            .collect()
    }
}

pub(crate) fn check_capture_time(t: &CaptureTime, at: usize) -> Result<(), RecordError> {
    let f = "capture date and time";
    let range = |v: u8, lo: u8, hi: u8, what: &str, off: usize| -> Result<(), RecordError> {
        if v != 0xFF && !(lo..=hi).contains(&v) {
            return Err(bad(at + off, f, format!("{what} {v} is not {lo} to {hi} (or 255, unspecified)")));
        }
        Ok(())
    };
    if t.year != 0xFFFF && !(1900..=9999).contains(&t.year) {
        return Err(bad(at, f, format!("year {} is not 1900 to 9999 (or 65535, unspecified)", t.year)));
    }
    range(t.month, 1, 12, "month", 2)?;
    range(t.day, 1, 31, "day", 3)?;
    range(t.hour, 0, 23, "hour", 4)?;
    range(t.minute, 0, 59, "minute", 5)?;
    range(t.second, 0, 59, "second", 6)?;
    if t.millisecond != 0xFFFF && t.millisecond > 999 {
        return Err(bad(at + 7, f, format!("millisecond {} is not 0 to 999 (or 65535)", t.millisecond)));
    }
    Ok(())
}

/// What every representation of the 2011 biometric data interchange formats (parts 4
/// and 5 of ISO/IEC 19794) begins with, after its length: when and with what it was
/// captured, and its quality blocks.
pub(crate) struct RepresentationHead {
    pub captured: CaptureTime,
    pub device_technology: u8,
    pub device_vendor: u16,
    pub device_type: u16,
    pub quality: Vec<QualityBlock>,
}

pub(crate) fn read_representation_head(r: &mut Reader<'_>) -> Result<RepresentationHead, RecordError> {
    let t_at = r.at;
    let captured = CaptureTime {
        year: r.u16("capture date and time")?,
        month: r.u8("capture date and time")?,
        day: r.u8("capture date and time")?,
        hour: r.u8("capture date and time")?,
        minute: r.u8("capture date and time")?,
        second: r.u8("capture date and time")?,
        millisecond: r.u16("capture date and time")?,
    };
    check_capture_time(&captured, t_at)?;
    let device_technology = r.u8("capture device technology")?;
    let device_vendor = r.u16("capture device vendor")?;
    let device_type = r.u16("capture device type")?;
    let n_quality = r.u8("number of quality blocks")?;
    let mut quality = Vec::with_capacity(n_quality as usize);
    for _ in 0..n_quality {
        let at = r.at;
        let score = r.u8("quality score")?;
        if score > 100 && score != 255 {
            return Err(bad(at, "quality score", format!("{score} is not 0 to 100 (or 255, failed)")));
        }
        quality.push(QualityBlock {
            score,
            vendor: r.u16("quality algorithm vendor")?,
            algorithm: r.u16("quality algorithm")?,
        });
    }
    Ok(RepresentationHead { captured, device_technology, device_vendor, device_type, quality })
}

pub(crate) fn write_representation_head(out: &mut Vec<u8>, h: &RepresentationHead) -> Result<(), RecordError> {
    let t = &h.captured;
    out.extend_from_slice(&t.year.to_be_bytes());
    out.extend_from_slice(&[t.month, t.day, t.hour, t.minute, t.second]);
    out.extend_from_slice(&t.millisecond.to_be_bytes());
    out.push(h.device_technology);
    out.extend_from_slice(&h.device_vendor.to_be_bytes());
    out.extend_from_slice(&h.device_type.to_be_bytes());
    out.push(u8::try_from(h.quality.len()).map_err(|_| bad(out.len(), "number of quality blocks", "more than 255"))?);
    for q in &h.quality {
        out.push(q.score);
        out.extend_from_slice(&q.vendor.to_be_bytes());
        out.extend_from_slice(&q.algorithm.to_be_bytes());
    }
    Ok(())
}

fn parse_image(r: &mut Reader<'_>, record_end: usize) -> Result<FaceImage, RecordError> {
    let start = r.at;
    let len = r.u32("representation length")? as usize;
    let end = start.checked_add(len).filter(|e| *e <= record_end).ok_or_else(|| {
        bad(start, "representation length", format!("{len} bytes run past the record's end at byte {record_end}"))
    })?;
    if len < REPRESENTATION_FIXED_LEN {
        return Err(bad(start, "representation length", format!("{len} is shorter than any representation")));
    }
    let RepresentationHead { captured, device_technology, device_vendor, device_type, quality } =
        read_representation_head(r)?;
    let n_landmarks = r.u16("number of landmark points")?;
    let g_at = r.at;
    let gender = r.u8("gender")?;
    if ![0, 1, 2, 0xFF].contains(&gender) {
        return Err(bad(g_at, "gender", format!("{gender} is not 0, 1, 2 or 255")));
    }
    let eye_colour = r.u8("eye colour")?;
    let hair_colour = r.u8("hair colour")?;
    let subject_height = r.u8("subject height")?;
    let p = r.take(3, "properties")?;
    let properties = u32::from_be_bytes([0, p[0], p[1], p[2]]);
    let expression = r.u16("expression")?;
    let pose_at = r.at;
    let pose = <[u8; 3]>::try_from(r.take(3, "pose angle")?).map_err(|_| bad(pose_at, "pose angle", "3 bytes"))?;
    for (i, a) in pose.iter().enumerate() {
        if *a > 181 {
            return Err(bad(pose_at + i, "pose angle", format!("{a} is not 0 (unspecified) or 1 to 181")));
        }
    }
    let u_at = r.at;
    let pose_uncertainty = <[u8; 3]>::try_from(r.take(3, "pose angle uncertainty")?)
        .map_err(|_| bad(u_at, "pose angle uncertainty", "3 bytes"))?;
    for (i, a) in pose_uncertainty.iter().enumerate() {
        if *a > 181 {
            return Err(bad(u_at + i, "pose angle uncertainty", format!("{a} is not 0 to 181")));
        }
    }
    let mut landmarks = Vec::with_capacity(usize::from(n_landmarks).min(r.left() / 8));
    let mut landmark_at = Vec::with_capacity(landmarks.capacity());
    for _ in 0..n_landmarks {
        let at = r.at;
        let kind = r.u8("landmark point type")?;
        if !(1..=2).contains(&kind) {
            return Err(bad(at, "landmark point type", format!("{kind} is not 1 (MPEG-4) or 2 (anthropometric)")));
        }
        landmarks.push(Landmark {
            kind,
            code: r.u8("landmark point code")?,
            x: r.u16("landmark x")?,
            y: r.u16("landmark y")?,
            z: r.u16("landmark z")?,
        });
        landmark_at.push(at);
    }
    let it_at = r.at;
    let image_type = r.u8("face image type")?;
    if image_type >= 0x80 {
        return Err(bad(
            it_at,
            "face image type",
            format!("{image_type:#04x} is a 3D representation: only 2D portraits are taken"),
        ));
    }
    if image_type > 3 {
        return Err(bad(it_at, "face image type", format!("{image_type} is not 0 to 3")));
    }
    let dt = r.u8("image data type")?;
    let data_type = ImageDataType::from_code(dt).ok_or_else(|| {
        bad(it_at + 1, "image data type", format!("{dt} is not 0 (JPEG), 1 or 2 (JPEG 2000) or 3 (PNG)"))
    })?;
    let width = r.u16("image width")?;
    let height = r.u16("image height")?;
    if width == 0 || height == 0 {
        return Err(bad(it_at + 2, "image size", format!("{width} × {height} pixels: neither may be 0")));
    }
    for (at, l) in landmark_at.iter().zip(&landmarks) {
        if l.x >= width || l.y >= height {
            return Err(bad(
                at + 2,
                "landmark position",
                format!("({}, {}) is outside the {width} × {height} image", l.x, l.y),
            ));
        }
    }
    let sampling_level = r.u8("spatial sampling rate level")?;
    if sampling_level > 7 {
        return Err(bad(it_at + 6, "spatial sampling rate level", format!("{sampling_level} is not 0 to 7")));
    }
    let post_processing = r.u16("post-acquisition processing")?;
    let cross_reference = r.u8("cross reference")?;
    let cs_at = r.at;
    let colour_space = r.u8("image colour space")?;
    if (7..0x80).contains(&colour_space) {
        return Err(bad(cs_at, "image colour space", format!("{colour_space} is reserved (0 to 6, or 128 to 255)")));
    }
    if r.at >= end {
        return Err(bad(
            start,
            "representation length",
            format!("{len} leaves no room for the image: the header alone is {} bytes", r.at - start),
        ));
    }
    let data = r.take(end - r.at, "image data")?.to_vec();
    Ok(FaceImage {
        captured,
        device_technology,
        device_vendor,
        device_type,
        quality,
        gender,
        eye_colour,
        hair_colour,
        subject_height,
        properties,
        expression,
        pose,
        pose_uncertainty,
        landmarks,
        image_type,
        data_type,
        width,
        height,
        sampling_level,
        post_processing,
        cross_reference,
        colour_space,
        data,
    })
}

/// Parse a record, checking every header field.
pub fn parse(b: &[u8]) -> Result<FaceRecord, RecordError> {
    let mut r = Reader::new(b);
    read_prefix(
        &mut r,
        FORMAT_ID,
        "an ISO/IEC 19794-5 face image record",
        VERSION,
        "ISO/IEC 19794-5:2011",
        &[(b"010\0", "`010` is the 2005 edition; export the record as ISO/IEC 19794-5:2011 (`030`)")],
    )?;
    let count = r.u16("number of representations")?;
    if count == 0 {
        return Err(bad(12, "number of representations", "is 0: a record holds at least one image"));
    }
    if r.u8("certification flag")? != 0 {
        return Err(bad(14, "certification flag", "must be 0 in a 2011 face record"));
    }
    let temporal_semantics = r.u16("temporal semantics")?;
    let mut images = Vec::new();
    for _ in 0..count {
        images.push(parse_image(&mut r, b.len())?);
    }
    if r.at != b.len() {
        return Err(bad(r.at, "record length", format!("{} bytes follow the last representation", b.len() - r.at)));
    }
    Ok(FaceRecord { temporal_semantics, images })
}

/// Write a record. Refuses what `parse` would refuse, naming the field.
pub fn encode(rec: &FaceRecord) -> Result<Vec<u8>, RecordError> {
    let mut out = Vec::with_capacity(GENERAL_HEADER_LEN + rec.images.iter().map(|i| 64 + i.data.len()).sum::<usize>());
    out.extend_from_slice(FORMAT_ID);
    out.extend_from_slice(VERSION);
    out.extend_from_slice(&[0; 4]);
    let count =
        u16::try_from(rec.images.len()).map_err(|_| bad(12, "number of representations", "more than 65,535"))?;
    out.extend_from_slice(&count.to_be_bytes());
    out.push(0);
    out.extend_from_slice(&rec.temporal_semantics.to_be_bytes());
    for i in &rec.images {
        let start = out.len();
        out.extend_from_slice(&[0; 4]);
        write_representation_head(
            &mut out,
            &RepresentationHead {
                captured: i.captured,
                device_technology: i.device_technology,
                device_vendor: i.device_vendor,
                device_type: i.device_type,
                quality: i.quality.clone(),
            },
        )?;
        let n = u16::try_from(i.landmarks.len())
            .map_err(|_| bad(out.len(), "number of landmark points", "more than 65,535"))?;
        out.extend_from_slice(&n.to_be_bytes());
        if i.properties > 0x00FF_FFFF {
            return Err(bad(out.len() + 4, "properties", "is 24 bits"));
        }
        out.extend_from_slice(&[i.gender, i.eye_colour, i.hair_colour, i.subject_height]);
        out.extend_from_slice(&i.properties.to_be_bytes()[1..]);
        out.extend_from_slice(&i.expression.to_be_bytes());
        out.extend_from_slice(&i.pose);
        out.extend_from_slice(&i.pose_uncertainty);
        for l in &i.landmarks {
            out.extend_from_slice(&[l.kind, l.code]);
            for v in [l.x, l.y, l.z] {
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        out.extend_from_slice(&[i.image_type, i.data_type.code()]);
        out.extend_from_slice(&i.width.to_be_bytes());
        out.extend_from_slice(&i.height.to_be_bytes());
        out.push(i.sampling_level);
        out.extend_from_slice(&i.post_processing.to_be_bytes());
        out.extend_from_slice(&[i.cross_reference, i.colour_space]);
        out.extend_from_slice(&i.data);
        let len =
            u32::try_from(out.len() - start).map_err(|_| bad(start, "representation length", "more than 4 GiB"))?;
        out[start..start + 4].copy_from_slice(&len.to_be_bytes());
    }
    let len = u32::try_from(out.len()).map_err(|_| bad(8, "record length", "more than 4 GiB"))?;
    out[8..12].copy_from_slice(&len.to_be_bytes());
    // What is written must read back: the same checks, one place.
    parse(&out)?;
    Ok(out)
}

impl FaceImage {
    /// A plain frontal still, as a capture station makes one: every optional field
    /// unspecified.
    pub fn frontal(data_type: ImageDataType, width: u16, height: u16, data: Vec<u8>) -> FaceImage {
        FaceImage {
            captured: CaptureTime::UNSPECIFIED,
            device_technology: 0,
            device_vendor: 0,
            device_type: 0,
            quality: vec![],
            gender: 0,
            eye_colour: 0,
            hair_colour: 0,
            subject_height: 0,
            properties: 0,
            expression: 0,
            pose: [0; 3],
            pose_uncertainty: [0; 3],
            landmarks: vec![],
            image_type: 1,
            data_type,
            width,
            height,
            sampling_level: 0,
            post_processing: 0,
            cross_reference: 0,
            colour_space: 0,
            data,
        }
    }

    /// The distance between the eye centres, when the record gives both.
    pub fn eye_distance(&self) -> Option<f64> {
        let find = |code| self.landmarks.iter().find(|l| l.kind == 1 && l.code == code);
        let (l, r) = (find(LEFT_EYE_CENTRE)?, find(RIGHT_EYE_CENTRE)?);
        let (dx, dy) = (f64::from(l.x) - f64::from(r.x), f64::from(l.y) - f64::from(r.y));
        Some((dx * dx + dy * dy).sqrt())
    }
}

/// The width, height and encoding of a JPEG or PNG photograph, read from its header
/// (PNG's IHDR, or JPEG's first start-of-frame marker). `None` when it is neither,
/// or the header is cut short.
pub fn photo_size(b: &[u8]) -> Option<(ImageDataType, u16, u16)> {
    if b.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        if b.get(12..16)? != b"IHDR" {
            return None;
        }
        let w = u32::from_be_bytes(b.get(16..20)?.try_into().ok()?);
        let h = u32::from_be_bytes(b.get(20..24)?.try_into().ok()?);
        return Some((ImageDataType::Png, u16::try_from(w).ok()?, u16::try_from(h).ok()?));
    }
    if !b.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut i = 2;
    loop {
        // Markers may be padded with 0xFF bytes.
        while *b.get(i)? == 0xFF && *b.get(i + 1)? == 0xFF {
            i += 1;
        }
        if *b.get(i)? != 0xFF {
            return None;
        }
        let marker = *b.get(i + 1)?;
        // Markers without a length: TEM, RSTn.
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            i += 2;
            continue;
        }
        if marker == 0xD9 || marker == 0xDA {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([*b.get(i + 2)?, *b.get(i + 3)?]));
        // SOF0–SOF15, less DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let h = u16::from_be_bytes([*b.get(i + 5)?, *b.get(i + 6)?]);
            let w = u16::from_be_bytes([*b.get(i + 7)?, *b.get(i + 8)?]);
            return Some((ImageDataType::Jpeg, w, h));
        }
        if len < 2 {
            return None;
        }
        i += 2 + len;
    }
}

/// A photograph taken at a desk (a JPEG or PNG file, or a camera frame) as an
/// ISO/IEC 19794-5:2011 face record: one plain frontal image, every optional field
/// unspecified, as a capture station would write it.
pub fn photo_record(photo: &[u8]) -> Result<Vec<u8>, RecordError> {
    let (kind, w, h) = photo_size(photo)
        .ok_or_else(|| bad(0, "photograph", "is neither a JPEG nor a PNG file (or its header is cut short)"))?;
    if w == 0 || h == 0 {
        return Err(bad(0, "photograph", "has no pixels"));
    }
    encode(&FaceRecord { temporal_semantics: 0, images: vec![FaceImage::frontal(kind, w, h, photo.to_vec())] })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> FaceRecord {
        let mut i = FaceImage::frontal(ImageDataType::Png, 480, 640, vec![0x89, b'P', b'N', b'G']);
        i.captured = CaptureTime { year: 2026, month: 11, day: 30, hour: 9, minute: 5, second: 7, millisecond: 250 };
        i.quality = vec![QualityBlock { score: 90, vendor: 0x0101, algorithm: 0x0002 }];
        i.gender = 2;
        i.landmarks = vec![Landmark { kind: 1, code: LEFT_EYE_CENTRE, x: 300, y: 250, z: 0 }];
        i.sampling_level = 1;
        i.colour_space = 1;
        FaceRecord { temporal_semantics: 0, images: vec![i] }
    }

    /// The golden bytes of `sample()`, written out by hand from the layout above.
    const GOLDEN: &[u8] = &[
        b'F', b'A', b'C', 0, b'0', b'3', b'0', 0, // format, version
        0, 0, 0, 81, // record length: 17 + 64
        0, 1, 0, 0, 0, // one representation, certification 0, temporal semantics 0
        0, 0, 0, 64, // representation length: 4 + 9 + 5 + 1 + 5 + 17 + 8 + 11 + 4
        0x07, 0xEA, 11, 30, 9, 5, 7, 0x00, 0xFA, // 2026-11-30 09:05:07.250
        0, 0, 0, 0, 0, // device technology, vendor, type
        1, 90, 0x01, 0x01, 0x00, 0x02, // one quality block
        0, 1, 2, 0, 0, 0, // one landmark; female; eye, hair, height unspecified
        0, 0, 0, 0, 0, // properties, expression
        0, 0, 0, 0, 0, 0, // pose and its uncertainty
        1, 0xC1, 0x01, 0x2C, 0x00, 0xFA, 0, 0, // left eye centre at (300, 250)
        1, 3, 0x01, 0xE0, 0x02, 0x80, // full frontal, PNG, 480 × 640
        1, 0, 0, 0, 1, // sampling level 1, no post-processing, cross reference 0, 24-bit RGB
        0x89, b'P', b'N', b'G', // the image
    ];

    #[test]
    fn the_golden_record_reads_and_writes_byte_for_byte() {
        let b = encode(&sample()).unwrap();
        assert_eq!(b, GOLDEN);
        assert_eq!(parse(GOLDEN).unwrap(), sample());
        assert_eq!(sample().images[0].captured.date().as_deref(), Some("2026-11-30"));
    }

    #[test]
    fn malformed_records_name_the_byte_and_the_field() {
        let e = |b: &[u8]| parse(b).unwrap_err().to_string();
        assert_eq!(
            e(b"FMR\0"),
            "byte 0, format identifier: not `FAC\\0`: this is not an ISO/IEC 19794-5 face image record"
        );
        let mut b = GOLDEN.to_vec();
        b[4..8].copy_from_slice(b"010\0");
        assert!(e(&b).starts_with("byte 4, version: `010` is the 2005 edition"), "{}", e(&b));
        let mut b = GOLDEN.to_vec();
        b[23] = 13;
        assert_eq!(e(&b), "byte 23, capture date and time: month 13 is not 1 to 12 (or 255, unspecified)");
        let mut b = GOLDEN.to_vec();
        b[43] = 3;
        assert_eq!(e(&b), "byte 43, gender: 3 is not 0, 1, 2 or 255");
        let mut b = GOLDEN.to_vec();
        b[66] = 0x80;
        assert!(e(&b).starts_with("byte 66, face image type: 0x80 is a 3D representation"), "{}", e(&b));
        let mut b = GOLDEN.to_vec();
        b[67] = 4;
        assert_eq!(e(&b), "byte 67, image data type: 4 is not 0 (JPEG), 1 or 2 (JPEG 2000) or 3 (PNG)");
        let mut b = GOLDEN.to_vec();
        b[68..70].copy_from_slice(&[0x00, 0x64]); // 100 wide: the landmark at x = 300 is outside
        assert_eq!(e(&b), "byte 60, landmark position: (300, 250) is outside the 100 × 640 image");
        let mut b = GOLDEN.to_vec();
        b[20] = 200; // representation runs past the end
        assert!(e(&b).starts_with("byte 17, representation length: 200 bytes run past"), "{}", e(&b));
        assert!(e(&GOLDEN[..40]).starts_with("byte 8, record length: says 81 bytes, the record has 40"));
    }

    fn record() -> impl Strategy<Value = FaceRecord> {
        let image = (
            (1u16..2000, 1u16..2000, 0u8..4, 0u8..4, proptest::collection::vec(any::<u8>(), 1..64)),
            (0u8..=100, any::<u16>(), any::<u16>(), 0u8..=7, prop::sample::select(vec![0u8, 1, 2, 255])),
            (0u8..=181, 0u8..=181, 0u8..=181, 0u32..0x0100_0000, any::<u16>()),
            proptest::collection::vec((1u8..=2, any::<u8>(), any::<u16>()), 0..6),
        )
            .prop_map(
                |((w, h, it, dt, data), (q, v, a, level, gender), (yaw, pitch, roll, properties, expr), lms)| {
                    let mut i = FaceImage::frontal(ImageDataType::from_code(dt).unwrap(), w, h, data);
                    i.image_type = it;
                    i.quality = vec![QualityBlock { score: q, vendor: v, algorithm: a }];
                    i.sampling_level = level;
                    i.gender = gender;
                    i.pose = [yaw, pitch, roll];
                    i.properties = properties;
                    i.expression = expr;
                    i.landmarks =
                        lms.into_iter().map(|(kind, code, z)| Landmark { kind, code, x: w / 2, y: h / 2, z }).collect();
                    i
                },
            );
        (any::<u16>(), proptest::collection::vec(image, 1..3))
            .prop_map(|(temporal_semantics, images)| FaceRecord { temporal_semantics, images })
    }

    proptest! {
        #[test]
        fn any_record_written_reads_back_the_same(rec in record()) {
            let bytes = encode(&rec).unwrap();
            prop_assert_eq!(parse(&bytes).unwrap(), rec);
        }

        #[test]
        fn any_bytes_are_refused_with_an_offset_inside_the_input_or_read(b in proptest::collection::vec(any::<u8>(), 0..200), rec in record(), flip in any::<prop::sample::Index>(), to in any::<u8>()) {
            for input in [b.clone(), { let mut x = encode(&rec).unwrap(); let i = flip.index(x.len()); x[i] = to; x }] {
                if let Err(e) = parse(&input) {
                    prop_assert!(e.offset <= input.len(), "{e}");
                }
            }
        }
    }

    #[test]
    fn photo_sizes_are_read_from_png_and_jpeg_headers() {
        let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0]);
        assert_eq!(photo_size(&png), Some((ImageDataType::Png, 640, 480)));
        // SOI, an APP0 segment of 16 bytes, then SOF2 (progressive) 300 high, 200 wide.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        jpeg.extend_from_slice(&[0; 14]);
        jpeg.extend_from_slice(&[0xFF, 0xC2, 0x00, 0x11, 0x08, 0x01, 0x2C, 0x00, 0xC8, 0x03]);
        assert_eq!(photo_size(&jpeg), Some((ImageDataType::Jpeg, 200, 300)));
        let rec = parse(&photo_record(&jpeg).unwrap()).unwrap();
        assert_eq!((rec.images[0].width, rec.images[0].height), (200, 300));
        assert_eq!(rec.images[0].data, jpeg);
        // A DHT segment is not a frame header.
        let dht = [0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xD9];
        assert_eq!(photo_size(&dht), None);
        assert!(photo_record(b"GIF89a").unwrap_err().to_string().contains("photograph"));
    }

    proptest::proptest! {
        /// Whatever bytes come from an upload, reading the header never panics.
        #[test]
        fn photo_size_never_panics(mut b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), jpeg in proptest::prelude::any::<bool>()) {
            if jpeg { b.splice(0..0, [0xFF, 0xD8]); }
            let _ = photo_size(&b);
            let _ = photo_record(&b);
        }
    }
}
