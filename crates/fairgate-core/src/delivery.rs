//! Notices that reach people: how a person is contacted (an email address, a
//! language), which channels each issued notice still needs, and the rules:
//!
//! - every issued notice goes to the person's **portal**, once;
//! - by **email** when they gave an address, until it is accepted by the relay, at
//!   most [`EMAIL_ATTEMPTS`] times;
//! - as a printed **letter** when they gave no address or every email failed.
//!
//! Every attempt is recorded with its outcome (`notice-delivered`). A delivery is
//! not service: a notice counts as served only with proof or acknowledgement
//! (`obligation::Notice`), so a notice that reached nobody can never make anything
//! overdue.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::i18n::Language;

/// How many times an email is tried before the notice goes by letter.
pub const EMAIL_ATTEMPTS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeliveryChannel {
    Portal,
    Email,
    Letter,
}

impl DeliveryChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryChannel::Portal => "portal",
            DeliveryChannel::Email => "email",
            DeliveryChannel::Letter => "letter",
        }
    }
}

/// How the person is spoken to. The language is for communication only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    pub email: Option<String>,
    pub language: Language,
}

/// The body of a change of contact details.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactInput {
    /// An email address for notices; leave out (or null) for none.
    #[serde(default)]
    pub email: Option<String>,
    /// `en`, `es` or `ar`: the language notices and receipts are written in.
    #[serde(default)]
    pub language: Option<String>,
}

impl ContactInput {
    pub fn validate(&self) -> Result<Contact, crate::Invalid> {
        let mut e = crate::error::Errors::default();
        let email = match self.email.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(a) => {
                let ok = a.len() <= 254
                    && a.split_once('@').is_some_and(|(l, d)| {
                        !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
                    })
                    && a.matches('@').count() == 1
                    && !a.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
                if !ok {
                    e.push("email", "is not an email address: write it as name@example.org");
                }
                Some(a.to_string())
            }
        };
        let language = match self.language.as_deref() {
            None => Language::En,
            Some(l) => Language::parse(l).unwrap_or_else(|| {
                e.push("language", "must be one of en, es, ar");
                Language::En
            }),
        };
        e.finish(|| Contact { email, language })
    }
}

/// One delivery attempt of one issued notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub obligation: String,
    /// The day the notice was issued (a notice issued again is delivered again).
    pub issued_on: Date,
    pub channel: DeliveryChannel,
    pub ok: bool,
    /// The day of the attempt.
    pub on: Date,
}

/// The latest issue of each obligation among `issued` (obligation, day).
pub fn latest_issues(issued: &[(String, Date)]) -> Vec<(String, Date)> {
    let mut out: Vec<(String, Date)> = Vec::new();
    for (k, d) in issued {
        match out.iter_mut().find(|(o, _)| o == k) {
            Some(x) if x.1 < *d => x.1 = *d,
            Some(_) => {}
            None => out.push((k.clone(), *d)),
        }
    }
    out
}

/// The channels one issue still needs from the delivery run (portal, email); the
/// letter is the print batch's ([`needs_letter`]).
pub fn due_channels(
    obligation: &str,
    issued_on: Date,
    deliveries: &[Delivery],
    contact: Option<&Contact>,
) -> Vec<DeliveryChannel> {
    let of = |c: DeliveryChannel| {
        deliveries.iter().filter(move |d| d.obligation == obligation && d.issued_on == issued_on && d.channel == c)
    };
    let mut out = Vec::new();
    if of(DeliveryChannel::Portal).next().is_none() {
        out.push(DeliveryChannel::Portal);
    }
    if contact.is_some_and(|c| c.email.is_some())
        && !of(DeliveryChannel::Email).any(|d| d.ok)
        && of(DeliveryChannel::Email).count() < EMAIL_ATTEMPTS
    {
        out.push(DeliveryChannel::Email);
    }
    out
}

/// Does one issue need a printed letter: no email address, or every email attempt
/// failed, and no letter printed yet?
pub fn needs_letter(obligation: &str, issued_on: Date, deliveries: &[Delivery], contact: Option<&Contact>) -> bool {
    let of = |c: DeliveryChannel| {
        deliveries.iter().filter(move |d| d.obligation == obligation && d.issued_on == issued_on && d.channel == c)
    };
    let emailed = of(DeliveryChannel::Email).any(|d| d.ok);
    let exhausted = of(DeliveryChannel::Email).count() >= EMAIL_ATTEMPTS;
    let no_email = contact.is_none_or(|c| c.email.is_none());
    !emailed && (no_email || exhausted) && of(DeliveryChannel::Letter).next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn d(channel: DeliveryChannel, ok: bool) -> Delivery {
        Delivery { obligation: "k".into(), issued_on: date(2026, 12, 1), channel, ok, on: date(2026, 12, 1) }
    }

    #[test]
    fn portal_once_email_until_accepted_letter_when_there_is_no_address_or_it_fails() {
        let day = date(2026, 12, 1);
        let mail = Contact { email: Some("a@example.org".into()), language: Language::Es };
        assert_eq!(due_channels("k", day, &[], Some(&mail)), vec![DeliveryChannel::Portal, DeliveryChannel::Email]);
        assert_eq!(due_channels("k", day, &[], None), vec![DeliveryChannel::Portal]);
        assert!(needs_letter("k", day, &[], None));
        assert!(!needs_letter("k", day, &[], Some(&mail)));
        let sent = [d(DeliveryChannel::Portal, true), d(DeliveryChannel::Email, true)];
        assert_eq!(due_channels("k", day, &sent, Some(&mail)), vec![]);
        let failing =
            [d(DeliveryChannel::Portal, true), d(DeliveryChannel::Email, false), d(DeliveryChannel::Email, false)];
        assert_eq!(due_channels("k", day, &failing, Some(&mail)), vec![DeliveryChannel::Email], "a third try");
        assert!(!needs_letter("k", day, &failing, Some(&mail)));
        let mut exhausted = failing.to_vec();
        exhausted.push(d(DeliveryChannel::Email, false));
        assert_eq!(due_channels("k", day, &exhausted, Some(&mail)), vec![]);
        assert!(needs_letter("k", day, &exhausted, Some(&mail)), "every email failed: a letter");
        exhausted.push(d(DeliveryChannel::Letter, true));
        assert!(!needs_letter("k", day, &exhausted, Some(&mail)), "printed once");
        // A notice issued again is delivered again.
        assert_eq!(due_channels("k", date(2026, 12, 9), &sent, Some(&mail)).len(), 2);
        assert_eq!(
            latest_issues(&[("k".into(), day), ("j".into(), day), ("k".into(), date(2026, 12, 9))]),
            vec![("k".into(), date(2026, 12, 9)), ("j".into(), day)]
        );
    }

    #[test]
    fn contact_details_are_checked_and_name_the_field() {
        let ok = ContactInput { email: Some(" a.b@example.org ".into()), language: Some("ar".into()) }.validate();
        assert_eq!(ok, Ok(Contact { email: Some("a.b@example.org".into()), language: Language::Ar }));
        for bad in ["a@b", "no-at.example.org", "a@@b.org", "a b@c.org", "<a@b.org>", "a@.org"] {
            let e = ContactInput { email: Some(bad.into()), language: None }.validate().unwrap_err();
            assert_eq!(e.0[0].field, "email", "{bad}");
        }
        let e = ContactInput { email: None, language: Some("fr".into()) }.validate().unwrap_err();
        assert_eq!(e.0[0].field, "language");
        assert_eq!(ContactInput::default().validate(), Ok(Contact::default()));
    }
}
