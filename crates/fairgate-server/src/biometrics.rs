//! Biometric records over HTTP: `GET /subjects/{id}/biometrics` exports a person's
//! face and fingerprint records, each in its CBEFF wrapper (ISO/IEC 19785-3 XML), or
//! as an ANSI/NIST-ITL 1-2011 transaction with `?format=an2k`. A logged read like any other:
//! the receipt is in the `Fairgate-Access-Leaf` and `Fairgate-Tree-Size` headers.
//! The records are never logged, and no error quotes them.

use crate::json::Path;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::auth::blocking;
use crate::auth::Reader;
use crate::problem::Problem;
use crate::views::retrying;
use crate::views::{subject_id, QueryMap};
use crate::AppState;

/// A person's biometric records (every registration's, oldest first): CBEFF XML by
/// default, or an ANSI/NIST-ITL 1-2011 transaction (traditional encoding: Type-1,
/// Type-2, Type-9 minutiae, Type-10 for the latest face, Type-14 finger images, or
/// Type-4 with `images=type-4`) with `format=an2k`. Needs `Fairgate-Purpose`; the
/// read is logged first.
#[utoipa::path(get, path = "/subjects/{id}/biometrics", tag = "subjects",
    params(("id" = String, Path, description = "Subject id"),
           ("format" = Option<String>, Query, description = "`cbeff` (the default) or `an2k`"),
           ("images" = Option<String>, Query, description = "with `an2k`: `type-14` (the default) or `type-4` for 500 ppi images"),
           ("Fairgate-Purpose" = String, Header, description = "Why the data is needed")),
    security(("bearer" = [])),
    responses((status = 200, description = "CBEFF XML (application/xml) or an ANSI/NIST-ITL file (application/octet-stream)"),
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
    let an2k = match q.get("format").map(String::as_str) {
        None | Some("cbeff") => false,
        Some("an2k") => true,
        Some(_) => return Err(Problem::bad_request("format", "must be cbeff (the default) or an2k")),
    };
    let type4 = match q.get("images").map(String::as_str) {
        None | Some("type-14") => false,
        Some("type-4") => true,
        Some(_) => return Err(Problem::bad_request("images", "must be type-14 (the default) or type-4")),
    };
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
    if an2k {
        let env = fairgate_core::an2k::Envelope {
            tot: "FGEXPORT".into(),
            date: now.strftime("%Y%m%d").to_string(),
            dai: "NONE".into(),
            ori: "FAIRGATE".into(),
            // The access leaf that logged this read: the file points back to its log entry.
            tcn: format!("FG{}", receipt.leaf_index),
            type4,
        };
        let file = fairgate_core::cbeff::unwrap(&birs)
            .and_then(|(face, minutiae, images)| fairgate_core::an2k::from_records(&env, face.as_ref(), &minutiae, &images))
            .map_err(|e| {
                tracing::error!(subject = %id, field = e.field, "stored biometric records do not convert to ANSI/NIST-ITL");
                Problem::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "an2k-export",
                    "Export failed",
                    format!("the stored records could not be written as ANSI/NIST-ITL ({}); the read was logged. Export them as CBEFF (the default format) and tell the operator", e.field),
                )
            })?;
        return Ok(([(CONTENT_TYPE, "application/octet-stream".to_string())], receipt_headers, file).into_response());
    }
    let xml = fairgate_core::cbeff::to_xml(&birs);
    Ok(([(CONTENT_TYPE, "application/xml; charset=utf-8".to_string())], receipt_headers, xml).into_response())
}
