//! A minutiae matcher: Minutia Cylinder-Code (Cappelli, Maltoni and Ferrara, "Minutia
//! Cylinder-Code: a new representation and matching technique for fingerprint
//! recognition", IEEE TPAMI 32(12), 2010), in its bit-vector form (MCC16b) with the
//! Local Similarity Sort global score.
//!
//! Each minutia gets a cylinder: a 16 × 16 grid of cells over a disc of radius 70
//! pixels around it, turned to the minutia's direction, with 6 sections of angle
//! each. A cell's bit says whether neighbouring minutiae lie near it with a
//! direction (relative to the centre minutia's) in its section. Because the grid
//! turns and moves with its minutia, cylinders are invariant to rotation and
//! translation; because each one sums a neighbourhood with Gaussian tolerance, they
//! bear small distortions; because the score keeps only the best few pairs, missing
//! and spurious minutiae cost little. Cells outside the print (the convex hull of
//! its minutiae, widened by 50 pixels) are left out of comparisons, which is what
//! lets partial prints match.

use std::f64::consts::PI;

use fairgate_core::minutiae::{FingerView, Minutia as IsoMinutia};

const NS: usize = 16;
const ND: usize = 6;
const CELLS: usize = NS * NS * ND;
const WORDS: usize = CELLS / 64;
const RADIUS: f64 = 70.0;
const SIGMA_S: f64 = 28.0 / 3.0;
const SIGMA_D: f64 = 2.0 * PI / 9.0;
/// The cell value above which its bit is set (the sigmoid's midpoint μΨ).
const MU_PSI: f64 = 0.01;
/// A cylinder needs this share of its disc inside the print.
const MIN_VALID_CELLS: f64 = 0.75;
/// And at least this many neighbours.
const MIN_NEIGHBOURS: usize = 2;
/// Two cylinders are compared only when their directions differ by at most this.
const DELTA_THETA: f64 = PI / 2.0;
/// And when this share of the cells is valid in both.
const MIN_COMMON_CELLS: f64 = 0.6;
/// How far beyond the convex hull of the minutiae a cell still counts as inside.
const HULL_OFFSET: f64 = 50.0;
/// Local Similarity Sort: how many of the best pairs make the score.
const MIN_NP: f64 = 4.0;
const MAX_NP: f64 = 12.0;
const MU_P: f64 = 20.0;
const TAU_P: f64 = 0.4;

/// A minutia in pixels and radians (counter-clockwise from the x axis).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub t: f64,
}

impl Point {
    /// From an ISO/IEC 19794-2 minutia (angle in units of 360/256 degrees).
    pub fn from_iso(m: &IsoMinutia) -> Point {
        Point { x: f64::from(m.x), y: f64::from(m.y), t: f64::from(m.angle) * 2.0 * PI / 256.0 }
    }
}

#[derive(Debug, Clone)]
struct Cylinder {
    x: f64,
    y: f64,
    t: f64,
    bits: [u64; WORDS],
    mask: [u64; WORDS],
    valid_cells: u32,
}

/// A finger's template: one cylinder per usable minutia.
#[derive(Debug, Clone)]
pub struct Template {
    cylinders: Vec<Cylinder>,
    /// Minutiae in the print (the score's number of pairs depends on it).
    minutiae: usize,
}

impl Template {
    /// The template of one finger view of a 19794-2 record.
    pub fn from_view(view: &FingerView) -> Template {
        Template::new(&view.minutiae.iter().map(Point::from_iso).collect::<Vec<_>>())
    }

