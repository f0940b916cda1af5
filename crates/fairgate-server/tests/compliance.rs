//! Obligations through HTTP over one person's whole timeline: derived from a
//! program in force, pending without notice, overdue after a served notice,
//! admissible in clearance, determined with evidence (never without notice),
//! excused with a supervisor, and voided by repeal.

mod common;

use common::*;
use serde_json::{json, Value};

fn program() -> String {
    format!(
        "id = \"visitor-rereg\"\ntitle = \"Visitor re-registration\"\nlegal_basis = \"Test Act s. 3\"\nstarts = {}\nsunset = {}\n\n[selection]\nadmission_class = [\"WT\"]\n\n[[obligations]]\nkind = \"register\"\nwithin_days = 5\n\n[[obligations]]\nkind = \"reregister\"\nevery_days = 30\n",
        day(-90),
        day(300)
    )
}

async fn obligations(s: &Server, id: &str) -> Value {
    let (st, b) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}/obligations")).await;
    assert_eq!(st, 200, "{b}");
    b
}

fn state<'a>(b: &'a Value, key: &str) -> &'a str {
    b["obligations"].as_array().unwrap().iter().find(|o| o["key"] == key).unwrap_or_else(|| panic!("{key} in {b}"))
        ["state"]
        .as_str()
        .unwrap()
}

const REREG: &str = "visitor-rereg/v1/obligations[1]/1";

