//! The administrators' desk in the browser: staff accounts (add with a password,
//! disable, rotate a token, shown once), ports and offices (listed, closed for a
//! span or for good, with the bookings moved), and the master key epoch with the
//! backup routine it implies. Every change is a ledger event written by the
//! registry; nobody changes their own account. Programs and expungements are on
//! the pages of `oversight`.

use crate::json::Path;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use fairgate_core::access::Role;
use fairgate_core::policy::{allows, Action};
use maud::html;
use serde::Deserialize;

use crate::auth::{blocking, WebSession};
use crate::desk::{done_page, refused, registry_refusal, staff, staff_form};
use crate::problem::Problem;
use crate::views::page;
use crate::web::{csrf_ok, csrf_refused, csrf_token, with_cookie};
use crate::AppState;

/// The administrator's pages, for the desk's links.
pub(crate) fn links(role: Role) -> Vec<(String, &'static str)> {
    let mut out = vec![];
    if allows(role, Action::ManageUsers) {
        out.push(("/desk/accounts".into(), "Staff accounts"));
    }
    if allows(role, Action::ManagePlaces) {
        out.push(("/desk/places".into(), "Ports and offices"));
        out.push(("/desk/keys".into(), "Key epochs and backups"));
    }
    out
}

/// Administrators only: the others are refused before anything is read.
fn admin_only(role: Role, action: Action) -> Option<Response> {
    (!allows(role, action)).then(|| refused(StatusCode::FORBIDDEN, "Administrators only."))
}

// ---------------------------------------------------------------------------
// Accounts