    pub fn new(points: &[Point]) -> Template {
        let hull = convex_hull(points);
        let ds = 2.0 * RADIUS / NS as f64;
        let dd = 2.0 * PI / ND as f64;
        let reach = RADIUS + 3.0 * SIGMA_S;
        let mut cylinders = Vec::with_capacity(points.len());
        for (mi, m) in points.iter().enumerate() {
            let neighbours: Vec<&Point> = points
                .iter()
                .enumerate()
                .filter(|(j, p)| *j != mi && (p.x - m.x).hypot(p.y - m.y) <= reach)
                .map(|(_, p)| p)
                .collect();
            if neighbours.len() < MIN_NEIGHBOURS {
                continue;
            }
            // Each neighbour's direction relative to m, and its weight per section.
            let weights: Vec<[f64; ND]> = neighbours
                .iter()
                .map(|p| {
                    let rel = angle_diff(m.t, p.t);
                    std::array::from_fn(|k| {
                        let centre = -PI + (k as f64 + 0.5) * dd;
                        section_mass(angle_diff(centre, rel), dd)
                    })
                })
                .collect();
            let (s, c) = m.t.sin_cos();
            let mut cyl = Cylinder { x: m.x, y: m.y, t: m.t, bits: [0; WORDS], mask: [0; WORDS], valid_cells: 0 };
            let mut in_disc = 0u32;
            for i in 0..NS {
                for j in 0..NS {
                    let (di, dj) = (i as f64 - (NS as f64 - 1.0) / 2.0, j as f64 - (NS as f64 - 1.0) / 2.0);
                    let (px, py) = (m.x + ds * (c * di - s * dj), m.y + ds * (s * di + c * dj));
                    if (px - m.x).hypot(py - m.y) > RADIUS {
                        continue;
                    }
                    in_disc += 1;
                    if !near_hull(&hull, px, py) {
                        continue;
                    }
                    let mut values = [0.0f64; ND];
                    for (p, w) in neighbours.iter().zip(&weights) {
                        let d2 = (p.x - px).powi(2) + (p.y - py).powi(2);
                        if d2 > 9.0 * SIGMA_S * SIGMA_S {
                            continue;
                        }
                        let g = (-d2 / (2.0 * SIGMA_S * SIGMA_S)).exp() / (SIGMA_S * (2.0 * PI).sqrt());
                        for k in 0..ND {
                            values[k] += g * w[k];
                        }
                    }
                    for (k, v) in values.iter().enumerate() {
                        let idx = (i * NS + j) * ND + k;
                        cyl.mask[idx / 64] |= 1 << (idx % 64);
                        if *v >= MU_PSI {
                            cyl.bits[idx / 64] |= 1 << (idx % 64);
                        }
                    }
                    cyl.valid_cells += 1;
                }
            }
            if f64::from(cyl.valid_cells) >= MIN_VALID_CELLS * f64::from(in_disc) {
                cylinders.push(cyl);
            }
        }
        Template { cylinders, minutiae: points.len() }
    }

    /// How many cylinders (usable minutiae) the template has.
    pub fn len(&self) -> usize {
        self.cylinders.len()
    }
    pub fn is_empty(&self) -> bool {
        self.cylinders.is_empty()
    }
}

/// The similarity of two cylinders, 0 to 1 (0 when they cannot be compared).
fn cylinder_similarity(a: &Cylinder, b: &Cylinder) -> f64 {
    if angle_diff(a.t, b.t).abs() > DELTA_THETA {
        return 0.0;
    }
    let (mut common, mut na, mut nb, mut nx) = (0u32, 0u32, 0u32, 0u32);
    for w in 0..WORDS {
        let m = a.mask[w] & b.mask[w];
        common += m.count_ones();
        let (x, y) = (a.bits[w] & m, b.bits[w] & m);
        na += x.count_ones();
        nb += y.count_ones();
        nx += (x ^ y).count_ones();
    }
    // `common` counts bits: ND per cell.
    let cells = common / ND as u32;
    if f64::from(cells) < MIN_COMMON_CELLS * f64::from(a.valid_cells.min(b.valid_cells).max(1)) || na + nb == 0 {
        return 0.0;
    }
    1.0 - f64::from(nx).sqrt() / (f64::from(na).sqrt() + f64::from(nb).sqrt())
}

/// Relaxation (LSS-R): iterations, and the weight of a pair's own similarity.
const RELAX_ROUNDS: usize = 5;
const RELAX_WEIGHT: f64 = 0.5;

