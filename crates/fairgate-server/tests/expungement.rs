//! Expungement through HTTP: an auditor approves, an administrator executes, the
//! subject is gone (410), the certificate is public and verifies against the log,
//! and the report counts it. A program's records go after a notice-and-copy period
//! the person is told of in the portal.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn an_approved_expungement_makes_the_subject_gone_and_is_certified() {
    let s = start().await;
    let id = s.specimen().await;
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/registrations"), &registration()).await.0, 201);
    let body = json!({"authority": "court-order", "reason": "Records of a repealed program"});

    let (st, b) = s.post(&s.admin, &format!("/subjects/{id}/expunge"), &body).await;
    assert_eq!(st, 403, "no approval yet: {b}");
    assert!(b["detail"].as_str().unwrap().contains("auditor must approve"), "{b}");
    assert_eq!(s.post(&s.admin, &format!("/subjects/{id}/expunge/approve"), &body).await.0, 403);
    let (st, b) =
        s.post(&s.auditor, &format!("/subjects/{id}/expunge/approve"), &json!({"authority": "", "reason": "x"})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("authority")), "{b}");
    assert_eq!(s.post(&s.auditor, &format!("/subjects/{id}/expunge/approve"), &body).await.0, 201);
    let (st, cert) = s.post(&s.admin, &format!("/subjects/{id}/expunge"), &body).await;
    assert_eq!(st, 201, "{cert}");
    assert_eq!(cert["scope"], json!({"kind": "subject", "subject": id}));
    assert_eq!(cert["authority"], "Order of a court (Test Court Rules r. 1)", "the list entry, not the request's text");
    assert!(cert.get("reason").is_none(), "the reason stays sealed");

    // Gone: every read answers 410, explained.
    let (st, b) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(st, 410, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("erased"));
    assert_eq!(s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}/stay")).await.0, 410);
    assert_eq!(s.post(&s.admin, &format!("/subjects/{id}/expunge"), &body).await.0, 410);

    // Public: the certificate is listed, and it verifies against this log.
    let list: Vec<Value> = s.client.get(s.url("/expungements")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list, vec![cert.clone()]);
    let parsed: fairgate_core::expungement::Certificate = serde_json::from_value(cert).unwrap();
    s.registry.verify_certificate(&parsed).unwrap();
    let r: Value = s.client.get(s.url("/transparency.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["expungements"]["cells"][0]["dims"], json!(["subject"]));
    s.stop().await;
}

#[tokio::test]
async fn a_program_is_expunged_after_its_notice_period_and_the_person_is_told_first() {
    use std::sync::atomic::Ordering;
    let s = start().await;
    let source = format!(
        "id = \"visitor-rereg\"\ntitle = \"Visitor re-registration\"\nlegal_basis = \"Test Act s. 3\"\nstarts = {}\nsunset = {}\n\n[selection]\nadmission_class = [\"WT\"]\n\n[[obligations]]\nkind = \"register\"\nwithin_days = 5\n",
        day(-90),
        day(300)
    );
    s.clock_offset.store(-60 * 86_400, Ordering::SeqCst);
    assert_eq!(s.post(&s.admin, "/programs", &json!({"source": source, "population": wt_population()})).await.0, 201);
    assert_eq!(s.post(&s.admin, "/programs/visitor-rereg/activate", &json!({})).await.0, 200);
    s.clock_offset.store(0, Ordering::SeqCst);

    // A visitor the program required to register; the registration is the program's record.
    let id = s.specimen().await;
    let at = format!("{}T14:00:00Z", day(-2));
    let mut e = entry(&at);
    e["admission_class"] = json!("WT");
    e["admitted_until"] = json!(day(40).to_string());
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &e).await.0, 201);
    let mut r = registration();
    r["at"] = json!(at);
    let (st, r) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &r).await;
    assert_eq!(st, 201, "{r}");
    let number = r["registration_number"].as_str().unwrap().to_string();
    let (st, _) = activate(&s, &number, r["access_code"].as_str().unwrap(), "a long passphrase of mine").await;
    assert_eq!(st, 200);
    let login = json!({"registration_number": number, "passphrase": "a long passphrase of mine"});

    let input = json!({"authority": "repeal-order", "reason": "The program ended"});
    assert_eq!(s.post(&s.auditor, "/programs/visitor-rereg/expunge/approve", &input).await.0, 409, "still in force");
    assert_eq!(s.post(&s.admin, "/programs/visitor-rereg/repeal", &json!({"reason": "Ended"})).await.0, 200);
    assert_eq!(s.post(&s.admin, "/programs/visitor-rereg/expunge/approve", &input).await.0, 403, "auditors approve");
    assert_eq!(s.post(&s.auditor, "/programs/visitor-rereg/expunge/approve", &input).await.0, 201);
    let (st, b) = s
        .post(
            &s.admin,
            "/programs/visitor-rereg/expunge/notice",
            &json!({"authority": "repeal-order", "reason": "The program ended", "copy_days": 5}),
        )
        .await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("copy_days")), "{b}");
    let huge = json!({"authority": "repeal-order", "reason": "The program ended", "copy_days": 1_000_000_000_000_i64});
    let (st, b) = s.post(&s.admin, "/programs/visitor-rereg/expunge/notice", &huge).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("copy_days")), "no panic on a huge period: {b}");
    let (st, b) = s.post(&s.admin, "/programs/visitor-rereg/expunge/notice", &input).await;
    assert_eq!((st, b["state"].as_str(), b["subjects"].as_u64()), (201, Some("noticed"), Some(1)), "{b}");
    let erase_on = day(90).to_string();
    assert_eq!(b["erase_on"], erase_on);

    // The person is told, in the portal and in their export, and can still download everything.
    let resp = s.client.post(s.url("/portal/login")).json(&login).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let token = resp.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let get = |path: &str| s.client.get(s.url(path)).bearer_auth(&token).send();
    let pending: serde_json::Value = get("/portal/erasures").await.unwrap().json().await.unwrap();
    assert_eq!(pending, json!([{"program": "visitor-rereg", "erase_on": erase_on}]));
    let export: serde_json::Value = get("/portal/export").await.unwrap().json().await.unwrap();
    assert_eq!(export["pending_erasures"][0]["program"], "visitor-rereg");
    assert_eq!(export["records"]["registrations"][0]["program"], "visitor-rereg");

    // Nothing is erased before the last day.
    let (st, b) = s.post(&s.admin, "/programs/visitor-rereg/expunge", &json!({})).await;
    assert_eq!((st, b["state"].as_str()), (200, Some("noticed")), "{b}");
    assert_eq!(s.post(&s.officer, "/programs/visitor-rereg/expunge", &json!({})).await.0, 403);

    // After it, the program's record is gone and the rest of the person's stays.
    s.clock_offset.store(91 * 86_400, Ordering::SeqCst);
    let (st, b) = s.post(&s.admin, "/programs/visitor-rereg/expunge", &json!({})).await;
    assert_eq!((st, b["state"].as_str(), b["partly"].as_u64()), (200, Some("done"), Some(1)), "{b}");
    assert_eq!(b["certificate"]["scope"], json!({"kind": "program", "program": "visitor-rereg"}));
    let (_, list) = s.read(&s.auditor, None, "/expungements").await;
    assert_eq!(list[0]["leaf_index"], b["certificate"]["leaf_index"]);
    let (st, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["registrations"], json!([]), "{t}");
    assert_eq!(t["crossings"].as_array().unwrap().len(), 1);
    // The program's registration took its portal code with it.
    assert_eq!(s.client.post(s.url("/portal/login")).json(&login).send().await.unwrap().status().as_u16(), 401);
    let (st, again) = s.post(&s.admin, "/programs/visitor-rereg/expunge", &json!({})).await;
    assert_eq!((st, &again["certificate"]), (200, &b["certificate"]), "repeating changes nothing");
}
