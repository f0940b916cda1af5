//! `fairgate biometrics compare` and `evaluate`: the fingerprint and face matchers
//! for integrators and evaluators. Nothing on record is read; nothing is recorded.

use std::path::Path;

use anyhow::{bail, Context, Result};
use fairgate_core::matching::{Comparison, Context as MatchContext, FACE_THRESHOLD, FINGER_THRESHOLD};
use fairgate_core::minutiae::MinutiaeRecord;

/// The minutiae records in a file: an ISO/IEC 19794-2 record (`FMR`), or an
/// ANSI/NIST-ITL transaction (its Type-9 records). A face image is named as such.
fn read_minutiae(path: &Path) -> Result<MinutiaeRecord> {
    let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    if bytes.starts_with(fairgate_core::minutiae::FORMAT_ID) {
        return fairgate_core::minutiae::parse(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    if let Some(blocks) = cbeff_blocks(&bytes, path)? {
        use fairgate_core::cbeff::{FORMAT_FINGER_MINUTIAE, SC37};
        let mut records = Vec::new();
        for (_, _, bdb) in blocks.into_iter().filter(|(o, t, _)| (*o, *t) == (SC37, FORMAT_FINGER_MINUTIAE)) {
            records.push(fairgate_core::minutiae::parse(&bdb).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?);
        }
        let merged = records.into_iter().reduce(|mut a, b| {
            a.views.extend(b.views);
            a
        });
        return merged.with_context(|| format!("{}: the CBEFF file holds no finger minutiae block", path.display()));
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
        "{}: not a record this command reads: give an ISO/IEC 19794-2 minutiae record (starting FMR), a CBEFF XML file or an ANSI/NIST-ITL file",
        path.display()
    )
}

/// The data blocks of a CBEFF XML file (`GET /subjects/{id}/biometrics` gives one),
/// or `None` when the file is not XML.
fn cbeff_blocks(bytes: &[u8], path: &Path) -> Result<Option<Vec<fairgate_core::cbeff::DataBlock>>> {
    let text = String::from_utf8_lossy(bytes);
    let t = text.trim_start();
    if !(t.starts_with("<?xml") || t.starts_with("<BIR")) {
        return Ok(None);
    }
    fairgate_core::cbeff::data_blocks(t).map(Some).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The image in a face file: a JPEG or PNG as it is, the first image of an ISO/IEC
/// 19794-5 record, or of a CBEFF file's face block. `None`: not a face.
fn face_image(bytes: &[u8], path: &Path) -> Result<Option<Vec<u8>>> {
    if let Some(blocks) = cbeff_blocks(bytes, path)? {
        use fairgate_core::cbeff::{FORMAT_FACE_IMAGE, SC37};
        return match blocks.into_iter().find(|(o, t, _)| (*o, *t) == (SC37, FORMAT_FACE_IMAGE)) {
            Some((_, _, bdb)) => face_image(&bdb, path),
            None => Ok(None),
        };
    }
    if bytes.starts_with(fairgate_core::face::FORMAT_ID) {
        let rec = fairgate_core::face::parse(bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let img =
            rec.images.into_iter().next().with_context(|| format!("{}: the record holds no image", path.display()))?;
        return Ok(Some(img.data));
    }
    Ok((bytes.starts_with(b"\xFF\xD8") || bytes.starts_with(b"\x89PNG")).then(|| bytes.to_vec()))
}

/// `fairgate biometrics compare A B [--json]`: two fingerprint records, or two faces.
pub fn compare(a: &Path, b: &Path, json: bool, faces: &Path) -> Result<()> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("{}", p.display()));
    let (fa, fb) = (face_image(&read(a)?, a)?, face_image(&read(b)?, b)?);
    match (fa, fb) {
        (Some(ia), Some(ib)) => return compare_faces(&ia, &ib, a, b, json, faces),
        (None, None) => {}
        _ => bail!(
            "{} and {} are not of one modality: compare two faces or two fingerprint records",
            a.display(),
            b.display()
        ),
    }
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

fn compare_faces(a: &[u8], b: &[u8], pa: &Path, pb: &Path, json: bool, dir: &Path) -> Result<()> {
    use fairgate_biometrics::face::FaceEmbedder;
    let engine = fairgate_biometrics::face::OnnxFaces::load(dir).map_err(|e| anyhow::anyhow!("--faces: {e}"))?;
    let ea = engine.embed(a).map_err(|e| anyhow::anyhow!("{}: {e}", pa.display()))?;
    let eb = engine.embed(b).map_err(|e| anyhow::anyhow!("{}: {e}", pb.display()))?;
    let score = f64::from(fairgate_biometrics::index::dot(&ea, &eb));
    let c = Comparison::new(Some(score), &FACE_THRESHOLD, MatchContext::Verification);
    let decision = serde_json::to_value(c.decision)?;
    if json {
        println!(
            "{}",
            serde_json::json!({"modality": "face", "score": score, "threshold": c.threshold, "decision": decision})
        );
    } else {
        println!(
            "score {score:.4}, threshold {} (SFace's published operating point; its FMR is not measured here): {}",
            c.threshold,
            decision.as_str().unwrap_or("")
        );
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
    print_groups(FINGER_THRESHOLD.score, &r.groups);
    Ok(())
}

/// The per-group table of an evaluation, for people.
fn print_groups(threshold: f64, groups: &[fairgate_biometrics::evaluation::GroupRates]) {
    println!("per group at the threshold in use ({threshold}):");
    for g in groups {
        println!(
            "  {:<16} FNMR {:.3} ({} genuine), FMR {:.2e} ({} impostor){}",
            g.group,
            g.fnmr,
            g.genuine,
            g.fmr,
            g.impostor,
            if g.flagged { "  FLAGGED: more than 1.25 times the rest" } else { "" }
        );
    }
}

/// The file naming an evaluation set's records in `--set DIR`.
pub const SET_LABELS: &str = "labels.csv";

/// One record of an evaluation set on disk.
struct SetRecord {
    file: String,
    subject: String,
    labels: Vec<(String, String)>,
}

/// Read `DIR/labels.csv`: a header `file,subject,LABEL...` and one row per record
/// (a file in DIR: an ISO/IEC 19794-2 minutiae record, or a face as JPEG, PNG or
/// ISO/IEC 19794-5). Records with the same `subject` are one person's.
fn read_set(dir: &Path) -> Result<Vec<SetRecord>> {
    let path = dir.join(SET_LABELS);
    let mut r = csv::Reader::from_path(&path).with_context(|| {
        format!("--set: {} (a header `file,subject,LABEL...` and a row per record)", path.display())
    })?;
    let header: Vec<String> = r.headers()?.iter().map(|h| h.trim().to_string()).collect();
    if header.len() < 2 || header[0] != "file" || header[1] != "subject" {
        bail!("{}: the header must start `file,subject`, then any labels (sex, age, …)", path.display());
    }
    let mut out = Vec::new();
    for (n, row) in r.records().enumerate() {
        let row = row.with_context(|| format!("{} line {}", path.display(), n + 2))?;
        let field = |i: usize| row.get(i).unwrap_or("").trim().to_string();
        let (file, subject) = (field(0), field(1));
        if file.is_empty() || subject.is_empty() {
            bail!("{} line {}: `file` and `subject` are required", path.display(), n + 2);
        }
        let labels = (2..header.len()).map(|i| (header[i].clone(), field(i))).filter(|(_, v)| !v.is_empty()).collect();
        out.push(SetRecord { file, subject, labels });
    }
    if out.len() < 2 {
        bail!("{}: at least two records are needed", path.display());
    }
    Ok(out)
}

/// What a record of the set holds, ready to compare.
enum Prepared {
    Fingers(Vec<(u8, fairgate_biometrics::fingerprint::Template)>),
    Face(Box<[f32; fairgate_biometrics::index::FACE_DIM]>),
}

/// `fairgate biometrics evaluate --set DIR`: FNMR at FMR 10⁻³ and 10⁻⁴, and the
/// rates per group of every label the set carries, over every genuine pair (two
/// records of one subject) and every impostor pair (or `impostors` per record).
pub fn evaluate_set(dir: &Path, impostors: Option<usize>, det: Option<&Path>, json: bool, faces: &Path) -> Result<()> {
    use fairgate_biometrics::face::FaceEmbedder;
    let records = read_set(dir)?;
    let mut engine = None;
    let mut prepared = Vec::with_capacity(records.len());
    for r in &records {
        let path = dir.join(&r.file);
        let bytes = std::fs::read(&path).with_context(|| format!("{}", path.display()))?;
        if let Some(image) = face_image(&bytes, &path)? {
            if engine.is_none() {
                engine = Some(
                    fairgate_biometrics::face::OnnxFaces::load(faces).map_err(|e| anyhow::anyhow!("--faces: {e}"))?,
                );
            }
            let e = engine
                .as_ref()
                .map(|e| e.embed(&image))
                .transpose()
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            prepared.push(Prepared::Face(Box::new(e.context("no face matcher")?)));
        } else {
            let rec = read_minutiae(&path)?;
            prepared.push(Prepared::Fingers(
                rec.views
                    .iter()
                    .map(|v| (v.position, fairgate_biometrics::fingerprint::Template::from_view(v)))
                    .collect(),
            ));
        }
    }
    let faces_in_set = prepared.iter().filter(|p| matches!(p, Prepared::Face(_))).count();
    if faces_in_set != 0 && faces_in_set != prepared.len() {
        bail!("--set: the records are of one modality: all fingerprints or all faces");
    }
    let threshold = if faces_in_set > 0 { FACE_THRESHOLD } else { FINGER_THRESHOLD };
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for i in 0..records.len() {
        let mut taken = 0;
        for k in 1..records.len() {
            let j = (i + k) % records.len();
            if records[i].subject == records[j].subject {
                if j > i {
                    genuine.push((i, j));
                }
            } else if impostors.is_none_or(|cap| taken < cap) {
                impostor.push((i, j));
                taken += 1;
            }
        }
    }
    if genuine.is_empty() {
        bail!("--set: no subject has two records, so there are no genuine pairs to measure");
    }
    let compare = |i: usize, j: usize| -> Option<f64> {
        match (&prepared[i], &prepared[j]) {
            (Prepared::Face(a), Prepared::Face(b)) => Some(f64::from(fairgate_biometrics::index::dot(a, b))),
            (Prepared::Fingers(a), Prepared::Fingers(b)) => {
                let scores: Vec<f64> = a
                    .iter()
                    .filter_map(|(p, t)| {
                        b.iter().find(|(q, _)| q == p).map(|(_, u)| fairgate_biometrics::fingerprint::compare(t, u))
                    })
                    .collect();
                fairgate_core::matching::fuse(&scores)
            }
            _ => None,
        }
    };
    let scores = fairgate_biometrics::evaluation::score_pairs(&genuine, &impostor, &compare);
    let g: Vec<f64> = scores.genuine.iter().map(|s| s.0).collect();
    let i: Vec<f64> = scores.impostor.iter().map(|s| s.0).collect();
    let curve = fairgate_core::matching::det(&g, &i);
    let labels: Vec<Vec<(String, String)>> = records.iter().map(|r| r.labels.clone()).collect();
    let groups = fairgate_biometrics::evaluation::by_labels(&labels, &scores, threshold.score);
    let at = |fmr: f64| fairgate_core::matching::fnmr_at(&curve, i.len(), fmr);
    if let Some(path) = det {
        let title = format!("{} records of {}", records.len(), dir.display());
        std::fs::write(path, fairgate_biometrics::evaluation::det_svg(&curve, &title))
            .with_context(|| format!("--det {}", path.display()))?;
    }
    let modality = if faces_in_set > 0 { "face" } else { "finger" };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "set": dir.display().to_string(), "modality": modality, "records": records.len(),
                "genuine": g.len(), "impostor": i.len(), "threshold": threshold.score,
                "at_fmr_1e3": at(1e-3), "at_fmr_1e4": at(1e-4), "groups": groups,
            }))?
        );
        return Ok(());
    }
    println!(
        "{}: {} {modality} records, {} genuine and {} impostor comparisons",
        dir.display(),
        records.len(),
        g.len(),
        i.len()
    );
    for (label, p) in [("1e-3", at(1e-3)), ("1e-4", at(1e-4))] {
        match p {
            Some(p) => println!("  FMR {label}: FNMR {:.3} at threshold {:.4}", p.fnmr, p.threshold),
            None => println!("  FMR {label}: too few impostor comparisons to measure"),
        }
    }
    print_groups(threshold.score, &groups);
    Ok(())
}

