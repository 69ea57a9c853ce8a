//! A Deployment's rollout, step by step: how many old and new pods run and
//! how many are ready, as the controller scales the two ReplicaSets.

use super::*;

/// One moment of a simulated rolling update (pod counts after the
/// controller's moves of one step); `rollsafe timeline --format json` prints
/// it as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Old pods still running and ready.
    pub old: i64,
    /// New pods created so far, ready or starting.
    pub new: i64,
    /// New pods created in this step, not ready yet.
    pub starting: i64,
    /// Old pods scaled down in this step, shutting down and out of endpoints.
    pub terminating: i64,
    /// Pods serving: old plus ready new pods.
    pub ready: i64,
    /// Replicas short of the desired count (`replicas − ready`, never below
    /// 0): the Deployment's `unavailableReplicas` at that moment.
    pub unavailable: i64,
}

impl Step {
    /// The step with `old` ready old pods and `new` new pods of which
    /// `starting` are not ready yet, out of `replicas` desired.
    pub fn of(replicas: i64, old: i64, new: i64, starting: i64, terminating: i64) -> Step {
        let ready = old.saturating_add(new).saturating_sub(starting);
        Step {
            old,
            new,
            starting,
            terminating,
            ready,
            unavailable: replicas.saturating_sub(ready).max(0),
        }
    }
}

/// How a simulation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanEnd {
    /// All pods new and ready, nothing terminating.
    Complete,
    /// The controller could make no move: fenceposts that allow neither surge
    /// nor unavailability (never the case after `resolve_fenceposts`).
    Stalled,
    /// Stopped after [`MAX_PLAN_STEPS`] steps; the rollout goes on.
    Truncated,
}

/// A simulated rolling update, first step all old, last step all new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutPlan {
    pub replicas: i64,
    pub steps: Vec<Step>,
    pub end: PlanEnd,
}

impl RolloutPlan {
    /// The fewest pods serving at any step.
    pub fn min_ready(&self) -> i64 {
        self.steps.iter().map(|s| s.ready).min().unwrap_or(0)
    }

    /// The most pods existing at once, terminating ones included: what the
    /// cluster must find room for.
    pub fn peak_pods(&self) -> i64 {
        self.steps
            .iter()
            .map(|s| s.old.saturating_add(s.new).saturating_add(s.terminating))
            .max()
            .unwrap_or(0)
    }
}

/// Steps a plan may hold: one-at-a-time rollouts of 10,000 replicas need
/// about 10,003, so only absurd scales are cut.
pub const MAX_PLAN_STEPS: usize = 20_000;

