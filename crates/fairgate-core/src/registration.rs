//! Registrations (at a port of entry, at an office, or a re-registration) and the
//! interview recorded with them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::capture::{CaptureSummary, CapturesInput};
use crate::error::{clip, parse_instant, text, Errors, Invalid};
use crate::place::{PlaceBook, PlaceKind};

/// At most this many questions in one interview (with the text limits, a maximal
/// interview stays well inside the server's 1 MiB body limit).
pub const MAX_QUESTIONS: usize = 100;

/// How far ahead of "now" a stated time may be before it is refused as in the future.
pub const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistrationKind {
    PortOfEntry,
    Office,
    ReRegistration,
}

impl RegistrationKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::PortOfEntry => "port-of-entry",
            Self::Office => "office",
            Self::ReRegistration => "re-registration",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuestionAnswer {
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interview {
    #[serde(default)]
    pub questions: Vec<QuestionAnswer>,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub interpreter_present: bool,
    #[serde(default)]
    pub counsel_present: bool,
}

/// A validated registration, as it goes into the ledger (encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRegistration {
    pub kind: RegistrationKind,
    pub place: String,
    pub at: Timestamp,
    pub interview: Option<Interview>,
    /// No program in force required this person to register; they registered of
    /// their own accord (and it was recorded as such).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub voluntary: bool,
    /// The program the record belongs to when it was imported from elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// Where an imported record came from: the file's SHA-256 and the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportRef>,
    /// What was captured (face, fingers) and what was not and why; the records
    /// themselves are sealed apart from the public log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captures: Option<CaptureSummary>,
}

/// The source of an imported record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRef {
    /// SHA-256 of the imported file, hex.
    pub file: String,
    pub line: u64,
}

/// The body of `POST /subjects/{id}/registrations`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistrationInput {
    /// `port-of-entry`, `office` or `re-registration`.
    #[cfg_attr(feature = "openapi", schema(example = "port-of-entry"))]
    pub kind: String,
    /// Code of the port (for `port-of-entry`) or office (for the other kinds), from `GET /ports` or `GET /offices`.
    #[cfg_attr(feature = "openapi", schema(example = "JFK"))]
    pub place: String,
    /// RFC 3339; defaults to now. Never in the future.
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub interview: Option<Interview>,
    /// Required when no program in force requires this person to register: the
    /// registration is then recorded as voluntary. Ignored when a program requires it.
    #[serde(default)]
    pub voluntary: bool,
    /// The photograph and fingerprints taken, as ISO/IEC 19794 records in base64,
    /// and what was not taken and why. A program's `[capture]` section says what is
    /// required.
    #[serde(default)]
    pub captures: Option<CapturesInput>,
    /// Fingerprints to compare with the person's on record from earlier
    /// registrations (1:1, as at a crossing): the answer carries match, no-match or
    /// not-checked; a no-match refers the person to secondary inspection and the
    /// registration stands.
    #[serde(default)]
    pub probe: Option<crate::matching::ProbeInput>,
}

