//! Captures on a registration through HTTP: a program's `[capture]` section is
//! enforced (the missing fingers named), a blank portrait is refused with a reason an
//! officer can act on, the records come back as CBEFF for a purpose (a logged read),
//! they never reach the public log, and erasure removes them.

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{json, Value};

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn face(seed: u64) -> String {
    let rec = fairgate_biometrics::synthetic::face_record(seed, (2026, 11, 30));
    b64(&fairgate_core::face::encode(&rec).unwrap())
}

fn fingers(seed: u64, positions: &[u8]) -> String {
    b64(&fairgate_core::minutiae::encode(&fairgate_biometrics::synthetic::minutiae(seed, positions)).unwrap())
}

/// A program in force requiring a photograph and four fingerprints from WT visitors
/// of 14 and over; returns the id of a WT visitor it requires to register.
async fn program_and_visitor(s: &Server) -> (String, String) {
    let source = format!(
        "id = \"visitor-capture\"\ntitle = \"Visitor registration with biometrics\"\nlegal_basis = \"Test Act s. 4\"\nstarts = {}\nsunset = {}\n\n[selection]\nadmission_class = [\"WT\"]\n\n[capture]\nface = true\nfingerprints = 4\nfingerprints_min_age = 14\n\n[[obligations]]\nkind = \"register\"\nwithin_days = 5\n",
        day(-60),
        day(300)
    );
    // Drafted and activated a month ago, so that it is in force on the days used below.
    s.clock_offset.store(-30 * 86_400, std::sync::atomic::Ordering::SeqCst);
    let (st, b) = s.post(&s.admin, "/programs", &json!({"source": source, "population": wt_population()})).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(s.post(&s.admin, "/programs/visitor-capture/activate", &json!({})).await.0, 200);
    s.clock_offset.store(0, std::sync::atomic::Ordering::SeqCst);
    let id = s.specimen().await;
    let at = format!("{}T10:00:00Z", day(-1));
    let mut e = entry(&at);
    e["admission_class"] = json!("WT");
    e["admitted_until"] = json!(day(60).to_string());
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &e).await.0, 201);
    (id, format!("{}T11:00:00Z", day(-1)))
}

fn registration_at(at: &str, captures: Value) -> Value {
    json!({"kind": "port-of-entry", "place": "JFK", "at": at, "captures": captures})
}

#[tokio::test]
async fn a_registration_without_the_required_captures_is_refused_naming_what_is_missing() {
    let s = start().await;
    let (id, at) = program_and_visitor(&s).await;
    let path = format!("/subjects/{id}/registrations");
    let (st, b) = s.post(&s.officer, &path, &registration_at(&at, json!({}))).await;
    assert_eq!(st, 422, "{b}");
    let errors: Vec<(String, String)> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().into(), e["message"].as_str().unwrap().into()))
        .collect();
    assert_eq!(errors[0].0, "captures.face");
    assert_eq!(errors[1].0, "captures.fingerprints");
    assert!(
        errors[1].1.contains("missing: right index (2), left index (7), right middle (3), left middle (8)"),
        "{errors:?}"
    );

    // Two fingers taken, the other two excused: accepted, and the reasons are kept.
    let captures = json!({"face": face(1), "fingerprints": [fingers(1, &[2, 7])],
                          "not_captured": [{"what": "right-middle", "reason": "temporary-injury"},
                                           {"what": "left-middle", "reason": "equipment-failure"}]});
    let (st, b) = s.post(&s.officer, &path, &registration_at(&at, captures)).await;
    assert_eq!(st, 201, "{b}");
    let (st, t) = s.read(&s.officer, Some("registration"), &format!("/subjects/{id}")).await;
    assert_eq!(st, 200);
    let c = &t["registrations"][0]["captures"];
    assert_eq!((c["face"].as_bool(), c["fingers"].clone()), (Some(true), json!([2, 7])), "{t}");
    assert_eq!(
        c["not_captured"],
        json!([{"what": "right-middle", "reason": "temporary-injury"}, {"what": "left-middle", "reason": "equipment-failure"}])
    );
    assert_eq!(c["sealed"].as_str().map(str::len), Some(64), "the ledger commits to the sealed records: {c}");
    s.stop().await;
}

