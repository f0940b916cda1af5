//! The 1:N gallery: what the search at enrolment scans, held in memory and rebuilt
//! at start-up from the sealed records. Faces are 128-number embeddings compared by
//! cosine similarity over every one on record (exact, no approximation). A finger is
//! a 256-bit signature of its minutiae-pair histogram, scanned exactly by Hamming
//! distance to shortlist the people whose full templates are then compared with MCC
//! (`fingerprint::compare_records`): the shortlist only orders the work; the
//! decision is MCC's score against the threshold, as at a crossing.
//!
//! The gallery knows people by their store number and nothing else: no names, no
//! documents. Removing someone (erasure, expungement) frees their slot at once.

use crate::fingerprint::Point;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Each gallery built gets the next epoch, so a search prepared against one gallery
/// is never mistaken for a search of the one that replaced it.
static NEXT_EPOCH: AtomicU64 = AtomicU64::new(1);

/// Numbers in a face embedding (SFace's).
pub const FACE_DIM: usize = 128;
/// 64-bit words in a finger signature.
pub const SIG_WORDS: usize = 4;
/// A finger's signature.
pub type Signature = [u64; SIG_WORDS];

// The pair histogram: distance between two minutiae, and the angle of each one's
// direction against the line joining them, soft-binned.
const D_BINS: usize = 8;
const A_BINS: usize = 8;
const D_MIN: f64 = 16.0;
const D_MAX: f64 = 208.0;
const HIST: usize = D_BINS * A_BINS * A_BINS;

/// The pair histogram of a print: every ordered pair of minutiae between D_MIN and
/// D_MAX pixels apart adds to the cell of (distance, angle of the first's direction
/// against the line, angle of the second's), split linearly between neighbouring
/// cells so that a small distortion moves mass rather than jumping a cell. Rotation
/// and translation change none of the three, so neither changes the histogram.
pub fn pair_histogram(points: &[Point]) -> Vec<f64> {
    use std::f64::consts::TAU;
    let mut h = vec![0.0f64; HIST];
    let dw = (D_MAX - D_MIN) / D_BINS as f64;
    let aw = TAU / A_BINS as f64;
    for (i, a) in points.iter().enumerate() {
        for (j, b) in points.iter().enumerate() {
            if i == j {
                continue;
            }
            let d = (b.x - a.x).hypot(b.y - a.y);
            if !(D_MIN..D_MAX).contains(&d) {
                continue;
            }
            let line = (b.y - a.y).atan2(b.x - a.x);
            let fd = (d - D_MIN) / dw - 0.5;
            let f1 = (a.t - line).rem_euclid(TAU) / aw - 0.5;
            let f2 = (b.t - line).rem_euclid(TAU) / aw - 0.5;
            // Trilinear: distance clamps at the ends, angles wrap.
            let (d0, dt) = (fd.floor(), fd - fd.floor());
            let (a0, at) = (f1.floor(), f1 - f1.floor());
            let (b0, bt) = (f2.floor(), f2 - f2.floor());
            for (dd, wd) in [(d0, 1.0 - dt), (d0 + 1.0, dt)] {
                let di = dd.clamp(0.0, (D_BINS - 1) as f64) as usize;
                for (aa, wa) in [(a0, 1.0 - at), (a0 + 1.0, at)] {
                    let ai = (aa as i64).rem_euclid(A_BINS as i64) as usize;
                    for (bb, wb) in [(b0, 1.0 - bt), (b0 + 1.0, bt)] {
                        let bi = (bb as i64).rem_euclid(A_BINS as i64) as usize;
                        h[(di * A_BINS + ai) * A_BINS + bi] += wd * wa * wb;
                    }
                }
            }
        }
    }
    h
}

/// The random hyperplanes of the signature: fixed (a seeded generator), so a
/// signature computed today compares with one computed after a restart.
fn planes() -> &'static [[f32; HIST]] {
    static PLANES: std::sync::OnceLock<Vec<[f32; HIST]>> = std::sync::OnceLock::new();
    PLANES.get_or_init(|| {
        let mut rng = crate::evaluation::Rng::new(0x5EED_F1A6);
        (0..SIG_WORDS * 64).map(|_| std::array::from_fn(|_| rng.normal() as f32)).collect()
    })
}

