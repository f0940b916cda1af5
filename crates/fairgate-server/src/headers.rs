//! Security headers on every response: a Content-Security-Policy that allows
//! nothing but this origin's styles, fonts, images and scripts (no inline script,
//! no framing, forms to this origin only), `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, and
//! `Cache-Control: no-store` on everything that is not a public route (so nothing
//! personal stays in a browser's or proxy's cache).

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Pages and files that hold nothing personal and may be cached.
const PUBLIC_PAGES: &[&str] = &[
    "/static/fairgate.css",
    "/static/desk.js",
    "/openapi.json",
    "/transparency",
    "/public/programs",
    "/public/policy",
];

pub async fn security_headers(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    // This layer runs outside the router, so it matches the templates itself.
    let path = req.uri().path().to_string();
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if path.starts_with("/assets/") {
        // Versioned design-system files: their own long-lived Cache-Control stands.
        return resp;
    }
    let public = method == Method::GET
        && (PUBLIC_PAGES.contains(&path.as_str())
            || crate::routes::ROUTE_POLICY.iter().any(|(m, template, g)| {
                *m == "GET" && matches!(g, crate::routes::Guard::Public) && matches_template(template, &path)
            }));
    if !public {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Does `path` match a route template such as `/programs/{id}`?
fn matches_template(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b || (a.starts_with('{') && !b.is_empty()) => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_match_whole_segments() {
        use super::matches_template as m;
        assert!(m("/programs/{id}", "/programs/visitors"));
        assert!(!m("/programs/{id}", "/programs/visitors/activate"));
        assert!(!m("/programs/{id}", "/programs/"));
        assert!(m("/log/checkpoint", "/log/checkpoint"));
        assert!(!m("/subjects/{id}", "/log/checkpoint"));
    }
}
