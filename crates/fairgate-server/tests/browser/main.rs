//! Journeys in a real browser (headless Chromium over WebDriver), one per desk, as
//! a person would make them: typing, choosing, uploading files, clicking, and (for
//! the officer) with the keyboard alone. axe-core checks every page each journey
//! reaches for WCAG 2.1 AA; screenshots go to target/browser/JOURNEY/.
//!
//! Skipped (and saying so) where chromium and chromedriver are not installed,
//! unless FAIRGATE_REQUIRE_BROWSER is set, as `.ci/run` sets it.

#[path = "../common/mod.rs"]
mod common;
mod harness;

use common::*;
use harness::Browser;
use serde_json::json;

const ZONE: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

/// Files a desk uploads: a photograph (PNG) and a minutiae record of two fingers.
fn capture_files(dir: &std::path::Path, seed: u64) -> (String, String) {
    let photo = fairgate_biometrics::synthetic::face_record(seed, (2026, 11, 30)).images.remove(0).data;
    let prints = fairgate_core::minutiae::encode(&fairgate_biometrics::synthetic::minutiae(seed, &[2, 7])).unwrap();
    let (p, f) = (dir.join(format!("photo-{seed}.png")), dir.join(format!("prints-{seed}.fmr")));
    std::fs::write(&p, photo).unwrap();
    std::fs::write(&f, prints).unwrap();
    (p.display().to_string(), f.display().to_string())
}

async fn sign_in(b: &mut Browser, name: &str) {
    b.goto("/login").await;
    b.check("sign-in").await;
    b.fill("name", name).await;
    b.fill("password", PASSWORD).await;
    b.click_text("Sign in").await;
    assert_eq!(b.path().await, "/", "{}", b.main_text().await);
}

