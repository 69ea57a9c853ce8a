use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a `preStop` hook that takes as long as the grace period or
    /// longer: a `sleep` action, or an exec sleep whose length the manifest
    /// states, of at least `terminationGracePeriodSeconds` (30 when unset).
    /// Every long-running container with such a hook is checked, whether or
    /// not it serves traffic.
    ///
    /// ## Why it matters
    /// The grace period counts from the pod's deletion and the `preStop` hook
    /// runs inside it. A hook that uses it all up leaves the app no time: the
    /// kubelet sends the stop signal only when the grace period is over,
    /// with a one-off 2 s extension, then SIGKILL. The app is killed before it
    /// has been asked to stop, and every in-flight request fails. A `sleep`
    /// action longer than the grace period is worse: the API server rejects
    /// the object outright (a Deployment's pod template is validated like a
    /// pod), so the rollout never starts. An equal one is accepted, and has
    /// the first problem.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   terminationGracePeriodSeconds: 20
    ///   containers:
    ///     - name: api
    ///       env:
    ///         - {name: SHUTDOWN_TIMEOUT, value: 30s}
    ///       lifecycle:
    ///         preStop:
    ///           exec:
    ///             command: ["sleep", "30"]
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   terminationGracePeriodSeconds: 65
    ///   containers:
    ///     - name: api
    ///       env:
    ///         - {name: SHUTDOWN_TIMEOUT, value: 30s}
    ///       lifecycle:
    ///         preStop:
    ///           exec:
    ///             command: ["sleep", "30"]
    /// ```
    ///
    /// ## Fix
    /// Raises `terminationGracePeriodSeconds` on the pod spec to the largest
    /// need of any container: drain delay + shutdown timeout (0 when it is
    /// not known) + `graceMargin`, the same value `grace-period-too-short`
    /// sets. The fix is safe: it never lowers the grace period. A sleep that
    /// never ends (`sleep infinity`) has no fix: no grace period covers it.
    ///
    /// ## Settings
    /// - `graceMargin`, `assumedHookSeconds`, `defaultShutdownTimeout`,
    ///   `shutdownTimeoutEnv`, `shutdownTimeoutFlags`: what the fix raises the
    ///   grace period to.
    pub struct PrestopExceedsGracePeriod {
        id: "prestop-exceeds-grace-period",
        family: Shutdown,
        scope: Object,
        fix: Sometimes,
        settings: [
            "graceMargin",
            "assumedHookSeconds",
            "defaultShutdownTimeout",
            "shutdownTimeoutEnv",
            "shutdownTimeoutFlags",
        ],
    }
}

impl Rule for PrestopExceedsGracePeriod {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let pod = cx.pod_shutdown(w);
        let grace = grace_text(&pod);
        for m in &pod.containers {
            if !m.hook_outlasts(pod.grace) {
                continue;
            }
            let name = m.container.name();
            let Delay::Finite(drain) = m.drain.delay else {
                out.push(
                    Violation::new(
                        m.drain.pointer.clone(),
                        format!(
                            "preStop sleeps forever: container `{name}` is always killed when the grace period {grace} is over, without being asked to stop"
                        ),
                        format!(
                            "replace the endless sleep with the drain delay, e.g. `sleep {}`",
                            cx.settings.min_drain_delay.ceil_secs().max(1)
                        ),
                    )
                    .in_container(name)
                    .short_by(i64::MAX),
                );
                continue;
            };
            let target = pod.target(None);
            let rejected = matches!(m.drain.hook, PreStopHook::Sleep { seconds } if seconds > pod.grace.seconds);
            let message = if rejected {
                format!(
                    "preStop `sleep` of `{}` > grace period {grace}: the API server refuses the object (`sleep.seconds` may not exceed `terminationGracePeriodSeconds`)",
                    written_delay(&m.drain)
                )
            } else {
                format!(
                    "preStop drain delay `{}` ≥ grace period {grace}: container `{name}` gets SIGTERM only when the grace period is over, and SIGKILL 2s later",
                    dur(drain)
                )
            };
            let help = format!(
                "set `terminationGracePeriodSeconds: {target}`{}",
                target_reason(cx, m, target)
            );
            let fix = Fix::safe(
                format!("raise `terminationGracePeriodSeconds` to `{target}`"),
                vec![set_grace(&pod, target)],
            );
            out.push(
                Violation::new(m.drain.pointer.clone(), message, help)
                    .in_container(name)
                    .with_fix(Some(fix))
                    .short_by(millis_i64(drain) - pod.grace.seconds.saturating_mul(1000)),
            );
        }
    }
}
