//! Probe rules: when a pod gets traffic, and when it gets restarted.
//!
//! Jobs and CronJobs run to completion and are judged on shutdown only, so
//! none of these rules reads them. Probe timing is compared as the API server
//! stores it: absent fields, and the integer fields written as `0`, take the
//! API defaults (`periodSeconds` 10, `timeoutSeconds` 1, `successThreshold` 1,
//! `failureThreshold` 3).

use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Context, Rule, Violation};
use crate::model::{ContainerRef, Workload};

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
    /// a Service in the input selects the pod (and its target port cannot be
    /// traced to another container). Jobs and CronJobs are not checked.
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
        family: Probes,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for ReadinessProbeMissing {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in probed_containers(w) {
            if c.container.readiness_probe.is_some() || !cx.index.serves_traffic(w, &c) {
                continue;
            }
            let violation = match (declared_port(c.container), untraced_service_port(w, cx)) {
                (Some(port), _) => Violation::new(
                    c.pointer(),
                    format!(
                        "container `{}` serves port `{port}` but has no readinessProbe",
                        c.name()
                    ),
                    format!(
                        "add a readinessProbe that succeeds only once the app accepts requests, e.g. `httpGet` or `tcpSocket` on port `{port}`"
                    ),
                ),
                (None, Some((service, port))) => Violation::new(
                    c.pointer(),
                    format!(
                        "container `{}` has no readinessProbe, and Service `{service}` sends the pod traffic on port `{port}`, which no container declares",
                        c.name()
                    ),
                    format!(
                        "add a readinessProbe that succeeds only once the app accepts requests, or declare port `{port}` on the container that serves it"
                    ),
                ),
                (None, None) => Violation::new(
                    c.pointer(),
                    format!(
                        "container `{}` serves traffic but has no readinessProbe",
                        c.name()
                    ),
                    "add a readinessProbe that succeeds only once the app accepts requests",
                ),
            };
            out.push(violation.in_container(c.name()));
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
    /// are not checked; neither are init containers, which exit before the
    /// app starts.
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
        family: Probes,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for LivenessProbeMissing {
    fn check_workload(&self, w: &Workload, _cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in probed_containers(w) {
            if c.container.liveness_probe.is_some() {
                continue;
            }
            let help = match c.container.readiness_probe.as_ref().map(Window::of) {
                Some(ready) if ready.is_valid() => format!(
                    "add a livenessProbe so that a hung process is restarted, with a longer failure window than readiness (`{}s`), e.g. `failureThreshold: {}` at `periodSeconds: {}`",
                    ready.seconds(),
                    ready.failure * 2,
                    ready.period
                ),
                _ => "add a livenessProbe so that a hung process is restarted".to_owned(),
            };
            out.push(
                Violation::new(
                    c.pointer(),
                    format!("container `{}` has no livenessProbe", c.name()),
                    help,
                )
                .in_container(c.name()),
            );
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a container whose liveness and readiness probes are identical,
    /// timing included, once the API defaults are applied.
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
    /// Probes are compared as the API server stores them: `periodSeconds: 10`
    /// written out is the same as leaving it to the default, `path` defaults
    /// to `/` and `scheme` to `HTTP`, and a named port is the same as the
    /// number the container declares for it.
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
        family: Probes,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for LivenessEqualsReadiness {
    fn check_workload(&self, w: &Workload, _cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in probed_containers(w) {
            let (Some(liveness), Some(readiness)) =
                (&c.container.liveness_probe, &c.container.readiness_probe)
            else {
                continue;
            };
            if !identical(c.container, liveness, readiness) {
                continue;
            }
            let window = Window::of(liveness);
            if !window.is_valid() {
                continue;
            }
            out.push(
                Violation::new(
                    c.field(&["livenessProbe"]),
                    format!(
                        "container `{}` has identical liveness and readiness probes (`{}s` × {}): overload restarts the pod instead of taking it out of rotation",
                        c.name(),
                        window.period,
                        window.failure
                    ),
                    format!(
                        "give the liveness probe a longer failure window, e.g. `failureThreshold: {}` (`{}s`)",
                        window.failure * 2,
                        window.seconds() * 2
                    ),
                )
                .in_container(c.name()),
            );
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a probe whose `httpGet` or `tcpSocket` port is a name the
    /// container does not declare among its own `ports`, or a number written
    /// as a string.
    ///
    /// ## Why it matters
    /// The kubelet resolves a named probe port against the probed container's
    /// own `ports[].name` (a port declared by another container of the pod
    /// does not count). When no port has that name the probe errors on every
    /// run and its result is thrown away, so the probe never passes:
    ///
    /// - a readiness probe keeps the pod out of its Service's endpoints
    ///   forever, and the rollout stalls;
    /// - a startup probe never lets the container count as started, so it
    ///   never becomes ready either;
    /// - a liveness probe never fails, so a hung process is never restarted:
    ///   the safeguard is silently absent.
    ///
    /// A quoted number such as `"8080"` is a port *name* to the API server,
    /// which rejects it (a port name must contain a letter).
    ///
    /// A numeric port needs no declaration: the kubelet probes any port.
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
        family: Probes,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for ProbePortNotDeclared {
    fn check_workload(&self, w: &Workload, _cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in probed_containers(w) {
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
                    let violation = if let Some(number) = quoted_number(name) {
                        Violation::new(
                            pointer,
                            format!(
                                "{field} port `\"{name}\"` of container `{}` is a quoted number: the API server reads it as a port name and rejects it",
                                c.name()
                            ),
                            format!("write the port as a number: `port: {number}`"),
                        )
                    } else {
                        Violation::new(
                            pointer,
                            format!(
                                "{field} uses port `{name}`, which container `{}` does not declare: {}",
                                c.name(),
                                consequence(field)
                            ),
                            declared_names_help(w, &c, name),
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
    /// is still receiving traffic, and every in-flight request fails. With
    /// equal windows both fire together, and the restart races the endpoint
    /// removal, which takes seconds to reach every load balancer.
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
        family: Probes,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for LivenessRestartsBeforeUnready {
    fn check_workload(&self, w: &Workload, _cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in probed_containers(w) {
            let (Some(liveness), Some(readiness)) =
                (&c.container.liveness_probe, &c.container.readiness_probe)
            else {
                continue;
            };
            if identical(c.container, liveness, readiness) {
                continue;
            }
            let (live, ready) = (Window::of(liveness), Window::of(readiness));
            // Negative timings are rejected by the API server; not ours to judge.
            if !live.is_valid() || !ready.is_valid() || live.seconds() > ready.seconds() {
                continue;
            }
            let when = if live.seconds() < ready.seconds() {
                "before"
            } else {
                "just as"
            };
            // Twice the readiness window, in whole liveness periods.
            let threshold = ceil_div(2 * ready.seconds(), live.period);
            out.push(
                Violation::new(
                    c.field(&["livenessProbe"]),
                    format!(
                        "liveness restarts container `{}` after `{}s` of failures (`{}s` × {}), {when} readiness takes it out of the Service's endpoints at `{}s` (`{}s` × {})",
                        c.name(),
                        live.seconds(),
                        live.period,
                        live.failure,
                        ready.seconds(),
                        ready.period,
                        ready.failure,
                    ),
                    format!(
                        "make the liveness window longer than `{}s`, e.g. `failureThreshold: {threshold}` at `periodSeconds: {}` (`{}s`)",
                        ready.seconds(),
                        live.period,
                        threshold * live.period
                    ),
                )
                .in_container(c.name())
                .short_by(ready.seconds() - live.seconds()),
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
}

/// The containers probe rules read: main containers and native sidecars of
/// workloads that do not run to completion.
fn probed_containers(w: &Workload) -> impl Iterator<Item = ContainerRef<'_>> {
    let probed = !w.kind.runs_to_completion();
    w.long_running_containers().filter(move |_| probed)
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

/// What an unresolvable named port does to a probe of this kind: the kubelet
/// discards the result of a probe that errors, so the probe keeps its initial
/// state (readiness: not ready; liveness: alive; startup: not started).
fn consequence(field: &str) -> &'static str {
    match field {
        "readinessProbe" => "the probe can never succeed and the pod never becomes ready",
        "startupProbe" => {
            "the probe can never succeed, so the container never counts as started nor becomes ready"
        }
        _ => "the probe errors on every run and never fails, so a hung process is never restarted",
    }
}

/// `"8080"`: digits only, which a port name cannot be.
fn quoted_number(name: &str) -> Option<u64> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

fn declares_port_name(c: &Container, name: &str) -> bool {
    c.ports
        .iter()
        .flatten()
        .any(|p| p.name.as_deref() == Some(name))
}

/// The first `containerPort` a container declares.
fn declared_port(c: &Container) -> Option<i32> {
    c.ports.iter().flatten().map(|p| p.container_port).next()
}

fn declared_names_help(w: &Workload, c: &ContainerRef<'_>, wanted: &str) -> String {
    // The name may belong to another container of the pod: the pod shares one
    // network namespace, but a probe resolves names only among its own ports.
    let elsewhere = w
        .long_running_containers()
        .filter(|other| other.name() != c.name())
        .find_map(|other| {
            let ports = other.container.ports.iter().flatten();
            ports
                .filter(|p| p.name.as_deref() == Some(wanted))
                .map(|p| (other.name().to_owned(), p.container_port))
                .next()
        });
    if let Some((other, number)) = elsewhere {
        return format!(
            "`{wanted}` is declared by container `{other}`, but a probe resolves names only among its own container's ports: use the number, `port: {number}`, or declare the port on container `{}`",
            c.name()
        );
    }
    let ports = c.container.ports.iter().flatten();
    let names: Vec<&str> = ports.clone().filter_map(|p| p.name.as_deref()).collect();
    let numbers: Vec<String> = ports.map(|p| p.container_port.to_string()).collect();
    match (names.as_slice(), numbers.as_slice()) {
        ([], []) => format!(
            "declare the port on this container: `ports: [{{name: {wanted}, containerPort: …}}]`, or use the port number"
        ),
        ([], [number]) => format!(
            "use the port number, `port: {number}`, or name the port: `{{name: {wanted}, containerPort: {number}}}`"
        ),
        ([], numbers) => format!(
            "use the number of the port that serves the probe (declared: `{}`), or name that port `{wanted}`",
            numbers.join("`, `")
        ),
        (names, _) => {
            let closest = names
                .iter()
                .min_by_key(|n| crate::suggest::edit_distance(wanted, n))
                .copied()
                .unwrap_or(wanted);
            format!(
                "use a port name this container declares (`{}`), e.g. `port: {closest}`",
                names.join("`, `")
            )
        }
    }
}

/// The first port of a Service selecting the workload's pods whose target no
/// long-running container declares, as (Service name, target port).
fn untraced_service_port(w: &Workload, cx: &Context<'_>) -> Option<(String, String)> {
    cx.index.services_selecting(w).find_map(|service| {
        let ports = service.typed.spec.as_ref().and_then(|s| s.ports.as_ref());
        ports.into_iter().flatten().find_map(|port| {
            let target = port
                .target_port
                .clone()
                .unwrap_or(IntOrString::Int(port.port));
            let traced = w.long_running_containers().any(|c| {
                c.container.ports.iter().flatten().any(|p| match &target {
                    IntOrString::Int(n) => p.container_port == *n,
                    IntOrString::String(name) => p.name.as_deref() == Some(name.as_str()),
                })
            });
            let shown = match &target {
                IntOrString::Int(n) => n.to_string(),
                IntOrString::String(name) => name.clone(),
            };
            (!traced).then(|| (service.object.name.clone(), shown))
        })
    })
}

/// `a / b` rounded up, for positive operands.
fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1) / b
}

/// A probe's API default for an integer field: absent and `0` are the same
/// to the API server, which stores the default in both cases.
fn defaulted(value: Option<i32>, default: i32) -> i32 {
    match value {
        None | Some(0) => default,
        Some(v) => v,
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
            period: i64::from(defaulted(probe.period_seconds, 10)),
            failure: i64::from(defaulted(probe.failure_threshold, 3)),
        }
    }

    fn is_valid(self) -> bool {
        self.period > 0 && self.failure > 0
    }

    fn seconds(self) -> i64 {
        self.period * self.failure
    }
}

/// Probes that check the same thing with the same timing once API defaults
/// are applied: `periodSeconds: 10` written out is the same probe as one that
/// leaves it to the default, and `port: http` the same as the number the
/// container declares for `http`.
fn identical(c: &Container, a: &Probe, b: &Probe) -> bool {
    normalized(c, a) == normalized(c, b)
}

fn normalized(c: &Container, probe: &Probe) -> Probe {
    let mut p = probe.clone();
    p.initial_delay_seconds = Some(defaulted(p.initial_delay_seconds, 0));
    p.period_seconds = Some(defaulted(p.period_seconds, 10));
    p.timeout_seconds = Some(defaulted(p.timeout_seconds, 1));
    p.success_threshold = Some(defaulted(p.success_threshold, 1));
    p.failure_threshold = Some(defaulted(p.failure_threshold, 3));
    // Only the liveness (and startup) probe may set it, and it decides how a
    // restart ends, not when the probe fails.
    p.termination_grace_period_seconds = None;
    if let Some(http) = &mut p.http_get {
        if http.scheme.as_deref().is_none_or(str::is_empty) {
            http.scheme = Some("HTTP".to_owned());
        }
        if http.path.as_deref().is_none_or(str::is_empty) {
            http.path = Some("/".to_owned());
        }
        if http.host.as_deref() == Some("") {
            http.host = None;
        }
        if http.http_headers.as_ref().is_some_and(Vec::is_empty) {
            http.http_headers = None;
        }
        http.port = resolved_port(c, &http.port);
    }
    if let Some(tcp) = &mut p.tcp_socket {
        if tcp.host.as_deref() == Some("") {
            tcp.host = None;
        }
        tcp.port = resolved_port(c, &tcp.port);
    }
    if let Some(grpc) = &mut p.grpc {
        grpc.service.get_or_insert_with(String::new);
    }
    if let Some(exec) = &mut p.exec
        && exec.command.as_ref().is_some_and(Vec::is_empty)
    {
        exec.command = None;
    }
    p
}

/// A named port as the kubelet resolves it against the container's own ports.
fn resolved_port(c: &Container, port: &IntOrString) -> IntOrString {
    match port {
        IntOrString::String(name) => c
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .map_or_else(|| port.clone(), |p| IntOrString::Int(p.container_port)),
        IntOrString::Int(_) => port.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ContainerPort, HTTPGetAction};

    fn http_probe(port: IntOrString) -> Probe {
        Probe {
            http_get: Some(HTTPGetAction {
                port,
                ..HTTPGetAction::default()
            }),
            ..Probe::default()
        }
    }

    fn container() -> Container {
        Container {
            name: "app".to_owned(),
            ports: Some(vec![ContainerPort {
                name: Some("http".to_owned()),
                container_port: 8080,
                ..ContainerPort::default()
            }]),
            ..Container::default()
        }
    }

    #[test]
    fn defaults_written_out_or_as_zero_are_the_defaults() {
        let c = container();
        let implicit = http_probe(IntOrString::Int(8080));
        let mut explicit = http_probe(IntOrString::String("http".to_owned()));
        explicit.period_seconds = Some(0);
        explicit.failure_threshold = Some(3);
        explicit.timeout_seconds = Some(1);
        if let Some(h) = &mut explicit.http_get {
            h.path = Some("/".to_owned());
            h.scheme = Some("HTTP".to_owned());
        }
        assert!(identical(&c, &implicit, &explicit));
        explicit.failure_threshold = Some(6);
        assert!(!identical(&c, &implicit, &explicit));
    }

    #[test]
    fn windows() {
        let mut p = http_probe(IntOrString::Int(8080));
        assert_eq!(Window::of(&p).seconds(), 30);
        p.period_seconds = Some(0);
        p.failure_threshold = Some(5);
        assert_eq!(Window::of(&p).seconds(), 50);
        p.period_seconds = Some(-1);
        assert!(!Window::of(&p).is_valid());
    }

    #[test]
    fn quoted_numbers() {
        assert_eq!(quoted_number("8080"), Some(8080));
        assert_eq!(quoted_number("08080"), Some(8080));
        assert_eq!(quoted_number("http"), None);
        assert_eq!(quoted_number(""), None);
    }
}