#[tokio::test]
async fn an_obligation_from_notice_to_clearance_to_repeal() {
    let s = start().await;
    // The program was put in force 60 days ago (the server's clock is set back for it).
    s.clock_offset.store(-60 * 86_400, std::sync::atomic::Ordering::SeqCst);
    let (st, b) = s.post(&s.admin, "/programs", &json!({"source": program(), "population": wt_population()})).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(s.post(&s.admin, "/programs/visitor-rereg/activate", &json!({})).await.0, 200);
    s.clock_offset.store(0, std::sync::atomic::Ordering::SeqCst);

    // A visitor who entered 50 days ago and registered on arrival.
    let id = s.specimen().await;
    let at = format!("{}T14:00:00Z", day(-50));
    let mut e = entry(&at);
    e["admission_class"] = json!("WT");
    e["admitted_until"] = json!(day(40).to_string());
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &e).await.0, 201);
    let mut r = registration();
    r["at"] = json!(at);
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/registrations"), &r).await.0, 201);

    let (_, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(t["registrations"][0]["voluntary"], false, "required, so not voluntary even if asked: {t}");
    assert_eq!(t["registrations"][0]["program"], "visitor-rereg", "labelled with the program that required it");
    let b = obligations(&s, &id).await;
    assert_eq!(b["must_act"], true);
    assert_eq!(b["programs"][0]["selected"], true);
    assert_eq!(state(&b, "visitor-rereg/v1/obligations[0]/1"), "met");
    assert_eq!(state(&b, REREG), "pending", "due 20 days ago, but no notice was served: {b}");

    // A determination without a served notice is refused.
    let det = json!({"obligation": REREG, "finding": "willful", "reasons": "Did not come", "evidence": ["none"]});
    let (st, b) = s.post(&s.adjudicator, &format!("/subjects/{id}/determinations"), &det).await;
    assert_eq!(st, 409, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("no notice"), "{b}");

    // A notice needs proof or acknowledgement; with one, the obligation is overdue.
    let notice = json!({"obligation": REREG, "channel": "mail", "served_on": day(-45).to_string()});
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/notices"), &notice).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("proof")), "{b}");
    let mut notice = notice;
    notice["proof"] = json!("RR123456789US");
    assert_eq!(s.post(&s.adjudicator, &format!("/subjects/{id}/notices"), &notice).await.0, 403);
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/notices"), &notice).await;
    assert_eq!(st, 201, "{b}");
    let b = obligations(&s, &id).await;
    assert_eq!(state(&b, REREG), "overdue");
    let o = b["obligations"].as_array().unwrap().iter().find(|o| o["key"] == REREG).unwrap();
    assert!(o["explanation"].as_str().unwrap().contains("Notice served by mail"), "{o}");

    // The notice itself, as a printable page and as text.
    let url = format!("{}/subjects/{id}/notice?obligation={}", s.base, REREG.replace('[', "%5B").replace(']', "%5D"));
    let page =
        s.client.get(&url).bearer_auth(&s.officer).header("Fairgate-Purpose", "border-check").send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("<h2>Your rights</h2>") && page.contains("Visitor re-registration"), "{page}");
    let txt = s
        .client
        .get(format!("{url}&format=text"))
        .bearer_auth(&s.officer)
        .header("Fairgate-Purpose", "border-check")
        .send()
        .await
        .unwrap();
    let txt = txt.text().await.unwrap();
    assert!(txt.starts_with("Your registration needs renewing\n"));
    assert!(txt.contains("New York field office") && txt.contains("Chicago field office"), "every office: {txt}");
    // With a change of address on record, the notice sends the person to the office
    // serving it, with its address and hours.
    let moved = json!({"change": "address", "changed_on": day(-1).to_string(),
                       "address": {"street": "12 Elm Street", "city": "Chicago", "postal_code": "60601"}});
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/changes"), &moved).await.0, 201);
    let txt = s
        .client
        .get(format!("{url}&format=text"))
        .bearer_auth(&s.officer)
        .header("Fairgate-Purpose", "border-check")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(txt.contains("Chicago field office (CHI-FO), 2 Demo Street"), "{txt}");
    assert!(txt.contains("the office for your address; open Mon 08:00-16:00"), "{txt}");
    assert!(!txt.contains("New York field office"), "{txt}");

    // Clearance is for benefit adjudication only, and shows the overdue obligation.
    assert_eq!(s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}/clearance")).await.0, 403);
    let (st, c) = s.read(&s.adjudicator, Some("benefit-adjudication"), &format!("/subjects/{id}/clearance")).await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["facts"][0]["kind"], "overdue-obligation");

    // Now a determination can be made, with reasons and evidence.
    let mut det = det;
    det["finding"] = json!("not-willful");
    det["evidence"] = json!(["notice RR123456789US", "phone call attempt"]);
    let (st, b) = s.post(&s.adjudicator, &format!("/subjects/{id}/determinations"), &det).await;
    assert_eq!(st, 201, "{b}");
    let (_, c) = s.read(&s.adjudicator, Some("benefit-adjudication"), &format!("/subjects/{id}/clearance")).await;
    assert_eq!(c["facts"].as_array().unwrap().len(), 2, "{c}");

    // Excused for good cause once a supervisor approves; then nothing is admissible.
    let excuse = json!({"obligation": REREG, "category": "medical", "text": "In hospital for three weeks"});
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/excuses"), &excuse).await.0, 201);
    assert_eq!(state(&obligations(&s, &id).await, REREG), "overdue", "not yet approved");
    let approve = json!({"obligation": REREG});
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/excuses/approve"), &approve).await.0, 403);
    assert_eq!(s.post(&s.supervisor, &format!("/subjects/{id}/excuses/approve"), &approve).await.0, 201);
    assert_eq!(state(&obligations(&s, &id).await, REREG), "excused");
    let (_, c) = s.read(&s.adjudicator, Some("benefit-adjudication"), &format!("/subjects/{id}/clearance")).await;
    assert!(c["facts"].as_array().unwrap().is_empty(), "{c}");

    // A designation, approved by a supervisor, while the program selects the person.
    let d = json!({"reason": "document-anomaly", "facts": "The data page laminate lifts", "place": "JFK"});
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/designations"), &d).await;
    assert_eq!(st, 201, "{b}");
    let review = json!({"approve": true});
    let (st, b) = s.post(&s.supervisor, &format!("/subjects/{id}/designations/1/review"), &review).await;
    assert!(st == 200 || st == 201, "{st} {b}");

    // The public activity-by-program table counts what the people a program selects
    // did while it selected them (here one person: suppressed, but present).
    let r: Value = s.client.get(s.url("/transparency.json")).send().await.unwrap().json().await.unwrap();
    let cells = r["program_activity"]["cells"].as_array().unwrap();
    let dims: Vec<&Value> = cells.iter().map(|c| &c["dims"]).collect();
    assert!(dims.contains(&&json!(["registrations", "visitor-rereg", "JFK"])), "{cells:?}");
    assert!(dims.contains(&&json!(["crossings", "visitor-rereg", "JFK"])), "{cells:?}");
    assert!(dims.contains(&&json!(["designations", "visitor-rereg", "JFK"])), "{cells:?}");
    assert!(cells.iter().all(|c| c["count"].is_null()), "one person's cells are suppressed");

    // Repeal voids what is open.
    let r = json!({"reason": "Ended"});
    assert_eq!(s.post(&s.admin, "/programs/visitor-rereg/repeal", &r).await.0, 200);
    let b = obligations(&s, &id).await;
    let open: Vec<&str> = b["obligations"].as_array().unwrap().iter().map(|o| o["state"].as_str().unwrap()).collect();
    assert!(open.iter().all(|st| *st == "met" || *st == "void"), "{b}");
    assert_eq!(b["must_act"], false);
    s.stop().await;
}

