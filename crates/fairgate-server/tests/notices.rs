//! Notices that reach people: each open issued notice goes to the person's portal,
//! by email through a real SMTP relay (Python's aiosmtpd, started here) in the
//! person's language, and as a printed letter (one a page, right to left in Arabic)
//! for someone without an address or whose emails all failed; every attempt is
//! recorded with its outcome, and none is service.

mod common;

use common::*;
use fairgate_core::access::Actor;
use fairgate_server::mail::SmtpMailer;
use serde_json::{json, Value};

fn program() -> String {
    format!(
        "id = \"visitor-rereg\"\ntitle = \"Visitor re-registration\"\nlegal_basis = \"Test Act s. 3\"\nstarts = {}\nsunset = {}\n\n[selection]\nadmission_class = [\"WT\"]\n\n[[obligations]]\nkind = \"reregister\"\nevery_days = 30\n",
        day(-90),
        day(300)
    )
}

/// A WT visitor who entered and registered 50 days ago: (id, registration number, access code).
async fn visitor(s: &Server, number: &str) -> (String, String, String) {
    let mut p = specimen();
    p["document"]["number"] = json!(number);
    let (st, b) = s.post(&s.officer, "/subjects", &p).await;
    assert_eq!(st, 201, "{b}");
    let id = b["id"].as_str().unwrap().to_string();
    let at = format!("{}T14:00:00Z", day(-50));
    let mut e = entry(&at);
    e["admission_class"] = json!("WT");
    e["admitted_until"] = json!(day(40).to_string());
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &e).await.0, 201);
    let mut r = registration();
    r["at"] = json!(at);
    let (st, r) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &r).await;
    assert_eq!(st, 201, "{r}");
    (id, r["registration_number"].as_str().unwrap().to_string(), r["access_code"].as_str().unwrap().to_string())
}

/// An SMTP sink: aiosmtpd printing every message it receives. `None` when Python's
/// aiosmtpd is not installed (CI installs it and sets FAIRGATE_REQUIRE_SMTP_SINK).
fn smtp_sink() -> Option<(std::process::Child, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new("python3")
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Debugging",
            "stdout",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut child = child;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if std::time::Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
            let _ = child.kill();
            assert!(
                std::env::var_os("FAIRGATE_REQUIRE_SMTP_SINK").is_none(),
                "the SMTP sink did not start: pip install aiosmtpd"
            );
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Some((child, port))
}

