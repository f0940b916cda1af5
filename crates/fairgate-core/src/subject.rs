//! Subjects: the people Fairgate holds records on, created from travel-document data.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::document::{state_code, DocumentInput, TravelDocument};
use crate::error::{clip, parse_date, text, Errors, Invalid};

/// Sex as printed on a travel document (ICAO 9303: F, M, or X / `<` for unspecified).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sex {
    F,
    M,
    X,
}

/// A new subject's validated data, exactly as it goes into the ledger (encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSubject {
    pub document: TravelDocument,
    pub surname: String,
    pub given_names: String,
    pub birth_date: Date,
    pub sex: Sex,
    pub nationality: String,
}

/// The body of `POST /subjects`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubjectInput {
    pub document: DocumentInput,
    #[cfg_attr(feature = "openapi", schema(example = "ERIKSSON"))]
    pub surname: String,
    /// May be empty for people who have no given name.
    #[cfg_attr(feature = "openapi", schema(example = "ANNA MARIA"))]
    pub given_names: String,
    /// `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", schema(example = "1974-08-12"))]
    pub birth_date: String,
    /// `F`, `M` or `X`.
    #[cfg_attr(feature = "openapi", schema(example = "F"))]
    pub sex: String,
    /// ICAO 9303 state code.
    #[cfg_attr(feature = "openapi", schema(example = "UTO"))]
    pub nationality: String,
}

const EARLIEST_BIRTH: Date = jiff::civil::date(1900, 1, 1);

/// A request to create a subject: the typed fields, or the document's
/// machine-readable zone (`mrz`, its lines separated by new lines) in their place.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubjectRequest {
    /// The machine-readable zone, as scanned: 2 or 3 lines (ICAO 9303). Give it
    /// instead of `document` and the person's fields.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10")
    )]
    pub mrz: Option<String>,
    #[serde(default)]
    pub document: Option<DocumentInput>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub given_names: Option<String>,
    #[serde(default)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub sex: Option<String>,
    #[serde(default)]
    pub nationality: Option<String>,
}

impl From<SubjectInput> for SubjectRequest {
    fn from(s: SubjectInput) -> Self {
        SubjectRequest {
            mrz: None,
            document: Some(s.document),
            surname: Some(s.surname),
            given_names: Some(s.given_names),
            birth_date: Some(s.birth_date),
            sex: Some(s.sex),
            nationality: Some(s.nationality),
        }
    }
}

impl SubjectRequest {
    /// The typed input: as given, or read from the zone (every check digit must
    /// hold; a repaired zone is accepted, its repairs confirmed by check digits).
    pub fn resolve(self, today: Date) -> Result<SubjectInput, Invalid> {
        let typed = [
            ("document", self.document.is_some()),
            ("surname", self.surname.is_some()),
            ("given_names", self.given_names.is_some()),
            ("birth_date", self.birth_date.is_some()),
            ("sex", self.sex.is_some()),
            ("nationality", self.nationality.is_some()),
        ];
        let Some(zone) = self.mrz else {
            let mut e = Errors::default();
            for (field, given) in typed {
                // Given names may be absent: some people have none.
                if !given && field != "given_names" {
                    e.push(field, "is required (or send the document's machine-readable zone as `mrz` instead)");
                }
            }
            return e.finish(|| SubjectInput {
                document: self.document.unwrap_or_else(|| DocumentInput {
                    kind: String::new(),
                    issuing_state: String::new(),
                    number: String::new(),
                    expires_on: String::new(),
                }),
                surname: self.surname.unwrap_or_default(),
                given_names: self.given_names.unwrap_or_default(),
                birth_date: self.birth_date.unwrap_or_default(),
                sex: self.sex.unwrap_or_default(),
                nationality: self.nationality.unwrap_or_default(),
            });
        };
        if let Some((field, _)) = typed.iter().find(|(_, given)| *given) {
            return Err(Invalid::one(
                *field,
                "is given with `mrz`: send either the machine-readable zone or the typed fields, not both",
            ));
        }
        let reading = match crate::mrz::read(&zone, today) {
            Ok((r, failures)) if failures.is_empty() => r,
            Ok((_, errors)) | Err(errors) => {
                return Err(Invalid(
                    errors.iter().map(|err| crate::error::FieldError::new("mrz", err.to_string())).collect(),
                ));
            }
        };
        let f = reading.fields;
        Ok(SubjectInput {
            document: DocumentInput {
                kind: f.document_code,
                issuing_state: f.issuing_state,
                number: f.document_number,
                expires_on: f.expiry_date.to_string(),
            },
            surname: f.surname,
            given_names: f.given_names,
            birth_date: f.birth_date.to_string(),
            sex: f.sex,
            nationality: f.nationality,
        })
    }
}