/// The officer registers a traveller from the MRZ with a photograph and
/// fingerprints, prints the receipt and records the exit; the traveller then
/// activates the portal with that receipt and sees who looked at the record and why.
#[tokio::test]
async fn an_officer_registers_a_traveller_who_then_sees_who_looked_and_why() {
    let s = start().await;
    let Some(mut b) = Browser::start(&s.base, "officer").await else { return };
    desk_program(&s).await;
    let files = tempfile::tempdir().unwrap();
    let (photo, prints) = capture_files(files.path(), 21);

    sign_in(&mut b, "officer").await;
    b.check("home").await;
    b.click_text("Open the desk").await;
    b.check("desk").await;

    // The zone, as a scanner types it.
    b.fill("mrz", ZONE).await;
    b.click_text("Record this person").await;
    let text = b.check("record-created").await;
    assert!(text.contains("ERIKSSON, ANNA MARIA") && text.contains("Recorded from the document at leaf"), "{text}");
    let record = b.path().await;

    // The entry, as a WT visitor: the program now asks for a registration.
    b.click_text("Record an entry or exit").await;
    b.check("crossing-form").await;
    b.click("label[for=entry]").await;
    b.select("port", "JFK").await;
    let at = format!("{}T10:00", day(-1));
    b.client
        .execute(
            "document.getElementById('at').value = arguments[0]; document.getElementById('admitted_until').value = arguments[1];",
            vec![json!(at), json!(day(60).to_string())],
        )
        .await
        .unwrap();
    b.fill("admission_class", "WT").await;
    b.click_text("Record the crossing").await;
    let text = b.check("entry-recorded").await;
    assert!(text.contains("Crossing recorded"), "{text}");

    // Register: the program's question, the camera, then the files.
    b.goto(&record).await;
    b.click_text("Register").await;
    let text = b.check("register-form").await;
    b.select("kind", "port-of-entry").await;
    b.select("place", "JFK").await;
    assert!(text.contains("Where will you stay?") && text.contains("register · pending"), "{text}");
    b.fill("answer-0", "WITH MY SISTER IN QUEENS").await;
    b.click("label[for=interpreter]").await;
    // The camera enhancement fills the photograph's file field with a frame.
    b.press_text("Use the camera").await;
    b.client
        .wait()
        .for_element(fantoccini::Locator::XPath("//button[normalize-space()='Take the photograph']"))
        .await
        .unwrap();
    // Wait for the fake camera's first frame before taking it.
    for _ in 0..100 {
        let ready = b
            .client
            .execute("return document.querySelector('video.fairgate-camera').videoWidth > 0;", vec![])
            .await
            .unwrap();
        if ready == json!(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    b.press_text("Take the photograph").await;
    b.client
        .wait()
        .for_element(fantoccini::Locator::XPath("//p[@role='status' and contains(., 'Photograph taken')]"))
        .await
        .unwrap();
    let n = b.client.execute("return document.getElementById('photo').files.length;", vec![]).await.unwrap();
    assert_eq!(n, json!(1), "the camera's frame is in the file field");
    b.check("register-camera").await;
    // The desk's photograph and fingerprint files (replacing the camera frame).
    b.css("#photo").await.send_keys(&photo).await.unwrap();
    b.css("#fingerprints").await.send_keys(&prints).await.unwrap();
    b.click_text("Record the registration").await;
    let text = b.check("receipt").await;
    assert!(text.contains("Registered"), "{text}");
    assert!(b.css("[data-print]").await.is_displayed().await.unwrap(), "the print button shows with the script");
    let receipt = b.css("#receipt").await.text().await.unwrap();
    let pdf = b.print("receipt").await;
    assert!(pdf.starts_with(b"%PDF"), "the receipt prints");
    // The receipt's registration number and activation code, as the person reads them.
    let number = text.split("Registration ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    assert!(receipt.contains(&number), "{receipt}");
    let code = receipt
        .lines()
        .find(|l| l.to_lowercase().contains("code"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap()
        .to_string();

    // The exit, with the fingerprints taken at the port: a match.
    b.click_text("Back to the record").await;
    b.click_text("Record an entry or exit").await;
    b.click("label[for=exit]").await;
    b.select("port", "JFK").await;
    b.css("#fingerprints").await.send_keys(&prints).await.unwrap();
    b.click_text("Record the crossing").await;
    let text = b.check("exit-recorded").await;
    assert!(text.contains("Crossing recorded") && text.contains("Fingerprints: match"), "{text}");
    b.goto("/").await;
    b.click_text("Sign out").await;

    // The traveller, at home, with the receipt.
    b.goto("/portal").await;
    b.check("portal").await;
    b.fill("a-number", &number).await;
    b.fill("a-code", &code).await;
    b.fill("a-pass", "a passphrase of my own").await;
    b.click_text("Activate").await;
    let text = b.check("portal-me").await;
    assert!(
        text.contains("Test Agency") && text.contains("registration") && text.contains("border-check"),
        "who looked and why: {text}"
    );
    // In Arabic, right to left, and in Spanish.
    b.click_text("العربية").await;
    let text = b.check("portal-me-ar").await;
    assert!(text.contains("من اطلع على سجلاتك"), "{text}");
    let dir = b.client.execute("return document.documentElement.dir;", vec![]).await.unwrap();
    assert_eq!(dir, json!("rtl"));
    b.click_text("Español").await;
    b.check("portal-me-es").await;
    // A correction asked for, in Spanish.
    b.fill("c-field", "given_names").await;
    b.fill("c-text", "Mis nombres son ANNA MARIE").await;
    b.click_text("Pedir la corrección").await;
    let text = b.check("portal-correction-sent").await;
    assert!(text.contains("Solicitud 1 enviada"), "{text}");
    b.stop().await;
    s.stop().await;
}

/// The same officer desk with the keyboard alone: sign in, record a person from the
/// zone, record an entry and designate, never touching the mouse.
#[tokio::test]
async fn the_officer_desk_works_from_the_keyboard_alone() {
    let s = start().await;
    let Some(mut b) = Browser::start(&s.base, "officer-keyboard").await else { return };
    b.goto("/login").await;
    b.tab_to("#name").await;
    b.keys("officer").await;
    b.tab_to("#password").await;
    b.keys(PASSWORD).await;
    b.enter().await;
    assert_eq!(b.path().await, "/");
    b.tab_to("a[href='/desk']").await;
    b.enter().await;
    b.tab_to("#mrz").await;
    b.keys(ZONE).await;
    b.tab_to("form[action='/desk/subjects'] button[type=submit]").await;
    b.enter().await;
    let text = b.check("record").await;
    assert!(text.contains("ERIKSSON, ANNA MARIA"), "{text}");

    b.tab_to("a[href$='/crossing']").await;
    b.enter().await;
    b.tab_to("#entry").await;
    b.keys(" ").await;
    b.tab_to("#port").await;
    b.keys("JFK").await;
    b.tab_to("#admission_class").await;
    b.keys("B-2").await;
    b.tab_to("form button[type=submit]").await;
    b.enter().await;
    let text = b.check("entry-recorded").await;
    assert!(text.contains("Crossing recorded"), "{text}");

    b.tab_to("a.usa-button[href*='/desk/subjects/']").await;
    b.enter().await;
    b.tab_to("a[href$='/designate']").await;
    b.enter().await;
    b.tab_to("#reason").await;
    b.keys("document").await;
    b.tab_to("#facts").await;
    b.keys("The data page laminate lifts at the lower corner").await;
    b.tab_to("#place").await;
    b.keys("JFK").await;
    b.tab_to("form button[type=submit]").await;
    b.enter().await;
    let text = b.check("designated").await;
    assert!(text.contains("Designation 1 made"), "{text}");
    b.stop().await;
    s.stop().await;
}

/// A supervisor reads the 1:N candidates for a purpose and decides one, with a reason.
#[tokio::test]
async fn a_supervisor_decides_a_1_to_n_candidate_with_a_reason() {
    let s = start().await;
    let Some(mut b) = Browser::start(&s.base, "supervisor").await else { return };
    // Two people enrolled with the same fingerprints: the second's search finds the first.
    use base64::Engine as _;
    let prints = base64::engine::general_purpose::STANDARD
        .encode(fairgate_core::minutiae::encode(&fairgate_biometrics::synthetic::minutiae(5, &[2, 7])).unwrap());
    for (n, number) in ["L898902C3", "X12345675"].iter().enumerate() {
        let mut p = specimen();
        p["document"]["number"] = json!(number);
        let (st, made) = s.post(&s.officer, "/subjects", &p).await;
        assert_eq!(st, 201, "{made}");
        let id = made["id"].as_str().unwrap();
        let reg = json!({"kind": "port-of-entry", "place": "JFK", "at": format!("{}T1{n}:00:00Z", day(-1)), "voluntary": true,
                         "captures": {"fingerprints": [prints]}});
        let (st, r) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &reg).await;
        assert_eq!(st, 201, "{r}");
    }
    sign_in(&mut b, "supervisor").await;
    b.goto("/desk").await;
    b.check("desk").await;
    b.click_text("1:N candidates").await;
    b.check("purpose").await;
    b.select("purpose", "registration").await;
    b.click_text("Show the candidates").await;
    let text = b.check("candidates").await;
    assert!(text.contains("fingerprints"), "{text}");
    b.click("label[for^=diff-]").await;
    let reason = b.css("textarea[name=reason]").await.attr("id").await.unwrap().unwrap();
    b.fill(&reason, "Different dates of birth and photographs on the two records").await;
    b.click_text("Record the decision").await;
    let text = b.check("decided").await;
    assert!(text.contains("Recorded on both records"), "{text}");

    // The designations queue: one to review within its 72 hours.
    let mut p = specimen();
    p["document"]["number"] = json!("D23145890");
    let (st, made) = s.post(&s.officer, "/subjects", &p).await;
    assert_eq!(st, 201, "{made}");
    let id = made["id"].as_str().unwrap().to_string();
    let d = json!({"reason": "document-anomaly", "facts": "The data page laminate lifts at a corner", "place": "JFK"});
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/designations"), &d).await.0, 201);
    b.goto("/desk").await;
    b.click_text("Designations to review").await;
    b.check("designations-purpose").await;
    b.select("purpose", "compliance-review").await;
    b.click_text("Show the queue").await;
    let text = b.check("designations").await;
    assert!(text.contains("laminate lifts") && text.contains("hours left"), "{text}");
    b.click("label[for=approve-0]").await;
    b.fill("reason-0", "Checked the document: the laminate is lifting").await;
    b.click_text("Record the review").await;
    b.check("designation-reviewed").await;
    b.stop().await;
    s.stop().await;
}

/// The office desk: an appointment booked from the record, then the person
/// checked in by document, called to a desk and served.
#[tokio::test]
async fn the_office_desk_checks_in_calls_and_serves() {
    let s = start().await;
    let Some(mut b) = Browser::start(&s.base, "office").await else { return };
    desk_program(&s).await;
    let id = s.specimen().await;
    let mut e = entry(&format!("{}T10:00:00Z", day(-1)));
    e["admission_class"] = json!("WT");
    e["admitted_until"] = json!(day(60).to_string());
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &e).await.0, 201);
    sign_in(&mut b, "officer").await;
    b.goto(&format!("/desk/subjects/{id}?purpose=registration")).await;
    b.click_text("Book or move an appointment").await;
    b.check("appointment-form").await;
    b.select("office-0", "CHI-FO").await;
    b.click_text("Book the earliest free slot").await;
    let text = b.check("appointment-booked").await;
    assert!(text.contains("Appointment booked") && text.contains("CHI-FO"), "{text}");

    b.goto("/desk").await;
    b.click_text("Office desk: appointments and the waiting list").await;
    b.check("office-choose").await;
    b.select("office", "CHI-FO").await;
    b.select("purpose", "registration").await;
    b.click_text("Open the office desk").await;
    b.check("office-empty").await;
    b.fill("document_number", "L898902C3").await;
    b.click_text("Check in").await;
    let text = b.check("office-checked-in").await;
    assert!(text.contains("Checked in") && text.contains(&id[..8]), "{text}");
    b.select("desk", "3").await;
    b.click_text("Call the next").await;
    let text = b.check("office-called").await;
    assert!(text.contains("Called"), "{text}");
    b.click_text("Served").await;
    let text = b.check("office-served").await;
    assert!(text.contains("served"), "{text}");
    b.stop().await;
    s.stop().await;
}

/// An auditor signs off a flagged program after reading its impact analysis and
/// plan, reads the designation statistics and searches the access log.
#[tokio::test]
async fn an_auditor_signs_off_a_program_after_reading_its_analysis_and_plan() {
    let s = start().await;
    let Some(mut b) = Browser::start(&s.base, "auditor").await else { return };
    let (st, r) =
        s.post(&s.admin, "/programs", &json!({"source": pilot_source("E-9"), "population": pilot_population()})).await;
    assert_eq!(st, 201, "{r}");
    sign_in(&mut b, "auditor").await;
    b.goto("/desk").await;
    b.check("desk").await;
    b.click_text("Programs: impact analyses, capacity plans and decisions").await;
    b.check("programs").await;
    b.click_text("Pilot visitor registration").await;
    let text = b.check("program").await;
    assert!(text.contains("Flagged") && text.contains("Capacity plan"), "{text}");
    b.click("label[for=read-it]").await;
    b.fill("reason", "The class is a treaty category; the concentration is expected and reviewed").await;
    b.click_text("Sign off").await;
    let text = b.check("signed-off").await;
    assert!(text.contains("Recorded at leaf"), "{text}");
    b.goto("/desk/designations").await;
    b.check("designation-statistics").await;
    b.goto("/desk/access-log").await;
    b.check("access-log").await;
    b.click_text("Search").await;
    let text = b.check("access-log-results").await;
    assert!(text.contains("reads found"), "{text}");
    b.goto("/desk/expungements").await;
    b.check("expungements").await;
    b.stop().await;
    s.stop().await;
}

/// An administrator adds an account, closes an office for a week, and reads the
/// key epoch and the backup routine.
#[tokio::test]
async fn an_administrator_adds_an_account_and_closes_an_office() {
    let s = start().await;
    let Some(mut b) = Browser::start(&s.base, "administrator").await else { return };
    sign_in(&mut b, "admin").await;
    b.goto("/desk").await;
    b.check("desk").await;
    b.click_text("Staff accounts").await;
    b.check("accounts").await;
    // The live filter hides the rows that do not match (nothing more is fetched).
    let visible = "return [...document.querySelectorAll('#accounts tbody tr')].filter(r => !r.hidden).length;";
    let all = b.client.execute(visible, vec![]).await.unwrap();
    b.fill("filter-accounts", "auditor").await;
    assert_eq!(b.client.execute(visible, vec![]).await.unwrap(), json!(1), "of {all}");
    b.check("accounts-filtered").await;
    b.fill("filter-accounts", "").await;
    b.fill("name", "clerk").await;
    b.select("role", "officer").await;
    b.fill("agency", "Port Authority").await;
    b.fill("password", PASSWORD).await;
    b.click_text("Add the account").await;
    let text = b.check("account-added").await;
    assert!(text.contains("shown only now") && text.contains("fg_"), "{text}");
    b.goto("/desk/places").await;
    b.check("places").await;
    b.select("code", "CHI-FO").await;
    b.client
        .execute(
            "document.getElementById('from').value = arguments[0]; document.getElementById('until').value = arguments[1];",
            vec![json!(day(10).to_string()), json!(day(16).to_string())],
        )
        .await
        .unwrap();
    b.fill("reason", "Renovation").await;
    b.click_text("Close it").await;
    let text = b.check("place-closed").await;
    assert!(text.contains("CHI-FO is closed"), "{text}");
    b.goto("/desk/keys").await;
    b.check("keys").await;
    b.stop().await;
    s.stop().await;
}

/// An adjudicator determines an overdue obligation, reading the notice served;
/// an approver reviews an emergency law-enforcement access.
#[tokio::test]
async fn an_adjudicator_determines_and_an_approver_reviews_an_emergency_access() {
    let s = start().await;
    let Some(mut b) = Browser::start(&s.base, "adjudicator-approver").await else { return };
    let (id, _, _) = overdue_visitor(&s).await;
    sign_in(&mut b, "adjudicator").await;
    b.goto("/desk").await;
    b.check("adjudicator-desk").await;
    b.click_text("Determinations").await;
    b.select("purpose", "benefit-adjudication").await;
    b.click_text("Show the queue").await;
    let text = b.check("determinations").await;
    assert!(text.contains("RR123456789US"), "the notice served: {text}");
    b.click("label[for=not-willful-0]").await;
    b.fill("reasons-0", "The person was in hospital").await;
    b.click_text("Record the determination").await;
    b.check("determined").await;
    b.goto("/").await;
    b.click_text("Sign out").await;

    let em = json!({"case_number": "PD-77", "reasons": "Imminent threat reported", "emergency": true});
    assert_eq!(s.post(&s.supervisor, &format!("/subjects/{id}/law-enforcement"), &em).await.0, 201);
    sign_in(&mut b, "approver").await;
    b.goto("/desk").await;
    b.click_text("Law-enforcement requests and emergency reviews").await;
    let text = b.check("law-enforcement").await;
    assert!(text.contains("PD-77"), "{text}");
    b.click("label[for=not-upheld-0]").await;
    b.fill("le-reason-0", "No threat was substantiated").await;
    b.click_text("Record the review").await;
    b.check("reviewed").await;
    b.stop().await;
    s.stop().await;
}

/// The public pages, as anyone reads them: what Fairgate is, the programs, the
/// transparency report, the calculator as a form, the log and its checkpoint, the
/// expungement certificates, the access policy.
#[tokio::test]
async fn the_public_pages_read_and_work_for_anyone() {
    let s = start().await;
    let Some(mut b) = Browser::start(&s.base, "public").await else { return };
    desk_program(&s).await;
    for (path, name) in [
        ("/", "home"),
        ("/public/programs", "programs"),
        ("/transparency", "transparency"),
        ("/public/log", "log"),
        ("/public/expungements", "expungements"),
        ("/public/policy", "policy"),
    ] {
        b.goto(path).await;
        b.check(name).await;
    }
    b.goto("/public/calculator").await;
    b.check("calculator").await;
    b.fill("stays", "2026-01-05..2026-02-10").await;
    b.fill("on", "2026-03-01").await;
    b.click_text("Calculate").await;
    let text = b.check("calculator-answer").await;
    assert!(text.contains("Answer") && text.contains("37"), "37 days used: {text}");
    b.stop().await;
    s.stop().await;
}
