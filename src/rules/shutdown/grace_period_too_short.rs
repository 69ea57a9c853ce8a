use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a serving container that does not fit in the pod's grace period:
    /// `terminationGracePeriodSeconds` (30 when unset) is less than its drain
    /// delay + in-app drain + app shutdown timeout + `graceMargin`. Each
    /// container that does not fit is reported.
    ///
    /// The drain delay is the `preStop` hook's (`assumedHookSeconds` for a
    /// hook whose length the manifest does not say); the in-app drain is how
    /// long the app keeps serving after SIGTERM by itself (see
    /// `prestop-hook-missing`). The shutdown timeout is found as
    /// `shutdown-timeout-unknown` describes: annotations, the settings of a
    /// server rollsafe recognises, env vars and flags the policy names, the
    /// server's documented default, `defaultShutdownTimeout`. When none says
    /// it, `shutdown-timeout-unknown` reports that instead; when the drain
    /// delay alone uses up the grace period, `prestop-exceeds-grace-period`
    /// does.
    ///
    /// ## Why it matters
    /// The grace period counts from the pod's deletion, not from the stop
    /// signal: the `preStop` hook's time is inside it. After the hook, the app
    /// gets SIGTERM and needs its own shutdown timeout to finish in-flight
    /// requests; when the grace period runs out first the kubelet sends
    /// SIGKILL, and every request still in progress fails mid-response.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: api
    ///       env:
    ///         - name: SHUTDOWN_TIMEOUT
    ///           value: 30s
    ///       lifecycle:
    ///         preStop:
    ///           sleep: {seconds: 5}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   terminationGracePeriodSeconds: 40
    ///   containers:
    ///     - name: api
    ///       env:
    ///         - name: SHUTDOWN_TIMEOUT
    ///           value: 30s
    ///       lifecycle:
    ///         preStop:
    ///           sleep: {seconds: 5}
    /// ```
    ///
    /// ## Fix
    /// Sets `terminationGracePeriodSeconds` on the pod spec to the largest
    /// need of any container (drain delay + in-app drain + shutdown timeout +
    /// `graceMargin`,
    /// rounded up to whole seconds), so that the fixes of several findings in
    /// one pod agree and applying them twice changes nothing. The fix is safe:
    /// it only raises the grace period, which a pod that exits sooner never
    /// waits for.
    ///
    /// ## Settings
    /// - `graceMargin`: time left between the app's deadline and SIGKILL.
    /// - `assumedHookSeconds`: the drain delay of an httpGet, tcpSocket or
    ///   non-sleep exec hook.
    /// - `defaultShutdownTimeout`, `shutdownTimeoutEnv`,
    ///   `shutdownTimeoutFlags`: where the shutdown timeout is read.
    pub struct GracePeriodTooShort {
        id: "grace-period-too-short",
        family: Shutdown,
        scope: Object,
        fix: Always,
        settings: [
            "graceMargin",
            "assumedHookSeconds",
            "defaultShutdownTimeout",
            "shutdownTimeoutEnv",
            "shutdownTimeoutFlags",
        ],
    }
}

impl Rule for GracePeriodTooShort {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let pod = cx.pod_shutdown(w);
        for m in &pod.containers {
            if !m.serves || m.hook_outlasts(pod.grace) {
                continue;
            }
            let Some(need) = pod.own_need(m).filter(|&need| need > pod.grace.seconds) else {
                continue;
            };
            let target = pod.target(None).max(need);
            let fix = Fix::safe(
                format!("set `terminationGracePeriodSeconds` to `{target}`"),
                vec![set_grace(&pod, target)],
            );
            let violation = Violation::new(
                grace_pointer(&pod),
                message(&pod, cx, m),
                format!("set `terminationGracePeriodSeconds: {target}`"),
            )
            .in_container(m.container.name())
            .with_fix(Some(fix))
            .short_by(need - pod.grace.seconds);
            // A server's documented default is its longest wait, not what
            // this app takes: worth a look, not a failed build.
            let defaulted = [&m.timeout, &m.in_app_drain]
                .iter()
                .filter_map(|reading| reading.source())
                .any(TimeoutSource::is_server_default);
            out.push(if defaulted {
                violation.at_most(Severity::Warning)
            } else {
                violation
            });
        }
    }
}

/// "grace period `10s` < drain `5s` + shutdown `20s` (env `X`) + margin `5s`: …"
fn message(pod: &PodShutdown<'_>, cx: &Context<'_>, m: &ContainerShutdown<'_>) -> String {
    let (timeout, source) = match &m.timeout {
        ShutdownTimeout::Known { value, source } => (dur(*value), source.to_string()),
        ShutdownTimeout::Malformed { .. } | ShutdownTimeout::Unknown => {
            ("?".to_owned(), "unknown".to_owned())
        }
    };
    let in_app = match &m.in_app_drain {
        ShutdownTimeout::Known { value, source } if *value > Millis(0) => {
            format!(" + in-app drain `{}` ({source})", dur(*value))
        }
        _ => String::new(),
    };
    format!(
        "grace period {} < drain {}{in_app} + shutdown `{timeout}` ({source}) + margin `{}`: container `{}` is killed mid-shutdown",
        grace_text(pod),
        drain_text(&m.drain),
        dur(cx.settings.grace_margin),
        m.container.name()
    )
}
