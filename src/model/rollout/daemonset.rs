//! A DaemonSet's rolling update: one pod per node, a share of the nodes at
//! a time.

use super::*;

/// `spec.updateStrategy.type` of a DaemonSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonSetStrategyType {
    /// Also what an absent or empty `type` defaults to.
    RollingUpdate,
    OnDelete,
    Unknown(String),
}

impl DaemonSetStrategyType {
    pub fn of(strategy: Option<&DaemonSetUpdateStrategy>) -> Self {
        match declared_type(strategy.and_then(|s| s.type_.as_ref())) {
            None | Some("RollingUpdate") => DaemonSetStrategyType::RollingUpdate,
            Some("OnDelete") => DaemonSetStrategyType::OnDelete,
            Some(other) => DaemonSetStrategyType::Unknown(other.to_owned()),
        }
    }
}

/// A DaemonSet budget. The controller scales percentages against the number
/// of nodes that should run the pod, which an offline linter does not know,
/// so a percentage stays a share of the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeBudget {
    /// So many nodes at once, whatever the cluster size.
    Count(i64),
    /// A share of the nodes, rounded up: any non-zero share is at least one
    /// node, `100%` is all of them. `0%` is represented as `Count(0)`.
    Share { percent: i64 },
}

impl NodeBudget {
    /// Reads a DaemonSet field as `SurgeCount`/`UnavailableCount` will.
    pub fn from_value(value: &IntOrString) -> Result<NodeBudget, IntOrStringError> {
        match value {
            IntOrString::Int(n) => Ok(NodeBudget::Count(i64::from(*n))),
            IntOrString::String(text) => match parse_percent(text)? {
                0 => Ok(NodeBudget::Count(0)),
                percent => Ok(NodeBudget::Share { percent }),
            },
        }
    }

    /// Pods at a known node count: percentages round up, as `SurgeCount` and
    /// `UnavailableCount` (pkg/controller/daemon/util/daemonset_util.go) call
    /// `GetScaledValueFromIntOrPercent` with `roundUp` true.
    pub fn resolve(self, nodes: i64) -> i64 {
        match self {
            NodeBudget::Count(n) => n,
            NodeBudget::Share { percent } => scale_percent(percent, nodes, Rounding::Up),
        }
    }

    /// Resolves to 0 on every cluster.
    pub fn is_zero(self) -> bool {
        self == NodeBudget::Count(0)
    }

    /// Covers every node, whatever their number (a share of 100 % or more).
    pub fn covers_all_nodes(self) -> bool {
        matches!(self, NodeBudget::Share { percent } if percent >= 100)
    }
}

impl fmt::Display for NodeBudget {
    /// `1`, `10%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeBudget::Count(n) => write!(f, "{n}"),
            NodeBudget::Share { percent } => write!(f, "{percent}%"),
        }
    }
}

/// A DaemonSet rolling update as the controller reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonSetRolling {
    pub max_surge: Setting,
    pub max_unavailable: Setting,
    pub surge: NodeBudget,
    /// After the zero fallback.
    pub unavailable: NodeBudget,
    /// Both resolved to 0 and the controller accepts 1 unavailable node
    /// instead (`updatedDesiredNodeCounts` in pkg/controller/daemon/update.go,
    /// once at least one node should run the pod).
    pub zero_fallback: bool,
}

impl DaemonSetRolling {
    /// Surging replaces a node's pod only after its successor is ready; the
    /// controller takes that path whenever maxSurge resolves above 0.
    pub fn surges(&self) -> bool {
        !self.surge.is_zero()
    }

    /// The rollout may stop the pod on every node at once.
    pub fn all_nodes_may_be_down(&self) -> bool {
        !self.surges() && self.unavailable.covers_all_nodes()
    }
}

