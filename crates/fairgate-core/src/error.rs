//! Validation errors that name the field at fault and say what to do about it.

use std::fmt;

/// One problem with one input field. `field` is a dotted path such as
/// `document.number` or `interview.questions[2].answer`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Input that was refused: every field problem found, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, message)])
    }
}

/// Collects field errors while validating a whole input.
#[derive(Default, Debug)]
pub(crate) struct Errors(Vec<FieldError>);

impl Errors {
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }
    /// Record the error of a field check, returning the value when it passed.
    pub fn check<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Invalid> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(Invalid(self.0))
        }
    }
}

/// Parse an ISO `YYYY-MM-DD` date, naming the field when it is not one.
pub fn parse_date(field: &str, s: &str) -> Result<jiff::civil::Date, FieldError> {
    let t = s.trim();
    let ok_shape = t.len() == 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-';
    match (ok_shape, t.parse::<jiff::civil::Date>()) {
        (true, Ok(d)) => Ok(d),
        _ => Err(FieldError::new(field, format!("`{}` is not a calendar date: write it as YYYY-MM-DD", clip(t)))),
    }
}

/// Parse an RFC 3339 instant with an explicit offset, naming the field when it is not one.
pub fn parse_instant(field: &str, s: &str) -> Result<jiff::Timestamp, FieldError> {
    s.trim().parse::<jiff::Timestamp>().map_err(|_| {
        FieldError::new(
            field,
            format!(
                "`{}` is not a time: write it as RFC 3339 with an offset, e.g. 2026-03-01T14:05:00Z",
                clip(s.trim())
            ),
        )
    })
}

/// Echo at most a short prefix of user input inside messages.
pub(crate) fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// Free text a person typed: trimmed, bounded, with no control characters except new lines.
pub(crate) fn text(field: &str, s: &str, max: usize, required: bool) -> Result<String, FieldError> {
    let t = s.trim();
    if required && t.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(FieldError::new(field, format!("is longer than {max} characters: shorten it")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(field, "contains control characters: remove them"));
    }
    Ok(t.to_string())
}
