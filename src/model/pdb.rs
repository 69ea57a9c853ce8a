//! A PodDisruptionBudget's arithmetic: whether it can ever allow an
//! eviction.

use std::fmt;

use k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::rollout::{IntOrStringError, Rounding, parse_percent, scaled_value, written};

/// The PDB field a verdict rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdbField {
    MinAvailable,
    MaxUnavailable,
}

impl PdbField {
    pub fn name(self) -> &'static str {
        match self {
            PdbField::MinAvailable => "minAvailable",
            PdbField::MaxUnavailable => "maxUnavailable",
        }
    }

    /// JSON pointer below the PDB's `spec`.
    pub fn pointer(self) -> &'static str {
        match self {
            PdbField::MinAvailable => "/minAvailable",
            PdbField::MaxUnavailable => "/maxUnavailable",
        }
    }
}

/// Whether a PodDisruptionBudget can ever let an eviction through, judged
/// with every expected pod healthy: the best case a node drain can hope for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdbVerdict {
    /// Evictions can be allowed; `disruptions` is how many at once when the
    /// pod count is known.
    Allows { disruptions: Option<i64> },
    /// No eviction is ever allowed: drains hang.
    Blocks(PdbBlock),
    /// Depends on the pod count, which is unknown.
    Undecided,
}

/// Why a PDB allows no eviction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdbBlock {
    /// `minAvailable` demands every expected pod: `required` ≥ `expected`
    /// (`required` is `None` when a `100%` decides it without a count).
    MinAvailable {
        value: IntOrString,
        required: Option<i64>,
        expected: Option<i64>,
    },
    /// `maxUnavailable` resolves to 0 (or below) at any scale.
    MaxUnavailable { value: IntOrString },
    /// Neither field is set; policy/v1 has no default, so the controller
    /// computes 0 expected pods and allows no disruption.
    NoBudget,
    /// A value the controller cannot read; it then sets the allowance to 0
    /// (`failSafe`). The API server rejects such a PDB anyway.
    Unreadable {
        field: PdbField,
        error: IntOrStringError,
    },
}

impl PdbBlock {
    /// JSON pointer below the PDB's `spec`; empty for the spec itself.
    pub fn pointer(&self) -> &'static str {
        match self {
            PdbBlock::MinAvailable { .. } => PdbField::MinAvailable.pointer(),
            PdbBlock::MaxUnavailable { .. } => PdbField::MaxUnavailable.pointer(),
            PdbBlock::NoBudget => "",
            PdbBlock::Unreadable { field, .. } => field.pointer(),
        }
    }
}

impl fmt::Display for PdbBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PdbBlock::MinAvailable {
                value,
                required,
                expected,
            } => {
                let value = written(value);
                match (required, expected) {
                    (Some(required), Some(expected)) => write!(
                        f,
                        "`minAvailable` `{value}` requires `{required}` of `{expected}` pods to stay up: no eviction is ever allowed"
                    ),
                    _ => write!(
                        f,
                        "`minAvailable` `{value}` requires every pod to stay up: no eviction is ever allowed"
                    ),
                }
            }
            PdbBlock::MaxUnavailable { value } => write!(
                f,
                "`maxUnavailable` `{}` allows no pod to go down: no eviction is ever allowed",
                written(value)
            ),
            PdbBlock::NoBudget => f.write_str(
                "neither `minAvailable` nor `maxUnavailable` is set: no eviction is ever allowed",
            ),
            PdbBlock::Unreadable { field, error } => write!(
                f,
                "`{}` cannot be read ({error}): no eviction is ever allowed",
                field.name()
            ),
        }
    }
}

/// Judges a PDB against `expected` pods (the workload's smallest scale), as
/// `getExpectedPodCount` and `updatePdbStatus` (pkg/controller/disruption/
/// disruption.go) would with all of them healthy. `maxUnavailable` wins when
/// both are set, as in the controller. Percentages round up, for
/// `maxUnavailable` as for `minAvailable`. An integer `minAvailable` is
/// compared with the pods that exist, which in steady state is the scale.
/// Without a count (or with none of the pods running) only what holds at
/// every scale is decided: `maxUnavailable` 0 or `0%`, `minAvailable` of
/// 100 % or more, no budget at all.
pub fn pdb_eviction(spec: &PodDisruptionBudgetSpec, expected: Option<i64>) -> PdbVerdict {
    let expected = expected.filter(|n| *n > 0);
    if let Some(value) = spec.max_unavailable.as_ref() {
        return pdb_max_unavailable(value, expected);
    }
    if let Some(value) = spec.min_available.as_ref() {
        return pdb_min_available(value, expected);
    }
    PdbVerdict::Blocks(PdbBlock::NoBudget)
}

/// The fewest pods at which a percentage `minAvailable` leaves one free to
/// evict: rounded up, `p%` of `n` stays below `n` once `n ≥ 100 / (100 − p)`
/// (`80%` from 5 pods, `67%` from 4). `None` for an integer, an unreadable
/// value, or `100%` and more, which never leave one.
pub fn min_available_allows_from(value: &IntOrString) -> Option<i64> {
    let IntOrString::String(text) = value else {
        return None;
    };
    let percent = parse_percent(text).ok()?.max(0);
    if percent >= 100 {
        return None;
    }
    let free = 100 - percent;
    Some((100 + free - 1) / free)
}

