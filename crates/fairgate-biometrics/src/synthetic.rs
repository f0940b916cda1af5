//! Generated biometrics for the demo and the tests: drawn faces and random minutiae
//! sets, the same for the same seed. None of them is anyone's face or finger.

use fairgate_core::face::{
    CaptureTime, FaceImage, FaceRecord, ImageDataType, Landmark, LEFT_EYE_CENTRE, RIGHT_EYE_CENTRE,
};
use fairgate_core::minutiae::{FingerView, Minutia, MinutiaType, MinutiaeRecord};

/// SplitMix64: a small, fixed generator, so a seed always draws the same face.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// An 8-bit greyscale PNG.
pub fn encode_png_gray(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        // Encoding into memory cannot fail but for a size mismatch, which is ours.
        let mut w = enc.write_header().expect("PNG header into memory");
        w.write_image_data(pixels).expect("PNG data of width × height bytes");
    }
    out
}

pub const FACE_WIDTH: u16 = 480;
pub const FACE_HEIGHT: u16 = 640;

fn inside(x: f64, y: f64, cx: f64, cy: f64, rx: f64, ry: f64) -> f64 {
    ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2)
}

/// A drawn frontal face, 480 × 640 greyscale PNG, with both eye centres marked.
pub fn face(seed: u64) -> FaceImage {
    let mut rng = Mix(seed ^ 0xFACE);
    let (w, h) = (f64::from(FACE_WIDTH), f64::from(FACE_HEIGHT));
    let skin = 110.0 + rng.below(90) as f64;
    let hair = 20.0 + rng.below(80) as f64;
    let backdrop = 215.0 + rng.below(30) as f64;
    let (cx, cy) = (w / 2.0 + rng.below(21) as f64 - 10.0, 300.0 + rng.below(21) as f64 - 10.0);
    let (rx, ry) = (140.0 + rng.below(30) as f64, 190.0 + rng.below(30) as f64);
    let eye_y = cy - 30.0;
    let half_gap = 58.0 + rng.below(10) as f64;
    let eyes = [(cx - half_gap, eye_y), (cx + half_gap, eye_y)];
    let mouth_w = 50.0 + rng.below(25) as f64;
    let mut px = Vec::with_capacity(usize::from(FACE_WIDTH) * usize::from(FACE_HEIGHT));
    for yi in 0..FACE_HEIGHT {
        for xi in 0..FACE_WIDTH {
            let (x, y) = (f64::from(xi), f64::from(yi));
            let mut v = backdrop - 20.0 * y / h;
            // shoulders
            if inside(x, y, cx, h + 60.0, 260.0, 200.0) < 1.0 {
                v = 60.0;
            }
            let head = inside(x, y, cx, cy, rx, ry);
            if head < 1.0 {
                v = skin * (1.0 - 0.25 * head);
                if y < cy - ry * 0.55 || (head > 0.8 && y < cy) {
                    v = hair;
                }
                for (ex, ey) in eyes {
                    if inside(x, y, ex, ey - 24.0, 30.0, 5.0) < 1.0 {
                        v = hair; // brow
                    }
                    let e = inside(x, y, ex, ey, 26.0, 12.0);
                    if e < 1.0 {
                        v = if inside(x, y, ex, ey, 9.0, 9.0) < 1.0 { 25.0 } else { 235.0 };
                    }
                }
                if (x - cx).abs() < 4.0 && y > eye_y + 10.0 && y < cy + 40.0 {
                    v = skin * 0.7; // nose
                }
                if inside(x, y, cx + 10.0, cy + 55.0, 18.0, 8.0) < 1.0 && x > cx - 8.0 {
                    v = skin * 0.6; // nostril shadow
                }
                if inside(x, y, cx, cy + 110.0, mouth_w, 10.0) < 1.0 {
                    v = skin * 0.5;
                }
            }
            px.push(v.clamp(0.0, 255.0) as u8);
        }
    }
    let data = encode_png_gray(u32::from(FACE_WIDTH), u32::from(FACE_HEIGHT), &px);
    let mut img = FaceImage::frontal(ImageDataType::Png, FACE_WIDTH, FACE_HEIGHT, data);
    img.colour_space = 3; // 8-bit greyscale
                          // The subject's left eye is on the image's right.
    img.landmarks = vec![
        Landmark { kind: 1, code: RIGHT_EYE_CENTRE, x: eyes[0].0 as u16, y: eyes[0].1 as u16, z: 0 },
        Landmark { kind: 1, code: LEFT_EYE_CENTRE, x: eyes[1].0 as u16, y: eyes[1].1 as u16, z: 0 },
    ];
    img
}

/// A face record holding one drawn face, captured on `date` (year, month, day).
pub fn face_record(seed: u64, date: (u16, u8, u8)) -> FaceRecord {
    let mut img = face(seed);
    img.captured = CaptureTime { year: date.0, month: date.1, day: date.2, ..CaptureTime::UNSPECIFIED };
    FaceRecord { temporal_semantics: 0, images: vec![img] }
}

/// A ten-print (or fewer) minutiae record: for each finger position given, 25 to 60
/// minutiae scattered over a finger-shaped area of a 500 dpi, 500 × 550 image.
pub fn minutiae(seed: u64, positions: &[u8]) -> MinutiaeRecord {
    let mut rng = Mix(seed ^ 0xF1_4E7);
    let views = positions
        .iter()
        .map(|&position| {
            let n = 25 + rng.below(36) as usize;
            let mut minutiae = Vec::with_capacity(n);
            while minutiae.len() < n {
                let (x, y) = (rng.below(500) as u16, rng.below(550) as u16);
                if inside(f64::from(x), f64::from(y), 250.0, 300.0, 190.0, 250.0) >= 1.0 {
                    continue;
                }
                let kind = if rng.below(2) == 0 { MinutiaType::RidgeEnding } else { MinutiaType::Bifurcation };
                minutiae.push(Minutia { kind, x, y, angle: rng.below(256) as u8, quality: 40 + rng.below(61) as u8 });
            }
            FingerView {
                position,
                view: 0,
                impression: 0,
                quality: 50 + rng.below(51) as u8,
                minutiae,
                extended: vec![],
            }
        })
        .collect();
    MinutiaeRecord {
        certification: 0,
        device_type: 0,
        width: 500,
        height: 550,
        x_resolution: 197,
        y_resolution: 197,
        views,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_face_and_another_seed_another() {
        assert_eq!(face(3), face(3));
        assert_ne!(face(3).data, face(4).data);
        let rec = face_record(3, (2026, 11, 30));
        let bytes = fairgate_core::face::encode(&rec).unwrap();
        assert_eq!(fairgate_core::face::parse(&bytes).unwrap(), rec);
    }

    #[test]
    fn generated_minutiae_are_valid_records() {
        let rec = minutiae(9, &[1, 2, 6, 7]);
        assert_eq!(rec.views.len(), 4);
        let bytes = fairgate_core::minutiae::encode(&rec).unwrap();
        assert_eq!(fairgate_core::minutiae::parse(&bytes).unwrap(), rec);
        assert_ne!(minutiae(9, &[1]).views[0].minutiae, minutiae(10, &[1]).views[0].minutiae);
    }
}
