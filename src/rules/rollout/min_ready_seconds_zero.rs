use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a Deployment, StatefulSet or DaemonSet whose `minReadySeconds`
    /// is 0 or absent (the default is 0), when it is replaced by a rolling
    /// update: under `Recreate` or `OnDelete` the setting paces nothing.
    /// Off in the default profile (a matter of taste for many teams), a
    /// warning in the strict one.
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
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        if !matches!(
            w.kind,
            WorkloadKind::Deployment | WorkloadKind::StatefulSet | WorkloadKind::DaemonSet
        ) {
            return;
        }
        if matches!(
            w.rolling(1, cx.kubernetes),
            Rolling::Recreate | Rolling::OnDelete
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

    fn cel(&self, _settings: &Settings, _kubernetes: KubeVersion) -> Result<Vec<RuleCel>, String> {
        Ok(vec![RuleCel::new(
            ROLLOUT_KINDS,
            vec![Check {
                expression: format!(
                    "{} || {} || (has(object.spec.minReadySeconds) && object.spec.minReadySeconds > 0)",
                    cel::DEPLOYMENT_RECREATE,
                    cel::UPDATE_ON_DELETE,
                ),
                message: "'`minReadySeconds` is ' + (has(object.spec.minReadySeconds) ? \
                          '`' + string(object.spec.minReadySeconds) + '`' : 'unset (default `0`)') + \
                          ': a new pod counts as available on its first successful readiness probe, \
                          so one that crashes right after still advances the rollout (spec.minReadySeconds)'"
                    .to_owned(),
            }],
        )])
    }
}
