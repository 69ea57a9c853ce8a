//! Rollout rules: how many pods keep serving while a workload's pods are
//! replaced, computed exactly as the controllers compute it.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use super::{Context, Rule, Violation};
use crate::fix::{self, Fix};
use crate::model::rollout::{
    DaemonSetRolling, DaemonSetStrategyType, DeploymentRolling, DeploymentStrategyType, NodeBudget,
    ProblemKind, STATEFULSET_MAX_UNAVAILABLE, Setting, StatefulSetRolling, StatefulSetStrategyType,
    StrategyProblem, daemonset_rolling, deployment_rolling, statefulset_rolling,
    validate_daemonset_strategy, validate_deployment_strategy, validate_statefulset_strategy,
};
use crate::model::{KubeVersion, Rollout, Workload, WorkloadKind};

declare_rule! {
    /// ## What it does
    /// Flags a rolling update that may take every replica down at once. The
    /// values are resolved exactly as the controllers resolve them, at the
    /// smallest scale the workload runs at (the `minReplicas` of an HPA that
    /// targets it, else `spec.replicas`, default 1).
    ///
    /// - Deployment: `maxSurge` is scaled against the replicas and rounded
    ///   up, `maxUnavailable` rounded down; when both come out 0 Kubernetes
    ///   replaces `maxUnavailable` with 1. Absent fields are `25%` each. The
    ///   rule fires when `maxUnavailable` resolves to the replica count or
    ///   more.
    /// - DaemonSet: `maxUnavailable` of `100%` (a share of the nodes, whose
    ///   number is unknown offline) with no `maxSurge`.
    /// - StatefulSet with 2 or more replicas: `maxUnavailable` resolving to
    ///   the replica count or more, on Kubernetes 1.35 and later (before, the
    ///   field is dropped and pods are replaced one at a time). A partition
    ///   that keeps pods on the old revision keeps them up. A 1-replica
    ///   StatefulSet is reported by `single-replica`.
    ///
    /// ## Why it matters
    /// Every pod of the old revision is stopped before a pod of the new one
    /// is ready: each rollout is an outage, however short. The classic trap
    /// is the "no downtime" look of `maxSurge: 0`: with
    /// `maxUnavailable: 25%` (written or defaulted) on one replica both
    /// values resolve to 0, and rather than stall the controller takes
    /// `maxUnavailable` as 1 and stops the only pod. Both written as 0 is the same trap, which the API
    /// server rejects (`rollout-invalid-strategy` reports that too). The
    /// defaults themselves are fine at one replica: `25%` surge rounds up to
    /// 1 and `25%` unavailable rounds down to 0, so the new pod starts first.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: 1
    ///   strategy:
    ///     rollingUpdate:
    ///       maxSurge: 0
    ///       maxUnavailable: 1
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   replicas: 1
    ///   strategy:
    ///     rollingUpdate:
    ///       maxSurge: 1
    ///       maxUnavailable: 0
    /// ```
    ///
    /// ## Fix
    /// For a Deployment: sets `maxUnavailable: 0` and, unless `maxSurge`
    /// already resolves to at least one pod, `maxSurge: 1`, creating
    /// `strategy.rollingUpdate` when it is missing. The rollout then starts
    /// each new pod before it stops an old one. DaemonSets and StatefulSets
    /// are not fixed: surging a DaemonSet conflicts with host ports, and a
    /// StatefulSet cannot surge.
    pub struct RolloutZeroAvailability {
        id: "rollout-zero-availability",
        family: Rollout,
        scope: Object,
        fix: Sometimes,
        settings: [],
    }
}

