//! The HTTPS server: routes, the accept loop, TLS handshakes off the accept
//! path, and a graceful shutdown with a deadline.
//!
//! Every review runs under a deadline below the API server's own timeout
//! (`?timeout=10s`, less a second) and stops when it passes: the engine looks
//! at the deadline between objects and rules, so a review the server has
//! answered 504 for does not go on burning a core. Reviews of small bodies (an
//! ordinary object: well under a millisecond) run on the connection's own
//! task; larger ones on a blocking thread, at most one per core at a time, so
//! that however many arrive the runtime's threads stay free for `/healthz`,
//! `/readyz` and the small reviews.
//!
//! On SIGTERM (or SIGINT) the server practises what rollsafe enforces:
//! `/readyz` fails at once, reviews are still served (and connections still
//! accepted) for the drain delay while endpoints catch up, then the listener
//! closes, in-flight reviews finish within the shutdown timeout (those still
//! running then are cancelled), and the process exits 0.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::admission::{Endpoint, ReviewError, Reviewed, Reviewer, Verdict};
use super::metrics::Metrics;
use super::tls::{self, CertFiles, Tls, TlsError};
use crate::deadline::Deadline;

/// Largest review body accepted (the API server's own limit is 3 MiB for an object).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;
/// Bodies up to this size are reviewed on the connection's own task: at
/// worst a few milliseconds of work, less than handing it to another thread
/// costs an ordinary review.
const INLINE_BODY_BYTES: usize = 16 * 1024;
/// The API server's `timeoutSeconds` when a request does not say (`?timeout=10s`).
const DEFAULT_API_TIMEOUT: Duration = Duration::from_secs(10);
/// A client that has not finished its TLS handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub reviewer: Arc<Reviewer>,
    pub metrics: Arc<Metrics>,
    /// False from the first shutdown signal on: `/readyz` fails.
    pub ready: Arc<AtomicBool>,
    /// Raised when the shutdown timeout runs out: every review still running
    /// stops.
    pub cancel: Arc<AtomicBool>,
    /// Large reviews running at once, at most one per core.
    large_reviews: Arc<Semaphore>,
    large_review_slots: usize,
    /// A large review has ended since the memory was last handed back: its
    /// answer, written after it ended, was freed in the connection's thread.
    trim_due: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(reviewer: Reviewer) -> Self {
        let slots = std::thread::available_parallelism().map_or(2, |n| n.get());
        let metrics = Metrics::default();
        if let Some(view) = reviewer.cluster_view() {
            metrics.watch_cluster(Arc::clone(view));
        }
        AppState {
            reviewer: Arc::new(reviewer),
            metrics: Arc::new(metrics),
            ready: Arc::new(AtomicBool::new(true)),
            cancel: Arc::new(AtomicBool::new(false)),
            large_reviews: Arc::new(Semaphore::new(slots)),
            large_review_slots: slots,
            trim_due: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Hands freed memory back to the system when the large reviews are
    /// over and their answers written, checking twice a second.
    async fn trim_when_idle(self) {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            let idle = self.large_reviews.available_permits() == self.large_review_slots;
            if idle && self.trim_due.swap(false, Ordering::Relaxed) {
                let _ = tokio::task::spawn_blocking(release_free_memory).await;
            }
        }
    }
}

/// The webhook's routes: `POST /validate`, `POST /mutate`, `GET /healthz`,
/// `GET /readyz`. Public so that tests can send requests without a socket.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/validate", post(validate))
        .route("/mutate", post(mutate))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// `GET /metrics`, on its own plain-HTTP listener.
pub fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .with_state(metrics)
}

async fn validate(
    State(state): State<AppState>,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    answer(state, Endpoint::Validate, &uri, body).await
}

async fn mutate(
    State(state): State<AppState>,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    answer(state, Endpoint::Mutate, &uri, body).await
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if !state.ready.load(Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n");
    }
    // Never judge on a blind cache: not ready until every kind was listed.
    if let Some(view) = state.reviewer.cluster_view()
        && !view.is_synced()
    {
        return (StatusCode::SERVICE_UNAVAILABLE, "cluster view not synced\n");
    }
    (StatusCode::OK, "ok\n")
}

async fn render_metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
}

