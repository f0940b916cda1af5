//! Individual designations through HTTP: a fixed list of reasons, review by another
//! supervisor within 72 hours or lapse, the designations on the subject's record,
//! the public tally, and auditors' statistics that flag an officer who designates
//! one nationality.

mod common;

use common::*;
use serde_json::{json, Value};

fn designation(reason: &str) -> Value {
    json!({"reason": reason, "facts": "The data page laminate lifts at the lower corner", "place": "JFK"})
}

async fn traveller(s: &Server, i: usize, nationality: &str) -> String {
    let mut p = specimen();
    p["document"]["number"] = json!(format!("D{i:07}"));
    p["nationality"] = json!(nationality);
    let (st, b) = s.post(&s.officer, "/subjects", &p).await;
    assert_eq!(st, 201, "{b}");
    let id = b["id"].as_str().unwrap().to_string();
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &entry("2026-06-03T13:00:00Z")).await.0, 201);
    id
}

#[tokio::test]
async fn a_designation_needs_a_listed_reason_and_another_supervisor_within_72_hours() {
    let s = start().await;
    let id = traveller(&s, 0, "FRA").await;
    let url = format!("/subjects/{id}/designations");

    let (st, b) = s.post(&s.officer, &url, &designation("looks nervous")).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("reason")), "{b}");
    let (st, b) = s.post(&s.officer, &url, &designation("referral")).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("case_number")), "{b}");
    assert_eq!(s.post(&s.adjudicator, &url, &designation("document-anomaly")).await.0, 403);
    let (st, b) = s.post(&s.officer, &url, &designation("document-anomaly")).await;
    assert_eq!((st, b["number"].as_u64(), b["status"].as_str()), (201, Some(1), Some("pending")), "{b}");
    assert!(b["approve_by"].is_string());

    // Only a supervisor reviews, and not their own designation.
    let review = |n: u32| format!("/subjects/{id}/designations/{n}/review");
    assert_eq!(s.post(&s.officer, &review(1), &json!({"approve": true})).await.0, 403);
    let (st, b) = s.post(&s.supervisor, &url, &designation("identity-mismatch")).await;
    assert_eq!((st, b["number"].as_u64()), (201, Some(2)));
    let (st, b) = s.post(&s.supervisor, &review(2), &json!({"approve": true})).await;
    assert_eq!(st, 403, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("cannot review it"), "{b}");
    let (st, b) = s.post(&s.supervisor, &review(1), &json!({"approve": false})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("reason")), "a rejection says why: {b}");
    let (st, b) = s.post(&s.supervisor, &review(1), &json!({"approve": true})).await;
    assert_eq!((st, b["status"].as_str()), (200, Some("approved")), "{b}");
    assert_eq!(s.post(&s.supervisor, &review(1), &json!({"approve": true})).await.0, 409);
    assert_eq!(s.post(&s.supervisor, &review(9), &json!({"approve": true})).await.0, 404);

    // Three days and a second later, the unreviewed one has lapsed.
    let (st, _) = s.post(&s.officer, &url, &designation("previous-violation")).await;
    assert_eq!(st, 201);
    s.clock_offset.store(72 * 3600 + 1, std::sync::atomic::Ordering::SeqCst);
    let (st, b) = s.post(&s.supervisor, &review(3), &json!({"approve": true})).await;
    assert_eq!(st, 409, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("lapsed"), "{b}");

    // The record shows them, with the review.
    let (st, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(st, 200);
    let d = t["designations"].as_array().unwrap();
    assert_eq!(d.len(), 3);
    assert_eq!((d[0]["reason"].as_str(), d[0]["review"]["approved"].as_bool()), (Some("document-anomaly"), Some(true)));
    assert!(d[2]["review"].is_null());
    let status: Vec<&str> = d.iter().map(|x| x["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["approved", "lapsed", "lapsed"], "the supervisor's own designation lapsed too");

    // The public report counts them (3 is under 10: suppressed).
    let r: Value = s.client.get(s.url("/transparency.json")).send().await.unwrap().json().await.unwrap();
    let cells = r["designations"]["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 3, "one cell per reason at JFK: {cells:?}");
    assert!(cells.iter().all(|c| c["count"].is_null() && c["dims"][0] == "JFK"));
    s.stop().await;
}

#[tokio::test]
async fn an_officer_who_designates_one_nationality_is_flagged_for_auditors() {
    let s = start().await;
    for i in 0..80 {
        let nationality = if i % 2 == 0 { "FRA" } else { "DEU" };
        let id = traveller(&s, i, nationality).await;
        if nationality == "DEU" && i % 4 == 1 {
            let (st, b) =
                s.post(&s.officer, &format!("/subjects/{id}/designations"), &designation("document-anomaly")).await;
            assert_eq!(st, 201, "{b}");
        }
    }
    assert_eq!(s.read(&s.supervisor, Some("compliance-review"), "/designations/stats").await.0, 403);
    assert_eq!(s.read(&s.officer, None, "/designations/stats").await.0, 403, "auditors only");
    // Aggregates only: a command in the policy, with no purpose to state.
    let (st, b) = s.read(&s.auditor, None, "/designations/stats").await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["flagged"], true);
    let officer = &b["officers"][0];
    assert_eq!((officer["encountered"].as_u64(), officer["designated"].as_u64()), (Some(80), Some(20)));
    let flagged: Vec<&str> = officer["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["flagged"] == true)
        .map(|g| g["value"].as_str().unwrap())
        .collect();
    assert_eq!(flagged, ["DEU"]);
    assert_eq!(b["places"][0]["unit"], "JFK");
    // The statistics are kept between reads (they read everyone), and a new
    // designation is counted at once all the same.
    let id = traveller(&s, 80, "FRA").await;
    let (st, _) = s.post(&s.officer, &format!("/subjects/{id}/designations"), &designation("document-anomaly")).await;
    assert_eq!(st, 201);
    let (_, b) = s.read(&s.auditor, None, "/designations/stats").await;
    let officer = &b["officers"][0];
    assert_eq!((officer["encountered"].as_u64(), officer["designated"].as_u64()), (Some(81), Some(21)), "{b}");
    s.stop().await;
}
