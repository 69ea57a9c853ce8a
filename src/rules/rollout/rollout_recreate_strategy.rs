use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a Deployment with `strategy.type: Recreate`, and a StatefulSet
    /// or DaemonSet with `updateStrategy.type: OnDelete`, whose pods serve
    /// traffic (a controller that serves nothing may replace itself this way
    /// on purpose).
    ///
    /// A Deployment is not reported when its pods mount a
    /// PersistentVolumeClaim (`volumes[].persistentVolumeClaim.claimName`)
    /// that is `ReadWriteOnce` or `ReadWriteOncePod` in the input, or that
    /// the input does not contain: a surging rollout starts the new pod while
    /// the old one still holds the volume, and a new pod scheduled to another
    /// node cannot attach it until the old one is gone, so `Recreate` is
    /// required. A `ReadWriteMany` claim can be
    /// mounted by both and does not excuse it. A StatefulSet or DaemonSet
    /// rolling update stops a pod before it starts its replacement, so a
    /// claim never requires `OnDelete`.
    ///
    /// ## Why it matters
    /// `Recreate` stops every pod, then starts the new ones: each rollout is
    /// an outage lasting until the first new pod is ready. `OnDelete` never
    /// replaces a running pod: a new image or configuration reaches a pod
    /// only when someone deletes it, so the cluster silently runs old
    /// revisions.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   strategy:
    ///     type: Recreate
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   strategy:
    ///     type: RollingUpdate
    ///     rollingUpdate:
    ///       maxSurge: 1
    ///       maxUnavailable: 0
    /// ```
    pub struct RolloutRecreateStrategy {
        id: "rollout-recreate-strategy",
        family: Rollout,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for RolloutRecreateStrategy {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        // A controller that serves nothing may replace itself this way on
        // purpose (one leader at a time).
        if !serves_traffic(w, cx) {
            return;
        }
        // The type alone decides: the replica count does not matter.
        match w.rolling(1, cx.kubernetes) {
            Rolling::Recreate => {
                let claims = ClaimsSeen::of(w, cx);
                if claims.requires_recreate {
                    return;
                }
                out.push(Violation::new(
                    "/spec/strategy/type",
                    recreate_message(&claims.shared),
                    "use `type: RollingUpdate` with `maxSurge: 1` and `maxUnavailable: 0`",
                ));
            }
            Rolling::OnDelete => out.push(on_delete(w)),
            _ => {}
        }
    }

    fn cel(&self, settings: &Settings, _kubernetes: KubeVersion) -> Result<Vec<RuleCel>, String> {
        let (serves, recreate, on_delete) = (
            serves(settings),
            cel::DEPLOYMENT_RECREATE,
            cel::UPDATE_ON_DELETE,
        );
        Ok(vec![RuleCel::new(
            ROLLOUT_KINDS,
            vec![Check {
                // A claim the object alone does not show may be
                // ReadWriteOnce, which needs the old pod gone first: not
                // reported.
                expression: format!(
                    "!variables.containers.exists(c, {serves}) || \
                     !(({recreate} && !(has(variables.podSpec.volumes) && \
                     variables.podSpec.volumes.exists(v, has(v.persistentVolumeClaim)))) || {on_delete})"
                ),
                message: format!(
                    "{recreate} ? '`strategy.type: Recreate` stops every pod before starting new ones: \
                     each rollout is an outage (spec.strategy.type)' : '`updateStrategy.type: OnDelete` never \
                     replaces a running pod: a changed template reaches this ' + object.kind + '\\'s pods only \
                     when someone deletes them (spec.updateStrategy.type)'"
                ),
            }],
        )])
    }
}

fn recreate_message(shared: &[String]) -> String {
    let shared = match shared {
        [] => String::new(),
        names => format!(
            " (claim `{}` is `ReadWriteMany`, so old and new pods can share it)",
            names.join("`, `")
        ),
    };
    format!(
        "`strategy.type: Recreate` stops every pod before starting new ones: each rollout is an outage{shared}"
    )
}

fn on_delete(w: &Workload) -> Violation {
    Violation::new(
        "/spec/updateStrategy/type",
        format!(
            "`updateStrategy.type: OnDelete` never replaces a running pod: a changed template reaches this {}'s pods only when someone deletes them",
            w.object.kind
        ),
        "use `type: RollingUpdate` so that a changed template is rolled out",
    )
}
