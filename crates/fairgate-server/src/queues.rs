//! The supervisors' and adjudicators' queues in the browser: designations to
//! review within 72 hours, excuses to approve, overdue obligations awaiting a
//! determination (with the notices served and the evidence), correction requests
//! with the days left of their 45; and the approvers' law-enforcement queue
//! (emergency accesses to review, requests to approve, with case and reasons).
//! Each queue of personal data asks for its purpose and is logged per person
//! listed; each decision takes its reason. The registry decides and logs.

use crate::json::Path;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use fairgate_core::access::{Purpose, Role};
use fairgate_core::policy::Read;
use fairgate_store::registry::work::{Queue, WorkItem};
use fairgate_store::RegistryError;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{blocking, WebSession};
use crate::desk::{purpose_select, purposes, refused, registry_refusal, staff, staff_form, PurposeQuery};
use crate::problem::Problem;
use crate::views::page;
use crate::web::{csrf_ok, csrf_refused, csrf_token, with_cookie};
use crate::AppState;

fn title(q: Queue) -> &'static str {
    match q {
        Queue::Designations => "Designations to review",
        Queue::Excuses => "Excuses to approve",
        Queue::Determinations => "Determinations",
        Queue::Corrections => "Correction requests",
    }
}

/// The queues a role may open, for the desk's links.
pub(crate) fn links(role: Role) -> Vec<(String, &'static str)> {
    let mut out = vec![];
    if !purposes(role, Read::WorkQueue).is_empty() {
        for q in Queue::ALL {
            if role != Role::Adjudicator || q == Queue::Determinations {
                out.push((format!("/desk/queues/{}", q.as_str()), title(q)));
            }
        }
    }
    if fairgate_core::policy::allows(role, fairgate_core::policy::Action::LawEnforcementQueue) {
        out.push(("/desk/law-enforcement".into(), "Law-enforcement requests and emergency reviews"));
    }
    out
}

fn reason_field(id: &str, label: &str) -> Markup {
    html! {
        label.usa-label for=(id) { (label) }
        textarea.usa-textarea id=(id) name="reason" required rows="3" {}
    }
}

