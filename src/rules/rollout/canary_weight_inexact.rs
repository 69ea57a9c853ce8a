use super::*;
use crate::model::rollout::{
    CanaryRolling, CanaryStepState, Rounding, argo_scaled_value, replica_weighted_step,
    share_off_weight,
};

/// How far, in percentage points, a canary's real share of the requests
/// may stray from the weight its step asks for before it is reported.
const TOLERANCE_POINTS: i64 = 5;

/// The largest replica count the help searches for one that expresses
/// every weight.
const LARGEST_SUGGESTED: i64 = 100;

declare_rule! {
    /// ## What it does
    /// Flags a `setWeight` step of an Argo Rollouts canary without
    /// `trafficRouting` whose weight the replica count cannot express: the
    /// canary's real share of the requests differs from the weight by 5
    /// percentage points or more. The share is computed as the Rollouts
    /// controller sizes the two ReplicaSets
    /// (`approximateWeightedCanaryStableReplicaCounts`): the canary and
    /// stable pod counts closest to the weight on `replicas` pods, or one
    /// more when `maxSurge` allows, never 0 on either side for a weight
    /// between 1 and 99. Replicas are the smallest scale the Rollout runs at
    /// (an HPA's `minReplicas`, else `spec.replicas`).
    ///
    /// ## Why it matters
    /// Without a traffic router the Service spreads requests over all the
    /// pods it selects, canary and stable alike, so the canary gets its
    /// share of the pods, whatever the step says. With 3 replicas,
    /// `setWeight: 20` runs 1 canary pod beside 3 stable ones (25 %), or
    /// beside 2 (a third) with `maxSurge: 0`; with 1 replica it is 1 beside
    /// 1, half the traffic. A canary meant to meet a fifth of the users, and
    /// judged by an analysis tuned for that, meets more: the blast radius of
    /// a bad version is larger than the plan says.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: 3
    ///   strategy:
    ///     canary:
    ///       steps:
    ///       - setWeight: 20   # 1 of 4 pods: 25 %
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   replicas: 5
    ///   strategy:
    ///     canary:
    ///       steps:
    ///       - setWeight: 20   # 1 of 5 pods
    /// ```
    /// or split by weight with `trafficRouting` (Istio, NGINX, the Gateway
    /// API plugin, …), which sends the weight whatever the pod counts.
    pub struct CanaryWeightInexact {
        id: "canary-weight-inexact",
        family: Rollout,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for CanaryWeightInexact {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let Some(scale) = Scale::of(w, cx) else {
            return;
        };
        let Rolling::Canary(canary) = w.rolling(scale.count, cx.kubernetes) else {
            return;
        };
        if canary.traffic_routed || scale.count <= 0 {
            return;
        }
        let weighted: Vec<_> = canary
            .steps
            .iter()
            // A weight outside 0–100 is refused (`rollout-invalid-strategy`).
            .filter(|s| s.sets_weight() && (0..=100).contains(&s.weight))
            .collect();
        let better = better_replicas(&weighted, scale.count, &canary);
        for step in weighted
            .into_iter()
            .filter(|s| strays(s.canary_share_basis_points, s.weight))
        {
            let Some(index) = step.index else { continue };
            let message = format!(
                "with {} the controller runs {} canary pod{} beside {} stable at `setWeight: {}`: the canary gets {} of the requests, not {} %",
                scale.phrase,
                step.canary_pods,
                if step.canary_pods == 1 { "" } else { "s" },
                step.stable_pods,
                step.weight,
                share(step.canary_share_basis_points),
                step.weight
            );
            let help = match better {
                Some(n) => format!(
                    "run `replicas: {n}`, whose pods express every weight of the steps, or split traffic by weight with `trafficRouting`"
                ),
                None => "split traffic by weight with `trafficRouting`, or choose weights the replica count expresses".to_owned(),
            };
            out.push(
                Violation::new(
                    format!("/spec/strategy/canary/steps/{index}/setWeight"),
                    message,
                    help,
                )
                .short_by(share_off_weight(step.canary_share_basis_points, step.weight) / 100),
            );
        }
    }
}

/// `25 %`, `33.3 %`.
fn share(basis_points: i64) -> String {
    if basis_points % 100 == 0 {
        format!("{} %", basis_points / 100)
    } else {
        format!("{:.1} %", basis_points as f64 / 100.0)
    }
}

/// Whether a share of the requests is as far from the weight asked as the
/// rule reports.
fn strays(share_basis_points: i64, weight: i64) -> bool {
    share_off_weight(share_basis_points, weight) >= TOLERANCE_POINTS * 100
}

/// The smallest replica count above `replicas` at which every weighted step
/// is within the tolerance, with the Rollout's own `maxSurge`.
fn better_replicas(
    steps: &[&CanaryStepState],
    replicas: i64,
    canary: &CanaryRolling,
) -> Option<i64> {
    (replicas + 1..=LARGEST_SUGGESTED).find(|&n| {
        let surge = argo_scaled_value(&canary.max_surge.value, n, Rounding::Up).unwrap_or(0);
        steps.iter().all(|s| {
            let (_, _, share) = replica_weighted_step(n, s.weight, surge);
            !strays(share, s.weight)
        })
    })
}
