//! Expungement through HTTP: an auditor approves, an administrator executes, the
//! subject is gone (410), the certificate is public and verifies against the log,
//! and the report counts it.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn an_approved_expungement_makes_the_subject_gone_and_is_certified() {
    let s = start().await;
    let id = s.specimen().await;
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/registrations"), &registration()).await.0, 201);
    let body = json!({"authority": "Court order 2026-CV-0042", "reason": "Records of a repealed program"});

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
    assert_eq!(cert["authority"], "Court order 2026-CV-0042");
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
