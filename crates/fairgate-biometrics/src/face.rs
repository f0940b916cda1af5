//! Face recognition: detect the face (YuNet), align it on its eye, nose and mouth
//! landmarks, embed it (SFace, 128 numbers) and compare embeddings by cosine
//! similarity. The models run offline through ONNX Runtime, loaded at run time from
//! files the setup script installs (`scripts/setup-faces.sh`); without them the
//! engine reports itself unavailable and every face comparison is `not-checked`.

use crate::index::FACE_DIM;

/// Why a face could not be embedded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaceError {
    #[error("the face matcher is not installed ({0}): run scripts/setup-faces.sh")]
    Unavailable(String),
    #[error("the image could not be decoded: {0}; send a JPEG or PNG")]
    Image(String),
    #[error("no face was found in the image: send a portrait with the whole face visible")]
    NoFace,
    #[error("the face model failed: {0}")]
    Model(String),
}

/// Something that turns a portrait into an embedding (the ONNX engine; tests may
/// use a stand-in).
pub trait FaceEmbedder: Send + Sync {
    /// The embedding (length 1) of the most prominent face in a JPEG or PNG image.
    fn embed(&self, image: &[u8]) -> Result<[f32; FACE_DIM], FaceError>;
}

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The files the engine needs, in one directory (`scripts/setup-faces.sh` fills it).
pub const RUNTIME_FILE: &str = "libonnxruntime.so";
pub const DETECTOR_FILE: &str = "face_detection_yunet.onnx";
pub const RECOGNIZER_FILE: &str = "face_recognition_sface.onnx";

/// YuNet's input side (the 2023 model takes a fixed 640 × 640 image).
const DETECT_SIZE: usize = 640;
/// A detection below this score is not a face.
const MIN_FACE_SCORE: f32 = 0.6;
/// Where the five landmarks go in SFace's 112 × 112 input (the ArcFace template:
/// right eye, left eye, nose tip, right and left mouth corners, as seen in the image).
const TEMPLATE: [(f64, f64); 5] =
    [(38.2946, 51.6963), (73.5318, 51.5014), (56.0252, 71.7366), (41.5493, 92.3655), (70.7299, 92.2041)];
const ALIGNED: usize = 112;

/// An image in memory: 8-bit RGB, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Rgb {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl Rgb {
    /// Decode a JPEG or PNG (by its signature).
    pub fn decode(bytes: &[u8]) -> Result<Rgb, FaceError> {
        if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
            let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
            d.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
            let mut reader = d.read_info().map_err(|e| FaceError::Image(e.to_string()))?;
            let mut buf = vec![0; reader.output_buffer_size().ok_or_else(|| FaceError::Image("too large".into()))?];
            let info = reader.next_frame(&mut buf).map_err(|e| FaceError::Image(e.to_string()))?;
            let (w, h) = (info.width as usize, info.height as usize);
            let src = &buf[..info.buffer_size()];
            let pixels = match info.color_type {
                png::ColorType::Rgb => src.to_vec(),
                png::ColorType::Rgba => src.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
                png::ColorType::Grayscale => src.iter().flat_map(|g| [*g, *g, *g]).collect(),
                png::ColorType::GrayscaleAlpha => src.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0]]).collect(),
                png::ColorType::Indexed => return Err(FaceError::Image("an indexed PNG that did not expand".into())),
            };
            Ok(Rgb { width: w, height: h, pixels })
        } else if bytes.starts_with(&[0xFF, 0xD8]) {
            let options = zune_jpeg::zune_core::options::DecoderOptions::default()
                .jpeg_set_out_colorspace(zune_jpeg::zune_core::colorspace::ColorSpace::RGB);
            let mut d = zune_jpeg::JpegDecoder::new_with_options(std::io::Cursor::new(bytes), options);
            let pixels = d.decode().map_err(|e| FaceError::Image(format!("{e:?}")))?;
            let (w, h) = d.dimensions().ok_or_else(|| FaceError::Image("no dimensions".into()))?;
            Ok(Rgb { width: w, height: h, pixels })
        } else {
            Err(FaceError::Image("neither a JPEG nor a PNG".into()))
        }
        .and_then(|img: Rgb| {
            if img.width < 32 || img.height < 32 || img.pixels.len() != img.width * img.height * 3 {
                Err(FaceError::Image(format!("{} × {} pixels is too small", img.width, img.height)))
            } else {
                Ok(img)
            }
        })
    }

    /// The colour at (x, y), bilinear, edges repeated.
    fn sample(&self, x: f64, y: f64) -> [f32; 3] {
        let x = x.clamp(0.0, (self.width - 1) as f64);
        let y = y.clamp(0.0, (self.height - 1) as f64);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
        let px = |xx: usize, yy: usize, c: usize| f32::from(self.pixels[(yy * self.width + xx) * 3 + c]);
        std::array::from_fn(|c| {
            let top = px(x0, y0, c) * (1.0 - fx) + px(x1, y0, c) * fx;
            let bottom = px(x0, y1, c) * (1.0 - fx) + px(x1, y1, c) * fx;
            top * (1.0 - fy) + bottom * fy
        })
    }
}

