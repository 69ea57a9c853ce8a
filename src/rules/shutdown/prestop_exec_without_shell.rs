use super::*;

declare_rule! {
    /// ## What it does
    /// Flags an exec `preStop` hook that runs `sleep`, a shell (`sh`, `bash`,
    /// …) or `busybox` in a container whose image matches the policy's
    /// `shellessImages` (distroless, scratch, chainguard static): images that
    /// have none of them. Every long-running container is checked, whether or
    /// not it serves traffic. Tags ending in `debug` or `dev` (distroless
    /// `:debug`, chainguard `:latest-dev`) ship a busybox shell and are not
    /// flagged.
    ///
    /// ## Why it matters
    /// The exec action does not go through a shell: the kubelet runs
    /// `argv[0]` inside the container, and when the image has no such program
    /// the hook fails at once. The failure is only an event on the pod; the
    /// stop signal follows immediately, while endpoint removal (which started
    /// at the same moment as the hook) is still under way, so requests reach
    /// a process that has stopped listening. The manifest reads as if it
    /// drained; it does not.
    ///
    /// ## Example
    /// ```yaml
    /// image: gcr.io/distroless/static-debian12:nonroot
    /// lifecycle:
    ///   preStop:
    ///     exec:
    ///       command: ["sleep", "5"]
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// # Kubernetes 1.30 or later
    /// image: gcr.io/distroless/static-debian12:nonroot
    /// lifecycle:
    ///   preStop:
    ///     sleep:
    ///       seconds: 5
    /// ```
    ///
    /// ## Fix
    /// From Kubernetes 1.30, replaces the `preStop` hook with the kubelet's
    /// own `sleep` action, as long as the command meant to sleep (or
    /// `minDrainDelay` when the command is not a readable sleep). When the
    /// command is a plain sleep the fix is safe; when it did more (`sleep 5
    /// && nginx -s quit`, a drain script) the rest is dropped (it never ran
    /// in this image), which changes what the hook means, so the fix is marked
    /// unsafe. The grace period is raised as `prestop-hook-missing`'s fix
    /// raises it, when it would not cover the sleep. Below 1.30 there is no
    /// fix.
    ///
    /// ## Settings
    /// - `shellessImages`: image globs without a shell or `sleep`.
    /// - `minDrainDelay`: the sleep the fix writes when the command's own
    ///   length is not known.
    /// - `graceMargin`, `assumedHookSeconds`, `defaultShutdownTimeout`,
    ///   `shutdownTimeoutEnv`, `shutdownTimeoutFlags`: what the grace period
    ///   is raised to, when the fix has to raise it.
    pub struct PrestopExecWithoutShell {
        id: "prestop-exec-without-shell",
        family: Shutdown,
        scope: Object,
        fix: Sometimes,
        settings: [
            "shellessImages",
            "minDrainDelay",
            "graceMargin",
            "assumedHookSeconds",
            "defaultShutdownTimeout",
            "shutdownTimeoutEnv",
            "shutdownTimeoutFlags",
        ],
    }
}

impl Rule for PrestopExecWithoutShell {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let pod = cx.pod_shutdown(w);
        for (at, m) in pod.containers.iter().enumerate() {
            let Some(glob) = m.hook_fails.as_ref().map(|f| f.glob.as_str()) else {
                continue;
            };
            let Some(needs) = &m.drain.needs else {
                continue;
            };
            let name = m.container.name();
            let image = m.container.container.image.as_deref().unwrap_or_default();
            let program = match needs.kind {
                ProgramKind::Shell => format!("shell `{}`", needs.argv0),
                ProgramKind::Sleep | ProgramKind::Busybox => format!("`{}`", needs.argv0),
            };
            let message = format!(
                "preStop runs {program}, but image `{image}` (matches `{glob}`) has none: the hook fails and container `{name}` gets SIGTERM with no drain delay"
            );
            let pointer = m
                .container
                .field(&["lifecycle", "preStop", "exec", "command", "0"]);
            let min = cx.settings.min_drain_delay;
            if cx.kubernetes < KubeVersion::SLEEP_ACTION {
                let help = format!(
                    "have the app keep serving for `{}` after SIGTERM (no exec hook can sleep in this image), or use the `sleep` action once the cluster runs Kubernetes 1.30",
                    dur(min)
                );
                out.push(Violation::new(pointer, message, help).in_container(name));
                continue;
            }
            let length = match (&m.drain.hook, m.drain.delay) {
                (PreStopHook::ExecSleep, Delay::Finite(d)) => d,
                _ => min,
            };
            let seconds = length.ceil_secs().max(1);
            let new_drain = Millis::from_secs(seconds);
            let raise = grace_raise(&pod, at, new_drain);
            let raise_help = raise_help(raise.as_ref());
            let argv = exec_command(&m.container);
            let plain = only_sleeps(argv);
            let mut help = format!(
                "replace the exec hook with the `sleep` action: `preStop: {{sleep: {{seconds: {seconds}}}}}`{raise_help}"
            );
            if !plain {
                help.push_str("; what else the command does (it never ran) belongs in the app's SIGTERM handling");
            }
            let op = PatchOp::Replace {
                path: m.container.field(&["lifecycle", "preStop"]),
                value: json!({ "sleep": { "seconds": seconds } }),
            };
            let mut fix = fix_with_raise(
                format!(
                    "replace the exec preStop hook with a `sleep` action of `{}`",
                    dur(new_drain)
                ),
                op,
                raise,
            );
            if !plain {
                fix = Fix::unsafe_(
                    format!(
                        "{} (the rest of the command, which cannot run in this image, is dropped)",
                        fix.title
                    ),
                    fix.patch,
                );
            }
            out.push(
                Violation::new(pointer, message, help)
                    .in_container(name)
                    .with_fix(Some(fix)),
            );
        }
    }
}
