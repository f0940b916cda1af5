//! Logs never carry personal data: capture everything the server logs during a full
//! registration (create, register, cross, read, stay, overstays, stay-facts
//! compaction, look up, programs, designations, compliance, a program's
//! expungement, and refused bad input) and
//! search it for the traveller's names, document number and birth date.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use common::*;
use serde_json::json;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture() -> Buffer {
    static BUF: OnceLock<Buffer> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Buffer::default();
        let writer = buf.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        buf
    })
    .clone()
}

#[tokio::test]
async fn a_full_registration_logs_no_personal_data() {
    let logs = capture();
    let s = start().await;
    let id = s.specimen().await;
    let (st, _) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &registration()).await;
    assert_eq!(st, 201);
    s.post(&s.officer, &format!("/subjects/{id}/crossings"), &entry("2026-06-03T13:00:00Z")).await;
    s.post(&s.officer, &format!("/subjects/{id}/crossings"), &exit("2026-07-03T13:00:00Z")).await;
    let (st, _) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(st, 200);
    let r = s
        .client
        .post(s.url("/subjects/lookup"))
        .bearer_auth(&s.officer)
        .header("Fairgate-Purpose", "border-check")
        .json(&json!({"document_number": "L898902C3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Stay accounting: a stay read, the overstay sweep and the stay-facts compaction
    // the server runs in the background (run here directly, as its task does).
    let (st, _) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}/stay?on=2026-08-01")).await;
    assert_eq!(st, 200);
    let (st, _) = s.read(&s.supervisor, Some("compliance-review"), "/overstays?on=2026-08-01").await;
    assert_eq!(st, 200);
    let registry = s.registry.clone();
    tokio::task::spawn_blocking(move || registry.compact_stay_facts().unwrap()).await.unwrap();
    // Programs: an impact analysis over the registered subjects reads their
    // nationality, sex and birth date; none of it may reach the logs. So does the
    // public report's daily overstay sweep.
    let program = "id = \"log-test\"\ntitle = \"T\"\nlegal_basis = \"Act\"\nstarts = 2026-01-01\nsunset = 2027-01-01\n[selection]\nadmission_class = [\"B-2\"]\n";
    let (st, b) = s.post(&s.admin, "/programs", &json!({"source": program, "population": wt_population()})).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(s.post(&s.admin, "/programs/impact", &json!({"source": program})).await.0, 403);
    let (st, b) = s.post_for(&s.auditor, "oversight-audit", "/programs/impact", &json!({"source": program})).await;
    assert_eq!(st, 200, "{b}");
    let (st, _) = s.post(&s.officer, "/programs/impact", &json!({"source": program})).await;
    assert_eq!(st, 403, "officers may not analyse the registered subjects");
    assert_eq!(s.client.get(s.url("/transparency.json")).send().await.unwrap().status(), 200);
    // A designation: its facts are free text about the person.
    let d = json!({"reason": "referral", "case_number": "CASE-SECRET-77", "facts": "Seen with FORGED-STAMP-XYZ in the passport", "place": "JFK"});
    let (st, _) = s.post(&s.officer, &format!("/subjects/{id}/designations"), &d).await;
    assert_eq!(st, 201);
    let (st, _) = s
        .post(
            &s.supervisor,
            &format!("/subjects/{id}/designations/1/review"),
            &json!({"approve": false, "reason": "REJECT-REASON-QQ"}),
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = s.read(&s.auditor, Some("oversight-audit"), "/designations/stats").await;
    assert_eq!(st, 200);
    // Compliance: obligations, clearance, a change report, a refused notice.
    let (st, _) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}/obligations")).await;
    assert_eq!(st, 200);
    let (st, _) = s.read(&s.adjudicator, Some("benefit-adjudication"), &format!("/subjects/{id}/clearance")).await;
    assert_eq!(st, 200);
    let (st, _) = s
        .post(
            &s.officer,
            &format!("/subjects/{id}/changes"),
            &json!({"change": "address", "changed_on": "2026-07-01",
                    "address": {"street": "12 SECRET ELM STREET", "city": "CHICAGO", "postal_code": "60601"}}),
        )
        .await;
    assert_eq!(st, 201);
    let bad_notice = json!({"obligation": "NOTICE-SECRET-KEY", "channel": "mail", "served_on": "2026-07-01", "proof": "PROOF-SECRET-55"});
    let (st, _) = s.post(&s.officer, &format!("/subjects/{id}/notices"), &bad_notice).await;
    assert_eq!(st, 422);
    // A program's expungement: approval, the notice period, and the erasure after it.
    let e = json!({"authority": "repeal-order", "reason": "EXPUNGE-REASON-42"});
    assert_eq!(s.post(&s.admin, "/programs/log-test/repeal", &json!({"reason": "Ended"})).await.0, 200);
    assert_eq!(s.post(&s.auditor, "/programs/log-test/expunge/approve", &e).await.0, 201);
    let notice = json!({"authority": "repeal-order", "reason": "EXPUNGE-REASON-42", "copy_days": 30});
    assert_eq!(s.post(&s.admin, "/programs/log-test/expunge/notice", &notice).await.0, 201);
    s.clock_offset.store(31 * 86_400, std::sync::atomic::Ordering::SeqCst);
    let (st, b) = s.post(&s.admin, "/programs/log-test/expunge", &json!({})).await;
    assert_eq!((st, b["state"].as_str()), (200, Some("done")), "{b}");
    s.clock_offset.store(0, std::sync::atomic::Ordering::SeqCst);
    // Refused input must not echo personal data into logs either.
    let mut bad = specimen();
    bad["birth_date"] = json!("1974-08-32");
    s.post(&s.officer, "/subjects", &bad).await;
    s.stop().await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("subject created")
            && text.contains("timeline read")
            && text.contains("program drafted")
            && text.contains("subject designated")
            && text.contains("program expunged"),
        "the capture must see the flow:\n{text}"
    );
    assert!(text.contains(&id), "pseudonymous ids are what logs carry");
    for needle in [
        "SECRET ELM",
        "ERIKSSON",
        "Eriksson",
        "ANNA",
        "L898902C3",
        "1974-08-12",
        "1974-08-32",
        "QUEENS",
        "2026-06-03T13",
        "FORGED-STAMP-XYZ",
        "CASE-SECRET-77",
        "REJECT-REASON-QQ",
        "PROOF-SECRET-55",
        "EXPUNGE-REASON-42",
    ] {
        assert!(!text.contains(needle), "log output contains {needle}:\n{text}");
    }
}

