use super::*;

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
        let scale = Scale::of(w, cx);
        let replicas = scale.as_ref().map_or(0, |s| s.count);
        let rolling = match w.rolling(replicas, cx.kubernetes) {
            Rolling::Canary(canary) => canary
                .replica_weighted()
                .map_or(Rolling::None, Rolling::Deployment),
            rolling => rolling,
        };
        match (rolling, scale) {
            (Rolling::Deployment(rolling), Some(scale)) => {
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
                        low_message(ready, scale.count, "replicas", &cause, ratio, required),
                        lower_unavailable_help(scale.count - required, Surge::Possible),
                    )
                    .short_by(required - ready),
                );
            }
            (
                Rolling::StatefulSet {
                    rolling,
                    down_at_once,
                },
                Some(scale),
            ) => {
                let ready = scale.count - down_at_once;
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
                        low_message(ready, scale.count, "pods", &cause, ratio, required),
                        lower_unavailable_help(scale.count - required, Surge::Impossible),
                    )
                    .short_by(required - ready),
                );
            }
            (Rolling::DaemonSet(rolling), _) => {
                if let Some((message, help)) = daemonset_low(&rolling, ratio) {
                    out.push(Violation::new(
                        rolling_field(w, "maxUnavailable"),
                        message,
                        help,
                    ));
                }
            }
            _ => {}
        }
    }

    fn cel(&self, settings: &Settings, version: KubeVersion) -> Result<Vec<RuleCel>, String> {
        let ratio = settings.min_available_ratio;
        let required = cel::required_ready(ratio);
        let deployment = format!(
            "!({} && [{}].all(f, [r - (f[1] < 0 ? 0 : (f[1] > r ? r : f[1]))].all(ready, \
             r > 0 && ready != 0 && ready < {required})))",
            cel::deployment_read(),
            cel::deployment_fenceposts(),
        );
        let statefulset = format!(
            "!({} && [r - {}].all(ready, ready > 0 && ready < {required}))",
            cel::statefulset_read(),
            cel::statefulset_down(version)
        );
        let unavailable = cel::field("updateStrategy", "maxUnavailable", "1");
        let daemonset = format!(
            "!({} && !{} && type({unavailable}) == string && {p} != 0 && \
             [100 - {p}].all(rp, rp > 0 && double(rp) < {ratio:?} * 100.0 - 1e-9))",
            cel::daemonset_read(),
            cel::daemonset_surges(),
            p = cel::percent_of(&unavailable),
        );
        let message = |field: &str| {
            format!(
                "'a rollout may leave fewer pods ready than `minAvailableRatio` `{ratio}` asks \
                 ({field})'"
            )
        };
        Ok(vec![RuleCel::new(
            ROLLOUT_KINDS,
            vec![
                Check {
                    expression: cel::with_replicas(&deployment),
                    message: message("spec.strategy.rollingUpdate.maxUnavailable"),
                },
                Check {
                    expression: cel::with_replicas(&statefulset),
                    message: message("spec.updateStrategy.rollingUpdate.maxUnavailable"),
                },
                Check {
                    expression: daemonset,
                    message: message("spec.updateStrategy.rollingUpdate.maxUnavailable"),
                },
            ],
        )])
    }
}

/// "a rollout may leave only `2` of `5` replicas ready (…), below …".
fn low_message(
    ready: i64,
    count: i64,
    what: &str,
    cause: &str,
    ratio: f64,
    required: i64,
) -> String {
    format!(
        "a rollout may leave only `{ready}` of `{count}` {what} ready ({cause}), below `minAvailableRatio` `{ratio}` (`{required}` ready)"
    )
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

/// Whether the kind can add pods during a rollout instead of stopping them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surge {
    /// A Deployment: `maxSurge` adds pods.
    Possible,
    /// A StatefulSet: it only stops pods.
    Impossible,
}

/// Help for a rollout that stops too many pods.
fn lower_unavailable_help(allowed: i64, surge: Surge) -> String {
    match (allowed >= 1, surge) {
        (true, Surge::Possible) => format!(
            "lower `maxUnavailable` to `{allowed}` or less; add capacity during the rollout with `maxSurge` instead"
        ),
        (true, Surge::Impossible) => format!("lower `maxUnavailable` to `{allowed}` or less"),
        (false, Surge::Possible) => "set `maxUnavailable: 0` and `maxSurge: 1`".to_owned(),
        (false, Surge::Impossible) => "set `maxUnavailable: 1`, the default".to_owned(),
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
