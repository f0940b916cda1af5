//! The supervisors' 1:N queue over HTTP: the candidates that enrolments' searches
//! found (a logged read, with a purpose), and the decision on each (same person:
//! the records are linked; two people: kept apart), always with a reason.

use crate::json::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{blocking, Caller, Reader};
use crate::json::ApiJson;
use crate::problem::Problem;
use crate::views::{retrying, subject_id, ReceiptView};
use crate::AppState;

/// What a registration's 1:N search found.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentificationView {
    /// People in the gallery when it was searched.
    pub searched: u64,
    /// Whether a face was searched (the face matcher is installed and a face was taken).
    pub face_searched: bool,
    pub candidates: Vec<fairgate_core::event::Candidate>,
    /// `supervisor-review` when there are candidates, else `none`. The registration
    /// stands either way; nothing is merged by a score.
    pub referral: fairgate_core::matching::Referral,
}

impl From<&fairgate_store::registry::identification::Identification> for IdentificationView {
    fn from(i: &fairgate_store::registry::identification::Identification) -> Self {
        IdentificationView {
            searched: i.searched,
            face_searched: i.face_searched,
            candidates: i.candidates.clone(),
            referral: i.referral,
        }
    }
}

/// One person's undecided candidates.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewView {
    /// The person whose registration was searched.
    pub subject: String,
    pub registration_number: String,
    pub searched_at: String,
    pub candidates: Vec<fairgate_core::event::Candidate>,
}

/// The 1:N candidates awaiting a decision, oldest person first. Staff with
/// `Fairgate-Purpose: registration`; each person listed (searched or candidate) is
/// a logged read.
#[utoipa::path(get, path = "/identification/reviews", tag = "biometrics",
    params(("Fairgate-Purpose" = String, Header, description = "registration")), security(("bearer" = [])),
    responses((status = 200, body = Vec<ReviewView>), (status = 403, body = Problem)))]
pub async fn reviews(State(st): State<AppState>, reader: Reader) -> Result<Json<Vec<ReviewView>>, Problem> {
    let list = blocking(move || {
        retrying(|| {
            st.registry.identification_reviews(
                st.now(),
                &reader.caller.actor(),
                reader.purpose,
                "GET /identification/reviews",
            )
        })
    })
    .await?;
    Ok(Json(
        list.iter()
            .map(|r| ReviewView {
                subject: r.subject.to_string(),
                registration_number: r.registration.to_string(),
                searched_at: r.at.to_string(),
                candidates: r.candidates.clone(),
            })
            .collect(),
    ))
}

/// A supervisor's decision on one candidate.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// The candidate's subject id.
    pub candidate: String,
    /// `same-person` (the records are linked as one person's) or `different-people`
    /// (kept apart; not raised again between these two).
    pub decision: String,
    /// Why, in words: what was compared and what it showed. Required.
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionRecorded {
    pub receipt: ReceiptView,
}

/// Decide a 1:N candidate of a person's. Supervisors.
#[utoipa::path(post, path = "/identification/reviews/{subject}", tag = "biometrics", request_body = DecisionInput,
    params(("subject" = String, Path, description = "The person whose registration was searched")),
    security(("bearer" = [])),
    responses((status = 201, body = DecisionRecorded), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn decide(
    State(st): State<AppState>,
    caller: Caller,
    Path(subject): Path<String>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<(StatusCode, Json<DecisionRecorded>), Problem> {
    let id = subject_id(&subject)?;
    let other = input.candidate.trim().parse::<fairgate_core::ids::SubjectId>().map_err(|_| {
        Problem::from(fairgate_store::RegistryError::from(fairgate_core::Invalid::one(
            "candidate",
            "is not a subject id: copy it from GET /identification/reviews",
        )))
    })?;
    let same_person = match input.decision.trim() {
        "same-person" => true,
        "different-people" => false,
        _ => {
            return Err(Problem::from(fairgate_store::RegistryError::from(fairgate_core::Invalid::one(
                "decision",
                "must be `same-person` or `different-people`",
            ))))
        }
    };
    let ((), receipt) = blocking(move || {
        let actor = caller.actor();
        retrying(|| {
            st.registry.write(st.now(), |b| b.decide_identification(&actor, id, other, same_person, &input.reason))
        })
    })
    .await?;
    tracing::info!(subject = %id, same_person, "1:N candidate decided");
    Ok((StatusCode::CREATED, Json(DecisionRecorded { receipt: receipt.into() })))
}
