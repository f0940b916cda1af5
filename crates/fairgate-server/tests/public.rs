//! The public's pages: the 90/180 stay calculator as a form, with no account. The
//! answer is the core calculator's, in sentences; each wrong field is named.

mod common;

use common::*;

async fn post_calculator(s: &Server, fields: &[(&str, &str)]) -> (u16, String) {
    let (token, pair) = csrf(s, "/public/calculator", None).await;
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    all.push(("csrf", &token));
    let r = s.client.post(s.url("/public/calculator")).header("cookie", pair).form(&all).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn the_stay_calculator_answers_as_the_rule_does_and_names_what_is_wrong() {
    let s = start().await;
    let size = s.tree_size().await;
    // 30 days of January and 29 from February 1 to March 1: 59 used.
    let (st, html) =
        post_calculator(&s, &[("stays", "2026-01-01..2026-01-30\n2026-02-01..2026-03-01"), ("on", "2026-03-01")]).await;
    assert_eq!(st, 200, "{html}");
    let expected = fairgate_core::stay::describe(
        fairgate_core::stay::Rule::SCHENGEN,
        &fairgate_core::stay::calculate(
            fairgate_core::stay::Rule::SCHENGEN,
            &[
                fairgate_core::stay::Period::parse("s", "2026-01-01..2026-01-30").unwrap(),
                fairgate_core::stay::Period::parse("s", "2026-02-01..2026-03-01").unwrap(),
            ],
            &[],
            jiff::civil::date(2026, 3, 1),
        )
        .unwrap(),
    );
    assert!(html.contains(&expected), "{expected}\n{html}");
    assert!(html.contains("Days of stay in the 180 days up to 2026-03-01: 59."), "{html}");
    // Another rule.
    let (_, html) =
        post_calculator(&s, &[("stays", "2026-01-01..2026-01-10"), ("on", "2026-01-10"), ("rule", "5/30")]).await;
    assert!(html.contains("Overstay"), "{html}");
    // Wrong fields are named, each.
    let (st, html) =
        post_calculator(&s, &[("stays", "2026-01-01..\n2026-02-10..2026-02-01"), ("on", "tomorrow")]).await;
    assert_eq!(st, 422, "{html}");
    assert!(html.contains("<strong>stays, line 1</strong>"), "{html}");
    assert!(html.contains("<strong>on</strong>"), "{html}");
    // Without the form token: refused.
    let r = s
        .client
        .post(s.url("/public/calculator"))
        .form(&[("stays", "2026-01-01..2026-01-02"), ("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(s.tree_size().await, size, "nothing typed into the calculator is recorded");
    s.stop().await;
}

#[tokio::test]
async fn the_programs_and_the_access_policy_are_pages_anyone_can_read() {
    let s = start().await;
    let source = format!(
        "id = \"visitor-check\"\ntitle = \"Visitor check-in\"\nlegal_basis = \"Test Act s. 4\"\nstarts = {}\nsunset = {}\n\n[selection]\nadmission_class = [\"WT\"]\n\n[[obligations]]\nkind = \"register\"\nwithin_days = 5\n",
        day(1),
        day(300)
    );
    let (st, b) =
        s.post(&s.admin, "/programs", &serde_json::json!({"source": source, "population": wt_population()})).await;
    assert_eq!(st, 201, "{b}");
    let r = s.client.get(s.url("/public/programs")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let cache = r.headers().get("cache-control").map(|v| v.to_str().unwrap().to_string());
    assert_ne!(cache.as_deref(), Some("no-store"), "nothing personal: cacheable");
    let html = r.text().await.unwrap();
    assert!(html.contains("Visitor check-in") && html.contains("Test Act s. 4"), "{html}");
    assert!(html.contains(&format!("<strong>{}</strong>", day(300))), "the sunset: {html}");
    assert!(html.contains(">draft<"), "{html}");

    let html = s.client.get(s.url("/public/policy")).send().await.unwrap().text().await.unwrap();
    let published = fairgate_core::policy::published();
    // Every command and every read is on the page, with its roles and purposes.
    for a in &published.actions {
        assert!(html.contains(a.description), "{}", a.action);
    }
    for r in &published.reads {
        assert!(html.contains(&r.purposes.join(", ")), "{}", r.read);
    }
    // An officer may record a crossing; an auditor may not: the row says so.
    let crossing = html.split("record an entry or an exit").nth(1).unwrap().split("</tr>").next().unwrap();
    let cells: Vec<&str> = crossing.split("<td>").skip(1).map(|c| c.split("</td>").next().unwrap()).collect();
    let role = |r: &str| published.roles.iter().position(|x| *x == r).unwrap();
    assert_eq!((cells[role("officer")], cells[role("auditor")]), ("yes", ""), "{crossing}");
    s.stop().await;
}

#[tokio::test]
async fn the_log_and_the_expungement_certificates_have_pages_with_how_to_check_them() {
    let s = start().await;
    let id = s.specimen().await;
    let body = serde_json::json!({"authority": "court-order", "reason": "Ordered"});
    assert_eq!(s.post(&s.auditor, &format!("/subjects/{id}/expunge/approve"), &body).await.0, 201);
    assert_eq!(s.post(&s.admin, &format!("/subjects/{id}/expunge"), &body).await.0, 201);
    let html = s.client.get(s.url("/public/expungements")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("person <code>{id}</code>")), "{html}");
    assert!(html.contains("Order of a court") && html.contains("fairgate expunge verify CERT.json"), "{html}");
    assert!(!html.contains("ERIKSSON") && !html.contains("L898902C3"), "a pseudonymous id only");

    let checkpoint = s.registry_checkpoint().await;
    let html = s.client.get(s.url("/public/log")).send().await.unwrap().text().await.unwrap();
    let first = checkpoint.lines().next().unwrap();
    assert!(html.contains(first), "the checkpoint's origin line: {html}");
    assert!(html.contains(&s.registry.verifier_key()), "the key to check it with");
    assert!(html.contains("fairgate audit monitor"), "{html}");
    s.stop().await;
}
