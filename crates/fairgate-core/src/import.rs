//! Legacy import: one row of records kept elsewhere (an old program's
//! registrations), checked with the same validators as a desk registration. The
//! binary reads a file; [`parse_rows`] turns its bytes (CSV or JSON lines) into
//! [`ImportRow`]s; the registry writes them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::document::DocumentInput;
use crate::error::Invalid;
use crate::place::PlaceBook;
use crate::registration::{NewRegistration, RegistrationInput};
use crate::subject::{NewSubject, SubjectInput};

/// One row of a legacy file. CSV files have these as their header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct ImportRow {
    #[serde(default = "passport")]
    pub document_kind: String,
    pub issuing_state: String,
    pub document_number: String,
    pub document_expires_on: String,
    pub surname: String,
    #[serde(default)]
    pub given_names: String,
    pub birth_date: String,
    pub sex: String,
    pub nationality: String,
    /// `office` (default), `port-of-entry` or `re-registration`.
    #[serde(default = "office")]
    pub registration_kind: String,
    /// A port or office code.
    pub place: String,
    /// RFC 3339, or a plain `YYYY-MM-DD` (taken as noon UTC).
    pub registered_at: String,
}

/// The two kinds of legacy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// RFC 4180 with a header row naming [`ImportRow`]'s fields.
    Csv,
    /// One JSON object per line; blank lines are skipped.
    JsonLines,
}

/// Rows with their line numbers, and every problem as `NAME:LINE: message`.
pub type ParsedRows = (Vec<(u64, ImportRow)>, Vec<String>);

/// Parse a legacy file's bytes (`name` is how problems name it). A problem with
/// the file as a whole (no header row, not UTF-8) is the `Err`; problems with rows
/// are listed, each with its line.
pub fn parse_rows(name: &str, kind: FileKind, bytes: &[u8]) -> Result<ParsedRows, String> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    match kind {
        FileKind::Csv => {
            let mut r = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes);
            let headers =
                r.headers().map_err(|e| format!("{name}: the first line must be the header row ({e})"))?.clone();
            for rec in r.records() {
                match rec {
                    Ok(rec) => {
                        let line = rec.position().map_or(0, |p| p.line());
                        match rec.deserialize::<ImportRow>(Some(&headers)) {
                            Ok(row) => rows.push((line, row)),
                            Err(e) => errors.push(format!("{name}:{line}: {e}")),
                        }
                    }
                    Err(e) => errors.push(format!("{name}:{}: {e}", e.position().map_or(0, |p| p.line()))),
                }
            }
        }
        FileKind::JsonLines => {
            let text = std::str::from_utf8(bytes).map_err(|_| format!("{name} is not UTF-8"))?;
            for (i, l) in text.lines().enumerate() {
                if l.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<ImportRow>(l) {
                    Ok(row) => rows.push((i as u64 + 1, row)),
                    Err(e) => errors.push(format!("{name}:{}: {e}", i + 1)),
                }
            }
        }
    }
    Ok((rows, errors))
}

fn passport() -> String {
    "P".into()
}

fn office() -> String {
    "office".into()
}

impl ImportRow {
    /// Validate the row as a new subject and their registration.
    pub fn validate(&self, places: &PlaceBook, now: Timestamp) -> Result<(NewSubject, NewRegistration), Invalid> {
        let subject = SubjectInput {
            document: DocumentInput {
                kind: self.document_kind.clone(),
                issuing_state: self.issuing_state.clone(),
                number: self.document_number.clone(),
                expires_on: self.document_expires_on.clone(),
            },
            surname: self.surname.clone(),
            given_names: self.given_names.clone(),
            birth_date: self.birth_date.clone(),
            sex: self.sex.clone(),
            nationality: self.nationality.clone(),
        };
        let at = self.registered_at.trim();
        let at = if at.len() == 10 { format!("{at}T12:00:00Z") } else { at.to_string() };
        let registration = RegistrationInput {
            kind: self.registration_kind.clone(),
            place: self.place.clone(),
            at: Some(at),
            interview: None,
            voluntary: false,
            captures: None,
            probe: None,
        };
        let s = subject.validate(now.to_zoned(jiff::tz::TimeZone::UTC).date());
        let r = registration.validate(places, now);
        match (s, r) {
            (Ok(s), Ok(r)) => Ok((s, r)),
            (s, r) => {
                let mut errors = Vec::new();
                if let Err(Invalid(e)) = s {
                    // Name the columns of the file.
                    errors.extend(e.into_iter().map(|mut fe| {
                        fe.field = match fe.field.as_str() {
                            "document.kind" => "document_kind".into(),
                            "document.issuing_state" => "issuing_state".into(),
                            "document.number" => "document_number".into(),
                            "document.expires_on" => "document_expires_on".into(),
                            other => other.to_string(),
                        };
                        fe
                    }));
                }
                if let Err(Invalid(e)) = r {
                    errors.extend(e.into_iter().map(|mut fe| {
                        fe.field = match fe.field.as_str() {
                            "kind" => "registration_kind".into(),
                            "at" => "registered_at".into(),
                            other => other.to_string(),
                        };
                        fe
                    }));
                }
                Err(Invalid(errors))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places() -> PlaceBook {
        PlaceBook::defaults()
    }

    fn row() -> ImportRow {
        ImportRow {
            document_kind: "P".into(),
            issuing_state: "UTO".into(),
            document_number: "L898902C3".into(),
            document_expires_on: "2012-04-15".into(),
            surname: "ERIKSSON".into(),
            given_names: "ANNA MARIA".into(),
            birth_date: "1974-08-12".into(),
            sex: "F".into(),
            nationality: "UTO".into(),
            registration_kind: "office".into(),
            place: "NYC-FO".into(),
            registered_at: "2003-01-10".into(),
        }
    }

    #[test]
    fn an_old_registration_imports_and_bad_fields_are_named_by_column() {
        let now: Timestamp = "2026-11-29T12:00:00Z".parse().unwrap();
        let (s, r) = row().validate(&places(), now).unwrap();
        assert_eq!(
            (s.surname.as_str(), r.place.as_str(), r.at.to_string().as_str()),
            ("ERIKSSON", "NYC-FO", "2003-01-10T12:00:00Z")
        );
        let mut bad = row();
        bad.document_number = String::new();
        bad.place = "NOWHERE".into();
        bad.registered_at = "last year".into();
        let fields: Vec<String> = bad.validate(&places(), now).unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["document_number", "place", "registered_at"]);
    }
}
