//! The insider review (issue 14): each test performs one attack found by trying the
//! running system as a member of staff would, through HTTP, and shows that it now
//! fails. THREAT_MODEL.md maps each threat to the test here that proves it.

mod common;

use common::*;
use serde_json::{json, Value};

/// Strip what differs between two answers by design (receipts' leaf numbers).
fn shape(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("access_receipt");
    }
    v
}

/// Finding 2: a refused exit named the times of the person's earlier crossings; a
/// refused registration named their latest admission class. A refusal now says what
/// is wrong with the request, never what is on record.
#[tokio::test]
async fn refusals_say_what_is_wrong_with_the_request_not_what_is_on_record() {
    let s = start().await;
    let id = s.specimen().await;
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &entry("2026-06-03T14:00:00Z")).await.0, 201);
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &exit("2026-06-20T09:30:00Z")).await.0, 201);
    // An exit after the last exit: refused, without the recorded times.
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/crossings"), &exit("2026-07-01T10:00:00Z")).await;
    assert_eq!(st, 422, "{b}");
    let text = b.to_string();
    assert!(!text.contains("2026-06-03") && !text.contains("2026-06-20"), "the refusal quotes the record: {text}");
    // An exit between the entry and the exit that closes it: the same.
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/crossings"), &exit("2026-06-10T10:00:00Z")).await;
    assert_eq!(st, 422, "{b}");
    let text = b.to_string();
    assert!(!text.contains("2026-06-03") && !text.contains("2026-06-20"), "the refusal quotes the record: {text}");
    assert!(!text.contains("B-2"), "{text}");
    s.stop().await;
}

/// Finding 2: a law-enforcement lookup without a grant answered 403 when the
/// document was on record and an empty 200 when it was not; lookups that found
/// nothing were not logged. Now both answer alike, and every lookup is logged.
#[tokio::test]
async fn a_lookup_answers_alike_whether_or_not_the_person_exists_and_is_always_logged() {
    let s = start().await;
    let id = s.specimen().await;
    let le = "law-enforcement";
    let before = s.tree_size().await;
    let (st_known, known) =
        s.post_for(&s.supervisor, le, "/subjects/lookup", &json!({"document_number": "L898902C3"})).await;
    let (st_unknown, unknown) =
        s.post_for(&s.supervisor, le, "/subjects/lookup", &json!({"document_number": "X0000000"})).await;
    assert_eq!((st_known, shape(known.clone())), (st_unknown, shape(unknown.clone())), "an existence oracle");
    assert_eq!(known["subjects"], json!([]));
    assert!(known["access_receipt"].is_object() && unknown["access_receipt"].is_object(), "both are logged");
    assert_eq!(s.tree_size().await, before + 2);

    // The same for a subject id: a real one and a made-up one are refused alike.
    let fake = "0123456789abcdef0123456789abcdef";
    let (a, b) = (
        s.read(&s.supervisor, Some(le), &format!("/subjects/{id}")).await,
        s.read(&s.supervisor, Some(le), &format!("/subjects/{fake}")).await,
    );
    assert_eq!(a, b, "an existence oracle on /subjects/{{id}}");
    assert_eq!(a.0, 403);

    // A lookup that finds nothing, for an ordinary purpose, is logged too.
    let before = s.tree_size().await;
    let (st, b) =
        s.post_for(&s.officer, "border-check", "/subjects/lookup", &json!({"document_number": "Y0000000"})).await;
    assert_eq!((st, b["subjects"].clone()), (200, json!([])));
    assert_eq!(b["access_receipt"]["leaf_index"].as_u64(), Some(before));
    // And so is a read the policy refuses (an officer may not audit).
    let (st, _) = s.read(&s.officer, Some("oversight-audit"), &format!("/subjects/{id}")).await;
    assert_eq!(st, 403);
    assert_eq!(s.tree_size().await, before + 2, "the refused read is on record");
    s.stop().await;
}
