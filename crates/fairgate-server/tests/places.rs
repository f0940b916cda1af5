//! Ports and offices through HTTP: administrators add, change and close them (each a
//! ledger event), everyone can read the list with hours, areas and closures, and a
//! new office is at once a place where people can register.

mod common;

use common::*;
use serde_json::{json, Value};

fn office() -> Value {
    json!({"code": "BOS-FO", "name": "Boston field office", "kind": "office", "zone": "America/New_York",
           "address": "4 Demo Square, Boston, MA (synthetic)", "service_area": ["021", "022"],
           "hours": {"mon": "08:30-16:30", "tue": "08:30-16:30"}, "desks": 3,
           "minutes": {"registration": 20, "re_registration": 15, "interview": 30}})
}

async fn places(s: &Server) -> Vec<Value> {
    s.client.get(s.url("/places")).send().await.unwrap().json().await.unwrap()
}

async fn put(s: &Server, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let r = s.client.put(s.url(path)).bearer_auth(token).json(body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn administrators_add_change_and_close_places_and_everyone_sees_them() {
    let s = start().await;
    assert_eq!(s.post(&s.officer, "/places", &office()).await.0, 403, "officers do not add places");
    let mut bad = office();
    bad["hours"] = json!({"mon": "8-4"});
    bad["desks"] = json!(0);
    let (st, b) = s.post(&s.admin, "/places", &bad).await;
    assert_eq!(st, 422);
    let fields: Vec<&str> = b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["hours.mon", "hours", "desks"], "the bad hours, and so no open day, and no desk");
    let before = s.tree_size().await;
    let (st, b) = s.post(&s.admin, "/places", &office()).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(b["receipt"]["leaf_index"].as_u64(), Some(before), "a ledger event");
    let listed = places(&s).await;
    let bos = listed.iter().find(|p| p["code"] == "BOS-FO").unwrap();
    assert_eq!(bos["hours"][0], json!({"opens": 510, "closes": 990}));
    assert_eq!(bos["service_area"], json!(["021", "022"]));
    // The new office is a place people register at, straight away.
    let id = s.specimen().await;
    let mut r = registration();
    r["kind"] = json!("office");
    r["place"] = json!("BOS-FO");
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/registrations"), &r).await.0, 201);

    // Changed (the code in the path and the body must agree), then closed.
    let mut changed = office();
    changed["desks"] = json!(5);
    assert_eq!(put(&s, &s.admin, "/places/CHI-FO", &changed).await.0, 400);
    let (st, b) = put(&s, &s.admin, "/places/BOS-FO", &changed).await;
    assert_eq!(st, 200, "{b}");
    let closure = json!({"from": "2027-01-04", "until": "2027-01-06", "reason": "Burst pipe"});
    let (st, b) = s.post(&s.admin, "/places/BOS-FO/close", &closure).await;
    assert_eq!(st, 201, "{b}");
    let (st, b) = s.post(&s.admin, "/places/NOPE/close", &closure).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("code")), "{b}");
    let bos = places(&s).await.into_iter().find(|p| p["code"] == "BOS-FO").unwrap();
    assert_eq!(bos["desks"], 5);
    assert_eq!(bos["closures"], json!([{"from": "2027-01-04", "until": "2027-01-06", "reason": "Burst pipe"}]));
    s.stop().await;
}
