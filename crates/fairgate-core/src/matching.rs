//! Biometric comparison, as the rest of Fairgate sees it: a score between 0 and 1,
//! a threshold set at a measured false-match rate, and the decision rule. The
//! algorithms live in `fairgate-biometrics`; this module decides what a score means.
//!
//! **A comparison never refuses anyone.** A no-match at a crossing or a desk is
//! referred to secondary inspection, and a 1:N candidate at enrolment to a
//! supervisor's review: a person decides, with the records in front of them. A
//! comparison that could not run (no template on record, no matcher installed) is
//! `not-checked`, which is never a failure of the person's.

use serde::{Deserialize, Serialize};

/// What is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Modality {
    Finger,
    Face,
}

/// A threshold, with the false-match rate it was set at on the evaluation set
/// (docs/biometrics.md says how the figure was measured and what it cannot show).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Threshold {
    pub modality: Modality,
    pub score: f64,
    /// The false-match rate measured at this threshold.
    pub fmr: f64,
}

/// Fingerprints: the MCC matcher's score (one finger, or fused over several) at
/// which the generated evaluation set (seed 2002, 1,000 fingers) gave a false-match
/// rate of 1 in 10,000.
pub const FINGER_THRESHOLD: Threshold = Threshold { modality: Modality::Finger, score: 0.0286, fmr: 1e-4 };

/// Faces: the cosine similarity of two SFace embeddings at which the model's
/// authors report same-person decisions on LFW (0.363). Not measured here: the
/// photographs Fairgate can ship without a download are too few to measure a
/// false-match rate (docs/biometrics.md), so `fmr` is not a number (serialized as
/// null): unknown, and said so rather than guessed.
pub const FACE_THRESHOLD: Threshold = Threshold { modality: Modality::Face, score: 0.363, fmr: f64::NAN };

/// The outcome of one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Decision {
    Match,
    NoMatch,
    /// Nothing to compare, or no matcher: never held against the person.
    NotChecked,
}

/// Where a comparison's outcome sends the case: always to a person, never to a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Referral {
    None,
    /// 1:1 no-match at a crossing or a desk: an officer looks again, with the
    /// person; the crossing or registration is recorded whatever they find.
    SecondaryInspection,
    /// 1:N candidate at enrolment: a supervisor decides, with reasons, whether it is
    /// the same person; nothing is merged by itself.
    SupervisorReview,
}

/// Where a comparison happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Is this the person on record? (at exit, at a re-registration)
    Verification,
    /// Is this person already on record under another document? (at enrolment)
    Identification,
}

/// The decision for a score (`None`: nothing was compared).
pub fn decide(score: Option<f64>, threshold: &Threshold) -> Decision {
    match score {
        None => Decision::NotChecked,
        Some(s) if s.is_finite() && s >= threshold.score => Decision::Match,
        Some(_) => Decision::NoMatch,
    }
}

/// Who looks next: a verification that did not match goes to secondary inspection;
/// an identification that found someone goes to a supervisor. Nothing else refers.
pub fn referral(decision: Decision, context: Context) -> Referral {
    match (context, decision) {
        (Context::Verification, Decision::NoMatch) => Referral::SecondaryInspection,
        (Context::Identification, Decision::Match) => Referral::SupervisorReview,
        _ => Referral::None,
    }
}

/// Score-level fusion over the fingers compared (the sum rule, as a mean): each
/// finger's score counts the same; none compared gives `None`.
pub fn fuse(scores: &[f64]) -> Option<f64> {
    let finite: Vec<f64> = scores.iter().copied().filter(|s| s.is_finite()).collect();
    (!finite.is_empty()).then(|| finite.iter().sum::<f64>() / finite.len() as f64)
}

/// A comparison's answer, as a crossing or a registration carries it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comparison {
    pub modality: Modality,
    pub decision: Decision,
    pub score: Option<f64>,
    pub threshold: f64,
    pub referral: Referral,
}

impl Comparison {
    pub fn new(score: Option<f64>, threshold: &Threshold, context: Context) -> Comparison {
        let decision = decide(score, threshold);
        Comparison {
            modality: threshold.modality,
            decision,
            score,
            threshold: threshold.score,
            referral: referral(decision, context),
        }
    }
}

/// A probe taken at a desk or a port, to compare with the person's on record:
/// base64 ISO/IEC 19794-2 minutiae records, and a photograph (base64 JPEG or PNG,
/// or an ISO/IEC 19794-5 face record holding one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProbeInput {
    #[serde(default)]
    pub fingerprints: Vec<String>,
    #[serde(default)]
    pub face: Option<String>,
}

impl ProbeInput {
    /// The records, each checked; a bad one is named by its index.
    pub fn validate(&self) -> Result<Vec<crate::minutiae::MinutiaeRecord>, crate::Invalid> {
        use base64::Engine as _;
        let mut e = crate::error::Errors::default();
        let mut out = Vec::new();
        if self.fingerprints.len() > 10 {
            e.push("probe.fingerprints", "has more than 10 records: one per finger at most");
        }
        for (i, b) in self.fingerprints.iter().enumerate().take(10) {
            let field = format!("probe.fingerprints[{i}]");
            match base64::engine::general_purpose::STANDARD.decode(b.trim()) {
                Err(_) => e.push(field, "is not base64: send the ISO/IEC 19794-2 record as standard base64"),
                Ok(bytes) => match crate::minutiae::parse(&bytes) {
                    Ok(r) => out.push(r),
                    Err(err) => e.push(field, format!("is not a minutiae record: {err}")),
                },
            }
        }
        e.finish(|| out)
    }
}

