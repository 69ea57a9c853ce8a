use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a long-running container (a main container or a native sidecar)
    /// without a `livenessProbe`.
    ///
    /// ## Why it matters
    /// A process that deadlocks or stops making progress keeps running: it
    /// stays in the Service's endpoints if its readiness endpoint still
    /// answers, or silently reduces capacity if it does not. A liveness probe
    /// lets the kubelet restart it. Jobs and CronJobs run to completion and
    /// are not checked; neither are init containers, which exit before the
    /// app starts.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: worker
    ///     image: example/worker:2.0
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// containers:
    ///   - name: worker
    ///     image: example/worker:2.0
    ///     livenessProbe:
    ///       httpGet:
    ///         path: /healthz
    ///         port: 9090
    ///       periodSeconds: 10
    ///       failureThreshold: 6
    /// ```
    pub struct LivenessProbeMissing {
        id: "liveness-probe-missing",
        family: Probes,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for LivenessProbeMissing {
    fn check_workload(&self, w: &Workload, _cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in probed_containers(w) {
            if c.container.liveness_probe.is_some() {
                continue;
            }
            let help = match c.container.readiness_probe.as_ref().map(Window::of) {
                Some(ready) if ready.is_valid() => format!(
                    "add a livenessProbe so that a hung process is restarted, with a longer failure window than readiness (`{}s`), e.g. `failureThreshold: {}` at `periodSeconds: {}`",
                    ready.seconds(),
                    ready.failure * 2,
                    ready.period
                ),
                _ => "add a livenessProbe so that a hung process is restarted".to_owned(),
            };
            out.push(
                Violation::new(
                    c.pointer(),
                    format!("container `{}` has no livenessProbe", c.name()),
                    help,
                )
                .in_container(c.name()),
            );
        }
    }

    fn cel(&self, _settings: &Settings, _kubernetes: KubeVersion) -> Result<Vec<RuleCel>, String> {
        Ok(vec![RuleCel::new(
            LONG_RUNNING_KINDS,
            vec![per_container(
                "has(c.livenessProbe)",
                "'container `' + c.name + '` has no livenessProbe'",
            )],
        )])
    }
}
