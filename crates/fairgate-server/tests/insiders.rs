//! The insider review (issue 14): each test performs one attack found by trying the
//! running system as a member of staff would, through HTTP, and shows that it now
//! fails. THREAT_MODEL.md maps each threat to the test here that proves it.

mod common;

use common::*;
use serde_json::{json, Value};

/// Strip what differs between two answers by design (receipts' leaf numbers).
fn shape(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("access_receipt");
    }
    v
}

/// Finding 2: a refused exit named the times of the person's earlier crossings; a
/// refused registration named their latest admission class. A refusal now says what
/// is wrong with the request, never what is on record.
#[tokio::test]
async fn refusals_say_what_is_wrong_with_the_request_not_what_is_on_record() {
    let s = start().await;
    let id = s.specimen().await;
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &entry("2026-06-03T14:00:00Z")).await.0, 201);
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &exit("2026-06-20T09:30:00Z")).await.0, 201);
    // An exit after the last exit: refused, without the recorded times.
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/crossings"), &exit("2026-07-01T10:00:00Z")).await;
    assert_eq!(st, 422, "{b}");
    let text = b.to_string();
    assert!(!text.contains("2026-06-03") && !text.contains("2026-06-20"), "the refusal quotes the record: {text}");
    // An exit between the entry and the exit that closes it: the same.
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/crossings"), &exit("2026-06-10T10:00:00Z")).await;
    assert_eq!(st, 422, "{b}");
    let text = b.to_string();
    assert!(!text.contains("2026-06-03") && !text.contains("2026-06-20"), "the refusal quotes the record: {text}");
    assert!(!text.contains("B-2"), "{text}");
    s.stop().await;
}

/// Finding 2: a law-enforcement lookup without a grant answered 403 when the
/// document was on record and an empty 200 when it was not; lookups that found
/// nothing were not logged. Now both answer alike, and every lookup is logged.
#[tokio::test]
async fn a_lookup_answers_alike_whether_or_not_the_person_exists_and_is_always_logged() {
    let s = start().await;
    let id = s.specimen().await;
    let le = "law-enforcement";
    let before = s.tree_size().await;
    let (st_known, known) =
        s.post_for(&s.supervisor, le, "/subjects/lookup", &json!({"document_number": "L898902C3"})).await;
    let (st_unknown, unknown) =
        s.post_for(&s.supervisor, le, "/subjects/lookup", &json!({"document_number": "X0000000"})).await;
    assert_eq!((st_known, shape(known.clone())), (st_unknown, shape(unknown.clone())), "an existence oracle");
    assert_eq!(known["subjects"], json!([]));
    assert!(known["access_receipt"].is_object() && unknown["access_receipt"].is_object(), "both are logged");
    assert_eq!(s.tree_size().await, before + 2);
    // And in the public log a lookup that finds someone looks like one that does not
    // (issue 15): one leaf, of the same kind and size.
    let before = s.tree_size().await;
    let (_, found) =
        s.post_for(&s.officer, "border-check", "/subjects/lookup", &json!({"document_number": "L898902C3"})).await;
    assert_eq!(found["subjects"], json!([id]));
    let (_, none) =
        s.post_for(&s.officer, "border-check", "/subjects/lookup", &json!({"document_number": "Z0000000"})).await;
    assert_eq!(none["subjects"], json!([]));
    let leaves = public_leaves(&s, before, 2).await;
    assert_eq!(leaves[0], leaves[1], "found and not found: {leaves:?}");

    // The same for a subject id: a real one and a made-up one are refused alike.
    let fake = "0123456789abcdef0123456789abcdef";
    let (a, b) = (
        s.read(&s.supervisor, Some(le), &format!("/subjects/{id}")).await,
        s.read(&s.supervisor, Some(le), &format!("/subjects/{fake}")).await,
    );
    assert_eq!(a, b, "an existence oracle on /subjects/{{id}}");
    assert_eq!(a.0, 403);

    // A lookup that finds nothing, for an ordinary purpose, is logged too.
    let before = s.tree_size().await;
    let (st, b) =
        s.post_for(&s.officer, "border-check", "/subjects/lookup", &json!({"document_number": "Y0000000"})).await;
    assert_eq!((st, b["subjects"].clone()), (200, json!([])));
    assert_eq!(b["access_receipt"]["leaf_index"].as_u64(), Some(before));
    // And so is a read the policy refuses (an officer may not audit).
    let (st, _) = s.read(&s.officer, Some("oversight-audit"), &format!("/subjects/{id}")).await;
    assert_eq!(st, 403);
    assert_eq!(s.tree_size().await, before + 2, "the refused read is on record");
    s.stop().await;
}