/// Reviews a body within the API server's timeout, counts and logs it.
async fn answer(
    state: AppState,
    endpoint: Endpoint,
    uri: &Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let result = review(&state, endpoint, uri, body).await;
    let elapsed = started.elapsed();
    match &result {
        Ok(reviewed) => {
            state
                .metrics
                .review(endpoint, Some(reviewed.verdict), elapsed);
            state
                .metrics
                .findings(endpoint, reviewed.verdict, &reviewed.findings);
            log_review(endpoint, reviewed, elapsed);
        }
        Err(error) => {
            state.metrics.review(endpoint, None, elapsed);
            tracing::warn!(endpoint = endpoint.as_str(), %error, "refused a request");
        }
    }
    result.map(|reviewed| {
        ([(header::CONTENT_TYPE, "application/json")], reviewed.body).into_response()
    })
}

async fn review(
    state: &AppState,
    endpoint: Endpoint,
    uri: &Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Reviewed, ApiError> {
    let body = body.map_err(ApiError::Body)?;
    let budget = budget(uri.query());
    let due = Instant::now() + budget;
    let deadline = Deadline::at(due).or_cancelled(Arc::clone(&state.cancel));
    let expired = |_| ApiError::Timeout(budget);
    if body.len() <= INLINE_BODY_BYTES {
        return state
            .reviewer
            .review(endpoint, &body, &deadline)
            .map_err(|e| ApiError::from_review(e, budget));
    }
    let due = tokio::time::Instant::from_std(due);
    let slot = tokio::time::timeout_at(due, Arc::clone(&state.large_reviews).acquire_owned())
        .await
        .map_err(expired)?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let reviewer = Arc::clone(&state.reviewer);
    let large_reviews = Arc::clone(&state.large_reviews);
    let slots = state.large_review_slots;
    state.trim_due.store(true, Ordering::Relaxed);
    let work = tokio::task::spawn_blocking(move || {
        let reviewed = reviewer.review(endpoint, &body, &deadline);
        drop(body);
        drop(slot);
        // The last large review out hands the memory it used back to the
        // system: glibc keeps freed pages in each thread's arena otherwise,
        // and a burst of 3 MiB reviews would leave the pod at its peak.
        if large_reviews.available_permits() == slots {
            release_free_memory();
        }
        reviewed
    });
    match tokio::time::timeout_at(due, work).await {
        Err(elapsed) => Err(expired(elapsed)),
        Ok(Err(join)) => Err(ApiError::Internal(join.to_string())),
        Ok(Ok(result)) => result.map_err(|e| ApiError::from_review(e, budget)),
    }
}

/// Makes glibc give memory back: by default it raises its mmap and trim
/// thresholds after each large buffer it frees (up to 32 and 64 MiB), after
/// which the thread arenas keep every freed page, and `malloc_trim` never
/// shrinks the top of an arena other than the main one. With fixed
/// thresholds a review's large buffers are mapped and unmapped on their own
/// and an arena's top is cut back once 1 MiB of it is free. Called before
/// the runtime starts its threads.
pub(crate) fn bound_allocator_retention() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets glibc's tunables; no allocation is live
    // across the call that depends on them.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024);
    }
}

/// Returns the heap's free pages to the system (glibc only; elsewhere the
/// allocator does as it does).
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Time to answer in: below the API server's timeout (`?timeout=10s`), so
/// that a late answer is an error the API server's `failurePolicy` handles
/// rather than a hung call.
pub fn budget(query: Option<&str>) -> Duration {
    let api = query
        .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("timeout=")))
        .and_then(|value| crate::model::parse_duration(value).ok())
        .map(Duration::from)
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_API_TIMEOUT)
        .min(Duration::from_secs(30));
    api.saturating_sub(Duration::from_secs(1)).max(api / 2)
}

fn log_review(endpoint: Endpoint, reviewed: &Reviewed, elapsed: Duration) {
    let rules = rule_counts(&reviewed.findings);
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    macro_rules! event {
        ($level:ident) => {
            tracing::$level!(
                uid = %reviewed.uid,
                endpoint = endpoint.as_str(),
                object = %reviewed.object,
                operation = %reviewed.operation,
                dry_run = reviewed.dry_run,
                verdict = reviewed.verdict.as_str(),
                rules = %rules,
                skipped = reviewed.skipped.unwrap_or(""),
                elapsed_us = micros,
                "review"
            )
        };
    }
    match reviewed.verdict {
        Verdict::Denied | Verdict::Patched => event!(info),
        Verdict::Allowed | Verdict::Warned | Verdict::Skipped => event!(debug),
    }
}