/// A finger's signature: the signs of its pair histogram (square-rooted, centred)
/// projected on 256 fixed random hyperplanes (SimHash), so that the share of equal
/// bits estimates the histograms' angular similarity. `None` for a print with too
/// few minutiae to say anything (fewer than 6).
pub fn finger_signature(points: &[Point]) -> Option<Signature> {
    if points.len() < 6 {
        return None;
    }
    let h = pair_histogram(points);
    let v: Vec<f64> = h.iter().map(|x| x.sqrt()).collect();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let v: Vec<f32> = v.iter().map(|x| (x - mean) as f32).collect();
    let mut sig = [0u64; SIG_WORDS];
    for (k, plane) in planes().iter().enumerate() {
        let dot: f32 = plane.iter().zip(&v).map(|(p, x)| p * x).sum();
        if dot >= 0.0 {
            sig[k / 64] |= 1 << (k % 64);
        }
    }
    Some(sig)
}

/// How alike two signatures are: 1 for equal, 0 for unrelated (half the bits
/// differ), below 0 for opposed.
pub fn signature_similarity(a: &Signature, b: &Signature) -> f32 {
    let differ: u32 = a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum();
    1.0 - 2.0 * differ as f32 / (SIG_WORDS * 64) as f32
}

/// An embedding scaled to length 1 (`None` for a zero or non-finite vector).
pub fn normalized(v: &[f32]) -> Option<[f32; FACE_DIM]> {
    if v.len() != FACE_DIM || v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    (n > 0.0).then(|| std::array::from_fn(|i| v[i] / n))
}

/// The dot product of two embeddings, in eight independent lanes so the compiler
/// vectorises it (a single running sum forces one addition after another).
#[inline]
pub fn dot(a: &[f32; FACE_DIM], b: &[f32; FACE_DIM]) -> f32 {
    let mut acc = [0.0f32; 8];
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for k in 0..8 {
            acc[k] += ca[k] * cb[k];
        }
    }
    acc.iter().sum()
}

/// The baseline for the benchmark: one running sum, element by element.
pub fn dot_scalar(a: &[f32], b: &[f32]) -> f32 {
    let mut s = 0.0f32;
    for i in 0..a.len().min(b.len()) {
        s += a[i] * b[i];
    }
    s
}

/// A minutia as the gallery keeps it (6 bytes): pixels, and the ISO angle unit (360/256°).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minutia {
    pub x: u16,
    pub y: u16,
    pub angle: u8,
}

impl Minutia {
    pub fn point(&self) -> Point {
        use std::f64::consts::PI;
        Point { x: f64::from(self.x), y: f64::from(self.y), t: f64::from(self.angle) * 2.0 * PI / 256.0 }
    }
}

/// One finger of a person in the gallery: its position, signature and minutiae
/// (for the full comparison of the people the signatures shortlist).
#[derive(Debug, Clone, PartialEq)]
pub struct Finger {
    pub position: u8,
    pub signature: Signature,
    pub minutiae: Box<[Minutia]>,
}

impl Finger {
    /// A finger from points (rounded to whole pixels and ISO angle units, as a
    /// 19794-2 record would carry them); `None` when too sparse to sign.
    pub fn from_points(position: u8, points: &[Point]) -> Option<Finger> {
        let to_iso = |p: &Point| Minutia {
            x: p.x.round().clamp(0.0, 65535.0) as u16,
            y: p.y.round().clamp(0.0, 65535.0) as u16,
            angle: ((p.t.rem_euclid(std::f64::consts::TAU)) * 256.0 / std::f64::consts::TAU).round() as u16 as u8,
        };
        let minutiae: Box<[Minutia]> = points.iter().map(to_iso).collect();
        let pts: Vec<Point> = minutiae.iter().map(Minutia::point).collect();
        Some(Finger { position, signature: finger_signature(&pts)?, minutiae })
    }
}

/// What one person contributes to the gallery.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    pub fingers: Vec<Finger>,
    pub face: Option<[f32; FACE_DIM]>,
}

impl Features {
    pub fn is_empty(&self) -> bool {
        self.fingers.is_empty() && self.face.is_none()
    }

    /// The fingers of minutiae records (views too sparse to sign are left out).
    pub fn from_minutiae(records: &[fairgate_core::minutiae::MinutiaeRecord]) -> Features {
        let fingers = records
            .iter()
            .flat_map(|r| &r.views)
            .filter_map(|v| {
                let pts: Vec<Point> = v.minutiae.iter().map(Point::from_iso).collect();
                finger_signature(&pts).map(|signature| Finger {
                    position: v.position,
                    signature,
                    minutiae: v.minutiae.iter().map(|m| Minutia { x: m.x, y: m.y, angle: m.angle }).collect(),
                })
            })
            .collect();
        Features { fingers, face: None }
    }

