//! An Argo Rollouts `Rollout` (argoproj.io/v1alpha1): its canary and
//! blue-green strategies as the Rollouts controller reads and runs them.
//!
//! Every function mirrors one of the controller (argoproj/argo-rollouts):
//! `utils/defaults/defaults.go` for the defaults, `utils/replicaset`
//! (`canary.go`, `replicaset.go`) for the pod counts of a step, and
//! `pkg/apis/rollouts/validation/validation.go` for what the controller
//! refuses. The controller, not the API server, validates a Rollout: a spec
//! it refuses is marked `InvalidSpec` and nothing is rolled out.

use serde::Deserialize;
use serde_json::Value;

use super::*;

/// A whole Rollout, as its workload view decodes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArgoRolloutObject {
    #[serde(default)]
    pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    #[serde(default)]
    pub spec: ArgoRolloutSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArgoRolloutSpec {
    pub replicas: Option<i32>,
    pub selector: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    pub template: Option<k8s_openapi::api::core::v1::PodTemplateSpec>,
    pub min_ready_seconds: Option<i32>,
    #[serde(default)]
    pub strategy: ArgoStrategy,
    pub workload_ref: Option<WorkloadRef>,
}

/// `spec.strategy` and `spec.workloadRef` of a Rollout, the fields the
/// controller's arithmetic and validation read.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArgoRollout {
    #[serde(default)]
    pub strategy: ArgoStrategy,
    pub workload_ref: Option<WorkloadRef>,
}

/// `spec.strategy`: exactly one of the two.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArgoStrategy {
    pub canary: Option<CanaryStrategy>,
    pub blue_green: Option<BlueGreenStrategy>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStrategy {
    pub canary_service: Option<String>,
    pub stable_service: Option<String>,
    pub max_surge: Option<IntOrString>,
    pub max_unavailable: Option<IntOrString>,
    pub steps: Option<Vec<CanaryStep>>,
    /// Which router (istio, nginx, smi, alb, plugins, …) shifts the traffic;
    /// only its presence changes the arithmetic.
    pub traffic_routing: Option<Value>,
    pub dynamic_stable_scale: Option<bool>,
    pub scale_down_delay_seconds: Option<i32>,
    pub abort_scale_down_delay_seconds: Option<i32>,
    pub min_pods_per_replica_set: Option<i32>,
    pub ping_pong: Option<Value>,
    /// Labels the controller adds to the canary's and the stable's pods.
    pub canary_metadata: Option<PodMetadata>,
    pub stable_metadata: Option<PodMetadata>,
}

