//! Request logging. A log line names the method, the route *template* (such as
//! `/subjects/{id}`), the status and the duration. Never a body, a query string or a
//! header value: personal data stays out of logs by construction.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

pub async fn log_requests(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "(unmatched)".into());
    let started = Instant::now();
    let resp = next.run(req).await;
    tracing::info!(
        method = %method,
        route = %route,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    resp
}
