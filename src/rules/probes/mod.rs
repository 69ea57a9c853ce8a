//! Probe rules: when a pod gets traffic, and when it gets restarted.
//!
//! Jobs and CronJobs run to completion and are judged on shutdown only, so
//! none of these rules reads them. Probe timing is compared as the API server
//! stores it: absent fields, and the integer fields written as `0`, take the
//! API defaults (`periodSeconds` 10, `timeoutSeconds` 1, `successThreshold` 1,
//! `failureThreshold` 3).

mod cel;
mod liveness_equals_readiness;
mod liveness_probe_missing;
mod liveness_restarts_before_unready;
mod probe_port_not_declared;
mod readiness_probe_missing;
mod startup_probe_missing;

pub use liveness_equals_readiness::LivenessEqualsReadiness;
pub use liveness_probe_missing::LivenessProbeMissing;
pub use liveness_restarts_before_unready::LivenessRestartsBeforeUnready;
pub use probe_port_not_declared::ProbePortNotDeclared;
pub use readiness_probe_missing::ReadinessProbeMissing;
pub use startup_probe_missing::StartupProbeMissing;

use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::cel::{Check, LONG_RUNNING_KINDS, RuleCel, first_failing, per_container, serves};
use super::{Context, Rule, Settings, Violation, replacement_overlaps};
use crate::model::KubeVersion;
use crate::model::serving::Serving;
use crate::model::{ContainerRef, ContainerRole, Workload};
use crate::severity::Severity;

/// The containers probe rules read: main containers and native sidecars of
/// workloads that do not run to completion.
pub(super) fn probed_containers(w: &Workload) -> impl Iterator<Item = ContainerRef<'_>> {
    let probed = !w.kind.runs_to_completion();
    w.long_running_containers().filter(move |_| probed)
}

/// The liveness, readiness and startup probes of a container, by field name.
pub(super) fn probes(c: &Container) -> impl Iterator<Item = (&'static str, &Probe)> {
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
pub(super) fn consequence(field: &str) -> &'static str {
    match field {
        "readinessProbe" => "the probe can never succeed and the pod never becomes ready",
        "startupProbe" => {
            "the probe can never succeed, so the container never counts as started nor becomes ready"
        }
        _ => "the probe errors on every run and never fails, so a hung process is never restarted",
    }
}

/// `"8080"`: digits only, which a port name cannot be.
pub(super) fn quoted_number(name: &str) -> Option<u64> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

pub(super) fn declares_port_name(c: &Container, name: &str) -> bool {
    c.ports
        .iter()
        .flatten()
        .any(|p| p.name.as_deref() == Some(name))
}

pub(super) fn declared_names_help(w: &Workload, c: &ContainerRef<'_>, wanted: &str) -> String {
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

/// `a / b` rounded up, for positive operands.
pub(super) fn ceil_div(a: i64, b: i64) -> i64 {
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
pub(super) struct Window {
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

/// An exec probe that succeeds whatever the app's state (`true`,
/// `sh -c 'exit 0'`): it marks the container ready once it runs and never
/// takes it out of the endpoints again.
pub(super) fn never_fails(probe: &Probe) -> bool {
    let Some(argv) = probe.exec.as_ref().and_then(|e| e.command.as_deref()) else {
        return false;
    };
    let program = |word: &str| word.rsplit('/').next().unwrap_or(word).to_owned();
    let command = match argv {
        [shell, flag, script] if SHELLS.contains(&program(shell).as_str()) && flag == "-c" => {
            script.trim().to_owned()
        }
        [single] => program(single),
        _ => return false,
    };
    matches!(command.as_str(), "true" | ":" | "exit 0" | "/bin/true")
}

const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh"];

/// Probes that check the same thing with the same timing once API defaults
/// are applied: `periodSeconds: 10` written out is the same probe as one that
/// leaves it to the default, and `port: http` the same as the number the
/// container declares for `http`.
pub(super) fn identical(c: &Container, a: &Probe, b: &Probe) -> bool {
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
