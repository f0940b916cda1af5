//! The access policy over HTTP, generated from the OpenAPI document: every
//! documented route has a row in `routes::ROUTE_POLICY` (a route added without one
//! fails here), and every route × every staff role is allowed or refused exactly
//! as `fairgate_core::policy` says. The policy itself is public at `/access-policy`
//! and in `docs/access-policy.md`, which must be what the code generates.

mod common;

use fairgate_core::access::{Purpose, Role};
use fairgate_core::policy::{self, read_purposes};
use fairgate_server::routes::{guard_of, Guard};
use serde_json::{json, Value};

fn documented() -> Vec<(String, String)> {
    let doc = serde_json::to_value(fairgate_server::routes::openapi()).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.push((method.to_uppercase(), path.clone()));
        }
    }
    out
}

#[test]
fn every_documented_route_has_a_policy_row() {
    let routes = documented();
    assert!(routes.len() > 50, "{}", routes.len());
    for (method, path) in &routes {
        let m = axum::http::Method::from_bytes(method.as_bytes()).unwrap();
        assert!(guard_of(&m, path).is_some(), "{method} {path} has no row in ROUTE_POLICY: add one");
    }
    for (m, p, _) in fairgate_server::routes::ROUTE_POLICY {
        assert!(routes.iter().any(|(dm, dp)| dm == m && dp == p), "{m} {p} is in the policy but not routed");
    }
}

#[test]
fn the_published_policy_document_is_the_generated_one() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/access-policy.md");
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == policy::markdown(),
        "docs/access-policy.md is out of date: regenerate it with `cargo run -- policy --markdown > docs/access-policy.md`"
    );
}

fn policy_refusal(status: u16, body: &Value) -> bool {
    status == 403
        && matches!(body["type"].as_str(), Some(t) if t.ends_with("role-not-permitted") || t.ends_with("purpose-not-permitted"))
}

#[tokio::test]
async fn every_route_and_role_is_allowed_or_refused_as_the_policy_says() {
    let s = common::start().await;
    let tokens = [
        (Role::Officer, s.officer.clone()),
        (Role::Supervisor, s.supervisor.clone()),
        (Role::Adjudicator, s.adjudicator.clone()),
        (Role::Auditor, s.auditor.clone()),
        (Role::Approver, s.approver.clone()),
        (Role::Admin, s.admin.clone()),
    ];
    let id = s.specimen().await;
    let mut checked = 0;
    for (method, template) in documented() {
        let m = axum::http::Method::from_bytes(method.as_bytes()).unwrap();
        let guard = guard_of(&m, &template).unwrap();
        let path = template
            .replace("{id}", &id)
            .replace("{number}", "1")
            .replace("{file}", "report.csv")
            .replace("{code}", "NYC-FO")
            .replace("{subject}", &id);
        for (role, token) in &tokens {
            // For a read: a purpose the role may use for it, if there is one (law
            // enforcement also needs a grant, so it is not the one tried).
            let purpose = match guard {
                Guard::Read(read) => {
                    let usable = read_purposes(read)
                        .iter()
                        .find(|p| **p != Purpose::LawEnforcement && policy::purposes_for(*role).contains(p));
                    Some(usable.copied().unwrap_or(read_purposes(read)[0]))
                }
                _ => None,
            };
            let mut req = match method.as_str() {
                "GET" => s.client.get(s.url(&path)),
                _ => s.client.request(m.clone(), s.url(&path)).json(&json!({})),
            }
            .bearer_auth(token);
            if let Some(p) = purpose {
                req = req.header("Fairgate-Purpose", p.as_str());
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            let (allowed, what) = match guard {
                Guard::Public | Guard::Staff => (true, "open"),
                Guard::Portal => {
                    assert_eq!(status, 401, "{method} {path} as {role}: a staff token is no portal session: {body}");
                    continue;
                }
                Guard::Command(a) => (policy::allows(*role, a), a.as_str()),
                Guard::Read(read) => (policy::allows_read(*role, read, purpose.unwrap()), read.as_str()),
            };
            assert_eq!(
                policy_refusal(status, &body),
                !allowed,
                "{method} {path} as {role} ({what}): policy says {}, got {status} {body}",
                if allowed { "allowed" } else { "refused" }
            );
            checked += 1;
        }
    }
    assert!(checked > 250, "{checked}");
    // And the policy is public.
    let (status, body) = s.read(&s.officer, None, "/access-policy").await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::to_value(policy::published()).unwrap());
    s.stop().await;
}
