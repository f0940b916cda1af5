//! The supervisors', adjudicators' and approvers' queues in the browser, over HTTP
//! as a browser sends it: a designation reviewed within its 72 hours, an excuse
//! approved, an overdue obligation determined with the notice as evidence, a
//! correction answered with the days left of its 45, and an emergency
//! law-enforcement access reviewed. Each queue asks for its purpose, is logged per
//! person listed, empties once decided, and refuses what the role may not do.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn each_queue_lists_what_waits_and_takes_a_decision_with_its_reason() {
    let s = start().await;
    let (id, number, code) = overdue_visitor(&s).await;
    // The work that waits: a designation, an excuse, a correction (the determination
    // is the overdue re-registration).
    let d = json!({"reason": "document-anomaly", "facts": "The data page laminate lifts at a corner", "place": "JFK"});
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/designations"), &d).await.0, 201);
    let (st, session) = activate(&s, &number, &code, "a passphrase of my own").await;
    assert_eq!(st, 200, "{session}");
    let token = session["token"].as_str().unwrap().to_string();
    let r = s
        .client
        .post(s.url("/portal/corrections"))
        .bearer_auth(&token)
        .json(&json!({"field": "given_names", "text": "My given names are ANNA MARIE, not ANNA MARIA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let supervisor = signed_in(&s, "supervisor").await;
    let (_, desk) = page(&s, &supervisor, "/desk").await;
    for q in ["designations", "excuses", "determinations", "corrections"] {
        assert!(desk.contains(&format!("/desk/queues/{q}")), "{q} linked from the supervisor's desk");
    }
    // Without a purpose: asked for one, nothing read.
    let size = s.tree_size().await;
    let (st, html) = page(&s, &supervisor, "/desk/queues/designations").await;
    assert_eq!(st, 200);
    assert!(html.contains("<option value=\"compliance-review\"") && !html.contains("laminate"), "{html}");
    assert_eq!(s.tree_size().await, size);

    // Designations: the facts, the deadline and hours left; logged; reviewed with a reason.
    let (st, html) = page(&s, &supervisor, "/desk/queues/designations?purpose=compliance-review").await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("laminate lifts") && html.contains("hours left"), "{html}");
    assert_eq!(s.tree_size().await, size + 1, "the one person listed: one access logged");
    let csrf = form_token(&html);
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        s.client.post(s.url(&path)).header("cookie", supervisor.clone()).form(&fields).send()
    };
    let base = |item: &str| {
        vec![("csrf", csrf.clone()), ("purpose", "compliance-review".to_string()), ("item", item.to_string())]
    };
    let mut f = base("1");
    f.extend([("decision", "approve".into()), ("reason", "Checked the document: the laminate is lifting".into())]);
    let r = post(format!("/desk/queues/designations/{id}"), f).await.unwrap();
    assert_eq!(r.status(), 200);
    let (_, html) = page(&s, &supervisor, "/desk/queues/designations?purpose=compliance-review").await;
    assert!(html.contains("Nothing is waiting"), "reviewed, so gone: {html}");
    let (_, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(t["designations"][0]["status"], "approved", "{t}");

    // Corrections: what the person says, the days left of 45; answered with a reply.
    let (_, html) = page(&s, &supervisor, "/desk/queues/corrections?purpose=compliance-review").await;
    assert!(html.contains("ANNA MARIE") && html.contains("days left of the 45"), "{html}");
    let mut f = base("1");
    f.extend([("decision", "corrected".into()), ("reason", "Corrected after checking the passport".into())]);
    assert_eq!(post(format!("/desk/queues/corrections/{id}"), f).await.unwrap().status(), 200);
    let (_, list) = get(&s, &token, "/portal/corrections").await;
    assert_eq!(list[0]["status"], "answered", "{list}");

    // Excuses: recorded by an officer, approved here by a supervisor.
    let excuse = json!({"obligation": REREG, "category": "medical", "text": "In hospital for three weeks"});
    let (_, html) = page(&s, &supervisor, "/desk/queues/determinations?purpose=compliance-review").await;
    assert!(html.contains("reregister") && html.contains("RR123456789US"), "overdue, with its notice: {html}");
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/excuses"), &excuse).await.0, 201);
    let (_, html) = page(&s, &supervisor, "/desk/queues/excuses?purpose=compliance-review").await;
    assert!(html.contains("In hospital for three weeks"), "{html}");

    // Determinations are the adjudicator's: only that queue, for benefit adjudication.
    let adjudicator = signed_in(&s, "adjudicator").await;
    let (_, desk) = page(&s, &adjudicator, "/desk").await;
    assert!(desk.contains("/desk/queues/determinations") && !desk.contains("/desk/queues/designations"), "{desk}");
    let (st, _) = page(&s, &adjudicator, "/desk/queues/designations?purpose=benefit-adjudication").await;
    assert_eq!(st, 403, "benefit adjudication has no business with designations");
    let (st, html) = page(&s, &adjudicator, "/desk/queues/determinations?purpose=benefit-adjudication").await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("notice served") && html.contains("RR123456789US"), "evidence prefilled: {html}");
    let csrf_a = form_token(&html);
    let r = s
        .client
        .post(s.url(&format!("/desk/queues/determinations/{id}")))
        .header("cookie", adjudicator.clone())
        .form(&[
            ("csrf", csrf_a.as_str()),
            ("purpose", "benefit-adjudication"),
            ("item", REREG),
            ("finding", "not-willful"),
            ("reason", "The person was in hospital"),
            ("evidence", "notice RR123456789US\nhospital letter"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (_, html) = page(&s, &adjudicator, "/desk/queues/determinations?purpose=benefit-adjudication").await;
    assert!(html.contains("Nothing is waiting"), "{html}");

    // The excuse approved (by someone other than who recorded it).
    let mut f = base(REREG);
    f.push(("decision", "".into()));
    assert_eq!(post(format!("/desk/queues/excuses/{id}"), f).await.unwrap().status(), 200);
    let (_, html) = page(&s, &supervisor, "/desk/queues/excuses?purpose=compliance-review").await;
    assert!(html.contains("Nothing is waiting"), "{html}");

    // An officer may not read the queues.
    let officer = signed_in(&s, "officer").await;
    assert_eq!(page(&s, &officer, "/desk/queues/designations?purpose=registration").await.0, 403);
    s.stop().await;
}

#[tokio::test]
async fn an_approver_reviews_an_emergency_law_enforcement_access() {
    let s = start().await;
    let id = s.specimen().await;
    let em = json!({"case_number": "PD-77", "reasons": "Imminent threat reported", "emergency": true});
    let (st, b) = s.post(&s.supervisor, &format!("/subjects/{id}/law-enforcement"), &em).await;
    assert_eq!(st, 201, "{b}");
    let approver = signed_in(&s, "approver").await;
    let (_, desk) = page(&s, &approver, "/desk").await;
    assert!(desk.contains("/desk/law-enforcement"), "{desk}");
    let (st, html) = page(&s, &approver, "/desk/law-enforcement").await;
    assert_eq!(st, 200);
    assert!(
        html.contains("PD-77")
            && html.contains("Imminent threat reported")
            && html.contains("awaiting-approval")
            && html.contains("Confirm the emergency access")
            && html.contains("Review of the emergency access"),
        "{html}"
    );
    let csrf = form_token(&html);
    let r = s
        .client
        .post(s.url(&format!("/desk/law-enforcement/{id}/1")))
        .header("cookie", approver.clone())
        .form(&[("csrf", csrf.as_str()), ("decision", "not-upheld"), ("reason", "No threat was substantiated")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (_, html) = page(&s, &approver, "/desk/law-enforcement").await;
    assert!(html.contains("Nothing awaits a decision"), "{html}");
    // The supervisor who asked may not decide.
    let supervisor = signed_in(&s, "supervisor").await;
    assert_eq!(page(&s, &supervisor, "/desk/law-enforcement").await.0, 403);
    s.stop().await;
}
