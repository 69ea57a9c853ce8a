//! The webhook's repairs as MutatingAdmissionPolicies (JSON Patch): a
//! rolling update that can stop every pod surges instead, and a container
//! that serves traffic with no preStop hook gets a `sleep` drain delay.
//!
//! The zero-availability repair is the one `rollout-zero-availability`
//! makes, on the objects it reports. The drain delay is what
//! `prestop-hook-missing` adds, on fewer containers: the webhook reads a
//! server's own drain (Istio's proxy, Knative's queue-proxy) from its
//! settings and raises the grace period to fit the app's shutdown timeout
//! when it can read one; this leaves every container of such a server
//! alone, and raises the grace period only when the sleep would not fit.
//! The header says so, and a test holds the containers it hooks to a subset
//! of the webhook's.
//!
//! A patch names containers by index; a pod's first [`MAX_CONTAINERS`]
//! containers of each list are repaired.

use serde_json::{Value, json};

use crate::model::{KnownKind, WorkloadKind};
use crate::policy::Policy;

use super::cel;
use super::resource_rules;
use crate::rules::cel::{LONG_RUNNING_KINDS, lit, replacement_overlaps, serves, variables_read};
use crate::rules::rollout::cel::{deployment_fenceposts, deployment_zero_availability};
use crate::rules::{Described, rollout::RolloutZeroAvailability, shutdown::PrestopHookMissing};

/// Parts of the images of servers that drain by themselves
/// (`crate::model::shutdown::servers`).
const SELF_DRAINING_IMAGES: &[&str] = &["proxyv2", "knative", "ingress-nginx", "grafana/"];

/// How many containers (and init containers) of a pod the patch reaches.
pub const MAX_CONTAINERS: usize = 32;

/// The MutatingAdmissionPolicy documents and what the header says of them.
pub fn documents(
    api_version: &str,
    policy: &Policy,
    mutate_all: bool,
) -> (Vec<Value>, Vec<String>) {
    let mut documents = Vec::new();
    let mut notes = Vec::new();
    for repair in repairs(policy) {
        notes.push(format!("{}: {}", repair.name, repair.note));
        documents.push(mutating_policy(api_version, policy, &repair, mutate_all));
        documents.push(json!({
            "apiVersion": api_version,
            "kind": "MutatingAdmissionPolicyBinding",
            "metadata": {
                "name": repair.name,
                "labels": {"app.kubernetes.io/managed-by": "rollsafe"},
            },
            "spec": {"policyName": repair.name},
        }));
    }
    if notes.is_empty() {
        notes.push(
            "none: the rules whose findings the webhook repairs are off in this policy".to_owned(),
        );
    } else if !mutate_all {
        notes.push(format!(
            "objects are repaired when annotated `{}: \"true\"`, as by `rollsafe serve`; `--mutate-all` repairs every one",
            crate::webhook::admission::MUTATE_ANNOTATION
        ));
    }
    (documents, notes)
}

/// One repair: the rule whose findings it fixes, the kinds it patches and
/// the JSON Patch expression.
pub struct Repair {
    pub name: String,
    pub rule: &'static str,
    pub kinds: &'static [KnownKind],
    pub patch: String,
    pub note: String,
}

/// The repairs of the rules `policy` turns on.
pub fn repairs(policy: &Policy) -> Vec<Repair> {
    let mut out = Vec::new();
    let zero = RolloutZeroAvailability.info().id;
    if policy.severity(zero).is_some() {
        out.push(Repair {
            name: "rollsafe-repair-zero-availability".to_owned(),
            rule: zero,
            kinds: &[KnownKind::Workload(WorkloadKind::Deployment)],
            patch: zero_availability_patch(),
            note: "a Deployment that `rollout-zero-availability` reports gets `maxUnavailable: 0` and `maxSurge: 1`, as the webhook sets them".to_owned(),
        });
    }
    let drain = policy.settings.min_drain_delay.ceil_secs();
    let hook = PrestopHookMissing.info().id;
    if policy.severity(hook).is_some() && drain > 0 {
        let margin = policy.settings.grace_margin.ceil_secs();
        out.push(Repair {
            name: "rollsafe-repair-drain-delay".to_owned(),
            rule: hook,
            kinds: LONG_RUNNING_KINDS,
            patch: drain_delay_patch(policy, drain, margin),
            note: format!(
                "a container that serves traffic with no preStop hook gets `preStop: {{sleep: {{seconds: {drain}}}}}`, \
                 and `terminationGracePeriodSeconds: {}` when the sleep would not fit; narrower than the webhook, \
                 which reads a server's own drain and the app's shutdown timeout from their settings: this leaves \
                 every container of a server known to drain by itself alone, and honours the `{}` annotation",
                drain + margin,
                crate::model::shutdown::IN_APP_DRAIN_ANNOTATION
            ),
        });
    }
    out
}

