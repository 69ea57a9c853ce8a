//! What the API server's validation rejects and no schema says, limited to
//! the fields rollsafe's rules depend on.
//!
//! In a workload's spec (`ValidateDeploymentSpec` and its siblings in
//! `pkg/apis/apps/validation`): `replicas`, `minReadySeconds` and
//! `revisionHistoryLimit` are not negative, and a Deployment's
//! `progressDeadlineSeconds` is greater than its `minReadySeconds`.
//!
//! In a pod template (`ValidatePodSpec` in `pkg/apis/core/validation`), for
//! probes and lifecycle hooks:
//!
//! - a probe has exactly one handler of `exec`, `httpGet`, `tcpSocket`, `grpc`;
//!   a lifecycle hook exactly one of `exec`, `httpGet`, `tcpSocket`, `sleep`;
//! - `successThreshold` of a liveness or startup probe is 1 (0 is defaulted to 1);
//! - probe timings are not negative, a probe's `terminationGracePeriodSeconds`
//!   is positive, `sleep.seconds` is not negative;
//! - an init container that is not a native sidecar has no probes and no
//!   lifecycle hooks;
//! - a readiness probe has no `terminationGracePeriodSeconds`
//!   (`validateReadinessProbe`);
//! - a handler's action is complete (`validateHandler`): `exec.command` is
//!   not empty (`validateExecAction`), an `httpGet` scheme is `HTTP` or
//!   `HTTPS` and its header names are HTTP tokens (`validateHTTPGetAction`),
//!   and a port number, of `httpGet`, `tcpSocket` or `grpc`, is within
//!   1–65535 (`ValidatePortNumOrName`, `validateTCPSocketAction`,
//!   `validateGRPCAction`);
//! - a container port is within 1–65535, a host port too when set, and a
//!   port name is an IANA service name, once per container
//!   (`validateContainerPorts`).
//!
//! In a PodDisruptionBudget (`ValidatePodDisruptionBudgetSpec` in
//! `pkg/apis/policy/validation`): not both `minAvailable` and
//! `maxUnavailable`, neither negative nor above `100%`
//! (`ValidatePositiveIntOrPercent`, `IsNotMoreThan100Percent`), a known
//! `unhealthyPodEvictionPolicy`, and selector requirements whose operator
//! and values agree (`ValidateLabelSelectorRequirement`), as in a workload's
//! own `spec.selector`.
//!
//! Values of the wrong type, and port names written where an int-or-string
//! port is expected, are left to the schema; a Deployment's `maxSurge` and
//! `maxUnavailable` to `rollout-invalid-strategy`.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Map, Value};

use super::{Problem, ProblemKind};
use crate::model::WorkloadKind;
use crate::model::rollout::valid_percent;
use crate::source::push_token;

const PROBES: [&str; 3] = ["livenessProbe", "readinessProbe", "startupProbe"];
const PROBE_HANDLERS: [&str; 4] = ["exec", "httpGet", "tcpSocket", "grpc"];
const HOOKS: [&str; 2] = ["postStart", "preStop"];
const HOOK_HANDLERS: [&str; 4] = ["exec", "httpGet", "tcpSocket", "sleep"];
const HTTP_SCHEMES: [&str; 2] = ["HTTP", "HTTPS"];
const SELECTOR_OPERATORS: [&str; 4] = ["In", "NotIn", "Exists", "DoesNotExist"];
const EVICTION_POLICIES: [&str; 2] = ["IfHealthyBudget", "AlwaysAllow"];
const PROBE_COUNTS: [&str; 5] = [
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
];

