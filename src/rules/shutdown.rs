//! Shutdown rules: what happens between a pod's deletion and SIGKILL.
//!
//! When a pod is deleted, endpoint removal and the kubelet's termination start
//! at the same moment. Each container's `preStop` hook runs first (the drain
//! delay, while load balancers stop routing to the pod), then the stop signal,
//! then the app's own shutdown; `terminationGracePeriodSeconds` counts all of
//! it from the deletion, and SIGKILL ends whatever is still running.

use serde_json::{Value, json};

use super::{Context, Rule, Violation};
use crate::fix::{Fix, PatchOp, set, set_creating_parents};
use crate::model::glob::matching_image_glob;
use crate::model::shutdown::{
    Delay, DelayBasis, DelayEdit, DrainDelay, PreStopHook, ProgramKind,
    SHUTDOWN_TIMEOUT_ANNOTATION, ShutdownTimeout, TimeoutOrigin, TimeoutSettings, drain_delay,
    needed_grace_seconds, shutdown_timeout,
};
use crate::model::{ContainerRef, KubeVersion, Millis, Workload};

declare_rule! {
    /// ## What it does
    /// Flags a container that serves traffic but has no `preStop` hook to
    /// delay its stop signal while the pod is taken out of its Service's
    /// endpoints.
    ///
    /// ## Why it matters
    /// When a pod is deleted (a rollout, a scale-down, a node drain), two
    /// things start at the same moment: endpoint removal (EndpointSlices,
    /// then kube-proxy, ingress controllers, cloud load balancers and service
    /// meshes, which take seconds to catch up) and the kubelet's termination
    /// of every container. Without a `preStop` hook the container gets SIGTERM
    /// at once, stops listening, and the requests still routed to it during
    /// those seconds fail. A short `sleep` in `preStop` keeps the app serving
    /// until the routes are gone; the stop signal follows the hook. The hook's
    /// time counts inside `terminationGracePeriodSeconds`, which runs from the
    /// deletion, so the sleep must leave room for the app's own shutdown
    /// before SIGKILL.
    ///
    /// A container serves traffic when it declares a `containerPort`, or when
    /// a Service in the input selects the pod. Jobs and CronJobs are checked
    /// too.
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
    ///     lifecycle:
    ///       preStop:
    ///         sleep:
    ///           seconds: 5
    /// ```
    ///
    /// ## Fix
    /// Adds `lifecycle.preStop.sleep.seconds` of `minDrainDelay` (rounded up
    /// to whole seconds), creating `lifecycle` when it is missing. Below
    /// Kubernetes 1.30, where the `sleep` action is not available, it adds an
    /// exec hook `["sleep", "N"]` instead, unless the image matches
    /// `shellessImages` (no `sleep` binary to run): then there is no fix. The
    /// sleep runs inside the grace period, so when
    /// `terminationGracePeriodSeconds` would no longer cover the container
    /// (it is not longer than the new sleep, or, with a known shutdown
    /// timeout, shorter than sleep + timeout + `graceMargin`) the fix also
    /// raises it to what the pod needs, as `grace-period-too-short` computes
    /// it; it never lowers it. The fix is safe: it only adds a delay.
    ///
    /// ## Settings
    /// - `minDrainDelay`: the length of the hook the fix adds. `0s` turns
    ///   the rule off.
    /// - `shellessImages`: images with no `sleep` for an exec hook.
    /// - `graceMargin`, `assumedHookSeconds`, `defaultShutdownTimeout`,
    ///   `shutdownTimeoutEnv`, `shutdownTimeoutFlags`: what the grace period
    ///   is raised to, when the fix has to raise it.
    pub struct PrestopHookMissing {
        id: "prestop-hook-missing",
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

impl Rule for PrestopHookMissing {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let min = cx.settings.min_drain_delay;
        if min == Millis(0) {
            return;
        }
        let pod = Pod::read(w, cx);
        let seconds = min.ceil_secs();
        for (at, m) in pod.members.iter().enumerate() {
            if !m.serves || m.drain.hook != PreStopHook::None {
                continue;
            }
            let name = m.c.name();
            let empty_hook = m.drain.pointer != m.c.pointer();
            let message = if empty_hook {
                format!(
                    "container `{name}` serves traffic but its preStop hook has no handler: it gets SIGTERM while endpoints still route requests to it"
                )
            } else {
                format!(
                    "container `{name}` serves traffic but has no preStop drain delay: it gets SIGTERM while endpoints still route requests to it"
                )
            };
            let new_drain = Millis::from_secs(seconds);
            let raise = pod.grace_raise(cx, at, new_drain);
            let raise_help = Pod::raise_help(raise.as_ref());
            let (help, fix) = if cx.kubernetes >= KubeVersion::SLEEP_ACTION {
                let op = set_creating_parents(
                    pod.doc(),
                    &m.c.field(&["lifecycle", "preStop", "sleep"]),
                    json!({ "seconds": seconds }),
                );
                (
                    format!("add `lifecycle.preStop.sleep.seconds: {seconds}`{raise_help}"),
                    Some(pod.fix(
                        format!("add a `sleep` preStop hook of `{}`", dur(new_drain)),
                        op,
                        raise,
                    )),
                )
            } else if let Some(glob) = image_glob(cx, &m.c) {
                (
                    format!(
                        "have the app keep serving for `{}` after SIGTERM (the image matches `{glob}`: no `sleep` for an exec hook), or use the `sleep` action from Kubernetes 1.30",
                        dur(new_drain)
                    ),
                    None,
                )
            } else {
                let op = set_creating_parents(
                    pod.doc(),
                    &m.c.field(&["lifecycle", "preStop", "exec"]),
                    json!({ "command": ["sleep", seconds.to_string()] }),
                );
                (
                    format!(
                        "add `lifecycle.preStop.exec.command: [\"sleep\", \"{seconds}\"]` (the `sleep` action needs Kubernetes 1.30){raise_help}"
                    ),
                    Some(pod.fix(
                        format!("add an exec preStop hook `sleep {seconds}`"),
                        op,
                        raise,
                    )),
                )
            };
            out.push(
                Violation::new(m.drain.pointer.clone(), message, help)
                    .in_container(name)
                    .with_fix(fix),
            );
        }
    }
}

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
        let pod = Pod::read(w, cx);
        for (at, m) in pod.members.iter().enumerate() {
            if !m.serves
                || m.drain.hook == PreStopHook::None
                || m.drain.basis != DelayBasis::Exact
                || pod.shelless_failure(cx, m).is_some()
            {
                continue;
            }
            let Some(delay) = m.drain.delay.finite() else {
                continue;
            };
            if delay >= min {
                continue;
            }
            let name = m.c.name();
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
            let raise = pod.grace_raise(cx, at, new_drain);
            let raise_help = Pod::raise_help(raise.as_ref());
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
                    edited_command(exec_command(&m.c), edit.pointer(), &value)
                ),
            };
            let op = set(pod.doc(), edit.pointer().to_owned(), value);
            let fix = pod.fix(
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
        let pod = Pod::read(w, cx);
        for (at, m) in pod.members.iter().enumerate() {
            let Some(glob) = pod.shelless_failure(cx, m) else {
                continue;
            };
            let Some(needs) = &m.drain.needs else {
                continue;
            };
            let name = m.c.name();
            let image = m.c.container.image.as_deref().unwrap_or_default();
            let program = match needs.kind {
                ProgramKind::Shell => format!("shell `{}`", needs.argv0),
                ProgramKind::Sleep | ProgramKind::Busybox => format!("`{}`", needs.argv0),
            };
            let message = format!(
                "preStop runs {program}, but image `{image}` (matches `{glob}`) has none: the hook fails and container `{name}` gets SIGTERM with no drain delay"
            );
            let pointer = m.c.field(&["lifecycle", "preStop", "exec", "command", "0"]);
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
            let raise = pod.grace_raise(cx, at, new_drain);
            let raise_help = Pod::raise_help(raise.as_ref());
            let argv = exec_command(&m.c);
            let plain = only_sleeps(argv);
            let mut help = format!(
                "replace the exec hook with the `sleep` action: `preStop: {{sleep: {{seconds: {seconds}}}}}`{raise_help}"
            );
            if !plain {
                help.push_str("; what else the command does (it never ran) belongs in the app's SIGTERM handling");
            }
            let op = PatchOp::Replace {
                path: m.c.field(&["lifecycle", "preStop"]),
                value: json!({ "sleep": { "seconds": seconds } }),
            };
            let mut fix = pod.fix(
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

declare_rule! {
    /// ## What it does
    /// Flags a `sleep` lifecycle action (`preStop` or `postStart`) that the
    /// policy's Kubernetes version (`kubernetesVersion`, or
    /// `--kubernetes-version`) does not accept: the action itself below 1.30,
    /// where it is alpha and off by default, or `sleep.seconds: 0` below 1.33.
    ///
    /// ## Why it matters
    /// Below 1.30 the `sleep` action is off by default (alpha in 1.29,
    /// unknown before): the API server drops it from the object it stores,
    /// or refuses the object when the client asks for strict field
    /// validation. Dropped, the container runs without the hook and nothing
    /// says so: a `preStop` sleep that silently disappears is a drain delay
    /// that is not there, and every shutdown sends SIGTERM while endpoints
    /// still route requests to the pod.
    ///
    /// `seconds: 0` below 1.33 fails validation: the object is refused (a
    /// Deployment's pod template is validated like a pod), so `kubectl
    /// apply` fails, a GitOps sync stays red, a Helm upgrade aborts.
    ///
    /// ## Example
    /// ```yaml
    /// # kubernetesVersion: "1.29"
    /// lifecycle:
    ///   preStop:
    ///     sleep:
    ///       seconds: 5
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// lifecycle:
    ///   preStop:
    ///     exec:
    ///       command: ["sleep", "5"]
    /// ```
    ///
    /// ## Settings
    /// - `minDrainDelay`: the delay suggested in place of a `preStop` sleep of
    ///   zero seconds.
    pub struct SleepActionUnsupported {
        id: "sleep-action-unsupported",
        family: Shutdown,
        scope: Object,
        fix: None,
        settings: ["minDrainDelay"],
    }
}

impl Rule for SleepActionUnsupported {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let version = cx.kubernetes;
        let min = cx.settings.min_drain_delay.ceil_secs().max(1);
        for c in w.containers() {
            let Some(lifecycle) = &c.container.lifecycle else {
                continue;
            };
            let hooks = [
                ("preStop", lifecycle.pre_stop.as_ref()),
                ("postStart", lifecycle.post_start.as_ref()),
            ];
            for (hook, handler) in hooks {
                let Some(sleep) = handler.and_then(|h| h.sleep.as_ref()) else {
                    continue;
                };
                let seconds = sleep.seconds;
                let pointer = c.field(&["lifecycle", hook, "sleep"]);
                let (message, help) = if version < KubeVersion::SLEEP_ACTION {
                    let shelless = image_glob(cx, &c);
                    let help = match shelless {
                        Some(glob) => format!(
                            "the image matches `{glob}` and has no `sleep` for an exec hook: remove the hook and have the app wait `{}s` itself, or set the policy's `kubernetesVersion` if every target cluster runs 1.30 or later",
                            seconds.max(1)
                        ),
                        None => format!(
                            "use an exec hook instead, `exec: {{command: [\"sleep\", \"{}\"]}}`, or set the policy's `kubernetesVersion` if every target cluster runs 1.30 or later",
                            seconds.max(1)
                        ),
                    };
                    let left = if hook == "preStop" {
                        "a drain delay"
                    } else {
                        "its postStart hook"
                    };
                    (
                        format!(
                            "the {hook} `sleep` action needs Kubernetes {} and the policy targets `{version}`: the API server drops or refuses it, and container `{}` is left without {left}",
                            KubeVersion::SLEEP_ACTION,
                            c.name()
                        ),
                        help,
                    )
                } else if seconds == 0 && version < KubeVersion::SLEEP_ZERO {
                    let help = if hook == "preStop" {
                        format!("set `seconds: {min}` to cover endpoint propagation")
                    } else {
                        "remove the postStart hook: a zero sleep does nothing".to_owned()
                    };
                    (
                        format!(
                            "{hook} `sleep.seconds: 0` needs Kubernetes {} and the policy targets `{version}`: the API server refuses the object",
                            KubeVersion::SLEEP_ZERO
                        ),
                        help,
                    )
                } else {
                    continue;
                };
                out.push(Violation::new(pointer, message, help).in_container(c.name()));
            }
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a serving container that does not fit in the pod's grace period:
    /// `terminationGracePeriodSeconds` (30 when unset) is less than its drain
    /// delay + app shutdown timeout + `graceMargin`. Each container that does
    /// not fit is reported.
    ///
    /// The drain delay is the `preStop` hook's (`assumedHookSeconds` for a
    /// hook whose length the manifest does not say). The shutdown timeout is
    /// read, first found wins, from the annotation
    /// `rollsafe.dev/shutdown-timeout.<container>` or
    /// `rollsafe.dev/shutdown-timeout`, an env var named in
    /// `shutdownTimeoutEnv` (a ConfigMap in the input included), a flag named
    /// in `shutdownTimeoutFlags`, or `defaultShutdownTimeout`. When none says
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
    /// need of any container (drain delay + shutdown timeout + `graceMargin`,
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
        let pod = Pod::read(w, cx);
        let margin = cx.settings.grace_margin;
        for m in &pod.members {
            if !m.serves || pod.exceeds(cx, m) {
                continue;
            }
            let ShutdownTimeout::Known { value, source } = &m.timeout else {
                continue;
            };
            let Some(need) = needed_grace_seconds(m.drain.delay, *value, margin) else {
                continue;
            };
            if pod.grace >= need {
                continue;
            }
            let target = pod.target(cx, None).max(need);
            let name = m.c.name();
            let message = format!(
                "grace period {} < drain {} + shutdown `{}` ({source}) + margin `{}`: container `{name}` is killed mid-shutdown",
                pod.grace_text(),
                drain_text(&m.drain),
                dur(*value),
                dur(margin),
            );
            let help = format!("set `terminationGracePeriodSeconds: {target}`");
            let fix = Fix::safe(
                format!("set `terminationGracePeriodSeconds` to `{target}`"),
                vec![pod.set_grace(target)],
            );
            out.push(
                Violation::new(pod.grace_pointer(), message, help)
                    .in_container(name)
                    .with_fix(Some(fix))
                    .short_by(need - pod.grace),
            );
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a `preStop` hook that takes as long as the grace period or
    /// longer: a `sleep` action, or an exec sleep whose length the manifest
    /// states, of at least `terminationGracePeriodSeconds` (30 when unset).
    /// Every long-running container with such a hook is checked, whether or
    /// not it serves traffic.
    ///
    /// ## Why it matters
    /// The grace period counts from the pod's deletion and the `preStop` hook
    /// runs inside it. A hook that uses it all up leaves the app no time: the
    /// kubelet sends the stop signal only when the grace period is over,
    /// with a one-off 2 s extension, then SIGKILL. The app is killed before it
    /// has been asked to stop, and every in-flight request fails. A `sleep`
    /// action longer than the grace period is worse: the API server rejects
    /// the object outright (a Deployment's pod template is validated like a
    /// pod), so the rollout never starts. An equal one is accepted, and has
    /// the first problem.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   terminationGracePeriodSeconds: 20
    ///   containers:
    ///     - name: api
    ///       env:
    ///         - {name: SHUTDOWN_TIMEOUT, value: 30s}
    ///       lifecycle:
    ///         preStop:
    ///           exec:
    ///             command: ["sleep", "30"]
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   terminationGracePeriodSeconds: 65
    ///   containers:
    ///     - name: api
    ///       env:
    ///         - {name: SHUTDOWN_TIMEOUT, value: 30s}
    ///       lifecycle:
    ///         preStop:
    ///           exec:
    ///             command: ["sleep", "30"]
    /// ```
    ///
    /// ## Fix
    /// Raises `terminationGracePeriodSeconds` on the pod spec to the largest
    /// need of any container: drain delay + shutdown timeout (0 when it is
    /// not known) + `graceMargin`, the same value `grace-period-too-short`
    /// sets. The fix is safe: it never lowers the grace period. A sleep that
    /// never ends (`sleep infinity`) has no fix: no grace period covers it.
    ///
    /// ## Settings
    /// - `graceMargin`, `assumedHookSeconds`, `defaultShutdownTimeout`,
    ///   `shutdownTimeoutEnv`, `shutdownTimeoutFlags`: what the fix raises the
    ///   grace period to.
    pub struct PrestopExceedsGracePeriod {
        id: "prestop-exceeds-grace-period",
        family: Shutdown,
        scope: Object,
        fix: Sometimes,
        settings: [
            "graceMargin",
            "assumedHookSeconds",
            "defaultShutdownTimeout",
            "shutdownTimeoutEnv",
            "shutdownTimeoutFlags",
        ],
    }
}

impl Rule for PrestopExceedsGracePeriod {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let pod = Pod::read(w, cx);
        let grace = pod.grace_text();
        for m in &pod.members {
            if !pod.exceeds(cx, m) {
                continue;
            }
            let name = m.c.name();
            let Delay::Finite(drain) = m.drain.delay else {
                out.push(
                    Violation::new(
                        m.drain.pointer.clone(),
                        format!(
                            "preStop sleeps forever: container `{name}` is always killed when the grace period {grace} is over, without being asked to stop"
                        ),
                        format!(
                            "replace the endless sleep with the drain delay, e.g. `sleep {}`",
                            cx.settings.min_drain_delay.ceil_secs().max(1)
                        ),
                    )
                    .in_container(name)
                    .short_by(i64::MAX),
                );
                continue;
            };
            let target = pod.target(cx, None);
            let rejected =
                matches!(m.drain.hook, PreStopHook::Sleep { seconds } if seconds > pod.grace);
            let message = if rejected {
                format!(
                    "preStop `sleep` of `{}` > grace period {grace}: the API server refuses the object (`sleep.seconds` may not exceed `terminationGracePeriodSeconds`)",
                    written_delay(&m.drain)
                )
            } else {
                format!(
                    "preStop drain delay `{}` ≥ grace period {grace}: container `{name}` gets SIGTERM only when the grace period is over, and SIGKILL 2s later",
                    dur(drain)
                )
            };
            let help = format!(
                "set `terminationGracePeriodSeconds: {target}`{}",
                pod.target_reason(cx, m, target)
            );
            let fix = Fix::safe(
                format!("raise `terminationGracePeriodSeconds` to `{target}`"),
                vec![pod.set_grace(target)],
            );
            out.push(
                Violation::new(m.drain.pointer.clone(), message, help)
                    .in_container(name)
                    .with_fix(Some(fix))
                    .short_by(millis_i64(drain) - pod.grace.saturating_mul(1000)),
            );
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a serving container whose app shutdown timeout cannot be found,
    /// or is found but is not a duration (`SHUTDOWN_TIMEOUT: "ten"`): the
    /// value is named with where it was read. Without it the grace period
    /// cannot be checked.
    ///
    /// The timeout is read, first found wins, from:
    /// 1. the pod template's annotation
    ///    `rollsafe.dev/shutdown-timeout.<container>`, then
    ///    `rollsafe.dev/shutdown-timeout` (each also on the workload itself);
    /// 2. an env var named in `shutdownTimeoutEnv`, including
    ///    `valueFrom.configMapKeyRef` and `envFrom` when the ConfigMap is in
    ///    the input;
    /// 3. a flag named in `shutdownTimeoutFlags` in `command` or `args`
    ///    (`--shutdown-timeout=10s`, `--graceful-timeout 25s`);
    /// 4. the policy's `defaultShutdownTimeout`.
    ///
    /// Durations are Go syntax (`30s`, `1m30s`, `500ms`) or a plain number of
    /// seconds.
    ///
    /// ## Why it matters
    /// The grace period has to cover the `preStop` drain delay and then the
    /// app's own shutdown, both counted from the pod's deletion; SIGKILL ends
    /// whatever is left. The app's shutdown timeout lives in its code or
    /// configuration, which rollsafe cannot see unless the manifest says it.
    /// Stating it turns a guess into a check, and documents for the next
    /// reader why the grace period is what it is.
    ///
    /// ## Example
    /// ```yaml
    /// template:
    ///   spec:
    ///     containers:
    ///       - name: api
    ///         image: example/api:3.1
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// template:
    ///   metadata:
    ///     annotations:
    ///       rollsafe.dev/shutdown-timeout.api: 20s
    ///   spec:
    ///     containers:
    ///       - name: api
    ///         image: example/api:3.1
    /// ```
    ///
    /// ## Settings
    /// - `shutdownTimeoutEnv`: env var names, in priority order.
    /// - `shutdownTimeoutFlags`: flag names, in priority order.
    /// - `defaultShutdownTimeout`: the timeout to assume when none is found;
    ///   setting it silences the rule for containers that state nothing.
    pub struct ShutdownTimeoutUnknown {
        id: "shutdown-timeout-unknown",
        family: Shutdown,
        scope: Object,
        fix: None,
        settings: [
            "shutdownTimeoutEnv",
            "shutdownTimeoutFlags",
            "defaultShutdownTimeout",
        ],
    }
}

impl Rule for ShutdownTimeoutUnknown {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let pod = Pod::read(w, cx);
        let mut reported: Vec<String> = Vec::new();
        for m in &pod.members {
            if !m.serves {
                continue;
            }
            let name = m.c.name();
            match &m.timeout {
                ShutdownTimeout::Known { .. } => {}
                ShutdownTimeout::Unknown => out.push(
                    Violation::new(
                        m.c.pointer(),
                        format!(
                            "the shutdown timeout of container `{name}` is unknown: whether the grace period {} covers it cannot be checked",
                            pod.grace_text()
                        ),
                        unknown_help(cx, name),
                    )
                    .in_container(name),
                ),
                ShutdownTimeout::Malformed { text, source, .. } => {
                    let pointer = source.pointer.clone().unwrap_or_else(|| m.c.pointer());
                    if reported.contains(&pointer) {
                        continue;
                    }
                    reported.push(pointer.clone());
                    let shared = matches!(&source.origin,
                        TimeoutOrigin::Annotation { key } if key == SHUTDOWN_TIMEOUT_ANNOTATION);
                    let whose = if shared {
                        "the pod's containers".to_owned()
                    } else {
                        format!("container `{name}`")
                    };
                    let violation = Violation::new(
                        pointer,
                        format!(
                            "shutdown timeout `{text}` from {source} is not a duration: the grace period cannot be checked for {whose}"
                        ),
                        format!(
                            "write {source} as a duration such as `30s`, `1m30s` or `500ms`, or a number of seconds"
                        ),
                    );
                    out.push(if shared {
                        violation
                    } else {
                        violation.in_container(name)
                    });
                }
            }
        }
    }
}

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
        let pod = Pod::read(w, cx);
        let grace = pod.grace;
        let max = cx.settings.max_grace_period;
        let need = pod.known_need(cx);
        let grace_ms = Millis::from_secs(u64::try_from(grace).unwrap_or(0));
        let violation = if grace_ms > max {
            let help = match need {
                Some((need, _)) if Millis::from_secs(need.unsigned_abs()) > max => format!(
                    "shorten the app's shutdown timeout: the pod needs `{}`, more than maxGracePeriod `{}`",
                    secs_text(need),
                    dur(max)
                ),
                Some((need, _)) => format!("set `terminationGracePeriodSeconds: {need}`"),
                None => format!(
                    "set `terminationGracePeriodSeconds` to at most `{}`",
                    max.0 / 1000
                ),
            };
            Violation::new(
                pod.grace_pointer(),
                format!(
                    "grace period `{}` > maxGracePeriod `{}`: a pod that hangs on shutdown holds node drains and rollouts for that long",
                    secs_text(grace),
                    dur(max)
                ),
                help,
            )
        } else {
            let Some((need, worst)) = need else {
                return;
            };
            if grace <= need.saturating_mul(4) {
                return;
            }
            Violation::new(
                pod.grace_pointer(),
                format!(
                    "grace period `{}` > 4 × the `{}` the pod needs ({worst}): a pod that hangs on shutdown holds node drains and rollouts for that long",
                    secs_text(grace),
                    secs_text(need)
                ),
                format!("set `terminationGracePeriodSeconds: {need}`"),
            )
        };
        out.push(violation);
    }
}

// ---------------------------------------------------------------------------
// What the rules share: one pod's shutdown budget
// ---------------------------------------------------------------------------

/// A long-running container as the shutdown rules see it.
struct Member<'w> {
    c: ContainerRef<'w>,
    serves: bool,
    drain: DrainDelay,
    timeout: ShutdownTimeout,
}

/// A workload's long-running containers and its grace period.
struct Pod<'w> {
    w: &'w Workload,
    members: Vec<Member<'w>>,
    /// `terminationGracePeriodSeconds`, or the default of 30.
    grace: i64,
}

impl<'w> Pod<'w> {
    fn read(w: &'w Workload, cx: &Context<'_>) -> Self {
        let settings = TimeoutSettings {
            env_names: &cx.settings.shutdown_timeout_env,
            flags: &cx.settings.shutdown_timeout_flags,
            default: cx.settings.default_shutdown_timeout,
        };
        let members = w
            .long_running_containers()
            .map(|c| Member {
                serves: cx.index.serves_traffic(w, &c),
                drain: drain_delay(&c, cx.settings.assumed_hook_seconds),
                timeout: shutdown_timeout(w, &c, cx.index, &settings),
                c,
            })
            .collect();
        Pod {
            w,
            members,
            grace: w.grace_period_seconds(),
        }
    }

    fn doc(&self) -> &Value {
        &self.w.doc.value
    }

    fn grace_is_set(&self) -> bool {
        self.w.pod_spec.termination_grace_period_seconds.is_some()
    }

    /// The grace period field, or the pod spec that should hold it.
    fn grace_pointer(&self) -> String {
        if self.grace_is_set() {
            self.w.pod_spec_field(&["terminationGracePeriodSeconds"])
        } else {
            self.w.pod_spec_pointer()
        }
    }

    /// "`30s` (the default)" or "`45s`".
    fn grace_text(&self) -> String {
        if self.grace_is_set() {
            format!("`{}`", secs_text(self.grace))
        } else {
            format!("`{}` (the default)", secs_text(self.grace))
        }
    }

    fn set_grace(&self, seconds: i64) -> PatchOp {
        set_creating_parents(
            self.doc(),
            &self.w.pod_spec_field(&["terminationGracePeriodSeconds"]),
            Value::from(seconds),
        )
    }

    /// The shell-less image glob that makes this container's exec hook fail.
    fn shelless_failure<'s>(&self, cx: &'s Context<'_>, m: &Member<'_>) -> Option<&'s str> {
        m.drain.needs.as_ref()?;
        image_glob(cx, &m.c)
    }

    /// Whether the container's preStop hook, as written, takes the whole grace
    /// period: what `prestop-exceeds-grace-period` reports.
    fn exceeds(&self, cx: &Context<'_>, m: &Member<'_>) -> bool {
        m.drain.hook != PreStopHook::None
            && m.drain.basis == DelayBasis::Exact
            && self.shelless_failure(cx, m).is_none()
            && m.drain.delay >= Delay::Finite(Millis::from_secs(self.grace.max(0).unsigned_abs()))
    }

    /// The grace period every container needs, in whole seconds: for each
    /// serving container and each container with a preStop hook, drain delay +
    /// shutdown timeout (0 when unknown) + margin, and more than the drain
    /// delay itself. `replace` gives one member a new drain delay (a fix that
    /// adds or lengthens its hook). Unbounded delays are left out: no grace
    /// period covers them.
    fn need(&self, cx: &Context<'_>, replace: Option<(usize, Millis)>) -> i64 {
        let mut need = 0;
        for (at, m) in self.members.iter().enumerate() {
            let (drain, hooked) = match replace {
                Some((index, drain)) if index == at => (Delay::Finite(drain), true),
                _ => (m.drain.delay, m.drain.hook != PreStopHook::None),
            };
            if !m.serves && !hooked {
                continue;
            }
            let timeout = m.timeout.value().unwrap_or_default();
            if let Some(n) = needed_grace_seconds(drain, timeout, cx.settings.grace_margin) {
                need = need.max(n);
            }
            if let (true, Some(drain)) = (hooked, drain.finite()) {
                need = need.max(i64::try_from(drain.0 / 1000 + 1).unwrap_or(i64::MAX));
            }
        }
        need
    }

    /// What a fix sets the grace period to: [`Pod::need`], never less than
    /// the grace period already is, so that a fix only raises it.
    fn target(&self, cx: &Context<'_>, replace: Option<(usize, Millis)>) -> i64 {
        self.need(cx, replace).max(self.grace)
    }

    /// Why a fix sets the grace period to `target`, in words, for member `m`:
    /// its own need spelled out, or that another container needs more.
    fn target_reason(&self, cx: &Context<'_>, m: &Member<'_>, target: i64) -> String {
        let margin = cx.settings.grace_margin;
        let own =
            needed_grace_seconds(m.drain.delay, m.timeout.value().unwrap_or_default(), margin);
        let beyond_drain = m
            .drain
            .delay
            .finite()
            .map(|d| i64::try_from(d.0 / 1000 + 1).unwrap_or(i64::MAX));
        if own.max(beyond_drain) != Some(target) {
            return ", what the neediest container of the pod needs".to_owned();
        }
        match &m.timeout {
            ShutdownTimeout::Known { value, source } => format!(
                " to cover drain {} + shutdown `{}` ({source}) + margin `{}`",
                drain_text(&m.drain),
                dur(*value),
                dur(margin)
            ),
            ShutdownTimeout::Malformed { .. } | ShutdownTimeout::Unknown => format!(
                " to cover drain {} + margin `{}`, plus the app's shutdown timeout, which the manifest does not state",
                drain_text(&m.drain),
                dur(margin)
            ),
        }
    }

    /// When a fix gives member `at` a drain delay of `drain` that the grace
    /// period would not cover, the operation raising the grace period and its
    /// new value. Not covered means what `prestop-exceeds-grace-period` and
    /// `grace-period-too-short` would then report: the grace period is not
    /// longer than the new delay, or, for a serving container with a known
    /// shutdown timeout, shorter than delay + timeout + margin. So a fix
    /// never leaves the container with a new shutdown finding.
    fn grace_raise(&self, cx: &Context<'_>, at: usize, drain: Millis) -> Option<(PatchOp, i64)> {
        let m = self.members.get(at)?;
        let grace = Millis::from_secs(self.grace.max(0).unsigned_abs());
        let need = match (m.serves, m.timeout.value()) {
            (true, Some(timeout)) => {
                needed_grace_seconds(Delay::Finite(drain), timeout, cx.settings.grace_margin)
            }
            _ => None,
        };
        if drain < grace && need.is_none_or(|need| need <= self.grace) {
            return None;
        }
        let target = self.target(cx, Some((at, drain)));
        Some((self.set_grace(target), target))
    }

    /// The help's words for a grace period raise.
    fn raise_help(raise: Option<&(PatchOp, i64)>) -> String {
        raise
            .map(|(_, target)| {
                format!(", and set `terminationGracePeriodSeconds: {target}` so the pod's shutdown still fits in it")
            })
            .unwrap_or_default()
    }

    /// A safe fix of `op`, with the grace period raise when there is one.
    fn fix(&self, title: String, op: PatchOp, raise: Option<(PatchOp, i64)>) -> Fix {
        match raise {
            Some((raise, target)) => Fix::safe(
                format!("{title} and raise `terminationGracePeriodSeconds` to `{target}`"),
                vec![op, raise],
            ),
            None => Fix::safe(title, vec![op]),
        }
    }

    /// What the pod needs when every serving container's shutdown timeout
    /// and drain delay are known (and at least one container serves): the
    /// seconds, and the neediest serving container's sum in words.
    fn known_need(&self, cx: &Context<'_>) -> Option<(i64, String)> {
        let margin = cx.settings.grace_margin;
        let mut worst: Option<(i64, String)> = None;
        for m in self.members.iter().filter(|m| m.serves) {
            let timeout = m.timeout.value()?;
            let need = needed_grace_seconds(m.drain.delay, timeout, margin)?;
            if worst.as_ref().is_none_or(|(seconds, _)| need > *seconds) {
                let words = format!(
                    "drain {} + shutdown `{}` + margin `{}` for container `{}`",
                    drain_text(&m.drain),
                    dur(timeout),
                    dur(margin),
                    m.c.name()
                );
                worst = Some((need, words));
            }
        }
        let (_, words) = worst?;
        Some((self.need(cx, None), words))
    }
}

