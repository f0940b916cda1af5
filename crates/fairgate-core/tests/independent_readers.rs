//! Cross-checks against implementations Fairgate did not write:
//! - ANSI/NIST-ITL files against `nistitl` (IDEMIA's pure-Python reader, PyPI):
//!   what Fairgate writes, it reads with every length, count and field where we put
//!   them; what it writes, Fairgate reads to the minutiae a person would expect;
//! - CBEFF XML against Python's own XML parser.
//!
//! Python 3 is on every machine; `nistitl` is installed by `.ci/run`. Where it is
//! missing the ANSI/NIST checks skip with a note, unless `FAIRGATE_REQUIRE_NISTITL=1`
//! (as in CI), when they fail.

use std::io::Write;
use std::process::{Command, Stdio};

use fairgate_core::an2k::{self, Envelope};
use fairgate_core::finger_image::{Compression, FingerImage, FingerImageRecord};
use fairgate_core::minutiae::{FingerView, Minutia, MinutiaType, MinutiaeRecord};

fn python(script: &str, input: &[u8]) -> Option<String> {
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(input).ok()?;
    let out = child.wait_with_output().ok()?;
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).unwrap())
}

fn have_nistitl() -> bool {
    let ok = Command::new("python3").args(["-c", "import nistitl"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("FAIRGATE_REQUIRE_NISTITL").is_err(),
            "FAIRGATE_REQUIRE_NISTITL is set but `import nistitl` fails: pip install nistitl==0.6"
        );
        eprintln!("nistitl is not installed: ANSI/NIST cross-check skipped (pip install nistitl==0.6)");
    }
    ok
}

fn minutiae() -> MinutiaeRecord {
    MinutiaeRecord {
        certification: 0,
        device_type: 0,
        width: 400,
        height: 500,
        x_resolution: 197,
        y_resolution: 197,
        views: vec![
            FingerView {
                position: 2,
                view: 0,
                impression: 1,
                quality: 70,
                minutiae: vec![
                    Minutia { kind: MinutiaType::RidgeEnding, x: 10, y: 20, angle: 0, quality: 100 },
                    Minutia { kind: MinutiaType::Bifurcation, x: 399, y: 499, angle: 128, quality: 50 },
                ],
                extended: vec![],
            },
            FingerView { position: 7, view: 0, impression: 1, quality: 70, minutiae: vec![], extended: vec![] },
        ],
    }
}

fn image(position: u8) -> FingerImageRecord {
    let data: Vec<u8> = (0..12u8).map(|i| i.wrapping_mul(21) ^ position).collect();
    FingerImageRecord { certified: false, images: vec![FingerImage::plain(position, 4, 3, data)] }
}

fn env(type4: bool) -> Envelope {
    Envelope {
        tot: "FGX".into(),
        date: "20261130".into(),
        dai: "DEST".into(),
        ori: "FAIRGATE".into(),
        tcn: "T42".into(),
        type4,
    }
}

const DUMP: &str = r#"
import sys, json, struct, hashlib, nistitl
msg = nistitl.Message()
msg.parse(sys.stdin.buffer.read())
out = {"tot": msg.TOT, "records": []}
for t in (2, 4, 9, 14):
    for r in msg.iter(t):
        rec = {"type": t, "idc": int(r.IDC)}
        if t == 4:
            imp, fgp, isr, hll, vll, gca, data = r.unpack("!B6sBHHB")
            rec.update(imp=imp, fgp=list(fgp), hll=hll, vll=vll, gca=gca, sha=hashlib.sha256(data).hexdigest())
        elif t == 9:
            rec.update(fgp=r._6, fmt=r._4, count=r._10, mrc=r._12 if int(r._10) > 0 else [])
        elif t == 14:
            rec.update(hll=r._6, vll=r._7, cga=r._11, fgp=r._13, sha=hashlib.sha256(r._999).hexdigest())
        out["records"].append(rec)
print(json.dumps(out))
"#;

/// SHA-256 of `b`, by Python's hashlib (the core has no hash of its own).
fn sha(b: &[u8]) -> String {
    python("import sys, hashlib; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest(), end='')", b).unwrap()
}

#[test]
fn nistitl_reads_what_fairgate_writes_field_for_field() {
    if !have_nistitl() {
        return;
    }
    for type4 in [false, true] {
        let file = an2k::from_records(&env(type4), None, &[minutiae()], &[image(2), image(7)]).unwrap();
        let dump: serde_json::Value = serde_json::from_str(&python(DUMP, &file).unwrap()).unwrap();
        assert_eq!(dump["tot"], "FGX");
        let recs = dump["records"].as_array().unwrap();
        let kinds: Vec<(u64, u64)> =
            recs.iter().map(|r| (r["type"].as_u64().unwrap(), r["idc"].as_u64().unwrap())).collect();
        let img = if type4 { 4 } else { 14 };
        let mut expected = vec![(2, 0), (img, 2), (img, 7), (9, 2), (9, 7)];
        expected.sort_by_key(|(t, _)| [2, 4, 9, 14].iter().position(|x| x == t));
        assert_eq!(kinds, expected);
        let of = |t: u64, idc: u64| recs.iter().find(|r| r["type"] == t && r["idc"] == idc).unwrap();
        let nine = of(9, 2);
        assert_eq!(
            (nine["fgp"].as_str(), nine["fmt"].as_str(), nine["count"].as_str()),
            (Some("02"), Some("S"), Some("2"))
        );
        // (10, 20) px at 197 px/cm: x 51 (0.01 mm), y (499 − 20) → 2533 − 102 = 2431; angle 0° turned to 180.
        // (399, 499): x 2025, y 0; 128 × 360/256 = 180°, turned to 0. Qualities 100 → 63, 50 → 32.
        assert_eq!(
            nine["mrc"],
            serde_json::json!([["001", "00512431180", "63", "A"], ["002", "20250000000", "32", "B"]])
        );
        for position in [2u8, 7] {
            let r = of(img, u64::from(position));
            let data = &image(position).images[0].data;
            assert_eq!(r["sha"].as_str().unwrap(), sha(data), "the image bytes, exactly");
            if type4 {
                assert_eq!(
                    (r["imp"].as_u64(), r["hll"].as_u64(), r["vll"].as_u64(), r["gca"].as_u64()),
                    (Some(0), Some(4), Some(3), Some(0))
                );
                assert_eq!(r["fgp"], serde_json::json!([position, 255, 255, 255, 255, 255]));
            } else {
                assert_eq!(
                    (r["hll"].as_str(), r["vll"].as_str(), r["cga"].as_str()),
                    (Some("4"), Some("3"), Some("NONE"))
                );
                assert_eq!(r["fgp"].as_str(), Some(position.to_string().as_str()));
            }
        }
    }
}

