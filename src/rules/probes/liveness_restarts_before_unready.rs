use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a container whose liveness probe gives up no later than its
    /// readiness probe: liveness `periodSeconds × failureThreshold` is at most
    /// readiness `periodSeconds × failureThreshold` (API defaults 10 × 3).
    ///
    /// ## Why it matters
    /// When the application struggles, readiness should fail first so the pod
    /// leaves the Service's endpoints, and liveness only later if it does not
    /// recover. The other way round the kubelet kills the container while it
    /// is still receiving traffic, and every in-flight request fails. With
    /// equal windows both fire together, and the restart races the endpoint
    /// removal, which takes seconds to reach every load balancer.
    /// Identical probes are reported by `liveness-equals-readiness` instead.
    ///
    /// Equal windows are reported only when the policy's
    /// `flagEqualProbeWindows` is on (strict): many upstream manifests give
    /// both probes the same timing, and a restart that races the endpoint
    /// removal is a smaller risk than one that comes first. Not reported:
    /// a main container that serves no traffic (a restart there drops no
    /// request; a native sidecar such as a mesh proxy is always judged)
    /// and a readiness probe that cannot fail (`exec: [true]`).
    ///
    /// ## Example
    /// ```yaml
    /// readinessProbe:
    ///   httpGet: {path: /ready, port: 8080}
    ///   periodSeconds: 10
    ///   failureThreshold: 3
    /// livenessProbe:
    ///   httpGet: {path: /healthz, port: 8080}
    ///   periodSeconds: 5
    ///   failureThreshold: 3
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// readinessProbe:
    ///   httpGet: {path: /ready, port: 8080}
    ///   periodSeconds: 10
    ///   failureThreshold: 3
    /// livenessProbe:
    ///   httpGet: {path: /healthz, port: 8080}
    ///   periodSeconds: 10
    ///   failureThreshold: 6
    /// ```
    ///
    /// ## Settings
    /// - `flagEqualProbeWindows`
    pub struct LivenessRestartsBeforeUnready {
        id: "liveness-restarts-before-unready",
        family: Probes,
        scope: Object,
        fix: None,
        settings: ["flagEqualProbeWindows"],
    }
}

impl Rule for LivenessRestartsBeforeUnready {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in probed_containers(w) {
            let (Some(liveness), Some(readiness)) =
                (&c.container.liveness_probe, &c.container.readiness_probe)
            else {
                continue;
            };
            if identical(c.container, liveness, readiness) || never_fails(readiness) {
                continue;
            }
            let (live, ready) = (Window::of(liveness), Window::of(readiness));
            // Negative timings are rejected by the API server; not ours to judge.
            if !live.is_valid() || !ready.is_valid() || live.seconds() > ready.seconds() {
                continue;
            }
            if live.seconds() == ready.seconds() && !cx.settings.flag_equal_probe_windows {
                continue;
            }
            // A native sidecar (a mesh proxy) carries the pod's requests
            // whatever its ports say.
            if c.role == ContainerRole::Main
                && !cx.index.serves_traffic(w, &c, &cx.settings.serving())
            {
                continue;
            }
            let when = if live.seconds() < ready.seconds() {
                "before"
            } else {
                "just as"
            };
            // Twice the readiness window, in whole liveness periods.
            let threshold = ceil_div(2 * ready.seconds(), live.period);
            out.push(
                Violation::new(
                    c.field(&["livenessProbe"]),
                    format!(
                        "liveness restarts container `{}` after `{}s` of failures (`{}s` × {}), {when} readiness takes it out of the Service's endpoints at `{}s` (`{}s` × {})",
                        c.name(),
                        live.seconds(),
                        live.period,
                        live.failure,
                        ready.seconds(),
                        ready.period,
                        ready.failure,
                    ),
                    format!(
                        "make the liveness window longer than `{}s`, e.g. `failureThreshold: {threshold}` at `periodSeconds: {}` (`{}s`)",
                        ready.seconds(),
                        live.period,
                        threshold * live.period
                    ),
                )
                .in_container(c.name())
                .short_by(ready.seconds() - live.seconds()),
            );
        }
    }

    fn cel(&self, settings: &Settings, _kubernetes: KubeVersion) -> Result<Vec<RuleCel>, String> {
        let compare = if settings.flag_equal_probe_windows {
            "<="
        } else {
            "<"
        };
        let judged = |serving: &str| {
            let (live, ready) = ("c.livenessProbe", "c.readinessProbe");
            format!(
                "!(has({live}) && has({ready})) || ({}) || ({}) || !({}) || !({}) || \
                 !({} {compare} {}){serving}",
                cel::identical(live, ready),
                cel::never_fails(ready),
                cel::window_valid(live),
                cel::window_valid(ready),
                cel::window(live),
                cel::window(ready),
            )
        };
        let message = format!(
            "'liveness restarts container `' + c.name + '` after `' + string({}) + \
             's` of failures, before readiness takes it out of the Service\\'s endpoints at `' + \
             string({}) + 's` (livenessProbe)'",
            cel::window("c.livenessProbe"),
            cel::window("c.readinessProbe")
        );
        // A native sidecar (a mesh proxy) carries the pod's requests
        // whatever its ports say; a main container only when it serves.
        let main = judged(&format!(" || !({})", serves(settings)));
        Ok(vec![RuleCel::new(
            LONG_RUNNING_KINDS,
            vec![
                Check {
                    expression: format!("variables.sidecars.all(c, {})", judged("")),
                    message: first_failing("variables.sidecars", &judged(""), &message),
                },
                Check {
                    expression: format!("variables.podSpec.containers.all(c, {main})"),
                    message: first_failing("variables.podSpec.containers", &main, &message),
                },
            ],
        )])
    }
}
