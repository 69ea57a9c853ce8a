use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a rule of a Gateway API HTTPRoute (`spec.rules[]`, in
    /// `gateway.networking.k8s.io/v1` or `v1beta1`) whose `backendRefs` all
    /// say `weight: 0`. A weight left out is 1, so only zeros written out
    /// count. A rule that redirects (a `RequestRedirect` filter) or that an
    /// implementation's own filter answers (`ExtensionRef`) forwards nothing
    /// whatever its weights, and is not judged; nor is a rule without
    /// `backendRefs`.
    ///
    /// ## Why it matters
    /// A backend's share of a rule's requests is its weight divided by the
    /// sum of the rule's weights, and the API reference says that a backend
    /// of weight 0 receives no traffic. With every weight at 0 no backend
    /// receives any: every request the rule matches fails at the gateway,
    /// which answers with an error of its own (Istio returns 503 since
    /// istio/istio#31745; a conformance test for the case, expecting an
    /// error, is under review), and an Envoy-based gateway that passes the
    /// weights on as they are has the whole route configuration rejected
    /// ("Sum of weights in the weighted_cluster must be greater than 0").
    /// It is how a canary step that zeroes the stable backend before the
    /// canary's weight is raised, or a hand edit that "drains" a route,
    /// turns into an outage.
    ///
    /// A lone backend with `weight: 0` is reported too: the reference says
    /// it receives nothing, the traffic-splitting guide says a lone backend
    /// receives everything whatever its weight, and implementations differ.
    /// Either the zero is ignored or the rule serves nothing.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: gateway.networking.k8s.io/v1
    /// kind: HTTPRoute
    /// metadata: {name: checkout, namespace: shop}
    /// spec:
    ///   parentRefs: [{name: public}]
    ///   rules:
    ///     - backendRefs:
    ///         - {name: checkout-stable, port: 8080, weight: 0}
    ///         - {name: checkout-canary, port: 8080, weight: 0}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// apiVersion: gateway.networking.k8s.io/v1
    /// kind: HTTPRoute
    /// metadata: {name: checkout, namespace: shop}
    /// spec:
    ///   parentRefs: [{name: public}]
    ///   rules:
    ///     - backendRefs:
    ///         - {name: checkout-stable, port: 8080, weight: 90}
    ///         - {name: checkout-canary, port: 8080, weight: 10}
    /// ```
    ///
    /// ## References
    /// - Gateway API reference, `BackendRef.weight`:
    ///   <https://gateway-api.sigs.k8s.io/reference/spec/#backendref>
    /// - HTTP traffic splitting guide:
    ///   <https://gateway-api.sigs.k8s.io/guides/traffic-splitting/>
    /// - kubernetes-sigs/gateway-api#596 and #688 (weight 0), #4769 (every
    ///   weight 0)
    pub struct RouteWeightsAllZero {
        id: "route-weights-all-zero",
        family: Routing,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for RouteWeightsAllZero {
    fn check_route(&self, route: &Route, _cx: &Context<'_>, out: &mut Vec<Violation>) {
        let Some(route) = http_route(route) else {
            return;
        };
        let namespace = route.object.namespace_key();
        let rules = route.typed.spec.as_ref().and_then(|s| s.rules.as_ref());
        for (at, rule) in rules.into_iter().flatten().enumerate() {
            let backends = rule.backend_refs.as_deref().unwrap_or_default();
            if backends.is_empty()
                || rule.answers_itself()
                || backends.iter().any(|b| b.weight != Some(0))
            {
                continue;
            }
            let names: Vec<String> = backends
                .iter()
                .map(|b| backend_name(b, namespace))
                .collect();
            let (message, help) = match names.as_slice() {
                [one] => (
                    format!(
                        "the rule's only backend `{one}` has `weight: 0`: it receives no request, so the gateway fails every request the rule matches"
                    ),
                    "remove `weight: 0`, or remove the rule if it should serve nothing".to_owned(),
                ),
                _ => (
                    format!(
                        "every backend of the rule has `weight: 0` ({}): no backend receives a request, so the gateway fails every request the rule matches",
                        listed(&names)
                    ),
                    "give the backend that should serve a weight above 0, such as `weight: 1`"
                        .to_owned(),
                ),
            };
            out.push(Violation::new(
                format!("/spec/rules/{at}/backendRefs"),
                message,
                help,
            ));
        }
    }
}
