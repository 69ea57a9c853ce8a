//! Disruption rules: node drains, evictions and autoscaling, which take pods
//! away outside of any rollout.

use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::cel::{Check, RuleCel};
use super::rollout::{Scale, replicas_pointer};
use super::{Context, Rule, Settings, Violation};
use crate::model::pdb::{
    PdbBlock, PdbVerdict, largest_min_available_percent, min_available_allows_from, pdb_eviction,
};
use crate::model::rollout::{Rounding, scaled_value, written};
use crate::model::{KnownKind, KubeVersion, Related, Workload, WorkloadKind};

declare_rule! {
    /// ## What it does
    /// Flags a workload with 2 or more replicas that no PodDisruptionBudget
    /// protects. Replicas are counted at the workload's smallest scale (an
    /// HPA's `minReplicas`, else `spec.replicas`), and a budget counts when it
    /// is in the input, in the same namespace, and selects the pods. Deployments, StatefulSets, ReplicaSets, ReplicationControllers,
    /// Argo Rollouts and custom workload kinds are checked; DaemonSets (drains skip their
    /// pods), Jobs, CronJobs and bare Pods are not.
    ///
    /// ## Why it matters
    /// A node drain (a cluster upgrade, the autoscaler removing a node, a
    /// spot instance going away) evicts every pod on the node at once. When
    /// the scheduler placed several replicas on the nodes drained together,
    /// all of them go down and the Service has no endpoints until new pods
    /// are ready. A PodDisruptionBudget makes the eviction API wait until
    /// enough replicas are running elsewhere.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   replicas: 3
    ///   selector:
    ///     matchLabels: {app: web}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   replicas: 3
    ///   selector:
    ///     matchLabels: {app: web}
    /// ---
    /// apiVersion: policy/v1
    /// kind: PodDisruptionBudget
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   maxUnavailable: 1
    ///   selector:
    ///     matchLabels: {app: web}
    /// ```
    pub struct PdbMissing {
        id: "pdb-missing",
        family: Disruption,
        scope: Input,
        fix: None,
        settings: [],
    }
}

impl Rule for PdbMissing {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        // The pods' labels are in a template that is not in the input.
        if w.template_elsewhere() && cx.index.referenced_template(w).is_none() {
            return;
        }
        if !matches!(
            w.kind,
            WorkloadKind::Deployment
                | WorkloadKind::StatefulSet
                | WorkloadKind::ReplicaSet
                | WorkloadKind::ReplicationController
                | WorkloadKind::Rollout
                | WorkloadKind::Custom
        ) {
            return;
        }
        let Some(scale) = Scale::of(w, cx) else {
            return;
        };
        if scale.count < 2 || cx.index.pdbs_selecting(w).next().is_some() {
            return;
        }
        let namespace = match &w.object.namespace {
            Some(ns) => format!(" in namespace `{ns}`"),
            None => String::new(),
        };
        let labels = match_labels(w);
        let selecting = if labels.is_empty() {
            "selecting its pods".to_owned()
        } else {
            format!("selecting `{labels}`")
        };
        out.push(Violation::new(
            replicas_pointer(w),
            format!(
                "with {}, no PodDisruptionBudget{namespace} selects the pods: a node drain may evict several of them at once",
                scale.phrase
            ),
            format!("add a PodDisruptionBudget{namespace} {selecting} with `maxUnavailable: 1`"),
        ));
    }
}

