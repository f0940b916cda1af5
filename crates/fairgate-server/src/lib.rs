//! Fairgate's HTTP face: the JSON API with its generated OpenAPI document, the web
//! pages, and authentication (bearer tokens for the API, cookies for the web). No
//! business rule, no authorization decision and no SQL lives here: handlers call
//! the registry, which asks the core (rules and the access policy) and the store.
//!
//! Layers, top to bottom: `routes` (every route and its policy row, the guard, the
//! app) → feature handlers (`subjects`, `programs`, `compliance`, `designations`,
//! `expungement`, `law_enforcement`, `portal`, `transparency`, `log`, `web`) →
//! `auth`, `limits`, `headers`, `views`, `json`, `problem`, `logging`. No module imports one above it.

pub mod admin;
pub mod assets;
pub mod auth;
pub mod biometrics;
pub mod compliance;
pub mod designations;
pub mod desk;
pub mod documents;
pub mod expungement;
pub mod headers;
pub mod idempotency;
pub mod identification;
pub mod json;
pub mod law_enforcement;
pub mod limits;
pub mod log;
pub mod logging;
pub mod mail;
pub mod notices;
pub mod office;
pub mod officer;
pub mod oversight;
pub mod places;
pub mod portal;
pub mod portal_web;
pub mod problem;
pub mod programs;
pub mod public;
pub mod queues;
pub mod routes;
pub mod subjects;
pub mod transparency;
pub mod views;
pub mod visits;
pub mod web;
pub mod witness;

pub use routes::app;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use fairgate_store::Registry;
use jiff::Timestamp;

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// The body limit of a registration, whose captures may carry a portrait and ten
/// finger images in base64.
pub const CAPTURE_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// How often a new checkpoint is signed while the log grows.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(10);

pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;
/// Fills a buffer with random bytes: the source of every secret the server makes
/// (session tokens, portal tokens). Tests pass a seeded one.
pub type Entropy = Arc<dyn Fn(&mut [u8]) + Send + Sync>;

#[derive(Clone)]
pub struct AppState {
    pub registry: Arc<Registry>,
    pub clock: Clock,
    pub entropy: Entropy,
    /// Mark cookies `Secure`: on unless serving plain HTTP on loopback (`serve`
    /// decides from the listen address; a test on loopback may turn it off).
    pub secure_cookies: bool,
    /// The public overstay aggregate, computed at most once per UTC day so that
    /// anonymous readers of the report cannot make the server sweep on demand.
    pub overstay_report: Arc<tokio::sync::Mutex<Option<transparency::DailyTable>>>,
    /// The public activity-by-program table, computed at most once per UTC day too.
    pub program_activity_report: Arc<tokio::sync::Mutex<Option<transparency::DailyTable>>>,
    /// Failed sign-ins (staff and portal) and the cap on concurrent password hashing.
    pub limits: limits::Limits,
    /// The last day the daily compliance run ran for.
    pub compliance_ran: Arc<tokio::sync::Mutex<Option<jiff::civil::Date>>>,
    /// How many witnesses cosign this log's checkpoints (`serve --witness`): when
    /// some do, `/log/checkpoint` serves the latest checkpoint cosigned by all of
    /// them (the latest one until any is).
    pub witnesses: usize,
    /// The mail relay notices go out through (`serve --smtp`); none: portal and
    /// letters only.
    pub mailer: Option<Arc<dyn fairgate_store::registry::notices::Mailer>>,
    /// Why the face matcher is not installed, if it is not (`/healthz` says).
    pub face_unavailable: Option<String>,
}

impl AppState {
    pub fn new(registry: Arc<Registry>) -> Self {
        Self {
            registry,
            clock: Arc::new(Timestamp::now),
            entropy: Arc::new(|buf: &mut [u8]| rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, buf)),
            secure_cookies: true,
            overstay_report: Default::default(),
            program_activity_report: Default::default(),
            compliance_ran: Default::default(),
            limits: Default::default(),
            witnesses: 0,
            mailer: None,
            face_unavailable: None,
        }
    }
    /// Send notices by email through this relay.
    pub fn with_mailer(mut self, mailer: Arc<dyn fairgate_store::registry::notices::Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }
    /// Use this clock instead of the system's (tests fix or move time).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }
    /// Use this source of randomness instead of the operating system's.
    pub fn with_entropy(mut self, entropy: Entropy) -> Self {
        self.entropy = entropy;
        self
    }
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }
    /// `N` random bytes from the injected source.
    pub fn random<const N: usize>(&self) -> [u8; N] {
        let mut b = [0u8; N];
        (self.entropy)(&mut b);
        b
    }
    /// Today in UTC, the day the public report is computed for.
    pub fn today(&self) -> jiff::civil::Date {
        self.now().to_zoned(jiff::tz::TimeZone::UTC).date()
    }
}

