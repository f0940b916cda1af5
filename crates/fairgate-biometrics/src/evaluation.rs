//! The generated evaluation set for the fingerprint matcher, and the measurement of
//! its error rates. Everything is seeded: the same seed gives the same prints, the
//! same scores and the same figures (docs/biometrics.md, BENCHMARKS.md).
//!
//! A **master** is a finger's true minutiae: 35 to 60 points at least 12 pixels
//! apart over a finger-shaped area of a 500 dpi, 500 × 550 image, their directions
//! following a loop-like ridge flow. An **impression** is one capture of it: turned
//! up to 25 degrees, moved up to 30 pixels, distorted by a smooth non-linear
//! displacement (skin on glass), each minutia's position and direction jittered,
//! 10 to 30 % of them missed, up to 8 spurious ones added, and one print in four
//! partial (cut by a line, 60 to 80 % kept). Labels (sex, age band) are drawn at
//! random and, for the oldest band, lower the print quality on purpose, so the
//! demographic report has a difference to find. None of this is a real population:
//! it shows the method works and measures the matcher against the distortions
//! generated, no more.

use fairgate_core::matching::{det, fnmr_at, DetPoint};

use crate::fingerprint::{compare, Point, Template};

/// A SplitMix64 stream: the generator's only randomness.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x0005_EEDF_14E7)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// A standard normal sample (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-12);
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * self.unit()).cos()
    }
}

const W: f64 = 500.0;
const H: f64 = 550.0;
const CX: f64 = 250.0;
const CY: f64 = 290.0;

fn on_finger(x: f64, y: f64) -> bool {
    ((x - CX) / 190.0).powi(2) + ((y - CY) / 240.0).powi(2) <= 1.0
}

/// A finger's true minutiae.
pub fn master(seed: u64) -> Vec<Point> {
    let mut rng = Rng::new(seed.wrapping_mul(0x1000_0001));
    let n = 35 + (rng.next_u64() % 26) as usize;
    // A loop: ridges circle a core near the centre.
    let (kx, ky) = (CX + rng.range(-30.0, 30.0), CY + rng.range(-40.0, 20.0));
    let mut out: Vec<Point> = Vec::with_capacity(n);
    let mut tries = 0;
    while out.len() < n && tries < 10_000 {
        tries += 1;
        let (x, y) = (rng.range(0.0, W), rng.range(0.0, H));
        if !on_finger(x, y) || out.iter().any(|p| (p.x - x).hypot(p.y - y) < 12.0) {
            continue;
        }
        let flow = (y - ky).atan2(x - kx) + std::f64::consts::FRAC_PI_2;
        // A ridge ending points one way along the ridge, a bifurcation the other.
        let flip = if rng.next_u64().is_multiple_of(2) { 0.0 } else { std::f64::consts::PI };
        out.push(Point { x, y, t: flow + flip + rng.range(-0.26, 0.26) });
    }
    out
}

/// How hard an impression is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difficulty {
    Typical,
    /// Worn ridges: more minutiae missed, more spurious, more jitter.
    Poor,
}

/// One capture of a master.
pub fn impression(master: &[Point], seed: u64, difficulty: Difficulty) -> Vec<Point> {
    let mut rng = Rng::new(seed.wrapping_mul(0x2000_0003) ^ 0xA11);
    let poor = difficulty == Difficulty::Poor;
    let rot = rng.range(-0.44, 0.44);
    let (tx, ty) = (rng.range(-30.0, 30.0), rng.range(-30.0, 30.0));
    // Skin pressed on glass: three smooth bumps of displacement, up to 10 px each.
    let bumps: Vec<(f64, f64, f64, f64)> = (0..3)
        .map(|_| (rng.range(100.0, 400.0), rng.range(100.0, 450.0), rng.range(-10.0, 10.0), rng.range(-10.0, 10.0)))
        .collect();
    let drop = if poor { rng.range(0.25, 0.4) } else { rng.range(0.1, 0.3) };
    let jitter = if poor { 3.5 } else { 2.0 };
    let partial = rng.unit() < 0.25;
    let (cut_angle, cut_offset) = (rng.range(0.0, std::f64::consts::TAU), rng.range(40.0, 110.0));
    let (s, c) = rot.sin_cos();
    let mut out = Vec::with_capacity(master.len() + 8);
    for p in master {
        if rng.unit() < drop {
            continue;
        }
        if partial && (p.x - CX) * cut_angle.cos() + (p.y - CY) * cut_angle.sin() > cut_offset {
            continue;
        }
        let (mut x, mut y) = (p.x, p.y);
        for (bx, by, dx, dy) in &bumps {
            let w = (-((x - bx).powi(2) + (y - by).powi(2)) / (2.0 * 80.0 * 80.0)).exp();
            x += dx * w;
            y += dy * w;
        }
        let (rx, ry) = (x - CX, y - CY);
        let (x, y) =
            (CX + c * rx - s * ry + tx + jitter * rng.normal(), CY + s * rx + c * ry + ty + jitter * rng.normal());
        if (0.0..W).contains(&x) && (0.0..H).contains(&y) {
            out.push(Point { x, y, t: p.t + rot + 0.09 * rng.normal() });
        }
    }
    let spurious = (rng.next_u64() % if poor { 13 } else { 9 }) as usize;
    for _ in 0..spurious {
        let (x, y) = (rng.range(60.0, 440.0), rng.range(50.0, 530.0));
        if on_finger(x, y) {
            out.push(Point { x, y, t: rng.range(0.0, std::f64::consts::TAU) });
        }
    }
    out
}

