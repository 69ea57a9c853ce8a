//! The rollout rules' facts in CEL: a workload's update strategy resolved
//! as the controllers resolve it (`crate::model::rollout`), at the replica
//! count the object states (an admission request shows no
//! HorizontalPodAutoscaler).
//!
//! Percentages are scaled with integer arithmetic, rounded as the
//! controllers round (`maxSurge` up, `maxUnavailable` down); a value the
//! model cannot read (`"x%"`) leaves the rollout unread, as in Rust. Values
//! the API server rejects (negative, over 100%) never reach an admission
//! policy: `rollout-invalid-strategy` reports them.

use crate::model::KubeVersion;
use crate::model::rollout::STATEFULSET_MAX_UNAVAILABLE;
use crate::rules::cel::{lit, lit_list};

/// `type: Recreate` of a Deployment.
pub(super) const DEPLOYMENT_RECREATE: &str = "(object.kind == 'Deployment' && has(object.spec.strategy) && \
    has(object.spec.strategy.type) && object.spec.strategy.type == 'Recreate')";

/// `updateStrategy.type: OnDelete` of a StatefulSet or DaemonSet.
pub(super) const UPDATE_ON_DELETE: &str = "(object.kind != 'Deployment' && has(object.spec.updateStrategy) && \
    has(object.spec.updateStrategy.type) && object.spec.updateStrategy.type == 'OnDelete')";

/// An int-or-string field of the strategy, or its default.
pub(super) fn field(kind_strategy: &str, name: &str, default: &str) -> String {
    let s = format!("object.spec.{kind_strategy}");
    format!(
        "(has({s}) && has({s}.rollingUpdate) && has({s}.rollingUpdate.{name}) ? \
         {s}.rollingUpdate.{name} : dyn({default}))"
    )
}

/// The strategy type is the rolling update (absent, empty or written).
pub(super) fn rolling_type(kind_strategy: &str) -> String {
    let s = format!("object.spec.{kind_strategy}");
    format!("(!has({s}) || !has({s}.type) || {s}.type == '' || {s}.type == 'RollingUpdate')")
}

/// An int-or-string the model can read: an int, or a number and `%`.
pub(super) fn readable(value: &str) -> String {
    format!("(type({value}) == int || {value}.matches('^[+-]?[0-9]{{1,9}}%$'))")
}

/// A readable int-or-string scaled to `total`, rounded up or down.
pub(super) fn scaled(value: &str, total: &str, up: bool) -> String {
    // CEL's integer division truncates toward zero: floor and ceiling of a
    // negative product are written out.
    let rounded = if up {
        "(x >= 0 ? (x + 99) / 100 : -((-x) / 100))"
    } else {
        "(x >= 0 ? x / 100 : -((-x + 99) / 100))"
    };
    format!(
        "(type({value}) == int ? {value} : \
         [int(string({value}).substring(0, size(string({value})) - 1)) * {total}].map(x, {rounded})[0])"
    )
}

/// `[maxSurge, maxUnavailable]` of a Deployment at `r` replicas, with the
/// controller's fallback of one unavailable pod when both are 0.
pub(crate) fn deployment_fenceposts() -> String {
    let surge = field("strategy", "maxSurge", "'25%'");
    let unavailable = field("strategy", "maxUnavailable", "'25%'");
    format!(
        "[[{}, {}]].map(f, [f[0], f[0] == 0 && f[1] == 0 ? 1 : f[1]])[0]",
        scaled(&surge, "r", true),
        scaled(&unavailable, "r", false)
    )
}

/// A Deployment whose rollout the model reads, at `r` replicas (bound).
pub(super) fn deployment_read() -> String {
    format!(
        "object.kind == 'Deployment' && {} && r >= 0 && {} && {}",
        rolling_type("strategy"),
        readable(&field("strategy", "maxSurge", "'25%'")),
        readable(&field("strategy", "maxUnavailable", "'25%'")),
    )
}

/// How many of a StatefulSet's `r` pods a rollout stops at once on `version`.
pub(super) fn statefulset_down(version: KubeVersion) -> String {
    let unavailable = field("updateStrategy", "maxUnavailable", "1");
    let at_once = if version >= STATEFULSET_MAX_UNAVAILABLE {
        format!(
            "[{}].map(n, n < 1 ? 1 : n)[0]",
            scaled(&unavailable, "r", false)
        )
    } else {
        "1".to_owned()
    };
    let s = "object.spec.updateStrategy";
    let partition = format!(
        "(has({s}) && has({s}.rollingUpdate) && has({s}.rollingUpdate.partition) ? \
         {s}.rollingUpdate.partition : 0)"
    );
    format!(
        "[[{at_once}, [r - ({partition} < 0 ? 0 : {partition})].map(u, u < 0 ? 0 : u)[0]]]\
         .map(d, d[0] < d[1] ? d[0] : d[1])[0]"
    )
}

pub(super) fn statefulset_read() -> String {
    format!(
        "object.kind == 'StatefulSet' && {} && r >= 0 && {}",
        rolling_type("updateStrategy"),
        readable(&field("updateStrategy", "maxUnavailable", "1"))
    )
}

/// A DaemonSet's rollout as the model reads it: both fields readable.
pub(super) fn daemonset_read() -> String {
    format!(
        "object.kind == 'DaemonSet' && {} && {} && {}",
        rolling_type("updateStrategy"),
        readable(&field("updateStrategy", "maxSurge", "0")),
        readable(&field("updateStrategy", "maxUnavailable", "1"))
    )
}