/// `canaryMetadata`, `activeMetadata`, …: labels and annotations the
/// controller adds to one side's pods only.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMetadata {
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStep {
    pub set_weight: Option<i32>,
    pub pause: Option<Value>,
    pub set_canary_scale: Option<SetCanaryScale>,
    pub analysis: Option<Value>,
    pub experiment: Option<Value>,
    pub set_header_route: Option<Value>,
    pub set_mirror_route: Option<Value>,
    pub plugin: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetCanaryScale {
    pub replicas: Option<i32>,
    pub weight: Option<i32>,
    #[serde(default)]
    pub match_traffic_weight: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlueGreenStrategy {
    pub active_service: Option<String>,
    pub preview_service: Option<String>,
    pub preview_replica_count: Option<i32>,
    pub auto_promotion_enabled: Option<bool>,
    pub auto_promotion_seconds: Option<i32>,
    pub max_unavailable: Option<IntOrString>,
    pub scale_down_delay_seconds: Option<i32>,
    pub abort_scale_down_delay_seconds: Option<i32>,
    pub active_metadata: Option<PodMetadata>,
    pub preview_metadata: Option<PodMetadata>,
}

/// `spec.workloadRef`: the pod template lives in another object.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadRef {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub scale_down: Option<String>,
}

/// `DefaultScaleDownDelaySeconds` and `DefaultAbortScaleDownDelaySeconds`.
pub const ARGO_DEFAULT_SCALE_DOWN_DELAY_SECONDS: i64 = 30;

/// The controller's `DefaultMaxSurge` and `DefaultMaxUnavailable`: `"25"`,
/// which it reads as 25 % (see [`argo_scaled_value`]).
fn argo_default() -> IntOrString {
    IntOrString::String("25%".to_owned())
}

/// The controller's `intstr.GetValueFromIntOrPercent` (the deprecated one):
/// unlike the Deployment controller's, it takes any string as a percentage
/// after removing every `%`, so `"1"` is 1 %, not one pod.
pub fn argo_scaled_value(
    value: &IntOrString,
    total: i64,
    rounding: Rounding,
) -> Result<i64, IntOrStringError> {
    match value {
        IntOrString::Int(n) => Ok(i64::from(*n)),
        IntOrString::String(text) => {
            let percent = text
                .replace('%', "")
                .parse::<i64>()
                .map_err(|_| IntOrStringError::BadPercent { text: text.clone() })?;
            Ok(scale_percent(percent, total, rounding))
        }
    }
}

/// A string the controller reads as a percentage although it has no `%`.
pub fn percent_without_sign(value: &IntOrString) -> bool {
    matches!(value, IntOrString::String(text) if !text.contains('%') && text.trim().parse::<i64>().is_ok())
}

/// A canary's resolved rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryRolling {
    pub max_surge: Setting,
    pub max_unavailable: Setting,
    /// `resolveFenceposts` of the controller (the Deployment controller's
    /// rounding and both-zero fallback).
    pub fenceposts: Fenceposts,
    /// `trafficRouting` is set: a router splits the traffic by weight and
    /// the stable ReplicaSet stays fully scaled.
    pub traffic_routed: bool,
    pub dynamic_stable_scale: bool,
    /// The canary's steps at the replica count, in order, and the promotion
    /// after the last.
    pub steps: Vec<CanaryStepState>,
    /// Seconds the old stable pods keep running after the traffic has
    /// moved off them (traffic-routed only).
    pub scale_down_delay_seconds: Option<i64>,
}

impl CanaryRolling {
    /// Without a router the canary is a rolling update in stages: between
    /// steps the controller keeps `replicas − maxUnavailable` pods available
    /// and adds at most `maxSurge`, exactly as a Deployment's rolling update
    /// does; `None` when a router splits the traffic (the stable pods then
    /// stay up until the promotion).
    pub fn replica_weighted(&self) -> Option<DeploymentRolling> {
        (!self.traffic_routed).then(|| DeploymentRolling {
            max_surge: self.max_surge.clone(),
            max_unavailable: self.max_unavailable.clone(),
            fenceposts: self.fenceposts,
        })
    }
}

/// What one step of a canary runs and where the traffic goes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStepState {
    /// The step's index in `steps`; `None` for the full promotion after the
    /// last step.
    pub index: Option<usize>,
    /// `setWeight`, `pause`, `analysis`, … as written.
    pub action: String,
    /// The canary weight in force at this step (the last `setWeight` at or
    /// before it; 100 for the promotion).
    pub weight: i64,
    pub canary_pods: i64,
    pub stable_pods: i64,
    /// The share of requests the canary pods get, in hundredths of a
    /// percent: the weight when a router splits, else the canary's share of
    /// the pods behind the Service.
    pub canary_share_basis_points: i64,
}

impl CanaryStepState {
    /// The step is a `setWeight` (not a pause, analysis, …, nor the
    /// promotion).
    pub fn sets_weight(&self) -> bool {
        self.index.is_some() && self.action.starts_with(SET_WEIGHT)
    }

    /// The canary's real share in percent.
    fn canary_share(&self) -> f64 {
        self.canary_share_basis_points as f64 / 100.0
    }

