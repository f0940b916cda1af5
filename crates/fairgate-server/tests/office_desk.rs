//! The office desk in the browser, over HTTP as a browser sends it: an appointment
//! booked from the person's record, the office's day (booked slots as counts), a
//! check-in by travel document (a logged look-up), the waiting list read for a
//! purpose (logged per person), calling the next to a desk, and the visit served.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn the_office_desk_books_checks_in_calls_and_serves() {
    let s = start().await;
    desk_program(&s).await;
    let id = s.specimen().await;
    let mut e = entry(&format!("{}T10:00:00Z", day(-1)));
    e["admission_class"] = json!("WT");
    e["admitted_until"] = json!(day(60).to_string());
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &e).await.0, 201);
    let cookie = signed_in(&s, "officer").await;

    // From the record: the registration obligation is met at an office, so it can be booked.
    let (st, html) = page(&s, &cookie, &format!("/desk/subjects/{id}?purpose=registration")).await;
    assert_eq!(st, 200);
    assert!(html.contains(&format!("/desk/subjects/{id}/appointment")), "{html}");
    let (st, html) = page(&s, &cookie, &format!("/desk/subjects/{id}/appointment")).await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("register, due") && html.contains("Logged before it was shown"), "{html}");
    let csrf = form_token(&html);
    let obligation = html.split("name=\"obligation\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        s.client.post(s.url(&path)).header("cookie", cookie.clone()).form(&fields).send()
    };
    // A port is not an office: refused, naming the field.
    let r = post(
        format!("/desk/subjects/{id}/appointment"),
        vec![("csrf", csrf.clone()), ("obligation", obligation.clone()), ("office", "JFK".into()), ("from", "".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("office"));
    let r = post(
        format!("/desk/subjects/{id}/appointment"),
        vec![
            ("csrf", csrf.clone()),
            ("obligation", obligation.clone()),
            ("office", "CHI-FO".into()),
            ("from", "".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Appointment booked") && html.contains("CHI-FO"), "{html}");

    // The office desk asks for the office and the purpose first, reading nothing.
    let size = s.tree_size().await;
    let (st, html) = page(&s, &cookie, "/desk/office").await;
    assert_eq!(st, 200);
    assert!(html.contains("<option value=\"CHI-FO\"") && html.contains("<option value=\"registration\""), "{html}");
    assert_eq!(s.tree_size().await, size);
    let desk = "/desk/office?office=CHI-FO&purpose=registration".to_string();
    let (st, html) = page(&s, &cookie, &desk).await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("Nobody has checked in today"), "{html}");
    assert_eq!(s.tree_size().await, size, "an empty list reads nobody");

    // Check in by travel document: a logged look-up, then the check-in.
    let form = |extra: Vec<(&'static str, String)>| {
        let mut f =
            vec![("csrf", csrf.clone()), ("office", "CHI-FO".to_string()), ("purpose", "registration".to_string())];
        f.extend(extra);
        f
    };
    let r = post("/desk/office/check-in".into(), form(vec![("document_number", "NOBODY123".into())])).await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("document_number"));
    let r = post("/desk/office/check-in".into(), form(vec![("document_number", "L898902C3".into())])).await.unwrap();
    assert_eq!(r.status(), 303);
    let back = r.headers()["location"].to_str().unwrap().to_string();
    assert!(back.contains("note=checked-in"), "{back}");
    let before = s.tree_size().await;
    let (_, html) = page(&s, &cookie, &back).await;
    assert!(html.contains("Checked in") && html.contains(&id[..8]) && html.contains("waiting"), "{html}");
    assert_eq!(s.tree_size().await, before + 1, "the list read is logged for the one person listed");

    // Call the next to desk 2, then serve.
    let r = post("/desk/office/call".into(), form(vec![("desk", "2".into())])).await.unwrap();
    assert_eq!(r.status(), 303);
    let (_, html) = page(&s, &cookie, r.headers()["location"].to_str().unwrap()).await;
    assert!(html.contains("Called") && html.contains(">2<"), "{html}");
    let r = post("/desk/office/done".into(), form(vec![("subject", id.clone()), ("outcome", "served".into())]))
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().contains("note=served"));
    // Without a token: refused.
    let r = s
        .client
        .post(s.url("/desk/office/call"))
        .header("cookie", cookie.clone())
        .form(&[
            ("csrf", "0".repeat(32)),
            ("office", "CHI-FO".into()),
            ("purpose", "registration".into()),
            ("desk", "1".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A purpose the role may not use for the list: refused by the registry.
    let (st, _) = page(&s, &cookie, "/desk/office?office=CHI-FO&purpose=law-enforcement").await;
    assert_eq!(st, 403);
    s.stop().await;
}
