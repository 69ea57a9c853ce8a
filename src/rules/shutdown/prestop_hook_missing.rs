use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a container that serves traffic but has no `preStop` hook to
    /// delay its stop signal while the pod is taken out of its Service's
    /// endpoints.
    ///
    /// ## Why it matters
    /// When a pod is deleted (a rollout, a scale-down, a node drain), two
    /// things start at the same moment: endpoint removal (EndpointSlices,
    /// then kube-proxy, ingress controllers, cloud load balancers and service
    /// meshes, which take seconds to catch up) and the kubelet's termination
    /// of every container. Without a `preStop` hook the container gets SIGTERM
    /// at once, stops listening, and the requests still routed to it during
    /// those seconds fail. A short `sleep` in `preStop` keeps the app serving
    /// until the routes are gone; the stop signal follows the hook. The hook's
    /// time counts inside `terminationGracePeriodSeconds`, which runs from the
    /// deletion, so the sleep must leave room for the app's own shutdown
    /// before SIGKILL.
    ///
    /// A container serves traffic when a Service in the input targets one of
    /// its ports or, with no Service in the input, when it declares a port
    /// that is not a metrics, health or profiling port. Jobs and CronJobs are
    /// checked too.
    ///
    /// Not reported: an app that keeps serving after SIGTERM by itself, with
    /// its readiness failing so that endpoints drop it first (the in-app
    /// drain; `prestop-sleep-too-short` judges its length). rollsafe knows
    /// the ones whose documentation says so: Istio's proxy
    /// (`terminationDrainDuration`, 5s by default), ingress-nginx with
    /// `--shutdown-grace-period`, Knative's activator, webhook and
    /// queue-proxy (45s), Loki and Mimir with `-shutdown-delay`, and servers
    /// built on `k8s.io/apiserver` with `--shutdown-delay-duration`. Any
    /// other app declares its drain with the pod template annotation
    /// `rollsafe.dev/in-app-drain.<container>: 10s` (or
    /// `rollsafe.dev/in-app-drain` for every container); the time counts in
    /// the grace period the pod needs.
    ///
    /// Not reported either where no other pod serves while this one stops
    /// (a bare Pod; one replica under `Recreate`, `OnDelete` or a rolling
    /// update that cannot surge): that is an outage, which a drain delay
    /// does not shorten.
    ///
    /// Withheld while `single-replica` reports the workload: with one pod, a
    /// node drain or an eviction takes the whole service down whatever the
    /// hook does, and that is the finding to fix first. Once the workload
    /// runs two pods (or `single-replica` is ignored for it), this rule
    /// speaks.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: example/web:1.4
    ///     ports:
    ///       - containerPort: 8080
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: example/web:1.4
    ///     ports:
    ///       - containerPort: 8080
    ///     lifecycle:
    ///       preStop:
    ///         sleep:
    ///           seconds: 5
    /// ```
    ///
    /// ## Fix
    /// Adds `lifecycle.preStop.sleep.seconds` of `minDrainDelay` (rounded up
    /// to whole seconds), creating `lifecycle` when it is missing. Below
    /// Kubernetes 1.30, where the `sleep` action is not available, it adds an
    /// exec hook `["sleep", "N"]` instead, unless the image matches
    /// `shellessImages` (no `sleep` binary to run): then there is no fix. The
    /// sleep runs inside the grace period, so when
    /// `terminationGracePeriodSeconds` would no longer cover the container
    /// (it is not longer than the new sleep, or, with a known shutdown
    /// timeout, shorter than sleep + timeout + `graceMargin`) the fix also
    /// raises it to what the pod needs, as `grace-period-too-short` computes
    /// it; it never lowers it. The fix is safe: it only adds a delay.
    ///
    /// ## Settings
    /// - `minDrainDelay`: the length of the hook the fix adds. `0s` turns
    ///   the rule off.
    /// - `shellessImages`: images with no `sleep` for an exec hook.
    /// - `graceMargin`, `assumedHookSeconds`, `defaultShutdownTimeout`,
    ///   `shutdownTimeoutEnv`, `shutdownTimeoutFlags`: what the grace period
    ///   is raised to, when the fix has to raise it.
    pub struct PrestopHookMissing {
        id: "prestop-hook-missing",
        family: Shutdown,
        scope: Object,
        fix: Sometimes,
        settings: [
            "minDrainDelay",
            "shellessImages",
            "graceMargin",
            "assumedHookSeconds",
            "defaultShutdownTimeout",
            "shutdownTimeoutEnv",
            "shutdownTimeoutFlags",
        ],
        defers_to: ["single-replica"],
    }
}

impl Rule for PrestopHookMissing {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let min = cx.settings.min_drain_delay;
        if min == Millis(0) {
            return;
        }
        // With no other pod serving while this one stops, there is nowhere
        // to send the requests a drain delay would keep from it.
        if !replacement_overlaps(w, cx) {
            return;
        }
        let pod = cx.pod_shutdown(w);
        let seconds = min.ceil_secs();
        for (at, m) in pod.containers.iter().enumerate() {
            // An app that drains by itself is judged on that drain by
            // `prestop-sleep-too-short`.
            if !m.serves || m.drain.hook != PreStopHook::None || m.in_app() > Millis(0) {
                continue;
            }
            let name = m.container.name();
            let empty_hook = m.drain.pointer != m.container.pointer();
            let message = if empty_hook {
                format!(
                    "container `{name}` serves traffic but its preStop hook has no handler: it gets SIGTERM while endpoints still route requests to it"
                )
            } else {
                format!(
                    "container `{name}` serves traffic but has no preStop drain delay: it gets SIGTERM while endpoints still route requests to it"
                )
            };
            let new_drain = Millis::from_secs(seconds);
            let raise = grace_raise(&pod, at, new_drain);
            let raise_help = raise_help(raise.as_ref());
            let (help, fix) = if cx.kubernetes >= KubeVersion::SLEEP_ACTION {
                let op = set_creating_parents(
                    &w.doc.value,
                    &m.container.field(&["lifecycle", "preStop", "sleep"]),
                    json!({ "seconds": seconds }),
                );
                (
                    format!("add `lifecycle.preStop.sleep.seconds: {seconds}`{raise_help}"),
                    Some(fix_with_raise(
                        format!("add a `sleep` preStop hook of `{}`", dur(new_drain)),
                        op,
                        raise,
                    )),
                )
            } else if let Some(glob) = shelless_image(cx, &m.container) {
                (
                    format!(
                        "have the app keep serving for `{}` after SIGTERM (the image matches `{glob}`: no `sleep` for an exec hook), or use the `sleep` action from Kubernetes 1.30",
                        dur(new_drain)
                    ),
                    None,
                )
            } else {
                let op = set_creating_parents(
                    &w.doc.value,
                    &m.container.field(&["lifecycle", "preStop", "exec"]),
                    json!({ "command": ["sleep", seconds.to_string()] }),
                );
                (
                    format!(
                        "add `lifecycle.preStop.exec.command: [\"sleep\", \"{seconds}\"]` (the `sleep` action needs Kubernetes 1.30){raise_help}"
                    ),
                    Some(fix_with_raise(
                        format!("add an exec preStop hook `sleep {seconds}`"),
                        op,
                        raise,
                    )),
                )
            };
            out.push(
                Violation::new(m.drain.pointer.clone(), message, help)
                    .in_container(name)
                    .with_fix(fix),
            );
        }
    }
}