/// Checks the counts of a workload's own spec (`kind` is the workload kind).
pub fn check_workload_spec(value: &Value, kind: WorkloadKind, out: &mut Vec<Problem>) {
    use WorkloadKind as W;
    let counts: &[&str] = match kind {
        W::Deployment | W::StatefulSet => &["replicas", "minReadySeconds", "revisionHistoryLimit"],
        W::ReplicaSet | W::ReplicationController => &["replicas", "minReadySeconds"],
        W::DaemonSet => &["minReadySeconds", "revisionHistoryLimit"],
        // A Rollout's counts are checked by its CRD schema.
        W::Pod | W::Job | W::CronJob | W::Rollout | W::Custom => &[],
    };
    let number = |field: &str| {
        value
            .pointer(&format!("/spec/{field}"))
            .and_then(Value::as_i64)
    };
    for &field in counts {
        if let Some(n) = number(field).filter(|&n| n < 0) {
            out.push(invalid(
                format!("/spec/{field}"),
                format!("`spec.{field}` must not be negative, found `{n}`"),
                format!("set `{field}` to 0 or more"),
            ));
        }
    }
    if matches!(
        kind,
        W::Deployment | W::ReplicaSet | W::StatefulSet | W::DaemonSet
    ) && let Some(selector) = value.pointer("/spec/selector")
    {
        check_selector(selector, "/spec/selector", out);
    }
    if kind == W::Deployment
        && let Some(deadline) = number("progressDeadlineSeconds")
        && deadline <= number("minReadySeconds").unwrap_or(0)
    {
        let min_ready = number("minReadySeconds").unwrap_or(0);
        out.push(invalid(
            "/spec/progressDeadlineSeconds".to_owned(),
            format!(
                "`spec.progressDeadlineSeconds` must be greater than `minReadySeconds` (`{min_ready}`), found `{deadline}`"
            ),
            format!(
                "set `progressDeadlineSeconds` above `{min_ready}`, or leave it out for the default `600`"
            ),
        ));
    }
}

/// Checks every container of the pod template at `template` (`""` for a Pod).
pub fn check_pod_template(value: &Value, template: &str, out: &mut Vec<Problem>) {
    let spec_pointer = format!("{template}/spec");
    let Some(spec) = value.pointer(&spec_pointer) else {
        return;
    };
    for list in ["initContainers", "containers"] {
        let containers = spec.get(list).and_then(Value::as_array);
        for (index, container) in containers.into_iter().flatten().enumerate() {
            let Some(fields) = container.as_object() else {
                continue;
            };
            let pointer = format!("{spec_pointer}/{list}/{index}");
            let sidecar = fields.get("restartPolicy").and_then(Value::as_str) == Some("Always");
            let plain_init = list == "initContainers" && !sidecar;
            let name = fields
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let mut found = Vec::new();
            if let Some(ports) = fields.get("ports").and_then(Value::as_array) {
                check_container_ports(ports, &field(&pointer, "ports"), &mut found);
            }
            for probe in PROBES {
                if let Some(value) = fields.get(probe).filter(|v| !v.is_null()) {
                    let at = field(&pointer, probe);
                    if plain_init {
                        found.push(init_forbids(&at, probe));
                    } else {
                        check_probe(value, probe, &at, &mut found);
                    }
                }
            }
            if let Some(lifecycle) = fields.get("lifecycle").filter(|v| !v.is_null()) {
                let at = field(&pointer, "lifecycle");
                if plain_init {
                    found.push(init_forbids(&at, "lifecycle"));
                } else {
                    for hook in HOOKS {
                        if let Some(handler) = lifecycle.get(hook).filter(|v| !v.is_null()) {
                            check_hook(handler, hook, &field(&at, hook), &mut found);
                        }
                    }
                }
            }
            for problem in &mut found {
                problem.container = name.clone();
            }
            out.extend(found);
        }
    }
}

