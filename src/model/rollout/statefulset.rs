//! A StatefulSet's rolling update: pods replaced from the highest ordinal
//! down.

use super::*;

/// `spec.updateStrategy.type` of a StatefulSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatefulSetStrategyType {
    /// Also what an absent or empty `type` defaults to.
    RollingUpdate,
    OnDelete,
    Unknown(String),
}

impl StatefulSetStrategyType {
    pub fn of(strategy: Option<&StatefulSetUpdateStrategy>) -> Self {
        match declared_type(strategy.and_then(|s| s.type_.as_ref())) {
            None | Some("RollingUpdate") => StatefulSetStrategyType::RollingUpdate,
            Some("OnDelete") => StatefulSetStrategyType::OnDelete,
            Some(other) => StatefulSetStrategyType::Unknown(other.to_owned()),
        }
    }
}

/// The first minor where the StatefulSet controller honours
/// `rollingUpdate.maxUnavailable` by default: the `MaxUnavailableStatefulSet`
/// gate, alpha since 1.24, is beta and on from 1.35 (pkg/features). Before,
/// the API server drops the field and pods are replaced one at a time.
pub const STATEFULSET_MAX_UNAVAILABLE: KubeVersion = KubeVersion::new(1, 35);

/// A StatefulSet rolling update as the controller reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatefulSetRolling {
    /// Pods with an ordinal below it keep the old revision.
    pub partition: i64,
    pub max_unavailable: Setting,
    /// Pods down at once where the gate is on: the field rounded down and at
    /// least 1 (`getStatefulSetMaxUnavailable`).
    pub max_unavailable_pods: i64,
}

impl StatefulSetRolling {
    /// Pods the rollout replaces: ordinals from `partition` up.
    pub fn updated_pods(&self, replicas: i64) -> i64 {
        replicas.max(0).saturating_sub(self.partition.max(0)).max(0)
    }

    /// Pods down at once on a cluster of `version`.
    pub fn max_unavailable_at(&self, version: KubeVersion) -> i64 {
        if version >= STATEFULSET_MAX_UNAVAILABLE {
            self.max_unavailable_pods
        } else {
            1
        }
    }
}

/// Mirrors `getStatefulSetMaxUnavailable`
/// (pkg/controller/statefulset/stateful_set_utils.go): default 1, a
/// percentage of `replicas` rounded down, never below 1 (a small percentage
/// would otherwise stall the update).
pub fn statefulset_max_unavailable(
    max_unavailable: &IntOrString,
    replicas: i64,
) -> Result<i64, IntOrStringError> {
    Ok(scaled_value(max_unavailable, replicas, Rounding::Down)?.max(1))
}

/// Resolves a StatefulSet's strategy after defaulting (`SetDefaults_StatefulSet`:
/// `RollingUpdate`, partition 0, maxUnavailable 1). `Ok(None)` for `OnDelete`
/// and unknown types.
pub fn statefulset_rolling(
    strategy: Option<&StatefulSetUpdateStrategy>,
    replicas: i64,
) -> Result<Option<StatefulSetRolling>, RolloutFieldError> {
    if StatefulSetStrategyType::of(strategy) != StatefulSetStrategyType::RollingUpdate {
        return Ok(None);
    }
    let rolling = strategy.and_then(|s| s.rolling_update.as_ref());
    let partition = rolling.and_then(|r| r.partition).map_or(0, i64::from);
    let max_unavailable = Setting::from_field(
        rolling.and_then(|r| r.max_unavailable.as_ref()),
        IntOrString::Int(1),
    );
    let max_unavailable_pods = field_value(
        &max_unavailable,
        replicas,
        Rounding::Down,
        MAX_UNAVAILABLE,
        PTR_MAX_UNAVAILABLE,
    )?
    .max(1);
    Ok(Some(StatefulSetRolling {
        partition,
        max_unavailable,
        max_unavailable_pods,
    }))
}

