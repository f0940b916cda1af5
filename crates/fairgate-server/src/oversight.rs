//! The auditors' and administrators' program and oversight pages in the browser:
//! every program with its impact analysis, capacity plan, file and decisions, and
//! the decision each role may take on it (an auditor signs off a draft after reading
//! them; an administrator drafts, activates and repeals); the designation
//! statistics with their flags; the search of the access log by member of staff,
//! purpose and day (itself logged on each person found); and expungements (an
//! auditor approves, an administrator carries out, each citing a listed authority).

use crate::json::Path;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use fairgate_core::access::{Purpose, Role};
use fairgate_core::policy::{allows, Action};
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{blocking, WebSession};
use crate::desk::{done_page, refused, registry_refusal, staff, staff_form};
use crate::problem::Problem;
use crate::views::page;
use crate::web::{csrf_token, with_cookie};
use crate::AppState;

/// The oversight pages a role may open, for the desk's links.
pub(crate) fn links(role: Role) -> Vec<(String, &'static str)> {
    let mut out = vec![];
    if [Action::ProgramSignOff, Action::ProgramDraft, Action::ProgramActivate].iter().any(|a| allows(role, *a)) {
        out.push(("/desk/programs".into(), "Programs: impact analyses, capacity plans and decisions"));
    }
    if allows(role, Action::DesignationStatistics) {
        out.push(("/desk/designations".into(), "Designation statistics"));
    }
    if !crate::desk::purposes(role, fairgate_core::policy::Read::AccessLog).is_empty() {
        out.push(("/desk/access-log".into(), "Search the access log"));
    }
    if allows(role, Action::ApproveExpungement) || allows(role, Action::Expunge) {
        out.push(("/desk/expungements".into(), "Expungements"));
    }
    out
}

// ---------------------------------------------------------------------------
// Programs

/// `GET /desk/programs`: every version of every program, with its state.
pub async fn programs(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let (csrf, cookie) = csrf_token(&st, &headers);
    let st2 = st.clone();
    let views = blocking(move || {
        let book = st2.registry.program_book().map_err(Problem::from)?;
        Ok(crate::programs::all_views(&st2, &book))
    })
    .await?;
    let body = html! {
        h1 { "Programs" }
        (crate::views::table_filter("programs", "Filter the programs"))
        table #programs .usa-table.usa-table--stacked {
            caption { "Every version; open one to read its impact analysis and capacity plan" }
            thead { tr { th scope="col" { "Program" } th scope="col" { "Version" } th scope="col" { "Status" } th scope="col" { "Impact analysis" } th scope="col" { "Sign-offs" } } }
            tbody {
                @for v in &views {
                    tr {
                        th scope="row" data-label="Program" { a.usa-link href=(format!("/desk/programs/{}", v.id)) { (v.title) } br; code { (v.id) } }
                        td data-label="Version" { (v.version) }
                        td data-label="Status" { (v.status) }
                        td data-label="Impact analysis" { @match v.impact_flagged { Some(true) => strong { "flagged" }, Some(false) => "cleared", None => "none" } }
                        td data-label="Sign-offs" { (v.sign_offs.len()) }
                    }
                }
            }
        }
        @if allows(caller.role, Action::ProgramDraft) {
            h2 { "Draft a program, or amend one" }
            form.usa-form.usa-form--large method="post" action="/desk/programs" {
                input type="hidden" name="csrf" value=(csrf);
                label.usa-label for="source" { "The program file (TOML, docs/programs.md)" }
                textarea.usa-textarea.fairgate-mrz #source name="source" rows="14" required spellcheck="false" {}
                label.usa-label for="population" { "The population to analyse it over (JSON: a list of people)" }
                span.usa-hint #population-hint { "Each with nationality, sex, birth date and the attributes the program selects by: the impact analysis needs it." }
                textarea.usa-textarea #population name="population" rows="6" required spellcheck="false" aria-describedby="population-hint" {}
                button.usa-button type="submit" { "Draft it" }
            }
        }
    };
    Ok(with_cookie(page("Programs", body), cookie))
}