fn program_between(from: &str, through: &str, min_stay: u32) -> String {
    format!(
        "id = \"probe\"\ntitle = \"Probe\"\nlegal_basis = \"Act\"\nstarts = 2026-01-01\nsunset = 2027-12-31\n[selection]\nadmitted_between = [{from}, {through}]\nmin_stay_days = {min_stay}\n"
    )
}

/// Finding 3: an administrator ran the impact analysis over live data with no
/// purpose and no log, narrowed the dates until it held one person, and read that
/// person's stay from exact totals. Now it is an auditor's read (oversight-audit),
/// logged, within a budget, and no published figure is under 10.
#[tokio::test]
async fn the_impact_analysis_cannot_single_out_one_person() {
    let s = start().await;
    // Twelve visitors admitted on 1 June, and the target alone on 20 June.
    for i in 0..13 {
        let mut p = specimen();
        p["document"]["number"] = json!(format!("P{i:07}"));
        let (st, b) = s.post(&s.officer, "/subjects", &p).await;
        assert_eq!(st, 201, "{b}");
        let id = b["id"].as_str().unwrap();
        let at = if i == 12 { "2026-06-20T10:00:00Z" } else { "2026-06-01T10:00:00Z" };
        assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &entry(at)).await.0, 201);
    }
    let target_only = json!({"source": program_between("2026-06-20", "2026-06-20", 1)});
    // No purpose, or the wrong role: refused (and the refusal is on record).
    assert_eq!(s.post(&s.admin, "/programs/impact", &target_only).await.0, 403);
    assert_eq!(s.post_for(&s.admin, "oversight-audit", "/programs/impact", &target_only).await.0, 403);
    assert_eq!(s.post(&s.auditor, "/programs/impact", &target_only).await.0, 403, "a purpose is needed");

    // Isolating the target publishes nothing about them.
    let before = s.tree_size().await;
    let (st, one) = s.post_for(&s.auditor, "oversight-audit", "/programs/impact", &target_only).await;
    assert_eq!(st, 200, "{one}");
    assert_eq!(s.tree_size().await, before + 1, "the analysis is logged");
    assert_eq!(one["selected"].as_u64(), Some(0), "{one}");
    assert!(one["withheld"].as_array().unwrap().contains(&json!("selected")), "{one}");
    let total = one["population"].as_u64().unwrap();
    assert!(total == 0 || total >= 10, "{one}");
    assert_eq!(one["noise_scale"], 8.0);
    // Sweeping the stay threshold over the isolated person: never a figure under 10,
    // so the step where the target drops out cannot be seen.
    for stay in [30, 60, 90] {
        let q = json!({"source": program_between("2026-06-20", "2026-06-20", stay)});
        let (st, b) = s.post_for(&s.auditor, "oversight-audit", "/programs/impact", &q).await;
        assert_eq!(st, 200, "{b}");
        let n = b["selected"].as_u64().unwrap();
        assert!(n == 0 || n >= 10, "{b}");
        for g in b["groups"].as_array().unwrap() {
            let (p, k) = (g["population"].as_u64().unwrap(), g["selected"].as_u64().unwrap());
            assert!(p >= 10 && (k == 0 || k >= 10), "a small cell is published: {g}");
        }
    }
    // The budget: ten analyses per 30 days in all; the fifth to tenth pass, the
    // eleventh is refused until the window moves on.
    let wide = json!({"source": program_between("2026-05-01", "2026-07-01", 1)});
    for _ in 0..6 {
        assert_eq!(s.post_for(&s.auditor, "oversight-audit", "/programs/impact", &wide).await.0, 200);
    }
    let (st, b) = s.post_for(&s.auditor, "oversight-audit", "/programs/impact", &wide).await;
    assert_eq!(st, 403, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("privacy budget"), "{b}");
    s.clock_offset.store(31 * 86_400, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(s.post_for(&s.auditor, "oversight-audit", "/programs/impact", &wide).await.0, 200);
    // A population file (about no one on record) is always allowed, and exact.
    let file = json!({"source": program_between("2026-05-01", "2026-07-01", 1), "population": wt_population()});
    let (st, b) = s.post(&s.officer, "/programs/impact", &file).await;
    assert_eq!((st, b.get("noise_scale")), (200, None), "{b}");
    s.stop().await;
}

