//! Notices that reach people, on the registry: the person's contact details, the
//! delivery run (every open issued notice to the portal, and by email through the
//! agency's relay when the person gave an address), the letters to print (for those
//! without one, or whose emails all failed), and the person's own notices in the
//! portal. Every attempt is a sealed `notice-delivered` event with its outcome.
//! Rules: `fairgate_core::delivery`.

use fairgate_core::access::{Actor, Purpose};
use fairgate_core::delivery::{due_channels, latest_issues, needs_letter, Contact, ContactInput, DeliveryChannel};
use fairgate_core::event::*;
use fairgate_core::i18n::Language;
use fairgate_core::ids::SubjectId;
use fairgate_core::obligation::{obligations, Facts, NoticeDocument, Obligation, State};
use fairgate_core::policy::{self, Action, Read};
use jiff::civil::Date;
use jiff::Timestamp;

use super::compliance::PendingNotice;
use super::{Batch, Receipt, Registry, Result};

/// Hands one message to a mail relay.
pub trait Mailer: Send + Sync {
    /// Send `body` to `to`: `Ok` with the relay's answer, or `Err` with why it failed
    /// (never the address: the caller records the outcome in the ledger).
    fn send(&self, to: &str, lang: Language, subject: &str, body: &str) -> std::result::Result<String, String>;
}

/// What a delivery run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryReport {
    /// Notices put in the portal.
    pub portal: u64,
    /// Emails the relay accepted, and attempts that failed.
    pub emailed: u64,
    pub email_failed: u64,
    /// Notices waiting to be printed as letters (`POST /notices/letters`).
    pub letters_due: u64,
}

/// One person's notices still owed a channel.
struct Owed {
    id: SubjectId,
    no: u64,
    data: fairgate_ledger::keys::SecretKey,
    /// (obligation, issued on, channels, the notice, the email address)
    items: Vec<(String, Date, Vec<DeliveryChannel>, NoticeDocument)>,
    email: Option<String>,
}

impl Registry {
    /// The open obligations with an issued notice (latest issue each), with the
    /// notice as the person should get it.
    fn open_issues(
        &self,
        terms: &[fairgate_core::obligation::Term],
        facts: &Facts,
        on: Date,
    ) -> Vec<(Obligation, Date, NoticeDocument)> {
        if facts.issued_on.is_empty() {
            return Vec::new();
        }
        let all = obligations(terms, facts, on);
        latest_issues(&facts.issued_on)
            .into_iter()
            .filter_map(|(key, day)| {
                let o = all.iter().find(|o| o.key == key && matches!(o.state, State::Pending | State::Overdue))?;
                let doc = self.notice_for(terms, facts, o, on)?;
                Some((o.clone(), day, doc))
            })
            .collect()
    }

    /// Every live person's facts, compacted first (`f` gets each opened row).
    fn each_facts(&self, f: &mut dyn FnMut(SubjectId, u64, &fairgate_ledger::keys::SecretKey, &Facts)) -> Result<()> {
        self.compact_stay_facts()?;
        let mut failed = None;
        self.store.scan_compliance_facts(1024, &mut |chunk| {
            for row in &chunk {
                match self.open_row(row) {
                    Ok((data, facts, _)) => f(SubjectId::from_bytes(row.subject_id), row.subject_no, &data, &facts),
                    Err(e) => {
                        failed = Some(e);
                        return false;
                    }
                }
            }
            true
        })?;
        failed.map_or(Ok(()), Err)
    }