fn impact_table(i: &fairgate_core::program::impact::Impact) -> Markup {
    html! {
        p { "Over " (i.population) " people on " (i.on) ": " (i.selected) " selected (" (format!("{:.1}", i.rate * 100.0)) " %). "
            @if i.flagged { strong { "Flagged: a group is selected far more or less than the rest." } } @else { "No group stands out." } }
        table.usa-table.usa-table--borderless.usa-table--compact {
            caption { "Selection by group" }
            thead { tr { th scope="col" { "Attribute" } th scope="col" { "Group" } th scope="col" { "People" } th scope="col" { "Selected" } th scope="col" { "Ratio to the rest" } th scope="col" { "Flagged" } } }
            tbody {
                @for g in &i.groups {
                    tr {
                        th scope="row" { (g.attribute) }
                        td { (g.value) }
                        td { (g.population) }
                        td { (g.selected) }
                        td { @match g.ratio_to_rest { Some(r) => (format!("{r:.2}")), None => "-" } }
                        td { @if g.flagged { strong { "yes" } } @else if let Some(w) = &g.not_flagged_because { (w) } @else { "no" } }
                    }
                }
            }
        }
        @if i.groups_not_shown > 0 { p { (i.groups_not_shown) " groups under " (i.min_group_shown) " people are not shown." } }
    }
}

fn plan_summary(p: &fairgate_core::plan::PlanSummary) -> Markup {
    html! {
        @if p.feasible {
            p { "The offices can serve all " (p.people) " people within " (p.within_days) " days." }
        } @else {
            p { strong { "Not feasible:" } " " (p.people) " people within " (p.within_days) " days; " (p.unassigned) " could not be given a slot in time." }
            @if let Some(d) = p.fitting_within_days { p { "A deadline of " (d) " days would fit; a phased schedule needs " (p.phased_cohorts) " cohorts." } }
            @if !p.shortfalls.is_empty() {
                ul.usa-list { @for (office, day, n) in p.shortfalls.iter().take(10) { li { (office) " on " (day) ": " (n) " short" } } }
            }
        }
    }
}

/// `GET /desk/programs/{id}`: the versions, each with its impact analysis, plan,
/// file and decisions; the forms the role may use.
pub async fn program(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let (csrf, cookie) = csrf_token(&st, &headers);
    let st2 = st.clone();
    let id2 = id.clone();
    let found = blocking(move || {
        let book = st2.registry.program_book().map_err(Problem::from)?;
        Ok(book.get(&id2).cloned().map(|rec| (crate::programs::all_views(&st2, &book), rec)))
    })
    .await?;
    let Some((views, rec)) = found else { return Ok(refused(StatusCode::NOT_FOUND, "No such program.")) };
    let views: Vec<_> = views.into_iter().filter(|v| v.id == id).collect();
    let body = html! {
        @for (v, version) in views.iter().zip(rec.versions.iter()).rev() {
            h1 { (v.title) ", version " (v.version) }
            p { "Status: " strong { (v.status) } ". In force " (v.starts) " to " (v.sunset) ". Legal basis: " (v.legal_basis) "." }
            h2 { "Impact analysis" }
            @match &version.impact {
                Some(i) => (impact_table(i)),
                None => p { "None recorded (a program from before drafts)." },
            }
            h2 { "Capacity plan" }
            @match &version.plan { Some(p) => (plan_summary(p)), None => p { "No office registration with a deadline: nothing to plan." } }
            h2 { "Decisions" }
            @if v.sign_offs.is_empty() && v.repealed.is_none() { p { "None yet." } }
            ul.usa-list {
                @for d in &v.sign_offs { li { "Signed off by " (d.by) " (" (d.role) ", " (d.agency) ") on " (d.at) ": " (d.reason) } }
                @if let Some(d) = &v.repealed { li { "Repealed by " (d.by) " on " (d.at) ": " (d.reason) } }
            }
            details {
                summary { "The program file" }
                pre { @if let Some(s) = &version.source { (s) } }
            }
            @if v.status == "draft" && allows(caller.role, Action::ProgramSignOff) {
                h2 { "Sign off this draft" }
                form.usa-form method="post" action=(format!("/desk/programs/{id}/sign-off")) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="version" value=(v.version);
                    div.usa-checkbox {
                        input.usa-checkbox__input #read-it type="checkbox" name="read" value="yes" required;
                        label.usa-checkbox__label for="read-it" { "I have read the impact analysis and the capacity plan above" }
                    }
                    label.usa-label for="reason" { "Reasons (published with the sign-off)" }
                    textarea.usa-textarea #reason name="reason" rows="3" required {}
                    button.usa-button type="submit" { "Sign off" }
                }
            }
            @if v.status == "draft" && allows(caller.role, Action::ProgramActivate) {
                form.usa-form method="post" action=(format!("/desk/programs/{id}/activate")) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="version" value=(v.version);
                    button.usa-button type="submit" { "Put version " (v.version) " in force" }
                }
            }
        }
        @if rec.repealed.is_none() && allows(caller.role, Action::ProgramRepeal) {
            h2 { "Repeal" }
            form.usa-form method="post" action=(format!("/desk/programs/{id}/repeal")) {
                input type="hidden" name="csrf" value=(csrf);
                label.usa-label for="repeal-reason" { "Reasons (published)" }
                textarea.usa-textarea #repeal-reason name="reason" rows="3" required {}
                button.usa-button.usa-button--secondary type="submit" { "Repeal the program" }
            }
        }
        p { a.usa-link href="/desk/programs" { "Every program" } }
    };
    Ok(with_cookie(page("Program", body), cookie))
}

