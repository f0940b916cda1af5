//! Law-enforcement access: no read without a grant; a reasoned request approved by an
//! independent approver gives 72 hours; an emergency access comes first and is
//! reviewed; a legal hold hides the details from the person until it ends.

mod common;

use common::*;
use serde_json::{json, Value};

async fn read(s: &Server, id: &str) -> (u16, Value) {
    s.read(&s.supervisor, Some("law-enforcement"), &format!("/subjects/{id}")).await
}

#[tokio::test]
async fn law_enforcement_reads_need_an_approved_time_limited_grant_and_the_person_is_told() {
    let s = start().await;
    let id = s.specimen().await;
    let (st, r) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &registration()).await;
    assert_eq!(st, 201, "{r}");
    let (number, code) =
        (r["registration_number"].as_str().unwrap().to_string(), r["access_code"].as_str().unwrap().to_string());
    let (st, b) = read(&s, &id).await;
    assert_eq!(st, 403, "no grant, no read: {b}");

    // A request needs its case and reasons; an officer cannot make one.
    let hold = day(365).to_string();
    let req = json!({"case_number": "FBI-2026-0042", "reasons": "Identity fraud investigation", "hold_until": hold});
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/law-enforcement"), &req).await.0, 403);
    let (st, b) = s
        .post(&s.supervisor, &format!("/subjects/{id}/law-enforcement"), &json!({"case_number": "", "reasons": "x"}))
        .await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("case_number")), "{b}");
    let (st, b) = s.post(&s.supervisor, &format!("/subjects/{id}/law-enforcement"), &req).await;
    assert_eq!((st, b["number"].as_u64(), b["in_effect"].as_bool()), (201, Some(1), Some(false)), "{b}");
    assert_eq!(read(&s, &id).await.0, 403, "not yet approved");
    assert_eq!(s.post(&s.supervisor, &format!("/subjects/{id}/law-enforcement/1/approve"), &json!({})).await.0, 403);
    assert_eq!(s.post(&s.approver, &format!("/subjects/{id}/law-enforcement/1/approve"), &json!({})).await.0, 201);
    assert_eq!(read(&s, &id).await.0, 200);
    // Other paths are covered too: a stay read for law enforcement needs the grant just the same.
    assert_eq!(s.read(&s.supervisor, Some("law-enforcement"), &format!("/subjects/{id}/stay")).await.0, 200);

    // 72 hours later the grant has ended.
    s.clock_offset.store(73 * 3600, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(read(&s, &id).await.0, 403);

    // An emergency access comes first, and is reviewed; found unjustified, it ends.
    let em = json!({"case_number": "PD-77", "reasons": "Imminent threat reported", "emergency": true});
    let (st, b) = s.post(&s.supervisor, &format!("/subjects/{id}/law-enforcement"), &em).await;
    assert_eq!((st, b["in_effect"].as_bool()), (201, Some(true)), "{b}");
    assert_eq!(read(&s, &id).await.0, 200);
    let rev = json!({"justified": false, "reasons": "No threat was substantiated"});
    assert_eq!(
        s.post(&s.approver, &format!("/subjects/{id}/law-enforcement/1/review"), &rev).await.0,
        403,
        "not an emergency"
    );
    assert_eq!(s.post(&s.approver, &format!("/subjects/{id}/law-enforcement/2/review"), &rev).await.0, 201);
    assert_eq!(read(&s, &id).await.0, 403);

    // The person: held accesses show only their date; the unjustified one is marked.
    let (st, token) = activate(&s, &number, &code, "a long passphrase of mine").await;
    assert_eq!(st, 200);
    let token = token["token"].as_str().unwrap().to_string();
    let d: Value =
        s.client.get(s.url("/portal/disclosures")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let d = d.as_array().unwrap();
    let held: Vec<&Value> = d.iter().filter(|x| x["withheld_until"] == hold.as_str()).collect();
    assert_eq!(held.len(), 2, "the two reads under the held grant: {d:?}");
    assert!(held.iter().all(|x| x["purpose"] == "" && x["role"] == "" && x["agency"] == "withheld under a legal hold"));
    let marked: Vec<&Value> = d.iter().filter(|x| x["unjustified"] == true).collect();
    assert_eq!(marked.len(), 1, "{d:?}");
    assert_eq!(marked[0]["purpose"], "law-enforcement");
    s.stop().await;
}