impl Rule for RolloutZeroAvailability {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        match &w.rollout {
            Rollout::Deployment(strategy) => {
                let Some(scale) = Scale::of(w, cx) else {
                    return;
                };
                let Ok(Some(rolling)) = deployment_rolling(strategy.as_ref(), scale.count) else {
                    return;
                };
                if rolling.fenceposts.zero_availability() {
                    out.push(deployment_zero(w, &scale, &rolling));
                }
            }
            Rollout::DaemonSet(strategy) => {
                let Ok(Some(rolling)) = daemonset_rolling(strategy.as_ref()) else {
                    return;
                };
                if rolling.all_nodes_may_be_down() {
                    out.push(Violation::new(
                        rolling_field(w, "maxUnavailable"),
                        format!(
                            "{} with no `maxSurge` lets a rollout stop the pod on every node at once: each node runs none until its replacement is ready",
                            setting_phrase("maxUnavailable", &rolling.max_unavailable)
                        ),
                        "set `maxUnavailable` below `100%`, e.g. `maxUnavailable: 10%`, or surge with `maxSurge: 1` and `maxUnavailable: 0`",
                    ));
                }
            }
            Rollout::StatefulSet(strategy) => {
                let Some(scale) = Scale::of(w, cx) else {
                    return;
                };
                if scale.count < 2 {
                    return;
                }
                let Ok(Some(rolling)) = statefulset_rolling(strategy.as_ref(), scale.count) else {
                    return;
                };
                let down = statefulset_down(&rolling, scale.count, cx.kubernetes);
                if down >= scale.count {
                    out.push(Violation::new(
                        rolling_field(w, "maxUnavailable"),
                        format!(
                            "{} on Kubernetes {}: a rollout may stop all `{}` pods at once",
                            unavailable_clause(&rolling.max_unavailable, down, &scale),
                            cx.kubernetes,
                            scale.count
                        ),
                        format!(
                            "set `maxUnavailable` to `{}` or less, e.g. `maxUnavailable: 1`",
                            scale.count - 1
                        ),
                    ));
                }
            }
            Rollout::None => {}
        }
    }
}

fn deployment_zero(w: &Workload, scale: &Scale, rolling: &DeploymentRolling) -> Violation {
    let f = &rolling.fenceposts;
    let message = if f.zero_fallback {
        let surge = setting_phrase("maxSurge", &rolling.max_surge);
        let unavailable = setting_phrase("maxUnavailable", &rolling.max_unavailable);
        let resolve =
            if is_literal_zero(&rolling.max_surge) && is_literal_zero(&rolling.max_unavailable) {
                ""
            } else {
                " both resolve to 0, so"
            };
        format!(
            "with {}, {surge} and {unavailable}{resolve} Kubernetes takes `maxUnavailable` as `1`: the only pod is stopped before its replacement is ready",
            scale.phrase
        )
    } else {
        let outage = if scale.count == 1 {
            "the only pod before its replacement is ready".to_owned()
        } else {
            format!("all `{}` pods before any replacement is ready", scale.count)
        };
        format!(
            "{}: a rollout may stop {outage}",
            unavailable_clause(&rolling.max_unavailable, f.unavailable_budget(), scale)
        )
    };
    let target = if f.max_surge >= 1 {
        format!(
            "`maxUnavailable: 0` ({} already adds a pod)",
            setting_phrase("maxSurge", &rolling.max_surge)
        )
    } else {
        "`maxUnavailable: 0` and `maxSurge: 1`".to_owned()
    };
    let help = format!("set {target} so that each new pod is ready before an old one stops");
    Violation::new(rolling_field(w, "maxUnavailable"), message, help)
        .with_fix(deployment_fix(w, rolling, &target))
}

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

/// `maxUnavailable: 0`, and `maxSurge: 1` unless it already resolves to a pod.
fn deployment_fix(w: &Workload, rolling: &DeploymentRolling, target: &str) -> Option<Fix> {
    let mut document: Value = (*w.doc.value).clone();
    let mut patch = Vec::new();
    let mut set = |document: &mut Value, field: &str, value: Value| -> Option<()> {
        let op = fix::set_creating_parents(
            document,
            &format!("/spec/strategy/rollingUpdate/{field}"),
            value,
        );
        fix::apply(document, std::slice::from_ref(&op)).ok()?;
        patch.push(op);
        Some(())
    };
    if rolling.max_unavailable.defaulted || !is_literal_zero(&rolling.max_unavailable) {
        set(&mut document, "maxUnavailable", json!(0))?;
    }
    if rolling.fenceposts.max_surge < 1 {
        set(&mut document, "maxSurge", json!(1))?;
    }
    Some(Fix::safe(format!("set {target}"), patch))
}

fn statefulset_down(rolling: &StatefulSetRolling, replicas: i64, version: KubeVersion) -> i64 {
    rolling
        .max_unavailable_at(version)
        .min(rolling.updated_pods(replicas))
}

