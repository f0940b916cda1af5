//! Identifiers: pseudonymous subject ids and human-friendly registration numbers
//! with an ISO/IEC 7064 MOD 37,36 check character.
//!
//! Both are made from random bytes the caller supplies; this module draws none.

use std::fmt;
use std::str::FromStr;

use crate::error::FieldError;

/// A subject's pseudonymous id: 128 random bits, shown as 32 lowercase hex digits.
/// It says nothing about the person and is the only subject reference that logs carry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectId([u8; 16]);

impl SubjectId {
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 32];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = HEX[(b >> 4) as usize];
            out[2 * i + 1] = HEX[(b & 15) as usize];
        }
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectId({self})")
    }
}

impl FromStr for SubjectId {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        let bad = || FieldError::new("id", "is not a subject id: expected 32 hex digits as returned by POST /subjects");
        let s = s.trim();
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut out = [0u8; 16];
        for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
            let hex = std::str::from_utf8(chunk).map_err(|_| bad())?;
            out[i] = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
        }
        Ok(Self(out))
    }
}

impl serde::Serialize for SubjectId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SubjectId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(|e: FieldError| serde::de::Error::custom(e.message))
    }
}

/// The symbols registration numbers are written in: digits and capitals without
/// 0, 1, I and O, which people misread. Each stands for a value 0..32.
const SYMBOLS: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const BODY_LEN: usize = 10;

/// A registration number as printed on a receipt: `FG-XXXXX-XXXXX-C`. The ten body
/// symbols carry 50 random bits; `C` is a check symbol computed with the Damm
/// scheme over the quasigroup `x * y = 2x + y` in GF(32). Because that quasigroup is
/// totally anti-symmetric, the check catches every single mistyped symbol and every
/// swap of two neighbours, including a swap with the check symbol itself.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistrationNumber(String);

fn symbol_value(c: u8) -> Option<u8> {
    SYMBOLS.iter().position(|&a| a == c).map(|p| p as u8)
}

/// Multiply by x in GF(2^5) with the primitive polynomial x^5 + x^2 + 1.
fn times_x(v: u8) -> u8 {
    let shifted = v << 1;
    if shifted & 0x20 != 0 {
        (shifted ^ 0x25) & 0x1f
    } else {
        shifted
    }
}

/// Fold values with `acc * v = x·acc + v`. A valid number (body and check) folds to 0.
fn damm_fold(values: impl Iterator<Item = u8>) -> u8 {
    values.fold(0, |acc, v| times_x(acc) ^ v)
}

impl RegistrationNumber {
    /// Build a number from 64 random bits (50 are used).
    pub fn from_entropy(random: u64) -> Self {
        let body: Vec<u8> = (0..BODY_LEN).map(|i| ((random >> (5 * i)) & 31) as u8).collect();
        let check = times_x(damm_fold(body.iter().copied()));
        Self::format(&body, check)
    }

    fn format(body: &[u8], check: u8) -> Self {
        let sym = |v: &u8| SYMBOLS[*v as usize] as char;
        let a: String = body[..5].iter().map(sym).collect();
        let b: String = body[5..].iter().map(sym).collect();
        Self(format!("FG-{a}-{b}-{}", sym(&check)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Read a number typed in any case, with or without dashes and spaces.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let cleaned: Vec<u8> =
            s.bytes().filter(|b| !matches!(b, b'-' | b' ')).map(|b| b.to_ascii_uppercase()).collect();
        let bad = |why: &str| {
            FieldError::new("registration_number", format!("{why}: copy it from the receipt, e.g. FG-7K3MQ-9XQ2P-4"))
        };
        let rest = cleaned.strip_prefix(b"FG").ok_or_else(|| bad("does not start with FG"))?;
        if rest.len() != BODY_LEN + 1 {
            return Err(bad("has the wrong length"));
        }
        let values: Option<Vec<u8>> = rest.iter().map(|&c| symbol_value(c)).collect();
        let values = values.ok_or_else(|| bad("contains a symbol that registration numbers never use (0, 1, I, O)"))?;
        if damm_fold(values.iter().copied()) != 0 {
            return Err(bad("has a wrong check symbol, so it was probably mistyped"));
        }
        Ok(Self::format(&values[..BODY_LEN], values[BODY_LEN]))
    }
}

impl fmt::Display for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistrationNumber({})", self.0)
    }
}

impl serde::Serialize for RegistrationNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for RegistrationNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(|e| serde::de::Error::custom(e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn printed_form_is_stable() {
        // Golden values: changing the scheme would invalidate every receipt ever printed.
        assert_eq!(RegistrationNumber::from_entropy(0).as_str(), "FG-22222-22222-2");
        assert_eq!(RegistrationNumber::from_entropy(1).as_str(), "FG-32222-22222-K"); // worked by hand: fold 26, check x·26 = 17 = K
        assert!(RegistrationNumber::parse("FG-32222-22222-J").is_err());
    }

    #[test]
    fn gf32_multiplication_by_x_is_a_permutation() {
        let mut seen: Vec<u8> = (0..32).map(times_x).collect();
        seen.sort();
        assert_eq!(seen, (0..32).collect::<Vec<u8>>());
    }

    #[test]
    fn subject_id_round_trips_and_rejects_garbage() {
        let id = SubjectId::from_bytes([0xab; 16]);
        assert_eq!(id.to_string(), "ab".repeat(16));
        assert_eq!(id.to_string().parse::<SubjectId>().unwrap(), id);
        assert!("xyz".parse::<SubjectId>().is_err());
        assert!("g".repeat(32).parse::<SubjectId>().is_err());
    }

    proptest! {
        #[test]
        fn numbers_round_trip_through_their_printed_form(r in any::<u64>()) {
            let n = RegistrationNumber::from_entropy(r);
            prop_assert_eq!(RegistrationNumber::parse(n.as_str()).unwrap(), n.clone());
            let sloppy = n.as_str().to_lowercase().replace('-', " ");
            prop_assert_eq!(RegistrationNumber::parse(&sloppy).unwrap(), n);
        }

        #[test]
        fn any_single_mistyped_symbol_is_caught(r in any::<u64>(), pos in 3usize..16, sym in 0usize..32) {
            let n = RegistrationNumber::from_entropy(r);
            let mut b = n.as_str().as_bytes().to_vec();
            prop_assume!(b[pos] != b'-' && b[pos] != SYMBOLS[sym]);
            b[pos] = SYMBOLS[sym];
            prop_assert!(RegistrationNumber::parse(std::str::from_utf8(&b).unwrap()).is_err());
        }

        #[test]
        fn any_swap_of_neighbours_is_caught(r in any::<u64>(), pos in 0usize..10) {
            let n = RegistrationNumber::from_entropy(r);
            let mut chars: Vec<u8> = n.as_str().bytes().filter(|&c| c != b'-').skip(2).collect();
            prop_assume!(chars[pos] != chars[pos + 1]);
            chars.swap(pos, pos + 1);
            let s = format!("FG{}", std::str::from_utf8(&chars).unwrap());
            prop_assert!(RegistrationNumber::parse(&s).is_err());
        }
    }
}
