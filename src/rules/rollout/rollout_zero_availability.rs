use super::*;

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
        let scale = Scale::of(w, cx);
        let replicas = scale.as_ref().map_or(0, |s| s.count);
        match (w.rolling(replicas, cx.kubernetes), scale) {
            (Rolling::Deployment(rolling), Some(scale))
                if rolling.fenceposts.zero_availability() =>
            {
                out.push(deployment_zero(w, &scale, &rolling));
            }
            (
                Rolling::StatefulSet {
                    rolling,
                    down_at_once,
                },
                Some(scale),
            ) if scale.count >= 2 && down_at_once >= scale.count => {
                out.push(Violation::new(
                    rolling_field(w, "maxUnavailable"),
                    statefulset_message(&rolling, down_at_once, &scale, cx.kubernetes),
                    format!(
                        "set `maxUnavailable` to `{}` or less, e.g. `maxUnavailable: 1`",
                        scale.count - 1
                    ),
                ));
            }
            (Rolling::Canary(canary), Some(scale)) if canary.fenceposts.zero_availability() => {
                if let Some(rolling) = canary.replica_weighted() {
                    out.push(deployment_zero(w, &scale, &rolling));
                }
            }
            (Rolling::DaemonSet(rolling), _) if rolling.all_nodes_may_be_down() => {
                out.push(Violation::new(
                    rolling_field(w, "maxUnavailable"),
                    format!(
                        "{} with no `maxSurge` lets a rollout stop the pod on every node at once: each node runs none until its replacement is ready",
                        setting_phrase("maxUnavailable", &rolling.max_unavailable)
                    ),
                    "set `maxUnavailable` below `100%`, e.g. `maxUnavailable: 10%`, or surge with `maxSurge: 1` and `maxUnavailable: 0`",
                ));
            }
            _ => {}
        }
    }

    fn cel(&self, _settings: &Settings, version: KubeVersion) -> Result<Vec<RuleCel>, String> {
        let deployment = format!("!{}", cel::deployment_zero_availability());
        let statefulset = format!(
            "!({} && r >= 2 && {} >= r)",
            cel::statefulset_read(),
            cel::statefulset_down(version)
        );
        let unavailable = cel::field("updateStrategy", "maxUnavailable", "1");
        let daemonset = format!(
            "!({} && !{} && type({unavailable}) == string && {} >= 100)",
            cel::daemonset_read(),
            cel::daemonset_surges(),
            cel::percent_of(&unavailable)
        );
        Ok(vec![RuleCel::new(ROLLOUT_KINDS, vec![
            Check {
                expression: cel::with_replicas(&deployment),
                message: "'with `' + string(has(object.spec.replicas) ? object.spec.replicas : 1) + \
                          '` replicas, `maxUnavailable` lets a rollout stop every pod before any replacement \
                          is ready (spec.strategy.rollingUpdate.maxUnavailable)'"
                    .to_owned(),
            },
            Check {
                expression: cel::with_replicas(&statefulset),
                message: format!(
                    "'`maxUnavailable` on Kubernetes {version}: a rollout may stop all `' + \
                     string(has(object.spec.replicas) ? object.spec.replicas : 1) + \
                     '` pods at once (spec.updateStrategy.rollingUpdate.maxUnavailable)'"
                ),
            },
            Check {
                expression: daemonset,
                message: "'`maxUnavailable` with no `maxSurge` lets a rollout stop the pod on every node \
                          at once (spec.updateStrategy.rollingUpdate.maxUnavailable)'"
                    .to_owned(),
            },
        ])])
    }
}

fn statefulset_message(
    rolling: &StatefulSetRolling,
    down: i64,
    scale: &Scale,
    version: KubeVersion,
) -> String {
    format!(
        "{} on Kubernetes {version}: a rollout may stop all `{}` pods at once",
        unavailable_clause(&rolling.max_unavailable, down, scale),
        scale.count
    )
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

/// `maxUnavailable: 0`, and `maxSurge: 1` unless it already resolves to a pod.
fn deployment_fix(w: &Workload, rolling: &DeploymentRolling, target: &str) -> Option<Fix> {
    let mut document: Value = (*w.doc.value).clone();
    let mut patch = Vec::new();
    let mut set = |document: &mut Value, field: &str, value: Value| -> Option<()> {
        let op = fix::set_creating_parents(
            document,
            &format!("{}/{field}", rolling_update_pointer(w)),
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
