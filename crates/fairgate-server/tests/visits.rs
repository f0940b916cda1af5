//! An office visit over HTTP, from the notice's booked slot to the desk: the daily
//! run books the earliest free slot at the office serving the person's address;
//! staff and the person move it; a walk-in is checked in, called and served; a
//! missed appointment brings a new slot and a new notice (never a penalty); a
//! closure moves bookings and extends deadlines; an interview meets its obligation.

mod common;

use common::*;
use fairgate_core::access::Actor;
use serde_json::{json, Value};

fn program() -> String {
    format!(
        "id = \"call-in\"\ntitle = \"Call-in registration\"\nlegal_basis = \"Test Act s. 4\"\nstarts = {}\nsunset = {}\n\n[selection]\nadmission_class = [\"WT\"]\n\n[interview]\nquestions = [\"Where do you live?\", \"Where do you work?\"]\n\n[[obligations]]\nkind = \"register\"\nwithin_days = 20\n\n[[obligations]]\nkind = \"interview\"\nevery_days = 30\n",
        day(-90),
        day(300)
    )
}

const REGISTER: &str = "call-in/v1/obligations[0]/1";
const INTERVIEW: &str = "call-in/v1/obligations[1]/1";

async fn obligation(s: &Server, id: &str, key: &str) -> Value {
    let (st, b) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}/obligations")).await;
    assert_eq!(st, 200, "{b}");
    b["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["key"] == key)
        .unwrap_or_else(|| panic!("{key}: {b}"))
        .clone()
}

