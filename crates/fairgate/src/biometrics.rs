//! `fairgate biometrics compare` and `evaluate`: the fingerprint matcher for
//! integrators and evaluators. Nothing on record is read; nothing is recorded.

use std::path::Path;

use anyhow::{bail, Context, Result};
use fairgate_core::matching::{Comparison, Context as MatchContext, FINGER_THRESHOLD};
use fairgate_core::minutiae::MinutiaeRecord;

/// The minutiae records in a file: an ISO/IEC 19794-2 record (`FMR`), or an
/// ANSI/NIST-ITL transaction (its Type-9 records). A face image is named as such.
fn read_minutiae(path: &Path) -> Result<MinutiaeRecord> {
    let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    if bytes.starts_with(fairgate_core::minutiae::FORMAT_ID) {
        return fairgate_core::minutiae::parse(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    if bytes.starts_with(fairgate_core::face::FORMAT_ID)
        || bytes.starts_with(b"\xFF\xD8")
        || bytes.starts_with(b"\x89PNG")
    {
        bail!(
            "{}: a face: the face matcher is not installed on this machine (fingerprints only; docs/biometrics.md)",
            path.display()
        );
    }
    if bytes.starts_with(b"1.001:") {
        let t = fairgate_core::an2k::parse(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let (mut records, _) =
            fairgate_core::an2k::to_records(&t).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let mut first = records.drain(..).reduce(|mut a, b| {
            a.views.extend(b.views);
            a
        });
        return first
            .take()
            .with_context(|| format!("{}: the transaction holds no minutiae (Type-9) record", path.display()));
    }
    bail!(
        "{}: not a record this command reads: give an ISO/IEC 19794-2 minutiae record (starting FMR) or an ANSI/NIST-ITL file",
        path.display()
    )
}

/// `fairgate biometrics compare A B [--json]`.
pub fn compare(a: &Path, b: &Path, json: bool) -> Result<()> {
    let (ra, rb) = (read_minutiae(a)?, read_minutiae(b)?);
    let score = fairgate_biometrics::fingerprint::compare_records(&ra, &rb);
    let c = Comparison::new(score, &FINGER_THRESHOLD, MatchContext::Verification);
    let fingers: Vec<u8> =
        ra.views.iter().map(|v| v.position).filter(|p| rb.views.iter().any(|w| w.position == *p)).collect();
    if json {
        println!(
            "{}",
            serde_json::json!({"score": c.score, "threshold": c.threshold, "threshold_fmr": FINGER_THRESHOLD.fmr,
                               "decision": c.decision, "fingers": fingers})
        );
    } else {
        match c.score {
            Some(s) => println!(
                "score {s:.4}, threshold {} (FMR {:e}): {} over finger position(s) {fingers:?}",
                c.threshold,
                FINGER_THRESHOLD.fmr,
                serde_json::to_value(c.decision)?.as_str().unwrap_or("")
            ),
            None => println!("not checked: the two records share no finger position"),
        }
    }
    Ok(())
}

/// `fairgate biometrics evaluate [--fingers N] [--seed S] [--impostors K] [--det FILE] [--json]`.
pub fn evaluate(fingers: u64, seed: u64, impostors: Option<usize>, det: Option<&Path>, json: bool) -> Result<()> {
    if fingers < 2 {
        bail!("--fingers: at least 2 (the impostor pairs need two fingers)");
    }
    let started = std::time::Instant::now();
    let r = fairgate_biometrics::evaluation::evaluate(seed, fingers, impostors, FINGER_THRESHOLD.score);
    let took = started.elapsed();
    if let Some(path) = det {
        let title = format!("MCC, generated set (seed {seed}, {} fingers)", r.fingers);
        std::fs::write(path, fairgate_biometrics::evaluation::det_svg(&r.curve, &title))
            .with_context(|| format!("--det {}", path.display()))?;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    println!(
        "generated set, seed {seed}: {} fingers, {} genuine and {} impostor comparisons in {:.1} s",
        r.fingers,
        r.genuine,
        r.impostor,
        took.as_secs_f64()
    );
    for (label, p) in [("1e-3", &r.at_fmr_1e3), ("1e-4", &r.at_fmr_1e4)] {
        match p {
            Some(p) => println!(
                "  FMR {label}: FNMR {:.3} at threshold {:.4} (FMR measured {:.2e})",
                p.fnmr, p.threshold, p.fmr
            ),
            None => println!("  FMR {label}: too few impostor comparisons to measure"),
        }
    }
    println!("per group at the threshold in use ({}):", FINGER_THRESHOLD.score);
    for g in &r.groups {
        println!(
            "  {:<12} FNMR {:.3} ({} genuine), FMR {:.2e} ({} impostor){}",
            g.group,
            g.fnmr,
            g.genuine,
            g.fmr,
            g.impostor,
            if g.flagged { "  FLAGGED: more than 1.25 times the rest" } else { "" }
        );
    }
    Ok(())
}