fn mutating_policy(api_version: &str, policy: &Policy, repair: &Repair, mutate_all: bool) -> Value {
    let mut conditions = vec![
        json!({"name": "not-controlled", "expression": cel::NOT_CONTROLLED}),
        json!({"name": "not-ignored", "expression": cel::not_ignored(repair.rule)}),
    ];
    if !mutate_all {
        let key = lit(crate::webhook::admission::MUTATE_ANNOTATION);
        conditions.push(json!({
            "name": "opted-in",
            "expression": format!(
                "has(object.metadata.annotations) && {key} in object.metadata.annotations && \
                 object.metadata.annotations[{key}] == 'true'"
            ),
        }));
    }
    let exemptions = policy
        .exemptions
        .iter()
        .filter(|e| e.rules.is_empty() || e.rules.iter().any(|r| r == repair.rule));
    for (at, exemption) in exemptions.enumerate() {
        conditions.push(json!({
            "name": format!("not-exempt-{at}"),
            "expression": cel::not_exempt(exemption),
        }));
    }
    // A Pod's spec is immutable once created: it is repaired on creation only.
    let (pods, others): (Vec<KnownKind>, Vec<KnownKind>) = repair
        .kinds
        .iter()
        .partition(|k| **k == KnownKind::Workload(WorkloadKind::Pod));
    let mut rules = resource_rules(&others, &["CREATE", "UPDATE"]);
    if let (Some(list), Value::Array(extra)) =
        (rules.as_array_mut(), resource_rules(&pods, &["CREATE"]))
    {
        list.extend(extra);
    }
    let mut variables: Vec<Value> = variables_read(&policy.settings, &[&repair.patch])
        .into_iter()
        .map(|(name, expression)| json!({"name": name, "expression": expression}))
        .collect();
    variables.push(json!({
        "name": "podSpecPath",
        "expression": "object.kind == 'Pod' ? '/spec' : (object.kind == 'CronJob' ? \
                       '/spec/jobTemplate/spec/template/spec' : '/spec/template/spec')",
    }));
    json!({
        "apiVersion": api_version,
        "kind": "MutatingAdmissionPolicy",
        "metadata": {
            "name": repair.name,
            "labels": {"app.kubernetes.io/managed-by": "rollsafe"},
            "annotations": {"rollsafe.dev/rule": repair.rule},
        },
        "spec": {
            "failurePolicy": "Ignore",
            "reinvocationPolicy": "Never",
            "matchConstraints": {"resourceRules": rules},
            "matchConditions": conditions,
            "variables": variables,
            "mutations": [{
                "patchType": "JSONPatch",
                "jsonPatch": {"expression": repair.patch},
            }],
        },
    })
}

/// A JSON Patch operation adding `value` at `path` (both CEL).
fn add(path: &str, value: &str) -> String {
    format!("JSONPatch{{op: 'add', path: {path}, value: {value}}}")
}

