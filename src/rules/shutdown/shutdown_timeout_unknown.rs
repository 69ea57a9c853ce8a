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
    /// 2. the settings of a server rollsafe recognises (below);
    /// 3. an env var named in `shutdownTimeoutEnv`, including
    ///    `valueFrom.configMapKeyRef` and `envFrom` when the ConfigMap is in
    ///    the input;
    /// 4. a flag named in `shutdownTimeoutFlags` in `command` or `args`
    ///    (`--shutdown-timeout=10s`, `--graceful-timeout 25s`), also inside a
    ///    `sh -c` script;
    /// 5. the recognised server's documented default;
    /// 6. the policy's `defaultShutdownTimeout`.
    ///
    /// `$(VAR)` in env values, `command` and `args` is expanded as the
    /// kubelet does, and `$VAR` in a shell script from the container's env.
    /// Durations are Go syntax (`30s`, `1m30s`, `500ms`) or a plain number of
    /// seconds.
    ///
    /// Recognised servers, each from its documentation:
    /// - Istio's proxy (`proxyv2`): stops when its `terminationDrainDuration`
    ///   (default 5s) is over
    ///   (<https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#ProxyConfig>);
    /// - Envoy run by itself: closes its listeners at once on shutdown
    ///   (<https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/operations/draining>);
    /// - gunicorn: `--graceful-timeout` (or in `GUNICORN_CMD_ARGS`), default
    ///   30s (<https://docs.gunicorn.org/en/stable/settings.html#graceful-timeout>);
    /// - uvicorn: `--timeout-graceful-shutdown` or
    ///   `UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN`, no limit by default
    ///   (<https://www.uvicorn.org/settings/#timeouts>);
    /// - Spring Boot: `spring.lifecycle.timeout-per-shutdown-phase` as an
    ///   argument, a `-D` property in the command or in `JAVA_TOOL_OPTIONS`,
    ///   `JDK_JAVA_OPTIONS`, `JAVA_OPTS`, or the env var
    ///   `SPRING_LIFECYCLE_TIMEOUT_PER_SHUTDOWN_PHASE`
    ///   (<https://docs.spring.io/spring-boot/reference/web/graceful-shutdown.html>);
    /// - ingress-nginx: `worker-shutdown-timeout` of the controller's
    ///   ConfigMap (`--configmap`), default 240s
    ///   (<https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/configmap/#worker-shutdown-timeout>);
    /// - Thanos: the longer of `--http-grace-period` and
    ///   `--grpc-grace-period`, default 2m (<https://thanos.io/tip/components/query.md/#flags>);
    /// - Loki and Mimir: `-server.graceful-shutdown-timeout`, default 30s
    ///   (<https://grafana.com/docs/loki/latest/configure/#server>).
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
        let pod = cx.pod_shutdown(w);
        let mut reported: Vec<String> = Vec::new();
        for m in &pod.containers {
            if !m.serves {
                continue;
            }
            let name = m.container.name();
            if m.timeout == ShutdownTimeout::Unknown {
                out.push(
                    Violation::new(
                        m.container.pointer(),
                        format!(
                            "the shutdown timeout of container `{name}` is unknown: whether the grace period {} covers it cannot be checked",
                            grace_text(&pod)
                        ),
                        unknown_help(name),
                    )
                    .in_container(name),
                );
            }
            for (what, reading) in [
                ("shutdown timeout", &m.timeout),
                ("in-app drain", &m.in_app_drain),
            ] {
                let ShutdownTimeout::Malformed { text, source, .. } = reading else {
                    continue;
                };
                let pointer = source
                    .pointer
                    .clone()
                    .unwrap_or_else(|| m.container.pointer());
                if reported.contains(&pointer) {
                    continue;
                }
                reported.push(pointer.clone());
                let shared = matches!(&source.origin,
                    TimeoutOrigin::Annotation { key }
                        if key == SHUTDOWN_TIMEOUT_ANNOTATION || key == IN_APP_DRAIN_ANNOTATION);
                let whose = if shared {
                    "the pod's containers".to_owned()
                } else {
                    format!("container `{name}`")
                };
                let violation = Violation::new(
                    pointer,
                    format!(
                        "{what} `{text}` from {source} is not a duration: the grace period cannot be checked for {whose}"
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

fn unknown_help(container: &str) -> String {
    format!(
        "state it with the pod template annotation `{SHUTDOWN_TIMEOUT_ANNOTATION}.{container}` (or set `defaultShutdownTimeout` in a policy)"
    )
}