fn item_form(q: Queue, item: &WorkItem, csrf: &str, purpose: Purpose, i: usize, now: jiff::Timestamp) -> Markup {
    let subject = item.subject();
    let action = format!("/desk/queues/{}/{subject}", q.as_str());
    let record = format!("/desk/subjects/{subject}?purpose={}", purpose.as_str());
    html! {
        section.border-top.padding-y-2 {
            @match item {
                WorkItem::Designation { designation: d, .. } => {
                    h2 { "Designation " (d.number) " of " a.usa-link href=(record) { code { (subject.to_string()[..8]) "…" } } }
                    dl {
                        dt { "Reason" } dd { (d.designation.reason.as_str()) }
                        dt { "What was found" } dd { (d.designation.facts) }
                        @if let Some(c) = &d.designation.case_number { dt { "Case" } dd { (c) } }
                        dt { "Where, by whom, when" } dd { (d.designation.place) ", " code { (d.designated_by.id) } ", " (d.designated_at.strftime("%Y-%m-%d %H:%M UTC")) }
                        dt { "Lapses" } dd { strong { (d.deadline().strftime("%Y-%m-%d %H:%M UTC")) } " (" ((d.deadline() - now).get_hours().max(0)) " hours left): without a decision it has no effect" }
                    }
                    form.usa-form method="post" action=(action) {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="purpose" value=(purpose.as_str());
                        input type="hidden" name="item" value=(d.number);
                        fieldset.usa-fieldset {
                            legend.usa-legend { "Decision" }
                            div.usa-radio { input.usa-radio__input type="radio" id=(format!("approve-{i}")) name="decision" value="approve" required; label.usa-radio__label for=(format!("approve-{i}")) { "Approve" } }
                            div.usa-radio { input.usa-radio__input type="radio" id=(format!("reject-{i}")) name="decision" value="reject"; label.usa-radio__label for=(format!("reject-{i}")) { "Reject" } }
                        }
                        (reason_field(&format!("reason-{i}"), "Reason (required)"))
                        button.usa-button type="submit" { "Record the review" }
                    }
                }
                WorkItem::Excuse { excuse: e, obligation, .. } => {
                    h2 { "Excuse for " code { (e.obligation) } " of " a.usa-link href=(record) { code { (subject.to_string()[..8]) "…" } } }
                    dl {
                        dt { "Good cause" } dd { (e.category) ": " (e.text) }
                        @if let Some(o) = obligation { dt { "The obligation" } dd { (o.explanation) } }
                    }
                    form.usa-form method="post" action=(action) {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="purpose" value=(purpose.as_str());
                        input type="hidden" name="item" value=(e.obligation);
                        button.usa-button type="submit" { "Approve the excuse" }
                    }
                }
                WorkItem::Determination { obligation: o, notices, .. } => {
                    h2 { (o.kind.as_str()) " of " a.usa-link href=(record) { code { (subject.to_string()[..8]) "…" } } ", overdue" }
                    p { (o.explanation) }
                    h3 { "Notices served" }
                    ul.usa-list {
                        @for n in notices {
                            li { "Served " (n.served_on) " by " (format!("{:?}", n.channel).to_lowercase())
                                 @if let Some(p) = &n.proof { ", proof: " (p) }
                                 @if let Some(a) = n.acknowledged_on { ", acknowledged " (a) } }
                        }
                    }
                    form.usa-form.usa-form--large method="post" action=(action) {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="purpose" value=(purpose.as_str());
                        input type="hidden" name="item" value=(o.key);
                        fieldset.usa-fieldset {
                            legend.usa-legend { "Finding" }
                            @for (v, label) in [("not-willful", "Not willful"), ("willful", "Willful"), ("not-applicable", "The obligation did not apply")] {
                                div.usa-radio { input.usa-radio__input type="radio" id=(format!("{v}-{i}")) name="finding" value=(v) required; label.usa-radio__label for=(format!("{v}-{i}")) { (label) } }
                            }
                        }
                        (reason_field(&format!("reasons-{i}"), "Reasons (required)"))
                        label.usa-label for=(format!("evidence-{i}")) { "Evidence considered" }
                        span.usa-hint id=(format!("evidence-hint-{i}")) { "One item a line: the notices above, attempts, appointments." }
                        textarea.usa-textarea id=(format!("evidence-{i}")) name="evidence" rows="3" aria-describedby=(format!("evidence-hint-{i}")) {
                            @for n in notices { "notice served " (n.served_on) "\n" }
                        }
                        button.usa-button type="submit" { "Record the determination" }
                    }
                }
                WorkItem::Correction { correction: c, .. } => {
                    h2 { "Correction " (c.number) " of " a.usa-link href=(record) { code { (subject.to_string()[..8]) "…" } } }
                    dl {
                        dt { "Field" } dd { (c.field) }
                        dt { "What the person says" } dd { (c.text) }
                        dt { "Reply due" } dd { strong { (c.reply_due.strftime("%Y-%m-%d")) } " (" ((c.reply_due - now).get_hours().div_euclid(24).max(0)) " days left of the 45)" }
                    }
                    form.usa-form method="post" action=(action) {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="purpose" value=(purpose.as_str());
                        input type="hidden" name="item" value=(c.number);
                        fieldset.usa-fieldset {
                            legend.usa-legend { "Answer" }
                            div.usa-radio { input.usa-radio__input type="radio" id=(format!("corrected-{i}")) name="decision" value="corrected" required; label.usa-radio__label for=(format!("corrected-{i}")) { "Corrected" } }
                            div.usa-radio { input.usa-radio__input type="radio" id=(format!("kept-{i}")) name="decision" value="kept"; label.usa-radio__label for=(format!("kept-{i}")) { "Not corrected" } }
                        }
                        (reason_field(&format!("reply-{i}"), "Reply to the person (required)"))
                        button.usa-button type="submit" { "Send the answer" }
                    }
                }
            }
        }
    }
}

/// `GET /desk/queues/{queue}?purpose=…`: one queue, read for the purpose (asked
/// first), logged on each listed person's record.
pub async fn queue(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path(name): Path<String>,
    Query(q): Query<PurposeQuery>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let Some(queue) = Queue::parse(&name) else {
        return Ok(refused(
            StatusCode::NOT_FOUND,
            "No such queue: designations, excuses, determinations or corrections.",
        ));
    };
    let (csrf, cookie) = csrf_token(&st, &headers);
    let purpose = match q.purpose.as_deref().filter(|p| !p.is_empty()).map(str::parse::<Purpose>) {
        None => {
            let ask = html! {
                h1 { (title(queue)) }
                p { "Reading the queue is logged on the record of each person in it: choose why." }
                form.usa-form method="get" action=(format!("/desk/queues/{}", queue.as_str())) {
                    (purpose_select(caller.role, Read::WorkQueue, None))
                    button.usa-button type="submit" { "Show the queue" }
                }
            };
            return Ok(with_cookie(page(title(queue), ask), cookie));
        }
        Some(Err(_)) => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, "purpose: not a purpose Fairgate knows.")),
        Some(Ok(p)) => p,
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let list = blocking(move || {
        let on = st2.today();
        Ok(st2.registry.work_queue(st2.now(), &actor, purpose, queue, on, "web /desk/queues/{queue}"))
    })
    .await?;
    let list = match list {
        Ok(l) => l,
        Err(e) => return registry_refusal(e),
    };
    let now = st.now();
    let body = html! {
        h1 { (title(queue)) }
        p { "Read for " strong { (purpose.as_str()) } ": each person listed has this read on their access log. Oldest first." }
        @if list.is_empty() { p { "Nothing is waiting." } }
        @for (i, item) in list.iter().enumerate() { (item_form(queue, item, &csrf, purpose, i, now)) }
        p { a.usa-link href="/desk" { "Back to the desk" } }
    };
    Ok(with_cookie(page(title(queue), body), cookie))
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    item: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    finding: String,
    #[serde(default)]
    evidence: String,
}

