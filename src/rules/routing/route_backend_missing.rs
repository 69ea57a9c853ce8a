use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a `backendRefs` entry of a Gateway API HTTPRoute that names a
    /// Service (kind `Service` in the core group, the default) that the input
    /// does not contain, while the input does contain other Services of that
    /// namespace: the entry's `namespace`, else the route's. A backend of
    /// `weight: 0` receives nothing and is not judged, nor is a rule that
    /// redirects or that an implementation's filter answers.
    ///
    /// An input without any Service of the namespace is taken to be a part
    /// of what is deployed there (a chart of routes, a platform repository)
    /// and the rule stays quiet: it judges only where the input shows the
    /// namespace's Services. A route and backend written without a
    /// namespace go wherever they are applied, so then only the Services
    /// without a namespace in the route's own folder (a chart's render, an
    /// application's manifests, one stream on stdin) show it. With the
    /// webhook's cluster view, the namespace's Services in the cluster count
    /// too.
    ///
    /// The pods behind a Service that does exist are judged through it: a
    /// serving container without a readiness probe is reported by
    /// `readiness-probe-missing` on its workload, whether or not a route
    /// leads to it.
    ///
    /// ## Why it matters
    /// A backendRef to a Service that does not exist is invalid: the
    /// Gateway API requires the implementation to answer the requests that
    /// would have gone to it with 500, in the proportion of its weight, and
    /// to mark the route `ResolvedRefs: False` with reason `BackendNotFound`.
    /// A misspelt name, a Service renamed in one place and not the other, or
    /// a canary Service not yet created fails that share of requests from
    /// the moment the route is applied.
    ///
    /// The finding is a warning by default: the Service may come from
    /// another source applied to the same namespace. The strict profile
    /// makes it an error.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: gateway.networking.k8s.io/v1
    /// kind: HTTPRoute
    /// metadata: {name: checkout, namespace: shop}
    /// spec:
    ///   rules:
    ///     - backendRefs:
    ///         - {name: checkout, port: 8080, weight: 90}
    ///         - {name: checkout-canry, port: 8080, weight: 10}
    /// ---
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: checkout, namespace: shop}
    /// spec:
    ///   selector: {app: checkout}
    ///   ports: [{port: 8080}]
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// apiVersion: gateway.networking.k8s.io/v1
    /// kind: HTTPRoute
    /// metadata: {name: checkout, namespace: shop}
    /// spec:
    ///   rules:
    ///     - backendRefs:
    ///         - {name: checkout, port: 8080, weight: 90}
    ///         - {name: checkout-canary, port: 8080, weight: 10}
    /// ---
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: checkout-canary, namespace: shop}
    /// spec:
    ///   selector: {app: checkout, track: canary}
    ///   ports: [{port: 8080}]
    /// ```
    ///
    /// ## References
    /// - Gateway API reference, `HTTPRouteRule.backendRefs` and
    ///   `HTTPBackendRef`:
    ///   <https://gateway-api.sigs.k8s.io/reference/spec/#httprouterule>
    pub struct RouteBackendMissing {
        id: "route-backend-missing",
        family: Routing,
        scope: Input,
        fix: None,
        settings: [],
    }
}

impl Rule for RouteBackendMissing {
    fn check_route(&self, route: &Route, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let Some(route) = http_route(route) else {
            return;
        };
        let own_namespace = route.object.namespace_key();
        let rules = route.typed.spec.as_ref().and_then(|s| s.rules.as_ref());
        for (at, rule) in rules.into_iter().flatten().enumerate() {
            if rule.answers_itself() {
                continue;
            }
            let backends = rule.backend_refs.as_deref().unwrap_or_default();
            let total: i64 = backends.iter().map(|b| b.weight().max(0)).sum();
            for (index, backend) in backends.iter().enumerate() {
                let Some(name) = backend.name.as_deref().filter(|n| !n.is_empty()) else {
                    continue;
                };
                if !backend.is_service() || backend.weight() <= 0 {
                    continue;
                }
                let namespace = backend
                    .namespace
                    .as_deref()
                    .filter(|ns| !ns.is_empty())
                    .unwrap_or(own_namespace);
                if cx.index.service_named(namespace, name).is_some() {
                    continue;
                }
                let shown = cx.index.services_known(&route.doc, namespace)
                    != crate::model::index::ServicesKnown::Not;
                if !shown {
                    continue;
                }
                let in_namespace = if namespace.is_empty() {
                    "without a namespace".to_owned()
                } else {
                    format!("in namespace `{namespace}`")
                };
                let weighted = if backend.weight() < total {
                    format!(" (weight `{}` of `{total}`)", backend.weight())
                } else {
                    String::new()
                };
                out.push(Violation::new(
                    format!("/spec/rules/{at}/backendRefs/{index}/name"),
                    format!(
                        "Service `{}`{weighted} is not in the input, which holds other Services {in_namespace}: the gateway answers {} with 500",
                        backend_name(backend, own_namespace),
                        share(backend.weight(), total, "the rule")
                    ),
                    format!(
                        "name a Service that exists {in_namespace}, or add Service `{name}` to the input"
                    ),
                ));
            }
        }
    }
}
