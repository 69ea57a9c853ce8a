//! Probe rules: when a pod gets traffic, and when it gets restarted.

use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Context, Rule, Violation};
use crate::model::Workload;

declare_rule! {
    /// ## What it does
    /// Flags a container that serves traffic but has no `readinessProbe`.
    ///
    /// ## Why it matters
    /// Without a readiness probe a pod joins its Service's endpoints as soon as
    /// its containers start, before the application listens: during every
    /// rollout, scale-up and restart, requests reach a process that refuses
    /// them. The rolling update also counts such a pod as available at once,
    /// so old pods are removed before the new ones can serve.
    ///
    /// A container serves traffic when it declares a `containerPort`, or when
    /// a Service in the input selects the pod.
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
    ///     readinessProbe:
    ///       httpGet:
    ///         path: /ready
    ///         port: 8080
    /// ```
    pub struct ReadinessProbeMissing {
        id: "readiness-probe-missing",
        fix: None,
        settings: [],
    }
}

impl Rule for ReadinessProbeMissing {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        if w.kind.runs_to_completion() {
            return;
        }
        for c in w.long_running_containers() {
            if c.container.readiness_probe.is_none() && cx.index.serves_traffic(w, &c) {
                out.push(
                    Violation::new(
                        c.pointer(),
                        format!(
                            "container `{}` serves traffic but has no readinessProbe",
                            c.name()
                        ),
                        "add a readinessProbe that succeeds only once the app accepts requests",
                    )
                    .in_container(c.name()),
                );
            }
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a long-running container (a main container or a native sidecar)
    /// without a `livenessProbe`.
    ///
    /// ## Why it matters
    /// A process that deadlocks or stops making progress keeps running: it
    /// stays in the Service's endpoints if its readiness endpoint still
    /// answers, or silently reduces capacity if it does not. A liveness probe
    /// lets the kubelet restart it. Jobs and CronJobs run to completion and
    /// are not checked.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: worker
    ///     image: example/worker:2.0
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// containers:
    ///   - name: worker
    ///     image: example/worker:2.0
    ///     livenessProbe:
    ///       httpGet:
    ///         path: /healthz
    ///         port: 9090
    ///       periodSeconds: 10
    ///       failureThreshold: 6
    /// ```
    pub struct LivenessProbeMissing {
        id: "liveness-probe-missing",
        fix: None,
        settings: [],
    }
}

impl Rule for LivenessProbeMissing {
    fn check_workload(&self, w: &Workload, _cx: &Context<'_>, out: &mut Vec<Violation>) {
        if w.kind.runs_to_completion() {
            return;
        }
        for c in w.long_running_containers() {
            if c.container.liveness_probe.is_none() {
                out.push(
                    Violation::new(
                        c.pointer(),
                        format!("container `{}` has no livenessProbe", c.name()),
                        "add a livenessProbe so that a hung process is restarted",
                    )
                    .in_container(c.name()),
                );
            }
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a container whose liveness and readiness probes are identical,
    /// timing included.
    ///
    /// ## Why it matters
    /// Under overload a readiness probe should fail so the pod is taken out of
    /// rotation and sheds load. When the liveness probe is the same check with
    /// the same timing, it fails at the same moment and the kubelet restarts
    /// the pod instead: capacity drops exactly when it is needed, and the
    /// remaining pods are pushed into the same cascade. Pointing both probes
    /// at the same endpoint is fine when liveness tolerates failures for
    /// longer (a higher `failureThreshold` or `periodSeconds`): that passes.
    ///
    /// ## Example
    /// ```yaml
    /// readinessProbe:
    ///   httpGet: {path: /healthz, port: 8080}
    /// livenessProbe:
    ///   httpGet: {path: /healthz, port: 8080}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// readinessProbe:
    ///   httpGet: {path: /healthz, port: 8080}
    /// livenessProbe:
    ///   httpGet: {path: /healthz, port: 8080}
    ///   failureThreshold: 6
    /// ```
    pub struct LivenessEqualsReadiness {
        id: "liveness-equals-readiness",
        fix: None,
        settings: [],
    }
}

impl Rule for LivenessEqualsReadiness {
    fn check_workload(&self, w: &Workload, _cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in w.long_running_containers() {
            let (Some(liveness), Some(readiness)) =
                (&c.container.liveness_probe, &c.container.readiness_probe)
            else {
                continue;
            };
            if identical(liveness, readiness) {
                out.push(
                    Violation::new(
                        c.field(&["livenessProbe"]),
                        format!(
                            "container `{}` has identical liveness and readiness probes: overload restarts the pod instead of taking it out of rotation",
                            c.name()
                        ),
                        format!(
                            "give the liveness probe a longer failure window, e.g. `failureThreshold: {}`",
                            Window::of(liveness).failure * 2
                        ),
                    )
                    .in_container(c.name()),
                );
            }
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a probe whose `httpGet` or `tcpSocket` port is a name the
    /// container does not declare among its `ports`, or a number written as a
    /// string.
    ///
    /// ## Why it matters
    /// The kubelet resolves a named probe port against the container's own
    /// `ports[].name`. When no port has that name the probe can never succeed:
    /// a readiness probe keeps the pod out of service forever (and the rollout
    /// stalls), a liveness probe restarts it in a loop. A quoted number such as
    /// `"8080"` is read as a port *name*, which the API server rejects.
    ///
    /// ## Example
    /// ```yaml
    /// ports:
    ///   - name: http
    ///     containerPort: 8080
    /// readinessProbe:
    ///   httpGet: {path: /ready, port: web}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// ports:
    ///   - name: http
    ///     containerPort: 8080
    /// readinessProbe:
    ///   httpGet: {path: /ready, port: http}
    /// ```
    pub struct ProbePortNotDeclared {
        id: "probe-port-not-declared",
        fix: None,
        settings: [],
    }
}

impl Rule for ProbePortNotDeclared {
    fn check_workload(&self, w: &Workload, _cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in w.long_running_containers() {
            for (field, probe) in probes(c.container) {
                let ports = [
                    ("httpGet", probe.http_get.as_ref().map(|h| &h.port)),
                    ("tcpSocket", probe.tcp_socket.as_ref().map(|t| &t.port)),
                ];
                for (handler, port) in ports {
                    let Some(IntOrString::String(name)) = port else {
                        continue;
                    };
                    if declares_port_name(c.container, name) {
                        continue;
                    }
                    let pointer = c.field(&[field, handler, "port"]);
                    let violation = if name.parse::<u16>().is_ok() {
                        Violation::new(
                            pointer,
                            format!(
                                "{field} port `\"{name}\"` is a string, which the API server reads as a port name"
                            ),
                            format!("write the port as a number: `port: {name}`"),
                        )
                    } else {
                        Violation::new(
                            pointer,
                            format!(
                                "{field} uses port `{name}`, which container `{}` does not declare: the probe can never succeed",
                                c.name()
                            ),
                            declared_names_help(c.container, name),
                        )
                    };
                    out.push(violation.in_container(c.name()));
                }
            }
        }
    }
}

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
    /// is still receiving traffic, and every in-flight request fails.
    /// Identical probes are reported by `liveness-equals-readiness` instead.
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
    pub struct LivenessRestartsBeforeUnready {
        id: "liveness-restarts-before-unready",
        fix: None,
        settings: [],
    }
}

impl Rule for LivenessRestartsBeforeUnready {
    fn check_workload(&self, w: &Workload, _cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in w.long_running_containers() {
            let (Some(liveness), Some(readiness)) =
                (&c.container.liveness_probe, &c.container.readiness_probe)
            else {
                continue;
            };
            if identical(liveness, readiness) {
                continue;
            }
            let (live, ready) = (Window::of(liveness), Window::of(readiness));
            if live.seconds() > ready.seconds() {
                continue;
            }
            let threshold = ready.seconds() / live.period.max(1) + 1;
            out.push(
                Violation::new(
                    c.field(&["livenessProbe"]),
                    format!(
                        "liveness gives up after `{}s` ({}s × {}), readiness after `{}s` ({}s × {}): container `{}` is restarted while still in the Service's endpoints",
                        live.seconds(),
                        live.period,
                        live.failure,
                        ready.seconds(),
                        ready.period,
                        ready.failure,
                        c.name()
                    ),
                    format!(
                        "make the liveness window longer than `{}s`, e.g. `failureThreshold: {threshold}` at `periodSeconds: {}`",
                        ready.seconds(),
                        live.period
                    ),
                )
                .in_container(c.name()),
            );
        }
    }
}

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
        fix: None,
        settings: ["slowStartSeconds"],
    }
}

impl Rule for StartupProbeMissing {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in w.long_running_containers() {
            let Some(liveness) = &c.container.liveness_probe else {
                continue;
            };
            let delay = i64::from(liveness.initial_delay_seconds.unwrap_or(0));
            if c.container.startup_probe.is_some() || delay < cx.settings.slow_start_seconds {
                continue;
            }
            out.push(
                Violation::new(
                    c.field(&["livenessProbe", "initialDelaySeconds"]),
                    format!(
                        "liveness waits `{delay}s` before its first check and container `{}` has no startupProbe",
                        c.name()
                    ),
                    "add a startupProbe that covers the slowest start, and drop the liveness initialDelaySeconds",
                )
                .in_container(c.name()),
            );
        }
    }
}

/// The liveness, readiness and startup probes of a container, by field name.
fn probes(c: &Container) -> impl Iterator<Item = (&'static str, &Probe)> {
    [
        ("livenessProbe", c.liveness_probe.as_ref()),
        ("readinessProbe", c.readiness_probe.as_ref()),
        ("startupProbe", c.startup_probe.as_ref()),
    ]
    .into_iter()
    .filter_map(|(field, probe)| probe.map(|p| (field, p)))
}

fn declares_port_name(c: &Container, name: &str) -> bool {
    c.ports
        .iter()
        .flatten()
        .any(|p| p.name.as_deref() == Some(name))
}

fn declared_names_help(c: &Container, wanted: &str) -> String {
    let names: Vec<&str> = c
        .ports
        .iter()
        .flatten()
        .filter_map(|p| p.name.as_deref())
        .collect();
    match names.as_slice() {
        [] => format!(
            "declare the port: `ports: [{{name: {wanted}, containerPort: …}}]`, or use the port number"
        ),
        names => {
            let closest = names
                .iter()
                .min_by_key(|n| super::edit_distance(wanted, n))
                .copied()
                .unwrap_or(wanted);
            format!(
                "use a declared port name (`{}`), e.g. `port: {closest}`",
                names.join("`, `")
            )
        }
    }
}

/// How long a probe tolerates failure, with the API defaults filled in.
#[derive(Debug, Clone, Copy)]
struct Window {
    period: i64,
    failure: i64,
}

impl Window {
    fn of(probe: &Probe) -> Self {
        Window {
            period: i64::from(probe.period_seconds.unwrap_or(10)),
            failure: i64::from(probe.failure_threshold.unwrap_or(3)),
        }
    }

    fn seconds(self) -> i64 {
        self.period * self.failure
    }
}

/// Probes equal once API defaults are applied: `periodSeconds: 10` written out
/// is the same probe as one that leaves it to the default.
fn identical(a: &Probe, b: &Probe) -> bool {
    normalized(a) == normalized(b)
}

fn normalized(probe: &Probe) -> Probe {
    let mut p = probe.clone();
    p.initial_delay_seconds.get_or_insert(0);
    p.period_seconds.get_or_insert(10);
    p.timeout_seconds.get_or_insert(1);
    p.success_threshold.get_or_insert(1);
    p.failure_threshold.get_or_insert(3);
    if let Some(http) = &mut p.http_get {
        http.scheme.get_or_insert_with(|| "HTTP".to_owned());
        if http.path.as_deref().is_none_or(str::is_empty) {
            http.path = Some("/".to_owned());
        }
    }
    p
}