/// Serve until `shutdown` resolves, signing a checkpoint every
/// [`CHECKPOINT_INTERVAL`] while the log grows and once more on the way out, and
/// compacting the stay facts on the same beat, and running the compliance run once
/// a day. Once the public overstay aggregate
/// has been asked for, it is also recomputed here when the day turns, so readers
/// after midnight do not wait for the sweep.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The designation statistics read everyone: worked out once at start, in the
    // background, so that the auditors' page answers at once.
    {
        let state = state.clone();
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            match state.registry.refresh_designation_stats() {
                Ok(_) => tracing::info!(ms = started.elapsed().as_millis() as u64, "designation statistics worked out"),
                Err(e) => tracing::error!(error = %e, "designation statistics not worked out"),
            }
        });
    }
    let signer = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECKPOINT_INTERVAL);
            loop {
                tick.tick().await;
                sign_checkpoint(&state).await;
                compact_stay_facts(&state).await;
                fold_leaf_index(&state).await;
                transparency::refresh_overstays(&state).await;
                compliance_run(&state).await;
            }
        })
    };
    let app = app(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    signer.abort();
    sign_checkpoint(&state).await;
    // Another process (or this one, restarted) may sign at once, not when the lease expires.
    if let Err(e) = state.registry.release_signing_lease() {
        tracing::warn!(error = %e, "could not release the signing lease; it expires by itself");
    }
    result
}

/// Once a day (and at start-up): work out obligations, issue the notices now due,
/// and erase everyone past their programs' retention. Both are idempotent, so a
/// restart on the same day changes nothing.
async fn compliance_run(state: &AppState) {
    let today = state.today();
    let mut ran = state.compliance_ran.lock().await;
    if *ran == Some(today) {
        return;
    }
    let st = state.clone();
    let job = move || {
        let system = fairgate_core::access::Actor::system("daily");
        let r = st.registry.compliance_run(st.now(), &system, today, &mut |_, _| {})?;
        let d = st.registry.deliver_notices(st.now(), &system, today, st.mailer.as_deref())?;
        let kept = st.registry.retention_run(st.now(), &system, today, false)?;
        Ok::<_, fairgate_store::RegistryError>((r, d, kept.erased))
    };
    match tokio::task::spawn_blocking(job).await {
        Ok(Ok((r, d, erased))) => {
            *ran = Some(today);
            tracing::info!(on = %today, subjects = r.subjects, notices = r.notices_issued, appointments = r.appointments_booked, missed = r.appointments_missed, overdue = r.overdue, erased, "daily compliance and retention run");
            tracing::info!(
                portal = d.portal,
                emailed = d.emailed,
                email_failed = d.email_failed,
                letters_due = d.letters_due,
                "notices delivered"
            );
        }
        Ok(Err(e)) => tracing::error!(error = %e, "the compliance run failed"),
        Err(e) => tracing::error!(error = %e, "the compliance run task failed"),
    }
}

/// Keep the per-person leaf index merged into runs, so reading a person's record
/// costs a few index seeks however long the ledger grows.
async fn fold_leaf_index(state: &AppState) {
    use fairgate_store::registry::LEAF_FOLD_CHUNKS_PER_BEAT;
    maintain(state, "merged old buckets of the per-person leaf index", |r| {
        r.fold_subject_leaves(LEAF_FOLD_CHUNKS_PER_BEAT)
    })
    .await;
}

/// Keep the stay facts compacted, so an overstay sweep has little left to fold in.
async fn compact_stay_facts(state: &AppState) {
    use fairgate_store::registry::BACKGROUND_COMPACTION_CHUNK;
    // Small chunks: each holds the writer lock while requests wait.
    maintain(state, "compacted the stay facts", |r| r.compact_stay_facts_by(BACKGROUND_COMPACTION_CHUNK)).await;
}

/// Run one background maintenance job off the async threads: `done` is logged (at
/// debug, with the count) when it did something, a failure as an error.
async fn maintain(
    state: &AppState,
    done: &'static str,
    job: impl FnOnce(&fairgate_store::Registry) -> Result<u64, fairgate_store::RegistryError> + Send + 'static,
) {
    let st = state.clone();
    match tokio::task::spawn_blocking(move || job(&st.registry)).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => tracing::debug!(n, "{done}"),
        Ok(Err(e)) => tracing::error!(error = %e, job = done, "a background job failed"),
        Err(e) => tracing::error!(error = %e, job = done, "a background task failed"),
    }
}

async fn sign_checkpoint(state: &AppState) {
    let st = state.clone();
    match tokio::task::spawn_blocking(move || st.registry.sign_checkpoint(st.now())).await {
        Ok(Ok(Some(cp))) => tracing::info!(tree_size = cp.size, "signed checkpoint"),
        Ok(Ok(None)) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "could not sign a checkpoint"),
        Err(e) => tracing::error!(error = %e, "checkpoint task failed"),
    }
}
