//! Travel documents as ICAO Doc 9303 describes them: a document code, the issuing
//! state's three-letter code, the document number and the expiry date.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::{clip, parse_date, Errors, FieldError, Invalid};

/// A validated travel document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TravelDocument {
    /// ICAO 9303 document code: `P` passport, `I`/`A`/`C` identity cards, `V` visa; an optional second letter.
    pub kind: String,
    /// ICAO 9303 code of the issuing state or organisation (`D` for Germany).
    pub issuing_state: String,
    /// The number as printed, upper-cased, without spaces or `<` fillers.
    pub number: String,
    pub expires_on: Date,
}

/// A travel document as typed or read from the machine-readable zone.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentInput {
    /// ICAO 9303 document code, e.g. `P` for a passport.
    #[cfg_attr(feature = "openapi", schema(example = "P"))]
    pub kind: String,
    /// ICAO 9303 code of the issuing state, e.g. `UTO`.
    #[cfg_attr(feature = "openapi", schema(example = "UTO"))]
    pub issuing_state: String,
    #[cfg_attr(feature = "openapi", schema(example = "L898902C3"))]
    pub number: String,
    /// `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", schema(example = "2031-04-15"))]
    pub expires_on: String,
}

/// Normalise a document number the way it is matched: upper case, no spaces, no `<` fillers.
pub fn normalize_number(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && *c != '<').flat_map(char::to_uppercase).collect()
}

/// Check a document number: 1 to 20 letters and digits once normalised.
pub fn document_number(field: &str, s: &str) -> Result<String, FieldError> {
    let n = normalize_number(s);
    if n.is_empty() {
        return Err(FieldError::new(field, "must not be empty: copy the document number from the data page"));
    }
    if n.len() > 20 || !n.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return Err(FieldError::new(
            field,
            format!("`{}` is not a document number: use 1 to 20 letters A-Z and digits", clip(s)),
        ));
    }
    Ok(n)
}

/// Check an ICAO 9303 state code (1 to 3 letters; `<` fillers dropped).
pub fn state_code(field: &str, s: &str) -> Result<String, FieldError> {
    let c: String = s.trim().trim_end_matches('<').to_ascii_uppercase();
    if (1..=3).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(c)
    } else {
        Err(FieldError::new(
            field,
            format!("`{}` is not an ICAO 9303 state code: use the three letters from the document, e.g. UTO", clip(s)),
        ))
    }
}

impl DocumentInput {
    /// Validate every field, reporting each problem under `prefix.field`.
    pub fn validate(&self, prefix: &str) -> Result<TravelDocument, Invalid> {
        let f = |name: &str| format!("{prefix}.{name}");
        let mut e = Errors::default();
        let kind = self.kind.trim().trim_end_matches('<').to_ascii_uppercase();
        let kind_ok = matches!(kind.len(), 1 | 2) && kind.bytes().all(|b| b.is_ascii_uppercase());
        if !kind_ok {
            e.push(f("kind"), format!("`{}` is not an ICAO 9303 document code: use P for a passport, I, A or C for an identity card, V for a visa", clip(&self.kind)));
        }
        let issuing_state = e.check(state_code(&f("issuing_state"), &self.issuing_state));
        let number = e.check(document_number(&f("number"), &self.number));
        let expires_on = e.check(parse_date(&f("expires_on"), &self.expires_on));
        e.finish(|| TravelDocument {
            kind,
            issuing_state: issuing_state.unwrap_or_default(),
            number: number.unwrap_or_default(),
            expires_on: expires_on.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input(number: &str) -> DocumentInput {
        DocumentInput {
            kind: "P".into(),
            issuing_state: "UTO".into(),
            number: number.into(),
            expires_on: "2031-04-15".into(),
        }
    }

    #[test]
    fn icao_specimen_passes() {
        let d = input("L898902C3").validate("document").unwrap();
        assert_eq!(d.number, "L898902C3");
        assert_eq!(d.issuing_state, "UTO");
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = DocumentInput {
            kind: "passport".into(),
            issuing_state: "U1".into(),
            number: "".into(),
            expires_on: "15/04/2031".into(),
        };
        let fields: Vec<String> = bad.validate("document").unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["document.kind", "document.issuing_state", "document.number", "document.expires_on"]);
    }

    proptest! {
        #[test]
        fn normalised_numbers_are_stable(s in "[a-zA-Z0-9 <]{0,30}") {
            let once = normalize_number(&s);
            prop_assert_eq!(normalize_number(&once), once.clone());
            prop_assert!(!once.contains(' ') && !once.contains('<'));
        }

        #[test]
        fn spacing_and_case_do_not_change_the_number(s in "[A-Z0-9]{1,20}") {
            let spaced: String = s.chars().flat_map(|c| [c.to_ascii_lowercase(), ' ']).collect();
            prop_assert_eq!(document_number("n", &spaced).unwrap(), s);
        }
    }
}
