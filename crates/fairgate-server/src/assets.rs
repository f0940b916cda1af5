//! The design system's files (U.S. Web Design System, vendored by
//! scripts/vendor-uswds.sh and embedded at build time by build.rs), served under
//! `/assets/uswds-VERSION/…`. The version is in the path, so browsers may keep them
//! for a year: a new version is a new path.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The vendored USWDS version (assets/uswds/VERSION).
pub fn uswds_version() -> &'static str {
    ASSETS
        .iter()
        .find(|(p, _)| *p == "uswds/VERSION")
        .and_then(|(_, b)| std::str::from_utf8(b).ok())
        .map_or("unknown", str::trim)
}

/// Where the pages find an asset: `/assets/uswds-3.14.0/css/uswds.min.css`.
pub fn uswds(path: &str) -> String {
    format!("/assets/uswds-{}/{path}", uswds_version())
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "woff2" => "font/woff2",
        "md" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `GET /assets/uswds-{version}/{*path}`: an embedded file, or 404.
pub async fn serve(Path((version, path)): Path<(String, String)>) -> Response {
    let found = (version == format!("uswds-{}", uswds_version()))
        .then(|| ASSETS.iter().find(|(p, _)| p.strip_prefix("uswds/") == Some(path.as_str())))
        .flatten();
    match found {
        Some((p, bytes)) => (
            [(header::CONTENT_TYPE, content_type(p)), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