#[tokio::test]
async fn a_person_the_program_does_not_select_is_told_why() {
    let s = start().await;
    assert_eq!(
        s.post(&s.admin, "/programs", &json!({"source": program(), "population": wt_population()})).await.0,
        201
    );
    assert_eq!(s.post(&s.admin, "/programs/visitor-rereg/activate", &json!({})).await.0, 200);
    let id = s.specimen().await;
    let mut e = entry(&format!("{}T14:00:00Z", day(-10)));
    e["admitted_until"] = json!(day(100).to_string());
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &e).await.0, 201);
    let b = obligations(&s, &id).await;
    assert_eq!((b["must_act"].as_bool(), b["obligations"].as_array().unwrap().len()), (Some(false), 0));
    let why = b["programs"][0]["why_not"][0].as_str().unwrap();
    assert!(why.starts_with("selection.admission_class") && why.contains("B-2"), "{why}");

    // Registering someone no program requires needs the voluntary flag, and says so.
    let mut r = registration();
    r["at"] = Value::Null; // now, while the program is in force
    r["voluntary"] = json!(false);
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &r).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("voluntary")), "{b}");
    // The refusal does not quote the person's record (their admission class B-2): the
    // reasons are a logged read with a purpose, shown above.
    let message = b["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("B-2") && !message.contains("admission_class"), "{b}");
    r["voluntary"] = json!(true);
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/registrations"), &r).await.0, 201);
    let (_, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(t["registrations"][0]["voluntary"], true, "labelled voluntary: {t}");
    assert!(t["registrations"][0]["program"].is_null());
    s.stop().await;
}

#[tokio::test]
async fn a_change_of_address_carries_the_new_address_and_notices_send_the_person_to_the_office_serving_it() {
    let s = start().await;
    let id = s.specimen().await;
    let path = format!("/subjects/{id}/changes");
    // The kind and its details must agree; each missing piece is named.
    let (st, b) = s.post(&s.officer, &path, &json!({"change": "address", "changed_on": "2026-07-01"})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("address")), "{b}");
    let (st, b) = s
        .post(&s.officer, &path, &json!({"change": "employer", "changed_on": "2026-07-01", "school": "Evening School"}))
        .await;
    assert_eq!(st, 422);
    let fields: Vec<&str> = b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["school", "employer"], "{b}");
    let moved = json!({"change": "address", "changed_on": "2026-07-01",
                       "address": {"street": "12 Elm Street", "city": "Chicago", "postal_code": "60601"}});
    assert_eq!(s.post(&s.officer, &path, &moved).await.0, 201);
    // An older change reported later does not replace the newer address.
    let older = json!({"change": "address", "changed_on": "2026-06-01",
                       "address": {"street": "1 Old Road", "city": "Los Angeles", "postal_code": "90012"}});
    assert_eq!(s.post(&s.officer, &path, &older).await.0, 201);
    let (st, t) = s.read(&s.officer, Some("registration"), &format!("/subjects/{id}")).await;
    assert_eq!(st, 200);
    assert_eq!(t["address"]["street"], "12 Elm Street", "{t}");
    assert_eq!(t["address"]["postal_code"], "60601");
    s.stop().await;
}
