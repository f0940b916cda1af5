//! Notices by email: a [`Mailer`] over SMTP (`lettre`), to the agency's relay
//! (`serve --smtp HOST:PORT --smtp-from ADDRESS`). Plain SMTP without TLS: the
//! relay is expected on this machine or its private network (docs/offices.md). An
//! address never reaches the log; a failure is answered with the relay's reason.

use fairgate_core::i18n::Language;
use fairgate_store::registry::notices::Mailer;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{Message, SmtpTransport, Transport};

pub struct SmtpMailer {
    transport: SmtpTransport,
    from: lettre::message::Mailbox,
}

/// A relay address or sender that cannot be used, named.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct MailConfigError {
    pub field: &'static str,
    pub message: String,
}

impl SmtpMailer {
    /// `relay` is `HOST:PORT` (port 25 when left out); `from` the sender's address.
    pub fn new(relay: &str, from: &str) -> Result<Self, MailConfigError> {
        let (host, port) = match relay.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>().map_err(|_| MailConfigError {
                    field: "--smtp",
                    message: format!("`{p}` is not a port: write HOST:PORT, e.g. 127.0.0.1:25"),
                })?,
            ),
            None => (relay, 25),
        };
        if host.is_empty() {
            return Err(MailConfigError {
                field: "--smtp",
                message: "the relay host is empty: write HOST:PORT".into(),
            });
        }
        let from = from.parse().map_err(|_| MailConfigError {
            field: "--smtp-from",
            message: format!("`{from}` is not an email address: write it as notices@agency.example"),
        })?;
        let transport =
            SmtpTransport::builder_dangerous(host).port(port).timeout(Some(std::time::Duration::from_secs(20))).build();
        Ok(Self { transport, from })
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, to: &str, lang: Language, subject: &str, body: &str) -> Result<String, String> {
        let to = to.parse().map_err(|_| "the address on record is not one a relay accepts".to_string())?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Content-Language"), lang.tag().to_string()))
            .body(body.to_string())
            .map_err(|e| format!("the message could not be built: {e}"))?;
        match self.transport.send(&message) {
            Ok(r) => Ok(format!("accepted by the relay ({})", r.code())),
            Err(e) => Err(format!("the relay refused or could not be reached: {e}")),
        }
    }
}
