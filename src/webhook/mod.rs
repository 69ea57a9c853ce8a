//! `rollsafe serve`: the validating and mutating admission webhook.
//!
//! - [`admission`]: AdmissionReview → engine → AdmissionReview (+ patch); no HTTP.
//! - [`server`]: the axum router, the HTTPS listener, graceful shutdown.
//! - [`tls`]: the rustls configuration and certificate reload.
//! - [`metrics`]: counters and a latency histogram in the Prometheus text format.

pub mod admission;
pub mod metrics;
pub mod server;
pub mod tls;

use std::io::IsTerminal;

pub use admission::{Endpoint, Mode, Mutation, Reviewer, Verdict};
pub use server::{AppState, ServeError, ServeOptions, router};

/// Logs to stderr: JSON lines when stderr is not a terminal (a pod's log), a
/// readable format otherwise. `RUST_LOG` filters (default `info`).
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if std::io::stderr().is_terminal() {
        builder.try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    };
    // Already initialised (tests): keep the subscriber there is.
    let _ = result;
}

/// How long the runtime waits for blocking work once the server has shut
/// down: reviews were cancelled by then and stop within a rule's time.
const RUNTIME_SHUTDOWN: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs the server on a multi-threaded runtime until it has shut down.
pub fn serve(options: ServeOptions, reviewer: Reviewer) -> Result<(), ServeError> {
    server::bound_allocator_retention();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Large reviews take one blocking thread per core at most; the
        // certificate reload takes another now and then.
        .max_blocking_threads(16)
        .build()
        .map_err(ServeError::Signal)?;
    let result = runtime.block_on(server::run(options, reviewer));
    // Dropping a runtime waits for every blocking task, however long it
    // runs; this waits a bounded time, then exits regardless.
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    result
}
