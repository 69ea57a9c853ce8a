//! Rollout rules: how many pods keep serving while a workload's pods are
//! replaced, computed exactly as the controllers compute it. Each reads the
//! workload's resolved rollout, [`Rolling`]; this module holds what their
//! messages share.

mod canary_weight_inexact;
pub(crate) mod cel;
mod min_ready_seconds_zero;
mod rollout_anti_affinity_deadlock;
mod rollout_invalid_strategy;
mod rollout_low_availability;
mod rollout_recreate_strategy;
mod rollout_service_missing;
mod rollout_service_selects_no_pods;
mod rollout_zero_availability;
mod scale_down_delay_too_short;
mod single_replica;

pub use canary_weight_inexact::CanaryWeightInexact;
pub use min_ready_seconds_zero::MinReadySecondsZero;
pub use rollout_anti_affinity_deadlock::RolloutAntiAffinityDeadlock;
pub use rollout_invalid_strategy::RolloutInvalidStrategy;
pub use rollout_low_availability::RolloutLowAvailability;
pub use rollout_recreate_strategy::RolloutRecreateStrategy;
pub use rollout_service_missing::RolloutServiceMissing;
pub use rollout_service_selects_no_pods::RolloutServiceSelectsNoPods;
pub use rollout_zero_availability::RolloutZeroAvailability;
pub use scale_down_delay_too_short::ScaleDownDelayTooShort;
pub use single_replica::SingleReplica;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use super::cel::{Check, ROLLOUT_KINDS, RuleCel, serves};
use super::{Context, Rule, Settings, Violation};
use crate::fix::{self, Fix};
use crate::model::rollout::{
    DaemonSetRolling, DeploymentRolling, NodeBudget, ProblemKind, Rolling,
    STATEFULSET_MAX_UNAVAILABLE, Setting, StatefulSetRolling, StrategyProblem,
};
use crate::model::{KubeVersion, Rollout, Workload, WorkloadKind};

/// `` `maxUnavailable: 1` at `replicas: 1` `` or, for a percentage,
/// `` `maxUnavailable: 100%` resolves to `4` at `replicas: 4` ``.
fn unavailable_clause(setting: &Setting, resolved: i64, scale: &Scale) -> String {
    let phrase = setting_phrase("maxUnavailable", setting);
    match setting.value {
        IntOrString::Int(_) => format!("{phrase} at {}", scale.phrase),
        IntOrString::String(_) => {
            format!("{phrase} resolves to `{resolved}` at {}", scale.phrase)
        }
    }
}

/// The smallest scale a workload runs at, and where that number comes from.
pub(crate) struct Scale {
    pub count: i64,
    /// `` `replicas: 3` ``, `` the default `replicas: 1` ``,
    /// `` `minReplicas: 2` of HorizontalPodAutoscaler `web` ``.
    pub phrase: String,
    /// The name of the HorizontalPodAutoscaler that decides it.
    pub hpa: Option<String>,
}

impl Scale {
    /// `None` for kinds without replicas (DaemonSet, Job, CronJob).
    pub fn of(w: &Workload, cx: &Context<'_>) -> Option<Scale> {
        let count = cx.index.min_replicas(w)?;
        let scale = match cx.index.hpa_targeting(w) {
            Some(hpa) => {
                let name = hpa.object.name.clone();
                let phrase = match hpa.typed.spec.min_replicas {
                    Some(min) => {
                        format!("`minReplicas: {min}` of HorizontalPodAutoscaler `{name}`")
                    }
                    None => {
                        format!("the default `minReplicas: 1` of HorizontalPodAutoscaler `{name}`")
                    }
                };
                Scale {
                    count,
                    phrase,
                    hpa: Some(name),
                }
            }
            None => Scale {
                count,
                phrase: match w.replicas {
                    Some(n) => format!("`replicas: {n}`"),
                    None => format!("the default `replicas: {count}`"),
                },
                hpa: None,
            },
        };
        Some(scale)
    }
}