async fn le(s: &Server, path: &str) -> u16 {
    s.read(&s.supervisor, Some("law-enforcement"), path).await.0
}

/// Finding 4: a supervisor sending `emergency: true` had 72 hours at once with no
/// approver; `hold_until` took 9999-12-31; the overdue-review check was never
/// called; approvers could not see the case and reasons before deciding.
#[tokio::test]
async fn law_enforcement_access_is_independent_bounded_and_reviewed() {
    use std::sync::atomic::Ordering::SeqCst;
    let s = start().await;
    let id = s.specimen().await;
    let path = format!("/subjects/{id}");
    let hours = |h: i64| h * 3600;
    let ask = |emergency: bool, hold: Option<&str>| json!({"case_number": "PD-2026-9", "reasons": "Armed robbery suspect, witness statement", "emergency": emergency, "hold_until": hold});
    // A hold without end: refused, naming the field and the latest day allowed.
    let (st, b) =
        s.post(&s.supervisor, &format!("/subjects/{id}/law-enforcement"), &ask(false, Some("9999-12-31"))).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("hold_until")), "{b}");

    // An emergency access lasts 24 hours unless an approver confirms it.
    let (st, b) = s.post(&s.supervisor, &format!("/subjects/{id}/law-enforcement"), &ask(true, None)).await;
    assert_eq!((st, b["number"].as_u64()), (201, Some(1)), "{b}");
    assert_eq!(le(&s, &path).await, 200, "in effect at once");
    s.clock_offset.store(hours(25), SeqCst);
    assert_eq!(le(&s, &path).await, 403, "no approver confirmed it: over after 24 hours");

    // The approver sees the case, the reasons and the scope before deciding; an
    // officer sees nothing of the queue.
    assert_eq!(s.read(&s.officer, None, "/law-enforcement/queue").await.0, 403);
    let (st, q) = s.read(&s.approver, None, "/law-enforcement/queue").await;
    assert_eq!(st, 200, "{q}");
    assert_eq!(q[0]["case_number"], "PD-2026-9");
    assert_eq!(q[0]["reasons"], "Armed robbery suspect, witness statement");
    assert!(q[0]["scope"].as_str().unwrap().contains("by the requester only"), "{q}");
    assert_eq!(q[0]["status"], "awaiting-approval");

    // A second emergency, confirmed on day 6: in effect, until its review is overdue.
    s.clock_offset.store(0, SeqCst);
    let (_, b) = s.post(&s.supervisor, &format!("/subjects/{id}/law-enforcement"), &ask(true, None)).await;
    assert_eq!(b["number"], 2);
    s.clock_offset.store(hours(6 * 24), SeqCst);
    assert_eq!(le(&s, &path).await, 403, "lapsed after 24 hours");
    assert_eq!(s.post(&s.approver, &format!("/subjects/{id}/law-enforcement/2/approve"), &json!({})).await.0, 201);
    assert_eq!(le(&s, &path).await, 200, "confirmed by an approver");
    s.clock_offset.store(hours(7 * 24 + 1), SeqCst);
    assert_eq!(le(&s, &path).await, 403, "not reviewed within 7 days: the grant ended by itself");
    let (_, q) = s.read(&s.auditor, None, "/law-enforcement/queue").await;
    assert!(q.as_array().unwrap().iter().any(|r| r["number"] == 2 && r["status"] == "review-overdue"), "{q}");
    let r: Value = s.client.get(s.url("/transparency.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        r["overdue_emergency_reviews"], 2,
        "both emergencies are unreviewed past 7 days: {}",
        r["overdue_emergency_reviews"]
    );
    s.stop().await;
}

