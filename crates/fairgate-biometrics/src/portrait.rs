//! Whether a face image is a portrait an officer (and later a matcher) can use:
//! it decodes, it is the size the record says, it has the resolution ICAO portrait
//! guidance asks for, and it is not blank or uniform. Each refusal says what to do.

use std::io::Cursor;

use fairgate_core::face::{FaceImage, ImageDataType};
use serde::Serialize;
use zune_jpeg::zune_core::{colorspace::ColorSpace, options::DecoderOptions};

/// The smallest portrait taken: at the token-frontal geometry of ISO/IEC 19794-5
/// (eye centres a quarter of the width apart), 360 pixels across puts the 90 pixels
/// between the eyes that ICAO portrait guidance sets as the minimum.
pub const MIN_WIDTH: u32 = 360;
pub const MIN_HEIGHT: u32 = 480;
/// When the record marks both eye centres, they must be at least this far apart.
pub const MIN_EYE_DISTANCE: f64 = 90.0;
/// Larger images are refused before decoding (a decompression bomb costs nothing to send).
pub const MAX_PIXELS: u64 = 6000 * 8000;
/// Below this standard deviation of brightness (0–255), an image is uniform.
pub const MIN_CONTRAST: f64 = 12.0;

/// What a usable portrait measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Portrait {
    pub width: u32,
    pub height: u32,
    /// Mean and standard deviation of brightness, 0–255.
    pub brightness: f64,
    pub contrast: f64,
    pub eye_distance: Option<f64>,
}

/// Why a face image was refused, in words an officer can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{field}: {message}")]
pub struct PortraitRefusal {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> PortraitRefusal {
    PortraitRefusal { field, message: message.into() }
}

/// Decode to 8-bit brightness, returning (width, height, pixels).
fn decode_luma(data_type: ImageDataType, data: &[u8]) -> Result<(u32, u32, Vec<u8>), PortraitRefusal> {
    const F: &str = "image data";
    match data_type {
        ImageDataType::Jpeg => {
            if !data.starts_with(&[0xFF, 0xD8]) {
                return Err(refuse(F, "the record says JPEG but the image does not start like one; capture again"));
            }
            let options = DecoderOptions::default()
                .jpeg_set_out_colorspace(ColorSpace::Luma)
                .set_max_width(6000)
                .set_max_height(8000);
            let mut d = zune_jpeg::JpegDecoder::new_with_options(Cursor::new(data), options);
            d.decode_headers().map_err(|e| refuse(F, format!("the JPEG does not decode ({e:?}); capture again")))?;
            let info = d.info().ok_or_else(|| refuse(F, "the JPEG has no frame header; capture again"))?;
            let (w, h) = (u32::from(info.width), u32::from(info.height));
            let px = d.decode().map_err(|e| refuse(F, format!("the JPEG does not decode ({e:?}); capture again")))?;
            Ok((w, h, px))
        }
        ImageDataType::Png => {
            if !data.starts_with(b"\x89PNG\r\n\x1a\n") {
                return Err(refuse(F, "the record says PNG but the image does not start like one; capture again"));
            }
            let mut dec = png::Decoder::new_with_limits(Cursor::new(data), png::Limits { bytes: 256 << 20 });
            dec.set_transformations(png::Transformations::normalize_to_color8());
            let mut reader =
                dec.read_info().map_err(|e| refuse(F, format!("the PNG does not decode ({e}); capture again")))?;
            let (w, h) = (reader.info().width, reader.info().height);
            if u64::from(w) * u64::from(h) > MAX_PIXELS {
                return Err(refuse(F, format!("{w} × {h} pixels is more than any camera takes; capture again")));
            }
            let size = reader.output_buffer_size().ok_or_else(|| refuse(F, "the PNG is too large to decode"))?;
            let mut buf = vec![0; size];
            let out = reader
                .next_frame(&mut buf)
                .map_err(|e| refuse(F, format!("the PNG does not decode ({e}); capture again")))?;
            let channels = out.color_type.samples();
            let luma = buf[..out.buffer_size()]
                .chunks_exact(channels)
                .map(|p| match channels {
                    1 | 2 => p[0],
                    _ => ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000) as u8,
                })
                .collect();
            Ok((w, h, luma))
        }
        ImageDataType::Jpeg2000Lossy | ImageDataType::Jpeg2000Lossless => Err(refuse(
            "image data type",
            "JPEG 2000 images are not decoded here; set the capture station to JPEG or PNG",
        )),
    }
}

