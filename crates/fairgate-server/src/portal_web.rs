//! The registrant's portal in the browser (the receipt sends people to `/portal`),
//! in English, Spanish and Arabic (right to left): activate with the receipt's
//! code, sign in with one's own passphrase, see every record held and everyone who
//! looked at it and why, what one must do (notices) with the appointment to book or
//! move, corrections asked for and answered, changes reported, and everything to
//! download. The session is a cookie for `/portal` only; the language is chosen on
//! the page (`?lang=`) and kept in a cookie. The registry decides and logs, as for
//! the API (`portal`). Staff credentials never open it.

use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use fairgate_core::access::Purpose;
use maud::{html, Markup};
use serde::Deserialize;

use fairgate_core::i18n::{text, Language};

use crate::auth::blocking;
use crate::problem::Problem;
use crate::views::page_in;
use crate::web::{csrf_ok, csrf_refused, csrf_token, with_cookie};
use crate::AppState;

/// The cookie that carries a portal session (its path is `/portal`).
pub const PORTAL_COOKIE: &str = "fairgate_portal";

/// The cookie that keeps the portal's language.
pub const LANG_COOKIE: &str = "fairgate_lang";

#[derive(Deserialize, Default)]
pub struct LangQuery {
    #[serde(default)]
    lang: String,
}

/// The page's language: asked for in the query (then kept in a cookie), kept in
/// the cookie, or the browser's first choice; English otherwise.
fn language(st: &AppState, headers: &HeaderMap, asked: &str) -> (Language, Option<HeaderValue>) {
    if let Some(l) = Language::parse(asked) {
        let secure = if st.secure_cookies { "; Secure" } else { "" };
        let c = HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={}; SameSite=Strict; Path=/portal; Max-Age=31536000{secure}",
            l.tag()
        ))
        .ok();
        return (l, c);
    }
    if let Some(l) = crate::auth::cookie(headers, LANG_COOKIE).and_then(|c| Language::parse(&c)) {
        return (l, None);
    }
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    (accept.split(',').next().and_then(Language::parse).unwrap_or_default(), None)
}

/// The switch between the three languages, each named in itself.
fn switcher(lang: Language, here: &str) -> Markup {
    html! {
        nav.margin-bottom-2 aria-label=(text(lang, "web-language", &[])) {
            ul.usa-list.usa-list--unstyled.display-flex {
                @for (l, name) in [(Language::En, "English"), (Language::Es, "Español"), (Language::Ar, "العربية")] {
                    li.margin-right-2.margin-left-2 {
                        @if l == lang { strong lang=(l.tag()) { (name) } }
                        @else { a.usa-link href=(format!("{here}?lang={}", l.tag())) lang=(l.tag()) hreflang=(l.tag()) { (name) } }
                    }
                }
            }
        }
    }
}

fn alert(kind: &str, message: &str) -> Markup {
    html! {
        div class=(format!("usa-alert usa-alert--{kind} usa-alert--slim")) role=(if kind == "error" { "alert" } else { "status" }) {
            div.usa-alert__body { p.usa-alert__text { (message) } }
        }
    }
}

fn forms(lang: Language, csrf: &str, error: Option<&str>) -> Markup {
    let t = |id: &str| text(lang, id, &[]);
    page_in(
        lang,
        &t("portal-records-title"),
        html! {
            (switcher(lang, "/portal"))
            h1 { (t("portal-records-title")) }
            p.usa-intro { (t("web-intro")) }
            @if let Some(e) = error { (alert("error", e)) }
            div.grid-row.grid-gap {
                div.tablet:grid-col-6 {
                    h2 { (t("web-activate-heading")) }
                    form.usa-form method="post" action="/portal/web/activate" {
                        input type="hidden" name="csrf" value=(csrf);
                        label.usa-label for="a-number" { (t("web-number")) }
                        input.usa-input #a-number name="registration_number" required autocomplete="off" dir="ltr";
                        label.usa-label for="a-code" { (t("web-code")) }
                        input.usa-input #a-code name="access_code" required autocomplete="off" dir="ltr";
                        label.usa-label for="a-pass" { (t("web-choose-pass")) }
                        span.usa-hint #a-pass-hint { (t("web-pass-hint")) }
                        input.usa-input #a-pass name="passphrase" type="password" required autocomplete="new-password" aria-describedby="a-pass-hint";
                        button.usa-button type="submit" { (t("web-activate")) }
                    }
                }
                div.tablet:grid-col-6 {
                    h2 { (t("web-signin-heading")) }
                    form.usa-form method="post" action="/portal/web/login" {
                        input type="hidden" name="csrf" value=(csrf);
                        label.usa-label for="l-number" { (t("web-number")) }
                        input.usa-input #l-number name="registration_number" required autocomplete="username" dir="ltr";
                        label.usa-label for="l-pass" { (t("web-pass")) }
                        input.usa-input #l-pass name="passphrase" type="password" required autocomplete="current-password";
                        button.usa-button type="submit" { (t("web-signin")) }
                    }
                }
            }
        },
    )
}