/// A face found by the detector: its score, box and five landmarks, in the image's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub score: f32,
    pub bbox: [f32; 4],
    pub landmarks: [(f64, f64); 5],
}

/// The similarity transform (scale, rotation, translation) that best maps `from`
/// onto `to` in the least-squares sense (Umeyama 1991), as
/// `[a, -b, tx; b, a, ty]`: x' = a x − b y + tx, y' = b x + a y + ty.
pub fn similarity_transform(from: &[(f64, f64)], to: &[(f64, f64)]) -> [f64; 4] {
    let n = from.len().min(to.len()) as f64;
    let mean = |p: &[(f64, f64)]| {
        let (sx, sy) = p.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
        (sx / n, sy / n)
    };
    let (fx, fy) = mean(from);
    let (tx, ty) = mean(to);
    let (mut num_a, mut num_b, mut den) = (0.0, 0.0, 0.0);
    for ((x, y), (u, v)) in from.iter().zip(to) {
        let (x, y, u, v) = (x - fx, y - fy, u - tx, v - ty);
        num_a += x * u + y * v;
        num_b += x * v - y * u;
        den += x * x + y * y;
    }
    let (a, b) = if den > 0.0 { (num_a / den, num_b / den) } else { (1.0, 0.0) };
    [a, b, tx - (a * fx - b * fy), ty - (b * fx + a * fy)]
}

/// The 112 × 112 face SFace takes: the image warped so its landmarks fall on the template.
pub fn align(img: &Rgb, landmarks: &[(f64, f64); 5]) -> Vec<[f32; 3]> {
    let [a, b, tx, ty] = similarity_transform(landmarks, &TEMPLATE);
    // Inverse of x' = a x − b y + tx, y' = b x + a y + ty.
    let det = a * a + b * b;
    let mut out = Vec::with_capacity(ALIGNED * ALIGNED);
    for v in 0..ALIGNED {
        for u in 0..ALIGNED {
            let (du, dv) = (u as f64 - tx, v as f64 - ty);
            let x = (a * du + b * dv) / det;
            let y = (-b * du + a * dv) / det;
            out.push(img.sample(x, y));
        }
    }
    out
}

/// The ONNX engine: YuNet to detect, SFace to embed, each run on one thread.
pub struct OnnxFaces {
    detector: Mutex<ort::session::Session>,
    recognizer: Mutex<ort::session::Session>,
    pub dir: PathBuf,
}

static RUNTIME: std::sync::OnceLock<Result<ort::environment::Environment, String>> = std::sync::OnceLock::new();