#[derive(Deserialize)]
pub struct ProgramForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    read: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    population: String,
}

/// `POST /desk/programs`: an administrator drafts a program over a population.
pub async fn draft(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    form: Result<Form<ProgramForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (caller, f) = match staff_form(session, &headers, form) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let people: Vec<fairgate_core::program::impact::Person> = match serde_json::from_str(&f.population) {
        Ok(p) => p,
        Err(e) => {
            return Ok(refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("population: not a JSON list of people ({e})"),
            ))
        }
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let r = blocking(move || Ok(st2.registry.add_program(st2.now(), &actor, &f.source, Some(&people)))).await?;
    match r {
        Ok((added, r)) => {
            tracing::info!(program = %added.id, version = added.version, leaf = r.leaf_index, "program drafted (web)");
            let back = format!("/desk/programs/{}", added.id);
            Ok(done_page(
                "Drafted",
                html! { "Version " (added.version) " of " code { (added.id) } " drafted at leaf " (r.leaf_index) ", with its impact analysis." },
                &back,
            ))
        }
        Err(e) => registry_refusal(e),
    }
}

/// `POST /desk/programs/{id}/{step}`: sign-off (auditors), activate or repeal (administrators).
pub async fn step(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path((id, step)): Path<(String, String)>,
    form: Result<Form<ProgramForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (caller, f) = match staff_form(session, &headers, form) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let version = f.version.trim().parse::<u32>().ok();
    if step == "sign-off" && f.read != "yes" {
        return Ok(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "read: confirm that you read the impact analysis and the capacity plan before signing off.",
        ));
    }
    let actor = caller.actor();
    let st2 = st.clone();
    let (id2, step2) = (id.clone(), step.clone());
    let r = blocking(move || {
        Ok(st2.registry.write(st2.now(), |b| match step2.as_str() {
            "sign-off" => b.sign_off_program(&actor, &id2, version, &f.reason).map(|_| ()),
            "activate" => b.activate_program(&actor, &id2, version).map(|_| ()),
            "repeal" => b.repeal_program(&actor, &id2, &f.reason).map(|_| ()),
            _ => Err(fairgate_core::Invalid::one("step", "is sign-off, activate or repeal").into()),
        }))
    })
    .await?;
    match r {
        Ok(((), r)) => {
            tracing::info!(program = %id, step = %step, leaf = r.leaf_index, "program decision (web)");
            Ok(done_page(
                "Recorded",
                html! { "Recorded at leaf " (r.leaf_index) "; it is public." },
                &format!("/desk/programs/{id}"),
            ))
        }
        Err(e) => registry_refusal(e),
    }
}

// ---------------------------------------------------------------------------
// Designation statistics