    /// The canary's share of the requests as the timeline and hovers write
    /// it: `50 %` when it is the weight asked, else `25.0 % (asked 20 %)`;
    /// and whether it is the weight asked.
    pub fn traffic(&self) -> (String, bool) {
        let share = self.canary_share();
        if share_off_weight(self.canary_share_basis_points, self.weight) == 0 {
            (format!("{share:.0} %"), true)
        } else {
            (format!("{share:.1} % (asked {} %)", self.weight), false)
        }
    }
}

/// A blue-green's resolved rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlueGreenRolling {
    pub active_service: Option<String>,
    pub preview_service: Option<String>,
    /// Pods the new ReplicaSet runs before promotion (`previewReplicaCount`,
    /// else all replicas).
    pub preview_pods: i64,
    pub auto_promotion: bool,
    /// Seconds the old pods keep running after the active Service switched.
    pub scale_down_delay_seconds: i64,
    /// Seconds the new pods keep running after an abort; `None` for never
    /// scaled down (`abortScaleDownDelaySeconds: 0`).
    pub abort_scale_down_delay_seconds: Option<i64>,
}

/// A Rollout's strategy resolved at `replicas`: `Ok(None)` when it names no
/// strategy, or both (the controller refuses both, see [`argo_problems`]).
pub(super) fn argo_rolling(
    rollout: &ArgoRollout,
    replicas: i64,
) -> Result<Option<Rolling>, RolloutFieldError> {
    match (&rollout.strategy.canary, &rollout.strategy.blue_green) {
        (Some(canary), None) => canary_rolling(canary, replicas).map(|c| Some(Rolling::Canary(c))),
        (None, Some(blue_green)) => Ok(Some(Rolling::BlueGreen(blue_green_rolling(
            blue_green, replicas,
        )))),
        _ => Ok(None),
    }
}

/// `resolveFenceposts` as the Rollouts controller calls it.
fn argo_fenceposts(
    max_surge: &Setting,
    max_unavailable: &Setting,
    replicas: i64,
) -> Result<Fenceposts, RolloutFieldError> {
    fenceposts_read_by(
        argo_scaled_value,
        (&max_surge.value, "/canary/maxSurge"),
        (&max_unavailable.value, "/canary/maxUnavailable"),
        replicas,
    )
}

fn canary_rolling(
    canary: &CanaryStrategy,
    replicas: i64,
) -> Result<CanaryRolling, RolloutFieldError> {
    let max_surge = Setting::from_field(canary.max_surge.as_ref(), argo_default());
    let max_unavailable = Setting::from_field(canary.max_unavailable.as_ref(), argo_default());
    let fenceposts = argo_fenceposts(&max_surge, &max_unavailable, replicas)?;
    let traffic_routed = canary.traffic_routing.is_some();
    let dynamic_stable_scale = traffic_routed && canary.dynamic_stable_scale.unwrap_or(false);
    let steps = canary_steps(canary, replicas, fenceposts.max_surge);
    Ok(CanaryRolling {
        max_surge,
        max_unavailable,
        fenceposts,
        traffic_routed,
        dynamic_stable_scale,
        steps,
        scale_down_delay_seconds: traffic_routed.then(|| {
            canary
                .scale_down_delay_seconds
                .map_or(ARGO_DEFAULT_SCALE_DOWN_DELAY_SECONDS, i64::from)
        }),
    })
}

fn blue_green_rolling(blue_green: &BlueGreenStrategy, replicas: i64) -> BlueGreenRolling {
    BlueGreenRolling {
        active_service: blue_green.active_service.clone(),
        preview_service: blue_green.preview_service.clone(),
        preview_pods: blue_green
            .preview_replica_count
            .map_or(replicas, |n| i64::from(n).clamp(0, replicas.max(0))),
        auto_promotion: blue_green.auto_promotion_enabled.unwrap_or(true),
        scale_down_delay_seconds: blue_green
            .scale_down_delay_seconds
            .map_or(ARGO_DEFAULT_SCALE_DOWN_DELAY_SECONDS, i64::from),
        abort_scale_down_delay_seconds: match blue_green.abort_scale_down_delay_seconds {
            Some(0) => None,
            Some(n) => Some(i64::from(n)),
            None => Some(ARGO_DEFAULT_SCALE_DOWN_DELAY_SECONDS),
        },
    }
}

