//! Finger image records, ISO/IEC 19794-4:2011 (record format version `020`):
//! parsing with every header field checked, and writing. Pure and dependency-free;
//! the image is kept as bytes in whatever compression the record names (WSQ, JPEG,
//! JPEG 2000, PNG or none). A malformed record is refused with the byte offset and
//! the field at fault, never a panic.
//!
//! Layout (all integers big-endian):
//!
//! | size | field |
//! |---|---|
//! | 4 | format identifier `FIR\0` |
//! | 4 | version `020\0` |
//! | 4 | record length, header included |
//! | 2 | number of representations (at least 1) |
//! | 1 | certification flag (0, or 1 when each representation carries certification blocks) |
//! | 1 | number of distinct fingers or palms present |
//! | | each representation: |
//! | 4 | representation length, this field included |
//! | 9 | capture date and time in UTC, as in the face record (all bits set: unspecified) |
//! | 1, 2, 2 | capture device technology, vendor, type |
//! | 1 + 5n | quality blocks: count, then each score (0–100, 255 failed), algorithm vendor (2), algorithm (2) |
//! | 1 + 3n | only with the certification flag: certification blocks, each authority (2) and scheme (1) |
//! | 1 | finger or palm position (0–10 fingers, 11–15 multi-finger, 20–38 palm) |
//! | 1 | representation number |
//! | 1 | scale units: 1 pixels per inch, 2 pixels per centimetre |
//! | 2, 2 | capture device spatial sampling rate, horizontal and vertical |
//! | 2, 2 | image spatial sampling rate, horizontal and vertical |
//! | 1 | bit depth |
//! | 1 | compression: 0 none, 1 none bit-packed, 2 WSQ, 3 JPEG, 4 JPEG 2000 lossy, 5 JPEG 2000 lossless, 6 PNG |
//! | 1 | impression type (0–3, 8, 9 as in ISO/IEC 19794-2; 10–15 palm, 20–29 latent) |
//! | 2, 2 | horizontal and vertical line length (pixels) |
//! | 4 + n | image data length, then the image |
//! | rest | extended data blocks (segmentation, annotation, comment), kept as bytes |

use serde::{Deserialize, Serialize};

use crate::face::{read_representation_head, write_representation_head, CaptureTime, QualityBlock, RepresentationHead};
pub use crate::record::RecordError;
use crate::record::{bad, read_prefix, Reader};

pub const FORMAT_ID: &[u8; 4] = b"FIR\0";
pub const VERSION: &[u8; 4] = b"020\0";
pub const GENERAL_HEADER_LEN: usize = 16;

/// Image compression (ISO/IEC 19794-4:2011, Table 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    None,
    NoneBitPacked,
    Wsq,
    Jpeg,
    Jpeg2000Lossy,
    Jpeg2000Lossless,
    Png,
}

impl Compression {
    pub fn code(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::NoneBitPacked => 1,
            Compression::Wsq => 2,
            Compression::Jpeg => 3,
            Compression::Jpeg2000Lossy => 4,
            Compression::Jpeg2000Lossless => 5,
            Compression::Png => 6,
        }
    }
    pub fn from_code(c: u8) -> Option<Compression> {
        Some(match c {
            0 => Compression::None,
            1 => Compression::NoneBitPacked,
            2 => Compression::Wsq,
            3 => Compression::Jpeg,
            4 => Compression::Jpeg2000Lossy,
            5 => Compression::Jpeg2000Lossless,
            6 => Compression::Png,
            _ => return None,
        })
    }
}

/// One finger (or palm) image and what the record says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerImage {
    pub captured: CaptureTime,
    pub device_technology: u8,
    pub device_vendor: u16,
    pub device_type: u16,
    pub quality: Vec<QualityBlock>,
    /// (authority, scheme) of each certification, when the record is certified.
    pub certifications: Vec<(u16, u8)>,
    pub position: u8,
    pub representation: u8,
    /// 1 pixels per inch, 2 pixels per centimetre.
    pub scale_units: u8,
    pub capture_rate: (u16, u16),
    pub image_rate: (u16, u16),
    pub bit_depth: u8,
    pub compression: Compression,
    pub impression: u8,
    pub width: u16,
    pub height: u16,
    pub data: Vec<u8>,
    /// Extended data blocks, kept as bytes.
    pub extended: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerImageRecord {
    pub certified: bool,
    pub images: Vec<FingerImage>,
}

