//! The face matcher on real photographs: public-domain sample images from the
//! scikit-image wheel (installed with the models by scripts/setup-faces.sh), and
//! transformed copies of them (cropped, turned, brighter, smaller). Skipped when the
//! matcher is not installed, unless FAIRGATE_REQUIRE_FACES is set (CI sets it).

use fairgate_biometrics::face::{FaceEmbedder, FaceError, OnnxFaces, Rgb};
use fairgate_biometrics::index::dot;
use fairgate_core::matching::FACE_THRESHOLD;
use std::path::PathBuf;

fn dir() -> PathBuf {
    std::env::var_os("FAIRGATE_FACES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fairgate-faces"))
}

fn engine() -> Option<OnnxFaces> {
    match OnnxFaces::load(&dir()) {
        Ok(e) => Some(e),
        Err(e) if std::env::var_os("FAIRGATE_REQUIRE_FACES").is_some() => panic!("{e}"),
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

fn photo(name: &str) -> Vec<u8> {
    std::fs::read(dir().join("photos").join(name)).unwrap()
}

fn png(img: &Rgb) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = png::Encoder::new(&mut out, img.width as u32, img.height as u32);
    e.set_color(png::ColorType::Rgb);
    e.set_depth(png::BitDepth::Eight);
    e.write_header().unwrap().write_image_data(&img.pixels).unwrap();
    out
}

/// A copy warped by `f`: each output pixel takes the input's colour at f(x, y).
fn warped(img: &Rgb, width: usize, height: usize, f: impl Fn(f64, f64) -> (f64, f64)) -> Rgb {
    let mut pixels = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let (sx, sy) = f(x as f64, y as f64);
            let (sx, sy) = (sx.round() as i64, sy.round() as i64);
            if sx < 0 || sy < 0 || sx >= img.width as i64 || sy >= img.height as i64 {
                pixels.extend([0, 0, 0]);
            } else {
                let i = (sy as usize * img.width + sx as usize) * 3;
                pixels.extend_from_slice(&img.pixels[i..i + 3]);
            }
        }
    }
    Rgb { width, height, pixels }
}

#[test]
fn a_photograph_matches_its_transformed_copies_and_not_another_person() {
    let Some(faces) = engine() else { return };
    let astronaut = photo("astronaut.png");
    let original = faces.embed(&astronaut).unwrap();
    let img = Rgb::decode(&astronaut).unwrap();
    let (w, h) = (img.width as f64, img.height as f64);
    let (s, c) = (0.2f64.sin(), 0.2f64.cos());
    let copies = [
        ("cropped", warped(&img, 300, 320, |x, y| (x + 100.0, y + 10.0))),
        (
            "turned 11 degrees",
            warped(&img, img.width, img.height, |x, y| {
                let (dx, dy) = (x - w / 2.0, y - h / 2.0);
                (c * dx + s * dy + w / 2.0, -s * dx + c * dy + h / 2.0)
            }),
        ),
        (
            "brighter",
            Rgb {
                pixels: img.pixels.iter().map(|p| (f32::from(*p) * 1.3 + 20.0).min(255.0) as u8).collect(),
                ..img.clone()
            },
        ),
        ("half the size", warped(&img, img.width / 2, img.height / 2, |x, y| (x * 2.0, y * 2.0))),
    ];
    for (what, copy) in &copies {
        let e = faces.embed(&png(copy)).unwrap_or_else(|e| panic!("{what}: {e}"));
        let sim = dot(&original, &e);
        eprintln!("astronaut vs {what}: {sim:.3}");
        assert!(f64::from(sim) >= FACE_THRESHOLD.score, "{what}: {sim}");
    }
    let other = faces.embed(&photo("camera.png")).unwrap();
    let sim = dot(&original, &other);
    eprintln!("astronaut vs cameraman: {sim:.3}");
    assert!(f64::from(sim) < FACE_THRESHOLD.score, "another person: {sim}");
}

#[test]
fn a_photograph_without_a_face_says_so() {
    let Some(faces) = engine() else { return };
    let cat = photo("chelsea.png");
    let e = faces.embed(&cat).err();
    assert_eq!(e, Some(FaceError::NoFace), "a cat is not a face");
    assert!(matches!(faces.embed(b"not an image"), Err(FaceError::Image(_))));
}
