use k8s_openapi::api::core::v1::PodAffinityTerm;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::*;
use crate::model::KnownKind;
use crate::model::selector::label_selector_selects;

declare_rule! {
    /// ## What it does
    /// Flags a rolling update that must start a new pod before it stops an
    /// old one, while a required pod anti-affinity term keeps the workload's
    /// own pods apart. Then the new pod needs a node (or zone) that none of
    /// the old pods holds, and where the pods already fill every node they
    /// may run on, the rollout cannot go on.
    ///
    /// - Deployment: `maxUnavailable` resolves to 0 at the smallest scale
    ///   the workload runs at (an HPA's `minReplicas`, else `spec.replicas`),
    ///   rounded down as the controller rounds it, so the rollout surges.
    ///   Any topology key counts: one pod per zone deadlocks on as many
    ///   zones as replicas.
    /// - DaemonSet: `maxSurge` above 0, with a term on
    ///   `kubernetes.io/hostname`. The surge pod must run on the node of the
    ///   pod it replaces, so the rollout hangs whatever the number of nodes.
    ///
    /// A term counts when it is in
    /// `podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution`, its
    /// `labelSelector` (`matchLabels` and `In`, `NotIn`, `Exists`,
    /// `DoesNotExist` expressions) selects the pod template's labels, and its
    /// `namespaces`/`namespaceSelector` take in the workload's namespace
    /// (only an empty selector or one on `kubernetes.io/metadata.name` can be
    /// judged offline). The labels a rollout keeps are assumed the same on
    /// old and new pods; the revision label differs. So from Kubernetes 1.31,
    /// when `matchLabelKeys` and `mismatchLabelKeys` take effect, a term with
    /// `matchLabelKeys: [pod-template-hash]` (`controller-revision-hash` for a
    /// DaemonSet) repels only pods of its own revision and is not reported,
    /// nor is one whose `mismatchLabelKeys` names a template label. Neither
    /// is a selector on the revision label, nor `Recreate`, nor `OnDelete`.
    /// StatefulSets never surge and are not checked.
    ///
    /// ## Why it matters
    /// Required anti-affinity is a hard scheduling rule: the scheduler does
    /// not place a pod in a topology domain (a node for
    /// `kubernetes.io/hostname`) that already runs a pod its `labelSelector`
    /// matches, and the old pods of a rollout match it as well as the new
    /// ones ([inter-pod affinity and
    /// anti-affinity](https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity)).
    /// With `maxUnavailable` at 0 the Deployment controller creates the
    /// surge pods first and scales the old ReplicaSet down only once they
    /// are available ([max
    /// unavailable](https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#max-unavailable),
    /// [max surge](https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#max-surge)).
    /// On a cluster with as many nodes as replicas the surge pod stays
    /// Pending, no old pod is ever stopped, and the rollout hangs until
    /// someone adds a node or deletes a pod by hand; the Deployment only
    /// reports that it exceeded its progress deadline. A DaemonSet with
    /// `maxSurge` starts each node's new pod beside the old one ([perform a
    /// rolling update on a
    /// DaemonSet](https://kubernetes.io/docs/tasks/manage-daemon/update-daemon-set/)),
    /// which the term forbids on every node.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: 3          # maxUnavailable 25% of 3 rounds down to 0
    ///   template:
    ///     metadata:
    ///       labels: {app: web}
    ///     spec:
    ///       affinity:
    ///         podAntiAffinity:
    ///           requiredDuringSchedulingIgnoredDuringExecution:
    ///             - labelSelector:
    ///                 matchLabels: {app: web}
    ///               topologyKey: kubernetes.io/hostname
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   replicas: 3
    ///   strategy:
    ///     rollingUpdate:
    ///       maxUnavailable: 1    # an old pod stops and frees its node
    ///   template:
    ///     metadata:
    ///       labels: {app: web}
    ///     spec:
    ///       affinity:
    ///         podAntiAffinity:
    ///           requiredDuringSchedulingIgnoredDuringExecution:
    ///             - labelSelector:
    ///                 matchLabels: {app: web}
    ///               matchLabelKeys: [pod-template-hash]   # Kubernetes 1.31+
    ///               topologyKey: kubernetes.io/hostname
    /// ```
    ///
    /// Either change alone is enough; on older clusters, or where one pod
    /// per node is a wish rather than a must,
    /// `preferredDuringSchedulingIgnoredDuringExecution` is too
    /// ([`matchLabelKeys`](https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#matchlabelkeys)).
    pub struct RolloutAntiAffinityDeadlock {
        id: "rollout-anti-affinity-deadlock",
        family: Rollout,
        scope: Object,
        fix: None,
        settings: [],
    }
}