/// `GET /desk/designations`: designation rates by officer and by place, by group,
/// with the flags.
pub async fn designations(State(st): State<AppState>, session: WebSession) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let stats = blocking(move || Ok(st2.registry.designation_stats_at_once(&actor))).await?;
    let (stats, age) = match stats {
        Ok(s) => s,
        Err(e) => return registry_refusal(e),
    };
    if age.is_some() {
        // Out of date: shown at once, and worked out again in the background.
        let st3 = st.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = st3.registry.refresh_designation_stats() {
                tracing::error!(error = %e, "designation statistics not worked out");
            }
        });
    }
    let names = st.registry.account_names().unwrap_or_default();
    let name = |id: &str| names.iter().find(|(i, _)| i == id).map_or(id.to_string(), |(_, n)| n.clone());
    let table = |title: &str, units: &[fairgate_core::designation::UnitStats], officers: bool| {
        html! {
            table.usa-table.usa-table--borderless {
                caption { (title) }
                thead { tr { th scope="col" { "Who or where" } th scope="col" { "Encountered" } th scope="col" { "Designated" } th scope="col" { "Rate" } th scope="col" { "Flagged" } } }
                tbody {
                    @for u in units {
                        tr {
                            th scope="row" { @if officers { (name(&u.unit)) } @else { (u.unit) } }
                            td { (u.encountered) } td { (u.designated) } td { (format!("{:.1} %", u.rate * 100.0)) }
                            td { @if u.flagged { strong { "yes: " } @for g in u.groups.iter().filter(|g| g.flagged) { (g.attribute) " " (g.value) "; " } } @else { "no" } }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        h1 { "Designation statistics" }
        @if let Some(a) = age {
            p.text-base-dark { "Worked out " (a.as_secs() / 60) " minutes ago; records made since are being counted now: reload in a moment." }
        }
        p { @if stats.flagged { strong { "Flagged:" } " someone designates one group far more than the rest." } @else { "Nothing is flagged." } }
        (table("By officer", &stats.officers, true))
        (table("By place", &stats.places, false))
    };
    Ok(page("Designation statistics", body).into_response())
}

// ---------------------------------------------------------------------------
// The access log

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    staff: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// `GET /desk/access-log?staff=&purpose=&from=&to=`: the search form, and with a
/// span the reads found (the search logged on each person found).
pub async fn access_log(
    State(st): State<AppState>,
    session: WebSession,
    Query(q): Query<SearchQuery>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let names = st.registry.account_names().unwrap_or_default();
    let today = st.today();
    let form = html! {
        form.usa-form method="get" action="/desk/access-log" {
            label.usa-label for="staff" { "Member of staff" }
            select.usa-select #staff name="staff" {
                option value="" { "- Everyone -" }
                @for (id, n) in &names { option value=(id) selected[*id == q.staff] { (n) } }
            }
            label.usa-label for="purpose" { "Purpose" }
            select.usa-select #purpose name="purpose" {
                option value="" { "- Every purpose -" }
                @for p in Purpose::ALL { option value=(p.as_str()) selected[p.as_str() == q.purpose] { (p.as_str()) } }
            }
            label.usa-label for="from" { "From (YYYY-MM-DD)" }
            input.usa-input #from name="from" type="date" required value=(if q.from.is_empty() { today.to_string() } else { q.from.clone() });
            label.usa-label for="to" { "To (inclusive, at most 31 days on)" }
            input.usa-input #to name="to" type="date" required value=(if q.to.is_empty() { today.to_string() } else { q.to.clone() });
            button.usa-button type="submit" { "Search" }
        }
    };
    if q.from.is_empty() {
        let body = html! {
            h1 { "Search the access log" }
            p { "Who read whose records, why and when. The search is itself a read: it is logged on the record of every person it finds, for oversight audit." }
            (form)
        };
        return Ok(page("Access log", body).into_response());
    }
    let (Ok(from), Ok(to)) = (q.from.parse::<jiff::civil::Date>(), q.to.parse::<jiff::civil::Date>()) else {
        return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, "from, to: give the days as YYYY-MM-DD."));
    };
    let purpose = match q.purpose.as_str() {
        "" => None,
        p => match p.parse::<Purpose>() {
            Ok(p) => Some(p),
            Err(e) => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, &format!("purpose: {e}"))),
        },
    };
    let search = fairgate_store::registry::oversight::AccessSearch {
        staff: Some(q.staff.clone()).filter(|s| !s.is_empty()),
        purpose,
        from,
        to,
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let found =
        blocking(move || Ok(st2.registry.search_access_log(st2.now(), &actor, &search, "web /desk/access-log")))
            .await?;
    let (hits, more) = match found {
        Ok(x) => x,
        Err(e) => return registry_refusal(e),
    };
    let name = |id: &str| names.iter().find(|(i, _)| i == id).map_or(id.to_string(), |(_, n)| n.clone());
    let body = html! {
        h1 { "Search the access log" }
        (form)
        h2 { (hits.len()) @if more { "+" } " reads found" }
        p.text-base-dark { "This search was logged on the record of each person below." }
        @if more { p { strong { "More than " (hits.len()) " reads: narrow the search." } } }
        @if !hits.is_empty() {
            (crate::views::table_filter("reads", "Filter the reads found"))
            table #reads .usa-table.usa-table--borderless.usa-table--compact {
                caption { "Reads, oldest first" }
                thead { tr { th scope="col" { "When (UTC)" } th scope="col" { "Who" } th scope="col" { "Purpose" } th scope="col" { "Record" } th scope="col" { "What" } th scope="col" { "Leaf" } } }
                tbody {
                    @for h in &hits {
                        tr {
                            th scope="row" { (h.at.strftime("%Y-%m-%d %H:%M")) }
                            td { (name(&h.actor.id)) " (" (h.actor.role) ", " (h.actor.agency) ")" }
                            td { (h.purpose.as_str()) }
                            td { code { (h.subject.to_string()[..8]) "…" } }
                            td { (h.fields.join(", ")) br; small { (h.request) } }
                            td { (h.leaf_index) }
                        }
                    }
                }
            }
        }
    };
    Ok(page("Access log", body).into_response())
}