/// `POST /desk/queues/{queue}/{subject}`: the decision on one item.
pub async fn decide(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path((name, subject)): Path<(String, String)>,
    form: Result<Form<DecisionForm>, FormRejection>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let Some(queue) = Queue::parse(&name) else { return Ok(refused(StatusCode::NOT_FOUND, "No such queue.")) };
    let Ok(Form(f)) = form else { return Ok(refused(StatusCode::BAD_REQUEST, "Send the form again.")) };
    if !csrf_ok(&headers, &f.csrf) {
        return Ok(csrf_refused());
    }
    let Ok(id) = subject.parse::<fairgate_core::ids::SubjectId>() else {
        return Ok(refused(StatusCode::NOT_FOUND, "No such record."));
    };
    let number = || f.item.trim().parse::<u32>().map_err(|_| "item: not a number");
    let actor = caller.actor();
    let st2 = st.clone();
    let purpose = f.purpose.clone();
    let done: Result<Result<(), RegistryError>, &str> = match queue {
        Queue::Designations => {
            let approved = match f.decision.as_str() {
                "approve" => true,
                "reject" => false,
                _ => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, "decision: approve or reject.")),
            };
            match number() {
                Err(e) => Err(e),
                Ok(n) => Ok(blocking(move || {
                    Ok(st2
                        .registry
                        .write(st2.now(), |b| b.review_designation(&actor, id, n, approved, Some(f.reason.as_str())))
                        .map(|_| ()))
                })
                .await?),
            }
        }
        Queue::Excuses => {
            let key = f.item.clone();
            Ok(blocking(move || Ok(st2.registry.write(st2.now(), |b| b.approve_excuse(&actor, id, &key)).map(|_| ())))
                .await?)
        }
        Queue::Determinations => {
            let Ok(finding) =
                serde_json::from_value::<fairgate_core::obligation::Finding>(serde_json::json!(f.finding))
            else {
                return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, "finding: choose one."));
            };
            let input = fairgate_core::obligation::DeterminationInput {
                obligation: f.item.clone(),
                finding,
                reasons: f.reason.clone(),
                evidence: f.evidence.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
            };
            Ok(blocking(move || Ok(st2.registry.write(st2.now(), |b| b.determine(&actor, id, &input)).map(|_| ())))
                .await?)
        }
        Queue::Corrections => {
            let corrected = match f.decision.as_str() {
                "corrected" => true,
                "kept" => false,
                _ => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, "decision: corrected or not.")),
            };
            let input = fairgate_core::correction::AnswerInput { corrected, reply: f.reason.clone() };
            match number() {
                Err(e) => Err(e),
                Ok(n) => Ok(blocking(move || {
                    Ok(st2.registry.write(st2.now(), |b| b.answer_correction(&actor, id, n, &input)).map(|_| ()))
                })
                .await?),
            }
        }
    };
    match done {
        Err(e) => Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, e)),
        Ok(Err(e)) => registry_refusal(e),
        Ok(Ok(())) => {
            tracing::info!(subject = %id, queue = queue.as_str(), "queue item decided (web)");
            let back = format!("/desk/queues/{}?purpose={purpose}", queue.as_str());
            let body = html! {
                h1 { "Recorded" }
                div.usa-alert.usa-alert--success.usa-alert--slim role="status" { div.usa-alert__body { p.usa-alert__text { "The decision is on the person's record, with its reason." } } }
                p { a.usa-link href=(back) { "Back to the queue" } }
            };
            Ok(page("Recorded", body).into_response())
        }
    }
}

// ---------------------------------------------------------------------------
// Law enforcement (approvers; auditors see the queue)