const SET_WEIGHT: &str = "setWeight";

/// The step's action as the manifest names it.
fn action_of(step: &CanaryStep) -> String {
    if let Some(weight) = step.set_weight {
        return format!("{SET_WEIGHT}: {weight}");
    }
    if let Some(scale) = &step.set_canary_scale {
        return match (scale.replicas, scale.weight, scale.match_traffic_weight) {
            (Some(n), _, _) => format!("setCanaryScale: replicas {n}"),
            (None, Some(w), _) => format!("setCanaryScale: weight {w}"),
            (None, None, true) => "setCanaryScale: matchTrafficWeight".to_owned(),
            _ => "setCanaryScale".to_owned(),
        };
    }
    let named = [
        ("pause", step.pause.is_some()),
        ("analysis", step.analysis.is_some()),
        ("experiment", step.experiment.is_some()),
        ("setHeaderRoute", step.set_header_route.is_some()),
        ("setMirrorRoute", step.set_mirror_route.is_some()),
        ("plugin", step.plugin.is_some()),
    ];
    named
        .iter()
        .find(|(_, present)| *present)
        .map_or_else(|| "(no action)".to_owned(), |(name, _)| (*name).to_owned())
}

/// The pods and traffic of every step, as `GetCurrentSetWeight`,
/// `UseSetCanaryScale` and the two `CalculateReplicaCounts…` functions give
/// them once the step is reached, then the promotion to 100 %.
fn canary_steps(canary: &CanaryStrategy, replicas: i64, max_surge: i64) -> Vec<CanaryStepState> {
    let traffic_routed = canary.traffic_routing.is_some();
    let dynamic = traffic_routed && canary.dynamic_stable_scale.unwrap_or(false);
    let min_pods = canary
        .min_pods_per_replica_set
        .filter(|_| traffic_routed)
        .map(i64::from);
    let at_least_min = |count: i64| match min_pods {
        Some(min) if count != 0 => count.max(min),
        _ => count,
    };
    let steps = canary.steps.as_deref().unwrap_or_default();
    let mut weight = 0_i64;
    let mut scale: Option<&SetCanaryScale> = None;
    let mut states = Vec::with_capacity(steps.len() + 1);
    let state_at =
        |index: Option<usize>, action: String, weight: i64, scale: Option<&SetCanaryScale>| {
            if !traffic_routed {
                let (canary_pods, stable_pods, share) =
                    replica_weighted_step(replicas, weight, max_surge);
                return CanaryStepState {
                    index,
                    action,
                    weight,
                    canary_pods,
                    stable_pods,
                    canary_share_basis_points: share,
                };
            }
            let (canary_pods, desired_weight) = match scale {
                Some(SetCanaryScale {
                    replicas: Some(n), ..
                }) => (i64::from(*n), 0),
                Some(SetCanaryScale {
                    weight: Some(w), ..
                }) => {
                    let w = i64::from(*w);
                    (at_least_min(traffic_weight_to_replicas(replicas, w)), w)
                }
                _ => (
                    at_least_min(traffic_weight_to_replicas(replicas, weight)),
                    weight,
                ),
            };
            let stable_pods = if dynamic {
                at_least_min(traffic_weight_to_replicas(replicas, 100 - desired_weight))
            } else {
                replicas
            };
            CanaryStepState {
                index,
                action,
                weight,
                canary_pods,
                stable_pods,
                canary_share_basis_points: weight.saturating_mul(100),
            }
        };
    for (index, step) in steps.iter().enumerate() {
        if let Some(w) = step.set_weight {
            weight = i64::from(w);
        }
        if let Some(set) = &step.set_canary_scale {
            scale = (!set.match_traffic_weight).then_some(set);
        }
        let used_scale = scale.filter(|_| traffic_routed);
        states.push(state_at(Some(index), action_of(step), weight, used_scale));
    }
    states.push(state_at(None, "promotion".to_owned(), 100, None));
    states
}

