//! The administrators' desk, over HTTP as a browser sends it: an account added
//! (its token shown once and working), another's token rotated (the old one stops
//! working), an account disabled, one's own account never changed; a place closed
//! for a span; the key epoch and backup page. Other roles are refused.

mod common;

use common::*;

async fn post_form(s: &Server, cookie: &str, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let r = s.client.post(s.url(path)).header("cookie", cookie).form(fields).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn shown_token(html: &str) -> String {
    html.split("<code>").nth(1).unwrap().split("</code>").next().unwrap().to_string()
}

#[tokio::test]
async fn an_administrator_manages_accounts_places_and_sees_the_key_epoch() {
    let s = start().await;
    let admin = signed_in(&s, "admin").await;
    let (_, desk) = page(&s, &admin, "/desk").await;
    for link in ["/desk/accounts", "/desk/places", "/desk/keys", "/desk/programs", "/desk/expungements"] {
        assert!(desk.contains(link), "{link} on the administrator's desk");
    }
    let (st, html) = page(&s, &admin, "/desk/accounts").await;
    assert_eq!(st, 200);
    assert!(html.contains("Disable officer") && !html.contains("Disable admin"), "never one's own: {html}");
    let csrf = form_token(&html);

    // A new account: a short password is refused, naming it; then added, token shown once.
    let (st, html) = post_form(
        &s,
        &admin,
        "/desk/accounts",
        &[("csrf", &csrf), ("name", "clerk"), ("role", "officer"), ("agency", "Port Authority"), ("password", "short")],
    )
    .await;
    assert_eq!(st, 422, "{html}");
    assert!(html.contains("password"), "{html}");
    let (st, html) = post_form(
        &s,
        &admin,
        "/desk/accounts",
        &[
            ("csrf", &csrf),
            ("name", "clerk"),
            ("role", "officer"),
            ("agency", "Port Authority"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(st, 200, "{html}");
    let token = shown_token(&html);
    assert!(token.starts_with("fg_"), "{token}");
    let id = s.specimen().await;
    assert_eq!(s.read(&token, Some("border-check"), &format!("/subjects/{id}")).await.0, 200, "the token works");

    // Rotated: the old token stops working, the new one works.
    let (st, html) = post_form(&s, &admin, "/desk/accounts/clerk/rotate", &[("csrf", &csrf)]).await;
    assert_eq!(st, 200, "{html}");
    let fresh = shown_token(&html);
    assert_eq!(s.read(&token, Some("border-check"), &format!("/subjects/{id}")).await.0, 401);
    assert_eq!(s.read(&fresh, Some("border-check"), &format!("/subjects/{id}")).await.0, 200);
    // Disabled: nothing works.
    let (st, _) = post_form(&s, &admin, "/desk/accounts/clerk/disable", &[("csrf", &csrf)]).await;
    assert_eq!(st, 200);
    assert_eq!(s.read(&fresh, Some("border-check"), &format!("/subjects/{id}")).await.0, 401);
    // One's own account: refused by the registry.
    let (st, _) = post_form(&s, &admin, "/desk/accounts/admin/rotate", &[("csrf", &csrf)]).await;
    assert_eq!(st, 403);
    // Without the token: refused, and nothing recorded (each desk form passes
    // `desk::staff_form`).
    assert_eq!(post_form(&s, &admin, "/desk/accounts/officer/disable", &[("csrf", "0")]).await.0, 403);
    let size = s.tree_size().await;
    for (path, fields) in [
        ("/desk/accounts", vec![("name", "mallory"), ("role", "admin"), ("agency", "X"), ("password", PASSWORD)]),
        ("/desk/places/close", vec![("code", "NYC-FO"), ("from", "2026-12-24"), ("until", ""), ("reason", "x")]),
        (
            "/desk/expungements",
            vec![("subject", "00000000000000000000000000000000"), ("authority", "court-order"), ("reason", "x")],
        ),
        ("/desk/programs", vec![("source", "x"), ("population", "[]")]),
    ] {
        let mut f = vec![("csrf", "0".repeat(32))];
        f.extend(fields.into_iter().map(|(k, v)| (k, v.to_string())));
        let r = s.client.post(s.url(path)).header("cookie", &admin).form(&f).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403, "{path}");
        assert!(r.text().await.unwrap().contains("This form has expired"), "{path}");
    }
    assert_eq!(s.tree_size().await, size, "nothing recorded");

    // A place closed for a week, the reason published.
    let (_, html) = page(&s, &admin, "/desk/places").await;
    assert!(html.contains("CHI-FO") && html.contains("Close it"), "{html}");
    let (from, until) = (day(10).to_string(), day(16).to_string());
    let (st, html) = post_form(
        &s,
        &admin,
        "/desk/places/close",
        &[("csrf", &csrf), ("code", "CHI-FO"), ("from", &from), ("until", &until), ("reason", "Renovation")],
    )
    .await;
    assert_eq!(st, 200, "{html}");
    let (_, html) = page(&s, &admin, "/desk/places").await;
    assert!(html.contains("Renovation") && html.contains(&until), "{html}");

    // A place added from its description, then changed; a description that is not
    // one is refused, naming the field.
    let (st, html) =
        post_form(&s, &admin, "/desk/places", &[("csrf", &csrf), ("edit", ""), ("description", "{")]).await;
    assert_eq!(st, 422);
    assert!(html.contains("description:"), "{html}");
    let office = |hours: &str| {
        serde_json::json!({"code": "BOS-FO", "name": "Boston field office", "kind": "office", "zone": "America/New_York",
            "address": "3 Demo Wharf, Boston, MA", "service_area": ["021"], "hours": {"mon": hours, "tue": hours},
            "holidays": [], "desks": 2, "minutes": {"registration": 20, "interview": 30, "re_registration": 15}})
        .to_string()
    };
    let (st, html) = post_form(
        &s,
        &admin,
        "/desk/places",
        &[("csrf", &csrf), ("edit", ""), ("description", &office("08:00-16:00"))],
    )
    .await;
    assert_eq!(st, 200, "{html}");
    let (_, html) = page(&s, &admin, "/desk/places?edit=BOS-FO").await;
    assert!(html.contains("Change BOS-FO") && html.contains("3 Demo Wharf"), "prefilled: {html}");
    let (st, html) = post_form(
        &s,
        &admin,
        "/desk/places",
        &[("csrf", &csrf), ("edit", "yes"), ("description", &office("09:00-17:00"))],
    )
    .await;
    assert_eq!(st, 200, "{html}");
    let places: serde_json::Value = s.client.get(s.url("/places")).send().await.unwrap().json().await.unwrap();
    let bos = places.as_array().unwrap().iter().find(|p| p["code"] == "BOS-FO").unwrap();
    assert_eq!(bos["hours"][0]["opens"], 540, "opens at 09:00 now: {bos}");

    // Keys and backups.
    let (st, html) = page(&s, &admin, "/desk/keys").await;
    assert_eq!(st, 200);
    assert!(
        html.contains("The master key epoch in force began") && html.contains("fairgate backup --to DIR"),
        "{html}"
    );

    // Other roles: refused.
    let officer = signed_in(&s, "officer").await;
    for p in ["/desk/accounts", "/desk/places", "/desk/keys"] {
        assert_eq!(page(&s, &officer, p).await.0, 403, "{p}");
    }
    s.stop().await;
}
