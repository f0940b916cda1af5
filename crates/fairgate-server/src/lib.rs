//! Fairgate's HTTP face: the JSON API with its generated OpenAPI document, the web
//! pages, authentication (bearer tokens for the API, cookies for the web) and the
//! role × purpose access matrix. No business rule and no SQL lives here: handlers
//! call the registry, which calls the core and the store.

pub mod access;
pub mod api;
pub mod auth;
pub mod compliance;
pub mod designations;
pub mod expungement;
pub mod json;
pub mod law_enforcement;
pub mod logging;
pub mod portal;
pub mod problem;
pub mod programs;
pub mod transparency;
pub mod web;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use fairgate_store::Registry;
use jiff::Timestamp;

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// How often a new checkpoint is signed while the log grows.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(10);

pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

#[derive(Clone)]
pub struct AppState {
    pub registry: Arc<Registry>,
    pub clock: Clock,
    /// Mark cookies `Secure` (set when served behind TLS).
    pub secure_cookies: bool,
    /// The public overstay aggregate, computed at most once per UTC day so that
    /// anonymous readers of the report cannot make the server sweep on demand.
    pub overstay_report: Arc<tokio::sync::Mutex<Option<transparency::DailyTable>>>,
    /// The public activity-by-program table, computed at most once per UTC day too.
    pub program_activity_report: Arc<tokio::sync::Mutex<Option<transparency::DailyTable>>>,
    /// Failed portal sign-ins, for the rate limit.
    pub portal_failures: portal::Failures,
    /// The last day the daily compliance run ran for.
    pub compliance_ran: Arc<tokio::sync::Mutex<Option<jiff::civil::Date>>>,
}

impl AppState {
    pub fn new(registry: Arc<Registry>) -> Self {
        Self {
            registry,
            clock: Arc::new(Timestamp::now),
            secure_cookies: false,
            overstay_report: Default::default(),
            program_activity_report: Default::default(),
            compliance_ran: Default::default(),
            portal_failures: Default::default(),
        }
    }
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }
    /// Today in UTC, the day the public report is computed for.
    pub fn today(&self) -> jiff::civil::Date {
        self.now().to_zoned(jiff::tz::TimeZone::UTC).date()
    }
}

/// The whole application: API, OpenAPI document and web pages.
pub fn app(state: AppState) -> Router {
    let (api, doc) = api::router().split_for_parts();
    let doc = Arc::new(doc);
    Router::new()
        .merge(api)
        .route("/openapi.json", axum::routing::get(move || async move { axum::Json(doc.as_ref().clone()) }))
        .merge(web::router())
        .fallback(problem::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(logging::log_requests))
        .with_state(state)
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
    let signer = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECKPOINT_INTERVAL);
            loop {
                tick.tick().await;
                sign_checkpoint(&state).await;
                compact_stay_facts(&state).await;
                transparency::refresh_overstays(&state).await;
                compliance_run(&state).await;
            }
        })
    };
    let result = axum::serve(listener, app(state.clone())).with_graceful_shutdown(shutdown).await;
    signer.abort();
    sign_checkpoint(&state).await;
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
        let r = st.registry.compliance_run(st.now(), today, &mut |_, _| {})?;
        let kept = st.registry.retention_run(st.now(), today, false)?;
        Ok::<_, fairgate_store::RegistryError>((r, kept.erased))
    };
    match tokio::task::spawn_blocking(job).await {
        Ok(Ok((r, erased))) => {
            *ran = Some(today);
            tracing::info!(on = %today, subjects = r.subjects, notices = r.notices_issued, overdue = r.overdue, erased, "daily compliance and retention run");
        }
        Ok(Err(e)) => tracing::error!(error = %e, "the compliance run failed"),
        Err(e) => tracing::error!(error = %e, "the compliance run task failed"),
    }
}

/// Keep the stay facts compacted, so an overstay sweep has little left to fold in.
async fn compact_stay_facts(state: &AppState) {
    let st = state.clone();
    match tokio::task::spawn_blocking(move || st.registry.compact_stay_facts()).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => tracing::debug!(crossings = n, "compacted the stay facts"),
        Ok(Err(e)) => tracing::error!(error = %e, "could not compact the stay facts"),
        Err(e) => tracing::error!(error = %e, "stay-facts compaction task failed"),
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