/// Simulates the Deployment controller's rolling update (`rolloutRolling` in
/// pkg/controller/deployment/rolling.go) for a timeline view, from a settled
/// Deployment (one old ReplicaSet, every pod ready). Each step the pods
/// started in the previous step become ready and the pods scaled down in the
/// previous step are gone; then the controller acts until it can do no more:
/// scale the new ReplicaSet up to replicas + maxSurge counted pods
/// (`NewRSNewReplicas`), and scale old pods down while available pods stay
/// at least replicas − maxUnavailable (`reconcileOldReplicaSets`,
/// `scaleDownOldReplicaSetsForRollingUpdate`). Terminating pods are not
/// counted against maxSurge, as with the default `podReplacementPolicy`.
pub fn rollout_plan(fenceposts: &Fenceposts) -> RolloutPlan {
    let replicas = fenceposts.replicas.max(0);
    let max_total = fenceposts.max_total();
    let min_available = fenceposts.min_available();

    let mut old = replicas;
    let mut new_ready: i64 = 0;
    let mut starting: i64 = 0;
    let mut terminating: i64 = 0;
    let snapshot = |old: i64, new_ready: i64, starting: i64, terminating: i64| {
        Step::of(
            replicas,
            old,
            new_ready.saturating_add(starting),
            starting,
            terminating,
        )
    };

    let mut steps = vec![snapshot(old, new_ready, starting, terminating)];
    let end = loop {
        if old == 0 && starting == 0 && terminating == 0 && new_ready == replicas {
            break PlanEnd::Complete;
        }
        if steps.len() >= MAX_PLAN_STEPS {
            break PlanEnd::Truncated;
        }
        new_ready = new_ready.saturating_add(starting);
        starting = 0;
        terminating = 0;
        let mut moved = false;
        // Scaling up frees nothing and scaling down frees room for one more
        // scale-up, so the controller settles within three moves; four
        // rounds bound the loop whatever the numbers.
        for _ in 0..4 {
            let new = new_ready.saturating_add(starting);
            let up = max_total
                .saturating_sub(old.saturating_add(new))
                .min(replicas.saturating_sub(new));
            if up > 0 {
                starting = starting.saturating_add(up);
            }
            let available = old.saturating_add(new_ready);
            let down = old.min(available.saturating_sub(min_available));
            if down > 0 {
                old -= down;
                terminating = terminating.saturating_add(down);
            }
            if up <= 0 && down <= 0 {
                break;
            }
            moved = true;
        }
        let step = snapshot(old, new_ready, starting, terminating);
        let unchanged = steps.last() == Some(&step);
        steps.push(step);
        if !moved && unchanged {
            break PlanEnd::Stalled;
        }
    };
    RolloutPlan {
        replicas,
        steps,
        end,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn plan_of(replicas: i64, surge: i64, unavailable: i64) -> RolloutPlan {
        let f = resolve_fenceposts(
            &int(i32::try_from(surge).unwrap_or(0)),
            &int(i32::try_from(unavailable).unwrap_or(0)),
            replicas,
        );
        match f {
            Ok(f) => rollout_plan(&f),
            Err(e) => panic!("{e}"),
        }
    }

    fn counts(plan: &RolloutPlan) -> Vec<(i64, i64, i64)> {
        plan.steps
            .iter()
            .map(|s| (s.old, s.new, s.unavailable))
            .collect()
    }

    #[test]
    fn plan_three_replicas_surge_one() {
        let plan = plan_of(3, 1, 0);
        assert_eq!(plan.end, PlanEnd::Complete);
        assert_eq!(
            counts(&plan),
            vec![
                (3, 0, 0),
                (3, 1, 0),
                (2, 2, 0),
                (1, 3, 0),
                (0, 3, 0),
                (0, 3, 0)
            ]
        );
        assert_eq!(plan.min_ready(), 3);
        assert!(plan.steps.iter().all(|s| s.old + s.new <= 4));
        assert_eq!(plan.steps.last().map(|s| s.terminating), Some(0));
    }

    #[test]
    fn plan_three_replicas_unavailable_one() {
        let plan = plan_of(3, 0, 1);
        assert_eq!(plan.end, PlanEnd::Complete);
        assert_eq!(
            counts(&plan),
            vec![(3, 0, 0), (2, 1, 1), (1, 2, 1), (0, 3, 1), (0, 3, 0)]
        );
        assert_eq!(plan.min_ready(), 2);
        assert_eq!(
            plan.steps
                .get(1)
                .map(|s| (s.starting, s.terminating, s.ready)),
            Some((1, 1, 2))
        );
    }

    #[test]
    fn plan_shows_the_single_replica_outage() {
        let plan = plan_of(1, 0, 0);
        assert_eq!(plan.end, PlanEnd::Complete);
        assert_eq!(counts(&plan), vec![(1, 0, 0), (0, 1, 1), (0, 1, 0)]);
        assert_eq!(plan.min_ready(), 0);
    }

    #[test]
    fn plan_ten_replicas_with_defaults() {
        let plan = rollout_plan(&fenceposts(None, 10));
        assert_eq!(plan.end, PlanEnd::Complete);
        assert_eq!(plan.min_ready(), 8);
        assert!(plan.steps.iter().all(|s| s.old + s.new <= 13));
        assert_eq!(
            plan.steps.last().map(|s| (s.old, s.new, s.ready)),
            Some((0, 10, 10))
        );
    }

    #[test]
    fn plan_stays_bounded() {
        let plan = plan_of(10_000, 1, 0);
        assert_eq!(plan.end, PlanEnd::Complete);
        assert!(plan.steps.len() <= MAX_PLAN_STEPS);
        assert_eq!(plan.min_ready(), 10_000);

        let huge = plan_of(i64::from(i32::MAX), 1, 0);
        assert_eq!(huge.end, PlanEnd::Truncated);
        assert_eq!(huge.steps.len(), MAX_PLAN_STEPS);

        // Past i64 the sums saturate: no room to surge, so it stalls, quietly.
        let absurd = rollout_plan(&Fenceposts {
            replicas: i64::MAX,
            max_surge: 1,
            max_unavailable: 0,
            zero_fallback: false,
        });
        assert_eq!(absurd.end, PlanEnd::Stalled);

        let stuck = rollout_plan(&Fenceposts {
            replicas: 3,
            max_surge: 0,
            max_unavailable: 0,
            zero_fallback: false,
        });
        assert_eq!(stuck.end, PlanEnd::Stalled);

        let none = plan_of(0, 1, 0);
        assert_eq!(none.end, PlanEnd::Complete);
        assert_eq!(none.steps.len(), 1);

        let wild = rollout_plan(&Fenceposts {
            replicas: 5,
            max_surge: i64::MAX,
            max_unavailable: i64::MIN,
            zero_fallback: false,
        });
        assert_eq!(wild.end, PlanEnd::Complete);
    }
}