impl SubjectInput {
    /// Validate the whole input; `today` is the caller's current date.
    pub fn validate(&self, today: Date) -> Result<NewSubject, Invalid> {
        let mut e = Errors::default();
        let document = match self.document.validate("document") {
            Ok(d) => Some(d),
            Err(Invalid(errs)) => {
                for err in errs {
                    e.push(err.field, err.message);
                }
                None
            }
        };
        let surname = e.check(text("surname", &self.surname, 100, true));
        let given_names = e.check(text("given_names", &self.given_names, 100, false));
        let birth_date = e.check(parse_date("birth_date", &self.birth_date));
        if let Some(b) = birth_date {
            if b > today {
                e.push("birth_date", "is in the future: check the date on the document");
            } else if b < EARLIEST_BIRTH {
                e.push("birth_date", "is before 1900: check the date on the document");
            }
        }
        let sex = match self.sex.trim().to_ascii_uppercase().as_str() {
            "F" => Some(Sex::F),
            "M" => Some(Sex::M),
            "X" | "<" => Some(Sex::X),
            _ => {
                e.push("sex", format!("`{}` is not F, M or X as printed on the document", clip(&self.sex)));
                None
            }
        };
        let nationality = e.check(state_code("nationality", &self.nationality));
        e.finish(|| NewSubject {
            document: document.unwrap_or_default(),
            surname: surname.unwrap_or_default().to_uppercase(),
            given_names: given_names.unwrap_or_default().to_uppercase(),
            birth_date: birth_date.unwrap_or_default(),
            sex: sex.unwrap_or(Sex::X),
            nationality: nationality.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn specimen() -> SubjectInput {
        serde_json::from_str(
            r#"{"document": {"kind": "P", "issuing_state": "UTO", "number": "L898902C3", "expires_on": "2031-04-15"},
                "surname": "Eriksson", "given_names": "Anna Maria", "birth_date": "1974-08-12", "sex": "F", "nationality": "UTO"}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_subject_from_the_zone_is_the_subject_typed_in() {
        let today = jiff::civil::date(2026, 11, 29);
        let zone = SubjectRequest {
            mrz: Some(
                "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10".into(),
            ),
            ..Default::default()
        };
        let from_zone = zone.resolve(today).unwrap().validate(today).unwrap();
        let mut typed = specimen();
        typed.document.expires_on = "2012-04-15".into();
        assert_eq!(from_zone, typed.validate(today).unwrap());
        // Both at once, or neither: refused, naming the field.
        let both = SubjectRequest { mrz: Some("x".into()), surname: Some("A".into()), ..Default::default() };
        assert_eq!(both.resolve(today).unwrap_err().0[0].field, "surname");
        let none = SubjectRequest::default().resolve(today).unwrap_err();
        assert!(none.0.iter().any(|e| e.field == "document" && e.message.contains("`mrz`")), "{none:?}");
        // A zone whose check fails names the line and column under `mrz`.
        let bad = SubjectRequest {
            mrz: Some(
                "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C33UTO7408122F1204159ZE184226B<<<<<10".into(),
            ),
            ..Default::default()
        };
        let e = bad.resolve(today).unwrap_err();
        assert_eq!(e.0[0].field, "mrz");
        assert!(e.0[0].message.starts_with("line 2, column 10: document number check digit is 3"), "{e:?}");
    }

    #[test]
    fn the_icao_specimen_validates() {
        let s = specimen().validate(jiff::civil::date(2026, 11, 29)).unwrap();
        assert_eq!(s.surname, "ERIKSSON");
        assert_eq!(s.given_names, "ANNA MARIA");
        assert_eq!(s.sex, Sex::F);
        assert_eq!(s.document.number, "L898902C3");
    }

    #[test]
    fn a_birth_date_after_today_is_refused() {
        let mut s = specimen();
        s.birth_date = "2026-11-30".into();
        let err = s.validate(jiff::civil::date(2026, 11, 29)).unwrap_err();
        assert_eq!(err.0[0].field, "birth_date");
        assert!(err.0[0].message.contains("future"));
    }

    #[test]
    fn all_problems_are_reported_together() {
        let mut s = specimen();
        s.surname = "  ".into();
        s.sex = "male".into();
        s.birth_date = "1974-02-30".into();
        s.document.number = "L8989-02C3".into();
        let fields: Vec<_> =
            s.validate(jiff::civil::date(2026, 11, 29)).unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["document.number", "surname", "birth_date", "sex"]);
    }
}
