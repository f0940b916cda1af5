//! The officer's desk past the search, over HTTP as a browser sends it (cookies, the
//! CSRF token, form posts and multipart uploads): a person created from the MRZ, a
//! registration with the program's interview questions, a photograph and
//! fingerprints uploaded as files, the printable receipt with the portal's access
//! code, an entry and an exit with the 1:1 check, the obligations panel, and a
//! designation with a reason. Bad input is refused naming the field.

mod common;

use common::*;
use reqwest::multipart::{Form, Part};
use serde_json::json;

async fn upload(s: &Server, cookie: &str, path: &str, form: Form) -> (u16, String) {
    let r = s.client.post(s.url(path)).header("cookie", cookie).multipart(form).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

const ZONE: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

fn photo_png(seed: u64) -> Vec<u8> {
    fairgate_biometrics::synthetic::face_record(seed, (2026, 11, 30)).images.remove(0).data
}

fn fingers(seed: u64, positions: &[u8]) -> Vec<u8> {
    fairgate_core::minutiae::encode(&fairgate_biometrics::synthetic::minutiae(seed, positions)).unwrap()
}

/// A time the form's datetime-local field would send (UTC, to the minute).
fn minutes_ago(m: i64) -> String {
    let t = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(m);
    t.to_zoned(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%dT%H:%M").to_string()
}

fn file(bytes: Vec<u8>, name: &str) -> Part {
    Part::bytes(bytes).file_name(name.to_string())
}

#[tokio::test]
async fn an_officer_records_registers_crosses_and_designates_in_the_browser() {
    let s = start().await;
    desk_program(&s).await;
    let cookie = signed_in(&s, "officer").await;

    // The desk offers the MRZ form; a zone whose check digit fails is refused, naming it.
    let (st, html) = page(&s, &cookie, "/desk").await;
    assert_eq!(st, 200);
    assert!(html.contains("name=\"mrz\"") && html.contains("data-mrz"), "{html}");
    let csrf = form_token(&html);
    let size = s.tree_size().await;
    let post = |mrz: &str| {
        s.client
            .post(s.url("/desk/subjects"))
            .header("cookie", cookie.clone())
            .form(&[("csrf", csrf.as_str()), ("mrz", mrz)])
            .send()
    };
    let r = post(&ZONE.replace("C36UTO", "C33UTO")).await.unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let text = r.text().await.unwrap();
    assert!(text.contains("mrz") && text.contains("check digit"), "{text}");
    assert_eq!(s.tree_size().await, size, "nothing recorded");

    // The zone creates the person and the desk opens the record for registration.
    let r = post(ZONE).await.unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let record = r.headers()["location"].to_str().unwrap().to_string();
    assert!(record.starts_with("/desk/subjects/") && record.contains("purpose=registration"), "{record}");
    let id = record.trim_start_matches("/desk/subjects/").split('?').next().unwrap().to_string();
    let (st, html) = page(&s, &cookie, &record).await;
    assert_eq!(st, 200);
    assert!(html.contains("ERIKSSON, ANNA MARIA") && html.contains("Recorded from the document at leaf"), "{html}");
    for action in ["register", "crossing", "designate"] {
        assert!(html.contains(&format!("/desk/subjects/{id}/{action}")), "{action} offered");
    }
    // The same zone again: on record, and the page names the holder.
    let r = post(ZONE).await.unwrap();
    assert_eq!(r.status().as_u16(), 409);
    assert!(r.text().await.unwrap().contains(&format!("/desk/subjects/{id}?purpose=registration")));

    // An entry as a WT visitor (no check), so the program selects the person.
    let (_, html) = page(&s, &cookie, &format!("/desk/subjects/{id}/crossing")).await;
    assert!(html.contains("enctype=\"multipart/form-data\"") && html.contains("<option value=\"JFK\""), "{html}");
    let at = format!("{}T10:00", day(-1));
    let entry = Form::new()
        .text("csrf", csrf.clone())
        .text("direction", "entry")
        .text("port", "JFK")
        .text("at", at)
        .text("admission_class", "WT")
        .text("admitted_until", day(60).to_string());
    let (st, html) = upload(&s, &cookie, &format!("/desk/subjects/{id}/crossing"), entry).await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("Crossing recorded"), "{html}");

    // The registration form: the program's question and the obligations panel,
    // a read logged for registration.
    let (st, html) = page(&s, &cookie, &format!("/desk/subjects/{id}/register")).await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("Where will you stay?"), "the program's question is asked");
    assert!(html.contains("register · pending"), "obligations panel: {html}");
    assert!(html.contains("This obligations read was logged at leaf"), "{html}");

    // Something ticked as not captured without a reason: refused, naming the field.
    let bad = Form::new()
        .text("csrf", csrf.clone())
        .text("kind", "port-of-entry")
        .text("place", "JFK")
        .text("not_captured", "left-thumb");
    let size = s.tree_size().await;
    let (st, html) = upload(&s, &cookie, &format!("/desk/subjects/{id}/register"), bad).await;
    assert_eq!(st, 422);
    assert!(html.contains("not_captured_reason"), "{html}");
    // A file that is not a photograph: refused, naming it.
    let bad = Form::new()
        .text("csrf", csrf.clone())
        .text("kind", "port-of-entry")
        .text("place", "JFK")
        .part("photo", file(b"GIF89a not a photo".to_vec(), "x.gif"));
    let (st, html) = upload(&s, &cookie, &format!("/desk/subjects/{id}/register"), bad).await;
    assert_eq!(st, 422);
    assert!(html.contains("photograph"), "{html}");
    // Without the form token: refused.
    let bad = Form::new().text("csrf", "0".repeat(32)).text("kind", "port-of-entry").text("place", "JFK");
    assert_eq!(upload(&s, &cookie, &format!("/desk/subjects/{id}/register"), bad).await.0, 403);
    // The program's captures missing: refused by the registry, naming what is missing.
    let bad = Form::new().text("csrf", csrf.clone()).text("kind", "port-of-entry").text("place", "JFK");
    let (st, html) = upload(&s, &cookie, &format!("/desk/subjects/{id}/register"), bad).await;
    assert_eq!(st, 422);
    assert!(html.contains("captures"), "{html}");
    assert_eq!(s.tree_size().await, size, "nothing recorded by refused forms");

    // The registration: the answer, a photograph file and two fingerprints.
    let form = Form::new()
        .text("csrf", csrf.clone())
        .text("kind", "port-of-entry")
        .text("place", "JFK")
        .text("question", "Where will you stay?")
        .text("answer", "WITH MY SISTER")
        .text("interpreter_present", "true")
        .part("photo", file(photo_png(11), "photo.png"))
        .part("fingerprints", file(fingers(11, &[2, 7]), "prints.fmr"));
    let (st, html) = upload(&s, &cookie, &format!("/desk/subjects/{id}/register"), form).await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("Registered") && html.contains("class=\"fairgate-receipt\""), "{html}");
    assert!(html.contains("data-print"), "a print button for the receipt");
    // The receipt carries the registration number and a portal access code that works.
    let number = html.split("Registration <strong>").nth(1).unwrap().split('<').next().unwrap().to_string();
    let receipt = html.split("id=\"receipt\"").nth(1).unwrap().split("</pre>").next().unwrap();
    assert!(receipt.contains(&number), "{receipt}");
    // The first registration: 1:1 has nothing earlier to compare with.
    assert!(html.contains("not checked"), "{html}");
    let (_, t) = s.read(&s.officer, Some("registration"), &format!("/subjects/{id}")).await;
    let reg = &t["registrations"][0];
    assert_eq!(reg["interview"]["questions"][0]["answer"], "WITH MY SISTER");
    assert_eq!(reg["interview"]["interpreter_present"], true);
    assert_eq!(reg["captures"]["face"], true);
    assert_eq!(reg["captures"]["fingers"], json!([2, 7]));

    // The exit, with the same fingers at the port: compared 1:1, a match.
    let exit = Form::new()
        .text("csrf", csrf.clone())
        .text("direction", "exit")
        .text("port", "JFK")
        .text("at", minutes_ago(3))
        .part("fingerprints", file(fingers(11, &[2, 7]), "prints.fmr"));
    let (st, html) = upload(&s, &cookie, &format!("/desk/subjects/{id}/crossing"), exit).await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("Fingerprints: </strong>match"), "{html}");
    // Someone else's fingers at a later exit: no match, referred, and recorded all the same.
    let exit = Form::new()
        .text("csrf", csrf.clone())
        .text("direction", "entry")
        .text("port", "JFK")
        .text("at", minutes_ago(1))
        .text("admission_class", "WT")
        .text("admitted_until", day(30).to_string())
        .part("fingerprints", file(fingers(99, &[2, 7]), "prints.fmr"));
    let (st, html) = upload(&s, &cookie, &format!("/desk/subjects/{id}/crossing"), exit).await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("no match") && html.contains("Refer to secondary inspection"), "{html}");
    let (_, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(t["crossings"].as_array().unwrap().len(), 3, "{t}");

    // A designation: too few facts are refused naming the field; then made, pending review.
    let (_, html) = page(&s, &cookie, &format!("/desk/subjects/{id}/designate")).await;
    assert!(html.contains("<option value=\"document-anomaly\""), "{html}");
    let designate = |facts: &str| {
        s.client
            .post(s.url(&format!("/desk/subjects/{id}/designate")))
            .header("cookie", cookie.clone())
            .form(&[
                ("csrf", csrf.as_str()),
                ("reason", "document-anomaly"),
                ("facts", facts),
                ("case_number", ""),
                ("place", "JFK"),
            ])
            .send()
    };
    let r = designate("short").await.unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("facts"));
    let r = designate("The data page laminate lifts at the lower corner").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("Designation 1 made"));
    let (_, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(t["designations"][0]["status"], "pending", "{t}");

    // The record page shows the obligations panel, now met.
    let (_, html) = page(&s, &cookie, &format!("/desk/subjects/{id}?purpose=registration")).await;
    assert!(html.contains("obligations-heading") && html.contains("register · met"), "{html}");
    s.stop().await;
}

#[tokio::test]
async fn the_desk_script_is_served_from_this_origin_and_every_page_loads_it() {
    let s = start().await;
    let r = s.client.get(s.url("/static/desk.js")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let js = r.text().await.unwrap();
    assert!(js.contains("getUserMedia") && js.contains("data-mrz") && js.contains("window.print"));
    let home = s.client.get(s.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("<script src=\"/static/desk.js\">"), "{home}");
    s.stop().await;
}
