//! Rollout arithmetic: how the Kubernetes controllers turn `maxSurge`,
//! `maxUnavailable` and `partition` into pod counts, and what the API server
//! rejects before any controller sees them.
//!
//! Every function mirrors a named Kubernetes function; the rules must reach
//! the same numbers as the cluster, rounding included, or a finding would
//! contradict what `kubectl rollout` then does. Inputs come from manifests,
//! so nothing here panics or overflows: counts are `i64`, products are taken
//! in `i128` and clamped.

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

pub use daemonset::*;
pub use deployment::*;
pub use int_or_percent::*;
pub use plan::*;
pub use statefulset::*;
pub use validation::*;

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
