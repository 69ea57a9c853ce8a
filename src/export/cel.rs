//! The admission side of the exported policies: which resources they
//! match, and the opt-outs as match conditions (the ignore annotation,
//! objects owned by a controller, the policy's exemptions).

use crate::model::{KnownKind, WorkloadKind};
use crate::rules::cel::{POD_METAS, glob_regex, lit, lit_list};

/// The kinds the exported policies read, as `matchConstraints` name them.
pub fn resource_rule(kind: KnownKind) -> (&'static [&'static str], &'static str) {
    match kind {
        KnownKind::Workload(WorkloadKind::Pod) => (&[""], "pods"),
        KnownKind::Workload(WorkloadKind::ReplicationController) => {
            (&[""], "replicationcontrollers")
        }
        // `extensions` is what very old manifests say; rollsafe reads them too.
        KnownKind::Workload(WorkloadKind::Deployment) => (&["apps", "extensions"], "deployments"),
        KnownKind::Workload(WorkloadKind::ReplicaSet) => (&["apps", "extensions"], "replicasets"),
        KnownKind::Workload(WorkloadKind::DaemonSet) => (&["apps", "extensions"], "daemonsets"),
        KnownKind::Workload(WorkloadKind::StatefulSet) => (&["apps"], "statefulsets"),
        KnownKind::Workload(WorkloadKind::Job) => (&["batch"], "jobs"),
        KnownKind::Workload(WorkloadKind::CronJob) => (&["batch"], "cronjobs"),
        KnownKind::PodDisruptionBudget => (&["policy"], "poddisruptionbudgets"),
        // A custom kind's resource is the policy's to name; the other kinds
        // are read for what they say of workloads, not judged.
        // Rollouts are judged by `rollsafe lint` and the webhook: the
        // exported expressions read the built-in kinds' fields. The routing
        // rules have no CEL form (see `rules::routing`), so no policy
        // matches routes.
        KnownKind::Workload(WorkloadKind::Custom | WorkloadKind::Rollout)
        | KnownKind::HttpRoute
        | KnownKind::VirtualService
        | KnownKind::DestinationRule
        | KnownKind::Service
        | KnownKind::HorizontalPodAutoscaler
        | KnownKind::ConfigMap
        | KnownKind::PersistentVolumeClaim => (&[], ""),
    }
}

/// A match condition: the rule is not silenced by the object's (or its pod
/// template's) `rollsafe.dev/ignore` annotation.
pub fn not_ignored(rule: &str) -> String {
    let key = lit(crate::engine::IGNORE_ANNOTATION);
    format!(
        "!{POD_METAS}.exists(m, has(m.annotations) && {key} in m.annotations && \
         m.annotations[{key}].split(',').exists(id, id.trim() == {rule}))",
        rule = lit(rule)
    )
}

/// A match condition: the object is not owned by a controller (a
/// Deployment's ReplicaSets and their pods are judged at their owner).
pub const NOT_CONTROLLED: &str = "!has(object.metadata.ownerReferences) || \
    !object.metadata.ownerReferences.exists(r, has(r.controller) && r.controller)";

/// A match condition: no exemption of the policy covers the object for
/// this rule (`None` when none names the rule).
pub fn not_exempt(exemption: &crate::policy::Exemption) -> String {
    let mut parts = Vec::new();
    if !exemption.namespaces.is_empty() {
        // The request's namespace when the object leaves it out, as the
        // webhook reads it.
        parts.push(format!(
            "(has(object.metadata.namespace) && object.metadata.namespace != '' ? \
             object.metadata.namespace : request.namespace) in {}",
            lit_list(&exemption.namespaces)
        ));
    }
    if !exemption.kinds.is_empty() {
        parts.push(format!("object.kind in {}", lit_list(&exemption.kinds)));
    }
    if !exemption.names.is_empty() {
        let pattern = exemption
            .names
            .iter()
            .map(|g| glob_regex(g))
            .collect::<Vec<_>>()
            .join("|");
        // A generated name is matched as `prefix*`, as findings name it.
        parts.push(format!(
            "(has(object.metadata.name) && object.metadata.name != '' ? object.metadata.name : \
             (has(object.metadata.generateName) ? object.metadata.generateName + '*' : '')).matches({})",
            lit(&pattern)
        ));
    }
    if parts.is_empty() {
        return "false".to_owned();
    }
    format!("!({})", parts.join(" && "))
}
