//! The bottom of the server: what handlers share. Views of registry answers
//! (receipts, timelines), the HTML page frame, query and path parameters, and the
//! one retry of a write that raced another writer. Nothing here imports a feature
//! module; feature modules and `routes` import this.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::http::StatusCode;
use fairgate_core::ids::SubjectId;
use fairgate_core::registration::Interview;
use fairgate_core::timeline::Timeline;
use fairgate_store::store::StoreError;
use fairgate_store::{Receipt, RegistryError};
use maud::{html, Markup, DOCTYPE};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::problem::Problem;
use crate::AppState;

/// Where a write landed in the log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReceiptView {
    /// Index of the first ledger leaf the request appended.
    pub leaf_index: u64,
    /// The tree size that includes it.
    pub tree_size: u64,
}

impl From<Receipt> for ReceiptView {
    fn from(r: Receipt) -> Self {
        Self { leaf_index: r.leaf_index, tree_size: r.tree_size }
    }
}

/// What a command recorded: where it landed in the log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Recorded {
    pub receipt: ReceiptView,
}

/// Run a registry write, retrying once if another writer appended at the same moment.
pub(crate) fn retrying<T>(mut f: impl FnMut() -> Result<T, RegistryError>) -> Result<T, Problem> {
    match f() {
        Err(RegistryError::Store(StoreError::Conflict { .. })) => f().map_err(Problem::from),
        other => other.map_err(Problem::from),
    }
}