declare_rule! {
    /// ## What it does
    /// Flags a rolling update that keeps fewer than the policy's
    /// `minAvailableRatio` of the replicas ready. Ready replicas are
    /// replicas − resolved `maxUnavailable`; none at all is reported by
    /// `rollout-zero-availability` instead. Replicas are the smallest scale
    /// the workload runs at (an HPA's `minReplicas`, else `spec.replicas`).
    ///
    /// Deployments resolve `maxUnavailable` as the controller does: rounded
    /// down, 1 when it and `maxSurge` both come out 0. StatefulSets use
    /// `maxUnavailable` from Kubernetes 1.35 on (rounded down, at least 1)
    /// and one pod at a time before. A DaemonSet's percentage is a share of
    /// nodes rounded up, so `maxUnavailable: 60%` stops the pod on at least
    /// 60 % of the nodes whatever their number; a count of nodes cannot be
    /// judged without the cluster and is not reported.
    ///
    /// ## Why it matters
    /// While a rollout runs, the ready pods carry all the traffic. A rollout
    /// that stops most of them at once overloads the rest: latency climbs,
    /// readiness probes fail, and the pods still serving drop out too.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: 4
    ///   strategy:
    ///     rollingUpdate:
    ///       maxUnavailable: 75%   # 3 of 4 pods down, 1 serving
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   replicas: 4
    ///   strategy:
    ///     rollingUpdate:
    ///       maxSurge: 2
    ///       maxUnavailable: 1
    /// ```
    ///
    /// ## Settings
    /// - `minAvailableRatio`: the share of replicas that must stay ready
    ///   (default `0.5`).
    pub struct RolloutLowAvailability {
        id: "rollout-low-availability",
        family: Rollout,
        scope: Object,
        fix: None,
        settings: ["minAvailableRatio"],
    }
}

impl Rule for RolloutLowAvailability {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let ratio = cx.settings.min_available_ratio;
        match &w.rollout {
            Rollout::Deployment(strategy) => {
                let Some(scale) = Scale::of(w, cx) else {
                    return;
                };
                let Ok(Some(rolling)) = deployment_rolling(strategy.as_ref(), scale.count) else {
                    return;
                };
                let f = &rolling.fenceposts;
                let (ready, required) = (f.min_available(), required_ready(ratio, scale.count));
                if ready == 0 || ready >= required {
                    return;
                }
                let cause = if f.zero_fallback {
                    format!(
                        "{} and {} both resolve to 0 at {}, so Kubernetes takes `maxUnavailable` as `1`",
                        setting_phrase("maxSurge", &rolling.max_surge),
                        setting_phrase("maxUnavailable", &rolling.max_unavailable),
                        scale.phrase
                    )
                } else {
                    unavailable_clause(&rolling.max_unavailable, f.unavailable_budget(), &scale)
                };
                out.push(
                    Violation::new(
                        rolling_field(w, "maxUnavailable"),
                        format!(
                            "a rollout may leave only `{ready}` of `{}` replicas ready ({cause}), below `minAvailableRatio` `{ratio}` (`{required}` ready)",
                            scale.count
                        ),
                        lower_unavailable_help(scale.count - required, true),
                    )
                    .short_by(required - ready),
                );
            }
            Rollout::StatefulSet(strategy) => {
                let Some(scale) = Scale::of(w, cx) else {
                    return;
                };
                let Ok(Some(rolling)) = statefulset_rolling(strategy.as_ref(), scale.count) else {
                    return;
                };
                let down = statefulset_down(&rolling, scale.count, cx.kubernetes);
                let ready = scale.count - down;
                let required = required_ready(ratio, scale.count);
                if ready <= 0 || ready >= required {
                    return;
                }
                let cause = if cx.kubernetes < STATEFULSET_MAX_UNAVAILABLE {
                    format!(
                        "Kubernetes {} replaces StatefulSet pods one at a time",
                        cx.kubernetes
                    )
                } else {
                    unavailable_clause(
                        &rolling.max_unavailable,
                        rolling.max_unavailable_at(cx.kubernetes),
                        &scale,
                    )
                };
                out.push(
                    Violation::new(
                        rolling_field(w, "maxUnavailable"),
                        format!(
                            "a rollout may leave only `{ready}` of `{}` pods ready ({cause}), below `minAvailableRatio` `{ratio}` (`{required}` ready)",
                            scale.count
                        ),
                        lower_unavailable_help(scale.count - required, false),
                    )
                    .short_by(required - ready),
                );
            }
            Rollout::DaemonSet(strategy) => {
                let Ok(Some(rolling)) = daemonset_rolling(strategy.as_ref()) else {
                    return;
                };
                if let Some(v) = daemonset_low(&rolling, ratio) {
                    out.push(Violation::new(rolling_field(w, "maxUnavailable"), v.0, v.1));
                }
            }
            Rollout::None => {}
        }
    }
}

