//! CEL vocabulary the exported policies share: literals, globs, the pod
//! template of each workload kind and the opt-outs.
//!
//! Every expression stays in the subset that Kubernetes' CEL (cel-go with
//! the `strings` extension) and cel-rust both run: no `optional` syntax
//! (`a.?b`), no `cel.bind`, no map literals mixed with typed objects in one
//! conditional. A value that may be absent is tested with `has()` level by
//! level, and a value computed once and used twice is bound with a
//! one-element list (`[x].all(v, …)`), which costs one iteration.

use crate::model::WorkloadKind;

/// A CEL string literal.
pub fn lit(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A CEL list of string literals.
pub fn lit_list<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items.iter().map(|s| lit(s.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// The RE2 (and Rust `regex`) pattern of a rollsafe glob: `*` any run of
/// characters, `?` one character, anything else itself.
pub fn glob_regex(glob: &str) -> String {
    let mut out = String::from("^");
    for c in glob.chars() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            c if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '/' => out.push(c),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out.push('$');
    out
}

/// Whether `image` (a CEL string) matches one of the image globs, as
/// `crate::model::glob::image_matches` reads an image: whole, without its
/// digest, or without its tag.
pub fn image_matches_any(image: &str, globs: &[String]) -> String {
    if globs.is_empty() {
        return "false".to_owned();
    }
    let pattern = globs
        .iter()
        .map(|g| glob_regex(g))
        .collect::<Vec<_>>()
        .join("|");
    let pattern = lit(&pattern);
    // `split('@')[0]` is the name before a digest; the repository drops a
    // tag after the last `:` unless that `:` belongs to a registry port
    // (the rest holds a `/`).
    format!(
        "[{image}.trim()].all(img, [img.split('@')[0]].all(named, \
         img.matches({pattern}) || named.matches({pattern}) || \
         (named.lastIndexOf(':') >= 0 && !named.substring(named.lastIndexOf(':') + 1).contains('/') \
         && named.substring(0, named.lastIndexOf(':')).matches({pattern}))))"
    )
    // `all` over one element is that element's verdict.
}

/// The kinds the exported policies read, as `matchConstraints` name them.
pub fn resource_rule(kind: WorkloadKind) -> (&'static [&'static str], &'static str) {
    match kind {
        WorkloadKind::Pod => (&[""], "pods"),
        WorkloadKind::ReplicationController => (&[""], "replicationcontrollers"),
        // `extensions` is what very old manifests say; rollsafe reads them too.
        WorkloadKind::Deployment => (&["apps", "extensions"], "deployments"),
        WorkloadKind::ReplicaSet => (&["apps", "extensions"], "replicasets"),
        WorkloadKind::DaemonSet => (&["apps", "extensions"], "daemonsets"),
        WorkloadKind::StatefulSet => (&["apps"], "statefulsets"),
        WorkloadKind::Job => (&["batch"], "jobs"),
        WorkloadKind::CronJob => (&["batch"], "cronjobs"),
        WorkloadKind::Custom => (&[], ""),
    }
}

/// Every built-in kind with a pod template.
pub const ALL_KINDS: &[WorkloadKind] = &[
    WorkloadKind::Pod,
    WorkloadKind::Deployment,
    WorkloadKind::ReplicaSet,
    WorkloadKind::ReplicationController,
    WorkloadKind::StatefulSet,
    WorkloadKind::DaemonSet,
    WorkloadKind::Job,
    WorkloadKind::CronJob,
];

/// The kinds that do not run to completion: what the probe rules read.
pub const LONG_RUNNING_KINDS: &[WorkloadKind] = &[
    WorkloadKind::Pod,
    WorkloadKind::Deployment,
    WorkloadKind::ReplicaSet,
    WorkloadKind::ReplicationController,
    WorkloadKind::StatefulSet,
    WorkloadKind::DaemonSet,
];

/// The kinds with a rollout strategy.
pub const ROLLOUT_KINDS: &[WorkloadKind] = &[
    WorkloadKind::Deployment,
    WorkloadKind::StatefulSet,
    WorkloadKind::DaemonSet,
];

/// The pod template's metadata, then the object's own (not for a Pod, whose
/// metadata is its template's): where the ignore annotation and the pod's
/// annotations are read. A list, so that an absent template metadata is an
/// empty list rather than a value of another type.
pub const POD_METAS: &str = "(object.kind == 'Pod' ? [object.metadata] : \
    (object.kind == 'CronJob' ? [object.spec.jobTemplate.spec.template] : [object.spec.template])\
    .filter(t, has(t.metadata)).map(t, t.metadata) + [object.metadata])";

/// The variables every exported validating policy declares, in order. The
/// API server evaluates a variable only when an expression reads it.
pub fn prelude(settings: &crate::rules::Settings) -> Vec<(&'static str, String)> {
    let mut variables = vec![
        (
            "podSpec",
            "object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? \
             object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)"
                .to_owned(),
        ),
        ("podMetas", POD_METAS.to_owned()),
        // Native sidecars: init containers that keep running.
        (
            "sidecars",
            "has(variables.podSpec.initContainers) ? variables.podSpec.initContainers\
             .filter(c, has(c.restartPolicy) && c.restartPolicy == 'Always') : []"
                .to_owned(),
        ),
        // Native sidecars first, then the main containers: the order
        // findings come in.
        (
            "containers",
            "variables.sidecars + variables.podSpec.containers".to_owned(),
        ),
        // The pod's labels: a list of one map, or none when the template
        // has no labels.
        (
            "podLabels",
            "(object.kind == 'Pod' ? [object.metadata] : (object.kind == 'CronJob' ? \
             [object.spec.jobTemplate.spec.template] : [object.spec.template])\
             .filter(t, has(t.metadata)).map(t, t.metadata))\
             .filter(m, has(m.labels)).map(m, m.labels)"
                .to_owned(),
        ),
        // Init containers that run to completion, then every other: what a
        // hook rule reads.
        (
            "allContainers",
            "(has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : []) + \
             variables.podSpec.containers"
                .to_owned(),
        ),
    ];
    variables.extend(super::rules::serving_variables(settings));
    variables
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(lit("a'b\\c"), "'a\\'b\\\\c'");
    }

    #[test]
    fn globs_become_anchored_patterns() {
        assert_eq!(glob_regex("*-exporter"), "^.*-exporter$");
        assert_eq!(glob_regex("gcr.io/x?"), "^gcr\\.io/x.$");
    }
}
