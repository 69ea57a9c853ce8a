//! The numbers and lists rules are tuned with, as a policy resolves them.

use crate::model::Millis;
use crate::model::serving::ServingSettings;
use crate::model::shutdown::{ShutdownSettings, TimeoutSettings};

/// The rules' settings after `extends` is resolved: every value present.
/// A policy file writes them under `settings:` (see `crate::policy`).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The shortest preStop delay that covers endpoint propagation.
    pub min_drain_delay: Millis,
    /// Time added on top of drain + shutdown before SIGKILL is acceptable.
    pub grace_margin: Millis,
    /// What a preStop hook that is not a sleep (httpGet, script) is assumed to take.
    pub assumed_hook_seconds: Millis,
    /// The app shutdown timeout to assume when none can be found.
    pub default_shutdown_timeout: Option<Millis>,
    pub max_grace_period: Millis,
    pub min_available_ratio: f64,
    pub slow_start_seconds: i64,
    pub shutdown_timeout_env: Vec<String>,
    pub shutdown_timeout_flags: Vec<String>,
    pub shelless_images: Vec<String>,
    /// Port names (or `-`-separated parts of them) of ports that carry no
    /// user traffic: metrics, health, profiling.
    pub non_serving_ports: Vec<String>,
    /// Globs of images that serve nothing but metrics.
    pub metrics_only_images: Vec<String>,
    /// Whether a liveness window equal to the readiness window is reported
    /// (both give up together, and the restart races the endpoint removal).
    pub flag_equal_probe_windows: bool,
    /// Globs of images of stores that run as one instance (a database, a
    /// broker): a second replica would be a second, separate store.
    pub single_instance_images: Vec<String>,
}

impl Settings {
    /// What a pod's shutdown is read with (see `crate::model::shutdown`).
    pub fn shutdown(&self) -> ShutdownSettings<'_> {
        ShutdownSettings {
            assumed_hook: self.assumed_hook_seconds,
            shelless_images: &self.shelless_images,
            margin: self.grace_margin,
            timeouts: TimeoutSettings {
                env_names: &self.shutdown_timeout_env,
                flags: &self.shutdown_timeout_flags,
                default: self.default_shutdown_timeout,
            },
            serving: self.serving(),
        }
    }

    /// What tells serving ports from the others (see `crate::model::serving`).
    pub fn serving(&self) -> ServingSettings<'_> {
        ServingSettings {
            port_names: &self.non_serving_ports,
            metrics_images: &self.metrics_only_images,
        }
    }
}