fn valid_position(p: u8) -> bool {
    p <= 15 || (20..=38).contains(&p)
}

fn valid_impression(i: u8) -> bool {
    matches!(i, 0..=3 | 8..=15 | 20..=29)
}

impl FingerImage {
    /// The image's resolution in pixels per inch, whatever the record's units.
    pub fn ppi(&self) -> u32 {
        match self.scale_units {
            2 => (u32::from(self.image_rate.0) * 254 + 50) / 100,
            _ => u32::from(self.image_rate.0),
        }
    }

    /// An 8-bit uncompressed 500 ppi plain impression, as most livescan stations give.
    pub fn plain(position: u8, width: u16, height: u16, data: Vec<u8>) -> FingerImage {
        FingerImage {
            captured: CaptureTime::UNSPECIFIED,
            device_technology: 0,
            device_vendor: 0,
            device_type: 0,
            quality: vec![],
            certifications: vec![],
            position,
            representation: 1,
            scale_units: 1,
            capture_rate: (500, 500),
            image_rate: (500, 500),
            bit_depth: 8,
            compression: Compression::None,
            impression: 0,
            width,
            height,
            data,
            extended: vec![],
        }
    }
}

fn parse_image(r: &mut Reader<'_>, record_end: usize, certified: bool) -> Result<FingerImage, RecordError> {
    let start = r.at;
    let len = r.u32("representation length")? as usize;
    let end = start.checked_add(len).filter(|e| *e <= record_end).ok_or_else(|| {
        bad(start, "representation length", format!("{len} bytes run past the record's end at byte {record_end}"))
    })?;
    let RepresentationHead { captured, device_technology, device_vendor, device_type, quality } =
        read_representation_head(r)?;
    let mut certifications = Vec::new();
    if certified {
        let n = r.u8("number of certification blocks")?;
        for _ in 0..n {
            certifications.push((r.u16("certification authority")?, r.u8("certification scheme")?));
        }
    }
    let p_at = r.at;
    let position = r.u8("finger position")?;
    if !valid_position(position) {
        return Err(bad(p_at, "finger position", format!("{position} is not a finger (0 to 15) or a palm (20 to 38)")));
    }
    let representation = r.u8("representation number")?;
    let su_at = r.at;
    let scale_units = r.u8("scale units")?;
    if !(1..=2).contains(&scale_units) {
        return Err(bad(su_at, "scale units", format!("{scale_units} is not 1 (per inch) or 2 (per centimetre)")));
    }
    let capture_rate = (r.u16("capture sampling rate")?, r.u16("capture sampling rate")?);
    let ir_at = r.at;
    let image_rate = (r.u16("image sampling rate")?, r.u16("image sampling rate")?);
    if image_rate.0 == 0 || image_rate.1 == 0 {
        return Err(bad(ir_at, "image sampling rate", "is 0"));
    }
    let bd_at = r.at;
    let bit_depth = r.u8("bit depth")?;
    if !(1..=16).contains(&bit_depth) {
        return Err(bad(bd_at, "bit depth", format!("{bit_depth} is not 1 to 16")));
    }
    let c = r.u8("compression")?;
    let compression =
        Compression::from_code(c).ok_or_else(|| bad(bd_at + 1, "compression", format!("{c} is not 0 to 6")))?;
    let impression = r.u8("impression type")?;
    if !valid_impression(impression) {
        return Err(bad(bd_at + 2, "impression type", format!("{impression} is not an impression type")));
    }
    let ll_at = r.at;
    let width = r.u16("horizontal line length")?;
    let height = r.u16("vertical line length")?;
    if width == 0 || height == 0 {
        return Err(bad(ll_at, "line length", format!("{width} × {height} pixels: neither may be 0")));
    }
    let d_at = r.at;
    let data_len = r.u32("image data length")? as usize;
    if d_at + 4 + data_len > end {
        return Err(bad(d_at, "image data length", format!("{data_len} bytes run past the representation's end")));
    }
    let data = r.take(data_len, "image data")?.to_vec();
    if compression == Compression::None {
        let expected = usize::from(width) * usize::from(height) * usize::from(bit_depth).div_ceil(8);
        if data.len() != expected {
            return Err(bad(
                d_at,
                "image data length",
                format!(
                    "{} bytes; an uncompressed {width} × {height} image of {bit_depth} bits is {expected}",
                    data.len()
                ),
            ));
        }
    }
    let extended = r.take(end - r.at, "extended data")?.to_vec();
    Ok(FingerImage {
        captured,
        device_technology,
        device_vendor,
        device_type,
        quality,
        certifications,
        position,
        representation,
        scale_units,
        capture_rate,
        image_rate,
        bit_depth,
        compression,
        impression,
        width,
        height,
        data,
        extended,
    })
}

