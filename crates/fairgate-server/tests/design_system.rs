//! The U.S. Web Design System, embedded: every page links its stylesheet and
//! scripts at a versioned path on this origin, every font and image the stylesheet
//! names is served from the binary (nothing fetched elsewhere), the files may be
//! cached for a year, and the pages keep their skip link and landmarks.

mod common;

use common::*;

fn version() -> String {
    fairgate_server::assets::uswds_version().to_string()
}

#[tokio::test]
async fn every_file_the_stylesheet_names_is_served_from_the_binary() {
    let s = start().await;
    let base = format!("/assets/uswds-{}/", version());
    let r = s.client.get(s.url(&format!("{base}css/uswds.min.css"))).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
    let css = r.text().await.unwrap();
    let mut named = 0;
    for part in css.split("url(").skip(1) {
        let target = part.split(')').next().unwrap().trim_matches('"');
        let Some(rel) = target.strip_prefix("../") else { continue };
        named += 1;
        let r = s.client.get(s.url(&format!("{base}{rel}"))).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{rel}");
        let kind = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(["font/woff2", "image/svg+xml", "image/png", "image/jpeg"].contains(&kind.as_str()), "{rel}: {kind}");
    }
    assert!(named >= 40, "the stylesheet names its fonts and images: {named}");
    for (file, kind) in [("js/uswds.min.js", "text/javascript; charset=utf-8"), ("img/sprite.svg", "image/svg+xml")] {
        let r = s.client.get(s.url(&format!("{base}{file}"))).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, kind), "{file}");
    }
    // The licence travels with the files.
    let r = s.client.get(s.url(&format!("{base}LICENSE.md"))).send().await.unwrap();
    assert!(r.text().await.unwrap().contains("SIL Open Font License"));
    // Another version, or a file that is not there: 404.
    for wrong in
        ["/assets/uswds-0.0.1/css/uswds.min.css", &format!("{base}css/missing.css"), &format!("{base}../Cargo.toml")]
    {
        let r = s.client.get(s.url(wrong)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404, "{wrong}");
    }
    s.stop().await;
}

#[tokio::test]
async fn pages_use_the_design_system_with_a_skip_link_and_landmarks() {
    let s = start().await;
    for path in [
        "/",
        "/login",
        "/transparency",
        "/public/calculator",
        "/public/programs",
        "/public/policy",
        "/public/log",
        "/public/expungements",
        "/portal",
    ] {
        let r = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("script-src 'self'") && csp.contains("font-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let html = r.text().await.unwrap();
        let base = format!("/assets/uswds-{}/", version());
        assert!(html.contains(&format!("href=\"{base}css/uswds.min.css\"")), "{path}");
        assert!(html.contains(&format!("src=\"{base}js/uswds.min.js\"")), "{path}");
        assert!(html.contains("class=\"usa-skipnav\" href=\"#main-content\""), "{path}");
        let main = html.split("<main ").nth(1).and_then(|m| m.split('>').next()).unwrap_or("");
        assert!(main.contains("id=\"main-content\""), "{path}: the skip link's target is the main landmark");
        assert!(html.contains("<header class=\"usa-header"), "{path}");
        assert!(html.contains("<footer class=\"usa-footer"), "{path}");
        // No inline script: every <script> has a src on this origin (the design
        // system's, and the desks' enhancements).
        for tag in html.split("<script").skip(1) {
            let t = tag.trim_start();
            assert!(t.starts_with("src=\"/assets/") || t.starts_with("src=\"/static/desk.js\""), "{path}: {tag}");
        }
    }
    s.stop().await;
}