#[tokio::test]
async fn a_blank_or_small_portrait_is_refused_with_a_reason_an_officer_can_act_on() {
    let s = start().await;
    let (id, at) = program_and_visitor(&s).await;
    let path = format!("/subjects/{id}/registrations");
    let blank = fairgate_biometrics::synthetic::encode_png_gray(480, 640, &vec![128u8; 480 * 640]);
    let rec = fairgate_core::face::FaceRecord {
        temporal_semantics: 0,
        images: vec![fairgate_core::face::FaceImage::frontal(fairgate_core::face::ImageDataType::Png, 480, 640, blank)],
    };
    let captures =
        json!({"face": b64(&fairgate_core::face::encode(&rec).unwrap()), "fingerprints": [fingers(2, &[2, 7, 3, 8])]});
    let (st, b) = s.post(&s.officer, &path, &registration_at(&at, captures)).await;
    assert_eq!(st, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "captures.face");
    let m = b["errors"][0]["message"].as_str().unwrap();
    assert!(m.contains("blank or nearly uniform") && m.ends_with("capture again"), "{m}");
    // A record that is not a face record at all names the byte.
    let captures = json!({"face": b64(b"FMR\0 20\0junk"), "fingerprints": [fingers(2, &[2, 7, 3, 8])]});
    let (st, b) = s.post(&s.officer, &path, &registration_at(&at, captures)).await;
    assert_eq!(st, 422);
    assert!(b["errors"][0]["message"].as_str().unwrap().starts_with("byte 0, format identifier"), "{b}");
    // Nothing was recorded by the refusals.
    assert!(s.store.biometrics(1).unwrap().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn the_records_come_back_as_cbeff_for_a_purpose_never_reach_the_public_log_and_go_with_erasure() {
    let s = start().await;
    let (a, at) = program_and_visitor(&s).await;
    // Another visitor the program requires, whose captures all failed.
    let (st, b) = s
        .post(
            &s.officer,
            "/subjects",
            &json!({"document": {"kind": "P", "issuing_state": "UTO", "number": "X1234567", "expires_on": "2031-04-15"},
                    "surname": "NILSSON", "given_names": "BO", "birth_date": "1974-08-12", "sex": "M", "nationality": "UTO"}),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    let b_id = b["id"].as_str().unwrap().to_string();
    let mut e = entry(&format!("{}T10:00:00Z", day(-1)));
    e["admission_class"] = json!("WT");
    e["admitted_until"] = json!(day(60).to_string());
    assert_eq!(s.post(&s.officer, &format!("/subjects/{b_id}/crossings"), &e).await.0, 201);

    let full = json!({"face": face(3), "fingerprints": [fingers(3, &[2, 7]), fingers(4, &[3, 8])]});
    let none = json!({"not_captured": [{"what": "face", "reason": "equipment-failure"},
                                       {"what": "fingerprints", "reason": "equipment-failure"}]});
    let mut traces = Vec::new();
    for (id, captures) in [(&a, full), (&b_id, none)] {
        let before = s.tree_size().await;
        let (st, r) =
            s.post(&s.officer, &format!("/subjects/{id}/registrations"), &registration_at(&at, captures)).await;
        assert_eq!(st, 201, "{r}");
        traces.push(public_leaves(&s, before, s.tree_size().await - before).await);
    }
    assert_eq!(
        traces[0], traces[1],
        "a face and four fingerprints leave the public log as a registration without them"
    );

    // CBEFF, for a purpose, logged.
    let url = s.url(&format!("/subjects/{a}/biometrics"));
    let r = s.client.get(&url).bearer_auth(&s.officer).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403, "no purpose, no read");
    let before = s.tree_size().await;
    let r = s.client.get(&url).bearer_auth(&s.officer).header("Fairgate-Purpose", "border-check").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/xml; charset=utf-8");
    let leaf: u64 = r.headers()["fairgate-access-leaf"].to_str().unwrap().parse().unwrap();
    assert_eq!(leaf, before, "the read was logged before it was answered");
    let xml = r.text().await.unwrap();
    assert_eq!(xml.matches("<BDBInfo>").count(), 5, "{xml}");
    assert!(xml.contains("<Format><Organization>257</Organization><Type>8</Type></Format>"));
    assert!(xml.contains("<Subtype>Left MiddleFinger</Subtype>"));
    let face_rec =
        fairgate_core::face::encode(&fairgate_biometrics::synthetic::face_record(3, (2026, 11, 30))).unwrap();
    assert!(xml.contains(&format!("<BDB>{}</BDB>", b64(&face_rec))), "the face record comes back byte for byte");
    // The same records as an ANSI/NIST-ITL transaction: Type-9 minutiae that read back
    // to the fingers sent, and the face as Type-10.
    let r = s
        .client
        .get(format!("{url}?format=an2k"))
        .bearer_auth(&s.officer)
        .header("Fairgate-Purpose", "border-check")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let file = r.bytes().await.unwrap();
    let t = fairgate_core::an2k::parse(&file).unwrap();
    let kinds: Vec<u8> = t.records.iter().map(|r| r.kind()).collect();
    assert_eq!(kinds, vec![2, 9, 9, 9, 9, 10]);
    let (minutiae, _) = fairgate_core::an2k::to_records(&t).unwrap();
    let sent = fairgate_biometrics::synthetic::minutiae(3, &[2, 7]);
    let back = minutiae.iter().find(|m| m.views[0].position == 7).unwrap();
    let original = sent.views.iter().find(|v| v.position == 7).unwrap();
    let xy = |v: &fairgate_core::minutiae::FingerView| {
        v.minutiae.iter().map(|m| (m.x, m.y, m.angle, m.kind)).collect::<Vec<_>>()
    };
    assert_eq!(xy(&back.views[0]), xy(original), "positions, angles and types come back exactly");
    if let Ok(dir) = std::env::var("FAIRGATE_WRITE_AN2K") {
        std::fs::write(format!("{dir}/export.an2"), &file).unwrap();
    }
    // An auditor has no purpose that reads biometrics.
    let r =
        s.client.get(&url).bearer_auth(&s.auditor).header("Fairgate-Purpose", "oversight-audit").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);

    // Erasure removes the sealed records with the person.
    let no = s.registry.subject_no(a.parse().unwrap()).unwrap();
    assert_eq!(s.store.biometrics(no).unwrap().len(), 1);
    let body = json!({"authority": "court-order", "reason": "Ordered"});
    assert_eq!(s.post(&s.auditor, &format!("/subjects/{a}/expunge/approve"), &body).await.0, 201);
    assert_eq!(s.post(&s.admin, &format!("/subjects/{a}/expunge"), &body).await.0, 201);
    assert!(s.store.biometrics(no).unwrap().is_empty());
    let r = s.client.get(&url).bearer_auth(&s.officer).header("Fairgate-Purpose", "border-check").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 410);
    s.stop().await;
}

