//! The program lifecycle through HTTP: protected attributes refused, a proxy
//! flagged and held until an auditor signs it off, amendment, repeal and sunset, all
//! public in `GET /programs` and the transparency report.

mod common;

use common::*;
use serde_json::{json, Value};

fn today_plus(days: i64) -> String {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(jiff::Span::new().days(days))
        .unwrap()
        .to_string()
}

async fn programs(s: &Server) -> Vec<Value> {
    s.client.get(s.url("/programs")).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn a_program_goes_from_draft_to_repeal_and_every_step_is_public() {
    let s = start().await;

    // The 2002 call-in shape does not compile; the errors give line and column.
    let callin = format!("{}nationality = [\"IR\", \"SY\"]\nsex = \"M\"\n", pilot_source("WT"));
    let (st, b) = s.post(&s.admin, "/programs", &json!({"source": callin})).await;
    assert_eq!(st, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "source:9:1");
    assert!(b["errors"][0]["message"].as_str().unwrap().contains("protected attribute"), "{b}");
    assert!(b["errors"][1]["message"].as_str().unwrap().contains("`selection.sex`"), "{b}");

    // Only an administrator adds programs.
    let proxy = json!({"source": pilot_source("E-9"), "population": pilot_population()});
    assert_eq!(s.post(&s.officer, "/programs", &proxy).await.0, 403);

    // A proxy for nationality: drafted, flagged, and refused activation without a sign-off.
    let (st, b) = s.post(&s.admin, "/programs", &proxy).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!((b["version"].as_u64(), b["impact"]["flagged"].as_bool()), (Some(1), Some(true)));
    let kar = b["impact"]["groups"].as_array().unwrap().iter().find(|g| g["value"] == "KAR").unwrap();
    assert_eq!(kar["flagged"], true);
    let (st, b) = s.post(&s.admin, "/programs/pilot-visitors/activate", &json!({})).await;
    assert_eq!(st, 409, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("nationality KAR"), "{b}");

    // The sign-off is the auditor's alone, and needs reasons.
    let (st, _) = s.post(&s.admin, "/programs/pilot-visitors/sign-off", &json!({"reason": "fine"})).await;
    assert_eq!(st, 403);
    let (st, b) = s.post(&s.auditor, "/programs/pilot-visitors/sign-off", &json!({})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("reason")), "{b}");
    let why = "E-9 is a treaty class; the pilot runs at one port and is reviewed monthly";
    let (st, b) = s.post(&s.auditor, "/programs/pilot-visitors/sign-off", &json!({"reason": why})).await;
    assert_eq!(st, 200, "{b}");
    let (st, b) = s.post(&s.admin, "/programs/pilot-visitors/activate", &json!({})).await;
    assert_eq!((st, b["status"].as_str()), (200, Some("active")), "{b}");

    // Public: the status, the sign-off with the auditor's name and reasons.
    let list = programs(&s).await;
    assert_eq!(list[0]["status"], "active");
    assert_eq!(list[0]["sign_offs"][0]["by"], "auditor");
    assert_eq!(list[0]["sign_offs"][0]["reason"], why);
    let report: Value = s.client.get(s.url("/transparency.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(report["programs"][0]["sign_offs"][0]["reason"], why);
    let detail: Value = s.client.get(s.url("/programs/pilot-visitors")).send().await.unwrap().json().await.unwrap();
    assert_eq!(detail["documents"][0]["compiled"]["selection"]["admission_class"], json!(["E-9"]));
    assert_eq!(detail["documents"][0]["impact"]["flagged"], true);

    // An amendment is a new version through the same checks; this one clears alone.
    let (st, b) =
        s.post(&s.admin, "/programs", &json!({"source": pilot_source("WT"), "population": pilot_population()})).await;
    assert_eq!((st, b["version"].as_u64(), b["impact"]["flagged"].as_bool()), (201, Some(2), Some(false)), "{b}");
    let (st, _) = s.post(&s.admin, "/programs/pilot-visitors/activate", &json!({"version": 2})).await;
    assert_eq!(st, 200);
    let list = programs(&s).await;
    let status: Vec<(u64, &str)> =
        list.iter().map(|p| (p["version"].as_u64().unwrap(), p["status"].as_str().unwrap())).collect();
    assert_eq!(status, [(1, "superseded"), (2, "active")]);

    // Repeal ends every version at once and the id can never come back.
    let (st, b) = s.post(&s.admin, "/programs/pilot-visitors/repeal", &json!({"reason": ""})).await;
    assert_eq!(st, 422, "{b}");
    let (st, b) =
        s.post(&s.admin, "/programs/pilot-visitors/repeal", &json!({"reason": "The pilot ended early"})).await;
    assert_eq!((st, b["status"].as_str()), (200, Some("repealed")), "{b}");
    assert!(programs(&s).await.iter().all(|p| p["status"] == "repealed" && p["in_force"] == false));
    assert_eq!(programs(&s).await[0]["repealed"]["reason"], "The pilot ended early");
    let (st, b) =
        s.post(&s.admin, "/programs", &json!({"source": pilot_source("WT"), "population": pilot_population()})).await;
    assert_eq!(st, 409, "{b}");
    let (st, _) = s.post(&s.admin, "/programs/pilot-visitors/activate", &json!({"version": 2})).await;
    assert_eq!(st, 409);
    s.stop().await;
}

#[tokio::test]
async fn a_program_ends_by_itself_after_its_sunset() {
    let s = start().await;
    let body = json!({"source": pilot_source("WT"), "population": pilot_population()});
    assert_eq!(s.post(&s.admin, "/programs", &body).await.0, 201);
    assert_eq!(s.post(&s.admin, "/programs/pilot-visitors/activate", &json!({})).await.0, 200);
    assert_eq!(programs(&s).await[0]["status"], "active");
    // 366 days later the sunset (today + 365) has passed.
    s.clock_offset.store(366 * 86_400, std::sync::atomic::Ordering::SeqCst);
    let p = &programs(&s).await[0];
    assert_eq!((p["status"].as_str(), p["in_force"].as_bool()), (Some("ended"), Some(false)));
    // An ended program cannot be put back in force, not even as an amendment.
    let (st, b) = s.post(&s.admin, "/programs", &body).await;
    assert_eq!(st, 201, "{b}");
    let (st, b) = s.post(&s.admin, "/programs/pilot-visitors/activate", &json!({})).await;
    assert_eq!(st, 409, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("sunset"), "{b}");
    s.stop().await;
}

#[tokio::test]
async fn a_program_whose_offices_cannot_serve_everyone_in_time_is_published_with_its_plan_and_not_activated() {
    let s = start().await;
    let source = format!(
        "id = \"callin\"\ntitle = \"Call-in\"\nlegal_basis = \"Test Act s. 5\"\nstarts = {}\nsunset = {}\n\n[selection]\nadmission_class = [\"WT\"]\n\n[[obligations]]\nkind = \"register\"\nwithin_days = 2\n",
        today_plus(1),
        today_plus(365)
    );
    // Without postal codes, nobody's office is known: the draft is refused.
    let nameless: Vec<Value> = (0..60)
        .map(|i| {
            let (n, sex) = (["UTO", "VAL"][i % 2], ["F", "M"][i % 2]);
            json!({"nationality": n, "sex": sex, "birth_date": "1980-01-01", "admission_class": "WT"})
        })
        .collect();
    let (st, b) = s.post(&s.admin, "/programs", &json!({"source": source, "population": nameless})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("population")), "{b}");
    assert!(b["errors"][0]["message"].as_str().unwrap().contains("60 people the program selects have no postal_code"));
    // 1,000 people at the Chicago office (120 registrations a weekday), two days to come.
    let many: Vec<Value> = (0..1000)
        .map(|i| {
            let (n, sex) = (["UTO", "VAL"][i % 2], ["F", "M"][(i / 2) % 2]);
            json!({"nationality": n, "sex": sex, "birth_date": "1980-01-01", "admission_class": "WT", "postal_code": "60601"})
        })
        .collect();
    let (st, b) = s.post(&s.admin, "/programs", &json!({"source": source, "population": many.clone()})).await;
    assert_eq!(st, 201, "{b}");
    let (st, b) = s.post(&s.admin, "/programs/callin/activate", &json!({})).await;
    assert_eq!(st, 409, "{b}");
    let detail = b["detail"].as_str().unwrap();
    assert!(detail.contains("its offices cannot serve everyone within 2 days (CHI-FO is "), "{detail}");
    assert!(detail.contains("days would fit"), "{detail}");
    // The whole plan, over any population, and its chart.
    let few: Vec<Value> = many.iter().take(100).cloned().collect();
    let (st, plan) = s.post(&s.officer, "/programs/callin/plan", &json!({"population": few})).await;
    assert_eq!(st, 200, "{plan}");
    assert_eq!(plan["feasible"], true, "100 people fit in two days at 120 a day: {plan}");
    assert_eq!(plan["days"].as_array().unwrap().iter().map(|d| d["booked"].as_u64().unwrap()).sum::<u64>(), 100);
    let r = s
        .client
        .post(s.url("/programs/callin/plan?format=svg"))
        .bearer_auth(&s.officer)
        .json(&json!({"population": many}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let svg = r.text().await.unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("CHI-FO") && svg.contains("p95 wait"),
        "{}",
        &svg[..svg.len().min(300)]
    );
    let (st, _) = s.post(&s.officer, "/programs/nope/plan", &json!({"population": []})).await;
    assert_eq!(st, 422);
    // The plan is published with the program.
    let listed = programs(&s).await;
    let plan = &listed.iter().find(|p| p["id"] == "callin").unwrap()["plan"];
    assert_eq!((plan["feasible"].as_bool(), plan["people"].as_u64()), (Some(false), Some(1000)), "{plan}");
    assert!(plan["phased_wait_p95_minutes"].as_f64().unwrap() < 120.0, "{plan}");
    // An auditor's sign-off records the plan they signed over (and does not
    // override it: activation is still refused).
    let (st, b) = s
        .post(&s.auditor, "/programs/callin/sign-off", &json!({"reason": "Reviewed the plan with the field office"}))
        .await;
    assert_eq!(st, 200, "{b}");
    let listed = programs(&s).await;
    let signed = &listed.iter().find(|p| p["id"] == "callin").unwrap()["sign_offs"][0];
    assert_eq!(
        (signed["plan"]["feasible"].as_bool(), signed["plan"]["people"].as_u64()),
        (Some(false), Some(1000)),
        "{signed}"
    );
    assert_eq!(s.post(&s.admin, "/programs/callin/activate", &json!({})).await.0, 409);
    // Over everyone on record (nobody yet): an auditor's logged analysis, a summary.
    let size = s.tree_size().await;
    let (st, b) = s.post_for(&s.auditor, "oversight-audit", "/programs/callin/plan", &json!({})).await;
    assert_eq!((st, b["feasible"].as_bool(), b["people"].as_u64()), (200, Some(true), Some(0)), "{b}");
    assert_eq!(s.tree_size().await, size + 1, "the analysis is on the log");
    let (st, b) = s.post_for(&s.officer, "border-check", "/programs/callin/plan", &json!({})).await;
    assert_eq!(st, 403, "{b}");
    s.stop().await;
}
