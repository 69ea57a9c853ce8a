use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a Deployment or StatefulSet that can run at a single replica.
    /// It can when `spec.replicas` is 1 (written or left to the default) and
    /// no HorizontalPodAutoscaler in the input targets it, or when the
    /// HorizontalPodAutoscaler that targets it has `minReplicas` 1 (or
    /// leaves it unset, which means 1). `replicas: 0` is a workload scaled
    /// down on purpose and passes.
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
    pub struct SingleReplica {
        id: "single-replica",
        family: Rollout,
        scope: Input,
        fix: None,
        settings: [],
    }
}

impl Rule for SingleReplica {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        if !matches!(w.kind, WorkloadKind::Deployment | WorkloadKind::StatefulSet) {
            return;
        }
        let Some(scale) = Scale::of(w, cx) else {
            return;
        };
        if scale.count != 1 {
            return;
        }
        let help = match &scale.hpa {
            Some(hpa) => format!("set `minReplicas: 2` or more on HorizontalPodAutoscaler `{hpa}`"),
            None => "set `replicas: 2` or more".to_owned(),
        };
        let message = match &scale.hpa {
            Some(_) => format!(
                "{} lets this {} scale down to a single pod: a node drain, an eviction or a crash leaves nothing serving",
                scale.phrase, w.object.kind
            ),
            None if w.replicas.is_none() => "`replicas` is unset and defaults to `1`: a node drain, an eviction or a crash of that pod leaves nothing serving".to_owned(),
            None => format!(
                "{} runs a single pod: a node drain, an eviction or a crash leaves nothing serving",
                scale.phrase
            ),
        };
        out.push(Violation::new(replicas_pointer(w), message, help));
    }
}