/// A step of a canary without a router: the canary and stable pods the
/// controller runs at `weight` ([`approximate_weighted_counts`]) and the
/// canary's share of them, which is its share of the requests, in basis
/// points.
pub fn replica_weighted_step(replicas: i64, weight: i64, max_surge: i64) -> (i64, i64, i64) {
    let (canary, stable) = approximate_weighted_counts(replicas, weight, max_surge);
    let total = canary.saturating_add(stable);
    let share = if total > 0 {
        canary.saturating_mul(10_000) / total
    } else {
        0
    };
    (canary, stable, share)
}

/// How far a share of the requests strays from the weight a step asks for,
/// both in basis points.
pub fn share_off_weight(share_basis_points: i64, weight: i64) -> i64 {
    share_basis_points
        .saturating_sub(weight.saturating_mul(100))
        .saturating_abs()
}

/// `trafficWeightToReplicas`: `weight` % of `replicas`, rounded up.
pub fn traffic_weight_to_replicas(replicas: i64, weight: i64) -> i64 {
    scale_percent(weight, replicas, Rounding::Up)
}

/// `approximateWeightedCanaryStableReplicaCounts`: the canary and stable
/// pod counts whose ratio comes closest to `weight`, on `replicas` pods or,
/// when the rollout may surge, one more. Between 1 and 99 % and with two or
/// more pods, neither side is ever 0.
pub fn approximate_weighted_counts(replicas: i64, weight: i64, max_surge: i64) -> (i64, i64) {
    if replicas <= 0 {
        return (0, 0);
    }
    let ceil = scale_percent(weight, replicas, Rounding::Up);
    let floor = scale_percent(weight, replicas, Rounding::Down);
    let tied = |total: i64| (i128::from(total) * i128::from(weight) * 2) % 200 == 100;
    let zero_allowed = weight == 100 || weight == 0 || (replicas == 1 && max_surge == 0);
    let mut options: Vec<(i64, i64)> = Vec::with_capacity(4);
    if ceil < replicas || zero_allowed {
        options.push((ceil, replicas));
    }
    if !tied(replicas) && (floor != 0 || zero_allowed) {
        options.push((floor, replicas));
    }
    if max_surge > 0 {
        let total = replicas.saturating_add(1);
        options.push((ceil, total));
        if !tied(total) && (floor != 0 || zero_allowed) {
            options.push((floor, total));
        }
    }
    // The controller compares float64 distances; comparing
    // |canary × 100 − weight × total| / total exactly keeps its first-best
    // choice on ties.
    let delta = |(canary, total): (i64, i64)| -> (i128, i128) {
        let num = (i128::from(canary) * 100 - i128::from(weight) * i128::from(total)).abs();
        (num, i128::from(total))
    };
    let Some(mut best) = options.first().copied() else {
        return (0, replicas);
    };
    for option in options.iter().skip(1).copied() {
        let (a, b) = delta(option);
        let (c, d) = delta(best);
        if a * d < c * b {
            best = option;
        }
    }
    (best.0, best.1 - best.0)
}

/// One thing the Rollouts controller refuses in a Rollout's spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgoProblem {
    /// Below `/spec/strategy`.
    pub pointer: String,
    pub message: String,
    pub help: String,
}

