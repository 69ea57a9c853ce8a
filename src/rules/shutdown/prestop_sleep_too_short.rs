use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a serving container whose `preStop` drain delay, as written in
    /// the manifest, is shorter than the policy's `minDrainDelay`: a `sleep`
    /// action, an exec `["sleep", "2"]`, or the `sleep`s of a shell script
    /// such as `sleep 2 && nginx -s quit`.
    ///
    /// ## Why it matters
    /// Endpoint removal and the `preStop` hook start at the same moment when
    /// a pod is deleted. Until every load balancer, ingress controller and
    /// kube-proxy has dropped the pod, requests keep arriving; a drain delay
    /// that ends sooner sends SIGTERM while they do, and the app refuses them.
    /// (Longer is not free either: the hook runs inside the grace period, so
    /// the time it takes is time the app no longer has before SIGKILL.)
    /// Hooks whose length the manifest does not say (httpGet, tcpSocket, other
    /// commands) are not judged. A hook that cannot run in its image is
    /// reported by `prestop-exec-without-shell` instead.
    ///
    /// ## Example
    /// ```yaml
    /// lifecycle:
    ///   preStop:
    ///     exec:
    ///       command: ["sh", "-c", "sleep 1 && nginx -s quit"]
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// lifecycle:
    ///   preStop:
    ///     exec:
    ///       command: ["sh", "-c", "sleep 5 && nginx -s quit"]
    /// ```
    ///
    /// ## Fix
    /// Replaces the one value that sets the delay (`sleep.seconds`, or the
    /// first `sleep` operand of the command) so that the total delay is
    /// `minDrainDelay`; the rest of the command is kept as written. When
    /// `terminationGracePeriodSeconds` would no longer cover the longer sleep
    /// (and, with a known shutdown timeout, the app's shutdown and
    /// `graceMargin` after it), the fix also raises it to what the pod needs.
    /// The fix is safe: it only lengthens a delay.
    ///
    /// ## Settings
    /// - `minDrainDelay`: the shortest acceptable delay, and the fix's target.
    /// - `shellessImages`: images in which an exec hook cannot run.
    /// - `graceMargin`, `assumedHookSeconds`, `defaultShutdownTimeout`,
    ///   `shutdownTimeoutEnv`, `shutdownTimeoutFlags`: what the grace period
    ///   is raised to, when the fix has to raise it.
    pub struct PrestopSleepTooShort {
        id: "prestop-sleep-too-short",
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
    }
}

impl Rule for PrestopSleepTooShort {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let min = cx.settings.min_drain_delay;
        let pod = pod_shutdown(w, cx);
        for (at, m) in pod.containers.iter().enumerate() {
            if !m.serves
                || m.drain.hook == PreStopHook::None
                || m.drain.basis != DelayBasis::Exact
                || m.hook_fails.as_ref().is_some()
            {
                continue;
            }
            let Some(delay) = m.drain.delay.finite() else {
                continue;
            };
            if delay >= min {
                continue;
            }
            let name = m.container.name();
            let message = format!(
                "preStop drain delay `{}` < minDrainDelay `{}`: container `{name}` may get SIGTERM while load balancers still send it requests",
                written_delay(&m.drain),
                dur(min)
            );
            let Some(edit) = &m.drain.edit else {
                out.push(
                    Violation::new(
                        m.drain.pointer.clone(),
                        message,
                        format!("make the preStop hook wait at least `{}`", dur(min)),
                    )
                    .in_container(name),
                );
                continue;
            };
            let value = edit.value_for(min);
            let new_drain = match edit {
                DelayEdit::SleepSeconds { .. } => Millis::from_secs(min.ceil_secs()),
                DelayEdit::Command { .. } => min,
            };
            let raise = grace_raise(&pod, at, new_drain);
            let raise_help = raise_help(raise.as_ref());
            let help = match edit {
                DelayEdit::SleepSeconds { .. } => {
                    format!("set `sleep.seconds: {value}`{raise_help}")
                }
                DelayEdit::Command { current, range, .. } if range.len() < current.len() => {
                    let script = value.as_str().unwrap_or_default();
                    format!("change the script to `{script}`{raise_help}")
                }
                DelayEdit::Command { .. } => format!(
                    "change the command to `{}`{raise_help}",
                    edited_command(exec_command(&m.container), edit.pointer(), &value)
                ),
            };
            let op = set(&w.doc.value, edit.pointer().to_owned(), value);
            let fix = fix_with_raise(
                format!("lengthen the preStop sleep to `{}`", dur(new_drain)),
                op,
                raise,
            );
            out.push(
                Violation::new(m.drain.pointer.clone(), message, help)
                    .in_container(name)
                    .with_fix(Some(fix))
                    .short_by(millis_i64(min) - millis_i64(delay)),
            );
        }
    }
}