#[tokio::test]
async fn an_ansi_nist_file_from_a_capture_station_gives_the_fingerprints() {
    let s = start().await;
    let (id, at) = program_and_visitor(&s).await;
    let env = fairgate_core::an2k::Envelope {
        tot: "CAR".into(),
        date: "20261130".into(),
        dai: "FAIRGATE".into(),
        ori: "STATION7".into(),
        tcn: "1".into(),
        type4: true,
    };
    let prints = fairgate_biometrics::synthetic::minutiae(5, &[2, 7, 3]);
    let image = fairgate_core::finger_image::FingerImageRecord {
        certified: false,
        images: vec![fairgate_core::finger_image::FingerImage::plain(8, 2, 2, vec![9, 8, 7, 6])],
    };
    let file = fairgate_core::an2k::from_records(&env, None, &[prints], &[image]).unwrap();
    let captures = json!({"face": face(5), "an2k": b64(&file)});
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &registration_at(&at, captures)).await;
    assert_eq!(st, 201, "{b}");
    let (_, t) = s.read(&s.officer, Some("registration"), &format!("/subjects/{id}")).await;
    assert_eq!(
        t["registrations"][0]["captures"]["fingers"],
        json!([2, 3, 7, 8]),
        "minutiae for three, an image for the fourth"
    );
    // An uncompressed finger image is large: a registration takes up to 16 MiB.
    let big = fairgate_core::finger_image::FingerImageRecord {
        certified: false,
        images: vec![fairgate_core::finger_image::FingerImage::plain(4, 1000, 1000, vec![128; 1_000_000])],
    };
    let big = b64(&fairgate_core::finger_image::encode(&big).unwrap());
    assert!(big.len() > 1024 * 1024);
    let captures = json!({"face": face(6), "fingerprints": [fingers(6, &[2, 7, 3, 8])], "finger_images": [big]});
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &registration_at(&at, captures)).await;
    assert_eq!(st, 201, "{b}");
    let huge = "A".repeat(17 * 1024 * 1024);
    let captures = json!({"face": huge});
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &registration_at(&at, captures)).await;
    assert_eq!(st, 413, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("send images compressed"), "{b}");
    // A damaged file names the byte.
    let mut bad = file.clone();
    bad[29] = b'9';
    let captures = json!({"face": face(5), "an2k": b64(&bad)});
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &registration_at(&at, captures)).await;
    assert_eq!(st, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "captures.an2k");
    assert!(b["errors"][0]["message"].as_str().unwrap().starts_with("byte 21, 1.003 CNT"), "{b}");
    s.stop().await;
}