/// `matchLabelKeys` and `mismatchLabelKeys` of pod (anti-)affinity are on by
/// default from here (KEP-3633 beta); before, the API server drops them.
const MATCH_LABEL_KEYS: KubeVersion = KubeVersion::new(1, 31);

const HOSTNAME: &str = "kubernetes.io/hostname";

/// The label every namespace carries with its own name, the only one an
/// offline linter knows.
const NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";

const REQUIRED: &str = "requiredDuringSchedulingIgnoredDuringExecution";

impl Rule for RolloutAntiAffinityDeadlock {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let scale = Scale::of(w, cx);
        let replicas = scale.as_ref().map_or(0, |s| s.count);
        match (w.rolling(replicas, cx.kubernetes), scale) {
            (Rolling::Deployment(rolling), Some(scale)) => {
                let f = &rolling.fenceposts;
                if scale.count < 1 || f.unavailable_budget() > 0 || f.max_surge < 1 {
                    return;
                }
                let revision = &["pod-template-hash"];
                let Some(found) = self_repelling_term(w, cx.kubernetes, revision, |_| true) else {
                    return;
                };
                let message = deployment_message(&rolling, &scale, &found.domain);
                let help = deployment_help(&scale, &found, cx.kubernetes);
                out.push(Violation::new(found.pointer, message, help));
            }
            (Rolling::DaemonSet(rolling), _) if rolling.surges() => {
                // The controller labels DaemonSet pods with both, and both
                // change with every revision.
                let revision = &["controller-revision-hash", "pod-template-generation"];
                let on_hostname = |key: &str| key == HOSTNAME;
                let Some(found) = self_repelling_term(w, cx.kubernetes, revision, on_hostname)
                else {
                    return;
                };
                out.push(Violation::new(
                    found.pointer,
                    format!(
                        "{} makes the rollout start each node's new pod before it stops the old one there, but required anti-affinity on `{HOSTNAME}` allows one of these pods per node: the new pod stays Pending beside the old one and the rollout hangs on the first node it reaches, however many nodes there are",
                        setting_phrase("maxSurge", &rolling.max_surge)
                    ),
                    "set `maxSurge: 0` and `maxUnavailable: 1` so that each node's old pod stops before its new one starts, or drop the term: a DaemonSet runs one pod per node already",
                ));
            }
            _ => {}
        }
    }

    fn cel(&self, _settings: &Settings, version: KubeVersion) -> Result<Vec<RuleCel>, String> {
        let deployment = format!(
            "!({} && [{}].all(f, r >= 1 && (f[1] < 0 ? 0 : (f[1] > r ? r : f[1])) == 0 && f[0] >= 1) && {})",
            cel::deployment_read(),
            cel::deployment_fenceposts(),
            cel::self_repelling(version, &["pod-template-hash"], false)
        );
        let daemonset = format!(
            "!({} && {} && {})",
            cel::daemonset_read(),
            cel::daemonset_surges(),
            cel::self_repelling(
                version,
                &["controller-revision-hash", "pod-template-generation"],
                true
            )
        );
        Ok(vec![RuleCel::new(
            &[
                KnownKind::Workload(WorkloadKind::Deployment),
                KnownKind::Workload(WorkloadKind::DaemonSet),
            ],
            vec![
            Check {
                expression: cel::with_replicas(&deployment),
                message:
                    "'required pod anti-affinity repels the pods of the next revision, and the rollout \
                          must start a new pod before it stops an old one: it can hang \
                          (spec.template.spec.affinity.podAntiAffinity)'"
                        .to_owned(),
            },
            Check {
                expression: daemonset,
                message: format!(
                    "'`maxSurge` makes the rollout start each node\\'s new pod before it stops the old one \
                     there, but required anti-affinity on `{HOSTNAME}` allows one of these pods per node: \
                     the rollout hangs (spec.template.spec.affinity.podAntiAffinity)'"
                ),
            },
        ],
        )])
    }
}