/// One finger of the evaluation set, with its labels.
#[derive(Debug, Clone)]
pub struct Finger {
    pub id: u64,
    pub sex: &'static str,
    pub age_band: &'static str,
    pub impressions: [Vec<Point>; 2],
}

/// The evaluation set: `fingers` masters with two impressions each.
pub fn set(seed: u64, fingers: u64) -> Vec<Finger> {
    let mut rng = Rng::new(seed);
    (0..fingers)
        .map(|i| {
            let id = seed.wrapping_mul(1_000_003).wrapping_add(i);
            let sex = if rng.next_u64().is_multiple_of(2) { "F" } else { "M" };
            let age_band = ["18-39", "40-64", "65+"][(rng.next_u64() % 3) as usize];
            let difficulty = if age_band == "65+" { Difficulty::Poor } else { Difficulty::Typical };
            let m = master(id);
            Finger {
                id,
                sex,
                age_band,
                impressions: [impression(&m, id * 2 + 1, difficulty), impression(&m, id * 2 + 2, difficulty)],
            }
        })
        .collect()
}

/// The scores of an evaluation: every genuine pair (the two impressions of a
/// finger) and every impostor pair (first impression of one finger against the
/// second of another), with the labels of the first finger of each pair.
#[derive(Debug, Clone, Default)]
pub struct Scores {
    pub genuine: Vec<(f64, usize)>,
    pub impostor: Vec<(f64, usize)>,
}