#[tokio::test]
async fn fingerprints_taken_at_a_crossing_are_compared_and_a_no_match_refers_without_blocking() {
    let s = start().await;
    let (a, at) = program_and_visitor(&s).await;
    let full = json!({"face": face(3), "fingerprints": [fingers(3, &[2, 7]), fingers(4, &[3, 8])]});
    let (st, r) = s.post(&s.officer, &format!("/subjects/{a}/registrations"), &registration_at(&at, full)).await;
    assert_eq!(st, 201, "{r}");
    // The same fingers at the exit: a match, nobody referred.
    // A crossing without a probe appends its leaves; the comparison adds two more,
    // the logged read of the person's templates and the comparison's record.
    let size = s.tree_size().await;
    let mut plain = exit(&format!("{}T11:30:00Z", day(-1)));
    assert_eq!(s.post(&s.officer, &format!("/subjects/{a}/crossings"), &plain).await.0, 201);
    let crossing_leaves = s.tree_size().await - size;
    plain = entry(&format!("{}T11:45:00Z", day(-1)));
    plain["admission_class"] = json!("WT");
    plain["admitted_until"] = json!(day(60).to_string());
    assert_eq!(s.post(&s.officer, &format!("/subjects/{a}/crossings"), &plain).await.0, 201);
    let mut out = exit(&format!("{}T12:00:00Z", day(-1)));
    out["probe"] = json!({"fingerprints": [fingers(3, &[2, 7])]});
    let size = s.tree_size().await;
    let (st, b) = s.post(&s.officer, &format!("/subjects/{a}/crossings"), &out).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(s.tree_size().await - size, crossing_leaves + 2, "the comparison is a logged read, and recorded");
    let c = &b["comparison"];
    assert_eq!((c["decision"].as_str(), c["referral"].as_str()), (Some("match"), Some("none")), "{b}");
    assert!(c["score"].as_f64().unwrap() >= c["threshold"].as_f64().unwrap());
    // Someone else's fingers at the next entry: recorded all the same, and referred.
    let mut back = entry(&format!("{}T13:00:00Z", day(-1)));
    back["admission_class"] = json!("WT");
    back["admitted_until"] = json!(day(60).to_string());
    back["probe"] = json!({"fingerprints": [fingers(99, &[2, 7])]});
    let size = s.tree_size().await;
    let (st, b) = s.post(&s.officer, &format!("/subjects/{a}/crossings"), &back).await;
    assert_eq!(st, 201, "a no-match never blocks the crossing: {b}");
    assert_eq!(
        s.tree_size().await - size,
        crossing_leaves + 2,
        "a no-match leaves the same public leaves as a match: the log does not tell who was referred"
    );
    let c = &b["comparison"];
    assert_eq!(
        (c["decision"].as_str(), c["referral"].as_str()),
        (Some("no-match"), Some("secondary-inspection")),
        "{b}"
    );
    let (_, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{a}")).await;
    assert_eq!(t["crossings"].as_array().unwrap().len(), 5, "{t}");
    assert_eq!(t["referrals"].as_array().unwrap().len(), 1, "{t}");
    assert_eq!(t["referrals"][0]["place"], "JFK");
    // Nobody on record to compare with: not checked, never a no-match.
    let other = s
        .post(
            &s.officer,
            "/subjects",
            &json!({"document": {"kind": "P", "issuing_state": "UTO", "number": "Z7654321", "expires_on": "2031-04-15"},
                    "surname": "LUND", "given_names": "EVA", "birth_date": "1980-02-02", "sex": "F", "nationality": "UTO"}),
        )
        .await
        .1["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut first = entry(&format!("{}T09:00:00Z", day(-1)));
    first["admitted_until"] = json!(day(60).to_string());
    first["probe"] = json!({"fingerprints": [fingers(3, &[2, 7])]});
    let (st, b) = s.post(&s.officer, &format!("/subjects/{other}/crossings"), &first).await;
    assert_eq!((st, b["comparison"]["decision"].as_str()), (201, Some("not-checked")), "{b}");
    assert_eq!(b["comparison"]["referral"], "none");
    // A probe that is not a record is refused, naming it, before anything is recorded.
    let size = s.tree_size().await;
    let mut bad = exit(&format!("{}T14:00:00Z", day(-1)));
    bad["probe"] = json!({"fingerprints": ["bm90IGEgcmVjb3Jk"]});
    let (st, b) = s.post(&s.officer, &format!("/subjects/{a}/crossings"), &bad).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("probe.fingerprints[0]")), "{b}");
    assert_eq!(s.tree_size().await, size);
    s.stop().await;
}