/// What `ValidateRolloutStrategy` refuses, in its order (the parts that
/// concern the rollout and its traffic; analysis arguments, header and
/// mirror routes are not checked).
pub fn argo_problems(rollout: &ArgoRollout) -> Vec<ArgoProblem> {
    let mut problems = Vec::new();
    let mut push = |pointer: String, message: String, help: &str| {
        problems.push(ArgoProblem {
            pointer,
            message,
            help: help.to_owned(),
        });
    };
    let strategy = &rollout.strategy;
    match (&strategy.canary, &strategy.blue_green) {
        (None, None) => push(
            String::new(),
            "the strategy names neither `canary` nor `blueGreen`: the Rollouts controller refuses the spec and rolls nothing out".to_owned(),
            "add `canary:` (with `steps`) or `blueGreen:` (with `activeService`)",
        ),
        (Some(_), Some(_)) => push(
            String::new(),
            "the strategy sets both `canary` and `blueGreen`: the Rollouts controller refuses the spec and rolls nothing out".to_owned(),
            "keep one of `canary` and `blueGreen`",
        ),
        (None, Some(blue_green)) => {
            if blue_green.active_service == blue_green.preview_service {
                push(
                    "/blueGreen/activeService".to_owned(),
                    "`activeService` and `previewService` are the same Service: the Rollouts controller refuses the spec".to_owned(),
                    "name two different Services: production traffic goes to `activeService`, tests of the new version to `previewService`",
                );
            }
        }
        (Some(canary), None) => canary_problems(canary, &mut push),
    }
    problems
}