fn check_probe(probe: &Value, name: &str, pointer: &str, out: &mut Vec<Problem>) {
    let Some(fields) = probe.as_object() else {
        return;
    };
    if let Some(handler) = handlers(fields, name, &PROBE_HANDLERS, pointer, out) {
        check_action(fields, handler, name, pointer, out);
    }
    for count in PROBE_COUNTS {
        if let Some(n) = fields.get(count).and_then(Value::as_i64)
            && n < 0
        {
            out.push(invalid(
                field(pointer, count),
                format!("`{name}.{count}` must not be negative, found `{n}`"),
                format!("set `{count}` to 0 or more"),
            ));
        }
    }
    let success = fields.get("successThreshold").and_then(Value::as_i64);
    if name != "readinessProbe"
        && let Some(n) = success.filter(|&n| n > 1)
    {
        out.push(invalid(
                field(pointer, "successThreshold"),
                format!("`{name}.successThreshold` must be 1, found `{n}`"),
                "set `successThreshold: 1` or leave it out: only a readiness probe may need several successes".to_owned(),
            ));
    }
    let grace = fields
        .get("terminationGracePeriodSeconds")
        .filter(|v| !v.is_null());
    if name == "readinessProbe" {
        // A readiness probe never kills the container, so it has no grace
        // period of its own to override.
        if grace.is_some() {
            out.push(invalid(
                field(pointer, "terminationGracePeriodSeconds"),
                "`readinessProbe.terminationGracePeriodSeconds` must not be set: a failing readiness probe never stops the container".to_owned(),
                "remove it; the pod's `terminationGracePeriodSeconds` applies when the pod stops".to_owned(),
            ));
        }
        return;
    }
    if let Some(n) = grace.and_then(Value::as_i64).filter(|&n| n <= 0) {
        out.push(invalid(
            field(pointer, "terminationGracePeriodSeconds"),
            format!("`{name}.terminationGracePeriodSeconds` must be greater than 0, found `{n}`"),
            "set a positive number of seconds, or leave it out to use the pod's".to_owned(),
        ));
    }
}

fn check_hook(hook: &Value, name: &str, pointer: &str, out: &mut Vec<Problem>) {
    let Some(fields) = hook.as_object() else {
        return;
    };
    if let Some(handler) = handlers(fields, name, &HOOK_HANDLERS, pointer, out) {
        check_action(fields, handler, name, pointer, out);
    }
    let seconds = fields
        .get("sleep")
        .and_then(|s| s.get("seconds"))
        .and_then(Value::as_i64);
    if let Some(n) = seconds.filter(|&n| n < 0) {
        out.push(invalid(
            format!("{pointer}/sleep/seconds"),
            format!("`{name}.sleep.seconds` must not be negative, found `{n}`"),
            "set the number of seconds to sleep, e.g. `seconds: 5`".to_owned(),
        ));
    }
}

/// Exactly one of `allowed` must be set. The first one set, whose action
/// Kubernetes goes on to check; it only refuses the others.
fn handlers<'a>(
    fields: &Map<String, Value>,
    name: &str,
    allowed: &[&'a str],
    pointer: &str,
    out: &mut Vec<Problem>,
) -> Option<&'a str> {
    let set: Vec<&'a str> = allowed
        .iter()
        .copied()
        .filter(|h| fields.get(*h).is_some_and(|v| !v.is_null()))
        .collect();
    let choices = allowed.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>();
    let choices = format!(
        "{} or {}",
        choices[..choices.len() - 1].join(", "),
        choices[choices.len() - 1]
    );
    match set.as_slice() {
        [] => out.push(invalid(
            pointer.to_owned(),
            format!("`{name}` has no handler: the API server requires one of {choices}"),
            format!("give `{name}` exactly one handler"),
        )),
        [_] => {}
        [_, second, ..] => {
            let named: Vec<String> = set.iter().map(|h| format!("`{h}`")).collect();
            let listed = match named.split_last() {
                Some((last, others)) => format!("{} and {last}", others.join(", ")),
                None => String::new(),
            };
            out.push(invalid(
                field(pointer, second),
                format!(
                    "`{name}` has {} handlers ({listed}): the API server accepts exactly one",
                    set.len()
                ),
                format!("keep only one of {listed}"),
            ));
        }
    }
    set.first().copied()
}

