//! Office visits over HTTP: booking and moving appointments (staff at a desk, or
//! the person in the portal), the desk queue (check in, call the next, served or
//! sent elsewhere) and interviews. Every step is a sealed ledger event; the queue
//! shows staff pseudonymous ids only.

use crate::json::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use fairgate_core::appointment::{Appointment, BookingInput, InterviewInput, Slot, VisitOutcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{blocking, Caller};
use crate::json::ApiJson;
use crate::portal::Registrant;
use crate::problem::Problem;
use crate::views::{subject_id, ReceiptView, Recorded};
use crate::AppState;

/// A booking made, with its ledger receipt.
#[derive(Debug, Serialize, ToSchema)]
pub struct Booked {
    pub obligation: String,
    pub slot: Slot,
    /// notice, portal, desk, missed or closure.
    pub by: String,
    pub receipt: ReceiptView,
}

fn booked(a: Appointment, receipt: fairgate_store::registry::Receipt) -> Booked {
    Booked { obligation: a.obligation, slot: a.slot, by: a.by.as_str().to_string(), receipt: receipt.into() }
}

/// Book or move the appointment of one of the person's office obligations (register,
/// re-register, interview): the earliest free slot, from the day given, that ends by
/// the due date, at the office given or the one serving their address. Staff at a desk.
#[utoipa::path(post, path = "/subjects/{id}/appointments", tag = "offices", request_body = BookingInput,
    params(("id" = String, Path, description = "Subject id")), security(("bearer" = [])),
    responses((status = 201, body = Booked), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn book(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<BookingInput>,
) -> Result<(StatusCode, Json<Booked>), Problem> {
    let id = subject_id(&id)?;
    let (a, receipt) = blocking(move || {
        st.registry.write(st.now(), |b| b.book_appointment(&caller.actor(), id, &input)).map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, leaf = receipt.leaf_index, "appointment booked at a desk");
    Ok((StatusCode::CREATED, Json(booked(a, receipt))))
}

/// Move one's own appointment (or book one): the earliest free slot from the day
/// given that ends by the due date, at the office given or one's own.
#[utoipa::path(post, path = "/portal/appointments", tag = "portal", request_body = BookingInput,
    security(("bearer" = [])),
    responses((status = 201, body = Booked), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn portal_book(
    State(st): State<AppState>,
    me: Registrant,
    ApiJson(input): ApiJson<BookingInput>,
) -> Result<(StatusCode, Json<Booked>), Problem> {
    let (a, receipt) = blocking(move || {
        st.registry.write(st.now(), |b| b.book_appointment(&me.actor(), me.subject, &input)).map_err(Problem::from)
    })
    .await?;
    tracing::info!(leaf = receipt.leaf_index, "appointment booked in the portal");
    Ok((StatusCode::CREATED, Json(booked(a, receipt))))
}

/// Someone on an office's waiting list today.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    pub subject: String,
    pub arrived: String,
    /// Their slot today (`09:30`), or none: a walk-in.
    pub slot: Option<String>,
    pub desk: Option<u16>,
    pub called: Option<String>,
}

/// An office's waiting list today, in arrival order (pseudonymous ids). Staff, with
/// `Fairgate-Purpose: registration`; each person listed is a logged read.
#[utoipa::path(get, path = "/offices/{code}/queue", tag = "offices",
    params(("code" = String, Path, description = "The office's code"),
           ("Fairgate-Purpose" = String, Header, description = "registration")), security(("bearer" = [])),
    responses((status = 200, body = Vec<QueueView>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn queue(
    State(st): State<AppState>,
    reader: crate::auth::Reader,
    Path(code): Path<String>,
) -> Result<Json<Vec<QueueView>>, Problem> {
    let list = blocking(move || {
        st.registry
            .desk_queue(st.now(), &reader.caller.actor(), reader.purpose, &code, "GET /offices/{code}/queue")
            .map_err(Problem::from)
    })
    .await?;
    Ok(Json(
        list.into_iter()
            .map(|e| QueueView {
                subject: e.subject.to_string(),
                arrived: e.arrived.to_string(),
                slot: e.slot,
                desk: e.desk,
                called: e.called.map(|t| t.to_string()),
            })
            .collect(),
    ))
}

/// The body of a check-in.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct CheckInInput {
    /// The person's subject id.
    pub subject: String,
}

/// A check-in recorded: the slot they came for, if they have one here today.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckedIn {
    pub slot: Option<Slot>,
    pub walk_in: bool,
    pub receipt: ReceiptView,
}

/// Check a person in at the office: with their slot today, or as a walk-in
/// (served when a desk is free). Staff.
#[utoipa::path(post, path = "/offices/{code}/queue", tag = "offices", request_body = CheckInInput,
    params(("code" = String, Path, description = "The office's code")), security(("bearer" = [])),
    responses((status = 201, body = CheckedIn), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn check_in(
    State(st): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<CheckInInput>,
) -> Result<(StatusCode, Json<CheckedIn>), Problem> {
    let id = subject_id(&input.subject)?;
    let (slot, receipt) = blocking(move || {
        st.registry.write(st.now(), |b| b.check_in(&caller.actor(), &code, id)).map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, leaf = receipt.leaf_index, "checked in");
    Ok((StatusCode::CREATED, Json(CheckedIn { walk_in: slot.is_none(), slot, receipt: receipt.into() })))
}

/// The body of a call.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct CallInput {
    /// The desk calling, from 1.
    pub desk: u16,
}

/// Who was called.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalledView {
    /// None when nobody is waiting.
    pub subject: Option<String>,
    pub desk: u16,
    pub waited_minutes: Option<u16>,
}

/// Call the next person to a desk: the earliest appointment due (or due within 10
/// minutes), else the first walk-in to arrive. Staff.
#[utoipa::path(post, path = "/offices/{code}/queue/call", tag = "offices", request_body = CallInput,
    params(("code" = String, Path, description = "The office's code")), security(("bearer" = [])),
    responses((status = 200, body = CalledView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn call(
    State(st): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<CallInput>,
) -> Result<Json<CalledView>, Problem> {
    let desk = input.desk;
    let (called, _) = blocking(move || {
        st.registry.write(st.now(), |b| b.call_next(&caller.actor(), &code, desk)).map_err(Problem::from)
    })
    .await?;
    Ok(Json(match called {
        Some(c) => {
            tracing::info!(subject = %c.subject, desk, "called to a desk");
            CalledView { subject: Some(c.subject.to_string()), desk, waited_minutes: Some(c.waited_minutes) }
        }
        None => CalledView { subject: None, desk, waited_minutes: None },
    }))
}

/// Record how a visit ended: served, or sent to another office with the reason. Staff.
#[utoipa::path(post, path = "/offices/{code}/queue/{subject}/done", tag = "offices", request_body = VisitOutcome,
    params(("code" = String, Path, description = "The office's code"), ("subject" = String, Path, description = "Subject id")),
    security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn done(
    State(st): State<AppState>,
    caller: Caller,
    Path((code, subject)): Path<(String, String)>,
    ApiJson(outcome): ApiJson<VisitOutcome>,
) -> Result<(StatusCode, Json<Recorded>), Problem> {
    let id = subject_id(&subject)?;
    let ((), receipt) = blocking(move || {
        st.registry.write(st.now(), |b| b.finish_visit(&caller.actor(), &code, id, &outcome)).map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, leaf = receipt.leaf_index, "visit ended");
    Ok((StatusCode::CREATED, Json(Recorded { receipt: receipt.into() })))
}

/// Record an interview held at an office: one answer per question of the program
/// whose interview obligation it meets, in order. Sealed. Officers and supervisors.
#[utoipa::path(post, path = "/subjects/{id}/interviews", tag = "offices", request_body = InterviewInput,
    params(("id" = String, Path, description = "Subject id")), security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn interview(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<InterviewInput>,
) -> Result<(StatusCode, Json<Recorded>), Problem> {
    let id = subject_id(&id)?;
    let ((), receipt) = blocking(move || {
        st.registry.write(st.now(), |b| b.record_interview(&caller.actor(), id, &input)).map_err(Problem::from)
    })
    .await?;
    tracing::info!(subject = %id, leaf = receipt.leaf_index, "interview recorded");
    Ok((StatusCode::CREATED, Json(Recorded { receipt: receipt.into() })))
}