/// The largest percentage `minAvailable` that still leaves one of
/// `expected` pods free to evict, rounded up as the controller rounds it:
/// `⌊100 · (n − 1) / n⌋`. `None` below 2 pods, where only `0%` does.
pub fn largest_min_available_percent(expected: i64) -> Option<i64> {
    if expected < 2 {
        return None;
    }
    let product = i128::from(expected - 1) * 100;
    i64::try_from(product / i128::from(expected)).ok()
}

fn pdb_max_unavailable(value: &IntOrString, expected: Option<i64>) -> PdbVerdict {
    let unreadable = |error| {
        PdbVerdict::Blocks(PdbBlock::Unreadable {
            field: PdbField::MaxUnavailable,
            error,
        })
    };
    // Rounding up makes any positive share at least one pod, so the count
    // only sizes the allowance; 0 or less blocks at every scale.
    let at_one = match scaled_value(value, 1, Rounding::Up) {
        Ok(n) => n,
        Err(error) => return unreadable(error),
    };
    if at_one <= 0 {
        return PdbVerdict::Blocks(PdbBlock::MaxUnavailable {
            value: value.clone(),
        });
    }
    let Some(expected) = expected else {
        return PdbVerdict::Allows { disruptions: None };
    };
    match scaled_value(value, expected, Rounding::Up) {
        Ok(max_unavailable) => {
            let desired_healthy = expected.saturating_sub(max_unavailable).max(0);
            PdbVerdict::Allows {
                disruptions: Some(expected.saturating_sub(desired_healthy)),
            }
        }
        Err(error) => unreadable(error),
    }
}

