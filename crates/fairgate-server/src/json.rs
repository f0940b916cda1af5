//! The JSON body and path extractors: malformed JSON, a wrong type, a missing field, a wrong
//! content type, an oversized body or a path parameter that does not parse each
//! become a problem+json naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use crate::problem::Problem;
use crate::BODY_LIMIT;

/// A JSON body of at most `LIMIT` bytes (1 MiB unless a route needs more: a
/// registration's captures can carry images, see `CAPTURE_BODY_LIMIT`).
pub struct ApiJson<T, const LIMIT: usize = BODY_LIMIT>(pub T);

/// Turn serde's message for a missing field into the dotted path of that field.
fn field_path(path: &str, message: &str) -> String {
    let missing = message.strip_prefix("missing field `").and_then(|m| m.split('`').next());
    match (path, missing) {
        (".", Some(f)) | ("", Some(f)) => f.to_string(),
        (p, Some(f)) => format!("{p}.{f}"),
        (".", None) => "body".to_string(),
        (p, None) => p.to_string(),
    }
}

impl<S: Send + Sync, T: DeserializeOwned, const LIMIT: usize> FromRequest<S> for ApiJson<T, LIMIT> {
    type Rejection = Problem;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Problem> {
        let is_json =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
                v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "JSON expected",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let too_large = || {
            let hint = if LIMIT > BODY_LIMIT {
                "send images compressed (JPEG, PNG or WSQ), or fewer at a time"
            } else {
                "shorten free-text fields or split the request"
            };
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "Request body too large",
                format!("the body is larger than {LIMIT} bytes: {hint}"),
            )
        };
        let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > LIMIT as u64) {
            return Err(too_large());
        }
        // Read with this extractor's own limit (the router's default limit is for
        // the other extractors).
        let bytes: Bytes = axum::body::to_bytes(req.into_body(), LIMIT).await.map_err(|e| {
            if std::error::Error::source(&e).is_some_and(|s| s.to_string().contains("length limit")) {
                too_large()
            } else {
                Problem::bad_request("body", "the request body could not be read")
            }
        })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        // Fields the schema does not have are refused, not dropped: a registration
        // sent with `photo` must not answer 201 and lose the photo.
        let mut unknown: Option<String> = None;
        let mut track = serde_path_to_error::Track::new();
        let result: Result<T, _> =
            serde_ignored::deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track), |path| {
                // serde_ignored writes `?` for an `Option`'s inside: not part of the JSON path.
                let path = path.to_string().split('.').filter(|p| *p != "?").collect::<Vec<_>>().join(".");
                unknown.get_or_insert(path);
            });
        let value: T = result.map_err(|inner| {
            let path = track.path().to_string();
            let message = inner.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_string();
            if inner.is_syntax() || inner.is_eof() {
                Problem::bad_request(
                    "body",
                    format!("the body is not valid JSON ({message}): check quotes, commas and brackets"),
                )
            } else {
                let field = field_path(&path, &message);
                Problem::bad_request(&field, format!("{message}: see the request schema in /openapi.json"))
            }
        })?;
        de.end().map_err(|_| {
            Problem::bad_request("body", "the body has text after the JSON value: send exactly one JSON object")
        })?;
        if let Some(field) = unknown {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-field",
                "Unknown field",
                format!("{field}: this request has no such field, and nothing is recorded: remove it (see the request schema in /openapi.json)"),
            )
            .with_errors(vec![fairgate_core::FieldError::new(&field, "is not a field of this request: remove it")]));
        }
        Ok(ApiJson(value))
    }
}

/// Path parameters, as axum's `Path`, except that one that does not parse (a
/// number that is not one, bytes that are not UTF-8) is answered like every other
/// error, as problem+json naming the path (axum's own answer is plain text).
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> axum::extract::FromRequestParts<S> for Path<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Problem> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            Err(e) => Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-path",
                "The path is not valid",
                format!("{}: use the ids and numbers as the API's answers give them", e.body_text()),
            )
            .with_errors(vec![fairgate_core::FieldError::new("path", e.body_text())])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::field_path;

    #[test]
    fn missing_fields_get_full_paths() {
        assert_eq!(field_path(".", "missing field `surname`"), "surname");
        assert_eq!(field_path("document", "missing field `number`"), "document.number");
        assert_eq!(
            field_path("document.expires_on", "invalid type: integer `3`, expected a string"),
            "document.expires_on"
        );
        assert_eq!(field_path(".", "invalid type: sequence, expected struct"), "body");
    }
}