/// The drain delay as the manifest writes it: a `sleep` action's seconds
/// even when negative (which counts as no delay).
fn written_delay(drain: &DrainDelay) -> String {
    match drain.hook {
        PreStopHook::Sleep { seconds } => secs_text(seconds),
        _ => delay_text(drain.delay),
    }
}

/// "`5s`", "`5s` (assumed for the httpGet hook)".
fn drain_text(drain: &DrainDelay) -> String {
    match (drain.basis, &drain.hook) {
        (DelayBasis::Exact, PreStopHook::None) => {
            format!("`{}` (no preStop hook)", delay_text(drain.delay))
        }
        (DelayBasis::Exact, _) => format!("`{}`", delay_text(drain.delay)),
        (DelayBasis::Assumed, hook) => {
            let what = match hook {
                PreStopHook::HttpGet => "httpGet hook",
                PreStopHook::TcpSocket => "tcpSocket hook",
                _ => "exec hook",
            };
            format!("`{}` (assumed for the {what})", delay_text(drain.delay))
        }
    }
}

/// Whole seconds as Kubernetes' `*Seconds` fields count them: `30s`, `600s`.
fn secs_text(seconds: i64) -> String {
    format!("{seconds}s")
}

/// A duration in the unit grace periods are written in: whole seconds as
/// `90s`, anything finer as Go writes it (`500ms`, `7.5s`).
/// Milliseconds as a signed count, for shortfalls.
fn millis_i64(m: Millis) -> i64 {
    i64::try_from(m.0).unwrap_or(i64::MAX)
}

