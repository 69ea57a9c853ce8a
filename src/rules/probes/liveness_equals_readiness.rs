use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a container whose liveness and readiness probes are identical,
    /// timing included, once the API defaults are applied.
    ///
    /// ## Why it matters
    /// Under overload a readiness probe should fail so the pod is taken out of
    /// rotation and sheds load. When the liveness probe is the same check with
    /// the same timing, it fails at the same moment and the kubelet restarts
    /// the pod instead: capacity drops exactly when it is needed, and the
    /// remaining pods are pushed into the same cascade. Pointing both probes
    /// at the same endpoint is fine when liveness tolerates failures for
    /// longer (a higher `failureThreshold` or `periodSeconds`): that passes.
    ///
    /// Probes are compared as the API server stores them: `periodSeconds: 10`
    /// written out is the same as leaving it to the default, `path` defaults
    /// to `/` and `scheme` to `HTTP`, and a named port is the same as the
    /// number the container declares for it.
    ///
    /// ## Example
    /// ```yaml
    /// readinessProbe:
    ///   httpGet: {path: /healthz, port: 8080}
    /// livenessProbe:
    ///   httpGet: {path: /healthz, port: 8080}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// readinessProbe:
    ///   httpGet: {path: /healthz, port: 8080}
    /// livenessProbe:
    ///   httpGet: {path: /healthz, port: 8080}
    ///   failureThreshold: 6
    /// ```
    pub struct LivenessEqualsReadiness {
        id: "liveness-equals-readiness",
        family: Probes,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for LivenessEqualsReadiness {
    fn check_workload(&self, w: &Workload, _cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in probed_containers(w) {
            let (Some(liveness), Some(readiness)) =
                (&c.container.liveness_probe, &c.container.readiness_probe)
            else {
                continue;
            };
            if !identical(c.container, liveness, readiness) {
                continue;
            }
            let window = Window::of(liveness);
            if !window.is_valid() {
                continue;
            }
            out.push(
                Violation::new(
                    c.field(&["livenessProbe"]),
                    format!(
                        "container `{}` has identical liveness and readiness probes (`{}s` × {}): overload restarts the pod instead of taking it out of rotation",
                        c.name(),
                        window.period,
                        window.failure
                    ),
                    format!(
                        "give the liveness probe a longer failure window, e.g. `failureThreshold: {}` (`{}s`)",
                        window.failure * 2,
                        window.seconds() * 2
                    ),
                )
                .in_container(c.name()),
            );
        }
    }

    fn cel(&self, _settings: &Settings, _kubernetes: KubeVersion) -> Result<Vec<RuleCel>, String> {
        Ok(vec![RuleCel::new(
            LONG_RUNNING_KINDS,
            vec![per_container(
                &format!(
                    "!(has(c.livenessProbe) && has(c.readinessProbe)) || !({}) || !({})",
                    cel::identical("c.livenessProbe", "c.readinessProbe"),
                    cel::window_valid("c.livenessProbe")
                ),
                "'container `' + c.name + '` has identical liveness and readiness probes: \
                 overload restarts the pod instead of taking it out of rotation (livenessProbe)'",
            )],
        )])
    }
}