/// A DaemonSet share of unavailable nodes that leaves less than `ratio` of
/// them running, at every node count: the share rounds up, so at least that
/// share is down. A count of nodes is undecidable offline.
fn daemonset_low(rolling: &DaemonSetRolling, ratio: f64) -> Option<(String, String)> {
    if rolling.surges() {
        return None;
    }
    let NodeBudget::Share { percent } = rolling.unavailable else {
        return None;
    };
    let ready_percent = 100 - percent;
    if ready_percent <= 0 || (ready_percent as f64) >= ratio * 100.0 - 1e-9 {
        return None;
    }
    let allowed = ((1.0 - ratio) * 100.0 + 1e-9).floor().max(0.0) as i64;
    let help = if allowed >= 1 {
        format!(
            "set `maxUnavailable` to `{allowed}%` or less, or a small count such as `maxUnavailable: 1`"
        )
    } else {
        "set `maxUnavailable: 1`, or surge with `maxSurge: 1` and `maxUnavailable: 0`".to_owned()
    };
    Some((
        format!(
            "{} lets a rollout stop the pod on `{percent}%` of the nodes at once, leaving at most `{ready_percent}%` running, below `minAvailableRatio` `{ratio}`",
            setting_phrase("maxUnavailable", &rolling.max_unavailable)
        ),
        help,
    ))
}

/// Ready replicas `ratio` asks for: `ratio × replicas`, rounded up (a float
/// product such as `0.7 × 10` is taken as the 7 it means).
fn required_ready(ratio: f64, replicas: i64) -> i64 {
    let product = ratio * replicas as f64;
    let required = (product - 1e-9).ceil();
    if required <= 0.0 {
        0
    } else if required >= replicas as f64 {
        replicas
    } else {
        required as i64
    }
}

/// Help for a rollout that stops too many pods; `surge` when the kind can
/// add pods instead (a Deployment).
fn lower_unavailable_help(allowed: i64, surge: bool) -> String {
    match (allowed >= 1, surge) {
        (true, true) => format!(
            "lower `maxUnavailable` to `{allowed}` or less; add capacity during the rollout with `maxSurge` instead"
        ),
        (true, false) => format!("lower `maxUnavailable` to `{allowed}` or less"),
        (false, true) => "set `maxUnavailable: 0` and `maxSurge: 1`".to_owned(),
        (false, false) => "set `maxUnavailable: 1`, the default".to_owned(),
    }
}

