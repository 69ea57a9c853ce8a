use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a liveness probe with `initialDelaySeconds` of at least the
    /// policy's `slowStartSeconds` and no `startupProbe`.
    ///
    /// ## Why it matters
    /// A long initial delay is a guess at the worst start-up time. Guess short
    /// and a slow start (a cold cache, a busy node) is killed and restarted in
    /// a loop; guess long and a container that hangs after a crash is detected
    /// late every time. A startup probe holds liveness off exactly until the
    /// app has started, however long that takes.
    ///
    /// ## Example
    /// ```yaml
    /// livenessProbe:
    ///   httpGet: {path: /healthz, port: 8080}
    ///   initialDelaySeconds: 120
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// startupProbe:
    ///   httpGet: {path: /healthz, port: 8080}
    ///   periodSeconds: 5
    ///   failureThreshold: 60
    /// livenessProbe:
    ///   httpGet: {path: /healthz, port: 8080}
    /// ```
    ///
    /// ## Settings
    /// - `slowStartSeconds`
    pub struct StartupProbeMissing {
        id: "startup-probe-missing",
        family: Probes,
        scope: Object,
        fix: None,
        settings: ["slowStartSeconds"],
    }
}

impl Rule for StartupProbeMissing {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in probed_containers(w) {
            let Some(liveness) = &c.container.liveness_probe else {
                continue;
            };
            let delay = i64::from(liveness.initial_delay_seconds.unwrap_or(0));
            if c.container.startup_probe.is_some() || delay < cx.settings.slow_start_seconds {
                continue;
            }
            // Only reachable without the field when a policy sets the threshold to 0.
            let pointer = match liveness.initial_delay_seconds {
                Some(_) => c.field(&["livenessProbe", "initialDelaySeconds"]),
                None => c.field(&["livenessProbe"]),
            };
            // A startup probe ends as soon as the app is up: allow twice the
            // current guess, checked often.
            let period = 5;
            let failures = ceil_div(2 * delay.max(period), period);
            out.push(
                Violation::new(
                    pointer,
                    format!(
                        "container `{}` starts slowly (liveness waits `{delay}s` before its first check, threshold `{}s`) but has no startupProbe",
                        c.name(),
                        cx.settings.slow_start_seconds
                    ),
                    format!(
                        "add a startupProbe running the liveness check with `periodSeconds: {period}` and `failureThreshold: {failures}` (up to `{}s` to start), and remove the liveness `initialDelaySeconds`",
                        period * failures
                    ),
                )
                .in_container(c.name()),
            );
        }
    }

    fn cel(&self, settings: &Settings, _kubernetes: KubeVersion) -> Result<Vec<RuleCel>, String> {
        let slow = settings.slow_start_seconds;
        Ok(vec![RuleCel::new(
            LONG_RUNNING_KINDS,
            vec![per_container(
                &format!(
                    "!has(c.livenessProbe) || has(c.startupProbe) || \
                     (has(c.livenessProbe.initialDelaySeconds) ? c.livenessProbe.initialDelaySeconds : 0) < {slow}"
                ),
                &format!(
                    "'container `' + c.name + '` starts slowly (liveness waits `' + \
                     string(has(c.livenessProbe.initialDelaySeconds) ? c.livenessProbe.initialDelaySeconds : 0) + \
                     's` before its first check, threshold `{slow}s`) but has no startupProbe'"
                ),
            )],
        )])
    }
}