const MAKE: &str = r#"
import sys, nistitl
msg = nistitl.Message()
msg.TOT = "CAR"
r2 = nistitl.AsciiRecord(2)
r2.IDC = 0
msg += r2
r9 = nistitl.AsciiRecord(9)
r9.IDC = 1
r9 += nistitl.Field(9, 3, "0")
r9 += nistitl.Field(9, 4, "S")
r9 += nistitl.Field(9, 6, "01")
r9 += nistitl.Field(9, 10, "2")
r9 += nistitl.Field(9, 11, "0")
f = nistitl.Field(9, 12)
f.value = [["001", "01000200090", "63", "A"], ["002", "03000100270", "1", "B"]]
r9 += f
msg += r9
r14 = nistitl.AsciiRecord(14)
r14.IDC = 1
for tag, v in [(3, "1"), (4, "STATION"), (5, "20261130"), (6, "2"), (7, "2"), (8, "1"), (9, "500"), (10, "500"), (11, "NONE"), (12, "8"), (13, "1")]:
    r14 += nistitl.Field(14, tag, v)
r14 += nistitl.BinaryField(14, 999, bytes([1, 2, 3, 4]))
msg += r14
sys.stdout.buffer.write(msg.NIST)
"#;

#[test]
fn fairgate_reads_what_nistitl_writes() {
    if !have_nistitl() {
        return;
    }
    let mut child =
        Command::new("python3").args(["-c", MAKE]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let out = child.stdout.take().map(|mut o| {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut o, &mut v).unwrap();
        v
    });
    assert!(child.wait().unwrap().success());
    let file = out.unwrap();
    let t = an2k::parse(&file).unwrap();
    let (m, i) = an2k::to_records(&t).unwrap();
    // No frame from Fairgate: 500 ppi, the smallest frame that holds the minutiae.
    // (1.00 mm, 2.00 mm) → (20, 39) px; (3.00 mm, 1.00 mm) → (59, 20) px; frame 60 × 40.
    assert_eq!((m[0].width, m[0].height, m[0].x_resolution), (60, 40, 197));
    let v = &m[0].views[0];
    assert_eq!(v.position, 1);
    let got: Vec<(u16, u16, u8, MinutiaType)> = v.minutiae.iter().map(|m| (m.x, m.y, m.angle, m.kind)).collect();
    // y from the top: (39 − 39) = 0 and (39 − 20) = 19; angles 90 − 180 → 270° → 192, 270 − 180 → 90° → 64.
    assert_eq!(got, vec![(20, 0, 192, MinutiaType::RidgeEnding), (59, 19, 64, MinutiaType::Bifurcation)]);
    assert_eq!(v.minutiae[0].quality, 100);
    assert_eq!(i.len(), 1);
    let img = &i[0].images[0];
    assert_eq!((img.position, img.width, img.height, img.compression, img.ppi()), (1, 2, 2, Compression::None, 500));
    assert_eq!(img.data, vec![1, 2, 3, 4]);
}

#[test]
fn pythons_xml_parser_reads_the_cbeff_export() {
    use fairgate_core::cbeff::{to_xml, Bir, Level, Modality, FORMAT_FINGER_MINUTIAE, SC37};
    let bdb = fairgate_core::minutiae::encode(&minutiae()).unwrap();
    let birs = vec![Bir {
        format_owner: SC37,
        format_type: FORMAT_FINGER_MINUTIAE,
        created: "2026-11-30T09:00:00Z".parse().unwrap(),
        modality: Modality::Finger,
        finger: Some(2),
        level: Level::Processed,
        quality: Some(70),
        bdb: bdb.clone(),
    }];
    let script = r#"
import sys, base64, hashlib, xml.etree.ElementTree as ET
ns = {"c": "http://standards.iso.org/iso-iec/19785/-3/ed-2/"}
root = ET.fromstring(sys.stdin.buffer.read())
out = []
for bir in root.findall("c:BIR", ns):
    info = bir.find("c:BDBInfo", ns)
    out.append("|".join([
        info.find("c:Format/c:Organization", ns).text, info.find("c:Format/c:Type", ns).text,
        info.find("c:CreationDate", ns).text, info.find("c:Type", ns).text, info.find("c:Subtype", ns).text,
        info.find("c:Quality/c:Score", ns).text,
        hashlib.sha256(base64.b64decode(bir.find("c:BDB", ns).text)).hexdigest()]))
print("\n".join(out), end="")
"#;
    let out = python(script, to_xml(&birs).as_bytes()).expect("python3 runs");
    assert_eq!(out, format!("257|2|2026-11-30T09:00:00Z|Finger|Right IndexFinger|70|{}", sha(&bdb)));
}
