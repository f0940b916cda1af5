//! RFC 9457 problem details: every error the API answers is `application/problem+json`
//! naming what was wrong and, where a field is at fault, which field.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use fairgate_core::FieldError;
use fairgate_store::{RegistryError, StoreError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The fields at fault and what to do about each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<FieldError>,
    /// Extension members (RFC 9457 §3.2), e.g. the subject a 409 names.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extensions: Box<serde_json::Map<String, serde_json::Value>>,
    #[serde(skip)]
    pub www_authenticate: bool,
    /// Seconds to wait before trying again (a `Retry-After` header).
    #[serde(skip)]
    pub retry_after: Option<u32>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("/problems/{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            extensions: Box::default(),
            www_authenticate: false,
            retry_after: None,
        }
    }

    /// Add an extension member.
    pub fn with(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extensions.insert(key.to_string(), value);
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", "The request has invalid fields", detail)
            .with_errors(errors)
    }

    pub fn bad_request(field: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Self::new(StatusCode::BAD_REQUEST, "malformed-request", "The request could not be read", detail.clone())
            .with_errors(vec![FieldError::new(field, detail)])
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        let mut p = Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Sign-in required", detail);
        p.www_authenticate = true;
        p
    }

    pub fn forbidden(slug: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, slug, "Not permitted", detail)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "The server could not complete the request and wrote nothing. Try again; if it persists, tell the operator.",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if self.www_authenticate {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<RegistryError> for Problem {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Invalid(i) => Problem::invalid(i.0),
            RegistryError::UnknownSubject(id) => Problem::new(
                StatusCode::NOT_FOUND,
                "unknown-subject",
                "No such subject",
                format!("no subject has the id {id}: use an id returned by POST /subjects or POST /subjects/lookup"),
            )
            .with_errors(vec![FieldError::new("id", "is not the id of any subject")]),
            RegistryError::Erased(id) => Problem::new(
                StatusCode::GONE,
                "erased",
                "Records erased",
                format!("the records of subject {id} were erased and can no longer be read by anyone"),
            ),
            RegistryError::Store(StoreError::Conflict { .. }) => Problem::new(
                StatusCode::CONFLICT,
                "busy",
                "Concurrent write",
                "another writer appended to the ledger at the same moment; nothing was written, send the request again",
            ),
            RegistryError::DocumentOnRecord { subject, receipt } => {
                let p = Problem::new(
                    StatusCode::CONFLICT,
                    "document-on-record",
                    "This document is on record already",
                    format!(
                        "subject {subject} holds this document: one person, one record. Use that subject (add a renewed document with POST /subjects/{{id}}/documents); this answer was logged as a read"
                    ),
                )
                .with_errors(vec![FieldError::new("document", "is on record already, for the subject named in `subject`")])
                .with("subject", serde_json::Value::String(subject.to_string()));
                match receipt {
                    Some(r) => p.with(
                        "access_receipt",
                        serde_json::json!({"leaf_index": r.leaf_index, "tree_size": r.tree_size}),
                    ),
                    None => p,
                }
            }
            RegistryError::Unavailable(why) => {
                let mut p = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "try-again", "Not yet available", why);
                p.retry_after = Some(1);
                p
            }
            RegistryError::Store(StoreError::Unavailable(why)) => {
                tracing::warn!(error = %why, "the database is unavailable");
                let mut p = Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database-unavailable",
                    "The database is unavailable",
                    format!(
                        "{why}. Nothing was recorded unless an earlier try with the same Idempotency-Key was, and nothing that must be logged was read: send the request again (with the same Idempotency-Key) shortly"
                    ),
                );
                p.retry_after = Some(2);
                p
            }
            RegistryError::AlreadyRecorded(r) => Problem::new(
                StatusCode::CONFLICT,
                "already-recorded",
                "Recorded already",
                format!(
                    "a request with this Idempotency-Key was recorded already, at leaf {}; nothing was recorded again",
                    r.leaf_index
                ),
            )
            .with("receipt", serde_json::json!({"leaf_index": r.leaf_index, "tree_size": r.tree_size})),
            RegistryError::Program(errors) => {
                let detail = format!("the program does not compile ({} error(s))", errors.0.len());
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "program-does-not-compile",
                    "The program does not compile",
                    detail,
                )
                .with_errors(
                    errors
                        .0
                        .into_iter()
                        .map(|d| FieldError::new(format!("source:{}:{}", d.line, d.column), d.message))
                        .collect(),
                )
            }
            RegistryError::Refused(r) => Problem::new(
                StatusCode::CONFLICT,
                "program-transition-refused",
                "Refused by the program rules",
                r.to_string(),
            ),
            // A rule about the facts on record (no approval yet, no grant in effect), not the policy.
            RegistryError::NotPermitted(why) => Problem::forbidden("not-permitted", why),
            RegistryError::Forbidden(r) => Problem::from(r),
            RegistryError::Determination(r) => {
                use fairgate_core::obligation::DeterminationRefusal as D;
                let detail = r.to_string();
                match r {
                    D::NoSuchObligation(_) => {
                        Problem::new(StatusCode::NOT_FOUND, "unknown-obligation", "No such obligation", detail)
                            .with_errors(vec![FieldError::new("obligation", "is not one of this person's obligations")])
                    }
                    D::NoReasons => Problem::invalid(vec![FieldError::new("reasons", "are required: write them out")]),
                    D::NoEvidence => {
                        Problem::invalid(vec![FieldError::new("evidence", "must list what was considered")])
                    }
                    D::NoNotice(_) | D::Void(_) => {
                        Problem::new(StatusCode::CONFLICT, "determination-refused", "Determination refused", detail)
                    }
                }
            }
            RegistryError::Review(r) => {
                use fairgate_core::designation::ReviewRefusal as R;
                let detail = r.to_string();
                match r {
                    R::Policy(p) => Problem::from(p),
                    R::NoSuchDesignation(_) => {
                        Problem::new(StatusCode::NOT_FOUND, "unknown-designation", "No such designation", detail)
                    }
                    R::AlreadyReviewed(_) | R::Lapsed { .. } => {
                        Problem::new(StatusCode::CONFLICT, "designation-closed", "The designation is closed", detail)
                    }
                }
            }
            other => {
                tracing::error!(error = %other, "request failed");
                Problem::internal()
            }
        }
    }
}

/// A refusal of the access policy (`fairgate_core::policy`), as a 403 that says who may.
impl From<fairgate_core::policy::Refusal> for Problem {
    fn from(r: fairgate_core::policy::Refusal) -> Self {
        use fairgate_core::policy::Refusal as R;
        let detail = r.to_string();
        match &r {
            R::Action { .. } => Problem::forbidden("role-not-permitted", detail),
            R::Purpose { .. } => Problem::forbidden("purpose-not-permitted", detail.clone())
                .with_errors(vec![FieldError::new("Fairgate-Purpose", detail)]),
            R::NotOwnRecords => Problem::forbidden("not-own-records", detail),
            R::Separation(_) => Problem::forbidden("separation-of-duties", detail),
        }
    }
}

/// The answer to any path that does not exist.
pub async fn not_found(uri: axum::http::Uri) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "No such resource",
        format!("nothing is served at {}: see /openapi.json for the routes", uri.path()),
    )
}
