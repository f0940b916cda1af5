//! Faces at enrolment and at the border, with the real face matcher (YuNet and
//! SFace through ONNX Runtime, installed by scripts/setup-faces.sh) on public-domain
//! photographs: a face is searched 1:N at registration, compared 1:1 at a crossing,
//! and a server without the matcher says so and still compares fingerprints.
//! The matcher tests are skipped when it is not installed, unless
//! FAIRGATE_REQUIRE_FACES is set (CI sets it).

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

fn faces_dir() -> PathBuf {
    std::env::var_os("FAIRGATE_FACES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fairgate-faces"))
}

fn engine() -> Option<Arc<fairgate_biometrics::face::OnnxFaces>> {
    match fairgate_biometrics::face::OnnxFaces::load(&faces_dir()) {
        Ok(e) => Some(Arc::new(e)),
        Err(e) if std::env::var_os("FAIRGATE_REQUIRE_FACES").is_some() => panic!("{e}"),
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn photo(name: &str) -> Vec<u8> {
    std::fs::read(faces_dir().join("photos").join(name)).unwrap()
}

/// The photograph, brighter (another capture of the same face).
fn brighter(png_bytes: &[u8]) -> Vec<u8> {
    let img = fairgate_biometrics::face::Rgb::decode(png_bytes).unwrap();
    let pixels: Vec<u8> = img.pixels.iter().map(|p| (f32::from(*p) * 1.2 + 15.0).min(255.0) as u8).collect();
    let mut out = Vec::new();
    let mut e = png::Encoder::new(&mut out, img.width as u32, img.height as u32);
    e.set_color(png::ColorType::Rgb);
    e.set_depth(png::BitDepth::Eight);
    e.write_header().unwrap().write_image_data(&pixels).unwrap();
    out
}

/// An ISO/IEC 19794-5 record holding the PNG.
fn record(png_bytes: &[u8]) -> String {
    let img = fairgate_biometrics::face::Rgb::decode(png_bytes).unwrap();
    let mut rec = fairgate_biometrics::synthetic::face_record(1, (2026, 11, 30));
    let i = &mut rec.images[0];
    i.data = png_bytes.to_vec();
    i.data_type = fairgate_core::face::ImageDataType::Png;
    (i.width, i.height) = (img.width as u16, img.height as u16);
    i.landmarks.clear();
    b64(&fairgate_core::face::encode(&rec).unwrap())
}

async fn person(s: &Server, number: &str) -> String {
    let body = json!({"document": {"kind": "P", "issuing_state": "UTO", "number": number, "expires_on": "2031-04-15"},
                      "surname": "FACE", "given_names": "TEST", "birth_date": "1965-05-05", "sex": "F", "nationality": "UTO"});
    let (st, b) = s.post(&s.officer, "/subjects", &body).await;
    assert_eq!(st, 201, "{b}");
    b["id"].as_str().unwrap().to_string()
}

fn voluntary(face: String) -> Value {
    json!({"kind": "port-of-entry", "place": "JFK", "voluntary": true, "captures": {"face": face}})
}

#[tokio::test]
async fn without_the_matcher_faces_are_not_checked_and_health_says_why() {
    let s = start().await;
    let h: Value = s.client.get(s.url("/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(h["matchers"]["fingerprint"], "available");
    assert!(h["matchers"]["face"].as_str().unwrap().starts_with("unavailable"), "{h}");
    let a = person(&s, "F1000001").await;
    let face = fairgate_biometrics::synthetic::face_record(2, (2026, 11, 30));
    let face = b64(&fairgate_core::face::encode(&face).unwrap());
    let (st, r) = s.post(&s.officer, &format!("/subjects/{a}/registrations"), &voluntary(face.clone())).await;
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["identification"]["face_searched"], false, "{r}");
    let mut e = entry(&format!("{}T09:00:00Z", day(-1)));
    e["admitted_until"] = json!(day(60).to_string());
    e["probe"] = json!({"face": face});
    let (st, r) = s.post(&s.officer, &format!("/subjects/{a}/crossings"), &e).await;
    assert_eq!((st, r["face_comparison"]["decision"].as_str()), (201, Some("not-checked")), "{r}");
    assert_eq!(r["face_comparison"]["referral"], "none");
    s.stop().await;
}

#[tokio::test]
async fn a_face_is_searched_at_enrolment_and_compared_at_the_border() {
    let Some(engine) = engine() else { return };
    let s = start().await;
    s.registry.set_face_matcher(Some(engine));
    let astronaut = photo("astronaut.png");
    let a = person(&s, "F1000001").await;
    let (st, r) = s.post(&s.officer, &format!("/subjects/{a}/registrations"), &voluntary(record(&astronaut))).await;
    assert_eq!(st, 201, "{r}");
    assert_eq!(
        (r["identification"]["face_searched"].as_bool(), r["identification"]["searched"].as_u64()),
        (Some(true), Some(0)),
        "{r}"
    );
    // Someone else registers with a brighter photograph of the same face.
    let b = person(&s, "F2000002").await;
    let (st, r) =
        s.post(&s.officer, &format!("/subjects/{b}/registrations"), &voluntary(record(&brighter(&astronaut)))).await;
    assert_eq!(st, 201, "{r}");
    let c = &r["identification"]["candidates"][0];
    assert_eq!((c["subject"].as_str(), c["modality"].as_str()), (Some(a.as_str()), Some("face")), "{r}");
    assert!(c["score"].as_f64().unwrap() >= 0.363, "{r}");
    assert_eq!(r["identification"]["referral"], "supervisor-review");
    // Another face: no candidate.
    let cameraman = person(&s, "F3000003").await;
    let (st, r) = s
        .post(&s.officer, &format!("/subjects/{cameraman}/registrations"), &voluntary(record(&photo("camera.png"))))
        .await;
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["identification"]["candidates"], json!([]), "{r}");
    // At the border: A's own face matches; the cameraman's is referred, never blocked.
    let mut e = entry(&format!("{}T09:00:00Z", day(-1)));
    e["admitted_until"] = json!(day(60).to_string());
    e["probe"] = json!({"face": b64(&brighter(&astronaut))});
    let (st, r) = s.post(&s.officer, &format!("/subjects/{a}/crossings"), &e).await;
    assert_eq!((st, r["face_comparison"]["decision"].as_str()), (201, Some("match")), "{r}");
    let mut x = exit(&format!("{}T10:00:00Z", day(-1)));
    x["probe"] = json!({"face": b64(&photo("camera.png"))});
    let (st, r) = s.post(&s.officer, &format!("/subjects/{a}/crossings"), &x).await;
    assert_eq!(st, 201, "a no-match never blocks the crossing: {r}");
    assert_eq!(r["face_comparison"]["referral"], "secondary-inspection", "{r}");
    // A probe without a face is refused before anything is recorded, naming the field.
    let size = s.tree_size().await;
    let mut y = entry(&format!("{}T11:00:00Z", day(-1)));
    y["admitted_until"] = json!(day(60).to_string());
    y["probe"] = json!({"face": b64(&photo("chelsea.png"))});
    let (st, r) = s.post(&s.officer, &format!("/subjects/{a}/crossings"), &y).await;
    assert_eq!((st, r["errors"][0]["field"].as_str()), (422, Some("probe.face")), "{r}");
    assert_eq!(s.tree_size().await, size);
    s.stop().await;
}