/// The number before `%` of a percentage, or `0` for a count: a DaemonSet's
/// `0%` is a count of none.
pub(super) fn percent_of(value: &str) -> String {
    format!(
        "(type({value}) == int ? 0 : int(string({value}).substring(0, size(string({value})) - 1)))"
    )
}

/// A DaemonSet surges: `maxSurge` is neither `0` nor `0%`.
pub(super) fn daemonset_surges() -> String {
    let surge = field("updateStrategy", "maxSurge", "0");
    format!(
        "(type({surge}) == int ? {surge} != 0 : {} != 0)",
        percent_of(&surge)
    )
}

/// The replicas the object states (default 1), bound as `r` around `body`.
pub(super) fn with_replicas(body: &str) -> String {
    format!("[has(object.spec.replicas) ? object.spec.replicas : 1].all(r, {body})")
}

/// A Deployment at `r` replicas (bound) whose rollout may stop every pod.
pub(crate) fn deployment_zero_availability() -> String {
    format!(
        "({} && [{}].all(f, r > 0 && f[1] >= r))",
        deployment_read(),
        deployment_fenceposts()
    )
}

/// The ready pods `minAvailableRatio` asks of `r` replicas
/// (`required_ready`), in the same floating-point steps as the Rust.
pub(super) fn required_ready(ratio: f64) -> String {
    format!(
        "[{ratio:?} * double(r) - 1e-9].map(x, [int(x) + (double(int(x)) < x ? 1 : 0)]\
         .map(c, c <= 0 ? 0 : (c >= r ? r : c))[0])[0]"
    )
}

pub(super) const HOSTNAME: &str = "kubernetes.io/hostname";
pub(super) const NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";

/// Whether `selector` selects pods with the labels in list `labels` (a
/// list of zero or one label maps), as `label_selector_selects` reads it.
pub(super) fn selects(selector: &str, labels: &str) -> String {
    let get = |key: &str| format!("{labels}.exists(l, {key} in l)");
    let value = |key: &str| format!("{labels}[0][{key}]");
    format!(
        "(!has({selector}.matchLabels) || {selector}.matchLabels.all(k, \
         {labels}.exists(l, k in l && l[k] == {selector}.matchLabels[k]))) && \
         (!has({selector}.matchExpressions) || {selector}.matchExpressions.all(q, \
         q.operator == 'In' ? ({has} && has(q.values) && {val} in q.values) : \
         (q.operator == 'NotIn' ? (!{has} || !(has(q.values) && {val} in q.values)) : \
         (q.operator == 'Exists' ? {has} : (q.operator == 'DoesNotExist' ? !{has} : false)))))",
        has = get("q.key"),
        val = value("q.key"),
    )
}

/// A required anti-affinity term of the pod that repels the workload's
/// own pods of another revision (`self_repelling_term`).
pub(super) fn self_repelling(
    version: KubeVersion,
    revision: &[&str],
    hostname_only: bool,
) -> String {
    let revision = lit_list(revision);
    let labels = "variables.podLabels";
    let mentions = format!(
        "((has(t.labelSelector.matchLabels) && t.labelSelector.matchLabels.exists(k, k in {revision})) || \
         (has(t.labelSelector.matchExpressions) && t.labelSelector.matchExpressions.exists(q, q.key in {revision})))"
    );
    let keys = if version >= KubeVersion::new(1, 31) {
        format!(
            " && !(has(t.matchLabelKeys) && t.matchLabelKeys.exists(k, k in {revision})) && \
             !(has(t.mismatchLabelKeys) && t.mismatchLabelKeys.exists(k, {labels}.exists(l, k in l)))"
        )
    } else {
        String::new()
    };
    let own_namespace_labels = format!("[{{{}: own}}]", lit(NAMESPACE_NAME));
    let only_name = format!(
        "(!has(t.namespaceSelector.matchLabels) || t.namespaceSelector.matchLabels.all(k, k == '{NAMESPACE_NAME}')) && \
         (!has(t.namespaceSelector.matchExpressions) || t.namespaceSelector.matchExpressions.all(q, q.key == '{NAMESPACE_NAME}'))"
    );
    let empty_selector = "((!has(t.namespaceSelector.matchLabels) || size(t.namespaceSelector.matchLabels) == 0) && \
         (!has(t.namespaceSelector.matchExpressions) || size(t.namespaceSelector.matchExpressions) == 0))";
    let names = "(has(t.namespaces) ? t.namespaces : [])";
    let in_namespace = format!(
        "[has(object.metadata.namespace) && object.metadata.namespace != '' ? object.metadata.namespace : \
         (has(request.namespace) ? request.namespace : '')].all(own, \
         (!has(t.namespaceSelector) && size({names}) == 0) || (own != '' && own in {names}) || \
         (has(t.namespaceSelector) && ({empty_selector} || (own != '' && {only_name} && {}))))",
        selects("t.namespaceSelector", &own_namespace_labels)
    );
    let key = if hostname_only {
        format!("t.topologyKey == '{HOSTNAME}'")
    } else {
        "t.topologyKey != ''".to_owned()
    };
    let terms =
        "variables.podSpec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution";
    format!(
        "(has(variables.podSpec.affinity) && has(variables.podSpec.affinity.podAntiAffinity) && \
         has({terms}) && {terms}.exists(t, {key} && has(t.labelSelector) && !{mentions}{keys} && \
         {} && {in_namespace}))",
        selects("t.labelSelector", labels)
    )
}
