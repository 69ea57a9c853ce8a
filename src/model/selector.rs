//! Label selectors, as Services, PodDisruptionBudgets and controllers use them.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// A Service selector (`spec.selector`): every pair must be among the labels.
/// An empty selector selects nothing (such a Service has manual endpoints).
pub fn map_selects<'a>(
    selector: &BTreeMap<String, String>,
    labels: impl Iterator<Item = (&'a String, &'a String)> + Clone,
) -> bool {
    !selector.is_empty()
        && selector
            .iter()
            .all(|(key, value)| labels.clone().any(|(k, v)| k == key && v == value))
}

/// A `metav1.LabelSelector`. An empty selector (`{}`) selects every pod in the
/// namespace, as it does for a `policy/v1` PodDisruptionBudget.
pub fn label_selector_selects<'a>(
    selector: &LabelSelector,
    labels: impl Iterator<Item = (&'a String, &'a String)> + Clone,
) -> bool {
    let get = |key: &str| {
        labels
            .clone()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    };
    let labels_match = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(key, value)| get(key) == Some(value.as_str()));
    let expressions_match = selector
        .match_expressions
        .iter()
        .flatten()
        .all(|requirement| {
            let values = requirement.values.as_deref().unwrap_or_default();
            let current = get(&requirement.key);
            match requirement.operator.as_str() {
                "In" => current.is_some_and(|v| values.iter().any(|x| x == v)),
                "NotIn" => current.is_none_or(|v| !values.iter().any(|x| x == v)),
                "Exists" => current.is_some(),
                "DoesNotExist" => current.is_none(),
                // An unknown operator is refused by the API server; it selects nothing.
                _ => false,
            }
        });
    labels_match && expressions_match
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn service_selectors() {
        let pod = labels(&[("app", "web"), ("tier", "front")]);
        assert!(map_selects(&labels(&[("app", "web")]), pod.iter()));
        assert!(!map_selects(&labels(&[("app", "api")]), pod.iter()));
        assert!(!map_selects(&labels(&[]), pod.iter()));
    }

    #[test]
    fn label_selectors_with_expressions() {
        let pod = labels(&[("app", "web"), ("tier", "front")]);
        let selector = LabelSelector {
            match_labels: Some(labels(&[("app", "web")])),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["front".into(), "back".into()]),
                },
                LabelSelectorRequirement {
                    key: "canary".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        assert!(label_selector_selects(&selector, pod.iter()));
        assert!(label_selector_selects(
            &LabelSelector::default(),
            pod.iter()
        ));
        let not_in = LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "NotIn".into(),
                values: Some(vec!["front".into()]),
            }]),
        };
        assert!(!label_selector_selects(&not_in, pod.iter()));
    }
}
