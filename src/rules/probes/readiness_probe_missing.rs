use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a container that serves traffic but has no `readinessProbe`.
    ///
    /// ## Why it matters
    /// Without a readiness probe a pod joins its Service's endpoints as soon as
    /// its containers start, before the application listens: during every
    /// rollout, scale-up and restart, requests reach a process that refuses
    /// them. The rolling update also counts such a pod as available at once,
    /// so old pods are removed before the new ones can serve.
    ///
    /// A container serves traffic when it declares a `containerPort`, or when
    /// a Service in the input selects the pod (and its target port cannot be
    /// traced to another container). Jobs and CronJobs are not checked.
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
    ///     readinessProbe:
    ///       httpGet:
    ///         path: /ready
    ///         port: 8080
    /// ```
    pub struct ReadinessProbeMissing {
        id: "readiness-probe-missing",
        family: Probes,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for ReadinessProbeMissing {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in probed_containers(w) {
            if c.container.readiness_probe.is_some() || !cx.index.serves_traffic(w, &c) {
                continue;
            }
            let violation = match (declared_port(c.container), untraced_service_port(w, cx)) {
                (Some(port), _) => Violation::new(
                    c.pointer(),
                    format!(
                        "container `{}` serves port `{port}` but has no readinessProbe",
                        c.name()
                    ),
                    format!(
                        "add a readinessProbe that succeeds only once the app accepts requests, e.g. `httpGet` or `tcpSocket` on port `{port}`"
                    ),
                ),
                (None, Some((service, port))) => Violation::new(
                    c.pointer(),
                    format!(
                        "container `{}` has no readinessProbe, and Service `{service}` sends the pod traffic on port `{port}`, which no container declares",
                        c.name()
                    ),
                    format!(
                        "add a readinessProbe that succeeds only once the app accepts requests, or declare port `{port}` on the container that serves it"
                    ),
                ),
                (None, None) => Violation::new(
                    c.pointer(),
                    format!(
                        "container `{}` serves traffic but has no readinessProbe",
                        c.name()
                    ),
                    "add a readinessProbe that succeeds only once the app accepts requests",
                ),
            };
            out.push(violation.in_container(c.name()));
        }
    }
}