/// A required anti-affinity term that keeps the workload's old and new pods
/// apart.
struct Found {
    /// The term's `topologyKey`.
    pointer: String,
    domain: Domain,
    /// The term has `matchLabelKeys` that the policy's Kubernetes drops.
    match_label_keys_dropped: bool,
}

/// What one pod per topology value means, in words.
struct Domain {
    key: String,
    /// `node`, `zone`, or `` `rack` domain ``.
    noun: String,
}

impl Domain {
    fn of(key: &str) -> Domain {
        let noun = match key {
            HOSTNAME => "node".to_owned(),
            "topology.kubernetes.io/zone" | "failure-domain.beta.kubernetes.io/zone" => {
                "zone".to_owned()
            }
            "topology.kubernetes.io/region" | "failure-domain.beta.kubernetes.io/region" => {
                "region".to_owned()
            }
            other => format!("`{other}` domain"),
        };
        Domain {
            key: key.to_owned(),
            noun,
        }
    }

    fn plural(&self, count: i64) -> String {
        if count == 1 {
            self.noun.clone()
        } else {
            format!("{}s", self.noun)
        }
    }
}

/// The first required anti-affinity term on a topology key `keyed` accepts
/// whose selector takes in the pods of the other revision. `revision` are
/// the labels that tell a workload's revisions apart.
fn self_repelling_term(
    w: &Workload,
    version: KubeVersion,
    revision: &[&str],
    keyed: impl Fn(&str) -> bool,
) -> Option<Found> {
    let terms = w
        .pod_spec
        .affinity
        .as_ref()?
        .pod_anti_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?;
    terms.iter().enumerate().find_map(|(index, term)| {
        let key = term.topology_key.as_str();
        if key.is_empty() || !keyed(key) {
            return None;
        }
        if !selects_other_revision(term, w, version, revision) || !in_own_namespace(term, w) {
            return None;
        }
        Some(Found {
            pointer: w.pod_spec_field(&[
                "affinity",
                "podAntiAffinity",
                REQUIRED,
                &index.to_string(),
                "topologyKey",
            ]),
            domain: Domain::of(key),
            match_label_keys_dropped: version < MATCH_LABEL_KEYS
                && term
                    .match_label_keys
                    .as_ref()
                    .is_some_and(|k| !k.is_empty()),
        })
    })
}

/// Whether the term, as the new revision's pods carry it, selects the old
/// revision's pods: the template's labels, and a revision label whose value
/// differs.
fn selects_other_revision(
    term: &PodAffinityTerm,
    w: &Workload,
    version: KubeVersion,
    revision: &[&str],
) -> bool {
    // A term without a selector matches no pods.
    let Some(selector) = term.label_selector.as_ref() else {
        return false;
    };
    if mentions_any(selector, revision) {
        return false;
    }
    if version >= MATCH_LABEL_KEYS {
        // `key in (own value)`: a revision label keeps out the other revision.
        let mut match_keys = term.match_label_keys.iter().flatten();
        if match_keys.any(|k| revision.contains(&k.as_str())) {
            return false;
        }
        // `key notin (own value)`: the old pods share a template label's value.
        let mut mismatch_keys = term.mismatch_label_keys.iter().flatten();
        if mismatch_keys.any(|k| w.pod_labels().any(|(label, _)| label == k)) {
            return false;
        }
    }
    label_selector_selects(selector, w.pod_labels())
}

