//! The JSON API through real HTTP: the officer's flow, purposes and the access
//! matrix, authentication, and every kind of bad input (which must write nothing).

mod common;

use common::*;
use fairgate_core::ids::RegistrationNumber;
use serde_json::{json, Value};

#[tokio::test]
async fn an_officer_registers_a_traveller_and_reads_the_timeline() {
    let s = start().await;
    assert_eq!(s.client.get(s.url("/healthz")).send().await.unwrap().status(), 200);
    let ports: Value = s.client.get(s.url("/ports")).send().await.unwrap().json().await.unwrap();
    assert!(ports.as_array().unwrap().iter().any(|p| p["code"] == "JFK" && p["zone"] == "America/New_York"));
    let offices: Value = s.client.get(s.url("/offices")).send().await.unwrap().json().await.unwrap();
    assert!(offices.as_array().unwrap().iter().all(|p| p["code"].as_str().unwrap().ends_with("-FO")));

    let id = s.specimen().await;
    let (status, reg) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &registration()).await;
    assert_eq!(status, 201, "{reg}");
    let number = reg["registration_number"].as_str().unwrap();
    assert!(RegistrationNumber::parse(number).is_ok(), "{number} must carry a valid check symbol");
    assert!(reg["printed_receipt"].as_str().unwrap().contains(number));
    let (status, _) = s.post(&s.officer, &format!("/subjects/{id}/crossings"), &entry("2026-06-03T13:00:00Z")).await;
    assert_eq!(status, 201);
    let (status, c) =
        s.post(&s.officer, &format!("/subjects/{id}/crossings"), &exit("2026-08-30T18:00:00-04:00")).await;
    assert_eq!(status, 201);
    // The six test accounts are the first leaves (each creation is a ledger event).
    let b = s.tree_size().await - 4;
    assert_eq!(c["receipt"]["tree_size"], b + 4);

    let (status, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["surname"], "ERIKSSON");
    assert_eq!(t["document"]["number"], "L898902C3");
    assert_eq!(t["registrations"][0]["registration_number"], number);
    assert_eq!(t["registrations"][0]["interview"]["interpreter_present"], true);
    assert_eq!(t["crossings"][1]["at"], "2026-08-30T22:00:00Z", "stored in UTC");
    // The access event was committed before the answer: it is leaf 4, and the tree already holds it.
    assert_eq!(t["access_receipt"]["leaf_index"], b + 4);
    assert_eq!(s.tree_size().await, b + 5);

    let (status, found) =
        s.post_for(&s.officer, "registration", "/subjects/lookup", &json!({"document_number": "L898902C3"})).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["subjects"], json!([id]));
    assert_eq!(s.tree_size().await, b + 6);
    s.stop().await;
}

fn assert_problem(status: u16, body: &Value, want_status: u16, field: Option<&str>) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["status"], want_status, "{body}");
    assert!(body["type"].as_str().unwrap().starts_with("/problems/"), "{body}");
    assert!(!body["detail"].as_str().unwrap().is_empty());
    if let Some(f) = field {
        let fields: Vec<&str> =
            body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&f), "expected field {f} in {body}");
    }
}

#[tokio::test]
async fn reads_need_a_permitted_purpose_and_refusals_disclose_nothing() {
    let s = start().await;
    let id = s.specimen().await;
    let before = s.tree_size().await;
    let path = format!("/subjects/{id}");

    let (st, b) = s.read(&s.officer, None, &path).await;
    assert_problem(st, &b, 403, Some("Fairgate-Purpose"));
    assert!(b["detail"].as_str().unwrap().contains("border-check"), "the refusal says which purposes the role may use");
    let (st, b) = s.read(&s.officer, Some("benefit-adjudication"), &path).await;
    assert_problem(st, &b, 403, Some("Fairgate-Purpose"));
    let (st, b) = s.read(&s.officer, Some("curiosity"), &path).await;
    assert_problem(st, &b, 403, Some("Fairgate-Purpose"));
    let (st, b) = s.read(&s.admin, Some("oversight-audit"), &path).await;
    assert_problem(st, &b, 403, None);
    let (st, b) = s.read(&s.auditor, Some("law-enforcement"), &path).await;
    assert_problem(st, &b, 403, None);
    let (st, b) = s.post(&s.officer, "/subjects/lookup", &json!({"document_number": "L898902C3"})).await;
    assert_problem(st, &b, 403, Some("Fairgate-Purpose"));
    // The three refused for their stated purpose are on record, as attempts that name
    // nobody; requests that state no usable purpose never reached a read.
    assert_eq!(s.tree_size().await, before + 3, "every refused read is on record");
    let leaves = s.store.leaves(before, 3).unwrap();
    for l in &leaves {
        let kind = fairgate_ledger::leaf::Header::decode(&l.leaf).unwrap().kind;
        assert_eq!(kind, fairgate_core::event::EventKind::AccessAttempted.code());
    }

    let (st, _) = s.read(&s.auditor, Some("oversight-audit"), &path).await;
    assert_eq!(st, 200);
    let (st, _) = s.read(&s.adjudicator, Some("benefit-adjudication"), &path).await;
    assert_eq!(st, 200);
    let (st, _) = s.read(&s.supervisor, Some("compliance-review"), &path).await;
    assert_eq!(st, 200);
    assert_eq!(s.tree_size().await, before + 6, "each permitted read is logged");
    s.stop().await;
}

