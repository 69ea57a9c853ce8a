use super::*;
use crate::model::index::ServicesKnown;

declare_rule! {
    /// ## What it does
    /// Flags a Service an Argo Rollout names (`canaryService`,
    /// `stableService`, `activeService`, `previewService`) that is not in
    /// the input while Services of its namespace are: an error when the
    /// Rollout's own file (or stream) defines them, or, in the webhook with
    /// `--cluster-view`, when the cluster's are known; a warning when they
    /// are only elsewhere in the input (for objects written without a
    /// namespace, in the same folder), which may not hold them all. An
    /// input with no Service of the namespace in sight is taken as partial,
    /// and nothing is said.
    ///
    /// ## Why it matters
    /// The Rollouts controller looks the Services up before every rollout
    /// step, and a Service that does not exist stops it: the Rollout is
    /// marked `InvalidSpec` ("service not found") and the new version never
    /// ships, or, with a name mistyped after a rename, the traffic goes on
    /// to a Service that no longer follows the Rollout.
    ///
    /// ## Example
    /// ```yaml
    /// strategy:
    ///   blueGreen:
    ///     activeService: web-activ   # the Service is called web-active
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// strategy:
    ///   blueGreen:
    ///     activeService: web-active
    /// ```
    pub struct RolloutServiceMissing {
        id: "rollout-service-missing",
        family: Rollout,
        scope: Input,
        fix: None,
        settings: [],
    }
}

impl Rule for RolloutServiceMissing {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let namespace = w.object.namespace_key();
        let known = cx.index.services_known(&w.doc, namespace);
        if known == ServicesKnown::Not {
            return;
        }
        for named in named_services(w) {
            if cx.index.service_named(namespace, &named.name).is_some() {
                continue;
            }
            let names: Vec<&str> = cx
                .index
                .services()
                .iter()
                .filter(|s| s.object.namespace_key() == namespace)
                .map(|s| s.object.name.as_str())
                .collect();
            let near = crate::suggest::closest(&named.name, names.iter().copied());
            let help = match near {
                Some(near) => format!(
                    "did you mean `{near}`? name a Service that exists, or add `{}`",
                    named.name
                ),
                None => format!(
                    "add the Service `{}`, selecting the Rollout's pods, or name one that exists",
                    named.name
                ),
            };
            let violation = Violation::new(
                named.pointer,
                format!(
                    "`{}: {}` names a Service that is not in the input, beside other Services of its namespace: the Rollouts controller stops the rollout (`InvalidSpec`)",
                    named.field, named.name
                ),
                help,
            );
            // Services elsewhere in the input may not be all the namespace
            // holds: a likely mistake, not a sure one.
            out.push(match known {
                ServicesKnown::Surely => violation,
                _ => violation.at_most(crate::severity::Severity::Warning),
            });
        }
    }
}

/// A Service a Rollout's strategy names.
pub(super) struct NamedService {
    pub field: &'static str,
    pub name: String,
    pub pointer: String,
    /// Labels the controller adds to the pods this Service is for
    /// (`canaryMetadata`, `activeMetadata`, …).
    pub pod_labels: std::collections::BTreeMap<String, String>,
}

/// The Services the strategy names, in the order it names them.
pub(super) fn named_services(w: &Workload) -> Vec<NamedService> {
    let Rollout::Argo(rollout) = &w.rollout else {
        return Vec::new();
    };
    let mut named = Vec::new();
    let mut add = |strategy: &str,
                   field: &'static str,
                   name: &Option<String>,
                   metadata: &Option<crate::model::rollout::PodMetadata>| {
        if let Some(name) = name.as_deref().filter(|n| !n.is_empty()) {
            named.push(NamedService {
                field,
                name: name.to_owned(),
                pointer: format!("/spec/strategy/{strategy}/{field}"),
                pod_labels: metadata
                    .as_ref()
                    .map(|m| m.labels.clone())
                    .unwrap_or_default(),
            });
        }
    };
    if let Some(canary) = &rollout.strategy.canary {
        add(
            "canary",
            "stableService",
            &canary.stable_service,
            &canary.stable_metadata,
        );
        add(
            "canary",
            "canaryService",
            &canary.canary_service,
            &canary.canary_metadata,
        );
    }
    if let Some(blue_green) = &rollout.strategy.blue_green {
        let (active, preview) = (&blue_green.active_metadata, &blue_green.preview_metadata);
        add(
            "blueGreen",
            "activeService",
            &blue_green.active_service,
            active,
        );
        add(
            "blueGreen",
            "previewService",
            &blue_green.preview_service,
            preview,
        );
    }
    named
}
