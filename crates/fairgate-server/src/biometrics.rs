//! Biometric records over HTTP: `GET /subjects/{id}/biometrics` exports a person's
//! face and fingerprint records, each in its CBEFF wrapper (ISO/IEC 19785-3 XML). A
//! logged read like any other:
//! the receipt is in the `Fairgate-Access-Leaf` and `Fairgate-Tree-Size` headers.
//! The records are never logged, and no error quotes them.

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::auth::blocking;
use crate::auth::Reader;
use crate::problem::Problem;
use crate::views::retrying;
use crate::views::{subject_id, QueryMap};
use crate::AppState;

/// A person's biometric records (every registration's, oldest first), as CBEFF XML.
/// Needs `Fairgate-Purpose`; the read is logged first.
#[utoipa::path(get, path = "/subjects/{id}/biometrics", tag = "subjects",
    params(("id" = String, Path, description = "Subject id"),
           ("format" = Option<String>, Query, description = "`cbeff` (the default)"),
           ("Fairgate-Purpose" = String, Header, description = "Why the data is needed")),
    security(("bearer" = [])),
    responses((status = 200, description = "CBEFF XML (application/xml)"),
              (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 410, body = Problem)))]
pub async fn export(
    State(st): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    q: QueryMap,
) -> Result<Response, Problem> {
    let id = subject_id(&id)?;
    let q = q.map_err(|_| Problem::bad_request("query", "the query string is not valid URL encoding"))?;
    match q.get("format").map(String::as_str) {
        None | Some("cbeff") => {}
        Some(_) => return Err(Problem::bad_request("format", "must be cbeff (the default)")),
    }
    let now = st.now();
    let (birs, receipt) = blocking(move || {
        let actor = reader.caller.actor();
        retrying(|| st.registry.read_biometrics(now, &actor, reader.purpose, id, "GET /subjects/{id}/biometrics"))
    })
    .await?;
    tracing::info!(subject = %id, access_leaf = receipt.leaf_index, records = birs.len(), "biometrics read");
    let receipt_headers = [
        ("fairgate-access-leaf", receipt.leaf_index.to_string()),
        ("fairgate-tree-size", receipt.tree_size.to_string()),
    ];
    let xml = fairgate_core::cbeff::to_xml(&birs);
    Ok(([(CONTENT_TYPE, "application/xml; charset=utf-8".to_string())], receipt_headers, xml).into_response())
}
