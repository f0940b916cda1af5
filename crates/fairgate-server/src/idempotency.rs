//! The `Idempotency-Key` request header: a client that may send a write twice (it
//! timed out, or got 503 while the database failed over) sends the same key each
//! time, and the write is recorded once; a retry of one that was is answered 409
//! `already-recorded` with where it landed. The key is bound to the credential,
//! method and route it came with, and handed to the registry through
//! [`crate::auth::blocking`].

use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::problem::Problem;

tokio::task_local! {
    static KEY: Option<[u8; 32]>;
}

/// The current request's derived key, if it sent one.
pub fn current() -> Option<[u8; 32]> {
    KEY.try_with(|k| *k).ok().flatten()
}

/// Read `Idempotency-Key` on writes (refusing a malformed one, naming the header)
/// and run the request with its derived key.
pub async fn capture(req: Request, next: Next) -> Response {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let key = match req.headers().get("idempotency-key") {
        Some(v) if writes => {
            let Some(text) = v.to_str().ok().filter(|t| fairgate_store::registry::idempotency::valid_client_key(t))
            else {
                return Problem::bad_request(
                    "Idempotency-Key",
                    "must be 1 to 255 visible ASCII characters (a UUID, say), the same on every try of one request",
                )
                .into_response();
            };
            // Bound to who sent it (the credential, hashed), and where.
            let mut scope = Sha256::new();
            for h in [header::AUTHORIZATION, header::COOKIE] {
                scope.update(req.headers().get(h).map(|v| v.as_bytes()).unwrap_or_default());
                scope.update([0]);
            }
            scope.update(req.method().as_str());
            scope.update([0]);
            scope.update(req.uri().path());
            Some(fairgate_store::registry::idempotency::derive(&scope.finalize(), text))
        }
        _ => None,
    };
    KEY.scope(key, next.run(req)).await
}