/// The officer's desk in the browser: a person recorded from the zone, a
/// registration with an answer, a photograph and fingerprints uploaded, an entry,
/// a designation and a look-up. Forms carry names, answers and facts; none may
/// reach the logs.
#[tokio::test]
async fn the_officer_desk_in_the_browser_logs_no_personal_data() {
    use reqwest::multipart::{Form, Part};
    let logs = capture();
    let s = start().await;
    let cookie = signed_in(&s, "officer").await;
    let (_, html) = page(&s, &cookie, "/desk").await;
    let csrf = form_token(&html);
    let zone = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let post = |path: &str, fields: Vec<(&'static str, String)>| {
        s.client.post(s.url(path)).header("cookie", cookie.clone()).form(&fields).send()
    };
    // A bad zone first: refused, and its names must not be echoed into the logs.
    let r =
        post("/desk/subjects", vec![("csrf", csrf.clone()), ("mrz", zone.replace("C36UTO", "C33UTO"))]).await.unwrap();
    assert_eq!(r.status(), 422);
    let r = post("/desk/subjects", vec![("csrf", csrf.clone()), ("mrz", zone.into())]).await.unwrap();
    assert_eq!(r.status(), 303);
    let id = r.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/desk/subjects/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let photo = fairgate_biometrics::synthetic::face_record(3, (2026, 11, 30)).images.remove(0).data;
    let prints = fairgate_core::minutiae::encode(&fairgate_biometrics::synthetic::minutiae(3, &[2, 7])).unwrap();
    let form = Form::new()
        .text("csrf", csrf.clone())
        .text("kind", "port-of-entry")
        .text("place", "JFK")
        .text("voluntary", "true")
        .text("question", "Where will you stay?")
        .text("answer", "DESK-ANSWER-SECRET")
        .text("notes", "DESK-NOTES-SECRET")
        .part("photo", Part::bytes(photo).file_name("p.png"))
        .part("fingerprints", Part::bytes(prints).file_name("f.fmr"));
    let r = s
        .client
        .post(s.url(&format!("/desk/subjects/{id}/register")))
        .header("cookie", cookie.clone())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let form = Form::new()
        .text("csrf", csrf.clone())
        .text("direction", "entry")
        .text("port", "JFK")
        .text("at", "2026-06-03T13:00")
        .text("admission_class", "B-2");
    let r = s
        .client
        .post(s.url(&format!("/desk/subjects/{id}/crossing")))
        .header("cookie", cookie.clone())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = post(
        &format!("/desk/subjects/{id}/designate"),
        vec![
            ("csrf", csrf.clone()),
            ("reason", "document-anomaly".into()),
            ("facts", "DESK-FACTS-SECRET about the laminate".into()),
            ("case_number", "".into()),
            ("place", "JFK".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = post(
        "/desk/find",
        vec![("csrf", csrf.clone()), ("purpose", "border-check".into()), ("document_number", "L898902C3".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let (st, _) = page(&s, &cookie, &format!("/desk/subjects/{id}?purpose=border-check")).await;
    assert_eq!(st, 200);
    s.stop().await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("subject created (web)")
            && text.contains("registration recorded (web)")
            && text.contains("crossing recorded (web)")
            && text.contains("designated (web)"),
        "the capture must see the flow:\n{text}"
    );
    assert!(text.contains(&id), "pseudonymous ids are what logs carry");
    for needle in [
        "ERIKSSON",
        "ANNA",
        "L898902C3",
        "1974-08-12",
        "DESK-ANSWER-SECRET",
        "DESK-NOTES-SECRET",
        "DESK-FACTS-SECRET",
        "2026-06-03T13",
    ] {
        assert!(!text.contains(needle), "log output contains {needle}:\n{text}");
    }
}