fn person(number: &str, surname: &str) -> Value {
    json!({"document": {"kind": "P", "issuing_state": "UTO", "number": number, "expires_on": "2031-04-15"},
           "surname": surname, "given_names": "TEST", "birth_date": "1980-02-02", "sex": "F", "nationality": "UTO"})
}

fn voluntary(captures: Value) -> Value {
    json!({"kind": "port-of-entry", "place": "JFK", "voluntary": true, "captures": captures})
}

/// Public leaves appended since `from`: (kind, length) each.
async fn leaves_since(s: &Server, from: u64) -> Vec<(u16, usize)> {
    let to = s.tree_size().await;
    public_leaves(s, from, to - from).await
}

#[tokio::test]
async fn an_enrolment_is_searched_against_everyone_and_a_supervisor_decides_with_a_reason() {
    let s = start().await;
    let mut ids = Vec::new();
    for (n, name) in [("A1000001", "FIRST"), ("B2000002", "SECOND"), ("C3000003", "THIRD"), ("D4000004", "FOURTH")] {
        let (st, b) = s.post(&s.officer, "/subjects", &person(n, name)).await;
        assert_eq!(st, 201, "{b}");
        ids.push(b["id"].as_str().unwrap().to_string());
    }
    let (a, b, c, d) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    // A enrols: nobody else on record yet.
    let (st, r) = s
        .post(
            &s.officer,
            &format!("/subjects/{a}/registrations"),
            &voluntary(json!({"fingerprints": [fingers(41, &[2, 7, 3, 8])]})),
        )
        .await;
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["identification"]["candidates"], json!([]), "{r}");
    assert_eq!(r["identification"]["referral"], "none");
    // B enrols under another passport with A's fingers: A is a candidate, for a supervisor.
    let from_b = s.tree_size().await;
    let (st, r) = s
        .post(
            &s.officer,
            &format!("/subjects/{b}/registrations"),
            &voluntary(json!({"fingerprints": [fingers(41, &[2, 7])]})),
        )
        .await;
    assert_eq!(st, 201, "the registration stands: {r}");
    let found = &r["identification"];
    assert_eq!(found["searched"], 1, "{r}");
    assert_eq!(found["referral"], "supervisor-review");
    assert_eq!(found["candidates"][0]["subject"].as_str(), Some(a.as_str()), "{r}");
    assert_eq!(found["candidates"][0]["modality"], "finger");
    assert!(found["candidates"][0]["score"].as_f64().unwrap() >= found["candidates"][0]["threshold"].as_f64().unwrap());
    let b_leaves = leaves_since(&s, from_b).await;
    // C enrols with other fingers: no candidate, and the public log shows the same.
    let from_c = s.tree_size().await;
    let (st, r) = s
        .post(
            &s.officer,
            &format!("/subjects/{c}/registrations"),
            &voluntary(json!({"fingerprints": [fingers(77, &[2, 7])]})),
        )
        .await;
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["identification"]["candidates"], json!([]), "{r}");
    assert_eq!(r["identification"]["searched"], 2);
    assert_eq!(leaves_since(&s, from_c).await, b_leaves, "a hit and a miss leave the same public leaves");

    // The supervisors' queue: a read with a purpose, logged for each person listed.
    let (st, _) = s.read(&s.supervisor, None, "/identification/reviews").await;
    assert_eq!(st, 403, "no purpose, no read");
    let before = s.tree_size().await;
    let (st, q) = s.read(&s.supervisor, Some("registration"), "/identification/reviews").await;
    assert_eq!(st, 200, "{q}");
    let q = q.as_array().unwrap().clone();
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0]["subject"].as_str(), Some(b.as_str()));
    assert_eq!(q[0]["candidates"][0]["subject"].as_str(), Some(a.as_str()));
    assert_eq!(s.tree_size().await - before, 2, "one access each for B and A");

    // A decision needs a reason; an officer cannot decide.
    let path = format!("/identification/reviews/{b}");
    let (st, e) =
        s.post(&s.supervisor, &path, &json!({"candidate": a, "decision": "same-person", "reason": " "})).await;
    assert_eq!((st, e["errors"][0]["field"].as_str()), (422, Some("reason")), "{e}");
    let (st, _) = s.post(&s.officer, &path, &json!({"candidate": a, "decision": "same-person", "reason": "x"})).await;
    assert_eq!(st, 403);
    let (st, e) =
        s.post(&s.supervisor, &path, &json!({"candidate": c, "decision": "same-person", "reason": "x"})).await;
    assert_eq!((st, e["errors"][0]["field"].as_str()), (422, Some("candidate")), "{e}");
    let (st, e) = s.post(&s.supervisor, &path, &json!({"candidate": a, "decision": "perhaps", "reason": "x"})).await;
    assert_eq!((st, e["errors"][0]["field"].as_str()), (422, Some("decision")), "{e}");
    let reason = "Compared the portraits and the documents: the same woman, who renewed her passport";
    let (st, e) =
        s.post(&s.supervisor, &path, &json!({"candidate": a, "decision": "same-person", "reason": reason})).await;
    assert_eq!(st, 201, "{e}");
    let (_, q) = s.read(&s.supervisor, Some("registration"), "/identification/reviews").await;
    assert_eq!(q, json!([]), "decided: off the queue");
    // Both records say so, with the reason; nothing was merged away.
    for (me, them) in [(b, a), (a, b)] {
        let (_, t) = s.read(&s.officer, Some("registration"), &format!("/subjects/{me}")).await;
        assert_eq!(t["same_person_as"], json!([them]), "{t}");
        assert!(t.to_string().contains(reason), "{t}");
    }
    // Re-registering B does not raise A again.
    let (_, r) = s
        .post(
            &s.officer,
            &format!("/subjects/{b}/registrations"),
            &voluntary(json!({"fingerprints": [fingers(41, &[2, 7])]})),
        )
        .await;
    assert_eq!(r["identification"]["candidates"], json!([]), "{r}");

    // A is expunged: out of the gallery in the same commit. D enrols with all four of
    // A's fingers: B (who gave two of them) is found, A is not.
    let body = json!({"authority": "court-order", "reason": "Ordered"});
    assert_eq!(s.post(&s.auditor, &format!("/subjects/{a}/expunge/approve"), &body).await.0, 201);
    let before = s.registry.gallery_stats().unwrap().people;
    assert_eq!(s.post(&s.admin, &format!("/subjects/{a}/expunge"), &body).await.0, 201);
    assert_eq!(s.registry.gallery_stats().unwrap().people, before - 1, "out of the gallery with the expungement");
    let (st, r) = s
        .post(
            &s.officer,
            &format!("/subjects/{d}/registrations"),
            &voluntary(json!({"fingerprints": [fingers(41, &[2, 7, 3, 8])]})),
        )
        .await;
    assert_eq!(st, 201, "{r}");
    let names: Vec<&str> =
        r["identification"]["candidates"].as_array().unwrap().iter().filter_map(|c| c["subject"].as_str()).collect();
    assert_eq!(names, vec![b.as_str()], "{r}");
    s.stop().await;
}