/// The comparison score of two finger templates, 0 to 1: Local Similarity Sort with
/// Relaxation (LSS-R). The most similar cylinder pairs are kept; each pair's
/// similarity is then relaxed towards its agreement with the others (two pairs
/// agree when the distance, the relative direction and the radial angle between
/// their minutiae are alike in both prints), so pairs that fit one consistent
/// alignment keep their weight and chance look-alikes lose it; the score is the
/// mean relaxed similarity of the pairs that kept most.
pub fn compare(a: &Template, b: &Template) -> f64 {
    if a.cylinders.is_empty() || b.cylinders.is_empty() {
        return 0.0;
    }
    let n = a.minutiae.min(b.minutiae) as f64;
    let np = (MIN_NP + (MAX_NP - MIN_NP) / (1.0 + (-TAU_P * (n - MU_P)).exp())).round() as usize;
    let nr = a.cylinders.len().min(b.cylinders.len()).max(np);
    // The nr most similar pairs (by local similarity alone).
    let mut pairs: Vec<(f64, usize, usize)> = Vec::with_capacity(nr + 1);
    for (i, ca) in a.cylinders.iter().enumerate() {
        for (j, cb) in b.cylinders.iter().enumerate() {
            let s = cylinder_similarity(ca, cb);
            if s <= 0.0 || (pairs.len() == nr && s <= pairs[nr - 1].0) {
                continue;
            }
            let at = pairs.partition_point(|x| x.0 >= s);
            pairs.insert(at, (s, i, j));
            pairs.truncate(nr);
        }
    }
    if pairs.len() < 2 {
        return 0.0;
    }
    let k = pairs.len();
    // How well each two pairs agree.
    let mut rho = vec![0.0f64; k * k];
    for t in 0..k {
        for u in (t + 1)..k {
            let r = agreement(
                (&a.cylinders[pairs[t].1], &a.cylinders[pairs[u].1]),
                (&b.cylinders[pairs[t].2], &b.cylinders[pairs[u].2]),
            );
            rho[t * k + u] = r;
            rho[u * k + t] = r;
        }
    }
    let first: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let mut lambda = first.clone();
    for _ in 0..RELAX_ROUNDS {
        let next: Vec<f64> = (0..k)
            .map(|t| {
                let support: f64 = (0..k).filter(|u| *u != t).map(|u| rho[t * k + u] * lambda[u]).sum();
                RELAX_WEIGHT * lambda[t] + (1.0 - RELAX_WEIGHT) * support / (k - 1) as f64
            })
            .collect();
        lambda = next;
    }
    // The np pairs whose similarity held up best.
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|x, y| (lambda[*y] / first[*y]).total_cmp(&(lambda[*x] / first[*x])));
    order.iter().take(np).map(|t| lambda[*t]).sum::<f64>() / np as f64
}

/// The floor under [`compare`], for the benchmark's baseline: every cylinder pair's
/// local similarity and nothing else (no selection, no relaxation).
pub fn pair_matrix(a: &Template, b: &Template) -> f64 {
    a.cylinders.iter().flat_map(|ca| b.cylinders.iter().map(move |cb| cylinder_similarity(ca, cb))).sum()
}

/// How much two minutia pairs (a1↔b1, a2↔b2) agree: the product of three sigmoids of
/// the differences, between the prints, of their distance, relative direction and
/// radial angle (MCC's ρ, with its published parameters).
fn agreement(a: (&Cylinder, &Cylinder), b: (&Cylinder, &Cylinder)) -> f64 {
    let z = |v: f64, mu: f64, tau: f64| 1.0 / (1.0 + (-tau * (v - mu)).exp());
    let dist = |p: &Cylinder, q: &Cylinder| (p.x - q.x).hypot(p.y - q.y);
    let radial = |p: &Cylinder, q: &Cylinder| angle_diff(p.t, (q.y - p.y).atan2(q.x - p.x));
    let d1 = (dist(a.0, a.1) - dist(b.0, b.1)).abs();
    let d2 = angle_diff(angle_diff(a.0.t, a.1.t), angle_diff(b.0.t, b.1.t)).abs();
    let d3 = angle_diff(radial(a.0, a.1), radial(b.0, b.1)).abs();
    z(d1, 5.0, -8.0 / 5.0) * z(d2, PI / 12.0, -30.0) * z(d3, PI / 12.0, -30.0)
}

/// The fused score of two multi-finger records: each finger position both hold is
/// compared, and the scores are fused (`matching::fuse`). `None` when they share no
/// finger position (nothing compared).
pub fn compare_records(
    a: &fairgate_core::minutiae::MinutiaeRecord,
    b: &fairgate_core::minutiae::MinutiaeRecord,
) -> Option<f64> {
    let mut scores = Vec::new();
    for va in &a.views {
        if let Some(vb) = b.views.iter().find(|v| v.position == va.position) {
            scores.push(compare(&Template::from_view(va), &Template::from_view(vb)));
        }
    }
    fairgate_core::matching::fuse(&scores)
}

/// `a - b` wrapped into (-π, π].
fn angle_diff(a: f64, b: f64) -> f64 {
    let mut d = a - b;
    while d <= -PI {
        d += 2.0 * PI;
    }
    while d > PI {
        d -= 2.0 * PI;
    }
    d
}

/// The mass of a normal distribution (σ = SIGMA_D) within `width` around `offset`.
fn section_mass(offset: f64, width: f64) -> f64 {
    let z = |v: f64| v / (SIGMA_D * std::f64::consts::SQRT_2);
    0.5 * (erf(z(offset + width / 2.0)) - erf(z(offset - width / 2.0)))
}