async fn web_login_status(s: &Server, name: &str, password: &str) -> u16 {
    web_login(s, name, password).await.status().as_u16()
}

/// Finding 5: sign-in could be guessed without limit, API tokens never expired, and
/// accounts could not be disabled; account changes left no trace on the log.
#[tokio::test]
async fn accounts_are_limited_expire_can_be_disabled_and_every_change_is_on_the_log() {
    let s = start().await;
    // Guessing a password: five failures, then even the right one waits.
    for _ in 0..5 {
        assert_eq!(web_login_status(&s, "auditor", "not the password").await, 401);
    }
    assert_eq!(web_login_status(&s, "auditor", PASSWORD).await, 429, "limited per account");
    assert_eq!(web_login_status(&s, "officer", PASSWORD).await, 303, "another account is not affected");

    // A token expires (90 days by default), and a disabled account reaches nothing.
    let system = fairgate_core::access::Actor::system("test");
    let now = jiff::Timestamp::now();
    let temp = s
        .registry
        .add_user(now, &system, "temp", fairgate_core::access::Role::Officer, "Test Agency", None, [42; 64])
        .unwrap()
        .token;
    let leaver = s
        .registry
        .add_user(now, &system, "leaver", fairgate_core::access::Role::Officer, "Test Agency", Some(PASSWORD), [43; 64])
        .unwrap()
        .token;
    assert_eq!(
        s.registry
            .account_by_credential(now, &temp, fairgate_store::store::CredentialKind::Token)
            .unwrap()
            .map(|a| a.name),
        Some("temp".into())
    );
    s.registry.disable_user(now, &system, "leaver").unwrap();
    assert!(s
        .registry
        .account_by_credential(now, &leaver, fairgate_store::store::CredentialKind::Token)
        .unwrap()
        .is_none());
    assert_eq!(web_login_status(&s, "leaver", PASSWORD).await, 401, "disabled: no web sign-in either");
    let later = now.checked_add(jiff::SignedDuration::from_hours(91 * 24)).unwrap();
    assert!(
        s.registry.account_by_credential(later, &temp, fairgate_store::store::CredentialKind::Token).unwrap().is_none(),
        "expired after 90 days"
    );

    // Every change is a ledger event, checkable for separation of duties.
    s.registry.set_role(now, &system, "temp", fairgate_core::access::Role::Supervisor).unwrap();
    let history = s.registry.account_history().unwrap();
    let changes: Vec<(String, String)> = history
        .iter()
        .map(|e| (e.name.clone(), serde_json::to_value(&e.change).unwrap()["change"].to_string()))
        .collect();
    for expected in [("temp", "\"created\""), ("leaver", "\"disabled\""), ("temp", "\"role-changed\"")] {
        assert!(changes.iter().any(|(n, c)| n == expected.0 && c == expected.1), "{expected:?} in {changes:?}");
    }
    // Nobody changes their own account.
    let admin = s.registry.account("admin").unwrap().unwrap().actor();
    assert!(s.registry.set_role(now, &admin, "admin", fairgate_core::access::Role::Auditor).is_err());
    // Guessing tokens: limited per address (which then holds for passwords too).
    let mut last = 0;
    for i in 0..40 {
        last = s.read(&format!("fg_guess{i}"), Some("border-check"), "/overstays").await.0;
    }
    assert_eq!(last, 429, "token guesses from one address are limited");
    assert_eq!(web_login_status(&s, "officer", PASSWORD).await, 429);
    s.stop().await;
}