/// What `validateHandler` goes on to check of the action it accepts.
fn check_action(
    fields: &Map<String, Value>,
    handler: &str,
    name: &str,
    pointer: &str,
    out: &mut Vec<Problem>,
) {
    let Some(action) = fields.get(handler).and_then(Value::as_object) else {
        return;
    };
    let at = field(pointer, handler);
    let label = format!("{name}.{handler}");
    match handler {
        "exec" => {
            let command = action.get("command").filter(|v| !v.is_null());
            if command
                .and_then(Value::as_array)
                .is_none_or(|c| c.is_empty())
            {
                let pointer = match command {
                    Some(_) => field(&at, "command"),
                    None => at.clone(),
                };
                out.push(invalid(
                    pointer,
                    format!("`{label}.command` is empty: the API server requires a command to run"),
                    "give the command to run, e.g. `command: [\"/bin/healthcheck\"]`".to_owned(),
                ));
            }
        }
        "httpGet" => {
            check_port_number(action, &at, &label, out);
            check_scheme(action, &at, &label, out);
            let headers = action.get("httpHeaders").and_then(Value::as_array);
            for (index, header) in headers.into_iter().flatten().enumerate() {
                let Some(header_name) = header.get("name").and_then(Value::as_str) else {
                    continue;
                };
                if !is_header_name(header_name) {
                    out.push(invalid(
                        format!("{at}/httpHeaders/{index}/name"),
                        format!(
                            "`{label}.httpHeaders[{index}].name` `{header_name}` is not an HTTP header name: only letters, digits and `-` are allowed"
                        ),
                        "write the header's name alone, e.g. `name: X-Probe`, and its value in `value`".to_owned(),
                    ));
                }
            }
        }
        "tcpSocket" | "grpc" => check_port_number(action, &at, &label, out),
        _ => {}
    }
}

/// A port given as a number (`ValidatePortNumOrName`, `IsValidPortNum`); a
/// name is the schema's to check.
fn check_port_number(action: &Map<String, Value>, at: &str, label: &str, out: &mut Vec<Problem>) {
    let Some(port) = action.get("port").and_then(Value::as_i64) else {
        return;
    };
    if !(1..=65535).contains(&port) {
        out.push(invalid(
            field(at, "port"),
            format!("`{label}.port` must be a port number from 1 to 65535, found `{port}`"),
            if label.ends_with(".grpc") {
                "give the number of the port the gRPC server listens on".to_owned()
            } else {
                "give the port the container listens on, or its name".to_owned()
            },
        ));
    }
}

/// `supportedHTTPSchemes`: exactly `HTTP` or `HTTPS`; empty is defaulted.
fn check_scheme(action: &Map<String, Value>, at: &str, label: &str, out: &mut Vec<Problem>) {
    let Some(scheme) = action
        .get("scheme")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return;
    };
    if HTTP_SCHEMES.contains(&scheme) {
        return;
    }
    let help = match HTTP_SCHEMES.iter().find(|s| s.eq_ignore_ascii_case(scheme)) {
        Some(known) => format!("write it in capitals: `scheme: {known}`"),
        None => "use `scheme: HTTP` or `scheme: HTTPS`".to_owned(),
    };
    out.push(invalid(
        field(at, "scheme"),
        format!("`{label}.scheme` must be `HTTP` or `HTTPS`, found `{scheme}`"),
        help,
    ));
}

/// `IsHTTPHeaderName`: `[-A-Za-z0-9]+`.
fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `validateContainerPorts`: numbers in range, names that are IANA service
/// names and unique within the container.
fn check_container_ports(ports: &[Value], pointer: &str, out: &mut Vec<Problem>) {
    let mut names: Vec<&str> = Vec::new();
    for (index, port) in ports.iter().enumerate() {
        let Some(fields) = port.as_object() else {
            continue;
        };
        let at = format!("{pointer}/{index}");
        let name = fields
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty());
        if let Some(name) = name {
            match port_name_flaw(name) {
                Some(flaw) => out.push(invalid(
                    field(&at, "name"),
                    format!("port name `{name}` is not an IANA service name: it must have {flaw}"),
                    match port_name_like(name) {
                        Some(fixed) => format!("rename the port, e.g. `name: {fixed}`"),
                        None => "name the port with at most 15 lowercase letters, digits and single hyphens, one letter at least".to_owned(),
                    },
                )),
                None if names.contains(&name) => out.push(invalid(
                    field(&at, "name"),
                    format!("port name `{name}` is declared twice in this container"),
                    "give each port of the container its own name".to_owned(),
                )),
                None => names.push(name),
            }
        }
        let number = |key: &str| fields.get(key).and_then(Value::as_i64);
        if let Some(n) = number("containerPort").filter(|n| !(1..=65535).contains(n)) {
            out.push(invalid(
                field(&at, "containerPort"),
                format!("`containerPort` must be a port number from 1 to 65535, found `{n}`"),
                "give the port the container listens on".to_owned(),
            ));
        }
        if let Some(n) = number("hostPort").filter(|n| *n != 0 && !(1..=65535).contains(n)) {
            out.push(invalid(
                field(&at, "hostPort"),
                format!("`hostPort` must be a port number from 1 to 65535, found `{n}`"),
                "give a port of the node from 1 to 65535, or leave `hostPort` out".to_owned(),
            ));
        }
    }
}