    /// The probe's fingers as templates, by position.
    pub fn templates(&self) -> Vec<(u8, crate::fingerprint::Template)> {
        self.fingers
            .iter()
            .map(|f| {
                let pts: Vec<Point> = f.minutiae.iter().map(Minutia::point).collect();
                (f.position, crate::fingerprint::Template::new(&pts))
            })
            .collect()
    }
}

impl Features {
    /// The full comparison of these fingers with the probe's, as
    /// [`Gallery::compare_fingers`] does for someone in the gallery.
    pub fn compare_fingers(&self, probe: &[(u8, crate::fingerprint::Template)]) -> Option<f64> {
        fused_score(self.fingers.iter().map(|f| (f.position.min(10), &f.minutiae[..])), probe)
    }
}

/// MCC, fused over the positions both hold, each position the best of the
/// person's `fingers` (position, minutiae) there.
fn fused_score<'a>(
    fingers: impl Iterator<Item = (u8, &'a [Minutia])> + Clone,
    probe: &[(u8, crate::fingerprint::Template)],
) -> Option<f64> {
    let mut scores = Vec::new();
    for (pos, t) in probe {
        let best = fingers
            .clone()
            .filter(|(p, _)| *p == (*pos).min(10))
            .map(|(_, m)| {
                let pts: Vec<Point> = m.iter().map(Minutia::point).collect();
                crate::fingerprint::compare(t, &crate::fingerprint::Template::new(&pts))
            })
            .fold(None, |b: Option<f64>, s| Some(b.map_or(s, |b| b.max(s))));
        scores.extend(best);
    }
    fairgate_core::matching::fuse(&scores)
}

/// A candidate from a scan: a person (store number) and how alike.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub subject_no: u64,
    pub score: f32,
}

/// A finger in the shortlist's scan: (slot, signature).
type Entry = (u32, Signature);
/// A finger in full, kept by slot: (position, signature, minutiae).
type Full = (u8, Signature, Box<[Minutia]>);

/// The gallery. Slots are reused after a removal; each finger position's signatures
/// and the faces are flat arrays, scanned front to back; a person's minutiae are
/// kept by slot, so comparing one candidate reads only their fingers.
#[derive(Debug, Default)]
pub struct Gallery {
    slot_of: HashMap<u64, u32>,
    owner: Vec<Option<u64>>,
    free: Vec<u32>,
    /// Faces: FACE_DIM numbers per slot (zeros where a slot has none), and whether it has one.
    faces: Vec<[f32; FACE_DIM]>,
    has_face: Vec<bool>,
    /// Finger signatures: per ISO position (0 to 10), (slot, signature).
    fingers: Vec<Vec<Entry>>,
    /// Each slot's fingers in full: (position, signature, minutiae).
    minutiae: Vec<Vec<Full>>,
    /// This gallery's epoch (see [`NEXT_EPOCH`]) and its count of changes; `stamp`
    /// holds, per slot, the count at the slot's last insert.
    epoch: u64,
    generation: u64,
    stamp: Vec<u64>,
}

impl Gallery {
    pub fn new() -> Gallery {
        Gallery {
            fingers: vec![Vec::new(); 11],
            epoch: NEXT_EPOCH.fetch_add(1, Ordering::Relaxed),
            ..Gallery::default()
        }
    }

    /// Which gallery this is: a gallery built again (after a program's expungement,
    /// a bulk load) has another epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// How many inserts and removals this gallery has seen.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The people inserted (or added to) after `generation`: what a search prepared
    /// at that generation has not seen.
    pub fn changed_since(&self, generation: u64) -> Vec<u64> {
        self.stamp.iter().zip(&self.owner).filter(|(s, _)| **s > generation).filter_map(|(_, o)| *o).collect()
    }

    /// People in the gallery.
    pub fn len(&self) -> usize {
        self.slot_of.len()
    }
    pub fn is_empty(&self) -> bool {
        self.slot_of.is_empty()
    }
    /// Faces in the gallery.
    pub fn faces(&self) -> usize {
        self.has_face.iter().filter(|h| **h).count()
    }