#[tokio::test]
async fn authentication_and_recording_roles() {
    let s = start().await;
    let r = s.client.post(s.url("/subjects")).json(&specimen()).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let (st, b) = s.post("fg_not-a-real-token", "/subjects", &specimen()).await;
    assert_problem(st, &b, 401, None);
    let (st, b) = s.post(&s.auditor, "/subjects", &specimen()).await;
    assert_problem(st, &b, 403, None);
    let (st, b) = s.post(&s.admin, "/subjects", &specimen()).await;
    assert_problem(st, &b, 403, None);
    let (st, _) = s.post(&s.supervisor, "/subjects", &specimen()).await;
    assert_eq!(st, 201);
    s.stop().await;
}

#[tokio::test]
async fn bad_input_names_the_field_and_writes_nothing() {
    let s = start().await;
    let id = s.specimen().await;
    s.post(&s.officer, &format!("/subjects/{id}/crossings"), &entry("2026-06-03T13:00:00Z")).await;
    let before = s.tree_size().await;

    // Malformed JSON.
    let r = s
        .client
        .post(s.url("/subjects"))
        .bearer_auth(&s.officer)
        .header("content-type", "application/json")
        .body("{\"surname\": ")
        .send()
        .await
        .unwrap();
    let st = r.status().as_u16();
    assert_problem(st, &r.json().await.unwrap(), 400, Some("body"));
    // Missing fields, at the top (a validation error: the zone may stand in for
    // them) and nested (the body's shape).
    let mut body = specimen();
    body.as_object_mut().unwrap().remove("surname");
    let (st, b) = s.post(&s.officer, "/subjects", &body).await;
    assert_problem(st, &b, 422, Some("surname"));
    let mut body = specimen();
    body["document"].as_object_mut().unwrap().remove("number");
    let (st, b) = s.post(&s.officer, "/subjects", &body).await;
    assert_problem(st, &b, 400, Some("document.number"));
    // Wrong type.
    let mut body = specimen();
    body["document"]["expires_on"] = json!(20310415);
    let (st, b) = s.post(&s.officer, "/subjects", &body).await;
    assert_problem(st, &b, 400, Some("document.expires_on"));
    // Invalid dates and values: every problem reported at once.
    let mut body = specimen();
    body["birth_date"] = json!("1974-02-30");
    body["document"]["expires_on"] = json!("15.04.2031");
    body["sex"] = json!("male");
    let (st, b) = s.post(&s.officer, "/subjects", &body).await;
    assert_problem(st, &b, 422, Some("birth_date"));
    assert_problem(st, &b, 422, Some("document.expires_on"));
    assert_problem(st, &b, 422, Some("sex"));
    // An exit before the matching entry.
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/crossings"), &exit("2026-06-01T10:00:00Z")).await;
    assert_problem(st, &b, 422, Some("direction"));
    // Unknown port and office.
    let mut c = entry("2026-07-03T13:00:00Z");
    c["port"] = json!("XXX");
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/crossings"), &c).await;
    assert_problem(st, &b, 422, Some("port"));
    let mut r = registration();
    r["kind"] = json!("office");
    r["place"] = json!("ATL-FO");
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &r).await;
    assert_problem(st, &b, 422, Some("place"));
    // Unknown and malformed subjects.
    let (st, b) =
        s.post(&s.officer, &format!("/subjects/{}/crossings", "0".repeat(32)), &entry("2026-07-03T13:00:00Z")).await;
    assert_problem(st, &b, 404, Some("id"));
    let (st, b) = s.post(&s.officer, "/subjects/not-an-id/crossings", &entry("2026-07-03T13:00:00Z")).await;
    assert_problem(st, &b, 404, Some("id"));
    let (st, b) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{}", "f".repeat(32))).await;
    assert_problem(st, &b, 404, Some("id"));
    // Oversized body.
    let mut big = specimen();
    big["given_names"] = json!("A".repeat(2 * 1024 * 1024));
    let (st, b) = s.post(&s.officer, "/subjects", &big).await;
    assert_problem(st, &b, 413, None);
    // Not JSON at all.
    let r = s.client.post(s.url("/subjects")).bearer_auth(&s.officer).body("surname=ERIKSSON").send().await.unwrap();
    let st = r.status().as_u16();
    assert_problem(st, &r.json().await.unwrap(), 415, None);
    // A time in the future.
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/crossings"), &exit("2099-01-01T00:00:00Z")).await;
    assert_problem(st, &b, 422, Some("at"));
    // An unknown route.
    let r = s.client.get(s.url("/nothing-here")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    assert_eq!(s.tree_size().await, before, "no refused request wrote anything");
    s.stop().await;
}

