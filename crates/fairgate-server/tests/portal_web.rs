//! The registrant's portal in the browser: the receipt's code opens it, the person
//! chooses a passphrase, and sees their records and everyone who looked and why.

mod common;

use common::*;

#[tokio::test]
async fn a_person_activates_the_portal_from_the_receipt_and_sees_who_looked_and_why() {
    let s = start().await;
    let id = s.specimen().await;
    let (st, r) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &registration()).await;
    assert_eq!(st, 201, "{r}");
    let (number, code) = (r["registration_number"].as_str().unwrap(), r["access_code"].as_str().unwrap());
    assert!(r["printed_receipt"].as_str().unwrap().contains("/portal"), "the receipt sends people here");
    // An officer reads the record for border-check: the person will see it.
    assert_eq!(s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await.0, 200);

    let (token, pair) = csrf(&s, "/portal", None).await;
    let post = |path: &'static str, fields: Vec<(&'static str, String)>, cookie: String| {
        s.client.post(s.url(path)).header("cookie", cookie).form(&fields).send()
    };
    const PASS: &str = "correct horse battery";
    let activation = |code: &str| {
        vec![
            ("csrf", token.clone()),
            ("registration_number", number.to_string()),
            ("access_code", code.to_string()),
            ("passphrase", PASS.to_string()),
        ]
    };
    // A wrong code: said so, nothing opened.
    let r = post("/portal/web/activate", activation("AAAA-AAAA-AAAA"), pair.clone()).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.text().await.unwrap().contains("not right"));
    // With a staff session cookie in the browser: refused (the portal is the person's own).
    let r = post("/portal/web/activate", activation(code), format!("{pair}; fairgate_session=fs2_1_x")).await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // The right code and a passphrase: in, with a cookie for /portal only.
    let r = post("/portal/web/activate", activation(code), pair.clone()).await.unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set.contains("Path=/portal") && set.contains("HttpOnly"), "{set}");
    let session = set.split(';').next().unwrap().to_string();
    let me = s.client.get(s.url("/portal/me")).header("cookie", format!("{session}; {pair}")).send().await.unwrap();
    assert_eq!(me.status().as_u16(), 200);
    let html = me.text().await.unwrap();
    assert!(html.contains("ERIKSSON, ANNA MARIA"), "{html}");
    assert!(html.contains("Test Agency (officer)") && html.contains("border-check"), "who looked and why: {html}");
    // The code is spent: activating again says to sign in; signing in works.
    let r = post("/portal/web/activate", activation(code), pair.clone()).await.unwrap();
    assert_eq!(r.status().as_u16(), 409);
    let r = post(
        "/portal/web/login",
        vec![("csrf", token.clone()), ("registration_number", number.into()), ("passphrase", PASS.into())],
        pair.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    // Signing out ends the session itself, not only the cookie: the old token opens nothing.
    let r = s
        .client
        .post(s.url("/portal/web/logout"))
        .header("cookie", format!("{session}; {pair}"))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let r = s.client.get(s.url("/portal/me")).header("cookie", format!("{session}; {pair}")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 303, "the signed-out session is over");
    // Without a session, /portal/me sends you to the forms.
    let r = s.client.get(s.url("/portal/me")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/portal"));
    s.stop().await;
}