    /// Add (or add to) a person's features: a later registration's fingers join the
    /// earlier ones; a later face replaces the earlier.
    pub fn insert(&mut self, subject_no: u64, f: &Features) {
        if f.is_empty() {
            return;
        }
        let known = self.slot_of.contains_key(&subject_no);
        let slot = match self.slot_of.get(&subject_no) {
            Some(s) => *s,
            None => {
                let s = match self.free.pop() {
                    Some(s) => {
                        self.owner[s as usize] = Some(subject_no);
                        s
                    }
                    None => {
                        self.owner.push(Some(subject_no));
                        self.faces.push([0.0; FACE_DIM]);
                        self.has_face.push(false);
                        self.minutiae.push(Vec::new());
                        self.stamp.push(0);
                        (self.owner.len() - 1) as u32
                    }
                };
                self.slot_of.insert(subject_no, s);
                s
            }
        };
        self.generation += 1;
        self.stamp[slot as usize] = self.generation;
        if let Some(face) = &f.face {
            self.faces[slot as usize] = *face;
            self.has_face[slot as usize] = true;
        }
        for finger in &f.fingers {
            let position = finger.position.min(10);
            let own = &mut self.minutiae[slot as usize];
            // Only someone already in the gallery (a re-registration) can repeat a
            // finger, and only their own fingers are looked at.
            if known && own.iter().any(|(p, g, _)| *p == position && *g == finger.signature) {
                continue;
            }
            own.push((position, finger.signature, finger.minutiae.clone()));
            self.fingers[usize::from(position)].push((slot, finger.signature));
        }
    }

    /// Take a person out (erased, expunged). Their face is zeroed and their finger
    /// signatures dropped before the slot is reused.
    pub fn remove(&mut self, subject_no: u64) -> bool {
        let Some(slot) = self.slot_of.remove(&subject_no) else { return false };
        self.owner[slot as usize] = None;
        self.faces[slot as usize] = [0.0; FACE_DIM];
        self.has_face[slot as usize] = false;
        for list in &mut self.fingers {
            list.retain(|(s, _)| *s != slot);
        }
        self.minutiae[slot as usize] = Vec::new();
        self.generation += 1;
        self.free.push(slot);
        true
    }

    /// A person's face against `probe` (cosine similarity); `None` when they are
    /// not in the gallery or have no face in it.
    pub fn face_score(&self, subject_no: u64, probe: &[f32; FACE_DIM]) -> Option<f32> {
        let slot = *self.slot_of.get(&subject_no)? as usize;
        self.has_face[slot].then(|| dot(probe, &self.faces[slot]))
    }

    pub fn contains(&self, subject_no: u64) -> bool {
        self.slot_of.contains_key(&subject_no)
    }