/// `GET /desk/accounts`.
pub async fn accounts(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    if let Some(r) = admin_only(caller.role, Action::ManageUsers) {
        return Ok(r);
    }
    let (csrf, cookie) = csrf_token(&st, &headers);
    let st2 = st.clone();
    let list = blocking(move || st2.registry.account_statuses().map_err(Problem::from)).await?;
    let body = html! {
        h1 { "Staff accounts" }
        (crate::views::table_filter("accounts", "Filter the accounts"))
        table #accounts .usa-table.usa-table--stacked {
            caption { "Every account; changes are on the public log (as account events)" }
            thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Agency" } th scope="col" { "Status" } th scope="col" { "Token expires" } th scope="col" { "Change" } } }
            tbody {
                @for a in &list {
                    tr {
                        th scope="row" data-label="Name" { (a.account.name) }
                        td data-label="Role" { (a.account.role) }
                        td data-label="Agency" { (a.account.agency) }
                        td data-label="Status" { @match a.disabled { Some(t) => { "disabled " (t.strftime("%Y-%m-%d")) }, None => "active" } }
                        td data-label="Token expires" { @match a.token_expires { Some(t) => (t.strftime("%Y-%m-%d")), None => "-" } }
                        td data-label="Change" {
                            @if a.disabled.is_none() && a.account.user_id != caller.user_id {
                                form method="post" action=(format!("/desk/accounts/{}/rotate", a.account.name)) {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button.usa-button.usa-button--unstyled type="submit" { "New token for " (a.account.name) }
                                }
                                form method="post" action=(format!("/desk/accounts/{}/disable", a.account.name)) {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button.usa-button.usa-button--unstyled type="submit" { "Disable " (a.account.name) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Add an account" }
        form.usa-form method="post" action="/desk/accounts" {
            input type="hidden" name="csrf" value=(csrf);
            label.usa-label for="name" { "User name" }
            input.usa-input #name name="name" required autocomplete="off";
            label.usa-label for="role" { "Role" }
            select.usa-select #role name="role" required {
                @for r in [Role::Officer, Role::Supervisor, Role::Adjudicator, Role::Auditor, Role::Approver, Role::Admin] {
                    option value=(r.as_str()) { (r.as_str()) }
                }
            }
            label.usa-label for="agency" { "Agency" }
            input.usa-input #agency name="agency" required;
            label.usa-label for="password" { "Password for the web (at least 12 characters)" }
            input.usa-input #password name="password" type="password" required autocomplete="new-password";
            button.usa-button type="submit" { "Add the account" }
        }
    };
    Ok(with_cookie(page("Staff accounts", body), cookie))
}

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    password: String,
}

/// `POST /desk/accounts`: a new account; its API token is shown once.
pub async fn add_account(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    form: Result<Form<AccountForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (caller, f) = match staff_form(session, &headers, form) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let Ok(role) = f.role.parse::<Role>() else {
        return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, "role: choose one from the list."));
    };
    let actor = caller.actor();
    let secret = st.random::<64>();
    let st2 = st.clone();
    let name = f.name.trim().to_string();
    let r = crate::limits::hashing(&st, move || {
        Ok(st2.registry.add_user(st2.now(), &actor, &name, role, f.agency.trim(), Some(&f.password), secret))
    })
    .await?;
    match r {
        Ok(a) => {
            tracing::info!(user = %a.account.user_id, "account added (web)");
            Ok(done_page(
                "Account added",
                html! { "Account " strong { (a.account.name) } " (" (a.account.role) "). Its API token, shown only now: " code { (a.token) } },
                "/desk/accounts",
            ))
        }
        Err(e) => registry_refusal(e),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /desk/accounts/{name}/{change}`: disable, or rotate the token (shown once).
pub async fn change_account(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    Path((name, change)): Path<(String, String)>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    if !form.is_ok_and(|Form(f)| csrf_ok(&headers, &f.csrf)) {
        return Ok(csrf_refused());
    }
    let actor = caller.actor();
    let secret = st.random::<32>();
    let st2 = st.clone();
    let n2 = name.clone();
    let c2 = change.clone();
    let r = blocking(move || {
        Ok(match c2.as_str() {
            "disable" => st2.registry.disable_user(st2.now(), &actor, &n2).map(|()| None),
            "rotate" => st2.registry.rotate_token(st2.now(), &actor, &n2, 90, secret).map(Some),
            _ => Err(fairgate_core::Invalid::one("change", "is disable or rotate").into()),
        })
    })
    .await?;
    match r {
        Ok(token) => {
            tracing::info!(change = %change, "account changed (web)");
            Ok(done_page(
                "Account changed",
                html! {
                    @match token {
                        Some(t) => { "A new API token for " strong { (name) } " (good for 90 days), shown only now: " code { (t) } ". The old one no longer works." }
                        None => { strong { (name) } " is disabled: its sessions and token reach nothing." }
                    }
                },
                "/desk/accounts",
            ))
        }
        Err(e) => registry_refusal(e),
    }
}

// ---------------------------------------------------------------------------
// Places

#[derive(Deserialize, Default)]
pub struct PlacesQuery {
    /// The code of a place to change: its description fills the form.
    #[serde(default)]
    edit: String,
}

/// `GET /desk/places?edit=CODE`: every port and office, the form that adds or
/// changes one (its whole description, as `POST /places` takes it), and the form
/// that closes one.
pub async fn places(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    axum::extract::Query(q): axum::extract::Query<PlacesQuery>,
) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    if let Some(r) = admin_only(caller.role, Action::ManagePlaces) {
        return Ok(r);
    }
    let (csrf, cookie) = csrf_token(&st, &headers);
    let st2 = st.clone();
    let list = blocking(move || st2.registry.place_list().map_err(Problem::from)).await?;
    let editing = list.iter().find(|p| p.code == q.edit.trim());
    let description = match editing {
        Some(p) => serde_json::to_string_pretty(&fairgate_core::place::PlaceInput::of(p)).unwrap_or_default(),
        None => serde_json::to_string_pretty(&serde_json::json!({
            "code": "", "name": "", "kind": "office", "zone": "America/New_York", "address": "",
            "service_area": [], "hours": {"mon": "08:00-16:00"}, "holidays": [], "desks": 1,
            "minutes": {"registration": 20, "interview": 30, "re_registration": 15}
        }))
        .unwrap_or_default(),
    };
    let body = html! {
        h1 { "Ports and offices" }
        p { "Closing a place moves the bookings on the days it is closed to the nearest open office, and the people are told. Every change is a ledger event." }
        (crate::views::table_filter("places", "Filter the places"))
        table #places .usa-table.usa-table--borderless {
            caption { "Places" }
            thead { tr { th scope="col" { "Code" } th scope="col" { "Name" } th scope="col" { "Kind" } th scope="col" { "Time zone" } th scope="col" { "Desks" } th scope="col" { "Closures" } th scope="col" { "Change" } } }
            tbody {
                @for p in &list {
                    tr {
                        th scope="row" { (p.code) }
                        td { (p.name) }
                        td { (format!("{:?}", p.kind).to_lowercase()) }
                        td { (p.zone) }
                        td { (p.desks) }
                        td { @for c in &p.closures { (c.from) @if let Some(u) = c.until { " to " (u) } @else { " for good" } ": " (c.reason) br; } }
                        td { a.usa-link href=(format!("/desk/places?edit={}#describe", p.code)) { "Change " (p.code) } }
                    }
                }
            }
        }
        h2 #describe { @if let Some(p) = editing { "Change " (p.code) } @else { "Add a place" } }
        form.usa-form.usa-form--large method="post" action="/desk/places" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="edit" value=(if editing.is_some() { "yes" } else { "" });
            label.usa-label for="description" { "The place's description (JSON, as docs/offices.md gives it)" }
            span.usa-hint #description-hint { "An office needs its address, service area (postal-code prefixes), hours by weekday, desks and minutes per service; a port needs none of them." }
            textarea.usa-textarea.fairgate-mrz #description name="description" rows="16" required spellcheck="false" aria-describedby="description-hint" { (description) }
            button.usa-button type="submit" { @if editing.is_some() { "Save the change" } @else { "Add the place" } }
        }
        h2 { "Close a place" }
        form.usa-form method="post" action="/desk/places/close" {
            input type="hidden" name="csrf" value=(csrf);
            label.usa-label for="code" { "Place" }
            select.usa-select #code name="code" required {
                option value="" { "- Select -" }
                @for p in &list { option value=(p.code) { (p.code) " · " (p.name) } }
            }
            label.usa-label for="from" { "First day closed" }
            input.usa-input #from name="from" type="date" required;
            label.usa-label for="until" { "Last day closed (empty: for good)" }
            input.usa-input #until name="until" type="date";
            label.usa-label for="reason" { "Reason (published)" }
            input.usa-input #reason name="reason" required;
            button.usa-button type="submit" { "Close it" }
        }
    };
    Ok(with_cookie(page("Ports and offices", body), cookie))
}

#[derive(Deserialize)]
pub struct PlaceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    edit: String,
    #[serde(default)]
    description: String,
}

/// `POST /desk/places`: add a place, or change one, from its description.
pub async fn set_place(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    form: Result<Form<PlaceForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (caller, f) = match staff_form(session, &headers, form) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let input: fairgate_core::place::PlaceInput = match serde_json::from_str(&f.description) {
        Ok(i) => i,
        Err(e) => {
            return Ok(refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("description: not a place's description ({e}): see docs/offices.md"),
            ))
        }
    };
    let edit = f.edit == "yes";
    let actor = caller.actor();
    let st2 = st.clone();
    let code = input.code.clone();
    let r = blocking(move || Ok(st2.registry.set_place(st2.now(), &actor, &input, edit))).await?;
    match r {
        Ok(r) => {
            tracing::info!(place = %code, edit, "place set (web)");
            Ok(done_page(
                if edit { "Place changed" } else { "Place added" },
                html! { (code) ", recorded at leaf " (r.leaf_index) "." },
                "/desk/places",
            ))
        }
        Err(e) => registry_refusal(e),
    }
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
}

/// `POST /desk/places/close`.
pub async fn close_place(
    State(st): State<AppState>,
    headers: HeaderMap,
    session: WebSession,
    form: Result<Form<CloseForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (caller, f) = match staff_form(session, &headers, form) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let input = fairgate_core::place::ClosureInput {
        from: f.from,
        until: Some(f.until).filter(|u| !u.trim().is_empty()),
        reason: f.reason,
    };
    let actor = caller.actor();
    let st2 = st.clone();
    let code = f.code.clone();
    let r = blocking(move || Ok(st2.registry.close_place(st2.now(), &actor, &code, &input))).await?;
    match r {
        Ok(c) => {
            tracing::info!(place = %f.code, moved = c.moved, "place closed (web)");
            Ok(done_page(
                "Closed",
                html! { (f.code) " is closed; " (c.moved) " bookings moved. Recorded at leaf " (c.receipt.leaf_index) "." },
                "/desk/places",
            ))
        }
        Err(e) => registry_refusal(e),
    }
}

// ---------------------------------------------------------------------------
// Keys and backups

/// `GET /desk/keys`: the master key epoch in force, whether a rotation is due, and
/// the backup routine (the commands run on the server, beside the key store).
pub async fn keys(State(st): State<AppState>, session: WebSession) -> Result<Response, Problem> {
    let caller = match staff(session) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    if let Some(r) = admin_only(caller.role, Action::ManagePlaces) {
        return Ok(r);
    }
    let st2 = st.clone();
    let (started, due, completions) = blocking(move || {
        let now = st2.now();
        Ok((
            st2.registry.master_epoch_started().map_err(Problem::from)?,
            st2.registry.rotation_due(now).map_err(Problem::from)?,
            st2.registry.erasure_completions().map_err(Problem::from)?,
        ))
    })
    .await?;
    let body = html! {
        h1 { "Key epochs and backups" }
        dl {
            dt { "The master key epoch in force began" } dd { @match started { Some(t) => (t.strftime("%Y-%m-%d %H:%M UTC")), None => "(empty ledger)" } }
            dt { "Rotation" } dd { @if due { strong { "due now" } ": " code { "fairgate keys rotate" } " (serve also rotates on its schedule, " code { "--rotate-days" } ")" } @else { "not due" } }
            dt { "Epochs destroyed, completing erasures in backups" } dd { (completions.len()) }
        }
        h2 { "Backups" }
        p { "A backup is taken while serve runs, and never holds key material: " code { "fairgate backup --to DIR" } ". A backup becomes unreadable as a whole once its epoch is destroyed by a rotation, which is what makes an erasure reach it: take a backup again after each rotation. Restore into an empty data directory with " code { "fairgate restore --from DIR" } " (docs/privacy.md)." }
        h2 { "Erasures completed in backups" }
        @if completions.is_empty() { p { "None yet." } }
        ul.usa-list { @for (at, certs) in &completions { li { (at.strftime("%Y-%m-%d")) ": " (certs.len()) " certificates complete" } } }
    };
    Ok(page("Key epochs and backups", body).into_response())
}

crate::desk::csrf_forms!(AccountForm, PlaceForm, CloseForm);