#[tokio::test]
async fn notices_go_to_the_portal_by_email_in_the_persons_language_and_as_letters_with_every_attempt_recorded() {
    let s = start().await;
    s.clock_offset.store(-60 * 86_400, std::sync::atomic::Ordering::SeqCst);
    let (st, b) = s.post(&s.admin, "/programs", &json!({"source": program(), "population": wt_population()})).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(s.post(&s.admin, "/programs/visitor-rereg/activate", &json!({})).await.0, 200);
    s.clock_offset.store(0, std::sync::atomic::Ordering::SeqCst);

    // Ana gives an email address and Spanish; Badr, Arabic and no address.
    let (ana, number, code) = visitor(&s, "N0000001").await;
    let (badr, _, _) = visitor(&s, "N0000002").await;
    let (st, b) = s
        .post(&s.officer, &format!("/subjects/{ana}/contact"), &json!({"email": "ana@example.org", "language": "es"}))
        .await;
    assert_eq!((st, b["contact"]["language"].as_str()), (201, Some("es")), "{b}");
    let (st, b) = s.post(&s.officer, &format!("/subjects/{badr}/contact"), &json!({"email": "badr at home"})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("email")), "{b}");
    let (st, b) = s.post(&s.officer, &format!("/subjects/{badr}/contact"), &json!({"language": "ar"})).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(s.post(&s.auditor, &format!("/subjects/{badr}/contact"), &json!({"language": "ar"})).await.0, 403);

    let system = Actor::system("test");
    let now = jiff::Timestamp::now;
    let run = s.registry.compliance_run(now(), &system, day(0), &mut |_, _| {}).unwrap();
    // Each has two re-registrations open: one due 20 days ago, one due in 10.
    assert_eq!(run.notices_issued, 4, "{run:?}");

    // A relay that cannot be reached: each attempt fails and is recorded.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = SmtpMailer::new(&format!("127.0.0.1:{closed}"), "notices@agency.example").unwrap();
    let r = s.registry.deliver_notices(now(), &system, day(0), Some(&down)).unwrap();
    assert_eq!((r.portal, r.emailed, r.email_failed, r.letters_due), (4, 0, 2, 2), "{r:?}");
    let r = s.registry.deliver_notices(now(), &system, day(0), Some(&down)).unwrap();
    assert_eq!((r.portal, r.email_failed), (0, 2), "the portal once; email tried again: {r:?}");

    // Through a working relay, in Spanish.
    if let Some((mut sink, port)) = smtp_sink() {
        let up = SmtpMailer::new(&format!("127.0.0.1:{port}"), "notices@agency.example").unwrap();
        let r = s.registry.deliver_notices(now(), &system, day(0), Some(&up)).unwrap();
        assert_eq!((r.emailed, r.email_failed), (2, 0), "{r:?}");
        let r = s.registry.deliver_notices(now(), &system, day(0), Some(&up)).unwrap();
        assert_eq!((r.portal, r.emailed), (0, 0), "accepted once: {r:?}");
        let _ = sink.kill();
        let out = sink.wait_with_output().unwrap();
        let mail = String::from_utf8_lossy(&out.stdout);
        assert!(mail.contains("ana@example.org") && mail.contains("Content-Language: es"), "{mail}");
        assert!(mail.contains("Qu=C3=A9 debe hacer") || mail.contains("Qué debe hacer"), "{mail}");
        assert!(!mail.contains("ERIKSSON"), "a notice carries no name: {mail}");
    }

    // The letters: Badr's, in Arabic, right to left; Ana's went by email.
    let letters = |st: &Server| {
        st.client
            .post(st.url("/notices/letters"))
            .bearer_auth(&st.supervisor)
            .header("Fairgate-Purpose", "compliance-review")
            .send()
    };
    let page = letters(&s).await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains(r#"lang="ar" dir="rtl""#) && page.contains("يجب تجديد تسجيلك"), "{page}");
    assert_eq!(page.matches("<article").count(), 2, "{page}");
    assert!(page.contains("page-break-after") || page.contains("/static/fairgate.css"), "printable: {page}");
    let again = letters(&s).await.unwrap().text().await.unwrap();
    assert!(again.contains("No letter to print."), "printed once: {again}");
    let r = s
        .client
        .post(s.url("/notices/letters"))
        .bearer_auth(&s.officer)
        .header("Fairgate-Purpose", "border-check")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Ana's portal shows her notice in Spanish; her timeline her contact details.
    let (st, session) = activate(&s, &number, &code, "a long passphrase").await;
    assert_eq!(st, 200, "{session}");
    let token = session["token"].as_str().unwrap();
    let (st, notices) = get(&s, token, "/portal/notices").await;
    assert_eq!(st, 200, "{notices}");
    assert_eq!(notices[0]["title"], "Debe renovar su registro", "{notices}");
    assert_eq!(notices[0]["lang"], "es");
    assert!(notices[0]["no_appointment"].as_str().unwrap().starts_with("No tiene una cita reservada"), "{notices}");
    let r = s
        .client
        .post(s.url("/portal/contact"))
        .bearer_auth(token)
        .json(&json!({"language": "ar"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (_, notices) = get(&s, token, "/portal/notices").await;
    assert_eq!(notices[0]["lang"], "ar", "{notices}");
    // The portal's own page speaks her language too, right to left.
    let page = s.client.get(s.url("/portal/export?format=html")).bearer_auth(token).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains(r#"<html lang="ar" dir="rtl">"#) && page.contains("من اطلع على سجلاتك"), "{page}");
    assert!(!page.contains("Who looked"), "{page}");
    let (_, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{ana}")).await;
    assert_eq!(t["contact"], json!({"email": null, "language": "ar"}), "the latest contact details: {t}");
    // None of this is service: nothing is overdue.
    let (_, o) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{badr}/obligations")).await;
    assert!(o["obligations"].as_array().unwrap().iter().all(|o| o["state"] != "overdue"), "{o}");
    let _: Value = o;

    // The receipt printed at a registration is in the person's language too.
    let mut p = specimen();
    p["document"]["number"] = json!("N0000003");
    let (_, b) = s.post(&s.officer, "/subjects", &p).await;
    let carmen = b["id"].as_str().unwrap().to_string();
    assert_eq!(s.post(&s.officer, &format!("/subjects/{carmen}/contact"), &json!({"language": "es"})).await.0, 201);
    let (st, r) = s.post(&s.officer, &format!("/subjects/{carmen}/registrations"), &registration()).await;
    assert_eq!(st, 201, "{r}");
    let printed = r["printed_receipt"].as_str().unwrap();
    assert!(printed.starts_with("FAIRGATE: RECIBO DE REGISTRO\n"), "{printed}");
    assert!(
        printed.contains(&format!("Código de acceso al portal: {}", r["access_code"].as_str().unwrap())),
        "{printed}"
    );
    s.stop().await;
}
