//! The auditors' and administrators' pages, over HTTP as a browser sends it: an
//! administrator drafts a program the impact analysis flags; it cannot be put in
//! force until an auditor, having confirmed reading the analysis and the plan,
//! signs it off with reasons; the designation statistics; the access-log search by
//! member of staff, purpose and day, itself logged on each person found; and an
//! expungement approved by an auditor and carried out by an administrator.

mod common;

use common::*;

async fn post_form(s: &Server, cookie: &str, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    s.client.post(s.url(path)).header("cookie", cookie).form(fields).send().await.unwrap()
}

#[tokio::test]
async fn a_flagged_draft_is_signed_off_by_an_auditor_who_read_its_analysis() {
    let s = start().await;
    let admin = signed_in(&s, "admin").await;
    let (_, html) = page(&s, &admin, "/desk/programs").await;
    assert!(html.contains("Draft a program"), "{html}");
    let csrf = form_token(&html);
    // A population that is not JSON: refused, naming the field.
    let source = pilot_source("E-9");
    let r =
        post_form(&s, &admin, "/desk/programs", &[("csrf", &csrf), ("source", &source), ("population", "nope")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("population"));
    let people = pilot_population().to_string();
    let r =
        post_form(&s, &admin, "/desk/programs", &[("csrf", &csrf), ("source", &source), ("population", &people)]).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // Flagged: the administrator cannot put it in force yet.
    let (_, html) = page(&s, &admin, "/desk/programs/pilot-visitors").await;
    assert!(html.contains("Flagged") && html.contains("KAR"), "the analysis shows the group: {html}");
    let r = post_form(&s, &admin, "/desk/programs/pilot-visitors/activate", &[("csrf", &csrf), ("version", "1")]).await;
    assert_eq!(r.status(), 409, "{}", r.text().await.unwrap());

    // The auditor reads it and signs off; not without confirming, not without reasons.
    let auditor = signed_in(&s, "auditor").await;
    let (_, desk) = page(&s, &auditor, "/desk").await;
    for link in
        ["/desk/programs", "/desk/designations", "/desk/access-log", "/desk/expungements", "/desk/law-enforcement"]
    {
        assert!(desk.contains(link), "{link} on the auditor's desk: {desk}");
    }
    let (_, html) = page(&s, &auditor, "/desk/programs/pilot-visitors").await;
    assert!(html.contains("Sign off this draft") && html.contains("I have read the impact analysis"), "{html}");
    assert!(!html.contains("Put version"), "activation is the administrator's");
    let csrf_a = form_token(&html);
    let why = "The class is a treaty category; the concentration is expected and reviewed";
    let r = post_form(
        &s,
        &auditor,
        "/desk/programs/pilot-visitors/sign-off",
        &[("csrf", &csrf_a), ("version", "1"), ("reason", why)],
    )
    .await;
    assert_eq!(r.status(), 422, "must confirm reading");
    let r = post_form(
        &s,
        &auditor,
        "/desk/programs/pilot-visitors/sign-off",
        &[("csrf", &csrf_a), ("version", "1"), ("read", "yes"), ("reason", "")],
    )
    .await;
    assert_eq!(r.status(), 422, "reasons are required");
    let r = post_form(
        &s,
        &auditor,
        "/desk/programs/pilot-visitors/sign-off",
        &[("csrf", &csrf_a), ("version", "1"), ("read", "yes"), ("reason", why)],
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (_, html) = page(&s, &admin, "/desk/programs/pilot-visitors").await;
    assert!(html.contains(why), "the sign-off and its reasons are shown");
    let r = post_form(&s, &admin, "/desk/programs/pilot-visitors/activate", &[("csrf", &csrf), ("version", "1")]).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (_, views) = s.read(&s.admin, None, "/programs").await;
    assert_eq!(views[0]["status"], "active", "{views}");
    s.stop().await;
}

#[tokio::test]
async fn the_access_log_search_finds_reads_and_is_itself_logged() {
    let s = start().await;
    let id = s.specimen().await;
    // An officer reads the record twice for border checks, a supervisor once for compliance.
    for _ in 0..2 {
        assert_eq!(s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await.0, 200);
    }
    assert_eq!(s.read(&s.supervisor, Some("compliance-review"), &format!("/subjects/{id}")).await.0, 200);
    let auditor = signed_in(&s, "auditor").await;
    let (st, html) = page(&s, &auditor, "/desk/access-log").await;
    assert_eq!(st, 200);
    assert!(html.contains("<option value=\"border-check\"") && html.contains(">officer<"), "{html}");
    let officer_id = html
        .split("<option value=\"")
        .find(|o| o.contains(">officer<"))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let today = day(0).to_string();
    let size = s.tree_size().await;
    let q = format!("/desk/access-log?staff={officer_id}&purpose=border-check&from={today}&to={today}");
    let (st, html) = page(&s, &auditor, &q).await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("2 reads found"), "{html}");
    assert!(html.contains(&id[..8]) && html.contains("GET /subjects/{id}"), "{html}");
    assert_eq!(s.tree_size().await, size + 1, "the search is a read of the one person found, logged");
    // Everyone, every purpose: the officer's two, the supervisor's one, and the search itself.
    let (_, html) = page(&s, &auditor, &format!("/desk/access-log?staff=&purpose=&from={today}&to={today}")).await;
    assert!(html.contains("4 reads found"), "{html}");
    // A span over 31 days is refused, naming the field.
    let (st, html) = page(&s, &auditor, "/desk/access-log?from=2026-01-01&to=2026-03-01").await;
    assert_eq!(st, 422);
    assert!(html.contains("to:"), "{html}");
    // Officers may not search it.
    let officer = signed_in(&s, "officer").await;
    assert_eq!(page(&s, &officer, &q).await.0, 403);
    s.stop().await;
}

#[tokio::test]
async fn an_expungement_is_approved_by_an_auditor_and_carried_out_by_an_administrator() {
    let s = start().await;
    let id = s.specimen().await;
    let auditor = signed_in(&s, "auditor").await;
    let (_, html) = page(&s, &auditor, "/desk/expungements").await;
    assert!(html.contains("Approve the expungement") && html.contains("<option value=\"court-order\""), "{html}");
    let csrf = form_token(&html);
    let fields =
        [("csrf", csrf.as_str()), ("subject", id.as_str()), ("authority", "court-order"), ("reason", "Order 2026/77")];
    let r = post_form(&s, &auditor, "/desk/expungements", &fields).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let admin = signed_in(&s, "admin").await;
    let (_, html) = page(&s, &admin, "/desk/expungements").await;
    assert!(html.contains("Carry out the expungement"), "{html}");
    let csrf = form_token(&html);
    let fields =
        [("csrf", csrf.as_str()), ("subject", id.as_str()), ("authority", "court-order"), ("reason", "Order 2026/77")];
    let r = post_form(&s, &admin, "/desk/expungements", &fields).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await.0, 410, "erased");
    let certs: serde_json::Value = s.client.get(s.url("/expungements")).send().await.unwrap().json().await.unwrap();
    assert_eq!(certs.as_array().unwrap().len(), 1, "{certs}");
    s.stop().await;
}

/// The statistics page answers at once: after a new designation it shows the
/// figures it has, says they are being brought up to date, and does so in the
/// background (the API counts a new designation at once: `designations.rs`).
#[tokio::test]
async fn the_statistics_page_answers_at_once_and_catches_up_in_the_background() {
    async fn caught_up(s: &Server, cookie: &str) -> bool {
        for _ in 0..100 {
            let (st, html) = page(s, cookie, "/desk/designations").await;
            assert_eq!(st, 200);
            if !html.contains("being counted now") {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    }
    let s = start().await;
    let id = s.specimen().await;
    let auditor = signed_in(&s, "auditor").await;
    // Worked out at start; the person recorded since is counted in the background.
    assert!(caught_up(&s, &auditor).await);
    let d = serde_json::json!({"reason": "document-anomaly", "facts": "The data page laminate lifts at a corner", "place": "JFK"});
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/designations"), &d).await.0, 201);
    let (_, html) = page(&s, &auditor, "/desk/designations").await;
    assert!(html.contains("being counted now"), "out of date, said so: {html}");
    assert!(caught_up(&s, &auditor).await, "worked out again in the background");
    s.stop().await;
}