/// `fairgate biometrics evaluate --write-set DIR`: the generated set on disk, in the
/// form `--set` reads (two ISO/IEC 19794-2 records per finger, and labels.csv), so
/// an evaluator sees the format and can check a reader against it.
pub fn write_set(dir: &Path, fingers: u64, seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("--write-set {}", dir.display()))?;
    let set = fairgate_biometrics::evaluation::set(seed, fingers);
    let mut labels = csv::Writer::from_path(dir.join(SET_LABELS))?;
    labels.write_record(["file", "subject", "sex", "age"])?;
    for f in &set {
        for (k, points) in f.impressions.iter().enumerate() {
            let minutiae = points
                .iter()
                .filter(|p| (0.0..65535.0).contains(&p.x) && (0.0..65535.0).contains(&p.y))
                .map(|p| fairgate_core::minutiae::Minutia {
                    kind: fairgate_core::minutiae::MinutiaType::Other,
                    x: p.x.round() as u16,
                    y: p.y.round() as u16,
                    angle: (p.t.rem_euclid(std::f64::consts::TAU) * 256.0 / std::f64::consts::TAU).round() as u16 as u8,
                    quality: 0,
                })
                .collect();
            let rec = fairgate_core::minutiae::MinutiaeRecord {
                certification: 0,
                device_type: 0,
                width: 500,
                height: 550,
                x_resolution: 197,
                y_resolution: 197,
                views: vec![fairgate_core::minutiae::FingerView {
                    position: 2,
                    view: k as u8,
                    impression: 0,
                    quality: 60,
                    minutiae,
                    extended: vec![],
                }],
            };
            let name = format!("{}-{}.fmr", f.id, k + 1);
            std::fs::write(
                dir.join(&name),
                fairgate_core::minutiae::encode(&rec).map_err(|e| anyhow::anyhow!("{e}"))?,
            )?;
            labels.write_record([name.as_str(), &f.id.to_string(), f.sex, f.age_band])?;
        }
    }
    labels.flush()?;
    println!("wrote {} records of {} fingers and {SET_LABELS} to {}", set.len() * 2, set.len(), dir.display());
    Ok(())
}
