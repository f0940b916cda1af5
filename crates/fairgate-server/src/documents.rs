//! Travel documents over HTTP: `POST /documents/mrz` reads a machine-readable zone
//! (ICAO 9303; the rules are `fairgate_core::mrz`) and answers what it says, every
//! check and every repair. It stores nothing and reads nothing on record, so it is
//! not an access; its body is never logged.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::Problem;
use crate::AppState;
use fairgate_core::FieldError;

#[derive(Deserialize, ToSchema)]
pub struct MrzRequest {
    /// The zone's lines, separated by new lines (or as one line).
    #[schema(example = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10")]
    pub mrz: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MrzCheck {
    /// `document_number`, `birth_date`, `expiry_date`, `optional_data` or `composite`.
    pub field: String,
    pub ok: bool,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MrzRepair {
    pub line: usize,
    pub column: usize,
    pub field: String,
    /// The character read.
    pub from: String,
    /// The character a check digit confirmed.
    pub to: String,
}

/// What a zone says (the same object `fairgate mrz` prints), with the failed checks.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct MrzReading {
    /// TD1, TD2, TD3, MRV-A or MRV-B.
    pub format: String,
    pub document_code: String,
    pub issuing_state: String,
    pub document_number: String,
    pub surname: String,
    pub given_names: String,
    pub nationality: String,
    /// YYYY-MM-DD.
    pub birth_date: String,
    /// YYYY-MM-DD.
    pub expiry_date: String,
    /// F, M or X.
    pub sex: String,
    pub optional_data: String,
    /// The name fills its field to the last character: it may be cut short.
    pub name_truncated: bool,
    /// Every check digit holds.
    pub valid: bool,
    pub checks: Vec<MrzCheck>,
    pub repairs: Vec<MrzRepair>,
    /// Each failed check (empty when `valid`).
    pub errors: Vec<MrzFailure>,
}

/// A failed check: where, which field, and what the check digit says.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct MrzFailure {
    pub line: usize,
    pub column: usize,
    pub field: String,
    /// e.g. "line 2, column 10: document number check digit is 3, the number gives 6".
    pub message: String,
}

impl MrzReading {
    pub fn new(r: fairgate_core::mrz::Reading, failures: &[fairgate_core::mrz::MrzError]) -> Self {
        let f = r.fields;
        MrzReading {
            format: f.format.name().to_string(),
            document_code: f.document_code,
            issuing_state: f.issuing_state,
            document_number: f.document_number,
            surname: f.surname,
            given_names: f.given_names,
            nationality: f.nationality,
            birth_date: f.birth_date.to_string(),
            expiry_date: f.expiry_date.to_string(),
            sex: f.sex,
            optional_data: f.optional_data,
            name_truncated: r.name_truncated,
            valid: r.valid,
            checks: r.checks.into_iter().map(|c| MrzCheck { field: c.field, ok: c.ok }).collect(),
            repairs: r
                .repairs
                .into_iter()
                .map(|x| MrzRepair {
                    line: x.line,
                    column: x.column,
                    field: x.field,
                    from: x.from.to_string(),
                    to: x.to.to_string(),
                })
                .collect(),
            errors: failures
                .iter()
                .map(|e| MrzFailure { line: e.line, column: e.column, field: e.field.clone(), message: e.to_string() })
                .collect(),
        }
    }
}

/// Read a machine-readable zone: every field, check digit and OCR repair (ICAO 9303, all five formats). Stores nothing. Staff.
#[utoipa::path(post, path = "/documents/mrz", tag = "documents", request_body = MrzRequest,
    security(("bearer" = [])),
    responses((status = 200, body = MrzReading, description = "The zone read; `valid` says whether every check digit holds"),
              (status = 422, body = Problem, description = "Not a readable zone: each error names line, column and field"),
              (status = 401, body = Problem)))]
pub async fn read_mrz(
    State(st): State<AppState>,
    _caller: Caller,
    ApiJson(req): ApiJson<MrzRequest>,
) -> Result<Json<MrzReading>, Problem> {
    match fairgate_core::mrz::read(&req.mrz, st.today()) {
        Ok((r, failures)) => Ok(Json(MrzReading::new(r, &failures))),
        Err(errors) => Err(Problem::invalid(errors.iter().map(|e| FieldError::new("mrz", e.to_string())).collect())),
    }
}