/// What `IsValidPortName` finds wrong with a port name, first flaw first.
fn port_name_flaw(name: &str) -> Option<&'static str> {
    if name.len() > 15 {
        Some("at most 15 characters")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Some("only lowercase letters, digits and hyphens")
    } else if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        Some("at least one letter")
    } else if name.contains("--") {
        Some("no two hyphens in a row")
    } else if name.starts_with('-') || name.ends_with('-') {
        Some("no hyphen at either end")
    } else {
        None
    }
}

/// The nearest valid port name, when one is near: lower case, other
/// characters as single hyphens. A name too long is left to its author:
/// cutting it rarely leaves a name anyone would choose.
fn port_name_like(name: &str) -> Option<String> {
    if name.len() > 15 {
        return None;
    }
    let mut fixed = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            fixed.push(c);
        } else if !fixed.is_empty() && !fixed.ends_with('-') {
            fixed.push('-');
        }
    }
    let fixed = fixed.trim_end_matches('-').to_owned();
    port_name_flaw(&fixed).is_none().then_some(fixed)
}

/// `ValidateLabelSelectorRequirement`: `In` and `NotIn` need values,
/// `Exists` and `DoesNotExist` take none, and no other operator exists.
fn check_selector(selector: &Value, pointer: &str, out: &mut Vec<Problem>) {
    let expressions = selector.get("matchExpressions").and_then(Value::as_array);
    for (index, requirement) in expressions.into_iter().flatten().enumerate() {
        let Some(fields) = requirement.as_object() else {
            continue;
        };
        let Some(operator) = fields.get("operator").and_then(Value::as_str) else {
            continue;
        };
        let at = format!("{pointer}/matchExpressions/{index}");
        let key = fields
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let values = fields.get("values").filter(|v| !v.is_null());
        let count = values.and_then(Value::as_array).map_or(0, Vec::len);
        match operator {
            "In" | "NotIn" if count == 0 => out.push(invalid(
                match values {
                    Some(_) => field(&at, "values"),
                    None => at.clone(),
                },
                format!(
                    "`{key} {operator}` lists no `values`: the API server requires at least one for `In` and `NotIn`"
                ),
                format!("list the values of `{key}` to select, or use `operator: Exists`"),
            )),
            "Exists" | "DoesNotExist" if count > 0 => out.push(invalid(
                field(&at, "values"),
                format!(
                    "`{key} {operator}` lists `values`: the API server forbids them for `Exists` and `DoesNotExist`"
                ),
                "remove `values`, or use `operator: In` to select by value".to_owned(),
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => out.push(invalid(
                field(&at, "operator"),
                format!(
                    "selector operator `{other}` is not one of `In`, `NotIn`, `Exists` and `DoesNotExist`"
                ),
                match SELECTOR_OPERATORS
                    .iter()
                    .find(|known| known.eq_ignore_ascii_case(other))
                {
                    Some(known) => format!("write it as Kubernetes spells it: `operator: {known}`"),
                    None => "use `In`, `NotIn`, `Exists` or `DoesNotExist`".to_owned(),
                },
            )),
        }
    }
}

/// Checks a PodDisruptionBudget's spec as `ValidatePodDisruptionBudgetSpec`
/// does, beyond what the schema says.
pub fn check_pdb_spec(value: &Value, out: &mut Vec<Problem>) {
    let Some(spec) = value.get("spec").and_then(Value::as_object) else {
        return;
    };
    let set = |name: &str| spec.get(name).filter(|v| !v.is_null());
    let (min, max) = (set("minAvailable"), set("maxUnavailable"));
    if min.is_some() && max.is_some() {
        out.push(invalid(
            "/spec/minAvailable".to_owned(),
            "`minAvailable` and `maxUnavailable` are both set: the API server accepts one or the other".to_owned(),
            "keep only one of them, e.g. `maxUnavailable: 1`".to_owned(),
        ));
    }
    for (name, budget) in [("minAvailable", min), ("maxUnavailable", max)] {
        let at = format!("/spec/{name}");
        match budget {
            Some(Value::Number(n)) => {
                if let Some(n) = n.as_i64().filter(|n| *n < 0) {
                    out.push(invalid(
                        at,
                        format!("`spec.{name}` must not be negative, found `{n}`"),
                        format!(
                            "set `{name}` to a number of pods from 0, or a percentage such as `50%`"
                        ),
                    ));
                }
            }
            Some(Value::String(text)) => {
                let percent = valid_percent(&IntOrString::String(text.clone()));
                if percent.is_some_and(|p| p > 100) {
                    out.push(invalid(
                        at,
                        format!("`spec.{name}` must not be more than `100%`, found `{text}`"),
                        format!(
                            "set `{name}` to a percentage from `0%` to `100%`, or a number of pods"
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    let policy = spec
        .get("unhealthyPodEvictionPolicy")
        .and_then(Value::as_str);
    if let Some(policy) = policy.filter(|p| !EVICTION_POLICIES.contains(p)) {
        let help = match EVICTION_POLICIES
            .iter()
            .find(|known| known.eq_ignore_ascii_case(policy))
        {
            Some(known) => format!("write it as Kubernetes spells it: `{known}`"),
            None => "use `IfHealthyBudget` (the default) or `AlwaysAllow`".to_owned(),
        };
        out.push(invalid(
            "/spec/unhealthyPodEvictionPolicy".to_owned(),
            format!(
                "`spec.unhealthyPodEvictionPolicy` must be `IfHealthyBudget` or `AlwaysAllow`, found `{policy}`"
            ),
            help,
        ));
    }
    if let Some(selector) = spec.get("selector") {
        check_selector(selector, "/spec/selector", out);
    }
}

fn init_forbids(pointer: &str, what: &str) -> Problem {
    invalid(
        pointer.to_owned(),
        format!(
            "an init container may not have `{what}` unless it is a native sidecar (`restartPolicy: Always`)"
        ),
        format!("remove `{what}`, or make the container a sidecar with `restartPolicy: Always`"),
    )
}

fn field(pointer: &str, name: &str) -> String {
    let mut out = pointer.to_owned();
    push_token(&mut out, name);
    out
}

fn invalid(pointer: String, message: String, help: String) -> Problem {
    Problem {
        kind: ProblemKind::InvalidValue,
        pointer,
        container: None,
        message,
        help,
        repair: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(pod_spec: Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        check_pod_template(
            &json!({"spec": {"template": {"spec": pod_spec}}}),
            "/spec/template",
            &mut out,
        );
        out.into_iter().map(|p| (p.pointer, p.message)).collect()
    }

    #[test]
    fn probe_and_hook_handlers() {
        let found = problems(json!({"containers": [{
            "name": "web",
            "readinessProbe": {"periodSeconds": 5},
            "livenessProbe": {"httpGet": {"port": 80}, "tcpSocket": {"port": 80}, "successThreshold": 3},
            "startupProbe": {"exec": {"command": ["true"]}, "successThreshold": 1, "failureThreshold": -1},
            "lifecycle": {"preStop": {"sleep": {"seconds": -5}}, "postStart": {}}
        }]}));
        let pointers: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            pointers,
            vec![
                "/spec/template/spec/containers/0/livenessProbe/tcpSocket",
                "/spec/template/spec/containers/0/livenessProbe/successThreshold",
                "/spec/template/spec/containers/0/readinessProbe",
                "/spec/template/spec/containers/0/startupProbe/failureThreshold",
                "/spec/template/spec/containers/0/lifecycle/postStart",
                "/spec/template/spec/containers/0/lifecycle/preStop/sleep/seconds",
            ]
        );
    }

    #[test]
    fn workload_counts_are_not_negative() {
        let mut out = Vec::new();
        let value =
            json!({"spec": {"replicas": -5, "minReadySeconds": 10, "progressDeadlineSeconds": 10}});
        check_workload_spec(&value, WorkloadKind::Deployment, &mut out);
        let pointers: Vec<&str> = out.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            ["/spec/replicas", "/spec/progressDeadlineSeconds"]
        );
        let mut out = Vec::new();
        check_workload_spec(
            &json!({"spec": {"replicas": -1}}),
            WorkloadKind::DaemonSet,
            &mut out,
        );
        assert!(out.is_empty(), "a DaemonSet has no replicas field to judge");
    }

    #[test]
    fn port_names_as_iana_service_names() {
        for good in ["http", "metrics-2", "a1", "abcdefghijklmno", "9a"] {
            assert_eq!(port_name_flaw(good), None, "{good}");
        }
        for bad in [
            "HTTP",
            "http_x",
            "8080",
            "a--b",
            "-a",
            "a-",
            "abcdefghijklmnop",
            "é",
        ] {
            assert!(port_name_flaw(bad).is_some(), "{bad}");
        }
        assert_eq!(
            port_name_like("HTTP_Metrics").as_deref(),
            Some("http-metrics")
        );
        assert_eq!(port_name_like("--grpc--").as_deref(), Some("grpc"));
        assert_eq!(port_name_like("8080"), None);
        assert_eq!(port_name_like("much-too-long-a-name"), None);
    }

    #[test]
    fn disruption_budgets() {
        let pointers = |spec: Value| {
            let mut out = Vec::new();
            check_pdb_spec(&json!({"spec": spec}), &mut out);
            out.into_iter().map(|p| p.pointer).collect::<Vec<_>>()
        };
        assert_eq!(
            pointers(json!({"minAvailable": "100%", "maxUnavailable": null})),
            Vec::<String>::new()
        );
        assert_eq!(
            pointers(json!({"minAvailable": 1, "maxUnavailable": "101%"})),
            ["/spec/minAvailable", "/spec/maxUnavailable"]
        );
        // A malformed percentage is the schema's; a huge one is over 100%.
        assert_eq!(
            pointers(json!({"maxUnavailable": "5 %"})),
            Vec::<String>::new()
        );
        assert_eq!(
            pointers(json!({"maxUnavailable": "99999999999999999999%"})),
            ["/spec/maxUnavailable"]
        );
        assert_eq!(
            pointers(json!({"selector": {"matchExpressions": [
                {"key": "a", "operator": "In", "values": []},
                {"key": "b", "operator": "Exists", "values": null},
                {"key": "c", "operator": "Matches", "values": ["x"]}
            ]}})),
            [
                "/spec/selector/matchExpressions/0/values",
                "/spec/selector/matchExpressions/2/operator"
            ]
        );
    }

    #[test]
    fn init_containers_may_not_probe_unless_sidecars() {
        let found = problems(json!({"initContainers": [
            {"name": "migrate", "readinessProbe": {"exec": {"command": ["true"]}}},
            {"name": "proxy", "restartPolicy": "Always", "readinessProbe": {"tcpSocket": {"port": 15001}}}
        ], "containers": [{"name": "app", "readinessProbe": {"successThreshold": 2, "grpc": {"port": 9000}}}]}));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].0,
            "/spec/template/spec/initContainers/0/readinessProbe"
        );
    }
}
