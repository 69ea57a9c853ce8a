use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a serving container whose `preStop` drain delay, as written in
    /// the manifest, is shorter than the policy's `minDrainDelay`: a `sleep`
    /// action, an exec `["sleep", "2"]`, or the `sleep`s of a shell script
    /// such as `sleep 2 && nginx -s quit`. A `$VAR` operand is read from the
    /// container's `env` (and ConfigMaps in the input).
    ///
    /// A hook that starts the app's shutdown (`nginx -s quit`,
    /// ingress-nginx's `/wait-shutdown`, `nodetool drain`, `kill 1`,
    /// `apachectl graceful-stop`, …) delays nothing by itself: only the
    /// `sleep`s before that command count. An app that keeps serving after
    /// SIGTERM by itself (see `prestop-hook-missing`) adds its in-app drain
    /// to the hook's.
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
        let pod = cx.pod_shutdown(w);
        for (at, m) in pod.containers.iter().enumerate() {
            let in_app = m.in_app();
            let hook_read = m.drain.hook != PreStopHook::None
                && m.drain.basis == DelayBasis::Exact
                && m.hook_fails.is_none();
            if !m.serves || !(hook_read || in_app > Millis(0)) {
                continue;
            }
            let Some(accepting) = m.accepting_for().finite() else {
                continue;
            };
            if accepting >= min {
                continue;
            }
            let name = m.container.name();
            let message = message(m, name, min);
            let short_by = millis_i64(min) - millis_i64(accepting);
            // What the hook must add to the app's own drain.
            let wanted = Millis(min.0.saturating_sub(in_app.0));
            let edit = m.drain.edit.as_ref().filter(|_| hook_read);
            let Some(edit) = edit else {
                out.push(
                    Violation::new(m.drain.pointer.clone(), message, unfixable_help(m, min))
                        .in_container(name)
                        .short_by(short_by),
                );
                continue;
            };
            let value = edit.value_for(wanted);
            let new_drain = match edit {
                DelayEdit::SleepSeconds { .. } => Millis::from_secs(wanted.ceil_secs()),
                DelayEdit::Command { .. } => wanted,
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
                    .short_by(short_by),
            );
        }
    }
}

/// What keeps the container accepting, and that it is not enough.
fn message(m: &ContainerShutdown<'_>, name: &str, min: Millis) -> String {
    let in_app = match &m.in_app_drain {
        ShutdownTimeout::Known { value, source } if *value > Millis(0) => {
            Some(format!("in-app drain `{}` ({source})", dur(*value)))
        }
        _ => None,
    };
    let hook = match &m.drain.hook {
        PreStopHook::None => None,
        PreStopHook::StartsShutdown { command } if m.drain.delay == Delay::ZERO => {
            return format!(
                "preStop hook `{command}` starts the shutdown at once{}: container `{name}` stops accepting while load balancers still send it requests (minDrainDelay `{}`)",
                in_app
                    .map(|d| format!(" and the {d} is shorter than minDrainDelay"))
                    .unwrap_or_default(),
                dur(min)
            );
        }
        PreStopHook::StartsShutdown { command } => Some(format!(
            "preStop drain delay `{}` before `{command}`",
            written_delay(&m.drain)
        )),
        _ => Some(format!("preStop drain delay `{}`", written_delay(&m.drain))),
    };
    let stops = if in_app.is_some() {
        "may stop accepting"
    } else {
        "may get SIGTERM"
    };
    let said = match (hook, in_app) {
        (Some(hook), Some(in_app)) => format!("{hook} + {in_app}"),
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => "no drain delay".to_owned(),
    };
    format!(
        "{said} < minDrainDelay `{}`: container `{name}` {stops} while load balancers still send it requests",
        dur(min)
    )
}

/// Help when no single value can be rewritten: say what to wait for.
fn unfixable_help(m: &ContainerShutdown<'_>, min: Millis) -> String {
    let wanted = Millis(min.0.saturating_sub(m.in_app().0));
    match &m.drain.hook {
        PreStopHook::StartsShutdown { command } => format!(
            "sleep `{}` before `{command}` in the preStop hook (`sleep {} && {command}` in a shell), so that endpoints drop the pod first",
            dur(wanted),
            wanted.ceil_secs()
        ),
        PreStopHook::None => format!(
            "make the app keep serving at least `{}` after SIGTERM, or add a preStop `sleep` of `{}`",
            dur(min),
            dur(wanted)
        ),
        _ => format!("make the preStop hook wait at least `{}`", dur(wanted)),
    }
}