fn dur(m: Millis) -> String {
    if m.0.is_multiple_of(1000) {
        format!("{}s", m.0 / 1000)
    } else {
        m.to_string()
    }
}

fn delay_text(delay: Delay) -> String {
    match delay {
        Delay::Finite(m) => dur(m),
        Delay::Unbounded => "unbounded".to_owned(),
    }
}

fn unknown_help(cx: &Context<'_>, container: &str) -> String {
    let quoted = |items: &[String]| {
        items
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut help = format!(
        "annotate the pod template with the app's timeout, e.g. `{SHUTDOWN_TIMEOUT_ANNOTATION}.{container}: \"20s\"` (or `{SHUTDOWN_TIMEOUT_ANNOTATION}` for every container)"
    );
    let env = &cx.settings.shutdown_timeout_env;
    let flags = &cx.settings.shutdown_timeout_flags;
    let mut others = Vec::new();
    if !env.is_empty() {
        others.push(format!("env {}", quoted(env)));
    }
    if !flags.is_empty() {
        others.push(format!("flag {}", quoted(flags)));
    }
    if !others.is_empty() {
        help.push_str(&format!(", or pass it as {}", others.join(" or ")));
    }
    help.push_str("; a policy can also set `defaultShutdownTimeout`");
    help
}

/// The glob of `shellessImages` the container's image matches, unless its
/// tag names a variant with a shell (`:debug`, `:latest-dev`).
fn image_glob<'s>(cx: &'s Context<'_>, c: &ContainerRef<'_>) -> Option<&'s str> {
    let image = c.container.image.as_deref()?;
    if has_debug_shell(image) {
        return None;
    }
    matching_image_glob(&cx.settings.shelless_images, image)
}