// ---------------------------------------------------------------------------
// Expungements

/// `GET /desk/expungements`: approve (auditors) or carry out (administrators) the
/// expungement of a person, citing a listed authority.
pub async fn expungements(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let (csrf, cookie) = csrf_token(&st, &headers);
    let authorities = st.registry.authorities().unwrap_or_default();
    let approves = allows(caller.role, Action::ApproveExpungement);
    let body = html! {
        h1 { "Expungements" }
        p { "An auditor approves, citing an authority on the public list; an administrator (someone else) carries it out within the approval's time. The certificate is public: " a.usa-link href="/public/expungements" { "the certificates" } "." }
        form.usa-form method="post" action="/desk/expungements" {
            input type="hidden" name="csrf" value=(csrf);
            label.usa-label for="subject" { "The person's record id" }
            input.usa-input #subject name="subject" required autocomplete="off" spellcheck="false";
            label.usa-label for="authority" { "Authority" }
            select.usa-select #authority name="authority" required {
                option value="" { "- Select -" }
                @for a in &authorities { option value=(a.id) { (a.name) " (" (a.reference) ")" } }
            }
            label.usa-label for="reason" { "Reason (sealed in the ledger, not published)" }
            textarea.usa-textarea #reason name="reason" rows="3" required {}
            button.usa-button type="submit" { @if approves { "Approve the expungement" } @else { "Carry out the expungement" } }
        }
    };
    Ok(with_cookie(page("Expungements", body), cookie))
}

#[derive(Deserialize)]
pub struct ExpungeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    authority: String,
    #[serde(default)]
    reason: String,
}

/// `POST /desk/expungements`.
pub async fn expunge(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    form: Result<Form<ExpungeForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (caller, f) = match staff_form(session, &headers, form) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let Ok(id) = f.subject.trim().parse::<fairgate_core::ids::SubjectId>() else {
        return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, "subject: the record id is 32 hexadecimal digits."));
    };
    let input = fairgate_core::expungement::ExpungementInput { authority: f.authority, reason: f.reason };
    let actor = caller.actor();
    let approve = allows(caller.role, Action::ApproveExpungement);
    let st2 = st.clone();
    let r = blocking(move || {
        Ok(if approve {
            st2.registry.approve_expungement(st2.now(), &actor, id, &input).map(|r| r.leaf_index)
        } else {
            st2.registry.expunge_subject(st2.now(), &actor, id, &input).map(|c| c.body.leaf_index)
        })
    })
    .await?;
    match r {
        Ok(leaf) => {
            tracing::info!(subject = %id, approve, leaf, "expungement step (web)");
            let what = if approve { "Approved" } else { "Expunged" };
            Ok(done_page(what, html! { (what) " at leaf " (leaf) " of the public log." }, "/desk/expungements"))
        }
        Err(e) => registry_refusal(e),
    }
}

crate::desk::csrf_forms!(ProgramForm, ExpungeForm);