/// What the API server rejects in a StatefulSet's `spec.updateStrategy`:
/// mirrors the update-strategy part of `ValidateStatefulSetSpec` and
/// `validateRollingUpdateStatefulSet`. Before [`STATEFULSET_MAX_UNAVAILABLE`]
/// the API server drops `maxUnavailable` before validating
/// (`dropStatefulSetDisabledFields`), so it is only judged from then on.
/// Kubernetes reports an unknown type on `updateStrategy`; we point at
/// `/type`.
pub fn validate_statefulset_strategy(
    strategy: Option<&StatefulSetUpdateStrategy>,
    version: KubeVersion,
) -> Vec<StrategyProblem> {
    let mut problems = Vec::new();
    let Some(strategy) = strategy else {
        return problems;
    };
    match StatefulSetStrategyType::of(Some(strategy)) {
        StatefulSetStrategyType::OnDelete => {
            if strategy.rolling_update.is_some() {
                problems.push(StrategyProblem {
                    pointer: PTR_ROLLING_UPDATE,
                    kind: ProblemKind::RollingUpdateWithType { type_: "OnDelete" },
                });
            }
        }
        StatefulSetStrategyType::Unknown(text) => problems.push(StrategyProblem {
            pointer: PTR_TYPE,
            kind: ProblemKind::UnsupportedType {
                text,
                expected: ["RollingUpdate", "OnDelete"],
            },
        }),
        StatefulSetStrategyType::RollingUpdate => {
            let Some(rolling) = strategy.rolling_update.as_ref() else {
                return problems;
            };
            if let Some(partition) = rolling.partition.filter(|p| *p < 0) {
                problems.push(StrategyProblem {
                    pointer: PTR_PARTITION,
                    kind: ProblemKind::Negative {
                        field: "partition",
                        value: i64::from(partition),
                    },
                });
            }
            if version < STATEFULSET_MAX_UNAVAILABLE {
                return problems;
            }
            if let Some(unavailable) = rolling.max_unavailable.as_ref() {
                check_int_or_percent(
                    unavailable,
                    MAX_UNAVAILABLE,
                    PTR_MAX_UNAVAILABLE,
                    &mut problems,
                );
                if validation_value(unavailable) == 0 {
                    problems.push(StrategyProblem {
                        pointer: PTR_MAX_UNAVAILABLE,
                        kind: ProblemKind::ZeroMaxUnavailable,
                    });
                }
                check_not_over_100(
                    unavailable,
                    MAX_UNAVAILABLE,
                    PTR_MAX_UNAVAILABLE,
                    &mut problems,
                );
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn sts(unavailable: Option<IntOrString>, partition: Option<i32>) -> StatefulSetUpdateStrategy {
        StatefulSetUpdateStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateStatefulSetStrategy {
                max_unavailable: unavailable,
                partition,
            }),
        }
    }

    #[test]
    fn statefulset_max_unavailable_rounds_down_to_at_least_one() {
        assert_eq!(statefulset_max_unavailable(&text("10%"), 5), Ok(1));
        assert_eq!(statefulset_max_unavailable(&text("50%"), 5), Ok(2));
        assert_eq!(statefulset_max_unavailable(&int(3), 5), Ok(3));
        let resolved = statefulset_rolling(Some(&sts(Some(text("50%")), Some(2))), 5);
        let Ok(Some(s)) = resolved else {
            panic!("{resolved:?}");
        };
        assert_eq!(s.max_unavailable_pods, 2);
        assert_eq!(s.max_unavailable_at(KubeVersion::new(1, 35)), 2);
        assert_eq!(s.max_unavailable_at(KubeVersion::new(1, 34)), 1);
        assert_eq!(s.updated_pods(5), 3);
        assert_eq!(s.updated_pods(1), 0);
    }

    #[test]
    fn statefulset_defaults_and_on_delete() {
        let resolved = statefulset_rolling(None, 3);
        assert!(matches!(
            resolved,
            Ok(Some(ref s)) if s.partition == 0 && s.max_unavailable_pods == 1 && s.max_unavailable.defaulted
        ));
        let on_delete = StatefulSetUpdateStrategy {
            type_: Some("OnDelete".into()),
            rolling_update: None,
        };
        assert_eq!(statefulset_rolling(Some(&on_delete), 3), Ok(None));
    }

    #[test]
    fn statefulset_validation() {
        let v135 = KubeVersion::new(1, 35);
        assert!(validate_statefulset_strategy(None, v135).is_empty());
        assert!(validate_statefulset_strategy(Some(&sts(Some(int(2)), Some(0))), v135).is_empty());
        let problems = validate_statefulset_strategy(Some(&sts(Some(int(0)), Some(-1))), v135);
        assert_eq!(
            pointers(&problems),
            vec![PTR_PARTITION, PTR_MAX_UNAVAILABLE]
        );
        assert_eq!(
            problems.get(1).map(|p| &p.kind),
            Some(&ProblemKind::ZeroMaxUnavailable)
        );
        // Before 1.35 the field is dropped, not judged.
        let old =
            validate_statefulset_strategy(Some(&sts(Some(int(0)), None)), KubeVersion::new(1, 31));
        assert!(old.is_empty());
        let problems = validate_statefulset_strategy(Some(&sts(Some(text("120%")), None)), v135);
        assert_eq!(pointers(&problems), vec![PTR_MAX_UNAVAILABLE]);
        let on_delete = StatefulSetUpdateStrategy {
            type_: Some("OnDelete".into()),
            rolling_update: Some(RollingUpdateStatefulSetStrategy::default()),
        };
        let problems = validate_statefulset_strategy(Some(&on_delete), v135);
        assert_eq!(pointers(&problems), vec![PTR_ROLLING_UPDATE]);
    }
}
