use super::*;

declare_rule! {
    /// ## What it does
    /// Flags an explicitly set `terminationGracePeriodSeconds` that is longer
    /// than the policy's `maxGracePeriod`, or more than 4 × what the pod
    /// needs (drain delay + shutdown timeout + `graceMargin` of its neediest
    /// container) when that need is known for every serving container.
    ///
    /// ## Why it matters
    /// The grace period is how long Kubernetes waits, from the deletion and
    /// through the `preStop` hook and the app's shutdown, before it sends
    /// SIGKILL to a pod that has not exited. A pod that hangs on shutdown
    /// holds a node drain (a cluster upgrade, an autoscaler scale-down) and a
    /// rolling update's slot for all of it. A grace period far beyond what
    /// the app needs buys nothing and stalls every drain and rollout that
    /// meets a stuck pod.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   terminationGracePeriodSeconds: 600
    ///   containers:
    ///     - name: api
    ///       env:
    ///         - {name: SHUTDOWN_TIMEOUT, value: 20s}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   terminationGracePeriodSeconds: 30
    ///   containers:
    ///     - name: api
    ///       env:
    ///         - {name: SHUTDOWN_TIMEOUT, value: 20s}
    /// ```
    ///
    /// ## Settings
    /// - `maxGracePeriod`: the longest acceptable grace period.
    /// - `graceMargin`, `assumedHookSeconds`, `defaultShutdownTimeout`,
    ///   `shutdownTimeoutEnv`, `shutdownTimeoutFlags`: what the pod needs.
    pub struct GracePeriodExcessive {
        id: "grace-period-excessive",
        family: Shutdown,
        scope: Object,
        fix: None,
        settings: [
            "maxGracePeriod",
            "graceMargin",
            "assumedHookSeconds",
            "defaultShutdownTimeout",
            "shutdownTimeoutEnv",
            "shutdownTimeoutFlags",
        ],
    }
}

impl Rule for GracePeriodExcessive {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        if w.pod_spec.termination_grace_period_seconds.is_none() {
            return;
        }
        let pod = cx.pod_shutdown(w);
        let grace = pod.grace;
        let max = cx.settings.max_grace_period;
        let need = pod.known_need();
        if grace.as_millis() > max {
            let (message, help) = over_max(grace, max, need.map(|(seconds, _)| seconds));
            out.push(Violation::new(grace_pointer(&pod), message, help));
        } else if let Some((need, neediest)) = need
            && grace.seconds > need.saturating_mul(4)
        {
            let message = over_need(grace, need, &need_words(cx, neediest));
            let help = format!("set `terminationGracePeriodSeconds: {need}`");
            out.push(Violation::new(grace_pointer(&pod), message, help));
        }
    }
}

fn over_max(grace: GracePeriod, max: Millis, need: Option<i64>) -> (String, String) {
    let message = format!(
        "grace period `{}` > maxGracePeriod `{}`: a pod that hangs on shutdown holds node drains and rollouts for that long",
        secs_text(grace.seconds),
        dur(max)
    );
    let help = match need {
        Some(need) if Millis::from_secs(need.unsigned_abs()) > max => format!(
            "shorten the app's shutdown timeout: the pod needs `{}`, more than maxGracePeriod `{}`",
            secs_text(need),
            dur(max)
        ),
        Some(need) => format!("set `terminationGracePeriodSeconds: {need}`"),
        None => format!(
            "set `terminationGracePeriodSeconds` to at most `{}`",
            max.0 / 1000
        ),
    };
    (message, help)
}

fn over_need(grace: GracePeriod, need: i64, words: &str) -> String {
    format!(
        "grace period `{}` > 4 × the `{}` the pod needs ({words}): a pod that hangs on shutdown holds node drains and rollouts for that long",
        secs_text(grace.seconds),
        secs_text(need)
    )
}

/// "drain `5s` + shutdown `20s` + margin `5s` for container `api`".
fn need_words(cx: &Context<'_>, c: &ContainerShutdown<'_>) -> String {
    let in_app = match c.in_app() {
        Millis(0) => String::new(),
        drain => format!(" + in-app drain `{}`", dur(drain)),
    };
    format!(
        "drain {}{in_app} + shutdown `{}` + margin `{}` for container `{}`",
        drain_text(&c.drain),
        dur(c.timeout.value().unwrap_or_default()),
        dur(cx.settings.grace_margin),
        c.container.name()
    )
}
