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

/// The portal in Spanish and Arabic (right to left), and the person's own business
/// there: a notice with its appointment booked, a correction asked for, a change of
/// address reported, everything downloaded.
#[tokio::test]
async fn the_portal_speaks_three_languages_and_takes_the_persons_own_business() {
    let s = start().await;
    desk_program(&s).await;
    let id = s.specimen().await;
    let mut e = entry(&format!("{}T10:00:00Z", day(-1)));
    e["admission_class"] = serde_json::json!("WT");
    e["admitted_until"] = serde_json::json!(day(60).to_string());
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &e).await.0, 201);
    // A voluntary registration elsewhere gives the receipt; the program's own
    // registration is still due at an office, so the daily run issues a notice.
    let mut r = registration();
    r["at"] = serde_json::json!(format!("{}T09:00:00Z", day(-2)));
    let (st, r) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &r).await;
    assert_eq!(st, 201, "{r}");
    let (number, code) = (r["registration_number"].as_str().unwrap(), r["access_code"].as_str().unwrap());
    s.registry
        .compliance_run(jiff::Timestamp::now(), &fairgate_core::access::Actor::system("test"), day(0), &mut |_, _| {})
        .unwrap();

    // Spanish, asked for: the page and the cookie that keeps it.
    let r = s.client.get(s.url("/portal?lang=es")).send().await.unwrap();
    assert!(r.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("fairgate_lang=es")));
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"es\" dir=\"ltr\"")
            && html.contains("active el portal")
            && html.contains("Saltar al contenido principal"),
        "{html}"
    );
    // Arabic, from the browser's own preference: right to left.
    let html = s
        .client
        .get(s.url("/portal"))
        .header("accept-language", "ar-EG,ar;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<html lang=\"ar\" dir=\"rtl\"") && html.contains("فعّل"), "{html}");

    // Activate (in Arabic, kept by the cookie); the records page is in Arabic too.
    let (token, pair) = csrf(&s, "/portal", None).await;
    let cookie = format!("{pair}; fairgate_lang=ar");
    let r = s
        .client
        .post(s.url("/portal/web/activate"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("registration_number", number),
            ("access_code", code),
            ("passphrase", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let session = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let cookie = format!("{cookie}; {session}");
    let html = page(&s, &cookie, "/portal/me").await.1;
    assert!(html.contains("dir=\"rtl\"") && html.contains("ما يجب عليك فعله"), "{html}");
    // The notice is there, with its appointment form.
    assert!(html.contains("name=\"obligation\" value=\"visitor-desk/v1/obligations[0]/"), "{html}");
    let obligation = html.split("name=\"obligation\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();

    // In English from here on.
    let cookie = cookie.replace("fairgate_lang=ar", "fairgate_lang=en");
    let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
        s.client.post(s.url(path)).header("cookie", cookie.clone()).form(&fields).send()
    };
    let r = post(
        "/portal/web/appointment",
        vec![("csrf", token.clone()), ("obligation", obligation), ("office", "CHI-FO".into()), ("from", "".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Booked: CHI-FO"), "{html}");
    let r = post(
        "/portal/web/correction",
        vec![
            ("csrf", token.clone()),
            ("field", "given_names".into()),
            ("text", "My given names are ANNA MARIE".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("Request 1 sent"));
    // A change with its date missing: refused, naming the field.
    let change = |on: &str| {
        vec![
            ("csrf", token.clone()),
            ("change", "address".to_string()),
            ("changed_on", on.to_string()),
            ("street", "12 Elm Street".into()),
            ("city", "Chicago".into()),
            ("postal_code", "60601".into()),
        ]
    };
    let r = post("/portal/web/change", change("")).await.unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("changed_on"));
    let r = post("/portal/web/change", change(&day(-1).to_string())).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, t) = s.read(&s.officer, Some("registration"), &format!("/subjects/{id}")).await;
    assert_eq!(t["address"]["postal_code"], "60601", "{t}");
    assert_eq!(t["corrections"][0]["field"], "given_names", "{t}");
    assert_eq!(t["appointments"][0]["slot"]["office"], "CHI-FO", "{t}");
    // The records page lists the correction; everything downloads.
    let html = page(&s, &cookie, "/portal/me").await.1;
    assert!(html.contains("Request 1 (given_names): open"), "{html}");
    let r = s.client.get(s.url("/portal/web/export?format=json")).header("cookie", &cookie).send().await.unwrap();
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let all: serde_json::Value = r.json().await.unwrap();
    assert_eq!(all["records"]["surname"], "ERIKSSON");
    let r = s.client.get(s.url("/portal/web/export?format=html")).header("cookie", &cookie).send().await.unwrap();
    assert!(r.text().await.unwrap().contains("Who looked at your records"));
    // Without a session: back to the forms, nothing read.
    let r = s.client.get(s.url("/portal/web/export?format=json")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 303);
    s.stop().await;
}