/// `rule-a×3,rule-b`: each rule once, with how many findings it had.
fn rule_counts(findings: &[(&'static str, crate::severity::Severity)]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for (rule, _) in findings {
        match counts.iter_mut().find(|(r, _)| r == rule) {
            Some((_, n)) => *n += 1,
            None => counts.push((rule, 1)),
        }
    }
    counts
        .iter()
        .map(|(rule, n)| {
            if *n == 1 {
                (*rule).to_owned()
            } else {
                format!("{rule}×{n}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Everything a request can fail with; each becomes a status and a short
/// JSON message. Unexpected failures are logged in full and answered briefly.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{}", .0.body_text())]
    Body(BytesRejection),
    #[error(transparent)]
    Malformed(ReviewError),
    #[error("the review took longer than {0:?}, the time left before the API server gives up")]
    Timeout(Duration),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A review that failed: malformed (400), or abandoned when its deadline
    /// passed (504).
    fn from_review(error: ReviewError, budget: Duration) -> Self {
        match error {
            ReviewError::Expired(_) => ApiError::Timeout(budget),
            other => ApiError::Malformed(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Body(rejection) => rejection.status(),
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match &self {
            ApiError::Body(_) if status == StatusCode::PAYLOAD_TOO_LARGE => format!(
                "the body is larger than {} MiB",
                MAX_BODY_BYTES / (1024 * 1024)
            ),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "review failed");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        let body = serde_json::json!({"code": status.as_u16(), "message": message});
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot handle signals: {0}")]
    Signal(#[source] std::io::Error),
    #[error("cluster view: {0}")]
    Cluster(#[from] crate::cluster::ClusterError),
}

/// What `rollsafe serve` was asked to do.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub metrics_listen: Option<SocketAddr>,
    pub tls_cert: std::path::PathBuf,
    pub tls_key: std::path::PathBuf,
    pub drain_delay: Duration,
    pub shutdown_timeout: Duration,
    /// The cluster the reviewer's cluster view watches.
    pub cluster: crate::cluster::Target,
}

/// Serves until SIGTERM or SIGINT, then shuts down as described above.
pub async fn run(options: ServeOptions, reviewer: Reviewer) -> Result<(), ServeError> {
    tls::install_provider();
    let tls = Arc::new(Tls::load(CertFiles {
        cert: options.tls_cert.clone(),
        key: options.tls_key.clone(),
    })?);
    let acceptor = TlsAcceptor::from(tls.server_config()?);
    let watches = match reviewer.cluster_view() {
        Some(view) => {
            let (client, _) = crate::cluster::client(&options.cluster).await?;
            tracing::info!(
                kinds = ?view.kinds().iter().map(|k| k.kind.as_str()).collect::<Vec<_>>(),
                "cluster view: watching; /readyz waits for the first lists"
            );
            crate::cluster::watch::start(&client, view)
        }
        None => Vec::new(),
    };
    let state = AppState::new(reviewer);
    let mut signals = Signals::new()?;

    let listener = bind(options.listen).await?;
    let metrics_listener = match options.metrics_listen {
        Some(address) => Some(bind(address).await?),
        None => None,
    };
    let address = listener.local_addr().unwrap_or(options.listen);
    let poll = tls::poll_interval();
    tracing::info!(
        %address,
        policy = %state.reviewer.policy().name,
        poll_interval_ms = u64::try_from(poll.as_millis()).unwrap_or(u64::MAX),
        "listening for admission reviews (HTTPS)"
    );
    if let (Some(listener), Some(address)) = (metrics_listener, options.metrics_listen) {
        let address = listener.local_addr().unwrap_or(address);
        tracing::info!(%address, "serving /metrics (HTTP)");
        let app = metrics_router(Arc::clone(&state.metrics));
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the metrics listener failed");
            }
        });
    }
    let watcher = tokio::spawn(Arc::clone(&tls).watch(poll, Arc::clone(&state.metrics)));
    let trimmer = tokio::spawn(state.clone().trim_when_idle());

    let connections = Connections {
        acceptor,
        builder: Arc::new(http_builder()),
        service: TowerToHyperService::new(router(state.clone())),
        graceful: GracefulShutdown::new(),
    };

    // Serve until told to stop.
    loop {
        tokio::select! {
            signal = signals.next() => {
                tracing::info!(signal, drain_delay_ms = millis(options.drain_delay), "shutting down: /readyz fails; serving on for the drain delay");
                break;
            }
            accepted = listener.accept() => connections.accept(accepted).await,
        }
    }
    state.ready.store(false, Ordering::Relaxed);
    // Keep serving while endpoints stop sending traffic here.
    let drained = tokio::time::sleep(options.drain_delay);
    tokio::pin!(drained);
    loop {
        tokio::select! {
            () = &mut drained => break,
            accepted = listener.accept() => connections.accept(accepted).await,
        }
    }
    drop(listener);
    watcher.abort();
    trimmer.abort();
    for watch in &watches {
        watch.abort();
    }
    let open = connections.graceful.count();
    tracing::info!(
        open_connections = open,
        shutdown_timeout_ms = millis(options.shutdown_timeout),
        "stopped accepting connections; finishing in-flight reviews"
    );
    // Axum's and hyper's graceful shutdowns wait forever: give them a deadline.
    match tokio::time::timeout(options.shutdown_timeout, connections.graceful.shutdown()).await {
        Ok(()) => tracing::info!("all connections closed; exiting"),
        Err(_) => tracing::warn!("shutdown timeout reached with connections still open; exiting"),
    }
    // Whatever review still runs stops at its next check.
    state.cancel.store(true, Ordering::Relaxed);
    Ok(())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

async fn bind(address: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| ServeError::Bind { address, source })
}

/// HTTP/1.1 with keep-alive and HTTP/2, chosen per connection.
fn http_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper times the wait for a request's headers from when the connection
    // goes idle, so this is also the idle timeout of a keep-alive connection:
    // longer than the API server's own (Go's 90 s), so that the client closes
    // idle connections first and never sends on one the server is closing.
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(Duration::from_secs(120));
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(30));
    builder
}

struct Connections {
    acceptor: TlsAcceptor,
    builder: Arc<auto::Builder<TokioExecutor>>,
    service: TowerToHyperService<Router>,
    graceful: GracefulShutdown,
}

impl Connections {
    /// Hands an accepted socket to its own task: the TLS handshake happens
    /// there, never in the accept loop, so a slow client stalls nobody.
    async fn accept(&self, accepted: std::io::Result<(TcpStream, SocketAddr)>) {
        let (tcp, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                // Out of file descriptors, say: back off a little.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                return;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = self.acceptor.clone();
        let builder = Arc::clone(&self.builder);
        let service = self.service.clone();
        // Watched from before the handshake, so shutdown waits for it too.
        let watcher = self.graceful.watcher();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::debug!(%peer, %error, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            if let Err(error) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
}

/// SIGTERM and SIGINT.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Self, ServeError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                term: signal(SignalKind::terminate()).map_err(ServeError::Signal)?,
                int: signal(SignalKind::interrupt()).map_err(ServeError::Signal)?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "ctrl-c"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_stays_below_the_api_server_timeout() {
        assert_eq!(budget(Some("timeout=10s")), Duration::from_secs(9));
        assert_eq!(budget(Some("a=b&timeout=2s")), Duration::from_secs(1));
        assert_eq!(budget(Some("timeout=1s")), Duration::from_millis(500));
        assert_eq!(budget(None), Duration::from_secs(9));
        assert_eq!(budget(Some("timeout=bogus")), Duration::from_secs(9));
        assert_eq!(budget(Some("timeout=5m")), Duration::from_secs(29));
    }

    #[test]
    fn the_log_names_each_rule_once() {
        use crate::severity::Severity::{Error, Warning};
        let findings = [("a", Error), ("b", Warning), ("a", Error), ("a", Error)];
        assert_eq!(rule_counts(&findings), "a×3,b");
    }
}
