//! Routing rules: weighted routes that send a workload's traffic somewhere
//! it cannot be served. Gateway API `HTTPRoute` and Istio `VirtualService`
//! split requests between backends by weight; a split that leaves no backend,
//! or names one that does not exist, fails requests no matter how carefully
//! the pods behind it roll out and shut down.
//!
//! None of them has a CEL form: the exported admission policies match
//! workloads and PodDisruptionBudgets, and two of the rules read other
//! objects.

mod route_backend_missing;
mod route_weights_all_zero;
mod virtualservice_subset_missing;
mod virtualservice_weights_invalid;

pub use route_backend_missing::RouteBackendMissing;
pub use route_weights_all_zero::RouteWeightsAllZero;
pub use virtualservice_subset_missing::VirtualserviceSubsetMissing;
pub use virtualservice_weights_invalid::VirtualserviceWeightsInvalid;

use super::{Context, Rule, Violation};
use crate::model::route::{BackendRef, HttpRoute, Route, RouteDestination, VirtualService};

/// `` `a` `` or `` `a`, `b` and `c` ``.
fn listed(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, init)) => format!("{} and {last}", init.join(", ")),
    }
}

/// A backendRef as findings name it: its name, with its namespace when it
/// leaves the route's.
fn backend_name(backend: &BackendRef, route_namespace: &str) -> String {
    let name = backend.name.as_deref().unwrap_or_default();
    match backend.namespace.as_deref() {
        Some(ns) if !ns.is_empty() && ns != route_namespace => format!("{ns}/{name}"),
        _ => name.to_owned(),
    }
}

/// The share of the requests `what` (`the rule`, `the route`) matches that
/// a weight gets, as findings say it.
fn share(weight: i64, total: i64, what: &str) -> String {
    if total <= 0 || weight >= total {
        return format!("every request {what} matches");
    }
    // Whole percents, never rounded to 0 or 100: a share is neither.
    let percent = (weight.saturating_mul(100) / total).clamp(1, 99);
    format!("{percent}% of the requests {what} matches")
}

/// An Istio destination's weight as written (unset is 0).
fn mesh_weight(destination: &RouteDestination) -> i64 {
    destination.weight.unwrap_or(0)
}

fn http_route(route: &Route) -> Option<&crate::model::Related<HttpRoute>> {
    match route {
        Route::Http(r) => Some(r),
        Route::Mesh(_) => None,
    }
}

fn virtual_service(route: &Route) -> Option<&crate::model::Related<VirtualService>> {
    match route {
        Route::Mesh(r) => Some(r),
        Route::Http(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_whole_percents_of_the_rule() {
        let rule = "the rule";
        assert_eq!(share(1, 1, rule), "every request the rule matches");
        assert_eq!(share(10, 100, rule), "10% of the requests the rule matches");
        assert_eq!(share(1, 1000, rule), "1% of the requests the rule matches");
        assert_eq!(
            share(999, 1000, rule),
            "99% of the requests the rule matches"
        );
    }

    #[test]
    fn names_are_listed_in_words() {
        let names = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(listed(&names(&["a"])), "`a`");
        assert_eq!(listed(&names(&["a", "b", "c"])), "`a`, `b` and `c`");
    }
}