    /// Every face at or above `min` cosine similarity with `probe`, best first,
    /// leaving out `except`. An exact scan over every face, split across `threads`.
    pub fn search_face(&self, probe: &[f32; FACE_DIM], min: f32, except: Option<u64>, threads: usize) -> Vec<Hit> {
        let n = self.faces.len();
        let threads = threads.clamp(1, 16);
        let per = n.div_ceil(threads).max(1);
        let mut hits: Vec<(u32, f32)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..n)
                .step_by(per)
                .map(|start| {
                    let faces = &self.faces[start..(start + per).min(n)];
                    let has = &self.has_face[start..(start + per).min(n)];
                    scope.spawn(move || {
                        let mut out = Vec::new();
                        for (k, (f, h)) in faces.iter().zip(has).enumerate() {
                            let s = dot(probe, f);
                            if s >= min && *h {
                                out.push(((start + k) as u32, s));
                            }
                        }
                        out
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
        });
        hits.sort_by(|a, b| b.1.total_cmp(&a.1));
        hits.into_iter()
            .filter_map(|(slot, score)| self.owner[slot as usize].map(|subject_no| Hit { subject_no, score }))
            .filter(|h| Some(h.subject_no) != except)
            .collect()
    }

    /// The same scan with the baseline dot product, one thread (for the benchmark).
    pub fn search_face_scalar(&self, probe: &[f32; FACE_DIM], min: f32) -> usize {
        self.faces.iter().zip(&self.has_face).filter(|(f, h)| **h && dot_scalar(probe, &f[..]) >= min).count()
    }

    /// The `k` people whose finger signatures are most like `probe`'s (the mean
    /// similarity over the positions both hold), best first, leaving out `except`.
    /// An exact scan over every signature at each probe position.
    pub fn shortlist_fingers(&self, probe: &[Finger], k: usize, except: &dyn Fn(u64) -> bool) -> Vec<Hit> {
        if probe.is_empty() || k == 0 {
            return Vec::new();
        }
        let slots = self.owner.len();
        let mut sum = vec![0.0f32; slots];
        let mut count = vec![0u8; slots];
        let mut here = vec![f32::NEG_INFINITY; slots];
        for finger in probe {
            // Each person's best finger at this position (they may have given it twice).
            here.fill(f32::NEG_INFINITY);
            for (slot, g) in &self.fingers[usize::from(finger.position).min(10)] {
                let s = signature_similarity(&finger.signature, g);
                let e = &mut here[*slot as usize];
                *e = e.max(s);
            }
            for ((h, s), c) in here.iter().zip(sum.iter_mut()).zip(count.iter_mut()) {
                if *h > f32::NEG_INFINITY {
                    *s += h;
                    *c = c.saturating_add(1);
                }
            }
        }
        let mut ranked: Vec<Hit> = sum
            .iter()
            .zip(&count)
            .enumerate()
            .filter(|(_, (_, c))| **c > 0)
            .filter_map(|(slot, (s, c))| {
                self.owner[slot].map(|subject_no| Hit { subject_no, score: s / f32::from(*c) })
            })
            .filter(|h| !except(h.subject_no))
            .collect();
        // The k best without sorting everyone.
        let by_score = |a: &Hit, b: &Hit| b.score.total_cmp(&a.score);
        if ranked.len() > k {
            ranked.select_nth_unstable_by(k - 1, by_score);
            ranked.truncate(k);
        }
        ranked.sort_by(by_score);
        ranked
    }

    /// The full comparison of a person's fingers in the gallery with the probe's
    /// (MCC, fused over the positions both hold, each position the best of that
    /// person's fingers there). `None` when they share no position.
    pub fn compare_fingers(&self, subject_no: u64, probe: &[(u8, crate::fingerprint::Template)]) -> Option<f64> {
        let slot = *self.slot_of.get(&subject_no)? as usize;
        fused_score(self.minutiae[slot].iter().map(|(p, _, m)| (*p, &m[..])), probe)
    }

    /// Fingers in the gallery.
    pub fn fingers(&self) -> usize {
        self.fingers.iter().map(Vec::len).sum()
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

    fn finger(position: u8, points: &[Point]) -> Finger {
        Finger::from_points(position, points).unwrap()
    }

    #[test]
    fn a_signature_ignores_rotation_and_translation() {
        let m = master(7);
        let a = finger_signature(&m).unwrap();
        let b = finger_signature(&turned(&m, 0.9, 55.0, -30.0)).unwrap();
        assert!(signature_similarity(&a, &b) > 0.9, "{}", signature_similarity(&a, &b));
        let other = finger_signature(&master(8)).unwrap();
        assert!(signature_similarity(&a, &other) < signature_similarity(&a, &b));
        assert_eq!(finger_signature(&m[..5]), None);
    }

    /// The shortlist finds the mate: a gallery of 2,000 fingers (first
    /// impressions), searched with each of 200 second impressions, puts the mate in
    /// the top 50 far more often than chance (50/2000 = 2.5%).
    #[test]
    fn the_shortlist_ranks_the_mate_high() {
        let n = 2000u64;
        let mut g = Gallery::new();
        for id in 0..n {
            let p = impression(&master(id), id * 2 + 1, Difficulty::Typical);
            g.insert(id, &Features { fingers: vec![finger(1, &p)], face: None });
        }
        let mut found = 0;
        for id in 0..200 {
            let p = impression(&master(id), id * 2 + 2, Difficulty::Typical);
            let hits = g.shortlist_fingers(&[finger(1, &p)], 50, &|_| false);
            found += usize::from(hits.iter().any(|h| h.subject_no == id));
        }
        eprintln!("mate in top 50 of 2000: {found}/200");
        assert!(found >= 100, "{found}/200");
        // Four fingers a person, fused: the mate is at the top nearly always.
        let mut g = Gallery::new();
        let person = |id: u64, take: u64| -> Vec<Finger> {
            (1..=4u8)
                .map(|pos| {
                    let f = id * 10 + u64::from(pos);
                    finger(pos, &impression(&master(f), f * 2 + take, Difficulty::Typical))
                })
                .collect()
        };
        for id in 0..n {
            g.insert(id, &Features { fingers: person(id, 1), face: None });
        }
        let (mut top1, mut top10) = (0, 0);
        for id in 0..200 {
            let probe = person(id, 2);
            let hits = g.shortlist_fingers(&probe, 10, &|_| false);
            top1 += usize::from(hits[0].subject_no == id);
            top10 += usize::from(hits.iter().any(|h| h.subject_no == id));
            if id < 20 {
                // The full comparison separates the mate from the rest of the shortlist.
                let templates = Features { fingers: probe, face: None }.templates();
                for h in &hits {
                    let s = g.compare_fingers(h.subject_no, &templates).unwrap();
                    let thr = fairgate_core::matching::FINGER_THRESHOLD.score;
                    assert_eq!(s >= thr, h.subject_no == id, "{id} vs {}: {s}", h.subject_no);
                }
            }
        }
        eprintln!("four fingers: mate first {top1}/200, in top 10 of 2000: {top10}/200");
        assert!(top10 >= 170, "{top10}/200");
        assert!(g.remove(3) && g.compare_fingers(3, &[]).is_none());
    }

    #[test]
    fn a_re_registration_adds_new_fingers_and_repeats_none() {
        let mut g = Gallery::new();
        let one = finger(2, &master(1));
        let two = finger(7, &master(2));
        g.insert(5, &Features { fingers: vec![one.clone()], face: None });
        g.insert(5, &Features { fingers: vec![one.clone(), two], face: None });
        g.insert(6, &Features { fingers: vec![one], face: None });
        assert_eq!((g.len(), g.fingers()), (2, 3), "person 5 holds fingers 2 and 7 once each; person 6 its own");
    }

    #[test]
    fn changed_since_names_exactly_who_was_inserted_after_a_generation() {
        let mut g = Gallery::new();
        let face = |k: usize| {
            let mut v = [0.0f32; FACE_DIM];
            v[k] = 1.0;
            v
        };
        g.insert(1, &Features { fingers: vec![finger(2, &master(1))], face: None });
        g.insert(2, &Features { fingers: vec![], face: Some(face(0)) });
        let at = g.generation();
        assert!(g.changed_since(at).is_empty());
        g.insert(3, &Features { fingers: vec![finger(2, &master(3))], face: None });
        g.insert(1, &Features { fingers: vec![finger(7, &master(4))], face: None });
        let mut changed = g.changed_since(at);
        changed.sort_unstable();
        assert_eq!(changed, vec![1, 3], "a newcomer and a re-registration; not person 2");
        // Removed people are gone from the list; a slot reused is new again.
        assert!(g.remove(3));
        assert_eq!(g.changed_since(at), vec![1]);
        g.insert(9, &Features { fingers: vec![], face: Some(face(1)) });
        let mut changed = g.changed_since(at);
        changed.sort_unstable();
        assert_eq!(changed, vec![1, 9]);
        // A face is scored alone; someone without one has no score.
        assert_eq!(g.face_score(9, &face(1)), Some(1.0));
        assert_eq!(g.face_score(2, &face(1)), Some(0.0));
        assert_eq!(g.face_score(1, &face(1)), None);
        // Each gallery built has its own epoch.
        assert_ne!(Gallery::new().epoch(), g.epoch());
    }

    #[test]
    fn faces_are_found_exactly_and_removed_at_once() {
        let mut g = Gallery::new();
        let mut rng = crate::evaluation::Rng::new(3);
        let mut vecs = Vec::new();
        for no in 0..500u64 {
            let v: Vec<f32> = (0..FACE_DIM).map(|_| rng.normal() as f32).collect();
            let v = normalized(&v).unwrap();
            vecs.push(v);
            g.insert(no, &Features { fingers: vec![], face: Some(v) });
        }
        let hits = g.search_face(&vecs[42], 0.99, None, 2);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].subject_no, 42);
        assert!((hits[0].score - 1.0).abs() < 1e-4);
        assert!(g.search_face(&vecs[42], 0.99, Some(42), 2).is_empty());
        // The scalar baseline agrees with the vectorised scan.
        assert_eq!(g.search_face_scalar(&vecs[42], 0.99), 1);
        assert!((dot(&vecs[1], &vecs[2]) - dot_scalar(&vecs[1], &vecs[2])).abs() < 1e-4);
        assert!(g.remove(42));
        assert!(g.search_face(&vecs[42], 0.99, None, 2).is_empty(), "gone at once");
        assert!(!g.contains(42) && !g.remove(42));
        // The slot is reused by the next person, with their own face only.
        g.insert(1000, &Features { fingers: vec![], face: Some(vecs[7]) });
        assert_eq!(g.len(), 500);
        let again = g.search_face(&vecs[7], 0.99, None, 1);
        assert_eq!(again.iter().map(|h| h.subject_no).collect::<Vec<_>>().len(), 2);
        assert_eq!(normalized(&[0.0; FACE_DIM]), None);
    }
}