#[tokio::test]
async fn the_gallery_is_rebuilt_from_the_sealed_records_after_a_restart() {
    let s = start().await;
    let (st, b) = s.post(&s.officer, "/subjects", &person("A1000001", "FIRST")).await;
    assert_eq!(st, 201, "{b}");
    let a = b["id"].as_str().unwrap().to_string();
    let (st, r) = s
        .post(
            &s.officer,
            &format!("/subjects/{a}/registrations"),
            &voluntary(json!({"fingerprints": [fingers(41, &[2, 7])]})),
        )
        .await;
    assert_eq!(st, 201, "{r}");
    // What a restart does: the gallery is dropped and built again from the store.
    let stats = s.registry.build_gallery(&mut |_, _| {}).unwrap();
    assert_eq!((stats.people, stats.fingers, stats.faces), (1, 2, 0));
    let (_, b) = s.post(&s.officer, "/subjects", &person("B2000002", "SECOND")).await;
    let b = b["id"].as_str().unwrap().to_string();
    let (_, r) = s
        .post(
            &s.officer,
            &format!("/subjects/{b}/registrations"),
            &voluntary(json!({"fingerprints": [fingers(41, &[2])]})),
        )
        .await;
    assert_eq!(r["identification"]["candidates"][0]["subject"].as_str(), Some(a.as_str()), "{r}");
    s.stop().await;
}