pub(crate) fn subject_id(raw: &str) -> Result<SubjectId, Problem> {
    raw.parse::<SubjectId>().map_err(|e| {
        Problem::new(StatusCode::NOT_FOUND, "unknown-subject", "No such subject", e.message.clone())
            .with_errors(vec![e])
    })
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DocumentView {
    pub kind: String,
    pub issuing_state: String,
    pub number: String,
    pub expires_on: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RegistrationView {
    pub registration_number: String,
    /// `port-of-entry`, `office` or `re-registration`.
    pub kind: String,
    pub place: String,
    pub at: String,
    /// Pseudonymous id of the officer who recorded it.
    pub officer: String,
    pub interview: Option<Interview>,
    /// No program required it: the person registered of their own accord.
    pub voluntary: bool,
    /// The program that required it (or that an imported record belongs to).
    pub program: Option<String>,
    /// What was captured and what was not, and why (the records themselves: `GET /subjects/{id}/biometrics`).
    pub captures: Option<CapturesView>,
    pub leaf_index: u64,
}

/// A registration's captures.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CapturesView {
    pub face: bool,
    /// Finger positions captured (ISO/IEC 19794-2: 1 right thumb … 10 left little).
    pub fingers: Vec<u8>,
    pub not_captured: Vec<NotCapturedView>,
    /// SHA-256 of the sealed records, as the ledger commits to them.
    pub sealed: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct NotCapturedView {
    /// `face`, or a finger such as `right-index`.
    pub what: String,
    /// `under-minimum-age`, `temporary-injury`, `permanent-impossibility` or `equipment-failure`.
    pub reason: String,
}

impl From<fairgate_core::capture::CaptureSummary> for CapturesView {
    fn from(c: fairgate_core::capture::CaptureSummary) -> Self {
        CapturesView {
            face: c.face,
            fingers: c.fingers,
            not_captured: c
                .not_captured
                .into_iter()
                .map(|n| NotCapturedView { what: n.what.name().into(), reason: n.reason.as_str().into() })
                .collect(),
            sealed: c.sealed,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CrossingView {
    pub direction: String,
    pub port: String,
    /// UTC.
    pub at: String,
    pub admission_class: Option<String>,
    pub admitted_until: Option<String>,
    pub leaf_index: u64,
    /// Set when the person was already overstaying when this crossing was recorded.
    #[schema(value_type = Option<Object>)]
    pub overstay_at_crossing: Option<fairgate_core::stay::Overstay>,
}

/// A subject's record and history, oldest first.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TimelineView {
    pub id: String,
    /// The newest travel document.
    pub document: DocumentView,
    /// Every travel document the person has held, oldest first (the first is the one
    /// they were recorded with).
    pub documents: Vec<DocumentView>,
    pub surname: String,
    pub given_names: String,
    pub birth_date: String,
    pub sex: String,
    pub nationality: String,
    pub registrations: Vec<RegistrationView>,
    pub crossings: Vec<CrossingView>,
    /// Individual designations: reason, facts, who made it, its review and status
    /// (pending, approved, rejected or lapsed).
    #[schema(value_type = Vec<Object>)]
    pub designations: Vec<serde_json::Value>,
    /// The person's correction requests, their answers and status (open, late, answered).
    #[schema(value_type = Vec<Object>)]
    pub corrections: Vec<serde_json::Value>,
    /// Portal activations and activation codes re-issued (with the reason), oldest
    /// first: an activation the person did not make shows here.
    #[schema(value_type = Vec<Object>)]
    pub portal: Vec<fairgate_core::timeline::PortalEntry>,
    /// The address of the latest change of address reported; notices send the
    /// person to the office serving it.
    pub address: Option<fairgate_core::obligation::Address>,
    /// The current booking of each office obligation (office, day, start, minutes;
    /// who chose it; days a closure added to its deadline), soonest first.
    #[schema(value_type = Vec<Object>)]
    pub appointments: Vec<fairgate_core::appointment::Appointment>,
    /// Interviews held, with each question and the answer given, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub interviews: Vec<fairgate_core::timeline::InterviewEntry>,
    /// How the person is contacted: an email address for notices, and their language.
    pub contact: Option<fairgate_core::delivery::Contact>,
    /// Appointments recorded as missed (a fact an adjudicator may weigh, never a
    /// finding by itself), oldest first.
    #[schema(value_type = Vec<Object>)]
    pub missed_appointments: Vec<fairgate_core::timeline::MissedEntry>,
    /// Biometric comparisons that referred the person to secondary inspection.
    #[schema(value_type = Vec<Object>)]
    pub referrals: Vec<fairgate_core::event::ComparisonRecorded>,
    /// 1:N searches at this person's registrations that found candidates, and the
    /// supervisors' decisions (with reasons), oldest first.
    #[schema(value_type = Vec<Object>)]
    pub identification: Vec<fairgate_core::event::Event>,
    /// Records a supervisor decided are this same person's (linked; both kept).
    pub same_person_as: Vec<String>,
    /// Where this read was logged.
    pub access_receipt: ReceiptView,
}

impl TimelineView {
    pub(crate) fn new(t: Timeline, receipt: Receipt, now: jiff::Timestamp) -> Self {
        let p = t.person;
        let view = |d: fairgate_core::document::TravelDocument| DocumentView {
            kind: d.kind,
            issuing_state: d.issuing_state,
            number: d.number,
            expires_on: d.expires_on.to_string(),
        };
        Self {
            id: t.id.to_string(),
            address: t.address,
            appointments: t.appointments,
            interviews: t.interviews,
            contact: t.contact,
            missed_appointments: t.missed_appointments,
            referrals: t.referrals,
            identification: t.identification,
            same_person_as: t.same_person_as.iter().map(ToString::to_string).collect(),
            documents: t.documents.into_iter().map(|d| view(d.document)).collect(),
            document: DocumentView {
                kind: p.document.kind,
                issuing_state: p.document.issuing_state,
                number: p.document.number,
                expires_on: p.document.expires_on.to_string(),
            },
            surname: p.surname,
            given_names: p.given_names,
            birth_date: p.birth_date.to_string(),
            sex: format!("{:?}", p.sex),
            nationality: p.nationality,
            registrations: t
                .registrations
                .into_iter()
                .map(|r| RegistrationView {
                    registration_number: r.number.to_string(),
                    kind: r.registration.kind.as_str().into(),
                    place: r.registration.place,
                    at: r.registration.at.to_string(),
                    officer: r.officer.id,
                    interview: r.registration.interview,
                    voluntary: r.registration.voluntary,
                    program: r.registration.program,
                    captures: r.registration.captures.map(CapturesView::from),
                    leaf_index: r.leaf_index,
                })
                .collect(),
            crossings: t
                .crossings
                .into_iter()
                .map(|c| CrossingView {
                    direction: c.crossing.direction.as_str().into(),
                    port: c.crossing.port,
                    at: c.crossing.at.to_string(),
                    admission_class: c.crossing.admission_class,
                    admitted_until: c.crossing.admitted_until.map(|d| d.to_string()),
                    leaf_index: c.leaf_index,
                    overstay_at_crossing: c.overstay_at_crossing,
                })
                .collect(),
            corrections: t
                .corrections
                .iter()
                .map(|c| {
                    let mut v = serde_json::to_value(c).unwrap_or_default();
                    v["status"] = serde_json::to_value(c.status(now)).unwrap_or_default();
                    v
                })
                .collect(),
            designations: t
                .designations
                .into_iter()
                .map(|d| {
                    let mut v = serde_json::to_value(&d).unwrap_or_default();
                    v["status"] = serde_json::Value::from(d.status(now).as_str());
                    v
                })
                .collect(),
            portal: t.portal,
            access_receipt: receipt.into(),
        }
    }
}

/// The `on` query parameter (YYYY-MM-DD), or today in UTC.
pub(crate) fn on_param(st: &AppState, q: &QueryMap) -> Result<jiff::civil::Date, Problem> {
    let q = q.as_ref().map_err(|_| Problem::bad_request("query", "the query string is not valid URL encoding"))?;
    match q.get("on") {
        Some(s) => fairgate_core::error::parse_date("on", s).map_err(|e| Problem::bad_request("on", e.message)),
        None => Ok(st.today()),
    }
}

pub(crate) type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

/// Read a whole-number query parameter, naming it in the problem when it is wrong.
pub(crate) fn number(q: &QueryMap, name: &str, default: Option<u64>) -> Result<Option<u64>, Problem> {
    let q = q.as_ref().map_err(|_| Problem::bad_request("query", "the query string is not valid URL encoding"))?;
    match q.get(name) {
        None => Ok(default),
        Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
            Problem::bad_request(
                name,
                format!(
                    "`{}` is not a whole number: give {name} as digits, e.g. {name}=10",
                    v.chars().take(20).collect::<String>()
                ),
            )
        }),
    }
}

pub(crate) fn required(q: &QueryMap, name: &str) -> Result<u64, Problem> {
    number(q, name, None)?.ok_or_else(|| Problem::bad_request(name, format!("the query parameter {name} is required")))
}

/// Fairgate's own few styles, after the design system's (served at
/// `/static/fairgate.css`): bare forms and tables on pages not yet given USWDS
/// classes, the notice letters, and print.
pub const STYLESHEET: &str = "main label{display:block;margin-top:1rem;font-weight:600}
main input:not([class]){font-size:1rem;padding:.4rem;width:100%;max-width:20rem} main button:not([class]){margin-top:1rem;font-size:1rem;padding:.5rem 1.2rem}
.error{border-left:4px solid #b50909;padding:.5rem 1rem;background:#f4e3db}
article.notice{border-top:2px solid #1b1b1b;margin-top:2rem} article.notice .due{font-weight:700}
.fairgate-mrz{font-family:monospace;letter-spacing:.05em;max-width:36rem}
pre.fairgate-receipt{font-size:1.05rem;border:1px dashed #565c65;padding:1rem;max-width:40rem;white-space:pre-wrap}
video.fairgate-camera{display:block;max-width:100%;width:24rem;margin-top:.5rem}
@media print{.usa-skipnav,.usa-header,.usa-footer,.fairgate-no-print{display:none} pre.fairgate-receipt{border:0} body{font-size:12pt} article.notice{border:0;margin:0;break-after:page;page-break-after:always} article.notice:last-child{break-after:auto;page-break-after:auto}}
";

/// One notice, in its own language and direction (`dir="rtl"` for Arabic): what to
/// do, by when, where, the appointment, what to bring, the person's rights.
pub(crate) fn notice_html(doc: &fairgate_core::obligation::NoticeDocument) -> Markup {
    let h = |id: &str| fairgate_core::i18n::text(doc.lang, id, &[]);
    html! {
        article.notice lang=(doc.lang.tag()) dir=(doc.lang.dir()) {
            h1 { (doc.title) }
            h2 { (h("notice-heading-what")) } p { (doc.what) }
            h2 { (h("notice-heading-when")) } p.due { (doc.by_when) }
            h2 { (h("notice-heading-where")) } ul { @for w in &doc.where_ { li { (w) } } }
            @if let Some(a) = doc.appointment.as_ref().or(doc.no_appointment.as_ref()) { h2 { (h("notice-heading-appointment")) } p { (a) } }
            h2 { (h("notice-heading-bring")) } ul { @for b in &doc.bring { li { (b) } } }
            h2 { (h("notice-heading-rights")) } ul { @for r in &doc.rights { li { (r) } } }
            p { small { (doc.reference) } }
        }
    }
}

pub(crate) fn page(title: &str, body: Markup) -> Markup {
    page_in(fairgate_core::i18n::Language::En, title, body)
}

/// A page in a language, laid out in its direction, in the U.S. Web Design System:
/// a skip link, the header, the page in a grid container, and a footer with the
/// public pages. Styles, fonts and scripts come from this origin only
/// (`crate::assets`); every page works without its scripts.
pub(crate) fn page_in(lang: fairgate_core::i18n::Language, title: &str, body: Markup) -> Markup {
    use crate::assets::uswds;
    let t = |id: &str| fairgate_core::i18n::text(lang, id, &[]);
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) dir=(lang.dir()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Fairgate" }
                link rel="stylesheet" href=(uswds("css/uswds.min.css"));
                // A file of our own, not inline: the Content-Security-Policy allows
                // styles from this origin only.
                link rel="stylesheet" href="/static/fairgate.css";
                script src=(uswds("js/uswds-init.min.js")) {}
            }
            body {
                a.usa-skipnav href="#main-content" { (t("layout-skip")) }
                header.usa-header.usa-header--basic {
                    div.usa-nav-container {
                        div.usa-navbar {
                            div.usa-logo { em.usa-logo__text { a href="/" title="Fairgate home" { "Fairgate" } } }
                        }
                    }
                }
                main #main-content .grid-container .padding-bottom-4 { (body) }
                footer.usa-footer.usa-footer--slim {
                    div.usa-footer__primary-section {
                        nav.grid-container aria-label=(t("layout-public-pages")) {
                            ul.usa-list.usa-list--unstyled.display-flex.flex-wrap {
                                @for (href, id) in [
                                    ("/transparency", "layout-transparency"),
                                    ("/public/calculator", "layout-calculator"),
                                    ("/public/programs", "layout-programs"),
                                    ("/public/policy", "layout-policy"),
                                    ("/public/log", "layout-log"),
                                    ("/public/expungements", "layout-expungements"),
                                    ("/openapi.json", "layout-api"),
                                ] {
                                    li.margin-right-3.margin-left-3 { a.usa-link href=(href) { (t(id)) } }
                                }
                            }
                        }
                    }
                }
                script src=(uswds("js/uswds.min.js")) {}
                script src="/static/desk.js" {}
            }
        }
    }
}

/// A live filter over the table with id `table` (static/desk.js): hidden without a
/// script; it only hides rows already on the page, so it reads nothing more.
pub(crate) fn table_filter(table: &str, label: &str) -> Markup {
    let id = format!("filter-{table}");
    html! {
        div.margin-top-2 data-filter=(table) hidden {
            label.usa-label for=(id) { (label) }
            input.usa-input id=(id) type="search" autocomplete="off";
            p.usa-hint role="status" aria-live="polite" {}
        }
    }
}