declare_rule! {
    /// ## What it does
    /// Flags an update strategy the API server would reject. Each problem is
    /// its own finding, at the offending field:
    ///
    /// - `maxSurge` and `maxUnavailable` both explicitly 0 (Deployment,
    ///   DaemonSet), or both non-zero on a DaemonSet, which takes only one;
    /// - a StatefulSet `maxUnavailable` of 0 (judged from Kubernetes 1.35,
    ///   when the API server stops dropping the field);
    /// - a percentage above `100%` for `maxUnavailable` (and for a
    ///   DaemonSet's `maxSurge`);
    /// - a negative number, or a string that is not a whole percentage:
    ///   `maxSurge: "5"` is a string, and Kubernetes reads a string only as a
    ///   percentage, never as a count;
    /// - `rollingUpdate` under `type: Recreate` (or a StatefulSet's
    ///   `OnDelete`), and a `type` Kubernetes does not know.
    ///
    /// Values are checked as the API server checks them after defaulting, so
    /// an absent field is its default, not an error.
    ///
    /// ## Why it matters
    /// The API server refuses the whole object, so the deploy fails at the
    /// worst moment: `kubectl apply`, a Helm upgrade or a GitOps sync stops
    /// halfway through a release, with some objects already changed and the
    /// workload still on its old version. Caught in CI, the manifest in Git
    /// stays deployable.
    ///
    /// ## Example
    /// ```yaml
    /// strategy:
    ///   type: Recreate
    ///   rollingUpdate:
    ///     maxSurge: "5"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// strategy:
    ///   type: RollingUpdate
    ///   rollingUpdate:
    ///     maxSurge: 5
    ///     maxUnavailable: 0
    /// ```
    pub struct RolloutInvalidStrategy {
        id: "rollout-invalid-strategy",
        family: Rollout,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for RolloutInvalidStrategy {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let (base, problems) = match &w.rollout {
            Rollout::Deployment(s) => ("/spec/strategy", validate_deployment_strategy(s.as_ref())),
            Rollout::StatefulSet(s) => (
                "/spec/updateStrategy",
                validate_statefulset_strategy(s.as_ref(), cx.kubernetes),
            ),
            Rollout::DaemonSet(s) => (
                "/spec/updateStrategy",
                validate_daemonset_strategy(s.as_ref()),
            ),
            Rollout::None => return,
        };
        for problem in problems {
            out.push(Violation::new(
                format!("{base}{}", problem.pointer),
                problem.to_string(),
                problem_help(&problem, w.kind),
            ));
        }
    }
}

fn problem_help(problem: &StrategyProblem, kind: WorkloadKind) -> String {
    match &problem.kind {
        ProblemKind::Negative { field, .. } => format!("set `{field}` to 0 or more"),
        ProblemKind::NotIntOrPercent { field, text } => {
            let trimmed = text.trim();
            if let Ok(n) = trimmed.parse::<i64>()
                && n >= 0
            {
                format!("write the count without quotes, `{field}: {n}`, or a percentage such as `{n}%`")
            } else if trimmed.starts_with('-') {
                format!("set `{field}` to 0 or more: a whole number, or a percentage such as `25%`")
            } else {
                format!("set `{field}` to a whole number, or a percentage such as `25%`")
            }
        }
        ProblemKind::Over100Percent { field, .. } => {
            format!("set `{field}` to `100%` or less")
        }
        ProblemKind::BothZero if kind == WorkloadKind::DaemonSet => {
            "set `maxUnavailable: 1` (the default), or `maxSurge: 1` to start each node's new pod before its old one stops".to_owned()
        }
        ProblemKind::BothZero => {
            "set `maxSurge: 1` to start each new pod before an old one stops".to_owned()
        }
        ProblemKind::BothNonZero => {
            "set `maxUnavailable: 0` to surge, or `maxSurge: 0` to replace pods in place".to_owned()
        }
        ProblemKind::ZeroMaxUnavailable => {
            "set `maxUnavailable: 1`, the default, or more".to_owned()
        }
        ProblemKind::RollingUpdateWithType { type_ } => {
            format!("remove `rollingUpdate`, or change `type: {type_}` to `type: RollingUpdate`")
        }
        ProblemKind::UnsupportedType {
            expected: [first, second],
            ..
        } => format!("set `type` to `{first}` or `{second}`"),
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a Deployment with `strategy.type: Recreate`, and a StatefulSet
    /// or DaemonSet with `updateStrategy.type: OnDelete`.
    ///
    /// A Deployment is not reported when its pods mount a
    /// PersistentVolumeClaim (`volumes[].persistentVolumeClaim.claimName`)
    /// that is `ReadWriteOnce` or `ReadWriteOncePod` in the input, or that
    /// the input does not contain: a surging rollout starts the new pod while
    /// the old one still holds the volume, and a new pod scheduled to another
    /// node cannot attach it until the old one is gone, so `Recreate` is
    /// required. A `ReadWriteMany` claim can be
    /// mounted by both and does not excuse it. A StatefulSet or DaemonSet
    /// rolling update stops a pod before it starts its replacement, so a
    /// claim never requires `OnDelete`.
    ///
    /// ## Why it matters
    /// `Recreate` stops every pod, then starts the new ones: each rollout is
    /// an outage lasting until the first new pod is ready. `OnDelete` never
    /// replaces a running pod: a new image or configuration reaches a pod
    /// only when someone deletes it, so the cluster silently runs old
    /// revisions.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   strategy:
    ///     type: Recreate
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   strategy:
    ///     type: RollingUpdate
    ///     rollingUpdate:
    ///       maxSurge: 1
    ///       maxUnavailable: 0
    /// ```
    pub struct RolloutRecreateStrategy {
        id: "rollout-recreate-strategy",
        family: Rollout,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for RolloutRecreateStrategy {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        match &w.rollout {
            Rollout::Deployment(strategy) => {
                if DeploymentStrategyType::of(strategy.as_ref()) != DeploymentStrategyType::Recreate
                {
                    return;
                }
                let claims = ClaimsSeen::of(w, cx);
                if claims.requires_recreate {
                    return;
                }
                let shared = match claims.shared.as_slice() {
                    [] => String::new(),
                    names => format!(
                        " (claim `{}` is `ReadWriteMany`, so old and new pods can share it)",
                        names.join("`, `")
                    ),
                };
                out.push(Violation::new(
                    "/spec/strategy/type",
                    format!(
                        "`strategy.type: Recreate` stops every pod before starting new ones: each rollout is an outage{shared}"
                    ),
                    "use `type: RollingUpdate` with `maxSurge: 1` and `maxUnavailable: 0`",
                ));
            }
            Rollout::StatefulSet(strategy) => {
                if StatefulSetStrategyType::of(strategy.as_ref())
                    == StatefulSetStrategyType::OnDelete
                {
                    out.push(on_delete(w));
                }
            }
            Rollout::DaemonSet(strategy) => {
                if DaemonSetStrategyType::of(strategy.as_ref()) == DaemonSetStrategyType::OnDelete {
                    out.push(on_delete(w));
                }
            }
            Rollout::None => {}
        }
    }
}

fn on_delete(w: &Workload) -> Violation {
    Violation::new(
        "/spec/updateStrategy/type",
        format!(
            "`updateStrategy.type: OnDelete` never replaces a running pod: a changed template reaches this {}'s pods only when someone deletes them",
            w.object.kind
        ),
        "use `type: RollingUpdate` so that a changed template is rolled out",
    )
}

/// The PersistentVolumeClaims a workload's pods mount, as far as they decide
/// whether `Recreate` is required.
struct ClaimsSeen {
    /// A mounted claim is single-node (`ReadWriteOnce`, `ReadWriteOncePod`)
    /// or absent from the input, so its access is unknown.
    requires_recreate: bool,
    /// Mounted claims in the input that many nodes can mount.
    shared: Vec<String>,
}

impl ClaimsSeen {
    fn of(w: &Workload, cx: &Context<'_>) -> Self {
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

declare_rule! {
    /// ## What it does
    /// Flags a Deployment or StatefulSet that can run at a single replica.
    /// It can when `spec.replicas` is 1 (written or left to the default) and
    /// no HorizontalPodAutoscaler in the input targets it, or when the
    /// HorizontalPodAutoscaler that targets it has `minReplicas` 1 (or
    /// leaves it unset, which means 1). `replicas: 0` is a workload scaled
    /// down on purpose and passes.
    ///
    /// ## Why it matters
    /// A single pod is a single point of failure: a node drain, an eviction,
    /// a crash or an OOM kill leaves nothing to serve requests until a new
    /// pod is scheduled, pulled, started and ready. A PodDisruptionBudget
    /// cannot help either: it can only block the drain.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   replicas: 1
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   replicas: 2
    /// ```
    pub struct SingleReplica {
        id: "single-replica",
        family: Rollout,
        scope: Input,
        fix: None,
        settings: [],
    }
}

impl Rule for SingleReplica {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        if !matches!(w.kind, WorkloadKind::Deployment | WorkloadKind::StatefulSet) {
            return;
        }
        let Some(scale) = Scale::of(w, cx) else {
            return;
        };
        if scale.count != 1 {
            return;
        }
        let help = match &scale.hpa {
            Some(hpa) => format!("set `minReplicas: 2` or more on HorizontalPodAutoscaler `{hpa}`"),
            None => "set `replicas: 2` or more".to_owned(),
        };
        let message = match &scale.hpa {
            Some(_) => format!(
                "{} lets this {} scale down to a single pod: a node drain, an eviction or a crash leaves nothing serving",
                scale.phrase, w.object.kind
            ),
            None if w.replicas.is_none() => "`replicas` is unset and defaults to `1`: a node drain, an eviction or a crash of that pod leaves nothing serving".to_owned(),
            None => format!(
                "{} runs a single pod: a node drain, an eviction or a crash leaves nothing serving",
                scale.phrase
            ),
        };
        out.push(Violation::new(replicas_pointer(w), message, help));
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a Deployment, StatefulSet or DaemonSet whose `minReadySeconds`
    /// is 0 or absent (the default is 0).
    ///
    /// ## Why it matters
    /// The controller counts a new pod as available the moment its readiness
    /// probe first succeeds, and goes on to stop the next old pod. A pod that
    /// passes one probe and then crashes (a bad config read after start-up, a
    /// dependency it cannot reach, a memory leak under the first real load)
    /// still advances the rollout, so a broken release replaces every healthy
    /// pod before anyone notices. With `minReadySeconds` a pod must stay
    /// ready that long before it counts, and a crash-looping release stops
    /// after its first pods.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   replicas: 3
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   replicas: 3
    ///   minReadySeconds: 10
    /// ```
    pub struct MinReadySecondsZero {
        id: "min-ready-seconds-zero",
        family: Rollout,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for MinReadySecondsZero {
    fn check_workload(&self, w: &Workload, _cx: &Context<'_>, out: &mut Vec<Violation>) {
        if !matches!(
            w.kind,
            WorkloadKind::Deployment | WorkloadKind::StatefulSet | WorkloadKind::DaemonSet
        ) {
            return;
        }
        let (pointer, stated) = match w.min_ready_seconds {
            Some(seconds) if seconds > 0 => return,
            Some(seconds) => (
                "/spec/minReadySeconds",
                format!("`minReadySeconds` is `{seconds}`"),
            ),
            None => (
                "/spec",
                "`minReadySeconds` is unset (default `0`)".to_owned(),
            ),
        };
        out.push(Violation::new(
            pointer,
            format!(
                "{stated}: a new pod counts as available on its first successful readiness probe, so one that crashes right after still advances the rollout"
            ),
            "set `minReadySeconds` to how long a new pod must stay ready before the rollout goes on, e.g. `minReadySeconds: 10`",
        ));
    }
}

// ---------------------------------------------------------------------------
// Shared with the disruption rules
// ---------------------------------------------------------------------------

/// The smallest scale a workload runs at, and where that number comes from.
pub(super) struct Scale {
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

/// `/spec/replicas` when written, else `/spec`.
pub(super) fn replicas_pointer(w: &Workload) -> &'static str {
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
        Rollout::Deployment(_) => "/spec/strategy",
        _ => "/spec/updateStrategy",
    }
}

/// `rollingUpdate.<field>` when written, else the strategy when written,
/// else `/spec`.
fn rolling_field(w: &Workload, field: &str) -> String {
    let strategy = strategy_pointer(w);
    let pointer = format!("{strategy}/rollingUpdate/{field}");
    if w.doc.value.pointer(&pointer).is_some() {
        pointer
    } else if w.doc.value.pointer(strategy).is_some() {
        strategy.to_owned()
    } else {
        "/spec".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_ready_rounds_up_without_float_noise() {
        assert_eq!(required_ready(0.5, 4), 2);
        assert_eq!(required_ready(0.5, 3), 2);
        assert_eq!(required_ready(0.7, 10), 7);
        assert_eq!(required_ready(0.8, 10), 8);
        assert_eq!(required_ready(0.0, 10), 0);
        assert_eq!(required_ready(1.0, 3), 3);
        assert_eq!(required_ready(2.0, 3), 3);
    }

    fn daemonset(percent: &str) -> DaemonSetRolling {
        let value = IntOrString::String(percent.to_owned());
        let unavailable = NodeBudget::from_value(&value).unwrap_or(NodeBudget::Count(0));
        DaemonSetRolling {
            max_surge: Setting {
                value: IntOrString::Int(0),
                defaulted: true,
            },
            max_unavailable: Setting {
                value,
                defaulted: false,
            },
            surge: NodeBudget::Count(0),
            unavailable,
            zero_fallback: false,
        }
    }

    #[test]
    fn daemonset_share_is_judged_at_every_node_count() {
        assert!(daemonset_low(&daemonset("60%"), 0.5).is_some());
        assert!(daemonset_low(&daemonset("50%"), 0.5).is_none());
        // 100% is rollout-zero-availability's.
        assert!(daemonset_low(&daemonset("100%"), 0.5).is_none());
        assert!(daemonset_low(&daemonset("25%"), 0.8).is_some());
        assert!(daemonset_low(&daemonset("20%"), 0.8).is_none());
    }
}