fn session_cookie(st: &AppState, token: &str, max_age: i64) -> HeaderValue {
    let secure = if st.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{PORTAL_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/portal; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The signed-in person, from the portal cookie.
async fn person(st: &AppState, headers: &HeaderMap) -> Result<Option<fairgate_core::ids::SubjectId>, Problem> {
    let Some(token) = crate::auth::cookie(headers, PORTAL_COOKIE).filter(|t| t.starts_with("fgp_")) else {
        return Ok(None);
    };
    let st = st.clone();
    blocking(move || st.registry.portal_subject(st.now(), &token).map_err(|_| Problem::internal())).await
}

/// `GET /portal?lang=…`: the forms, or the records when signed in.
pub async fn portal(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, Problem> {
    let (lang, lang_cookie) = language(&st, &headers, &q.lang);
    if person(&st, &headers).await?.is_some() {
        return Ok(with_cookie(Redirect::to("/portal/me").into_response(), lang_cookie));
    }
    let (csrf, cookie) = csrf_token(&st, &headers);
    Ok(with_cookie(with_cookie(forms(lang, &csrf, None), cookie), lang_cookie))
}

#[derive(Deserialize)]
pub struct ActivateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    registration_number: String,
    #[serde(default)]
    access_code: String,
    #[serde(default)]
    passphrase: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    registration_number: String,
    #[serde(default)]
    passphrase: String,
}

fn again(lang: Language, csrf: &str, status: StatusCode, message: &str) -> Response {
    (status, forms(lang, csrf, Some(message))).into_response()
}

fn signed_in(st: &AppState, token: &str) -> Response {
    let mut resp = Redirect::to("/portal/me").into_response();
    resp.headers_mut().insert(header::SET_COOKIE, session_cookie(st, token, 3600));
    resp
}

/// What every portal form passes first: its token, then the attempt limits (which
/// also refuse staff credentials). The refusal is the page to answer with.
fn admit_form(
    lang: Language,
    st: &AppState,
    headers: &HeaderMap,
    addr: crate::limits::ClientAddr,
    csrf: &str,
    sent: &str,
    number: &str,
) -> Result<([crate::limits::Key; 2], jiff::Timestamp), Box<Response>> {
    if !csrf_ok(headers, sent) {
        return Err(Box::new(csrf_refused()));
    }
    crate::portal::admit_attempt(st, headers, addr, number).map_err(|p| {
        Box::new(again(lang, csrf, StatusCode::from_u16(p.status).unwrap_or(StatusCode::FORBIDDEN), &p.detail))
    })
}

/// `POST /portal/web/activate`.
pub async fn activate(
    State(st): State<AppState>,
    headers: HeaderMap,
    addr: crate::limits::ClientAddr,
    form: Result<Form<ActivateForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (csrf, _) = csrf_token(&st, &headers);
    let (lang, _) = language(&st, &headers, "");
    let t = |id: &str| text(lang, id, &[]);
    let Ok(Form(f)) = form else { return Ok(again(lang, &csrf, StatusCode::BAD_REQUEST, &t("web-again"))) };
    let (keys, now) = match admit_form(lang, &st, &headers, addr, &csrf, &f.csrf, &f.registration_number) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let st2 = st.clone();
    let secret = st.random::<48>();
    let outcome = crate::limits::hashing(&st, move || {
        Ok(st2.registry.activate_portal(st2.now(), &f.registration_number, &f.access_code, &f.passphrase, secret))
    })
    .await?;
    use fairgate_store::registry::portal::ActivationRefused as R;
    match outcome {
        Ok(Ok(session)) => {
            st.limits.succeeded(&keys);
            tracing::info!("portal activated (web)");
            Ok(signed_in(&st, &session.token))
        }
        Ok(Err(R::Wrong)) => {
            st.limits.failed(&keys, now);
            Ok(again(lang, &csrf, StatusCode::UNAUTHORIZED, &t("web-wrong-code")))
        }
        Ok(Err(R::Used(_))) => Ok(again(lang, &csrf, StatusCode::CONFLICT, &t("web-used-code"))),
        Ok(Err(R::Expired)) => Ok(again(lang, &csrf, StatusCode::GONE, &t("web-expired-code"))),
        Err(fairgate_store::RegistryError::Invalid(e)) => {
            Ok(again(lang, &csrf, StatusCode::UNPROCESSABLE_ENTITY, &crate::desk::field_errors(&e)))
        }
        Err(e) => Err(Problem::from(e)),
    }
}

/// `POST /portal/web/login`.
pub async fn login(
    State(st): State<AppState>,
    headers: HeaderMap,
    addr: crate::limits::ClientAddr,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (csrf, _) = csrf_token(&st, &headers);
    let (lang, _) = language(&st, &headers, "");
    let Ok(Form(f)) = form else {
        return Ok(again(lang, &csrf, StatusCode::BAD_REQUEST, &text(lang, "web-again", &[])));
    };
    let (keys, now) = match admit_form(lang, &st, &headers, addr, &csrf, &f.csrf, &f.registration_number) {
        Ok(x) => x,
        Err(r) => return Ok(*r),
    };
    let st2 = st.clone();
    let secret = st.random::<32>();
    let outcome = crate::limits::hashing(&st, move || {
        st2.registry
            .portal_sign_in(st2.now(), &f.registration_number, &f.passphrase, secret)
            .map_err(|_| Problem::internal())
    })
    .await?;
    match outcome {
        Some(session) => {
            st.limits.succeeded(&keys);
            Ok(signed_in(&st, &session.token))
        }
        None => {
            st.limits.failed(&keys, now);
            Ok(again(lang, &csrf, StatusCode::UNAUTHORIZED, &text(lang, "web-wrong-pass", &[])))
        }
    }
}

fn registrant(subject: fairgate_core::ids::SubjectId) -> fairgate_core::access::Actor {
    fairgate_core::access::Actor::new(
        fairgate_core::policy::registrant_id(&subject),
        fairgate_core::access::Role::Registrant,
        "the person themselves",
    )
}

/// `GET /portal/me?lang=…`: every record held on the person and every access to
/// it, what they must do (notices, each with its appointment to book or move),
/// their corrections, a change to report, and everything to download. Each read
/// is logged (subject access) like any other.
pub async fn me(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, Problem> {
    let (lang, lang_cookie) = language(&st, &headers, &q.lang);
    let Some(subject) = person(&st, &headers).await? else {
        return Ok(with_cookie(Redirect::to("/portal").into_response(), lang_cookie));
    };
    let (csrf, cookie) = csrf_token(&st, &headers);
    let actor = registrant(subject);
    let st2 = st.clone();
    let (t, logged, disclosures, notices) = blocking(move || {
        let (t, r) = st2
            .registry
            .read_timeline(st2.now(), &actor, Purpose::SubjectAccess, subject, "web /portal/me")
            .map_err(Problem::from)?;
        let (d, _) =
            st2.registry.read_disclosures(st2.now(), &actor, subject, "web /portal/me").map_err(Problem::from)?;
        let (n, _) =
            st2.registry.read_own_notices(st2.now(), &actor, subject, "web /portal/me").map_err(Problem::from)?;
        Ok((t, r, d, n))
    })
    .await?;
    let now = st.now();
    let tr = |id: &str| text(lang, id, &[]);
    let p = &t.person;
    let offices: Vec<_> = st
        .registry
        .places()
        .iter()
        .filter(|p| p.place.kind == fairgate_core::place::PlaceKind::Office)
        .map(|p| (p.place.code.clone(), p.place.name.clone()))
        .collect();
    let hidden = html! { input type="hidden" name="csrf" value=(csrf); };
    let body = html! {
        (switcher(lang, "/portal/me"))
        h1 { (tr("portal-records-title")) }
        p { (p.surname) ", " (p.given_names) " · " (p.document.kind) " " (p.document.number) }
        p.text-base-dark { (text(lang, "web-logged", &[("leaf", &logged.leaf_index.to_string())])) }

        h2 { (tr("web-notices")) }
        @if notices.is_empty() { p { (tr("web-no-notices")) } }
        @for (i, n) in notices.iter().enumerate() {
            section.border-top.padding-y-1 lang=(n.lang.tag()) dir=(n.lang.dir()) {
                h3 { (n.title) }
                p { (n.what) } p { strong { (n.by_when) } }
                @if let Some(a) = n.appointment.as_ref().or(n.no_appointment.as_ref()) { p { (a) } }
                details {
                    summary { (tr("web-book-heading")) }
                    form.usa-form method="post" action="/portal/web/appointment" {
                        (hidden)
                        input type="hidden" name="obligation" value=(n.obligation);
                        label.usa-label for=(format!("office-{i}")) { (tr("web-office")) }
                        select.usa-select id=(format!("office-{i}")) name="office" {
                            option value="" { (tr("web-office-usual")) }
                            @for (code, name) in &offices { option value=(code) { (name) } }
                        }
                        label.usa-label for=(format!("from-{i}")) { (tr("web-from")) }
                        input.usa-input id=(format!("from-{i}")) name="from" dir="ltr";
                        button.usa-button type="submit" { (tr("web-book")) }
                    }
                }
            }
        }

        h2 { (tr("portal-registrations")) }
        ul.usa-list { @for r in &t.registrations { li { (r.number) " · " (r.registration.place) " · " (r.registration.at) } } }
        h2 { (tr("portal-crossings")) }
        @if t.crossings.is_empty() { p { (tr("web-none")) } } @else {
            ul.usa-list { @for c in &t.crossings { li { (c.crossing.direction.as_str()) " · " (c.crossing.port) " · " (c.crossing.at) } } }
        }
        h2 { (tr("portal-disclosures")) }
        table.usa-table.usa-table--stacked {
            caption { (tr("portal-disclosures")) }
            thead { tr { th scope="col" { (tr("portal-col-when")) } th scope="col" { (tr("web-col-who")) } th scope="col" { (tr("portal-col-purpose")) } th scope="col" { (tr("portal-col-what")) } } }
            tbody {
                @for d in &disclosures {
                    tr {
                        th scope="row" data-label=(tr("portal-col-when")) { (d.at) }
                        td data-label=(tr("web-col-who")) { (d.agency) " (" (d.role) ")" }
                        td data-label=(tr("portal-col-purpose")) { (d.purpose) }
                        td data-label=(tr("portal-col-what")) { (d.fields.join(", ")) }
                    }
                }
            }
        }

        h2 { (tr("web-corrections")) }
        @if t.corrections.is_empty() { p { (tr("web-none")) } }
        ul.usa-list {
            @for c in &t.corrections {
                li {
                    (text(lang, "web-correction-item", &[
                        ("number", &c.number.to_string()),
                        ("field", &c.field),
                        ("status", serde_json::to_value(c.status(now)).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default().as_str()),
                        ("due", &c.reply_due.strftime("%Y-%m-%d").to_string()),
                    ]))
                    @if let Some(a) = &c.answer { br; (text(lang, "web-correction-answer", &[("reply", &a.reply)])) }
                }
            }
        }
        form.usa-form method="post" action="/portal/web/correction" {
            (hidden)
            label.usa-label for="c-field" { (tr("web-correction-field")) }
            input.usa-input #c-field name="field" required;
            label.usa-label for="c-text" { (tr("web-correction-text")) }
            textarea.usa-textarea #c-text name="text" rows="3" required {}
            button.usa-button type="submit" { (tr("web-correction-send")) }
        }

        h2 { (tr("web-change-heading")) }
        form.usa-form method="post" action="/portal/web/change" {
            (hidden)
            fieldset.usa-fieldset {
                legend.usa-legend { (tr("web-change-kind")) }
                @for (v, id) in [("address", "web-change-address"), ("employer", "web-change-employer"), ("school", "web-change-school")] {
                    div.usa-radio {
                        input.usa-radio__input type="radio" id=(format!("change-{v}")) name="change" value=(v) required;
                        label.usa-radio__label for=(format!("change-{v}")) { (tr(id)) }
                    }
                }
            }
            label.usa-label for="changed_on" { (tr("web-changed-on")) }
            input.usa-input #changed_on name="changed_on" required dir="ltr";
            label.usa-label for="street" { (tr("web-street")) }
            input.usa-input #street name="street" autocomplete="street-address";
            label.usa-label for="city" { (tr("web-city")) }
            input.usa-input #city name="city" autocomplete="address-level2";
            label.usa-label for="postal_code" { (tr("web-postal")) }
            input.usa-input #postal_code name="postal_code" autocomplete="postal-code" dir="ltr";
            label.usa-label for="employer" { (tr("web-employer")) }
            input.usa-input #employer name="employer";
            label.usa-label for="school" { (tr("web-school")) }
            input.usa-input #school name="school";
            button.usa-button type="submit" { (tr("web-change-send")) }
        }

        h2 { (tr("web-download-heading")) }
        p { (tr("web-download-intro")) }
        ul.usa-list {
            li { a.usa-link href="/portal/web/export?format=html" { (tr("web-download-html")) } }
            li { a.usa-link href="/portal/web/export?format=json" download { (tr("web-download-json")) } }
        }
        form method="post" action="/portal/web/logout" {
            (hidden)
            button.usa-button.usa-button--outline type="submit" { (tr("web-signout")) }
        }
    };
    Ok(with_cookie(with_cookie(page_in(lang, &tr("portal-records-title"), body), cookie), lang_cookie))
}

/// The answer to a portal form: done (with what), or why not; both in the
/// person's language, with the way back.
fn answer(lang: Language, outcome: Result<String, Problem>) -> Response {
    let tr = |id: &str| text(lang, id, &[]);
    let (status, body) = match outcome {
        Ok(done) => (StatusCode::OK, html! { h1 { (tr("portal-records-title")) } (alert("success", &done)) }),
        Err(p) => {
            let detail = if p.errors.is_empty() {
                p.detail.clone()
            } else {
                p.errors.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
            };
            (
                StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
                html! { h1 { (tr("web-problem")) } (alert("error", &detail)) },
            )
        }
    };
    let page = page_in(
        lang,
        &tr("portal-records-title"),
        html! { (body) p { a.usa-link href="/portal/me" { (tr("web-back")) } } },
    );
    (status, page).into_response()
}

#[derive(Deserialize)]
pub struct PortalForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    obligation: String,
    #[serde(default)]
    office: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    change: String,
    #[serde(default)]
    changed_on: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    employer: String,
    #[serde(default)]
    school: String,
}

/// A portal form's person and fields, or the page to answer with instead.
async fn portal_form(
    st: &AppState,
    headers: &HeaderMap,
    form: Result<Form<PortalForm>, FormRejection>,
) -> Result<(Language, fairgate_core::ids::SubjectId, PortalForm), Response> {
    let (lang, _) = language(st, headers, "");
    let Ok(Some(subject)) = person(st, headers).await else { return Err(Redirect::to("/portal").into_response()) };
    let Ok(Form(f)) = form else {
        return Err(answer(lang, Err(Problem::bad_request("form", text(lang, "web-again", &[])))));
    };
    if !csrf_ok(headers, &f.csrf) {
        return Err(csrf_refused());
    }
    Ok((lang, subject, f))
}

/// `POST /portal/web/appointment`: book or move an appointment for an obligation.
pub async fn appointment(
    State(st): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<PortalForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (lang, subject, f) = match portal_form(&st, &headers, form).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let input = fairgate_core::appointment::BookingInput {
        obligation: f.obligation,
        office: Some(f.office).filter(|o| !o.trim().is_empty()),
        from: Some(f.from).filter(|d| !d.trim().is_empty()),
    };
    let st2 = st.clone();
    let r = blocking(move || {
        Ok(st2
            .registry
            .write(st2.now(), |b| b.book_appointment(&registrant(subject), subject, &input))
            .map_err(Problem::from))
    })
    .await?;
    let done = r.map(|(a, receipt)| {
        tracing::info!(leaf = receipt.leaf_index, "appointment booked in the portal (web)");
        let time = format!("{:02}:{:02}", a.slot.start / 60, a.slot.start % 60);
        text(lang, "web-booked", &[("office", &a.slot.office), ("day", &a.slot.day.to_string()), ("time", &time)])
    });
    Ok(answer(lang, done))
}

/// `POST /portal/web/correction`: ask for a correction.
pub async fn correction(
    State(st): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<PortalForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (lang, subject, f) = match portal_form(&st, &headers, form).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let input = fairgate_core::correction::CorrectionInput { field: f.field, text: f.text };
    let st2 = st.clone();
    let r = blocking(move || {
        Ok(st2
            .registry
            .write(st2.now(), |b| b.request_correction(&registrant(subject), subject, &input))
            .map_err(Problem::from))
    })
    .await?;
    let done = r.map(|((number, due), _)| {
        tracing::info!(correction = number, "correction requested (web)");
        text(
            lang,
            "web-correction-sent",
            &[("number", &number.to_string()), ("due", &due.strftime("%Y-%m-%d").to_string())],
        )
    });
    Ok(answer(lang, done))
}

/// `POST /portal/web/change`: report a change of address, employer or school.
pub async fn change(
    State(st): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<PortalForm>, FormRejection>,
) -> Result<Response, Problem> {
    let (lang, subject, f) = match portal_form(&st, &headers, form).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let some = |s: String| Some(s).filter(|s| !s.trim().is_empty());
    let address = (f.change == "address").then(|| fairgate_core::obligation::Address {
        street: f.street,
        city: f.city,
        postal_code: f.postal_code,
        country: String::new(),
    });
    let input = fairgate_core::obligation::ChangeInput {
        change: f.change.clone(),
        changed_on: f.changed_on,
        address,
        employer: if f.change == "employer" { some(f.employer) } else { None },
        school: if f.change == "school" { some(f.school) } else { None },
    };
    let st2 = st.clone();
    let r = blocking(move || {
        Ok(st2
            .registry
            .write(st2.now(), |b| b.report_change(&registrant(subject), subject, &input))
            .map_err(Problem::from))
    })
    .await?;
    let done = r.map(|((), receipt)| {
        tracing::info!(leaf = receipt.leaf_index, "change reported in the portal (web)");
        text(lang, "web-change-sent", &[("leaf", &receipt.leaf_index.to_string())])
    });
    Ok(answer(lang, done))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    format: String,
}

/// `GET /portal/web/export?format=html|json`: everything, to keep (reads logged).
pub async fn export(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ExportQuery>,
) -> Result<Response, Problem> {
    let Some(subject) = person(&st, &headers).await? else { return Ok(Redirect::to("/portal").into_response()) };
    let html = q.format != "json";
    crate::portal::export_for(st, crate::portal::Registrant { subject }, html, "web /portal/web/export").await
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /portal/web/logout`: the session ends (its token opens nothing more) and
/// the cookie is cleared.
pub async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Result<Response, Problem> {
    match form {
        Ok(Form(f)) if csrf_ok(&headers, &f.csrf) => {
            if let Some(token) = crate::auth::cookie(&headers, PORTAL_COOKIE) {
                let st2 = st.clone();
                blocking(move || st2.registry.portal_sign_out(&token).map_err(|_| Problem::internal())).await?;
            }
            let mut resp = Redirect::to("/portal").into_response();
            resp.headers_mut().insert(header::SET_COOKIE, session_cookie(&st, "", 0));
            Ok(resp)
        }
        _ => Ok(csrf_refused()),
    }
}
