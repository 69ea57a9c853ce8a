//! A Deployment's rolling update: its strategy resolved to fenceposts.

use super::*;

/// `spec.strategy.type` of a Deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentStrategyType {
    /// Also what an absent or empty `type` defaults to.
    RollingUpdate,
    Recreate,
    /// A value the API server rejects.
    Unknown(String),
}

impl DeploymentStrategyType {
    pub fn of(strategy: Option<&DeploymentStrategy>) -> Self {
        match declared_type(strategy.and_then(|s| s.type_.as_ref())) {
            None | Some("RollingUpdate") => DeploymentStrategyType::RollingUpdate,
            Some("Recreate") => DeploymentStrategyType::Recreate,
            Some(other) => DeploymentStrategyType::Unknown(other.to_owned()),
        }
    }
}

/// The Deployment defaults for an absent field: `25%` each
/// (`SetDefaults_Deployment`).
pub fn deployment_default() -> IntOrString {
    IntOrString::String("25%".to_owned())
}

/// Resolved maxSurge and maxUnavailable of a Deployment rolling update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fenceposts {
    /// The replica count the values were resolved against.
    pub replicas: i64,
    /// maxSurge, rounded up.
    pub max_surge: i64,
    /// maxUnavailable, rounded down, as `ResolveFenceposts` returns it
    /// (1 when both resolved to 0). Not yet capped at `replicas`: see
    /// [`Fenceposts::unavailable_budget`].
    pub max_unavailable: i64,
    /// Both resolved to 0 and Kubernetes substituted maxUnavailable 1, on the
    /// theory that surge might not work due to quota: the configuration
    /// reads "no downtime" but the controller takes a pod down.
    pub zero_fallback: bool,
}

impl Fenceposts {
    /// How many replicas may be unavailable during the rollout: `MaxUnavailable`
    /// in deployment_util.go caps the fencepost at `replicas` and gives 0 for
    /// a Deployment scaled to 0.
    pub fn unavailable_budget(&self) -> i64 {
        if self.replicas <= 0 {
            0
        } else {
            self.max_unavailable.clamp(0, self.replicas)
        }
    }

    /// Replicas the controller keeps available while rolling: `MinAvailable`
    /// (replicas − `MaxUnavailable`).
    pub fn min_available(&self) -> i64 {
        self.replicas
            .max(0)
            .saturating_sub(self.unavailable_budget())
    }

    /// The most pods the controller counts at once: replicas + maxSurge
    /// (`NewRSNewReplicas`). Pods already terminating are not counted.
    pub fn max_total(&self) -> i64 {
        self.replicas.max(0).saturating_add(self.max_surge.max(0))
    }

    /// Every replica may be down at once: the rollout is an outage.
    pub fn zero_availability(&self) -> bool {
        self.replicas > 0 && self.min_available() == 0
    }
}

/// Mirrors `ResolveFenceposts` (pkg/controller/deployment/util/deployment_util.go):
/// maxSurge rounds up, maxUnavailable rounds down, and if both come out 0
/// maxUnavailable becomes 1. Both must be resolved in one step because only
/// together do they decide the fallback.
pub fn resolve_fenceposts(
    max_surge: &IntOrString,
    max_unavailable: &IntOrString,
    replicas: i64,
) -> Result<Fenceposts, RolloutFieldError> {
    fenceposts_read_by(
        scaled_value,
        (max_surge, PTR_MAX_SURGE),
        (max_unavailable, PTR_MAX_UNAVAILABLE),
        replicas,
    )
}

/// How a controller turns an int-or-percent into pods: the Deployment
/// controller's [`scaled_value`], or the Rollouts controller's laxer
/// [`argo_scaled_value`].
pub(super) type ScaleFn = fn(&IntOrString, i64, Rounding) -> Result<i64, IntOrStringError>;

