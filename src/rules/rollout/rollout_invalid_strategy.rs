use super::*;
use crate::model::rollout::argo_problems;

declare_rule! {
    /// ## What it does
    /// Flags an update strategy the API server would reject. Each problem is
    /// its own finding, at the offending field:
    ///
    /// - `maxSurge` and `maxUnavailable` both explicitly 0 (Deployment,
    ///   DaemonSet), or both non-zero on a DaemonSet, which takes only one;
    /// - a StatefulSet `maxUnavailable` of 0 (judged from Kubernetes 1.35,
    ///   when the API server stops dropping the field);
    /// - a percentage above `100%` for `maxUnavailable` (and for a
    ///   DaemonSet's `maxSurge`);
    /// - a negative number, or a string that is not a whole percentage:
    ///   `maxSurge: "5"` is a string, and Kubernetes reads a string only as a
    ///   percentage, never as a count;
    /// - `rollingUpdate` under `type: Recreate` (or a StatefulSet's
    ///   `OnDelete`), and a `type` Kubernetes does not know.
    ///
    /// Values are checked as the API server checks them after defaulting, so
    /// an absent field is its default, not an error.
    ///
    /// An Argo Rollouts `Rollout` is validated by the Rollouts controller
    /// instead (`ValidateRolloutStrategy` in argo-rollouts), which marks a
    /// Rollout it refuses `InvalidSpec` and rolls nothing out. Reported: no
    /// strategy or both `canary` and `blueGreen`; the same Service for
    /// `canaryService` and `stableService` (or `activeService` and
    /// `previewService`); `maxSurge` and `maxUnavailable` both 0;
    /// `trafficRouting` without `canaryService` or `stableService` (unless
    /// Istio splits by DestinationRule subsets, or ping-pong Services are
    /// used); `scaleDownDelaySeconds` or `dynamicStableScale` without
    /// `trafficRouting`, or the two together; a `setWeight` outside 0–100;
    /// `setCanaryScale` without `trafficRouting`; and a step with no action.
    ///
    /// ## Why it matters
    /// The API server refuses the whole object, so the deploy fails at the
    /// worst moment: `kubectl apply`, a Helm upgrade or a GitOps sync stops
    /// halfway through a release, with some objects already changed and the
    /// workload still on its old version. Caught in CI, the manifest in Git
    /// stays deployable. A Rollout the controller refuses is applied but
    /// never rolled out: the new version silently does not ship.
    ///
    /// ## Example
    /// ```yaml
    /// strategy:
    ///   type: Recreate
    ///   rollingUpdate:
    ///     maxSurge: "5"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// strategy:
    ///   type: RollingUpdate
    ///   rollingUpdate:
    ///     maxSurge: 5
    ///     maxUnavailable: 0
    /// ```
    pub struct RolloutInvalidStrategy {
        id: "rollout-invalid-strategy",
        family: Rollout,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for RolloutInvalidStrategy {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        if let Rollout::Argo(rollout) = &w.rollout {
            for problem in argo_problems(rollout) {
                out.push(Violation::new(
                    format!("/spec/strategy{}", problem.pointer),
                    problem.message,
                    problem.help,
                ));
            }
            return;
        }
        let Some((base, problems)) = w.rollout.problems(cx.kubernetes) else {
            return;
        };
        for problem in problems {
            out.push(Violation::new(
                format!("{base}{}", problem.pointer),
                problem.to_string(),
                problem_help(&problem, w.kind),
            ));
        }
    }

    fn cel(&self, _settings: &Settings, _kubernetes: KubeVersion) -> Result<Vec<RuleCel>, String> {
        Err("what it reports the API server's own validation rejects, after mutating and before validating admission: a validating policy would never see it".to_owned())
    }
}

fn problem_help(problem: &StrategyProblem, kind: WorkloadKind) -> String {
    match &problem.kind {
        ProblemKind::Negative { field, .. } => format!("set `{field}` to 0 or more"),
        ProblemKind::NotIntOrPercent { field, text } => {
            let trimmed = text.trim();
            if let Ok(n) = trimmed.parse::<i64>()
                && n >= 0
            {
                format!("write the count without quotes, `{field}: {n}`, or a percentage such as `{n}%`")
            } else if trimmed.starts_with('-') {
                format!("set `{field}` to 0 or more: a whole number, or a percentage such as `25%`")
            } else {
                format!("set `{field}` to a whole number, or a percentage such as `25%`")
            }
        }
        ProblemKind::Over100Percent { field, .. } => {
            format!("set `{field}` to `100%` or less")
        }
        ProblemKind::BothZero if kind == WorkloadKind::DaemonSet => {
            "set `maxUnavailable: 1` (the default), or `maxSurge: 1` to start each node's new pod before its old one stops".to_owned()
        }
        ProblemKind::BothZero => {
            "set `maxSurge: 1` to start each new pod before an old one stops".to_owned()
        }
        ProblemKind::BothNonZero => {
            "set `maxUnavailable: 0` to surge, or `maxSurge: 0` to replace pods in place".to_owned()
        }
        ProblemKind::ZeroMaxUnavailable => {
            "set `maxUnavailable: 1`, the default, or more".to_owned()
        }
        ProblemKind::RollingUpdateWithType { type_ } => {
            format!("remove `rollingUpdate`, or change `type: {type_}` to `type: RollingUpdate`")
        }
        ProblemKind::UnsupportedType {
            expected: [first, second],
            ..
        } => format!("set `type` to `{first}` or `{second}`"),
    }
}