/// Finding 6: forms had no CSRF token, responses no security headers, personal data
/// could be cached, and the session cookie was not Secure.
#[tokio::test]
async fn the_web_layer_sends_security_headers_refuses_forged_forms_and_caches_nothing_personal() {
    let s = start().await;
    let id = s.specimen().await;
    // A cross-site form post carries no token: refused before the password is checked.
    let forged =
        s.client.post(s.url("/login")).form(&[("name", "officer"), ("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.headers().get("set-cookie").is_none(), "no session from a forged form");
    let ok = web_login(&s, "officer", PASSWORD).await;
    assert_eq!(ok.status(), 303);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "the session cookie is Secure off loopback: {cookie}");

    let personal = s
        .client
        .get(s.url(&format!("/subjects/{id}")))
        .bearer_auth(&s.officer)
        .header("Fairgate-Purpose", "border-check")
        .send()
        .await
        .unwrap();
    assert_eq!(personal.status(), 200);
    let public = s.client.get(s.url("/log/checkpoint")).send().await.unwrap();
    let page = s.client.get(s.url("/login")).send().await.unwrap();
    for r in [&personal, &public, &page] {
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
    }
    assert_eq!(personal.headers()["cache-control"], "no-store", "personal data is not cached");
    assert_eq!(page.headers()["cache-control"], "no-store", "a page with a form token is not cached");
    assert!(public.headers().get("cache-control").is_none(), "the public log may be cached");
    // The stylesheet is a file of this origin (the policy allows no inline style).
    let css = s.client.get(s.url("/static/fairgate.css")).send().await.unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    s.stop().await;
}

/// Finding 7: unknown JSON fields were dropped silently (a registration with `photo`
/// and `fingerprints` answered 201 and lost them), the program compiler took seconds
/// and megabytes on a file of unknown keys, a huge page number wrapped around to
/// page 1, and CSV cells could run as spreadsheet formulas.
#[tokio::test]
async fn malformed_input_is_refused_by_name_bounded_and_exported_safely() {
    let s = start().await;
    let id = s.specimen().await;
    let before = s.tree_size().await;
    let mut r = registration();
    r["photo"] = json!("data:image/jpeg;base64,AAAA");
    r["fingerprints"] = json!(["AAAA"]);
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &r).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("fingerprints")), "{b}");
    let mut r = registration();
    r["interview"]["mood"] = json!("nervous");
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &r).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("interview.mood")), "nested too: {b}");
    assert_eq!(s.tree_size().await, before, "nothing was recorded");

    // 256 KiB of unknown keys: a short answer.
    let mut src = String::new();
    let mut i = 0;
    while src.len() < 250 * 1024 {
        src.push_str(&format!("unknown_key_{i} = 1\n"));
        i += 1;
    }
    let resp =
        s.client.post(s.url("/programs")).bearer_auth(&s.admin).json(&json!({"source": src})).send().await.unwrap();
    assert_eq!(resp.status(), 422);
    let body = resp.text().await.unwrap();
    assert!(body.len() < 128 * 1024, "{} bytes of diagnostics", body.len());
    let b: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(b["errors"].as_array().unwrap().len(), fairgate_core::program::lang::MAX_DIAGNOSTICS + 1);

    // Pages: a number past the limit is refused; a far page is empty, never page 1.
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &entry("2026-06-03T13:00:00Z")).await.0, 201);
    let list = |page: &str| format!("/overstays?page={page}&per_page=500");
    let (st, first) = s.read(&s.supervisor, Some("compliance-review"), &list("1")).await;
    assert_eq!((st, first["overstays"].as_array().map(Vec::len)), (200, Some(1)), "{first}");
    let (st, b) = s.read(&s.supervisor, Some("compliance-review"), &list("18446744073709551615")).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("page")), "{b}");
    let (st, far) = s.read(&s.supervisor, Some("compliance-review"), &list("1000000000")).await;
    assert_eq!((st, far["overstays"].as_array().map(Vec::len)), (200, Some(0)), "{far}");
    let on = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let supervisor = s.registry.account("supervisor").unwrap().unwrap().actor();
    let (rows, _, _) = s
        .registry
        .read_overstays(
            jiff::Timestamp::now(),
            &supervisor,
            fairgate_core::access::Purpose::ComplianceReview,
            on,
            Some((usize::MAX, 500)),
            "t",
        )
        .unwrap();
    assert!(rows.is_empty(), "an overflowing page is past the end, not page 1");

    // CSV: an agency named like a formula is text in the report's spreadsheet.
    let system = fairgate_core::access::Actor::system("test");
    let evil = s
        .registry
        .add_user(
            jiff::Timestamp::now(),
            &system,
            "evil",
            fairgate_core::access::Role::Officer,
            "=HYPERLINK(\"http://x.test\",\"open\")",
            None,
            [77; 64],
        )
        .unwrap()
        .token;
    for _ in 0..10 {
        assert_eq!(s.read(&evil, Some("border-check"), &format!("/subjects/{id}")).await.0, 200);
    }
    let csv = s.client.get(s.url("/transparency/data-use.csv")).send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    for line in csv.lines() {
        for cell in line.split(',') {
            assert!(!cell.trim_start_matches('"').starts_with(['=', '+', '@']), "a formula cell: {line}");
        }
    }
    s.stop().await;
}

