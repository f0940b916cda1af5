//! Correction requests: a registrant asks for a record to be corrected, and gets a
//! reasoned answer within [`REPLY_DAYS`] days (as EES Art 52 requires). The request
//! and the answer are events sealed under the person's key.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::error::{text, Errors, Invalid};

/// Days within which a correction request must be answered.
pub const REPLY_DAYS: i64 = 45;

/// The body of a correction request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CorrectionInput {
    /// What is wrong, e.g. `surname`, `crossings`, `registrations[0].place`.
    pub field: String,
    /// What it should say, and why.
    pub text: String,
}

impl CorrectionInput {
    pub fn validate(&self) -> Result<(String, String), Invalid> {
        let mut e = Errors::default();
        let field = e.check(text("field", &self.field, 100, true));
        let body = e.check(text("text", &self.text, 2000, true));
        e.finish(|| (field.unwrap_or_default(), body.unwrap_or_default()))
    }
}

/// The body of an answer.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnswerInput {
    /// Whether the record was corrected.
    pub corrected: bool,
    /// The reasoned reply to the person.
    pub reply: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub corrected: bool,
    pub reply: String,
    pub by: Actor,
    pub at: Timestamp,
}

/// One correction request, folded from its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Correction {
    pub number: u32,
    pub field: String,
    pub text: String,
    pub requested_at: Timestamp,
    pub reply_due: Timestamp,
    pub answer: Option<Answer>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CorrectionStatus {
    Open,
    /// Open past the 45 days.
    Late,
    Answered,
}

impl Correction {
    pub fn status(&self, now: Timestamp) -> CorrectionStatus {
        match (&self.answer, now > self.reply_due) {
            (Some(_), _) => CorrectionStatus::Answered,
            (None, true) => CorrectionStatus::Late,
            (None, false) => CorrectionStatus::Open,
        }
    }
}

/// The day by which a request made at `at` must be answered.
pub fn reply_due(at: Timestamp) -> Timestamp {
    at.checked_add(SignedDuration::from_hours(24 * REPLY_DAYS)).unwrap_or(at)
}

/// Fold a person's correction events (any order).
pub fn fold<'a>(events: impl IntoIterator<Item = &'a crate::event::Event>) -> Vec<Correction> {
    use crate::event::Event;
    let mut out: Vec<Correction> = Vec::new();
    let mut answers = Vec::new();
    for e in events {
        match e {
            Event::CorrectionRequested(r) => out.push(Correction {
                number: r.number,
                field: r.field.clone(),
                text: r.text.clone(),
                requested_at: r.at,
                reply_due: reply_due(r.at),
                answer: None,
            }),
            Event::CorrectionAnswered(a) => answers.push(a),
            _ => {}
        }
    }
    for a in answers {
        if let Some(c) = out.iter_mut().find(|c| c.number == a.number && c.answer.is_none()) {
            c.answer =
                Some(Answer { corrected: a.corrected, reply: a.reply.clone(), by: a.answered_by.clone(), at: a.at });
        }
    }
    out.sort_by_key(|c| c.number);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_late_after_45_days_without_an_answer() {
        let at: Timestamp = "2027-01-01T10:00:00Z".parse().unwrap();
        let c = Correction {
            number: 1,
            field: "surname".into(),
            text: "t".into(),
            requested_at: at,
            reply_due: reply_due(at),
            answer: None,
        };
        assert_eq!(c.reply_due.to_string(), "2027-02-15T10:00:00Z");
        assert_eq!(c.status("2027-02-15T10:00:00Z".parse().unwrap()), CorrectionStatus::Open);
        assert_eq!(c.status("2027-02-15T10:00:01Z".parse().unwrap()), CorrectionStatus::Late);
        assert!(CorrectionInput { field: " ".into(), text: "x".into() }.validate().is_err());
    }
}