/// The pods' labels a new PodDisruptionBudget should select: the workload's
/// `selector.matchLabels`, else the pod template's labels, as `app: web, …`.
fn match_labels(w: &Workload) -> String {
    let from_selector: Vec<String> = w
        .selector
        .as_ref()
        .and_then(|s| s.match_labels.as_ref())
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    if !from_selector.is_empty() {
        return from_selector.join(", ");
    }
    w.pod_labels()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

declare_rule! {
    /// ## What it does
    /// Flags a PodDisruptionBudget that can never allow an eviction. It is
    /// judged against the pods of the workloads it selects in the input, at
    /// their smallest scale (an HPA's `minReplicas`, else `spec.replicas`):
    ///
    /// - `minAvailable` of at least the number of pods: `minAvailable: 3`
    ///   with 3 replicas, or `100%` at any count. Percentages round up, as
    ///   the disruption controller rounds them (`getExpectedPodCount` in
    ///   pkg/controller/disruption): `50%` of 1 pod is 1, and `80%` holds
    ///   every pod up to 4 and leaves one free only from 5. The finding
    ///   says what the percentage comes to at the pods' real count, and
    ///   from how many pods up it would let one go;
    /// - `maxUnavailable: 0` or `0%`, at any count;
    /// - neither field set, or a value the controller cannot read.
    ///
    /// `maxUnavailable` wins when both are set, as in the controller. When
    /// the budget selects no workload in the input, only what holds at every
    /// count is reported; an integer `minAvailable` then depends on pods the
    /// input does not show.
    ///
    /// ## Why it matters
    /// `kubectl drain`, cluster upgrades and the cluster autoscaler evict
    /// pods through the eviction API, which refuses while the budget allows
    /// no disruption. With such a budget it refuses forever: the drain
    /// hangs, the upgrade stalls, and the node stays until someone deletes
    /// the budget or the pods by hand, bypassing the protection it was meant
    /// to give.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: policy/v1
    /// kind: PodDisruptionBudget
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   minAvailable: 100%
    ///   selector:
    ///     matchLabels: {app: web}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// apiVersion: policy/v1
    /// kind: PodDisruptionBudget
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   maxUnavailable: 1
    ///   selector:
    ///     matchLabels: {app: web}
    /// ```
    pub struct PdbBlocksEviction {
        id: "pdb-blocks-eviction",
        family: Disruption,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for PdbBlocksEviction {
    fn check_pdb(
        &self,
        pdb: &Related<PodDisruptionBudget>,
        cx: &Context<'_>,
        out: &mut Vec<Violation>,
    ) {
        let Some(spec) = pdb.typed.spec.as_ref() else {
            return;
        };
        // policy/v1: a missing selector selects no pod, so nothing is blocked.
        if spec.selector.is_none() {
            return;
        }
        let selected: Vec<&Workload> = cx.index.workloads_selected_by(pdb).collect();
        let expected = expected_pods(&selected, cx);
        let PdbVerdict::Blocks(block) = pdb_eviction(spec, expected) else {
            return;
        };
        let pods = selected_phrase(&selected, cx);
        let (message, help) = match &block {
            PdbBlock::MinAvailable {
                value,
                required,
                expected,
            } => min_available_blocks(value, *required, *expected, &pods),
            PdbBlock::MaxUnavailable { value } => (
                format!(
                    "`maxUnavailable: {}` allows no pod{pods} to go down: no eviction is ever allowed, so node drains hang",
                    written(value)
                ),
                "set `maxUnavailable: 1` or more".to_owned(),
            ),
            PdbBlock::NoBudget => (
                "neither `minAvailable` nor `maxUnavailable` is set: no eviction is ever allowed, so node drains hang".to_owned(),
                "set `maxUnavailable: 1`".to_owned(),
            ),
            PdbBlock::Unreadable { field, error } => (
                format!(
                    "`{}` cannot be read ({error}): the disruption controller then allows no eviction, so node drains hang",
                    field.name()
                ),
                format!(
                    "write `{}` as a whole number, or a percentage such as `50%`",
                    field.name()
                ),
            ),
        };
        out.push(Violation::new(
            format!("/spec{}", block.pointer()),
            message,
            help,
        ));
    }

    /// Judged alone, as at admission, a budget selects no pod in sight: it
    /// blocks when no count could let one go (`pdb_eviction` without a
    /// count), and when a value cannot be read.
    fn cel(&self, _settings: &Settings, _kubernetes: KubeVersion) -> Result<Vec<RuleCel>, String> {
        let percent = "'^[+-]?[0-9]{1,18}%$'";
        let number = |v: &str| format!("int(string({v}).substring(0, size(string({v})) - 1))");
        let spec = "object.spec";
        let blocks = format!(
            "has({spec}.maxUnavailable) ? [{spec}.maxUnavailable].all(v, type(v) == int ? v <= 0 : \
             (!string(v).matches({percent}) || {max} <= 0)) : \
             (has({spec}.minAvailable) ? [{spec}.minAvailable].all(v, type(v) == string && \
             (!string(v).matches({percent}) || {min} >= 100)) : true)",
            max = number("v"),
            min = number("v"),
        );
        Ok(vec![RuleCel::new(
            &[KnownKind::PodDisruptionBudget],
            vec![Check {
                expression: format!("!(has({spec}) && has({spec}.selector) && ({blocks}))"),
                message: format!(
                    "(has({spec}.maxUnavailable) ? '`maxUnavailable: ' + string({spec}.maxUnavailable) + \
                     '` allows no pod to go down (spec.maxUnavailable)' : (has({spec}.minAvailable) ? \
                     '`minAvailable: ' + string({spec}.minAvailable) + '` requires every selected pod to stay up \
                     (spec.minAvailable)' : 'neither `minAvailable` nor `maxUnavailable` is set (spec)')) + \
                     ': no eviction is ever allowed, so node drains hang'"
                ),
            }],
        )])
    }
}

/// What a `minAvailable` that allows no eviction does at the pods' real
/// scale: a percentage is rounded up against it, and holds every pod until
/// the scale reaches [`min_available_allows_from`].
fn min_available_blocks(
    value: &IntOrString,
    required: Option<i64>,
    expected: Option<i64>,
    pods: &str,
) -> (String, String) {
    const BLOCKS: &str =
        "no pod may be evicted, so a node drain blocks until someone deletes the pod by hand";
    let written = written(value);
    let (Some(required), Some(expected)) = (required, expected) else {
        return (
            format!("`minAvailable: {written}` requires every selected pod to stay up: {BLOCKS}"),
            "use `maxUnavailable: 1` instead, or a `minAvailable` below `100%`".to_owned(),
        );
    };
    let message = match value {
        IntOrString::String(_) => {
            let of = if expected == 1 {
                format!("the only pod{pods}")
            } else {
                format!("the `{expected}` pods{pods}")
            };
            let exact = scaled_value(value, expected, Rounding::Down).ok() == Some(required);
            let comes_to = if exact { "is" } else { "rounds up to" };
            let scale = match min_available_allows_from(value) {
                Some(from) => {
                    format!("; `{written}` leaves a pod free to evict only from {from} pods up")
                }
                None => String::new(),
            };
            format!("`minAvailable: {written}` of {of} {comes_to} `{required}`: {BLOCKS}{scale}")
        }
        IntOrString::Int(_) if expected == 1 => {
            format!("`minAvailable: {written}` requires the only pod{pods} to stay up: {BLOCKS}")
        }
        IntOrString::Int(_) if required == expected => format!(
            "`minAvailable: {written}` requires all `{expected}` pods{pods} to stay up: {BLOCKS}"
        ),
        IntOrString::Int(_) => format!(
            "`minAvailable: {written}` requires `{required}` of the `{expected}` pods{pods} to stay up: {BLOCKS}"
        ),
    };
    let help = match (expected, value) {
        (1, _) => {
            // From 2 pods up, the first option already says it.
            let keep = min_available_allows_from(value)
                .filter(|from| *from > 2)
                .map(|from| format!(", or keep `{written}` and run {from} or more pods"))
                .unwrap_or_default();
            format!(
                "use `maxUnavailable: 1` instead, and run 2 or more replicas so that an eviction leaves one serving{keep}"
            )
        }
        (n, IntOrString::String(_)) => {
            let mut options = vec!["use `maxUnavailable: 1` instead".to_owned()];
            options.extend(
                largest_min_available_percent(n)
                    .map(|p| format!("lower `minAvailable` to `{p}%` or less")),
            );
            options.extend(
                min_available_allows_from(value).map(|from| format!("run {from} or more pods")),
            );
            match options.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, init)) => format!("{}, or {last}", init.join(", ")),
                None => String::new(),
            }
        }
        (n, IntOrString::Int(_)) => format!(
            "use `maxUnavailable: 1` instead, or lower `minAvailable` to `{}` or less",
            n - 1
        ),
    };
    (message, help)
}

