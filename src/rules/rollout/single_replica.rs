use super::*;
use crate::model::ContainerRole;
use crate::model::glob::matching_image_glob;

declare_rule! {
    /// ## What it does
    /// Flags a Deployment or StatefulSet that serves traffic and can run at
    /// a single replica. It can when `spec.replicas` is 1 (written or left
    /// to the default) and no HorizontalPodAutoscaler in the input targets
    /// it, or when the HorizontalPodAutoscaler that targets it has
    /// `minReplicas` 1 (or leaves it unset, which means 1). `replicas: 0` is
    /// a workload scaled down on purpose and passes.
    ///
    /// Not reported: a workload that serves nothing (a controller run as one
    /// leader); one whose Service other workloads back too (versions of one
    /// service, `reviews-v1` beside `reviews-v2`: the Service keeps
    /// serving); a Deployment whose pods mount a `ReadWriteOnce` claim (two
    /// replicas cannot share it; see `rollout-recreate-strategy`), or run an
    /// image of `singleInstanceImages` (a database or broker as a
    /// Deployment: a second replica would be a second, separate store behind
    /// the same Service, so the advice would do harm). For a
    /// StatefulSet, which usually holds a store that cannot simply run twice,
    /// the help says so rather than asking for a second replica.
    ///
    /// ## Why it matters
    /// A single pod is a single point of failure: a node drain, an eviction,
    /// a crash or an OOM kill leaves nothing to serve requests until a new
    /// pod is scheduled, pulled, started and ready. A PodDisruptionBudget
    /// cannot help either: it can only block the drain.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   replicas: 1
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   replicas: 2
    /// ```
    ///
    /// ## Settings
    /// - `singleInstanceImages`: globs of images of single-instance stores.
    pub struct SingleReplica {
        id: "single-replica",
        family: Rollout,
        scope: Input,
        fix: None,
        settings: ["singleInstanceImages"],
    }
}

impl Rule for SingleReplica {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        if !matches!(w.kind, WorkloadKind::Deployment | WorkloadKind::StatefulSet) {
            return;
        }
        let Some(scale) = Scale::of(w, cx).filter(|s| s.count == 1) else {
            return;
        };
        if !serves_traffic(w, cx) || cx.index.shares_a_service(w) {
            return;
        }
        if w.kind == WorkloadKind::Deployment
            && (ClaimsSeen::of(w, cx).requires_recreate || single_instance(w, cx))
        {
            return;
        }
        out.push(Violation::new(
            replicas_pointer(w),
            message(w, &scale),
            help(w, &scale),
        ));
    }
}

/// Whether a main container runs an image of `singleInstanceImages`.
fn single_instance(w: &Workload, cx: &Context<'_>) -> bool {
    w.long_running_containers()
        .filter(|c| c.role == ContainerRole::Main)
        .any(|c| {
            let image = c.container.image.as_deref().unwrap_or_default();
            matching_image_glob(&cx.settings.single_instance_images, image).is_some()
        })
}

fn message(w: &Workload, scale: &Scale) -> String {
    match &scale.hpa {
        Some(_) => format!(
            "{} lets this {} scale down to a single pod: a node drain, an eviction or a crash leaves nothing serving",
            scale.phrase, w.object.kind
        ),
        None if w.replicas.is_none() => "`replicas` is unset and defaults to `1`: a node drain, an eviction or a crash of that pod leaves nothing serving".to_owned(),
        None => format!(
            "{} runs a single pod: a node drain, an eviction or a crash leaves nothing serving",
            scale.phrase
        ),
    }
}

fn help(w: &Workload, scale: &Scale) -> String {
    match (&scale.hpa, w.kind) {
        (Some(hpa), _) => format!("set `minReplicas: 2` or more on HorizontalPodAutoscaler `{hpa}`"),
        (None, WorkloadKind::StatefulSet) => "run two or more replicas if the app can run replicated; a single-instance store needs its downtime on every drain planned (a PodDisruptionBudget would only block the drain)".to_owned(),
        (None, _) => "set `replicas: 2` or more".to_owned(),
    }
}