/// Finding 8: a public certificate published whatever text the expungement request
/// gave as its authority, so it could name the person. It now cites an entry of a
/// public list that administrators maintain, with its reference.
#[tokio::test]
async fn a_certificate_cites_a_listed_authority_never_text_that_could_name_the_person() {
    let s = start().await;
    let id = s.specimen().await;
    let before = s.tree_size().await;
    let named =
        json!({"authority": "Order concerning ANNA MARIA ERIKSSON, born 1974-08-12", "reason": "Asked by the person"});
    let (st, b) = s.post(&s.auditor, &format!("/subjects/{id}/expunge/approve"), &named).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("authority")), "{b}");
    assert!(b["detail"].as_str().unwrap().contains("court-order"), "the refusal lists the ids: {b}");
    assert_eq!(s.tree_size().await, before, "nothing was recorded");

    // The list is the administrators' (a ledger event), and public.
    let entry = json!({"id": "privacy-request", "name": "The person's request for erasure, granted", "reference": "Test Privacy Act s. 7"});
    assert_eq!(s.post(&s.officer, "/authorities", &entry).await.0, 403);
    assert_eq!(s.post(&s.admin, "/authorities", &entry).await.0, 201);
    assert_eq!(s.post(&s.admin, "/authorities", &entry).await.0, 422, "an id is listed once");
    let list: Value = s.client.get(s.url("/authorities")).send().await.unwrap().json().await.unwrap();
    assert!(list.as_array().unwrap().iter().any(|a| a["id"] == "privacy-request"), "{list}");

    let body = json!({"authority": "privacy-request", "reason": "ANNA MARIA ERIKSSON asked on 2026-11-01"});
    assert_eq!(s.post(&s.auditor, &format!("/subjects/{id}/expunge/approve"), &body).await.0, 201);
    let (st, cert) = s.post(&s.admin, &format!("/subjects/{id}/expunge"), &body).await;
    assert_eq!(st, 201, "{cert}");
    assert_eq!(cert["authority"], "The person's request for erasure, granted (Test Privacy Act s. 7)");
    let public = s.client.get(s.url("/expungements")).send().await.unwrap().text().await.unwrap();
    assert!(!public.contains("ERIKSSON") && !public.contains("ANNA"), "{public}");
    s.stop().await;
}
