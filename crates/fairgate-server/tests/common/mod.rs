//! Start the real server on an ephemeral port over a fresh data directory.
#![allow(dead_code)]

use std::sync::Arc;

use fairgate_core::access::Role;
use fairgate_ledger::keys::SecretKey;
use fairgate_server::AppState;
use fairgate_store::{Registry, Store};
use serde_json::{json, Value};

pub struct Server {
    pub registry: Arc<Registry>,
    pub base: String,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    pub officer: String,
    pub supervisor: String,
    pub auditor: String,
    pub admin: String,
    pub adjudicator: String,
    pub approver: String,
    pub dir: tempfile::TempDir,
    /// Seconds added to the real time in the server's clock, to move it forward.
    pub clock_offset: Arc<std::sync::atomic::AtomicI64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub const PASSWORD: &str = "a long enough password";

pub async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = fairgate_store::backend::test_store(&dir.path().join("fairgate.db")).unwrap().store();
    // The demo's ports and offices, without ledger events (as an older database has them).
    store.put_places(&fairgate_core::place::default_places()).unwrap();
    let registry = Registry::open(
        store.clone(),
        SecretKey::from_bytes([1; 32]),
        &SecretKey::from_bytes([2; 32]),
        "test/log",
        [5; 32],
    )
    .unwrap();
    let mut n = 0u8;
    let operator = fairgate_core::access::Actor::system("test");
    let mut token = |name: &str, role| {
        n += 1;
        registry
            // Tests move the clock by months: tokens good for ten years.
            .add_user_with(jiff::Timestamp::now(), &operator, name, role, "Test Agency", Some(PASSWORD), [n; 64], 3650)
            .unwrap()
            .token
    };
    let officer = token("officer", Role::Officer);
    let supervisor = token("supervisor", Role::Supervisor);
    let auditor = token("auditor", Role::Auditor);
    let admin = token("admin", Role::Admin);
    let adjudicator = token("adjudicator", Role::Adjudicator);
    let approver = token("approver", Role::Approver);
    // The authorities expungements cite in these tests.
    for (id, name, reference) in [
        ("court-order", "Order of a court", "Test Court Rules r. 1"),
        ("repeal-order", "Order repealing a program", "Test Act s. 9"),
    ] {
        let a = fairgate_core::expungement::Authority { id: id.into(), name: name.into(), reference: reference.into() };
        registry.list_authority(jiff::Timestamp::now(), &operator, &a).unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let registry = Arc::new(registry);
    let clock_offset = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let offset = clock_offset.clone();
    // The server's clock and randomness are the test's: time moves when a test says,
    // and every token the server makes comes from a seeded generator.
    let rng = std::sync::Mutex::new(<rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7));
    let state = AppState::new(registry.clone())
        .with_clock(Arc::new(move || {
            let secs = offset.load(std::sync::atomic::Ordering::SeqCst);
            jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_secs(secs)).unwrap()
        }))
        .with_entropy(Arc::new(move |buf: &mut [u8]| rand::RngCore::fill_bytes(&mut *rng.lock().unwrap(), buf)));
    let ran = state.compliance_ran.clone();
    let handle = tokio::spawn(fairgate_server::serve(listener, state, async move {
        let _ = rx.await;
    }));
    // The server runs the day's compliance run as it starts, in the background: wait
    // for it, so that it cannot land in the middle of a test's own steps (on a slow
    // machine it once issued half the notices a test then counted on issuing itself).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while ran.lock().await.is_none() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Server {
        registry,
        base,
        client,
        store,
        officer,
        supervisor,
        auditor,
        admin,
        adjudicator,
        approver,
        dir,
        clock_offset,
        stop: Some(tx),
        handle: Some(handle),
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sign a checkpoint of the current tree now and return its note.
    pub async fn registry_checkpoint(&self) -> String {
        self.registry.sign_checkpoint(jiff::Timestamp::now()).unwrap();
        self.store.latest_checkpoint().unwrap().unwrap().note
    }

    pub async fn tree_size(&self) -> u64 {
        let v: Value = self.client.get(self.url("/healthz")).send().await.unwrap().json().await.unwrap();
        v["tree_size"].as_u64().unwrap()
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let r = self.client.post(self.url(path)).bearer_auth(token).json(body).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_for(&self, token: &str, purpose: &str, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .header("Fairgate-Purpose", purpose)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn read(&self, token: &str, purpose: Option<&str>, path: &str) -> (u16, Value) {
        let mut req = self.client.get(self.url(path)).bearer_auth(token);
        if let Some(p) = purpose {
            req = req.header("Fairgate-Purpose", p);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Create the ICAO specimen traveller and return their id.
    pub async fn specimen(&self) -> String {
        let (status, body) = self.post(&self.officer, "/subjects", &specimen()).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap().unwrap();
        }
    }
}

/// Today plus `offset` days (UTC), for programs and stays relative to the real clock.
pub fn day(offset: i64) -> jiff::civil::Date {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date().checked_add(jiff::Span::new().days(offset)).unwrap()
}

/// A population file of 60 WT visitors, half UTO and half VAL, half F and half M:
/// an impact analysis over it clears a program that selects by admission class.
pub fn wt_population() -> Value {
    Value::Array(
        (0..60)
            .map(|i| {
                let (n, sex) = (["UTO", "VAL"][i % 2], ["F", "M"][(i / 2) % 2]);
                json!({"nationality": n, "sex": sex, "birth_date": "1980-01-01", "admission_class": "WT", "postal_code": "10001"})
            })
            .collect(),
    )
}

pub fn specimen() -> Value {
    json!({"document": {"kind": "P", "issuing_state": "UTO", "number": "L898902C3", "expires_on": "2031-04-15"},
           "surname": "ERIKSSON", "given_names": "ANNA MARIA", "birth_date": "1974-08-12", "sex": "F", "nationality": "UTO"})
}

pub fn registration() -> Value {
    json!({"kind": "port-of-entry", "place": "JFK", "at": "2026-06-03T14:00:00Z", "voluntary": true,
           "interview": {"questions": [{"question": "Purpose of the visit?", "answer": "VISITING FAMILY IN QUEENS"}],
                         "notes": "", "interpreter_present": true, "counsel_present": false}})
}

pub fn entry(at: &str) -> Value {
    json!({"direction": "entry", "port": "JFK", "at": at, "admission_class": "B-2", "admitted_until": "2026-09-01"})
}

pub fn exit(at: &str) -> Value {
    json!({"direction": "exit", "port": "JFK", "at": at})
}

pub fn leak_free_store_check(store: &dyn Store) -> u64 {
    store.tree_size().unwrap()
}

/// Activate a person's portal with the code from their receipt and a passphrase.
pub async fn activate(s: &Server, number: &str, code: &str, passphrase: &str) -> (u16, Value) {
    let r = s
        .client
        .post(s.url("/portal/activate"))
        .json(&json!({"registration_number": number, "access_code": code, "passphrase": passphrase}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Sign in to an activated portal.
pub async fn portal_login(s: &Server, number: &str, passphrase: &str) -> (u16, Value) {
    let r = s
        .client
        .post(s.url("/portal/login"))
        .json(&json!({"registration_number": number, "passphrase": passphrase}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A GET with a portal (or any bearer) token.
pub async fn get(s: &Server, token: &str, path: &str) -> (u16, Value) {
    let r = s.client.get(s.url(path)).bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A form's CSRF token and its cookie, as a browser gets them from a page.
pub async fn csrf(s: &Server, page: &str, cookie: Option<&str>) -> (String, String) {
    let mut req = s.client.get(s.url(page));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let r = req.send().await.unwrap();
    let set = r.headers().get("set-cookie").map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
    let html = r.text().await.unwrap();
    let token = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let pair = set.unwrap_or_else(|| format!("fairgate_csrf={token}"));
    (token, pair)
}

/// Sign in on the web page as a browser would (CSRF token included).
pub async fn web_login(s: &Server, name: &str, password: &str) -> reqwest::Response {
    let (token, pair) = csrf(s, "/login", None).await;
    s.client
        .post(s.url("/login"))
        .header("cookie", pair)
        .form(&[("name", name), ("password", password), ("csrf", &token)])
        .send()
        .await
        .unwrap()
}

/// The (kind, length) of `count` public leaves from `start`, as anyone reads them.
pub async fn public_leaves(s: &Server, start: u64, count: u64) -> Vec<(u16, usize)> {
    use base64::Engine;
    let leaves: Vec<String> = s
        .client
        .get(s.url(&format!("/log/leaves?start={start}&count={count}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    leaves
        .iter()
        .map(|l| {
            let b = base64::engine::general_purpose::STANDARD.decode(l).unwrap();
            (u16::from_be_bytes([b[1], b[2]]), b.len())
        })
        .collect()
}

/// A program in force for WT visitors: a photograph and two fingerprints, an
/// interview question, registration within 5 days.
pub async fn desk_program(s: &Server) {
    let source = format!(
        "id = \"visitor-desk\"\ntitle = \"Visitor registration at the desk\"\nlegal_basis = \"Test Act s. 4\"\nstarts = {}\nsunset = {}\n\n[selection]\nadmission_class = [\"WT\"]\n\n[capture]\nface = true\nfingerprints = 2\n\n[interview]\nquestions = [\"Where will you stay?\"]\n\n[[obligations]]\nkind = \"register\"\nwithin_days = 5\n",
        day(-60),
        day(300)
    );
    s.clock_offset.store(-30 * 86_400, std::sync::atomic::Ordering::SeqCst);
    let (st, b) = s.post(&s.admin, "/programs", &json!({"source": source, "population": wt_population()})).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(s.post(&s.admin, "/programs/visitor-desk/activate", &json!({})).await.0, 200);
    s.clock_offset.store(0, std::sync::atomic::Ordering::SeqCst);
}

/// Sign in on the web page: the session and CSRF cookies, as one Cookie header.
pub async fn signed_in(s: &Server, name: &str) -> String {
    let (_, csrf_pair) = csrf(s, "/login", None).await;
    let r = web_login(s, name, PASSWORD).await;
    assert_eq!(r.status().as_u16(), 303, "signed in and sent home");
    let session = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    format!("{session}; {csrf_pair}")
}

/// A page as a signed-in browser gets it: status and HTML.
pub async fn page(s: &Server, cookie: &str, path: &str) -> (u16, String) {
    let r = s.client.get(s.url(path)).header("cookie", cookie).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The CSRF token in a page's first form.
pub fn form_token(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
}

/// The pilot program of the lifecycle tests, selecting one admission class.
pub fn pilot_source(class: &str) -> String {
    format!(
        "id = \"pilot-visitors\"\ntitle = \"Pilot visitor registration\"\nlegal_basis = \"Test Act s. 2\"\nstarts = {}\nsunset = {}\n\n[selection]\nadmission_class = [\"{class}\"]\n",
        day(-10),
        day(365)
    )
}

/// 400 people over four nationalities; class `E-9` is held only by `KAR` nationals.
pub fn pilot_population() -> Value {
    let nations = ["UTO", "KAR", "VAL", "ZEN"];
    let people: Vec<Value> = (0..400)
        .map(|i| {
            let n = nations[i % 4];
            let class = if n == "KAR" && i % 3 == 0 {
                "E-9"
            } else if (i / 4) % 2 == 0 {
                "WT"
            } else {
                "B-2"
            };
            json!({"nationality": n, "sex": if (i / 8) % 2 == 0 { "F" } else { "M" },
                   "birth_date": format!("{}-05-01", 1960 + (i * 7) % 50), "admission_class": class,
                   "purpose_of_admission": "tourism", "admitted_on": "2026-06-01", "stay_days": (i * 13) % 90})
        })
        .collect();
    Value::Array(people)
}

pub const REREG: &str = "visitor-rereg/v1/obligations[1]/1";

/// A WT visitor 50 days in, registered on arrival, whose 30-day re-registration is
/// overdue after a served notice; returns their id, registration number and code.
pub async fn overdue_visitor(s: &Server) -> (String, String, String) {
    let program = format!(
        "id = \"visitor-rereg\"\ntitle = \"Visitor re-registration\"\nlegal_basis = \"Test Act s. 3\"\nstarts = {}\nsunset = {}\n\n[selection]\nadmission_class = [\"WT\"]\n\n[[obligations]]\nkind = \"register\"\nwithin_days = 5\n\n[[obligations]]\nkind = \"reregister\"\nevery_days = 30\n",
        day(-90),
        day(300)
    );
    s.clock_offset.store(-60 * 86_400, std::sync::atomic::Ordering::SeqCst);
    let (st, b) = s.post(&s.admin, "/programs", &json!({"source": program, "population": wt_population()})).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(s.post(&s.admin, "/programs/visitor-rereg/activate", &json!({})).await.0, 200);
    s.clock_offset.store(0, std::sync::atomic::Ordering::SeqCst);
    let id = s.specimen().await;
    let at = format!("{}T14:00:00Z", day(-50));
    let mut e = entry(&at);
    e["admission_class"] = json!("WT");
    e["admitted_until"] = json!(day(40).to_string());
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/crossings"), &e).await.0, 201);
    let mut r = registration();
    r["at"] = json!(at);
    let (st, r) = s.post(&s.officer, &format!("/subjects/{id}/registrations"), &r).await;
    assert_eq!(st, 201, "{r}");
    let notice =
        json!({"obligation": REREG, "channel": "mail", "served_on": day(-45).to_string(), "proof": "RR123456789US"});
    assert_eq!(s.post(&s.officer, &format!("/subjects/{id}/notices"), &notice).await.0, 201);
    (id, r["registration_number"].as_str().unwrap().into(), r["access_code"].as_str().unwrap().into())
}