/// Whether any long-running container of `w` serves traffic.
fn serves_traffic(w: &Workload, cx: &Context<'_>) -> bool {
    let settings = cx.settings.serving();
    w.long_running_containers()
        .any(|c| cx.index.serves_traffic(w, &c, &settings))
}

/// `/spec/replicas` when written, else `/spec`.
pub(crate) fn replicas_pointer(w: &Workload) -> &'static str {
    if w.doc.value.pointer("/spec/replicas").is_some() {
        "/spec/replicas"
    } else {
        "/spec"
    }
}

/// `` `maxSurge: 0` `` or `` the default `maxUnavailable: 25%` ``.
fn setting_phrase(field: &str, setting: &Setting) -> String {
    if setting.defaulted {
        format!("the default `{field}: {setting}`")
    } else {
        format!("`{field}: {setting}`")
    }
}

/// Written as `0` or `0%`.
fn is_literal_zero(setting: &Setting) -> bool {
    !setting.defaulted
        && match &setting.value {
            IntOrString::Int(n) => *n == 0,
            IntOrString::String(text) => text == "0%",
        }
}

/// The workload's strategy object: `/spec/strategy` or `/spec/updateStrategy`.
fn strategy_pointer(w: &Workload) -> &'static str {
    match w.rollout {
        Rollout::Deployment(_) | Rollout::Argo(_) => "/spec/strategy",
        _ => "/spec/updateStrategy",
    }
}

/// The object holding `maxSurge` and `maxUnavailable`: the strategy's
/// `rollingUpdate`, or a Rollout's `canary`.
pub(crate) fn rolling_update_pointer(w: &Workload) -> String {
    match w.rollout {
        Rollout::Argo(_) => "/spec/strategy/canary".to_owned(),
        _ => format!("{}/rollingUpdate", strategy_pointer(w)),
    }
}

/// `rollingUpdate.<field>` (a Rollout's `canary.<field>`) when written,
/// else the strategy when written, else `/spec`.
fn rolling_field(w: &Workload, field: &str) -> String {
    let strategy = strategy_pointer(w);
    let pointer = format!("{}/{field}", rolling_update_pointer(w));
    if w.doc.value.pointer(&pointer).is_some() {
        pointer
    } else if w.doc.value.pointer(strategy).is_some() {
        strategy.to_owned()
    } else {
        "/spec".to_owned()
    }
}

/// The PersistentVolumeClaims a workload's pods mount, as far as they decide
/// whether `Recreate` is required.
pub(super) struct ClaimsSeen {
    /// A mounted claim is single-node (`ReadWriteOnce`, `ReadWriteOncePod`)
    /// or absent from the input, so its access is unknown.
    pub requires_recreate: bool,
    /// Mounted claims in the input that many nodes can mount.
    pub shared: Vec<String>,
}

impl ClaimsSeen {
    pub fn of(w: &Workload, cx: &Context<'_>) -> Self {
        let mut seen = ClaimsSeen {
            requires_recreate: false,
            shared: Vec::new(),
        };
        let names = w
            .pod_spec
            .volumes
            .iter()
            .flatten()
            .filter_map(|v| v.persistent_volume_claim.as_ref())
            .map(|source| source.claim_name.as_str());
        for name in names {
            let Some(claim) = cx.index.claim(w.object.namespace_key(), name) else {
                seen.requires_recreate = true;
                continue;
            };
            let modes: Vec<&str> = claim
                .typed
                .spec
                .as_ref()
                .and_then(|s| s.access_modes.as_ref())
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            let many = modes.contains(&"ReadWriteMany");
            let single = modes
                .iter()
                .any(|m| *m == "ReadWriteOnce" || *m == "ReadWriteOncePod");
            if single && !many {
                seen.requires_recreate = true;
            } else {
                seen.shared.push(name.to_owned());
            }
        }
        seen
    }
}