/// Check that a face image is a usable portrait.
pub fn check_portrait(img: &FaceImage) -> Result<Portrait, PortraitRefusal> {
    let (w, h) = (u32::from(img.width), u32::from(img.height));
    if w < MIN_WIDTH || h < MIN_HEIGHT {
        return Err(refuse(
            "image size",
            format!("{w} × {h} pixels is below the {MIN_WIDTH} × {MIN_HEIGHT} a portrait needs; move closer or use a higher resolution"),
        ));
    }
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(refuse("image size", format!("{w} × {h} pixels is more than any camera takes; capture again")));
    }
    // A third-party decoder meeting hostile bytes must not take the server down.
    let decoded = std::panic::catch_unwind(|| decode_luma(img.data_type, &img.data))
        .map_err(|_| refuse("image data", "the image could not be decoded; capture again"))??;
    let (dw, dh, px) = decoded;
    if (dw, dh) != (w, h) {
        return Err(refuse(
            "image size",
            format!("the record says {w} × {h} pixels but the image is {dw} × {dh}; export the record again"),
        ));
    }
    if px.len() as u64 != u64::from(w) * u64::from(h) {
        return Err(refuse("image data", "the image ended early; capture again"));
    }
    let n = px.len() as f64;
    let mut hist = [0u64; 256];
    for p in &px {
        hist[*p as usize] += 1;
    }
    let mean = hist.iter().enumerate().map(|(v, c)| v as f64 * *c as f64).sum::<f64>() / n;
    let var = hist.iter().enumerate().map(|(v, c)| (v as f64 - mean).powi(2) * *c as f64).sum::<f64>() / n;
    let contrast = var.sqrt();
    let commonest = *hist.iter().max().unwrap_or(&0) as f64 / n;
    if contrast < MIN_CONTRAST || commonest > 0.9 {
        return Err(refuse(
            "image data",
            "the image is blank or nearly uniform (no face can be seen); check the camera and capture again",
        ));
    }
    let eye_distance = img.eye_distance();
    if let Some(d) = eye_distance {
        if d < MIN_EYE_DISTANCE {
            return Err(refuse(
                "landmarks",
                format!(
                    "the eyes are {d:.0} pixels apart, below the {MIN_EYE_DISTANCE:.0} a portrait needs; move closer"
                ),
            ));
        }
    }
    Ok(Portrait { width: w, height: h, brightness: mean, contrast, eye_distance })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;
    use proptest::prelude::*;

    fn png(w: u32, h: u32, px: impl Fn(u32, u32) -> u8) -> Vec<u8> {
        synthetic::encode_png_gray(
            w,
            h,
            &(0..h).flat_map(|y| (0..w).map(move |x| (x, y))).map(|(x, y)| px(x, y)).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn a_generated_face_is_a_usable_portrait() {
        let img = synthetic::face(7);
        let p = check_portrait(&img).unwrap();
        assert_eq!((p.width, p.height), (480, 640));
        assert!(p.contrast > 20.0, "{p:?}");
        assert!(p.eye_distance.unwrap() >= MIN_EYE_DISTANCE);
        if let Ok(dir) = std::env::var("FAIRGATE_WRITE_FACE") {
            std::fs::write(format!("{dir}/face.png"), &img.data).unwrap();
        }
    }

    #[test]
    fn a_jpeg_from_an_independent_encoder_is_a_usable_portrait_and_a_cut_one_is_not() {
        let jpeg = include_bytes!("../testdata/face-7.jpg").to_vec();
        let mut img = FaceImage::frontal(ImageDataType::Jpeg, 480, 640, jpeg.clone());
        img.landmarks = synthetic::face(7).landmarks;
        let p = check_portrait(&img).unwrap();
        assert!(p.contrast > 20.0, "{p:?}");
        img.data.truncate(600);
        let e = check_portrait(&img).unwrap_err();
        assert_eq!(e.field, "image data");
        assert!(e.message.ends_with("capture again"), "{e}");
    }

    #[test]
    fn a_blank_image_is_refused_as_blank() {
        let data = png(480, 640, |_, _| 200);
        let img = FaceImage::frontal(ImageDataType::Png, 480, 640, data);
        let e = check_portrait(&img).unwrap_err();
        assert_eq!(e.field, "image data");
        assert!(e.message.contains("blank or nearly uniform"), "{e}");
    }

    #[test]
    fn a_small_image_is_refused_with_the_minimum() {
        let data = png(200, 260, |x, y| ((x * 7 + y * 13) % 256) as u8);
        let e = check_portrait(&FaceImage::frontal(ImageDataType::Png, 200, 260, data)).unwrap_err();
        assert_eq!(e.to_string(), "image size: 200 × 260 pixels is below the 360 × 480 a portrait needs; move closer or use a higher resolution");
    }

    #[test]
    fn a_record_that_lies_about_the_size_or_the_encoding_is_refused() {
        let data = png(480, 640, |x, y| ((x ^ y) % 256) as u8);
        let e = check_portrait(&FaceImage::frontal(ImageDataType::Png, 500, 640, data.clone())).unwrap_err();
        assert!(e.message.contains("the record says 500 × 640 pixels but the image is 480 × 640"), "{e}");
        let e = check_portrait(&FaceImage::frontal(ImageDataType::Jpeg, 480, 640, data)).unwrap_err();
        assert!(e.message.contains("says JPEG"), "{e}");
        let e = check_portrait(&FaceImage::frontal(ImageDataType::Jpeg2000Lossy, 480, 640, vec![0; 10])).unwrap_err();
        assert_eq!(e.field, "image data type");
    }

    #[test]
    fn eyes_too_close_are_refused() {
        let mut img = synthetic::face(1);
        for l in &mut img.landmarks {
            l.x = 240 + (l.x % 2) * 40;
        }
        let e = check_portrait(&img).unwrap_err();
        assert_eq!(e.field, "landmarks");
    }

    proptest! {
        // Each case draws and decodes a 480 × 640 face: 48 cases keep this quick.
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn damaged_image_bytes_are_refused_never_a_panic(seed in 0u64..4, cut in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), to in any::<u8>()) {
            let mut img = synthetic::face(seed);
            let n = img.data.len();
            let i = at.index(n);
            img.data[i] = to;
            img.data.truncate(cut.index(n).max(8));
            let _ = check_portrait(&img);
        }
    }
}