impl ProbeInput {
    /// The photograph's image bytes (JPEG or PNG), if one was sent; a face record
    /// gives its first image.
    pub fn face_image(&self) -> Result<Option<Vec<u8>>, crate::Invalid> {
        use base64::Engine as _;
        let Some(b) = self.face.as_deref() else { return Ok(None) };
        let bytes = base64::engine::general_purpose::STANDARD.decode(b.trim()).map_err(|_| {
            crate::Invalid::one("probe.face", "is not base64: send the JPEG, PNG or face record as standard base64")
        })?;
        if bytes.starts_with(b"FAC\0") {
            let rec = crate::face::parse(&bytes)
                .map_err(|e| crate::Invalid::one("probe.face", format!("is not a face record: {e}")))?;
            return rec
                .images
                .into_iter()
                .next()
                .map(|i| Some(i.data))
                .ok_or_else(|| crate::Invalid::one("probe.face", "holds no image"));
        }
        if bytes.starts_with(&[0xFF, 0xD8]) || bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
            Ok(Some(bytes))
        } else {
            Err(crate::Invalid::one("probe.face", "is neither a JPEG, a PNG nor an ISO/IEC 19794-5 face record"))
        }
    }
}

/// A detection-error trade-off: for each threshold, the false non-match rate over
/// the genuine scores and the false match rate over the impostor scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetPoint {
    pub threshold: f64,
    pub fmr: f64,
    pub fnmr: f64,
}

/// The DET curve of two score sets, at every distinct impostor score (so the
/// lowest reachable FMRs are on it), highest threshold first.
pub fn det(genuine: &[f64], impostor: &[f64]) -> Vec<DetPoint> {
    let mut g: Vec<f64> = genuine.iter().copied().filter(|s| s.is_finite()).collect();
    let mut i: Vec<f64> = impostor.iter().copied().filter(|s| s.is_finite()).collect();
    g.sort_by(f64::total_cmp);
    i.sort_by(f64::total_cmp);
    if g.is_empty() || i.is_empty() {
        return Vec::new();
    }
    let mut thresholds: Vec<f64> = i.iter().map(|s| s + 1e-12).collect();
    thresholds.extend(g.iter().copied());
    thresholds.sort_by(|a, b| b.total_cmp(a));
    thresholds.dedup();
    thresholds
        .into_iter()
        .map(|t| {
            // Scores at or above t match.
            let fm = i.len() - i.partition_point(|s| *s < t);
            let fnm = g.partition_point(|s| *s < t);
            DetPoint { threshold: t, fmr: fm as f64 / i.len() as f64, fnmr: fnm as f64 / g.len() as f64 }
        })
        .collect()
}

/// The lowest FNMR at a false-match rate of at most `fmr`, with its threshold
/// (`None` when the impostor set is too small to measure that rate).
pub fn fnmr_at(curve: &[DetPoint], impostors: usize, fmr: f64) -> Option<DetPoint> {
    if (impostors as f64) * fmr < 1.0 {
        return None;
    }
    curve
        .iter()
        .filter(|p| p.fmr <= fmr)
        .min_by(|a, b| a.fnmr.total_cmp(&b.fnmr).then(b.threshold.total_cmp(&a.threshold)))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nothing_compared_is_never_a_no_match_and_nothing_refuses() {
        let t = FINGER_THRESHOLD;
        assert_eq!(decide(None, &t), Decision::NotChecked);
        assert_eq!(decide(Some(f64::NAN), &t), Decision::NoMatch);
        assert_eq!(decide(Some(t.score), &t), Decision::Match);
        assert_eq!(referral(Decision::NotChecked, Context::Verification), Referral::None);
        assert_eq!(referral(Decision::NoMatch, Context::Verification), Referral::SecondaryInspection);
        assert_eq!(referral(Decision::Match, Context::Identification), Referral::SupervisorReview);
        assert_eq!(referral(Decision::NoMatch, Context::Identification), Referral::None);
        let c = Comparison::new(Some(t.score / 2.0), &t, Context::Verification);
        assert_eq!((c.decision, c.referral, c.threshold), (Decision::NoMatch, Referral::SecondaryInspection, t.score));
    }

    #[test]
    fn fusion_is_the_mean_of_the_fingers_compared() {
        assert_eq!(fuse(&[]), None);
        assert_eq!(fuse(&[0.2, 0.4, f64::NAN]), Some(0.30000000000000004));
    }

    #[test]
    fn the_det_curve_and_fnmr_at_a_false_match_rate() {
        let genuine = [0.9, 0.8, 0.7, 0.3];
        let impostor: Vec<f64> = (0..1000).map(|i| f64::from(i) / 2000.0).collect(); // 0 … 0.4995
        let curve = det(&genuine, &impostor);
        let p = fnmr_at(&curve, impostor.len(), 1e-3).unwrap();
        assert!(p.fmr <= 1e-3 && p.threshold > 0.4995, "{p:?}");
        assert_eq!(p.fnmr, 0.25, "0.3 is below every threshold that keeps the FMR at 1/1000");
        assert_eq!(fnmr_at(&curve, impostor.len(), 1e-4), None, "1,000 impostors cannot measure 1/10,000");
    }

    proptest! {
        #[test]
        fn the_det_curve_trades_one_error_for_the_other(
            g in prop::collection::vec(0.0f64..1.0, 1..50), i in prop::collection::vec(0.0f64..1.0, 1..50)
        ) {
            let c = det(&g, &i);
            for w in c.windows(2) {
                // Lower thresholds: more false matches, fewer false non-matches.
                prop_assert!(w[1].threshold <= w[0].threshold);
                prop_assert!(w[1].fmr >= w[0].fmr && w[1].fnmr <= w[0].fnmr);
            }
        }
    }
}