#[tokio::test]
async fn a_re_registration_compares_its_probe_with_the_earlier_records_only() {
    let s = start().await;
    let (_, b) = s.post(&s.officer, "/subjects", &person("A1000001", "FIRST")).await;
    let a = b["id"].as_str().unwrap().to_string();
    let path = format!("/subjects/{a}/registrations");
    // The first registration has nothing earlier to compare with: not checked, even
    // though its own captures are the probe's fingers.
    let mut first = voluntary(json!({"fingerprints": [fingers(5, &[2, 7])]}));
    first["probe"] = json!({"fingerprints": [fingers(5, &[2, 7])]});
    let (st, r) = s.post(&s.officer, &path, &first).await;
    assert_eq!((st, r["comparison"]["decision"].as_str()), (201, Some("not-checked")), "{r}");
    // At a re-registration, the same fingers match.
    let mut again = voluntary(json!({"fingerprints": [fingers(5, &[2, 7])]}));
    again["kind"] = json!("re-registration");
    again["place"] = json!("NYC-FO");
    again["probe"] = json!({"fingerprints": [fingers(5, &[2])]});
    let (st, r) = s.post(&s.officer, &path, &again).await;
    assert_eq!((st, r["comparison"]["decision"].as_str()), (201, Some("match")), "{r}");
    // Someone else's: recorded all the same, and referred to secondary inspection.
    again["probe"] = json!({"fingerprints": [fingers(66, &[2])]});
    let (st, r) = s.post(&s.officer, &path, &again).await;
    assert_eq!(st, 201, "a no-match never blocks the registration: {r}");
    assert_eq!(r["comparison"]["referral"], "secondary-inspection", "{r}");
    let (_, t) = s.read(&s.officer, Some("registration"), &format!("/subjects/{a}")).await;
    assert_eq!(t["registrations"].as_array().unwrap().len(), 3);
    assert_eq!(t["referrals"][0]["place"], "NYC-FO", "{t}");
    s.stop().await;
}
