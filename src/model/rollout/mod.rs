//! Rollout arithmetic: how the Kubernetes controllers turn `maxSurge`,
//! `maxUnavailable` and `partition` into pod counts, and what the API server
//! rejects before any controller sees them.
//!
//! Every function mirrors a named Kubernetes function; the rules must reach
//! the same numbers as the cluster, rounding included, or a finding would
//! contradict what `kubectl rollout` then does. Inputs come from manifests,
//! so nothing here panics or overflows: counts are `i64`, products are taken
//! in `i128` and clamped.

mod argo;
mod daemonset;
mod deployment;
mod int_or_percent;
mod plan;
mod statefulset;
mod validation;

use std::fmt;

use k8s_openapi::api::apps::v1::{
    DaemonSetUpdateStrategy, DeploymentStrategy, RollingUpdateDaemonSet, RollingUpdateDeployment,
    StatefulSetUpdateStrategy,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::version::KubeVersion;

pub use argo::*;
pub use daemonset::*;
pub use deployment::*;
pub use int_or_percent::*;
pub use plan::*;
pub use statefulset::*;
pub use validation::*;

/// A workload's update strategy as written: how it replaces its pods.
#[derive(Debug, Clone, PartialEq)]
pub enum Rollout {
    Deployment(Option<DeploymentStrategy>),
    StatefulSet(Option<StatefulSetUpdateStrategy>),
    DaemonSet(Option<DaemonSetUpdateStrategy>),
    /// An Argo Rollouts `Rollout`: its canary or blue-green strategy.
    Argo(Box<ArgoRollout>),
    /// Pods, ReplicaSets, ReplicationControllers, Jobs and custom kinds: no
    /// rolling update of their own.
    None,
}

/// A workload's rollout as its controller runs it: the strategy type, and
/// for a rolling update the fields resolved against the replica count. The
/// one place that tells the kinds and their strategy types apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rolling {
    /// A Deployment's rolling update, resolved to fenceposts.
    Deployment(DeploymentRolling),
    /// A StatefulSet's rolling update, with the pods it stops at once on the
    /// policy's Kubernetes version.
    StatefulSet {
        rolling: StatefulSetRolling,
        down_at_once: i64,
    },
    /// A DaemonSet's rolling update: a share or count of the nodes.
    DaemonSet(DaemonSetRolling),
    /// An Argo Rollouts canary: its steps' pod counts and traffic shares.
    Canary(CanaryRolling),
    /// An Argo Rollouts blue-green: a full new set of pods, then the switch.
    BlueGreen(BlueGreenRolling),
    /// A Deployment's `Recreate`: every pod stops before new ones start.
    Recreate,
    /// A StatefulSet's or DaemonSet's `OnDelete`: pods are replaced only
    /// when someone deletes them.
    OnDelete,
    /// A strategy type Kubernetes does not know, as written.
    UnknownType(String),
    /// A value the controller cannot read (the API server refuses it:
    /// `rollout-invalid-strategy` reports it).
    Unreadable(RolloutFieldError),
    /// Pods, ReplicaSets, Jobs and custom kinds: no rollout of their own.
    None,
}

