//! The public transparency report through HTTP: small cells are suppressed, the
//! log-event table can be recomputed from the public leaves, and the same figures
//! come as JSON, CSV and an HTML page with SVG charts.

mod common;

use base64::Engine;
use common::*;
use serde_json::{json, Value};

fn cell<'a>(table: &'a Value, dims: &[&str]) -> Option<&'a Value> {
    table["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["dims"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).eq(dims.iter().copied()))
}

#[tokio::test]
async fn the_report_publishes_aggregates_and_suppresses_small_cells() {
    let s = start().await;
    let mut ids = Vec::new();
    for i in 0..15 {
        let mut p = specimen();
        p["document"]["number"] = json!(format!("R{i:07}"));
        let (st, b) = s.post(&s.officer, "/subjects", &p).await;
        assert_eq!(st, 201);
        let id = b["id"].as_str().unwrap().to_string();
        let mut r = registration();
        if i >= 12 {
            r["kind"] = json!("office");
            r["place"] = json!("NYC-FO");
        }
        assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/registrations"), &r).await.0, 201);
        ids.push(id);
    }
    for id in &ids[..11] {
        assert_eq!(s.read(&s.officer, Some("border-check"), &format!("/subjects/{id}")).await.0, 200);
    }
    for id in &ids[..2] {
        assert_eq!(s.read(&s.auditor, Some("oversight-audit"), &format!("/subjects/{id}")).await.0, 200);
    }

    let r: Value = s.client.get(s.url("/transparency.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["min_cell"], 10);
    let month = jiff::Timestamp::now().strftime("%Y-%m").to_string();
    let officer_reads = cell(&r["data_use"], &["Test Agency", "officer", "border-check"]).unwrap();
    assert_eq!((officer_reads["count"].as_u64(), officer_reads["month"].as_str()), (Some(11), Some(month.as_str())));
    let auditor_reads = cell(&r["data_use"], &["Test Agency", "auditor", "oversight-audit"]).unwrap();
    assert!(auditor_reads["count"].is_null(), "2 reads must be suppressed: {auditor_reads}");
    assert_eq!(cell(&r["registrations"], &["JFK", "port-of-entry"]).unwrap()["count"], 12);
    assert!(cell(&r["registrations"], &["NYC-FO", "office"]).unwrap()["count"].is_null());
    assert_eq!(r["data_use"]["recomputable_from_log"], false);
    assert_eq!(r["log_events"]["recomputable_from_log"], true);
    let missing: Vec<&str> = r["not_yet_reported"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(missing.is_empty(), "every figure of the report is produced: {missing:?}");
    assert_eq!(r["program_activity"]["dimensions"], json!(["activity", "program", "place"]));

    // Anyone can recompute the log-event table from the public leaf headers.
    let b64 = base64::engine::general_purpose::STANDARD;
    let leaves: Vec<String> =
        s.client.get(s.url("/log/leaves?start=0&count=1000")).send().await.unwrap().json().await.unwrap();
    let mut counts: std::collections::BTreeMap<(u16, String), u64> = Default::default();
    for l in &leaves {
        let h = fairgate_ledger::leaf::Header::decode(&b64.decode(l).unwrap()).unwrap();
        let month = fairgate_core::report::month_of(jiff::Timestamp::from_millisecond(h.timestamp_ms).unwrap());
        *counts.entry((h.kind, month)).or_default() += 1;
    }
    let kinds = [(1u16, "subject-created"), (2, "registration-recorded"), (4, "personal-data-accessed")];
    for (code, name) in kinds {
        let recomputed = counts[&(code, month.clone())];
        let published = cell(&r["log_events"], &[name]).unwrap();
        assert_eq!(published["count"].as_u64(), Some(recomputed), "{name}");
    }

    // CSV: the same cells, with suppression explicit.
    let csv = s.client.get(s.url("/transparency/data-use.csv")).send().await.unwrap().text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("agency,role,purpose,month,count,suppressed"));
    assert!(csv.contains(&format!("Test Agency,auditor,oversight-audit,{month},,true")), "{csv}");
    assert!(csv.contains(&format!("Test Agency,officer,border-check,{month},11,false")), "{csv}");
    let r404 = s.client.get(s.url("/transparency/people.csv")).send().await.unwrap();
    assert_eq!(r404.status(), 404);
    let p: Value = r404.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "file");

    // The page: charts as SVG, the figures as tables, no script of its own (the
    // design system's enhance only, from this origin: nothing inline).
    let page = s.client.get(s.url("/transparency")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<svg") && page.contains("Transparency report"), "{}", &page[..page.len().min(500)]);
    assert!(page.contains("&lt;10"), "suppressed cells are shown as <10");
    for tag in page.split("<script").skip(1) {
        let t = tag.trim_start();
        assert!(
            t.starts_with("src=\"/assets/uswds-") || t.starts_with("src=\"/static/desk.js\""),
            "only the design system's files and the desks' enhancements, from this origin: {tag}"
        );
    }
    s.stop().await;
}

/// Overstays are published by port of entry, rule and the month they began, with
/// small cells suppressed. The table is computed once a day: a reader cannot make the
/// server sweep again, and reading it logs no access because no one is identified.
#[tokio::test]
async fn overstays_are_published_by_port_and_month_once_a_day() {
    let s = start().await;
    let overstayer = |i: usize, port: &'static str| {
        let s = &s;
        async move {
            let mut p = specimen();
            p["document"]["number"] = json!(format!("V{i:07}"));
            let (st, b) = s.post(&s.officer, "/subjects", &p).await;
            assert_eq!(st, 201, "{b}");
            let id = b["id"].as_str().unwrap().to_string();
            // Admitted until 2026-09-01 and never left: the overstay began on 2026-09-02.
            let mut e = entry("2026-06-03T13:00:00Z");
            e["port"] = json!(port);
            let (st, b) = s.post(&s.officer, &format!("/subjects/{id}/crossings"), &e).await;
            assert_eq!(st, 201, "{b}");
        }
    };
    for i in 0..12 {
        overstayer(i, "JFK").await;
    }
    for i in 12..15 {
        overstayer(i, "MIA").await;
    }

    let size = s.tree_size().await;
    let r: Value = s.client.get(s.url("/transparency.json")).send().await.unwrap().json().await.unwrap();
    let t = &r["overstays"];
    assert_eq!(t["dimensions"], json!(["port", "rule"]));
    assert_eq!(t["recomputable_from_log"], false);
    assert_eq!(t["as_of"], jiff::Timestamp::now().strftime("%Y-%m-%d").to_string());
    let jfk = cell(t, &["JFK", "admitted-until"]).unwrap();
    assert_eq!((jfk["count"].as_u64(), jfk["month"].as_str()), (Some(12), Some("2026-09")));
    assert!(cell(t, &["MIA", "admitted-until"]).unwrap()["count"].is_null(), "3 overstayers must be suppressed");
    assert_eq!(s.tree_size().await, size, "an aggregate identifies no one, so no access is logged");

    // A thirteenth overstayer shows tomorrow, not on the next request.
    overstayer(15, "JFK").await;
    let csv = s.client.get(s.url("/transparency/overstays.csv")).send().await.unwrap().text().await.unwrap();
    assert_eq!(csv.lines().next(), Some("port,rule,month,count,suppressed"));
    assert!(csv.contains("JFK,admitted-until,2026-09,12,false"), "{csv}");
    assert!(csv.contains("MIA,admitted-until,2026-09,,true"), "{csv}");
    let page = s.client.get(s.url("/transparency")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<h2>Overstays</h2>"), "the page has the overstay section");
    s.stop().await;
}
