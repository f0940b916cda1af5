//! The message catalogs: notices, receipts and what the portal says, in English,
//! Spanish and Arabic (right to left), as Project Fluent files compiled into the
//! binary (`locales/*.ftl`; nothing is read at run time). A person's language is
//! used to speak to them and for nothing else: the program language refuses it as
//! a selector like any other attribute of the person.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};

/// The languages Fairgate speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Language {
    #[default]
    En,
    Es,
    Ar,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::En, Language::Es, Language::Ar];
    /// The BCP 47 tag (`en`, `es`, `ar`).
    pub fn tag(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
            Language::Ar => "ar",
        }
    }
    /// `rtl` for Arabic, `ltr` otherwise (the HTML `dir` attribute).
    pub fn dir(self) -> &'static str {
        match self {
            Language::Ar => "rtl",
            _ => "ltr",
        }
    }
    /// A tag as a person or a form gives it (`es`, `es-MX`, `AR`), or `None`.
    pub fn parse(s: &str) -> Option<Language> {
        let primary = s.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        Language::ALL.into_iter().find(|l| l.tag() == primary)
    }
    fn source(self) -> &'static str {
        match self {
            Language::En => include_str!("../locales/en.ftl"),
            Language::Es => include_str!("../locales/es.ftl"),
            Language::Ar => include_str!("../locales/ar.ftl"),
        }
    }
}

type Bundle = FluentBundle<FluentResource>;

fn bundle(lang: Language) -> &'static Bundle {
    static BUNDLES: OnceLock<Vec<Bundle>> = OnceLock::new();
    let all = BUNDLES.get_or_init(|| {
        Language::ALL
            .into_iter()
            .map(|l| {
                let id: unic_langid::LanguageIdentifier = l.tag().parse().unwrap_or_default();
                let mut b = FluentBundle::new_concurrent(vec![id]);
                // Isolation marks keep Latin dates and codes in place inside Arabic
                // text; in the left-to-right languages they would only be noise.
                b.set_use_isolating(l == Language::Ar);
                // The catalogs are part of the binary and checked by the tests below:
                // a message that failed to parse is simply missing, and `text` falls
                // back to English, then to the message id.
                let res = FluentResource::try_new(l.source().to_string()).unwrap_or_else(|(r, _)| r);
                let _ = b.add_resource(res);
                b
            })
            .collect()
    });
    &all[Language::ALL.iter().position(|l| *l == lang).unwrap_or(0)]
}

/// The message `id` in `lang` with `args` (name, value); English when the language
/// lacks it, the id itself when no catalog has it.
pub fn text(lang: Language, id: &str, args: &[(&str, &str)]) -> String {
    let mut fa = FluentArgs::new();
    for (k, v) in args {
        fa.set(*k, FluentValue::from(*v));
    }
    for l in [lang, Language::En] {
        let b = bundle(l);
        if let Some(p) = b.get_message(id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return b.format_pattern(p, Some(&fa), &mut errors).into_owned();
        }
    }
    id.to_string()
}

/// A registration receipt, printed for the person at the desk.
pub fn receipt(lang: Language, number: &str, code: &str, leaf: u64, size: u64) -> String {
    let (leaf, size) = (leaf.to_string(), size.to_string());
    [
        text(lang, "receipt-title", &[]),
        text(lang, "receipt-number", &[("number", number)]),
        text(lang, "receipt-code", &[("code", code)]),
        text(lang, "receipt-leaf", &[("leaf", &leaf), ("size", &size)]),
        text(lang, "receipt-keep", &[]),
    ]
    .join("\n")
        + "\n"
}

/// The ids of the messages of one catalog.
pub fn message_ids(lang: Language) -> Vec<String> {
    lang.source()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && l.contains(" = "))
        .filter_map(|l| l.split(" = ").next().map(|s| s.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_parses_and_has_every_english_message() {
        let english = message_ids(Language::En);
        assert!(english.len() > 30, "{english:?}");
        for lang in Language::ALL {
            let (res, errors) = match FluentResource::try_new(lang.source().to_string()) {
                Ok(r) => (r, vec![]),
                Err((r, e)) => (r, e),
            };
            assert!(errors.is_empty(), "{}: {errors:?}", lang.tag());
            drop(res);
            let ids = message_ids(lang);
            for id in &english {
                assert!(ids.contains(id), "{} lacks {id}", lang.tag());
                // Its own text, not the English fallback (except the same words).
                assert!(bundle(lang).get_message(id).is_some(), "{} cannot read {id}", lang.tag());
            }
            assert_eq!(ids.len(), english.len(), "{} has messages English does not", lang.tag());
        }
    }

    #[test]
    fn arguments_are_placed_and_arabic_is_isolated_and_right_to_left() {
        assert_eq!(text(Language::En, "notice-by", &[("date", "2026-12-03")]), "By 2026-12-03 (inclusive).");
        assert_eq!(
            text(Language::Es, "notice-by", &[("date", "2026-12-03")]),
            "A más tardar el 2026-12-03 (inclusive)."
        );
        let ar = text(Language::Ar, "notice-by", &[("date", "2026-12-03")]);
        assert!(ar.contains("\u{2068}2026-12-03\u{2069}"), "{ar:?}");
        assert_eq!((Language::Ar.dir(), Language::Es.dir()), ("rtl", "ltr"));
        assert_eq!(text(Language::Es, "no-such-message", &[]), "no-such-message");
        assert_eq!(Language::parse("es-MX"), Some(Language::Es));
        assert_eq!(Language::parse(" AR "), Some(Language::Ar));
        assert_eq!(Language::parse("fr"), None);
    }
}