/// The error function (Abramowitz and Stegun 7.1.26; absolute error under 1.5e-7).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t + 0.254_829_592)
            * t
            * (-x * x).exp();
    if x >= 0.0 {
        y
    } else {
        -y
    }
}

/// The convex hull of the points, counter-clockwise (Andrew's monotone chain).
fn convex_hull(points: &[Point]) -> Vec<(f64, f64)> {
    let mut p: Vec<(f64, f64)> = points.iter().map(|m| (m.x, m.y)).collect();
    p.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    p.dedup();
    if p.len() < 3 {
        return p;
    }
    let cross = |o: (f64, f64), a: (f64, f64), b: (f64, f64)| (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0);
    let mut hull: Vec<(f64, f64)> = Vec::with_capacity(2 * p.len());
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &(f64, f64)>> =
            if pass == 0 { Box::new(p.iter()) } else { Box::new(p.iter().rev()) };
        for &q in iter {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0 {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    hull
}

/// Is (x, y) inside the hull or within HULL_OFFSET of it?
fn near_hull(hull: &[(f64, f64)], x: f64, y: f64) -> bool {
    match hull.len() {
        0 => false,
        1 => (hull[0].0 - x).hypot(hull[0].1 - y) <= HULL_OFFSET,
        n => {
            // Inside (counter-clockwise: on the left of every edge) needs no distance.
            let left = |i: usize| {
                let (a, b) = (hull[i], hull[(i + 1) % n]);
                (b.0 - a.0) * (y - a.1) - (b.1 - a.1) * (x - a.0) >= 0.0
            };
            if n >= 3 && (0..n).all(left) {
                return true;
            }
            let r2 = HULL_OFFSET * HULL_OFFSET;
            (0..n).any(|i| {
                let (a, b) = (hull[i], hull[(i + 1) % n]);
                let (dx, dy) = (b.0 - a.0, b.1 - a.1);
                let len2 = dx * dx + dy * dy;
                let t = if len2 > 0.0 { (((x - a.0) * dx + (y - a.1) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
                (a.0 + t * dx - x).powi(2) + (a.1 + t * dy - y).powi(2) <= r2
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::{impression, master, Difficulty};

    fn turned(points: &[Point], by: f64, dx: f64, dy: f64) -> Vec<Point> {
        let (s, c) = by.sin_cos();
        points.iter().map(|p| Point { x: c * p.x - s * p.y + dx, y: s * p.x + c * p.y + dy, t: p.t + by }).collect()
    }

    #[test]
    fn a_print_matches_itself_turned_and_moved_and_not_another() {
        let a = master(1);
        let b = master(2);
        let ta = Template::new(&a);
        assert!(ta.len() > 20, "{}", ta.len());
        let same = compare(&ta, &Template::new(&turned(&a, 0.6, 40.0, -25.0)));
        let other = compare(&ta, &Template::new(&b));
        assert!(same > 0.9, "rotation and translation change nothing: {same}");
        assert!(other < 0.3, "{other}");
        assert_eq!(compare(&ta, &Template::new(&[])), 0.0);
    }

    #[test]
    fn impressions_of_one_finger_score_above_impressions_of_others() {
        let mut genuine = Vec::new();
        let mut impostor = Vec::new();
        for f in 0..12u64 {
            let m = master(f);
            let p1 = Template::new(&impression(&m, f * 7 + 1, Difficulty::Typical));
            let p2 = Template::new(&impression(&m, f * 7 + 2, Difficulty::Typical));
            genuine.push(compare(&p1, &p2));
            let o = Template::new(&impression(&master(f + 100), f * 7 + 3, Difficulty::Typical));
            impostor.push(compare(&p1, &o));
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let max_impostor = impostor.iter().copied().fold(0.0, f64::max);
        assert!(mean(&genuine) > 2.0 * max_impostor, "genuine {genuine:?} impostor {impostor:?}");
    }

    #[test]
    fn the_hull_and_angles() {
        assert!((angle_diff(0.1, 2.0 * PI - 0.1) - 0.2).abs() < 1e-12);
        assert!((erf(1.0) - 0.842_700_79).abs() < 1e-6 && (erf(-0.5) + 0.520_499_88).abs() < 1e-6);
        let square =
            [(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0), (50.0, 50.0)].map(|(x, y)| Point { x, y, t: 0.0 });
        let hull = convex_hull(&square);
        assert_eq!(hull.len(), 4, "{hull:?}");
        assert!(near_hull(&hull, 50.0, 50.0) && near_hull(&hull, 140.0, 50.0) && !near_hull(&hull, 160.0, 50.0));
    }
}
