//! The officer's desk in the browser, driven as a browser would (cookies, the CSRF
//! token, form posts): sign in, find a person by document number for a purpose the
//! role may state, open the record; each read is logged before it is shown and the
//! page says where. Purposes the role may not use are neither offered nor accepted.

mod common;

use common::*;

#[tokio::test]
async fn an_officer_finds_a_person_and_opens_the_record_each_read_logged_and_shown() {
    let s = start().await;
    let id = s.specimen().await;
    // Without a session the desk sends you to sign in.
    let r = s.client.get(s.url("/desk")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/login"));

    let cookie = signed_in(&s, "officer").await;
    let (st, html) = page(&s, &cookie, "/desk").await;
    assert_eq!(st, 200, "{html}");
    // Only an officer's purposes for a look-up are offered.
    assert!(
        html.contains("<option value=\"registration\"") && html.contains("<option value=\"border-check\""),
        "{html}"
    );
    for never in ["law-enforcement", "oversight-audit", "benefit-adjudication"] {
        assert!(!html.contains(&format!("value=\"{never}\"")), "{never} offered to an officer");
    }
    let csrf = form_token(&html);

    // No purpose: asked for one, nothing read or logged.
    let size = s.tree_size().await;
    let post = |fields: Vec<(&'static str, String)>| {
        s.client.post(s.url("/desk/find")).header("cookie", cookie.clone()).form(&fields).send()
    };
    let r = post(vec![("csrf", csrf.clone()), ("document_number", "L898902C3".into()), ("purpose", "".into())])
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("Purpose of this read: choose one"));
    assert_eq!(s.tree_size().await, size);
    // A purpose the role may not state is refused by the registry, and logged as an attempt.
    let r = post(vec![
        ("csrf", csrf.clone()),
        ("document_number", "L898902C3".into()),
        ("purpose", "law-enforcement".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // Without the form token: refused.
    let r = post(vec![
        ("csrf", "0".repeat(32)),
        ("document_number", "L898902C3".into()),
        ("purpose", "border-check".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("This form has expired"));

    // The look-up: logged first, the page says where, and links the record.
    let before = s.tree_size().await;
    let r =
        post(vec![("csrf", csrf.clone()), ("document_number", "L898902C3".into()), ("purpose", "border-check".into())])
            .await
            .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert_eq!(s.tree_size().await, before + 1, "one access logged");
    assert!(html.contains(&format!("leaf <strong>{before}</strong>")), "{html}");
    assert!(html.contains("Read for <strong>border-check</strong>"), "{html}");
    let link = format!("/desk/subjects/{id}?purpose=border-check");
    assert!(html.contains(&link), "{html}");
    // The scanned zone finds the same person; a zone whose check digit fails is
    // refused, naming the field, and reads nobody.
    let zone = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let r = post(vec![("csrf", csrf.clone()), ("document_number", zone.into()), ("purpose", "border-check".into())])
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains(&link));
    let size = s.tree_size().await;
    let r = post(vec![
        ("csrf", csrf.clone()),
        ("document_number", zone.replace("C36UTO", "C33UTO")),
        ("purpose", "border-check".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("document_number: the machine-readable zone does not read"));
    assert_eq!(s.tree_size().await, size);
    // Unknown documents: said plainly, and the attempt logged too.
    let r =
        post(vec![("csrf", csrf.clone()), ("document_number", "ZZ0000000".into()), ("purpose", "border-check".into())])
            .await
            .unwrap();
    assert!(r.text().await.unwrap().contains("Nobody on record holds this document."));

    // Opening the record without a purpose asks for one and reads nothing.
    let size = s.tree_size().await;
    let (st, html) = page(&s, &cookie, &format!("/desk/subjects/{id}")).await;
    assert_eq!(st, 200);
    assert!(html.contains("Choose why you are reading") && !html.contains("ERIKSSON"), "{html}");
    assert_eq!(s.tree_size().await, size);
    // With one: the record, and the receipt of its read.
    let (st, html) = page(&s, &cookie, &link).await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("ERIKSSON, ANNA MARIA") && html.contains("L898902C3"), "{html}");
    assert!(html.contains(&format!("leaf <strong>{size}</strong>")), "{html}");
    // The stay panel is a read of its own, logged next.
    assert!(html.contains("Days used in the window from"), "{html}");
    assert!(html.contains(&format!("This stay read was logged at leaf {}.", size + 1)), "{html}");
    // So is the obligations panel.
    assert!(html.contains(&format!("This obligations read was logged at leaf {}.", size + 2)), "{html}");
    assert_eq!(s.tree_size().await, size + 3);
    // A purpose the role may not use for this read: refused, nothing shown.
    let (st, html) = page(&s, &cookie, &format!("/desk/subjects/{id}?purpose=law-enforcement")).await;
    assert_eq!(st, 403);
    assert!(!html.contains("ERIKSSON"));
    s.stop().await;
}

#[tokio::test]
async fn an_auditor_is_offered_only_oversight_and_a_stranger_no_desk() {
    let s = start().await;
    let cookie = signed_in(&s, "auditor").await;
    let (st, html) = page(&s, &cookie, "/desk").await;
    assert_eq!(st, 200);
    assert!(html.contains("value=\"oversight-audit\""), "{html}");
    assert!(!html.contains("value=\"border-check\"") && !html.contains("value=\"registration\""), "{html}");
    // A made-up session cookie is no session.
    let r = s.client.get(s.url("/desk")).header("cookie", "fairgate_session=forged").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 303);
    s.stop().await;
}

#[tokio::test]
async fn a_session_left_idle_for_thirty_minutes_ends_and_none_outlives_twelve_hours() {
    use std::sync::atomic::Ordering::SeqCst;
    let s = start().await;
    let minutes = |m: i64| s.clock_offset.store(m * 60, SeqCst);
    let open = |cookie: String| {
        let s = &s;
        async move { s.client.get(s.url("/desk")).header("cookie", cookie).send().await.unwrap().status().as_u16() }
    };
    let cookie = signed_in(&s, "officer").await;
    // In use every 25 minutes, it lives on.
    for m in [25, 50, 75] {
        minutes(m);
        assert_eq!(open(cookie.clone()).await, 200, "in use at minute {m}");
    }
    // Left alone for 31 minutes: ended, back to sign-in.
    minutes(75 + 31);
    assert_eq!(open(cookie.clone()).await, 303);
    minutes(75 + 40);
    assert_eq!(open(cookie.clone()).await, 303, "an ended session stays ended");

    // However busy, not past 12 hours from sign-in.
    minutes(0);
    let cookie = signed_in(&s, "officer").await;
    let mut m = 0;
    while m < 12 * 60 - 20 {
        m += 20;
        minutes(m);
        assert_eq!(open(cookie.clone()).await, 200, "minute {m}");
    }
    minutes(12 * 60 + 1);
    assert_eq!(open(cookie.clone()).await, 303, "12 hours after sign-in");
    s.stop().await;
}

#[tokio::test]
async fn a_supervisor_decides_a_1_n_candidate_in_the_browser_with_a_reason() {
    use base64::Engine as _;
    let s = start().await;
    let prints = base64::engine::general_purpose::STANDARD
        .encode(fairgate_core::minutiae::encode(&fairgate_biometrics::synthetic::minutiae(41, &[2, 7])).unwrap());
    let mut ids = Vec::new();
    for (n, name) in [("A1000001", "FIRST"), ("B2000002", "SECOND")] {
        let body = serde_json::json!({"document": {"kind": "P", "issuing_state": "UTO", "number": n, "expires_on": "2031-04-15"},
                                      "surname": name, "given_names": "TEST", "birth_date": "1980-02-02", "sex": "F", "nationality": "UTO"});
        let (_, b) = s.post(&s.officer, "/subjects", &body).await;
        let id = b["id"].as_str().unwrap().to_string();
        let reg = serde_json::json!({"kind": "port-of-entry", "place": "JFK", "voluntary": true, "captures": {"fingerprints": [prints]}});
        assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/registrations"), &reg).await.0, 201);
        ids.push(id);
    }
    let (a, b) = (&ids[0], &ids[1]);
    let cookie = signed_in(&s, "supervisor").await;
    // The purpose first; a supervisor may read the queue for registration only.
    let (st, html) = page(&s, &cookie, "/desk/identification").await;
    assert_eq!(st, 200);
    assert!(html.contains("value=\"registration\"") && !html.contains("value=\"border-check\""), "{html}");
    let size = s.tree_size().await;
    let (st, html) = page(&s, &cookie, "/desk/identification?purpose=registration").await;
    assert_eq!(st, 200, "{html}");
    assert_eq!(s.tree_size().await, size + 2, "a logged read for each person listed");
    assert!(html.contains(&format!("action=\"/desk/identification/{b}\"")) && html.contains(a.as_str()), "{html}");
    let csrf = form_token(&html);
    let decide = |reason: &'static str| {
        s.client
            .post(s.url(&format!("/desk/identification/{b}")))
            .header("cookie", cookie.clone())
            .form(&[
                ("csrf", csrf.as_str()),
                ("candidate", a.as_str()),
                ("decision", "different-people"),
                ("reason", reason),
            ])
            .send()
    };
    let r = decide("  ").await.unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("reason"));
    let r = decide("Different birth dates in the passports and different faces").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("Decision recorded"));
    let (_, html) = page(&s, &cookie, "/desk/identification?purpose=registration").await;
    assert!(html.contains("Nothing awaits a decision."), "{html}");
    // An officer may not decide.
    let officer = signed_in(&s, "officer").await;
    let r = s
        .client
        .post(s.url(&format!("/desk/identification/{b}")))
        .header("cookie", officer.clone())
        .form(&[
            ("csrf", form_token(&page(&s, &officer, "/desk").await.1).as_str()),
            ("candidate", a.as_str()),
            ("decision", "same-person"),
            ("reason", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains("Not shown") && !html.contains("expired"), "the policy refuses, not the form token: {html}");
    s.stop().await;
}