async fn appointments(s: &Server, id: &str) -> Vec<Value> {
    let (st, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(st, 200, "{t}");
    t["appointments"].as_array().unwrap().clone()
}

fn run(s: &Server, on: jiff::civil::Date) -> fairgate_store::registry::compliance::RunReport {
    s.registry.compliance_run(jiff::Timestamp::now(), &Actor::system("test"), on, &mut |_, _| {}).unwrap()
}

fn date(v: &Value) -> jiff::civil::Date {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn from_a_booked_slot_to_the_desk_and_through_a_missed_appointment_and_a_closure() {
    let s = start().await;
    s.clock_offset.store(-60 * 86_400, std::sync::atomic::Ordering::SeqCst);
    let (st, b) = s.post(&s.admin, "/programs", &json!({"source": program(), "population": wt_population()})).await;
    assert_eq!(st, 201, "{b}");
    let (st, b) = s.post(&s.admin, "/programs/call-in/activate", &json!({})).await;
    assert_eq!(st, 200, "{b}");
    s.clock_offset.store(0, std::sync::atomic::Ordering::SeqCst);

    // A visitor who entered 10 days ago and lives in New York (NYC-FO serves 1…).
    let id = s.specimen().await;
    let mut e = entry(&format!("{}T14:00:00Z", day(-10)));
    e["admission_class"] = json!("WT");
    e["admitted_until"] = json!(day(80).to_string());
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &e).await.0, 201);
    let home = json!({"change": "address", "changed_on": day(-9).to_string(),
                      "address": {"street": "12 Elm Street", "city": "New York", "postal_code": "10001"}});
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/changes"), &home).await.0, 201);

    // The daily run issues the notice with a booked slot at NYC-FO before the deadline.
    let report = run(&s, day(0));
    assert_eq!((report.notices_issued, report.appointments_booked), (2, 2), "{report:?}");
    let due = date(&obligation(&s, &id, REGISTER).await["effective_due"]);
    let list = appointments(&s, &id).await;
    let a = list.iter().find(|a| a["obligation"] == REGISTER).unwrap();
    assert_eq!((a["slot"]["office"].as_str(), a["by"].as_str()), (Some("NYC-FO"), Some("notice")), "{a}");
    let slot_day = date(&a["slot"]["day"]);
    assert!(slot_day > day(0) && slot_day <= due, "{a}");
    assert_eq!(a["slot"]["minutes"], 20, "a registration takes NYC-FO 20 minutes");
    assert_eq!(s.store.slot_loads("NYC-FO", &slot_day.to_string()).unwrap().iter().map(|l| l.2).sum::<u32>(), 2);
    let o = obligation(&s, &id, REGISTER).await;
    assert!(o["explanation"].as_str().unwrap().contains("Appointment: "), "{o}");
    // The notice names the slot and how to move it.
    let url = format!(
        "{}/subjects/{id}/notice?obligation={}&format=text",
        s.base,
        REGISTER.replace('[', "%5B").replace(']', "%5D")
    );
    let txt = s
        .client
        .get(&url)
        .bearer_auth(&s.officer)
        .header("Fairgate-Purpose", "border-check")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(txt.contains("Your appointment\n  ") && txt.contains("at NYC-FO"), "{txt}");
    assert!(txt.contains("To move it, use the portal"), "{txt}");
    // A second run the same day books nothing more.
    let again = run(&s, day(0));
    assert_eq!((again.notices_issued, again.appointments_booked), (0, 0), "{again:?}");

    // Staff move it to Chicago, from tomorrow; the New York slot is freed.
    let chicago = json!({"obligation": REGISTER, "office": "chi-fo", "from": day(1).to_string()});
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/appointments"), &chicago).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!((b["slot"]["office"].as_str(), b["by"].as_str()), (Some("CHI-FO"), Some("desk")), "{b}");
    let chicago_day = date(&b["slot"]["day"]);
    assert!(chicago_day >= day(1), "{b}");
    assert_eq!(s.store.slot_loads("NYC-FO", &slot_day.to_string()).unwrap().iter().map(|l| l.2).sum::<u32>(), 1);
    // Refusals name the field.
    let late = json!({"obligation": REGISTER, "from": due.checked_add(jiff::Span::new().days(1)).unwrap().to_string()});
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/appointments"), &late).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("from")), "{b}");
    let port = json!({"obligation": REGISTER, "office": "JFK"});
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/appointments"), &port).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("office")), "{b}");
    assert_eq!(s.post(&s.auditor, &format!("/subjects/{id}/appointments"), &port).await.0, 403);

    // A walk-in today at CHI-FO: checked in, called, served.
    let (st, b) = s.post(&s.officer, "/offices/CHI-FO/queue", &json!({"subject": id})).await;
    assert_eq!((st, b["walk_in"].as_bool()), (201, Some(true)), "their slot is another day: {b}");
    let (st, _) = get(&s, &s.officer, "/offices/CHI-FO/queue").await;
    assert_eq!(st, 403, "who waits is personal: a purpose is needed");
    let (st, q) = s.read(&s.officer, Some("registration"), "/offices/CHI-FO/queue").await;
    assert_eq!((st, q.as_array().map(Vec::len)), (200, Some(1)), "{q}");
    assert_eq!(q[0]["subject"], json!(id));
    let (st, b) = s.post(&s.officer, "/offices/CHI-FO/queue/call", &json!({"desk": 9})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("desk")), "CHI-FO has 5 desks: {b}");
    let (st, b) = s.post(&s.officer, "/offices/CHI-FO/queue/call", &json!({"desk": 2})).await;
    assert_eq!((st, b["subject"].as_str()), (200, Some(id.as_str())), "{b}");
    assert!(b["waited_minutes"].as_u64().unwrap() <= 1, "{b}");
    let (st, b) = s.post(&s.officer, &format!("/offices/CHI-FO/queue/{id}/done"), &json!({"outcome": "served"})).await;
    assert_eq!(st, 201, "{b}");
    let (_, q) = s.read(&s.officer, Some("registration"), "/offices/CHI-FO/queue").await;
    assert_eq!(q, json!([]), "served people leave the list");
    let (st, b) = s.post(&s.officer, "/offices/CHI-FO/queue/call", &json!({"desk": 1})).await;
    assert_eq!((st, b["subject"].clone()), (200, Value::Null), "nobody waits: {b}");
    // The public report counts the visit per office and week, suppressed while small.
    let (_, r) = get(&s, &s.officer, "/transparency.json").await;
    let cells = r["desk_queue"]["cells"].as_array().unwrap_or_else(|| panic!("{r}"));
    assert!(cells.iter().any(|c| c["dims"][0] == "CHI-FO" && c["dims"][2] == "served" && c["count"].is_null()), "{r}");

    // The Chicago slot's day passes without the person checking in that day: the run
    // records it missed, books a new slot there, and issues a new notice.
    let after = chicago_day.checked_add(jiff::Span::new().days(1)).unwrap();
    let report = run(&s, after);
    // (The interview's slot, at NYC-FO tomorrow, passed too.)
    assert_eq!(
        (report.appointments_missed, report.appointments_booked, report.notices_issued),
        (2, 2, 2),
        "{report:?}"
    );
    let again = run(&s, after);
    assert_eq!((again.appointments_missed, again.appointments_booked), (0, 0), "recorded once: {again:?}");
    let a = appointments(&s, &id).await.into_iter().find(|a| a["obligation"] == REGISTER).unwrap();
    assert_eq!((a["slot"]["office"].as_str(), a["by"].as_str()), (Some("CHI-FO"), Some("missed")), "{a}");
    let rebooked = date(&a["slot"]["day"]);
    assert!(rebooked > after, "{a}");
    assert_ne!(obligation(&s, &id, REGISTER).await["state"], "overdue", "a missed appointment is no penalty");
    // It is on the record, for an adjudicator to weigh like any other fact.
    let (_, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    let missed = t["missed_appointments"].as_array().unwrap();
    assert!(missed.iter().any(|m| m["obligation"] == REGISTER && m["slot"]["office"] == "CHI-FO"), "{t}");

    // CHI-FO closes over the new slot: the booking moves to another office and the
    // deadline moves by the closure's three days.
    let before = date(&obligation(&s, &id, REGISTER).await["effective_due"]);
    let closure = json!({"from": rebooked.to_string(),
                         "until": rebooked.checked_add(jiff::Span::new().days(2)).unwrap().to_string(),
                         "reason": "Flooded"});
    let (st, b) = s.post(&s.admin, "/places/CHI-FO/close", &closure).await;
    assert_eq!((st, b["moved"].as_u64()), (201, Some(1)), "{b}");
    let a = appointments(&s, &id).await.into_iter().find(|a| a["obligation"] == REGISTER).unwrap();
    assert_eq!((a["by"].as_str(), a["extend_days"].as_u64()), (Some("closure"), Some(3)), "{a}");
    assert_ne!(a["slot"]["office"], "CHI-FO");
    let moved = a["slot"].clone();
    let moved_due = date(&obligation(&s, &id, REGISTER).await["effective_due"]);
    assert!(moved_due >= before.checked_add(jiff::Span::new().days(3)).unwrap(), "{before} → {moved_due}");
    assert_eq!(s.store.slot_loads("CHI-FO", &rebooked.to_string()).unwrap(), vec![], "the closed slot is freed");

    // The interview: one answer per question, sealed; it meets the obligation.
    let (st, b) = s
        .post(
            &s.officer,
            &format!("/subjects/{id}/interviews"),
            &json!({"place": "NYC-FO", "obligation": INTERVIEW, "answers": ["Queens"]}),
        )
        .await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("answers")), "{b}");
    let (st, b) = s
        .post(
            &s.officer,
            &format!("/subjects/{id}/interviews"),
            &json!({"place": "NYC-FO", "obligation": REGISTER, "answers": ["Queens", "A bakery"]}),
        )
        .await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("obligation")), "not an interview: {b}");
    let interview = json!({"place": "NYC-FO", "obligation": INTERVIEW, "answers": ["Queens", "A bakery"]});
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/interviews"), &interview).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(obligation(&s, &id, INTERVIEW).await["state"], "met");
    let (_, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(t["interviews"][0]["answers"][1], json!({"question": "Where do you work?", "answer": "A bakery"}));

    // Registered today at the office, the person moves their next interview in the
    // portal; their choice must end by the due date.
    let mut r = registration();
    r["kind"] = json!("office");
    r["place"] = json!("NYC-FO");
    r["at"] = json!(jiff::Timestamp::now().to_string());
    let (st, r) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &r).await;
    assert_eq!(st, 201, "{r}");
    let (st, session) = activate(
        &s,
        r["registration_number"].as_str().unwrap(),
        r["access_code"].as_str().unwrap(),
        "a long passphrase",
    )
    .await;
    assert_eq!(st, 200, "{session}");
    let token = session["token"].as_str().unwrap();
    let next = obligation(&s, &id, INTERVIEW).await;
    assert_eq!(next["state"], "pending", "the first interview counts from the registration: {next}");
    let mine = json!({"obligation": INTERVIEW, "from": day(2).to_string()});
    let r = s.client.post(s.url("/portal/appointments")).bearer_auth(token).json(&mine).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let b: Value = r.json().await.unwrap();
    assert_eq!((b["slot"]["office"].as_str(), b["by"].as_str()), (Some("NYC-FO"), Some("portal")), "{b}");
    assert!(date(&b["slot"]["day"]) >= day(2), "{b}");
    let r = s.client.post(s.url("/portal/appointments")).bearer_auth(&s.officer).json(&mine).send().await.unwrap();
    assert_eq!(r.status(), 401, "a staff token is no portal session");
    // Registered today, the person no longer needs the registration slot the closure
    // gave them: the next run frees it for someone else.
    assert_eq!(obligation(&s, &id, REGISTER).await["state"], "met");
    let load = |st: &Server| {
        st.store.slot_loads(moved["office"].as_str().unwrap(), moved["day"].as_str().unwrap()).unwrap().len()
    };
    assert_eq!(load(&s), 1);
    let report = run(&s, day(0));
    assert_eq!(report.appointments_released, 1, "{report:?}");
    assert_eq!(load(&s), 0);
    assert!(!appointments(&s, &id).await.iter().any(|a| a["obligation"] == REGISTER));
    assert_eq!(run(&s, day(0)).appointments_released, 0, "released once");
    s.stop().await;
}