fn canary_problems(canary: &CanaryStrategy, push: &mut impl FnMut(String, String, &str)) {
    // `getIntOrPercentValue` reads values as the Deployment validation does.
    let surge = canary.max_surge.as_ref().map_or(25, validation_value);
    let unavailable = canary.max_unavailable.as_ref().map_or(25, validation_value);
    if surge == 0 && unavailable == 0 {
        push(
            "/canary/maxSurge".to_owned(),
            "`maxSurge` and `maxUnavailable` are both 0: the Rollouts controller refuses the spec"
                .to_owned(),
            "set `maxSurge: 1` to start each new pod before an old one stops",
        );
    }
    if let (Some(canary_service), Some(stable_service)) =
        (&canary.canary_service, &canary.stable_service)
        && !canary_service.is_empty()
        && canary_service == stable_service
    {
        push(
            "/canary/stableService".to_owned(),
            "`canaryService` and `stableService` are the same Service: the Rollouts controller refuses the spec".to_owned(),
            "name two different Services, each selecting the Rollout's pods",
        );
    }
    let routed = canary.traffic_routing.as_ref();
    // An Istio DestinationRule (subset-level splitting) or ping-pong
    // Services replace the canary and stable Services.
    let by_subsets = routed
        .and_then(|r| r.pointer("/istio/destinationRule"))
        .is_some();
    if routed.is_some() && !by_subsets && canary.ping_pong.is_none() {
        for (field, name) in [
            ("stableService", &canary.stable_service),
            ("canaryService", &canary.canary_service),
        ] {
            if name.as_deref().unwrap_or_default().is_empty() {
                push(
                    format!("/canary/{field}"),
                    format!(
                        "`trafficRouting` needs `canaryService` and `stableService`, and `{field}` is not set: the Rollouts controller refuses the spec"
                    ),
                    "name the two Services the router splits traffic between, each selecting the Rollout's pods",
                );
            }
        }
    }
    if routed.is_none() {
        if let Some(seconds) = canary.scale_down_delay_seconds {
            push(
                "/canary/scaleDownDelaySeconds".to_owned(),
                format!(
                    "`scaleDownDelaySeconds: {seconds}` needs `trafficRouting`: the Rollouts controller refuses the spec"
                ),
                "remove `scaleDownDelaySeconds`: without a router the old pods are scaled down step by step as the canary grows",
            );
        }
        if canary.dynamic_stable_scale == Some(true) {
            push(
                "/canary/dynamicStableScale".to_owned(),
                "`dynamicStableScale` needs `trafficRouting`: the Rollouts controller refuses the spec".to_owned(),
                "remove `dynamicStableScale`",
            );
        }
    } else if canary.scale_down_delay_seconds.is_some() && canary.dynamic_stable_scale == Some(true)
    {
        push(
            "/canary/dynamicStableScale".to_owned(),
            "`dynamicStableScale` cannot be used with `scaleDownDelaySeconds`: the Rollouts controller refuses the spec".to_owned(),
            "remove one of `dynamicStableScale` and `scaleDownDelaySeconds`",
        );
    }
    for (index, step) in canary.steps.iter().flatten().enumerate() {
        if let Some(weight) = step.set_weight
            && !(0..=100).contains(&weight)
        {
            push(
                format!("/canary/steps/{index}/setWeight"),
                format!(
                    "`setWeight: {weight}` is outside 0–100: the Rollouts controller refuses the spec (\"SetWeight needs to be between 0 and 100\")"
                ),
                "set a weight between 0 and 100, the percentage of traffic the canary gets",
            );
        }
        if step.set_canary_scale.is_some() && routed.is_none() {
            push(
                format!("/canary/steps/{index}/setCanaryScale"),
                "`setCanaryScale` needs `trafficRouting`: the Rollouts controller refuses the spec"
                    .to_owned(),
                "remove the step, or route traffic with `trafficRouting`",
            );
        }
        if action_of(step) == "(no action)" {
            push(
                format!("/canary/steps/{index}"),
                "the step has no action: the Rollouts controller refuses the spec (\"Step must have one of the following set: experiment, setWeight, setCanaryScale or pause\")".to_owned(),
                "give the step one of `setWeight`, `pause`, `analysis`, `experiment` or `setCanaryScale`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(value: serde_json::Value) -> ArgoRollout {
        serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The examples of the controller's own doc comment and tests
    /// (`TestApproximateWeightedCanaryStableReplicaCounts`).
    #[test]
    fn approximate_counts_match_the_controller() {
        let cases = [
            // (replicas, weight, maxSurge) → (canary, stable)
            ((0, 50, 1), (0, 0)),
            ((1, 0, 1), (0, 1)),
            ((1, 100, 1), (1, 0)),
            ((1, 50, 0), (1, 0)),
            ((1, 50, 1), (1, 1)),
            ((1, 20, 1), (1, 1)),
            ((2, 50, 1), (1, 1)),
            ((3, 20, 1), (1, 3)),
            ((3, 20, 0), (1, 2)),
            ((3, 50, 1), (2, 2)),
            ((3, 50, 0), (2, 1)),
            ((4, 10, 1), (1, 4)),
            ((5, 20, 2), (1, 4)),
            ((10, 10, 3), (1, 9)),
            ((10, 25, 3), (3, 8)),
            ((10, 5, 3), (1, 10)),
            ((2, 90, 0), (1, 1)),
        ];
        for ((replicas, weight, surge), expected) in cases {
            assert_eq!(
                approximate_weighted_counts(replicas, weight, surge),
                expected,
                "{replicas} replicas at {weight}% with maxSurge {surge}"
            );
        }
    }

    #[test]
    fn argo_reads_any_string_as_a_percentage() {
        let text = |s: &str| IntOrString::String(s.to_owned());
        assert_eq!(argo_scaled_value(&text("25"), 10, Rounding::Up), Ok(3));
        assert_eq!(argo_scaled_value(&text("1"), 10, Rounding::Down), Ok(0));
        assert_eq!(argo_scaled_value(&text("50%"), 3, Rounding::Down), Ok(1));
        assert!(argo_scaled_value(&text("x"), 3, Rounding::Down).is_err());
        assert!(percent_without_sign(&text("1")));
        assert!(!percent_without_sign(&text("1%")));
    }

    #[test]
    fn basic_canary_steps() {
        let r = rollout(serde_json::json!({"strategy": {"canary": {"steps": [
            {"setWeight": 20}, {"pause": {}}, {"setWeight": 50}
        ]}}}));
        let Ok(Some(Rolling::Canary(canary))) = argo_rolling(&r, 3) else {
            panic!("not a canary")
        };
        let counts: Vec<_> = canary
            .steps
            .iter()
            .map(|s| {
                (
                    s.weight,
                    s.canary_pods,
                    s.stable_pods,
                    s.canary_share_basis_points,
                )
            })
            .collect();
        assert_eq!(
            counts,
            vec![
                (20, 1, 3, 2500),
                (20, 1, 3, 2500),
                (50, 2, 2, 5000),
                (100, 3, 0, 10000)
            ]
        );
        assert_eq!(canary.fenceposts.max_surge, 1);
        assert_eq!(canary.fenceposts.min_available(), 3);
    }

    #[test]
    fn traffic_routed_canary_keeps_the_stable_scaled() {
        let r = rollout(serde_json::json!({"strategy": {"canary": {
            "canaryService": "c", "stableService": "s",
            "trafficRouting": {"istio": {"virtualService": {"name": "vs"}}},
            "steps": [{"setWeight": 10}, {"setCanaryScale": {"replicas": 2}}, {"setWeight": 30}]
        }}}));
        let Ok(Some(Rolling::Canary(canary))) = argo_rolling(&r, 5) else {
            panic!("not a canary")
        };
        let counts: Vec<_> = canary
            .steps
            .iter()
            .map(|s| (s.weight, s.canary_pods, s.stable_pods))
            .collect();
        assert_eq!(
            counts,
            vec![(10, 1, 5), (10, 2, 5), (30, 2, 5), (100, 5, 5)]
        );
        assert_eq!(canary.scale_down_delay_seconds, Some(30));
    }

    #[test]
    fn dynamic_stable_scale_shrinks_the_stable() {
        let r = rollout(serde_json::json!({"strategy": {"canary": {
            "canaryService": "c", "stableService": "s", "dynamicStableScale": true,
            "trafficRouting": {"nginx": {"stableIngress": "web"}},
            "steps": [{"setWeight": 25}, {"setWeight": 75}]
        }}}));
        let Ok(Some(Rolling::Canary(canary))) = argo_rolling(&r, 4) else {
            panic!("not a canary")
        };
        let counts: Vec<_> = canary
            .steps
            .iter()
            .map(|s| (s.canary_pods, s.stable_pods))
            .collect();
        assert_eq!(counts, vec![(1, 3), (3, 1), (4, 0)]);
    }

    #[test]
    fn validation_as_the_controller() {
        let r = rollout(serde_json::json!({"strategy": {"canary": {
            "maxSurge": 0, "maxUnavailable": "0%", "scaleDownDelaySeconds": 10,
            "steps": [{"setWeight": 120}, {}]
        }}}));
        let pointers: Vec<_> = argo_problems(&r).into_iter().map(|p| p.pointer).collect();
        assert_eq!(
            pointers,
            vec![
                "/canary/maxSurge",
                "/canary/scaleDownDelaySeconds",
                "/canary/steps/0/setWeight",
                "/canary/steps/1"
            ]
        );
        let both = rollout(
            serde_json::json!({"strategy": {"canary": {}, "blueGreen": {"activeService": "a"}}}),
        );
        assert_eq!(argo_problems(&both).len(), 1);
        let routed = rollout(serde_json::json!({"strategy": {"canary": {
            "trafficRouting": {"smi": {}}, "stableService": "s"}}}));
        let pointers: Vec<_> = argo_problems(&routed)
            .into_iter()
            .map(|p| p.pointer)
            .collect();
        assert_eq!(pointers, vec!["/canary/canaryService"]);
    }
}