/// Resolves a DaemonSet's strategy after API defaulting (maxUnavailable 1,
/// maxSurge 0, `SetDefaults_DaemonSet`). `Ok(None)` for `OnDelete` and
/// unknown types.
pub fn daemonset_rolling(
    strategy: Option<&DaemonSetUpdateStrategy>,
) -> Result<Option<DaemonSetRolling>, RolloutFieldError> {
    if DaemonSetStrategyType::of(strategy) != DaemonSetStrategyType::RollingUpdate {
        return Ok(None);
    }
    let rolling = strategy.and_then(|s| s.rolling_update.as_ref());
    let max_surge = Setting::from_field(
        rolling.and_then(|r| r.max_surge.as_ref()),
        IntOrString::Int(0),
    );
    let max_unavailable = Setting::from_field(
        rolling.and_then(|r| r.max_unavailable.as_ref()),
        IntOrString::Int(1),
    );
    let budget = |setting: &Setting, field: &'static str, pointer: &'static str| {
        NodeBudget::from_value(&setting.value).map_err(|source| RolloutFieldError {
            field,
            pointer,
            source,
        })
    };
    let surge = budget(&max_surge, MAX_SURGE, PTR_MAX_SURGE)?;
    let unavailable = budget(&max_unavailable, MAX_UNAVAILABLE, PTR_MAX_UNAVAILABLE)?;
    let zero_fallback = surge.is_zero() && unavailable.is_zero();
    Ok(Some(DaemonSetRolling {
        max_surge,
        max_unavailable,
        surge,
        unavailable: if zero_fallback {
            NodeBudget::Count(1)
        } else {
            unavailable
        },
        zero_fallback,
    }))
}

