//! What every binary biometric record parser shares: a bounds-checked big-endian
//! reader and the error that names the byte offset and the field. The formats
//! themselves live in `minutiae`, `face`, `finger_image` and `cbeff`.

use serde::Serialize;

/// What is wrong, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("byte {offset}, {field}: {message}")]
pub struct RecordError {
    pub offset: usize,
    pub field: &'static str,
    pub message: String,
}

pub(crate) fn bad(offset: usize, field: &'static str, message: impl Into<String>) -> RecordError {
    RecordError { offset, field, message: message.into() }
}

/// A cursor over a record that never reads past its end.
pub(crate) struct Reader<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Reader { b, at: 0 }
    }
    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], RecordError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len()).ok_or_else(|| RecordError {
            offset: self.at,
            field,
            message: format!("the record ends here: {n} more bytes needed, {} left", self.b.len() - self.at),
        })?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, RecordError> {
        Ok(self.take(1, field)?[0])
    }
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, RecordError> {
        let s = self.take(2, field)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, RecordError> {
        let s = self.take(4, field)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    pub(crate) fn left(&self) -> usize {
        self.b.len() - self.at
    }
}
