use super::rollout_service_missing::named_services;
use super::*;
use crate::model::selector::map_selects;

declare_rule! {
    /// ## What it does
    /// Flags a Service an Argo Rollout names (`canaryService`,
    /// `stableService`, `activeService`, `previewService`) whose selector
    /// does not match the labels of the Rollout's pods (its template's, or
    /// those of the Deployment its `workloadRef` names). A Service without a
    /// selector is left alone. Labels the controller adds to one side's pods
    /// (`canaryMetadata`, `stableMetadata`, `activeMetadata`,
    /// `previewMetadata`) count for that side's Service.
    ///
    /// ## Why it matters
    /// The controller does not replace the Service's selector: it adds
    /// `rollouts-pod-template-hash` to it, to pin the Service to one
    /// ReplicaSet. A selector that already misses the pods (a label renamed
    /// on one side only) stays an empty Service with the hash added: every
    /// request sent to it fails, and for the active or stable Service that
    /// is all production traffic.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Service
    /// metadata: {name: web-active}
    /// spec:
    ///   selector: {app: web-frontend}   # the pods are labelled app: web
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   selector: {app: web}
    /// ```
    pub struct RolloutServiceSelectsNoPods {
        id: "rollout-service-selects-no-pods",
        family: Rollout,
        scope: Input,
        fix: None,
        settings: [],
    }
}

impl Rule for RolloutServiceSelectsNoPods {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        if w.template_elsewhere() && cx.index.referenced_template(w).is_none() {
            return;
        }
        let pods = cx.index.template_owner(w);
        let namespace = w.object.namespace_key();
        for named in named_services(w) {
            let Some(service) = cx.index.service_named(namespace, &named.name) else {
                continue;
            };
            let Some(selector) = service
                .typed
                .spec
                .as_ref()
                .and_then(|s| s.selector.as_ref())
            else {
                continue;
            };
            // The side's own labels win over the template's, as the
            // controller writes them over it.
            let mut labels: std::collections::BTreeMap<&String, &String> =
                pods.pod_labels().collect();
            labels.extend(named.pod_labels.iter());
            if selector.is_empty() || map_selects(selector, labels.iter().map(|(k, v)| (*k, *v))) {
                continue;
            }
            let wanted: Vec<String> = selector.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            let missing: Vec<String> = selector
                .iter()
                .filter(|(k, v)| labels.get(k) != Some(v))
                .map(|(k, v)| format!("`{k}: {v}`"))
                .collect();
            out.push(Violation::new(
                named.pointer,
                format!(
                    "`{}: {}` selects `{{{}}}`, and the Rollout's pods lack {}: the Service has no endpoints, so every request sent to it fails",
                    named.field,
                    named.name,
                    wanted.join(", "),
                    missing.join(", ")
                ),
                format!(
                    "make the selector of Service `{}` match the pod template's labels, or label the pods with {}",
                    named.name,
                    missing.join(" and ")
                ),
            ));
        }
    }
}