/// What the API server rejects in a DaemonSet's `spec.updateStrategy`, in its
/// order: mirrors `ValidateDaemonSetUpdateStrategy` and
/// `ValidateRollingUpdateDaemonSet` after defaulting. Unlike a Deployment, a
/// DaemonSet takes exactly one of maxSurge and maxUnavailable: setting
/// `maxSurge` while the default `maxUnavailable: 1` stays is rejected. An
/// `OnDelete` strategy may keep its `rollingUpdate` block.
pub fn validate_daemonset_strategy(
    strategy: Option<&DaemonSetUpdateStrategy>,
) -> Vec<StrategyProblem> {
    let mut problems = Vec::new();
    let Some(strategy) = strategy else {
        return problems;
    };
    match DaemonSetStrategyType::of(Some(strategy)) {
        DaemonSetStrategyType::OnDelete => {}
        DaemonSetStrategyType::Unknown(text) => problems.push(StrategyProblem {
            pointer: PTR_TYPE,
            kind: ProblemKind::UnsupportedType {
                text,
                expected: ["RollingUpdate", "OnDelete"],
            },
        }),
        DaemonSetStrategyType::RollingUpdate => {
            let default = RollingUpdateDaemonSet::default();
            let rolling = strategy.rolling_update.as_ref().unwrap_or(&default);
            let unavailable = rolling
                .max_unavailable
                .clone()
                .unwrap_or(IntOrString::Int(1));
            let surge = rolling.max_surge.clone().unwrap_or(IntOrString::Int(0));
            check_int_or_percent(
                &unavailable,
                MAX_UNAVAILABLE,
                PTR_MAX_UNAVAILABLE,
                &mut problems,
            );
            check_int_or_percent(&surge, MAX_SURGE, PTR_MAX_SURGE, &mut problems);
            check_not_over_100(
                &unavailable,
                MAX_UNAVAILABLE,
                PTR_MAX_UNAVAILABLE,
                &mut problems,
            );
            check_not_over_100(&surge, MAX_SURGE, PTR_MAX_SURGE, &mut problems);
            let has_unavailable = validation_value(&unavailable) != 0;
            let has_surge = validation_value(&surge) != 0;
            if has_unavailable && has_surge {
                problems.push(StrategyProblem {
                    pointer: PTR_MAX_SURGE,
                    kind: ProblemKind::BothNonZero,
                });
            } else if !has_unavailable && !has_surge {
                problems.push(StrategyProblem {
                    pointer: PTR_MAX_UNAVAILABLE,
                    kind: ProblemKind::BothZero,
                });
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn ds(surge: Option<IntOrString>, unavailable: Option<IntOrString>) -> DaemonSetUpdateStrategy {
        DaemonSetUpdateStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateDaemonSet {
                max_surge: surge,
                max_unavailable: unavailable,
            }),
        }
    }

    #[test]
    fn daemonset_defaults() {
        let resolved = daemonset_rolling(None);
        let Ok(Some(d)) = resolved else {
            panic!("{resolved:?}");
        };
        assert_eq!(d.unavailable, NodeBudget::Count(1));
        assert_eq!(d.surge, NodeBudget::Count(0));
        assert!(!d.surges() && !d.all_nodes_may_be_down());
        assert!(d.max_unavailable.defaulted);
    }

    #[test]
    fn daemonset_percentage_of_unknown_nodes_is_a_share() {
        let resolved = daemonset_rolling(Some(&ds(None, Some(text("10%")))));
        let Ok(Some(d)) = resolved else {
            panic!("{resolved:?}");
        };
        assert_eq!(d.unavailable, NodeBudget::Share { percent: 10 });
        assert_eq!(d.unavailable.to_string(), "10%");
        // Rounds up: 10% of 3 nodes is one node, of 25 nodes three.
        assert_eq!(d.unavailable.resolve(3), 1);
        assert_eq!(d.unavailable.resolve(25), 3);
        assert!(!d.all_nodes_may_be_down());

        let all = daemonset_rolling(Some(&ds(None, Some(text("100%")))));
        assert!(matches!(all, Ok(Some(ref d)) if d.all_nodes_may_be_down()));
    }

    #[test]
    fn daemonset_surge_and_zero_fallback() {
        let surge = daemonset_rolling(Some(&ds(Some(text("25%")), Some(int(0)))));
        assert!(matches!(surge, Ok(Some(ref d)) if d.surges() && !d.zero_fallback));
        let zero = daemonset_rolling(Some(&ds(Some(text("0%")), Some(int(0)))));
        assert!(matches!(
            zero,
            Ok(Some(ref d)) if d.zero_fallback && d.unavailable == NodeBudget::Count(1)
        ));
        let on_delete = DaemonSetUpdateStrategy {
            type_: Some("OnDelete".into()),
            rolling_update: None,
        };
        assert_eq!(daemonset_rolling(Some(&on_delete)), Ok(None));
    }

    #[test]
    fn daemonset_validation() {
        assert!(validate_daemonset_strategy(None).is_empty());
        assert!(validate_daemonset_strategy(Some(&ds(Some(int(1)), Some(int(0))))).is_empty());
        assert!(validate_daemonset_strategy(Some(&ds(None, Some(text("100%"))))).is_empty());
        // maxSurge alone keeps the default maxUnavailable 1: rejected.
        let problems = validate_daemonset_strategy(Some(&ds(Some(int(1)), None)));
        assert_eq!(
            problems.iter().map(|p| &p.kind).collect::<Vec<_>>(),
            vec![&ProblemKind::BothNonZero]
        );
        assert_eq!(pointers(&problems), vec![PTR_MAX_SURGE]);
        let problems = validate_daemonset_strategy(Some(&ds(Some(text("0%")), Some(int(0)))));
        assert_eq!(
            problems.iter().map(|p| &p.kind).collect::<Vec<_>>(),
            vec![&ProblemKind::BothZero]
        );
        let problems = validate_daemonset_strategy(Some(&ds(Some(text("150%")), Some(int(0)))));
        assert_eq!(pointers(&problems), vec![PTR_MAX_SURGE]);
        // OnDelete may keep a rollingUpdate block.
        let on_delete = DaemonSetUpdateStrategy {
            type_: Some("OnDelete".into()),
            rolling_update: Some(RollingUpdateDaemonSet::default()),
        };
        assert!(validate_daemonset_strategy(Some(&on_delete)).is_empty());
    }
}
