//! The registrants' portal: sign in with the receipt's number and code, see one's
//! own records and every access to them, never anyone else's; wrong codes are
//! limited; an expunged person's portal closes.

mod common;

use common::*;
use serde_json::{json, Value};

async fn registered(s: &Server, number: &str, surname: &str) -> (String, String, String) {
    let mut p = specimen();
    p["document"]["number"] = json!(number);
    p["surname"] = json!(surname);
    let (st, b) = s.post(&s.officer, "/subjects", &p).await;
    assert_eq!(st, 201, "{b}");
    let id = b["id"].as_str().unwrap().to_string();
    let (st, r) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &registration()).await;
    assert_eq!(st, 201, "{r}");
    let code = r["access_code"].as_str().unwrap().to_string();
    assert!(r["printed_receipt"].as_str().unwrap().contains(&code), "the code is on the receipt");
    (id, r["registration_number"].as_str().unwrap().to_string(), code)
}

const PASS: &str = "my own long passphrase";

#[tokio::test]
async fn a_registrant_sees_their_own_records_and_who_looked_and_nobody_elses() {
    let s = start().await;
    let (a, a_number, a_code) = registered(&s, "A0000001", "ALPHA").await;
    let (b, b_number, b_code) = registered(&s, "B0000002", "BRAVO").await;
    assert_eq!(s.read(&s.officer, Some("border-check"), &format!("/subjects/{a}")).await.0, 200);
    let (st, found) =
        s.post_for(&s.officer, "border-check", "/subjects/lookup", &json!({"document_number": "A0000001"})).await;
    assert_eq!((st, found["subjects"].clone()), (200, json!([a])));
    assert_eq!(s.read(&s.auditor, Some("oversight-audit"), &format!("/subjects/{b}")).await.0, 200);

    assert_eq!(activate(&s, &a_number, &b_code, PASS).await.0, 401, "another person's code");
    let (st, session) = activate(&s, &a_number, &a_code.to_lowercase().replace('-', ""), PASS).await;
    assert_eq!(st, 200, "codes are read without case or dashes: {session}");
    let token = session["token"].as_str().unwrap().to_string();

    let (st, me) = get(&s, &token, "/portal/records").await;
    assert_eq!((st, me["surname"].as_str()), (200, Some("ALPHA")));
    assert_eq!(me["registrations"][0]["registration_number"], a_number);
    // No portal route reaches anyone else: query strings are ignored, staff routes refuse the token.
    let (_, again) = get(&s, &token, &format!("/portal/records?subject={b}&id={b}")).await;
    assert_eq!(again["surname"], "ALPHA");
    assert_eq!(get(&s, &token, &format!("/subjects/{b}")).await.0, 401);

    let (st, d) = get(&s, &token, "/portal/disclosures").await;
    assert_eq!(st, 200);
    let d = d.as_array().unwrap();
    assert!(
        d.iter().any(|x| x["agency"] == "Test Agency" && x["role"] == "officer" && x["purpose"] == "border-check"),
        "{d:?}"
    );
    assert!(d.iter().all(|x| x["role"] != "auditor"), "B's reader is not A's: {d:?}");
    assert!(d.iter().any(|x| x["request"] == "POST /subjects/lookup"), "a lookup that found them is listed: {d:?}");
    assert!(d.iter().any(|x| x["purpose"] == "subject-access"), "the person's own reads are listed too: {d:?}");

    let (st, all) = get(&s, &token, "/portal/export").await;
    assert_eq!(st, 200);
    assert_eq!(all["records"]["surname"], "ALPHA");
    assert!(all["disclosures"].as_array().unwrap().len() >= 2);
    let page = s
        .client
        .get(s.url("/portal/export?format=html"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Who looked at your records") && page.contains("ALPHA") && !page.contains("BRAVO"));

    // A change of address, reported by the person: it becomes their address.
    let moved = json!({"change": "address", "changed_on": "2026-07-01",
                       "address": {"street": "12 Elm Street", "city": "Chicago", "postal_code": "60601"}});
    let r = s.client.post(s.url("/portal/changes")).bearer_auth(&token).json(&moved).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let (_, t) = s.read(&s.officer, Some("registration"), &format!("/subjects/{a}")).await;
    assert_eq!(t["address"]["postal_code"], "60601", "{t}");
    // That read disclosed the address, and the person is told so.
    let (_, d) = get(&s, &token, "/portal/disclosures").await;
    let read = d.as_array().unwrap().iter().rev().find(|x| x["request"] == "GET /subjects/{id}").unwrap();
    assert!(read["fields"].as_array().unwrap().contains(&json!("address")), "{read}");
    let r = s
        .client
        .post(s.url("/portal/changes"))
        .bearer_auth(&token)
        .json(&json!({"change": "school", "changed_on": "2026-07-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "each missing piece is named");
    // A correction request: answered within 45 days, by a supervisor, with reasons.
    let r = s
        .client
        .post(s.url("/portal/corrections"))
        .bearer_auth(&token)
        .json(&json!({"field": "given_names", "text": "My given names are ANNA MARIE, not ANNA MARIA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let req: Value = r.json().await.unwrap();
    assert_eq!(req["number"], 1);
    let (_, list) = get(&s, &token, "/portal/corrections").await;
    assert_eq!((list[0]["status"].as_str(), list[0]["field"].as_str()), (Some("open"), Some("given_names")));
    let answer = json!({"corrected": true, "reply": "Corrected after checking the passport"});
    assert_eq!(s.post(&s.officer, &format!("/subjects/{a}/corrections/1/answer"), &answer).await.0, 403);
    assert_eq!(s.post(&s.supervisor, &format!("/subjects/{a}/corrections/1/answer"), &answer).await.0, 201);
    assert_eq!(s.post(&s.supervisor, &format!("/subjects/{a}/corrections/1/answer"), &answer).await.0, 422);
    let (_, list) = get(&s, &token, "/portal/corrections").await;
    assert_eq!(list[0]["status"], "answered");
    assert_eq!(list[0]["answer"]["reply"], "Corrected after checking the passport");

    // Wrong codes are limited per registration number, even before the right one.
    for _ in 0..5 {
        assert_eq!(activate(&s, &b_number, "WRONG-CODE-0000", PASS).await.0, 401);
    }
    assert_eq!(activate(&s, &b_number, &b_code, PASS).await.0, 429);
    assert_eq!(portal_login(&s, &a_number, PASS).await.0, 200, "other numbers are not affected");

    // Expunged: the portal closes, sessions included.
    let body = json!({"authority": "court-order", "reason": "Asked by the person"});
    assert_eq!(s.post(&s.auditor, &format!("/subjects/{a}/expunge/approve"), &body).await.0, 201);
    assert_eq!(s.post(&s.admin, &format!("/subjects/{a}/expunge"), &body).await.0, 201);
    assert_eq!(get(&s, &token, "/portal/records").await.0, 401);
    assert_eq!(portal_login(&s, &a_number, PASS).await.0, 401);
    s.stop().await;
}

/// Finding 1 of the insider review: the recording officer saw the person's portal
/// code on the receipt and could sign in as the person. The code is now a one-time
/// activation code: once the person has chosen their passphrase, the receipt opens
/// nothing, and an activation the person did not make is on their record.
#[tokio::test]
async fn the_officer_holding_the_receipt_cannot_read_anything_once_the_person_has_activated() {
    let s = start().await;
    let (id, number, code) = registered(&s, "C0000003", "CHARLIE").await;

    // The person activates; the officer, holding the receipt, then gets nothing.
    let (st, mine) = activate(&s, &number, &code, PASS).await;
    assert_eq!(st, 200, "{mine}");
    let (st, p) = activate(&s, &number, &code, "the officer's passphrase").await;
    assert_eq!((st, p["type"].as_str()), (409, Some("/problems/already-activated")), "{p}");
    assert!(p.get("token").is_none());
    assert_eq!(portal_login(&s, &number, &code).await.0, 401, "the code is not a passphrase");
    // A staff credential never opens a portal session, even with the right secret.
    let r = s
        .client
        .post(s.url("/portal/login"))
        .bearer_auth(&s.officer)
        .json(&json!({"registration_number": number, "passphrase": PASS}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A staff token is not a portal session either.
    assert_eq!(get(&s, &s.officer, "/portal/records").await.0, 401);
    let token = mine["token"].as_str().unwrap();
    let (st, me) = get(&s, token, "/portal/records").await;
    assert_eq!(st, 200);
    assert_eq!(me["portal"].as_array().unwrap().len(), 1, "one activation: {}", me["portal"]);

    // Now the attack as it was: the officer activates first, with the receipt.
    let (id2, number2, code2) = registered(&s, "D0000004", "DELTA").await;
    let (st, stolen) = activate(&s, &number2, &code2, "the officer's passphrase").await;
    assert_eq!(st, 200);
    let stolen = stolen["token"].as_str().unwrap().to_string();
    // The person finds the code used, and when.
    let (st, p) = activate(&s, &number2, &code2, PASS).await;
    assert_eq!(st, 409);
    assert!(p["detail"].as_str().unwrap().contains("ask an office for a new code"), "{p}");
    assert!(!p["detail"].as_str().unwrap().contains("20"), "the receipt's holder does not learn when: {p}");
    // Re-issuing needs a supervisor and a reason; it ends the officer's session.
    let why = json!({"reason": "the person did not activate the portal themselves"});
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id2}/access-code"), &why).await.0, 403);
    assert_eq!(s.post(&s.supervisor, &format!("/subjects/{id2}/access-code"), &json!({"reason": ""})).await.0, 422);
    let (st, new) = s.post(&s.supervisor, &format!("/subjects/{id2}/access-code"), &why).await;
    assert_eq!(st, 201, "{new}");
    assert_eq!(new["registration_number"], number2);
    assert_eq!(get(&s, &stolen, "/portal/records").await.0, 401, "the officer's session is over");
    assert_eq!(portal_login(&s, &number2, "the officer's passphrase").await.0, 401);
    assert_eq!(activate(&s, &number2, &code2, PASS).await.0, 401, "the old code is replaced");
    let (st, own) = activate(&s, &number2, new["access_code"].as_str().unwrap(), PASS).await;
    assert_eq!(st, 200);
    let (_, me) = get(&s, own["token"].as_str().unwrap(), "/portal/records").await;
    let portal = me["portal"].as_array().unwrap();
    let what: Vec<&str> = portal.iter().map(|e| e["what"].as_str().unwrap()).collect();
    assert_eq!(what, ["activated", "code-reissued", "activated"], "the person sees the activation they did not make");
    assert_eq!(portal[1]["reason"], "the person did not activate the portal themselves");
    assert_eq!(portal[1]["by"]["role"], "supervisor");
    let _ = id;

    // An unused code lapses after 30 days.
    let (_, number3, code3) = registered(&s, "E0000005", "ECHO").await;
    s.clock_offset.store(31 * 86_400, std::sync::atomic::Ordering::SeqCst);
    let (st, p) = activate(&s, &number3, &code3, PASS).await;
    assert_eq!((st, p["type"].as_str()), (410, Some("/problems/code-expired")), "{p}");
    s.stop().await;
}