/// Image tags of variants that ship a busybox shell: distroless `:debug`,
/// `:debug-nonroot`, chainguard `:latest-dev`.
pub(crate) fn has_debug_shell(image: &str) -> bool {
    let without_digest = image.split_once('@').map_or(image, |(name, _)| name);
    let Some((_, tag)) = without_digest.rsplit_once(':') else {
        return false;
    };
    if tag.contains('/') {
        return false;
    }
    tag.split(['-', '_', '.'])
        .any(|part| part == "debug" || part == "dev")
}

/// The container's preStop exec command.
fn exec_command<'c>(c: &ContainerRef<'c>) -> &'c [String] {
    c.container
        .lifecycle
        .as_ref()
        .and_then(|l| l.pre_stop.as_ref())
        .and_then(|h| h.exec.as_ref())
        .and_then(|e| e.command.as_deref())
        .unwrap_or_default()
}

/// `argv` with the element at the end of `pointer` replaced by `value`, as a
/// YAML flow sequence: `["sleep", "5"]`.
fn edited_command(argv: &[String], pointer: &str, value: &Value) -> String {
    let at = pointer
        .rsplit('/')
        .next()
        .and_then(|token| token.parse::<usize>().ok());
    let words: Vec<String> = argv
        .iter()
        .enumerate()
        .map(|(i, word)| match (Some(i) == at, value.as_str()) {
            (true, Some(new)) => format!("{new:?}"),
            _ => format!("{word:?}"),
        })
        .collect();
    format!("[{}]", words.join(", "))
}