impl RegistrationInput {
    pub fn validate(&self, places: &PlaceBook, now: Timestamp) -> Result<NewRegistration, Invalid> {
        let mut e = Errors::default();
        let kind = match self.kind.trim() {
            "port-of-entry" => Some(RegistrationKind::PortOfEntry),
            "office" => Some(RegistrationKind::Office),
            "re-registration" => Some(RegistrationKind::ReRegistration),
            other => {
                e.push(
                    "kind",
                    format!(
                        "`{}` is not a registration kind: use port-of-entry, office or re-registration",
                        clip(other)
                    ),
                );
                None
            }
        };
        match (places.get(&self.place), kind) {
            (None, _) => e.push(
                "place",
                format!("`{}` is not a known port or office: see GET /ports and GET /offices", clip(&self.place)),
            ),
            (Some(p), Some(RegistrationKind::PortOfEntry)) if p.place.kind != PlaceKind::Port => e.push(
                "place",
                format!(
                    "`{}` is an office; a port-of-entry registration needs a port: one of {}",
                    p.place.code,
                    places.codes(PlaceKind::Port)
                ),
            ),
            (Some(p), Some(RegistrationKind::Office)) if p.place.kind != PlaceKind::Office => e.push(
                "place",
                format!(
                    "`{}` is a port; an office registration needs an office: one of {}",
                    p.place.code,
                    places.codes(PlaceKind::Office)
                ),
            ),
            _ => {}
        }
        let at = match &self.at {
            None => Some(now),
            Some(s) => e.check(parse_instant("at", s)),
        };
        if let Some(at) = at {
            if at > now + CLOCK_SKEW {
                e.push("at", "is in the future: a registration is recorded when it happens");
            }
        }
        if let Some(iv) = &self.interview {
            if iv.questions.len() > MAX_QUESTIONS {
                e.push("interview.questions", format!("has more than {MAX_QUESTIONS} questions: split the interview"));
            }
            for (i, qa) in iv.questions.iter().enumerate() {
                e.check(text(&format!("interview.questions[{i}].question"), &qa.question, 500, true));
                e.check(text(&format!("interview.questions[{i}].answer"), &qa.answer, 4000, false));
            }
            e.check(text("interview.notes", &iv.notes, 20_000, false));
        }
        let interview = self.interview.as_ref().map(|iv| Interview {
            questions: iv
                .questions
                .iter()
                .map(|qa| QuestionAnswer { question: qa.question.trim().into(), answer: qa.answer.trim().into() })
                .collect(),
            notes: iv.notes.trim().into(),
            ..iv.clone()
        });
        e.finish(|| NewRegistration {
            kind: kind.unwrap_or(RegistrationKind::Office),
            place: places.get(&self.place).map(|p| p.place.code.clone()).unwrap_or_default(),
            at: at.unwrap_or(now),
            interview,
            voluntary: self.voluntary,
            program: None,
            import: None,
            captures: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn book() -> PlaceBook {
        PlaceBook::defaults()
    }

    fn input(kind: &str, place: &str) -> RegistrationInput {
        RegistrationInput {
            kind: kind.into(),
            place: place.into(),
            at: None,
            interview: None,
            voluntary: false,
            captures: None,
            probe: None,
        }
    }

    const NOW: Timestamp = Timestamp::constant(1_780_000_000, 0);

    #[test]
    fn kinds_must_match_the_place() {
        assert!(input("port-of-entry", "JFK").validate(&book(), NOW).is_ok());
        assert!(input("office", "NYC-FO").validate(&book(), NOW).is_ok());
        assert!(input("re-registration", "NYC-FO").validate(&book(), NOW).is_ok());
        let e = input("port-of-entry", "NYC-FO").validate(&book(), NOW).unwrap_err();
        assert_eq!(e.0[0].field, "place");
        let e = input("office", "ATL").validate(&book(), NOW).unwrap_err();
        assert!(e.0[0].message.contains("not a known port"));
        let e = input("walk-in", "JFK").validate(&book(), NOW).unwrap_err();
        assert_eq!(e.0[0].field, "kind");
    }

    #[test]
    fn time_defaults_to_now_and_may_not_be_in_the_future() {
        assert_eq!(input("office", "NYC-FO").validate(&book(), NOW).unwrap().at, NOW);
        let mut i = input("office", "NYC-FO");
        i.at = Some((NOW + jiff::SignedDuration::from_hours(1)).to_string());
        assert_eq!(i.validate(&book(), NOW).unwrap_err().0[0].field, "at");
    }

    #[test]
    fn interview_fields_are_named_by_position() {
        let mut i = input("office", "NYC-FO");
        i.interview = Some(Interview {
            questions: vec![
                QuestionAnswer { question: "Purpose of stay?".into(), answer: "Tourism".into() },
                QuestionAnswer { question: " ".into(), answer: "x".into() },
            ],
            ..Default::default()
        });
        let e = i.validate(&book(), NOW).unwrap_err();
        assert_eq!(e.0[0].field, "interview.questions[1].question");
    }
}
