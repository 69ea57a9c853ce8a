//! What the API server rejects in an update strategy, for the three
//! workload kinds that have one.

use super::*;

/// One thing the API server would reject in an update strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyProblem {
    /// JSON pointer below the strategy object (`/rollingUpdate/maxUnavailable`,
    /// `/type`, `/rollingUpdate`), so a rule appends it to `/spec/strategy`
    /// or `/spec/updateStrategy`.
    pub pointer: &'static str,
    pub kind: ProblemKind,
}

impl fmt::Display for StrategyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

/// What is wrong, with the values a message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// An integer below 0 (`ValidateNonnegativeField`).
    Negative { field: &'static str, value: i64 },
    /// A string that is not `^[0-9]+%$` (`ValidatePositiveIntOrPercent`).
    NotIntOrPercent { field: &'static str, text: String },
    /// A percentage above 100 (`IsNotMoreThan100Percent`).
    Over100Percent { field: &'static str, text: String },
    /// `maxUnavailable` and `maxSurge` both 0: no pod could ever be replaced.
    BothZero,
    /// DaemonSet `maxSurge` and `maxUnavailable` both non-zero: the DaemonSet
    /// controller takes one or the other.
    BothNonZero,
    /// StatefulSet `maxUnavailable` 0.
    ZeroMaxUnavailable,
    /// `rollingUpdate` next to a type that ignores it.
    RollingUpdateWithType { type_: &'static str },
    /// A `type` the API server does not know.
    UnsupportedType {
        text: String,
        expected: [&'static str; 2],
    },
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Negative { field, value } => {
                write!(f, "`{field}` is `{value}`: it must be 0 or more")
            }
            ProblemKind::NotIntOrPercent { field, text } => write!(
                f,
                "`{field}` is the string `{text}`, which is not a percentage (expected a number followed by `%`, e.g. `25%`, or an unquoted integer)"
            ),
            ProblemKind::Over100Percent { field, text } => {
                write!(f, "`{field}` is `{text}`: it must not be more than `100%`")
            }
            ProblemKind::BothZero => f.write_str(
                "`maxUnavailable` and `maxSurge` are both 0: the rollout could never replace a pod",
            ),
            ProblemKind::BothNonZero => f.write_str(
                "`maxSurge` and `maxUnavailable` are both non-zero: a DaemonSet takes only one of them (set `maxUnavailable: 0` to surge)",
            ),
            ProblemKind::ZeroMaxUnavailable => {
                f.write_str("`maxUnavailable` is 0: a StatefulSet needs at least 1")
            }
            ProblemKind::RollingUpdateWithType { type_ } => {
                write!(f, "`rollingUpdate` may not be set when `type` is `{type_}`")
            }
            ProblemKind::UnsupportedType {
                text,
                expected: [first, second],
            } => write!(
                f,
                "`type` `{text}` is not supported (expected `{first}` or `{second}`)"
            ),
        }
    }
}

/// `ValidatePositiveIntOrPercent`: a non-negative integer or `^[0-9]+%$`.
pub(super) fn check_int_or_percent(
    value: &IntOrString,
    field: &'static str,
    pointer: &'static str,
    problems: &mut Vec<StrategyProblem>,
) {
    match value {
        IntOrString::Int(n) if *n < 0 => problems.push(StrategyProblem {
            pointer,
            kind: ProblemKind::Negative {
                field,
                value: i64::from(*n),
            },
        }),
        IntOrString::Int(_) => {}
        IntOrString::String(text) => {
            if valid_percent(value).is_none() {
                problems.push(StrategyProblem {
                    pointer,
                    kind: ProblemKind::NotIntOrPercent {
                        field,
                        text: text.clone(),
                    },
                });
            }
        }
    }
}

/// `IsNotMoreThan100Percent`: only valid percentages are judged.
pub(super) fn check_not_over_100(
    value: &IntOrString,
    field: &'static str,
    pointer: &'static str,
    problems: &mut Vec<StrategyProblem>,
) {
    if valid_percent(value).is_some_and(|p| p > 100) {
        problems.push(StrategyProblem {
            pointer,
            kind: ProblemKind::Over100Percent {
                field,
                text: written(value),
            },
        });
    }
}

/// An absent or empty `type`, which API defaulting turns into `RollingUpdate`
/// for all three kinds (`SetDefaults_Deployment`, `SetDefaults_DaemonSet`,
/// `SetDefaults_StatefulSet` in pkg/apis/apps/v1/defaults.go).
pub(super) fn declared_type(type_: Option<&String>) -> Option<&str> {
    type_.map(String::as_str).filter(|t| !t.is_empty())
}

pub(super) const MAX_SURGE: &str = "maxSurge";
pub(super) const MAX_UNAVAILABLE: &str = "maxUnavailable";
pub(super) const PTR_MAX_SURGE: &str = "/rollingUpdate/maxSurge";
pub(super) const PTR_MAX_UNAVAILABLE: &str = "/rollingUpdate/maxUnavailable";
pub(super) const PTR_PARTITION: &str = "/rollingUpdate/partition";
pub(super) const PTR_ROLLING_UPDATE: &str = "/rollingUpdate";
pub(super) const PTR_TYPE: &str = "/type";

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn valid_deployment_strategies_pass() {
        assert!(validate_deployment_strategy(None).is_empty());
        assert!(validate_deployment_strategy(Some(&rolling(None, None))).is_empty());
        assert!(validate_deployment_strategy(Some(&rolling(Some(int(0)), None))).is_empty());
        assert!(
            validate_deployment_strategy(Some(&rolling(Some(int(1)), Some(int(0))))).is_empty()
        );
        assert!(validate_deployment_strategy(Some(&rolling(None, Some(text("100%"))))).is_empty());
        let recreate = DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        };
        assert!(validate_deployment_strategy(Some(&recreate)).is_empty());
    }

    #[test]
    fn quoted_number_is_malformed() {
        let problems = validate_deployment_strategy(Some(&rolling(None, Some(text("5")))));
        assert_eq!(pointers(&problems), vec![PTR_MAX_UNAVAILABLE]);
        assert_eq!(
            problems.first().map(|p| &p.kind),
            Some(&ProblemKind::NotIntOrPercent {
                field: "maxUnavailable",
                text: "5".into()
            })
        );
    }

    #[test]
    fn over_one_hundred_percent_unavailable() {
        let problems = validate_deployment_strategy(Some(&rolling(None, Some(text("101%")))));
        assert_eq!(
            problems.first().map(|p| p.to_string()).as_deref(),
            Some("`maxUnavailable` is `101%`: it must not be more than `100%`")
        );
        assert_eq!(pointers(&problems), vec![PTR_MAX_UNAVAILABLE]);
        // maxSurge above 100% is fine for a Deployment.
        assert!(validate_deployment_strategy(Some(&rolling(Some(text("200%")), None))).is_empty());
    }

    #[test]
    fn negative_values() {
        let problems = validate_deployment_strategy(Some(&rolling(Some(int(-1)), None)));
        assert_eq!(
            problems.first().map(|p| &p.kind),
            Some(&ProblemKind::Negative {
                field: "maxSurge",
                value: -1
            })
        );
        let problems = validate_deployment_strategy(Some(&rolling(None, Some(text("-5%")))));
        assert_eq!(pointers(&problems), vec![PTR_MAX_UNAVAILABLE]);
    }

    #[test]
    fn both_explicitly_zero() {
        for (surge, unavailable) in [
            (int(0), int(0)),
            (text("0%"), text("0%")),
            (int(0), text("0%")),
        ] {
            let problems =
                validate_deployment_strategy(Some(&rolling(Some(surge), Some(unavailable))));
            assert_eq!(
                problems.iter().map(|p| &p.kind).collect::<Vec<_>>(),
                vec![&ProblemKind::BothZero]
            );
        }
        // A malformed string counts as 0 in that check, as in Kubernetes.
        let problems = validate_deployment_strategy(Some(&rolling(Some(int(0)), Some(text("x")))));
        assert_eq!(problems.len(), 2);
    }

    #[test]
    fn rolling_update_with_recreate_and_unknown_type() {
        let both = DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: Some(RollingUpdateDeployment::default()),
        };
        let problems = validate_deployment_strategy(Some(&both));
        assert_eq!(pointers(&problems), vec![PTR_ROLLING_UPDATE]);
        assert_eq!(
            problems.first().map(|p| p.to_string()).as_deref(),
            Some("`rollingUpdate` may not be set when `type` is `Recreate`")
        );
        let odd = DeploymentStrategy {
            type_: Some("BlueGreen".into()),
            rolling_update: None,
        };
        let problems = validate_deployment_strategy(Some(&odd));
        assert_eq!(pointers(&problems), vec![PTR_TYPE]);
        assert_eq!(
            problems.first().map(|p| p.to_string()).as_deref(),
            Some("`type` `BlueGreen` is not supported (expected `Recreate` or `RollingUpdate`)")
        );
    }
}
