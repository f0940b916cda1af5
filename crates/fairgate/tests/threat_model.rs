//! THREAT_MODEL.md names the test that proves each mitigation: every name it gives
//! must be a test function in the file it points to, so the map cannot rot.

use std::path::Path;

#[test]
fn every_test_the_threat_model_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("THREAT_MODEL.md")).unwrap();
    let mut checked = 0;
    let mut missing = Vec::new();
    let mut last_file: Option<String> = None;
    for cell in doc.split('`').skip(1).step_by(2) {
        // `crate/path.rs::name`, `crate/path.rs::tests::name`, or `::name` (same file as before).
        let (file, name) = match cell.split_once("::") {
            Some((f, rest)) if f.ends_with(".rs") => (f.to_string(), rest.rsplit("::").next().unwrap_or(rest)),
            Some(("", rest)) => match &last_file {
                Some(f) => (f.clone(), rest),
                None => continue,
            },
            _ => {
                if cell.ends_with(".rs") && cell.contains('/') {
                    last_file = Some(cell.to_string());
                }
                continue;
            }
        };
        last_file = Some(file.clone());
        let path = root.join("crates").join(&file);
        let Ok(source) = std::fs::read_to_string(&path) else {
            missing.push(format!("{file} (no such file)"));
            continue;
        };
        if !source.contains(&format!("fn {name}(")) {
            missing.push(format!("{file}::{name}"));
        }
        checked += 1;
    }
    assert!(missing.is_empty(), "THREAT_MODEL.md names tests that do not exist: {missing:#?}");
    assert!(checked >= 30, "only {checked} tests named: is the map still there?");
}