/// Compare everything. `impostors_per_finger` caps the impostor pairs of each
/// finger (all others when `None`).
pub fn score(fingers: &[Finger], impostors_per_finger: Option<usize>) -> Scores {
    let first: Vec<Template> = fingers.iter().map(|f| Template::new(&f.impressions[0])).collect();
    let second: Vec<Template> = fingers.iter().map(|f| Template::new(&f.impressions[1])).collect();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 16);
    let per = fingers.len().div_ceil(workers).max(1);
    let parts: Vec<Scores> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..fingers.len())
            .step_by(per)
            .map(|start| {
                let (first, second) = (&first, &second);
                scope.spawn(move || {
                    let mut out = Scores::default();
                    for (i, a) in first.iter().enumerate().skip(start).take(per) {
                        out.genuine.push((compare(a, &second[i]), i));
                        let others = (1..first.len()).map(|k| (i + k) % first.len());
                        for j in others.take(impostors_per_finger.unwrap_or(usize::MAX)) {
                            out.impostor.push((compare(a, &second[j]), i));
                        }
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    let mut out = Scores::default();
    for p in parts {
        out.genuine.extend(p.genuine);
        out.impostor.extend(p.impostor);
    }
    out
}

/// Error rates of one group (or everyone).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupRates {
    pub group: String,
    pub genuine: usize,
    pub impostor: usize,
    /// At the threshold given.
    pub fnmr: f64,
    pub fmr: f64,
    /// Its error rate is more than 1.25 times the others' (either rate).
    pub flagged: bool,
}

/// FNMR and FMR per label value at `threshold`, each flagged when its FNMR or FMR is
/// more than 1.25 times the rest of the set's (and the rest's is above zero, or it
/// is above zero while the rest's is zero).
pub fn by_group(fingers: &[Finger], scores: &Scores, threshold: f64) -> Vec<GroupRates> {
    let labels: Vec<Vec<(String, String)>> = fingers
        .iter()
        .map(|f| vec![("sex".to_string(), f.sex.to_string()), ("age".to_string(), f.age_band.to_string())])
        .collect();
    by_labels(&labels, scores, threshold)
}

/// The same for any labels: `labels[i]` are record `i`'s (name, value) pairs, and a
/// pair of records counts in the groups of its first record. Groups come in the
/// order the label names first appear, values sorted.
pub fn by_labels(labels: &[Vec<(String, String)>], scores: &Scores, threshold: f64) -> Vec<GroupRates> {
    let rate = |v: &[f64], ok: &dyn Fn(f64) -> bool| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().filter(|s| ok(**s)).count() as f64 / v.len() as f64
        }
    };
    let mut names: Vec<&str> = Vec::new();
    for l in labels.iter().flatten() {
        if !names.contains(&l.0.as_str()) {
            names.push(&l.0);
        }
    }
    let value = |i: usize, name: &str| -> Option<&str> {
        labels.get(i).and_then(|l| l.iter().find(|(n, _)| n == name)).map(|(_, v)| v.as_str())
    };
    let mut out = Vec::new();
    for name in names {
        let mut values: Vec<&str> = (0..labels.len()).filter_map(|i| value(i, name)).collect();
        values.sort_unstable();
        values.dedup();
        for v in values {
            let split = |pairs: &[(f64, usize)]| -> (Vec<f64>, Vec<f64>) {
                type Pairs<'p> = Vec<&'p (f64, usize)>;
                let (a, b): (Pairs, Pairs) = pairs.iter().partition(|(_, i)| value(*i, name) == Some(v));
                (a.into_iter().map(|p| p.0).collect(), b.into_iter().map(|p| p.0).collect())
            };
            let (g_in, g_out) = split(&scores.genuine);
            let (i_in, i_out) = split(&scores.impostor);
            let fnmr = rate(&g_in, &|s| s < threshold);
            let fmr = rate(&i_in, &|s| s >= threshold);
            let (fnmr_rest, fmr_rest) = (rate(&g_out, &|s| s < threshold), rate(&i_out, &|s| s >= threshold));
            let worse = |x: f64, rest: f64| if rest > 0.0 { x > 1.25 * rest } else { x > 0.0 };
            out.push(GroupRates {
                group: format!("{name}={v}"),
                genuine: g_in.len(),
                impostor: i_in.len(),
                fnmr,
                fmr,
                flagged: worse(fnmr, fnmr_rest) || worse(fmr, fmr_rest),
            });
        }
    }
    out
}

/// Score pairs of records on all cores: `compare(i, j)` for each (i, j) given, the
/// pair labelled with `i`. Pairs that compare nothing (`None`) are left out.
pub fn score_pairs(
    genuine: &[(usize, usize)],
    impostor: &[(usize, usize)],
    compare: &(dyn Fn(usize, usize) -> Option<f64> + Sync),
) -> Scores {
    let run = |pairs: &[(usize, usize)]| -> Vec<(f64, usize)> {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 16);
        let per = pairs.len().div_ceil(workers).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = pairs
                .chunks(per)
                .map(|chunk| {
                    scope.spawn(move || -> Vec<(f64, usize)> {
                        chunk.iter().filter_map(|(i, j)| compare(*i, *j).map(|s| (s, *i))).collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect::<Vec<(f64, usize)>>()
        })
    };
    Scores { genuine: run(genuine), impostor: run(impostor) }
}

/// What an evaluation reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub seed: u64,
    pub fingers: usize,
    pub genuine: usize,
    pub impostor: usize,
    pub at_fmr_1e3: Option<DetPoint>,
    pub at_fmr_1e4: Option<DetPoint>,
    pub groups: Vec<GroupRates>,
    #[serde(skip)]
    pub curve: Vec<DetPoint>,
}

/// Generate the set, score it, and report FNMR at FMR 10⁻³ and 10⁻⁴, and the rates
/// per group at `threshold`.
pub fn evaluate(seed: u64, fingers: u64, impostors_per_finger: Option<usize>, threshold: f64) -> Report {
    let set = set(seed, fingers);
    let scores = score(&set, impostors_per_finger);
    let g: Vec<f64> = scores.genuine.iter().map(|s| s.0).collect();
    let i: Vec<f64> = scores.impostor.iter().map(|s| s.0).collect();
    let curve = det(&g, &i);
    Report {
        seed,
        fingers: set.len(),
        genuine: g.len(),
        impostor: i.len(),
        at_fmr_1e3: fnmr_at(&curve, i.len(), 1e-3),
        at_fmr_1e4: fnmr_at(&curve, i.len(), 1e-4),
        groups: by_group(&set, &scores, threshold),
        curve,
    }
}

/// The DET curve as an SVG: FNMR against FMR, both on log scales (10⁻⁵ to 1).
pub fn det_svg(curve: &[DetPoint], title: &str) -> String {
    let (w, h, m) = (520.0, 420.0, 60.0);
    let lx = |v: f64| m + (v.max(1e-5).log10() + 5.0) / 5.0 * (w - 1.5 * m);
    let ly = |v: f64| h - m - (v.max(1e-5).log10() + 5.0) / 5.0 * (h - 1.8 * m);
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12"><title>{}</title><rect width="{w}" height="{h}" fill="white"/>"#,
        escape(title)
    );
    for e in -5..=0 {
        let v = 10f64.powi(e);
        s.push_str(&format!(
            r##"<line x1="{x}" y1="{y0}" x2="{x}" y2="{y1}" stroke="#ddd"/><text x="{x}" y="{ty}" text-anchor="middle">1e{e}</text><line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="#ddd"/><text x="{tx}" y="{yt}" text-anchor="end">1e{e}</text>"##,
            x = lx(v),
            y0 = ly(1e-5),
            y1 = ly(1.0),
            ty = ly(1e-5) + 16.0,
            x0 = lx(1e-5),
            x1 = lx(1.0),
            y = ly(v),
            tx = lx(1e-5) - 6.0,
            yt = ly(v) + 4.0,
        ));
    }
    // One point per pixel the curve passes through (a million-point curve is a few
    // hundred pixels long).
    let mut points: Vec<String> = curve
        .iter()
        .filter(|p| p.fmr > 0.0 && p.fnmr > 0.0)
        .map(|p| format!("{:.0},{:.0}", lx(p.fmr), ly(p.fnmr)))
        .collect();
    points.dedup();
    s.push_str(&format!(
        r##"<polyline fill="none" stroke="#1a4480" stroke-width="2" points="{}"/>"##,
        points.join(" ")
    ));
    s.push_str(&format!(
        r#"<text x="{}" y="{}" text-anchor="middle">false match rate</text><text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle">false non-match rate</text><text x="{}" y="20" text-anchor="middle">{}</text></svg>"#,
        w / 2.0,
        h - 14.0,
        h / 2.0,
        h / 2.0,
        w / 2.0,
        escape(title)
    ));
    s
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_is_reproducible_and_labelled() {
        let a = set(2002, 5);
        let b = set(2002, 5);
        assert_eq!(a.len(), 5);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((x.id, x.sex, x.age_band), (y.id, y.sex, y.age_band));
            assert_eq!(x.impressions[0], y.impressions[0]);
        }
        let m = master(7);
        assert!((35..=60).contains(&m.len()));
        for p in &m {
            assert!(m.iter().filter(|q| (q.x - p.x).hypot(q.y - p.y) < 12.0).count() == 1, "spacing");
        }
        assert_ne!(impression(&m, 1, Difficulty::Typical), impression(&m, 2, Difficulty::Typical));
    }

    #[test]
    fn a_small_evaluation_separates_genuine_from_impostor_pairs() {
        let r = evaluate(2002, 40, Some(25), fairgate_core::matching::FINGER_THRESHOLD.score);
        assert_eq!((r.genuine, r.impostor), (40, 1000));
        let at = r.at_fmr_1e3.expect("1,000 impostors measure 1/1000");
        assert!(at.fnmr < 0.35, "{at:?}");
        assert!(r.at_fmr_1e4.is_none(), "too few impostors for 1/10,000");
        assert!(r.groups.iter().any(|g| g.group == "age=65+"), "{:?}", r.groups);
        let svg = det_svg(&r.curve, "MCC on the generated set");
        assert!(svg.starts_with("<svg") && svg.contains("<polyline") && svg.contains("false match rate"));
    }
}

#[cfg(test)]
mod measure {
    /// `FINGERS=1000 cargo test --release -p fairgate-biometrics measure -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn measure() {
        let n: u64 = std::env::var("FINGERS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
        let t0 = std::time::Instant::now();
        let r = super::evaluate(2002, n, None, fairgate_core::matching::FINGER_THRESHOLD.score);
        eprintln!("{} fingers, {} genuine, {} impostor in {:?}", r.fingers, r.genuine, r.impostor, t0.elapsed());
        eprintln!("1e-3: {:?}\n1e-4: {:?}", r.at_fmr_1e3, r.at_fmr_1e4);
        for g in &r.groups {
            eprintln!("{g:?}");
        }
    }
}