/// A selector that reads one of `keys`.
fn mentions_any(selector: &LabelSelector, keys: &[&str]) -> bool {
    let in_labels = selector
        .match_labels
        .iter()
        .flatten()
        .any(|(k, _)| keys.contains(&k.as_str()));
    let in_expressions = selector
        .match_expressions
        .iter()
        .flatten()
        .any(|r| keys.contains(&r.key.as_str()));
    in_labels || in_expressions
}

/// Whether the term's namespaces take in the workload's own: no
/// `namespaces` and no `namespaceSelector` mean the pod's namespace, an
/// empty selector every namespace. Other namespace labels are unknown
/// offline, and so is a namespace the manifest leaves to `kubectl`.
fn in_own_namespace(term: &PodAffinityTerm, w: &Workload) -> bool {
    let names = term.namespaces.as_deref().unwrap_or_default();
    let own = w.object.namespace.as_deref();
    match &term.namespace_selector {
        None if names.is_empty() => true,
        _ if own.is_some_and(|ns| names.iter().any(|n| n == ns)) => true,
        None => false,
        Some(selector) if is_empty(selector) => true,
        Some(selector) => {
            let Some(own) = own else {
                return false;
            };
            let only_name = selector
                .match_labels
                .iter()
                .flatten()
                .all(|(k, _)| k == NAMESPACE_NAME)
                && selector
                    .match_expressions
                    .iter()
                    .flatten()
                    .all(|r| r.key == NAMESPACE_NAME);
            let (key, value) = (NAMESPACE_NAME.to_owned(), own.to_owned());
            only_name && label_selector_selects(selector, std::iter::once((&key, &value)))
        }
    }
}

fn is_empty(selector: &LabelSelector) -> bool {
    selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(|e| e.is_empty())
}

/// "… resolves to `0` at `replicas: 3`, so the rollout starts a 4th pod
/// before it stops one of the 3; …".
fn deployment_message(rolling: &DeploymentRolling, scale: &Scale, domain: &Domain) -> String {
    let n = scale.count;
    let surge = rolling.fenceposts.max_surge;
    let (starts, stays) = if surge == 1 {
        (
            format!("a {} pod", ordinal(n.saturating_add(1))),
            "the new pod stays",
        )
    } else {
        (format!("`{surge}` new pods"), "the new pods stay")
    };
    let stops = if n == 1 {
        "the only one".to_owned()
    } else {
        format!("one of the {n}")
    };
    format!(
        "{}, so the rollout starts {starts} before it stops {stops}; required anti-affinity on `{}` allows one of these pods per {}, so with only {n} {} {stays} Pending and the rollout hangs until a {} is added",
        unavailable_clause(&rolling.max_unavailable, 0, scale),
        domain.key,
        domain.noun,
        domain.plural(n),
        domain.noun,
    )
}

fn deployment_help(scale: &Scale, found: &Found, version: KubeVersion) -> String {
    let unavailable = if scale.count >= 2 {
        format!(
            "set `maxUnavailable: 1` so that an old pod stops and frees its {} first, or ",
            found.domain.noun
        )
    } else {
        // At one replica that would stop the only pod before its successor.
        String::new()
    };
    let alternative = if version >= MATCH_LABEL_KEYS {
        "add `matchLabelKeys: [pod-template-hash]` to the term so that only pods of the same revision repel each other".to_owned()
    } else if found.match_label_keys_dropped {
        format!(
            "make the term `preferredDuringSchedulingIgnoredDuringExecution` (Kubernetes {version} drops `matchLabelKeys`; it takes effect from {MATCH_LABEL_KEYS})"
        )
    } else {
        "make the term `preferredDuringSchedulingIgnoredDuringExecution`".to_owned()
    };
    format!("{unavailable}{alternative}")
}

/// `1st`, `2nd`, `3rd`, `4th`, `11th`, `21st`.
fn ordinal(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
                "111th"
            ]
        );
    }
}