/// `ResolveFenceposts` with the values read by `scale`; each value comes
/// with the pointer an error names.
pub(super) fn fenceposts_read_by(
    scale: ScaleFn,
    (max_surge, surge_at): (&IntOrString, &'static str),
    (max_unavailable, unavailable_at): (&IntOrString, &'static str),
    replicas: i64,
) -> Result<Fenceposts, RolloutFieldError> {
    let surge = scale(max_surge, replicas, Rounding::Up).map_err(|source| RolloutFieldError {
        field: MAX_SURGE,
        pointer: surge_at,
        source,
    })?;
    let unavailable =
        scale(max_unavailable, replicas, Rounding::Down).map_err(|source| RolloutFieldError {
            field: MAX_UNAVAILABLE,
            pointer: unavailable_at,
            source,
        })?;
    let zero_fallback = surge == 0 && unavailable == 0;
    Ok(Fenceposts {
        replicas,
        max_surge: surge,
        max_unavailable: if zero_fallback { 1 } else { unavailable },
        zero_fallback,
    })
}

/// A Deployment rolling update: the fields as the controller reads them and
/// what they resolve to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRolling {
    pub max_surge: Setting,
    pub max_unavailable: Setting,
    pub fenceposts: Fenceposts,
}

/// Resolves a Deployment's strategy at `replicas`, after API defaulting:
/// an absent `strategy`, `type` or `rollingUpdate` means `RollingUpdate`
/// with 25 %/25 %. `Ok(None)` for `Recreate` and unknown types, which have
/// no fenceposts.
pub fn deployment_rolling(
    strategy: Option<&DeploymentStrategy>,
    replicas: i64,
) -> Result<Option<DeploymentRolling>, RolloutFieldError> {
    if DeploymentStrategyType::of(strategy) != DeploymentStrategyType::RollingUpdate {
        return Ok(None);
    }
    let rolling = strategy.and_then(|s| s.rolling_update.as_ref());
    let max_surge = Setting::from_field(
        rolling.and_then(|r| r.max_surge.as_ref()),
        deployment_default(),
    );
    let max_unavailable = Setting::from_field(
        rolling.and_then(|r| r.max_unavailable.as_ref()),
        deployment_default(),
    );
    let fenceposts = resolve_fenceposts(&max_surge.value, &max_unavailable.value, replicas)?;
    Ok(Some(DeploymentRolling {
        max_surge,
        max_unavailable,
        fenceposts,
    }))
}

/// What the API server rejects in `spec.strategy`, in its order: mirrors
/// `ValidateDeploymentStrategy` and `ValidateRollingUpdateDeployment`
/// (pkg/apis/apps/validation/validation.go), run after defaulting, so an
/// absent field is the valid `25%`. The both-zero check reads values as
/// `getIntOrPercentValue` does, so `"0"` and a malformed string also count
/// as 0 there. Kubernetes reports an unknown type on the strategy itself;
/// we point at `/type`, where the value is.
pub fn validate_deployment_strategy(strategy: Option<&DeploymentStrategy>) -> Vec<StrategyProblem> {
    let mut problems = Vec::new();
    let Some(strategy) = strategy else {
        return problems;
    };
    match DeploymentStrategyType::of(Some(strategy)) {
        DeploymentStrategyType::Recreate => {
            if strategy.rolling_update.is_some() {
                problems.push(StrategyProblem {
                    pointer: PTR_ROLLING_UPDATE,
                    kind: ProblemKind::RollingUpdateWithType { type_: "Recreate" },
                });
            }
        }
        DeploymentStrategyType::Unknown(text) => problems.push(StrategyProblem {
            pointer: PTR_TYPE,
            kind: ProblemKind::UnsupportedType {
                text,
                expected: ["Recreate", "RollingUpdate"],
            },
        }),
        DeploymentStrategyType::RollingUpdate => {
            let default = RollingUpdateDeployment::default();
            let rolling = strategy.rolling_update.as_ref().unwrap_or(&default);
            let unavailable = rolling
                .max_unavailable
                .clone()
                .unwrap_or_else(deployment_default);
            let surge = rolling.max_surge.clone().unwrap_or_else(deployment_default);
            check_int_or_percent(
                &unavailable,
                MAX_UNAVAILABLE,
                PTR_MAX_UNAVAILABLE,
                &mut problems,
            );
            check_int_or_percent(&surge, MAX_SURGE, PTR_MAX_SURGE, &mut problems);
            if validation_value(&unavailable) == 0 && validation_value(&surge) == 0 {
                problems.push(StrategyProblem {
                    pointer: PTR_MAX_UNAVAILABLE,
                    kind: ProblemKind::BothZero,
                });
            }
            check_not_over_100(
                &unavailable,
                MAX_UNAVAILABLE,
                PTR_MAX_UNAVAILABLE,
                &mut problems,
            );
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn one_replica_with_both_zero_falls_back_to_zero_availability() {
        let f = fenceposts(Some(&rolling(Some(int(0)), Some(int(0)))), 1);
        assert_eq!((f.max_surge, f.max_unavailable), (0, 1));
        assert!(f.zero_fallback);
        assert_eq!(f.unavailable_budget(), 1);
        assert_eq!(f.min_available(), 0);
        assert!(f.zero_availability());
    }

    #[test]
    fn one_replica_with_defaults_surges() {
        for strategy in [
            None,
            Some(DeploymentStrategy::default()),
            Some(rolling(None, None)),
        ] {
            let resolved = deployment_rolling(strategy.as_ref(), 1);
            let Ok(Some(d)) = resolved else {
                panic!("{resolved:?}");
            };
            assert_eq!(
                (d.fenceposts.max_surge, d.fenceposts.max_unavailable),
                (1, 0)
            );
            assert!(!d.fenceposts.zero_fallback);
            assert!(!d.fenceposts.zero_availability());
            assert!(d.max_surge.defaulted && d.max_unavailable.defaulted);
            assert_eq!(d.max_surge.to_string(), "25%");
        }
    }

    #[test]
    fn ten_replicas_with_defaults() {
        let f = fenceposts(None, 10);
        assert_eq!((f.max_surge, f.max_unavailable), (3, 2));
        assert_eq!(f.min_available(), 8);
        assert_eq!(f.max_total(), 13);
    }

    #[test]
    fn three_replicas_half_unavailable_rounds_down() {
        let f = fenceposts(Some(&rolling(None, Some(text("50%")))), 3);
        assert_eq!(f.max_unavailable, 1);
        assert_eq!(f.max_surge, 1);
    }

    #[test]
    fn thirty_percent_of_ten() {
        let f = fenceposts(Some(&rolling(Some(text("30%")), Some(text("30%")))), 10);
        assert_eq!((f.max_surge, f.max_unavailable), (3, 3));
    }

    #[test]
    fn small_percentages_hit_the_fallback() {
        // 1% of 2 is 0.02: surge 0% stays 0, unavailable rounds down to 0.
        let f = fenceposts(Some(&rolling(Some(text("0%")), Some(text("1%")))), 2);
        assert_eq!(
            (f.max_surge, f.max_unavailable, f.zero_fallback),
            (0, 1, true)
        );
    }

    #[test]
    fn unavailable_is_capped_at_replicas() {
        let f = fenceposts(Some(&rolling(Some(int(0)), Some(int(5)))), 3);
        assert_eq!(f.max_unavailable, 5);
        assert_eq!(f.unavailable_budget(), 3);
        assert!(f.zero_availability());
        let scaled_to_zero = fenceposts(None, 0);
        assert_eq!(scaled_to_zero.unavailable_budget(), 0);
        assert!(!scaled_to_zero.zero_availability());
    }

    #[test]
    fn recreate_and_unknown_types_have_no_fenceposts() {
        let recreate = DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        };
        assert_eq!(deployment_rolling(Some(&recreate), 3), Ok(None));
        assert_eq!(
            DeploymentStrategyType::of(Some(&recreate)),
            DeploymentStrategyType::Recreate
        );
        let odd = DeploymentStrategy {
            type_: Some("Canary".into()),
            rolling_update: None,
        };
        assert_eq!(
            DeploymentStrategyType::of(Some(&odd)),
            DeploymentStrategyType::Unknown("Canary".into())
        );
        let empty = DeploymentStrategy {
            type_: Some(String::new()),
            rolling_update: None,
        };
        assert_eq!(
            DeploymentStrategyType::of(Some(&empty)),
            DeploymentStrategyType::RollingUpdate
        );
    }

    #[test]
    fn malformed_value_names_its_field() {
        let error = deployment_rolling(Some(&rolling(Some(text("5")), None)), 3).err();
        assert_eq!(error.as_ref().map(|e| e.pointer), Some(PTR_MAX_SURGE));
        assert_eq!(
            error.map(|e| e.to_string()),
            Some("cannot resolve `maxSurge`".to_owned())
        );
    }
}
