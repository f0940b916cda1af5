//! The protected attributes: what a program may never select people by. The program
//! language has no syntax for them: only the keys it knows compile, so these names
//! are refused anyway. This module exists to say *why*, in a message that names the
//! attribute, whatever spelling was tried. There is deliberately no way to turn it off.

/// A family of protected attributes, named in the refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protected {
    NationalOrigin,
    RaceOrEthnicity,
    Religion,
    SexOrGender,
    Language,
    Name,
}

impl Protected {
    pub fn as_str(self) -> &'static str {
        match self {
            Protected::NationalOrigin => "national origin",
            Protected::RaceOrEthnicity => "race or ethnicity",
            Protected::Religion => "religion",
            Protected::SexOrGender => "sex or gender",
            Protected::Language => "language",
            Protected::Name => "name",
        }
    }

    /// One sentence: why Fairgate refuses it.
    pub fn why(self) -> &'static str {
        match self {
            Protected::NationalOrigin => {
                "selecting people by nationality, citizenship, birthplace or the state that issued their documents is how the 2002 call-ins singled people out, so a program may use only the facts of a person's immigration situation"
            }
            Protected::RaceOrEthnicity => {
                "selecting people by race or ethnicity singles them out for who they are rather than what they did, so no program can express it"
            }
            Protected::Religion => {
                "selecting people by religion singles them out for what they believe, so no program can express it"
            }
            Protected::SexOrGender => {
                "selecting people by sex or gender (the 2002 call-ins took only men and boys) singles them out for who they are, so no program can express it"
            }
            Protected::Language => {
                "selecting people by the language they speak is a stand-in for national origin, so no program can express it"
            }
            Protected::Name => {
                "selecting people by their names is a stand-in for origin and religion, so no program can express it"
            }
        }
    }
}

/// How a pattern matches a key split into words (`countryOfBirth` and
/// `Country_of-birth` both become `country`, `of`, `birth`).
#[derive(Clone, Copy)]
enum Match {
    /// A word is exactly this.
    Word,
    /// A word starts with this.
    Prefix,
    /// A word contains this.
    Within,
    /// The words joined together contain this.
    Joined,
}

use Match::*;
use Protected::*;

const PATTERNS: &[(&str, Match, Protected)] = &[
    ("nationalit", Within, NationalOrigin),
    ("nation", Prefix, NationalOrigin),
    ("citizen", Within, NationalOrigin),
    ("countr", Prefix, NationalOrigin),
    ("origin", Prefix, NationalOrigin),
    ("issuer", Prefix, NationalOrigin),
    ("ancest", Prefix, NationalOrigin),
    ("descent", Prefix, NationalOrigin),
    ("heritage", Prefix, NationalOrigin),
    ("homeland", Prefix, NationalOrigin),
    ("countryofbirth", Joined, NationalOrigin),
    ("placeofbirth", Joined, NationalOrigin),
    ("birthplace", Joined, NationalOrigin),
    ("birthcountr", Joined, NationalOrigin),
    ("birthstate", Joined, NationalOrigin),
    ("bornin", Joined, NationalOrigin),
    ("issuingstate", Joined, NationalOrigin),
    ("issuingcountr", Joined, NationalOrigin),
    ("issuingauthorit", Joined, NationalOrigin),
    ("issuedby", Joined, NationalOrigin),
    ("passportstate", Joined, NationalOrigin),
    ("documentstate", Joined, NationalOrigin),
    ("nat", Word, NationalOrigin),
    ("natl", Word, NationalOrigin),
    ("cit", Word, NationalOrigin),
    ("ctz", Word, NationalOrigin),
    ("cob", Word, NationalOrigin),
    ("pob", Word, NationalOrigin),
    ("iso", Word, NationalOrigin),
    ("ethnic", Within, RaceOrEthnicity),
    ("racial", Prefix, RaceOrEthnicity),
    ("race", Word, RaceOrEthnicity),
    ("races", Word, RaceOrEthnicity),
    ("tribe", Prefix, RaceOrEthnicity),
    ("tribal", Prefix, RaceOrEthnicity),
    ("caste", Prefix, RaceOrEthnicity),
    ("skin", Word, RaceOrEthnicity),
    ("color", Word, RaceOrEthnicity),
    ("colour", Word, RaceOrEthnicity),
    ("religio", Within, Religion),
    ("faith", Prefix, Religion),
    ("creed", Prefix, Religion),
    ("belief", Prefix, Religion),
    ("denomination", Prefix, Religion),
    ("confession", Prefix, Religion),
    ("sect", Word, Religion),
    ("sects", Word, Religion),
    ("sex", Prefix, SexOrGender),
    ("gender", Within, SexOrGender),
    ("male", Prefix, SexOrGender),
    ("female", Prefix, SexOrGender),
    ("men", Word, SexOrGender),
    ("women", Word, SexOrGender),
    ("boys", Word, SexOrGender),
    ("girls", Word, SexOrGender),
    ("m", Word, SexOrGender),
    ("f", Word, SexOrGender),
    ("language", Within, Language),
    ("lang", Word, Language),
    ("dialect", Prefix, Language),
    ("tongue", Within, Language),
    ("speaks", Word, Language),
    ("name", Within, Name),
];

/// Split a key into lower-case words at separators, digits and camelCase humps.
fn words(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_alphabetic() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Is this key (any spelling) a protected attribute? Only called on keys the
/// language does not know, so a pattern can never shadow a real key.
pub fn classify(key: &str) -> Option<Protected> {
    let words = words(key);
    let joined: String = words.concat();
    PATTERNS
        .iter()
        .find(|(pat, how, _)| match how {
            Word => words.iter().any(|w| w == pat),
            Prefix => words.iter().any(|w| w.starts_with(pat)),
            Within => words.iter().any(|w| w.contains(pat)),
            Joined => joined.contains(pat),
        })
        .map(|(_, _, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_known_keys_of_the_language_are_not_protected() {
        for k in super::super::lang::all_keys() {
            assert_eq!(classify(k), None, "`{k}` is a key of the language and must not look protected");
        }
    }
}