impl Rolling {
    /// `rollout` resolved at `replicas` (the smallest scale the workload
    /// runs at; a DaemonSet's counts nodes and ignores it) on Kubernetes
    /// `version`.
    pub fn of(rollout: &Rollout, replicas: i64, version: KubeVersion) -> Rolling {
        match rollout {
            Rollout::None => Rolling::None,
            Rollout::Deployment(strategy) => match DeploymentStrategyType::of(strategy.as_ref()) {
                DeploymentStrategyType::Recreate => Rolling::Recreate,
                DeploymentStrategyType::Unknown(text) => Rolling::UnknownType(text),
                DeploymentStrategyType::RollingUpdate => {
                    match deployment_rolling(strategy.as_ref(), replicas) {
                        Ok(Some(rolling)) => Rolling::Deployment(rolling),
                        Ok(None) => Rolling::None,
                        Err(error) => Rolling::Unreadable(error),
                    }
                }
            },
            Rollout::StatefulSet(strategy) => {
                match StatefulSetStrategyType::of(strategy.as_ref()) {
                    StatefulSetStrategyType::OnDelete => Rolling::OnDelete,
                    StatefulSetStrategyType::Unknown(text) => Rolling::UnknownType(text),
                    StatefulSetStrategyType::RollingUpdate => {
                        match statefulset_rolling(strategy.as_ref(), replicas) {
                            Ok(Some(rolling)) => Rolling::StatefulSet {
                                down_at_once: rolling
                                    .max_unavailable_at(version)
                                    .min(rolling.updated_pods(replicas)),
                                rolling,
                            },
                            Ok(None) => Rolling::None,
                            Err(error) => Rolling::Unreadable(error),
                        }
                    }
                }
            }
            Rollout::Argo(rollout) => match argo_rolling(rollout, replicas) {
                Ok(Some(rolling)) => rolling,
                Ok(None) => Rolling::None,
                Err(error) => Rolling::Unreadable(error),
            },
            Rollout::DaemonSet(strategy) => match DaemonSetStrategyType::of(strategy.as_ref()) {
                DaemonSetStrategyType::OnDelete => Rolling::OnDelete,
                DaemonSetStrategyType::Unknown(text) => Rolling::UnknownType(text),
                DaemonSetStrategyType::RollingUpdate => {
                    match daemonset_rolling(strategy.as_ref()) {
                        Ok(Some(rolling)) => Rolling::DaemonSet(rolling),
                        Ok(None) => Rolling::None,
                        Err(error) => Rolling::Unreadable(error),
                    }
                }
            },
        }
    }

    /// The strategy type as Kubernetes names it.
    pub fn type_name(&self) -> &str {
        match self {
            Rolling::Deployment(_)
            | Rolling::StatefulSet { .. }
            | Rolling::DaemonSet(_)
            | Rolling::Unreadable(_) => "RollingUpdate",
            Rolling::Canary(_) => "canary",
            Rolling::BlueGreen(_) => "blueGreen",
            Rolling::Recreate => "Recreate",
            Rolling::OnDelete => "OnDelete",
            Rolling::UnknownType(text) => text,
            Rolling::None => "",
        }
    }
}

impl Rollout {
    /// What the API server rejects in the update strategy: the strategy's
    /// pointer and the problems, `None` for kinds without a rollout.
    pub fn problems(&self, version: KubeVersion) -> Option<(&'static str, Vec<StrategyProblem>)> {
        match self {
            Rollout::Deployment(s) => {
                Some(("/spec/strategy", validate_deployment_strategy(s.as_ref())))
            }
            Rollout::StatefulSet(s) => Some((
                "/spec/updateStrategy",
                validate_statefulset_strategy(s.as_ref(), version),
            )),
            Rollout::DaemonSet(s) => Some((
                "/spec/updateStrategy",
                validate_daemonset_strategy(s.as_ref()),
            )),
            Rollout::Argo(_) | Rollout::None => None,
        }
    }
}

/// What the tests of the arithmetic share.
#[cfg(test)]
pub(in crate::model) mod testing {
    pub use super::*;
    pub use k8s_openapi::api::apps::v1::RollingUpdateStatefulSetStrategy;

    pub fn int(n: i32) -> IntOrString {
        IntOrString::Int(n)
    }

    pub fn text(s: &str) -> IntOrString {
        IntOrString::String(s.to_owned())
    }

    pub fn rolling(
        surge: Option<IntOrString>,
        unavailable: Option<IntOrString>,
    ) -> DeploymentStrategy {
        DeploymentStrategy {
            type_: None,
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: surge,
                max_unavailable: unavailable,
            }),
        }
    }

    pub fn fenceposts(strategy: Option<&DeploymentStrategy>, replicas: i64) -> Fenceposts {
        match deployment_rolling(strategy, replicas) {
            Ok(Some(d)) => d.fenceposts,
            other => panic!("{other:?}"),
        }
    }

    pub fn pointers(problems: &[StrategyProblem]) -> Vec<&'static str> {
        problems.iter().map(|p| p.pointer).collect()
    }
}
