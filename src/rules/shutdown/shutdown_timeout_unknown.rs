use super::*;

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
        let pod = pod_shutdown(w, cx);
        let mut reported: Vec<String> = Vec::new();
        for m in &pod.containers {
            if !m.serves {
                continue;
            }
            let name = m.container.name();
            match &m.timeout {
                ShutdownTimeout::Known { .. } => {}
                ShutdownTimeout::Unknown => out.push(
                    Violation::new(
                        m.container.pointer(),
                        format!(
                            "the shutdown timeout of container `{name}` is unknown: whether the grace period {} covers it cannot be checked",
                            grace_text(&pod)
                        ),
                        unknown_help(cx, name),
                    )
                    .in_container(name),
                ),
                ShutdownTimeout::Malformed { text, source, .. } => {
                    let pointer = source.pointer.clone().unwrap_or_else(|| m.container.pointer());
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
