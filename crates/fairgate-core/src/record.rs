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

/// The first 12 bytes every ISO/IEC 19794 record starts with: the format identifier
/// (`id`), the version and the record length, which must be the input's. `what`
/// names the record ("an ISO/IEC 19794-2 finger minutiae record"), `edition` the one
/// read ("ISO/IEC 19794-2:2005"); `known` answers other versions with what to do.
pub(crate) fn read_prefix(
    r: &mut Reader<'_>,
    id: &[u8; 4],
    what: &str,
    version: &[u8; 4],
    edition: &str,
    known: &[(&[u8; 4], &str)],
) -> Result<(), RecordError> {
    let shown = |b: &[u8; 4]| format!("{}\\0", String::from_utf8_lossy(&b[..3]));
    if r.take(4, "format identifier")? != id {
        return Err(bad(0, "format identifier", format!("not `{}`: this is not {what}", shown(id))));
    }
    let found = r.take(4, "version")?;
    if found != version {
        let hint = known.iter().find(|(v, _)| found == &v[..]).map(|(_, h)| h.to_string());
        return Err(bad(
            4,
            "version",
            hint.unwrap_or_else(|| format!("not `{}`: only {edition} records are read", shown(version))),
        ));
    }
    let length = r.u32("record length")? as usize;
    if length != r.b.len() {
        return Err(bad(8, "record length", format!("says {length} bytes, the record has {}", r.b.len())));
    }
    Ok(())
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