#[tokio::test]
async fn the_openapi_document_matches_the_routes() {
    let s = start().await;
    let doc: Value = s.client.get(s.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let mut expected: Vec<(String, String)> = [
        ("GET", "/healthz"),
        ("GET", "/ports"),
        ("GET", "/offices"),
        ("GET", "/programs"),
        ("POST", "/programs"),
        ("GET", "/programs/{id}"),
        ("POST", "/programs/impact"),
        ("POST", "/programs/{id}/activate"),
        ("POST", "/programs/{id}/sign-off"),
        ("POST", "/programs/{id}/repeal"),
        ("POST", "/subjects/{id}/designations"),
        ("POST", "/subjects/{id}/designations/{number}/review"),
        ("GET", "/designations/stats"),
        ("GET", "/subjects/{id}/obligations"),
        ("GET", "/subjects/{id}/clearance"),
        ("POST", "/subjects/{id}/notices"),
        ("POST", "/subjects/{id}/excuses"),
        ("POST", "/subjects/{id}/excuses/approve"),
        ("POST", "/subjects/{id}/determinations"),
        ("POST", "/subjects/{id}/changes"),
        ("GET", "/subjects/{id}/notice"),
        ("POST", "/subjects/{id}/expunge/approve"),
        ("POST", "/subjects/{id}/expunge"),
        ("GET", "/expungements"),
        ("POST", "/programs/{id}/expunge/approve"),
        ("POST", "/programs/{id}/expunge/notice"),
        ("POST", "/programs/{id}/expunge"),
        ("GET", "/portal/erasures"),
        ("POST", "/portal/login"),
        ("POST", "/portal/activate"),
        ("GET", "/law-enforcement/queue"),
        ("GET", "/identification/reviews"),
        ("POST", "/identification/reviews/{subject}"),
        ("GET", "/authorities"),
        ("POST", "/authorities"),
        ("POST", "/subjects/{id}/access-code"),
        ("GET", "/portal/records"),
        ("GET", "/portal/disclosures"),
        ("GET", "/portal/export"),
        ("POST", "/portal/corrections"),
        ("POST", "/portal/changes"),
        ("GET", "/portal/corrections"),
        ("POST", "/subjects/{id}/corrections/{number}/answer"),
        ("POST", "/subjects/{id}/law-enforcement"),
        ("POST", "/subjects/{id}/law-enforcement/{number}/approve"),
        ("POST", "/subjects/{id}/law-enforcement/{number}/review"),
        ("POST", "/subjects"),
        ("POST", "/documents/mrz"),
        ("GET", "/places"),
        ("POST", "/programs/{id}/plan"),
        ("POST", "/places"),
        ("PUT", "/places/{code}"),
        ("POST", "/places/{code}/close"),
        ("POST", "/subjects/{id}/appointments"),
        ("POST", "/portal/appointments"),
        ("GET", "/offices/{code}/queue"),
        ("POST", "/offices/{code}/queue"),
        ("POST", "/offices/{code}/queue/call"),
        ("POST", "/offices/{code}/queue/{subject}/done"),
        ("POST", "/subjects/{id}/interviews"),
        ("POST", "/subjects/{id}/contact"),
        ("POST", "/portal/contact"),
        ("GET", "/portal/notices"),
        ("POST", "/notices/letters"),
        ("POST", "/subjects/{id}/documents"),
        ("POST", "/subjects/lookup"),
        ("GET", "/subjects/{id}"),
        ("GET", "/subjects/{id}/stay"),
        ("GET", "/subjects/{id}/biometrics"),
        ("GET", "/overstays"),
        ("GET", "/overstays.csv"),
        ("POST", "/subjects/{id}/registrations"),
        ("POST", "/subjects/{id}/crossings"),
        ("GET", "/log/checkpoint"),
        ("GET", "/log/key"),
        ("GET", "/log/leaves"),
        ("GET", "/log/proof/inclusion"),
        ("GET", "/log/proof/consistency"),
        ("GET", "/transparency.json"),
        ("GET", "/transparency/{file}"),
        ("GET", "/access-policy"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    expected.sort();
    assert_eq!(documented, expected);
    // Every documented operation is really routed: it never answers the not-found problem or 405.
    for (method, path) in &documented {
        let url = s.url(&path.replace("{id}", &"0".repeat(32)).replace("{file}", "data-use.csv"));
        let r = s.client.request(method.parse().unwrap(), url).send().await.unwrap();
        assert_ne!(r.status(), 405, "{method} {path}");
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_ne!(body["type"], "/problems/not-found", "{method} {path} is documented but not routed");
    }
    // Every error the API sends is problem+json, and the document says so; the
    // answers of the layers every route passes through are documented on each
    // (Schemathesis checks the served answers against this in CI).
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for (code, response) in responses {
                if code.starts_with('4') || code.starts_with('5') {
                    let content = response["content"].as_object().unwrap();
                    assert!(
                        content.contains_key("application/problem+json") && !content.contains_key("application/json"),
                        "{method} {path} {code}: {response}"
                    );
                }
            }
            let mut want = vec!["400", "503"];
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                want.extend(["401", "403", "429"]);
            }
            if op.get("requestBody").is_some() {
                want.extend(["413", "415", "422"]);
            }
            if path.contains('{') {
                want.push("404");
            }
            for code in want {
                assert!(responses.contains_key(code), "{method} {path} does not document {code}");
            }
        }
    }
    // A path number that is not one is answered as problem+json too (axum's own
    // answer was plain text: Schemathesis found it).
    let r = s
        .client
        .post(s.url(&format!("/subjects/{}/designations/-1/review", "0".repeat(32))))
        .bearer_auth(&s.supervisor)
        .json(&serde_json::json!({"justified": false, "reasons": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let st = r.status().as_u16();
    assert_problem(st, &r.json().await.unwrap(), 400, Some("path"));
    assert!(doc["components"]["schemas"]["SubjectRequest"].is_object());
    assert!(doc["components"]["schemas"]["MrzReading"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // A person just registered links to every operation on that person (stateful
    // testing follows these), and each link points at an operation that exists.
    let links = doc["paths"]["/subjects"]["post"]["responses"]["201"]["links"].as_object().unwrap();
    let on_a_person = documented.iter().filter(|(_, p)| p.starts_with("/subjects/{id}")).count();
    assert_eq!(links.len(), on_a_person, "{links:?}");
    for (name, link) in links {
        let pointer = link["operationRef"].as_str().unwrap().strip_prefix('#').unwrap();
        assert!(doc.pointer(pointer).is_some_and(Value::is_object), "{name}: {pointer} is not an operation");
        assert_eq!(link["parameters"]["path.id"], "$response.body#/id", "{name}");
    }
    s.stop().await;
}

#[tokio::test]
async fn the_log_publishes_a_signed_checkpoint() {
    let s = start().await;
    s.specimen().await;
    let key = s.client.get(s.url("/log/key")).send().await.unwrap().text().await.unwrap();
    let verifier = fairgate_ledger::checkpoint::NoteVerifier::parse(&key).unwrap();
    // The server signs one at start; wait for it.
    let mut note = String::new();
    for _ in 0..50 {
        let r = s.client.get(s.url("/log/checkpoint")).send().await.unwrap();
        if r.status() == 200 {
            note = r.text().await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let cp = verifier.verify(&note).unwrap();
    assert_eq!(cp.origin, "test/log");
    s.stop().await;
}

#[tokio::test]
async fn web_sign_in_uses_a_cookie_that_the_api_does_not_accept() {
    let s = start().await;
    let home = s.client.get(s.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("Fairgate") && home.contains("Sign in"));
    let bad = web_login(&s, "officer", "wrong password!").await;
    assert_eq!(bad.status(), 401);
    assert!(bad.text().await.unwrap().contains("wrong"));
    let ok = web_login(&s, "officer", PASSWORD).await;
    assert_eq!(ok.status(), 303);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();
    let home = s.client.get(s.url("/")).header("cookie", &pair).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("Signed in as") && home.contains("officer"), "{home}");
    let api = s.client.post(s.url("/subjects")).header("cookie", &pair).json(&specimen()).send().await.unwrap();
    assert_eq!(api.status(), 401, "the API takes bearer tokens only");
    let (token, csrf_pair) = csrf(&s, "/", Some(&pair)).await;
    let both = format!("{pair}; {csrf_pair}");
    // Signing out without the form's token (a cross-site POST) changes nothing.
    let forged = s.client.post(s.url("/logout")).header("cookie", &both).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    let home = s.client.get(s.url("/")).header("cookie", &pair).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("Signed in as"), "still signed in");
    let out =
        s.client.post(s.url("/logout")).header("cookie", &both).form(&[("csrf", token.as_str())]).send().await.unwrap();
    assert_eq!(out.status(), 303);
    let home = s.client.get(s.url("/")).header("cookie", &pair).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("Signed in as"), "the session ended");
    s.stop().await;
}

#[tokio::test]
async fn the_log_serves_leaves_and_proofs_that_verify_against_signed_checkpoints() {
    use base64::Engine;
    use fairgate_ledger::merkle::{leaf_hash, Hash};
    use fairgate_ledger::proof::{verify_consistency, verify_inclusion};
    let b64 = base64::engine::general_purpose::STANDARD;
    let hashes = |v: &Value| -> Vec<Hash> {
        v["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| b64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
            .collect()
    };
    let s = start().await;
    let key = s.client.get(s.url("/log/key")).send().await.unwrap().text().await.unwrap();
    let verifier = fairgate_ledger::checkpoint::NoteVerifier::parse(&key).unwrap();
    // The six test accounts are the first leaves: sizes below count from there.
    let b = s.tree_size().await;
    let (n1, n2) = (b + 5, b + 12);
    for i in 0..5 {
        let mut p = specimen();
        p["document"]["number"] = json!(format!("X{i:07}"));
        s.post(&s.officer, "/subjects", &p).await;
    }
    let first = s.registry_checkpoint().await;
    for i in 5..12 {
        let mut p = specimen();
        p["document"]["number"] = json!(format!("X{i:07}"));
        s.post(&s.officer, "/subjects", &p).await;
    }
    let second = s.registry_checkpoint().await;
    let cp1 = verifier.verify(&first).unwrap();
    let cp2 = verifier.verify(&second).unwrap();
    assert_eq!((cp1.size, cp2.size), (n1, n2));

    // Leaves hash to the signed root.
    let leaves: Vec<String> =
        s.client.get(s.url(&format!("/log/leaves?start=0&count={n2}"))).send().await.unwrap().json().await.unwrap();
    let leaf_hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(&b64.decode(l).unwrap())).collect();
    assert_eq!(fairgate_ledger::merkle::root_of(&leaf_hashes), cp2.root);

    for index in [0u64, b + 4, b + 7, b + 11] {
        let p: Value = s
            .client
            .get(s.url(&format!("/log/proof/inclusion?index={index}&size={n2}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(p["tree_size"], n2);
        assert!(verify_inclusion(&leaf_hashes[index as usize], index, n2, &hashes(&p), &cp2.root), "leaf {index}");
    }
    let c: Value = s
        .client
        .get(s.url(&format!("/log/proof/consistency?from={n1}&to={n2}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(verify_consistency(n1, n2, &cp1.root, &cp2.root, &hashes(&c)));

    // Older checkpoints stay retrievable by size.
    let old = s.client.get(s.url(&format!("/log/checkpoint?size={n1}"))).send().await.unwrap().text().await.unwrap();
    assert_eq!(verifier.verify(&old).unwrap().size, n1);

    // Bad parameters are named.
    for (path, status, field) in [
        (format!("/log/checkpoint?size={}", n1 + 1), 404, "size"),
        ("/log/leaves".to_string(), 400, "start"),
        ("/log/leaves?start=0&count=5000".to_string(), 422, "count"),
        ("/log/leaves?start=99".to_string(), 422, "start"),
        (format!("/log/proof/inclusion?index={n2}&size={n2}"), 422, "index"),
        (format!("/log/proof/inclusion?index=x&size={n2}"), 400, "index"),
        (format!("/log/proof/inclusion?index=0&size={}", n2 + 1), 422, "size"),
        ("/log/proof/consistency?from=6&to=5".to_string(), 422, "from"),
    ] {
        let path = path.as_str();
        let r = s.client.get(s.url(path)).send().await.unwrap();
        let st = r.status().as_u16();
        assert_problem(st, &r.json().await.unwrap(), status, Some(field));
    }
    s.stop().await;
}

#[tokio::test]
async fn stay_accounting_from_recorded_crossings() {
    let s = start().await;
    let id = s.specimen().await;
    let path = format!("/subjects/{id}/crossings");
    // Visa waiver (rolling 90/180). 02:00 UTC on 2 January is still 1 January in New York.
    let entry = json!({"direction": "entry", "port": "JFK", "at": "2026-01-02T02:00:00Z", "admission_class": "WT"});
    assert_eq!(s.post(&s.officer, &path, &entry).await.0, 201);
    assert_eq!(s.post(&s.officer, &path, &exit("2026-01-10T15:00:00Z")).await.0, 201);
    let before = s.tree_size().await;

    let (st, v) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}/stay?on=2026-02-01")).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["rule"], "90/180");
    assert_eq!(v["days_used"], 10, "1 to 10 January in the port's calendar: {v}");
    assert_eq!(v["present"], false);
    assert_eq!(v["max_days"], 80);
    assert!(v["overstay"].is_null());
    assert_eq!(s.tree_size().await, before + 1, "the read was logged");

    let (st, b) = s.read(&s.officer, None, &format!("/subjects/{id}/stay?on=2026-02-01")).await;
    assert_eq!(st, 403, "{b}");
    let (st, b) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}/stay?on=2026-02-30")).await;
    assert_eq!(st, 400, "{b}");
    assert_eq!(b["errors"][0]["field"], "on");

    // A fixed admission that has run out, with no exit recorded.
    let other = {
        let mut p = specimen();
        p["document"]["number"] = json!("Z0000001");
        s.post(&s.officer, "/subjects", &p).await.1["id"].as_str().unwrap().to_string()
    };
    let entry = json!({"direction": "entry", "port": "LAX", "at": "2026-03-01T18:00:00Z", "admission_class": "B-2", "admitted_until": "2026-05-31"});
    assert_eq!(s.post(&s.officer, &format!("/subjects/{other}/crossings"), &entry).await.0, 201);
    let (_, v) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{other}/stay?on=2026-06-10")).await;
    assert_eq!(v["rule"], "admitted-until");
    assert_eq!(v["overstay"], json!({"first_day": "2026-06-01", "last_day": "2026-06-10", "days": 10}));
    assert_eq!(v["present"], true);
    s.stop().await;
}

#[tokio::test]
async fn the_overstay_list_is_paginated_purpose_bound_and_logged() {
    let s = start().await;
    let make = |n: u32| {
        let mut p = specimen();
        p["document"]["number"] = json!(format!("O{n:07}"));
        p
    };
    let entry = |at: &str, until: &str| json!({"direction": "entry", "port": "JFK", "at": at, "admission_class": "B-2", "admitted_until": until});
    // Still here 20 days after the admission ran out.
    let current = s.post(&s.officer, "/subjects", &make(1)).await.1["id"].as_str().unwrap().to_string();
    s.post(&s.officer, &format!("/subjects/{current}/crossings"), &entry("2026-01-05T15:00:00Z", "2026-04-30")).await;
    // Left 3 days late, earlier.
    let past = s.post(&s.officer, "/subjects", &make(2)).await.1["id"].as_str().unwrap().to_string();
    s.post(&s.officer, &format!("/subjects/{past}/crossings"), &entry("2026-01-02T15:00:00Z", "2026-02-28")).await;
    s.post(&s.officer, &format!("/subjects/{past}/crossings"), &exit("2026-03-03T15:00:00Z")).await;
    // Left in time.
    let fine = s.post(&s.officer, "/subjects", &make(3)).await.1["id"].as_str().unwrap().to_string();
    s.post(&s.officer, &format!("/subjects/{fine}/crossings"), &entry("2026-01-02T15:00:00Z", "2026-02-28")).await;
    s.post(&s.officer, &format!("/subjects/{fine}/crossings"), &exit("2026-02-20T15:00:00Z")).await;

    let before = s.tree_size().await;
    let (st, v) = s.read(&s.supervisor, Some("compliance-review"), "/overstays?on=2026-05-20").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["total"], 2);
    assert_eq!(v["overstays"][0]["subject"], past.as_str(), "oldest overstay first");
    assert_eq!(v["overstays"][0]["overstay"], json!({"first_day": "2026-03-01", "last_day": "2026-03-03", "days": 3}));
    assert_eq!(v["overstays"][0]["still_present"], false);
    assert_eq!(v["overstays"][1]["subject"], current.as_str());
    assert_eq!(v["overstays"][1]["overstay"]["days"], 20);
    assert_eq!(v["overstays"][1]["still_present"], true);
    assert_eq!(v["overstays"][1]["rule"], "admitted-until");
    assert_eq!(s.tree_size().await, before + 2, "one access event per listed subject");

    let (_, v) = s.read(&s.auditor, Some("oversight-audit"), "/overstays?on=2026-05-20&page=2&per_page=1").await;
    assert_eq!((v["total"].as_u64(), v["overstays"].as_array().unwrap().len()), (Some(2), 1));
    assert_eq!(v["overstays"][0]["subject"], current.as_str());

    let (st, b) = s.read(&s.officer, Some("border-check"), "/overstays?on=2026-05-20").await;
    assert_eq!(st, 403, "{b}");
    let (st, b) = s.read(&s.supervisor, Some("compliance-review"), "/overstays?on=2026-05-20&per_page=0").await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("per_page")));

    let r = s
        .client
        .get(s.url("/overstays.csv?on=2026-05-20"))
        .bearer_auth(&s.supervisor)
        .header("Fairgate-Purpose", "compliance-review")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("subject,rule,first_day,last_day,days,still_present\r\n"));
    assert!(csv.contains(&format!("{current},admitted-until,2026-05-01,2026-05-20,20,true")), "{csv}");
    assert_eq!(csv.lines().count(), 3);
    s.stop().await;
}

/// A zone read over HTTP: the same object as `fairgate mrz`, nothing stored; and a
/// subject created from a zone instead of typed fields.
#[tokio::test]
async fn a_zone_is_read_without_storing_anything_and_creates_a_subject() {
    let s = start().await;
    let zone = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let before = s.tree_size().await;
    let (st, b) = s.post(&s.officer, "/documents/mrz", &json!({"mrz": zone})).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(
        (b["format"].as_str(), b["document_number"].as_str(), b["valid"].as_bool()),
        (Some("TD3"), Some("L898902C3"), Some(true))
    );
    assert_eq!(s.tree_size().await, before, "reading a zone stores nothing");
    // A failed check: still answered, with the failure named.
    let (st, b) = s.post(&s.officer, "/documents/mrz", &json!({"mrz": zone.replace("C36UTO", "C33UTO")})).await;
    assert_eq!((st, b["valid"].as_bool()), (200, Some(false)), "{b}");
    assert_eq!(b["errors"][0]["message"], "line 2, column 10: document number check digit is 3, the number gives 6");
    // Not a zone: 422 naming `mrz`. Without signing in: 401.
    let (st, b) = s.post(&s.officer, "/documents/mrz", &json!({"mrz": "P<UTO"})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("mrz")), "{b}");
    let anonymous = s.client.post(s.url("/documents/mrz")).json(&json!({"mrz": zone})).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    // A subject from a zone (a TD1 card with a long number): the same record as typed.
    let card = "I<UTOD23145890<7349<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<";
    let (st, b) = s.post(&s.officer, "/subjects", &json!({"mrz": card})).await;
    assert_eq!(st, 201, "{b}");
    let id = b["id"].as_str().unwrap().to_string();
    let (_, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(t["surname"], "STEVENSON", "{t}");
    assert_eq!(t["given_names"], "PETER JOHN");
    assert_eq!(t["document"]["number"], "D23145890734");
    assert_eq!(t["birth_date"], "1934-07-12");
    // A zone that fails its checks creates nothing; a zone with typed fields is refused.
    let before = s.tree_size().await;
    let (st, b) = s.post(&s.officer, "/subjects", &json!({"mrz": card.replace("<<<2\nSTEV", "<<<3\nSTEV")})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("mrz")), "{b}");
    let (st, b) = s.post(&s.officer, "/subjects", &json!({"mrz": card, "surname": "OTHER"})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("surname")), "{b}");
    assert_eq!(s.tree_size().await, before);
    s.stop().await;
}

/// One person, one record per document: a second subject with a document on
/// record is refused with 409 naming the holder, and that answer is a logged read.
#[tokio::test]
async fn a_document_on_record_is_answered_with_its_subject_and_the_answer_is_logged() {
    let s = start().await;
    let (st, b) = s.post(&s.officer, "/subjects", &specimen()).await;
    assert_eq!(st, 201, "{b}");
    let first = b["id"].as_str().unwrap().to_string();
    let before = s.tree_size().await;
    let (st, b) = s.post(&s.officer, "/subjects", &specimen()).await;
    assert_eq!(st, 409, "{b}");
    assert_eq!(b["subject"], first.as_str());
    assert_eq!(b["errors"][0]["field"], "document");
    assert_eq!(b["access_receipt"]["leaf_index"], before, "the answer was logged before it was given");
    assert_eq!(s.tree_size().await, before + 1, "one leaf: the read, no subject");
    // Typed or scanned, the same document is the same document.
    let zone = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let (st, b) = s.post(&s.officer, "/subjects", &json!({"mrz": zone})).await;
    assert_eq!((st, b["subject"].as_str()), (409, Some(first.as_str())), "{b}");
    // The same number from another state is another document.
    let mut other = specimen();
    other["document"]["issuing_state"] = json!("D");
    assert_eq!(s.post(&s.officer, "/subjects", &other).await.0, 201);
    // A purpose the role may not use is refused before anything is looked up: the
    // same 403 whether or not the document is on record.
    let mut fresh = specimen();
    fresh["document"]["number"] = json!("NEW000001");
    let (st1, b1) = s.post_for(&s.officer, "oversight-audit", "/subjects", &specimen()).await;
    let (st2, b2) = s.post_for(&s.officer, "oversight-audit", "/subjects", &fresh).await;
    assert_eq!((st1, st2), (403, 403), "{b1} {b2}");
    assert_eq!(b1["detail"], b2["detail"]);
    s.stop().await;
}

/// A renewed passport joins the person's record: one id, a document history, and a
/// look-up by either number finds them.
#[tokio::test]
async fn a_new_document_keeps_the_person_and_either_number_finds_them() {
    let s = start().await;
    let (_, b) = s.post(&s.officer, "/subjects", &specimen()).await;
    let id = b["id"].as_str().unwrap().to_string();
    let renewed = json!({"kind": "P", "issuing_state": "UTO", "number": "R1234567", "expires_on": "2036-04-15"});
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/documents"), &renewed).await;
    assert_eq!(st, 201, "{b}");
    assert!(b["leaf_index"].as_u64().is_some(), "{b}");
    let (_, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(t["document"]["number"], "R1234567", "the newest document");
    let numbers: Vec<&str> = t["documents"].as_array().unwrap().iter().map(|d| d["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["L898902C3", "R1234567"]);
    for number in ["L898902C3", "R1234567"] {
        let (st, found) =
            s.post_for(&s.officer, "registration", "/subjects/lookup", &json!({"document_number": number})).await;
        assert_eq!((st, found["subjects"].clone()), (200, json!([id])), "{number}");
    }
    // The renewed document cannot start a second record, nor join another person's.
    let mut twin = specimen();
    twin["document"] = renewed.clone();
    let (st, b) = s.post(&s.officer, "/subjects", &twin).await;
    assert_eq!((st, b["subject"].as_str()), (409, Some(id.as_str())), "{b}");
    let mut other = specimen();
    other["document"]["number"] = json!("OTHER0001");
    let (_, b) = s.post(&s.officer, "/subjects", &other).await;
    let other_id = b["id"].as_str().unwrap().to_string();
    let (st, b) = s.post(&s.officer, &format!("/subjects/{other_id}/documents"), &renewed).await;
    assert_eq!((st, b["subject"].as_str()), (409, Some(id.as_str())), "{b}");
    // Adding a document the person already holds: 422 naming the field.
    let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/documents"), &renewed).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (422, Some("document")), "{b}");
    // Only officers and supervisors add documents.
    assert_eq!(
        s.post(
            &s.auditor,
            &format!("/subjects/{id}/documents"),
            &json!({"kind": "P", "issuing_state": "UTO", "number": "X1", "expires_on": "2036-01-01"})
        )
        .await
        .0,
        403
    );
    s.stop().await;
}

/// Issue 15: whether a person is designated never shows in the public log. Every
/// routine command on a designated person (crossings, reads, the stay, the
/// obligations, a look-up by document) appends leaves of the same kinds and sizes as
/// on someone who is not.
#[tokio::test]
async fn commands_on_a_designated_person_leave_the_same_public_leaves_as_on_anyone_else() {
    let s = start().await;
    let mut ids = Vec::new();
    for number in ["D0000001", "D0000002"] {
        let mut p = specimen();
        p["document"]["number"] = json!(number);
        let (st, b) = s.post(&s.officer, "/subjects", &p).await;
        assert_eq!(st, 201, "{b}");
        ids.push(b["id"].as_str().unwrap().to_string());
    }
    let d = json!({"reason": "document-anomaly", "facts": "The data page laminate lifts", "place": "JFK"});
    assert_eq!(s.post(&s.officer, &format!("/subjects/{}/designations", ids[0]), &d).await.0, 201);
    let (st, b) =
        s.post(&s.supervisor, &format!("/subjects/{}/designations/1/review", ids[0]), &json!({"approve": true})).await;
    assert!(st == 200 || st == 201, "{st} {b}");

    let mut traces = Vec::new();
    for (id, number) in ids.iter().zip(["D0000001", "D0000002"]) {
        let mut trace = Vec::new();
        let entry = json!({"direction": "entry", "port": "JFK", "at": "2026-01-05T15:00:00Z", "admission_class": "B-2", "admitted_until": "2026-04-30"});
        let steps: Vec<(&str, String, Option<Value>, Option<&str>)> = vec![
            ("POST", format!("/subjects/{id}/crossings"), Some(entry), None),
            ("POST", format!("/subjects/{id}/crossings"), Some(exit("2026-03-20T15:00:00Z")), None),
            ("GET", format!("/subjects/{id}"), None, Some("border-check")),
            ("GET", format!("/subjects/{id}/stay"), None, Some("border-check")),
            ("GET", format!("/subjects/{id}/obligations"), None, Some("border-check")),
            ("POST", "/subjects/lookup".to_string(), Some(json!({"document_number": number})), Some("border-check")),
        ];
        for (method, path, body, purpose) in steps {
            let before = s.tree_size().await;
            let st = match (method, body, purpose) {
                ("POST", Some(b), Some(p)) => s.post_for(&s.officer, p, &path, &b).await.0,
                ("POST", Some(b), None) => s.post(&s.officer, &path, &b).await.0,
                _ => s.read(&s.officer, purpose, &path).await.0,
            };
            assert!(st == 200 || st == 201, "{method} {path}: {st}");
            let after = s.tree_size().await;
            trace.push((path.replace(id.as_str(), "{id}"), public_leaves(&s, before, after - before).await));
        }
        traces.push(trace);
    }
    assert_eq!(traces[0], traces[1], "designated, then not: (kind, length) of each public leaf, command by command");
    assert!(traces[0].iter().all(|(_, leaves)| !leaves.is_empty()), "every command is logged: {:?}", traces[0]);
    s.stop().await;
}

#[tokio::test]
async fn a_crossing_by_someone_already_overstaying_is_accepted_and_flagged() {
    let s = start().await;
    let id = s.specimen().await;
    let path = format!("/subjects/{id}/crossings");
    let entry = json!({"direction": "entry", "port": "JFK", "at": "2026-01-05T15:00:00Z", "admission_class": "B-2", "admitted_until": "2026-04-30"});
    let (st, b) = s.post(&s.officer, &path, &entry).await;
    assert_eq!((st, b["overstaying"].is_null()), (201, true));
    let before = s.tree_size().await;
    let (st, b) = s.post(&s.officer, &path, &exit("2026-05-20T15:00:00Z")).await;
    assert_eq!(st, 201, "accepted: the facts are the facts");
    assert_eq!(b["overstaying"], json!({"first_day": "2026-05-01", "last_day": "2026-05-20", "days": 20}));
    assert_eq!(s.tree_size().await, before + 2, "the crossing, and the access that showed the flag");
    let (_, t) = s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await;
    assert_eq!(t["crossings"][1]["overstay_at_crossing"]["days"], 20, "the flag is part of the record");
    assert!(t["crossings"][0]["overstay_at_crossing"].is_null());

    // Someone leaving in time is not flagged; the check is logged just the same, so
    // the public log shows the same leaves, of the same kinds and sizes (issue 15).
    let flagged = public_leaves(&s, before, 2).await;
    let mut p = specimen();
    p["document"]["number"] = json!("F0000002");
    let other = s.post(&s.officer, "/subjects", &p).await.1["id"].as_str().unwrap().to_string();
    s.post(&s.officer, &format!("/subjects/{other}/crossings"), &entry).await;
    let before = s.tree_size().await;
    let (_, b) = s.post(&s.officer, &format!("/subjects/{other}/crossings"), &exit("2026-04-20T15:00:00Z")).await;
    assert!(b["overstaying"].is_null());
    assert_eq!(s.tree_size().await, before + 2);
    let unflagged = public_leaves(&s, before, 2).await;
    assert_eq!(flagged, unflagged, "(kind, length) of each public leaf");
    assert_eq!(flagged[0].0, 3, "a crossing, then its access");
    s.stop().await;
}

/// Issue 20: a write sent twice with one Idempotency-Key (the client timed out, or
/// got 503 during a failover) is recorded once; the retry answers 409
/// `already-recorded` with where the first landed. The key is bound to the
/// credential and the route; a malformed key is refused naming the header.
#[tokio::test]
async fn a_write_retried_with_its_idempotency_key_is_recorded_once() {
    let s = start().await;
    let id = s.specimen().await;
    let path = format!("/subjects/{id}/crossings");
    let send = |token: &str, key: &str, body: Value| {
        let req = s.client.post(s.url(&path)).bearer_auth(token).header("Idempotency-Key", key).json(&body).send();
        async move {
            let r = req.await.unwrap();
            (r.status().as_u16(), r.headers().get("retry-after").is_some(), r.json::<Value>().await.unwrap())
        }
    };
    let before = s.tree_size().await;
    let (st, _, first) = send(&s.officer, "7f1c3a55-crossing-1", entry("2026-06-03T13:00:00Z")).await;
    assert_eq!(st, 201, "{first}");
    let after_first = s.tree_size().await;
    assert!(after_first > before);

    let (st, _, again) = send(&s.officer, "7f1c3a55-crossing-1", entry("2026-06-03T13:00:00Z")).await;
    assert_problem(st, &again, 409, None);
    assert_eq!(again["type"], "/problems/already-recorded", "{again}");
    assert_eq!(again["receipt"]["leaf_index"], first["receipt"]["leaf_index"], "{again} {first}");
    assert_eq!(s.tree_size().await, after_first, "nothing recorded twice");
    let (_, t) = s.read(&s.auditor, Some("oversight-audit"), &format!("/subjects/{id}")).await;
    assert_eq!(t["crossings"].as_array().unwrap().len(), 1, "{t}");

    // Another key is another request.
    let (st, _, b) = send(&s.officer, "7f1c3a55-crossing-2", exit("2026-06-20T10:00:00Z")).await;
    assert_eq!(st, 201, "{b}");
    // The same key on another route (another person's crossings) is another request too.
    let mut other = specimen();
    other["document"]["number"] = json!("X12345678");
    let (st, b) = s.post(&s.officer, "/subjects", &other).await;
    assert_eq!(st, 201, "{b}");
    let r = s
        .client
        .post(s.url(&format!("/subjects/{}/crossings", b["id"].as_str().unwrap())))
        .bearer_auth(&s.officer)
        .header("Idempotency-Key", "7f1c3a55-crossing-1")
        .json(&entry("2026-06-03T13:00:00Z"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "a key is bound to its route: {}", r.text().await.unwrap());

    for bad in ["", "has a space", &"k".repeat(256)] {
        let (st, _, b) = send(&s.officer, bad, entry("2026-08-01T10:00:00Z")).await;
        assert_problem(st, &b, 400, Some("Idempotency-Key"));
    }
}