fn pdb_min_available(value: &IntOrString, expected: Option<i64>) -> PdbVerdict {
    let required = match scaled_value(value, expected.unwrap_or(0), Rounding::Up) {
        Ok(n) => n,
        Err(error) => {
            return PdbVerdict::Blocks(PdbBlock::Unreadable {
                field: PdbField::MinAvailable,
                error,
            });
        }
    };
    match expected {
        Some(expected) if required >= expected => PdbVerdict::Blocks(PdbBlock::MinAvailable {
            value: value.clone(),
            required: Some(required),
            expected: Some(expected),
        }),
        Some(expected) => PdbVerdict::Allows {
            disruptions: Some(expected.saturating_sub(required)),
        },
        None => match value {
            IntOrString::String(text) => match parse_percent(text) {
                Ok(percent) if percent >= 100 => PdbVerdict::Blocks(PdbBlock::MinAvailable {
                    value: value.clone(),
                    required: None,
                    expected: None,
                }),
                Ok(percent) if percent <= 0 => PdbVerdict::Allows { disruptions: None },
                _ => PdbVerdict::Undecided,
            },
            IntOrString::Int(n) if *n <= 0 => PdbVerdict::Allows { disruptions: None },
            IntOrString::Int(_) => PdbVerdict::Undecided,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rollout::testing::{int, text};

    fn pdb(min: Option<IntOrString>, max: Option<IntOrString>) -> PodDisruptionBudgetSpec {
        PodDisruptionBudgetSpec {
            min_available: min,
            max_unavailable: max,
            ..PodDisruptionBudgetSpec::default()
        }
    }

    #[test]
    fn min_available_one_hundred_percent_blocks_without_a_count() {
        let verdict = pdb_eviction(&pdb(Some(text("100%")), None), None);
        assert_eq!(
            verdict,
            PdbVerdict::Blocks(PdbBlock::MinAvailable {
                value: text("100%"),
                required: None,
                expected: None
            })
        );
        let verdict = pdb_eviction(&pdb(Some(text("100%")), None), Some(4));
        let PdbVerdict::Blocks(block) = verdict else {
            panic!("{verdict:?}");
        };
        assert_eq!(block.pointer(), "/minAvailable");
        assert_eq!(
            block.to_string(),
            "`minAvailable` `100%` requires `4` of `4` pods to stay up: no eviction is ever allowed"
        );
    }

    #[test]
    fn min_available_percentage_rounds_up() {
        // 50% of 3 is 1.5: two must stay, one may go.
        assert_eq!(
            pdb_eviction(&pdb(Some(text("50%")), None), Some(3)),
            PdbVerdict::Allows {
                disruptions: Some(1)
            }
        );
        // 50% of 1 rounds up to the only pod.
        assert!(matches!(
            pdb_eviction(&pdb(Some(text("50%")), None), Some(1)),
            PdbVerdict::Blocks(PdbBlock::MinAvailable {
                required: Some(1),
                expected: Some(1),
                ..
            })
        ));
        assert_eq!(
            pdb_eviction(&pdb(Some(text("50%")), None), None),
            PdbVerdict::Undecided
        );
    }

    #[test]
    fn min_available_integer() {
        assert!(matches!(
            pdb_eviction(&pdb(Some(int(3)), None), Some(3)),
            PdbVerdict::Blocks(PdbBlock::MinAvailable { .. })
        ));
        assert_eq!(
            pdb_eviction(&pdb(Some(int(2)), None), Some(3)),
            PdbVerdict::Allows {
                disruptions: Some(1)
            }
        );
        assert_eq!(
            pdb_eviction(&pdb(Some(int(1)), None), None),
            PdbVerdict::Undecided
        );
        assert_eq!(
            pdb_eviction(&pdb(Some(int(0)), None), None),
            PdbVerdict::Allows { disruptions: None }
        );
    }

    #[test]
    fn percentages_leave_a_pod_free_from_a_scale_on() {
        let from = |text: &str| min_available_allows_from(&IntOrString::String(text.to_owned()));
        assert_eq!(from("80%"), Some(5));
        assert_eq!(from("67%"), Some(4));
        assert_eq!(from("50%"), Some(2));
        assert_eq!(from("0%"), Some(1));
        assert_eq!(from("99%"), Some(100));
        assert_eq!(from("100%"), None);
        assert_eq!(from("150%"), None);
        assert_eq!(from("eighty"), None);
        assert_eq!(min_available_allows_from(&int(3)), None);
        // The threshold agrees with the verdict on both sides of it.
        for percent in [1, 20, 33, 50, 66, 67, 75, 80, 90, 99] {
            let value = IntOrString::String(format!("{percent}%"));
            let Some(n) = min_available_allows_from(&value) else {
                panic!("{percent}%");
            };
            let spec = pdb(Some(value), None);
            assert!(
                matches!(pdb_eviction(&spec, Some(n)), PdbVerdict::Allows { .. }),
                "{percent}% of {n}"
            );
            if n > 1 {
                assert!(
                    matches!(pdb_eviction(&spec, Some(n - 1)), PdbVerdict::Blocks(_)),
                    "{percent}% of {}",
                    n - 1
                );
            }
        }
    }

    #[test]
    fn largest_percentage_that_leaves_a_pod() {
        assert_eq!(largest_min_available_percent(1), None);
        assert_eq!(largest_min_available_percent(2), Some(50));
        assert_eq!(largest_min_available_percent(3), Some(66));
        assert_eq!(largest_min_available_percent(5), Some(80));
        for n in 2..=40 {
            let Some(percent) = largest_min_available_percent(n) else {
                panic!("{n}");
            };
            let allows = |p: i64| {
                let spec = pdb(Some(IntOrString::String(format!("{p}%"))), None);
                matches!(pdb_eviction(&spec, Some(n)), PdbVerdict::Allows { .. })
            };
            assert!(allows(percent) && !allows(percent + 1), "{n} pods");
        }
    }

    #[test]
    fn max_unavailable_zero_blocks_regardless_of_count() {
        for value in [int(0), text("0%")] {
            for expected in [None, Some(1), Some(50)] {
                let verdict = pdb_eviction(&pdb(None, Some(value.clone())), expected);
                assert_eq!(
                    verdict,
                    PdbVerdict::Blocks(PdbBlock::MaxUnavailable {
                        value: value.clone()
                    })
                );
            }
        }
        let verdict = pdb_eviction(&pdb(None, Some(text("0%"))), None);
        let PdbVerdict::Blocks(block) = verdict else {
            panic!("{verdict:?}");
        };
        assert_eq!(block.pointer(), "/maxUnavailable");
        assert_eq!(
            block.to_string(),
            "`maxUnavailable` `0%` allows no pod to go down: no eviction is ever allowed"
        );
    }

    #[test]
    fn max_unavailable_percentage_rounds_up() {
        assert_eq!(
            pdb_eviction(&pdb(None, Some(text("10%"))), Some(3)),
            PdbVerdict::Allows {
                disruptions: Some(1)
            }
        );
        assert_eq!(
            pdb_eviction(&pdb(None, Some(text("10%"))), None),
            PdbVerdict::Allows { disruptions: None }
        );
        assert_eq!(
            pdb_eviction(&pdb(None, Some(int(5))), Some(3)),
            PdbVerdict::Allows {
                disruptions: Some(3)
            }
        );
    }

    #[test]
    fn pdb_without_budget_or_with_unreadable_values_blocks() {
        assert_eq!(
            pdb_eviction(&pdb(None, None), Some(3)),
            PdbVerdict::Blocks(PdbBlock::NoBudget)
        );
        assert!(matches!(
            pdb_eviction(&pdb(Some(text("two")), None), Some(3)),
            PdbVerdict::Blocks(PdbBlock::Unreadable {
                field: PdbField::MinAvailable,
                ..
            })
        ));
        // maxUnavailable wins when both are set, as in the controller.
        assert_eq!(
            pdb_eviction(&pdb(Some(text("100%")), Some(int(1))), Some(3)),
            PdbVerdict::Allows {
                disruptions: Some(1)
            }
        );
    }
}