    /// The delivery run for `on` (daily in `serve`, after the compliance run): each
    /// open issued notice goes to the person's portal once, and by email while the
    /// relay has not accepted it (at most `delivery::EMAIL_ATTEMPTS` tries) when
    /// the person gave an address and a relay is configured. Emails are sent before
    /// the outcomes are written, outside the writer lock.
    pub fn deliver_notices(
        &self,
        now: Timestamp,
        actor: &Actor,
        on: Date,
        mailer: Option<&dyn Mailer>,
    ) -> Result<DeliveryReport> {
        policy::authorize(actor, Action::RunCompliance)?;
        let terms = self.program_terms()?;
        let mut report = DeliveryReport::default();
        let mut owed = Vec::new();
        self.each_facts(&mut |id, no, data, facts| {
            let mut items = Vec::new();
            for (o, day, doc) in self.open_issues(&terms, facts, on) {
                if needs_letter(&o.key, day, &facts.deliveries, facts.contact.as_ref()) {
                    report.letters_due += 1;
                }
                let mut channels = due_channels(&o.key, day, &facts.deliveries, facts.contact.as_ref());
                if mailer.is_none() {
                    channels.retain(|c| *c != DeliveryChannel::Email);
                }
                if !channels.is_empty() {
                    items.push((o.key, day, channels, doc));
                }
            }
            if !items.is_empty() {
                let email = facts.contact.as_ref().and_then(|c| c.email.clone());
                owed.push(Owed { id, no, data: data.clone(), items, email });
            }
        })?;
        // Send first; record every outcome after.
        let mut outcomes: Vec<(usize, usize, DeliveryChannel, bool, String)> = Vec::new();
        for (i, p) in owed.iter().enumerate() {
            for (j, (key, _, channels, doc)) in p.items.iter().enumerate() {
                for c in channels {
                    match (c, mailer, &p.email) {
                        (DeliveryChannel::Portal, _, _) => {
                            outcomes.push((i, j, *c, true, "shown in the portal".into()));
                            report.portal += 1;
                        }
                        (DeliveryChannel::Email, Some(m), Some(to)) => {
                            let subject = fairgate_core::i18n::text(
                                doc.lang,
                                "notice-email-subject",
                                &[("title", &doc.title), ("key", key)],
                            );
                            match m.send(to, doc.lang, &subject, &doc.text()) {
                                Ok(answer) => {
                                    report.emailed += 1;
                                    outcomes.push((i, j, *c, true, clip(&answer)));
                                }
                                Err(why) => {
                                    report.email_failed += 1;
                                    outcomes.push((i, j, *c, false, clip(&why)));
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        for chunk in outcomes.chunks(10_000) {
            self.write(now, |b| {
                for (i, j, channel, ok, detail) in chunk {
                    let p = &owed[*i];
                    let (key, day, _, _) = &p.items[*j];
                    let event = Event::NoticeDelivered(NoticeDelivered {
                        subject: p.id,
                        obligation: key.clone(),
                        issued_on: *day,
                        channel: *channel,
                        ok: *ok,
                        detail: detail.clone(),
                        at: now,
                    });
                    let sealer = fairgate_ledger::leaf::Sealer::new(&p.data);
                    b.append_sealed(p.no, super::SLOT_DATA, &sealer, &event, Some(&p.data))?;
                }
                Ok(())
            })?;
        }
        Ok(report)
    }

    /// The letters to print: every open issued notice of someone who gave no email
    /// address, or whose emails all failed, not printed yet, in their language. Each
    /// person's is an access for compliance-review (logged), and each letter is
    /// recorded as printed.
    pub fn print_letters(&self, now: Timestamp, actor: &Actor, request: &str) -> Result<Vec<PendingNotice>> {
        policy::authorize_read(actor, Read::PendingNotices, Purpose::ComplianceReview)?;
        let terms = self.program_terms()?;
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let mut out: Vec<(u64, fairgate_ledger::keys::SecretKey, String, Date, PendingNotice)> = Vec::new();
        self.each_facts(&mut |id, no, data, facts| {
            for (o, day, document) in self.open_issues(&terms, facts, today) {
                if needs_letter(&o.key, day, &facts.deliveries, facts.contact.as_ref()) {
                    out.push((no, data.clone(), o.key, day, PendingNotice { subject: id, document }));
                }
            }
        })?;
        if !out.is_empty() {
            self.write(now, |b| {
                let mut logged: Vec<SubjectId> = Vec::new();
                for (no, data, key, day, n) in &out {
                    if !logged.contains(&n.subject) {
                        b.log_notice_read(n.subject, actor, request)?;
                        logged.push(n.subject);
                    }
                    let event = Event::NoticeDelivered(NoticeDelivered {
                        subject: n.subject,
                        obligation: key.clone(),
                        issued_on: *day,
                        channel: DeliveryChannel::Letter,
                        ok: true,
                        detail: "printed".into(),
                        at: now,
                    });
                    let sealer = fairgate_ledger::leaf::Sealer::new(data);
                    b.append_sealed(*no, super::SLOT_DATA, &sealer, &event, Some(data))?;
                }
                Ok(())
            })?;
        }
        Ok(out.into_iter().map(|(_, _, _, _, n)| n).collect())
    }

    /// The person's own open notices, in their language (the portal), logged.
    pub fn read_own_notices(
        &self,
        now: Timestamp,
        actor: &Actor,
        id: SubjectId,
        request: &str,
    ) -> Result<(Vec<NoticeDocument>, Receipt)> {
        self.admit(now, actor, Read::Notice, Purpose::SubjectAccess, Some(id), request)?;
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let (no, data) = self.subject_keys_of(id)?;
        let facts = self.compliance_facts(no, &data)?;
        let terms = self.program_terms()?;
        let docs: Vec<NoticeDocument> =
            self.open_issues(&terms, &facts, today).into_iter().map(|(_, _, d)| d).collect();
        let ((), receipt) = self
            .write(now, |b| b.record_access(id, actor, Read::Notice, Purpose::SubjectAccess, &["notice"], request))?;
        Ok((docs, receipt))
    }
}

/// A relay's answer or error, bounded, on one line.
fn clip(s: &str) -> String {
    let one: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect();
    one.trim().to_string()
}

impl Batch<'_> {
    /// The language the person chose (English when they chose none), for what is
    /// printed for them at a desk. Reads only their contact events.
    pub fn language_of(&mut self, id: SubjectId) -> Result<Language> {
        let (no, data) = self.reg.subject_keys_of(id)?;
        let latest = self.reg.subject_events(no, &data, &[EventKind::ContactSet])?.into_iter().max_by_key(|(l, _)| *l);
        Ok(match latest {
            Some((_, Event::ContactSet(c))) => c.contact.language,
            _ => Language::En,
        })
    }

    /// Record how the person is contacted: an email address for notices (or none)
    /// and their language. Staff, or the person in the portal.
    pub fn set_contact(&mut self, actor: &Actor, id: SubjectId, input: &ContactInput) -> Result<Contact> {
        policy::authorize(actor, Action::SetContact)?;
        policy::own_records(actor, &id)?;
        let contact = input.validate()?;
        let (no, sealer) = self.data_sealer(id)?;
        let event =
            Event::ContactSet(ContactSet { subject: id, contact: contact.clone(), by: actor.clone(), at: self.now });
        self.append(no, super::SLOT_DATA, &sealer, &event)?;
        Ok(contact)
    }
}
