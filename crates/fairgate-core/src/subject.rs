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