/// Parse a record, checking every header field.
pub fn parse(b: &[u8]) -> Result<FingerImageRecord, RecordError> {
    let mut r = Reader::new(b);
    read_prefix(&mut r, FORMAT_ID, "an ISO/IEC 19794-4 finger image record", VERSION, "ISO/IEC 19794-4:2011", &[])?;
    let count = r.u16("number of representations")?;
    if count == 0 {
        return Err(bad(12, "number of representations", "is 0: a record holds at least one image"));
    }
    let certified = match r.u8("certification flag")? {
        0 => false,
        1 => true,
        f => return Err(bad(14, "certification flag", format!("{f} is not 0 or 1"))),
    };
    let present = r.u8("number of fingers present")?;
    let mut images = Vec::new();
    for _ in 0..count {
        images.push(parse_image(&mut r, b.len(), certified)?);
    }
    if r.at != b.len() {
        return Err(bad(r.at, "record length", format!("{} bytes follow the last representation", b.len() - r.at)));
    }
    let mut distinct: Vec<u8> = images.iter().map(|i| i.position).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if usize::from(present) != distinct.len() {
        return Err(bad(
            15,
            "number of fingers present",
            format!("says {present}, the representations hold {}", distinct.len()),
        ));
    }
    Ok(FingerImageRecord { certified, images })
}