impl OnnxFaces {
    /// Load the runtime and both models from `dir`, or say why not.
    pub fn load(dir: &Path) -> Result<OnnxFaces, FaceError> {
        let missing = [RUNTIME_FILE, DETECTOR_FILE, RECOGNIZER_FILE]
            .iter()
            .filter(|f| !dir.join(f).is_file())
            .copied()
            .collect::<Vec<_>>();
        if !missing.is_empty() {
            return Err(FaceError::Unavailable(format!("{} not in {}", missing.join(", "), dir.display())));
        }
        let runtime = dir.join(RUNTIME_FILE);
        let env = RUNTIME
            .get_or_init(|| {
                let b = ort::init_from(&runtime).map_err(|e| e.to_string())?;
                b.with_name("fairgate").build().map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| {
                FaceError::Unavailable(format!("ONNX Runtime did not load from {}: {e}", runtime.display()))
            })?;
        let session = |file: &str| -> Result<ort::session::Session, FaceError> {
            let model = |e: ort::Error| FaceError::Unavailable(format!("{file}: {e}"));
            ort::session::Session::builder(env)
                .map_err(model)?
                .with_intra_threads(1)
                .map_err(|e| model(e.into()))?
                .with_log_level(ort::logging::LogLevel::Error)
                .map_err(|e| model(e.into()))?
                .commit_from_file(dir.join(file))
                .map_err(model)
        };
        Ok(OnnxFaces {
            detector: Mutex::new(session(DETECTOR_FILE)?),
            recognizer: Mutex::new(session(RECOGNIZER_FILE)?),
            dir: dir.to_path_buf(),
        })
    }

    /// The faces in an image, best first.
    pub fn detect(&self, img: &Rgb) -> Result<Vec<Detection>, FaceError> {
        let scale = DETECT_SIZE as f64 / img.width.max(img.height) as f64;
        // Letterboxed: the image scaled to fit, padded with black at the right and bottom.
        let plane = DETECT_SIZE * DETECT_SIZE;
        let mut input = vec![0f32; 3 * plane];
        let (w, h) = ((img.width as f64 * scale) as usize, (img.height as f64 * scale) as usize);
        for y in 0..h.min(DETECT_SIZE) {
            for x in 0..w.min(DETECT_SIZE) {
                let c = img.sample((x as f64 + 0.5) / scale - 0.5, (y as f64 + 0.5) / scale - 0.5);
                let i = y * DETECT_SIZE + x;
                // BGR, 0 to 255.
                input[i] = c[2];
                input[plane + i] = c[1];
                input[2 * plane + i] = c[0];
            }
        }
        let model = |e: ort::Error| FaceError::Model(e.to_string());
        let tensor = ort::value::Tensor::from_array(([1usize, 3, DETECT_SIZE, DETECT_SIZE], input)).map_err(model)?;
        let mut session = self.detector.lock().map_err(|_| FaceError::Model("detector lock poisoned".into()))?;
        let outputs = session.run(ort::inputs!["input" => tensor]).map_err(model)?;
        let mut found = Vec::new();
        for stride in [8usize, 16, 32] {
            let get = |name: String| -> Result<Vec<f32>, FaceError> {
                let v = outputs.get(&name).ok_or_else(|| FaceError::Model(format!("no output {name}")))?;
                Ok(v.try_extract_tensor::<f32>().map_err(model)?.1.to_vec())
            };
            let cls = get(format!("cls_{stride}"))?;
            let obj = get(format!("obj_{stride}"))?;
            let bbox = get(format!("bbox_{stride}"))?;
            let kps = get(format!("kps_{stride}"))?;
            let cols = DETECT_SIZE / stride;
            for (i, (c, o)) in cls.iter().zip(&obj).enumerate() {
                let score = (c.clamp(0.0, 1.0) * o.clamp(0.0, 1.0)).sqrt();
                if score < MIN_FACE_SCORE || bbox.len() < (i + 1) * 4 || kps.len() < (i + 1) * 10 {
                    continue;
                }
                let (col, row) = ((i % cols) as f32, (i / cols) as f32);
                let s = stride as f32;
                let b = &bbox[i * 4..i * 4 + 4];
                let (cx, cy) = ((col + b[0]) * s, (row + b[1]) * s);
                let (bw, bh) = (b[2].exp() * s, b[3].exp() * s);
                let k = &kps[i * 10..i * 10 + 10];
                let inv = 1.0 / scale;
                let landmarks = std::array::from_fn(|n| {
                    (f64::from((k[2 * n] + col) * s) * inv, f64::from((k[2 * n + 1] + row) * s) * inv)
                });
                let inv = inv as f32;
                found.push(Detection {
                    score,
                    bbox: [(cx - bw / 2.0) * inv, (cy - bh / 2.0) * inv, bw * inv, bh * inv],
                    landmarks,
                });
            }
        }
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        // Overlapping detections of one face: keep the best of each.
        let mut kept: Vec<Detection> = Vec::new();
        for d in found {
            if kept.iter().all(|k| iou(&k.bbox, &d.bbox) < 0.3) {
                kept.push(d);
            }
        }
        Ok(kept)
    }

    /// SFace's embedding of an aligned face, scaled to length 1.
    pub fn embed_aligned(&self, face: &[[f32; 3]]) -> Result<[f32; FACE_DIM], FaceError> {
        let plane = ALIGNED * ALIGNED;
        let mut input = vec![0f32; 3 * plane];
        for (i, c) in face.iter().enumerate().take(plane) {
            input[i] = c[2];
            input[plane + i] = c[1];
            input[2 * plane + i] = c[0];
        }
        let model = |e: ort::Error| FaceError::Model(e.to_string());
        let tensor = ort::value::Tensor::from_array(([1usize, 3, ALIGNED, ALIGNED], input)).map_err(model)?;
        let mut session = self.recognizer.lock().map_err(|_| FaceError::Model("recognizer lock poisoned".into()))?;
        let outputs = session.run(ort::inputs!["data" => tensor]).map_err(model)?;
        let v = outputs.get("fc1").ok_or_else(|| FaceError::Model("no output fc1".into()))?;
        let (_, raw) = v.try_extract_tensor::<f32>().map_err(model)?;
        crate::index::normalized(raw).ok_or_else(|| FaceError::Model("an empty embedding".into()))
    }
}

impl FaceEmbedder for OnnxFaces {
    fn embed(&self, image: &[u8]) -> Result<[f32; FACE_DIM], FaceError> {
        let img = Rgb::decode(image)?;
        let face = self.detect(&img)?.into_iter().next().ok_or(FaceError::NoFace)?;
        self.embed_aligned(&align(&img, &face.landmarks))
    }
}

/// Intersection over union of two boxes (x, y, w, h).
fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let (x0, y0) = (a[0].max(b[0]), a[1].max(b[1]));
    let (x1, y1) = ((a[0] + a[2]).min(b[0] + b[2]), (a[1] + a[3]).min(b[1] + b[3]));
    let inter = (x1 - x0).max(0.0) * (y1 - y0).max(0.0);
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// Where the face files are: `FAIRGATE_FACES` if set, else `fairgate-faces` in the
/// current directory (where `scripts/setup-faces.sh` puts them).
pub fn default_dir() -> PathBuf {
    std::env::var_os("FAIRGATE_FACES").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("fairgate-faces"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_similarity_transform_recovers_a_known_one() {
        let (a, b, tx, ty) = (0.8f64 * 0.3f64.cos(), 0.8f64 * 0.3f64.sin(), 12.0, -7.0);
        let moved: Vec<(f64, f64)> = TEMPLATE.iter().map(|(x, y)| (a * x - b * y + tx, b * x + a * y + ty)).collect();
        let t = similarity_transform(&TEMPLATE, &moved);
        for (got, want) in t.iter().zip([a, b, tx, ty]) {
            assert!((got - want).abs() < 1e-9, "{t:?}");
        }
    }

    #[test]
    fn a_missing_model_directory_reports_the_matcher_unavailable() {
        let e = OnnxFaces::load(Path::new("/nonexistent/fairgate-faces")).err().unwrap();
        assert!(matches!(e, FaceError::Unavailable(_)), "{e}");
        assert!(e.to_string().contains("setup-faces.sh"), "{e}");
        assert!(matches!(Rgb::decode(b"GIF89a"), Err(FaceError::Image(_))));
    }
}