/// The pods the budget covers at the workloads' smallest scale; `None` when
/// it selects no workload in the input or one without a replica count (a
/// DaemonSet runs one pod per node).
fn expected_pods(selected: &[&Workload], cx: &Context<'_>) -> Option<i64> {
    if selected.is_empty() {
        return None;
    }
    selected.iter().try_fold(0_i64, |sum, w| {
        cx.index.min_replicas(w).map(|n| sum.saturating_add(n))
    })
}

/// `` of Deployment `web` `` or `` of Deployment `web` and StatefulSet `db` ``;
/// a workload an HPA scales is named with the scale it may go down to.
fn selected_phrase(selected: &[&Workload], cx: &Context<'_>) -> String {
    let names: Vec<String> = selected
        .iter()
        .map(|w| {
            let scaled = Scale::of(w, cx)
                .filter(|scale| scale.hpa.is_some())
                .map(|scale| format!(" (at {})", scale.phrase))
                .unwrap_or_default();
            format!("{} `{}`{scaled}", w.object.kind, w.object.name)
        })
        .collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => format!(" of {one}"),
        [init @ .., last] => format!(" of {} and {last}", init.join(", ")),
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a workload that writes `spec.replicas` while a
    /// HorizontalPodAutoscaler in the input scales it.
    ///
    /// ## Why it matters
    /// The HorizontalPodAutoscaler owns the replica count. Every `kubectl
    /// apply`, Helm upgrade or GitOps sync of a manifest that also states
    /// `replicas` sets the count back to that number: under load a scaled-out
    /// workload is cut back to a handful of pods at the moment of the
    /// deploy, and the autoscaler needs minutes to recover.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// metadata: {name: web}
    /// spec:
    ///   replicas: 3
    /// ---
    /// kind: HorizontalPodAutoscaler
    /// spec:
    ///   scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
    ///   minReplicas: 3
    ///   maxReplicas: 20
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// kind: Deployment
    /// metadata: {name: web}
    /// spec: {}   # no replicas: the HorizontalPodAutoscaler sets them
    /// ---
    /// kind: HorizontalPodAutoscaler
    /// spec:
    ///   scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
    ///   minReplicas: 3
    ///   maxReplicas: 20
    /// ```
    pub struct HpaReplicasConflict {
        id: "hpa-replicas-conflict",
        family: Disruption,
        scope: Input,
        fix: None,
        settings: [],
    }
}

impl Rule for HpaReplicasConflict {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let Some(replicas) = w.replicas else {
            return;
        };
        let Some(hpa) = cx.index.hpa_targeting(w) else {
            return;
        };
        out.push(Violation::new(
            "/spec/replicas",
            format!(
                "`replicas: {replicas}` is set and HorizontalPodAutoscaler `{}` scales this {}: every `kubectl apply` resets the scale to `{replicas}`",
                hpa.object.name, w.object.kind
            ),
            format!(
                "remove `spec.replicas` and let HorizontalPodAutoscaler `{}` own it",
                hpa.object.name
            ),
        ));
    }
}