/// `GET /desk/law-enforcement`: requests awaiting approval and emergency accesses
/// awaiting review, with case, reasons and scope.
pub async fn law_enforcement(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let (csrf, cookie) = csrf_token(&st, &headers);
    let actor = caller.actor();
    let st2 = st.clone();
    let list = blocking(move || Ok(st2.registry.law_enforcement_queue(st2.now(), &actor))).await?;
    let list = match list {
        Ok(l) => l,
        Err(e) => return registry_refusal(e),
    };
    let decides = fairgate_core::policy::allows(caller.role, fairgate_core::policy::Action::ApproveLawEnforcement);
    let body = html! {
        h1 { "Law-enforcement requests" }
        p { "Each request names a case and its reasons. An emergency access is in effect at once and must be reviewed; a request without emergency waits for approval." }
        @if list.is_empty() { p { "Nothing awaits a decision." } }
        @for (i, r) in list.iter().enumerate() {
            section.border-top.padding-y-2 {
                h2 { "Case " (r.case_number) @if r.emergency { " (emergency)" } }
                dl {
                    dt { "Status" } dd { strong { (r.status) } @if r.emergency { " (an emergency access is in effect at once, for 24 hours unless confirmed)" } }
                    dt { "Reasons" } dd { (r.reasons) }
                    dt { "Scope" } dd { (r.scope) }
                    dt { "Requested" } dd { (r.requested_at.strftime("%Y-%m-%d %H:%M UTC")) " by " code { (r.requested_by.id) } }
                    @if let Some(d) = r.review_due { dt { "Review due" } dd { (d.strftime("%Y-%m-%d %H:%M UTC")) } }
                    dt { "Record" } dd { code { (r.subject) } }
                }
                @if decides {
                    @let action = format!("/desk/law-enforcement/{}/{}", r.subject, r.number);
                    @if r.approved_at.is_none() {
                        form.usa-form method="post" action=(action) {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="decision" value="approve";
                            p { @if r.emergency { "Confirming keeps the emergency access in effect past its first 24 hours, until its review." } @else { "Approving puts the access in effect for 72 hours." } }
                            button.usa-button type="submit" { @if r.emergency { "Confirm the emergency access" } @else { "Approve the request" } }
                        }
                    }
                    @if r.emergency {
                        form.usa-form method="post" action=(action) {
                            input type="hidden" name="csrf" value=(csrf);
                            fieldset.usa-fieldset {
                                legend.usa-legend { "Review of the emergency access" }
                                div.usa-radio { input.usa-radio__input type="radio" id=(format!("upheld-{i}")) name="decision" value="upheld" required; label.usa-radio__label for=(format!("upheld-{i}")) { "Justified" } }
                                div.usa-radio { input.usa-radio__input type="radio" id=(format!("not-upheld-{i}")) name="decision" value="not-upheld"; label.usa-radio__label for=(format!("not-upheld-{i}")) { "Not justified" } }
                            }
                            (reason_field(&format!("le-reason-{i}"), "Reason (required)"))
                            button.usa-button type="submit" { "Record the review" }
                        }
                    }
                }
            }
        }
    };
    Ok(with_cookie(page("Law-enforcement requests", body), cookie))
}

/// `POST /desk/law-enforcement/{subject}/{number}`: approve, or review an emergency access.
pub async fn law_enforcement_decide(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path((subject, number)): Path<(String, u32)>,
    form: Result<Form<DecisionForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (caller, f) = match staff_form(session, &headers, form) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let Ok(id) = subject.parse::<fairgate_core::ids::SubjectId>() else {
        return Ok(refused(StatusCode::NOT_FOUND, "No such record."));
    };
    let review = match f.decision.as_str() {
        "approve" => None,
        "upheld" => Some(true),
        "not-upheld" => Some(false),
        _ => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, "decision: approve, or justified or not.")),
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let r = blocking(move || {
        Ok(st2
            .registry
            .write(st2.now(), |b| b.decide_law_enforcement(&actor, id, number, review.map(|u| (u, f.reason.as_str())))))
    })
    .await?;
    match r {
        Ok(((), r)) => {
            tracing::info!(subject = %id, number, "law-enforcement request decided (web)");
            let body = html! {
                h1 { "Recorded" }
                div.usa-alert.usa-alert--success.usa-alert--slim role="status" { div.usa-alert__body { p.usa-alert__text { "Recorded at leaf " (r.leaf_index) " of the public log." } } }
                p { a.usa-link href="/desk/law-enforcement" { "Back to the requests" } }
            };
            Ok(page("Recorded", body).into_response())
        }
        Err(e) => registry_refusal(e),
    }
}

crate::desk::csrf_forms!(DecisionForm);