fn zero_availability_patch() -> String {
    let s = "object.spec.strategy";
    let reported = deployment_zero_availability();
    let unavailable = format!("{s}.rollingUpdate.maxUnavailable");
    // Written as `0` or `0%` already: only the surge is missing.
    let set_unavailable = format!(
        "!(has({s}) && has({s}.rollingUpdate) && has({unavailable}) && \
         (type({unavailable}) == int ? {unavailable} == 0 : string({unavailable}) == '0%'))"
    );
    let set_surge = "f[0] < 1";
    let both = "{'maxUnavailable': 0, 'maxSurge': 1}";
    let fields =
        format!("(su && ss ? {both} : (su ? {{'maxUnavailable': 0}} : {{'maxSurge': 1}}))");
    let ops = format!(
        "!has({s}) ? [{}] : (!has({s}.rollingUpdate) ? [{}] : \
         ((su ? [{}] : []) + (ss ? [{}] : [])))",
        add(
            "'/spec/strategy'",
            &format!("{{'rollingUpdate': {fields}}}")
        ),
        add("'/spec/strategy/rollingUpdate'", &fields),
        add("'/spec/strategy/rollingUpdate/maxUnavailable'", "0"),
        add("'/spec/strategy/rollingUpdate/maxSurge'", "1"),
    );
    format!(
        "[has(object.spec.replicas) ? object.spec.replicas : 1].map(r, \
         {reported} ? [{fenceposts}].map(f, [{set_unavailable}].map(su, [{set_surge}].map(ss, {ops})[0])[0])[0] : [])[0]",
        fenceposts = deployment_fenceposts(),
    )
}

fn drain_delay_patch(policy: &Policy, drain: u64, margin: u64) -> String {
    let serves = serves(&policy.settings);
    let annotation = crate::model::shutdown::IN_APP_DRAIN_ANNOTATION;
    // An app that drains by itself is judged on that drain, not repaired:
    // one said to (the annotation), and, broader than the webhook, which
    // reads their settings, every container of a server known to (Istio's
    // proxy, Knative, ingress-nginx, Grafana's dskit servers, a
    // `--shutdown-delay` flag).
    let drains_itself = format!(
        "variables.podMetas.exists(m, has(m.annotations) && ({} in m.annotations || ({} + c.name) in m.annotations)) || \
         c.name == 'istio-proxy' || [has(c.image) ? c.image : ''].exists(img, {}) || \
         ((has(c.args) ? c.args : []) + (has(c.command) ? c.command : [])).exists(a, a.contains('shutdown-delay'))",
        lit(annotation),
        lit(&format!("{annotation}.")),
        SELF_DRAINING_IMAGES
            .iter()
            .map(|part| format!("img.contains({})", lit(part)))
            .collect::<Vec<_>>()
            .join(" || "),
    );
    let no_hook = "(!has(c.lifecycle) || !has(c.lifecycle.preStop) || !(has(c.lifecycle.preStop.exec) || \
         has(c.lifecycle.preStop.httpGet) || has(c.lifecycle.preStop.tcpSocket) || has(c.lifecycle.preStop.sleep)))";
    let needs = format!("{no_hook} && !({drains_itself}) && ({serves})");
    let sleep = format!("{{'seconds': {drain}}}");
    let patch = |at: &str| {
        format!(
            "!has(c.lifecycle) ? {} : (!has(c.lifecycle.preStop) ? {} : {})",
            add(
                &format!("{at} + '/lifecycle'"),
                &format!("{{'preStop': {{'sleep': {sleep}}}}}")
            ),
            add(
                &format!("{at} + '/lifecycle/preStop'"),
                &format!("{{'sleep': {sleep}}}")
            ),
            add(&format!("{at} + '/lifecycle/preStop/sleep'"), &sleep),
        )
    };
    let indexes = (0..MAX_CONTAINERS)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let list = |field: &str, sidecar: bool| {
        let list = format!("variables.podSpec.{field}");
        let role = if sidecar {
            " && has(c.restartPolicy) && c.restartPolicy == 'Always'"
        } else {
            ""
        };
        let at = format!("variables.podSpecPath + '/{field}/' + string(i)");
        format!(
            "(has({list}) ? [{indexes}].filter(i, i < size({list}) && [{list}[i]].all(c, {needs}{role}))\
             .map(i, [{list}[i]].map(c, {})[0]) : [])",
            patch(&at)
        )
    };
    let grace = "(has(variables.podSpec.terminationGracePeriodSeconds) ? \
                 variables.podSpec.terminationGracePeriodSeconds : 30)";
    let raise = add(
        "variables.podSpecPath + '/terminationGracePeriodSeconds'",
        &(drain + margin).to_string(),
    );
    format!(
        "({overlaps}) ? [{sidecars} + {mains}].map(ops, ops + \
         (size(ops) > 0 && {grace} <= {drain} ? [{raise}] : []))[0] : []",
        overlaps = replacement_overlaps(),
        sidecars = list("initContainers", true),
        mains = list("containers", false),
    )
}