fn basename(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// Whether a command does nothing but sleep: `sleep 5`, `busybox sleep 5`,
/// `sh -c "sleep 5"`. Anything else, or anything unclear, is not.
fn only_sleeps(argv: &[String]) -> bool {
    let mut args = argv;
    if args.first().map(|a| basename(a)) == Some("busybox") {
        args = args.get(1..).unwrap_or_default();
    }
    let Some(program) = args.first().map(|a| basename(a)) else {
        return false;
    };
    if program == "sleep" {
        return true;
    }
    let Some(script) = args.last() else {
        return false;
    };
    let has_c = args
        .get(1..args.len().saturating_sub(1))
        .unwrap_or_default()
        .iter()
        .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('c'));
    if !has_c {
        return false;
    }
    script
        .split(['\n', ';'])
        .flat_map(|part| part.split("&&"))
        .all(|command| {
            let mut words = command.split_whitespace();
            let mut first = words.next();
            if first == Some("exec") {
                first = words.next();
            }
            match first {
                None => true,
                Some(word) => basename(word) == "sleep" && words.all(is_number_operand),
            }
        })
}

fn is_number_operand(word: &str) -> bool {
    !word.is_empty()
        && word
            .trim_matches('"')
            .trim_matches('\'')
            .trim_end_matches(['s', 'm', 'h', 'd'])
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn plain_sleeps() {
        assert!(only_sleeps(&argv(&["sleep", "5"])));
        assert!(only_sleeps(&argv(&["/bin/busybox", "sleep", "5"])));
        assert!(only_sleeps(&argv(&["/bin/sh", "-c", "sleep 5"])));
        assert!(only_sleeps(&argv(&["sh", "-ec", "sleep 2; sleep 3"])));
        assert!(!only_sleeps(&argv(&[
            "sh",
            "-c",
            "sleep 5 && nginx -s quit"
        ])));
        assert!(!only_sleeps(&argv(&["sh", "/drain.sh"])));
        assert!(!only_sleeps(&argv(&["/app/drain"])));
        assert!(!only_sleeps(&argv(&[])));
    }

    #[test]
    fn debug_variants_have_a_shell() {
        assert!(has_debug_shell("gcr.io/distroless/static:debug"));
        assert!(has_debug_shell("gcr.io/distroless/base:debug-nonroot"));
        assert!(has_debug_shell("cgr.dev/chainguard/static:latest-dev"));
        assert!(!has_debug_shell("gcr.io/distroless/static:nonroot"));
        assert!(!has_debug_shell("registry:5000/app"));
        assert!(!has_debug_shell("scratch"));
    }

    #[test]
    fn seconds_as_durations() {
        assert_eq!(secs_text(30), "30s");
        assert_eq!(secs_text(-1), "-1s");
        assert_eq!(dur(Millis(90_000)), "90s");
        assert_eq!(dur(Millis(7_500)), "7.5s");
        assert_eq!(dur(Millis(500)), "500ms");
    }
}