/// Write a record. Refuses what `parse` would refuse, naming the field.
pub fn encode(rec: &FingerImageRecord) -> Result<Vec<u8>, RecordError> {
    let mut out = Vec::with_capacity(GENERAL_HEADER_LEN + rec.images.iter().map(|i| 64 + i.data.len()).sum::<usize>());
    out.extend_from_slice(FORMAT_ID);
    out.extend_from_slice(VERSION);
    out.extend_from_slice(&[0; 4]);
    let count =
        u16::try_from(rec.images.len()).map_err(|_| bad(12, "number of representations", "more than 65,535"))?;
    out.extend_from_slice(&count.to_be_bytes());
    out.push(u8::from(rec.certified));
    let mut distinct: Vec<u8> = rec.images.iter().map(|i| i.position).collect();
    distinct.sort_unstable();
    distinct.dedup();
    out.push(u8::try_from(distinct.len()).map_err(|_| bad(15, "number of fingers present", "more than 255"))?);
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
        if rec.certified {
            out.push(
                u8::try_from(i.certifications.len())
                    .map_err(|_| bad(out.len(), "number of certification blocks", "more than 255"))?,
            );
            for (authority, scheme) in &i.certifications {
                out.extend_from_slice(&authority.to_be_bytes());
                out.push(*scheme);
            }
        } else if !i.certifications.is_empty() {
            return Err(bad(14, "certification flag", "is 0 but a representation has certification blocks"));
        }
        out.extend_from_slice(&[i.position, i.representation, i.scale_units]);
        for v in [i.capture_rate.0, i.capture_rate.1, i.image_rate.0, i.image_rate.1] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&[i.bit_depth, i.compression.code(), i.impression]);
        out.extend_from_slice(&i.width.to_be_bytes());
        out.extend_from_slice(&i.height.to_be_bytes());
        let n = u32::try_from(i.data.len()).map_err(|_| bad(out.len(), "image data length", "more than 4 GiB"))?;
        out.extend_from_slice(&n.to_be_bytes());
        out.extend_from_slice(&i.data);
        out.extend_from_slice(&i.extended);
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> FingerImageRecord {
        let mut i = FingerImage::plain(7, 2, 2, vec![0, 64, 128, 255]);
        i.quality = vec![QualityBlock { score: 60, vendor: 0x0101, algorithm: 0x0002 }];
        FingerImageRecord { certified: false, images: vec![i] }
    }

    /// The golden bytes of `sample()`, written out by hand from the layout above.
    const GOLDEN: &[u8] = &[
        b'F', b'I', b'R', 0, b'0', b'2', b'0', 0, // format, version
        0, 0, 0, 66, // record length: 16 + 50
        0, 1, 0, 1, // one representation, not certified, one finger present
        0, 0, 0, 50, // representation length: 4 + 9 + 5 + 1 + 5 + 1 + 1 + 1 + 8 + 3 + 4 + 4 + 4
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // capture time unspecified
        0, 0, 0, 0, 0, // device
        1, 60, 0x01, 0x01, 0x00, 0x02, // one quality block
        7, 1, 1, // left index, representation 1, pixels per inch
        0x01, 0xF4, 0x01, 0xF4, 0x01, 0xF4, 0x01, 0xF4, // 500 ppi captured and stored
        8, 0, 0, // 8 bits, uncompressed, live-scan plain
        0, 2, 0, 2, // 2 × 2 pixels
        0, 0, 0, 4, 0, 64, 128, 255, // the image
    ];

    #[test]
    fn the_golden_record_reads_and_writes_byte_for_byte() {
        assert_eq!(encode(&sample()).unwrap(), GOLDEN);
        assert_eq!(parse(GOLDEN).unwrap(), sample());
        assert_eq!(sample().images[0].ppi(), 500);
    }

    #[test]
    fn malformed_records_name_the_byte_and_the_field() {
        let e = |b: &[u8]| parse(b).unwrap_err().to_string();
        assert_eq!(
            e(b"FAC\0"),
            "byte 0, format identifier: not `FIR\\0`: this is not an ISO/IEC 19794-4 finger image record"
        );
        let mut b = GOLDEN.to_vec();
        b[15] = 2;
        assert_eq!(e(&b), "byte 15, number of fingers present: says 2, the representations hold 1");
        let mut b = GOLDEN.to_vec();
        b[40] = 16;
        assert_eq!(e(&b), "byte 40, finger position: 16 is not a finger (0 to 15) or a palm (20 to 38)");
        let mut b = GOLDEN.to_vec();
        b[52] = 9;
        assert_eq!(e(&b), "byte 52, compression: 9 is not 0 to 6");
        let mut b = GOLDEN.to_vec();
        b[57] = 3; // 2 × 3 pixels, four bytes of image
        assert_eq!(e(&b), "byte 58, image data length: 4 bytes; an uncompressed 2 × 3 image of 8 bits is 6");
        assert!(e(&GOLDEN[..30]).starts_with("byte 8, record length: says 66 bytes"));
    }

    fn record() -> impl Strategy<Value = FingerImageRecord> {
        let image = (1u16..40, 1u16..40, 0u8..=10, prop::sample::select(vec![0u8, 2, 3, 6]), any::<u16>(), 0u8..=100)
            .prop_flat_map(|(w, h, position, c, vendor, q)| {
                let n = if c == 0 { usize::from(w) * usize::from(h) } else { 50 };
                (proptest::collection::vec(any::<u8>(), n), proptest::collection::vec(any::<u8>(), 0..8)).prop_map(
                    move |(data, extended)| {
                        let mut i = FingerImage::plain(position, w, h, data);
                        i.compression = Compression::from_code(c).unwrap();
                        i.device_vendor = vendor;
                        i.quality = vec![QualityBlock { score: q, vendor: 1, algorithm: 2 }];
                        i.extended = extended;
                        i
                    },
                )
            });
        (any::<bool>(), proptest::collection::vec(image, 1..4)).prop_map(|(certified, mut images)| {
            if certified {
                for i in &mut images {
                    i.certifications = vec![(0x0101, 1)];
                }
            }
            FingerImageRecord { certified, images }
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
            for input in [b.clone(), { let mut x = encode(&rec).unwrap(); let i = flip.index(x.len()); x[i] = to; x }] {
                if let Err(e) = parse(&input) {
                    prop_assert!(e.offset <= input.len(), "{e}");
                }
            }
        }
    }
}
