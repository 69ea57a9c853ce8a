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
//!   lifecycle hooks.
//!
//! Values of the wrong type are left to the schema.

use serde_json::Value;

use super::{Problem, ProblemKind};
use crate::model::WorkloadKind;
use crate::source::push_token;

const PROBES: [&str; 3] = ["livenessProbe", "readinessProbe", "startupProbe"];
const PROBE_HANDLERS: [&str; 4] = ["exec", "httpGet", "tcpSocket", "grpc"];
const HOOKS: [&str; 2] = ["postStart", "preStop"];
const HOOK_HANDLERS: [&str; 4] = ["exec", "httpGet", "tcpSocket", "sleep"];
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
        W::Pod | W::Job | W::CronJob | W::Custom => &[],
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
    handlers(fields, name, &PROBE_HANDLERS, pointer, out);
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
        .and_then(Value::as_i64);
    if let Some(n) = grace.filter(|&n| n <= 0) {
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
    handlers(fields, name, &HOOK_HANDLERS, pointer, out);
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

/// Exactly one of `allowed` must be set.
fn handlers(
    fields: &serde_json::Map<String, Value>,
    name: &str,
    allowed: &[&str],
    pointer: &str,
    out: &mut Vec<Problem>,
) {
    let set: Vec<&str> = allowed
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
